// SPDX-License-Identifier: GPL-2.0
/*
 * Registered address spaces ("slots"), their ranges and their rmap_items.
 *
 * A slot holds its mm with mmgrab(): the mm_struct stays, its address space
 * may go (exit); every user takes mmget_not_zero() first. Each rmap_item is
 * counted in its slot (ksm_stat's rmap_items, merging and zero pages) and
 * globally. Everything here runs under samepage_engine.lock, except the
 * lock-free readers the hooks use from atomic or mmap-locked context
 * (sp_find_slot(), sp_item_zero(), sp_note_unmapped()): slots are found
 * through an RCU hash and freed after a grace period.
 *
 * Each slot also carries an mmu notifier (notify.c): its release (exit)
 * and unmap reports reach the reaper work here, which frees the slot of an
 * exited process, and the rmap_items of an unmapped range, at once rather
 * than at the next pass.
 */
#define pr_fmt(fmt) "samepage: " fmt

#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/mm.h>
#include <linux/hashtable.h>
#include <linux/workqueue.h>

#include "samepage.h"
#include "engine.h"
#include "ksyms.h"

#define SLOT_HASH_BITS	10
static DEFINE_HASHTABLE(slot_hash, SLOT_HASH_BITS);

static void reap_workfn(struct work_struct *work);
static DECLARE_DELAYED_WORK(reap_work, reap_workfn);
/* Re-runs left to free the kpages of processes still tearing down. */
static atomic_t reap_retries = ATOMIC_INIT(0);

#define REAP_RETRIES	50	/* every 100 ms: 5 s */

/*
 * The slot of @mm, or NULL. The caller holds the engine lock (which
 * excludes every writer of the hash) or is in an RCU read-side section
 * (the hooks and notifiers).
 */
struct sp_mm_slot *sp_find_slot(struct mm_struct *mm)
{
	struct sp_mm_slot *slot;

	hash_for_each_possible_rcu(slot_hash, slot, hnode, (unsigned long)mm,
				   lockdep_is_held(&samepage_engine.lock))
		if (slot->mm == mm)
			return slot;
	return NULL;
}

/**
 * sp_item_zero() - did samepage map the zero page at @addr of @mm?
 * @mm: the address space
 * @addr: page-aligned address
 *
 * Safe without the engine lock: the slot is RCU-protected, and an
 * rmap_item is read under its xarray's lock, which sp_drop_item() takes to
 * erase it before freeing it. An item's zero flag changes only under the
 * mm's mmap lock, which the caller holds.
 */
bool sp_item_zero(struct mm_struct *mm, unsigned long addr)
{
	struct sp_rmap_item *item;
	struct sp_mm_slot *slot;
	bool zero = false;

	rcu_read_lock();
	slot = sp_find_slot(mm);
	if (slot) {
		xa_lock(&slot->items);
		item = xa_load(&slot->items, addr >> PAGE_SHIFT);
		zero = item && item->zero;
		xa_unlock(&slot->items);	/* see sp_zero_gone() */
	}
	rcu_read_unlock();
	return zero;
}

/* Let the reaper run soon (from any context). */
void sp_reap_soon(void)
{
	atomic_set(&reap_retries, REAP_RETRIES);
	mod_delayed_work(system_unbound_wq, &reap_work, 0);
}

/**
 * sp_note_unmapped() - an mmu notifier saw [@start, @end) of @mm unmapped
 * @mm: the address space
 * @start: start
 * @end: end
 *
 * Atomic context, never blocks: the range is queued on the slot (merged
 * into the last one when the queue is full) and the reaper drops the
 * rmap_items there. Should the range be mapped again meanwhile, its items
 * are recreated at the next visit.
 */
void sp_note_unmapped(struct mm_struct *mm, unsigned long start,
		      unsigned long end)
{
	struct sp_mm_slot *slot;
	unsigned long flags;

	rcu_read_lock();
	slot = sp_find_slot(mm);
	if (slot) {
		spin_lock_irqsave(&slot->unmapped_lock, flags);
		if (slot->nr_unmapped < SP_UNMAPPED_MAX) {
			slot->unmapped[slot->nr_unmapped].start = start;
			slot->unmapped[slot->nr_unmapped++].end = end;
		} else {
			unsigned int last = SP_UNMAPPED_MAX - 1;

			slot->unmapped[last].start = min(slot->unmapped[last].start, start);
			slot->unmapped[last].end = max(slot->unmapped[last].end, end);
		}
		spin_unlock_irqrestore(&slot->unmapped_lock, flags);
		sp_reap_soon();
	}
	rcu_read_unlock();
}

