/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sgbuf - internal declarations shared by the module's files
 */

#include <linux/compiler_types.h>
#ifndef _SGBUF_H
#define _SGBUF_H

#include <linux/dma-direction.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/scatterlist.h>
#include <linux/types.h>
#include <linux/uaccess.h>

struct dma_buf;
struct dma_fence;
struct device;
struct file;
struct page;
struct sgbuf_engine;

/**
 * struct sgbuf_buffer - the memory behind one exported dma-buf
 * @size:	size in bytes, a multiple of PAGE_SIZE
 * @nr_pages:	number of entries in @pages
 * @pages:	every page of the buffer in order; high-order chunks are
 *		compound pages whose head starts the chunk
 * @lock:	protects @attachments, @vmap_cnt and @vaddr
 * @attachments: list of &struct sgbuf_attachment.node
 * @vmap_cnt:	number of live kernel mappings handed out by vmap
 * @vaddr:	the kernel mapping while @vmap_cnt > 0
 *
 * @size, @nr_pages and @pages never change after creation and need no
 * lock. The pages are owned by the buffer from allocation until release;
 * the buffer itself is owned by its dma-buf once exported.
 */
struct sgbuf_buffer {
	size_t size;
	unsigned int nr_pages;
	struct page **pages;

	struct mutex lock; /* see @lock above */
	struct list_head attachments;
	unsigned int vmap_cnt;
	void *vaddr;
};

/**
 * struct sgbuf_attachment - one importer device attached to a buffer
 * @dev:	the importer's device
 * @sgt:	sg table private to this attachment; the DMA addresses that
 *		dma_map_sgtable() writes into it belong to @dev only
 * @node:	entry in &struct sgbuf_buffer.attachments
 * @dir:	direction of the current mapping, valid while @mapped
 * @mapped:	@sgt is DMA-mapped for @dev
 *
 * @node, @dir and @mapped are protected by the buffer's lock.
 */
struct sgbuf_attachment {
	struct device *dev;
	struct sg_table sgt;
	struct list_head node;
	enum dma_data_direction dir;
	bool mapped;
};

/**
 * sgbuf_copy_args() - copy an extensible ioctl argument from userspace
 * @dst:	the kernel's struct
 * @ksize:	its size
 * @src:	the user's struct
 * @usize:	its size, from the ioctl number
 * @ver0:	the first published size; smaller is -EINVAL
 *
 * Return: 0, -EINVAL, -E2BIG for non-zero bytes past @ksize, or -EFAULT.
 */
static inline int sgbuf_copy_args(void *dst, size_t ksize,
				  const void __user *src, size_t usize,
				  size_t ver0)
{
	if (usize < ver0)
		return -EINVAL;
	return copy_struct_from_user(dst, ksize, src, usize);
}

/* sgbuf_main.c: limits and accounting of all live buffers */
int sgbuf_account_add(u64 size);
void sgbuf_account_sub(u64 size);
u64 sgbuf_max_buffer_size(void);
void sgbuf_account_read(u64 *total, u64 *max_total, u64 *live);

/* sgbuf_pages.c */
u64 sgbuf_max_contig_size(void);
struct sgbuf_buffer *sgbuf_buffer_create(u64 size, u64 flags);
void sgbuf_buffer_destroy(struct sgbuf_buffer *buf);

/* sgbuf_exporter.c */
struct dma_buf *sgbuf_export(struct sgbuf_buffer *buf, u32 fd_flags,
			     const char *name);
int sgbuf_cpu_access_range(struct dma_buf *dmabuf, u64 flags, u64 offset,
			   u64 len);
void sgbuf_sync_sgt(struct device *dev, struct sg_table *sgt, u64 size,
		    u64 offset, u64 len, enum dma_data_direction dir,
		    bool for_cpu);

/* sgbuf_dma.c: the engine's devices and data mover */
int sgbuf_dma_init(void);
void sgbuf_dma_exit(void);
struct device *sgbuf_dma_device(bool dma32);
int sgbuf_dma_fill(struct device *dev, struct sg_table *sgt, u64 offset,
		   u64 len, u32 pattern);
int sgbuf_dma_copy(struct device *ddev, struct sg_table *dsgt, u64 doffset,
		   struct device *sdev, struct sg_table *ssgt, u64 soffset,
		   u64 len);
int sgbuf_dma_crc32(struct device *dev, struct sg_table *sgt, u64 offset,
		    u64 len, u32 *crc);
int sgbuf_dma_sum64(struct device *dev, struct sg_table *sgt, u64 offset,
		    u64 len, u64 *sum);

/* sgbuf_fence.c */
struct dma_fence *sgbuf_job_fence_alloc(void);
void sgbuf_job_fence_init(struct dma_fence *fence, u64 context, u64 seqno);
void sgbuf_job_fence_free(struct dma_fence *fence);
struct dma_fence *sgbuf_sw_fence_create(void);

/*
 * sgbuf_engine.c: one engine per open file of /dev/sgbuf, created by the
 * file's first engine ioctl and kept in file->private_data
 */
void sgbuf_engine_destroy(struct sgbuf_engine *eng);
long sgbuf_engine_ioctl(struct file *file, unsigned int cmd,
			void __user *uarg);
int sgbuf_engine_init(void);
void sgbuf_engine_exit(void);

/* sgbuf_ioctl.c */
extern const struct file_operations sgbuf_fops;
extern const struct file_operations sgbuf_heap_fops;

#endif /* _SGBUF_H */
