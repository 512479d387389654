// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/samepage: the ioctl interface (ABI in include/uapi/linux/samepage.h).
 *
 * The device is open to every user (mode 0666); each command checks its own
 * permission. Commands are matched on their type and number; the size of an
 * argument is taken from its leading @size field, never from the command
 * number, so an older or newer samepagectl keeps working.
 */
#define pr_fmt(fmt) "samepage: " fmt

#include <linux/miscdevice.h>
#include <linux/fs.h>
#include <linux/uaccess.h>
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/string.h>

#include <linux/sched/mm.h>
#include <linux/ptrace.h>
#include <linux/pid.h>
#include <linux/capability.h>
#include <linux/slab.h>
#include <linux/mm.h>

#include <uapi/linux/samepage.h>
#include "samepage.h"
#include "engine.h"
#include "ksyms.h"

/**
 * copy_arg_in() - fetch a size-prefixed ioctl argument
 * @uarg: user pointer to the argument, which starts with a __u32 size
 * @karg: kernel copy, @ksize bytes
 * @ksize: sizeof() the struct as this module knows it
 * @minsize: size of the first published layout of the struct
 * @usize: out: the size the caller declared
 *
 * Bytes beyond what the caller passed read as zero; bytes the caller passed
 * beyond what this module knows must be zero.
 *
 * Return: 0, -EFAULT for a bad pointer, -EINVAL for a size below @minsize or
 * above a page, -E2BIG for unknown non-zero trailing bytes.
 */
static int copy_arg_in(void __user *uarg, void *karg, size_t ksize,
		       size_t minsize, u32 *usize)
{
	int err;

	if (get_user(*usize, (u32 __user *)uarg))
		return -EFAULT;
	if (*usize < minsize || *usize > PAGE_SIZE)
		return -EINVAL;
	err = copy_struct_from_user(karg, ksize, uarg, *usize);
	if (err)
		return err;
	*(u32 *)karg = min_t(u32, *usize, ksize);
	return 0;
}

/* Write back at most the size the caller declared. */
static int copy_arg_out(void __user *uarg, const void *karg, size_t ksize,
			u32 usize)
{
	return copy_to_user(uarg, karg, min_t(size_t, usize, ksize)) ?
		-EFAULT : 0;
}

static int parse_version_triplet(unsigned int *v)
{
	return sscanf(SAMEPAGE_VERSION_STR, "%u.%u.%u", &v[0], &v[1], &v[2]) == 3 ?
		0 : -EINVAL;
}

static long ioctl_version(void __user *uarg)
{
	struct samepage_version ver;
	unsigned int v[3];
	u32 usize;
	int err;

	err = copy_arg_in(uarg, &ver, sizeof(ver), SAMEPAGE_VERSION_SIZE_VER0,
			  &usize);
	if (err)
		return err;
	err = parse_version_triplet(v);
	if (err)
		return err;
	ver.abi_version = SAMEPAGE_ABI_VERSION;
	ver.major = v[0];
	ver.minor = v[1];
	ver.patch = v[2];
	ver.features = 0;
	return copy_arg_out(uarg, &ver, sizeof(ver), usize);
}

/**
 * get_target_mm() - the mm of process @pid (0: the caller), if allowed
 * @pid: process id in the caller's pid namespace, 0 for the caller
 * @tgid: out: its thread group's struct pid, referenced (put_pid() it)
 *
 * Acting on another process needs what ptrace-attach needs
 * (PTRACE_MODE_ATTACH_REALCREDS) or CAP_SYS_ADMIN. A process outside the
 * caller's pid namespace has no id there: find_vpid() does not find it,
 * so a caller in a pid namespace gets ESRCH for it, root included.
 *
 * Return: a referenced mm (mmput() it), or ERR_PTR: -ESRCH (no such process
 * or a zombie), -EINVAL (a kernel thread), -EPERM.
 */
static struct mm_struct *get_target_mm(pid_t pid, struct pid **tgid)
{
	struct task_struct *task;
	struct mm_struct *mm;