/* Drop the items of the ranges queued by sp_note_unmapped(). */
static void drop_unmapped(struct sp_mm_slot *slot)
{
	struct { unsigned long start, end; } r[SP_UNMAPPED_MAX];
	unsigned long flags;
	unsigned int n;

	spin_lock_irqsave(&slot->unmapped_lock, flags);
	n = slot->nr_unmapped;
	memcpy(r, slot->unmapped, n * sizeof(r[0]));
	slot->nr_unmapped = 0;
	spin_unlock_irqrestore(&slot->unmapped_lock, flags);
	while (n--)
		sp_drop_items(slot, r[n].start, r[n].end);
}

/*
 * Exits and unmaps the notifiers reported: forget them, free their kpages.
 * A release comes at the start of exit_mmap(), before the pages are
 * unmapped, so kpages that only the exiting process maps are freed by a
 * re-run moments later (every 100 ms while such kpages remain, for 5 s at
 * most; a forked child that maps a kpage unregistered can keep one longer,
 * and the periodic prune frees it then).
 */
static void reap_workfn(struct work_struct *work)
{
	static bool rerun;	/* the work is never run twice at once */
	struct sp_mm_slot *slot;
	unsigned long orphans = 0;
	bool changed = rerun;

	mutex_lock(&samepage_engine.lock);
	changed |= sp_reap_slots();
	list_for_each_entry(slot, &samepage_engine.slots, list) {
		if (READ_ONCE(slot->nr_unmapped)) {
			drop_unmapped(slot);
			changed = true;
		}
	}
	if (changed)		/* a prune walks every kpage: only when useful */
		orphans = sp_prune();
	mutex_unlock(&samepage_engine.lock);
	rerun = orphans && atomic_dec_if_positive(&reap_retries) >= 0;
	if (rerun)
		queue_delayed_work(system_unbound_wq, &reap_work, HZ / 10);
}

/* The slot after @slot (the first one for NULL), or NULL at the end. */
struct sp_mm_slot *sp_next_slot(struct sp_mm_slot *slot)
{
	struct list_head *next = slot ? slot->list.next : samepage_engine.slots.next;

	if (next == &samepage_engine.slots)
		return NULL;
	return list_entry(next, struct sp_mm_slot, list);
}

/* Is in-tree KSM running (ksm_run & KSM_RUN_MERGE)? */
bool sp_ksm_running(void)
{
	return samepage_ksyms.ksm_run && (READ_ONCE(*SP_DATA(ksm_run, unsigned long *)) & 1);
}

/* Does @slot follow @vma because of MADV_MERGEABLE / PR_SET_MEMORY_MERGE? */
static bool follows(struct sp_mm_slot *slot, struct vm_area_struct *vma)
{
	return slot->follow && vma && (vma->vm_flags & VM_MERGEABLE) &&
	       READ_ONCE(samepage_knobs.follow_madvise) && !sp_ksm_running();
}

/*
 * The first span samepage merges at or after @addr and before @end (both
 * inside @vma, or @vma NULL to look at registrations only), clipped to
 * [@addr, @end): returns false when there is none. A span is registered
 * (whole process or range), or followed (a VM_MERGEABLE @vma).
 */
bool sp_next_span(struct sp_mm_slot *slot, struct vm_area_struct *vma,
		  unsigned long addr, unsigned long end, unsigned long *s,
		  unsigned long *e)
{
	struct sp_range *r;

	*s = end;
	if (slot->whole || follows(slot, vma)) {
		*s = addr;
		*e = end;
		return addr < end;
	}
	list_for_each_entry(r, &slot->ranges, list) {
		if (r->end <= addr || r->start >= end)
			continue;
		if (max(r->start, addr) < *s) {
			*s = max(r->start, addr);
			*e = min(r->end, end);
		}
	}
	return *s < end;
}

