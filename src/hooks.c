// SPDX-License-Identifier: GPL-2.0
/*
 * Where samepage hooks the kernel, and nothing else. Each hook is small:
 * what it learns is handed to the engine without blocking.
 *
 *  cow_breaks     kprobe on do_wp_page(): a write fault on a kpage is a
 *                 write that breaks a merged page (counted, traced); one
 *                 on samepage's zero page takes it out of ksm_zero_pages
 *                 at once, as in-tree does (not on PREEMPT_RT, where the
 *                 handler may not take the spinlock: the next pass does).
 *                 Armed only while something may be merged, and for
 *                 10 s after (see sp_cow_probe_set() and probe.c), so that
 *                 while samepage merges nothing, no write fault on the
 *                 machine pays for it.
 *  follow_madvise kprobe on __ksm_enter(): MADV_MERGEABLE or
 *                 PR_SET_MEMORY_MERGE opts a process in at the call.
 *  unmerge_madvise  ftrace on ksm_madvise(): MADV_UNMERGEABLE unmerges
 *                 samepage's pages of the range before madvise() returns.
 *  unmerge_prctl  ftrace on ksm_disable_merge_any(): the same for
 *                 PR_SET_MEMORY_MERGE=0 (6.4+), over the whole process.
 *  inherit_fork   tracepoint sched_process_fork: a child of a process
 *                 registered whole is registered whole; a child that
 *                 in-tree KSM made mergeable is followed.
 *  inherit_exec   kprobe on begin_new_exec(): so is the new mm of an exec.
 *  memory_errors  ftrace on memory_failure(): after the kernel's own
 *                 handling, a poisoned kpage is taken out of every mapping
 *                 (hwpoison.c), which the kernel cannot do for it.
 *
 * The two unmerge hooks and memory_errors need the caller's sleepable context (they fault
 * pages in), which a kprobe handler is not: their ftrace callback sends
 * the traced function to a wrapper in this file, which calls the original
 * (recognised by its return address inside this module, so not redirected
 * again) and then unmerges, under the mmap lock the caller already holds.
 *
 * Every target is checked at load; one that is missing (a kernel without
 * it, or with it inlined) disables its feature with one line in the log,
 * never the load. /sys/kernel/mm/samepage/hooks lists the active ones.
 */
#define pr_fmt(fmt) "samepage: " fmt

#include <linux/kprobes.h>
#include <linux/ftrace.h>
#include <linux/tracepoint.h>
#include <linux/binfmts.h>
#include <linux/mman.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/atomic.h>
#include <linux/wait_bit.h>

#include "samepage.h"
#include "engine.h"
#include "ksyms.h"
#include "trace.h"

static atomic_long_t cow_breaks = ATOMIC_LONG_INIT(0);

long sp_cow_breaks(void)
{
	return atomic_long_read(&cow_breaks);
}

/* do_wp_page(struct vm_fault *vmf): vmf is the first argument. */
static int wp_page_pre(struct kprobe *p, struct pt_regs *regs)
{
	struct vm_fault *vmf = (struct vm_fault *)regs_get_kernel_argument(regs, 0);
	unsigned long pfn;

	if (vmf->flags & FAULT_FLAG_UNSHARE)
		return 0;	/* samepage's own unmerging, not a write */
	if (!pte_present(vmf->orig_pte))
		return 0;
	pfn = pte_pfn(vmf->orig_pte);
	if (is_zero_pfn(pfn)) {
		if (!IS_ENABLED(CONFIG_PREEMPT_RT))
			sp_zero_gone(vmf->vma->vm_mm, vmf->address & PAGE_MASK);
		return 0;
	}
	if (pfn_valid(pfn) && sp_is_kpage(pfn_to_page(pfn))) {
		atomic_long_inc(&cow_breaks);
		trace_cow_break(vmf->vma->vm_mm, vmf->address);
	}
	return 0;
}

/* begin_new_exec(struct linux_binprm *bprm): current->mm is still the old mm. */
static int new_exec_pre(struct kprobe *p, struct pt_regs *regs)
{
	struct linux_binprm *bprm = (struct linux_binprm *)regs_get_kernel_argument(regs, 0);
	struct mm_struct *old = current->mm;

	if (old && bprm->mm && sp_inherits(old))
		sp_inherit(bprm->mm, task_tgid(current));
	return 0;
}

/* __ksm_enter(struct mm_struct *mm): an mm opts in to (in-tree) KSM. */
static int ksm_enter_pre(struct kprobe *p, struct pt_regs *regs)
{
	struct mm_struct *mm = (struct mm_struct *)regs_get_kernel_argument(regs, 0);

	if (!mm)
		return 0;
	/* inside ksm_fork(): a mergeable parent's child (queued at the fork) */
	if (mm != current->mm) {
		if (current->mm)
			sp_fork_fixup(current->mm, mm, true);
		return 0;
	}
	/* madvise() and prctl() on the caller's mm */
	if (READ_ONCE(samepage_knobs.follow_madvise))
		sp_queue_follow(mm, task_tgid(current));
	return 0;
}

