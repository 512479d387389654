// SPDX-License-Identifier: GPL-2.0
/*
 * The samepaged kthread, its cursor over registered mms, VMAs and pages,
 * and what happens to one page.
 *
 * One pass visits every eligible page of every registered mm (or range),
 * round-robin, pages_to_scan pages per batch, sleeping sleep_millisecs
 * between batches; a batch never runs past the end of a pass. Per page: one
 * xxh64 of the content. A page whose hash differs from the previous pass's
 * is volatile and goes no further (the checksum test comes before any tree
 * search). A stable page is looked up by hash in the stable tree, then in
 * the unstable tree; an equal hash is confirmed by one memcmp() before
 * anything is merged. Every address gets one outcome per pass (enum
 * samepage_why), the "why not merged" breakdown.
 *
 * rmap_items of addresses the cursor passes without visiting (unmapped,
 * ineligible, unregistered) are dropped as it passes, as in-tree KSM does,
 * so that counters such as ksm_zero_pages are exact after a pass.
 */
#define pr_fmt(fmt) "samepage: " fmt

#include <linux/kthread.h>
#include <linux/freezer.h>
#include <linux/sched/mm.h>
#include <linux/highmem.h>
#include <linux/pagemap.h>
#include <linux/xxhash.h>
#include <linux/wait.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/jiffies.h>

#include "samepage.h"
#include "engine.h"
#include "ksyms.h"
#include "trace.h"

struct samepage_engine samepage_engine = {
	.lock = __MUTEX_INITIALIZER(samepage_engine.lock),
	.slots = LIST_HEAD_INIT(samepage_engine.slots),
	.stable = RB_ROOT,
	.unstable = RB_ROOT,
	.kpages = LIST_HEAD_INIT(samepage_engine.kpages),
};

/*
 * A testing aid: every content hash is ANDed with it. A narrow mask makes
 * different contents collide, which proves that the memcmp() confirmation
 * and hash_collisions work; no user needs to change it.
 */
static unsigned long long hash_mask = ~0ULL;
module_param(hash_mask, ullong, 0600);
MODULE_PARM_DESC(hash_mask, "testing: mask applied to content hashes (forces collisions)");

/*
 * A merged page written to within this many passes of its merge is
 * fast-changing: it counts as volatile for as many visits before samepage
 * tries to merge it again, instead of merging and breaking it every pass.
 */
#define SP_FAST_COW_PASSES	4

static struct task_struct *samepaged;
static DECLARE_WAIT_QUEUE_HEAD(samepaged_wait);
static unsigned long last_prune;
static u64 zero_hash;

void sp_scan_wake(void)
{
	wake_up_interruptible(&samepaged_wait);
}

bool sp_engine_has_kpages(void)
{
	return READ_ONCE(samepage_engine.c.kernel_pages_allocated) != 0;
}

/**
 * sp_vma_why() - may samepage merge in @vma? (DESIGN.md 2.2)
 * @vma: the VMA
 *
 * Return: -1 for private anonymous memory samepage merges, else the
 * SAMEPAGE_WHY_VMA_* reason it does not.
 */
int sp_vma_why(struct vm_area_struct *vma)
{
	vm_flags_t other = VM_DONTEXPAND;

#ifdef VM_DROPPABLE
	other |= VM_DROPPABLE;
#endif
#ifdef CONFIG_HAVE_ARCH_USERFAULTFD_WP
	other |= VM_UFFD_WP;
#endif
	if (vma->vm_flags & (VM_SHARED | VM_MAYSHARE))
		return SAMEPAGE_WHY_VMA_SHARED;
	if (vma->vm_flags & VM_HUGETLB)
		return SAMEPAGE_WHY_VMA_HUGETLB;
	if (vma->vm_flags & (VM_PFNMAP | VM_IO | VM_MIXEDMAP))
		return SAMEPAGE_WHY_VMA_IO;
	if (vma->vm_flags & (VM_LOCKED | VM_LOCKONFAULT))
		return SAMEPAGE_WHY_VMA_LOCKED;
	if ((vma->vm_flags & other) || vma_is_dax(vma))
		return SAMEPAGE_WHY_VMA_OTHER;
	return -1;
}

/* Eligible and holding anonymous pages: worth walking. */
bool sp_vma_eligible(struct vm_area_struct *vma)
{
	return sp_vma_why(vma) < 0 && vma->anon_vma;
}

