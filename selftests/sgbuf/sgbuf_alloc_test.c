// SPDX-License-Identifier: GPL-2.0
/*
 * sgbuf SGBUF_IOCTL_ALLOC / SGBUF_IOCTL_GET_INFO: argument validation,
 * error paths that must not leak fds or buffers, fd properties, fdinfo,
 * names, zeroing, module parameters and the module reference held by
 * live buffers.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include "common.h"
#include "harness.h"

_Static_assert(sizeof(struct sgbuf_alloc) == SGBUF_ALLOC_SIZE_VER0,
	       "struct sgbuf_alloc size changed");
_Static_assert(sizeof(struct sgbuf_info) == SGBUF_INFO_SIZE_VER0,
	       "struct sgbuf_info size changed");

/* SGBUF_IOCTL_ALLOC with an explicit argument size (extensible struct). */
#define SGBUF_IOCTL_ALLOC_SZ(sz) \
	_IOC(_IOC_READ | _IOC_WRITE, SGBUF_IOC_MAGIC, 0x00, (sz))

static struct sgbuf_alloc good_req(unsigned long long size)
{
	struct sgbuf_alloc req;

	memset(&req, 0, sizeof(req));
	req.size = size;
	req.fd_flags = O_RDWR | O_CLOEXEC;
	return req;
}

/*
 * Issue @cmd with @arg; if it unexpectedly succeeds, close the returned fd
 * so that the failing test does not also leak. Returns 0 or -errno.
 */
static int try_ioctl(int dev, unsigned long cmd, void *arg)
{
	struct sgbuf_alloc *req = arg;

	if (ioctl(dev, cmd, arg))
		return -errno;
	if (req->fd > 2)
		close(req->fd);
	return 0;
}

static int try_alloc(int dev, struct sgbuf_alloc *req)
{
	return try_ioctl(dev, SGBUF_IOCTL_ALLOC, req);
}

FIXTURE(alloc) {
	SGBUF_FIXTURE_FIELDS;
	int fds_base;
};

FIXTURE_SETUP(alloc)
{
	SGBUF_FIXTURE_SETUP(self);
	self->fds_base = count_open_fds();
	ASSERT_LE(0, self->fds_base);
}

FIXTURE_TEARDOWN(alloc)
{
	SGBUF_FIXTURE_TEARDOWN(self);
}

/* Check that a failed request left no fd and no buffer behind. */
#define ASSERT_NOTHING_LEAKED(self) do {				\
	struct sgbuf_info __i;						\
									\
	ASSERT_EQ((self)->fds_base, count_open_fds());			\
	ASSERT_EQ((self)->bufinfo_base, bufinfo_count());		\
	ASSERT_EQ(0, sgbuf_get_info((self)->dev, &__i));		\
	ASSERT_EQ((self)->info_base.live_buffers, __i.live_buffers);	\
	ASSERT_EQ((self)->info_base.total_size, __i.total_size);	\
} while (0)

TEST_F(alloc, dev_node_is_root_only)
{
	struct stat st;

	ASSERT_EQ(0, stat(SGBUF_DEV, &st));
	ASSERT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(0600U, st.st_mode & 07777)
		TH_LOG("%s has mode %o, expected 0600", SGBUF_DEV,
		       st.st_mode & 07777);
}

TEST_F(alloc, get_info)
{
	struct sgbuf_info info = self->info_base;
	unsigned int i;

	EXPECT_EQ((__u64)SGBUF_ABI_VERSION, info.abi_version);
	EXPECT_EQ(page_size(), info.page_size);
	for (i = 0; i < ARRAY_SIZE(info.reserved); i++)
		EXPECT_EQ(0ULL, info.reserved[i]);
	EXPECT_LE(info.total_size, info.max_total_size);
	EXPECT_EQ(0ULL, info.max_buffer_size % info.page_size);
	if (info.caps & SGBUF_CAP_CONTIGUOUS) {
		EXPECT_LE(info.page_size, info.max_contig_size);
		EXPECT_EQ(0ULL, info.max_contig_size % info.page_size);
	}
	/* The module is always built with the heap node. */
	EXPECT_EQ(access(SGBUF_HEAP_DEV, F_OK) == 0,
		  !!(info.caps & SGBUF_CAP_HEAP_NODE));
	/* Bad pointer. */
	EXPECT_EQ(-1, ioctl(self->dev, SGBUF_IOCTL_GET_INFO, NULL));
	EXPECT_EQ(EFAULT, errno);
}

