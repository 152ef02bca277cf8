// SPDX-License-Identifier: GPL-2.0
/*
 * fail-nth sweeps over every ioctl path of sgbuf.
 *
 * Each path is called with /proc/thread-self/fail-nth set to 1, 2, 3, ...:
 * the n-th fault site the calling thread reaches from then on (a slab or
 * page allocation, a copy from or to userspace) fails. After the call the
 * file is read back (0: the fault was injected) and disarmed. A sweep ends
 * once SWEEP_QUIET calls in a row have reached no n-th site: they must
 * succeed and do what they should. Each sweep prints its number of fault
 * sites; FAILNTH_VERBOSE=1 prints every step.
 *
 * After an injected fault the call must either
 *  - fail with ENOMEM or EFAULT and have changed nothing that userspace can
 *    see: fds, buffers (bufinfo, GET_INFO), a dma-buf's references,
 *    attachments and fences, engines and their counters, imports, import
 *    handles, software fence ids, job seqnos, names, contents; and the
 *    object must still work afterwards; or
 *  - succeed, where the path tolerates the failure (a smaller page order,
 *    vmalloc instead of kmalloc, kmemleak's own metadata), with a correct
 *    result; or
 *  - fail after having taken effect, where that is documented (SUBMIT's
 *    reply, the V4L2 core's copy-out of QBUF): then it must have taken
 *    effect correctly and leaked nothing.
 *
 * Every test also fails if the kernel got tainted while it ran (a KASAN
 * report, a WARN, an oops) or lockdep turned itself off.
 *
 * Needs a kernel with CONFIG_FAULT_INJECTION, CONFIG_FAILSLAB,
 * CONFIG_FAIL_PAGE_ALLOC, CONFIG_FAULT_INJECTION_DEBUG_FS (and
 * CONFIG_FAULT_INJECTION_USERCOPY for the usercopy sites,
 * CONFIG_FAULT_INJECTION_STACKTRACE_FILTER for vmap_via_vivid): the debug
 * kernel of scripts/debug-kernel.sh. Every test skips where fail-nth is
 * missing.
 *
 * Three tests reach a WARN_ON_ONCE of the 6.12 core, once per boot, which
 * taints the kernel W; each allows exactly that warning and prints what the
 * kernel logged. Run them on their own (-t NAME), the rest with
 * -T vmap_via_vivid -T qbuf_via_vivid -T mmap_one_run:
 *  - vmap_via_vivid: a failure inside sgbuf's vmap (dma_buf_vmap());
 *  - mmap_one_run: a remap_pfn_range() failing for a whole VMA
 *    (get_pat_info());
 *  - qbuf_via_vivid: every fault site of VIDIOC_QBUF; it also fails on
 *    Debian's 6.12.117, whose vb2 core leaks a dma-buf reference when
 *    attach_dmabuf fails (see the test).
 */
#define _GNU_SOURCE
#include <poll.h>
#include <linux/dma-heap.h>
#include <linux/videodev2.h>

#include "drivers.h"
#include "engine.h"
#include "harness.h"

#define DEBUGFS			"/sys/kernel/debug"
#define FAILNTH_PATH		"/proc/thread-self/fail-nth"
#define SWEEP_CAP		2000

/* 17 pages: an order-4 chunk and a page. */
#define FN_SIZE			(SZ_64K + SZ_4K)
/* Order-8, order-4 and order-0 chunks; a page array above a page. */
#define FN_BIG			(SZ_4M + SZ_64K + SZ_4K)

#define SYNC_R_START		(DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ)
#define SYNC_R_END		(DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ)
#define SYNC_W_START		(DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE)
#define SYNC_W_END		(DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE)

/* ------------------------------------------------- fault injection knobs */

struct fn_knob {
	const char *path;	/* under debugfs */
	const char *value;
	bool optional;		/* absent without FAULT_INJECTION_USERCOPY */
};

static const struct fn_knob fn_knobs[] = {
	/* The defaults (Y) never fail an allocation that may sleep. */
	{ "failslab/ignore-gfp-wait", "N", false },
	{ "fail_page_alloc/ignore-gfp-wait", "N", false },
	/* The default (Y) never fails GFP_HIGHUSER, sgbuf's buffer pages. */
	{ "fail_page_alloc/ignore-gfp-highmem", "N", false },
	/* The default (1) never fails an order-0 page. */
	{ "fail_page_alloc/min-order", "0", false },
	/* No line, no stack dump, per injected fault. */
	{ "failslab/verbose", "0", false },
	{ "fail_page_alloc/verbose", "0", false },
	{ "fail_usercopy/verbose", "0", true },
};

/* The fault attributes whose require-start/-end restrict_faults() sets. */
static const char *const fn_attrs[] = {
	"failslab", "fail_page_alloc", "fail_usercopy",
};

#define FN_MAX_KNOBS		16

/* FAILNTH_VERBOSE=1 in the environment: one line per step. */
static bool fn_verbose;

struct fn_env {
	int nth;			/* /proc/thread-self/fail-nth */
	/* Knobs changed, with the values to restore, in order. */
	unsigned int nknobs;
	char knob[FN_MAX_KNOBS][64];
	char old[FN_MAX_KNOBS][32];
	unsigned long long timeout_ms;	/* job_timeout_ms to restore */
	bool timeout_set;
	unsigned long long taint;	/* /proc/sys/kernel/tainted at setup */
	int debug_locks;		/* lockdep still on at setup, or -1 */
	bool allow_warn;		/* the test expects the core's WARN */
};

/* debug_locks of /proc/lockdep_stats (0 once lockdep reported), or -1. */
static int lockdep_on(void)
{
	char line[128];
	int on = -1;
	FILE *f;

	f = fopen("/proc/lockdep_stats", "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, " debug_locks: %d", &on) == 1)
			break;
	fclose(f);
	return on;
}

static int str_write(const char *path, const char *s)
{
	ssize_t len = strlen(s), n;
	int fd;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, s, len);
	n = n == len ? 0 : (n < 0 ? -errno : -EIO);
	close(fd);
	return n;
}

/* Put every knob changed back, the last changed first. */
static void fn_knobs_restore(struct fn_env *env)
{
	char path[128];

	while (env->nknobs) {
		env->nknobs--;
		snprintf(path, sizeof(path), "%s/%s", DEBUGFS,
			 env->knob[env->nknobs]);
		str_write(path, env->old[env->nknobs]);
	}
}

/*
 * Set a fault injection knob (a path under debugfs), remembering its value
 * for fn_knobs_restore(). Returns 0 or -errno.
 */
static int fn_knob_set(struct fn_env *env, const char *knob, const char *value)
{
	char path[128];
	int ret;

	if (env->nknobs == FN_MAX_KNOBS)
		return -ENOSPC;
	snprintf(path, sizeof(path), "%s/%s", DEBUGFS, knob);
	ret = read_str_file(path, env->old[env->nknobs],
		       sizeof(env->old[env->nknobs]));
	if (ret)
		return ret;
	ret = str_write(path, value);
	if (ret)
		return ret;
	snprintf(env->knob[env->nknobs], sizeof(env->knob[0]), "%s", knob);
	env->nknobs++;
	return 0;
}

/*
 * Between arming fail-nth and reading it back this thread must not fault
 * in memory of its own: a page fault taken in userspace (stack growth, or
 * the copy-on-write of a stack page after the harness's fork()) reaches
 * fault sites too. Touch the stack below the caller, which the call and
 * the read-back use, before arming.
 */
static void fn_touch_stack(void)
{
	char pad[16384];

	memset(pad, 0, sizeof(pad));
	/* Keep the stores: the compiler cannot see what this asm reads. */
	__asm__ __volatile__("" : : "r" (pad) : "memory");
}

/* Arm fail-nth: the @n-th fault site this thread reaches from now fails. */
static int fn_arm(int nth, unsigned int n)
{
	char buf[16];
	int len;

	fn_touch_stack();
	errno = 0;
	len = snprintf(buf, sizeof(buf), "%u", n);
	return pwrite(nth, buf, len, 0) == len ? 0 : -errno;
}

/*
 * Read fail-nth back and disarm it. Returns 1 if the armed fault was
 * injected (fail-nth reads 0), 0 if the call finished before reaching it,
 * or -errno.
 *
 * Reading copies to userspace, which is a fault site too: if the call left
 * fail-nth at 1, that copy is the one that fails, so EFAULT here means "not
 * injected". The disarming write's copy from userspace may consume what is
 * left in the same way; a second write then finds fail-nth disarmed.
 */
static int fn_end(int nth)
{
	char buf[16] = "";
	ssize_t n;
	int i, err = 0;

	n = pread(nth, buf, sizeof(buf) - 1, 0);
	if (n < 0)
		err = errno;
	for (i = 0; i < 3; i++)
		if (pwrite(nth, "0", 1, 0) == 1)
			break;
	if (i == 3)
		return -errno;
	if (n < 0)
		return err == EFAULT ? 0 : -err;
	return n >= 1 && buf[0] == '0';
}

/* Set the knobs (remembering the old values) and warm up fail-nth. */
static void fn_setup(struct __test_metadata *_metadata, struct fn_env *env)
{
	unsigned int i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(fn_knobs); i++) {
		ret = fn_knob_set(env, fn_knobs[i].path, fn_knobs[i].value);
		if (ret == -ENOENT && fn_knobs[i].optional)
			continue;
		if (ret)
			fn_knobs_restore(env);
		ASSERT_EQ(0, ret)
			TH_LOG("%s/%s: %s (the knobs need CONFIG_FAILSLAB, CONFIG_FAIL_PAGE_ALLOC and CONFIG_FAULT_INJECTION_DEBUG_FS, and debugfs mounted)",
			       DEBUGFS, fn_knobs[i].path, strerror(-ret));
	}
	fn_verbose = getenv("FAILNTH_VERBOSE") &&
		     strcmp(getenv("FAILNTH_VERBOSE"), "0");
	ASSERT_EQ(0, read_ull_file("/proc/sys/kernel/tainted", &env->taint));
	env->debug_locks = lockdep_on();
	/*
	 * A dry run: fault in everything the armed window uses (the literal
	 * "0", the stack, errno), and check that the file works.
	 */
	ret = fn_arm(env->nth, 0);
	ASSERT_EQ(0, ret) TH_LOG("write %s: %s", FAILNTH_PATH, strerror(-ret));
	ret = fn_end(env->nth);
	ASSERT_EQ(1, ret) TH_LOG("read %s: %d", FAILNTH_PATH, ret);
}

/*
 * The kernel must not have reported anything while the test ran: KASAN
 * taints B, a WARN taints W (allowed only by allow_core_warning()), an oops
 * D; lockdep turns itself off.
 */
static void fn_teardown(struct __test_metadata *_metadata,
			struct fn_env *env)
{
	unsigned long long taint = env->taint, allowed = 0;

	if (env->allow_warn)
		allowed = 1ULL << 9;	/* TAINT_WARN */
	/* Never armed here, unless an assertion fired in the armed window. */
	if (pwrite(env->nth, "0", 1, 0) != 1)
		pwrite(env->nth, "0", 1, 0);
	fn_knobs_restore(env);
	if (env->timeout_set) {
		param_write("job_timeout_ms", env->timeout_ms);
		env->timeout_set = false;
	}
	read_ull_file("/proc/sys/kernel/tainted", &taint);
	EXPECT_EQ(0ULL, (taint & ~env->taint) & ~allowed)
		TH_LOG("the kernel got tainted %#llx (was %#llx): see its log",
		       taint, env->taint);
	if (env->debug_locks == 1)
		EXPECT_EQ(1, lockdep_on())
			TH_LOG("lockdep turned itself off: see the kernel log");
}

/* Raise job_timeout_ms (restored at teardown) for fences held long. */
static void fn_long_timeout(struct __test_metadata *_metadata,
			    struct fn_env *env)
{
	int ret;

