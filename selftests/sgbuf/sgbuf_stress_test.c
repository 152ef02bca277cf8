// SPDX-License-Identifier: GPL-2.0
/*
 * sgbuf under load, in races and at its limits (reliability.md 1.4, 1.9,
 * 4):
 *
 *  stress:  threads cycling alloc -> mmap -> CPU write -> SYNC -> IMPORT ->
 *           job -> WAIT -> UNIMPORT -> munmap -> close on both device nodes,
 *           every result checked, every counter flat at the end
 *           (SGBUF_STRESS_CYCLES sets the cycles per thread);
 *  race:    close(engine) vs SUBMIT, close(dma-buf) vs mmap, close vs
 *           IMPORT, SYNC/SYNC_RANGE vs a job writing the buffer, munmap vs
 *           jobs, fork vs jobs, each for a bounded time (SGBUF_RACE_MS);
 *  limits:  EMFILE on every path that makes an fd, SIGKILL in the middle
 *           of a huge allocation;
 *  memcg:   allocation until a cgroup v2 memory.max refuses (ENOMEM, not
 *           an OOM kill), and the charge going away on close;
 *  params:  the module parameters' caps not covered by sgbuf_alloc_test
 *           and sgbuf_engine_test (see the comment above that fixture).
 *
 * Every test ends with check_flat(): fds, bufinfo, GET_INFO live buffers
 * and bytes, dma-buf mappings in /proc/self/maps, this process's engines
 * in debugfs and the module's refcount (which every fence holds) back at
 * their values from before the test.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/sysinfo.h>
#include <sys/wait.h>
#include <linux/dma-heap.h>

#include "engine.h"
#include "harness.h"

#define SYNC_R_START	(DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ)
#define SYNC_R_END	(DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ)
#define SYNC_W_START	(DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE)
#define SYNC_W_END	(DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE)
#define SYNC_RW_START	(DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW)
#define SYNC_RW_END	(DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW)

#define SZ_512K			(512ULL << 10)
#define SZ_1G			(1ULL << 30)
#define MS(ms)			((long long)(ms) * 1000000LL)

#define STRESS_THREADS		4
#define STRESS_CYCLES		10000	/* per thread; SGBUF_STRESS_CYCLES */
#define RACE_MS			2500	/* per race test; SGBUF_RACE_MS */

/*
 * The fd number of what a race closes: far above every other fd the test
 * has (close_engine_vs_submit holds up to 256 out-fences), so that no fd
 * made during the race can take its number once it is closed.
 */
#define RACE_FD			1000

/* ------------------------------------------------------------- helpers */

/*
 * A positive integer from the environment, @def if unset. Returns -1 for
 * a value that is not a positive decimal number below 2^31.
 */
static long env_count(const char *name, long def)
{
	const char *v = getenv(name);
	char *end;
	long n;

	if (!v || !*v)
		return def;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || *end || n <= 0 || n > INT_MAX)
		return -1;
	return n;
}

/* xorshift64*: a per-thread pseudo-random sequence. */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

static int heap_alloc(int heap, unsigned long long len)
{
	struct dma_heap_allocation_data d = {
		.len = len,
		.fd_flags = O_RDWR | O_CLOEXEC,
	};

	if (ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &d))
		return -errno;
	return (int)d.fd;
}

static int open_heap(void)
{
	int fd = open(SGBUF_HEAP_DEV, O_RDONLY | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

/* SGBUF_IOCTL_SYNC_RANGE through @dev. Returns 0 or -errno. */
static int sync_range(int dev, int fd, unsigned long long flags,
		      unsigned long long off, unsigned long long len)
{
	struct sgbuf_sync_range r;

	memset(&r, 0, sizeof(r));
	r.fd = fd;
	r.flags = flags;
	r.offset = off;
	r.length = len;
	return ioctl(dev, SGBUF_IOCTL_SYNC_RANGE, &r) ? -errno : 0;
}

/* Move @fd to fd number @want (closing @fd). Returns @want or -errno. */
static int move_fd(int fd, int want)
{
	if (fd < 0)
		return fd;
	if (dup3(fd, want, O_CLOEXEC) != want) {
		int ret = -errno;

		close(fd);
		return ret;
	}
	close(fd);
	return want;
}

/* A line "key value" of a file such as memory.events or /proc/vmstat. */
static int read_key(const char *path, const char *key, long long *val)
{
	size_t klen = strlen(key);
	char line[256];
	int ret = -ENOENT;
	FILE *f;

	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, klen) &&
		    (line[klen] == ' ' || line[klen] == ':')) {
			*val = strtoll(line + klen + 1, NULL, 10);
			ret = 0;
			break;
		}
	}
	fclose(f);
	return ret;
}

/* MemFree from /proc/meminfo, in bytes, or -errno. */
static long long mem_free(void)
{
	long long kb = 0;
	int ret = read_key("/proc/meminfo", "MemFree", &kb);

	return ret ? ret : kb * 1024;
}

/* Write a string to a file (sysfs, cgroupfs). Returns 0 or -errno. */
static int write_str(const char *path, const char *s)
{
	ssize_t n, len = strlen(s);
	int fd, ret = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, s, len);
	if (n != len)
		ret = n < 0 ? -errno : -EIO;
	close(fd);
	return ret;
}

/* Every word of [p, p + len) is @pattern? Returns the first bad index or -1. */
static long words_check(const void *p, size_t len, uint32_t pattern)
{
	const uint32_t *w = p;
	size_t i;

	for (i = 0; i < len / 4; i++)
		if (w[i] != pattern)
			return (long)i;
	return -1;
}

static long race_ms(void)
{
	return env_count("SGBUF_RACE_MS", RACE_MS);
}

/* RACE_FD must be a valid fd number: raise the soft limit if needed. */
static int race_fd_allowed(void)
{
	struct rlimit lim;

	if (getrlimit(RLIMIT_NOFILE, &lim))
		return -errno;
	if (lim.rlim_cur > RACE_FD)
		return 0;
	if (lim.rlim_max <= RACE_FD)
		return -EMFILE;
	lim.rlim_cur = RACE_FD + 1;
	return setrlimit(RLIMIT_NOFILE, &lim) ? -errno : 0;
}

/* ------------------------------------------------ counters that stay flat */

struct flat {
	int fds;
	int bufinfo;
	int maps;
	int engines;
	unsigned long long refcnt;
	struct sgbuf_info info;
};

static int flat_read(struct flat *f)
{
	struct eng_dbg e;
	int ret;

	memset(f, 0, sizeof(*f));
	f->fds = count_open_fds();
	if (f->fds < 0)
		return f->fds;
	f->bufinfo = bufinfo_count();
	if (f->bufinfo < 0)
		return f->bufinfo;
	f->maps = dmabuf_maps_count();
	if (f->maps < 0)
		return f->maps;
	f->engines = engines_of_pid(getpid(), &e, 1);
	if (f->engines < 0)
		return f->engines;
	ret = read_ull_file(SGBUF_MODULE_REFCNT, &f->refcnt);
	if (ret)
		return ret;
	return sgbuf_get_info_nodev(&f->info);
}

/*
 * Everything a test made is gone: fds, buffers (bufinfo, live buffers and
 * bytes), mappings, engines, and the module references of its files,
 * buffers and fences. The refcount is given 3 s to settle (a fence's last
 * reference may be dropped by the workqueue a moment after close).
 */
static void check_flat(struct __test_metadata *_metadata,
		       const struct flat *base)
{
	struct flat now;
	int i, ret;

	for (i = 0; i < 300; i++) {
		ret = flat_read(&now);
		ASSERT_EQ(0, ret) TH_LOG("reading the counters: %s", strerror(-ret));
		if (now.refcnt == base->refcnt && now.bufinfo == base->bufinfo &&
		    now.info.live_buffers == base->info.live_buffers)
			break;
		usleep(10 * 1000);
	}
	EXPECT_EQ(base->fds, now.fds) TH_LOG("open fds");
	EXPECT_EQ(base->bufinfo, now.bufinfo) TH_LOG("sgbuf buffers in bufinfo");
	EXPECT_EQ(base->info.live_buffers, now.info.live_buffers)
		TH_LOG("GET_INFO live_buffers");
	EXPECT_EQ(base->info.total_size, now.info.total_size)
		TH_LOG("GET_INFO total_size");
	EXPECT_EQ(base->maps, now.maps) TH_LOG("dma-buf mappings");
	EXPECT_EQ(base->engines, now.engines) TH_LOG("engines of this process");
	EXPECT_EQ(base->refcnt, now.refcnt) TH_LOG("module refcount");
}

#define FLAT_FIXTURE(name)						\
	FIXTURE(name) {							\
		SGBUF_FIXTURE_FIELDS;					\
		struct flat base;					\
	};								\
	FIXTURE_SETUP(name)						\
	{								\
		int __ret;						\
									\
		SGBUF_FIXTURE_SETUP(self);				\
		ASSERT_NE(0ULL, self->info_base.caps & SGBUF_CAP_ENGINE); \
		__ret = race_fd_allowed();				\
		ASSERT_EQ(0, __ret) TH_LOG("RLIMIT_NOFILE below %d: %s",	\
					   RACE_FD + 1, strerror(-__ret)); \
		ASSERT_LT(0, race_ms()) TH_LOG("SGBUF_RACE_MS=%s is not a positive number", \
					       getenv("SGBUF_RACE_MS"));	\
		__ret = flat_read(&self->base);				\
		ASSERT_EQ(0, __ret) TH_LOG("%s", strerror(-__ret));	\
	}								\
	FIXTURE_TEARDOWN(name)						\
	{								\
		SGBUF_FIXTURE_TEARDOWN(self);				\
	}

/* Sum of the debugfs job counters of this process's engines. */
static int engines_sum(struct eng_dbg *sum, int *nimports)
{
	struct eng_dbg e[8];
	int i, n;

	memset(sum, 0, sizeof(*sum));
	*nimports = 0;
	n = engines_of_pid(getpid(), e, ARRAY_SIZE(e));
	if (n < 0)
		return n;
	if (n > (int)ARRAY_SIZE(e))
		return -E2BIG;
	for (i = 0; i < n; i++) {
		sum->submitted += e[i].submitted;
		sum->completed += e[i].completed;
		sum->failed += e[i].failed;
		sum->cancelled += e[i].cancelled;
		sum->in_flight += e[i].in_flight;
		sum->bytes += e[i].bytes;
		*nimports += e[i].nimports;
	}
	return n;
}

/* ================================================================ stress */

FLAT_FIXTURE(stress)

struct stress_ctx {
	unsigned int id, cycles;
	int eng;		/* engine file (shared by two threads), ALLOC too */
	int heap;		/* /dev/dma_heap/sgbuf */
	uint64_t rng;
	/* results */
	unsigned int done, jobs;
	unsigned long long bytes;	/* what the engine counts for them */
	char err[160];
};

#define STRESS_FAIL(c, i, fmt, ...) do {				\
	snprintf((c)->err, sizeof((c)->err), "thread %u cycle %u: " fmt, \
		 (c)->id, (i), ##__VA_ARGS__);				\
	goto out;							\
} while (0)

/*
 * One thread's cycles. Even cycles of thread 0 allocate from /dev/sgbuf,
 * odd ones from the heap node (and the other way round for odd threads);
 * jobs alternate between a COPY of the first half to the second (checked
 * through the mapping) and a CHECKSUM64 of a random range (checked against
 * the reference). Sizes are 1..16 pages.
 */
