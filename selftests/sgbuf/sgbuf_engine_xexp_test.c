// SPDX-License-Identifier: GPL-2.0
/*
 * The sgbuf engine on buffers of other exporters:
 *  - COPY between every pair of sgbuf, vgem (DRM dumb buffer), vivid (vb2
 *    MMAP buffer exported with VIDIOC_EXPBUF), the system dma-heap and
 *    udmabuf, same-exporter pairs included, with the data written and read
 *    through each exporter's own dma-buf mmap and checked by CHECKSUM and
 *    CHECKSUM64;
 *  - implicit sync with vgem's fences (DRM_IOCTL_VGEM_FENCE_ATTACH), on a
 *    vgem buffer and on an sgbuf buffer imported into vgem.
 * Exporters a kernel lacks are skipped, saying why.
 */
#define _GNU_SOURCE
#include <linux/dma-heap.h>
#include <linux/udmabuf.h>
#include <linux/videodev2.h>
#include <xf86drm.h>
#include <vgem_drm.h>

#include "drivers.h"
#include "engine.h"
#include "harness.h"

#define SYNC_R_START	(DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ)
#define SYNC_R_END	(DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ)
#define SYNC_W_START	(DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE)
#define SYNC_W_END	(DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE)

/*
 * Buffer size for the exporters that take any size. Small enough that the
 * system heap hands out no 1 MiB chunk (swiotlb=force cannot bounce a
 * segment above 256 KiB), big enough for odd offsets across many pages.
 */
#define XSIZE		(40 * SZ_4K)

enum { X_SGBUF, X_VGEM, X_VIVID, X_HEAP, X_UDMABUF, X_N };

static const char *const xname[X_N] = {
	"sgbuf", "vgem", "vivid", "system heap", "udmabuf",
};


struct xbuf {
	int fd;
	size_t size;
	uint8_t *map;
};

FIXTURE(xexp) {
	SGBUF_FIXTURE_FIELDS;
	int drm, video, heap, udmabuf;
	bool avail[X_N];
	char why[X_N][128];
	struct xbuf buf[X_N][2];
	size_t min_size;
};

FIXTURE_VARIANT(xexp) {
	int src;
};

FIXTURE_VARIANT_ADD(xexp, from_sgbuf) { .src = X_SGBUF };
FIXTURE_VARIANT_ADD(xexp, from_vgem) { .src = X_VGEM };
FIXTURE_VARIANT_ADD(xexp, from_vivid) { .src = X_VIVID };
FIXTURE_VARIANT_ADD(xexp, from_system_heap) { .src = X_HEAP };
FIXTURE_VARIANT_ADD(xexp, from_udmabuf) { .src = X_UDMABUF };

