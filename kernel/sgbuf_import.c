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
#include <linux/xarray.h>

#include <linux/sgbuf.h>

#include "sgbuf.h"
#include "sgbuf_engine.h"

static void sgbuf_import_release(struct kref *ref)
{
	struct sgbuf_import_obj *imp = container_of(ref, typeof(*imp), ref);

	dma_buf_unmap_attachment_unlocked(imp->attach, imp->sgt,
					  DMA_BIDIRECTIONAL);
	dma_buf_detach(imp->dmabuf, imp->attach);
	dma_buf_put(imp->dmabuf);
	kfree(imp);
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
	int ret;

	if (usize < SGBUF_IMPORT_SIZE_VER0)
		return -EINVAL;
	ret = copy_struct_from_user(&req, sizeof(req), uarg, usize);
	if (ret)
		return ret;
	if (req.flags & ~SGBUF_IMPORT_VALID_FLAGS || req.handle || req.size ||
	    req.reserved[0] || req.reserved[1])
		return -EINVAL;

	imp = kzalloc(sizeof(*imp), GFP_KERNEL);
	if (!imp)
		return -ENOMEM;
	kref_init(&imp->ref);
	imp->dev = sgbuf_dma_device(req.flags & SGBUF_IMPORT_DMA32);

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

	mutex_lock(&eng->lock);
	ret = xa_alloc(&eng->imports, &imp->handle, imp,
		       XA_LIMIT(1, SGBUF_MAX_IMPORTS), GFP_KERNEL);
	mutex_unlock(&eng->lock);
	if (ret) {
		ret = ret == -EBUSY ? -EMFILE : ret;
		goto unmap;
	}

	req.handle = imp->handle;
	req.size = imp->dmabuf->size;
	if (copy_to_user(uarg, &req, sizeof(req))) {
		mutex_lock(&eng->lock);
		xa_erase(&eng->imports, req.handle);
		mutex_unlock(&eng->lock);
		sgbuf_import_put(imp);
		return -EFAULT;
	}
	return 0;

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

	if (usize < SGBUF_UNIMPORT_SIZE_VER0)
		return -EINVAL;
	ret = copy_struct_from_user(&req, sizeof(req), uarg, usize);
	if (ret)
		return ret;
	if (req.flags || req.reserved)
		return -EINVAL;

	mutex_lock(&eng->lock);
	imp = xa_erase(&eng->imports, req.handle);
	mutex_unlock(&eng->lock);
	if (!imp)
		return -ENOENT;
	/* Jobs that use it hold their own references. */
	sgbuf_import_put(imp);
	return 0;
}
