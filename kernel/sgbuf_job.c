// SPDX-License-Identifier: GPL-2.0
/*
 * sgbuf - the engine's jobs
 *
 * See sgbuf_engine.c for a job's life. This file holds SUBMIT, the worker
 * that runs a job, and WAIT.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/delay.h>
#include <linux/dma-buf.h>
#include <linux/dma-fence.h>
#include <linux/dma-mapping.h>
#include <linux/dma-resv.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/moduleparam.h>
#include <linux/slab.h>
#include <linux/sync_file.h>
#include <linux/uaccess.h>
#include <linux/workqueue.h>

#include <linux/sgbuf.h>

#include "sgbuf.h"
#include "sgbuf_engine.h"

static unsigned int job_timeout_ms = 10000;
module_param(job_timeout_ms, uint, 0644);
MODULE_PARM_DESC(job_timeout_ms,
		 "How long a job waits for its fences before failing with ETIMEDOUT (default 10000)");

struct sgbuf_job {
	struct work_struct work;
	struct sgbuf_engine *eng;
	struct dma_fence *fence;
	u64 seqno;
	u32 op;
	u32 pattern;
	u64 src_offset, dst_offset, length;
	struct sgbuf_import_obj *src, *dst;
	struct dma_fence **deps;
	unsigned int num_deps;
	int error;			/* set at submit: the job must not run */
};

static void sgbuf_job_free(struct sgbuf_job *job)
{
	unsigned int i;

	for (i = 0; i < job->num_deps; i++)
		dma_fence_put(job->deps[i]);
	kfree(job->deps);
	sgbuf_import_put(job->src);
	sgbuf_import_put(job->dst);
	dma_fence_put(job->fence);
	kfree(job);
}

/*
 * Wait for every dependency, in bounded steps so that closing the file or
 * the job timeout ends the wait. A dependency that failed fails the job.
 */
static int sgbuf_job_wait_deps(struct sgbuf_job *job)
{
	unsigned long deadline = jiffies +
				 msecs_to_jiffies(READ_ONCE(job_timeout_ms));
	unsigned int i;

	for (i = 0; i < job->num_deps; i++) {
		struct dma_fence *dep = job->deps[i];
		int status;

		while (dma_fence_wait_timeout(dep, false, HZ / 20) <= 0) {
			if (READ_ONCE(job->eng->closing))
				return -ECANCELED;
			if (time_after(jiffies, deadline))
				return -ETIMEDOUT;
		}
		status = dma_fence_get_status(dep);
		if (status < 0)
			return status;
	}
	return 0;
}

static int sgbuf_job_move(struct sgbuf_job *job, u32 *checksum)
{
	struct sgbuf_import_obj *src = job->src, *dst = job->dst;
	int ret;

	/*
	 * As a driver must: hand the memory to the device before it reads
	 * or writes, and back to the CPU after it wrote. The whole
	 * destination mapping is synced both ways so that the bytes outside
	 * the range survive a round trip through a bounce buffer.
	 */
	if (src && src != dst)
		dma_sync_sgtable_for_device(src->dev, src->sgt, DMA_TO_DEVICE);
	if (dst)
		dma_sync_sgtable_for_device(dst->dev, dst->sgt,
					    DMA_BIDIRECTIONAL);

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
	default:
		ret = sgbuf_dma_crc32(src->dev, src->sgt, job->src_offset,
				      job->length, checksum);
		break;
	}

	if (dst)
		dma_sync_sgtable_for_cpu(dst->dev, dst->sgt, DMA_BIDIRECTIONAL);
	return ret;
}

/* Let the job take as long as the configured bandwidth and latency say. */
static void sgbuf_job_throttle(struct sgbuf_job *job,
			       const struct sgbuf_engine_config *cfg,
			       ktime_t start)
{
	u64 ns = cfg->latency_ns;
	ktime_t end;

	if (cfg->bandwidth)
		ns += mul_u64_u64_div_u64(job->length, NSEC_PER_SEC,
					  cfg->bandwidth);
	end = ktime_add_ns(start, ns);

	while (!READ_ONCE(job->eng->closing)) {
		s64 left_us = ktime_us_delta(end, ktime_get());

		if (left_us <= 0)
			break;
		fsleep(min_t(s64, left_us, 20 * USEC_PER_MSEC));
	}
}

