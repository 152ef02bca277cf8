// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The dmabuf tool: messages, option and argument parsing, formatting.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tool.h"

const char *tool_prog = "dmabuf";
static char prog_buf[64];

void tool_set_prog(const char *subcommand)
{
	snprintf(prog_buf, sizeof(prog_buf), "dmabuf %s", subcommand);
	tool_prog = prog_buf;
}

static void __attribute__((format(printf, 1, 0)))
vmsg(const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", tool_prog);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void tool_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}

int tool_usage_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
	fprintf(stderr, "Try '%s --help'.\n", tool_prog);
	return EXIT_USAGE;
}

/* The option that getopt_long() choked on, for an error message. */
static const char *bad_option(char **argv, int c)
{
	static char buf[64];
	const char *arg = argv[optind - 1];

	if (!strncmp(arg, "--", 2))
		snprintf(buf, sizeof(buf), "%.*s", (int)strcspn(arg, "="), arg);
	else
		snprintf(buf, sizeof(buf), "-%c", c);
	return buf;
}

/* Options may follow operands; "--" ends them (dmabuf alloc's COMMAND). */
int tool_getopt(int argc, char **argv, const char *shortopts,
		const struct option *longopts)
{
	char opts[64];
	int c;

	snprintf(opts, sizeof(opts), ":%s", shortopts);
	opterr = 0;
	c = getopt_long(argc, argv, opts, longopts, NULL);
	if (c == '?') {
		tool_usage_err("unknown option '%s'", bad_option(argv, optopt));
	} else if (c == ':') {
		tool_usage_err("option '%s' needs an argument",
			       bad_option(argv, optopt));
		c = '?';
	}
	return c;
}

int parse_uint(const char *s, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end)
		return -EINVAL;
	if (errno == ERANGE || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

static int size_shift(const char *suffix)
{
	static const char units[] = "kmgt";
	const char *u;

	if (!*suffix)
		return 0;
	u = strchr(units, tolower((unsigned char)*suffix));
	if (!u)
		return -1;
	suffix++;
	/* "k", "kB", "KiB" */
	if (*suffix && strcmp(suffix, "B") && strcmp(suffix, "iB"))
		return -1;
	return 10 * (int)(u - units + 1);
}

int parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end;
	int shift;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	shift = size_shift(end);
	if (shift < 0)
		return -EINVAL;
	if (errno == ERANGE || (shift && v > (UINT64_MAX >> shift)))
		return -ERANGE;
	*out = (uint64_t)v << shift;
	return 0;
}

int parse_backend(const char *s, struct backend_arg *out)
{
	struct backend_arg b = { .backend = DMABUF_BACKEND_AUTO };

	if (!strcmp(s, "auto"))
		b.backend = DMABUF_BACKEND_AUTO;
	else if (!strcmp(s, "sgbuf"))
		b.backend = DMABUF_BACKEND_SGBUF;
	else if (!strcmp(s, "udmabuf"))
		b.backend = DMABUF_BACKEND_UDMABUF;
	else if (!strcmp(s, "heap"))
		b.backend = DMABUF_BACKEND_HEAP;
	else if (!strncmp(s, "heap:", 5) && s[5] && !strchr(s + 5, '/') &&
		 strlen(s + 5) < sizeof(b.heap)) {
		b.backend = DMABUF_BACKEND_HEAP;
		strcpy(b.heap, s + 5);
	} else {
		return -EINVAL;
	}
	*out = b;
	return 0;
}

int parse_backend_opt(const char *arg, struct backend_arg *out)
{
	if (parse_backend(arg, out))
		return tool_usage_err("unknown backend '%s' (sgbuf, heap, "
				      "heap:NAME, udmabuf, auto)", arg);
	return -1;
}

const char *backend_str(enum dmabuf_backend backend)
{
	switch (backend) {
	case DMABUF_BACKEND_AUTO:
		return "auto";
	case DMABUF_BACKEND_SGBUF:
		return "sgbuf";
	case DMABUF_BACKEND_HEAP:
		return "heap";
	case DMABUF_BACKEND_UDMABUF:
		return "udmabuf";
	}
	return "?";
}

static const char *backend_path(const struct backend_arg *arg, char *buf,
				size_t len)
{
	switch (arg->backend) {
	case DMABUF_BACKEND_SGBUF:
		return "/dev/sgbuf";
	case DMABUF_BACKEND_UDMABUF:
		return "/dev/udmabuf";
	case DMABUF_BACKEND_HEAP:
		snprintf(buf, len, "/dev/dma_heap/%s",
			 arg->heap[0] ? arg->heap : "system");
		return buf;
	default:
		return "sgbuf, the system heap or udmabuf";
	}
}

