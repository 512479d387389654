// SPDX-License-Identifier: GPL-2.0
/*
 * The frames of kpages: arenas (Documentation/design.md, "Arenas").
 *
 * A kpage is unmovable: the kernel's compaction cannot migrate it. Order-0
 * unmovable pages allocated while memory is full of movable anonymous
 * pages land scattered over hundreds of pageblocks, and every pageblock
 * that holds one can no longer become a huge page. So kpage frames come
 * from arenas: PMD-sized, naturally aligned blocks (a pageblock and a huge
 * page on x86-64), split into order-0 frames that samepage hands out
 * itself, the fullest arena of the node first. A block goes back to the
 * page allocator whole once none of its frames holds a kpage, and
 * samepaged moves kpages out of the sparsest arenas into the fullest
 * (compact.c), so that merged memory occupies as few blocks as it needs.
 *
 * A slot of an arena is
 *  - used: it holds a kpage (samepage's reference);
 *  - free: samepage holds the only reference, no memory cgroup is charged,
 *    and it may be handed out again;
 *  - gone: given up by samepage, because someone else still held a
 *    reference when its kpage was freed (a vmsplice()d pipe buffer, a
 *    memory error's): that holder frees it, or it stays out of use.
 * Invariant: used + free + gone = SP_ARENA_PAGES, and an arena with no
 * used slot is released (its free slots put) unless it is its node's one
 * spare.
 *
 * When no block can be had (memory too fragmented), a kpage gets a loose
 * order-0 page, as before arenas; compact.c moves it into an arena later.
 *
 * Everything here is protected by the engine lock.
 */
#define pr_fmt(fmt) "samepage: " fmt

#include <linux/mm.h>
#include <linux/gfp.h>
#include <linux/slab.h>
#include <linux/xarray.h>
#include <linux/nodemask.h>
#include "samepage.h"
#include "engine.h"
#include "ksyms.h"

#define SP_ARENA_ORDER	(PMD_SHIFT - PAGE_SHIFT)
#define SP_ARENA_PAGES	(1UL << SP_ARENA_ORDER)
/* partial arenas are kept in lists by how full they are */
#define SP_ARENA_LEVELS	16

/**
 * struct sp_arena - one block of kpage frames
 * @list: in its node's full, draining or level list
 * @pfn: its first frame
 * @nid: its NUMA node
 * @used: slots holding a kpage
 * @nr_free: slots that may be handed out (set in @free)
 * @draining: compact.c is moving its kpages out: nothing new goes in
 * @free: the free slots
 */
struct sp_arena {
	struct list_head list;
	unsigned long pfn;
	int nid;
	unsigned int used;
	unsigned int nr_free;
	bool draining;
	DECLARE_BITMAP(free, SP_ARENA_PAGES);
};

/**
 * struct sp_arena_node - the arenas of one NUMA node
 * @level: partial arenas that take new kpages, by @used
 * @full: arenas with no free slot
 * @draining: arenas being emptied
 * @spare: an empty arena kept for the next kpage, or NULL
 * @arenas: how many (@spare included)
 * @used: kpages in them
 * @nr_free: free slots in the non-draining ones
 */
struct sp_arena_node {
	struct list_head level[SP_ARENA_LEVELS];
	struct list_head full;
	struct list_head draining;
	struct sp_arena *spare;
	unsigned long arenas;
	unsigned long used;
	unsigned long nr_free;
};

static struct sp_arena_node *arena_nodes;	/* nr_node_ids of them */
static bool released;		/* a block went back since sp_arena_flush() */
static DEFINE_XARRAY(arena_index);		/* pfn >> SP_ARENA_ORDER -> arena */

/* Blocks that never reclaim hard or OOM-kill; @stall allows a compaction. */
static gfp_t arena_gfp(bool stall)
{
	gfp_t gfp = GFP_HIGHUSER | __GFP_THISNODE | __GFP_NORETRY | __GFP_NOWARN;

	return stall ? gfp : gfp & ~__GFP_DIRECT_RECLAIM;
}

int sp_arena_init(void)
{
	arena_nodes = kcalloc(nr_node_ids, sizeof(*arena_nodes), GFP_KERNEL);
	if (!arena_nodes)
		return -ENOMEM;
	for (int n = 0; n < nr_node_ids; n++) {
		for (int l = 0; l < SP_ARENA_LEVELS; l++)
			INIT_LIST_HEAD(&arena_nodes[n].level[l]);
		INIT_LIST_HEAD(&arena_nodes[n].full);
		INIT_LIST_HEAD(&arena_nodes[n].draining);
	}
	return 0;
}

/* Put @a on the list its state calls for. */
static void place(struct sp_arena *a)
{
	struct sp_arena_node *n = &arena_nodes[a->nid];

	if (a->draining)
		list_move(&a->list, &n->draining);
	else if (!a->nr_free)
		list_move(&a->list, &n->full);
	else
		list_move(&a->list, &n->level[a->used * SP_ARENA_LEVELS / SP_ARENA_PAGES]);
}