TEST_F(alloc, info_counts_live_buffers)
{
	struct sgbuf_info b = self->info_base, i;
	int fd1, fd2;

	fd1 = sgbuf_alloc_rw(self->dev, SZ_64K);
	ASSERT_LE(0, fd1) TH_LOG("alloc: %s", strerror(-fd1));
	ASSERT_EQ(0, sgbuf_get_info(self->dev, &i));
	EXPECT_EQ(b.total_size + SZ_64K, i.total_size);
	EXPECT_EQ(b.live_buffers + 1, i.live_buffers);
	/* The leak check's bufinfo parser must see the new buffer. */
	EXPECT_EQ(self->bufinfo_base + 1, bufinfo_count());

	fd2 = sgbuf_alloc_rw(self->dev, SZ_1M);
	ASSERT_LE(0, fd2) TH_LOG("alloc: %s", strerror(-fd2));
	ASSERT_EQ(0, sgbuf_get_info(self->dev, &i));
	EXPECT_EQ(b.total_size + SZ_64K + SZ_1M, i.total_size);
	EXPECT_EQ(b.live_buffers + 2, i.live_buffers);
	EXPECT_EQ(self->bufinfo_base + 2, bufinfo_count());

	ASSERT_EQ(0, close(fd1));
	ASSERT_EQ(0, sgbuf_get_info(self->dev, &i));
	EXPECT_EQ(b.total_size + SZ_1M, i.total_size);
	EXPECT_EQ(b.live_buffers + 1, i.live_buffers);

	ASSERT_EQ(0, close(fd2));
	ASSERT_EQ(0, sgbuf_get_info(self->dev, &i));
	EXPECT_EQ(b.total_size, i.total_size);
	EXPECT_EQ(b.live_buffers, i.live_buffers);
	EXPECT_EQ(self->bufinfo_base, bufinfo_count());
}

TEST_F(alloc, fd_properties_and_fdinfo)
{
	static const struct {
		unsigned int fd_flags;
		bool cloexec;
		int accmode;
	} cases[] = {
		{ O_RDWR | O_CLOEXEC,	true,	O_RDWR },
		{ O_RDWR,		false,	O_RDWR },
		{ O_RDONLY | O_CLOEXEC,	true,	O_RDONLY },
		{ O_RDONLY,		false,	O_RDONLY },
	};
	unsigned long long size = 3 * page_size();
	char val[64], want[64];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		int fd, fdf, fl;

		fd = sgbuf_alloc(self->dev, size, 0, cases[i].fd_flags, NULL);
		ASSERT_LE(0, fd) TH_LOG("fd_flags %#x: %s", cases[i].fd_flags,
					strerror(-fd));
		fdf = fcntl(fd, F_GETFD);
		ASSERT_LE(0, fdf);
		EXPECT_EQ(cases[i].cloexec, !!(fdf & FD_CLOEXEC))
			TH_LOG("fd_flags %#x", cases[i].fd_flags);
		fl = fcntl(fd, F_GETFL);
		ASSERT_LE(0, fl);
		EXPECT_EQ(cases[i].accmode, fl & O_ACCMODE)
			TH_LOG("fd_flags %#x", cases[i].fd_flags);
		EXPECT_EQ((off_t)size, lseek(fd, 0, SEEK_END));
		EXPECT_EQ(0, lseek(fd, 0, SEEK_SET));

		ASSERT_EQ(0, fdinfo_get(fd, "exp_name", val, sizeof(val)));
		EXPECT_STREQ(SGBUF_EXP_NAME, val);
		ASSERT_EQ(0, fdinfo_get(fd, "size", val, sizeof(val)));
		snprintf(want, sizeof(want), "%llu", size);
		EXPECT_STREQ(want, val);
		/* No name was given: the buffer is unnamed. */
		EXPECT_EQ(-ENOENT, fdinfo_get(fd, "name", val, sizeof(val)));
		EXPECT_EQ(self->bufinfo_base + 1, bufinfo_count());
		ASSERT_EQ(0, close(fd));
	}
}

TEST_F(alloc, bad_size)
{
	const unsigned long long pg = page_size();
	const unsigned long long einval[] = {
		0, 1, pg - 1, pg + 1, pg + pg / 2, 2 * pg - 1, SZ_1M + 8,
	};
	/* Overflow candidates (syzkaller's udmabuf_offset_size set and more). */
	const unsigned long long huge[] = {
		0xfffffffffffff000ULL, 1ULL << 63, ~0ULL, 0xfffffffff0000000ULL,
		(~0ULL) & ~(pg - 1), 0x8000000000001000ULL, 1ULL << 52,
		1ULL << 48, (1ULL << 44) + pg,
	};
	struct sgbuf_alloc req;
	unsigned int i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(einval); i++) {
		req = good_req(einval[i]);
		ret = try_alloc(self->dev, &req);
		EXPECT_EQ(-EINVAL, ret) TH_LOG("size %#llx: %s", einval[i],
					       strerror(-ret));
	}
	for (i = 0; i < ARRAY_SIZE(huge); i++) {
		if (!(huge[i] % pg) && huge[i] <= self->info_base.max_buffer_size) {
			TH_LOG("size %#llx within max_buffer_size, not tried",
			       huge[i]);
			continue;
		}
		req = good_req(huge[i]);
		ret = try_alloc(self->dev, &req);
		EXPECT_TRUE(ret == -EINVAL || ret == -EFBIG)
			TH_LOG("size %#llx: %s", huge[i], strerror(-ret));
	}
	/* One page above the module's limit. */
	if (self->info_base.max_buffer_size < ~0ULL - pg) {
		req = good_req(self->info_base.max_buffer_size + pg);
		ret = try_alloc(self->dev, &req);
		EXPECT_EQ(-EFBIG, ret) TH_LOG("max_buffer_size + page: %s",
					      strerror(-ret));
	}
	ASSERT_NOTHING_LEAKED(self);
}

