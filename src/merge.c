// SPDX-License-Identifier: GPL-2.0
/*
 * kpages and PTE replacement (DESIGN.md section 3).
 *
 * A kpage is a page samepage owns: a fresh copy of the merged content,
 * never on the LRU (so reclaim, migration, compaction and NUMA balancing
 * leave it alone), marked anonymous with a dummy anon_vma that every rmap
 * walk finds empty. samepage holds one reference on it for as long as any
 * PTE maps it, so a write fault always copies instead of reusing it, and a
 * forked child simply maps it too. The kpage is freed when nothing maps it.
 */
#define pr_fmt(fmt) "samepage: " fmt

#include <linux/mm.h>
#include <linux/highmem.h>
#include <linux/rmap.h>
#include <linux/pagemap.h>
#include <linux/mmu_notifier.h>
#include <linux/slab.h>
#include <linux/module.h>
#include <linux/xxhash.h>
#include <linux/sched/mm.h>

#include "samepage.h"
#include "engine.h"
#include "ksyms.h"
#include "trace.h"

static struct anon_vma *dummy_anon_vma;
/* pfn -> stable node of every kpage, to find a forked child's kpage's node */
static DEFINE_XARRAY(kpage_nodes);
/* folio->mapping of every kpage: the dummy anon_vma plus the anon bit */
static void *kpage_mapping __ro_after_init;

int sp_merge_init(void)
{
	dummy_anon_vma = kzalloc(sizeof(*dummy_anon_vma), GFP_KERNEL);
	if (!dummy_anon_vma)
		return -ENOMEM;
	init_rwsem(&dummy_anon_vma->rwsem);
	atomic_set(&dummy_anon_vma->refcount, 1);
	dummy_anon_vma->root = dummy_anon_vma;
	dummy_anon_vma->parent = dummy_anon_vma;
	dummy_anon_vma->rb_root = RB_ROOT_CACHED;
	kpage_mapping = (void *)((unsigned long)dummy_anon_vma + SP_MAPPING_ANON);
	return 0;
}

/* Only called once no kpage is left (each one holds a module reference). */
void sp_merge_exit(void)
{
	synchronize_rcu();
	kfree(dummy_anon_vma);
}

bool sp_is_kpage(struct page *page)
{
	return READ_ONCE(page_folio(page)->mapping) == kpage_mapping;
}

/* The stable node of @kpage (engine lock held), or NULL. */
struct sp_stable_node *sp_kpage_node(struct page *kpage)
{
	return xa_load(&kpage_nodes, page_to_pfn(kpage));
}

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
	page = pmd_page(pmde) + ((addr & ~HPAGE_PMD_MASK) >> PAGE_SHIFT);
	folio = page_folio(page);
	if (!folio_test_anon(folio))	/* the huge zero page, for one */
		goto out;
	folio_get(folio);
	*pagep = page;
	kind = SP_PTE_HUGE;
out:
	spin_unlock(ptl);
	return kind;
}

/**
 * sp_get_anon_page() - what is mapped at @addr
 * @vma: VMA of @addr; caller holds the mmap lock
 * @addr: page-aligned user address
 * @pagep: out: for SP_PTE_ANON and SP_PTE_HUGE, the anonymous page mapped
 *	at @addr, referenced (the caller puts it)
 * @pc: PMD cache of a walk under one mmap lock hold, or NULL
 *
 * Return: SP_PTE_ANON (a PTE maps the page: a small folio, or a subpage of
 * a PTE-mapped large folio), SP_PTE_HUGE (the subpage at @addr of a
 * PMD-mapped THP), SP_PTE_ZERO (the shared zero page), SP_PTE_NO_TABLE (no
 * page table covers @addr: nothing in its whole PMD range) or SP_PTE_NONE
 * (nothing mergeable: not present, swapped, a KSM page, a special mapping).
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

	if (pc && pc->mm == mm && pc->base == (addr & PMD_MASK) && pc->pmd) {
		pmd = pc->pmd;
	} else {
		pmd = (pmd_t *)SP_CALL2(mm_find_pmd, mm, addr);
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
	folio_get(folio);
	*pagep = page;
	kind = SP_PTE_ANON;
out:
	pte_unmap_unlock(ptep, ptl);
	return kind;
}

/**
 * sp_kpage_new() - a new kpage for the content of @src
 * @src: the page it is for (the caller holds a reference)
 * @key: node and xxh64 of that content
 *
 * The kpage is set up under its folio lock as DESIGN.md 3 requires, then
 * left unlocked, on @src's NUMA node. Its content is not there yet: the
 * first sp_replace_page() (with @fill) copies it in. It takes a
 * module reference, dropped when it is freed.
 *
 * Return: its stable node (not yet in the tree), or NULL.
 */
