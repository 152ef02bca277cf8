// SPDX-License-Identifier: GPL-2.0
/*
 * Section "engine": sgbuf's DMA consumer against the guest CPU.
 *
 *   cpu   memcpy() between two pre-faulted 64 MiB anonymous buffers,
 *         sum64() of one (the read bandwidth), memset() of one
 *   sgbuf engine jobs on two 64 MiB sgbuf buffers, SUBMIT to WAIT's
 *         return: COPY, CHECKSUM (CRC-32), CHECKSUM64, FILL
 *   the ratios of each job to its CPU counterpart, within this boot
 *   4 KiB FILL round trip: SUBMIT -> WAIT, and SUBMIT with an out-fence
 *         -> poll() on the sync_file -> close
 *
 * Medians over the repetitions; every operation runs once before timing.
 */
#include "bench.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/sgbuf.h>

#define SZ (64 * MiB)

enum { C_MEMCPY, C_READ, C_MEMSET, E_COPY, E_CRC, E_SUM64, E_FILL, N_OPS };

static const char *const names[N_OPS] = {
	[C_MEMCPY] = "memcpy_64MiB", [C_READ] = "read_64MiB",
	[C_MEMSET] = "memset_64MiB", [E_COPY] = "copy_64MiB",
	[E_CRC] = "checksum_64MiB", [E_SUM64] = "checksum64_64MiB",
	[E_FILL] = "fill_64MiB",
};

static volatile uint64_t sink;
static uint64_t last_sum;

static double job(struct sgbuf_submit s, int *fence)
{
	struct sgbuf_wait w = { .timeout_ns = -1 };
	double t = now();

	if (ioctl(sgbuf_fd, SGBUF_IOCTL_SUBMIT, &s))
		die("SGBUF_IOCTL_SUBMIT: %s", strerror(errno));
	if (fence) {
		struct pollfd p = { .fd = s.out_fence_fd, .events = POLLIN };

		if (poll(&p, 1, -1) != 1)
			die("poll on the out-fence: %s", strerror(errno));
		close(s.out_fence_fd);
		t = now() - t;
		w.seqno = s.seqno;
		w.timeout_ns = 0;
		if (ioctl(sgbuf_fd, SGBUF_IOCTL_WAIT, &w) || w.status)
			die("job %llu failed", (unsigned long long)s.seqno);
		return t * 1e6;
	}
	w.seqno = s.seqno;
	if (ioctl(sgbuf_fd, SGBUF_IOCTL_WAIT, &w) || w.status)
		die("SGBUF_IOCTL_WAIT: %s, status %d", strerror(errno),
		    w.status);
	t = now() - t;
	last_sum = w.checksum64;
	return t * 1e6;
}

/* sgbuf checksum64 (docs/uapi.md) of a whole number of 64-bit words. */
__attribute__((noinline, optimize("no-tree-vectorize")))
static uint64_t checksum64(const void *p, uint64_t len)
{
	const uint64_t *w = p;
	uint64_t a = 0, b = 0, i;

	for (i = 0; i < len / 8; i++) {
		a += w[i];
		b += a;
	}
	a += len;
	b += a;
	return b ^ (a << 32 | a >> 32);
}