/* Create the two buffers of exporter @x, or say why it is unavailable. */
static int xexp_make(FIXTURE_DATA(xexp) *self, int x)
{
	char *why = self->why[x];
	int i, ret;

	switch (x) {
	case X_SGBUF:
		for (i = 0; i < 2; i++) {
			ret = sgbuf_alloc_rw(self->dev, XSIZE);
			if (ret < 0)
				return ret;
			self->buf[x][i].fd = ret;
			self->buf[x][i].size = XSIZE;
		}
		return 0;
	case X_VGEM:
		self->drm = open_vgem();
		if (self->drm < 0) {
			snprintf(why, 128, "no vgem DRM node (vgem module not loaded)");
			return 1;
		}
		for (i = 0; i < 2; i++) {
			uint32_t h;

			ret = vgem_create(self->drm, XSIZE, &h);
			if (ret)
				return ret;
			ret = vgem_export(self->drm, h);
			if (ret < 0)
				return ret;
			self->buf[x][i].fd = ret;
			self->buf[x][i].size = XSIZE;
		}
		return 0;
	case X_VIVID: {
		struct v4l2_requestbuffers rb;
		struct v4l2_format fmt;

		self->video = open_vivid_capture();
		if (self->video < 0) {
			snprintf(why, 128, "no vivid video capture node (vivid module not loaded)");
			return 1;
		}
		memset(&fmt, 0, sizeof(fmt));
		fmt.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
		if (ioctl(self->video, VIDIOC_G_FMT, &fmt))
			return -errno;
		fmt.fmt.pix.width = 320;
		fmt.fmt.pix.height = 240;
		fmt.fmt.pix.pixelformat = V4L2_PIX_FMT_YUYV;
		fmt.fmt.pix.field = V4L2_FIELD_NONE;
		if (ioctl(self->video, VIDIOC_S_FMT, &fmt))
			return -errno;
		memset(&rb, 0, sizeof(rb));
		rb.count = 2;
		rb.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
		rb.memory = V4L2_MEMORY_MMAP;
		if (ioctl(self->video, VIDIOC_REQBUFS, &rb))
			return -errno;
		if (rb.count < 2)
			return -ENOBUFS;
		for (i = 0; i < 2; i++) {
			struct v4l2_exportbuffer eb;
			off_t size;

			memset(&eb, 0, sizeof(eb));
			eb.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
			eb.index = i;
			eb.flags = O_RDWR | O_CLOEXEC;
			if (ioctl(self->video, VIDIOC_EXPBUF, &eb))
				return -errno;
			self->buf[x][i].fd = eb.fd;
			size = lseek(eb.fd, 0, SEEK_END);
			if (size <= 0)
				return -EPROTO;
			self->buf[x][i].size = size;
		}
		return 0;
	}
	case X_HEAP:
		self->heap = open("/dev/dma_heap/system", O_RDONLY | O_CLOEXEC);
		if (self->heap < 0) {
			snprintf(why, 128, "no /dev/dma_heap/system (%s: this kernel has no system dma-heap)",
				 strerror(errno));
			return 1;
		}
		for (i = 0; i < 2; i++) {
			struct dma_heap_allocation_data d = {
				.len = XSIZE,
				.fd_flags = O_RDWR | O_CLOEXEC,
			};

			if (ioctl(self->heap, DMA_HEAP_IOCTL_ALLOC, &d))
				return -errno;
			self->buf[x][i].fd = d.fd;
			self->buf[x][i].size = XSIZE;
		}
		return 0;
	case X_UDMABUF:
		self->udmabuf = open("/dev/udmabuf", O_RDWR | O_CLOEXEC);
		if (self->udmabuf < 0) {
			snprintf(why, 128, "no /dev/udmabuf (%s: this kernel has no udmabuf)",
				 strerror(errno));
			return 1;
		}
		for (i = 0; i < 2; i++) {
			struct udmabuf_create c;
			int memfd;

			memfd = memfd_create("sgbuf xexp", MFD_ALLOW_SEALING | MFD_CLOEXEC);
			if (memfd < 0)
				return -errno;
			if (ftruncate(memfd, XSIZE) ||
			    fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK)) {
				ret = -errno;
				close(memfd);
				return ret;
			}
			memset(&c, 0, sizeof(c));
			c.memfd = memfd;
			c.flags = UDMABUF_FLAGS_CLOEXEC;
			c.size = XSIZE;
			ret = ioctl(self->udmabuf, UDMABUF_CREATE, &c);
			if (ret < 0)
				ret = -errno;
			close(memfd);	/* the udmabuf keeps the pages */
			if (ret < 0)
				return ret;
			self->buf[x][i].fd = ret;
			self->buf[x][i].size = XSIZE;
		}
		return 0;
	}
	return -EINVAL;
}

