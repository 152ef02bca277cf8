// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * sgbuf's simulated DMA consumer through libdmabuf: imports of every
 * exporter the guest has, FILL/COPY/CHECKSUM verified through the CPU
 * mapping and a userspace CRC-32, in- and out-fences, implicit sync,
 * queue depth, error injection, cancellation.
 */
#include <stdlib.h>
#include <linux/sgbuf.h>

#include "guest.h"

#define SIZE (16 * 4096)
#define PER_SOURCE 8
#define MS(n) ((uint64_t)(n) * 1000000)

static uint64_t last_seqno;

/*
 * udmabuf's begin_cpu_access syncs udmabuf's own streaming mapping (made
 * at the first DMA_BUF_IOCTL_SYNC, through its misc device) for the CPU:
 * under swiotlb=force that copies its stale bounce buffer over the pages,
 * undoing what a device wrote since (a udmabuf problem, see
 * selftests/sgbuf/sgbuf_engine_xexp_test.c). There the CPU reads the
 * device's writes without syncing (x86 is coherent; the engine synced its
 * own mapping when the job completed).
 */
static int raw_cpu;

static int swiotlb_forced(void)
{
	char line[1024] = "";
	FILE *f = fopen("/proc/cmdline", "re");

	if (f) {
		if (!fgets(line, sizeof(line), f))
			line[0] = '\0';
		fclose(f);
	}
	return strstr(line, "swiotlb=force") != NULL;
}

static int cpu_begin(int fd)
{
	return raw_cpu ? 0 : dmabuf_sync_begin(fd, DMABUF_READ);
}

static void cpu_end(int fd)
{
	if (!raw_cpu)
		dmabuf_sync_end(fd, DMABUF_READ);
}

static struct dmabuf_job job(enum dmabuf_job_op op, uint32_t src,
			     uint32_t dst, uint64_t src_off, uint64_t dst_off,
			     uint64_t len, uint32_t pattern)
{
	struct dmabuf_job j = {
		.op = op, .src = src, .dst = dst, .src_offset = src_off,
		.dst_offset = dst_off, .length = len, .pattern = pattern,
	};

	return j;
}

/* Submit and wait; the job's status, or a submit error. */
static int run(struct dmabuf_engine *e, const struct dmabuf_job *j,
	       uint64_t *checksum)
{
	int ret = dmabuf_engine_submit(e, j, &last_seqno, NULL);

	return ret ? ret : dmabuf_engine_wait(e, last_seqno, 10000, checksum);
}

static int configure(struct dmabuf_engine *e, uint64_t latency_ns,
		     uint32_t depth, uint64_t fail_seqno, int fail_error)
{
	struct dmabuf_engine_config c = {
		.latency_ns = latency_ns, .queue_depth = depth,
		.fail_seqno = fail_seqno, .fail_error = fail_error,
	};

	return dmabuf_engine_configure(e, &c);
}

typedef long (*check_fn)(const uint8_t *, size_t, uint32_t);

/*
 * Map @fd readable and hand [off, off + len) to @check, between
 * sync_begin/end of the whole buffer, or if @ranged, dmabuf_sync_range()
 * calls over the range only.
 */
static long cpu_check(int fd, check_fn check, uint64_t off, size_t len,
		      uint32_t arg, int ranged)
{
	uint8_t *p;
	size_t size;
	long ret;

	if (dmabuf_map(fd, DMABUF_READ, (void **)&p, &size))
		return -2;
	if (ranged ? dmabuf_sync_range(fd, DMABUF_READ | DMABUF_SYNC_START,
				       off, len) : cpu_begin(fd))
		ret = -3;
	else
		ret = check(p + off, len, arg);
	if (ranged)
		dmabuf_sync_range(fd, DMABUF_READ | DMABUF_SYNC_END, off, len);
	else
		cpu_end(fd);
	dmabuf_unmap(p, size);
	return ret;
}

static long check_fill(const uint8_t *p, size_t len, uint32_t pattern)
{
	return fill_check(p, len, pattern);
}

static long check_pat(const uint8_t *p, size_t len, uint32_t seed)
{
	return pat_check(p, len, seed);
}

