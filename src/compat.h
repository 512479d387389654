/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every difference between the kernels samepage supports, and nothing else.
 *
 * Features are selected by SP_HAVE_* flags that scripts/compat-probe finds in
 * the target kernel's headers, so a distro backport is followed. A version
 * check is left only where the headers show nothing to probe (a change of
 * behaviour, not of declarations); each one says so where it stands.
 * Verified on Debian 6.1, 6.12 and 7.2 (Documentation/kernels.md).
 */
#ifndef SAMEPAGE_COMPAT_H
#define SAMEPAGE_COMPAT_H

#include <linux/version.h>

/* Anon rmap of one PTE: page_*_rmap up to 6.7, folio_*_rmap_ptes after. */
#ifdef SP_HAVE_FOLIO_RMAP_PTES
#define SP_RMAP_ADD_ANON_SYM	"folio_add_anon_rmap_ptes"
#define SP_RMAP_REMOVE_SYM	"folio_remove_rmap_ptes"
#else
#define SP_RMAP_ADD_ANON_SYM	"page_add_anon_rmap"
#define SP_RMAP_REMOVE_SYM	"page_remove_rmap"
#endif

/*
 * Split a large folio to order 0, keeping the caller's lock and reference
 * on the page passed: (page, list, new_order) on 6.8+ (out of line as
 * __split_huge_page_to_list_to_order() in 7.x), (page, list) before
 * (sp_split_huge_page() passes each its own arguments). None is exported.
 */
#if defined(SP_HAVE___SPLIT_HUGE_PAGE_TO_LIST_TO_ORDER)
#define SP_SPLIT_SYM		"__split_huge_page_to_list_to_order"
#elif defined(SP_HAVE_SPLIT_HUGE_PAGE_TO_LIST_TO_ORDER)
#define SP_SPLIT_SYM		"split_huge_page_to_list_to_order"
#else
#define SP_SPLIT_SYM		"split_huge_page_to_list"
#endif

/*
 * PTE map+lock: inline on 6.1 (nothing to resolve); an inline wrapper around
 * the unexported __pte_offset_map_lock on 6.5+; the out-of-line, unexported
 * pte_offset_map_lock itself on 7.x.
 */
#if defined(SP_HAVE___PTE_OFFSET_MAP_LOCK)
#define SP_PTE_LOCK_KSYM(X) \
	X(pte_offset_map_lock, "__pte_offset_map_lock", true)
#elif LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
#define SP_PTE_LOCK_KSYM(X) \
	X(pte_offset_map_lock, "pte_offset_map_lock", true)
#else
#define SP_PTE_LOCK_KSYM(X)
#endif

/*
 * arm64 with MTE: set_pte_at() and set_ptes() are inlines that call
 * mte_sync_tags(), which vmlinux does not export. src/arch/arm64/mte.c
 * gives the module its own mte_sync_tags(), which calls the kernel's.
 */
#ifdef CONFIG_ARM64_MTE
#define SP_ARCH_KSYM(X) \
	X(mte_sync_tags,	"mte_sync_tags",		true)
#else
#define SP_ARCH_KSYM(X)
#endif

#include <linux/mm.h>
#include <linux/mmu_notifier.h>
#include <linux/rmap.h>
#include <linux/pgtable.h>

/* The low bit of folio->mapping that marks an anonymous folio. */
#ifdef SP_HAVE_FOLIO_MAPPING_ANON
#define SP_MAPPING_ANON		FOLIO_MAPPING_ANON
#else
#define SP_MAPPING_ANON		PAGE_MAPPING_ANON
#endif

static inline pmd_t sp_pmdp_get_lockless(pmd_t *pmdp)
{
#ifdef SP_HAVE_PMDP_GET_LOCKLESS
	return pmdp_get_lockless(pmdp);
#else
	pmd_t pmd = READ_ONCE(*pmdp);

	barrier();
	return pmd;
#endif
}

static inline void sp_mmu_range_init(struct mmu_notifier_range *range,
				     struct vm_area_struct *vma,
				     unsigned long start, unsigned long end)
{
#ifdef SP_MMU_RANGE_INIT_HAS_VMA
	mmu_notifier_range_init(range, MMU_NOTIFY_CLEAR, 0, vma, vma->vm_mm,
				start, end);
#else
	mmu_notifier_range_init(range, MMU_NOTIFY_CLEAR, 0, vma->vm_mm, start,
				end);
#endif
}

/*
 * One anonymous page less in @mm's rss. add_mm_counter() does not link from
 * a module (its rss_stat tracepoint is not exported), so this is the
 * counter update alone: an atomic up to 6.1, a percpu_counter after.
 */
static inline void sp_dec_anon_rss(struct mm_struct *mm)
{
#ifdef SP_HAVE_PERCPU_RSS
	percpu_counter_add(&mm->rss_stat[MM_ANONPAGES], -1);
#else
	atomic_long_dec(&mm->rss_stat.count[MM_ANONPAGES]);
#endif
}

/*
 * The kernel's per-mm KSM counters that /proc/PID/ksm_stat shows:
 * ksm_merging_pages and ksm_rmap_items (plain fields, 6.1+), and
 * ksm_zero_pages (an atomic, 6.10+).
 */
static inline void sp_mm_ksm_zero_add(struct mm_struct *mm, long d)
{
#ifdef SP_HAVE_MM_KSM_ZERO_PAGES
	atomic_long_add(d, &mm->ksm_zero_pages);
#endif
}

static inline long sp_mm_ksm_zero_read(struct mm_struct *mm)
{
#ifdef SP_HAVE_MM_KSM_ZERO_PAGES
	return atomic_long_read(&mm->ksm_zero_pages);
#else
	return 0;
#endif
}

