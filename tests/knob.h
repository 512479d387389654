/* SPDX-License-Identifier: GPL-2.0 */
/* Writing a sysfs knob, shared by the tests (sp.h) and the bench (bench.h). */
#ifndef SAMEPAGE_KNOB_H
#define SAMEPAGE_KNOB_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Write @val to @dir@name (@dir ends in '/', or is "" for a full path): 0 or -errno. */
static inline int knob_write(const char *dir, const char *name, const char *val)
{
	char path[256];
	int fd, err = 0;

	snprintf(path, sizeof(path), "%s%s", dir, name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) != (ssize_t)strlen(val))
		err = -errno;
	close(fd);
	return err;
}

#endif /* SAMEPAGE_KNOB_H */
