/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers for the tests of sgbuf's DMA consumer engine: thin ioctl
 * wrappers, sync_file and poll helpers, a zlib-compatible CRC-32, the
 * reference checksum64 of docs/uapi.md, a model of what FILL does, and a
 * parser for debugfs sgbuf/engines.
 *
 * As in common.h, every helper returns a value >= 0 on success and -errno
 * on failure.
 */
#ifndef SGBUF_SELFTEST_ENGINE_H
#define SGBUF_SELFTEST_ENGINE_H

#include <poll.h>
#include <time.h>
#include <sys/syscall.h>
#include <linux/sync_file.h>

#include "common.h"

#define SGBUF_ENGINES_DEBUGFS	"/sys/kernel/debug/sgbuf/engines"
#define SGBUF_MODULE_REFCNT	"/sys/module/sgbuf/refcnt"
#define SWIOTLB_DEBUGFS		"/sys/kernel/debug/swiotlb"

/* Finite "forever" for WAIT, so that a hung job fails instead of hanging. */
#define WAIT_LONG_NS		(20LL * 1000 * 1000 * 1000)
#define MS_NS(ms)		((long long)(ms) * 1000 * 1000)

/* ---------------------------------------------------------------- ioctls */

/* SGBUF_IOCTL_IMPORT. @size may be NULL. Returns 0 or -errno. */
static inline int eng_import(int eng, int fd, unsigned long long flags,
			     __u32 *handle, __u64 *size)
{
	struct sgbuf_import imp;

	memset(&imp, 0, sizeof(imp));
	imp.fd = fd;
	imp.flags = flags;
	if (ioctl(eng, SGBUF_IOCTL_IMPORT, &imp))
		return -errno;
	if (handle)
		*handle = imp.handle;
	if (size)
		*size = imp.size;
	return 0;
}

static inline int eng_unimport(int eng, __u32 handle)
{
	struct sgbuf_unimport u;

	memset(&u, 0, sizeof(u));
	u.handle = handle;
	return ioctl(eng, SGBUF_IOCTL_UNIMPORT, &u) ? -errno : 0;
}

/* SGBUF_IOCTL_SUBMIT with a caller-built request. Returns 0 or -errno. */
static inline int eng_submit(int eng, struct sgbuf_submit *s)
{
	return ioctl(eng, SGBUF_IOCTL_SUBMIT, s) ? -errno : 0;
}

static inline void job_fill(struct sgbuf_submit *s, __u32 dst,
			    unsigned long long off, unsigned long long len,
			    __u32 pattern)
{
	memset(s, 0, sizeof(*s));
	s->op = SGBUF_JOB_FILL;
	s->dst = dst;
	s->dst_offset = off;
	s->length = len;
	s->pattern = pattern;
}

static inline void job_copy(struct sgbuf_submit *s, __u32 src,
			    unsigned long long src_off, __u32 dst,
			    unsigned long long dst_off, unsigned long long len)
{
	memset(s, 0, sizeof(*s));
	s->op = SGBUF_JOB_COPY;
	s->src = src;
	s->src_offset = src_off;
	s->dst = dst;
	s->dst_offset = dst_off;
	s->length = len;
}

static inline void job_checksum(struct sgbuf_submit *s, __u32 src,
				unsigned long long off, unsigned long long len)
{
	memset(s, 0, sizeof(*s));
	s->op = SGBUF_JOB_CHECKSUM;
	s->src = src;
	s->src_offset = off;
	s->length = len;
}

static inline void job_checksum64(struct sgbuf_submit *s, __u32 src,
				  unsigned long long off, unsigned long long len)
{
	job_checksum(s, src, off, len);
	s->op = SGBUF_JOB_CHECKSUM64;
}

/* Add an in-fence to a request built by job_*(). */
static inline void job_in_fence(struct sgbuf_submit *s, int fence_fd)
{
	s->flags |= SGBUF_SUBMIT_IN_FENCE;
	s->in_fence_fd = fence_fd;
}

/*
 * SGBUF_IOCTL_WAIT. On success stores the job's status and checksum
 * (either pointer may be NULL). Returns 0 or -errno (-ETIME: not done).
 */
static inline int eng_wait(int eng, unsigned long long seqno,
			   long long timeout_ns, int *status, __u32 *checksum)
{
	struct sgbuf_wait w;

	memset(&w, 0, sizeof(w));
	w.seqno = seqno;
	w.timeout_ns = timeout_ns;
	if (ioctl(eng, SGBUF_IOCTL_WAIT, &w))
		return -errno;
	if (status)
		*status = w.status;
	if (checksum)
		*checksum = w.checksum;
	return 0;
}

/*
 * SGBUF_IOCTL_WAIT returning the 64-bit result, which only CHECKSUM64 jobs
 * fill in (0 for every other job); @status and @checksum64 may be NULL.
 * Returns 0 or -errno, and -EPROTO if checksum64 is set and the 32-bit
 * checksum is not its low half, as the ABI promises.
 */