static void *stress_main(void *arg)
{
	struct stress_ctx *c = arg;
	const size_t pg = page_size();
	unsigned int i;

	for (i = 0; i < c->cycles; i++) {
		size_t size = (1 + rnd(&c->rng) % 16) * pg;
		uint64_t seed = (uint64_t)c->id << 32 | i;
		bool heap = (i + c->id) & 1, copy = (i >> 1) & 1;
		uint8_t *map = MAP_FAILED;
		struct sgbuf_submit s;
		__u64 isize = 0, sum = 0, want = 0;
		size_t off = 0, len;
		__u32 h = 0;
		int fd, ret, st = 1;

		fd = heap ? heap_alloc(c->heap, size) :
			    sgbuf_alloc_rw(c->eng, size);
		if (fd < 0)
			STRESS_FAIL(c, i, "ALLOC %zu on %s: %s", size,
				    heap ? "the heap" : "/dev/sgbuf",
				    strerror(-fd));
		map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (map == MAP_FAILED)
			STRESS_FAIL(c, i, "mmap: %s", strerror(errno));
		ret = dmabuf_sync(fd, SYNC_W_START);
		if (ret)
			STRESS_FAIL(c, i, "SYNC W START: %s", strerror(-ret));
		pattern_fill(map, size, seed);
		if (copy) {
			len = size / 2;
		} else {
			off = rnd(&c->rng) % (size / 2);
			len = 1 + rnd(&c->rng) % (size - off);
			want = sgbuf_checksum64(map + off, len);
		}
		ret = dmabuf_sync(fd, SYNC_W_END);
		if (ret)
			STRESS_FAIL(c, i, "SYNC W END: %s", strerror(-ret));
		ret = eng_import(c->eng, fd, 0, &h, &isize);
		if (ret || isize != size)
			STRESS_FAIL(c, i, "IMPORT: %s, size %llu", strerror(-ret),
				    (unsigned long long)isize);

		if (copy)
			job_copy(&s, h, 0, h, size - len, len);
		else
			job_checksum64(&s, h, off, len);
		ret = eng_submit(c->eng, &s);
		if (ret)
			STRESS_FAIL(c, i, "SUBMIT %s: %s", copy ? "COPY" : "CHECKSUM64",
				    strerror(-ret));
		ret = eng_wait64(c->eng, s.seqno, WAIT_LONG_NS, &st, &sum);
		if (ret || st)
			STRESS_FAIL(c, i, "WAIT seqno %llu: %s, status %d",
				    (unsigned long long)s.seqno, strerror(-ret), st);
		c->jobs++;
		c->bytes += len;
		if (copy) {
			ret = dmabuf_sync(fd, SYNC_R_START);
			if (ret)
				STRESS_FAIL(c, i, "SYNC R START: %s", strerror(-ret));
			if (memcmp(map + size - len, map, len) ||
			    pattern_check(map, len & ~7UL, seed) != -1)
				STRESS_FAIL(c, i, "COPY of %zu bytes: wrong data", len);
			ret = dmabuf_sync(fd, SYNC_R_END);
			if (ret)
				STRESS_FAIL(c, i, "SYNC R END: %s", strerror(-ret));
		} else if (sum != want) {
			STRESS_FAIL(c, i, "CHECKSUM64 [%zu, +%zu): %#llx, want %#llx",
				    off, len, (unsigned long long)sum,
				    (unsigned long long)want);
		}
		ret = eng_unimport(c->eng, h);
		h = 0;
		if (ret)
			STRESS_FAIL(c, i, "UNIMPORT: %s", strerror(-ret));
		if (munmap(map, size))
			STRESS_FAIL(c, i, "munmap: %s", strerror(errno));
		map = MAP_FAILED;
		if (close(fd))
			STRESS_FAIL(c, i, "close: %s", strerror(errno));
		c->done++;
		continue;
out:
		if (h)
			eng_unimport(c->eng, h);
		if (map != MAP_FAILED)
			munmap(map, size);
		if (fd >= 0)
			close(fd);
		break;
	}
	return NULL;
}

TEST_F_TIMEOUT(stress, cycles, 3600)
{
	struct stress_ctx c[STRESS_THREADS];
	pthread_t th[STRESS_THREADS];
	unsigned long long jobs = 0, bytes = 0;
	struct eng_dbg sum;
	int eng[2], heap, i, n, nimports;
	long cycles;
	long long t0, dt;

	cycles = env_count("SGBUF_STRESS_CYCLES", STRESS_CYCLES);
	ASSERT_LT(0, cycles) TH_LOG("SGBUF_STRESS_CYCLES=%s is not a positive number",
				    getenv("SGBUF_STRESS_CYCLES"));
	ASSERT_EQ(0, self->base.engines) TH_LOG("engines before the test");
	heap = open_heap();
	ASSERT_LE(0, heap) TH_LOG("%s: %s", SGBUF_HEAP_DEV, strerror(-heap));
	for (i = 0; i < 2; i++) {
		eng[i] = sgbuf_open();
		ASSERT_LE(0, eng[i]);
	}
	for (i = 0; i < STRESS_THREADS; i++) {
		memset(&c[i], 0, sizeof(c[i]));
		c[i].id = i;
		c[i].cycles = cycles;
		c[i].eng = eng[i / 2];
		c[i].heap = heap;
		c[i].rng = 0x9e3779b97f4a7c15ULL * (i + 1);
	}
	t0 = now_ns();
	for (i = 0; i < STRESS_THREADS; i++)
		ASSERT_EQ(0, pthread_create(&th[i], NULL, stress_main, &c[i]));
	for (i = 0; i < STRESS_THREADS; i++)
		ASSERT_EQ(0, pthread_join(th[i], NULL));
	dt = now_ns() - t0;
	for (i = 0; i < STRESS_THREADS; i++) {
		EXPECT_EQ((unsigned int)cycles, c[i].done) TH_LOG("%s", c[i].err);
		jobs += c[i].jobs;
		bytes += c[i].bytes;
	}
	TH_LOG("%d threads x %ld cycles in %lld.%03lld s (%lld cycles/s)",
	       STRESS_THREADS, cycles, dt / 1000000000, dt / 1000000 % 1000,
	       STRESS_THREADS * cycles * 1000000000LL / (dt ? dt : 1));

	/* Both engines: every job counted once, completed, nothing left. */
	n = engines_sum(&sum, &nimports);
	ASSERT_EQ(2, n);
	EXPECT_EQ(jobs, sum.submitted);
	EXPECT_EQ(jobs, sum.completed);
	EXPECT_EQ(0ULL, sum.failed);
	EXPECT_EQ(0ULL, sum.cancelled);
	EXPECT_EQ(0ULL, sum.in_flight);
	EXPECT_EQ(bytes, sum.bytes);
	EXPECT_EQ(0, nimports);

	close(eng[0]);
	close(eng[1]);
	close(heap);
	check_flat(_metadata, &self->base);
}

/* ================================================================= races */

FLAT_FIXTURE(race)

/* Wait (spinning politely) until *@v >= @want or *@stop. */
static void wait_count(atomic_int *v, int want, atomic_bool *stop)
{
	while (atomic_load(v) < want && !atomic_load(stop))
		sched_yield();
}

/* ----------------------------------------- close(engine fd) vs SUBMIT */

#define CE_SLOTS	256

struct ce_ctx {
	int buf;		/* the buffer's fd, for IMPORT */
	atomic_int submitted;	/* jobs submitted (slots 0..n-1) */
	atomic_bool stop;
	int fence[CE_SLOTS];	/* out-fences of the submitted jobs */
	int ebadf, ebusy;
	char err[128];
};

/*
 * Import the buffer into the engine at RACE_FD (its first engine ioctl)
 * and FILL slot after slot with an out-fence, until the fd is gone.
 */
static void *ce_submitter(void *arg)
{
	struct ce_ctx *c = arg;
	struct sgbuf_submit s;
	__u32 h = 0;
	int ret, j;

	ret = eng_import(RACE_FD, c->buf, 0, &h, NULL);
	if (ret) {
		if (ret == -EBADF)
			c->ebadf++;
		else
			snprintf(c->err, sizeof(c->err), "IMPORT: %s", strerror(-ret));
		atomic_store(&c->stop, true);
		return NULL;
	}
	for (j = 0; j < CE_SLOTS; j++) {
		job_fill(&s, h, (unsigned long long)j * SZ_4K, SZ_4K,
			 0x80000000U | j);
		s.flags = SGBUF_SUBMIT_OUT_FENCE;
		ret = eng_submit(RACE_FD, &s);
		if (ret == -EBUSY) {	/* queue full: allowed, try again */
			c->ebusy++;
			sched_yield();
			j--;
			continue;
		}
		if (ret == -EBADF) {
			c->ebadf++;
			break;
		}
		if (ret) {
			snprintf(c->err, sizeof(c->err), "SUBMIT slot %d: %s", j,
				 strerror(-ret));
			break;
		}
		c->fence[j] = s.out_fence_fd;
		atomic_fetch_add(&c->submitted, 1);
	}
	atomic_store(&c->stop, true);
	return NULL;
}

/*
 * Close an engine's fd while another thread submits on it (and, every
 * other round, makes the engine with its first ioctl): SUBMIT either
 * succeeds or fails with EBADF (EBUSY, queue full, is retried), never
 * hangs; once the last reference is gone every job it accepted has
 * signalled (done or -ECANCELED) and the engine is no longer listed; a
 * done job wrote its slot, a cancelled one nothing.
 */
TEST_F_TIMEOUT(race, close_engine_vs_submit, 120)
{
	unsigned long long done = 0, cancelled = 0, ebadf = 0, ebusy = 0;
	unsigned long long rounds = 0;
	long long deadline = now_ns() + MS(race_ms());
	struct sgbuf_engine_config cfg;
	static int st[CE_SLOTS];
	struct eng_dbg ed;
	uint64_t rng = 1;
	struct ce_ctx c;
	uint8_t *map;
	pthread_t th;
	int buf, e, j, k, n;

	while (now_ns() < deadline) {
		buf = sgbuf_alloc_rw(self->dev, CE_SLOTS * SZ_4K);
		ASSERT_LE(0, buf);
		e = move_fd(sgbuf_open(), RACE_FD);
		ASSERT_EQ(RACE_FD, e);
		/* Every other round, the engine exists before the race. */
		if (rounds & 1) {
			memset(&cfg, 0, sizeof(cfg));
			cfg.queue_depth = CE_SLOTS;
			cfg.latency_ns = 200 * 1000;
			ASSERT_EQ(0, eng_config(e, &cfg));
		}
		memset(&c, 0, sizeof(c));
		c.buf = buf;
		for (j = 0; j < CE_SLOTS; j++)
			c.fence[j] = -1;
		k = rnd(&rng) % 48;
		ASSERT_EQ(0, pthread_create(&th, NULL, ce_submitter, &c));
		wait_count(&c.submitted, k, &c.stop);
		ASSERT_EQ(0, close(RACE_FD));
		ASSERT_EQ(0, pthread_join(th, NULL));
		ASSERT_EQ(0, c.err[0]) TH_LOG("round %llu: %s", rounds, c.err);
		ebadf += c.ebadf;
		ebusy += c.ebusy;
		/*
		 * The last reference to the file went with the close or with
		 * the SUBMIT it raced, and its release ran before that call
		 * returned: the engine is gone, every job has signalled.
		 */
		EXPECT_EQ(self->base.engines, engines_of_pid(getpid(), &ed, 1))
			TH_LOG("round %llu: the closed engine is still listed", rounds);

		map = map_buf(buf, CE_SLOTS * SZ_4K, PROT_READ);
		ASSERT_NE(MAP_FAILED, map);
		n = atomic_load(&c.submitted);
		for (j = 0; j < n; j++) {
			ASSERT_LE(0, c.fence[j]);
			ASSERT_EQ(POLLIN, poll_fd(c.fence[j], POLLIN, 0))
				TH_LOG("round %llu: job %d not signalled after the close",
				       rounds, j);
			ASSERT_EQ(0, sync_file_status(c.fence[j], &st[j]));
			ASSERT_TRUE(st[j] == 1 || st[j] == -ECANCELED)
				TH_LOG("round %llu job %d: status %d", rounds, j, st[j]);
			close(c.fence[j]);
			done += st[j] == 1;
			cancelled += st[j] != 1;
		}
		/* Done: its slot is filled; cancelled or never submitted: zero. */
		ASSERT_EQ(0, dmabuf_sync(buf, SYNC_R_START));
		for (j = 0; j < CE_SLOTS; j++) {
			const uint8_t *slot = map + (size_t)j * SZ_4K;

			if (j < n && st[j] == 1) {
				EXPECT_EQ(-1, words_check(slot, SZ_4K, 0x80000000U | j))
					TH_LOG("round %llu slot %d: job done, data wrong",
					       rounds, j);
			} else {
				EXPECT_EQ(-1, find_nonzero(slot, SZ_4K))
					TH_LOG("round %llu slot %d: written without a job that ran",
					       rounds, j);
			}
		}
		ASSERT_EQ(0, dmabuf_sync(buf, SYNC_R_END));
		munmap(map, CE_SLOTS * SZ_4K);
		close(buf);
		rounds++;
	}
	TH_LOG("%llu rounds: %llu jobs done, %llu cancelled, %llu SUBMIT/IMPORT EBADF, %llu EBUSY",
	       rounds, done, cancelled, ebadf, ebusy);
	EXPECT_LT(0ULL, done);
	EXPECT_LT(0ULL, cancelled) TH_LOG("no close ever caught a queued job");
	check_flat(_metadata, &self->base);
}

