// SPDX-License-Identifier: GPL-2.0
/*
 * Concurrent fuzzer: several unprivileged processes with several
 * threads each interleave every /dev/samepage ioctl (good and bad
 * arguments), madvise (MERGEABLE, UNMERGEABLE, DONTNEED, FREE, HUGEPAGE,
 * NOHUGEPAGE), prctl(PR_SET_MEMORY_MERGE), mmap/munmap/mremap/mprotect,
 * fork, exec and exit, and writes to merged pages; one root thread
 * meanwhile writes every sysfs knob, run 0/1/2 included. Each thread keeps
 * a shadow of the content of every page it owns and checks all of them
 * before it exits, and every call must answer what its arguments call for.
 *
 *   fuzz_concurrent [SECONDS [PROCS [THREADS [SEED]]]]   (20 3 3 1)
 *
 * Seeded: each thread's sequence of operations follows from the seed (the
 * interleaving is the scheduler's). Afterwards run=2 must leave no kpage
 * and no tracked process.
 *
 * FUZZ_ENOMEM_OK=1 (the soak, while it fails samepage's allocations on
 * purpose): ENOMEM is a right answer to every call, and is counted.
 */
#include <pthread.h>
#include <sys/prctl.h>
#include "sp.h"

#define PR_SET_MEMORY_MERGE_	67
#define REGIONS		3
#define MAXPAGES	512
#define POOL		16
#define UNKNOWN		(-2)	/* after MADV_FREE: old content or zero */

struct region {
	char *base;
	long npages;
	int16_t val[MAXPAGES];	/* -1 zero, UNKNOWN, else pool id */
};

struct worker {
	uint64_t rnd;
	struct region reg[REGIONS];
	long ops, bad_errno, mismatches, forks, enomem;
	char last_bad[160];
};

static int enomem_ok;		/* FUZZ_ENOMEM_OK=1 */

static volatile int stop;
static int seconds = 20, nprocs = 3, nthreads = 3;
static uint64_t seed = 1;

static uint64_t rnd(struct worker *w)
{
	w->rnd ^= w->rnd << 13;
	w->rnd ^= w->rnd >> 7;
	w->rnd ^= w->rnd << 17;
	return w->rnd;
}

static void expect(struct worker *w, const char *what, int err, const int *ok, int nok)
{
	for (int i = 0; i < nok; i++)
		if (err == ok[i])
			return;
	if (err == ENOMEM && enomem_ok) {
		w->enomem++;
		return;
	}
	w->bad_errno++;
	snprintf(w->last_bad, sizeof(w->last_bad), "%s: %s", what, err ? strerror(err) : "success");
}

#define EXPECT(w, what, err, ...) do {					\
	const int ok_[] = { __VA_ARGS__ };				\
	expect(w, what, err, ok_, sizeof(ok_) / sizeof(ok_[0]));	\
} while (0)

static void write_page(struct region *r, long i, int v)
{
	if (v < 0)
		memset(r->base + i * page_size, 0, page_size);
	else
		fill_page(r->base + i * page_size, 9100 + v);
	r->val[i] = v;
}

static void verify(struct worker *w, struct region *r)
{
	static __thread char ref[65536];

	for (long i = 0; i < r->npages; i++) {
		if (r->val[i] == UNKNOWN)
			continue;
		if (r->val[i] < 0)
			memset(ref, 0, page_size);
		else
			fill_page(ref, 9100 + r->val[i]);
		w->mismatches += memcmp(ref, r->base + i * page_size, page_size) != 0;
	}
}

