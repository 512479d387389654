// SPDX-License-Identifier: GPL-2.0
/*
 * The huge-page policy of a visit: when a PMD-mapped THP is split so that
 * its subpages can merge, and the split itself.
 */
#include <linux/mm.h>
#include <linux/huge_mm.h>
#include <linux/pagemap.h>

#include "samepage.h"
#include "engine.h"
#include "ksyms.h"
#include "scanner.h"

/*
 * Split @page's large folio (the caller holds a reference on it and the
 * folio lock): the PMD mapping, if any, becomes PTEs, and the lock and the
 * reference stay with @page's new small folio. Return: 0, or
 * SAMEPAGE_WHY_PINNED or _RACE with the folio unlocked.
 */
int sp_split_locked(struct page *page)
{
	struct folio *folio = page_folio(page);
	bool pmd_mapped = folio_test_pmd_mappable(folio);
	int err = sp_split_huge_page(page);

	if (err) {
		folio_unlock(folio);
		return err == -EBUSY || err == -EAGAIN ? SAMEPAGE_WHY_PINNED :
			SAMEPAGE_WHY_RACE;
	}
	if (pmd_mapped)
		samepage_engine.c.thp_split++;
	return 0;
}

/*
 * Split the large folio that @page (referenced) belongs to. Return: 0 (also
 * when someone split it first), SAMEPAGE_WHY_PINNED or _RACE.
 */
int sp_split_thp(struct page *page)
{
	if (!folio_trylock(page_folio(page)))
		return SAMEPAGE_WHY_RACE;
	if (!folio_test_large(page_folio(page))) {	/* split by someone else meanwhile */
		folio_unlock(page_folio(page));
		return 0;
	}
	if (sp_split_locked(page))
		return SAMEPAGE_WHY_PINNED;	/* sp_split_locked() unlocked it */
	folio_unlock(page_folio(page));
	return 0;
}

/*
 * Huge pages (Documentation/design.md, "Architecture"). In-tree KSM splits
 * a THP as soon as one of its subpages finds a twin, giving up the huge TLB
 * entry for 4 KiB.
 * samepage splits a PMD-mapped THP only once at least thp_min_mergeable of
 * its subpages have a partner (1: in-tree's behaviour): a kpage of the same
 * hash, a candidate of this pass with the same hash (inside the same huge
 * page too), or the zero page with use_zero_pages. The memcmp() that every
 * merge makes confirms each one.
 *
 * Partners are counted both ways. When scan_thp() (visit.c) visits a THP it counts
 * its own subpages' partners; and each of its subpages that is found as a
 * partner of another page (a candidate of another THP, or later, any page
 * that meets it in the unstable tree) adds one to that other THP's count.
 * The count lives in the rmap_item of the THP's first subpage
 * (@thp_hits, for one unstable-tree generation); @thp_hit marks a subpage
 * counted already. Two THPs with 100 equal subpages are therefore both
 * split in the pass in which the second is visited; two with 10 (below a
 * threshold of 64) both stay whole.
 *
 * PTE-mapped large folios (mTHP sizes, or THPs whose PMD was split) have
 * no such count: one of their subpages that merges splits them, as
 * in-tree. MERGE_RANGE follows the same rule.
 */

/* @item is a subpage of a PMD-mapped THP being visited (@in), or not. */
void sp_thp_mark(struct sp_rmap_item *item, bool in)
{
	item->in_thp = in;
}

/* The rmap_item of the first subpage of @item's PMD-mapped THP, or NULL. */
struct sp_rmap_item *sp_thp_head_item(struct sp_rmap_item *item)
{
	unsigned long haddr = item->addr & PMD_MASK;
	struct sp_rmap_item *head = xa_load(&item->slot->items, haddr >> PAGE_SHIFT);
	u32 gen = (u32)sp_unstable_gen();

	if (head && head->thp_gen != gen) {
		head->thp_gen = gen;
		head->thp_hits = 0;
	}
	return head;
}

unsigned int sp_thp_threshold(void)
{
	return clamp_t(unsigned int, READ_ONCE(samepage_knobs.thp_min_mergeable), 1,
		       SP_PMD_PAGES);
}

/* @item, a subpage of a PMD-mapped THP, has a partner: count it once. */
void sp_thp_credit(struct sp_rmap_item *item)
{
	u32 gen = (u32)sp_unstable_gen();
	struct sp_rmap_item *head;

	if (item->thp_hit_gen == gen)
		return;
	head = sp_thp_head_item(item);
	if (!head)
		return;
	item->thp_hit_gen = gen;
	if (head->thp_hits < SP_PMD_PAGES)
		head->thp_hits++;
}

/*
 * @partner, a subpage of a PMD-mapped THP, is the twin of the page being
 * merged: may its THP be split now? It is credited with this partner
 * first.
 */
bool sp_thp_may_split(struct sp_rmap_item *partner)
{
	struct sp_rmap_item *head;

	sp_thp_credit(partner);
	head = sp_thp_head_item(partner);
	return head && head->thp_hits >= sp_thp_threshold();
}