/* --------------------------------------------- close(dma-buf fd) vs mmap */

#define CM_MAPS		64
#define CM_SIZE		(16 * SZ_4K)

struct cm_ctx {
	atomic_int mapped;
	atomic_bool stop;
	void *map[CM_MAPS];
	char err[128];
};

static void *cm_mapper(void *arg)
{
	struct cm_ctx *c = arg;
	int n;

	for (n = 0; n < CM_MAPS; n++) {
		void *p = mmap(NULL, CM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
			       RACE_FD, 0);

		if (p == MAP_FAILED) {
			if (errno != EBADF)
				snprintf(c->err, sizeof(c->err), "mmap: %s",
					 strerror(errno));
			break;
		}
		c->map[n] = p;
		atomic_fetch_add(&c->mapped, 1);
	}
	atomic_store(&c->stop, true);
	return NULL;
}

/*
 * Close a dma-buf's only fd while another thread maps it: mmap either
 * maps the buffer (with its data) or fails with EBADF; the buffer lives
 * until the last mapping goes, then it is freed.
 */
TEST_F_TIMEOUT(race, close_dmabuf_vs_mmap, 120)
{
	unsigned long long rounds = 0, maps = 0, ebadf = 0;
	long long deadline = now_ns() + MS(race_ms());
	uint64_t rng = 2;
	struct cm_ctx c;
	pthread_t th;
	int fd, i, n;
	void *p;

	while (now_ns() < deadline) {
		fd = move_fd(sgbuf_alloc_rw(self->dev, CM_SIZE), RACE_FD);
		ASSERT_EQ(RACE_FD, fd);
		p = map_buf(fd, CM_SIZE, PROT_READ | PROT_WRITE);
		ASSERT_NE(MAP_FAILED, p);
		pattern_fill(p, CM_SIZE, rounds);
		ASSERT_EQ(0, munmap(p, CM_SIZE));

		memset(&c, 0, sizeof(c));
		ASSERT_EQ(0, pthread_create(&th, NULL, cm_mapper, &c));
		wait_count(&c.mapped, rnd(&rng) % 8, &c.stop);
		ASSERT_EQ(0, close(RACE_FD));
		ASSERT_EQ(0, pthread_join(th, NULL));
		ASSERT_EQ(0, c.err[0]) TH_LOG("round %llu: %s", rounds, c.err);
		n = atomic_load(&c.mapped);
		ebadf += n < CM_MAPS;
		maps += n;
		EXPECT_EQ(self->base.maps + n, dmabuf_maps_count());
		EXPECT_EQ(self->base.bufinfo + !!n, bufinfo_count())
			TH_LOG("round %llu: %d mappings", rounds, n);
		for (i = 0; i < n; i++) {
			EXPECT_EQ(-1, pattern_check(c.map[i], CM_SIZE, rounds))
				TH_LOG("round %llu mapping %d: wrong data", rounds, i);
			ASSERT_EQ(0, munmap(c.map[i], CM_SIZE));
		}
		/* The last munmap freed the buffer. */
		EXPECT_EQ(self->base.bufinfo, bufinfo_count());
		rounds++;
	}
	TH_LOG("%llu rounds, %llu mappings, %llu mmaps got EBADF", rounds, maps,
	       ebadf);
	EXPECT_LT(0ULL, maps);
	EXPECT_LT(0ULL, ebadf);
	check_flat(_metadata, &self->base);
}

/* ------------------------------------------------------ close vs IMPORT */

/*
 * Imports of one buffer at once. CONFIG_DMA_API_DEBUG warns beyond 8
 * mappings of the same memory, as the DMA API does not support them.
 */
#define CI_MAX		6

struct ci_ctx {
	int eng;
	atomic_int imported;
	atomic_bool stop;
	__u32 handle[CI_MAX];
	char err[128];
};

static void *ci_importer(void *arg)
{
	struct ci_ctx *c = arg;
	int n, ret;

	for (n = 0; n < CI_MAX; n++) {
		ret = eng_import(c->eng, RACE_FD, 0, &c->handle[n], NULL);
		if (ret) {
			if (ret != -EBADF)
				snprintf(c->err, sizeof(c->err), "IMPORT: %s",
					 strerror(-ret));
			break;
		}
		atomic_fetch_add(&c->imported, 1);
	}
	atomic_store(&c->stop, true);
	return NULL;
}

/*
 * Close a dma-buf's only fd while it is being imported: IMPORT either
 * returns a working handle (a CHECKSUM64 through it sees the buffer's
 * data) or EBADF; the imports keep the buffer, the last UNIMPORT frees it.
 */
TEST_F_TIMEOUT(race, close_vs_import, 120)
{
	unsigned long long rounds = 0, imports = 0, ebadf = 0;
	long long deadline = now_ns() + MS(race_ms());
	const size_t size = 8 * SZ_4K;
	struct sgbuf_submit s;
	struct eng_dbg e;
	__u64 want, sum;
	uint64_t rng = 3;
	struct ci_ctx c;
	pthread_t th;
	int fd, i, n, st, ret;
	uint8_t *p;

	memset(&c, 0, sizeof(c));
	c.eng = sgbuf_open();
	ASSERT_LE(0, c.eng);
	while (now_ns() < deadline) {
		fd = move_fd(sgbuf_alloc_rw(self->dev, size), RACE_FD);
		ASSERT_EQ(RACE_FD, fd);
		p = map_buf(fd, size, PROT_READ | PROT_WRITE);
		ASSERT_NE(MAP_FAILED, p);
		pattern_fill(p, size, ~rounds);
		want = sgbuf_checksum64(p, size);
		ASSERT_EQ(0, munmap(p, size));

		atomic_store(&c.imported, 0);
		atomic_store(&c.stop, false);
		ASSERT_EQ(0, pthread_create(&th, NULL, ci_importer, &c));
		wait_count(&c.imported, rnd(&rng) % 3, &c.stop);
		ASSERT_EQ(0, close(RACE_FD));
		ASSERT_EQ(0, pthread_join(th, NULL));
		ASSERT_EQ(0, c.err[0]) TH_LOG("round %llu: %s", rounds, c.err);
		n = atomic_load(&c.imported);
		ebadf += n < CI_MAX;
		imports += n;
		EXPECT_EQ(self->base.bufinfo + !!n, bufinfo_count());
		for (i = 0; i < n; i++) {
			job_checksum64(&s, c.handle[i], 0, size);
			ret = eng_submit(c.eng, &s);
			ASSERT_EQ(0, ret) TH_LOG("%s", strerror(-ret));
			sum = 0;
			st = 1;
			ASSERT_EQ(0, eng_wait64(c.eng, s.seqno, WAIT_LONG_NS, &st, &sum));
			EXPECT_EQ(0, st);
			EXPECT_EQ(want, sum) TH_LOG("round %llu import %d: wrong data",
						    rounds, i);
		}
		ASSERT_EQ(0, engine_self(&e));
		/* debugfs lists every import; the parser keeps the first 16. */
		EXPECT_EQ(n < ENG_DBG_MAX_IMPORTS ? n : ENG_DBG_MAX_IMPORTS,
			  e.nimports);
		for (i = 0; i < n; i++)
			ASSERT_EQ(0, eng_unimport(c.eng, c.handle[i]));
		/* The last UNIMPORT (or the last job's end) freed the buffer. */
		EXPECT_EQ(self->base.bufinfo, bufinfo_settle(self->base.bufinfo));
		rounds++;
	}
	ASSERT_EQ(0, engine_self(&e));
	EXPECT_EQ(0, e.nimports);
	EXPECT_EQ(0ULL, e.failed + e.cancelled + e.in_flight);
	close(c.eng);
	TH_LOG("%llu rounds, %llu imports, %llu IMPORTs got EBADF", rounds,
	       imports, ebadf);
	EXPECT_LT(0ULL, imports);
	EXPECT_LT(0ULL, ebadf);
	check_flat(_metadata, &self->base);
}

/* ---------------------------------------- SYNC START vs a job writing */

#define SJ_SIZE		SZ_4M

struct sj_ctx {
	int dev, fd;
	const uint32_t *map;
	atomic_uint issued;	/* pattern of the last job SUBMIT was called for */
	atomic_uint submitted;	/* pattern of the last job SUBMIT returned */
	atomic_bool stop;
	unsigned long syncs, stale;
	char err[160];
};

/*
 * A second CPU reader: after its own SYNC START (whole buffer or a random
 * range), every word it samples must come from a job at least as new as
 * the last one submitted before the START, and not from a job that had
 * not been submitted when it looked.
 */
static void *sj_reader(void *arg)
{
	struct sj_ctx *c = arg;
	uint64_t rng = 4;

	while (!atomic_load(&c->stop)) {
		unsigned int lo = atomic_load(&c->submitted), hi;
		size_t off = 0, len = SJ_SIZE, k;
		bool ranged = rnd(&rng) & 1;
		int ret;

		if (ranged) {
			off = rnd(&rng) % (SJ_SIZE / 4) * 4;
			len = 4 + rnd(&rng) % ((SJ_SIZE - off) / 4) * 4;
			ret = sync_range(c->dev, c->fd, SYNC_R_START, off, len);
		} else {
			ret = dmabuf_sync(c->fd, SYNC_R_START);
		}
		if (ret) {
			snprintf(c->err, sizeof(c->err), "reader SYNC START: %s",
				 strerror(-ret));
			break;
		}
		for (k = off / 4; k < (off + len) / 4; k += 509) {
			uint32_t w = c->map[k];

			hi = atomic_load(&c->issued);
			if (w < lo || w > hi) {
				c->stale++;
				snprintf(c->err, sizeof(c->err),
					 "reader: word %zu is %u after START with job %u done, %u issued",
					 k, w, lo, hi);
				break;
			}
		}
		ret = ranged ? sync_range(c->dev, c->fd, SYNC_R_END, off, len) :
			       dmabuf_sync(c->fd, SYNC_R_END);
		if (ret || c->stale) {
			if (ret)
				snprintf(c->err, sizeof(c->err),
					 "reader SYNC END: %s", strerror(-ret));
			break;
		}
		c->syncs++;
	}
	atomic_store(&c->stop, true);
	return NULL;
}

