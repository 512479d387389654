// SPDX-License-Identifier: GPL-2.0
/*
 * Exact merge counts (in-tree KSM meanings) and pagemap proof:
 *  - two unrelated processes, 1000 pages each, filled after the fork: 500
 *    contents in both, 500 unique to each: after two full scans
 *    pages_shared=500, pages_sharing=500, pages_unshared=1000;
 *  - one process with 10 identical pages: 1 shared, 9 sharing;
 *  - a write to a merged page copies it, the others keep their content;
 *  - pages rewritten faster than a pass never merge: pages_volatile;
 *  - merge_first_sight: new pages merge at the first pass that sees them
 *    (1, the default), or at the second, as in-tree (0).
 */
#include "sp.h"

#define NPAGES 1000
#define COMMON 500

/* where each child put its buffer, for the parent's pagemap reads */
static char **child_buf;

static void setup_pair(void *arg)
{
	int idx = (int)(intptr_t)arg;
	char *buf = map_pages(NPAGES);

	for (int i = 0; i < NPAGES; i++)
		fill_page(buf + i * page_size, i < COMMON ? i : (idx + 1) * 100000 + i);
	if (sp_range(1, 0, buf, NPAGES * page_size))
		_exit(1);
	child_buf[idx] = buf;
}

static int step_verify(int cmd, void *arg)
{
	int idx = (int)(intptr_t)arg;
	char *buf = child_buf[idx], ref[65536];

	(void)cmd;
	for (int i = 0; i < NPAGES; i++) {
		fill_page(ref, i < COMMON ? i : (idx + 1) * 100000 + i);
		if (memcmp(ref, buf + i * page_size, page_size))
			return 0;
	}
	return 1;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void two_processes(void)
{
	static uint64_t pfn[2][NPAGES], all[2 * NPAGES];
	struct child c[2];
	int pairs = 1, distinct = 1, n = 0;

	sp_reset();
	for (int k = 0; k < 2; k++)
		c[k] = spawn(setup_pair, step_verify, (void *)(intptr_t)k);
	run_passes(SP_TREE, 2);

	tap_ok(knob("pages_shared") == COMMON && knob("pages_sharing") == COMMON,
	       "two processes: pages_shared=%ld pages_sharing=%ld (want %d, %d)",
	       knob("pages_shared"), knob("pages_sharing"), COMMON, COMMON);
	tap_ok(knob("pages_unshared") == 2 * (NPAGES - COMMON) &&
	       knob("pages_volatile") == 0,
	       "two processes: pages_unshared=%ld (want %d), pages_volatile=%ld (want 0)",
	       knob("pages_unshared"), 2 * (NPAGES - COMMON), knob("pages_volatile"));
	tap_ok(knob("kernel_pages_allocated") == COMMON,
	       "kernel_pages_allocated=%ld (want %d)", knob("kernel_pages_allocated"),
	       COMMON);

	for (int k = 0; k < 2; k++)
		for (int i = 0; i < NPAGES; i++)
			pfn[k][i] = pfn_of(c[k].pid, child_buf[k] + i * page_size);
	for (int i = 0; i < COMMON; i++)
		pairs &= pfn[0][i] && pfn[0][i] == pfn[1][i];
	for (int i = 0; i < NPAGES; i++) {
		all[n++] = pfn[0][i];
		if (i >= COMMON)
			all[n++] = pfn[1][i];
	}
	qsort(all, n, sizeof(all[0]), cmp_u64);
	for (int i = 1; i < n; i++)
		distinct &= all[i] && all[i] != all[i - 1];
	tap_ok(pairs, "pagemap: each common content has one PFN in both processes");
	tap_ok(distinct, "pagemap: %d distinct PFNs elsewhere", n);
	tap_ok(ask(&c[0], 1) == 1 && ask(&c[1], 1) == 1,
	       "both processes read back every page bit-exact");
	for (int k = 0; k < 2; k++)
		reap_child(&c[k]);
	tap_ok(wait_knob(SP_TREE, "kernel_pages_allocated", 0) == 0,
	       "after both exit, kernel_pages_allocated returns to 0");
}

static void ten_identical(void)
{
	char *buf = map_pages(10);
	int same = 1, intact = 1;

	sp_reset();
	for (int i = 0; i < 10; i++)
		fill_page(buf + i * page_size, 7);
	sp_range(1, 0, buf, 10 * page_size);
	run_passes(SP_TREE, 2);
	tap_ok(knob("pages_shared") == 1 && knob("pages_sharing") == 9,
	       "10 identical pages: pages_shared=%ld pages_sharing=%ld (want 1, 9)",
	       knob("pages_shared"), knob("pages_sharing"));
	for (int i = 1; i < 10; i++)
		same &= pfn_of(0, buf + i * page_size) == pfn_of(0, buf);
	tap_ok(same, "pagemap: the 10 pages share one PFN");

	buf[3 * page_size + 5] = 42;
	for (int i = 0; i < 10; i++) {
		char ref[65536];

		fill_page(ref, 7);
		if (i == 3)
			ref[5] = 42;
		intact &= !memcmp(ref, buf + i * page_size, page_size);
	}
	tap_ok(intact && pfn_of(0, buf + 3 * page_size) != pfn_of(0, buf),
	       "a write copies: the writer sees its byte, the 9 others keep theirs");
	tap_ok(sp_range(0, 0, buf, 10 * page_size) == 0 &&
	       knob("kernel_pages_allocated") == 0 && knob("pages_shared") == 0,
	       "UNREGISTER of the range unmerges it and frees the kpage");
	munmap(buf, 10 * page_size);
}

#define VOLATILE 16

static void volatile_pages(void)
{
	int ready[2];
	pid_t pid;
	char b;

	sp_reset();
	must_set(SP_TREE, "pages_to_scan", "100");
	must_set(SP_TREE, "sleep_millisecs", "100");
	if (pipe(ready))
		tap_bail("pipe");
	pid = fork();
	if (!pid) {
		char *buf = map_pages(2 * VOLATILE);

		for (int i = 0; i < 2 * VOLATILE; i++)
			fill_page(buf + i * page_size, 1000 + i);
		if (sp_range(1, 0, buf, 2 * VOLATILE * page_size) ||
		    write(ready[1], "x", 1) != 1)
			_exit(1);
		for (uint64_t n = 0;; n++) {	/* every page, every millisecond */
			for (int i = 0; i < VOLATILE; i++)
				((volatile uint64_t *)(buf + i * page_size))[0] = n;
			usleep(1000);
		}
	}
	if (read(ready[0], &b, 1) != 1)
		tap_bail("volatile child did not start");
	run_passes(SP_TREE, 4);
	tap_ok(knob("pages_volatile") == VOLATILE && knob("pages_unshared") == VOLATILE &&
	       knob("pages_shared") == 0,
	       "rewritten pages: pages_volatile=%ld (want %d), pages_unshared=%ld (want %d), none merged",
	       knob("pages_volatile"), VOLATILE, knob("pages_unshared"), VOLATILE);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/*
 * One pass, then the scanner stopped before the next one can start: with
 * pages_to_scan covering everything and a 3 s sleep after the batch that
 * ends the pass, the 100 ms poll of wait_scans() stops it in time.
 */
static void one_pass(void)
{
	must_set(SP_TREE, "sleep_millisecs", "3000");
	run_passes(SP_TREE, 1);
	must_set(SP_TREE, "sleep_millisecs", "0");
}

static void first_sight(void)
{
	char *buf = map_pages(10);

	for (int i = 0; i < 10; i++)
		fill_page(buf + i * page_size, 11);
	sp_reset();
	tap_ok(knob("merge_first_sight") == 1, "merge_first_sight defaults to 1");
	sp_range(1, 0, buf, 10 * page_size);
	one_pass();
	tap_ok(knob("pages_shared") == 1 && knob("pages_sharing") == 9 &&
	       knob("pages_volatile") == 0,
	       "merge_first_sight=1: 10 new equal pages merge in the first pass: shared %ld, sharing %ld, volatile %ld (want 1, 9, 0)",
	       knob("pages_shared"), knob("pages_sharing"), knob("pages_volatile"));

	sp_range(0, 0, buf, 10 * page_size);
	sp_reset();
	must_set(SP_TREE, "merge_first_sight", "0");
	sp_range(1, 0, buf, 10 * page_size);
	one_pass();
	tap_ok(knob("pages_shared") == 0 && knob("pages_volatile") == 10,
	       "merge_first_sight=0: none merged after one pass, all 10 volatile (got shared %ld, volatile %ld)",
	       knob("pages_shared"), knob("pages_volatile"));
	one_pass();
	tap_ok(knob("pages_shared") == 1 && knob("pages_sharing") == 9,
	       "merge_first_sight=0: merged in the second pass, as in-tree: shared %ld, sharing %ld (want 1, 9)",
	       knob("pages_shared"), knob("pages_sharing"));
	must_set(SP_TREE, "merge_first_sight", "1");
	tap_ok(set_knob_in(SP_TREE, "merge_first_sight", "2") == -EINVAL,
	       "merge_first_sight=2 is refused with EINVAL");
	sp_range(0, 0, buf, 10 * page_size);
	munmap(buf, 10 * page_size);
}

int main(void)
{
	sp_test_init(17);
	child_buf = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	two_processes();
	ten_identical();
	volatile_pages();
	first_sight();
	sp_restore();
	return tap_done();
}
