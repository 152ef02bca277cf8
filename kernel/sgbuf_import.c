// SPDX-License-Identifier: GPL-2.0
/*
 * sgbuf - the engine's imports: dma-bufs attached and mapped for one of the
 * engine's devices, referenced by a handle scoped to the open file and by
 * the jobs that use them.
 */

#include <linux/dma-buf.h>
#include <linux/dma-direction.h>
#include <linux/kref.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#include <linux/sgbuf.h>

#include "sgbuf.h"
#include "sgbuf_engine.h"

/*
 * A dma-buf attached and mapped for one of the engine's devices, shared by
 * every import of that dma-buf on that device, whichever file made it. The
 * DMA API does not support overlapping mappings of memory for one device:
 * CONFIG_DMA_API_DEBUG tells two mappings of a buffer apart by the address
 * only, and reports a partial sync of either (a job's, SYNC_RANGE's) as a
 * sync of memory that was never mapped.
 */
struct sgbuf_mapping {
	struct list_head node;		/* in sgbuf_mappings */
	struct kref ref;		/* one per import */
	struct dma_buf *dmabuf;
	struct device *dev;
	struct dma_buf_attachment *attach;
	struct sg_table *sgt;
};

static LIST_HEAD(sgbuf_mappings);
/* Protects sgbuf_mappings; taken before any reservation lock. */
static DEFINE_MUTEX(sgbuf_mappings_lock);

/* The last put, under sgbuf_mappings_lock, which it drops. */
static void sgbuf_mapping_release(struct kref *ref)
{
	struct sgbuf_mapping *map = container_of(ref, typeof(*map), ref);

	list_del(&map->node);
	mutex_unlock(&sgbuf_mappings_lock);
	dma_buf_unmap_attachment_unlocked(map->attach, map->sgt,
					  DMA_BIDIRECTIONAL);
	dma_buf_detach(map->dmabuf, map->attach);
	dma_buf_put(map->dmabuf);
	kfree(map);
}

static void sgbuf_mapping_put(struct sgbuf_mapping *map)
{
	kref_put_mutex(&map->ref, sgbuf_mapping_release, &sgbuf_mappings_lock);
}

/*
 * The mapping of @dmabuf for @dev, made if there is none yet. The caller's
 * reference to @dmabuf passes to the mapping, or is dropped.
 */
static struct sgbuf_mapping *sgbuf_mapping_get(struct dma_buf *dmabuf,
					       struct device *dev)
{
	struct sgbuf_mapping *map;
	int ret;

	mutex_lock(&sgbuf_mappings_lock);
	list_for_each_entry(map, &sgbuf_mappings, node) {
		if (map->dmabuf == dmabuf && map->dev == dev) {
			/* Listed, so not released: the count is not 0. */
			kref_get(&map->ref);
			mutex_unlock(&sgbuf_mappings_lock);
			dma_buf_put(dmabuf);
			return map;
		}
	}

	map = kzalloc(sizeof(*map), GFP_KERNEL_ACCOUNT);
	if (!map) {
		ret = -ENOMEM;
		goto unlock;
	}
	map->attach = dma_buf_attach(dmabuf, dev);
	if (IS_ERR(map->attach)) {
		ret = PTR_ERR(map->attach);
		goto free_map;
	}
	map->sgt = dma_buf_map_attachment_unlocked(map->attach,
						   DMA_BIDIRECTIONAL);
	if (IS_ERR(map->sgt)) {
		ret = PTR_ERR(map->sgt);
		goto detach;
	}
	kref_init(&map->ref);
	map->dmabuf = dmabuf;
	map->dev = dev;
	list_add(&map->node, &sgbuf_mappings);
	mutex_unlock(&sgbuf_mappings_lock);
	return map;

detach:
	dma_buf_detach(dmabuf, map->attach);
free_map:
	kfree(map);
unlock:
	mutex_unlock(&sgbuf_mappings_lock);
	dma_buf_put(dmabuf);
	return ERR_PTR(ret);
}

static void sgbuf_import_destroy(struct sgbuf_import_obj *imp)
{
	sgbuf_mapping_put(imp->map);
	kfree(imp);
}

static void sgbuf_import_release_work(struct work_struct *work)
{
	struct sgbuf_import_obj *imp = container_of(work, typeof(*imp),
						    release_work);
	struct sgbuf_engine *eng = imp->eng;

	sgbuf_import_destroy(imp);
	if (atomic_dec_and_test(&eng->releases))
		wake_up(&eng->releases_done);
}

/*
 * The last reference may be a job's, dropped by the job runner: unmapping
 * and detaching take the reservation lock, which must not happen there, so
 * the release goes to the module's workqueue. Closing the file waits for
 * these (sgbuf_engine_unimport_all()).
 */
static void sgbuf_import_release(struct kref *ref)
{
	struct sgbuf_import_obj *imp = container_of(ref, typeof(*imp), ref);

	atomic_inc(&imp->eng->releases);
	queue_work(sgbuf_wq, &imp->release_work);
}

