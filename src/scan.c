// SPDX-License-Identifier: GPL-2.0
/*
 * The samepaged kthread and its cursor over registered mms, VMAs and pages
 * (the other parts of the scanner, and what each owns: scanner.h).
 *
 * One pass visits every eligible page of every registered mm (or range),
 * round-robin, pages_to_scan pages per batch, sleeping sleep_millisecs
 * between batches; a batch never runs past the end of a pass. Per page: one
 * xxh64 of the content, looked up by hash in the stable tree, then in the
 * unstable tree; an equal hash is confirmed by one memcmp() before anything
 * is merged. Every address gets one outcome per pass (enum samepage_why),
 * the "why not merged" breakdown.
 *
 * The two-pass rule, and where samepage keeps it (see sp_sight()): in-tree KSM
 * looks a page up in the stable tree on every visit, but enters it into the
 * unstable tree (or maps the zero page) only once its checksum held still
 * from one visit to the next, so a new page merges at the second pass that
 * sees it at the earliest. samepage keeps that rule for a page whose hash
 * changed since its last visit: such a page only merges into a stable kpage
 * and is volatile otherwise. A page seen for the first time goes all the
 * way (merge_first_sight, default 1): the merge compares the contents
 * under the page table lock, so a page that changes later costs a failed
 * compare or a COW break, never wrong data. That merges in one pass what
 * in-tree merges in two (time to converge, and tools that wait two passes
 * after madvise() of the second twin, as ksm_tests -N does).
 *
 * rmap_items of addresses the cursor passes without visiting (unmapped,
 * ineligible, unregistered) are dropped as it passes, as in-tree KSM does,
 * so that counters such as ksm_zero_pages are exact after a pass.
 */
#define pr_fmt(fmt) "samepage: " fmt

#include <linux/kthread.h>
#include <linux/freezer.h>
#include <linux/sched/mm.h>
#include <linux/pagemap.h>
#include <linux/wait.h>
#include <linux/mm.h>
#include <linux/jiffies.h>

#include "samepage.h"
#include "engine.h"
#include "ksyms.h"
#include "trace.h"
#include "scanner.h"

static struct task_struct *samepaged;

/* Registered slots (list_count_nodes() is missing from older 6.1 updates). */
static unsigned long count_slots(void)
{
	struct list_head *pos;
	unsigned long n = 0;

	list_for_each(pos, &samepage_engine.slots)
		n++;
	return n;
}

/*
 * kpages moved per pass end or prune (compact.c): the scan's own budget,
 * and never less than two arenas' worth, so that merged memory packed
 * after a churn does not wait for many passes at the default knobs.
 */
static unsigned int compact_budget(void)
{
	return max_t(unsigned int, READ_ONCE(samepage_knobs.pages_to_scan),
		     2 * SP_PMD_PAGES);
}

/* The cursor wrapped: one full pass is done. */
static void end_full_pass(void)
{
	struct sp_counters *c = &samepage_engine.c;

	sp_pass_end();
	sp_unstable_next_pass();
	sp_prune();
	sp_compact(compact_budget());
	sp_publish_all();	/* merges moved partners' counts after their pass */
	if (SP_DEBUG_CHECKS) {	/* every count against a recount */
		sp_kpages_check();
		sp_items_check();
	}
	trace_scan_stop(c->full_scans, c->last_pass_visited, c->pages_shared,
			c->pages_sharing);
	sp_advisor_end_pass();
}

enum slot_scan { SLOT_MORE, SLOT_DONE, SLOT_DEAD };

/**
 * sp_release_items() - the cursor passed [@start, @end) without visiting it
 * @slot: the slot (its mm's mmap lock is held for read, not mm_users)
 * @start: start
 * @end: end
 *
 * Whatever samepage merged there is given back first: the area was
 * unregistered, or stopped being VM_MERGEABLE (MADV_UNMERGEABLE,
 * PR_SET_MEMORY_MERGE=0), or in-tree KSM took it over. Then the items go.
 */
static void sp_release_items(struct sp_mm_slot *slot, unsigned long start,
			     unsigned long end)
{
	struct sp_rmap_item *item;
	unsigned long idx;

	if (start >= end)
		return;
	xa_for_each_range(&slot->items, idx, item, start >> PAGE_SHIFT,
			  (end >> PAGE_SHIFT) - 1) {
		if (!sp_item_node(item) && !item->zero)
			continue;
		sp_unmerge_scanned(slot->mm, start, end);
		break;
	}
	sp_drop_items(slot, start, end);
}

