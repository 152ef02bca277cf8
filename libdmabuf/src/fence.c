// SPDX-License-Identifier: LGPL-2.1-or-later
/* Placeholder: returns -ENOSYS until implemented. */
#include "internal.h"

DMABUF_EXPORT int dmabuf_fence_wait(int sync_fd, int timeout_ms)
{
	return -ENOSYS;
}

DMABUF_EXPORT int dmabuf_fence_status(int sync_fd)
{
	return -ENOSYS;
}

DMABUF_EXPORT int dmabuf_fence_merge(int a, int b)
{
	return -ENOSYS;
}
