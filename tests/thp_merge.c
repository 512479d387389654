// SPDX-License-Identifier: GPL-2.0
/*
 * Huge pages merge, on the kernel's own THP default (always on
 * Debian): samepage splits a THP whose subpages have partners and merges
 * them, as in-tree KSM does, but only once thp_min_mergeable subpages of
 * it would merge.
 *
 *  - THP=always, 2 processes x 64 MiB (2 MiB aligned, no madvise but
 *    MERGEABLE), half of the pages equal across them: samepage's
 *    pages_sharing equals in-tree's in the same VM, every byte reads back,
 *    AnonHugePages ends as in-tree's;
 *  - the same with MADV_HUGEPAGE under THP=madvise;
 *  - after split-and-merge: COW, fork, munmap of half a THP, mremap,
 *    MADV_DONTNEED, exit; zero subpages with use_zero_pages (exact);
 *  - thp_min_mergeable=64: 10 twins leave both THPs whole (counted), 100
 *    split and merge them;
 *  - mTHP (64 KiB, 6.8+): subpages merge, counters exact;
 *  - writers on the huge pages while they are split and merged: exact;
 *  - khugepaged at its most aggressive never undoes a merge.
 */
#include <pthread.h>
#include "sp.h"

#define MB		(1L << 20)
#define THP		(2 * MB)
#define THP_DIR		"/sys/kernel/mm/transparent_hugepage/"

/* A 2 MiB-aligned anonymous region of @len bytes (@advice 0: none). */
static char *thp_map(size_t len, int advice)
{
	char *raw = mmap(NULL, len + THP, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *p;

	if (raw == MAP_FAILED)
		tap_bail("mmap: %s", strerror(errno));
	p = (char *)(((uintptr_t)raw + THP - 1) & ~(THP - 1));
	if (advice && madvise(p, len, advice))
		tap_bail("madvise %d: %s", advice, strerror(errno));
	return p;
}

/* AnonHugePages of @pid (0: self), in kB. */
static long anon_huge_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = 0, v;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", pid ? pid : getpid());
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "AnonHugePages: %ld kB", &v) == 1)
			kb = v;
	if (f)
		fclose(f);
	return kb;
}

/*
 * Run @tree's scanner until pages_sharing holds for four passes. (Two were
 * not enough once for in-tree KSM on the slow sanitizer kernel: 7168 of
 * 8192 for two passes, two huge pages not split yet.)
 */
static long converge(const char *tree)
{
	long last = -1, now;
	int same = 0;

	must_set(tree, "run", "1");
	for (int i = 0; i < 30; i++) {
		if (wait_scans(tree, 2))
			tap_bail("%s: no full scans", tree);
		now = knob_in(tree, "pages_sharing");
		same = now == last && now > 0 ? same + 1 : 0;
		if (same == 2)
			break;
		last = now;
	}
	must_set(tree, "run", "0");
	return knob_in(tree, "pages_sharing");
}

static void set_thp(const char *file, const char *val)
{
	char path[256];

	snprintf(path, sizeof(path), THP_DIR "%s", file);
	must_set("", path, val);
}

/* ---- 1, 2: two processes, half of their pages equal ---- */

struct twin {
	int idx, advice, tree_sp;
	size_t len;
	char *buf;
	long huge_before;
};

static void twin_content(struct twin *t, char *page, long i)
{
	fill_page(page, i % 2 ? (uint64_t)(t->idx + 1) << 32 | i : (uint64_t)i);
}

static void twin_setup(void *arg)
{
	struct twin *t = arg;

	t->buf = thp_map(t->len, t->advice);
	for (long i = 0; i < (long)(t->len / page_size); i++)
		twin_content(t, t->buf + i * page_size, i);
	t->huge_before = anon_huge_kb(0);
	if (madvise(t->buf, t->len, MADV_MERGEABLE))
		_exit(2);
}

/* 1: huge kB before (in units of 64 kB); 2: every page intact; 3: huge kB now / 64 */
static int twin_step(int cmd, void *arg)
{
	struct twin *t = arg;
	static char ref[65536];

	if (cmd == 1)
		return (int)(t->huge_before / 2048);
	if (cmd == 3)
		return (int)(anon_huge_kb(0) / 2048);
	for (long i = 0; i < (long)(t->len / page_size); i++) {
		twin_content(t, ref, i);
		if (memcmp(ref, t->buf + i * page_size, page_size))
			return 0;
	}
	return 1;
}

struct twin_result {
	long sharing, huge_before, huge_after;
	int intact;
};