struct sp_rmap_item *sp_get_item(struct sp_mm_slot *slot, unsigned long addr)
{
	struct sp_rmap_item *item = xa_load(&slot->items, addr >> PAGE_SHIFT);

	if (item)
		return item;
	item = kmem_cache_zalloc(sp_item_cache, SP_GFP_SCAN);
	if (!item)
		return NULL;
	item->slot = slot;
	item->addr = addr;
	if (xa_err(xa_store(&slot->items, addr >> PAGE_SHIFT, item, SP_GFP_SCAN))) {
		kmem_cache_free(sp_item_cache, item);
		return NULL;
	}
	samepage_engine.c.rmap_items++;
	slot->rmap_items++;
	return item;
}

/*
 * The kernel's per-mm KSM fields, which /proc/PID/ksm_stat and
 * /proc/PID/ksm_merging_pages show (proc_ksm_stat=1). ksm_zero_pages is an
 * atomic there (6.10+) and follows each change at once; ksm_merging_pages
 * and ksm_rmap_items are plain fields that in-tree ksmd updates under its
 * ksm_thread_mutex, so samepage publishes its part of them under the same
 * mutex, as a difference to what it published last (sp_publish_counts()).
 * Lock order: engine lock, then ksm_thread_mutex; never with an mmap lock
 * held (ksmd takes mmap locks under that mutex).
 */
static bool proc_ksm_stat_on(void)
{
	return READ_ONCE(samepage_knobs.proc_ksm_stat) && samepage_ksyms.ksm_thread_mutex;
}

/* Has @slot's part of its mm's KSM fields been published? (see slot_add()) */
bool sp_slot_publishes(struct sp_mm_slot *slot)
{
	return slot->publish;
}

/*
 * Flip @item's zero flag and the counts that follow it, with its slot's
 * xa_lock held: samepaged and the paths that give a zero page back
 * without the engine lock (unmerge, write faults) may race for one item,
 * and exactly one of them must count the change.
 */
static void __set_zero(struct sp_rmap_item *item, bool zero)
{
	long d = zero ? 1 : -1;

	if (item->zero == zero)
		return;
	item->zero = zero;
	atomic_long_add(d, &samepage_engine.c.ksm_zero_pages);
	atomic_long_add(d, &item->slot->zero);
	if (item->slot->publish)
		sp_mm_ksm_zero_add(item->slot->mm, d);
}

/* Set whether @item maps samepage's zero page (engine lock held). */
void sp_set_zero(struct sp_rmap_item *item, bool zero)
{
	xa_lock(&item->slot->items);
	__set_zero(item, zero);
	xa_unlock(&item->slot->items);
}

/**
 * sp_zero_gone() - @addr of @mm no longer maps samepage's zero page
 * @mm: the address space
 * @addr: page-aligned address
 *
 * Any context (the unmerge paths, the write-fault hook): keeps
 * ksm_zero_pages exact at the moment the mapping goes, as in-tree does.
 */
void sp_zero_gone(struct mm_struct *mm, unsigned long addr)
{
	struct sp_rmap_item *item;
	struct sp_mm_slot *slot;

	rcu_read_lock();
	slot = sp_find_slot(mm);
	if (slot) {
		xa_lock(&slot->items);
		item = xa_load(&slot->items, addr >> PAGE_SHIFT);
		if (item)
			__set_zero(item, false);
		xa_unlock(&slot->items);
	}
	rcu_read_unlock();
}

/**
 * sp_fork_fixup() - take samepage's part out of a forked child's KSM fields
 * @parent: the parent's mm (current's)
 * @child: the child's new mm (the child does not run yet)
 * @in_ksm_fork: called from in-tree ksm_fork() (the parent is mergeable),
 *	which zeroed the child's ksm_merging_pages and ksm_rmap_items and
 *	added the child's copied ksm_zero_pages to in-tree's global count;
 *	else from the fork tracepoint, for a child ksm_fork() left alone
 *
 * dup_mm() copies the parent's mm_struct, samepage's published counts
 * included, but samepage does not track the child's copies of its zero
 * pages. The child keeps in-tree's part only: the parent's field less
 * samepage's count, both read under the parent slot's xa_lock (they change
 * together, see __set_zero()); in-tree's own part cannot change meanwhile
 * inside ksm_fork(), which runs with the parent's mmap lock held for
 * write. In-tree's global count is corrected by what ksm_fork() added
 * beyond in-tree's part. Atomic context (kprobe, tracepoint): on
 * PREEMPT_RT, where the xa_lock may sleep, the two are read unlocked.
 */