	ret = param_read("job_timeout_ms", &env->timeout_ms);
	ASSERT_EQ(0, ret) TH_LOG("job_timeout_ms: %s", strerror(-ret));
	env->timeout_set = true;
	ret = param_write("job_timeout_ms", 300000);
	ASSERT_EQ(0, ret) TH_LOG("job_timeout_ms: %s", strerror(-ret));
}

#define FN_FIELDS							\
	SGBUF_FIXTURE_FIELDS;						\
	struct fn_env env

/*
 * Open fail-nth, or skip: the only reason a test of this file skips (the
 * harness's SKIP() also ends the fixture's setup, see FN_SETUP()).
 */
static bool fn_open(struct __test_metadata *_metadata, struct fn_env *env)
{
	env->nth = open(FAILNTH_PATH, O_RDWR | O_CLOEXEC);
	if (env->nth < 0)
		SKIP(return false,
		     "no %s (%s): the kernel lacks CONFIG_FAULT_INJECTION, CONFIG_FAILSLAB, CONFIG_FAIL_PAGE_ALLOC (as Debian's stock 6.1 and 6.12 do)",
		     FAILNTH_PATH, strerror(errno));
	return true;
}

#define FN_SETUP(self) do {						\
	if (fn_open(_metadata, &(self)->env)) {				\
		SGBUF_FIXTURE_SETUP(self);				\
		fn_setup(_metadata, &(self)->env);			\
	}								\
} while (0)

#define FN_TEARDOWN(self) do {						\
	fn_teardown(_metadata, &(self)->env);				\
	SGBUF_FIXTURE_TEARDOWN(self);					\
} while (0)

/* ----------------------------------------------------------------- sweep */

/*
 * The fault sites of a call vary a little from one step to the next: the
 * debug kernel's own bookkeeping allocates now and then (a stack depot
 * pool, a kfree_rcu() block, a resv fence list grown or not). So a sweep
 * ends only after SWEEP_QUIET calls in a row reached no n-th site.
 */
#define SWEEP_QUIET		5

struct sweep {
	const char *what;
	unsigned int n;		/* the step being run: fail-nth's value */
	unsigned int quiet;	/* calls in a row that reached no n-th site */
	unsigned int sites;	/* steps whose fault was injected */
	unsigned int tolerated;	/* ... and the call succeeded anyway */
	unsigned int after;	/* ... and the call failed after taking effect */
	long long start;
};

static void sweep_begin(struct sweep *sw, const char *what)
{
	memset(sw, 0, sizeof(*sw));
	sw->what = what;
	sw->start = now_ns();
}

static bool sweep_done(const struct sweep *sw)
{
	return sw->quiet >= SWEEP_QUIET;
}

static void sweep_report(const struct sweep *sw)
{
	ksft_print_msg("%s: %u fault sites: %u failed the call (%u of them after it took effect), %u tolerated; %u steps, %.2f s\n",
		       sw->what, sw->sites, sw->sites - sw->tolerated,
		       sw->after, sw->tolerated, sw->n,
		       (now_ns() - sw->start) / 1e9);
}

/* Go to the next step; fail past SWEEP_CAP. */
static void sweep_step(struct __test_metadata *_metadata, struct sweep *sw)
{
	ASSERT_LE(++sw->n, (unsigned int)SWEEP_CAP)
		TH_LOG("%s: still reaching fault sites after %d steps",
		       sw->what, SWEEP_CAP);
}

/*
 * Make @call (an expression giving 0 or -errno) with fail-nth armed at the
 * sweep's step; set @ret to its result and @inj to whether the fault was
 * injected. A call that reached no n-th site must have succeeded.
 */
#define FN_CALL(self, sw, ret, inj, call) do {				\
	int __arm = fn_arm((self)->env.nth, (sw)->n);			\
									\
	(ret) = (call);							\
	(inj) = fn_end((self)->env.nth);				\
	ASSERT_EQ(0, __arm)						\
		TH_LOG("arm %s: %s", FAILNTH_PATH, strerror(-__arm));	\
	ASSERT_LE(0, (inj))						\
		TH_LOG("read back %s: %s", FAILNTH_PATH,		\
		       strerror(-(inj)));				\
	if (fn_verbose)							\
		ksft_print_msg("%s: fail-nth %u: %s, %s\n", (sw)->what,	\
			       (sw)->n, (inj) ? "injected" : "not reached", \
			       (ret) ? strerror(-(ret)) : "success");	\
	(sw)->quiet = (inj) ? 0 : (sw)->quiet + 1;			\
	if (inj) {							\
		(sw)->sites++;						\
		(sw)->tolerated += !(ret);				\
	}								\
	ASSERT_TRUE((inj) || !(ret))					\
		TH_LOG("%s failed with no fault injected (fail-nth %u): %s", \
		       (sw)->what, (sw)->n, strerror(-(ret)));		\
} while (0)

/* An injected allocation failure is ENOMEM, a usercopy one EFAULT. */
static void expect_fault_errno(struct __test_metadata *_metadata,
			       const struct sweep *sw, int ret)
{
	EXPECT_TRUE(ret == -ENOMEM || ret == -EFAULT)
		TH_LOG("%s, fail-nth %u: failed with %s (%d), not ENOMEM or EFAULT",
		       sw->what, sw->n, strerror(-ret), ret);
}

/* ------------------------------------------------------- what is visible */

struct snap {
	int fds;
	int bufinfo;			/* sgbuf buffers in bufinfo */
	unsigned long long live, total;	/* GET_INFO */
	int dmabuf_maps;		/* dma-buf mappings of this process */
	int engines;			/* engines of this process */
	struct eng_dbg eng;		/* the first of them */
};

static void snap_take(struct __test_metadata *_metadata, int dev,
		      struct snap *s)
{
	struct sgbuf_info info;
	int ret;

	memset(s, 0, sizeof(*s));
	s->fds = count_open_fds();
	ASSERT_LE(0, s->fds);
	s->bufinfo = bufinfo_count();
	ASSERT_LE(0, s->bufinfo) TH_LOG("bufinfo: %s", strerror(-s->bufinfo));
	ret = sgbuf_get_info(dev, &info);
	ASSERT_EQ(0, ret) TH_LOG("GET_INFO: %s", strerror(-ret));
	s->live = info.live_buffers;
	s->total = info.total_size;
	s->dmabuf_maps = dmabuf_maps_count();
	ASSERT_LE(0, s->dmabuf_maps);
	s->engines = engines_of_pid(getpid(), &s->eng, 1);
	ASSERT_LE(0, s->engines) TH_LOG("%s: %s", SGBUF_ENGINES_DEBUGFS,
					strerror(-s->engines));
}

static void expect_same(struct __test_metadata *_metadata,
			const struct sweep *sw, const char *what, long long a,
			long long b, const char *why)
{
	EXPECT_EQ(a, b) TH_LOG("%s, fail-nth %u: %s went from %lld to %lld%s%s",
			       sw->what, sw->n, what, a, b, why ? ": " : "",
			       why ? why : "");
}

#define SNAP_EQ(sw, a, b, field)					\
	expect_same(_metadata, sw, #field, (a)->field, (b)->field, NULL)

/* Everything in @a and @b must be the same. */
static void snap_expect_same(struct __test_metadata *_metadata,
			     const struct sweep *sw, const struct snap *a,
			     const struct snap *b)
{
	int i;

	SNAP_EQ(sw, a, b, fds);
	SNAP_EQ(sw, a, b, bufinfo);
	SNAP_EQ(sw, a, b, live);
	SNAP_EQ(sw, a, b, total);
	SNAP_EQ(sw, a, b, dmabuf_maps);
	SNAP_EQ(sw, a, b, engines);
	if (a->engines <= 0 || b->engines <= 0)
		return;
	SNAP_EQ(sw, a, b, eng.id);
	SNAP_EQ(sw, a, b, eng.submitted);
	SNAP_EQ(sw, a, b, eng.completed);
	SNAP_EQ(sw, a, b, eng.failed);
	SNAP_EQ(sw, a, b, eng.cancelled);
	SNAP_EQ(sw, a, b, eng.in_flight);
	SNAP_EQ(sw, a, b, eng.bytes);
	SNAP_EQ(sw, a, b, eng.nimports);
	for (i = 0; i < a->eng.nimports && i < b->eng.nimports; i++)
		SNAP_EQ(sw, a, b, eng.imports[i].handle);
}

/* One dma-buf's row in bufinfo, whoever exported it. */
struct brow {
	long count;		/* references to its file */
	int attached;		/* devices attached */
	int pending;		/* unsignalled fences in its reservation object */
	char name[40];
};

static int bufinfo_row(int fd, struct brow *r)
{
	char line[512];
	struct stat st;
	bool in = false;
	int ret = -ENOENT;
	FILE *f;

	memset(r, 0, sizeof(*r));
	if (fstat(fd, &st))
		return -errno;
	f = fopen(DMABUF_BUFINFO, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *col[8];

		if (!in) {
			if (bufinfo_split(line, col, ARRAY_SIZE(col)) >= 7 &&
			    strtoull(col[5], NULL, 10) ==
			    (unsigned long long)st.st_ino) {
				in = true;
				r->count = strtol(col[3], NULL, 10);
				snprintf(r->name, sizeof(r->name), "%s", col[6]);
			}
			continue;
		}
		if (strstr(line, " fence:")) {
			r->pending += !!strstr(line, " unsignalled");
		} else if (sscanf(line, "Total %d devices attached",
				  &r->attached) == 1) {
			ret = 0;
			break;
		}
	}
	fclose(f);
	return ret;
}

#define BROW_EQ(sw, a, b, field, why)					\
	expect_same(_metadata, sw, "the dma-buf's " #field, (a)->field,	\
		    (b)->field, why)

static void brow_expect_same(struct __test_metadata *_metadata,
			     const struct sweep *sw, const struct brow *a,
			     const struct brow *b)
{
	BROW_EQ(sw, a, b, count, "a reference leaked or was dropped");
	BROW_EQ(sw, a, b, attached, "an attachment leaked or was dropped");
	BROW_EQ(sw, a, b, pending, "a fence was added by a failed call");
	EXPECT_STREQ(a->name, b->name)
		TH_LOG("%s, fail-nth %u: the name changed", sw->what, sw->n);
}

/* ------------------------------------------------------ buffer contents */

/* Write @src into the dma-buf through a CPU mapping. */
static int buf_write(int fd, const void *src, size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	int ret;

	if (p == MAP_FAILED)
		return -errno;
	ret = dmabuf_sync(fd, SYNC_W_START);
	if (!ret) {
		memcpy(p, src, size);
		ret = dmabuf_sync(fd, SYNC_W_END);
	}
	munmap(p, size);
	return ret;
}

/*
 * Compare the dma-buf with @model (NULL: all zero) through a CPU mapping.
 * Stores the first differing offset, or -1, in @diff.
 */
static int buf_compare(int fd, const void *model, size_t size, long *diff)
{
	void *p = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	int ret;

	if (p == MAP_FAILED)
		return -errno;
	ret = dmabuf_sync(fd, SYNC_R_START);
	if (!ret) {
		*diff = model ? first_diff(p, model, size) :
				find_nonzero(p, size);
		ret = dmabuf_sync(fd, SYNC_R_END);
	}
	munmap(p, size);
	return ret;
}

#define EXPECT_CONTENTS(sw, fd, model, size) do {			\
	long __diff = -2;						\
	int __ret = buf_compare((fd), (model), (size), &__diff);	\
									\
	EXPECT_EQ(0, __ret) TH_LOG("%s, fail-nth %u: reading the buffer: %s", \
				   (sw)->what, (sw)->n, strerror(-__ret)); \
	EXPECT_EQ(-1, __diff)						\
		TH_LOG("%s, fail-nth %u: buffer contents wrong from offset %ld", \
		       (sw)->what, (sw)->n, __diff);			\
} while (0)

/* An sgbuf buffer filled with the pattern @seed, and its model. */
static int buf_new(int dev, size_t size, uint64_t seed, const char *name,
		   uint8_t **model)
{
	int fd, ret;

	*model = malloc(size);
	if (!*model)
		return -ENOMEM;
	pattern_fill(*model, size, seed);
	fd = sgbuf_alloc(dev, size, 0, O_RDWR | O_CLOEXEC, name);
	if (fd < 0)
		return fd;
	ret = buf_write(fd, *model, size);
	if (ret) {
		close(fd);
		return ret;
	}
	return fd;
}

