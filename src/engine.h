/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The merge engine's objects and the functions of the files that own them
 * (listed at the end, from the bottom layer up). Everything here is
 * protected by samepage_engine.lock, except where a field says otherwise.
 *
 * Locking, outermost first (a lock is only ever taken with locks above it
 * held, never below):
 *
 *  samepage_knobs.lock (mutex)   run and advisor_mode changes (run=2
 *                                unmerges under it)
 *  samepage_engine.lock (mutex)  the slot list and the writers of the slot
 *                                hash, every slot's ranges, rmap_items and
 *                                counts, both trees, the kpage list, the
 *                                cursor, the counters (but the atomics)
 *  mm->mmap_lock (rwsem)         read: a walk or unmerge of that mm; write:
 *                                mmu_notifier_get() in slot_add(). A
 *                                partner's mm is only ever trylocked, with
 *                                the scanned mm's lock held. The madvise and
 *                                prctl hooks run with it held for write and
 *                                therefore never take the engine lock.
 *  ksm_thread_mutex (in-tree's)  sp_publish_counts(); never with an mmap
 *                                lock held (ksmd takes mmap locks under it)
 *  folio locks                   the scanned page (trylock), then the
 *                                kpage; a partner's page (trylock) after
 *                                the scanned one was unlocked
 *  PMD and PTE locks (spinlocks) inside an mmu notifier range
 *  slot->items' xa_lock          rmap_item lookup without the engine lock
 *                                and the zero flag (sp_set_zero()); taken
 *                                inside the PTL by the do_wp_page kprobe,
 *                                never the other way round
 *  slot->unmapped_lock,          leaves: taken from notifiers and hooks,
 *  inherit.c's pending_lock      nothing nested inside
 *
 * RCU: the slot hash is read under rcu_read_lock() by the hooks and
 * notifiers; a slot is freed after a grace period. Counters read by sysfs
 * without the lock use READ_ONCE() and may be a moment old, as in-tree.
 */
#ifndef SAMEPAGE_ENGINE_H
#define SAMEPAGE_ENGINE_H

#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/rcupdate.h>
#include <linux/xarray.h>
#include <linux/mm_types.h>
#include <linux/gfp.h>
#include <linux/workqueue.h>
#include <linux/wait.h>

/*
 * Checks of invariants too costly for a production kernel (a walk, a
 * recount), made on kernels built for debugging: those with lockdep, such
 * as the sanitizer kernel the suite runs on. The cheap ones are always on.
 */
#define SP_DEBUG_CHECKS	IS_ENABLED(CONFIG_PROVE_LOCKING)
#include <uapi/linux/samepage.h>

/*
 * Allocations of the scan and merge paths, made under the engine lock and
 * an mmap lock: fail rather than reclaim hard or OOM-kill a process for
 * memory meant to save memory (in-tree KSM does the same).
 */
#define SP_GFP_SCAN	(GFP_KERNEL | __GFP_NORETRY | __GFP_NOWARN)

/*
 * Subpages of a PMD-mapped THP (512 with 4 KiB pages). HPAGE_PMD_NR is a
 * BUILD_BUG() on kernels without THP (Debian's rt flavour): PMD_SIZE is
 * always there.
 */
#define SP_PMD_PAGES	(PMD_SIZE / PAGE_SIZE)

/*
 * Trees are ordered by (nid, scope, hash). nid is the page's NUMA node when
 * merge_across_nodes is 0, else 0, so that pages of different nodes never
 * meet; in-tree KSM keeps one tree per node for the same effect. The scope
 * (scope.c) is the security domain a page may merge within: kind
 * SP_SCOPE_* and the domain's id (0 for SP_SCOPE_ALL, the euid, the memcg's
 * cgroup id). Pages of different domains have different keys, so they
 * never even get compared.
 */
struct sp_key {
	int nid;
	u32 scope_kind;
	u64 scope;
	u64 hash;
};

/*
 * A kpage hit by a memory error (hwpoison.c): out of every table from
 * sp_kpage_poison() on; TAKING while its mappings are being replaced (the
 * prune leaves the node alone), TAKEN after, until it is freed.
 */
enum sp_poison { SP_POISON_NONE, SP_POISON_TAKING, SP_POISON_TAKEN };

/**
 * struct sp_stable_node - one kpage and the key that finds it
 * @hnode: in the stable tree's table while @in_tree (tree.c)
 * @list: in samepage_engine.kpages (every kpage, in the tree or not)
 * @items: the rmap_items merged into @kpage (sp_rmap_item.nlink)
 * @key: node and content hash of @kpage
 * @digest: sp_key_digest() of @key (the stable table's buckets)
 * @kpage: the module-owned page (one reference held by samepage)
 * @sharers: number of @items; forked children map @kpage too, uncounted,
 *	as in-tree KSM does not count them either
 * @in_tree: @hnode is linked (the node has sharers)
 * @poison: a memory error hit @kpage (kpage.c, hwpoison.c)
 */
struct sp_stable_node {
	struct hlist_node hnode;
	struct list_head list;
	struct hlist_head items;
	struct sp_key key;
	struct page *kpage;
	u32 digest;
	unsigned int sharers;
	bool in_tree;
	u8 poison;		/* enum sp_poison */
};

/*
 * Flags in the low bits of sp_rmap_item.addr_flags (the address is page
 * aligned). Each has one writing file, and every write and read is under
 * the engine lock; sp_rmap_item.zero, which paths without that lock
 * clear, has its own byte.
 */
#define SP_ITEM_UNSTABLE	0x01UL	/* tree.c: in the unstable table (see @hnode) */
#define SP_ITEM_DORMANT		0x02UL	/* tree.c: a candidate smart scan skips */
#define SP_ITEM_SEEN		0x04UL	/* policy.c: @digest is valid */
#define SP_ITEM_IN_THP		0x08UL	/* thp.c: a subpage of a PMD-mapped THP */
#define SP_ITEM_MERGED		0x10UL	/* kpage.c: @node and @nlink are valid */
#define SP_ITEM_FLAGS		0x1fUL

/**
 * struct sp_rmap_item - what samepage knows of one scanned address
 * @slot: owner, for the unstable-tree partner lookup
 * @addr_flags: user address (page aligned, sp_item_addr()) and SP_ITEM_*
 *	flags (sp_item_has())
 * @hnode: in the unstable tree's table while SP_ITEM_UNSTABLE and @seq is
 *	the tree's generation (tree.c)
 * @seq: generation of the unstable tree that @hnode was inserted into
 * @nlink: in @node->items while SP_ITEM_MERGED
 * @node: the stable node this address was merged into while SP_ITEM_MERGED
 *	(sp_item_node())
 * @digest: sp_key_digest() of the key at the previous visit (volatility
 *	test, unstable table), valid with SP_ITEM_SEEN
 * @age: visits so far, saturating at 15 (smart scan)
 * @remaining_skips: visits still to skip before the next real one
 * @zero: samepage mapped the shared zero page here (ksm_zero_pages);
 *	changes under the slot's xa_lock (sp_set_zero())
 * @merged_at: the low bits of full_scans when the address was last merged,
 *	while SP_ITEM_MERGED
 * @cooldown: visits still treated as volatile after a quick COW break,
 *	while not SP_ITEM_MERGED
 *
 * Invariant: an item is never merged and unstable at once: the two
 * unions hold the unstable table's fields or the stable node's, as
 * SP_ITEM_UNSTABLE or SP_ITEM_MERGED says (sp_item_link() takes an item
 * out of the unstable table first). 48 bytes on 64-bit; the huge-page
 * counts of a pass live beside the items (thp.c).
 */
struct sp_rmap_item {
	struct sp_mm_slot *slot;
	unsigned long addr_flags;
	union {
		struct {
			struct hlist_node hnode;
			unsigned long seq;
		};
		struct {
			struct hlist_node nlink;
			struct sp_stable_node *node;
		};
	};
	u32 digest;
	u8 age:4;
	u8 remaining_skips:4;
	bool zero;
	union {
		u16 merged_at;
		u16 cooldown;
	};
};

static inline unsigned long sp_item_addr(const struct sp_rmap_item *item)
{
	return item->addr_flags & PAGE_MASK;
}

static inline bool sp_item_has(const struct sp_rmap_item *item, unsigned long flag)
{
	return item->addr_flags & flag;
}

/* Set or clear @flag of @item: for the flag's writing file (engine lock). */
static inline void sp_item_flag(struct sp_rmap_item *item, unsigned long flag, bool on)
{
	if (on)
		item->addr_flags |= flag;
	else
		item->addr_flags &= ~flag;
}

/* The stable node @item is merged into, or NULL. */
static inline struct sp_stable_node *sp_item_node(const struct sp_rmap_item *item)
{
	return sp_item_has(item, SP_ITEM_MERGED) ? item->node : NULL;
}

/* A registered address range [start, end) of a slot. */
struct sp_range {
	struct list_head list;
	unsigned long start;
	unsigned long end;
};

/* Unmapped ranges an mmu notifier reported, dropped by the reaper. */
#define SP_UNMAPPED_MAX	4
struct sp_span {
	unsigned long start, end;
};

/**
 * struct sp_mm_slot - a registered address space
 * @list: in samepage_engine.slots (round-robin scan order)
 * @hnode: in the mm -> slot hash (RCU readers: the hooks)
 * @rcu: the slot is freed after a grace period
 * @mm: mmgrab()ed; the address space is used only after mmget_not_zero()
 * @serial: unique among every slot since load (a freed slot's address is
 *	not: thp.c keys its counts by this)
 * @mn: samepage's mmu notifier on @mm (exit and unmap reports), or NULL
 * @items: sp_rmap_item by page index (addr >> PAGE_SHIFT); its xa_lock
 *	also orders lock-free readers (sp_item_zero()) against frees
 * @unmapped_lock: protects @unmapped and @nr_unmapped
 * @unmapped: ranges unmapped since the reaper last ran (coalesced when full)
 * @nr_unmapped: entries of @unmapped in use
 * @ranges: registered sp_ranges when not @whole
 * @whole: the whole process is registered
 * @follow: found through MADV_MERGEABLE/prctl: its VM_MERGEABLE areas count
 * @pid: its thread group's struct pid (referenced), for listings: reported
 *	as the caller's pid namespace sees it (pid_vnr())
 * @rmap_items: its items (ksm_stat ksm_rmap_items)
 * @merging: its items that map a kpage (ksm_merging_pages)
 * @zero: its items that map a samepage zero page (ksm_zero_pages);
 *	atomic: also given back by paths without the engine lock
 * @publish: @mm's KSM fields include samepage's counts (proc_ksm_stat)
 * @pub_merging: the part of @merging published to mm->ksm_merging_pages
 * @pub_items: the part of @rmap_items published to mm->ksm_rmap_items
 * @full_scans: passes completed over it
 * @why_cur: outcomes of the pass under way (enum samepage_why)
 * @why_last: outcomes of the last completed pass
 * @own_uid_only: MERGE_RANGE of an unprivileged caller under way (scope.c)
 * @scope_kind: the kind @scope_id was computed for ...
 * @scope_id: ... its uid domain, cached ...
 * @scope_at: ... at this jiffy
 */
struct sp_mm_slot {
	struct list_head list;
	struct hlist_node hnode;
	struct rcu_head rcu;
	struct mm_struct *mm;
	u64 serial;
	struct mmu_notifier *mn;
	struct xarray items;
	spinlock_t unmapped_lock;
	struct sp_span unmapped[SP_UNMAPPED_MAX];
	unsigned int nr_unmapped;
	struct list_head ranges;
	bool whole;
	bool follow;
	struct pid *pid;
	unsigned long rmap_items;
	unsigned long merging;
	atomic_long_t zero;
	bool publish;
	unsigned long pub_merging;
	unsigned long pub_items;
	unsigned long full_scans;
	u64 why_cur[SAMEPAGE_WHY_NR];
	u64 why_last[SAMEPAGE_WHY_NR];
	bool own_uid_only;
	u32 scope_kind;
	u64 scope_id;
	unsigned long scope_at;
};

/* Counters of /sys/kernel/mm/samepage, in-tree meanings. */
struct sp_counters {
	unsigned long pages_shared;	/* stable nodes in the tree */
	unsigned long pages_sharing;	/* sharers beyond the first, summed */
	unsigned long pages_unshared;	/* items in the unstable tree */
	unsigned long rmap_items;	/* every item (volatile = the rest) */
	unsigned long pages_scanned;
	unsigned long full_scans;
	unsigned long stable_node_chains;
	unsigned long stable_node_dups;
	atomic_long_t ksm_zero_pages;	/* atomic: see sp_mm_slot.zero */
	unsigned long kernel_pages_allocated;
	unsigned long hash_collisions;
	unsigned long pages_skipped_thp;	/* subpages of THPs left whole */
	unsigned long thp_split;	/* huge pages split to merge */
	unsigned long pages_skipped;	/* by smart scan */
	unsigned long pages_hwpoisoned;	/* kpages a memory error hit */
	unsigned long kpage_arenas;	/* arenas held (arena.c) */
	unsigned long kpage_arenas_freed;	/* arenas given back */
	unsigned long kpages_loose;	/* kpages outside arenas */
	unsigned long kpages_moved;	/* kpages moved (compact.c) */
	unsigned long pass_visited;	/* addresses seen in this pass */
	unsigned long last_pass_visited;
};

struct samepage_engine {
	struct mutex lock;
	struct list_head slots;
	struct list_head kpages;
	struct sp_mm_slot *cur;		/* scan cursor: slot ... */
	unsigned long cur_addr;		/* ... and next address in it */
	struct sp_counters c;
	wait_queue_head_t wait;		/* samepaged sleeps here (no lock) */
	bool wake_pending;		/* sp_scan_wake() since its last batch */
	/*
	 * Bumped, under the engine lock, wherever merged pages may appear in
	 * a registered mm: each PTE pointed at a kpage or the zero page
	 * (sp_replace_page()), each new slot (a forked child maps its
	 * parent's kpages). An unmerge that ran without the engine lock need
	 * not walk again under it if this has not moved since it began
	 * (sp_unmerge_first()).
	 */
	unsigned long merge_seq;
};

extern struct samepage_engine samepage_engine;

/*
 * Has @mm's process let go of it (exit, or exec to a new mm)? samepaged
 * holds only mmgrab() on the mms it scans, like ksmd, never mm_users for
 * long: a process killed by the OOM killer must get its memory freed by
 * its own exit, not when samepaged finishes a batch. Under the mmap lock
 * this is the in-tree ksm_test_exit() test.
 */
static inline bool sp_mm_exiting(struct mm_struct *mm)
{
	return atomic_read(&mm->mm_users) == 0;
}

/*
 * The files of the engine and what each owns, from the bottom up: a file
 * calls only into files listed before it (and into engine.c's state),
 * never back up, so no two files depend on each other.
 */

/* engine.c: struct samepage_engine, its one instance, the cursor and pass counts */
bool sp_engine_has_kpages(void);
void sp_scan_wake(void);
void sp_cursor_set(struct sp_mm_slot *slot, unsigned long addr);
void sp_pass_visited(unsigned long pages);
void sp_pass_end(void);
void sp_passes_restart(void);

/* page.c: page contents (the hash, the compares) */
void sp_page_init(void);
u64 sp_page_hash(struct page *page);
bool sp_hash_is_zero(u64 hash);
bool sp_page_is_zero(struct page *page);
bool sp_pages_equal(struct page *a, struct page *b);
bool sp_page_ends_equal(struct page *a, struct page *b);

/* tree.c: the hash-first stable and unstable trees (hash tables) */
struct sp_stable_node *sp_stable_find(const struct sp_key *key);
struct sp_stable_node *sp_stable_next(struct sp_stable_node *node);
void sp_stable_insert(struct sp_stable_node *node);
void sp_stable_erase(struct sp_stable_node *node);
bool sp_key_eq(const struct sp_key *a, const struct sp_key *b);
u32 sp_key_digest(const struct sp_key *key);
struct sp_rmap_item *sp_unstable_find(const struct sp_key *key);
bool sp_digest_known(u32 digest);
unsigned long sp_unstable_bucket_bytes(void);
struct sp_rmap_item *sp_unstable_next(struct sp_rmap_item *item);
void sp_unstable_insert(struct sp_rmap_item *item);
void sp_unstable_erase(struct sp_rmap_item *item);
void sp_unstable_keep(struct sp_rmap_item *item);
void sp_unstable_next_pass(void);
void sp_unstable_reset(void);
unsigned long sp_unstable_gen(void);
void sp_trees_exit(void);

/* alloc.c: the slab caches (named like in-tree KSM's, see /proc/slabinfo) */
extern struct kmem_cache *sp_item_cache;
extern struct kmem_cache *sp_node_cache;
extern struct kmem_cache *sp_slot_cache;
int sp_caches_init(void);
void sp_caches_exit(void);

/* memcg.c: kpages are charged to a memory cgroup */
int sp_kpage_charge(struct page *kpage, struct mm_struct *mm, struct page *like);
void sp_kpage_uncharge(struct page *kpage);

/* arena.c: the frames of kpages, carved from PMD-sized arenas */
int sp_arena_init(void);
void sp_arena_exit(void);
struct page *sp_arena_alloc(int nid, bool stall, bool arena_only);
bool sp_arena_free(struct page *page);
bool sp_arena_should_move(struct page *page);
bool sp_arena_plan(void);
void sp_arena_flush(void);

/* kpage.c: kpages and their stable nodes */
int sp_kpage_init(void);
void sp_kpage_exit(void);
bool sp_is_kpage(struct page *page);
struct sp_stable_node *sp_kpage_node(struct page *kpage);
struct sp_stable_node *sp_kpage_new(struct mm_struct *mm, struct page *src,
				    const struct sp_key *key);
struct sp_stable_node *sp_kpage_clone(struct sp_stable_node *from);
void sp_item_move(struct sp_rmap_item *item, struct sp_stable_node *to);
void sp_item_link(struct sp_rmap_item *item, struct sp_stable_node *node);
void sp_kpages_check(void);
void sp_item_unlink(struct sp_rmap_item *item);
void sp_kpage_drop(struct sp_stable_node *node);
void sp_kpage_poison(struct sp_stable_node *node);
void sp_kpage_poison_done(struct sp_stable_node *node);
unsigned long sp_prune(void);
bool sp_prune_due(void);

/* merge.c: page tables: what is mapped where, and PTE replacement */
/*
 * What sp_get_anon_page() found: an anonymous page mapped by a PTE (maybe a
 * subpage of a large folio), the shared zero page, a PMD-mapped THP (its
 * subpage at the address), nothing in the whole PMD range (no page table, or
 * the huge zero page), or nothing mergeable.
 */
enum sp_pte_kind { SP_PTE_NONE, SP_PTE_NO_TABLE, SP_PTE_ANON, SP_PTE_ZERO, SP_PTE_HUGE };

/*
 * The PMD entry of the last 2 MiB a walk looked at, so that a scan finds
 * each PMD once rather than once per page. Valid while the mmap lock that
 * was held when it was filled stays held (PMD tables are freed only under
 * the mmap write lock); a PTE table is still mapped and re-checked for
 * every page. @gap_end is where the empty PTEs after the last one read end.
 */
struct sp_pmd_cache {
	struct mm_struct *mm;
	unsigned long base;
	pmd_t *pmd;
	unsigned long gap_end;	/* after a PTE was read: see empty_ptes_end() */
};

enum sp_pte_kind sp_get_anon_page(struct vm_area_struct *vma, unsigned long addr,
				  struct page **pagep, struct sp_pmd_cache *pc);
unsigned long sp_table_gap_end(struct mm_struct *mm, unsigned long addr,
			       unsigned long end);
int sp_replace_page(struct vm_area_struct *vma, unsigned long addr,
		    struct page *page, struct page *kpage, const struct sp_key *fill);

/* compact.c: moving kpages into the fullest arenas */
void sp_compact(unsigned int budget);

/* slothash.c: the mm -> slot hash (RCU readers) */
struct sp_mm_slot *sp_find_slot(struct mm_struct *mm);
void sp_slot_hash_add(struct sp_mm_slot *slot);
void sp_slot_hash_del(struct sp_mm_slot *slot);

/* items.c: rmap_items, their counts, the kernel's per-mm KSM fields */
bool sp_item_zero(struct mm_struct *mm, unsigned long addr);
struct sp_rmap_item *sp_get_item(struct sp_mm_slot *slot, unsigned long addr);
unsigned long sp_item_bytes(void);
void sp_items_check(void);
void sp_drop_item(struct sp_rmap_item *item);
unsigned long sp_next_item_addr(struct sp_mm_slot *slot, unsigned long addr);
void sp_drop_items(struct sp_mm_slot *slot, unsigned long start, unsigned long end);
void sp_set_zero(struct sp_rmap_item *item, bool zero);
void sp_zero_gone(struct mm_struct *mm, unsigned long addr);
long sp_zero_pages(void);
bool sp_proc_ksm_stat_on(void);
void sp_publish_counts(struct sp_mm_slot *slot);
void sp_fork_fixup(struct mm_struct *parent, struct mm_struct *child, bool in_ksm_fork);

/* unmerge.c: give merged pages back */
void sp_unmerge_scanned(struct mm_struct *mm, unsigned long start,
			unsigned long end);
int sp_unmerge_range(struct mm_struct *mm, unsigned long start,
		     unsigned long end);
int sp_unmerge_first(struct mm_struct *mm, unsigned long start,
		     unsigned long end);
int __sp_unmerge_range(struct mm_struct *mm, unsigned long start,
		       unsigned long end);
bool sp_vma_may_hold_merged(struct vm_area_struct *vma);

/* notify.c: an mmu notifier on every tracked mm, and its reports' queue */
extern struct delayed_work sp_reap_work;
struct mmu_notifier *sp_notifier_get(struct mm_struct *mm);
void sp_notifier_put(struct mmu_notifier *mn);
void sp_notifier_exit(void);
void sp_note_unmapped(struct mm_struct *mm, unsigned long start,
		      unsigned long end);
unsigned int sp_take_unmapped(struct sp_mm_slot *slot,
			      struct sp_span r[SP_UNMAPPED_MAX]);
bool sp_reap_again(void);

/* slots.c: the registry of slots and ranges */
struct sp_mm_slot *sp_next_slot(struct sp_mm_slot *slot);
void sp_publish_all(void);
/* A dead slot's items that go per engine lock hold (slots.c). */
#define SP_REAP_CHUNK	8192
bool sp_reap_slot(struct sp_mm_slot *slot, unsigned int *budget);
bool sp_reap_slots(bool *more);
bool sp_next_span(struct sp_mm_slot *slot, struct vm_area_struct *vma,
		  unsigned long addr, unsigned long end, unsigned long *s,
		  unsigned long *e);
int sp_follow(struct mm_struct *mm, struct pid *pid);
struct sp_range *sp_range_new(unsigned long start, unsigned long end);
int __sp_register(struct mm_struct *mm, struct pid *pid, struct sp_range *r);
int sp_register(struct mm_struct *mm, struct pid *pid, unsigned long start,
		unsigned long end);
int sp_register_follow(struct mm_struct *mm, struct pid *pid);
int sp_unregister(struct mm_struct *mm, unsigned long start, unsigned long end);
int sp_unmerge_all(void);
void sp_slots_exit(void);

/* reaper.c: acts on the notifiers' reports */
void sp_reaper_init(void);
void sp_reaper_exit(void);

/* discover.c: madvise discovery */
void sp_discover_madvised(void);

/* scope.c: merge_scope */
void sp_scope_own_uid(struct sp_mm_slot *slot, bool on);
void sp_key_scope(struct sp_mm_slot *slot, struct page *page, struct sp_key *key);

/* advisor.c: the scan-time advisor (in-tree's advisor_* knobs) */
void sp_advisor_start_pass(void);
void sp_advisor_end_pass(void);

/* scan.c and its parts (scanner.h): samepaged, the walk, what happens to one page */
int sp_scan_init(void);
void sp_scan_exit(void);
int sp_merge_range(struct mm_struct *mm, struct pid *pid, unsigned long start,
		   unsigned long end, bool own_uid, u64 *merged);

/* inherit.c: whole-process registrations follow fork and exec */
void sp_inherit_init(void);
bool sp_inherits(struct mm_struct *mm);
void sp_inherit(struct mm_struct *mm, struct pid *pid);
void sp_queue_follow(struct mm_struct *mm, struct pid *pid);
void sp_inherit_exit(void);

/* hwpoison.c: memory errors on kpages */
int sp_hwpoison_kpage(unsigned long pfn, int flags, int err);

/* hooks.c */
int sp_hooks_init(void);
void sp_hooks_exit(void);
long sp_cow_breaks(void);
int sp_cow_probe_set(bool on);
ssize_t sp_hooks_show(char *buf);

/* stats.c */
void sp_fill_stats(struct samepage_stats *st);
s64 sp_profit(unsigned long saved, unsigned long items);
void sp_fill_proc_stat(struct mm_struct *mm, struct samepage_proc_stat *ps);
u32 sp_fill_list(struct samepage_proc_entry *entries, u32 capacity);

#endif /* SAMEPAGE_ENGINE_H */
