// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Buffer operations on fds that are not dma-bufs (-EINVAL), on fds that
 * are not open (-EBADF), and with bad arguments (-EINVAL), on the host.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <dmabuf/dmabuf.h>

#include "tap.h"
#include "helpers.h"

#define OPS 11

/* Every buffer operation on @fd, each expected to return @want. */
static void all_ops(int fd, int want, const char *what)
{
	struct dmabuf_info info;
	char name[DMABUF_NAME_MAX];
	void *addr = NULL;
	int ret;

	memset(&info, 0x5a, sizeof(info));
	ret = dmabuf_get_info(fd, &info);
	tap_ok(ret == want && info.size == 0x5a5a5a5a5a5a5a5aULL,
	       "get_info(%s) is %d, info untouched", what, ret);
	ret = dmabuf_set_name(fd, "x");
	tap_ok(ret == want, "set_name(%s) is %d", what, ret);
	ret = dmabuf_get_name(fd, name, sizeof(name));
	tap_ok(ret == want, "get_name(%s) is %d", what, ret);
	ret = dmabuf_map(fd, DMABUF_RW, &addr, NULL);
	tap_ok(ret == want && !addr, "map(%s) is %d", what, ret);
	ret = dmabuf_sync_begin(fd, DMABUF_RW);
	tap_ok(ret == want, "sync_begin(%s) is %d", what, ret);
	ret = dmabuf_sync_end(fd, DMABUF_READ);
	tap_ok(ret == want, "sync_end(%s) is %d", what, ret);
	ret = dmabuf_sync_range(fd, DMABUF_WRITE | DMABUF_SYNC_START, 0, 1);
	tap_ok(ret == want, "sync_range(%s) is %d", what, ret);
	ret = dmabuf_wait(fd, DMABUF_READ, -1);
	tap_ok(ret == want, "wait(%s) is %d", what, ret);
	ret = dmabuf_export_sync_file(fd, DMABUF_READ);
	tap_ok(ret == want, "export_sync_file(%s) is %d", what, ret);
	ret = dmabuf_import_sync_file(fd, DMABUF_WRITE, fd);
	tap_ok(ret == want, "import_sync_file(%s) is %d", what, ret);
	ret = dmabuf_import_sync_file(fd, DMABUF_WRITE, -1);
	tap_ok(ret == want, "import_sync_file(%s, sync fd -1) is %d", what,
	       ret);
}

#define ARGS 18

static void bad_args(int fd)
{
	void *p;

	tap_ok(dmabuf_get_info(fd, NULL) == -EINVAL, "get_info: NULL info");
	tap_ok(dmabuf_set_name(fd, NULL) == -EINVAL, "set_name: NULL name");
	tap_ok(dmabuf_set_name(fd, "new\nline") == -EINVAL,
	       "set_name: non-printable name");
	tap_ok(dmabuf_set_name(fd, "0123456789abcdef0123456789abcdef") ==
	       -EINVAL, "set_name: 32-character name");
	tap_ok(dmabuf_get_name(fd, NULL, 32) == -EINVAL, "get_name: NULL name");
	tap_ok(dmabuf_map(fd, DMABUF_READ, NULL, NULL) == -EINVAL,
	       "map: NULL addr");
	tap_ok(dmabuf_map(fd, 0, &p, NULL) == -EINVAL, "map: access 0");
	tap_ok(dmabuf_map(fd, 4, &p, NULL) == -EINVAL, "map: unknown access");
	tap_ok(dmabuf_unmap(NULL, 4096) == -EINVAL, "unmap: NULL addr");
	tap_ok(dmabuf_sync_begin(fd, 8) == -EINVAL, "sync_begin: bad access");
	tap_ok(dmabuf_sync_range(fd, DMABUF_READ | DMABUF_SYNC_END, 0, 0) ==
	       -EINVAL, "sync_range: length 0");
	tap_ok(dmabuf_sync_range(fd, DMABUF_READ, 0, 1) == -EINVAL,
	       "sync_range: neither START nor END");
	tap_ok(dmabuf_sync_range(fd, DMABUF_RW | DMABUF_SYNC_START |
				 DMABUF_SYNC_END, 0, 1) == -EINVAL,
	       "sync_range: both START and END");
	tap_ok(dmabuf_sync_range(fd, DMABUF_SYNC_START, 0, 1) == -EINVAL,
	       "sync_range: no access");
	tap_ok(dmabuf_sync_range(fd, DMABUF_READ | DMABUF_SYNC_END | (1u << 7),
				 0, 1) == -EINVAL, "sync_range: unknown flag");
	tap_ok(dmabuf_wait(fd, 0, 0) == -EINVAL, "wait: access 0");
	tap_ok(dmabuf_export_sync_file(fd, 4) == -EINVAL,
	       "export_sync_file: unknown access");
	p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	tap_ok(p != MAP_FAILED && dmabuf_unmap(p, 0) == -EINVAL &&
	       !dmabuf_unmap(p, 4096), "unmap: size 0 is -EINVAL, then unmaps");
}

int main(void)
{
	struct not_dmabuf n;
	int fds = count_fds(), i;

	tap_plan(5 * OPS + 2 * ARGS + 1);
	if (not_dmabuf_open(&n)) {
		tap_diag("cannot open the test fds: %s", strerror(errno));
		return 1;
	}
	for (i = 0; i < 3; i++)
		all_ops(n.fd[i], -EINVAL, n.what[i]);
	all_ops(-1, -EBADF, "fd -1");
	all_ops(closed_fd(), -EBADF, "a closed fd");
	bad_args(n.fd[0]);
	bad_args(-1);
	not_dmabuf_close(&n);
	tap_ok(count_fds() == fds, "no fd leaked (%d open)", fds);
	return tap_done();
}
