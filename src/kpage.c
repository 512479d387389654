// SPDX-License-Identifier: GPL-2.0
/*
 * kpages (Documentation/design.md, "The kpage"): pages samepage owns.
 *
 * A kpage is a fresh copy of the merged content, never on the LRU (so
 * reclaim, migration, compaction and NUMA balancing leave it alone),
 * marked anonymous with a dummy anon_vma that every rmap walk finds empty,
 * and charged to a memory cgroup (memcg.c). samepage holds one reference
 * on it for as long as any PTE maps it, so a write fault always copies
 * instead of reusing it, and a forked child simply maps it too. The kpage
 * is freed when nothing maps it. Its stable node links the rmap_items
 * merged into it.
 */
#include <linux/mm.h>
#include <linux/highmem.h>
#include <linux/rmap.h>
#include <linux/pagemap.h>
#include <linux/slab.h>
#include <linux/module.h>
#include <linux/jiffies.h>
#include <linux/xarray.h>
#include "samepage.h"
#include "engine.h"
#include "ksyms.h"

static struct anon_vma *dummy_anon_vma;

/* pfn -> stable node of every kpage, to find a forked child's kpage's node */
static DEFINE_XARRAY(kpage_nodes);

/* folio->mapping of every kpage: the dummy anon_vma plus the anon bit */
static void *kpage_mapping __ro_after_init;

int sp_kpage_init(void)
{
	int err = sp_arena_init();

	if (err)
		return err;
	dummy_anon_vma = kzalloc(sizeof(*dummy_anon_vma), GFP_KERNEL);
	if (!dummy_anon_vma) {
		sp_arena_exit();
		return -ENOMEM;
	}
	init_rwsem(&dummy_anon_vma->rwsem);
	atomic_set(&dummy_anon_vma->refcount, 1);
	dummy_anon_vma->root = dummy_anon_vma;
	dummy_anon_vma->parent = dummy_anon_vma;
	dummy_anon_vma->rb_root = RB_ROOT_CACHED;
	kpage_mapping = (void *)((unsigned long)dummy_anon_vma + SP_MAPPING_ANON);
	return 0;
}

/* Only called once no kpage is left (each one holds a module reference). */
void sp_kpage_exit(void)
{
	sp_arena_exit();	/* its spare frames still point at the dummy */
	synchronize_rcu();
	kfree(dummy_anon_vma);
}

bool sp_is_kpage(struct page *page)
{
	return READ_ONCE(page_folio(page)->mapping) == kpage_mapping;
}

/* The stable node of @kpage (engine lock held), or NULL. */
struct sp_stable_node *sp_kpage_node(struct page *kpage)
{
	lockdep_assert_held(&samepage_engine.lock);

	return xa_load(&kpage_nodes, page_to_pfn(kpage));
}

/*
 * A new kpage on node @nid for content @key, charged to @mm's memcg, or to
 * @like's when moving @like (compact.c). The frame comes from an arena
 * (arena.c); a frame that held a kpage before keeps its set-up, a fresh one
 * is set up under its folio lock as Documentation/design.md ("The kpage")
 * requires, then left unlocked. Return: as sp_kpage_new().
 */
static struct sp_stable_node *node_new(int nid, struct mm_struct *mm,
				       struct page *like, const struct sp_key *key)
{
	struct samepage_engine *e = &samepage_engine;
	unsigned long max = READ_ONCE(samepage_knobs.max_kernel_pages);
	struct sp_stable_node *node;
	struct folio *folio;
	struct page *kpage;
	int err = -ENOMEM;

	lockdep_assert_held(&e->lock);
	if (max && e->c.kernel_pages_allocated >= max)
		return ERR_PTR(-ENOSPC);
	node = kmem_cache_zalloc(sp_node_cache, SP_GFP_SCAN);
	if (!node)
		return ERR_PTR(-ENOMEM);
	/*
	 * On the candidate's own node: merge_across_nodes=0 must keep it
	 * there. Never by reclaiming hard or OOM-killing. A move may wait for
	 * a block (samepaged holds no mmap lock then), and only ever goes into
	 * an arena.
	 */
	kpage = sp_arena_alloc(nid, like != NULL, like != NULL);
	if (!kpage)
		goto fail_node;
	if (sp_kpage_charge(kpage, mm, like)) {
		err = -EDQUOT;
		goto fail;
	}
	if (xa_err(xa_store(&kpage_nodes, page_to_pfn(kpage), node, SP_GFP_SCAN)))
		goto fail;
	if (!try_module_get(THIS_MODULE)) {
		xa_erase(&kpage_nodes, page_to_pfn(kpage));
		goto fail;
	}
	folio = page_folio(kpage);
	if (!sp_is_kpage(kpage)) {
		__folio_set_locked(folio);
		__folio_mark_uptodate(folio);
		__folio_set_swapbacked(folio);
		folio->index = 0;
		WRITE_ONCE(folio->mapping, kpage_mapping);
		folio_unlock(folio);
	}