	if (pid < 0)
		return ERR_PTR(-ESRCH);
	if (!pid) {
		task = current;
		get_task_struct(task);
	} else {
		rcu_read_lock();
		task = pid_task(find_vpid(pid), PIDTYPE_TGID);
		if (task)
			get_task_struct(task);
		rcu_read_unlock();
		if (!task)
			return ERR_PTR(-ESRCH);
	}
	if (task->flags & PF_KTHREAD) {
		mm = ERR_PTR(-EINVAL);
	} else if (task != current && !capable(CAP_SYS_ADMIN) &&
		   !sp_ptrace_may_access(task, PTRACE_MODE_ATTACH_REALCREDS)) {
		mm = ERR_PTR(-EPERM);
	} else {
		mm = get_task_mm(task);
		if (!mm)
			mm = ERR_PTR(-ESRCH);
		*tgid = get_task_pid(task, PIDTYPE_TGID);
	}
	put_task_struct(task);
	return mm;
}

/* Validate a page-aligned, non-empty user range; sets [*start, *end). */
static int user_range(u64 ustart, u64 len, unsigned long *start, unsigned long *end)
{
	if (!len || !PAGE_ALIGNED(ustart) || !PAGE_ALIGNED(len) ||
	    ustart >= TASK_SIZE || len > TASK_SIZE - ustart)
		return -EINVAL;
	*start = ustart;
	*end = ustart + len;
	return 0;
}

static long ioctl_register(void __user *uarg, bool reg)
{
	struct samepage_register r;
	unsigned long start = 0, end = 0;
	struct mm_struct *mm;
	struct pid *tgid;
	u32 usize;
	int err;

	err = copy_arg_in(uarg, &r, sizeof(r), SAMEPAGE_REGISTER_SIZE_VER0, &usize);
	if (err)
		return err;
	if ((r.flags & ~SAMEPAGE_REGISTER_RANGE) || r.pad)
		return -EINVAL;
	if (r.flags & SAMEPAGE_REGISTER_RANGE) {
		err = user_range(r.start, r.len, &start, &end);
		if (err)
			return err;
	} else if (r.start || r.len) {
		return -EINVAL;
	}
	mm = get_target_mm(r.pid, &tgid);
	if (IS_ERR(mm))
		return PTR_ERR(mm);
	err = reg ? sp_register(mm, tgid, start, end) : sp_unregister(mm, start, end);
	if (reg && !err)
		sp_scan_wake();		/* new memory to look at */
	mmput(mm);
	put_pid(tgid);
	return err;
}

static long ioctl_merge_range(void __user *uarg)
{
	struct samepage_merge_range m;
	unsigned long start, end;
	struct mm_struct *mm;
	struct pid *tgid;
	u32 usize;
	int err;

	err = copy_arg_in(uarg, &m, sizeof(m), SAMEPAGE_MERGE_RANGE_SIZE_VER0, &usize);
	if (err)
		return err;
	if (m.flags || m.pad || m.merged)
		return -EINVAL;
	err = user_range(m.start, m.len, &start, &end);
	if (err)
		return err;
	mm = get_target_mm(m.pid, &tgid);
	if (IS_ERR(mm))
		return PTR_ERR(mm);
	/* not a content oracle: see sp_key_scope() and Documentation/security.md */
	err = sp_merge_range(mm, tgid, start, end, !capable(CAP_SYS_ADMIN), &m.merged);
	mmput(mm);
	put_pid(tgid);
	return err ?: copy_arg_out(uarg, &m, sizeof(m), usize);
}

static long ioctl_proc_stat(void __user *uarg)
{
	struct samepage_proc_stat ps;
	struct mm_struct *mm;
	struct pid *tgid;
	pid_t pid;
	u32 usize;
	int err;

	err = copy_arg_in(uarg, &ps, sizeof(ps), SAMEPAGE_PROC_STAT_SIZE_VER0, &usize);
	if (err)
		return err;
	pid = ps.pid;
	memset(&ps, 0, sizeof(ps));
	ps.size = min_t(u32, usize, sizeof(ps));
	mm = get_target_mm(pid, &tgid);
	if (IS_ERR(mm))
		return PTR_ERR(mm);
	ps.pid = pid_vnr(tgid);
	sp_fill_proc_stat(mm, &ps);
	mmput(mm);
	put_pid(tgid);
	return copy_arg_out(uarg, &ps, sizeof(ps), usize);
}

