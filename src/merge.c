// SPDX-License-Identifier: GPL-2.0
/*
 * The page-table side of a merge (Documentation/design.md, "Replacing a
 * PTE"): what a PTE or PMD maps at an address, and the replacement of an
 * anonymous page's PTE by a read-only PTE to a kpage or to the shared zero
 * page.
 */
#include <linux/mm.h>
#include <linux/highmem.h>
#include <linux/rmap.h>
#include <linux/pagemap.h>
#include <linux/mmu_notifier.h>
#include <linux/huge_mm.h>
#include "samepage.h"
#include "engine.h"
#include "ksyms.h"
#include "trace.h"

/*
 * The subpage at @addr of the THP that @pmd maps, referenced, checked under
 * the PMD lock (the PMD may have been split or zapped since it was read).
 */
static enum sp_pte_kind get_huge_subpage(struct vm_area_struct *vma, pmd_t *pmd,
					 unsigned long addr, struct page **pagep)
{
	enum sp_pte_kind kind = SP_PTE_NONE;
	struct folio *folio;
	struct page *page;
	spinlock_t *ptl;
	pmd_t pmde;

	ptl = pmd_lock(vma->vm_mm, pmd);
	pmde = *pmd;
	if (!pmd_trans_huge(pmde) || !pmd_present(pmde)) {
		/* split or zapped meanwhile: look again next time */
		kind = pmd_present(pmde) ? SP_PTE_NONE : SP_PTE_NO_TABLE;
		goto out;
	}
	page = pmd_page(pmde) + ((addr & ~PMD_MASK) >> PAGE_SHIFT);
	folio = page_folio(page);
	if (!folio_test_anon(folio)) {
		/*
		 * The huge zero page (memory read before it was ever
		 * written), for one: nothing in the whole PMD range.
		 */
		kind = SP_PTE_NO_TABLE;
		goto out;
	}
	if (PageHWPoison(page))		/* never read a poisoned page */
		goto out;
	folio_get(folio);
	*pagep = page;
	kind = SP_PTE_HUGE;
out:
	spin_unlock(ptl);
	return kind;
}

/*
 * The first address after @addr, within its PMD, whose PTE is not empty
 * (@ptep maps @addr; its PTL is held). A page table with a few pages in it
 * (sparse memory) is mostly empty entries: the lookup that reads one PTE
 * finds where the next used one is under the same lock hold, and the walk
 * skips the rest without looking at each address. In a populated table
 * that is one more entry read.
 */
static unsigned long empty_ptes_end(pte_t *ptep, unsigned long addr)
{
	unsigned long stop = (addr & PMD_MASK) + PMD_SIZE;

	for (ptep++, addr += PAGE_SIZE; addr < stop; addr += PAGE_SIZE, ptep++)
		if (!pte_none(ptep_get(ptep)))
			break;
	return addr;
}

/**
 * sp_get_anon_page() - what is mapped at @addr
 * @vma: VMA of @addr; caller holds the mmap lock
 * @addr: page-aligned user address
 * @pagep: out: for SP_PTE_ANON and SP_PTE_HUGE, the anonymous page mapped
 *	at @addr, referenced (the caller puts it)
 * @pc: PMD cache of a walk under one mmap lock hold, or NULL; when a PTE
 *	was read (SP_PTE_ANON, _ZERO, _NONE), its @gap_end is set too
 *
 * Return: SP_PTE_ANON (a PTE maps the page: a small folio, or a subpage of
 * a PTE-mapped large folio), SP_PTE_HUGE (the subpage at @addr of a
 * PMD-mapped THP), SP_PTE_ZERO (the shared zero page), SP_PTE_NO_TABLE
 * (nothing to merge in @addr's whole PMD range: no page table covers it, or
 * its PMD maps a huge page that is not anonymous, the huge zero page) or
 * SP_PTE_NONE (nothing mergeable: not present, swapped, a KSM page, a
 * special mapping, a page a memory error hit).
 */
enum sp_pte_kind sp_get_anon_page(struct vm_area_struct *vma, unsigned long addr,
				  struct page **pagep, struct sp_pmd_cache *pc)
{
	enum sp_pte_kind kind = SP_PTE_NONE;
	struct mm_struct *mm = vma->vm_mm;
	struct folio *folio;
	struct page *page;
	spinlock_t *ptl;
	pte_t *ptep, pte;
	pmd_t *pmd, pmde;