static int wait_full(int eng, __u64 seqno, long long timeout_ns,
		     struct sgbuf_wait *w)
{
	memset(w, 0, sizeof(*w));
	w->seqno = seqno;
	w->timeout_ns = timeout_ns;
	return ioctl(eng, SGBUF_IOCTL_WAIT, w) ? -errno : 0;
}

/* Status of a sync_file, or a value no fence has (-10000) on error. */
static int fence_status(int fd)
{
	int st = -10000;

	return sync_file_status(fd, &st) ? -10000 : st;
}

/* CHECKSUM64 of all of import @h (on @eng): 0 and the sum, or -errno. */
static int engine_sum64(int eng, __u32 h, size_t size, __u64 *sum)
{
	struct sgbuf_submit s;
	struct sgbuf_wait w;
	int ret;

	job_checksum64(&s, h, 0, size);
	ret = eng_submit(eng, &s);
	if (ret)
		return ret;
	ret = wait_full(eng, s.seqno, WAIT_LONG_NS, &w);
	if (ret)
		return ret;
	if (w.status)
		return w.status;
	*sum = w.checksum64;
	return 0;
}

/* ------------------------------------------------------------- fixture */

FIXTURE(failnth) {
	FN_FIELDS;
};

FIXTURE_SETUP(failnth)
{
	FN_SETUP(self);
}

FIXTURE_TEARDOWN(failnth)
{
	FN_TEARDOWN(self);
}

/* ----------------------------------------------------------- allocation */

/*
 * A new buffer of @size from ALLOC or the heap (@name or none): check it,
 * close it, and check that everything is back as in @before.
 */
static void check_new_buffer(struct __test_metadata *_metadata,
			     const struct sweep *sw, int dev, int fd,
			     unsigned long long size, const char *name,
			     const struct snap *before)
{
	char got[64] = "";
	struct snap s;
	off_t end;
	int ret;

	ASSERT_LE(0, fd) TH_LOG("%s, fail-nth %u: fd %d", sw->what, sw->n, fd);
	snap_take(_metadata, dev, &s);
	EXPECT_EQ(before->fds + 1, s.fds);
	EXPECT_EQ(before->bufinfo + 1, s.bufinfo);
	EXPECT_EQ(before->live + 1, s.live);
	EXPECT_EQ(before->total + size, s.total);
	end = lseek(fd, 0, SEEK_END);
	EXPECT_EQ((off_t)size, end);
	ret = fdinfo_get(fd, "name", got, sizeof(got));
	if (name) {
		EXPECT_EQ(0, ret);
		EXPECT_STREQ(name, got);
	} else {
		EXPECT_EQ(-ENOENT, ret) TH_LOG("name %s", got);
	}
	EXPECT_CONTENTS(sw, fd, NULL, size);
	EXPECT_EQ(0, close(fd));
	snap_take(_metadata, dev, &s);
	snap_expect_same(_metadata, sw, before, &s);
}

static void sweep_alloc(struct __test_metadata *_metadata,
			FIXTURE_DATA(failnth) *self, const char *what,
			unsigned long long size, unsigned long long flags)
{
	struct sgbuf_alloc req;
	struct snap a, b;
	struct sweep sw;
	int ret, inj;

	sweep_begin(&sw, what);
	for (;;) {
		sweep_step(_metadata, &sw);
		snap_take(_metadata, self->dev, &a);
		memset(&req, 0, sizeof(req));
		req.size = size;
		req.flags = flags;
		req.fd_flags = O_RDWR | O_CLOEXEC;
		snprintf(req.name, sizeof(req.name), "failnth");
		FN_CALL(self, &sw, ret, inj,
			ioctl(self->dev, SGBUF_IOCTL_ALLOC, &req) ? -errno : 0);
		if (!ret) {
			check_new_buffer(_metadata, &sw, self->dev, req.fd,
					 size, "failnth", &a);
		} else {
			expect_fault_errno(_metadata, &sw, ret);
			snap_take(_metadata, self->dev, &b);
			snap_expect_same(_metadata, &sw, &a, &b);
		}
		if (sweep_done(&sw))
			break;
	}
	sweep_report(&sw);
}

TEST_F_TIMEOUT(failnth, alloc_multi_page, 120)
{
	sweep_alloc(_metadata, self, "ALLOC 68 KiB", FN_SIZE, 0);
}

TEST_F_TIMEOUT(failnth, alloc_high_order, 300)
{
	sweep_alloc(_metadata, self, "ALLOC 4 MiB + 68 KiB", FN_BIG, 0);
}

TEST_F_TIMEOUT(failnth, alloc_contiguous, 120)
{
	if (!(self->info_base.caps & SGBUF_CAP_CONTIGUOUS))
		SKIP(return, "SGBUF_CAP_CONTIGUOUS is not in caps %#llx",
		     (unsigned long long)self->info_base.caps);
	sweep_alloc(_metadata, self, "ALLOC 68 KiB CONTIGUOUS", FN_SIZE,
		    SGBUF_ALLOC_CONTIGUOUS);
}

TEST_F_TIMEOUT(failnth, heap_alloc, 120)
{
	/* Not page aligned: the heap rounds up to 72 KiB. */
	const unsigned long long len = FN_SIZE + 1;
	struct dma_heap_allocation_data req;
	struct snap a, b;
	struct sweep sw;
	int heap, ret, inj;

	heap = open(SGBUF_HEAP_DEV, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, heap) TH_LOG("%s: %s", SGBUF_HEAP_DEV, strerror(errno));
	sweep_begin(&sw, "DMA_HEAP_IOCTL_ALLOC 68 KiB + 1");
	for (;;) {
		sweep_step(_metadata, &sw);
		snap_take(_metadata, self->dev, &a);
		memset(&req, 0, sizeof(req));
		req.len = len;
		req.fd_flags = O_RDWR | O_CLOEXEC;
		FN_CALL(self, &sw, ret, inj,
			ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &req) ? -errno : 0);
		if (!ret) {
			check_new_buffer(_metadata, &sw, self->dev, req.fd,
					 page_align(len), NULL, &a);
		} else {
			expect_fault_errno(_metadata, &sw, ret);
			snap_take(_metadata, self->dev, &b);
			snap_expect_same(_metadata, &sw, &a, &b);
		}
		if (sweep_done(&sw))
			break;
	}
	sweep_report(&sw);
	EXPECT_EQ(0, close(heap));
}

/* --------------------------------------------------------------- engine */

/*
 * Import @buf on @eng, FILL its first page and wait: stores the job's
 * status. Returns 0 or -errno.
 */
static int probe_job(int eng, int buf, int *status)
{
	struct sgbuf_submit s;
	struct sgbuf_wait w;
	__u32 h = 0;
	int ret;

	ret = eng_import(eng, buf, 0, &h, NULL);
	if (ret)
		return ret;
	job_fill(&s, h, 0, SZ_4K, 0x600d600d);
	ret = eng_submit(eng, &s);
	if (!ret)
		ret = wait_full(eng, s.seqno, WAIT_LONG_NS, &w);
	if (!ret)
		*status = w.status;
	eng_unimport(eng, h);
	return ret;
}

/*
 * The first engine ioctl of a fresh file makes its engine, then runs.
 * ENOMEM: no engine may be left, and no engine id used up. EFAULT (the
 * argument could not be read): the engine exists, as documented ("even
 * one that then fails"), with the default configuration.
 */
TEST_F_TIMEOUT(failnth, engine_first_ioctl, 300)
{
	struct sgbuf_engine_config cfg;
	unsigned long long next_id;
	struct snap a, b;
	struct sweep sw;
	int buf, e, ret, inj, st;

	buf = sgbuf_alloc_rw(self->dev, SZ_4K);
	ASSERT_LE(0, buf);

	/* The next engine's id: one past an engine made and closed now. */
	e = sgbuf_open();
	ASSERT_LE(0, e);
	ASSERT_EQ(0, eng_config_simple(e, 64, 0, 0));
	snap_take(_metadata, self->dev, &a);
	ASSERT_EQ(1, a.engines);
	next_id = a.eng.id + 1;
	ASSERT_EQ(0, close(e));

	sweep_begin(&sw, "first engine ioctl (ENGINE_CONFIG)");
	for (;;) {
		sweep_step(_metadata, &sw);
		e = sgbuf_open();
		ASSERT_LE(0, e);
		snap_take(_metadata, self->dev, &a);
		ASSERT_EQ(0, a.engines);
		memset(&cfg, 0, sizeof(cfg));
		cfg.queue_depth = 64;
		cfg.fail_seqno = 1;
		cfg.fail_error = -EPERM;
		FN_CALL(self, &sw, ret, inj,
			ioctl(e, SGBUF_IOCTL_ENGINE_CONFIG, &cfg) ? -errno : 0);
		snap_take(_metadata, self->dev, &b);
		if (ret == -ENOMEM) {
			snap_expect_same(_metadata, &sw, &a, &b);
		} else if (!ret || ret == -EFAULT) {
			EXPECT_EQ(1, b.engines)
				TH_LOG("%s, fail-nth %u: %s but %d engines",
				       sw.what, sw.n, strerror(-ret), b.engines);
			EXPECT_EQ(next_id, b.eng.id)
				TH_LOG("%s, fail-nth %u: engine ids were used up by failed calls",
				       sw.what, sw.n);
			next_id = b.eng.id + 1;
			EXPECT_EQ(a.fds, b.fds);
			/* Job 1 runs with the configuration or without it. */
			st = 1;
			EXPECT_EQ(0, probe_job(e, buf, &st));
			EXPECT_EQ(ret ? 0 : -EPERM, st)
				TH_LOG("%s, fail-nth %u (%s): job 1 status %d",
				       sw.what, sw.n, strerror(-ret), st);
		} else {
			expect_fault_errno(_metadata, &sw, ret);
		}
		EXPECT_EQ(0, close(e));
		snap_take(_metadata, self->dev, &b);
		EXPECT_EQ(0, b.engines) TH_LOG("the engine outlived its file");
		if (sweep_done(&sw))
			break;
	}
	sweep_report(&sw);
	EXPECT_EQ(0, close(buf));
}

/*
 * IMPORT of @fd (@size bytes, contents @model) on self->dev, whose engine
 * already holds import 1: every failed import leaves the engine and the
 * dma-buf as they were, and the one that succeeds gets handle 2.
 */
static void sweep_import(struct __test_metadata *_metadata,
			 FIXTURE_DATA(failnth) *self, const char *what,
			 int fd, size_t size, const uint8_t *model)
{
	const struct eng_dbg_import *di;
	struct sgbuf_import imp;
	struct brow ra, rb;
	struct snap a, b;
	struct sweep sw;
	int ret, inj;
	__u64 sum = 0;

	sweep_begin(&sw, what);
	for (;;) {
		sweep_step(_metadata, &sw);
		snap_take(_metadata, self->dev, &a);
		ASSERT_EQ(0, bufinfo_row(fd, &ra));
		memset(&imp, 0, sizeof(imp));
		imp.fd = fd;
		FN_CALL(self, &sw, ret, inj,
			ioctl(self->dev, SGBUF_IOCTL_IMPORT, &imp) ? -errno : 0);
		snap_take(_metadata, self->dev, &b);
		ASSERT_EQ(0, bufinfo_row(fd, &rb));
		if (ret) {
			expect_fault_errno(_metadata, &sw, ret);
			snap_expect_same(_metadata, &sw, &a, &b);
			brow_expect_same(_metadata, &sw, &ra, &rb);
			continue;
		}
		EXPECT_EQ(2U, imp.handle)
			TH_LOG("%s, fail-nth %u: handle %u: failed imports used up handles",
			       sw.what, sw.n, imp.handle);
		EXPECT_EQ((__u64)size, imp.size);
		EXPECT_EQ(a.fds, b.fds);
		EXPECT_EQ(ra.count + 1, rb.count);
		EXPECT_EQ(ra.attached + 1, rb.attached);
		EXPECT_EQ(a.eng.nimports + 1, b.eng.nimports);
		di = eng_dbg_find_import(&b.eng, imp.handle);
		EXPECT_NE(NULL, di);
		if (di)
			EXPECT_EQ((unsigned long long)size, di->size);
		/* The engine reads it through the new import. */
		ret = engine_sum64(self->dev, imp.handle, size, &sum);
		EXPECT_EQ(0, ret) TH_LOG("CHECKSUM64: %d", ret);
		EXPECT_EQ(sgbuf_checksum64(model, size), sum);
		if (sweep_done(&sw))
			break;
		/*
		 * Undo it and go on. A job drops its references to its imports
		 * after its fence signals; the engine frees it before it runs
		 * the next one. So after a job on import 1 the import is ours
		 * alone again, and UNIMPORT detaches it at once.
		 */
		ret = engine_sum64(self->dev, 1, SZ_4K, &sum);
		ASSERT_EQ(0, ret) TH_LOG("CHECKSUM64 of import 1: %d", ret);
		ASSERT_EQ(0, eng_unimport(self->dev, imp.handle));
		ASSERT_EQ(0, bufinfo_row(fd, &rb));
		EXPECT_EQ(ra.attached, rb.attached);
	}
	sweep_report(&sw);
}