static struct twin_result run_twins(const char *tree, size_t len, int advice)
{
	struct twin t[2] = { { .idx = 0, .len = len, .advice = advice },
			     { .idx = 1, .len = len, .advice = advice } };
	struct twin_result r = { .intact = 1 };
	struct child c[2];

	for (int i = 0; i < 2; i++)
		c[i] = spawn(twin_setup, twin_step, &t[i]);
	for (int i = 0; i < 2; i++)
		r.huge_before += ask(&c[i], 1) * 2048L;
	r.sharing = converge(tree);
	for (int i = 0; i < 2; i++) {
		r.intact &= ask(&c[i], 2) == 1;
		r.huge_after += ask(&c[i], 3) * 2048L;
	}
	for (int i = 0; i < 2; i++)
		reap_child(&c[i]);
	must_set(tree, "run", "2");
	must_set(tree, "run", "0");
	return r;
}

static void twins_test(const char *what, size_t len, int advice)
{
	struct twin_result k, s;
	long want = len / page_size / 2;

	must_set(KSM_TREE, "pages_to_scan", "10000");
	must_set(KSM_TREE, "sleep_millisecs", "0");
	must_set(SP_TREE, "follow_madvise", "1");
	k = run_twins(KSM_TREE, len, advice);
	s = run_twins(SP_TREE, len, advice);
	tap_diag("%s: in-tree pages_sharing %ld, AnonHugePages %ld -> %ld kB; "
		 "samepage %ld, %ld -> %ld kB", what, k.sharing, k.huge_before,
		 k.huge_after, s.sharing, s.huge_before, s.huge_after);
	tap_ok(s.huge_before == (long)(2 * len / 1024) && k.huge_before == s.huge_before,
	       "%s: both runs start THP-backed (%ld kB)", what, s.huge_before);
	tap_ok(k.sharing == want && s.sharing == k.sharing,
	       "%s: samepage pages_sharing %ld == in-tree's %ld (want %ld)", what,
	       s.sharing, k.sharing, want);
	tap_ok(k.intact && s.intact, "%s: every byte reads back under both", what);
	/* every THP has 256 twin subpages (>= thp_min_mergeable): all are split */
	tap_ok(s.huge_after == 0,
	       "%s: AnonHugePages after: samepage 0 kB (%ld), every THP split (in-tree: %ld kB)",
	       what, s.huge_after, k.huge_after);
}

/* ---- 3: what a split-and-merged range does ---- */

static int same(const char *a, const char *b, size_t len)
{
	return !memcmp(a, b, len);
}

