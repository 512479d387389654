// SPDX-License-Identifier: GPL-2.0
/*
 * Differential: the same program, run first under in-tree KSM and then
 * under samepage in the same VM, must give the same counters and pages.
 *
 *  1. madvise(MADV_MERGEABLE) on duplicate, zero and unique pages, with
 *     use_zero_pages off and on; then MADV_UNMERGEABLE, after which no two
 *     pages map the same PFN when madvise() returns (samepage unmerges
 *     inside the call, as in-tree KSM does).
 *  2. prctl(PR_SET_MEMORY_MERGE, 1) (6.4+): a mapping made after it, a
 *     forked child's and an exec'd program's pages are merged; then
 *     PR_SET_MEMORY_MERGE=0 unmerges the caller's pages inside the call.
 *
 * samepage's counters are also pinned to the values the layout implies,
 * so that a change shared by both trees cannot hide.
 */
#include <sys/prctl.h>
#include "sp.h"

#define PR_SET_MEMORY_MERGE_ 67
#define NPAGES	32	/* 16 duplicates, 8 zero, 8 unique */
#define NPROC	16	/* pages of each process in part 2 */

struct counts {
	long shared, sharing, unshared, zero;
};

static int ksm_has(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), KSM_TREE "%s", name);
	return !access(path, F_OK);
}

static struct counts counts(const char *tree)
{
	struct counts c = {
		knob_in(tree, "pages_shared"), knob_in(tree, "pages_sharing"),
		knob_in(tree, "pages_unshared"),
		!strcmp(tree, SP_TREE) || ksm_has("ksm_zero_pages") ?
			knob_in(tree, "ksm_zero_pages") : -1,
	};
	return c;
}

/* Same counts, the zero count only where in-tree KSM has one. */
static int same(struct counts a, struct counts b)
{
	return a.shared == b.shared && a.sharing == b.sharing &&
	       a.unshared == b.unshared && (a.zero < 0 || b.zero < 0 || a.zero == b.zero);
}

/* Pages of [p, p + n pages) that share their PFN with another one. */
static int duplicate_pfns(pid_t pid, const char *p, int n)
{
	uint64_t pfn[NPAGES * 3];
	int dups = 0;

	for (int i = 0; i < n; i++)
		pfn[i] = pfn_of(pid, p + i * page_size);
	for (int i = 0; i < n; i++)
		for (int j = 0; j < n; j++)
			if (i != j && pfn[i] && pfn[i] == pfn[j]) {
				dups++;
				break;
			}
	return dups;
}

static uint64_t content(int i)
{
	return i < 16 ? 61 : 700 + i;
}

/*
 * Let @tree's scanner fix its counters up after the unmerge: until nothing
 * is counted any more, or 60 s. (in-tree KSM drops an mm with no
 * mergeable area from its list, so with none left its passes stop.)
 */
static struct counts settle(const char *tree)
{
	struct counts c;

	must_set(tree, "run", "1");
	for (int i = 0; i < 600; i++) {
		c = counts(tree);
		if (!c.shared && !c.sharing && !c.unshared && c.zero <= 0)
			break;
		usleep(100000);
	}
	must_set(tree, "run", "0");
	return counts(tree);
}

struct part1 {
	struct counts merged, settled;
	int dups, intact;
};

static struct part1 madvise_run(const char *tree, int zero_pages)
{
	char *buf = map_pages(NPAGES);
	struct part1 r = { .intact = 1 };

	use_tree(tree);
	must_set(tree, "use_zero_pages", zero_pages ? "1" : "0");
	for (int i = 0; i < NPAGES; i++) {
		fill_page(buf + i * page_size, content(i));
		if (i >= 16 && i < 24)		/* a real page, then zeroed */
			memset(buf + i * page_size, 0, page_size);
	}
	if (madvise(buf, NPAGES * page_size, MADV_MERGEABLE))
		tap_bail("MADV_MERGEABLE: %s", strerror(errno));
	run_passes(tree, 3);
	r.merged = counts(tree);
	if (madvise(buf, NPAGES * page_size, MADV_UNMERGEABLE))
		tap_bail("MADV_UNMERGEABLE: %s", strerror(errno));
	r.dups = duplicate_pfns(0, buf, NPAGES);
	for (int i = 0; i < NPAGES; i++) {
		char ref[65536];

		fill_page(ref, content(i));
		if (i >= 16 && i < 24)
			memset(ref, 0, page_size);
		r.intact &= !memcmp(ref, buf + i * page_size, page_size);
	}
	r.settled = settle(tree);
	munmap(buf, NPAGES * page_size);
	must_set(tree, "use_zero_pages", "0");
	return r;
}

