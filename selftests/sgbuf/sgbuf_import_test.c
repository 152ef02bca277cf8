// SPDX-License-Identifier: GPL-2.0
/*
 * sgbuf buffers imported by in-kernel drivers:
 *  - vgem (DRM PRIME import: attach + map_dma_buf, lifetime through the
 *    importer, SYNC with an attachment);
 *  - vivid video capture with V4L2_MEMORY_DMABUF (vb2-vmalloc imports with
 *    dma_buf_vmap(), so the driver writes frames through our vmap).
 * Each test skips, saying why, when the driver is not loaded.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <sys/wait.h>
#include <linux/videodev2.h>
#include <xf86drm.h>
#include <vgem_drm.h>

#include "common.h"
#include "drivers.h"
#include "harness.h"


static int gem_close(int drm, uint32_t handle)
{
	struct drm_gem_close c = { .handle = handle };

	return ioctl(drm, DRM_IOCTL_GEM_CLOSE, &c) ? -errno : 0;
}

FIXTURE(vgem) {
	SGBUF_FIXTURE_FIELDS;
	int drm;
};

FIXTURE_SETUP(vgem)
{
	SGBUF_FIXTURE_SETUP(self);
	self->drm = open_vgem();
	if (self->drm < 0)
		SKIP(return, "no vgem DRM node (vgem module not loaded)");
}

FIXTURE_TEARDOWN(vgem)
{
	SGBUF_FIXTURE_TEARDOWN(self);	/* also closes the DRM fd */
}

TEST_F(vgem, prime_import)
{
	const size_t size = SZ_1M;
	struct drm_mode_map_dumb md;
	uint32_t handle, handle2;
	struct stat st, st2;
	struct sgbuf_info i;
	int fd, fd2, ret;
	char *p;

	fd = sgbuf_alloc(self->dev, size, 0, O_RDWR | O_CLOEXEC, "vgem import");
	ASSERT_LE(0, fd) TH_LOG("%s", strerror(-fd));
	ASSERT_EQ(0, fstat(fd, &st));
	EXPECT_EQ(0, bufinfo_attachments(fd));

	p = map_buf(fd, size, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, dmabuf_sync(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE));
	pattern_fill(p, size, 0x1234);
	ASSERT_EQ(0, dmabuf_sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE));

	/* Import: vgem attaches and maps the sg table. */
	ret = drmPrimeFDToHandle(self->drm, fd, &handle);
	ASSERT_EQ(0, ret) TH_LOG("drmPrimeFDToHandle: %s", strerror(errno));
	ret = bufinfo_attachments(fd);
	EXPECT_EQ(1, ret) TH_LOG("attachments after import: %d", ret);

	/* Importing again gives the same object, no second attachment. */
	ASSERT_EQ(0, drmPrimeFDToHandle(self->drm, fd, &handle2));
	EXPECT_EQ(handle, handle2);
	EXPECT_EQ(1, bufinfo_attachments(fd));

	/* Re-export gives back the very same dma-buf. */
	ASSERT_EQ(0, drmPrimeHandleToFD(self->drm, handle, DRM_CLOEXEC, &fd2));
	ASSERT_EQ(0, fstat(fd2, &st2));
	EXPECT_EQ(st.st_ino, st2.st_ino);
	EXPECT_EQ(st.st_dev, st2.st_dev);
	ASSERT_EQ(0, close(fd2));

	/*
	 * Read back through vgem's own mapping if DRM allows it. The DRM core
	 * refuses MAP_DUMB on imported objects (drm_gem_dumb_map_offset()),
	 * so on 6.1/6.12 this is expected to be EINVAL.
	 */
	memset(&md, 0, sizeof(md));
	md.handle = handle;
	ret = ioctl(self->drm, DRM_IOCTL_MODE_MAP_DUMB, &md) ? -errno : 0;
	if (!ret) {
		char *q = mmap(NULL, size, PROT_READ, MAP_SHARED, self->drm,
			       md.offset);

		ASSERT_NE(MAP_FAILED, q) TH_LOG("%s", strerror(errno));
		EXPECT_EQ(-1, pattern_check(q, size, 0x1234));
		ASSERT_EQ(0, munmap(q, size));
	} else {
		EXPECT_EQ(-EINVAL, ret) TH_LOG("MAP_DUMB: %s", strerror(-ret));
		TH_LOG("DRM does not mmap imported objects; data checked through the exporter");
	}

	/* CPU access with an importer attached. */
	ret = dmabuf_sync(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW);
	EXPECT_EQ(0, ret) TH_LOG("SYNC START RW attached: %s", strerror(-ret));
	EXPECT_EQ(-1, pattern_check(p, size, 0x1234));
	pattern_fill(p, size, 0x4321);
	ret = dmabuf_sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW);
	EXPECT_EQ(0, ret) TH_LOG("SYNC END RW attached: %s", strerror(-ret));
	EXPECT_EQ(0, dmabuf_sync(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ));
	EXPECT_EQ(-1, pattern_check(p, size, 0x4321));
	EXPECT_EQ(0, dmabuf_sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ));
	ASSERT_EQ(0, munmap(p, size));

	/* The importer alone keeps the buffer alive. */
	ASSERT_EQ(0, close(fd));
	EXPECT_EQ(self->bufinfo_base + 1, bufinfo_count());
	ASSERT_EQ(0, sgbuf_get_info(self->dev, &i));
	EXPECT_EQ(self->info_base.live_buffers + 1, i.live_buffers);

	/* One GEM_CLOSE drops the handle (both imports share it). */
	ASSERT_EQ(0, gem_close(self->drm, handle));
	EXPECT_EQ(self->bufinfo_base, bufinfo_count());
	ASSERT_EQ(0, sgbuf_get_info(self->dev, &i));
	EXPECT_EQ(self->info_base.live_buffers, i.live_buffers);
	EXPECT_EQ(self->info_base.total_size, i.total_size);
}

