// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * dmabuf pipe: the DMA stage, between the producer and the consumer.
 *
 * It imports the producer's buffers (as they first arrive) and its own
 * destination pool into an sgbuf engine. For each frame it takes a free
 * destination buffer and submits a COPY from the frame to it, waiting in
 * the engine for the frame's fence and the destination's release fence
 * (merged); it releases the source with the job's out-fence and sends the
 * destination downstream with it. The CPU never touches the bytes here.
 *
 * Checksum mode adds a CHECKSUM job on the destination (it runs after the
 * copy: same engine, in order); the stage waits for its CRC-32 and sends
 * it in the frame, whose fence is the copy's (or, if the checksum job
 * failed, the checksum's), so that a failed job fails the frame.
 *
 * Cpu mode has no engine: the stage copies with memcpy() between the two
 * mappings, for systems without sgbuf and for comparison.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pipe.h"

#define MAX_SLOTS DMABUF_CHANNEL_MAX_BUFFERS

struct dma_stage {
	const struct pipe_opts *o;
	struct dmabuf_channel *in, *out;
	struct dmabuf_engine *engine;	/* NULL in cpu mode */
	uint32_t src[MAX_SLOTS];	/* import handles by slot */
	uint32_t dst[MAX_SLOTS];
	void *src_map[MAX_SLOTS], *dst_map[MAX_SLOTS];	/* cpu mode */
	size_t src_len[MAX_SLOTS], dst_len[MAX_SLOTS];
};

static int configure_failure(struct dma_stage *d)
{
	/* zero: the defaults (queue depth 64 and so on) */
	struct dmabuf_engine_config cfg = { 0 };
	uint64_t jobs_per_frame = d->o->mode == MODE_CHECKSUM ? 2 : 1;
	int ret;

	if (d->o->fail_frame < 0)
		return 0;
	/* the copy of frame N is job N * jobs_per_frame + 1 */
	cfg.fail_seqno = (uint64_t)d->o->fail_frame * jobs_per_frame + 1;
	ret = dmabuf_engine_configure(d->engine, &cfg);
	return ret < 0 ? pipe_fail("cannot configure the engine", ret) : 0;
}

/* Imports @fd or maps it (cpu mode) for slot @id. */
static int attach_buffer(struct dma_stage *d, int fd, uint32_t id, bool dst)
{
	if (id >= MAX_SLOTS)
		return -EPROTO;
	if (d->engine) {
		uint32_t *handle = dst ? &d->dst[id] : &d->src[id];

		return *handle ? 0 : dmabuf_engine_import(d->engine, fd, 0,
							  handle);
	}
	if (dst)
		return d->dst_map[id] ? 0 : dmabuf_map(fd, DMABUF_RW,
						       &d->dst_map[id],
						       &d->dst_len[id]);
	return d->src_map[id] ? 0 : dmabuf_map(fd, DMABUF_READ, &d->src_map[id],
					       &d->src_len[id]);
}

static int attach_fail(const struct dma_stage *d, int err)
{
	if (!d->engine)
		return pipe_fail("cannot map a frame buffer", err);
	if (err != -EIO && err != -ENOMEM)
		return pipe_fail("cannot import a frame buffer", err);
	pipe_err("cannot import a frame buffer into the engine: %s (the DMA "
		 "mapping failed: out of swiotlb or IOMMU space? try a smaller "
		 "--pool or frame)", strerror(-err));
	return EXIT_FAIL;
}

static int dst_pool(struct dma_stage *d)
{
	struct dmabuf_allocator *alloc;
	char name[DMABUF_NAME_MAX];
	int fd, ret = 0;
	uint32_t id;
	uint64_t i;

	if (open_allocator(&d->o->backend, &alloc) < 0)
		return EXIT_FAIL;
	for (i = 0; i < d->o->pool && !ret; i++) {
		snprintf(name, sizeof(name), "pipe-dst-%" PRIu64, i);
		fd = dmabuf_alloc(alloc, d->o->frame_len, 0, name);
		if (fd < 0) {
			ret = pipe_fail("cannot allocate a frame buffer", fd);
			break;
		}
		ret = dmabuf_channel_add_buffer(d->out, fd, &id);
		if (!ret)
			ret = attach_buffer(d, fd, id, true);
		close(fd);
		if (ret < 0)
			ret = attach_fail(d, ret);
	}
	dmabuf_allocator_free(alloc);
	return ret;
}

