// SPDX-License-Identifier: GPL-2.0
/*
 * rmap_items: what samepage knows of each scanned address of a slot, and
 * the counts that follow them: the slot's and the global ones, and the
 * kernel's own per-mm KSM fields (/proc/PID/ksm_stat). Items are kept in
 * the slot's xarray by page index; they are made and dropped under the
 * engine lock, and looked up without it under the xarray's lock (the zero
 * flag: sp_item_zero(), sp_zero_gone()).
 */
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/xarray.h>
#include <linux/mutex.h>
#include "samepage.h"
#include "engine.h"
#include "ksyms.h"

/**
 * sp_item_zero() - did samepage map the zero page at @addr of @mm?
 * @mm: the address space
 * @addr: page-aligned address
 *
 * Safe without the engine lock: the slot is RCU-protected, and an
 * rmap_item is read under its xarray's lock, which sp_drop_item() takes to
 * erase it before freeing it. An item's zero flag changes only under the
 * mm's mmap lock, which the caller holds.
 */
bool sp_item_zero(struct mm_struct *mm, unsigned long addr)
{
	struct sp_rmap_item *item;
	struct sp_mm_slot *slot;
	bool zero = false;

	rcu_read_lock();
	slot = sp_find_slot(mm);
	if (slot) {
		xa_lock(&slot->items);
		item = xa_load(&slot->items, addr >> PAGE_SHIFT);
		zero = item && item->zero;
		xa_unlock(&slot->items);	/* see sp_zero_gone() */
	}
	rcu_read_unlock();
	return zero;
}

struct sp_rmap_item *sp_get_item(struct sp_mm_slot *slot, unsigned long addr)
{
	struct sp_rmap_item *item = xa_load(&slot->items, addr >> PAGE_SHIFT);

	if (item)
		return item;
	item = kmem_cache_zalloc(sp_item_cache, SP_GFP_SCAN);
	if (!item)
		return NULL;
	item->slot = slot;
	item->addr_flags = addr;
	if (xa_err(xa_store(&slot->items, addr >> PAGE_SHIFT, item, SP_GFP_SCAN))) {
		kmem_cache_free(sp_item_cache, item);
		return NULL;
	}
	samepage_engine.c.rmap_items++;
	slot->rmap_items++;
	return item;
}

/**
 * sp_item_bytes() - the kernel memory each rmap_item costs, all included
 *
 * What general_profit and ksm_process_profit charge per item, as in-tree
 * charges sizeof(struct ksm_rmap_item): the item's slab object; its share
 * of the slot's index, an xarray node per 64 items of a populated range
 * (a sparse range costs more, but holds few items); and its share of the
 * unstable table's buckets, of which there is one per two items.
 * Documentation/design.md ("Memory") has the figures. Without the engine
 * lock (sysfs) it is a snapshot, as the counters there are.
 */
unsigned long sp_item_bytes(void)
{
	unsigned long items = max(READ_ONCE(samepage_engine.c.rmap_items), 1UL);

	return kmem_cache_size(sp_item_cache) +
	       DIV_ROUND_UP(sizeof(struct xa_node), XA_CHUNK_SIZE) +
	       DIV_ROUND_UP(sp_unstable_bucket_bytes(), items);
}

/*
 * The kernel's per-mm KSM fields, which /proc/PID/ksm_stat and
 * /proc/PID/ksm_merging_pages show (proc_ksm_stat=1). ksm_zero_pages is an
 * atomic there (6.10+) and follows each change at once; ksm_merging_pages
 * and ksm_rmap_items are plain fields that in-tree ksmd updates under its
 * ksm_thread_mutex, so samepage publishes its part of them under the same
 * mutex, as a difference to what it published last (sp_publish_counts()).
 * Lock order: engine lock, then ksm_thread_mutex; never with an mmap lock
 * held (ksmd takes mmap locks under that mutex).
 */
bool sp_proc_ksm_stat_on(void)
{
	return READ_ONCE(samepage_knobs.proc_ksm_stat) && samepage_ksyms.ksm_thread_mutex;
}

/*
 * Flip @item's zero flag and the counts that follow it, with its slot's
 * xa_lock held: samepaged and the paths that give a zero page back
 * without the engine lock (unmerge, write faults) may race for one item,
 * and exactly one of them must count the change.
 */
