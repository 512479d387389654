/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the benchmark programs (spgen, sprun): clocks, a seeded
 * 64-bit mixer, sysfs knobs of either tree, and strict number parsing.
 */
#ifndef SAMEPAGE_BENCH_H
#define SAMEPAGE_BENCH_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "../tests/knob.h"	/* knob_write(), knob_read_str() */

#define KSM_DIR "/sys/kernel/mm/ksm/"
#define SP_DIR "/sys/kernel/mm/samepage/"

static inline double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* splitmix64's finaliser: a good seeded mixer, cheap enough for page fills */
static inline uint64_t mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static inline void die(const char *prog, const char *fmt, const char *arg)
{
	fprintf(stderr, "%s: ", prog);
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	exit(1);
}

#define KNOB_NONE LLONG_MIN	/* a knob this kernel does not have */

/* A knob of @dir as a number; KNOB_NONE if it does not exist (older kernels). */
static inline long long knob_read(const char *dir, const char *name)
{
	char buf[64];

	if (knob_read_str(dir, name, buf, sizeof(buf)) || !buf[0])
		return KNOB_NONE;
	return atoll(buf);
}

/* A non-negative decimal number, or exit with usage text naming @what. */
static inline double parse_num(const char *prog, const char *what, const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || v < 0)
		die(prog, "bad number for %s", what);
	return v;
}

#endif /* SAMEPAGE_BENCH_H */
