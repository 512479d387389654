// SPDX-License-Identifier: GPL-2.0
/*
 * samepage's slab caches: one per object type, named after their in-tree
 * KSM counterparts (ksm_rmap_item, ksm_stable_node, ksm_mm_slot), so that
 * /proc/slabinfo shows what samepage holds and that it all goes back.
 * They are never merged with other caches of the same size: SLAB_NO_MERGE
 * where the kernel has it (6.5+); before, a usercopy region (its first
 * byte; nothing of samepage's is ever copied to or from user memory),
 * which keeps a cache apart as well. SLAB_TYPESAFE_BY_RCU would too, but
 * SLUB then keeps its free pointer outside the object: 8 bytes more for
 * every rmap_item.
 */
#include <linux/slab.h>

#include "engine.h"


struct kmem_cache *sp_item_cache;
struct kmem_cache *sp_node_cache;
struct kmem_cache *sp_slot_cache;

#ifdef SLAB_NO_MERGE
#define SP_CACHE(name, type) \
	kmem_cache_create(name, sizeof(type), __alignof__(type), SLAB_NO_MERGE, NULL)
#else
#define SP_CACHE(name, type) \
	kmem_cache_create_usercopy(name, sizeof(type), __alignof__(type), 0, 0, 1, NULL)
#endif

int sp_caches_init(void)
{
	/* what a scanned page costs (Documentation/design.md, "Memory") */
	BUILD_BUG_ON(IS_ENABLED(CONFIG_64BIT) && sizeof(struct sp_rmap_item) != 48);
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
