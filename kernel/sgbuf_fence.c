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
	module_put(THIS_MODULE);
}

static const struct dma_fence_ops sgbuf_job_fence_ops = {
	.get_driver_name = sgbuf_fence_driver_name,
	.get_timeline_name = sgbuf_job_fence_timeline_name,
	.release = sgbuf_fence_release,
};

static const struct dma_fence_ops sgbuf_sw_fence_ops = {
	.get_driver_name = sgbuf_fence_driver_name,
	.get_timeline_name = sgbuf_sw_fence_timeline_name,
	.release = sgbuf_fence_release,
};

static struct dma_fence *sgbuf_fence_create(const struct dma_fence_ops *ops,
					    u64 context, u64 seqno)
{
	struct sgbuf_fence *f;

	f = kzalloc(sizeof(*f), GFP_KERNEL);
	if (!f)
		return NULL;
	spin_lock_init(&f->lock);
	dma_fence_init(&f->base, ops, &f->lock, context, seqno);
	/* Dropped by sgbuf_fence_release(). */
	__module_get(THIS_MODULE);
	return &f->base;
}

/**
 * sgbuf_job_fence_create() - the fence of an engine job
 * @context:	the engine's fence context
 * @seqno:	the job's number; jobs of one context signal in this order
 *
 * Return: a new unsignalled fence with one reference, or NULL.
 */
struct dma_fence *sgbuf_job_fence_create(u64 context, u64 seqno)
{
	return sgbuf_fence_create(&sgbuf_job_fence_ops, context, seqno);
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
	return sgbuf_fence_create(&sgbuf_sw_fence_ops,
				  dma_fence_context_alloc(1), 1);
}