static void new_region(struct worker *w, struct region *r)
{
	int huge = rnd(w) % 4 == 0;

	r->npages = huge ? MAXPAGES : 8 + rnd(w) % 56;
	if (huge) {
		char *raw = mmap(NULL, 2 * MAXPAGES * page_size, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		r->base = (char *)(((uintptr_t)raw + MAXPAGES * page_size - 1) &
				   ~(MAXPAGES * page_size - 1));
	} else {
		r->base = mmap(NULL, r->npages * page_size, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	}
	if (r->base == MAP_FAILED)
		tap_bail("mmap: %s", strerror(errno));
	for (long i = 0; i < r->npages; i++)
		write_page(r, i, rnd(w) % 6 ? (int)(rnd(w) % POOL) : -1);
}

static int ioc(unsigned long cmd, void *arg)
{
	return ioctl(sp_dev(), cmd, arg) ? errno : 0;
}

/* One random operation on region @r of worker @w. */
static void one_op(struct worker *w, struct region *r)
{
	struct samepage_register reg = { .size = sizeof(reg) };
	struct samepage_merge_range m = { .size = sizeof(m) };
	struct samepage_proc_stat ps = { .size = sizeof(ps) };
	struct samepage_stats st = { .size = sizeof(st) };
	struct samepage_proc_entry e[4];
	struct samepage_list l = { .size = sizeof(l), .capacity = 4,
				   .entry_size = sizeof(e[0]), .entries = (uintptr_t)e };
	size_t len = r->npages * page_size;
	unsigned int op = rnd(w) % 32;
	long i = rnd(w) % r->npages;
	int err, status;
	char *p;
	pid_t pid;

	switch (op) {
	case 0 ... 9:
		write_page(r, i, rnd(w) % 8 ? (int)(rnd(w) % POOL) : -1);
		break;
	case 10:
		verify(w, r);
		break;
	case 11:
		m.start = (uintptr_t)r->base;
		m.len = len;
		EXPECT(w, "MERGE_RANGE", ioc(SAMEPAGE_IOC_MERGE_RANGE, &m), 0, ENOMEM, EINTR);
		if (m.merged > (unsigned long)r->npages)
			EXPECT(w, "MERGE_RANGE claims too much", EOVERFLOW, 0);
		break;
	case 12:
		reg.flags = SAMEPAGE_REGISTER_RANGE;
		reg.start = (uintptr_t)r->base;
		reg.len = len;
		EXPECT(w, "REGISTER range", ioc(SAMEPAGE_IOC_REGISTER, &reg), 0, EEXIST, ENOMEM);
		break;
	case 13:
		reg.flags = SAMEPAGE_REGISTER_RANGE;
		reg.start = (uintptr_t)r->base;
		reg.len = len;
		EXPECT(w, "UNREGISTER range", ioc(SAMEPAGE_IOC_UNREGISTER, &reg), 0, ENOENT,
		       EINVAL, EINTR);
		break;
	case 14:
		EXPECT(w, "REGISTER whole", ioc(SAMEPAGE_IOC_REGISTER, &reg), 0, EEXIST, ENOMEM);
		break;
	case 15:
		EXPECT(w, "UNREGISTER whole", ioc(SAMEPAGE_IOC_UNREGISTER, &reg), 0, ENOENT, EINTR);
		break;
	case 16:
		EXPECT(w, "PROC_STAT self", ioc(SAMEPAGE_IOC_PROC_STAT, &ps), 0);
		ps.pid = 1;
		EXPECT(w, "PROC_STAT of init", ioc(SAMEPAGE_IOC_PROC_STAT, &ps), EPERM);
		EXPECT(w, "STATS", ioc(SAMEPAGE_IOC_STATS, &st), 0);
		EXPECT(w, "LIST", ioc(SAMEPAGE_IOC_LIST, &l), 0);
		break;
	case 17:
		m.size = 8;			/* too short */
		EXPECT(w, "short MERGE_RANGE", ioc(SAMEPAGE_IOC_MERGE_RANGE, &m), EINVAL);
		m.size = sizeof(m);
		m.start = (uintptr_t)r->base + 1;
		m.len = page_size;
		EXPECT(w, "unaligned MERGE_RANGE", ioc(SAMEPAGE_IOC_MERGE_RANGE, &m), EINVAL);
		EXPECT(w, "bad pointer", ioc(SAMEPAGE_IOC_STATS, (void *)16), EFAULT);
		EXPECT(w, "unknown ioctl", ioc(_IO(SAMEPAGE_IOC_MAGIC, 0x7f), NULL), ENOTTY);
		break;
	case 18:
		EXPECT(w, "MADV_MERGEABLE", madvise(r->base, len, MADV_MERGEABLE) ? errno : 0, 0);
		break;
	case 19:
		EXPECT(w, "MADV_UNMERGEABLE", madvise(r->base, len, MADV_UNMERGEABLE) ? errno : 0,
		       0, EAGAIN, ENOMEM, EINTR);
		break;
	case 20:
		madvise(r->base + i * page_size, page_size, MADV_DONTNEED);
		r->val[i] = -1;
		break;
	case 21:
		madvise(r->base + i * page_size, page_size, MADV_FREE);
		r->val[i] = UNKNOWN;
		break;
	case 22:
		madvise(r->base, len, rnd(w) % 2 ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
		break;
	case 23:
		err = prctl(PR_SET_MEMORY_MERGE_, rnd(w) % 2, 0, 0, 0) ? errno : 0;
		EXPECT(w, "PR_SET_MEMORY_MERGE", err, 0, EINVAL);	/* EINVAL: 6.1 */
		break;
	case 24:
		munmap(r->base, len);
		new_region(w, r);
		break;
	case 25:
		if (r->npages == MAXPAGES)
			break;		/* keep huge regions where they are */
		p = mremap(r->base, len, len, MREMAP_MAYMOVE);
		if (p == MAP_FAILED)
			EXPECT(w, "mremap", errno, 0);
		else
			r->base = p;
		break;
	case 26:
		mprotect(r->base, len, PROT_READ);
		verify(w, r);
		mprotect(r->base, len, PROT_READ | PROT_WRITE);
		break;
	case 27:
		w->forks++;
		pid = fork();
		if (!pid) {
			long before = w->mismatches;

			for (int k = 0; k < REGIONS; k++)
				verify(w, &w->reg[k]);
			write_page(r, i, (int)(rnd(w) % POOL));
			verify(w, r);
			_exit(w->mismatches != before);
		}
		if (pid > 0 && waitpid(pid, &status, 0) == pid &&
		    !(WIFEXITED(status) && !WEXITSTATUS(status)))
			w->mismatches++;
		break;
	case 28:
		pid = fork();
		if (!pid) {
			execl("/bin/true", "true", (char *)NULL);
			_exit(127);
		}
		if (pid > 0)
			waitpid(pid, NULL, 0);
		break;
	default:			/* writes to pages that may be merged */
		for (int k = 0; k < 4; k++)
			write_page(r, rnd(w) % r->npages, (int)(rnd(w) % POOL));
		break;
	}
	w->ops++;
}

static void *thread_fn(void *arg)
{
	struct worker *w = arg;

	for (int k = 0; k < REGIONS; k++)
		new_region(w, &w->reg[k]);
	while (!stop)
		one_op(w, &w->reg[rnd(w) % REGIONS]);
	for (int k = 0; k < REGIONS; k++)
		verify(w, &w->reg[k]);
	return NULL;
}

struct result { long ops, bad_errno, mismatches, forks, enomem; char last_bad[160]; };

/* One unprivileged process with nthreads threads; its totals go to @res. */
static void worker_process(int idx, struct result *res)
{
	struct worker *w = calloc(nthreads, sizeof(*w));
	pthread_t *t = calloc(nthreads, sizeof(*t));

	if (setgid(1000) || setuid(1000))
		_exit(90);
	for (int i = 0; i < nthreads; i++) {
		w[i].rnd = (seed * 1000003 + idx * 101 + i + 1) | 1;
		pthread_create(&t[i], NULL, thread_fn, &w[i]);
	}
	sleep(seconds);
	stop = 1;
	for (int i = 0; i < nthreads; i++) {
		pthread_join(t[i], NULL);
		res->ops += w[i].ops;
		res->bad_errno += w[i].bad_errno;
		res->mismatches += w[i].mismatches;
		res->forks += w[i].forks;
		res->enomem += w[i].enomem;
		if (w[i].bad_errno)
			memcpy(res->last_bad, w[i].last_bad, sizeof(res->last_bad));
	}
	_exit(0);
}

/* Every knob: four valid values, then one that must answer EINVAL. */
static const char *const knobs[][6] = {
	{ "run", "0", "1", "2", "1", "3" },
	{ "pages_to_scan", "1", "100", "5000", "30000", "x" },
	{ "sleep_millisecs", "0", "1", "5", "20", "x" },
	{ "use_zero_pages", "0", "1", "1", "0", "2" },
	{ "max_page_sharing", "2", "3", "256", "300", "1" },
	{ "merge_across_nodes", "0", "1", "1", "1", "5" },
	{ "smart_scan", "0", "1", "0", "1", "-1" },
	{ "thp_min_mergeable", "1", "64", "512", "2", "0" },
	{ "cow_cooldown_passes", "0", "4", "0", "1", "999" },
	{ "follow_madvise", "0", "1", "1", "1", "x" },
	{ "max_kernel_pages", "0", "5", "100", "100000", "-3" },
	{ "stable_node_chains_prune_millisecs", "1", "10", "2000", "100", "x" },
	{ "advisor_mode", "none", "scan-time", "none", "none", "bogus" },
	{ "proc_ksm_stat", "0", "1", "1", "1", "x" },
};

int main(int argc, char **argv)
{
	struct result *res;
	long ops = 0, bad = 0, mism = 0, forks = 0, writes = 0, knob_bad = 0, coll, enomem = 0;
	uint64_t r = 88172645463325252ULL;
	pid_t *pids;
	time_t end;
	int ok = 1, status;

	if (argc > 1)
		seconds = atoi(argv[1]);
	if (argc > 2)
		nprocs = atoi(argv[2]);
	if (argc > 3)
		nthreads = atoi(argv[3]);
	if (argc > 4)
		seed = strtoull(argv[4], NULL, 0);
	enomem_ok = getenv("FUZZ_ENOMEM_OK") && !strcmp(getenv("FUZZ_ENOMEM_OK"), "1");
	sp_test_init(7);
	sp_reset();
	coll = knob("hash_collisions");
	must_set(SP_TREE, "pages_to_scan", "1000");
	must_set(SP_TREE, "run", "1");
	res = mmap(NULL, nprocs * sizeof(*res), PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	memset(res, 0, nprocs * sizeof(*res));
	pids = calloc(nprocs, sizeof(*pids));
	for (int i = 0; i < nprocs; i++) {
		pids[i] = fork();
		if (!pids[i])
			worker_process(i, &res[i]);
	}
	/* the root thread: every knob, valid and invalid values */
	end = time(NULL) + seconds;
	while (time(NULL) < end) {
		unsigned int k, v;
		int err;

		r ^= r << 13, r ^= r >> 7, r ^= r << 17;
		k = r % (sizeof(knobs) / sizeof(knobs[0]));
		v = 1 + (r >> 8) % 5;
		err = -set_knob(knobs[k][0], knobs[k][v]);
		writes++;
		/*
		 * The invalid value: EINVAL. A valid one: 0, or EBUSY (a
		 * tree-shaping knob while kpages exist), or EINVAL for
		 * pages_to_scan while the advisor owns it, or EINTR/ENOMEM
		 * from run=2's unmerge.
		 */
		if (v == 5 ? err != EINVAL :
		    err && err != EBUSY && err != EINTR && err != ENOMEM &&
		    !(err == EINVAL && !strcmp(knobs[k][0], "pages_to_scan"))) {
			if (knob_bad++ < 5)
				tap_diag("%s <- %s: %s", knobs[k][0], knobs[k][v], strerror(err));
		}
		usleep(20000);
	}
	for (int i = 0; i < nprocs; i++) {
		waitpid(pids[i], &status, 0);
		ok &= WIFEXITED(status) && WEXITSTATUS(status) == 0;
		ops += res[i].ops;
		bad += res[i].bad_errno;
		mism += res[i].mismatches;
		forks += res[i].forks;
		enomem += res[i].enomem;
		if (res[i].bad_errno)
			tap_diag("process %d: last unexpected answer: %s", i, res[i].last_bad);
	}
	tap_diag("%ld operations by %d processes x %d threads (uid 1000) in %d s, seed %llu, "
		 "%ld forks; %ld knob writes by root", ops, nprocs, nthreads, seconds,
		 (unsigned long long)seed, forks, writes);
	if (enomem_ok)
		tap_diag("%ld calls answered ENOMEM (FUZZ_ENOMEM_OK=1)", enomem);
	tap_ok(ok, "every worker ran to the end and exited 0");
	/* a floor on throughput: a fuzzer that did next to nothing proves nothing */
	tap_ok(ops > 100 * nprocs, "the workers ran %ld operations (want > %d)", ops, 100 * nprocs);
	tap_ok(bad == 0, "every call answered as its arguments call for (%ld did not)", bad);
	tap_ok(mism == 0, "every page of every thread matches its shadow (%ld mismatches)", mism);
	tap_ok(knob_bad == 0, "every knob write answered 0, EINVAL or EBUSY as it should");
	/* pages written between their visit and the memcmp() are no collisions */
	coll = knob("hash_collisions") - coll;
	tap_ok(coll == 0, "hash_collisions grew by %ld (want 0: xxh64 of 16 contents)", coll);
	set_knob("advisor_mode", "none");
	must_set(SP_TREE, "run", "2");
	{
		struct samepage_list l = { .size = sizeof(l),
					   .entry_size = sizeof(struct samepage_proc_entry) };

		/*
		 * A worker's last mm reference may be samepaged's (mmput_async()
		 * from a scan): its exit_mmap() then runs in a kworker after
		 * waitpid(), slowly on PREEMPT_RT, and its kpages go at the
		 * prune after that (once a second while run is not 1).
		 */
		wait_knob(SP_TREE, "kernel_pages_allocated", 0);
		ioctl(sp_dev(), SAMEPAGE_IOC_LIST, &l);
		tap_ok(knob("kernel_pages_allocated") == 0 && l.count == 0 &&
		       knob("ksm_zero_pages") == 0,
		       "afterwards run=2 leaves no kpage (%ld), no zero page (%ld), no process (%u)",
		       knob("kernel_pages_allocated"), knob("ksm_zero_pages"), l.count);
	}
	sp_restore();		/* max_page_sharing too: no kpage is left */
	set_knob("thp_min_mergeable", "64");
	set_knob("cow_cooldown_passes", "0");
	set_knob("follow_madvise", "1");
	set_knob("max_kernel_pages", "0");
	set_knob("proc_ksm_stat", "1");
	set_knob("stable_node_chains_prune_millisecs", "2000");
	return tap_done();
}
