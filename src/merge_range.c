// SPDX-License-Identifier: GPL-2.0
/*
 * MERGE_RANGE: a range of one process visited at once, from the ioctl.
 */
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/sched/signal.h>

#include "samepage.h"
#include "engine.h"
#include "ksyms.h"
#include "scanner.h"

/* Is [@start, @end) one registered span of @slot (engine lock held)? */
static bool range_registered(struct sp_mm_slot *slot, unsigned long start,
			     unsigned long end)
{
	unsigned long s, e;

	lockdep_assert_held(&samepage_engine.lock);
	return slot && sp_next_span(slot, NULL, start, end, &s, &e) &&
	       s == start && e == end;
}

/**
 * sp_merge_range() - MERGE_RANGE: merge [@start, @end) of @mm now
 * @mm: the address space (the caller holds a reference)
 * @pid: its thread group's struct pid, should the range need registering
 * @start: page-aligned start
 * @end: page-aligned end
 * @own_uid: merge only with pages of the process's own uid (an unprivileged
 *	caller, under merge_scope=all: sp_key_scope())
 * @merged: out: pages saved (growth of pages_sharing + ksm_zero_pages)
 *
 * Every page of the range is visited once, like a scan would, except that
 * it need not have held still for a pass first. The range is registered if
 * it is not, so that samepaged keeps it merged and UNREGISTER undoes it.
 *
 * The engine lock is held from the registration to the last page: the
 * slot found is the slot scanned. (An UNREGISTER from another thread waits,
 * then undoes the whole call.)
 *
 * Return: 0 or a negative errno from registering.
 */
int sp_merge_range(struct mm_struct *mm, struct pid *pid, unsigned long start,
		   unsigned long end, bool own_uid, u64 *merged)
{
	struct samepage_engine *e = &samepage_engine;
	struct sp_range *r = sp_range_new(start, end);
	struct sp_pmd_cache pc = { };
	struct sp_visit v = { .now = true, .pc = &pc };
	struct vm_area_struct *vma;
	struct sp_mm_slot *slot;
	unsigned long addr, cost;
	long before, saved;
	int err;
	VMA_ITERATOR(vmi, mm, start);

	if (!r)
		return -ENOMEM;
	sp_lru_add_drain_all();
	sp_merging_begin(true);
	mutex_lock(&e->lock);
	slot = sp_find_slot(mm);
	if (range_registered(slot, start, end)) {
		kfree(r);
	} else {
		err = __sp_register(mm, pid, r);
		if (err && err != -EEXIST)
			goto out;
		slot = sp_find_slot(mm);
	}
	before = e->c.pages_sharing + sp_zero_pages();
	v.slot = slot;
	sp_scope_own_uid(slot, own_uid);
	mmap_read_lock(mm);
	for_each_vma_range(vmi, vma, end) {
		unsigned long vend = min(vma->vm_end, end);

		if (!sp_vma_eligible(vma))
			continue;
		v.vma = vma;
		for (addr = max(vma->vm_start, start); addr < vend; ) {
			if (sp_mm_exiting(mm) || fatal_signal_pending(current))
				break;
			addr += sp_visit_addr(&v, addr, vend, &cost) << PAGE_SHIFT;
			cond_resched();
		}
	}
	mmap_read_unlock(mm);
	sp_scope_own_uid(slot, false);
	sp_publish_all();	/* partners' counts changed too */
	/* others' unmerges meanwhile can make the difference negative */
	saved = (long)(e->c.pages_sharing + sp_zero_pages()) - before;
	*merged = saved > 0 ? saved : 0;
	err = 0;
out:
	mutex_unlock(&e->lock);
	sp_merging_end();
	return err;
}

