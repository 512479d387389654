// SPDX-License-Identifier: GPL-2.0
/*
 * cow_breaks counts writes that break a merged page, exactly: the first
 * write to each merged page, in the process or in a forked child, counts
 * once; a second write to the now private page does not; samepage's own
 * unmerging (run=2) does not. Every hook is active on every supported
 * kernel (the prctl one where the kernel has PR_SET_MEMORY_MERGE).
 */
#include <sys/prctl.h>
#include "sp.h"

#define PR_GET_MEMORY_MERGE_ 68

int main(void)
{
	char hooks[512] = "", want[512], *buf;
	int active;
	long base;
	FILE *f;
	pid_t pid;
	int status;

	sp_test_init(9);
	f = fopen(SP_TREE "hooks", "r");
	if (f && !fgets(hooks, sizeof(hooks), f))
		hooks[0] = '\0';
	if (f)
		fclose(f);
	snprintf(want, sizeof(want), "cow_breaks:do_wp_page(kprobe) unmerge_madvise:ksm_madvise(ftrace) %sinherit_fork:sched_process_fork(tracepoint) inherit_exec:begin_new_exec(kprobe) follow_madvise:__ksm_enter(kprobe) memory_errors:memory_failure(ftrace)\n",
		 prctl(PR_GET_MEMORY_MERGE_, 0, 0, 0, 0) < 0 ? "" :
		 "unmerge_prctl:ksm_disable_merge_any(ftrace) ");
	active = !strcmp(hooks, want);	/* before strtok() below cuts the newline */
	tap_ok(active, "every hook active: %s", strtok(hooks, "\n") ? hooks : "(none)");

	sp_reset();
	/* slow passes, so that "soon after merging" is a pass or two */
	must_set(SP_TREE, "pages_to_scan", "100");
	must_set(SP_TREE, "sleep_millisecs", "300");
	tap_ok(knob("cow_cooldown_passes") == 0, "cow_cooldown_passes defaults to 0 (in-tree timing)");
	must_set(SP_TREE, "cow_cooldown_passes", "4");
	buf = map_pages(10);
	for (int i = 0; i < 10; i++)
		fill_page(buf + i * page_size, 66);
	sp_range(1, 0, buf, 10 * page_size);
	run_passes(SP_TREE, 2);
	base = knob("cow_breaks");
	for (int i = 0; i < 4; i++)
		buf[i * page_size] = 1;
	tap_ok(knob("cow_breaks") - base == 4, "4 first writes to merged pages: +%ld",
	       knob("cow_breaks") - base);
	for (int i = 0; i < 4; i++)
		buf[i * page_size + 1] = 2;
	tap_ok(knob("cow_breaks") - base == 4, "writes to the now private pages add nothing");
	pid = fork();
	if (!pid) {
		buf[5 * page_size] = 3;
		buf[6 * page_size] = 3;
		_exit(0);
	}
	waitpid(pid, &status, 0);
	tap_ok(knob("cow_breaks") - base == 6, "a forked child's 2 writes to merged pages: +2 more (%ld)",
	       knob("cow_breaks") - base);
	/* page 0 was broken right after its merge: restored, it still waits */
	fill_page(buf, 66);
	run_passes(SP_TREE, 2);
	tap_ok(pfn_of(0, buf) != pfn_of(0, buf + 9 * page_size),
	       "a page broken right after merging is not re-merged at once");
	run_passes(SP_TREE, 4);
	tap_ok(pfn_of(0, buf) == pfn_of(0, buf + 9 * page_size),
	       "after its cooldown (4 visits), it merges again");
	/* with in-tree's timing, a page restored right after its COW merges at once */
	must_set(SP_TREE, "cow_cooldown_passes", "0");
	buf[7 * page_size] = 5;
	fill_page(buf + 7 * page_size, 66);
	run_passes(SP_TREE, 1);
	tap_ok(pfn_of(0, buf + 7 * page_size) == pfn_of(0, buf + 9 * page_size),
	       "cow_cooldown_passes=0: a page broken and restored right after merging merges in one pass");
	must_set(SP_TREE, "run", "2");
	tap_ok(knob("cow_breaks") - base == 7 && knob("kernel_pages_allocated") == 0,
	       "samepage's own unmerge (run=2) is not counted");
	sp_range(0, 0, buf, 10 * page_size);
	sp_restore();
	return tap_done();
}
