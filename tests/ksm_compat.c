// SPDX-License-Identifier: GPL-2.0
/*
 * What the kernel's own KSM tests check, against samepage:
 *
 *  - memory merged before UFFDIO_REGISTER_MODE_WP is given back by run=2,
 *    MADV_UNMERGEABLE and UNREGISTER (unmerge reaches every VMA where
 *    samepage has merged pages, whatever the VMA has become);
 *  - ksm_zero_pages (sysfs, PROC_STAT and /proc/self/ksm_stat) is exact at
 *    the moment the zero page goes: MADV_UNMERGEABLE, a write, munmap;
 *  - mlock()ed memory merges, with Mlocked exact through merge, munlock and
 *    munmap;
 *  - /proc/self/ksm_merging_pages and /proc/self/ksm_stat show samepage's
 *    counts (proc_ksm_stat=1), also while in-tree KSM merges another
 *    process at the same time.
 */
#include <linux/userfaultfd.h>
#include <sys/syscall.h>
#include "sp.h"

#define N 64

/* A field of /proc/self/ksm_stat, or -1 if the kernel has no such field. */
static long ksm_stat(pid_t pid, const char *field)
{
	char path[64], line[128];
	size_t len = strlen(field);
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/ksm_stat", pid ? pid : getpid());
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, field, len) && line[len] == ' ')
			v = atol(line + len + 1);
	if (f)
		fclose(f);
	return v;
}

static long merging_pages(pid_t pid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/ksm_merging_pages", pid ? pid : getpid());
	return knob_in("", path);
}

/* Per-CPU mlock and LRU batches hold back counter updates: flush them. */
static void drain_batches(void)
{
	set_knob_in("", "/proc/sys/vm/compact_memory", "1");	/* lru_add_drain_all() */
	set_knob_in("", "/proc/sys/vm/stat_refresh", "1");	/* fold per-CPU vmstat */
}

/*
 * Mlocked once the per-CPU mlock batches have drained: what it settles to
 * within 3 s if that is @want, else its value then.
 */
static long mlocked_settles(long want)
{
	long v = -2;

	for (int i = 0; i < 30 && v != want; i++) {
		drain_batches();
		v = meminfo_kb("Mlocked");
		if (v != want)
			usleep(100000);
	}
	return v;
}

static char *dup_pages(int seed)
{
	char *p = map_pages(N);

	for (int i = 0; i < N; i++)
		fill_page(p + i * page_size, seed);
	return p;
}

static int all_same_pfn(char *p)
{
	for (int i = 1; i < N; i++)
		if (pfn_of(0, p + i * page_size) != pfn_of(0, p))
			return 0;
	return pfn_of(0, p) != 0;
}

static int none_shared(char *p)
{
	for (int i = 1; i < N; i++)
		if (pfn_of(0, p + i * page_size) == pfn_of(0, p))
			return 0;
	return 1;
}

static int content_is(char *p, int seed)
{
	char ref[65536];

	fill_page(ref, seed);
	for (int i = 0; i < N; i++)
		if (memcmp(ref, p + i * page_size, page_size))
			return 0;
	return 1;
}

/* Register @p with userfaultfd write-protection (mode WP) and protect it. */
static int uffd_wp(char *p)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = {
		.range = { .start = (uintptr_t)p, .len = N * page_size },
		.mode = UFFDIO_REGISTER_MODE_WP,
	};
	struct uffdio_writeprotect wp = {
		.range = reg.range, .mode = UFFDIO_WRITEPROTECT_MODE_WP,
	};
	int fd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);

	if (fd < 0 || ioctl(fd, UFFDIO_API, &api) || ioctl(fd, UFFDIO_REGISTER, &reg) ||
	    ioctl(fd, UFFDIO_WRITEPROTECT, &wp))
		tap_bail("userfaultfd write-protect: %s", strerror(errno));
	return fd;
}