static u64 page_hash(struct page *page)
{
	void *p = kmap_local_page(page);
	u64 h = xxh64(p, PAGE_SIZE, 0);

	kunmap_local(p);
	return h & hash_mask;
}

static bool key_differs(const struct sp_key *a, const struct sp_key *b)
{
	return a->nid != b->nid || a->hash != b->hash || a->scope_kind != b->scope_kind ||
	       a->scope != b->scope;
}

static struct sp_key page_key(struct sp_mm_slot *slot, struct page *page)
{
	struct sp_key key = { .hash = page_hash(page) };

	if (!READ_ONCE(samepage_knobs.merge_across_nodes))
		key.nid = page_to_nid(page);
	sp_key_scope(slot, page, &key);
	return key;
}

/* sp_replace_page() found different content (not an enum samepage_why). */
#define DIFFERS		(-2)

/* The outcome of a failed sp_replace_page(). */
static int merge_error_why(int err)
{
	if (err == -ESTALE)
		return DIFFERS;
	return err == -EBUSY ? SAMEPAGE_WHY_PINNED : SAMEPAGE_WHY_RACE;
}

/*
 * Lock both pages and map @kpage (NULL: the zero page) at @addr if the
 * content is the same, or (@fill) fill the new @kpage from @page.
 * Return: SAMEPAGE_WHY_MERGED, _PINNED, _RACE or DIFFERS.
 */
static int try_merge(struct vm_area_struct *vma, unsigned long addr,
		     struct page *page, struct page *kpage, bool fill)
{
	struct folio *folio = page_folio(page);
	int err;

	if (!folio_trylock(folio))
		return SAMEPAGE_WHY_RACE;
	if (kpage)
		folio_lock(page_folio(kpage));
	err = sp_replace_page(vma, addr, page, kpage, fill);
	if (kpage)
		folio_unlock(page_folio(kpage));
	folio_unlock(folio);
	return err ? merge_error_why(err) : SAMEPAGE_WHY_MERGED;
}

/* The partner could not be used and leaves the unstable tree. */
#define PARTNER_GONE	(-1)

/* Bytes at each end of two pages that must be equal before they merge. */
#define SAMPLE_BYTES	64

/*
 * A cheap filter before a merge: do @a and @b start and end alike? Pages
 * that differ (a hash collision) almost always do so there; the one full
 * memcmp() comes later, in sp_replace_page().
 */
static bool ends_equal(struct page *a, struct page *b)
{
	char *pa = kmap_local_page(a), *pb = kmap_local_page(b);
	bool eq = !memcmp(pa, pb, SAMPLE_BYTES) &&
		  !memcmp(pa + PAGE_SIZE - SAMPLE_BYTES, pb + PAGE_SIZE - SAMPLE_BYTES,
			  SAMPLE_BYTES);

	kunmap_local(pb);
	kunmap_local(pa);
	return eq;
}

/* A collision only if the partner still has the hash it had in the tree. */
static int partner_differs(struct page *ppage, const struct sp_key *key)
{
	if (page_hash(ppage) != key->hash)
		return PARTNER_GONE;
	samepage_engine.c.hash_collisions++;
	return SAMEPAGE_WHY_UNIQUE;
}

/**
 * merge_with_partner() - merge @page with the unstable-tree candidate @partner
 * @vma: VMA of @addr (its mm's mmap lock is held)
 * @addr: address of @page
 * @page: the page being scanned (referenced)
 * @item: its rmap_item
 * @partner: an unstable-tree item with the same key
 *
 * @page goes into a new kpage, which is filled from it at that moment,
 * then the partner, compared with it. Should the partner differ after all
 * (a collision that got past ends_equal(), or a write since it was
 * hashed), @page gets its own page back: no kpage is ever left holding a
 * page that matched nothing. If the partner cannot merge for another
 * reason (pinned, busy), @page stays on the kpage, where later twins find
 * it. The partner's mm is only trylocked: samepaged already holds @vma's
 * mm, and must never wait on a second mmap lock.
 *
 * Return: SAMEPAGE_WHY_MERGED; _UNIQUE for a real hash collision (counted);
 * _PINNED, _RACE, _MAX_KERNEL_PAGES or _MEMCG_LIMIT when @page could not
 * merge; or PARTNER_GONE (unmapped, merged already, or changed since it was
 * hashed).
 */
