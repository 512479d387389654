// SPDX-License-Identifier: GPL-2.0
/*
 * A program written for in-tree KSM works under samepage unchanged: pages
 * given MADV_MERGEABLE (or, on 6.4+, a process with PR_SET_MEMORY_MERGE)
 * are merged by samepage while in-tree KSM does not run, with the same
 * counters in-tree KSM gives for the same program (run first under it);
 * MADV_UNMERGEABLE gives them back; when in-tree KSM starts, samepage hands
 * the areas over; follow_madvise=0 stops following. MADV_UNMERGEABLE
 * unmerges inside the madvise() call (tests/ksm_differential.c compares
 * that with in-tree KSM).
 */
#include <sys/prctl.h>
#include "sp.h"

#define PR_SET_MEMORY_MERGE_ 67

struct counts {
	long shared, sharing, unshared, isvol;
};

static struct counts counts(const char *tree)
{
	struct counts c = {
		knob_in(tree, "pages_shared"), knob_in(tree, "pages_sharing"),
		knob_in(tree, "pages_unshared"), knob_in(tree, "pages_volatile"),
	};
	return c;
}


int main(void)
{
	struct counts k, s;
	char *buf;
	int apart = 1;

	sp_test_init(9);
	tap_ok(knob("follow_madvise") == 1, "follow_madvise defaults to 1");
	buf = map_pages(15);
	for (int i = 0; i < 15; i++)
		fill_page(buf + i * page_size, i < 10 ? 44 : 500 + i);
	if (madvise(buf, 15 * page_size, MADV_MERGEABLE))
		tap_bail("MADV_MERGEABLE: %s", strerror(errno));

	/* in-tree KSM first */
	must_set(KSM_TREE, "run", "2");
	must_set(KSM_TREE, "pages_to_scan", "10000");
	must_set(KSM_TREE, "sleep_millisecs", "0");
	set_knob_in(KSM_TREE, "smart_scan", "0");	/* as sp_reset() does; 6.7+ */
	run_passes(KSM_TREE, 4);
	k = counts(KSM_TREE);
	must_set(KSM_TREE, "run", "2");
	must_set(KSM_TREE, "run", "0");

	/* samepage: no REGISTER, the madvise alone */
	sp_reset();
	run_passes(SP_TREE, 4);
	s = counts(SP_TREE);
	tap_ok(!memcmp(&k, &s, sizeof(k)) && s.shared == 1 && s.sharing == 9,
	       "MADV_MERGEABLE: shared/sharing/unshared/volatile samepage %ld/%ld/%ld/%ld, ksm %ld/%ld/%ld/%ld",
	       s.shared, s.sharing, s.unshared, s.isvol, k.shared, k.sharing, k.unshared, k.isvol);

	madvise(buf, 15 * page_size, MADV_UNMERGEABLE);
	for (int i = 1; i < 10; i++)
		apart &= pfn_of(0, buf + i * page_size) != pfn_of(0, buf);
	run_passes(SP_TREE, 2);
	tap_ok(apart && knob("kernel_pages_allocated") == 0,
	       "MADV_UNMERGEABLE: no duplicate PFN when it returns; no kpage after a pass");

	/* in-tree KSM starts: samepage hands the area over */
	madvise(buf, 15 * page_size, MADV_MERGEABLE);
	run_passes(SP_TREE, 4);
	tap_ok(knob("kernel_pages_allocated") == 1, "merged again by samepage");
	must_set(KSM_TREE, "run", "1");
	must_set(SP_TREE, "run", "1");
	if (wait_scans(SP_TREE, 2) || wait_scans(KSM_TREE, 4))
		tap_bail("no scans");
	must_set(SP_TREE, "run", "0");
	tap_ok(knob("kernel_pages_allocated") == 0 && knob_in(KSM_TREE, "pages_sharing") == 9,
	       "in-tree KSM running: samepage handed over (0 kpages), ksm sharing %ld",
	       knob_in(KSM_TREE, "pages_sharing"));
	must_set(KSM_TREE, "run", "2");
	must_set(KSM_TREE, "run", "0");
	must_set(KSM_TREE, "pages_to_scan", "100");
	must_set(KSM_TREE, "sleep_millisecs", "20");
	set_knob_in(KSM_TREE, "smart_scan", "1");
	run_passes(SP_TREE, 4);
	tap_ok(knob("pages_sharing") == 9, "in-tree KSM stopped: samepage merges again");

	must_set(SP_TREE, "follow_madvise", "0");
	run_passes(SP_TREE, 2);
	tap_ok(knob("kernel_pages_allocated") == 0, "follow_madvise=0: nothing followed, all given back");
	must_set(SP_TREE, "follow_madvise", "1");
	madvise(buf, 15 * page_size, MADV_UNMERGEABLE);

	/* prctl(PR_SET_MEMORY_MERGE): every area of the process, new ones too */
	{
		int ready[2];
		pid_t pid;
		char b, **where = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

		if (pipe(ready))
			tap_bail("pipe");
		pid = fork();
		if (!pid) {
			char *p;

			if (prctl(PR_SET_MEMORY_MERGE_, 1, 0, 0, 0))
				_exit(2);
			p = map_pages(8);
			for (int i = 0; i < 8; i++)
				fill_page(p + i * page_size, 45);
			*where = p;
			if (write(ready[1], "x", 1) != 1)
				_exit(1);
			pause();
			_exit(0);
		}
		close(ready[1]);	/* else a child that failed leaves read() waiting */
		if (read(ready[0], &b, 1) != 1) {
			waitpid(pid, NULL, 0);
			tap_skip("this kernel has no PR_SET_MEMORY_MERGE (6.4+)",
				 "PR_SET_MEMORY_MERGE: a mapping made after it is merged");
			tap_skip("this kernel has no PR_SET_MEMORY_MERGE (6.4+)",
				 "after that process exits, no kpage is left");
		} else {
			int same = 1;

			run_passes(SP_TREE, 4);
			for (int i = 1; i < 8; i++)
				same &= pfn_of(pid, *where + i * page_size) == pfn_of(pid, *where);
			tap_ok(same, "PR_SET_MEMORY_MERGE: a mapping made after it is merged");
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			tap_ok(wait_knob(SP_TREE, "kernel_pages_allocated", 0) == 0,
			       "after that process exits, no kpage is left");
		}
	}
	sp_restore();
	return tap_done();
}
