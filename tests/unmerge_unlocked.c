// SPDX-License-Identifier: GPL-2.0
/*
 * run=2 and UNREGISTER fault their pages back without samepage's lock.
 *
 * An unmerge allocates a page for every merged address, and an allocation
 * may wait on reclaim and on a memory cgroup's OOM killer for as long as
 * that keeps finding victims. Done under samepage's engine lock, that wait
 * held up everything else needing the lock: the reaper, whose work (freeing
 * the kpages of killed processes) is what a full memory cgroup waits for,
 * fork and exec inheritance, and samepagectl list. A 30-minute soak hung
 * that way (hung-task reports of all three, behind a run=2 that unmerged a
 * process of a memory cgroup at its limit while its workers were being
 * OOM-killed and restarted).
 *
 * The test measures the lock directly: the process merges NPAGES pages in
 * pairs (MERGE_RANGE), then one thread writes run=2 (and, in a second
 * round, UNREGISTERs the range) while the main thread calls LIST, which
 * takes the engine lock, every 2 ms. The longest LIST must be shorter
 * than half the unmerge: the faults ran without the lock, and only the
 * bookkeeping after them held it (dropping every item and freeing every
 * kpage; no second walk, as nothing merged meanwhile). Before, LIST waited
 * for the whole unmerge. The bookkeeping is about 4% of the unmerge on the
 * distro kernels and 20-26% on the sanitizer kernel, where freeing is
 * slow. Then every page must read what the process wrote and nothing may
 * stay merged.
 */
#include <pthread.h>
#include <time.h>
#include "sp.h"

#define NPAGES	(64L * 1024)	/* 256 MiB, 32768 pairs */

static char *buf;
static volatile int done;
static int op_err;
static double op_secs;

static void *run2(void *arg)
{
	double t0 = sp_now();

	(void)arg;
	op_err = -set_knob("run", "2");
	op_secs = sp_now() - t0;
	done = 1;
	return NULL;
}

static void *unregister(void *arg)
{
	double t0 = sp_now();

	(void)arg;
	op_err = -sp_range(0, 0, buf, NPAGES * page_size);
	op_secs = sp_now() - t0;
	done = 1;
	return NULL;
}

static int intact(void)
{
	for (long i = 0; i < NPAGES; i++)
		if (*(uint64_t *)(buf + i * page_size) != (uint64_t)(i / 2 + 1))
			return 0;
	return 1;
}

/* Merge the pairs; then @fn unmerges while LIST is timed. */
static void round_with(void *(*fn)(void *), const char *what)
{
	struct samepage_merge_range m = {
		.size = sizeof(m), .start = (uintptr_t)buf, .len = NPAGES * page_size,
	};
	double worst = 0, t;
	long lists = 0;
	pthread_t th;
	int err;

	must_set(SP_TREE, "run", "0");
	err = sp_range(1, 0, buf, NPAGES * page_size);
	if (err && err != -EEXIST)
		tap_bail("REGISTER: %s", strerror(-err));
	if (ioctl(sp_dev(), SAMEPAGE_IOC_MERGE_RANGE, &m))
		tap_bail("MERGE_RANGE: %s", strerror(errno));
	tap_diag("%s: %llu pages saved by MERGE_RANGE", what, (unsigned long long)m.merged);
	done = 0;
	pthread_create(&th, NULL, fn, NULL);
	while (!done) {
		t = sp_now();
		sp_tracked();
		t = sp_now() - t;
		if (t > worst)
			worst = t;
		lists++;
		usleep(2000);	/* a monitor's pace, not a CPU of its own */
	}
	pthread_join(th, NULL);
	tap_ok(op_err == 0 && m.merged >= NPAGES / 2 && op_secs >= 0.5 && worst < op_secs / 2,
	       "%s of %ld merged pages took %.2f s (%s); the longest of %ld LISTs meanwhile "
	       "%.3f s (want < half of it; the unmerge must take >= 0.5 s to tell)",
	       what, (long)m.merged, op_secs, op_err ? strerror(op_err) : "ok", lists, worst);
	tap_ok(intact() && knob("pages_sharing") == 0 && knob("pages_shared") == 0,
	       "%s: every page reads what it held; pages_shared %ld, pages_sharing %ld",
	       what, knob("pages_shared"), knob("pages_sharing"));
}

int main(void)
{
	sp_test_init(4);
	sp_reset();
	buf = map_pages(NPAGES);
	for (long i = 0; i < NPAGES; i++) {
		memset(buf + i * page_size, 0x5a, page_size);
		*(uint64_t *)(buf + i * page_size) = i / 2 + 1;
	}
	round_with(run2, "run=2");
	round_with(unregister, "UNREGISTER");
	munmap(buf, NPAGES * page_size);
	sp_restore();
	return tap_done();
}
