/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sgbuf-bench: sgbuf against the kernel's own dma-buf exporters, in one
 * boot. Uses only the raw uapi (<linux/sgbuf.h>, <linux/dma-buf.h>,
 * <linux/dma-heap.h>, <linux/udmabuf.h>, <drm.h>), not libdmabuf.
 *
 * Output: one JSON object per line on stdout,
 *   {"section":S,"exporter":E,"metric":M,"value":V,"unit":U[,"n":N]}
 * or, for what this kernel or machine lacks,
 *   {"section":S,"exporter":E,"metric":M,"value":null,"skip":"reason"}
 * Progress goes to stderr as "# ..." lines.
 */
#ifndef SGBUF_BENCH_H
#define SGBUF_BENCH_H

#define _GNU_SOURCE
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KiB (1ULL << 10)
#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---------------------------------------------------------- exporters */

struct exporter {
	const char *name;	/* sgbuf, heap, udmabuf, vgem */
	int (*alloc)(struct exporter *e, uint64_t size); /* fd or -errno */
	int dev;		/* device fd, -1 when missing */
	char missing[96];	/* why it is not usable, "" if it is */
	uint64_t max_size;	/* largest buffer, 0 = no own limit */
	bool lazy;		/* pages come at first mmap/attach (vgem) */
};

extern struct exporter exporters[];
extern const unsigned int nr_exporters;

/* Opens every exporter's device; @only: comma-separated names or NULL. */
void exporters_probe(const char *only);
struct exporter *exporter_get(const char *name); /* usable or NULL */
/* Allocates or exits with a message: for buffers a section cannot do without. */
int xalloc(struct exporter *e, uint64_t size);
/* NULL if @e can allocate @size; else a static reason. */
const char *exporter_cannot(const struct exporter *e, uint64_t size);

/* /dev/sgbuf, opened by exporters_probe(); -1 without sgbuf. */
extern int sgbuf_fd;

/* ---------------------------------------------------------- results */

void emit(const char *section, const char *exporter, const char *metric,
	  double value, const char *unit, int n);
void emit_skip(const char *section, const char *exporter, const char *metric,
	       const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* ---------------------------------------------------------- utilities */

double now(void);			/* CLOCK_MONOTONIC, seconds */
double median(const double *v, int n);	/* of a copy; 0 for n == 0 */
const char *size_name(uint64_t size);	/* "4KiB", "64MiB", "1GiB" */
double gbps(uint64_t bytes, double seconds);

/* Scalar sum of 64-bit words (the "read" bandwidth loop), not vectorised. */
uint64_t sum64(const void *p, size_t bytes);
/* Anonymous memory, every page written. */
void *xmap_anon(size_t size);
/* Writes a word pattern, returns its sum64(). */
uint64_t fill_pattern(void *p, size_t bytes, uint64_t seed);

int dmabuf_sync(int fd, uint64_t flags);	/* 0 or -errno */
int engine_import(int fd, uint32_t *handle);	/* 0 or -errno */
void engine_unimport(uint32_t handle);

/* Buddy free pages + per-CPU list pages, bytes (/proc/zoneinfo). */
long long free_bytes(void);
/* /proc/meminfo field in KiB, -1 if absent. */
long meminfo_kib(const char *field);

/* ---------------------------------------------------------- sections */

struct options {
	int frames;		/* dmabuf pipe frames */
	const char *tool;	/* dmabuf tool path */
	int nbufs;		/* scale: live 4 KiB buffers */
	bool quick;		/* fewer iterations (smoke test) */
};

extern struct options opt;

/* Iterations, reduced by --quick. */
int iters(int n);

void section_alloc(void);
void section_map(void);
void section_sync(void);
void section_handoff(void);
void section_engine(void);
void section_pipe(void);
void section_scale(void);
void section_live(void);

#endif