static inline int eng_wait64(int eng, unsigned long long seqno,
			     long long timeout_ns, int *status,
			     __u64 *checksum64)
{
	struct sgbuf_wait w;

	memset(&w, 0, sizeof(w));
	w.seqno = seqno;
	w.timeout_ns = timeout_ns;
	if (ioctl(eng, SGBUF_IOCTL_WAIT, &w))
		return -errno;
	if (w.checksum64 && w.checksum != (__u32)w.checksum64)
		return -EPROTO;
	if (status)
		*status = w.status;
	if (checksum64)
		*checksum64 = w.checksum64;
	return 0;
}

static inline int eng_config(int eng, const struct sgbuf_engine_config *c)
{
	return ioctl(eng, SGBUF_IOCTL_ENGINE_CONFIG, c) ? -errno : 0;
}

/* A valid config: the defaults, plus the given depth and error injection. */
static inline int eng_config_simple(int eng, unsigned int depth,
				    unsigned long long fail_seqno,
				    int fail_error)
{
	struct sgbuf_engine_config c;

	memset(&c, 0, sizeof(c));
	c.queue_depth = depth;
	c.fail_seqno = fail_seqno;
	c.fail_error = fail_error;
	return eng_config(eng, &c);
}

/* SGBUF_IOCTL_SW_FENCE_CREATE. Returns the sync_file fd or -errno. */
static inline int sw_fence_create(int eng, __u32 *id)
{
	struct sgbuf_sw_fence f;

	memset(&f, 0, sizeof(f));
	if (ioctl(eng, SGBUF_IOCTL_SW_FENCE_CREATE, &f))
		return -errno;
	if (id)
		*id = f.id;
	return f.fence_fd >= 0 ? f.fence_fd : -EBADF;
}

static inline int sw_fence_signal(int eng, __u32 id, int error)
{
	struct sgbuf_sw_signal s;

	memset(&s, 0, sizeof(s));
	s.id = id;
	s.error = error;
	return ioctl(eng, SGBUF_IOCTL_SW_FENCE_SIGNAL, &s) ? -errno : 0;
}

/* ------------------------------------------------------ sync_file, poll */

/*
 * SYNC_IOC_FILE_INFO: stores the sync_file's status (1 signalled, 0
 * active, < 0 the error it was signalled with) in @status.
 */
static inline int sync_file_status(int fd, int *status)
{
	struct sync_file_info info;

	memset(&info, 0, sizeof(info));
	if (ioctl(fd, SYNC_IOC_FILE_INFO, &info))
		return -errno;
	*status = info.status;
	return 0;
}

/* poll() one fd: returns its revents (0 on timeout) or -errno. */
static inline int poll_fd(int fd, short events, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	int ret = poll(&p, 1, timeout_ms);

	if (ret < 0)
		return -errno;
	return ret ? p.revents : 0;
}

/*
 * DMA_BUF_IOCTL_EXPORT_SYNC_FILE: the buffer's fences that a CPU access
 * with @flags (DMA_BUF_SYNC_READ/WRITE) would wait for, as a sync_file.
 */
static inline int dmabuf_export_sync_file(int fd, unsigned int flags)
{
	struct dma_buf_export_sync_file e = { .flags = flags, .fd = -1 };

	if (ioctl(fd, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &e))
		return -errno;
	return e.fd;
}

static inline long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* ----------------------------------------------------------- CRC, FILL */