TEST_F_TIMEOUT(failnth, import_sgbuf, 300)
{
	uint8_t *model;
	__u32 h1 = 0;
	int one, fd;

	one = sgbuf_alloc_rw(self->dev, SZ_4K);
	ASSERT_LE(0, one);
	ASSERT_EQ(0, eng_import(self->dev, one, 0, &h1, NULL));
	ASSERT_EQ(1U, h1);
	fd = buf_new(self->dev, FN_SIZE, 21, "failnth import", &model);
	ASSERT_LE(0, fd) TH_LOG("%s", strerror(-fd));
	sweep_import(_metadata, self, "IMPORT sgbuf 68 KiB", fd, FN_SIZE,
		     model);
	free(model);
}

TEST_F_TIMEOUT(failnth, import_vgem, 300)
{
	uint8_t *model;
	int drm, one, fd;
	__u32 h1 = 0;

	drm = open_vgem();
	if (drm < 0)
		SKIP(return, "no vgem DRM node (vgem module not loaded)");
	one = sgbuf_alloc_rw(self->dev, SZ_4K);
	ASSERT_LE(0, one);
	ASSERT_EQ(0, eng_import(self->dev, one, 0, &h1, NULL));
	ASSERT_EQ(1U, h1);
	fd = vgem_dmabuf(drm, SZ_64K);
	ASSERT_LE(0, fd) TH_LOG("vgem buffer: %s", strerror(-fd));
	model = malloc(SZ_64K);
	ASSERT_NE(NULL, model);
	pattern_fill(model, SZ_64K, 22);
	ASSERT_EQ(0, buf_write(fd, model, SZ_64K));
	sweep_import(_metadata, self, "IMPORT vgem 64 KiB", fd, SZ_64K, model);
	free(model);
}

/* UNIMPORT: a failed one leaves the import attached and usable. */
TEST_F_TIMEOUT(failnth, unimport, 120)
{
	struct sgbuf_unimport u;
	struct brow ra, rb;
	struct snap a, b;
	struct sweep sw;
	uint8_t *model;
	int ret, inj, fd;
	__u32 h = 0;

	ASSERT_EQ(0, eng_config_simple(self->dev, 64, 0, 0));
	fd = buf_new(self->dev, FN_SIZE, 23, NULL, &model);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, eng_import(self->dev, fd, 0, &h, NULL));
	sweep_begin(&sw, "UNIMPORT");
	for (;;) {
		sweep_step(_metadata, &sw);
		snap_take(_metadata, self->dev, &a);
		ASSERT_EQ(0, bufinfo_row(fd, &ra));
		memset(&u, 0, sizeof(u));
		u.handle = h;
		FN_CALL(self, &sw, ret, inj,
			ioctl(self->dev, SGBUF_IOCTL_UNIMPORT, &u) ? -errno : 0);
		snap_take(_metadata, self->dev, &b);
		ASSERT_EQ(0, bufinfo_row(fd, &rb));
		if (ret) {
			expect_fault_errno(_metadata, &sw, ret);
			snap_expect_same(_metadata, &sw, &a, &b);
			brow_expect_same(_metadata, &sw, &ra, &rb);
			EXPECT_NE(NULL, eng_dbg_find_import(&b.eng, h));
			continue;
		}
		/*
		 * No job ever held it (a job drops its references only after
		 * its fence signals), so it is detached before UNIMPORT
		 * returns.
		 */
		EXPECT_EQ(a.eng.nimports - 1, b.eng.nimports);
		EXPECT_EQ(NULL, eng_dbg_find_import(&b.eng, h));
		EXPECT_EQ(ra.count - 1, rb.count);
		EXPECT_EQ(ra.attached - 1, rb.attached);
		EXPECT_EQ(-ENOENT, eng_unimport(self->dev, h));
		if (sweep_done(&sw))
			break;
		ASSERT_EQ(0, eng_import(self->dev, fd, 0, &h, NULL));
	}
	sweep_report(&sw);
	free(model);
}

/* GET_INFO only reports; a failed one changes nothing. */
TEST_F_TIMEOUT(failnth, get_info, 120)
{
	struct sgbuf_info info;
	struct snap a, b;
	struct sweep sw;
	int ret, inj;

	sweep_begin(&sw, "GET_INFO");
	for (;;) {
		sweep_step(_metadata, &sw);
		snap_take(_metadata, self->dev, &a);
		memset(&info, 0, sizeof(info));
		FN_CALL(self, &sw, ret, inj,
			ioctl(self->dev, SGBUF_IOCTL_GET_INFO, &info) ?
			-errno : 0);
		snap_take(_metadata, self->dev, &b);
		if (ret) {
			expect_fault_errno(_metadata, &sw, ret);
			snap_expect_same(_metadata, &sw, &a, &b);
			continue;
		}
		EXPECT_EQ(self->info_base.abi_version, info.abi_version);
		EXPECT_EQ(self->info_base.caps, info.caps);
		EXPECT_EQ(a.live, info.live_buffers);
		EXPECT_EQ(a.total, info.total_size);
		if (sweep_done(&sw))
			break;
	}
	sweep_report(&sw);
}

TEST_F_TIMEOUT(failnth, sw_fence_create, 120)
{
	struct sgbuf_sw_fence f;
	struct snap a, b;
	struct sweep sw;
	int ret, inj, one;
	__u32 id1 = 0;

	ASSERT_EQ(0, eng_config_simple(self->dev, 64, 0, 0));
	one = sw_fence_create(self->dev, &id1);
	ASSERT_LE(0, one);
	ASSERT_EQ(1U, id1);
	sweep_begin(&sw, "SW_FENCE_CREATE");
	for (;;) {
		sweep_step(_metadata, &sw);
		snap_take(_metadata, self->dev, &a);
		memset(&f, 0, sizeof(f));
		FN_CALL(self, &sw, ret, inj,
			ioctl(self->dev, SGBUF_IOCTL_SW_FENCE_CREATE, &f) ?
			-errno : 0);
		snap_take(_metadata, self->dev, &b);
		if (ret) {
			expect_fault_errno(_metadata, &sw, ret);
			snap_expect_same(_metadata, &sw, &a, &b);
			/* Nothing was published under the next id. */
			ret = sw_fence_signal(self->dev, 2, 0);
			EXPECT_EQ(-ENOENT, ret)
				TH_LOG("%s, fail-nth %u: fence id 2 exists after a failed create (%s)",
				       sw.what, sw.n, strerror(-ret));
			continue;
		}
		EXPECT_EQ(2U, f.id) TH_LOG("%s, fail-nth %u: id %u",
					   sw.what, sw.n, f.id);
		EXPECT_EQ(a.fds + 1, b.fds);
		EXPECT_EQ(0, fence_status(f.fence_fd));
		EXPECT_EQ(0, sw_fence_signal(self->dev, f.id, -EPERM));
		EXPECT_EQ(-EPERM, fence_status(f.fence_fd));
		EXPECT_EQ(0, close(f.fence_fd));
		if (sweep_done(&sw))
			break;
	}
	sweep_report(&sw);
	EXPECT_EQ(0, sw_fence_signal(self->dev, id1, 0));
	EXPECT_EQ(1, fence_status(one));
	EXPECT_EQ(0, close(one));
}

TEST_F_TIMEOUT(failnth, sw_fence_signal, 120)
{
	struct sgbuf_sw_signal sig;
	struct snap a, b;
	struct sweep sw;
	int ret, inj, fd;
	__u32 id = 0;

	ASSERT_EQ(0, eng_config_simple(self->dev, 64, 0, 0));
	fd = sw_fence_create(self->dev, &id);
	ASSERT_LE(0, fd);
	sweep_begin(&sw, "SW_FENCE_SIGNAL");
	for (;;) {
		sweep_step(_metadata, &sw);
		snap_take(_metadata, self->dev, &a);
		memset(&sig, 0, sizeof(sig));
		sig.id = id;
		sig.error = -EPERM;
		FN_CALL(self, &sw, ret, inj,
			ioctl(self->dev, SGBUF_IOCTL_SW_FENCE_SIGNAL, &sig) ?
			-errno : 0);
		snap_take(_metadata, self->dev, &b);
		if (ret) {
			expect_fault_errno(_metadata, &sw, ret);
			snap_expect_same(_metadata, &sw, &a, &b);
			EXPECT_EQ(0, fence_status(fd))
				TH_LOG("%s, fail-nth %u: signalled by a failed call",
				       sw.what, sw.n);
			continue;
		}
		EXPECT_EQ(-EPERM, fence_status(fd));
		EXPECT_EQ(-ENOENT, sw_fence_signal(self->dev, id, 0));
		EXPECT_EQ(0, close(fd));
		if (sweep_done(&sw))
			break;
		/* The fence is gone: sweep on with a new one. */
		fd = sw_fence_create(self->dev, &id);
		ASSERT_LE(0, fd);
	}
	sweep_report(&sw);
}

TEST_F_TIMEOUT(failnth, engine_config, 120)
{
	struct sgbuf_engine_config cfg;
	struct sgbuf_submit s;
	struct sgbuf_wait w;
	struct snap a, b;
	struct sweep sw;
	int ret, inj, buf;
	__u64 seq = 1;
	__u32 h = 0;

	ASSERT_EQ(0, eng_config_simple(self->dev, 64, 0, 0));
	buf = sgbuf_alloc_rw(self->dev, SZ_4K);
	ASSERT_LE(0, buf);
	ASSERT_EQ(0, eng_import(self->dev, buf, 0, &h, NULL));
	sweep_begin(&sw, "ENGINE_CONFIG");
	for (;;) {
		sweep_step(_metadata, &sw);
		snap_take(_metadata, self->dev, &a);
		/* Fail the next job, if this configuration is applied. */
		memset(&cfg, 0, sizeof(cfg));
		cfg.queue_depth = 64;
		cfg.fail_seqno = seq;
		cfg.fail_error = -EPERM;
		FN_CALL(self, &sw, ret, inj,
			ioctl(self->dev, SGBUF_IOCTL_ENGINE_CONFIG, &cfg) ?
			-errno : 0);
		snap_take(_metadata, self->dev, &b);
		if (ret) {
			expect_fault_errno(_metadata, &sw, ret);
			snap_expect_same(_metadata, &sw, &a, &b);
		}
		job_fill(&s, h, 0, SZ_4K, sw.n);
		ASSERT_EQ(0, eng_submit(self->dev, &s));
		EXPECT_EQ(seq, s.seqno);
		ASSERT_EQ(0, wait_full(self->dev, s.seqno, WAIT_LONG_NS, &w));
		EXPECT_EQ(ret ? 0 : -EPERM, w.status)
			TH_LOG("%s, fail-nth %u (%s): the next job's status is %d",
			       sw.what, sw.n, strerror(-ret), w.status);
		seq++;
		if (sweep_done(&sw))
			break;
	}
	sweep_report(&sw);
	EXPECT_EQ(0, close(buf));
}

