// SPDX-License-Identifier: GPL-2.0
/*
 * sgbuf - ioctls of /dev/sgbuf and /dev/dma_heap/sgbuf
 *
 * An open file of /dev/sgbuf gets an engine (sgbuf_engine.c) with its
 * first DMA consumer ioctl; allocation and SYNC_RANGE need no per-file
 * state, so a file used only for them never has one.
 *
 * Both nodes end in sgbuf_alloc_fd(): charge the limits, allocate, export,
 * copy the result to userspace, and only then publish the fd. Once
 * fd_install() has run another thread may close the fd and free the
 * buffer, so nothing is touched after it.
 */

#include <linux/dma-buf.h>
#include <linux/fcntl.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include <uapi/linux/dma-heap.h>
#include <linux/sgbuf.h>

#include "sgbuf.h"

static_assert(sizeof(struct sgbuf_alloc) == SGBUF_ALLOC_SIZE_VER0);
static_assert(sizeof(struct sgbuf_info) == SGBUF_INFO_SIZE_VER0);
static_assert(sizeof(struct sgbuf_import) == SGBUF_IMPORT_SIZE_VER0);
static_assert(sizeof(struct sgbuf_unimport) == SGBUF_UNIMPORT_SIZE_VER0);
static_assert(sizeof(struct sgbuf_submit) == SGBUF_SUBMIT_SIZE_VER0);
static_assert(sizeof(struct sgbuf_wait) == SGBUF_WAIT_SIZE_VER0);
static_assert(sizeof(struct sgbuf_engine_config) ==
	      SGBUF_ENGINE_CONFIG_SIZE_VER0);
static_assert(sizeof(struct sgbuf_sw_fence) == SGBUF_SW_FENCE_SIZE_VER0);
static_assert(sizeof(struct sgbuf_sw_signal) == SGBUF_SW_SIGNAL_SIZE_VER0);
static_assert(sizeof(struct sgbuf_sync_range) == SGBUF_SYNC_RANGE_SIZE_VER0);

/*
 * Allocate a buffer and reserve an fd for it. On success the caller owns
 * one reference to the returned dma-buf and the reserved *fd, and must
 * either fd_install() both or put_unused_fd() and dma_buf_put() them.
 */
static struct dma_buf *sgbuf_alloc_dmabuf(u64 size, u64 flags, u32 fd_flags,
					  const char *name, int *fd)
{
	struct sgbuf_buffer *buf;
	struct dma_buf *dmabuf;

	*fd = get_unused_fd_flags(fd_flags);
	if (*fd < 0)
		return ERR_PTR(*fd);

	buf = sgbuf_buffer_create(size, flags);
	if (IS_ERR(buf)) {
		dmabuf = ERR_CAST(buf);
		goto put_fd;
	}

	/* The dma-buf owns buf from here, or has freed it on failure. */
	dmabuf = sgbuf_export(buf, fd_flags, name);
	if (IS_ERR(dmabuf))
		goto put_fd;
	return dmabuf;

put_fd:
	put_unused_fd(*fd);
	return dmabuf;
}

/* Copy the reply out, then publish the fd: the point of no return. */
static int sgbuf_publish(void __user *uarg, const void *reply, size_t len,
			 struct dma_buf *dmabuf, int fd)
{
	if (copy_to_user(uarg, reply, len)) {
		put_unused_fd(fd);
		dma_buf_put(dmabuf);
		return -EFAULT;
	}
	fd_install(fd, dmabuf->file);
	return 0;
}

static bool sgbuf_name_valid(const char *name)
{
	size_t len = strnlen(name, SGBUF_NAME_LEN);
	size_t i;

	if (len == SGBUF_NAME_LEN)
		return false;
	/* Printable ASCII only; char is signed on some builds, so cast. */
	for (i = 0; i < len; i++) {
		unsigned char c = name[i];

		if (c < 0x20 || c > 0x7e)
			return false;
	}
	return true;
}