TEST_F(alloc, bad_flags)
{
	const unsigned long long bad[] = {
		1ULL << 1, 1ULL << 2, 1ULL << 31, 1ULL << 32, 1ULL << 63,
		~0ULL, ~SGBUF_ALLOC_VALID_FLAGS,
		SGBUF_ALLOC_CONTIGUOUS | (1ULL << 5),
	};
	struct sgbuf_alloc req;
	unsigned int i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		req = good_req(page_size());
		req.flags = bad[i];
		ret = try_alloc(self->dev, &req);
		EXPECT_EQ(-EINVAL, ret) TH_LOG("flags %#llx: %s", bad[i],
					       strerror(-ret));
	}
	ASSERT_NOTHING_LEAKED(self);
}

TEST_F(alloc, bad_fd_flags)
{
	const unsigned int bad[] = {
		O_WRONLY, O_WRONLY | O_CLOEXEC, O_ACCMODE, O_ACCMODE | O_CLOEXEC,
		O_NONBLOCK, O_RDWR | O_NONBLOCK, O_RDWR | O_APPEND,
		O_RDWR | O_CREAT, O_RDWR | O_TRUNC, O_RDWR | O_SYNC,
		O_RDWR | O_DIRECT, O_RDWR | O_PATH, O_RDWR | O_TMPFILE,
		O_RDWR | (1U << 31), ~0U,
	};
	struct sgbuf_alloc req;
	unsigned int i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		req = good_req(page_size());
		req.fd_flags = bad[i];
		ret = try_alloc(self->dev, &req);
		EXPECT_EQ(-EINVAL, ret) TH_LOG("fd_flags %#x: %s", bad[i],
					       strerror(-ret));
	}
	ASSERT_NOTHING_LEAKED(self);
}

TEST_F(alloc, fd_must_be_zero)
{
	const int bad[] = { 1, 3, -1, INT_MAX, INT_MIN };
	struct sgbuf_alloc req;
	unsigned int i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		req = good_req(page_size());
		req.fd = bad[i];
		if (!ioctl(self->dev, SGBUF_IOCTL_ALLOC, &req)) {
			ret = 0;
			if (req.fd > 2 && req.fd != bad[i])
				close(req.fd);
		} else {
			ret = -errno;
		}
		EXPECT_EQ(-EINVAL, ret) TH_LOG("fd %d: %s", bad[i],
					       strerror(-ret));
	}
	ASSERT_NOTHING_LEAKED(self);
}

TEST_F(alloc, reserved_must_be_zero)
{
	const unsigned long long vals[] = { 1, 1ULL << 63, ~0ULL };
	struct sgbuf_alloc req;
	unsigned int i, r;
	int ret;

	for (r = 0; r < ARRAY_SIZE(req.reserved); r++) {
		for (i = 0; i < ARRAY_SIZE(vals); i++) {
			req = good_req(page_size());
			req.reserved[r] = vals[i];
			ret = try_alloc(self->dev, &req);
			EXPECT_EQ(-EINVAL, ret)
				TH_LOG("reserved[%u] = %#llx: %s", r, vals[i],
				       strerror(-ret));
		}
	}
	ASSERT_NOTHING_LEAKED(self);
}

TEST_F(alloc, bad_name)
{
	const char *bad[] = {
		"ctl\x01", "\x1f", "del\x7f", "tab\tname", "new\nline",
		"esc\x1b[0m", "x\r",
		/* Not ASCII: must be refused whatever the signedness of char. */
		"caf\xc3\xa9", "\x80", "hi\xff",
	};
	struct sgbuf_alloc req;
	unsigned int i;
	int ret;

	/* 32 printable bytes and no NUL terminator. */
	req = good_req(page_size());
	memset(req.name, 'a', sizeof(req.name));
	ret = try_alloc(self->dev, &req);
	EXPECT_EQ(-EINVAL, ret) TH_LOG("unterminated name: %s", strerror(-ret));

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		req = good_req(page_size());
		strncpy(req.name, bad[i], sizeof(req.name) - 1);
		ret = try_alloc(self->dev, &req);
		EXPECT_EQ(-EINVAL, ret) TH_LOG("name #%u: %s", i, strerror(-ret));
	}
	ASSERT_NOTHING_LEAKED(self);
}