/* Does in-tree ksm_fork() zero a mergeable parent's child's KSM counts? */
#ifdef SP_HAVE_KSM_FORK_RESETS_COUNTS
#define SP_KSM_FORK_RESETS_COUNTS	true
#else
#define SP_KSM_FORK_RESETS_COUNTS	false	/* 6.1: the child keeps a copy */
#endif

static inline void sp_mm_ksm_counts_add(struct mm_struct *mm, long merging,
					long items)
{
#ifdef CONFIG_KSM
	mm->ksm_merging_pages += merging;
	mm->ksm_rmap_items += items;
#endif
}

/* Has in-tree KSM seen MADV_MERGEABLE or PR_SET_MEMORY_MERGE in @mm? */
static inline bool sp_mm_ksm_mergeable(const struct mm_struct *mm)
{
#ifdef SP_HAVE_MM_FLAGS_TEST
	return mm_flags_test(MMF_VM_MERGEABLE, mm);
#else
	return test_bit(MMF_VM_MERGEABLE, &mm->flags);
#endif
}

/* Did @mm get PR_SET_MEMORY_MERGE (6.4+; never before)? */
static inline bool sp_mm_merge_any(const struct mm_struct *mm)
{
#if defined(MMF_VM_MERGE_ANY) && defined(SP_HAVE_MM_FLAGS_TEST)
	return mm_flags_test(MMF_VM_MERGE_ANY, mm);
#elif defined(MMF_VM_MERGE_ANY)
	return test_bit(MMF_VM_MERGE_ANY, &mm->flags);
#else
	return false;
#endif
}

/*
 * Where an ftrace callback sends the traced function, through ftrace_regs
 * (6.2 renamed the setter). A kernel without DYNAMIC_FTRACE_WITH_ARGS
 * (arm64 before 6.2, which has only _WITH_REGS) makes the generic setter
 * an empty statement: a hook would be placed and never redirect. There
 * SP_FTRACE_REDIRECTS is 0 and hooks.c leaves the ftrace hooks out
 * ("cannot hook", their features off), which the hooks list shows.
 */
#if defined(SP_HAVE_FTRACE_REGS_SET_IP)
#define sp_ftrace_set_ip(fregs, ip)	ftrace_regs_set_instruction_pointer(fregs, ip)
#define SP_FTRACE_REDIRECTS		1
#elif defined(CONFIG_HAVE_DYNAMIC_FTRACE_WITH_ARGS)
#define sp_ftrace_set_ip(fregs, ip)	ftrace_instruction_pointer_set(fregs, ip)
#define SP_FTRACE_REDIRECTS		1
#else
#define sp_ftrace_set_ip(fregs, ip)	do { (void)(fregs); (void)(ip); } while (0)
#define SP_FTRACE_REDIRECTS		0
#endif

/*
 * What an ftrace_ops that moves the traced function's PC asks to have saved:
 * the full pt_regs where the kernel can (DYNAMIC_FTRACE_WITH_REGS: x86),
 * else nothing more than the ftrace_regs of DYNAMIC_FTRACE_WITH_ARGS, which
 * carry the PC too. arm64 has only the latter and refuses SAVE_REGS
 * (-EINVAL from register_ftrace_function()).
 */
#ifdef CONFIG_DYNAMIC_FTRACE_WITH_REGS
#define SP_FTRACE_OPS_FL_REGS		FTRACE_OPS_FL_SAVE_REGS
#else
#define SP_FTRACE_OPS_FL_REGS		0
#endif

/*
 * The system's unbound workqueue: system_dfl_wq where the kernel has it (7.x,
 * and 6.12 stable from 6.12.11x); 7.2 warns once per work function queued on
 * the older system_unbound_wq ("enqueued on deprecated workqueue"), which is
 * to go away.
 */
#ifdef SP_HAVE_SYSTEM_DFL_WQ
#define SP_UNBOUND_WQ		system_dfl_wq
#else
#define SP_UNBOUND_WQ		system_unbound_wq
#endif

/* Number of PTEs mapping a small folio. */
static inline int sp_mapcount(struct folio *folio)
{
#ifdef SP_HAVE_FOLIO_RMAP_PTES
	return folio_mapcount(folio);
#else
	return page_mapcount(&folio->page);
#endif
}

/*
 * Map and lock a PTE. From 6.5 this fails (NULL) when the page table went
 * away. For sparse the RCU read lock and the PTL count as taken either way
 * (pte_unmap_unlock() drops both); a caller releases them with
 * sp_pte_map_release() on the NULL path.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
#define sp_pte_offset_map_lock(mm, pmd, addr, ptl) ({			\
	pte_t *__sp_pte = sp_call_pte_offset_map_lock(mm, pmd, addr, &(ptl)); \
	__acquire(RCU);		/* what sparse cannot see the call do: */ \
	__acquire(ptl);		/* rcu_read_lock() and the PTL */	\
	__sp_pte;							\
})
#define sp_pte_map_release(ptl)	do { __release(ptl); __release(RCU); } while (0)
#else
#define sp_pte_offset_map_lock(mm, pmd, addr, ptl) \
	pte_offset_map_lock(mm, pmd, addr, &(ptl))
#if defined(CONFIG_PREEMPT_RT) && !defined(SP_HAVE_RT_SPIN_LOCK_CONTEXT)
/* 6.1-rt: rt_spin_lock/unlock carry no sparse context, so nothing to drop */
#define sp_pte_map_release(ptl)	do { } while (0)
#else
#define sp_pte_map_release(ptl)	__release(ptl)
#endif
#endif

#endif /* SAMEPAGE_COMPAT_H */
