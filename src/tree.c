// SPDX-License-Identifier: GPL-2.0
/*
 * Hash-first trees.
 *
 * In-tree KSM orders its trees by page content, so every step of a lookup is
 * a memcmp() of two pages; on near-duplicate pages each one reads most of
 * both pages. samepage keys both trees by the 64-bit xxh64 of the content
 * (with the NUMA node and the merge scope, see struct sp_key) that the
 * scanner computed anyway for the volatility test. The key is already a
 * hash, so each "tree" is a hash table (struct sp_htab below): a lookup
 * reads one bucket, not the 15-20 levels of an rb-tree, whose descents were
 * a fifth of samepaged's CPU (the perf profile in
 * Documentation/benchmarks.md). Nothing in a table is ordered but the
 * entries of one key. The caller confirms an equal key with one memcmp()
 * before merging, and counts hash_collisions when that fails.
 *
 * Both tables choose buckets by the key's 32-bit digest (sp_key_digest()),
 * which is all an rmap_item keeps of its key: unstable lookups find the
 * candidates of a digest, and the merge checks the rest (match.c). Stable
 * nodes keep their full key, and stable lookups match it.
 *
 * The stable tree may hold several nodes with one key: kpages of the same
 * content once one is full (max_page_sharing), which in-tree KSM calls the
 * dups of a chain, and, rarely, different contents whose hashes collide.
 * They sit in one bucket in the order they were inserted (as an rb-tree
 * keeps equal keys), and sp_stable_next() walks them oldest first.
 *
 * The unstable tree holds this pass's candidates, several per key when
 * their hashes collide, and is emptied when a full pass ends (or a knob
 * that shapes the keys changes, or run=2). As in-tree, an item stays
 * counted in pages_unshared until the scanner visits it again: the tree is
 * dropped at once, the flags lazily.
 *
 * A candidate that smart scan skips stays findable (sp_unstable_keep()):
 * it goes into the new pass's tree under the key of its last visit,
 * dormant, counted as in-tree counts a skipped page (not in
 * pages_unshared, so in pages_volatile). A page that appears later finds
 * it as a partner, whose content the merge compares anyway, instead of
 * waiting up to 8 passes for the skipped twin's next visit. Only a
 * candidate of the tree that the last full pass ended is kept: after any
 * other reset (a knob that shapes the keys, run=2) its key may be of the
 * old shape.
 *
 * Invariant: an item's @hnode is linked into the unstable table if and only
 * if SP_ITEM_UNSTABLE is set and @seq equals unstable_gen. Every reset empties the
 * table without touching the items and moves unstable_gen on, so an item of
 * an abandoned tree is never unlinked from the new one (its stale @hnode is
 * only ever overwritten). The generation is this file's alone: it is not
 * full_scans (run=2 sets that back to 0, and resets happen mid-pass).
 * Everything here runs under samepage_engine.lock.
 */
#include <linux/hash.h>
#include <linux/log2.h>
#include <linux/slab.h>

#include "engine.h"

/*
 * struct sp_htab - buckets of hlist_nodes chosen by a 32-bit digest
 * @b: 2^@bits buckets; @initial until the first grow
 * @bits: log2 of the number of buckets
 * @count: entries linked
 * @digest_off: from an entry's hlist_node to its u32 digest
 * @load: entries per bucket, on average, at which an add grows the table
 * @initial: the static buckets the table starts with
 *
 * Invariant: every entry is in the bucket its digest hashes to at @bits,
 * and entries of one digest are in the order they were added. A grow moves every
 * entry, so it happens only when an entry is added, and no caller adds to a
 * table while it walks that table (merge_unstable() walks the unstable
 * table and adds to the stable one; merge_stable() adds to neither). A
 * grow that cannot allocate leaves the table as it is: longer buckets,
 * nothing lost.
 */
struct sp_htab {
	struct hlist_head *b;
	unsigned int bits;
	unsigned long count;
	ptrdiff_t digest_off;
	unsigned int load;
	struct hlist_head *initial;
};

