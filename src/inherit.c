// SPDX-License-Identifier: GPL-2.0
/*
 * Whole-process registrations are inherited like in-tree KSM's
 * MMF_VM_MERGE_ANY: by a forked child and across exec (hooks.c observes
 * both). The hooks run in atomic context, so they only queue the new mm
 * here; a work item registers it moments later, before the new process
 * can have much memory. An mm stays "inheriting" while it waits in the
 * queue, so a child that forks or execs before its own registration lands
 * still passes it on.
 *
 * The same queue carries opt-ins through MADV_MERGEABLE and
 * PR_SET_MEMORY_MERGE (follow requests), so that they take effect at the
 * call, as in-tree, rather than when the next pass polls for them.
 */
#define pr_fmt(fmt) "samepage: " fmt

#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include <linux/pid.h>

#include "compat.h"
#include "engine.h"

struct sp_pending {
	struct list_head list;
	struct mm_struct *mm;	/* mmgrab()ed */
	struct pid *pid;	/* referenced */
	bool follow;		/* a follow request, not a whole registration */
};

/*
 * The hooks run with preemption disabled (kprobe handlers, tracepoint
 * probes), also on PREEMPT_RT, where a spinlock_t sleeps and the page
 * allocator may not be entered: the queue is under a raw spinlock, and
 * requests come from a static pool instead of kmalloc(). pending_lock
 * protects @pending and @free_requests; it is a leaf (nothing is taken
 * under it, nothing is freed under it).
 */
#define SP_PENDING_MAX	256

static struct sp_pending requests[SP_PENDING_MAX];
static LIST_HEAD(pending);
static LIST_HEAD(free_requests);
static DEFINE_RAW_SPINLOCK(pending_lock);

static void inherit_workfn(struct work_struct *work);
static DECLARE_WORK(inherit_work, inherit_workfn);

/**
 * sp_inherits() - is @mm registered whole (or about to be)?
 * @mm: the address space
 *
 * Any context; RCU and a spinlock only.
 */
bool sp_inherits(struct mm_struct *mm)
{
	struct sp_pending *p;
	struct sp_mm_slot *slot;
	unsigned long flags;
	bool whole;

	rcu_read_lock();
	slot = sp_find_slot(mm);
	whole = slot && READ_ONCE(slot->whole);
	rcu_read_unlock();
	if (whole)
		return true;
	raw_spin_lock_irqsave(&pending_lock, flags);
	list_for_each_entry(p, &pending, list) {
		if (p->mm == mm && !p->follow) {
			whole = true;
			break;
		}
	}
	raw_spin_unlock_irqrestore(&pending_lock, flags);
	return whole;
}

/* Load: every request is free. */
void sp_inherit_init(void)
{
	for (unsigned int i = 0; i < SP_PENDING_MAX; i++)
		list_add_tail(&requests[i].list, &free_requests);
}

/* Queue a request for @mm (any context); false when the pool is empty. */
static bool queue_request(struct mm_struct *mm, struct pid *pid, bool follow)
{
	struct sp_pending *p;
	unsigned long flags;

	raw_spin_lock_irqsave(&pending_lock, flags);
	p = list_first_entry_or_null(&free_requests, struct sp_pending, list);
	if (p)
		list_del(&p->list);
	raw_spin_unlock_irqrestore(&pending_lock, flags);
	if (!p)
		return false;
	mmgrab(mm);
	p->mm = mm;
	p->pid = get_pid(pid);
	p->follow = follow;
	raw_spin_lock_irqsave(&pending_lock, flags);
	list_add_tail(&p->list, &pending);
	raw_spin_unlock_irqrestore(&pending_lock, flags);
	queue_work(SP_UNBOUND_WQ, &inherit_work);
	return true;
}

/**
 * sp_inherit() - register @mm whole, soon
 * @mm: the new address space (a forked child's, or an exec's)
 * @pid: the struct pid of the thread group it belongs to
 *
 * Any context. With SP_PENDING_MAX requests queued already the child is
 * simply not registered, and the log says so once.
 */
void sp_inherit(struct mm_struct *mm, struct pid *pid)
{
	if (!queue_request(mm, pid, false))
		pr_warn_once("%u requests queued: a child of a registered process is not registered\n",
			     SP_PENDING_MAX);
}

/**
 * sp_queue_follow() - follow @mm's VM_MERGEABLE areas, soon
 * @mm: an address space that has just opted in to KSM
 * @pid: the tgid it belongs to
 *
 * Any context. With the queue full, the next pass's poll finds it
 * (sp_discover_madvised()).
 */
void sp_queue_follow(struct mm_struct *mm, struct pid *pid)
{
	queue_request(mm, pid, true);
}

/* The oldest request, left queued (so still inheriting) until done. */
static struct sp_pending *first_pending(void)
{
	struct sp_pending *p;
	unsigned long flags;

	raw_spin_lock_irqsave(&pending_lock, flags);
	p = list_first_entry_or_null(&pending, struct sp_pending, list);
	raw_spin_unlock_irqrestore(&pending_lock, flags);
	return p;
}

static void done_pending(struct sp_pending *p)
{
	unsigned long flags;

	raw_spin_lock_irqsave(&pending_lock, flags);
	list_del(&p->list);
	raw_spin_unlock_irqrestore(&pending_lock, flags);
	mmdrop(p->mm);
	put_pid(p->pid);
	raw_spin_lock_irqsave(&pending_lock, flags);
	list_add(&p->list, &free_requests);
	raw_spin_unlock_irqrestore(&pending_lock, flags);
}

static void inherit_workfn(struct work_struct *work)
{
	struct sp_pending *p;

	while ((p = first_pending())) {
		if (mmget_not_zero(p->mm)) {	/* else it is gone already */
			int err = p->follow ? sp_register_follow(p->mm, p->pid) :
				  sp_register(p->mm, p->pid, 0, 0);

			if (err && err != -EEXIST)
				pr_warn_ratelimited("cannot register child %d: %d\n",
						    pid_nr(p->pid), err);
			mmput(p->mm);
		}
		done_pending(p);
	}
	sp_scan_wake();		/* new memory to look at */
}

/* Unload (the hooks are gone): finish or drop what is queued. */
void sp_inherit_exit(void)
{
	struct sp_pending *p;

	cancel_work_sync(&inherit_work);
	while ((p = first_pending()))
		done_pending(p);
}
