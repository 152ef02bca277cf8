// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Allocators: /dev/sgbuf, a dma-heap /dev/dma_heap/<name>, or /dev/udmabuf
 * over a sealed memfd.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <linux/dma-heap.h>
#include <linux/sgbuf.h>
#include <linux/udmabuf.h>

#include "internal.h"

#define UDMABUF_LIMIT_PARAM "/sys/module/udmabuf/parameters/size_limit_mb"

struct dmabuf_allocator {
	int fd;			/* /dev/sgbuf, the heap's node, /dev/udmabuf */
	struct dmabuf_caps caps;
};

/* open() with the device missing (or its driver gone) as -ENOENT */
static int open_dev(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC);

	if (fd >= 0)
		return fd;
	if (errno == ENXIO || errno == ENODEV)
		return -ENOENT;
	return dmabuf_neg_errno();
}

static uint64_t page_size(void)
{
	long ps = sysconf(_SC_PAGESIZE);

	return ps > 0 ? (uint64_t)ps : 4096;
}

static int open_sgbuf(struct dmabuf_allocator *a)
{
	struct sgbuf_info info;
	int ret;

	a->fd = open_dev("/dev/sgbuf", O_RDWR);
	if (a->fd < 0)
		return a->fd;
	memset(&info, 0, sizeof(info));
	ret = dmabuf_ioctl(a->fd, SGBUF_IOCTL_GET_INFO, &info);
	if (ret) {
		close(a->fd);
		return ret;
	}
	a->caps.flags = DMABUF_CAP_CACHED | DMABUF_CAP_NAME_AT_ALLOC;
	if ((info.caps & SGBUF_CAP_CONTIGUOUS) && info.max_contig_size) {
		a->caps.flags |= DMABUF_CAP_CONTIGUOUS;
		a->caps.max_contig_size = info.max_contig_size;
	}
	if (info.caps & SGBUF_CAP_ENGINE)
		a->caps.flags |= DMABUF_CAP_ENGINE;
#ifdef SGBUF_CAP_SYNC_RANGE
	if (info.caps & SGBUF_CAP_SYNC_RANGE)
		a->caps.flags |= DMABUF_CAP_SYNC_RANGE;
#endif
#ifdef SGBUF_CAP_CHECKSUM64
	if ((info.caps & SGBUF_CAP_ENGINE) &&
	    (info.caps & SGBUF_CAP_CHECKSUM64))
		a->caps.flags |= DMABUF_CAP_CHECKSUM64;
#endif
	a->caps.page_size = info.page_size ? info.page_size : page_size();
	a->caps.max_size = info.max_buffer_size;
	strcpy(a->caps.name, "sgbuf");
	return 0;
}

static int open_heap(struct dmabuf_allocator *a, const char *name)
{
	char path[96];

	/* one path component that fits in caps.name */
	if (!*name || strlen(name) >= sizeof(a->caps.name) ||
	    strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
		return -EINVAL;
	snprintf(path, sizeof(path), "/dev/dma_heap/%s", name);
	a->fd = open_dev(path, O_RDONLY);
	if (a->fd < 0)
		return a->fd;
	/*
	 * The kernel does not say whether a heap maps its buffers cached:
	 * only for the heaps known to (the mainline system heap, sgbuf's)
	 * is DMABUF_CAP_CACHED set; for others it is unknown, and left clear.
	 */
	a->caps.flags = !strcmp(name, "system") || !strcmp(name, "sgbuf") ?
			DMABUF_CAP_CACHED : 0;
	a->caps.page_size = page_size();
	strcpy(a->caps.name, name);
	return 0;
}

static uint64_t udmabuf_limit(void)
{
	unsigned long long mb = 0;
	FILE *f = fopen(UDMABUF_LIMIT_PARAM, "re");

	if (!f)
		return 0;
	if (fscanf(f, "%llu", &mb) != 1)
		mb = 0;
	fclose(f);
	return dmabuf_mib(mb);
}

static int open_udmabuf(struct dmabuf_allocator *a)
{
	a->fd = open_dev("/dev/udmabuf", O_RDWR);
	if (a->fd < 0)
		return a->fd;
	a->caps.flags = DMABUF_CAP_CACHED;
	a->caps.page_size = page_size();
	a->caps.max_size = udmabuf_limit();
	strcpy(a->caps.name, "udmabuf");
	return 0;
}

static int open_backend(struct dmabuf_allocator *a,
			enum dmabuf_backend backend, const char *heap)
{
	memset(&a->caps, 0, sizeof(a->caps));	/* reserved words too */
	a->caps.backend = (uint32_t)backend;
	switch (backend) {
	case DMABUF_BACKEND_SGBUF:
		return open_sgbuf(a);
	case DMABUF_BACKEND_HEAP:
		return open_heap(a, heap ? heap : "system");
	case DMABUF_BACKEND_UDMABUF:
		return open_udmabuf(a);
	default:
		return -EINVAL;
	}
}

DMABUF_EXPORT int dmabuf_allocator_new(enum dmabuf_backend backend,
				       const char *heap,
				       struct dmabuf_allocator **out)
{
	static const enum dmabuf_backend order[] = {
		DMABUF_BACKEND_SGBUF, DMABUF_BACKEND_HEAP,
		DMABUF_BACKEND_UDMABUF,
	};
	struct dmabuf_allocator *a;
	int ret = -ENOENT, err;
	size_t i;

	if (!out || (heap && backend != DMABUF_BACKEND_HEAP))
		return -EINVAL;
	if ((unsigned int)backend > DMABUF_BACKEND_UDMABUF)
		return -EINVAL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	if (backend != DMABUF_BACKEND_AUTO) {
		ret = open_backend(a, backend, heap);
	} else {
		/* the first that works; else the first error but -ENOENT */
		for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
			err = open_backend(a, order[i], NULL);
			if (!err || ret == -ENOENT)
				ret = err;
			if (!err)
				break;
		}
	}
	if (ret) {
		free(a);
		return ret;
	}
	*out = a;
	return 0;
}

