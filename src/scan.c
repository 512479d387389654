// SPDX-License-Identifier: GPL-2.0
/*
 * The samepaged kthread, registration, and the cursor over registered mms,
 * VMAs and pages.
 *
 * One pass visits every eligible page of every registered mm (or range),
 * round-robin, pages_to_scan pages per batch, sleeping sleep_millisecs
 * between batches. Per page: one xxh64 of the content. A page whose hash
 * differs from the previous pass's is volatile and goes no further (the
 * checksum test comes before any tree search). A stable page is looked up
 * by hash in the stable tree, then in the unstable tree; an equal hash is
 * confirmed by one memcmp() before anything is merged.
 *
 * rmap_items of addresses the cursor passes without visiting (unmapped,
 * ineligible, unregistered) are dropped as it passes, as in-tree KSM does,
 * so that counters such as ksm_zero_pages are exact after a pass.
 */
#define pr_fmt(fmt) "samepage: " fmt

#include <linux/kthread.h>
#include <linux/freezer.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
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

/* DESIGN.md 2.2: private anonymous memory only. */
bool sp_vma_eligible(struct vm_area_struct *vma)
{
	vm_flags_t bad = VM_SHARED | VM_MAYSHARE | VM_PFNMAP | VM_IO |
			 VM_DONTEXPAND | VM_HUGETLB | VM_MIXEDMAP | VM_LOCKED |
			 VM_LOCKONFAULT;

#ifdef VM_DROPPABLE
	bad |= VM_DROPPABLE;
#endif
#ifdef CONFIG_HAVE_ARCH_USERFAULTFD_WP
	bad |= VM_UFFD_WP;
#endif
	return !(vma->vm_flags & bad) && !vma_is_dax(vma) && vma->anon_vma;
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
	return a->nid != b->nid || a->hash != b->hash;
}

static struct sp_key page_key(struct page *page)
{
	struct sp_key key = { .hash = page_hash(page) };

	if (!READ_ONCE(samepage_knobs.merge_across_nodes))
		key.nid = page_to_nid(page);
	return key;
}

/* Lock both pages and map @kpage (NULL: the zero page) at @addr. */
static int try_merge(struct vm_area_struct *vma, unsigned long addr,
		     struct page *page, struct page *kpage)
{
	struct folio *folio = page_folio(page);
	int err;

	if (!folio_trylock(folio))
		return -EAGAIN;
	if (kpage)
		folio_lock(page_folio(kpage));
	err = sp_replace_page(vma, addr, page, kpage);
	if (kpage)
		folio_unlock(page_folio(kpage));
	folio_unlock(folio);
	return err;
}

static struct sp_rmap_item *get_item(struct sp_mm_slot *slot, unsigned long addr)
{
	struct sp_rmap_item *item = xa_load(&slot->items, addr >> PAGE_SHIFT);

	if (item)
		return item;
	item = kzalloc(sizeof(*item), GFP_KERNEL);
	if (!item)
		return NULL;
	item->slot = slot;
	item->addr = addr;
	if (xa_err(xa_store(&slot->items, addr >> PAGE_SHIFT, item, GFP_KERNEL))) {
		kfree(item);
		return NULL;
	}
	samepage_engine.c.rmap_items++;
	return item;
}

static void set_zero(struct sp_rmap_item *item, bool zero)
{
	if (item->zero != zero)
		samepage_engine.c.ksm_zero_pages += zero ? 1 : -1;
	item->zero = zero;
}

/* Forget @item: it leaves every tree and counter. */
static void drop_item(struct sp_rmap_item *item)
{
	struct sp_mm_slot *slot = item->slot;

	sp_item_unlink(item);
	sp_unstable_erase(item);
	set_zero(item, false);
	xa_erase(&slot->items, item->addr >> PAGE_SHIFT);
	kfree(item);
	samepage_engine.c.rmap_items--;
}

/* Drop the items of [@start, @end): the cursor passed them unvisited. */
static void drop_items(struct sp_mm_slot *slot, unsigned long start,
		       unsigned long end)
{
	struct sp_rmap_item *item;
	unsigned long idx;

	if (start >= end)
		return;
	xa_for_each_range(&slot->items, idx, item, start >> PAGE_SHIFT,
			  (end >> PAGE_SHIFT) - 1)
		drop_item(item);
}

enum partner_result { PARTNER_MERGED, PARTNER_DIFFERENT, PARTNER_GONE };

