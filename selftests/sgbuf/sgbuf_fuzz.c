// SPDX-License-Identifier: GPL-2.0
/*
 * sgbuf_fuzz - a structure-aware fuzzer for the ioctls of /dev/sgbuf and
 * /dev/dma_heap/sgbuf and for the dma-buf fds they hand out.
 *
 *   sgbuf_fuzz [--seed S] [--count N] [--start K] [--threads T] [--trace]
 *              [--trace-from K] [--progress N] [--budget-mb M]
 *              [--job-timeout-ms MS] [--kmsg-every N] [--fail-at K]
 *              [--kmsg-splat-at K] [--no-udmabuf-prime]
 *
 * Run it as root in a guest with sgbuf loaded (and vgem, for foreign
 * dma-bufs); scripts/fuzz.sh (make fuzz) does that.
 *
 * It keeps a pool of live resources - /dev/sgbuf files with a model of
 * their engine (import handles, software fences, the last job number and
 * the kind of each recent job), /dev/dma_heap/sgbuf files, dma-bufs from
 * sgbuf, foreign dma-bufs (vgem dumb buffers through PRIME, udmabufs),
 * sync_files, mmaps, memfds, pipes, /dev/null - and issues calls on them:
 * every ioctl of both nodes, the dma-buf core's ioctls, sync_file ioctls,
 * mmap/munmap/mremap/mprotect/madvise and touches of the mappings, poll,
 * lseek, fdinfo, dup and close, and ioctl numbers nobody handles. Field
 * values mix valid ones, syzkaller's boundary values (0, 0x1000, ...,
 * ~0, page - 1, size +- 1), random bits in flags and reserved fields,
 * wrong struct sizes in the ioctl number, stale and foreign handles and
 * fds, and argument pointers that are NULL, read-only, cut short by an
 * unmapped page, or inside a dma-buf mapping.
 *
 * Oracles, besides the kernel's own (the host fails the run on a splat):
 *  - every errno is in the set the call allows: an ioctl that must fail
 *    (a reserved field or an unknown flag set, a struct smaller than its
 *    first size, a non-zero byte past the known struct, an ioctl number
 *    that is not handled) must not succeed, EFAULT never comes back for a
 *    valid pointer, ENOTTY never for a handled command, ENOENT exactly for
 *    handles and fence ids this file does not have, job numbers count up by
 *    one, WAIT's checksums match the job's kind, GET_INFO clears the tail of
 *    a larger struct, a read-only buffer never maps writable, a mapping
 *    never grows, a touch of an sgbuf mapping never faults;
 *  - at the end, with everything closed and unmapped, debugfs bufinfo lists
 *    as many sgbuf buffers as at the start, and GET_INFO's live_buffers and
 *    total_size are back where they were.
 * A violation ends the run with "not ok", the seed and the call's index.
 *
 * Reproducing. Call i is generated from a generator seeded with (seed, i)
 * alone, and what it acts on is picked from the pool, so --seed S --start K
 * --count N issues the same calls as any run of that seed that starts at
 * K with an empty pool, as long as the kernel gives the same answers.
 * With --threads 0 a run repeats call for call, except where an answer
 * depends on timing (WAIT's ETIME, SUBMIT's EBUSY, a software fence that
 * timed out, an interrupted wait), from where two runs may part ways;
 * --trace prints every call and its result to compare them (addresses
 * aside, two traces of 5000 calls matched but for such answers). The
 * racing threads (--threads, default 1)
 * close random fds, dup2() over them and unmap mappings under the main
 * thread's feet, as syzkaller's collider does; what they hit depends on
 * timing, so a run with them reproduces only statistically. The oracles
 * relax for a call whose fds or mapping a racer touched while it ran.
 *
 * Bounds: sgbuf's job_timeout_ms is set to 200 ms for the run (and
 * restored), which bounds every job and software fence; a call that may
 * block (a WAIT, a START sync, poll) is interrupted after 50 ms by
 * SIGALRM, and EINTR is then accepted; buffers stay mostly below 1 MiB,
 * and a request that would take sgbuf's live memory past --budget-mb is
 * made small instead.
 *
 * Output is TAP: "# " comments (a progress line about every 10 s, or
 * every --progress calls), then exactly one "ok - fuzz: N calls, seed S"
 * or "not ok - fuzz: ...". Exit status 0, or 1 on a violation, 2 on a
 * usage or setup error.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <time.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <linux/dma-heap.h>
#include <linux/sync_file.h>
#include <linux/udmabuf.h>
#include <xf86drm.h>
#include <vgem_drm.h>

#include "drivers.h"
#include "engine.h"

#ifndef SYNC_IOC_SET_DEADLINE
struct sync_set_deadline {
	__u64 deadline_ns;
	__u64 pad;
};
#define SYNC_IOC_SET_DEADLINE	_IOW(SYNC_IOC_MAGIC, 5, struct sync_set_deadline)
#endif

#define PAGE			4096ULL
#define FD_MAX			1024	/* fd numbers the racers may touch */
#define MAX_FDS			192	/* pool entries */
#define MAX_MAPS		24
#define MAX_IMPS		48	/* per engine */
#define MAX_SWF			24	/* per engine */
#define MAX_GEMS		24
#define MAX_VFENCES		4
#define RESULTS			256	/* results an engine keeps */
#define ARG_BYTES		(5 * PAGE)	/* > the largest _IOC_SIZE */
#define IOC_SIZE_MAX		((1U << _IOC_SIZEBITS) - 1)
#define WATCHDOG_US		50000	/* a blocking call is interrupted after */
#define NONE			UINT64_MAX
#define SGBUF_MAX_PAGES		(0x7fffffffULL / 8)	/* kernel: INT_MAX / sizeof(void *) */

/* ------------------------------------------------------------ options */

static uint64_t opt_seed;
static uint64_t opt_count = 10000;
static uint64_t opt_start;
static int opt_threads = 1;
static bool opt_trace;
static uint64_t opt_trace_from;
static uint64_t opt_progress;
static uint64_t opt_budget = 256ULL << 20;
static unsigned int opt_job_timeout_ms = 200;
static uint64_t opt_fail_at = NONE;
static uint64_t opt_splat_at = NONE;
static uint64_t opt_kmsg_every;
static bool opt_udmabuf_prime = true;
static int kmsg_fd = -1;

/* --------------------------------------------------------------- PRNG */

static uint64_t rng_state;

static uint64_t mix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t rnd64(void)
{
	return mix64(&rng_state);
}

/* Uniform in [0, n); 0 for n == 0. */
static uint64_t rnd(uint64_t n)
{
	return n ? rnd64() % n : 0;
}

static bool pct(unsigned int p)
{
	return rnd(100) < p;
}

/* The generator of call @i depends on the seed and @i only. */
static void rng_for_call(uint64_t i)
{
	rng_state = opt_seed ^ (i * 0xd1b54a32d192ed03ULL);
	rnd64();
}

/* syzkaller's udmabuf_offset_size set, ~0, and the page edges. */
static const uint64_t syz_vals[] = {
	0, 0x1000, 0x2000, 0x4000, 0x8000, 0x10000, 0x1000000, 0x100000000ULL,
	0xfffff000ULL, 0x1000000000000ULL, 0xfffffffffffff000ULL,
	0xfffffffff0000000ULL, ~0ULL, PAGE - 1, PAGE + 1, 1,
};

/* A value near @ref or one of the boundary values. */
static uint64_t boundary(uint64_t ref)
{
	switch (rnd(10)) {
	case 0: case 1: case 2:
		return syz_vals[rnd(ARRAY_SIZE(syz_vals))];
	case 3:
		return ref;
	case 4:
		return ref + 1;
	case 5:
		return ref - 1;
	case 6:
		return ref + PAGE;
	case 7:
		return ref - PAGE;
	case 8:
		return 1ULL << rnd(64);
	default:
		return rnd64();
	}
}

/* A flags word: usually a subset of @valid, sometimes an unknown bit. */
static uint64_t fuzz_flags(uint64_t valid, unsigned int bad_pct, bool *bad)
{
	uint64_t v = rnd64() & valid;

	*bad = false;
	if (pct(bad_pct)) {
		uint64_t extra = pct(70) ? 1ULL << rnd(64) : rnd64();

		v |= extra;
		*bad = (v & ~valid) != 0;
	}
	return v;
}

/* The same for a 32-bit field. */
static uint32_t fuzz_flags32(uint32_t valid, unsigned int bad_pct, bool *bad)
{
	uint32_t v = fuzz_flags(valid, bad_pct, bad);

	*bad = (v & ~valid) != 0;
	return v;
}

/* Non-zero with probability @p percent (a reserved field). */
static uint64_t maybe_nonzero(unsigned int p)
{
	return pct(p) ? (pct(50) ? 1ULL << rnd(64) : rnd64() | 1) : 0;
}

/* ------------------------------------------------------ racer state */

static uint64_t epoch;			/* bumped by every racer action */
static uint64_t fdgen[FD_MAX];		/* epoch of the last action on fd */
static int fdbusy[FD_MAX];		/* racer actions on fd in progress */
static bool fdprot[FD_MAX];		/* fds the racers leave alone */
static int fd_hi = 16;			/* highest pool fd + 1 */
static int racer_stop;
static pthread_mutex_t map_lock = PTHREAD_MUTEX_INITIALIZER;

static uint64_t load64(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_SEQ_CST);
}

/* ----------------------------------------------------------- the pool */

enum kind { K_BAD, K_STALE, K_DEV, K_HEAP, K_BUF, K_SYNCF, K_MEMFD, K_PIPE,
	    K_NULL, K_NKINDS };
static const char *const kind_name[K_NKINDS] = {
	"bad", "stale", "dev", "heap", "buf", "syncf", "memfd", "pipe", "null",
};

/* What we know of one /dev/sgbuf file's engine (shared by dups of it). */
struct engine {
	int refs;
	bool unsure;		/* it may hold imports or fences we never saw */
	bool seqno_known;
	uint64_t last_seqno;
	uint32_t imp_handle[MAX_IMPS];
	uint32_t imp_obj[MAX_IMPS];
	uint64_t imp_size[MAX_IMPS];
	int nimps;
	uint32_t swf_id[MAX_SWF];
	bool swf_signalled[MAX_SWF];
	int nswf;
	uint64_t rec_seqno[RESULTS];
	uint32_t rec_op[RESULTS];
};

struct fdent {
	int fd;
	enum kind kind;
	uint64_t ereg;		/* epoch before the call that made it */
	uint64_t size;		/* dma-bufs: bytes (0: unknown) */
	uint32_t obj;		/* dma-bufs: the buffer, same for dups */
	int acc;		/* dma-bufs: O_ACCMODE of the file */
	bool sgbuf;		/* dma-buf exported by sgbuf */
	struct engine *eng;	/* K_DEV */
	uint64_t born;		/* the call that made it, */
	const char *by;		/* and its op, for a violation's report */
};

static struct fdent pool[MAX_FDS];
static int npool;
static uint32_t next_obj = 1;
static int stale_fds[16];
static int nstale;

struct mslot {
	bool used;
	uint32_t obj;
	uint8_t *addr;
	size_t len;
	int prot;
	bool sgbuf;
	bool rdonly_file;	/* the dma-buf's file is not writable */
	bool zapped;		/* an madvise() may have dropped its PTEs */
	uint64_t ereg;
};

static struct mslot maps[MAX_MAPS];
static uint64_t mgen[MAX_MAPS];

/*
 * Buffers an engine (or vgem) imported at some point: jobs may write them
 * at any time, so their mappings hold no ioctl argument.
 */
#define MAX_OBJ		(1U << 20)
static uint8_t obj_imported[MAX_OBJ / 8];

static void mark_imported(uint32_t obj)
{
	if (obj < MAX_OBJ)
		obj_imported[obj / 8] |= 1 << (obj % 8);
}

/* An import of unknown origin: any buffer we know of may be its. */
static void mark_all_imported(void)
{
	int i;

	for (i = 0; i < npool; i++)
		if (pool[i].kind == K_BUF)
			mark_imported(pool[i].obj);
	for (i = 0; i < MAX_MAPS; i++)
		if (maps[i].used)
			mark_imported(maps[i].obj);
}

static bool was_imported(uint32_t obj)
{
	return !obj || obj >= MAX_OBJ || obj_imported[obj / 8] & 1 << (obj % 8);
}

struct gem {
	uint32_t handle;
	uint32_t obj;
	uint64_t size;
	bool sgbuf;
};

static struct gem gems[MAX_GEMS];
static int ngems;
static uint32_t vfences[MAX_VFENCES];
static int nvfences;

static int drm_fd = -1, udmabuf_dev = -1, null_fd = -1, info_fd = -1;

/* Module limits, from GET_INFO at the start. */
static uint64_t max_buffer, max_total, max_contig, tot_cache;
static unsigned int allocs_since_info;

/* ------------------------------------------------------ the call */

#define MAX_FIELDS	20

struct call {
	uint64_t idx;
	const char *op;
	const char *fname[MAX_FIELDS];
	uint64_t fval[MAX_FIELDS];
	int nf;
	char str[100];		/* a string argument, for the trace */
	int allowed[24];
	int nallowed;
	bool must_fail;
	bool loose;		/* no errno oracle (another driver's call) */
	bool epoch_sensitive;	/* relax if any racer acted meanwhile */
	enum kind wrong_target;	/* an ioctl sent to a file of another kind */
	int tfd[6];
	int ntfd;
	int tmap;
	uint64_t e0;
	bool watchdog;
	bool alarm;
	bool relaxed;
	const char *argmode;
	bool done;		/* result printed */
	long ret;
	int err;
};

static struct call C;
static bool tracing;
static uint64_t fail_idx = NONE;
static char fail_msg[512];

static volatile sig_atomic_t alarm_fired;
static sigjmp_buf touch_jmp;
static volatile sig_atomic_t in_touch;

struct opstat {
	uint64_t calls, ok;
};

static void field(const char *name, uint64_t v)
{
	if (C.nf < MAX_FIELDS) {
		C.fname[C.nf] = name;
		C.fval[C.nf++] = v;
	}
}

static void allow(int e)
{
	int i;

	for (i = 0; i < C.nallowed; i++)
		if (C.allowed[i] == e)
			return;
	if (C.nallowed < (int)ARRAY_SIZE(C.allowed))
		C.allowed[C.nallowed++] = e;
}

/* An invalid argument the kernel must reject with @e. */
static void reject(int e)
{
	allow(e);
	C.must_fail = true;
}

static void track_fd(int fd)
{
	if (C.ntfd < (int)ARRAY_SIZE(C.tfd))
		C.tfd[C.ntfd++] = fd;
}

static const char *errname(int e)
{
	const char *n = strerrorname_np(e);

	return n ? n : "E?";
}

