/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A minimal TAP 13 producer for libdmabuf's tests (host and guest).
 *
 *	tap_plan(n);
 *	tap_ok(cond, "what %s", ...);
 *	tap_skip("why");
 *	return tap_done();
 *
 * tap_done() returns 0 if every test passed or was skipped, 1 otherwise.
 * A test program that only skips still returns 0: meson and the guest
 * runner count the "# SKIP" lines themselves.
 */
#ifndef DMABUF_TAP_H
#define DMABUF_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static int tap_n, tap_failed, tap_planned;

static inline void tap_plan(int n)
{
	tap_planned = n;
	printf("TAP version 13\n1..%d\n", n);
	fflush(stdout);
}

__attribute__((format(printf, 2, 3)))
static inline int tap_ok(int cond, const char *fmt, ...)
{
	va_list ap;

	printf("%s %d - ", cond ? "ok" : "not ok", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (!cond)
		tap_failed++;
	return cond;
}

__attribute__((format(printf, 1, 2)))
static inline void tap_skip(const char *fmt, ...)
{
	va_list ap;

	printf("ok %d # SKIP ", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

__attribute__((format(printf, 1, 2)))
static inline void tap_diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

/* Ends the run: a test that did not run counts as failed. */
static inline int tap_done(void)
{
	if (tap_planned && tap_n != tap_planned) {
		printf("# planned %d tests, ran %d\n", tap_planned, tap_n);
		return 1;
	}
	return tap_failed ? 1 : 0;
}

#endif /* DMABUF_TAP_H */
