// SPDX-License-Identifier: GPL-2.0
/*
 * The sgbuf DMA consumer engine on sgbuf buffers: every job type with its
 * data checked against a userspace model (FILL, COPY, CHECKSUM as zlib's
 * crc32(), CHECKSUM64 as the reference code of docs/uapi.md), job order,
 * implicit sync through the buffers' reservation objects (poll,
 * DMA_BUF_IOCTL_SYNC, EXPORT/IMPORT_SYNC_FILE), explicit in/out fences,
 * error injection, queue depth, timing knobs, lifetimes (close with jobs
 * in flight, a killed process, UNIMPORT while a job is pending), DMA32
 * imports, every bad-input errno, WAIT's struct as an ABI-2 program sees
 * it, debugfs counters and engines made on first use, and last, the module
 * pinned by an open fence.
 *
 * Copies between sgbuf and other exporters are in sgbuf_engine_xexp_test.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>

#include "engine.h"
#include "harness.h"

_Static_assert(sizeof(struct sgbuf_import) == SGBUF_IMPORT_SIZE_VER0,
	       "struct sgbuf_import size changed");
_Static_assert(sizeof(struct sgbuf_unimport) == SGBUF_UNIMPORT_SIZE_VER0,
	       "struct sgbuf_unimport size changed");
_Static_assert(sizeof(struct sgbuf_submit) == SGBUF_SUBMIT_SIZE_VER0,
	       "struct sgbuf_submit size changed");
_Static_assert(sizeof(struct sgbuf_wait) == SGBUF_WAIT_SIZE_VER0,
	       "struct sgbuf_wait size changed");
_Static_assert(sizeof(struct sgbuf_engine_config) == SGBUF_ENGINE_CONFIG_SIZE_VER0,
	       "struct sgbuf_engine_config size changed");
_Static_assert(sizeof(struct sgbuf_sw_fence) == SGBUF_SW_FENCE_SIZE_VER0,
	       "struct sgbuf_sw_fence size changed");
_Static_assert(sizeof(struct sgbuf_sw_signal) == SGBUF_SW_SIGNAL_SIZE_VER0,
	       "struct sgbuf_sw_signal size changed");

#define SYNC_R_START	(DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ)
#define SYNC_R_END	(DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ)
#define SYNC_W_START	(DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE)
#define SYNC_W_END	(DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE)

/* 4 MiB and three pages: more than the largest buddy block. */
#define BIG_SIZE	(SZ_4M + 3 * SZ_4K)

/* Extensible-struct variants of the engine ioctls (explicit size). */
#define IOC_SZ(dir, nr, sz)	_IOC((dir), SGBUF_IOC_MAGIC, (nr), (sz))
#define RW			(_IOC_READ | _IOC_WRITE)

/*
 * A test buffer: an sgbuf buffer, its CPU mapping, a userspace model of
 * what it must contain, and its import handle on the engine.
 */
struct tbuf {
	int fd;
	size_t size;
	uint8_t *map;
	uint8_t *model;
	__u32 handle;
};

/* Write the per-word pattern @seed through the mapping, inside SYNC. */
static void tbuf_cpu_fill(struct __test_metadata *_metadata, struct tbuf *b,
			  uint64_t seed)
{
	int ret;

	ret = dmabuf_sync(b->fd, SYNC_W_START);
	ASSERT_EQ(0, ret) TH_LOG("SYNC START WRITE: %s", strerror(-ret));
	pattern_fill(b->map, b->size, seed);
	ret = dmabuf_sync(b->fd, SYNC_W_END);
	ASSERT_EQ(0, ret) TH_LOG("SYNC END WRITE: %s", strerror(-ret));
	pattern_fill(b->model, b->size, seed);
}

/* Allocate, map, fill and (if @eng >= 0) import a buffer. */
static void tbuf_new(struct __test_metadata *_metadata, int dev, int eng,
		     struct tbuf *b, size_t size, uint64_t seed)
{
	__u64 isize = 0;
	int ret;

	memset(b, 0, sizeof(*b));
	b->size = size;
	b->fd = sgbuf_alloc_rw(dev, size);
	ASSERT_LE(0, b->fd) TH_LOG("alloc %zu: %s", size, strerror(-b->fd));
	b->map = map_buf(b->fd, size, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, b->map) TH_LOG("mmap: %s", strerror(errno));
	b->model = malloc(size);
	ASSERT_NE(NULL, b->model);
	tbuf_cpu_fill(_metadata, b, seed);
	if (eng < 0)
		return;
	ret = eng_import(eng, b->fd, 0, &b->handle, &isize);
	ASSERT_EQ(0, ret) TH_LOG("IMPORT: %s", strerror(-ret));
	EXPECT_NE(0U, b->handle);
	EXPECT_EQ((__u64)size, isize);
}

/* Read the buffer through its mapping (inside SYNC) and compare. */
static void tbuf_check(struct __test_metadata *_metadata, struct tbuf *b,
		       const char *what)
{
	uint8_t got = 0, want = 0;
	long d;
	int ret;

	ret = dmabuf_sync(b->fd, SYNC_R_START);
	ASSERT_EQ(0, ret) TH_LOG("%s: SYNC START READ: %s", what, strerror(-ret));
	d = first_diff(b->map, b->model, b->size);
	if (d >= 0) {
		got = b->map[d];
		want = b->model[d];
	}
	ret = dmabuf_sync(b->fd, SYNC_R_END);
	EXPECT_EQ(0, ret) TH_LOG("%s: SYNC END READ: %s", what, strerror(-ret));
	EXPECT_EQ(-1, d) TH_LOG("%s: first wrong byte at offset %ld of %zu: %#x, expected %#x",
				what, d, b->size, got, want);
}

static void tbuf_free(struct tbuf *b)
{
	if (b->map && b->map != MAP_FAILED)
		munmap(b->map, b->size);
	free(b->model);
	if (b->fd >= 0)
		close(b->fd);
	memset(b, 0, sizeof(*b));
	b->fd = -1;
}

/* SUBMIT that must succeed; returns the seqno. */
static __u64 submit_ok(struct __test_metadata *_metadata, int eng,
		       struct sgbuf_submit *s)
{
	int ret = eng_submit(eng, s);

	ASSERT_EQ(0, ret) TH_LOG("SUBMIT op %u len %llu: %s", s->op,
				 (unsigned long long)s->length, strerror(-ret));
	ASSERT_NE(0ULL, (unsigned long long)s->seqno);
	return s->seqno;
}

/* WAIT (bounded) that must succeed; returns the job's status. */
static int wait_job(struct __test_metadata *_metadata, int eng, __u64 seqno,
		    __u32 *checksum)
{
	int ret, status = 1;

	ret = eng_wait(eng, seqno, WAIT_LONG_NS, &status, checksum);
	ASSERT_EQ(0, ret) TH_LOG("WAIT seqno %llu: %s",
				 (unsigned long long)seqno, strerror(-ret));
	return status;
}