TEST_F(alloc, name_in_fdinfo_and_set_name)
{
	/* 31 printable characters, the longest name that fits. */
	const char *longest = " !\"#$%&'()*+,-./0123456789:;<=~";
	char val[64];
	int fd;

	ASSERT_EQ((size_t)SGBUF_NAME_LEN - 1, strlen(longest));
	fd = sgbuf_alloc(self->dev, page_size(), 0, O_RDWR | O_CLOEXEC,
			 "camera frame 0");
	ASSERT_LE(0, fd) TH_LOG("alloc: %s", strerror(-fd));
	ASSERT_EQ(0, fdinfo_get(fd, "name", val, sizeof(val)));
	EXPECT_STREQ("camera frame 0", val);
	ASSERT_EQ(0, fdinfo_get(fd, "exp_name", val, sizeof(val)));
	EXPECT_STREQ(SGBUF_EXP_NAME, val);

	ASSERT_EQ(0, dmabuf_set_name(fd, "renamed"));
	ASSERT_EQ(0, fdinfo_get(fd, "name", val, sizeof(val)));
	EXPECT_STREQ("renamed", val);
	ASSERT_EQ(0, close(fd));

	fd = sgbuf_alloc(self->dev, page_size(), 0, O_RDONLY, longest);
	ASSERT_LE(0, fd) TH_LOG("alloc: %s", strerror(-fd));
	ASSERT_EQ(0, fdinfo_get(fd, "name", val, sizeof(val)));
	EXPECT_STREQ(longest, val);
	ASSERT_EQ(0, close(fd));

	/* Unnamed buffer: SET_NAME gives it a name. */
	fd = sgbuf_alloc(self->dev, page_size(), 0, O_RDWR | O_CLOEXEC, "");
	ASSERT_LE(0, fd) TH_LOG("alloc: %s", strerror(-fd));
	EXPECT_EQ(-ENOENT, fdinfo_get(fd, "name", val, sizeof(val)));
	ASSERT_EQ(0, dmabuf_set_name(fd, "late name"));
	ASSERT_EQ(0, fdinfo_get(fd, "name", val, sizeof(val)));
	EXPECT_STREQ("late name", val);
	ASSERT_EQ(0, close(fd));
}

TEST_F(alloc, unknown_ioctl)
{
	const unsigned long cmds[] = {
		_IO(SGBUF_IOC_MAGIC, 0x7f),
		_IO(SGBUF_IOC_MAGIC, 0x02),
		_IOWR(SGBUF_IOC_MAGIC, 0x02, struct sgbuf_alloc),
		_IOWR(SGBUF_IOC_MAGIC, 0xff, struct sgbuf_alloc),
		_IOWR(SGBUF_IOC_MAGIC + 1, 0x00, struct sgbuf_alloc),
		_IOR(SGBUF_IOC_MAGIC + 1, 0x01, struct sgbuf_info),
		_IOWR('H', 0x00, struct sgbuf_alloc),	/* dma-heap's magic */
		0xdeadbeef,
		0x5a5a0001,
	};
	struct sgbuf_alloc req;
	unsigned int i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		req = good_req(page_size());
		ret = try_ioctl(self->dev, cmds[i], &req);
		EXPECT_EQ(-ENOTTY, ret) TH_LOG("cmd %#lx: %s", cmds[i],
					       strerror(-ret));
	}
	ASSERT_NOTHING_LEAKED(self);
}

/*
 * A request the kernel can read but not write back: the buffer is created
 * and the copy of the fd to userspace fails. The fd must not be installed
 * and the buffer must be freed (reliability.md 1.4).
 */
TEST_F(alloc, efault_leaks_nothing)
{
	const size_t pg = page_size();
	struct sgbuf_alloc req = good_req(pg);
	char *area;
	int i, ret;

	area = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, area);
	ASSERT_EQ(0, mprotect(area + pg, pg, PROT_NONE));

	ret = ioctl(self->dev, SGBUF_IOCTL_ALLOC, NULL) ? -errno : 0;
	EXPECT_EQ(-EFAULT, ret);
	ret = ioctl(self->dev, SGBUF_IOCTL_ALLOC, area + pg) ? -errno : 0;
	EXPECT_EQ(-EFAULT, ret);
	/* Struct straddling the end of the readable page. */
	memcpy(area + pg - 40, &req, 40);
	ret = ioctl(self->dev, SGBUF_IOCTL_ALLOC, area + pg - 40) ? -errno : 0;
	EXPECT_EQ(-EFAULT, ret);
	/* Readable but not writable: the fd cannot be copied back. */
	memcpy(area, &req, sizeof(req));
	ASSERT_EQ(0, mprotect(area, pg, PROT_READ));
	for (i = 0; i < 64; i++) {
		ret = try_ioctl(self->dev, SGBUF_IOCTL_ALLOC, area);
		if (ret != -EFAULT)
			break;
	}
	EXPECT_EQ(-EFAULT, ret) TH_LOG("read-only request: %s", strerror(-ret));
	ASSERT_NOTHING_LEAKED(self);
	ASSERT_EQ(0, munmap(area, 2 * pg));
}

