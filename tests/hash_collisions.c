// SPDX-License-Identifier: GPL-2.0
/*
 * Hashes are never trusted: with the testing parameter hash_mask=0 every
 * page hashes alike. Different pages must still never share a PFN, equal
 * ones still merge (after memcmp), and hash_collisions counts every equal
 * hash that hid different content: A, B distinct and X, X equal give
 * 1 + 2 + 2 collisions in the first pass (merge_first_sight, the default;
 * A sees nothing; B meets A; the first X meets A and B; the second X meets
 * A and B, then merges with the first X), then 3 a pass (A meets kpage X;
 * B meets kpage X and A).
 */
#include "sp.h"

#define MASK "/sys/module/samepage/parameters/hash_mask"

static int set_mask(const char *v)
{
	int fd = open(MASK, O_WRONLY), ok;

	ok = fd >= 0 && write(fd, v, strlen(v)) == (ssize_t)strlen(v);
	if (fd >= 0)
		close(fd);
	return ok ? 0 : -1;
}

/*
 * hash_mask=0 makes every tracked page of every process collide, so a
 * process another test left registered would add its own collisions: none
 * may be (fuzz_ioctl once left init registered: 824 collisions, not 23).
 */
int main(void)
{
	char *buf, *a, *b, *x1, *x2;
	long scans, coll, coll0;

	sp_test_init(4);
	must_set(SP_TREE, "follow_madvise", "0");	/* no madvised process joins */
	sp_unregister_others();
	sp_reset();
	must_set(SP_TREE, "pages_to_scan", "4");
	must_set(SP_TREE, "sleep_millisecs", "10");
	coll0 = knob("hash_collisions");	/* it counts since the load */
	if (set_mask("0"))
		tap_bail("cannot set %s", MASK);
	buf = map_pages(4);
	a = buf, b = buf + page_size, x1 = buf + 2 * page_size, x2 = buf + 3 * page_size;
	fill_page(a, 1);
	fill_page(b, 2);
	fill_page(x1, 3);
	fill_page(x2, 3);
	sp_range(1, 0, buf, 4 * page_size);
	run_passes(SP_TREE, 5);
	scans = knob("full_scans");
	coll = knob("hash_collisions") - coll0;
	tap_ok(pfn_of(0, x1) == pfn_of(0, x2), "the equal pages merged");
	tap_ok(pfn_of(0, a) != pfn_of(0, b) && pfn_of(0, a) != pfn_of(0, x1) &&
	       pfn_of(0, b) != pfn_of(0, x1), "no two different pages share a PFN");
	tap_ok(coll == 5 + 3 * (scans - 1),
	       "hash_collisions grew by %ld in %ld full scans (want %ld)", coll, scans,
	       5 + 3 * (scans - 1));
	{
		char ra[65536], rb[65536], rx[65536];

		fill_page(ra, 1);
		fill_page(rb, 2);
		fill_page(rx, 3);
		tap_ok(!memcmp(a, ra, page_size) && !memcmp(b, rb, page_size) &&
		       !memcmp(x1, rx, page_size) && !memcmp(x2, rx, page_size),
		       "every page keeps its content");
	}
	set_mask("18446744073709551615");
	sp_range(0, 0, buf, 4 * page_size);
	sp_restore();
	set_knob("follow_madvise", "1");
	return tap_done();
}