/*
 * SYNC START (DMA_BUF_IOCTL_SYNC and SGBUF_IOCTL_SYNC_RANGE) must wait for
 * the write fence of a job that is still filling the buffer: right after
 * START returns, the CPU sees all of the job's data. Job i fills all of a
 * 4 MiB buffer with the word i; the main thread submits it and at once
 * does a START (whole, ranged, READ or READ|WRITE) and checks every word
 * of the range, while a second thread does its own STARTs and ENDs and
 * checks that what it sees is never older than what had been submitted.
 * The jobs go through the 32-bit device, which reaches pages above 4 GiB
 * (and all pages under swiotlb=force) through bounce buffers: there, a
 * reader's END must not copy the pages over the bounce buffer a job that
 * the reader did not wait for is writing.
 */
TEST_F_TIMEOUT(race, sync_vs_job_write, 120)
{
	long long deadline = now_ns() + MS(race_ms());
	unsigned long busy = 0, iters = 0;
	struct sgbuf_submit s;
	struct sj_ctx c;
	uint64_t rng = 5;
	pthread_t th;
	uint32_t *map;
	__u32 h = 0, hg = 0;
	int e, fd, g, st, ret;

	e = sgbuf_open();
	ASSERT_LE(0, e);
	fd = sgbuf_alloc_rw(self->dev, SJ_SIZE);
	ASSERT_LE(0, fd);
	map = map_buf(fd, SJ_SIZE, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, map);
	/* Through the 32-bit device: it bounces the pages above 4 GiB. */
	ASSERT_EQ(0, eng_import(e, fd, SGBUF_IMPORT_DMA32, &h, NULL));
	g = sgbuf_alloc_rw(self->dev, 4 * SJ_SIZE);
	ASSERT_LE(0, g);
	ASSERT_EQ(0, eng_import(e, g, 0, &hg, NULL));
	memset(&c, 0, sizeof(c));
	c.dev = self->dev;
	c.fd = fd;
	c.map = map;
	ASSERT_EQ(0, pthread_create(&th, NULL, sj_reader, &c));

	while (now_ns() < deadline && !atomic_load(&c.stop)) {
		unsigned int i = ++iters;
		size_t off = 0, len = SJ_SIZE;
		int how = rnd(&rng) % 4;
		long bad;

		/*
		 * Every other job queues behind a longer COPY on another
		 * buffer, so that the START below comes before it runs,
		 * even where the runner preempts the submitter at once.
		 */
		if (i & 1) {
			job_copy(&s, hg, 0, hg, 2 * SJ_SIZE, 2 * SJ_SIZE);
			ASSERT_EQ(0, eng_submit(e, &s));
		}
		job_fill(&s, h, 0, SJ_SIZE, i);
		atomic_store(&c.issued, i);
		ret = eng_submit(e, &s);
		ASSERT_EQ(0, ret) TH_LOG("SUBMIT %u: %s", i, strerror(-ret));
		atomic_store(&c.submitted, i);
		/* Still running? (Counts the STARTs that had to wait.) */
		busy += poll_fd(fd, POLLIN, 0) == 0;
		switch (how) {
		case 0:
			ret = dmabuf_sync(fd, SYNC_R_START);
			break;
		case 1:
			ret = dmabuf_sync(fd, SYNC_RW_START);
			break;
		default:
			off = rnd(&rng) % (SJ_SIZE / 4) * 4;
			len = 4 + rnd(&rng) % ((SJ_SIZE - off) / 4) * 4;
			ret = sync_range(self->dev, fd,
					 how == 2 ? SYNC_R_START : SYNC_RW_START,
					 off, len);
			break;
		}
		ASSERT_EQ(0, ret) TH_LOG("START (%d) job %u: %s", how, i,
					 strerror(-ret));
		bad = words_check((uint8_t *)map + off, len, i);
		EXPECT_EQ(-1, bad) TH_LOG("job %u, START %d [%zu, +%zu): word at %zu is %u",
					  i, how, off, len, off + bad * 4,
					  map[off / 4 + bad]);
		if (how < 2)
			ret = dmabuf_sync(fd, how ? SYNC_RW_END : SYNC_R_END);
		else
			ret = sync_range(self->dev, fd,
					 how == 2 ? SYNC_R_END : SYNC_RW_END,
					 off, len);
		ASSERT_EQ(0, ret);
		st = 1;
		ASSERT_EQ(0, eng_wait(e, s.seqno, WAIT_LONG_NS, &st, NULL));
		ASSERT_EQ(0, st);
		if (bad != -1)
			break;
	}
	atomic_store(&c.stop, true);
	ASSERT_EQ(0, pthread_join(th, NULL));
	EXPECT_EQ(0, c.err[0]) TH_LOG("%s", c.err);
	TH_LOG("%lu jobs, %lu of them still running at START; reader: %lu STARTs",
	       iters, busy, c.syncs);
	EXPECT_LT(0UL, busy) TH_LOG("no START ever had a job to wait for");
	EXPECT_LT(0UL, c.syncs);
	munmap(map, SJ_SIZE);
	close(g);
	close(fd);
	close(e);
	check_flat(_metadata, &self->base);
}

/* ------------------------------------------------------- munmap vs jobs */

#define MJ_SIZE		SZ_4M

struct mj_ctx {
	int fd[2];
	atomic_bool stop;
	unsigned long maps;
	char err[128];
};

/* Map, touch, split (unmap a page in the middle), unmap, over and over. */
static void *mj_mapper(void *arg)
{
	struct mj_ctx *c = arg;
	uint64_t rng = 6;

	while (!atomic_load(&c->stop)) {
		int fd = c->fd[c->maps & 1];
		size_t pg = rnd(&rng) % (MJ_SIZE / SZ_4K);
		volatile uint8_t *p;

		p = mmap(NULL, MJ_SIZE, PROT_READ, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED) {
			snprintf(c->err, sizeof(c->err), "mmap: %s", strerror(errno));
			break;
		}
		(void)p[pg * SZ_4K + 8];
		if (munmap((void *)(p + pg * SZ_4K), SZ_4K) ||
		    munmap((void *)p, MJ_SIZE)) {
			snprintf(c->err, sizeof(c->err), "munmap: %s", strerror(errno));
			break;
		}
		c->maps++;
	}
	atomic_store(&c->stop, true);
	return NULL;
}

/*
 * Mappings come and go while jobs read and write the buffers behind them,
 * and a buffer's last mapping and fd go while a job on it is in flight:
 * every job succeeds with the right data, and the import alone keeps the
 * buffer until UNIMPORT.
 */
TEST_F_TIMEOUT(race, munmap_vs_job, 120)
{
	long long deadline = now_ns() + MS(race_ms());
	unsigned long iters = 0, inflight = 0;
	__u32 ha = 0, hb = 0, hc = 0;
	struct sgbuf_submit s;
	uint8_t *pa, *pb, *pc;
	__u64 want, sum, seq;
	struct mj_ctx c;
	pthread_t th;
	int e, a, b, cfd, st, last = 0;

	e = sgbuf_open();
	ASSERT_LE(0, e);
	a = sgbuf_alloc_rw(self->dev, MJ_SIZE);
	b = sgbuf_alloc_rw(self->dev, MJ_SIZE);
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	pa = map_buf(a, MJ_SIZE, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, pa);
	pattern_fill(pa, MJ_SIZE, 0x6d6a);
	ASSERT_EQ(0, munmap(pa, MJ_SIZE));
	ASSERT_EQ(0, eng_import(e, a, 0, &ha, NULL));
	ASSERT_EQ(0, eng_import(e, b, 0, &hb, NULL));
	memset(&c, 0, sizeof(c));
	c.fd[0] = a;
	c.fd[1] = b;
	ASSERT_EQ(0, pthread_create(&th, NULL, mj_mapper, &c));

	while (now_ns() < deadline && !atomic_load(&c.stop)) {
		iters++;
		cfd = sgbuf_alloc_rw(self->dev, SZ_256K);
		ASSERT_LE(0, cfd);
		pc = map_buf(cfd, SZ_256K, PROT_READ | PROT_WRITE);
		ASSERT_NE(MAP_FAILED, pc);
		pattern_fill(pc, SZ_256K, iters);
		want = sgbuf_checksum64(pc, SZ_256K);
		ASSERT_EQ(0, eng_import(e, cfd, 0, &hc, NULL));

		/* B = A, or B filled: the mapper maps both meanwhile. */
		last = iters & 1 ? 0 : (int)iters;
		if (last)
			job_fill(&s, hb, 0, MJ_SIZE, last);
		else
			job_copy(&s, ha, 0, hb, 0, MJ_SIZE);
		ASSERT_EQ(0, eng_submit(e, &s));
		seq = s.seqno;

		/* C's only mapping and fd go while its job waits behind B's. */
		job_checksum64(&s, hc, 0, SZ_256K);
		ASSERT_EQ(0, eng_submit(e, &s));
		ASSERT_EQ(0, munmap(pc, SZ_256K));
		ASSERT_EQ(0, close(cfd));
		inflight += eng_wait(e, s.seqno, 0, NULL, NULL) == -ETIME;
		st = 1;
		ASSERT_EQ(0, eng_wait(e, seq, WAIT_LONG_NS, &st, NULL));
		ASSERT_EQ(0, st);
		st = 1;
		sum = 0;
		ASSERT_EQ(0, eng_wait64(e, s.seqno, WAIT_LONG_NS, &st, &sum));
		EXPECT_EQ(0, st);
		EXPECT_EQ(want, sum) TH_LOG("iteration %lu: C's checksum", iters);
		ASSERT_EQ(0, eng_unimport(e, hc));
		EXPECT_EQ(self->base.bufinfo + 2,
			  bufinfo_settle(self->base.bufinfo + 2))
			TH_LOG("C outlived its last UNIMPORT and job");
	}
	atomic_store(&c.stop, true);
	ASSERT_EQ(0, pthread_join(th, NULL));
	EXPECT_EQ(0, c.err[0]) TH_LOG("%s", c.err);
	TH_LOG("%lu iterations (%lu with C's job still running after its close), %lu mappings",
	       iters, inflight, c.maps);
	EXPECT_LT(0UL, c.maps);

	pb = map_buf(b, MJ_SIZE, PROT_READ);
	ASSERT_NE(MAP_FAILED, pb);
	ASSERT_EQ(0, dmabuf_sync(b, SYNC_R_START));
	if (last) {
		EXPECT_EQ(-1, words_check(pb, MJ_SIZE, last));
	} else {
		EXPECT_EQ(-1, pattern_check(pb, MJ_SIZE, 0x6d6a));
	}
	ASSERT_EQ(0, dmabuf_sync(b, SYNC_R_END));
	munmap(pb, MJ_SIZE);
	close(a);
	close(b);
	close(e);
	check_flat(_metadata, &self->base);
}

/* --------------------------------------------------------- fork vs jobs */

#define FJ_SLOTS	128	/* parent's slots; the children's follow */

struct fj_ctx {
	int eng;
	__u32 h;
	atomic_bool stop;
	uint32_t last[FJ_SLOTS];	/* pattern of each slot's last FILL */
	unsigned long jobs;
	char err[128];
};

