// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel memory per scanned page. One process maps 512 MiB of distinct
 * pages (nothing can merge) and three full passes scan it, under in-tree
 * KSM (MADV_MERGEABLE) and then under samepage (registered), in the same
 * VM. The growth of the kernel's slab (the xarray's nodes are reclaimable
 * slab) and vmalloc memory (every cache shrunk before each reading),
 * divided by the pages scanned,
 * is what a scanned page costs: in-tree's struct ksm_rmap_item, samepage's
 * rmap_item with its index and table buckets. Asserted:
 *  - every page is scanned: rmap_items is the page count;
 *  - samepage's figure is at most in-tree's (the goal, 48 bytes, is printed
 *    beside it: Documentation/benchmarks.md says what stands between);
 *  - rmap_item_bytes, which general_profit and ksm_process_profit charge
 *    per item, is within 10% of the measured figure (a skip where the slab
 *    adds debug data to every object: the sanitizer kernel), and the two profits
 *    are exactly -rmap_items * rmap_item_bytes (nothing is merged).
 */
#include <dirent.h>
#include "sp.h"

#define NPAGES		131072		/* 512 MiB of 4 KiB pages */

static char *buf;

static void setup(void *arg)
{
	const char *tree = arg;

	buf = map_pages(NPAGES);
	madvise(buf, (size_t)NPAGES * page_size, MADV_NOHUGEPAGE);
	for (long i = 0; i < NPAGES; i++)
		fill_page(buf + i * page_size, 5000000 + i);
	if (!strcmp(tree, KSM_TREE) ?
	    madvise(buf, (size_t)NPAGES * page_size, MADV_MERGEABLE) :
	    sp_range(1, 0, buf, (size_t)NPAGES * page_size))
		_exit(1);
}

/* 'v': every page still holds its content */
static int step(int cmd, void *arg)
{
	char ref[65536];

	(void)cmd;
	(void)arg;
	for (long i = 0; i < NPAGES; i++) {
		fill_page(ref, 5000000 + i);
		if (memcmp(ref, buf + i * page_size, page_size))
			return 0;
	}
	return 1;
}

/* Slab + vmalloc, in bytes, with every slab cache shrunk. */
static long kernel_bytes(void)
{
	struct dirent *de;
	DIR *d = opendir("/sys/kernel/slab");

	set_knob_in("", "/proc/sys/vm/drop_caches", "2");	/* dentries and inodes */
	if (!d)
		tap_bail("/sys/kernel/slab: %s", strerror(errno));
	while ((de = readdir(d))) {
		int fd, dir;

		if (de->d_name[0] == '.')
			continue;
		/* a cache's directory, or a link to a merged one */
		fd = openat(dirfd(d), de->d_name, O_DIRECTORY | O_RDONLY);
		if (fd < 0)
			continue;
		dir = fd;
		fd = openat(dir, "shrink", O_WRONLY);
		if (fd >= 0 && write(fd, "1", 1) != 1)
			tap_diag("%s: shrink failed", de->d_name);
		if (fd >= 0)
			close(fd);
		close(dir);
	}
	closedir(d);
	return (meminfo_kb("SUnreclaim") + meminfo_kb("SReclaimable") +
		meminfo_kb("VmallocUsed")) * 1024;
}

/* Bytes per scanned page under @tree (the scanner stopped after). */
static double per_page(const char *tree, struct child *c)
{
	long before, after;

	use_tree(tree);
	*c = spawn(setup, step, (void *)tree);
	before = kernel_bytes();
	run_passes(tree, 3);
	after = kernel_bytes();
	return (double)(after - before) / NPAGES;
}

int main(void)
{
	struct samepage_proc_stat ps = { .size = sizeof(ps) };
	struct samepage_stats st = { .size = sizeof(st) };
	double ksm, sp;
	long items, bytes, gp, slab, obj;
	struct child c;

	sp_test_init(6);
	ksm = per_page(KSM_TREE, &c);
	tap_ok(ask(&c, 'v') == 1, "in-tree: every page intact after 3 passes");
	reap_child(&c);
	restore_ksm();

	sp = per_page(SP_TREE, &c);
	if (ioctl(sp_dev(), SAMEPAGE_IOC_STATS, &st))
		tap_bail("STATS: %s", strerror(errno));
	items = (long)st.rmap_items;
	bytes = knob("rmap_item_bytes");
	gp = knob("general_profit");
	ps.pid = c.pid;
	if (ioctl(sp_dev(), SAMEPAGE_IOC_PROC_STAT, &ps))
		tap_bail("PROC_STAT: %s", strerror(errno));
	tap_diag("kernel memory per scanned page: in-tree %.1f, samepage %.1f bytes "
		 "(rmap_item_bytes %ld; goal 48, stretch 32)", ksm, sp, bytes);
	tap_ok(items == NPAGES, "samepage: rmap_items %ld (want %d)", items, NPAGES);
	tap_ok(sp <= ksm, "samepage's %.1f bytes per page <= in-tree's %.1f", sp, ksm);
	slab = knob_in("/sys/kernel/slab/samepage_rmap_item/", "slab_size");
	obj = knob_in("/sys/kernel/slab/samepage_rmap_item/", "object_size");
	if (slab > obj)		/* red zones, tracking: the sanitizer kernel */
		tap_skip("the slab adds debug data to each object", "rmap_item_bytes %ld "
			 "counts the %ld-byte object, the slab spends %ld (measured %.1f)",
			 bytes, obj, slab, sp);
	else
		tap_ok(bytes > 0 && bytes == st.rmap_item_bytes && bytes >= sp * 0.9 &&
		       bytes <= sp * 1.1,
		       "rmap_item_bytes %ld (STATS: %u) is within 10%% of the measured %.1f",
		       bytes, st.rmap_item_bytes, sp);
	tap_ok(gp == -items * bytes && st.general_profit == gp && ps.rmap_items == NPAGES &&
	       ps.process_profit == -(long long)ps.rmap_items * bytes,
	       "general_profit %ld and ksm_process_profit %lld charge rmap_item_bytes per item",
	       gp, (long long)ps.process_profit);
	tap_ok(ask(&c, 'v') == 1, "samepage: every page intact after 3 passes");
	reap_child(&c);
	sp_restore();
	return tap_done();
}