/* CRC-32 as zlib's crc32(crc, buf, len): poly 0xEDB88320, ~0 in and out. */
static inline uint32_t crc32_update(uint32_t crc, const void *buf, size_t len)
{
	static uint32_t table[256];
	const uint8_t *p = buf;

	if (!table[1]) {
		uint32_t i, c;
		int k;

		for (i = 0; i < 256; i++) {
			c = i;
			for (k = 0; k < 8; k++)
				c = c & 1 ? 0xEDB88320U ^ (c >> 1) : c >> 1;
			table[i] = c;
		}
	}
	crc = ~crc;
	while (len--)
		crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

static inline uint32_t crc32_buf(const void *buf, size_t len)
{
	return crc32_update(0, buf, len);
}

/* sgbuf checksum64 of len (>= 1) bytes, as SGBUF_JOB_CHECKSUM64. */
static inline uint64_t sgbuf_checksum64(const void *buf, uint64_t len)
{
	const unsigned char *d = buf;
	uint64_t a = 0, b = 0, w, i;
	unsigned int k;

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

/* What FILL does: byte k of the range is byte (k % 4) of @pattern (LE). */
static inline void model_fill(void *p, size_t off, size_t len, uint32_t pattern)
{
	uint8_t *b = (uint8_t *)p + off;
	size_t k;

	for (k = 0; k < len; k++)
		b[k] = (uint8_t)(pattern >> (8 * (k % 4)));
}

/* Offset of the first byte where @a and @b differ, or -1. */
static inline long first_diff(const void *a, const void *b, size_t len)
{
	const uint8_t *x = a, *y = b;
	size_t i;

	if (!memcmp(a, b, len))
		return -1;
	for (i = 0; i < len; i++)
		if (x[i] != y[i])
			return (long)i;
	return -1;
}

/* --------------------------------------------------------------- debugfs */

#define ENG_DBG_MAX_IMPORTS	16

struct eng_dbg_import {
	unsigned int handle;
	unsigned long long size;
	char exporter[64];
	char dev[32];		/* "" if the line has no dev field */
};

struct eng_dbg {
	unsigned long long id;
	long pid;
	char comm[32];
	char dev[32];		/* "" if the line has no dev field */
	bool have_jobs;
	unsigned long long submitted, completed, failed, cancelled, in_flight,
			   bytes;
	int nimports;
	struct eng_dbg_import imports[ENG_DBG_MAX_IMPORTS];
};

/*
 * Parse debugfs sgbuf/engines:
 *   engine <id> pid <pid> comm <comm> [dev <dev>]
 *     jobs submitted <n> completed <n> failed <n> cancelled <n> in_flight <n> bytes <n>
 *     import <handle> size <bytes> exporter <exp_name> [dev <dev>]
 * The device is named on the engine line or on each import line.
 * Stores up to @max engines whose pid is @pid in @out and returns how many
 * there are, or -errno (-EPROTO for a line that does not parse).
 */
static inline int engines_of_pid(long pid, struct eng_dbg *out, int max)
{
	struct eng_dbg *cur = NULL, scratch;
	char line[512];
	int n = 0;
	FILE *f;

	f = fopen(SGBUF_ENGINES_DEBUGFS, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (!strncmp(line, "engine ", 7)) {
			char *comm, *dev, *next;
			int pos = 0;

			memset(&scratch, 0, sizeof(scratch));
			if (sscanf(line, "engine %llu pid %ld comm %n",
				   &scratch.id, &scratch.pid, &pos) != 2 || !pos)
				goto bad;
			comm = line + pos;
			/* the comm may contain spaces: the last " dev " ends it */
			dev = strstr(comm, " dev ");
			while (dev && (next = strstr(dev + 1, " dev ")))
				dev = next;
			if (dev) {
				*dev = '\0';
				snprintf(scratch.dev, sizeof(scratch.dev), "%s",
					 dev + 5);
			}
			snprintf(scratch.comm, sizeof(scratch.comm), "%s", comm);
			if (scratch.pid == pid && n < max) {
				cur = &out[n];
				*cur = scratch;
			} else {
				cur = NULL;
			}
			if (scratch.pid == pid)
				n++;
		} else if (!strncmp(line, "  jobs ", 7)) {
			struct eng_dbg t;

			if (sscanf(line, "  jobs submitted %llu completed %llu failed %llu cancelled %llu in_flight %llu bytes %llu",
				   &t.submitted, &t.completed, &t.failed,
				   &t.cancelled, &t.in_flight, &t.bytes) != 6)
				goto bad;
			if (cur) {
				cur->submitted = t.submitted;
				cur->completed = t.completed;
				cur->failed = t.failed;
				cur->cancelled = t.cancelled;
				cur->in_flight = t.in_flight;
				cur->bytes = t.bytes;
				cur->have_jobs = true;
			}
		} else if (!strncmp(line, "  import ", 9)) {
			struct eng_dbg_import imp;
			int pos = 0;

			memset(&imp, 0, sizeof(imp));
			if (sscanf(line, "  import %u size %llu exporter %63s%n",
				   &imp.handle, &imp.size, imp.exporter,
				   &pos) != 3)
				goto bad;
			/* optional: the device the import is attached to */
			if (sscanf(line + pos, " dev %31s", imp.dev) == 0)
				goto bad;
			if (cur && cur->nimports < ENG_DBG_MAX_IMPORTS)
				cur->imports[cur->nimports++] = imp;
		}
	}
	fclose(f);
	return n;
bad:
	fclose(f);
	return -EPROTO;
}

/* The one engine of this process (it must have exactly one open). */
static inline int engine_self(struct eng_dbg *out)
{
	int n = engines_of_pid(getpid(), out, 1);

	if (n < 0)
		return n;
	if (n != 1)
		return -ENOENT;
	return out->have_jobs ? 0 : -EPROTO;
}

static inline const struct eng_dbg_import *
eng_dbg_find_import(const struct eng_dbg *e, unsigned int handle)
{
	int i;

	for (i = 0; i < e->nimports; i++)
		if (e->imports[i].handle == handle)
			return &e->imports[i];
	return NULL;
}

/* ------------------------------------------------------------ environment */

/* True if the kernel command line has @word (e.g. "swiotlb=force"). */
static inline bool cmdline_has(const char *word)
{
	return file_has_word("/proc/cmdline", word);
}

/* Free bytes in the swiotlb bounce pool, or -errno. */
static inline long long swiotlb_free_bytes(void)
{
	unsigned long long nslabs, used;
	int ret;

	ret = read_ull_file(SWIOTLB_DEBUGFS "/io_tlb_nslabs", &nslabs);
	if (ret)
		return ret;
	ret = read_ull_file(SWIOTLB_DEBUGFS "/io_tlb_used", &used);
	if (ret)
		return ret;
	return (long long)((nslabs - used) << 11);	/* 2 KiB slots */
}

#endif /* SGBUF_SELFTEST_ENGINE_H */
