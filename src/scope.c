// SPDX-License-Identifier: GPL-2.0
/*
 * merge_scope: which pages may merge with which.
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
 * A page's domain is the euid of its process's thread group leader
 * (computed from the slot at most once per jiffy), or the cgroup id of the
 * memcg the page is charged to (the process's when it faulted the page in;
 * read from the page, which pins its memcg, so no reference is taken). A
 * process that changes uid gets new keys; its pages look volatile for one
 * pass and then merge in their new domain. Pages merged before keep their
 * kpage until they are written to.
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

/* The caller holds a reference on @page, which keeps its memcg alive. */
static u64 memcg_domain(struct page *page)
{
#ifdef CONFIG_MEMCG
	struct mem_cgroup *memcg = folio_memcg(page_folio(page));

	/* uncharged (memory cgroups disabled): one domain */
	return memcg ? cgroup_id(memcg->css.cgroup) : 0;
#else
	return 0;
#endif
}

/* An unprivileged caller's MERGE_RANGE of @slot begins (@on) or ends. */
void sp_scope_own_uid(struct sp_mm_slot *slot, bool on)
{
	lockdep_assert_held(&samepage_engine.lock);
	slot->own_uid_only = on;
}

/**
 * sp_key_scope() - fill in @key's scope for @page of @slot
 * @slot: the page's process (engine lock held)
 * @page: the page (referenced)
 * @key: the key being built
 *
 * An unprivileged caller's MERGE_RANGE (@slot->own_uid_only) merges only
 * within the process's own uid whatever merge_scope says, so that its
 * answer tells nothing about other users' memory.
 */
void sp_key_scope(struct sp_mm_slot *slot, struct page *page, struct sp_key *key)
{
	u32 kind = READ_ONCE(samepage_knobs.merge_scope);

	lockdep_assert_held(&samepage_engine.lock);
	if (kind == SP_SCOPE_ALL && slot->own_uid_only)
		kind = SP_SCOPE_UID;
	key->scope_kind = kind;
	if (kind == SP_SCOPE_ALL) {
		key->scope = 0;
		return;
	}
	if (kind == SP_SCOPE_MEMCG) {
		key->scope = memcg_domain(page);
		return;
	}
	if (slot->scope_kind != kind || slot->scope_at != jiffies) {
		slot->scope_id = uid_domain(slot);
		slot->scope_kind = kind;
		slot->scope_at = jiffies;
	}
	key->scope = slot->scope_id;
}
