// SPDX-License-Identifier: GPL-2.0
/*
 * sgbuf - the DMA consumer engine
 *
 * Every open file of /dev/sgbuf that uses an engine ioctl owns one engine:
 * imported dma-bufs, a queue of jobs that run in order, a fence timeline, a
 * ring of recent results and a set of software fences. The engine is made
 * by the file's first engine ioctl, so that opening /dev/sgbuf to allocate
 * or to sync a range (libdmabuf opens it for each ranged sync) costs no
 * more than the file.
 *
 * A job's life (sgbuf_job.c):
 *
 *   SUBMIT: validate, take references on the imports and the in-fence,
 *           lock the buffers' reservation objects, collect the fences
 *           already there as dependencies and reserve a slot. Then, under
 *           submit_lock and with nothing left that can fail: number the
 *           job, make its fence, add it to the reservation objects (WRITE
 *           for dst, READ for src) and queue the job. Jobs thus reach the
 *           queue, and signal, in seqno order. Reply; out-fence fd last.
 *   runner: one work item per engine on the module's workqueue runs the
 *           queue in order: wait for the dependencies (bounded), sync the
 *           range for the device, move the data through DMA addresses,
 *           sync for the CPU, honour bandwidth and latency (bounded),
 *           record the result, signal.
 *   free:   drop the fence, dependency and import references; an import's
 *           last release is deferred to the workqueue.
 *
 * Closing the file marks the engine closing, signals its software fences
 * with -ECANCELED and flushes the runner: jobs that have not started are
 * cancelled (their fences carry -ECANCELED), a running job finishes.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/dma-buf.h>
#include <linux/dma-fence.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/moduleparam.h>
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
#define SGBUF_MAX_LATENCY_NS	(10ULL * NSEC_PER_SEC)

unsigned int sgbuf_job_timeout_ms = 10000;
module_param_named(job_timeout_ms, sgbuf_job_timeout_ms, uint, 0644);
MODULE_PARM_DESC(job_timeout_ms,
		 "Bound on waiting for fences, on simulated job time and on unsignalled software fences, in ms (default 10000)");

struct workqueue_struct *sgbuf_wq;

/* All engines that exist (files that never used one have none), for debugfs. */
static LIST_HEAD(sgbuf_engines);
static DEFINE_MUTEX(sgbuf_engines_lock);	/* protects sgbuf_engines */
static atomic_t sgbuf_engine_ids = ATOMIC_INIT(0);
static struct dentry *sgbuf_debugfs;

/*
 * A software fence, signalled by userspace, or with -ETIMEDOUT after
 * job_timeout_ms, or with -ECANCELED when the file closes: whoever erases
 * it from the engine's xarray owns it.
 */
struct sgbuf_sw_entry {
	struct dma_fence *fence;
	struct delayed_work timeout;
	struct sgbuf_engine *eng;
	u32 id;
};

static void sgbuf_sw_entry_signal(struct sgbuf_sw_entry *entry, int error)
{
	if (error)
		dma_fence_set_error(entry->fence, error);
	dma_fence_signal(entry->fence);
	dma_fence_put(entry->fence);
	kfree(entry);
}

static void sgbuf_sw_timeout(struct work_struct *work)
{
	struct sgbuf_sw_entry *entry = container_of(to_delayed_work(work),
						    struct sgbuf_sw_entry,
						    timeout);

	/* Lost the race to SIGNAL or to close: they own it. */
	if (xa_erase(&entry->eng->sw_fences, entry->id) != entry)
		return;
	sgbuf_sw_entry_signal(entry, -ETIMEDOUT);
}