/* waitpid() for at most @ms; on timeout kill and reap. Returns the pid or 0. */
static pid_t waitpid_ms(pid_t pid, int *status, int ms)
{
	int i;

	for (i = 0; i < ms / 10; i++) {
		pid_t r = waitpid(pid, status, WNOHANG);

		if (r)
			return r;
		usleep(10 * 1000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, status, 0);
	return 0;
}

/* Status of a sync_file, or a value no fence can have (-10000) on error. */
static int fence_status(int fd)
{
	int st = -10000;

	return sync_file_status(fd, &st) ? -10000 : st;
}

FIXTURE(engine) {
	SGBUF_FIXTURE_FIELDS;
	int fds_base;
};

FIXTURE_SETUP(engine)
{
	SGBUF_FIXTURE_SETUP(self);
	ASSERT_NE(0ULL, self->info_base.caps & SGBUF_CAP_ENGINE)
		TH_LOG("SGBUF_CAP_ENGINE is clear in caps %#llx",
		       (unsigned long long)self->info_base.caps);
	self->fds_base = count_open_fds();
	ASSERT_LE(0, self->fds_base);
}

FIXTURE_TEARDOWN(engine)
{
	SGBUF_FIXTURE_TEARDOWN(self);
}

/* ------------------------------------------------------------ job types */

/* zlib's check value, and the same bytes checksummed across a page end. */
TEST_F(engine, checksum_known_answer)
{
	static const char digits[] = "123456789";
	struct sgbuf_submit s;
	struct tbuf b;
	__u32 csum = 0;
	__u64 seq;

	ASSERT_EQ(0xCBF43926U, crc32_buf(digits, 9));
	ASSERT_EQ(0xD202EF8DU, crc32_buf("", 1));	/* one zero byte */

	tbuf_new(_metadata, self->dev, self->dev, &b, 2 * SZ_4K, 7);
	ASSERT_EQ(0, dmabuf_sync(b.fd, SYNC_W_START));
	memcpy(b.map + SZ_4K - 4, digits, 9);
	ASSERT_EQ(0, dmabuf_sync(b.fd, SYNC_W_END));

	job_checksum(&s, b.handle, SZ_4K - 4, 9);
	seq = submit_ok(_metadata, self->dev, &s);
	EXPECT_EQ(0, wait_job(_metadata, self->dev, seq, &csum));
	EXPECT_EQ(0xCBF43926U, csum) TH_LOG("CRC-32 of \"123456789\": %#x", csum);

	ASSERT_EQ(0, dmabuf_sync(b.fd, SYNC_W_START));
	b.map[0] = 0;
	ASSERT_EQ(0, dmabuf_sync(b.fd, SYNC_W_END));
	job_checksum(&s, b.handle, 0, 1);
	seq = submit_ok(_metadata, self->dev, &s);
	EXPECT_EQ(0, wait_job(_metadata, self->dev, seq, &csum));
	EXPECT_EQ(0xD202EF8DU, csum);
	tbuf_free(&b);
}

TEST_F(engine, fill_ranges)
{
	const struct { unsigned long long off, len; __u32 pat; } c[] = {
		{ 0, BIG_SIZE, 0xdeadbeef },
		{ 3, 4093, 0x01020304 },
		{ 4095, 2, 0xa1b2c3d4 },
		{ 1, BIG_SIZE - 2, 0x55aa33cc },
		{ BIG_SIZE - 1, 1, 0xffffffff },
		{ BIG_SIZE - 3 * SZ_4K - 5, 2 * SZ_4K + 9, 0 },
		{ 12345, SZ_1M + 7, 0x80000001 },
		{ SZ_4M - 2, 7, 0x11223344 },	/* across the 4 MiB mark */
	};
	struct sgbuf_submit s;
	struct tbuf b;
	unsigned int i;
	char what[96];
	int status;

	tbuf_new(_metadata, self->dev, self->dev, &b, BIG_SIZE, 0x1111);
	for (i = 0; i < ARRAY_SIZE(c); i++) {
		__u64 seq;

		job_fill(&s, b.handle, c[i].off, c[i].len, c[i].pat);
		seq = submit_ok(_metadata, self->dev, &s);
		model_fill(b.model, c[i].off, c[i].len, c[i].pat);
		/* SYNC START waits for the job's fence: no WAIT first. */
		snprintf(what, sizeof(what), "FILL off %llu len %llu pattern %#x",
			 c[i].off, c[i].len, c[i].pat);
		tbuf_check(_metadata, &b, what);
		/* ... so the job must be done by now. */
		status = 1;
		EXPECT_EQ(0, eng_wait(self->dev, seq, 0, &status, NULL))
			TH_LOG("%s: not done after SYNC START returned", what);
		EXPECT_EQ(0, status);
	}
	tbuf_free(&b);
}

TEST_F(engine, copy_between_buffers)
{
	const struct { unsigned long long so, dofs, len; } c[] = {
		{ 0, 0, BIG_SIZE },
		{ 1, SZ_4K + 5, SZ_1M + 333 },
		{ BIG_SIZE - SZ_4K, 0, SZ_4K },
		{ 7, BIG_SIZE - 100000 - 3, 100000 },
		{ 4095, 4097, 3 },
	};
	struct sgbuf_submit s;
	struct tbuf a, b;
	unsigned int i;
	char what[96];

	tbuf_new(_metadata, self->dev, self->dev, &a, BIG_SIZE, 0xa);
	tbuf_new(_metadata, self->dev, self->dev, &b, BIG_SIZE, 0xb);
	for (i = 0; i < ARRAY_SIZE(c); i++) {
		__u64 seq;

		/* New source data each round, written by the CPU. */
		tbuf_cpu_fill(_metadata, &a, 0xa0 + i);
		job_copy(&s, a.handle, c[i].so, b.handle, c[i].dofs, c[i].len);
		seq = submit_ok(_metadata, self->dev, &s);
		memcpy(b.model + c[i].dofs, a.model + c[i].so, c[i].len);
		snprintf(what, sizeof(what), "COPY %llu -> %llu len %llu",
			 c[i].so, c[i].dofs, c[i].len);
		tbuf_check(_metadata, &b, what);
		tbuf_check(_metadata, &a, "COPY source");
		EXPECT_EQ(0, wait_job(_metadata, self->dev, seq, NULL));
	}
	tbuf_free(&a);
	tbuf_free(&b);
}

TEST_F(engine, copy_within_buffer)
{
	const unsigned long long half = BIG_SIZE / 2;
	const struct { unsigned long long so, dofs, len; } c[] = {
		{ 0, half, half },			/* exactly adjacent */
		{ half, 0, half - 1 },
		{ 4097, SZ_1M + 3, 100000 },
		{ 2 * SZ_1M, 5, 3 * SZ_4K + 1 },
		{ 0, SZ_4K, SZ_4K },			/* adjacent pages */
		{ SZ_4K, 0, SZ_4K },
		{ BIG_SIZE - 1, 0, 1 },
	};
	struct sgbuf_submit s;
	struct tbuf b;
	unsigned int i;
	char what[96];

	tbuf_new(_metadata, self->dev, self->dev, &b, BIG_SIZE, 0xc);
	for (i = 0; i < ARRAY_SIZE(c); i++) {
		__u64 seq;

		job_copy(&s, b.handle, c[i].so, b.handle, c[i].dofs, c[i].len);
		seq = submit_ok(_metadata, self->dev, &s);
		memmove(b.model + c[i].dofs, b.model + c[i].so, c[i].len);
		snprintf(what, sizeof(what), "COPY in one buffer %llu -> %llu len %llu",
			 c[i].so, c[i].dofs, c[i].len);
		tbuf_check(_metadata, &b, what);
		EXPECT_EQ(0, wait_job(_metadata, self->dev, seq, NULL));
	}
	tbuf_free(&b);
}

TEST_F(engine, checksum_ranges)
{
	const struct { unsigned long long off, len; } c[] = {
		{ 0, BIG_SIZE },
		{ 4000, 10000 },	/* crosses two page boundaries */
		{ 4095, 2 },
		{ 1, BIG_SIZE - 2 },
		{ BIG_SIZE - 1, 1 },
		{ 2 * SZ_1M + 1, SZ_1M },
		{ SZ_4M - 5000, 3 * SZ_4K + 5000 },
	};
	__u64 seq[ARRAY_SIZE(c)];
	struct sgbuf_submit s;
	struct tbuf b;
	unsigned int i;

	tbuf_new(_metadata, self->dev, self->dev, &b, BIG_SIZE, 0x5eed);
	tbuf_check(_metadata, &b, "before CHECKSUM");
	/* All queued at once, results collected afterwards. */
	for (i = 0; i < ARRAY_SIZE(c); i++) {
		job_checksum(&s, b.handle, c[i].off, c[i].len);
		seq[i] = submit_ok(_metadata, self->dev, &s);
	}
	for (i = 0; i < ARRAY_SIZE(c); i++) {
		__u32 csum = 0, want = crc32_buf(b.model + c[i].off, c[i].len);

		EXPECT_EQ(0, wait_job(_metadata, self->dev, seq[i], &csum));
		EXPECT_EQ(want, csum) TH_LOG("CHECKSUM off %llu len %llu: %#x, expected %#x",
					     c[i].off, c[i].len, csum, want);
	}
	/* CHECKSUM reads only. */
	tbuf_check(_metadata, &b, "after CHECKSUM");
	tbuf_free(&b);
}

/*
 * CHECKSUM64: the test vectors of the uapi header, placed across a page
 * boundary; the WAIT fields of both checksum jobs (for CHECKSUM64,
 * checksum is the low half of checksum64; CHECKSUM leaves checksum64 0,
 * the reserved word of ABI 2); the length counts (zeroes of different
 * lengths differ); a failed job reports 0.
 */
TEST_F(engine, checksum64_known_answer)
{
	static const char digits[] = "123456789";
	struct sgbuf_submit s;
	struct sgbuf_wait w;
	__u64 sum = 0, seq;
	struct tbuf b;
	int st = 1;

	ASSERT_EQ(0x9c9690eca4aea13bULL, sgbuf_checksum64(digits, 9));
	ASSERT_EQ(0x0000000100000001ULL, sgbuf_checksum64("", 1));
	ASSERT_NE(0ULL, self->info_base.caps & SGBUF_CAP_CHECKSUM64);

	tbuf_new(_metadata, self->dev, self->dev, &b, 2 * SZ_4K, 8);
	ASSERT_EQ(0, dmabuf_sync(b.fd, SYNC_W_START));
	memcpy(b.map + SZ_4K - 4, digits, 9);
	memset(b.map + SZ_4K + 5, 0, 64);
	ASSERT_EQ(0, dmabuf_sync(b.fd, SYNC_W_END));

	job_checksum64(&s, b.handle, SZ_4K - 4, 9);
	seq = submit_ok(_metadata, self->dev, &s);
	ASSERT_EQ(0, eng_wait64(self->dev, seq, WAIT_LONG_NS, &st, &sum));
	EXPECT_EQ(0, st);
	EXPECT_EQ(0x9c9690eca4aea13bULL, (unsigned long long)sum)
		TH_LOG("checksum64 of \"123456789\": %#llx", (unsigned long long)sum);

	/* The same bytes as CRC-32: checksum holds the CRC, checksum64 0. */
	job_checksum(&s, b.handle, SZ_4K - 4, 9);
	seq = submit_ok(_metadata, self->dev, &s);
	memset(&w, 0, sizeof(w));
	w.seqno = seq;
	w.timeout_ns = WAIT_LONG_NS;
	ASSERT_EQ(0, ioctl(self->dev, SGBUF_IOCTL_WAIT, &w));
	EXPECT_EQ(0, w.status);
	EXPECT_EQ(0xCBF43926U, w.checksum);
	EXPECT_EQ(0ULL, (unsigned long long)w.checksum64)
		TH_LOG("CHECKSUM filled in checksum64: %#llx",
		       (unsigned long long)w.checksum64);
	sum = 1;
	ASSERT_EQ(0, eng_wait64(self->dev, seq, WAIT_LONG_NS, &st, &sum));
	EXPECT_EQ(0ULL, (unsigned long long)sum);

	/* 1, 8 and 64 zero bytes: only the length tells them apart. */
	job_checksum64(&s, b.handle, SZ_4K + 5, 1);
	seq = submit_ok(_metadata, self->dev, &s);
	ASSERT_EQ(0, eng_wait64(self->dev, seq, WAIT_LONG_NS, &st, &sum));
	EXPECT_EQ(0x0000000100000001ULL, (unsigned long long)sum);
	job_checksum64(&s, b.handle, SZ_4K + 5, 8);
	seq = submit_ok(_metadata, self->dev, &s);
	ASSERT_EQ(0, eng_wait64(self->dev, seq, WAIT_LONG_NS, &st, &sum));
	EXPECT_EQ(0x0000000800000008ULL, (unsigned long long)sum);
	job_checksum64(&s, b.handle, SZ_4K + 5, 64);
	seq = submit_ok(_metadata, self->dev, &s);
	ASSERT_EQ(0, eng_wait64(self->dev, seq, WAIT_LONG_NS, &st, &sum));
	EXPECT_EQ(0x0000004000000040ULL, (unsigned long long)sum);

	/* Other jobs report 0, and so does a CHECKSUM64 that failed. */
	job_fill(&s, b.handle, 0, 1, 0x31);
	seq = submit_ok(_metadata, self->dev, &s);
	sum = 1;
	ASSERT_EQ(0, eng_wait64(self->dev, seq, WAIT_LONG_NS, &st, &sum));
	EXPECT_EQ(0, st);
	EXPECT_EQ(0ULL, (unsigned long long)sum);
	ASSERT_EQ(0, eng_config_simple(self->dev, 64, seq + 1, 0));
	job_checksum64(&s, b.handle, 0, SZ_4K);
	seq = submit_ok(_metadata, self->dev, &s);
	sum = 1;
	ASSERT_EQ(0, eng_wait64(self->dev, seq, WAIT_LONG_NS, &st, &sum));
	EXPECT_EQ(-EIO, st);
	EXPECT_EQ(0ULL, (unsigned long long)sum);
	tbuf_free(&b);
}

/*
 * CHECKSUM64 against the reference code: every offset and length that
 * makes a word straddle a page, the engine's 256 KiB sections and the
 * buffer's 1 MiB chunks, and all of a buffer larger than 4 MiB.
 */
TEST_F(engine, checksum64_ranges)
{
	const struct { unsigned long long off, len; } c[] = {
		{ 0, BIG_SIZE },
		{ 1, BIG_SIZE - 1 },
		{ 4000, 10000 },
		{ SZ_4K - 3, 8 },
		{ SZ_4K - 1, 2 },
		{ SZ_256K - 5, 11 },
		{ SZ_256K - 4, SZ_256K + 9 },
		{ SZ_1M - 7, SZ_1M + 14 },
		{ 3 * SZ_1M + 3, SZ_1M },
		{ BIG_SIZE - 9, 9 },
		{ BIG_SIZE - 1, 1 },
	};
	__u64 seq[ARRAY_SIZE(c)], sum;
	struct sgbuf_submit s;
	unsigned int i, off, len;
	struct tbuf b;
	int st;

	tbuf_new(_metadata, self->dev, self->dev, &b, BIG_SIZE, 0x5e64);
	for (i = 0; i < ARRAY_SIZE(c); i++) {
		job_checksum64(&s, b.handle, c[i].off, c[i].len);
		seq[i] = submit_ok(_metadata, self->dev, &s);
	}
	for (i = 0; i < ARRAY_SIZE(c); i++) {
		__u64 want = sgbuf_checksum64(b.model + c[i].off, c[i].len);

		sum = 0;
		st = 1;
		ASSERT_EQ(0, eng_wait64(self->dev, seq[i], WAIT_LONG_NS, &st, &sum));
		EXPECT_EQ(0, st);
		EXPECT_EQ(want, sum) TH_LOG("CHECKSUM64 off %llu len %llu: %#llx, expected %#llx",
					    c[i].off, c[i].len, (unsigned long long)sum,
					    (unsigned long long)want);
	}
	/* Every alignment and short length, across a page boundary. */
	for (off = SZ_4K - 12; off < SZ_4K; off++) {
		for (len = 1; len <= 24; len++) {
			__u64 want = sgbuf_checksum64(b.model + off, len);

			job_checksum64(&s, b.handle, off, len);
			submit_ok(_metadata, self->dev, &s);
			sum = 0;
			ASSERT_EQ(0, eng_wait64(self->dev, s.seqno, WAIT_LONG_NS, &st, &sum));
			EXPECT_EQ(want, sum) TH_LOG("CHECKSUM64 off %u len %u", off, len);
		}
	}
	tbuf_check(_metadata, &b, "after CHECKSUM64");
	tbuf_free(&b);
}

/* A chain submitted without waiting runs in order. */
TEST_F(engine, job_chain_in_order)
{
	const size_t sz = SZ_1M;
	struct sgbuf_submit s;
	__u32 csum_b = 0, csum_a = 0;
	__u64 seq[6];
	struct tbuf a, b;
	unsigned int i;

	tbuf_new(_metadata, self->dev, self->dev, &a, sz, 1);
	tbuf_new(_metadata, self->dev, self->dev, &b, sz, 2);

	job_fill(&s, a.handle, 0, sz, 0x11111111);
	seq[0] = submit_ok(_metadata, self->dev, &s);
	model_fill(a.model, 0, sz, 0x11111111);
	job_copy(&s, a.handle, 0, b.handle, 0, sz);
	seq[1] = submit_ok(_metadata, self->dev, &s);
	memcpy(b.model, a.model, sz);
	job_fill(&s, a.handle, 0, sz / 2, 0x22222222);
	seq[2] = submit_ok(_metadata, self->dev, &s);
	model_fill(a.model, 0, sz / 2, 0x22222222);
	job_checksum(&s, b.handle, 0, sz);
	seq[3] = submit_ok(_metadata, self->dev, &s);
	job_checksum(&s, a.handle, 0, sz);
	seq[4] = submit_ok(_metadata, self->dev, &s);
	job_copy(&s, b.handle, 0, a.handle, sz - SZ_4K, SZ_4K);
	seq[5] = submit_ok(_metadata, self->dev, &s);
	memcpy(a.model + sz - SZ_4K, b.model, SZ_4K);

	/* Braces: a harness EXPECT must not be a bare loop body. */
	for (i = 0; i < ARRAY_SIZE(seq); i++) {
		EXPECT_EQ((unsigned long long)seq[0] + i, (unsigned long long)seq[i]);
	}
	EXPECT_EQ(0, wait_job(_metadata, self->dev, seq[3], &csum_b));
	EXPECT_EQ(0, wait_job(_metadata, self->dev, seq[4], &csum_a));
	EXPECT_EQ(crc32_buf(b.model, sz), csum_b);
	EXPECT_EQ(crc32_buf(a.model, sz), csum_a)
		TH_LOG("CHECKSUM of A ran out of order");
	EXPECT_EQ(0, wait_job(_metadata, self->dev, seq[5], NULL));
	tbuf_check(_metadata, &a, "A after the chain");
	tbuf_check(_metadata, &b, "B after the chain");
	tbuf_free(&a);
	tbuf_free(&b);
}

/* A job on unrelated buffers still waits for the job queued before it. */
TEST_F(engine, queue_runs_in_order)
{
	struct sgbuf_submit s;
	struct tbuf a, b;
	__u64 seq1, seq2;
	int sw, status;
	__u32 id = 0;

	tbuf_new(_metadata, self->dev, self->dev, &a, SZ_64K, 1);
	tbuf_new(_metadata, self->dev, self->dev, &b, SZ_64K, 2);
	sw = sw_fence_create(self->dev, &id);
	ASSERT_LE(0, sw) TH_LOG("SW_FENCE_CREATE: %s", strerror(-sw));

	job_fill(&s, a.handle, 0, SZ_64K, 0xaaaaaaaa);
	job_in_fence(&s, sw);
	seq1 = submit_ok(_metadata, self->dev, &s);
	job_fill(&s, b.handle, 0, SZ_64K, 0xbbbbbbbb);
	seq2 = submit_ok(_metadata, self->dev, &s);
	EXPECT_EQ(seq1 + 1, seq2);

	EXPECT_EQ(-ETIME, eng_wait(self->dev, seq2, MS_NS(200), NULL, NULL))
		TH_LOG("job 2 finished while job 1 waited for its in-fence");
	EXPECT_EQ(-ETIME, eng_wait(self->dev, seq1, 0, NULL, NULL));
	EXPECT_EQ(0, poll_fd(b.fd, POLLIN, 0)) TH_LOG("B readable before job 2 ran");

	ASSERT_EQ(0, sw_fence_signal(self->dev, id, 0));
	EXPECT_EQ(0, wait_job(_metadata, self->dev, seq2, NULL));
	status = 1;
	EXPECT_EQ(0, eng_wait(self->dev, seq1, 0, &status, NULL))
		TH_LOG("job 1 not done when job 2 was");
	EXPECT_EQ(0, status);
	model_fill(a.model, 0, SZ_64K, 0xaaaaaaaa);
	model_fill(b.model, 0, SZ_64K, 0xbbbbbbbb);
	tbuf_check(_metadata, &a, "A");
	tbuf_check(_metadata, &b, "B");
	close(sw);
	tbuf_free(&a);
	tbuf_free(&b);
}

TEST_F_TIMEOUT(engine, copy_64m, 180)
{
	const size_t sz = SZ_64M;
	struct sgbuf_submit s;
	struct tbuf a = { .fd = -1 }, b = { .fd = -1 };
	long bad;
	__u64 seq;
	int ret;

	if (self->info_base.max_buffer_size < sz)
		SKIP(return, "max_buffer_size %llu < 64 MiB",
		     (unsigned long long)self->info_base.max_buffer_size);
	if (self->info_base.max_total_size - self->info_base.total_size < 2 * sz)
		SKIP(return, "max_total_size leaves less than 128 MiB");
	if (cmdline_has("swiotlb=force")) {
		long long avail = swiotlb_free_bytes();

		if (avail >= 0 && avail < (long long)(2 * sz + SZ_4M))
			SKIP(return, "swiotlb=force: %lld MiB of bounce slots free, %s",
			     avail >> 20, "mapping 2 x 64 MiB needs 128 MiB");
	}

	/* No model here: 64 MiB patterns are checked word by word. */
	a.fd = sgbuf_alloc_rw(self->dev, sz);
	ASSERT_LE(0, a.fd) TH_LOG("%s", strerror(-a.fd));
	b.fd = sgbuf_alloc_rw(self->dev, sz);
	ASSERT_LE(0, b.fd) TH_LOG("%s", strerror(-b.fd));
	a.map = map_buf(a.fd, sz, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, a.map);
	b.map = map_buf(b.fd, sz, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, b.map);
	ret = eng_import(self->dev, a.fd, 0, &a.handle, NULL);
	ASSERT_EQ(0, ret) TH_LOG("IMPORT 64 MiB: %s", strerror(-ret));
	ret = eng_import(self->dev, b.fd, 0, &b.handle, NULL);
	ASSERT_EQ(0, ret) TH_LOG("IMPORT 64 MiB: %s", strerror(-ret));

	ASSERT_EQ(0, dmabuf_sync(a.fd, SYNC_W_START));
	pattern_fill(a.map, sz, 0x64);
	ASSERT_EQ(0, dmabuf_sync(a.fd, SYNC_W_END));

	job_copy(&s, a.handle, 0, b.handle, 0, sz);
	seq = submit_ok(_metadata, self->dev, &s);
	ASSERT_EQ(0, dmabuf_sync(b.fd, SYNC_R_START));
	bad = pattern_check(b.map, sz, 0x64);
	ASSERT_EQ(0, dmabuf_sync(b.fd, SYNC_R_END));
	EXPECT_EQ(-1, bad) TH_LOG("64 MiB COPY: first wrong word %ld", bad);
	EXPECT_EQ(0, wait_job(_metadata, self->dev, seq, NULL));

	EXPECT_EQ(0, munmap(a.map, sz));
	EXPECT_EQ(0, munmap(b.map, sz));
	EXPECT_EQ(0, eng_unimport(self->dev, a.handle));
	EXPECT_EQ(0, eng_unimport(self->dev, b.handle));
	EXPECT_EQ(0, close(a.fd));
	EXPECT_EQ(0, close(b.fd));
}

/* ------------------------------------------------------- implicit sync */

/*
 * A FILL held by a software in-fence: the buffer's reservation object has
 * its WRITE fence, so poll, SYNC START and the exported sync_file wait.
 */
TEST_F(engine, implicit_sync_held_fill)
{
	const __u32 pat = 0xc0ffee11;
	int sw, sf_w, sf_r, pipefd[2], status;
	struct sgbuf_submit s;
	struct tbuf d;
	__u64 seq;
	pid_t pid;
	__u32 id = 0;
	char c;

	tbuf_new(_metadata, self->dev, self->dev, &d, 16 * SZ_4K + SZ_4K, 3);
	sw = sw_fence_create(self->dev, &id);
	ASSERT_LE(0, sw) TH_LOG("%s", strerror(-sw));
	job_fill(&s, d.handle, 0, d.size, pat);
	job_in_fence(&s, sw);
	seq = submit_ok(_metadata, self->dev, &s);
	model_fill(d.model, 0, d.size, pat);

	EXPECT_EQ(0, poll_fd(d.fd, POLLIN, 0)) TH_LOG("POLLIN with a writer pending");
	EXPECT_EQ(0, poll_fd(d.fd, POLLOUT, 0)) TH_LOG("POLLOUT with a writer pending");
	sf_w = dmabuf_export_sync_file(d.fd, DMA_BUF_SYNC_WRITE);
	ASSERT_LE(0, sf_w) TH_LOG("EXPORT_SYNC_FILE WRITE: %s", strerror(-sf_w));
	sf_r = dmabuf_export_sync_file(d.fd, DMA_BUF_SYNC_READ);
	ASSERT_LE(0, sf_r) TH_LOG("EXPORT_SYNC_FILE READ: %s", strerror(-sf_r));
	EXPECT_EQ(0, poll_fd(sf_w, POLLIN, 0));
	EXPECT_EQ(0, fence_status(sf_w));
	EXPECT_EQ(0, poll_fd(sf_r, POLLIN, 0)) TH_LOG("a reader does not wait for the job's write");
	EXPECT_EQ(0, fence_status(sf_r));
	EXPECT_EQ(-ETIME, eng_wait(self->dev, seq, 0, NULL, NULL));

	/* SYNC START in a child blocks until the job has written the data. */
	ASSERT_EQ(0, pipe2(pipefd, O_CLOEXEC));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int ret;

		if (write(pipefd[1], "x", 1) != 1)
			_exit(2);
		ret = dmabuf_sync(d.fd, SYNC_R_START);
		if (ret)
			_exit(1);
		ret = first_diff(d.map, d.model, d.size) == -1 ? 0 : 3;
		dmabuf_sync(d.fd, SYNC_R_END);
		_exit(ret);
	}
	ASSERT_EQ(1, read(pipefd[0], &c, 1));
	usleep(300 * 1000);
	EXPECT_EQ(0, waitpid(pid, &status, WNOHANG))
		TH_LOG("SYNC START returned while the job was held");

	ASSERT_EQ(0, sw_fence_signal(self->dev, id, 0));
	ASSERT_EQ(pid, waitpid_ms(pid, &status, 10000)) TH_LOG("SYNC START still blocked");
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("child: status %#x (1: SYNC failed, 3: data not yet written)",
		       status);

	EXPECT_EQ(POLLIN, poll_fd(d.fd, POLLIN, 5000));
	EXPECT_EQ(POLLOUT, poll_fd(d.fd, POLLOUT, 5000));
	EXPECT_EQ(POLLIN, poll_fd(sf_w, POLLIN, 5000));
	EXPECT_EQ(1, fence_status(sf_w));
	EXPECT_EQ(1, fence_status(sf_r));
	EXPECT_EQ(0, wait_job(_metadata, self->dev, seq, NULL));
	tbuf_check(_metadata, &d, "FILL after the in-fence");
	close(sf_w);
	close(sf_r);
	close(sw);
	close(pipefd[0]);
	close(pipefd[1]);
	tbuf_free(&d);
}

/* The source of a held COPY carries a READ fence: readers go, writers wait. */
TEST_F(engine, implicit_sync_held_copy_source)
{
	struct sgbuf_submit s;
	struct tbuf a, b;
	int sw, sf;
	__u64 seq;
	__u32 id = 0;

	tbuf_new(_metadata, self->dev, self->dev, &a, SZ_64K, 1);
	tbuf_new(_metadata, self->dev, self->dev, &b, SZ_64K, 2);
	sw = sw_fence_create(self->dev, &id);
	ASSERT_LE(0, sw);
	job_copy(&s, a.handle, 0, b.handle, 0, SZ_64K);
	job_in_fence(&s, sw);
	seq = submit_ok(_metadata, self->dev, &s);

	EXPECT_EQ(POLLIN, poll_fd(a.fd, POLLIN, 0)) TH_LOG("source not readable");
	EXPECT_EQ(0, poll_fd(a.fd, POLLOUT, 0)) TH_LOG("source writable while read");
	sf = dmabuf_export_sync_file(a.fd, DMA_BUF_SYNC_READ);
	ASSERT_LE(0, sf);
	EXPECT_EQ(1, fence_status(sf)) TH_LOG("CPU read of the source would wait");
	close(sf);
	sf = dmabuf_export_sync_file(a.fd, DMA_BUF_SYNC_WRITE);
	ASSERT_LE(0, sf);
	EXPECT_EQ(0, fence_status(sf)) TH_LOG("CPU write of the source would not wait");

	/* A CPU read of the source does not wait (the data is the old one). */
	tbuf_check(_metadata, &a, "source while the COPY is held");

	ASSERT_EQ(0, sw_fence_signal(self->dev, id, 0));
	EXPECT_EQ(POLLIN, poll_fd(sf, POLLIN, 5000));
	EXPECT_EQ(1, fence_status(sf));
	EXPECT_EQ(POLLOUT, poll_fd(a.fd, POLLOUT, 5000));
	EXPECT_EQ(0, wait_job(_metadata, self->dev, seq, NULL));
	memcpy(b.model, a.model, SZ_64K);
	tbuf_check(_metadata, &b, "COPY destination");
	close(sf);
	close(sw);
	tbuf_free(&a);
	tbuf_free(&b);
}

static int dmabuf_import_sync_file(int fd, unsigned int flags, int fence)
{
	struct dma_buf_import_sync_file i = { .flags = flags, .fd = fence };

	return ioctl(fd, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, &i) ? -errno : 0;
}

/*
 * Fences other users put in the reservation object (here a software fence
 * imported with DMA_BUF_IOCTL_IMPORT_SYNC_FILE): a write job waits for
 * readers and writers, a read job only for writers.
 */
TEST_F(engine, job_waits_for_resv_fences)
{
	struct sgbuf_submit s;
	__u32 id = 0, csum = 0;
	int sw, ret, st;
	struct tbuf b;
	__u64 seq;

	tbuf_new(_metadata, self->dev, self->dev, &b, SZ_64K, 9);

	/* A foreign WRITE fence: both FILL and CHECKSUM wait. */
	sw = sw_fence_create(self->dev, &id);
	ASSERT_LE(0, sw);
	ret = dmabuf_import_sync_file(b.fd, DMA_BUF_SYNC_WRITE, sw);
	ASSERT_EQ(0, ret) TH_LOG("IMPORT_SYNC_FILE WRITE: %s", strerror(-ret));
	job_checksum(&s, b.handle, 0, SZ_64K);
	seq = submit_ok(_metadata, self->dev, &s);
	EXPECT_EQ(-ETIME, eng_wait(self->dev, seq, MS_NS(200), NULL, NULL))
		TH_LOG("CHECKSUM did not wait for a writer in the resv");
	ASSERT_EQ(0, sw_fence_signal(self->dev, id, 0));
	EXPECT_EQ(0, wait_job(_metadata, self->dev, seq, &csum));
	EXPECT_EQ(crc32_buf(b.model, SZ_64K), csum);
	close(sw);

	/* A foreign READ fence: CHECKSUM goes, FILL waits. */
	sw = sw_fence_create(self->dev, &id);
	ASSERT_LE(0, sw);
	ret = dmabuf_import_sync_file(b.fd, DMA_BUF_SYNC_READ, sw);
	ASSERT_EQ(0, ret) TH_LOG("IMPORT_SYNC_FILE READ: %s", strerror(-ret));
	job_checksum(&s, b.handle, 0, SZ_64K);
	seq = submit_ok(_metadata, self->dev, &s);
	st = 1;
	ret = eng_wait(self->dev, seq, MS_NS(5000), &st, &csum);
	EXPECT_EQ(0, ret) TH_LOG("CHECKSUM waited for a reader: %s", strerror(-ret));
	EXPECT_EQ(0, st);
	EXPECT_EQ(crc32_buf(b.model, SZ_64K), csum);

	job_fill(&s, b.handle, 100, 1000, 0x12345678);
	seq = submit_ok(_metadata, self->dev, &s);
	EXPECT_EQ(-ETIME, eng_wait(self->dev, seq, MS_NS(200), NULL, NULL))
		TH_LOG("FILL did not wait for a reader in the resv");
	ASSERT_EQ(0, sw_fence_signal(self->dev, id, 0));
	EXPECT_EQ(0, wait_job(_metadata, self->dev, seq, NULL));
	model_fill(b.model, 100, 1000, 0x12345678);
	tbuf_check(_metadata, &b, "FILL after the reader");
	close(sw);
	tbuf_free(&b);
}

