// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel says no: allocation failures injected into samepage's own
 * allocations (failslab and fail_page_alloc, limited by their stack-trace
 * filter to allocations with samepage's code on the stack, which includes
 * the page faults samepage makes to unmerge and the THP splits it asks
 * for), then every allocation of one REGISTER and one MERGE_RANGE call
 * failed in turn through the calling task's fail-nth.
 *
 * Runs where the kernel has fault injection (the sanitizer kernel,
 * scripts/debug-kernel.config); elsewhere the whole test is one SKIP that
 * says so.
 *
 * Workload: three processes, 256 small pages each of 32 contents (each
 * content 8 times per process), two of them also one 2 MiB huge page of
 * 16 contents (so samepage splits them to merge); the third runs in a
 * memory cgroup (kpage charging). One is registered as a whole process
 * (its forks inherit that); the others by range.
 *
 * At 1%, 10% and 50% failure probability, each path in turn: register and
 * unregister (the ranges, then ten unregister/register cycles), the
 * scanner merging (two full passes, THP splits included), MERGE_RANGE,
 * COW writes and forks of the whole-registered process (the children
 * inherit, one execs), UNREGISTER and run=2 (their unmerge faults). What
 * must hold: every ioctl and sysfs write answers 0 or ENOMEM (retried until
 * it succeeds), every byte of every process stays what it wrote, the
 * kernel log stays clean (vm-run). The number of failures injected per
 * path is printed. Then, with injection off, the counters must agree with
 * a recount: after every process rewrites its pages and three passes,
 * pages_shared 48 and pages_sharing 1744 exactly (48 contents in 1792
 * pages), kernel_pages_allocated = samepage_stable_node objects = 48,
 * rmap_items = samepage_rmap_item objects, the processes' merging_pages
 * summing to shared + sharing; run=2 and UNREGISTER then leave no kpage,
 * node or item behind.
 *
 * fail-nth: every allocation of REGISTER (of a range) and of MERGE_RANGE
 * (64 pages, 32 contents) is failed in turn, one call per allocation,
 * until a call makes fewer allocations than the step: each call answers 0
 * or ENOMEM, the process's memory is intact, nothing stays merged or
 * registered after UNREGISTER.
 *
 * Leaks: scripts/check-debug runs this test in a VM booted with kmemleak
 * on, unloads samepage and asks kmemleak (tests/vm/kmemleak.sh).
 */
#include <dirent.h>
#include <sys/syscall.h>
#include "cg.h"

#define NP		256		/* small pages per process */
#define NC		32		/* their contents */
#define THP		(2L << 20)
#define NT		512		/* subpages of the huge page (4 kB pages) */
#define NTC		16		/* their contents */
#define NKIDS		3
#define WHOLE		1		/* the process registered whole */
#define MEMCG_KID	2		/* the process in a memory cgroup */
#define CONTENTS	(NC + NTC)
#define PAGES		(NKIDS * NP + 2 * NT)
#define NTH_PAGES	64		/* MERGE_RANGE's range in the fail-nth part */
#define TRIES		5000
#define FI		"/sys/kernel/debug/"
#define KFENCE_INTERVAL	"/sys/module/kfence/parameters/sample_interval"
#define THP_ENABLED	"/sys/kernel/mm/transparent_hugepage/enabled"

static const char *const attrs[] = { "failslab", "fail_page_alloc" };

/* ---- each process's memory ---- */

struct kid {
	int k;
	char *small, *thp;
	uint64_t exp[NP + NT];		/* the seed each page holds */
	uint64_t next_seed;
};

/* each process's own copy; where[] (shared) tells the parent its addresses */
static struct kid kids[NKIDS];
static struct where { char *small, *thp; } *where;
static struct child c[NKIDS];
static int has_thp(int k) { return k != MEMCG_KID; }

static void *page_at(struct kid *d, int i)
{
	return i < NP ? d->small + (long)i * page_size : d->thp + (long)(i - NP) * page_size;
}

static int npages(struct kid *d)
{
	return NP + (has_thp(d->k) ? NT : 0);
}

static void canonical(struct kid *d)
{
	for (int i = 0; i < npages(d); i++) {
		d->exp[i] = i < NP ? (uint64_t)(i % NC) : 100 + (uint64_t)((i - NP) % NTC);
		fill_page(page_at(d, i), d->exp[i]);
	}
}

