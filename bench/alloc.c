// SPDX-License-Identifier: GPL-2.0
/*
 * Section "alloc": allocate + free latency at 4 KiB, 1 MiB, 64 MiB and
 * 256 MiB. Each iteration allocates one buffer from each exporter of a
 * pass in turn (the order alternates) and closes it at once, so that host
 * load hits them alike. Medians of the iterations; warm-up first.
 *
 * sgbuf and the 6.12 system heap keep no page pool: every allocation is
 * "cold" (pages from the buddy allocator, zeroed).
 */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct { uint64_t size; int iters; } sizes[] = {
	{ 4 * KiB, 200 }, { 1 * MiB, 40 }, { 64 * MiB, 7 }, { 256 * MiB, 3 },
};

/*
 * The exporters run in two passes per size: sgbuf and the heap (the pair
 * the targets compare), taking turns, then udmabuf and vgem. Freeing a
 * big udmabuf leaves the page allocator slower for the next ~200 MiB of
 * allocations, whoever makes them; within one interleaved pass that cost
 * would always land on the exporter that follows udmabuf.
 */
static const char *const passes[2][2] = { { "sgbuf", "heap" },
					  { "udmabuf", "vgem" } };

static struct exporter *pass_exporter(int p, int k)
{
	unsigned int x;

	for (x = 0; x < nr_exporters; x++)
		if (!strcmp(exporters[x].name, passes[p][k]))
			return &exporters[x];
	return NULL;
}

void section_alloc(void)
{
	unsigned int s;
	int p, k;

	for (s = 0; s < ARRAY_SIZE(sizes); s++) {
		uint64_t size = sizes[s].size;
		int n = iters(sizes[s].iters), i;
		int warm = size >= 256 * MiB ? 2 : size >= 64 * MiB ? 4 : 8;
		char m[64];

		progress("alloc: %s x %d", size_name(size), n);
		for (p = 0; p < 2; p++) {
			struct exporter *pe[2];
			double *ta[2], *tf[2], *tt[2];
			bool use[2];

			for (k = 0; k < 2; k++) {
				const char *why;

				pe[k] = pass_exporter(p, k);
				why = exporter_cannot(pe[k], size);
				use[k] = !why;
				if (why) {
					snprintf(m, sizeof(m), "alloc_free_%s",
						 size_name(size));
					emit_skip("alloc", pe[k]->name, m, "%s",
						  why);
					continue;
				}
				ta[k] = calloc(n, sizeof(double));
				tf[k] = calloc(n, sizeof(double));
				tt[k] = calloc(n, sizeof(double));
			}
			/* warm-up: TCG translates each path on first use */
			for (i = 0; i < warm; i++)
				for (k = 0; k < 2; k++)
					if (use[k])
						close(xalloc(pe[k], size));
			for (i = 0; i < n; i++) {
				int j;

				for (j = 0; j < 2; j++) {
					double t0, t1, t2;
					int fd;

					k = (i + j) % 2;	/* take turns */
					if (!use[k])
						continue;
					t0 = now();
					fd = xalloc(pe[k], size);
					t1 = now();
					close(fd);
					t2 = now();
					ta[k][i] = (t1 - t0) * 1e6;
					tf[k][i] = (t2 - t1) * 1e6;
					tt[k][i] = (t2 - t0) * 1e6;
				}
			}
			for (k = 0; k < 2; k++) {
				const char *name = pe[k]->name;

				if (!use[k])
					continue;
				snprintf(m, sizeof(m), "alloc_%s", size_name(size));
				emit("alloc", name, m, median(ta[k], n), "us", n);
				snprintf(m, sizeof(m), "free_%s", size_name(size));
				emit("alloc", name, m, median(tf[k], n), "us", n);
				snprintf(m, sizeof(m), "alloc_free_%s",
					 size_name(size));
				emit("alloc", name, m, median(tt[k], n), "us", n);
				free(ta[k]);
				free(tf[k]);
				free(tt[k]);
			}
		}
	}
	/* Section 1's warm case: a pool of pre-zeroed pages. */
	if (exporter_get("sgbuf"))
		emit_skip("alloc", "sgbuf", "alloc_free_64MiB_warm",
			  "n/a: sgbuf keeps no pool");
}