static void __set_zero(struct sp_rmap_item *item, bool zero)
{
	long d = zero ? 1 : -1;

	if (item->zero == zero)
		return;
	WRITE_ONCE(item->zero, zero);
	atomic_long_add(d, &samepage_engine.c.ksm_zero_pages);
	atomic_long_add(d, &item->slot->zero);
	if (item->slot->publish)
		sp_mm_ksm_zero_add(item->slot->mm, d);
}

/*
 * Set whether @item maps samepage's zero page (engine lock held). Only
 * samepaged sets the flag, under the engine lock, which its caller holds;
 * the other paths only clear it. So a flag that reads false cannot turn
 * true meanwhile, and clearing it then needs no lock. That is every visit
 * of a page that is not samepage's zero page (visit_item()); taking the
 * xa_lock there was 2% of samepaged's CPU (perf, W1).
 */
void sp_set_zero(struct sp_rmap_item *item, bool zero)
{
	lockdep_assert_held(&samepage_engine.lock);
	if (!zero && !READ_ONCE(item->zero))
		return;
	xa_lock(&item->slot->items);
	__set_zero(item, zero);
	xa_unlock(&item->slot->items);
}

/**
 * sp_zero_gone() - @addr of @mm no longer maps samepage's zero page
 * @mm: the address space
 * @addr: page-aligned address
 *
 * Any context (the unmerge paths, the write-fault hook): keeps
 * ksm_zero_pages exact at the moment the mapping goes, as in-tree does.
 */
void sp_zero_gone(struct mm_struct *mm, unsigned long addr)
{
	struct sp_rmap_item *item;
	struct sp_mm_slot *slot;

	rcu_read_lock();
	slot = sp_find_slot(mm);
	if (slot) {
		xa_lock(&slot->items);
		item = xa_load(&slot->items, addr >> PAGE_SHIFT);
		if (item)
			__set_zero(item, false);
		xa_unlock(&slot->items);
	}
	rcu_read_unlock();
}

/**
 * sp_fork_fixup() - take samepage's part out of a forked child's KSM fields
 * @parent: the parent's mm (current's)
 * @child: the child's new mm (the child does not run yet)
 * @in_ksm_fork: called from in-tree ksm_fork() (the parent is mergeable),
 *	which (6.10+) zeroed the child's ksm_merging_pages and ksm_rmap_items
 *	and added the child's copied ksm_zero_pages to in-tree's global count;
 *	else from the fork tracepoint, for a child ksm_fork() left alone
 *
 * dup_mm() copies the parent's mm_struct, samepage's published counts
 * included, but samepage does not track the child's copies of its zero
 * pages. The child keeps in-tree's part only: the parent's field less
 * samepage's count, both read under the parent slot's xa_lock (they change
 * together, see __set_zero()); in-tree's own part cannot change meanwhile
 * inside ksm_fork(), which runs with the parent's mmap lock held for
 * write. In-tree's global count is corrected by what ksm_fork() added
 * beyond in-tree's part. Atomic context (kprobe, tracepoint): on
 * PREEMPT_RT, where the xa_lock may sleep, the two are read unlocked.
 */
void sp_fork_fixup(struct mm_struct *parent, struct mm_struct *child, bool in_ksm_fork)
{
	struct sp_mm_slot *slot;
	long intree, copied;

	rcu_read_lock();
	slot = sp_find_slot(parent);
	if (!slot || !slot->publish)
		goto out;
	if (!IS_ENABLED(CONFIG_PREEMPT_RT))
		xa_lock(&slot->items);
	intree = sp_mm_ksm_zero_read(parent) - atomic_long_read(&slot->zero);
	if (!IS_ENABLED(CONFIG_PREEMPT_RT))
		xa_unlock(&slot->items);
	copied = sp_mm_ksm_zero_read(child);
	sp_mm_ksm_zero_add(child, intree - copied);
	if (in_ksm_fork && samepage_ksyms.ksm_zero_pages)
		atomic_long_sub(copied - intree, sp_ksm_zero_pages());
	if (!in_ksm_fork || !SP_KSM_FORK_RESETS_COUNTS)
		sp_mm_ksm_counts_add(child, -(long)READ_ONCE(slot->pub_merging),
				     -(long)READ_ONCE(slot->pub_items));
out:
	rcu_read_unlock();
}

