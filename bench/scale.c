// SPDX-License-Identifier: GPL-2.0
/*
 * Sections "scale" and "live" (both report as section "scale"):
 *
 *   growth   alloc + free at 1 MiB, 16 MiB, 256 MiB and 1 GiB; the cost
 *            per MiB at each size, and growth_1MiB_to_1GiB = cost per MiB
 *            at 1 GiB / cost per MiB at 1 MiB (1.0: linear in the size)
 *   1 GiB    one buffer: alloc, mmap, first touch (memset), munmap+close
 *   live     --nbufs (10 000) 4 KiB buffers alive at once: time per
 *            allocation and per close, and memory per buffer from the
 *            drop of free memory (buddy free pages plus per-CPU lists, in
 *            /proc/zoneinfo; the 4 KiB page included) and the growth of
 *            Slab in /proc/meminfo; for sgbuf also GET_INFO's count
 *
 * vgem allocates its pages at the first mmap or attach, so its alloc and
 * 10 000-buffer numbers leave out the pages; its 1 GiB mmap includes them.
 */
#include "bench.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/sgbuf.h>

static const struct { uint64_t size; int iters; } growth[] = {
	{ 1 * MiB, 20 }, { 16 * MiB, 7 }, { 256 * MiB, 3 }, { 1 * GiB, 3 },
};

static void growth_of(struct exporter *e)
{
	double per_mib[ARRAY_SIZE(growth)] = { 0 };
	unsigned int s;
	char m[64];

	if (e->lazy) {
		emit_skip("scale", e->name, "growth_1MiB_to_1GiB",
			  "vgem allocates pages at first mmap, not at alloc");
		return;
	}
	for (s = 0; s < ARRAY_SIZE(growth); s++) {
		uint64_t size = growth[s].size;
		int n = iters(growth[s].iters), i;
		const char *why = exporter_cannot(e, size);
		double *t, med;

		snprintf(m, sizeof(m), "alloc_free_%s", size_name(size));
		if (why) {
			emit_skip("scale", e->name, m, "%s", why);
			continue;
		}
		t = calloc(n, sizeof(double));
		close(xalloc(e, size));		/* warm-up */
		for (i = 0; i < n; i++) {
			double t0 = now();

			close(xalloc(e, size));
			t[i] = (now() - t0) * 1e6;
		}
		med = median(t, n);
		emit("scale", e->name, m, med, "us", n);
		per_mib[s] = med / (double)(size / MiB);
		snprintf(m, sizeof(m), "alloc_free_per_MiB_%s", size_name(size));
		emit("scale", e->name, m, per_mib[s], "us/MiB", n);
		free(t);
	}
	if (per_mib[0] > 0 && per_mib[ARRAY_SIZE(growth) - 1] > 0)
		emit("scale", e->name, "growth_1MiB_to_1GiB",
		     per_mib[ARRAY_SIZE(growth) - 1] / per_mib[0], "x", 0);
	else
		emit_skip("scale", e->name, "growth_1MiB_to_1GiB",
			  "1 GiB not measured");
}

static void one_gib(struct exporter *e)
{
	const uint64_t sz = GiB;
	const char *why = exporter_cannot(e, sz);
	double t0, t1, t2, t3, t4;
	void *p;
	int fd;

	if (why) {
		emit_skip("scale", e->name, "alloc_1GiB", "%s", why);
		return;
	}
	t0 = now();
	fd = e->alloc(e, sz);
	t1 = now();
	if (fd < 0) {
		emit_skip("scale", e->name, "alloc_1GiB", "alloc: %s",
			  strerror(-fd));
		return;
	}
	p = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	t2 = now();
	if (p == MAP_FAILED) {
		emit_skip("scale", e->name, "mmap_1GiB", "mmap: %s",
			  strerror(errno));
		close(fd);
		return;
	}
	memset(p, 0x77, sz);
	t3 = now();
	munmap(p, sz);
	close(fd);
	t4 = now();
	emit("scale", e->name, "alloc_1GiB", (t1 - t0) * 1e6, "us", 1);
	emit("scale", e->name, "mmap_1GiB", (t2 - t1) * 1e6, "us", 1);
	emit("scale", e->name, "first_touch_1GiB", gbps(sz, t3 - t2), "GB/s", 1);
	emit("scale", e->name, "mmap_first_touch_1GiB", gbps(sz, t3 - t1),
	     "GB/s", 1);
	emit("scale", e->name, "free_1GiB", (t4 - t3) * 1e6, "us", 1);
}

