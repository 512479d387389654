// SPDX-License-Identifier: GPL-2.0
/*
 * max_page_sharing, differential: the same 10 identical pages are merged by
 * in-tree KSM (madvise + /sys/kernel/mm/ksm) and then by samepage in the
 * same VM; pages_shared, pages_sharing, stable_node_chains and
 * stable_node_dups must agree, at the default 256 and at 2. Also the knob's
 * EBUSY while kpages exist.
 *
 * Then the same beside 3000 pairs of other contents (6010 pages): 3005
 * kpages and 6010 candidates are more than twice the 1024 buckets that
 * each of samepage's hash tables starts with (tree.c), so both double
 * during the pass, and the chain's five dups must still be found, in
 * order, among the moved entries.
 */
#include "sp.h"

#define NPAGES 10
#define NPAIRS 3000
#define NBIG (NPAGES + 2 * NPAIRS)

struct counts {
	long shared, sharing, chains, dups;
};

static struct counts read_counts(const char *tree)
{
	struct counts c = {
		knob_in(tree, "pages_shared"), knob_in(tree, "pages_sharing"),
		knob_in(tree, "stable_node_chains"), knob_in(tree, "stable_node_dups"),
	};
	return c;
}

/* Run the tree's scanner until its counts hold still for two full scans. */
static struct counts converge(const char *tree)
{
	struct counts prev = { -1, -1, -1, -1 }, now;

	must_set(tree, "run", "1");
	for (int i = 0; i < 20; i++) {
		if (wait_scans(tree, 2))
			tap_bail("%s made no progress", tree);
		now = read_counts(tree);
		if (!memcmp(&now, &prev, sizeof(now)))
			break;
		prev = now;
	}
	must_set(tree, "run", "0");
	return now;
}

static void compare(char *buf, long npages, const char *mps, long want_shared,
		    long want_sharing)
{
	struct counts k, s;

	/* in-tree KSM */
	must_set(KSM_TREE, "run", "2");
	must_set(KSM_TREE, "max_page_sharing", mps);
	must_set(KSM_TREE, "pages_to_scan", "10000");
	must_set(KSM_TREE, "sleep_millisecs", "0");
	if (madvise(buf, npages * page_size, MADV_MERGEABLE))
		tap_bail("MADV_MERGEABLE: %s", strerror(errno));
	k = converge(KSM_TREE);
	must_set(KSM_TREE, "run", "2");
	madvise(buf, npages * page_size, MADV_UNMERGEABLE);
	must_set(KSM_TREE, "run", "0");
	must_set(KSM_TREE, "max_page_sharing", "256");
	must_set(KSM_TREE, "pages_to_scan", "100");
	must_set(KSM_TREE, "sleep_millisecs", "20");

	/* samepage */
	sp_reset();
	must_set(SP_TREE, "max_page_sharing", mps);
	sp_range(1, 0, buf, npages * page_size);
	s = converge(SP_TREE);
	tap_ok(!memcmp(&k, &s, sizeof(k)),
	       "%ld pages, max_page_sharing=%s: shared/sharing/chains/dups samepage %ld/%ld/%ld/%ld, ksm %ld/%ld/%ld/%ld",
	       npages, mps, s.shared, s.sharing, s.chains, s.dups, k.shared, k.sharing,
	       k.chains, k.dups);
	tap_ok(s.shared == want_shared && s.sharing == want_sharing,
	       "%ld pages, max_page_sharing=%s: %ld shared, %ld sharing (want %ld, %ld)",
	       npages, mps, s.shared, s.sharing, want_shared, want_sharing);
	tap_ok(set_knob("max_page_sharing", "3") == -EBUSY &&
	       set_knob("merge_across_nodes", "0") == -EBUSY,
	       "max_page_sharing and merge_across_nodes are EBUSY while kpages exist");
	sp_range(0, 0, buf, npages * page_size);
	must_set(SP_TREE, "max_page_sharing", "256");
}

int main(void)
{
	char *buf;

	sp_test_init(9);
	buf = map_pages(NBIG);
	for (int i = 0; i < NPAGES; i++)
		fill_page(buf + i * page_size, 3);
	compare(buf, NPAGES, "256", 1, 9);
	compare(buf, NPAGES, "2", 5, 5);
	for (int i = 0; i < 2 * NPAIRS; i++)
		fill_page(buf + (NPAGES + i) * page_size, 1000 + i / 2);
	compare(buf, NBIG, "2", 5 + NPAIRS, 5 + NPAIRS);
	sp_restore();
	return tap_done();
}
