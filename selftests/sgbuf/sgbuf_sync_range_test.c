// SPDX-License-Identifier: GPL-2.0
/*
 * SGBUF_IOCTL_SYNC_RANGE: DMA_BUF_IOCTL_SYNC for part of an sgbuf buffer.
 *
 * The engine writes or reads a buffer through an SGBUF_IMPORT_NO_SYNC
 * import, which leaves every cache and bounce-buffer sync to the exporter.
 * Under swiotlb=force the engine then works on its bounce buffer only, so
 * what a ranged sync moves, and what it leaves alone, is visible to the
 * byte: a START makes exactly the range's device writes visible through
 * mmap, an END hands exactly the range's CPU writes to the device. In the
 * other boot variants the engine's 64-bit device reaches the pages
 * directly and everything is visible at once; the tests assert what each
 * variant makes deterministic. Also: START waits for fences before it
 * syncs (a job's, and one imported with DMA_BUF_IOCTL_IMPORT_SYNC_FILE;
 * interruptibly; readers only for a write), every errno, struct
 * extensibility, and EOPNOTSUPP for dma-bufs of other exporters.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <linux/dma-heap.h>
#include <linux/udmabuf.h>

#include "drivers.h"
#include "engine.h"
#include "harness.h"

_Static_assert(sizeof(struct sgbuf_sync_range) == SGBUF_SYNC_RANGE_SIZE_VER0,
	       "struct sgbuf_sync_range size changed");
/* SGBUF_SYNC_* are DMA_BUF_SYNC_*. */
_Static_assert(SGBUF_SYNC_READ == DMA_BUF_SYNC_READ, "READ");
_Static_assert(SGBUF_SYNC_WRITE == DMA_BUF_SYNC_WRITE, "WRITE");
_Static_assert(SGBUF_SYNC_RW == DMA_BUF_SYNC_RW, "RW");
_Static_assert(SGBUF_SYNC_START == DMA_BUF_SYNC_START, "START");
_Static_assert(SGBUF_SYNC_END == DMA_BUF_SYNC_END, "END");
_Static_assert(SGBUF_SYNC_VALID_FLAGS == DMA_BUF_SYNC_VALID_FLAGS_MASK, "VALID");

#define R_START		(SGBUF_SYNC_START | SGBUF_SYNC_READ)
#define R_END		(SGBUF_SYNC_END | SGBUF_SYNC_READ)
#define W_START		(SGBUF_SYNC_START | SGBUF_SYNC_WRITE)
#define W_END		(SGBUF_SYNC_END | SGBUF_SYNC_WRITE)

/* More than four swiotlb segments (256 KiB each), not a power of two. */
#define RSIZE		(SZ_1M + 3 * SZ_4K)

#define IOC_SZ(dir, nr, sz)	_IOC((dir), SGBUF_IOC_MAGIC, (nr), (sz))

/* SGBUF_IOCTL_SYNC_RANGE. Returns 0 or -errno. */
static int sync_range(int dev, int fd, __u64 flags, __u64 offset, __u64 length)
{
	struct sgbuf_sync_range r;

	memset(&r, 0, sizeof(r));
	r.fd = fd;
	r.flags = flags;
	r.offset = offset;
	r.length = length;
	return ioctl(dev, SGBUF_IOCTL_SYNC_RANGE, &r) ? -errno : 0;
}

/* Byte @i of the per-word pattern @seed (pattern_fill() of common.h). */
static uint8_t pattern_byte(size_t i, uint64_t seed)
{
	return (uint8_t)(pattern_word(i / 8, seed) >> (8 * (i % 8)));
}

/* First offset in [from, to) where @p does not hold pattern @seed, or -1. */
static long pattern_diff(const uint8_t *p, size_t from, size_t to,
			 uint64_t seed)
{
	size_t i;

	for (i = from; i < to; i++)
		if (p[i] != pattern_byte(i, seed))
			return (long)i;
	return -1;
}

/* First offset in [from, to) where @p is not FILL's @pat, or -1. */
static long fill_diff(const uint8_t *p, size_t from, size_t to, size_t start,
		      uint32_t pat)
{
	size_t i;

	for (i = from; i < to; i++)
		if (p[i] != (uint8_t)(pat >> (8 * ((i - start) % 4))))
			return (long)i;
	return -1;
}

FIXTURE(range) {
	SGBUF_FIXTURE_FIELDS;
	int fd;
	uint8_t *map;
	bool swiotlb;
};

FIXTURE_SETUP(range)
{
	SGBUF_FIXTURE_SETUP(self);
	ASSERT_NE(0ULL, self->info_base.caps & SGBUF_CAP_SYNC_RANGE)
		TH_LOG("SGBUF_CAP_SYNC_RANGE is clear in caps %#llx",
		       (unsigned long long)self->info_base.caps);
	self->swiotlb = cmdline_has("swiotlb=force");
	self->fd = sgbuf_alloc_rw(self->dev, RSIZE);
	ASSERT_LE(0, self->fd) TH_LOG("alloc: %s", strerror(-self->fd));
	self->map = map_buf(self->fd, RSIZE, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, self->map) TH_LOG("mmap: %s", strerror(errno));
}

