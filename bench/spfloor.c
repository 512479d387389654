// SPDX-License-Identifier: GPL-2.0
/*
 * spfloor: the floor of a hash-first scan. A scanner
 * that visits a page must at least hash it, and one that merges it must at
 * least compare it once with its twin: this measures both, per 4 KiB page,
 * in the machine (VM) the benchmark runs in, for scripts/bench to report
 * beside each KSM's CPU per page scanned.
 *
 *   spfloor [--size MIB] [--rounds N]
 *
 * Over --size MiB of distinct pages (8 by default: more than the caches
 * hold, as a scan's pages are), it times XXH64 (seed 0) of every page and a
 * compare of every page with an equal copy (a full compare: the cost of
 * confirming a merge), each as the fastest of --rounds (5) passes, and
 * prints
 *   spfloor pages=N xxh64_ns=H memcmp_ns=C sink=S
 * in ns per page (S, a bit of the results, only keeps the compiler from
 * dropping the loops). XXH64 is written here from its published specification,
 * for whole pages only (a multiple of 32 bytes: no short-input or tail
 * step), the same work per byte as the kernel's lib/xxhash.c that
 * samepage's sp_page_hash() calls; built with -O2 like the kernel. Only
 * its cost is used, never its value. The compare is the kernel's kind of
 * memcmp() (x86-64 has no assembly one: 8 bytes at a time, no SIMD, as
 * the kernel is built with -mno-sse), not glibc's, whose vector code is
 * both faster on hardware and far slower under TCG than the kernel's; this
 * file is built without auto-vectorisation for the same reason.
 */
#pragma GCC optimize("no-tree-vectorize")
#include <sys/mman.h>
#include "bench.h"

#define PROG "spfloor"
#define PAGE 4096

static const uint64_t P1 = 0x9E3779B185EBCA87ULL, P2 = 0xC2B2AE3D27D4EB4FULL,
		      P3 = 0x165667B19E3779F9ULL, P4 = 0x85EBCA77C2B2AE63ULL;

static inline uint64_t rotl(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
}

static inline uint64_t rd64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, 8);	/* little-endian x86: the spec's byte order */
	return v;
}

static inline uint64_t round64(uint64_t acc, uint64_t in)
{
	return rotl(acc + in * P2, 31) * P1;
}

static inline uint64_t merge64(uint64_t h, uint64_t v)
{
	return (h ^ round64(0, v)) * P1 + P4;
}

/* XXH64 of @len bytes at @p, a multiple of 32 (a page), seed 0. */
static uint64_t xxh64_page(const unsigned char *p, size_t len)
{
	uint64_t v1 = P1 + P2, v2 = P2, v3 = 0, v4 = -P1, h;

	for (size_t i = 0; i < len; i += 32) {
		v1 = round64(v1, rd64(p + i));
		v2 = round64(v2, rd64(p + i + 8));
		v3 = round64(v3, rd64(p + i + 16));
		v4 = round64(v4, rd64(p + i + 24));
	}
	h = rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18);
	h = merge64(merge64(merge64(merge64(h, v1), v2), v3), v4);
	h += len;
	h ^= h >> 33;
	h *= P2;
	h ^= h >> 29;
	h *= P3;
	h ^= h >> 32;
	return h;
}

/* Are the @len bytes at @a and @b equal? A word at a time, as the kernel. */
static int words_equal(const unsigned char *a, const unsigned char *b, size_t len)
{
	for (size_t i = 0; i < len; i += 8)
		if (rd64(a + i) != rd64(b + i))
			return 0;
	return 1;
}

int main(int argc, char **argv)
{
	size_t mib = 8, rounds = 5, pages;
	uint64_t best_h = UINT64_MAX, best_c = UINT64_MAX, sink = 0;
	unsigned char *a, *b;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--size") && i + 1 < argc)
			mib = (size_t)parse_num(PROG, "--size", argv[++i]);
		else if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
			rounds = (size_t)parse_num(PROG, "--rounds", argv[++i]);
		else
			die(PROG, "usage: spfloor [--size MIB] [--rounds N] (not '%s')", argv[i]);
	}
	if (!mib || !rounds)
		die(PROG, "%s", "--size and --rounds must be at least 1");
	pages = mib << 20 >> 12;
	a = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	b = mmap(NULL, (pages + 1) * PAGE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (a == MAP_FAILED || b == MAP_FAILED)
		die(PROG, "mmap: %s", strerror(errno));
	/*
	 * The copy an odd number of pages away: at a power-of-two distance
	 * the two pages of each compare share a slot of a direct-mapped TLB
	 * (QEMU's softmmu TLB is one) and every load missed, 25 times slower.
	 * A page and its kpage are never laid out like that.
	 */
	if (!(((uintptr_t)b - (uintptr_t)a) / PAGE & 1))
		b += PAGE;
	for (size_t i = 0; i < pages * PAGE / 8; i++)
		((uint64_t *)a)[i] = mix64(i + 1);	/* every page different */
	memcpy(b, a, pages * PAGE);

	for (size_t r = 0; r < rounds; r++) {
		uint64_t t0 = now_ns(), t1, t2;

		for (size_t i = 0; i < pages; i++)
			sink += xxh64_page(a + i * PAGE, PAGE);
		t1 = now_ns();
		for (size_t i = 0; i < pages; i++)
			sink += (uint64_t)words_equal(a + i * PAGE, b + i * PAGE, PAGE);
		t2 = now_ns();
		best_h = t1 - t0 < best_h ? t1 - t0 : best_h;
		best_c = t2 - t1 < best_c ? t2 - t1 : best_c;
	}
	printf("spfloor pages=%zu xxh64_ns=%.1f memcmp_ns=%.1f sink=%llu\n", pages,
	       (double)best_h / pages, (double)best_c / pages, (unsigned long long)(sink & 1));
	return 0;
}