/* ksm_zero_pages of /sys/kernel/mm/samepage. */
long sp_zero_pages(void)
{
	return atomic_long_read(&samepage_engine.c.ksm_zero_pages);
}

/**
 * sp_publish_counts() - bring @slot's mm->ksm_merging_pages/ksm_rmap_items
 * up to date (see sp_proc_ksm_stat_on())
 * @slot: the slot; engine lock held, no mmap lock held
 *
 * A slot publishes or not for its whole life, as proc_ksm_stat was when
 * it was made, so that what it added is always what it takes back.
 */
void sp_publish_counts(struct sp_mm_slot *slot)
{
	unsigned long merging = slot->merging, items = slot->rmap_items;
	struct mutex *ksm_mutex;

	lockdep_assert_held(&samepage_engine.lock);
	if (!slot->publish ||
	    (merging == slot->pub_merging && items == slot->pub_items))
		return;
	ksm_mutex = sp_ksm_thread_mutex();
	mutex_lock(ksm_mutex);
	sp_mm_ksm_counts_add(slot->mm, (long)(merging - slot->pub_merging),
			     (long)(items - slot->pub_items));
	mutex_unlock(ksm_mutex);
	slot->pub_merging = merging;
	slot->pub_items = items;
}

/**
 * sp_items_check() - recount what the items say (SP_DEBUG_CHECKS)
 *
 * Each slot's rmap_items and merging are its items and its merged items,
 * rmap_items is every slot's, pages_unshared the candidates that are not
 * dormant, and the merged items are pages_shared + pages_sharing; an item
 * sits at its own address in the index and is never merged and a
 * candidate at once. A walk of every item, engine lock held.
 */
void sp_items_check(void)
{
	struct samepage_engine *e = &samepage_engine;
	unsigned long items = 0, unshared = 0, merged = 0;
	struct sp_rmap_item *item;
	struct sp_mm_slot *slot;
	unsigned long idx;

	lockdep_assert_held(&e->lock);
	list_for_each_entry(slot, &e->slots, list) {
		unsigned long n = 0, m = 0;

		xa_for_each(&slot->items, idx, item) {
			bool cand = sp_item_has(item, SP_ITEM_UNSTABLE);

			n++;
			m += sp_item_has(item, SP_ITEM_MERGED);
			unshared += cand && !sp_item_has(item, SP_ITEM_DORMANT);
			WARN_ON_ONCE(cand && sp_item_has(item, SP_ITEM_MERGED));
			WARN_ON_ONCE(sp_item_addr(item) >> PAGE_SHIFT != idx ||
				     item->slot != slot);
		}
		WARN_ON_ONCE(n != slot->rmap_items || m != slot->merging);
		items += n;
		merged += m;
		cond_resched();
	}
	WARN_ON_ONCE(items != e->c.rmap_items);
	WARN_ON_ONCE(unshared != e->c.pages_unshared);
	WARN_ON_ONCE(merged != e->c.pages_shared + e->c.pages_sharing);
}

/* Forget @item: it leaves every tree and counter. */
void sp_drop_item(struct sp_rmap_item *item)
{
	struct sp_mm_slot *slot = item->slot;

	sp_item_unlink(item);
	sp_unstable_erase(item);
	sp_set_zero(item, false);
	xa_erase(&slot->items, sp_item_addr(item) >> PAGE_SHIFT);	/* see sp_item_zero() */
	kmem_cache_free(sp_item_cache, item);
	samepage_engine.c.rmap_items--;
	slot->rmap_items--;
}

/* The address of @slot's first rmap_item at or after @addr, or ULONG_MAX. */
unsigned long sp_next_item_addr(struct sp_mm_slot *slot, unsigned long addr)
{
	unsigned long idx = addr >> PAGE_SHIFT;

	if (!xa_find(&slot->items, &idx, ULONG_MAX >> PAGE_SHIFT, XA_PRESENT))
		return ULONG_MAX;
	return idx << PAGE_SHIFT;
}

/* Drop the items of [@start, @end). */
void sp_drop_items(struct sp_mm_slot *slot, unsigned long start, unsigned long end)
{
	struct sp_rmap_item *item;
	unsigned long idx;

	if (start >= end)
		return;
	xa_for_each_range(&slot->items, idx, item, start >> PAGE_SHIFT,
			  (end >> PAGE_SHIFT) - 1)
		sp_drop_item(item);
}
