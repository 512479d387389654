// SPDX-License-Identifier: GPL-2.0
/*
 * Hardware memory errors on kpages (Documentation/design.md, "Memory
 * errors").
 *
 * memory_failure() recovers a poisoned anonymous page by finding every PTE
 * that maps it through its anon_vma and replacing it with a hwpoison
 * entry, so that the next access gets SIGBUS instead of the bad data. It
 * cannot do that for a kpage: a kpage is not on the LRU and its anon_vma
 * is samepage's empty dummy, so the kernel marks the page PG_hwpoison,
 * logs it as an unknown or unhandlable page, "Ignored", and leaves every
 * mapping in place. samepage finishes the job right after the kernel's own
 * handling (hooks.c wraps memory_failure()):
 *
 *  1. Under the engine lock the kpage leaves the stable table and the pfn
 *     index, and its rmap_items are unlinked (sp_kpage_poison()): nothing
 *     merges onto it again and no later visit links to it.
 *  2. Every PTE that maps the frame becomes a hwpoison entry, as the
 *     kernel's try_to_unmap() makes one for an anonymous page: an access
 *     then faults with VM_FAULT_HWPOISON and gets SIGBUS (BUS_MCEERR_AR),
 *     exactly as after a memory error on an in-tree KSM page. The
 *     addresses samepage's items knew come first; then, only while the
 *     frame is still mapped (a forked child samepage never scanned), the
 *     anonymous memory of every process is searched for it.
 *  3. The caller of madvise(MADV_HWPOISON), or the task a machine check
 *     interrupted (MF_ACTION_REQUIRED), gets SIGBUS at once if it mapped
 *     the frame, as in-tree.
 *  4. The node is freed once nothing maps the frame (sp_kpage_poison_done()):
 *     its mapping cleared, samepage's reference dropped; the kernel never
 *     hands a PG_hwpoison page back to the allocator.
 *
 * From step 1 on samepage never reads the frame: sp_get_anon_page() reports
 * a poisoned page as nothing mergeable, so no scan, hash, merge or unmerge
 * looks at it, and sp_replace_page() checks both pages once they are
 * frozen. A poisoned page is never the source of a merge either.
 */
#define pr_fmt(fmt) "samepage: " fmt

#include <linux/mm.h>
#include <linux/swap.h>
#include <linux/swapops.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/mmu_notifier.h>
#include <linux/rmap.h>
#include <linux/slab.h>
#include "samepage.h"
#include "engine.h"
#include "ksyms.h"

/* An address samepage merged into the poisoned kpage. */
struct mapper {
	struct mm_struct *mm;	/* mmgrab()ed */
	unsigned long addr;
};

/* What one recovery did: the PTEs it replaced, one of them in current's mm. */
struct poison_run {
	struct page *kpage;
	unsigned long ptes;
	unsigned long current_addr;
	bool current_mapped;
};

/*
 * Replace the PTE at @addr of @vma by a hwpoison entry if it maps the
 * kpage, inside an mmu notifier range (secondary MMUs drop it too). The
 * caller holds the mmap lock; the kpage's folio lock is taken here, after
 * the mmap lock and before the PTL as everywhere in samepage, because the
 * kernel's make_hwpoison_entry() asserts it.
 */
static void poison_pte(struct poison_run *run, struct vm_area_struct *vma,
		       unsigned long addr)
{
	struct folio *kfolio = page_folio(run->kpage);
	struct mm_struct *mm = vma->vm_mm;
	struct mmu_notifier_range range;
	bool notify = mm_has_notifiers(mm);
	spinlock_t *ptl;
	pte_t *ptep, entry;
	pmd_t *pmd, pmde;

	pmd = sp_mm_find_pmd(mm, addr);
	if (!pmd)
		return;
	pmde = sp_pmdp_get_lockless(pmd);
	if (!pmd_present(pmde) || pmd_trans_huge(pmde))
		return;		/* a kpage is only ever mapped by a PTE */
	sp_mmu_range_init(&range, vma, addr, addr + PAGE_SIZE);
	if (notify)
		sp_mn_range_start(&range);
	folio_lock(kfolio);
	ptep = sp_pte_offset_map_lock(mm, pmd, addr, ptl);
	if (!ptep) {
		sp_pte_map_release(ptl);
		goto out;
	}
	entry = ptep_get(ptep);
	if (pte_present(entry) && pte_pfn(entry) == page_to_pfn(run->kpage)) {
		sp_ptep_clear_flush(vma, addr, ptep);
		set_pte_at(mm, addr, ptep, swp_entry_to_pte(make_hwpoison_entry(run->kpage)));
		sp_rmap_remove(kfolio, run->kpage, vma);
		sp_dec_anon_rss(mm);
		folio_put(kfolio);	/* the PTE's reference */
		run->ptes++;
		if (mm == current->mm && !run->current_mapped) {
			run->current_mapped = true;
			run->current_addr = addr;
		}
	}
	pte_unmap_unlock(ptep, ptl);
out:
	folio_unlock(kfolio);
	if (notify)
		sp_mn_range_end(&range);
}