FIXTURE_SETUP(xexp)
{
	int x, i, ret;

	SGBUF_FIXTURE_SETUP(self);
	ASSERT_NE(0ULL, self->info_base.caps & SGBUF_CAP_ENGINE);
	self->drm = self->video = self->heap = self->udmabuf = -1;
	self->min_size = ~(size_t)0;
	for (x = 0; x < X_N; x++) {
		for (i = 0; i < 2; i++)
			self->buf[x][i].fd = -1;
		ret = xexp_make(self, x);
		ASSERT_LE(0, ret) TH_LOG("%s: creating buffers: %s", xname[x],
					 strerror(-ret));
		if (ret > 0)
			continue;
		self->avail[x] = true;
		for (i = 0; i < 2; i++) {
			struct xbuf *b = &self->buf[x][i];

			b->map = map_buf(b->fd, b->size, PROT_READ | PROT_WRITE);
			ASSERT_NE(MAP_FAILED, b->map)
				TH_LOG("%s: mmap of its dma-buf: %s", xname[x],
				       strerror(errno));
			if (b->size < self->min_size)
				self->min_size = b->size;
		}
	}
	ASSERT_LE(8 * SZ_4K, self->min_size);
}

FIXTURE_TEARDOWN(xexp)
{
	SGBUF_FIXTURE_TEARDOWN(self);	/* closes every fd, unmaps */
}

static void cpu_fill(struct __test_metadata *_metadata, struct xbuf *b,
		     uint64_t seed, const char *what)
{
	int ret;

	ret = dmabuf_sync(b->fd, SYNC_W_START);
	ASSERT_EQ(0, ret) TH_LOG("%s: SYNC START WRITE: %s", what, strerror(-ret));
	pattern_fill(b->map, b->size, seed);
	ret = dmabuf_sync(b->fd, SYNC_W_END);
	ASSERT_EQ(0, ret) TH_LOG("%s: SYNC END WRITE: %s", what, strerror(-ret));
}

/*
 * Read @b through its mapping, inside DMA_BUF_IOCTL_SYNC unless @raw, and
 * compare. Returns the first wrong offset or -1; @got gets the byte there.
 */
static long cpu_compare(struct __test_metadata *_metadata, struct xbuf *b,
			const uint8_t *model, uint8_t *got, bool raw)
{
	long d;
	int ret;

	if (!raw) {
		ret = dmabuf_sync(b->fd, SYNC_R_START);
		ASSERT_EQ(0, ret) TH_LOG("SYNC START READ: %s", strerror(-ret));
	}
	d = first_diff(b->map, model, b->size);
	if (d >= 0)
		*got = b->map[d];
	if (!raw) {
		ret = dmabuf_sync(b->fd, SYNC_R_END);
		EXPECT_EQ(0, ret) TH_LOG("SYNC END READ: %s", strerror(-ret));
	}
	return d;
}

/*
 * udmabuf's begin_cpu_access syncs udmabuf's own streaming mapping of the
 * pages (made at the first DMA_BUF_IOCTL_SYNC, through the udmabuf misc
 * device) for the CPU. Under swiotlb=force that copies udmabuf's stale
 * bounce buffer over the pages, undoing any device write made since: a
 * udmabuf problem, not the importer's. There the destination is read
 * without the SYNC ioctl (x86 is cache-coherent): the engine has synced
 * its own mapping for the CPU when the job completed.
 */
static bool sync_clobbers(int x, bool swiotlb)
{
	return x == X_UDMABUF && swiotlb;
}

