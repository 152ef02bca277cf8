// SPDX-License-Identifier: GPL-2.0
/*
 * sgbuf mmap: bounds, offsets, VMA flags (MAP_PRIVATE, read-only buffers,
 * mprotect, mremap), split VMAs, fork, lifetime after close, and data
 * integrity over a range of sizes (reliability.md 1.1, 1.2).
 */
#define _GNU_SOURCE
#include <sys/wait.h>

#include "common.h"
#include "harness.h"

FIXTURE(mmap) {
	SGBUF_FIXTURE_FIELDS;
	size_t pg;
};

FIXTURE_SETUP(mmap)
{
	SGBUF_FIXTURE_SETUP(self);
	self->pg = page_size();
}

FIXTURE_TEARDOWN(mmap)
{
	SGBUF_FIXTURE_TEARDOWN(self);
}

/* Write the page index into the first 8 bytes of every page. */
static void stamp_pages(char *p, size_t npages, size_t pg, uint64_t base)
{
	size_t i;

	for (i = 0; i < npages; i++)
		*(uint64_t *)(p + i * pg) = base + i;
}

/* Returns the first page whose stamp is wrong, or -1. */
static long check_stamps(const char *p, size_t npages, size_t pg, uint64_t base)
{
	size_t i;

	for (i = 0; i < npages; i++)
		if (*(const uint64_t *)(p + i * pg) != base + i)
			return (long)i;
	return -1;
}

TEST_F(mmap, map_at_page_offsets)
{
	const size_t n = 16, pg = self->pg;
	const size_t offs[] = { 0, 1, 5, 15 };
	char *full, *p;
	unsigned int i;
	int fd;

	fd = sgbuf_alloc_rw(self->dev, n * pg);
	ASSERT_LE(0, fd) TH_LOG("%s", strerror(-fd));
	full = map_buf(fd, n * pg, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, full);
	stamp_pages(full, n, pg, 1000);

	for (i = 0; i < ARRAY_SIZE(offs); i++) {
		size_t k = offs[i], len = (n - k) * pg;

		/* The rest of the buffer from page k. */
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
			 k * pg);
		ASSERT_NE(MAP_FAILED, p) TH_LOG("offset %zu pages: %s", k,
						strerror(errno));
		EXPECT_EQ(-1, check_stamps(p, n - k, pg, 1000 + k))
			TH_LOG("offset %zu pages", k);
		/* Writes through the offset mapping land in page k. */
		*(uint64_t *)(p + 8) = 0xabc0 + k;
		EXPECT_EQ(0xabc0 + k, *(uint64_t *)(full + k * pg + 8));
		ASSERT_EQ(0, munmap(p, len));

		/* A single page at offset k. */
		p = mmap(NULL, pg, PROT_READ, MAP_SHARED, fd, k * pg);
		ASSERT_NE(MAP_FAILED, p);
		EXPECT_EQ(1000 + k, *(uint64_t *)p);
		ASSERT_EQ(0, munmap(p, pg));
	}
	ASSERT_EQ(0, munmap(full, n * pg));
	ASSERT_EQ(0, close(fd));
}

/* Table of lengths x offsets: only offset + len <= size may succeed. */
TEST_F(mmap, bounds_table)
{
	const size_t n = 8, pg = self->pg, size = n * pg;
	const unsigned long long lens[] = {
		pg, size, size + pg, 2 * size, 0xf0000000ULL,
	};
	const unsigned long long offs[] = {
		0, size / 2, size - pg, size, size + pg, 1ULL << 40,
		(1ULL << 63) - pg, ~0ULL & ~(unsigned long long)(pg - 1),
	};
	unsigned int l, o;
	int fd;

	fd = sgbuf_alloc_rw(self->dev, size);
	ASSERT_LE(0, fd) TH_LOG("%s", strerror(-fd));
	for (l = 0; l < ARRAY_SIZE(lens); l++) {
		for (o = 0; o < ARRAY_SIZE(offs); o++) {
			bool ok = offs[o] <= size && lens[l] <= size - offs[o];
			char *p;

			p = mmap(NULL, lens[l], PROT_READ | PROT_WRITE,
				 MAP_SHARED, fd, (off_t)offs[o]);
			if (ok) {
				EXPECT_NE(MAP_FAILED, p)
					TH_LOG("len %#llx off %#llx: %s", lens[l],
					       offs[o], strerror(errno));
				if (p == MAP_FAILED)
					continue;
				/* Fault every page in the mapping. */
				memset(p, 0x11, lens[l]);
				ASSERT_EQ(0, munmap(p, lens[l]));
				continue;
			}
			EXPECT_EQ(MAP_FAILED, p)
				TH_LOG("len %#llx off %#llx mapped", lens[l],
				       offs[o]);
			if (p != MAP_FAILED) {
				munmap(p, lens[l]);
				continue;
			}
			EXPECT_TRUE(errno == EINVAL || errno == EOVERFLOW)
				TH_LOG("len %#llx off %#llx: %s", lens[l],
				       offs[o], strerror(errno));
		}
	}
	ASSERT_EQ(0, close(fd));
}