/**
 * merge_with_partner() - merge @page with the unstable-tree candidate @partner
 * @vma: VMA of @addr (its mm's mmap lock is held)
 * @addr: address of @page
 * @page: the page being scanned (referenced)
 * @item: its rmap_item
 * @partner: an unstable-tree item with the same key
 *
 * Both go into a new kpage once memcmp() confirms they are equal. The
 * partner's mm is only trylocked: samepaged already holds @vma's mm, and
 * must never wait on a second mmap lock.
 *
 * Return: PARTNER_MERGED (@page is merged now), PARTNER_DIFFERENT (a real
 * hash collision, counted; or a page that is busy or pinned now), or
 * PARTNER_GONE (the partner is unmapped, merged already, or changed since
 * it was hashed: it leaves the tree).
 */
static enum partner_result merge_with_partner(struct vm_area_struct *vma,
					      unsigned long addr,
					      struct page *page,
					      struct sp_rmap_item *item,
					      struct sp_rmap_item *partner)
{
	struct mm_struct *pmm = partner->slot->mm, *mm = vma->vm_mm;
	enum partner_result ret = PARTNER_GONE;
	struct vm_area_struct *pvma;
	struct sp_stable_node *node;
	struct page *ppage;
	bool locked = false;

	if (pmm != mm) {
		if (!mmget_not_zero(pmm))
			return PARTNER_GONE;
		if (!mmap_read_trylock(pmm)) {
			ret = PARTNER_DIFFERENT;	/* busy: next pass */
			goto out_put;
		}
		locked = true;
	}
	pvma = vma_lookup(pmm, partner->addr);
	if (!pvma || !sp_vma_eligible(pvma) ||
	    sp_get_anon_page(pvma, partner->addr, &ppage) != SP_PTE_ANON)
		goto out_unlock;
	if (sp_is_kpage(ppage))
		goto out_page;
	if (!sp_pages_equal(page, ppage)) {
		/* a collision only if the partner still has the hash */
		if (page_hash(ppage) == item->key.hash) {
			samepage_engine.c.hash_collisions++;
			ret = PARTNER_DIFFERENT;
		}
		goto out_page;
	}
	node = sp_kpage_new(page, &item->key);
	if (!node) {
		ret = PARTNER_DIFFERENT;	/* max_kernel_pages: keep both */
		goto out_page;
	}
	/*
	 * The partner follows only if @page merged: a kpage with one sharer
	 * would cost a page and save none. A pinned or busy page is tried
	 * again next pass.
	 */
	if (!try_merge(vma, addr, page, node->kpage)) {
		sp_item_link(item, node);
		if (!try_merge(pvma, partner->addr, ppage, node->kpage)) {
			sp_unstable_erase(partner);
			sp_item_link(partner, node);
		}
	}
	if (!node->sharers)
		sp_kpage_prune();	/* nothing merged: free it now */
	ret = item->node ? PARTNER_MERGED : PARTNER_DIFFERENT;
out_page:
	put_page(ppage);
out_unlock:
	if (locked)
		mmap_read_unlock(pmm);
out_put:
	if (pmm != mm)
		mmput(pmm);
	return ret;
}

/* Merge @page with an equal candidate of this pass, or become one. */
static void merge_unstable(struct vm_area_struct *vma, unsigned long addr,
			   struct page *page, struct sp_rmap_item *item)
{
	struct sp_rmap_item *partner, *next;

	for (partner = sp_unstable_find(&item->key); partner; partner = next) {
		next = sp_unstable_next(partner);
		switch (merge_with_partner(vma, addr, page, item, partner)) {
		case PARTNER_MERGED:
			return;
		case PARTNER_GONE:
			sp_unstable_erase(partner);
			break;
		case PARTNER_DIFFERENT:
			break;
		}
	}
	if (!item->node)
		sp_unstable_insert(item);
}

/* Merge @item's @page into a stable kpage of its content; true if found. */
static bool merge_stable(struct vm_area_struct *vma, struct sp_rmap_item *item,
			 struct page *page)
{
	int max = READ_ONCE(samepage_knobs.max_page_sharing);
	struct sp_stable_node *node;