	node->kpage = kpage;
	node->key = *key;
	INIT_HLIST_HEAD(&node->items);
	list_add_tail(&node->list, &e->kpages);
	e->c.kernel_pages_allocated++;
	return node;
fail:
	if (!sp_arena_free(kpage))
		put_page(kpage);	/* uncharges it, if it was charged */
fail_node:
	kmem_cache_free(sp_node_cache, node);
	return ERR_PTR(err);
}

/**
 * sp_kpage_new() - a new kpage for the content of @src
 * @mm: the address space of @src: the kpage is charged to its memcg
 * @src: the page it is for (the caller holds a reference)
 * @key: node and xxh64 of that content
 *
 * The kpage is on @src's NUMA node. Its content is not there yet: the
 * first sp_replace_page() (with @fill) copies it in. It takes a module
 * reference, dropped when it is freed.
 *
 * Return: its stable node (not yet in the tree); ERR_PTR(-ENOSPC) when
 * max_kernel_pages is reached, -EDQUOT when @mm's memcg is at its limit,
 * -ENOMEM when out of memory.
 */
struct sp_stable_node *sp_kpage_new(struct mm_struct *mm, struct page *src,
				    const struct sp_key *key)
{
	return node_new(page_to_nid(src), mm, NULL, key);
}

/**
 * sp_kpage_clone() - a copy of @from's kpage in an arena, to move to
 * @from: a node whose kpage is loose or in an arena being emptied
 *
 * Same node, key and memcg as @from's kpage; the content is copied now
 * (a kpage never changes). Return: as sp_kpage_new().
 */
struct sp_stable_node *sp_kpage_clone(struct sp_stable_node *from)
{
	struct sp_stable_node *node;

	node = node_new(page_to_nid(from->kpage), NULL, from->kpage, &from->key);
	if (!IS_ERR(node))
		copy_highpage(node->kpage, from->kpage);
	return node;
}

/*
 * @item now maps @node's kpage. It leaves the unstable table first: its
 * table link and the node's share their memory (struct sp_rmap_item).
 */
void sp_item_link(struct sp_rmap_item *item, struct sp_stable_node *node)
{
	lockdep_assert_held(&samepage_engine.lock);
	/* linked twice, it would be counted twice and freed with one left */
	WARN_ON_ONCE(sp_item_has(item, SP_ITEM_MERGED));
	sp_unstable_erase(item);
	if (node->sharers++)
		samepage_engine.c.pages_sharing++;
	else
		sp_stable_insert(node);
	item->node = node;
	item->merged_at = (u16)samepage_engine.c.full_scans;
	sp_item_flag(item, SP_ITEM_MERGED, true);
	item->slot->merging++;
	hlist_add_head(&item->nlink, &node->items);
}

/*
 * @item's address maps @to's kpage now instead of its node's, which held
 * the same content (a move, compact.c): it keeps its merge's age.
 */
void sp_item_move(struct sp_rmap_item *item, struct sp_stable_node *to)
{
	u16 merged_at = item->merged_at;

	sp_item_unlink(item);
	sp_item_link(item, to);
	item->merged_at = merged_at;
}

/*
 * @item no longer maps its kpage (COW, unmerge, unmap or teardown). Its
 * merged_at becomes a cooldown of 0 (they share their memory); a COW sets
 * the cooldown next (sp_note_cow()).
 */
void sp_item_unlink(struct sp_rmap_item *item)
{
	struct sp_stable_node *node = sp_item_node(item);

	if (!node)
		return;
	WARN_ON_ONCE(!node->sharers);
	hlist_del(&item->nlink);
	sp_item_flag(item, SP_ITEM_MERGED, false);
	item->cooldown = 0;
	item->slot->merging--;
	if (--node->sharers)
		samepage_engine.c.pages_sharing--;
	else
		sp_stable_erase(node);
}

/* Free @node and its kpage, which no PTE maps any more. */
static void free_node(struct sp_stable_node *node)
{
	struct folio *folio = page_folio(node->kpage);

	while (!hlist_empty(&node->items))
		sp_item_unlink(hlist_entry(node->items.first, struct sp_rmap_item, nlink));
	sp_stable_erase(node);
	list_del(&node->list);
	xa_erase(&kpage_nodes, folio_pfn(folio));
	/*
	 * A poisoned frame stays out of the allocator for good (the kernel
	 * keeps any PG_hwpoison page out of it) and may outlive samepage:
	 * it must not point at the dummy anon_vma, freed at unload.
	 */
	if (node->poison)
		WRITE_ONCE(folio->mapping, NULL);
	if (!sp_arena_free(node->kpage))
		folio_put(folio);
	kmem_cache_free(sp_node_cache, node);
	samepage_engine.c.kernel_pages_allocated--;
	module_put(THIS_MODULE);
}

