// SPDX-License-Identifier: GPL-2.0
/*
 * Answers of the STATS, PROC_STAT and LIST ioctls: counters read under
 * samepage's engine lock, so each answer is one consistent instant.
 */
#include <linux/mm.h>
#include <linux/string.h>

#include "samepage.h"
#include "engine.h"

/**
 * sp_profit() - in-tree's general_profit / ksm_process_profit formula,
 * with what samepage's items really cost (sp_item_bytes())
 * @saved: pages merging saves
 * @items: rmap_items kept for them
 */
s64 sp_profit(unsigned long saved, unsigned long items)
{
	return (s64)saved * PAGE_SIZE - (s64)items * sp_item_bytes();
}

static unsigned long pages_volatile(const struct sp_counters *c)
{
	long v = c->rmap_items - c->pages_shared - c->pages_sharing - c->pages_unshared;

	return v > 0 ? v : 0;
}

void sp_fill_stats(struct samepage_stats *st)
{
	struct samepage_engine *e = &samepage_engine;
	const struct sp_counters *c = &e->c;
	struct samepage_knobs *k = &samepage_knobs;
	struct sp_mm_slot *slot;

	mutex_lock(&e->lock);
	st->pages_shared = c->pages_shared;
	st->pages_sharing = c->pages_sharing;
	st->pages_unshared = c->pages_unshared;
	st->pages_volatile = pages_volatile(c);
	st->pages_scanned = c->pages_scanned;
	st->pages_skipped = c->pages_skipped;
	st->full_scans = c->full_scans;
	st->ksm_zero_pages = sp_zero_pages();
	st->stable_node_chains = c->stable_node_chains;
	st->stable_node_dups = c->stable_node_dups;
	st->general_profit = sp_profit(c->pages_sharing + sp_zero_pages(), c->rmap_items);
	st->kernel_pages_allocated = c->kernel_pages_allocated;
	st->max_kernel_pages = READ_ONCE(k->max_kernel_pages);
	st->hash_collisions = c->hash_collisions;
	st->pages_skipped_thp = c->pages_skipped_thp;
	st->thp_split = c->thp_split;
	st->thp_min_mergeable = READ_ONCE(k->thp_min_mergeable);
	st->rmap_items = c->rmap_items;
	st->rmap_item_bytes = sp_item_bytes();
	st->pass_visited = c->pass_visited;
	st->last_pass_visited = c->last_pass_visited;
	st->run = READ_ONCE(k->run);
	st->pages_to_scan = READ_ONCE(k->pages_to_scan);
	st->sleep_millisecs = READ_ONCE(k->sleep_millisecs);
	st->use_zero_pages = READ_ONCE(k->use_zero_pages);
	st->max_page_sharing = READ_ONCE(k->max_page_sharing);
	st->merge_across_nodes = READ_ONCE(k->merge_across_nodes);
	st->smart_scan = READ_ONCE(k->smart_scan);
	st->stable_node_chains_prune_millisecs =
		READ_ONCE(k->stable_node_chains_prune_millisecs);
	list_for_each_entry(slot, &e->slots, list) {
		st->processes++;
		for (int i = 0; i < SAMEPAGE_WHY_NR; i++)
			st->why[i] += slot->why_last[i];
	}
	mutex_unlock(&e->lock);
}

/* The fields of /proc/PID/ksm_stat and the breakdown, for @mm. */
void sp_fill_proc_stat(struct mm_struct *mm, struct samepage_proc_stat *ps)
{
	struct sp_mm_slot *slot;
	struct sp_range *r;

	mutex_lock(&samepage_engine.lock);
	slot = sp_find_slot(mm);
	if (slot) {
		ps->rmap_items = slot->rmap_items;
		ps->zero_pages = atomic_long_read(&slot->zero);
		ps->merging_pages = slot->merging;
		ps->process_profit = sp_profit(slot->merging + ps->zero_pages, slot->rmap_items);
		ps->merge_any = slot->whole;
		ps->mergeable = slot->whole || slot->follow || !list_empty(&slot->ranges);
		list_for_each_entry(r, &slot->ranges, list)
			ps->ranges++;
		ps->full_scans = slot->full_scans;
		for (int i = 0; i < SAMEPAGE_WHY_NR; i++)
			ps->why[i] = slot->why_last[i];
	}
	mutex_unlock(&samepage_engine.lock);
}

/**
 * sp_fill_list() - the tracked processes
 * @entries: kernel array of @capacity entries
 * @capacity: its size
 *
 * Return: how many processes are tracked (may exceed @capacity; the first
 * @capacity of them are filled in).
 */
u32 sp_fill_list(struct samepage_proc_entry *entries, u32 capacity)
{
	struct sp_mm_slot *slot;
	u32 n = 0;

	mutex_lock(&samepage_engine.lock);
	list_for_each_entry(slot, &samepage_engine.slots, list) {
		pid_t pid = pid_vnr(slot->pid);

		if (!pid)	/* outside the caller's pid namespace */
			continue;
		if (n < capacity) {
			entries[n].pid = pid;
			entries[n].merge_any = slot->whole;
			entries[n].rmap_items = slot->rmap_items;
			entries[n].merging_pages = slot->merging;
			entries[n].zero_pages = atomic_long_read(&slot->zero);
		}
		n++;
	}
	mutex_unlock(&samepage_engine.lock);
	return n;
}