static int merge_with_partner(struct vm_area_struct *vma, unsigned long addr,
			      struct page *page, struct sp_rmap_item *item,
			      struct sp_rmap_item *partner)
{
	struct mm_struct *pmm = partner->slot->mm, *mm = vma->vm_mm;
	struct vm_area_struct *pvma;
	struct sp_stable_node *node;
	int why = PARTNER_GONE;
	struct page *ppage;
	bool locked = false;

	if (pmm != mm) {
		if (!mmap_read_trylock(pmm))
			return SAMEPAGE_WHY_RACE;	/* busy: next pass */
		locked = true;
		if (sp_mm_exiting(pmm))
			goto out_unlock;
	}
	pvma = vma_lookup(pmm, partner->addr);
	if (!pvma || !sp_vma_eligible(pvma) ||
	    sp_get_anon_page(pvma, partner->addr, &ppage, NULL) != SP_PTE_ANON)
		goto out_unlock;
	if (sp_is_kpage(ppage))
		goto out_page;
	if (!ends_equal(page, ppage)) {
		why = partner_differs(ppage, &item->key);
		goto out_page;
	}
	node = sp_kpage_new(mm, page, &item->key);
	if (IS_ERR(node)) {
		why = PTR_ERR(node) == -EDQUOT ? SAMEPAGE_WHY_MEMCG_LIMIT :
						 SAMEPAGE_WHY_MAX_KERNEL_PAGES;
		goto out_page;
	}
	why = try_merge(vma, addr, page, node->kpage, true);
	if (why != SAMEPAGE_WHY_MERGED)
		goto out_prune;
	switch (try_merge(pvma, partner->addr, ppage, node->kpage, false)) {
	case SAMEPAGE_WHY_MERGED:
		sp_unstable_erase(partner);
		sp_item_link(partner, node);
		sp_item_link(item, node);
		break;
	case DIFFERS:
		sp_unmerge_scanned(mm, addr, addr + PAGE_SIZE);	/* its own page back */
		why = partner_differs(ppage, &item->key);
		break;
	default:			/* pinned or busy: @page waits there */
		sp_item_link(item, node);
		break;
	}
out_prune:
	if (!node->sharers)
		sp_kpage_prune();	/* nothing merged: free it now */
out_page:
	put_page(ppage);
out_unlock:
	if (locked)
		mmap_read_unlock(pmm);
	return why;
}

/* Merge @page with an equal candidate of this pass, or become one. */
static int merge_unstable(struct vm_area_struct *vma, unsigned long addr,
			  struct page *page, struct sp_rmap_item *item)
{
	struct sp_rmap_item *partner, *next;
	int why = SAMEPAGE_WHY_UNIQUE;

	for (partner = sp_unstable_find(&item->key); partner; partner = next) {
		int w;

		next = sp_unstable_next(partner);
		w = merge_with_partner(vma, addr, page, item, partner);
		if (w == SAMEPAGE_WHY_MERGED)
			return w;
		if (w == PARTNER_GONE)
			sp_unstable_erase(partner);
		else if (w != SAMEPAGE_WHY_UNIQUE)
			why = w;	/* @page itself could not merge */
	}
	sp_unstable_insert(item);
	return why;
}

/*
 * Merge @item's @page into a stable kpage of its content. Return the
 * outcome, or -1 if no kpage of this content has room (the unstable tree
 * then makes a dup, as in-tree).
 */
static int merge_stable(struct vm_area_struct *vma, struct sp_rmap_item *item,
			struct page *page)
{
	int max = READ_ONCE(samepage_knobs.max_page_sharing);
	struct sp_stable_node *node;
	int why;

	for (node = sp_stable_find(&item->key); node; node = sp_stable_next(node)) {
		if (node->sharers >= max) {	/* full: try a dup */
			if (!sp_pages_equal(page, node->kpage))
				samepage_engine.c.hash_collisions++;
			continue;
		}
		why = try_merge(vma, item->addr, page, node->kpage, false);
		if (why == DIFFERS) {		/* compared in sp_replace_page() */
			samepage_engine.c.hash_collisions++;
			continue;
		}
		if (why == SAMEPAGE_WHY_MERGED)
			sp_item_link(item, node);
		return why;
	}
	return -1;
}

