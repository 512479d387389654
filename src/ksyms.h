/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel symbols samepage resolves at load through kallsyms, and the one
 * IBT-safe way to call them.
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
	SP_PTE_LOCK_KSYM(X)

struct samepage_ksyms {
#define SP_KSYM_FIELD(field, name, required) unsigned long field;
	SAMEPAGE_KSYMS(SP_KSYM_FIELD)
#undef SP_KSYM_FIELD
};

extern struct samepage_ksyms samepage_ksyms;

int samepage_ksyms_init(const char *extra_required);

/* ibt_call.S: enter @fn with RET, passing up to six integer arguments. */
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

/* Address of a resolved data symbol, typed. */
#define SP_DATA(sym, type)	((type)samepage_ksyms.sym)

#endif /* SAMEPAGE_KSYMS_H */
