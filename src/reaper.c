// SPDX-License-Identifier: GPL-2.0
/*
 * The reaper: a work item that acts on what the mmu notifiers reported
 * (notify.c) without blocking them: it frees the slots of exited
 * processes, drops the rmap_items of unmapped ranges, and frees the
 * kpages nothing maps any more.
 */
#include <linux/workqueue.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/spinlock.h>
#include <linux/mutex.h>
#include "engine.h"
#include "ksyms.h"

/*
 * Drop the items of [@start, @end) that no longer map what they say.
 * Invariant: an item that maps what it says is never dropped here. A
 * reported range may cover addresses that are mapped again by now: a new
 * mmap() at the same place, merged before this work got the engine lock
 * (seen under load: ksm_differential's next buffer, zero-merged, lost its
 * items and with them samepage's only record of its zero pages), or a
 * range widened to take in several unmaps. An address with no VMA any
 * more is dropped without a page-table look. Engine lock held.
 */
static void drop_stale_items(struct sp_mm_slot *slot, unsigned long start,
			     unsigned long end)
{
	struct mm_struct *mm = slot->mm;
	struct sp_rmap_item *item;
	unsigned long idx;

	lockdep_assert_held(&samepage_engine.lock);
	if (!mmget_not_zero(mm))
		return;		/* exiting: the slot goes as a whole */
	mmap_read_lock(mm);
	xa_for_each_range(&slot->items, idx, item, start >> PAGE_SHIFT,
			  (end >> PAGE_SHIFT) - 1) {
		struct vm_area_struct *vma = vma_lookup(mm, sp_item_addr(item));
		enum sp_pte_kind kind = SP_PTE_NONE;
		struct page *page = NULL;

		if (vma)
			kind = sp_get_anon_page(vma, sp_item_addr(item), &page, NULL);
		if (!(kind == SP_PTE_ZERO && item->zero) &&
		    !(kind == SP_PTE_ANON && sp_item_node(item) && sp_item_node(item)->kpage == page) &&
		    !(kind == SP_PTE_ANON && !sp_item_node(item) && !item->zero))
			sp_drop_item(item);
		if (page)
			put_page(page);
	}
	mmap_read_unlock(mm);
	mmput_async(mm);	/* not exit_mmap() under the engine lock */
}

/* Drop the items of the ranges queued by sp_note_unmapped(). */
static void drop_unmapped(struct sp_mm_slot *slot)
{
	struct sp_span r[SP_UNMAPPED_MAX];
	unsigned int n = sp_take_unmapped(slot, r);

	while (n--)
		drop_stale_items(slot, r[n].start, r[n].end);
}

/*
 * Exits and unmaps the notifiers reported: forget them, free their kpages.
 * A release comes at the start of exit_mmap(), before the pages are
 * unmapped, so kpages that only the exiting process maps are freed by a
 * re-run moments later (every 100 ms while such kpages remain, for 5 s at
 * most; a forked child that maps a kpage unregistered can keep one longer,
 * and the periodic prune frees it then).
 */
static void reap_workfn(struct work_struct *work)
{
	static bool rerun;	/* the work is never run twice at once */
	struct sp_mm_slot *slot;
	unsigned long orphans = 0;
	bool changed = rerun, more = false;

	mutex_lock(&samepage_engine.lock);
	changed |= sp_reap_slots(&more);
	list_for_each_entry(slot, &samepage_engine.slots, list) {
		if (READ_ONCE(slot->nr_unmapped)) {
			drop_unmapped(slot);
			changed = true;
		}
	}
	if (changed && !more)	/* a prune walks every kpage: only when useful */
		orphans = sp_prune();
	mutex_unlock(&samepage_engine.lock);
	if (more) {		/* a dead slot has items left: next chunk now */
		rerun = true;
		queue_delayed_work(SP_UNBOUND_WQ, &sp_reap_work, 0);
		return;
	}
	rerun = orphans && sp_reap_again();
	if (rerun)
		queue_delayed_work(SP_UNBOUND_WQ, &sp_reap_work, HZ / 10);
}

/* Load: the notifiers' reports reach reap_workfn() from now on. */
void sp_reaper_init(void)
{
	INIT_DELAYED_WORK(&sp_reap_work, reap_workfn);
}

/* Unload, once no notifier callback runs any more: no reaper work after this. */
void sp_reaper_exit(void)
{
	cancel_delayed_work_sync(&sp_reap_work);
}
