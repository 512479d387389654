// SPDX-License-Identifier: GPL-2.0
/*
 * A MADV_HUGEPAGE region backed by PMD-mapped THPs is skipped, counted in
 * pages_skipped_thp (every page of every THP, on every pass), never merged,
 * and reads back intact. Skipped where the kernel has no THP (rt flavour).
 */
#include "sp.h"

#define REGION (4UL << 20)

static long anon_huge_kb(void)
{
	char line[256];
	long kb = 0, v;
	FILE *f = fopen("/proc/self/smaps_rollup", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "AnonHugePages: %ld kB", &v) == 1)
			kb = v;
	if (f)
		fclose(f);
	return kb;
}

int main(void)
{
	char *raw, *buf, scan[32];
	long thp_pages, scans, skipped;
	int intact = 1;

	sp_test_init(3);
	if (access("/sys/kernel/mm/transparent_hugepage", F_OK)) {
		/* CONFIG_TRANSPARENT_HUGEPAGE=n: Debian's rt flavour */
		const char *why = "this kernel has no transparent hugepages";

		tap_skip(why, "pages_skipped_thp counts every THP page on every pass");
		tap_skip(why, "nothing in a THP was merged");
		tap_skip(why, "the THP region reads back intact");
		return tap_done();
	}
	sp_reset();
	raw = mmap(NULL, REGION + (2UL << 20), PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	buf = (char *)(((uintptr_t)raw + (2UL << 20) - 1) & ~((2UL << 20) - 1));
	if (madvise(buf, REGION, MADV_HUGEPAGE))
		tap_bail("MADV_HUGEPAGE: %s", strerror(errno));
	for (unsigned long i = 0; i < REGION; i += page_size)
		fill_page(buf + i, 9);	/* identical pages: merge bait */
	thp_pages = anon_huge_kb() * 1024 / page_size;
	if (thp_pages < 512)
		tap_bail("the kernel gave no THP (AnonHugePages %ld kB)", anon_huge_kb());

	/* one pass per batch: the region is the only registered memory */
	snprintf(scan, sizeof(scan), "%lu", REGION / page_size);
	must_set(SP_TREE, "pages_to_scan", scan);
	sp_range(1, 0, buf, REGION);
	run_passes(SP_TREE, 3);
	scans = knob("full_scans");
	skipped = knob("pages_skipped_thp");
	tap_ok(skipped == thp_pages * scans,
	       "pages_skipped_thp=%ld = %ld THP pages x %ld passes", skipped,
	       thp_pages, scans);
	tap_ok(knob("pages_shared") == 0 && knob("kernel_pages_allocated") == 0,
	       "nothing in a THP was merged");
	for (unsigned long i = 0; i < REGION; i += page_size) {
		char ref[65536];

		fill_page(ref, 9);
		intact &= !memcmp(ref, buf + i, page_size);
	}
	tap_ok(intact, "the THP region reads back intact");
	sp_range(0, 0, buf, REGION);
	sp_restore();
	return tap_done();
}