/*
 * The first address in [@addr, @end), which lies within one PMD, whose PTE
 * maps @pfn, or @end. One PTL hold for the whole table.
 */
static unsigned long find_pfn(struct mm_struct *mm, unsigned long addr,
			      unsigned long end, unsigned long pfn)
{
	pte_t *start, *ptep;
	spinlock_t *ptl;
	pmd_t *pmd, pmde;

	pmd = sp_mm_find_pmd(mm, addr);
	if (!pmd)
		return end;
	pmde = sp_pmdp_get_lockless(pmd);
	if (!pmd_present(pmde) || pmd_trans_huge(pmde))
		return end;
	start = sp_pte_offset_map_lock(mm, pmd, addr, ptl);
	if (!start) {
		sp_pte_map_release(ptl);
		return end;
	}
	for (ptep = start; addr < end; addr += PAGE_SIZE, ptep++) {
		pte_t pte = ptep_get(ptep);

		if (pte_present(pte) && pte_pfn(pte) == pfn)
			break;
	}
	pte_unmap_unlock(start, ptl);
	return addr;
}

/* Poison every PTE of [@start, @end) of @vma that maps the kpage. */
static void poison_range(struct poison_run *run, struct vm_area_struct *vma,
			 unsigned long start, unsigned long end)
{
	unsigned long pfn = page_to_pfn(run->kpage), addr, next;

	for (; start < end; start = next) {
		next = pmd_addr_end(start, end);
		if (!sp_mm_find_pmd(vma->vm_mm, start)) {
			next = sp_table_gap_end(vma->vm_mm, start, end);
			continue;
		}
		for (addr = find_pfn(vma->vm_mm, start, next, pfn); addr < next;
		     addr = find_pfn(vma->vm_mm, addr + PAGE_SIZE, next, pfn))
			poison_pte(run, vma, addr);
		cond_resched();
	}
}

/* Poison the kpage's PTEs in @mm (referenced by the caller). */
static void poison_mm(struct poison_run *run, struct mm_struct *mm)
{
	struct vm_area_struct *vma;
	VMA_ITERATOR(vmi, mm, 0);

	mmap_read_lock(mm);
	for_each_vma(vmi, vma)
		if (sp_vma_may_hold_merged(vma))
			poison_range(run, vma, vma->vm_start, vma->vm_end);
	mmap_read_unlock(mm);
}

/*
 * The mappers samepage does not know: search every process for the frame.
 * It costs a look at each PTE table of each process, and runs only while
 * the frame is still mapped after the known mappers were done. A
 * memory error is rare; a frame left mapped is a machine check for
 * whoever reads it next.
 */
static void poison_everywhere(struct poison_run *run)
{
	struct mm_struct **mms, *mm;
	unsigned int n = 0, i;
	struct task_struct *p;

	rcu_read_lock();
	for_each_process(p)
		n++;
	rcu_read_unlock();
	n += 64;	/* processes forked meanwhile */
	mms = kvmalloc_array(n, sizeof(*mms), GFP_KERNEL);
	if (!mms)
		return;
	i = 0;
	rcu_read_lock();
	for_each_process(p) {
		if (i == n)
			break;
		mm = get_task_mm(p);
		if (mm)
			mms[i++] = mm;
	}
	rcu_read_unlock();
	while (i--) {
		if (folio_mapped(page_folio(run->kpage)))
			poison_mm(run, mms[i]);
		mmput(mms[i]);
	}
	kvfree(mms);
}