static void uffd_wp_tests(void)
{
	char *a = dup_pages(10), *b, *c;
	int fa, fb, fc;

	/* run=2 */
	sp_range(1, 0, a, N * page_size);
	run_passes(SP_TREE, 2);
	tap_ok(all_same_pfn(a), "merged before UFFDIO_REGISTER_MODE_WP");
	fa = uffd_wp(a);
	must_set(SP_TREE, "run", "2");
	tap_ok(none_shared(a) && knob("kernel_pages_allocated") == 0 && content_is(a, 10),
	       "uffd-wp: run=2 gives every page back (kernel_pages_allocated %ld)",
	       knob("kernel_pages_allocated"));
	must_set(SP_TREE, "run", "0");
	sp_range(0, 0, a, N * page_size);
	close(fa);

	/* MADV_UNMERGEABLE of a followed area */
	b = dup_pages(11);
	madvise(b, N * page_size, MADV_MERGEABLE);
	run_passes(SP_TREE, 3);
	tap_ok(all_same_pfn(b), "a MADV_MERGEABLE area merged");
	fb = uffd_wp(b);
	tap_ok(!madvise(b, N * page_size, MADV_UNMERGEABLE) && none_shared(b) &&
	       content_is(b, 11),
	       "uffd-wp: MADV_UNMERGEABLE gives every page back at once");
	close(fb);

	/* UNREGISTER */
	c = dup_pages(12);
	sp_range(1, 0, c, N * page_size);
	run_passes(SP_TREE, 2);
	fc = uffd_wp(c);
	tap_ok(!sp_range(0, 0, c, N * page_size) && none_shared(c) && content_is(c, 12),
	       "uffd-wp: UNREGISTER gives every page back");
	close(fc);
	munmap(a, N * page_size);
	munmap(b, N * page_size);
	munmap(c, N * page_size);
	must_set(SP_TREE, "run", "2");
	must_set(SP_TREE, "run", "0");
}

static long proc_zero(void)
{
	struct samepage_proc_stat ps = { .size = sizeof(ps) };

	if (ioctl(sp_dev(), SAMEPAGE_IOC_PROC_STAT, &ps))
		tap_bail("PROC_STAT: %s", strerror(errno));
	return ps.zero_pages;
}

static void zero_page_tests(void)
{
	int z = 8 * N;	/* 512 zero pages */
	char *p = map_pages(z), *q;
	long mine = ksm_stat(0, "ksm_zero_pages");
	int rt;

	must_set(SP_TREE, "use_zero_pages", "1");
	memset(p, 0, z * page_size);
	madvise(p, z * page_size, MADV_MERGEABLE);
	run_passes(SP_TREE, 3);
	tap_ok(knob("ksm_zero_pages") == z && proc_zero() == z,
	       "%d zero pages merged: ksm_zero_pages %ld, PROC_STAT %ld", z,
	       knob("ksm_zero_pages"), proc_zero());
	madvise(p, z / 2 * page_size, MADV_UNMERGEABLE);
	tap_ok(knob("ksm_zero_pages") == z / 2 && proc_zero() == z / 2,
	       "MADV_UNMERGEABLE of half: %d at once (sysfs %ld, PROC_STAT %ld)", z / 2,
	       knob("ksm_zero_pages"), proc_zero());
	for (int i = z / 2; i < z; i++)
		p[i * page_size] = 1;
	/*
	 * On PREEMPT_RT the write-fault hook may not take the lock that
	 * counts it (Documentation/decisions.md): there the next pass does.
	 */
	rt = !access("/sys/kernel/realtime", F_OK);
	if (rt)
		run_passes(SP_TREE, 1);
	tap_ok(knob("ksm_zero_pages") == 0 && proc_zero() == 0,
	       "writes to the other half: 0 %s (sysfs %ld, PROC_STAT %ld)",
	       rt ? "after the next pass (PREEMPT_RT)" : "at once",
	       knob("ksm_zero_pages"), proc_zero());
	if (mine < 0)
		tap_skip("this kernel's /proc/PID/ksm_stat has no ksm_zero_pages (6.10+)",
			 "/proc/self/ksm_stat ksm_zero_pages follows");
	else
		tap_ok(ksm_stat(0, "ksm_zero_pages") == 0,
		       "/proc/self/ksm_stat ksm_zero_pages is 0 again (%ld)",
		       ksm_stat(0, "ksm_zero_pages"));
	q = map_pages(N);
	memset(q, 0, N * page_size);
	madvise(q, N * page_size, MADV_MERGEABLE);
	run_passes(SP_TREE, 3);
	mine = knob("ksm_zero_pages");
	munmap(q, N * page_size);
	tap_ok(mine == N && !wait_knob(SP_TREE, "ksm_zero_pages", 0),
	       "munmap of %ld merged zero pages (want %d): ksm_zero_pages back to 0 (%ld)",
	       mine, N, knob("ksm_zero_pages"));
	munmap(p, z * page_size);
	must_set(SP_TREE, "use_zero_pages", "0");
	must_set(SP_TREE, "run", "2");
	must_set(SP_TREE, "run", "0");
}