/* CPU-write pattern @seed over [off, off + len) of @fd. */
static int cpu_write(int fd, uint64_t off, size_t len, unsigned int seed,
		     int ranged)
{
	uint8_t *p;
	size_t size;
	int ret;

	if (dmabuf_map(fd, DMABUF_RW, (void **)&p, &size))
		return -1;
	ret = ranged ? dmabuf_sync_range(fd, DMABUF_WRITE | DMABUF_SYNC_START,
					 off, len) :
		       dmabuf_sync_begin(fd, DMABUF_WRITE);
	pat_fill(p + off, len, seed);
	if (!ret && ranged)
		ret = dmabuf_sync_range(fd, DMABUF_WRITE | DMABUF_SYNC_END,
					off, len);
	else if (!ret)
		ret = dmabuf_sync_end(fd, DMABUF_WRITE);
	dmabuf_unmap(p, size);
	return ret;
}

/* sgbuf's checksum64 (uapi/linux/sgbuf.h), written from its description */
static uint64_t checksum64(const uint8_t *d, size_t len)
{
	uint64_t a = 0, b = 0, w;
	size_t i, k;

	for (i = 0; i < len; i += 8) {
		w = 0;
		for (k = 0; k < 8 && i + k < len; k++)
			w |= (uint64_t)d[i + k] << (8 * k);
		a += w;
		b += a;
	}
	a += len;
	b += a;
	return b ^ (a << 32 | a >> 32);
}

/* zlib's CRC-32, or if @sum64 sgbuf's checksum64, of [off, off + len) of @fd */
static uint64_t cpu_sum(int fd, uint64_t off, size_t len, int sum64)
{
	uint64_t sum;
	uint8_t *p;
	size_t size;

	if (dmabuf_map(fd, DMABUF_READ, (void **)&p, &size))
		return 0;
	cpu_begin(fd);
	sum = sum64 ? checksum64(p + off, len) : crc32_zlib(p + off, len);
	cpu_end(fd);
	dmabuf_unmap(p, size);
	return sum;
}

