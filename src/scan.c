// SPDX-License-Identifier: GPL-2.0
/*
 * The samepaged kthread, its cursor over registered mms, VMAs and pages,
 * and what happens to one page.
 *
 * One pass visits every eligible page of every registered mm (or range),
 * round-robin, pages_to_scan pages per batch, sleeping sleep_millisecs
 * between batches; a batch never runs past the end of a pass. Per page: one
 * xxh64 of the content, looked up by hash in the stable tree, then in the
 * unstable tree; an equal hash is confirmed by one memcmp() before anything
 * is merged. Every address gets one outcome per pass (enum samepage_why),
 * the "why not merged" breakdown.
 *
 * The two-pass rule, and where samepage keeps it (see sight()): in-tree KSM
 * looks a page up in the stable tree on every visit, but enters it into the
 * unstable tree (or maps the zero page) only once its checksum held still
 * from one visit to the next, so a new page merges at the second pass that
 * sees it at the earliest. samepage keeps that rule for a page whose hash
 * changed since its last visit: such a page only merges into a stable kpage
 * and is volatile otherwise. A page seen for the first time goes all the
 * way (merge_first_sight, default 1): the merge compares the contents
 * under the page table lock, so a page that changes later costs a failed
 * compare or a COW break, never wrong data. That merges in one pass what
 * in-tree merges in two (time to converge, and tools that wait two passes
 * after madvise() of the second twin, as ksm_tests -N does).
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

/*
 * cow_cooldown_passes (default 0, in-tree's timing): a merged page written
 * to within that many passes of its merge is fast-changing, and counts as
 * volatile for as many visits before samepage tries to merge it again,
 * instead of merging and breaking it every pass.
 */

/*
 * The write-fault probe (hooks.c, cow_breaks) runs on every write fault of
 * every process while armed. It must be armed whenever a PTE may map a
 * kpage or a zero page samepage placed, i.e. whenever samepage could have
 * merged something: from before a scan batch or MERGE_RANGE that may merge
 * until nothing registered, no kpage and no such zero page remain. Then
 * samepaged disarms it (cow_probe_idle()), and the machine pays nothing.
 *
 * It lingers: samepaged disarms it only once samepage has needed it for
 * none of the last SP_PROBE_LINGER (@probe_used: the last time a merger
 * began or samepaged found something left). Arming and disarming rewrite
 * do_wp_page()'s first instruction while other CPUs run it; under QEMU's
 * multi-threaded TCG that sends a CPU faulting through it to address 0
 * (a tracefs kprobe toggled there crashes 6.12 and 7.2 guests without
 * samepage), so a process that registers, merges and leaves every few
 * hundred ms must not re-arm it each time. Linger only spaces the
 * rewrites out; the invariant below is what keeps the counts exact.
 *
 * Invariant: while @merging is non-zero, or any slot, kpage or samepage
 * zero page exists, @probe_armed is true and the probe is armed. Mergers
 * raise @merging and then read @probe_armed; cow_probe_idle() clears
 * @probe_armed and then reads @merging (each with a full barrier between),
 * so at least one of them sees the other: a merger that finds it clear
 * arms it again under @probe_lock, after the disarming is done.
 * Lock order: probe_lock -> samepage_engine.lock.
 */
static DEFINE_MUTEX(probe_lock);	/* arming and disarming; @probe_armed's writes */
static atomic_t merging = ATOMIC_INIT(0);
static bool probe_armed;
static unsigned long probe_used;	/* jiffies; written without a lock */
#define SP_PROBE_LINGER	(10 * HZ)

static void cow_probe_arm(void)
{
	mutex_lock(&probe_lock);
	if (!probe_armed && !sp_cow_probe_set(true))
		WRITE_ONCE(probe_armed, true);
	mutex_unlock(&probe_lock);
}

/* A scan batch or MERGE_RANGE that may merge begins (no engine lock held). */
static void merging_begin(bool arm)
{
	atomic_inc(&merging);
	if (arm)
		WRITE_ONCE(probe_used, jiffies);
	smp_mb__after_atomic();
	if (arm && !READ_ONCE(probe_armed))
		cow_probe_arm();
}

static void merging_end(void)
{
	atomic_dec(&merging);
}

/*
 * samepaged, no lock held: disarm the probe if nothing can be merged and
 * nothing needed it for SP_PROBE_LINGER.
 */
static void cow_probe_idle(void)
{
	struct samepage_engine *e = &samepage_engine;
	bool idle;

	if (!READ_ONCE(probe_armed) ||
	    time_before(jiffies, READ_ONCE(probe_used) + SP_PROBE_LINGER))
		return;
	mutex_lock(&probe_lock);
	mutex_lock(&e->lock);
	WRITE_ONCE(probe_armed, false);
	smp_mb();
	idle = !atomic_read(&merging) && list_empty(&e->slots) &&
	       !e->c.kernel_pages_allocated && !sp_zero_pages();
	if (!idle) {
		WRITE_ONCE(probe_armed, true);
		WRITE_ONCE(probe_used, jiffies);	/* linger from now */
	}
	mutex_unlock(&e->lock);
	if (idle && sp_cow_probe_set(false))
		WRITE_ONCE(probe_armed, true);	/* still armed: try again later */
	mutex_unlock(&probe_lock);
}

static struct task_struct *samepaged;


