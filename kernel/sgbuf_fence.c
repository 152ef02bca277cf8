// SPDX-License-Identifier: GPL-2.0
/*
 * sgbuf - dma_fences of the engine
 *
 * A fence may outlive everything else of sgbuf: it can sit in a foreign
 * buffer's reservation object or in a sync_file long after its engine is
 * gone. So each fence carries its own lock, its names are static strings,
 * it is freed through RCU, and it holds a reference on the module so that
 * its ops (which live in this module's text) stay valid until the last
 * reference is dropped.
 */

#include <linux/dma-fence.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

#include "sgbuf.h"

struct sgbuf_fence {
	struct dma_fence base;
	spinlock_t lock; /* the fence's own: it may outlive its engine */
};

static const char *sgbuf_fence_driver_name(struct dma_fence *fence)
{
	return "sgbuf";
}

static const char *sgbuf_job_fence_timeline_name(struct dma_fence *fence)
{
	return "sgbuf-engine";
}

static const char *sgbuf_sw_fence_timeline_name(struct dma_fence *fence)
{
	return "sgbuf-sw";
}

static void sgbuf_fence_release(struct dma_fence *fence)
{
	/* base is the first member: this frees the whole sgbuf_fence. */
	dma_fence_free(fence);
	/*
	 * Last: from here this module may go away. What is left is the
	 * return, which compilers emit as a tail call to module_put().
	 */
	module_put(THIS_MODULE);
}

static const struct dma_fence_ops sgbuf_job_fence_ops = {
	.use_64bit_seqno = true,
	.get_driver_name = sgbuf_fence_driver_name,
	.get_timeline_name = sgbuf_job_fence_timeline_name,
	.release = sgbuf_fence_release,
};

static const struct dma_fence_ops sgbuf_sw_fence_ops = {
	.get_driver_name = sgbuf_fence_driver_name,
	.get_timeline_name = sgbuf_sw_fence_timeline_name,
	.release = sgbuf_fence_release,
};

static void sgbuf_fence_init(struct dma_fence *fence,
			     const struct dma_fence_ops *ops, u64 context,
			     u64 seqno)
{
	struct sgbuf_fence *f = container_of(fence, struct sgbuf_fence, base);

	spin_lock_init(&f->lock);
	dma_fence_init(&f->base, ops, &f->lock, context, seqno);
	/* Dropped by sgbuf_fence_release(). */
	__module_get(THIS_MODULE);
}

/**
 * sgbuf_job_fence_alloc() - memory for a job's fence, not yet a fence
 *
 * Allocating is separate from numbering so that a job can be numbered
 * and published without anything left that may fail or sleep.
 *
 * Return: the fence to pass to sgbuf_job_fence_init() or
 * sgbuf_job_fence_free(), or NULL.
 */
struct dma_fence *sgbuf_job_fence_alloc(void)
{
	struct sgbuf_fence *f = kzalloc(sizeof(*f), GFP_KERNEL_ACCOUNT);

	return f ? &f->base : NULL;
}

/**
 * sgbuf_job_fence_init() - make a job's fence
 * @fence:	from sgbuf_job_fence_alloc()
 * @context:	the engine's fence context
 * @seqno:	the job's number; jobs of one context signal in this order
 *
 * From here on @fence is a refcounted dma_fence with one reference.
 */
void sgbuf_job_fence_init(struct dma_fence *fence, u64 context, u64 seqno)
{
	sgbuf_fence_init(fence, &sgbuf_job_fence_ops, context, seqno);
}

/**
 * sgbuf_job_fence_free() - free a fence that sgbuf_job_fence_init() never saw
 * @fence:	from sgbuf_job_fence_alloc(), or NULL
 */
void sgbuf_job_fence_free(struct dma_fence *fence)
{
	if (fence)
		kfree(container_of(fence, struct sgbuf_fence, base));
}

/**
 * sgbuf_sw_fence_create() - a fence that userspace signals
 *
 * Software fences signal in any order, so each gets a context of its own.
 *
 * Return: a new unsignalled fence with one reference, or NULL.
 */
struct dma_fence *sgbuf_sw_fence_create(void)
{
	struct dma_fence *fence = sgbuf_job_fence_alloc();

	if (fence)
		sgbuf_fence_init(fence, &sgbuf_sw_fence_ops,
				 dma_fence_context_alloc(1), 1);
	return fence;
}
