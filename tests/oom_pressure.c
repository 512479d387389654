// SPDX-License-Identifier: GPL-2.0
/*
 * The OOM killer fires while samepage is merging (memory pressure).
 * Three worker processes and a victim register pages of a known duplicate
 * layout (every worker and the victim: 256 pages holding 128
 * distinct contents twice, so each content has 8 copies); max_kernel_pages
 * caps the kpages at 64, fewer than the 128 contents, so the cap binds the
 * whole time. samepaged scans at full speed while the workers keep
 * rewriting their pages with the same bytes (copy-on-write breaks, then
 * re-merges: merging is under way), and the victim (oom_score_adj 1000)
 * touches anonymous memory until the global OOM killer kills it; the test
 * and the workers run with oom_score_adj -1000. Asserts:
 *  - before the pressure, the cap is reached and every copy of each of the
 *    64 merged contents maps its kpage (pages_shared 64, pages_sharing 448,
 *    the victim has 128 merging pages);
 *  - the victim dies of SIGKILL, its memory is free by the time it is
 *    reaped, and the kernel log says the OOM killer killed exactly that pid;
 *  - the OOM killer killed once (/proc/vmstat oom_kill + 1): two decoys
 *    with oom_score_adj 1000 and almost no memory, which a second kill would
 *    take before the VM's shells, are alive;
 *  - kernel_pages_allocated never exceeds max_kernel_pages at any sample
 *    taken while the victim runs, and samepaged completed passes meanwhile;
 *  - the workers are alive, their rewrites broke merged pages (cow_breaks
 *    grew), and every one of their pages has its content;
 *  - once settled: 64 kpages, pages_shared 64, pages_sharing 320 (6 copies
 *    per merged content), 3 processes, 768 rmap_items that are all shared,
 *    sharing or unshared; the last pass found 384 pages merged, and of the
 *    64 unmerged contents one copy each unique (unstable tree) and the other
 *    5 refused by max_kernel_pages;
 *  - run=2 unmerges everything with the content intact, and once the
 *    workers exit, no process, rmap_item, kpage or zero page is left.
 * The hog is bounded: it stops (and the test fails) at MemTotal.
 */
#include <sys/klog.h>
#include <sys/prctl.h>
#include "sp.h"

#define WORKERS		3
#define NPAGES		256
#define CONTENTS	128	/* each content twice per process */
#define BOUND		64	/* max_kernel_pages, < CONTENTS */
#define COPIES_W	(WORKERS * NPAGES / CONTENTS)		/* 6 */
#define COPIES_ALL	((WORKERS + 1) * NPAGES / CONTENTS)	/* 8 */
#define CHUNK		(16L << 20)
#define DECOYS		2	/* oom_score_adj 1000, tiny: any second OOM kill takes one */

struct shared {
	volatile int stop_churn;
	volatile long hog_bytes;	/* touched by the victim so far */
	long rewrites[WORKERS];
	long verified[WORKERS];
	long mismatches[WORKERS];
};

static struct shared *sh;
static char *pages;	/* in each child: its NPAGES registered pages */

static void set_oom_adj(const char *val)
{
	int fd = open("/proc/self/oom_score_adj", O_WRONLY);

	if (fd < 0 || write(fd, val, strlen(val)) != (ssize_t)strlen(val))
		tap_bail("oom_score_adj <- %s: %s", val, strerror(errno));
	close(fd);
}

static long vmstat(const char *key)
{
	char name[64];
	long v, found = -1;
	FILE *f = fopen("/proc/vmstat", "r");

	if (!f)
		tap_bail("/proc/vmstat: %s", strerror(errno));
	while (fscanf(f, "%63s %ld", name, &v) == 2)
		if (!strcmp(name, key))
			found = v;
	fclose(f);
	if (found < 0)
		tap_bail("no %s in /proc/vmstat", key);
	return found;
}

static struct samepage_stats stats(void)
{
	struct samepage_stats st = { .size = sizeof(st) };

	if (ioctl(sp_dev(), SAMEPAGE_IOC_STATS, &st))
		tap_bail("STATS: %s", strerror(errno));
	return st;
}

static void setup_pages(void *arg)
{
	(void)arg;
	sp_close_dev();	/* the parent's descriptor: open our own */
	pages = map_pages(NPAGES);
	for (int i = 0; i < NPAGES; i++)
		fill_page(pages + i * page_size, i % CONTENTS);
	if (sp_range(1, 0, pages, NPAGES * page_size))
		_exit(1);
}

static long verify_pages(long *verified)
{
	static char ref[65536];
	long bad = 0;

	for (int i = 0; i < NPAGES; i++) {
		fill_page(ref, i % CONTENTS);
		bad += memcmp(ref, pages + i * page_size, page_size) != 0;
		(*verified)++;
	}
	return bad;
}

