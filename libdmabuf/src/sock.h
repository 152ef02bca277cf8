/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What socket.c offers channel.c; not installed.
 */
#ifndef DMABUF_SOCK_H
#define DMABUF_SOCK_H

#include <limits.h>
#include <stdint.h>
#include <time.h>

#include "internal.h"

/* The CLOCK_MONOTONIC deadline of @timeout_ms from now, -1 for none. */
static inline int64_t sock_deadline(int timeout_ms)
{
	struct timespec ts;

	if (timeout_ms < 0)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec +
	       (int64_t)timeout_ms * 1000000;
}

/* poll()'s timeout until @deadline: -1 for none, rounded up, 0 once passed. */
static inline int sock_left_ms(int64_t deadline)
{
	struct timespec ts;
	int64_t left;

	if (deadline < 0)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	left = deadline - ((int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec);
	if (left <= 0)
		return 0;
	left = (left + 999999) / 1000000;
	return left > INT_MAX ? INT_MAX : (int)left;
}

/*
 * dmabuf_recv_fds() with a deadline (from sock_deadline()), for callers
 * that want the bytes of a message whose fds could not be installed: such
 * a message is returned (its length) with *nfds = 0 and *lost = 1, every
 * fd of it closed. Otherwise *lost = 0. @nfds: in, room; out, fds received.
 */
ssize_t sock_recv(int sock, void *data, size_t len, int *fds,
		  unsigned int *nfds, int64_t deadline, int *lost);

#endif /* DMABUF_SOCK_H */
