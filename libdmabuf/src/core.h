/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Helpers shared by alloc.c, buffer.c, fence.c and engine.c; not installed.
 */
#ifndef DMABUF_CORE_H
#define DMABUF_CORE_H

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <sys/vfs.h>
#include <linux/magic.h>

#include "internal.h"

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

/*
 * Timeouts: a relative timeout in milliseconds (negative: forever) becomes
 * a CLOCK_MONOTONIC deadline, so that a wait restarted after EINTR does
 * not start its timeout over.
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

/*
 * poll() @fd until one of @events is set: 0, -ETIME, -EBADF if @fd is not
 * open, or another negative errno.
 */
static inline int dmabuf_poll(int fd, short events, int timeout_ms)
{
	int64_t deadline = dmabuf_deadline(timeout_ms);
	struct pollfd p = { .fd = fd, .events = events };
	int64_t left;
	int ret;

	for (;;) {
		left = dmabuf_left_ns(deadline);
		/* round up: never return before the deadline */
		if (left > 0)
			left = (left + 999999) / 1000000;
		if (left > INT32_MAX)
			left = INT32_MAX;
		ret = poll(&p, 1, (int)left);
		if (ret < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (ret < 0)
			return errno > 0 ? -errno : -EIO;
		if (ret == 0) {
			if (left == 0)
				return -ETIME;
			continue;
		}
		if (p.revents & POLLNVAL)
			return -EBADF;
		if (p.revents & events)
			return 0;
		if (p.revents & (POLLERR | POLLHUP))
			return -EIO;
	}
}

#endif /* DMABUF_CORE_H */