FIXTURE_TEARDOWN(range)
{
	SGBUF_FIXTURE_TEARDOWN(self);	/* closes every fd, unmaps */
}

/* Write pattern @seed over the whole buffer inside DMA_BUF_IOCTL_SYNC. */
static void cpu_fill(struct __test_metadata *_metadata,
		     FIXTURE_DATA(range) *self, uint64_t seed)
{
	ASSERT_EQ(0, dmabuf_sync(self->fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE));
	pattern_fill(self->map, RSIZE, seed);
	ASSERT_EQ(0, dmabuf_sync(self->fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE));
}

TEST_F(range, abi)
{
	EXPECT_EQ(3ULL, (unsigned long long)SGBUF_ABI_VERSION);
	EXPECT_EQ((__u64)SGBUF_ABI_VERSION, self->info_base.abi_version);
	EXPECT_EQ(48, SGBUF_SYNC_RANGE_SIZE_VER0);
	EXPECT_EQ((unsigned long)_IOW(SGBUF_IOC_MAGIC, 0x02, struct sgbuf_sync_range),
		  (unsigned long)SGBUF_IOCTL_SYNC_RANGE);
}

/*
 * Every direction on every kind of range, with no device attached and
 * with one attached, START and END unbalanced: all succeed. They leave
 * the CPU's data alone here only because the pages and any bounce buffer
 * hold the same bytes: unpaired calls do move data (see the uapi header).
 */
TEST_F(range, valid_ranges)
{
	const struct { unsigned long long off, len; } r[] = {
		{ 0, RSIZE }, { 0, 1 }, { RSIZE - 1, 1 }, { 1, RSIZE - 1 },
		{ 4095, 2 }, { SZ_256K - 1, SZ_256K + 2 }, { 12345, 678901 },
	};
	const __u64 dirs[] = { SGBUF_SYNC_READ, SGBUF_SYNC_WRITE, SGBUF_SYNC_RW };
	unsigned int i, j, pass;
	__u32 h = 0;
	long bad;
	int ret;

	cpu_fill(_metadata, self, 0x51);
	for (pass = 0; pass < 2; pass++) {
		if (pass == 1)
			ASSERT_EQ(0, eng_import(self->dev, self->fd, 0, &h, NULL));
		for (i = 0; i < ARRAY_SIZE(r); i++) {
			for (j = 0; j < ARRAY_SIZE(dirs); j++) {
				ret = sync_range(self->dev, self->fd,
						 SGBUF_SYNC_START | dirs[j],
						 r[i].off, r[i].len);
				EXPECT_EQ(0, ret) TH_LOG("START %#llx off %llu len %llu: %s",
							 (unsigned long long)dirs[j], r[i].off,
							 r[i].len, strerror(-ret));
				ret = sync_range(self->dev, self->fd,
						 SGBUF_SYNC_END | dirs[j],
						 r[i].off, r[i].len);
				EXPECT_EQ(0, ret) TH_LOG("END %#llx off %llu len %llu: %s",
							 (unsigned long long)dirs[j], r[i].off,
							 r[i].len, strerror(-ret));
			}
		}
		/* Unbalanced: END first, START twice. */
		EXPECT_EQ(0, sync_range(self->dev, self->fd, W_END, 0, SZ_4K));
		EXPECT_EQ(0, sync_range(self->dev, self->fd, R_START, 0, SZ_4K));
		EXPECT_EQ(0, sync_range(self->dev, self->fd, R_START, 0, SZ_4K));
	}
	ASSERT_EQ(0, dmabuf_sync(self->fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ));
	bad = pattern_diff(self->map, 0, RSIZE, 0x51);
	ASSERT_EQ(0, dmabuf_sync(self->fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ));
	EXPECT_EQ(-1, bad) TH_LOG("CPU data changed at %ld", bad);
	EXPECT_EQ(0, eng_unimport(self->dev, h));

	/* A read-only dma-buf fd may be synced, as with DMA_BUF_IOCTL_SYNC. */
	ret = sgbuf_alloc(self->dev, SZ_4K, 0, O_RDONLY | O_CLOEXEC, NULL);
	ASSERT_LE(0, ret);
	EXPECT_EQ(0, sync_range(self->dev, ret, R_START, 0, SZ_4K));
	EXPECT_EQ(0, sync_range(self->dev, ret, W_END, 100, 1));
	EXPECT_EQ(0, close(ret));
}

/*
 * A START READ of a range makes exactly that range of what the engine
 * wrote visible. A range that crosses swiotlb's 256 KiB segments, and
 * unaligned at both ends, so that a page-granular sync would show.
 */
