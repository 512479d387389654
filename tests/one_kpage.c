// SPDX-License-Identifier: GPL-2.0
/*
 * One kpage per content: three processes opt 128 MiB each in while the
 * scanner already runs flat out (pages_to_scan = every page, no sleep,
 * max_page_sharing = every page), and only then fill it, one with 'c' and
 * two with 'a'. Two full passes after they stop, in-tree KSM shows
 * pages_shared 2 and pages_sharing 98302; samepage must show the same,
 * every time: a content that ends up in two kpages is a page not saved,
 * and a counter that disagrees with in-tree's.
 *
 * Run with THP (the distributions' default) and with MADV_NOHUGEPAGE,
 * SP_ONE_KPAGE_RUNS times each (default 3; scripts can ask for 20).
 */
#include "sp.h"

#define MIB	128
#define PAGES	(MIB * 1024 * 1024 / 4096)	/* per process, 4 KiB pages */

struct run {
	long shared, sharing;
};

static void fill(char c, int thp)
{
	size_t len = (size_t)MIB << 20;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		_exit(1);
	if (!thp)
		madvise(p, len, MADV_NOHUGEPAGE);
	if (madvise(p, len, MADV_MERGEABLE))
		_exit(1);
	/* the parent starts the scanner between this and the fill */
	raise(SIGSTOP);
	memset(p, c, len);
	for (;;)
		pause();
}

static struct run one(const char *tree, int thp)
{
	pid_t pid[3];
	char pages[32];
	struct run r;
	int st;

	use_tree(tree);
	snprintf(pages, sizeof(pages), "%d", 3 * PAGES);
	must_set(tree, "max_page_sharing", pages);
	must_set(tree, "pages_to_scan", pages);
	must_set(tree, "sleep_millisecs", "0");
	for (int i = 0; i < 3; i++) {
		pid[i] = fork();
		if (!pid[i])
			fill(i ? 'a' : 'c', thp);
		if (waitpid(pid[i], &st, WUNTRACED) != pid[i] || !WIFSTOPPED(st))
			tap_bail("child %d did not stop", i);
	}
	must_set(tree, "run", "1");
	for (int i = 0; i < 3; i++)
		kill(pid[i], SIGCONT);
	/* until every page is merged, then two more full passes */
	if (wait_knob(tree, "pages_sharing", 3 * PAGES - 2) &&
	    knob_in(tree, "pages_sharing") + knob_in(tree, "pages_shared") != 3 * PAGES)
		tap_diag("%s: pages_sharing %ld after 60 s", tree, knob_in(tree, "pages_sharing"));
	if (wait_scans(tree, 2))
		tap_bail("%s: no 2 full scans", tree);
	r.shared = knob_in(tree, "pages_shared");
	r.sharing = knob_in(tree, "pages_sharing");
	for (int i = 0; i < 3; i++) {
		kill(pid[i], SIGKILL);
		waitpid(pid[i], NULL, 0);
	}
	must_set(tree, "run", "2");
	must_set(tree, "run", "0");
	must_set(tree, "max_page_sharing", "256");
	return r;
}

int main(void)
{
	const char *env = getenv("SP_ONE_KPAGE_RUNS");
	int runs = env ? atoi(env) : 3;

	sp_test_init(2);
	for (int thp = 1; thp >= 0; thp--) {
		int good = 0;
		struct run k = one(KSM_TREE, thp), s;

		for (int i = 0; i < runs; i++) {
			s = one(SP_TREE, thp);
			good += s.shared == k.shared && s.sharing == k.sharing;
			if (s.shared != k.shared || s.sharing != k.sharing)
				tap_diag("%s run %d: samepage %ld/%ld", thp ? "THP" : "small pages", i + 1,
					 s.shared, s.sharing);
		}
		tap_ok(good == runs && k.shared == 2 && k.sharing == 3 * PAGES - 2,
		       "%s: pages_shared/pages_sharing equal to in-tree's %ld/%ld in %d of %d runs",
		       thp ? "THP" : "small pages", k.shared, k.sharing, good, runs);
	}
	restore_ksm();
	sp_restore();
	return tap_done();
}
