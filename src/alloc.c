// SPDX-License-Identifier: GPL-2.0
/*
 * samepage's slab caches: one per object type, named after their in-tree
 * KSM counterparts (ksm_rmap_item, ksm_stable_node, ksm_mm_slot), so that
 * /proc/slabinfo shows what samepage holds and that it all goes back.
 * They are never merged with other caches of the same size: SLAB_NO_MERGE
 * where the kernel has it (6.5+); before, SLAB_TYPESAFE_BY_RCU, which also
 * keeps a cache apart and only delays returning empty slabs to the page
 * allocator.
 */
#include <linux/slab.h>

#include "engine.h"

#ifdef SLAB_NO_MERGE
#define SP_SLAB_FLAGS	SLAB_NO_MERGE
#else
#define SP_SLAB_FLAGS	SLAB_TYPESAFE_BY_RCU
#endif

struct kmem_cache *sp_item_cache;
struct kmem_cache *sp_node_cache;
struct kmem_cache *sp_slot_cache;

#define SP_CACHE(name, type) \
	kmem_cache_create(name, sizeof(type), __alignof__(type), SP_SLAB_FLAGS, NULL)

int sp_caches_init(void)
{
	sp_item_cache = SP_CACHE("samepage_rmap_item", struct sp_rmap_item);
	sp_node_cache = SP_CACHE("samepage_stable_node", struct sp_stable_node);
	sp_slot_cache = SP_CACHE("samepage_mm_slot", struct sp_mm_slot);
	if (sp_item_cache && sp_node_cache && sp_slot_cache)
		return 0;
	sp_caches_exit();
	return -ENOMEM;
}

/* Slots are freed after an RCU grace period: wait for the last of those. */
void sp_caches_exit(void)
{
	rcu_barrier();
	kmem_cache_destroy(sp_slot_cache);
	kmem_cache_destroy(sp_node_cache);
	kmem_cache_destroy(sp_item_cache);
}
