// SPDX-License-Identifier: GPL-2.0
/*
 * Hash-first trees.
 *
 * In-tree KSM orders its trees by page content, so every step of a lookup is
 * a memcmp() of two pages; on near-duplicate pages each one reads most of
 * both pages. samepage orders both trees by the 64-bit xxh64 of the content
 * that the scanner computed anyway for the volatility test. A lookup is
 * O(log n) integer compares; the caller confirms an equal hash with one
 * memcmp() before merging, and counts hash_collisions when it fails.
 *
 * The stable tree holds kpages and may hold several nodes with one hash (a
 * collision); they sit next to each other and sp_stable_next() walks them.
 * The unstable tree holds at most one candidate per hash for this pass and
 * is emptied when a full pass ends. As in-tree, an item stays counted in
 * pages_unshared until the scanner visits it again: the tree is dropped at
 * once, the flags lazily (an item links into the tree of pass @seq only).
 */
#include <linux/rbtree.h>

#include "engine.h"

static struct sp_stable_node *stable_of(const struct rb_node *rb)
{
	return rb ? rb_entry(rb, struct sp_stable_node, rb) : NULL;
}

static struct sp_rmap_item *item_of(const struct rb_node *rb)
{
	return rb_entry(rb, struct sp_rmap_item, rb);
}

static int hash_cmp(u64 a, u64 b)
{
	return a < b ? -1 : a > b;
}

static int stable_cmp(const void *key, const struct rb_node *rb)
{
	return hash_cmp(*(const u64 *)key, stable_of(rb)->hash);
}

static bool stable_less(struct rb_node *a, const struct rb_node *b)
{
	return stable_of(a)->hash < stable_of(b)->hash;
}

static int unstable_cmp(const void *key, const struct rb_node *rb)
{
	return hash_cmp(*(const u64 *)key, item_of(rb)->hash);
}

static bool unstable_less(struct rb_node *a, const struct rb_node *b)
{
	return item_of(a)->hash < item_of(b)->hash;
}

/* Leftmost stable node with @hash, or NULL. */
struct sp_stable_node *sp_stable_find(u64 hash)
{
	return stable_of(rb_find_first(&hash, &samepage_engine.stable, stable_cmp));
}

/* The next stable node with the same hash as @node, or NULL. */
struct sp_stable_node *sp_stable_next(struct sp_stable_node *node)
{
	return stable_of(rb_next_match(&node->hash, &node->rb, stable_cmp));
}

void sp_stable_insert(struct sp_stable_node *node)
{
	rb_add(&node->rb, &samepage_engine.stable, stable_less);
	node->in_tree = true;
	samepage_engine.c.pages_shared++;
}

void sp_stable_erase(struct sp_stable_node *node)
{
	if (!node->in_tree)
		return;
	rb_erase(&node->rb, &samepage_engine.stable);
	node->in_tree = false;
	samepage_engine.c.pages_shared--;
}

struct sp_rmap_item *sp_unstable_find(u64 hash)
{
	struct rb_node *rb = rb_find(&hash, &samepage_engine.unstable, unstable_cmp);

	return rb ? item_of(rb) : NULL;
}

/* Insert @item; the caller made sure no item with its hash is there. */
void sp_unstable_insert(struct sp_rmap_item *item)
{
	rb_add(&item->rb, &samepage_engine.unstable, unstable_less);
	item->unstable = true;
	item->seq = samepage_engine.c.full_scans;
	samepage_engine.c.pages_unshared++;
}

void sp_unstable_erase(struct sp_rmap_item *item)
{
	if (!item->unstable)
		return;
	if (item->seq == samepage_engine.c.full_scans)
		rb_erase(&item->rb, &samepage_engine.unstable);
	item->unstable = false;
	samepage_engine.c.pages_unshared--;
}

/*
 * End of a full pass: forget every candidate. Call before full_scans moves
 * on, so that items of the old pass are recognised as unlinked.
 */
void sp_unstable_reset(void)
{
	samepage_engine.unstable = RB_ROOT;
}
