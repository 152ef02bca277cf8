// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * dmabuf pipe: a frame pipeline of three processes joined by two libdmabuf
 * channels, each a socketpair:
 *
 *   producer --channel 1--> DMA stage --channel 2--> consumer (this process)
 *   CPU writes              sgbuf engine COPY        waits for the fence,
 *   its pool's buffers      (+ CHECKSUM)             verifies, releases
 *
 * Buffers travel as fds, frames as messages, and readiness as fences: the
 * producer's buffers go back to it with the copy job's out-fence, the
 * destination buffer goes to the consumer with the same fence. Then the
 * same frames go through pipe(2) with CPU copies, for comparison.
 *
 * This file: options, the checks before starting, the processes, the
 * report. The stages are in pipe_ends.c and pipe_dma.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pipe.h"

#define MAX_FRAMES 1000000
#define MAX_FRAME_LEN (1ull << 30)

enum { OPT_NO_COMPARE = 256, OPT_CORRUPT, OPT_FAIL_FRAME };

struct stage_proc {
	const char *name;
	pid_t pid;
	int status;
	int sent;		/* the signal we sent it, or 0 */
};

static const char *const mode_names[] = { "copy", "checksum", "cpu" };

static void pipe_usage(FILE *f)
{
	fprintf(f,
		"usage: dmabuf pipe [OPTIONS]\n\n"
		"Runs frames through three processes joined by two libdmabuf\n"
		"channels: a producer that writes each frame with the CPU, a DMA\n"
		"stage whose sgbuf engine copies it into its own buffer, and a\n"
		"consumer that waits for the copy's fence and verifies every frame.\n"
		"Then sends the same frames through pipe(2) with CPU copies and\n"
		"prints both rates and their ratio.\n\n"
		"  -f, --frames N      frames to send (default 60)\n"
		"  -W, --width W       frame width in pixels (default 1920)\n"
		"  -H, --height H      frame height (default 1080); 4 bytes a pixel\n"
		"  -p, --pool N        buffers in each pool, 1..%d (default 4)\n"
		"  -m, --mode MODE     copy: the engine copies, the consumer reads\n"
		"                      every byte (default); checksum: the engine\n"
		"                      copies and computes the copy's CRC-32, which\n"
		"                      the consumer compares with the producer's;\n"
		"                      cpu: the DMA stage copies with memcpy (no\n"
		"                      sgbuf needed)\n"
		"  -b, --backend B     where buffers come from: sgbuf, heap,\n"
		"                      heap:NAME, udmabuf, auto (default)\n"
		"  -t, --timeout SECS  longest wait for any one step (default 20)\n"
		"      --no-compare    skip the pipe(2) comparison\n"
		"  -q, --quiet         no progress lines\n"
		"      --corrupt F[:OFF]  testing: flip a byte of frame F at OFF\n"
		"                      (default: the middle) after the producer\n"
		"                      wrote it; the consumer must catch it\n"
		"      --fail-frame F  testing: make the engine fail frame F's copy\n"
		"  -h, --help          this text\n\n"
		"Exit status 0 only if every frame arrived and verified, in both runs.\n",
		DMABUF_CHANNEL_MAX_BUFFERS);
}

static int parse_num(const char *opt, const char *arg, uint64_t min,
		     uint64_t max, uint64_t *out)
{
	if (parse_uint(arg, max, out) || *out < min)
		return tool_usage_err("bad %s '%s': a number from %" PRIu64
				      " to %" PRIu64 " expected", opt, arg,
				      min, max);
	return -1;
}

static int parse_mode(const char *arg, enum pipe_mode *mode)
{
	size_t i;

	for (i = 0; i < sizeof(mode_names) / sizeof(mode_names[0]); i++) {
		if (!strcmp(arg, mode_names[i])) {
			*mode = (enum pipe_mode)i;
			return -1;
		}
	}
	return tool_usage_err("unknown mode '%s' (copy, checksum, cpu)", arg);
}

static int parse_corrupt(const char *arg, struct pipe_opts *o)
{
	char frame[24];
	const char *colon = strchr(arg, ':');
	uint64_t f, off = UINT64_MAX;

	snprintf(frame, sizeof(frame), "%.*s",
		 (int)(colon ? colon - arg : (ptrdiff_t)strlen(arg)), arg);
	if (parse_uint(frame, INT64_MAX, &f) ||
	    (colon && parse_uint(colon + 1, INT64_MAX, &off)))
		return tool_usage_err("bad --corrupt '%s': FRAME or "
				      "FRAME:OFFSET expected", arg);
	o->corrupt_frame = (int64_t)f;
	o->corrupt_offset = off;
	return -1;
}