static void print_call(const char *what)
{
	char line[1400];
	size_t n;
	int i;

	n = snprintf(line, sizeof(line), "# %s[%llu] %s", what,
		     (unsigned long long)C.idx, C.op ? C.op : "?");
	for (i = 0; i < C.nf && n < sizeof(line) - 40; i++)
		n += snprintf(line + n, sizeof(line) - n, " %s=%#llx",
			      C.fname[i], (unsigned long long)C.fval[i]);
	if (C.str[0] && n < sizeof(line) - 120) {
		n += snprintf(line + n, sizeof(line) - n, " str=\"");
		for (i = 0; C.str[i] && n < sizeof(line) - 8; i++) {
			unsigned char ch = C.str[i];

			if (ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\')
				line[n++] = ch;
			else
				n += snprintf(line + n, sizeof(line) - n,
					      "\\x%02x", ch);
		}
		n += snprintf(line + n, sizeof(line) - n, "\"");
	}
	if (C.argmode && n < sizeof(line) - 20)
		n += snprintf(line + n, sizeof(line) - n, " arg=%s", C.argmode);
	if (C.wrong_target != K_NKINDS && n < sizeof(line) - 20)
		n += snprintf(line + n, sizeof(line) - n, " target=%s",
			      kind_name[C.wrong_target]);
	if (n >= sizeof(line))
		n = sizeof(line) - 1;
	line[n] = '\0';
	printf("%s\n", line);
	fflush(stdout);
}

static void print_result(void)
{
	const char *rel = C.loose ? " (no oracle)" :
			  C.relaxed ? " (raced)" : "";

	if (C.ret >= 0)
		printf("#   = %ld%s\n", C.ret, rel);
	else
		printf("#   = -%s%s%s\n", errname(C.err),
		       C.alarm ? " (watchdog)" : "", rel);
	fflush(stdout);
}

/* What the call's fds are, and what the pool thinks they are. */
static void describe_fds(void)
{
	char path[64], link[128];
	ssize_t n;
	int i, j;

	for (i = 0; i < C.ntfd; i++) {
		int fd = C.tfd[i];

		if (fd < 0 || fd >= FD_MAX)
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		n = readlink(path, link, sizeof(link) - 1);
		link[n < 0 ? 0 : n] = '\0';
		printf("#   fd %d: %s (racer epoch %llu, fd's %llu, call's %llu)\n",
		       fd, n < 0 ? "not open" : link,
		       (unsigned long long)load64(&epoch),
		       (unsigned long long)load64(&fdgen[fd]),
		       (unsigned long long)C.e0);
		for (j = 0; j < npool; j++)
			if (pool[j].fd == fd)
				printf("#     pool: %s, made by call %llu (%s), epoch %llu\n",
				       kind_name[pool[j].kind],
				       (unsigned long long)pool[j].born,
				       pool[j].by ? pool[j].by : "?",
				       (unsigned long long)pool[j].ereg);
	}
}

static void violation(const char *fmt, ...)
{
	va_list ap;

	if (fail_idx != NONE)
		return;
	va_start(ap, fmt);
	vsnprintf(fail_msg, sizeof(fail_msg), fmt, ap);
	va_end(ap);
	fail_idx = C.idx;
	printf("# VIOLATION at call %llu: %s\n", (unsigned long long)C.idx,
	       fail_msg);
	if (!tracing)
		print_call("failing call ");
	if (C.op && !C.done && C.nf)
		print_result();
	describe_fds();
	fflush(stdout);
}

/* A line in the kernel log, where it lands between the splats. */
static void kmsg(const char *fmt, ...)
{
	char line[256];
	va_list ap;
	int n;

	if (kmsg_fd < 0)
		return;
	/* level 4: the test guests' console shows levels below 5 */
	n = snprintf(line, sizeof(line), "<4>sgbuf_fuzz: ");
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	va_end(ap);
	if (write(kmsg_fd, line, n) < 0)
		kmsg_fd = -1;
}

/* Start call @i: fresh context, generator reseeded. */
static void call_reset(uint64_t i)
{
	memset(&C, 0, sizeof(C));
	C.idx = i;
	C.tmap = -1;
	C.wrong_target = K_NKINDS;
	/*
	 * From here on, a racer action on a file or mapping of the call
	 * relaxes its oracles: it may have happened before the syscall.
	 */
	C.e0 = load64(&epoch);
	rng_for_call(i);
}

static void arm_watchdog(void)
{
	struct itimerval it = { .it_value = { 0, WATCHDOG_US } };

	alarm_fired = 0;
	setitimer(ITIMER_REAL, &it, NULL);
}

static void disarm_watchdog(void)
{
	struct itimerval it = { 0 };

	setitimer(ITIMER_REAL, &it, NULL);
}

/* Right before the syscall: trace and arm the watchdog. */
static void begin(void)
{
	if (tracing)
		print_call("");
	alarm_fired = 0;
	if (C.watchdog)
		arm_watchdog();
}

static bool racer_touched(void)
{
	int i;

	if (!opt_threads)
		return false;
	for (i = 0; i < C.ntfd; i++) {
		int fd = C.tfd[i];

		if (fd < 0 || fd >= FD_MAX)
			continue;
		if (load64(&fdgen[fd]) >= C.e0 ||
		    __atomic_load_n(&fdbusy[fd], __ATOMIC_SEQ_CST))
			return true;
	}
	if (C.tmap >= 0 && load64(&mgen[C.tmap]) >= C.e0)
		return true;
	if (C.epoch_sensitive && load64(&epoch) != C.e0)
		return true;
	return false;
}

/* Right after it: judge the result. Returns @ret, errno preserved. */
static long finish(long ret)
{
	int err = errno;
	char set[200] = "";
	size_t n = 0;
	int i;

	if (C.watchdog)
		disarm_watchdog();
	C.alarm = alarm_fired;
	C.ret = ret;
	C.err = ret < 0 ? err : 0;
	C.relaxed = C.loose || racer_touched();
	if (C.wrong_target != K_NKINDS) {
		C.nallowed = 0;
		if (C.wrong_target == K_STALE)
			C.relaxed = true;
		else
			reject(C.wrong_target == K_BAD ? EBADF : ENOTTY);
	}

	for (i = 0; i < C.nallowed && n < sizeof(set) - 20; i++)
		n += snprintf(set + n, sizeof(set) - n, "%s%s", i ? " " : "",
			      errname(C.allowed[i]));
	if (ret >= 0) {
		if (C.must_fail && !C.relaxed)
			violation("%s succeeded (%ld) but must fail with one of {%s}",
				  C.op, ret, set);
	} else if (!(C.err == EINTR && C.alarm) && !C.relaxed) {
		for (i = 0; i < C.nallowed; i++)
			if (C.allowed[i] == C.err)
				break;
		if (i == C.nallowed)
			violation("%s failed with %s, allowed: {%s}%s", C.op,
				  errname(C.err), set,
				  C.must_fail ? ", must fail" : "");
	}
	if (tracing) {
		print_result();
		C.done = true;
	}
	errno = err;
	return ret;
}

/* ----------------------------------------------------- signal handlers */

static void on_alarm(int sig)
{
	(void)sig;
	alarm_fired = 1;
}

static void on_fault(int sig)
{
	if (in_touch) {
		in_touch = 0;
		siglongjmp(touch_jmp, sig);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

/*
 * memcpy() that survives SIGSEGV and SIGBUS. Returns 0, or the signal.
 * The jump buffer is only live inside this function.
 */
static int safe_copy(void *dst, const void *src, size_t n)
{
	int sig = sigsetjmp(touch_jmp, 1);

	if (sig) {
		in_touch = 0;
		return sig;
	}
	in_touch = 1;
	memcpy(dst, src, n);
	in_touch = 0;
	return 0;
}

static int safe_set(void *dst, int c, size_t n)
{
	int sig = sigsetjmp(touch_jmp, 1);

	if (sig) {
		in_touch = 0;
		return sig;
	}
	in_touch = 1;
	memset(dst, c, n);
	in_touch = 0;
	return 0;
}

/* ------------------------------------------------------------ pool ops */

static bool entry_stale(const struct fdent *e)
{
	if (!opt_threads || e->fd < 0 || e->fd >= FD_MAX)
		return false;
	return load64(&fdgen[e->fd]) >= e->ereg ||
	       __atomic_load_n(&fdbusy[e->fd], __ATOMIC_SEQ_CST);
}

static void engine_put(struct engine *eng)
{
	if (eng && !--eng->refs)
		free(eng);
}

static void pool_del(struct fdent *e)
{
	engine_put(e->eng);
	*e = pool[--npool];
}

static void remember_closed(int fd)
{
	stale_fds[nstale++ % ARRAY_SIZE(stale_fds)] = fd;
}

/*
 * Register @fd made by the current call. An fd a racer touched since the
 * call began may be anything by now: it is left to the sweep.
 */
static struct fdent *pool_add(int fd, enum kind k)
{
	struct fdent *e;

	if (fd < 0 || fd >= FD_MAX || fdprot[fd])
		return NULL;
	if (opt_threads && (load64(&fdgen[fd]) >= C.e0 ||
			    __atomic_load_n(&fdbusy[fd], __ATOMIC_SEQ_CST)))
		return NULL;
	if (npool == MAX_FDS) {
		close(fd);
		return NULL;
	}
	e = &pool[npool++];
	memset(e, 0, sizeof(*e));
	e->fd = fd;
	e->kind = k;
	e->ereg = C.e0;
	e->born = C.idx;
	e->by = C.op;
	e->acc = O_RDWR;
	if (tracing)
		printf("#   + fd %d: %s\n", fd, kind_name[k]);
	if (fd + 1 > __atomic_load_n(&fd_hi, __ATOMIC_SEQ_CST))
		__atomic_store_n(&fd_hi, fd + 1, __ATOMIC_SEQ_CST);
	return e;
}

static struct engine *engine_new(void)
{
	struct engine *eng = calloc(1, sizeof(*eng));

	if (!eng) {
		perror("calloc");
		exit(2);
	}
	eng->refs = 1;
	eng->seqno_known = true;
	return eng;
}

/* Every engine: something we did not see may have happened to it. */
static void engines_unsure(void)
{
	int i;

	for (i = 0; i < npool; i++) {
		if (pool[i].eng) {
			pool[i].eng->unsure = true;
			pool[i].eng->seqno_known = false;
		}
	}
}

static void unmap_slot(int s);

/* Drop what the racers made stale; their files are left to the sweep. */
static void prune(void)
{
	int i;

	if (!opt_threads)
		return;
	for (i = 0; i < npool; i++) {
		if (entry_stale(&pool[i])) {
			if (pool[i].kind == K_DEV)
				engines_unsure();
			pool_del(&pool[i]);
			i--;
		}
	}
	for (i = 0; i < MAX_MAPS; i++)
		if (maps[i].used && load64(&mgen[i]) >= maps[i].ereg)
			unmap_slot(i);
}

static int count_kind(enum kind k)
{
	int i, n = 0;

	for (i = 0; i < npool; i++)
		n += pool[i].kind == k;
	return n;
}

/* A random entry of kind @k (K_NKINDS: any) matching @pred, or NULL. */
static struct fdent *pick(enum kind k, bool (*pred)(const struct fdent *))
{
	int idx[MAX_FDS], i, n = 0;

	for (i = 0; i < npool; i++)
		if ((k == K_NKINDS || pool[i].kind == k) &&
		    (!pred || pred(&pool[i])))
			idx[n++] = i;
	return n ? &pool[idx[rnd(n)]] : NULL;
}

static bool is_sgbuf_buf(const struct fdent *e)
{
	return e->kind == K_BUF && e->sgbuf && e->size;
}

static bool is_foreign_buf(const struct fdent *e)
{
	return e->kind == K_BUF && !e->sgbuf;
}

static bool has_imports(const struct fdent *e)
{
	return e->kind == K_DEV && e->eng->nimps;
}

/* A number that is no open fd of ours (EBADF), or a recently closed one. */
static int bad_fd(enum kind *got)
{
	switch (rnd(4)) {
	case 0:
		*got = K_BAD;
		return -1;
	case 1:
		*got = K_BAD;
		return pct(50) ? INT32_MIN : FD_MAX + (int)rnd(1000);
	case 2:
		if (nstale) {
			*got = K_STALE;
			return stale_fds[rnd(nstale < 16 ? nstale : 16)];
		}
		/* fall through */
	default:
		*got = K_BAD;
		return FD_MAX - 1 - (int)rnd(20);	/* never handed out */
	}
}

/*
 * The file an ioctl goes to: mostly @e's, sometimes another pool file or
 * a bad number, which the kernel must refuse with ENOTTY or EBADF.
 */
static int target(const struct fdent *e)
{
	int r = rnd(100);
	enum kind got;
	int fd;

	if (r < 95 || !e) {
		fd = e ? e->fd : -1;
		if (!e)
			C.wrong_target = K_BAD;
	} else if (r < 98) {
		const struct fdent *o = pick(K_NKINDS, NULL);

		/* another file of the same kind would not be wrong enough */
		fd = o->fd;
		if (o->kind != e->kind)
			C.wrong_target = o->kind;
		else
			fd = e->fd;
	} else {
		fd = bad_fd(&got);
		C.wrong_target = got;
	}
	field("target", (uint64_t)(int64_t)fd);
	track_fd(fd);
	return fd;
}

/* An fd passed as data (IMPORT, SYNC_RANGE, in-fence, ...). */
static int data_fd(enum kind want, bool (*pred)(const struct fdent *),
		   unsigned int want_pct, enum kind *got,
		   const struct fdent **ent)
{
	const struct fdent *e = NULL;
	int r = rnd(100);

	*ent = NULL;
	if (r < (int)want_pct)
		e = pick(want, pred);
	if (!e && r < 92 && npool)
		e = pick(K_NKINDS, NULL);
	if (e) {
		*got = e->kind;
		*ent = e;
		r = e->fd;
	} else {
		r = bad_fd(got);
	}
	field("fd_kind", *got);
	track_fd(r);
	return r;
}

/* ------------------------------------------------------ argument memory */

static uint8_t *arg_rw, *arg_ro;	/* same pages; each ends at a guard */
static uint8_t *arg_ptr;
static size_t arg_off;
static int arg_slot;
static enum { AM_RW, AM_RO, AM_STRADDLE, AM_BAD, AM_MAP } arg_mode;

static bool map_rw_sgbuf(int s)
{
	return maps[s].used && maps[s].sgbuf && !was_imported(maps[s].obj) &&
	       (maps[s].prot & (PROT_READ | PROT_WRITE)) ==
	       (PROT_READ | PROT_WRITE) && !maps[s].zapped;
}

/*
 * Put @len bytes of @data where the kernel will look for them. The kernel
 * reads @kreads bytes from the start; @kwrites: success writes a reply.
 * Returns the pointer to pass.
 */
static void *arg_place(const void *data, size_t len, size_t kreads,
		       bool kwrites)
{
	unsigned int r = rnd(100);
	size_t k;

	arg_slot = -1;
	if (r < 4 && kwrites) {
		/* read-only: the reply cannot be written */
		arg_mode = AM_RO;
		arg_off = ARG_BYTES - len;
		memcpy(arg_rw + arg_off, data, len);
		C.argmode = "ro";
		reject(EFAULT);
		return arg_ro + arg_off;
	}
	if (r < 7 && kreads) {
		/* the struct runs into an unmapped page */
		arg_mode = AM_STRADDLE;
		k = rnd(kreads < len ? kreads : len);
		memcpy(arg_rw + ARG_BYTES - k, data, k);
		field("straddle", k);
		C.argmode = "straddle";
		reject(EFAULT);
		return arg_rw + ARG_BYTES - k;
	}
	if (r < 9 && (kreads || kwrites)) {
		static const uint64_t bad[] = {
			0, 16, 0xffffffff81000000ULL, 0x8000000000000000ULL,
			0xfffffffffffff000ULL,
		};
		uint64_t p = bad[rnd(ARRAY_SIZE(bad))];

		arg_mode = AM_BAD;
		field("ptr", p);
		C.argmode = "bad";
		reject(EFAULT);
		return (void *)(uintptr_t)p;
	}
	if (r < 14) {
		int s = rnd(MAX_MAPS), i;

		for (i = 0; i < MAX_MAPS; i++, s = (s + 1) % MAX_MAPS)
			if (map_rw_sgbuf(s) && maps[s].len >= len)
				break;
		if (i < MAX_MAPS) {
			arg_off = rnd((maps[s].len - len) / 8 + 1) * 8;
			if (!safe_copy(maps[s].addr + arg_off, data, len)) {
				arg_mode = AM_MAP;
				arg_slot = s;
				C.tmap = s;
				C.argmode = "in-mapping";
				arg_ptr = maps[s].addr + arg_off;
				return arg_ptr;
			}
		}
	}
	arg_mode = AM_RW;
	/* Half the time right before the guard page: no overread goes unseen. */
	arg_off = pct(50) ? ARG_BYTES - len : rnd((ARG_BYTES - len) / 8 + 1) * 8;
	memcpy(arg_rw + arg_off, data, len);
	arg_ptr = arg_rw + arg_off;
	return arg_ptr;
}

/* Read the reply back. Returns false if there is none to read. */
static bool arg_fetch(void *dst, size_t len)
{
	switch (arg_mode) {
	case AM_RW:
		memcpy(dst, arg_rw + arg_off, len);
		return true;
	case AM_MAP:
		return !safe_copy(dst, arg_ptr, len);
	default:
		return false;
	}
}

/*
 * The _IOC_SIZE to use for a struct of @ksize bytes first published with
 * @ver0: mostly the real one, sometimes smaller (EINVAL), larger with a
 * zero tail (accepted), or larger with a non-zero byte in it (E2BIG).
 * Fills @buf (of IOC_SIZE_MAX + 1 bytes) from @st and returns the size.
 */
static size_t ioc_size(uint8_t *buf, const void *st, size_t ksize, size_t ver0,
		       bool input)
{
	unsigned int r = rnd(100);
	size_t usize = ksize;

	if (r < 3) {
		usize = rnd(ver0);
		reject(EINVAL);
	} else if (r < 8) {
		usize = ksize + 1 + (pct(80) ? rnd(64) : rnd(IOC_SIZE_MAX - ksize));
	}
	memset(buf, 0, usize);
	memcpy(buf, st, usize < ksize ? usize : ksize);
	if (usize > ksize && input && pct(40)) {
		buf[ksize + rnd(usize - ksize)] = 1 + rnd(255);
		reject(E2BIG);
	} else if (usize > ksize && !input) {
		/* output struct: the kernel must clear the tail */
		memset(buf + ksize, 0xa5, usize - ksize);
	}
	field("usize", usize);
	return usize;
}

/* A direction other than @dir, for a "wrong direction" ioctl number. */
static unsigned int other_dir(unsigned int dir)
{
	return (dir + 1 + rnd(3)) & 3;
}

/* The command for an ioctl: sometimes with the wrong direction (ENOTTY). */
static unsigned long ioc_cmd(unsigned long cmd, size_t usize, bool dir_matters)
{
	unsigned int dir = _IOC_DIR(cmd);

	if (dir_matters && pct(2)) {
		dir = other_dir(dir);
		reject(ENOTTY);
		field("dir", dir);
	}
	return _IOC(dir, _IOC_TYPE(cmd), _IOC_NR(cmd), usize);
}

/* ---------------------------------------------------------- fd limits */

static bool fdlimit_on;
static struct rlimit fdlimit_saved;

/*
 * Rarely: lower RLIMIT_NOFILE to the lowest free fd, so that the next fd
 * the kernel reserves fails with EMFILE, after whatever it built first.
 */
static bool fdlimit_maybe(void)
{
	struct rlimit rl;
	int low;

	if (!pct(2))
		return false;
	low = fcntl(info_fd, F_DUPFD_CLOEXEC, 0);
	if (low < 0)
		return false;
	close(low);
	if (getrlimit(RLIMIT_NOFILE, &fdlimit_saved))
		return false;
	rl = fdlimit_saved;
	rl.rlim_cur = low;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		return false;
	fdlimit_on = true;
	C.epoch_sensitive = true;
	field("fdlimit", low);
	return true;
}

static void fdlimit_restore(void)
{
	if (fdlimit_on)
		setrlimit(RLIMIT_NOFILE, &fdlimit_saved);
	fdlimit_on = false;
}

/* ---------------------------------------------------------- budgets */

static void info_refresh(void)
{
	struct sgbuf_info info;

	if (!sgbuf_get_info(info_fd, &info))
		tot_cache = info.total_size;
	allocs_since_info = 0;
}

/*
 * Would an ALLOC of @size get as far as allocating? Then it must also fit
 * in the budget, else the caller takes a small size instead.
 */
static bool alloc_allocates(uint64_t size, bool contig)
{
	if (!size || size % PAGE)
		return false;
	if (size > max_buffer || size / PAGE > SGBUF_MAX_PAGES ||
	    (contig && size > max_contig))
		return false;
	return size <= max_total;
}

static bool over_budget(uint64_t size)
{
	if (size > (1ULL << 20) || ++allocs_since_info >= 16)
		info_refresh();
	return tot_cache + size > opt_budget;
}

/* What ALLOC must say about a size it accepts: EFBIG, ENOSPC, ENOMEM. */
static void alloc_size_errors(uint64_t size, bool contig)
{
	if (size > max_buffer || size / PAGE > SGBUF_MAX_PAGES ||
	    (contig && size > max_contig)) {
		reject(EFBIG);
	} else if (size > max_total) {
		reject(ENOSPC);
	} else {
		if (size + tot_cache + opt_budget > max_total)
			allow(ENOSPC);
		allow(ENOMEM);
	}
}

static uint64_t alloc_size(void)
{
	unsigned int r = rnd(100);

	if (r < 55)
		return (1 + rnd(16)) * PAGE;
	if (r < 75)
		return (17 + rnd(240)) * PAGE;
	if (r < 80)
		return 1 + rnd(1 << 20);
	if (r < 92) {
		static const uint64_t *refs[] = {
			&max_contig, &max_buffer, &max_total,
		};

		return pct(50) ? syz_vals[rnd(ARRAY_SIZE(syz_vals))] :
				 boundary(*refs[rnd(ARRAY_SIZE(refs))]);
	}
	if (r < 97)
		return (1 + rnd(16)) << 20;
	return rnd64() & ~(PAGE - 1);
}

/* A size inside a budget-breaking request's place. */
static uint64_t small_size(void)
{
	return (1 + rnd(16)) * PAGE;
}

/* -------------------------------------------------------- maps */

static int map_free_slot(void)
{
	int i;

	for (i = 0; i < MAX_MAPS; i++)
		if (!maps[i].used)
			return i;
	return -1;
}

static int map_pick(bool (*pred)(int))
{
	int idx[MAX_MAPS], i, n = 0;

	for (i = 0; i < MAX_MAPS; i++)
		if (maps[i].used && (!pred || pred(i)))
			idx[n++] = i;
	return n ? idx[rnd(n)] : -1;
}

/* Unmap a slot entirely (under map_lock: the racers look at slots). */
static void unmap_slot(int s)
{
	pthread_mutex_lock(&map_lock);
	if (maps[s].used)
		munmap(maps[s].addr, maps[s].len);
	maps[s].used = false;
	pthread_mutex_unlock(&map_lock);
}

/* ------------------------------------------------------- the racers */

struct racer {
	pthread_t thread;
	uint64_t rng;
};

static struct racer racers[4];

static uint64_t racer_rnd(struct racer *r, uint64_t n)
{
	return n ? mix64(&r->rng) % n : 0;
}

static void racer_mark(int fd, int busy)
{
	uint64_t e = __atomic_add_fetch(&epoch, 1, __ATOMIC_SEQ_CST);

	__atomic_store_n(&fdgen[fd], e, __ATOMIC_SEQ_CST);
	__atomic_add_fetch(&fdbusy[fd], busy, __ATOMIC_SEQ_CST);
}

static int racer_fd(struct racer *r)
{
	int hi = __atomic_load_n(&fd_hi, __ATOMIC_SEQ_CST);
	int fd = 3 + (int)racer_rnd(r, hi - 1);

	return fd < FD_MAX && !fdprot[fd] ? fd : -1;
}

/*
 * Close a random fd, dup2() one fd over another, or replace (part of) a
 * mapping with an inaccessible anonymous one - which unmaps the dma-buf
 * but keeps the address range ours, so that the main thread never writes
 * into memory that is no longer a mapping of its own.
 */
static void *racer_main(void *arg)
{
	struct racer *r = arg;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGALRM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	while (!__atomic_load_n(&racer_stop, __ATOMIC_SEQ_CST)) {
		struct timespec ts = { 0, (long)racer_rnd(r, 2000) * 1000 };
		unsigned int what = racer_rnd(r, 100);
		int fd, src;

		nanosleep(&ts, NULL);
		if (what < 40) {
			fd = racer_fd(r);
			if (fd < 0)
				continue;
			racer_mark(fd, 1);
			close(fd);
			racer_mark(fd, -1);
		} else if (what < 70) {
			fd = racer_fd(r);
			src = racer_rnd(r, 100) < 30 ? null_fd : racer_fd(r);
			if (fd < 0 || src < 0 || fd == src)
				continue;
			racer_mark(fd, 1);
			dup2(src, fd);
			racer_mark(fd, -1);
		} else {
			int s = racer_rnd(r, MAX_MAPS);

			pthread_mutex_lock(&map_lock);
			if (maps[s].used) {
				size_t pages = maps[s].len / PAGE;
				size_t off = racer_rnd(r, 3) ? 0 :
					     racer_rnd(r, pages) * PAGE;
				size_t len = maps[s].len - off;

				__atomic_store_n(&mgen[s],
						 __atomic_add_fetch(&epoch, 1,
								    __ATOMIC_SEQ_CST),
						 __ATOMIC_SEQ_CST);
				mmap(maps[s].addr + off, len, PROT_NONE,
				     MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS |
				     MAP_NORESERVE, -1, 0);
				__atomic_add_fetch(&epoch, 1, __ATOMIC_SEQ_CST);
			}
			pthread_mutex_unlock(&map_lock);
		}
	}
	return NULL;
}

/* ===================================================== the operations */

static void op_open_dev(void)
{
	struct fdent *e;
	int fd;

	C.op = "open-dev";
	if (count_kind(K_DEV) >= 6) {
		e = pick(K_DEV, NULL);
		C.op = "close-dev";
		field("fd", e->fd);
		track_fd(e->fd);
		begin();
		finish(close(e->fd));
		remember_closed(e->fd);
		pool_del(e);
		return;
	}
	allow(ENOMEM);
	allow(EMFILE);
	begin();
	fd = finish(open(SGBUF_DEV, (pct(80) ? O_RDWR : O_RDONLY) | O_CLOEXEC));
	if (fd >= 0) {
		e = pool_add(fd, K_DEV);
		if (e)
			e->eng = engine_new();
	}
}

static void op_open_heap(void)
{
	int fd;

	C.op = "open-heap";
	if (count_kind(K_HEAP) >= 3) {
		struct fdent *e = pick(K_HEAP, NULL);

		C.op = "close-heap";
		field("fd", e->fd);
		track_fd(e->fd);
		begin();
		finish(close(e->fd));
		remember_closed(e->fd);
		pool_del(e);
		return;
	}
	allow(ENOMEM);
	allow(EMFILE);
	begin();
	fd = finish(open(SGBUF_HEAP_DEV, O_RDWR | O_CLOEXEC));
	if (fd >= 0)
		pool_add(fd, K_HEAP);
}

static struct fdent *need(enum kind k)
{
	struct fdent *e = pick(k, NULL);

	if (e)
		return e;
	if (k == K_DEV)
		op_open_dev();
	else
		op_open_heap();
	return NULL;
}

/* A fresh dma-buf fd: check its size, then pool it. */
static void new_buf(int fd, uint64_t size, int acc, bool sgbuf, uint32_t obj)
{
	struct fdent *e;
	off_t end;

	track_fd(fd);
	end = lseek(fd, 0, SEEK_END);
	if (end < 0 || (size && (uint64_t)end != size)) {
		if (!racer_touched())
			violation("%s: new dma-buf fd %d: lseek(SEEK_END) %lld, size %#llx",
				  C.op, fd, (long long)end,
				  (unsigned long long)size);
		return;
	}
	e = pool_add(fd, K_BUF);
	if (!e)
		return;
	e->size = end;
	e->acc = acc;
	e->sgbuf = sgbuf;
	e->obj = obj ? obj : next_obj++;
}

/* Make room for one more buffer: close one if the pool is full. */
static bool buf_room(void)
{
	struct fdent *e;

	if (count_kind(K_BUF) < 40)
		return true;
	e = pick(K_BUF, NULL);
	C.op = "close-buf";
	field("fd", e->fd);
	track_fd(e->fd);
	begin();
	finish(close(e->fd));
	remember_closed(e->fd);
	pool_del(e);
	return false;
}

static void name_fill(char *name, size_t len, bool *bad)
{
	size_t n, i;

	*bad = false;
	memset(name, 0, len);
	if (pct(60))
		return;
	n = 1 + rnd(len - 1);
	for (i = 0; i < n; i++)
		name[i] = 0x20 + rnd(0x5f);
	if (pct(5)) {
		switch (rnd(3)) {
		case 0:		/* unterminated */
			for (i = 0; i < len; i++)
				name[i] = 'a' + rnd(26);
			break;
		case 1:		/* a control character */
			name[rnd(n)] = 1 + rnd(0x1f);
			break;
		default:	/* DEL or a high byte */
			name[rnd(n)] = pct(50) ? 0x7f : 0x80 + rnd(0x80);
			break;
		}
		*bad = true;
	}
	memcpy(C.str, name, len < sizeof(C.str) - 1 ? len : sizeof(C.str) - 1);
}

static void op_alloc(void)
{
	static uint8_t buf[IOC_SIZE_MAX + 1];
	struct sgbuf_alloc a = { 0 };
	struct fdent *dev;
	bool bad, contig, limited;
	size_t usize;
	void *p;
	int fd, ret;

	dev = need(K_DEV);
	if (!dev || !buf_room())
		return;
	C.op = "ALLOC";
	a.size = alloc_size();
	a.flags = pct(10) ? SGBUF_ALLOC_CONTIGUOUS : 0;
	if (pct(3)) {
		a.flags |= pct(70) ? 1ULL << rnd(64) : rnd64();
		if (a.flags & ~SGBUF_ALLOC_VALID_FLAGS)
			reject(EINVAL);
	}
	contig = a.flags & SGBUF_ALLOC_CONTIGUOUS;
	if (alloc_allocates(a.size, contig) && over_budget(a.size))
		a.size = small_size();
	if (!a.size || a.size % PAGE)
		reject(EINVAL);
	else
		alloc_size_errors(a.size, contig);
	switch (rnd(20)) {
	case 0:
		a.fd_flags = pct(50) ? O_WRONLY : O_ACCMODE;
		reject(EINVAL);
		break;
	case 1:
		a.fd_flags = O_RDWR | (1U << rnd(32));
		if (a.fd_flags & ~(O_CLOEXEC | O_ACCMODE) ||
		    (a.fd_flags & O_ACCMODE) == O_ACCMODE)
			reject(EINVAL);
		break;
	default:
		a.fd_flags = (pct(75) ? O_RDWR : O_RDONLY) |
			     (pct(80) ? O_CLOEXEC : 0);
		break;
	}
	if (pct(2)) {
		a.fd = rnd64() | 1;
		reject(EINVAL);
	}
	name_fill(a.name, sizeof(a.name), &bad);
	if (bad)
		reject(EINVAL);
	a.reserved[0] = maybe_nonzero(2);
	a.reserved[1] = maybe_nonzero(2);
	if (a.reserved[0] || a.reserved[1])
		reject(EINVAL);
	field("size", a.size);
	field("flags", a.flags);
	field("fd_flags", a.fd_flags);
	field("fd", (uint32_t)a.fd);
	field("rsv0", a.reserved[0]);
	field("rsv1", a.reserved[1]);

	usize = ioc_size(buf, &a, sizeof(a), SGBUF_ALLOC_SIZE_VER0, true);
	ret = target(dev);
	limited = fdlimit_maybe();
	if (limited)
		reject(EMFILE);
	p = arg_place(buf, usize, usize, true);
	begin();
	ret = finish(ioctl(ret, ioc_cmd(SGBUF_IOCTL_ALLOC, usize, true), p));
	fdlimit_restore();
	if (ret)
		return;
	allocs_since_info++;
	tot_cache += a.size;
	if (!arg_fetch(&a, sizeof(a)))
		return;
	fd = a.fd;
	new_buf(fd, a.size, a.fd_flags & O_ACCMODE, true, 0);
}

static void op_get_info(void)
{
	static uint8_t buf[IOC_SIZE_MAX + 1];
	struct sgbuf_info info = { 0 };
	struct fdent *dev = need(K_DEV);
	size_t usize, i;
	void *p;
	int fd;

	if (!dev)
		return;
	C.op = "GET_INFO";
	usize = ioc_size(buf, &info, sizeof(info), SGBUF_INFO_SIZE_VER0, false);
	fd = target(dev);
	p = arg_place(buf, usize, 0, true);
	begin();
	if (finish(ioctl(fd, ioc_cmd(SGBUF_IOCTL_GET_INFO, usize, true), p)))
		return;
	if (C.relaxed || arg_mode != AM_RW)
		return;
	memcpy(buf, arg_rw + arg_off, usize);
	memcpy(&info, buf, sizeof(info));
	for (i = sizeof(info); i < usize; i++) {
		if (buf[i]) {
			violation("GET_INFO left byte %zu of a %zu-byte struct at %#x",
				  i, usize, buf[i]);
			return;
		}
	}
	if (info.abi_version != SGBUF_ABI_VERSION ||
	    (info.caps & 0x1f) != 0x1f || info.page_size != PAGE ||
	    info.max_contig_size != max_contig || info.reserved[0] ||
	    info.reserved[1] || info.reserved[2] || info.reserved[3])
		violation("GET_INFO: abi %llu caps %#llx page %llu contig %#llx",
			  (unsigned long long)info.abi_version,
			  (unsigned long long)info.caps,
			  (unsigned long long)info.page_size,
			  (unsigned long long)info.max_contig_size);
	tot_cache = info.total_size;
}

/* offset and length inside a buffer of @size, or (rarely) outside it. */
static void pick_range(uint64_t size, __u64 *off, __u64 *len, bool *bad)
{
	unsigned int r = rnd(100);

	*bad = false;
	if (!size) {
		*off = 0;
		*len = 1 + rnd(PAGE);
		*bad = true;
		return;
	}
	if (r < 50) {
		*len = 1 + rnd(size < PAGE ? size : PAGE);
	} else if (r < 75) {
		*len = (1 + rnd(16)) * PAGE;
		if (*len > size)
			*len = size;
	} else if (r < 92) {
		*len = 1 + rnd(size);
	} else {
		*len = boundary(size);
	}
	if (*len && *len <= size)
		*off = pct(30) ? 0 : rnd(size - *len + 1);
	else
		*off = rnd(size);
	if (pct(5))
		*off = boundary(size);
	*bad = !*len || *off > size || *len > size - *off;
}

static void op_sync_range(void)
{
	static uint8_t buf[IOC_SIZE_MAX + 1];
	struct sgbuf_sync_range s = { 0 };
	const struct fdent *be;
	struct fdent *dev = need(K_DEV);
	enum kind got;
	size_t usize;
	bool bad;
	void *p;
	int fd;

	if (!dev)
		return;
	C.op = "SYNC_RANGE";
	s.fd = data_fd(K_BUF, is_sgbuf_buf, 90, &got, &be);
	s.flags = fuzz_flags(SGBUF_SYNC_VALID_FLAGS, 4, &bad);
	if (pct(97))
		s.flags |= 1 + rnd(3);		/* READ, WRITE or both */
	if (bad || !(s.flags & SGBUF_SYNC_RW))
		reject(EINVAL);
	if (pct(2)) {
		s.pad = rnd64() | 1;
		reject(EINVAL);
	}
	s.reserved[0] = maybe_nonzero(2);
	s.reserved[1] = maybe_nonzero(2);
	if (s.reserved[0] || s.reserved[1])
		reject(EINVAL);
	pick_range(be && be->kind == K_BUF ? be->size : PAGE, &s.offset,
		   &s.length, &bad);
	switch (got) {
	case K_BAD:
		reject(EBADF);
		break;
	case K_STALE:
		C.loose = true;
		break;
	case K_BUF:
		if (!be->sgbuf) {
			reject(EOPNOTSUPP);
		} else if (bad) {
			reject(EINVAL);
		} else {
			allow(EINTR);
			if (!(s.flags & SGBUF_SYNC_END))
				C.watchdog = true;
		}
		break;
	default:
		reject(EINVAL);
		break;
	}
	field("fd", (uint32_t)s.fd);
	field("pad", s.pad);
	field("flags", s.flags);
	field("offset", s.offset);
	field("length", s.length);
	field("rsv0", s.reserved[0]);
	field("rsv1", s.reserved[1]);
	usize = ioc_size(buf, &s, sizeof(s), SGBUF_SYNC_RANGE_SIZE_VER0, true);
	fd = target(dev);
	p = arg_place(buf, usize, usize, false);
	begin();
	finish(ioctl(fd, ioc_cmd(SGBUF_IOCTL_SYNC_RANGE, usize, true), p));
}

static void op_heap_alloc(void)
{
	static uint8_t buf[IOC_SIZE_MAX + 1];
	struct dma_heap_allocation_data d = { 0 }, eff;
	struct fdent *heap = need(K_HEAP);
	unsigned int dir = _IOC_READ | _IOC_WRITE;
	size_t usize = sizeof(d), in_size, out_size;
	uint64_t size;
	bool limited;
	void *p;
	int fd, low = -1;

	if (!heap || !buf_room())
		return;
	C.op = "HEAP_ALLOC";
	d.len = pct(80) ? alloc_size() - (pct(20) ? rnd(PAGE) : 0) :
			  boundary(rnd64());
	size = (d.len + PAGE - 1) & ~(PAGE - 1);
	if (alloc_allocates(size, false) && over_budget(size)) {
		d.len = small_size();
		size = d.len;
	}
	switch (rnd(20)) {
	case 0:
		d.fd_flags = rnd(4);		/* any access mode goes */
		break;
	case 1:
		d.fd_flags = 1U << rnd(32);
		break;
	default:
		d.fd_flags = O_RDWR | O_CLOEXEC;
		break;
	}
	if (pct(2))
		d.fd = rnd64() | 1;
	d.heap_flags = maybe_nonzero(2);
	if (pct(4))
		dir = rnd(4);
	switch (rnd(20)) {
	case 0:
		usize = rnd(sizeof(d));
		break;
	case 1:
		usize = sizeof(d) + 1 + rnd(64);
		break;
	}
	memset(buf, 0, usize);
	memcpy(buf, &d, usize < sizeof(d) ? usize : sizeof(d));
	if (usize > sizeof(d) && pct(50))
		buf[sizeof(d) + rnd(usize - sizeof(d))] = 0x5a;	/* ignored */
	field("len", d.len);
	field("fd", d.fd);
	field("fd_flags", d.fd_flags);
	field("heap_flags", d.heap_flags);
	field("dir", dir);
	field("usize", usize);

	/* What the kernel sees: the part it copies in, zero-extended. */
	in_size = dir & _IOC_WRITE ? (usize < sizeof(d) ? usize : sizeof(d)) : 0;
	out_size = dir & _IOC_READ ? (usize < sizeof(d) ? usize : sizeof(d)) : 0;
	memset(&eff, 0, sizeof(eff));
	memcpy(&eff, &d, in_size);
	size = (eff.len + PAGE - 1) & ~(PAGE - 1);
	if (eff.fd || eff.fd_flags & ~(O_CLOEXEC | O_ACCMODE) ||
	    eff.heap_flags || !size)
		reject(EINVAL);
	else
		alloc_size_errors(size, false);

	fd = target(heap);
	limited = fdlimit_maybe();
	if (limited)
		reject(EMFILE);
	if (!out_size && !opt_threads) {
		/* the fd it installs is never reported: it is the lowest free */
		low = fcntl(info_fd, F_DUPFD_CLOEXEC, 0);
		if (low >= 0)
			close(low);
	}
	p = arg_place(buf, usize, in_size, out_size != 0);
	begin();
	fd = finish(ioctl(fd, _IOC(dir, 'H', 0, usize), p));
	fdlimit_restore();
	if (fd)
		return;
	tot_cache += size;
	if (out_size >= offsetof(struct dma_heap_allocation_data, fd_flags) &&
	    arg_fetch(&d, out_size))
		new_buf(d.fd, size, eff.fd_flags & O_ACCMODE, true, 0);
	else if (low >= 0 && fcntl(low, F_GETFD) >= 0)
		new_buf(low, size, eff.fd_flags & O_ACCMODE, true, 0);
}

static bool imp_known(const struct engine *eng, uint32_t h, int *idx)
{
	int i;

	for (i = 0; i < eng->nimps; i++) {
		if (eng->imp_handle[i] == h) {
			if (idx)
				*idx = i;
			return true;
		}
	}
	return false;
}

/* A handle this engine does not have (or, rarely, 0 or a huge one). */
static uint32_t unknown_handle(const struct engine *eng)
{
	uint32_t h;
	int tries;

	for (tries = 0; tries < 8; tries++) {
		h = pct(80) ? 1 + rnd(80) : boundary(1024);
		if (!imp_known(eng, h, NULL))
			return h;
	}
	return 0;
}

static bool engine_call_raced(void)
{
	if (C.relaxed)
		engines_unsure();
	return C.relaxed;
}

static void op_unimport(void);

static void op_import(void)
{
	static uint8_t buf[IOC_SIZE_MAX + 1];
	struct sgbuf_import im = { 0 };
	const struct fdent *be;
	struct fdent *dev = need(K_DEV);
	struct engine *eng;
	enum kind got;
	size_t usize;
	bool bad;
	void *p;
	int fd, i, ret;

	if (!dev)
		return;
	eng = dev->eng;
	if (eng->nimps >= MAX_IMPS) {
		op_unimport();
		return;
	}
	C.op = "IMPORT";
	im.fd = data_fd(K_BUF, NULL, 88, &got, &be);
	im.flags = fuzz_flags(SGBUF_IMPORT_VALID_FLAGS, 3, &bad);
	if (bad)
		reject(EINVAL);
	if (pct(2)) {
		im.handle = rnd64() | 1;
		reject(EINVAL);
	}
	if (pct(2)) {
		im.size = rnd64() | 1;
		reject(EINVAL);
	}
	im.reserved[0] = maybe_nonzero(2);
	im.reserved[1] = maybe_nonzero(2);
	if (im.reserved[0] || im.reserved[1])
		reject(EINVAL);
	allow(ENOMEM);
	switch (got) {
	case K_BAD:
		reject(EBADF);
		break;
	case K_STALE:
		C.loose = true;
		break;
	case K_BUF:
		allow(EIO);
		if (!be->sgbuf) {
			/* another exporter may refuse in its own way */
			allow(EINVAL);
			allow(EBUSY);
			allow(ENOSPC);
		}
		break;
	default:
		reject(EINVAL);
		break;
	}
	if (be && be->kind == K_BUF)
		mark_imported(be->obj);
	field("fd", (uint32_t)im.fd);
	field("flags", im.flags);
	field("handle", im.handle);
	field("size", im.size);
	field("rsv0", im.reserved[0]);
	field("rsv1", im.reserved[1]);
	usize = ioc_size(buf, &im, sizeof(im), SGBUF_IMPORT_SIZE_VER0, true);
	fd = target(dev);
	p = arg_place(buf, usize, usize, true);
	begin();
	ret = finish(ioctl(fd, ioc_cmd(SGBUF_IOCTL_IMPORT, usize, true), p));
	if (engine_call_raced()) {
		mark_all_imported();
		return;
	}
	if (ret || !arg_fetch(&im, sizeof(im)))
		return;
	if (eng->unsure && imp_known(eng, im.handle, &i)) {
		/* an UNIMPORT we did not see freed it: it is this one now */
		eng->imp_obj[i] = be ? be->obj : 0;
		eng->imp_size[i] = im.size;
		return;
	}
	if (!im.handle || im.handle > 1024 || imp_known(eng, im.handle, NULL) ||
	    (be && be->size && im.size != be->size)) {
		violation("IMPORT: handle %u (known: %d), size %#llx for a %#llx-byte buffer",
			  im.handle, imp_known(eng, im.handle, NULL),
			  (unsigned long long)im.size,
			  (unsigned long long)(be ? be->size : 0));
		return;
	}
	i = eng->nimps++;
	eng->imp_handle[i] = im.handle;
	eng->imp_obj[i] = be ? be->obj : 0;
	eng->imp_size[i] = im.size;
}

static void op_unimport(void)
{
	static uint8_t buf[IOC_SIZE_MAX + 1];
	struct sgbuf_unimport u = { 0 };
	struct fdent *dev = pick(K_DEV, has_imports);
	struct engine *eng;
	bool known;
	size_t usize;
	void *p;
	int fd, idx = -1;

	if (!dev)
		dev = need(K_DEV);
	if (!dev)
		return;
	eng = dev->eng;
	C.op = "UNIMPORT";
	if (eng->nimps && pct(90))
		u.handle = eng->imp_handle[rnd(eng->nimps)];
	else
		u.handle = unknown_handle(eng);
	known = imp_known(eng, u.handle, &idx);
	if (known) {
		allow(ENOMEM);
		if (eng->unsure)
			allow(ENOENT);
	} else if (eng->unsure) {
		allow(ENOENT);
	} else {
		reject(ENOENT);
		allow(ENOMEM);
	}
	if (pct(2)) {
		u.flags = rnd64() | 1;
		reject(EINVAL);
	}
	u.reserved = maybe_nonzero(2);
	if (u.reserved)
		reject(EINVAL);
	field("handle", u.handle);
	field("flags", u.flags);
	field("rsv", u.reserved);
	usize = ioc_size(buf, &u, sizeof(u), SGBUF_UNIMPORT_SIZE_VER0, true);
	fd = target(dev);
	p = arg_place(buf, usize, usize, false);
	begin();
	if (finish(ioctl(fd, ioc_cmd(SGBUF_IOCTL_UNIMPORT, usize, true), p)))
		return;
	engine_call_raced();
	if (known) {		/* gone, from whichever engine it was */
		eng->nimps--;
		eng->imp_handle[idx] = eng->imp_handle[eng->nimps];
		eng->imp_obj[idx] = eng->imp_obj[eng->nimps];
		eng->imp_size[idx] = eng->imp_size[eng->nimps];
	}
}

static bool is_syncf(const struct fdent *e)
{
	return e->kind == K_SYNCF;
}

static void op_submit(void)
{
	static uint8_t buf[IOC_SIZE_MAX + 1];
	struct sgbuf_submit s = { 0 };
	struct fdent *dev = pick(K_DEV, has_imports);
	const struct fdent *fe;
	struct engine *eng;
	bool need_src, need_dst, bad, limited;
	int si = -1, di = -1, fd, slot;
	uint64_t ssize = 0, dsize = 0;
	size_t usize;
	enum kind got;
	void *p;

	if (!dev) {
		op_import();
		return;
	}
	eng = dev->eng;
	C.op = "SUBMIT";
	s.op = 1 + rnd(4);
	if (pct(3)) {
		s.op = pct(50) ? rnd(8) : rnd64();
		if (s.op < SGBUF_JOB_FILL || s.op > SGBUF_JOB_CHECKSUM64)
			reject(EINVAL);
	}
	need_src = s.op == SGBUF_JOB_COPY || s.op == SGBUF_JOB_CHECKSUM ||
		   s.op == SGBUF_JOB_CHECKSUM64;
	need_dst = s.op == SGBUF_JOB_FILL || s.op == SGBUF_JOB_COPY;

	/* handles */
	if (need_src || pct(2)) {
		if (pct(95)) {
			si = rnd(eng->nimps);
			s.src = eng->imp_handle[si];
			ssize = eng->imp_size[si];
		} else {
			s.src = unknown_handle(eng);
		}
	}
	if (need_dst || pct(2)) {
		if (pct(95)) {
			di = rnd(eng->nimps);
			s.dst = eng->imp_handle[di];
			dsize = eng->imp_size[di];
		} else {
			s.dst = unknown_handle(eng);
		}
	}
	if (!s.src != !need_src || !s.dst != !need_dst)
		reject(EINVAL);
	if ((s.src && si < 0) || (s.dst && di < 0)) {
		if (eng->unsure) {
			/* it may exist, with any size */
			allow(ENOENT);
			allow(EINVAL);
		} else {
			reject(ENOENT);
		}
	} else if (eng->unsure) {
		allow(ENOENT);		/* known, but maybe gone */
	}

	/* ranges */
	if (need_src && need_dst && si >= 0 && di >= 0 &&
	    eng->imp_obj[si] == eng->imp_obj[di] && pct(90)) {
		/* one buffer: the two halves, unless an overlap is wanted */
		uint64_t half = ssize / 2;

		s.length = half ? 1 + rnd(half < 65536 ? half : 65536) : 1;
		s.src_offset = rnd(half - s.length + 1);
		s.dst_offset = half + rnd(half - s.length + 1);
		if (pct(50)) {
			uint64_t t = s.src_offset;

			s.src_offset = s.dst_offset;
			s.dst_offset = t;
		}
		if (!half)
			reject(EINVAL);
	} else {
		uint64_t lim = need_src && need_dst ?
			       (ssize < dsize ? ssize : dsize) :
			       (need_src ? ssize : dsize);

		pick_range(lim ? lim : PAGE, need_src ? &s.src_offset :
			   &s.dst_offset, &s.length, &bad);
		if (need_src && need_dst)
			s.dst_offset = s.length <= dsize ?
				       rnd(dsize - s.length + 1) : 0;
		if (pct(3))
			s.dst_offset = boundary(dsize);
	}
	if (!s.length)
		reject(EINVAL);
	if ((!need_src && s.src_offset) || (!need_dst && s.dst_offset))
		reject(EINVAL);
	if (need_src && si >= 0 &&
	    (s.src_offset > ssize || s.length > ssize - s.src_offset))
		reject(EINVAL);
	if (need_dst && di >= 0 &&
	    (s.dst_offset > dsize || s.length > dsize - s.dst_offset))
		reject(EINVAL);
	if (need_src && need_dst && si >= 0 && di >= 0 &&
	    eng->imp_obj[si] == eng->imp_obj[di] &&
	    s.src_offset < s.dst_offset + s.length &&
	    s.dst_offset < s.src_offset + s.length)
		reject(EINVAL);
	if (need_src && need_dst && si >= 0 && di >= 0 &&
	    !(eng->imp_obj[si] && eng->imp_obj[di]))
		allow(EINVAL);		/* sameness unknown */

	/* pattern, flags, fences */
	if (s.op == SGBUF_JOB_FILL)
		s.pattern = (uint32_t)rnd64();
	if (pct(3)) {
		s.pattern |= 1ULL << (32 + rnd(32));
		reject(EINVAL);
	}
	s.flags = (pct(15) ? SGBUF_SUBMIT_IN_FENCE : 0) |
		  (pct(25) ? SGBUF_SUBMIT_OUT_FENCE : 0);
	if (pct(2)) {
		s.flags |= 1ULL << (2 + rnd(62));
		reject(EINVAL);
	}
	if (s.flags & SGBUF_SUBMIT_IN_FENCE) {
		s.in_fence_fd = data_fd(K_SYNCF, is_syncf, 85, &got, &fe);
		if (got == K_STALE)
			C.loose = true;
		else if (got != K_SYNCF)
			reject(EINVAL);
	} else if (pct(2)) {
		s.in_fence_fd = rnd64() | 1;
		reject(EINVAL);
	}
	if (pct(1)) {
		s.seqno = rnd64() | 1;
		reject(EINVAL);
	}
	if (pct(1)) {
		s.out_fence_fd = rnd64() | 1;
		reject(EINVAL);
	}
	if (pct(1)) {
		s.pad = rnd64() | 1;
		reject(EINVAL);
	}
	s.reserved[0] = maybe_nonzero(1);
	s.reserved[1] = maybe_nonzero(1);
	if (s.reserved[0] || s.reserved[1])
		reject(EINVAL);
	allow(EBUSY);
	allow(ENOMEM);
	limited = (s.flags & SGBUF_SUBMIT_OUT_FENCE) && fdlimit_maybe();
	if (limited)
		reject(EMFILE);
	field("op", s.op);
	field("src", s.src);
	field("dst", s.dst);
	field("in_fence_fd", (uint32_t)s.in_fence_fd);
	field("flags", s.flags);
	field("src_offset", s.src_offset);
	field("dst_offset", s.dst_offset);
	field("length", s.length);
	field("pattern", s.pattern);
	if (s.seqno || s.out_fence_fd || s.pad || s.reserved[0] ||
	    s.reserved[1]) {
		field("seqno", s.seqno);
		field("out_fence_fd", (uint32_t)s.out_fence_fd);
		field("pad", s.pad);
		field("rsv0", s.reserved[0]);
		field("rsv1", s.reserved[1]);
	}
	usize = ioc_size(buf, &s, sizeof(s), SGBUF_SUBMIT_SIZE_VER0, true);
	fd = target(dev);
	p = arg_place(buf, usize, usize, true);
	begin();
	fd = finish(ioctl(fd, ioc_cmd(SGBUF_IOCTL_SUBMIT, usize, true), p));
	fdlimit_restore();
	if (engine_call_raced())
		return;
	if (fd) {
		if (C.err == EFAULT)	/* maybe after it was queued */
			eng->seqno_known = false;
		return;
	}
	if (!arg_fetch(&s, sizeof(s))) {
		eng->seqno_known = false;
		return;
	}
	if (eng->seqno_known && s.seqno != eng->last_seqno + 1) {
		violation("SUBMIT: seqno %llu after %llu",
			  (unsigned long long)s.seqno,
			  (unsigned long long)eng->last_seqno);
		return;
	}
	eng->last_seqno = s.seqno;
	eng->seqno_known = true;
	slot = s.seqno % RESULTS;
	eng->rec_seqno[slot] = s.seqno;
	eng->rec_op[slot] = s.op;
	if (s.flags & SGBUF_SUBMIT_OUT_FENCE)
		pool_add(s.out_fence_fd, K_SYNCF);
}

static void op_wait(void)
{
	static uint8_t buf[IOC_SIZE_MAX + 1];
	struct sgbuf_wait w = { 0 };
	struct fdent *dev = need(K_DEV);
	struct engine *eng;
	uint64_t last;
	size_t usize;
	unsigned int r;
	void *p;
	int fd, slot;

	if (!dev)
		return;
	eng = dev->eng;
	last = eng->last_seqno;
	C.op = "WAIT";
	r = rnd(100);
	if (r < 75 && last)
		w.seqno = last - rnd(last < 300 ? last : 300);
	else if (r < 85)
		w.seqno = last + 1 + rnd(3);
	else if (r < 90)
		w.seqno = 0;
	else
		w.seqno = boundary(last);
	r = rnd(100);
	if (r < 35)
		w.timeout_ns = 0;
	else if (r < 80)
		w.timeout_ns = rnd(2000000);
	else if (r < 90)
		w.timeout_ns = -1;
	else
		w.timeout_ns = boundary(1000000000);
	C.watchdog = w.timeout_ns != 0;
	if (pct(1)) {
		w.status = rnd64() | 1;
		reject(EINVAL);
	}
	if (pct(1)) {
		w.checksum = rnd64() | 1;
		reject(EINVAL);
	}
	w.checksum64 = maybe_nonzero(1);
	w.flags = maybe_nonzero(1);
	w.reserved[0] = maybe_nonzero(1);
	if (w.checksum64 || w.flags || w.reserved[0])
		reject(EINVAL);
	allow(ENOMEM);
	if (!eng->seqno_known) {
		allow(EINVAL);
		allow(ENOENT);
		allow(ETIME);
	} else if (!w.seqno || w.seqno > last) {
		reject(EINVAL);
	} else if (last >= w.seqno + RESULTS) {
		reject(ENOENT);
	} else {
		allow(ETIME);
	}
	field("seqno", w.seqno);
	field("timeout_ns", w.timeout_ns);
	field("status", (uint32_t)w.status);
	field("checksum", w.checksum);
	field("checksum64", w.checksum64);
	field("flags", w.flags);
	field("rsv", w.reserved[0]);
	usize = ioc_size(buf, &w, sizeof(w), SGBUF_WAIT_SIZE_VER0, true);
	fd = target(dev);
	p = arg_place(buf, usize, usize, true);
	begin();
	if (finish(ioctl(fd, ioc_cmd(SGBUF_IOCTL_WAIT, usize, true), p)))
		return;
	if (engine_call_raced() || !arg_fetch(&w, sizeof(w)))
		return;
	if (w.status > 0 || w.status < -4095 ||
	    (w.status && (w.checksum || w.checksum64))) {
		violation("WAIT %llu: status %d checksum %#x checksum64 %#llx",
			  (unsigned long long)w.seqno, w.status, w.checksum,
			  (unsigned long long)w.checksum64);
		return;
	}
	slot = w.seqno % RESULTS;
	if (eng->seqno_known && eng->rec_seqno[slot] == w.seqno) {
		uint32_t op = eng->rec_op[slot];
		bool ok;

		if (op == SGBUF_JOB_CHECKSUM64)
			ok = w.checksum == (uint32_t)w.checksum64;
		else if (op == SGBUF_JOB_CHECKSUM)
			ok = !w.checksum64;
		else
			ok = !w.checksum && !w.checksum64;
		if (!ok)
			violation("WAIT %llu: a job of op %u returned checksum %#x checksum64 %#llx",
				  (unsigned long long)w.seqno, op, w.checksum,
				  (unsigned long long)w.checksum64);
	}
}

static void op_config(void)
{
	static uint8_t buf[IOC_SIZE_MAX + 1];
	struct sgbuf_engine_config c = { 0 };
	struct fdent *dev = need(K_DEV);
	size_t usize;
	void *p;
	int fd;

	if (!dev)
		return;
	C.op = "ENGINE_CONFIG";
	c.bandwidth = pct(60) ? 0 : pct(60) ? (1ULL << 30) + rnd64() % (1ULL << 34) :
		      boundary(1 << 20);
	c.latency_ns = pct(70) ? 0 : pct(80) ? rnd(100000) : boundary(10000000000ULL);
	c.queue_depth = pct(90) ? 1 + rnd(SGBUF_MAX_QUEUE_DEPTH) :
				  boundary(SGBUF_MAX_QUEUE_DEPTH);
	c.fail_seqno = pct(70) ? 0 : dev->eng->last_seqno + rnd(4);
	c.fail_error = pct(60) ? 0 : pct(90) ? -(int)(1 + rnd(4095)) :
		       (int)boundary(4095);
	if (pct(2))
		c.flags = rnd64() | 1;
	if (pct(2))
		c.pad = rnd64() | 1;
	c.reserved[0] = maybe_nonzero(2);
	c.reserved[1] = maybe_nonzero(2);
	if (!c.queue_depth || c.queue_depth > SGBUF_MAX_QUEUE_DEPTH ||
	    c.latency_ns > 10000000000ULL || c.flags || c.pad ||
	    c.reserved[0] || c.reserved[1] || c.fail_error > 0 ||
	    c.fail_error < -4095)
		reject(EINVAL);
	allow(ENOMEM);
	field("bandwidth", c.bandwidth);
	field("latency_ns", c.latency_ns);
	field("queue_depth", c.queue_depth);
	field("flags", c.flags);
	field("fail_seqno", c.fail_seqno);
	field("fail_error", (uint32_t)c.fail_error);
	field("pad", c.pad);
	field("rsv0", c.reserved[0]);
	field("rsv1", c.reserved[1]);
	usize = ioc_size(buf, &c, sizeof(c), SGBUF_ENGINE_CONFIG_SIZE_VER0,
			 true);
	fd = target(dev);
	p = arg_place(buf, usize, usize, false);
	begin();
	finish(ioctl(fd, ioc_cmd(SGBUF_IOCTL_ENGINE_CONFIG, usize, true), p));
}

static int swf_find(const struct engine *eng, uint32_t id)
{
	int i;

	for (i = 0; i < eng->nswf; i++)
		if (eng->swf_id[i] == id)
			return i;
	return -1;
}

static void op_swf_create(void)
{
	static uint8_t buf[IOC_SIZE_MAX + 1];
	struct sgbuf_sw_fence f = { 0 };
	struct fdent *dev = need(K_DEV);
	struct engine *eng;
	size_t usize;
	bool limited;
	void *p;
	int fd, i;

	if (!dev)
		return;
	eng = dev->eng;
	C.op = "SW_FENCE_CREATE";
	if (eng->nswf >= MAX_SWF) {
		/* forget the oldest */
		memmove(eng->swf_id, eng->swf_id + 1,
			(MAX_SWF - 1) * sizeof(eng->swf_id[0]));
		memmove(eng->swf_signalled, eng->swf_signalled + 1,
			(MAX_SWF - 1) * sizeof(eng->swf_signalled[0]));
		eng->nswf--;
		eng->unsure = true;
	}
	f.flags = maybe_nonzero(2);
	if (pct(1))
		f.fence_fd = rnd64() | 1;
	if (pct(1))
		f.id = rnd64() | 1;
	f.reserved[0] = maybe_nonzero(1);
	f.reserved[1] = maybe_nonzero(1);
	if (f.flags || f.fence_fd || f.id || f.reserved[0] || f.reserved[1])
		reject(EINVAL);
	allow(ENOMEM);
	limited = fdlimit_maybe();
	if (limited)
		reject(EMFILE);
	field("flags", f.flags);
	field("fence_fd", (uint32_t)f.fence_fd);
	field("id", f.id);
	field("rsv0", f.reserved[0]);
	field("rsv1", f.reserved[1]);
	usize = ioc_size(buf, &f, sizeof(f), SGBUF_SW_FENCE_SIZE_VER0, true);
	fd = target(dev);
	p = arg_place(buf, usize, usize, true);
	begin();
	fd = finish(ioctl(fd, ioc_cmd(SGBUF_IOCTL_SW_FENCE_CREATE, usize, true),
			  p));
	fdlimit_restore();
	if (engine_call_raced() || fd || !arg_fetch(&f, sizeof(f)))
		return;
	if (!f.id || f.id > 1024) {
		violation("SW_FENCE_CREATE: id %u", f.id);
		return;
	}
	/* an id comes back once its fence signalled, or timed out */
	i = swf_find(eng, f.id);
	if (i < 0)
		i = eng->nswf++;
	eng->swf_id[i] = f.id;
	eng->swf_signalled[i] = false;
	pool_add(f.fence_fd, K_SYNCF);
}

static void op_swf_signal(void)
{
	static uint8_t buf[IOC_SIZE_MAX + 1];
	struct sgbuf_sw_signal s = { 0 };
	struct fdent *dev = need(K_DEV);
	struct engine *eng;
	size_t usize;
	void *p;
	int fd, i;

	if (!dev)
		return;
	eng = dev->eng;
	C.op = "SW_FENCE_SIGNAL";
	if (eng->nswf && pct(85))
		s.id = eng->swf_id[rnd(eng->nswf)];
	else
		s.id = pct(70) ? 1 + rnd(40) : boundary(1024);
	s.error = pct(60) ? 0 : pct(85) ? -(int)(1 + rnd(4095)) :
		  (int)boundary(4095);
	s.flags = maybe_nonzero(2);
	s.reserved = maybe_nonzero(2);
	if (s.flags || s.reserved || s.error > 0 || s.error < -4095)
		reject(EINVAL);
	i = swf_find(eng, s.id);
	/* an unsignalled one may have timed out */
	if ((i >= 0 && !eng->swf_signalled[i]) || eng->unsure)
		allow(ENOENT);
	else
		reject(ENOENT);
	allow(ENOMEM);
	field("id", s.id);
	field("error", (uint32_t)s.error);
	field("flags", s.flags);
	field("rsv", s.reserved);
	usize = ioc_size(buf, &s, sizeof(s), SGBUF_SW_SIGNAL_SIZE_VER0, true);
	fd = target(dev);
	p = arg_place(buf, usize, usize, false);
	begin();
	fd = finish(ioctl(fd, ioc_cmd(SGBUF_IOCTL_SW_FENCE_SIGNAL, usize, true),
			  p));
	if (engine_call_raced())
		return;
	if (i >= 0 && (!fd || C.err == ENOENT))
		eng->swf_signalled[i] = true;
}

/* --------------------------------------------------- dma-buf core ioctls */

static void foreign_allowances(const struct fdent *b)
{
	/* another exporter's callbacks: udmabuf refuses an END before START */
	if (!b->sgbuf) {
		allow(EINVAL);
		allow(ENOMEM);
		allow(EIO);
	}
}

static void op_dmabuf_sync(void)
{
	struct dma_buf_sync s = { 0 };
	struct fdent *b = pick(K_BUF, NULL);
	bool bad;
	void *p;
	int fd;

	if (!b) {
		op_alloc();
		return;
	}
	C.op = "DMA_BUF_SYNC";
	s.flags = fuzz_flags(DMA_BUF_SYNC_VALID_FLAGS_MASK, 4, &bad);
	if (pct(97))
		s.flags |= 1 + rnd(3);
	if (bad || !(s.flags & DMA_BUF_SYNC_RW))
		reject(EINVAL);
	foreign_allowances(b);
	if (!(s.flags & DMA_BUF_SYNC_END))
		C.watchdog = true;
	field("flags", s.flags);
	fd = target(b);
	p = arg_place(&s, sizeof(s), sizeof(s), false);
	begin();
	finish(ioctl(fd, DMA_BUF_IOCTL_SYNC, p));
}

static void op_set_name(void)
{
	struct fdent *b = pick(K_BUF, NULL);
	char name[48];
	size_t len, i;
	void *p;
	int fd;

	if (!b) {
		op_alloc();
		return;
	}
	C.op = "DMA_BUF_SET_NAME";
	len = pct(75) ? rnd(DMA_BUF_NAME_LEN) : DMA_BUF_NAME_LEN - 1 + rnd(10);
	for (i = 0; i < len; i++)
		name[i] = pct(90) ? 0x20 + rnd(0x5f) : 1 + rnd(255);
	name[len] = '\0';
	memcpy(C.str, name, len + 1);
	if (len >= DMA_BUF_NAME_LEN)
		reject(EINVAL);
	allow(ENOMEM);
	field("len", len);
	fd = target(b);
	p = arg_place(name, len + 1,
		      len + 1 < DMA_BUF_NAME_LEN ? len + 1 : DMA_BUF_NAME_LEN,
		      false);
	begin();
	finish(ioctl(fd, pct(50) ? DMA_BUF_SET_NAME_A : DMA_BUF_SET_NAME_B,
		     p));
}

static void op_export_sf(void)
{
	struct dma_buf_export_sync_file e = { 0 };
	struct fdent *b = pick(K_BUF, NULL);
	bool bad, limited;
	void *p;
	int fd;

	if (!b) {
		op_alloc();
		return;
	}
	if (count_kind(K_SYNCF) >= 40) {
		b = pick(K_SYNCF, NULL);
		C.op = "close-syncf";
		field("fd", b->fd);
		track_fd(b->fd);
		begin();
		finish(close(b->fd));
		remember_closed(b->fd);
		pool_del(b);
		return;
	}
	C.op = "DMA_BUF_EXPORT_SYNC_FILE";
	e.flags = fuzz_flags32(DMA_BUF_SYNC_RW, 4, &bad);
	if (pct(95))
		e.flags |= 1 + rnd(3);
	if (bad || !(e.flags & DMA_BUF_SYNC_RW))
		reject(EINVAL);
	e.fd = pct(80) ? -1 : (int)rnd64();	/* output only */
	allow(ENOMEM);
	limited = fdlimit_maybe();
	if (limited)
		reject(EMFILE);
	field("flags", e.flags);
	field("fd", (uint32_t)e.fd);
	fd = target(b);
	p = arg_place(&e, sizeof(e), sizeof(e), true);
	begin();
	fd = finish(ioctl(fd, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, p));
	fdlimit_restore();
	if (!fd && arg_fetch(&e, sizeof(e)))
		pool_add(e.fd, K_SYNCF);
}

static void op_import_sf(void)
{
	struct dma_buf_import_sync_file im = { 0 };
	struct fdent *b = pick(K_BUF, NULL);
	const struct fdent *fe;
	enum kind got;
	bool bad;
	void *p;
	int fd;

	if (!b) {
		op_alloc();
		return;
	}
	C.op = "DMA_BUF_IMPORT_SYNC_FILE";
	im.flags = fuzz_flags32(DMA_BUF_SYNC_RW, 4, &bad);
	if (pct(95))
		im.flags |= 1 + rnd(3);
	if (bad || !(im.flags & DMA_BUF_SYNC_RW))
		reject(EINVAL);
	im.fd = data_fd(K_SYNCF, is_syncf, 90, &got, &fe);
	if (got == K_STALE)
		C.loose = true;
	else if (got != K_SYNCF)
		reject(EINVAL);
	allow(ENOMEM);
	field("flags", im.flags);
	field("fd", (uint32_t)im.fd);
	fd = target(b);
	p = arg_place(&im, sizeof(im), sizeof(im), false);
	begin();
	finish(ioctl(fd, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, p));
}

/* ------------------------------------------------------------- mappings */

static void op_munmap(void);

static void op_mmap(void)
{
	static const int prots[] = {
		PROT_READ | PROT_WRITE, PROT_READ | PROT_WRITE, PROT_READ,
		PROT_READ, PROT_WRITE, PROT_NONE, PROT_READ | PROT_EXEC,
	};
	struct fdent *b;
	enum kind got = K_BUF;
	uint64_t size, off, len;
	int s, prot, flags, fd;
	unsigned int r;
	void *addr;
	bool sg;

	s = map_free_slot();
	if (s < 0) {
		op_munmap();
		return;
	}
	r = rnd(100);
	b = r < 85 ? pick(K_BUF, NULL) : r < 93 ? pick(K_MEMFD, NULL) :
		     pick(K_NKINDS, NULL);
	if (!b) {
		op_alloc();
		return;
	}
	C.op = "mmap";
	fd = b->fd;
	if (pct(3)) {
		fd = bad_fd(&got);
		b = NULL;
	} else {
		got = b->kind;
	}
	track_fd(fd);
	size = b && b->kind == K_BUF ? b->size : 16 * PAGE;
	r = rnd(100);
	off = r < 60 ? 0 : r < 85 ? rnd(size / PAGE) * PAGE : boundary(size);
	r = rnd(100);
	if (r < 60)
		len = size > off ? size - off : PAGE;
	else if (r < 90)
		len = size > off ? (1 + rnd((size - off) / PAGE)) * PAGE : PAGE;
	else
		len = boundary(size);
	prot = prots[rnd(ARRAY_SIZE(prots))];
	r = rnd(100);
	flags = r < 85 ? MAP_SHARED : r < 91 ? MAP_PRIVATE :
		r < 94 ? MAP_SHARED_VALIDATE : MAP_SHARED | MAP_POPULATE;
	if (flags == MAP_SHARED_VALIDATE && pct(50))
		flags |= 1 << (28 + rnd(3));	/* unknown to every kernel */
	field("fd", (uint32_t)fd);
	field("offset", off);
	field("len", len);
	field("prot", prot);
	field("flags", flags);

	sg = b && b->kind == K_BUF && b->sgbuf && b->size;
	if (got == K_BAD) {
		reject(EBADF);
		/* the arguments are checked before the fd */
		allow(EINVAL);
		allow(ENOMEM);
		allow(EOVERFLOW);
	} else if (got == K_STALE || !sg) {
		C.loose = true;
		if (got != K_BUF && got != K_MEMFD)
			C.must_fail = true;	/* no mmap: ENODEV or worse */
	} else {
		bool rd = b->acc == O_RDONLY || b->acc == O_RDWR;
		bool wr = b->acc == O_RDWR;

		int type = flags & MAP_TYPE;

		if (!rd || (type != MAP_PRIVATE && (prot & PROT_WRITE) && !wr))
			reject(EACCES);
		if (type == MAP_PRIVATE)
			reject(EINVAL);
		if (type == MAP_SHARED_VALIDATE && flags & ~MAP_SHARED_VALIDATE)
			allow(EOPNOTSUPP);	/* which bits are known varies */
		if (!len || off % PAGE || off > size || len > size - off) {
			/* the mm checks the huge ones first */
			reject(EINVAL);
			allow(ENOMEM);
			allow(EOVERFLOW);
		}
		if (prot & PROT_EXEC) {
			allow(EPERM);
			allow(EACCES);
		}
		allow(ENOMEM);
	}
	pthread_mutex_lock(&map_lock);
	begin();
	addr = mmap(NULL, len, prot, flags, fd, off);
	finish(addr == MAP_FAILED ? -1 : 0);
	if (addr != MAP_FAILED) {
		maps[s].used = true;
		maps[s].addr = addr;
		maps[s].len = len;
		maps[s].prot = prot;
		maps[s].sgbuf = sg && !C.relaxed;
		maps[s].obj = sg ? b->obj : 0;
		maps[s].rdonly_file = sg && b->acc == O_RDONLY;
		maps[s].zapped = false;
		maps[s].ereg = C.e0;
		/* a mapping C.must_fail refused: never touch it */
		if (C.must_fail)
			maps[s].prot = PROT_NONE;
	}
	pthread_mutex_unlock(&map_lock);
}

static void op_munmap(void)
{
	int s = map_pick(NULL);
	size_t pages, k;
	unsigned int r;

	if (s < 0) {
		op_mmap();
		return;
	}
	C.op = "munmap";
	C.tmap = s;
	pages = maps[s].len / PAGE;
	r = rnd(100);
	pthread_mutex_lock(&map_lock);
	if (r < 75 || pages < 2) {
		field("addr", (uintptr_t)maps[s].addr);
		field("len", maps[s].len);
		begin();
		finish(munmap(maps[s].addr, maps[s].len));
		maps[s].used = false;
	} else {
		k = 1 + rnd(pages - 1);
		if (r < 88) {		/* the head */
			field("addr", (uintptr_t)maps[s].addr);
			field("len", k * PAGE);
			begin();
			if (!finish(munmap(maps[s].addr, k * PAGE))) {
				maps[s].addr += k * PAGE;
				maps[s].len -= k * PAGE;
			}
		} else {		/* the tail */
			field("addr", (uintptr_t)maps[s].addr + k * PAGE);
			field("len", maps[s].len - k * PAGE);
			begin();
			if (!finish(munmap(maps[s].addr + k * PAGE,
					   maps[s].len - k * PAGE)))
				maps[s].len = k * PAGE;
		}
	}
	pthread_mutex_unlock(&map_lock);
}

static void op_mremap(void)
{
	int s = map_pick(NULL), flags = 0;
	size_t old, new_len, pages;
	void *res, *dest = NULL;
	unsigned int r;
	bool sg;

	if (s < 0) {
		op_mmap();
		return;
	}
	C.op = "mremap";
	C.tmap = s;
	sg = maps[s].sgbuf;
	old = maps[s].len;
	pages = old / PAGE;
	r = rnd(100);
	if (r < 30 && pages > 1) {
		new_len = (1 + rnd(pages - 1)) * PAGE;		/* shrink */
		allow(ENOMEM);
	} else if (r < 55) {
		new_len = old + (1 + rnd(16)) * PAGE;		/* grow */
		flags = pct(50) ? MREMAP_MAYMOVE : 0;
		if (sg) {
			reject(EFAULT);
			allow(ENOMEM);
		} else {
			C.loose = true;
		}
	} else if (r < 75) {
		new_len = old;					/* move */
		flags = MREMAP_MAYMOVE | MREMAP_FIXED;
		allow(ENOMEM);
		allow(EINVAL);
	} else if (r < 85) {
		new_len = old;					/* duplicate */
		old = 0;
		flags = MREMAP_MAYMOVE;
		if (sg) {
			reject(EFAULT);
			allow(EINVAL);
			allow(ENOMEM);
		} else {
			C.loose = true;
		}
	} else if (r < 95) {
		new_len = old;
		flags = MREMAP_MAYMOVE | MREMAP_DONTUNMAP;
		if (sg) {
			reject(EINVAL);
			allow(EFAULT);
			allow(ENOMEM);
		} else {
			C.loose = true;
		}
	} else {
		new_len = boundary(old);
		flags = rnd(8);
		C.loose = true;
		if (sg && new_len > old)
			C.must_fail = true;
	}
	/* a partial madvise() may have split the mapping: EFAULT */
	allow(EFAULT);
	field("addr", (uintptr_t)maps[s].addr);
	field("old_len", old);
	field("new_len", new_len);
	field("flags", flags);

	pthread_mutex_lock(&map_lock);
	if (flags & MREMAP_FIXED) {
		dest = mmap(NULL, new_len, PROT_NONE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (dest == MAP_FAILED) {
			pthread_mutex_unlock(&map_lock);
			return;
		}
	}
	begin();
	res = mremap(maps[s].addr, old, new_len, flags, dest);
	finish(res == MAP_FAILED ? -1 : 0);
	if (res == MAP_FAILED) {
		if (dest)
			munmap(dest, new_len);
	} else if (!old || (flags & MREMAP_DONTUNMAP) ||
		   new_len > maps[s].len || C.must_fail) {
		/* a second mapping, or one that must not exist: drop both */
		if (res != maps[s].addr)
			munmap(res, new_len);
		munmap(maps[s].addr, maps[s].len);
		maps[s].used = false;
	} else {
		maps[s].addr = res;
		maps[s].len = new_len;
	}
	pthread_mutex_unlock(&map_lock);
}

static void op_mprotect(void)
{
	static const int prots[] = {
		PROT_READ, PROT_READ | PROT_WRITE, PROT_NONE, PROT_WRITE,
		PROT_READ | PROT_EXEC,
	};
	int s = map_pick(NULL), prot;

	if (s < 0) {
		op_mmap();
		return;
	}
	C.op = "mprotect";
	C.tmap = s;
	prot = prots[rnd(ARRAY_SIZE(prots))];
	if (maps[s].sgbuf && maps[s].rdonly_file && (prot & PROT_WRITE))
		reject(EACCES);
	if (!maps[s].sgbuf)
		C.loose = true;
	if (prot & PROT_EXEC) {
		allow(EACCES);
		allow(EPERM);
	}
	allow(ENOMEM);
	field("addr", (uintptr_t)maps[s].addr);
	field("len", maps[s].len);
	field("prot", prot);
	begin();
	if (!finish(mprotect(maps[s].addr, maps[s].len, prot)) && !C.relaxed)
		maps[s].prot = prot;
	else if (!C.relaxed && C.ret == 0)
		maps[s].prot = prot;
}

static bool advice_keeps_ptes(int advice)
{
	switch (advice) {
	case MADV_NORMAL: case MADV_RANDOM: case MADV_SEQUENTIAL:
	case MADV_WILLNEED: case MADV_DONTFORK: case MADV_DOFORK:
	case MADV_DONTDUMP: case MADV_DODUMP: case MADV_HUGEPAGE:
	case MADV_NOHUGEPAGE: case MADV_MERGEABLE: case MADV_UNMERGEABLE:
	case MADV_KEEPONFORK: case MADV_WIPEONFORK:
		return true;
	default:
		return false;
	}
}

static void op_madvise(void)
{
	static const int advice[] = {
		MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL, MADV_WILLNEED,
		MADV_DONTNEED, MADV_DONTFORK, MADV_DOFORK, MADV_DONTDUMP,
		MADV_DODUMP, MADV_COLD, MADV_PAGEOUT, MADV_FREE, MADV_REMOVE,
		MADV_MERGEABLE, MADV_UNMERGEABLE, MADV_HUGEPAGE,
		MADV_NOHUGEPAGE, MADV_WIPEONFORK, MADV_KEEPONFORK,
		22 /* POPULATE_READ */, 23 /* POPULATE_WRITE */,
		24 /* DONTNEED_LOCKED */, 25 /* COLLAPSE */,
	};
	int s = map_pick(NULL), a;
	size_t off, len;

	if (s < 0) {
		op_mmap();
		return;
	}
	C.op = "madvise";
	C.tmap = s;
	C.loose = true;
	a = pct(90) ? advice[rnd(ARRAY_SIZE(advice))] : (int)rnd(32);
	off = pct(70) ? 0 : rnd(maps[s].len / PAGE) * PAGE;
	len = maps[s].len - off;
	field("addr", (uintptr_t)maps[s].addr + off);
	field("len", len);
	field("advice", a);
	begin();
	if (!finish(madvise(maps[s].addr + off, len, a)) && !advice_keeps_ptes(a))
		maps[s].zapped = true;
}

static void op_touch(void)
{
	static uint8_t scratch[1 << 16];
	int s = map_pick(NULL), sig;
	size_t off, len;
	bool write, expect_fault;
	struct mslot m;

	if (s < 0) {
		op_mmap();
		return;
	}
	m = maps[s];
	C.op = "touch";
	C.tmap = s;
	write = pct(45);
	off = rnd(m.len);
	len = 1 + rnd(pct(80) ? 64 : sizeof(scratch));
	if (len > m.len - off)
		len = m.len - off;
	field("addr", (uintptr_t)m.addr + off);
	field("len", len);
	field("write", write);
	expect_fault = write ? !(m.prot & PROT_WRITE) :
			       !(m.prot & (PROT_READ | PROT_WRITE));
	begin();
	if (write)
		sig = pct(50) ? safe_set(m.addr + off, rnd(256), len) :
				safe_copy(m.addr + off, scratch, len);
	else
		sig = safe_copy(scratch, m.addr + off, len);
	C.e0 = C.e0 < m.ereg ? C.e0 : m.ereg;	/* since the mapping was made */
	C.relaxed = racer_touched();
	C.ret = sig ? -1 : 0;
	C.err = sig ? EFAULT : 0;
	if (tracing)
		printf("#   = %s%s\n", sig ? strsignal(sig) : "0",
		       C.relaxed ? " (raced)" : "");
	C.done = true;
	if (!m.sgbuf || m.zapped || C.relaxed)
		return;
	if (sig && !expect_fault)
		violation("touch: %s of %zu bytes at %#zx of a %zu-byte sgbuf mapping (prot %d) faulted (%s)",
			  write ? "write" : "read", len, off, m.len, m.prot,
			  strsignal(sig));
	else if (!sig && expect_fault && !(m.prot & PROT_READ) == !write)
		violation("touch: %s of a mapping with prot %d did not fault",
			  write ? "write" : "read", m.prot);
}

/* ------------------------------------------------------------ the rest */

static void op_poll(void)
{
	struct pollfd p[4];
	int n = 1 + rnd(4), i, timeout;
	enum kind got;

	C.op = "poll";
	for (i = 0; i < n; i++) {
		const struct fdent *e = pct(92) ? pick(K_NKINDS, NULL) : NULL;

		p[i].fd = e ? e->fd : bad_fd(&got);
		p[i].events = (pct(70) ? POLLIN : 0) | (pct(70) ? POLLOUT : 0) |
			      (pct(10) ? POLLPRI : 0);
		p[i].revents = 0;
		field("fd", (uint32_t)p[i].fd);
		field("events", p[i].events);
	}
	timeout = pct(70) ? 0 : 1 + rnd(5);
	field("timeout", timeout);
	begin();
	finish(poll(p, n, timeout));
}

static void op_close(void)
{
	struct fdent *e = pick(K_NKINDS, NULL);

	if (!e) {
		op_open_dev();
		return;
	}
	C.op = "close";
	field("fd", e->fd);
	field("kind", e->kind);
	track_fd(e->fd);
	begin();
	finish(close(e->fd));
	remember_closed(e->fd);
	pool_del(e);
}

static void op_dup(void)
{
	struct fdent *e = pick(K_NKINDS, NULL), *t, *n, copy;
	unsigned int r = rnd(100);
	int fd;

	if (!e) {
		op_open_dev();
		return;
	}
	if (npool >= MAX_FDS - 4) {
		op_close();
		return;
	}
	copy = *e;
	allow(EMFILE);
	track_fd(e->fd);
	t = r < 70 ? pick(K_NKINDS, NULL) : NULL;
	if (r < 40) {
		C.op = "dup";
		field("fd", e->fd);
		begin();
		fd = finish(dup(e->fd));
	} else if (t && t != e) {
		C.op = "dup3";
		field("fd", e->fd);
		field("onto", t->fd);
		track_fd(t->fd);
		begin();
		fd = finish(dup3(e->fd, t->fd, pct(50) ? O_CLOEXEC : 0));
		if (fd < 0)
			return;
		pool_del(t);	/* its file is closed: e may have moved */
	} else {
		C.op = "F_DUPFD_CLOEXEC";
		field("fd", e->fd);
		field("min", r);
		begin();
		fd = finish(fcntl(e->fd, F_DUPFD_CLOEXEC, (int)r));
	}
	if (fd < 0)
		return;
	/*
	 * A racer may have closed or dup2()ed over e's number since e was
	 * registered: the copy would then be of another file than e says,
	 * and inherit the wrong kind. Keep no copy of a file that may have
	 * changed under us.
	 */
	if (opt_threads && (load64(&fdgen[copy.fd]) >= copy.ereg ||
			    racer_touched())) {
		close(fd);
		return;
	}
	n = pool_add(fd, copy.kind);
	if (!n)
		return;
	n->size = copy.size;
	n->obj = copy.obj;
	n->acc = copy.acc;
	n->sgbuf = copy.sgbuf;
	n->eng = copy.eng;
	if (n->eng)
		n->eng->refs++;
}

/* Is @cmd an ioctl that a file of kind @k handles? */
static bool handled(enum kind k, unsigned int cmd)
{
	static const unsigned int dev_cmds[] = {
		SGBUF_IOCTL_ALLOC, SGBUF_IOCTL_GET_INFO, SGBUF_IOCTL_SYNC_RANGE,
		SGBUF_IOCTL_IMPORT, SGBUF_IOCTL_UNIMPORT, SGBUF_IOCTL_SUBMIT,
		SGBUF_IOCTL_WAIT, SGBUF_IOCTL_ENGINE_CONFIG,
		SGBUF_IOCTL_SW_FENCE_CREATE, SGBUF_IOCTL_SW_FENCE_SIGNAL,
	};
	static const unsigned int buf_cmds[] = {
		DMA_BUF_IOCTL_SYNC, DMA_BUF_SET_NAME_A, DMA_BUF_SET_NAME_B,
		DMA_BUF_IOCTL_EXPORT_SYNC_FILE, DMA_BUF_IOCTL_IMPORT_SYNC_FILE,
	};
	static const unsigned int sync_cmds[] = {
		SYNC_IOC_MERGE, SYNC_IOC_FILE_INFO, SYNC_IOC_SET_DEADLINE,
	};
	unsigned int i;

	switch (k) {
	case K_DEV:
		/* type, number and direction; the size may be anything */
		for (i = 0; i < ARRAY_SIZE(dev_cmds); i++)
			if (_IOC_TYPE(cmd) == SGBUF_IOC_MAGIC &&
			    _IOC_NR(cmd) == _IOC_NR(dev_cmds[i]) &&
			    _IOC_DIR(cmd) == _IOC_DIR(dev_cmds[i]))
				return true;
		return false;
	case K_HEAP:
		return _IOC_TYPE(cmd) == DMA_HEAP_IOC_MAGIC && !_IOC_NR(cmd);
	case K_BUF:
		for (i = 0; i < ARRAY_SIZE(buf_cmds); i++)
			if (cmd == buf_cmds[i])
				return true;
		return false;
	case K_SYNCF:
		for (i = 0; i < ARRAY_SIZE(sync_cmds); i++)
			if (cmd == sync_cmds[i])
				return true;
		return false;
	default:
		/* memfd, pipe, /dev/null: none of these ioctl types */
		return false;
	}
}

static void op_bad_ioctl(void)
{
	static const unsigned int types[] = {
		SGBUF_IOC_MAGIC, SGBUF_IOC_MAGIC, DMA_BUF_BASE,
		DMA_HEAP_IOC_MAGIC, SYNC_IOC_MAGIC,
	};
	struct fdent *e = pick(K_NKINDS, NULL);
	unsigned int cmd = 0, type, nr, dir, size;
	enum kind got;
	int fd, tries;

	C.op = "unknown-ioctl";
	if (e && pct(95)) {
		fd = e->fd;
		got = e->kind;
	} else {
		fd = bad_fd(&got);
	}
	for (tries = 0; tries < 16; tries++) {
		type = pct(85) ? types[rnd(ARRAY_SIZE(types))] : 0xc0 + rnd(64);
		nr = pct(60) ? (pct(50) ? rnd(4) : 0x10 + rnd(8)) : rnd(256);
		dir = rnd(4);
		size = pct(60) ? 8 * rnd(13) : rnd(IOC_SIZE_MAX + 1);
		cmd = _IOC(dir, type, nr, size);
		if (got == K_BAD || got == K_STALE || !handled(got, cmd))
			break;
	}
	if (tries == 16)
		return;
	if (got == K_BAD)
		reject(EBADF);
	else if (got == K_STALE)
		C.loose = true;
	else
		reject(ENOTTY);
	field("fd", (uint32_t)fd);
	field("cmd", cmd);
	track_fd(fd);
	memset(arg_rw, 0, ARG_BYTES);
	begin();
	finish(ioctl(fd, cmd, arg_rw));
}

static void op_vgem(void);

static int foreign_close_one(enum kind k, bool (*pred)(const struct fdent *))
{
	struct fdent *e = pick(k, pred);

	C.op = "close";
	field("fd", e->fd);
	track_fd(e->fd);
	begin();
	finish(close(e->fd));
	remember_closed(e->fd);
	pool_del(e);
	return 0;
}

static struct gem *gem_add(uint32_t handle, uint32_t obj, uint64_t size,
			   bool sgbuf)
{
	int i;

	for (i = 0; i < ngems; i++)
		if (gems[i].handle == handle)
			return &gems[i];
	if (ngems == MAX_GEMS)
		return NULL;
	gems[ngems] = (struct gem){ handle, obj, size, sgbuf };
	return &gems[ngems++];
}

static void op_foreign(void)
{
	unsigned int r = rnd(100);
	int fd, fds[2];

	C.loose = true;
	if (r < 35 && drm_fd >= 0) {
		struct drm_mode_create_dumb c = { 0 };
		uint32_t obj;

		int nf = 0, i;

		/* keep at most a few foreign buffers */
		for (i = 0; i < npool; i++)
			nf += is_foreign_buf(&pool[i]);
		if (nf >= 12 || ngems >= MAX_GEMS - 2) {
			if (nf)
				foreign_close_one(K_BUF, is_foreign_buf);
			else
				op_vgem();
			return;
		}
		C.op = "vgem-create";
		c.width = 1024;
		c.bpp = 32;
		c.height = 1 + rnd(pct(90) ? 16 : 256);
		field("height", c.height);
		begin();
		if (finish(ioctl(drm_fd, DRM_IOCTL_MODE_CREATE_DUMB, &c)))
			return;
		obj = next_obj++;
		gem_add(c.handle, obj, c.size, false);
		if (drmPrimeHandleToFD(drm_fd, c.handle, DRM_CLOEXEC | DRM_RDWR,
				       &fd))
			return;
		new_buf(fd, c.size, O_RDWR, false, obj);
	} else if (r < 50 && udmabuf_dev >= 0) {
		struct udmabuf_create u = { 0 };
		int memfd;

		C.op = "udmabuf-create";
		u.size = (1 + rnd(16)) * PAGE;
		field("size", u.size);
		memfd = memfd_create("sgbuf_fuzz-udmabuf",
				     MFD_CLOEXEC | MFD_ALLOW_SEALING);
		if (memfd < 0)
			return;
		if (ftruncate(memfd, u.size) ||
		    fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK)) {
			close(memfd);
			return;
		}
		u.memfd = memfd;
		u.flags = UDMABUF_FLAGS_CLOEXEC;
		begin();
		fd = finish(ioctl(udmabuf_dev, UDMABUF_CREATE, &u));
		close(memfd);
		if (fd < 0)
			return;
		if (opt_udmabuf_prime) {
			/*
			 * udmabuf maps its pages for CPU access with the
			 * direction of the first DMA_BUF_IOCTL_SYNC and syncs
			 * them with each call's own: a first sync for reading
			 * makes every later sync for writing a DMA-API error
			 * (CONFIG_DMA_API_DEBUG warns, and reports nothing
			 * after its first error). A first sync in both
			 * directions maps them bidirectionally.
			 */
			struct dma_buf_sync sync = {
				.flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW,
			};

			ioctl(fd, DMA_BUF_IOCTL_SYNC, &sync);
			sync.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW;
			ioctl(fd, DMA_BUF_IOCTL_SYNC, &sync);
		}
		new_buf(fd, u.size, O_RDWR, false, 0);
	} else if (r < 70) {
		if (count_kind(K_MEMFD) >= 4) {
			foreign_close_one(K_MEMFD, NULL);
			return;
		}
		C.op = "memfd";
		begin();
		fd = finish(memfd_create("sgbuf_fuzz", MFD_CLOEXEC));
		if (fd < 0)
			return;
		if (ftruncate(fd, 16 * PAGE)) {
			close(fd);
			return;
		}
		pool_add(fd, K_MEMFD);
	} else if (r < 85) {
		if (count_kind(K_PIPE) >= 4) {
			foreign_close_one(K_PIPE, NULL);
			return;
		}
		C.op = "pipe";
		begin();
		if (finish(pipe2(fds, O_CLOEXEC)))
			return;
		pool_add(fds[0], K_PIPE);
		pool_add(fds[1], K_PIPE);
	} else {
		if (count_kind(K_NULL) >= 2) {
			foreign_close_one(K_NULL, NULL);
			return;
		}
		C.op = "open-null";
		begin();
		fd = finish(open("/dev/null", O_RDWR | O_CLOEXEC));
		if (fd >= 0)
			pool_add(fd, K_NULL);
	}
}

static void op_vgem(void)
{
	unsigned int r = rnd(100);
	struct fdent *b;
	uint32_t h;
	int fd, i;

	if (drm_fd < 0) {
		op_foreign();
		return;
	}
	C.loose = true;
	if (r < 30) {
		b = pick(K_BUF, is_sgbuf_buf);
		if (!b) {
			op_alloc();
			return;
		}
		C.op = "vgem-prime-import";
		mark_imported(b->obj);
		field("fd", b->fd);
		track_fd(b->fd);
		begin();
		if (!finish(drmPrimeFDToHandle(drm_fd, b->fd, &h)) &&
		    !C.relaxed)
			gem_add(h, b->obj, b->size, true);
	} else if (r < 50 && ngems) {
		struct gem g = gems[rnd(ngems)];

		C.op = "vgem-prime-export";
		field("handle", g.handle);
		begin();
		if (!finish(drmPrimeHandleToFD(drm_fd, g.handle,
					       DRM_CLOEXEC | DRM_RDWR, &fd)))
			new_buf(fd, g.size, O_RDWR, g.sgbuf, g.obj);
	} else if (r < 70 && ngems && nvfences < MAX_VFENCES) {
		struct drm_vgem_fence_attach a = { 0 };

		a.handle = gems[rnd(ngems)].handle;
		a.flags = pct(50) ? VGEM_FENCE_WRITE : 0;
		C.op = "vgem-fence-attach";
		field("handle", a.handle);
		field("flags", a.flags);
		begin();
		if (!finish(ioctl(drm_fd, DRM_IOCTL_VGEM_FENCE_ATTACH, &a)))
			vfences[nvfences++] = a.out_fence;
	} else if (r < 90 && nvfences) {
		struct drm_vgem_fence_signal sig = { 0 };

		i = rnd(nvfences);
		sig.fence = vfences[i];
		vfences[i] = vfences[--nvfences];
		C.op = "vgem-fence-signal";
		field("fence", sig.fence);
		begin();
		finish(ioctl(drm_fd, DRM_IOCTL_VGEM_FENCE_SIGNAL, &sig));
	} else if (ngems) {
		struct drm_gem_close gc = { 0 };

		i = rnd(ngems);
		gc.handle = gems[i].handle;
		gems[i] = gems[--ngems];
		C.op = "vgem-gem-close";
		field("handle", gc.handle);
		begin();
		finish(ioctl(drm_fd, DRM_IOCTL_GEM_CLOSE, &gc));
	} else {
		op_foreign();
	}
}

static void op_syncfile(void)
{
	static struct sync_fence_info fence_info[8];
	struct fdent *e = pick(K_SYNCF, NULL);
	unsigned int r = rnd(100);
	const struct fdent *fe;
	enum kind got;
	void *p;
	int fd;

	if (!e) {
		op_export_sf();
		return;
	}
	if (r < 50) {
		struct sync_file_info info = { 0 };

		C.op = "SYNC_IOC_FILE_INFO";
		if (pct(40)) {
			info.num_fences = 8;
			info.sync_fence_info = (uintptr_t)fence_info;
			allow(EINVAL);		/* more than 8 fences */
			allow(ENOMEM);
		}
		if (pct(2))
			info.flags = rnd64() | 1;
		if (pct(2))
			info.pad = rnd64() | 1;
		if (info.flags || info.pad)
			reject(EINVAL);
		field("num_fences", info.num_fences);
		field("flags", info.flags);
		field("pad", info.pad);
		fd = target(e);
		p = arg_place(&info, sizeof(info), sizeof(info), true);
		begin();
		if (finish(ioctl(fd, SYNC_IOC_FILE_INFO, p)) || C.relaxed ||
		    !arg_fetch(&info, sizeof(info)))
			return;
		if (info.status > 1 || info.status < -4095)
			violation("SYNC_IOC_FILE_INFO: status %d", info.status);
	} else if (r < 80) {
		struct sync_merge_data m = { 0 };

		if (count_kind(K_SYNCF) >= 40) {
			foreign_close_one(K_SYNCF, NULL);
			return;
		}
		C.op = "SYNC_IOC_MERGE";
		snprintf(m.name, sizeof(m.name), "fuzz%llu",
			 (unsigned long long)rnd(1000));
		m.fd2 = data_fd(K_SYNCF, is_syncf, 90, &got, &fe);
		if (got == K_STALE)
			C.loose = true;
		else if (got != K_SYNCF)
			reject(ENOENT);
		if (pct(2))
			m.flags = rnd64() | 1;
		if (pct(2))
			m.pad = rnd64() | 1;
		if (m.flags || m.pad)
			reject(EINVAL);
		allow(ENOMEM);
		field("fd2", (uint32_t)m.fd2);
		field("flags", m.flags);
		field("pad", m.pad);
		fd = target(e);
		p = arg_place(&m, sizeof(m), sizeof(m), true);
		begin();
		if (!finish(ioctl(fd, SYNC_IOC_MERGE, p)) &&
		    arg_fetch(&m, sizeof(m)))
			pool_add(m.fence, K_SYNCF);
	} else {
		struct sync_set_deadline d = { 0 };

		C.op = "SYNC_IOC_SET_DEADLINE";
		d.deadline_ns = pct(50) ? (uint64_t)now_ns() + rnd(1000000) :
				boundary(0);
		if (pct(3))
			d.pad = rnd64() | 1;
		if (d.pad)
			reject(EINVAL);
		allow(ENOTTY);		/* before 6.3 */
		field("deadline_ns", d.deadline_ns);
		field("pad", d.pad);
		fd = target(e);
		p = arg_place(&d, sizeof(d), sizeof(d), false);
		begin();
		finish(ioctl(fd, SYNC_IOC_SET_DEADLINE, p));
	}
}

static void op_lseek(void)
{
	struct fdent *b = pick(K_BUF, is_sgbuf_buf);
	unsigned int r = rnd(100);
	int whence = SEEK_END;
	off_t off = 0, ret;

	if (!b) {
		op_alloc();
		return;
	}
	C.op = "lseek";
	if (r >= 70 && r < 85) {
		whence = SEEK_SET;
	} else if (r >= 85) {
		if (pct(50))
			whence = SEEK_CUR + rnd(4);	/* CUR, END, DATA, HOLE */
		else
			off = (off_t)boundary(b->size);
		if (whence != SEEK_END || off)
			reject(EINVAL);
	}
	field("fd", b->fd);
	field("offset", off);
	field("whence", whence);
	track_fd(b->fd);
	begin();
	ret = finish(lseek(b->fd, off, whence));
	if (ret >= 0 && !C.relaxed && !C.must_fail &&
	    (uint64_t)ret != (whence == SEEK_END ? b->size : 0))
		violation("lseek(%d, 0, %d) = %lld, size %#llx", b->fd, whence,
			  (long long)ret, (unsigned long long)b->size);
}

static void op_fdinfo(void)
{
	struct fdent *b = pick(K_BUF, is_sgbuf_buf);
	char path[64], text[1024], want[64];
	ssize_t n = 0;
	int fd;

	if (!b) {
		op_alloc();
		return;
	}
	C.op = "fdinfo";
	C.epoch_sensitive = true;
	field("fd", b->fd);
	track_fd(b->fd);
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", b->fd);
	begin();
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, text, sizeof(text) - 1);
		close(fd);
	}
	finish(fd < 0 || n < 0 ? -1 : 0);
	if (C.relaxed || fd < 0 || n < 0)
		return;
	text[n] = '\0';
	snprintf(want, sizeof(want), "\nsize:\t%llu\n",
		 (unsigned long long)b->size);
	if (!strstr(text, "\nexp_name:\tsgbuf\n") || !strstr(text, want))
		violation("fdinfo of sgbuf buffer fd %d (size %#llx): %.200s",
			  b->fd, (unsigned long long)b->size, text);
	if (pct(30)) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", b->fd);
		n = readlink(path, text, sizeof(text) - 1);
		if (n >= 0 && !racer_touched()) {
			text[n] = '\0';
			if (strncmp(text, "/dmabuf:", 8))
				violation("readlink(%s) = %s", path, text);
		}
	}
}