/* ------------------------------------------------------ explicit fences */

TEST_F(engine, out_fence)
{
	struct sgbuf_submit s;
	int sw, out, out2;
	struct tbuf b;
	__u64 seq;
	__u32 id = 0;

	tbuf_new(_metadata, self->dev, self->dev, &b, SZ_64K, 4);
	sw = sw_fence_create(self->dev, &id);
	ASSERT_LE(0, sw);
	EXPECT_NE(0, fcntl(sw, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(0, fence_status(sw));

	job_fill(&s, b.handle, 0, SZ_64K, 0x0f0f0f0f);
	job_in_fence(&s, sw);
	s.flags |= SGBUF_SUBMIT_OUT_FENCE;
	seq = submit_ok(_metadata, self->dev, &s);
	out = s.out_fence_fd;
	ASSERT_LE(0, out);
	EXPECT_NE(0, fcntl(out, F_GETFD) & FD_CLOEXEC) TH_LOG("out-fence without O_CLOEXEC");
	EXPECT_EQ(0, fence_status(out));
	EXPECT_EQ(0, poll_fd(out, POLLIN, 0));

	ASSERT_EQ(0, sw_fence_signal(self->dev, id, 0));
	EXPECT_EQ(1, fence_status(sw));
	EXPECT_EQ(POLLIN, poll_fd(out, POLLIN, 5000));
	EXPECT_EQ(1, fence_status(out));
	EXPECT_EQ(0, wait_job(_metadata, self->dev, seq, NULL));
	model_fill(b.model, 0, SZ_64K, 0x0f0f0f0f);
	tbuf_check(_metadata, &b, "FILL");

	/* Without a held in-fence. */
	job_checksum(&s, b.handle, 0, SZ_64K);
	s.flags = SGBUF_SUBMIT_OUT_FENCE;
	seq = submit_ok(_metadata, self->dev, &s);
	out2 = s.out_fence_fd;
	ASSERT_LE(0, out2);
	EXPECT_NE(out, out2);
	EXPECT_EQ(POLLIN, poll_fd(out2, POLLIN, 5000));
	EXPECT_EQ(1, fence_status(out2));
	job_checksum(&s, b.handle, 0, 1);
	seq = submit_ok(_metadata, self->dev, &s);
	EXPECT_EQ(0, s.out_fence_fd) TH_LOG("out_fence_fd set without OUT_FENCE");
	EXPECT_EQ(0, wait_job(_metadata, self->dev, seq, NULL));
	close(out);
	close(out2);
	close(sw);
	tbuf_free(&b);
}

/* Engine 2's job waits for engine 1's out-fence; buffers are unrelated. */
TEST_F(engine, in_fence_from_other_engine)
{
	struct sgbuf_submit s;
	int e2, sw, f1, f2, st;
	struct tbuf a, b;
	__u64 seq1, seq2;
	__u32 id = 0;

	e2 = sgbuf_open();
	ASSERT_LE(0, e2);
	tbuf_new(_metadata, self->dev, self->dev, &a, SZ_64K, 1);
	tbuf_new(_metadata, self->dev, e2, &b, SZ_64K, 2);
	sw = sw_fence_create(self->dev, &id);
	ASSERT_LE(0, sw);

	job_fill(&s, a.handle, 0, SZ_64K, 0x1a1a1a1a);
	job_in_fence(&s, sw);
	s.flags |= SGBUF_SUBMIT_OUT_FENCE;
	seq1 = submit_ok(_metadata, self->dev, &s);
	f1 = s.out_fence_fd;
	ASSERT_LE(0, f1);

	job_fill(&s, b.handle, 0, SZ_64K, 0x2b2b2b2b);
	job_in_fence(&s, f1);
	s.flags |= SGBUF_SUBMIT_OUT_FENCE;
	seq2 = submit_ok(_metadata, e2, &s);
	f2 = s.out_fence_fd;
	ASSERT_LE(0, f2);
	EXPECT_EQ(1ULL, (unsigned long long)seq2) TH_LOG("seqnos are per file");
	/* The in-fence fd is borrowed: the job keeps its own reference. */
	EXPECT_EQ(0, close(f1));

	EXPECT_EQ(-ETIME, eng_wait(e2, seq2, MS_NS(200), NULL, NULL))
		TH_LOG("engine 2's job did not wait for its in-fence");
	EXPECT_EQ(0, fence_status(f2));
	EXPECT_EQ(0, poll_fd(b.fd, POLLIN, 0));

	ASSERT_EQ(0, sw_fence_signal(self->dev, id, 0));
	EXPECT_EQ(0, wait_job(_metadata, e2, seq2, NULL));
	st = 1;
	EXPECT_EQ(0, eng_wait(self->dev, seq1, 0, &st, NULL))
		TH_LOG("engine 2's job finished before engine 1's");
	EXPECT_EQ(0, st);
	EXPECT_EQ(POLLIN, poll_fd(f2, POLLIN, 5000));
	EXPECT_EQ(1, fence_status(f2));
	model_fill(a.model, 0, SZ_64K, 0x1a1a1a1a);
	model_fill(b.model, 0, SZ_64K, 0x2b2b2b2b);
	tbuf_check(_metadata, &a, "engine 1 FILL");
	tbuf_check(_metadata, &b, "engine 2 FILL");
	close(f2);
	close(sw);
	EXPECT_EQ(0, close(e2));
	tbuf_free(&a);
	tbuf_free(&b);
}

/* Software fences: CLOEXEC sync_files, status, errors, merge. */
TEST_F(engine, sw_fence_basics)
{
	struct sync_merge_data m;
	int f1, f2, f3;
	__u32 id1 = 0, id2 = 0, id3 = 0;

	f1 = sw_fence_create(self->dev, &id1);
	ASSERT_LE(0, f1) TH_LOG("%s", strerror(-f1));
	f2 = sw_fence_create(self->dev, &id2);
	ASSERT_LE(0, f2);
	f3 = sw_fence_create(self->dev, &id3);
	ASSERT_LE(0, f3);
	EXPECT_NE(id1, id2);
	EXPECT_NE(id2, id3);
	EXPECT_NE(id1, id3);
	EXPECT_NE(0, fcntl(f1, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(0, fence_status(f1));

	memset(&m, 0, sizeof(m));
	strcpy(m.name, "merged");
	m.fd2 = f2;
	ASSERT_EQ(0, ioctl(f1, SYNC_IOC_MERGE, &m)) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(0, fence_status(m.fence));

	ASSERT_EQ(0, sw_fence_signal(self->dev, id1, 0));
	EXPECT_EQ(1, fence_status(f1));
	EXPECT_EQ(POLLIN, poll_fd(f1, POLLIN, 0));
	EXPECT_EQ(0, fence_status(m.fence));
	EXPECT_EQ(0, poll_fd(m.fence, POLLIN, 0));
	ASSERT_EQ(0, sw_fence_signal(self->dev, id2, 0));
	EXPECT_EQ(POLLIN, poll_fd(m.fence, POLLIN, 0));
	EXPECT_EQ(1, fence_status(m.fence));

	ASSERT_EQ(0, sw_fence_signal(self->dev, id3, -EPIPE));
	EXPECT_EQ(-EPIPE, fence_status(f3));
	EXPECT_EQ(POLLIN, poll_fd(f3, POLLIN, 0));
	close(m.fence);
	close(f1);
	close(f2);
	close(f3);
}

/* --------------------------------------------------------------- errors */

TEST_F(engine, error_injection)
{
	struct sgbuf_submit s;
	__u64 seq[9];
	struct tbuf b;
	__u32 csum = 0;
	int out, st;

	tbuf_new(_metadata, self->dev, self->dev, &b, SZ_64K, 5);
	ASSERT_EQ(0, eng_config_simple(self->dev, 64, 2, 0));

	job_fill(&s, b.handle, 0, SZ_64K, 0x11111111);		/* 1: ok */
	seq[1] = submit_ok(_metadata, self->dev, &s);
	ASSERT_EQ(1ULL, (unsigned long long)seq[1]) TH_LOG("first seqno of a file");
	model_fill(b.model, 0, SZ_64K, 0x11111111);
	job_fill(&s, b.handle, 0, SZ_64K, 0x22222222);		/* 2: -EIO */
	s.flags = SGBUF_SUBMIT_OUT_FENCE;
	seq[2] = submit_ok(_metadata, self->dev, &s);
	out = s.out_fence_fd;
	ASSERT_LE(0, out);

	EXPECT_EQ(-EIO, wait_job(_metadata, self->dev, seq[2], NULL));
	EXPECT_EQ(POLLIN, poll_fd(out, POLLIN, 5000));
	EXPECT_EQ(-EIO, fence_status(out));
	EXPECT_EQ(0, wait_job(_metadata, self->dev, seq[1], NULL));
	job_checksum(&s, b.handle, 0, SZ_64K);			/* 3: ok */
	seq[3] = submit_ok(_metadata, self->dev, &s);
	EXPECT_EQ(0, wait_job(_metadata, self->dev, seq[3], &csum));
	EXPECT_EQ(crc32_buf(b.model, SZ_64K), csum) TH_LOG("the failed FILL wrote");
	tbuf_check(_metadata, &b, "after the failed FILL");
	close(out);

	job_fill(&s, b.handle, 10, 100, 0x33333333);		/* 4: ok */
	seq[4] = submit_ok(_metadata, self->dev, &s);
	EXPECT_EQ(0, wait_job(_metadata, self->dev, seq[4], NULL));
	model_fill(b.model, 10, 100, 0x33333333);

	/* A custom error, on a COPY. */
	ASSERT_EQ(0, eng_config_simple(self->dev, 64, 5, -ENODATA));
	job_copy(&s, b.handle, 0, b.handle, SZ_4K, SZ_4K);	/* 5: -ENODATA */
	s.flags = SGBUF_SUBMIT_OUT_FENCE;
	seq[5] = submit_ok(_metadata, self->dev, &s);
	out = s.out_fence_fd;
	ASSERT_LE(0, out);
	EXPECT_EQ(-ENODATA, wait_job(_metadata, self->dev, seq[5], NULL));
	EXPECT_EQ(-ENODATA, fence_status(out));
	close(out);
	tbuf_check(_metadata, &b, "after the failed COPY");

	/* A failed CHECKSUM, then normal jobs again. */
	ASSERT_EQ(0, eng_config_simple(self->dev, 64, 6, 0));
	job_checksum(&s, b.handle, 0, SZ_64K);			/* 6: -EIO */
	seq[6] = submit_ok(_metadata, self->dev, &s);
	EXPECT_EQ(-EIO, wait_job(_metadata, self->dev, seq[6], NULL));
	job_copy(&s, b.handle, 0, b.handle, SZ_4K, SZ_4K);	/* 7: ok */
	seq[7] = submit_ok(_metadata, self->dev, &s);
	memmove(b.model + SZ_4K, b.model, SZ_4K);
	job_checksum(&s, b.handle, 0, SZ_64K);			/* 8: ok */
	seq[8] = submit_ok(_metadata, self->dev, &s);
	EXPECT_EQ(0, wait_job(_metadata, self->dev, seq[7], NULL));
	st = wait_job(_metadata, self->dev, seq[8], &csum);
	EXPECT_EQ(0, st);
	EXPECT_EQ(crc32_buf(b.model, SZ_64K), csum);
	tbuf_check(_metadata, &b, "after recovery");
	tbuf_free(&b);
}

/*
 * A failed job's error does not spread to later jobs of the same engine,
 * whatever the timing: the engine's queue orders its own jobs, so it never
 * takes its own timeline's fences as dependencies (foreign fences' errors
 * do spread: in_fence_error). The failing job is held with an in-fence
 * until the others are queued:
 *  - a job on the same buffer, queued behind it, succeeds and sees the
 *    buffer unchanged;
 *  - so does a job on another buffer;
 *  - and a job submitted after the failure completed.
 */
TEST_F(engine, failed_job_error_propagation)
{
	struct sgbuf_submit s;
	__u64 fill, sum, other, later;
	__u32 csum = 1, id = 0;
	int sw, out, st;
	struct tbuf b, c;

	tbuf_new(_metadata, self->dev, self->dev, &b, SZ_64K, 29);
	tbuf_new(_metadata, self->dev, self->dev, &c, SZ_64K, 33);
	ASSERT_EQ(0, eng_config_simple(self->dev, 64, 1, 0));
	sw = sw_fence_create(self->dev, &id);
	ASSERT_LE(0, sw);

	job_fill(&s, b.handle, 0, SZ_64K, 0x22222222);	/* 1: -EIO */
	job_in_fence(&s, sw);
	fill = submit_ok(_metadata, self->dev, &s);
	job_checksum(&s, b.handle, 0, SZ_64K);		/* 2: reads b */
	s.flags = SGBUF_SUBMIT_OUT_FENCE;
	sum = submit_ok(_metadata, self->dev, &s);
	out = s.out_fence_fd;
	job_fill(&s, c.handle, 0, SZ_64K, 0x33333333);	/* 3: another buffer */
	other = submit_ok(_metadata, self->dev, &s);
	ASSERT_EQ(0, sw_fence_signal(self->dev, id, 0));

	EXPECT_EQ(-EIO, wait_job(_metadata, self->dev, fill, NULL));
	st = wait_job(_metadata, self->dev, sum, &csum);
	EXPECT_EQ(0, st) TH_LOG("CHECKSUM queued on the failed FILL's buffer: %d", st);
	EXPECT_EQ(crc32_buf(b.model, SZ_64K), csum);
	EXPECT_EQ(1, fence_status(out));
	st = wait_job(_metadata, self->dev, other, NULL);
	EXPECT_EQ(0, st) TH_LOG("FILL of another buffer, queued behind: %d (%s)",
				st, strerror(-st));
	model_fill(c.model, 0, SZ_64K, 0x33333333);
	tbuf_check(_metadata, &c, "the other buffer");
	tbuf_check(_metadata, &b, "the failed FILL's buffer");

	job_checksum(&s, b.handle, 0, SZ_64K);
	later = submit_ok(_metadata, self->dev, &s);
	EXPECT_EQ(0, wait_job(_metadata, self->dev, later, &csum));
	EXPECT_EQ(crc32_buf(b.model, SZ_64K), csum);
	close(out);
	close(sw);
	tbuf_free(&b);
	tbuf_free(&c);
}

/*
 * Output fields must be 0 on input (EINVAL otherwise), and a refused call
 * leaves nothing behind: SUBMIT's seqno and out_fence_fd, WAIT's status,
 * checksum and checksum64, IMPORT's handle and size, SW_FENCE_CREATE's
 * fence_fd and id.
 */
TEST_F(engine, output_fields_on_input)
{
	struct sgbuf_sw_fence f;
	struct sgbuf_import imp;
	struct sgbuf_submit s;
	struct sgbuf_wait w;
	struct eng_dbg dbg;
	struct tbuf b;
	int ret, fds;
	__u64 seq;

	tbuf_new(_metadata, self->dev, self->dev, &b, SZ_4K, 30);
	fds = count_open_fds();
	job_checksum(&s, b.handle, 0, SZ_4K);
	seq = submit_ok(_metadata, self->dev, &s);
	EXPECT_EQ(0, wait_job(_metadata, self->dev, seq, NULL));

	/* Resubmitting the same struct: seqno is still set from the last call. */
	ret = eng_submit(self->dev, &s);
	EXPECT_EQ(-EINVAL, ret) TH_LOG("SUBMIT with seqno %llu on input: %s",
				       (unsigned long long)seq, strerror(-ret));
	job_checksum(&s, b.handle, 0, SZ_4K);
	s.out_fence_fd = 12345;
	ret = eng_submit(self->dev, &s);
	EXPECT_EQ(-EINVAL, ret) TH_LOG("out_fence_fd 12345 without OUT_FENCE: %s",
				       strerror(-ret));
	job_checksum(&s, b.handle, 0, SZ_4K);
	s.flags = SGBUF_SUBMIT_OUT_FENCE;
	s.out_fence_fd = -1;
	ret = eng_submit(self->dev, &s);
	EXPECT_EQ(-EINVAL, ret) TH_LOG("out_fence_fd -1 with OUT_FENCE: %s", strerror(-ret));
	EXPECT_EQ(-1, s.out_fence_fd);
	if (!ret && s.out_fence_fd > 0)
		close(s.out_fence_fd);
	ASSERT_EQ(0, engine_self(&dbg));
	EXPECT_EQ(1ULL, dbg.submitted) TH_LOG("a refused SUBMIT queued a job");

	/* WAIT twice with the same struct: status and checksum are set. */
	memset(&w, 0, sizeof(w));
	w.seqno = seq;
	w.timeout_ns = WAIT_LONG_NS;
	ASSERT_EQ(0, ioctl(self->dev, SGBUF_IOCTL_WAIT, &w));
	ASSERT_NE(0U, w.checksum);
	EXPECT_EQ(0ULL, (unsigned long long)w.checksum64) TH_LOG("CHECKSUM set checksum64");
	ret = ioctl(self->dev, SGBUF_IOCTL_WAIT, &w) ? -errno : 0;
	EXPECT_EQ(-EINVAL, ret) TH_LOG("WAIT with checksum %#x on input: %s", w.checksum,
				       strerror(-ret));
	w.checksum = 0;
	w.status = -5;
	ret = ioctl(self->dev, SGBUF_IOCTL_WAIT, &w) ? -errno : 0;
	EXPECT_EQ(-EINVAL, ret) TH_LOG("WAIT with status -5 on input: %s", strerror(-ret));

	/* A CHECKSUM64 job sets checksum64, which must then be cleared too. */
	job_checksum64(&s, b.handle, 0, SZ_4K);
	seq = submit_ok(_metadata, self->dev, &s);
	memset(&w, 0, sizeof(w));
	w.seqno = seq;
	w.timeout_ns = WAIT_LONG_NS;
	ASSERT_EQ(0, ioctl(self->dev, SGBUF_IOCTL_WAIT, &w));
	ASSERT_NE(0ULL, (unsigned long long)w.checksum64);
	EXPECT_EQ((__u32)w.checksum64, w.checksum);
	w.checksum = 0;
	ret = ioctl(self->dev, SGBUF_IOCTL_WAIT, &w) ? -errno : 0;
	EXPECT_EQ(-EINVAL, ret) TH_LOG("WAIT with checksum64 %#llx on input: %s",
				       (unsigned long long)w.checksum64, strerror(-ret));
	w.checksum64 = 0;
	ret = ioctl(self->dev, SGBUF_IOCTL_WAIT, &w) ? -errno : 0;
	EXPECT_EQ(0, ret) TH_LOG("WAIT with every output field cleared: %s", strerror(-ret));

	/* IMPORT's handle and size. */
	memset(&imp, 0, sizeof(imp));
	imp.fd = b.fd;
	imp.handle = b.handle;
	ret = ioctl(self->dev, SGBUF_IOCTL_IMPORT, &imp) ? -errno : 0;
	EXPECT_EQ(-EINVAL, ret) TH_LOG("IMPORT with handle %u on input: %s", b.handle,
				       strerror(-ret));
	imp.handle = 0;
	imp.size = SZ_4K;
	ret = ioctl(self->dev, SGBUF_IOCTL_IMPORT, &imp) ? -errno : 0;
	EXPECT_EQ(-EINVAL, ret) TH_LOG("IMPORT with size on input: %s", strerror(-ret));
	EXPECT_EQ(1, bufinfo_attachments(b.fd));

	/* SW_FENCE_CREATE's fence_fd and id. */
	memset(&f, 0, sizeof(f));
	f.fence_fd = -1;
	ret = ioctl(self->dev, SGBUF_IOCTL_SW_FENCE_CREATE, &f) ? -errno : 0;
	EXPECT_EQ(-EINVAL, ret) TH_LOG("SW_FENCE_CREATE with fence_fd -1: %s", strerror(-ret));
	memset(&f, 0, sizeof(f));
	f.id = 1;
	ret = ioctl(self->dev, SGBUF_IOCTL_SW_FENCE_CREATE, &f) ? -errno : 0;
	EXPECT_EQ(-EINVAL, ret) TH_LOG("SW_FENCE_CREATE with id 1: %s", strerror(-ret));

	EXPECT_EQ(fds, count_open_fds());
	tbuf_free(&b);
}

/*
 * struct sgbuf_wait as a program built against ABI 2 declares it: ABI 3's
 * checksum64 is its reserved[0], which WAIT rejects when non-zero.
 */
struct sgbuf_wait_abi2 {
	__u64 seqno;
	__s64 timeout_ns;
	__s32 status;
	__u32 checksum;
	__u64 flags;
	__u64 reserved[2];
};

_Static_assert(sizeof(struct sgbuf_wait_abi2) == SGBUF_WAIT_SIZE_VER0,
	       "the ABI-2 struct sgbuf_wait has the size of ABI 3's");

/*
 * An ABI-2 program reuses its WAIT struct: it clears the output fields it
 * knows (status, checksum) and passes the rest back as WAIT left it. For
 * every job it can submit (FILL, COPY, CHECKSUM, and one that failed) the
 * kernel must leave both reserved words 0, so that the second WAIT works.
 */
TEST_F(engine, wait_abi2_struct_reuse)
{
	static const char * const what[] = {
		"CHECKSUM", "FILL", "COPY", "failed CHECKSUM",
	};
	struct sgbuf_wait_abi2 w;
	struct sgbuf_submit s;
	__u64 seq[4];
	struct tbuf b;
	unsigned int i;
	__u32 csum;
	int ret, st;

	tbuf_new(_metadata, self->dev, self->dev, &b, SZ_64K, 31);
	job_checksum(&s, b.handle, 0, SZ_64K);
	seq[0] = submit_ok(_metadata, self->dev, &s);
	job_fill(&s, b.handle, 0, SZ_4K, 0x5a5a5a5a);
	seq[1] = submit_ok(_metadata, self->dev, &s);
	job_copy(&s, b.handle, 0, b.handle, 8 * SZ_4K, SZ_4K);
	seq[2] = submit_ok(_metadata, self->dev, &s);
	ASSERT_EQ(0, eng_config_simple(self->dev, 64, seq[2] + 1, 0));
	job_checksum(&s, b.handle, 0, SZ_64K);
	seq[3] = submit_ok(_metadata, self->dev, &s);

	for (i = 0; i < ARRAY_SIZE(seq); i++) {
		memset(&w, 0, sizeof(w));
		w.seqno = seq[i];
		w.timeout_ns = WAIT_LONG_NS;
		ret = ioctl(self->dev, SGBUF_IOCTL_WAIT, &w) ? -errno : 0;
		ASSERT_EQ(0, ret) TH_LOG("%s: WAIT: %s", what[i], strerror(-ret));
		EXPECT_EQ(i == 3 ? -EIO : 0, w.status) TH_LOG("%s: status %d", what[i], w.status);
		EXPECT_EQ(0ULL, (unsigned long long)w.reserved[0])
			TH_LOG("%s: WAIT wrote %#llx into ABI 2's reserved[0]", what[i],
			       (unsigned long long)w.reserved[0]);
		EXPECT_EQ(0ULL, (unsigned long long)w.reserved[1]);
		EXPECT_EQ(i == 0 ? crc32_buf(b.model, SZ_64K) : 0U, w.checksum)
			TH_LOG("%s: checksum %#x", what[i], w.checksum);

		/* Reuse: clear what ABI 2 calls output, keep the rest. */
		st = w.status;
		csum = w.checksum;
		w.status = 0;
		w.checksum = 0;
		ret = ioctl(self->dev, SGBUF_IOCTL_WAIT, &w) ? -errno : 0;
		EXPECT_EQ(0, ret) TH_LOG("%s: second WAIT with the same struct: %s", what[i],
					 strerror(-ret));
		EXPECT_EQ(st, w.status);
		EXPECT_EQ(csum, w.checksum);
		EXPECT_EQ(0ULL, (unsigned long long)w.reserved[0]);
	}
	tbuf_free(&b);
}

/*
 * An in-fence that signals with an error: the job does not run and its
 * status (WAIT and out-fence) is that error ("the error of a fence it
 * waited for").
 */
TEST_F(engine, in_fence_error)
{
	struct sgbuf_submit s;
	int sw, out, st, e2, sw2;
	struct tbuf b;
	__u32 id = 0, id2 = 0;
	__u64 seq;
	long d;

	tbuf_new(_metadata, self->dev, self->dev, &b, SZ_64K, 6);

	/* Held, then signalled with -EPIPE. */
	sw = sw_fence_create(self->dev, &id);
	ASSERT_LE(0, sw);
	job_fill(&s, b.handle, 0, SZ_64K, 0x77777777);
	job_in_fence(&s, sw);
	s.flags |= SGBUF_SUBMIT_OUT_FENCE;
	seq = submit_ok(_metadata, self->dev, &s);
	out = s.out_fence_fd;
	ASSERT_EQ(0, sw_fence_signal(self->dev, id, -EPIPE));
	st = wait_job(_metadata, self->dev, seq, NULL);
	EXPECT_EQ(-EPIPE, st) TH_LOG("in-fence signalled with -EPIPE: job status %d (%s)",
				     st, strerror(-st));
	EXPECT_EQ(st, fence_status(out));
	ASSERT_EQ(0, dmabuf_sync(b.fd, SYNC_R_START));
	d = first_diff(b.map, b.model, SZ_64K);
	ASSERT_EQ(0, dmabuf_sync(b.fd, SYNC_R_END));
	EXPECT_EQ(-1, d) TH_LOG("the job ran although its in-fence failed");
	close(out);
	close(sw);

	/* Already signalled with an error when submitted. */
	sw = sw_fence_create(self->dev, &id);
	ASSERT_LE(0, sw);
	ASSERT_EQ(0, sw_fence_signal(self->dev, id, -ENOLINK));
	job_checksum(&s, b.handle, 0, SZ_4K);
	job_in_fence(&s, sw);
	seq = submit_ok(_metadata, self->dev, &s);
	st = wait_job(_metadata, self->dev, seq, NULL);
	EXPECT_EQ(-ENOLINK, st) TH_LOG("in-fence already failed with -ENOLINK: job status %d (%s)",
				       st, strerror(-st));
	close(sw);

	/* The in-fence's engine is closed: its software fence is cancelled. */
	e2 = sgbuf_open();
	ASSERT_LE(0, e2);
	sw2 = sw_fence_create(e2, &id2);
	ASSERT_LE(0, sw2);
	job_checksum(&s, b.handle, 0, SZ_4K);
	job_in_fence(&s, sw2);
	seq = submit_ok(_metadata, self->dev, &s);
	EXPECT_EQ(-ETIME, eng_wait(self->dev, seq, MS_NS(100), NULL, NULL));
	EXPECT_EQ(0, close(e2));
	EXPECT_EQ(-ECANCELED, fence_status(sw2));
	st = wait_job(_metadata, self->dev, seq, NULL);
	EXPECT_EQ(-ECANCELED, st)
		TH_LOG("in-fence cancelled by closing its engine: job status %d (%s)",
		       st, strerror(-st));
	close(sw2);

	/* The engine goes on. */
	job_fill(&s, b.handle, 0, SZ_4K, 0x01010101);
	seq = submit_ok(_metadata, self->dev, &s);
	EXPECT_EQ(0, wait_job(_metadata, self->dev, seq, NULL));
	tbuf_free(&b);
}

/* Software fence id of a file that is gone (-ENOENT) and bad signals. */
TEST_F(engine, sw_fence_bad_input)
{
	struct sgbuf_sw_signal sig;
	struct sgbuf_sw_fence f;
	int fd, e2, fds;
	__u32 id = 0;

	fds = count_open_fds();
	memset(&f, 0, sizeof(f));
	f.flags = 1;
	EXPECT_EQ(-EINVAL, ioctl(self->dev, SGBUF_IOCTL_SW_FENCE_CREATE, &f) ? -errno : 0);
	memset(&f, 0, sizeof(f));
	f.flags = 1ULL << 63;
	EXPECT_EQ(-EINVAL, ioctl(self->dev, SGBUF_IOCTL_SW_FENCE_CREATE, &f) ? -errno : 0);
	memset(&f, 0, sizeof(f));
	f.reserved[0] = 1;
	EXPECT_EQ(-EINVAL, ioctl(self->dev, SGBUF_IOCTL_SW_FENCE_CREATE, &f) ? -errno : 0);
	memset(&f, 0, sizeof(f));
	f.reserved[1] = 1;
	EXPECT_EQ(-EINVAL, ioctl(self->dev, SGBUF_IOCTL_SW_FENCE_CREATE, &f) ? -errno : 0);
	EXPECT_EQ(-EFAULT, ioctl(self->dev, SGBUF_IOCTL_SW_FENCE_CREATE, NULL) ? -errno : 0);
	EXPECT_EQ(fds, count_open_fds());

	fd = sw_fence_create(self->dev, &id);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-ENOENT, sw_fence_signal(self->dev, id + 1000, 0));
	EXPECT_EQ(-ENOENT, sw_fence_signal(self->dev, 0, 0));
	EXPECT_EQ(-EINVAL, sw_fence_signal(self->dev, id, 1));
	EXPECT_EQ(-EINVAL, sw_fence_signal(self->dev, id, INT32_MAX));
	memset(&sig, 0, sizeof(sig));
	sig.id = id;
	sig.flags = 1;
	EXPECT_EQ(-EINVAL, ioctl(self->dev, SGBUF_IOCTL_SW_FENCE_SIGNAL, &sig) ? -errno : 0);
	sig.flags = 0;
	sig.reserved = 1;
	EXPECT_EQ(-EINVAL, ioctl(self->dev, SGBUF_IOCTL_SW_FENCE_SIGNAL, &sig) ? -errno : 0);
	EXPECT_EQ(-EFAULT, ioctl(self->dev, SGBUF_IOCTL_SW_FENCE_SIGNAL, NULL) ? -errno : 0);
	/* None of the failed calls signalled it. */
	EXPECT_EQ(0, fence_status(fd));

	/* Ids are per file. */
	e2 = sgbuf_open();
	ASSERT_LE(0, e2);
	EXPECT_EQ(-ENOENT, sw_fence_signal(e2, id, 0));
	EXPECT_EQ(0, fence_status(fd));
	EXPECT_EQ(0, close(e2));

	EXPECT_EQ(0, sw_fence_signal(self->dev, id, 0));
	EXPECT_EQ(-ENOENT, sw_fence_signal(self->dev, id, 0)) TH_LOG("signalled twice");
	EXPECT_EQ(-ENOENT, sw_fence_signal(self->dev, id, -EIO));
	EXPECT_EQ(1, fence_status(fd));
	close(fd);
	EXPECT_EQ(fds, count_open_fds());
}

/* At most 1024 unsignalled software fences per file (their fds closed). */
TEST_F(engine, sw_fence_limit)
{
	__u32 ids[1024], id = 0;
	int e, i, fd, ret;

	e = sgbuf_open();
	ASSERT_LE(0, e);
	for (i = 0; i < 1024; i++) {
		fd = sw_fence_create(e, &ids[i]);
		ASSERT_LE(0, fd) TH_LOG("fence %d: %s", i + 1, strerror(-fd));
		close(fd);	/* the engine keeps the fence */
	}
	ret = sw_fence_create(e, &id);
	EXPECT_EQ(-EMFILE, ret) TH_LOG("fence 1025: %d", ret);
	if (ret >= 0)
		close(ret);
	/* Signalled fences do not count. */
	ASSERT_EQ(0, sw_fence_signal(e, ids[7], 0));
	fd = sw_fence_create(e, &id);
	EXPECT_LE(0, fd) TH_LOG("after a signal: %s", strerror(-fd));
	if (fd >= 0)
		EXPECT_EQ(0, fence_status(fd));
	/* Another file has its own budget. */
	ret = sw_fence_create(self->dev, &id);
	EXPECT_LE(0, ret) TH_LOG("on another file: %s", strerror(-ret));
	if (ret >= 0)
		close(ret);
	/* Closing the engine cancels all 1024. */
	EXPECT_EQ(0, close(e));
	if (fd >= 0) {
		EXPECT_EQ(-ECANCELED, fence_status(fd));
		close(fd);
	}
	EXPECT_EQ(self->fds_base, count_open_fds());
}

/*
 * An error that is not an errno (below -MAX_ERRNO) must be refused:
 * dma_fence_set_error() WARNs on it.
 */
TEST_F(engine, sw_fence_error_out_of_range)
{
	int fd;
	__u32 id = 0;

	fd = sw_fence_create(self->dev, &id);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-EINVAL, sw_fence_signal(self->dev, id, -4096));
	EXPECT_EQ(-EINVAL, sw_fence_signal(self->dev, id, INT32_MIN));
	EXPECT_EQ(0, fence_status(fd));
	EXPECT_EQ(0, sw_fence_signal(self->dev, id, -4095));
	EXPECT_EQ(-4095, fence_status(fd));
	close(fd);
}

/* ----------------------------------------------------- queue and config */

TEST_F(engine, queue_full)
{
	struct sgbuf_submit s;
	struct sgbuf_engine_config c;
	__u64 seq1, seq2, seq3;
	struct eng_dbg e;
	int sw, fds, ret;
	struct tbuf b;
	__u32 id = 0;

	tbuf_new(_metadata, self->dev, self->dev, &b, SZ_64K, 8);
	ASSERT_EQ(0, eng_config_simple(self->dev, 2, 0, 0));
	/* A rejected config (depth 1 with pad set) changes nothing. */
	memset(&c, 0, sizeof(c));
	c.queue_depth = 1;
	c.pad = 1;
	EXPECT_EQ(-EINVAL, eng_config(self->dev, &c));

	sw = sw_fence_create(self->dev, &id);
	ASSERT_LE(0, sw);
	job_fill(&s, b.handle, 0, SZ_4K, 0x1);
	job_in_fence(&s, sw);
	seq1 = submit_ok(_metadata, self->dev, &s);
	job_fill(&s, b.handle, SZ_4K, SZ_4K, 0x2);
	seq2 = submit_ok(_metadata, self->dev, &s);

	fds = count_open_fds();
	job_fill(&s, b.handle, 2 * SZ_4K, SZ_4K, 0x3);
	s.flags = SGBUF_SUBMIT_OUT_FENCE;
	ret = eng_submit(self->dev, &s);
	EXPECT_EQ(-EBUSY, ret) TH_LOG("third job with queue_depth 2: %s", strerror(-ret));
	EXPECT_EQ(0, s.out_fence_fd);
	EXPECT_EQ(fds, count_open_fds()) TH_LOG("EBUSY leaked an fd");
	job_checksum(&s, b.handle, 0, SZ_4K);
	EXPECT_EQ(-EBUSY, eng_submit(self->dev, &s));
	ASSERT_EQ(0, engine_self(&e));
	EXPECT_EQ(2ULL, e.submitted);
	EXPECT_EQ(2ULL, e.in_flight);

	ASSERT_EQ(0, sw_fence_signal(self->dev, id, 0));
	EXPECT_EQ(0, wait_job(_metadata, self->dev, seq1, NULL));
	EXPECT_EQ(0, wait_job(_metadata, self->dev, seq2, NULL));
	job_fill(&s, b.handle, 2 * SZ_4K, SZ_4K, 0x3);
	ret = eng_submit(self->dev, &s);
	ASSERT_EQ(0, ret) TH_LOG("SUBMIT after the queue drained: %s", strerror(-ret));
	seq3 = s.seqno;
	EXPECT_EQ(seq2 + 1, seq3) TH_LOG("a refused SUBMIT used a seqno");
	EXPECT_EQ(0, wait_job(_metadata, self->dev, seq3, NULL));
	model_fill(b.model, 0, SZ_4K, 0x1);
	model_fill(b.model, SZ_4K, SZ_4K, 0x2);
	model_fill(b.model, 2 * SZ_4K, SZ_4K, 0x3);
	tbuf_check(_metadata, &b, "three FILLs");

	/* Depth 1: one held job fills the queue. */
	ASSERT_EQ(0, eng_config_simple(self->dev, 1, 0, 0));
	close(sw);
	sw = sw_fence_create(self->dev, &id);
	ASSERT_LE(0, sw);
	job_fill(&s, b.handle, 0, SZ_4K, 0x4);
	job_in_fence(&s, sw);
	seq1 = submit_ok(_metadata, self->dev, &s);
	job_fill(&s, b.handle, 0, SZ_4K, 0x5);
	EXPECT_EQ(-EBUSY, eng_submit(self->dev, &s));
	ASSERT_EQ(0, sw_fence_signal(self->dev, id, 0));
	EXPECT_EQ(0, wait_job(_metadata, self->dev, seq1, NULL));
	EXPECT_EQ(0, eng_submit(self->dev, &s));
	EXPECT_EQ(0, wait_job(_metadata, self->dev, s.seqno, NULL));
	close(sw);
	tbuf_free(&b);
}

TEST_F(engine, config_validation)
{
	struct {
		struct sgbuf_engine_config c;
		__u64 tail;
	} big;
	struct sgbuf_engine_config c;
	unsigned int i;
	int ret;

	const struct { const char *what; int field; long long val; } bad[] = {
		{ "queue_depth 0", 0, 0 },
		{ "queue_depth 257", 0, SGBUF_MAX_QUEUE_DEPTH + 1 },
		{ "queue_depth ~0", 0, 0xffffffffLL },
		{ "flags 1", 1, 1 },
		{ "flags 1<<31", 1, 1LL << 31 },
		{ "pad 1", 2, 1 },
		{ "reserved[0]", 3, 1 },
		{ "reserved[1]", 4, 1 },
		{ "fail_error 1", 5, 1 },
		{ "fail_error EIO", 5, EIO },
		{ "fail_error INT_MAX", 5, INT32_MAX },
		{ "latency_ns 10 s + 1", 6, 10LL * 1000 * 1000 * 1000 + 1 },
		{ "latency_ns ~0", 6, -1 },
	};

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		memset(&c, 0, sizeof(c));
		c.queue_depth = 64;
		switch (bad[i].field) {
		case 0:
			c.queue_depth = (__u32)bad[i].val;
			break;
		case 1:
			c.flags = (__u32)bad[i].val;
			break;
		case 2:
			c.pad = (__u32)bad[i].val;
			break;
		case 3:
			c.reserved[0] = bad[i].val;
			break;
		case 4:
			c.reserved[1] = bad[i].val;
			break;
		case 5:
			c.fail_error = (__s32)bad[i].val;
			c.fail_seqno = 1;
			break;
		case 6:
			c.latency_ns = (__u64)bad[i].val;
			break;
		}
		ret = eng_config(self->dev, &c);
		EXPECT_EQ(-EINVAL, ret) TH_LOG("%s: %s", bad[i].what, strerror(-ret));
	}

	memset(&c, 0, sizeof(c));
	c.queue_depth = 1;
	EXPECT_EQ(0, eng_config(self->dev, &c));
	c.queue_depth = SGBUF_MAX_QUEUE_DEPTH;
	EXPECT_EQ(0, eng_config(self->dev, &c));
	c.fail_seqno = 1000;
	c.fail_error = -ENODATA;
	EXPECT_EQ(0, eng_config(self->dev, &c));
	c.fail_error = 0;
	c.bandwidth = ~0ULL;
	c.latency_ns = 10LL * 1000 * 1000 * 1000;
	EXPECT_EQ(0, eng_config(self->dev, &c)) TH_LOG("latency_ns 10 s");
	c.latency_ns = 0;
	EXPECT_EQ(0, eng_config(self->dev, &c));
	EXPECT_EQ(-EFAULT, ioctl(self->dev, SGBUF_IOCTL_ENGINE_CONFIG, NULL) ? -errno : 0);

	/* Extensible struct: zero tail accepted, non-zero tail E2BIG, short EINVAL. */
	memset(&big, 0, sizeof(big));
	big.c.queue_depth = 64;
	ret = ioctl(self->dev, IOC_SZ(_IOC_WRITE, 0x14, sizeof(big)), &big) ? -errno : 0;
	EXPECT_EQ(0, ret) TH_LOG("larger struct, zero tail: %s", strerror(-ret));
	big.tail = 1;
	ret = ioctl(self->dev, IOC_SZ(_IOC_WRITE, 0x14, sizeof(big)), &big) ? -errno : 0;
	EXPECT_EQ(-E2BIG, ret) TH_LOG("larger struct, non-zero tail: %s", strerror(-ret));
	ret = ioctl(self->dev, IOC_SZ(_IOC_WRITE, 0x14, SGBUF_ENGINE_CONFIG_SIZE_VER0 - 8),
		    &big) ? -errno : 0;
	EXPECT_EQ(-EINVAL, ret) TH_LOG("smaller struct: %s", strerror(-ret));
}

/* Lower bounds only: an emulated guest is slow, never fast. */
TEST_F(engine, bandwidth_and_latency)
{
	struct sgbuf_engine_config c;
	struct sgbuf_submit s;
	long long t0, dt;
	struct tbuf b;
	__u64 seq;

	tbuf_new(_metadata, self->dev, self->dev, &b, SZ_256K, 10);

	memset(&c, 0, sizeof(c));
	c.queue_depth = 64;
	c.latency_ns = MS_NS(300);
	ASSERT_EQ(0, eng_config(self->dev, &c));
	t0 = now_ns();
	job_fill(&s, b.handle, 0, SZ_4K, 0xabcdef01);
	seq = submit_ok(_metadata, self->dev, &s);
	EXPECT_EQ(-ETIME, eng_wait(self->dev, seq, 0, NULL, NULL))
		TH_LOG("done at once with latency_ns 300 ms");
	EXPECT_EQ(0, wait_job(_metadata, self->dev, seq, NULL));
	dt = now_ns() - t0;
	EXPECT_LE(MS_NS(300), dt) TH_LOG("latency 300 ms, job took %lld ms", dt / 1000000);

	c.latency_ns = 0;
	c.bandwidth = SZ_1M;	/* 256 KiB take 250 ms */
	ASSERT_EQ(0, eng_config(self->dev, &c));
	t0 = now_ns();
	job_fill(&s, b.handle, 0, SZ_256K, 0x10fedcba);
	seq = submit_ok(_metadata, self->dev, &s);
	EXPECT_EQ(0, wait_job(_metadata, self->dev, seq, NULL));
	dt = now_ns() - t0;
	EXPECT_LE(MS_NS(225), dt) TH_LOG("1 MiB/s, 256 KiB took %lld ms", dt / 1000000);

	c.bandwidth = 0;
	ASSERT_EQ(0, eng_config(self->dev, &c));
	job_fill(&s, b.handle, 0, SZ_256K, 0x5a5a5a5a);
	seq = submit_ok(_metadata, self->dev, &s);
	EXPECT_EQ(0, wait_job(_metadata, self->dev, seq, NULL));
	model_fill(b.model, 0, SZ_256K, 0x5a5a5a5a);
	tbuf_check(_metadata, &b, "after the timing knobs");
	tbuf_free(&b);
}

static void on_alarm(int sig)
{
	(void)sig;
}

TEST_F(engine, wait_interrupted)
{
	struct itimerval it = { .it_value = { .tv_usec = 200 * 1000 } };
	struct sigaction sa;
	struct sgbuf_submit s;
	struct tbuf b;
	long long t0;
	int sw, ret;
	__u64 seq;
	__u32 id = 0;

	tbuf_new(_metadata, self->dev, self->dev, &b, SZ_4K, 11);
	sw = sw_fence_create(self->dev, &id);
	ASSERT_LE(0, sw);
	job_fill(&s, b.handle, 0, SZ_4K, 1);
	job_in_fence(&s, sw);
	seq = submit_ok(_metadata, self->dev, &s);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;	/* no SA_RESTART */
	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));
	ASSERT_EQ(0, setitimer(ITIMER_REAL, &it, NULL));
	t0 = now_ns();
	ret = eng_wait(self->dev, seq, MS_NS(5000), NULL, NULL);
	EXPECT_EQ(-EINTR, ret) TH_LOG("WAIT with a signal pending: %s after %lld ms",
				      strerror(-ret), (now_ns() - t0) / 1000000);
	/* Polling with timeout 0 and a short timeout give ETIME. */
	EXPECT_EQ(-ETIME, eng_wait(self->dev, seq, 0, NULL, NULL));
	t0 = now_ns();
	EXPECT_EQ(-ETIME, eng_wait(self->dev, seq, MS_NS(100), NULL, NULL));
	EXPECT_LE(MS_NS(100), now_ns() - t0);

	ASSERT_EQ(0, sw_fence_signal(self->dev, id, 0));
	/* Negative timeout: wait as long as it takes. */
	ret = eng_wait(self->dev, seq, -1, NULL, NULL);
	EXPECT_EQ(0, ret) TH_LOG("%s", strerror(-ret));
	close(sw);
	tbuf_free(&b);
}

