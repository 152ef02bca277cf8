// SPDX-License-Identifier: GPL-2.0
/*
 * Section "sync": DMA_BUF_IOCTL_SYNC START|RW + END|RW on a mapped,
 * touched buffer, with no importer and with one importer attached and
 * mapped (sgbuf's DMA engine: SGBUF_IOCTL_IMPORT keeps the attachment
 * mapped until UNIMPORT; it imports any exporter's dma-buf).
 *
 * Every iteration also times a floor: the same two ioctls on a memfd,
 * which fail with ENOTTY at once. The excess (median pair - median floor)
 * is the exporter's own cost and is stable under host load, where the
 * pair itself is not. Each case runs on NBUF fresh buffers in turn and
 * reports the mean of their medians. The first pair on a new buffer (the
 * median over the buffers) is reported apart
 * (udmabuf builds and maps its page table lazily there). Under
 * swiotlb=force the attached importer's bounce buffer is copied in both
 * directions, so the cost grows with the size.
 */
#include "bench.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/dma-buf.h>

#define START_RW (DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW)
#define END_RW (DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW)

static int floor_fd = -1;

/*
 * Buffers per case: where the kernel places a buffer's structs moves the
 * pair by up to 0.15 µs under TCG (its software TLB is direct-mapped), so
 * each case is the mean over several buffers of each one's medians.
 */
#define NBUF 5

static double pair(int fd)
{
	double t = now();
	int a = dmabuf_sync(fd, START_RW), b = dmabuf_sync(fd, END_RW);

	t = now() - t;
	if (fd != floor_fd && (a || b))
		die("DMA_BUF_IOCTL_SYNC: %s", strerror(-(a ? a : b)));
	return t * 1e6;
}

struct acc {
	double pair, floor, first;
	int n, bufs;
};

/* Interleaved pairs and floors on one buffer, up to @max or about 0.3 s. */
static void measure(int fd, int max, struct acc *acc)
{
	double *tp = calloc(max, sizeof(double));
	double *tf = calloc(max, sizeof(double));
	double t0 = now();
	int i;

	for (i = 0; i < max && (i < 5 || now() - t0 < 0.3); i++) {
		tf[i] = pair(floor_fd);
		tp[i] = pair(fd);
	}
	acc->pair += median(tp, i);
	acc->floor += median(tf, i);
	acc->n += i;
	acc->bufs++;
	free(tp);
	free(tf);
}

static void report(const char *exp, const char *tag, const struct acc *a)
{
	char m[64];

	if (!a->bufs)
		return;
	snprintf(m, sizeof(m), "sync_pair_%s", tag);
	emit("sync", exp, m, a->pair / a->bufs, "us", a->n);
	snprintf(m, sizeof(m), "sync_floor_%s", tag);
	emit("sync", exp, m, a->floor / a->bufs, "us", a->n);
	snprintf(m, sizeof(m), "sync_excess_%s", tag);
	emit("sync", exp, m, (a->pair - a->floor) / a->bufs, "us", a->n);
}

static void *xmmap(struct exporter *e, int fd, uint64_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	if (p == MAP_FAILED)
		die("%s: mmap: %s", e->name, strerror(errno));
	memset(p, 0x33, size);
	return p;
}

static void warm_up(struct exporter *e)
{
	int fd = xalloc(e, 4096), i;
	void *p = xmmap(e, fd, 4096);
	uint32_t h;

	for (i = 0; i < 50; i++)
		pair(fd);
	if (!engine_import(fd, &h)) {
		for (i = 0; i < 50; i++)
			pair(fd);
		engine_unimport(h);
	}
	munmap(p, 4096);
	close(fd);
}

static void one_size(struct exporter *e, uint64_t size)
{
	int max = size > MiB ? 200 : 1000, b, ret = 0;
	struct acc a0 = { 0 }, a1 = { 0 };
	double first[NBUF];
	char m[64], tag[32];

	for (b = 0; b < NBUF; b++) {
		int fd = xalloc(e, size);
		void *p = xmmap(e, fd, size);
		uint32_t h;

		first[b] = pair(fd);
		measure(fd, max, &a0);
		if (!ret)
			ret = engine_import(fd, &h);
		if (!ret) {
			pair(fd);
			measure(fd, max, &a1);
			engine_unimport(h);
		}
		munmap(p, size);
		close(fd);
	}
	snprintf(m, sizeof(m), "sync_first_pair_%s", size_name(size));
	emit("sync", e->name, m, median(first, NBUF), "us", NBUF);
	snprintf(tag, sizeof(tag), "%s_imp0", size_name(size));
	report(e->name, tag, &a0);
	snprintf(tag, sizeof(tag), "%s_imp1", size_name(size));
	if (ret) {
		snprintf(m, sizeof(m), "sync_excess_%s", tag);
		emit_skip("sync", e->name, m, "SGBUF_IOCTL_IMPORT: %s",
			  strerror(-ret));
	} else {
		report(e->name, tag, &a1);
	}
}

void section_sync(void)
{
	static const uint64_t sizes[] = { 4 * KiB, 64 * MiB };
	unsigned int x, s;
	char m[64];

	floor_fd = memfd_create("sync-floor", MFD_CLOEXEC);
	if (floor_fd < 0)
		die("memfd_create: %s", strerror(errno));
	if (!dmabuf_sync(floor_fd, START_RW))
		die("DMA_BUF_IOCTL_SYNC on a memfd succeeded?");

	for (x = 0; x < nr_exporters; x++) {
		struct exporter *e = &exporters[x];

		if (e->missing[0]) {
			emit_skip("sync", e->name, "sync_excess_4KiB_imp0",
				  "%s", e->missing);
			continue;
		}
		progress("sync: %s", e->name);
		warm_up(e);
		for (s = 0; s < ARRAY_SIZE(sizes); s++) {
			const char *why = exporter_cannot(e, sizes[s]);

			if (why) {
				snprintf(m, sizeof(m), "sync_excess_%s_imp0",
					 size_name(sizes[s]));
				emit_skip("sync", e->name, m, "%s", why);
				continue;
			}
			one_size(e, sizes[s]);
		}
	}
	close(floor_fd);
}