static void op_debugfs(void)
{
	static char text[1 << 16];
	const char *path = pct(50) ? SGBUF_ENGINES_DEBUGFS : DMABUF_BUFINFO;
	ssize_t n;
	int fd;

	C.op = "read-debugfs";
	C.loose = true;
	snprintf(C.str, sizeof(C.str), "%s", path);
	begin();
	fd = finish(open(path, O_RDONLY | O_CLOEXEC));
	if (fd < 0)
		return;
	do
		n = read(fd, text, sizeof(text));
	while (n > 0);
	close(fd);
}

/* Close every fd that is neither in the pool nor protected. */
static void sweep(void)
{
	bool keep[FD_MAX] = { false };
	int fds[FD_MAX], n = 0, i;
	struct dirent *de;
	DIR *d;

	for (i = 0; i < npool; i++)
		if (pool[i].fd >= 0 && pool[i].fd < FD_MAX)
			keep[pool[i].fd] = true;
	d = opendir("/proc/self/fd");
	if (!d)
		return;
	while ((de = readdir(d)) && n < FD_MAX) {
		int fd = atoi(de->d_name);

		if (de->d_name[0] != '.' && fd >= 3 && fd < FD_MAX &&
		    fd != dirfd(d) && !keep[fd] && !fdprot[fd])
			fds[n++] = fd;
	}
	closedir(d);
	for (i = 0; i < n; i++)
		close(fds[i]);
	if (tracing)
		printf("# sweep: closed %d fds outside the pool\n", n);
}

