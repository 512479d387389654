// SPDX-License-Identifier: GPL-2.0
/*
 * A hardware memory error on a merged page, under in-tree KSM and then
 * under samepage in the same VM: the outcomes must be the same.
 *
 * Processes A and B hold the same N pages (each page its own content),
 * merged; A forks D after the merge, so D maps the merged pages without
 * ever having been scanned (a mapper samepage does not know). A then calls
 * madvise(MADV_HWPOISON) on its page 5, which runs memory_failure() as an
 * uncorrectable memory error does. Then:
 *  - A, B and D get SIGBUS (BUS_MCEERR_AR) when they read page 5, and
 *    read every other page intact;
 *  - a process C that maps the same N contents later is never merged onto
 *    the poisoned frame: its page 5 is its own, and its other pages merge;
 *  - the counters are exact and equal to in-tree's; samepage counts the
 *    frame in pages_hwpoisoned and frees its kpage;
 *  - run=2 then unmerges everything.
 * Once with small pages, once with the N pages in one huge page that the
 * merge splits (THP, the distributions' default).
 */
#include <setjmp.h>
#include "sp.h"

#ifndef MADV_HWPOISON
#define MADV_HWPOISON	100
#endif
#ifndef BUS_MCEERR_AR
#define BUS_MCEERR_AR	4
#endif

#define BAD	5		/* the page the memory error hits */

static char *region;		/* the same address in every process */
static long npages;
static int trig[2], res[2];	/* the parent's line to D, and D's answer */

static sigjmp_buf jb;
static volatile sig_atomic_t bus_code;

static void on_bus(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	bus_code = si->si_code;
	siglongjmp(jb, 1);
}

static uint64_t seed(long i)
{
	return 5000 + i;
}