/* Only the last 256 results are kept. */
TEST_F_TIMEOUT(engine, wait_result_window, 90)
{
	const unsigned int n = 300;
	struct sgbuf_submit s;
	struct tbuf b;
	unsigned int i;
	int st, ret;

	tbuf_new(_metadata, self->dev, self->dev, &b, SZ_4K, 12);
	for (i = 1; i <= n; i++) {
		job_fill(&s, b.handle, 0, SZ_4K, i);
		ASSERT_EQ((__u64)i, submit_ok(_metadata, self->dev, &s));
		if (i % 50 == 0)
			ASSERT_EQ(0, wait_job(_metadata, self->dev, i, NULL));
	}
	st = 1;
	EXPECT_EQ(0, eng_wait(self->dev, n, 0, &st, NULL));
	EXPECT_EQ(0, st);
	st = 1;
	ret = eng_wait(self->dev, n - 255, 0, &st, NULL);
	EXPECT_EQ(0, ret) TH_LOG("seqno %u (256th newest): %s", n - 255, strerror(-ret));
	EXPECT_EQ(0, st);
	ret = eng_wait(self->dev, n - 256, 0, NULL, NULL);
	EXPECT_EQ(-ENOENT, ret) TH_LOG("seqno %u (257th newest): %s", n - 256, strerror(-ret));
	EXPECT_EQ(-ENOENT, eng_wait(self->dev, 1, 0, NULL, NULL));
	EXPECT_EQ(-EINVAL, eng_wait(self->dev, n + 1, 0, NULL, NULL));
	model_fill(b.model, 0, SZ_4K, n);
	tbuf_check(_metadata, &b, "last FILL");
	tbuf_free(&b);
}

