// SPDX-License-Identifier: LGPL-2.1-or-later
/* Placeholder: returns -ENOSYS until implemented. */
#include "internal.h"

DMABUF_EXPORT int dmabuf_engine_new(struct dmabuf_engine **out)
{
	return -ENOSYS;
}

DMABUF_EXPORT void dmabuf_engine_free(struct dmabuf_engine *engine)
{
}

DMABUF_EXPORT int dmabuf_engine_fd(const struct dmabuf_engine *engine)
{
	return -ENOSYS;
}

DMABUF_EXPORT int dmabuf_engine_import(struct dmabuf_engine *engine, int fd, uint32_t flags, uint32_t *handle)
{
	return -ENOSYS;
}

DMABUF_EXPORT int dmabuf_engine_unimport(struct dmabuf_engine *engine, uint32_t handle)
{
	return -ENOSYS;
}

DMABUF_EXPORT int dmabuf_engine_submit(struct dmabuf_engine *engine, const struct dmabuf_job *job, uint64_t *seqno, int *out_fence_fd)
{
	return -ENOSYS;
}

DMABUF_EXPORT int dmabuf_engine_wait(struct dmabuf_engine *engine, uint64_t seqno, int timeout_ms, uint64_t *checksum)
{
	return -ENOSYS;
}

DMABUF_EXPORT int dmabuf_engine_configure(struct dmabuf_engine *engine, const struct dmabuf_engine_config *config)
{
	return -ENOSYS;
}

DMABUF_EXPORT int dmabuf_engine_sw_fence(struct dmabuf_engine *engine, uint32_t *id)
{
	return -ENOSYS;
}

DMABUF_EXPORT int dmabuf_engine_sw_signal(struct dmabuf_engine *engine, uint32_t id, int error)
{
	return -ENOSYS;
}
