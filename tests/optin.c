// SPDX-License-Identifier: GPL-2.0
/*
 * Regression tests of a review's findings:
 *
 *  1. Writing a tree-shaping knob (max_page_sharing, merge_across_nodes)
 *     while no kpage exists, or run=2, in the middle of a pass, leaves the
 *     unstable tree whole: later merges are exact (the old reset left
 *     items of the abandoned tree erasable from the new one).
 *  2. Madvise discovery finds every MMF_VM_MERGEABLE process, not the
 *     first 64.
 *  3. MADV_MERGEABLE opts a process in at the call: two processes with 50
 *     equal pages merge within 3 full scans, at the default knobs.
 *  8. The rmap_items of a VMA that became ineligible (uffd-wp) are dropped,
 *     and what was merged there is given back.
 */
#include <linux/userfaultfd.h>
#include <sys/syscall.h>
#include "sp.h"

static struct samepage_stats stats(void)
{
	struct samepage_stats st = { .size = sizeof(st) };

	if (ioctl(sp_dev(), SAMEPAGE_IOC_STATS, &st))
		tap_bail("STATS: %s", strerror(errno));
	return st;
}

/* 1 */
static void reset_mid_pass(void)
{
	long n = 4096, pairs = 256;
	char *u = map_pages(n), *p;
	int ok = 1;

	for (long i = 0; i < n; i++)
		fill_page(u + i * page_size, 1000000 + i);	/* unique: no kpage */
	sp_range(1, 0, u, n * page_size);
	must_set(SP_TREE, "pages_to_scan", "300");
	must_set(SP_TREE, "sleep_millisecs", "10");
	must_set(SP_TREE, "run", "1");
	wait_scans(SP_TREE, 1);		/* every page seen once */
	for (int round = 0; round < 40; round++) {
		while (stats().pass_visited < (unsigned long)(round % 8 + 1) * 400)
			usleep(2000);	/* candidates of this pass are in the tree */
		if (round % 10 == 9) {
			must_set(SP_TREE, "run", "2");
			must_set(SP_TREE, "run", "1");
		} else if (knob("kernel_pages_allocated") == 0) {
			ok &= !set_knob("max_page_sharing", round % 2 ? "256" : "10");
			ok &= !set_knob("merge_across_nodes", round % 2 ? "1" : "0");
		}
		while (stats().pass_visited > 400)
			usleep(2000);	/* into the next pass */
	}
	must_set(SP_TREE, "run", "0");
	must_set(SP_TREE, "max_page_sharing", "256");
	must_set(SP_TREE, "merge_across_nodes", "1");
	tap_ok(ok, "tree-shaping knobs written 32 times mid-pass while no kpage existed, run=2 4 times");
	p = map_pages(2 * pairs);
	for (long i = 0; i < 2 * pairs; i++)
		fill_page(p + i * page_size, 2000000 + i / 2);
	sp_range(1, 0, p, 2 * pairs * page_size);
	run_passes(SP_TREE, 3);
	tap_ok(knob("pages_sharing") == pairs && knob("pages_shared") == pairs &&
	       knob("pages_unshared") == n,
	       "afterwards merging is exact: shared %ld, sharing %ld, unshared %ld "
	       "(want %ld, %ld, %ld)", knob("pages_shared"), knob("pages_sharing"),
	       knob("pages_unshared"), pairs, pairs, n);
	sp_range(0, 0, NULL, 0);
	munmap(u, n * page_size);
	munmap(p, 2 * pairs * page_size);
	sp_reset();
}

/* 2, 3: children with equal pages, MADV_MERGEABLE */
static int npages;

static void madv_setup(void *arg)
{
	char *p = map_pages(npages);

	(void)arg;
	for (int i = 0; i < npages; i++)
		fill_page(p + i * page_size, 3000000 + i);
	if (madvise(p, npages * page_size, MADV_MERGEABLE))
		_exit(1);
}

#define MANY 70

static void discovery_beyond_64(void)
{
	static struct child c[MANY];

	must_set(SP_TREE, "follow_madvise", "0");
	npages = 2;
	for (int i = 0; i < MANY; i++)
		c[i] = spawn(madv_setup, sp_nop_step, NULL);
	tap_ok(sp_tracked() == 0, "follow_madvise=0: none of %d madvised processes tracked", MANY);
	must_set(SP_TREE, "follow_madvise", "1");
	run_passes(SP_TREE, 3);
	tap_ok(sp_tracked() == MANY && knob("pages_sharing") == 2 * MANY - 2,
	       "follow_madvise=1: the next pass finds all %d (tracked %ld, pages_sharing %ld)",
	       MANY, sp_tracked(), knob("pages_sharing"));
	for (int i = 0; i < MANY; i++)
		reap_child(&c[i]);
	must_set(SP_TREE, "run", "2");
	must_set(SP_TREE, "run", "0");
}

static void optin_at_call(void)
{
	struct child a, b;

	sp_restore();		/* in-tree's default knobs */
	must_set(SP_TREE, "run", "1");
	usleep(200000);
	npages = 50;
	a = spawn(madv_setup, sp_nop_step, NULL);
	b = spawn(madv_setup, sp_nop_step, NULL);
	if (wait_scans(SP_TREE, 3))
		tap_bail("no 3 full scans");
	tap_ok(knob("pages_sharing") == 50 && knob("pages_shared") == 50,
	       "MADV_MERGEABLE at the call: 2 x 50 equal pages merged within 3 full scans "
	       "(shared %ld, sharing %ld)", knob("pages_shared"), knob("pages_sharing"));
	reap_child(&a);
	reap_child(&b);
	sp_reset();
}

/* 8 */
static void ineligible_drops(void)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_WP };
	struct samepage_proc_stat ps = { .size = sizeof(ps) };
	long n = 32;
	char *p = map_pages(n);
	int fd;

	for (long i = 0; i < n; i++)
		fill_page(p + i * page_size, 77);
	sp_range(1, 0, p, n * page_size);
	run_passes(SP_TREE, 2);
	tap_ok(knob("pages_sharing") == n - 1, "merged (%ld)", knob("pages_sharing"));
	reg.range.start = (uintptr_t)p;
	reg.range.len = n * page_size;
	fd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (fd < 0 || ioctl(fd, UFFDIO_API, &api) || ioctl(fd, UFFDIO_REGISTER, &reg))
		tap_bail("userfaultfd: %s", strerror(errno));
	run_passes(SP_TREE, 1);
	ioctl(sp_dev(), SAMEPAGE_IOC_PROC_STAT, &ps);
	tap_ok(ps.rmap_items == 0 && knob("pages_sharing") == 0 &&
	       knob("kernel_pages_allocated") == 0 && pfn_of(0, p) != pfn_of(0, p + page_size),
	       "a VMA turned uffd-wp: its items are dropped (%llu) and its pages given back",
	       (unsigned long long)ps.rmap_items);
	close(fd);
	sp_range(0, 0, NULL, 0);
	munmap(p, n * page_size);
}

int main(void)
{
	sp_test_init(7);
	sp_reset();
	reset_mid_pass();
	discovery_beyond_64();
	optin_at_call();
	ineligible_drops();
	sp_restore();
	return tap_done();
}
