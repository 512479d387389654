// SPDX-License-Identifier: GPL-2.0
/*
 * What must not merge, and caps:
 *  - a page pinned by someone else (here: vmsplice()d into a pipe, which
 *    holds a reference) is never replaced; once the pipe is drained, it is;
 *  - max_kernel_pages caps kernel_pages_allocated exactly;
 *  - ksm_zero_pages returns to 0 when a process with zero pages exits;
 *  - general_profit = (pages_sharing + ksm_zero_pages) * PAGE_SIZE -
 *    rmap_items * rmap_item_bytes, with rmap_items the sum of shared,
 *    sharing, unshared and volatile: the item size it implies is
 *    rmap_item_bytes in two different states.
 */
#include <fcntl.h>
#include <sys/uio.h>
#include "sp.h"


/*
 * Two equal pages, page @which of them pinned by a pipe. The pinned page
 * merges with nothing while the pin holds, and its twin is not left alone
 * on a kpage either (pages_shared 0, as in-tree, which breaks the first
 * page's merge when the second fails): whether the pinned page is the
 * unstable-table candidate (@which 0, the lower address, visited first) or
 * the page visited second (1).
 */
static void pinned(int which)
{
	char *buf = map_pages(2);
	char *pin = buf + which * page_size;
	struct iovec iov;
	int p[2];
	ssize_t n;

	sp_reset();
	fill_page(buf, 77);
	fill_page(buf + page_size, 77);
	if (pipe(p))
		tap_bail("pipe");
	fcntl(p[1], F_SETPIPE_SZ, 4 * page_size);
	iov.iov_base = pin;
	iov.iov_len = page_size;
	n = vmsplice(p[1], &iov, 1, 0);	/* the pipe now holds the page */
	if (n != page_size)
		tap_bail("vmsplice: %zd", n);
	sp_range(1, 0, buf, 2 * page_size);
	run_passes(SP_TREE, 3);
	tap_ok(knob("pages_shared") == 0 && knob("pages_sharing") == 0 &&
	       knob("kernel_pages_allocated") == 0 && pfn_of(0, buf) != pfn_of(0, buf + page_size),
	       "page %d pinned: neither page is merged (pages_shared=%ld, pages_sharing=%ld, kpages %ld)",
	       which, knob("pages_shared"), knob("pages_sharing"), knob("kernel_pages_allocated"));
	{
		static char sink[65536];

		n = read(p[0], sink, page_size);
	}
	run_passes(SP_TREE, 2);
	tap_ok(n == page_size && knob("pages_shared") == 1 && knob("pages_sharing") == 1 &&
	       pfn_of(0, buf) == pfn_of(0, buf + page_size),
	       "page %d pinned: once the pin is gone, they merge", which);
	close(p[0]);
	close(p[1]);
	sp_range(0, 0, buf, 2 * page_size);
	munmap(buf, 2 * page_size);
}

static long profit_item_size(void)
{
	long items = knob("pages_shared") + knob("pages_sharing") +
		     knob("pages_unshared") + knob("pages_volatile");
	long gain = (knob("pages_sharing") + knob("ksm_zero_pages")) * page_size;

	if (!items || (gain - knob("general_profit")) % items)
		return -1;
	return (gain - knob("general_profit")) / items;
}

static void cap_and_profit(void)
{
	char *buf = map_pages(20);
	long size1, size2;

	sp_reset();
	must_set(SP_TREE, "max_kernel_pages", "3");
	for (int i = 0; i < 20; i++)
		fill_page(buf + i * page_size, i / 2);	/* 10 pairs */
	sp_range(1, 0, buf, 20 * page_size);
	run_passes(SP_TREE, 3);
	tap_ok(knob("kernel_pages_allocated") == 3 && knob("pages_shared") == 3 &&
	       knob("pages_sharing") == 3,
	       "max_kernel_pages=3: kernel_pages_allocated=%ld pages_shared=%ld",
	       knob("kernel_pages_allocated"), knob("pages_shared"));
	size1 = profit_item_size();
	must_set(SP_TREE, "max_kernel_pages", "0");
	run_passes(SP_TREE, 2);
	tap_ok(knob("kernel_pages_allocated") == 10 && knob("pages_sharing") == 10,
	       "max_kernel_pages=0 lifts the cap: %ld kpages", knob("kernel_pages_allocated"));
	size2 = profit_item_size();
	tap_ok(size1 > 0 && size1 == size2 && size2 == knob("rmap_item_bytes"),
	       "general_profit is consistent: item size %ld and %ld bytes (rmap_item_bytes %ld)",
	       size1, size2, knob("rmap_item_bytes"));
	sp_range(0, 0, buf, 20 * page_size);
	munmap(buf, 20 * page_size);
}

/* A child with 64 registered zero-filled pages. */
static void zero_child(void *arg)
{
	char *buf = map_pages(64);

	(void)arg;
	memset(buf, 0, 64 * page_size);
	if (sp_range(1, 0, buf, 64 * page_size))
		_exit(1);
}

static void zero_exit(void)
{
	struct child child;

	sp_reset();
	must_set(SP_TREE, "use_zero_pages", "1");
	child = spawn(zero_child, sp_nop_step, NULL);
	run_passes(SP_TREE, 2);
	tap_ok(knob("ksm_zero_pages") == 64, "a process has 64 zero pages (%ld)",
	       knob("ksm_zero_pages"));
	reap_child(&child);
	tap_ok(wait_knob(SP_TREE, "ksm_zero_pages", 0) == 0,
	       "after it exits, ksm_zero_pages=0");
	must_set(SP_TREE, "use_zero_pages", "0");
}

int main(void)
{
	sp_test_init(9);
	pinned(1);
	pinned(0);
	cap_and_profit();
	zero_exit();
	sp_restore();
	set_knob("max_kernel_pages", "0");
	return tap_done();
}
