/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every difference between the kernels samepage supports, and nothing else.
 *
 * Features are selected by SP_HAVE_* flags that scripts/compat-probe finds in
 * the target kernel's headers, so a distro backport is followed without a
 * version check. Verified on Debian 6.1, 6.12 and 7.2 (DESIGN.md, sec. 4).
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

#endif /* SAMEPAGE_COMPAT_H */
