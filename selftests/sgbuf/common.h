/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared helpers for the sgbuf selftests.
 *
 * Every helper returns a value >= 0 on success and -errno on failure, so
 * that a test can report the exact error with strerror(-ret).
 */
#ifndef SGBUF_SELFTEST_COMMON_H
#define SGBUF_SELFTEST_COMMON_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <linux/dma-buf.h>
#include <linux/sgbuf.h>

#define SGBUF_DEV		"/dev/sgbuf"
#define SGBUF_HEAP_DEV		"/dev/dma_heap/sgbuf"
#define SGBUF_PARAM_DIR		"/sys/module/sgbuf/parameters"
#define SGBUF_EXP_NAME		"sgbuf"
#define DMABUF_BUFINFO		"/sys/kernel/debug/dma_buf/bufinfo"

#define SZ_4K			(4096ULL)
#define SZ_64K			(64ULL << 10)
#define SZ_256K			(256ULL << 10)
#define SZ_1M			(1ULL << 20)
#define SZ_4M			(4ULL << 20)
#define SZ_64M			(64ULL << 20)
#define SZ_256M			(256ULL << 20)

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#endif

static inline unsigned long page_size(void)
{
	return (unsigned long)sysconf(_SC_PAGESIZE);
}

static inline unsigned long long page_align(unsigned long long v)
{
	return (v + page_size() - 1) & ~((unsigned long long)page_size() - 1);
}

/* Whether the whitespace-separated words of @path include @word. */
static inline bool file_has_word(const char *path, const char *word)
{
	char buf[4096], *tok, *save = NULL;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	for (tok = strtok_r(buf, " \t\n", &save); tok;
	     tok = strtok_r(NULL, " \t\n", &save))
		if (!strcmp(tok, word))
			return true;
	return false;
}