DMABUF_EXPORT void dmabuf_allocator_free(struct dmabuf_allocator *alloc)
{
	if (!alloc)
		return;
	close(alloc->fd);
	free(alloc);
}

DMABUF_EXPORT int dmabuf_allocator_caps(const struct dmabuf_allocator *alloc,
					struct dmabuf_caps *caps)
{
	if (!alloc || !caps)
		return -EINVAL;
	*caps = alloc->caps;
	return 0;
}

static int alloc_sgbuf(struct dmabuf_allocator *a, uint64_t size,
		       uint32_t flags, int fd_flags, const char *name)
{
	struct sgbuf_alloc req;
	int ret;

	memset(&req, 0, sizeof(req));
	req.size = size;
	if (flags & DMABUF_ALLOC_CONTIGUOUS)
		req.flags = SGBUF_ALLOC_CONTIGUOUS;
	req.fd_flags = (uint32_t)fd_flags;
	if (name)
		strcpy(req.name, name);
	ret = dmabuf_ioctl(a->fd, SGBUF_IOCTL_ALLOC, &req);
	return ret ? ret : req.fd;
}

static int alloc_heap(struct dmabuf_allocator *a, uint64_t size,
		      int fd_flags)
{
	struct dma_heap_allocation_data req;
	int ret;

	memset(&req, 0, sizeof(req));
	req.len = size;
	req.fd_flags = (uint32_t)fd_flags;
	ret = dmabuf_ioctl(a->fd, DMA_HEAP_IOCTL_ALLOC, &req);
	return ret ? ret : (int)req.fd;
}

static int alloc_udmabuf(struct dmabuf_allocator *a, uint64_t size,
			 const char *name)
{
	struct udmabuf_create req;
	int memfd, ret;

	/* ftruncate()'s off_t */
	if (size > INT64_MAX)
		return -EFBIG;
	memfd = memfd_create(name ? name : "libdmabuf",
			     MFD_ALLOW_SEALING | MFD_CLOEXEC);
	if (memfd < 0)
		return dmabuf_neg_errno();
	if (ftruncate(memfd, (off_t)size) ||
	    fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK)) {
		ret = dmabuf_neg_errno();
		goto out;
	}
	memset(&req, 0, sizeof(req));
	req.memfd = (uint32_t)memfd;
	req.flags = UDMABUF_FLAGS_CLOEXEC;
	req.size = size;
	ret = dmabuf_ioctl(a->fd, UDMABUF_CREATE, &req);
out:
	close(memfd);
	return ret;
}

DMABUF_EXPORT int dmabuf_alloc(struct dmabuf_allocator *alloc, uint64_t size,
			       uint32_t flags, const char *name)
{
	const uint32_t known = DMABUF_ALLOC_CONTIGUOUS | DMABUF_ALLOC_READONLY;
	int fd_flags, fd, ret;
	uint64_t ps;

	if (!alloc || !size || (flags & ~known) ||
	    (name && !dmabuf_name_valid(name)))
		return -EINVAL;
	if (name && !*name)
		name = NULL;
	ps = alloc->caps.page_size;
	if (size > UINT64_MAX - (ps - 1))
		return -EFBIG;
	size = (size + ps - 1) / ps * ps;
	if (alloc->caps.max_size && size > alloc->caps.max_size)
		return -EFBIG;
	if ((flags & DMABUF_ALLOC_CONTIGUOUS) &&
	    !(alloc->caps.flags & DMABUF_CAP_CONTIGUOUS))
		return -EOPNOTSUPP;
	fd_flags = O_CLOEXEC |
		   (flags & DMABUF_ALLOC_READONLY ? O_RDONLY : O_RDWR);

	switch (alloc->caps.backend) {
	case DMABUF_BACKEND_SGBUF:
		return alloc_sgbuf(alloc, size, flags, fd_flags, name);
	case DMABUF_BACKEND_HEAP:
		fd = alloc_heap(alloc, size, fd_flags);
		break;
	default:
		/* udmabuf's dma-bufs are always O_RDWR */
		if (flags & DMABUF_ALLOC_READONLY)
			return -EOPNOTSUPP;
		fd = alloc_udmabuf(alloc, size, name);
		break;
	}
	if (fd < 0 || !name)
		return fd;
	ret = dmabuf_set_name(fd, name);
	if (ret) {
		close(fd);
		return ret;
	}
	return fd;
}
