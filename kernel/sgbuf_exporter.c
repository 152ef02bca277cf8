// SPDX-License-Identifier: GPL-2.0
/*
 * sgbuf - the dma-buf exporter
 *
 * Callbacks appear in the order of a buffer's life: attach and detach,
 * map and unmap, CPU access, mmap, vmap and vunmap, then release. The
 * locking rules of the dma-buf core differ between kernels (6.1 calls vmap
 * under its own dma_buf.lock, newer kernels call map and vmap with the
 * reservation lock held), so these callbacks never take the reservation
 * lock while holding the buffer's own mutex, which always nests inside
 * whatever lock the core holds. Memory allocation (vmap, DMA mapping) may
 * happen under the buffer's mutex.
 */

#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/dma-resv.h>
#include <linux/highmem.h>
#include <linux/iosys-map.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/vmalloc.h>

#include <uapi/linux/dma-buf.h>
#include <linux/sgbuf.h>

#include "sgbuf.h"

/* The longest segment @dev can map in one piece, in whole pages, or 0. */
static unsigned int sgbuf_max_segment(struct device *dev)
{
	u64 max = dma_get_max_seg_size(dev);

	/* swiotlb, for one, cannot map a segment longer than this. */
	max = min_t(u64, max, dma_max_mapping_size(dev));
	max = min_t(u64, max, UINT_MAX);
	return ALIGN_DOWN(max, PAGE_SIZE);
}

static int sgbuf_attach(struct dma_buf *dmabuf,
			struct dma_buf_attachment *attach)
{
	struct sgbuf_buffer *buf = dmabuf->priv;
	unsigned int max_segment = sgbuf_max_segment(attach->dev);
	struct sgbuf_attachment *a;
	int ret;

	if (!max_segment)
		return -EINVAL;

	a = kzalloc(sizeof(*a), GFP_KERNEL);
	if (!a)
		return -ENOMEM;

	/*
	 * Every attachment gets its own table: mapping writes the DMA
	 * addresses of one device into it, and segments must respect what
	 * that device can map in one piece.
	 */
	ret = sg_alloc_table_from_pages_segment(&a->sgt, buf->pages,
						buf->nr_pages, 0, buf->size,
						max_segment, GFP_KERNEL);
	if (ret) {
		kfree(a);
		return ret;
	}

	a->dev = attach->dev;
	attach->priv = a;

	/* Oldest first: see sgbuf_begin_cpu_access() for why order matters. */
	mutex_lock(&buf->lock);
	list_add_tail(&a->node, &buf->attachments);
	mutex_unlock(&buf->lock);
	return 0;
}

static void sgbuf_detach(struct dma_buf *dmabuf,
			 struct dma_buf_attachment *attach)
{
	struct sgbuf_buffer *buf = dmabuf->priv;
	struct sgbuf_attachment *a = attach->priv;

	mutex_lock(&buf->lock);
	list_del(&a->node);
	/* An importer that forgot to unmap must not leak the mapping. */
	if (WARN_ON(a->mapped))
		dma_unmap_sgtable(a->dev, &a->sgt, a->dir, 0);
	mutex_unlock(&buf->lock);

	sg_free_table(&a->sgt);
	kfree(a);
}

static struct sg_table *sgbuf_map_dma_buf(struct dma_buf_attachment *attach,
					  enum dma_data_direction dir)
{
	struct sgbuf_buffer *buf = attach->dmabuf->priv;
	struct sgbuf_attachment *a = attach->priv;
	int ret;

	mutex_lock(&buf->lock);
	if (a->mapped) {
		mutex_unlock(&buf->lock);
		return ERR_PTR(-EBUSY);
	}

	/*
	 * CPU cache maintenance belongs to begin/end_cpu_access (and swiotlb
	 * fills a bounce buffer at map time regardless), as in udmabuf: skip
	 * it here, which also lets several importers map one buffer.
	 */
	ret = dma_map_sgtable(a->dev, &a->sgt, dir, DMA_ATTR_SKIP_CPU_SYNC);
	if (ret) {
		mutex_unlock(&buf->lock);
		return ERR_PTR(ret);
	}

	a->dir = dir;
	a->mapped = true;
	mutex_unlock(&buf->lock);
	return &a->sgt;
}