TEST_F_TIMEOUT(failnth, wait, 120)
{
	struct sgbuf_submit s;
	struct sgbuf_wait w;
	struct snap a, b;
	struct sweep sw;
	uint8_t *model;
	int ret, inj, fd;
	__u64 want;
	__u32 h = 0;

	ASSERT_EQ(0, eng_config_simple(self->dev, 64, 0, 0));
	fd = buf_new(self->dev, FN_SIZE, 31, NULL, &model);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, eng_import(self->dev, fd, 0, &h, NULL));
	want = sgbuf_checksum64(model + 5, 61000);
	job_checksum64(&s, h, 5, 61000);
	ASSERT_EQ(0, eng_submit(self->dev, &s));
	ASSERT_EQ(1ULL, (unsigned long long)s.seqno);
	sweep_begin(&sw, "WAIT");
	for (;;) {
		sweep_step(_metadata, &sw);
		snap_take(_metadata, self->dev, &a);
		memset(&w, 0, sizeof(w));
		w.seqno = 1;
		w.timeout_ns = WAIT_LONG_NS;
		FN_CALL(self, &sw, ret, inj,
			ioctl(self->dev, SGBUF_IOCTL_WAIT, &w) ? -errno : 0);
		snap_take(_metadata, self->dev, &b);
		if (ret) {
			expect_fault_errno(_metadata, &sw, ret);
			snap_expect_same(_metadata, &sw, &a, &b);
			/* The result is still there. */
			ASSERT_EQ(0, wait_full(self->dev, 1, WAIT_LONG_NS, &w));
		}
		EXPECT_EQ(0, w.status);
		EXPECT_EQ(want, w.checksum64);
		EXPECT_EQ((__u32)want, w.checksum);
		if (sweep_done(&sw))
			break;
	}
	sweep_report(&sw);
	free(model);
}

/* ----------------------------------------------------------------- SUBMIT */

FIXTURE(submit) {
	FN_FIELDS;
};

FIXTURE_VARIANT(submit) {
	const char *what;
	__u32 op;
	bool in_fence;
	bool out_fence;
};

FIXTURE_VARIANT_ADD(submit, fill) {
	.what = "SUBMIT FILL",
	.op = SGBUF_JOB_FILL,
};

FIXTURE_VARIANT_ADD(submit, fill_out_fence) {
	.what = "SUBMIT FILL + out-fence",
	.op = SGBUF_JOB_FILL,
	.out_fence = true,
};

FIXTURE_VARIANT_ADD(submit, copy_in_fence) {
	.what = "SUBMIT COPY + in-fence",
	.op = SGBUF_JOB_COPY,
	.in_fence = true,
};

FIXTURE_VARIANT_ADD(submit, checksum_in_out_fence) {
	.what = "SUBMIT CHECKSUM + in-fence + out-fence",
	.op = SGBUF_JOB_CHECKSUM,
	.in_fence = true,
	.out_fence = true,
};

FIXTURE_VARIANT_ADD(submit, checksum64) {
	.what = "SUBMIT CHECKSUM64",
	.op = SGBUF_JOB_CHECKSUM64,
};

FIXTURE_SETUP(submit)
{
	FN_SETUP(self);
}

FIXTURE_TEARDOWN(submit)
{
	FN_TEARDOWN(self);
}

/* The sweep's job at step @n; FILL's pattern changes with @n. */
static void submit_req(const FIXTURE_VARIANT(submit) *v,
		       struct sgbuf_submit *s, __u32 ha, __u32 hb,
		       unsigned int n, int in_fd)
{
	switch (v->op) {
	case SGBUF_JOB_FILL:
		job_fill(s, hb, 4092, SZ_64K, 0x5a000000U + n);
		break;
	case SGBUF_JOB_COPY:
		job_copy(s, ha, 8, hb, 4100, 60000);
		break;
	case SGBUF_JOB_CHECKSUM:
		job_checksum(s, ha, 3, 65000);
		break;
	default:
		job_checksum64(s, ha, 5, 61000);
		break;
	}
	if (v->in_fence)
		job_in_fence(s, in_fd);
	if (v->out_fence)
		s->flags |= SGBUF_SUBMIT_OUT_FENCE;
}

/*
 * The sweep's job @s was submitted as @seqno: with an in-fence it must not
 * have run yet. Release it, wait, and check its result against the models
 * (B's takes what it wrote).
 */
static void submit_check_job(struct __test_metadata *_metadata,
			     const struct sweep *sw,
			     const FIXTURE_VARIANT(submit) *v, int eng,
			     const struct sgbuf_submit *s, __u64 seqno,
			     __u32 sw_id, const uint8_t *ma, uint8_t *mb,
			     int out_fd)
{
	struct sgbuf_wait w;
	__u64 sum;
	int ret;

	if (v->in_fence) {
		ret = wait_full(eng, seqno, 0, &w);
		EXPECT_EQ(-ETIME, ret)
			TH_LOG("%s, fail-nth %u: job %llu did not wait for its in-fence (%s)",
			       sw->what, sw->n, (unsigned long long)seqno,
			       strerror(-ret));
		ASSERT_EQ(0, sw_fence_signal(eng, sw_id, 0));
	}
	ret = wait_full(eng, seqno, WAIT_LONG_NS, &w);
	ASSERT_EQ(0, ret) TH_LOG("%s, fail-nth %u: WAIT %llu: %s", sw->what,
				 sw->n, (unsigned long long)seqno,
				 strerror(-ret));
	EXPECT_EQ(0, w.status) TH_LOG("%s, fail-nth %u: job status %d",
				      sw->what, sw->n, w.status);
	switch (v->op) {
	case SGBUF_JOB_FILL:
		model_fill(mb, s->dst_offset, s->length, s->pattern);
		break;
	case SGBUF_JOB_COPY:
		memcpy(mb + s->dst_offset, ma + s->src_offset, s->length);
		break;
	case SGBUF_JOB_CHECKSUM:
		EXPECT_EQ(crc32_buf(ma + s->src_offset, s->length), w.checksum);
		EXPECT_EQ(0ULL, (unsigned long long)w.checksum64);
		break;
	default:
		sum = sgbuf_checksum64(ma + s->src_offset, s->length);
		EXPECT_EQ(sum, w.checksum64);
		EXPECT_EQ((__u32)sum, w.checksum);
		break;
	}
	if (out_fd >= 0)
		EXPECT_EQ(1, fence_status(out_fd));
}

TEST_F_TIMEOUT(submit, sweep, 300)
{
	struct brow ra0, rb0, ra, rb;
	struct sgbuf_submit req;
	struct sgbuf_wait w;
	struct snap a, b;
	struct sweep sw;
	uint8_t *ma, *mb;
	int fa, fb, ret, inj;
	__u32 ha = 0, hb = 0, sw_id = 0;
	__u64 seq = 1;
	struct eng_dbg d;

	ASSERT_EQ(0, eng_config_simple(self->dev, 64, 0, 0));
	fa = buf_new(self->dev, FN_SIZE, 11, "failnth src", &ma);
	ASSERT_LE(0, fa);
	fb = buf_new(self->dev, FN_SIZE, 12, "failnth dst", &mb);
	ASSERT_LE(0, fb);
	ASSERT_EQ(0, eng_import(self->dev, fa, 0, &ha, NULL));
	ASSERT_EQ(0, eng_import(self->dev, fb, 0, &hb, NULL));

	sweep_begin(&sw, variant->what);
	for (;;) {
		int in_fd = -1, out_fd = -1;

		sweep_step(_metadata, &sw);
		if (variant->in_fence) {
			in_fd = sw_fence_create(self->dev, &sw_id);
			ASSERT_LE(0, in_fd);
		}
		snap_take(_metadata, self->dev, &a);
		ASSERT_EQ(0, bufinfo_row(fa, &ra0));
		ASSERT_EQ(0, bufinfo_row(fb, &rb0));
		submit_req(variant, &req, ha, hb, sw.n, in_fd);
		FN_CALL(self, &sw, ret, inj, eng_submit(self->dev, &req));
		snap_take(_metadata, self->dev, &b);
		ASSERT_EQ(1, b.engines);

		if (!ret) {
			EXPECT_EQ(seq, req.seqno);
			EXPECT_EQ(a.eng.submitted + 1, b.eng.submitted);
			if (variant->out_fence) {
				out_fd = req.out_fence_fd;
				EXPECT_LE(0, out_fd);
				EXPECT_EQ(a.fds + 1, b.fds);
			} else {
				EXPECT_EQ(a.fds, b.fds);
			}
			submit_check_job(_metadata, &sw, variant, self->dev,
					 &req, seq, sw_id, ma, mb, out_fd);
			seq++;
			if (out_fd >= 0)
				EXPECT_EQ(0, close(out_fd));
		} else if (b.eng.submitted != a.eng.submitted) {
			/*
			 * Submitted, then the reply did not reach userspace:
			 * the job runs, only its out-fence fd is lost
			 * (docs/uapi.md).
			 */
			sw.after++;
			EXPECT_EQ(-EFAULT, ret)
				TH_LOG("%s, fail-nth %u: submitted but failed with %s",
				       sw.what, sw.n, strerror(-ret));
			EXPECT_EQ(a.eng.submitted + 1, b.eng.submitted);
			EXPECT_EQ(a.fds, b.fds)
				TH_LOG("%s, fail-nth %u: the lost out-fence fd stayed open",
				       sw.what, sw.n);
			submit_check_job(_metadata, &sw, variant, self->dev,
					 &req, seq, sw_id, ma, mb, -1);
			seq++;
		} else {
			expect_fault_errno(_metadata, &sw, ret);
			snap_expect_same(_metadata, &sw, &a, &b);
			ASSERT_EQ(0, bufinfo_row(fa, &ra));
			ASSERT_EQ(0, bufinfo_row(fb, &rb));
			brow_expect_same(_metadata, &sw, &ra0, &ra);
			brow_expect_same(_metadata, &sw, &rb0, &rb);
			/* Its seqno was not handed out. */
			ret = wait_full(self->dev, seq, 0, &w);
			EXPECT_EQ(-EINVAL, ret)
				TH_LOG("%s, fail-nth %u: WAIT %llu: %s", sw.what,
				       sw.n, (unsigned long long)seq,
				       strerror(-ret));
			/* The in-fence was left alone. */
			if (variant->in_fence)
				EXPECT_EQ(0, sw_fence_signal(self->dev, sw_id, 0));
			/* The engine still works, and numbers on. */
			job_fill(&req, hb, 0, SZ_4K, 0xa5a50000U + sw.n);
			ASSERT_EQ(0, eng_submit(self->dev, &req));
			EXPECT_EQ(seq, req.seqno);
			ASSERT_EQ(0, wait_full(self->dev, req.seqno,
					       WAIT_LONG_NS, &w));
			EXPECT_EQ(0, w.status);
			model_fill(mb, 0, SZ_4K, req.pattern);
			seq++;
		}
		if (in_fd >= 0)
			EXPECT_EQ(0, close(in_fd));
		EXPECT_CONTENTS(&sw, fb, mb, FN_SIZE);
		if (sweep_done(&sw))
			break;
	}
	sweep_report(&sw);

	EXPECT_CONTENTS(&sw, fa, ma, FN_SIZE);
	ASSERT_EQ(0, engine_self(&d));
	EXPECT_EQ(seq - 1, d.submitted);
	EXPECT_EQ(seq - 1, d.completed);
	EXPECT_EQ(0ULL, d.failed + d.cancelled + d.in_flight);
	free(ma);
	free(mb);
}

/* --------------------------------------------------- generic dma-buf uapi */