/* When the running batch ends at the latest (scan_batch(); engine lock). */
static unsigned long batch_deadline;

/*
 * Should the walk let go of the mmap lock at @addr? At a PMD boundary, when
 * a writer waits for the lock or the CPU is wanted: the walk holds it for
 * one page table at most while others need it (in-tree ksmd takes it per
 * page). Also once the batch is past its time: addresses that cost nothing
 * against pages_to_scan (the zero page, swapped memory) are still work.
 */
static bool walk_should_yield(struct mm_struct *mm, unsigned long addr)
{
	return IS_ALIGNED(addr, PMD_SIZE) &&
	       (need_resched() || mmap_lock_is_contended(mm) ||
		time_after_eq(jiffies, batch_deadline));
}

/**
 * scan_slot() - scan up to *@budget pages of @slot's mm from the cursor
 * @slot: the cursor's slot
 * @budget: pages left in this batch; lowered by what was scanned
 *
 * Stretches that samepage passes without visiting (not registered, or
 * registered in an ineligible VMA) lose their rmap_items, after whatever
 * was merged there is given back (sp_release_items()).
 *
 * Return: SLOT_DONE at the end of the mm, SLOT_DEAD if it is exiting, else
 * SLOT_MORE (the budget ran out, or the walk yielded the mmap lock; the
 * cursor says where to go on).
 */
static enum slot_scan scan_slot(struct sp_mm_slot *slot, unsigned int *budget)
{
	struct samepage_engine *e = &samepage_engine;
	struct mm_struct *mm = slot->mm;
	unsigned long next = e->cur_addr, s, end, addr, cost;
	enum slot_scan ret = SLOT_DONE;
	struct sp_pmd_cache pc = { };
	struct sp_visit v = { .slot = slot, .now = false, .pc = &pc };
	struct vm_area_struct *vma;
	VMA_ITERATOR(vmi, mm, e->cur_addr);

	mmap_read_lock(mm);
	if (sp_mm_exiting(mm)) {
		mmap_read_unlock(mm);
		return SLOT_DEAD;
	}
	for_each_vma(vmi, vma) {
		int vwhy = sp_vma_why(vma);

		addr = max(vma->vm_start, e->cur_addr);
		v.vma = vma;
		while (sp_next_span(slot, vma, addr, vma->vm_end, &s, &end)) {
			addr = end;
			if (vwhy >= 0 || !vma->anon_vma) {
				/* nothing to visit: ineligible, or never faulted */
				sp_outcome(&v, vwhy >= 0 ? vwhy : SAMEPAGE_WHY_NOT_PRESENT,
					(end - s) >> PAGE_SHIFT);
				continue;	/* its items go with the next release */
			}
			sp_release_items(slot, next, s);
			next = end;
			for (addr = s; addr < end; ) {
				if (!*budget || sp_mm_exiting(mm) ||
				    (addr != s && walk_should_yield(mm, addr))) {
					sp_cursor_set(slot, addr);
					ret = SLOT_MORE;
					goto out;
				}
				addr += sp_visit_addr(&v, addr, end, &cost) << PAGE_SHIFT;
				*budget -= min_t(unsigned long, cost, *budget);
				cond_resched();
			}
		}
	}
	sp_release_items(slot, next, TASK_SIZE);
	sp_outcomes_end_pass(slot);
out:
	mmap_read_unlock(mm);
	if (ret == SLOT_DONE)
		sp_publish_counts(slot);	/* no mmap lock held: see there */
	return ret;
}

/*
 * The longest a batch holds the engine lock. Registration, LIST, the
 * reaper and the fork/exec inheritance wait for it, where in-tree's ksmd
 * holds a mutex nothing else needs. A batch is normally far shorter; one
 * that is not (a walk that waits for an mmap lock at every page table,
 * behind writers, on a loaded machine) goes on in the next batch.
 */
#define SP_BATCH_MAX_JIFFIES	(HZ / 4)

/*
 * One batch: up to @budget pages, and never past the end of a full pass
 * (as in-tree ksm_do_scan()), so two visits of a page are always at least
 * one sleep_millisecs apart; and no longer than SP_BATCH_MAX_JIFFIES.
 */