static void sgbuf_unmap_dma_buf(struct dma_buf_attachment *attach,
				struct sg_table *sgt,
				enum dma_data_direction dir)
{
	struct sgbuf_buffer *buf = attach->dmabuf->priv;
	struct sgbuf_attachment *a = attach->priv;

	mutex_lock(&buf->lock);
	a->mapped = false;
	/* Without SKIP_CPU_SYNC: what the device wrote reaches the pages. */
	dma_unmap_sgtable(a->dev, &a->sgt, a->dir, 0);
	mutex_unlock(&buf->lock);
}

/*
 * flush/invalidate_kernel_vmap_range() take an int size; a buffer may be
 * larger than that.
 */
static void sgbuf_vmap_sync(void *vaddr, u64 len, bool for_cpu)
{
	while (len) {
		int n = min_t(u64, len, SZ_1G);

		if (for_cpu)
			invalidate_kernel_vmap_range(vaddr, n);
		else
			flush_kernel_vmap_range(vaddr, n);
		vaddr += n;
		len -= n;
	}
}

/**
 * sgbuf_sync_sgt() - sync part of a mapped sg_table for the CPU or a device
 * @dev:	the device @sgt is mapped for
 * @sgt:	a table mapped for @dev with dma_map_sgtable(): one of sgbuf's
 *		attachments, or the table any exporter gave the engine
 * @size:	bytes the table maps (the dma-buf's size)
 * @offset:	first byte to sync
 * @len:	bytes to sync; [@offset, @offset + @len) lies inside @size
 * @dir:	the direction to sync in: the mapping's, or any one if the
 *		mapping is DMA_BIDIRECTIONAL
 * @for_cpu:	sync for the CPU, else for the device
 *
 * All of the table is synced with dma_sync_sgtable_for_*(), as the DMA API
 * prescribes for a scatterlist. Part of it is synced piece by piece with
 * dma_sync_single_range_for_*(), each piece inside one DMA segment and
 * inside one entry of the page list. Only the entries' lengths are read,
 * never their pages (an importer's table may have them scrambled by
 * CONFIG_DMABUF_DEBUG).
 */
void sgbuf_sync_sgt(struct device *dev, struct sg_table *sgt, u64 size,
		    u64 offset, u64 len, enum dma_data_direction dir,
		    bool for_cpu)
{
	struct scatterlist *sg, *dsg = sgt->sgl;
	unsigned int dleft = sgt->nents;
	u64 end = offset + len;
	u64 pos = 0, dpos = 0;	/* where sg and dsg start in the buffer */
	unsigned int i;

	if (!offset && len == size) {
		if (for_cpu)
			dma_sync_sgtable_for_cpu(dev, sgt, dir);
		else
			dma_sync_sgtable_for_device(dev, sgt, dir);
		return;
	}

	/*
	 * Why single-range syncs on pieces of a scatterlist mapping are valid:
	 * each piece lies inside one DMA segment and is synced through that
	 * segment's own handle, sg_dma_address(), at an offset inside the
	 * segment; and it lies inside one entry of the page list, so that its
	 * bytes are contiguous in memory too. The DMA API's single syncs find
	 * the memory behind a handle and then work on a physically contiguous
	 * range from there:
	 *  - dma-direct: the handle translates to the entry's memory, linearly;
	 *  - swiotlb: each entry was bounced on its own, so one segment is one
	 *    bounce mapping, and the piece is copied between its part of the
	 *    bounce buffer and the entry's pages, to the byte;
	 *  - dma-iommu: one segment may cover several entries, linear in IOVA
	 *    space only; iommu_iova_to_phys() of the piece's start plus a
	 *    length that stays inside one entry is the memory the device
	 *    reaches, which is why a piece may not cross an entry (syncing a
	 *    whole merged segment would maintain the caches of the wrong
	 *    pages on a non-coherent device).
	 * dma-debug keeps one entry per DMA segment and checks that a sync
	 * lies inside a mapped entry: a piece always does. The segments cover
	 * the buffer in order, as the entries do, both from byte 0.
	 */
	for_each_sgtable_sg(sgt, sg, i) {
		u64 from = max(offset, pos);
		u64 to = min(end, pos + sg->length);

		pos += sg->length;
		while (from < to) {
			u64 n;

			while (dleft && from >= dpos + sg_dma_len(dsg)) {
				dpos += sg_dma_len(dsg);
				dsg = sg_next(dsg);
				dleft--;
			}
			/* Cannot happen: both lists cover the mapped bytes. */
			if (!dleft)
				return;
			n = min(to, dpos + sg_dma_len(dsg)) - from;
			if (for_cpu)
				dma_sync_single_range_for_cpu(dev,
							      sg_dma_address(dsg),
							      from - dpos, n, dir);
			else
				dma_sync_single_range_for_device(dev,
								 sg_dma_address(dsg),
								 from - dpos, n, dir);
			from += n;
		}
		if (pos >= end)
			break;
	}
}