TEST_F_TIMEOUT(failnth, set_name, 120)
{
	char name[DMA_BUF_NAME_LEN], got[64];
	struct brow ra, rb;
	struct snap a, b;
	struct sweep sw;
	int ret, inj, fd;

	fd = sgbuf_alloc(self->dev, SZ_4K, 0, O_RDWR | O_CLOEXEC,
			 "failnth-before");
	ASSERT_LE(0, fd);
	/* On the stack, resident: not the binary's rodata. */
	memset(name, 0, sizeof(name));
	snprintf(name, sizeof(name), "failnth-after");
	sweep_begin(&sw, "DMA_BUF_SET_NAME");
	for (;;) {
		sweep_step(_metadata, &sw);
		snap_take(_metadata, self->dev, &a);
		ASSERT_EQ(0, bufinfo_row(fd, &ra));
		FN_CALL(self, &sw, ret, inj,
			ioctl(fd, DMA_BUF_SET_NAME_B, name) ? -errno : 0);
		snap_take(_metadata, self->dev, &b);
		ASSERT_EQ(0, bufinfo_row(fd, &rb));
		ASSERT_EQ(0, fdinfo_get(fd, "name", got, sizeof(got)));
		if (ret) {
			expect_fault_errno(_metadata, &sw, ret);
			snap_expect_same(_metadata, &sw, &a, &b);
			brow_expect_same(_metadata, &sw, &ra, &rb);
			EXPECT_STREQ("failnth-before", got);
			continue;
		}
		EXPECT_STREQ("failnth-after", got);
		EXPECT_STREQ("failnth-after", rb.name);
		if (sweep_done(&sw))
			break;
		ASSERT_EQ(0, dmabuf_set_name(fd, "failnth-before"));
	}
	sweep_report(&sw);
	EXPECT_EQ(0, close(fd));
}

/*
 * DMA_BUF_IOCTL_SYNC on a buffer the engine has mapped: START after the
 * engine wrote it, END after the CPU did; each sweep ends with the data
 * handed over.
 */
TEST_F_TIMEOUT(failnth, dmabuf_sync, 120)
{
	static const struct {
		const char *what;
		unsigned long long flags;
	} steps[] = {
		{ "DMA_BUF_IOCTL_SYNC START|RW",
		  DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW },
		{ "DMA_BUF_IOCTL_SYNC END|RW",
		  DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW },
	};
	struct dma_buf_sync sync;
	struct sgbuf_submit s;
	struct sgbuf_wait w;
	struct brow ra, rb;
	struct snap a, b;
	struct sweep sw;
	int ret, inj, fd;
	unsigned int i;
	uint8_t *model, *p;
	__u64 sum = 0;
	__u32 h = 0;

	ASSERT_EQ(0, eng_config_simple(self->dev, 64, 0, 0));
	fd = buf_new(self->dev, FN_SIZE, 41, NULL, &model);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, eng_import(self->dev, fd, 0, &h, NULL));
	p = mmap(NULL, FN_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	/* The device writes... */
	job_fill(&s, h, 100, 30000, 0x12345678);
	ASSERT_EQ(0, eng_submit(self->dev, &s));
	ASSERT_EQ(0, wait_full(self->dev, s.seqno, WAIT_LONG_NS, &w));
	ASSERT_EQ(0, w.status);
	model_fill(model, 100, 30000, 0x12345678);

	for (i = 0; i < ARRAY_SIZE(steps); i++) {
		sweep_begin(&sw, steps[i].what);
		for (;;) {
			sweep_step(_metadata, &sw);
			snap_take(_metadata, self->dev, &a);
			ASSERT_EQ(0, bufinfo_row(fd, &ra));
			memset(&sync, 0, sizeof(sync));
			sync.flags = steps[i].flags;
			FN_CALL(self, &sw, ret, inj,
				ioctl(fd, DMA_BUF_IOCTL_SYNC, &sync) ?
				-errno : 0);
			snap_take(_metadata, self->dev, &b);
			ASSERT_EQ(0, bufinfo_row(fd, &rb));
			if (ret) {
				expect_fault_errno(_metadata, &sw, ret);
				snap_expect_same(_metadata, &sw, &a, &b);
				brow_expect_same(_metadata, &sw, &ra, &rb);
			}
			if (sweep_done(&sw))
				break;
		}
		sweep_report(&sw);
		if (i == 0) {
			/* ...the CPU sees it, and writes in turn... */
			EXPECT_EQ(-1, first_diff(p, model, FN_SIZE));
			pattern_fill(model + 8192, 8192, 42);
			memcpy(p + 8192, model + 8192, 8192);
		}
	}
	/* ...and the device sees that. */
	ASSERT_EQ(0, engine_sum64(self->dev, h, FN_SIZE, &sum));
	EXPECT_EQ(sgbuf_checksum64(model, FN_SIZE), sum);
	munmap(p, FN_SIZE);
	free(model);
}

/* SGBUF_IOCTL_SYNC_RANGE, on a file that has no engine and gets none. */
TEST_F_TIMEOUT(failnth, sync_range, 120)
{
	static const unsigned long long flags[] = {
		SGBUF_SYNC_START | SGBUF_SYNC_RW,
		SGBUF_SYNC_END | SGBUF_SYNC_RW,
	};
	struct sgbuf_sync_range r;
	struct brow ra, rb;
	struct snap a, b;
	struct sweep sw;
	int ret, inj, fd;
	unsigned int i;
	uint8_t *model;

	fd = buf_new(self->dev, FN_SIZE, 51, NULL, &model);
	ASSERT_LE(0, fd);
	for (i = 0; i < ARRAY_SIZE(flags); i++) {
		sweep_begin(&sw, i ? "SYNC_RANGE END|RW" : "SYNC_RANGE START|RW");
		for (;;) {
			sweep_step(_metadata, &sw);
			snap_take(_metadata, self->dev, &a);
			ASSERT_EQ(0, bufinfo_row(fd, &ra));
			memset(&r, 0, sizeof(r));
			r.fd = fd;
			r.flags = flags[i];
			r.offset = 4000;
			r.length = 50000;
			FN_CALL(self, &sw, ret, inj,
				ioctl(self->dev, SGBUF_IOCTL_SYNC_RANGE, &r) ?
				-errno : 0);
			snap_take(_metadata, self->dev, &b);
			ASSERT_EQ(0, bufinfo_row(fd, &rb));
			EXPECT_EQ(0, b.engines) TH_LOG("SYNC_RANGE made an engine");
			if (ret) {
				expect_fault_errno(_metadata, &sw, ret);
				snap_expect_same(_metadata, &sw, &a, &b);
				brow_expect_same(_metadata, &sw, &ra, &rb);
			}
			if (sweep_done(&sw))
				break;
		}
		sweep_report(&sw);
	}
	EXPECT_CONTENTS(&sw, fd, model, FN_SIZE);
	free(model);
}

static int import_sync_file(int fd, int sync_fd, unsigned int flags)
{
	struct dma_buf_import_sync_file i = { .flags = flags, .fd = sync_fd };

	return ioctl(fd, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, &i) ? -errno : 0;
}

/* SYNC_IOC_FILE_INFO: status and number of fences. */
static int sync_file_fences(int fd, int *status, unsigned int *num)
{
	struct sync_file_info info;

	memset(&info, 0, sizeof(info));
	if (ioctl(fd, SYNC_IOC_FILE_INFO, &info))
		return -errno;
	*status = info.status;
	*num = info.num_fences;
	return 0;
}

/*
 * EXPORT_SYNC_FILE of a buffer holding two unsignalled write fences from
 * two contexts: the sync_file gets a fence array of both.
 */
TEST_F_TIMEOUT(failnth, export_sync_file, 120)
{
	struct dma_buf_export_sync_file e;
	struct snap a, b;
	struct sweep sw;
	int ret, inj, fd, f1, f2, st = 1;
	unsigned int num = 0;
	__u32 id1 = 0, id2 = 0;

	fn_long_timeout(_metadata, &self->env);
	ASSERT_EQ(0, eng_config_simple(self->dev, 64, 0, 0));
	fd = sgbuf_alloc_rw(self->dev, FN_SIZE);
	ASSERT_LE(0, fd);
	f1 = sw_fence_create(self->dev, &id1);
	ASSERT_LE(0, f1);
	f2 = sw_fence_create(self->dev, &id2);
	ASSERT_LE(0, f2);
	ret = import_sync_file(fd, f1, DMA_BUF_SYNC_WRITE);
	if (ret == -ENOTTY)
		SKIP(return, "no DMA_BUF_IOCTL_IMPORT_SYNC_FILE (ENOTTY): the kernel predates 6.0");
	ASSERT_EQ(0, ret);
	ASSERT_EQ(0, import_sync_file(fd, f2, DMA_BUF_SYNC_WRITE));

	sweep_begin(&sw, "DMA_BUF_IOCTL_EXPORT_SYNC_FILE (2 fences)");
	for (;;) {
		sweep_step(_metadata, &sw);
		snap_take(_metadata, self->dev, &a);
		memset(&e, 0, sizeof(e));
		e.flags = DMA_BUF_SYNC_RW;
		e.fd = -1;
		FN_CALL(self, &sw, ret, inj,
			ioctl(fd, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &e) ?
			-errno : 0);
		snap_take(_metadata, self->dev, &b);
		if (ret) {
			expect_fault_errno(_metadata, &sw, ret);
			snap_expect_same(_metadata, &sw, &a, &b);
			continue;
		}
		EXPECT_EQ(a.fds + 1, b.fds);
		ASSERT_EQ(0, sync_file_fences(e.fd, &st, &num));
		EXPECT_EQ(0, st);
		EXPECT_EQ(2U, num);
		if (sweep_done(&sw))
			break;
		EXPECT_EQ(0, close(e.fd));
	}
	sweep_report(&sw);
	EXPECT_EQ(0, sw_fence_signal(self->dev, id1, 0));
	EXPECT_EQ(0, fence_status(e.fd)) TH_LOG("signalled with one of two");
	EXPECT_EQ(0, sw_fence_signal(self->dev, id2, 0));
	EXPECT_EQ(1, fence_status(e.fd));
	EXPECT_EQ(0, close(e.fd));
}

/*
 * IMPORT_SYNC_FILE of an unsignalled software fence as a write fence: a
 * failed call adds nothing (the buffer stays readable), the successful one
 * holds CPU readers until the fence signals.
 */
TEST_F_TIMEOUT(failnth, import_sync_file, 120)
{
	struct dma_buf_import_sync_file i;
	struct brow ra, rb;
	struct snap a, b;
	struct sweep sw;
	int ret, inj, fd, f;
	__u32 id = 0;

	ASSERT_EQ(0, eng_config_simple(self->dev, 64, 0, 0));
	fd = sgbuf_alloc_rw(self->dev, FN_SIZE);
	ASSERT_LE(0, fd);
	sweep_begin(&sw, "DMA_BUF_IOCTL_IMPORT_SYNC_FILE");
	for (;;) {
		sweep_step(_metadata, &sw);
		f = sw_fence_create(self->dev, &id);
		ASSERT_LE(0, f);
		snap_take(_metadata, self->dev, &a);
		ASSERT_EQ(0, bufinfo_row(fd, &ra));
		memset(&i, 0, sizeof(i));
		i.flags = DMA_BUF_SYNC_WRITE;
		i.fd = f;
		FN_CALL(self, &sw, ret, inj,
			ioctl(fd, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, &i) ?
			-errno : 0);
		if (sw.n == 1 && ret == -ENOTTY && !inj)
			SKIP(return, "no DMA_BUF_IOCTL_IMPORT_SYNC_FILE (ENOTTY): the kernel predates 6.0");
		snap_take(_metadata, self->dev, &b);
		ASSERT_EQ(0, bufinfo_row(fd, &rb));
		if (ret) {
			expect_fault_errno(_metadata, &sw, ret);
			snap_expect_same(_metadata, &sw, &a, &b);
			brow_expect_same(_metadata, &sw, &ra, &rb);
			EXPECT_EQ(POLLIN, poll_fd(fd, POLLIN, 0));
		} else {
			EXPECT_EQ(ra.pending + 1, rb.pending);
			EXPECT_EQ(0, poll_fd(fd, POLLIN, 0))
				TH_LOG("readable with the write fence pending");
		}
		EXPECT_EQ(0, sw_fence_signal(self->dev, id, 0));
		EXPECT_EQ(POLLIN, poll_fd(fd, POLLIN, 0));
		EXPECT_EQ(0, close(f));
		if (sweep_done(&sw))
			break;
	}
	sweep_report(&sw);
	EXPECT_EQ(0, close(fd));
}