static int sgbuf_engine_sw_fence_create(struct sgbuf_engine *eng,
					void __user *uarg, unsigned int usize)
{
	struct sgbuf_sw_fence req;
	struct sgbuf_sw_entry *entry;
	struct sync_file *sync_file;
	int fd, ret;

	ret = sgbuf_copy_args(&req, sizeof(req), uarg, usize,
			      SGBUF_SW_FENCE_SIZE_VER0);
	if (ret)
		return ret;
	if (req.flags || req.fence_fd || req.id || req.reserved[0] ||
	    req.reserved[1])
		return -EINVAL;

	entry = kzalloc(sizeof(*entry), GFP_KERNEL_ACCOUNT);
	if (!entry)
		return -ENOMEM;
	entry->eng = eng;
	INIT_DELAYED_WORK(&entry->timeout, sgbuf_sw_timeout);
	entry->fence = sgbuf_sw_fence_create();
	if (!entry->fence) {
		kfree(entry);
		return -ENOMEM;
	}
	sync_file = sync_file_create(entry->fence);
	if (!sync_file) {
		ret = -ENOMEM;
		goto signal_entry;
	}
	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		ret = fd;
		goto put_file;
	}
	/* Reserve the id; the entry is published only once userspace has it. */
	ret = xa_alloc(&eng->sw_fences, &entry->id, NULL,
		       XA_LIMIT(1, SGBUF_MAX_SW_FENCES), GFP_KERNEL);
	if (ret) {
		ret = ret == -EBUSY ? -EMFILE : ret;
		goto put_fd;
	}
	req.id = entry->id;
	req.fence_fd = fd;
	if (copy_to_user(uarg, &req, sizeof(req))) {
		ret = -EFAULT;
		goto release_id;
	}

	/*
	 * Arm the timeout and publish under the lock SIGNAL erases under,
	 * so that no one can free the entry in between.
	 */
	mutex_lock(&eng->lock);
	ret = xa_err(xa_store(&eng->sw_fences, entry->id, entry, GFP_KERNEL));
	if (!ret)
		queue_delayed_work(sgbuf_wq, &entry->timeout,
				   msecs_to_jiffies(READ_ONCE(sgbuf_job_timeout_ms)));
	mutex_unlock(&eng->lock);
	if (ret)
		goto release_id;
	fd_install(fd, sync_file->file);
	return 0;

release_id:
	xa_release(&eng->sw_fences, entry->id);
put_fd:
	put_unused_fd(fd);
put_file:
	fput(sync_file->file);
signal_entry:
	/* Never published: still, no fence goes away unsignalled. */
	sgbuf_sw_entry_signal(entry, -ECANCELED);
	return ret;
}

static int sgbuf_engine_sw_fence_signal(struct sgbuf_engine *eng,
					void __user *uarg, unsigned int usize)
{
	struct sgbuf_sw_signal req;
	struct sgbuf_sw_entry *entry;
	int ret;

	ret = sgbuf_copy_args(&req, sizeof(req), uarg, usize,
			      SGBUF_SW_SIGNAL_SIZE_VER0);
	if (ret)
		return ret;
	if (req.flags || req.reserved || req.error > 0 ||
	    req.error < -MAX_ERRNO)
		return -EINVAL;

	mutex_lock(&eng->lock);
	entry = xa_erase(&eng->sw_fences, req.id);
	mutex_unlock(&eng->lock);
	if (!entry)
		return -ENOENT;
	cancel_delayed_work_sync(&entry->timeout);
	sgbuf_sw_entry_signal(entry, req.error);
	return 0;
}

static int sgbuf_engine_configure(struct sgbuf_engine *eng, void __user *uarg,
				  unsigned int usize)
{
	struct sgbuf_engine_config cfg;
	int ret;

	ret = sgbuf_copy_args(&cfg, sizeof(cfg), uarg, usize,
			      SGBUF_ENGINE_CONFIG_SIZE_VER0);
	if (ret)
		return ret;
	if (!cfg.queue_depth || cfg.queue_depth > SGBUF_MAX_QUEUE_DEPTH ||
	    cfg.latency_ns > SGBUF_MAX_LATENCY_NS ||
	    cfg.flags || cfg.pad || cfg.reserved[0] || cfg.reserved[1] ||
	    cfg.fail_error > 0 || cfg.fail_error < -MAX_ERRNO)
		return -EINVAL;

	mutex_lock(&eng->submit_lock);
	eng->cfg = cfg;
	mutex_unlock(&eng->submit_lock);
	return 0;
}

