/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The system-wide view of dma-bufs that "dmabuf list" prints: every
 * buffer, from debugfs bufinfo and from each process's fds and mappings.
 */
#ifndef DMABUF_TOOL_SCAN_H
#define DMABUF_TOOL_SCAN_H

#include "tool.h"

/* One process's hold on a buffer: an fd, or a mapping. */
struct hold {
	pid_t pid;
	int fd;			/* -1 for a mapping */
	uint64_t mapped;	/* bytes of a mapping */
};

struct sbuf {
	uint64_t inode;
	uint64_t size;		/* 0 if unknown (seen only as a mapping) */
	int64_t count;		/* file references, -1 if unknown */
	char exporter[64];	/* "" if unknown */
	char name[DMABUF_NAME_MAX * 4];
	bool in_bufinfo;
	char *attached;		/* devices, comma-separated, or NULL */
	struct hold *holds;
	size_t nholds, capholds;
};

struct sproc {
	pid_t pid;
	char comm[64];
};

struct scan {
	struct sbuf *bufs;
	size_t nbufs, capbufs;
	struct sproc *procs;	/* processes that hold a buffer */
	size_t nprocs, capprocs;
	unsigned int unreadable; /* processes we could not (fully) read */
	int bufinfo_err;	/* 0: read; else the negative errno */
};

int scan_system(struct scan *s);	/* 0 or a negative errno */
void scan_free(struct scan *s);
const struct sproc *scan_proc(const struct scan *s, pid_t pid);

/* Parsers, exposed for scan.c's helpers and info.c. */
int scan_bufinfo(struct scan *s, const char *path);
struct sbuf *scan_buf(struct scan *s, uint64_t inode);

#endif /* DMABUF_TOOL_SCAN_H */