/*
 * Smart scan, with in-tree KSM's ladder (6.7+): a page that has been
 * visited three times without merging is skipped for 1, 2, 4 and then 8
 * passes between visits, depending on how often it was visited. A skipped
 * page leaves the unstable tree and is counted in pages_skipped. Kpages are
 * never skipped.
 */
static unsigned int skip_passes(u8 age)
{
	if (age <= 3)
		return 1;
	if (age <= 5)
		return 2;
	if (age <= 8)
		return 4;
	return 8;
}

static bool smart_skip(struct sp_rmap_item *item)
{
	u8 age;

	if (!READ_ONCE(samepage_knobs.smart_scan))
		return false;
	age = item->age;
	if (age != U8_MAX)
		item->age++;
	if (age < 3)
		return false;
	if (!item->remaining_skips) {
		item->remaining_skips = skip_passes(age);
		return false;
	}
	item->remaining_skips--;
	samepage_engine.c.pages_skipped++;
	sp_unstable_erase(item);
	return true;
}

/**
 * scan_page() - one visit of one address
 * @slot: its slot
 * @vma: its VMA (eligible; the mmap lock is held)
 * @addr: the address
 * @now: MERGE_RANGE: merge now, without waiting for the content to hold
 *	still for a pass, and without smart scan
 * @pc: the walk's PMD cache
 *
 * Return: the outcome, an enum samepage_why.
 */
static int scan_page(struct sp_mm_slot *slot, struct vm_area_struct *vma,
		     unsigned long addr, bool now, struct sp_pmd_cache *pc)
{
	struct samepage_engine *e = &samepage_engine;
	struct sp_rmap_item *item;
	struct page *page;
	struct sp_key key;
	int why;

	switch (sp_get_anon_page(vma, addr, &page, pc)) {
	case SP_PTE_HUGE:
		e->c.pages_skipped_thp++;
		sp_drop_items(slot, addr, addr + PAGE_SIZE);
		return SAMEPAGE_WHY_THP;
	case SP_PTE_NONE:
	case SP_PTE_NO_TABLE:
		sp_drop_items(slot, addr, addr + PAGE_SIZE);
		return SAMEPAGE_WHY_NOT_PRESENT;
	case SP_PTE_ZERO:
		item = xa_load(&slot->items, addr >> PAGE_SHIFT);
		if (item && item->zero)
			return SAMEPAGE_WHY_MERGED;
		if (item)		/* a read fault's zero page now */
			sp_drop_item(item);
		return SAMEPAGE_WHY_NOT_PRESENT;
	case SP_PTE_ANON:
		break;
	}
	why = SAMEPAGE_WHY_RACE;	/* no memory for an rmap_item */
	item = sp_get_item(slot, addr);
	if (!item)
		goto out;
	sp_set_zero(item, false);	/* our zero page, if any, was COWed */
	if (sp_is_kpage(page)) {
		e->c.pages_scanned++;
		if (item->node && item->node->kpage != page)
			sp_item_unlink(item);
		/* a forked child's copy of the mapping, counted like in-tree */
		if (!item->node) {
			struct sp_stable_node *node = sp_kpage_node(page);

			if (node)
				sp_item_link(item, node);
		}
		why = SAMEPAGE_WHY_MERGED;
		goto out;
	}
	if (item->node) {		/* merged, and written to since */
		if (e->c.full_scans - item->merged_at < SP_FAST_COW_PASSES)
			item->cooldown = SP_FAST_COW_PASSES;
		sp_item_unlink(item);
	}
	why = SAMEPAGE_WHY_SMART_SCAN;
	if (!now && smart_skip(item))
		goto out;
	e->c.pages_scanned++;
	sp_unstable_erase(item);

	key = page_key(slot, page);
	why = SAMEPAGE_WHY_VOLATILE;
	if (item->cooldown && !now) {	/* fast-changing: not re-merged at once */
		item->cooldown--;
		item->key = key;
		goto out;
	}
	if (!item->seen || key_differs(&item->key, &key)) {
		item->key = key;
		item->seen = true;
		if (!now)
			goto out;	/* new or volatile */
	}

	if (READ_ONCE(samepage_knobs.use_zero_pages) && key.hash == zero_hash) {
		why = try_merge(vma, addr, page, NULL, false);
		if (why == SAMEPAGE_WHY_MERGED) {
			sp_set_zero(item, true);
			goto out;
		}
	}
	why = merge_stable(vma, item, page);
	if (why < 0)
		why = merge_unstable(vma, addr, page, item);
out:
	put_page(page);
	return why;
}

