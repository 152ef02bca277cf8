// SPDX-License-Identifier: GPL-2.0
/*
 * Section "map": a fresh 64 MiB buffer per repetition and exporter:
 *
 *   mmap         mmap(MAP_SHARED, RW) of the whole buffer
 *   first_touch  memset() of the new mapping (faults, if the exporter
 *                maps lazily)
 *   retouch      the same memset() again on the same mapping
 *   mmap_first_vs_retouch
 *                throughput of mmap + first touch over the re-touch
 *                throughput, per repetition; 1.0 = the mapping costs
 *                nothing beyond the writes
 *   read         sum64() of the mapping
 *   touch_per_page
 *                on a second fresh buffer and mapping: time to write one
 *                byte in every 4 KiB page, per page (the page-fault cost
 *                where there are faults)
 *   full_cycle   alloc + mmap + first touch + munmap + close
 */
#include "bench.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define SZ (64 * MiB)
#define PG 4096

enum {
	T_MMAP, T_FIRST, T_RE, T_RATIO, T_READ, T_PAGE, T_CYCLE, T_MUNMAP,
	T_FREE, T_NR
};

static const struct { const char *name, *unit; } mets[T_NR] = {
	[T_MMAP] = { "mmap_64MiB", "us" },
	[T_FIRST] = { "first_touch_64MiB", "GB/s" },
	[T_RE] = { "retouch_64MiB", "GB/s" },
	[T_RATIO] = { "mmap_first_vs_retouch", "x" },
	[T_READ] = { "read_64MiB", "GB/s" },
	[T_PAGE] = { "touch_per_page", "us" },
	[T_CYCLE] = { "full_cycle_64MiB", "us" },
	[T_MUNMAP] = { "munmap_64MiB", "us" },
	[T_FREE] = { "free_after_map_64MiB", "us" },
};

static volatile uint64_t sink;

static void *xmmap(struct exporter *e, int fd)
{
	void *p = mmap(NULL, SZ, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	if (p == MAP_FAILED)
		die("%s: mmap 64 MiB: %s", e->name, strerror(errno));
	return p;
}

static void one(struct exporter *e, double *r)
{
	double t0, t1, t2, t3, t4, t5, t6, t7, t8;
	volatile char *q;
	size_t off;
	char *p;
	int fd;

	t0 = now();
	fd = xalloc(e, SZ);
	t1 = now();
	p = xmmap(e, fd);
	t2 = now();
	memset(p, 0x5a, SZ);
	t3 = now();
	memset(p, 0xa5, SZ);
	t4 = now();
	sink += sum64(p, SZ);
	t5 = now();
	munmap(p, SZ);
	t6 = now();
	close(fd);
	t7 = now();

	r[T_MMAP] = (t2 - t1) * 1e6;
	r[T_FIRST] = gbps(SZ, t3 - t2);
	r[T_RE] = gbps(SZ, t4 - t3);
	r[T_RATIO] = (t4 - t3) / (t3 - t1);
	r[T_READ] = gbps(SZ, t5 - t4);
	r[T_MUNMAP] = (t6 - t5) * 1e6;
	r[T_FREE] = (t7 - t6) * 1e6;
	r[T_CYCLE] = (t1 - t0 + t3 - t1 + t7 - t5) * 1e6;

	fd = xalloc(e, SZ);
	q = xmmap(e, fd);
	t8 = now();
	for (off = 0; off < SZ; off += PG)
		q[off] = 1;
	r[T_PAGE] = (now() - t8) * 1e6 / (SZ / PG);
	munmap((void *)q, SZ);
	close(fd);
}

void section_map(void)
{
	int n = iters(5), i, m, p;
	double *res[8][T_NR];
	double r[T_NR];
	unsigned int x, k;

	progress("map: 64 MiB x %d", n);
	for (x = 0; x < nr_exporters; x++) {
		const char *why = exporter_cannot(&exporters[x], SZ);

		if (why) {
			emit_skip("map", exporters[x].name, "mmap_64MiB", "%s",
				  why);
			continue;
		}
		for (m = 0; m < T_NR; m++)
			res[x][m] = calloc(n, sizeof(double));
		one(&exporters[x], r);	/* warm-up: TCG translation */
	}
	/*
	 * Two passes, as in section alloc: sgbuf and the heap taking turns,
	 * then udmabuf and vgem (exporters[] is in that order), each pass
	 * after a warm-up of its own.
	 */
	for (p = 0; p < 2; p++) {
		for (k = 0; k < 2; k++) {
			x = 2 * p + k;
			if (!exporter_cannot(&exporters[x], SZ))
				one(&exporters[x], r);	/* warm-up */
		}
		for (i = 0; i < n; i++) {
			for (k = 0; k < 2; k++) {
				x = 2 * p + (i + k) % 2;
				if (exporter_cannot(&exporters[x], SZ))
					continue;
				one(&exporters[x], r);
				for (m = 0; m < T_NR; m++)
					res[x][m][i] = r[m];
			}
		}
	}
	for (x = 0; x < nr_exporters; x++) {
		if (exporter_cannot(&exporters[x], SZ))
			continue;
		for (m = 0; m < T_NR; m++) {
			emit("map", exporters[x].name, mets[m].name,
			     median(res[x][m], n), mets[m].unit, n);
			free(res[x][m]);
		}
	}
}
