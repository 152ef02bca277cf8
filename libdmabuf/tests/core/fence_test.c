// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Fence functions on fds that are not sync_files (-EINVAL) and on fds that
 * are not open (-EBADF), on the host. If the host can allocate a dma-buf,
 * the sync_file of an idle buffer is checked too.
 */
#include <errno.h>
#include <string.h>
#include <dmabuf/dmabuf.h>

#include "tap.h"
#include "helpers.h"

#define OPS 5

static void all_ops(int fd, int other, int want, const char *what)
{
	int ret;

	ret = dmabuf_fence_status(fd);
	tap_ok(ret == want, "fence_status(%s) is %d", what, ret);
	ret = dmabuf_fence_wait(fd, 0);
	tap_ok(ret == want, "fence_wait(%s, 0) is %d", what, ret);
	ret = dmabuf_fence_wait(fd, -1);
	tap_ok(ret == want, "fence_wait(%s, forever) is %d", what, ret);
	ret = dmabuf_fence_merge(fd, other);
	tap_ok(ret == want, "fence_merge(%s, other) is %d", what, ret);
	ret = dmabuf_fence_merge(other, fd);
	tap_ok(ret == want, "fence_merge(other, %s) is %d", what, ret);
}

#define IDLE 5

/* An idle dma-buf exports an already signalled sync_file. */
static void idle_buffer(void)
{
	struct dmabuf_allocator *a;
	int buf, sf, merged, i;

	if (dmabuf_allocator_new(DMABUF_BACKEND_AUTO, NULL, &a)) {
		for (i = 0; i < IDLE; i++)
			tap_skip("no usable dma-buf backend on this host");
		return;
	}
	buf = dmabuf_alloc(a, 4096, 0, NULL);
	tap_ok(buf >= 0, "alloc a buffer: %d", buf);
	sf = dmabuf_export_sync_file(buf, DMABUF_WRITE);
	tap_ok(sf >= 0, "export_sync_file of an idle buffer: %d", sf);
	tap_ok(dmabuf_fence_status(sf) == 1, "it is signalled");
	tap_ok(dmabuf_fence_wait(sf, 0) == 0, "fence_wait returns 0 at once");
	merged = dmabuf_fence_merge(sf, sf);
	tap_ok(merged >= 0 && dmabuf_fence_status(merged) == 1,
	       "merging it with itself gives a signalled sync_file");
	if (merged >= 0)
		close(merged);
	if (sf >= 0)
		close(sf);
	if (buf >= 0)
		close(buf);
	dmabuf_allocator_free(a);
}

int main(void)
{
	struct not_dmabuf n;
	int fds = count_fds(), i;

	tap_plan(5 * OPS + IDLE + 1);
	if (not_dmabuf_open(&n)) {
		tap_diag("cannot open the test fds: %s", strerror(errno));
		return 1;
	}
	for (i = 0; i < 3; i++)
		all_ops(n.fd[i], n.fd[(i + 1) % 3], -EINVAL, n.what[i]);
	all_ops(-1, n.fd[0], -EBADF, "fd -1");
	all_ops(closed_fd(), n.fd[0], -EBADF, "a closed fd");
	idle_buffer();
	not_dmabuf_close(&n);
	tap_ok(count_fds() == fds, "no fd leaked (%d open)", fds);
	return tap_done();
}
