/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libdmabuf internals shared by the source files: errors, argument checks,
 * timeouts and poll(), fds. Not installed.
 */
#ifndef DMABUF_INTERNAL_H
#define DMABUF_INTERNAL_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>

#include "dmabuf/dmabuf.h"

/* Marks a function as part of the ABI (the rest is hidden). */
#define DMABUF_EXPORT __attribute__((visibility("default")))

#define DMABUF_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* -errno of the last failed call, never 0 even if errno was clobbered. */
static inline int dmabuf_neg_errno(void)
{
	return errno > 0 ? -errno : -EIO;
}

/* ioctl() retried on EINTR and EAGAIN; returns 0 or -errno. */
static inline int dmabuf_ioctl(int fd, unsigned long req, void *arg)
{
	int ret;

	do {
		ret = ioctl(fd, req, arg);
	} while (ret == -1 && (errno == EINTR || errno == EAGAIN));
	return ret == -1 ? dmabuf_neg_errno() : ret;
}

static inline void dmabuf_close_fds(const int *fds, unsigned int n)
{
	while (n--)
		close(fds[n]);
}

/* 0 if @fd is open, else -EBADF (negative, or not open). */
static inline int dmabuf_fd_open(int fd)
{
	return fd >= 0 && fcntl(fd, F_GETFD) >= 0 ? 0 : -EBADF;
}

/* 0 if @fd is a dma-buf, -EBADF if it is not open, else -EINVAL. */
static inline int dmabuf_check_fd(int fd)
{
	struct statfs st;

	if (fd < 0)
		return -EBADF;
	if (fstatfs(fd, &st))
		return dmabuf_neg_errno();
	return st.f_type == DMA_BUF_MAGIC ? 0 : -EINVAL;
}

/* A buffer name: printable ASCII, shorter than DMABUF_NAME_MAX. */
static inline bool dmabuf_name_valid(const char *name)
{
	size_t i;

	for (i = 0; name[i]; i++) {
		if (i + 1 >= DMABUF_NAME_MAX)
			return false;
		if (name[i] < 0x20 || name[i] > 0x7e)
			return false;
	}
	return true;
}

/* DMABUF_READ and/or DMABUF_WRITE, nothing else */
static inline bool dmabuf_access_valid(uint32_t access)
{
	return access && !(access & ~(uint32_t)DMABUF_RW);
}

/* Every word of a reserved array is zero. */
static inline bool dmabuf_zeroed(const void *p, size_t len)
{
	const unsigned char *b = p;

	while (len--)
		if (*b++)
			return false;
	return true;
}

/* @mb mebibytes in bytes, UINT64_MAX if that does not fit. */
static inline uint64_t dmabuf_mib(uint64_t mb)
{
	return mb > UINT64_MAX >> 20 ? UINT64_MAX : mb << 20;
}

/*
 * Timeouts: a relative timeout in milliseconds (negative: forever) becomes
 * a CLOCK_MONOTONIC deadline in nanoseconds (-1: none), so that a wait
 * restarted after EINTR, or a call made of several waits, does not start
 * its timeout over.
 */
static inline int64_t dmabuf_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The deadline of @timeout_ms from now, or -1 for none. */
static inline int64_t dmabuf_deadline(int timeout_ms)
{
	if (timeout_ms < 0)
		return -1;
	return dmabuf_now_ns() + (int64_t)timeout_ms * 1000000;
}

/* Nanoseconds left until @deadline (0 once passed), or -1 for none. */
static inline int64_t dmabuf_left_ns(int64_t deadline)
{
	int64_t left;

	if (deadline < 0)
		return -1;
	left = deadline - dmabuf_now_ns();
	return left > 0 ? left : 0;
}

/* poll()'s timeout until @deadline: -1 for none, rounded up, 0 once passed. */
static inline int dmabuf_left_ms(int64_t deadline)
{
	int64_t left = dmabuf_left_ns(deadline);

	if (left <= 0)
		return (int)left;
	left = (left + 999999) / 1000000;
	return left > INT_MAX ? INT_MAX : (int)left;
}

/*
 * poll() @fd until @deadline for @events: its revents (> 0) as soon as
 * any is set (POLLERR and POLLHUP included), -ETIME once the deadline has
 * passed, -EBADF if @fd is not open, or another negative errno.
 */
static inline int dmabuf_poll_until(int fd, short events, int64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	int left, ret;

	for (;;) {
		left = dmabuf_left_ms(deadline);
		ret = poll(&p, 1, left);
		if (ret > 0)
			return p.revents & POLLNVAL ? -EBADF : p.revents;
		if (ret == 0 && left == 0)
			return -ETIME;
		/* ret == 0: woke up before the deadline (rounding) */
		if (ret < 0 && errno != EINTR && errno != EAGAIN)
			return dmabuf_neg_errno();
	}
}

/*
 * poll() @fd until one of @events is set: 0, -ETIME, -EBADF if @fd is not
 * open, -EIO on POLLERR or POLLHUP without @events, or a negative errno.
 */
static inline int dmabuf_poll(int fd, short events, int timeout_ms)
{
	int ret = dmabuf_poll_until(fd, events, dmabuf_deadline(timeout_ms));

	if (ret < 0)
		return ret;
	return ret & events ? 0 : -EIO;
}

/*
 * dmabuf_recv_fds() with a deadline (from dmabuf_deadline()), for callers
 * that want the bytes of a message whose fds could not be installed: such
 * a message is returned (its length) with *nfds = 0 and *lost = 1, every
 * fd of it closed. Otherwise *lost = 0. @nfds: in, room; out, fds received
 * (socket.c).
 */
ssize_t dmabuf_sock_recv(int sock, void *data, size_t len, int *fds,
			 unsigned int *nfds, int64_t deadline, int *lost);

#endif /* DMABUF_INTERNAL_H */
