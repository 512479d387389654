// SPDX-License-Identifier: GPL-2.0
/*
 * kpages move while their mappers change: every byte must stay exact.
 *
 * NPAIRS pairs of equal pages are merged, then a random half of them is
 * COWed and dropped, which leaves samepage's arenas half empty: the next
 * passes move the other half's kpages into fuller arenas. While samepaged
 * runs those passes, threads of the same process
 *  - write new contents into some merged pages (COW breaks),
 *  - fork children that check every merged page nobody writes,
 *  - munmap some merged pairs,
 *  - mremap a 2 MiB stretch of merged pages away and back,
 * and afterwards every page still mapped is compared with what it must
 * hold. The test also checks that kpages did move meanwhile.
 */
#include <pthread.h>
#include <sys/wait.h>
#include "sp.h"

#define NPAIRS		(16 * 1024)
#define STRETCH		(2 << 20)		/* the mremap()ed part */
#define SPAN_PAIRS	(STRETCH / 2 / 4096)	/* pairs in it (4 KiB pages) */

enum kind { KEPT, WRITTEN, UNMAPPED, DROPPED };

static char *mem;
static uint64_t seed_of[NPAIRS];	/* content of each page of the pair */
static unsigned char kind[NPAIRS];
static volatile int stop;
static long forks, fork_bad, moves_seen;

static char *pair_at(long i)
{
	return mem + 2 * i * page_size;
}

/* Pairs [0, SPAN_PAIRS) are the mremap()ed stretch, nobody else's. */
static int in_stretch(long i)
{
	return i < SPAN_PAIRS;
}

static int pair_ok(long i)
{
	char ref[65536];

	fill_page(ref, seed_of[i]);
	return !memcmp(ref, pair_at(i), page_size) &&
	       !memcmp(ref, pair_at(i) + page_size, page_size);
}

/* COW breaks: pairs i % 8 == 1 get new contents, again and again. */
static void *writer(void *arg)
{
	(void)arg;
	while (!stop) {
		for (long i = SPAN_PAIRS + 1; i < NPAIRS && !stop; i += 8) {
			uint64_t next = seed_of[i] + (1ULL << 40);

			if (kind[i] != WRITTEN)
				continue;
			fill_page(pair_at(i), next);
			fill_page(pair_at(i) + page_size, next);
			seed_of[i] = next;	/* only this thread writes these */
		}
	}
	return NULL;
}

/*
 * fork()s whose children check 512 of the pairs nobody writes or unmaps,
 * then exit. A kpage a child maps is not moved (samepage does not know
 * that mapper), so the children are short-lived and come every 20 ms:
 * moves and forks interleave.
 */
static void *forker(void *arg)
{
	uint64_t r = 11;

	(void)arg;
	while (!stop) {
		pid_t pid;
		int status;

		r = r * 6364136223846793005ULL + 1442695040888963407ULL;
		pid = fork();
		if (!pid) {
			for (long n = 0, i = SPAN_PAIRS + (long)(r >> 33) % (NPAIRS - SPAN_PAIRS);
			     n < 512; n++, i = i + 1 < NPAIRS ? i + 1 : SPAN_PAIRS)
				if (kind[i] == KEPT && !pair_ok(i))
					_exit(1);
			_exit(0);
		}
		if (pid < 0 || waitpid(pid, &status, 0) != pid ||
		    !WIFEXITED(status) || WEXITSTATUS(status))
			fork_bad++;
		forks++;
		usleep(20000);
	}
	return NULL;
}