/* FILL, CHECKSUM, COPY, fences and error injection on one source's buffer. */
static void check_source(struct dmabuf_engine *e, int src, int ref,
			 uint32_t ref_h)
{
	const char *label = sources[src].label;
	struct dmabuf_allocator *a;
	uint32_t h = 0, h32 = 0, id = 0;
	uint64_t sum = 0, seq;
	struct dmabuf_job j;
	int ret, fd, fd32, out = -1, in, st;
	char why[128];

	ret = source_open(src, &a, why, sizeof(why));
	if (ret == -ENOENT) {
		skip_n(PER_SOURCE, why);
		return;
	}
	raw_cpu = src == SRC_UDMABUF && swiotlb_forced();
	if (raw_cpu)
		tap_diag("%s under swiotlb=force: CPU reads without DMA_BUF_IOCTL_SYNC",
			 label);
	fd = ret ? ret : source_alloc(src, a, SIZE, "lib-engine-test");
	/*
	 * The same buffer, mapped by the engine's two devices at once. Only
	 * sgbuf's: the system heap, udmabuf and vgem map without
	 * DMA_ATTR_SKIP_CPU_SYNC, so two live writable mappings of their
	 * pages are what DMA-API debugging reports as overlapping ("cacheline
	 * tracking EEXIST"), a limit of those exporters. Theirs get a second
	 * buffer for the 32-bit device.
	 */
	fd32 = -1;
	if (fd >= 0 && src != SRC_SGBUF && src != SRC_SGBUF_HEAP)
		fd32 = source_alloc(src, a, SIZE, "lib-engine-test-dma32");
	ret = fd < 0 ? fd : dmabuf_engine_import(e, fd, 0, &h);
	tap_ok(!ret && h && !dmabuf_engine_import(e, fd32 >= 0 ? fd32 : fd,
						   DMABUF_IMPORT_DMA32, &h32) &&
	       h32 != h && !dmabuf_engine_unimport(e, h32),
	       "%s: import, and %s through the 32-bit device (%d)", label,
	       fd32 >= 0 ? "another buffer" : "again", ret);
	if (fd32 >= 0)
		close(fd32);
	if (ret) {
		skip_n(PER_SOURCE - 1, "no import");
		goto out;
	}

	j = job(DMABUF_JOB_FILL, 0, h, 0, 0, SIZE, 0xa5c3e1f0);
	ret = run(e, &j, NULL);
	tap_ok(!ret && cpu_check(fd, check_fill, 0, SIZE, 0xa5c3e1f0, 0) == -1,
	       "%s: FILL of the whole buffer, checked by the CPU (%d)", label,
	       ret);

	ret = cpu_write(ref, 4096, 16384, 3, 0);
	j = job(DMABUF_JOB_COPY, ref_h, h, 4096, 8192, 16384, 0);
	ret = ret ? ret : run(e, &j, NULL);
	tap_ok(!ret && cpu_check(fd, check_pat, 8192, 16384, 3, 0) == -1 &&
	       cpu_check(fd, check_fill, 0, 8192, 0xa5c3e1f0, 0) == -1 &&
	       cpu_check(fd, check_fill, 8192 + 16384, SIZE - 8192 - 16384,
			 0xa5c3e1f0, 0) == -1,
	       "%s: COPY from sgbuf lands exactly in its range (%d)", label,
	       ret);

	j = job(DMABUF_JOB_CHECKSUM, h, 0, 100, 0, 40000, 0);
	ret = run(e, &j, &sum);
	tap_ok(!ret && sum == cpu_sum(fd, 100, 40000, 0),
	       "%s: CHECKSUM equals zlib's crc32: 0x%08llx (%d)", label,
	       (unsigned long long)sum, ret);

	/* an in-fence holds the job; its out-fence signals when it is done */
	in = dmabuf_engine_sw_fence(e, &id);
	j = job(DMABUF_JOB_CHECKSUM, h, 0, 0, 0, SIZE, 0);
	j.flags = DMABUF_JOB_IN_FENCE;
	j.in_fence_fd = in;
	ret = dmabuf_engine_submit(e, &j, &last_seqno, &out);
	seq = last_seqno;
	tap_ok(!ret && out >= 0 && dmabuf_engine_wait(e, seq, 50, &sum) ==
	       -ETIME && dmabuf_fence_status(out) == 0 &&
	       dmabuf_wait(fd, DMABUF_WRITE, 0) == -ETIME &&
	       !dmabuf_wait(fd, DMABUF_READ, 0),
	       "%s: a job waits for its in-fence; its read blocks writers only",
	       label);
	sum = 0;
	tap_ok(!dmabuf_engine_sw_signal(e, id, 0) &&
	       !dmabuf_fence_wait(out, 10000) &&
	       !dmabuf_engine_wait(e, seq, 0, &sum) &&
	       sum == cpu_sum(fd, 0, SIZE, 0) &&
	       !dmabuf_wait(fd, DMABUF_WRITE, 0),
	       "%s: in-fence signalled: the job ran, its out-fence signalled",
	       label);
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);

	/* error injection: the next job fails with -EIO, writing nothing */
	out = -1;
	ret = configure(e, 0, 64, last_seqno + 1, 0);
	j = job(DMABUF_JOB_FILL, 0, h, 0, 0, SIZE, 0x11111111);
	ret = ret ? ret : dmabuf_engine_submit(e, &j, &last_seqno, &out);
	st = ret ? ret : dmabuf_engine_wait(e, last_seqno, 10000, NULL);
	tap_ok(st == -EIO && dmabuf_fence_wait(out, 0) == -EIO &&
	       dmabuf_fence_status(out) == -EIO &&
	       cpu_check(fd, check_fill, 0, 4096, 0xa5c3e1f0, 0) == -1,
	       "%s: an injected error: wait, fence and status are -EIO (%d)",
	       label, st);
	configure(e, 0, 64, 0, 0);
	if (out >= 0)
		close(out);

	tap_ok(!dmabuf_engine_unimport(e, h) &&
	       dmabuf_engine_unimport(e, h) == -ENOENT,
	       "%s: unimport, and again is -ENOENT", label);
out:
	raw_cpu = 0;
	if (fd >= 0)
		close(fd);
	dmabuf_allocator_free(a);
}