static int sgbuf_alloc_check(const struct sgbuf_alloc *req)
{
	u32 accmode = req->fd_flags & O_ACCMODE;

	if (!req->size || !PAGE_ALIGNED(req->size))
		return -EINVAL;
	if (req->flags & ~SGBUF_ALLOC_VALID_FLAGS)
		return -EINVAL;
	if (req->fd_flags & ~(O_CLOEXEC | O_ACCMODE))
		return -EINVAL;
	if (accmode != O_RDWR && accmode != O_RDONLY)
		return -EINVAL;
	if (req->fd || req->reserved[0] || req->reserved[1])
		return -EINVAL;
	if (!sgbuf_name_valid(req->name))
		return -EINVAL;
	return 0;
}

static int sgbuf_ioctl_alloc(void __user *uarg, unsigned int usize)
{
	struct sgbuf_alloc req;
	struct dma_buf *dmabuf;
	int ret, fd;

	/*
	 * A newer, larger struct is fine as long as everything we do not
	 * know is zero; otherwise -E2BIG, like openat2() and clone3().
	 */
	ret = sgbuf_copy_args(&req, sizeof(req), uarg, usize,
			      SGBUF_ALLOC_SIZE_VER0);
	if (ret)
		return ret;

	ret = sgbuf_alloc_check(&req);
	if (ret)
		return ret;

	dmabuf = sgbuf_alloc_dmabuf(req.size, req.flags, req.fd_flags,
				    req.name, &fd);
	if (IS_ERR(dmabuf))
		return PTR_ERR(dmabuf);

	req.fd = fd;
	return sgbuf_publish(uarg, &req, sizeof(req), dmabuf, fd);
}

static int sgbuf_ioctl_get_info(void __user *uarg, unsigned int usize)
{
	struct sgbuf_info info = {
		.abi_version = SGBUF_ABI_VERSION,
		.caps = SGBUF_CAP_CONTIGUOUS | SGBUF_CAP_HEAP_NODE |
			SGBUF_CAP_ENGINE | SGBUF_CAP_SYNC_RANGE |
			SGBUF_CAP_CHECKSUM64,
		.page_size = PAGE_SIZE,
		.max_buffer_size = sgbuf_max_buffer_size(),
		.max_contig_size = sgbuf_max_contig_size(),
	};

	if (usize < SGBUF_INFO_SIZE_VER0)
		return -EINVAL;
	sgbuf_account_read(&info.total_size, &info.max_total_size,
			   &info.live_buffers);

	if (copy_to_user(uarg, &info, min_t(size_t, usize, sizeof(info))))
		return -EFAULT;
	/* Fields of a newer struct that this module does not know are 0. */
	if (usize > sizeof(info) &&
	    clear_user(uarg + sizeof(info), usize - sizeof(info)))
		return -EFAULT;
	return 0;
}

/*
 * DMA_BUF_IOCTL_SYNC for part of a buffer. The fd is borrowed: the
 * dma-buf reference taken here keeps the buffer alive for the call.
 */
static int sgbuf_ioctl_sync_range(void __user *uarg, unsigned int usize)
{
	struct sgbuf_sync_range req;
	struct dma_buf *dmabuf;
	int ret;

	ret = sgbuf_copy_args(&req, sizeof(req), uarg, usize,
			      SGBUF_SYNC_RANGE_SIZE_VER0);
	if (ret)
		return ret;
	if (req.pad || req.reserved[0] || req.reserved[1])
		return -EINVAL;
	if (req.flags & ~SGBUF_SYNC_VALID_FLAGS || !(req.flags & SGBUF_SYNC_RW))
		return -EINVAL;

	dmabuf = dma_buf_get(req.fd);
	if (IS_ERR(dmabuf))
		return PTR_ERR(dmabuf);
	ret = sgbuf_cpu_access_range(dmabuf, req.flags, req.offset,
				     req.length);
	dma_buf_put(dmabuf);
	return ret;
}

/*
 * file->private_data is the file's engine, NULL until its first engine
 * ioctl creates it (sgbuf_engine_ioctl()). misc_open() set it to the
 * miscdevice; nothing here needs that.
 */