/*
 * A vgem fence attached to the imported object lands in the buffer's
 * reservation object. While it is pending, poll() must not report the
 * buffer readable, and DMA_BUF_IOCTL_SYNC START must block (sgbuf waits
 * before it syncs bounce buffers back); signalling it releases both.
 */
TEST_F(vgem, sync_start_waits_for_write_fence)
{
	const unsigned long long start_flags[] = {
		DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ,
		DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW,
	};
	unsigned int i;
	uint32_t handle;
	int fd, ret;

	fd = sgbuf_alloc_rw(self->dev, SZ_64K);
	ASSERT_LE(0, fd) TH_LOG("alloc: %s", strerror(-fd));
	ASSERT_EQ(0, drmPrimeFDToHandle(self->drm, fd, &handle));

	for (i = 0; i < ARRAY_SIZE(start_flags); i++) {
		struct drm_vgem_fence_attach att = {
			.handle = handle,
			.flags = VGEM_FENCE_WRITE,
		};
		struct drm_vgem_fence_signal sig = { 0 };
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int pipefd[2], status;
		pid_t pid;
		char c;

		ASSERT_EQ(0, ioctl(self->drm, DRM_IOCTL_VGEM_FENCE_ATTACH, &att))
			TH_LOG("VGEM_FENCE_ATTACH: %s", strerror(errno));
		EXPECT_EQ(0, poll(&pfd, 1, 0)) TH_LOG("readable with a writer pending");

		ASSERT_EQ(0, pipe2(pipefd, O_CLOEXEC));
		pid = fork();
		ASSERT_LE(0, pid);
		if (pid == 0) {
			struct dma_buf_sync s = { .flags = start_flags[i] };

			/* Tell the parent we are about to block, then block. */
			if (write(pipefd[1], "x", 1) != 1)
				_exit(2);
			_exit(ioctl(fd, DMA_BUF_IOCTL_SYNC, &s) ? 1 : 0);
		}
		ASSERT_EQ(1, read(pipefd[0], &c, 1));
		usleep(300 * 1000);
		EXPECT_EQ(0, waitpid(pid, &status, WNOHANG))
			TH_LOG("SYNC START (flags %#llx) did not wait for the fence",
			       start_flags[i]);

		sig.fence = att.out_fence;
		ret = ioctl(self->drm, DRM_IOCTL_VGEM_FENCE_SIGNAL, &sig) ? -errno : 0;
		EXPECT_EQ(0, ret) TH_LOG("VGEM_FENCE_SIGNAL: %s", strerror(-ret));
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
			TH_LOG("SYNC START failed in the child (status %#x)", status);
		EXPECT_EQ(1, poll(&pfd, 1, 0)) TH_LOG("not readable after signal");
		EXPECT_EQ(0, dmabuf_sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW));
		close(pipefd[0]);
		close(pipefd[1]);
	}
	EXPECT_EQ(0, gem_close(self->drm, handle));
	EXPECT_EQ(0, close(fd));
}

