// SPDX-License-Identifier: GPL-2.0
/*
 * Moving kpages (Documentation/design.md, "Arenas"): the kernel's
 * compaction cannot migrate a kpage, so samepage packs its own. After each
 * full pass (and on the prune timer) samepaged marks the sparsest arenas
 * of each node for emptying (arena.c, sp_arena_plan()), and moves every
 * kpage out of them, and every loose kpage, into a frame of the fullest
 * arenas. An arena left empty goes back to the page allocator whole: one
 * more huge page the kernel can build.
 *
 * A move is a merge whose old page is a kpage: a copy K' of kpage K is
 * made, then each address samepage merged into K is re-pointed at K' with
 * the merge sequence (sp_replace_page(): under the mmap lock, the folio
 * locks, an mmu notifier range and the PTL, after a compare), and its item
 * follows (sp_item_move()). The counters stay exact throughout: K' joins
 * the stable table as a dup of K's content, and K leaves it when its last
 * item has moved.
 *
 * A kpage with mappers samepage does not know (a forked child it never
 * scanned) is not moved: its mapcount differs from its sharers. Should one
 * appear during a move (a fork between two addresses), or should an
 * address be pinned or busy, K keeps what did not move and stays where it
 * is, correct either way: the content is then in two kpages until the next
 * move or the prune. A mapping's mm is only trylocked: samepaged holds the
 * engine lock, and never waits for an mmap lock under it.
 */
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/userfaultfd_k.h>
#include "compat.h"
#include "samepage.h"
#include "engine.h"

/* Re-point @item's address from @from's kpage to @to's. */
static void move_item(struct sp_rmap_item *item, struct sp_stable_node *from,
		      struct sp_stable_node *to)
{
	struct mm_struct *mm = item->slot->mm;
	struct folio *kfolio = page_folio(from->kpage);
	struct vm_area_struct *vma;
	int err = -EAGAIN;

	if (!mmget_not_zero(mm))
		return;		/* exiting: its items go with it */
	if (!mmap_read_trylock(mm))
		goto out;
	vma = vma_lookup(mm, sp_item_addr(item));
	/* uffd-wp marks live in the PTE, which a move does not carry over */
	if (vma && !(vma->vm_flags & VM_UFFD_WP) && folio_trylock(kfolio)) {
		folio_lock(page_folio(to->kpage));
		err = sp_replace_page(vma, sp_item_addr(item), from->kpage, to->kpage, NULL);
		folio_unlock(page_folio(to->kpage));
		folio_unlock(kfolio);
	}
	mmap_read_unlock(mm);
	if (!err)
		sp_item_move(item, to);
out:
	mmput_async(mm);
}

/*
 * Move @from's kpage into an arena. Return: false if it could not start
 * (no frame to be had: nothing more moves this time).
 */
static bool move_kpage(struct sp_stable_node *from)
{
	struct sp_rmap_item *item;
	struct hlist_node *tmp;
	struct sp_stable_node *to;
	unsigned long moved;

	to = sp_kpage_clone(from);
	if (IS_ERR(to))
		return false;
	moved = to->sharers;
	hlist_for_each_entry_safe(item, tmp, &from->items, nlink)
		move_item(item, from, to);
	samepage_engine.c.kpages_moved += to->sharers > moved;
	sp_kpage_drop(to);	/* if nothing moved */
	sp_kpage_drop(from);	/* if everything did */
	return true;
}

/**
 * sp_compact() - move kpages out of sparse arenas, and loose ones in
 * @budget: most kpages to move
 *
 * samepaged, engine lock held, no mmap lock held.
 */
void sp_compact(unsigned int budget)
{
	struct sp_stable_node *node, *tmp;

	lockdep_assert_held(&samepage_engine.lock);
	if (!sp_arena_plan())
		goto out;
	list_for_each_entry_safe(node, tmp, &samepage_engine.kpages, list) {
		if (!budget)
			break;
		if (node->poison || !node->sharers || !sp_arena_should_move(node->kpage))
			continue;
		/* mappers samepage does not know: it stays where it is */
		if (sp_mapcount(page_folio(node->kpage)) != node->sharers)
			continue;
		budget--;
		if (!move_kpage(node))
			break;
		cond_resched();
	}
out:
	sp_arena_flush();	/* what the prune or the moves gave back */
}