TEST_F(alloc, extensible_struct)
{
	struct {
		struct sgbuf_alloc a;
		unsigned char extra[1024];
	} ext;
	const size_t sizes[] = { SGBUF_ALLOC_SIZE_VER0 + 8,
				 SGBUF_ALLOC_SIZE_VER0 + 1,
				 sizeof(ext) };
	unsigned int i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		size_t extra = sizes[i] - SGBUF_ALLOC_SIZE_VER0;

		/* Larger struct, zero tail: works like VER0. */
		memset(&ext, 0, sizeof(ext));
		ext.a = good_req(page_size());
		ret = ioctl(self->dev, SGBUF_IOCTL_ALLOC_SZ(sizes[i]), &ext) ?
			-errno : 0;
		EXPECT_EQ(0, ret) TH_LOG("size %zu, zero tail: %s", sizes[i],
					 strerror(-ret));
		if (!ret) {
			EXPECT_LE(3, ext.a.fd);
			EXPECT_EQ((off_t)page_size(), lseek(ext.a.fd, 0, SEEK_END));
			EXPECT_EQ(0, close(ext.a.fd));
		}
		/* Non-zero byte at the start and at the end of the tail. */
		memset(&ext, 0, sizeof(ext));
		ext.a = good_req(page_size());
		ext.extra[extra - 1] = 1;
		ret = try_ioctl(self->dev, SGBUF_IOCTL_ALLOC_SZ(sizes[i]), &ext);
		EXPECT_EQ(-E2BIG, ret) TH_LOG("size %zu, last byte set: %s",
					       sizes[i], strerror(-ret));
		memset(&ext, 0, sizeof(ext));
		ext.a = good_req(page_size());
		ext.extra[0] = 0x80;
		ret = try_ioctl(self->dev, SGBUF_IOCTL_ALLOC_SZ(sizes[i]), &ext);
		EXPECT_EQ(-E2BIG, ret) TH_LOG("size %zu, first byte set: %s",
					       sizes[i], strerror(-ret));
	}
	/* Smaller than the first published size. */
	for (i = 8; i < SGBUF_ALLOC_SIZE_VER0; i += 8) {
		memset(&ext, 0, sizeof(ext));
		ext.a = good_req(page_size());
		ret = try_ioctl(self->dev, SGBUF_IOCTL_ALLOC_SZ(i), &ext);
		EXPECT_EQ(-EINVAL, ret) TH_LOG("size %u: %s", i, strerror(-ret));
	}
	ASSERT_NOTHING_LEAKED(self);
}

TEST_F(alloc, contiguous)
{
	const unsigned long long pg = page_size();
	unsigned long long max = self->info_base.max_contig_size;
	void *p;
	int fd;

	if (!(self->info_base.caps & SGBUF_CAP_CONTIGUOUS))
		SKIP(return, "module reports no SGBUF_CAP_CONTIGUOUS");
	TH_LOG("max_contig_size %llu", max);
	ASSERT_LE(pg, max);

	fd = sgbuf_alloc(self->dev, pg, SGBUF_ALLOC_CONTIGUOUS,
			 O_RDWR | O_CLOEXEC, NULL);
	ASSERT_LE(0, fd) TH_LOG("1-page contiguous: %s", strerror(-fd));
	ASSERT_EQ(0, close(fd));

	fd = sgbuf_alloc(self->dev, max, SGBUF_ALLOC_CONTIGUOUS,
			 O_RDWR | O_CLOEXEC, NULL);
	ASSERT_LE(0, fd) TH_LOG("max_contig_size contiguous: %s",
				strerror(-fd));
	p = map_buf(fd, max, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(-1, find_nonzero(p, max));
	pattern_fill(p, max, 0xc0);
	EXPECT_EQ(-1, pattern_check(p, max, 0xc0));
	ASSERT_EQ(0, munmap(p, max));
	ASSERT_EQ(0, close(fd));

	ASSERT_LE(max + pg, self->info_base.max_buffer_size)
		TH_LOG("max_buffer_size below max_contig_size + page");
	fd = sgbuf_alloc(self->dev, max + pg, SGBUF_ALLOC_CONTIGUOUS,
			 O_RDWR | O_CLOEXEC, NULL);
	if (fd >= 0)
		close(fd);
	EXPECT_EQ(-EFBIG, fd);
	/* The same size without the flag is fine. */
	fd = sgbuf_alloc_rw(self->dev, max + pg);
	ASSERT_LE(0, fd) TH_LOG("%s", strerror(-fd));
	ASSERT_EQ(0, close(fd));
}

/* Freed memory written with a pattern must come back zeroed. */
TEST_F(alloc, buffers_are_zeroed)
{
	const size_t sizes[] = { SZ_4K, SZ_64K, SZ_1M };
	unsigned int s, i;
	int fds[16];

	for (s = 0; s < ARRAY_SIZE(sizes); s++) {
		size_t size = sizes[s] < page_size() ? page_size() : sizes[s];

		for (i = 0; i < ARRAY_SIZE(fds); i++) {
			void *p;

			fds[i] = sgbuf_alloc_rw(self->dev, size);
			ASSERT_LE(0, fds[i]) TH_LOG("%s", strerror(-fds[i]));
			p = map_buf(fds[i], size, PROT_READ | PROT_WRITE);
			ASSERT_NE(MAP_FAILED, p);
			EXPECT_EQ(-1, find_nonzero(p, size))
				TH_LOG("fresh %zu-byte buffer not zeroed", size);
			memset(p, 0xa5, size);
			ASSERT_EQ(0, munmap(p, size));
		}
		for (i = 0; i < ARRAY_SIZE(fds); i++)
			ASSERT_EQ(0, close(fds[i]));
		/* Reallocate: likely the pages just dirtied. */
		for (i = 0; i < ARRAY_SIZE(fds); i++) {
			long off;
			void *p;

			fds[i] = sgbuf_alloc_rw(self->dev, size);
			ASSERT_LE(0, fds[i]) TH_LOG("%s", strerror(-fds[i]));
			p = map_buf(fds[i], size, PROT_READ);
			ASSERT_NE(MAP_FAILED, p);
			off = find_nonzero(p, size);
			EXPECT_EQ(-1, off)
				TH_LOG("size %zu buffer %u: dirty at %ld",
				       size, i, off);
			ASSERT_EQ(0, munmap(p, size));
		}
		for (i = 0; i < ARRAY_SIZE(fds); i++)
			ASSERT_EQ(0, close(fds[i]));
	}
}

static int highest_fd(void)
{
	struct dirent *de;
	int max = -1;
	DIR *d;

	d = opendir("/proc/self/fd");
	if (!d)
		return -errno;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' && atoi(de->d_name) > max &&
		    atoi(de->d_name) != dirfd(d))
			max = atoi(de->d_name);
	closedir(d);
	return max;
}

