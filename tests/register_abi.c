// SPDX-License-Identifier: GPL-2.0
/*
 * REGISTER / UNREGISTER: the errno for every bad argument, and who may do
 * what: any user may register itself; another user's process and the
 * global knobs are refused.
 */
#include <sys/syscall.h>
#include "sp.h"

static int reg(unsigned int cmd, struct samepage_register r)
{
	return ioctl(sp_dev(), cmd, &r) ? -errno : 0;
}

#define R(...) ((struct samepage_register){ .size = sizeof(struct samepage_register), __VA_ARGS__ })
#define RANGE SAMEPAGE_REGISTER_RANGE

int main(void)
{
	unsigned int REG = SAMEPAGE_IOC_REGISTER, UNREG = SAMEPAGE_IOC_UNREGISTER;
	char *buf;
	uint64_t a;
	pid_t gone, zombie, pid;
	int status;

	sp_test_init(19);
	sp_reset();
	buf = map_pages(4);
	a = (uintptr_t)buf;

	tap_ok(reg(REG, R(.flags = 2)) == -EINVAL, "unknown flag: EINVAL");
	tap_ok(reg(REG, R(.pad = 1)) == -EINVAL, "non-zero padding: EINVAL");
	tap_ok(reg(REG, R(.start = a)) == -EINVAL, "start without RANGE: EINVAL");
	tap_ok(reg(REG, R(.flags = RANGE, .start = a)) == -EINVAL, "empty range: EINVAL");
	tap_ok(reg(REG, R(.flags = RANGE, .start = a + 1, .len = page_size)) == -EINVAL,
	       "unaligned start: EINVAL");
	tap_ok(reg(REG, R(.flags = RANGE, .start = a, .len = 100)) == -EINVAL,
	       "unaligned length: EINVAL");
	tap_ok(reg(REG, R(.flags = RANGE, .start = a, .len = -(uint64_t)page_size)) == -EINVAL,
	       "range that wraps: EINVAL");
	tap_ok(reg(REG, R(.flags = RANGE, .start = 0xffff800000000000ULL, .len = page_size)) == -EINVAL,
	       "kernel address range: EINVAL");
	{
		struct samepage_register r = R(.flags = RANGE, .start = a, .len = page_size);

		r.size = 16;
		tap_ok(ioctl(sp_dev(), REG, &r) < 0 && errno == EINVAL,
		       "size below the first layout: EINVAL");
	}

	gone = fork();
	if (!gone)
		_exit(0);
	waitpid(gone, NULL, 0);
	tap_ok(reg(REG, R(.pid = gone)) == -ESRCH, "pid of an exited process: ESRCH");
	tap_ok(reg(REG, R(.pid = -5)) == -ESRCH, "negative pid: ESRCH");
	tap_ok(reg(REG, R(.pid = 2)) == -EINVAL, "a kernel thread (kthreadd): EINVAL");
	zombie = fork();
	if (!zombie)
		_exit(0);
	usleep(200000);		/* let it die; it stays a zombie until reaped */
	tap_ok(reg(REG, R(.pid = zombie)) == -ESRCH, "a zombie: ESRCH");
	waitpid(zombie, NULL, 0);

	tap_ok(reg(UNREG, R(.pid = 0)) == -ENOENT, "UNREGISTER of an unregistered process: ENOENT");
	tap_ok(reg(REG, R(.pid = 0)) == 0 && reg(REG, R(.pid = 0)) == -EEXIST &&
	       reg(REG, R(.flags = RANGE, .start = a, .len = page_size)) == -EEXIST,
	       "registering a registered whole process again: EEXIST");
	tap_ok(reg(UNREG, R(.flags = RANGE, .start = a, .len = page_size)) == -EINVAL &&
	       reg(UNREG, R(.pid = 0)) == 0,
	       "a range of a whole registration: EINVAL; the whole: 0");

	/* an unprivileged user: itself yes, root's process and knobs no */
	pid = fork();
	if (!pid) {
		pid_t root = getppid();
		int ok = 1;

		sp_close_dev();
		if (setgid(1000) || setuid(1000))
			_exit(10);
		ok &= reg(REG, R(.flags = RANGE, .start = a, .len = 4 * page_size)) == 0;
		ok &= reg(UNREG, R(.flags = RANGE, .start = a, .len = 4 * page_size)) == 0;
		if (!ok)
			_exit(11);
		ok = reg(REG, R(.pid = root));
		if (ok != -EPERM) {
			fprintf(stderr, "REGISTER of root's pid as uid 1000: %d\n", ok);
			_exit(12);
		}
		if (set_knob("run", "1") != -EACCES || set_knob("max_page_sharing", "3") != -EACCES)
			_exit(13);
		_exit(0);
	}
	waitpid(pid, &status, 0);
	tap_ok(WIFEXITED(status) && WEXITSTATUS(status) != 10 && WEXITSTATUS(status) != 11,
	       "uid 1000 registers and unregisters its own range (exit %d)",
	       WEXITSTATUS(status));
	tap_ok(WIFEXITED(status) && WEXITSTATUS(status) != 12 && WEXITSTATUS(status) <= 13,
	       "uid 1000 gets EPERM for root's process (exit %d)", WEXITSTATUS(status));
	tap_ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	       "uid 1000 gets EACCES for the global knobs");
	sp_restore();
	return tap_done();
}
