// SPDX-License-Identifier: LGPL-2.1-or-later
/* Placeholder: returns -ENOSYS until implemented. */
#include "internal.h"

DMABUF_EXPORT int dmabuf_get_info(int fd, struct dmabuf_info *info)
{
	return -ENOSYS;
}

DMABUF_EXPORT int dmabuf_set_name(int fd, const char *name)
{
	return -ENOSYS;
}

DMABUF_EXPORT int dmabuf_get_name(int fd, char *name, size_t len)
{
	return -ENOSYS;
}

DMABUF_EXPORT int dmabuf_map(int fd, uint32_t access, void **addr, size_t *size)
{
	return -ENOSYS;
}

DMABUF_EXPORT int dmabuf_unmap(void *addr, size_t size)
{
	return -ENOSYS;
}

DMABUF_EXPORT int dmabuf_sync_begin(int fd, uint32_t access)
{
	return -ENOSYS;
}

DMABUF_EXPORT int dmabuf_sync_end(int fd, uint32_t access)
{
	return -ENOSYS;
}

DMABUF_EXPORT int dmabuf_sync_range(int fd, int begin, uint32_t access, uint64_t offset, uint64_t length)
{
	return -ENOSYS;
}

DMABUF_EXPORT int dmabuf_wait(int fd, uint32_t access, int timeout_ms)
{
	return -ENOSYS;
}

DMABUF_EXPORT int dmabuf_export_sync_file(int fd, uint32_t access)
{
	return -ENOSYS;
}

DMABUF_EXPORT int dmabuf_import_sync_file(int fd, uint32_t access, int sync_fd)
{
	return -ENOSYS;
}