static int verify(struct kid *d)
{
	uint64_t *want = malloc(page_size);
	int bad = 0;

	for (int i = 0; i < npages(d) && want; i++) {
		fill_page(want, d->exp[i]);
		bad += memcmp(page_at(d, i), want, page_size) != 0;
	}
	free(want);
	return want && !bad;
}

/* Forks of the whole-registered process: inherited, written, one execs. */
static int forks(struct kid *d)
{
	pid_t pids[4];
	int ok = 1, status;

	for (int j = 0; j < 4; j++) {
		pids[j] = fork();
		if (pids[j] < 0)
			return 0;
		if (!pids[j]) {
			if (!verify(d))
				_exit(1);
			d->exp[j] = 5000 + j;
			fill_page(page_at(d, j), d->exp[j]);
			if (!verify(d))
				_exit(1);
			if (j == 0 && !access("/bin/true", X_OK)) {
				execl("/bin/true", "true", (char *)NULL);
				_exit(2);
			}
			_exit(0);
		}
	}
	for (int j = 0; j < 4; j++)
		if (waitpid(pids[j], &status, 0) != pids[j] || !WIFEXITED(status) ||
		    WEXITSTATUS(status))
			ok = 0;
	return ok;
}

static void kid_setup(void *arg)
{
	struct kid *d = arg;

	if (d->k == MEMCG_KID && cg_enter(cg_child("fi", 0)))
		_exit(2);
	d->small = map_pages(NP);
	if (has_thp(d->k)) {
		char *p = mmap(NULL, 2 * THP, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED)
			_exit(2);
		d->thp = (char *)(((uintptr_t)p + THP - 1) & ~(THP - 1));
		madvise(d->thp, THP, MADV_HUGEPAGE);
	}
	d->next_seed = 10000 + 10000 * (uint64_t)d->k;
	canonical(d);
	where[d->k].small = d->small;
	where[d->k].thp = d->thp;
}

static int kid_step(int cmd, void *arg)
{
	struct kid *d = arg;

	switch (cmd) {
	case 'v':
		return verify(d);
	case 'r':
		canonical(d);
		return 1;
	case 'w':	/* COW: every fifth small page gets a content of its own */
		for (int i = 0; i < NP; i += 5) {
			d->exp[i] = d->next_seed++;
			fill_page(page_at(d, i), d->exp[i]);
		}
		return 1;
	case 'f':
		return forks(d);
	}
	return 0;
}

/* ---- fault injection ---- */

static unsigned long text_lo, text_hi;

/* samepage's text: its text symbols in /proc/kallsyms, to the page end. */
static int module_text(void)
{
	char line[512], type, name[256], mod[128];
	unsigned long a;
	FILE *f = fopen("/proc/kallsyms", "r");

	if (!f)
		return -1;
	text_lo = ~0UL;
	text_hi = 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx %c %255s [%127[^]]]", &a, &type, name, mod) != 4 ||
		    strcmp(mod, "samepage") || (type != 't' && type != 'T') || !a)
			continue;
		if (a < text_lo)
			text_lo = a;
		if (a > text_hi)
			text_hi = a;
	}
	fclose(f);
	if (!text_hi)
		return -1;
	text_hi = (text_hi | 4095) + 1;
	return 0;
}

static void fi_set(const char *attr, const char *file, const char *val)
{
	char path[128];

	snprintf(path, sizeof(path), FI "%s/%s", attr, file);
	if (knob_write("", path, val))
		tap_bail("%s <- %s failed", path, val);
}

static long fi_get(const char *attr, const char *file)
{
	char path[128];

	snprintf(path, sizeof(path), FI "%s/%s", attr, file);
	return knob_in("", path);
}

#define TIMES	1000000000L

/* Fail @pct% of samepage's allocations from now on (0: none). */
static void faults(int pct)
{
	char v[32];

	for (unsigned int a = 0; a < 2; a++) {
		snprintf(v, sizeof(v), "%d", pct);
		fi_set(attrs[a], "probability", v);
		snprintf(v, sizeof(v), "%ld", TIMES);
		fi_set(attrs[a], "times", v);
	}
}

