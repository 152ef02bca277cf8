// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The layout of every public struct, fixed now that it is ABI: each
 * member's offset and type, each struct's size, and no implicit padding
 * (the members' sizes add up to the struct's). Checked at build time; the
 * run reports the same in TAP. check-holes.sh asks pahole about the
 * objects below too.
 */
#include <stddef.h>
#include <stdint.h>
#include <dmabuf/dmabuf.h>

#include "tap.h"

#define M(s, m) (((struct s *)0)->m)
#define MSIZE(s, m) sizeof(M(s, m))
#define AT(s, m, off) \
	_Static_assert(offsetof(struct s, m) == (off), #s "." #m " offset")
#define TYPE(s, m, t) \
	_Static_assert(_Generic(M(s, m), t: 1, default: 0), #s "." #m " type")
#define SIZE(s, n) _Static_assert(sizeof(struct s) == (n), #s " size")

/* struct dmabuf_caps: output, 160 bytes */
TYPE(dmabuf_caps, backend, uint32_t);
TYPE(dmabuf_caps, flags, uint32_t);
AT(dmabuf_caps, backend, 0);
AT(dmabuf_caps, flags, 4);
AT(dmabuf_caps, name, 8);
AT(dmabuf_caps, page_size, 72);
AT(dmabuf_caps, max_size, 80);
AT(dmabuf_caps, max_contig_size, 88);
AT(dmabuf_caps, reserved, 96);
SIZE(dmabuf_caps, 160);
_Static_assert(4 + 4 + 64 + 3 * 8 + MSIZE(dmabuf_caps, reserved) ==
	       sizeof(struct dmabuf_caps), "dmabuf_caps padding");

/* struct dmabuf_info: output, 184 bytes */
AT(dmabuf_info, size, 0);
AT(dmabuf_info, inode, 8);
AT(dmabuf_info, count, 16);
TYPE(dmabuf_info, count, int64_t);
AT(dmabuf_info, exporter, 24);
AT(dmabuf_info, name, 88);
AT(dmabuf_info, reserved, 120);
SIZE(dmabuf_info, 184);
_Static_assert(3 * 8 + 64 + DMABUF_NAME_MAX + MSIZE(dmabuf_info, reserved) ==
	       sizeof(struct dmabuf_info), "dmabuf_info padding");

/* struct dmabuf_job: input, 80 bytes */
TYPE(dmabuf_job, op, uint32_t);
TYPE(dmabuf_job, flags, uint32_t);
TYPE(dmabuf_job, in_fence_fd, int32_t);
AT(dmabuf_job, op, 0);
AT(dmabuf_job, flags, 4);
AT(dmabuf_job, src, 8);
AT(dmabuf_job, dst, 12);
AT(dmabuf_job, src_offset, 16);
AT(dmabuf_job, dst_offset, 24);
AT(dmabuf_job, length, 32);
AT(dmabuf_job, pattern, 40);
AT(dmabuf_job, in_fence_fd, 44);
AT(dmabuf_job, reserved, 48);
SIZE(dmabuf_job, 80);
_Static_assert(4 * 4 + 3 * 8 + 2 * 4 + MSIZE(dmabuf_job, reserved) ==
	       sizeof(struct dmabuf_job), "dmabuf_job padding");

/* struct dmabuf_engine_config: input, 64 bytes */
TYPE(dmabuf_engine_config, flags, uint32_t);
TYPE(dmabuf_engine_config, queue_depth, uint32_t);
TYPE(dmabuf_engine_config, fail_error, int32_t);
AT(dmabuf_engine_config, flags, 0);
AT(dmabuf_engine_config, queue_depth, 4);
AT(dmabuf_engine_config, bandwidth, 8);
AT(dmabuf_engine_config, latency_ns, 16);
AT(dmabuf_engine_config, fail_seqno, 24);
AT(dmabuf_engine_config, fail_error, 32);
AT(dmabuf_engine_config, reserved, 36);
SIZE(dmabuf_engine_config, 64);
_Static_assert(2 * 4 + 3 * 8 + 4 + MSIZE(dmabuf_engine_config, reserved) ==
	       sizeof(struct dmabuf_engine_config),
	       "dmabuf_engine_config padding");

/* struct dmabuf_frame: both ways, 104 bytes */
TYPE(dmabuf_frame, id, uint32_t);
TYPE(dmabuf_frame, flags, uint32_t);
TYPE(dmabuf_frame, buf_fd, int32_t);
TYPE(dmabuf_frame, fence_fd, int32_t);
AT(dmabuf_frame, id, 0);
AT(dmabuf_frame, flags, 4);
AT(dmabuf_frame, buf_fd, 8);
AT(dmabuf_frame, fence_fd, 12);
AT(dmabuf_frame, size, 16);
AT(dmabuf_frame, seq, 24);
AT(dmabuf_frame, timestamp_ns, 32);
AT(dmabuf_frame, user, 40);
AT(dmabuf_frame, reserved, 72);
SIZE(dmabuf_frame, 104);
_Static_assert(4 * 4 + 3 * 8 + 4 * 8 + MSIZE(dmabuf_frame, reserved) ==
	       sizeof(struct dmabuf_frame), "dmabuf_frame padding");

/* One object of each, for the debug information pahole reads. */
struct dmabuf_caps abi_caps;
struct dmabuf_info abi_info;
struct dmabuf_job abi_job;
struct dmabuf_engine_config abi_config;
struct dmabuf_frame abi_frame;

int main(void)
{
	tap_plan(5);
	tap_ok(sizeof(abi_caps) == 160, "struct dmabuf_caps: 160 bytes, no padding");
	tap_ok(sizeof(abi_info) == 184, "struct dmabuf_info: 184 bytes, no padding");
	tap_ok(sizeof(abi_job) == 80, "struct dmabuf_job: 80 bytes, no padding");
	tap_ok(sizeof(abi_config) == 64,
	       "struct dmabuf_engine_config: 64 bytes, no padding");
	tap_ok(sizeof(abi_frame) == 104, "struct dmabuf_frame: 104 bytes, no padding");
	return tap_done();
}