/* Closing the DRM fd with imports outstanding releases them. */
TEST_F(vgem, import_then_close_drm_fd)
{
	uint32_t handle;
	int fd, n;

	for (n = 0; n < 8; n++) {
		fd = sgbuf_alloc_rw(self->dev, SZ_64K);
		ASSERT_LE(0, fd) TH_LOG("%s", strerror(-fd));
		ASSERT_EQ(0, drmPrimeFDToHandle(self->drm, fd, &handle));
		ASSERT_EQ(0, close(fd));
	}
	EXPECT_EQ(self->bufinfo_base + 8, bufinfo_count());
	ASSERT_EQ(0, close(self->drm));
	EXPECT_EQ(self->bufinfo_base, bufinfo_count());
}


#define VIVID_BUFS	2

FIXTURE(vivid) {
	SGBUF_FIXTURE_FIELDS;
	int video;
	bool streaming;
};

FIXTURE_SETUP(vivid)
{
	SGBUF_FIXTURE_SETUP(self);
	self->video = open_vivid_capture();
	if (self->video < 0)
		SKIP(return, "no vivid video capture node (vivid module not loaded)");
}

FIXTURE_TEARDOWN(vivid)
{
	if (self->streaming) {
		int type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
		struct v4l2_requestbuffers rb = {
			.count = 0,
			.type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
			.memory = V4L2_MEMORY_DMABUF,
		};

		EXPECT_EQ(0, ioctl(self->video, VIDIOC_STREAMOFF, &type));
		EXPECT_EQ(0, ioctl(self->video, VIDIOC_REQBUFS, &rb));
	}
	SGBUF_FIXTURE_TEARDOWN(self);	/* also closes the video fd */
}