struct sp_stable_node *sp_kpage_new(struct page *src, const struct sp_key *key)
{
	struct samepage_engine *e = &samepage_engine;
	unsigned long max = READ_ONCE(samepage_knobs.max_kernel_pages);
	struct sp_stable_node *node;
	struct folio *folio;
	struct page *kpage;

	if (max && e->c.kernel_pages_allocated >= max)
		return NULL;
	node = kmem_cache_zalloc(sp_node_cache, SP_GFP_SCAN);
	if (!node)
		return NULL;
	/*
	 * On the candidate's own node: merge_across_nodes=0 must keep it
	 * there. Never by reclaiming hard or OOM-killing (SP_GFP_SCAN).
	 */
	kpage = alloc_pages_node(page_to_nid(src), GFP_HIGHUSER | __GFP_THISNODE |
				 __GFP_NORETRY | __GFP_NOWARN, 0);
	if (!kpage || xa_err(xa_store(&kpage_nodes, page_to_pfn(kpage), node,
				      SP_GFP_SCAN)))
		goto fail;
	if (!try_module_get(THIS_MODULE)) {
		xa_erase(&kpage_nodes, page_to_pfn(kpage));
		goto fail;
	}
	folio = page_folio(kpage);
	__folio_set_locked(folio);
	__folio_mark_uptodate(folio);
	__folio_set_swapbacked(folio);
	folio->index = 0;
	WRITE_ONCE(folio->mapping, kpage_mapping);
	folio_unlock(folio);

	node->kpage = kpage;
	node->key = *key;
	INIT_HLIST_HEAD(&node->items);
	list_add_tail(&node->list, &e->kpages);
	e->c.kernel_pages_allocated++;
	return node;
fail:
	if (kpage)
		__free_page(kpage);
	kmem_cache_free(sp_node_cache, node);
	return NULL;
}

/* @item now maps @node's kpage. */
void sp_item_link(struct sp_rmap_item *item, struct sp_stable_node *node)
{
	if (node->sharers++)
		samepage_engine.c.pages_sharing++;
	else
		sp_stable_insert(node);
	item->node = node;
	item->merged_at = samepage_engine.c.full_scans;
	item->slot->merging++;
	hlist_add_head(&item->nlink, &node->items);
}

/* @item no longer maps its kpage (COW, unmerge, unmap or teardown). */
void sp_item_unlink(struct sp_rmap_item *item)
{
	struct sp_stable_node *node = item->node;

	if (!node)
		return;
	hlist_del(&item->nlink);
	item->node = NULL;
	item->slot->merging--;
	if (--node->sharers)
		samepage_engine.c.pages_sharing--;
	else
		sp_stable_erase(node);
}

/*
 * Free every kpage that no PTE maps any more. Items still linked to one are
 * stale (their address was unmapped or COWed since the last visit).
 */
unsigned long sp_kpage_prune(void)
{
	struct samepage_engine *e = &samepage_engine;
	struct sp_stable_node *node, *tmp;
	unsigned long orphans = 0;

	list_for_each_entry_safe(node, tmp, &e->kpages, list) {
		struct folio *folio = page_folio(node->kpage);

		if (folio_mapped(folio)) {
			orphans += !node->sharers;
			continue;
		}
		while (!hlist_empty(&node->items))
			sp_item_unlink(hlist_entry(node->items.first,
						   struct sp_rmap_item, nlink));
		sp_stable_erase(node);
		list_del(&node->list);
		xa_erase(&kpage_nodes, folio_pfn(folio));
		folio_put(folio);
		kmem_cache_free(sp_node_cache, node);
		e->c.kernel_pages_allocated--;
		module_put(THIS_MODULE);
	}
	return orphans;
}

static bool page_is_zero(struct page *page)
{
	void *p = kmap_local_page(page);
	bool zero = !memchr_inv(p, 0, PAGE_SIZE);

	kunmap_local(p);
	return zero;
}

bool sp_pages_equal(struct page *a, struct page *b)
{
	char *pa = kmap_local_page(a), *pb = kmap_local_page(b);
	bool eq = !memcmp(pa, pb, PAGE_SIZE);

	kunmap_local(pb);
	kunmap_local(pa);
	return eq;
}

/**
 * sp_replace_page() - map @kpage at @addr in place of @page
 * @vma: the VMA; the caller holds its mm's mmap lock for read
 * @addr: user address of @page
 * @page: the page mapped there now; the caller holds a reference and the
 *	folio lock
 * @kpage: the kpage, holding the same content, locked by the caller; or
 *	NULL to map the shared zero page in place of an all-zero @page
 * @fill: @kpage is new and empty: copy @page into it (no compare needed)
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
 * Return: 0, -EBUSY if someone else pins the page, -ESTALE if its content
 * differs from @kpage's (a hash collision, or a write since it was
 * hashed), or -EAGAIN if it moved meanwhile.
 */
