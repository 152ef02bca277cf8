// SPDX-License-Identifier: GPL-2.0
/*
 * sgbuf - the DMA consumer engine
 *
 * Every open file of /dev/sgbuf owns one engine: imported dma-bufs, a queue
 * of jobs that run in order on an ordered workqueue, a fence timeline, a
 * ring of recent results and a set of software fences.
 *
 * A job's life:
 *
 *   SUBMIT: validate, take references on the imports and the in-fence,
 *           number the job and create its fence; from here the job always
 *           goes through the queue, even when it will not run, so that the
 *           timeline signals in order. Collect the fences already in each
 *           buffer's reservation object as dependencies and add the job's
 *           fence (WRITE for dst, READ for src). Queue it; publish the
 *           out-fence fd last.
 *   worker: wait for the dependencies (bounded, and cut short when the
 *           file is closing), sync the mappings for the device, move the
 *           data through DMA addresses, sync for the CPU, honour the
 *           configured bandwidth and latency, record the result, signal.
 *   free:   drop the fence, dependency and import references.
 *
 * Closing the file marks the engine closing, signals its software fences
 * with -ECANCELED and drains the queue: jobs that have not started are
 * cancelled (their fences carry -ECANCELED), a running job finishes.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/dma-buf.h>
#include <linux/dma-fence.h>
#include <linux/dma-mapping.h>
#include <linux/dma-resv.h>
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/kref.h>
#include <linux/ktime.h>
#include <linux/list.h>
#include <linux/math64.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/sync_file.h>
#include <linux/uaccess.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#include <linux/sgbuf.h>

#include "sgbuf.h"

static unsigned int job_timeout_ms = 10000;
module_param(job_timeout_ms, uint, 0644);
MODULE_PARM_DESC(job_timeout_ms,
		 "How long a job waits for its fences before failing with ETIMEDOUT (default 10000)");

#define SGBUF_RESULTS		256	/* results kept; >= SGBUF_MAX_QUEUE_DEPTH */
#define SGBUF_MAX_IMPORTS	1024
#define SGBUF_MAX_SW_FENCES	1024
#define SGBUF_DEFAULT_DEPTH	64

static_assert(SGBUF_RESULTS >= SGBUF_MAX_QUEUE_DEPTH);

/* All engines, for debugfs. */
static LIST_HEAD(sgbuf_engines);
static DEFINE_MUTEX(sgbuf_engines_lock);	/* protects sgbuf_engines */
static atomic_t sgbuf_engine_ids = ATOMIC_INIT(0);
static struct dentry *sgbuf_debugfs;

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

/* ---- imports ---- */

static void sgbuf_import_release(struct kref *ref)
{
	struct sgbuf_import_obj *imp = container_of(ref, typeof(*imp), ref);

	dma_buf_unmap_attachment_unlocked(imp->attach, imp->sgt,
					  DMA_BIDIRECTIONAL);
	dma_buf_detach(imp->dmabuf, imp->attach);
	dma_buf_put(imp->dmabuf);
	kfree(imp);
}

static void sgbuf_import_put(struct sgbuf_import_obj *imp)
{
	if (imp)
		kref_put(&imp->ref, sgbuf_import_release);
}