/* Mappings of dma-bufs in this process (/proc/self/maps), or -errno. */
static inline int dmabuf_maps_count(void)
{
	char line[512];
	int n = 0;
	FILE *f;

	f = fopen("/proc/self/maps", "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		n += !!strstr(line, " /dmabuf:");
	fclose(f);
	return n;
}

/* Open /dev/sgbuf. Returns the fd or -errno. */
static inline int sgbuf_open(void)
{
	int fd = open(SGBUF_DEV, O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

/* SGBUF_IOCTL_ALLOC with a caller-built request. Returns 0 or -errno. */
static inline int sgbuf_alloc_req(int dev, struct sgbuf_alloc *req)
{
	return ioctl(dev, SGBUF_IOCTL_ALLOC, req) ? -errno : 0;
}

/*
 * Allocate a buffer. @name may be NULL. Returns the dma-buf fd or -errno.
 * A successful ioctl that returns a negative fd is reported as -EBADF.
 */
static inline int sgbuf_alloc(int dev, unsigned long long size,
			      unsigned long long flags, unsigned int fd_flags,
			      const char *name)
{
	struct sgbuf_alloc req;
	int ret;

	memset(&req, 0, sizeof(req));
	req.size = size;
	req.flags = flags;
	req.fd_flags = fd_flags;
	if (name)
		memcpy(req.name, name, strnlen(name, sizeof(req.name) - 1));
	ret = sgbuf_alloc_req(dev, &req);
	if (ret)
		return ret;
	return req.fd >= 0 ? req.fd : -EBADF;
}

/* The common case: a read-write, close-on-exec, unnamed buffer. */
static inline int sgbuf_alloc_rw(int dev, unsigned long long size)
{
	return sgbuf_alloc(dev, size, 0, O_RDWR | O_CLOEXEC, NULL);
}

static inline int sgbuf_get_info(int dev, struct sgbuf_info *info)
{
	memset(info, 0, sizeof(*info));
	return ioctl(dev, SGBUF_IOCTL_GET_INFO, info) ? -errno : 0;
}

/* GET_INFO on a freshly opened /dev/sgbuf, for callers without a dev fd. */
static inline int sgbuf_get_info_nodev(struct sgbuf_info *info)
{
	int dev = sgbuf_open();
	int ret;

	if (dev < 0)
		return dev;
	ret = sgbuf_get_info(dev, info);
	close(dev);
	return ret;
}

/* DMA_BUF_IOCTL_SYNC. Returns 0 or -errno. */
static inline int dmabuf_sync(int fd, unsigned long long flags)
{
	struct dma_buf_sync sync = { .flags = flags };

	return ioctl(fd, DMA_BUF_IOCTL_SYNC, &sync) ? -errno : 0;
}

static inline int dmabuf_set_name(int fd, const char *name)
{
	return ioctl(fd, DMA_BUF_SET_NAME_B, name) ? -errno : 0;
}

/*
 * Split one object line of debugfs bufinfo into its columns:
 *   size flags mode count exp_name ino name
 * Attachment lines start with a tab and are not object lines.
 * Returns the number of columns found (0 for non-object lines).
 */
static inline int bufinfo_split(char *line, char **col, int max)
{
	int n = 0;
	char *save = NULL, *tok;

	if (line[0] < '0' || line[0] > '9')
		return 0;
	line[strcspn(line, "\n")] = '\0';
	for (tok = strtok_r(line, "\t", &save); tok && n < max;
	     tok = strtok_r(NULL, "\t", &save))
		col[n++] = tok;
	return n;
}

/*
 * Count the dma-bufs whose exporter is sgbuf in debugfs bufinfo.
 * Returns the count or -errno (debugfs bufinfo must be readable).
 */
static inline int bufinfo_count(void)
{
	char line[512];
	char *col[8];
	int count = 0;
	FILE *f;

	f = fopen(DMABUF_BUFINFO, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (bufinfo_split(line, col, ARRAY_SIZE(col)) >= 6 &&
		    !strcmp(col[4], SGBUF_EXP_NAME))
			count++;
	}
	if (ferror(f)) {
		fclose(f);
		return -EIO;
	}
	fclose(f);
	return count;
}

/*
 * Poll bufinfo (up to 2 s) until it lists @want sgbuf buffers: a buffer
 * whose last reference was an import's is released on the module's
 * workqueue a moment after the import goes. Returns the last count.
 */
static inline int bufinfo_settle(int want)
{
	int i, n = -1;

	for (i = 0; i < 200; i++) {
		n = bufinfo_count();
		if (n == want)
			break;
		usleep(10 * 1000);
	}
	return n;
}

/*
 * Open bufinfo positioned just after the row of the sgbuf buffer behind
 * @fd (found by inode). Returns 0 with *@f open, -ENOENT if the buffer is
 * not listed, or -errno.
 */
static inline int bufinfo_open_at(int fd, FILE **f)
{
	char line[512];
	char *col[8];
	struct stat st;

	if (fstat(fd, &st))
		return -errno;
	*f = fopen(DMABUF_BUFINFO, "re");
	if (!*f)
		return -errno;
	while (fgets(line, sizeof(line), *f)) {
		if (bufinfo_split(line, col, ARRAY_SIZE(col)) >= 6 &&
		    !strcmp(col[4], SGBUF_EXP_NAME) &&
		    strtoull(col[5], NULL, 10) == (unsigned long long)st.st_ino)
			return 0;
	}
	fclose(*f);
	return -ENOENT;
}

/*
 * Number of devices attached to the dma-buf behind @fd, as listed in
 * bufinfo ("Total N devices attached" after the object's line).
 * Returns the count, -ENOENT if the buffer is not listed, or -errno.
 */
static inline int bufinfo_attachments(int fd)
{
	char line[512];
	FILE *f;
	int ret;

	ret = bufinfo_open_at(fd, &f);
	if (ret)
		return ret;
	ret = -EPROTO;	/* object line without an attachment total */
	while (fgets(line, sizeof(line), f)) {
		int n;

		if (sscanf(line, "Total %d devices attached", &n) == 1) {
			ret = n;
			break;
		}
	}
	fclose(f);
	return ret;
}

/* Number of open fds of this process, or -errno. */
static inline int count_open_fds(void)
{
	struct dirent *de;
	int count = 0;
	DIR *d;

	d = opendir("/proc/self/fd");
	if (!d)
		return -errno;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			count++;
	closedir(d);
	return count - 1;	/* the directory's own fd */
}

/* Close every fd >= @low. Returns 0 or -errno. */
static inline int close_fds_from(int low)
{
	int fds[1024];
	struct dirent *de;
	int i, n = 0;
	DIR *d;

	d = opendir("/proc/self/fd");
	if (!d)
		return -errno;
	while ((de = readdir(d)) && n < (int)ARRAY_SIZE(fds)) {
		int fd;

		if (de->d_name[0] == '.')
			continue;
		fd = atoi(de->d_name);
		if (fd >= low && fd != dirfd(d))
			fds[n++] = fd;
	}
	closedir(d);
	for (i = 0; i < n; i++)
		close(fds[i]);
	return 0;
}

/*
 * Unmap every mapping of a dma-buf ("/dmabuf:<name>") or a DRM node
 * ("/dev/dri/...") left behind by a failed test. Returns the number of
 * mappings removed or -errno.
 */
static inline int unmap_leftovers(void)
{
	unsigned long start[256], end[256];
	char line[512];
	int i, n = 0;
	FILE *f;

	f = fopen("/proc/self/maps", "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f) && n < (int)ARRAY_SIZE(start)) {
		if (!strstr(line, " /dmabuf:") && !strstr(line, " /dev/dri/"))
			continue;
		if (sscanf(line, "%lx-%lx", &start[n], &end[n]) == 2)
			n++;
	}
	fclose(f);
	for (i = 0; i < n; i++)
		munmap((void *)start[i], end[i] - start[i]);
	return n;
}

/*
 * Read the value of @key from /proc/self/fdinfo/<fd> into @val (without
 * the trailing newline). Returns 0, -ENOENT if the key is absent, or -errno.
 */
static inline int fdinfo_get(int fd, const char *key, char *val, size_t len)
{
	char path[64], line[256];
	size_t klen = strlen(key);
	int ret = -ENOENT;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, klen) || line[klen] != ':' ||
		    line[klen + 1] != '\t')
			continue;
		line[strcspn(line, "\n")] = '\0';
		if (len) {
			size_t n = strnlen(line + klen + 2, len - 1);

			memcpy(val, line + klen + 2, n);
			val[n] = '\0';
		}
		ret = 0;
		break;
	}
	fclose(f);
	return ret;
}

