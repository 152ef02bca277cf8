// SPDX-License-Identifier: GPL-2.0
/*
 * sgbuf - scatter-gather dma-buf exporter
 *
 * Module entry: parameters, accounting of live buffers, and the two
 * device nodes, /dev/sgbuf (native ABI) and /dev/dma_heap/sgbuf (the
 * dma-heap ABI).
 */

#include <linux/atomic.h>
#include <linux/init.h>
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

static unsigned long long max_total_size;
module_param(max_total_size, ullong, 0644);
MODULE_PARM_DESC(max_total_size,
		 "Cap on the bytes of all live buffers; beyond it allocation fails with ENOSPC (0 at load: 3/4 of RAM)");

/* Bytes and number of all live buffers; the caps above bound them. */
static atomic64_t sgbuf_total_bytes = ATOMIC64_INIT(0);
static atomic64_t sgbuf_live_buffers = ATOMIC64_INIT(0);

u64 sgbuf_max_buffer_size(void)
{
	return READ_ONCE(max_buffer_size);
}

int sgbuf_account_add(u64 size)
{
	u64 cap = READ_ONCE(max_total_size);

	if (atomic64_add_return(size, &sgbuf_total_bytes) > cap) {
		atomic64_sub(size, &sgbuf_total_bytes);
		return -ENOSPC;
	}
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
		max_total_size = ((u64)totalram_pages() << PAGE_SHIFT) / 4 * 3;

	ret = misc_register(&sgbuf_misc);
	if (ret) {
		pr_err("cannot register /dev/%s: %d\n", sgbuf_misc.name, ret);
		return ret;
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
	return ret;
}

static void __exit sgbuf_exit(void)
{
	misc_deregister(&sgbuf_heap_misc);
	misc_deregister(&sgbuf_misc);
}

module_init(sgbuf_init);
module_exit(sgbuf_exit);

MODULE_DESCRIPTION("Scatter-gather dma-buf exporter and simulated DMA consumer");
MODULE_AUTHOR("The sgbuf developers");
MODULE_LICENSE("GPL");
MODULE_VERSION(SGBUF_VERSION);
SGBUF_IMPORT_NS_DMA_BUF();