/* Worker steps: 'c' rewrites its pages (same bytes) until stop_churn; 'v' verifies. */
static int worker_step(int cmd, void *arg)
{
	int idx = (int)(intptr_t)arg;
	static char ref[65536];

	if (cmd == 'c') {
		for (int i = idx; !sh->stop_churn; i = (i + 7) % NPAGES) {
			fill_page(ref, i % CONTENTS);
			memcpy(pages + i * page_size, ref, page_size);
			if (++sh->rewrites[idx] % 8 == 0)
				usleep(5000);	/* leave the CPUs to the victim */
		}
		return 1;
	}
	if (cmd == 'v') {
		sh->mismatches[idx] += verify_pages(&sh->verified[idx]);
		return 1;
	}
	return 0;
}

/* Victim step 'h': touch memory up to MemTotal, which the OOM killer must stop. */
static int victim_step(int cmd, void *arg)
{
	long limit = meminfo_kb("MemTotal") * 1024;

	(void)arg;
	if (cmd != 'h')
		return 0;
	while (sh->hog_bytes < limit) {
		char *p = mmap(NULL, CHUNK, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

		if (p == MAP_FAILED)
			return 2;
		madvise(p, CHUNK, MADV_NOHUGEPAGE);
		for (long off = 0; off < CHUNK; off += page_size) {
			p[off] = (char)(off / page_size) | 1;
			sh->hog_bytes += page_size;
		}
	}
	return 3;	/* reached MemTotal alive: the OOM killer never came */
}

static pid_t decoy(void)
{
	pid_t pid = fork();

	if (pid < 0)
		tap_bail("fork: %s", strerror(errno));
	if (!pid) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);	/* never outlives the test */
		set_oom_adj("1000");
		prctl(PR_SET_NAME, "oom_decoy");
		for (;;)
			pause();
	}
	return pid;
}

static void victim_setup(void *arg)
{
	set_oom_adj("1000");
	prctl(PR_SET_NAME, "oom_victim");
	setup_pages(arg);
}

/* Does the kernel log say the OOM killer killed @pid? */
static int log_names_victim(pid_t pid)
{
	int len = klogctl(10, NULL, 0);	/* SYSLOG_ACTION_SIZE_BUFFER */
	char *buf, needle[64];
	int n, found;

	if (len <= 0)
		tap_bail("klogctl size: %s", strerror(errno));
	buf = malloc(len + 1);
	n = buf ? klogctl(3, buf, len) : -1;	/* SYSLOG_ACTION_READ_ALL */
	if (n < 0)
		tap_bail("klogctl read: %s", strerror(errno));
	buf[n] = 0;
	snprintf(needle, sizeof(needle), "Killed process %d (oom_victim)", pid);
	found = strstr(buf, needle) != NULL;
	free(buf);
	return found;
}

