// SPDX-License-Identifier: GPL-2.0
/*
 * merge_scope: which pages may merge with which (issue 13).
 *
 * Merging across security domains is a side channel (a write to a merged
 * page is slow: Documentation/security.md). merge_scope keeps merges
 * within one domain: "all" (any two pages, in-tree KSM's meaning), "uid"
 * (processes of one effective uid) or "memcg" (processes of one memory
 * cgroup). The domain is part of the tree key (struct sp_key), so pages of
 * two domains are never compared, let alone merged. The shared zero page
 * (use_zero_pages) is not in the trees: all-zero pages merge across
 * domains, their content being public.
 *
 * A process's domain is computed from its slot, at most once per jiffy:
 * the euid of its thread group leader, or the cgroup id of its mm's
 * memcg. A process that changes uid or cgroup gets new keys; its pages
 * look volatile for one pass and then merge in their new domain. Pages it
 * merged before keep their kpage until they are written to.
 */
#include <linux/cred.h>
#include <linux/jiffies.h>
#include <linux/memcontrol.h>
#include <linux/cgroup.h>
#include <linux/pid.h>
#include <linux/sched.h>

#include "samepage.h"
#include "engine.h"

/* A domain no other slot has: for a slot whose owner is gone. */
static u64 lone_domain(struct sp_mm_slot *slot)
{
	return (u64)(unsigned long)slot | (1ULL << 63);
}

static u64 uid_domain(struct sp_mm_slot *slot)
{
	struct task_struct *task;
	u64 id;

	rcu_read_lock();
	task = pid_task(slot->pid, PIDTYPE_TGID);
	id = task ? __kuid_val(__task_cred(task)->euid) : lone_domain(slot);
	rcu_read_unlock();
	return id;
}

/* The caller holds @slot's mmap lock with mm_users > 0 (a scan). */
static u64 memcg_domain(struct sp_mm_slot *slot)
{
#ifdef CONFIG_MEMCG
	struct mem_cgroup *memcg = get_mem_cgroup_from_mm(slot->mm);
	u64 id;

	if (!memcg)		/* memory cgroups disabled: one domain */
		return 0;
	id = cgroup_id(memcg->css.cgroup);
	mem_cgroup_put(memcg);
	return id;
#else
	return 0;
#endif
}

/**
 * sp_key_scope() - fill in @key's scope for a page of @slot
 * @slot: the page's process (engine lock held)
 * @key: the key being built
 *
 * An unprivileged caller's MERGE_RANGE (@slot->own_uid_only) merges only
 * within the process's own uid whatever merge_scope says, so that its
 * answer tells nothing about other users' memory.
 */
void sp_key_scope(struct sp_mm_slot *slot, struct sp_key *key)
{
	u32 kind = READ_ONCE(samepage_knobs.merge_scope);

	if (kind == SP_SCOPE_ALL && slot->own_uid_only)
		kind = SP_SCOPE_UID;
	key->scope_kind = kind;
	if (kind == SP_SCOPE_ALL) {
		key->scope = 0;
		return;
	}
	if (slot->scope_kind != kind || slot->scope_at != jiffies) {
		slot->scope_id = kind == SP_SCOPE_UID ? uid_domain(slot) : memcg_domain(slot);
		slot->scope_kind = kind;
		slot->scope_at = jiffies;
	}
	key->scope = slot->scope_id;
}