static void sgbuf_job_work(struct work_struct *work)
{
	struct sgbuf_job *job = container_of(work, struct sgbuf_job, work);
	struct sgbuf_engine *eng = job->eng;
	struct sgbuf_result *res = &eng->results[job->seqno % SGBUF_RESULTS];
	struct sgbuf_engine_config cfg;
	u32 checksum = 0;
	bool cookie;
	int err;

	mutex_lock(&eng->lock);
	cfg = eng->cfg;
	mutex_unlock(&eng->lock);

	err = job->error;
	if (!err)
		err = sgbuf_job_wait_deps(job);
	if (!err && READ_ONCE(eng->closing))
		err = -ECANCELED;
	if (!err && cfg.fail_seqno == job->seqno)
		err = cfg.fail_error ?: -EIO;
	if (!err) {
		ktime_t start = ktime_get();

		err = sgbuf_job_move(job, &checksum);
		sgbuf_job_throttle(job, &cfg, start);
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
		res->checksum = checksum;
	}
	spin_unlock(&eng->result_lock);

	/* Nothing from here to the signal may allocate, lock resv or wait. */
	cookie = dma_fence_begin_signalling();
	if (err)
		dma_fence_set_error(job->fence, err);
	dma_fence_signal(job->fence);
	dma_fence_end_signalling(cookie);

	atomic_dec(&eng->in_flight);
	sgbuf_job_free(job);
}

/*
 * Make the job depend on the fences already in @dmabuf's reservation
 * object, and add the job's fence to it: a writer waits for everyone, a
 * reader for writers.
 */
