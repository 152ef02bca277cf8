// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Allocator argument checks and missing backends, on the host (no kernel
 * module needed). A backend the host happens to have is exercised too,
 * but nothing depends on one existing.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <dmabuf/dmabuf.h>

#include "tap.h"
#include "helpers.h"

#define SENTINEL ((struct dmabuf_allocator *)0x1)

static void check_args(void)
{
	static const char *const bad_heaps[] = {
		"", "..", ".", "a/b", "../system",
		"0123456789012345678901234567890123456789012345678901234567890123",
	};
	struct dmabuf_allocator *a = SENTINEL;
	struct dmabuf_caps caps;
	unsigned int i;

	tap_ok(dmabuf_allocator_new(DMABUF_BACKEND_AUTO, NULL, NULL) == -EINVAL,
	       "allocator_new: NULL out is -EINVAL");
	tap_ok(dmabuf_allocator_new((enum dmabuf_backend)99, NULL, &a) ==
	       -EINVAL, "allocator_new: unknown backend is -EINVAL");
	tap_ok(dmabuf_allocator_new(DMABUF_BACKEND_SGBUF, "system", &a) ==
	       -EINVAL, "allocator_new: a heap name with SGBUF is -EINVAL");
	tap_ok(dmabuf_allocator_new(DMABUF_BACKEND_AUTO, "system", &a) ==
	       -EINVAL, "allocator_new: a heap name with AUTO is -EINVAL");
	tap_ok(dmabuf_allocator_new(DMABUF_BACKEND_UDMABUF, "x", &a) == -EINVAL,
	       "allocator_new: a heap name with UDMABUF is -EINVAL");
	for (i = 0; i < sizeof(bad_heaps) / sizeof(bad_heaps[0]); i++)
		tap_ok(dmabuf_allocator_new(DMABUF_BACKEND_HEAP, bad_heaps[i],
					    &a) == -EINVAL,
		       "allocator_new: heap name \"%.20s\" is -EINVAL",
		       bad_heaps[i]);
	tap_ok(dmabuf_allocator_new(DMABUF_BACKEND_HEAP,
				    "libdmabuf-no-such-heap", &a) == -ENOENT,
	       "allocator_new: a heap that does not exist is -ENOENT");
	tap_ok(a == SENTINEL, "allocator_new: failures leave *out alone");
	tap_ok(dmabuf_allocator_caps(NULL, &caps) == -EINVAL,
	       "allocator_caps: NULL allocator is -EINVAL");
	tap_ok(dmabuf_alloc(NULL, 4096, 0, NULL) == -EINVAL,
	       "alloc: NULL allocator is -EINVAL");
	dmabuf_allocator_free(NULL);
	tap_ok(1, "allocator_free(NULL) is a no-op");
}

static void check_missing(void)
{
	struct dmabuf_allocator *a = SENTINEL;

	if (access("/dev/sgbuf", F_OK) && errno == ENOENT)
		tap_ok(dmabuf_allocator_new(DMABUF_BACKEND_SGBUF, NULL, &a) ==
		       -ENOENT && a == SENTINEL,
		       "allocator_new: SGBUF without /dev/sgbuf is -ENOENT");
	else
		tap_skip("/dev/sgbuf exists on this host");
	if (access("/dev/udmabuf", F_OK) && errno == ENOENT)
		tap_ok(dmabuf_allocator_new(DMABUF_BACKEND_UDMABUF, NULL, &a) ==
		       -ENOENT && a == SENTINEL,
		       "allocator_new: UDMABUF without /dev/udmabuf is -ENOENT");
	else
		tap_skip("/dev/udmabuf exists on this host");
}

#define HOST_TESTS 10

/* Whatever AUTO finds, if anything: argument checks of dmabuf_alloc(). */
static void check_host_backend(void)
{
	struct dmabuf_allocator *a = NULL;
	struct dmabuf_caps caps;
	struct dmabuf_info info;
	int ret, fd, i;

	ret = dmabuf_allocator_new(DMABUF_BACKEND_AUTO, NULL, &a);
	if (ret) {
		tap_ok(ret == -ENOENT || ret == -EACCES || ret == -EPERM,
		       "allocator_new: AUTO on this host: %s", strerror(-ret));
		for (i = 1; i < HOST_TESTS; i++)
			tap_skip("no usable dma-buf backend on this host");
		return;
	}
	tap_ok(!dmabuf_allocator_caps(a, &caps) &&
	       caps.backend != DMABUF_BACKEND_AUTO && caps.name[0],
	       "allocator_new: AUTO found %s", caps.name);
	tap_ok(caps.page_size == (uint64_t)sysconf(_SC_PAGESIZE),
	       "caps: page size %llu", (unsigned long long)caps.page_size);
	memset(&caps, 0x5a, sizeof(caps));
	tap_ok(!dmabuf_allocator_caps(a, &caps) && !caps.reserved[0] &&
	       !caps.reserved[7], "caps: reserved words zeroed");
	tap_ok(dmabuf_allocator_caps(a, NULL) == -EINVAL,
	       "allocator_caps: NULL caps is -EINVAL");
	tap_ok(dmabuf_alloc(a, 0, 0, NULL) == -EINVAL, "alloc: size 0 is -EINVAL");
	tap_ok(dmabuf_alloc(a, 4096, 1u << 7, NULL) == -EINVAL,
	       "alloc: unknown flag is -EINVAL");
	tap_ok(dmabuf_alloc(a, 4096, 0, "tab\tname") == -EINVAL,
	       "alloc: a non-printable name is -EINVAL");
	tap_ok(dmabuf_alloc(a, 4096, 0, "0123456789abcdef0123456789abcdef")
	       == -EINVAL, "alloc: a 32-character name is -EINVAL");
	tap_ok(dmabuf_alloc(a, UINT64_MAX, 0, NULL) == -EFBIG,
	       "alloc: a size that overflows rounding is -EFBIG");
	fd = dmabuf_alloc(a, 1, 0, "host-test");
	tap_ok(fd >= 0 && !dmabuf_get_info(fd, &info) &&
	       info.size == caps.page_size && !strcmp(info.name, "host-test"),
	       "alloc: 1 byte is one named page");
	if (fd >= 0)
		close(fd);
	dmabuf_allocator_free(a);
}

int main(void)
{
	int fds = count_fds();

	tap_plan(16 + 2 + HOST_TESTS + 1);
	check_args();
	check_missing();
	check_host_backend();
	tap_ok(count_fds() == fds, "no fd leaked (%d open)", fds);
	return tap_done();
}
