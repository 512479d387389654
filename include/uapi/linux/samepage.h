/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * samepage - Kernel Samepage Merging as a loadable module: ioctl ABI of
 * /dev/samepage, shared by the module and by samepagectl.
 *
 * Rules of this ABI (see Documentation/abi.md):
 *  - every argument struct starts with a __u32 @size that the caller sets to
 *    sizeof() of the struct it was compiled against;
 *  - the kernel accepts any size from the first published layout of that
 *    struct up to one page; bytes the kernel does not know must be zero
 *    (else E2BIG), bytes the caller did not pass read as zero; on output the
 *    kernel writes back at most @size bytes;
 *  - the command number is matched on type and number only: _IOC_SIZE of the
 *    command is not checked, the @size field is;
 *  - fields are explicitly sized and naturally aligned, with explicit padding
 *    that must be zero; no kernel-only types.
 */
#ifndef _UAPI_LINUX_SAMEPAGE_H
#define _UAPI_LINUX_SAMEPAGE_H

#include <linux/types.h>
#include <linux/ioctl.h>

/* Bumped on every incompatible change; additions keep the number. */
#define SAMEPAGE_ABI_VERSION	1

#define SAMEPAGE_DEVICE		"/dev/samepage"
#define SAMEPAGE_SYSFS_DIR	"/sys/kernel/mm/samepage"

/* ioctl type byte; not listed in Documentation/userspace-api/ioctl */
#define SAMEPAGE_IOC_MAGIC	0xB5

/**
 * struct samepage_version - answer of SAMEPAGE_IOC_VERSION
 * @size:	in: sizeof(struct samepage_version)
 * @abi_version: out: SAMEPAGE_ABI_VERSION of the loaded module
 * @major:	out: module version, major
 * @minor:	out: module version, minor
 * @patch:	out: module version, patch
 * @features:	out: SAMEPAGE_FEAT_* bits active in this load
 */
struct samepage_version {
	__u32 size;
	__u32 abi_version;
	__u32 major;
	__u32 minor;
	__u32 patch;
	__u32 features;
};

#define SAMEPAGE_VERSION_SIZE_VER0	24	/* first published layout */

#define SAMEPAGE_IOC_VERSION	_IOWR(SAMEPAGE_IOC_MAGIC, 0x00, struct samepage_version)

/**
 * struct samepage_register - argument of SAMEPAGE_IOC_REGISTER/UNREGISTER
 * @size:	sizeof(struct samepage_register)
 * @flags:	0 for the whole process, or SAMEPAGE_REGISTER_RANGE; other
 *		bits are reserved (EINVAL)
 * @pid:	process (thread group) id, 0 for the caller
 * @pad:	must be 0
 * @start:	with SAMEPAGE_REGISTER_RANGE: page-aligned start address
 * @len:	with SAMEPAGE_REGISTER_RANGE: page-aligned length, not 0;
 *		without it both must be 0
 *
 * A whole process is inherited by nothing yet (fork/exec inheritance is a
 * later ABI addition). Unregistering a range trims or splits registered
 * ranges it overlaps; unregistering unmerges first, synchronously.
 */
struct samepage_register {
	__u32 size;
	__u32 flags;
	__s32 pid;
	__u32 pad;
	__u64 start;
	__u64 len;
};

#define SAMEPAGE_REGISTER_RANGE		(1U << 0)
#define SAMEPAGE_REGISTER_SIZE_VER0	32

#define SAMEPAGE_IOC_REGISTER	_IOW(SAMEPAGE_IOC_MAGIC, 0x01, struct samepage_register)
#define SAMEPAGE_IOC_UNREGISTER	_IOW(SAMEPAGE_IOC_MAGIC, 0x02, struct samepage_register)

#endif /* _UAPI_LINUX_SAMEPAGE_H */