/* The parent's own jobs, up to 8 in flight, slot after slot. */
static void *fj_submitter(void *arg)
{
	struct fj_ctx *c = arg;
	__u64 seq[8] = { 0 };
	unsigned long i;
	int st, ret;

	for (i = 0; !atomic_load(&c->stop); i++) {
		struct sgbuf_submit s;
		unsigned int slot = i % FJ_SLOTS;

		if (seq[i % 8]) {
			st = 1;
			ret = eng_wait(c->eng, seq[i % 8], WAIT_LONG_NS, &st, NULL);
			if (ret || st) {
				snprintf(c->err, sizeof(c->err),
					 "WAIT %llu: %s, status %d",
					 (unsigned long long)seq[i % 8],
					 strerror(-ret), st);
				break;
			}
		}
		c->last[slot] = 0x40000000U | (uint32_t)i;
		job_fill(&s, c->h, slot * SZ_4K, SZ_4K, c->last[slot]);
		ret = eng_submit(c->eng, &s);
		if (ret) {
			snprintf(c->err, sizeof(c->err), "SUBMIT: %s",
				 strerror(-ret));
			break;
		}
		seq[i % 8] = s.seqno;
		c->jobs++;
	}
	for (i = 0; i < 8; i++) {
		st = 1;
		if (seq[i] &&
		    (eng_wait(c->eng, seq[i], WAIT_LONG_NS, &st, NULL) || st) &&
		    !c->err[0])
			snprintf(c->err, sizeof(c->err), "final WAIT: status %d", st);
	}
	atomic_store(&c->stop, true);
	return NULL;
}

/*
 * fork() while the parent's jobs run on an engine (latency 100 us each):
 * the child inherits the engine file and the buffer's mapping, submits a
 * FILL of its own slot on the shared engine, and either exits at once,
 * leaving the job in flight, or waits for it with SYNC START and checks
 * the slot through the inherited mapping. A child's exit closes only its
 * references: no job is cancelled, the parent sees every child's data.
 */
TEST_F_TIMEOUT(race, fork_vs_job, 120)
{
	long long deadline = now_ns() + MS(race_ms());
	struct sgbuf_engine_config cfg;
	unsigned long children = 0;
	const size_t size = 2 * FJ_SLOTS * SZ_4K;
	struct fj_ctx c;
	struct eng_dbg e;
	uint32_t *map;
	pthread_t th;
	int fd, i;

	memset(&c, 0, sizeof(c));
	c.eng = sgbuf_open();
	ASSERT_LE(0, c.eng);
	fd = sgbuf_alloc_rw(self->dev, size);
	ASSERT_LE(0, fd);
	map = map_buf(fd, size, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, map);
	ASSERT_EQ(0, eng_import(c.eng, fd, 0, &c.h, NULL));
	memset(&cfg, 0, sizeof(cfg));
	cfg.queue_depth = 64;
	cfg.latency_ns = 100 * 1000;
	ASSERT_EQ(0, eng_config(c.eng, &cfg));
	ASSERT_EQ(0, pthread_create(&th, NULL, fj_submitter, &c));

	while (now_ns() < deadline && !atomic_load(&c.stop)) {
		unsigned int slot = FJ_SLOTS + children % FJ_SLOTS;
		uint32_t pattern = 0xc0000000U | (uint32_t)children;
		int pipefd[2], status;
		__u64 seq = 0;
		pid_t pid;

		ASSERT_EQ(0, pipe2(pipefd, O_CLOEXEC));
		pid = fork();
		ASSERT_LE(0, pid);
		if (pid == 0) {
			struct sgbuf_submit s;
			size_t k;

			close(pipefd[0]);
			job_fill(&s, c.h, slot * SZ_4K, SZ_4K, pattern);
			if (eng_submit(c.eng, &s))
				_exit(10);
			if (write(pipefd[1], &s.seqno, sizeof(s.seqno)) !=
			    sizeof(s.seqno))
				_exit(11);
			if (children & 1)
				_exit(0);	/* job still in flight */
			if (dmabuf_sync(fd, SYNC_R_START))
				_exit(12);
			for (k = 0; k < SZ_4K / 4; k++)
				if (map[slot * SZ_4K / 4 + k] != pattern)
					_exit(13);
			if (dmabuf_sync(fd, SYNC_R_END))
				_exit(14);
			_exit(0);
		}
		close(pipefd[1]);
		EXPECT_EQ((ssize_t)sizeof(seq), read(pipefd[0], &seq, sizeof(seq)))
			TH_LOG("child %lu submitted nothing", children);
		close(pipefd[0]);
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		ASSERT_TRUE(WIFEXITED(status)) TH_LOG("child %lu: status %#x",
						      children, status);
		ASSERT_EQ(0, WEXITSTATUS(status))
			TH_LOG("child %lu failed at step %d", children,
			       WEXITSTATUS(status));
		/* The exited child's job ran: its slot has its pattern. */
		ASSERT_EQ(0, dmabuf_sync(fd, SYNC_R_START));
		EXPECT_EQ(-1, words_check(map + slot * SZ_4K / 4, SZ_4K, pattern))
			TH_LOG("child %lu (seqno %llu): its job did not run",
			       children, (unsigned long long)seq);
		ASSERT_EQ(0, dmabuf_sync(fd, SYNC_R_END));
		children++;
	}
	atomic_store(&c.stop, true);
	ASSERT_EQ(0, pthread_join(th, NULL));
	EXPECT_EQ(0, c.err[0]) TH_LOG("%s", c.err);
	TH_LOG("%lu children, %lu parent jobs", children, c.jobs);
	EXPECT_LT(0UL, children);

	ASSERT_EQ(0, dmabuf_sync(fd, SYNC_R_START));
	for (i = 0; i < FJ_SLOTS && (unsigned long)i < c.jobs; i++)
		EXPECT_EQ(-1, words_check(map + i * SZ_4K / 4, SZ_4K, c.last[i]))
			TH_LOG("parent slot %d", i);
	ASSERT_EQ(0, dmabuf_sync(fd, SYNC_R_END));
	ASSERT_EQ(0, engine_self(&e));
	EXPECT_EQ(c.jobs + children, e.submitted);
	EXPECT_EQ(e.submitted, e.completed);
	EXPECT_EQ(0ULL, e.cancelled) TH_LOG("a child's exit cancelled jobs");
	EXPECT_EQ(0ULL, e.failed);
	munmap(map, size);
	close(fd);
	close(c.eng);
	check_flat(_metadata, &self->base);
}

/* ================================================================ limits */

FLAT_FIXTURE(limits)

/* No fd left: RLIMIT_NOFILE down to the lowest free fd number. */
static int fds_exhaust(struct rlimit *old)
{
	struct rlimit lim;
	int low;

	if (getrlimit(RLIMIT_NOFILE, old))
		return -errno;
	low = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (low < 0)
		return -errno;
	close(low);
	lim = *old;
	lim.rlim_cur = low;
	return setrlimit(RLIMIT_NOFILE, &lim) ? -errno : 0;
}

struct em_env {
	int dev, heap, eng, fresh, buf;
	__u32 h;
};

static int em_alloc(struct em_env *v)
{
	return sgbuf_alloc(v->dev, SZ_1M, 0, O_RDWR | O_CLOEXEC, "emfile");
}

static int em_alloc_ro(struct em_env *v)
{
	return sgbuf_alloc(v->dev, SZ_64K, 0, O_RDONLY, NULL);
}

static int em_heap(struct em_env *v)
{
	return heap_alloc(v->heap, SZ_1M);
}

static int em_heap_odd(struct em_env *v)
{
	return heap_alloc(v->heap, 5000);	/* rounded up to 2 pages */
}

static int em_submit(struct em_env *v)
{
	struct sgbuf_submit s;
	int ret;

	job_fill(&s, v->h, 0, SZ_4K, 0xbad0bad0);
	s.flags = SGBUF_SUBMIT_OUT_FENCE;
	ret = eng_submit(v->eng, &s);
	if (!ret && (s.seqno || s.out_fence_fd))
		return s.out_fence_fd;
	return ret;
}

static int em_sw_fence(struct em_env *v)
{
	return sw_fence_create(v->eng, NULL);
}

static int em_export_read(struct em_env *v)
{
	return dmabuf_export_sync_file(v->buf, DMA_BUF_SYNC_READ);
}

static int em_export_write(struct em_env *v)
{
	return dmabuf_export_sync_file(v->buf, DMA_BUF_SYNC_WRITE);
}

/*
 * With no fd left, every ioctl that returns an fd fails with EMFILE and
 * leaves nothing behind: no fd, no buffer (bufinfo, live buffers and
 * bytes), no job, no software fence, no sync_file or fence (which would
 * hold a module reference, checked at the end). Each path is tried 16
 * times so that a leak adds up. sgbuf_alloc_test's emfile_leaks_nothing
 * covers a 64 KiB ALLOC on /dev/sgbuf, sgbuf_engine_test's
 * failed_submit_no_side_effects SUBMIT and SW_FENCE_CREATE (job
 * counters); here: both nodes, names, read-only buffers, odd heap sizes,
 * the out-fence and software-fence paths with the buffer counters, and
 * DMA_BUF_IOCTL_EXPORT_SYNC_FILE of a buffer with a pending job. The
 * engine ioctls make no fd: an engine's first ioctl works without one.
 */
TEST_F(limits, emfile_every_fd_path)
{
	static const struct {
		const char *what;
		int (*fn)(struct em_env *v);
	} paths[] = {
		{ "ALLOC 1 MiB named", em_alloc },
		{ "ALLOC 64 KiB O_RDONLY", em_alloc_ro },
		{ "heap ALLOC 1 MiB", em_heap },
		{ "heap ALLOC 5000 bytes", em_heap_odd },
		{ "SUBMIT with OUT_FENCE", em_submit },
		{ "SW_FENCE_CREATE", em_sw_fence },
		{ "EXPORT_SYNC_FILE READ", em_export_read },
		{ "EXPORT_SYNC_FILE WRITE", em_export_write },
	};
	struct rlimit old;
	struct sgbuf_submit s;
	struct flat before, now;
	struct eng_dbg e[2];
	struct em_env v;
	unsigned int i, k;
	int sw, st, ret, n;
	__u32 id = 0, h2 = 0;
	__u64 held, late;

	v.dev = self->dev;
	v.heap = open_heap();
	ASSERT_LE(0, v.heap);
	v.eng = sgbuf_open();
	ASSERT_LE(0, v.eng);
	v.fresh = sgbuf_open();
	ASSERT_LE(0, v.fresh);
	v.buf = sgbuf_alloc_rw(self->dev, SZ_64K);
	ASSERT_LE(0, v.buf);
	ASSERT_EQ(0, eng_import(v.eng, v.buf, 0, &v.h, NULL));
	/* A job held by a software fence: the buffer has a fence to export. */
	sw = sw_fence_create(v.eng, &id);
	ASSERT_LE(0, sw);
	ASSERT_EQ(1U, id);
	job_fill(&s, v.h, 0, SZ_64K, 0x11223344);
	job_in_fence(&s, sw);
	ASSERT_EQ(0, eng_submit(v.eng, &s));
	held = s.seqno;
	ASSERT_EQ(0, flat_read(&before));

	for (i = 0; i < ARRAY_SIZE(paths); i++) {
		for (k = 0; k < 16; k++) {
			ASSERT_EQ(0, fds_exhaust(&old));
			ret = paths[i].fn(&v);
			ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &old));
			if (ret >= 0)
				close(ret);
			EXPECT_EQ(-EMFILE, ret) TH_LOG("%s #%u: %s", paths[i].what,
						       k, ret >= 0 ? "an fd" :
						       strerror(-ret));
			if (ret != -EMFILE)
				break;
		}
		ASSERT_EQ(0, flat_read(&now));
		EXPECT_EQ(before.fds, now.fds) TH_LOG("%s: fds", paths[i].what);
		EXPECT_EQ(before.bufinfo, now.bufinfo)
			TH_LOG("%s: bufinfo", paths[i].what);
		EXPECT_EQ(before.info.live_buffers, now.info.live_buffers)
			TH_LOG("%s: live buffers", paths[i].what);
		EXPECT_EQ(before.info.total_size, now.info.total_size)
			TH_LOG("%s: live bytes", paths[i].what);
		EXPECT_EQ(before.refcnt, now.refcnt)
			TH_LOG("%s: module refcount (a fence or file left)",
			       paths[i].what);
	}

	/*
	 * What needs no fd works without one, an engine's first ioctl too
	 * (through the other device: CONFIG_DMA_API_DEBUG cannot tell two
	 * mappings of the same pages for one device apart when a job syncs
	 * part of one).
	 */
	ASSERT_EQ(0, fds_exhaust(&old));
	ret = eng_import(v.fresh, v.buf, SGBUF_IMPORT_DMA32, &h2, NULL);
	job_fill(&s, v.h, SZ_4K, SZ_4K, 0x55667788);
	st = eng_submit(v.eng, &s);
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &old));
	EXPECT_EQ(0, ret) TH_LOG("first engine ioctl without a free fd: %s",
				 strerror(-ret));
	EXPECT_EQ(0, st) TH_LOG("SUBMIT without out-fence: %s", strerror(-st));
	late = s.seqno;
	EXPECT_EQ(held + 1, late) TH_LOG("a failed SUBMIT used a seqno");
	n = engines_of_pid(getpid(), e, 2);
	EXPECT_EQ(2, n);

	/* No software fence id was taken by the failed creates: next is 2. */
	ret = sw_fence_create(v.eng, &id);
	ASSERT_LE(0, ret);
	EXPECT_EQ(2U, id);
	ASSERT_EQ(0, sw_fence_signal(v.eng, id, 0));
	close(ret);
	ASSERT_EQ(0, sw_fence_signal(v.eng, 1, 0));
	st = 1;
	EXPECT_EQ(0, eng_wait(v.eng, held, WAIT_LONG_NS, &st, NULL));
	EXPECT_EQ(0, st);
	st = 1;
	EXPECT_EQ(0, eng_wait(v.eng, late, WAIT_LONG_NS, &st, NULL));
	EXPECT_EQ(0, st);
	EXPECT_EQ(-EINVAL, eng_wait(v.eng, late + 1, 0, NULL, NULL));
	ASSERT_EQ(2, engines_of_pid(getpid(), e, 2));
	/* Engine ids grow: the first listed is v.eng's. */
	EXPECT_EQ(2ULL, e[0].submitted);
	EXPECT_EQ(2ULL, e[0].completed);
	EXPECT_EQ(0ULL, e[1].submitted);
	EXPECT_EQ(1, e[1].nimports);

	close(sw);
	close(v.buf);
	close(v.fresh);
	close(v.eng);
	close(v.heap);
	check_flat(_metadata, &self->base);
}

