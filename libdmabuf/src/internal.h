/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libdmabuf internals shared by the source files; not installed.
 */
#ifndef DMABUF_INTERNAL_H
#define DMABUF_INTERNAL_H

#include <errno.h>
#include <sys/ioctl.h>

#include "dmabuf/dmabuf.h"

/* Marks a function as part of the ABI (the rest is hidden). */
#define DMABUF_EXPORT __attribute__((visibility("default")))

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

#endif /* DMABUF_INTERNAL_H */
