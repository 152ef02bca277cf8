// SPDX-License-Identifier: LGPL-2.1-or-later
/* Placeholder: returns -ENOSYS until implemented. */
#include "internal.h"

DMABUF_EXPORT int dmabuf_channel_new(int sock, enum dmabuf_channel_role role, struct dmabuf_channel **out)
{
	return -ENOSYS;
}

DMABUF_EXPORT void dmabuf_channel_free(struct dmabuf_channel *ch)
{
}

DMABUF_EXPORT int dmabuf_channel_fd(const struct dmabuf_channel *ch)
{
	return -ENOSYS;
}

DMABUF_EXPORT int dmabuf_channel_add_buffer(struct dmabuf_channel *ch, int buf_fd, uint32_t *id)
{
	return -ENOSYS;
}

DMABUF_EXPORT int dmabuf_channel_acquire(struct dmabuf_channel *ch, int timeout_ms, struct dmabuf_frame *frame)
{
	return -ENOSYS;
}

DMABUF_EXPORT int dmabuf_channel_send(struct dmabuf_channel *ch, const struct dmabuf_frame *frame)
{
	return -ENOSYS;
}

DMABUF_EXPORT int dmabuf_channel_receive(struct dmabuf_channel *ch, int timeout_ms, struct dmabuf_frame *frame)
{
	return -ENOSYS;
}

DMABUF_EXPORT int dmabuf_channel_release(struct dmabuf_channel *ch, uint32_t id, int fence_fd)
{
	return -ENOSYS;
}

DMABUF_EXPORT int dmabuf_channel_finish(struct dmabuf_channel *ch)
{
	return -ENOSYS;
}
