// SPDX-License-Identifier: LGPL-2.1-or-later
/* Placeholder: returns -ENOSYS until implemented. */
#include "internal.h"

DMABUF_EXPORT int dmabuf_socketpair(int sv[2])
{
	return -ENOSYS;
}

DMABUF_EXPORT int dmabuf_listen(const char *path)
{
	return -ENOSYS;
}

DMABUF_EXPORT int dmabuf_accept(int listen_fd, int timeout_ms)
{
	return -ENOSYS;
}

DMABUF_EXPORT int dmabuf_connect(const char *path)
{
	return -ENOSYS;
}

DMABUF_EXPORT int dmabuf_send_fds(int sock, const void *data, size_t len, const int *fds, unsigned int nfds)
{
	return -ENOSYS;
}

DMABUF_EXPORT ssize_t dmabuf_recv_fds(int sock, void *data, size_t len, int *fds, unsigned int *nfds, int timeout_ms)
{
	return -ENOSYS;
}
