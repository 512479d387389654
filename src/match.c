// SPDX-License-Identifier: GPL-2.0
/*
 * Merging one visited page: into a stable kpage of its content, or with a
 * candidate of this pass from the unstable table, into a new kpage.
 */
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/err.h>

#include "samepage.h"
#include "engine.h"
#include "scanner.h"

/* What one attempt to map a kpage (or the zero page) at an address did. */
enum merge_result {
	MERGE_DONE,	/* the address maps it now */
	MERGE_DIFFERS,	/* the contents differ (compared under the locks) */
	MERGE_PINNED,	/* the page is pinned, or its large folio would not split */
	MERGE_BUSY,	/* locked, or the mapping changed meanwhile: next pass */
};

/* The outcome a merge result gives the page (MERGE_DIFFERS: the caller's). */
static int merge_why(enum merge_result r)
{
	switch (r) {
	case MERGE_DONE:
		return SAMEPAGE_WHY_MERGED;
	case MERGE_PINNED:
		return SAMEPAGE_WHY_PINNED;
	default:
		return SAMEPAGE_WHY_RACE;
	}
}

/*
 * Lock both pages and map @kpage (NULL: the zero page) at @addr if the
 * content is the same, or (@fill, its key) fill the new @kpage from @page. A page
 * of a large folio is split off it first, as in-tree KSM does (the caller
 * decided that the huge page may go: see scan_thp(), visit.c).
 */
static enum merge_result try_merge(struct vm_area_struct *vma, unsigned long addr,
				   struct page *page, struct page *kpage,
				   const struct sp_key *fill)
{
	struct folio *folio = page_folio(page);
	int err;

	if (kpage && folio == page_folio(kpage))
		return MERGE_DONE;	/* never: the callers check */
	if (!folio_trylock(folio))
		return MERGE_BUSY;
	if (folio_test_large(folio)) {
		err = sp_split_locked(page);
		if (err)
			return err == SAMEPAGE_WHY_PINNED ? MERGE_PINNED : MERGE_BUSY;
		folio = page_folio(page);
	}
	if (kpage)
		folio_lock(page_folio(kpage));
	err = sp_replace_page(vma, addr, page, kpage, fill);
	if (kpage)
		folio_unlock(page_folio(kpage));
	folio_unlock(folio);
	if (!err)
		return MERGE_DONE;
	if (err == -ESTALE)
		return MERGE_DIFFERS;
	return err == -EBUSY ? MERGE_PINNED : MERGE_BUSY;
}

/* What became of a merge with one candidate of the unstable table. */
enum partner_result {
	PARTNER_MERGED,		/* @page maps a new kpage (the partner too, unless busy) */
	PARTNER_STALE,		/* @page changed since its visit: no candidate */
	PARTNER_DIFFERENT,	/* a hash collision (counted), a digest shared by a
				 * page of another node or scope, or a twin that
				 * cannot merge now (pinned, busy): try the next */
	PARTNER_GONE,		/* unusable: it leaves the unstable table */
	PARTNER_KEEP,		/* its THP stays whole for now, in the table */
	PARTNER_SELF,		/* it maps @page itself (a fork): nothing to merge */
	PARTNER_FAILED,		/* @page could not merge now (the outcome says why) */
};

/*
 * Equal hashes led to different content: a collision only if both pages
 * still hash to @key. A page its process wrote between its visit and the
 * memcmp() (or a kpage filled from such a page) is a changed page, not a
 * collision: fuzz_concurrent once counted 6 of those.
 */
static void count_collision(struct page *a, struct page *b, const struct sp_key *key)
{
	if (sp_page_hash(a) == key->hash && sp_page_hash(b) == key->hash)
		samepage_engine.c.hash_collisions++;
}

/*
 * @page (visited with @key) and @partner's page @ppage (of @key's node and
 * scope, checked before) differ. Equal hashes: a collision, counted. Else
 * the partner leaves the tree only if its content changed since its visit,
 * that is, if it no longer has the digest it was filed under: another
 * content that merely shares @key's digest is a valid candidate for its
 * own twins (evicting it made such a pair never merge: about one pair in
 * 2^32 / candidates, 5 of 65536 in the bench's W3 at 1 GiB).
 */
static enum partner_result partner_differs(struct page *page, struct page *ppage,
					   const struct sp_key *key,
					   const struct sp_rmap_item *partner)
{
	struct sp_key pkey = *key;

	pkey.hash = sp_page_hash(ppage);
	if (pkey.hash == key->hash) {
		count_collision(page, ppage, key);
		return PARTNER_DIFFERENT;
	}
	if (sp_key_digest(&pkey) != partner->digest)
		return PARTNER_GONE;
	return PARTNER_DIFFERENT;
}