/**
 * sp_vma_why() - may samepage merge in @vma? (Documentation/design.md,
 * "Architecture")
 * @vma: the VMA
 *
 * Return: -1 for private anonymous memory samepage merges, else the
 * SAMEPAGE_WHY_VMA_* reason it does not.
 */
static int sp_vma_why(struct vm_area_struct *vma)
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
	/*
	 * mlock()ed memory merges, as in-tree: a kpage mapped in a VM_LOCKED
	 * VMA is mlocked by the rmap code (NR_MLOCK), munlocked when the
	 * last locked mapping goes, and cleared when it is freed.
	 * SAMEPAGE_WHY_VMA_LOCKED is no longer an outcome.
	 */
	if ((vma->vm_flags & other) || vma_is_dax(vma))
		return SAMEPAGE_WHY_VMA_OTHER;
	return -1;
}

/* Eligible and holding anonymous pages: worth walking. */
static bool sp_vma_eligible(struct vm_area_struct *vma)
{
	return sp_vma_why(vma) < 0 && vma->anon_vma;
}

static bool key_differs(const struct sp_key *a, const struct sp_key *b)
{
	return a->nid != b->nid || a->hash != b->hash || a->scope_kind != b->scope_kind ||
	       a->scope != b->scope;
}

static struct sp_key page_key(struct sp_mm_slot *slot, struct page *page)
{
	struct sp_key key = { .hash = sp_page_hash(page) };

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
 * Split @page's large folio (the caller holds a reference on it and the
 * folio lock): the PMD mapping, if any, becomes PTEs, and the lock and the
 * reference stay with @page's new small folio. Return: as try_merge().
 */
static int split_locked(struct page *page)
{
	struct folio *folio = page_folio(page);
	bool pmd_mapped = folio_test_pmd_mappable(folio);
	int err = sp_split_huge_page(page);

	if (err) {
		folio_unlock(folio);
		return err == -EBUSY || err == -EAGAIN ? SAMEPAGE_WHY_PINNED :
			SAMEPAGE_WHY_RACE;
	}
	if (pmd_mapped)
		samepage_engine.c.thp_split++;
	return 0;
}

/*
 * Lock both pages and map @kpage (NULL: the zero page) at @addr if the
 * content is the same, or (@fill, its key) fill the new @kpage from @page. A page
 * of a large folio is split off it first, as in-tree KSM does (the caller
 * decided that the huge page may go: see scan_thp()).
 * Return: SAMEPAGE_WHY_MERGED, _PINNED, _RACE or DIFFERS.
 */
static int try_merge(struct vm_area_struct *vma, unsigned long addr,
		     struct page *page, struct page *kpage, const struct sp_key *fill)
{
	struct folio *folio = page_folio(page);
	int err;

	if (kpage && folio == page_folio(kpage))
		return SAMEPAGE_WHY_MERGED;	/* never: the callers check */
	if (!folio_trylock(folio))
		return SAMEPAGE_WHY_RACE;
	if (folio_test_large(folio)) {
		err = split_locked(page);
		if (err)
			return err;
		folio = page_folio(page);
	}
	if (kpage)
		folio_lock(page_folio(kpage));
	err = sp_replace_page(vma, addr, page, kpage, fill);
	if (kpage)
		folio_unlock(page_folio(kpage));
	folio_unlock(folio);
	return err ? merge_error_why(err) : SAMEPAGE_WHY_MERGED;
}

/* Split the large folio that @page (referenced) belongs to. Return: as try_merge(). */
static int split_thp(struct page *page)
{
	if (!folio_trylock(page_folio(page)))
		return SAMEPAGE_WHY_RACE;
	if (!folio_test_large(page_folio(page))) {	/* split by someone else meanwhile */
		folio_unlock(page_folio(page));
		return 0;
	}
	if (split_locked(page))
		return SAMEPAGE_WHY_PINNED;	/* split_locked() unlocked it */
	folio_unlock(page_folio(page));
	return 0;
}

/* The partner could not be used and leaves the unstable tree. */
#define PARTNER_GONE	(-1)
/* The partner stays in its huge page for now (and in the unstable tree). */
#define PARTNER_KEEP	(-3)
/* The partner maps this very page (fork): nothing to merge, it stays. */
#define PARTNER_KEEP_SELF	(-4)

/*
 * Equal hashes led to different content: a collision only if both pages
 * still hash to @key. A page its process wrote between its visit and the
 * memcmp() (or a kpage filled from such a page) is a changed page, not a
 * collision: fuzz_concurrent once counted 6 of those.
 */
static void count_collision(struct page *a, struct page *b, const struct sp_key *key)
{
	if (sp_page_hash(a) == key->hash && sp_page_hash(b) == key->hash)
		samepage_engine.c.hash_collisions++;
}

/*
 * @page (visited with @key) and its partner differ: the partner leaves the
 * tree if it no longer has the hash it had there.
 */
static int partner_differs(struct page *page, struct page *ppage,
			   const struct sp_key *key)
{
	if (sp_page_hash(ppage) != key->hash)
		return PARTNER_GONE;
	count_collision(page, ppage, key);
	return SAMEPAGE_WHY_UNIQUE;
}

