// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * sync_file functions with software fences of sgbuf's engine: status,
 * wait with and without timeout, errors, merge, cancellation.
 */
#include "guest.h"

static void check_one(struct dmabuf_engine *e)
{
	long long t0, dt;
	uint32_t id = 0;
	pid_t pid;
	int sf, ret;

	sf = dmabuf_engine_sw_fence(e, &id);
	tap_ok(sf >= 0 && id && (fcntl(sf, F_GETFD) & FD_CLOEXEC),
	       "sw_fence: a sync_file with FD_CLOEXEC, id %u", id);
	tap_ok(dmabuf_fence_status(sf) == 0,
	       "an unsignalled fence's status is 0");
	tap_ok(dmabuf_fence_wait(sf, 0) == -ETIME, "fence_wait(0) is -ETIME");
	t0 = now_ms();
	ret = dmabuf_fence_wait(sf, 100);
	dt = now_ms() - t0;
	tap_ok(ret == -ETIME && dt >= 100 && dt < 5000,
	       "fence_wait(100) is -ETIME after %lld ms", dt);
	/* a child shares the engine's file and signals 200 ms later */
	pid = sw_signal_later(e, id, 200);
	t0 = now_ms();
	ret = dmabuf_fence_wait(sf, -1);
	dt = now_ms() - t0;
	if (pid > 0)
		wait_child(pid);
	tap_ok(pid > 0 && ret == 0 && dt >= 150,
	       "fence_wait(forever) returns 0 once signalled (%lld ms)", dt);
	tap_ok(dmabuf_fence_status(sf) == 1, "a signalled fence's status is 1");
	tap_ok(dmabuf_engine_sw_signal(e, id, 0) == -ENOENT,
	       "sw_signal of a signalled fence is -ENOENT");
	tap_ok(dmabuf_engine_sw_signal(e, 0xfffffff0u, 0) == -ENOENT,
	       "sw_signal of an unknown id is -ENOENT");
	close(sf);
}

static void check_errors(struct dmabuf_engine *e)
{
	uint32_t id1 = 0, id2 = 0;
	int sf1, sf2;

	sf1 = dmabuf_engine_sw_fence(e, &id1);
	sf2 = dmabuf_engine_sw_fence(e, &id2);
	tap_ok(dmabuf_engine_sw_signal(e, id1, 5) == -EINVAL,
	       "sw_signal with a positive error is -EINVAL");
	tap_ok(!dmabuf_engine_sw_signal(e, id1, -EIO) &&
	       dmabuf_fence_status(sf1) == -EIO &&
	       dmabuf_fence_wait(sf1, 1000) == -EIO,
	       "a fence signalled with -EIO: status and wait are -EIO");
	tap_ok(!dmabuf_engine_sw_signal(e, id2, -ENOSPC) &&
	       dmabuf_fence_wait(sf2, -1) == -ENOSPC,
	       "a fence signalled with -ENOSPC: wait is -ENOSPC");
	close(sf1);
	close(sf2);
}

static void check_merge(struct dmabuf_engine *e)
{
	uint32_t id1 = 0, id2 = 0, id3 = 0;
	int sf1, sf2, sf3, m, m2;

	sf1 = dmabuf_engine_sw_fence(e, &id1);
	sf2 = dmabuf_engine_sw_fence(e, &id2);
	m = dmabuf_fence_merge(sf1, sf2);
	tap_ok(m >= 0 && (fcntl(m, F_GETFD) & FD_CLOEXEC) &&
	       dmabuf_fence_status(m) == 0,
	       "fence_merge: an unsignalled sync_file with FD_CLOEXEC");
	tap_ok(!dmabuf_engine_sw_signal(e, id1, 0) &&
	       dmabuf_fence_status(m) == 0 &&
	       dmabuf_fence_wait(m, 20) == -ETIME,
	       "one of two signalled: the merge is still unsignalled");
	tap_ok(!dmabuf_engine_sw_signal(e, id2, 0) &&
	       dmabuf_fence_wait(m, 1000) == 0 && dmabuf_fence_status(m) == 1,
	       "both signalled: the merge is signalled");
	sf3 = dmabuf_engine_sw_fence(e, &id3);
	m2 = dmabuf_fence_merge(m, sf3);
	tap_ok(m2 >= 0 && !dmabuf_engine_sw_signal(e, id3, -EIO) &&
	       dmabuf_fence_wait(m2, 1000) == -EIO &&
	       dmabuf_fence_status(m2) == -EIO,
	       "a merge with a failed fence carries its error");
	tap_ok(dmabuf_fence_merge(sf1, e ? dmabuf_engine_fd(e) : -1) == -EINVAL,
	       "merging with a non-sync_file is -EINVAL");
	close(sf1);
	close(sf2);
	close(sf3);
	close(m);
	if (m2 >= 0)
		close(m2);
}

int main(void)
{
	struct dmabuf_engine *e = NULL, *e2 = NULL;
	int fds = count_fds(), sf, ret;
	uint32_t id;

	tap_plan(1 + 8 + 3 + 5 + 1 + 1);
	ret = dmabuf_engine_new(&e);
	if (!tap_ok(!ret, "engine_new (%d)", ret))
		return tap_done();
	check_one(e);
	check_errors(e);
	check_merge(e);

	/* freeing the engine cancels its unsignalled fences */
	sf = dmabuf_engine_new(&e2) ? -1 : dmabuf_engine_sw_fence(e2, &id);
	dmabuf_engine_free(e2);
	tap_ok(sf >= 0 && dmabuf_fence_wait(sf, 1000) == -ECANCELED,
	       "engine_free signals its fences with -ECANCELED");
	if (sf >= 0)
		close(sf);
	dmabuf_engine_free(e);
	tap_ok(count_fds() == fds, "no fd leaked (%d open)", fds);
	return tap_done();
}