TEST_F(mmap, map_private_refused)
{
	const size_t size = 4 * self->pg;
	const int prots[] = { PROT_READ, PROT_READ | PROT_WRITE };
	unsigned int i;
	void *p;
	int fd;

	fd = sgbuf_alloc_rw(self->dev, size);
	ASSERT_LE(0, fd) TH_LOG("%s", strerror(-fd));
	for (i = 0; i < ARRAY_SIZE(prots); i++) {
		p = mmap(NULL, size, prots[i], MAP_PRIVATE, fd, 0);
		EXPECT_EQ(MAP_FAILED, p) TH_LOG("MAP_PRIVATE prot %#x mapped",
						prots[i]);
		if (p != MAP_FAILED) {
			munmap(p, size);
			continue;
		}
		EXPECT_EQ(EINVAL, errno);
	}
	ASSERT_EQ(0, close(fd));
}

TEST_F(mmap, read_only_buffer)
{
	const size_t size = 4 * self->pg;
	char *p;
	int fd;

	/* Control: on an O_RDWR buffer the same upgrade works. */
	fd = sgbuf_alloc_rw(self->dev, size);
	ASSERT_LE(0, fd) TH_LOG("%s", strerror(-fd));
	p = map_buf(fd, size, PROT_READ);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, mprotect(p, size, PROT_READ | PROT_WRITE));
	p[0] = 1;
	ASSERT_EQ(0, munmap(p, size));
	ASSERT_EQ(0, close(fd));

	fd = sgbuf_alloc(self->dev, size, 0, O_RDONLY | O_CLOEXEC, NULL);
	ASSERT_LE(0, fd) TH_LOG("%s", strerror(-fd));
	p = map_buf(fd, size, PROT_READ | PROT_WRITE);
	EXPECT_EQ(MAP_FAILED, p) TH_LOG("O_RDONLY buffer mapped writable");
	if (p != MAP_FAILED)
		munmap(p, size);
	else
		EXPECT_EQ(EACCES, errno);
	p = map_buf(fd, size, PROT_WRITE);
	EXPECT_EQ(MAP_FAILED, p) TH_LOG("O_RDONLY buffer mapped PROT_WRITE");
	if (p != MAP_FAILED)
		munmap(p, size);

	p = map_buf(fd, size, PROT_READ);
	ASSERT_NE(MAP_FAILED, p) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(-1, find_nonzero(p, size));
	EXPECT_NE(0, mprotect(p, size, PROT_READ | PROT_WRITE))
		TH_LOG("mprotect upgraded a read-only buffer to writable");
	EXPECT_NE(0, mprotect(p + self->pg, self->pg, PROT_WRITE));
	ASSERT_EQ(0, munmap(p, size));
	ASSERT_EQ(0, close(fd));
}

