// SPDX-License-Identifier: GPL-2.0
/*
 * spfork: the fork/COW/munmap micro-benchmark of a process samepage does not
 * track (no MADV_MERGEABLE anywhere): what merely having samepage loaded
 * costs everyone else (its write-protect-fault probe sees every process's
 * faults).
 *
 *   spfork [--size MIB] [--iters N]
 *
 * Each iteration maps --size MiB of private anonymous memory in small pages
 * (MADV_NOHUGEPAGE: one fault per 4 KiB, the most faults per byte), writes
 * every page (touch: a fault each), forks a child that writes one word of
 * every page (a copy-on-write fault each, timed one by one) and exits, waits
 * for it, then unmaps the area. Prints, as medians over the iterations:
 *   spfork size_mib=M iters=N total_ns=T touch_ns=A fork_ns=F cow_ns=C
 *          wait_ns=W munmap_ns=U cow_p50_ns=P cow_p99_ns=Q
 * total: one whole iteration; touch, cow: the whole touch/COW loop; fork:
 * the fork() call in the parent; wait: fork's return to the child's reap
 * (the child's COW loop and exit); cow_p50/p99: percentiles of the single
 * COW faults of all iterations.
 */
#include <sys/mman.h>
#include <sys/wait.h>
#include "bench.h"

#define PROG "spfork"

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The @q-quantile (0..1) of @v[0..n-1], sorted in place (nearest rank). */
static uint64_t quantile(uint64_t *v, size_t n, double q)
{
	size_t i;

	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), cmp_u64);
	i = (size_t)(q * n + 0.999999);
	return v[i ? i - 1 : 0];
}

static uint64_t median(uint64_t *v, size_t n)
{
	return quantile(v, n, 0.5);
}

int main(int argc, char **argv)
{
	double size_mib = 16;
	int iters = 10;
	long page = sysconf(_SC_PAGESIZE);
	size_t len, npages;
	uint64_t *total, *touch, *forkt, *cow, *waitt, *unmap, *faults;
	size_t nfaults = 0;

	for (int i = 1; i < argc; i += 2) {
		if (i + 1 >= argc)
			die(PROG, "%s", "usage: spfork [--size MIB] [--iters N]");
		if (!strcmp(argv[i], "--size"))
			size_mib = parse_num(PROG, argv[i], argv[i + 1]);
		else if (!strcmp(argv[i], "--iters"))
			iters = (int)parse_num(PROG, argv[i], argv[i + 1]);
		else
			die(PROG, "unknown option %s (--size MIB --iters N)", argv[i]);
	}
	npages = (size_t)(size_mib * 1024 * 1024 / page);
	if (npages < 1 || iters < 1)
		die(PROG, "%s", "--size is less than a page, or --iters < 1");
	len = npages * page;
	total = calloc(iters, 8);
	touch = calloc(iters, 8);
	forkt = calloc(iters, 8);
	waitt = calloc(iters, 8);
	unmap = calloc(iters, 8);
	/*
	 * Shared with the children: each iteration's COW loop time (iters
	 * slots), then every single COW fault of every iteration.
	 */
	cow = mmap(NULL, (size_t)iters * (npages + 1) * 8, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (!total || !touch || !forkt || !waitt || !unmap || cow == MAP_FAILED)
		die(PROG, "%s", "out of memory");
	memset(cow, 0, (size_t)iters * (npages + 1) * 8);	/* prefault the record */
	faults = cow + iters;

	for (int it = 0; it < iters; it++) {
		uint64_t t0 = now_ns(), t1, t2, t3, t4;
		char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		int status;
		pid_t pid;

		if (p == MAP_FAILED)
			die(PROG, "mmap: %s", strerror(errno));
		madvise(p, len, MADV_NOHUGEPAGE);
		for (size_t i = 0; i < npages; i++)
			p[i * page] = (char)i;
		t1 = now_ns();
		pid = fork();
		if (pid < 0)
			die(PROG, "fork: %s", strerror(errno));
		if (!pid) {
			uint64_t *rec = faults + (size_t)it * npages, c0 = now_ns();

			for (size_t i = 0; i < npages; i++) {
				uint64_t a = now_ns();

				__asm__ volatile("" ::: "memory");
				p[i * page + 8] = 1;	/* a COW fault */
				__asm__ volatile("" ::: "memory");
				rec[i] = now_ns() - a;
			}
			cow[it] = now_ns() - c0;
			_exit(0);
		}
		t2 = now_ns();
		if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
			die(PROG, "%s", "the child failed");
		t3 = now_ns();
		munmap(p, len);
		t4 = now_ns();
		touch[it] = t1 - t0;
		forkt[it] = t2 - t1;
		waitt[it] = t3 - t2;
		unmap[it] = t4 - t3;
		total[it] = t4 - t0;
		nfaults += npages;
	}
	printf("spfork size_mib=%g iters=%d total_ns=%llu touch_ns=%llu fork_ns=%llu cow_ns=%llu "
	       "wait_ns=%llu munmap_ns=%llu", size_mib, iters,
	       (unsigned long long)median(total, iters), (unsigned long long)median(touch, iters),
	       (unsigned long long)median(forkt, iters), (unsigned long long)median(cow, iters),
	       (unsigned long long)median(waitt, iters), (unsigned long long)median(unmap, iters));
	printf(" cow_p50_ns=%llu cow_p99_ns=%llu\n",
	       (unsigned long long)quantile(faults, nfaults, 0.5),
	       (unsigned long long)quantile(faults, nfaults, 0.99));
	return 0;
}