/**
 * sp_kpage_poison() - a memory error hit @node's kpage: take it out of reach
 * @node: a node of the pfn index (engine lock held)
 *
 * The kpage leaves the stable table and the pfn index, and every item
 * merged into it is unlinked, at once: nothing merges onto the frame again,
 * and no visit links a mapping of it to the node. The node stays on the
 * kpage list, SP_POISON_TAKING, so that it outlives sp_hwpoison_kpage()'s
 * replacement of the frame's mappings; sp_kpage_poison_done() ends that.
 */
void sp_kpage_poison(struct sp_stable_node *node)
{
	lockdep_assert_held(&samepage_engine.lock);
	WARN_ON_ONCE(node->poison != SP_POISON_NONE);
	while (!hlist_empty(&node->items))
		sp_item_unlink(hlist_entry(node->items.first, struct sp_rmap_item, nlink));
	sp_stable_erase(node);
	xa_erase(&kpage_nodes, page_to_pfn(node->kpage));
	node->poison = SP_POISON_TAKING;
	samepage_engine.c.pages_hwpoisoned++;
}

/*
 * sp_kpage_poison_done() - the mappings of @node's poisoned kpage were
 * replaced: free the node now if nothing maps the frame any more, else at
 * the prune that finds it unmapped. Engine lock held.
 */
void sp_kpage_poison_done(struct sp_stable_node *node)
{
	lockdep_assert_held(&samepage_engine.lock);

	lockdep_assert_held(&samepage_engine.lock);
	WARN_ON_ONCE(node->poison != SP_POISON_TAKING || node->sharers);
	node->poison = SP_POISON_TAKEN;
	sp_kpage_drop(node);
}

/*
 * sp_kpage_drop() - free @node's kpage now if nothing maps it (a merge that
 * failed right after sp_kpage_new()), without walking every kpage.
 */
void sp_kpage_drop(struct sp_stable_node *node)
{
	if (!node->sharers && !folio_mapped(page_folio(node->kpage)))
		free_node(node);
}

/*
 * Free every kpage that no PTE maps any more. Items still linked to one are
 * stale (their address was unmapped or COWed since the last visit).
 */
static unsigned long kpage_prune(void)
{
	struct sp_stable_node *node, *tmp;
	unsigned long orphans = 0;

	list_for_each_entry_safe(node, tmp, &samepage_engine.kpages, list) {
		if (node->poison == SP_POISON_TAKING)
			continue;	/* sp_hwpoison_kpage() is at it */
		if (folio_mapped(page_folio(node->kpage)))
			orphans += !node->sharers;
		else
			free_node(node);
	}
	return orphans;
}

/**
 * sp_kpages_check() - recount what the kpage list says (SP_DEBUG_CHECKS)
 *
 * kernel_pages_allocated is the list's length; pages_shared is its nodes in
 * the stable table, and pages_shared + pages_sharing their sharers; a node
 * is in the table if and only if it has sharers. A walk of every kpage,
 * engine lock held.
 */
void sp_kpages_check(void)
{
	struct samepage_engine *e = &samepage_engine;
	unsigned long nodes = 0, in_tree = 0, sharers = 0;
	struct sp_stable_node *node;

	lockdep_assert_held(&e->lock);
	list_for_each_entry(node, &e->kpages, list) {
		nodes++;
		in_tree += node->in_tree;
		sharers += node->sharers;
		WARN_ON_ONCE(node->in_tree != (node->sharers != 0));
	}
	WARN_ON_ONCE(nodes != e->c.kernel_pages_allocated);
	WARN_ON_ONCE(in_tree != e->c.pages_shared);
	WARN_ON_ONCE(sharers != e->c.pages_shared + e->c.pages_sharing);
}

static unsigned long last_prune;

/* Free unmapped kpages; returns how many no rmap_item maps but a PTE does. */
unsigned long sp_prune(void)
{
	last_prune = jiffies;
	return kpage_prune();
}

/* Is the periodic prune (stable_node_chains_prune_millisecs) due? */
bool sp_prune_due(void)
{
	return time_after(jiffies, last_prune +
			  msecs_to_jiffies(READ_ONCE(samepage_knobs.stable_node_chains_prune_millisecs)));
}
