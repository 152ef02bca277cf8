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
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#include <linux/sgbuf.h>

struct dma_buf;
struct dma_fence;
struct device;
struct sg_table;
struct sgbuf_mapping;
struct workqueue_struct;

#define SGBUF_RESULTS		256	/* results kept; >= SGBUF_MAX_QUEUE_DEPTH */
#define SGBUF_MAX_IMPORTS	1024

static_assert(SGBUF_RESULTS >= SGBUF_MAX_QUEUE_DEPTH);

/* The module's workqueue: engines' job runners, releases, timeouts. */
extern struct workqueue_struct *sgbuf_wq;
extern unsigned int sgbuf_job_timeout_ms;

/*
 * One imported dma-buf, attached and mapped for one of the engine's
 * devices (through a mapping that every import of the dma-buf on that
 * device shares, see sgbuf_import.c). The last reference is dropped on
 * sgbuf_wq, never in a job's signalling path: unmapping and detaching take
 * the reservation lock.
 */
struct sgbuf_import_obj {
	struct kref ref;
	struct work_struct release_work;
	struct sgbuf_engine *eng;	/* outlives every import */
	u32 handle;
	bool sync;			/* the engine syncs around its access */
	struct sgbuf_mapping *map;
	struct dma_buf *dmabuf;		/* the mapping's */
	struct sg_table *sgt;		/* the mapping's */
	struct device *dev;
};

struct sgbuf_result {
	u64 seqno;
	struct dma_fence *fence;
	int status;
	bool wide;			/* a CHECKSUM64 job's: WAIT fills checksum64 */
	u64 checksum;			/* CRC-32 or checksum64, else 0 */
};

struct sgbuf_engine {
	unsigned int id;
	pid_t pid;
	char comm[TASK_COMM_LEN];
	struct list_head node;		/* in sgbuf_engines */

	/* Protects imports (changes, and walks that dereference entries). */
	struct mutex lock;
	struct xarray imports;		/* handle -> sgbuf_import_obj */

	/*
	 * Serialises numbering a job, publishing its fence and queueing it,
	 * so that jobs reach the queue in seqno order; also protects cfg and
	 * seqno. Never taken by the job runner.
	 */
	struct mutex submit_lock;
	struct sgbuf_engine_config cfg;
	u64 seqno;			/* last job number handed out */
	u64 context;			/* fence context of the job timeline */

	spinlock_t queue_lock;		/* protects queue */
	struct list_head queue;		/* jobs not yet run, in seqno order */
	struct work_struct run_work;	/* runs the queue, on sgbuf_wq */

	struct xarray sw_fences;	/* id -> sgbuf_sw_entry */

	spinlock_t result_lock;		/* protects results[] */
	/*
	 * SGBUF_RESULTS entries, allocated apart: with them inline the engine
	 * would be an order-2 allocation.
	 */
	struct sgbuf_result *results;

	bool closing;			/* set once, at release */
	/* Deferred import releases still queued; close waits for them. */
	atomic_t releases;
	wait_queue_head_t releases_done;
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
void sgbuf_engine_unimport_all(struct sgbuf_engine *eng);

/* sgbuf_job.c */
void sgbuf_engine_run(struct work_struct *work);
int sgbuf_engine_submit(struct sgbuf_engine *eng, void __user *uarg,
			unsigned int usize);
int sgbuf_engine_wait(struct sgbuf_engine *eng, void __user *uarg,
		      unsigned int usize);

#endif /* _SGBUF_ENGINE_H */
