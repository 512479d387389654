// SPDX-License-Identifier: GPL-2.0
/*
 * The visit of one address: its rmap_item, its content and the merge it
 * leads to; the subpages of a PMD-mapped THP are visited together.
 */
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/xarray.h>

#include "samepage.h"
#include "engine.h"
#include "scanner.h"

/*
 * The part of a visit before the content is looked at: the rmap_item of
 * @addr (NULL without memory), and whether @page maps a kpage already or
 * is skipped. Sets *@why when the visit ends here.
 */
static struct sp_rmap_item *visit_item(struct sp_mm_slot *slot, unsigned long addr,
				       struct page *page, bool now, int *why)
{
	struct samepage_engine *e = &samepage_engine;
	struct sp_rmap_item *item;

	*why = SAMEPAGE_WHY_RACE;	/* no memory for an rmap_item */
	item = sp_get_item(slot, addr);
	if (!item)
		return NULL;
	sp_set_zero(item, false);	/* our zero page, if any, was COWed */
	sp_thp_mark(item, false);
	if (sp_is_kpage(page)) {
		e->c.pages_scanned++;
		if (sp_item_node(item) && sp_item_node(item)->kpage != page)
			sp_item_unlink(item);
		/* a forked child's copy of the mapping, counted like in-tree */
		if (!sp_item_node(item)) {
			struct sp_stable_node *node = sp_kpage_node(page);

			if (node)
				sp_item_link(item, node);
		}
		*why = SAMEPAGE_WHY_MERGED;
		return NULL;
	}
	if (sp_item_node(item))		/* merged, and written to since */
		sp_note_cow(item);
	*why = SAMEPAGE_WHY_SMART_SCAN;
	if (!now && sp_smart_skip(item))
		return NULL;
	e->c.pages_scanned++;
	sp_unstable_erase(item);
	return item;
}

/**
 * scan_page() - one visit of one address mapped by a PTE
 * @slot: its slot
 * @vma: its VMA (eligible; the mmap lock is held)
 * @addr: the address
 * @page: the anonymous page mapped there (referenced; the caller puts it)
 * @now: MERGE_RANGE: merge now, without waiting for the content to hold
 *	still for a pass, and without smart scan
 *
 * Return: the outcome, an enum samepage_why.
 */
static int scan_page(struct sp_mm_slot *slot, struct vm_area_struct *vma,
		     unsigned long addr, struct page *page, bool now)
{
	struct sp_rmap_item *item;
	struct sp_key key;
	int why;

	item = visit_item(slot, addr, page, now, &why);
	if (!item)
		return why;
	key = sp_page_key(slot, page);
	return sp_merge_page(vma, item, page, &key, sp_sight(item, &key, now));
}

/* @slot's pass is done: its outcomes become the last pass's. */
void sp_outcomes_end_pass(struct sp_mm_slot *slot)
{
	memcpy(slot->why_last, slot->why_cur, sizeof(slot->why_last));
	memset(slot->why_cur, 0, sizeof(slot->why_cur));
	slot->full_scans++;
}

void sp_outcome(struct sp_visit *v, int why, unsigned long pages)
{
	if (v->now)		/* MERGE_RANGE is not part of a pass */
		return;
	v->slot->why_cur[why] += pages;
	sp_pass_visited(pages);
}

/*
 * Outcomes of the subpages of a THP left whole that held still (@ready):
 * @why (pinned, busy) if splitting failed; else SAMEPAGE_WHY_THP for each
 * one with a partner, found this pass from either side, and
 * SAMEPAGE_WHY_UNIQUE for the others.
 */
static void thp_outcomes(struct sp_visit *v, unsigned long addr, unsigned long end,
			 const unsigned long *ready, int why)
{
	unsigned long a;

	for (a = addr; a < end; a += PAGE_SIZE) {
		if (!test_bit((a & ~PMD_MASK) >> PAGE_SHIFT, ready))
			continue;
		if (why == SAMEPAGE_WHY_THP && !sp_thp_credited(v->slot, a))
			sp_outcome(v, SAMEPAGE_WHY_UNIQUE, 1);
		else
			sp_outcome(v, why, 1);
	}
}

