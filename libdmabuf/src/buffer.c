// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Operations on any dma-buf fd: information, names, CPU mappings, CPU
 * access bracketing, implicit-sync fences.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <linux/dma-buf.h>
#include <linux/sgbuf.h>

#include "internal.h"

/* The value of line "key:\t..." of fdinfo text @buf, and its length. */
static const char *fdinfo_field(const char *buf, const char *key,
				size_t *len)
{
	size_t klen = strlen(key);
	const char *p = buf;

	while (p && *p) {
		if (!strncmp(p, key, klen) && p[klen] == ':') {
			p += klen + 1;
			if (*p == '\t')
				p++;
			*len = strcspn(p, "\n");
			return p;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return NULL;
}

static int read_fdinfo(int fd, char *buf, size_t len)
{
	char path[48];
	size_t got = 0;
	ssize_t n;
	int pfd, ret = 0;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	pfd = open(path, O_RDONLY | O_CLOEXEC);
	if (pfd < 0)
		return dmabuf_neg_errno();
	while (got < len - 1) {
		n = read(pfd, buf + got, len - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			ret = dmabuf_neg_errno();
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(pfd);
	buf[got] = '\0';
	return ret;
}

static void copy_field(char *dst, size_t size, const char *src, size_t len)
{
	if (len >= size)
		len = size - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

/* The size of dma-buf @fd (lseek to the end does not move the offset). */
static int64_t buf_size(int fd)
{
	off_t end = lseek(fd, 0, SEEK_END);

	return end < 0 ? dmabuf_neg_errno() : (int64_t)end;
}

/* The checks of a call on dma-buf @fd for @access: -EINVAL first, then @fd. */
static int check_access_fd(int fd, uint32_t access)
{
	if (!dmabuf_access_valid(access))
		return -EINVAL;
	return dmabuf_check_fd(fd);
}

DMABUF_EXPORT int dmabuf_get_info(int fd, struct dmabuf_info *info)
{
	const char *size, *count, *exp, *name;
	size_t size_len = 0, count_len = 0, exp_len = 0, name_len = 0;
	struct dmabuf_info out;
	char buf[2048];
	struct stat st;
	int64_t end;
	int ret;

	if (!info)
		return -EINVAL;
	ret = dmabuf_check_fd(fd);
	if (ret)
		return ret;
	if (fstat(fd, &st))
		return dmabuf_neg_errno();
	/* no /proc: every field the fdinfo would give is unknown */
	if (read_fdinfo(fd, buf, sizeof(buf)))
		buf[0] = '\0';

	size = fdinfo_field(buf, "size", &size_len);
	count = fdinfo_field(buf, "count", &count_len);
	exp = fdinfo_field(buf, "exp_name", &exp_len);
	name = fdinfo_field(buf, "name", &name_len);

	memset(&out, 0, sizeof(out));	/* reserved words too */
	if (size) {
		out.size = strtoull(size, NULL, 10);
	} else {
		/* a kernel whose fdinfo has no size: the dma-buf's lseek */
		end = buf_size(fd);
		if (end < 0)
			return (int)end;
		out.size = (uint64_t)end;
	}
	out.count = count ? strtoll(count, NULL, 10) : -1;
	out.inode = st.st_ino;
	if (exp)
		copy_field(out.exporter, sizeof(out.exporter), exp, exp_len);
	if (name)
		copy_field(out.name, sizeof(out.name), name, name_len);
	*info = out;
	return 0;
}

DMABUF_EXPORT int dmabuf_set_name(int fd, const char *name)
{
	int ret;

	if (!name || !dmabuf_name_valid(name))
		return -EINVAL;
	ret = dmabuf_check_fd(fd);
	if (ret)
		return ret;
	return dmabuf_ioctl(fd, DMA_BUF_SET_NAME, (void *)name);
}

DMABUF_EXPORT int dmabuf_get_name(int fd, char *name, size_t len)
{
	struct dmabuf_info info;
	int ret;

	if (!name || !len)
		return -EINVAL;
	ret = dmabuf_get_info(fd, &info);
	if (ret)
		return ret;
	if (strlen(info.name) >= len)
		return -ERANGE;
	strcpy(name, info.name);
	return 0;
}

DMABUF_EXPORT int dmabuf_map(int fd, uint32_t access, void **addr,
			     size_t *size)
{
	int prot = 0;
	int64_t len;
	void *p;
	int ret;

	if (!addr)
		return -EINVAL;
	ret = check_access_fd(fd, access);
	if (ret)
		return ret;
	len = buf_size(fd);
	if (len < 0)
		return (int)len;
	if (len == 0 || (uint64_t)len > SIZE_MAX)
		return -EFBIG;
	if (access & DMABUF_READ)
		prot |= PROT_READ;
	if (access & DMABUF_WRITE)
		prot |= PROT_WRITE;
	p = mmap(NULL, (size_t)len, prot, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return dmabuf_neg_errno();
	*addr = p;
	if (size)
		*size = (size_t)len;
	return 0;
}

DMABUF_EXPORT int dmabuf_unmap(void *addr, size_t size)
{
	if (!addr || !size)
		return -EINVAL;
	return munmap(addr, size) ? dmabuf_neg_errno() : 0;
}

/* DMA_BUF_IOCTL_SYNC flags for @access: the values coincide, by design. */
static uint64_t sync_flags(bool begin, uint32_t access)
{
	uint64_t flags = begin ? DMA_BUF_SYNC_START : DMA_BUF_SYNC_END;

	if (access & DMABUF_READ)
		flags |= DMA_BUF_SYNC_READ;
	if (access & DMABUF_WRITE)
		flags |= DMA_BUF_SYNC_WRITE;
	return flags;
}

static int sync_whole(int fd, bool begin, uint32_t access)
{
	struct dma_buf_sync sync = { .flags = sync_flags(begin, access) };
	int ret = check_access_fd(fd, access);

	return ret ? ret : dmabuf_ioctl(fd, DMA_BUF_IOCTL_SYNC, &sync);
}

DMABUF_EXPORT int dmabuf_sync_begin(int fd, uint32_t access)
{
	return sync_whole(fd, true, access);
}

DMABUF_EXPORT int dmabuf_sync_end(int fd, uint32_t access)
{
	return sync_whole(fd, false, access);
}

/*
 * SGBUF_IOCTL_SYNC_RANGE through a /dev/sgbuf fd of our own (the library
 * keeps no global state, so every call opens and closes one). -EOPNOTSUPP
 * when the range cannot be synced alone: no sgbuf, a module or header
 * without the ioctl, a foreign buffer.
 */
static int sync_range_sgbuf(int fd, bool begin, uint32_t access,
			    uint64_t offset, uint64_t length)
{
#ifdef SGBUF_IOCTL_SYNC_RANGE
	struct sgbuf_sync_range req;
	int dev, ret;

	dev = open("/dev/sgbuf", O_RDWR | O_CLOEXEC);
	if (dev < 0)
		return -EOPNOTSUPP;
	memset(&req, 0, sizeof(req));
	req.fd = fd;
	req.flags = (begin ? SGBUF_SYNC_START : SGBUF_SYNC_END) |
		    (access & DMABUF_READ ? SGBUF_SYNC_READ : 0) |
		    (access & DMABUF_WRITE ? SGBUF_SYNC_WRITE : 0);
	req.offset = offset;
	req.length = length;
	ret = dmabuf_ioctl(dev, SGBUF_IOCTL_SYNC_RANGE, &req);
	close(dev);
	if (ret == -ENOTTY || ret == -ENOENT)
		ret = -EOPNOTSUPP;
	return ret;
#else
	(void)fd;
	(void)begin;
	(void)access;
	(void)offset;
	(void)length;
	return -EOPNOTSUPP;
#endif
}

#define SYNC_RANGE_FLAGS (DMABUF_RW | DMABUF_SYNC_START | DMABUF_SYNC_END)

DMABUF_EXPORT int dmabuf_sync_range(int fd, uint32_t flags, uint64_t offset,
				    uint64_t length)
{
	uint32_t access = flags & DMABUF_RW;
	bool begin = flags & DMABUF_SYNC_START;
	int64_t size;
	int ret;

	/* an access, exactly one of START and END, nothing else */
	if (!access || (flags & ~(uint32_t)SYNC_RANGE_FLAGS) ||
	    begin == !!(flags & DMABUF_SYNC_END) || !length)
		return -EINVAL;
	ret = dmabuf_check_fd(fd);
	if (ret)
		return ret;
	size = buf_size(fd);
	if (size < 0)
		return (int)size;
	if (offset > (uint64_t)size || length > (uint64_t)size - offset)
		return -EINVAL;
	ret = sync_range_sgbuf(fd, begin, access, offset, length);
	if (ret != -EOPNOTSUPP)
		return ret;
	return sync_whole(fd, begin, access);
}

DMABUF_EXPORT int dmabuf_wait(int fd, uint32_t access, int timeout_ms)
{
	int ret = check_access_fd(fd, access);

	if (ret)
		return ret;
	/* the dma-buf's poll: POLLIN once writers are done, POLLOUT all */
	return dmabuf_poll(fd, access & DMABUF_WRITE ? POLLOUT : POLLIN,
			   timeout_ms);
}

DMABUF_EXPORT int dmabuf_export_sync_file(int fd, uint32_t access)
{
	struct dma_buf_export_sync_file req;
	int ret = check_access_fd(fd, access);

	if (ret)
		return ret;
	memset(&req, 0, sizeof(req));
	req.flags = (uint32_t)sync_flags(true, access);
	ret = dmabuf_ioctl(fd, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &req);
	if (ret == -ENOTTY)	/* a kernel before 6.0 */
		return -EOPNOTSUPP;
	return ret ? ret : req.fd;
}

DMABUF_EXPORT int dmabuf_import_sync_file(int fd, uint32_t access,
					  int sync_fd)
{
	struct dma_buf_import_sync_file req;
	int ret = check_access_fd(fd, access);

	if (!ret)
		ret = dmabuf_fd_open(sync_fd);
	if (ret)
		return ret;
	memset(&req, 0, sizeof(req));
	req.flags = (uint32_t)sync_flags(true, access);
	req.fd = sync_fd;
	ret = dmabuf_ioctl(fd, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, &req);
	return ret == -ENOTTY ? -EOPNOTSUPP : ret;
}
