// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Allocators in a guest with sgbuf loaded: every backend the kernel has
 * (sgbuf, sgbuf's heap node, the system heap, udmabuf), their caps, names,
 * size rounding, CONTIGUOUS, READONLY, CPU access through a mapping.
 */
#include <stdlib.h>
#include <sys/stat.h>
#include <linux/sgbuf.h>

#include "guest.h"

#define PER_BACKEND 17
#define SGBUF_PARAMS "/sys/module/sgbuf/parameters/"

static int is_native_sgbuf(int src)
{
	return src == SRC_SGBUF;
}

/* SGBUF_IOCTL_GET_INFO's caps of the loaded module */
static uint64_t module_caps(void)
{
	struct sgbuf_info info;
	int fd = open("/dev/sgbuf", O_RDWR | O_CLOEXEC);

	memset(&info, 0, sizeof(info));
	if (fd >= 0) {
		ioctl(fd, SGBUF_IOCTL_GET_INFO, &info);
		close(fd);
	}
	return info.caps;
}

static void check_caps(int src, const struct dmabuf_caps *c, uint64_t ps)
{
	const struct source *s = &sources[src];
	long long limit;
	uint64_t want;

	tap_ok(c->backend == (uint32_t)s->backend &&
	       !strcmp(c->name, s->heap ? s->heap : s->label) &&
	       c->page_size == ps && (c->flags & DMABUF_CAP_CACHED),
	       "%s: caps: backend %u name %s page size %llu, cached",
	       s->label, c->backend, c->name,
	       (unsigned long long)c->page_size);
	want = is_native_sgbuf(src) ?
	       DMABUF_CAP_CONTIGUOUS | DMABUF_CAP_NAME_AT_ALLOC : 0;
	if (is_native_sgbuf(src) && (module_caps() & SGBUF_CAP_SYNC_RANGE))
		want |= DMABUF_CAP_SYNC_RANGE;
	if (is_native_sgbuf(src) && (module_caps() & SGBUF_CAP_ENGINE))
		want |= DMABUF_CAP_ENGINE;
	if (is_native_sgbuf(src) && (module_caps() & SGBUF_CAP_ENGINE) &&
	    (module_caps() & SGBUF_CAP_CHECKSUM64))
		want |= DMABUF_CAP_CHECKSUM64;
	tap_ok((c->flags & ~(uint32_t)DMABUF_CAP_CACHED) == want &&
	       !c->reserved[0] && !c->reserved[7],
	       "%s: caps: flags 0x%x (want 0x%x), reserved words zero",
	       s->label, c->flags, (unsigned int)want | DMABUF_CAP_CACHED);
	if (is_native_sgbuf(src))
		limit = sysfs_ll(SGBUF_PARAMS "max_buffer_size");
	else if (src == SRC_UDMABUF)
		limit = sysfs_ll("/sys/module/udmabuf/parameters/size_limit_mb")
			* (1LL << 20);
	else
		limit = 0;
	if (limit < 0)
		limit = 0;
	tap_ok(c->max_size == (uint64_t)limit &&
	       (is_native_sgbuf(src) ? c->max_contig_size >= 65536 :
				       !c->max_contig_size),
	       "%s: caps: max size %llu, max contiguous %llu", s->label,
	       (unsigned long long)c->max_size,
	       (unsigned long long)c->max_contig_size);
}

/* Name, exporter, size, count and inode of a fresh named buffer. */
static void check_named(int src, struct dmabuf_allocator *a, uint64_t ps)
{
	const struct source *s = &sources[src];
	struct dmabuf_info info;
	char name[DMABUF_NAME_MAX];
	struct stat st;
	int fd, ret;

	fd = dmabuf_alloc(a, 2 * ps, 0, "lib-alloc-test");
	tap_ok(fd >= 0 && (fcntl(fd, F_GETFD) & FD_CLOEXEC),
	       "%s: alloc a named buffer: fd %d with FD_CLOEXEC", s->label, fd);
	if (fd < 0) {
		skip_n(3, "no buffer");
		return;
	}
	memset(&info, 0x5a, sizeof(info));
	memset(&st, 0, sizeof(st));
	ret = dmabuf_get_info(fd, &info);
	if (fstat(fd, &st))
		ret = -errno;
	tap_ok(!ret && info.size == 2 * ps && !strcmp(info.exporter, s->exporter) &&
	       !strcmp(info.name, "lib-alloc-test") && info.count == 1 &&
	       info.inode == st.st_ino && !info.reserved[0] &&
	       !info.reserved[7],
	       "%s: get_info: size %llu exporter %s name '%s' count %lld inode %llu",
	       s->label, (unsigned long long)info.size, info.exporter,
	       info.name, (long long)info.count,
	       (unsigned long long)info.inode);
	tap_ok(!dmabuf_get_name(fd, name, sizeof(name)) &&
	       !strcmp(name, "lib-alloc-test") &&
	       dmabuf_get_name(fd, name, 4) == -ERANGE,
	       "%s: get_name, and -ERANGE for a short buffer", s->label);
	tap_ok(!dmabuf_set_name(fd, "renamed buffer") &&
	       !dmabuf_get_name(fd, name, sizeof(name)) &&
	       !strcmp(name, "renamed buffer"),
	       "%s: set_name renames it", s->label);
	close(fd);
}

static void check_sizes(int src, struct dmabuf_allocator *a,
			const struct dmabuf_caps *c)
{
	const char *label = sources[src].label;
	struct dmabuf_info i1, i2, i3;
	uint64_t ps = c->page_size;
	int fd1, fd2, fd3, ret;

	fd1 = dmabuf_alloc(a, 1, 0, NULL);
	fd2 = dmabuf_alloc(a, ps + 1, 0, NULL);
	fd3 = dmabuf_alloc(a, 5 * ps, 0, "");
	tap_ok(fd1 >= 0 && fd2 >= 0 && fd3 >= 0 && !dmabuf_get_info(fd1, &i1) &&
	       !dmabuf_get_info(fd2, &i2) && !dmabuf_get_info(fd3, &i3) &&
	       i1.size == ps && i2.size == 2 * ps && i3.size == 5 * ps,
	       "%s: sizes round up to pages", label);
	tap_ok(fd1 >= 0 && fd3 >= 0 && !i1.name[0] && !i3.name[0],
	       "%s: a NULL or empty name leaves the buffer unnamed", label);
	close(fd1);
	close(fd2);
	close(fd3);

	tap_ok(dmabuf_alloc(a, 0, 0, NULL) == -EINVAL &&
	       dmabuf_alloc(a, ps, 1u << 9, NULL) == -EINVAL &&
	       dmabuf_alloc(a, ps, 0, "bad\x7f") == -EINVAL,
	       "%s: size 0, unknown flag, bad name are -EINVAL", label);

	fd1 = dmabuf_alloc(a, 64 * 1024, DMABUF_ALLOC_CONTIGUOUS, "contig");
	if (is_native_sgbuf(src)) {
		tap_ok(fd1 >= 0 && !dmabuf_get_info(fd1, &i1) &&
		       i1.size == 64 * 1024, "%s: CONTIGUOUS 64 KiB", label);
		ret = dmabuf_alloc(a, c->max_contig_size + ps,
				   DMABUF_ALLOC_CONTIGUOUS, NULL);
		tap_ok(ret == -EFBIG, "%s: CONTIGUOUS above %llu is -EFBIG (%d)",
		       label, (unsigned long long)c->max_contig_size, ret);
	} else {
		tap_ok(fd1 == -EOPNOTSUPP, "%s: CONTIGUOUS is -EOPNOTSUPP (%d)",
		       label, fd1);
		tap_skip("%s: no contiguous buffers at all", label);
	}
	if (fd1 >= 0)
		close(fd1);

	if (c->max_size) {
		ret = dmabuf_alloc(a, c->max_size + 1, 0, NULL);
		tap_ok(ret == -EFBIG, "%s: above max_size is -EFBIG (%d)",
		       label, ret);
	} else {
		tap_skip("%s: no known size limit", label);
	}
}

/* Zeroed; write a pattern, sync, read it back through a new mapping. */
static void check_cpu(int src, struct dmabuf_allocator *a, uint64_t ps)
{
	const char *label = sources[src].label;
	struct dmabuf_info info;
	size_t size = 3 * ps, len = 0;
	uint8_t *p = NULL;
	int fd, ok, i;

	fd = dmabuf_alloc(a, size, 0, "cpu");
	if (fd < 0 || dmabuf_map(fd, DMABUF_RW, (void **)&p, &len)) {
		tap_ok(0, "%s: alloc and map: fd %d", label, fd);
		skip_n(2, "no mapping");
		if (fd >= 0)
			close(fd);
		return;
	}
	ok = len == size && !dmabuf_sync_begin(fd, DMABUF_RW);
	for (i = 0; ok && (size_t)i < size; i++)
		ok = !p[i];
	memset(&info, 0, sizeof(info));
	ok = ok && !dmabuf_get_info(fd, &info);
	tap_ok(ok && info.count == 2,
	       "%s: a new buffer is zeroed; the mapping holds a reference (count %lld)",
	       label, (long long)info.count);
	pat_fill(p, size, 7);
	ok = !dmabuf_sync_end(fd, DMABUF_RW) && !dmabuf_unmap(p, len);
	p = NULL;
	ok = ok && !dmabuf_map(fd, DMABUF_READ, (void **)&p, NULL) &&
	     !dmabuf_sync_begin(fd, DMABUF_READ) && pat_check(p, size, 7) < 0 &&
	     !dmabuf_sync_end(fd, DMABUF_READ);
	tap_ok(ok, "%s: a pattern written through one mapping reads back through another",
	       label);
	if (p)
		dmabuf_unmap(p, size);
	close(fd);

	/* READONLY: sgbuf and heaps give an O_RDONLY fd; udmabuf cannot */
	fd = dmabuf_alloc(a, ps, DMABUF_ALLOC_READONLY, NULL);
	if (src == SRC_UDMABUF) {
		tap_ok(fd == -EOPNOTSUPP, "%s: READONLY is -EOPNOTSUPP (%d)",
		       label, fd);
		return;
	}
	p = NULL;
	ok = fd >= 0 && (fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDONLY &&
	     dmabuf_map(fd, DMABUF_RW, (void **)&p, NULL) == -EACCES &&
	     !p && !dmabuf_map(fd, DMABUF_READ, (void **)&p, &len) &&
	     !dmabuf_sync_begin(fd, DMABUF_READ) && !p[0] && !p[ps - 1] &&
	     !dmabuf_sync_end(fd, DMABUF_READ);
	tap_ok(ok, "%s: READONLY: O_RDONLY fd, mapping it writable is -EACCES, readable works",
	       label);
	if (p)
		dmabuf_unmap(p, len);
	if (fd >= 0)
		close(fd);
}

static void check_backend(int src, uint64_t ps)
{
	struct dmabuf_allocator *a;
	struct dmabuf_caps caps;
	char why[128];
	int ret;

	ret = source_open(src, &a, why, sizeof(why));
	if (ret == -ENOENT) {
		skip_n(PER_BACKEND, why);
		return;
	}
	tap_ok(!ret && !dmabuf_allocator_caps(a, &caps),
	       "%s: allocator_new", sources[src].label);
	if (ret) {
		skip_n(PER_BACKEND - 1, why);
		return;
	}
	check_caps(src, &caps, ps);
	check_named(src, a, ps);
	check_sizes(src, a, &caps);
	check_cpu(src, a, ps);
	dmabuf_allocator_free(a);
}

int main(void)
{
	uint64_t ps = (uint64_t)sysconf(_SC_PAGESIZE);
	struct dmabuf_allocator *a = NULL;
	struct dmabuf_caps caps;
	int fds = count_fds(), src;

	tap_plan(1 + PER_BACKEND * SRC_VGEM + 1);
	tap_ok(!dmabuf_allocator_new(DMABUF_BACKEND_AUTO, NULL, &a) &&
	       !dmabuf_allocator_caps(a, &caps) &&
	       caps.backend == DMABUF_BACKEND_SGBUF,
	       "AUTO picks sgbuf when it is loaded");
	dmabuf_allocator_free(a);
	for (src = 0; src < SRC_VGEM; src++)
		check_backend(src, ps);
	tap_ok(count_fds() == fds, "no fd leaked (%d open)", fds);
	return tap_done();
}