/* Failures injected since the last faults() call. */
static long injected(void)
{
	return 2 * TIMES - fi_get(attrs[0], "times") - fi_get(attrs[1], "times");
}

static void fi_setup(void)
{
	char v[32];

	for (unsigned int a = 0; a < 2; a++) {
		fi_set(attrs[a], "probability", "0");
		fi_set(attrs[a], "verbose", "0");	/* no stack dumps in the log */
		fi_set(attrs[a], "interval", "1");
		fi_set(attrs[a], "space", "0");
		fi_set(attrs[a], "task-filter", "N");	/* samepaged too */
		fi_set(attrs[a], "ignore-gfp-wait", "N");	/* GFP_KERNEL too */
		fi_set(attrs[a], "stacktrace-depth", "32");
		snprintf(v, sizeof(v), "0x%lx", text_lo);
		fi_set(attrs[a], "require-start", v);
		snprintf(v, sizeof(v), "0x%lx", text_hi);
		fi_set(attrs[a], "require-end", v);
	}
	fi_set("fail_page_alloc", "ignore-gfp-highmem", "N");	/* user pages too */
	fi_set("fail_page_alloc", "min-order", "0");
}

/* ---- the parent's side ---- */

static int reg_kid(int reg, int k)
{
	struct where *d = &where[k];
	int err;

	if (k == WHOLE)
		return sp_range(reg, c[k].pid, NULL, 0);
	err = sp_range(reg, c[k].pid, d->small, NP * page_size);
	if (!err && has_thp(k))
		err = sp_range(reg, c[k].pid, d->thp, THP);
	return err;
}

/*
 * Run @fn until it answers 0; every other answer must be -ENOMEM. Returns
 * the number of -ENOMEM answers, or -1 (and says why) on another errno or
 * if it never succeeds.
 */
#define UNTIL_OK(what, call) ({						\
	int __err, __n = 0;						\
	while ((__err = (call)) == -ENOMEM && __n < TRIES)		\
		__n++;							\
	if (__err)							\
		tap_diag("%s: %s after %d ENOMEM", what, strerror(-__err), __n); \
	__err ? -1 : __n;						\
})

static int set_run(const char *v)
{
	return set_knob("run", v);
}

static int all_verify(void)
{
	int ok = 1;

	for (int k = 0; k < NKIDS; k++)
		if (ask(&c[k], 'v') != 1) {
			tap_diag("process %d: memory differs from what it wrote", k);
			ok = 0;
		}
	return ok;
}

static long merge_range(pid_t pid, void *start, size_t len)
{
	struct samepage_merge_range m = {
		.size = sizeof(m), .pid = pid, .start = (uintptr_t)start, .len = len,
	};

	return ioctl(sp_dev(), SAMEPAGE_IOC_MERGE_RANGE, &m) ? -errno : 0;
}

static long merging_pages(pid_t pid)
{
	struct samepage_proc_stat ps = { .size = sizeof(ps), .pid = pid };

	return ioctl(sp_dev(), SAMEPAGE_IOC_PROC_STAT, &ps) ? 0 : (long)ps.merging_pages;
}

static struct samepage_stats stats(void)
{
	struct samepage_stats st = { .size = sizeof(st) };

	if (ioctl(sp_dev(), SAMEPAGE_IOC_STATS, &st))
		tap_bail("STATS: %s", strerror(errno));
	return st;
}

static long rmap_items(void)
{
	return (long)stats().rmap_items;
}

/* Slab objects of @cache, waiting out RCU-deferred frees (up to 5 s). */
static long settled_objects(const char *cache, long want)
{
	long n = -1;

	for (int i = 0; i < 50 && (n = slab_objects(cache)) != want; i++)
		usleep(100000);
	return n;
}

