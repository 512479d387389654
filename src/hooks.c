// SPDX-License-Identifier: GPL-2.0
/*
 * Observing the kernel: kprobes that only count and never sleep.
 *
 * cow_breaks: a kprobe on do_wp_page(), the write-protect fault handler,
 * counts write faults whose PTE maps a kpage: each is a write that breaks
 * a merged page (copy on write). Unshare faults (samepage's own unmerging)
 * are not writes and are not counted. Every hook target is checked at load;
 * one that cannot be probed (inlined on some kernel) disables its feature
 * with one line in the log, never the load. /sys/kernel/mm/samepage/hooks
 * lists the active ones.
 */
#define pr_fmt(fmt) "samepage: " fmt

#include <linux/kprobes.h>
#include <linux/mm.h>
#include <linux/atomic.h>

#include "samepage.h"
#include "engine.h"

static atomic_long_t cow_breaks = ATOMIC_LONG_INIT(0);

/* do_wp_page(struct vm_fault *vmf): vmf is the first argument. */
static int wp_page_pre(struct kprobe *p, struct pt_regs *regs)
{
	struct vm_fault *vmf = (struct vm_fault *)regs->di;
	unsigned long pfn;

	if (vmf->flags & FAULT_FLAG_UNSHARE)
		return 0;
	pfn = pte_pfn(vmf->orig_pte);
	if (pte_present(vmf->orig_pte) && pfn_valid(pfn) &&
	    sp_is_kpage(pfn_to_page(pfn)))
		atomic_long_inc(&cow_breaks);
	return 0;
}

static struct kprobe wp_page_probe = {
	.symbol_name = "do_wp_page",
	.pre_handler = wp_page_pre,
};
static bool wp_page_active;

long sp_cow_breaks(void)
{
	return atomic_long_read(&cow_breaks);
}

/* The active hooks, for sysfs: "name:target(kind)" separated by spaces. */
ssize_t sp_hooks_show(char *buf)
{
	return sysfs_emit(buf, "%s\n", wp_page_active ?
			  "cow_breaks:do_wp_page(kprobe)" : "none");
}

int sp_hooks_init(void)
{
	int err = register_kprobe(&wp_page_probe);

	if (err)
		pr_info("cow_breaks disabled: cannot probe do_wp_page (%d)\n", err);
	wp_page_active = !err;
	return 0;
}

void sp_hooks_exit(void)
{
	if (wp_page_active)
		unregister_kprobe(&wp_page_probe);
}