/* A new engine, not yet published to its file nor listed in debugfs. */
static struct sgbuf_engine *sgbuf_engine_alloc(void)
{
	struct sgbuf_engine *eng;

	eng = kzalloc(sizeof(*eng), GFP_KERNEL_ACCOUNT);
	if (!eng)
		return NULL;
	eng->results = kvcalloc(SGBUF_RESULTS, sizeof(*eng->results),
				GFP_KERNEL_ACCOUNT);
	if (!eng->results) {
		kfree(eng);
		return NULL;
	}
	eng->id = atomic_inc_return(&sgbuf_engine_ids);
	eng->pid = task_tgid_nr(current);
	get_task_comm(eng->comm, current);
	INIT_LIST_HEAD(&eng->node);
	mutex_init(&eng->lock);
	mutex_init(&eng->submit_lock);
	xa_init_flags(&eng->imports, XA_FLAGS_ALLOC1);
	xa_init_flags(&eng->sw_fences, XA_FLAGS_ALLOC1);
	spin_lock_init(&eng->queue_lock);
	INIT_LIST_HEAD(&eng->queue);
	INIT_WORK(&eng->run_work, sgbuf_engine_run);
	spin_lock_init(&eng->result_lock);
	init_waitqueue_head(&eng->releases_done);
	eng->context = dma_fence_context_alloc(1);
	eng->cfg.queue_depth = SGBUF_DEFAULT_DEPTH;
	return eng;
}

/*
 * Free an engine's memory: one that lost the race to be published, which
 * no one else saw, or one sgbuf_engine_destroy() has emptied.
 */
static void sgbuf_engine_free(struct sgbuf_engine *eng)
{
	xa_destroy(&eng->sw_fences);
	xa_destroy(&eng->imports);
	mutex_destroy(&eng->submit_lock);
	mutex_destroy(&eng->lock);
	kvfree(eng->results);
	kfree(eng);
}

/*
 * The engine of @file, made on first use. file->private_data goes from
 * NULL to the engine once and then stays until release, which no ioctl
 * runs concurrently with. Of two threads making the first engine ioctls of
 * one file at once, both allocate an engine; the one whose cmpxchg()
 * publishes it lists it in debugfs, the other frees its own, which no one
 * else has seen, and uses the winner's. cmpxchg() is fully ordered when it
 * succeeds, and every ioctl loads the pointer with acquire semantics, so
 * whoever sees the engine sees it initialised.
 */
static struct sgbuf_engine *sgbuf_file_engine(struct file *file)
{
	struct sgbuf_engine *eng;

	/* Pairs with the cmpxchg() below: see the engine initialised. */
	eng = smp_load_acquire(&file->private_data);
	if (eng)
		return eng;
	eng = sgbuf_engine_alloc();
	if (!eng)
		return NULL;
	if (cmpxchg(&file->private_data, NULL, eng)) {
		sgbuf_engine_free(eng);
		/* A failed cmpxchg() orders nothing: acquire the winner's. */
		return smp_load_acquire(&file->private_data);
	}
	mutex_lock(&sgbuf_engines_lock);
	list_add_tail(&eng->node, &sgbuf_engines);
	mutex_unlock(&sgbuf_engines_lock);
	return eng;
}

/**
 * sgbuf_engine_destroy() - tear down the engine of a file being released
 * @eng:	the engine
 *
 * Cancels what has not started, waits for the running job and the
 * deferred import releases, and frees the engine.
 */