static void mlock_tests(void)
{
	long base, unevict, locked, v;
	char *p = map_pages(N);

	sleep(1);
	drain_batches();
	base = meminfo_kb("Mlocked");
	unevict = meminfo_kb("Unevictable");
	for (int i = 0; i < N; i++)
		fill_page(p + i * page_size, 20 + i / 2);	/* pairs */
	if (mlock(p, N * page_size))
		tap_bail("mlock: %s", strerror(errno));
	locked = mlocked_settles(base + N * page_size / 1024);
	sp_range(1, 0, p, N * page_size);
	run_passes(SP_TREE, 2);
	tap_ok(knob("pages_sharing") == N / 2 && pfn_of(0, p) == pfn_of(0, p + page_size),
	       "mlock()ed pairs merge: pages_sharing %ld (want %d)", knob("pages_sharing"), N / 2);
	v = mlocked_settles(base + N / 2 * page_size / 1024);
	tap_ok(locked - base == N * page_size / 1024 && v - base == N / 2 * page_size / 1024,
	       "Mlocked: +%ld kB when locked, +%ld kB merged (want %ld, %ld)",
	       locked - base, v - base, N * page_size / 1024, N / 2 * page_size / 1024);
	munlock(p, N * page_size);
	v = mlocked_settles(base);
	tap_ok(v == base && knob("pages_sharing") == N / 2,
	       "munlock: Mlocked back to its base (%ld kB, base %ld), still merged", v, base);
	mlock(p, N * page_size);	/* populates (may copy merged pages, as in-tree) */
	munmap(p, N * page_size);
	v = mlocked_settles(base);
	tap_diag("Unevictable: %ld kB before, %ld kB after (kpages are on no LRU)",
		 unevict, meminfo_kb("Unevictable"));
	tap_ok(v == base &&
	       !wait_knob(SP_TREE, "kernel_pages_allocated", 0),
	       "munmap of locked merged memory: Mlocked %ld kB as before (%ld), no kpage left",
	       v, base);
	sp_range(0, 0, p, N * page_size);
}

static void ksm_child(void *arg)
{
	char *p = dup_pages(40);

	(void)arg;
	madvise(p, N * page_size, MADV_MERGEABLE);
}

static void proc_counter_tests(void)
{
	char *p = dup_pages(30);
	struct child c;

	sp_range(1, 0, p, N * page_size);
	run_passes(SP_TREE, 2);
	tap_ok(merging_pages(0) == N && ksm_stat(0, "ksm_rmap_items") == N,
	       "/proc/self/ksm_merging_pages %ld, ksm_stat ksm_rmap_items %ld (want %d each)",
	       merging_pages(0), ksm_stat(0, "ksm_rmap_items"), N);
	/* in-tree KSM merges another process meanwhile; samepage keeps its own */
	must_set(KSM_TREE, "pages_to_scan", "10000");
	must_set(KSM_TREE, "sleep_millisecs", "0");
	c = spawn(ksm_child, sp_nop_step, NULL);
	must_set(KSM_TREE, "run", "1");
	must_set(SP_TREE, "run", "1");
	wait_scans(KSM_TREE, 3);
	wait_scans(SP_TREE, 3);
	must_set(SP_TREE, "run", "0");
	tap_ok(merging_pages(c.pid) == N && merging_pages(0) == N,
	       "both at once: in-tree's process %ld, samepage's %ld merging pages (want %d)",
	       merging_pages(c.pid), merging_pages(0), N);
	must_set(KSM_TREE, "run", "2");
	must_set(KSM_TREE, "run", "0");
	reap_child(&c);
	must_set(SP_TREE, "run", "2");
	tap_ok(merging_pages(0) == 0 && ksm_stat(0, "ksm_rmap_items") == 0,
	       "after run=2: ksm_merging_pages %ld, ksm_rmap_items %ld", merging_pages(0),
	       ksm_stat(0, "ksm_rmap_items"));
	must_set(SP_TREE, "run", "0");
	sp_range(0, 0, p, N * page_size);
	munmap(p, N * page_size);
}

int main(void)
{
	sp_test_init(18);
	sp_reset();
	tap_ok(knob("proc_ksm_stat") == 1, "proc_ksm_stat defaults to 1");
	uffd_wp_tests();
	zero_page_tests();
	mlock_tests();
	proc_counter_tests();
	sp_restore();
	return tap_done();
}