/* One round at @pct% failures, then the recount with injection off. */
static void round_at(int pct)
{
	int bad = 0, n, ok;
	long inj[5], split;

	sp_reset();
	/* 1. register, and ten unregister/register cycles of process 0 */
	faults(pct);
	for (int k = 0; k < NKIDS; k++)
		bad += UNTIL_OK("REGISTER", reg_kid(1, k)) < 0;
	for (int i = 0; i < 10; i++) {
		n = reg_kid(0, 0);
		bad += n && n != -ENOMEM;
		bad += UNTIL_OK("REGISTER after UNREGISTER", reg_kid(1, 0)) < 0;
	}
	inj[0] = injected();
	tap_ok(!bad, "%d%%: REGISTER/UNREGISTER answer 0 or ENOMEM (%ld failures injected)",
	       pct, inj[0]);

	/* 2. the scanner: two full passes, huge pages split on the way */
	faults(pct);
	split = stats().thp_split;
	bad = UNTIL_OK("run=1", set_run("1")) < 0;
	bad += wait_scans(SP_TREE, 2) != 0;
	bad += UNTIL_OK("run=0", set_run("0")) < 0;
	inj[1] = injected();
	/* 3. MERGE_RANGE of processes 0 and 2 */
	faults(pct);
	for (int k = 0; k < NKIDS; k += 2) {
		long r = merge_range(c[k].pid, where[k].small, NP * page_size);

		bad += r && r != -ENOMEM;
	}
	inj[2] = injected();
	split = stats().thp_split - split;
	tap_ok(!bad && all_verify(),
	       "%d%%: two passes (%ld huge pages split) and MERGE_RANGE, memory intact "
	       "(%ld + %ld failures injected)", pct, split, inj[1], inj[2]);

	/* 4. COW writes everywhere, forks of the whole-registered process */
	faults(pct);
	ok = 1;
	for (int k = 0; k < NKIDS; k++)
		ok &= ask(&c[k], 'w') == 1;
	ok &= ask(&c[WHOLE], 'f') == 1;
	inj[3] = injected();
	tap_ok(ok && all_verify(),
	       "%d%%: COW writes, 4 inherited forks (one execs) all read what they wrote (%ld failures injected)",
	       pct, inj[3]);

	/* 5. UNREGISTER of process 2, run=2 for the rest */
	faults(pct);
	bad = UNTIL_OK("UNREGISTER", reg_kid(0, MEMCG_KID)) < 0;
	bad += UNTIL_OK("run=2", set_run("2")) < 0;
	inj[4] = injected();
	faults(0);
	tap_ok(!bad && all_verify() && knob("pages_shared") == 0 &&
	       knob("pages_sharing") == 0 && knob("kernel_pages_allocated") == 0,
	       "%d%%: UNREGISTER and run=2 answer 0 or ENOMEM, then nothing is merged, "
	       "memory intact (%ld failures injected)", pct, inj[4]);

	/* 6. the recount, injection off: everything by range, rewritten */
	for (int k = 0; k < NKIDS; k++) {
		int e1 = k != MEMCG_KID ? reg_kid(0, k) : 0, e2, e3 = 0;

		ask(&c[k], 'r');
		e2 = sp_range(1, c[k].pid, where[k].small, NP * page_size);
		if (has_thp(k))
			e3 = sp_range(1, c[k].pid, where[k].thp, THP);
		if (e1 || e2 || e3)
			tap_diag("process %d: UNREGISTER %d, REGISTER %d %d", k, e1, e2, e3);
	}
	run_passes(SP_TREE, 3);
	long shared = knob("pages_shared"), sharing = knob("pages_sharing");
	long kpa = knob("kernel_pages_allocated"), nodes = settled_objects("samepage_stable_node", kpa);
	long items = rmap_items(), iobj = settled_objects("samepage_rmap_item", items);
	long merging = 0;


	for (int k = 0; k < NKIDS; k++)
		merging += merging_pages(c[k].pid);
	tap_ok(shared == CONTENTS && sharing == PAGES - CONTENTS && kpa == CONTENTS &&
	       nodes == kpa && iobj == items && items == PAGES &&
	       merging == shared + sharing && all_verify(),
	       "%d%%, then none: pages_shared %ld sharing %ld (want %d, %d), "
	       "kernel_pages_allocated %ld = stable nodes %ld, rmap_items %ld = objects %ld "
	       "(want %d), merging_pages sum %ld", pct, shared, sharing, CONTENTS,
	       PAGES - CONTENTS, kpa, nodes, items, iobj, PAGES, merging);

	/* 7. nothing left behind */
	must_set(SP_TREE, "run", "2");
	for (int k = 0; k < NKIDS; k++)
		sp_range(0, c[k].pid, NULL, 0);
	tap_ok(knob("kernel_pages_allocated") == 0 && rmap_items() == 0 &&
	       settled_objects("samepage_stable_node", 0) == 0 &&
	       settled_objects("samepage_rmap_item", 0) == 0 && sp_tracked() == 0,
	       "%d%%: after run=2 and UNREGISTER no kpage, node, item or process is left "
	       "(counters and slab objects 0)", pct);
}

