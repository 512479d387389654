/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * samepage - Kernel Samepage Merging as a loadable module: ioctl ABI of
 * /dev/samepage, shared by the module and by samepagectl.
 *
 * Rules of this ABI (see Documentation/abi.md):
 *  - every argument struct starts with a __u32 @size that the caller sets to
 *    sizeof() of the struct it was compiled against;
 *  - the kernel accepts any size from the first published layout of that
 *    struct up to one page; bytes the kernel does not know must be zero
 *    (else E2BIG), bytes the caller did not pass read as zero; on output the
 *    kernel writes back at most @size bytes;
 *  - the command number is matched on type and number only: _IOC_SIZE of the
 *    command is not checked, the @size field is;
 *  - fields are explicitly sized and naturally aligned, with explicit padding
 *    that must be zero; no kernel-only types.
 */
#ifndef _UAPI_LINUX_SAMEPAGE_H
#define _UAPI_LINUX_SAMEPAGE_H

#include <linux/types.h>
#include <linux/ioctl.h>

/* Bumped on every incompatible change; additions keep the number. */
#define SAMEPAGE_ABI_VERSION	1

#define SAMEPAGE_DEVICE		"/dev/samepage"
#define SAMEPAGE_SYSFS_DIR	"/sys/kernel/mm/samepage"

/* ioctl type byte; not listed in Documentation/userspace-api/ioctl */
#define SAMEPAGE_IOC_MAGIC	0xB5

/**
 * struct samepage_version - answer of SAMEPAGE_IOC_VERSION
 * @size:	in: sizeof(struct samepage_version)
 * @abi_version: out: SAMEPAGE_ABI_VERSION of the loaded module
 * @major:	out: module version, major
 * @minor:	out: module version, minor
 * @patch:	out: module version, patch
 * @features:	out: 0 (no optional feature bits are defined yet; the
 *		hooks a load has are listed in /sys/kernel/mm/samepage/hooks)
 */
struct samepage_version {
	__u32 size;
	__u32 abi_version;
	__u32 major;
	__u32 minor;
	__u32 patch;
	__u32 features;
};

#define SAMEPAGE_VERSION_SIZE_VER0	24	/* first published layout */

#define SAMEPAGE_IOC_VERSION	_IOWR(SAMEPAGE_IOC_MAGIC, 0x00, struct samepage_version)

/**
 * struct samepage_register - argument of SAMEPAGE_IOC_REGISTER/UNREGISTER
 * @size:	sizeof(struct samepage_register)
 * @flags:	0 for the whole process, or SAMEPAGE_REGISTER_RANGE; other
 *		bits are reserved (EINVAL)
 * @pid:	process (thread group) id, 0 for the caller
 * @pad:	must be 0
 * @start:	with SAMEPAGE_REGISTER_RANGE: page-aligned start address
 * @len:	with SAMEPAGE_REGISTER_RANGE: page-aligned length, not 0;
 *		without it both must be 0
 *
 * A whole-process registration is inherited by forked children and across
 * exec, like PR_SET_MEMORY_MERGE; a range registration is not. Unregistering
 * a range trims or splits registered ranges it overlaps; unregistering
 * unmerges first, synchronously.
 */
struct samepage_register {
	__u32 size;
	__u32 flags;
	__s32 pid;
	__u32 pad;
	__u64 start;
	__u64 len;
};

#define SAMEPAGE_REGISTER_RANGE		(1U << 0)
#define SAMEPAGE_REGISTER_SIZE_VER0	32

#define SAMEPAGE_IOC_REGISTER	_IOW(SAMEPAGE_IOC_MAGIC, 0x01, struct samepage_register)
#define SAMEPAGE_IOC_UNREGISTER	_IOW(SAMEPAGE_IOC_MAGIC, 0x02, struct samepage_register)

/*
 * Why pages are (not) merged: every address of a registered range gets one
 * outcome per pass. Per process, the counts of its last completed pass;
 * globally, their sum over the tracked processes.
 */
enum samepage_why {
	SAMEPAGE_WHY_MERGED = 0,	/* maps a kpage or a samepage zero page */
	SAMEPAGE_WHY_VOLATILE,		/* content changed since the last pass (or first seen) */
	SAMEPAGE_WHY_SMART_SCAN,	/* skipped by smart_scan this pass */
	SAMEPAGE_WHY_UNIQUE,		/* no other page has its content */
	SAMEPAGE_WHY_THP,		/* has a twin, but one of the two huge pages has too few (thp_min_mergeable) */
	SAMEPAGE_WHY_PINNED,		/* pinned by someone else (GUP, O_DIRECT, vmsplice) */
	SAMEPAGE_WHY_VMA_SHARED,	/* in a shared mapping */
	SAMEPAGE_WHY_VMA_LOCKED,	/* unused: mlock()ed memory merges (kept for the ABI) */
	SAMEPAGE_WHY_VMA_HUGETLB,	/* in a hugetlbfs mapping */
	SAMEPAGE_WHY_VMA_IO,		/* in a PFN/IO/mixed mapping (device memory) */
	SAMEPAGE_WHY_VMA_OTHER,		/* other ineligible mapping (dontexpand, uffd-wp, dax, droppable) */
	SAMEPAGE_WHY_NOT_PRESENT,	/* not in memory: never touched, or swapped out */
	SAMEPAGE_WHY_MAX_KERNEL_PAGES,	/* max_kernel_pages reached */
	SAMEPAGE_WHY_RACE,		/* changed or locked while samepage tried */
	SAMEPAGE_WHY_MEMCG_LIMIT,	/* the new kpage could not be charged to the memcg */
	SAMEPAGE_WHY_NR,
};

#define SAMEPAGE_WHY_SLOTS	32	/* room in the ABI for more reasons */