/*
 * Step 1, under the engine lock: take @kpage out of reach, and note where
 * samepage's items mapped it (the array is the caller's to free). Return:
 * the node, or NULL if @kpage is no kpage of samepage's any more (or
 * already handled: a second memory_failure() of the same frame).
 */
static struct sp_stable_node *take_out(struct page *kpage, struct mapper **mp,
				       unsigned int *nr)
{
	struct sp_stable_node *node;
	struct sp_rmap_item *item;
	struct mapper *m = NULL;
	unsigned int n = 0;

	mutex_lock(&samepage_engine.lock);
	node = sp_kpage_node(kpage);
	if (!node)
		goto out;
	if (node->sharers)
		m = kmalloc_array(node->sharers, sizeof(*m), GFP_KERNEL | __GFP_NOWARN);
	/* without the array, the search of every process finds them */
	hlist_for_each_entry(item, &node->items, nlink) {
		if (!m || n == node->sharers)
			break;
		mmgrab(item->slot->mm);
		m[n].mm = item->slot->mm;
		m[n++].addr = sp_item_addr(item);
	}
	sp_kpage_poison(node);
out:
	mutex_unlock(&samepage_engine.lock);
	*mp = m;
	*nr = n;
	return node;
}

/*
 * Step 3: what the kernel's kill_proc() does for the current task under
 * MF_ACTION_REQUIRED (force_sig_mceerr(BUS_MCEERR_AR)), where the kernel
 * can send it.
 */
static void signal_current(struct poison_run *run, int flags)
{
	if (!(flags & MF_ACTION_REQUIRED) || !run->current_mapped ||
	    !samepage_ksyms.force_sig_mceerr)
		return;
	pr_err("%#lx: Sending SIGBUS to %s:%d due to hardware memory corruption\n",
	       page_to_pfn(run->kpage), current->comm, task_pid_nr(current));
	sp_force_sig_mceerr(BUS_MCEERR_AR, (void __user *)run->current_addr, PAGE_SHIFT);
}

/**
 * sp_hwpoison_kpage() - recover from a memory error on a kpage
 * @pfn: the frame memory_failure() was called for
 * @flags: its MF_* flags
 * @err: what the kernel's memory_failure() returned
 *
 * Called in memory_failure()'s own context (sleepable: madvise(), the
 * machine check's task work, the memory_failure_queue() worker, debugfs),
 * right after the kernel handled @pfn. Does nothing unless @pfn is a kpage
 * that the kernel marked poisoned.
 *
 * Return: @err, or 0 when the kernel ignored the frame and samepage took
 * it out of every mapping (the kernel's "Recovered").
 */
int sp_hwpoison_kpage(unsigned long pfn, int flags, int err)
{
	struct poison_run run = { };
	struct sp_stable_node *node;
	struct mapper *m;
	unsigned int nr;
	bool mapped;

	if (!pfn_valid(pfn))
		return err;
	run.kpage = pfn_to_page(pfn);
	if (!PageHWPoison(run.kpage) || !sp_is_kpage(run.kpage))
		return err;
	node = take_out(run.kpage, &m, &nr);
	if (!node)
		return err;

	for (unsigned int i = 0; i < nr; i++) {
		struct vm_area_struct *vma;

		if (mmget_not_zero(m[i].mm)) {
			mmap_read_lock(m[i].mm);
			vma = vma_lookup(m[i].mm, m[i].addr);
			if (vma)
				poison_pte(&run, vma, m[i].addr);
			mmap_read_unlock(m[i].mm);
			mmput(m[i].mm);
		}
		mmdrop(m[i].mm);
	}
	kfree(m);
	if (folio_mapped(page_folio(run.kpage)))
		poison_everywhere(&run);
	signal_current(&run, flags);

	mapped = folio_mapped(page_folio(run.kpage));
	pr_err("%#lx: recovery action for merged page (kpage): %s (%lu mappings replaced)\n",
	       pfn, mapped ? "Failed" : "Recovered", run.ptes);

	mutex_lock(&samepage_engine.lock);
	sp_kpage_poison_done(node);
	mutex_unlock(&samepage_engine.lock);
	return mapped ? err : 0;
}