static int sgbuf_open(struct inode *inode, struct file *file)
{
	file->private_data = NULL;
	return nonseekable_open(inode, file);
}

/* No ioctl runs any more: the engine pointer is stable, or NULL. */
static int sgbuf_release(struct inode *inode, struct file *file)
{
	struct sgbuf_engine *eng = file->private_data;

	if (eng)
		sgbuf_engine_destroy(eng);
	return 0;
}

static long sgbuf_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	void __user *uarg = (void __user *)arg;
	unsigned int usize = _IOC_SIZE(cmd);

	if (_IOC_TYPE(cmd) != SGBUF_IOC_MAGIC)
		return -ENOTTY;

	/* Match on type, number and direction; the size may differ. */
	switch (_IOC_NR(cmd)) {
	case _IOC_NR(SGBUF_IOCTL_ALLOC):
		if (_IOC_DIR(cmd) != _IOC_DIR(SGBUF_IOCTL_ALLOC))
			return -ENOTTY;
		return sgbuf_ioctl_alloc(uarg, usize);
	case _IOC_NR(SGBUF_IOCTL_GET_INFO):
		if (_IOC_DIR(cmd) != _IOC_DIR(SGBUF_IOCTL_GET_INFO))
			return -ENOTTY;
		return sgbuf_ioctl_get_info(uarg, usize);
	case _IOC_NR(SGBUF_IOCTL_SYNC_RANGE):
		if (_IOC_DIR(cmd) != _IOC_DIR(SGBUF_IOCTL_SYNC_RANGE))
			return -ENOTTY;
		return sgbuf_ioctl_sync_range(uarg, usize);
	default:
		return sgbuf_engine_ioctl(file, cmd, uarg);
	}
}

const struct file_operations sgbuf_fops = {
	.owner = THIS_MODULE,
	.open = sgbuf_open,
	.release = sgbuf_release,
	.unlocked_ioctl = sgbuf_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

/*
 * DMA_HEAP_IOCTL_ALLOC, with the exact semantics of the kernel's dma-heap
 * core: shorter (older) and longer (newer) structs are accepted, the part
 * this module does not know is ignored, the length is rounded up to whole
 * pages, and only O_CLOEXEC and the access mode are valid fd flags.
 */
#define SGBUF_HEAP_FD_FLAGS	(O_CLOEXEC | O_ACCMODE)

static int sgbuf_heap_ioctl_alloc(unsigned int cmd, void __user *uarg)
{
	struct dma_heap_allocation_data data = {};
	size_t len = min_t(size_t, _IOC_SIZE(cmd), sizeof(data));
	size_t in_size = (cmd & IOC_IN) ? len : 0;
	size_t out_size = (cmd & IOC_OUT) ? len : 0;
	struct dma_buf *dmabuf;
	u64 size;
	int fd;

	if (copy_from_user(&data, uarg, in_size))
		return -EFAULT;

	if (data.fd)
		return -EINVAL;
	if (data.fd_flags & ~SGBUF_HEAP_FD_FLAGS)
		return -EINVAL;
	if (data.heap_flags)
		return -EINVAL;
	size = PAGE_ALIGN(data.len);
	if (!size)
		return -EINVAL;

	dmabuf = sgbuf_alloc_dmabuf(size, 0, data.fd_flags, NULL, &fd);
	if (IS_ERR(dmabuf))
		return PTR_ERR(dmabuf);

	data.fd = fd;
	return sgbuf_publish(uarg, &data, out_size, dmabuf, fd);
}

static long sgbuf_heap_ioctl(struct file *file, unsigned int cmd,
			     unsigned long arg)
{
	if (_IOC_TYPE(cmd) != DMA_HEAP_IOC_MAGIC ||
	    _IOC_NR(cmd) != _IOC_NR(DMA_HEAP_IOCTL_ALLOC))
		return -ENOTTY;
	return sgbuf_heap_ioctl_alloc(cmd, (void __user *)arg);
}

const struct file_operations sgbuf_heap_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = sgbuf_heap_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};