TEST_F(range, start_syncs_exactly_the_range)
{
	const unsigned long long off = SZ_256K - 100, len = 300001;
	const unsigned long long flags[] = {
		SGBUF_IMPORT_NO_SYNC, SGBUF_IMPORT_NO_SYNC | SGBUF_IMPORT_DMA32,
	};
	const __u32 pat = 0x5a0f1e2d;
	struct sgbuf_submit s;
	unsigned int i;
	long bad;
	int st;

	for (i = 0; i < ARRAY_SIZE(flags); i++) {
		size_t pg;
		__u32 h = 0;

		cpu_fill(_metadata, self, 0x60 + i);
		/* Under swiotlb the bounce buffer now holds the pattern too. */
		ASSERT_EQ(0, eng_import(self->dev, self->fd, flags[i], &h, NULL));
		job_fill(&s, h, 0, RSIZE, pat);
		ASSERT_EQ(0, eng_submit(self->dev, &s));

		/* No WAIT: START waits for the FILL's fence. */
		ASSERT_EQ(0, sync_range(self->dev, self->fd, R_START, off, len));
		st = 1;
		EXPECT_EQ(0, eng_wait(self->dev, s.seqno, 0, &st, NULL))
			TH_LOG("the FILL was not done when START returned");
		EXPECT_EQ(0, st);

		bad = fill_diff(self->map, off, off + len, 0, pat);
		EXPECT_EQ(-1, bad) TH_LOG("import %#llx: byte %ld in the range is %#x",
					  flags[i], bad, bad >= 0 ? self->map[bad] : 0);
		/*
		 * Outside the range: under swiotlb=force both devices bounce
		 * everything and nothing synced it, so it is the CPU's old
		 * pattern to the byte. Otherwise the 64-bit device wrote the
		 * pages themselves; the 32-bit one bounced only the pages
		 * above 4 GiB, so each page shows one or the other.
		 */
		if (self->swiotlb) {
			bad = pattern_diff(self->map, 0, off, 0x60 + i);
			EXPECT_EQ(-1, bad)
				TH_LOG("import %#llx: byte %ld before the range was synced",
				       flags[i], bad);
			bad = pattern_diff(self->map, off + len, RSIZE, 0x60 + i);
			EXPECT_EQ(-1, bad)
				TH_LOG("import %#llx: byte %ld after the range was synced",
				       flags[i], bad);
		} else if (!(flags[i] & SGBUF_IMPORT_DMA32)) {
			EXPECT_EQ(-1, fill_diff(self->map, 0, off, 0, pat));
			EXPECT_EQ(-1, fill_diff(self->map, off + len, RSIZE, 0, pat));
		} else {
			for (pg = 0; pg < RSIZE; pg += SZ_4K) {
				size_t a = pg, b = pg + SZ_4K;

				if (a < off + len && b > off) {	/* trim the range off */
					if (a >= off)
						a = off + len;
					else
						b = off;
				}
				if (a >= b)
					continue;
				EXPECT_TRUE(fill_diff(self->map, a, b, 0, pat) < 0 ||
					    pattern_diff(self->map, a, b, 0x60 + i) < 0)
					TH_LOG("page at %zu: neither old nor new data", pg);
			}
		}
		EXPECT_EQ(0, sync_range(self->dev, self->fd, R_END, off, len));

		/* The whole-buffer ioctl then shows all of the FILL. */
		ASSERT_EQ(0, dmabuf_sync(self->fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ));
		bad = fill_diff(self->map, 0, RSIZE, 0, pat);
		ASSERT_EQ(0, dmabuf_sync(self->fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ));
		EXPECT_EQ(-1, bad) TH_LOG("import %#llx: byte %ld after a full SYNC",
					  flags[i], bad);
		EXPECT_EQ(0, eng_unimport(self->dev, h));
	}
}

/*
 * An END WRITE of a range hands exactly that range of what the CPU wrote
 * to the device: the engine's CHECKSUM64 sees the new bytes in the range
 * and, under swiotlb=force, the old ones outside it.
 */