static void split_semantics(void)
{
	size_t len = 2 * THP;
	char *x = thp_map(len, MADV_HUGEPAGE), *y = thp_map(len, MADV_HUGEPAGE);
	char *shadow = malloc(len), *m, *probe = map_pages(1);
	long n = len / page_size, ok = 1, splits, zeros = 0;
	uint64_t zero_pfn;
	int status;
	pid_t pid;

	zero_pfn = (*(volatile char *)probe, pfn_of(0, probe));	/* a read fault */
	for (long i = 0; i < n; i++) {
		if (i % 8 == 7)
			memset(x + i * page_size, 0, page_size);	/* zero subpages */
		else
			fill_page(x + i * page_size, i % 4 ? 500000 + i : i);
		memcpy(y + i * page_size, x + i * page_size, page_size);
		if (i % 4 == 1)		/* y differs on a quarter */
			fill_page(y + i * page_size, 900000 + i);
	}
	memcpy(shadow, x, len);
	must_set(SP_TREE, "use_zero_pages", "1");
	if (sp_range(1, 0, x, len) || sp_range(1, 0, y, len))
		tap_bail("register: %s", strerror(errno));
	tap_ok(anon_huge_kb(0) >= 8192, "both ranges THP-backed (%ld kB)", anon_huge_kb(0));
	splits = knob("thp_split");
	converge(SP_TREE);
	/*
	 * Zero subpages map the zero page once their THP is split: samepage
	 * maps them (use_zero_pages, counted), or, from 6.12 on, the split
	 * itself already did (not counted, as with in-tree KSM).
	 */
	for (long i = 7; i < n; i += 8)
		zeros += pfn_of(0, x + i * page_size) == zero_pfn &&
			 pfn_of(0, y + i * page_size) == zero_pfn;
	tap_ok(zeros == n / 8 && (knob("ksm_zero_pages") == 0 ||
				  knob("ksm_zero_pages") == 2 * n / 8),
	       "the %ld zero subpages of split THPs map the zero page (%ld), ksm_zero_pages %ld",
	       2 * n / 8, 2 * zeros, knob("ksm_zero_pages"));
	/* non-zero subpages equal in x and y: 7/8 of them less the quarter y changed */
	tap_ok(knob("pages_sharing") == 5 * n / 8 && knob("thp_split") - splits == 4,
	       "split and merged: pages_sharing %ld (want %ld), thp_split +%ld (want 4)",
	       knob("pages_sharing"), 5 * n / 8, knob("thp_split") - splits);
	tap_ok(pfn_of(0, x) == pfn_of(0, y) && same(x, shadow, len),
	       "x and y share their equal subpages and x reads back");

	x[0] ^= 1;		/* COW of a merged subpage */
	shadow[0] ^= 1;
	tap_ok(same(x, shadow, len) && y[0] == (char)(shadow[0] ^ 1) &&
	       pfn_of(0, x) != pfn_of(0, y),
	       "a write copies the merged subpage; the other sharer keeps its content");

	pid = fork();
	if (!pid) {
		int good = same(x, shadow, len);

		y[2 * page_size] ^= 1;	/* a child write copies */
		_exit(good && y[2 * page_size] != x[2 * page_size] ? 0 : 1);
	}
	waitpid(pid, &status, 0);
	tap_ok(WIFEXITED(status) && !WEXITSTATUS(status) &&
	       same(y + 2 * page_size, x + 2 * page_size, page_size),
	       "fork: the child reads the same, its write copies, the parent's page is unchanged");

	munmap(x + THP + THP / 2, THP / 2);		/* half of a huge page */
	m = mremap(y, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, thp_map(len, 0));
	if (m == MAP_FAILED)
		tap_bail("mremap: %s", strerror(errno));
	madvise(m + THP, THP / 4, MADV_DONTNEED);
	for (long i = 0; i < n; i++) {
		char *xp = x + i * page_size, *yp = m + i * page_size;

		if (i * page_size < THP + THP / 2 && !same(xp, shadow + i * page_size, page_size))
			ok = 0;
		if (i * page_size >= THP && i * page_size < THP + THP / 4) {
			static const char zero[65536];

			if (!same(yp, zero, page_size))
				ok = 0;		/* DONTNEED reads zero */
		} else if (i % 4 != 1 && i != 0 && i != 2 &&
			   !same(yp, shadow + i * page_size, page_size)) {
			ok = 0;
		}
	}
	tap_ok(ok, "after munmap of half a THP, mremap and MADV_DONTNEED every page reads right");
	munmap(x, THP + THP / 2);
	munmap(m, len);
	free(shadow);
	tap_ok(!wait_knob(SP_TREE, "kernel_pages_allocated", 0) &&
	       !wait_knob(SP_TREE, "ksm_zero_pages", 0),
	       "unmapped: no kpage and no zero page left (%ld, %ld)",
	       knob("kernel_pages_allocated"), knob("ksm_zero_pages"));
	sp_range(0, 0, NULL, 0);
	must_set(SP_TREE, "use_zero_pages", "0");
}

/* ---- 4: thp_min_mergeable ---- */

static void threshold_test(int twins, int expect_split)
{
	char *p = thp_map(THP, MADV_HUGEPAGE), *q = thp_map(THP, MADV_HUGEPAGE);
	long n = THP / page_size, huge, why_thp;
	struct samepage_stats st = { .size = sizeof(st) };
	long splits = knob("thp_split");

	for (long i = 0; i < n; i++) {
		fill_page(p + i * page_size, 100 * n + i);
		fill_page(q + i * page_size, i < twins ? 100 * n + i : 300 * n + i);
	}
	if (sp_range(1, 0, p, THP) || sp_range(1, 0, q, THP))
		tap_bail("register: %s", strerror(errno));
	huge = anon_huge_kb(0);
	must_set(SP_TREE, "run", "1");
	wait_scans(SP_TREE, 4);
	must_set(SP_TREE, "run", "0");
	if (ioctl(sp_dev(), SAMEPAGE_IOC_STATS, &st))
		tap_bail("STATS: %s", strerror(errno));
	why_thp = st.why[SAMEPAGE_WHY_THP];
	if (expect_split)
		tap_ok(knob("pages_sharing") == twins && knob("thp_split") - splits == 2 &&
		       anon_huge_kb(0) == huge - 4096,
		       "thp_min_mergeable=64, %d twins: both THPs split, pages_sharing %ld, "
		       "thp_split +%ld, AnonHugePages %ld -> %ld kB", twins,
		       knob("pages_sharing"), knob("thp_split") - splits, huge, anon_huge_kb(0));
	else
		tap_ok(knob("pages_sharing") == 0 && knob("thp_split") == splits &&
		       anon_huge_kb(0) == huge && why_thp == twins,
		       "thp_min_mergeable=64, %d twins: both stay huge (AnonHugePages %ld -> %ld kB), "
		       "why thp %ld (want %d)", twins, huge, anon_huge_kb(0), why_thp, twins);
	for (long i = 0; i < n; i++) {
		char ref[65536];

		fill_page(ref, i < twins ? 100 * n + i : 300 * n + i);
		if (memcmp(ref, q + i * page_size, page_size))
			tap_bail("content of q changed at %ld", i);
	}
	sp_range(0, 0, NULL, 0);
	munmap(p, THP);
	munmap(q, THP);
}

