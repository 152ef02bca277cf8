// SPDX-License-Identifier: GPL-2.0
/*
 * sgbuf-bench: the four exporters, each behind one alloc() that returns a
 * dma-buf fd. Freeing is close(): the last reference releases the buffer
 * before close() returns to userspace (fput's task work).
 *
 *   sgbuf    SGBUF_IOCTL_ALLOC on /dev/sgbuf
 *   heap     DMA_HEAP_IOCTL_ALLOC on /dev/dma_heap/system
 *   udmabuf  memfd_create + ftruncate + F_SEAL_SHRINK + UDMABUF_CREATE
 *            (the memfd is closed inside the timed allocation)
 *   vgem     DRM_IOCTL_MODE_CREATE_DUMB + PRIME export + GEM_CLOSE on the
 *            vgem DRM node; vgem allocates pages at first mmap or attach
 */
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <drm.h>
#include <drm_mode.h>
#include <linux/dma-heap.h>
#include <linux/sgbuf.h>
#include <linux/udmabuf.h>

int sgbuf_fd = -1;

static int sgbuf_alloc(struct exporter *e, uint64_t size)
{
	struct sgbuf_alloc a = {
		.size = size,
		.fd_flags = O_RDWR | O_CLOEXEC,
	};

	if (ioctl(e->dev, SGBUF_IOCTL_ALLOC, &a))
		return -errno;
	return a.fd;
}

static int heap_alloc(struct exporter *e, uint64_t size)
{
	struct dma_heap_allocation_data a = {
		.len = size,
		.fd_flags = O_RDWR | O_CLOEXEC,
	};

	if (ioctl(e->dev, DMA_HEAP_IOCTL_ALLOC, &a))
		return -errno;
	return (int)a.fd;
}

static int udmabuf_alloc(struct exporter *e, uint64_t size)
{
	struct udmabuf_create c = { .flags = UDMABUF_FLAGS_CLOEXEC,
				    .size = size };
	int memfd, fd, err;

	memfd = memfd_create("sgbuf-bench", MFD_ALLOW_SEALING | MFD_CLOEXEC);
	if (memfd < 0)
		return -errno;
	if (ftruncate(memfd, (off_t)size) ||
	    fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK)) {
		err = -errno;
		close(memfd);
		return err;
	}
	c.memfd = (uint32_t)memfd;
	fd = ioctl(e->dev, UDMABUF_CREATE, &c);
	err = fd < 0 ? -errno : fd;
	close(memfd);
	return err;
}

static int vgem_alloc(struct exporter *e, uint64_t size)
{
	struct drm_mode_create_dumb c = { .width = 1024, .bpp = 32,
					  .height = (uint32_t)(size / 4096) };
	struct drm_prime_handle p = { .flags = DRM_CLOEXEC | DRM_RDWR };
	struct drm_gem_close g = { 0 };
	int err = 0;

	if (size % 4096 || size / 4096 > UINT32_MAX)
		return -EINVAL;
	if (ioctl(e->dev, DRM_IOCTL_MODE_CREATE_DUMB, &c))
		return -errno;
	p.handle = c.handle;
	if (ioctl(e->dev, DRM_IOCTL_PRIME_HANDLE_TO_FD, &p))
		err = -errno;
	/* the dma-buf holds its own reference to the object */
	g.handle = c.handle;
	ioctl(e->dev, DRM_IOCTL_GEM_CLOSE, &g);
	return err ? err : p.fd;
}

/* This order is relied on: alloc.c and map.c pair sgbuf with the heap. */
struct exporter exporters[] = {
	{ .name = "sgbuf", .alloc = sgbuf_alloc, .dev = -1 },
	{ .name = "heap", .alloc = heap_alloc, .dev = -1 },
	{ .name = "udmabuf", .alloc = udmabuf_alloc, .dev = -1 },
	{ .name = "vgem", .alloc = vgem_alloc, .dev = -1, .lazy = true },
};

const unsigned int nr_exporters = ARRAY_SIZE(exporters);

