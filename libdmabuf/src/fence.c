// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * sync_file fds: wait, status, merge.
 */
#include <fcntl.h>
#include <string.h>
#include <linux/sync_file.h>

#include "internal.h"

/* SYNC_IOC_FILE_INFO's status: 1 signalled, 0 active, or the error. */
static int file_status(int fd, int *status)
{
	struct sync_file_info info;
	int ret;

	if (fd < 0)
		return -EBADF;
	memset(&info, 0, sizeof(info));
	ret = dmabuf_ioctl(fd, SYNC_IOC_FILE_INFO, &info);
	if (ret)
		return ret == -ENOTTY ? -EINVAL : ret;	/* not a sync_file */
	*status = info.status;
	return 0;
}

DMABUF_EXPORT int dmabuf_fence_status(int sync_fd)
{
	int ret, status;

	ret = file_status(sync_fd, &status);
	if (ret)
		return ret;
	return status > 0 ? 1 : status;
}

DMABUF_EXPORT int dmabuf_fence_wait(int sync_fd, int timeout_ms)
{
	int ret;

	ret = dmabuf_fence_status(sync_fd);
	if (!ret) {
		/* a sync_file polls POLLIN once its fence has signalled */
		ret = dmabuf_poll(sync_fd, POLLIN, timeout_ms);
		if (ret)
			return ret;
		ret = dmabuf_fence_status(sync_fd);
		if (!ret)
			return -EIO;
	}
	return ret == 1 ? 0 : ret;
}

DMABUF_EXPORT int dmabuf_fence_merge(int a, int b)
{
	struct sync_merge_data req;
	int ret, status;

	/* a closed fd is -EBADF, whichever of the two is not a sync_file */
	if (a < 0 || b < 0 || fcntl(a, F_GETFD) < 0 || fcntl(b, F_GETFD) < 0)
		return -EBADF;
	ret = file_status(a, &status);
	if (!ret)
		ret = file_status(b, &status);
	if (ret)
		return ret;
	memset(&req, 0, sizeof(req));
	strcpy(req.name, "libdmabuf-merge");
	req.fd2 = b;
	ret = dmabuf_ioctl(a, SYNC_IOC_MERGE, &req);
	return ret ? ret : req.fence;
}