TEST_F(mmap, mremap_grow_refused)
{
	const size_t pg = self->pg, size = 8 * pg;
	char *p, *q;
	int fd;

	fd = sgbuf_alloc_rw(self->dev, size);
	ASSERT_LE(0, fd) TH_LOG("%s", strerror(-fd));

	/* Whole buffer mapped: growing past the end. */
	p = map_buf(fd, size, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, p);
	q = mremap(p, size, 2 * size, 0);
	EXPECT_EQ(MAP_FAILED, q) TH_LOG("mremap grew the mapping in place");
	if (q != MAP_FAILED)
		munmap(q, 2 * size);
	else
		p[size - 1] = 1;	/* old mapping still intact */
	q = mremap(p, size, 2 * size, MREMAP_MAYMOVE);
	EXPECT_EQ(MAP_FAILED, q) TH_LOG("mremap(MAYMOVE) grew the mapping");
	if (q != MAP_FAILED)
		munmap(q, 2 * size);
	else
		ASSERT_EQ(0, munmap(p, size));

	/* Half the buffer mapped: growing is refused as well. */
	p = map_buf(fd, size / 2, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, p);
	q = mremap(p, size / 2, size, MREMAP_MAYMOVE);
	EXPECT_EQ(MAP_FAILED, q) TH_LOG("mremap grew a partial mapping");
	if (q != MAP_FAILED)
		munmap(q, size);
	else
		ASSERT_EQ(0, munmap(p, size / 2));
	ASSERT_EQ(0, close(fd));
}

/* Shrinking, moving and duplicating: allowed or refused, never wrong data. */
TEST_F(mmap, mremap_shrink_move)
{
	const size_t pg = self->pg, n = 8, size = n * pg;
	char *p, *q, *dst;
	int fd;

	fd = sgbuf_alloc_rw(self->dev, size);
	ASSERT_LE(0, fd) TH_LOG("%s", strerror(-fd));
	p = map_buf(fd, size, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, p);
	stamp_pages(p, n, pg, 77);

	q = mremap(p, size, size / 2, 0);
	ASSERT_EQ(p, q) TH_LOG("shrink: %s", strerror(errno));
	EXPECT_EQ(-1, check_stamps(q, n / 2, pg, 77));

	/* Move to a fixed address reserved for it. */
	dst = mmap(NULL, size / 2, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, dst);
	q = mremap(p, size / 2, size / 2, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
	if (q == MAP_FAILED) {
		TH_LOG("mremap move refused: %s", strerror(errno));
		munmap(dst, size / 2);
		q = p;
	} else {
		EXPECT_EQ(dst, q);
		EXPECT_EQ(-1, check_stamps(q, n / 2, pg, 77));
	}
	ASSERT_EQ(0, munmap(q, size / 2));
	ASSERT_EQ(0, close(fd));
}

TEST_F(mmap, partial_munmap)
{
	const size_t pg = self->pg, n = 8, size = n * pg;
	char *p, *q;
	size_t i;
	int fd;

	fd = sgbuf_alloc_rw(self->dev, size);
	ASSERT_LE(0, fd) TH_LOG("%s", strerror(-fd));
	p = map_buf(fd, size, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, p);
	stamp_pages(p, n, pg, 500);

	/* Split into three VMAs, then drop the tail page too. */
	ASSERT_EQ(0, munmap(p + 3 * pg, 2 * pg));
	ASSERT_EQ(0, munmap(p + (n - 1) * pg, pg));
	for (i = 0; i < n - 1; i++) {
		if (i == 3 || i == 4)
			continue;
		EXPECT_EQ(500 + i, *(uint64_t *)(p + i * pg)) TH_LOG("page %zu", i);
		*(uint64_t *)(p + i * pg + 16) = i;
	}
	/* The unmapped pages are still in the buffer. */
	q = mmap(NULL, 2 * pg, PROT_READ, MAP_SHARED, fd, 3 * pg);
	ASSERT_NE(MAP_FAILED, q);
	EXPECT_EQ(-1, check_stamps(q, 2, pg, 503));
	ASSERT_EQ(0, munmap(q, 2 * pg));
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, munmap(p, 3 * pg));
	ASSERT_EQ(0, munmap(p + 5 * pg, 2 * pg));
	EXPECT_EQ(self->bufinfo_base, bufinfo_count());
}