static int pipe_opt(int c, struct pipe_opts *o)
{
	uint64_t v;
	int ret;

	switch (c) {
	case 'f':
		return parse_num("--frames", optarg, 1, MAX_FRAMES, &o->frames);
	case 'W':
		return parse_num("--width", optarg, 1, 65536, &o->width);
	case 'H':
		return parse_num("--height", optarg, 1, 65536, &o->height);
	case 'p':
		return parse_num("--pool", optarg, 1,
				 DMABUF_CHANNEL_MAX_BUFFERS, &o->pool);
	case 't':
		ret = parse_num("--timeout", optarg, 1, 3600, &v);
		o->timeout_ms = (int)v * 1000;
		return ret;
	case 'm':
		return parse_mode(optarg, &o->mode);
	case 'b':
		return parse_backend_opt(optarg, &o->backend);
	case 'q':
		o->quiet = true;
		return -1;
	case OPT_NO_COMPARE:
		o->compare = false;
		return -1;
	case OPT_CORRUPT:
		return parse_corrupt(optarg, o);
	case OPT_FAIL_FRAME:
		ret = parse_num("--fail-frame", optarg, 0, MAX_FRAMES, &v);
		o->fail_frame = (int64_t)v;
		return ret;
	case 'h':
		pipe_usage(stdout);
		return EXIT_OK;
	default:
		return EXIT_USAGE;
	}
}

static int pipe_check(struct pipe_opts *o)
{
	o->frame_len = o->width * o->height * 4;
	if (o->frame_len > MAX_FRAME_LEN)
		return tool_usage_err("frames of %" PRIu64 "x%" PRIu64 " are "
				      "larger than 1 GiB", o->width, o->height);
	if (o->corrupt_offset == UINT64_MAX)
		o->corrupt_offset = o->frame_len / 2;
	if (o->corrupt_frame >= 0 && (o->corrupt_offset >= o->frame_len ||
				      (uint64_t)o->corrupt_frame >= o->frames))
		return tool_usage_err("--corrupt: no such frame or offset (%"
				      PRIu64 " frames of %" PRIu64 " bytes)",
				      o->frames, o->frame_len);
	if (o->fail_frame >= 0 && o->mode == MODE_CPU)
		return tool_usage_err("--fail-frame needs the engine (not "
				      "--mode cpu)");
	if (o->fail_frame >= 0 && (uint64_t)o->fail_frame >= o->frames)
		return tool_usage_err("--fail-frame: there are only %" PRIu64
				      " frames", o->frames);
	return -1;
}