/* No free fd: ALLOC fails with EMFILE and the buffer is freed (1.4). */
TEST_F(alloc, emfile_leaks_nothing)
{
	struct rlimit old, lim;
	struct sgbuf_info i;
	int fd, n, ret, top;

	ASSERT_EQ(0, getrlimit(RLIMIT_NOFILE, &old));
	top = highest_fd();
	ASSERT_LE(0, top);
	lim.rlim_cur = top + 1;
	lim.rlim_max = old.rlim_max;
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &lim));
	/* Fill the holes below the limit. */
	while (dup(self->dev) >= 0)
		;
	ASSERT_EQ(EMFILE, errno);

	for (n = 0; n < 64; n++) {
		fd = sgbuf_alloc_rw(self->dev, SZ_64K);
		if (fd >= 0)
			close(fd);
		if (fd != -EMFILE)
			break;
	}
	EXPECT_EQ(-EMFILE, fd) TH_LOG("alloc #%d: %s", n, strerror(-fd));
	ret = sgbuf_get_info(self->dev, &i);
	ASSERT_EQ(0, ret);
	EXPECT_EQ(self->info_base.live_buffers, i.live_buffers);
	EXPECT_EQ(self->info_base.total_size, i.total_size);
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &old));
	EXPECT_EQ(self->bufinfo_base, bufinfo_count());
}

struct race_ctx {
	int dev;
	atomic_bool stop;
	atomic_int allocs, errors, last_error;
};

static void *race_closer(void *arg)
{
	struct race_ctx *ctx = arg;
	int fd;

	while (!atomic_load(&ctx->stop))
		for (fd = 3; fd < 64; fd++)
			if (fd != ctx->dev)
				close(fd);
	return NULL;
}

static void *race_allocator(void *arg)
{
	struct race_ctx *ctx = arg;
	int fd;

	while (!atomic_load(&ctx->stop)) {
		fd = sgbuf_alloc_rw(ctx->dev, page_size());
		if (fd < 0) {
			atomic_fetch_add(&ctx->errors, 1);
			atomic_store(&ctx->last_error, -fd);
			continue;
		}
		atomic_fetch_add(&ctx->allocs, 1);
		close(fd);	/* may already be closed by race_closer */
	}
	return NULL;
}

/*
 * ALLOC racing close() of the fd numbers it is about to return
 * (reliability.md 1.4, use after fd_install). Conclusive under KASAN;
 * here it checks for crashes, errors and leaks.
 */
TEST_F_TIMEOUT(alloc, alloc_vs_close_race, 60)
{
	struct race_ctx ctx = { 0 };
	pthread_t t[3];
	int i;

	/* Keep the device fd out of the range being closed. */
	ctx.dev = fcntl(self->dev, F_DUPFD_CLOEXEC, 200);
	ASSERT_LE(200, ctx.dev);
	ASSERT_EQ(0, close(self->dev));
	self->dev = ctx.dev;

	ASSERT_EQ(0, pthread_create(&t[0], NULL, race_closer, &ctx));
	ASSERT_EQ(0, pthread_create(&t[1], NULL, race_allocator, &ctx));
	ASSERT_EQ(0, pthread_create(&t[2], NULL, race_allocator, &ctx));
	sleep(3);
	atomic_store(&ctx.stop, true);
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, pthread_join(t[i], NULL));
	for (i = 3; i < 64; i++)
		close(i);
	TH_LOG("%d allocations", atomic_load(&ctx.allocs));
	EXPECT_LT(0, atomic_load(&ctx.allocs));
	EXPECT_EQ(0, atomic_load(&ctx.errors))
		TH_LOG("last error: %s", strerror(atomic_load(&ctx.last_error)));
	EXPECT_EQ(self->bufinfo_base, bufinfo_count());
}

