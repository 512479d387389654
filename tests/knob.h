/* SPDX-License-Identifier: GPL-2.0 */
/* Reading and writing a sysfs knob, shared by the tests (sp.h) and the bench (bench.h). */
#ifndef SAMEPAGE_KNOB_H
#define SAMEPAGE_KNOB_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Open @dir@name (@dir ends in '/', or is "" for a full path): fd or -errno. */
static inline int knob_open(const char *dir, const char *name, int flags)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s%s", dir, name);
	fd = open(path, flags | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/*
 * Write @val to @dir@name in one write(): what it returned (the bytes the
 * store took) or -errno.
 */
static inline long knob_write_count(const char *dir, const char *name, const char *val)
{
	int fd = knob_open(dir, name, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return fd;
	n = write(fd, val, strlen(val));
	n = n < 0 ? -errno : n;
	close(fd);
	return n;
}

/* Write @val to @dir@name: 0, or -errno (a short write is -EIO). */
static inline int knob_write(const char *dir, const char *name, const char *val)
{
	long n = knob_write_count(dir, name, val);

	if (n < 0)
		return (int)n;
	return n == (long)strlen(val) ? 0 : -EIO;
}

/* Read @dir@name into @buf (NUL-terminated, as read): 0 or -errno. */
static inline int knob_read_str(const char *dir, const char *name, char *buf, size_t len)
{
	int fd = knob_open(dir, name, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return fd;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

#endif /* SAMEPAGE_KNOB_H */