/* ------------------------------------------------------------ the table */

struct op {
	const char *name;
	void (*fn)(void);
	unsigned int weight;
};

static struct op ops[] = {
	{ "open-dev", op_open_dev, 2 },
	{ "open-heap", op_open_heap, 1 },
	{ "ALLOC", op_alloc, 12 },
	{ "GET_INFO", op_get_info, 3 },
	{ "SYNC_RANGE", op_sync_range, 8 },
	{ "HEAP_ALLOC", op_heap_alloc, 5 },
	{ "IMPORT", op_import, 12 },
	{ "UNIMPORT", op_unimport, 4 },
	{ "SUBMIT", op_submit, 26 },
	{ "WAIT", op_wait, 12 },
	{ "ENGINE_CONFIG", op_config, 3 },
	{ "SW_FENCE_CREATE", op_swf_create, 5 },
	{ "SW_FENCE_SIGNAL", op_swf_signal, 6 },
	{ "DMA_BUF_SYNC", op_dmabuf_sync, 8 },
	{ "SET_NAME", op_set_name, 3 },
	{ "EXPORT_SYNC_FILE", op_export_sf, 4 },
	{ "IMPORT_SYNC_FILE", op_import_sf, 3 },
	{ "mmap", op_mmap, 8 },
	{ "munmap", op_munmap, 4 },
	{ "mremap", op_mremap, 3 },
	{ "mprotect", op_mprotect, 2 },
	{ "madvise", op_madvise, 2 },
	{ "touch", op_touch, 8 },
	{ "poll", op_poll, 4 },
	{ "close", op_close, 8 },
	{ "dup", op_dup, 3 },
	{ "unknown-ioctl", op_bad_ioctl, 8 },
	{ "foreign", op_foreign, 3 },
	{ "vgem", op_vgem, 5 },
	{ "sync_file", op_syncfile, 5 },
	{ "lseek", op_lseek, 2 },
	{ "fdinfo", op_fdinfo, 2 },
	{ "debugfs", op_debugfs, 1 },
};