/* For the file's close, where taking the reservation lock is fine. */
static void sgbuf_import_release_now(struct kref *ref)
{
	sgbuf_import_destroy(container_of(ref, struct sgbuf_import_obj, ref));
}

void sgbuf_import_put(struct sgbuf_import_obj *imp)
{
	if (imp)
		kref_put(&imp->ref, sgbuf_import_release);
}

struct sgbuf_import_obj *sgbuf_import_get(struct sgbuf_engine *eng,
					  u32 handle)
{
	struct sgbuf_import_obj *imp;

	mutex_lock(&eng->lock);
	imp = xa_load(&eng->imports, handle);
	if (imp)
		kref_get(&imp->ref);
	mutex_unlock(&eng->lock);
	return imp;
}

int sgbuf_engine_import(struct sgbuf_engine *eng, void __user *uarg,
			unsigned int usize)
{
	struct sgbuf_import req;
	struct sgbuf_import_obj *imp;
	struct dma_buf *dmabuf;
	u32 handle;
	int ret;

	ret = sgbuf_copy_args(&req, sizeof(req), uarg, usize,
			      SGBUF_IMPORT_SIZE_VER0);
	if (ret)
		return ret;
	if (req.flags & ~SGBUF_IMPORT_VALID_FLAGS || req.handle || req.size ||
	    req.reserved[0] || req.reserved[1])
		return -EINVAL;

	imp = kzalloc(sizeof(*imp), GFP_KERNEL_ACCOUNT);
	if (!imp)
		return -ENOMEM;
	kref_init(&imp->ref);
	INIT_WORK(&imp->release_work, sgbuf_import_release_work);
	imp->eng = eng;
	imp->dev = sgbuf_dma_device(req.flags & SGBUF_IMPORT_DMA32);
	imp->sync = !(req.flags & SGBUF_IMPORT_NO_SYNC);

	dmabuf = dma_buf_get(req.fd);
	if (IS_ERR(dmabuf)) {
		ret = PTR_ERR(dmabuf);
		goto free_imp;
	}
	imp->map = sgbuf_mapping_get(dmabuf, imp->dev);
	if (IS_ERR(imp->map)) {
		ret = PTR_ERR(imp->map);
		goto free_imp;
	}
	imp->dmabuf = imp->map->dmabuf;
	imp->sgt = imp->map->sgt;

	/* Reserve the handle; it is published only once userspace has it. */
	mutex_lock(&eng->lock);
	ret = xa_alloc(&eng->imports, &handle, NULL,
		       XA_LIMIT(1, SGBUF_MAX_IMPORTS), GFP_KERNEL);
	mutex_unlock(&eng->lock);
	if (ret) {
		ret = ret == -EBUSY ? -EMFILE : ret;
		goto put_map;
	}
	imp->handle = handle;
	req.handle = handle;
	req.size = imp->dmabuf->size;
	if (copy_to_user(uarg, &req, sizeof(req))) {
		ret = -EFAULT;
		goto release_handle;
	}

	/* Ownership of imp passes to the handle table. */
	mutex_lock(&eng->lock);
	ret = xa_err(xa_store(&eng->imports, handle, imp, GFP_KERNEL));
	if (ret)
		xa_release(&eng->imports, handle);
	mutex_unlock(&eng->lock);
	if (ret)
		goto put_map;
	return 0;

release_handle:
	mutex_lock(&eng->lock);
	xa_release(&eng->imports, handle);
	mutex_unlock(&eng->lock);
put_map:
	sgbuf_mapping_put(imp->map);
free_imp:
	kfree(imp);
	return ret;
}

int sgbuf_engine_unimport(struct sgbuf_engine *eng, void __user *uarg,
			  unsigned int usize)
{
	struct sgbuf_unimport req;
	struct sgbuf_import_obj *imp;
	int ret;

	ret = sgbuf_copy_args(&req, sizeof(req), uarg, usize,
			      SGBUF_UNIMPORT_SIZE_VER0);
	if (ret)
		return ret;
	if (req.flags || req.reserved)
		return -EINVAL;

	mutex_lock(&eng->lock);
	imp = xa_erase(&eng->imports, req.handle);
	mutex_unlock(&eng->lock);
	if (!imp)
		return -ENOENT;
	/*
	 * Jobs that use it hold their own references; without any, it is
	 * released before UNIMPORT returns.
	 */
	kref_put(&imp->ref, sgbuf_import_release_now);
	return 0;
}

/*
 * At close, once every job is done: release every import before the file
 * is gone, so that nothing of it (dma-buf references included, which may
 * pin this module) lingers on the workqueue.
 */
void sgbuf_engine_unimport_all(struct sgbuf_engine *eng)
{
	struct sgbuf_import_obj *imp;
	unsigned long idx;

	xa_for_each(&eng->imports, idx, imp)
		kref_put(&imp->ref, sgbuf_import_release_now);
	xa_destroy(&eng->imports);
	wait_event(eng->releases_done, !atomic_read(&eng->releases));
}