static int pipe_parse(int argc, char **argv, struct pipe_opts *o)
{
	static const struct option longopts[] = {
		{ "frames", required_argument, NULL, 'f' },
		{ "width", required_argument, NULL, 'W' },
		{ "height", required_argument, NULL, 'H' },
		{ "pool", required_argument, NULL, 'p' },
		{ "mode", required_argument, NULL, 'm' },
		{ "backend", required_argument, NULL, 'b' },
		{ "timeout", required_argument, NULL, 't' },
		{ "no-compare", no_argument, NULL, OPT_NO_COMPARE },
		{ "quiet", no_argument, NULL, 'q' },
		{ "corrupt", required_argument, NULL, OPT_CORRUPT },
		{ "fail-frame", required_argument, NULL, OPT_FAIL_FRAME },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, ret;

	while ((c = tool_getopt(argc, argv, "f:W:H:p:m:b:t:qh",
				longopts)) != -1) {
		ret = pipe_opt(c, o);
		if (ret >= 0)
			return ret;
	}
	if (optind < argc)
		return tool_usage_err("unexpected argument '%s'", argv[optind]);
	return pipe_check(o);
}

/* The engine and a backend are there; @backend receives the latter's name. */
static int preflight(const struct pipe_opts *o, char *backend, size_t len)
{
	struct dmabuf_allocator *alloc;
	struct dmabuf_engine *engine;
	struct dmabuf_caps caps;
	int ret = 0;

	if (o->mode != MODE_CPU)
		ret = dmabuf_engine_new(&engine);
	if (ret == -ENOENT)
		tool_err("the sgbuf DMA engine is not available: /dev/sgbuf "
			 "does not exist (load sgbuf.ko, or use --mode cpu)");
	else if (ret == -EOPNOTSUPP)
		tool_err("the loaded sgbuf module has no DMA engine (use "
			 "--mode cpu)");
	else if (ret < 0)
		tool_err("cannot open the sgbuf DMA engine: %s", strerror(-ret));
	if (ret < 0)
		return EXIT_FAIL;
	if (o->mode != MODE_CPU)
		dmabuf_engine_free(engine);
	if (open_allocator(&o->backend, &alloc) < 0)
		return EXIT_FAIL;
	ret = dmabuf_allocator_caps(alloc, &caps);
	snprintf(backend, len, "%s", ret ? "?" : caps.name);
	dmabuf_allocator_free(alloc);
	return 0;
}

static pid_t fork_stage(struct stage_proc *sp)
{
	fflush(NULL);
	sp->pid = fork();
	if (sp->pid == 0)
		pipe_child_init(sp->name);
	else if (sp->pid < 0)
		pipe_err("cannot start the %s: %s", sp->name, strerror(errno));
	return sp->pid;
}

/* Waits up to @timeout_ms for @sp to exit; returns whether it has. */
static bool wait_exit(struct stage_proc *sp, int timeout_ms)
{
	uint64_t deadline = now_ns() + (uint64_t)timeout_ms * 1000000;
	struct timespec ms = { .tv_nsec = 1000000 };
	pid_t r;

	while ((r = waitpid(sp->pid, &sp->status, WNOHANG)) == 0 &&
	       now_ns() < deadline)
		nanosleep(&ms, NULL);
	return r != 0;
}

/* Collects @sp: gives it @grace_ms to exit, then SIGTERM, then SIGKILL. */
static void reap(struct stage_proc *sp, int grace_ms)
{
	if (sp->pid <= 0 || wait_exit(sp, grace_ms))
		return;
	if (!kill(sp->pid, SIGTERM))
		sp->sent = SIGTERM;
	if (wait_exit(sp, 2000))
		return;
	kill(sp->pid, SIGKILL);
	sp->sent = SIGKILL;
	waitpid(sp->pid, &sp->status, 0);
}

/* Whether @sp ended well; says why not unless it is a consequence. */
static bool stage_ok(const struct stage_proc *sp)
{
	int st = sp->status;

	if (sp->pid <= 0)
		return false;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return true;
	if (WIFEXITED(st) && WEXITSTATUS(st) != STAGE_PEER_GONE)
		pipe_err("the %s failed (exit status %d)", sp->name,
			 WEXITSTATUS(st));
	else if (WIFSIGNALED(st) && WTERMSIG(st) != sp->sent)
		pipe_err("the %s was killed by signal %d (%s)", sp->name,
			 WTERMSIG(st), strsignal(WTERMSIG(st)));
	return false;
}

/*
 * Collects the stages. They end by themselves when the stream is over or
 * a neighbour has gone (their channels break), so they get time for it;
 * if the consumer failed otherwise, they are stopped at once.
 */
static int end_stages(struct stage_proc *sp, size_t n, int ret,
		      int timeout_ms)
{
	int grace = ret == 0 ? timeout_ms : ret == STAGE_PEER_GONE ? 2000 : 0;
	bool ok = true;
	size_t i;

	for (i = 0; i < n; i++)
		reap(&sp[i], grace);
	for (i = 0; i < n; i++)
		ok &= stage_ok(&sp[i]);
	if (ret == STAGE_PEER_GONE && ok)
		pipe_err("the pipeline broke off");
	return ret || !ok ? EXIT_FAIL : 0;
}

static int run_pipeline(const struct pipe_opts *o, struct pipe_stats *st)
{
	struct stage_proc sp[2] = { { .name = "producer" },
				    { .name = "DMA stage" } };
	int ch1[2], ch2[2], ret;

	ret = dmabuf_socketpair(ch1);
	if (ret < 0)
		return pipe_fail("socketpair", ret);
	ret = dmabuf_socketpair(ch2);
	if (ret < 0) {
		close(ch1[0]);
		close(ch1[1]);
		return pipe_fail("socketpair", ret);
	}
	if (fork_stage(&sp[0]) == 0) {
		close(ch1[1]);
		close(ch2[0]);
		close(ch2[1]);
		pipe_child_exit(run_producer(o, ch1[0]));
	}
	if (sp[0].pid > 0 && fork_stage(&sp[1]) == 0) {
		close(ch1[0]);
		close(ch2[1]);
		pipe_child_exit(run_dma_stage(o, ch1[1], ch2[0]));
	}
	close(ch1[0]);
	close(ch1[1]);
	close(ch2[0]);
	pipe_stage = "consumer";
	if (sp[0].pid > 0 && sp[1].pid > 0) {
		ret = run_consumer(o, ch2[1], st);
	} else {
		close(ch2[1]);
		ret = EXIT_FAIL;
	}
	pipe_stage = "";
	return end_stages(sp, 2, ret, o->timeout_ms);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static double rate(uint64_t n, uint64_t start, uint64_t end)
{
	return end > start ? (double)n * 1e9 / (double)(end - start) : 0.0;
}

static void report_run(const struct pipe_opts *o, struct pipe_stats *st)
{
	uint64_t bytes = st->frames * o->frame_len;
	double fps = rate(st->frames, st->start_ns, st->end_ns);
	char sz[SIZE_BUF];

	printf("frames:   %" PRIu64 " of %" PRIu64 " (%" PRIu64 " verified)\n",
	       st->frames, o->frames, st->frames - st->errors);
	printf("bytes:    %" PRIu64 " (%s)\n", bytes,
	       fmt_size(bytes, sz, sizeof(sz)));
	printf("time:     %.3f s\n", st->end_ns > st->start_ns ?
	       (double)(st->end_ns - st->start_ns) / 1e9 : 0.0);
	printf("rate:     %.1f frames/s, %.1f MB/s\n", fps,
	       fps * (double)o->frame_len / 1e6);
	if (st->frames) {
		qsort(st->lat_ns, st->frames, sizeof(*st->lat_ns), cmp_u64);
		printf("latency:  p50 %.2f ms, p99 %.2f ms (producer send to "
		       "consumer verified)\n",
		       (double)st->lat_ns[(st->frames - 1) / 2] / 1e6,
		       (double)st->lat_ns[(st->frames - 1) * 99 / 100] / 1e6);
	}
	printf("errors:   %" PRIu64 "\n", st->errors);
}

static void report_ref(const struct pipe_opts *o, const struct pipe_stats *st,
		       const struct pipe_stats *ref)
{
	double fps = rate(ref->frames, ref->start_ns, ref->end_ns);
	double ours = rate(st->frames, st->start_ns, st->end_ns);

	printf("pipe(2):  %" PRIu64 " frames, %.3f s, %.1f frames/s, %.1f MB/s, "
	       "%" PRIu64 " errors (CPU write, copy through the pipe, CPU "
	       "verify)\n", ref->frames,
	       (double)(ref->end_ns - ref->start_ns) / 1e9, fps,
	       fps * (double)o->frame_len / 1e6, ref->errors);
	if (fps > 0)
		printf("ratio:    %.2fx (dma-buf pipeline frames/s / pipe(2) "
		       "frames/s)\n", ours / fps);
}

static int pipe_run(const struct pipe_opts *o, const char *backend)
{
	struct pipe_stats st = { 0 }, ref = { 0 };
	int ret, ref_ret = 0;

	st.lat_ns = calloc(o->frames, sizeof(*st.lat_ns));
	if (!st.lat_ns) {
		tool_err("%s", strerror(ENOMEM));
		return EXIT_FAIL;
	}
	printf("dmabuf pipe: %" PRIu64 " frames of %" PRIu64 "x%" PRIu64
	       " RGBA (%" PRIu64 " bytes), pool %" PRIu64 ", mode %s, "
	       "backend %s\n", o->frames, o->width, o->height, o->frame_len,
	       o->pool, mode_names[o->mode], backend);
	ret = run_pipeline(o, &st);
	report_run(o, &st);
	fflush(stdout);
	if (!ret && o->compare) {
		ref_ret = run_pipe2(o, &ref);
		report_ref(o, &st, &ref);
	}
	ret = ret || ref_ret || st.errors || ref.errors ? EXIT_FAIL : EXIT_OK;
	printf("result:   %s\n", ret ? "FAILED" : "ok");
	free(st.lat_ns);
	return ret;
}

int cmd_pipe(int argc, char **argv)
{
	struct pipe_opts o = {
		.frames = 60, .width = 1920, .height = 1080, .pool = 4,
		.mode = MODE_COPY, .compare = true, .corrupt_frame = -1,
		.fail_frame = -1, .timeout_ms = 20000,
	};
	char backend[64];
	int ret;

	ret = pipe_parse(argc, argv, &o);
	if (ret >= 0)
		return ret;
	pipe_timeout_ms = o.timeout_ms;
	/* a stage that goes away is an error to report, not a silent death */
	signal(SIGPIPE, SIG_IGN);
	pattern_init();
	ret = preflight(&o, backend, sizeof(backend));
	if (ret)
		return ret;
	return pipe_run(&o, backend);
}