/* ---- 5: mTHP ---- */

static void mthp_test(void)
{
	char *p;
	long n = 2 * MB / page_size, before, after, sharing;
	char path[] = THP_DIR "hugepages-64kB/stats/anon_fault_alloc";

	if (access(THP_DIR "hugepages-64kB/enabled", W_OK)) {
		tap_skip("this kernel has no mTHP sizes (6.8+)", "mTHP 64 KiB subpages merge");
		return;
	}
	set_thp("enabled", "never");
	set_thp("hugepages-64kB/enabled", "always");
	before = access(path, R_OK) ? -1 : knob_in("", path);
	p = thp_map(2 * MB, 0);
	for (long i = 0; i < n; i++)
		fill_page(p + i * page_size, i / 2);	/* pairs of equal pages */
	after = before < 0 ? 32 : knob_in("", path);	/* no stats before 6.9 */
	before = before < 0 ? 0 : before;
	if (sp_range(1, 0, p, 2 * MB))
		tap_bail("register: %s", strerror(errno));
	sharing = converge(SP_TREE);
	{
		struct samepage_proc_stat ps = { .size = sizeof(ps) };

		ioctl(sp_dev(), SAMEPAGE_IOC_PROC_STAT, &ps);
		for (int i = 0; i < SAMEPAGE_WHY_NR; i++)
			if (ps.why[i])
				tap_diag("mTHP why[%d] = %llu", i, (unsigned long long)ps.why[i]);
	}
	tap_ok(after - before == 32 && sharing == n / 2 && knob("pages_shared") == n / 2,
	       "mTHP: 32 folios of 64 KiB faulted (%ld), pairs merge: pages_sharing %ld, "
	       "pages_shared %ld (want %ld each)", after - before, sharing,
	       knob("pages_shared"), n / 2);
	for (long i = 0; i < n; i++) {
		char ref[65536];

		fill_page(ref, i / 2);
		if (memcmp(ref, p + i * page_size, page_size))
			tap_bail("mTHP content changed at %ld", i);
	}
	sp_range(0, 0, NULL, 0);
	munmap(p, 2 * MB);
	set_thp("hugepages-64kB/enabled", "never");
	set_thp("enabled", "always");
}

/* ---- 6: writers during split and merge ---- */

#define WRITERS	2
static char *wbuf;
static volatile int wstop;
static uint32_t wval[WRITERS][4 * THP / 4096 / WRITERS];

static void *writer(void *arg)
{
	long id = (long)arg, per = 4 * THP / page_size / WRITERS;
	uint64_t r = id + 1;

	while (!wstop) {
		long i = (r = r * 6364136223846793005ULL + 1) >> 33;
		uint32_t v = (r >> 20) % 8;	/* few contents: many twins */

		i %= per;
		fill_page(wbuf + (id * per + i) * page_size, v);
		wval[id][i] = v;
		usleep(200);
	}
	return NULL;
}

