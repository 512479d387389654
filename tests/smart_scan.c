// SPDX-License-Identifier: GPL-2.0
/*
 * smart_scan (default 1) and pages_skipped follow in-tree KSM's ladder:
 * a page that never merges is visited normally three times, then skipped
 * 1, 2, 4, 8 times between visits. 32 unique pages are scanned by in-tree
 * KSM (where the kernel has smart_scan, 6.7+) and by samepage; each visit
 * is either scanned or skipped, so with V visits per page both trees must
 * show pages_skipped = 32 x skips(V), skips() being the ladder.
 */
#include "sp.h"

#define NPAGES 32

/* The ladder: how many of @visits visits of a never-merging page skip. */
static long skips(long visits)
{
	long skipped = 0, remaining = 0;

	for (long v = 0; v < visits; v++) {
		long age = v < 255 ? v : 255;

		if (age < 3)
			continue;
		if (!remaining) {
			remaining = age <= 3 ? 1 : age <= 5 ? 2 : age <= 8 ? 4 : 8;
			continue;
		}
		remaining--;
		skipped++;
	}
	return skipped;
}

/* Scan @buf with @tree for about @passes passes; return visits per page. */
static long run_tree(const char *tree, char *buf, int passes, long *skipped)
{
	long scanned0 = knob_in(tree, "pages_scanned");
	long skipped0 = knob_in(tree, "pages_skipped");
	long visits;

	must_set(tree, "smart_scan", "1");
	must_set(tree, "pages_to_scan", "100");
	must_set(tree, "sleep_millisecs", "10");
	must_set(tree, "run", "1");
	if (wait_scans(tree, passes))
		tap_bail("%s: no %d full scans", tree, passes);
	must_set(tree, "run", "0");	/* waits for the batch in both trees */
	*skipped = knob_in(tree, "pages_skipped") - skipped0;
	visits = knob_in(tree, "pages_scanned") - scanned0 + *skipped;
	if (visits % NPAGES)
		tap_diag("%s: %ld visits is not a multiple of %d", tree, visits, NPAGES);
	(void)buf;
	return visits / NPAGES;
}

/*
 * A skipped page stays a candidate: a twin registered while the ladder
 * skips the page (its visits 15-22 are skipped) merges with it in the
 * first pass that sees the twin, as with smart_scan=0, instead of waiting
 * up to 8 passes: whether the twin comes after the skipped page in the
 * pass (the skipped page is kept in the unstable tree: pages_skipped +1)
 * or before it (the page due for a skip finds the twin's hash in the tree
 * and is visited: pages_skipped +0). ksm_tests -N madvises its second
 * page two passes after its first and expects them merged two passes later.
 */
static void late_twin(int twin_first)
{
	char *buf = map_pages(2), *old = buf + (twin_first ? page_size : 0);
	char *twin = buf + (twin_first ? 0 : page_size);
	long skipped;

	fill_page(buf, 77);
	fill_page(buf + page_size, 77);
	sp_reset();
	must_set(SP_TREE, "smart_scan", "1");
	sp_range(1, 0, old, page_size);
	/*
	 * Visits 1-15. At sleep 0 a pass of one page takes microseconds and
	 * run_passes()' 100 ms poll can overshoot by dozens of passes (seen
	 * on a loaded 6.1 VM); 500 ms between passes keeps it within the
	 * skipped visits 15-22.
	 */
	must_set(SP_TREE, "sleep_millisecs", "500");
	run_passes(SP_TREE, 15);
	skipped = knob("pages_skipped");
	sp_range(1, 0, twin, page_size);
	must_set(SP_TREE, "sleep_millisecs", "3000");	/* one pass, exactly */
	run_passes(SP_TREE, 1);
	tap_ok(knob("pages_skipped") == skipped + !twin_first && knob("pages_shared") == 1 &&
	       knob("pages_sharing") == 1 && pfn_of(0, buf) == pfn_of(0, buf + page_size),
	       "a twin %s a page smart scan skips merges with it in one pass: pages_skipped +%ld (want +%d), shared %ld, sharing %ld (want 1, 1)",
	       twin_first ? "before" : "after", knob("pages_skipped") - skipped, !twin_first,
	       knob("pages_shared"), knob("pages_sharing"));
	sp_range(0, 0, buf, 2 * page_size);
	munmap(buf, 2 * page_size);
}

int main(void)
{
	long v, skipped;
	char *buf;

	sp_test_init(6);
	buf = map_pages(NPAGES);
	for (int i = 0; i < NPAGES; i++)
		fill_page(buf + i * page_size, 9000 + i);

	tap_ok(knob("smart_scan") == 1, "smart_scan defaults to 1");
	if (access(KSM_TREE "smart_scan", F_OK)) {
		tap_skip("in-tree KSM of this kernel has no smart_scan (6.7+)",
			 "in-tree KSM follows the ladder");
	} else {
		must_set(KSM_TREE, "run", "2");
		madvise(buf, NPAGES * page_size, MADV_MERGEABLE);
		v = run_tree(KSM_TREE, buf, 12, &skipped);
		tap_ok(v >= 12 && skipped == NPAGES * skips(v),
		       "in-tree KSM: %ld visits per page, pages_skipped +%ld (ladder: %ld)",
		       v, skipped, NPAGES * skips(v));
		must_set(KSM_TREE, "run", "2");
		madvise(buf, NPAGES * page_size, MADV_UNMERGEABLE);
		must_set(KSM_TREE, "run", "0");
		must_set(KSM_TREE, "pages_to_scan", "100");
		must_set(KSM_TREE, "sleep_millisecs", "20");
	}

	sp_reset();
	sp_range(1, 0, buf, NPAGES * page_size);
	v = run_tree(SP_TREE, buf, 12, &skipped);
	tap_ok(v >= 12 && skipped == NPAGES * skips(v),
	       "samepage: %ld visits per page, pages_skipped +%ld (ladder: %ld)", v,
	       skipped, NPAGES * skips(v));
	tap_ok(skips(12) == 6 && knob("pages_shared") == 0,
	       "the ladder skips 6 of 12 visits; nothing merged");
	sp_range(0, 0, buf, NPAGES * page_size);
	late_twin(0);
	late_twin(1);
	sp_restore();
	return tap_done();
}