/* /dev/kmsg, positioned at its end: what the kernel logs from now on. */
static int kmsg_open(void)
{
	int kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (kmsg >= 0)
		lseek(kmsg, 0, SEEK_END);
	return kmsg;
}

struct kmsg_count {
	int warnings;		/* "WARNING:" lines */
	int expected;		/* ... that name the expected function */
	int bugs;		/* "BUG:" lines (KASAN included) */
};

/*
 * Print (the first 60 of) the kernel log lines @kmsg has not read yet and
 * close it; count the warnings, those in @expected, and the bugs.
 */
static void kmsg_print(int kmsg, const char *expected, struct kmsg_count *c)
{
	char rec[2048];
	int lines = 0;
	ssize_t n;

	memset(c, 0, sizeof(*c));
	if (kmsg < 0)
		return;
	/* EPIPE: records were overwritten; the read goes on after them. */
	while ((n = read(kmsg, rec, sizeof(rec) - 1)) > 0 ||
	       (n < 0 && errno == EPIPE)) {
		char *msg;

		if (n <= 0)
			continue;
		rec[n] = '\0';
		msg = strchr(rec, ';');
		msg = msg ? msg + 1 : rec;
		msg[strcspn(msg, "\n")] = '\0';
		if (strstr(msg, "WARNING:")) {
			c->warnings++;
			c->expected += !!strstr(msg, expected);
		}
		c->bugs += !!strstr(msg, "BUG:");
		if (lines++ < 60)
			ksft_print_msg("kernel: %s\n", msg);
	}
	if (lines > 60)
		ksft_print_msg("kernel: (%d more lines)\n", lines - 60);
	close(kmsg);
}

/*
 * Allow the kernel WARNing once in @fn, in the core, while the test runs
 * (it will taint the kernel W); every other warning and every BUG fails
 * the test. Returns /dev/kmsg for expect_kernel_log().
 */
static int allow_core_warning(struct fn_env *env)
{
	env->allow_warn = true;
	return kmsg_open();
}

static void expect_kernel_log(struct __test_metadata *_metadata,
			      const char *what, int kmsg, const char *fn)
{
	unsigned long long taint = 0;
	struct kmsg_count kc;

	read_ull_file("/proc/sys/kernel/tainted", &taint);
	ksft_print_msg("%s: kernel taint now %#llx; what the kernel logged since the sweep began:\n",
		       what, taint);
	kmsg_print(kmsg, fn, &kc);
	EXPECT_EQ(kc.expected, kc.warnings)
		TH_LOG("%d warnings, %d of them %s()'s", kc.warnings,
		       kc.expected, fn);
	EXPECT_EQ(0, kc.bugs);
}

/*
 * Where the mmap sweeps map: 16 TiB, far from everything else of this
 * process, so that every mapping there needs page tables of its own at
 * every level (and munmap() frees them): a page table sgbuf's remap cannot
 * allocate is among the fault sites of every step.
 */
#define FN_MAP_ADDR		((void *)(16ULL << 40))

/*
 * mmap populates every PTE at mmap() time, in one remap per physically
 * contiguous run: the mmap call is the one that can fail. A failed mmap
 * must leave no mapping; a mapping must be complete (touching it never
 * faults: a missing PTE would be SIGBUS, there is no fault handler).
 */
static void sweep_mmap(struct __test_metadata *_metadata,
		       FIXTURE_DATA(failnth) *self, const char *what, int fd,
		       size_t size)
{
	struct brow ra, rb;
	struct snap a, b;
	struct sweep sw;
	uint8_t *model;
	int ret, inj;
	size_t off;
	void *p;

	model = malloc(size);
	ASSERT_NE(NULL, model);
	pattern_fill(model, size, 61);
	ASSERT_EQ(0, buf_write(fd, model, size));
	sweep_begin(&sw, what);
	for (;;) {
		sweep_step(_metadata, &sw);
		snap_take(_metadata, self->dev, &a);
		ASSERT_EQ(0, bufinfo_row(fd, &ra));
		p = MAP_FAILED;
		FN_CALL(self, &sw, ret, inj,
			(p = mmap(FN_MAP_ADDR, size, PROT_READ | PROT_WRITE,
				  MAP_SHARED | MAP_FIXED_NOREPLACE, fd,
				  0)) == MAP_FAILED ? -errno : 0);
		snap_take(_metadata, self->dev, &b);
		ASSERT_EQ(0, bufinfo_row(fd, &rb));
		if (ret) {
			EXPECT_EQ(-ENOMEM, ret)
				TH_LOG("%s, fail-nth %u: %s", sw.what, sw.n,
				       strerror(-ret));
			snap_expect_same(_metadata, &sw, &a, &b);
			brow_expect_same(_metadata, &sw, &ra, &rb);
			continue;
		}
		ASSERT_EQ(FN_MAP_ADDR, p);
		EXPECT_EQ(a.dmabuf_maps + 1, b.dmabuf_maps);
		EXPECT_EQ(ra.count + 1, rb.count);
		/*
		 * Touch every page: read all of it, and write a word of each
		 * page (with what it holds).
		 */
		ASSERT_EQ(0, dmabuf_sync(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW));
		EXPECT_EQ(-1, first_diff(p, model, size))
			TH_LOG("%s, fail-nth %u: wrong contents", sw.what, sw.n);
		for (off = 0; off < size; off += SZ_4K)
			((uint64_t *)p)[off / 8] =
				((const uint64_t *)model)[off / 8];
		ASSERT_EQ(0, dmabuf_sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW));
		EXPECT_EQ(0, munmap(p, size));
		if (sweep_done(&sw))
			break;
	}
	sweep_report(&sw);
	EXPECT_CONTENTS(&sw, fd, model, size);
	EXPECT_EQ(0, close(fd));
	free(model);
}

/*
 * Whether a mapping of all of dma-buf @fd (@size bytes) is tracked whole by
 * x86 PAT (VM_PAT, "ar" in smaps' VmFlags): sgbuf mapped it with a single
 * remap_pfn_range(), the buffer being one physically contiguous run.
 * Returns 1, 0, or -errno.
 */
static int mapping_is_one_run(int fd, size_t size)
{
	char line[512], start[32];
	bool in = false;
	int ret = -ENOENT;
	FILE *f;
	void *p;

	p = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	snprintf(start, sizeof(start), "%lx-", (unsigned long)p);
	f = fopen("/proc/self/smaps", "re");
	if (!f) {
		ret = -errno;
		goto unmap;
	}
	while (fgets(line, sizeof(line), f)) {
		if (!in) {
			in = !strncmp(line, start, strlen(start));
			continue;
		}
		if (!strncmp(line, "VmFlags:", 8)) {
			ret = !!strstr(line, " ar");
			break;
		}
	}
	fclose(f);
unmap:
	munmap(p, size);
	return ret;
}

/*
 * Several remaps, none covering the whole VMA: a 4 MiB + 68 KiB buffer of
 * order-8, order-4 and page chunks that are not all contiguous.
 */
TEST_F_TIMEOUT(failnth, mmap_runs, 300)
{
	int fd[4], n, i, one = 1;

	/*
	 * Allocate again, keeping the others, until one is not contiguous
	 * (the buddy allocator may well hand out adjacent order-8 blocks).
	 */
	for (n = 0; n < 4; n++) {
		fd[n] = sgbuf_alloc(self->dev, FN_BIG, 0, O_RDWR | O_CLOEXEC,
				    "failnth mmap");
		ASSERT_LE(0, fd[n]);
		one = mapping_is_one_run(fd[n], FN_BIG);
		ASSERT_LE(0, one) TH_LOG("smaps: %s", strerror(-one));
		if (!one)
			break;
	}
	ASSERT_EQ(0, one) TH_LOG("4 buffers of %llu bytes, each contiguous",
				 FN_BIG);
	for (i = 0; i < n; i++)
		EXPECT_EQ(0, close(fd[i]));
	sweep_mmap(_metadata, self, "mmap 4 MiB + 68 KiB (several runs)",
		   fd[n], FN_BIG);
}

/*
 * One remap_pfn_range() for the whole VMA, which x86 PAT then tracks
 * (VM_PAT). In Debian's 6.12.117, a remap_pfn_range() that fails after
 * that (a page table it cannot allocate) zaps what it mapped, and the zap
 * untracks the VMA: get_pat_info() finds no PFN in the page table and
 * WARNs once per boot (arch/x86/mm/pat/memtype.c). That is the core's,
 * not sgbuf's; the test allows that one warning: run it on its own.
 */
TEST_F_TIMEOUT(failnth, mmap_one_run, 300)
{
	bool contig = self->info_base.caps & SGBUF_CAP_CONTIGUOUS;
	size_t size = contig ? FN_SIZE : SZ_4K;
	int fd, kmsg, one;

	fd = sgbuf_alloc(self->dev, size,
			 contig ? SGBUF_ALLOC_CONTIGUOUS : 0,
			 O_RDWR | O_CLOEXEC, "failnth mmap");
	ASSERT_LE(0, fd);
	one = mapping_is_one_run(fd, size);
	ASSERT_EQ(1, one) TH_LOG("no VM_PAT (\"ar\") in smaps: %d", one);
	kmsg = allow_core_warning(&self->env);
	sweep_mmap(_metadata, self, "mmap of one run", fd, size);
	expect_kernel_log(_metadata, "mmap of one run", kmsg, "get_pat_info");
}

/* -------------------------------------------------- vmap through vivid */

#define VIVID_BUFS	2

/* After the other sweeps: its WARN taints the kernel. */
FIXTURE(vivid) {
	FN_FIELDS;
};

FIXTURE_SETUP(vivid)
{
	FN_SETUP(self);
}

FIXTURE_TEARDOWN(vivid)
{
	FN_TEARDOWN(self);
}

static int vivid_reqbufs(int video, unsigned int count)
{
	struct v4l2_requestbuffers rb;

	memset(&rb, 0, sizeof(rb));
	rb.count = count;
	rb.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	rb.memory = V4L2_MEMORY_DMABUF;
	if (ioctl(video, VIDIOC_REQBUFS, &rb))
		return -errno;
	return rb.count;
}

/* V4L2_BUF_FLAG_* of buffer @index, or -errno. */
static long vivid_buf_flags(int video, unsigned int index)
{
	struct v4l2_buffer b;

	memset(&b, 0, sizeof(b));
	b.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	b.memory = V4L2_MEMORY_DMABUF;
	b.index = index;
	if (ioctl(video, VIDIOC_QUERYBUF, &b))
		return -errno;
	return b.flags;
}

static void vivid_qbuf_req(struct v4l2_buffer *b, unsigned int index, int fd,
			   size_t size)
{
	memset(b, 0, sizeof(*b));
	b->type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	b->memory = V4L2_MEMORY_DMABUF;
	b->index = index;
	b->m.fd = fd;
	b->length = size;
}

/*
 * The text of function @name of module @mod, from /proc/kallsyms: its
 * address and that of the module's next text symbol. Returns 0 or -errno
 * (-EPERM: kallsyms hides addresses).
 */