#define SP_HTAB_MIN_BITS	10
#define UNSTABLE_LOAD		4	/* sized for 2 (unstable_new()), grown at 4 */
#define SP_HTAB_MAX_BITS	22	/* 32 MiB of buckets, for 8M+ entries */

static struct hlist_head stable_initial[1 << SP_HTAB_MIN_BITS];
static struct hlist_head unstable_initial[1 << SP_HTAB_MIN_BITS];

static struct sp_htab stable_tab = {
	.b = stable_initial, .bits = SP_HTAB_MIN_BITS, .initial = stable_initial,
	.digest_off = offsetof(struct sp_stable_node, digest) -
		      offsetof(struct sp_stable_node, hnode),
	.load = 2,
};

static struct sp_htab unstable_tab = {
	.b = unstable_initial, .bits = SP_HTAB_MIN_BITS, .initial = unstable_initial,
	.digest_off = offsetof(struct sp_rmap_item, digest) -
		      offsetof(struct sp_rmap_item, hnode),
	.load = UNSTABLE_LOAD,
};

static unsigned long unstable_gen = 1;
static unsigned long carry_gen;	/* the last full pass's tree, or 0 */

/* The current unstable tree's generation (THP hit counts are per tree). */
unsigned long sp_unstable_gen(void)
{
	return unstable_gen;
}

/* Same content hash, node and scope. */
bool sp_key_eq(const struct sp_key *a, const struct sp_key *b)
{
	return a->hash == b->hash && a->scope == b->scope &&
	       a->scope_kind == b->scope_kind && a->nid == b->nid;
}

/**
 * sp_key_digest() - the 32 bits of @key an rmap_item keeps
 * @key: a full key
 *
 * Items keep only this digest of their last key (the volatility test, and
 * the unstable table, whose lookups it filters): a merge compares the two
 * pages anyway, and checks the partner's node and scope (match.c), so a
 * digest shared by different keys costs a compare, never a wrong merge.
 * The tables' buckets are chosen by it.
 */
u32 sp_key_digest(const struct sp_key *key)
{
	u64 h = key->hash ^ (key->scope + key->scope_kind) * GOLDEN_RATIO_64 ^
		(u64)(u32)key->nid;

	return (u32)(h >> 32) ^ (u32)h;
}

static u32 htab_digest(const struct sp_htab *t, const struct hlist_node *n)
{
	return *(const u32 *)((const void *)n + t->digest_off);
}

static struct hlist_head *htab_bucket(struct hlist_head *b, unsigned int bits, u32 digest)
{
	return &b[hash_32(digest, bits)];
}

/* The first entry with @digest, or NULL. */
static struct hlist_node *htab_find(const struct sp_htab *t, u32 digest)
{
	struct hlist_node *n;

	for (n = htab_bucket(t->b, t->bits, digest)->first; n; n = n->next)
		if (htab_digest(t, n) == digest)
			return n;
	return NULL;
}

/* The entry after @n with @n's digest, or NULL. */
static struct hlist_node *htab_next(const struct sp_htab *t, struct hlist_node *n)
{
	u32 digest = htab_digest(t, n);

	for (n = n->next; n; n = n->next)
		if (htab_digest(t, n) == digest)
			return n;
	return NULL;
}

/* Link @n last into @head (buckets are short: the walk is a few steps). */
static void bucket_append(struct hlist_head *head, struct hlist_node *n)
{
	struct hlist_node *last = head->first;

	if (!last) {
		hlist_add_head(n, head);
		return;
	}
	while (last->next)
		last = last->next;
	hlist_add_behind(n, last);
}

/* Make @b (2^@bits buckets) @t's, freeing the old ones unless static. */
static void htab_set_buckets(struct sp_htab *t, struct hlist_head *b, unsigned int bits)
{
	if (t->b != t->initial)
		kvfree(t->b);
	t->b = b;
	t->bits = bits;
}