static struct opstat opstats[ARRAY_SIZE(ops)];

static struct op *pick_op(void)
{
	unsigned int total = 0, r, i;

	for (i = 0; i < ARRAY_SIZE(ops); i++)
		total += ops[i].weight;
	r = rnd(total);
	for (i = 0; i < ARRAY_SIZE(ops); i++) {
		if (r < ops[i].weight)
			return &ops[i];
		r -= ops[i].weight;
	}
	return &ops[0];
}

/* ---------------------------------------------------------------- main */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: sgbuf_fuzz [options]\n"
		"  --seed S            generator seed (default: from the time)\n"
		"  --count N           calls to make (default 10000)\n"
		"  --start K           index of the first call (default 0)\n"
		"  --threads T         racing threads, 0-4 (default 1)\n"
		"  --trace             print every call and its result\n"
		"  --trace-from K      ... from call K on\n"
		"  --progress N        a progress line every N calls\n"
		"                      (default: about every 10 s)\n"
		"  --budget-mb M       sgbuf memory to keep live at most (256)\n"
		"  --job-timeout-ms MS job_timeout_ms for the run (200; 0 keeps it)\n"
		"  --fail-at K         report a (fake) violation at call K\n"
		"  --kmsg-splat-at K   write a fake WARNING to /dev/kmsg at call K\n"
		"  --kmsg-every N      mark every Nth call in the kernel log, to\n"
		"                      place a splat between two calls (with\n"
		"                      --trace: every traced call)\n"
		"  --no-udmabuf-prime  do not sync a new udmabuf both ways first\n"
		"                      (udmabuf's direction bug, see the source)\n");
}