TEST_F(range, end_syncs_exactly_the_range)
{
	const unsigned long long off = 2 * SZ_256K - 33, len = SZ_256K + 65;
	const __u32 pat = 0x0badcafe;
	uint8_t *model = malloc(RSIZE);
	struct sgbuf_submit s;
	__u64 sum = 0, want;
	long bad;
	__u32 h = 0;
	int st = 1;

	ASSERT_NE(NULL, model);
	ASSERT_EQ(0, eng_import(self->dev, self->fd, SGBUF_IMPORT_NO_SYNC, &h, NULL));
	/* Device and CPU agree on FILL's pattern everywhere. */
	job_fill(&s, h, 0, RSIZE, pat);
	ASSERT_EQ(0, eng_submit(self->dev, &s));
	ASSERT_EQ(0, dmabuf_sync(self->fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE));
	bad = fill_diff(self->map, 0, RSIZE, 0, pat);
	EXPECT_EQ(-1, bad) TH_LOG("after the FILL: byte %ld", bad);

	/* The CPU rewrites everything, then ends access to the range only. */
	pattern_fill(self->map, RSIZE, 0x77);
	ASSERT_EQ(0, sync_range(self->dev, self->fd, W_END, off, len));

	model_fill(model, 0, RSIZE, pat);
	memcpy(model + off, self->map + off, len);
	job_checksum64(&s, h, off, len);
	ASSERT_EQ(0, eng_submit(self->dev, &s));
	ASSERT_EQ(0, eng_wait64(self->dev, s.seqno, WAIT_LONG_NS, &st, &sum));
	EXPECT_EQ(0, st);
	EXPECT_EQ(sgbuf_checksum64(model + off, len), sum)
		TH_LOG("the device does not see the CPU's writes in the range");

	job_checksum64(&s, h, 0, RSIZE);
	ASSERT_EQ(0, eng_submit(self->dev, &s));
	ASSERT_EQ(0, eng_wait64(self->dev, s.seqno, WAIT_LONG_NS, &st, &sum));
	EXPECT_EQ(0, st);
	if (self->swiotlb) {
		want = sgbuf_checksum64(model, RSIZE);
		EXPECT_EQ(want, sum)
			TH_LOG("swiotlb=force: bytes outside the range reached the device");
	} else {
		want = sgbuf_checksum64(self->map, RSIZE);
		EXPECT_EQ(want, sum) TH_LOG("the device does not see the CPU's writes");
	}
	EXPECT_EQ(0, eng_unimport(self->dev, h));
	free(model);
}

struct sync_thread {
	int dev, fd;
	__u64 flags, off, len;
	pid_t tid;	/* set before the ioctl */
	int done;	/* set after it; both __atomic */
	int ret;
};