	for (node = sp_stable_find(&item->key); node; node = sp_stable_next(node)) {
		if (!sp_pages_equal(page, node->kpage)) {
			samepage_engine.c.hash_collisions++;
			continue;
		}
		if (node->sharers >= max)
			continue;	/* full: try a dup, else a new one */
		if (!try_merge(vma, item->addr, page, node->kpage))
			sp_item_link(item, node);
		return true;
	}
	/* every kpage of this content is full: the unstable tree makes a dup */
	return false;
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

static void scan_page(struct sp_mm_slot *slot, struct vm_area_struct *vma,
		      unsigned long addr)
{
	struct samepage_engine *e = &samepage_engine;
	struct sp_rmap_item *item;
	struct page *page;
	struct sp_key key;

	switch (sp_get_anon_page(vma, addr, &page)) {
	case SP_PTE_HUGE:
		e->c.pages_skipped_thp++;
		fallthrough;
	case SP_PTE_NONE:
		drop_items(slot, addr, addr + PAGE_SIZE);
		return;
	case SP_PTE_ZERO:
		item = xa_load(&slot->items, addr >> PAGE_SHIFT);
		if (item && !item->zero)	/* a read fault's zero page */
			drop_item(item);
		return;
	case SP_PTE_ANON:
		break;
	}
	item = get_item(slot, addr);
	if (!item)
		goto out;
	set_zero(item, false);		/* our zero page, if any, was COWed */
	if (sp_is_kpage(page)) {
		e->c.pages_scanned++;
		if (item->node && item->node->kpage != page)
			sp_item_unlink(item);
		goto out;		/* still merged: nothing to do */
	}
	sp_item_unlink(item);		/* COWed, unmapped or remapped since */
	if (smart_skip(item))
		goto out;
	e->c.pages_scanned++;
	sp_unstable_erase(item);

	key = page_key(page);
	if (!item->seen || key_differs(&item->key, &key)) {
		item->key = key;
		item->seen = true;
		goto out;		/* new or volatile */
	}

	if (READ_ONCE(samepage_knobs.use_zero_pages) && key.hash == zero_hash) {
		if (!try_merge(vma, addr, page, NULL)) {
			set_zero(item, true);
			goto out;
		}
	}
	if (merge_stable(vma, item, page))
		goto out;

	merge_unstable(vma, addr, page, item);
out:
	put_page(page);
}

static struct sp_mm_slot *next_slot(struct sp_mm_slot *slot)
{
	struct list_head *next = slot ? slot->list.next : samepage_engine.slots.next;

	if (next == &samepage_engine.slots)
		return NULL;
	return list_entry(next, struct sp_mm_slot, list);
}

static void prune(void)
{
	sp_kpage_prune();
	last_prune = jiffies;
}

/* The cursor wrapped: one full pass is done. */
static void end_full_pass(void)
{
	sp_unstable_reset();
	samepage_engine.c.full_scans++;
	prune();
}

/*
 * The next registered span at or after @addr and before @end, clipped to
 * [@addr, @end): returns false when there is none.
 */
static bool next_span(struct sp_mm_slot *slot, unsigned long addr,
		      unsigned long end, unsigned long *s, unsigned long *e)
{
	struct sp_range *r;

	*s = end;
	if (slot->whole) {
		*s = addr;
		*e = end;
		return addr < end;
	}
	list_for_each_entry(r, &slot->ranges, list) {
		if (r->end <= addr || r->start >= end)
			continue;
		if (max(r->start, addr) < *s) {
			*s = max(r->start, addr);
			*e = min(r->end, end);
		}
	}
	return *s < end;
}

enum slot_scan { SLOT_MORE, SLOT_DONE, SLOT_DEAD };

/* Scan up to *budget pages of @slot's mm from the cursor. */
static enum slot_scan scan_slot(struct sp_mm_slot *slot, unsigned int *budget)
{
	struct samepage_engine *e = &samepage_engine;
	struct mm_struct *mm = slot->mm;
	unsigned long next = e->cur_addr, s, end, addr;
	enum slot_scan ret = SLOT_DONE;
	struct vm_area_struct *vma;
	VMA_ITERATOR(vmi, mm, e->cur_addr);