int open_allocator(const struct backend_arg *arg,
		   struct dmabuf_allocator **out)
{
	char path[96];
	int ret;

	ret = dmabuf_allocator_new(arg->backend,
				   arg->heap[0] ? arg->heap : NULL, out);
	if (ret == -ENOENT && arg->backend == DMABUF_BACKEND_AUTO)
		tool_err("no dma-buf allocator on this system (tried %s)",
			 backend_path(arg, path, sizeof(path)));
	else if (ret == -ENOENT)
		tool_err("backend %s: %s does not exist",
			 backend_str(arg->backend),
			 backend_path(arg, path, sizeof(path)));
	else if (ret < 0)
		tool_err("backend %s (%s): %s", backend_str(arg->backend),
			 backend_path(arg, path, sizeof(path)), strerror(-ret));
	return ret;
}

const char *fmt_size(uint64_t bytes, char *buf, size_t len)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	unsigned int u = 0;
	uint64_t scale = 1;

	while (u + 1 < sizeof(units) / sizeof(units[0]) &&
	       bytes >= scale * 1024)
		scale *= 1024, u++;
	if (bytes % scale == 0)
		snprintf(buf, len, "%" PRIu64 " %s", bytes / scale, units[u]);
	else
		snprintf(buf, len, "%.1f %s", (double)bytes / (double)scale,
			 units[u]);
	return buf;
}

void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

FILE *fopen_at(int dirfd, const char *path, int *err)
{
	int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
	FILE *f;

	*err = fd < 0 ? -errno : 0;
	if (fd < 0)
		return NULL;
	f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		*err = -ENOMEM;
	}
	return f;
}

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* "key:\tvalue" lines of an fdinfo file */
static void fdinfo_line(char *line, struct fdinfo *fi)
{
	char *val = strchr(line, ':');

	if (!val)
		return;
	*val++ = '\0';
	val += strspn(val, " \t");
	val[strcspn(val, "\n")] = '\0';
	if (!strcmp(line, "size"))
		fi->size = strtoull(val, NULL, 10);
	else if (!strcmp(line, "ino"))
		fi->inode = strtoull(val, NULL, 10);
	else if (!strcmp(line, "count"))
		fi->count = strtoll(val, NULL, 10);
	else if (!strcmp(line, "exp_name")) {
		fi->has_exp_name = 1;
		snprintf(fi->exporter, sizeof(fi->exporter), "%s", val);
	} else if (!strcmp(line, "name"))
		snprintf(fi->name, sizeof(fi->name), "%s", val);
}

int read_fdinfo(int dirfd, const char *path, struct fdinfo *out)
{
	struct fdinfo fi = { .count = -1 };
	char line[512];
	FILE *f;
	int ret;

	f = fopen_at(dirfd, path, &ret);
	if (!f)
		return ret;
	while (fgets(line, sizeof(line), f))
		fdinfo_line(line, &fi);
	fclose(f);
	*out = fi;
	return 0;
}

static void print_json_report(const struct buf_report *r)
{
	const struct dmabuf_info *i = r->info;

	printf("{");
	if (r->pid)
		printf("\"pid\":%ld,", (long)r->pid);
	if (r->fd >= 0)
		printf("\"fd\":%d,", r->fd);
	printf("\"size\":%" PRIu64 ",\"exporter\":", i->size);
	json_str(stdout, i->exporter);
	printf(",\"name\":");
	json_str(stdout, i->name);
	printf(",\"inode\":%" PRIu64 ",\"count\":%" PRId64, i->inode, i->count);
	if (r->backend) {
		printf(",\"backend\":");
		json_str(stdout, r->backend);
	}
	printf("}\n");
}

void print_buf_report(const struct buf_report *r, bool json)
{
	const struct dmabuf_info *i = r->info;
	char sz[SIZE_BUF];

	if (json) {
		print_json_report(r);
		return;
	}
	if (r->pid)
		printf("pid:      %ld\n", (long)r->pid);
	if (r->fd >= 0)
		printf("fd:       %d\n", r->fd);
	printf("size:     %" PRIu64 " (%s)\n", i->size,
	       fmt_size(i->size, sz, sizeof(sz)));
	printf("exporter: %s\n", i->exporter);
	printf("name:     %s\n", i->name[0] ? i->name : "-");
	printf("inode:    %" PRIu64 "\n", i->inode);
	printf("count:    %" PRId64 "\n", i->count);
	if (r->backend)
		printf("backend:  %s\n", r->backend);
}