static int sgbuf_job_add_resv(struct sgbuf_job *job, struct dma_buf *dmabuf,
			      bool write)
{
	struct dma_resv *resv = dmabuf->resv;
	struct dma_fence **fences, **deps;
	unsigned int n, i;
	int ret;

	ret = dma_resv_lock_interruptible(resv, NULL);
	if (ret)
		return ret;
	ret = dma_resv_get_fences(resv, dma_resv_usage_rw(write), &n, &fences);
	if (ret)
		goto unlock;
	ret = dma_resv_reserve_fences(resv, 1);
	if (ret)
		goto put_fences;

	deps = krealloc_array(job->deps, job->num_deps + n, sizeof(*deps),
			      GFP_KERNEL);
	if (!deps) {
		ret = -ENOMEM;
		goto put_fences;
	}
	/* The job owns the references dma_resv_get_fences() took. */
	for (i = 0; i < n; i++)
		deps[job->num_deps++] = fences[i];
	job->deps = deps;
	kfree(fences);

	dma_resv_add_fence(resv, job->fence, write ? DMA_RESV_USAGE_WRITE :
						     DMA_RESV_USAGE_READ);
	dma_resv_unlock(resv);
	return 0;

put_fences:
	for (i = 0; i < n; i++)
		dma_fence_put(fences[i]);
	kfree(fences);
unlock:
	dma_resv_unlock(resv);
	return ret;
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
			 req->op == SGBUF_JOB_CHECKSUM;
	bool needs_dst = req->op == SGBUF_JOB_FILL ||
			 req->op == SGBUF_JOB_COPY;

	if (req->op < SGBUF_JOB_FILL || req->op > SGBUF_JOB_CHECKSUM)
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

static struct workqueue_struct *sgbuf_engine_wq(struct sgbuf_engine *eng)
{
	lockdep_assert_held(&eng->lock);
	if (!eng->wq)
		eng->wq = alloc_ordered_workqueue("sgbuf-engine-%u",
						  WQ_MEM_RECLAIM, eng->id);
	return eng->wq;
}

/*
 * Number the job, give it its fence and its slot in the result ring, and
 * count it in flight. Fails with -EBUSY when the queue is full.
 */
static int sgbuf_job_enqueue_prepare(struct sgbuf_engine *eng,
				     struct sgbuf_job *job)
{
	struct sgbuf_result *res;
	struct dma_fence *old;
	int ret = 0;

	mutex_lock(&eng->lock);
	if (atomic_read(&eng->in_flight) >= eng->cfg.queue_depth) {
		ret = -EBUSY;
		goto unlock;
	}
	if (!sgbuf_engine_wq(eng)) {
		ret = -ENOMEM;
		goto unlock;
	}
	job->fence = sgbuf_job_fence_create(eng->context, eng->seqno + 1);
	if (!job->fence) {
		ret = -ENOMEM;
		goto unlock;
	}
	job->seqno = ++eng->seqno;
	atomic_inc(&eng->in_flight);
	atomic64_inc(&eng->submitted);

	/* The slot's previous job is done: at most queue_depth are not. */
	res = &eng->results[job->seqno % SGBUF_RESULTS];
	spin_lock(&eng->result_lock);
	old = res->fence;
	res->seqno = job->seqno;
	res->fence = dma_fence_get(job->fence);
	res->status = 0;
	res->checksum = 0;
	spin_unlock(&eng->result_lock);
	dma_fence_put(old);
unlock:
	mutex_unlock(&eng->lock);
	return ret;
}

int sgbuf_engine_submit(struct sgbuf_engine *eng, void __user *uarg,
			unsigned int usize)
{
	struct sync_file *sync_file = NULL;
	struct dma_fence *in_fence = NULL;
	struct sgbuf_submit req;
	struct sgbuf_job *job;
	int fd = -1;
	int ret;

	if (usize < SGBUF_SUBMIT_SIZE_VER0)
		return -EINVAL;
	ret = copy_struct_from_user(&req, sizeof(req), uarg, usize);
	if (ret)
		return ret;
	ret = sgbuf_submit_check(&req);
	if (ret)
		return ret;

	job = kzalloc(sizeof(*job), GFP_KERNEL);
	if (!job)
		return -ENOMEM;
	INIT_WORK(&job->work, sgbuf_job_work);
	job->eng = eng;
	job->op = req.op;
	job->pattern = req.pattern;
	job->src_offset = req.src_offset;
	job->dst_offset = req.dst_offset;
	job->length = req.length;

	ret = -ENOENT;
	if (req.src) {
		job->src = sgbuf_import_get(eng, req.src);
		if (!job->src)
			goto free_job;
	}
	if (req.dst) {
		job->dst = sgbuf_import_get(eng, req.dst);
		if (!job->dst)
			goto free_job;
	}
	ret = -EINVAL;
	if (job->src && !sgbuf_range_ok(job->src, req.src_offset, req.length))
		goto free_job;
	if (job->dst && !sgbuf_range_ok(job->dst, req.dst_offset, req.length))
		goto free_job;
	/* One buffer, two ranges: they must not overlap. */
	if (job->src && job->dst && job->src->dmabuf == job->dst->dmabuf &&
	    req.src_offset < req.dst_offset + req.length &&
	    req.dst_offset < req.src_offset + req.length)
		goto free_job;

	if (req.flags & SGBUF_SUBMIT_IN_FENCE) {
		in_fence = sync_file_get_fence(req.in_fence_fd);
		if (!in_fence)
			goto free_job;
	}

	ret = sgbuf_job_enqueue_prepare(eng, job);
	if (ret)
		goto free_job;

	/*
	 * The job is numbered: whatever happens now, it goes through the
	 * queue (failing if it must) so that its fence signals in order.
	 */
	if (req.flags & SGBUF_SUBMIT_OUT_FENCE) {
		sync_file = sync_file_create(job->fence);
		fd = get_unused_fd_flags(O_CLOEXEC);
		if (!sync_file || fd < 0) {
			ret = sync_file ? fd : -ENOMEM;
			goto fail_job;
		}
	}
	req.seqno = job->seqno;
	if (fd >= 0)
		req.out_fence_fd = fd;
	if (copy_to_user(uarg, &req, sizeof(req))) {
		ret = -EFAULT;
		goto fail_job;
	}

	/* A buffer used both ways is added once, as written. */
	if (job->dst)
		ret = sgbuf_job_add_resv(job, job->dst->dmabuf, true);
	if (!ret && job->src &&
	    (!job->dst || job->src->dmabuf != job->dst->dmabuf))
		ret = sgbuf_job_add_resv(job, job->src->dmabuf, false);
	if (ret)
		goto fail_job;

	if (in_fence) {
		/* The job owns the in-fence reference from here. */
		struct dma_fence **deps;

		deps = krealloc_array(job->deps, job->num_deps + 1,
				      sizeof(*deps), GFP_KERNEL);
		if (!deps) {
			ret = -ENOMEM;
			goto fail_job;
		}
		deps[job->num_deps++] = in_fence;
		job->deps = deps;
		in_fence = NULL;
	}

	queue_work(eng->wq, &job->work);
	/* Publish the out-fence last: the job may already be done. */
	if (fd >= 0)
		fd_install(fd, sync_file->file);
	return 0;

fail_job:
	job->error = ret == -EFAULT ? -ECANCELED : ret;
	queue_work(eng->wq, &job->work);
	if (fd >= 0)
		put_unused_fd(fd);
	if (sync_file)
		fput(sync_file->file);
	dma_fence_put(in_fence);
	return ret;

free_job:
	dma_fence_put(in_fence);
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

	if (usize < SGBUF_WAIT_SIZE_VER0)
		return -EINVAL;
	ret = copy_struct_from_user(&req, sizeof(req), uarg, usize);
	if (ret)
		return ret;
	if (req.status || req.checksum || req.flags || req.reserved[0] ||
	    req.reserved[1])
		return -EINVAL;

	mutex_lock(&eng->lock);
	ret = !req.seqno || req.seqno > eng->seqno ? -EINVAL : 0;
	mutex_unlock(&eng->lock);
	if (ret)
		return ret;

	res = &eng->results[req.seqno % SGBUF_RESULTS];
	spin_lock(&eng->result_lock);
	fence = res->seqno == req.seqno ? dma_fence_get(res->fence) : NULL;
	spin_unlock(&eng->result_lock);
	if (!fence)
		return -ENOENT;

	if (req.timeout_ns < 0)
		timeout = MAX_SCHEDULE_TIMEOUT;
	else
		timeout = min_t(u64, nsecs_to_jiffies64(req.timeout_ns),
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
		req.checksum = res->checksum;
	} else {
		ret = -ENOENT;
	}
	spin_unlock(&eng->result_lock);
	if (ret < 0)
		return ret;

	return copy_to_user(uarg, &req, sizeof(req)) ? -EFAULT : 0;
}