/* Map the region in the parent, untouched: each child fills its own copy. */
static void map_region(int thp)
{
	size_t len = npages * page_size;
	char *p = mmap(NULL, len + (2 << 20), PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		tap_bail("mmap: %s", strerror(errno));
	region = (char *)(((uintptr_t)p + (2 << 20) - 1) & ~(uintptr_t)((2 << 20) - 1));
	/* EINVAL: no THP in this kernel (rt): small pages either way */
	if (madvise(region, len, thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE) && errno != EINVAL)
		tap_bail("madvise THP: %s", strerror(errno));
}

/* Does this kernel have transparent huge pages (rt kernels do not)? */
static int have_thp(void)
{
	return !access("/sys/kernel/mm/transparent_hugepage/enabled", F_OK);
}

static void child_setup(void *arg)
{
	struct sigaction sa = { .sa_sigaction = on_bus, .sa_flags = SA_SIGINFO | SA_NODEFER };

	(void)arg;
	close(trig[1]);		/* only the parent writes to D ... */
	close(res[0]);		/* ... and reads its answers */
	sigaction(SIGBUS, &sa, NULL);
	for (long i = 0; i < npages; i++)
		fill_page(region + i * page_size, seed(i));
	if (madvise(region, npages * page_size, MADV_MERGEABLE))
		_exit(1);
}

/* Read page @i: 1 if that raised SIGBUS with BUS_MCEERR_AR, 2 with another code. */
static int touch(long i)
{
	bus_code = 0;
	if (sigsetjmp(jb, 1))
		return bus_code == BUS_MCEERR_AR ? 1 : 2;
	(void)*(volatile char *)(region + i * page_size);
	return 0;
}

/* Bits: 1 page 5 gave SIGBUS AR, 2 other SIGBUS, 4 every other page intact, 8 page 5 intact */
static int probe(void)
{
	char ref[65536];
	int r = touch(BAD), intact = 1;

	for (long i = 0; i < npages; i++) {
		if (i == BAD)
			continue;
		fill_page(ref, seed(i));
		intact &= touch(i) == 0 && !memcmp(ref, region + i * page_size, page_size);
	}
	if (!r) {
		fill_page(ref, seed(BAD));
		r = memcmp(ref, region + BAD * page_size, page_size) ? 0 : 8;
	}
	return r | (intact ? 4 : 0);
}

/* D: answers a probe for each byte from the parent, exits on EOF. */
static void d_loop(void)
{
	char b;

	while (read(trig[0], &b, 1) == 1) {
		b = (char)probe();
		if (write(res[1], &b, 1) != 1)
			break;
	}
	_exit(0);
}

static int child_step(int cmd, void *arg)
{
	(void)arg;
	switch (cmd) {
	case 'f': {
		pid_t d = fork();

		if (!d)
			d_loop();
		return d > 0;
	}
	case 'p':		/* 1: returned 0; 2: SIGBUS AR in the call; 3: other SIGBUS; 10+: errno */
		bus_code = 0;
		if (sigsetjmp(jb, 1))
			return bus_code == BUS_MCEERR_AR ? 2 : 3;
		if (madvise(region + BAD * page_size, page_size, MADV_HWPOISON))
			return 10 + (errno > 100 ? 100 : errno);
		return 1;
	case 'r':
		return probe();
	}
	return 0;
}

static int probe_d(void)
{
	char b = 0;

	if (write(trig[1], "r", 1) != 1 || read(res[0], &b, 1) != 1)
		return -1;
	return b;
}

/* Run @tree until its pages_sharing reads @want (0 on success), then stop it. */
static int run_until(const char *tree, long want)
{
	int err;

	must_set(tree, "run", "1");
	err = wait_knob(tree, "pages_sharing", want);
	must_set(tree, "run", "0");
	return err;
}

struct outcome {
	int merged;			/* pages_sharing reached N */
	int same_frame;			/* A's and B's page 5: one frame */
	int poison;			/* A's madvise(MADV_HWPOISON), see 'p' */
	int a, b, d;			/* their probes after it */
	int c;				/* C's probe */
	int c_own;			/* C's page 5 is not the poisoned frame */
	long shared, sharing, unshared;	/* after C's passes */
	long hwpoisoned, kpages;	/* samepage only */
	int unmerge;			/* run=2: 0 or -errno */
	long after_shared, after_sharing;
};

static struct outcome scenario(const char *tree, int thp)
{
	struct outcome o = { 0 };
	struct child a, b, c;
	long hw0 = knob("pages_hwpoisoned");
	uint64_t pfn;
	char eof;

	use_tree(tree);
	map_region(thp);
	if (pipe(trig) || pipe(res))
		tap_bail("pipe: %s", strerror(errno));
	a = spawn(child_setup, child_step, NULL);
	b = spawn(child_setup, child_step, NULL);
	o.merged = !run_until(tree, npages);
	pfn = pfn_of(a.pid, region + BAD * page_size);
	o.same_frame = pfn && pfn == pfn_of(b.pid, region + BAD * page_size);
	if (ask(&a, 'f') != 1)
		tap_bail("A could not fork D");
	o.poison = ask(&a, 'p');
	o.a = ask(&a, 'r');
	o.b = ask(&b, 'r');
	o.d = probe_d();

	c = spawn(child_setup, child_step, NULL);
	must_set(tree, "run", "1");
	if (wait_scans(tree, 4))
		tap_bail("%s: no 4 full scans", tree);
	must_set(tree, "run", "0");
	o.c = ask(&c, 'r');
	o.c_own = pfn_of(c.pid, region + BAD * page_size) != pfn;
	o.shared = knob_in(tree, "pages_shared");
	o.sharing = knob_in(tree, "pages_sharing");
	o.unshared = knob_in(tree, "pages_unshared");
	o.hwpoisoned = knob("pages_hwpoisoned") - hw0;
	o.kpages = knob("kernel_pages_allocated");

	o.unmerge = set_knob_in(tree, "run", "2");
	o.after_shared = knob_in(tree, "pages_shared");
	o.after_sharing = knob_in(tree, "pages_sharing");
	set_knob_in(tree, "run", "0");

	/*
	 * D exits at the EOF of its line, once A (its parent) is gone; its
	 * answer pipe reads EOF when D has exited too (exit_mm() comes
	 * before the descriptors are closed), so no page of this run is
	 * left for the next one.
	 */
	close(trig[1]);
	reap_child(&a);
	reap_child(&b);
	reap_child(&c);
	close(res[1]);
	while (read(res[0], &eof, 1) > 0)
		;
	close(res[0]);
	close(trig[0]);
	munmap(region, npages * page_size);
	return o;
}

/*
 * Does this kernel's KSM recover from a memory error on a KSM page? 6.1's
 * does not: memory_failure() says "can't handle KSM pages", madvise()
 * fails with EBUSY and every mapping stays (C is even merged onto the
 * frame). There samepage is held to the figures of a recovered anonymous
 * page alone, and in-tree's are only reported.
 */
static int ksm_recovers(const struct outcome *k)
{
	return k->poison != 10 + EBUSY;
}

static void part(int thp)
{
	const char *what = thp ? "huge page" : "small pages";
	struct outcome k, s;
	long n = npages;
	int kr;

	if (thp && !have_thp()) {
		for (int i = 0; i < 7; i++)
			tap_skip("this kernel has no transparent huge pages (rt)",
				 "huge page: check %d of the split-huge-page part", i + 1);
		return;
	}

	k = scenario(KSM_TREE, thp);
	s = scenario(SP_TREE, thp);
	kr = ksm_recovers(&k);
	if (!kr)
		tap_diag("%s: in-tree KSM cannot recover a KSM page on this kernel (MADV_HWPOISON: EBUSY, mappings left): samepage is checked against the recovered figures alone",
			 what);

	tap_ok(k.merged && s.merged && k.same_frame && s.same_frame,
	       "%s: A and B merged, page 5 one frame (ksm %d/%d, samepage %d/%d)", what,
	       k.merged, k.same_frame, s.merged, s.same_frame);
	tap_ok((s.poison == 1 || s.poison == 2) && (!kr || s.poison == k.poison),
	       "%s: A's MADV_HWPOISON recovered%s: samepage %d, ksm %d (1: returned 0, 2: SIGBUS, 10+errno)",
	       what, kr ? " as in-tree" : "", s.poison, k.poison);
	tap_ok(s.a == 5 && s.b == 5 && s.d == 5 && (!kr || (k.a == 5 && k.b == 5 && k.d == 5)),
	       "%s: A, B and unscanned child D: SIGBUS on page 5, every other page intact (samepage %d %d %d, ksm %d %d %d; want 5)",
	       what, s.a, s.b, s.d, k.a, k.b, k.d);
	tap_ok(s.c == 12 && s.c_own && (!kr || (k.c == 12 && k.c_own)),
	       "%s: C's page 5 is its own frame and every page of C intact (samepage %d own %d, ksm %d own %d; want 12)",
	       what, s.c, s.c_own, k.c, k.c_own);
	tap_ok(s.shared == n - 1 && s.sharing == 3 * (n - 1) &&
	       (!kr || (k.shared == s.shared && k.sharing == s.sharing && k.unshared == s.unshared)),
	       "%s: after C: shared/sharing/unshared samepage %ld/%ld/%ld, ksm %ld/%ld/%ld (want %ld/%ld)",
	       what, s.shared, s.sharing, s.unshared, k.shared, k.sharing, k.unshared,
	       n - 1, 3 * (n - 1));
	tap_ok(s.hwpoisoned == 1 && s.kpages == n - 1 && k.hwpoisoned == 0,
	       "%s: samepage pages_hwpoisoned +%ld (want 1), kernel_pages_allocated %ld (want %ld)",
	       what, s.hwpoisoned, s.kpages, n - 1);
	tap_ok(!s.unmerge && !k.unmerge && !s.after_shared && !s.after_sharing &&
	       !k.after_shared && !k.after_sharing,
	       "%s: run=2 with a poisoned frame: samepage %d -> %ld/%ld, ksm %d -> %ld/%ld",
	       what, s.unmerge, s.after_shared, s.after_sharing, k.unmerge, k.after_shared,
	       k.after_sharing);
}

int main(void)
{
	sp_test_init(15);
	if (access(KSM_TREE "run", F_OK))
		tap_bail("no in-tree KSM to compare with");
	npages = 64;
	part(0);
	npages = (2 << 20) / page_size;
	part(1);
	tap_ok(knob("kernel_pages_allocated") == 0,
	       "no kpage left after both parts (%ld)", knob("kernel_pages_allocated"));
	restore_ksm();
	sp_restore();
	return tap_done();
}
