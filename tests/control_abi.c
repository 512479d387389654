// SPDX-License-Identifier: GPL-2.0
/*
 * MERGE_RANGE, PROC_STAT, STATS and LIST: valid and invalid arguments, the
 * synchronous merge (256 duplicates -> 255 saved before samepaged ever
 * ran), and the "why not merged" breakdown, exact per reason for a range
 * built to hold a known number of pages of each kind.
 */
#include <pthread.h>
#include <sys/uio.h>
#include "sp.h"

static long ioc(unsigned long cmd, void *arg)
{
	return ioctl(sp_dev(), cmd, arg) ? -errno : 0;
}

/* An unprivileged user merges its own range; not root's. */
static void unprivileged_merge(void)
{
	pid_t pid = fork();
	int status;

	if (!pid) {
		struct samepage_merge_range m = { .size = sizeof(m) };
		char *buf;

		sp_close_dev();
		if (setgid(1000) || setuid(1000))
			_exit(10);
		buf = map_pages(16);
		for (int i = 0; i < 16; i++)
			fill_page(buf + i * page_size, 77);
		m.start = (uintptr_t)buf;
		m.len = 16 * page_size;
		/* (its own pagemap is closed to it after setuid: not dumpable) */
		if (ioc(SAMEPAGE_IOC_MERGE_RANGE, &m) || m.merged != 15)
			_exit(11);
		m.pid = getppid();
		m.merged = 0;
		if (ioc(SAMEPAGE_IOC_MERGE_RANGE, &m) != -EPERM)
			_exit(12);
		sp_range(0, 0, buf, 16 * page_size);
		_exit(0);
	}
	waitpid(pid, &status, 0);
	tap_ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	       "uid 1000 merges its own range (15 saved) and gets EPERM for root's (exit %d)",
	       WEXITSTATUS(status));
}

static void merge_range_test(void)
{
	struct samepage_merge_range m = { .size = sizeof(m) };
	struct samepage_proc_stat ps = { .size = sizeof(ps) };
	struct samepage_stats st = { .size = sizeof(st) };
	char *buf = map_pages(256);
	int same = 1;
	long rc;

	sp_reset();
	for (int i = 0; i < 256; i++)
		fill_page(buf + i * page_size, 31);
	m.start = (uintptr_t)buf;
	m.len = 256 * page_size;
	rc = knob("run") == 0 ? ioc(SAMEPAGE_IOC_MERGE_RANGE, &m) : -1;
	tap_ok(rc == 0 && m.merged == 255,
	       "MERGE_RANGE of 256 duplicates with run=0 returns %llu (want 255)",
	       (unsigned long long)m.merged);
	for (int i = 1; i < 256; i++)
		same &= pfn_of(0, buf + i * page_size) == pfn_of(0, buf);
	tap_ok(same, "the 256 pages share one PFN");
	tap_ok(ioc(SAMEPAGE_IOC_STATS, &st) == 0 && st.pages_shared == 1 &&
	       st.pages_sharing == 255 && st.kernel_pages_allocated == 1 &&
	       (long)st.pages_sharing == knob("pages_sharing") && st.processes == 1,
	       "STATS: 1 shared, 255 sharing, 1 process, as sysfs says");
	tap_ok(ioc(SAMEPAGE_IOC_PROC_STAT, &ps) == 0 && ps.pid == getpid() &&
	       ps.rmap_items == 256 && ps.merging_pages == 256 && ps.zero_pages == 0 &&
	       ps.mergeable == 1 && ps.merge_any == 0 && ps.ranges == 1 &&
	       ps.process_profit == 256 * page_size -
				    256 * (st.general_profit > 0 ?
					   (255 * page_size - st.general_profit) / 256 : 0),
	       "PROC_STAT of self: 256 rmap_items, 256 merging, 1 range, profit consistent");
	m.merged = 0;
	tap_ok(ioc(SAMEPAGE_IOC_MERGE_RANGE, &m) == 0 && m.merged == 0,
	       "MERGE_RANGE again saves nothing more");

	m.merged = 0;
	m.start = (uintptr_t)buf + 1;
	tap_ok(ioc(SAMEPAGE_IOC_MERGE_RANGE, &m) == -EINVAL, "unaligned MERGE_RANGE: EINVAL");
	m.start = (uintptr_t)buf;
	m.len = 0;
	tap_ok(ioc(SAMEPAGE_IOC_MERGE_RANGE, &m) == -EINVAL, "empty MERGE_RANGE: EINVAL");
	m.len = page_size;
	m.flags = 1;
	tap_ok(ioc(SAMEPAGE_IOC_MERGE_RANGE, &m) == -EINVAL, "MERGE_RANGE flags: EINVAL");
	m.flags = 0;
	m.pid = 2;
	tap_ok(ioc(SAMEPAGE_IOC_MERGE_RANGE, &m) == -EINVAL, "MERGE_RANGE of a kernel thread: EINVAL");
	ps.pid = -1;
	tap_ok(ioc(SAMEPAGE_IOC_PROC_STAT, &ps) == -ESRCH, "PROC_STAT of no process: ESRCH");
	st.size = 8;
	tap_ok(ioc(SAMEPAGE_IOC_STATS, &st) == -EINVAL, "short STATS: EINVAL");
	sp_range(0, 0, buf, 256 * page_size);
	munmap(buf, 256 * page_size);
	unprivileged_merge();
}