struct name_race {
	int fd;
	atomic_bool stop;
	atomic_int renames, reads, bad;
	char bad_name[128];
};

/* Renames the buffer through the dma-buf core, alternating two names. */
static void *name_race_setter(void *arg)
{
	struct name_race *r = arg;
	unsigned int i = 0;

	while (!atomic_load(&r->stop)) {
		if (dmabuf_set_name(r->fd, i++ & 1 ? "race-b" : "race-a-longer"))
			atomic_fetch_add(&r->bad, 1);
		else
			atomic_fetch_add(&r->renames, 1);
	}
	return NULL;
}

/*
 * Reads the name back as a reader of /proc would: the fd link (through
 * dmabuffs_dname) and the fdinfo "name:" line. Each must be one of the two
 * names whole, never a torn or freed string.
 */
static void *name_race_reader(void *arg)
{
	struct name_race *r = arg;
	char path[64], link[128], name[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", r->fd);
	while (!atomic_load(&r->stop)) {
		n = readlink(path, link, sizeof(link) - 1);
		if (n < 0) {
			atomic_fetch_add(&r->bad, 1);
			continue;
		}
		link[n] = 0;
		if (strcmp(link, "/dmabuf:race-b") &&
		    strcmp(link, "/dmabuf:race-a-longer") &&
		    strcmp(link, "/dmabuf:start")) {
			snprintf(r->bad_name, sizeof(r->bad_name), "%s", link);
			atomic_fetch_add(&r->bad, 1);
		}
		if (fdinfo_get(r->fd, "name", name, sizeof(name)) ||
		    (strcmp(name, "race-b") && strcmp(name, "race-a-longer") &&
		     strcmp(name, "start"))) {
			snprintf(r->bad_name, sizeof(r->bad_name), "%s", name);
			atomic_fetch_add(&r->bad, 1);
		}
		atomic_fetch_add(&r->reads, 1);
	}
	return NULL;
}

/*
 * DMA_BUF_SET_NAME racing readers of the name (reliability.md 1.10: the
 * name used to be read unlocked by readlink of /proc/<pid>/fd). Conclusive
 * under KASAN; everywhere it checks that every read sees a whole name.
 */
TEST_F_TIMEOUT(alloc, set_name_vs_readers_race, 60)
{
	struct name_race r = { 0 };
	pthread_t t[3];
	int i;

	r.fd = sgbuf_alloc_rw(self->dev, SZ_4K);
	ASSERT_LE(0, r.fd);
	ASSERT_EQ(0, dmabuf_set_name(r.fd, "start"));
	ASSERT_EQ(0, pthread_create(&t[0], NULL, name_race_setter, &r));
	ASSERT_EQ(0, pthread_create(&t[1], NULL, name_race_reader, &r));
	ASSERT_EQ(0, pthread_create(&t[2], NULL, name_race_reader, &r));
	sleep(2);
	atomic_store(&r.stop, true);
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, pthread_join(t[i], NULL));
	TH_LOG("%d renames, %d reads", atomic_load(&r.renames),
	       atomic_load(&r.reads));
	EXPECT_LT(0, atomic_load(&r.renames));
	EXPECT_LT(0, atomic_load(&r.reads));
	EXPECT_EQ(0, atomic_load(&r.bad)) TH_LOG("bad read: '%s'", r.bad_name);
	EXPECT_EQ(0, close(r.fd));
	EXPECT_EQ(self->bufinfo_base, bufinfo_count());
}

/* Tests that change module parameters restore them in the teardown. */
FIXTURE(params) {
	SGBUF_FIXTURE_FIELDS;
	unsigned long long max_buffer_size, max_total_size;
};

FIXTURE_SETUP(params)
{
	int ret;

	SGBUF_FIXTURE_SETUP(self);
	ret = param_read("max_buffer_size", &self->max_buffer_size);
	ASSERT_EQ(0, ret) TH_LOG("max_buffer_size: %s", strerror(-ret));
	ret = param_read("max_total_size", &self->max_total_size);
	ASSERT_EQ(0, ret) TH_LOG("max_total_size: %s", strerror(-ret));
	EXPECT_EQ(self->max_buffer_size, self->info_base.max_buffer_size);
	EXPECT_EQ(self->max_total_size, self->info_base.max_total_size);
}