/*
 * This thread's fail-nth, opened once: neither pread() nor pwrite() of it
 * allocates, so between the write and the call under test nothing but
 * that call counts.
 */
static int nth_fd = -1;

static void fail_nth(unsigned int n)
{
	char v[16];
	int len = snprintf(v, sizeof(v), "%u", n);

	if (pwrite(nth_fd, v, len, 0) != len)
		tap_bail("fail-nth <- %s: %s", v, strerror(errno));
}

/* fail-nth left: 0 if the step's failure was injected. */
static long nth_left(void)
{
	char v[32] = "";
	ssize_t len = pread(nth_fd, v, sizeof(v) - 1, 0);

	fail_nth(0);
	if (len <= 0)
		tap_bail("fail-nth: %s", strerror(errno));
	return atol(v);
}

/*
 * fail-nth alone: the attributes must be active (probability > 0: the
 * kernel's static keys skip them otherwise) but never fire by chance
 * (times 0).
 */
static void nth_only(void)
{
	for (unsigned int a = 0; a < 2; a++) {
		fi_set(attrs[a], "times", "0");
		fi_set(attrs[a], "probability", "100");
	}
}

static void nth_register(void)
{
	struct where *d = &where[0];
	int bad = 0, leftover = 0;
	unsigned int n;

	for (n = 1; n < 2000; n++) {
		int err;
		long left;

		fail_nth(n);
		err = sp_range(1, c[0].pid, d->small, NP * page_size);
		left = nth_left();
		if (err && err != -ENOMEM) {
			tap_diag("REGISTER with allocation %u failed: %s", n, strerror(-err));
			bad++;
		}
		if (!err)
			sp_range(0, c[0].pid, NULL, 0);
		leftover += sp_tracked() != 0;
		if (left)
			break;
	}
	tap_ok(!bad && !leftover && n > 1 && n < 2000 &&
	       settled_objects("samepage_mm_slot", 0) == 0,
	       "fail-nth: each of REGISTER's %u allocations failed in turn: 0 or ENOMEM, "
	       "nothing left registered", n - 1);
}

static void nth_merge_range(void)
{
	struct where *d = &where[0];
	int bad = 0, lost = 0, leftover = 0;
	unsigned int n;

	for (n = 1; n < 4000; n++) {
		long err, left;
		int uerr;

		ask(&c[0], 'r');
		fail_nth(n);
		err = merge_range(c[0].pid, d->small, NTH_PAGES * page_size);
		left = nth_left();
		if (err && err != -ENOMEM) {
			tap_diag("MERGE_RANGE with allocation %u failed: %s", n, strerror(-err));
			bad++;
		}
		lost += ask(&c[0], 'v') != 1;
		/* (not registered if the call failed before it registered) */
		do
			uerr = sp_range(0, c[0].pid, NULL, 0);
		while (uerr == -ENOMEM);
		bad += uerr && !(err && uerr == -ENOENT);
		leftover += knob("kernel_pages_allocated") != 0 || knob("pages_sharing") != 0;
		if (left)
			break;
	}
	tap_ok(!bad && !lost && !leftover && n > 1 && n < 4000,
	       "fail-nth: each of MERGE_RANGE's %u allocations (%d pages) failed in turn: "
	       "0 or ENOMEM, memory intact, nothing merged after UNREGISTER (%d bad, %d lost, "
	       "%d left)", n - 1, NTH_PAGES, bad, lost, leftover);
}

/*
 * The soak's switch (tests/vm/soak.sh), the same filter as the test's:
 *   fault_inject --arm PCT   PCT% of samepage's allocations fail from now on
 *   fault_inject --injected  print how many failed since the last --arm
 *   fault_inject --pause     none fail for now (the count stays)
 * Exit status 2 where the kernel has no fault injection with the filter.
 */
