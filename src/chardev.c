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

#include <uapi/linux/samepage.h>
#include "samepage.h"

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

static long samepage_ioctl(struct file *file, unsigned int cmd,
			   unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	if (_IOC_TYPE(cmd) != SAMEPAGE_IOC_MAGIC)
		return -ENOTTY;
	switch (_IOC_NR(cmd)) {
	case _IOC_NR(SAMEPAGE_IOC_VERSION):
		return ioctl_version(uarg);
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