/* Move every entry of @t into 2^@bits fresh buckets @b, keeping their order. */
static void htab_move(struct sp_htab *t, struct hlist_head *b, unsigned int bits)
{
	unsigned long i;

	for (i = 0; i < (1UL << t->bits); i++) {
		struct hlist_head *old = &t->b[i];

		while (old->first) {
			struct hlist_node *n = old->first;

			hlist_del(n);
			bucket_append(htab_bucket(b, bits, htab_digest(t, n)), n);
		}
	}
	htab_set_buckets(t, b, bits);
}

static void htab_add(struct sp_htab *t, struct hlist_node *n)
{
	if (t->count >= ((unsigned long)t->load << t->bits) && t->bits < SP_HTAB_MAX_BITS) {
		struct hlist_head *b = kvcalloc(2UL << t->bits, sizeof(*b), SP_GFP_SCAN);

		if (b)
			htab_move(t, b, t->bits + 1);
	}
	bucket_append(htab_bucket(t->b, t->bits, htab_digest(t, n)), n);
	t->count++;
}

/* Is @n where the invariant puts it, in its key's bucket? (A walk.) */
static bool htab_holds(const struct sp_htab *t, const struct hlist_node *n)
{
	const struct hlist_node *m;

	for (m = htab_bucket(t->b, t->bits, htab_digest(t, n))->first; m; m = m->next)
		if (m == n)
			return true;
	return false;
}

static void htab_del(struct sp_htab *t, struct hlist_node *n)
{
	if (SP_DEBUG_CHECKS)
		WARN_ON_ONCE(!htab_holds(t, n));
	hlist_del(n);
	t->count--;
}

/*
 * Forget every entry without touching it, into 2^@bits empty buckets (the
 * old ones, emptied, if @bits is their size or no new ones can be had).
 */
static void htab_empty(struct sp_htab *t, unsigned int bits)
{
	struct hlist_head *b = NULL;

	if (bits != t->bits)
		b = bits == SP_HTAB_MIN_BITS ? t->initial :
		    kvcalloc(1UL << bits, sizeof(*b), SP_GFP_SCAN);
	if (b)
		htab_set_buckets(t, b, bits);
	memset(t->b, 0, sizeof(*t->b) << t->bits);
	t->count = 0;
}

/* Unload: back to the static buckets (a table left with entries is a bug). */
static void htab_free(struct sp_htab *t)
{
	WARN_ON_ONCE(t->count);
	htab_empty(t, SP_HTAB_MIN_BITS);
}

static struct sp_stable_node *stable_of(struct hlist_node *n)
{
	return n ? hlist_entry(n, struct sp_stable_node, hnode) : NULL;
}

static struct sp_rmap_item *item_of(struct hlist_node *n)
{
	return n ? hlist_entry(n, struct sp_rmap_item, hnode) : NULL;
}

/* @n, or the first stable node after it with its digest, that has @key. */
static struct sp_stable_node *stable_from(struct hlist_node *n, const struct sp_key *key)
{
	for (; n; n = htab_next(&stable_tab, n))
		if (sp_key_eq(key, &stable_of(n)->key))
			return stable_of(n);
	return NULL;
}

/* The oldest stable node with @key, or NULL. */
struct sp_stable_node *sp_stable_find(const struct sp_key *key)
{
	return stable_from(htab_find(&stable_tab, sp_key_digest(key)), key);
}

/* The next stable node with the same key as @node, or NULL. */
struct sp_stable_node *sp_stable_next(struct sp_stable_node *node)
{
	return stable_from(htab_next(&stable_tab, &node->hnode), &node->key);
}

/*
 * Might a page whose last key had @digest have a twin now: a kpage or a
 * candidate with that digest (a lookup, no page read; smart scan)?
 */
