// SPDX-License-Identifier: GPL-2.0
/*
 * Hash-first trees.
 *
 * In-tree KSM orders its trees by page content, so every step of a lookup is
 * a memcmp() of two pages; on near-duplicate pages each one reads most of
 * both pages. samepage orders both trees by the 64-bit xxh64 of the content
 * (after the NUMA node, see struct sp_key) that the scanner computed anyway
 * for the volatility test. A lookup is O(log n) integer compares; the caller
 * confirms an equal key with one memcmp() before merging, and counts
 * hash_collisions when that fails.
 *
 * The stable tree may hold several nodes with one key: kpages of the same
 * content once one is full (max_page_sharing), which in-tree KSM calls the
 * dups of a chain, and, rarely, different contents whose hashes collide.
 * They sit next to each other and sp_stable_next() walks them.
 *
 * The unstable tree holds this pass's candidates, several per key when
 * their hashes collide, and is emptied when a full pass ends (or a knob
 * that shapes the keys changes, or run=2). As in-tree, an item stays
 * counted in pages_unshared until the scanner visits it again: the tree is
 * dropped at once, the flags lazily.
 *
 * A candidate that smart scan skips stays findable (sp_unstable_keep()):
 * it goes into the new pass's tree under the key of its last visit,
 * @dormant, counted as in-tree counts a skipped page (not in
 * pages_unshared, so in pages_volatile). A page that appears later finds
 * it as a partner, whose content the merge compares anyway, instead of
 * waiting up to 8 passes for the skipped twin's next visit. Only a
 * candidate of the tree that the last full pass ended is kept: after any
 * other reset (a knob that shapes the keys, run=2) its key may be of the
 * old shape.
 *
 * Invariant: an item's @rb is linked into samepage_engine.unstable if and
 * only if @unstable is set and @seq equals unstable_gen. Every reset moves
 * unstable_gen on, so an item of an abandoned tree is never rb_erase()d
 * from the new one. The generation is this file's alone: it is not
 * full_scans (run=2 sets that back to 0, and resets happen mid-pass).
 * Everything here runs under samepage_engine.lock.
 */
#include <linux/rbtree.h>

#include "engine.h"

static unsigned long unstable_gen = 1;
static unsigned long carry_gen;	/* the last full pass's tree, or 0 */

/* The current unstable tree's generation (THP hit counts are per tree). */
unsigned long sp_unstable_gen(void)
{
	return unstable_gen;
}

static struct sp_stable_node *stable_of(const struct rb_node *rb)
{
	return rb ? rb_entry(rb, struct sp_stable_node, rb) : NULL;
}

static struct sp_rmap_item *item_of(const struct rb_node *rb)
{
	return rb_entry(rb, struct sp_rmap_item, rb);
}

static int key_cmp(const struct sp_key *a, const struct sp_key *b)
{
	if (a->nid != b->nid)
		return a->nid < b->nid ? -1 : 1;
	if (a->scope_kind != b->scope_kind)
		return a->scope_kind < b->scope_kind ? -1 : 1;
	if (a->scope != b->scope)
		return a->scope < b->scope ? -1 : 1;
	return a->hash < b->hash ? -1 : a->hash > b->hash;
}

static int stable_cmp(const void *key, const struct rb_node *rb)
{
	return key_cmp(key, &stable_of(rb)->key);
}

static bool stable_less(struct rb_node *a, const struct rb_node *b)
{
	return key_cmp(&stable_of(a)->key, &stable_of(b)->key) < 0;
}

static int unstable_cmp(const void *key, const struct rb_node *rb)
{
	return key_cmp(key, &item_of(rb)->key);
}

static bool unstable_less(struct rb_node *a, const struct rb_node *b)
{
	return key_cmp(&item_of(a)->key, &item_of(b)->key) < 0;
}

/* Leftmost stable node with @key, or NULL. */
struct sp_stable_node *sp_stable_find(const struct sp_key *key)
{
	return stable_of(rb_find_first(key, &samepage_engine.stable, stable_cmp));
}