/* ------------------------------------------------------------ lifetimes */

/* (a) Closing an engine cancels its held jobs and its software fences. */
TEST_F(engine, close_with_jobs_in_flight)
{
	struct eng_dbg dbg[4];
	struct sgbuf_submit s;
	int e, sw, out1, out2, out1_dup, n, base;
	struct tbuf a, b;
	long long t0;
	__u32 id = 0;

	/* Engines of this process before: the fixture's file only allocates. */
	base = engines_of_pid(getpid(), dbg, ARRAY_SIZE(dbg));
	ASSERT_LE(0, base);
	e = sgbuf_open();
	ASSERT_LE(0, e);
	tbuf_new(_metadata, self->dev, e, &a, SZ_64K, 13);
	tbuf_new(_metadata, self->dev, e, &b, SZ_64K, 14);
	sw = sw_fence_create(e, &id);
	ASSERT_LE(0, sw);

	job_fill(&s, a.handle, 0, SZ_64K, 0xdddddddd);
	job_in_fence(&s, sw);
	s.flags |= SGBUF_SUBMIT_OUT_FENCE;
	submit_ok(_metadata, e, &s);
	out1 = s.out_fence_fd;
	out1_dup = dup(out1);
	ASSERT_LE(0, out1_dup);
	job_copy(&s, a.handle, 0, b.handle, 0, SZ_64K);
	s.flags = SGBUF_SUBMIT_OUT_FENCE;
	submit_ok(_metadata, e, &s);
	out2 = s.out_fence_fd;
	ASSERT_LE(0, out2);
	EXPECT_EQ(0, poll_fd(a.fd, POLLIN, 0));
	EXPECT_EQ(0, poll_fd(b.fd, POLLIN, 0));
	n = engines_of_pid(getpid(), dbg, ARRAY_SIZE(dbg));
	EXPECT_EQ(base + 1, n);

	t0 = now_ns();
	EXPECT_EQ(0, close(e));
	close(out1);	/* the dup keeps the fence */
	EXPECT_EQ(POLLIN, poll_fd(out1_dup, POLLIN, 5000)) TH_LOG("out-fence not signalled");
	EXPECT_EQ(-ECANCELED, fence_status(out1_dup));
	EXPECT_EQ(POLLIN, poll_fd(out2, POLLIN, 5000));
	EXPECT_EQ(-ECANCELED, fence_status(out2));
	EXPECT_EQ(-ECANCELED, fence_status(sw)) TH_LOG("software fence not cancelled");
	EXPECT_EQ(POLLIN, poll_fd(a.fd, POLLIN, 5000));
	EXPECT_EQ(POLLIN, poll_fd(b.fd, POLLIN, 5000));
	EXPECT_EQ(POLLOUT, poll_fd(b.fd, POLLOUT, 5000));
	TH_LOG("fences signalled %lld ms after close", (now_ns() - t0) / 1000000);
	n = engines_of_pid(getpid(), dbg, ARRAY_SIZE(dbg));
	EXPECT_EQ(base, n) TH_LOG("the closed engine is still listed");

	/* Nothing ran; the imports are gone (no attachment left). */
	tbuf_check(_metadata, &a, "A after cancel");
	tbuf_check(_metadata, &b, "B after cancel");
	EXPECT_EQ(0, bufinfo_attachments(a.fd));
	EXPECT_EQ(0, bufinfo_attachments(b.fd));
	close(out1_dup);
	close(out2);
	close(sw);
	tbuf_free(&a);
	tbuf_free(&b);
	EXPECT_EQ(self->bufinfo_base, bufinfo_count());
}

/* Closing waits for the running job, and cancels the queued one. */
TEST_F(engine, close_waits_for_running_job)
{
	struct sgbuf_engine_config c;
	struct sgbuf_submit s;
	struct tbuf a, b;
	int e, out1, out2;

	e = sgbuf_open();
	ASSERT_LE(0, e);
	tbuf_new(_metadata, self->dev, e, &a, SZ_64K, 15);
	tbuf_new(_metadata, self->dev, e, &b, SZ_64K, 16);
	memset(&c, 0, sizeof(c));
	c.queue_depth = 64;
	c.latency_ns = MS_NS(1000);
	ASSERT_EQ(0, eng_config(e, &c));

	job_fill(&s, a.handle, 0, SZ_64K, 0x61616161);
	s.flags = SGBUF_SUBMIT_OUT_FENCE;
	submit_ok(_metadata, e, &s);
	out1 = s.out_fence_fd;
	job_fill(&s, b.handle, 0, SZ_64K, 0x62626262);
	s.flags = SGBUF_SUBMIT_OUT_FENCE;
	submit_ok(_metadata, e, &s);
	out2 = s.out_fence_fd;
	usleep(300 * 1000);	/* job 1 is running (1 s latency) */
	EXPECT_EQ(0, close(e));

	EXPECT_EQ(POLLIN, poll_fd(out1, POLLIN, 5000));
	EXPECT_EQ(1, fence_status(out1)) TH_LOG("the running job did not complete");
	EXPECT_EQ(POLLIN, poll_fd(out2, POLLIN, 5000));
	EXPECT_EQ(-ECANCELED, fence_status(out2));
	model_fill(a.model, 0, SZ_64K, 0x61616161);
	tbuf_check(_metadata, &a, "the running job's FILL");
	tbuf_check(_metadata, &b, "the cancelled job's FILL");
	close(out1);
	close(out2);
	tbuf_free(&a);
	tbuf_free(&b);
}

/* (b) A process with a held job on our buffer is killed. */
TEST_F(engine, killed_process_releases_buffer)
{
	struct eng_dbg dbg;
	int pipefd[2], status;
	struct tbuf b;
	long long t0;
	pid_t pid;
	char c = 0;

	tbuf_new(_metadata, self->dev, -1, &b, SZ_64K, 17);
	ASSERT_EQ(0, pipe2(pipefd, O_CLOEXEC));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct sgbuf_submit s;
		__u32 h = 0, id = 0;
		int e, sw;

		e = sgbuf_open();
		if (e < 0 || eng_import(e, b.fd, 0, &h, NULL))
			_exit(1);
		sw = sw_fence_create(e, &id);
		if (sw < 0)
			_exit(2);
		job_fill(&s, h, 0, SZ_64K, 0xeeeeeeee);
		job_in_fence(&s, sw);
		if (eng_submit(e, &s))
			_exit(3);
		if (write(pipefd[1], "r", 1) != 1)
			_exit(4);
		for (;;)
			pause();
	}
	ASSERT_EQ(1, read(pipefd[0], &c, 1)) TH_LOG("child failed to set up");
	ASSERT_EQ('r', c);
	EXPECT_EQ(1, engines_of_pid(pid, &dbg, 1));
	EXPECT_EQ(0, poll_fd(b.fd, POLLIN, 0)) TH_LOG("child's held job not in the resv");

	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	t0 = now_ns();
	EXPECT_EQ(POLLIN, poll_fd(b.fd, POLLIN, 5000))
		TH_LOG("buffer still busy 5 s after its user was killed");
	TH_LOG("buffer readable %lld ms after the kill", (now_ns() - t0) / 1000000);
	EXPECT_EQ(0, engines_of_pid(pid, &dbg, 1));
	EXPECT_EQ(0, bufinfo_attachments(b.fd));
	tbuf_check(_metadata, &b, "buffer of the killed job");
	EXPECT_EQ(self->bufinfo_base + 1, bufinfo_count());
	close(pipefd[0]);
	close(pipefd[1]);
	tbuf_free(&b);
	EXPECT_EQ(self->bufinfo_base, bufinfo_count());
}

/* (c) The exporter's fd is closed right after IMPORT. */
TEST_F(engine, import_outlives_fd)
{
	struct sgbuf_submit s;
	struct sgbuf_info info;
	__u32 h = 0, csum = 0;
	uint8_t *model;
	struct tbuf d;
	__u64 seq;
	int fd;

	model = malloc(SZ_64K);
	ASSERT_NE(NULL, model);
	fd = sgbuf_alloc_rw(self->dev, SZ_64K);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, eng_import(self->dev, fd, 0, &h, NULL));
	ASSERT_EQ(0, close(fd));
	EXPECT_EQ(self->bufinfo_base + 1, bufinfo_count());
	ASSERT_EQ(0, sgbuf_get_info(self->dev, &info));
	EXPECT_EQ(self->info_base.live_buffers + 1, info.live_buffers);

	/* Fresh buffers are zeroed. */
	memset(model, 0, SZ_64K);
	job_checksum(&s, h, 0, SZ_64K);
	seq = submit_ok(_metadata, self->dev, &s);
	EXPECT_EQ(0, wait_job(_metadata, self->dev, seq, &csum));
	EXPECT_EQ(crc32_buf(model, SZ_64K), csum);

	job_fill(&s, h, 5, SZ_64K - 10, 0x9abcdef0);
	seq = submit_ok(_metadata, self->dev, &s);
	EXPECT_EQ(0, wait_job(_metadata, self->dev, seq, NULL));
	model_fill(model, 5, SZ_64K - 10, 0x9abcdef0);
	job_checksum(&s, h, 0, SZ_64K);
	seq = submit_ok(_metadata, self->dev, &s);
	EXPECT_EQ(0, wait_job(_metadata, self->dev, seq, &csum));
	EXPECT_EQ(crc32_buf(model, SZ_64K), csum);

	/* And out to a buffer we can look at. */
	tbuf_new(_metadata, self->dev, self->dev, &d, SZ_64K, 18);
	job_copy(&s, h, 0, d.handle, 0, SZ_64K);
	seq = submit_ok(_metadata, self->dev, &s);
	EXPECT_EQ(0, wait_job(_metadata, self->dev, seq, NULL));
	memcpy(d.model, model, SZ_64K);
	tbuf_check(_metadata, &d, "COPY from the fd-less import");
	EXPECT_EQ(0, eng_unimport(self->dev, d.handle));
	tbuf_free(&d);

	EXPECT_EQ(self->bufinfo_base + 1, bufinfo_count());
	ASSERT_EQ(0, eng_unimport(self->dev, h));
	EXPECT_EQ(self->bufinfo_base, bufinfo_count()) TH_LOG("UNIMPORT did not free the buffer");
	ASSERT_EQ(0, sgbuf_get_info(self->dev, &info));
	EXPECT_EQ(self->info_base.live_buffers, info.live_buffers);
	job_checksum(&s, h, 0, SZ_4K);
	EXPECT_EQ(-ENOENT, eng_submit(self->dev, &s));
	free(model);
}

/* (d) UNIMPORT while a job using the handles is held. */
TEST_F(engine, unimport_while_job_pending)
{
	struct sgbuf_submit s;
	int sw, out, n;
	struct tbuf a, b;
	__u64 seq;
	__u32 id = 0;

	tbuf_new(_metadata, self->dev, self->dev, &a, SZ_64K + SZ_4K, 19);
	tbuf_new(_metadata, self->dev, self->dev, &b, SZ_64K + SZ_4K, 20);
	sw = sw_fence_create(self->dev, &id);
	ASSERT_LE(0, sw);
	job_copy(&s, a.handle, 3, b.handle, 4097, SZ_64K - 7);
	job_in_fence(&s, sw);
	s.flags |= SGBUF_SUBMIT_OUT_FENCE;
	seq = submit_ok(_metadata, self->dev, &s);
	out = s.out_fence_fd;
	memcpy(b.model + 4097, a.model + 3, SZ_64K - 7);

	EXPECT_EQ(0, eng_unimport(self->dev, a.handle));
	EXPECT_EQ(0, eng_unimport(self->dev, b.handle));
	EXPECT_EQ(-ENOENT, eng_unimport(self->dev, a.handle));
	job_checksum(&s, a.handle, 0, SZ_4K);
	EXPECT_EQ(-ENOENT, eng_submit(self->dev, &s)) TH_LOG("handle usable after UNIMPORT");

	/* The source's only reference is now the pending job. */
	munmap(a.map, a.size);
	a.map = NULL;
	ASSERT_EQ(0, close(a.fd));
	a.fd = -1;
	EXPECT_EQ(self->bufinfo_base + 2, bufinfo_count())
		TH_LOG("source freed while a job still uses it");

	ASSERT_EQ(0, sw_fence_signal(self->dev, id, 0));
	EXPECT_EQ(0, wait_job(_metadata, self->dev, seq, NULL));
	EXPECT_EQ(1, fence_status(out));
	tbuf_check(_metadata, &b, "COPY after UNIMPORT");
	n = bufinfo_settle(self->bufinfo_base + 1);
	EXPECT_EQ(self->bufinfo_base + 1, n) TH_LOG("source not freed after the job");
	EXPECT_EQ(0, bufinfo_attachments(b.fd));
	close(out);
	close(sw);
	tbuf_free(&a);
	tbuf_free(&b);
}