/*
 * CPU access brackets, for [offset, offset + len) of the buffer: the whole
 * of it for DMA_BUF_IOCTL_SYNC and the dma-buf core, a part for
 * SGBUF_IOCTL_SYNC_RANGE. The direction describes the CPU's access; each
 * device mapping is synced in the direction it was mapped with, which is
 * what the DMA API requires and what moves data between a bounce buffer
 * and the pages when swiotlb is in use.
 *
 * Device writes must be complete before they are synced: the dma-buf core
 * waits for the buffer's fences only after the begin_cpu_access callback
 * returns, so wait here first. A CPU read waits for device writers, a CPU
 * write for all.
 *
 * Two devices that both write the buffer through bounce buffers cannot be
 * kept coherent (the DMA API does not support overlapping writable
 * mappings). Attachments are synced oldest first, so the most recently
 * attached device's view wins.
 */
static int sgbuf_begin_cpu_range(struct dma_buf *dmabuf,
				 enum dma_data_direction dir, u64 offset,
				 u64 len)
{
	struct sgbuf_buffer *buf = dmabuf->priv;
	struct sgbuf_attachment *a;
	long ret;

	ret = dma_resv_wait_timeout(dmabuf->resv,
				    dma_resv_usage_rw(dir != DMA_FROM_DEVICE),
				    true, MAX_SCHEDULE_TIMEOUT);
	if (ret < 0)
		return ret;

	mutex_lock(&buf->lock);
	list_for_each_entry(a, &buf->attachments, node) {
		if (a->mapped)
			sgbuf_sync_sgt(a->dev, &a->sgt, buf->size, offset,
				       len, a->dir, true);
	}
	/* After the sync: a bounce copy writes through the linear map. */
	if (buf->vmap_cnt)
		sgbuf_vmap_sync(buf->vaddr + offset, len, true);
	mutex_unlock(&buf->lock);
	return 0;
}

static int sgbuf_end_cpu_range(struct dma_buf *dmabuf, u64 offset, u64 len)
{
	struct sgbuf_buffer *buf = dmabuf->priv;
	struct sgbuf_attachment *a;

	mutex_lock(&buf->lock);
	if (buf->vmap_cnt)
		sgbuf_vmap_sync(buf->vaddr + offset, len, false);
	list_for_each_entry(a, &buf->attachments, node) {
		if (a->mapped)
			sgbuf_sync_sgt(a->dev, &a->sgt, buf->size, offset,
				       len, a->dir, false);
	}
	mutex_unlock(&buf->lock);
	return 0;
}

/* Whether CPU access needs any sync: a device mapping or a kernel vmap. */
static bool sgbuf_cpu_sync_needed(struct sgbuf_buffer *buf)
{
	struct sgbuf_attachment *a;
	bool needed;

	mutex_lock(&buf->lock);
	needed = buf->vmap_cnt;
	list_for_each_entry(a, &buf->attachments, node)
		needed |= a->mapped;
	mutex_unlock(&buf->lock);
	return needed;
}

static int sgbuf_begin_cpu_access(struct dma_buf *dmabuf,
				  enum dma_data_direction dir)
{
	/*
	 * With nothing to sync, leave the fence wait to the dma-buf core,
	 * which does it after this callback returns. A device that maps the
	 * buffer after this check cannot have written it yet.
	 */
	if (!sgbuf_cpu_sync_needed(dmabuf->priv))
		return 0;
	return sgbuf_begin_cpu_range(dmabuf, dir, 0, dmabuf->size);
}