/* Bytes of live sgbuf buffers (GET_INFO total_size), or -errno. */
static long long live_bytes(int dev)
{
	struct sgbuf_info i;
	int ret = sgbuf_get_info(dev, &i);

	return ret ? ret : (long long)i.total_size;
}

struct kill_try {
	unsigned long long size;
	bool inside;			/* the kill landed inside the ALLOC */
	long long started_ns;		/* ALLOC seen charging -> kill */
	long long reap_ns;		/* kill -> waitpid returned */
	long long allocated;		/* MemFree drop at the kill */
	int status;
};

/*
 * A child allocates @size; once GET_INFO shows the bytes charged (the
 * ALLOC is under way) and MemFree has dropped by an eighth of @size, kill
 * it, and time the reaping (which includes freeing what it allocated).
 */
static void kill_alloc(struct __test_metadata *_metadata, int dev,
		       unsigned long long size, struct kill_try *t)
{
	long long base = live_bytes(dev), free0 = mem_free(), t0 = 0, tk;
	long long deadline = now_ns() + MS(60000);
	int pipefd[2];
	char c = 0;
	pid_t pid;

	memset(t, 0, sizeof(*t));
	t->size = size;
	ASSERT_LE(0, base);
	ASSERT_LT(0, free0);
	ASSERT_EQ(0, pipe2(pipefd, O_CLOEXEC));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fd;

		close(pipefd[0]);
		if (write(pipefd[1], "r", 1) != 1)
			_exit(1);
		fd = sgbuf_alloc_rw(dev, size);
		if (write(pipefd[1], fd >= 0 ? "d" : "e", 1) != 1)
			_exit(2);
		for (;;)
			pause();
	}
	close(pipefd[1]);
	ASSERT_EQ(1, read(pipefd[0], &c, 1));
	ASSERT_EQ('r', c);
	for (;;) {
		long long live = live_bytes(dev), mf = mem_free();

		ASSERT_LE(0, live);
		ASSERT_LT(0, mf);
		if (!t0 && live >= base + (long long)size)
			t0 = now_ns();
		if (t0 && mf <= free0 - (long long)(size / 8)) {
			t->allocated = free0 - mf;
			break;
		}
		if (poll_fd(pipefd[0], POLLIN, 0) & POLLIN)
			break;	/* done (or failed) before we saw it */
		if (now_ns() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			ASSERT_TRUE(false) TH_LOG("ALLOC of %llu not seen in 60 s", size);
		}
	}
	ASSERT_EQ(0, kill(pid, SIGKILL));
	tk = now_ns();
	ASSERT_EQ(pid, waitpid(pid, &t->status, 0));
	t->reap_ns = now_ns() - tk;
	t->started_ns = t0 ? tk - t0 : -1;
	/* EOF, nothing written: the child died inside the ALLOC. */
	t->inside = t0 && read(pipefd[0], &c, 1) == 0;
	close(pipefd[0]);
}

/*
 * SIGKILL in the middle of a 1 GiB ALLOC: the allocation loop notices the
 * fatal signal, frees what it has and returns, so the child is reaped
 * within 1 s of the kill and every byte is given back. An uninterrupted
 * ALLOC of the same size is timed first; if the kill ever misses the
 * ALLOC (it finished first), the size doubles, up to three tries.
 */
TEST_F_TIMEOUT(limits, sigkill_during_huge_alloc, 300)
{
	unsigned long long size = SZ_1G;
	struct kill_try t;
	long long t0, dt, base;
	int fd, i, k, attempt;

	base = live_bytes(self->dev);
	for (attempt = 0; attempt < 3; attempt++) {
		if (self->info_base.max_buffer_size < size ||
		    self->info_base.max_total_size - base < size ||
		    mem_free() < (long long)size + (long long)SZ_256M) {
			TH_LOG("%llu MiB do not fit: max_buffer_size %llu, max_total_size %llu, MemFree %lld",
			       size >> 20,
			       (unsigned long long)self->info_base.max_buffer_size,
			       (unsigned long long)self->info_base.max_total_size,
			       mem_free());
			if (!attempt)
				SKIP(return, "the guest has too little memory for 1 GiB");
			break;
		}
		/*
		 * Twice the first time: under emulation, the first touch of
		 * guest memory is much slower than any later one.
		 */
		for (k = 0; k < (attempt ? 1 : 2); k++) {
			t0 = now_ns();
			fd = sgbuf_alloc_rw(self->dev, size);
			dt = now_ns() - t0;
			ASSERT_LE(0, fd) TH_LOG("uninterrupted ALLOC of %llu MiB: %s",
						size >> 20, strerror(-fd));
			t0 = now_ns();
			ASSERT_EQ(0, close(fd));
			TH_LOG("uninterrupted ALLOC of %llu MiB: %lld ms, close %lld ms",
			       size >> 20, dt / 1000000,
			       (now_ns() - t0) / 1000000);
		}

		kill_alloc(_metadata, self->dev, size, &t);
		TH_LOG("%llu MiB: killed %lld ms after the ALLOC began, %lld MiB allocated; reaped %lld ms later%s",
		       size >> 20, t.started_ns / 1000000, t.allocated >> 20,
		       t.reap_ns / 1000000,
		       t.inside ? "" : " (the ALLOC had finished: not counted)");
		EXPECT_TRUE(WIFSIGNALED(t.status) && WTERMSIG(t.status) == SIGKILL)
			TH_LOG("status %#x", t.status);
		EXPECT_GT(MS(1000), t.reap_ns) TH_LOG("reaped %lld ms after SIGKILL",
						      t.reap_ns / 1000000);
		/* Every byte is given back (at once: nothing is deferred). */
		for (i = 0; i < 200 && live_bytes(self->dev) != base; i++)
			usleep(10 * 1000);
		EXPECT_EQ(base, live_bytes(self->dev));
		EXPECT_EQ(self->base.bufinfo, bufinfo_count());
		if (t.inside)
			break;
		size *= 2;
	}
	EXPECT_TRUE(t.inside) TH_LOG("the kill never landed inside the ALLOC");
	check_flat(_metadata, &self->base);
}

/* ================================================================= memcg */

#define CG_LIMIT	SZ_64M
#define CG_MAX_FDS	768	/* the child's buffers, at most */
#define CG_RETRIES	64	/* ALLOCs tried once the cgroup is full */

/* What the child and the parent share (a MAP_SHARED anonymous page). */
struct cg_shared {
	atomic_int step;	/* the child's progress, see cg_child() */
	atomic_int go;		/* the parent's permission for the next step */
	int n1, err1;		/* 1 MiB buffers that fit, and the errno */
	int n2, err2;		/* then 4 KiB buffers */
	int n3, err3;		/* retries when full: successes, bad errno */
};

FIXTURE(memcg) {
	SGBUF_FIXTURE_FIELDS;
	struct flat base;
	char root[256];		/* cgroup2 mount */
	char cg[320];		/* our cgroup in it */
	bool mounted, enabled, created;
	pid_t child;
	struct cg_shared *sh;
};

FIXTURE_SETUP(memcg)
{
	int ret;

	SGBUF_FIXTURE_SETUP(self);
	ret = flat_read(&self->base);
	ASSERT_EQ(0, ret) TH_LOG("%s", strerror(-ret));
	self->child = -1;
	self->sh = mmap(NULL, page_size(), PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->sh);
	memset(self->sh, 0, page_size());
}

FIXTURE_TEARDOWN(memcg)
{
	char path[400];
	int i;

	if (self->child > 0) {
		kill(self->child, SIGKILL);
		waitpid(self->child, NULL, 0);
	}
	if (self->created) {
		/* The cgroup may stay busy for a moment after its last task. */
		for (i = 0; i < 200 && rmdir(self->cg) && errno == EBUSY; i++)
			usleep(10 * 1000);
	}
	if (self->enabled) {
		snprintf(path, sizeof(path), "%s/cgroup.subtree_control",
			 self->root);
		write_str(path, "-memory");
	}
	if (self->mounted)
		umount2(self->root, MNT_DETACH);
	munmap(self->sh, page_size());
	SGBUF_FIXTURE_TEARDOWN(self);
}

/* The mount point of cgroup2, or "" if it is not mounted. */
static void cgroup2_mount(char *out, size_t len)
{
	char line[512], dev[128], dir[256], type[64];
	FILE *f;

	out[0] = '\0';
	f = fopen("/proc/self/mounts", "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%127s %255s %63s", dev, dir, type) == 3 &&
		    !strcmp(type, "cgroup2")) {
			snprintf(out, len, "%s", dir);
			break;
		}
	}
	fclose(f);
}

static long long cg_read(FIXTURE_DATA(memcg) *self, const char *file)
{
	unsigned long long v = 0;
	char path[400];
	int ret;

	snprintf(path, sizeof(path), "%s/%s", self->cg, file);
	ret = read_ull_file(path, &v);
	return ret ? ret : (long long)v;
}

static long long cg_event(FIXTURE_DATA(memcg) *self, const char *key)
{
	char path[400];
	long long v = -1;

	snprintf(path, sizeof(path), "%s/memory.events", self->cg);
	return read_key(path, key, &v) ? -1 : v;
}

/* Write to most of a stack-sized area, so that later calls do not fault. */
static void __attribute__((noinline)) touch_stack(void)
{
	volatile char pad[128 << 10];
	size_t i;

	for (i = 0; i < sizeof(pad); i += 512)
		pad[i] = 1;
}

static void cg_wait_go(struct cg_shared *sh, int want)
{
	while (atomic_load(&sh->go) < want)
		sched_yield();
}