static void check_args(struct dmabuf_engine *e, int ref, uint32_t ref_h)
{
	int nul = open("/dev/null", O_RDWR | O_CLOEXEC), closed = closed_fd();
	struct dmabuf_engine_config c;
	struct dmabuf_job j;
	uint32_t h = 0;
	uint64_t seq;
	int ret;

	tap_ok(dmabuf_engine_import(e, -1, 0, &h) == -EBADF &&
	       dmabuf_engine_import(e, nul, 0, &h) == -EINVAL &&
	       dmabuf_engine_import(e, ref, 1u << 5, &h) == -EINVAL &&
	       dmabuf_engine_import(e, ref, 0, NULL) == -EINVAL && !h,
	       "import: bad fd -EBADF, not a dma-buf, bad flags, NULL handle -EINVAL");
	tap_ok(dmabuf_engine_unimport(e, 0xfffff) == -ENOENT,
	       "unimport of an unknown handle is -ENOENT");
	j = job((enum dmabuf_job_op)99, 0, ref_h, 0, 0, 4096, 0);
	tap_ok(dmabuf_engine_submit(e, &j, &seq, NULL) == -EINVAL,
	       "submit: unknown op is -EINVAL");
	j = job(DMABUF_JOB_FILL, 0, 0xfffff, 0, 0, 4096, 0);
	tap_ok(dmabuf_engine_submit(e, &j, &seq, NULL) == -ENOENT,
	       "submit: unknown handle is -ENOENT");
	j = job(DMABUF_JOB_FILL, 0, ref_h, 0, SIZE - 4, 8, 0);
	tap_ok(dmabuf_engine_submit(e, &j, &seq, NULL) == -EINVAL,
	       "submit: a range past the end is -EINVAL");
	j = job(DMABUF_JOB_FILL, 0, ref_h, 0, 0, 4096, 0);
	j.flags = DMABUF_JOB_IN_FENCE;
	j.in_fence_fd = nul;
	tap_ok(dmabuf_engine_submit(e, &j, &seq, NULL) == -EINVAL,
	       "submit: an in-fence that is not a sync_file is -EINVAL");
	j.in_fence_fd = -2;
	ret = dmabuf_engine_submit(e, &j, &seq, NULL);
	j.in_fence_fd = closed;
	tap_ok(ret == -EBADF &&
	       dmabuf_engine_submit(e, &j, &seq, NULL) == -EBADF,
	       "submit: in-fence -2 or not open is -EBADF");
	j.flags = 0;
	j.in_fence_fd = 0;
	ret = dmabuf_engine_submit(e, &j, &seq, NULL);
	ret = ret ? ret : dmabuf_engine_wait(e, seq, 10000, NULL);
	tap_ok(!ret, "submit: a zeroed in_fence_fd without the flag is "
	       "ignored (%d)", ret);
	j.flags = 1u << 5;
	ret = dmabuf_engine_submit(e, &j, &seq, NULL);
	j.flags = 0;
	j.reserved[3] = 1;
	tap_ok(ret == -EINVAL &&
	       dmabuf_engine_submit(e, &j, &seq, NULL) == -EINVAL,
	       "submit: an unknown flag or a reserved word is -EINVAL");
	tap_ok(dmabuf_engine_wait(e, 0, 0, NULL) == -EINVAL &&
	       dmabuf_engine_wait(e, 1ULL << 40, 0, NULL) == -EINVAL,
	       "wait: seqno 0 or never handed out is -EINVAL");
	memset(&c, 0, sizeof(c));
	c.flags = 1;
	ret = dmabuf_engine_configure(e, &c);
	c.flags = 0;
	c.reserved[6] = 1;
	tap_ok(configure(e, 0, 257, 0, 0) == -EINVAL && ret == -EINVAL &&
	       dmabuf_engine_configure(e, &c) == -EINVAL &&
	       configure(e, 0, 0, 0, 1) == -EINVAL,
	       "configure: depth 257, a flag, a reserved word, a positive "
	       "error: -EINVAL");
	close(nul);
}

