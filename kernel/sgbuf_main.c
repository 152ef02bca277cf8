// SPDX-License-Identifier: GPL-2.0
/*
 * sgbuf - scatter-gather dma-buf exporter
 *
 * Module entry: parameters, accounting of live buffers, the engine's DMA
 * devices, and the two device nodes, /dev/sgbuf (native ABI) and
 * /dev/dma_heap/sgbuf (the dma-heap ABI).
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/init.h>
#include <linux/kstrtox.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/sizes.h>

#include "compat.h"
#include "sgbuf.h"

static unsigned long long max_buffer_size = SZ_4G;
module_param(max_buffer_size, ullong, 0644);
MODULE_PARM_DESC(max_buffer_size,
		 "Largest buffer in bytes; larger requests fail with EFBIG (default 4 GiB)");

static u64 sgbuf_default_total_size(void)
{
	return ((u64)totalram_pages() << PAGE_SHIFT) / 4 * 3;
}

static unsigned long long max_total_size;

/* Writing 0 restores the default, at load time and later alike. */
static int sgbuf_total_size_set(const char *val, const struct kernel_param *kp)
{
	unsigned long long v;
	int ret;

	ret = kstrtoull(val, 0, &v);
	if (ret)
		return ret;
	WRITE_ONCE(max_total_size, v ? v : sgbuf_default_total_size());
	return 0;
}

static const struct kernel_param_ops sgbuf_total_size_ops = {
	.set = sgbuf_total_size_set,
	.get = param_get_ullong,
};

module_param_cb(max_total_size, &sgbuf_total_size_ops, &max_total_size, 0644);
MODULE_PARM_DESC(max_total_size,
		 "Cap on the bytes of all live buffers; beyond it allocation fails with ENOSPC (default and 0: 3/4 of RAM)");

/* Bytes and number of all live buffers; max_total_size bounds the bytes. */
static atomic64_t sgbuf_total_bytes = ATOMIC64_INIT(0);
static atomic64_t sgbuf_live_buffers = ATOMIC64_INIT(0);

u64 sgbuf_max_buffer_size(void)
{
	return READ_ONCE(max_buffer_size);
}

int sgbuf_account_add(u64 size)
{
	u64 cap = READ_ONCE(max_total_size);
	s64 old = atomic64_read(&sgbuf_total_bytes);

	/* Never let the total exceed the cap, not even for a moment. */
	do {
		if (size > cap || old > cap - size)
			return -ENOSPC;
	} while (!atomic64_try_cmpxchg(&sgbuf_total_bytes, &old, old + size));

	atomic64_inc(&sgbuf_live_buffers);
	return 0;
}

void sgbuf_account_sub(u64 size)
{
	atomic64_dec(&sgbuf_live_buffers);
	atomic64_sub(size, &sgbuf_total_bytes);
}

void sgbuf_account_read(u64 *total, u64 *max_total, u64 *live)
{
	*total = atomic64_read(&sgbuf_total_bytes);
	*max_total = READ_ONCE(max_total_size);
	*live = atomic64_read(&sgbuf_live_buffers);
}

static struct miscdevice sgbuf_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "sgbuf",
	.fops = &sgbuf_fops,
};

static struct miscdevice sgbuf_heap_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "sgbuf_heap",
	.nodename = "dma_heap/sgbuf",
	.fops = &sgbuf_heap_fops,
};

static int __init sgbuf_init(void)
{
	int ret;

	if (!max_total_size)
		max_total_size = sgbuf_default_total_size();

	ret = sgbuf_dma_init();
	if (ret) {
		pr_err("cannot register the DMA devices: %d\n", ret);
		return ret;
	}
	ret = sgbuf_engine_init();
	if (ret)
		goto remove_dma;

	ret = misc_register(&sgbuf_misc);
	if (ret) {
		pr_err("cannot register /dev/%s: %d\n", sgbuf_misc.name, ret);
		goto exit_engine;
	}

	ret = misc_register(&sgbuf_heap_misc);
	if (ret) {
		pr_err("cannot register /dev/%s: %d\n",
		       sgbuf_heap_misc.nodename, ret);
		goto deregister_misc;
	}
	return 0;

deregister_misc:
	misc_deregister(&sgbuf_misc);
exit_engine:
	sgbuf_engine_exit();
remove_dma:
	sgbuf_dma_exit();
	return ret;
}

static void __exit sgbuf_exit(void)
{
	misc_deregister(&sgbuf_heap_misc);
	misc_deregister(&sgbuf_misc);
	sgbuf_engine_exit();
	sgbuf_dma_exit();
}

module_init(sgbuf_init);
module_exit(sgbuf_exit);

MODULE_DESCRIPTION("Scatter-gather dma-buf exporter and simulated DMA consumer");
MODULE_AUTHOR("The sgbuf developers");
MODULE_LICENSE("GPL");
MODULE_VERSION(SGBUF_VERSION);
SGBUF_IMPORT_NS_DMA_BUF();
