// SPDX-License-Identifier: GPL-2.0
/*
 * Sparse mappings: two processes each reserve 1 TiB (MAP_NORESERVE,
 * MADV_NOHUGEPAGE, MADV_MERGEABLE on all of it, as a JVM, a browser or
 * PR_SET_MEMORY_MERGE make it) and write 64 equal pages spread evenly over
 * it. At the default knobs (pages_to_scan 100, sleep_millisecs 20) the 64
 * pairs must merge within seconds: the empty part of the reservation costs
 * nothing against pages_to_scan. Then run=2 and UNREGISTER over the whole
 * terabyte must return at once, with no hung task or soft lockup (the VM's
 * kernel log check). In-tree KSM runs the same first, for its figures
 * (its run=2 is not used: over such a mapping, 6.12's holds its mutex long
 * enough for the hung-task detector).
 */
#include <time.h>
#include "sp.h"

#define RESERVE	(1ULL << 40)
#define NPAGES	64

static char *map_sparse(void)
{
	char *p = mmap(NULL, RESERVE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		_exit(1);
	madvise(p, RESERVE, MADV_NOHUGEPAGE);
	if (madvise(p, RESERVE, MADV_MERGEABLE))
		_exit(2);
	for (int i = 0; i < NPAGES; i++)
		fill_page(p + i * (RESERVE / NPAGES), 77 + i);
	return p;
}

static char *mine;

static void setup(void *arg)
{
	(void)arg;
	mine = map_sparse();
}

/* 'v': every page still holds its content (1), 'u': unregister self (0 or errno) */
static int step(int cmd, void *arg)
{
	char ref[65536];

	(void)arg;
	if (cmd == 'v') {
		for (int i = 0; i < NPAGES; i++) {
			fill_page(ref, 77 + i);
			if (memcmp(ref, mine + i * (RESERVE / NPAGES), page_size))
				return 0;
		}
		return 1;
	}
	return 0;
}

/* Seconds until @tree's pages_sharing reads NPAGES, or -1 after @limit s. */
static double time_to_merge(const char *tree, double limit)
{
	double t0 = sp_now();

	while (sp_now() - t0 < limit) {
		if (knob_in(tree, "pages_sharing") == NPAGES)
			return sp_now() - t0;
		usleep(50000);
	}
	return -1;
}

static double run_tree(const char *tree, struct child *a, struct child *b)
{
	double t;

	must_set(KSM_TREE, "run", "0");
	must_set(SP_TREE, "run", "0");
	*a = spawn(setup, step, NULL);
	*b = spawn(setup, step, NULL);
	must_set(tree, "run", "1");
	/* in-tree's walk is per address before its range walk (6.1): 20 s is its answer */
	t = time_to_merge(tree, strcmp(tree, KSM_TREE) ? 60 : 20);
	must_set(tree, "run", "0");
	return t;
}

int main(void)
{
	struct child a, b;
	double tk, ts, t0, t2, tu;
	long scanned;
	int intact;

	sp_test_init(4);
	restore_ksm();
	sp_restore();			/* the default knobs, both trees */

	tk = run_tree(KSM_TREE, &a, &b);
	reap_child(&a);			/* in-tree's pages go with the processes */
	reap_child(&b);
	tap_diag("in-tree KSM merged the 64 pairs in %.2f s (-1: not in 20 s)", tk);

	scanned = knob("pages_scanned");
	ts = run_tree(SP_TREE, &a, &b);
	tap_ok(ts >= 0 && ts < 10,
	       "samepage merged the 64 pairs of two 1 TiB reservations in %.2f s at the default knobs (in-tree: %.2f s; want < 10 s under emulation)",
	       ts, tk);
	tap_diag("pages_scanned grew by %ld", knob("pages_scanned") - scanned);
	intact = ask(&a, 'v') == 1 && ask(&b, 'v') == 1;
	tap_ok(intact, "every written page exact while merged");

	t0 = sp_now();
	must_set(SP_TREE, "run", "2");
	t2 = sp_now() - t0;
	tap_ok(t2 < 5 && knob("pages_sharing") == 0 && ask(&a, 'v') == 1,
	       "run=2 over both terabytes returned in %.2f s, pages_sharing %ld, pages exact",
	       t2, knob("pages_sharing"));

	must_set(SP_TREE, "run", "1");
	if (time_to_merge(SP_TREE, 60) < 0)
		tap_bail("no merge again after run=2");
	must_set(SP_TREE, "run", "0");
	t0 = sp_now();
	if (sp_range(0, a.pid, NULL, 0) || sp_range(0, b.pid, NULL, 0))
		tap_bail("UNREGISTER: %s", strerror(errno));
	tu = sp_now() - t0;
	tap_ok(tu < 5 && ask(&a, 'v') == 1 && ask(&b, 'v') == 1,
	       "UNREGISTER of both processes returned in %.2f s, pages exact", tu);
	reap_child(&a);
	reap_child(&b);
	sp_close_dev();
	sp_restore();
	return tap_done();
}