/*
 * A CPU that only read has nothing to hand to the devices; syncing for
 * them anyway would copy the pages over what a device may be writing into
 * its bounce buffer at that very moment, for a job the read did not wait
 * for.
 */
static int sgbuf_end_cpu_access(struct dma_buf *dmabuf,
				enum dma_data_direction dir)
{
	if (dir == DMA_FROM_DEVICE)
		return 0;
	return sgbuf_end_cpu_range(dmabuf, 0, dmabuf->size);
}

/*
 * The whole range is mapped at mmap() time, one remap per physically
 * contiguous run, so that touching a large mapping never takes a fault
 * per page. The core has checked that the range lies inside the buffer;
 * it is checked again here because the page walk below relies on it.
 */
static int sgbuf_mmap(struct dma_buf *dmabuf, struct vm_area_struct *vma)
{
	struct sgbuf_buffer *buf = dmabuf->priv;
	unsigned long npages = vma_pages(vma);
	unsigned long addr = vma->vm_start;
	unsigned long pg = vma->vm_pgoff;
	unsigned long end;
	int ret;

	/* A private (copy-on-write) mapping of device memory makes no sense. */
	if (!(vma->vm_flags & VM_MAYSHARE))
		return -EINVAL;
	if (pg >= buf->nr_pages || npages > buf->nr_pages - pg)
		return -EINVAL;

	/*
	 * remap_pfn_range() marks the VMA VM_PFNMAP | VM_DONTEXPAND |
	 * VM_DONTDUMP: no growth by mremap(), no copy into core dumps.
	 */
	end = pg + npages;
	while (pg < end) {
		unsigned long pfn = page_to_pfn(buf->pages[pg]);
		unsigned long run = 1;

		while (pg + run < end &&
		       page_to_pfn(buf->pages[pg + run]) == pfn + run)
			run++;

		ret = remap_pfn_range(vma, addr, pfn, run << PAGE_SHIFT,
				      vma->vm_page_prot);
		if (ret)
			return ret;
		addr += run << PAGE_SHIFT;
		pg += run;
	}
	return 0;
}

static int sgbuf_vmap(struct dma_buf *dmabuf, struct iosys_map *map)
{
	struct sgbuf_buffer *buf = dmabuf->priv;
	int ret = 0;

	mutex_lock(&buf->lock);
	if (!buf->vmap_cnt) {
		buf->vaddr = vmap(buf->pages, buf->nr_pages, VM_MAP,
				  PAGE_KERNEL);
		if (!buf->vaddr) {
			ret = -ENOMEM;
			goto unlock;
		}
	}
	buf->vmap_cnt++;
	iosys_map_set_vaddr(map, buf->vaddr);
unlock:
	mutex_unlock(&buf->lock);
	return ret;
}

static void sgbuf_vunmap(struct dma_buf *dmabuf, struct iosys_map *map)
{
	struct sgbuf_buffer *buf = dmabuf->priv;

	mutex_lock(&buf->lock);
	if (!WARN_ON(!buf->vmap_cnt) && !--buf->vmap_cnt) {
		vunmap(buf->vaddr);
		buf->vaddr = NULL;
	}
	mutex_unlock(&buf->lock);
	iosys_map_clear(map);
}

static void sgbuf_release(struct dma_buf *dmabuf)
{
	struct sgbuf_buffer *buf = dmabuf->priv;

	/* The core detaches and vunmaps everything before releasing. */
	WARN_ON(!list_empty(&buf->attachments) || buf->vmap_cnt);
	sgbuf_buffer_destroy(buf);
}

static const struct dma_buf_ops sgbuf_dma_buf_ops = {
	.attach = sgbuf_attach,
	.detach = sgbuf_detach,
	.map_dma_buf = sgbuf_map_dma_buf,
	.unmap_dma_buf = sgbuf_unmap_dma_buf,
	.begin_cpu_access = sgbuf_begin_cpu_access,
	.end_cpu_access = sgbuf_end_cpu_access,
	.mmap = sgbuf_mmap,
	.vmap = sgbuf_vmap,
	.vunmap = sgbuf_vunmap,
	.release = sgbuf_release,
};

