// SPDX-License-Identifier: GPL-2.0
/*
 * The huge-page policy of a visit: when a PMD-mapped THP is split so that
 * its subpages can merge, and the split itself.
 */
#include <linux/mm.h>
#include <linux/huge_mm.h>
#include <linux/pagemap.h>
#include <linux/hashtable.h>
#include <linux/slab.h>

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
 * The count lives beside the items (struct thp_count below), for one
 * unstable-tree generation: a bit per subpage counted already. Two THPs
 * with 100 equal subpages are therefore both
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
	sp_item_flag(item, SP_ITEM_IN_THP, in);
}

/*
 * struct thp_count - the partners of one PMD-mapped THP in this pass
 * @link: in thp_counts
 * @serial: the THP's slot (sp_mm_slot.serial: a slot's address may be
 *	reused by a new slot within a pass, its serial never is)
 * @haddr: the THP's address
 * @credited: the subpages that have a partner in this pass (their number
 *	is the THP's count)
 *
 * Made for a THP when the first of its subpages is found to have a
 * partner, and forgotten, with every other, when the unstable tree's
 * generation moves on: the counts are per tree. Only THPs with a partner
 * have one, so the items need no field for it. Engine lock.
 */
struct thp_count {
	struct hlist_node link;
	u64 serial;
	unsigned long haddr;
	DECLARE_BITMAP(credited, SP_PMD_PAGES);
};

#define THP_COUNT_BITS	10
static DEFINE_HASHTABLE(thp_counts, THP_COUNT_BITS);
static unsigned long thp_counts_gen;	/* the tree they count in */

static void thp_counts_clear(void)
{
	struct thp_count *tc;
	struct hlist_node *tmp;
	unsigned int b;

	hash_for_each_safe(thp_counts, b, tmp, tc, link) {
		hash_del(&tc->link);
		kfree(tc);
	}
}

/*
 * The count of the THP at @addr of @slot, made if @make and memory allows,
 * or NULL. Counts of an earlier tree are dropped first.
 */
static struct thp_count *thp_count(const struct sp_mm_slot *slot, unsigned long addr,
				   bool make)
{
	unsigned long haddr = addr & PMD_MASK, gen = sp_unstable_gen();
	u64 key = slot->serial ^ (haddr >> PMD_SHIFT) * GOLDEN_RATIO_64;
	struct thp_count *tc;

	lockdep_assert_held(&samepage_engine.lock);
	if (thp_counts_gen != gen) {
		thp_counts_clear();
		thp_counts_gen = gen;
	}
	hash_for_each_possible(thp_counts, tc, link, key)
		if (tc->serial == slot->serial && tc->haddr == haddr)
			return tc;
	if (!make)
		return NULL;
	tc = kzalloc(sizeof(*tc), SP_GFP_SCAN);
	if (!tc)
		return NULL;	/* uncounted: the THP stays whole */
	tc->serial = slot->serial;
	tc->haddr = haddr;
	hash_add(thp_counts, &tc->link, key);
	return tc;
}

/* Module unload (every count is of a tree that is gone). */
void sp_thp_exit(void)
{
	thp_counts_clear();
}

unsigned int sp_thp_threshold(void)
{
	return clamp_t(unsigned int, READ_ONCE(samepage_knobs.thp_min_mergeable), 1,
		       SP_PMD_PAGES);
}

static unsigned int subpage_of(unsigned long addr)
{
	return (addr & ~PMD_MASK) >> PAGE_SHIFT;
}

/* @item, a subpage of a PMD-mapped THP, has a partner: count it once. */
void sp_thp_credit(struct sp_rmap_item *item)
{
	unsigned long addr = sp_item_addr(item);
	struct thp_count *tc = thp_count(item->slot, addr, true);

	if (tc)
		__set_bit(subpage_of(addr), tc->credited);
}

/* Was the subpage at @addr of @slot counted as having a partner this pass? */
bool sp_thp_credited(const struct sp_mm_slot *slot, unsigned long addr)
{
	struct thp_count *tc = thp_count(slot, addr, false);

	return tc && test_bit(subpage_of(addr), tc->credited);
}

/*
 * The partners counted this pass for the THP at @addr of @slot, or
 * @partners, those its visit found, if it has no count (no memory for one).
 */
unsigned int sp_thp_hits(const struct sp_mm_slot *slot, unsigned long addr,
			 unsigned int partners)
{
	struct thp_count *tc = thp_count(slot, addr, false);

	return tc ? bitmap_weight(tc->credited, SP_PMD_PAGES) : partners;
}

/*
 * @partner, a subpage of a PMD-mapped THP, is the twin of the page being
 * merged: may its THP be split now? It is credited with this partner
 * first.
 */
bool sp_thp_may_split(struct sp_rmap_item *partner)
{
	sp_thp_credit(partner);
	return sp_thp_hits(partner->slot, sp_item_addr(partner), 0) >= sp_thp_threshold();
}
