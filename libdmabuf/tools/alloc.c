// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * dmabuf alloc: allocate a buffer, then hold it (until a signal or for
 * --hold seconds) or run a command that inherits it.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tool.h"

struct alloc_opts {
	struct backend_arg backend;
	uint32_t flags;
	const char *name;
	bool map;
	bool json;
	int64_t hold_s;		/* -1: until a signal */
	uint64_t size;
	char **command;		/* NULL: hold */
};

static void alloc_usage(FILE *f)
{
	fprintf(f,
		"usage: dmabuf alloc [OPTIONS] SIZE [-- COMMAND [ARG...]]\n\n"
		"Allocates a zeroed dma-buf of SIZE bytes (suffixes k, M, G, T: powers\n"
		"of 1024; rounded up to the page size). With a COMMAND, runs it with\n"
		"the buffer's fd inherited, its number in $DMABUF_FD and the size in\n"
		"$DMABUF_SIZE; the exit status is the command's (127 if it cannot be\n"
		"found, 126 if it cannot be run). Without one, prints the buffer and\n"
		"holds it until SIGINT/SIGTERM/SIGHUP or for --hold seconds.\n\n"
		"  -b, --backend B   sgbuf, heap, heap:NAME, udmabuf or auto (default:\n"
		"                    the first of sgbuf, heap:system, udmabuf)\n"
		"  -c, --contiguous  physically contiguous (sgbuf only)\n"
		"  -n, --name NAME   name the buffer (printable, under %d characters)\n"
		"  -r, --readonly    the fd is O_RDONLY (cannot be mapped writable)\n"
		"  -m, --map         also map the buffer while holding it\n"
		"  -t, --hold SECS   hold for SECS seconds, then exit 0\n"
		"  -j, --json        print the buffer as JSON\n"
		"  -h, --help        this text\n", DMABUF_NAME_MAX);
}

static bool valid_name(const char *name)
{
	const char *p;

	for (p = name; *p; p++)
		if (!isprint((unsigned char)*p))
			return false;
	return p - name < DMABUF_NAME_MAX;
}

static int alloc_opt(int c, struct alloc_opts *o)
{
	uint64_t v;

	switch (c) {
	case 'b':
		return parse_backend_opt(optarg, &o->backend);
	case 'c':
		o->flags |= DMABUF_ALLOC_CONTIGUOUS;
		return -1;
	case 'r':
		o->flags |= DMABUF_ALLOC_READONLY;
		return -1;
	case 'n':
		if (!valid_name(optarg))
			return tool_usage_err("bad --name: printable characters, "
					      "fewer than %d", DMABUF_NAME_MAX);
		o->name = optarg;
		return -1;
	case 'm':
		o->map = true;
		return -1;
	case 'j':
		o->json = true;
		return -1;
	case 't':
		if (parse_uint(optarg, INT32_MAX, &v))
			return tool_usage_err("bad --hold '%s': seconds expected",
					      optarg);
		o->hold_s = (int64_t)v;
		return -1;
	case 'h':
		alloc_usage(stdout);
		return EXIT_OK;
	default:
		return EXIT_USAGE;
	}
}

/* SIZE in argv[optind..end), COMMAND after the "--" at argv[end]. */
static int alloc_operands(int argc, char **argv, int end,
			  struct alloc_opts *o)
{
	int ret;

	if (optind == end)
		return tool_usage_err("missing SIZE");
	if (optind + 1 < end)
		return tool_usage_err("unexpected argument '%s' (a COMMAND "
				      "goes after '--')", argv[optind + 1]);
	ret = parse_size(argv[optind], &o->size);
	if (ret == -ERANGE)
		return tool_usage_err("size '%s' is too large", argv[optind]);
	if (ret || !o->size)
		return tool_usage_err("bad size '%s': a positive number of bytes, "
				      "optionally with k, M or G", argv[optind]);
	if (end < argc && end + 1 == argc)
		return tool_usage_err("missing COMMAND after '--'");
	if (end < argc)
		o->command = &argv[end + 1];
	if (o->command && (o->hold_s >= 0 || o->map))
		return tool_usage_err("--hold and --map are for holding the "
				      "buffer, not with a COMMAND");
	return -1;
}