/* The first DRM card whose driver name (DRM_IOCTL_VERSION) is "vgem". */
static int open_vgem(void)
{
	int i;

	for (i = 0; i < 64; i++) {
		char path[32], name[16] = "";
		struct drm_version v = { .name = name,
					 .name_len = sizeof(name) - 1 };
		int fd;

		snprintf(path, sizeof(path), "/dev/dri/card%d", i);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (!ioctl(fd, DRM_IOCTL_VERSION, &v) && !strcmp(name, "vgem"))
			return fd;
		close(fd);
	}
	return -1;
}

static void open_dev(struct exporter *e, const char *path, const char *what)
{
	e->dev = open(path, O_RDWR | O_CLOEXEC);
	if (e->dev >= 0)
		return;
	if (errno == ENOENT)
		snprintf(e->missing, sizeof(e->missing),
			 "no %s: this kernel has no %s", path, what);
	else
		snprintf(e->missing, sizeof(e->missing), "%s: %s", path,
			 strerror(errno));
}

static bool wanted(const char *only, const char *name)
{
	size_t len = strlen(name);
	const char *p = only;

	if (!only)
		return true;
	while ((p = strstr(p, name))) {
		if ((p == only || p[-1] == ',') && (!p[len] || p[len] == ','))
			return true;
		p += len;
	}
	return false;
}

void exporters_probe(const char *only)
{
	struct exporter *e;
	char buf[32];
	FILE *f;

	sgbuf_fd = open("/dev/sgbuf", O_RDWR | O_CLOEXEC);
	for (e = exporters; e < exporters + nr_exporters; e++) {
		if (!strcmp(e->name, "sgbuf")) {
			if (sgbuf_fd >= 0)
				e->dev = sgbuf_fd;
			else
				snprintf(e->missing, sizeof(e->missing),
					 "/dev/sgbuf: %s (sgbuf not loaded?)",
					 strerror(errno));
		} else if (!strcmp(e->name, "heap")) {
			open_dev(e, "/dev/dma_heap/system",
				 "system dma-heap (CONFIG_DMABUF_HEAPS_SYSTEM)");
		} else if (!strcmp(e->name, "udmabuf")) {
			open_dev(e, "/dev/udmabuf", "udmabuf (CONFIG_UDMABUF)");
			f = fopen("/sys/module/udmabuf/parameters/size_limit_mb",
				  "re");
			if (f && fgets(buf, sizeof(buf), f))
				e->max_size = strtoull(buf, NULL, 10) * MiB;
			if (f)
				fclose(f);
		} else if (!strcmp(e->name, "vgem")) {
			e->dev = open_vgem();
			if (e->dev < 0)
				snprintf(e->missing, sizeof(e->missing),
					 "no vgem DRM node (vgem not loaded)");
		}
		if (!e->missing[0] && !wanted(only, e->name)) {
			snprintf(e->missing, sizeof(e->missing),
				 "not selected (-x)");
		}
		progress("exporter %-8s %s", e->name,
			 e->missing[0] ? e->missing : "ok");
	}
}

struct exporter *exporter_get(const char *name)
{
	struct exporter *e;

	for (e = exporters; e < exporters + nr_exporters; e++)
		if (!strcmp(e->name, name) && !e->missing[0])
			return e;
	return NULL;
}

const char *exporter_cannot(const struct exporter *e, uint64_t size)
{
	static char why[128];

	if (e->missing[0])
		return e->missing;
	if (e->max_size && size > e->max_size) {
		snprintf(why, sizeof(why),
			 "%s is above udmabuf.size_limit_mb=%llu",
			 size_name(size), (unsigned long long)(e->max_size / MiB));
		return why;
	}
	return NULL;
}

int xalloc(struct exporter *e, uint64_t size)
{
	int fd = e->alloc(e, size);

	if (fd < 0)
		die("%s: allocating %s: %s", e->name, size_name(size),
		    strerror(-fd));
	return fd;
}
