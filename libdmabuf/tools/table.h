/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Text tables with columns as wide as their widest cell.
 */
#ifndef DMABUF_TOOL_TABLE_H
#define DMABUF_TOOL_TABLE_H

#include <stddef.h>
#include <stdio.h>

#define TABLE_MAX_COLS 8

struct table {
	size_t ncols;
	const char *head[TABLE_MAX_COLS];
	unsigned int right;	/* bit i: column i is right-aligned */
	char **cells;		/* nrows * ncols, owned */
	size_t nrows, caprows;
	int error;		/* -ENOMEM after a failed add */
};

/* @heads: column titles, NULL-terminated; a leading '>' right-aligns. */
void table_init(struct table *t, const char *const *heads);
/* Adds a row: ncols strings (copied). */
void table_row(struct table *t, ...);
/* Prints and frees; returns t->error. */
int table_print(struct table *t, FILE *f);

#endif /* DMABUF_TOOL_TABLE_H */