void sp_fork_fixup(struct mm_struct *parent, struct mm_struct *child, bool in_ksm_fork)
{
	struct sp_mm_slot *slot;
	long intree, copied;

	rcu_read_lock();
	slot = sp_find_slot(parent);
	if (!slot || !slot->publish)
		goto out;
	if (!IS_ENABLED(CONFIG_PREEMPT_RT))
		xa_lock(&slot->items);
	intree = sp_mm_ksm_zero_read(parent) - atomic_long_read(&slot->zero);
	if (!IS_ENABLED(CONFIG_PREEMPT_RT))
		xa_unlock(&slot->items);
	copied = sp_mm_ksm_zero_read(child);
	sp_mm_ksm_zero_add(child, intree - copied);
	if (in_ksm_fork) {
		if (samepage_ksyms.ksm_zero_pages)
			atomic_long_sub(copied - intree,
					SP_DATA(ksm_zero_pages, atomic_long_t *));
	} else {
		sp_mm_ksm_counts_add(child, -(long)READ_ONCE(slot->pub_merging),
				     -(long)READ_ONCE(slot->pub_items));
	}
out:
	rcu_read_unlock();
}

/* ksm_zero_pages of /sys/kernel/mm/samepage. */
long sp_zero_pages(void)
{
	return atomic_long_read(&samepage_engine.c.ksm_zero_pages);
}

/**
 * sp_publish_counts() - bring @slot's mm->ksm_merging_pages/ksm_rmap_items
 * up to date (see proc_ksm_stat_on())
 * @slot: the slot; engine lock held, no mmap lock held
 *
 * A slot publishes or not for its whole life, as proc_ksm_stat was when
 * it was made, so that what it added is always what it takes back.
 */
void sp_publish_counts(struct sp_mm_slot *slot)
{
	unsigned long merging = slot->merging, items = slot->rmap_items;
	struct mutex *ksm_mutex;

	if (!slot->publish ||
	    (merging == slot->pub_merging && items == slot->pub_items))
		return;
	ksm_mutex = SP_DATA(ksm_thread_mutex, struct mutex *);
	mutex_lock(ksm_mutex);
	sp_mm_ksm_counts_add(slot->mm, (long)(merging - slot->pub_merging),
			     (long)(items - slot->pub_items));
	mutex_unlock(ksm_mutex);
	slot->pub_merging = merging;
	slot->pub_items = items;
}

/* Forget @item: it leaves every tree and counter. */
void sp_drop_item(struct sp_rmap_item *item)
{
	struct sp_mm_slot *slot = item->slot;

	sp_item_unlink(item);
	sp_unstable_erase(item);
	sp_set_zero(item, false);
	xa_erase(&slot->items, item->addr >> PAGE_SHIFT);	/* see sp_item_zero() */
	kmem_cache_free(sp_item_cache, item);
	samepage_engine.c.rmap_items--;
	slot->rmap_items--;
}

/* Drop the items of [@start, @end). */
void sp_drop_items(struct sp_mm_slot *slot, unsigned long start, unsigned long end)
{
	struct sp_rmap_item *item;
	unsigned long idx;

	if (start >= end)
		return;
	xa_for_each_range(&slot->items, idx, item, start >> PAGE_SHIFT,
			  (end >> PAGE_SHIFT) - 1)
		sp_drop_item(item);
}

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
void sp_release_items(struct sp_mm_slot *slot, unsigned long start,
		      unsigned long end)
{
	struct sp_rmap_item *item;
	unsigned long idx;

	if (start >= end)
		return;
	xa_for_each_range(&slot->items, idx, item, start >> PAGE_SHIFT,
			  (end >> PAGE_SHIFT) - 1) {
		if (!item->node && !item->zero)
			continue;
		sp_unmerge_scanned(slot->mm, start, end);
		break;
	}
	sp_drop_items(slot, start, end);
}

static void free_slot_rcu(struct rcu_head *rcu)
{
	kmem_cache_free(sp_slot_cache, container_of(rcu, struct sp_mm_slot, rcu));
}

