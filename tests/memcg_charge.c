// SPDX-License-Identifier: GPL-2.0
/*
 * kpages are charged to memory cgroups. Every process under
 * test runs as uid 1000 in its own cgroup v2 memory cgroup (the test
 * mounts cgroup2 if the VM did not).
 *
 *  1. The limit holds as under in-tree KSM: a process in a 64 MiB
 *     memory.max cgroup allocates 16 MiB chunks of page pairs (two equal
 *     pages, every pair different), MADV_MERGEABLE, and waits for each
 *     chunk to merge before the next, up to 512 MiB. Under in-tree KSM and
 *     then under samepage (follow_madvise), in the same VM, both scanners at
 *     pages_to_scan=5000, sleep_millisecs=0, it must be OOM-killed in its
 *     cgroup, and samepage must stop it no later than in-tree KSM: the
 *     memory it held (touched) under samepage is at most in-tree's plus one
 *     chunk. One chunk is the granularity of the measure: the kill comes
 *     while some chunk is being filled, and whether the chunk before it had
 *     merged by then depends on where each scanner's pass stood. It must
 *     also hold more than its limit (samepage merges under the limit). Once
 *     it is dead, no kpage is left, the cgroup's memory.current falls to
 *     (almost) 0 and it can be removed.
 *  2. The charge follows the kpage: A (cgroup a) and B (cgroup b) hold the
 *     same N different pages. MERGE_RANGE of A, then of B: B's pages are
 *     the ones the kpages first replace, so the N kpages are charged to b:
 *     a's memory.current falls by N pages, b's stays, b's memory.stat anon
 *     counts the kpages. B exits while A still maps them: the charge stays
 *     with b, rmdir b works, the parent still counts it. A unmerges: the
 *     kpages are freed and every byte of b's charge is gone from the
 *     parent (parent - a within the tolerance), a grew by N pages.
 *  3. A memcg at its limit gets no merge and no OOM kill: C's cgroup limit
 *     is set to its exact usage (per-CPU charge stocks drained first); two
 *     passes merge nothing, the last pass says memcg_limit for one page of
 *     each of its 256 pairs and unique for the other, memory.events shows
 *     "max" events but no oom and no oom_kill. With the limit lifted, the
 *     pairs merge and memory.current falls by 256 pages.
 * Tolerance of the memory.current comparisons: 1 MiB, four times what the
 * per-CPU charge stocks of this 2-CPU VM can hold (64 pages each); the
 * moves measured are 8 MiB.
 */
#include <sys/prctl.h>
#include "cg.h"

#define CHUNK		(16L << 20)
#define CAP		(512L << 20)
#define LIMIT		(64L << 20)
#define N		2048		/* pages of A and B in part 2 */
#define PAIRS3		256		/* pairs of C in part 3 */
#define TOL		(1L << 20)
#define UID		1000

struct shared {
	volatile long touched;		/* bytes the limited process filled */
	volatile long filled;		/* chunks filled */
	volatile long merged;		/* chunks merged, as the parent sees it */
	volatile char *bufs[3];		/* parts 2 and 3: children's buffers */
};

static struct shared *sh;

static void drop_privileges(void)
{
	if (setgid(UID) || setuid(UID))
		_exit(3);
}

static long mib(long bytes)
{
	return bytes >> 20;
}

/* The limited process of part 1. */
static void hog(const char *cg)
{
	long pairs = CHUNK / page_size / 2;

	if (cg_enter(cg))
		_exit(2);
	drop_privileges();
	for (long k = 0; k * CHUNK < CAP; k++) {
		char *p = mmap(NULL, CHUNK, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED)
			_exit(4);
		madvise(p, CHUNK, MADV_NOHUGEPAGE);
		for (long i = 0; i < pairs; i++) {
			char *a = p + 2 * i * page_size;

			fill_page(a, (k << 20) + i);
			sh->touched += page_size;
			memcpy(a + page_size, a, page_size);
			sh->touched += page_size;
		}
		if (madvise(p, CHUNK, MADV_MERGEABLE))
			_exit(5);
		sh->filled = k + 1;
		for (int t = 0; t < 1200 && sh->merged < k + 1; t++)
			usleep(100000);		/* 120 s, then go on anyway */
	}
	_exit(0);
}

