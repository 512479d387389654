/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Minimal TAP (Test Anything Protocol) output for samepage's tests, in the
 * spirit of kselftest: a plan, one "ok"/"not ok" line per check, skips with a
 * reason, and an exit status that is non-zero when anything failed.
 */
#ifndef SAMEPAGE_TAP_H
#define SAMEPAGE_TAP_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_n, tap_failed;

static inline void tap_plan(int n)
{
	printf("TAP version 13\n1..%d\n", n);
	fflush(stdout);
}

static inline void tap_vresult(int pass, const char *directive,
			       const char *fmt, va_list ap)
{
	printf("%s %d - ", pass ? "ok" : "not ok", ++tap_n);
	vprintf(fmt, ap);
	if (directive)
		printf(" # %s", directive);
	printf("\n");
	fflush(stdout);
	if (!pass)
		tap_failed++;
}

/* One check: passes when @pass is non-zero. Returns @pass. */
__attribute__((format(printf, 2, 3)))
static inline int tap_ok(int pass, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tap_vresult(pass, NULL, fmt, ap);
	va_end(ap);
	return pass;
}

/* A check that cannot run here; counted as a skip, never as a pass. */
__attribute__((format(printf, 2, 3)))
static inline void tap_skip(const char *reason, const char *fmt, ...)
{
	char dir[256];
	va_list ap;

	snprintf(dir, sizeof(dir), "SKIP %s", reason);
	va_start(ap, fmt);
	tap_vresult(1, dir, fmt, ap);
	va_end(ap);
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

/* Abort the whole test program: the rest of its plan counts as failed. */
__attribute__((format(printf, 1, 2), noreturn))
static inline void tap_bail(const char *fmt, ...)
{
	va_list ap;

	printf("Bail out! ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	exit(1);
}

static inline int tap_done(void)
{
	return tap_failed ? 1 : 0;
}

#endif /* SAMEPAGE_TAP_H */
