// SPDX-License-Identifier: GPL-2.0
/*
 * sgbuf-bench: output, timing, statistics and memory helpers.
 */
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <linux/dma-buf.h>
#include <linux/sgbuf.h>

struct options opt = { .frames = 120, .tool = "dmabuf", .nbufs = 10000 };

int iters(int n)
{
	if (!opt.quick)
		return n;
	return n > 4 ? n / 4 : (n > 1 ? 2 : 1);
}

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			putchar('\\');
		if ((unsigned char)*s >= 0x20)
			putchar(*s);
	}
	putchar('"');
}

static void head(const char *section, const char *exporter,
		 const char *metric)
{
	fputs("{\"section\":", stdout);
	json_str(section);
	fputs(",\"exporter\":", stdout);
	json_str(exporter);
	fputs(",\"metric\":", stdout);
	json_str(metric);
}

void emit(const char *section, const char *exporter, const char *metric,
	  double value, const char *unit, int n)
{
	head(section, exporter, metric);
	printf(",\"value\":%.6g,\"unit\":", value);
	json_str(unit);
	if (n > 0)
		printf(",\"n\":%d", n);
	puts("}");
	fflush(stdout);
}

void emit_skip(const char *section, const char *exporter, const char *metric,
	       const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	head(section, exporter, metric);
	fputs(",\"value\":null,\"skip\":", stdout);
	json_str(why);
	puts("}");
	fflush(stdout);
}

void progress(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void die(const char *fmt, ...)
{
	va_list ap;

	fputs("sgbuf-bench: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double median(const double *v, int n)
{
	double *c, m;

	if (n <= 0)
		return 0;
	c = malloc(n * sizeof(*c));
	if (!c)
		die("out of memory");
	memcpy(c, v, n * sizeof(*c));
	qsort(c, n, sizeof(*c), cmp_double);
	m = n % 2 ? c[n / 2] : (c[n / 2 - 1] + c[n / 2]) / 2;
	free(c);
	return m;
}

const char *size_name(uint64_t size)
{
	static char buf[4][32];
	static int i;
	char *s = buf[i++ % 4];

	if (size >= GiB && !(size % GiB))
		snprintf(s, 32, "%lluGiB", (unsigned long long)(size / GiB));
	else if (size >= MiB && !(size % MiB))
		snprintf(s, 32, "%lluMiB", (unsigned long long)(size / MiB));
	else
		snprintf(s, 32, "%lluKiB", (unsigned long long)(size / KiB));
	return s;
}

double gbps(uint64_t bytes, double seconds)
{
	return seconds > 0 ? (double)bytes / seconds / 1e9 : 0;
}

/*
 * The read loop: a plain sum of 64-bit words. Not vectorised: under TCG
 * SSE is slower than scalar code, and this is what "read bandwidth" means
 * in docs/engine.md.
 */
__attribute__((noinline, optimize("no-tree-vectorize")))
uint64_t sum64(const void *p, size_t bytes)
{
	const uint64_t *w = p;
	size_t i, n = bytes / 8;
	uint64_t s = 0;

	for (i = 0; i < n; i++)
		s += w[i];
	return s;
}

void *xmap_anon(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

	if (p == MAP_FAILED)
		die("mmap %zu bytes of anonymous memory: %s", size,
		    strerror(errno));
	memset(p, 0x11, size);
	return p;
}

__attribute__((noinline, optimize("no-tree-vectorize")))
uint64_t fill_pattern(void *p, size_t bytes, uint64_t seed)
{
	uint64_t *w = p, s = 0, v;
	size_t i, n = bytes / 8;

	for (i = 0; i < n; i++) {
		v = (i + seed) * 0x9e3779b97f4a7c15ULL;
		w[i] = v;
		s += v;
	}
	return s;
}

int dmabuf_sync(int fd, uint64_t flags)
{
	struct dma_buf_sync s = { .flags = flags };

	return ioctl(fd, DMA_BUF_IOCTL_SYNC, &s) ? -errno : 0;
}

int engine_import(int fd, uint32_t *handle)
{
	struct sgbuf_import i = { .fd = fd };

	if (sgbuf_fd < 0)
		return -ENODEV;
	if (ioctl(sgbuf_fd, SGBUF_IOCTL_IMPORT, &i))
		return -errno;
	*handle = i.handle;
	return 0;
}

void engine_unimport(uint32_t handle)
{
	struct sgbuf_unimport u = { .handle = handle };

	if (ioctl(sgbuf_fd, SGBUF_IOCTL_UNIMPORT, &u))
		die("SGBUF_IOCTL_UNIMPORT: %s", strerror(errno));
}

/*
 * Free memory the way allocations see it: the buddy allocator's free pages
 * plus the pages parked on the per-CPU lists (which MemFree and
 * MemAvailable leave out, and which 6.x grows to megabytes after a burst
 * of frees), in bytes, from /proc/zoneinfo. -1 if unreadable.
 */
long long free_bytes(void)
{
	long long pages = 0;
	char line[256];
	FILE *f = fopen("/proc/zoneinfo", "re");
	long v;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, " pages free %ld", &v) == 1 ||
		    sscanf(line, " count: %ld", &v) == 1)
			pages += v;
	}
	fclose(f);
	return pages * sysconf(_SC_PAGESIZE);
}

long meminfo_kib(const char *field)
{
	char line[256];
	size_t len = strlen(field);
	long v = -1;
	FILE *f = fopen("/proc/meminfo", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, field, len) && line[len] == ':') {
			v = strtol(line + len + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return v;
}