int main(void)
{
	struct child w[WORKERS], victim;
	pid_t decoys[DECOYS];
	long avail_at_reap = -1, decoys_alive = 0;
	struct samepage_stats st;
	struct samepage_proc_stat ps = { .size = sizeof(ps) };
	long oom0, scans0, cow0, samples = 0, peak = 0, over = 0, rewrites = 0;
	long verified = 0, mismatches = 0, alive = 0;
	int status = 0, reaped = 0, ok;
	time_t t0 = time(NULL), t1;
	long last;	/* hog_bytes at the last sample */
	char b;

	sp_test_init(14);
	set_oom_adj("-1000");	/* inherited by the workers */
	for (int i = 0; i < DECOYS; i++)
		decoys[i] = decoy();
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		tap_bail("mmap: %s", strerror(errno));
	tap_diag("MemTotal %ld kB, MemAvailable %ld kB", meminfo_kb("MemTotal"),
		 meminfo_kb("MemAvailable"));
	sp_reset();
	must_set(SP_TREE, "use_zero_pages", "0");
	must_set(SP_TREE, "max_page_sharing", "256");
	must_set(SP_TREE, "max_kernel_pages", "64");
	for (int i = 0; i < WORKERS; i++)
		w[i] = spawn(setup_pages, worker_step, (void *)(intptr_t)i);
	victim = spawn(victim_setup, victim_step, NULL);

	/* 1. merging, capped, before any pressure */
	run_passes(SP_TREE, 3);
	st = stats();
	ps.pid = victim.pid;
	if (ioctl(sp_dev(), SAMEPAGE_IOC_PROC_STAT, &ps))
		tap_bail("PROC_STAT of the victim: %s", strerror(errno));
	tap_ok(st.kernel_pages_allocated == BOUND && st.pages_shared == BOUND &&
	       st.pages_sharing == BOUND * (COPIES_ALL - 1) && ps.merging_pages == 2 * BOUND,
	       "before pressure: kernel_pages_allocated %llu, pages_shared %llu, pages_sharing %llu (want %d, %d, %d), victim merging %llu (want %d)",
	       st.kernel_pages_allocated, st.pages_shared, st.pages_sharing,
	       BOUND, BOUND, BOUND * (COPIES_ALL - 1), ps.merging_pages, 2 * BOUND);

	/* 2. pressure: workers churn, samepaged scans, the victim hogs */
	oom0 = vmstat("oom_kill");
	t1 = time(NULL);
	must_set(SP_TREE, "run", "1");
	scans0 = knob("full_scans");
	cow0 = knob("cow_breaks");
	for (int i = 0; i < WORKERS; i++)
		if (write(w[i].to, "c", 1) != 1)
			tap_bail("worker %d: %s", i, strerror(errno));
	if (write(victim.to, "h", 1) != 1)
		tap_bail("victim: %s", strerror(errno));
	/*
	 * A sample every 2 ms until the victim is reaped. How fast it
	 * reaches the OOM kill depends on the machine (TCG beside other VMs:
	 * 1.8 GiB took over 120 s once), so the wait ends only when it stops
	 * making progress for 60 s, or after 900 s.
	 */
	last = -1;
	for (time_t end = time(NULL) + 900, stall = time(NULL) + 60;
	     time(NULL) < end && time(NULL) < stall;) {
		long kpa = knob("kernel_pages_allocated");

		if (sh->hog_bytes != last) {
			last = sh->hog_bytes;
			stall = time(NULL) + 60;
		}

		samples++;
		peak = kpa > peak ? kpa : peak;
		over += kpa > BOUND;
		if (waitpid(victim.pid, &status, WNOHANG) == victim.pid) {
			avail_at_reap = meminfo_kb("MemAvailable");	/* first thing */
			reaped = 1;
			break;
		}
		usleep(2000);
	}
	if (!reaped) {
		kill(victim.pid, SIGKILL);
		waitpid(victim.pid, &status, 0);
	}
	close(victim.to);
	close(victim.from);
	tap_diag("victim %d touched %ld MiB in %ld s; %ld samples, kernel_pages_allocated peak %ld, bound %d",
		 victim.pid, sh->hog_bytes >> 20, (long)(time(NULL) - t1), samples, peak, BOUND);
	tap_ok(reaped && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
	       "the victim was killed by SIGKILL (%s %d) after touching %ld MiB",
	       !reaped ? "not reaped; no progress for 60 s or 900 s in all:" : WIFSIGNALED(status) ? "signal" : "exit",
	       WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status),
	       sh->hog_bytes >> 20);
	/*
	 * The victim's address space goes in its own exit (exit_mmap), before
	 * its parent can reap it; if something still held the mm then, its
	 * memory outlives the task, and the next allocation kills another.
	 */
	tap_ok(avail_at_reap > meminfo_kb("MemTotal") / 2,
	       "the victim's memory was free when it was reaped: MemAvailable %ld of %ld kB",
	       avail_at_reap, meminfo_kb("MemTotal"));
	tap_ok(log_names_victim(victim.pid),
	       "the kernel log says the OOM killer killed pid %d (oom_victim)", victim.pid);
	tap_ok(over == 0 && samples > 0 && peak == BOUND,
	       "kernel_pages_allocated <= max_kernel_pages=%d at all %ld samples (peak %ld, %ld over)",
	       BOUND, samples, peak, over);
	tap_ok(knob("full_scans") > scans0, "samepaged kept scanning under pressure (%ld passes)",
	       knob("full_scans") - scans0);

	/* 3. the workers survived with their content */
	sh->stop_churn = 1;
	for (int i = 0; i < WORKERS; i++) {
		alive += waitpid(w[i].pid, NULL, WNOHANG) == 0 &&
			 read(w[i].from, &b, 1) == 1 && b == 1;
		rewrites += sh->rewrites[i];
	}
	tap_ok(alive == WORKERS && rewrites > 0 && knob("cow_breaks") > cow0,
	       "all %d workers alive after the OOM kill (%ld), having rewritten %ld pages (%ld merged pages broken)",
	       WORKERS, alive, rewrites, knob("cow_breaks") - cow0);
	for (int i = 0; i < WORKERS; i++)
		ask(&w[i], 'v');
	for (int i = 0; i < WORKERS; i++) {
		verified += sh->verified[i];
		mismatches += sh->mismatches[i];
	}
	tap_ok(verified == WORKERS * NPAGES && mismatches == 0,
	       "every worker page has its content: %ld verified, %ld mismatches",
	       verified, mismatches);

	/* 4. settled counters: the victim's copies are gone, its slot too */
	if (wait_scans(SP_TREE, 4))
		tap_bail("no 4 full scans after the pressure");
	must_set(SP_TREE, "run", "0");
	st = stats();
	tap_ok(st.kernel_pages_allocated == BOUND && st.pages_shared == BOUND &&
	       st.pages_sharing == BOUND * (COPIES_W - 1) && st.processes == WORKERS &&
	       st.rmap_items == WORKERS * NPAGES && st.pages_volatile == 0 &&
	       st.pages_shared + st.pages_sharing + st.pages_unshared == st.rmap_items,
	       "settled: kpages %llu, shared %llu, sharing %llu (want %d, %d, %d), processes %llu, rmap_items %llu, unshared %llu, volatile %llu",
	       st.kernel_pages_allocated, st.pages_shared, st.pages_sharing, BOUND, BOUND,
	       BOUND * (COPIES_W - 1), st.processes, st.rmap_items, st.pages_unshared,
	       st.pages_volatile);

	/* per unmerged content: one copy waits in the unstable tree, the other 5 hit the cap */
	tap_ok(st.why[SAMEPAGE_WHY_MERGED] == BOUND * COPIES_W &&
	       st.why[SAMEPAGE_WHY_UNIQUE] == CONTENTS - BOUND &&
	       st.why[SAMEPAGE_WHY_MAX_KERNEL_PAGES] == (CONTENTS - BOUND) * (COPIES_W - 1) &&
	       st.why[SAMEPAGE_WHY_VOLATILE] == 0 && st.why[SAMEPAGE_WHY_RACE] == 0,
	       "last pass: %llu merged, %llu unique, %llu refused by max_kernel_pages (want %d, %d, %d), %llu volatile, %llu races",
	       st.why[SAMEPAGE_WHY_MERGED], st.why[SAMEPAGE_WHY_UNIQUE],
	       st.why[SAMEPAGE_WHY_MAX_KERNEL_PAGES], BOUND * COPIES_W, CONTENTS - BOUND,
	       (CONTENTS - BOUND) * (COPIES_W - 1), st.why[SAMEPAGE_WHY_VOLATILE],
	       st.why[SAMEPAGE_WHY_RACE]);

	/* 5. the OOM killer killed once: no decoy was taken */
	for (int i = 0; i < DECOYS; i++)
		decoys_alive += waitpid(decoys[i], NULL, WNOHANG) == 0;
	tap_ok(vmstat("oom_kill") == oom0 + 1 && decoys_alive == DECOYS,
	       "exactly one OOM kill: oom_kill grew by %ld, %ld of %d decoys (oom_score_adj 1000) alive",
	       vmstat("oom_kill") - oom0, decoys_alive, DECOYS);
	for (int i = 0; i < DECOYS; i++) {
		kill(decoys[i], SIGKILL);
		waitpid(decoys[i], NULL, 0);
	}

	/* 6. run=2 gives everything back, intact */
	must_set(SP_TREE, "run", "2");
	st = stats();
	for (int i = 0; i < WORKERS; i++)
		ask(&w[i], 'v');
	verified = mismatches = 0;
	for (int i = 0; i < WORKERS; i++) {
		verified += sh->verified[i];
		mismatches += sh->mismatches[i];
	}
	tap_ok(st.kernel_pages_allocated == 0 && st.pages_shared == 0 && st.pages_sharing == 0 &&
	       verified == 2 * WORKERS * NPAGES && mismatches == 0,
	       "run=2: kernel_pages_allocated %llu, shared %llu, sharing %llu; content intact (%ld mismatches)",
	       st.kernel_pages_allocated, st.pages_shared, st.pages_sharing, mismatches);
	must_set(SP_TREE, "run", "0");
	ok = 1;
	for (int i = 0; i < WORKERS; i++)
		ok &= reap_child(&w[i]) == 0;
	for (int i = 0; i < 50; i++) {	/* the idle reap frees exited slots within 1 s */
		st = stats();
		if (!st.processes)
			break;
		usleep(100000);
	}
	tap_ok(ok && st.processes == 0 && st.rmap_items == 0 && st.kernel_pages_allocated == 0 &&
	       st.ksm_zero_pages == 0,
	       "workers exited: processes %llu, rmap_items %llu, kpages %llu, zero pages %llu",
	       st.processes, st.rmap_items, st.kernel_pages_allocated, st.ksm_zero_pages);
	tap_ok(meminfo_kb("MemAvailable") > meminfo_kb("MemTotal") / 2,
	       "memory came back: MemAvailable %ld of %ld kB", meminfo_kb("MemAvailable"),
	       meminfo_kb("MemTotal"));
	sp_restore();
	set_knob("max_kernel_pages", "0");
	tap_diag("took %ld s", (long)(time(NULL) - t0));
	return tap_done();
}