static void fork_probe(void *data, struct task_struct *parent,
		       struct task_struct *child)
{
	struct mm_struct *mm = child->mm;

	/* threads and vfork share the parent's mm: nothing new */
	if (!mm || mm == parent->mm || !parent->mm)
		return;
	if (!sp_mm_ksm_mergeable(mm))	/* else done inside ksm_fork() */
		sp_fork_fixup(parent->mm, mm, false);
	if (sp_inherits(parent->mm))
		sp_inherit(mm, task_tgid(child));
	else if (sp_mm_ksm_mergeable(mm) && READ_ONCE(samepage_knobs.follow_madvise))
		sp_queue_follow(mm, task_tgid(child));
}

/* In-flight ftrace wrappers, which unload waits for. */
static atomic_t wrappers_running = ATOMIC_INIT(0);

static void wrapper_enter(void)
{
	atomic_inc(&wrappers_running);
}

static void wrapper_leave(void)
{
	if (atomic_dec_and_test(&wrappers_running))
		wake_up_var(&wrappers_running);
}

/* Replaces ksm_madvise(): the same, plus samepage's synchronous unmerge. */
static int ksm_madvise_wrapper(struct vm_area_struct *vma, unsigned long start,
			       unsigned long end, int advice, void *vm_flags)
{
	int err;

	wrapper_enter();
	err = sp_ksm_madvise(vma, start, end, advice, vm_flags);
	if (!err && advice == MADV_UNMERGEABLE)
		err = __sp_unmerge_range(vma->vm_mm, start, end);
	wrapper_leave();
	return err;
}

/* Replaces ksm_disable_merge_any() (prctl PR_SET_MEMORY_MERGE, 0). */
static int disable_merge_any_wrapper(struct mm_struct *mm)
{
	bool was = sp_mm_merge_any(mm);
	int err;

	wrapper_enter();
	err = sp_ksm_disable_merge_any(mm);
	if (!err && was)
		err = __sp_unmerge_range(mm, 0, TASK_SIZE);
	wrapper_leave();
	return err;
}

/* Replaces memory_failure(): the kernel's handling, then samepage's. */
static int memory_failure_wrapper(unsigned long pfn, int flags)
{
	int err;

	wrapper_enter();
	err = sp_memory_failure(pfn, flags);
	err = sp_hwpoison_kpage(pfn, flags, err);
	wrapper_leave();
	return err;
}

enum sp_hook_kind { SP_KPROBE, SP_FTRACE, SP_TRACEPOINT };

/**
 * struct sp_hook - one hook point
 * @feature: what it gives (the name in /sys/kernel/mm/samepage/hooks)
 * @target: the kernel function or tracepoint
 * @kind: how it is hooked
 * @pre: SP_KPROBE: the handler
 * @wrapper: SP_FTRACE: the replacement function
 * @orig: SP_FTRACE: the samepage_ksyms field holding the original, which
 *	the wrapper calls (0 if it did not resolve)
 * @probe: SP_TRACEPOINT: the probe
 * @kp: SP_KPROBE state
 * @ops: SP_FTRACE state
 * @tp: SP_TRACEPOINT: the tracepoint found by name
 * @on_demand: SP_KPROBE: registered disarmed, armed by sp_cow_probe_set()
 * @active: registered
 */
struct sp_hook {
	const char *feature;
	const char *target;
	enum sp_hook_kind kind;
	kprobe_pre_handler_t pre;
	void *wrapper;
	const unsigned long *orig;
	void *probe;
	struct kprobe kp;
	struct ftrace_ops ops;
	struct tracepoint *tp;
	bool on_demand;
	bool active;
};

static struct sp_hook hooks[] = {
	/* first: sp_cow_probe_set() arms and disarms hooks[0] */
	{ "cow_breaks", "do_wp_page", SP_KPROBE, .pre = wp_page_pre, .on_demand = true },
	{ "unmerge_madvise", "ksm_madvise", SP_FTRACE, .wrapper = ksm_madvise_wrapper,
	  .orig = &samepage_ksyms.ksm_madvise },
	{ "unmerge_prctl", "ksm_disable_merge_any", SP_FTRACE,
	  .wrapper = disable_merge_any_wrapper,
	  .orig = &samepage_ksyms.ksm_disable_merge_any },
	{ "inherit_fork", "sched_process_fork", SP_TRACEPOINT, .probe = fork_probe },
	{ "inherit_exec", "begin_new_exec", SP_KPROBE, .pre = new_exec_pre },
	{ "follow_madvise", "__ksm_enter", SP_KPROBE, .pre = ksm_enter_pre },
	{ "memory_errors", "memory_failure", SP_FTRACE, .wrapper = memory_failure_wrapper,
	  .orig = &samepage_ksyms.memory_failure },
};