/* munmap() of pairs i % 8 == 2, one every few ms; mremap() of the stretch. */
static void *mapper(void *arg)
{
	long next = SPAN_PAIRS + 2;
	char *away;

	(void)arg;
	away = mmap(NULL, STRETCH, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (away == MAP_FAILED)
		return (void *)1;
	while (!stop) {
		if (mremap(mem, STRETCH, STRETCH, MREMAP_MAYMOVE | MREMAP_FIXED, away) == MAP_FAILED ||
		    mremap(away, STRETCH, STRETCH, MREMAP_MAYMOVE | MREMAP_FIXED, mem) == MAP_FAILED)
			return (void *)1;
		for (; next < NPAIRS && kind[next] != UNMAPPED; next += 8)
			;
		if (next < NPAIRS) {
			munmap(pair_at(next), 2 * page_size);
			next += 8;
		}
		usleep(2000);
	}
	return NULL;
}

int main(void)
{
	pthread_t t[3];
	long moved, sharing, bad = 0, gone = 0;
	void *ret;
	int mapper_err = 0;
	uint64_t rng = 7;

	sp_test_init(4);
	sp_reset();
	/* 2 MiB aligned, so that the stretch is whole PMDs */
	mem = mmap(NULL, 2 * NPAIRS * page_size + STRETCH, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		tap_bail("mmap: %s", strerror(errno));
	mem = (char *)(((uintptr_t)mem + STRETCH - 1) & ~(uintptr_t)(STRETCH - 1));
	madvise(mem, 2 * NPAIRS * page_size, MADV_NOHUGEPAGE);
	for (long i = 0; i < NPAIRS; i++) {
		seed_of[i] = 9000 + i;
		fill_page(pair_at(i), seed_of[i]);
		fill_page(pair_at(i) + page_size, seed_of[i]);
	}
	if (sp_range(1, 0, mem, 2 * NPAIRS * page_size))
		tap_bail("REGISTER: %s", strerror(errno));
	must_set(SP_TREE, "run", "1");
	if (wait_knob(SP_TREE, "pages_sharing", NPAIRS))
		tap_bail("pages_sharing %ld, not %d", knob("pages_sharing"), NPAIRS);
	must_set(SP_TREE, "run", "0");

	/* a random half goes: the arenas are left half empty */
	for (long i = 0; i < NPAIRS; i++) {
		rng ^= rng << 13;
		rng ^= rng >> 7;
		rng ^= rng << 17;
		kind[i] = i % 8 == 1 ? WRITTEN : i % 8 == 2 ? UNMAPPED : KEPT;
		if (in_stretch(i) || kind[i] != KEPT || rng % 2)
			continue;
		pair_at(i)[0] ^= 1;
		pair_at(i)[page_size] ^= 1;
		madvise(pair_at(i), 2 * page_size, MADV_DONTNEED);
		kind[i] = DROPPED;
	}

	moved = knob("kpages_moved");
	pthread_create(&t[0], NULL, writer, NULL);
	pthread_create(&t[1], NULL, forker, NULL);
	pthread_create(&t[2], NULL, mapper, NULL);
	must_set(SP_TREE, "run", "1");
	if (wait_scans(SP_TREE, 6))
		tap_bail("no 6 full scans");
	stop = 1;
	for (int i = 0; i < 3; i++) {
		pthread_join(t[i], &ret);
		mapper_err |= ret != NULL;
	}
	must_set(SP_TREE, "run", "0");
	moves_seen = knob("kpages_moved") - moved;

	for (long i = 0; i < NPAIRS; i++) {
		if (kind[i] == DROPPED)
			continue;
		if (kind[i] == UNMAPPED) {
			unsigned char v;

			/* unmapped by the mapper thread, or still there and exact */
			if (mincore(pair_at(i), page_size, &v) && errno == ENOMEM) {
				gone++;
				continue;
			}
		}
		bad += !pair_ok(i);
	}
	tap_ok(moves_seen > 0, "kpages moved while the threads ran: %ld", moves_seen);
	tap_ok(!bad && !mapper_err, "every page still mapped is exact: %ld wrong of %d pairs (%ld unmapped meanwhile), mremap %s",
	       bad, NPAIRS, gone, mapper_err ? "failed" : "ok");
	tap_ok(forks > 0 && !fork_bad, "%ld forked children saw every untouched merged page exact (%ld did not)",
	       forks, fork_bad);
	run_passes(SP_TREE, 2);
	sharing = knob("pages_sharing");
	must_set(SP_TREE, "run", "2");
	tap_ok(knob("pages_sharing") == 0 && knob("kernel_pages_allocated") == 0,
	       "run=2 after the moves: pages_sharing %ld -> %ld, kernel_pages_allocated %ld",
	       sharing, knob("pages_sharing"), knob("kernel_pages_allocated"));
	sp_close_dev();
	sp_restore();
	return tap_done();
}
