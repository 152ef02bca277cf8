// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Buffer operations on a buffer of every exporter the guest has (sgbuf,
 * its heap node, the system heap, udmabuf, vgem): dmabuf_sync_range(),
 * and implicit sync with software fences of sgbuf's engine:
 * dmabuf_wait(), dmabuf_export_sync_file(), dmabuf_import_sync_file().
 */
#include <stdlib.h>

#include "guest.h"

#define PER_SOURCE 14
#define SIZE (16 * 4096)

#define START (DMABUF_SYNC_START)
#define END (DMABUF_SYNC_END)

static void check_sync_range(const char *label, int fd)
{
	tap_ok(!dmabuf_sync_range(fd, DMABUF_RW | START, 0, SIZE) &&
	       !dmabuf_sync_range(fd, DMABUF_RW | END, 0, SIZE),
	       "%s: sync_range of the whole buffer", label);
	tap_ok(!dmabuf_sync_range(fd, DMABUF_READ | START, 100, 5000) &&
	       !dmabuf_sync_range(fd, DMABUF_READ | END, 100, 5000) &&
	       !dmabuf_sync_range(fd, DMABUF_WRITE | START, SIZE - 1, 1) &&
	       !dmabuf_sync_range(fd, DMABUF_WRITE | END, SIZE - 1, 1),
	       "%s: sync_range of unaligned ranges", label);
	tap_ok(dmabuf_sync_range(fd, DMABUF_READ | START, SIZE, 1) == -EINVAL &&
	       dmabuf_sync_range(fd, DMABUF_READ | START, 0, SIZE + 1) ==
	       -EINVAL &&
	       dmabuf_sync_range(fd, DMABUF_READ | END, 4096, SIZE) == -EINVAL &&
	       dmabuf_sync_range(fd, DMABUF_READ | START, UINT64_MAX, 2) ==
	       -EINVAL,
	       "%s: sync_range outside the buffer is -EINVAL", label);
	tap_ok(dmabuf_sync_range(fd, DMABUF_READ, 0, 1) == -EINVAL &&
	       dmabuf_sync_range(fd, DMABUF_READ | START | END, 0, 1) ==
	       -EINVAL && dmabuf_sync_range(fd, START, 0, 1) == -EINVAL,
	       "%s: sync_range without START or END, with both, without "
	       "access: -EINVAL", label);
}

/* Status of the sync_file @fd exports for @access, closing it. */
static int exported_status(int fd, uint32_t access)
{
	int sf = dmabuf_export_sync_file(fd, access), st;

	if (sf < 0)
		return sf - 1000;
	st = dmabuf_fence_status(sf);
	close(sf);
	return st;
}

/* A software fence added to @fd as a write or read; returns its id or 0. */
static uint32_t add_fence(struct dmabuf_engine *e, int fd, uint32_t access)
{
	uint32_t id = 0;
	int sf, ret;

	sf = dmabuf_engine_sw_fence(e, &id);
	if (sf < 0)
		return 0;
	ret = dmabuf_import_sync_file(fd, access, sf);
	close(sf);
	return ret ? 0 : id;
}

static void check_implicit_sync(const char *label, int fd,
				struct dmabuf_engine *e)
{
	long long t0, dt;
	uint32_t id;
	pid_t pid;
	int st;

	tap_ok(!dmabuf_wait(fd, DMABUF_READ, 0) &&
	       !dmabuf_wait(fd, DMABUF_WRITE, 0) &&
	       exported_status(fd, DMABUF_WRITE) == 1,
	       "%s: idle: wait returns 0, the exported sync_file is signalled",
	       label);

	id = add_fence(e, fd, DMABUF_WRITE);
	tap_ok(id, "%s: import_sync_file of a software fence as a write",
	       label);
	t0 = now_ms();
	st = dmabuf_wait(fd, DMABUF_READ, 50);
	dt = now_ms() - t0;
	tap_ok(st == -ETIME && dt >= 50 && dmabuf_wait(fd, DMABUF_WRITE, 0) ==
	       -ETIME, "%s: a reader's wait times out (%d after %lld ms)",
	       label, st, dt);
	tap_ok(exported_status(fd, DMABUF_READ) == 0,
	       "%s: the sync_file exported for a reader is unsignalled", label);
	tap_ok(!dmabuf_engine_sw_signal(e, id, 0) &&
	       !dmabuf_wait(fd, DMABUF_READ, 5000) &&
	       exported_status(fd, DMABUF_READ) == 1,
	       "%s: signalled: wait returns 0, the sync_file is signalled",
	       label);

	id = add_fence(e, fd, DMABUF_READ);
	tap_ok(id && !dmabuf_wait(fd, DMABUF_READ, 0) &&
	       dmabuf_wait(fd, DMABUF_WRITE, 50) == -ETIME &&
	       exported_status(fd, DMABUF_READ) == 1 &&
	       exported_status(fd, DMABUF_WRITE) == 0,
	       "%s: a read fence blocks writers only", label);
	tap_ok(!dmabuf_engine_sw_signal(e, id, 0) &&
	       !dmabuf_wait(fd, DMABUF_WRITE, 5000),
	       "%s: signalled: a writer's wait returns 0", label);

	tap_ok(dmabuf_import_sync_file(fd, DMABUF_READ, fd) == -EINVAL,
	       "%s: importing a dma-buf as a sync_file is -EINVAL", label);

	/* CPU access waits for the fence: a child signals it 200 ms later */
	id = add_fence(e, fd, DMABUF_WRITE);
	pid = id ? sw_signal_later(e, id, 200) : -1;
	t0 = now_ms();
	st = pid > 0 ? dmabuf_sync_range(fd, DMABUF_READ | START, 0, 4096)
		     : -1;
	dt = now_ms() - t0;
	dmabuf_sync_range(fd, DMABUF_READ | END, 0, 4096);
	if (pid > 0)
		wait_child(pid);
	tap_ok(!st && dt >= 150,
	       "%s: sync_range begin waits for a write fence (%lld ms)",
	       label, dt);
}

static void check_source(int src, struct dmabuf_engine *e)
{
	const char *label = sources[src].label;
	struct dmabuf_allocator *a;
	char why[128];
	int ret, fd;

	ret = source_open(src, &a, why, sizeof(why));
	if (ret == -ENOENT) {
		skip_n(PER_SOURCE, why);
		return;
	}
	fd = ret ? ret : source_alloc(src, a, SIZE, "lib-buffer-test");
	tap_ok(fd >= 0, "%s: a %d-byte buffer (%d)", label, SIZE, fd);
	if (fd < 0) {
		skip_n(PER_SOURCE - 1, "no buffer");
		dmabuf_allocator_free(a);
		return;
	}
	check_sync_range(label, fd);
	check_implicit_sync(label, fd, e);
	close(fd);
	dmabuf_allocator_free(a);
}

int main(void)
{
	struct dmabuf_engine *e = NULL;
	int fds = count_fds(), src, ret;

	tap_plan(1 + PER_SOURCE * NR_SOURCES + 1);
	ret = dmabuf_engine_new(&e);
	if (!tap_ok(!ret, "engine_new (%d)", ret))
		return tap_done();
	for (src = 0; src < NR_SOURCES; src++)
		check_source(src, e);
	dmabuf_engine_free(e);
	tap_ok(count_fds() == fds, "no fd leaked (%d open)", fds);
	return tap_done();
}