/* Jobs with latency: -EBUSY, implicit sync with the CPU, cancellation. */
static void check_queue(struct dmabuf_engine *e, int ref, uint32_t ref_h)
{
	struct dmabuf_engine *e2 = NULL;
	struct dmabuf_job j;
	uint64_t s1, s2;
	int ret, out1 = -1, out2 = -1, st1, st2;
	uint32_t h2 = 0;
	long long t0, dt;

	ret = configure(e, MS(300), 1, 0, 0);
	j = job(DMABUF_JOB_FILL, 0, ref_h, 0, 0, SIZE, 0x01020304);
	ret = ret ? ret : dmabuf_engine_submit(e, &j, &s1, NULL);
	tap_ok(!ret && dmabuf_engine_submit(e, &j, &s2, NULL) == -EBUSY,
	       "queue depth 1: a second job is -EBUSY");
	tap_ok(dmabuf_wait(ref, DMABUF_READ, 0) == -ETIME &&
	       dmabuf_engine_wait(e, s1, 0, NULL) == -ETIME &&
	       !dmabuf_engine_wait(e, s1, -1, NULL) &&
	       !dmabuf_wait(ref, DMABUF_READ, 0),
	       "the buffer is busy while the job runs, idle after");

	j.pattern = 0x0a0b0c0d;
	ret = dmabuf_engine_submit(e, &j, &s1, NULL);
	t0 = now_ms();
	tap_ok(!ret &&
	       cpu_check(ref, check_fill, 0, SIZE, 0x0a0b0c0d, 0) == -1 &&
	       (dt = now_ms() - t0) >= 200,
	       "sync_begin waits for the engine's write: the CPU sees the FILL");
	configure(e, 0, 64, 0, 0);

	/* freeing an engine cancels what has not started */
	ret = dmabuf_engine_new(&e2);
	ret = ret ? ret : dmabuf_engine_import(e2, ref, 0, &h2);
	ret = ret ? ret : configure(e2, MS(300), 4, 0, 0);
	j = job(DMABUF_JOB_FILL, 0, h2, 0, 0, 4096, 0);
	ret = ret ? ret : dmabuf_engine_submit(e2, &j, NULL, &out1);
	ret = ret ? ret : dmabuf_engine_submit(e2, &j, NULL, &out2);
	dmabuf_engine_free(e2);
	st1 = out1 >= 0 ? dmabuf_fence_wait(out1, 10000) : -1;
	st2 = out2 >= 0 ? dmabuf_fence_wait(out2, 10000) : -1;
	tap_ok(!ret && (st1 == 0 || st1 == -ECANCELED) && st2 == -ECANCELED,
	       "engine_free: the queued job's fence is -ECANCELED (%d, %d)",
	       st1, st2);
	if (out1 >= 0)
		close(out1);
	if (out2 >= 0)
		close(out2);
}

/*
 * A zeroed config is the defaults: queue depth 64. Jobs of 1 s each: the
 * 65th submit finds 64 in flight.
 */
static void check_default_config(int ref)
{
	struct dmabuf_engine_config c;
	struct dmabuf_engine *e2 = NULL;
	int ret, n = 0, busy;
	struct dmabuf_job j;
	uint32_t h = 0;

	memset(&c, 0, sizeof(c));
	ret = dmabuf_engine_new(&e2);
	ret = ret ? ret : dmabuf_engine_import(e2, ref, 0, &h);
	ret = ret ? ret : dmabuf_engine_configure(e2, &c);
	tap_ok(!ret, "configure: a zeroed config is accepted (%d)", ret);
	c.latency_ns = MS(1000);
	ret = ret ? ret : dmabuf_engine_configure(e2, &c);
	j = job(DMABUF_JOB_FILL, 0, h, 0, 0, 4096, 0);
	while (!ret && n < 70 && !(ret = dmabuf_engine_submit(e2, &j, NULL,
							      NULL)))
		n++;
	busy = ret;
	tap_ok(n == 64 && busy == -EBUSY,
	       "configure: queue depth 0 means 64: %d jobs queued, then %d", n,
	       busy);
	dmabuf_engine_free(e2);	/* cancels what has not started */
}

/*
 * With DMABUF_IMPORT_NO_SYNC the engine relies on the exporter's syncs:
 * dmabuf_sync_range() must make the range visible both ways (under
 * swiotlb=force, the bytes travel through bounce buffers).
 */
