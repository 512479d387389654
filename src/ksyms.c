// SPDX-License-Identifier: GPL-2.0
/*
 * Symbol resolution at load.
 *
 * kallsyms_lookup_name() has not been exported since 5.7. Its address is
 * still known to kprobes: registering a kprobe on it by name makes the kprobe
 * core resolve the address for us, after which the probe is removed at once.
 * From then on kallsyms_lookup_name() itself is called, like every resolved
 * function, through samepage_ibt_call().
 */
#define pr_fmt(fmt) "samepage: " fmt

#include <linux/kernel.h>
#include <linux/kprobes.h>
#include <linux/errno.h>
#include <linux/cache.h>
#include <linux/string.h>
#include <linux/slab.h>

#include <linux/gfp.h>
#include <linux/huge_mm.h>
#include <linux/memcontrol.h>
#include <linux/mm.h>
#include <linux/mmu_notifier.h>
#include <linux/pgtable.h>
#include <linux/ptrace.h>
#include <linux/rmap.h>
#include <linux/sched/signal.h>
#include <linux/swap.h>

#include "ksyms.h"

/*
 * Each typed wrapper against the kernel's own declaration of the function
 * it calls, wherever the target kernel's headers have one: a kernel that
 * changes a resolved function's arguments or result fails the build here
 * instead of being called the old way. Not checkable: mm_find_pmd()
 * (declared in mm/internal.h only), ksm_madvise() and
 * ksm_disable_merge_any() (one's flags pointer changes type between
 * kernels, the other is missing before 6.4: both are looked up optionally
 * and their wrappers take what every version takes).
 */