int sp_replace_page(struct vm_area_struct *vma, unsigned long addr,
		    struct page *page, struct page *kpage, bool fill)
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

	pmd = (pmd_t *)SP_CALL2(mm_find_pmd, mm, addr);
	if (!pmd)
		return -EAGAIN;
	pmde = sp_pmdp_get_lockless(pmd);
	if (!pmd_present(pmde) || pmd_trans_huge(pmde))
		return -EAGAIN;

	sp_mmu_range_init(&range, vma, addr, addr + PAGE_SIZE);
	if (notify)
		SP_CALL1(mn_range_start, &range);
	ptep = sp_pte_offset_map_lock(mm, pmd, addr, ptl);
	if (!ptep) {
		sp_pte_map_release(ptl);
		goto out_mn;
	}
	entry = ptep_get(ptep);
	if (!pte_present(entry) || pte_pfn(entry) != page_to_pfn(page))
		goto out_unlock;

	entry = __pte(SP_CALL3(ptep_clear_flush, vma, addr, ptep));
	/* mapcount + our reference (+ swap cache) is all that may pin it */
	if (sp_mapcount(folio) + 1 + folio_test_swapcache(folio) !=
	    folio_ref_count(folio)) {
		set_pte_at(mm, addr, ptep, entry);
		err = -EBUSY;
		goto out_unlock;
	}
	if (fill) {
		copy_highpage(kpage, page);
	} else if (!(kpage ? sp_pages_equal(page, kpage) : page_is_zero(page))) {
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
	trace_merge(mm, addr, kpage ? page_to_pfn(kpage) : 0);
	err = 0;
out_unlock:
	pte_unmap_unlock(ptep, ptl);
out_mn:
	if (notify)
		sp_mn_range_end(&range);
	return err;
}

enum merged_kind { MERGED_NONE, MERGED_KPAGE, MERGED_ZERO, MERGED_NO_TABLE };

/*
 * What samepage merged at @addr: a kpage, or the zero page where an
 * rmap_item says samepage put it (sp_item_zero(), safe without the engine
 * lock). MERGED_NO_TABLE: no page table covers @addr.
 */
static enum merged_kind merged_at(struct vm_area_struct *vma, unsigned long addr)
{
	struct page *page;
	bool kpage;

	switch (sp_get_anon_page(vma, addr, &page, NULL)) {
	case SP_PTE_ANON:
		kpage = sp_is_kpage(page);
		put_page(page);
		return kpage ? MERGED_KPAGE : MERGED_NONE;
	case SP_PTE_HUGE:		/* a THP is never a kpage */
		put_page(page);
		return MERGED_NONE;
	case SP_PTE_ZERO:
		return sp_item_zero(vma->vm_mm, addr) ? MERGED_ZERO : MERGED_NONE;
	case SP_PTE_NO_TABLE:
		return MERGED_NO_TABLE;
	default:
		return MERGED_NONE;
	}
}

/*
 * Fault @addr so that it maps a private page again. A kpage is unshared
 * (copied; samepage's own reference forbids reuse), which works on
 * read-only mappings too. The zero page is broken with a write fault where
 * the mapping is writable: up to 6.4, unsharing the zero page is a no-op.
 */
static vm_fault_t unmerge_fault(struct vm_area_struct *vma, unsigned long addr,
				enum merged_kind kind)
{
	unsigned int flags = FAULT_FLAG_REMOTE;

	if (kind == MERGED_ZERO && (vma->vm_flags & VM_WRITE))
		flags |= FAULT_FLAG_WRITE;
	else
		flags |= FAULT_FLAG_UNSHARE;
	return handle_mm_fault(vma, addr, flags, NULL);
}

/* Faults per address before giving up (the loop must never spin). */
#define UNMERGE_TRIES	8

/*
 * Give back what samepage merged at @addr of @vma: fault until nothing is
 * left. Sets *@next past a range with no page table. Return: as
 * __sp_unmerge_range().
 */
