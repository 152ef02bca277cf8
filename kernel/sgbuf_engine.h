/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sgbuf - the engine's shared structures (sgbuf_engine.c, sgbuf_import.c,
 * sgbuf_job.c)
 */
#ifndef _SGBUF_ENGINE_H
#define _SGBUF_ENGINE_H

#include <linux/atomic.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/xarray.h>

#include <linux/sgbuf.h>

struct dma_buf;
struct dma_buf_attachment;
struct dma_fence;
struct device;
struct sg_table;
struct workqueue_struct;

#define SGBUF_RESULTS		256	/* results kept; >= SGBUF_MAX_QUEUE_DEPTH */
#define SGBUF_MAX_IMPORTS	1024

static_assert(SGBUF_RESULTS >= SGBUF_MAX_QUEUE_DEPTH);

/* One imported dma-buf, attached and mapped for the engine's device. */
struct sgbuf_import_obj {
	struct kref ref;
	u32 handle;
	struct dma_buf *dmabuf;
	struct dma_buf_attachment *attach;
	struct sg_table *sgt;
	struct device *dev;
};

struct sgbuf_result {
	u64 seqno;
	struct dma_fence *fence;
	int status;
	u32 checksum;
};

struct sgbuf_engine {
	unsigned int id;
	pid_t pid;
	char comm[TASK_COMM_LEN];
	struct list_head node;		/* in sgbuf_engines */

	/*
	 * Protects imports (changes and walks that dereference entries),
	 * cfg, seqno, wq creation.
	 */
	struct mutex lock;
	struct xarray imports;		/* handle -> sgbuf_import_obj */
	struct sgbuf_engine_config cfg;
	u64 seqno;			/* last job number handed out */
	struct workqueue_struct *wq;	/* ordered; created on first SUBMIT */
	u64 context;			/* fence context of the job timeline */

	struct xarray sw_fences;	/* id -> dma_fence, own lock */

	spinlock_t result_lock;		/* protects results[] */
	struct sgbuf_result results[SGBUF_RESULTS];

	bool closing;			/* set once, at release */
	atomic_t in_flight;
	atomic64_t submitted, completed, failed, cancelled, bytes;
};

/* sgbuf_import.c */
struct sgbuf_import_obj *sgbuf_import_get(struct sgbuf_engine *eng,
					  u32 handle);
void sgbuf_import_put(struct sgbuf_import_obj *imp);
int sgbuf_engine_import(struct sgbuf_engine *eng, void __user *uarg,
			unsigned int usize);
int sgbuf_engine_unimport(struct sgbuf_engine *eng, void __user *uarg,
			  unsigned int usize);

/* sgbuf_job.c */
int sgbuf_engine_submit(struct sgbuf_engine *eng, void __user *uarg,
			unsigned int usize);
int sgbuf_engine_wait(struct sgbuf_engine *eng, void __user *uarg,
		      unsigned int usize);

#endif /* _SGBUF_ENGINE_H */
