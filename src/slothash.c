// SPDX-License-Identifier: GPL-2.0
/*
 * The mm -> slot hash: how every path finds samepage's record of an
 * address space. Writers hold samepage_engine.lock; the hooks and the mmu
 * notifiers read it under RCU (slots are freed after a grace period, see
 * slots.c).
 */
#include <linux/hashtable.h>
#include <linux/rcupdate.h>
#include "engine.h"

#define SLOT_HASH_BITS	10
static DEFINE_HASHTABLE(slot_hash, SLOT_HASH_BITS);

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

/* Make @slot findable (engine lock held). */
void sp_slot_hash_add(struct sp_mm_slot *slot)
{
	lockdep_assert_held(&samepage_engine.lock);

	hash_add_rcu(slot_hash, &slot->hnode, (unsigned long)slot->mm);
}

/* @slot is no longer found; RCU readers may still see it for a grace period. */
void sp_slot_hash_del(struct sp_mm_slot *slot)
{
	hash_del_rcu(&slot->hnode);
}
