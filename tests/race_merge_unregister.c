// SPDX-License-Identifier: GPL-2.0
/*
 * A local denial of service, fixed: an unprivileged process whose
 * thread A loops MERGE_RANGE over 64 pages of its own memory (re-dirtying
 * them between calls) while thread B loops UNREGISTER on itself, whole
 * process then range. samepage used to drop its lock between registering
 * and scanning in MERGE_RANGE and then scan a slot B had freed (a NULL
 * pointer dereference in under a second on 6.12).
 *
 *   race_merge_unregister [SECONDS]   (default 20)
 *
 * Runs as uid 1000. Every call must answer 0 or an expected errno, a
 * MERGE_RANGE never claims more pages than it was given, every page reads
 * back what was written, and the kernel stays healthy (vm-run checks its
 * log). Afterwards nothing of the process is left in samepage.
 */
#include <pthread.h>
#include "sp.h"

#define NPAGES	64

static char *buf;
static volatile int stop;
static long merges, unregs, bad_merge_err, bad_unreg_err, overclaims, mismatches;

static void *merger(void *arg)
{
	(void)arg;
	for (unsigned int round = 0; !stop; round++) {
		struct samepage_merge_range m = {
			.size = sizeof(m), .start = (uintptr_t)buf,
			.len = NPAGES * page_size,
		};

		/* pairs of equal pages, different every round */
		for (int i = 0; i < NPAGES; i++)
			fill_page(buf + i * page_size, round * NPAGES + i / 2);
		if (ioctl(sp_dev(), SAMEPAGE_IOC_MERGE_RANGE, &m)) {
			if (errno != ENOMEM && errno != EINTR)
				bad_merge_err++;
		} else if (m.merged > NPAGES) {
			overclaims++;
		}
		for (int i = 0; i < NPAGES; i++) {
			char ref[4096];

			fill_page(ref, round * NPAGES + i / 2);
			mismatches += memcmp(ref, buf + i * page_size, page_size) != 0;
		}
		merges++;
	}
	return NULL;
}

static void *unregisterer(void *arg)
{
	(void)arg;
	for (unsigned int round = 0; !stop; round++) {
		int err = round % 2 ? sp_range(0, 0, buf, NPAGES * page_size) :
			  sp_range(0, 0, NULL, 0);

		/* not registered (any more), or a range of a whole registration */
		if (err && err != -ENOENT && err != -EINVAL)
			bad_unreg_err++;
		unregs++;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int seconds = argc > 1 ? atoi(argv[1]) : 20;
	pthread_t a, b;
	int status;
	pid_t pid;

	sp_test_init(7);
	sp_reset();
	pid = fork();
	if (!pid) {
		if (setgid(1000) || setuid(1000))
			_exit(90);
		buf = map_pages(NPAGES);
		sp_dev();
		pthread_create(&a, NULL, merger, NULL);
		pthread_create(&b, NULL, unregisterer, NULL);
		sleep(seconds);
		stop = 1;
		pthread_join(a, NULL);
		pthread_join(b, NULL);
		printf("# %ld MERGE_RANGE and %ld UNREGISTER calls in %d s as uid 1000\n",
		       merges, unregs, seconds);
		printf("# unexpected errors: merge %ld, unregister %ld; overclaims %ld; mismatches %ld\n",
		       bad_merge_err, bad_unreg_err, overclaims, mismatches);
		_exit((bad_merge_err ? 1 : 0) | (bad_unreg_err ? 2 : 0) |
		      (overclaims ? 4 : 0) | (mismatches ? 8 : 0) |
		      (merges < 10 || unregs < 10 ? 16 : 0));
	}
	waitpid(pid, &status, 0);
	tap_ok(WIFEXITED(status) && WEXITSTATUS(status) != 90,
	       "the racing process ran to the end as uid 1000");
	status = WIFEXITED(status) ? WEXITSTATUS(status) : 255;
	tap_ok(!(status & 1), "every MERGE_RANGE answered 0 or ENOMEM/EINTR");
	tap_ok(!(status & 2), "every UNREGISTER answered 0, ENOENT or EINVAL");
	tap_ok(!(status & 4), "no MERGE_RANGE claimed more pages than it was given");
	tap_ok(!(status & 8), "every page read back what was written");
	tap_ok(!(status & 16), "both threads made progress (at least 10 calls each)");
	must_set(SP_TREE, "run", "2");
	tap_ok(knob("kernel_pages_allocated") == 0 && knob("pages_sharing") == 0,
	       "after run=2 no kpage is left (kernel_pages_allocated %ld)",
	       knob("kernel_pages_allocated"));
	sp_restore();
	return tap_done();
}