struct limit_run {
	long held;		/* bytes touched when it stopped */
	int killed;		/* died of SIGKILL */
	long oom_kills;		/* memory.events oom_kill of its cgroup */
	long peak_kpages;
};

static struct limit_run limit_run(const char *tree)
{
	const char *cg = cg_child("lim", 1);
	long pairs = CHUNK / page_size / 2;
	struct limit_run r = { 0 };
	long base;
	int status;
	pid_t pid;

	cg_must_write(cg, "memory.max", "64M");
	cg_write(cg, "memory.swap.max", "0");	/* absent without swap accounting */
	memset((void *)sh, 0, sizeof(*sh));
	base = knob_in(tree, "pages_sharing");
	must_set(tree, "pages_to_scan", "5000");
	must_set(tree, "sleep_millisecs", "0");
	must_set(tree, "run", "1");
	pid = fork();
	if (pid < 0)
		tap_bail("fork: %s", strerror(errno));
	if (!pid)
		hog(cg);
	while (waitpid(pid, &status, WNOHANG) == 0) {
		long merged = (knob_in(tree, "pages_sharing") - base) / pairs;

		if (merged > sh->merged)
			sh->merged = merged;
		if (!strcmp(tree, SP_TREE) && knob("kernel_pages_allocated") > r.peak_kpages)
			r.peak_kpages = knob("kernel_pages_allocated");
		usleep(50000);
	}
	r.held = sh->touched;
	r.killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
	r.oom_kills = cg_read(cg, "memory.events", "oom_kill");
	tap_diag("%s: held %ld MiB (%ld chunks filled, %ld merged), %s, oom_kill %ld, peak kpages %ld",
		 tree, mib(r.held), sh->filled, sh->merged,
		 r.killed ? "killed" : "not killed", r.oom_kills, r.peak_kpages);
	must_set(tree, "run", "2");
	must_set(tree, "run", "0");
	return r;
}

static void limit_test(void)
{
	struct limit_run k, s;
	const char *cg;
	long current;
	int gone;

	must_set(KSM_TREE, "run", "2");
	must_set(KSM_TREE, "run", "0");
	sp_reset();
	must_set(SP_TREE, "follow_madvise", "1");
	k = limit_run(KSM_TREE);
	tap_ok(k.killed && k.oom_kills >= 1 && k.held < CAP,
	       "in-tree KSM: OOM-killed in its 64M cgroup after holding %ld MiB",
	       mib(k.held));
	cg_rmdir(cg_child("lim", 0));

	sp_reset();
	s = limit_run(SP_TREE);
	tap_ok(s.killed && s.oom_kills >= 1 && s.held <= k.held + CHUNK &&
	       s.held > LIMIT,
	       "samepage: OOM-killed after holding %ld MiB (in-tree %ld MiB + 16 MiB at most, over the 64 MiB limit)",
	       mib(s.held), mib(k.held));
	cg = cg_child("lim", 0);
	gone = wait_knob(SP_TREE, "kernel_pages_allocated", 0) == 0;
	/* read before the rmdir: tap_ok()'s arguments have no order */
	current = cg_current(cg);
	tap_ok(gone && current <= TOL && cg_rmdir(cg) == 0,
	       "once it is dead: no kpage left (%ld), memory.current %ld KiB, rmdir works",
	       knob("kernel_pages_allocated"), current >> 10);
	sp_reset();
}

static int merge_range(pid_t pid, volatile char *start, long len, __u64 *merged)
{
	struct samepage_merge_range m = {
		.size = sizeof(m), .pid = pid, .start = (uintptr_t)start, .len = len,
	};
	int rc = ioctl(sp_dev(), SAMEPAGE_IOC_MERGE_RANGE, &m) ? -errno : 0;

	*merged = m.merged;
	return rc;
}