TEST_F(mmap, fork_shares_mapping)
{
	const size_t pg = self->pg, n = 4, size = n * pg;
	int fd, status;
	char *p;
	pid_t pid;

	fd = sgbuf_alloc_rw(self->dev, size);
	ASSERT_LE(0, fd) TH_LOG("%s", strerror(-fd));
	p = map_buf(fd, size, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, p);
	pattern_fill(p, size, 0xf0);

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* Child: sees the parent's data, writes its own. */
		if (pattern_check(p, size, 0xf0) != -1)
			_exit(1);
		pattern_fill(p + pg, pg, 0xc1);
		munmap(p, size);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("child saw wrong data");
	EXPECT_EQ(-1, pattern_check(p + pg, pg, 0xc1))
		TH_LOG("child's write not visible to the parent");
	EXPECT_EQ(-1, pattern_check(p, pg, 0xf0));
	ASSERT_EQ(0, munmap(p, size));
	ASSERT_EQ(0, close(fd));
}

/*
 * mremap(old_len = 0) would duplicate the mapping; for a PFN mapping with
 * VM_DONTEXPAND the mm refuses it (EFAULT), as it refuses growth, and the
 * original mapping stays whole.
 */
TEST_F(mmap, mremap_duplicate_refused)
{
	const size_t size = 8 * self->pg;
	char *p, *q;
	int fd;

	fd = sgbuf_alloc_rw(self->dev, size);
	ASSERT_LE(0, fd) TH_LOG("%s", strerror(-fd));
	p = map_buf(fd, size, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, p);
	pattern_fill(p, size, 0xd0);
	errno = 0;
	q = mremap(p, 0, size, MREMAP_MAYMOVE);
	EXPECT_EQ(MAP_FAILED, q) TH_LOG("mremap(old_len 0) duplicated the mapping");
	EXPECT_EQ(EFAULT, errno);
	if (q != MAP_FAILED)
		munmap(q, size);
	EXPECT_EQ(-1, pattern_check(p, size, 0xd0));
	ASSERT_EQ(0, munmap(p, size));
	ASSERT_EQ(0, close(fd));
	EXPECT_EQ(self->bufinfo_base, bufinfo_count());
}

/* MADV_DONTFORK: the child has no mapping, the parent keeps its own. */
TEST_F(mmap, madv_dontfork)
{
	const size_t size = 4 * self->pg;
	int fd, status;
	char *p;
	pid_t pid;

	fd = sgbuf_alloc_rw(self->dev, size);
	ASSERT_LE(0, fd) TH_LOG("%s", strerror(-fd));
	p = map_buf(fd, size, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, p);
	pattern_fill(p, size, 0xe0);
	ASSERT_EQ(0, madvise(p, size, MADV_DONTFORK));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* Nothing is mapped there in the child: mincore says ENOMEM. */
		unsigned char v[4];

		_exit(mincore(p, size, v) == -1 && errno == ENOMEM ? 0 : 1);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("the child has the mapping");
	EXPECT_EQ(-1, pattern_check(p, size, 0xe0));
	ASSERT_EQ(0, munmap(p, size));
	ASSERT_EQ(0, close(fd));
	EXPECT_EQ(self->bufinfo_base, bufinfo_count());
}

/* The mapping keeps the buffer alive after the last fd is closed. */
TEST_F(mmap, close_fd_while_mapped)
{
	const size_t size = 16 * self->pg;
	struct sgbuf_info i;
	char *p;
	int fd;

	fd = sgbuf_alloc_rw(self->dev, size);
	ASSERT_LE(0, fd) TH_LOG("%s", strerror(-fd));
	p = map_buf(fd, size, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, p);
	pattern_fill(p, size / 2, 0x55);
	ASSERT_EQ(0, close(fd));

	pattern_fill(p + size / 2, size / 2, 0x66);
	EXPECT_EQ(-1, pattern_check(p, size / 2, 0x55));
	EXPECT_EQ(-1, pattern_check(p + size / 2, size / 2, 0x66));
	EXPECT_EQ(self->bufinfo_base + 1, bufinfo_count());
	ASSERT_EQ(0, sgbuf_get_info(self->dev, &i));
	EXPECT_EQ(self->info_base.live_buffers + 1, i.live_buffers);
	EXPECT_EQ(self->info_base.total_size + size, i.total_size);

	ASSERT_EQ(0, munmap(p, size));
	EXPECT_EQ(self->bufinfo_base, bufinfo_count());
	ASSERT_EQ(0, sgbuf_get_info(self->dev, &i));
	EXPECT_EQ(self->info_base.live_buffers, i.live_buffers);
}

