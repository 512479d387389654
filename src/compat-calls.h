/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The compat layer's half that calls resolved functions: a typed wrapper
 * for each resolved function whose arguments differ between kernels
 * (compat.h chose the symbol; ksyms.h includes this after SP_CALLn()).
 */
#ifndef SAMEPAGE_COMPAT_CALLS_H
#define SAMEPAGE_COMPAT_CALLS_H

/* Add the anon rmap of one PTE mapping @page of @folio at @addr. */
static inline void sp_rmap_add_anon(struct folio *folio, struct page *page,
				    struct vm_area_struct *vma, unsigned long addr)
{
#ifdef SP_HAVE_FOLIO_RMAP_PTES
	SP_CALL6(rmap_add_anon, folio, page, 1, vma, addr, (__force int)RMAP_NONE);
#else
	SP_CALL4(rmap_add_anon, page, vma, addr, (__force int)RMAP_NONE);
#endif
}

/* Remove the rmap of one PTE mapping @page of @folio. */
static inline void sp_rmap_remove(struct folio *folio, struct page *page,
				  struct vm_area_struct *vma)
{
#ifdef SP_HAVE_FOLIO_RMAP_PTES
	SP_CALL4(rmap_remove, folio, page, 1, vma);
#else
	SP_CALL3(rmap_remove, page, vma, false);
#endif
}

/* __mmu_notifier_invalidate_range_end() (6.1 has an "only end" flag). */
static inline void sp_mn_range_end(struct mmu_notifier_range *range)
{
#ifdef SP_MMU_RANGE_INIT_HAS_VMA
	SP_CALL2(mn_range_end, range, false);
#else
	SP_CALL1(mn_range_end, range);
#endif
}

/*
 * Split @page's large folio to order 0: 0, or a negative errno. Without
 * THP (the rt flavour) there is no split function and no large anonymous
 * folio to split.
 */
static inline int sp_split_huge_page(struct page *page)
{
	if (!samepage_ksyms.split_page)
		return -EINVAL;
#if defined(SP_HAVE___SPLIT_HUGE_PAGE_TO_LIST_TO_ORDER) || \
	defined(SP_HAVE_SPLIT_HUGE_PAGE_TO_LIST_TO_ORDER)
	return (int)SP_CALL3(split_page, page, NULL, 0);
#else
	return (int)SP_CALL2(split_page, page, NULL);
#endif
}

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
/* The out-of-line PTE map+lock of 6.5+ (sp_pte_offset_map_lock()). */
static inline pte_t *sp_call_pte_offset_map_lock(struct mm_struct *mm, pmd_t *pmd,
						 unsigned long addr, spinlock_t **ptlp)
{
	return (pte_t *)SP_CALL4(pte_offset_map_lock, mm, pmd, addr, ptlp);
}
#endif

#ifdef CONFIG_ARM64_MTE
/*
 * mte_sync_tags() (arm64 MTE; src/arch/arm64/mte.c): pte_t is one u64, in
 * a register. Its arguments are (pte, nr_pages) since 6.3, (old_pte, pte)
 * before.
 */
#ifdef SP_HAVE_MTE_SYNC_TAGS_NR
static inline void sp_mte_sync_tags(pte_t pte, unsigned int nr_pages)
{
	SP_CALL2(mte_sync_tags, pte_val(pte), nr_pages);
}
#define SP_MTE_SYNC_TAGS_PARAMS	pte_t pte, unsigned int nr_pages
#define SP_MTE_SYNC_TAGS_ARGS	pte, nr_pages
#else
static inline void sp_mte_sync_tags(pte_t old_pte, pte_t pte)
{
	SP_CALL2(mte_sync_tags, pte_val(old_pte), pte_val(pte));
}
#define SP_MTE_SYNC_TAGS_PARAMS	pte_t old_pte, pte_t pte
#define SP_MTE_SYNC_TAGS_ARGS	old_pte, pte
#endif
#endif

#endif /* SAMEPAGE_COMPAT_CALLS_H */
