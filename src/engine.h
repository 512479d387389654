/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The merge engine's objects, shared by scan.c (the kthread and the cursor),
 * tree.c (hash-first stable and unstable trees) and merge.c (kpages and PTE
 * replacement). Everything here is protected by samepage_engine.lock unless
 * a field says otherwise.
 */
#ifndef SAMEPAGE_ENGINE_H
#define SAMEPAGE_ENGINE_H

#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/rbtree.h>
#include <linux/xarray.h>
#include <linux/mm_types.h>

/**
 * struct sp_stable_node - one kpage and the content hash that finds it
 * @rb: in samepage_engine.stable, ordered by @hash
 * @list: in samepage_engine.kpages (every kpage, in the tree or not)
 * @hash: xxh64 of the kpage's content
 * @kpage: the module-owned page (one reference held by samepage)
 * @sharers: rmap_items that samepage merged into @kpage and still sees
 *	mapping it (forked children map it too, uncounted, as in-tree KSM)
 * @in_tree: @rb is linked
 * @items: the rmap_items merged into @kpage (sp_rmap_item.nlink)
 */
struct sp_stable_node {
	struct rb_node rb;
	struct list_head list;
	struct hlist_head items;
	u64 hash;
	struct page *kpage;
	unsigned int sharers;
	bool in_tree;
};

/**
 * struct sp_rmap_item - what samepage knows of one scanned address
 * @hash: content hash at the previous visit (volatility test)
 * @node: the stable node this address was merged into, or NULL
 * @nlink: in @node->items
 * @unstable: the item is in this pass's unstable tree
 * @seen: @hash is valid
 * @rb: in samepage_engine.unstable while @unstable and @seq is this pass
 * @seq: full_scans value of the pass whose unstable tree holds @rb
 * @slot: owner, for the unstable-tree partner lookup
 * @addr: user address (page aligned)
 */
struct sp_rmap_item {
	u64 hash;
	struct sp_stable_node *node;
	struct hlist_node nlink;
	bool unstable;
	bool seen;
	struct rb_node rb;
	unsigned long seq;
	struct sp_mm_slot *slot;
	unsigned long addr;
};

/**
 * struct sp_mm_slot - a registered address space
 * @list: in samepage_engine.slots (round-robin scan order)
 * @mm: mmgrab()ed; the address space is used only after mmget_not_zero()
 * @items: sp_rmap_item by page index (addr >> PAGE_SHIFT)
 * @pid: tgid that registered, for listings
 */
struct sp_mm_slot {
	struct list_head list;
	struct mm_struct *mm;
	struct xarray items;
	pid_t pid;
};

/**
 * struct sp_counters - counters of /sys/kernel/mm/samepage, in-tree meanings
 */
struct sp_counters {
	unsigned long pages_shared;	/* stable nodes in the tree */
	unsigned long pages_sharing;	/* sharers beyond the first, summed */
	unsigned long pages_unshared;	/* items in the unstable tree */
	unsigned long rmap_items;	/* every item (volatile = the rest) */
	unsigned long pages_scanned;
	unsigned long full_scans;
	unsigned long kernel_pages_allocated;
	unsigned long hash_collisions;
	unsigned long pages_skipped_thp;
};

struct samepage_engine {
	struct mutex lock;
	struct list_head slots;
	struct rb_root stable;
	struct rb_root unstable;
	struct list_head kpages;
	/* scan cursor */
	struct sp_mm_slot *cur;
	unsigned long cur_addr;
	struct sp_counters c;
	unsigned long max_kernel_pages;
};

extern struct samepage_engine samepage_engine;

/* tree.c */
struct sp_stable_node *sp_stable_find(u64 hash);
struct sp_stable_node *sp_stable_next(struct sp_stable_node *node);
void sp_stable_insert(struct sp_stable_node *node);
void sp_stable_erase(struct sp_stable_node *node);
struct sp_rmap_item *sp_unstable_find(u64 hash);
void sp_unstable_insert(struct sp_rmap_item *item);
void sp_unstable_erase(struct sp_rmap_item *item);
void sp_unstable_reset(void);

/* merge.c */
void sp_item_link(struct sp_rmap_item *item, struct sp_stable_node *node);
void sp_item_unlink(struct sp_rmap_item *item);
int sp_merge_init(void);
void sp_merge_exit(void);
bool sp_is_kpage(struct page *page);
struct page *sp_get_anon_page(struct vm_area_struct *vma, unsigned long addr);
struct sp_stable_node *sp_kpage_new(struct page *src, u64 hash);
void sp_kpage_prune(void);
int sp_replace_page(struct vm_area_struct *vma, unsigned long addr,
		    struct page *page, struct page *kpage);
int sp_unmerge_mm(struct mm_struct *mm);

/* scan.c */
int sp_scan_init(void);
void sp_scan_exit(void);
void sp_scan_wake(void);
int sp_register_mm(struct mm_struct *mm, pid_t pid);
int sp_unregister_mm(struct mm_struct *mm);
int sp_unmerge_all(void);
bool sp_vma_eligible(struct vm_area_struct *vma);

#endif /* SAMEPAGE_ENGINE_H */
