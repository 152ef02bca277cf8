/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Finding the in-kernel drivers the tests use as foreign importers and
 * exporters: vgem (DRM) and vivid (V4L2). Both return an fd or -ENODEV.
 */
#ifndef SGBUF_SELFTEST_DRIVERS_H
#define SGBUF_SELFTEST_DRIVERS_H

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/videodev2.h>
#include <xf86drm.h>

#include "common.h"

/* Open the first DRM node whose driver is vgem. Returns fd or -ENODEV. */
static inline int open_vgem(void)
{
	static const char *const fmts[] = { "/dev/dri/card%d",
					    "/dev/dri/renderD%d" };
	unsigned int f;
	int i;

	for (f = 0; f < ARRAY_SIZE(fmts); f++) {
		for (i = 0; i < 16; i++) {
			drmVersionPtr v;
			char path[64];
			bool vgem;
			int fd;

			snprintf(path, sizeof(path), fmts[f], f ? 128 + i : i);
			fd = open(path, O_RDWR | O_CLOEXEC);
			if (fd < 0)
				continue;
			v = drmGetVersion(fd);
			vgem = v && v->name && !strcmp(v->name, "vgem");
			drmFreeVersion(v);
			if (vgem)
				return fd;
			close(fd);
		}
	}
	return -ENODEV;
}

/* A vgem dumb buffer of @size bytes. Returns 0 or -errno. */
static inline int vgem_create(int drm, size_t size, uint32_t *handle)
{
	struct drm_mode_create_dumb c;

	*handle = 0;
	memset(&c, 0, sizeof(c));
	c.width = 1024;
	c.bpp = 32;
	c.height = size / 4096;
	if (ioctl(drm, DRM_IOCTL_MODE_CREATE_DUMB, &c))
		return -errno;
	*handle = c.handle;
	return c.size >= size ? 0 : -ERANGE;
}

/* Export a vgem object as a read-write dma-buf. Returns the fd or -errno. */
static inline int vgem_export(int drm, uint32_t handle)
{
	int fd = -1;

	if (drmPrimeHandleToFD(drm, handle, DRM_CLOEXEC | DRM_RDWR, &fd))
		return errno ? -errno : -EIO;
	return fd;
}

/* A vgem dumb buffer of @size bytes, exported. Returns the fd or -errno. */
static inline int vgem_dmabuf(int drm, size_t size)
{
	uint32_t handle;
	int ret = vgem_create(drm, size, &handle);

	return ret ? ret : vgem_export(drm, handle);
}

/* A vivid video capture node that can stream. */
static inline int open_vivid_capture(void)
{
	int i;

	for (i = 0; i < 64; i++) {
		struct v4l2_capability cap;
		char path[64];
		__u32 caps;
		int fd;

		snprintf(path, sizeof(path), "/dev/video%d", i);
		fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0)
			continue;
		memset(&cap, 0, sizeof(cap));
		if (ioctl(fd, VIDIOC_QUERYCAP, &cap)) {
			close(fd);
			continue;
		}
		caps = cap.capabilities & V4L2_CAP_DEVICE_CAPS ?
			cap.device_caps : cap.capabilities;
		if (!strcmp((char *)cap.driver, "vivid") &&
		    (caps & V4L2_CAP_VIDEO_CAPTURE) &&
		    (caps & V4L2_CAP_STREAMING))
			return fd;
		close(fd);
	}
	return -ENODEV;
}

#endif /* SGBUF_SELFTEST_DRIVERS_H */