/*
 * In the cgroup, allocate 1 MiB buffers until refused, then 4 KiB ones
 * until refused (the cgroup is then as full as it gets), then hold them
 * until told to close them all. Nothing here may fault in or allocate
 * memory of its own once the cgroup is full: the fd table, the stack,
 * errno and the fd array are all touched before, and progress goes
 * through the shared page, not a pipe (a pipe write allocates a page).
 * A charge that cannot be met must fail the ALLOC with ENOMEM: if it
 * invoked the OOM killer instead, this task (the only one in the cgroup)
 * would die with SIGKILL.
 */
static void __attribute__((noreturn)) cg_child(int dev, int heap,
						 struct cg_shared *sh)
{
	static int fds[CG_MAX_FDS];
	int i, n = 0, fd;

	/* Fault everything in while still in the parent's cgroup. */
	for (i = 0; i < CG_MAX_FDS; i++)
		fds[i] = -1;
	if (dup2(dev, CG_MAX_FDS + 32) < 0)	/* grow the fd table */
		_exit(20);
	close(CG_MAX_FDS + 32);
	touch_stack();
	errno = 0;
	atomic_store(&sh->step, 1);
	cg_wait_go(sh, 1);		/* moved into the cgroup */

	while (n < CG_MAX_FDS) {
		fd = sgbuf_alloc_rw(dev, SZ_1M);
		if (fd < 0) {
			sh->err1 = -fd;
			break;
		}
		fds[n++] = fd;
	}
	sh->n1 = n;
	while (n < CG_MAX_FDS) {
		fd = sgbuf_alloc_rw(dev, SZ_4K);
		if (fd < 0) {
			sh->err2 = -fd;
			break;
		}
		fds[n++] = fd;
	}
	sh->n2 = n - sh->n1;
	/*
	 * Full: userspace may well retry. Every retry is charged for the
	 * metadata of a buffer before its pages, on both nodes and for both
	 * sizes; each must fail with ENOMEM as the first refusal did.
	 */
	for (i = 0; i < CG_RETRIES; i++) {
		unsigned long long size = i & 2 ? SZ_1M : SZ_4K;

		fd = i & 1 ? heap_alloc(heap, size) : sgbuf_alloc_rw(dev, size);
		if (fd >= 0) {
			sh->n3++;
			if (n < CG_MAX_FDS)
				fds[n++] = fd;
			else
				close(fd);
		} else if (fd != -ENOMEM) {
			sh->err3 = -fd;
		}
	}
	atomic_store(&sh->step, 2);
	cg_wait_go(sh, 2);		/* the parent has looked */

	for (i = 0; i < n; i++)
		close(fds[i]);
	atomic_store(&sh->step, 3);
	cg_wait_go(sh, 3);
	_exit(0);
}

/* Poll (up to 60 s) until the child reaches @step; false if it died. */
static bool cg_wait_step(FIXTURE_DATA(memcg) *self, int step)
{
	long long deadline = now_ns() + MS(60000);
	int status;

	while (atomic_load(&self->sh->step) < step) {
		if (waitpid(self->child, &status, WNOHANG) == self->child) {
			self->sh->step = -status - 1;
			self->child = -1;
			return false;
		}
		if (now_ns() > deadline)
			return false;
		usleep(1000);
	}
	return true;
}

/* Poll memory.current (up to 2 s: uncharging may be deferred). */
static long long cg_settle(FIXTURE_DATA(memcg) *self, long long at_most)
{
	long long cur = -1;
	int i;

	for (i = 0; i < 200; i++) {
		cur = cg_read(self, "memory.current");
		if (cur >= 0 && cur <= at_most)
			break;
		usleep(10 * 1000);
	}
	return cur;
}

/*
 * sgbuf charges its pages (__GFP_ACCOUNT) to the allocating task's memory
 * cgroup and allocates them with __GFP_RETRY_MAYFAIL: in a cgroup with
 * memory.max = 64M, a task allocates until refused and gets ENOMEM, with
 * no OOM kill (memory.events oom_kill, its exit status, /proc/vmstat
 * oom_kill); roughly the limit fits (at least 32 MiB, at most 64); and
 * when it closes its buffers the charge goes away. Mounts cgroup2 at
 * /sys/fs/cgroup if it is not mounted (the test guest's busybox init
 * mounts nothing).
 */
TEST_F_TIMEOUT(memcg, alloc_until_memory_max, 180)
{
	long long oom_global0 = 0, oom_global1 = 0, base, full, after, ev;
	char path[400], pid[32];
	int status, ret, heap;

	if (geteuid())
		SKIP(return, "needs root to make a cgroup");
	cgroup2_mount(self->root, sizeof(self->root));
	if (!self->root[0]) {
		if (!file_has_word("/proc/filesystems", "cgroup2"))
			SKIP(return, "the kernel has no cgroup2 file system");
		snprintf(self->root, sizeof(self->root), "/sys/fs/cgroup");
		ret = mount("none", self->root, "cgroup2", 0, NULL) ? -errno : 0;
		ASSERT_EQ(0, ret) TH_LOG("mount cgroup2 on %s: %s", self->root,
					 strerror(-ret));
		self->mounted = true;
	}
	snprintf(path, sizeof(path), "%s/cgroup.controllers", self->root);
	if (!file_has_word(path, "memory"))
		SKIP(return, "no memory controller in %s (CONFIG_MEMCG off, cgroup_disable=memory, or bound to cgroup v1)",
		     path);
	snprintf(path, sizeof(path), "%s/cgroup.subtree_control", self->root);
	if (!file_has_word(path, "memory")) {
		ret = write_str(path, "+memory");
		ASSERT_EQ(0, ret) TH_LOG("+memory in %s: %s", path, strerror(-ret));
		self->enabled = true;
	}
	snprintf(self->cg, sizeof(self->cg), "%s/sgbuf-stress-%d", self->root,
		 getpid());
	ASSERT_EQ(0, mkdir(self->cg, 0755)) TH_LOG("mkdir %s: %s", self->cg,
						   strerror(errno));
	self->created = true;
	snprintf(path, sizeof(path), "%s/memory.max", self->cg);
	snprintf(pid, sizeof(pid), "%llu", CG_LIMIT);
	ASSERT_EQ(0, write_str(path, pid));
	snprintf(path, sizeof(path), "%s/memory.swap.max", self->cg);
	write_str(path, "0");	/* absent without swap accounting */
	ASSERT_EQ(0, read_key("/proc/vmstat", "oom_kill", &oom_global0));

	heap = open_heap();
	ASSERT_LE(0, heap);
	self->child = fork();
	ASSERT_LE(0, self->child);
	if (self->child == 0)
		cg_child(self->dev, heap, self->sh);
	ASSERT_TRUE(cg_wait_step(self, 1)) TH_LOG("child did not start");
	snprintf(path, sizeof(path), "%s/cgroup.procs", self->cg);
	snprintf(pid, sizeof(pid), "%d", self->child);
	ASSERT_EQ(0, write_str(path, pid));
	base = cg_read(self, "memory.current");
	ASSERT_LE(0, base);
	atomic_store(&self->sh->go, 1);

	if (!cg_wait_step(self, 2)) {
		status = -self->sh->step - 1;
		ASSERT_TRUE(false)
			TH_LOG("child died while allocating: %s %d after %d x 1 MiB, %d x 4 KiB, %d retries; memory.events oom_kill %lld",
			       WIFSIGNALED(status) ? "signal" : "exit",
			       WIFSIGNALED(status) ? WTERMSIG(status) :
						     WEXITSTATUS(status),
			       self->sh->n1, self->sh->n2, self->sh->n3,
			       cg_event(self, "oom_kill"));
	}
	full = cg_read(self, "memory.current");
	TH_LOG("%d x 1 MiB fit (then %s), then %d x 4 KiB (then %s), then %d of %d retries; memory.current %lld KiB before, %lld KiB full, memory.events max %lld",
	       self->sh->n1, strerror(self->sh->err1), self->sh->n2,
	       strerror(self->sh->err2), self->sh->n3, CG_RETRIES, base >> 10,
	       full >> 10, cg_event(self, "max"));
	EXPECT_EQ(ENOMEM, self->sh->err1);
	EXPECT_EQ(ENOMEM, self->sh->err2);
	EXPECT_EQ(0, self->sh->err3) TH_LOG("a retry when full: %s",
					    strerror(self->sh->err3));
	EXPECT_LE(32, self->sh->n1) TH_LOG("less than half the limit fit");
	EXPECT_GE(64, self->sh->n1) TH_LOG("more than memory.max fit: pages not charged?");
	EXPECT_GE((long long)CG_LIMIT, full);
	EXPECT_LE(((long long)self->sh->n1 << 20) + self->sh->n2 * 4096LL, full)
		TH_LOG("buffers not charged in full");
	EXPECT_LT(0, cg_event(self, "max")) TH_LOG("the limit was never hit");
	atomic_store(&self->sh->go, 2);

	ASSERT_TRUE(cg_wait_step(self, 3)) TH_LOG("child died while closing");
	after = cg_settle(self, base + SZ_512K);
	TH_LOG("memory.current %lld KiB after closing", after >> 10);
	EXPECT_GE(base + (long long)SZ_512K, after)
		TH_LOG("%lld KiB still charged after close", (after - base) >> 10);
	atomic_store(&self->sh->go, 3);
	ASSERT_EQ(self->child, waitpid(self->child, &status, 0));
	self->child = -1;
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status))
		TH_LOG("child status %#x", status);
	close(heap);

	ev = cg_event(self, "oom_kill");
	EXPECT_EQ(0, ev) TH_LOG("memory.events oom_kill %lld", ev);
	ev = cg_event(self, "oom");
	EXPECT_EQ(0, ev) TH_LOG("memory.events oom %lld", ev);
	ASSERT_EQ(0, read_key("/proc/vmstat", "oom_kill", &oom_global1));
	EXPECT_EQ(oom_global0, oom_global1) TH_LOG("an OOM kill elsewhere");
	check_flat(_metadata, &self->base);
}

/* ================================================================ params */

/*
 * The caps of the module parameters, where the other tests leave gaps.
 * Covered elsewhere:
 *   max_buffer_size -> EFBIG on /dev/sgbuf: sgbuf_alloc_test
 *     params.max_buffer_size, alloc.bad_size (default + a page);
 *   max_total_size -> ENOSPC on /dev/sgbuf: sgbuf_alloc_test
 *     params.max_total_size;
 *   max_contig_size -> EFBIG: sgbuf_alloc_test alloc.contiguous;
 *   kvmalloc()'s page-array limit -> EFBIG: alloc.bad_size;
 *   job_timeout_ms, fence waits and software fences -> ETIMEDOUT:
 *     sgbuf_engine_test engine.in_fence_timeout;
 *   1024 imports, 1024 software fences -> EMFILE: engine.import_limit,
 *     engine.sw_fence_limit; queue_depth -> EBUSY: engine.queue_full;
 *     queue_depth 0/257, latency_ns > 10 s -> EINVAL:
 *     engine.config_validation; 256 results -> ENOENT:
 *     engine.wait_result_window.
 * Here: both caps on the heap node; the total cap under concurrent
 * allocation (never exceeded, not even for a moment) and lowered below
 * what is live; max_total_size=0 restoring the default; job_timeout_ms
 * capping a job's simulated time.
 */
FIXTURE(params) {
	SGBUF_FIXTURE_FIELDS;
	struct flat base;
	unsigned long long max_buffer_size, max_total_size, job_timeout_ms;
};

