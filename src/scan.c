// SPDX-License-Identifier: GPL-2.0
/*
 * The samepaged kthread and its cursor over registered mms, VMAs and pages.
 *
 * One pass visits every eligible page of every registered mm, round-robin,
 * pages_to_scan pages per batch, sleeping sleep_millisecs between batches.
 * Per page: one xxh64 of the content. A page whose hash differs from the
 * previous pass's is volatile and goes no further (the checksum test comes
 * before any tree search). A stable page is looked up by hash in the stable
 * tree, then in the unstable tree; an equal hash is confirmed by one
 * memcmp() before anything is merged.
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

static struct task_struct *samepaged;
static DECLARE_WAIT_QUEUE_HEAD(samepaged_wait);

void sp_scan_wake(void)
{
	wake_up_interruptible(&samepaged_wait);
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
	return h;
}

static int pages_equal(struct page *a, struct page *b)
{
	char *pa = kmap_local_page(a), *pb = kmap_local_page(b);
	int eq = !memcmp(pa, pb, PAGE_SIZE);

	kunmap_local(pb);
	kunmap_local(pa);
	return eq;
}

/* Lock both pages and map @kpage at @addr instead of @page. */
static int try_merge(struct vm_area_struct *vma, unsigned long addr,
		     struct page *page, struct page *kpage)
{
	struct folio *folio = page_folio(page);
	int err;

	if (!folio_trylock(folio))
		return -EAGAIN;
	folio_lock(page_folio(kpage));
	err = sp_replace_page(vma, addr, page, kpage);
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

/**
 * merge_with_partner() - merge @page with the unstable-tree candidate @partner
 * @vma: VMA of @addr (its mm's mmap lock is held)
 * @addr: address of @page
 * @page: the page being scanned (referenced)
 * @item: its rmap_item
 * @partner: the unstable-tree item with the same hash
 *
 * Both go into a new kpage. The partner's mm is only trylocked: samepaged
 * already holds @vma's mm, and must never wait on a second mmap lock.
 */
static void merge_with_partner(struct vm_area_struct *vma, unsigned long addr,
			       struct page *page, struct sp_rmap_item *item,
			       struct sp_rmap_item *partner)
{
	struct mm_struct *pmm = partner->slot->mm, *mm = vma->vm_mm;
	struct vm_area_struct *pvma;
	struct sp_stable_node *node;
	struct page *ppage;
	bool locked = false;

