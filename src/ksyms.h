/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel symbols samepage resolves at load through kallsyms, and the one
 * IBT-safe way to call them.
 *
 * Every resolved function has one typed wrapper (here, or in
 * compat-calls.h where its arguments differ between kernels), with the
 * function's own prototype, so a call is type-checked and its result
 * truncated to its real type; SP_CALLn() is used nowhere else (scripts/check
 * checks).
 *
 * Every symbol lives in one read-only table (samepage_ksyms), filled once by
 * samepage_ksyms_init() and sealed read-only when module init finishes. A
 * resolved *function* is never called through a C function pointer: the
 * typed wrappers in this header go through samepage_ibt_call() (ibt_call.S).
 * scripts/check-ibt fails the build check if any other indirect call shows up
 * in samepage.ko.
 */
#ifndef SAMEPAGE_KSYMS_H
#define SAMEPAGE_KSYMS_H

#include <linux/types.h>
#include "compat.h"

struct task_struct;

/*
 * SAMEPAGE_KSYMS(X) lists every resolved symbol as
 *   X(field, "kallsyms name", required)
 * A missing required symbol fails insmod with a message naming it; a missing
 * optional one leaves the field 0 and disables the feature that needs it.
 */
#define SAMEPAGE_KSYMS(X)						\
	X(mm_kobj,		"mm_kobj",			true)	\
	X(lru_add_drain_all,	"lru_add_drain_all",		true)	\
	X(mm_find_pmd,		"mm_find_pmd",			true)	\
	X(ptep_clear_flush,	"ptep_clear_flush",		true)	\
	X(rmap_add_anon,	SP_RMAP_ADD_ANON_SYM,		true)	\
	X(rmap_remove,		SP_RMAP_REMOVE_SYM,		true)	\
	X(mn_range_start,	"__mmu_notifier_invalidate_range_start", true) \
	X(mn_range_end,		"__mmu_notifier_invalidate_range_end", true) \
	X(ptrace_may_access,	"ptrace_may_access",		true)	\
	X(ksm_run,		"ksm_run",			false)	\
	X(ksm_madvise,		"ksm_madvise",			false)	\
	X(ksm_disable_merge_any, "ksm_disable_merge_any",	false)	\
	X(ksm_thread_mutex,	"ksm_thread_mutex",		false)	\
	X(ksm_zero_pages,	"ksm_zero_pages",		false)	\
	X(memory_failure,	"memory_failure",		false)	\
	X(force_sig_mceerr,	"force_sig_mceerr",		false)	\
	X(drain_all_pages,	"drain_all_pages",		false)	\
	X(split_page,		SP_SPLIT_SYM,	IS_ENABLED(CONFIG_TRANSPARENT_HUGEPAGE)) \
	SP_PTE_LOCK_KSYM(X)						\
	SP_MEMCG_KSYM(X)						\
	SP_ARCH_KSYM(X)

/*
 * mem_cgroup_charge() is an inline around the unexported __mem_cgroup_charge
 * (6.1, 6.12, 7.2 alike); without CONFIG_MEMCG there is nothing to charge.
 */
#ifdef CONFIG_MEMCG
#define SP_MEMCG_KSYM(X) \
	X(mem_cgroup_charge,	"__mem_cgroup_charge",		true)	\
	X(mem_cgroup_uncharge,	"__mem_cgroup_uncharge",	true)
#else
#define SP_MEMCG_KSYM(X)
#endif

struct samepage_ksyms {
#define SP_KSYM_FIELD(field, name, required) unsigned long field;
	SAMEPAGE_KSYMS(SP_KSYM_FIELD)
#undef SP_KSYM_FIELD
};

extern struct samepage_ksyms samepage_ksyms;

int samepage_ksyms_init(const char *extra_required);

/*
 * ibt_call.S: enter @fn with RET, passing up to six integer arguments
 * (arm64: arch/arm64/call.c, a plain call).
 */
unsigned long samepage_ibt_call(unsigned long a0, unsigned long a1,
				unsigned long a2, unsigned long a3,
				unsigned long a4, unsigned long a5,
				unsigned long fn);

#define SP_A(x)		((unsigned long)(x))
/* Call the resolved function in table field @sym with up to six arguments. */
#define SP_CALL0(sym) \
	samepage_ibt_call(0, 0, 0, 0, 0, 0, samepage_ksyms.sym)
#define SP_CALL1(sym, a) \
	samepage_ibt_call(SP_A(a), 0, 0, 0, 0, 0, samepage_ksyms.sym)
#define SP_CALL2(sym, a, b) \
	samepage_ibt_call(SP_A(a), SP_A(b), 0, 0, 0, 0, samepage_ksyms.sym)
#define SP_CALL3(sym, a, b, c) \
	samepage_ibt_call(SP_A(a), SP_A(b), SP_A(c), 0, 0, 0, samepage_ksyms.sym)
