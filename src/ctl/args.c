// SPDX-License-Identifier: GPL-2.0
/*
 * Argument handling shared by every samepagectl command: --help, flags,
 * options and usage errors.
 */
#include <string.h>

#include "ctl.h"

const char *progname = "samepagectl";

bool want_help(int argc, char **argv, const char *usage)
{
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			printf("usage: %s %s\n", progname, usage);
			return true;
		}
	}
	return false;
}

/* Remove @flag from argv if present; true if it was. */
bool take_flag(int *argc, char **argv, const char *flag)
{
	for (int i = 0; i < *argc; i++) {
		if (strcmp(argv[i], flag))
			continue;
		memmove(&argv[i], &argv[i + 1], (*argc - i - 1) * sizeof(*argv));
		(*argc)--;
		return true;
	}
	return false;
}

/* Remove "@opt VALUE" from argv; return VALUE, or NULL if absent. */
const char *take_option(int *argc, char **argv, const char *opt)
{
	for (int i = 0; i + 1 < *argc; i++) {
		const char *v = argv[i + 1];

		if (strcmp(argv[i], opt))
			continue;
		memmove(&argv[i], &argv[i + 2], (*argc - i - 2) * sizeof(*argv));
		*argc -= 2;
		return v;
	}
	return NULL;
}

/*
 * The start of a command whose one option is --json and that takes @min
 * to @max operands: -1 to go on, else the exit status to return at once
 * (0 after --help, EXIT_USAGE after a usage error).
 */
int json_command(int *argc, char **argv, const char *usage, bool *json,
		 int min, int max)
{
	if (want_help(*argc, argv, usage))
		return 0;
	*json = take_flag(argc, argv, "--json");
	if (*argc < min || *argc > max)
		return usage_error(usage);
	return -1;
}

int usage_error(const char *usage)
{
	fprintf(stderr, "usage: %s %s\n", progname, usage);
	return EXIT_USAGE;
}
