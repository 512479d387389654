// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/samepage VERSION ioctl and the size rules every samepage ioctl
 * follows: exact answers for good, short, long, zero-padded and garbage
 * arguments, bad pointers and unknown commands; usable by any user.
 */
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/samepage.h>
#include "tap.h"

static long do_ioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) < 0 ? -errno : 0;
}

int main(void)
{
	struct samepage_version v;
	unsigned char big[8192];
	struct stat st;
	long page = sysconf(_SC_PAGESIZE);
	char *unmapped;
	long rc;
	int fd;

	tap_plan(14);
	fd = open(SAMEPAGE_DEVICE, O_RDONLY);
	if (fd < 0)
		tap_bail("open %s: %s", SAMEPAGE_DEVICE, strerror(errno));

	tap_ok(stat(SAMEPAGE_DEVICE, &st) == 0 && S_ISCHR(st.st_mode) &&
	       (st.st_mode & 0777) == 0666, "device is a 0666 char device");

	memset(&v, 0xff, sizeof(v));
	v.size = sizeof(v);
	rc = do_ioctl(fd, SAMEPAGE_IOC_VERSION, &v);
	tap_ok(rc == 0 && v.abi_version == SAMEPAGE_ABI_VERSION &&
	       v.size == sizeof(v) && v.features == 0,
	       "VERSION answers ABI %u (got %u)", SAMEPAGE_ABI_VERSION,
	       v.abi_version);
	tap_ok(v.major == 0 && v.minor == 1 && v.patch == 0,
	       "VERSION reports module 0.1.0 (got %u.%u.%u)", v.major, v.minor,
	       v.patch);

	v.size = 4;
	tap_ok(do_ioctl(fd, SAMEPAGE_IOC_VERSION, &v) == -EINVAL,
	       "size below the first layout is EINVAL");
	v.size = 0;
	tap_ok(do_ioctl(fd, SAMEPAGE_IOC_VERSION, &v) == -EINVAL,
	       "size 0 is EINVAL");

	memset(big, 0, sizeof(big));
	((struct samepage_version *)big)->size = 64;
	memset(big + 64, 0xee, 16);	/* beyond the declared size: ignored */
	tap_ok(do_ioctl(fd, SAMEPAGE_IOC_VERSION, big) == 0 &&
	       ((struct samepage_version *)big)->abi_version == SAMEPAGE_ABI_VERSION &&
	       big[64] == 0xee && big[sizeof(v)] == 0,
	       "a longer, zero-padded struct is accepted; nothing past %zu bytes is written",
	       sizeof(v));

	memset(big, 0, sizeof(big));
	((struct samepage_version *)big)->size = 64;
	big[40] = 1;
	tap_ok(do_ioctl(fd, SAMEPAGE_IOC_VERSION, big) == -E2BIG,
	       "unknown non-zero trailing bytes are E2BIG");

	((struct samepage_version *)big)->size = (unsigned int)page + 1;
	tap_ok(do_ioctl(fd, SAMEPAGE_IOC_VERSION, big) == -EINVAL,
	       "size above a page is EINVAL");

	tap_ok(do_ioctl(fd, SAMEPAGE_IOC_VERSION, NULL) == -EFAULT,
	       "NULL argument is EFAULT");
	unmapped = mmap(NULL, page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	tap_ok(do_ioctl(fd, SAMEPAGE_IOC_VERSION, unmapped) == -EFAULT,
	       "PROT_NONE argument is EFAULT");
	tap_ok(do_ioctl(fd, SAMEPAGE_IOC_VERSION, (void *)0xffffffff81000000UL) == -EFAULT,
	       "kernel-address argument is EFAULT");

	tap_ok(do_ioctl(fd, _IOWR(SAMEPAGE_IOC_MAGIC, 0x7f, struct samepage_version), &v) == -ENOTTY,
	       "unknown command number is ENOTTY");
	tap_ok(do_ioctl(fd, _IOWR('T', 0x00, struct samepage_version), &v) == -ENOTTY,
	       "foreign ioctl type is ENOTTY");

	/* any user may ask for the version */
	if (setgid(65534) || setuid(65534))
		tap_bail("cannot drop to nobody: %s", strerror(errno));
	close(fd);
	fd = open(SAMEPAGE_DEVICE, O_RDONLY);
	v.size = sizeof(v);
	tap_ok(fd >= 0 && do_ioctl(fd, SAMEPAGE_IOC_VERSION, &v) == 0 &&
	       v.abi_version == SAMEPAGE_ABI_VERSION,
	       "an unprivileged user (uid 65534) gets VERSION");
	return tap_done();
}
