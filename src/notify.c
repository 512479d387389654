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
