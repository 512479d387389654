// SPDX-License-Identifier: GPL-2.0
/*
 * Page contents: the one hash of a page (xxh64), and the compares that
 * confirm a hash match.
 *
 * Every read of a page's content here may race with its process writing
 * it, by design: a page is hashed while it is still writable (a changed
 * hash is what marks it volatile), and the one compare a merge relies on,
 * in sp_replace_page(), runs once the page is write-protected and its
 * mapping frozen. Those reads are marked data_race() for KCSAN, which
 * otherwise reports each user write under a hash as a race.
 */
#include <linux/mm.h>
#include <linux/highmem.h>
#include <linux/moduleparam.h>
#include <linux/string.h>
#include <linux/xxhash.h>
#include <linux/cache.h>
#include "engine.h"

/*
 * A testing aid: every content hash is ANDed with it. A narrow mask makes
 * different contents collide, which proves that the memcmp() confirmation
 * and hash_collisions work; no user needs to change it.
 */
static unsigned long long hash_mask = ~0ULL;
module_param(hash_mask, ullong, 0600);
MODULE_PARM_DESC(hash_mask, "testing: mask applied to content hashes (forces collisions)");

/* The hash of an all-zero page (set at load). */
static u64 zero_hash __ro_after_init;

u64 sp_page_hash(struct page *page)
{
	void *p = kmap_local_page(page);
	u64 h = data_race(xxh64(p, PAGE_SIZE, 0));

	kunmap_local(p);
	return h & hash_mask;
}

/* Is @hash that of an all-zero page? */
bool sp_hash_is_zero(u64 hash)
{
	return hash == zero_hash;
}

void sp_page_init(void)
{
	zero_hash = sp_page_hash(ZERO_PAGE(0));
}

bool sp_page_is_zero(struct page *page)
{
	void *p = kmap_local_page(page);
	bool zero = !data_race(memchr_inv(p, 0, PAGE_SIZE));

	kunmap_local(p);
	return zero;
}

bool sp_pages_equal(struct page *a, struct page *b)
{
	char *pa = kmap_local_page(a), *pb = kmap_local_page(b);
	bool eq = !data_race(memcmp(pa, pb, PAGE_SIZE));

	kunmap_local(pb);
	kunmap_local(pa);
	return eq;
}

/* Bytes at each end of two pages that must be equal before they merge. */
#define SAMPLE_BYTES	64

/*
 * A cheap filter before a merge: do @a and @b start and end alike? Pages
 * that differ (a hash collision) almost always do so there; the one full
 * memcmp() comes later, in sp_replace_page().
 */
bool sp_page_ends_equal(struct page *a, struct page *b)
{
	char *pa = kmap_local_page(a), *pb = kmap_local_page(b);
	bool eq = !data_race(memcmp(pa, pb, SAMPLE_BYTES)) &&
		  !data_race(memcmp(pa + PAGE_SIZE - SAMPLE_BYTES,
				    pb + PAGE_SIZE - SAMPLE_BYTES, SAMPLE_BYTES));

	kunmap_local(pb);
	kunmap_local(pa);
	return eq;
}
