// SPDX-License-Identifier: GPL-2.0
/*
 * use_zero_pages=1: 512 all-zero pages map the shared zero page, and
 * ksm_zero_pages follows them exactly through COW (writes) and munmap;
 * the process's anonymous rss drops by exactly those pages.
 */
#include <sys/utsname.h>
#include "sp.h"

#define NPAGES 512

static long rss_anon_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "RssAnon: %ld kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

/*
 * Up to 6.1 the kernel keeps per-task rss deltas and folds them into the mm
 * every 64 events (SPLIT_RSS_COUNTING), so RssAnon itself lags; from 6.2 the
 * counters are exact percpu_counters.
 */
static int split_rss_counting(void)
{
	struct utsname u;
	int major = 0, minor = 0;

	uname(&u);
	sscanf(u.release, "%d.%d", &major, &minor);
	return major < 6 || (major == 6 && minor < 2);
}

int main(void)
{
	char *buf;
	long before, after;
	int zero = 1, intact = 1;

	sp_test_init(7);
	sp_reset();
	must_set(SP_TREE, "use_zero_pages", "1");
	buf = map_pages(NPAGES);
	memset(buf, 0, NPAGES * page_size);	/* 512 real, zero-filled pages */
	sp_range(1, 0, buf, NPAGES * page_size);
	/* warm up what the readings themselves use (stdio, stack) first */
	wait_knob(SP_TREE, "run", 0);
	rss_anon_kb();
	before = rss_anon_kb();
	must_set(SP_TREE, "run", "1");
	if (wait_scans(SP_TREE, 2))
		tap_bail("no two full scans");
	tap_ok(knob("ksm_zero_pages") == NPAGES && knob("pages_shared") == 0 &&
	       knob("kernel_pages_allocated") == 0,
	       "ksm_zero_pages=%ld (want %d), no kpage", knob("ksm_zero_pages"), NPAGES);
	for (int i = 1; i < NPAGES; i++)
		zero &= pfn_of(0, buf + i * page_size) == pfn_of(0, buf);
	after = rss_anon_kb();
	tap_ok(zero, "pagemap: all %d pages map one (zero) page", NPAGES);
	if (split_rss_counting())	/* task-cached deltas: < 64 events off */
		tap_ok(labs(before - after - NPAGES * page_size / 1024) < 64 * page_size / 1024,
		       "RssAnon dropped by %ld kB (want %ld within the 6.1 task rss cache)",
		       before - after, NPAGES * page_size / 1024);
	else
		tap_ok(before - after == NPAGES * page_size / 1024,
		       "RssAnon dropped by %ld kB (want %ld)", before - after,
		       NPAGES * page_size / 1024);

	for (int i = 0; i < NPAGES / 2; i++)
		buf[i * page_size + 1] = 1;	/* COW of the zero page */
	if (wait_scans(SP_TREE, 2))
		tap_bail("no two full scans");
	tap_ok(knob("ksm_zero_pages") == NPAGES / 2,
	       "after writing %d of them: ksm_zero_pages=%ld (want %d)", NPAGES / 2,
	       knob("ksm_zero_pages"), NPAGES / 2);
	for (long i = 0; i < NPAGES * page_size; i++)
		intact &= buf[i] == ((i / page_size < NPAGES / 2 && i % page_size == 1) ? 1 : 0);
	tap_ok(intact, "every page reads back what was written");

	munmap(buf + NPAGES / 2 * page_size, NPAGES / 2 * page_size);
	if (wait_scans(SP_TREE, 2))
		tap_bail("no two full scans");
	must_set(SP_TREE, "run", "0");
	tap_ok(knob("ksm_zero_pages") == 0,
	       "after munmap of the rest: ksm_zero_pages=%ld (want 0)",
	       knob("ksm_zero_pages"));
	sp_range(0, 0, buf, NPAGES * page_size);

	/* regression: zero pages of a read-only mapping (6.1 cannot unshare them) */
	buf = map_pages(16);
	memset(buf, 0, 16 * page_size);
	sp_range(1, 0, buf, 16 * page_size);
	run_passes(SP_TREE, 2);
	mprotect(buf, 16 * page_size, PROT_READ);
	intact = knob("ksm_zero_pages") == 16;
	intact &= sp_range(0, 0, buf, 16 * page_size) == 0;
	for (long i = 0; i < 16 * page_size; i++)
		intact &= buf[i] == 0;
	tap_ok(intact && knob("ksm_zero_pages") == 0,
	       "16 zero pages made read-only: UNREGISTER returns, ksm_zero_pages=0, contents zero");
	sp_restore();
	return tap_done();
}
