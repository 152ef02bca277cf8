// SPDX-License-Identifier: GPL-2.0
/*
 * sgbuf - the simulated DMA device and its data mover
 *
 * Two platform devices bound to one platform driver: sgbuf-dma.0 with a
 * 64-bit DMA mask and sgbuf-dma.1 with a 32-bit mask. Being real devices
 * bound to a driver, they get the platform's DMA ops (direct, swiotlb or
 * IOMMU) and DMA-API debugging exactly like hardware.
 *
 * The mover touches memory only through the DMA addresses of a mapped
 * sg_table, as a bus master would: each address is translated back to the
 * physical page the device reaches (through the IOMMU when the device sits
 * behind a translating domain, else as dma-direct maps it, which under
 * swiotlb is the bounce slot), and that page is accessed with
 * kmap_local_page() with preemption disabled, the way kmap_atomic() was
 * used. The exporter's page list is never looked at.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/crc32.h>
#include <linux/dma-direct.h>
#include <linux/dma-mapping.h>
#include <linux/highmem.h>
#include <linux/iommu.h>
#include <linux/mm.h>
#include <linux/platform_device.h>
#include <linux/preempt.h>
#include <linux/scatterlist.h>
#include <linux/string.h>

#include "sgbuf.h"

#define SGBUF_DMA_NAME	"sgbuf-dma"

static struct platform_device *sgbuf_dma_pdev[2];

static int sgbuf_dma_probe(struct platform_device *pdev)
{
	u64 mask = pdev->id == 1 ? DMA_BIT_MASK(32) : DMA_BIT_MASK(64);
	int ret;

	ret = dma_coerce_mask_and_coherent(&pdev->dev, mask);
	if (ret)
		return ret;
	/* As long as the DMA layer can map (swiotlb: 256 KiB). */
	dma_set_max_seg_size(&pdev->dev,
			     min_t(size_t, UINT_MAX,
				   dma_max_mapping_size(&pdev->dev)));
	return 0;
}

static struct platform_driver sgbuf_dma_driver = {
	.probe = sgbuf_dma_probe,
	.driver = {
		.name = SGBUF_DMA_NAME,
	},
};

/**
 * sgbuf_dma_device() - the engine's device for a DMA mask
 * @dma32:	the device with a 32-bit mask rather than the 64-bit one
 *
 * Return: the device, bound to the sgbuf-dma driver.
 */
struct device *sgbuf_dma_device(bool dma32)
{
	return &sgbuf_dma_pdev[dma32]->dev;
}

int sgbuf_dma_init(void)
{
	unsigned int i;
	int ret;

	ret = platform_driver_register(&sgbuf_dma_driver);
	if (ret)
		return ret;

	for (i = 0; i < ARRAY_SIZE(sgbuf_dma_pdev); i++) {
		struct platform_device *pdev;

		pdev = platform_device_register_simple(SGBUF_DMA_NAME, i,
						       NULL, 0);
		if (IS_ERR(pdev)) {
			ret = PTR_ERR(pdev);
			goto unregister_devices;
		}
		sgbuf_dma_pdev[i] = pdev;
		/* Probing is synchronous: no driver means probe failed. */
		if (!pdev->dev.driver) {
			pr_err("%s.%u did not bind\n", SGBUF_DMA_NAME, i);
			ret = -ENODEV;
			i++;
			goto unregister_devices;
		}
	}
	return 0;

unregister_devices:
	while (i--)
		platform_device_unregister(sgbuf_dma_pdev[i]);
	platform_driver_unregister(&sgbuf_dma_driver);
	return ret;
}

void sgbuf_dma_exit(void)
{
	unsigned int i = ARRAY_SIZE(sgbuf_dma_pdev);

	while (i--)
		platform_device_unregister(sgbuf_dma_pdev[i]);
	platform_driver_unregister(&sgbuf_dma_driver);
}

/*
 * A cursor over [offset, offset + len) of a mapped sg_table, in DMA
 * address space, yielding pieces that never cross a page of memory.
 */
struct sgbuf_dma_cursor {
	struct device *dev;
	struct iommu_domain *domain;	/* translating domain, or NULL */
	struct scatterlist *sg;
	unsigned int nents_left;
	u64 seg_off;
	u64 left;
};

static int sgbuf_dma_cursor_init(struct sgbuf_dma_cursor *c,
				 struct device *dev, struct sg_table *sgt,
				 u64 offset, u64 len)
{
	struct iommu_domain *domain = iommu_get_domain_for_dev(dev);

	c->dev = dev;
	c->domain = domain && domain->type != IOMMU_DOMAIN_IDENTITY ?
		    domain : NULL;
	c->sg = sgt->sgl;
	c->nents_left = sgt->nents;
	c->left = len;

	while (c->nents_left && offset >= sg_dma_len(c->sg)) {
		offset -= sg_dma_len(c->sg);
		c->sg = sg_next(c->sg);
		c->nents_left--;
	}
	if (!c->nents_left)
		return -EINVAL;
	c->seg_off = offset;
	return 0;
}

