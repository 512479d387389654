// SPDX-License-Identifier: GPL-2.0
/*
 * The registry: registered address spaces ("slots") and their ranges.
 *
 * A slot holds its mm with mmgrab(): the mm_struct stays, its address space
 * may go (exit); every user takes mmget_not_zero() first. Everything here
 * runs under samepage_engine.lock; lock-free readers find slots through
 * the RCU hash (slothash.c), and slots are freed after a grace period.
 *
 * Each slot also carries an mmu notifier (notify.c), whose exit and unmap
 * reports reach the reaper (reaper.c).
 */
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/mm.h>
#include <linux/pid.h>
#include <linux/workqueue.h>
#include "samepage.h"
#include "engine.h"
#include "ksyms.h"
#include "trace.h"

/*
 * Publish every slot's counts (sp_publish_counts()): a merge changes the
 * partner's counts too, after the partner's own pass may have ended.
 * Engine lock held, no mmap lock.
 */
void sp_publish_all(void)
{
	struct sp_mm_slot *slot;

	lockdep_assert_held(&samepage_engine.lock);
	list_for_each_entry(slot, &samepage_engine.slots, list)
		sp_publish_counts(slot);
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
static bool sp_ksm_running(void)
{
	return samepage_ksyms.ksm_run && (READ_ONCE(*sp_ksm_run()) & 1);
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

static void free_slot_rcu(struct rcu_head *rcu)
{
	struct sp_mm_slot *slot = container_of(rcu, struct sp_mm_slot, rcu);

	put_pid(slot->pid);
	kmem_cache_free(sp_slot_cache, slot);
}

/* Forget every rmap_item of @slot and the slot itself. */
static void sp_free_slot(struct sp_mm_slot *slot)
{
	struct samepage_engine *e = &samepage_engine;
	struct sp_range *r, *tmp;

	if (e->cur == slot)
		sp_cursor_set(sp_next_slot(slot), 0);
	sp_drop_items(slot, 0, TASK_SIZE);
	sp_publish_counts(slot);	/* takes samepage's part back out */
	xa_destroy(&slot->items);
	list_for_each_entry_safe(r, tmp, &slot->ranges, list)
		kfree(r);
	list_del(&slot->list);
	sp_slot_hash_del(slot);
	if (slot->mn)
		sp_notifier_put(slot->mn);
	mmdrop(slot->mm);
	call_rcu(&slot->rcu, free_slot_rcu);
}

/*
 * A process that exits leaves its slot's items to drop: one per page it
 * had tracked, 16M for a 64 GiB guest, each unlinked from its kpage. They
 * go at most SP_REAP_CHUNK (engine.h) per engine lock hold, so a big exit
 * never holds the lock for long (a sanitizer kernel under TCG once took
 * minutes for 252k items, and the tasks waiting for the lock were
 * reported hung).
 */
/**
 * sp_reap_slot() - drop up to *@budget items of @slot, whose mm has exited
 * @slot: the slot (engine lock held)
 * @budget: items that may still go in this lock hold; decremented
 *
 * Until it has no item left the slot stays listed: the scan skips it
 * (scan_slot() says SLOT_DEAD), and the next call goes on.
 *
 * Return: true once the slot itself is freed.
 */
bool sp_reap_slot(struct sp_mm_slot *slot, unsigned int *budget)
{
	struct sp_rmap_item *item;
	unsigned long idx, n = 0;
	bool freed = false;

	lockdep_assert_held(&samepage_engine.lock);
	xa_for_each(&slot->items, idx, item) {
		if (n == *budget)
			break;
		sp_drop_item(item);
		n++;
	}
	*budget -= n;
	if (xa_empty(&slot->items)) {
		sp_free_slot(slot);
		freed = true;
	}
	trace_reap(n, freed);
	return freed;
}

/**
 * sp_reap_slots() - free the slots of processes that have exited
 * @more: NULL to free them all at once; else set to true if a slot still
 *	has items after SP_REAP_CHUNK went: the caller drops the engine lock
 *	and calls again
 *
 * Return: true if any item or slot went.
 */
bool sp_reap_slots(bool *more)
{
	unsigned int budget = more ? SP_REAP_CHUNK : UINT_MAX;
	struct sp_mm_slot *slot, *tmp;
	bool reaped = false;

	/*
	 * mm_users never comes back from 0, so testing it needs no reference:
	 * taking one here could make this the last mmput(), running the whole
	 * exit_mmap() under the engine lock.
	 */
	list_for_each_entry_safe(slot, tmp, &samepage_engine.slots, list) {
		if (!sp_mm_exiting(slot->mm))
			continue;
		if (!budget) {		/* only with @more */
			*more = true;
			break;
		}
		reaped = true;
		if (!sp_reap_slot(slot, &budget)) {
			if (more)
				*more = true;
			break;
		}
	}
	return reaped;
}

static u64 slot_serial;	/* the last slot's serial (engine lock) */

/*
 * A new slot for @mm (engine lock held; the caller holds an mm_users
 * reference, which registering the mmu notifier needs); NULL without memory.
 */
static struct sp_mm_slot *slot_add(struct mm_struct *mm, struct pid *pid)
{
	struct sp_mm_slot *slot = kmem_cache_zalloc(sp_slot_cache, GFP_KERNEL);
	struct mmu_notifier *mn;

	lockdep_assert_held(&samepage_engine.lock);
	if (!slot)
		return NULL;
	mn = sp_notifier_get(mm);
	if (IS_ERR(mn)) {
		kmem_cache_free(sp_slot_cache, slot);
		return NULL;
	}
	mmgrab(mm);
	slot->mm = mm;
	slot->serial = ++slot_serial;
	slot->mn = mn;
	slot->pid = get_pid(pid);
	slot->publish = sp_proc_ksm_stat_on();
	xa_init(&slot->items);
	spin_lock_init(&slot->unmapped_lock);
	INIT_LIST_HEAD(&slot->ranges);
	list_add_tail(&slot->list, &samepage_engine.slots);
	sp_slot_hash_add(slot);
	/* a forked child comes with its parent's kpages mapped */
	samepage_engine.merge_seq++;
	return slot;
}

/**
 * sp_follow() - follow @mm's VM_MERGEABLE areas (engine lock held)
 * @mm: the address space; the caller holds an mm_users reference
 * @pid: its tgid, for listings
 *
 * Return: 0 or -ENOMEM.
 */
int sp_follow(struct mm_struct *mm, struct pid *pid)
{
	struct sp_mm_slot *slot = sp_find_slot(mm);

	lockdep_assert_held(&samepage_engine.lock);
	if (!slot)
		slot = slot_add(mm, pid);
	if (!slot)
		return -ENOMEM;
	slot->follow = true;
	return 0;
}

/**
 * __sp_register() - sp_register() with the engine lock held
 * @mm: the address space (the caller holds an mm_users reference)
 * @pid: tgid it belongs to, for listings
 * @r: the range to add (consumed: linked or freed), or NULL for all of @mm
 *
 * Return: 0, -EEXIST if the whole process is registered already, -ENOMEM.
 */
int __sp_register(struct mm_struct *mm, struct pid *pid, struct sp_range *r)
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
	/* charged to the caller: an unprivileged flood of ranges meets its memcg */
	struct sp_range *r = kzalloc(sizeof(*r), GFP_KERNEL_ACCOUNT);

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
int sp_register(struct mm_struct *mm, struct pid *pid, unsigned long start,
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
int sp_register_follow(struct mm_struct *mm, struct pid *pid)
{
	int err = 0;

	if (!READ_ONCE(samepage_knobs.follow_madvise))
		return 0;
	mutex_lock(&samepage_engine.lock);
	if (!sp_mm_exiting(mm))
		err = sp_follow(mm, pid);
	mutex_unlock(&samepage_engine.lock);
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
			tail = kzalloc(sizeof(*tail), GFP_KERNEL_ACCOUNT);
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
	bool whole_range = !end;
	unsigned long seq;
	int err;

	mutex_lock(&samepage_engine.lock);
	slot = sp_find_slot(mm);
	err = !slot ? -ENOENT : end && slot->whole ? -EINVAL : 0;
	seq = samepage_engine.merge_seq;
	mutex_unlock(&samepage_engine.lock);
	if (err)
		return err;
	if (!end)
		end = TASK_SIZE;
	/* the faults first, without the engine lock (sp_unmerge_first()) */
	err = sp_unmerge_first(mm, start, end);
	if (err)
		return err;

	mutex_lock(&samepage_engine.lock);
	slot = sp_find_slot(mm);	/* again: it may have changed meanwhile */
	if (!slot) {
		err = -ENOENT;
		goto out;
	}
	if (!whole_range && slot->whole) {
		err = -EINVAL;
		goto out;
	}
	/* merged meanwhile: walk again (sp_unmerge_first()) */
	if (samepage_engine.merge_seq != seq)
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

/*
 * run=2's faults, before the engine lock (sp_unmerge_first()): the live
 * registered mms are taken under the lock, then unmerged without it.
 * *@seq: samepage_engine.merge_seq when they were taken; *@done: false
 * when there was no memory for the list, and the unmerge under the lock
 * does it all.
 */
static int unmerge_all_first(unsigned long *seq, bool *done)
{
	struct samepage_engine *e = &samepage_engine;
	struct sp_mm_slot *slot;
	struct mm_struct **mms;
	unsigned int n = 0, i;
	int err = 0;

	mutex_lock(&e->lock);
	list_for_each_entry(slot, &e->slots, list)
		n++;
	mms = n ? kvmalloc_array(n, sizeof(*mms), GFP_KERNEL | __GFP_NOWARN) : NULL;
	*seq = e->merge_seq;
	*done = mms || !n;
	n = 0;
	if (mms) {
		list_for_each_entry(slot, &e->slots, list) {
			if (mmget_not_zero(slot->mm))
				mms[n++] = slot->mm;
		}
	}
	mutex_unlock(&e->lock);
	for (i = 0; i < n; i++) {
		if (!err)
			err = sp_unmerge_first(mms[i], 0, TASK_SIZE);
		mmput(mms[i]);
	}
	kvfree(mms);
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
	unsigned long seq;
	bool done;
	int err;

	err = unmerge_all_first(&seq, &done);
	if (err)
		return err;
	mutex_lock(&e->lock);
	sp_reap_slots(NULL);	/* exited processes: nothing to unmerge, just go */
	list_for_each_entry(slot, &e->slots, list) {
		/* merged meanwhile, or not unmerged yet: walk under the lock */
		if ((!done || e->merge_seq != seq) && mmget_not_zero(slot->mm)) {
			err = sp_unmerge_range(slot->mm, 0, TASK_SIZE);
			mmput_async(slot->mm);	/* not exit_mmap() under the engine lock */
			if (err)
				break;
		}
		sp_drop_items(slot, 0, TASK_SIZE);
		sp_publish_counts(slot);
	}
	if (!err) {
		sp_unstable_reset();
		sp_passes_restart();
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
	sp_notifier_exit();		/* no notifier callback runs any more */
}