static void concurrency_test(void)
{
	long per = 4 * THP / page_size / WRITERS, bad = 0;
	pthread_t t[WRITERS];

	wbuf = thp_map(4 * THP, MADV_HUGEPAGE);
	for (long id = 0; id < WRITERS; id++)
		for (long i = 0; i < per; i++)
			fill_page(wbuf + (id * per + i) * page_size, wval[id][i] = i % 8);
	if (sp_range(1, 0, wbuf, 4 * THP))
		tap_bail("register: %s", strerror(errno));
	must_set(SP_TREE, "thp_min_mergeable", "1");
	for (long id = 0; id < WRITERS; id++)
		pthread_create(&t[id], NULL, writer, (void *)id);
	must_set(SP_TREE, "run", "1");
	wait_scans(SP_TREE, 6);
	wstop = 1;
	for (long id = 0; id < WRITERS; id++)
		pthread_join(t[id], NULL);
	must_set(SP_TREE, "run", "0");
	for (long id = 0; id < WRITERS; id++)
		for (long i = 0; i < per; i++) {
			char ref[65536];

			fill_page(ref, wval[id][i]);
			bad += memcmp(ref, wbuf + (id * per + i) * page_size, page_size) != 0;
		}
	tap_ok(bad == 0 && knob("thp_split") > 0,
	       "writers during split and merge: %ld of %ld pages wrong, thp_split %ld",
	       bad, 2 * per, knob("thp_split"));
	must_set(SP_TREE, "thp_min_mergeable", "64");
	sp_range(0, 0, NULL, 0);
	munmap(wbuf, 4 * THP);
}

/* ---- 7: khugepaged ---- */

static void khugepaged_test(void)
{
	char *x = thp_map(THP, MADV_HUGEPAGE), *y = thp_map(THP, MADV_HUGEPAGE);
	long n = THP / page_size, sharing, scans, kept = 1;

	for (long i = 0; i < n; i++) {
		fill_page(x + i * page_size, 700000 + i);
		fill_page(y + i * page_size, i < n / 2 ? 700000 + i : 800000 + i);
	}
	if (sp_range(1, 0, x, THP) || sp_range(1, 0, y, THP))
		tap_bail("register: %s", strerror(errno));
	sharing = converge(SP_TREE);
	set_thp("khugepaged/scan_sleep_millisecs", "0");
	set_thp("khugepaged/alloc_sleep_millisecs", "0");
	set_thp("khugepaged/max_ptes_none", "511");
	set_thp("khugepaged/pages_to_scan", "4096");
	scans = knob_in(THP_DIR "khugepaged/", "full_scans");
	for (int i = 0; i < 300 && knob_in(THP_DIR "khugepaged/", "full_scans") < scans + 3; i++)
		usleep(100000);
	for (long i = 0; i < n / 2; i++)
		kept &= pfn_of(0, x + i * page_size) == pfn_of(0, y + i * page_size);
	tap_ok(sharing == n / 2 && kept && knob("pages_sharing") == sharing &&
	       knob_in(THP_DIR "khugepaged/", "full_scans") >= scans + 3,
	       "khugepaged (3 full scans at scan_sleep 0, max_ptes_none 511) never undid a merge "
	       "(pages_sharing %ld -> %ld)", sharing, knob("pages_sharing"));
	set_thp("khugepaged/scan_sleep_millisecs", "10000");
	set_thp("khugepaged/alloc_sleep_millisecs", "60000");
	set_thp("khugepaged/max_ptes_none", "511");
	set_thp("khugepaged/pages_to_scan", "4096");
	sp_range(0, 0, NULL, 0);
	munmap(x, THP);
	munmap(y, THP);
}

int main(void)
{
	char mode[128] = "";
	FILE *f;

	sp_test_init(22);
	if (access(THP_DIR "enabled", F_OK)) {	/* e.g. Debian's PREEMPT_RT flavour */
		for (int i = 0; i < 22; i++)
			tap_skip("this kernel has no transparent huge pages",
				 "THP check %d of 22", i + 1);
		return tap_done();
	}
	sp_reset();
	f = fopen(THP_DIR "enabled", "r");
	if (!f || !fgets(mode, sizeof(mode), f))
		tap_bail("cannot read " THP_DIR "enabled");
	fclose(f);
	tap_ok(strstr(mode, "[always]") != NULL,
	       "the VM runs the kernel's THP default, always (%.*s)", (int)strcspn(mode, "\n"), mode);
	twins_test("THP=always, 2 x 64 MiB", 64 * MB, 0);
	set_thp("enabled", "madvise");
	twins_test("THP=madvise + MADV_HUGEPAGE, 2 x 16 MiB", 16 * MB, MADV_HUGEPAGE);
	set_thp("enabled", "always");
	must_set(KSM_TREE, "pages_to_scan", "100");
	must_set(KSM_TREE, "sleep_millisecs", "20");
	split_semantics();
	threshold_test(10, 0);
	threshold_test(100, 1);
	mthp_test();
	concurrency_test();
	khugepaged_test();
	sp_restore();
	return tap_done();
}
