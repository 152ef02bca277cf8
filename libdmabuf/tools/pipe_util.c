// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * dmabuf pipe: messages, progress and the life of the stage processes.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "pipe.h"

const char *pipe_stage = "";
int pipe_timeout_ms = 20000;

void pipe_err(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: %s%s", tool_prog, pipe_stage,
		pipe_stage[0] ? ": " : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int pipe_fail(const char *what, int err)
{
	if (err == -EPIPE)
		return STAGE_PEER_GONE;	/* the neighbour has said why */
	if (err == -ETIME)
		pipe_err("%s: timed out after %d s", what,
			 pipe_timeout_ms / 1000);
	else
		pipe_err("%s: %s", what, strerror(-err));
	return EXIT_FAIL;
}

int pipe_drain(const struct pipe_opts *o, struct dmabuf_channel *ch)
{
	struct dmabuf_frame fr;
	uint64_t i;
	int ret;

	for (i = 0; i < o->pool; i++) {
		ret = dmabuf_channel_acquire(ch, o->timeout_ms, &fr, NULL);
		if (ret < 0)
			return pipe_fail("waiting for the last buffers", ret);
	}
	ret = dmabuf_channel_finish(ch);
	return ret < 0 ? pipe_fail("ending the stream", ret) : 0;
}

void pipe_child_init(const char *stage)
{
	pid_t parent = getppid();

	pipe_stage = stage;
	/* never outlive the tool, whatever kills it */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(EXIT_FAIL);
}

void pipe_child_exit(int status)
{
	fflush(NULL);
	_exit(status);
}

void progress_init(struct progress *p, const char *what, bool quiet)
{
	memset(p, 0, sizeof(*p));
	p->what = what;
	p->quiet = quiet;
	p->tty = isatty(STDERR_FILENO);
	p->start_ns = p->last_ns = now_ns();
}

void progress_tick(struct progress *p, uint64_t done, uint64_t total)
{
	uint64_t now = now_ns();
	double secs = (double)(now - p->start_ns) / 1e9;

	if (p->quiet || now - p->last_ns < 1000000000u)
		return;
	p->last_ns = now;
	p->shown = true;
	fprintf(stderr, "%s%s: %s: %llu/%llu frames, %.1f frames/s%s",
		p->tty ? "\r" : "", tool_prog, p->what,
		(unsigned long long)done, (unsigned long long)total,
		secs > 0 ? (double)done / secs : 0.0, p->tty ? "  " : "\n");
}

void progress_end(struct progress *p)
{
	if (p->tty && p->shown)
		fputc('\n', stderr);
	p->shown = false;
}