static void check_no_sync(struct dmabuf_engine *e, int ref)
{
	const uint64_t off = 3 * 4096 + 512, len = 20000;
	uint8_t model[20000];
	struct dmabuf_job j;
	uint64_t sum = 0;
	uint32_t h = 0;
	int ret;

	pat_fill(model, len, 9);
	ret = dmabuf_engine_import(e, ref, DMABUF_IMPORT_NO_SYNC, &h);
	ret = ret ? ret : cpu_write(ref, off, len, 9, 1);
	j = job(DMABUF_JOB_CHECKSUM, h, 0, off, 0, len, 0);
	ret = ret ? ret : run(e, &j, &sum);
	tap_ok(!ret && sum == crc32_zlib(model, len),
	       "NO_SYNC import: the device reads what the CPU wrote in a synced range (%d)",
	       ret);
	j = job(DMABUF_JOB_FILL, 0, h, 0, off, len, 0x5a6b7c8d);
	ret = h ? run(e, &j, NULL) : -1;
	tap_ok(!ret &&
	       cpu_check(ref, check_fill, off, len, 0x5a6b7c8d, 1) == -1,
	       "NO_SYNC import: the CPU reads what the device wrote in a synced range (%d)",
	       ret);
	if (h)
		dmabuf_engine_unimport(e, h);
}

static void check_checksum64(struct dmabuf_engine *e, int ref,
			     uint32_t ref_h)
{
	const uint8_t zero = 0;
	struct sgbuf_info info;
	struct dmabuf_job j;
	uint64_t sum = 0, want;
	int ret;

	tap_ok(checksum64((const uint8_t *)"123456789", 9) ==
	       0x9c9690eca4aea13bULL && checksum64(&zero, 1) == 0x100000001ULL,
	       "checksum64 reference: the header's test vectors");
	memset(&info, 0, sizeof(info));
	if (ioctl(dmabuf_engine_fd(e), SGBUF_IOCTL_GET_INFO, &info) ||
	    !(info.caps & SGBUF_CAP_CHECKSUM64)) {
		tap_skip("this sgbuf module has no CHECKSUM64 (ABI %llu)",
			 (unsigned long long)info.abi_version);
		return;
	}
	cpu_write(ref, 0, SIZE, 11, 0);
	j = job(DMABUF_JOB_CHECKSUM64, ref_h, 0, 100, 0, 40001, 0);
	ret = run(e, &j, &sum);
	want = cpu_sum(ref, 100, 40001, 1);
	tap_ok(!ret && sum == want,
	       "CHECKSUM64 job: 0x%016llx, userspace 0x%016llx (%d)",
	       (unsigned long long)sum, (unsigned long long)want, ret);
}

int main(void)
{
	struct dmabuf_allocator *a = NULL;
	struct dmabuf_engine *e = NULL;
	int fds = count_fds(), ret, ref = -1, src, efd;
	uint32_t ref_h = 0;

	tap_plan(1 + 11 + PER_SOURCE * NR_SOURCES + 4 + 2 + 2 + 2 + 1);
	ret = dmabuf_engine_new(&e);
	ret = ret ? ret : dmabuf_allocator_new(DMABUF_BACKEND_SGBUF, NULL, &a);
	ref = ret ? ret : dmabuf_alloc(a, SIZE, 0, "lib-engine-ref");
	ret = ref < 0 ? ref : dmabuf_engine_import(e, ref, 0, &ref_h);
	efd = e ? dmabuf_engine_fd(e) : -1;
	if (!tap_ok(!ret && efd >= 0 && (fcntl(efd, F_GETFD) & FD_CLOEXEC),
		    "engine_new, and an sgbuf buffer imported (%d)", ret))
		return tap_done();
	check_args(e, ref, ref_h);
	for (src = 0; src < NR_SOURCES; src++)
		check_source(e, src, ref, ref_h);
	check_queue(e, ref, ref_h);
	check_default_config(ref);
	check_no_sync(e, ref);
	check_checksum64(e, ref, ref_h);
	dmabuf_engine_free(e);
	close(ref);
	dmabuf_allocator_free(a);
	tap_ok(count_fds() == fds, "no fd leaked (%d open)", fds);
	return tap_done();
}
