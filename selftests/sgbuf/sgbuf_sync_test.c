// SPDX-License-Identifier: GPL-2.0
/*
 * DMA_BUF_IOCTL_SYNC on sgbuf buffers: every valid direction, invalid
 * flags, unbalanced START/END sequences and concurrent callers
 * (reliability.md 1.10). SYNC with an importer attached is in
 * sgbuf_import_test.
 */
#define _GNU_SOURCE
#include <pthread.h>

#include "common.h"
#include "harness.h"

#define SYNC_START	DMA_BUF_SYNC_START
#define SYNC_END	DMA_BUF_SYNC_END

FIXTURE(sync) {
	SGBUF_FIXTURE_FIELDS;
	int fd;
	size_t size;
	char *map;
};

FIXTURE_SETUP(sync)
{
	SGBUF_FIXTURE_SETUP(self);
	self->size = 16 * page_size();
	self->fd = sgbuf_alloc_rw(self->dev, self->size);
	ASSERT_LE(0, self->fd) TH_LOG("%s", strerror(-self->fd));
	self->map = map_buf(self->fd, self->size, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, self->map);
}

FIXTURE_TEARDOWN(sync)
{
	EXPECT_EQ(0, munmap(self->map, self->size));
	EXPECT_EQ(0, close(self->fd));
	SGBUF_FIXTURE_TEARDOWN(self);
}

TEST_F(sync, valid_directions)
{
	const unsigned long long dirs[] = {
		DMA_BUF_SYNC_READ, DMA_BUF_SYNC_WRITE, DMA_BUF_SYNC_RW,
	};
	unsigned int i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(dirs); i++) {
		ret = dmabuf_sync(self->fd, SYNC_START | dirs[i]);
		EXPECT_EQ(0, ret) TH_LOG("START %#llx: %s", dirs[i],
					 strerror(-ret));
		if (dirs[i] & DMA_BUF_SYNC_WRITE)
			pattern_fill(self->map, self->size, i);
		ret = dmabuf_sync(self->fd, SYNC_END | dirs[i]);
		EXPECT_EQ(0, ret) TH_LOG("END %#llx: %s", dirs[i],
					 strerror(-ret));
	}
	/* The last writer was RW (i == 2). */
	ASSERT_EQ(0, dmabuf_sync(self->fd, SYNC_START | DMA_BUF_SYNC_READ));
	EXPECT_EQ(-1, pattern_check(self->map, self->size, 2));
	ASSERT_EQ(0, dmabuf_sync(self->fd, SYNC_END | DMA_BUF_SYNC_READ));
}

TEST_F(sync, invalid_flags)
{
	const unsigned long long bad[] = {
		0,
		~0ULL,
		DMA_BUF_SYNC_VALID_FLAGS_MASK + 1,
		DMA_BUF_SYNC_RW | (DMA_BUF_SYNC_VALID_FLAGS_MASK + 1),
		DMA_BUF_SYNC_RW | (1ULL << 63),
		SYNC_START | DMA_BUF_SYNC_RW | (1ULL << 32),
		SYNC_END,			/* END with no direction */
		SYNC_START,			/* START with no direction */
	};
	unsigned int i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		ret = dmabuf_sync(self->fd, bad[i]);
		EXPECT_EQ(-EINVAL, ret) TH_LOG("flags %#llx: %s", bad[i],
					       strerror(-ret));
	}
	ret = ioctl(self->fd, DMA_BUF_IOCTL_SYNC, NULL) ? -errno : 0;
	EXPECT_EQ(-EFAULT, ret);
}

TEST_F(sync, unbalanced_sequences)
{
	const unsigned long long seq[] = {
		SYNC_END | DMA_BUF_SYNC_RW,		/* END before any START */
		SYNC_END | DMA_BUF_SYNC_READ,
		SYNC_START | DMA_BUF_SYNC_WRITE,	/* START twice */
		SYNC_START | DMA_BUF_SYNC_WRITE,
		SYNC_START | DMA_BUF_SYNC_READ,
		SYNC_END | DMA_BUF_SYNC_RW,
		SYNC_END | DMA_BUF_SYNC_RW,		/* END twice */
		SYNC_END | DMA_BUF_SYNC_WRITE,
	};
	unsigned int i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(seq); i++) {
		ret = dmabuf_sync(self->fd, seq[i]);
		EXPECT_EQ(0, ret) TH_LOG("step %u flags %#llx: %s", i, seq[i],
					 strerror(-ret));
	}
	/* The buffer still works normally afterwards. */
	ASSERT_EQ(0, dmabuf_sync(self->fd, SYNC_START | DMA_BUF_SYNC_WRITE));
	pattern_fill(self->map, self->size, 0x77);
	ASSERT_EQ(0, dmabuf_sync(self->fd, SYNC_END | DMA_BUF_SYNC_WRITE));
	ASSERT_EQ(0, dmabuf_sync(self->fd, SYNC_START | DMA_BUF_SYNC_READ));
	EXPECT_EQ(-1, pattern_check(self->map, self->size, 0x77));
	ASSERT_EQ(0, dmabuf_sync(self->fd, SYNC_END | DMA_BUF_SYNC_READ));

	/* Closing a buffer left inside START must free it (teardown checks). */
	ASSERT_EQ(0, dmabuf_sync(self->fd, SYNC_START | DMA_BUF_SYNC_RW));
}

/* SYNC on a buffer that was never mapped, and on a read-only one. */
TEST_F(sync, unmapped_and_read_only)
{
	int fd, ret;

	fd = sgbuf_alloc_rw(self->dev, page_size());
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, dmabuf_sync(fd, SYNC_START | DMA_BUF_SYNC_RW));
	EXPECT_EQ(0, dmabuf_sync(fd, SYNC_END | DMA_BUF_SYNC_RW));
	ASSERT_EQ(0, close(fd));

	fd = sgbuf_alloc(self->dev, page_size(), 0, O_RDONLY | O_CLOEXEC, NULL);
	ASSERT_LE(0, fd);
	ret = dmabuf_sync(fd, SYNC_START | DMA_BUF_SYNC_READ);
	EXPECT_EQ(0, ret) TH_LOG("%s", strerror(-ret));
	ret = dmabuf_sync(fd, SYNC_END | DMA_BUF_SYNC_READ);
	EXPECT_EQ(0, ret) TH_LOG("%s", strerror(-ret));
	ASSERT_EQ(0, close(fd));
}

struct sync_thread {
	int fd;
	unsigned long long dir;
	int failures, last_error;
};

static void *sync_worker(void *arg)
{
	struct sync_thread *t = arg;
	int i, ret;

	for (i = 0; i < 2000; i++) {
		ret = dmabuf_sync(t->fd, SYNC_START | t->dir);
		if (!ret)
			ret = dmabuf_sync(t->fd, SYNC_END | t->dir);
		if (ret) {
			t->failures++;
			t->last_error = -ret;
		}
	}
	return NULL;
}

TEST_F_TIMEOUT(sync, concurrent, 120)
{
	struct sync_thread t[4];
	pthread_t tid[4];
	int i;

	for (i = 0; i < 4; i++) {
		t[i].fd = self->fd;
		t[i].dir = (i % 3) + 1;	/* READ, WRITE, RW, READ */
		t[i].failures = 0;
		t[i].last_error = 0;
		ASSERT_EQ(0, pthread_create(&tid[i], NULL, sync_worker, &t[i]));
	}
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(0, pthread_join(tid[i], NULL));
		EXPECT_EQ(0, t[i].failures)
			TH_LOG("thread %d: %s", i, strerror(t[i].last_error));
	}
}

TEST_HARNESS_MAIN