/* *@out: one fence for both (owned), -1 if neither; closes @a and @b. */
static int merge_fences(int a, int b, int *out)
{
	int m;

	if (a < 0 || b < 0) {
		*out = a < 0 ? b : a;
		return 0;
	}
	m = dmabuf_fence_merge(a, b);
	close(a);
	close(b);
	*out = m;
	return m < 0 ? m : 0;
}

static int submit(struct dma_stage *d, const struct dmabuf_job *job,
		  uint64_t *seqno, int *fence)
{
	uint64_t deadline = now_ns() + (uint64_t)d->o->timeout_ms * 1000000;
	struct timespec ms = { .tv_nsec = 1000000 };
	int ret;

	/* a full queue (EBUSY) drains by itself */
	while ((ret = dmabuf_engine_submit(d->engine, job, seqno, fence)) ==
	       -EBUSY && now_ns() < deadline)
		nanosleep(&ms, NULL);
	return ret;
}

/*
 * CRC-32 of @dst once the copy with fence @copy_fence (borrowed) is done.
 * The frame's fence is the copy's, or the checksum's if that job failed:
 * not their merge, which keeps only the later of two fences of one engine
 * (dma_fence_unwrap_merge()), and so would drop a failed copy's error.
 */
static int engine_checksum(struct dma_stage *d, struct dmabuf_frame *dst,
			   int copy_fence)
{
	struct dmabuf_job job = { .op = DMABUF_JOB_CHECKSUM,
		.src = d->dst[dst->id], .length = d->o->frame_len };
	uint64_t seqno, crc = 0;
	int ret, fence;

	ret = submit(d, &job, &seqno, &fence);
	if (ret < 0)
		return ret;
	ret = dmabuf_engine_wait(d->engine, seqno, d->o->timeout_ms, &crc);
	if (ret == -ETIME) {
		close(fence);
		return ret;
	}
	dst->user[U2_ENGINE_CRC] = crc;
	dst->fence_fd = ret < 0 ? fence : dup(copy_fence);
	if (ret == 0)
		close(fence);
	return dst->fence_fd < 0 ? -errno : 0;
}

/* Copies @src into @dst; *@release: the copy's fence (owned). */
static int engine_copy(struct dma_stage *d, const struct dmabuf_frame *src,
		       struct dmabuf_frame *dst, int in_fence, int *release)
{
	struct dmabuf_job job = { .op = DMABUF_JOB_COPY, .src = d->src[src->id],
		.dst = d->dst[dst->id], .length = d->o->frame_len };
	int ret;

	if (in_fence >= 0) {
		job.flags = DMABUF_JOB_IN_FENCE;
		job.in_fence_fd = in_fence;
	}
	ret = submit(d, &job, NULL, release);
	if (ret < 0)
		return ret;
	if (d->o->mode == MODE_CHECKSUM)
		return engine_checksum(d, dst, *release);
	dst->fence_fd = dup(*release);
	return dst->fence_fd < 0 ? -errno : 0;
}

static int cpu_copy(struct dma_stage *d, const struct dmabuf_frame *src,
		    struct dmabuf_frame *dst, int in_fence)
{
	int ret = 0;

	if (in_fence >= 0) {
		ret = dmabuf_fence_wait(in_fence, d->o->timeout_ms);
		if (ret == -ETIME)
			return ret;
	}
	ret = dmabuf_sync_begin(src->buf_fd, DMABUF_READ);
	if (!ret)
		ret = dmabuf_sync_begin(dst->buf_fd, DMABUF_WRITE);
	if (ret < 0)
		return ret;
	memcpy(d->dst_map[dst->id], d->src_map[src->id], d->o->frame_len);
	ret = dmabuf_sync_end(dst->buf_fd, DMABUF_WRITE);
	if (!ret)
		ret = dmabuf_sync_end(src->buf_fd, DMABUF_READ);
	return ret;
}