static uint64_t num_arg(const char *s)
{
	char *end;
	uint64_t v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end) {
		fprintf(stderr, "sgbuf_fuzz: bad number: %s\n", s);
		exit(2);
	}
	return v;
}

static void parse(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "seed", required_argument, NULL, 's' },
		{ "count", required_argument, NULL, 'n' },
		{ "start", required_argument, NULL, 'k' },
		{ "threads", required_argument, NULL, 't' },
		{ "trace", no_argument, NULL, 'T' },
		{ "trace-from", required_argument, NULL, 'F' },
		{ "progress", required_argument, NULL, 'p' },
		{ "budget-mb", required_argument, NULL, 'b' },
		{ "job-timeout-ms", required_argument, NULL, 'j' },
		{ "fail-at", required_argument, NULL, 'f' },
		{ "kmsg-splat-at", required_argument, NULL, 'S' },
		{ "kmsg-every", required_argument, NULL, 'K' },
		{ "no-udmabuf-prime", no_argument, NULL, 'U' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	bool have_seed = false;
	int c;

	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 's':
			opt_seed = num_arg(optarg);
			have_seed = true;
			break;
		case 'n':
			opt_count = num_arg(optarg);
			break;
		case 'k':
			opt_start = num_arg(optarg);
			break;
		case 't':
			opt_threads = num_arg(optarg);
			break;
		case 'T':
			opt_trace = true;
			break;
		case 'F':
			opt_trace = true;
			opt_trace_from = num_arg(optarg);
			break;
		case 'p':
			opt_progress = num_arg(optarg);
			break;
		case 'b':
			opt_budget = num_arg(optarg) << 20;
			break;
		case 'j':
			opt_job_timeout_ms = num_arg(optarg);
			break;
		case 'f':
			opt_fail_at = num_arg(optarg);
			break;
		case 'S':
			opt_splat_at = num_arg(optarg);
			break;
		case 'K':
			opt_kmsg_every = num_arg(optarg);
			break;
		case 'U':
			opt_udmabuf_prime = false;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			exit(2);
		}
	}
	if (optind < argc || opt_threads < 0 ||
	    opt_threads > (int)ARRAY_SIZE(racers)) {
		usage(stderr);
		exit(2);
	}
	if (!have_seed) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		opt_seed = (uint64_t)ts.tv_sec * 1000003 ^ ts.tv_nsec ^
			   (uint64_t)getpid() << 32;
		opt_seed &= 0xffffffffffffULL;
	}
}