TEST_F(xexp, copy_to_every_exporter)
{
	const int s = variant->src;
	const size_t len = self->min_size - 2 * SZ_4K - 1;
	const size_t so = 7, dofs = 4093;
	const bool swiotlb = cmdline_has("swiotlb=force");
	struct sgbuf_submit job;
	int d, checked = 0;

	if (!self->avail[s])
		SKIP(return, "source %s: %s", xname[s], self->why[s]);

	for (d = 0; d < X_N; d++) {
		struct xbuf *src = &self->buf[s][0], *dst = &self->buf[d][1];
		const uint64_t sseed = 0x1000 + s * 16 + d, dseed = 0x2000 + s * 16 + d;
		const struct eng_dbg_import *imp;
		__u32 hs = 0, hd = 0, csum = 0;
		uint8_t *smodel, *dmodel, got = 0;
		__u64 sum = 0;
		struct eng_dbg dbg;
		char exp_name[64];
		int ret, st;
		bool raw;
		long bad;

		if (!self->avail[d]) {
			TH_LOG("%s -> %s: not run, %s", xname[s], xname[d], self->why[d]);
			continue;
		}
		smodel = malloc(src->size);
		dmodel = malloc(dst->size);
		ASSERT_TRUE(smodel && dmodel);
		pattern_fill(smodel, src->size, sseed);
		pattern_fill(dmodel, dst->size, dseed);
		memcpy(dmodel + dofs, smodel + so, len);

		/* Written by the CPU before the import, as a producer would. */
		cpu_fill(_metadata, src, sseed, xname[s]);
		cpu_fill(_metadata, dst, dseed, xname[d]);
		ret = eng_import(self->dev, src->fd, 0, &hs, NULL);
		ASSERT_EQ(0, ret) TH_LOG("IMPORT %s: %s", xname[s], strerror(-ret));
		ret = eng_import(self->dev, dst->fd, 0, &hd, NULL);
		ASSERT_EQ(0, ret) TH_LOG("IMPORT %s: %s", xname[d], strerror(-ret));

		/* debugfs names the exporter as the dma-buf does. */
		ASSERT_EQ(0, engine_self(&dbg));
		imp = eng_dbg_find_import(&dbg, hd);
		ASSERT_NE(NULL, imp);
		ASSERT_EQ(0, fdinfo_get(dst->fd, "exp_name", exp_name, sizeof(exp_name)));
		EXPECT_STREQ(exp_name, imp->exporter);
		EXPECT_EQ((unsigned long long)dst->size, imp->size);

		job_copy(&job, hs, so, hd, dofs, len);
		ret = eng_submit(self->dev, &job);
		ASSERT_EQ(0, ret) TH_LOG("%s -> %s: SUBMIT: %s", xname[s], xname[d],
					 strerror(-ret));
		st = 1;
		ret = eng_wait(self->dev, job.seqno, WAIT_LONG_NS, &st, NULL);
		ASSERT_EQ(0, ret) TH_LOG("WAIT: %s", strerror(-ret));
		EXPECT_EQ(0, st) TH_LOG("%s -> %s: status %d", xname[s], xname[d], st);

		/* The engine reads back what it wrote, in every variant. */
		job_checksum(&job, hd, 0, dst->size);
		ASSERT_EQ(0, eng_submit(self->dev, &job));
		ASSERT_EQ(0, eng_wait(self->dev, job.seqno, WAIT_LONG_NS, &st, &csum));
		EXPECT_EQ(0, st);
		EXPECT_EQ(crc32_buf(dmodel, dst->size), csum)
			TH_LOG("%s -> %s: CHECKSUM of the destination is wrong",
			       xname[s], xname[d]);
		/* And CHECKSUM64, from an odd offset: words straddle pages. */
		job_checksum64(&job, hd, 3, dst->size - 3);
		ASSERT_EQ(0, eng_submit(self->dev, &job));
		ASSERT_EQ(0, eng_wait64(self->dev, job.seqno, WAIT_LONG_NS, &st, &sum));
		EXPECT_EQ(0, st);
		EXPECT_EQ(sgbuf_checksum64(dmodel + 3, dst->size - 3), sum)
			TH_LOG("%s -> %s: CHECKSUM64 of the destination is wrong",
			       xname[s], xname[d]);

		/*
		 * The CPU, while still imported: the engine hands the memory
		 * back to the CPU after each job (dma_sync_*_for_cpu), as a
		 * driver must, so this holds whatever the exporter's own
		 * begin_cpu_access does, swiotlb=force included.
		 */
		raw = sync_clobbers(d, swiotlb);
		if (raw)
			TH_LOG("%s -> %s: read without SYNC (udmabuf under swiotlb=force)",
			       xname[s], xname[d]);
		bad = cpu_compare(_metadata, dst, dmodel, &got, raw);
		EXPECT_EQ(-1, bad)
			TH_LOG("%s -> %s (imported): byte %ld is %#x, expected %#x",
			       xname[s], xname[d], bad, got, dmodel[bad]);

		EXPECT_EQ(0, eng_unimport(self->dev, hs));
		EXPECT_EQ(0, eng_unimport(self->dev, hd));

		/* The CPU, after the engine let go. */
		bad = cpu_compare(_metadata, dst, dmodel, &got, raw);
		EXPECT_EQ(-1, bad)
			TH_LOG("%s -> %s (after UNIMPORT): byte %ld is %#x, expected %#x",
			       xname[s], xname[d], bad, got, dmodel[bad]);
		checked++;
		/* The source is untouched. */
		bad = cpu_compare(_metadata, src, smodel, &got, sync_clobbers(s, swiotlb));
		EXPECT_EQ(-1, bad) TH_LOG("%s source changed at %ld", xname[s], bad);
		free(smodel);
		free(dmodel);
	}
	EXPECT_LT(0, checked);
}

