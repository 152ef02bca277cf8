// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * dmabuf pipe: the reference, the same frames through pipe(2). A child
 * writes each frame's pattern into its memory and write()s it; the parent
 * read()s it and verifies every byte, as the consumer of the dma-buf
 * pipeline does in copy mode. The pipe holds 1 MiB where the system allows.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pipe.h"

static int write_all(int fd, const unsigned char *p, uint64_t len)
{
	ssize_t n;

	while (len) {
		n = write(fd, p, len > (1u << 30) ? (1u << 30) : len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (uint64_t)n;
	}
	return 0;
}

/* 0, -ENODATA at a premature end, or a negative errno. */
static int read_all(int fd, unsigned char *p, uint64_t len)
{
	ssize_t n;

	while (len) {
		n = read(fd, p, len > (1u << 30) ? (1u << 30) : len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ENODATA;
		p += n;
		len -= (uint64_t)n;
	}
	return 0;
}

static int pipe_writer(const struct pipe_opts *o, int fd)
{
	unsigned char *buf = malloc(o->frame_len);
	uint64_t seq;
	int ret = 0;

	if (!buf)
		return pipe_fail("frame buffer", -ENOMEM);
	for (seq = 0; seq < o->frames && !ret; seq++) {
		pattern_write(buf, o->frame_len, seq, false);
		ret = write_all(fd, buf, o->frame_len);
	}
	free(buf);
	close(fd);
	return ret ? pipe_fail("write", ret) : 0;
}

static int pipe_reader(const struct pipe_opts *o, int fd,
		       struct pipe_stats *st)
{
	unsigned char *buf = malloc(o->frame_len);
	struct progress pr;
	int64_t bad;
	int ret = 0;

	if (!buf)
		return pipe_fail("pipe(2) frame buffer", -ENOMEM);
	progress_init(&pr, "pipe(2) comparison", o->quiet);
	while (st->frames < o->frames) {
		ret = read_all(fd, buf, o->frame_len);
		if (ret)
			break;
		bad = pattern_check(buf, o->frame_len, st->frames);
		if (bad >= 0 && st->errors++ < 10)
			pipe_err("pipe(2): frame %" PRIu64 ": wrong byte at "
				 "offset %" PRId64, st->frames, bad);
		st->frames++;
		progress_tick(&pr, st->frames, o->frames);
	}
	progress_end(&pr);
	st->end_ns = now_ns();
	free(buf);
	if (ret == -ENODATA)
		pipe_err("pipe(2): the writer stopped after %" PRIu64
			 " frames", st->frames);
	else if (ret)
		pipe_err("pipe(2): read: %s", strerror(-ret));
	return ret ? EXIT_FAIL : 0;
}

static int reap(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return EXIT_FAIL;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFSIGNALED(status))
		pipe_err("the pipe(2) writer was killed by signal %d",
			 WTERMSIG(status));
	return EXIT_FAIL;
}

int run_pipe2(const struct pipe_opts *o, struct pipe_stats *st)
{
	int fds[2], ret;
	pid_t pid;

	memset(st, 0, sizeof(*st));
	if (pipe2(fds, O_CLOEXEC) < 0)
		return pipe_fail("pipe", -errno);
	fcntl(fds[1], F_SETPIPE_SZ, 1 << 20);
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return pipe_fail("fork", -errno);
	}
	if (pid == 0) {
		pipe_child_init("pipe(2) writer");
		close(fds[0]);
		pipe_child_exit(pipe_writer(o, fds[1]));
	}
	close(fds[1]);
	st->start_ns = now_ns();
	ret = pipe_reader(o, fds[0], st);
	close(fds[0]);
	if (ret)
		kill(pid, SIGKILL);
	return reap(pid) ? EXIT_FAIL : ret;
}