	if (!mmget_not_zero(mm))
		return SLOT_DEAD;
	mmap_read_lock(mm);
	for_each_vma(vmi, vma) {
		if (!sp_vma_eligible(vma))
			continue;
		addr = max(vma->vm_start, e->cur_addr);
		while (next_span(slot, addr, vma->vm_end, &s, &end)) {
			drop_items(slot, next, s);
			for (addr = s; addr < end; addr += PAGE_SIZE) {
				if (!*budget) {
					e->cur_addr = addr;
					ret = SLOT_MORE;
					goto out;
				}
				scan_page(slot, vma, addr);
				(*budget)--;
			}
			next = end;
		}
	}
	drop_items(slot, next, TASK_SIZE);
out:
	mmap_read_unlock(mm);
	mmput(mm);
	return ret;
}

static void free_slot(struct sp_mm_slot *slot);

/*
 * One batch: up to @budget pages, and never past the end of a full pass
 * (as in-tree ksm_do_scan()), so two visits of a page are always at least
 * one sleep_millisecs apart.
 */
static void scan_batch(unsigned int budget)
{
	struct samepage_engine *e = &samepage_engine;
	bool wrapped = false;

	SP_CALL0(lru_add_drain_all);
	mutex_lock(&e->lock);
	while (budget && !wrapped && !list_empty(&e->slots) &&
	       READ_ONCE(samepage_knobs.run) == SP_RUN_MERGE) {
		struct sp_mm_slot *slot;

		if (!e->cur) {
			e->cur = next_slot(NULL);
			e->cur_addr = 0;
		}
		slot = e->cur;
		switch (scan_slot(slot, &budget)) {
		case SLOT_MORE:
			break;
		case SLOT_DEAD:
			free_slot(slot);	/* moves the cursor on */
			wrapped = !e->cur;
			break;
		case SLOT_DONE:
			e->cur = next_slot(slot);
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
		prune();
	mutex_unlock(&e->lock);
}

/* Slots of exited processes, kpages nobody maps: freed while idle too. */
static void reap(void)
{
	struct sp_mm_slot *slot, *tmp;

	mutex_lock(&samepage_engine.lock);
	list_for_each_entry_safe(slot, tmp, &samepage_engine.slots, list)
		if (!mmget_not_zero(slot->mm))
			free_slot(slot);
		else
			mmput(slot->mm);
	prune();
	mutex_unlock(&samepage_engine.lock);
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
			reap();
			wait_event_freezable_timeout(samepaged_wait,
				kthread_should_stop() ||
				READ_ONCE(samepage_knobs.run) == SP_RUN_MERGE, HZ);
		}
	}
	return 0;
}

static struct sp_mm_slot *find_slot(struct mm_struct *mm)
{
	struct sp_mm_slot *slot;

