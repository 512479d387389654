// SPDX-License-Identifier: GPL-2.0
/*
 * Madvise discovery: the mms that in-tree KSM was told about
 * (MMF_VM_MERGEABLE) and that samepage follows while follow_madvise is on.
 * The hooks register an mm when it opts in; this poll, at the start of
 * each pass, finds the others (those that opted in before samepage was
 * loaded, or while follow_madvise was 0).
 */
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/pid.h>
#include "samepage.h"
#include "engine.h"
#include "ksyms.h"

#define DISCOVER_BATCH	32	/* two arrays of it on the stack: 512 bytes */

/*
 * Collect up to DISCOVER_BATCH MMF_VM_MERGEABLE mms that samepage does not
 * follow yet (mmgrab()ed) into @found; returns how many.
 */
static int collect_madvised(struct mm_struct **found, struct pid **pids)
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
				pids[n++] = get_pid(task_tgid(p));
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
	struct pid *pids[DISCOVER_BATCH];
	int n;

	lockdep_assert_held(&samepage_engine.lock);
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
			put_pid(pids[i]);
		}
		if (added < n)
			break;	/* out of memory or exiting: next pass */
	} while (n == DISCOVER_BATCH);
}