/* --------------------------------------------------------------- DMA32 */

/* Names of the devices attached to the sgbuf buffer behind @fd. */
static int bufinfo_attached_names(int fd, char names[][64], int max)
{
	char line[512];
	bool in_list = false;
	int n = 0, ret;
	FILE *f;

	ret = bufinfo_open_at(fd, &f);
	if (ret)
		return ret;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "Total ", 6))
			break;
		if (strstr(line, "Attached Devices:")) {
			in_list = true;
			continue;
		}
		if (in_list && line[0] == '\t' && n < max) {
			line[strcspn(line, "\n")] = '\0';
			snprintf(names[n++], 64, "%.63s", line + 1);
		}
	}
	fclose(f);
	return n;
}

TEST_F(engine, dma32_import)
{
	char n64[2][64], n32[2][64];
	const struct eng_dbg_import *imp;
	struct sgbuf_submit s;
	struct eng_dbg dbg;
	struct tbuf a, b;
	__u32 h32 = 0, csum = 0;
	__u64 seq, size = 0, sum = 0;
	int ret;

	/* a: DMA32 import; b: normal import. */
	tbuf_new(_metadata, self->dev, -1, &a, BIG_SIZE, 21);
	ret = eng_import(self->dev, a.fd, SGBUF_IMPORT_DMA32, &h32, &size);
	ASSERT_EQ(0, ret) TH_LOG("IMPORT DMA32: %s", strerror(-ret));
	a.handle = h32;
	EXPECT_EQ((__u64)BIG_SIZE, size);
	tbuf_new(_metadata, self->dev, self->dev, &b, BIG_SIZE, 22);

	ASSERT_EQ(0, engine_self(&dbg));
	imp = eng_dbg_find_import(&dbg, h32);
	ASSERT_NE(NULL, imp) TH_LOG("DMA32 import %u not in debugfs", h32);
	EXPECT_EQ((unsigned long long)BIG_SIZE, imp->size);
	EXPECT_STREQ(SGBUF_EXP_NAME, imp->exporter);
	ASSERT_NE(NULL, eng_dbg_find_import(&dbg, b.handle));
	EXPECT_EQ(2, dbg.nimports);

	ASSERT_EQ(1, bufinfo_attached_names(a.fd, n32, 2));
	ASSERT_EQ(1, bufinfo_attached_names(b.fd, n64, 2));
	TH_LOG("DMA32 import attached to %s, normal import to %s", n32[0], n64[0]);
	EXPECT_STRNE(n32[0], n64[0]);
	EXPECT_STREQ("sgbuf-dma.1", n32[0]);
	EXPECT_STREQ("sgbuf-dma.0", n64[0]);
	if (imp->dev[0]) {
		EXPECT_STREQ(n32[0], imp->dev);
		EXPECT_STREQ(n64[0], eng_dbg_find_import(&dbg, b.handle)->dev);
	}

	job_copy(&s, a.handle, 1, b.handle, 3, BIG_SIZE - 5);
	seq = submit_ok(_metadata, self->dev, &s);
	memcpy(b.model + 3, a.model + 1, BIG_SIZE - 5);
	EXPECT_EQ(0, wait_job(_metadata, self->dev, seq, NULL));
	tbuf_check(_metadata, &b, "COPY DMA32 -> 64-bit");

	tbuf_cpu_fill(_metadata, &b, 23);
	job_copy(&s, b.handle, SZ_4K, a.handle, 7, SZ_1M + 13);
	seq = submit_ok(_metadata, self->dev, &s);
	memcpy(a.model + 7, b.model + SZ_4K, SZ_1M + 13);
	job_fill(&s, a.handle, SZ_4M - 1, 4099, 0xd3d3d332);
	submit_ok(_metadata, self->dev, &s);
	model_fill(a.model, SZ_4M - 1, 4099, 0xd3d3d332);
	job_checksum(&s, a.handle, 0, BIG_SIZE);
	seq = submit_ok(_metadata, self->dev, &s);
	EXPECT_EQ(0, wait_job(_metadata, self->dev, seq, &csum));
	EXPECT_EQ(crc32_buf(a.model, BIG_SIZE), csum);
	job_checksum64(&s, a.handle, 5, BIG_SIZE - 6);
	seq = submit_ok(_metadata, self->dev, &s);
	EXPECT_EQ(0, eng_wait64(self->dev, seq, WAIT_LONG_NS, NULL, &sum));
	EXPECT_EQ(sgbuf_checksum64(a.model + 5, BIG_SIZE - 6), sum);
	tbuf_check(_metadata, &a, "COPY/FILL into the DMA32 import");

	EXPECT_EQ(0, eng_unimport(self->dev, h32));
	ASSERT_EQ(0, engine_self(&dbg));
	EXPECT_EQ(NULL, eng_dbg_find_import(&dbg, h32));
	EXPECT_EQ(1, dbg.nimports);
	EXPECT_EQ(0, bufinfo_attachments(a.fd));
	tbuf_free(&a);
	tbuf_free(&b);
}

/*
 * SGBUF_IMPORT_NO_SYNC: the engine relies on the exporter alone for
 * coherency. sgbuf's begin/end_cpu_access sync every attachment, so data
 * must still be right in every boot variant, swiotlb=force included.
 */
TEST_F(engine, no_sync_import)
{
	const unsigned long long flags[] = {
		SGBUF_IMPORT_NO_SYNC, SGBUF_IMPORT_NO_SYNC | SGBUF_IMPORT_DMA32,
	};
	struct sgbuf_submit s;
	struct tbuf a, b;
	unsigned int i;
	__u32 csum = 0;
	__u64 seq;
	int ret;

	for (i = 0; i < ARRAY_SIZE(flags); i++) {
		tbuf_new(_metadata, self->dev, -1, &a, SZ_1M + SZ_4K, 50 + i);
		tbuf_new(_metadata, self->dev, -1, &b, SZ_1M + SZ_4K, 60 + i);
		ret = eng_import(self->dev, a.fd, flags[i], &a.handle, NULL);
		ASSERT_EQ(0, ret) TH_LOG("IMPORT flags %#llx: %s", flags[i], strerror(-ret));
		ret = eng_import(self->dev, b.fd, flags[i], &b.handle, NULL);
		ASSERT_EQ(0, ret);

		job_copy(&s, a.handle, 3, b.handle, 4099, SZ_1M - 11);
		submit_ok(_metadata, self->dev, &s);
		memcpy(b.model + 4099, a.model + 3, SZ_1M - 11);
		tbuf_check(_metadata, &b, "NO_SYNC COPY");

		tbuf_cpu_fill(_metadata, &a, 70 + i);
		job_fill(&s, a.handle, 5, 3 * SZ_4K, 0x4e4f5359);
		submit_ok(_metadata, self->dev, &s);
		model_fill(a.model, 5, 3 * SZ_4K, 0x4e4f5359);
		job_checksum(&s, a.handle, 0, a.size);
		seq = submit_ok(_metadata, self->dev, &s);
		EXPECT_EQ(0, wait_job(_metadata, self->dev, seq, &csum));
		EXPECT_EQ(crc32_buf(a.model, a.size), csum)
			TH_LOG("NO_SYNC CHECKSUM after a CPU write and a FILL");
		tbuf_check(_metadata, &a, "NO_SYNC FILL");

		EXPECT_EQ(0, eng_unimport(self->dev, a.handle));
		EXPECT_EQ(0, eng_unimport(self->dev, b.handle));
		tbuf_check(_metadata, &a, "NO_SYNC FILL after UNIMPORT");
		tbuf_check(_metadata, &b, "NO_SYNC COPY after UNIMPORT");
		tbuf_free(&a);
		tbuf_free(&b);
	}
}

/* ------------------------------------------------------------ bad input */

TEST_F(engine, import_bad_input)
{
	struct {
		struct sgbuf_import i;
		__u64 tail;
	} big;
	struct sgbuf_import imp;
	int buf, pipefd[2], null, memfd, sw, fds, closed, ret;
	__u32 h1 = 0, h2 = 0;
	__u32 id = 0;

	buf = sgbuf_alloc_rw(self->dev, SZ_4K);
	ASSERT_LE(0, buf);
	ASSERT_EQ(0, pipe2(pipefd, O_CLOEXEC));
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, null);
	memfd = memfd_create("not a dma-buf", MFD_CLOEXEC);
	ASSERT_LE(0, memfd);
	sw = sw_fence_create(self->dev, &id);
	ASSERT_LE(0, sw);
	closed = dup(null);
	ASSERT_LE(0, closed);
	close(closed);
	fds = count_open_fds();

	EXPECT_EQ(-EBADF, eng_import(self->dev, -1, 0, NULL, NULL));
	EXPECT_EQ(-EBADF, eng_import(self->dev, closed, 0, NULL, NULL));
	EXPECT_EQ(-EBADF, eng_import(self->dev, INT32_MAX, 0, NULL, NULL));
	EXPECT_EQ(-EINVAL, eng_import(self->dev, pipefd[0], 0, NULL, NULL));
	EXPECT_EQ(-EINVAL, eng_import(self->dev, pipefd[1], 0, NULL, NULL));
	EXPECT_EQ(-EINVAL, eng_import(self->dev, null, 0, NULL, NULL));
	EXPECT_EQ(-EINVAL, eng_import(self->dev, memfd, 0, NULL, NULL));
	EXPECT_EQ(-EINVAL, eng_import(self->dev, self->dev, 0, NULL, NULL));
	EXPECT_EQ(-EINVAL, eng_import(self->dev, sw, 0, NULL, NULL));
	EXPECT_EQ(-EINVAL, eng_import(self->dev, buf, 1ULL << 2, NULL, NULL));
	EXPECT_EQ(-EINVAL, eng_import(self->dev, buf, 1ULL << 63, NULL, NULL));
	EXPECT_EQ(-EINVAL, eng_import(self->dev, buf,
				      SGBUF_IMPORT_VALID_FLAGS | (SGBUF_IMPORT_VALID_FLAGS + 1),
				      NULL, NULL));
	memset(&imp, 0, sizeof(imp));
	imp.fd = buf;
	imp.reserved[0] = 1;
	EXPECT_EQ(-EINVAL, ioctl(self->dev, SGBUF_IOCTL_IMPORT, &imp) ? -errno : 0);
	imp.reserved[0] = 0;
	imp.reserved[1] = 1;
	EXPECT_EQ(-EINVAL, ioctl(self->dev, SGBUF_IOCTL_IMPORT, &imp) ? -errno : 0);
	EXPECT_EQ(-EFAULT, ioctl(self->dev, SGBUF_IOCTL_IMPORT, NULL) ? -errno : 0);
	/* None of these attached anything. */
	EXPECT_EQ(0, bufinfo_attachments(buf));

	memset(&big, 0, sizeof(big));
	big.i.fd = buf;
	big.tail = 1;
	ret = ioctl(self->dev, IOC_SZ(RW, 0x10, sizeof(big)), &big) ? -errno : 0;
	EXPECT_EQ(-E2BIG, ret) TH_LOG("larger struct, non-zero tail: %s", strerror(-ret));
	ret = ioctl(self->dev, IOC_SZ(RW, 0x10, SGBUF_IMPORT_SIZE_VER0 - 8), &big) ? -errno : 0;
	EXPECT_EQ(-EINVAL, ret) TH_LOG("smaller struct: %s", strerror(-ret));
	EXPECT_EQ(0, bufinfo_attachments(buf));
	big.tail = 0;
	ret = ioctl(self->dev, IOC_SZ(RW, 0x10, sizeof(big)), &big) ? -errno : 0;
	EXPECT_EQ(0, ret) TH_LOG("larger struct, zero tail: %s", strerror(-ret));
	h1 = big.i.handle;
	EXPECT_NE(0U, h1);
	EXPECT_EQ(SZ_4K, big.i.size);
	EXPECT_EQ(fds, count_open_fds());

	/*
	 * The same buffer twice: two handles sharing one attachment (one
	 * device maps a buffer once), which the last UNIMPORT drops.
	 */
	ASSERT_EQ(0, eng_import(self->dev, buf, 0, &h2, NULL));
	EXPECT_NE(h1, h2);
	EXPECT_EQ(1, bufinfo_attachments(buf));
	EXPECT_EQ(0, eng_unimport(self->dev, h1));
	EXPECT_EQ(1, bufinfo_attachments(buf));
	EXPECT_EQ(0, eng_unimport(self->dev, h2));
	EXPECT_EQ(0, bufinfo_attachments(buf));

	close(buf);
	close(pipefd[0]);
	close(pipefd[1]);
	close(null);
	close(memfd);
	close(sw);
}

/*
 * One buffer imported twice by one file and once by another: all three
 * handles share the one mapping of the engine's device, and jobs on part
 * of it and ranged syncs are plain partial syncs of that mapping. (Two
 * mappings of the same pages for one device are not supported by the DMA
 * API: CONFIG_DMA_API_DEBUG, which tells them apart by address only,
 * reported every partial sync as a sync of memory never mapped.)
 */
TEST_F(engine, import_same_buffer_twice)
{
	struct sgbuf_sync_range r;
	struct sgbuf_submit s;
	__u32 h[3];
	int e2, buf, i;
	uint8_t *p;

	e2 = sgbuf_open();
	ASSERT_LE(0, e2);
	buf = sgbuf_alloc_rw(self->dev, SZ_64K);
	ASSERT_LE(0, buf);
	ASSERT_EQ(0, eng_import(self->dev, buf, 0, &h[0], NULL));
	ASSERT_EQ(0, eng_import(self->dev, buf, 0, &h[1], NULL));
	ASSERT_EQ(0, eng_import(e2, buf, 0, &h[2], NULL));
	EXPECT_EQ(1, bufinfo_attachments(buf));
	for (i = 0; i < 3; i++) {
		int eng = i < 2 ? self->dev : e2;

		job_fill(&s, h[i], 0x1a20 + i * 0x1000, 0x800,
			 0x01010101U * (i + 1));
		ASSERT_EQ(0, eng_submit(eng, &s));
		EXPECT_EQ(0, wait_job(_metadata, eng, s.seqno, NULL));
	}
	memset(&r, 0, sizeof(r));
	r.fd = buf;
	r.flags = SGBUF_SYNC_START | SGBUF_SYNC_READ;
	r.offset = 0x1a20;
	r.length = 0x2800;
	EXPECT_EQ(0, ioctl(self->dev, SGBUF_IOCTL_SYNC_RANGE, &r) ? -errno : 0);
	p = map_buf(buf, SZ_64K, PROT_READ);
	ASSERT_NE(MAP_FAILED, p);
	for (i = 0; i < 3; i++) {
		EXPECT_EQ(i + 1, p[0x1a20 + i * 0x1000]);
		EXPECT_EQ(i + 1, p[0x1a20 + i * 0x1000 + 0x7ff]);
		EXPECT_EQ(0, p[0x1a20 + i * 0x1000 + 0x800]);
	}
	r.flags = SGBUF_SYNC_END | SGBUF_SYNC_READ;
	EXPECT_EQ(0, ioctl(self->dev, SGBUF_IOCTL_SYNC_RANGE, &r) ? -errno : 0);
	munmap(p, SZ_64K);
	EXPECT_EQ(0, close(e2));
	EXPECT_EQ(1, bufinfo_attachments(buf));
	EXPECT_EQ(0, eng_unimport(self->dev, h[0]));
	EXPECT_EQ(0, eng_unimport(self->dev, h[1]));
	EXPECT_EQ(0, bufinfo_attachments(buf));
	close(buf);
}

TEST_F(engine, unimport_bad_input)
{
	struct sgbuf_unimport u;
	struct sgbuf_submit s;
	int buf, ret, e2;
	__u32 h = 0;

	buf = sgbuf_alloc_rw(self->dev, SZ_4K);
	ASSERT_LE(0, buf);
	ASSERT_EQ(0, eng_import(self->dev, buf, 0, &h, NULL));

	EXPECT_EQ(-ENOENT, eng_unimport(self->dev, h + 1000));
	ret = eng_unimport(self->dev, 0);
	EXPECT_TRUE(ret == -ENOENT || ret == -EINVAL) TH_LOG("handle 0: %s", strerror(-ret));
	memset(&u, 0, sizeof(u));
	u.handle = h;
	u.flags = 1;
	EXPECT_EQ(-EINVAL, ioctl(self->dev, SGBUF_IOCTL_UNIMPORT, &u) ? -errno : 0);
	u.flags = 0;
	u.reserved = 1;
	EXPECT_EQ(-EINVAL, ioctl(self->dev, SGBUF_IOCTL_UNIMPORT, &u) ? -errno : 0);
	EXPECT_EQ(-EFAULT, ioctl(self->dev, SGBUF_IOCTL_UNIMPORT, NULL) ? -errno : 0);

	/* Handles are per file. */
	e2 = sgbuf_open();
	ASSERT_LE(0, e2);
	EXPECT_EQ(-ENOENT, eng_unimport(e2, h));
	job_checksum(&s, h, 0, SZ_4K);
	EXPECT_EQ(-ENOENT, eng_submit(e2, &s));
	EXPECT_EQ(0, close(e2));

	/* Still imported after all that. */
	EXPECT_EQ(1, bufinfo_attachments(buf));
	job_checksum(&s, h, 0, SZ_4K);
	EXPECT_EQ(0, eng_submit(self->dev, &s));
	EXPECT_EQ(0, wait_job(_metadata, self->dev, s.seqno, NULL));
	EXPECT_EQ(0, eng_unimport(self->dev, h));
	EXPECT_EQ(-ENOENT, eng_unimport(self->dev, h));
	close(buf);
}

struct bad_submit {
	const char *what;
	struct sgbuf_submit s;
	int err;
};

TEST_F(engine, submit_bad_input)
{
	struct {
		struct sgbuf_submit s;
		__u64 tail;
	} big;
	struct bad_submit bad[80];
	unsigned int i, n = 0;
	int a_fd, b_fd, null, pipefd[2], sw, fds, ret, e2;
	struct sgbuf_submit s;
	const __u64 sz = SZ_64K;
	const __u64 top = ~0ULL;
	__u32 a = 0, b = 0, other = 0, id = 0;

	a_fd = sgbuf_alloc_rw(self->dev, sz);
	ASSERT_LE(0, a_fd);
	b_fd = sgbuf_alloc_rw(self->dev, sz);
	ASSERT_LE(0, b_fd);
	ASSERT_EQ(0, eng_import(self->dev, a_fd, 0, &a, NULL));
	ASSERT_EQ(0, eng_import(self->dev, b_fd, 0, &b, NULL));
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, null);
	ASSERT_EQ(0, pipe2(pipefd, O_CLOEXEC));
	sw = sw_fence_create(self->dev, &id);
	ASSERT_LE(0, sw);
	/* A handle valid on another engine only. */
	e2 = sgbuf_open();
	ASSERT_LE(0, e2);
	ASSERT_EQ(0, eng_import(e2, a_fd, 0, &other, NULL));
	if (other == a || other == b)
		other = a + b + 1;	/* not imported here either */

#define BAD(_what, _err, ...) do {					\
		bad[n].what = _what;					\
		bad[n].err = _err;					\
		__VA_ARGS__;						\
		n++;							\
	} while (0)