/* Forget every rmap_item of @slot and the slot itself. */
void sp_free_slot(struct sp_mm_slot *slot)
{
	struct samepage_engine *e = &samepage_engine;
	struct sp_range *r, *tmp;

	if (e->cur == slot) {
		e->cur = sp_next_slot(slot);
		e->cur_addr = 0;
	}
	sp_drop_items(slot, 0, TASK_SIZE);
	sp_publish_counts(slot);	/* takes samepage's part back out */
	xa_destroy(&slot->items);
	list_for_each_entry_safe(r, tmp, &slot->ranges, list)
		kfree(r);
	list_del(&slot->list);
	hash_del_rcu(&slot->hnode);
	if (slot->mn)
		sp_notifier_put(slot->mn);
	mmdrop(slot->mm);
	call_rcu(&slot->rcu, free_slot_rcu);
}

/* Free the slots of processes that have exited; true if there were any. */
bool sp_reap_slots(void)
{
	struct sp_mm_slot *slot, *tmp;
	bool reaped = false;

	/*
	 * mm_users never comes back from 0, so testing it needs no reference:
	 * taking one here could make this the last mmput(), running the whole
	 * exit_mmap() under the engine lock.
	 */
	list_for_each_entry_safe(slot, tmp, &samepage_engine.slots, list) {
		if (sp_mm_exiting(slot->mm)) {
			sp_free_slot(slot);
			reaped = true;
		}
	}
	return reaped;
}

/*
 * A new slot for @mm (engine lock held; the caller holds an mm_users
 * reference, which registering the mmu notifier needs); NULL without memory.
 */
static struct sp_mm_slot *slot_add(struct mm_struct *mm, pid_t pid)
{
	struct sp_mm_slot *slot = kmem_cache_zalloc(sp_slot_cache, GFP_KERNEL);
	struct mmu_notifier *mn;

	if (!slot)
		return NULL;
	mn = sp_notifier_get(mm);
	if (IS_ERR(mn)) {
		kmem_cache_free(sp_slot_cache, slot);
		return NULL;
	}
	mmgrab(mm);
	slot->mm = mm;
	slot->mn = mn;
	slot->pid = pid;
	slot->publish = proc_ksm_stat_on();
	xa_init(&slot->items);
	spin_lock_init(&slot->unmapped_lock);
	INIT_LIST_HEAD(&slot->ranges);
	list_add_tail(&slot->list, &samepage_engine.slots);
	hash_add_rcu(slot_hash, &slot->hnode, (unsigned long)mm);
	return slot;
}

#define DISCOVER_BATCH	64

/*
 * Collect up to DISCOVER_BATCH MMF_VM_MERGEABLE mms that samepage does not
 * follow yet (mmgrab()ed) into @found; returns how many.
 */
static int collect_madvised(struct mm_struct **found, pid_t *pids)
{
	struct task_struct *p;
	struct sp_mm_slot *slot;
	int n = 0;

	rcu_read_lock();
	for_each_process(p) {
		struct mm_struct *mm;

		if (p->flags & PF_KTHREAD)
			continue;
		task_lock(p);
		mm = p->mm;
		if (mm && sp_mm_ksm_mergeable(mm)) {
			slot = sp_find_slot(mm);
			if (!slot || !slot->follow) {
				mmgrab(mm);
				found[n] = mm;
				pids[n++] = task_tgid_nr(p);
			}
		}
		task_unlock(p);
		if (n == DISCOVER_BATCH)
			break;
	}
	rcu_read_unlock();
	return n;
}

/**
 * sp_follow() - follow @mm's VM_MERGEABLE areas (engine lock held)
 * @mm: the address space; the caller holds an mm_users reference
 * @pid: its tgid, for listings
 *
 * Return: 0 or -ENOMEM.
 */
static int sp_follow(struct mm_struct *mm, pid_t pid)
{
	struct sp_mm_slot *slot = sp_find_slot(mm);

	if (!slot)
		slot = slot_add(mm, pid);
	if (!slot)
		return -ENOMEM;
	slot->follow = true;
	return 0;
}

