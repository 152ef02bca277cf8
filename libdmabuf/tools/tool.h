/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The dmabuf tool: what its source files share.
 */
#ifndef DMABUF_TOOL_H
#define DMABUF_TOOL_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <dmabuf/dmabuf.h>

/* Exit statuses of every subcommand. */
#define EXIT_OK		0
#define EXIT_FAIL	1
#define EXIT_USAGE	2

/* A subcommand: its name, its entry point and a one-line summary. */
struct tool_cmd {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

int cmd_list(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_alloc(int argc, char **argv);
int cmd_caps(int argc, char **argv);
int cmd_pipe(int argc, char **argv);

/* "dmabuf" or "dmabuf SUBCOMMAND", the prefix of every message. */
extern const char *tool_prog;

void tool_set_prog(const char *subcommand);
/* "dmabuf x: message" on stderr. */
void tool_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The same plus "Try 'dmabuf x --help'."; returns EXIT_USAGE. */
int tool_usage_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * getopt_long() wrapped so that it reports errors in the tool's words.
 * @shortopts must not begin with ':' (added here). Options and operands
 * may mix; "--" ends the options. Returns the option, -1 at the end, or
 * '?' after it has printed the usage error.
 */
int tool_getopt(int argc, char **argv, const char *shortopts,
		const struct option *longopts);

/* Parsers: 0, or -EINVAL/-ERANGE with nothing written. */
int parse_size(const char *s, uint64_t *out);	/* 4096, 64k, 8M, 1G */
int parse_uint(const char *s, uint64_t max, uint64_t *out);

/* A --backend argument: sgbuf, heap, heap:NAME, udmabuf or auto. */
struct backend_arg {
	enum dmabuf_backend backend;
	char heap[64];		/* "" unless heap:NAME was given */
};

int parse_backend(const char *s, struct backend_arg *out);
/* parse_backend() of a --backend option: -1, or EXIT_USAGE after saying why. */
int parse_backend_opt(const char *arg, struct backend_arg *out);
const char *backend_str(enum dmabuf_backend backend);
/* dmabuf_allocator_new() for @arg; prints why it failed. */
int open_allocator(const struct backend_arg *arg,
		   struct dmabuf_allocator **out);

/* "1 MiB", "1.5 GiB", "4095 B" */
const char *fmt_size(uint64_t bytes, char *buf, size_t len);
#define SIZE_BUF 32

/* @s as a JSON string, quotes included. */
void json_str(FILE *f, const char *s);

/*
 * @path (relative to @dirfd, or AT_FDCWD) opened for reading, *@err 0; or
 * NULL, *@err a negative errno.
 */
FILE *fopen_at(int dirfd, const char *path, int *err);

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t now_ns(void);

/* What an fdinfo file says about a dma-buf (list.c, info.c). */
struct fdinfo {
	uint64_t size;
	uint64_t inode;
	int64_t count;
	int has_exp_name;	/* the file is a dma-buf */
	char exporter[64];
	char name[DMABUF_NAME_MAX];
};

/*
 * Parses /proc/<pid>/fdinfo/<fd> opened at @dirfd (AT_FDCWD for a path).
 * Returns 0 (check ->has_exp_name), or a negative errno.
 */
int read_fdinfo(int dirfd, const char *path, struct fdinfo *out);

/* Prints one buffer's fields as "key: value" lines or a JSON object. */
struct buf_report {
	pid_t pid;		/* holder, 0 if not to be shown */
	int fd;			/* -1 if not to be shown */
	const struct dmabuf_info *info;
	const char *backend;	/* NULL if not to be shown */
};

void print_buf_report(const struct buf_report *r, bool json);

#endif /* DMABUF_TOOL_H */
