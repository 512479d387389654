// SPDX-License-Identifier: GPL-2.0
/*
 * samepagectl: talking to the module (/dev/samepage, sysfs), parsing
 * numbers, and saying in one line what went wrong.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl.h"

void errmsg(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/*
 * samepage's sysfs tree: SAMEPAGE_SYSFS_DIR, or $SAMEPAGECTL_SYSFS_DIR (a
 * testing aid: the host tests point metrics and apply-config at a fake tree).
 */
const char *sp_sysfs_dir(void)
{
	const char *dir = getenv("SAMEPAGECTL_SYSFS_DIR");

	return dir && *dir ? dir : SAMEPAGE_SYSFS_DIR;
}

bool module_loaded(void)
{
	struct stat st;

	return stat(sp_sysfs_dir(), &st) == 0;
}

int not_loaded(void)
{
	errmsg("samepage is not loaded (%s is missing); load it with 'modprobe samepage'",
	       sp_sysfs_dir());
	return 1;
}

/*
 * Run one ioctl on /dev/samepage. @what names the action for the error
 * line, @pid the process it was about (0: none or self).
 * Return: 0, or 1 after printing why it failed.
 */
int sp_ioctl(unsigned long cmd, void *arg, const char *what, pid_t pid)
{
	int fd = open(SAMEPAGE_DEVICE, O_RDONLY | O_CLOEXEC), err;

	if (fd < 0) {
		if (errno == ENOENT && !module_loaded())
			return not_loaded();
		errmsg("cannot open %s: %s", SAMEPAGE_DEVICE, strerror(errno));
		return 1;
	}
	err = ioctl(fd, cmd, arg) ? errno : 0;
	close(fd);
	switch (err) {
	case 0:
		return 0;
	case ESRCH:
		errmsg("%s: no process %d (or it is exiting)", what, pid);
		break;
	case EPERM:
	case EACCES:
		errmsg("%s: permission denied (process %d belongs to another user; need root or the right to ptrace it)",
		       what, pid);
		break;
	case EEXIST:
		errmsg("%s: process %d is registered already", what, pid);
		break;
	case ENOENT:
		errmsg("%s: process %d is not registered", what, pid);
		break;
	case EINVAL:
		errmsg("%s: invalid argument (addresses must be page-aligned, inside the process, length not 0; not a kernel thread)",
		       what);
		break;
	case ENOTTY:
		errmsg("%s: the loaded module does not know this command (older module?)", what);
		break;
	default:
		errmsg("%s: %s", what, strerror(err));
	}
	return 1;
}

/* Read a sysfs value (first line, no newline). Return 0 or -errno. */
int read_knob(const char *dir, const char *name, char *out, size_t len)
{
	char path[512];
	FILE *f;

	out[0] = '\0';
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	if (!fgets(out, (int)len, f))
		out[0] = '\0';
	out[strcspn(out, "\n")] = '\0';
	fclose(f);
	return 0;
}

/*
 * Write a samepage knob, explaining the kernel's answer in one line that
 * starts with @where (e.g. "FILE:LINE: ") when it is not NULL.
 * Return: 0 or 1.
 */
int write_knob_at(const char *where, const char *name, const char *value)
{
	const char *w = where ? where : "";
	char path[512];
	int fd, err = 0;

	if (!*name || strchr(name, '/') || name[0] == '.') {
		errmsg("%s'%s' is not a samepage setting", w, name);
		return 1;
	}
	snprintf(path, sizeof(path), "%s/%s", sp_sysfs_dir(), name);
	/* O_TRUNC: sysfs ignores it; a fake tree of plain files needs it */
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		err = errno;
	else if (write(fd, value, strlen(value)) != (ssize_t)strlen(value))
		err = errno;
	if (fd >= 0)
		close(fd);
	switch (err) {
	case 0:
		return 0;
	case ENOENT:
		if (!module_loaded())
			return not_loaded();
		errmsg("%s'%s' is not a samepage setting (see samepagectl status)", w, name);
		break;
	case EACCES:
	case EPERM:
		errmsg("%s%s: permission denied (settings need root)", w, name);
		break;
	case EINVAL:
	case ERANGE:
		errmsg("%s%s: the kernel rejects '%s' (%s)", w, name, value, strerror(err));
		break;
	case EBUSY:
		errmsg("%s%s: cannot change while merged pages exist; run 'samepagectl unmerge' first",
		       w, name);
		break;
	default:
		errmsg("%s%s=%s: %s", w, name, value, strerror(err));
	}
	return 1;
}

int write_knob(const char *name, const char *value)
{
	return write_knob_at(NULL, name, value);
}

int parse_u64(const char *s, __u64 *v)
{
	char *end;

	if (!*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	*v = strtoull(s, &end, 0);
	return errno || *end ? -1 : 0;
}

int parse_pid(const char *s, pid_t *pid)
{
	__u64 v;

	if (parse_u64(s, &v) || v > 0x7fffffff) {
		errmsg("'%s' is not a process id", s);
		return -1;
	}
	*pid = (pid_t)v;
	return 0;
}

/* START:LEN, each decimal or 0x-hex */
int parse_range(const char *s, __u64 *start, __u64 *len)
{
	char buf[128], *colon;

	if (strlen(s) >= sizeof(buf) || !(colon = strchr(strcpy(buf, s), ':'))) {
		errmsg("'%s' is not a range START:LEN", s);
		return -1;
	}
	*colon = '\0';
	if (parse_u64(buf, start) || parse_u64(colon + 1, len)) {
		errmsg("'%s' is not a range START:LEN (numbers, decimal or 0x...)", s);
		return -1;
	}
	return 0;
}

/* A knob as read back, in the syntax it is written in ("[none] scan-time" -> "none"). */
int read_setting(const char *name, char *out, size_t len)
{
	char v[512], *open, *close;
	int err = read_knob(sp_sysfs_dir(), name, v, sizeof(v));

	if (err)
		return err;
	open = strchr(v, '[');
	close = open ? strchr(open, ']') : NULL;
	if (open && close) {
		*close = '\0';
		memmove(v, open + 1, strlen(open + 1) + 1);
	}
	if (strlen(v) >= len)
		return -ERANGE;
	memcpy(out, v, strlen(v) + 1);
	return 0;
}