/* The next stable node with the same key as @node, or NULL. */
struct sp_stable_node *sp_stable_next(struct sp_stable_node *node)
{
	return stable_of(rb_next_match(&node->key, &node->rb, stable_cmp));
}

/* In-tree nodes other than @node holding the same content as @node. */
static unsigned int count_dups(struct sp_stable_node *node)
{
	struct sp_stable_node *n;
	unsigned int dups = 0;

	for (n = sp_stable_find(&node->key); n; n = sp_stable_next(n))
		if (n != node && sp_pages_equal(n->kpage, node->kpage))
			dups++;
	return dups;
}

/*
 * Chain accounting, in-tree meanings: a content held by two or more kpages
 * is one stable_node_chain, and each of its kpages a stable_node_dup.
 */
static void account_chain(struct sp_stable_node *node, int sign)
{
	struct sp_counters *c = &samepage_engine.c;
	unsigned int others = count_dups(node);

	if (others == 1) {
		c->stable_node_chains += sign;
		c->stable_node_dups += 2 * sign;
	} else if (others > 1) {
		c->stable_node_dups += sign;
	}
}

void sp_stable_insert(struct sp_stable_node *node)
{
	rb_add(&node->rb, &samepage_engine.stable, stable_less);
	node->in_tree = true;
	samepage_engine.c.pages_shared++;
	account_chain(node, 1);
}

void sp_stable_erase(struct sp_stable_node *node)
{
	if (!node->in_tree)
		return;
	account_chain(node, -1);
	rb_erase(&node->rb, &samepage_engine.stable);
	node->in_tree = false;
	samepage_engine.c.pages_shared--;
}

/* Leftmost unstable item with @key, or NULL. */
struct sp_rmap_item *sp_unstable_find(const struct sp_key *key)
{
	struct rb_node *rb = rb_find_first(key, &samepage_engine.unstable, unstable_cmp);

	return rb ? item_of(rb) : NULL;
}

/* The next unstable item with the same key as @item, or NULL. */
struct sp_rmap_item *sp_unstable_next(struct sp_rmap_item *item)
{
	struct rb_node *rb = rb_next_match(&item->key, &item->rb, unstable_cmp);

	return rb ? item_of(rb) : NULL;
}

/* Link @item into this pass's tree; a @dormant one is not in pages_unshared. */
static void unstable_link(struct sp_rmap_item *item, bool dormant)
{
	rb_add(&item->rb, &samepage_engine.unstable, unstable_less);
	item->unstable = true;
	item->dormant = dormant;
	item->seq = unstable_gen;
	if (!dormant)
		samepage_engine.c.pages_unshared++;
}

void sp_unstable_insert(struct sp_rmap_item *item)
{
	unstable_link(item, false);
}

void sp_unstable_erase(struct sp_rmap_item *item)
{
	if (!item->unstable)
		return;
	if (item->seq == unstable_gen)
		rb_erase(&item->rb, &samepage_engine.unstable);
	item->unstable = false;
	if (!item->dormant)
		samepage_engine.c.pages_unshared--;
	item->dormant = false;
}

/*
 * sp_unstable_keep() - @item, skipped by smart scan, leaves pages_unshared;
 * if it was a candidate of the last full pass, it stays one, dormant.
 */
void sp_unstable_keep(struct sp_rmap_item *item)
{
	bool keep = item->unstable && item->seq == carry_gen;

	sp_unstable_erase(item);
	if (keep)
		unstable_link(item, true);
}

static void unstable_new(void)
{
	samepage_engine.unstable = RB_ROOT;
	unstable_gen++;
}

/* A full pass ended: its candidates go, skipped ones may be kept. */
void sp_unstable_next_pass(void)
{
	carry_gen = unstable_gen;
	unstable_new();
}

/* Forget every candidate (a knob that shapes the keys, run=2). */
void sp_unstable_reset(void)
{
	carry_gen = 0;
	unstable_new();
}