/* --------------------------------------------------------- vgem fences */

FIXTURE(vgem_fence) {
	SGBUF_FIXTURE_FIELDS;
	int drm;
};

FIXTURE_SETUP(vgem_fence)
{
	SGBUF_FIXTURE_SETUP(self);
	ASSERT_NE(0ULL, self->info_base.caps & SGBUF_CAP_ENGINE);
	self->drm = open_vgem();
	if (self->drm < 0)
		SKIP(return, "no vgem DRM node (vgem module not loaded)");
}

FIXTURE_TEARDOWN(vgem_fence)
{
	SGBUF_FIXTURE_TEARDOWN(self);
}

/* Attach a vgem fence (@write: VGEM_FENCE_WRITE). Returns its id or -errno. */
static long vgem_fence(int drm, uint32_t handle, bool write)
{
	struct drm_vgem_fence_attach a = {
		.handle = handle,
		.flags = write ? VGEM_FENCE_WRITE : 0,
	};

	if (ioctl(drm, DRM_IOCTL_VGEM_FENCE_ATTACH, &a))
		return -errno;
	return a.out_fence;
}

static int vgem_signal(int drm, uint32_t fence)
{
	struct drm_vgem_fence_signal s = { .fence = fence };

	return ioctl(drm, DRM_IOCTL_VGEM_FENCE_SIGNAL, &s) ? -errno : 0;
}

/* A vgem-exported buffer with a vgem write fence: FILL and CHECKSUM wait. */
TEST_F(vgem_fence, write_fence_on_vgem_buffer)
{
	const size_t sz = 16 * SZ_4K;
	__u64 fill_seq, sum_seq;
	struct sgbuf_submit s;
	__u32 h = 0, csum = 0;
	uint32_t gem = 0;
	uint8_t *model, *map;
	long fence;
	int fd, st, ret;

	ASSERT_EQ(0, vgem_create(self->drm, sz, &gem));
	fd = vgem_export(self->drm, gem);
	ASSERT_LE(0, fd) TH_LOG("%s", strerror(-fd));
	map = map_buf(fd, sz, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, map);
	model = malloc(sz);
	ASSERT_NE(NULL, model);
	ASSERT_EQ(0, dmabuf_sync(fd, SYNC_W_START));
	pattern_fill(map, sz, 0x7e);
	ASSERT_EQ(0, dmabuf_sync(fd, SYNC_W_END));
	pattern_fill(model, sz, 0x7e);
	ASSERT_EQ(0, eng_import(self->dev, fd, 0, &h, NULL));

	fence = vgem_fence(self->drm, gem, true);
	ASSERT_LE(0, fence) TH_LOG("VGEM_FENCE_ATTACH: %s", strerror(-fence));
	job_fill(&s, h, 5, 3 * SZ_4K + 1, 0x76676d21);
	ASSERT_EQ(0, eng_submit(self->dev, &s));
	fill_seq = s.seqno;
	model_fill(model, 5, 3 * SZ_4K + 1, 0x76676d21);
	job_checksum(&s, h, 0, sz);
	ASSERT_EQ(0, eng_submit(self->dev, &s));
	sum_seq = s.seqno;

	ret = eng_wait(self->dev, fill_seq, MS_NS(200), NULL, NULL);
	EXPECT_EQ(-ETIME, ret) TH_LOG("FILL ran before the vgem write fence signalled");
	EXPECT_EQ(-ETIME, eng_wait(self->dev, sum_seq, 0, NULL, NULL));
	ASSERT_EQ(0, vgem_signal(self->drm, fence));

	st = 1;
	EXPECT_EQ(0, eng_wait(self->dev, fill_seq, WAIT_LONG_NS, &st, NULL));
	EXPECT_EQ(0, st);
	EXPECT_EQ(0, eng_wait(self->dev, sum_seq, WAIT_LONG_NS, &st, &csum));
	EXPECT_EQ(0, st);
	EXPECT_EQ(crc32_buf(model, sz), csum);

	/* The jobs are done: vgem's attach no longer conflicts with them. */
	fence = vgem_fence(self->drm, gem, false);
	EXPECT_LE(0, fence) TH_LOG("VGEM_FENCE_ATTACH after the jobs: %s", strerror(-fence));
	if (fence >= 0)
		EXPECT_EQ(0, vgem_signal(self->drm, fence));

	EXPECT_EQ(0, eng_unimport(self->dev, h));
	EXPECT_EQ(0, munmap(map, sz));
	EXPECT_EQ(0, close(fd));
	free(model);
}