	list_for_each_entry(slot, &samepage_engine.slots, list)
		if (slot->mm == mm)
			return slot;
	return NULL;
}

/* Forget every rmap_item of @slot and the slot itself. Engine lock held. */
static void free_slot(struct sp_mm_slot *slot)
{
	struct samepage_engine *e = &samepage_engine;
	struct sp_range *r, *tmp;

	if (e->cur == slot) {
		e->cur = next_slot(slot);
		e->cur_addr = 0;
	}
	drop_items(slot, 0, TASK_SIZE);
	xa_destroy(&slot->items);
	list_for_each_entry_safe(r, tmp, &slot->ranges, list)
		kfree(r);
	list_del(&slot->list);
	mmdrop(slot->mm);
	kfree(slot);
}

/**
 * sp_register() - add @mm, or its range [@start, @end), to the scan list
 * @mm: the address space (the caller holds a reference)
 * @pid: tgid it belongs to, for listings
 * @start: page-aligned start of the range, or 0 with @end 0 for all of @mm
 * @end: page-aligned end of the range
 *
 * Return: 0, -EEXIST if the whole process is registered already, -ENOMEM.
 */
int sp_register(struct mm_struct *mm, pid_t pid, unsigned long start,
		unsigned long end)
{
	struct sp_mm_slot *slot;
	struct sp_range *r = NULL;
	int err = 0;

	if (end) {
		r = kzalloc(sizeof(*r), GFP_KERNEL);
		if (!r)
			return -ENOMEM;
		r->start = start;
		r->end = end;
	}
	mutex_lock(&samepage_engine.lock);
	slot = find_slot(mm);
	if (slot && slot->whole) {
		err = -EEXIST;
		goto out;
	}
	if (!slot) {
		slot = kzalloc(sizeof(*slot), GFP_KERNEL);
		if (!slot) {
			err = -ENOMEM;
			goto out;
		}
		mmgrab(mm);
		slot->mm = mm;
		slot->pid = pid;
		xa_init(&slot->items);
		INIT_LIST_HEAD(&slot->ranges);
		list_add_tail(&slot->list, &samepage_engine.slots);
	}
	if (r) {
		list_add_tail(&r->list, &slot->ranges);
		r = NULL;
	} else {
		slot->whole = true;
	}
out:
	mutex_unlock(&samepage_engine.lock);
	kfree(r);
	sp_scan_wake();
	return err;
}

/* Take [@start, @end) out of @slot's ranges, splitting one if needed. */
static int cut_ranges(struct sp_mm_slot *slot, unsigned long start,
		      unsigned long end)
{
	struct sp_range *r, *tmp, *tail;

	list_for_each_entry_safe(r, tmp, &slot->ranges, list) {
		if (r->end <= start || r->start >= end)
			continue;
		if (r->start < start && r->end > end) {
			tail = kzalloc(sizeof(*tail), GFP_KERNEL);
			if (!tail)
				return -ENOMEM;
			tail->start = end;
			tail->end = r->end;
			list_add(&tail->list, &r->list);
			r->end = start;
		} else if (r->start < start) {
			r->end = start;
		} else if (r->end > end) {
			r->start = end;
		} else {
			list_del(&r->list);
			kfree(r);
		}
	}
	return 0;
}

/**
 * sp_unregister() - unmerge synchronously and stop tracking @mm or a range
 * @mm: the address space
 * @start: page-aligned start, or 0 with @end 0 for the whole process
 * @end: page-aligned end
 *
 * A range leaves whatever registered ranges it covers (trimming or
 * splitting those it overlaps); the slot goes when nothing is left.
 *
 * Return: 0, -ENOENT if @mm is not registered, -EINVAL for a range of a
 * process registered whole, or the unmerge error (then nothing changes).
 */
int sp_unregister(struct mm_struct *mm, unsigned long start, unsigned long end)
{
	struct sp_mm_slot *slot;
	int err;

	mutex_lock(&samepage_engine.lock);
	slot = find_slot(mm);
	if (!slot) {
		err = -ENOENT;
		goto out;
	}
	if (end && slot->whole) {
		err = -EINVAL;
		goto out;
	}
	if (!end)
		end = TASK_SIZE;
	err = sp_unmerge_range(mm, start, end);
	if (!err)
		err = cut_ranges(slot, start, end);
	if (err)
		goto out;
	drop_items(slot, start, end);
	if (slot->whole || list_empty(&slot->ranges))
		free_slot(slot);
	prune();
out:
	mutex_unlock(&samepage_engine.lock);
	return err;
}

/**
 * sp_unmerge_all() - run=2: unmerge every registered mm
 *
 * Slots stay registered (as in-tree, run=1 scans them again); every
 * rmap_item is dropped and full_scans restarts from 0.
 *
 * Return: 0 or the first unmerge error.
 */
int sp_unmerge_all(void)
{
	struct samepage_engine *e = &samepage_engine;
	struct sp_mm_slot *slot;
	int err = 0;

	mutex_lock(&e->lock);
	list_for_each_entry(slot, &e->slots, list) {
		if (!mmget_not_zero(slot->mm))
			continue;
		err = sp_unmerge_range(slot->mm, 0, TASK_SIZE);
		mmput(slot->mm);
		if (err)
			break;
		drop_items(slot, 0, TASK_SIZE);
	}
	if (!err) {
		sp_unstable_reset();
		e->cur = NULL;
		e->cur_addr = 0;
		e->c.full_scans = 0;
	}
	prune();
	mutex_unlock(&e->lock);
	return err;
}

int sp_scan_init(void)
{
	zero_hash = page_hash(ZERO_PAGE(0));
	samepaged = kthread_run(samepaged_fn, NULL, "samepaged");
	return PTR_ERR_OR_ZERO(samepaged);
}

/*
 * Unload: no kpage exists (each holds a module reference), so only zero
 * pages can still be merged; give those back too, then drop the slots.
 */
void sp_scan_exit(void)
{
	struct sp_mm_slot *slot, *tmp;

	kthread_stop(samepaged);
	mutex_lock(&samepage_engine.lock);
	list_for_each_entry_safe(slot, tmp, &samepage_engine.slots, list) {
		if (samepage_engine.c.ksm_zero_pages && mmget_not_zero(slot->mm)) {
			sp_unmerge_range(slot->mm, 0, TASK_SIZE);
			mmput(slot->mm);
		}
		free_slot(slot);
	}
	mutex_unlock(&samepage_engine.lock);
}