#define F(off, len)	job_fill(&bad[n].s, b, off, len, 0x01020304)
#define C(so, d, doff, len) job_copy(&bad[n].s, a, so, d, doff, len)
#define K(off, len)	job_checksum(&bad[n].s, a, off, len)
#define K64(off, len)	job_checksum64(&bad[n].s, a, off, len)

	BAD("op 0", -EINVAL, F(0, 1); bad[n].s.op = 0);
	BAD("op 5", -EINVAL, F(0, 1); bad[n].s.op = 5);
	BAD("op ~0", -EINVAL, F(0, 1); bad[n].s.op = ~0U);
	BAD("FILL with src", -EINVAL, F(0, 1); bad[n].s.src = a);
	BAD("FILL without dst", -EINVAL, F(0, 1); bad[n].s.dst = 0);
	BAD("COPY without src", -EINVAL, C(0, b, 0, 1); bad[n].s.src = 0);
	BAD("COPY without dst", -EINVAL, C(0, b, 0, 1); bad[n].s.dst = 0);
	BAD("COPY with pattern", -EINVAL, C(0, b, 0, 1); bad[n].s.pattern = 1);
	BAD("CHECKSUM with dst", -EINVAL, K(0, 1); bad[n].s.dst = b);
	BAD("CHECKSUM without src", -EINVAL, K(0, 1); bad[n].s.src = 0);
	BAD("CHECKSUM with pattern", -EINVAL, K(0, 1); bad[n].s.pattern = 1);
	BAD("CHECKSUM64 with dst", -EINVAL, K64(0, 1); bad[n].s.dst = b);
	BAD("CHECKSUM64 without src", -EINVAL, K64(0, 1); bad[n].s.src = 0);
	BAD("CHECKSUM64 with pattern", -EINVAL, K64(0, 1); bad[n].s.pattern = 1);
	BAD("CHECKSUM64 with dst_offset", -EINVAL, K64(0, 1); bad[n].s.dst_offset = 1);
	BAD("CHECKSUM64 length 0", -EINVAL, K64(0, 0));
	BAD("CHECKSUM64 past the end", -EINVAL, K64(sz - 7, 8));
	BAD("CHECKSUM64 offset wraps", -EINVAL, K64(top - 3, 8));
	BAD("CHECKSUM64 length ~0", -EINVAL, K64(0, top));
	BAD("CHECKSUM64 unknown handle", -ENOENT, K64(0, 1); bad[n].s.src = a + b + 100);
	BAD("FILL length 0", -EINVAL, F(0, 0));
	BAD("COPY length 0", -EINVAL, C(0, b, 0, 0));
	BAD("CHECKSUM length 0", -EINVAL, K(0, 0));
	BAD("FILL offset = size", -EINVAL, F(sz, 1));
	BAD("FILL 1 past the end", -EINVAL, F(sz - 1, 2));
	BAD("FILL length size+1", -EINVAL, F(0, sz + 1));
	BAD("FILL offset ~0", -EINVAL, F(top, 1));
	BAD("FILL offset wraps", -EINVAL, F(top - SZ_4K + 1, 2 * SZ_4K));
	BAD("FILL end wraps to 0", -EINVAL, F(SZ_4K, top - SZ_4K + 1));
	BAD("FILL length ~0", -EINVAL, F(1, top));
	BAD("COPY src past the end", -EINVAL, C(sz - 1, b, 0, 2));
	BAD("COPY dst past the end", -EINVAL, C(0, b, sz - 1, 2));
	BAD("COPY src offset wraps", -EINVAL, C(top - 10, b, 0, 100));
	BAD("COPY dst offset wraps", -EINVAL, C(0, b, top - 10, 100));
	BAD("COPY length ~0", -EINVAL, C(1, b, 1, top));
	BAD("CHECKSUM past the end", -EINVAL, K(sz - 10, 11));
	BAD("CHECKSUM offset wraps", -EINVAL, K(top - 1, 4));
	BAD("FILL pattern bit 32", -EINVAL, F(0, 4); bad[n].s.pattern = 1ULL << 32);
	BAD("FILL pattern ~0", -EINVAL, F(0, 4); bad[n].s.pattern = top);
	BAD("COPY overlap, dst after", -EINVAL, C(0, a, SZ_4K, 2 * SZ_4K));
	BAD("COPY overlap, dst before", -EINVAL, C(SZ_4K, a, 0, 2 * SZ_4K));
	BAD("COPY onto itself", -EINVAL, C(100, a, 100, 1));
	BAD("COPY overlap by 1 byte", -EINVAL, C(100, a, 4195, 4096));
	BAD("COPY overlap by 1 byte, reversed", -EINVAL, C(4195, a, 100, 4096));
	BAD("flags bit 2", -EINVAL, F(0, 1); bad[n].s.flags = 1ULL << 2);
	BAD("flags bit 63", -EINVAL, F(0, 1); bad[n].s.flags = 1ULL << 63);
	BAD("pad", -EINVAL, F(0, 1); bad[n].s.pad = 1);
	BAD("reserved[0]", -EINVAL, F(0, 1); bad[n].s.reserved[0] = 1);
	BAD("reserved[1]", -EINVAL, F(0, 1); bad[n].s.reserved[1] = 1);
	BAD("IN_FENCE with a dma-buf fd", -EINVAL, F(0, 1); job_in_fence(&bad[n].s, a_fd));
	BAD("IN_FENCE with /dev/null", -EINVAL, F(0, 1); job_in_fence(&bad[n].s, null));
	BAD("IN_FENCE with a pipe", -EINVAL, F(0, 1); job_in_fence(&bad[n].s, pipefd[0]));
	BAD("IN_FENCE with the engine fd", -EINVAL, F(0, 1); job_in_fence(&bad[n].s, self->dev));
	BAD("in_fence_fd without IN_FENCE", -EINVAL, F(0, 1); bad[n].s.in_fence_fd = sw);
	BAD("in_fence_fd -1 without IN_FENCE", -EINVAL, F(0, 1); bad[n].s.in_fence_fd = -1);
	BAD("unknown dst handle", -ENOENT, F(0, 1); bad[n].s.dst = a + b + 100);
	BAD("unknown src handle", -ENOENT, C(0, b, 0, 1); bad[n].s.src = a + b + 100);
	BAD("other engine's handle", -ENOENT, K(0, 1); bad[n].s.src = other);
	ASSERT_LE(n, ARRAY_SIZE(bad));

	fds = count_open_fds();
	for (i = 0; i < n; i++) {
		unsigned int pass;

		/* Each once as is and once asking for an out-fence. */
		for (pass = 0; pass < 2; pass++) {
			s = bad[i].s;
			if (pass)
				s.flags |= SGBUF_SUBMIT_OUT_FENCE;
			ret = eng_submit(self->dev, &s);
			EXPECT_EQ(bad[i].err, ret) TH_LOG("%s%s: got %s", bad[i].what,
							  pass ? " (+OUT_FENCE)" : "",
							  strerror(-ret));
			if (!ret && pass && s.out_fence_fd > 0)
				close(s.out_fence_fd);
		}
	}
	EXPECT_EQ(fds, count_open_fds()) TH_LOG("failed SUBMITs leaked fds");

	/* IN_FENCE with -1: the fd is not a sync_file (EINVAL) or not an fd. */
	job_fill(&s, b, 0, 1, 0);
	job_in_fence(&s, -1);
	ret = eng_submit(self->dev, &s);
	EXPECT_TRUE(ret == -EINVAL || ret == -EBADF) TH_LOG("IN_FENCE -1: %s", strerror(-ret));
	EXPECT_EQ(-EFAULT, ioctl(self->dev, SGBUF_IOCTL_SUBMIT, NULL) ? -errno : 0);

	/* Nothing was queued. */
	EXPECT_EQ(-EINVAL, eng_wait(self->dev, 1, 0, NULL, NULL));

	/* Edge cases that are valid. */
	job_fill(&s, b, sz - 1, 1, 0xff);
	ASSERT_EQ(0, eng_submit(self->dev, &s)) TH_LOG("FILL of the last byte");
	EXPECT_EQ(1ULL, (unsigned long long)s.seqno) TH_LOG("failed SUBMITs used seqnos");
	job_copy(&s, a, 0, a, SZ_4K, SZ_4K);
	EXPECT_EQ(0, eng_submit(self->dev, &s)) TH_LOG("adjacent COPY in one buffer");
	job_copy(&s, a, 4196, a, 100, 4096);
	EXPECT_EQ(0, eng_submit(self->dev, &s)) TH_LOG("COPY ending where the other starts");
	job_checksum(&s, a, 0, sz);
	EXPECT_EQ(0, eng_submit(self->dev, &s));
	job_fill(&s, b, 0, sz, 0xffffffffULL);
	EXPECT_EQ(0, eng_submit(self->dev, &s)) TH_LOG("pattern 0xffffffff");
	EXPECT_EQ(0, wait_job(_metadata, self->dev, s.seqno, NULL));
	EXPECT_EQ(5ULL, (unsigned long long)s.seqno);

	/* Extensible struct. */
	memset(&big, 0, sizeof(big));
	job_fill(&big.s, b, 0, 1, 0);
	big.tail = 1;
	ret = ioctl(self->dev, IOC_SZ(RW, 0x12, sizeof(big)), &big) ? -errno : 0;
	EXPECT_EQ(-E2BIG, ret) TH_LOG("larger struct, non-zero tail: %s", strerror(-ret));
	ret = ioctl(self->dev, IOC_SZ(RW, 0x12, SGBUF_SUBMIT_SIZE_VER0 - 8), &big) ? -errno : 0;
	EXPECT_EQ(-EINVAL, ret) TH_LOG("smaller struct: %s", strerror(-ret));
	big.tail = 0;
	ret = ioctl(self->dev, IOC_SZ(RW, 0x12, sizeof(big)), &big) ? -errno : 0;
	EXPECT_EQ(0, ret) TH_LOG("larger struct, zero tail: %s", strerror(-ret));
	EXPECT_EQ(6ULL, (unsigned long long)big.s.seqno);
	EXPECT_EQ(0, wait_job(_metadata, self->dev, 6, NULL));

	ASSERT_EQ(0, close(e2));
	close(a_fd);
	close(b_fd);
	close(null);
	close(pipefd[0]);
	close(pipefd[1]);
	close(sw);
#undef BAD
#undef F
#undef C
#undef K
#undef K64
}

TEST_F(engine, wait_bad_input)
{
	struct {
		struct sgbuf_wait w;
		__u64 tail;
	} big;
	struct sgbuf_submit s;
	struct sgbuf_wait w;
	struct tbuf b;
	int ret, e2;

	EXPECT_EQ(-EINVAL, eng_wait(self->dev, 0, 0, NULL, NULL));
	EXPECT_EQ(-EINVAL, eng_wait(self->dev, 1, 0, NULL, NULL)) TH_LOG("nothing submitted yet");
	tbuf_new(_metadata, self->dev, self->dev, &b, SZ_4K, 24);
	job_fill(&s, b.handle, 0, SZ_4K, 1);
	ASSERT_EQ(1ULL, (unsigned long long)submit_ok(_metadata, self->dev, &s));
	EXPECT_EQ(-EINVAL, eng_wait(self->dev, 0, 0, NULL, NULL));
	EXPECT_EQ(-EINVAL, eng_wait(self->dev, 2, 0, NULL, NULL));
	EXPECT_EQ(-EINVAL, eng_wait(self->dev, ~0ULL, 0, NULL, NULL));
	EXPECT_EQ(-EINVAL, eng_wait(self->dev, 1ULL << 63, 0, NULL, NULL));

	memset(&w, 0, sizeof(w));
	w.seqno = 1;
	w.flags = 1;
	EXPECT_EQ(-EINVAL, ioctl(self->dev, SGBUF_IOCTL_WAIT, &w) ? -errno : 0);
	w.flags = 1ULL << 63;
	EXPECT_EQ(-EINVAL, ioctl(self->dev, SGBUF_IOCTL_WAIT, &w) ? -errno : 0);
	w.flags = 0;
	w.checksum64 = 1;
	EXPECT_EQ(-EINVAL, ioctl(self->dev, SGBUF_IOCTL_WAIT, &w) ? -errno : 0);
	w.checksum64 = 1ULL << 63;
	EXPECT_EQ(-EINVAL, ioctl(self->dev, SGBUF_IOCTL_WAIT, &w) ? -errno : 0);
	w.checksum64 = 0;
	w.reserved[0] = 1;
	EXPECT_EQ(-EINVAL, ioctl(self->dev, SGBUF_IOCTL_WAIT, &w) ? -errno : 0);
	w.reserved[0] = 1ULL << 63;
	EXPECT_EQ(-EINVAL, ioctl(self->dev, SGBUF_IOCTL_WAIT, &w) ? -errno : 0);
	EXPECT_EQ(-EFAULT, ioctl(self->dev, SGBUF_IOCTL_WAIT, NULL) ? -errno : 0);

	/* Seqnos are per file. */
	e2 = sgbuf_open();
	ASSERT_LE(0, e2);
	EXPECT_EQ(-EINVAL, eng_wait(e2, 1, 0, NULL, NULL));
	EXPECT_EQ(0, close(e2));

	memset(&big, 0, sizeof(big));
	big.w.seqno = 1;
	big.w.timeout_ns = WAIT_LONG_NS;
	big.tail = 1;
	ret = ioctl(self->dev, IOC_SZ(RW, 0x13, sizeof(big)), &big) ? -errno : 0;
	EXPECT_EQ(-E2BIG, ret) TH_LOG("larger struct, non-zero tail: %s", strerror(-ret));
	ret = ioctl(self->dev, IOC_SZ(RW, 0x13, SGBUF_WAIT_SIZE_VER0 - 8), &big) ? -errno : 0;
	EXPECT_EQ(-EINVAL, ret) TH_LOG("smaller struct: %s", strerror(-ret));
	big.tail = 0;
	ret = ioctl(self->dev, IOC_SZ(RW, 0x13, sizeof(big)), &big) ? -errno : 0;
	EXPECT_EQ(0, ret) TH_LOG("larger struct, zero tail: %s", strerror(-ret));
	EXPECT_EQ(0, big.w.status);
	tbuf_free(&b);
}

TEST_F(engine, unknown_ioctls)
{
	unsigned char arg[128];
	unsigned int nr;
	int ret;

	memset(arg, 0, sizeof(arg));
	for (nr = 0x17; nr <= 0x1f; nr++) {
		ret = ioctl(self->dev, _IO(SGBUF_IOC_MAGIC, nr)) ? -errno : 0;
		EXPECT_EQ(-ENOTTY, ret) TH_LOG("_IO nr %#x: %s", nr, strerror(-ret));
		ret = ioctl(self->dev, IOC_SZ(RW, nr, SGBUF_SUBMIT_SIZE_VER0), arg) ? -errno : 0;
		EXPECT_EQ(-ENOTTY, ret) TH_LOG("_IOWR nr %#x: %s", nr, strerror(-ret));
	}
	ret = ioctl(self->dev, IOC_SZ(RW, 0xff, 8), arg) ? -errno : 0;
	EXPECT_EQ(-ENOTTY, ret);
	/* The engine's numbers under another magic. */
	ret = ioctl(self->dev, _IOC(RW, 0xB8, 0x12, SGBUF_SUBMIT_SIZE_VER0), arg) ? -errno : 0;
	EXPECT_EQ(-ENOTTY, ret);
	EXPECT_EQ(self->fds_base, count_open_fds());
}

/*
 * A SUBMIT that fails leaves nothing behind: no job, no seqno used, no
 * counter moved, when no fd is left for the out-fence (EMFILE). The one
 * documented exception: EFAULT while writing the reply, where the job has
 * been submitted and runs.
 */
TEST_F(engine, failed_submit_no_side_effects)
{
	struct rlimit old, lim;
	struct sgbuf_submit s, *ro;
	struct eng_dbg dbg;
	struct tbuf b;
	int low, ret;
	__u32 id;

	tbuf_new(_metadata, self->dev, self->dev, &b, SZ_4K, 25);
	ASSERT_EQ(0, getrlimit(RLIMIT_NOFILE, &old));
	low = open("/dev/null", O_RDONLY | O_CLOEXEC);	/* lowest free fd */
	ASSERT_LE(0, low);
	close(low);
	lim = old;
	lim.rlim_cur = low;
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &lim));

	job_fill(&s, b.handle, 0, SZ_4K, 1);
	s.flags = SGBUF_SUBMIT_OUT_FENCE;
	ret = eng_submit(self->dev, &s);
	EXPECT_EQ(-EMFILE, ret) TH_LOG("SUBMIT +OUT_FENCE: %s", strerror(-ret));
	ret = sw_fence_create(self->dev, &id);
	EXPECT_EQ(-EMFILE, ret) TH_LOG("SW_FENCE_CREATE: %d", ret);
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &old));

	ASSERT_EQ(0, engine_self(&dbg));
	EXPECT_EQ(0ULL, dbg.submitted) TH_LOG("EMFILE: a job was queued");
	EXPECT_EQ(0ULL, dbg.failed);
	EXPECT_EQ(-EINVAL, eng_wait(self->dev, 1, 0, NULL, NULL))
		TH_LOG("EMFILE: seqno 1 was used");

	/* Readable, not writable: the seqno cannot be returned. */
	ro = mmap(NULL, page_size(), PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, ro);
	job_fill(ro, b.handle, 0, SZ_4K, 2);
	ASSERT_EQ(0, mprotect(ro, page_size(), PROT_READ));
	ret = eng_submit(self->dev, ro);
	EXPECT_EQ(-EFAULT, ret) TH_LOG("SUBMIT from a read-only struct: %s", strerror(-ret));
	munmap(ro, page_size());
	/* ... was submitted as job 1 and runs. */
	EXPECT_EQ(0, wait_job(_metadata, self->dev, 1, NULL));
	model_fill(b.model, 0, SZ_4K, 2);
	tbuf_check(_metadata, &b, "the FILL whose reply faulted");

	/* The next job is number 2; nothing else ran. */
	job_fill(&s, b.handle, 0, SZ_4K, 3);
	ret = eng_submit(self->dev, &s);
	ASSERT_EQ(0, ret);
	EXPECT_EQ(2ULL, (unsigned long long)s.seqno);
	EXPECT_EQ(0, wait_job(_metadata, self->dev, s.seqno, NULL));
	model_fill(b.model, 0, SZ_4K, 3);
	tbuf_check(_metadata, &b, "the last FILL");
	ASSERT_EQ(0, engine_self(&dbg));
	EXPECT_EQ(2ULL, dbg.submitted);
	EXPECT_EQ(2ULL, dbg.completed);
	EXPECT_EQ(0ULL, dbg.failed + dbg.cancelled);
	tbuf_free(&b);
}

TEST_F_TIMEOUT(engine, import_limit, 120)
{
	static __u32 h[1025];
	int e, buf, ret, i;

	e = sgbuf_open();
	ASSERT_LE(0, e);
	buf = sgbuf_alloc_rw(self->dev, SZ_4K);
	ASSERT_LE(0, buf);
	for (i = 0; i < 1024; i++) {
		ret = eng_import(e, buf, 0, &h[i], NULL);
		ASSERT_EQ(0, ret) TH_LOG("import %d: %s", i + 1, strerror(-ret));
	}
	ret = eng_import(e, buf, 0, &h[1024], NULL);
	EXPECT_EQ(-EMFILE, ret) TH_LOG("import 1025: %s", strerror(-ret));
	/* One device maps the buffer once, for all its imports. */
	EXPECT_EQ(1, bufinfo_attachments(buf));
	ASSERT_EQ(0, eng_unimport(e, h[500]));
	ret = eng_import(e, buf, 0, &h[500], NULL);
	EXPECT_EQ(0, ret) TH_LOG("import after an UNIMPORT: %s", strerror(-ret));
	/* Other files have their own limit. */
	ret = eng_import(self->dev, buf, 0, &h[1024], NULL);
	EXPECT_EQ(0, ret) TH_LOG("import on another file: %s", strerror(-ret));
	EXPECT_EQ(0, close(e));
	EXPECT_EQ(1, bufinfo_attachments(buf));
	/* The other file's import holds the shared attachment alone now. */
	EXPECT_EQ(0, eng_unimport(self->dev, h[1024]));
	EXPECT_EQ(0, bufinfo_attachments(buf)) TH_LOG("close did not drop 1024 imports");
	EXPECT_EQ(0, close(buf));
}

/* ---------------------------------------------------------------- debugfs */