static void *sync_thread_fn(void *arg)
{
	struct sync_thread *t = arg;

	__atomic_store_n(&t->tid, (pid_t)syscall(SYS_gettid), __ATOMIC_SEQ_CST);
	t->ret = sync_range(t->dev, t->fd, t->flags, t->off, t->len);
	__atomic_store_n(&t->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

/* The first line of /proc/self/task/<tid>/@file, or "" if unreadable. */
static void task_file(pid_t tid, const char *file, char *buf, size_t size)
{
	char path[64];
	ssize_t n;
	int fd;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "/proc/self/task/%d/%s", (int)tid, file);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, buf, size - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
}

/* The state letter of thread @tid of this process, or '?'. */
static char task_state(pid_t tid)
{
	char buf[512], *p;

	task_file(tid, "stat", buf, sizeof(buf));
	p = strrchr(buf, ')');	/* the comm may hold spaces and parentheses */
	return p && p[1] == ' ' && p[2] ? p[2] : '?';
}

/*
 * Wait, at most @timeout_ms, until thread @t sleeps (state S) in the ioctl
 * it has begun: in a system call, which /proc/.../syscall names as ioctl
 * where the kernel tells. Returns true once it does, false if it returned
 * or never slept; logs what it saw.
 */
static bool sleeps_in_ioctl(struct __test_metadata *_metadata,
			    struct sync_thread *t, int timeout_ms)
{
	long long end = now_ns() + MS_NS(timeout_ms);
	char sc[256] = "", wchan[128] = "", want[16];
	pid_t tid = 0;
	char st = '?';

	snprintf(want, sizeof(want), "%d ", SYS_ioctl);
	while (now_ns() < end && !__atomic_load_n(&t->done, __ATOMIC_SEQ_CST)) {
		tid = __atomic_load_n(&t->tid, __ATOMIC_SEQ_CST);
		if (tid) {
			st = task_state(tid);
			task_file(tid, "syscall", sc, sizeof(sc));
			/* "running" while it runs; unreadable without the feature */
			if (st == 'S' && (!sc[0] || !strncmp(sc, want, strlen(want)))) {
				task_file(tid, "wchan", wchan, sizeof(wchan));
				TH_LOG("thread %d sleeps: syscall \"%.24s\", wchan %s", (int)tid,
				       sc, wchan[0] ? wchan : "?");
				return true;
			}
		}
		usleep(1000);
	}
	TH_LOG("thread %d: done %d, state %c, syscall \"%.24s\"", (int)tid,
	       __atomic_load_n(&t->done, __ATOMIC_SEQ_CST), st, sc);
	return false;
}

/*
 * START waits for the device before it syncs: with the FILL held by a
 * software fence, a START READ sleeps in the ioctl; once the fence signals
 * it returns with the FILL's data in the range, also under swiotlb=force,
 * where a sync made before the device wrote would copy stale bytes.
 */
TEST_F(range, start_waits_then_syncs)
{
	struct sync_thread t = { .dev = self->dev, .fd = self->fd,
				 .flags = R_START, .off = SZ_4K + 3,
				 .len = 2 * SZ_4K };
	const __u32 pat = 0x1234abcd;
	struct sgbuf_submit s;
	pthread_t tid;
	__u32 h = 0, id = 0;
	long bad;
	int sw;

	cpu_fill(_metadata, self, 0x90);
	ASSERT_EQ(0, eng_import(self->dev, self->fd, SGBUF_IMPORT_NO_SYNC, &h, NULL));
	sw = sw_fence_create(self->dev, &id);
	ASSERT_LE(0, sw);
	job_fill(&s, h, 0, RSIZE, pat);
	job_in_fence(&s, sw);
	ASSERT_EQ(0, eng_submit(self->dev, &s));

	ASSERT_EQ(0, pthread_create(&tid, NULL, sync_thread_fn, &t));
	EXPECT_TRUE(sleeps_in_ioctl(_metadata, &t, 5000))
		TH_LOG("START READ did not wait for the pending writer");
	EXPECT_EQ(0, __atomic_load_n(&t.done, __ATOMIC_SEQ_CST))
		TH_LOG("START READ returned while a writer was pending");
	EXPECT_EQ(-ETIME, eng_wait(self->dev, s.seqno, 0, NULL, NULL));
	ASSERT_EQ(0, sw_fence_signal(self->dev, id, 0));
	ASSERT_EQ(0, pthread_join(tid, NULL));
	EXPECT_EQ(0, t.ret) TH_LOG("START READ: %s", strerror(-t.ret));
	bad = fill_diff(self->map, t.off, t.off + t.len, 0, pat);
	EXPECT_EQ(-1, bad) TH_LOG("byte %ld of the range is stale", bad);
	EXPECT_EQ(0, sync_range(self->dev, self->fd, R_END, t.off, t.len));
	EXPECT_EQ(0, eng_unimport(self->dev, h));
	close(sw);
}

/*
 * The same through the dma-buf core alone, with no job: an unsignalled
 * software fence imported into the buffer as a write fence
 * (DMA_BUF_IOCTL_IMPORT_SYNC_FILE) holds a ranged START READ in the ioctl
 * until the main thread signals it; imported as a read fence, it holds a
 * START WRITE but not a START READ.
 */
TEST_F(range, start_waits_for_imported_fence)
{
	const __u64 starts[] = { R_START, W_START };
	const __u32 usage[] = { DMA_BUF_SYNC_WRITE, DMA_BUF_SYNC_READ };
	struct dma_buf_import_sync_file imp;
	struct sync_thread t;
	unsigned int i;
	pthread_t tid;
	__u32 id = 0;
	int sw;

	for (i = 0; i < ARRAY_SIZE(starts); i++) {
		sw = sw_fence_create(self->dev, &id);
		ASSERT_LE(0, sw);
		memset(&imp, 0, sizeof(imp));
		imp.flags = usage[i];
		imp.fd = sw;
		ASSERT_EQ(0, ioctl(self->fd, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, &imp))
			TH_LOG("DMA_BUF_IOCTL_IMPORT_SYNC_FILE: %s", strerror(errno));
		if (usage[i] == DMA_BUF_SYNC_READ) {
			/* A reader does not hold a CPU read. */
			EXPECT_EQ(0, sync_range(self->dev, self->fd, R_START, 0, SZ_4K));
			EXPECT_EQ(0, sync_range(self->dev, self->fd, R_END, 0, SZ_4K));
		}

		memset(&t, 0, sizeof(t));
		t.dev = self->dev;
		t.fd = self->fd;
		t.flags = starts[i];
		t.off = SZ_256K - 1;
		t.len = 2;
		ASSERT_EQ(0, pthread_create(&tid, NULL, sync_thread_fn, &t));
		EXPECT_TRUE(sleeps_in_ioctl(_metadata, &t, 5000))
			TH_LOG("START %s did not wait for the imported %s fence",
			       i ? "WRITE" : "READ", i ? "read" : "write");
		EXPECT_EQ(0, __atomic_load_n(&t.done, __ATOMIC_SEQ_CST))
			TH_LOG("START returned before the fence signalled");
		ASSERT_EQ(0, sw_fence_signal(self->dev, id, 0));
		ASSERT_EQ(0, pthread_join(tid, NULL));
		EXPECT_EQ(0, t.ret) TH_LOG("START: %s", strerror(-t.ret));
		EXPECT_EQ(0, sync_range(self->dev, self->fd, starts[i] | SGBUF_SYNC_END,
					t.off, t.len));
		close(sw);
	}
}

static void on_alarm(int sig)
{
	(void)sig;
}

/*
 * A CPU read waits for device writers only, a CPU write for readers too;
 * the wait is interruptible (EINTR without SA_RESTART).
 */
TEST_F(range, write_waits_for_readers_interruptibly)
{
	struct itimerval it = { .it_value = { .tv_usec = 200 * 1000 } };
	struct sgbuf_submit s;
	struct sigaction sa;
	__u32 h = 0, id = 0;
	long long t0;
	int sw, ret, st;

	ASSERT_EQ(0, eng_import(self->dev, self->fd, 0, &h, NULL));
	sw = sw_fence_create(self->dev, &id);
	ASSERT_LE(0, sw);
	job_checksum64(&s, h, 0, RSIZE);	/* a reader, held */
	job_in_fence(&s, sw);
	ASSERT_EQ(0, eng_submit(self->dev, &s));

	ret = sync_range(self->dev, self->fd, R_START, 0, SZ_4K);
	EXPECT_EQ(0, ret) TH_LOG("START READ with a reader pending: %s", strerror(-ret));
	EXPECT_EQ(-ETIME, eng_wait(self->dev, s.seqno, 0, NULL, NULL));
	EXPECT_EQ(0, sync_range(self->dev, self->fd, R_END, 0, SZ_4K));

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;	/* no SA_RESTART */
	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));
	ASSERT_EQ(0, setitimer(ITIMER_REAL, &it, NULL));
	t0 = now_ns();
	ret = sync_range(self->dev, self->fd, W_START, 0, SZ_4K);
	EXPECT_EQ(-EINTR, ret) TH_LOG("START WRITE with a reader pending: %s after %lld ms",
				      strerror(-ret), (now_ns() - t0) / 1000000);
	EXPECT_LE(MS_NS(150), now_ns() - t0);
	ASSERT_EQ(0, setitimer(ITIMER_REAL, &it, NULL));
	ret = sync_range(self->dev, self->fd, SGBUF_SYNC_START | SGBUF_SYNC_RW, 0, SZ_4K);
	EXPECT_EQ(-EINTR, ret) TH_LOG("START RW with a reader pending: %s", strerror(-ret));

	ASSERT_EQ(0, sw_fence_signal(self->dev, id, 0));
	ret = sync_range(self->dev, self->fd, W_START, 0, SZ_4K);
	EXPECT_EQ(0, ret) TH_LOG("START WRITE once the reader is done: %s", strerror(-ret));
	st = 1;
	EXPECT_EQ(0, eng_wait(self->dev, s.seqno, 0, &st, NULL));
	EXPECT_EQ(0, st);
	EXPECT_EQ(0, sync_range(self->dev, self->fd, W_END, 0, SZ_4K));
	EXPECT_EQ(0, eng_unimport(self->dev, h));
	close(sw);
}