static struct sp_arena *arena_of(struct page *page)
{
	return xa_load(&arena_index, page_to_pfn(page) >> SP_ARENA_ORDER);
}

/*
 * Free @a's block as the one order-9 block it was allocated as, if
 * samepage holds every frame alone (no slot gone): all 512 references
 * frozen at once, so that no frame of it can be handed to anyone else
 * before the buddy allocator has the whole block back. Freed frame by
 * frame, other allocations take some of the frames first, and the block,
 * typed unmovable when the arena took it, stays unusable for a huge page.
 * Return: true if the block went back whole.
 */
static bool release_whole(struct sp_arena *a)
{
	struct page *head = pfn_to_page(a->pfn);
	unsigned long i;

	if (a->nr_free != SP_ARENA_PAGES)
		return false;
	for (i = 0; i < SP_ARENA_PAGES; i++) {
		if (!page_ref_freeze(head + i, 1)) {
			while (i--)
				page_ref_unfreeze(head + i, 1);
			return false;
		}
	}
	for (i = 0; i < SP_ARENA_PAGES; i++)
		WRITE_ONCE(head[i].mapping, NULL);	/* former kpages */
	page_ref_unfreeze(head, 1);
	__free_pages(head, SP_ARENA_ORDER);
	released = true;
	return true;
}

/* Give @a's block back: its free slots go to the page allocator. */
static void arena_release(struct sp_arena *a)
{
	struct sp_arena_node *n = &arena_nodes[a->nid];
	unsigned long slot;

	WARN_ON_ONCE(a->used);
	if (!release_whole(a)) {
		for_each_set_bit(slot, a->free, SP_ARENA_PAGES) {
			struct folio *folio = page_folio(pfn_to_page(a->pfn + slot));

			/* a former kpage must not point at the dummy anon_vma */
			WRITE_ONCE(folio->mapping, NULL);
			folio_put(folio);
		}
	}
	if (!a->draining)
		n->nr_free -= a->nr_free;
	n->arenas--;
	list_del(&a->list);
	xa_erase(&arena_index, a->pfn >> SP_ARENA_ORDER);
	kfree(a);
	samepage_engine.c.kpage_arenas--;
	samepage_engine.c.kpage_arenas_freed++;
}

/* A new arena on @nid, all slots free; NULL if no block can be had. */
static struct sp_arena *arena_new(int nid, bool stall)
{
	struct sp_arena_node *n = &arena_nodes[nid];
	struct sp_arena *a;
	struct page *page;

	a = kzalloc(sizeof(*a), SP_GFP_SCAN);
	if (!a)
		return NULL;
	page = alloc_pages_node(nid, arena_gfp(stall), SP_ARENA_ORDER);
	if (!page)
		goto fail;
	a->pfn = page_to_pfn(page);
	a->nid = nid;
	if (xa_err(xa_store(&arena_index, a->pfn >> SP_ARENA_ORDER, a, SP_GFP_SCAN))) {
		__free_pages(page, SP_ARENA_ORDER);
		goto fail;
	}
	/*
	 * SP_ARENA_PAGES frames with a reference of their own each, as
	 * split_page() makes them, but with the block's bookkeeping left as
	 * one order-9 allocation: it goes back as one (release_whole()).
	 */
	for (unsigned long i = 1; i < SP_ARENA_PAGES; i++)
		init_page_count(page + i);
	bitmap_fill(a->free, SP_ARENA_PAGES);
	a->nr_free = SP_ARENA_PAGES;
	INIT_LIST_HEAD(&a->list);
	n->nr_free += SP_ARENA_PAGES;
	n->arenas++;
	place(a);
	samepage_engine.c.kpage_arenas++;
	return a;
fail:
	kfree(a);
	return NULL;
}

/* The fullest arena of @n that takes new kpages (the spare last), or NULL. */
static struct sp_arena *fullest(struct sp_arena_node *n)
{
	struct sp_arena *a;

	for (int l = SP_ARENA_LEVELS - 1; l >= 0; l--)
		list_for_each_entry(a, &n->level[l], list)
			if (a != n->spare)
				return a;
	return n->spare;
}

/**
 * sp_arena_alloc() - a frame for a new kpage on node @nid
 * @nid: the node
 * @stall: the caller holds no mmap lock and may wait for a compaction to
 *	get a new block
 * @arena_only: no loose page (compact.c moves kpages into arenas only)
 *
 * The fullest arena of the node first (the spare one last), then a new
 * arena, then a loose order-0 page. Engine lock held.
 *
 * Return: a page whose only reference is the caller's, not charged to any
 * memory cgroup: a fresh page, or a former kpage (its mapping still set),
 * or NULL.
 */
struct page *sp_arena_alloc(int nid, bool stall, bool arena_only)
{
	struct sp_arena_node *n = &arena_nodes[nid];
	struct sp_arena *a;
	struct page *page;
	unsigned long slot;

