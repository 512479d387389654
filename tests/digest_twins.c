// SPDX-License-Identifier: GPL-2.0
/*
 * Pages whose keys share a digest. samepage files a candidate under a
 * 32-bit digest of its key; two different contents may share one (about
 * one pair in 2^32 / candidates: 5 of 65536 pairs in the bench's W3 at
 * 1 GiB). Seeds 7000286 and 7370469 of fill_page() are such a pair (their
 * xxh64s differ, hi ^ lo 32 bits are both 0x014fa8e3; found by a search
 * over fill_page's seeds). Process A holds content X; process B holds Y
 * (X's digest) and then X. Scanned in that order, B's Y meets A's X as a
 * partner and they differ; A's X must stay a candidate, so that B's X
 * merges with it. Filing A's X away as changed (as a stale candidate is)
 * made this pair never merge, pass after pass.
 */
#include "sp.h"

#define SEED_X	7000286
#define SEED_Y	7370469

static char *buf;

static void setup_a(void *arg)
{
	(void)arg;
	buf = map_pages(1);
	fill_page(buf, SEED_X);
	if (sp_range(1, 0, buf, page_size))
		_exit(1);
}

static void setup_b(void *arg)
{
	(void)arg;
	buf = map_pages(2);
	fill_page(buf, SEED_Y);
	fill_page(buf + page_size, SEED_X);
	if (sp_range(1, 0, buf, 2 * page_size))
		_exit(1);
}

/* 'v': every page still holds its content */
static int step(int cmd, void *arg)
{
	char ref[65536];
	int b = arg != NULL;

	if (cmd == 'v') {
		fill_page(ref, b ? SEED_Y : SEED_X);
		if (memcmp(ref, buf, page_size))
			return 0;
		if (b) {
			fill_page(ref, SEED_X);
			if (memcmp(ref, buf + page_size, page_size))
				return 0;
		}
		return 1;
	}
	return 0;
}

int main(void)
{
	struct child a, b;

	sp_test_init(3);
	sp_reset();
	a = spawn(setup_a, step, NULL);
	b = spawn(setup_b, step, (void *)1);
	run_passes(SP_TREE, 4);
	tap_ok(knob("pages_shared") == 1 && knob("pages_sharing") == 1,
	       "X in A and in B merged: pages_shared %ld, pages_sharing %ld (want 1, 1)",
	       knob("pages_shared"), knob("pages_sharing"));
	tap_ok(knob("pages_unshared") == 1,
	       "Y, X's digest twin, is a candidate: pages_unshared %ld (want 1)",
	       knob("pages_unshared"));
	tap_ok(ask(&a, 'v') == 1 && ask(&b, 'v') == 1, "every page keeps its content");
	reap_child(&a);
	reap_child(&b);
	sp_restore();
	return tap_done();
}