/*
 * Huge pages (Documentation/design.md, "Architecture"). In-tree KSM splits
 * a THP as soon as one of its subpages finds a twin, giving up the huge TLB
 * entry for 4 KiB.
 * samepage splits a PMD-mapped THP only once at least thp_min_mergeable of
 * its subpages have a partner (1: in-tree's behaviour): a kpage of the same
 * hash, a candidate of this pass with the same hash (inside the same huge
 * page too), or the zero page with use_zero_pages. The memcmp() that every
 * merge makes confirms each one.
 *
 * Partners are counted both ways. When scan_thp() visits a THP it counts
 * its own subpages' partners; and each of its subpages that is found as a
 * partner of another page (a candidate of another THP, or later, any page
 * that meets it in the unstable tree) adds one to that other THP's count.
 * The count lives in the rmap_item of the THP's first subpage
 * (@thp_hits, for one unstable-tree generation); @thp_hit marks a subpage
 * counted already. Two THPs with 100 equal subpages are therefore both
 * split in the pass in which the second is visited; two with 10 (below a
 * threshold of 64) both stay whole.
 *
 * PTE-mapped large folios (mTHP sizes, or THPs whose PMD was split) have
 * no such count: one of their subpages that merges splits them, as
 * in-tree. MERGE_RANGE follows the same rule.
 */

/* The rmap_item of the first subpage of @item's PMD-mapped THP, or NULL. */
static struct sp_rmap_item *thp_head_item(struct sp_rmap_item *item)
{
	unsigned long haddr = item->addr & PMD_MASK;
	struct sp_rmap_item *head = xa_load(&item->slot->items, haddr >> PAGE_SHIFT);
	u32 gen = (u32)sp_unstable_gen();

	if (head && head->thp_gen != gen) {
		head->thp_gen = gen;
		head->thp_hits = 0;
	}
	return head;
}

static unsigned int thp_threshold(void)
{
	return clamp_t(unsigned int, READ_ONCE(samepage_knobs.thp_min_mergeable), 1,
		       SP_PMD_PAGES);
}

/* @item, a subpage of a PMD-mapped THP, has a partner: count it once. */
static void thp_credit(struct sp_rmap_item *item)
{
	u32 gen = (u32)sp_unstable_gen();
	struct sp_rmap_item *head;

	if (item->thp_hit_gen == gen)
		return;
	head = thp_head_item(item);
	if (!head)
		return;
	item->thp_hit_gen = gen;
	if (head->thp_hits < SP_PMD_PAGES)
		head->thp_hits++;
}

/*
 * @partner, a subpage of a PMD-mapped THP, is the twin of the page being
 * merged: may its THP be split now? It is credited with this partner
 * first.
 */