/**
 * sgbuf_export() - wrap a buffer in a new dma-buf
 * @buf:	the buffer; owned by the dma-buf on success, freed on failure
 * @fd_flags:	file flags of the dma-buf (O_CLOEXEC, access mode)
 * @name:	name to show in fdinfo and bufinfo, or NULL
 *
 * Return: the dma-buf, holding one reference for the caller, or an
 * ERR_PTR().
 */
struct dma_buf *sgbuf_export(struct sgbuf_buffer *buf, u32 fd_flags,
			     const char *name)
{
	DEFINE_DMA_BUF_EXPORT_INFO(exp_info);
	struct dma_buf *dmabuf;
	char *dup = NULL;

	if (name && name[0]) {
		dup = kstrdup(name, GFP_KERNEL);
		if (!dup) {
			sgbuf_buffer_destroy(buf);
			return ERR_PTR(-ENOMEM);
		}
	}

	exp_info.ops = &sgbuf_dma_buf_ops;
	exp_info.size = buf->size;
	exp_info.flags = fd_flags;
	exp_info.priv = buf;

	dmabuf = dma_buf_export(&exp_info);
	if (IS_ERR(dmabuf)) {
		kfree(dup);
		sgbuf_buffer_destroy(buf);
		return dmabuf;
	}

	/*
	 * Ownership of buf passed to the dma-buf: from here on only
	 * dma_buf_put() may free it, through sgbuf_release(). The buffer is
	 * already listed in debugfs, hence the lock; the core frees the name
	 * on release.
	 */
	if (dup) {
		spin_lock(&dmabuf->name_lock);
		dmabuf->name = dup;
		spin_unlock(&dmabuf->name_lock);
	}
	return dmabuf;
}

/* DMA_BUF_SYNC_* and SGBUF_SYNC_* are the same bits. */
static_assert(SGBUF_SYNC_READ == DMA_BUF_SYNC_READ);
static_assert(SGBUF_SYNC_WRITE == DMA_BUF_SYNC_WRITE);
static_assert(SGBUF_SYNC_RW == DMA_BUF_SYNC_RW);
static_assert(SGBUF_SYNC_START == DMA_BUF_SYNC_START);
static_assert(SGBUF_SYNC_END == DMA_BUF_SYNC_END);
static_assert(SGBUF_SYNC_VALID_FLAGS == DMA_BUF_SYNC_VALID_FLAGS_MASK);

/**
 * sgbuf_cpu_access_range() - DMA_BUF_IOCTL_SYNC restricted to part of a buffer
 * @dmabuf:	any dma-buf
 * @flags:	SGBUF_SYNC_* flags, already checked
 * @offset:	first byte of the range
 * @len:	bytes in the range, non-zero
 *
 * Return: 0; -EOPNOTSUPP if sgbuf did not export @dmabuf; -EINVAL if the
 * range does not lie inside it; or the error of the interrupted wait for
 * its fences (-ERESTARTSYS).
 */
int sgbuf_cpu_access_range(struct dma_buf *dmabuf, u64 flags, u64 offset,
			   u64 len)
{
	enum dma_data_direction dir;
	u64 end;

	if (dmabuf->ops != &sgbuf_dma_buf_ops)
		return -EOPNOTSUPP;
	if (!len || check_add_overflow(offset, len, &end) ||
	    end > dmabuf->size)
		return -EINVAL;

	/*
	 * END syncs every mapping in its own direction, and only after CPU
	 * writes, as sgbuf_end_cpu_access() does.
	 */
	if (flags & SGBUF_SYNC_END)
		return flags & SGBUF_SYNC_WRITE ?
		       sgbuf_end_cpu_range(dmabuf, offset, len) : 0;

	/* As the dma-buf core maps DMA_BUF_SYNC_* to a direction. */
	switch (flags & SGBUF_SYNC_RW) {
	case SGBUF_SYNC_READ:
		dir = DMA_FROM_DEVICE;
		break;
	case SGBUF_SYNC_WRITE:
		dir = DMA_TO_DEVICE;
		break;
	default:
		dir = DMA_BIDIRECTIONAL;
		break;
	}
	return sgbuf_begin_cpu_range(dmabuf, dir, offset, len);
}