static long sgbuf_live(void)
{
	struct sgbuf_info info = { 0 };

	if (sgbuf_fd < 0 || ioctl(sgbuf_fd, SGBUF_IOCTL_GET_INFO, &info))
		return -1;
	return (long)info.live_buffers;
}

static void live(struct exporter *e)
{
	int n = opt.nbufs, i, k;
	long long free0, free1;
	long slab0, slab1, live0, live1;
	double t0, t1, t2;
	int *fds;

	if (e->missing[0]) {
		emit_skip("scale", e->name, "live_4KiB_mem_per_buffer", "%s",
			  e->missing);
		return;
	}
	fds = calloc(n, sizeof(int));
	if (!fds)
		die("out of memory");
	memset(fds, 0xff, n * sizeof(int));	/* fault it in now */
	/* grow the fd table now, not while the first exporter is measured */
	k = dup2(0, n + 64);
	if (k >= 0)
		close(k);
	for (i = 0; i < 100; i++)		/* warm-up */
		close(xalloc(e, 4096));
	sleep(1);	/* let freed pages and RCU-freed objects settle */
	free0 = free_bytes();
	slab0 = meminfo_kib("Slab");
	live0 = sgbuf_live();
	t0 = now();
	for (i = 0; i < n; i++) {
		fds[i] = e->alloc(e, 4096);
		if (fds[i] < 0)
			break;
	}
	t1 = now();
	free1 = free_bytes();
	slab1 = meminfo_kib("Slab");
	live1 = sgbuf_live();
	if (i < n) {
		emit_skip("scale", e->name, "live_4KiB_mem_per_buffer",
			  "allocation %d of %d failed: %s", i + 1, n,
			  strerror(-fds[i]));
		for (k = 0; k < i; k++)
			close(fds[k]);
		free(fds);
		return;
	}
	t2 = now();
	for (i = 0; i < n; i++)
		close(fds[i]);
	emit("scale", e->name, "live_4KiB_alloc_each", (t1 - t0) * 1e6 / n,
	     "us", n);
	emit("scale", e->name, "live_4KiB_free_each", (now() - t2) * 1e6 / n,
	     "us", n);
	emit("scale", e->name, "live_4KiB_mem_per_buffer",
	     (double)(free0 - free1) / n, "B", n);
	emit("scale", e->name, "live_4KiB_slab_per_buffer",
	     (double)(slab1 - slab0) * 1024 / n, "B", n);
	if (!strcmp(e->name, "sgbuf"))
		emit("scale", e->name, "live_4KiB_get_info_count",
		     (double)(live1 - live0), "buffers", n);
	free(fds);
}

void section_live(void)
{
	unsigned int x;

	for (x = 0; x < nr_exporters; x++) {
		progress("live: %s: %d live 4 KiB buffers", exporters[x].name,
			 opt.nbufs);
		live(&exporters[x]);
	}
}

void section_scale(void)
{
	unsigned int x;

	for (x = 0; x < nr_exporters; x++) {
		struct exporter *e = &exporters[x];

		if (e->missing[0]) {
			emit_skip("scale", e->name, "growth_1MiB_to_1GiB", "%s",
				  e->missing);
			continue;
		}
		progress("scale: %s: growth 1 MiB .. 1 GiB", e->name);
		growth_of(e);
		progress("scale: %s: one 1 GiB buffer", e->name);
		one_gib(e);
	}
}