static int unmerge_addr(struct vm_area_struct *vma, unsigned long addr,
			unsigned long *next)
{
	enum merged_kind kind;
	int tries = 0;

	*next = addr + PAGE_SIZE;
	while ((kind = merged_at(vma, addr)) != MERGED_NONE) {
		vm_fault_t ret;

		if (kind == MERGED_NO_TABLE) {
			*next = ALIGN(addr + 1, PMD_SIZE);
			return 0;
		}
		if (fatal_signal_pending(current))
			return -EINTR;
		if (++tries > UNMERGE_TRIES) {
			/*
			 * The zero page of a read-only mapping on a kernel
			 * that cannot unshare it: harmless (it is not
			 * samepage's page), left mapped. A kpage always
			 * unshares; if one did not, say so.
			 */
			return kind == MERGED_KPAGE ? -EAGAIN : 0;
		}
		ret = unmerge_fault(vma, addr, kind);
		if (ret & VM_FAULT_ERROR)
			return ret & VM_FAULT_OOM ? -ENOMEM : -EFAULT;
		if (!(ret & VM_FAULT_RETRY))
			trace_unmerge(vma->vm_mm, addr);
		if (kind == MERGED_ZERO && merged_at(vma, addr) != MERGED_ZERO)
			sp_zero_gone(vma->vm_mm, addr);	/* counted at once */
		cond_resched();
	}
	return 0;
}

/**
 * sp_unmerge_scanned() - __sp_unmerge_range() for samepaged
 * @mm: an mm samepaged scans: its mmap lock is held, mm_users is not
 * @start: page-aligned start
 * @end: page-aligned end
 *
 * Faulting needs a live address space: with mm_users held, exit_mmap()
 * cannot start under the faults. Does nothing if the process is gone; the
 * last reference is dropped asynchronously, as the mmap lock is held.
 */
void sp_unmerge_scanned(struct mm_struct *mm, unsigned long start,
			unsigned long end)
{
	if (!mmget_not_zero(mm))
		return;
	__sp_unmerge_range(mm, start, end);
	mmput_async(mm);
}

/**
 * sp_unmerge_range() - give every merged page of [@start, @end) back
 * @mm: the address space; the caller holds a reference (mmget)
 * @start: page-aligned start
 * @end: page-aligned end
 *
 * Faults each address that maps a kpage, or a zero page samepage mapped
 * there (an rmap_item says which), until none is left (unmerge_fault()).
 * Synchronous.
 *
 * Return: 0, -EINTR on a fatal signal, -ENOMEM/-EFAULT if a fault failed,
 * -EAGAIN if a kpage would not go (never seen; the loop is bounded).
 */
int sp_unmerge_range(struct mm_struct *mm, unsigned long start, unsigned long end)
{
	int err;

	mmap_read_lock(mm);
	err = __sp_unmerge_range(mm, start, end);
	mmap_read_unlock(mm);
	return err;
}

/**
 * sp_vma_may_hold_merged() - can @vma map a kpage or samepage's zero page?
 * @vma: the VMA
 *
 * Unmerge must reach every VMA where samepage has merged pages, whatever
 * the VMA has become since the merge: mlock, uffd-wp registration,
 * mprotect (even PROT_NONE), MADV_DONTFORK/WIPEONFORK and the like do not
 * take the pages away. Only what can never have been eligible is left out:
 * VMAs without anonymous pages, shared, hugetlb and PFN/IO mappings (no
 * VMA becomes one of those after the fact).
 *
 * Return: true if its addresses must be checked.
 */
bool sp_vma_may_hold_merged(struct vm_area_struct *vma)
{
	return vma->anon_vma &&
	       !(vma->vm_flags & (VM_SHARED | VM_MAYSHARE | VM_HUGETLB |
				  VM_PFNMAP | VM_IO | VM_MIXEDMAP));
}

/**
 * __sp_unmerge_range() - sp_unmerge_range() under the caller's mmap lock
 * @mm: the address space, whose mmap lock the caller holds (read or write)
 * @start: page-aligned start
 * @end: page-aligned end
 *
 * Needs no engine lock: the madvise()/prctl() hooks call it in the
 * caller's context, with the mmap lock held for write, where taking the
 * engine lock would invert the engine -> mmap lock order. The rmap_items
 * of the range are fixed up at samepaged's next visit, as in-tree KSM
 * fixes its own. Page-table-less stretches are skipped a PMD at a time.
 *
 * Return: as sp_unmerge_range().
 */
int __sp_unmerge_range(struct mm_struct *mm, unsigned long start, unsigned long end)
{
	struct vm_area_struct *vma;
	unsigned long addr, next;
	int err = 0;
	VMA_ITERATOR(vmi, mm, start);

	for_each_vma_range(vmi, vma, end) {
		if (!sp_vma_may_hold_merged(vma))
			continue;
		for (addr = max(vma->vm_start, start);
		     addr < min(vma->vm_end, end) && !err; addr = next)
			err = unmerge_addr(vma, addr, &next);
		if (err)
			break;
	}
	return err;
}
