// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Engine functions without an engine (-EINVAL), and dmabuf_engine_new()
 * without /dev/sgbuf (-ENOENT), on the host.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <dmabuf/dmabuf.h>

#include "tap.h"
#include "helpers.h"

int main(void)
{
	struct dmabuf_engine *e = (struct dmabuf_engine *)0x1;
	struct dmabuf_engine_config cfg;
	struct dmabuf_job job;
	uint64_t seqno = 7;
	int fds = count_fds(), fence = 7;
	uint32_t h = 7;

	tap_plan(12);
	tap_ok(dmabuf_engine_new(NULL) == -EINVAL, "engine_new: NULL out");
	if (access("/dev/sgbuf", F_OK) && errno == ENOENT)
		tap_ok(dmabuf_engine_new(&e) == -ENOENT &&
		       e == (struct dmabuf_engine *)0x1,
		       "engine_new without /dev/sgbuf is -ENOENT");
	else
		tap_skip("/dev/sgbuf exists on this host");
	dmabuf_engine_free(NULL);
	tap_ok(1, "engine_free(NULL) is a no-op");
	tap_ok(dmabuf_engine_fd(NULL) == -EINVAL, "engine_fd(NULL)");
	tap_ok(dmabuf_engine_import(NULL, 0, 0, &h) == -EINVAL && h == 7,
	       "engine_import(NULL)");
	tap_ok(dmabuf_engine_unimport(NULL, 1) == -EINVAL,
	       "engine_unimport(NULL)");
	memset(&job, 0, sizeof(job));
	job.op = DMABUF_JOB_FILL;
	tap_ok(dmabuf_engine_submit(NULL, &job, &seqno, &fence) == -EINVAL &&
	       seqno == 7 && fence == 7, "engine_submit(NULL)");
	tap_ok(dmabuf_engine_wait(NULL, 1, 0, &seqno) == -EINVAL,
	       "engine_wait(NULL)");
	memset(&cfg, 0, sizeof(cfg));
	tap_ok(dmabuf_engine_configure(NULL, &cfg) == -EINVAL,
	       "engine_configure(NULL)");
	tap_ok(dmabuf_engine_sw_fence(NULL, &h) == -EINVAL,
	       "engine_sw_fence(NULL)");
	tap_ok(dmabuf_engine_sw_signal(NULL, 1, 0) == -EINVAL,
	       "engine_sw_signal(NULL)");
	tap_ok(count_fds() == fds, "no fd leaked (%d open)", fds);
	return tap_done();
}