#define SP_SAME_PROTO(kfn, wrapper)						\
	static_assert(__same_type(&(kfn), &(wrapper)), #wrapper " does not match " #kfn)
#define SP_PROTO(kfn, type)							\
	static_assert(__same_type(&(kfn), (type)NULL), #kfn " changed: see its wrapper")

SP_SAME_PROTO(ptrace_may_access, sp_ptrace_may_access);
SP_SAME_PROTO(ptep_clear_flush, sp_ptep_clear_flush);
SP_SAME_PROTO(lru_add_drain_all, sp_lru_add_drain_all);
SP_SAME_PROTO(__mmu_notifier_invalidate_range_start, sp_mn_range_start);
SP_SAME_PROTO(memory_failure, sp_memory_failure);
SP_SAME_PROTO(drain_all_pages, sp_drain_all_pages);
SP_SAME_PROTO(force_sig_mceerr, sp_force_sig_mceerr);
#ifdef CONFIG_MEMCG
SP_SAME_PROTO(__mem_cgroup_charge, sp_mem_cgroup_charge);
SP_SAME_PROTO(__mem_cgroup_uncharge, sp_mem_cgroup_uncharge);
#endif

/* the compat layer's calls (compat.h picks the symbol, compat-calls.h calls it) */
#ifdef SP_HAVE_FOLIO_RMAP_PTES
SP_PROTO(folio_add_anon_rmap_ptes, void (*)(struct folio *, struct page *, int,
					    struct vm_area_struct *, unsigned long, rmap_t));
SP_PROTO(folio_remove_rmap_ptes, void (*)(struct folio *, struct page *, int,
					  struct vm_area_struct *));
#else
SP_PROTO(page_add_anon_rmap, void (*)(struct page *, struct vm_area_struct *,
				      unsigned long, rmap_t));
SP_PROTO(page_remove_rmap, void (*)(struct page *, struct vm_area_struct *, bool));
#endif
#ifdef SP_MMU_RANGE_INIT_HAS_VMA
SP_PROTO(__mmu_notifier_invalidate_range_end, void (*)(struct mmu_notifier_range *, bool));
#else
SP_PROTO(__mmu_notifier_invalidate_range_end, void (*)(struct mmu_notifier_range *));
#endif
#ifdef CONFIG_TRANSPARENT_HUGEPAGE
#if defined(SP_HAVE___SPLIT_HUGE_PAGE_TO_LIST_TO_ORDER)
SP_PROTO(__split_huge_page_to_list_to_order, int (*)(struct page *, struct list_head *,
						     unsigned int));
#elif defined(SP_HAVE_SPLIT_HUGE_PAGE_TO_LIST_TO_ORDER)
SP_PROTO(split_huge_page_to_list_to_order, int (*)(struct page *, struct list_head *,
						   unsigned int));
#else
SP_PROTO(split_huge_page_to_list, int (*)(struct page *, struct list_head *));
#endif
#endif
#if defined(SP_HAVE___PTE_OFFSET_MAP_LOCK)
SP_PROTO(__pte_offset_map_lock, pte_t *(*)(struct mm_struct *, pmd_t *, unsigned long,
					   spinlock_t **));
#endif

struct samepage_ksyms samepage_ksyms __ro_after_init;

struct ksym_desc {
	const char *name;
	size_t offset;		/* of the field in struct samepage_ksyms */
	bool required;
};

static const struct ksym_desc ksym_descs[] = {
#define SP_KSYM_DESC(field, sname, req)					\
	{ .name = sname, .offset = offsetof(struct samepage_ksyms, field),	\
	  .required = req },
	SAMEPAGE_KSYMS(SP_KSYM_DESC)
#undef SP_KSYM_DESC
};

static unsigned long kallsyms_lookup_name_addr __ro_after_init;

static unsigned long find_kallsyms_lookup_name(void)
{
	struct kprobe kp = { .symbol_name = "kallsyms_lookup_name" };
	unsigned long addr;
	int err;

	err = register_kprobe(&kp);
	if (err) {
		pr_err("cannot locate kallsyms_lookup_name through kprobes: %d\n",
		       err);
		return 0;
	}
	addr = (unsigned long)kp.addr;
	unregister_kprobe(&kp);
	return addr;
}

/**
 * lookup_symbol() - address of @name
 * @name: symbol name as in /proc/kallsyms
 *
 * Exactly @name: never a compiler clone (.isra, .constprop, .part) of it.
 * A clone has another calling convention, so calling one would corrupt
 * memory; a function that exists only as a clone fails the load by name.
 * (Probe targets are found by the kprobe and ftrace cores, not here.)
 *
 * Return: the address, or 0 when @name does not exist.
 */
static unsigned long lookup_symbol(const char *name)
{
	return samepage_ibt_call(SP_A(name), 0, 0, 0, 0, 0,
				 kallsyms_lookup_name_addr);
}

/**
 * samepage_ksyms_init() - resolve every symbol of SAMEPAGE_KSYMS
 * @extra_required: one more symbol name that must resolve, or NULL. It is the
 *	module parameter require_symbol, used by the tests to prove that a
 *	missing symbol fails the load by name.
 *
 * Every missing required symbol is named in the kernel log, not just the
 * first, so one failed insmod tells the whole story.
 *
 * Return: 0, or -ENOENT if any required symbol is missing.
 */
int samepage_ksyms_init(const char *extra_required)
{
	bool missing = false;
	unsigned long addr;
	size_t i;

	kallsyms_lookup_name_addr = find_kallsyms_lookup_name();
	if (!kallsyms_lookup_name_addr)
		return -ENOENT;

	for (i = 0; i < ARRAY_SIZE(ksym_descs); i++) {
		const struct ksym_desc *d = &ksym_descs[i];

		addr = lookup_symbol(d->name);
		if (!addr && d->required) {
			pr_err("required kernel symbol '%s' not found\n", d->name);
			missing = true;
		} else if (!addr) {
			pr_info("optional kernel symbol '%s' not found\n", d->name);
		}
		*(unsigned long *)((char *)&samepage_ksyms + d->offset) = addr;
	}
	if (extra_required && *extra_required && !lookup_symbol(extra_required)) {
		pr_err("required kernel symbol '%s' not found\n", extra_required);
		missing = true;
	}
	return missing ? -ENOENT : 0;
}
