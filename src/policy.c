// SPDX-License-Identifier: GPL-2.0
/*
 * What a visit may do with a page: whether its VMA is one samepage merges
 * in, its content key, whether smart scan skips it this pass, and how its
 * content compares with its last visit (the two-pass rule, see scan.c).
 */
#include <linux/mm.h>
#include <linux/hugetlb.h>

#include "samepage.h"
#include "engine.h"
#include "scanner.h"

/**
 * sp_vma_why() - may samepage merge in @vma? (Documentation/design.md,
 * "Architecture")
 * @vma: the VMA
 *
 * Return: -1 for private anonymous memory samepage merges, else the
 * SAMEPAGE_WHY_VMA_* reason it does not.
 */
int sp_vma_why(struct vm_area_struct *vma)
{
	vm_flags_t other = VM_DONTEXPAND;

#ifdef VM_DROPPABLE
	other |= VM_DROPPABLE;
#endif
#ifdef CONFIG_HAVE_ARCH_USERFAULTFD_WP
	other |= VM_UFFD_WP;
#endif
	if (vma->vm_flags & (VM_SHARED | VM_MAYSHARE))
		return SAMEPAGE_WHY_VMA_SHARED;
	if (vma->vm_flags & VM_HUGETLB)
		return SAMEPAGE_WHY_VMA_HUGETLB;
	if (vma->vm_flags & (VM_PFNMAP | VM_IO | VM_MIXEDMAP))
		return SAMEPAGE_WHY_VMA_IO;
	/*
	 * mlock()ed memory merges, as in-tree: a kpage mapped in a VM_LOCKED
	 * VMA is mlocked by the rmap code (NR_MLOCK), munlocked when the
	 * last locked mapping goes, and cleared when it is freed.
	 * SAMEPAGE_WHY_VMA_LOCKED is no longer an outcome.
	 */
	if ((vma->vm_flags & other) || vma_is_dax(vma))
		return SAMEPAGE_WHY_VMA_OTHER;
	return -1;
}

/* Eligible and holding anonymous pages: worth walking. */
bool sp_vma_eligible(struct vm_area_struct *vma)
{
	return sp_vma_why(vma) < 0 && vma->anon_vma;
}

/* @key's node and scope, for @page of @slot. */
static void key_domain(struct sp_mm_slot *slot, struct page *page, struct sp_key *key)
{
	key->nid = 0;
	if (!READ_ONCE(samepage_knobs.merge_across_nodes))
		key->nid = page_to_nid(page);
	sp_key_scope(slot, page, key);
}

struct sp_key sp_page_key(struct sp_mm_slot *slot, struct page *page)
{
	struct sp_key key = {};

	key_domain(slot, page, &key);
	key.hash = sp_page_hash(page);
	return key;
}

/*
 * Does @page of @slot belong to @key's node and scope? (An unstable
 * partner, whose item keeps only its key's digest.)
 */
bool sp_key_domain_eq(struct sp_mm_slot *slot, struct page *page, const struct sp_key *key)
{
	struct sp_key k = { .hash = key->hash };

	key_domain(slot, page, &k);
	return sp_key_eq(&k, key);
}

/*
 * Smart scan, with in-tree KSM's ladder (6.7+): a page that has been
 * visited three times without merging is skipped for 1, 2, 4 and then 8
 * passes between visits, depending on how often it was visited, and
 * counted in pages_skipped. Kpages are never skipped. Unlike in-tree, a
 * twin that appears meanwhile does not wait for the skipped page's next
 * visit: a page due for a skip whose last key is in either tree now (a
 * lookup by hash, no page read) is visited instead, and a skipped page
 * stays in the unstable tree, dormant, for twins that come after it in
 * the pass (sp_unstable_keep()).
 */
#define SP_AGE_MAX	15	/* sp_rmap_item.age has 4 bits; the ladder tops at 9 */

static unsigned int skip_passes(u8 age)
{
	if (age <= 3)
		return 1;
	if (age <= 5)
		return 2;
	if (age <= 8)
		return 4;
	return 8;
}

bool sp_smart_skip(struct sp_rmap_item *item)
{
	u8 age;

	if (!READ_ONCE(samepage_knobs.smart_scan))
		return false;
	age = item->age;
	if (age != SP_AGE_MAX)
		item->age++;
	if (age < 3)
		return false;
	if (!item->remaining_skips) {
		item->remaining_skips = skip_passes(age);
		return false;
	}
	if (sp_item_has(item, SP_ITEM_SEEN) && sp_digest_known(item->digest))
		return false;		/* a twin may be there: look */
	item->remaining_skips--;
	samepage_engine.c.pages_skipped++;
	sp_unstable_keep(item);		/* findable by a new twin */
	return true;
}

/*
 * cow_cooldown_passes (default 0, in-tree's timing): a merged page written
 * to within that many passes of its merge is fast-changing, and counts as
 * volatile for as many visits before samepage tries to merge it again,
 * instead of merging and breaking it every pass.
 */

/*
 * @item's kpage was replaced by a copy (written to, or unshared, since it
 * was merged): it leaves the kpage, and cools if that was soon after the
 * merge. merged_at holds the low 16 bits of full_scans: a page merged a
 * multiple of 65536 passes ago may cool too, which costs a few visits.
 */
void sp_note_cow(struct sp_rmap_item *item)
{
	unsigned int cool = READ_ONCE(samepage_knobs.cow_cooldown_passes);
	u16 since = (u16)samepage_engine.c.full_scans - item->merged_at;

	sp_item_unlink(item);		/* clears the cooldown */
	if (since < cool)
		item->cooldown = cool;
}

/*
 * Classify @item's content @key against its previous visits, and record
 * @key's digest. @now (MERGE_RANGE) asks for a merge whatever the history. A
 * fast-changing page (written to soon after a merge) is cooling for a few
 * more visits.
 */
enum sight sp_sight(struct sp_rmap_item *item, const struct sp_key *key, bool now)
{
	u32 digest = sp_key_digest(key);
	bool first = !sp_item_has(item, SP_ITEM_SEEN);
	bool changed = !first && item->digest != digest;

	/* in the unstable table, its digest picks its bucket */
	WARN_ON_ONCE(sp_item_has(item, SP_ITEM_UNSTABLE));
	item->digest = digest;
	sp_item_flag(item, SP_ITEM_SEEN, true);
	if (now)
		return SIGHT_STEADY;
	if (item->cooldown) {
		item->cooldown--;
		return SIGHT_COOLING;
	}
	if (changed || (first && !READ_ONCE(samepage_knobs.merge_first_sight)))
		return SIGHT_CHANGED;
	return SIGHT_STEADY;
}