static long ioctl_stats(void __user *uarg)
{
	struct samepage_stats st;
	u32 usize;
	int err;

	err = copy_arg_in(uarg, &st, sizeof(st), SAMEPAGE_STATS_SIZE_VER0, &usize);
	if (err)
		return err;
	if (st.pad)
		return -EINVAL;
	memset(&st, 0, sizeof(st));
	st.size = min_t(u32, usize, sizeof(st));
	sp_fill_stats(&st);
	return copy_arg_out(uarg, &st, sizeof(st), usize);
}

/*
 * LIST shows the processes the caller could inspect with ptrace, of its pid
 * namespace only (sp_fill_list() leaves out those without an id there).
 */
static bool list_visible(pid_t pid)
{
	struct task_struct *task;
	bool ok;

	if (capable(CAP_SYS_ADMIN))
		return true;
	rcu_read_lock();
	task = pid_task(find_vpid(pid), PIDTYPE_TGID);
	if (task)
		get_task_struct(task);
	rcu_read_unlock();
	if (!task)
		return false;
	ok = sp_ptrace_may_access(task, PTRACE_MODE_READ_REALCREDS);
	put_task_struct(task);
	return ok;
}

#define LIST_MAX	65536	/* processes one call looks at */

/*
 * LIST: the tracked processes the caller may see, written to the user's
 * array of @capacity entries of @entry_size bytes; @count says how many the
 * caller may see in all (call again with more room if it exceeds capacity).
 */
static long ioctl_list(void __user *uarg)
{
	struct samepage_proc_entry *entries;
	struct samepage_list l;
	u32 usize, esize, total, seen = 0;
	int err;

	err = copy_arg_in(uarg, &l, sizeof(l), SAMEPAGE_LIST_SIZE_VER0, &usize);
	if (err)
		return err;
	if (l.count || l.entry_size < SAMEPAGE_PROC_ENTRY_SIZE_VER0 ||
	    l.entry_size > PAGE_SIZE || (l.capacity && !l.entries))
		return -EINVAL;
	total = min_t(u32, sp_fill_list(NULL, 0), LIST_MAX);	/* how many now */
	entries = kvcalloc(max_t(u32, total, 1), sizeof(*entries), GFP_KERNEL);
	if (!entries)
		return -ENOMEM;
	total = min(sp_fill_list(entries, total), total);
	esize = min_t(u32, l.entry_size, sizeof(*entries));
	for (u32 i = 0; i < total && !err; i++) {
		void __user *dst = u64_to_user_ptr(l.entries) + (u64)seen * l.entry_size;

		if (!list_visible(entries[i].pid))
			continue;
		if (seen < l.capacity &&
		    (copy_to_user(dst, &entries[i], esize) ||
		     clear_user(dst + esize, l.entry_size - esize)))
			err = -EFAULT;
		seen++;
	}
	kvfree(entries);
	l.count = seen;
	l.entry_size = esize;
	return err ?: copy_arg_out(uarg, &l, sizeof(l), usize);
}

static long samepage_ioctl(struct file *file, unsigned int cmd,
			   unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	if (_IOC_TYPE(cmd) != SAMEPAGE_IOC_MAGIC)
		return -ENOTTY;
	switch (_IOC_NR(cmd)) {
	case _IOC_NR(SAMEPAGE_IOC_VERSION):
		return ioctl_version(uarg);
	case _IOC_NR(SAMEPAGE_IOC_REGISTER):
		return ioctl_register(uarg, true);
	case _IOC_NR(SAMEPAGE_IOC_UNREGISTER):
		return ioctl_register(uarg, false);
	case _IOC_NR(SAMEPAGE_IOC_MERGE_RANGE):
		return ioctl_merge_range(uarg);
	case _IOC_NR(SAMEPAGE_IOC_PROC_STAT):
		return ioctl_proc_stat(uarg);
	case _IOC_NR(SAMEPAGE_IOC_STATS):
		return ioctl_stats(uarg);
	case _IOC_NR(SAMEPAGE_IOC_LIST):
		return ioctl_list(uarg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations samepage_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = samepage_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice samepage_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "samepage",
	.fops = &samepage_fops,
	.mode = 0666,
};

int samepage_chardev_init(void)
{
	return misc_register(&samepage_misc);
}

void samepage_chardev_exit(void)
{
	misc_deregister(&samepage_misc);
}