/**
 * sp_discover_madvised() - track the mms in-tree KSM was told about
 *
 * An mm that got MADV_MERGEABLE or PR_SET_MEMORY_MERGE carries
 * MMF_VM_MERGEABLE; samepage follows its VM_MERGEABLE areas (see
 * follows()). The hooks register such an mm when it opts in
 * (sp_queue_follow()); this poll, with the engine lock held at the start of
 * each pass, finds those that opted in before samepage was loaded, or while
 * follow_madvise was 0. Every such mm is found, in batches: mms already
 * followed are not collected again, so each batch makes progress.
 */
void sp_discover_madvised(void)
{
	struct mm_struct *found[DISCOVER_BATCH];
	pid_t pids[DISCOVER_BATCH];
	int n;

	if (!READ_ONCE(samepage_knobs.follow_madvise))
		return;
	do {
		int added = 0;

		n = collect_madvised(found, pids);
		for (int i = 0; i < n; i++) {
			if (mmget_not_zero(found[i])) {
				added += !sp_follow(found[i], pids[i]);
				mmput_async(found[i]);	/* may be the last one */
			}
			mmdrop(found[i]);
		}
		if (added < n)
			break;	/* out of memory or exiting: next pass */
	} while (n == DISCOVER_BATCH);
}

/**
 * __sp_register() - sp_register() with the engine lock held
 * @mm: the address space (the caller holds an mm_users reference)
 * @pid: tgid it belongs to, for listings
 * @r: the range to add (consumed: linked or freed), or NULL for all of @mm
 *
 * Return: 0, -EEXIST if the whole process is registered already, -ENOMEM.
 */
int __sp_register(struct mm_struct *mm, pid_t pid, struct sp_range *r)
{
	struct sp_mm_slot *slot;

	lockdep_assert_held(&samepage_engine.lock);
	slot = sp_find_slot(mm);
	if (slot && slot->whole) {
		kfree(r);
		return -EEXIST;
	}
	if (!slot)
		slot = slot_add(mm, pid);
	if (!slot) {
		kfree(r);
		return -ENOMEM;
	}
	if (r)
		list_add_tail(&r->list, &slot->ranges);
	else
		WRITE_ONCE(slot->whole, true);	/* read by sp_inherits() */
	return 0;
}

/* A new registered range [@start, @end), or NULL without memory. */
struct sp_range *sp_range_new(unsigned long start, unsigned long end)
{
	struct sp_range *r = kzalloc(sizeof(*r), GFP_KERNEL);

	if (r) {
		r->start = start;
		r->end = end;
	}
	return r;
}

/**
 * sp_register() - add @mm, or its range [@start, @end), to the scan list
 * @mm: the address space (the caller holds a reference)
 * @pid: tgid it belongs to, for listings
 * @start: page-aligned start of the range, or 0 with @end 0 for all of @mm
 * @end: page-aligned end of the range
 *
 * Return: 0, -EEXIST if the whole process is registered already, -ENOMEM.
 */
int sp_register(struct mm_struct *mm, pid_t pid, unsigned long start,
		unsigned long end)
{
	struct sp_range *r = NULL;
	int err;

	if (end) {
		r = sp_range_new(start, end);
		if (!r)
			return -ENOMEM;
	}
	mutex_lock(&samepage_engine.lock);
	err = __sp_register(mm, pid, r);
	mutex_unlock(&samepage_engine.lock);
	sp_scan_wake();
	return err;
}

/**
 * sp_register_follow() - follow @mm's VM_MERGEABLE areas now
 * @mm: the address space (the caller holds an mm_users reference)
 * @pid: its tgid
 *
 * For the hooks' queue (inherit.c): an mm that has just opted in through
 * MADV_MERGEABLE or PR_SET_MEMORY_MERGE, or a child that inherited it.
 *
 * Return: 0, -ENOMEM.
 */
int sp_register_follow(struct mm_struct *mm, pid_t pid)
{
	int err = 0;

	if (!READ_ONCE(samepage_knobs.follow_madvise))
		return 0;
	mutex_lock(&samepage_engine.lock);
	if (!sp_mm_exiting(mm))
		err = sp_follow(mm, pid);
	mutex_unlock(&samepage_engine.lock);
	sp_scan_wake();
	return err;
}