	mmap_assert_locked(mm);
	if (pc)
		pc->gap_end = addr + PAGE_SIZE;	/* no PTE read: no gap known */
	if (pc && pc->mm == mm && pc->base == (addr & PMD_MASK) && pc->pmd) {
		pmd = pc->pmd;
	} else {
		pmd = sp_mm_find_pmd(mm, addr);
		if (pc) {
			pc->mm = mm;
			pc->base = addr & PMD_MASK;
			pc->pmd = pmd;
		}
	}
	if (!pmd)
		return SP_PTE_NO_TABLE;
	pmde = sp_pmdp_get_lockless(pmd);
	if (pmd_trans_huge(pmde))
		return get_huge_subpage(vma, pmd, addr, pagep);
	if (!pmd_present(pmde))
		return SP_PTE_NO_TABLE;
	ptep = sp_pte_offset_map_lock(mm, pmd, addr, ptl);
	if (!ptep) {
		sp_pte_map_release(ptl);
		return SP_PTE_NO_TABLE;
	}
	pte = ptep_get(ptep);
	if (pc)
		pc->gap_end = empty_ptes_end(ptep, addr);
	if (!pte_present(pte))
		goto out;
	if (is_zero_pfn(pte_pfn(pte))) {
		kind = SP_PTE_ZERO;
		goto out;
	}
	if (pte_special(pte) || !pfn_valid(pte_pfn(pte)))
		goto out;
	page = pfn_to_page(pte_pfn(pte));
	folio = page_folio(page);
	if (!folio_test_anon(folio) || folio_test_ksm(folio))
		goto out;
	/*
	 * A poisoned page is nothing samepage may read (a machine check in
	 * kernel mode) or give back: a poisoned kpage's mappings are
	 * hwpoison.c's to replace, and no scan, merge or unmerge touches it.
	 */
	if (PageHWPoison(page))
		goto out;
	folio_get(folio);
	*pagep = page;
	kind = SP_PTE_ANON;
out:
	pte_unmap_unlock(ptep, ptl);
	return kind;
}

/**
 * sp_table_gap_end() - where a stretch without page tables ends
 * @mm: the address space; its mmap lock is held (the upper page-table
 *	levels are freed only under the mmap write lock)
 * @addr: an address whose PMD has no page table (SP_PTE_NO_TABLE)
 * @end: the end of the walk
 *
 * A walk over a sparse mapping (a JVM's or a browser's terabyte of reserve)
 * must not pay for the empty part: an empty PGD, P4D or PUD entry is
 * skipped whole (256 TiB, 512 GiB, 1 GiB), an empty PMD entry 2 MiB, as
 * the kernel's own range walks do.
 *
 * Return: the first address after @addr's PMD, at most @end, where a page
 * table may be.
 */
unsigned long sp_table_gap_end(struct mm_struct *mm, unsigned long addr,
			       unsigned long end)
{
	addr = pmd_addr_end(addr, end);
	while (addr < end) {
		unsigned long pgd_end = pgd_addr_end(addr, end), p4d_end, pud_end;
		pgd_t *pgd = pgd_offset(mm, addr);
		p4d_t *p4d;
		pud_t *pud;
		pmd_t *pmd;

		if (pgd_none(*pgd)) {
			addr = pgd_end;
			continue;
		}
		p4d = p4d_offset(pgd, addr);
		p4d_end = p4d_addr_end(addr, pgd_end);
		if (p4d_none(*p4d)) {
			addr = p4d_end;
			continue;
		}
		/*
		 * The entries of this PUD table one after the other, and of
		 * each PMD table under them, as the kernel's walks go: not a
		 * walk down from the PGD for every empty 2 MiB.
		 */
		for (pud = pud_offset(p4d, addr); addr < p4d_end; pud++) {
			pud_end = pud_addr_end(addr, p4d_end);
			if (pud_none(*pud)) {
				addr = pud_end;
				continue;
			}
			for (pmd = pmd_offset(pud, addr); addr < pud_end; pmd++) {
				if (!pmd_none(sp_pmdp_get_lockless(pmd)))
					return addr;
				addr = pmd_addr_end(addr, pud_end);
			}
		}
	}
	return addr;
}

/**
 * sp_replace_page() - map @kpage at @addr in place of @page
 * @vma: the VMA; the caller holds its mm's mmap lock for read
 * @addr: user address of @page
 * @page: the page mapped there now; the caller holds a reference and the
 *	folio lock
 * @kpage: the kpage, holding the same content, locked by the caller; or
 *	NULL to map the shared zero page in place of an all-zero @page
 * @fill: NULL, or @kpage is new and empty and this is the key it is for:
 *	copy @page into it instead of comparing, and check that the copy
 *	hashes to @fill's hash
 *
 * Mirrors in-tree write_protect_page() + replace_page() in one PTL section:
 * clear and flush the PTE, refuse if anything but the mapping and the
 * caller pins the page (GUP, O_DIRECT), confirm the content, then install a
 * read-only PTE to @kpage. The whole change sits inside an mmu_notifier
 * range so secondary MMUs (KVM) drop their copy.
 *
 * The content check here is the only full one a merge needs: callers pick
 * @kpage by hash and let this memcmp(), made once nothing can write the
 * page any more, confirm it. For the same reason a new kpage is filled
 * here, from the page it replaces, at a point where that page is frozen.
 *
 * Invariant: a kpage holds the content its key was computed from. The page
 * a new kpage is filled from was hashed at its visit, and its process may
 * have written it since (memory being filled while it is scanned): the
 * copy is hashed again, and a page that changed is not merged. A kpage
 * whose key lies about its content would be found by no twin and keep its
 * one mapper for good.
 *
 * Return: 0, -EBUSY if someone else pins the page, -ESTALE if its content
 * differs from @kpage's (a hash collision, or a write since it was
 * hashed), or -EAGAIN if it moved meanwhile or a memory error hit either.
 */
