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
 * swiotlb is the bounce slot). Pages that translate to contiguous lowmem
 * are moved as one run through the linear map, highmem pages one at a
 * time through kmap_local_page(); either way with preemption disabled, the
 * way kmap_atomic() was used, for a bounded number of bytes at a time
 * (SGBUF_DMA_CHUNK, SGBUF_DMA_CRC_CHUNK). The exporter's page list is
 * never looked at.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitops.h>
#include <linux/crc32.h>
#include <linux/dma-direct.h>
#include <linux/dma-mapping.h>
#include <linux/highmem.h>
#include <linux/iommu.h>
#include <linux/mm.h>
#include <linux/platform_device.h>
#include <linux/preempt.h>
#include <linux/scatterlist.h>
#include <linux/sizes.h>
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
 * The mover touches at most this many bytes per section with preemption
 * disabled, and may reschedule between sections: a 64 MiB job must not
 * hold the CPU for its whole run. FILL, COPY and checksum64 move memory at
 * memory speed (256 KiB: tens of microseconds on hardware, 35 to 180 under
 * TCG); CRC-32 computes about eight times slower than it reads (a table
 * lookup per byte without carry-less multiply), so it gets an eighth of
 * the bytes for about the same time (32 KiB: about 55 us under TCG).
 */
#define SGBUF_DMA_CHUNK		SZ_256K
#define SGBUF_DMA_CRC_CHUNK	SZ_32K

/*
 * A cursor over [offset, offset + len) of a mapped sg_table, in DMA
 * address space, yielding runs that are physically contiguous.
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

/* The memory a bus address reaches, as the device sees it. */
static bool sgbuf_dma_translate(const struct sgbuf_dma_cursor *c,
				dma_addr_t addr, phys_addr_t *phys)
{
	if (c->domain) {
		*phys = iommu_iova_to_phys(c->domain, addr);
		if (!*phys)	/* not mapped in the IOMMU */
			return false;
	} else {
		*phys = dma_to_phys(c->dev, addr);
	}
	return pfn_valid(PHYS_PFN(*phys));
}

/*
 * The next run of at most @max bytes, inside one DMA segment and
 * physically contiguous: each page boundary is translated again, so a run
 * ends wherever the IOMMU (or anything else) maps discontiguous memory. A
 * run that starts in highmem ends with its page, and a lowmem run never
 * extends into highmem, so that sgbuf_dma_map() can reach all of it.
 * Returns the run's length, 0 at the end of the range or where an address
 * does not translate to memory.
 */
static size_t sgbuf_dma_cursor_next(struct sgbuf_dma_cursor *c, size_t max,
				    phys_addr_t *phys)
{
	dma_addr_t addr;
	phys_addr_t next;
	size_t avail, len;

	while (c->left && c->seg_off == sg_dma_len(c->sg)) {
		if (!--c->nents_left)
			return 0;
		c->sg = sg_next(c->sg);
		c->seg_off = 0;
	}
	if (!c->left)
		return 0;

	addr = sg_dma_address(c->sg) + c->seg_off;
	if (!sgbuf_dma_translate(c, addr, phys))
		return 0;
	avail = min3(c->left, sg_dma_len(c->sg) - c->seg_off, (u64)max);
	len = min_t(size_t, avail, PAGE_SIZE - offset_in_page(*phys));
	if (!PageHighMem(pfn_to_page(PHYS_PFN(*phys)))) {
		while (len < avail &&
		       sgbuf_dma_translate(c, addr + len, &next) &&
		       next == *phys + len &&
		       !PageHighMem(pfn_to_page(PHYS_PFN(next))))
			len += min_t(size_t, avail - len, PAGE_SIZE);
	}
	c->seg_off += len;
	c->left -= len;
	return len;
}

/*
 * A run from sgbuf_dma_cursor_next(), mapped for the CPU. A lowmem run may
 * span many pages and is reached through the linear map, where it is as
 * contiguous as in memory. kmap_local_page() maps one page only: with
 * CONFIG_DEBUG_KMAP_LOCAL_FORCE_MAP even a lowmem page gets a fixmap slot
 * of its own, next to a guard page, so it serves only highmem runs, which
 * never leave their page. Unmap with sgbuf_dma_unmap(), in reverse order.
 */
static void *sgbuf_dma_map(phys_addr_t phys)
{
	struct page *page = pfn_to_page(PHYS_PFN(phys));

	if (PageHighMem(page))
		return kmap_local_page(page) + offset_in_page(phys);
	return page_address(page) + offset_in_page(phys);
}

static void sgbuf_dma_unmap(void *vaddr, phys_addr_t phys)
{
	if (PageHighMem(pfn_to_page(PHYS_PFN(phys))))
		kunmap_local(vaddr);
}