static int proc_stat(pid_t pid, struct samepage_proc_stat *ps)
{
	memset(ps, 0, sizeof(*ps));
	ps->size = sizeof(*ps);
	ps->pid = pid;
	return ioctl(sp_dev(), SAMEPAGE_IOC_PROC_STAT, ps) ? -errno : 0;
}

struct holder {
	int idx;		/* sh->bufs[idx] */
	const char *cg;
	long npages;
	int pairs;		/* pages come in equal pairs */
};

static void holder_setup(void *arg)
{
	struct holder *h = arg;
	char *p;

	if (cg_enter(h->cg))
		_exit(2);
	drop_privileges();
	p = map_pages(h->npages);
	for (long i = 0; i < h->npages; i++)
		fill_page(p + i * page_size, h->pairs ? 5000 + i / 2 : 9000 + i);
	sh->bufs[h->idx] = p;
}

static int holder_step(int cmd, void *arg)
{
	(void)cmd;
	(void)arg;
	return 1;
}

static long near(long a, long b)
{
	return labs(a - b) <= TOL;
}

static void follow_test(void)
{
	struct holder ha = { 0, cg_child("a", 1), N, 0 };
	struct holder hb = { 1, cg_child("b", 1), N, 0 };
	long a0, b0, p0, a1, b1, p1, b2, p2, a3, p3, anon;
	struct child a, b;
	__u64 ma = 1, mb = 0;
	int ok;

	sp_reset();
	a = spawn(holder_setup, holder_step, &ha);
	b = spawn(holder_setup, holder_step, &hb);
	a0 = cg_current(ha.cg);
	b0 = cg_current(hb.cg);
	p0 = cg_current(cg_parent);
	ok = merge_range(a.pid, sh->bufs[0], N * page_size, &ma) == 0 &&
	     merge_range(b.pid, sh->bufs[1], N * page_size, &mb) == 0;
	a1 = cg_current(ha.cg);
	b1 = cg_current(hb.cg);
	p1 = cg_current(cg_parent);
	anon = cg_read(hb.cg, "memory.stat", "anon");
	tap_ok(ok && ma == 0 && mb == N && knob("kernel_pages_allocated") == N &&
	       near(a0 - a1, N * page_size) && near(b1, b0) &&
	       near(p0 - p1, N * page_size),
	       "MERGE_RANGE A then B: %llu+%llu merged, %ld kpages; a %+ld KiB, b %+ld KiB, parent %+ld KiB",
	       (unsigned long long)ma, (unsigned long long)mb, knob("kernel_pages_allocated"),
	       (a1 - a0) >> 10, (b1 - b0) >> 10, (p1 - p0) >> 10);
	tap_ok(anon >= N * page_size && anon <= N * page_size + TOL,
	       "b's memory.stat anon counts the kpages: %ld KiB (kpages %ld KiB)",
	       anon >> 10, N * page_size >> 10);

	reap_child(&b);
	b2 = cg_current(hb.cg);
	tap_ok(b2 >= N * page_size - TOL && b2 <= b1 + TOL && cg_rmdir(hb.cg) == 0,
	       "B exited, A maps the kpages: b still charged %ld KiB, rmdir b works",
	       b2 >> 10);
	p2 = cg_current(cg_parent);
	tap_ok(p2 - cg_current(ha.cg) >= N * page_size - TOL,
	       "the parent still counts the offline b's kpages: parent - a = %ld KiB",
	       (p2 - cg_current(ha.cg)) >> 10);

	ok = sp_range(0, a.pid, (void *)sh->bufs[0], N * page_size) == 0;
	ok &= wait_knob(SP_TREE, "kernel_pages_allocated", 0) == 0;
	a3 = cg_current(ha.cg);
	p3 = cg_current(cg_parent);
	tap_ok(ok && near(a3 - a1, N * page_size) && p3 - a3 <= TOL,
	       "A unmerged, kpages freed: a %+ld KiB, parent - a = %ld KiB (no charge left behind)",
	       (a3 - a1) >> 10, (p3 - a3) >> 10);
	reap_child(&a);
	tap_ok(cg_rmdir(ha.cg) == 0, "rmdir a works");
}

