// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * sgbuf's simulated DMA consumer: one engine per open file of /dev/sgbuf.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/sgbuf.h>

#include "internal.h"

/* sgbuf's queue depth of a new engine (struct sgbuf_engine_config) */
#define ENGINE_DEFAULT_DEPTH 64

struct dmabuf_engine {
	int fd;
};

DMABUF_EXPORT int dmabuf_engine_new(struct dmabuf_engine **out)
{
	struct dmabuf_engine *e;
	struct sgbuf_info info;
	int fd, ret;

	if (!out)
		return -EINVAL;
	fd = open("/dev/sgbuf", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return errno == ENXIO || errno == ENODEV ? -ENOENT :
		       dmabuf_neg_errno();
	memset(&info, 0, sizeof(info));
	ret = dmabuf_ioctl(fd, SGBUF_IOCTL_GET_INFO, &info);
	if (!ret && !(info.caps & SGBUF_CAP_ENGINE))
		ret = -EOPNOTSUPP;
	e = ret ? NULL : malloc(sizeof(*e));
	if (!e) {
		close(fd);
		return ret ? ret : -ENOMEM;
	}
	e->fd = fd;
	*out = e;
	return 0;
}

DMABUF_EXPORT void dmabuf_engine_free(struct dmabuf_engine *engine)
{
	if (!engine)
		return;
	close(engine->fd);
	free(engine);
}

DMABUF_EXPORT int dmabuf_engine_fd(const struct dmabuf_engine *engine)
{
	return engine ? engine->fd : -EINVAL;
}

DMABUF_EXPORT int dmabuf_engine_import(struct dmabuf_engine *engine, int fd,
				       uint32_t flags, uint32_t *handle)
{
	struct sgbuf_import req;
	int ret;

	if (!engine || !handle ||
	    (flags & ~(DMABUF_IMPORT_DMA32 | DMABUF_IMPORT_NO_SYNC)))
		return -EINVAL;
	if (fd < 0)
		return -EBADF;
	memset(&req, 0, sizeof(req));
	req.fd = fd;
	if (flags & DMABUF_IMPORT_DMA32)
		req.flags |= SGBUF_IMPORT_DMA32;
	if (flags & DMABUF_IMPORT_NO_SYNC)
		req.flags |= SGBUF_IMPORT_NO_SYNC;
	ret = dmabuf_ioctl(engine->fd, SGBUF_IOCTL_IMPORT, &req);
	if (ret)
		return ret;
	*handle = req.handle;
	return 0;
}

DMABUF_EXPORT int dmabuf_engine_unimport(struct dmabuf_engine *engine,
					 uint32_t handle)
{
	struct sgbuf_unimport req;

	if (!engine)
		return -EINVAL;
	memset(&req, 0, sizeof(req));
	req.handle = handle;
	return dmabuf_ioctl(engine->fd, SGBUF_IOCTL_UNIMPORT, &req);
}

DMABUF_EXPORT int dmabuf_engine_submit(struct dmabuf_engine *engine,
				       const struct dmabuf_job *job,
				       uint64_t *seqno, int *out_fence_fd)
{
	struct sgbuf_submit req;
	int ret;

	if (!engine || !job || (job->flags & ~DMABUF_JOB_IN_FENCE) ||
	    !dmabuf_zeroed(job->reserved, sizeof(job->reserved)))
		return -EINVAL;
	if (job->flags & DMABUF_JOB_IN_FENCE) {
		/* the kernel would say -EINVAL for a closed fd */
		ret = dmabuf_fd_open(job->in_fence_fd);
		if (ret)
			return ret;
	}
	/* the op, handles and ranges are the kernel's to check */
	memset(&req, 0, sizeof(req));
	req.op = job->op;
	req.src = job->src;
	req.dst = job->dst;
	req.src_offset = job->src_offset;
	req.dst_offset = job->dst_offset;
	req.length = job->length;
	req.pattern = job->pattern;
	if (job->flags & DMABUF_JOB_IN_FENCE) {
		req.flags |= SGBUF_SUBMIT_IN_FENCE;
		req.in_fence_fd = job->in_fence_fd;
	}
	if (out_fence_fd)
		req.flags |= SGBUF_SUBMIT_OUT_FENCE;
	ret = dmabuf_ioctl(engine->fd, SGBUF_IOCTL_SUBMIT, &req);
	if (ret)
		return ret;
	if (seqno)
		*seqno = req.seqno;
	if (out_fence_fd)
		*out_fence_fd = req.out_fence_fd;
	return 0;
}

/*
 * A finished job's result. The module fills checksum64 only for CHECKSUM64
 * jobs (ABI 3), and checksum for both: the CRC-32, or checksum64's low 32
 * bits. A checksum64 of 0 has low bits 0 too, so falling back is exact.
 */
static uint64_t wait_checksum(const struct sgbuf_wait *req)
{
#ifdef SGBUF_JOB_CHECKSUM64
	if (req->checksum64)
		return req->checksum64;
#endif
	return req->checksum;
}

DMABUF_EXPORT int dmabuf_engine_wait(struct dmabuf_engine *engine,
				     uint64_t seqno, int timeout_ms,
				     uint64_t *checksum)
{
	int64_t deadline = dmabuf_deadline(timeout_ms);
	struct sgbuf_wait req;
	int ret;

	if (!engine)
		return -EINVAL;
	do {
		memset(&req, 0, sizeof(req));
		req.seqno = seqno;
		req.timeout_ns = dmabuf_left_ns(deadline);
		ret = ioctl(engine->fd, SGBUF_IOCTL_WAIT, &req);
	} while (ret == -1 && (errno == EINTR || errno == EAGAIN));
	if (ret)
		return dmabuf_neg_errno();
	if (req.status)
		return req.status;
	if (checksum)
		*checksum = wait_checksum(&req);
	return 0;
}

DMABUF_EXPORT int dmabuf_engine_configure(struct dmabuf_engine *engine,
				const struct dmabuf_engine_config *config)
{
	struct sgbuf_engine_config req;

	if (!engine || !config || config->flags ||
	    !dmabuf_zeroed(config->reserved, sizeof(config->reserved)))
		return -EINVAL;
	memset(&req, 0, sizeof(req));
	req.bandwidth = config->bandwidth;
	req.latency_ns = config->latency_ns;
	/* a zeroed config means the defaults: sgbuf's default depth */
	req.queue_depth = config->queue_depth ? config->queue_depth :
			  ENGINE_DEFAULT_DEPTH;
	req.fail_seqno = config->fail_seqno;
	req.fail_error = config->fail_error;
	return dmabuf_ioctl(engine->fd, SGBUF_IOCTL_ENGINE_CONFIG, &req);
}

DMABUF_EXPORT int dmabuf_engine_sw_fence(struct dmabuf_engine *engine,
					 uint32_t *id)
{
	struct sgbuf_sw_fence req;
	int ret;

	if (!engine || !id)
		return -EINVAL;
	memset(&req, 0, sizeof(req));
	ret = dmabuf_ioctl(engine->fd, SGBUF_IOCTL_SW_FENCE_CREATE, &req);
	if (ret)
		return ret;
	*id = req.id;
	return req.fence_fd;
}

DMABUF_EXPORT int dmabuf_engine_sw_signal(struct dmabuf_engine *engine,
					  uint32_t id, int error)
{
	struct sgbuf_sw_signal req;

	if (!engine || error > 0)
		return -EINVAL;
	memset(&req, 0, sizeof(req));
	req.id = id;
	req.error = error;
	return dmabuf_ioctl(engine->fd, SGBUF_IOCTL_SW_FENCE_SIGNAL, &req);
}