static struct sgbuf_import_obj *sgbuf_import_get(struct sgbuf_engine *eng,
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

static int sgbuf_engine_import(struct sgbuf_engine *eng, void __user *uarg,
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

static int sgbuf_engine_unimport(struct sgbuf_engine *eng, void __user *uarg,
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

/* ---- jobs ---- */

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

static int sgbuf_engine_submit(struct sgbuf_engine *eng, void __user *uarg,
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

static int sgbuf_engine_wait(struct sgbuf_engine *eng, void __user *uarg,
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

static int sgbuf_engine_configure(struct sgbuf_engine *eng, void __user *uarg,
				  unsigned int usize)
{
	struct sgbuf_engine_config cfg;
	int ret;

	if (usize < SGBUF_ENGINE_CONFIG_SIZE_VER0)
		return -EINVAL;
	ret = copy_struct_from_user(&cfg, sizeof(cfg), uarg, usize);
	if (ret)
		return ret;
	if (!cfg.queue_depth || cfg.queue_depth > SGBUF_MAX_QUEUE_DEPTH ||
	    cfg.flags || cfg.pad || cfg.reserved[0] || cfg.reserved[1] ||
	    cfg.fail_error > 0 || cfg.fail_error < -MAX_ERRNO)
		return -EINVAL;

	mutex_lock(&eng->lock);
	eng->cfg = cfg;
	mutex_unlock(&eng->lock);
	return 0;
}

/* ---- software fences ---- */

static int sgbuf_engine_sw_fence_create(struct sgbuf_engine *eng,
					void __user *uarg, unsigned int usize)
{
	struct sgbuf_sw_fence req;
	struct sync_file *sync_file;
	struct dma_fence *fence;
	int fd, ret;

	if (usize < SGBUF_SW_FENCE_SIZE_VER0)
		return -EINVAL;
	ret = copy_struct_from_user(&req, sizeof(req), uarg, usize);
	if (ret)
		return ret;
	if (req.flags || req.fence_fd || req.id || req.reserved[0] ||
	    req.reserved[1])
		return -EINVAL;

	fence = sgbuf_sw_fence_create();
	if (!fence)
		return -ENOMEM;
	sync_file = sync_file_create(fence);
	if (!sync_file) {
		ret = -ENOMEM;
		goto signal_fence;
	}
	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		ret = fd;
		goto put_file;
	}
	/* The xarray holds the reference SW_FENCE_SIGNAL will drop. */
	ret = xa_alloc(&eng->sw_fences, &req.id, dma_fence_get(fence),
		       XA_LIMIT(1, SGBUF_MAX_SW_FENCES), GFP_KERNEL);
	if (ret) {
		dma_fence_put(fence);
		ret = ret == -EBUSY ? -EMFILE : ret;
		goto put_fd;
	}
	req.fence_fd = fd;
	if (copy_to_user(uarg, &req, sizeof(req))) {
		xa_erase(&eng->sw_fences, req.id);
		dma_fence_put(fence);
		ret = -EFAULT;
		goto put_fd;
	}
	dma_fence_put(fence);	/* the sync_file and the xarray hold it */
	fd_install(fd, sync_file->file);
	return 0;

put_fd:
	put_unused_fd(fd);
put_file:
	fput(sync_file->file);
signal_fence:
	/* Never published: still, no fence goes away unsignalled. */
	dma_fence_set_error(fence, -ECANCELED);
	dma_fence_signal(fence);
	dma_fence_put(fence);
	return ret;
}

static int sgbuf_engine_sw_fence_signal(struct sgbuf_engine *eng,
					void __user *uarg, unsigned int usize)
{
	struct sgbuf_sw_signal req;
	struct dma_fence *fence;
	int ret;

	if (usize < SGBUF_SW_SIGNAL_SIZE_VER0)
		return -EINVAL;
	ret = copy_struct_from_user(&req, sizeof(req), uarg, usize);
	if (ret)
		return ret;
	if (req.flags || req.reserved || req.error > 0 ||
	    req.error < -MAX_ERRNO)
		return -EINVAL;

	fence = xa_erase(&eng->sw_fences, req.id);
	if (!fence)
		return -ENOENT;
	if (req.error)
		dma_fence_set_error(fence, req.error);
	dma_fence_signal(fence);
	dma_fence_put(fence);
	return 0;
}

/* ---- the engine ---- */

struct sgbuf_engine *sgbuf_engine_create(void)
{
	struct sgbuf_engine *eng;

	eng = kzalloc(sizeof(*eng), GFP_KERNEL_ACCOUNT);
	if (!eng)
		return NULL;
	eng->id = atomic_inc_return(&sgbuf_engine_ids);
	eng->pid = task_tgid_nr(current);
	get_task_comm(eng->comm, current);
	mutex_init(&eng->lock);
	xa_init_flags(&eng->imports, XA_FLAGS_ALLOC1);
	xa_init_flags(&eng->sw_fences, XA_FLAGS_ALLOC1);
	spin_lock_init(&eng->result_lock);
	eng->context = dma_fence_context_alloc(1);
	eng->cfg.queue_depth = SGBUF_DEFAULT_DEPTH;

	mutex_lock(&sgbuf_engines_lock);
	list_add_tail(&eng->node, &sgbuf_engines);
	mutex_unlock(&sgbuf_engines_lock);
	return eng;
}

void sgbuf_engine_destroy(struct sgbuf_engine *eng)
{
	struct sgbuf_import_obj *imp;
	struct dma_fence *fence;
	unsigned long idx;
	unsigned int i;

	mutex_lock(&sgbuf_engines_lock);
	list_del(&eng->node);
	mutex_unlock(&sgbuf_engines_lock);

	/* Jobs that have not started are cancelled from here on. */
	WRITE_ONCE(eng->closing, true);
	xa_for_each(&eng->sw_fences, idx, fence) {
		xa_erase(&eng->sw_fences, idx);
		dma_fence_set_error(fence, -ECANCELED);
		dma_fence_signal(fence);
		dma_fence_put(fence);
	}
	/* Drains the queue: every job's fence is signalled after this. */
	if (eng->wq)
		destroy_workqueue(eng->wq);

	for (i = 0; i < SGBUF_RESULTS; i++)
		dma_fence_put(eng->results[i].fence);
	xa_for_each(&eng->imports, idx, imp)
		sgbuf_import_put(imp);
	xa_destroy(&eng->imports);
	xa_destroy(&eng->sw_fences);
	mutex_destroy(&eng->lock);
	kfree(eng);
}

long sgbuf_engine_ioctl(struct sgbuf_engine *eng, unsigned int cmd,
			void __user *uarg)
{
	unsigned int usize = _IOC_SIZE(cmd);

	switch (_IOC_NR(cmd)) {
	case _IOC_NR(SGBUF_IOCTL_IMPORT):
		if (_IOC_DIR(cmd) != _IOC_DIR(SGBUF_IOCTL_IMPORT))
			return -ENOTTY;
		return sgbuf_engine_import(eng, uarg, usize);
	case _IOC_NR(SGBUF_IOCTL_UNIMPORT):
		if (_IOC_DIR(cmd) != _IOC_DIR(SGBUF_IOCTL_UNIMPORT))
			return -ENOTTY;
		return sgbuf_engine_unimport(eng, uarg, usize);
	case _IOC_NR(SGBUF_IOCTL_SUBMIT):
		if (_IOC_DIR(cmd) != _IOC_DIR(SGBUF_IOCTL_SUBMIT))
			return -ENOTTY;
		return sgbuf_engine_submit(eng, uarg, usize);
	case _IOC_NR(SGBUF_IOCTL_WAIT):
		if (_IOC_DIR(cmd) != _IOC_DIR(SGBUF_IOCTL_WAIT))
			return -ENOTTY;
		return sgbuf_engine_wait(eng, uarg, usize);
	case _IOC_NR(SGBUF_IOCTL_ENGINE_CONFIG):
		if (_IOC_DIR(cmd) != _IOC_DIR(SGBUF_IOCTL_ENGINE_CONFIG))
			return -ENOTTY;
		return sgbuf_engine_configure(eng, uarg, usize);
	case _IOC_NR(SGBUF_IOCTL_SW_FENCE_CREATE):
		if (_IOC_DIR(cmd) != _IOC_DIR(SGBUF_IOCTL_SW_FENCE_CREATE))
			return -ENOTTY;
		return sgbuf_engine_sw_fence_create(eng, uarg, usize);
	case _IOC_NR(SGBUF_IOCTL_SW_FENCE_SIGNAL):
		if (_IOC_DIR(cmd) != _IOC_DIR(SGBUF_IOCTL_SW_FENCE_SIGNAL))
			return -ENOTTY;
		return sgbuf_engine_sw_fence_signal(eng, uarg, usize);
	default:
		return -ENOTTY;
	}
}

/* ---- debugfs ---- */

static int sgbuf_engines_show(struct seq_file *m, void *unused)
{
	struct sgbuf_engine *eng;

	mutex_lock(&sgbuf_engines_lock);
	list_for_each_entry(eng, &sgbuf_engines, node) {
		struct sgbuf_import_obj *imp;
		unsigned long idx;

		seq_printf(m, "engine %u pid %d comm %s\n", eng->id, eng->pid,
			   eng->comm);
		seq_printf(m, "  jobs submitted %lld completed %lld failed %lld cancelled %lld in_flight %d bytes %lld\n",
			   atomic64_read(&eng->submitted),
			   atomic64_read(&eng->completed),
			   atomic64_read(&eng->failed),
			   atomic64_read(&eng->cancelled),
			   atomic_read(&eng->in_flight),
			   atomic64_read(&eng->bytes));
		mutex_lock(&eng->lock);
		xa_for_each(&eng->imports, idx, imp)
			seq_printf(m, "  import %u size %zu exporter %s dev %s\n",
				   imp->handle, imp->dmabuf->size,
				   imp->dmabuf->exp_name, dev_name(imp->dev));
		mutex_unlock(&eng->lock);
	}
	mutex_unlock(&sgbuf_engines_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(sgbuf_engines);

void sgbuf_engine_debugfs_init(void)
{
	sgbuf_debugfs = debugfs_create_dir(KBUILD_MODNAME, NULL);
	debugfs_create_file("engines", 0444, sgbuf_debugfs, NULL,
			    &sgbuf_engines_fops);
}

void sgbuf_engine_debugfs_exit(void)
{
	debugfs_remove_recursive(sgbuf_debugfs);
}
