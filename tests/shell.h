/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Running shell commands from a VM test (samepagectl and friends): the
 * output of the last command is in out[].
 */
#ifndef SAMEPAGE_TEST_SHELL_H
#define SAMEPAGE_TEST_SHELL_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include "tap.h"

static char out[1 << 16];

/*
 * Run a shell command (printf-style); its stdout, and its stderr too when
 * @with_stderr, in out[]; its exit status back (-1 if it did not exit).
 */
static inline int vsh_cmd(int with_stderr, const char *fmt, va_list ap)
{
	char cmd[1024];
	FILE *p;
	size_t n;
	int status;

	vsnprintf(cmd, sizeof(cmd) - 8, fmt, ap);
	if (with_stderr)
		strcat(cmd, " 2>&1");
	p = popen(cmd, "r");
	if (!p)
		tap_bail("popen: %s", strerror(errno));
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	status = pclose(p);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* sh("cmd %d", x): stdout and stderr in out[], the exit status back. */
static inline __attribute__((format(printf, 1, 2))) int sh(const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vsh_cmd(1, fmt, ap);
	va_end(ap);
	return rc;
}

/* sh_stdout(): the same with stdout alone in out[] (stderr to the log). */
static inline __attribute__((format(printf, 1, 2))) int sh_stdout(const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vsh_cmd(0, fmt, ap);
	va_end(ap);
	return rc;
}

#endif /* SAMEPAGE_TEST_SHELL_H */