static void list_test(void)
{
	struct samepage_proc_entry e[8];
	struct samepage_list l = { .size = sizeof(l), .entry_size = sizeof(e[0]) };
	char *buf = map_pages(4);
	pid_t pid;
	int status;
	long rc;

	sp_reset();
	sp_range(1, 0, buf, 4 * page_size);
	rc = ioc(SAMEPAGE_IOC_LIST, &l);
	tap_ok(rc == 0 && l.count == 1,
	       "LIST with no room counts the 1 tracked process (%u)", l.count);
	l.count = 0;
	l.capacity = 8;
	l.entries = (uintptr_t)e;
	tap_ok(ioc(SAMEPAGE_IOC_LIST, &l) == 0 && l.count == 1 && e[0].pid == getpid() &&
	       e[0].merge_any == 0,
	       "LIST names this process");
	l.count = 0;
	l.entries = 0;
	tap_ok(ioc(SAMEPAGE_IOC_LIST, &l) == -EINVAL, "LIST with room but no array: EINVAL");
	l.entries = 16;
	tap_ok(ioc(SAMEPAGE_IOC_LIST, &l) == -EFAULT, "LIST into a bad pointer: EFAULT");
	pid = fork();
	if (!pid) {
		struct samepage_list ul = { .size = sizeof(ul), .entry_size = sizeof(e[0]),
					    .capacity = 8, .entries = (uintptr_t)e };

		sp_close_dev();
		if (setgid(1000) || setuid(1000))
			_exit(10);
		_exit(ioc(SAMEPAGE_IOC_LIST, &ul) == 0 && ul.count == 0 ? 0 : 11);
	}
	waitpid(pid, &status, 0);
	tap_ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	       "an unprivileged user does not see root's process in LIST");
	sp_range(0, 0, buf, 4 * page_size);
}

/* ---- the why-not-merged breakdown ---- */

#define THP 512
#define THP_TWINS 10
enum { M0 = THP, PIN = M0 + 8, VOL = PIN + 1, UNI = VOL + 5, ABSENT = UNI + 6,
       SHARED = ABSENT + 4, LOCKED = SHARED + 3, PAIR = LOCKED + 2, TOTAL = PAIR + 2 };

static char *base;
static volatile int stop;

static void *rewrite(void *arg)
{
	(void)arg;
	for (uint64_t n = 0; !stop; n++) {
		for (int i = VOL; i < UNI; i++)
			*(volatile uint64_t *)(base + i * page_size) = n;
		usleep(1000);
	}
	return NULL;
}