void sgbuf_engine_destroy(struct sgbuf_engine *eng)
{
	struct sgbuf_sw_entry *entry;
	unsigned long idx;
	unsigned int i;

	mutex_lock(&sgbuf_engines_lock);
	list_del(&eng->node);
	mutex_unlock(&sgbuf_engines_lock);

	/* Jobs that have not started are cancelled from here on. */
	WRITE_ONCE(eng->closing, true);
	xa_for_each(&eng->sw_fences, idx, entry) {
		if (xa_erase(&eng->sw_fences, idx) != entry)
			continue;
		cancel_delayed_work_sync(&entry->timeout);
		sgbuf_sw_entry_signal(entry, -ECANCELED);
	}
	/* Runs the queue dry: every job's fence is signalled after this. */
	flush_work(&eng->run_work);
	WARN_ON(!list_empty(&eng->queue));

	for (i = 0; i < SGBUF_RESULTS; i++)
		dma_fence_put(eng->results[i].fence);
	sgbuf_engine_unimport_all(eng);
	sgbuf_engine_free(eng);
}

/* Engine ioctls, matched on number; the direction must match too. */
static const struct {
	unsigned int cmd;
	int (*fn)(struct sgbuf_engine *eng, void __user *uarg,
		  unsigned int usize);
} sgbuf_engine_ioctls[] = {
	{ SGBUF_IOCTL_IMPORT, sgbuf_engine_import },
	{ SGBUF_IOCTL_UNIMPORT, sgbuf_engine_unimport },
	{ SGBUF_IOCTL_SUBMIT, sgbuf_engine_submit },
	{ SGBUF_IOCTL_WAIT, sgbuf_engine_wait },
	{ SGBUF_IOCTL_ENGINE_CONFIG, sgbuf_engine_configure },
	{ SGBUF_IOCTL_SW_FENCE_CREATE, sgbuf_engine_sw_fence_create },
	{ SGBUF_IOCTL_SW_FENCE_SIGNAL, sgbuf_engine_sw_fence_signal },
};

/**
 * sgbuf_engine_ioctl() - run an engine ioctl on an open file of /dev/sgbuf
 * @file:	the file; its engine is made here on first use
 * @cmd:	the ioctl command, of sgbuf's type
 * @uarg:	its argument
 *
 * Return: the ioctl's result; -ENOTTY for a command that is not an engine
 * ioctl (no engine is made for it), -ENOMEM if the engine cannot be made.
 */
long sgbuf_engine_ioctl(struct file *file, unsigned int cmd,
			void __user *uarg)
{
	struct sgbuf_engine *eng;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(sgbuf_engine_ioctls); i++) {
		unsigned int kcmd = sgbuf_engine_ioctls[i].cmd;

		if (_IOC_NR(cmd) != _IOC_NR(kcmd))
			continue;
		if (_IOC_DIR(cmd) != _IOC_DIR(kcmd))
			return -ENOTTY;
		eng = sgbuf_file_engine(file);
		if (!eng)
			return -ENOMEM;
		return sgbuf_engine_ioctls[i].fn(eng, uarg, _IOC_SIZE(cmd));
	}
	return -ENOTTY;
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

int sgbuf_engine_init(void)
{
	/*
	 * One workqueue for every engine's runner, the deferred import
	 * releases and the software-fence timeouts. It is on the fence
	 * signalling path, hence WQ_MEM_RECLAIM.
	 */
	sgbuf_wq = alloc_workqueue(KBUILD_MODNAME, WQ_MEM_RECLAIM | WQ_UNBOUND,
				   0);
	if (!sgbuf_wq)
		return -ENOMEM;
	sgbuf_debugfs = debugfs_create_dir(KBUILD_MODNAME, NULL);
	debugfs_create_file("engines", 0444, sgbuf_debugfs, NULL,
			    &sgbuf_engines_fops);
	return 0;
}

/* Every engine file is closed; drains deferred releases. */
void sgbuf_engine_exit(void)
{
	debugfs_remove_recursive(sgbuf_debugfs);
	destroy_workqueue(sgbuf_wq);
}