static int alloc_parse(int argc, char **argv, struct alloc_opts *o)
{
	static const struct option longopts[] = {
		{ "backend", required_argument, NULL, 'b' },
		{ "contiguous", no_argument, NULL, 'c' },
		{ "name", required_argument, NULL, 'n' },
		{ "readonly", no_argument, NULL, 'r' },
		{ "map", no_argument, NULL, 'm' },
		{ "hold", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, ret, end;

	/* the options and SIZE end at the first "--" */
	for (end = 1; end < argc && strcmp(argv[end], "--"); end++)
		;
	while ((c = tool_getopt(end, argv, "b:cn:rmt:jh", longopts)) != -1) {
		ret = alloc_opt(c, o);
		if (ret >= 0)
			return ret;
	}
	return alloc_operands(argc, argv, end, o);
}

static void alloc_error(const struct alloc_opts *o, int err)
{
	char sz[SIZE_BUF];

	fmt_size(o->size, sz, sizeof(sz));
	if (err == -EOPNOTSUPP)
		tool_err("cannot allocate %s: the backend does not support "
			 "%s", sz, o->flags & DMABUF_ALLOC_CONTIGUOUS ?
			 "contiguous buffers" : "these flags");
	else if (err == -EFBIG)
		tool_err("cannot allocate %s: larger than the backend allows%s",
			 sz, o->flags & DMABUF_ALLOC_CONTIGUOUS ?
			 " for a contiguous buffer" : "");
	else if (err == -ENOSPC)
		tool_err("cannot allocate %s: the backend's total size limit "
			 "would be exceeded", sz);
	else
		tool_err("cannot allocate %s: %s", sz, strerror(-err));
}

static int run_command(const struct alloc_opts *o, int fd,
		       const struct dmabuf_info *info)
{
	char num[24];

	if (fcntl(fd, F_SETFD, 0) < 0) {
		tool_err("cannot pass the fd on: %s", strerror(errno));
		return EXIT_FAIL;
	}
	snprintf(num, sizeof(num), "%d", fd);
	setenv("DMABUF_FD", num, 1);
	snprintf(num, sizeof(num), "%" PRIu64, info->size);
	setenv("DMABUF_SIZE", num, 1);
	fflush(NULL);
	execvp(o->command[0], o->command);
	tool_err("cannot run '%s': %s", o->command[0], strerror(errno));
	return errno == ENOENT ? 127 : 126;
}

/* Waits for SIGINT, SIGTERM or SIGHUP, or @secs seconds if >= 0. */
static int hold(int64_t secs)
{
	struct timespec ts = { .tv_sec = secs };
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	do {
		sig = sigtimedwait(&set, NULL, secs >= 0 ? &ts : NULL);
	} while (sig < 0 && errno == EINTR);
	if (sig < 0 && errno != EAGAIN) {
		tool_err("waiting: %s", strerror(errno));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

static int hold_buffer(const struct alloc_opts *o, int fd)
{
	size_t len = 0;
	void *addr;
	int ret;

	if (o->map) {
		ret = dmabuf_map(fd, o->flags & DMABUF_ALLOC_READONLY ?
				 DMABUF_READ : DMABUF_RW, &addr, &len);
		if (ret < 0) {
			tool_err("cannot map the buffer: %s", strerror(-ret));
			return EXIT_FAIL;
		}
	}
	if (o->hold_s >= 0)
		fprintf(stderr, "%s: holding the buffer for %" PRId64 " s\n",
			tool_prog, o->hold_s);
	else
		fprintf(stderr, "%s: holding the buffer until interrupted\n",
			tool_prog);
	ret = hold(o->hold_s);
	if (len)
		dmabuf_unmap(addr, len);
	return ret;
}

static int alloc_and_go(const struct alloc_opts *o,
			struct dmabuf_allocator *alloc)
{
	struct dmabuf_caps caps = { 0 };
	struct dmabuf_info info;
	int fd, ret;

	fd = dmabuf_alloc(alloc, o->size, o->flags, o->name);
	if (fd < 0) {
		alloc_error(o, fd);
		return EXIT_FAIL;
	}
	dmabuf_allocator_caps(alloc, &caps);
	ret = dmabuf_get_info(fd, &info);
	if (ret < 0) {
		tool_err("allocated, but cannot read the buffer's fdinfo: %s",
			 strerror(-ret));
		close(fd);
		return EXIT_FAIL;
	}
	if (o->command)
		return run_command(o, fd, &info);
	print_buf_report(&(struct buf_report){ .pid = getpid(),
		.fd = fd, .info = &info,
		.backend = caps.name[0] ? caps.name : NULL }, o->json);
	if (fflush(stdout)) {
		tool_err("cannot write: %s", strerror(errno));
		close(fd);
		return EXIT_FAIL;
	}
	ret = hold_buffer(o, fd);
	close(fd);
	return ret;
}

int cmd_alloc(int argc, char **argv)
{
	struct alloc_opts o = { .hold_s = -1 };
	struct dmabuf_allocator *alloc;
	int ret;

	ret = alloc_parse(argc, argv, &o);
	if (ret >= 0)
		return ret;
	if (open_allocator(&o.backend, &alloc) < 0)
		return EXIT_FAIL;
	ret = alloc_and_go(&o, alloc);
	dmabuf_allocator_free(alloc);
	return ret;
}