/**
 * merge_with_partner() - merge @page with the unstable-tree candidate @partner
 * @vma: VMA of @addr (its mm's mmap lock is held)
 * @addr: address of @page
 * @page: the page being scanned (referenced)
 * @item: its rmap_item
 * @key: @page's key
 * @partner: an unstable-tree item whose key had the same digest
 * @why: out: the outcome of @page when it could not merge
 *
 * @page goes into a new kpage, which is filled from it at that moment,
 * then the partner, compared with it. Should the partner differ after all
 * (a collision that got past sp_page_ends_equal(), or a write since it was
 * hashed), or be unable to merge now (pinned, busy), @page gets its own
 * page back: no kpage is ever left holding one page, and both stay
 * candidates (a pinned partner: the next one is tried). The partner's mm
 * is only trylocked: samepaged already holds @vma's mm, and must never
 * wait on a second mmap lock.
 *
 * The partner's item keeps only the digest of its key: its node and scope
 * are checked here, on its page, and its content by the merge's compare.
 *
 * Return: what became of it; PARTNER_FAILED with *@why set to
 * SAMEPAGE_WHY_PINNED, _RACE, _MAX_KERNEL_PAGES or _MEMCG_LIMIT.
 */
static enum partner_result merge_with_partner(struct vm_area_struct *vma,
					      unsigned long addr, struct page *page,
					      struct sp_rmap_item *item,
					      const struct sp_key *key,
					      struct sp_rmap_item *partner, int *why)
{
	struct mm_struct *pmm = partner->slot->mm, *mm = vma->vm_mm;
	unsigned long paddr = sp_item_addr(partner);
	enum partner_result res = PARTNER_GONE;
	enum sp_pte_kind kind;
	struct vm_area_struct *pvma;
	struct sp_stable_node *node;
	enum merge_result r;
	struct page *ppage;
	bool locked = false;

	if (pmm != mm) {
		if (!mmap_read_trylock(pmm)) {
			*why = SAMEPAGE_WHY_RACE;	/* busy: next pass */
			return PARTNER_FAILED;
		}
		locked = true;
		if (sp_mm_exiting(pmm))
			goto out_unlock;
	}
	pvma = vma_lookup(pmm, paddr);
	if (!pvma || !sp_vma_eligible(pvma))
		goto out_unlock;
	kind = sp_get_anon_page(pvma, paddr, &ppage, NULL);
	if (kind != SP_PTE_ANON && kind != SP_PTE_HUGE)
		goto out_unlock;
	if (!sp_key_domain_eq(partner->slot, ppage, key)) {
		res = PARTNER_DIFFERENT;
		goto out_page;
	}
	if (kind == SP_PTE_HUGE && !sp_thp_may_split(partner)) {
		res = PARTNER_KEEP;
		goto out_page;
	}
	if (sp_is_kpage(ppage))
		goto out_page;
	if (ppage == page) {
		/* the same page: a forked child's copy of the mapping */
		res = PARTNER_SELF;
		goto out_page;
	}
	if (folio_test_large(page_folio(page)) && page_folio(ppage) == page_folio(page)) {
		/*
		 * Twins inside one large folio (an mTHP): the partner's
		 * reference would make the split fail, so split first.
		 */
		put_page(ppage);
		*why = sp_split_thp(page);
		if (*why) {
			res = PARTNER_FAILED;
			goto out_unlock;
		}
		if (sp_get_anon_page(pvma, paddr, &ppage, NULL) != SP_PTE_ANON)
			goto out_unlock;
	}
	if (!sp_page_ends_equal(page, ppage)) {
		res = partner_differs(page, ppage, key, partner);
		goto out_page;
	}
	node = sp_kpage_new(mm, page, key);
	if (IS_ERR(node)) {
		*why = PTR_ERR(node) == -EDQUOT ? SAMEPAGE_WHY_MEMCG_LIMIT :
						  SAMEPAGE_WHY_MAX_KERNEL_PAGES;
		res = PARTNER_FAILED;
		goto out_page;
	}
	r = try_merge(vma, addr, page, node->kpage, key);
	if (r != MERGE_DONE) {
		if (r == MERGE_DIFFERS) {	/* written since its visit */
			res = PARTNER_STALE;
		} else {
			*why = merge_why(r);
			res = PARTNER_FAILED;
		}
		goto out_prune;
	}
	res = PARTNER_MERGED;
	switch (try_merge(pvma, paddr, ppage, node->kpage, NULL)) {
	case MERGE_DONE:
		sp_item_link(partner, node);	/* out of the unstable table */
		sp_item_link(item, node);
		break;
	case MERGE_DIFFERS:
		sp_unmerge_scanned(mm, addr, addr + PAGE_SIZE);	/* its own page back */
		res = partner_differs(node->kpage, ppage, key, partner);
		break;
	default:
		/*
		 * Pinned or busy: @page gets its own page back too, and both
		 * stay candidates for the next pass, as in-tree breaks the
		 * first page's merge when the second fails. A kpage left
		 * with @page alone would count in pages_shared where in-tree
		 * counts two pages_unshared.
		 */
		sp_unmerge_scanned(mm, addr, addr + PAGE_SIZE);
		res = PARTNER_DIFFERENT;
		break;
	}
out_prune:
	sp_kpage_drop(node);	/* if nothing merged: free it now */
out_page:
	put_page(ppage);
out_unlock:
	if (locked)
		mmap_read_unlock(pmm);
	return res;
}