/*
 * Call @fn on each run of [offset, offset + len), in sections of at most
 * @chunk bytes that do not sleep, as a device access would not; the mover
 * may reschedule between sections. Inlined into each mover, so that @fn is
 * a direct call.
 *
 * Preemption is disabled not for the mappings' sake (kmap_local_page()
 * does not need it) but to hold the movers to what a device does: they
 * must not sleep, and with CONFIG_DEBUG_ATOMIC_SLEEP a sleeping call in one
 * is reported. The price is scheduling latency. On PREEMPT_RT, too, each
 * section is a non-preemptible stretch of up to @chunk bytes of memory
 * traffic: tens of microseconds on hardware, up to about 180 under TCG,
 * more than a tight real-time budget allows. sgbuf is a test device and
 * not meant for such systems.
 */
static __always_inline int
sgbuf_dma_walk(struct device *dev, struct sg_table *sgt, u64 offset, u64 len,
	       size_t chunk, void (*fn)(void *vaddr, size_t len, void *arg),
	       void *arg)
{
	struct sgbuf_dma_cursor c;
	phys_addr_t phys;
	size_t n;
	int ret;

	ret = sgbuf_dma_cursor_init(&c, dev, sgt, offset, len);
	if (ret)
		return ret;
	while (len) {
		size_t budget = min_t(u64, len, chunk);

		preempt_disable();
		while (budget && (n = sgbuf_dma_cursor_next(&c, budget, &phys))) {
			void *vaddr = sgbuf_dma_map(phys);

			fn(vaddr, n, arg);
			sgbuf_dma_unmap(vaddr, phys);
			budget -= n;
			len -= n;
		}
		preempt_enable();
		if (budget)
			return -EFAULT;
		cond_resched();
	}
	return 0;
}

struct sgbuf_dma_fill_arg {
	u8 pat[12];	/* the pattern three times: 8 bytes from any pos % 4 */
	u64 pos;	/* bytes filled so far */
};

/*
 * Aligned 8-byte stores, 64 bytes a loop. memset64() (rep stosq on x86-64)
 * was measured against this loop in the TCG test guests: FILL 64 MiB ran
 * at 3.9 GB/s with it and 6.9 GB/s without, so the loop stays.
 */
static void sgbuf_dma_fill_run(void *vaddr, size_t len, void *arg)
{
	struct sgbuf_dma_fill_arg *f = arg;
	u8 *p = vaddr;

	f->pos += len;
	while (len && !IS_ALIGNED((unsigned long)p, 8)) {
		*p = f->pat[(f->pos - len) % 4];
		p++;
		len--;
	}
	if (len >= 8) {
		u64 word, *w = (u64 *)p;

		memcpy(&word, &f->pat[(f->pos - len) % 4], sizeof(word));
		for (; len >= 64; len -= 64, w += 8) {
			w[0] = word;
			w[1] = word;
			w[2] = word;
			w[3] = word;
			w[4] = word;
			w[5] = word;
			w[6] = word;
			w[7] = word;
		}
		for (; len >= 8; len -= 8)
			*w++ = word;
		p = (u8 *)w;
	}
	for (; len; len--)
		*p++ = f->pat[(f->pos - len) % 4];
}

int sgbuf_dma_fill(struct device *dev, struct sg_table *sgt, u64 offset,
		   u64 len, u32 pattern)
{
	struct sgbuf_dma_fill_arg f = {};
	int i;

	/* Little-endian pattern, repeated so that any 8 bytes can be read. */
	for (i = 0; i < ARRAY_SIZE(f.pat); i++)
		f.pat[i] = pattern >> (8 * (i % 4));
	return sgbuf_dma_walk(dev, sgt, offset, len, SGBUF_DMA_CHUNK,
			      sgbuf_dma_fill_run, &f);
}

/*
 * Copy in 64-byte bursts, each read whole before any of it is written, as
 * a DMA engine moves a burst through its FIFO. That also spares the test
 * guests a TCG pathology that memcpy() runs into: QEMU's software TLB is
 * direct-mapped, and where source and destination pages share an index
 * (as the 1 MiB chunks of two buffers a power of two apart do), memcpy()'s
 * four loads and four stores swap TLB entries every 32 bytes, which takes
 * a 64 MiB COPY from 3.3 to 0.9 GB/s; bursts of eight keep 1.45 GB/s.
 */
static void sgbuf_dma_copy_run(u8 *d, const u8 *s, size_t len)
{
	for (; len >= 64; len -= 64, d += 64, s += 64) {
		u64 w0, w1, w2, w3, w4, w5, w6, w7;

		memcpy(&w0, s, 8);
		memcpy(&w1, s + 8, 8);
		memcpy(&w2, s + 16, 8);
		memcpy(&w3, s + 24, 8);
		memcpy(&w4, s + 32, 8);
		memcpy(&w5, s + 40, 8);
		memcpy(&w6, s + 48, 8);
		memcpy(&w7, s + 56, 8);
		barrier();	/* the whole burst is read first */
		memcpy(d, &w0, 8);
		memcpy(d + 8, &w1, 8);
		memcpy(d + 16, &w2, 8);
		memcpy(d + 24, &w3, 8);
		memcpy(d + 32, &w4, 8);
		memcpy(d + 40, &w5, 8);
		memcpy(d + 48, &w6, 8);
		memcpy(d + 56, &w7, 8);
	}
	memcpy(d, s, len);
}