/**
 * scan_thp() - visit the part [@addr, @end) of a PMD-mapped THP
 * @v: the visit
 * @addr: first address (inside the THP; @page is mapped there)
 * @end: end of the part to visit (at most the end of the THP)
 * @page: the subpage at @addr, referenced (put here)
 *
 * Hashes every subpage of the part and counts those with a partner (see
 * the block comment in thp.c). Below the threshold the THP
 * stays whole: its subpages wait in the unstable tree (where they count
 * for other THPs), those with a partner are counted as SAMEPAGE_WHY_THP
 * and the part in pages_skipped_thp. At the threshold the THP is split,
 * and each subpage that held still merges as a small page would.
 */
static void scan_thp(struct sp_visit *v, unsigned long addr, unsigned long end,
		     struct page *page)
{
	DECLARE_BITMAP(ready, SP_PMD_PAGES);
	struct page *first = page - ((addr & ~PMD_MASK) >> PAGE_SHIFT);
	bool zero_ok = READ_ONCE(samepage_knobs.use_zero_pages);
	unsigned long a, partners = 0, total;
	struct sp_rmap_item *item;
	int why;

	bitmap_zero(ready, SP_PMD_PAGES);
	for (a = addr; a < end; a += PAGE_SIZE) {
		unsigned int i = (a & ~PMD_MASK) >> PAGE_SHIFT;
		struct sp_rmap_item *twin;
		struct sp_key key;

		item = visit_item(v->slot, a, first + i, v->now, &why);
		if (!item) {
			sp_outcome(v, why, 1);
			continue;
		}
		sp_thp_mark(item, true);
		key = sp_page_key(v->slot, first + i);
		if (sp_sight(item, &key, v->now) != SIGHT_STEADY) {	/* as in-tree */
			sp_outcome(v, SAMEPAGE_WHY_VOLATILE, 1);
			continue;
		}
		__set_bit(i, ready);
		if (sp_stable_find(&key) || (zero_ok && sp_hash_is_zero(key.hash))) {
			sp_thp_credit(item);
			partners++;
			continue;
		}
		twin = sp_unstable_find(&key);
		if (twin) {
			sp_thp_credit(item);
			partners++;
			if (sp_item_has(twin, SP_ITEM_IN_THP))
				sp_thp_credit(twin);	/* its THP has a partner too */
		}
		sp_unstable_insert(item);
	}
	total = sp_thp_hits(v->slot, addr, partners);

	why = SAMEPAGE_WHY_THP;
	if (partners && total >= sp_thp_threshold())
		why = sp_split_thp(page);
	put_page(page);
	if (why) {			/* left whole */
		samepage_engine.c.pages_skipped_thp += (end - addr) >> PAGE_SHIFT;
		thp_outcomes(v, addr, end, ready, why);
		return;
	}
	for (a = addr; a < end; a += PAGE_SIZE) {
		unsigned int i = (a & ~PMD_MASK) >> PAGE_SHIFT;
		struct page *sub;

		if (!test_bit(i, ready))
			continue;
		item = xa_load(&v->slot->items, a >> PAGE_SHIFT);
		if (!item)		/* cannot happen: the mmap lock is held */
			continue;
		sp_thp_mark(item, false);
		sp_unstable_erase(item);
		switch (sp_get_anon_page(v->vma, a, &sub, v->pc)) {
		case SP_PTE_ANON:
			/* merged meanwhile, as the partner of an earlier subpage */
			if (sp_item_node(item) || sp_is_kpage(sub)) {
				why = SAMEPAGE_WHY_MERGED;
			} else {
				/* the item keeps a digest: the full key again */
				struct sp_key key = sp_page_key(v->slot, sub);

				why = sp_merge_page(v->vma, item, sub, &key, SIGHT_STEADY);
			}
			sp_outcome(v, why, 1);
			put_page(sub);
			break;
		case SP_PTE_HUGE:	/* collapsed again already */
			put_page(sub);
			fallthrough;
		default:
			sp_outcome(v, SAMEPAGE_WHY_RACE, 1);
			break;
		}
	}
}