/* Free unmapped kpages; returns how many no rmap_item maps but a PTE does. */
unsigned long sp_prune(void)
{
	last_prune = jiffies;
	return sp_kpage_prune();
}

/* The cursor wrapped: one full pass is done. */
static void end_full_pass(void)
{
	struct sp_counters *c = &samepage_engine.c;

	c->last_pass_visited = c->pass_visited;
	c->pass_visited = 0;
	sp_unstable_reset();
	c->full_scans++;
	sp_prune();
	trace_scan_stop(c->full_scans, c->last_pass_visited, c->pages_shared,
			c->pages_sharing);
	sp_advisor_end_pass();
}

/* @slot's pass is done: its outcomes become the last pass's. */
static void end_slot_pass(struct sp_mm_slot *slot)
{
	memcpy(slot->why_last, slot->why_cur, sizeof(slot->why_last));
	memset(slot->why_cur, 0, sizeof(slot->why_cur));
	slot->full_scans++;
}

enum slot_scan { SLOT_MORE, SLOT_DONE, SLOT_DEAD };

/* Scan up to *budget pages of @slot's mm from the cursor. */
static enum slot_scan scan_slot(struct sp_mm_slot *slot, unsigned int *budget)
{
	struct samepage_engine *e = &samepage_engine;
	struct mm_struct *mm = slot->mm;
	unsigned long next = e->cur_addr, s, end, addr;
	enum slot_scan ret = SLOT_DONE;
	struct sp_pmd_cache pc = { };
	struct vm_area_struct *vma;
	VMA_ITERATOR(vmi, mm, e->cur_addr);

	mmap_read_lock(mm);
	if (sp_mm_exiting(mm)) {
		mmap_read_unlock(mm);
		return SLOT_DEAD;
	}
	for_each_vma(vmi, vma) {
		int vwhy = sp_vma_why(vma);

		addr = max(vma->vm_start, e->cur_addr);
		while (sp_next_span(slot, vma, addr, vma->vm_end, &s, &end)) {
			sp_release_items(slot, next, s);
			next = end;
			addr = end;
			if (vwhy >= 0 || !vma->anon_vma) {
				/* nothing to visit: ineligible, or never faulted */
				slot->why_cur[vwhy >= 0 ? vwhy : SAMEPAGE_WHY_NOT_PRESENT] +=
					(end - s) >> PAGE_SHIFT;
				e->c.pass_visited += (end - s) >> PAGE_SHIFT;
				continue;
			}
			for (addr = s; addr < end; addr += PAGE_SIZE) {
				if (!*budget || sp_mm_exiting(mm)) {
					e->cur_addr = addr;
					ret = SLOT_MORE;
					goto out;
				}
				slot->why_cur[scan_page(slot, vma, addr, false, &pc)]++;
				e->c.pass_visited++;
				(*budget)--;
			}
		}
	}
	sp_release_items(slot, next, TASK_SIZE);
	end_slot_pass(slot);
out:
	mmap_read_unlock(mm);
	return ret;
}

/*
 * One batch: up to @budget pages, and never past the end of a full pass
 * (as in-tree ksm_do_scan()), so two visits of a page are always at least
 * one sleep_millisecs apart.
 */
static void scan_batch(unsigned int budget)
{
	struct samepage_engine *e = &samepage_engine;
	bool wrapped = false;

	/*
	 * Pages in per-CPU LRU batches hold an extra reference, which
	 * sp_replace_page() takes for a pin: drain them once per pass, as
	 * in-tree ksmd does (per batch would interrupt every CPU each time).
	 */
	if (!READ_ONCE(e->cur))
		SP_CALL0(lru_add_drain_all);
	mutex_lock(&e->lock);
	while (budget && !wrapped &&
	       READ_ONCE(samepage_knobs.run) == SP_RUN_MERGE) {
		struct sp_mm_slot *slot;

		if (!e->cur) {		/* a pass begins */
			sp_discover_madvised();
			e->cur = sp_next_slot(NULL);
			e->cur_addr = 0;
			if (!e->cur)
				break;
			if (trace_scan_start_enabled())	/* counting walks the list */
				trace_scan_start(e->c.full_scans + 1,
						 list_count_nodes(&e->slots));
			sp_advisor_start_pass();
		}
		slot = e->cur;
		switch (scan_slot(slot, &budget)) {
		case SLOT_MORE:
			break;
		case SLOT_DEAD:
			sp_free_slot(slot);	/* moves the cursor on */
			wrapped = !e->cur;
			break;
		case SLOT_DONE:
			e->cur = sp_next_slot(slot);
			e->cur_addr = 0;
			wrapped = !e->cur;
			break;
		}
		if (wrapped)
			end_full_pass();
		if (kthread_should_stop())
			break;
		cond_resched();
	}
	if (time_after(jiffies, last_prune +
		       msecs_to_jiffies(READ_ONCE(samepage_knobs.stable_node_chains_prune_millisecs))))
		sp_prune();
	mutex_unlock(&e->lock);
}

