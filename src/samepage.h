/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The knobs of /sys/kernel/mm/samepage (struct samepage_knobs and their
 * values) and the entry points of the user-facing parts (advisor, sysfs,
 * char device); the engine's own are in engine.h.
 */
#ifndef SAMEPAGE_H
#define SAMEPAGE_H

#include <linux/types.h>
#include <linux/mutex.h>

/* Values of the run knob, as in /sys/kernel/mm/ksm/run. */
#define SP_RUN_STOP	0
#define SP_RUN_MERGE	1
#define SP_RUN_UNMERGE	2

/* Values of advisor_mode ("[none] scan-time"), and in-tree's defaults. */
#define SP_ADVISOR_NONE		0
#define SP_ADVISOR_SCAN_TIME	1
#define SP_DEFAULT_PAGES_TO_SCAN	100
#define SP_DEFAULT_THP_MIN		64

/* Values of merge_scope: which pages may merge with which. */
#define SP_SCOPE_ALL	0	/* any two pages (in-tree KSM's meaning) */
#define SP_SCOPE_UID	1	/* pages of processes of one effective uid */
#define SP_SCOPE_MEMCG	2	/* pages of processes of one memory cgroup */

/**
 * struct samepage_knobs - tunables of /sys/kernel/mm/samepage
 * @run: SP_RUN_*; written under @lock
 * @pages_to_scan: pages per scan batch (in-tree default 100)
 * @sleep_millisecs: sleep between batches (in-tree default 20)
 * @use_zero_pages: map all-zero pages to the shared zero page (default 0)
 * @max_page_sharing: most sharers of one kpage (in-tree default 256)
 * @merge_across_nodes: merge pages of different NUMA nodes (default 1)
 * @stable_node_chains_prune_millisecs: period of the kpage prune (2000)
 * @max_kernel_pages: cap on kernel_pages_allocated, 0 = none (default: a
 *	quarter of RAM, set at load)
 * @smart_scan: skip pages that keep failing to merge (default 1)
 * @follow_madvise: merge VM_MERGEABLE areas (MADV_MERGEABLE, prctl) while
 *	in-tree KSM is not running (default 1)
 * @advisor_mode: SP_ADVISOR_*; changed through sp_advisor_set_mode()
 * @merge_scope: SP_SCOPE_*, only changed while no kpage exists (default all)
 * @advisor_max_cpu: CPU budget of the advisor, percent (default 70)
 * @advisor_min_pages_to_scan: lower bound it keeps to (default 500)
 * @advisor_max_pages_to_scan: upper bound (default 30000)
 * @advisor_target_scan_time: seconds a full pass should take (default 200)
 * @thp_min_mergeable: subpages of a PMD-mapped THP that must have a partner
 *	before it is split to merge them (1 = in-tree; default SP_DEFAULT_THP_MIN)
 * @cow_cooldown_passes: a page written to within this many passes of its
 *	merge waits as many visits before it merges again (default 0, as
 *	in-tree: no wait)
 * @merge_first_sight: a page seen for the first time merges at once when a
 *	partner is found, instead of waiting a pass for its hash to hold
 *	(default 1; 0 = in-tree's two-pass rule)
 * @proc_ksm_stat: add samepage's counts to the kernel's per-mm KSM fields
 *	(/proc/PID/ksm_stat, ksm_merging_pages) of processes registered from
 *	then on (default 1)
 * @lock: serialises run changes against each other (ksm_thread_mutex)
 *
 * Readers outside @lock use READ_ONCE(); every field has the in-tree default.
 */
struct samepage_knobs {
	unsigned int run;
	unsigned int pages_to_scan;
	unsigned int sleep_millisecs;
	unsigned int use_zero_pages;
	int max_page_sharing;
	unsigned int merge_across_nodes;
	unsigned int stable_node_chains_prune_millisecs;
	unsigned long max_kernel_pages;
	unsigned int smart_scan;
	unsigned int follow_madvise;
	unsigned int advisor_mode;
	unsigned int merge_scope;
	unsigned int advisor_max_cpu;
	unsigned long advisor_min_pages_to_scan;
	unsigned long advisor_max_pages_to_scan;
	unsigned long advisor_target_scan_time;
	unsigned int thp_min_mergeable;
	unsigned int proc_ksm_stat;
	unsigned int cow_cooldown_passes;
	unsigned int merge_first_sight;
	struct mutex lock;
};

extern struct samepage_knobs samepage_knobs;

void sp_advisor_set_mode(unsigned int mode);

int samepage_sysfs_init(void);
void samepage_sysfs_exit(void);

int samepage_chardev_init(void);
void samepage_chardev_exit(void);

#endif /* SAMEPAGE_H */