struct bad_case {
	const char *what;
	int err;
	struct sgbuf_sync_range r;
};

TEST_F(range, bad_input)
{
	struct {
		struct sgbuf_sync_range r;
		__u64 tail;
	} big;
	struct bad_case bad[48];
	const __u64 top = ~0ULL;
	unsigned int i, n = 0;
	int null, pipefd[2], sw, closed, ret, fds;
	__u32 id = 0;

	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, null);
	ASSERT_EQ(0, pipe2(pipefd, O_CLOEXEC));
	sw = sw_fence_create(self->dev, &id);
	ASSERT_LE(0, sw);
	closed = dup(null);
	ASSERT_LE(0, closed);
	ASSERT_EQ(0, close(closed));

#define BAD(_what, _err, _fd, _flags, _off, _len, ...) do {		\
		bad[n].what = _what;					\
		bad[n].err = _err;					\
		memset(&bad[n].r, 0, sizeof(bad[n].r));			\
		bad[n].r.fd = _fd;					\
		bad[n].r.flags = _flags;				\
		bad[n].r.offset = _off;					\
		bad[n].r.length = _len;					\
		__VA_ARGS__;						\
		n++;							\
	} while (0)
	BAD("fd -1", -EBADF, -1, R_START, 0, 1);
	BAD("closed fd", -EBADF, closed, R_START, 0, 1);
	BAD("fd INT_MAX", -EBADF, INT_MAX, R_START, 0, 1);
	BAD("/dev/null", -EINVAL, null, R_START, 0, 1);
	BAD("a pipe", -EINVAL, pipefd[0], R_START, 0, 1);
	BAD("a sync_file", -EINVAL, sw, R_START, 0, 1);
	BAD("the /dev/sgbuf fd", -EINVAL, self->dev, R_START, 0, 1);
	BAD("START without direction", -EINVAL, self->fd, SGBUF_SYNC_START, 0, 1);
	BAD("END without direction", -EINVAL, self->fd, SGBUF_SYNC_END, 0, 1);
	BAD("flags bit 3", -EINVAL, self->fd, R_START | (1ULL << 3), 0, 1);
	BAD("flags bit 32", -EINVAL, self->fd, R_START | (1ULL << 32), 0, 1);
	BAD("flags bit 63", -EINVAL, self->fd, W_END | (1ULL << 63), 0, 1);
	BAD("flags ~0", -EINVAL, self->fd, top, 0, 1);
	BAD("pad", -EINVAL, self->fd, R_START, 0, 1, bad[n].r.pad = 1);
	BAD("reserved[0]", -EINVAL, self->fd, R_START, 0, 1, bad[n].r.reserved[0] = 1);
	BAD("reserved[1]", -EINVAL, self->fd, W_END, 0, 1, bad[n].r.reserved[1] = 1ULL << 63);
	BAD("length 0", -EINVAL, self->fd, R_START, 0, 0);
	BAD("length 0 at the end", -EINVAL, self->fd, W_END, RSIZE, 0);
	BAD("offset = size", -EINVAL, self->fd, R_START, RSIZE, 1);
	BAD("one byte past the end", -EINVAL, self->fd, R_START, RSIZE - 1, 2);
	BAD("length size + 1", -EINVAL, self->fd, W_END, 0, RSIZE + 1);
	BAD("offset ~0", -EINVAL, self->fd, R_START, top, 1);
	BAD("end wraps to 0", -EINVAL, self->fd, R_START, SZ_4K, top - SZ_4K + 1);
	BAD("end wraps past 0", -EINVAL, self->fd, W_END, top - 10, 100);
	BAD("length ~0", -EINVAL, self->fd, R_START, 1, top);
	ASSERT_LE(n, ARRAY_SIZE(bad));