/* Read one unsigned number from a sysfs/debugfs file. */
/* Read a small text file into @buf, without its trailing newline. */
static inline int read_str_file(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0) {
		n = -errno;
		close(fd);
		return n;
	}
	close(fd);
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

static inline int read_ull_file(const char *path, unsigned long long *val)
{
	char buf[64];
	char *end;
	int ret;

	ret = read_str_file(path, buf, sizeof(buf));
	if (ret)
		return ret;
	errno = 0;
	*val = strtoull(buf, &end, 0);
	if (errno || end == buf)
		return -EPROTO;
	return 0;
}

/* Read a module parameter (an unsigned decimal number). */
static inline int param_read(const char *name, unsigned long long *val)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", SGBUF_PARAM_DIR, name);
	return read_ull_file(path, val);
}

/* Write a module parameter and read it back. */
static inline int param_write(const char *name, unsigned long long val)
{
	unsigned long long check = 0;
	char path[128], buf[64];
	int fd, len, ret;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s", SGBUF_PARAM_DIR, name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	len = snprintf(buf, sizeof(buf), "%llu\n", val);
	n = write(fd, buf, len);
	ret = n == len ? 0 : (n < 0 ? -errno : -EIO);
	close(fd);
	if (ret)
		return ret;
	ret = param_read(name, &check);
	if (ret)
		return ret;
	return check == val ? 0 : -EPROTO;
}

