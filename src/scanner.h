/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The scanner's parts, as the files that make it up call each other; the
 * rest of samepage sees only engine.h's sp_scan_init(), sp_scan_exit() and
 * sp_merge_range(). Calls go down this list, never up:
 *
 *   scan.c         the samepaged kthread, the pass, the walk of one mm
 *   merge_range.c  MERGE_RANGE: one range visited at once
 *   visit.c        the visit of one address (a THP's subpages together)
 *   match.c        merging a visited page: stable kpage or unstable partner
 *   policy.c       eligible VMAs, content keys, smart scan, the two-pass rule
 *   thp.c          when a PMD-mapped THP is split for its subpages, the split
 *   probe.c        the write-fault probe's arming protocol
 *
 * Every function here runs under the engine lock unless its comment says
 * otherwise.
 */
#ifndef SAMEPAGE_SCANNER_H
#define SAMEPAGE_SCANNER_H

#include "engine.h"

/*
 * One visit, which may cover several addresses (a huge page, a stretch
 * without page table): its outcomes are counted per address into the
 * slot's why-not-merged breakdown.
 */
struct sp_visit {
	struct sp_mm_slot *slot;
	struct vm_area_struct *vma;
	bool now;		/* MERGE_RANGE: merge now, not part of a pass */
	struct sp_pmd_cache *pc;
	/*
	 * [@no_items_from, @no_items_to): addresses the walk knows to hold
	 * no rmap_item (visit_gap()); items are added only where the walk is,
	 * before every gap it passes later, so what it learnt stays true.
	 */
	unsigned long no_items_from, no_items_to;
};

/* visit.c */
unsigned long sp_visit_addr(struct sp_visit *v, unsigned long addr,
			    unsigned long end, unsigned long *cost);
void sp_outcome(struct sp_visit *v, int why, unsigned long pages);
void sp_outcomes_end_pass(struct sp_mm_slot *slot);

/* What a visit may do with a page, from what its previous visits saw. */
enum sight {
	SIGHT_STEADY,	/* the same hash as at the last visit, or a first sight */
	SIGHT_CHANGED,	/* a different hash (or a first sight, merge_first_sight=0) */
	SIGHT_COOLING,	/* a fast COW breaker, waiting (cow_cooldown_passes) */
};

/* match.c */
int sp_merge_page(struct vm_area_struct *vma, struct sp_rmap_item *item,
		  struct page *page, const struct sp_key *key, enum sight seen);

/* policy.c */
int sp_vma_why(struct vm_area_struct *vma);
bool sp_vma_eligible(struct vm_area_struct *vma);
struct sp_key sp_page_key(struct sp_mm_slot *slot, struct page *page);
bool sp_key_domain_eq(struct sp_mm_slot *slot, struct page *page, const struct sp_key *key);
bool sp_smart_skip(struct sp_rmap_item *item);
enum sight sp_sight(struct sp_rmap_item *item, const struct sp_key *key, bool now);
void sp_note_cow(struct sp_rmap_item *item);

/* thp.c */
int sp_split_locked(struct page *page);
int sp_split_thp(struct page *page);
unsigned int sp_thp_threshold(void);
void sp_thp_mark(struct sp_rmap_item *item, bool in);
void sp_thp_credit(struct sp_rmap_item *item);
bool sp_thp_credited(const struct sp_mm_slot *slot, unsigned long addr);
unsigned int sp_thp_hits(const struct sp_mm_slot *slot, unsigned long addr,
			 unsigned int partners);
bool sp_thp_may_split(struct sp_rmap_item *partner);
void sp_thp_exit(void);

/* probe.c (no lock held) */
void sp_merging_begin(bool arm);
void sp_merging_end(void);
void sp_cow_probe_idle(void);
bool sp_cow_probe_armed(void);

#endif /* SAMEPAGE_SCANNER_H */