FIXTURE_TEARDOWN(params)
{
	int ret;

	ret = param_write("max_buffer_size", self->max_buffer_size);
	EXPECT_EQ(0, ret) TH_LOG("restore max_buffer_size: %s", strerror(-ret));
	ret = param_write("max_total_size", self->max_total_size);
	EXPECT_EQ(0, ret) TH_LOG("restore max_total_size: %s", strerror(-ret));
	SGBUF_FIXTURE_TEARDOWN(self);
}

TEST_F(params, max_buffer_size)
{
	const unsigned long long pg = page_size();
	struct sgbuf_info i;
	int fd, ret;

	ASSERT_LE(SZ_4M, self->info_base.max_total_size);
	ret = param_write("max_buffer_size", SZ_1M);
	ASSERT_EQ(0, ret) TH_LOG("%s", strerror(-ret));
	ASSERT_EQ(0, sgbuf_get_info(self->dev, &i));
	EXPECT_EQ(SZ_1M, i.max_buffer_size);

	fd = sgbuf_alloc_rw(self->dev, SZ_1M);
	ASSERT_LE(0, fd) TH_LOG("1 MiB at a 1 MiB limit: %s", strerror(-fd));
	ASSERT_EQ(0, close(fd));
	fd = sgbuf_alloc_rw(self->dev, SZ_1M + pg);
	if (fd >= 0)
		close(fd);
	EXPECT_EQ(-EFBIG, fd);
	fd = sgbuf_alloc_rw(self->dev, SZ_4M);
	if (fd >= 0)
		close(fd);
	EXPECT_EQ(-EFBIG, fd);
	EXPECT_EQ(self->bufinfo_base, bufinfo_count());
}

TEST_F(params, max_total_size)
{
	unsigned long long cap = self->info_base.total_size + 2 * SZ_1M;
	struct sgbuf_info i;
	int a, b, c, fd, ret, fds;

	ASSERT_LE(SZ_1M, self->info_base.max_buffer_size);
	ret = param_write("max_total_size", cap);
	ASSERT_EQ(0, ret) TH_LOG("%s", strerror(-ret));
	ASSERT_EQ(0, sgbuf_get_info(self->dev, &i));
	EXPECT_EQ(cap, i.max_total_size);

	a = sgbuf_alloc_rw(self->dev, SZ_1M);
	ASSERT_LE(0, a) TH_LOG("%s", strerror(-a));
	b = sgbuf_alloc_rw(self->dev, SZ_1M);
	ASSERT_LE(0, b) TH_LOG("exactly at the cap: %s", strerror(-b));
	fds = count_open_fds();
	fd = sgbuf_alloc_rw(self->dev, page_size());
	if (fd >= 0)
		close(fd);
	EXPECT_EQ(-ENOSPC, fd);
	EXPECT_EQ(fds, count_open_fds());
	EXPECT_EQ(self->bufinfo_base + 2, bufinfo_count());
	ASSERT_EQ(0, sgbuf_get_info(self->dev, &i));
	EXPECT_EQ(cap, i.total_size);

	ASSERT_EQ(0, close(a));
	c = sgbuf_alloc_rw(self->dev, SZ_1M);
	EXPECT_LE(0, c) TH_LOG("after freeing 1 MiB: %s", strerror(-c));
	if (c >= 0)
		ASSERT_EQ(0, close(c));
	ASSERT_EQ(0, close(b));
}

/*
 * Must stay the last fixture in this file: if the module did unload, every
 * later test would fail.
 */
FIXTURE(unload) {
	SGBUF_FIXTURE_FIELDS;
};

FIXTURE_SETUP(unload)
{
	SGBUF_FIXTURE_SETUP(self);
}

FIXTURE_TEARDOWN(unload)
{
	SGBUF_FIXTURE_TEARDOWN(self);
}

static int delete_module_nonblock(const char *name)
{
	return syscall(__NR_delete_module, name, O_NONBLOCK) ? -errno : 0;
}

TEST_F(unload, rmmod_refused_while_buffer_lives)
{
	size_t size = 4 * page_size();
	void *p;
	int fd, ret;

	fd = sgbuf_alloc_rw(self->dev, size);
	ASSERT_LE(0, fd) TH_LOG("%s", strerror(-fd));
	/* Only the dma-buf pins the module now. */
	ASSERT_EQ(0, close(self->dev));
	self->dev = -1;

	ret = delete_module_nonblock("sgbuf");
	ASSERT_EQ(-EWOULDBLOCK, ret)
		TH_LOG("delete_module with a live dma-buf fd: %s",
		       ret ? strerror(-ret) : "module unloaded!");

	/* A mapping alone also keeps the buffer, and so the module, alive. */
	p = map_buf(fd, size, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, close(fd));
	ret = delete_module_nonblock("sgbuf");
	ASSERT_EQ(-EWOULDBLOCK, ret)
		TH_LOG("delete_module with a live mapping: %s",
		       ret ? strerror(-ret) : "module unloaded!");
	memset(p, 0x3c, size);
	ASSERT_EQ(0, munmap(p, size));
}

TEST_HARNESS_MAIN
