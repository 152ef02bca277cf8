/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Helpers of libdmabuf's guest tests: the buffer sources a guest may have
 * (sgbuf, its heap node, the system heap, udmabuf, vgem), a zlib-compatible
 * CRC-32, patterns, software fences signalled later. Fd counting, timing
 * and waiting for children are in testutil.h.
 */
#ifndef DMABUF_GUEST_H
#define DMABUF_GUEST_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/utsname.h>
#include <dmabuf/dmabuf.h>
#ifdef HAVE_DRM_H
#include <drm.h>
#include <drm_mode.h>
#endif

#include "tap.h"
#include "testutil.h"

/* Emit @n skips. */
static inline void skip_n(int n, const char *why)
{
	while (n-- > 0)
		tap_skip("%s", why);
}

/* A number from a sysfs file, or -1. */
static inline long long sysfs_ll(const char *path)
{
	long long v = -1;
	FILE *f = fopen(path, "re");

	if (f) {
		if (fscanf(f, "%lld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

/* CRC-32 as zlib's crc32(0, buf, len): poly 0xEDB88320, ~0 in and out. */
static inline uint32_t crc32_zlib(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint32_t crc = ~0u;
	int k;

	while (len--) {
		crc ^= *p++;
		for (k = 0; k < 8; k++)
			crc = crc & 1 ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
	}
	return ~crc;
}

/* Byte i of a test pattern seeded with @seed. */
static inline uint8_t pat(unsigned int seed, size_t i)
{
	return (uint8_t)(i * 31 + seed + (i >> 8));
}

static inline void pat_fill(uint8_t *p, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = pat(seed, i);
}

/* Offset of the first byte that is not the pattern, or -1. */
static inline long pat_check(const uint8_t *p, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != pat(seed, i))
			return (long)i;
	return -1;
}

/* Offset of the first byte of FILL(@pattern) that is wrong, or -1. */
static inline long fill_check(const uint8_t *p, size_t len, uint32_t pattern)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != (uint8_t)(pattern >> (8 * (i % 4))))
			return (long)i;
	return -1;
}

/*
 * A child that signals software fence @id of @e after @ms milliseconds
 * (it shares the engine's file), exiting 0 if that worked: its pid, or -1.
 */
static inline pid_t sw_signal_later(struct dmabuf_engine *e, uint32_t id,
				    int ms)
{
	pid_t pid = fork();

	if (pid == 0) {
		sleep_ms(ms);
		_exit(dmabuf_engine_sw_signal(e, id, 0) ? 1 : 0);
	}
	return pid;
}

/* ------------------------------------------------------------ sources */

enum source_id { SRC_SGBUF, SRC_SGBUF_HEAP, SRC_SYSTEM, SRC_UDMABUF, SRC_VGEM,
		 NR_SOURCES };

struct source {
	const char *label;
	enum dmabuf_backend backend;	/* AUTO for vgem (no allocator) */
	const char *heap;
	const char *exporter;		/* fdinfo exp_name */
};

static const struct source sources[NR_SOURCES] = {
	{ "sgbuf", DMABUF_BACKEND_SGBUF, NULL, "sgbuf" },
	{ "heap sgbuf", DMABUF_BACKEND_HEAP, "sgbuf", "sgbuf" },
	{ "heap system", DMABUF_BACKEND_HEAP, "system", "system" },
	{ "udmabuf", DMABUF_BACKEND_UDMABUF, NULL, "udmabuf" },
	{ "vgem", DMABUF_BACKEND_AUTO, NULL, NULL },
};

#ifdef HAVE_DRM_H
/* The first DRM node whose driver is vgem, or -ENOENT. */
static inline int vgem_open(void)
{
	char path[32], name[16];
	int i, fd;

	for (i = 0; i < 16; i++) {
		struct drm_version v;

		snprintf(path, sizeof(path), "/dev/dri/card%d", i);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		memset(&v, 0, sizeof(v));
		memset(name, 0, sizeof(name));
		v.name = name;
		v.name_len = sizeof(name) - 1;
		if (!ioctl(fd, DRM_IOCTL_VERSION, &v) && !strcmp(name, "vgem"))
			return fd;
		close(fd);
	}
	return -ENOENT;
}

/* A vgem dumb buffer of @size (a multiple of 4096) as a dma-buf fd. */
static inline int vgem_alloc(uint64_t size)
{
	struct drm_mode_create_dumb c = {
		.width = 1024, .height = (uint32_t)(size / 4096), .bpp = 32,
	};
	struct drm_prime_handle h = { .flags = DRM_CLOEXEC | DRM_RDWR };
	struct drm_gem_close gc = { 0 };
	int drm, ret;

	drm = vgem_open();
	if (drm < 0)
		return drm;
	ret = ioctl(drm, DRM_IOCTL_MODE_CREATE_DUMB, &c) ? -errno : 0;
	if (!ret) {
		h.handle = c.handle;
		ret = ioctl(drm, DRM_IOCTL_PRIME_HANDLE_TO_FD, &h) ? -errno
								 : h.fd;
		gc.handle = c.handle;
		ioctl(drm, DRM_IOCTL_GEM_CLOSE, &gc);
	}
	close(drm);
	return ret;
}
#else
static inline int vgem_alloc(uint64_t size)
{
	(void)size;
	return -ENOENT;
}
#endif

/*
 * An allocator for @src in @out (NULL for vgem): 0, or a negative errno
 * with the reason to skip in @why.
 */
static inline int source_open(int src, struct dmabuf_allocator **out,
			      char *why, size_t len)
{
	const struct source *s = &sources[src];
	struct utsname u;
	int ret, fd;

	*out = NULL;
	if (src == SRC_VGEM) {
		fd = vgem_alloc(4096);
		if (fd >= 0)
			close(fd);
		ret = fd < 0 ? fd : 0;
	} else {
		ret = dmabuf_allocator_new(s->backend, s->heap, out);
	}
	if (ret && uname(&u))
		strcpy(u.release, "?");
	if (ret)
		snprintf(why, len, "%s: %s on kernel %s", s->label,
			 ret == -ENOENT ? "not available" : strerror(-ret),
			 u.release);
	return ret;
}

/* A buffer of @size from @src (an allocator from source_open()). */
static inline int source_alloc(int src, struct dmabuf_allocator *a,
			       uint64_t size, const char *name)
{
	int fd;

	if (src != SRC_VGEM)
		return dmabuf_alloc(a, size, 0, name);
	fd = vgem_alloc(size);
	if (fd >= 0 && name && dmabuf_set_name(fd, name)) {
		close(fd);
		return -EIO;
	}
	return fd;
}

#endif /* DMABUF_GUEST_H */