/* mmap a whole dma-buf shared. Returns the address or MAP_FAILED. */
static inline void *map_buf(int fd, size_t len, int prot)
{
	return mmap(NULL, len, prot, MAP_SHARED, fd, 0);
}

/* Per-word pattern used by the data tests: distinct per offset and seed. */
static inline uint64_t pattern_word(size_t idx, uint64_t seed)
{
	uint64_t x = (idx + 1) * 0x9e3779b97f4a7c15ULL ^ seed;

	return x ^ (x >> 29);
}

static inline void pattern_fill(void *p, size_t len, uint64_t seed)
{
	uint64_t *w = p;
	size_t i;

	for (i = 0; i < len / 8; i++)
		w[i] = pattern_word(i, seed);
}

/* Returns the index of the first wrong word, or -1 if all match. */
static inline long pattern_check(const void *p, size_t len, uint64_t seed)
{
	const uint64_t *w = p;
	size_t i;

	for (i = 0; i < len / 8; i++)
		if (w[i] != pattern_word(i, seed))
			return (long)i;
	return -1;
}

/* Returns the offset of the first non-zero byte, or -1 if all zero. */
static inline long find_nonzero(const void *p, size_t len)
{
	const uint64_t *w = p;
	size_t i;

	for (i = 0; i < len / 8; i++)
		if (w[i])
			return (long)(i * 8);
	return -1;
}

/*
 * Leak-check fixture plumbing shared by all test files. A fixture that
 * embeds SGBUF_FIXTURE_FIELDS calls SGBUF_FIXTURE_SETUP() in its setup and
 * SGBUF_FIXTURE_TEARDOWN() in its teardown. The teardown first drops
 * everything a failed test may have left behind (fds >= 3, dma-buf and DRM
 * mappings), then requires bufinfo, live_buffers and total_size to be back
 * at the values recorded in setup: anything still counted then is a
 * buffer the kernel leaked.
 */
#define SGBUF_FIXTURE_FIELDS						\
	int dev;							\
	int bufinfo_base;						\
	struct sgbuf_info info_base

#define SGBUF_FIXTURE_SETUP(self) do {					\
	int __ret;							\
									\
	(self)->dev = sgbuf_open();					\
	ASSERT_LE(0, (self)->dev)					\
		TH_LOG("open %s: %s (the module must be loaded)",	\
		       SGBUF_DEV, strerror(-(self)->dev));		\
	(self)->bufinfo_base = bufinfo_count();				\
	ASSERT_LE(0, (self)->bufinfo_base)				\
		TH_LOG("read %s: %s", DMABUF_BUFINFO,			\
		       strerror(-(self)->bufinfo_base));		\
	__ret = sgbuf_get_info((self)->dev, &(self)->info_base);	\
	ASSERT_EQ(0, __ret)						\
		TH_LOG("SGBUF_IOCTL_GET_INFO: %s", strerror(-__ret));	\
} while (0)

#define SGBUF_FIXTURE_TEARDOWN(self) do {				\
	struct sgbuf_info __info;					\
	int __ret;							\
									\
	unmap_leftovers();						\
	close_fds_from(3);						\
	(self)->dev = -1;						\
	__ret = bufinfo_count();					\
	EXPECT_EQ((self)->bufinfo_base, __ret)				\
		TH_LOG("sgbuf buffers in bufinfo: %d at setup, %d now",	\
		       (self)->bufinfo_base, __ret);			\
	__ret = sgbuf_get_info_nodev(&__info);				\
	EXPECT_EQ(0, __ret)						\
		TH_LOG("SGBUF_IOCTL_GET_INFO: %s", strerror(-__ret));	\
	if (!__ret) {							\
		EXPECT_EQ((self)->info_base.live_buffers,		\
			  __info.live_buffers);				\
		EXPECT_EQ((self)->info_base.total_size,			\
			  __info.total_size);				\
	}								\
} while (0)

#endif /* SGBUF_SELFTEST_COMMON_H */