/**
 * struct samepage_merge_range - argument of SAMEPAGE_IOC_MERGE_RANGE
 * @size:	sizeof(struct samepage_merge_range)
 * @flags:	0
 * @pid:	process, 0 for the caller
 * @pad:	must be 0
 * @start:	page-aligned start address
 * @len:	page-aligned, non-zero length
 * @merged:	out: pages saved by this call (a run of n identical pages
 *		saves n - 1; an all-zero page with use_zero_pages saves 1)
 *
 * Merges the range now, synchronously, without waiting for its content to
 * hold still for a pass. The range is registered if it was not, so that
 * samepaged keeps it merged and UNREGISTER gives it back.
 */
struct samepage_merge_range {
	__u32 size;
	__u32 flags;
	__s32 pid;
	__u32 pad;
	__u64 start;
	__u64 len;
	__u64 merged;
};

#define SAMEPAGE_MERGE_RANGE_SIZE_VER0	40

/**
 * struct samepage_proc_stat - answer of SAMEPAGE_IOC_PROC_STAT
 * @size:	sizeof(struct samepage_proc_stat)
 * @pid:	in: process, 0 for the caller
 * @rmap_items:	out, as /proc/PID/ksm_stat ksm_rmap_items
 * @zero_pages:	out, ... ksm_zero_pages
 * @merging_pages: out, ... ksm_merging_pages
 * @process_profit: out, ... ksm_process_profit
 * @merge_any:	out, ... ksm_merge_any: 1 if registered as a whole process
 * @mergeable:	out, ... ksm_mergeable: 1 if registered at all
 * @ranges:	out: registered ranges (0 for a whole process)
 * @full_scans:	out: passes completed over this process
 * @why:	out: per enum samepage_why, this process's last full pass
 */
struct samepage_proc_stat {
	__u32 size;
	__s32 pid;
	__u64 rmap_items;
	__u64 zero_pages;
	__u64 merging_pages;
	__s64 process_profit;
	__u32 merge_any;
	__u32 mergeable;
	__u64 ranges;
	__u64 full_scans;
	__u64 why[SAMEPAGE_WHY_SLOTS];
};

#define SAMEPAGE_PROC_STAT_SIZE_VER0	320

/**
 * struct samepage_stats - answer of SAMEPAGE_IOC_STATS: every global
 * counter and knob, read at one instant (under samepage's engine lock).
 * @pass_visited and @last_pass_visited (pages looked at in the pass under
 * way and in the last complete one) tell how far the current pass is.
 * @thp_split: huge pages split to merge their subpages
 * @thp_min_mergeable: the knob of that name
 * @rmap_item_bytes: kernel memory per rmap_item, all included, as
 *	@general_profit counts it (0 from a module of 0.1.0 or before: padding)
 */
struct samepage_stats {
	__u32 size;
	__u32 pad;
	__u64 pages_shared;
	__u64 pages_sharing;
	__u64 pages_unshared;
	__u64 pages_volatile;
	__u64 pages_scanned;
	__u64 pages_skipped;
	__u64 full_scans;
	__u64 ksm_zero_pages;
	__u64 stable_node_chains;
	__u64 stable_node_dups;
	__s64 general_profit;
	__u64 kernel_pages_allocated;
	__u64 max_kernel_pages;
	__u64 hash_collisions;
	__u64 pages_skipped_thp;
	__u64 rmap_items;
	__u64 processes;
	__u32 run;
	__u32 pages_to_scan;
	__u32 sleep_millisecs;
	__u32 use_zero_pages;
	__u32 max_page_sharing;
	__u32 merge_across_nodes;
	__u32 smart_scan;
	__u32 stable_node_chains_prune_millisecs;
	__u64 why[SAMEPAGE_WHY_SLOTS];
	__u64 pass_visited;
	__u64 last_pass_visited;
	__u64 thp_split;
	__u32 thp_min_mergeable;
	__u32 rmap_item_bytes;
};

#define SAMEPAGE_STATS_SIZE_VER0	448
#define SAMEPAGE_STATS_SIZE_VER1	464

/** struct samepage_proc_entry - one tracked process in a LIST answer */
struct samepage_proc_entry {
	__s32 pid;
	__u32 merge_any;
	__u64 rmap_items;
	__u64 merging_pages;
	__u64 zero_pages;
};

/**
 * struct samepage_list - argument of SAMEPAGE_IOC_LIST
 * @size:	sizeof(struct samepage_list)
 * @capacity:	in: entries the array at @entries holds
 * @count:	out: processes tracked (may exceed @capacity: call again)
 * @entry_size:	in: sizeof(struct samepage_proc_entry); out: what was used
 * @entries:	in: user pointer to the array
 */
struct samepage_list {
	__u32 size;
	__u32 capacity;
	__u32 count;
	__u32 entry_size;
	__u64 entries;
};

#define SAMEPAGE_LIST_SIZE_VER0		24
#define SAMEPAGE_PROC_ENTRY_SIZE_VER0	32

#define SAMEPAGE_IOC_MERGE_RANGE _IOWR(SAMEPAGE_IOC_MAGIC, 0x03, struct samepage_merge_range)
#define SAMEPAGE_IOC_PROC_STAT	_IOWR(SAMEPAGE_IOC_MAGIC, 0x04, struct samepage_proc_stat)
#define SAMEPAGE_IOC_STATS	_IOWR(SAMEPAGE_IOC_MAGIC, 0x05, struct samepage_stats)
#define SAMEPAGE_IOC_LIST	_IOWR(SAMEPAGE_IOC_MAGIC, 0x06, struct samepage_list)

#endif /* _UAPI_LINUX_SAMEPAGE_H */
