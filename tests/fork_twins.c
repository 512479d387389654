// SPDX-License-Identifier: GPL-2.0
/*
 * Found by trinity (tests/vm/trinity.sh) on 6.1: a parent and its forked
 * child, both registered, share every page they have not written since the
 * fork (COW). The unstable tree then pairs the child's page with the
 * parent's item for the same address: the same page, so page_folio() of
 * both is the same (order-0) folio. merge_with_partner() takes that for
 * "twins inside one large folio" and splits it; 6.1's
 * split_huge_page_to_list() has no check for a small folio and walks the
 * next-but-one struct page as a deferred-split list (NULL dereference or
 * list corruption in samepaged). This must merge or skip those pages, and
 * leave both processes' content intact.
 */
#include "sp.h"

#define NPAGES	64

int main(void)
{
	int go[2], st;
	char *p;
	pid_t c;

	sp_test_init(4);
	sp_reset();
	p = map_pages(NPAGES);
	for (int i = 0; i < NPAGES; i++)
		fill_page(p + i * page_size, 7100 + i);	/* unique within the process */
	if (pipe(go))
		tap_bail("pipe: %s", strerror(errno));
	c = fork();
	if (c < 0)
		tap_bail("fork: %s", strerror(errno));
	if (c == 0) {		/* reads only: every page stays shared with the parent */
		static char ref[65536];
		char b;

		if (read(go[0], &b, 1) != 1)
			_exit(2);
		for (int i = 0; i < NPAGES; i++) {
			fill_page(ref, 7100 + i);
			if (memcmp(ref, p + i * page_size, page_size))
				_exit(1);
		}
		_exit(0);
	}
	tap_ok(sp_range(1, 0, NULL, 0) == 0 && sp_range(1, c, NULL, 0) == 0,
	       "parent and its forked child registered whole");
	must_set(SP_TREE, "run", "1");
	tap_ok(wait_scans(SP_TREE, 4) == 0, "4 full scans over pages parent and child share");
	must_set(SP_TREE, "run", "0");
	{
		static char ref[65536];
		int bad = 0;

		for (int i = 0; i < NPAGES; i++) {
			fill_page(ref, 7100 + i);
			bad += !!memcmp(ref, p + i * page_size, page_size);
		}
		if (write(go[1], "g", 1) != 1 || waitpid(c, &st, 0) != c)
			tap_bail("child lost");
		tap_ok(!bad && WIFEXITED(st) && WEXITSTATUS(st) == 0,
		       "both keep their content (parent: %d pages differ, child exit %d)", bad,
		       WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	}
	must_set(SP_TREE, "run", "2");
	tap_ok(knob("kernel_pages_allocated") == 0, "run=2 leaves no kpage (%ld)",
	       knob("kernel_pages_allocated"));
	sp_restore();
	return tap_done();
}