#undef BAD

	fds = count_open_fds();
	for (i = 0; i < n; i++) {
		ret = ioctl(self->dev, SGBUF_IOCTL_SYNC_RANGE, &bad[i].r) ? -errno : 0;
		EXPECT_EQ(bad[i].err, ret) TH_LOG("%s: got %s", bad[i].what, strerror(-ret));
	}
	EXPECT_EQ(fds, count_open_fds());
	EXPECT_EQ(-EFAULT, ioctl(self->dev, SGBUF_IOCTL_SYNC_RANGE, NULL) ? -errno : 0);

	/* The last byte, and all of it, are fine. */
	EXPECT_EQ(0, sync_range(self->dev, self->fd, R_START, RSIZE - 1, 1));
	EXPECT_EQ(0, sync_range(self->dev, self->fd, R_END, 0, RSIZE));

	/* Extensible struct. */
	memset(&big, 0, sizeof(big));
	big.r.fd = self->fd;
	big.r.flags = R_START;
	big.r.length = 1;
	big.tail = 1;
	ret = ioctl(self->dev, IOC_SZ(_IOC_WRITE, 0x02, sizeof(big)), &big) ? -errno : 0;
	EXPECT_EQ(-E2BIG, ret) TH_LOG("larger struct, non-zero tail: %s", strerror(-ret));
	ret = ioctl(self->dev, IOC_SZ(_IOC_WRITE, 0x02, SGBUF_SYNC_RANGE_SIZE_VER0 - 8),
		    &big) ? -errno : 0;
	EXPECT_EQ(-EINVAL, ret) TH_LOG("smaller struct: %s", strerror(-ret));
	big.tail = 0;
	ret = ioctl(self->dev, IOC_SZ(_IOC_WRITE, 0x02, sizeof(big)), &big) ? -errno : 0;
	EXPECT_EQ(0, ret) TH_LOG("larger struct, zero tail: %s", strerror(-ret));

	/* Number 0x02 in another direction is not this ioctl. */
	ret = ioctl(self->dev, IOC_SZ(_IOC_READ | _IOC_WRITE, 0x02,
				      SGBUF_SYNC_RANGE_SIZE_VER0), &big) ? -errno : 0;
	EXPECT_EQ(-ENOTTY, ret);
	ret = ioctl(self->dev, IOC_SZ(_IOC_READ, 0x02, SGBUF_SYNC_RANGE_SIZE_VER0),
		    &big) ? -errno : 0;
	EXPECT_EQ(-ENOTTY, ret);
	ret = ioctl(self->dev, _IO(SGBUF_IOC_MAGIC, 0x02)) ? -errno : 0;
	EXPECT_EQ(-ENOTTY, ret);

	close(null);
	close(pipefd[0]);
	close(pipefd[1]);
	close(sw);
}

/*
 * Dma-bufs of other exporters get EOPNOTSUPP (userspace falls back to
 * DMA_BUF_IOCTL_SYNC, which works on them), whatever the range.
 */