static int kallsyms_func(const char *mod, const char *name,
			 unsigned long long *start, unsigned long long *end)
{
	char line[512], sym[256], m[64], type;
	unsigned long long addr;
	int pass, ret = -ENOENT;
	FILE *f;

	f = fopen("/proc/kallsyms", "re");
	if (!f)
		return -errno;
	*start = 0;
	*end = ~0ULL;
	for (pass = 0; pass < 2; pass++) {
		rewind(f);
		while (fgets(line, sizeof(line), f)) {
			if (sscanf(line, "%llx %c %255s [%63[^]]]", &addr, &type,
				   sym, m) != 4 || strcmp(m, mod) ||
			    (type != 't' && type != 'T'))
				continue;
			if (!pass && !strcmp(sym, name)) {
				*start = addr;
				ret = addr ? 0 : -EPERM;
				break;
			}
			if (pass && addr > *start && addr < *end)
				*end = addr;
		}
		if (ret)
			break;
	}
	fclose(f);
	if (!ret && *end == ~0ULL)
		*end = *start + 0x800;	/* the module's last function */
	return ret;
}

/*
 * From now on, count and fail only the fault sites whose call stack goes
 * through [@start, @end) (CONFIG_FAULT_INJECTION_STACKTRACE_FILTER).
 */
static void fn_restrict(struct __test_metadata *_metadata, struct fn_env *env,
			unsigned long long start, unsigned long long end)
{
	static const char *const knobs[] = {
		"require-start", "require-end", "stacktrace-depth",
	};
	char knob[64], val[3][32];
	unsigned int a, k;
	int ret;

	snprintf(val[0], sizeof(val[0]), "%#llx", start);
	snprintf(val[1], sizeof(val[1]), "%#llx", end);
	snprintf(val[2], sizeof(val[2]), "64");	/* the most it keeps */
	for (a = 0; a < ARRAY_SIZE(fn_attrs); a++) {
		for (k = 0; k < ARRAY_SIZE(knobs); k++) {
			snprintf(knob, sizeof(knob), "%s/%s", fn_attrs[a],
				 knobs[k]);
			ret = fn_knob_set(env, knob, val[k]);
			/* fail_usercopy needs FAULT_INJECTION_USERCOPY. */
			if (ret == -ENOENT && a == 2)
				break;
			ASSERT_EQ(0, ret)
				TH_LOG("%s/%s: %s (CONFIG_FAULT_INJECTION_STACKTRACE_FILTER?)",
				       DEBUGFS, knob, strerror(-ret));
		}
	}
}

/*
 * vivid's capture queue uses vb2-vmalloc, which vmaps an imported dma-buf
 * when the buffer is queued: VIDIOC_QBUF, __prepare_dmabuf(), first
 * attach_dmabuf (vb2-vmalloc's own bookkeeping only), then map_dmabuf,
 * which is dma_buf_vmap_unlocked() and so sgbuf_vmap(). A failed QBUF must
 * leave the dma-buf as it was (no reference kept by the importer) and the
 * buffer not queued; the buffer queued at last must get a frame written
 * through the vmap.
 *
 * An injected failure inside sgbuf_vmap() makes the 6.12 core WARN once per
 * boot (dma_buf_vmap(): WARN_ON_ONCE(ret)), which taints the kernel W;
 * vb2-vmalloc turns the error into EFAULT. Everything else the kernel
 * logs meanwhile is printed, and must contain no other WARNING and no BUG.
 *
 * @only_vmap: fail only sites reached through sgbuf_vmap().
 */
static void sweep_vivid(struct __test_metadata *_metadata,
			FIXTURE_DATA(vivid) *self, const char *what,
			bool only_vmap)
{
	const unsigned char sentinel = 0x5a;
	unsigned long long start = 0, end = 0;
	int type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	int video, ret, inj, fd[VIVID_BUFS], kmsg;
	struct brow ra, rb, r0;
	struct v4l2_format fmt;
	struct v4l2_buffer vb;
	size_t bufsize, k, changed;
	struct snap a, b;
	struct sweep sw;
	unsigned int i;
	long flags;
	uint8_t *p;

	video = open_vivid_capture();
	if (video < 0)
		SKIP(return, "no vivid video capture node (vivid module not loaded)");
	memset(&fmt, 0, sizeof(fmt));
	fmt.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	ASSERT_EQ(0, ioctl(video, VIDIOC_G_FMT, &fmt));
	fmt.fmt.pix.width = 320;
	fmt.fmt.pix.height = 240;
	fmt.fmt.pix.pixelformat = V4L2_PIX_FMT_YUYV;
	fmt.fmt.pix.field = V4L2_FIELD_NONE;
	ASSERT_EQ(0, ioctl(video, VIDIOC_S_FMT, &fmt))
		TH_LOG("S_FMT: %s", strerror(errno));
	bufsize = page_align(fmt.fmt.pix.sizeimage);
	ASSERT_LE(VIVID_BUFS, vivid_reqbufs(video, VIVID_BUFS));
	for (i = 0; i < VIVID_BUFS; i++) {
		fd[i] = sgbuf_alloc(self->dev, bufsize, 0, O_RDWR | O_CLOEXEC,
				    "failnth vivid");
		ASSERT_LE(0, fd[i]);
		p = mmap(NULL, bufsize, PROT_READ | PROT_WRITE, MAP_SHARED,
			 fd[i], 0);
		ASSERT_NE(MAP_FAILED, p);
		ASSERT_EQ(0, dmabuf_sync(fd[i], SYNC_W_START));
		memset(p, sentinel, bufsize);
		ASSERT_EQ(0, dmabuf_sync(fd[i], SYNC_W_END));
		ASSERT_EQ(0, munmap(p, bufsize));
	}
	ASSERT_EQ(0, bufinfo_row(fd[0], &r0));
	if (only_vmap) {
		ret = kallsyms_func("sgbuf", "sgbuf_vmap", &start, &end);
		ASSERT_EQ(0, ret) TH_LOG("sgbuf_vmap in /proc/kallsyms: %s",
					 strerror(-ret));
		fn_restrict(_metadata, &self->env, start, end);
	}
	/* An injected vmap failure WARNs in the core (see above). */
	kmsg = allow_core_warning(&self->env);

	sweep_begin(&sw, what);
	for (;;) {
		sweep_step(_metadata, &sw);
		snap_take(_metadata, self->dev, &a);
		ASSERT_EQ(0, bufinfo_row(fd[0], &ra));
		vivid_qbuf_req(&vb, 0, fd[0], bufsize);
		FN_CALL(self, &sw, ret, inj,
			ioctl(video, VIDIOC_QBUF, &vb) ? -errno : 0);
		snap_take(_metadata, self->dev, &b);
		ASSERT_EQ(0, bufinfo_row(fd[0], &rb));
		flags = vivid_buf_flags(video, 0);
		ASSERT_LE(0, flags);
		if (!ret) {
			EXPECT_TRUE(flags & V4L2_BUF_FLAG_QUEUED);
			/* vb2 holds a reference while it has the buffer. */
			EXPECT_EQ(ra.count + 1, rb.count);
			if (sweep_done(&sw))
				break;
		} else if (flags & V4L2_BUF_FLAG_QUEUED) {
			/* Queued, then the V4L2 core's copy-out failed. */
			sw.after++;
			EXPECT_EQ(-EFAULT, ret);
			EXPECT_EQ(ra.count + 1, rb.count);
		} else {
			expect_fault_errno(_metadata, &sw, ret);
			snap_expect_same(_metadata, &sw, &a, &b);
			BROW_EQ(&sw, &ra, &rb, count,
				"the importer kept (or dropped) a reference to the dma-buf after a failed QBUF");
			continue;
		}
		/* Queued: release the queue and go on. */
		ASSERT_EQ(0, vivid_reqbufs(video, 0));
		ASSERT_LE(VIVID_BUFS, vivid_reqbufs(video, VIVID_BUFS));
		ASSERT_EQ(0, bufinfo_row(fd[0], &rb));
		BROW_EQ(&sw, &r0, &rb, count, "left by vb2 after REQBUFS(0)");
	}
	sweep_report(&sw);
	fn_knobs_restore(&self->env);
	if (only_vmap)
		EXPECT_LT(0U, sw.sites) TH_LOG("no fault site inside sgbuf_vmap");

	/* The buffer queued last receives a frame through the vmap. */
	vivid_qbuf_req(&vb, 1, fd[1], bufsize);
	ASSERT_EQ(0, ioctl(video, VIDIOC_QBUF, &vb))
		TH_LOG("QBUF 1: %s", strerror(errno));
	ASSERT_EQ(0, ioctl(video, VIDIOC_STREAMON, &type))
		TH_LOG("STREAMON: %s", strerror(errno));
	ret = poll_fd(video, POLLIN, 10000);
	ASSERT_NE(0, ret & POLLIN) TH_LOG("no frame within 10 s (%d)", ret);
	memset(&vb, 0, sizeof(vb));
	vb.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	vb.memory = V4L2_MEMORY_DMABUF;
	ASSERT_EQ(0, ioctl(video, VIDIOC_DQBUF, &vb))
		TH_LOG("DQBUF: %s", strerror(errno));
	EXPECT_EQ(0U, vb.index) TH_LOG("the swept buffer was not filled first");
	EXPECT_EQ(0U, vb.flags & V4L2_BUF_FLAG_ERROR);
	ASSERT_LT(0U, vb.bytesused);
	ASSERT_LE(vb.bytesused, bufsize);
	p = mmap(NULL, bufsize, PROT_READ, MAP_SHARED, fd[vb.index], 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, dmabuf_sync(fd[vb.index], SYNC_R_START));
	for (k = 0, changed = 0; k < vb.bytesused; k++)
		changed += p[k] != sentinel;
	EXPECT_LE(vb.bytesused / 2, changed)
		TH_LOG("only %zu of %u bytes written by vivid", changed,
		       vb.bytesused);
	ASSERT_EQ(0, dmabuf_sync(fd[vb.index], SYNC_R_END));
	ASSERT_EQ(0, munmap(p, bufsize));
	ASSERT_EQ(0, ioctl(video, VIDIOC_STREAMOFF, &type));
	ASSERT_EQ(0, vivid_reqbufs(video, 0));
	ASSERT_EQ(0, bufinfo_row(fd[0], &rb));
	BROW_EQ(&sw, &r0, &rb, count, "left after the queue was released");

	/* The core's WARN_ON_ONCE at most; nothing of sgbuf's. */
	expect_kernel_log(_metadata, sw.what, kmsg, "dma_buf_vmap");
	for (i = 0; i < VIVID_BUFS; i++)
		EXPECT_EQ(0, close(fd[i]));
	EXPECT_EQ(0, close(video));
}

/* The failures of sgbuf's vmap, seen through vivid: run it alone. */
TEST_F_TIMEOUT(vivid, vmap_via_vivid, 300)
{
	sweep_vivid(_metadata, self, "QBUF into vivid, faults in sgbuf_vmap",
		    true);
}

/*
 * Every fault site of QBUF, the importer's (vb2, V4L2) included: run it
 * alone. On Debian's 6.12.117 it fails: when vb2-vmalloc's attach_dmabuf
 * fails (its kzalloc), __prepare_dmabuf() goes to err_put_vb2_buf without
 * putting the dma-buf it got with dma_buf_get() (videobuf2-core.c), which
 * leaks a reference to the sgbuf buffer: it is never freed, and sgbuf can
 * no longer be unloaded.
 */
TEST_F_TIMEOUT(vivid, qbuf_via_vivid, 300)
{
	sweep_vivid(_metadata, self, "QBUF into vivid, every fault site",
		    false);
}

/* ---------------------------------------------------------------- last */

/* sgbuf buffers in bufinfo when the program started, in the parent. */
static int bufinfo_at_start = -ENODATA;

static void __attribute__((constructor)) record_bufinfo_at_start(void)
{
	bufinfo_at_start = bufinfo_count();
}

/* Declared last, so it runs after every other test. */
FIXTURE(final) {
};

FIXTURE_SETUP(final)
{
}

FIXTURE_TEARDOWN(final)
{
}

TEST_F(final, bufinfo_back_to_start)
{
	int now = bufinfo_count();

	ASSERT_LE(0, bufinfo_at_start)
		TH_LOG("bufinfo at start: %s", strerror(-bufinfo_at_start));
	EXPECT_EQ(bufinfo_at_start, now)
		TH_LOG("sgbuf buffers in bufinfo: %d at start, %d now",
		       bufinfo_at_start, now);
}

TEST_HARNESS_MAIN
