// SPDX-License-Identifier: GPL-2.0
/*
 * Memory cgroup charging of kpages (Documentation/design.md, "The kpage").
 *
 * In-tree KSM keeps one of the pages it merges, which stays charged to the
 * memcg that faulted it in. samepage allocates a fresh kpage instead, so it
 * charges that page itself, to the memcg of the mm whose page the kpage
 * first replaces (the scanned page, the one in-tree KSM would have kept).
 * A memory-limited container then holds no more through samepage than
 * through in-tree KSM.
 *
 * The charge never reclaims hard and never OOM-kills (__GFP_NORETRY): a
 * memcg at its limit simply does not get the merge (SAMEPAGE_WHY_MEMCG_LIMIT),
 * and its own next allocation meets the limit as it would without samepage.
 *
 * The charge goes away with the kpage: its last reference is dropped with
 * folio_put(), whose free path (__folio_put) uncharges on 6.1, 6.12 and
 * 7.2. If the charged memcg is removed while other processes still map the
 * kpage, the charge stays with the offline memcg, exactly like any anon
 * page, in-tree KSM's included: rmdir succeeds, the memcg lingers as a
 * dying cgroup (its ancestors keep counting the page) until the kpage is
 * freed, then it goes too.
 */
#include <linux/memcontrol.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>

#include "engine.h"
#include "ksyms.h"

#define SP_CHARGE_GFP	(GFP_KERNEL | __GFP_NORETRY | __GFP_NOWARN)

/**
 * sp_kpage_charge() - charge a new, unmapped kpage to a memory cgroup
 * @kpage: the kpage, fresh from the page allocator (not on the LRU)
 * @mm: the address space whose page @kpage is about to replace: its memcg
 * @like: or, when @kpage takes over the mappings of the charged kpage @like
 *	(a move, compact.c), @like's memcg, where the moved kpage stays
 *
 * A move's charge goes to the memcg that is active while it is made
 * (set_active_memcg(), which __mem_cgroup_charge() uses when it is given no
 * mm); a @like charged nowhere leaves @kpage uncharged too.
 *
 * Return: 0, or -ENOMEM if the memcg is at its limit. Either way the page
 * is released with folio_put()/put_page(), which uncharges it.
 */
int sp_kpage_charge(struct page *kpage, struct mm_struct *mm, struct page *like)
{
#ifdef CONFIG_MEMCG
	struct mem_cgroup *memcg = NULL, *prev = NULL;
	int err;

	if (mem_cgroup_disabled())
		return 0;
	if (like) {
		memcg = folio_memcg(page_folio(like));
		if (!memcg)
			return 0;
		mm = NULL;
		prev = set_active_memcg(memcg);
	}
	err = sp_mem_cgroup_charge(page_folio(kpage), mm, SP_CHARGE_GFP);
	if (memcg)
		set_active_memcg(prev);
	return err;
#else
	return 0;
#endif
}

/**
 * sp_kpage_uncharge() - a kpage's frame stays samepage's after the kpage:
 * uncharge it now (an arena slot made free: arena.c), as the free path of
 * a page does
 * @kpage: the unmapped frame, whose only reference is samepage's
 */
void sp_kpage_uncharge(struct page *kpage)
{
#ifdef CONFIG_MEMCG
	if (!mem_cgroup_disabled())
		sp_mem_cgroup_uncharge(page_folio(kpage));
#endif
}