	if (pmm != mm) {
		if (!mmget_not_zero(pmm))
			return;
		if (!mmap_read_trylock(pmm))
			goto out_put;
		locked = true;
	}
	pvma = vma_lookup(pmm, partner->addr);
	if (!pvma || !sp_vma_eligible(pvma))
		goto out_unlock;
	ppage = sp_get_anon_page(pvma, partner->addr);
	if (IS_ERR_OR_NULL(ppage))
		goto out_unlock;
	if (sp_is_kpage(ppage) || !pages_equal(page, ppage)) {
		/* equal hashes, different content: count it if it is real */
		if (!sp_is_kpage(ppage) && page_hash(ppage) == item->hash)
			samepage_engine.c.hash_collisions++;
		else
			sp_unstable_erase(partner);
		goto out_page;
	}
	node = sp_kpage_new(page, item->hash);
	if (!node)
		goto out_page;
	if (!try_merge(vma, addr, page, node->kpage))
		sp_item_link(item, node);
	if (!try_merge(pvma, partner->addr, ppage, node->kpage)) {
		sp_unstable_erase(partner);
		sp_item_link(partner, node);
	}
	if (!node->sharers)
		sp_kpage_prune();	/* neither side merged: free it now */
out_page:
	put_page(ppage);
out_unlock:
	if (locked)
		mmap_read_unlock(pmm);
out_put:
	if (pmm != mm)
		mmput(pmm);
}

static void scan_page(struct sp_mm_slot *slot, struct vm_area_struct *vma,
		      unsigned long addr)
{
	struct samepage_engine *e = &samepage_engine;
	struct sp_stable_node *node;
	struct sp_rmap_item *item, *partner;
	struct page *page;
	u64 hash;

	page = sp_get_anon_page(vma, addr);
	if (!page)
		return;
	if (IS_ERR(page)) {
		e->c.pages_skipped_thp++;
		return;
	}
	e->c.pages_scanned++;
	item = get_item(slot, addr);
	if (!item)
		goto out;
	if (sp_is_kpage(page)) {
		if (item->node && item->node->kpage != page)
			sp_item_unlink(item);
		goto out;		/* still merged: nothing to do */
	}
	sp_item_unlink(item);		/* COWed, unmapped or remapped since */
	sp_unstable_erase(item);

	hash = page_hash(page);
	if (!item->seen || item->hash != hash) {
		item->hash = hash;
		item->seen = true;
		goto out;		/* new or volatile */
	}

	for (node = sp_stable_find(hash); node; node = sp_stable_next(node)) {
		if (!pages_equal(page, node->kpage)) {
			e->c.hash_collisions++;
			continue;
		}
		if (!try_merge(vma, addr, page, node->kpage))
			sp_item_link(item, node);
		goto out;
	}

	partner = sp_unstable_find(hash);
	if (!partner)
		sp_unstable_insert(item);
	else if (partner != item)
		merge_with_partner(vma, addr, page, item, partner);
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

/* The cursor wrapped: one full pass is done. */
static void end_full_pass(void)
{
	sp_unstable_reset();
	samepage_engine.c.full_scans++;
	sp_kpage_prune();
}

/*
 * Scan up to *budget pages of @slot's mm from the cursor. Returns true when
 * the mm is finished (or gone).
 */
static bool scan_slot(struct sp_mm_slot *slot, unsigned int *budget)
{
	struct samepage_engine *e = &samepage_engine;
	struct mm_struct *mm = slot->mm;
	struct vm_area_struct *vma;
	unsigned long addr;
	bool done = true;

	if (!mmget_not_zero(mm))
		return true;
	mmap_read_lock(mm);
	{
		VMA_ITERATOR(vmi, mm, e->cur_addr);

		for_each_vma(vmi, vma) {
			if (!sp_vma_eligible(vma))
				continue;
			for (addr = max(vma->vm_start, e->cur_addr);
			     addr < vma->vm_end; addr += PAGE_SIZE) {
				if (!*budget) {
					e->cur_addr = addr;
					done = false;
					goto out;
				}
				scan_page(slot, vma, addr);
				(*budget)--;
			}
		}
	}
out:
	mmap_read_unlock(mm);
	mmput(mm);
	return done;
}

static void scan_batch(unsigned int budget)
{
	struct samepage_engine *e = &samepage_engine;

	SP_CALL0(lru_add_drain_all);
	mutex_lock(&e->lock);
	while (budget && !list_empty(&e->slots) &&
	       READ_ONCE(samepage_knobs.run) == SP_RUN_MERGE) {
		if (!e->cur) {
			e->cur = next_slot(NULL);
			e->cur_addr = 0;
		}
		if (scan_slot(e->cur, &budget)) {
			e->cur = next_slot(e->cur);
			e->cur_addr = 0;
			if (!e->cur)
				end_full_pass();
		}
		if (kthread_should_stop())
			break;
		cond_resched();
	}
	mutex_unlock(&e->lock);
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
			/* free kpages whose last mapper exited meanwhile */
			mutex_lock(&samepage_engine.lock);
			sp_kpage_prune();
			mutex_unlock(&samepage_engine.lock);
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

/**
 * sp_register_mm() - add @mm to the scan list
 * @mm: the address space (the caller holds a reference)
 * @pid: tgid it belongs to, for listings
 *
 * Return: 0, -EEXIST if already registered, -ENOMEM.
 */
int sp_register_mm(struct mm_struct *mm, pid_t pid)
{
	struct sp_mm_slot *slot;
	int err = 0;

	mutex_lock(&samepage_engine.lock);
	if (find_slot(mm)) {
		err = -EEXIST;
		goto out;
	}
	slot = kzalloc(sizeof(*slot), GFP_KERNEL);
	if (!slot) {
		err = -ENOMEM;
		goto out;
	}
	mmgrab(mm);
	slot->mm = mm;
	slot->pid = pid;
	xa_init(&slot->items);
	list_add_tail(&slot->list, &samepage_engine.slots);
out:
	mutex_unlock(&samepage_engine.lock);
	sp_scan_wake();
	return err;
}

/* Forget every rmap_item of @slot and the slot itself. Engine lock held. */
static void free_slot(struct sp_mm_slot *slot)
{
	struct samepage_engine *e = &samepage_engine;
	struct sp_rmap_item *item;
	unsigned long idx;

	if (e->cur == slot) {
		e->cur = next_slot(slot);
		e->cur_addr = 0;
	}
	xa_for_each(&slot->items, idx, item) {
		sp_item_unlink(item);
		sp_unstable_erase(item);
		kfree(item);
		e->c.rmap_items--;
	}
	xa_destroy(&slot->items);
	list_del(&slot->list);
	mmdrop(slot->mm);
	kfree(slot);
}

/* Unmerge @slot's mm if it still lives. Engine lock held. */
static int unmerge_slot(struct sp_mm_slot *slot)
{
	int err = 0;

	if (mmget_not_zero(slot->mm)) {
		err = sp_unmerge_mm(slot->mm);
		mmput(slot->mm);
	}
	return err;
}

/**
 * sp_unregister_mm() - unmerge @mm synchronously and stop tracking it
 * @mm: the address space
 *
 * Return: 0, -ENOENT if @mm was not registered, or the unmerge error (the
 * mm then stays registered).
 */
int sp_unregister_mm(struct mm_struct *mm)
{
	struct sp_mm_slot *slot;
	int err;

	mutex_lock(&samepage_engine.lock);
	slot = find_slot(mm);
	err = slot ? unmerge_slot(slot) : -ENOENT;
	if (!err) {
		free_slot(slot);
		sp_kpage_prune();
	}
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
	struct sp_rmap_item *item;
	unsigned long idx;
	int err = 0;

	mutex_lock(&e->lock);
	list_for_each_entry(slot, &e->slots, list) {
		err = unmerge_slot(slot);
		if (err)
			break;
		xa_for_each(&slot->items, idx, item) {
			sp_item_unlink(item);
			sp_unstable_erase(item);
			xa_erase(&slot->items, idx);
			kfree(item);
			e->c.rmap_items--;
		}
	}
	if (!err) {
		sp_unstable_reset();
		e->cur = NULL;
		e->cur_addr = 0;
		e->c.full_scans = 0;
	}
	sp_kpage_prune();
	mutex_unlock(&e->lock);
	return err;
}

int sp_scan_init(void)
{
	samepaged = kthread_run(samepaged_fn, NULL, "samepaged");
	return PTR_ERR_OR_ZERO(samepaged);
}

/*
 * Unload: no kpage exists (each holds a module reference), so nothing is
 * merged; drop the slots.
 */
void sp_scan_exit(void)
{
	struct sp_mm_slot *slot, *tmp;

	kthread_stop(samepaged);
	mutex_lock(&samepage_engine.lock);
	list_for_each_entry_safe(slot, tmp, &samepage_engine.slots, list)
		free_slot(slot);
	mutex_unlock(&samepage_engine.lock);
}