static void part1(int zero_pages)
{
	struct part1 k = madvise_run(KSM_TREE, zero_pages);
	struct part1 s = madvise_run(SP_TREE, zero_pages);
	struct counts want = zero_pages ? (struct counts){ 1, 15, 8, 8 } :
					  (struct counts){ 2, 22, 8, 0 };

	tap_ok(same(s.merged, k.merged) && !memcmp(&s.merged, &want, sizeof(want)),
	       "use_zero_pages=%d MADV_MERGEABLE: shared/sharing/unshared/zero samepage %ld/%ld/%ld/%ld, ksm %ld/%ld/%ld/%ld",
	       zero_pages, s.merged.shared, s.merged.sharing, s.merged.unshared,
	       s.merged.zero, k.merged.shared, k.merged.sharing, k.merged.unshared,
	       k.merged.zero);
	tap_ok(s.dups == 0, "use_zero_pages=%d samepage: no duplicate PFN when MADV_UNMERGEABLE returns (%d)",
	       zero_pages, s.dups);
	if (zero_pages && !ksm_has("ksm_zero_pages"))
		tap_skip("this kernel's KSM leaves its zero pages mapped (no ksm_zero_pages before 6.10)",
			 "use_zero_pages=1 ksm: no duplicate PFN when MADV_UNMERGEABLE returns");
	else
		tap_ok(k.dups == 0, "use_zero_pages=%d ksm: no duplicate PFN when MADV_UNMERGEABLE returns (%d)",
		       zero_pages, k.dups);
	tap_ok(s.intact && k.intact, "use_zero_pages=%d: every page intact after the unmerge",
	       zero_pages);
	tap_ok(same(s.settled, k.settled) && !s.settled.shared && !s.settled.sharing &&
	       !s.settled.unshared && !s.settled.zero,
	       "use_zero_pages=%d after the next passes: samepage %ld/%ld/%ld/%ld, ksm %ld/%ld/%ld/%ld",
	       zero_pages, s.settled.shared, s.settled.sharing, s.settled.unshared,
	       s.settled.zero, k.settled.shared, k.settled.sharing, k.settled.unshared,
	       k.settled.zero);
}

/* ---- part 2: prctl, in a child process "A" driven over pipes ---- */

static char *mine;		/* A's own pages */
static pid_t kids[2];		/* B (forked), C (exec'd) */
static int ready[2];		/* B and C say they have their pages */

static void fill_pages(char *p)
{
	for (int i = 0; i < NPROC; i++)
		fill_page(p + i * page_size, 62);
}

/* B, or C after exec: map and fill NPROC pages, say so, wait to be killed. */
static void holder(int fd)
{
	char *p = map_pages(NPROC);

	fill_pages(p);
	if (write(fd, "x", 1) != 1)
		_exit(1);
	for (;;)
		pause();
}

static int wait_ready(void)
{
	char b;

	return read(ready[0], &b, 1) == 1 ? 0 : 1;
}

static void a_setup(void *arg)
{
	(void)arg;
	if (pipe(ready))
		_exit(1);
}

