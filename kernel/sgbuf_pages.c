// SPDX-License-Identifier: GPL-2.0
/*
 * sgbuf - page allocation
 *
 * Buffers are built from the largest chunks the buddy allocator hands out
 * cheaply: 1 MiB and 64 KiB compound pages first, without reclaim, then
 * single pages. Large chunks keep sg tables short and match common IOMMU
 * page sizes. Every page is zeroed and charged to the caller's memory
 * cgroup.
 */

#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include <linux/sgbuf.h>

#include "sgbuf.h"

/* Orders tried from largest to smallest; the last one must be 0. */
static const unsigned int sgbuf_orders[] = { 8, 4, 0 };

/*
 * High orders must fail fast instead of reclaiming or compacting: the
 * next smaller order is a fine substitute. Order 0 may reclaim but must
 * not invoke the OOM killer for a request userspace can simply retry.
 */
#define SGBUF_GFP_BASE	(GFP_HIGHUSER | __GFP_ZERO | __GFP_ACCOUNT | \
			 __GFP_NOWARN)
#define SGBUF_GFP_HIGH	((SGBUF_GFP_BASE | __GFP_NORETRY | __GFP_COMP) & \
			 ~__GFP_RECLAIM)
#define SGBUF_GFP_LOW	(SGBUF_GFP_BASE | __GFP_RETRY_MAYFAIL)
/*
 * The buffer's bookkeeping is charged to the caller's memory cgroup too,
 * before its pages: in a full cgroup it must fail with ENOMEM as they do,
 * not invoke the OOM killer.
 */
#define SGBUF_GFP_META	(GFP_KERNEL_ACCOUNT | __GFP_RETRY_MAYFAIL | \
			 __GFP_NOWARN)

u64 sgbuf_max_contig_size(void)
{
	return (u64)MAX_ORDER_NR_PAGES << PAGE_SHIFT;
}

static void sgbuf_pages_free(struct page **pages, unsigned int nr_pages)
{
	unsigned int i = 0;

	/* A chunk starts with its (compound) head page. */
	while (i < nr_pages) {
		unsigned int order = compound_order(pages[i]);

		__free_pages(pages[i], order);
		i += 1U << order;
	}
}

static int sgbuf_pages_alloc_sg(struct page **pages, unsigned int nr_pages)
{
	unsigned int max_idx = 0, done = 0;

	while (done < nr_pages) {
		unsigned int left = nr_pages - done;
		struct page *page = NULL;
		unsigned int idx, order = 0, i;

		if (fatal_signal_pending(current))
			goto free_done;

		for (idx = max_idx; idx < ARRAY_SIZE(sgbuf_orders); idx++) {
			order = sgbuf_orders[idx];
			if (left < (1U << order))
				continue;
			page = alloc_pages(order ? SGBUF_GFP_HIGH : SGBUF_GFP_LOW,
					   order);
			if (page)
				break;
			/* Memory is fragmented: stop trying this order. */
			max_idx = idx + 1;
		}
		if (!page)
			goto free_done;

		for (i = 0; i < (1U << order); i++)
			pages[done + i] = nth_page(page, i);
		done += 1U << order;
		cond_resched();
	}
	return 0;

free_done:
	sgbuf_pages_free(pages, done);
	return fatal_signal_pending(current) ? -EINTR : -ENOMEM;
}

static int sgbuf_pages_alloc_contig(struct page **pages, unsigned int nr_pages)
{
	unsigned int order = get_order((size_t)nr_pages << PAGE_SHIFT);
	struct page *page;
	unsigned int i;

	page = alloc_pages(SGBUF_GFP_LOW, order);
	if (!page)
		return -ENOMEM;

	/*
	 * Split the block into independent pages so that the tail beyond
	 * the requested size can go back to the allocator right away.
	 */
	split_page(page, order);
	for (i = 0; i < (1U << order); i++) {
		if (i < nr_pages)
			pages[i] = nth_page(page, i);
		else
			__free_page(nth_page(page, i));
	}
	return 0;
}

/*
 * The page array must stay below kvmalloc()'s INT_MAX limit, whatever the
 * max_buffer_size parameter says.
 */
#define SGBUF_MAX_PAGES	(INT_MAX / sizeof(struct page *))

/**
 * sgbuf_buffer_create() - allocate a zeroed buffer within the module's limits
 * @size:	bytes, a non-zero multiple of PAGE_SIZE
 * @flags:	SGBUF_ALLOC_* flags, already validated
 *
 * Charges @size to the module's total; sgbuf_buffer_destroy() gives it back.
 *
 * Return: the buffer, or ERR_PTR(-EFBIG) when @size is above
 * max_buffer_size (or above max_contig_size for a contiguous buffer),
 * ERR_PTR(-ENOSPC) when max_total_size would be exceeded, ERR_PTR(-ENOMEM),
 * or ERR_PTR(-EINTR) when a fatal signal interrupted the allocation.
 */
struct sgbuf_buffer *sgbuf_buffer_create(u64 size, u64 flags)
{
	unsigned int nr_pages;
	struct sgbuf_buffer *buf;
	int ret;

	if (size > sgbuf_max_buffer_size() ||
	    (size >> PAGE_SHIFT) > SGBUF_MAX_PAGES)
		return ERR_PTR(-EFBIG);
	if ((flags & SGBUF_ALLOC_CONTIGUOUS) && size > sgbuf_max_contig_size())
		return ERR_PTR(-EFBIG);
	nr_pages = size >> PAGE_SHIFT;

	ret = sgbuf_account_add(size);
	if (ret)
		return ERR_PTR(ret);

	buf = kzalloc(sizeof(*buf), SGBUF_GFP_META);
	if (!buf) {
		ret = -ENOMEM;
		goto unaccount;
	}

	buf->pages = kvmalloc_array(nr_pages, sizeof(*buf->pages),
				    SGBUF_GFP_META);
	if (!buf->pages) {
		ret = -ENOMEM;
		goto free_buf;
	}

	if (flags & SGBUF_ALLOC_CONTIGUOUS)
		ret = sgbuf_pages_alloc_contig(buf->pages, nr_pages);
	else
		ret = sgbuf_pages_alloc_sg(buf->pages, nr_pages);
	if (ret)
		goto free_array;

	buf->size = size;
	buf->nr_pages = nr_pages;
	mutex_init(&buf->lock);
	INIT_LIST_HEAD(&buf->attachments);
	return buf;

free_array:
	kvfree(buf->pages);
free_buf:
	kfree(buf);
unaccount:
	sgbuf_account_sub(size);
	return ERR_PTR(ret);
}

/**
 * sgbuf_buffer_destroy() - free a buffer and all its pages, and uncharge it
 * @buf:	a buffer with no attachment and no kernel mapping left
 */
void sgbuf_buffer_destroy(struct sgbuf_buffer *buf)
{
	u64 size = buf->size;

	sgbuf_pages_free(buf->pages, buf->nr_pages);
	kvfree(buf->pages);
	mutex_destroy(&buf->lock);
	kfree(buf);
	sgbuf_account_sub(size);
}