int sp_replace_page(struct vm_area_struct *vma, unsigned long addr,
		    struct page *page, struct page *kpage, const struct sp_key *fill)
{
	struct mm_struct *mm = vma->vm_mm;
	struct folio *folio = page_folio(page);
	struct folio *kfolio = kpage ? page_folio(kpage) : NULL;
	struct mmu_notifier_range range;
	bool notify = mm_has_notifiers(mm);
	int err = -EAGAIN;
	spinlock_t *ptl;
	pte_t *ptep, entry, newpte;
	pmd_t *pmd, pmde;

	mmap_assert_locked(mm);
	WARN_ON_ONCE(!folio_test_locked(folio) || (kfolio && !folio_test_locked(kfolio)));
	pmd = sp_mm_find_pmd(mm, addr);
	if (!pmd)
		return -EAGAIN;
	pmde = sp_pmdp_get_lockless(pmd);
	if (!pmd_present(pmde) || pmd_trans_huge(pmde))
		return -EAGAIN;

	sp_mmu_range_init(&range, vma, addr, addr + PAGE_SIZE);
	if (notify)
		sp_mn_range_start(&range);
	ptep = sp_pte_offset_map_lock(mm, pmd, addr, ptl);
	if (!ptep) {
		sp_pte_map_release(ptl);
		goto out_mn;
	}
	entry = ptep_get(ptep);
	if (!pte_present(entry) || pte_pfn(entry) != page_to_pfn(page))
		goto out_unlock;

	entry = sp_ptep_clear_flush(vma, addr, ptep);
	/* mapcount + our reference (+ swap cache) is all that may pin it */
	if (sp_mapcount(folio) + 1 + folio_test_swapcache(folio) !=
	    folio_ref_count(folio)) {
		set_pte_at(mm, addr, ptep, entry);
		err = -EBUSY;
		goto out_unlock;
	}
	/* hit by a memory error since it was looked up: never read it */
	if (PageHWPoison(page) || (kpage && PageHWPoison(kpage))) {
		set_pte_at(mm, addr, ptep, entry);
		goto out_unlock;
	}
	if (fill) {
		copy_highpage(kpage, page);
		if (sp_page_hash(kpage) != fill->hash) {
			set_pte_at(mm, addr, ptep, entry);
			err = -ESTALE;
			goto out_unlock;
		}
	} else if (!(kpage ? sp_pages_equal(page, kpage) : sp_page_is_zero(page))) {
		set_pte_at(mm, addr, ptep, entry);
		err = -ESTALE;
		goto out_unlock;
	}
	if (pte_dirty(entry))
		folio_mark_dirty(folio);

	if (kpage) {
		folio_get(kfolio);
		sp_rmap_add_anon(kfolio, kpage, vma, addr);
		newpte = pte_wrprotect(mk_pte(kpage, vma->vm_page_prot));
	} else {
		/*
		 * The shared zero page: a special PTE, never dirty (in-tree KSM
		 * reads "zero pfn + dirty" as its own zero page), and one
		 * anonymous page less in the rss counters.
		 */
		newpte = pte_mkspecial(pfn_pte(page_to_pfn(ZERO_PAGE(addr)),
					       vma->vm_page_prot));
		sp_dec_anon_rss(mm);
	}
	if (pte_soft_dirty(entry))
		newpte = pte_mksoft_dirty(newpte);
	set_pte_at(mm, addr, ptep, newpte);

	sp_rmap_remove(folio, page, vma);
	folio_put(folio);	/* the old PTE's reference */
	lockdep_assert_held(&samepage_engine.lock);
	samepage_engine.merge_seq++;
	trace_merge(mm, addr, kpage ? page_to_pfn(kpage) : 0);
	err = 0;
out_unlock:
	pte_unmap_unlock(ptep, ptl);
out_mn:
	if (notify)
		sp_mn_range_end(&range);
	return err;
}
