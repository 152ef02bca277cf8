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

static void sgbuf_import_destroy(struct sgbuf_import_obj *imp)
{
	dma_buf_unmap_attachment_unlocked(imp->attach, imp->sgt,
					  DMA_BIDIRECTIONAL);
	dma_buf_detach(imp->dmabuf, imp->attach);
	dma_buf_put(imp->dmabuf);
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

	imp->dmabuf = dma_buf_get(req.fd);
	if (IS_ERR(imp->dmabuf)) {
		ret = PTR_ERR(imp->dmabuf);
		goto free_imp;
	}
	imp->attach = dma_buf_attach(imp->dmabuf, imp->dev);
	if (IS_ERR(imp->attach)) {
		ret = PTR_ERR(imp->attach);
		goto put_dmabuf;
	}
	imp->sgt = dma_buf_map_attachment_unlocked(imp->attach,
						   DMA_BIDIRECTIONAL);
	if (IS_ERR(imp->sgt)) {
		ret = PTR_ERR(imp->sgt);
		goto detach;
	}

	/* Reserve the handle; it is published only once userspace has it. */
	mutex_lock(&eng->lock);
	ret = xa_alloc(&eng->imports, &handle, NULL,
		       XA_LIMIT(1, SGBUF_MAX_IMPORTS), GFP_KERNEL);
	mutex_unlock(&eng->lock);
	if (ret) {
		ret = ret == -EBUSY ? -EMFILE : ret;
		goto unmap;
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
		goto unmap;
	return 0;

release_handle:
	mutex_lock(&eng->lock);
	xa_release(&eng->imports, handle);
	mutex_unlock(&eng->lock);
unmap:
	dma_buf_unmap_attachment_unlocked(imp->attach, imp->sgt,
					  DMA_BIDIRECTIONAL);
detach:
	dma_buf_detach(imp->dmabuf, imp->attach);
put_dmabuf:
	dma_buf_put(imp->dmabuf);
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