static bool thp_may_split(struct sp_rmap_item *partner)
{
	struct sp_rmap_item *head;

	thp_credit(partner);
	head = thp_head_item(partner);
	return head && head->thp_hits >= thp_threshold();
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
 * (a collision that got past sp_page_ends_equal(), or a write since it was
 * hashed), @page gets its own page back: no kpage is ever left holding a
 * page that matched nothing. If the partner cannot merge for another
 * reason (pinned, busy), @page stays on the kpage, where later twins find
 * it. The partner's mm is only trylocked: samepaged already holds @vma's
 * mm, and must never wait on a second mmap lock.
 *
 * Return: SAMEPAGE_WHY_MERGED; _UNIQUE for a real hash collision (counted);
 * _VOLATILE when @page changed since its visit; _PINNED, _RACE,
 * _MAX_KERNEL_PAGES or _MEMCG_LIMIT when @page could not merge; PARTNER_GONE (unmapped, merged already, or changed since it was
 * hashed); PARTNER_KEEP (its THP stays whole for now) or PARTNER_KEEP_SELF
 * (it maps @page itself: a forked child's copy of the mapping).
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
	if (!pvma || !sp_vma_eligible(pvma))
		goto out_unlock;
	switch (sp_get_anon_page(pvma, partner->addr, &ppage, NULL)) {
	case SP_PTE_ANON:
		break;
	case SP_PTE_HUGE:
		if (thp_may_split(partner))
			break;
		why = PARTNER_KEEP;
		goto out_page;
	default:
		goto out_unlock;
	}
	if (sp_is_kpage(ppage))
		goto out_page;
	if (ppage == page) {
		/* the same page: a forked child's copy of the mapping */
		why = PARTNER_KEEP_SELF;
		goto out_page;
	}
	if (folio_test_large(page_folio(page)) && page_folio(ppage) == page_folio(page)) {
		/*
		 * Twins inside one large folio (an mTHP): the partner's
		 * reference would make the split fail, so split first.
		 */
		put_page(ppage);
		why = split_thp(page);
		if (why)
			goto out_unlock;
		why = PARTNER_GONE;
		if (sp_get_anon_page(pvma, partner->addr, &ppage, NULL) != SP_PTE_ANON)
			goto out_unlock;
	}
	if (!sp_page_ends_equal(page, ppage)) {
		why = partner_differs(page, ppage, &item->key);
		goto out_page;
	}
	node = sp_kpage_new(mm, page, &item->key);
	if (IS_ERR(node)) {
		why = PTR_ERR(node) == -EDQUOT ? SAMEPAGE_WHY_MEMCG_LIMIT :
						 SAMEPAGE_WHY_MAX_KERNEL_PAGES;
		goto out_page;
	}
	why = try_merge(vma, addr, page, node->kpage, &item->key);
	if (why == DIFFERS)		/* written since its visit */
		why = SAMEPAGE_WHY_VOLATILE;
	if (why != SAMEPAGE_WHY_MERGED)
		goto out_prune;
	switch (try_merge(pvma, partner->addr, ppage, node->kpage, NULL)) {
	case SAMEPAGE_WHY_MERGED:
		sp_unstable_erase(partner);
		sp_item_link(partner, node);
		sp_item_link(item, node);
		break;
	case DIFFERS:
		sp_unmerge_scanned(mm, addr, addr + PAGE_SIZE);	/* its own page back */
		why = partner_differs(node->kpage, ppage, &item->key);
		break;
	default:			/* pinned or busy: @page waits there */
		sp_item_link(item, node);
		break;
	}
out_prune:
	sp_kpage_drop(node);	/* if nothing merged: free it now */
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
		if (w == SAMEPAGE_WHY_MERGED || w == SAMEPAGE_WHY_VOLATILE)
			return w;	/* volatile: its key is stale, no candidate */
		if (w == PARTNER_GONE)
			sp_unstable_erase(partner);
		else if (w == PARTNER_KEEP)
			why = SAMEPAGE_WHY_THP;	/* its twin stays huge */
		else if (w == PARTNER_KEEP_SELF)
			continue;	/* the page itself, not a twin (as in-tree) */
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

	/*
	 * A full kpage is passed over without a compare, as in-tree's chain
	 * walk passes over a full dup: comparing it only ever counted a
	 * collision. A content with many full dups (zero pages without
	 * use_zero_pages: one per 256 pages) made that a memcmp() per full
	 * dup for every page that joined the chain, most of samepaged's
	 * memcmp() time in W1 (perf).
	 */
	for (node = sp_stable_find(&item->key); node; node = sp_stable_next(node)) {
		if (node->sharers >= max)	/* full: try a dup */
			continue;
		why = try_merge(vma, item->addr, page, node->kpage, NULL);
		if (why == DIFFERS) {		/* compared in sp_replace_page() */
			count_collision(page, node->kpage, &item->key);
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
 * passes between visits, depending on how often it was visited, and
 * counted in pages_skipped. Kpages are never skipped. Unlike in-tree, a
 * twin that appears meanwhile does not wait for the skipped page's next
 * visit: a page due for a skip whose last key is in either tree now (a
 * lookup by hash, no page read) is visited instead, and a skipped page
 * stays in the unstable tree, dormant, for twins that come after it in
 * the pass (sp_unstable_keep()).
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
	if (item->seen && (sp_unstable_find(&item->key) || sp_stable_find(&item->key)))
		return false;		/* a twin may be there: look */
	item->remaining_skips--;
	samepage_engine.c.pages_skipped++;
	sp_unstable_keep(item);		/* findable by a new twin */
	return true;
}

/* What a visit may do with a page, from what its previous visits saw. */
enum sight {
	SIGHT_STEADY,	/* the same hash as at the last visit, or a first sight */
	SIGHT_CHANGED,	/* a different hash (or a first sight, merge_first_sight=0) */
	SIGHT_COOLING,	/* a fast COW breaker, waiting (cow_cooldown_passes) */
};

/*
 * Classify @item's content @key against its previous visits, and record
 * @key. @now (MERGE_RANGE) asks for a merge whatever the history. A
 * fast-changing page (written to soon after a merge) is cooling for a few
 * more visits.
 */
static enum sight sight(struct sp_rmap_item *item, const struct sp_key *key, bool now)
{
	bool first = !item->seen;
	bool changed = !first && key_differs(&item->key, key);

	item->key = *key;
	item->seen = true;
	if (now)
		return SIGHT_STEADY;
	if (item->cooldown) {
		item->cooldown--;
		return SIGHT_COOLING;
	}
	if (changed || (first && !READ_ONCE(samepage_knobs.merge_first_sight)))
		return SIGHT_CHANGED;
	return SIGHT_STEADY;
}

/*
 * Merge the anonymous @page mapped at @addr (referenced; maybe a subpage of
 * a large folio, which a merge splits) whose content is @key, as @seen
 * classified it. Return the outcome, an enum samepage_why.
 */
static int merge_page(struct vm_area_struct *vma, struct sp_rmap_item *item,
		      struct page *page, const struct sp_key *key, enum sight seen)
{
	int why;

	if (seen == SIGHT_COOLING)
		return SAMEPAGE_WHY_VOLATILE;
	/* a changing page may join a kpage (as in-tree), nothing else */
	if (seen == SIGHT_STEADY && READ_ONCE(samepage_knobs.use_zero_pages) &&
	    sp_hash_is_zero(key->hash)) {
		why = try_merge(vma, item->addr, page, NULL, NULL);
		if (why == SAMEPAGE_WHY_MERGED) {
			sp_set_zero(item, true);
			return why;
		}
	}
	why = merge_stable(vma, item, page);
	if (why >= 0)
		return why;
	if (seen == SIGHT_CHANGED)
		return SAMEPAGE_WHY_VOLATILE;
	return merge_unstable(vma, item->addr, page, item);
}

/*
 * The part of a visit before the content is looked at: the rmap_item of
 * @addr (NULL without memory), and whether @page maps a kpage already or
 * is skipped. Sets *@why when the visit ends here.
 */
static struct sp_rmap_item *visit_item(struct sp_mm_slot *slot, unsigned long addr,
				       struct page *page, bool now, int *why)
{
	struct samepage_engine *e = &samepage_engine;
	struct sp_rmap_item *item;

	*why = SAMEPAGE_WHY_RACE;	/* no memory for an rmap_item */
	item = sp_get_item(slot, addr);
	if (!item)
		return NULL;
	sp_set_zero(item, false);	/* our zero page, if any, was COWed */
	item->in_thp = false;
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
		*why = SAMEPAGE_WHY_MERGED;
		return NULL;
	}
	if (item->node) {		/* merged, and written to since */
		unsigned int cool = READ_ONCE(samepage_knobs.cow_cooldown_passes);

		if (e->c.full_scans - item->merged_at < cool)
			item->cooldown = cool;
		sp_item_unlink(item);
	}
	*why = SAMEPAGE_WHY_SMART_SCAN;
	if (!now && smart_skip(item))
		return NULL;
	e->c.pages_scanned++;
	sp_unstable_erase(item);
	return item;
}

/**
 * scan_page() - one visit of one address mapped by a PTE
 * @slot: its slot
 * @vma: its VMA (eligible; the mmap lock is held)
 * @addr: the address
 * @page: the anonymous page mapped there (referenced; the caller puts it)
 * @now: MERGE_RANGE: merge now, without waiting for the content to hold
 *	still for a pass, and without smart scan
 *
 * Return: the outcome, an enum samepage_why.
 */
static int scan_page(struct sp_mm_slot *slot, struct vm_area_struct *vma,
		     unsigned long addr, struct page *page, bool now)
{
	struct sp_rmap_item *item;
	struct sp_key key;
	int why;

	item = visit_item(slot, addr, page, now, &why);
	if (!item)
		return why;
	key = page_key(slot, page);
	return merge_page(vma, item, page, &key, sight(item, &key, now));
}

/*
 * Outcomes of one visit that may cover several addresses (a huge page, a
 * stretch without page table): counted per address into the slot's
 * why-not-merged breakdown.
 */
struct visit {
	struct sp_mm_slot *slot;
	struct vm_area_struct *vma;
	bool now;
	struct sp_pmd_cache *pc;
};

static void outcome(struct visit *v, int why, unsigned long pages)
{
	if (v->now)		/* MERGE_RANGE is not part of a pass */
		return;
	v->slot->why_cur[why] += pages;
	samepage_engine.c.pass_visited += pages;
}

/*
 * Outcomes of the subpages of a THP left whole that held still (@ready):
 * @why (pinned, busy) if splitting failed; else SAMEPAGE_WHY_THP for each
 * one with a partner, found this pass from either side, and
 * SAMEPAGE_WHY_UNIQUE for the others.
 */
static void thp_outcomes(struct visit *v, unsigned long addr, unsigned long end,
			 const unsigned long *ready, int why)
{
	u32 gen = (u32)sp_unstable_gen();
	unsigned long a;

	for (a = addr; a < end; a += PAGE_SIZE) {
		struct sp_rmap_item *item;

		if (!test_bit((a & ~PMD_MASK) >> PAGE_SHIFT, ready))
			continue;
		item = xa_load(&v->slot->items, a >> PAGE_SHIFT);
		if (why == SAMEPAGE_WHY_THP && !(item && item->thp_hit_gen == gen))
			outcome(v, SAMEPAGE_WHY_UNIQUE, 1);
		else
			outcome(v, why, 1);
	}
}

/**
 * scan_thp() - visit the part [@addr, @end) of a PMD-mapped THP
 * @v: the visit
 * @addr: first address (inside the THP; @page is mapped there)
 * @end: end of the part to visit (at most the end of the THP)
 * @page: the subpage at @addr, referenced (put here)
 *
 * Hashes every subpage of the part and counts those with a partner (see
 * the block comment above thp_head_item()). Below the threshold the THP
 * stays whole: its subpages wait in the unstable tree (where they count
 * for other THPs), those with a partner are counted as SAMEPAGE_WHY_THP
 * and the part in pages_skipped_thp. At the threshold the THP is split,
 * and each subpage that held still merges as a small page would.
 */
static void scan_thp(struct visit *v, unsigned long addr, unsigned long end,
		     struct page *page)
{
	DECLARE_BITMAP(ready, SP_PMD_PAGES);
	struct page *first = page - ((addr & ~PMD_MASK) >> PAGE_SHIFT);
	bool zero_ok = READ_ONCE(samepage_knobs.use_zero_pages);
	unsigned long a, partners = 0, total;
	struct sp_rmap_item *item, *head;
	int why;

	bitmap_zero(ready, SP_PMD_PAGES);
	for (a = addr; a < end; a += PAGE_SIZE) {
		unsigned int i = (a & ~PMD_MASK) >> PAGE_SHIFT;
		struct sp_rmap_item *twin;
		struct sp_key key;

		item = visit_item(v->slot, a, first + i, v->now, &why);
		if (!item) {
			outcome(v, why, 1);
			continue;
		}
		item->in_thp = true;
		key = page_key(v->slot, first + i);
		if (sight(item, &key, v->now) != SIGHT_STEADY) {	/* as in-tree */
			outcome(v, SAMEPAGE_WHY_VOLATILE, 1);
			continue;
		}
		__set_bit(i, ready);
		if (sp_stable_find(&key) || (zero_ok && sp_hash_is_zero(key.hash))) {
			thp_credit(item);
			partners++;
			continue;
		}
		twin = sp_unstable_find(&key);
		if (twin) {
			thp_credit(item);
			partners++;
			if (twin->in_thp)
				thp_credit(twin);	/* its THP has a partner too */
		}
		sp_unstable_insert(item);
	}
	head = xa_load(&v->slot->items, (addr & PMD_MASK) >> PAGE_SHIFT);
	head = head ? thp_head_item(head) : NULL;
	total = head ? head->thp_hits : partners;	/* no head item: this part */

	why = SAMEPAGE_WHY_THP;
	if (partners && total >= thp_threshold())
		why = split_thp(page);
	put_page(page);
	if (why) {			/* left whole */
		samepage_engine.c.pages_skipped_thp += (end - addr) >> PAGE_SHIFT;
		thp_outcomes(v, addr, end, ready, why);
		return;
	}
	for (a = addr; a < end; a += PAGE_SIZE) {
		unsigned int i = (a & ~PMD_MASK) >> PAGE_SHIFT;
		struct page *sub;

		if (!test_bit(i, ready))
			continue;
		item = xa_load(&v->slot->items, a >> PAGE_SHIFT);
		if (!item)		/* cannot happen: the mmap lock is held */
			continue;
		item->in_thp = false;
		sp_unstable_erase(item);
		switch (sp_get_anon_page(v->vma, a, &sub, v->pc)) {
		case SP_PTE_ANON:
			/* merged meanwhile, as the partner of an earlier subpage */
			if (item->node || sp_is_kpage(sub))
				why = SAMEPAGE_WHY_MERGED;
			else
				why = merge_page(v->vma, item, sub, &item->key,
						 SIGHT_STEADY);
			outcome(v, why, 1);
			put_page(sub);
			break;
		case SP_PTE_HUGE:	/* collapsed again already */
			put_page(sub);
			fallthrough;
		default:
			outcome(v, SAMEPAGE_WHY_RACE, 1);
			break;
		}
	}
}

/**
 * visit_addr() - one step of a walk: the address @addr, or more
 * @v: the visit
 * @addr: the address
 * @end: end of the registered stretch of @v->vma it is in
 * @cost: out: the step's cost against pages_to_scan
 *
 * A stretch without a page table is one step that costs nothing against
 * pages_to_scan (its items go; sp_table_gap_end() finds where it ends, a
 * PUD or more at a time where those are empty), as in-tree's range walk
 * counts only the pages it looks at; each page of a THP is visited with
 * the others (scan_thp()).
 *
 * Return: how many addresses the step covered (at least 1).
 */
static unsigned long visit_addr(struct visit *v, unsigned long addr,
				unsigned long end, unsigned long *cost)
{
	struct sp_rmap_item *item;
	unsigned long next;
	struct page *page;
	int why;

	next = addr + PAGE_SIZE;
	switch (sp_get_anon_page(v->vma, addr, &page, v->pc)) {
	case SP_PTE_HUGE:
		next = min(ALIGN(next, PMD_SIZE), end);
		scan_thp(v, addr, next, page);
		*cost = (next - addr) >> PAGE_SHIFT;
		return *cost;
	case SP_PTE_NO_TABLE:
		next = sp_table_gap_end(v->vma->vm_mm, addr, end);
		sp_drop_items(v->slot, addr, next);
		outcome(v, SAMEPAGE_WHY_NOT_PRESENT, (next - addr) >> PAGE_SHIFT);
		*cost = 0;
		return (next - addr) >> PAGE_SHIFT;
	case SP_PTE_NONE:
		/* and the empty entries after it, at no cost */
		next = sp_pte_gap_end(v->vma->vm_mm, addr, end);
		sp_drop_items(v->slot, addr, next);
		outcome(v, SAMEPAGE_WHY_NOT_PRESENT, (next - addr) >> PAGE_SHIFT);
		*cost = 1;
		return (next - addr) >> PAGE_SHIFT;
	case SP_PTE_ZERO:
		item = xa_load(&v->slot->items, addr >> PAGE_SHIFT);
		why = SAMEPAGE_WHY_MERGED;
		if (item && item->zero)
			break;
		if (item)		/* a read fault's zero page now */
			sp_drop_item(item);
		why = SAMEPAGE_WHY_NOT_PRESENT;
		break;
	case SP_PTE_ANON:
		why = scan_page(v->slot, v->vma, addr, page, v->now);
		put_page(page);
		break;
	}
	outcome(v, why, 1);
	*cost = 1;
	return 1;
}

/* Registered slots (list_count_nodes() is missing from older 6.1 updates). */
static unsigned long count_slots(void)
{
	struct list_head *pos;
	unsigned long n = 0;

	list_for_each(pos, &samepage_engine.slots)
		n++;
	return n;
}

/*
 * kpages moved per pass end or prune (compact.c): the scan's own budget,
 * and never less than two arenas' worth, so that merged memory packed
 * after a churn does not wait for many passes at the default knobs.
 */
static unsigned int compact_budget(void)
{
	return max_t(unsigned int, READ_ONCE(samepage_knobs.pages_to_scan),
		     2 * SP_PMD_PAGES);
}

/* The cursor wrapped: one full pass is done. */
static void end_full_pass(void)
{
	struct sp_counters *c = &samepage_engine.c;

	c->last_pass_visited = c->pass_visited;
	c->pass_visited = 0;
	sp_unstable_next_pass();
	c->full_scans++;
	sp_prune();
	sp_compact(compact_budget());
	sp_publish_all();	/* merges moved partners' counts after their pass */
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

/**
 * sp_release_items() - the cursor passed [@start, @end) without visiting it
 * @slot: the slot (its mm's mmap lock is held for read, not mm_users)
 * @start: start
 * @end: end
 *
 * Whatever samepage merged there is given back first: the area was
 * unregistered, or stopped being VM_MERGEABLE (MADV_UNMERGEABLE,
 * PR_SET_MEMORY_MERGE=0), or in-tree KSM took it over. Then the items go.
 */
static void sp_release_items(struct sp_mm_slot *slot, unsigned long start,
			     unsigned long end)
{
	struct sp_rmap_item *item;
	unsigned long idx;

	if (start >= end)
		return;
	xa_for_each_range(&slot->items, idx, item, start >> PAGE_SHIFT,
			  (end >> PAGE_SHIFT) - 1) {
		if (!item->node && !item->zero)
			continue;
		sp_unmerge_scanned(slot->mm, start, end);
		break;
	}
	sp_drop_items(slot, start, end);
}

/*
 * Should the walk let go of the mmap lock at @addr? At a PMD boundary, when
 * a writer waits for the lock or the CPU is wanted: the walk holds it for
 * one page table at most while others need it (in-tree ksmd takes it per
 * page).
 */
static bool walk_should_yield(struct mm_struct *mm, unsigned long addr)
{
	return IS_ALIGNED(addr, PMD_SIZE) &&
	       (need_resched() || mmap_lock_is_contended(mm));
}

/**
 * scan_slot() - scan up to *@budget pages of @slot's mm from the cursor
 * @slot: the cursor's slot
 * @budget: pages left in this batch; lowered by what was scanned
 *
 * Stretches that samepage passes without visiting (not registered, or
 * registered in an ineligible VMA) lose their rmap_items, after whatever
 * was merged there is given back (sp_release_items()).
 *
 * Return: SLOT_DONE at the end of the mm, SLOT_DEAD if it is exiting, else
 * SLOT_MORE (the budget ran out, or the walk yielded the mmap lock; the
 * cursor says where to go on).
 */
static enum slot_scan scan_slot(struct sp_mm_slot *slot, unsigned int *budget)
{
	struct samepage_engine *e = &samepage_engine;
	struct mm_struct *mm = slot->mm;
	unsigned long next = e->cur_addr, s, end, addr, cost;
	enum slot_scan ret = SLOT_DONE;
	struct sp_pmd_cache pc = { };
	struct visit v = { .slot = slot, .now = false, .pc = &pc };
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
		v.vma = vma;
		while (sp_next_span(slot, vma, addr, vma->vm_end, &s, &end)) {
			addr = end;
			if (vwhy >= 0 || !vma->anon_vma) {
				/* nothing to visit: ineligible, or never faulted */
				outcome(&v, vwhy >= 0 ? vwhy : SAMEPAGE_WHY_NOT_PRESENT,
					(end - s) >> PAGE_SHIFT);
				continue;	/* its items go with the next release */
			}
			sp_release_items(slot, next, s);
			next = end;
			for (addr = s; addr < end; ) {
				if (!*budget || sp_mm_exiting(mm) ||
				    (addr != s && walk_should_yield(mm, addr))) {
					e->cur_addr = addr;
					ret = SLOT_MORE;
					goto out;
				}
				addr += visit_addr(&v, addr, end, &cost) << PAGE_SHIFT;
				*budget -= min_t(unsigned long, cost, *budget);
				cond_resched();
			}
		}
	}
	sp_release_items(slot, next, TASK_SIZE);
	end_slot_pass(slot);
out:
	mmap_read_unlock(mm);
	if (ret == SLOT_DONE)
		sp_publish_counts(slot);	/* no mmap lock held: see there */
	return ret;
}

/*
 * One batch: up to @budget pages, and never past the end of a full pass
 * (as in-tree ksm_do_scan()), so two visits of a page are always at least
 * one sleep_millisecs apart.
 */
static bool scan_batch(unsigned int budget)
{
	struct samepage_engine *e = &samepage_engine;
	bool wrapped = false, idle = false;

	/*
	 * Pages in per-CPU LRU batches hold an extra reference, which
	 * sp_replace_page() takes for a pin: drain them once per pass, as
	 * in-tree ksmd does (per batch would interrupt every CPU each time),
	 * and only when there is something to scan.
	 */
	if (!READ_ONCE(e->cur) && !list_empty(&e->slots))
		sp_lru_add_drain_all();
	merging_begin(!list_empty(&e->slots));
	mutex_lock(&e->lock);
	while (budget && !wrapped &&
	       READ_ONCE(samepage_knobs.run) == SP_RUN_MERGE) {
		struct sp_mm_slot *slot;

		if (!e->cur) {		/* a pass begins */
			sp_discover_madvised();
			e->cur = sp_next_slot(NULL);
			e->cur_addr = 0;
			if (!e->cur) {
				idle = true;	/* nothing registered */
				break;
			}
			if (trace_scan_start_enabled())	/* counting walks the list */
				trace_scan_start(e->c.full_scans + 1,
						 count_slots());
			sp_advisor_start_pass();
		}
		/* a slot came meanwhile: the next batch arms the probe first */
		if (!READ_ONCE(probe_armed))
			break;
		slot = e->cur;
		switch (scan_slot(slot, &budget)) {
		case SLOT_MORE:
			break;
		case SLOT_DEAD: {
			unsigned int chunk = SP_REAP_CHUNK;

			/* freeing it moves the cursor on; else the rest goes later */
			if (!sp_reap_slot(slot, &chunk)) {
				e->cur = sp_next_slot(slot);
				e->cur_addr = 0;
			}
			wrapped = !e->cur;
			break;
		}
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
	if (sp_prune_due()) {
		sp_prune();
		sp_compact(compact_budget());
	}
	mutex_unlock(&e->lock);
	merging_end();
	return idle;
}

/* Is [@start, @end) one registered span of @slot (engine lock held)? */
static bool range_registered(struct sp_mm_slot *slot, unsigned long start,
			     unsigned long end)
{
	unsigned long s, e;

	lockdep_assert_held(&samepage_engine.lock);
	return slot && sp_next_span(slot, NULL, start, end, &s, &e) &&
	       s == start && e == end;
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
 * The engine lock is held from the registration to the last page: the
 * slot found is the slot scanned. (An UNREGISTER from another thread waits,
 * then undoes the whole call.)
 *
 * Return: 0 or a negative errno from registering.
 */
int sp_merge_range(struct mm_struct *mm, struct pid *pid, unsigned long start,
		   unsigned long end, bool own_uid, u64 *merged)
{
	struct samepage_engine *e = &samepage_engine;
	struct sp_range *r = sp_range_new(start, end);
	struct sp_pmd_cache pc = { };
	struct visit v = { .now = true, .pc = &pc };
	struct vm_area_struct *vma;
	struct sp_mm_slot *slot;
	unsigned long addr, cost;
	long before, saved;
	int err;
	VMA_ITERATOR(vmi, mm, start);

	if (!r)
		return -ENOMEM;
	sp_lru_add_drain_all();
	merging_begin(true);
	mutex_lock(&e->lock);
	slot = sp_find_slot(mm);
	if (range_registered(slot, start, end)) {
		kfree(r);
	} else {
		err = __sp_register(mm, pid, r);
		if (err && err != -EEXIST)
			goto out;
		slot = sp_find_slot(mm);
	}
	before = e->c.pages_sharing + sp_zero_pages();
	v.slot = slot;
	slot->own_uid_only = own_uid;
	mmap_read_lock(mm);
	for_each_vma_range(vmi, vma, end) {
		unsigned long vend = min(vma->vm_end, end);

		if (!sp_vma_eligible(vma))
			continue;
		v.vma = vma;
		for (addr = max(vma->vm_start, start); addr < vend; ) {
			if (sp_mm_exiting(mm) || fatal_signal_pending(current))
				break;
			addr += visit_addr(&v, addr, vend, &cost) << PAGE_SHIFT;
			cond_resched();
		}
	}
	mmap_read_unlock(mm);
	slot->own_uid_only = false;
	sp_publish_all();	/* partners' counts changed too */
	/* others' unmerges meanwhile can make the difference negative */
	saved = (long)(e->c.pages_sharing + sp_zero_pages()) - before;
	*merged = saved > 0 ? saved : 0;
	err = 0;
out:
	mutex_unlock(&e->lock);
	merging_end();
	return err;
}

static int samepaged_fn(void *unused)
{
	set_freezable();
	set_user_nice(current, 5);
	while (!kthread_should_stop()) {
		if (READ_ONCE(samepage_knobs.run) == SP_RUN_MERGE) {
			bool idle;

			WRITE_ONCE(samepage_engine.wake_pending, false);
			idle = scan_batch(READ_ONCE(samepage_knobs.pages_to_scan));
			if (idle)
				cow_probe_idle();

			/*
			 * Nothing registered: like ksmd with no mm, sleep until a
			 * registration wakes us (sp_scan_wake()), polling for
			 * madvised processes once a second.
			 */
			wait_event_freezable_timeout(samepage_engine.wait,
				kthread_should_stop() ||
				(idle && READ_ONCE(samepage_engine.wake_pending)),
				idle ? HZ : msecs_to_jiffies(READ_ONCE(samepage_knobs.sleep_millisecs)));
		} else {
			bool more = false;

			/* exited processes and unmapped kpages go while idle too */
			mutex_lock(&samepage_engine.lock);
			sp_reap_slots(&more);
			if (!more)	/* a prune walks every kpage: once, at the end */
				sp_prune();
			mutex_unlock(&samepage_engine.lock);
			if (more) {	/* the lock is free between two chunks */
				cond_resched();
				continue;
			}
			cow_probe_idle();
			wait_event_freezable_timeout(samepage_engine.wait,
				kthread_should_stop() ||
				READ_ONCE(samepage_knobs.run) == SP_RUN_MERGE, HZ);
		}
	}
	return 0;
}

int sp_scan_init(void)
{
	sp_page_init();
	samepaged = kthread_run(samepaged_fn, NULL, "samepaged");
	return PTR_ERR_OR_ZERO(samepaged);
}

void sp_scan_exit(void)
{
	kthread_stop(samepaged);
	sp_slots_exit();
}
