// SPDX-License-Identifier: GPL-2.0
/*
 * Unmerge (Documentation/design.md, "Architecture"): give back every page samepage merged in a
 * range, by faulting each address that maps a kpage or samepage's zero page
 * until none is left. Synchronous. Used by run=2, UNREGISTER, the madvise
 * and prctl hooks, and the scanner when it lets go of a stretch.
 */
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include "samepage.h"
#include "engine.h"
#include "trace.h"

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
			*next = sp_table_gap_end(vma->vm_mm, addr, vma->vm_end);
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
 * sp_unmerge_first() - the faults of an unmerge, before the engine lock
 * @mm: the address space; the caller holds a reference (mmget)
 * @start: page-aligned start
 * @end: page-aligned end
 *
 * An unmerge allocates a page per merged address, and the allocation may
 * wait on reclaim and on the OOM killer of @mm's memory cgroup for as long
 * as that keeps finding victims. Under the engine lock that wait can last:
 * the kpages charged to a full memory cgroup, whose processes are being
 * killed, are freed only under that lock (the reaper, samepaged), and
 * everything else that needs the lock waits too. So run=2 and UNREGISTER
 * unmerge first with this, no engine lock held, then take the lock for
 * their bookkeeping. They walk the range again under it only if anything
 * was merged in between (samepage_engine.merge_seq moved since they read
 * it, under the lock, before calling this): a walk under the lock is as
 * long as the range, even with nothing left to fault.
 *
 * Nothing else puts a kpage back where this walk has been: it holds the
 * mmap lock from the first address to the last, so mremap() cannot move
 * a kpage behind it, and fork() gives merged pages only to the child.
 *
 * Return: as sp_unmerge_range().
 */
int sp_unmerge_first(struct mm_struct *mm, unsigned long start, unsigned long end)
{
	lockdep_assert_not_held(&samepage_engine.lock);
	return sp_unmerge_range(mm, start, end);
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
 * fixes its own. Page-table-less stretches are skipped at the level where
 * they are empty (sp_table_gap_end()).
 *
 * Return: as sp_unmerge_range().
 */
int __sp_unmerge_range(struct mm_struct *mm, unsigned long start, unsigned long end)
{
	struct vm_area_struct *vma;
	unsigned long addr, next;
	int err = 0;
	VMA_ITERATOR(vmi, mm, start);

	mmap_assert_locked(mm);
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
