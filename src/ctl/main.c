// SPDX-License-Identifier: GPL-2.0
/*
 * samepagectl - control samepage, Kernel Samepage Merging as a module.
 *
 * Exit status: 0 success, 1 error, 2 usage.
 */
#include <string.h>

#include "ctl.h"

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
};

static const struct command commands[] = {
	{ "status", cmd_status, "samepage's and in-tree KSM's counters side by side" },
	{ "set", cmd_set, "change settings: set KEY=VALUE..." },
	{ "run", cmd_run, "run a command with its memory registered" },
	{ "register", cmd_register, "register a process (or a range of it)" },
	{ "unregister", cmd_unregister, "unmerge and unregister a process or range" },
	{ "merge", cmd_merge, "merge a range of a process now" },
	{ "stat", cmd_stat, "a process's ksm_stat fields" },
	{ "explain", cmd_explain, "why pages are not merged, by reason" },
	{ "list", cmd_list, "the tracked processes" },
	{ "top", cmd_top, "live view" },
	{ "unmerge", cmd_unmerge, "give every merged page back (run=2)" },
	{ "wait", cmd_wait, "wait until merging settles or N pages merged" },
	{ "metrics", cmd_metrics, "counters in Prometheus text format" },
	{ "apply-config", cmd_apply_config, "apply /etc/samepage.conf (all or nothing)" },
	{ "version", cmd_version, "versions of samepagectl and the module" },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static int usage(FILE *out, int rc)
{
	fprintf(out, "usage: %s COMMAND [ARGS...]   (%s COMMAND --help for more)\n\n"
		"commands:\n", progname, progname);
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(out, "  %-13s %s\n", commands[i].name, commands[i].help);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage(stderr, EXIT_USAGE);
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help"))
		return usage(stdout, 0);
	if (!strcmp(argv[1], "--version"))
		return cmd_version(0, argv + 2);
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 2, argv + 2);
	errmsg("unknown command '%s'", argv[1]);
	return usage(stderr, EXIT_USAGE);
}