static int switch_mode(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--arm")) {
		if (module_text())
			tap_bail("samepage's text is not in /proc/kallsyms");
		fi_setup();
		faults(atoi(argv[2]));
		printf("samepage text 0x%lx-0x%lx, %d%% of its allocations fail\n",
		       text_lo, text_hi, atoi(argv[2]));
	} else if (argc == 2 && !strcmp(argv[1], "--injected")) {
		printf("%ld\n", injected());
	} else if (argc == 2 && !strcmp(argv[1], "--pause")) {
		for (unsigned int a = 0; a < 2; a++)
			fi_set(attrs[a], "probability", "0");
	} else {
		fprintf(stderr, "usage: fault_inject [--arm PCT | --injected | --pause]\n");
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	char thp_was[64] = "", kfence_was[32] = "", path[96];
	FILE *f;

	page_size = sysconf(_SC_PAGESIZE);
	if (access(FI "failslab", F_OK))
		mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
	if (access(FI "failslab/require-start", F_OK) ||
	    access(FI "fail_page_alloc/require-start", F_OK)) {
		if (argc > 1) {
			fprintf(stderr, "fault_inject: this kernel has no fault injection "
				"with a stack-trace filter\n");
			return 2;
		}
		printf("TAP version 13\n1..0 # SKIP this kernel has no failslab/fail_page_alloc "
		       "with a stack-trace filter (the sanitizer kernel 6.12-debug has)\n");
		return 0;
	}
	if (argc > 1)
		return switch_mode(argc, argv);
	sp_test_init(3 * 6 + 2);
	if (module_text())
		tap_bail("samepage's text is not in /proc/kallsyms");
	tap_diag("samepage text 0x%lx-0x%lx", text_lo, text_hi);
	fi_setup();
	snprintf(path, sizeof(path), "/proc/self/task/%ld/fail-nth", (long)syscall(SYS_gettid));
	nth_fd = open(path, O_RDWR);
	if (nth_fd < 0)
		tap_bail("%s: %s", path, strerror(errno));

	/*
	 * KFENCE objects come from its own pool, not from slab pages: while it
	 * samples, a cache's object count is short by the objects it took.
	 * Objects allocated from now on come from the slabs.
	 */
	f = fopen(KFENCE_INTERVAL, "r");
	if (f && fgets(kfence_was, sizeof(kfence_was), f))
		set_knob_in("", KFENCE_INTERVAL, "0");
	if (f)
		fclose(f);
	cg_init("samepage-fi");
	cg_child("fi", 1);
	/* "always [madvise] never": the bracketed one */
	f = fopen(THP_ENABLED, "r");
	if (f && fgets(path, sizeof(path), f) && strchr(path, '[') && strchr(path, ']')) {
		*strchr(path, ']') = 0;
		snprintf(thp_was, sizeof(thp_was), "%s", strchr(path, '[') + 1);
	}
	if (f)
		fclose(f);
	set_knob_in("", THP_ENABLED, "madvise");
	where = mmap(NULL, sizeof(*where) * NKIDS, PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (where == MAP_FAILED)
		tap_bail("mmap: %s", strerror(errno));
	for (int k = 0; k < NKIDS; k++) {
		kids[k].k = k;
		c[k] = spawn(kid_setup, kid_step, &kids[k]);
	}
	/* no collapse back to huge pages while the test counts small ones */
	set_knob_in("", THP_ENABLED, "never");
	set_knob("max_page_sharing", "256");

	round_at(1);
	round_at(10);
	round_at(50);

	sp_reset();
	nth_only();
	nth_register();
	nth_merge_range();

	faults(0);
	for (int k = 0; k < NKIDS; k++) {
		sp_range(0, c[k].pid, NULL, 0);
		reap_child(&c[k]);
	}
	cg_rmdir(cg_child("fi", 0));
	cg_rmdir(cg_parent);
	if (thp_was[0])
		set_knob_in("", THP_ENABLED, thp_was);
	if (kfence_was[0])
		set_knob_in("", KFENCE_INTERVAL, strtok(kfence_was, "\n"));
	sp_restore();
	return tap_done();
}
