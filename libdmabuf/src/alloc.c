// SPDX-License-Identifier: LGPL-2.1-or-later
/* Placeholder: returns -ENOSYS until implemented. */
#include "internal.h"

DMABUF_EXPORT int dmabuf_allocator_new(enum dmabuf_backend backend, const char *heap, struct dmabuf_allocator **out)
{
	return -ENOSYS;
}

DMABUF_EXPORT void dmabuf_allocator_free(struct dmabuf_allocator *alloc)
{
}

DMABUF_EXPORT int dmabuf_allocator_caps(const struct dmabuf_allocator *alloc, struct dmabuf_caps *caps)
{
	return -ENOSYS;
}

DMABUF_EXPORT int dmabuf_alloc(struct dmabuf_allocator *alloc, uint64_t size, uint32_t flags, const char *name)
{
	return -ENOSYS;
}