/**
 * sp_merge_range() - MERGE_RANGE: merge [@start, @end) of @mm now
 * @mm: the address space (the caller holds a reference)
 * @pid: its thread group's struct pid, should the range need registering
 * @start: page-aligned start
 * @end: page-aligned end
 * @own_uid: merge only with pages of the process's own uid (an unprivileged
 *	caller, under merge_scope=all: sp_key_scope())
 * @merged: out: pages saved (growth of pages_sharing + ksm_zero_pages)
 *
 * Every page of the range is visited once, like a scan would, except that
 * it need not have held still for a pass first. The range is registered if
 * it is not, so that samepaged keeps it merged and UNREGISTER undoes it.
 *
 * Return: 0 or a negative errno from registering.
 */
int sp_merge_range(struct mm_struct *mm, struct pid *pid, unsigned long start,
		   unsigned long end, bool own_uid, u64 *merged)
{
	struct samepage_engine *e = &samepage_engine;
	struct sp_pmd_cache pc = { };
	struct vm_area_struct *vma;
	struct sp_mm_slot *slot;
	unsigned long addr, before, s, se;
	int err;
	VMA_ITERATOR(vmi, mm, start);

	mutex_lock(&e->lock);
	slot = sp_find_slot(mm);
	err = slot && sp_next_span(slot, NULL, start, end, &s, &se) && s == start &&
	      se == end ? 0 : -ENOENT;
	mutex_unlock(&e->lock);
	if (err) {
		err = sp_register(mm, pid, start, end);
		if (err && err != -EEXIST)
			return err;
	}
	SP_CALL0(lru_add_drain_all);
	mutex_lock(&e->lock);
	slot = sp_find_slot(mm);
	before = e->c.pages_sharing + e->c.ksm_zero_pages;
	slot->own_uid_only = own_uid;
	mmap_read_lock(mm);
	for_each_vma_range(vmi, vma, end) {
		if (!sp_vma_eligible(vma))
			continue;
		for (addr = max(vma->vm_start, start); addr < min(vma->vm_end, end);
		     addr += PAGE_SIZE) {
			scan_page(slot, vma, addr, true, &pc);
			cond_resched();
		}
	}
	mmap_read_unlock(mm);
	slot->own_uid_only = false;
	*merged = e->c.pages_sharing + e->c.ksm_zero_pages - before;
	mutex_unlock(&e->lock);
	return 0;
}

static int samepaged_fn(void *unused)
{
	set_freezable();
	set_user_nice(current, 5);
	while (!kthread_should_stop()) {
		if (READ_ONCE(samepage_knobs.run) == SP_RUN_MERGE) {
			scan_batch(READ_ONCE(samepage_knobs.pages_to_scan));
			wait_event_freezable_timeout(samepaged_wait,
				kthread_should_stop(),
				msecs_to_jiffies(READ_ONCE(samepage_knobs.sleep_millisecs)));
		} else {
			/* exited processes and unmapped kpages go while idle too */
			mutex_lock(&samepage_engine.lock);
			sp_reap_slots();
			sp_prune();
			mutex_unlock(&samepage_engine.lock);
			wait_event_freezable_timeout(samepaged_wait,
				kthread_should_stop() ||
				READ_ONCE(samepage_knobs.run) == SP_RUN_MERGE, HZ);
		}
	}
	return 0;
}

int sp_scan_init(void)
{
	zero_hash = page_hash(ZERO_PAGE(0));
	samepaged = kthread_run(samepaged_fn, NULL, "samepaged");
	return PTR_ERR_OR_ZERO(samepaged);
}

void sp_scan_exit(void)
{
	kthread_stop(samepaged);
	sp_slots_exit();
}
