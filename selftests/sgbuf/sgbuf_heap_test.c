// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/dma_heap/sgbuf: DMA_HEAP_IOCTL_ALLOC with the kernel dma-heap
 * core's semantics (drivers/dma-buf/dma-heap.c), except that any command
 * other than type 'H' nr 0 is -ENOTTY.
 */
#define _GNU_SOURCE
#include <linux/dma-heap.h>

#include "common.h"
#include "harness.h"

#define HEAP_ALLOC_SZ(sz) _IOC(_IOC_READ | _IOC_WRITE, DMA_HEAP_IOC_MAGIC, 0, (sz))

FIXTURE(heap) {
	SGBUF_FIXTURE_FIELDS;
	int heap;
	int fds_base;
};

FIXTURE_SETUP(heap)
{
	SGBUF_FIXTURE_SETUP(self);
	if (!(self->info_base.caps & SGBUF_CAP_HEAP_NODE)) {
		ASSERT_NE(0, access(SGBUF_HEAP_DEV, F_OK))
			TH_LOG("%s exists but SGBUF_CAP_HEAP_NODE is clear",
			       SGBUF_HEAP_DEV);
		SKIP(return, "module reports no SGBUF_CAP_HEAP_NODE");
	}
	self->heap = open(SGBUF_HEAP_DEV, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, self->heap) TH_LOG("open %s: %s", SGBUF_HEAP_DEV,
					strerror(errno));
	self->fds_base = count_open_fds();
	ASSERT_LE(0, self->fds_base);
}

FIXTURE_TEARDOWN(heap)
{
	SGBUF_FIXTURE_TEARDOWN(self);
}

/* Returns the new fd or -errno; closes the fd of an unexpected success. */
static int heap_alloc(int heap, unsigned long long len, unsigned int fd_flags,
		      unsigned long long heap_flags)
{
	struct dma_heap_allocation_data d = {
		.len = len,
		.fd_flags = fd_flags,
		.heap_flags = heap_flags,
	};

	if (ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &d))
		return -errno;
	return (int)d.fd;
}

static int heap_try(int heap, unsigned long cmd, void *arg, unsigned int *fdp)
{
	if (ioctl(heap, cmd, arg))
		return -errno;
	if (fdp && *fdp > 2)
		close(*fdp);
	return 0;
}

TEST_F(heap, alloc_rounds_up_and_fdinfo)
{
	const unsigned long long pg = page_size();
	const unsigned long long lens[] = { 1, pg - 1, pg, pg + 1, 3 * pg + 7 };
	struct sgbuf_info i;
	char val[64], want[64];
	unsigned int n;

	for (n = 0; n < ARRAY_SIZE(lens); n++) {
		int fd = heap_alloc(self->heap, lens[n], O_RDWR | O_CLOEXEC, 0);

		ASSERT_LE(0, fd) TH_LOG("len %llu: %s", lens[n], strerror(-fd));
		EXPECT_EQ((off_t)page_align(lens[n]), lseek(fd, 0, SEEK_END));
		EXPECT_NE(0, fcntl(fd, F_GETFD) & FD_CLOEXEC);
		ASSERT_EQ(0, fdinfo_get(fd, "exp_name", val, sizeof(val)));
		EXPECT_STREQ(SGBUF_EXP_NAME, val);
		ASSERT_EQ(0, fdinfo_get(fd, "size", val, sizeof(val)));
		snprintf(want, sizeof(want), "%llu", page_align(lens[n]));
		EXPECT_STREQ(want, val);
		EXPECT_EQ(self->bufinfo_base + 1, bufinfo_count());
		ASSERT_EQ(0, sgbuf_get_info(self->dev, &i));
		EXPECT_EQ(self->info_base.live_buffers + 1, i.live_buffers);
		EXPECT_EQ(self->info_base.total_size + page_align(lens[n]),
			  i.total_size);
		ASSERT_EQ(0, close(fd));
	}
}