/*
 * An sgbuf buffer imported into vgem: vgem's fences land in the sgbuf
 * buffer's reservation object. A write fence holds a read job; a read
 * fence lets a read job through and holds a write job.
 */
TEST_F(vgem_fence, fences_on_imported_sgbuf)
{
	const size_t sz = SZ_64K;
	struct sgbuf_submit s;
	__u32 h = 0, csum = 0;
	uint32_t gem = 0;
	uint8_t *model, *map;
	__u64 seq;
	long fence, bad;
	int fd, st, ret;

	fd = sgbuf_alloc_rw(self->dev, sz);
	ASSERT_LE(0, fd);
	map = map_buf(fd, sz, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, map);
	model = malloc(sz);
	ASSERT_NE(NULL, model);
	ASSERT_EQ(0, dmabuf_sync(fd, SYNC_W_START));
	pattern_fill(map, sz, 0x5a);
	ASSERT_EQ(0, dmabuf_sync(fd, SYNC_W_END));
	pattern_fill(model, sz, 0x5a);
	ASSERT_EQ(0, drmPrimeFDToHandle(self->drm, fd, &gem));
	/* Imported after vgem: the engine's view is the newest (see exporter). */
	ASSERT_EQ(0, eng_import(self->dev, fd, 0, &h, NULL));

	/* A write fence: a read job waits. */
	fence = vgem_fence(self->drm, gem, true);
	ASSERT_LE(0, fence) TH_LOG("VGEM_FENCE_ATTACH: %s", strerror(-fence));
	EXPECT_EQ(0, poll_fd(fd, POLLIN, 0));
	job_checksum(&s, h, 0, sz);
	ASSERT_EQ(0, eng_submit(self->dev, &s));
	seq = s.seqno;
	EXPECT_EQ(-ETIME, eng_wait(self->dev, seq, MS_NS(200), NULL, NULL))
		TH_LOG("CHECKSUM ran before vgem's write fence signalled");
	ASSERT_EQ(0, vgem_signal(self->drm, fence));
	st = 1;
	EXPECT_EQ(0, eng_wait(self->dev, seq, WAIT_LONG_NS, &st, &csum));
	EXPECT_EQ(0, st);
	EXPECT_EQ(crc32_buf(model, sz), csum);

	/* A read fence: a read job goes, a write job waits. */
	fence = vgem_fence(self->drm, gem, false);
	ASSERT_LE(0, fence) TH_LOG("VGEM_FENCE_ATTACH (read): %s", strerror(-fence));
	job_checksum(&s, h, 1, sz - 1);
	ASSERT_EQ(0, eng_submit(self->dev, &s));
	st = 1;
	ret = eng_wait(self->dev, s.seqno, MS_NS(5000), &st, &csum);
	EXPECT_EQ(0, ret) TH_LOG("CHECKSUM waited for vgem's read fence: %s", strerror(-ret));
	EXPECT_EQ(0, st);
	EXPECT_EQ(crc32_buf(model + 1, sz - 1), csum);

	job_fill(&s, h, SZ_4K - 1, SZ_4K + 2, 0xfeedf00d);
	ASSERT_EQ(0, eng_submit(self->dev, &s));
	seq = s.seqno;
	model_fill(model, SZ_4K - 1, SZ_4K + 2, 0xfeedf00d);
	EXPECT_EQ(-ETIME, eng_wait(self->dev, seq, MS_NS(200), NULL, NULL))
		TH_LOG("FILL ran before vgem's read fence signalled");
	ASSERT_EQ(0, vgem_signal(self->drm, fence));
	st = 1;
	EXPECT_EQ(0, eng_wait(self->dev, seq, WAIT_LONG_NS, &st, NULL));
	EXPECT_EQ(0, st);

	/* Read back through the engine and through the CPU. */
	job_checksum(&s, h, 0, sz);
	ASSERT_EQ(0, eng_submit(self->dev, &s));
	EXPECT_EQ(0, eng_wait(self->dev, s.seqno, WAIT_LONG_NS, &st, &csum));
	EXPECT_EQ(crc32_buf(model, sz), csum);
	ASSERT_EQ(0, dmabuf_sync(fd, SYNC_R_START));
	bad = first_diff(map, model, sz);
	ASSERT_EQ(0, dmabuf_sync(fd, SYNC_R_END));
	EXPECT_EQ(-1, bad) TH_LOG("CPU view wrong at %ld", bad);

	EXPECT_EQ(0, eng_unimport(self->dev, h));
	EXPECT_EQ(0, munmap(map, sz));
	EXPECT_EQ(0, close(fd));
	free(model);
}