TEST_F_TIMEOUT(vivid, dmabuf_capture, 120)
{
	const unsigned char sentinel = 0x5a;
	struct v4l2_requestbuffers rb;
	struct v4l2_format fmt;
	struct v4l2_buffer buf;
	int fds[VIVID_BUFS];
	size_t bufsize, used, changed, k;
	int type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	struct pollfd pfd;
	unsigned int i;
	int frame, ret;
	char *p;

	memset(&fmt, 0, sizeof(fmt));
	fmt.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	ASSERT_EQ(0, ioctl(self->video, VIDIOC_G_FMT, &fmt));
	fmt.fmt.pix.width = 320;
	fmt.fmt.pix.height = 240;
	fmt.fmt.pix.pixelformat = V4L2_PIX_FMT_YUYV;
	fmt.fmt.pix.field = V4L2_FIELD_NONE;
	/* vivid adjusts to what its current input supports. */
	ASSERT_EQ(0, ioctl(self->video, VIDIOC_S_FMT, &fmt))
		TH_LOG("S_FMT: %s", strerror(errno));
	ASSERT_LT(0U, fmt.fmt.pix.sizeimage);
	TH_LOG("format %ux%u %.4s, sizeimage %u", fmt.fmt.pix.width,
	       fmt.fmt.pix.height, (char *)&fmt.fmt.pix.pixelformat,
	       fmt.fmt.pix.sizeimage);
	bufsize = page_align(fmt.fmt.pix.sizeimage);

	memset(&rb, 0, sizeof(rb));
	rb.count = VIVID_BUFS;
	rb.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	rb.memory = V4L2_MEMORY_DMABUF;
	ASSERT_EQ(0, ioctl(self->video, VIDIOC_REQBUFS, &rb))
		TH_LOG("REQBUFS DMABUF: %s", strerror(errno));
	ASSERT_LE((__u32)VIVID_BUFS, rb.count);
	self->streaming = true;	/* teardown releases the queue */

	for (i = 0; i < VIVID_BUFS; i++) {
		fds[i] = sgbuf_alloc(self->dev, bufsize, 0, O_RDWR | O_CLOEXEC,
				     "vivid capture");
		ASSERT_LE(0, fds[i]) TH_LOG("%s", strerror(-fds[i]));
		/* Pre-fill with a sentinel to see what vivid overwrote. */
		p = map_buf(fds[i], bufsize, PROT_READ | PROT_WRITE);
		ASSERT_NE(MAP_FAILED, p);
		ASSERT_EQ(0, dmabuf_sync(fds[i], DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE));
		memset(p, sentinel, bufsize);
		ASSERT_EQ(0, dmabuf_sync(fds[i], DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE));
		ASSERT_EQ(0, munmap(p, bufsize));

		memset(&buf, 0, sizeof(buf));
		buf.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
		buf.memory = V4L2_MEMORY_DMABUF;
		buf.index = i;
		buf.m.fd = fds[i];
		buf.length = bufsize;
		ASSERT_EQ(0, ioctl(self->video, VIDIOC_QBUF, &buf))
			TH_LOG("QBUF %u: %s", i, strerror(errno));
	}
	ASSERT_EQ(0, ioctl(self->video, VIDIOC_STREAMON, &type))
		TH_LOG("STREAMON: %s", strerror(errno));

	for (frame = 0; frame < 2; frame++) {
		pfd.fd = self->video;
		pfd.events = POLLIN;
		pfd.revents = 0;
		ret = poll(&pfd, 1, 10000);
		ASSERT_EQ(1, ret) TH_LOG("no frame within 10 s (%s)",
					 ret ? strerror(errno) : "timeout");
		memset(&buf, 0, sizeof(buf));
		buf.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
		buf.memory = V4L2_MEMORY_DMABUF;
		ASSERT_EQ(0, ioctl(self->video, VIDIOC_DQBUF, &buf))
			TH_LOG("DQBUF: %s", strerror(errno));
		ASSERT_LT(buf.index, (__u32)VIVID_BUFS);
		EXPECT_EQ(0U, buf.flags & V4L2_BUF_FLAG_ERROR);
		used = buf.bytesused;
		ASSERT_LT(0U, used);
		ASSERT_LE(used, bufsize);

		p = map_buf(fds[buf.index], bufsize, PROT_READ);
		ASSERT_NE(MAP_FAILED, p);
		ASSERT_EQ(0, dmabuf_sync(fds[buf.index],
					 DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ));
		for (k = 0, changed = 0; k < used; k++)
			changed += (unsigned char)p[k] != sentinel;
		EXPECT_NE(-1, find_nonzero(p, used & ~7UL))
			TH_LOG("frame %d is all zero", frame);
		EXPECT_LE(used / 2, changed)
			TH_LOG("frame %d: only %zu of %zu bytes written by vivid",
			       frame, changed, used);
		ASSERT_EQ(0, dmabuf_sync(fds[buf.index],
					 DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ));
		ASSERT_EQ(0, munmap(p, bufsize));

		if (frame == 0) {
			/* Requeue so that streaming keeps going. */
			buf.m.fd = fds[buf.index];
			buf.length = bufsize;
			ASSERT_EQ(0, ioctl(self->video, VIDIOC_QBUF, &buf));
		}
	}
	ASSERT_EQ(0, ioctl(self->video, VIDIOC_STREAMOFF, &type));
	memset(&rb, 0, sizeof(rb));
	rb.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	rb.memory = V4L2_MEMORY_DMABUF;
	ASSERT_EQ(0, ioctl(self->video, VIDIOC_REQBUFS, &rb));
	self->streaming = false;
	for (i = 0; i < VIVID_BUFS; i++)
		ASSERT_EQ(0, close(fds[i]));
	EXPECT_EQ(self->bufinfo_base, bufinfo_count());
}

TEST_HARNESS_MAIN