FIXTURE_SETUP(params)
{
	int ret;

	SGBUF_FIXTURE_SETUP(self);
	ret = flat_read(&self->base);
	ASSERT_EQ(0, ret) TH_LOG("%s", strerror(-ret));
	ASSERT_EQ(0, param_read("max_buffer_size", &self->max_buffer_size));
	ASSERT_EQ(0, param_read("max_total_size", &self->max_total_size));
	ASSERT_EQ(0, param_read("job_timeout_ms", &self->job_timeout_ms));
}

FIXTURE_TEARDOWN(params)
{
	int ret;

	ret = param_write("max_buffer_size", self->max_buffer_size);
	EXPECT_EQ(0, ret) TH_LOG("restore max_buffer_size: %s", strerror(-ret));
	ret = param_write("max_total_size", self->max_total_size);
	EXPECT_EQ(0, ret) TH_LOG("restore max_total_size: %s", strerror(-ret));
	ret = param_write("job_timeout_ms", self->job_timeout_ms);
	EXPECT_EQ(0, ret) TH_LOG("restore job_timeout_ms: %s", strerror(-ret));
	SGBUF_FIXTURE_TEARDOWN(self);
}

/* DMA_HEAP_IOCTL_ALLOC: EFBIG above max_buffer_size, ENOSPC above the total. */
TEST_F(params, heap_node_caps)
{
	unsigned long long total = self->base.info.total_size;
	int heap, a, b, fd, fds;

	heap = open_heap();
	ASSERT_LE(0, heap);
	ASSERT_EQ(0, param_write("max_buffer_size", SZ_1M));
	fd = heap_alloc(heap, SZ_1M);
	ASSERT_LE(0, fd) TH_LOG("1 MiB at a 1 MiB limit: %s", strerror(-fd));
	close(fd);
	fds = count_open_fds();
	fd = heap_alloc(heap, SZ_1M + 1);	/* rounds up to 1 MiB + a page */
	if (fd >= 0)
		close(fd);
	EXPECT_EQ(-EFBIG, fd);
	fd = heap_alloc(heap, SZ_64M);
	if (fd >= 0)
		close(fd);
	EXPECT_EQ(-EFBIG, fd);
	EXPECT_EQ(fds, count_open_fds());
	ASSERT_EQ(0, param_write("max_buffer_size", self->max_buffer_size));

	ASSERT_EQ(0, param_write("max_total_size", total + 2 * SZ_1M));
	a = heap_alloc(heap, SZ_1M);
	ASSERT_LE(0, a);
	b = heap_alloc(heap, SZ_1M - 100);	/* exactly at the cap */
	ASSERT_LE(0, b) TH_LOG("up to the cap: %s", strerror(-b));
	fds = count_open_fds();
	fd = heap_alloc(heap, 1);
	if (fd >= 0)
		close(fd);
	EXPECT_EQ(-ENOSPC, fd);
	EXPECT_EQ(fds, count_open_fds());
	EXPECT_EQ(self->base.bufinfo + 2, bufinfo_count());
	EXPECT_EQ((long long)(total + 2 * SZ_1M), live_bytes(self->dev));
	close(a);
	fd = heap_alloc(heap, SZ_1M);
	EXPECT_LE(0, fd) TH_LOG("after a close: %s", strerror(-fd));
	if (fd >= 0)
		close(fd);
	close(b);
	close(heap);
	check_flat(_metadata, &self->base);
}

struct tc_ctx {
	int dev, heap;
	unsigned long long cap;
	atomic_bool stop;
	unsigned long ok, enospc;
	int bad_err;
};

/* Allocate and free on both nodes, holding up to three buffers. */
static void *tc_allocator(void *arg)
{
	struct tc_ctx *c = arg;
	int held[3] = { -1, -1, -1 };
	uint64_t rng = (uintptr_t)&held;
	unsigned long i;

	for (i = 0; !atomic_load(&c->stop); i++) {
		unsigned long long size = (1 + rnd(&rng) % 4) * SZ_256K;
		int slot = i % 3, fd;

		if (held[slot] >= 0)
			close(held[slot]);
		held[slot] = -1;
		fd = i & 1 ? heap_alloc(c->heap, size) :
			     sgbuf_alloc_rw(c->dev, size);
		if (fd >= 0) {
			held[slot] = fd;
			c->ok++;
		} else if (fd == -ENOSPC) {
			c->enospc++;
		} else {
			c->bad_err = -fd;
			break;
		}
	}
	for (i = 0; i < 3; i++)
		if (held[i] >= 0)
			close(held[i]);
	return NULL;
}

/* Watch the total: it must never be seen above the cap. */
static void *tc_watcher(void *arg)
{
	struct tc_ctx *c = arg;
	unsigned long long *max = calloc(1, sizeof(*max));
	struct sgbuf_info i;

	while (max && !atomic_load(&c->stop)) {
		if (sgbuf_get_info(c->dev, &i))
			break;
		if (i.total_size > *max)
			*max = i.total_size;
	}
	return max;
}

/*
 * Four threads allocate against a cap of 8 MiB above what is live, each
 * holding up to 3 MiB: the cap is hit all the time. Every failure is
 * ENOSPC, and the total is never above the cap, not even for a moment
 * (sgbuf_account_add() charges with a cmpxchg loop, not add-then-check).
 */
TEST_F_TIMEOUT(params, total_cap_concurrent, 60)
{
	struct tc_ctx c[4];
	unsigned long long cap, *seen = NULL;
	unsigned long ok = 0, enospc = 0;
	pthread_t th[4], w;
	struct tc_ctx wc;
	int heap, i;

	heap = open_heap();
	ASSERT_LE(0, heap);
	cap = self->base.info.total_size + 8 * SZ_1M;
	ASSERT_EQ(0, param_write("max_total_size", cap));
	memset(&wc, 0, sizeof(wc));
	wc.dev = self->dev;
	ASSERT_EQ(0, pthread_create(&w, NULL, tc_watcher, &wc));
	for (i = 0; i < 4; i++) {
		memset(&c[i], 0, sizeof(c[i]));
		c[i].dev = self->dev;
		c[i].heap = heap;
		ASSERT_EQ(0, pthread_create(&th[i], NULL, tc_allocator, &c[i]));
	}
	usleep(race_ms() * 1000 / 2);
	for (i = 0; i < 4; i++)
		atomic_store(&c[i].stop, true);
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(0, pthread_join(th[i], NULL));
		EXPECT_EQ(0, c[i].bad_err) TH_LOG("thread %d: %s", i,
						  strerror(c[i].bad_err));
		ok += c[i].ok;
		enospc += c[i].enospc;
	}
	atomic_store(&wc.stop, true);
	ASSERT_EQ(0, pthread_join(w, (void **)&seen));
	ASSERT_NE(NULL, seen);
	TH_LOG("%lu allocations, %lu ENOSPC; highest total seen %llu KiB of a %llu KiB cap",
	       ok, enospc, *seen >> 10, cap >> 10);
	EXPECT_GE(cap, *seen) TH_LOG("the total exceeded max_total_size");
	EXPECT_LT(0UL, ok);
	EXPECT_LT(0UL, enospc);
	free(seen);
	close(heap);
	check_flat(_metadata, &self->base);
}

/*
 * Lowering max_total_size below what is live: live buffers stay, new
 * ones get ENOSPC until enough are freed, freeing never underflows.
 */
TEST_F(params, total_cap_below_live)
{
	unsigned long long total = self->base.info.total_size;
	int fd[4], n, i;

	for (i = 0; i < 4; i++) {
		fd[i] = sgbuf_alloc_rw(self->dev, SZ_1M);
		ASSERT_LE(0, fd[i]);
	}
	ASSERT_EQ(0, param_write("max_total_size", total + SZ_1M));
	n = sgbuf_alloc_rw(self->dev, SZ_4K);
	if (n >= 0)
		close(n);
	EXPECT_EQ(-ENOSPC, n);
	EXPECT_EQ((long long)(total + 4 * SZ_1M), live_bytes(self->dev));
	for (i = 0; i < 3; i++) {
		close(fd[i]);
		n = sgbuf_alloc_rw(self->dev, SZ_4K);
		if (n >= 0)
			close(n);
		EXPECT_EQ(-ENOSPC, n) TH_LOG("%d MiB live above a cap 1 MiB up",
					     3 - i);
	}
	EXPECT_EQ((long long)(total + SZ_1M), live_bytes(self->dev));
	close(fd[3]);
	n = sgbuf_alloc_rw(self->dev, SZ_1M);
	EXPECT_LE(0, n) TH_LOG("back under the cap: %s", strerror(-n));
	if (n >= 0)
		close(n);
	check_flat(_metadata, &self->base);
}

/* Writing 0 to max_total_size restores its default, 3/4 of RAM. */
TEST_F(params, total_size_zero_restores_default)
{
	unsigned long long v = 0, want;
	struct sgbuf_info info;
	struct sysinfo si;

	ASSERT_EQ(0, sysinfo(&si));
	want = (unsigned long long)si.totalram * si.mem_unit / 4 * 3;
	ASSERT_EQ(0, param_write("max_total_size", SZ_64M));
	ASSERT_EQ(0, write_str(SGBUF_PARAM_DIR "/max_total_size", "0\n"));
	ASSERT_EQ(0, param_read("max_total_size", &v));
	EXPECT_EQ(want, v);
	ASSERT_EQ(0, sgbuf_get_info(self->dev, &info));
	EXPECT_EQ(want, info.max_total_size);
	EXPECT_EQ(self->max_total_size, v) TH_LOG("the default at load time differs");
	check_flat(_metadata, &self->base);
}

/*
 * job_timeout_ms also caps a job's simulated time: latency_ns 10 s (the
 * largest allowed) and a bandwidth of 1 byte/s make a job take
 * job_timeout_ms (300 ms here), and it succeeds with its data written.
 */
TEST_F_TIMEOUT(params, job_timeout_caps_job_time, 60)
{
	struct sgbuf_engine_config cfg;
	struct sgbuf_submit s;
	long long t0, dt;
	uint8_t *p;
	int e, fd, st, i;
	__u32 h = 0;

	e = sgbuf_open();
	ASSERT_LE(0, e);
	fd = sgbuf_alloc_rw(self->dev, SZ_64K);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, eng_import(e, fd, 0, &h, NULL));
	ASSERT_EQ(0, param_write("job_timeout_ms", 300));
	for (i = 0; i < 2; i++) {
		memset(&cfg, 0, sizeof(cfg));
		cfg.queue_depth = 64;
		if (i)
			cfg.bandwidth = 1;
		else
			cfg.latency_ns = 10LL * 1000 * 1000 * 1000;
		ASSERT_EQ(0, eng_config(e, &cfg));
		job_fill(&s, h, 0, SZ_64K, 0x7100 + i);
		t0 = now_ns();
		ASSERT_EQ(0, eng_submit(e, &s));
		st = 1;
		ASSERT_EQ(0, eng_wait(e, s.seqno, WAIT_LONG_NS, &st, NULL));
		dt = now_ns() - t0;
		TH_LOG("%s: the job took %lld ms with job_timeout_ms 300",
		       i ? "bandwidth 1 B/s" : "latency 10 s", dt / 1000000);
		EXPECT_EQ(0, st);
		EXPECT_LE(MS(290), dt);
		EXPECT_GT(MS(5000), dt) TH_LOG("not capped by job_timeout_ms");
		p = map_buf(fd, SZ_64K, PROT_READ);
		ASSERT_NE(MAP_FAILED, p);
		ASSERT_EQ(0, dmabuf_sync(fd, SYNC_R_START));
		EXPECT_EQ(-1, words_check(p, SZ_64K, 0x7100 + i));
		ASSERT_EQ(0, dmabuf_sync(fd, SYNC_R_END));
		munmap(p, SZ_64K);
	}
	close(fd);
	close(e);
	ASSERT_EQ(0, param_write("job_timeout_ms", self->job_timeout_ms));
	check_flat(_metadata, &self->base);
}

TEST_HARNESS_MAIN