/*
 * memory.current of @cg with no precharged pages in per-CPU stocks: a
 * memory.high below usage drains them (and never OOM-kills), but the drain
 * of other CPUs' stocks runs asynchronously (7.x: and is skipped while
 * another drain runs), so repeat until the value holds still.
 */
static long drained_current(const char *cg)
{
	long prev = -1, cur = cg_current(cg);
	char val[32];

	for (int i = 0; i < 20 && cur != prev; i++) {
		snprintf(val, sizeof(val), "%ld", cur - 64 * page_size);
		cg_must_write(cg, "memory.high", val);
		cg_must_write(cg, "memory.high", "max");
		usleep(200000);
		prev = cur;
		cur = cg_current(cg);
	}
	return cur;
}

static void limit_reason_test(void)
{
	struct holder hc = { 2, cg_child("c", 1), 2 * PAIRS3, 1 };
	struct samepage_proc_stat ps;
	long c0, c1, high, max;
	struct child c;
	char val[32];
	int ok;

	sp_reset();
	c = spawn(holder_setup, holder_step, &hc);
	ok = sp_range(1, c.pid, (void *)sh->bufs[2], 2 * PAIRS3 * page_size) == 0;
	c0 = drained_current(hc.cg);
	snprintf(val, sizeof(val), "%ld", c0);
	cg_must_write(hc.cg, "memory.max", val);
	run_passes(SP_TREE, 2);
	ok &= proc_stat(c.pid, &ps) == 0;
	max = cg_read(hc.cg, "memory.events", "max");
	high = cg_read(hc.cg, "memory.events", "oom") + cg_read(hc.cg, "memory.events", "oom_kill");
	tap_ok(ok && knob("kernel_pages_allocated") == 0 &&
	       ps.why[SAMEPAGE_WHY_MEMCG_LIMIT] == PAIRS3 && ps.why[SAMEPAGE_WHY_UNIQUE] == PAIRS3 &&
	       max > 0 && high == 0,
	       "at its limit (%ld KiB): %ld kpages, last pass memcg_limit %llu, unique %llu (want %d each), memory.events max %ld, oom+oom_kill %ld",
	       c0 >> 10, knob("kernel_pages_allocated"),
	       (unsigned long long)ps.why[SAMEPAGE_WHY_MEMCG_LIMIT],
	       (unsigned long long)ps.why[SAMEPAGE_WHY_UNIQUE], PAIRS3, max, high);

	cg_must_write(hc.cg, "memory.max", "max");
	run_passes(SP_TREE, 2);
	c1 = cg_current(hc.cg);
	tap_ok(knob("kernel_pages_allocated") == PAIRS3 && knob("pages_sharing") == PAIRS3 &&
	       c0 - c1 >= PAIRS3 * page_size - TOL,
	       "limit lifted: %ld kpages, pages_sharing %ld, memory.current %+ld KiB",
	       knob("kernel_pages_allocated"), knob("pages_sharing"), (c1 - c0) >> 10);
	reap_child(&c);
	tap_ok(wait_knob(SP_TREE, "kernel_pages_allocated", 0) == 0 && cg_rmdir(hc.cg) == 0,
	       "C exited: no kpage left, rmdir c works");
}

int main(void)
{
	sp_test_init(13);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		  -1, 0);
	if (sh == MAP_FAILED)
		tap_bail("mmap: %s", strerror(errno));
	cg_init("sp_memcg");
	limit_test();
	follow_test();
	limit_reason_test();
	sp_close_dev();
	tap_ok(cg_rmdir(cg_parent) == 0, "rmdir of the parent cgroup works");
	sp_restore();
	return tap_done();
}