static int a_step(int cmd, void *arg)
{
	const char *self = arg;
	char fd[16];

	switch (cmd) {
	case 'p':
		return prctl(PR_SET_MEMORY_MERGE_, 1, 0, 0, 0) ? errno : 0;
	case 'f':
		kids[0] = fork();
		if (!kids[0])
			holder(ready[1]);
		return wait_ready();
	case 'e':
		kids[1] = fork();
		if (!kids[1]) {
			snprintf(fd, sizeof(fd), "%d", ready[1]);
			execl(self, self, "--holder", fd, (char *)NULL);
			_exit(1);
		}
		return wait_ready();
	case 'm':
		mine = map_pages(NPROC);
		fill_pages(mine);
		return 0;
	case 'z':
		if (prctl(PR_SET_MEMORY_MERGE_, 0, 0, 0, 0))
			return 100;
		return duplicate_pfns(0, mine, NPROC);
	case 'k':
		for (int i = 0; i < 2; i++) {
			kill(kids[i], SIGKILL);
			waitpid(kids[i], NULL, 0);
		}
		return 0;
	}
	return 99;
}

struct part2 {
	struct counts merged, settled;
	int dups;
};

/* Part 2 under @tree; returns prctl(1)'s errno (EINVAL: before 6.4). */
static int prctl_run(const char *tree, const char *self, struct part2 *r)
{
	struct child a;
	int err;

	use_tree(tree);
	a = spawn(a_setup, a_step, (void *)self);
	err = ask(&a, 'p');
	if (!err) {
		if (ask(&a, 'f') || ask(&a, 'e') || ask(&a, 'm'))
			tap_bail("process A could not set up its children");
		run_passes(tree, 4);
		r->merged = counts(tree);
		r->dups = ask(&a, 'z');
		run_passes(tree, 2);
		r->settled = counts(tree);
		ask(&a, 'k');
	}
	reap_child(&a);
	return err;
}

static void part2(const char *self)
{
	const char *why = "this kernel has no PR_SET_MEMORY_MERGE (6.4+)";
	struct part2 k, s;

	if (prctl_run(KSM_TREE, self, &k)) {
		for (int i = 0; i < 5; i++)
			tap_skip(why, "PR_SET_MEMORY_MERGE check %d of 5", i + 1);
		return;
	}
	if (prctl_run(SP_TREE, self, &s))
		tap_bail("PR_SET_MEMORY_MERGE worked under in-tree KSM only");
	/*
	 * 3 x NPROC identical pages (A's, B's, C's), and whatever else of
	 * the three processes is identical (they run one binary): both trees
	 * merge every anonymous page, so at least 3 x NPROC - 1 sharing.
	 * pages_unshared is left out: the processes' stacks and pipe
	 * buffers change while they are set up, so how many pages are
	 * unique rather than volatile at one pass depends on timing.
	 */
	tap_ok(s.merged.shared == k.merged.shared && s.merged.sharing == k.merged.sharing &&
	       s.merged.sharing >= 3 * NPROC - 1,
	       "PR_SET_MEMORY_MERGE, a forked child, an exec: shared/sharing/unshared samepage %ld/%ld/%ld, ksm %ld/%ld/%ld",
	       s.merged.shared, s.merged.sharing, s.merged.unshared, k.merged.shared,
	       k.merged.sharing, k.merged.unshared);
	tap_ok(s.dups == 0, "samepage: PR_SET_MEMORY_MERGE=0 unmerged the caller before it returned (%d)",
	       s.dups);
	tap_ok(k.dups == 0, "ksm: PR_SET_MEMORY_MERGE=0 unmerged the caller before it returned (%d)",
	       k.dups);
	tap_ok(same(s.settled, k.settled) && s.settled.sharing >= 2 * NPROC - 1 &&
	       s.settled.sharing <= s.merged.sharing - NPROC,
	       "after PR_SET_MEMORY_MERGE=0 and two passes: samepage %ld/%ld/%ld, ksm %ld/%ld/%ld",
	       s.settled.shared, s.settled.sharing, s.settled.unshared, k.settled.shared,
	       k.settled.sharing, k.settled.unshared);
	tap_ok(wait_knob(SP_TREE, "kernel_pages_allocated", 0) == 0,
	       "all those processes gone: no kpage left");
}

int main(int argc, char **argv)
{
	page_size = sysconf(_SC_PAGESIZE);
	if (argc == 3 && !strcmp(argv[1], "--holder"))
		holder(atoi(argv[2]));
	sp_test_init(15);
	part1(0);
	part1(1);
	part2(argv[0]);
	restore_ksm();
	sp_restore();
	return tap_done();
}