/* Moves frame @src into a free destination buffer and passes it on. */
static int forward(struct dma_stage *d, const struct dmabuf_frame *src)
{
	struct dmabuf_frame dst;
	int ret, in_fence, dst_free, release = -1;

	/* the destination's release fence: the engine waits for it */
	ret = dmabuf_channel_acquire(d->out, d->o->timeout_ms, &dst, &dst_free);
	if (ret < 0)
		return pipe_fail("waiting for a free destination buffer", ret);
	ret = attach_buffer(d, src->buf_fd, src->id, false);
	if (ret < 0) {
		if (dst_free >= 0)
			close(dst_free);
		return attach_fail(d, ret);
	}
	ret = merge_fences(src->fence_fd, dst_free, &in_fence);
	if (ret < 0)
		return pipe_fail("cannot merge fences", ret);
	if (d->engine)
		ret = engine_copy(d, src, &dst, in_fence, &release);
	else
		ret = cpu_copy(d, src, &dst, in_fence);
	if (in_fence >= 0)
		close(in_fence);
	if (ret < 0) {
		if (release >= 0)
			close(release);
		return pipe_fail("copying a frame", ret);
	}
	ret = dmabuf_channel_release(d->in, src->id, release);
	if (release >= 0)
		close(release);
	if (ret < 0)
		return pipe_fail("releasing a frame", ret);
	dst.seq = src->seq;
	dst.user[U2_SENT] = src->timestamp_ns;
	dst.user[U2_START] = src->user[U1_START];
	dst.user[U2_CRC] = src->user[U1_CRC];
	ret = dmabuf_channel_send(d->out, &dst);
	if (dst.fence_fd >= 0)
		close(dst.fence_fd);
	return ret < 0 ? pipe_fail("sending a frame", ret) : 0;
}

static int forward_all(struct dma_stage *d)
{
	struct dmabuf_frame fr;
	int ret;

	for (;;) {
		ret = dmabuf_channel_receive(d->in, d->o->timeout_ms, &fr);
		if (ret == 0)
			break;
		if (ret < 0)
			return pipe_fail("receiving a frame", ret);
		ret = forward(d, &fr);
		if (ret)
			return ret;
	}
	return 0;
}

static int dma_setup(struct dma_stage *d, int in_sock, int out_sock)
{
	int ret;

	ret = dmabuf_channel_new(in_sock, DMABUF_CHANNEL_CONSUMER, &d->in);
	if (ret < 0) {
		close(in_sock);
		close(out_sock);
		return pipe_fail("cannot create the channel", ret);
	}
	ret = dmabuf_channel_new(out_sock, DMABUF_CHANNEL_PRODUCER, &d->out);
	if (ret < 0) {
		close(out_sock);
		return pipe_fail("cannot create the channel", ret);
	}
	if (d->o->mode != MODE_CPU) {
		ret = dmabuf_engine_new(&d->engine);
		if (ret < 0)
			return pipe_fail("cannot open the engine", ret);
		ret = configure_failure(d);
		if (ret)
			return ret;
	}
	return dst_pool(d);
}

static void dma_teardown(struct dma_stage *d)
{
	size_t i;

	for (i = 0; i < MAX_SLOTS; i++) {
		if (d->src_map[i])
			dmabuf_unmap(d->src_map[i], d->src_len[i]);
		if (d->dst_map[i])
			dmabuf_unmap(d->dst_map[i], d->dst_len[i]);
	}
	dmabuf_engine_free(d->engine);
	dmabuf_channel_free(d->out);
	dmabuf_channel_free(d->in);
}

int run_dma_stage(const struct pipe_opts *o, int in_sock, int out_sock)
{
	struct dma_stage d = { .o = o };
	int ret;

	ret = dma_setup(&d, in_sock, out_sock);
	if (!ret)
		ret = forward_all(&d);
	if (!ret)
		ret = pipe_drain(o, d.out);
	dma_teardown(&d);
	return ret;
}