static void setup_fail(const char *what)
{
	printf("not ok - fuzz: setup: %s: %s, seed %llu\n", what,
	       strerror(errno), (unsigned long long)opt_seed);
	exit(2);
}

static void setup_args(void)
{
	int memfd = memfd_create("sgbuf_fuzz-args", MFD_CLOEXEC);
	uint8_t *rw, *ro;

	if (memfd < 0 || ftruncate(memfd, ARG_BYTES))
		setup_fail("memfd for the argument pages");
	rw = mmap(NULL, ARG_BYTES + PAGE, PROT_NONE,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ro = mmap(NULL, ARG_BYTES + PAGE, PROT_NONE,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (rw == MAP_FAILED || ro == MAP_FAILED ||
	    mmap(rw, ARG_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
		 memfd, 0) == MAP_FAILED ||
	    mmap(ro, ARG_BYTES, PROT_READ, MAP_SHARED | MAP_FIXED, memfd,
		 0) == MAP_FAILED)
		setup_fail("argument pages");
	close(memfd);
	arg_rw = rw;
	arg_ro = ro;
}

static void signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;	/* no SA_RESTART: waits end in EINTR */
	sigaction(SIGALRM, &sa, NULL);
	sa.sa_handler = on_fault;
	sa.sa_flags = SA_NODEFER;
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static int job_timeout_saved = -1;

static void job_timeout_set(void)
{
	unsigned long long v;

	if (!opt_job_timeout_ms || param_read("job_timeout_ms", &v))
		return;
	if (!param_write("job_timeout_ms", opt_job_timeout_ms))
		job_timeout_saved = v;
}

/* Everything of ours goes; buffers must follow. */
static void teardown(void)
{
	struct drm_vgem_fence_signal sig = { 0 };
	int i;

	for (i = 0; i < nvfences; i++) {
		sig.fence = vfences[i];
		ioctl(drm_fd, DRM_IOCTL_VGEM_FENCE_SIGNAL, &sig);
	}
	nvfences = 0;
	for (i = 0; i < MAX_MAPS; i++)
		if (maps[i].used)
			unmap_slot(i);
	while (npool)
		pool_del(&pool[0]);
	while (unmap_leftovers() > 0)
		;
	close_fds_from(3);
	drm_fd = udmabuf_dev = null_fd = info_fd = kmsg_fd = -1;
	if (job_timeout_saved >= 0)
		param_write("job_timeout_ms", job_timeout_saved);
}

int main(int argc, char **argv)
{
	struct sgbuf_info info0, info;
	uint64_t i, end, done = 0, last_done = 0;
	long long t0, tlast, t;
	int bufinfo0, n, ret, fd;
	char final[700];
	unsigned int k;

	parse(argc, argv);
	setvbuf(stdout, NULL, _IOLBF, 0);
	signals();

	info_fd = sgbuf_open();
	if (info_fd < 0) {
		errno = -info_fd;
		setup_fail("open " SGBUF_DEV " (is sgbuf loaded?)");
	}
	if (sgbuf_get_info(info_fd, &info0))
		setup_fail("SGBUF_IOCTL_GET_INFO");
	max_buffer = info0.max_buffer_size;
	max_total = info0.max_total_size;
	max_contig = info0.max_contig_size;
	tot_cache = info0.total_size;
	null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	drm_fd = open_vgem();
	udmabuf_dev = open("/dev/udmabuf", O_RDWR | O_CLOEXEC);
	setup_args();
	bufinfo0 = bufinfo_count();
	job_timeout_set();
	if (opt_kmsg_every || opt_splat_at != NONE)
		kmsg_fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
	kmsg("seed %llu start %llu count %llu threads %d\n",
	     (unsigned long long)opt_seed, (unsigned long long)opt_start,
	     (unsigned long long)opt_count, opt_threads);
	/* Whatever is open now is ours to keep: the racers leave it alone. */
	for (fd = 0; fd < FD_MAX; fd++)
		fdprot[fd] = fcntl(fd, F_GETFD) >= 0;

	end = opt_start + opt_count;
	printf("# sgbuf_fuzz: seed %llu, calls %llu..%llu, %d racing thread%s, vgem %s, udmabuf %s, budget %llu MiB, job_timeout_ms %u\n",
	       (unsigned long long)opt_seed, (unsigned long long)opt_start,
	       (unsigned long long)end, opt_threads,
	       opt_threads == 1 ? "" : "s", drm_fd >= 0 ? "yes" : "no",
	       udmabuf_dev >= 0 ? "yes" : "no",
	       (unsigned long long)(opt_budget >> 20),
	       job_timeout_saved >= 0 ? opt_job_timeout_ms : 0U);
	if (udmabuf_dev >= 0 && opt_udmabuf_prime)
		printf("# note: every new udmabuf gets a first DMA_BUF_IOCTL_SYNC with DMA_BUF_SYNC_RW, around a udmabuf bug (it syncs with other directions than it mapped with); --no-udmabuf-prime to hit it\n");
	if (bufinfo0 < 0)
		printf("# %s unreadable (%s): the leak check uses GET_INFO only\n",
		       DMABUF_BUFINFO, strerror(-bufinfo0));

	for (k = 0; k < (unsigned int)opt_threads; k++) {
		racers[k].rng = opt_seed * 31 + k + 1;
		if (pthread_create(&racers[k].thread, NULL, racer_main,
				   &racers[k]))
			setup_fail("pthread_create");
	}

	t0 = tlast = now_ns();
	for (i = opt_start; i < end && fail_idx == NONE; i++) {
		struct op *op;

		call_reset(i);
		tracing = opt_trace && i >= opt_trace_from;
		prune();
		op = pick_op();
		op->fn();
		opstats[op - ops].calls++;
		opstats[op - ops].ok += C.ret >= 0;
		done++;
		if (i == opt_fail_at)
			violation("forced by --fail-at %llu",
				  (unsigned long long)i);
		if (i == opt_splat_at)
			kmsg("WARNING: fake splat at call %llu (--kmsg-splat-at)\n",
			     (unsigned long long)i);
		/* every traced call, so that a splat falls between two */
		if (tracing || (opt_kmsg_every && (i + 1) % opt_kmsg_every == 0))
			kmsg("seed %llu calls %llu\n",
			     (unsigned long long)opt_seed,
			     (unsigned long long)(i + 1));
		if (opt_threads && i % 4096 == 4095)
			sweep();
		if (opt_progress ? done % opt_progress == 0 :
		    (done & 63) == 0 && now_ns() - tlast >= 10000000000LL) {
			t = now_ns();
			printf("# fuzz: seed %llu calls %llu/%llu, %.0f calls/s\n",
			       (unsigned long long)opt_seed,
			       (unsigned long long)(i + 1),
			       (unsigned long long)end,
			       (done - last_done) * 1e9 / (t - tlast + 1));
			tlast = t;
			last_done = done;
		}
	}
	t = now_ns();

	__atomic_store_n(&racer_stop, 1, __ATOMIC_SEQ_CST);
	for (k = 0; k < (unsigned int)opt_threads; k++)
		pthread_join(racers[k].thread, NULL);
	teardown();

	printf("# %llu calls in %.1f s: %.0f calls/s\n",
	       (unsigned long long)done, (t - t0) / 1e9,
	       done * 1e9 / (t - t0 + 1));
	for (k = 0; k < ARRAY_SIZE(ops); k++)
		printf("#   %-18s %8llu calls %8llu succeeded\n", ops[k].name,
		       (unsigned long long)opstats[k].calls,
		       (unsigned long long)opstats[k].ok);

	/* Closing is synchronous, but a last fput from a kworker is not. */
	C.idx = i;
	C.op = "final check";
	for (n = 0; n < 250; n++) {
		ret = bufinfo0 < 0 ? bufinfo0 : bufinfo_count();
		if (sgbuf_get_info_nodev(&info))
			memset(&info, 0xff, sizeof(info));
		if ((bufinfo0 < 0 || ret == bufinfo0) &&
		    info.live_buffers == info0.live_buffers &&
		    info.total_size == info0.total_size)
			break;
		usleep(20000);
	}
	if (n == 250 && fail_idx == NONE) {
		C.nf = 0;
		violation("after closing everything: %d sgbuf buffers in bufinfo (%d at the start), live_buffers %llu (%llu), total_size %llu (%llu)",
			  ret, bufinfo0,
			  (unsigned long long)info.live_buffers,
			  (unsigned long long)info0.live_buffers,
			  (unsigned long long)info.total_size,
			  (unsigned long long)info0.total_size);
	}

	if (fail_idx == NONE) {
		printf("ok - fuzz: %llu calls, seed %llu\n",
		       (unsigned long long)done, (unsigned long long)opt_seed);
		return 0;
	}
	snprintf(final, sizeof(final), "%s", fail_msg);
	printf("# replay: sgbuf_fuzz --seed %llu --start %llu --count %llu --threads %d --trace\n",
	       (unsigned long long)opt_seed, (unsigned long long)opt_start,
	       (unsigned long long)(fail_idx - opt_start + 1), opt_threads);
	printf("not ok - fuzz: seed %llu, call %llu: %s\n",
	       (unsigned long long)opt_seed, (unsigned long long)fail_idx,
	       final);
	return 1;
}
