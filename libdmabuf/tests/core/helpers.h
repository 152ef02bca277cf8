/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Helpers of the host unit tests: fds that are not dma-bufs; a closed fd
 * number and the count of open fds for leak checks (testutil.h).
 */
#ifndef DMABUF_TEST_HELPERS_H
#define DMABUF_TEST_HELPERS_H

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "testutil.h"

/*
 * Three fds that are neither dma-bufs nor sync_files: a memfd, a pipe's
 * read end and /dev/null (fd[3] is the pipe's write end).
 */
struct not_dmabuf {
	int fd[4];
	const char *what[3];
};

static inline int not_dmabuf_open(struct not_dmabuf *n)
{
	int p[2];

	n->fd[0] = memfd_create("not-a-dmabuf", MFD_CLOEXEC);
	if (n->fd[0] < 0 || ftruncate(n->fd[0], 4096) || pipe2(p, O_CLOEXEC))
		return -1;
	n->fd[1] = p[0];
	n->fd[3] = p[1];
	n->fd[2] = open("/dev/null", O_RDWR | O_CLOEXEC);
	n->what[0] = "memfd";
	n->what[1] = "pipe";
	n->what[2] = "/dev/null";
	return n->fd[2] < 0 ? -1 : 0;
}

static inline void not_dmabuf_close(struct not_dmabuf *n)
{
	int i;

	for (i = 0; i < 4; i++)
		close(n->fd[i]);
}

#endif /* DMABUF_TEST_HELPERS_H */
