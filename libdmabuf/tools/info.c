// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * dmabuf info FD | /proc/PID/fd/N: size, exporter, name, inode and count
 * of one buffer.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tool.h"

static void info_usage(FILE *f)
{
	fprintf(f,
		"usage: dmabuf info [--json] FD|/proc/PID/fd/N...\n\n"
		"Size, exporter, name, inode and file reference count of a dma-buf:\n"
		"an fd of this process (inherited, as in: dmabuf alloc 1M -- sh -c\n"
		"'dmabuf info $DMABUF_FD'), or another process's fd.\n\n"
		"  -j, --json    one JSON object per buffer\n"
		"  -h, --help    this text\n");
}

/* What a non-dma-buf is, for the error message. */
static const char *what_is(const char *link_path, char *buf, size_t len)
{
	ssize_t n = readlink(link_path, buf, len - 1);

	if (n < 0)
		return "not a dma-buf";
	buf[n] = '\0';
	return buf;
}

static int info_own_fd(int fd, bool json)
{
	char path[64], what[256];
	struct dmabuf_info info;
	int ret;

	ret = dmabuf_get_info(fd, &info);
	if (ret == -EBADF) {
		tool_err("fd %d is not open", fd);
	} else if (ret == -EINVAL) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		tool_err("fd %d is not a dma-buf (it is %s)", fd,
			 what_is(path, what, sizeof(what)));
	} else if (ret < 0) {
		tool_err("fd %d: %s", fd, strerror(-ret));
	} else {
		print_buf_report(&(struct buf_report){ .fd = fd,
			.info = &info }, json);
	}
	return ret < 0 ? EXIT_FAIL : EXIT_OK;
}

static void fdinfo_error(const char *arg, long pid, int err)
{
	char dir[32], what[256];

	snprintf(dir, sizeof(dir), "/proc/%ld", pid);
	if (err == -ENOENT && access(dir, F_OK))
		tool_err("%s: no process %ld", arg, pid);
	else if (err == -ENOENT)
		tool_err("%s: process %ld has no such fd", arg, pid);
	else if (err == -EACCES || err == -EPERM)
		tool_err("%s: %s (the process is not yours: run as root)", arg,
			 strerror(-err));
	else if (err == -EINVAL)
		tool_err("%s is not a dma-buf (it is %s)", arg,
			 what_is(arg, what, sizeof(what)));
	else
		tool_err("%s: %s", arg, strerror(-err));
}

static int info_proc_fd(const char *arg, long pid, int fd, bool json)
{
	struct dmabuf_info info = { 0 };
	struct fdinfo fi;
	char path[64];
	int ret;

	snprintf(path, sizeof(path), "/proc/%ld/fdinfo/%d", pid, fd);
	ret = read_fdinfo(AT_FDCWD, path, &fi);
	if (!ret && !fi.has_exp_name)
		ret = -EINVAL;
	if (ret < 0) {
		fdinfo_error(arg, pid, ret);
		return EXIT_FAIL;
	}
	info.size = fi.size;
	info.inode = fi.inode;
	info.count = fi.count;
	snprintf(info.exporter, sizeof(info.exporter), "%s", fi.exporter);
	snprintf(info.name, sizeof(info.name), "%s", fi.name);
	print_buf_report(&(struct buf_report){ .pid = (pid_t)pid, .fd = fd,
		.info = &info }, json);
	return EXIT_OK;
}

/* "/proc/PID/fd/N" or "/proc/self/fd/N" -> PID, N */
static int parse_proc_fd(const char *arg, long *pid, int *fd)
{
	char rest[32];
	uint64_t n;

	if (sscanf(arg, "/proc/self/fd/%31s", rest) == 1)
		*pid = (long)getpid();
	else if (sscanf(arg, "/proc/%ld/fd/%31s", pid, rest) != 2 || *pid <= 0)
		return -EINVAL;
	if (parse_uint(rest, INT32_MAX, &n))
		return -EINVAL;
	*fd = (int)n;
	return 0;
}

static int info_one(const char *arg, bool json)
{
	uint64_t n;
	long pid;
	int fd;

	if (!parse_uint(arg, INT32_MAX, &n))
		return info_own_fd((int)n, json);
	if (!parse_proc_fd(arg, &pid, &fd))
		return info_proc_fd(arg, pid, fd, json);
	if (!access(arg, F_OK)) {
		tool_err("%s is not a dma-buf: a dma-buf has no path; give an "
			 "fd number or /proc/PID/fd/N", arg);
		return EXIT_FAIL;
	}
	return tool_usage_err("'%s' is neither an fd number nor /proc/PID/fd/N",
			      arg);
}

int cmd_info(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, i, ret = EXIT_OK;
	bool json = false;

	while ((c = tool_getopt(argc, argv, "jh", longopts)) != -1) {
		if (c == 'j') {
			json = true;
		} else if (c == 'h') {
			info_usage(stdout);
			return EXIT_OK;
		} else {
			return EXIT_USAGE;
		}
	}
	if (optind == argc)
		return tool_usage_err("missing FD or /proc/PID/fd/N");
	for (i = optind; i < argc; i++) {
		int r;

		if (i > optind && !json)
			putchar('\n');
		r = info_one(argv[i], json);
		if (r == EXIT_USAGE)
			return r;
		if (r)
			ret = r;
	}
	return ret;
}
