// SPDX-License-Identifier: GPL-2.0
/*
 * An mmu notifier on every tracked mm, for what samepage must hear about
 * as it happens rather than at its next visit:
 *
 *  - release (the process exits, or execs away from this mm): the reaper
 *    frees the slot and its rmap_items at once;
 *  - an unmap (munmap(), mremap() moving or shrinking, MMU_NOTIFY_UNMAP):
 *    the reaper drops the rmap_items of the range.
 *
 * COW, MADV_DONTNEED, migration and the rest need nothing here: every
 * record is re-checked under the PTL before samepage acts on it.
 *
 * Callbacks never block and never take the engine lock: they only queue
 * work (sp_note_unmapped(), sp_reap_soon()). The notifier is one per mm
 * (mmu_notifier_get()), dropped with mmu_notifier_put() when the slot
 * goes, and freed after an SRCU grace period; unload waits for those.
 */
#include <linux/mmu_notifier.h>
#include <linux/slab.h>

#include "engine.h"
#include "ksyms.h"

#define REAP_RETRIES	50	/* every 100 ms: 5 s */

/* The reaper's work (reaper.c sets its function up at load). */
struct delayed_work sp_reap_work;

/* Re-runs left to free the kpages of processes still tearing down. */
static atomic_t reap_retries = ATOMIC_INIT(0);

/* Let the reaper run soon (from any context). */
static void sp_reap_soon(void)
{
	atomic_set(&reap_retries, REAP_RETRIES);
	mod_delayed_work(SP_UNBOUND_WQ, &sp_reap_work, 0);
}

/**
 * sp_note_unmapped() - an mmu notifier saw [@start, @end) of @mm unmapped
 * @mm: the address space
 * @start: start
 * @end: end
 *
 * Atomic context, never blocks: the range is queued on the slot (merged
 * into the last one when the queue is full) and the reaper drops the
 * rmap_items there. Should the range be mapped again meanwhile, its items
 * are recreated at the next visit.
 */
void sp_note_unmapped(struct mm_struct *mm, unsigned long start,
		      unsigned long end)
{
	struct sp_mm_slot *slot;
	unsigned long flags;

	rcu_read_lock();
	slot = sp_find_slot(mm);
	if (slot) {
		spin_lock_irqsave(&slot->unmapped_lock, flags);
		if (slot->nr_unmapped < SP_UNMAPPED_MAX) {
			slot->unmapped[slot->nr_unmapped].start = start;
			slot->unmapped[slot->nr_unmapped++].end = end;
		} else {
			unsigned int last = SP_UNMAPPED_MAX - 1;

			slot->unmapped[last].start = min(slot->unmapped[last].start, start);
			/* it covers mapped addresses too: see drop_stale_items() */
			slot->unmapped[last].end = max(slot->unmapped[last].end, end);
		}
		spin_unlock_irqrestore(&slot->unmapped_lock, flags);
		sp_reap_soon();
	}
	rcu_read_unlock();
}

/**
 * sp_take_unmapped() - the ranges sp_note_unmapped() queued on @slot
 * @slot: the slot
 * @r: filled with them; the queue is empty afterwards
 *
 * Return: how many there were.
 */
unsigned int sp_take_unmapped(struct sp_mm_slot *slot,
			      struct sp_span r[SP_UNMAPPED_MAX])
{
	unsigned long flags;
	unsigned int n;

	spin_lock_irqsave(&slot->unmapped_lock, flags);
	n = slot->nr_unmapped;
	memcpy(r, slot->unmapped, n * sizeof(r[0]));
	slot->nr_unmapped = 0;
	spin_unlock_irqrestore(&slot->unmapped_lock, flags);
	return n;
}

/* Should the reaper run once more (it re-arms itself a bounded number of times)? */
bool sp_reap_again(void)
{
	return atomic_dec_if_positive(&reap_retries) >= 0;
}

static void sp_mn_release(struct mmu_notifier *mn, struct mm_struct *mm)
{
	sp_reap_soon();
}

static int sp_mn_invalidate_range_start(struct mmu_notifier *mn,
					const struct mmu_notifier_range *range)
{
	if (range->event == MMU_NOTIFY_UNMAP)
		sp_note_unmapped(range->mm, range->start, range->end);
	return 0;
}

static struct mmu_notifier *sp_mn_alloc(struct mm_struct *mm)
{
	struct mmu_notifier *mn = kzalloc(sizeof(*mn), GFP_KERNEL);

	return mn ? mn : ERR_PTR(-ENOMEM);
}

static void sp_mn_free(struct mmu_notifier *mn)
{
	kfree(mn);
}

static const struct mmu_notifier_ops sp_mn_ops = {
	.release = sp_mn_release,
	.invalidate_range_start = sp_mn_invalidate_range_start,
	.alloc_notifier = sp_mn_alloc,
	.free_notifier = sp_mn_free,
};

/**
 * sp_notifier_get() - samepage's notifier on @mm, registered if need be
 * @mm: the address space; the caller holds an mm_users reference
 *
 * Takes @mm's mmap lock for write: call it with no mmap lock held.
 *
 * Return: the notifier (drop it with sp_notifier_put()) or an ERR_PTR.
 */
struct mmu_notifier *sp_notifier_get(struct mm_struct *mm)
{
	return mmu_notifier_get(&sp_mn_ops, mm);
}

void sp_notifier_put(struct mmu_notifier *mn)
{
	mmu_notifier_put(mn);
}

/* Unload: wait until every put notifier is freed and no callback runs. */
void sp_notifier_exit(void)
{
	mmu_notifier_synchronize();
}