TEST_F(heap, fd_flags)
{
	int fd;
	char *p;

	fd = heap_alloc(self->heap, page_size(), O_RDWR, 0);
	ASSERT_LE(0, fd) TH_LOG("%s", strerror(-fd));
	EXPECT_EQ(0, fcntl(fd, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(O_RDWR, fcntl(fd, F_GETFL) & O_ACCMODE);
	p = map_buf(fd, page_size(), PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(-1, find_nonzero(p, page_size()));
	pattern_fill(p, page_size(), 3);
	EXPECT_EQ(-1, pattern_check(p, page_size(), 3));
	ASSERT_EQ(0, munmap(p, page_size()));
	ASSERT_EQ(0, close(fd));

	/* dma-heap accepts any O_ACCMODE value; O_RDONLY is not writable. */
	fd = heap_alloc(self->heap, page_size(), O_RDONLY | O_CLOEXEC, 0);
	ASSERT_LE(0, fd) TH_LOG("%s", strerror(-fd));
	EXPECT_EQ(MAP_FAILED, map_buf(fd, page_size(), PROT_READ | PROT_WRITE));
	ASSERT_EQ(0, close(fd));
}

TEST_F(heap, invalid_args)
{
	const unsigned long long pg = page_size();
	const unsigned long long wrap[] = {
		0, ~0ULL, ~0ULL - pg + 2, (~0ULL & ~(pg - 1)) + 1,
	};
	const unsigned int bad_fd_flags[] = {
		O_NONBLOCK, O_RDWR | O_NONBLOCK, O_RDWR | O_APPEND,
		O_RDWR | O_CREAT, O_RDWR | (1U << 31), ~0U,
	};
	const unsigned long long bad_heap_flags[] = { 1, 1ULL << 63, ~0ULL };
	struct dma_heap_allocation_data d;
	unsigned int n;
	int ret;

	for (n = 0; n < ARRAY_SIZE(wrap); n++) {
		ret = heap_alloc(self->heap, wrap[n], O_RDWR | O_CLOEXEC, 0);
		if (ret >= 0)
			close(ret);
		EXPECT_EQ(-EINVAL, ret) TH_LOG("len %#llx: %s", wrap[n],
					       strerror(-ret));
	}
	/* Aligned but far too large: must fail, never succeed. */
	ret = heap_alloc(self->heap, ~0ULL & ~(pg - 1), O_RDWR | O_CLOEXEC, 0);
	if (ret >= 0)
		close(ret);
	EXPECT_GT(0, ret);
	for (n = 0; n < ARRAY_SIZE(bad_fd_flags); n++) {
		ret = heap_alloc(self->heap, pg, bad_fd_flags[n], 0);
		if (ret >= 0)
			close(ret);
		EXPECT_EQ(-EINVAL, ret) TH_LOG("fd_flags %#x: %s",
					       bad_fd_flags[n], strerror(-ret));
	}
	for (n = 0; n < ARRAY_SIZE(bad_heap_flags); n++) {
		ret = heap_alloc(self->heap, pg, O_RDWR | O_CLOEXEC,
				 bad_heap_flags[n]);
		if (ret >= 0)
			close(ret);
		EXPECT_EQ(-EINVAL, ret) TH_LOG("heap_flags %#llx: %s",
					       bad_heap_flags[n], strerror(-ret));
	}
	/* fd must be 0 on input. */
	memset(&d, 0, sizeof(d));
	d.len = pg;
	d.fd = 5;
	d.fd_flags = O_RDWR | O_CLOEXEC;
	ret = heap_try(self->heap, DMA_HEAP_IOCTL_ALLOC, &d, NULL);
	EXPECT_EQ(-EINVAL, ret) TH_LOG("fd 5: %s", strerror(-ret));
	/* Bad pointer. */
	ret = ioctl(self->heap, DMA_HEAP_IOCTL_ALLOC, NULL) ? -errno : 0;
	EXPECT_EQ(-EFAULT, ret);

	EXPECT_EQ(self->fds_base, count_open_fds());
	EXPECT_EQ(self->bufinfo_base, bufinfo_count());
}

TEST_F(heap, efault_on_copy_out_leaks_nothing)
{
	const size_t pg = page_size();
	struct dma_heap_allocation_data d = {
		.len = pg, .fd_flags = O_RDWR | O_CLOEXEC,
	};
	char *area;
	int ret;

	area = mmap(NULL, pg, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, area);
	memcpy(area, &d, sizeof(d));
	ASSERT_EQ(0, mprotect(area, pg, PROT_READ));
	ret = heap_try(self->heap, DMA_HEAP_IOCTL_ALLOC, area, NULL);
	EXPECT_EQ(-EFAULT, ret) TH_LOG("%s", strerror(-ret));
	EXPECT_EQ(self->fds_base, count_open_fds());
	EXPECT_EQ(self->bufinfo_base, bufinfo_count());
	ASSERT_EQ(0, munmap(area, pg));
}

TEST_F(heap, unknown_ioctl)
{
	const unsigned long cmds[] = {
		_IOWR(DMA_HEAP_IOC_MAGIC, 0x1, struct dma_heap_allocation_data),
		_IOWR(DMA_HEAP_IOC_MAGIC, 0x7f, struct dma_heap_allocation_data),
		_IOWR('I', 0x0, struct dma_heap_allocation_data),
		_IOWR(SGBUF_IOC_MAGIC, 0x0, struct dma_heap_allocation_data),
		SGBUF_IOCTL_ALLOC,
	};
	struct {
		struct dma_heap_allocation_data d;
		unsigned char pad[SGBUF_ALLOC_SIZE_VER0];
	} arg;
	unsigned int n;
	int ret;

	for (n = 0; n < ARRAY_SIZE(cmds); n++) {
		/*
		 * A valid heap request: a node that ignored the type or nr
		 * of the command would allocate instead of failing.
		 */
		memset(&arg, 0, sizeof(arg));
		arg.d.len = page_size();
		arg.d.fd_flags = O_RDWR | O_CLOEXEC;
		ret = ioctl(self->heap, cmds[n], &arg) ? -errno : 0;
		if (!ret && arg.d.fd > 2)
			close(arg.d.fd);
		EXPECT_EQ(-ENOTTY, ret) TH_LOG("cmd %#lx: %s", cmds[n],
					       strerror(-ret));
	}
	EXPECT_EQ(self->fds_base, count_open_fds());
}

/* Older (no heap_flags) and newer (larger) structs, as the kernel does. */
TEST_F(heap, struct_sizes)
{
	struct {
		struct dma_heap_allocation_data d;
		unsigned char extra[64];
	} ext;
	int ret;

	/* 16 bytes: len, fd, fd_flags. heap_flags is taken as 0. */
	memset(&ext, 0, sizeof(ext));
	ext.d.len = page_size();
	ext.d.fd_flags = O_RDWR | O_CLOEXEC;
	ext.d.heap_flags = ~0ULL;	/* beyond the 16 bytes: not read */
	ret = ioctl(self->heap, HEAP_ALLOC_SZ(16), &ext) ? -errno : 0;
	EXPECT_EQ(0, ret) TH_LOG("16-byte struct: %s", strerror(-ret));
	if (!ret) {
		EXPECT_LE(3U, ext.d.fd);
		EXPECT_EQ((off_t)page_size(), lseek(ext.d.fd, 0, SEEK_END));
		EXPECT_EQ(~0ULL, ext.d.heap_flags) TH_LOG("wrote past 16 bytes");
		close(ext.d.fd);
	}

	/* Larger struct with garbage in the extra bytes: ignored. */
	memset(&ext, 0, sizeof(ext));
	memset(ext.extra, 0xa5, sizeof(ext.extra));
	ext.d.len = page_size();
	ext.d.fd_flags = O_RDWR | O_CLOEXEC;
	ret = ioctl(self->heap, HEAP_ALLOC_SZ(sizeof(ext)), &ext) ? -errno : 0;
	EXPECT_EQ(0, ret) TH_LOG("%zu-byte struct: %s", sizeof(ext),
				 strerror(-ret));
	if (!ret) {
		EXPECT_LE(3U, ext.d.fd);
		close(ext.d.fd);
	}
	EXPECT_EQ(self->fds_base, count_open_fds());
}

TEST_HARNESS_MAIN