TEST_F(engine, debugfs_counters)
{
	struct sgbuf_sync_range r;
	struct eng_dbg d, two[2];
	const struct eng_dbg_import *imp;
	struct sgbuf_submit s;
	unsigned long long bytes;
	char comm[32] = "";
	__u64 seq[9];
	struct tbuf b;
	int sw, n, e2, fd;
	__u32 id = 0, csum = 0;
	unsigned int i;

	fd = open("/proc/self/comm", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_LT(0, read(fd, comm, sizeof(comm) - 1));
	close(fd);
	comm[strcspn(comm, "\n")] = '\0';

	/*
	 * The fixture's file has only been opened and asked GET_INFO: no
	 * engine yet, nor after ALLOC, SYNC_RANGE or an unknown ioctl.
	 */
	n = engines_of_pid(getpid(), &d, 1);
	EXPECT_EQ(0, n) TH_LOG("%d engines before any engine ioctl", n);
	fd = sgbuf_alloc_rw(self->dev, SZ_4K);
	ASSERT_LE(0, fd);
	memset(&r, 0, sizeof(r));
	r.fd = fd;
	r.flags = SGBUF_SYNC_START | SGBUF_SYNC_RW;
	r.length = SZ_4K;
	EXPECT_EQ(0, ioctl(self->dev, SGBUF_IOCTL_SYNC_RANGE, &r));
	r.flags = SGBUF_SYNC_END | SGBUF_SYNC_RW;
	EXPECT_EQ(0, ioctl(self->dev, SGBUF_IOCTL_SYNC_RANGE, &r));
	EXPECT_EQ(-ENOTTY, ioctl(self->dev, _IO(SGBUF_IOC_MAGIC, 0x1f)) ? -errno : 0);
	EXPECT_EQ(0, close(fd));
	n = engines_of_pid(getpid(), &d, 1);
	EXPECT_EQ(0, n) TH_LOG("%d engines after ALLOC, SYNC_RANGE, an unknown ioctl", n);

	/* The first engine ioctl makes it, even one that fails. */
	EXPECT_EQ(-EINVAL, eng_wait(self->dev, 0, 0, NULL, NULL));
	n = engine_self(&d);
	ASSERT_EQ(0, n) TH_LOG("%s: no single engine of pid %d: %s",
			       SGBUF_ENGINES_DEBUGFS, getpid(), strerror(-n));
	EXPECT_STREQ(comm, d.comm);
	if (d.dev[0])
		EXPECT_TRUE(!strcmp(d.dev, "sgbuf-dma.0") || !strcmp(d.dev, "sgbuf-dma.1"))
			TH_LOG("engine dev %s", d.dev);
	EXPECT_EQ(0ULL, d.submitted);
	EXPECT_EQ(0ULL, d.completed);
	EXPECT_EQ(0ULL, d.failed);
	EXPECT_EQ(0ULL, d.cancelled);
	EXPECT_EQ(0ULL, d.in_flight);
	EXPECT_EQ(0ULL, d.bytes);
	EXPECT_EQ(0, d.nimports);

	tbuf_new(_metadata, self->dev, self->dev, &b, SZ_64K, 26);
	ASSERT_EQ(0, engine_self(&d));
	ASSERT_EQ(1, d.nimports);
	imp = eng_dbg_find_import(&d, b.handle);
	ASSERT_NE(NULL, imp);
	EXPECT_EQ(SZ_64K, imp->size);
	EXPECT_STREQ(SGBUF_EXP_NAME, imp->exporter);
	/* The device is named on the engine line or on the import line. */
	EXPECT_TRUE(d.dev[0] || imp->dev[0])
		TH_LOG("no dev field on the engine line nor on the import line");
	if (!d.dev[0])
		TH_LOG("dev is on the import lines (%s), not on the engine line",
		       imp->dev);
	if (imp->dev[0])
		EXPECT_STREQ("sgbuf-dma.0", imp->dev);

	/* Six jobs, the fourth fails. */
	ASSERT_EQ(0, eng_config_simple(self->dev, 64, 4, 0));
	job_fill(&s, b.handle, 0, 4096, 1);
	seq[1] = submit_ok(_metadata, self->dev, &s);
	job_copy(&s, b.handle, 0, b.handle, 32768, 8192);
	seq[2] = submit_ok(_metadata, self->dev, &s);
	job_checksum(&s, b.handle, 100, 1000);
	seq[3] = submit_ok(_metadata, self->dev, &s);
	job_fill(&s, b.handle, 0, 5000, 2);
	seq[4] = submit_ok(_metadata, self->dev, &s);
	/*
	 * Let the failure complete first: a job queued behind a failing one
	 * may inherit its error (see job_queued_behind_failed_job).
	 */
	EXPECT_EQ(-EIO, wait_job(_metadata, self->dev, seq[4], NULL));
	job_fill(&s, b.handle, 7, 3, 3);
	seq[5] = submit_ok(_metadata, self->dev, &s);
	job_checksum64(&s, b.handle, 0, SZ_64K);	/* counted as read too */
	seq[6] = submit_ok(_metadata, self->dev, &s);
	for (i = 1; i <= 6; i++) {
		int st = wait_job(_metadata, self->dev, seq[i], &csum);

		EXPECT_EQ(i == 4 ? -EIO : 0, st) TH_LOG("job %u: status %d", i, st);
	}
	bytes = 4096 + 8192 + 1000 + 3 + SZ_64K;

	ASSERT_EQ(0, engine_self(&d));
	EXPECT_EQ(6ULL, d.submitted);
	EXPECT_EQ(5ULL, d.completed);
	EXPECT_EQ(1ULL, d.failed);
	EXPECT_EQ(0ULL, d.cancelled);
	EXPECT_EQ(0ULL, d.in_flight);
	EXPECT_EQ(bytes, d.bytes);

	/* Two held jobs are in flight. */
	sw = sw_fence_create(self->dev, &id);
	ASSERT_LE(0, sw);
	job_fill(&s, b.handle, 0, 10, 4);
	job_in_fence(&s, sw);
	seq[7] = submit_ok(_metadata, self->dev, &s);
	job_fill(&s, b.handle, 20, 20, 5);
	seq[8] = submit_ok(_metadata, self->dev, &s);
	ASSERT_EQ(0, engine_self(&d));
	EXPECT_EQ(8ULL, d.submitted);
	EXPECT_EQ(2ULL, d.in_flight);
	EXPECT_EQ(5ULL, d.completed);
	ASSERT_EQ(0, sw_fence_signal(self->dev, id, 0));
	EXPECT_EQ(0, wait_job(_metadata, self->dev, seq[7], NULL));
	EXPECT_EQ(0, wait_job(_metadata, self->dev, seq[8], NULL));
	ASSERT_EQ(0, engine_self(&d));
	EXPECT_EQ(8ULL, d.submitted);
	EXPECT_EQ(7ULL, d.completed);
	EXPECT_EQ(1ULL, d.failed);
	EXPECT_EQ(0ULL, d.in_flight);
	EXPECT_EQ(bytes + 30, d.bytes);
	close(sw);

	/* A second engine, made by its file's first engine ioctl: its own line and id. */
	e2 = sgbuf_open();
	ASSERT_LE(0, e2);
	EXPECT_EQ(1, engines_of_pid(getpid(), two, 2)) TH_LOG("open made an engine");
	ASSERT_EQ(0, eng_config_simple(e2, 64, 0, 0));
	ASSERT_EQ(2, engines_of_pid(getpid(), two, 2));
	EXPECT_NE(two[0].id, two[1].id);
	EXPECT_EQ(0, close(e2));
	EXPECT_EQ(1, engines_of_pid(getpid(), two, 2));

	EXPECT_EQ(0, eng_unimport(self->dev, b.handle));
	ASSERT_EQ(0, engine_self(&d));
	EXPECT_EQ(0, d.nimports);
	tbuf_free(&b);
}

struct first_use {
	int eng, buf_fd, ret;
	__u32 handle;
	pthread_barrier_t *go;
};

static void *first_use_fn(void *arg)
{
	struct first_use *u = arg;

	pthread_barrier_wait(u->go);
	u->ret = eng_import(u->eng, u->buf_fd, 0, &u->handle, NULL);
	return NULL;
}

/*
 * Threads making the first engine ioctls of one file at once all get the
 * same engine: one debugfs entry, whose import handles are all different
 * (separate engines would each have handed out handle 1).
 */
TEST_F(engine, first_use_race)
{
	struct first_use u[4];
	pthread_t tid[4];
	pthread_barrier_t go;
	struct eng_dbg d[4];
	unsigned int i, j, round;
	int e, fd, n;

	fd = sgbuf_alloc_rw(self->dev, SZ_4K);
	ASSERT_LE(0, fd);
	for (round = 0; round < 20; round++) {
		e = sgbuf_open();
		ASSERT_LE(0, e);
		ASSERT_EQ(0, pthread_barrier_init(&go, NULL, ARRAY_SIZE(u)));
		for (i = 0; i < ARRAY_SIZE(u); i++) {
			u[i] = (struct first_use){ .eng = e, .buf_fd = fd, .go = &go };
			ASSERT_EQ(0, pthread_create(&tid[i], NULL, first_use_fn, &u[i]));
		}
		for (i = 0; i < ARRAY_SIZE(u); i++)
			ASSERT_EQ(0, pthread_join(tid[i], NULL));
		pthread_barrier_destroy(&go);
		for (i = 0; i < ARRAY_SIZE(u); i++) {
			EXPECT_EQ(0, u[i].ret) TH_LOG("round %u thread %u: IMPORT: %s", round, i,
						      strerror(-u[i].ret));
			for (j = 0; j < i; j++)
				EXPECT_NE(u[j].handle, u[i].handle)
					TH_LOG("round %u: threads %u and %u got handle %u",
					       round, j, i, u[i].handle);
		}
		n = engines_of_pid(getpid(), d, ARRAY_SIZE(d));
		EXPECT_EQ(1, n) TH_LOG("round %u: %d engines", round, n);
		if (n == 1)
			EXPECT_EQ((int)ARRAY_SIZE(u), d[0].nimports);
		EXPECT_EQ(0, close(e));
		if (_metadata->exit_code == KSFT_FAIL)
			break;
	}
	EXPECT_EQ(0, engines_of_pid(getpid(), d, ARRAY_SIZE(d)));
	EXPECT_EQ(0, bufinfo_attachments(fd));
	EXPECT_EQ(0, close(fd));
}

/* ------------------------------------------------------------ round trip */

TEST_F(engine, roundtrip_loop)
{
	struct sgbuf_submit s;
	struct tbuf b;
	int fails = 0;
	unsigned int i;

	tbuf_new(_metadata, self->dev, self->dev, &b, SZ_4K, 27);
	for (i = 1; i <= 100; i++) {
		int st = 1, ret;

		job_fill(&s, b.handle, 0, SZ_4K, i * 0x01010101U);
		ret = eng_submit(self->dev, &s);
		ASSERT_EQ(0, ret) TH_LOG("iteration %u: %s", i, strerror(-ret));
		EXPECT_EQ((__u64)i, s.seqno);
		ret = eng_wait(self->dev, s.seqno, WAIT_LONG_NS, &st, NULL);
		ASSERT_EQ(0, ret) TH_LOG("iteration %u: %s", i, strerror(-ret));
		fails += st != 0;
	}
	EXPECT_EQ(0, fails);
	model_fill(b.model, 0, SZ_4K, 100 * 0x01010101U);
	tbuf_check(_metadata, &b, "last FILL");
	tbuf_free(&b);
}

/*
 * A job's queue slot is free once WAIT has returned: with queue_depth 1,
 * SUBMIT right after WAIT never fails with EBUSY.
 */
TEST_F(engine, queue_slot_free_after_wait)
{
	struct sgbuf_submit s;
	struct eng_dbg d;
	int busy = 0, bad = 0;
	struct tbuf b;
	unsigned int i;

	tbuf_new(_metadata, self->dev, self->dev, &b, SZ_4K, 31);
	ASSERT_EQ(0, eng_config_simple(self->dev, 1, 0, 0));
	for (i = 0; i < 300; i++) {
		int st = 1, ret;

		job_fill(&s, b.handle, 0, SZ_4K, i);
		ret = eng_submit(self->dev, &s);
		if (ret == -EBUSY) {
			busy++;
			/* The slot frees up a moment later: go on. */
			usleep(1000);
			ret = eng_submit(self->dev, &s);
		}
		ASSERT_EQ(0, ret) TH_LOG("iteration %u: %s", i, strerror(-ret));
		ret = eng_wait(self->dev, s.seqno, WAIT_LONG_NS, &st, NULL);
		ASSERT_EQ(0, ret);
		bad += st != 0;
	}
	EXPECT_EQ(0, busy) TH_LOG("%d of 300 SUBMITs right after WAIT got EBUSY", busy);
	EXPECT_EQ(0, bad);
	ASSERT_EQ(0, engine_self(&d));
	EXPECT_EQ(0ULL, d.in_flight);
	tbuf_free(&b);
}

/* Several threads submitting on one engine. */
struct submitter {
	int eng;
	__u32 handle;
	unsigned int n;
	__u32 pattern;
	__u64 seqnos[64];
	int errors;
};

static void *submitter_main(void *arg)
{
	struct submitter *t = arg;
	unsigned int i;

	for (i = 0; i < t->n; i++) {
		struct sgbuf_submit s;
		int st = 1;

		job_fill(&s, t->handle, i * 64, 64, t->pattern + i);
		if (eng_submit(t->eng, &s)) {
			t->errors++;
			continue;
		}
		t->seqnos[i] = s.seqno;
		if (eng_wait(t->eng, s.seqno, WAIT_LONG_NS, &st, NULL) || st)
			t->errors++;
	}
	return NULL;
}

TEST_F(engine, concurrent_submitters)
{
	struct submitter t[4];
	pthread_t th[4];
	struct tbuf b[4];
	unsigned int i, j, k, l;

	for (i = 0; i < 4; i++) {
		tbuf_new(_metadata, self->dev, self->dev, &b[i], SZ_4K, 40 + i);
		memset(&t[i], 0, sizeof(t[i]));
		t[i].eng = self->dev;
		t[i].handle = b[i].handle;
		t[i].n = 64;
		t[i].pattern = 0x10000000U * (i + 1);
	}
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, pthread_create(&th[i], NULL, submitter_main, &t[i]));
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, pthread_join(th[i], NULL));
	for (i = 0; i < 4; i++) {
		EXPECT_EQ(0, t[i].errors) TH_LOG("thread %u", i);
		for (j = 0; j < t[i].n; j++)
			model_fill(b[i].model, j * 64, 64, t[i].pattern + j);
		tbuf_check(_metadata, &b[i], "per-thread FILLs");
	}
	/* 256 distinct seqnos, 1..256. */
	for (i = 0; i < 4; i++) {
		for (j = 0; j < 64; j++) {
			bool dup = false;

			for (k = 0; k < 4; k++)
				for (l = 0; l < 64; l++)
					dup |= (k != i || l != j) &&
					       t[k].seqnos[l] == t[i].seqnos[j];
			EXPECT_FALSE(dup) TH_LOG("seqno %llu given twice",
						 (unsigned long long)t[i].seqnos[j]);
			EXPECT_TRUE(t[i].seqnos[j] >= 1 && t[i].seqnos[j] <= 256);
		}
	}
	for (i = 0; i < 4; i++)
		tbuf_free(&b[i]);
}

/*
 * A fence that never signals: a software fence signals with -ETIMEDOUT
 * after the job_timeout_ms module parameter (lowered here to keep it
 * short), and the job waiting for it fails with -ETIMEDOUT.
 */
TEST_F(engine, in_fence_timeout)
{
	unsigned long long old = 0;
	struct sgbuf_submit s;
	struct tbuf b;
	int sw, st, ret;
	__u32 id = 0;

	ret = param_read("job_timeout_ms", &old);
	if (ret == -ENOENT)
		SKIP(return, "no job_timeout_ms module parameter: %s",
		     "the default timeout is too long to wait for");
	ASSERT_EQ(0, ret);
	ASSERT_EQ(0, param_write("job_timeout_ms", 300));
	tbuf_new(_metadata, self->dev, self->dev, &b, SZ_4K, 32);
	sw = sw_fence_create(self->dev, &id);
	ASSERT_LE(0, sw);
	job_fill(&s, b.handle, 0, SZ_4K, 0x0badf00d);
	job_in_fence(&s, sw);
	s.flags |= SGBUF_SUBMIT_OUT_FENCE;
	ret = eng_submit(self->dev, &s);
	EXPECT_EQ(0, param_write("job_timeout_ms", old));
	ASSERT_EQ(0, ret);
	st = wait_job(_metadata, self->dev, s.seqno, NULL);
	EXPECT_EQ(-ETIMEDOUT, st);
	EXPECT_EQ(-ETIMEDOUT, fence_status(s.out_fence_fd));
	tbuf_check(_metadata, &b, "timed-out FILL");
	/* The software fence times out by itself (not later than 5 s). */
	EXPECT_EQ(POLLIN, poll_fd(sw, POLLIN, 5000));
	EXPECT_EQ(-ETIMEDOUT, fence_status(sw));
	EXPECT_EQ(-ENOENT, sw_fence_signal(self->dev, id, 0))
		TH_LOG("a timed-out software fence can still be signalled");
	close(s.out_fence_fd);
	close(sw);
	tbuf_free(&b);
}

/* ------------------------------------------------------ module lifetime */

/* Wait up to 3 s for the module's refcount to become @want. */
static long long refcnt_settle(unsigned long long want)
{
	unsigned long long v = ~0ULL;
	int i, ret;

	for (i = 0; i < 300; i++) {
		ret = read_ull_file(SGBUF_MODULE_REFCNT, &v);
		if (ret)
			return ret;
		if (v == want)
			break;
		usleep(10 * 1000);
	}
	return (long long)v;
}

/*
 * (e) Keep this test last: with every /dev/sgbuf file and every buffer
 * closed, an out-fence of a finished job still pins the module (its ops
 * live in the module). Never actually unloads: if nothing pins the module
 * this fails before calling delete_module().
 */
TEST_F(engine, unload_refused_while_fence_open)
{
	struct sgbuf_submit s;
	unsigned long long ref = 0;
	long long settled;
	struct tbuf b;
	int out, ret;
	__u64 seq;

	if (geteuid() != 0)
		SKIP(return, "delete_module() needs root");
	tbuf_new(_metadata, self->dev, self->dev, &b, SZ_4K, 28);
	job_fill(&s, b.handle, 0, SZ_4K, 0x600df00d);
	s.flags = SGBUF_SUBMIT_OUT_FENCE;
	seq = submit_ok(_metadata, self->dev, &s);
	out = s.out_fence_fd;
	ASSERT_LE(0, out);
	EXPECT_EQ(0, wait_job(_metadata, self->dev, seq, NULL));
	EXPECT_EQ(1, fence_status(out));

	tbuf_free(&b);
	ASSERT_EQ(0, close(self->dev));
	self->dev = -1;
	ASSERT_EQ(self->fds_base, count_open_fds())
		TH_LOG("something besides the fence is still open");

	ASSERT_EQ(0, read_ull_file(SGBUF_MODULE_REFCNT, &ref));
	ASSERT_LT(0ULL, ref)
		TH_LOG("only a fence is open and nothing pins the module: %s",
		       "not unloading it");

	ret = syscall(__NR_delete_module, "sgbuf", O_NONBLOCK) ? -errno : 0;
	ASSERT_NE(0, ret) TH_LOG("sgbuf was unloaded while a fence of it was open");
	if (ret == -EPERM)
		SKIP(close(out); return, "delete_module: EPERM");
	EXPECT_TRUE(ret == -EWOULDBLOCK || ret == -EAGAIN)
		TH_LOG("delete_module: %s", strerror(-ret));

	EXPECT_EQ(POLLIN, poll_fd(out, POLLIN, 0));
	EXPECT_EQ(0, close(out));
	settled = refcnt_settle(0);
	EXPECT_EQ(0, settled) TH_LOG("module refcount %lld after the last fence closed (was %llu)",
				     settled, ref);
}

TEST_HARNESS_MAIN