static bool scan_batch(unsigned int budget)
{
	struct samepage_engine *e = &samepage_engine;
	bool wrapped = false, idle = false;

	/*
	 * Pages in per-CPU LRU batches hold an extra reference, which
	 * sp_replace_page() takes for a pin: drain them once per pass, as
	 * in-tree ksmd does (per batch would interrupt every CPU each time),
	 * and only when there is something to scan.
	 */
	if (!READ_ONCE(e->cur) && !list_empty(&e->slots))
		sp_lru_add_drain_all();
	sp_merging_begin(!list_empty(&e->slots));
	mutex_lock(&e->lock);
	batch_deadline = jiffies + SP_BATCH_MAX_JIFFIES;
	while (budget && !wrapped && time_before(jiffies, batch_deadline) &&
	       READ_ONCE(samepage_knobs.run) == SP_RUN_MERGE) {
		struct sp_mm_slot *slot;

		if (!e->cur) {		/* a pass begins */
			sp_discover_madvised();
			sp_cursor_set(sp_next_slot(NULL), 0);
			if (!e->cur) {
				idle = true;	/* nothing registered */
				break;
			}
			if (trace_scan_start_enabled())	/* counting walks the list */
				trace_scan_start(e->c.full_scans + 1,
						 count_slots());
			sp_advisor_start_pass();
		}
		/* a slot came meanwhile: the next batch arms the probe first */
		if (!sp_cow_probe_armed())
			break;
		slot = e->cur;
		switch (scan_slot(slot, &budget)) {
		case SLOT_MORE:
			break;
		case SLOT_DEAD: {
			unsigned int chunk = SP_REAP_CHUNK;

			/* freeing it moves the cursor on; else the rest goes later */
			if (!sp_reap_slot(slot, &chunk))
				sp_cursor_set(sp_next_slot(slot), 0);
			wrapped = !e->cur;
			break;
		}
		case SLOT_DONE:
			sp_cursor_set(sp_next_slot(slot), 0);
			wrapped = !e->cur;
			break;
		}
		if (wrapped)
			end_full_pass();
		if (kthread_should_stop())
			break;
		cond_resched();
	}
	if (sp_prune_due()) {
		sp_prune();
		sp_compact(compact_budget());
	}
	mutex_unlock(&e->lock);
	sp_merging_end();
	return idle;
}

static int samepaged_fn(void *unused)
{
	set_freezable();
	set_user_nice(current, 5);
	while (!kthread_should_stop()) {
		if (READ_ONCE(samepage_knobs.run) == SP_RUN_MERGE) {
			bool idle;

			WRITE_ONCE(samepage_engine.wake_pending, false);
			idle = scan_batch(READ_ONCE(samepage_knobs.pages_to_scan));
			if (idle)
				sp_cow_probe_idle();

			/*
			 * Nothing registered: like ksmd with no mm, sleep until a
			 * registration wakes us (sp_scan_wake()), polling for
			 * madvised processes once a second.
			 */
			wait_event_freezable_timeout(samepage_engine.wait,
				kthread_should_stop() ||
				(idle && READ_ONCE(samepage_engine.wake_pending)),
				idle ? HZ : msecs_to_jiffies(READ_ONCE(samepage_knobs.sleep_millisecs)));
		} else {
			bool more = false;

			/* exited processes and unmapped kpages go while idle too */
			mutex_lock(&samepage_engine.lock);
			sp_reap_slots(&more);
			if (!more)	/* a prune walks every kpage: once, at the end */
				sp_prune();
			mutex_unlock(&samepage_engine.lock);
			if (more) {	/* the lock is free between two chunks */
				cond_resched();
				continue;
			}
			sp_cow_probe_idle();
			wait_event_freezable_timeout(samepage_engine.wait,
				kthread_should_stop() ||
				READ_ONCE(samepage_knobs.run) == SP_RUN_MERGE, HZ);
		}
	}
	return 0;
}

int sp_scan_init(void)
{
	sp_page_init();
	samepaged = kthread_run(samepaged_fn, NULL, "samepaged");
	return PTR_ERR_OR_ZERO(samepaged);
}

void sp_scan_exit(void)
{
	kthread_stop(samepaged);
	sp_slots_exit();
	sp_thp_exit();
}

