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
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/vmalloc.h>

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
 * CPU access brackets. The direction passed by the caller describes the
 * CPU's access; each device mapping is synced in the direction it was
 * mapped with, which is what the DMA API requires and what moves data
 * between a bounce buffer and the pages when swiotlb is in use.
 *
 * Device writes must be complete before they are synced: the dma-buf core
 * waits for the buffer's fences only after this callback returns, so wait
 * here first. A CPU read waits for device writers, a CPU write for all.
 *
 * Two devices that both write the buffer through bounce buffers cannot be
 * kept coherent (the DMA API does not support overlapping writable
 * mappings). Attachments are synced oldest first, so the most recently
 * attached device's view wins.
 */
static int sgbuf_begin_cpu_access(struct dma_buf *dmabuf,
				  enum dma_data_direction dir)
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
			dma_sync_sgtable_for_cpu(a->dev, &a->sgt, a->dir);
	}
	/* After the sync: a bounce copy writes through the linear map. */
	if (buf->vmap_cnt)
		invalidate_kernel_vmap_range(buf->vaddr, buf->size);
	mutex_unlock(&buf->lock);
	return 0;
}

static int sgbuf_end_cpu_access(struct dma_buf *dmabuf,
				enum dma_data_direction dir)
{
	struct sgbuf_buffer *buf = dmabuf->priv;
	struct sgbuf_attachment *a;

	mutex_lock(&buf->lock);
	if (buf->vmap_cnt)
		flush_kernel_vmap_range(buf->vaddr, buf->size);
	list_for_each_entry(a, &buf->attachments, node) {
		if (a->mapped)
			dma_sync_sgtable_for_device(a->dev, &a->sgt, a->dir);
	}
	mutex_unlock(&buf->lock);
	return 0;
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
