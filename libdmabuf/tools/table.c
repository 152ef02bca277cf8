// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Text tables with columns as wide as their widest cell.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "table.h"

void table_init(struct table *t, const char *const *heads)
{
	memset(t, 0, sizeof(*t));
	for (; *heads && t->ncols < TABLE_MAX_COLS; heads++, t->ncols++) {
		if (**heads == '>') {
			t->right |= 1u << t->ncols;
			t->head[t->ncols] = *heads + 1;
		} else {
			t->head[t->ncols] = *heads;
		}
	}
}

static int table_reserve(struct table *t)
{
	size_t cap = t->caprows ? 2 * t->caprows : 16;
	char **p;

	if (t->nrows < t->caprows)
		return 0;
	p = realloc(t->cells, cap * t->ncols * sizeof(*p));
	if (!p)
		return -ENOMEM;
	t->cells = p;
	t->caprows = cap;
	return 0;
}

void table_row(struct table *t, ...)
{
	char **row;
	va_list ap;
	size_t i;

	if (t->error || (t->error = table_reserve(t)))
		return;
	row = &t->cells[t->nrows * t->ncols];
	va_start(ap, t);
	for (i = 0; i < t->ncols; i++) {
		row[i] = strdup(va_arg(ap, const char *));
		if (!row[i])
			t->error = -ENOMEM;
	}
	va_end(ap);
	t->nrows++;
}

static const char *cell(const struct table *t, size_t row, size_t col)
{
	const char *c = row ? t->cells[(row - 1) * t->ncols + col] :
			      t->head[col];

	return c ? c : "";
}

static void print_row(const struct table *t, const int *width, size_t row,
		      FILE *f)
{
	size_t c;

	for (c = 0; c < t->ncols; c++) {
		int w = c + 1 == t->ncols && !(t->right & (1u << c)) ?
			0 : width[c];

		fprintf(f, "%s%*s", c ? "  " : "",
			t->right & (1u << c) ? w : -w, cell(t, row, c));
	}
	fputc('\n', f);
}

int table_print(struct table *t, FILE *f)
{
	int width[TABLE_MAX_COLS] = { 0 };
	size_t r, c;

	for (r = 0; r <= t->nrows; r++)
		for (c = 0; c < t->ncols; c++)
			if ((int)strlen(cell(t, r, c)) > width[c])
				width[c] = (int)strlen(cell(t, r, c));
	if (!t->error)
		for (r = 0; r <= t->nrows; r++)
			print_row(t, width, r, f);
	for (r = 0; r < t->nrows * t->ncols; r++)
		free(t->cells[r]);
	free(t->cells);
	return t->error;
}
