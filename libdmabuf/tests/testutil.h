/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Helpers of every test suite (core, share, guest): fd counting, a closed
 * fd number, timing, sleeping, waiting for child processes.
 */
#ifndef DMABUF_TESTUTIL_H
#define DMABUF_TESTUTIL_H

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>
#include <sys/types.h>
#include <sys/wait.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Open fds of this process (the directory's own fd not counted). */
static inline int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;
}

/* An fd number that is not open. */
static inline int closed_fd(void)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	close(fd);
	return fd;
}

/* CLOCK_MONOTONIC in milliseconds and in nanoseconds. */
static inline int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Runs @ms milliseconds of sleep. */
static inline void sleep_ms(int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000,
			       .tv_nsec = (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts))
		;
}

/* The exit status of @pid, or -1 if it did not exit normally. */
static inline int wait_child(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/*
 * The exit status of @pid if it exits within @ms milliseconds; else it is
 * killed and -2 returned (a hang is a failure, not a hung test).
 */
static inline int wait_child_ms(pid_t pid, int ms)
{
	int st, i;

	for (i = 0; i < ms; i += 10) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
		sleep_ms(10);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return -2;
}

#endif /* DMABUF_TESTUTIL_H */