static void *fixed(long first, long n, int prot, int flags)
{
	void *p = mmap(base + first * page_size, n * page_size, prot,
		       flags | MAP_FIXED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		tap_bail("mmap fixed: %s", strerror(errno));
	return p;
}

static void why_test(void)
{
	struct samepage_proc_stat ps = { .size = sizeof(ps) };
	long want[SAMEPAGE_WHY_NR] = { 0 };
	static const char *const names[] = {
		"merged", "volatile", "smart_scan", "unique", "thp", "pinned",
		"vma_shared", "vma_locked", "vma_hugetlb", "vma_io", "vma_other",
		"not_present", "max_kernel_pages", "race",
	};
	struct iovec iov;
	pthread_t thread;
	char *raw;
	int p[2], exact = 1;

	sp_reset();
	must_set(SP_TREE, "max_kernel_pages", "1");
	must_set(SP_TREE, "sleep_millisecs", "50");
	raw = mmap(NULL, (TOTAL + 1024) * page_size, PROT_NONE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	base = (char *)(((uintptr_t)raw + (2UL << 20) - 1) & ~((2UL << 20) - 1));
	fixed(0, THP, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	madvise(base, THP * page_size, MADV_HUGEPAGE);
	/* a THP with 10 equal subpages: below thp_min_mergeable (64), left whole */
	for (int i = 0; i < THP; i++)
		fill_page(base + i * page_size, i < THP_TWINS ? 77 : 5000 + i);
	fixed(M0, SHARED - M0, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	madvise(base + M0 * page_size, (SHARED - M0) * page_size, MADV_NOHUGEPAGE);
	for (int i = M0; i <= PIN; i++)
		fill_page(base + i * page_size, 123);
	for (int i = VOL; i < ABSENT; i++)
		fill_page(base + i * page_size, 2000 + i);
	fixed(SHARED, 3, PROT_READ | PROT_WRITE, MAP_SHARED);
	fixed(LOCKED, 2, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	if (mlock(base + LOCKED * page_size, 2 * page_size))
		tap_bail("mlock: %s", strerror(errno));
	fixed(PAIR, 2, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	fill_page(base + PAIR * page_size, 456);
	fill_page(base + (PAIR + 1) * page_size, 456);
	if (pipe(p))
		tap_bail("pipe");
	iov.iov_base = base + PIN * page_size;
	iov.iov_len = page_size;
	if (vmsplice(p[1], &iov, 1, 0) != page_size)
		tap_bail("vmsplice: %s", strerror(errno));
	pthread_create(&thread, NULL, rewrite, NULL);

	sp_range(1, 0, base, TOTAL * page_size);
	run_passes(SP_TREE, 3);
	stop = 1;
	pthread_join(thread, NULL);

	want[SAMEPAGE_WHY_THP] = THP_TWINS;
	want[SAMEPAGE_WHY_MERGED] = PIN - M0;
	want[SAMEPAGE_WHY_PINNED] = 1;
	want[SAMEPAGE_WHY_VOLATILE] = UNI - VOL;
	/* the THP's other subpages, and the first of each pair (mlocked: eligible) */
	want[SAMEPAGE_WHY_UNIQUE] = THP - THP_TWINS + ABSENT - UNI + 2;
	want[SAMEPAGE_WHY_NOT_PRESENT] = SHARED - ABSENT;
	want[SAMEPAGE_WHY_VMA_SHARED] = LOCKED - SHARED;
	want[SAMEPAGE_WHY_MAX_KERNEL_PAGES] = 2;	/* the second of each pair */
	if (ioc(SAMEPAGE_IOC_PROC_STAT, &ps))
		tap_bail("PROC_STAT: %s", strerror(errno));
	for (int i = 0; i < SAMEPAGE_WHY_NR; i++) {
		if ((long)ps.why[i] != want[i])
			tap_diag("%s: %llu, want %ld", names[i], (unsigned long long)ps.why[i],
				 want[i]);
		exact &= (long)ps.why[i] == want[i];
	}
	tap_ok(exact, "why-not-merged of a %d-page range is exact for every reason", TOTAL);
	close(p[0]);
	close(p[1]);
	sp_range(0, 0, base, TOTAL * page_size);
	must_set(SP_TREE, "max_kernel_pages", "0");
}

int main(void)
{
	sp_test_init(18);
	merge_range_test();
	list_test();
	why_test();
	sp_restore();
	return tap_done();
}