/*
 * Merge @page (content @key) with an equal candidate of this pass, or
 * become one.
 */
static int merge_unstable(struct vm_area_struct *vma, unsigned long addr,
			  struct page *page, struct sp_rmap_item *item,
			  const struct sp_key *key)
{
	struct sp_rmap_item *partner, *next;
	int why = SAMEPAGE_WHY_UNIQUE;

	for (partner = sp_unstable_find(key); partner; partner = next) {
		int w;

		next = sp_unstable_next(partner);
		switch (merge_with_partner(vma, addr, page, item, key, partner, &w)) {
		case PARTNER_MERGED:
			return SAMEPAGE_WHY_MERGED;
		case PARTNER_STALE:	/* its key is stale: no candidate */
			return SAMEPAGE_WHY_VOLATILE;
		case PARTNER_GONE:
			sp_unstable_erase(partner);
			break;
		case PARTNER_KEEP:
			why = SAMEPAGE_WHY_THP;	/* its twin stays huge */
			break;
		case PARTNER_FAILED:
			why = w;	/* @page itself could not merge */
			break;
		case PARTNER_DIFFERENT:
		case PARTNER_SELF:	/* the page itself, not a twin (as in-tree) */
			break;
		}
	}
	sp_unstable_insert(item);
	return why;
}

/*
 * Merge @item's @page (content @key) into a stable kpage of its content.
 * Return: false if no kpage of this content has room (the unstable tree
 * then makes a dup, as in-tree), else true and the outcome in *@why.
 */
static bool merge_stable(struct vm_area_struct *vma, struct sp_rmap_item *item,
			 struct page *page, const struct sp_key *key, int *why)
{
	int max = READ_ONCE(samepage_knobs.max_page_sharing);
	struct sp_stable_node *node;
	enum merge_result r;

	/*
	 * A full kpage is passed over without a compare, as in-tree's chain
	 * walk passes over a full dup: comparing it only ever counted a
	 * collision. A content with many full dups (zero pages without
	 * use_zero_pages: one per 256 pages) made that a memcmp() per full
	 * dup for every page that joined the chain, most of samepaged's
	 * memcmp() time in W1 (perf).
	 */
	for (node = sp_stable_find(key); node; node = sp_stable_next(node)) {
		if (node->sharers >= max)	/* full: try a dup */
			continue;
		r = try_merge(vma, sp_item_addr(item), page, node->kpage, NULL);
		if (r == MERGE_DIFFERS) {	/* compared in sp_replace_page() */
			count_collision(page, node->kpage, key);
			continue;
		}
		if (r == MERGE_DONE)
			sp_item_link(item, node);
		*why = merge_why(r);
		return true;
	}
	return false;
}

/*
 * Merge the anonymous @page mapped at @addr (referenced; maybe a subpage of
 * a large folio, which a merge splits) whose content is @key, as @seen
 * classified it. Return the outcome, an enum samepage_why.
 */
int sp_merge_page(struct vm_area_struct *vma, struct sp_rmap_item *item,
		  struct page *page, const struct sp_key *key, enum sight seen)
{
	int why;

	if (seen == SIGHT_COOLING)
		return SAMEPAGE_WHY_VOLATILE;
	/* a changing page may join a kpage (as in-tree), nothing else */
	if (seen == SIGHT_STEADY && READ_ONCE(samepage_knobs.use_zero_pages) &&
	    sp_hash_is_zero(key->hash) &&
	    try_merge(vma, sp_item_addr(item), page, NULL, NULL) == MERGE_DONE) {
		sp_set_zero(item, true);
		return SAMEPAGE_WHY_MERGED;
	}
	if (merge_stable(vma, item, page, key, &why))
		return why;
	if (seen == SIGHT_CHANGED)
		return SAMEPAGE_WHY_VOLATILE;
	return merge_unstable(vma, sp_item_addr(item), page, item, key);
}