/*
 * The other direction: vgem refuses to attach a fence that conflicts with
 * a pending engine job (VGEM_FENCE_ATTACH returns EBUSY when the resv is
 * busy), which shows the job's fence is in the reservation object that
 * other drivers see.
 */
TEST_F(vgem_fence, vgem_sees_engine_fence)
{
	struct sgbuf_submit s;
	uint32_t gem = 0;
	__u32 h = 0, id = 0;
	long fence;
	int fd, sw, st;

	fd = sgbuf_alloc_rw(self->dev, SZ_64K);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, drmPrimeFDToHandle(self->drm, fd, &gem));
	ASSERT_EQ(0, eng_import(self->dev, fd, 0, &h, NULL));
	sw = sw_fence_create(self->dev, &id);
	ASSERT_LE(0, sw);
	job_fill(&s, h, 0, SZ_64K, 1);
	job_in_fence(&s, sw);
	ASSERT_EQ(0, eng_submit(self->dev, &s));

	fence = vgem_fence(self->drm, gem, false);
	EXPECT_EQ(-EBUSY, fence) TH_LOG("vgem read fence with an engine write pending: %ld",
					fence);
	if (fence >= 0)
		vgem_signal(self->drm, fence);
	ASSERT_EQ(0, sw_fence_signal(self->dev, id, 0));
	st = 1;
	EXPECT_EQ(0, eng_wait(self->dev, s.seqno, WAIT_LONG_NS, &st, NULL));
	EXPECT_EQ(0, st);
	fence = vgem_fence(self->drm, gem, true);
	EXPECT_LE(0, fence) TH_LOG("after the job: %s", strerror(-fence));
	if (fence >= 0)
		EXPECT_EQ(0, vgem_signal(self->drm, fence));
	close(sw);
	EXPECT_EQ(0, eng_unimport(self->dev, h));
	EXPECT_EQ(0, close(fd));
}

TEST_HARNESS_MAIN