	lockdep_assert_held(&samepage_engine.lock);
again:
	a = fullest(n);
	if (!a)
		a = arena_new(nid, stall);
	if (!a && arena_only)
		return NULL;
	if (!a) {
		page = alloc_pages_node(nid, arena_gfp(false), 0);
		if (page)
			samepage_engine.c.kpages_loose++;
		return page;
	}
	if (a == n->spare)
		n->spare = NULL;
	slot = find_first_bit(a->free, SP_ARENA_PAGES);
	__clear_bit(slot, a->free);
	a->nr_free--;
	n->nr_free--;
	page = pfn_to_page(a->pfn + slot);
	if (PageHWPoison(page)) {
		/* a memory error hit the free slot: it is never handed out */
		WRITE_ONCE(page_folio(page)->mapping, NULL);
		put_page(page);
		place(a);
		goto again;
	}
	a->used++;
	n->used++;
	place(a);
	return page;
}

/**
 * sp_arena_free() - the kpage in @page is gone: take its frame back
 * @page: the frame; its kpage is unmapped and samepage's reference is the
 *	only one it is sure of
 *
 * A slot comes back free only if nobody else holds the page and no memory
 * error hit it; otherwise samepage gives it up. An arena left without
 * kpages is released unless it becomes its node's spare. Engine lock held.
 *
 * Return: true if @page was an arena's (recycled or given up here), false
 * for a loose page, which the caller puts.
 */
bool sp_arena_free(struct page *page)
{
	struct sp_arena *a = arena_of(page);
	struct folio *folio = page_folio(page);
	struct sp_arena_node *n;

	lockdep_assert_held(&samepage_engine.lock);
	if (!a) {
		samepage_engine.c.kpages_loose--;
		return false;
	}
	n = &arena_nodes[a->nid];
	WARN_ON_ONCE(!a->used || folio_mapped(folio));
	a->used--;
	n->used--;
	if (folio_ref_count(folio) == 1 && !PageHWPoison(page)) {
		sp_kpage_uncharge(page);
		__set_bit(page_to_pfn(page) - a->pfn, a->free);
		a->nr_free++;
		if (!a->draining)
			n->nr_free++;
	} else {
		WRITE_ONCE(folio->mapping, NULL);
		folio_put(folio);
	}
	if (a->used) {
		place(a);
	} else if (!n->spare && !a->draining && a->nr_free == SP_ARENA_PAGES) {
		n->spare = a;
		place(a);
	} else {
		arena_release(a);
	}
	return true;
}

/* Is @page a loose kpage or in an arena being emptied (compact.c)? */
bool sp_arena_should_move(struct page *page)
{
	struct sp_arena *a = arena_of(page);

	return !a || a->draining;
}

/*
 * Choose the arenas of node @n to empty: the sparsest, one after the other,
 * while the free slots of the others could take in all of its kpages with
 * an arena's worth to spare (so that merges meanwhile do not undo it).
 * Return: kpages to move there.
 */
static unsigned long plan_node(struct sp_arena_node *n)
{
	struct sp_arena *a, *tmp;
	unsigned long moves = 0;

	/* what was draining and still has kpages is planned anew */
	list_for_each_entry_safe(a, tmp, &n->draining, list) {
		a->draining = false;
		n->nr_free += a->nr_free;
		place(a);
	}
	for (int l = 0; l < SP_ARENA_LEVELS; l++) {
		list_for_each_entry_safe(a, tmp, &n->level[l], list) {
			if (a == n->spare)
				continue;
			if (n->nr_free - a->nr_free < a->used + SP_ARENA_PAGES)
				return moves;
			a->draining = true;
			n->nr_free -= a->nr_free;
			moves += a->used;
			place(a);
		}
	}
	return moves;
}

/**
 * sp_arena_plan() - mark the arenas compact.c should empty
 *
 * Return: whether there is anything to move: a kpage in an arena being
 * emptied, or a loose kpage.
 */
bool sp_arena_plan(void)
{
	unsigned long moves = 0;
	int nid;

	lockdep_assert_held(&samepage_engine.lock);
	for_each_node(nid)
		moves += plan_node(&arena_nodes[nid]);
	return moves || samepage_engine.c.kpages_loose;
}

/**
 * sp_arena_flush() - hand the blocks given back to everyone
 *
 * A block freed goes to the freeing CPU's per-CPU list of its order and
 * migratetype (unmovable: the arena's), where the page allocator looks
 * only for that same kind of request: a huge page or a THP, both movable,
 * cannot have it until the list is drained into the buddy lists. After a
 * compaction round that gave blocks back, drain once. Sleeps.
 */
void sp_arena_flush(void)
{
	if (!released || !samepage_ksyms.drain_all_pages)
		return;
	released = false;
	sp_drain_all_pages(NULL);
}

/* Unload: no kpage is left, so every arena is empty (the spares). */
void sp_arena_exit(void)
{
	int nid;

	for_each_node(nid) {
		struct sp_arena *a = arena_nodes[nid].spare;

		if (a) {
			arena_nodes[nid].spare = NULL;
			arena_release(a);
		}
	}
	WARN_ON_ONCE(samepage_engine.c.kpage_arenas);
	kfree(arena_nodes);
}
