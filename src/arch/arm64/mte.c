// SPDX-License-Identifier: GPL-2.0
/*
 * mte_sync_tags() for samepage on arm64.
 *
 * With CONFIG_ARM64_MTE, set_pte_at() and set_ptes() (inlines of
 * asm/pgtable.h) synchronise a tagged page's MTE tags by calling
 * mte_sync_tags(), which vmlinux does not export, so a module that installs
 * a PTE does not link. In-tree KSM is built in and calls it directly. This
 * definition satisfies the module's references and calls the kernel's own,
 * resolved through kallsyms at load (required on MTE kernels: src/compat.h).
 * It runs only on a CPU that has MTE, for a tagged user mapping.
 */
#include <linux/mm.h>
#include <asm/mte.h>
#include "ksyms.h"

#ifdef CONFIG_ARM64_MTE
/* the kernel's prototype, whichever it is (src/compat-calls.h) */
void mte_sync_tags(SP_MTE_SYNC_TAGS_PARAMS)
{
	sp_mte_sync_tags(SP_MTE_SYNC_TAGS_ARGS);
}
#endif