/* Data integrity through mmap for a range of sizes. */
FIXTURE(sizes) {
	SGBUF_FIXTURE_FIELDS;
	unsigned long long max_buffer_size, max_total_size;
	bool restore;
};

FIXTURE_VARIANT(sizes) {
	unsigned long long size;
	bool stamp_only;	/* per-page stamps: keeps 256 MiB fast in TCG */
};

FIXTURE_VARIANT_ADD(sizes, sz_4k) { .size = SZ_4K };
FIXTURE_VARIANT_ADD(sizes, sz_64k) { .size = SZ_64K };
FIXTURE_VARIANT_ADD(sizes, sz_1m) { .size = SZ_1M };
FIXTURE_VARIANT_ADD(sizes, sz_4m_plus_4k) { .size = SZ_4M + SZ_4K };
FIXTURE_VARIANT_ADD(sizes, sz_64m) { .size = SZ_64M };
FIXTURE_VARIANT_ADD(sizes, sz_256m) { .size = SZ_256M, .stamp_only = true };

FIXTURE_SETUP(sizes)
{
	unsigned long long size = variant->size;
	int ret;

	SGBUF_FIXTURE_SETUP(self);
	ASSERT_EQ(0ULL, size % page_size());
	/* Raise the module limits if the defaults are below this size. */
	ASSERT_EQ(0, param_read("max_buffer_size", &self->max_buffer_size));
	ASSERT_EQ(0, param_read("max_total_size", &self->max_total_size));
	self->restore = true;
	if (self->max_buffer_size < size) {
		ret = param_write("max_buffer_size", size);
		ASSERT_EQ(0, ret) TH_LOG("%s", strerror(-ret));
	}
	if (self->max_total_size < self->info_base.total_size + size) {
		ret = param_write("max_total_size",
				  self->info_base.total_size + size);
		ASSERT_EQ(0, ret) TH_LOG("%s", strerror(-ret));
	}
}

FIXTURE_TEARDOWN(sizes)
{
	if (self->restore) {
		EXPECT_EQ(0, param_write("max_buffer_size", self->max_buffer_size));
		EXPECT_EQ(0, param_write("max_total_size", self->max_total_size));
	}
	SGBUF_FIXTURE_TEARDOWN(self);
}

TEST_F_TIMEOUT(sizes, pattern_through_mmap, 240)
{
	const size_t size = variant->size, pg = page_size();
	char *p, *q;
	long bad;
	int fd;

	fd = sgbuf_alloc_rw(self->dev, size);
	ASSERT_LE(0, fd) TH_LOG("alloc %zu: %s", size, strerror(-fd));
	EXPECT_EQ((off_t)size, lseek(fd, 0, SEEK_END));
	p = map_buf(fd, size, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, p) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, dmabuf_sync(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE));
	if (variant->stamp_only) {
		size_t i;

		for (i = 0; i < size / pg; i++) {
			*(uint64_t *)(p + i * pg) = i ^ 0x5a5a5a5a00000000ULL;
			*(uint64_t *)(p + (i + 1) * pg - 8) = ~i;
		}
	} else {
		pattern_fill(p, size, size);
	}
	ASSERT_EQ(0, dmabuf_sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE));
	ASSERT_EQ(0, munmap(p, size));

	/* Verify through a second, read-only mapping. */
	q = map_buf(fd, size, PROT_READ);
	ASSERT_NE(MAP_FAILED, q);
	ASSERT_EQ(0, dmabuf_sync(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ));
	if (variant->stamp_only) {
		size_t i;

		for (i = 0; i < size / pg; i++) {
			if (*(uint64_t *)(q + i * pg) != (i ^ 0x5a5a5a5a00000000ULL) ||
			    *(uint64_t *)(q + (i + 1) * pg - 8) != ~i)
				break;
		}
		EXPECT_EQ(size / pg, i) TH_LOG("bad stamp in page %zu", i);
	} else {
		bad = pattern_check(q, size, size);
		EXPECT_EQ(-1, bad) TH_LOG("bad word at offset %ld", bad * 8);
	}
	ASSERT_EQ(0, dmabuf_sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ));
	ASSERT_EQ(0, munmap(q, size));
	ASSERT_EQ(0, close(fd));
}

TEST_HARNESS_MAIN