#define SP_CALL4(sym, a, b, c, d) \
	samepage_ibt_call(SP_A(a), SP_A(b), SP_A(c), SP_A(d), 0, 0, \
			  samepage_ksyms.sym)
#define SP_CALL5(sym, a, b, c, d, e) \
	samepage_ibt_call(SP_A(a), SP_A(b), SP_A(c), SP_A(d), SP_A(e), 0, \
			  samepage_ksyms.sym)
#define SP_CALL6(sym, a, b, c, d, e, f) \
	samepage_ibt_call(SP_A(a), SP_A(b), SP_A(c), SP_A(d), SP_A(e), \
			  SP_A(f), samepage_ksyms.sym)

/*
 * samepage_ibt_call() returns all of RAX. A function returning a type
 * narrower than 64 bits defines only the low bits of it (a bool only AL),
 * so its result must be truncated to its real type: use a typed wrapper
 * like the one below, never the raw SP_CALLn() value.
 */
static inline bool sp_ptrace_may_access(struct task_struct *task, unsigned int mode)
{
	return (u8)SP_CALL2(ptrace_may_access, task, mode);
}

static inline pmd_t *sp_mm_find_pmd(struct mm_struct *mm, unsigned long addr)
{
	return (pmd_t *)SP_CALL2(mm_find_pmd, mm, addr);
}

static inline pte_t sp_ptep_clear_flush(struct vm_area_struct *vma,
					unsigned long addr, pte_t *ptep)
{
	return __pte(SP_CALL3(ptep_clear_flush, vma, addr, ptep));
}

static inline void sp_lru_add_drain_all(void)
{
	SP_CALL0(lru_add_drain_all);
}

/* __mmu_notifier_invalidate_range_start(): 0, or -EAGAIN (non-blocking only) */
static inline int sp_mn_range_start(struct mmu_notifier_range *range)
{
	return (int)SP_CALL1(mn_range_start, range);
}

/* ksm_madvise() (vm_flags: a vm_flags_t * or an unsigned long *, by kernel) */
static inline int sp_ksm_madvise(struct vm_area_struct *vma, unsigned long start,
				 unsigned long end, int advice, void *vm_flags)
{
	return (int)SP_CALL5(ksm_madvise, vma, start, end, advice, vm_flags);
}

static inline int sp_ksm_disable_merge_any(struct mm_struct *mm)
{
	return (int)SP_CALL1(ksm_disable_merge_any, mm);
}

/* memory_failure() (exported, but called like the other wrapped originals) */
static inline int sp_memory_failure(unsigned long pfn, int flags)
{
	return (int)SP_CALL2(memory_failure, pfn, flags);
}

/* drain_all_pages(): the per-CPU free lists of @zone (NULL: all) to the buddy lists */
static inline void sp_drain_all_pages(struct zone *zone)
{
	SP_CALL1(drain_all_pages, zone);
}

/* force_sig_mceerr(): SIGBUS with an MCE code to current (unexported) */
static inline int sp_force_sig_mceerr(int code, void __user *addr, short lsb)
{
	return (int)SP_CALL3(force_sig_mceerr, code, (__force unsigned long)addr, lsb);
}

#ifdef CONFIG_MEMCG
struct folio;
struct mm_struct;

/* __mem_cgroup_charge(): 0 or -ENOMEM (an int, so truncated). */
static inline int sp_mem_cgroup_charge(struct folio *folio, struct mm_struct *mm,
				       gfp_t gfp)
{
	return (int)SP_CALL3(mem_cgroup_charge, folio, mm, (__force unsigned int)gfp);
}

/* __mem_cgroup_uncharge(): what a page's free path does (mem_cgroup_uncharge()) */
static inline void sp_mem_cgroup_uncharge(struct folio *folio)
{
	SP_CALL1(mem_cgroup_uncharge, folio);
}
#endif

#include "compat-calls.h"

/*
 * The resolved data symbols, each with its one type (NULL when an optional
 * one is missing): in-tree KSM's ksm_run (unsigned long), ksm_thread_mutex,
 * ksm_zero_pages (an atomic_long_t on the kernels that have the per-mm
 * count samepage adds to) and mm_kobj (/sys/kernel/mm).
 */
#define SP_DATA(sym, type)	((type)samepage_ksyms.sym)
#define sp_ksm_run()		SP_DATA(ksm_run, unsigned long *)
#define sp_ksm_thread_mutex()	SP_DATA(ksm_thread_mutex, struct mutex *)
#define sp_ksm_zero_pages()	SP_DATA(ksm_zero_pages, atomic_long_t *)
#define sp_mm_kobj()		SP_DATA(mm_kobj, struct kobject **)

#endif /* SAMEPAGE_KSYMS_H */
