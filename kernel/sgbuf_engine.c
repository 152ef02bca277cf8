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

#include <linux/debugfs.h>
#include <linux/dma-buf.h>
#include <linux/dma-fence.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/sync_file.h>
#include <linux/uaccess.h>
#include <linux/workqueue.h>

#include <linux/sgbuf.h>

#include "sgbuf.h"
#include "sgbuf_engine.h"

#define SGBUF_MAX_SW_FENCES	1024
#define SGBUF_DEFAULT_DEPTH	64

/* All engines, for debugfs. */
static LIST_HEAD(sgbuf_engines);
static DEFINE_MUTEX(sgbuf_engines_lock);	/* protects sgbuf_engines */
static atomic_t sgbuf_engine_ids = ATOMIC_INIT(0);
static struct dentry *sgbuf_debugfs;

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