TEST_F(range, other_exporters)
{
	int drm, fd, heap, udmabuf, memfd, ret, tried = 0;

	drm = open_vgem();
	if (drm >= 0) {
		fd = vgem_dmabuf(drm, SZ_64K);
		ASSERT_LE(0, fd) TH_LOG("vgem dma-buf: %s", strerror(-fd));
		ret = sync_range(self->dev, fd, R_START, 0, SZ_4K);
		EXPECT_EQ(-EOPNOTSUPP, ret) TH_LOG("vgem: %s", strerror(-ret));
		ret = sync_range(self->dev, fd, W_END, 1, 2);
		EXPECT_EQ(-EOPNOTSUPP, ret) TH_LOG("vgem: %s", strerror(-ret));
		EXPECT_EQ(0, dmabuf_sync(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW));
		EXPECT_EQ(0, dmabuf_sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW));
		close(fd);
		close(drm);
		tried++;
	} else {
		TH_LOG("vgem: not tried, no vgem DRM node");
	}

	heap = open("/dev/dma_heap/system", O_RDONLY | O_CLOEXEC);
	if (heap >= 0) {
		struct dma_heap_allocation_data d;

		memset(&d, 0, sizeof(d));
		d.len = SZ_64K;
		d.fd_flags = O_RDWR | O_CLOEXEC;
		ASSERT_EQ(0, ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &d));
		ret = sync_range(self->dev, d.fd, SGBUF_SYNC_START | SGBUF_SYNC_RW, 0, SZ_64K);
		EXPECT_EQ(-EOPNOTSUPP, ret) TH_LOG("system heap: %s", strerror(-ret));
		close(d.fd);
		close(heap);
		tried++;
	} else {
		TH_LOG("system heap: not tried, %s", strerror(errno));
	}

	udmabuf = open("/dev/udmabuf", O_RDWR | O_CLOEXEC);
	if (udmabuf >= 0) {
		struct udmabuf_create c;

		memfd = memfd_create("sgbuf range", MFD_ALLOW_SEALING | MFD_CLOEXEC);
		ASSERT_LE(0, memfd);
		ASSERT_EQ(0, ftruncate(memfd, SZ_64K));
		ASSERT_EQ(0, fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK));
		memset(&c, 0, sizeof(c));
		c.memfd = memfd;
		c.flags = UDMABUF_FLAGS_CLOEXEC;
		c.size = SZ_64K;
		fd = ioctl(udmabuf, UDMABUF_CREATE, &c);
		ASSERT_LE(0, fd) TH_LOG("UDMABUF_CREATE: %s", strerror(errno));
		ret = sync_range(self->dev, fd, R_START, 0, SZ_4K);
		EXPECT_EQ(-EOPNOTSUPP, ret) TH_LOG("udmabuf: %s", strerror(-ret));
		close(fd);
		close(memfd);
		close(udmabuf);
		tried++;
	} else {
		TH_LOG("udmabuf: not tried, %s", strerror(errno));
	}
	if (!tried)
		SKIP(return, "no other exporter available (vgem, system heap, udmabuf)");
}

/* Another process's buffer passed over: the fd is all that counts. */
TEST_F(range, fd_of_a_buffer_from_another_file)
{
	int dev2, fd, ret;

	dev2 = sgbuf_open();
	ASSERT_LE(0, dev2);
	fd = sgbuf_alloc_rw(dev2, SZ_64K);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, close(dev2));
	ret = sync_range(self->dev, fd, SGBUF_SYNC_START | SGBUF_SYNC_RW, SZ_4K, SZ_4K);
	EXPECT_EQ(0, ret) TH_LOG("%s", strerror(-ret));
	ret = sync_range(self->dev, fd, SGBUF_SYNC_END | SGBUF_SYNC_RW, SZ_4K, SZ_4K);
	EXPECT_EQ(0, ret) TH_LOG("%s", strerror(-ret));
	ret = sync_range(self->dev, fd, R_START, SZ_64K, 1);
	EXPECT_EQ(-EINVAL, ret) TH_LOG("past the end of that buffer: %s", strerror(-ret));
	EXPECT_EQ(0, close(fd));
}

struct hammer {
	int dev, fd, failures, last_error;
	unsigned int seed;
};

static void *hammer_fn(void *arg)
{
	struct hammer *h = arg;
	int i, ret;

	for (i = 0; i < 300; i++) {
		__u64 off = rand_r(&h->seed) % RSIZE;
		__u64 len = 1 + rand_r(&h->seed) % (RSIZE - off);
		__u64 dir = 1 + i % 3;

		ret = sync_range(h->dev, h->fd, SGBUF_SYNC_START | dir, off, len);
		if (!ret)
			ret = sync_range(h->dev, h->fd, SGBUF_SYNC_END | dir, off, len);
		if (ret) {
			h->failures++;
			h->last_error = -ret;
		}
	}
	return NULL;
}

/* Concurrent ranged syncs of one buffer with two devices attached. */
TEST_F_TIMEOUT(range, concurrent, 120)
{
	struct hammer h[4];
	pthread_t tid[4];
	__u32 h1 = 0, h2 = 0;
	int i;

	ASSERT_EQ(0, eng_import(self->dev, self->fd, 0, &h1, NULL));
	ASSERT_EQ(0, eng_import(self->dev, self->fd, SGBUF_IMPORT_DMA32, &h2, NULL));
	for (i = 0; i < 4; i++) {
		h[i].dev = self->dev;
		h[i].fd = self->fd;
		h[i].failures = 0;
		h[i].last_error = 0;
		h[i].seed = i + 1;
		ASSERT_EQ(0, pthread_create(&tid[i], NULL, hammer_fn, &h[i]));
	}
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(0, pthread_join(tid[i], NULL));
		EXPECT_EQ(0, h[i].failures)
			TH_LOG("thread %d: %s", i, strerror(h[i].last_error));
	}
	EXPECT_EQ(0, eng_unimport(self->dev, h1));
	EXPECT_EQ(0, eng_unimport(self->dev, h2));
}

TEST_HARNESS_MAIN