/* The next piece: its page, offset in the page and length; 0 at the end. */
static unsigned int sgbuf_dma_cursor_next(struct sgbuf_dma_cursor *c,
					  struct page **page,
					  unsigned int *offset)
{
	dma_addr_t addr;
	phys_addr_t phys;
	u64 len;

	while (c->left && c->seg_off == sg_dma_len(c->sg)) {
		if (!--c->nents_left)
			return 0;
		c->sg = sg_next(c->sg);
		c->seg_off = 0;
	}
	if (!c->left)
		return 0;

	addr = sg_dma_address(c->sg) + c->seg_off;
	if (c->domain) {
		phys = iommu_iova_to_phys(c->domain, addr);
		if (!phys)	/* not mapped in the IOMMU */
			return 0;
	} else {
		phys = dma_to_phys(c->dev, addr);
	}
	if (!pfn_valid(PHYS_PFN(phys)))
		return 0;

	*page = pfn_to_page(PHYS_PFN(phys));
	*offset = offset_in_page(phys);
	len = min3(c->left, sg_dma_len(c->sg) - c->seg_off,
		   (u64)(PAGE_SIZE - *offset));
	c->seg_off += len;
	c->left -= len;
	return len;
}

/*
 * Each piece is touched in a section that must not sleep, as a device
 * access would be; between pieces the mover may reschedule.
 */
static void sgbuf_dma_fill_piece(struct page *page, unsigned int off,
				 unsigned int len, const u8 pat[12], u64 pos)
{
	u8 *vaddr, *p;

	preempt_disable();
	vaddr = kmap_local_page(page);
	p = vaddr + off;
	while (len && !IS_ALIGNED((unsigned long)p, 8)) {
		*p++ = pat[pos++ % 4];
		len--;
	}
	if (len >= 8) {
		u64 word;

		/* pat holds the pattern three times: 8 bytes from any pos%4. */
		memcpy(&word, &pat[pos % 4], sizeof(word));
		for (; len >= 8; len -= 8, p += 8)
			*(u64 *)p = word;
	}
	while (len--)
		*p++ = pat[pos++ % 4];
	kunmap_local(vaddr);
	preempt_enable();
}

int sgbuf_dma_fill(struct device *dev, struct sg_table *sgt, u64 offset,
		   u64 len, u32 pattern)
{
	struct sgbuf_dma_cursor c;
	struct page *page;
	unsigned int off, n;
	u8 pat[12];
	u64 pos = 0;
	int ret, i;

	/* Little-endian pattern, repeated so that any 8 bytes can be read. */
	for (i = 0; i < ARRAY_SIZE(pat); i++)
		pat[i] = pattern >> (8 * (i % 4));

	ret = sgbuf_dma_cursor_init(&c, dev, sgt, offset, len);
	if (ret)
		return ret;
	while ((n = sgbuf_dma_cursor_next(&c, &page, &off))) {
		sgbuf_dma_fill_piece(page, off, n, pat, pos);
		pos += n;
		cond_resched();
	}
	return pos == len ? 0 : -EFAULT;
}

static void sgbuf_dma_copy_piece(struct page *dpage, unsigned int doff,
				 struct page *spage, unsigned int soff,
				 unsigned int len)
{
	void *d, *s;

	preempt_disable();
	s = kmap_local_page(spage);
	d = kmap_local_page(dpage);
	memcpy(d + doff, s + soff, len);
	kunmap_local(d);
	kunmap_local(s);
	preempt_enable();
}

int sgbuf_dma_copy(struct device *ddev, struct sg_table *dsgt, u64 doffset,
		   struct device *sdev, struct sg_table *ssgt, u64 soffset,
		   u64 len)
{
	struct sgbuf_dma_cursor dc, sc;
	struct page *dpage = NULL, *spage = NULL;
	unsigned int doff = 0, soff = 0, dn = 0, sn = 0;
	u64 done = 0;
	int ret;

	ret = sgbuf_dma_cursor_init(&dc, ddev, dsgt, doffset, len);
	if (ret)
		return ret;
	ret = sgbuf_dma_cursor_init(&sc, sdev, ssgt, soffset, len);
	if (ret)
		return ret;

	while (done < len) {
		unsigned int n;

		if (!dn)
			dn = sgbuf_dma_cursor_next(&dc, &dpage, &doff);
		if (!sn)
			sn = sgbuf_dma_cursor_next(&sc, &spage, &soff);
		if (!dn || !sn)
			return -EFAULT;

		n = min(dn, sn);
		sgbuf_dma_copy_piece(dpage, doff, spage, soff, n);
		doff += n;
		soff += n;
		dn -= n;
		sn -= n;
		done += n;
		cond_resched();
	}
	return 0;
}

int sgbuf_dma_crc32(struct device *dev, struct sg_table *sgt, u64 offset,
		    u64 len, u32 *crc)
{
	struct sgbuf_dma_cursor c;
	struct page *page;
	unsigned int off, n;
	u32 v = ~0U;
	u64 done = 0;
	int ret;

	ret = sgbuf_dma_cursor_init(&c, dev, sgt, offset, len);
	if (ret)
		return ret;
	while ((n = sgbuf_dma_cursor_next(&c, &page, &off))) {
		void *p;

		preempt_disable();
		p = kmap_local_page(page);
		v = crc32_le(v, p + off, n);
		kunmap_local(p);
		preempt_enable();
		done += n;
		cond_resched();
	}
	*crc = ~v;
	return done == len ? 0 : -EFAULT;
}