static void *map_sgbuf(int fd)
{
	void *p = mmap(NULL, SZ, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	if (p == MAP_FAILED)
		die("mmap: %s", strerror(errno));
	return p;
}

static double op(int o, char *a, char *b, uint32_t ha, uint32_t hb, int r)
{
	double t;

	switch (o) {
	case C_MEMCPY:
		t = now();
		memcpy(b, a, SZ);
		return (now() - t) * 1e6;
	case C_READ:
		t = now();
		sink += sum64(a, SZ);
		return (now() - t) * 1e6;
	case C_MEMSET:
		t = now();
		memset(b, r, SZ);
		return (now() - t) * 1e6;
	case E_COPY:
		return job((struct sgbuf_submit){ .op = SGBUF_JOB_COPY,
			.src = ha, .dst = hb, .length = SZ }, NULL);
	case E_CRC:
		return job((struct sgbuf_submit){ .op = SGBUF_JOB_CHECKSUM,
			.src = ha, .length = SZ }, NULL);
	case E_SUM64:
		return job((struct sgbuf_submit){ .op = SGBUF_JOB_CHECKSUM64,
			.src = ha, .length = SZ }, NULL);
	default:
		return job((struct sgbuf_submit){ .op = SGBUF_JOB_FILL,
			.dst = hb, .length = SZ, .pattern = 0x01020304u + r },
			NULL);
	}
}

static void round_trips(uint32_t hb)
{
	int n = iters(2000), i;
	double *tw = calloc(n, sizeof(double)), *tp = calloc(n, sizeof(double));
	struct sgbuf_submit s = { .op = SGBUF_JOB_FILL, .dst = hb,
				  .length = 4096, .pattern = 7 };
	struct sgbuf_submit sf = s;
	int fence;

	sf.flags = SGBUF_SUBMIT_OUT_FENCE;
	for (i = 0; i < 50; i++) {	/* warm-up */
		job(s, NULL);
		job(sf, &fence);
	}
	for (i = 0; i < n; i++) {
		tw[i] = job(s, NULL);
		tp[i] = job(sf, &fence);
	}
	emit("engine", "sgbuf", "fill_4KiB_wait_rt", median(tw, n), "us", n);
	emit("engine", "sgbuf", "fill_4KiB_poll_rt", median(tp, n), "us", n);
	free(tw);
	free(tp);
}

void section_engine(void)
{
	struct sgbuf_info info = { 0 };
	struct exporter *e = exporter_get("sgbuf");
	int n = iters(5), i, o, fa, fb;
	double *t[N_OPS], m[N_OPS];
	uint32_t ha, hb;
	char *a, *b, *ma, *mb;
	bool have64;
	int ret;

	if (!e || ioctl(sgbuf_fd, SGBUF_IOCTL_GET_INFO, &info) ||
	    !(info.caps & SGBUF_CAP_ENGINE)) {
		emit_skip("engine", "sgbuf", "copy_64MiB", "%s",
			  e ? "this sgbuf has no DMA engine" :
			  "sgbuf is not loaded");
		return;
	}
	have64 = info.caps & SGBUF_CAP_CHECKSUM64;
	progress("engine: 64 MiB x %d, then 4 KiB round trips", n);

	a = xmap_anon(SZ);
	b = xmap_anon(SZ);
	fill_pattern(a, SZ, 3);
	fa = xalloc(e, SZ);
	fb = xalloc(e, SZ);
	ma = map_sgbuf(fa);
	mb = map_sgbuf(fb);
	fill_pattern(ma, SZ, 5);
	memset(mb, 0, SZ);
	ret = engine_import(fa, &ha);
	if (!ret)
		ret = engine_import(fb, &hb);
	if (ret)
		die("SGBUF_IOCTL_IMPORT: %s", strerror(-ret));

	for (o = 0; o < N_OPS; o++) {
		t[o] = calloc(n, sizeof(double));
		if (o != E_SUM64 || have64)
			op(o, a, b, ha, hb, 0);		/* warm-up */
	}
	/* the engine's results, checked once */
	op(E_COPY, a, b, ha, hb, 0);
	if (sum64(mb, SZ) != sum64(ma, SZ))
		die("engine COPY: the destination differs from the source");
	if (have64) {
		op(E_SUM64, a, b, ha, hb, 0);
		if (last_sum != checksum64(ma, SZ))
			die("engine CHECKSUM64: %#llx, expected %#llx",
			    (unsigned long long)last_sum,
			    (unsigned long long)checksum64(ma, SZ));
	}

	for (i = 0; i < n; i++)
		for (o = 0; o < N_OPS; o++)
			if (o != E_SUM64 || have64)
				t[o][i] = op(o, a, b, ha, hb, i + 1);
	for (o = 0; o < N_OPS; o++) {
		m[o] = median(t[o], n);
		if (o == E_SUM64 && !have64)
			emit_skip("engine", "sgbuf", names[o],
				  "this sgbuf has no SGBUF_JOB_CHECKSUM64");
		else
			emit("engine", o < E_COPY ? "cpu" : "sgbuf", names[o],
			     gbps(SZ, m[o] / 1e6), "GB/s", n);
		free(t[o]);
	}
	emit("engine", "sgbuf", "copy_vs_memcpy", m[C_MEMCPY] / m[E_COPY],
	     "x", n);
	emit("engine", "sgbuf", "checksum_vs_read", m[C_READ] / m[E_CRC],
	     "x", n);
	if (have64)
		emit("engine", "sgbuf", "checksum64_vs_read",
		     m[C_READ] / m[E_SUM64], "x", n);
	emit("engine", "sgbuf", "fill_vs_memset", m[C_MEMSET] / m[E_FILL],
	     "x", n);

	round_trips(hb);

	engine_unimport(ha);
	engine_unimport(hb);
	munmap(ma, SZ);
	munmap(mb, SZ);
	close(fa);
	close(fb);
	munmap(a, SZ);
	munmap(b, SZ);
}