bool sp_digest_known(u32 digest)
{
	return htab_find(&unstable_tab, digest) || htab_find(&stable_tab, digest);
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
	lockdep_assert_held(&samepage_engine.lock);
	WARN_ON_ONCE(node->in_tree);
	node->digest = sp_key_digest(&node->key);
	htab_add(&stable_tab, &node->hnode);
	node->in_tree = true;
	samepage_engine.c.pages_shared++;
	account_chain(node, 1);
}

void sp_stable_erase(struct sp_stable_node *node)
{
	if (!node->in_tree)
		return;
	account_chain(node, -1);
	htab_del(&stable_tab, &node->hnode);
	node->in_tree = false;
	samepage_engine.c.pages_shared--;
}

/*
 * The oldest unstable item whose key had @key's digest, or NULL. The
 * caller checks the rest of the key (match.c).
 */
struct sp_rmap_item *sp_unstable_find(const struct sp_key *key)
{
	return item_of(htab_find(&unstable_tab, sp_key_digest(key)));
}

/* The next unstable item with the same digest as @item, or NULL. */
struct sp_rmap_item *sp_unstable_next(struct sp_rmap_item *item)
{
	return item_of(htab_next(&unstable_tab, &item->hnode));
}

/* Link @item into this pass's tree; a @dormant one is not in pages_unshared. */
static void unstable_link(struct sp_rmap_item *item, bool dormant)
{
	lockdep_assert_held(&samepage_engine.lock);
	/* in the table twice, its chain would loop; merged, @hnode is @nlink */
	WARN_ON_ONCE(sp_item_has(item, SP_ITEM_UNSTABLE | SP_ITEM_MERGED));
	WARN_ON_ONCE(!sp_item_has(item, SP_ITEM_SEEN));		/* no digest */
	htab_add(&unstable_tab, &item->hnode);
	sp_item_flag(item, SP_ITEM_UNSTABLE, true);
	sp_item_flag(item, SP_ITEM_DORMANT, dormant);
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
	if (!sp_item_has(item, SP_ITEM_UNSTABLE))
		return;
	if (item->seq == unstable_gen)
		htab_del(&unstable_tab, &item->hnode);
	sp_item_flag(item, SP_ITEM_UNSTABLE, false);
	if (!sp_item_has(item, SP_ITEM_DORMANT))
		samepage_engine.c.pages_unshared--;
	sp_item_flag(item, SP_ITEM_DORMANT, false);
}

/*
 * sp_unstable_keep() - @item, skipped by smart scan, leaves pages_unshared;
 * if it was a candidate of the last full pass, it stays one, dormant.
 */
void sp_unstable_keep(struct sp_rmap_item *item)
{
	bool keep = sp_item_has(item, SP_ITEM_UNSTABLE) && item->seq == carry_gen;

	sp_unstable_erase(item);
	if (keep)
		unstable_link(item, true);
}

/*
 * A new, empty tree, with a bucket for every two or so items samepage has:
 * every scanned page may be a candidate, so the buckets are part of what
 * a scanned page costs (sp_item_bytes()), 4 bytes of it at this size; a
 * lookup walks a chain of two on average, each a digest compare.
 */
static void unstable_new(void)
{
	unsigned long items = samepage_engine.c.rmap_items / 2;

	htab_empty(&unstable_tab, clamp_t(unsigned int, order_base_2(items ?: 1),
					  SP_HTAB_MIN_BITS, SP_HTAB_MAX_BITS));
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

/*
 * Bytes of the buckets the unstable table holds beyond its static ones
 * (any context: a snapshot without the engine lock).
 */
unsigned long sp_unstable_bucket_bytes(void)
{
	const struct sp_htab *t = &unstable_tab;

	if (READ_ONCE(t->b) == t->initial)
		return 0;
	return sizeof(*t->b) << READ_ONCE(t->bits);
}

/* Module unload: the tables' buckets (both tables are empty by now). */
void sp_trees_exit(void)
{
	htab_empty(&unstable_tab, SP_HTAB_MIN_BITS);	/* dropped, not erased */
	htab_free(&stable_tab);
}