/*
 * [@addr, @end) has no page in it (the empty PTEs after a lookup, or a
 * stretch without page tables): its items go, and it costs nothing
 * against pages_to_scan.
 */
static void visit_gap(struct sp_visit *v, unsigned long addr, unsigned long end)
{
	unsigned long next;

	if (addr >= end)
		return;
	/*
	 * One lookup of the next item serves every gap before it: a sparse
	 * page's two gaps (the rest of its page table, the stretch without
	 * tables after it) cost one xarray search, not two range walks.
	 */
	if (addr < v->no_items_from || end > v->no_items_to) {
		next = sp_next_item_addr(v->slot, addr);
		if (next < end) {
			sp_drop_items(v->slot, addr, end);
			next = end;
		}
		v->no_items_from = addr;
		v->no_items_to = next;
	}
	sp_outcome(v, SAMEPAGE_WHY_NOT_PRESENT, (end - addr) >> PAGE_SHIFT);
}

/**
 * sp_visit_addr() - one step of a walk: the address @addr, or more
 * @v: the visit
 * @addr: the address
 * @end: end of the registered stretch of @v->vma it is in
 * @cost: out: the step's cost against pages_to_scan
 *
 * A step looks at one address and passes the empty stretch after it at no
 * cost, as in-tree's range walk counts only the pages it looks at: the
 * empty PTEs that follow in the same page table (the lookup found where
 * they end, sp_pmd_cache.gap_end), or, where there is no page table or a
 * PMD maps the huge zero page, up to the next page table (sp_table_gap_end(),
 * a PUD or more at a time where those are empty). Each page of a THP is
 * visited with the others (scan_thp()).
 *
 * Only an anonymous page costs 1 against pages_to_scan, as only those are
 * what in-tree's walk returns: an address that maps the zero page (memory
 * read but never written: most of a restored VM's RAM) or nothing
 * mergeable (swapped, not present) costs nothing. The walk's own limit is
 * the batch's time (walk_should_yield(), scan.c).
 *
 * Return: how many addresses the step covered (at least 1).
 */
unsigned long sp_visit_addr(struct sp_visit *v, unsigned long addr,
			    unsigned long end, unsigned long *cost)
{
	struct sp_rmap_item *item;
	unsigned long next;
	struct page *page;
	int why;

	next = addr + PAGE_SIZE;
	*cost = 1;
	switch (sp_get_anon_page(v->vma, addr, &page, v->pc)) {
	case SP_PTE_HUGE:
		next = min(ALIGN(next, PMD_SIZE), end);
		scan_thp(v, addr, next, page);
		*cost = (next - addr) >> PAGE_SHIFT;
		return *cost;
	case SP_PTE_NO_TABLE:
		next = sp_table_gap_end(v->vma->vm_mm, addr, end);
		visit_gap(v, addr, next);
		*cost = 0;
		return (next - addr) >> PAGE_SHIFT;
	case SP_PTE_NONE:
		*cost = 0;
		why = SAMEPAGE_WHY_NOT_PRESENT;
		sp_drop_items(v->slot, addr, next);
		break;
	case SP_PTE_ZERO:
		*cost = 0;
		item = xa_load(&v->slot->items, addr >> PAGE_SHIFT);
		why = SAMEPAGE_WHY_MERGED;
		if (item && item->zero)
			break;
		if (item)		/* a read fault's zero page now */
			sp_drop_item(item);
		why = SAMEPAGE_WHY_NOT_PRESENT;
		break;
	case SP_PTE_ANON:
		why = scan_page(v->slot, v->vma, addr, page, v->now);
		put_page(page);
		break;
	}
	sp_outcome(v, why, 1);
	/* and the empty PTEs after it, found by the lookup */
	end = min(v->pc->gap_end, end);
	visit_gap(v, next, end);
	return (max(end, next) - addr) >> PAGE_SHIFT;
}