/* Take [@start, @end) out of @slot's ranges, splitting one if needed. */
static int cut_ranges(struct sp_mm_slot *slot, unsigned long start,
		      unsigned long end)
{
	struct sp_range *r, *tmp, *tail;

	list_for_each_entry_safe(r, tmp, &slot->ranges, list) {
		if (r->end <= start || r->start >= end)
			continue;
		if (r->start < start && r->end > end) {
			tail = kzalloc(sizeof(*tail), GFP_KERNEL);
			if (!tail)
				return -ENOMEM;
			tail->start = end;
			tail->end = r->end;
			list_add(&tail->list, &r->list);
			r->end = start;
		} else if (r->start < start) {
			r->end = start;
		} else if (r->end > end) {
			r->start = end;
		} else {
			list_del(&r->list);
			kfree(r);
		}
	}
	return 0;
}

/**
 * sp_unregister() - unmerge synchronously and stop tracking @mm or a range
 * @mm: the address space
 * @start: page-aligned start, or 0 with @end 0 for the whole process
 * @end: page-aligned end
 *
 * A range leaves whatever registered ranges it covers (trimming or
 * splitting those it overlaps); the slot goes when nothing is left.
 *
 * Return: 0, -ENOENT if @mm is not registered, -EINVAL for a range of a
 * process registered whole, or the unmerge error (then nothing changes).
 */
int sp_unregister(struct mm_struct *mm, unsigned long start, unsigned long end)
{
	struct sp_mm_slot *slot;
	int err;

	mutex_lock(&samepage_engine.lock);
	slot = sp_find_slot(mm);
	if (!slot) {
		err = -ENOENT;
		goto out;
	}
	if (end && slot->whole) {
		err = -EINVAL;
		goto out;
	}
	if (!end)
		end = TASK_SIZE;
	err = sp_unmerge_range(mm, start, end);
	if (!err)
		err = cut_ranges(slot, start, end);
	if (err)
		goto out;
	sp_drop_items(slot, start, end);
	if ((slot->whole || list_empty(&slot->ranges)) && !slot->follow) {
		sp_free_slot(slot);
	} else {
		WRITE_ONCE(slot->whole, false);
		sp_publish_counts(slot);
	}
	sp_prune();
out:
	mutex_unlock(&samepage_engine.lock);
	return err;
}

/**
 * sp_unmerge_all() - run=2: unmerge every registered mm
 *
 * Slots of live processes stay registered (as in-tree, run=1 scans them
 * again), those of exited ones go; every rmap_item is dropped and
 * full_scans restarts from 0.
 *
 * Return: 0 or the first unmerge error.
 */
int sp_unmerge_all(void)
{
	struct samepage_engine *e = &samepage_engine;
	struct sp_mm_slot *slot;
	int err = 0;

	mutex_lock(&e->lock);
	sp_reap_slots();	/* exited processes: nothing to unmerge, just go */
	list_for_each_entry(slot, &e->slots, list) {
		if (!mmget_not_zero(slot->mm))
			continue;
		err = sp_unmerge_range(slot->mm, 0, TASK_SIZE);
		mmput_async(slot->mm);	/* not exit_mmap() under the engine lock */
		if (err)
			break;
		sp_drop_items(slot, 0, TASK_SIZE);
		sp_publish_counts(slot);
	}
	if (!err) {
		sp_unstable_reset();
		e->cur = NULL;
		e->cur_addr = 0;
		e->c.full_scans = 0;
		e->c.pass_visited = 0;
	}
	sp_prune();
	mutex_unlock(&e->lock);
	return err;
}

/*
 * Unload: no kpage exists (each holds a module reference), so only zero
 * pages can still be merged; give those back too, then drop the slots.
 */
void sp_slots_exit(void)
{
	struct sp_mm_slot *slot, *tmp;

	mutex_lock(&samepage_engine.lock);
	list_for_each_entry_safe(slot, tmp, &samepage_engine.slots, list) {
		if (atomic_long_read(&slot->zero) && mmget_not_zero(slot->mm)) {
			sp_unmerge_range(slot->mm, 0, TASK_SIZE);
			mmput_async(slot->mm);
		}
		sp_free_slot(slot);
	}
	mutex_unlock(&samepage_engine.lock);
	sp_notifier_exit();		/* no notifier callback runs any more ... */
	cancel_delayed_work_sync(&reap_work);	/* ... so no reaper work after this */
}
