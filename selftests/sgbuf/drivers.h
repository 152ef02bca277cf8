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