static const char *const kind_names[] = {
	[SP_KPROBE] = "kprobe", [SP_FTRACE] = "ftrace", [SP_TRACEPOINT] = "tracepoint",
};

/* Send the traced function to its wrapper, unless the wrapper calls it. */
static void notrace ftrace_redirect(unsigned long ip, unsigned long parent_ip,
				    struct ftrace_ops *ops, struct ftrace_regs *fregs)
{
	struct sp_hook *hook = container_of(ops, struct sp_hook, ops);

	if (!within_module(parent_ip, THIS_MODULE))
		sp_ftrace_set_ip(fregs, (unsigned long)hook->wrapper);
}

static void find_tracepoint(struct tracepoint *tp, void *priv)
{
	struct sp_hook *hook = priv;

	if (!strcmp(tp->name, hook->target))
		hook->tp = tp;
}

static int hook_register(struct sp_hook *hook)
{
	int err;

	switch (hook->kind) {
	case SP_KPROBE:
		hook->kp.symbol_name = hook->target;
		hook->kp.pre_handler = hook->pre;
		hook->kp.flags = hook->on_demand ? KPROBE_FLAG_DISABLED : 0;
		return register_kprobe(&hook->kp);
	case SP_FTRACE:
		if (!*hook->orig)
			return -ENOENT;
		if (!SP_FTRACE_REDIRECTS)	/* src/compat.h */
			return -EOPNOTSUPP;
		hook->ops.func = ftrace_redirect;
		hook->ops.flags = SP_FTRACE_OPS_FL_REGS | FTRACE_OPS_FL_IPMODIFY |
				  FTRACE_OPS_FL_RECURSION;
		err = ftrace_set_filter(&hook->ops, (unsigned char *)hook->target,
					strlen(hook->target), 0);
		if (!err)
			err = register_ftrace_function(&hook->ops);
		if (err)
			ftrace_free_filter(&hook->ops);
		return err;
	case SP_TRACEPOINT:
		for_each_kernel_tracepoint(find_tracepoint, hook);
		if (!hook->tp)
			return -ENOENT;
		return tracepoint_probe_register(hook->tp, hook->probe, NULL);
	}
	return -EINVAL;
}

static void hook_unregister(struct sp_hook *hook)
{
	switch (hook->kind) {
	case SP_KPROBE:
		unregister_kprobe(&hook->kp);
		break;
	case SP_FTRACE:
		unregister_ftrace_function(&hook->ops);
		ftrace_free_filter(&hook->ops);
		break;
	case SP_TRACEPOINT:
		tracepoint_probe_unregister(hook->tp, hook->probe, NULL);
		break;
	}
}

/* The active hooks, for sysfs: "feature:target(kind)" separated by spaces. */
ssize_t sp_hooks_show(char *buf)
{
	ssize_t len = 0;

	for (unsigned int i = 0; i < ARRAY_SIZE(hooks); i++)
		if (hooks[i].active)
			len += sysfs_emit_at(buf, len, "%s%s:%s(%s)", len ? " " : "",
					     hooks[i].feature, hooks[i].target,
					     kind_names[hooks[i].kind]);
	return len + sysfs_emit_at(buf, len, "%s\n", len ? "" : "none");
}

/**
 * sp_cow_probe_set() - arm or disarm the write-fault probe (cow_breaks)
 * @on: arm it
 *
 * Sleeps (kprobe_mutex, text patching): never with the engine lock held.
 * Serialised by the caller (probe.c's probe_lock).
 *
 * Return: 0, also when the hook is not active (nothing to arm), or the
 * error of enable_kprobe()/disable_kprobe().
 */
int sp_cow_probe_set(bool on)
{
	struct sp_hook *hook = &hooks[0];
	int err;

	lockdep_assert_not_held(&samepage_engine.lock);
	if (!hook->active)
		return 0;
	err = on ? enable_kprobe(&hook->kp) : disable_kprobe(&hook->kp);
	if (!err)
		trace_cow_probe(on);
	return err;
}

int sp_hooks_init(void)
{
	for (unsigned int i = 0; i < ARRAY_SIZE(hooks); i++) {
		int err = hook_register(&hooks[i]);

		if (err)
			pr_info("%s disabled: cannot hook %s (%d)\n",
				hooks[i].feature, hooks[i].target, err);
		hooks[i].active = !err;
	}
	return 0;
}

/*
 * Unload. Once unregistered no hook is entered any more, but a task may
 * still be inside an ftrace wrapper (faulting, or preempted before it
 * counted itself): RCU-tasks grace periods end only when every task has
 * left such code voluntarily, one before and one after the count drains.
 */
void sp_hooks_exit(void)
{
	for (unsigned int i = 0; i < ARRAY_SIZE(hooks); i++)
		if (hooks[i].active)
			hook_unregister(&hooks[i]);
	tracepoint_synchronize_unregister();
	synchronize_rcu_tasks();
	wait_var_event(&wrappers_running, !atomic_read(&wrappers_running));
	synchronize_rcu_tasks();
}