int sgbuf_dma_copy(struct device *ddev, struct sg_table *dsgt, u64 doffset,
		   struct device *sdev, struct sg_table *ssgt, u64 soffset,
		   u64 len)
{
	struct sgbuf_dma_cursor dc, sc;
	phys_addr_t dphys = 0, sphys = 0;
	size_t dn = 0, sn = 0;
	int ret;

	ret = sgbuf_dma_cursor_init(&dc, ddev, dsgt, doffset, len);
	if (ret)
		return ret;
	ret = sgbuf_dma_cursor_init(&sc, sdev, ssgt, soffset, len);
	if (ret)
		return ret;

	while (len) {
		size_t budget = min_t(u64, len, SGBUF_DMA_CHUNK);

		preempt_disable();
		while (budget) {
			void *d, *s;
			size_t n;

			if (!dn)
				dn = sgbuf_dma_cursor_next(&dc, budget, &dphys);
			if (!sn)
				sn = sgbuf_dma_cursor_next(&sc, budget, &sphys);
			if (!dn || !sn)
				break;

			/* Both runs stay inside the page they began in if highmem. */
			n = min3(dn, sn, budget);
			s = sgbuf_dma_map(sphys);
			d = sgbuf_dma_map(dphys);
			sgbuf_dma_copy_run(d, s, n);
			sgbuf_dma_unmap(d, dphys);
			sgbuf_dma_unmap(s, sphys);
			dphys += n;
			sphys += n;
			dn -= n;
			sn -= n;
			budget -= n;
			len -= n;
		}
		preempt_enable();
		if (budget)
			return -EFAULT;
		cond_resched();
	}
	return 0;
}

static void sgbuf_dma_crc32_run(void *vaddr, size_t len, void *arg)
{
	u32 *crc = arg;

	*crc = crc32_le(*crc, vaddr, len);
}

int sgbuf_dma_crc32(struct device *dev, struct sg_table *sgt, u64 offset,
		    u64 len, u32 *crc)
{
	u32 v = ~0U;
	int ret;

	ret = sgbuf_dma_walk(dev, sgt, offset, len, SGBUF_DMA_CRC_CHUNK,
			     sgbuf_dma_crc32_run, &v);
	*crc = ~v;
	return ret;
}

/*
 * SGBUF_JOB_CHECKSUM64 (see the uapi header for the definition): over the
 * range's bytes as little-endian 64-bit words, the last one zero-padded,
 * then the length as one more word, a += w; b += a, both modulo 2^64; the
 * result is b ^ rol64(a, 32). A word may straddle two runs.
 */
struct sgbuf_dma_sum64 {
	u64 a, b;
	u64 part;		/* bytes of a word begun in an earlier run */
	unsigned int nr_part;	/* how many, 0..7 */
};

static __always_inline u64 sgbuf_le64(const u8 *p)
{
	__le64 w;

	memcpy(&w, p, sizeof(w));	/* one load where unaligned is fine */
	return le64_to_cpu(w);
}

static void sgbuf_dma_sum64_run(void *vaddr, size_t len, void *arg)
{
	struct sgbuf_dma_sum64 *s = arg;
	const u8 *p = vaddr;
	u64 a = s->a, b = s->b;

	for (; s->nr_part && len; len--) {
		s->part |= (u64)*p++ << (8 * s->nr_part);
		if (++s->nr_part == 8) {
			a += s->part;
			b += a;
			s->part = 0;
			s->nr_part = 0;
		}
	}
	for (; len >= 32; len -= 32, p += 32) {
		a += sgbuf_le64(p);
		b += a;
		a += sgbuf_le64(p + 8);
		b += a;
		a += sgbuf_le64(p + 16);
		b += a;
		a += sgbuf_le64(p + 24);
		b += a;
	}
	for (; len >= 8; len -= 8, p += 8) {
		a += sgbuf_le64(p);
		b += a;
	}
	/* Here nr_part is 0 unless len is too. */
	for (; len; len--)
		s->part |= (u64)*p++ << (8 * s->nr_part++);
	s->a = a;
	s->b = b;
}

int sgbuf_dma_sum64(struct device *dev, struct sg_table *sgt, u64 offset,
		    u64 len, u64 *sum)
{
	struct sgbuf_dma_sum64 s = {};
	int ret;

	ret = sgbuf_dma_walk(dev, sgt, offset, len, SGBUF_DMA_CHUNK,
			     sgbuf_dma_sum64_run, &s);
	if (s.nr_part) {
		s.a += s.part;
		s.b += s.a;
	}
	s.a += len;
	s.b += s.a;
	*sum = s.b ^ rol64(s.a, 32);
	return ret;
}
