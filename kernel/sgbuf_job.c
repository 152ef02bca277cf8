// SPDX-License-Identifier: GPL-2.0
/*
 * sgbuf - the engine's jobs
 *
 * See sgbuf_engine.c for a job's life. This file holds SUBMIT, the runner
 * that executes an engine's queue, and WAIT.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/delay.h>
#include <linux/dma-buf.h>
#include <linux/dma-fence.h>
#include <linux/dma-resv.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/slab.h>
#include <linux/sync_file.h>
#include <linux/uaccess.h>
#include <linux/workqueue.h>

#include <linux/sgbuf.h>

#include "sgbuf.h"
#include "sgbuf_engine.h"

/* At most two reservation objects: dst's and src's. */
#define SGBUF_JOB_MAX_RESV	2

struct sgbuf_job {
	struct list_head node;		/* in the engine's queue */
	struct sgbuf_engine *eng;
	struct dma_fence *fence;
	u64 seqno;
	u32 op;
	u32 pattern;
	u64 src_offset, dst_offset, length;
	struct sgbuf_import_obj *src, *dst;
	struct dma_fence **deps;
	unsigned int num_deps;
	unsigned long deadline;		/* jiffies: give up waiting on deps */
	/* The configuration when the job was submitted. */
	u64 bandwidth, latency_ns;
	int inject_error;
};

static void sgbuf_job_free(struct sgbuf_job *job)
{
	unsigned int i;

	for (i = 0; i < job->num_deps; i++)
		dma_fence_put(job->deps[i]);
	kfree(job->deps);
	sgbuf_import_put(job->src);
	sgbuf_import_put(job->dst);
	if (job->seqno)
		dma_fence_put(job->fence);
	else
		sgbuf_job_fence_free(job->fence);
	kfree(job);
}

/*
 * Wait for every dependency, in bounded steps so that closing the file or
 * the deadline set at submit ends the wait. A dependency that failed fails
 * the job.
 */
static int sgbuf_job_wait_deps(struct sgbuf_job *job)
{
	unsigned int i;

	for (i = 0; i < job->num_deps; i++) {
		struct dma_fence *dep = job->deps[i];
		long ret;

		for (;;) {
			if (READ_ONCE(job->eng->closing))
				return -ECANCELED;
			ret = dma_fence_wait_timeout(dep, false, HZ / 50);
			if (ret < 0)
				return ret;
			if (ret > 0)
				break;
			if (time_after(jiffies, job->deadline))
				return -ETIMEDOUT;
		}
		ret = dma_fence_get_status(dep);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/*
 * As a driver must, hand the range to the device before it reads or
 * writes, and back to the CPU after it wrote: only the bytes the job
 * touches, in pieces inside one DMA segment and one entry of the table's
 * page list, as the exporter syncs (sgbuf_sync_sgt() explains why). The
 * mapping is DMA_BIDIRECTIONAL, so any direction may be synced.
 */
static void sgbuf_job_sync(struct sgbuf_import_obj *imp, u64 offset, u64 len,
			   enum dma_data_direction dir, bool for_cpu)
{
	if (imp->sync)
		sgbuf_sync_sgt(imp->dev, imp->sgt, imp->dmabuf->size, offset,
			       len, dir, for_cpu);
}

static int sgbuf_job_move(struct sgbuf_job *job, u64 *checksum)
{
	struct sgbuf_import_obj *src = job->src, *dst = job->dst;
	u32 crc = 0;
	int ret;

	if (src)
		sgbuf_job_sync(src, job->src_offset, job->length,
			       DMA_TO_DEVICE, false);
	if (dst)
		sgbuf_job_sync(dst, job->dst_offset, job->length,
			       DMA_FROM_DEVICE, false);

	switch (job->op) {
	case SGBUF_JOB_FILL:
		ret = sgbuf_dma_fill(dst->dev, dst->sgt, job->dst_offset,
				     job->length, job->pattern);
		break;
	case SGBUF_JOB_COPY:
		ret = sgbuf_dma_copy(dst->dev, dst->sgt, job->dst_offset,
				     src->dev, src->sgt, job->src_offset,
				     job->length);
		break;
	case SGBUF_JOB_CHECKSUM:
		ret = sgbuf_dma_crc32(src->dev, src->sgt, job->src_offset,
				      job->length, &crc);
		*checksum = crc;
		break;
	case SGBUF_JOB_CHECKSUM64:
		ret = sgbuf_dma_sum64(src->dev, src->sgt, job->src_offset,
				      job->length, checksum);
		break;
	default:	/* sgbuf_submit_check() let no other op through */
		ret = -EINVAL;
		break;
	}

	if (dst)
		sgbuf_job_sync(dst, job->dst_offset, job->length,
			       DMA_FROM_DEVICE, true);
	return ret;
}

/*
 * Let the job take as long as the configured bandwidth and latency say,
 * but never longer than the job timeout: a fence must signal in finite
 * time whatever userspace configured.
 */
static void sgbuf_job_throttle(struct sgbuf_job *job, ktime_t start)
{
	u64 cap = (u64)READ_ONCE(sgbuf_job_timeout_ms) * NSEC_PER_MSEC;
	u64 ns = min(job->latency_ns, cap);
	ktime_t end;

	if (job->bandwidth)
		ns += min(mul_u64_u64_div_u64(job->length, NSEC_PER_SEC,
					      job->bandwidth), cap);
	end = ktime_add_ns(start, min(ns, cap));

	while (!READ_ONCE(job->eng->closing)) {
		s64 left_us = ktime_us_delta(end, ktime_get());

		if (left_us <= 0)
			break;
		fsleep(min_t(s64, left_us, 20 * USEC_PER_MSEC));
	}
}

static void sgbuf_job_run(struct sgbuf_job *job)
{
	struct sgbuf_engine *eng = job->eng;
	struct sgbuf_result *res = &eng->results[job->seqno % SGBUF_RESULTS];
	u64 checksum = 0;
	bool cookie;
	int err;

	/*
	 * Everything until the fence signals is its signalling path: no
	 * allocation, no reservation lock, no lock held across either.
	 */
	cookie = dma_fence_begin_signalling();

	err = sgbuf_job_wait_deps(job);
	/* Closing cancels every job that has not started. */
	if (!err && READ_ONCE(eng->closing))
		err = -ECANCELED;
	if (!err && job->inject_error)
		err = job->inject_error;
	if (!err) {
		ktime_t start = ktime_get();

		err = sgbuf_job_move(job, &checksum);
		sgbuf_job_throttle(job, start);
	}

	if (!err) {
		atomic64_inc(&eng->completed);
		atomic64_add(job->length, &eng->bytes);
	} else if (err == -ECANCELED) {
		atomic64_inc(&eng->cancelled);
	} else {
		atomic64_inc(&eng->failed);
	}

	spin_lock(&eng->result_lock);
	if (res->seqno == job->seqno) {
		res->status = err;
		res->checksum = err ? 0 : checksum;
		res->wide = job->op == SGBUF_JOB_CHECKSUM64;
	}
	spin_unlock(&eng->result_lock);

	/* Before the signal: whoever it wakes may submit right away. */
	atomic_dec(&eng->in_flight);
	if (err)
		dma_fence_set_error(job->fence, err);
	dma_fence_signal(job->fence);
	dma_fence_end_signalling(cookie);

	sgbuf_job_free(job);
}

/**
 * sgbuf_engine_run() - run an engine's queued jobs, in order
 * @work:	the engine's run_work
 *
 * One instance per engine runs at a time (a work item never runs
 * concurrently with itself), which keeps the jobs in seqno order.
 */
void sgbuf_engine_run(struct work_struct *work)
{
	struct sgbuf_engine *eng = container_of(work, struct sgbuf_engine,
						run_work);
	struct sgbuf_job *job;

	for (;;) {
		spin_lock(&eng->queue_lock);
		job = list_first_entry_or_null(&eng->queue, struct sgbuf_job,
					       node);
		if (job)
			list_del(&job->node);
		spin_unlock(&eng->queue_lock);
		if (!job)
			break;
		sgbuf_job_run(job);
		cond_resched();
	}
}

static bool sgbuf_range_ok(const struct sgbuf_import_obj *imp, u64 offset,
			   u64 len)
{
	u64 end;

	return !check_add_overflow(offset, len, &end) &&
	       end <= imp->dmabuf->size;
}

/* Validate what can be checked without touching the engine. */
static int sgbuf_submit_check(const struct sgbuf_submit *req)
{
	bool needs_src = req->op == SGBUF_JOB_COPY ||
			 req->op == SGBUF_JOB_CHECKSUM ||
			 req->op == SGBUF_JOB_CHECKSUM64;
	bool needs_dst = req->op == SGBUF_JOB_FILL ||
			 req->op == SGBUF_JOB_COPY;

	if (req->op < SGBUF_JOB_FILL || req->op > SGBUF_JOB_CHECKSUM64)
		return -EINVAL;
	if (!req->src != !needs_src || !req->dst != !needs_dst)
		return -EINVAL;
	if (req->flags & ~SGBUF_SUBMIT_VALID_FLAGS)
		return -EINVAL;
	if (!(req->flags & SGBUF_SUBMIT_IN_FENCE) && req->in_fence_fd)
		return -EINVAL;
	if (!req->length)
		return -EINVAL;
	if ((!needs_src && req->src_offset) || (!needs_dst && req->dst_offset))
		return -EINVAL;
	if (req->op == SGBUF_JOB_FILL ? req->pattern >> 32 : req->pattern)
		return -EINVAL;
	if (req->seqno || req->out_fence_fd || req->pad ||
	    req->reserved[0] || req->reserved[1])
		return -EINVAL;
	return 0;
}

/* Take the job's imports and check its ranges. */
static int sgbuf_job_get_imports(struct sgbuf_engine *eng,
				 struct sgbuf_job *job,
				 const struct sgbuf_submit *req)
{
	if (req->src) {
		job->src = sgbuf_import_get(eng, req->src);
		if (!job->src)
			return -ENOENT;
		if (!sgbuf_range_ok(job->src, req->src_offset, req->length))
			return -EINVAL;
	}
	if (req->dst) {
		job->dst = sgbuf_import_get(eng, req->dst);
		if (!job->dst)
			return -ENOENT;
		if (!sgbuf_range_ok(job->dst, req->dst_offset, req->length))
			return -EINVAL;
	}
	/* One buffer, two ranges: they must not overlap. */
	if (job->src && job->dst && job->src->dmabuf == job->dst->dmabuf &&
	    req->src_offset < req->dst_offset + req->length &&
	    req->dst_offset < req->src_offset + req->length)
		return -EINVAL;
	return 0;
}

struct sgbuf_job_resv {
	struct dma_resv *resv;
	bool write;
};

/* The reservation objects a job publishes its fence in, each once. */
static unsigned int sgbuf_job_resvs(const struct sgbuf_job *job,
				    struct sgbuf_job_resv *r)
{
	unsigned int n = 0;

	if (job->dst)
		r[n++] = (struct sgbuf_job_resv){ job->dst->dmabuf->resv, true };
	if (job->src && (!n || job->src->dmabuf->resv != r[0].resv))
		r[n++] = (struct sgbuf_job_resv){ job->src->dmabuf->resv, false };
	return n;
}

static void sgbuf_job_unlock_resvs(struct sgbuf_job_resv *r, unsigned int n)
{
	while (n--)
		dma_resv_unlock(r[n].resv);
}

/* Lock all of a job's reservation objects, with the ww_mutex backoff. */
static int sgbuf_job_lock_resvs(struct sgbuf_job_resv *r, unsigned int n,
				struct ww_acquire_ctx *ctx)
{
	int contended = -1;
	int i, j, ret;

retry:
	if (contended >= 0) {
		ret = dma_resv_lock_slow_interruptible(r[contended].resv, ctx);
		if (ret)
			return ret;
	}
	for (i = 0; i < n; i++) {
		if (i == contended)
			continue;
		ret = dma_resv_lock_interruptible(r[i].resv, ctx);
		if (!ret)
			continue;
		/* Held now: r[0..i) and, if any, r[contended]. */
		for (j = 0; j < i; j++)
			dma_resv_unlock(r[j].resv);
		if (contended >= i)
			dma_resv_unlock(r[contended].resv);
		if (ret != -EDEADLK)
			return ret;
		contended = i;
		goto retry;
	}
	return 0;
}

/*
 * With every reservation object locked: collect the fences the job must
 * wait for (a writer waits for everyone, a reader for writers) and reserve
 * a slot for the job's own fence, so that publishing cannot fail.
 */
static int sgbuf_job_collect_deps(struct sgbuf_job *job,
				  struct sgbuf_job_resv *r, unsigned int n,
				  struct dma_fence *in_fence)
{
	unsigned int i, j;
	int ret;

	for (i = 0; i < n; i++) {
		struct dma_fence **fences, **deps;
		unsigned int count;

		ret = dma_resv_reserve_fences(r[i].resv, 1);
		if (ret)
			return ret;
		ret = dma_resv_get_fences(r[i].resv,
					  dma_resv_usage_rw(r[i].write),
					  &count, &fences);
		if (ret)
			return ret;
		/* One more slot for the in-fence. */
		deps = krealloc_array(job->deps, job->num_deps + count + 1,
				      sizeof(*deps), GFP_KERNEL);
		if (!deps) {
			for (j = 0; j < count; j++)
				dma_fence_put(fences[j]);
			kfree(fences);
			return -ENOMEM;
		}
		/*
		 * The job owns the references dma_resv_get_fences() took. Its
		 * own engine's fences are left out: the queue already orders
		 * those jobs, and a failed one must not fail later ones
		 * depending on whether it had signalled by now.
		 */
		for (j = 0; j < count; j++) {
			if (fences[j]->context == job->eng->context)
				dma_fence_put(fences[j]);
			else
				deps[job->num_deps++] = fences[j];
		}
		job->deps = deps;
		kfree(fences);
	}
	if (in_fence) {
		if (!job->deps) {
			job->deps = kmalloc(sizeof(*job->deps), GFP_KERNEL);
			if (!job->deps)
				return -ENOMEM;
		}
		job->deps[job->num_deps++] = dma_fence_get(in_fence);
	}
	return 0;
}

/*
 * Number the job, publish its fence in the reservation objects and queue
 * it, all under submit_lock and with nothing that can fail after the
 * number is taken: jobs reach the queue in seqno order, and their fences
 * signal in that order. The job's number is stored in *@seqno: once queued
 * the job belongs to the runner, which may free it before this returns.
 */
static int sgbuf_job_publish(struct sgbuf_engine *eng, struct sgbuf_job *job,
			     struct sgbuf_job_resv *r, unsigned int n,
			     struct sync_file **sync_file, u64 *seqno)
{
	struct sgbuf_result *res;
	struct dma_fence *old;
	unsigned int i;

	mutex_lock(&eng->submit_lock);
	if (atomic_read(&eng->in_flight) >= eng->cfg.queue_depth) {
		mutex_unlock(&eng->submit_lock);
		return -EBUSY;
	}

	job->seqno = eng->seqno + 1;
	sgbuf_job_fence_init(job->fence, eng->context, job->seqno);
	if (sync_file) {
		*sync_file = sync_file_create(job->fence);
		if (!*sync_file) {
			/* Never published: signalling it harms no one. */
			dma_fence_set_error(job->fence, -ENOMEM);
			dma_fence_signal(job->fence);
			mutex_unlock(&eng->submit_lock);
			return -ENOMEM;
		}
	}
	eng->seqno = job->seqno;
	job->bandwidth = eng->cfg.bandwidth;
	job->latency_ns = eng->cfg.latency_ns;
	if (eng->cfg.fail_seqno == job->seqno)
		job->inject_error = eng->cfg.fail_error ?: -EIO;
	job->deadline = jiffies +
			msecs_to_jiffies(READ_ONCE(sgbuf_job_timeout_ms));

	/* The slot's previous job is done: at most queue_depth are not. */
	res = &eng->results[job->seqno % SGBUF_RESULTS];
	spin_lock(&eng->result_lock);
	old = res->fence;
	res->seqno = job->seqno;
	res->fence = dma_fence_get(job->fence);
	res->status = 0;
	res->wide = false;
	res->checksum = 0;
	spin_unlock(&eng->result_lock);
	dma_fence_put(old);

	for (i = 0; i < n; i++)
		dma_resv_add_fence(r[i].resv, job->fence,
				   r[i].write ? DMA_RESV_USAGE_WRITE :
						DMA_RESV_USAGE_READ);

	*seqno = job->seqno;
	atomic_inc(&eng->in_flight);
	atomic64_inc(&eng->submitted);
	/* Once queued the job is the runner's, which may free it at once. */
	spin_lock(&eng->queue_lock);
	list_add_tail(&job->node, &eng->queue);
	spin_unlock(&eng->queue_lock);
	queue_work(sgbuf_wq, &eng->run_work);
	mutex_unlock(&eng->submit_lock);
	return 0;
}

int sgbuf_engine_submit(struct sgbuf_engine *eng, void __user *uarg,
			unsigned int usize)
{
	struct sgbuf_job_resv r[SGBUF_JOB_MAX_RESV];
	struct sync_file *sync_file = NULL;
	struct dma_fence *in_fence = NULL;
	struct ww_acquire_ctx ctx;
	struct sgbuf_submit req;
	struct sgbuf_job *job;
	unsigned int n;
	int fd = -1;
	int ret;

	ret = sgbuf_copy_args(&req, sizeof(req), uarg, usize,
			      SGBUF_SUBMIT_SIZE_VER0);
	if (ret)
		return ret;
	ret = sgbuf_submit_check(&req);
	if (ret)
		return ret;

	job = kzalloc(sizeof(*job), GFP_KERNEL_ACCOUNT);
	if (!job)
		return -ENOMEM;
	job->eng = eng;
	job->op = req.op;
	job->pattern = req.pattern;
	job->src_offset = req.src_offset;
	job->dst_offset = req.dst_offset;
	job->length = req.length;
	job->fence = sgbuf_job_fence_alloc();
	if (!job->fence) {
		ret = -ENOMEM;
		goto free_job;
	}
	ret = sgbuf_job_get_imports(eng, job, &req);
	if (ret)
		goto free_job;

	if (req.flags & SGBUF_SUBMIT_IN_FENCE) {
		in_fence = sync_file_get_fence(req.in_fence_fd);
		if (!in_fence) {
			ret = -EINVAL;
			goto free_job;
		}
	}
	if (req.flags & SGBUF_SUBMIT_OUT_FENCE) {
		fd = get_unused_fd_flags(O_CLOEXEC);
		if (fd < 0) {
			ret = fd;
			goto put_in_fence;
		}
	}

	n = sgbuf_job_resvs(job, r);
	ww_acquire_init(&ctx, &reservation_ww_class);
	ret = sgbuf_job_lock_resvs(r, n, &ctx);
	if (ret)
		goto fini_ctx;
	ww_acquire_done(&ctx);
	ret = sgbuf_job_collect_deps(job, r, n, in_fence);
	if (!ret)
		ret = sgbuf_job_publish(eng, job, r, n,
					fd >= 0 ? &sync_file : NULL,
					&req.seqno);
	sgbuf_job_unlock_resvs(r, n);
	ww_acquire_fini(&ctx);
	if (ret)
		goto put_fd;
	dma_fence_put(in_fence);

	/*
	 * The job is submitted and may already be done; it owns itself now.
	 * What follows only reports it. Should the reply not reach
	 * userspace, the job still runs, and only its out-fence is lost.
	 */
	if (fd >= 0)
		req.out_fence_fd = fd;
	if (copy_to_user(uarg, &req, sizeof(req))) {
		if (fd >= 0) {
			put_unused_fd(fd);
			fput(sync_file->file);
		}
		return -EFAULT;
	}
	if (fd >= 0)
		fd_install(fd, sync_file->file);
	return 0;

fini_ctx:
	ww_acquire_fini(&ctx);
put_fd:
	if (fd >= 0)
		put_unused_fd(fd);
put_in_fence:
	dma_fence_put(in_fence);
free_job:
	sgbuf_job_free(job);
	return ret;
}

int sgbuf_engine_wait(struct sgbuf_engine *eng, void __user *uarg,
		      unsigned int usize)
{
	struct sgbuf_result *res;
	struct dma_fence *fence;
	struct sgbuf_wait req;
	long timeout, ret;
	u64 last;

	ret = sgbuf_copy_args(&req, sizeof(req), uarg, usize,
			      SGBUF_WAIT_SIZE_VER0);
	if (ret)
		return ret;
	if (req.status || req.checksum || req.checksum64 || req.flags ||
	    req.reserved[0])
		return -EINVAL;

	mutex_lock(&eng->submit_lock);
	last = eng->seqno;
	mutex_unlock(&eng->submit_lock);
	if (!req.seqno || req.seqno > last)
		return -EINVAL;

	res = &eng->results[req.seqno % SGBUF_RESULTS];
	spin_lock(&eng->result_lock);
	fence = res->seqno == req.seqno ? dma_fence_get(res->fence) : NULL;
	spin_unlock(&eng->result_lock);
	if (!fence)
		return -ENOENT;

	if (req.timeout_ns < 0)
		timeout = MAX_SCHEDULE_TIMEOUT;
	else	/* round up: a short timeout still waits */
		timeout = min_t(u64, nsecs_to_jiffies64(req.timeout_ns +
							NSEC_PER_SEC / HZ - 1),
				MAX_SCHEDULE_TIMEOUT - 1);
	ret = dma_fence_wait_timeout(fence, true, timeout);
	dma_fence_put(fence);
	if (ret < 0)
		return ret;
	if (!ret)
		return -ETIME;

	spin_lock(&eng->result_lock);
	if (res->seqno == req.seqno) {
		req.status = res->status;
		req.checksum = lower_32_bits(res->checksum);
		/*
		 * Only for CHECKSUM64 jobs: to a program built against ABI 2
		 * this is reserved[0], which it may pass back as WAIT left it
		 * and which must then still be 0. It cannot submit those jobs.
		 */
		if (res->wide)
			req.checksum64 = res->checksum;
	} else {
		ret = -ENOENT;
	}
	spin_unlock(&eng->result_lock);
	if (ret < 0)
		return ret;

	return copy_to_user(uarg, &req, sizeof(req)) ? -EFAULT : 0;
}
