// SPDX-License-Identifier: GPL-2.0
/*
 * samepagectl - control samepage, Kernel Samepage Merging as a module.
 *
 * Exit status: 0 success, 1 error, 2 usage.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/samepage.h>

#define KSM_SYSFS_DIR	"/sys/kernel/mm/ksm"
#define EXIT_USAGE	2
#define MAX_KNOBS	128
#define NAME_LEN	64
#define VALUE_LEN	128

static const char *progname = "samepagectl";

static void errmsg(const char *fmt, const char *arg)
{
	fprintf(stderr, "%s: ", progname);
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
}

static int module_loaded(void)
{
	struct stat st;

	return stat(SAMEPAGE_SYSFS_DIR, &st) == 0;
}

static int not_loaded(void)
{
	errmsg("samepage is not loaded (%s is missing); load it with 'modprobe samepage'",
	       SAMEPAGE_SYSFS_DIR);
	return 1;
}

/* Open /dev/samepage, with a one-line reason on failure. */
static int open_device(void)
{
	int fd = open(SAMEPAGE_DEVICE, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		if (errno == ENOENT && !module_loaded())
			return not_loaded(), -1;
		fprintf(stderr, "%s: cannot open %s: %s\n", progname,
			SAMEPAGE_DEVICE, strerror(errno));
	}
	return fd;
}

static int has_flag(int argc, char **argv, const char *flag)
{
	for (int i = 0; i < argc; i++)
		if (!strcmp(argv[i], flag))
			return 1;
	return 0;
}

/* Reject every argument that is not one of the flags a command knows. */
static int check_args(int argc, char **argv, const char *const *known)
{
	for (int i = 0; i < argc; i++) {
		int ok = 0;

		for (int k = 0; known[k]; k++)
			ok |= !strcmp(argv[i], known[k]);
		if (!ok) {
			errmsg("unknown argument '%s' (see --help)", argv[i]);
			return -1;
		}
	}
	return 0;
}

static int cmd_version(int argc, char **argv)
{
	static const char *const known[] = { "--json", NULL };
	struct samepage_version v = { .size = sizeof(v) };
	int json, fd;

	if (has_flag(argc, argv, "--help") || has_flag(argc, argv, "-h")) {
		printf("usage: %s version [--json]\n"
		       "Print the version of samepagectl and of the loaded module.\n",
		       progname);
		return 0;
	}
	if (check_args(argc, argv, known))
		return EXIT_USAGE;
	json = has_flag(argc, argv, "--json");
	fd = open_device();
	if (fd < 0)
		return 1;
	if (ioctl(fd, SAMEPAGE_IOC_VERSION, &v) < 0) {
		fprintf(stderr, "%s: VERSION ioctl failed: %s\n", progname, strerror(errno));
		close(fd);
		return 1;
	}
	close(fd);
	if (json)
		printf("{\"samepagectl\": \"%s\", \"module\": \"%u.%u.%u\", \"abi_version\": %u, \"ctl_abi_version\": %u}\n",
		       SAMEPAGE_VERSION_STR, v.major, v.minor, v.patch, v.abi_version,
		       SAMEPAGE_ABI_VERSION);
	else
		printf("samepagectl %s\nmodule      %u.%u.%u (ABI %u)\n",
		       SAMEPAGE_VERSION_STR, v.major, v.minor, v.patch, v.abi_version);
	if (v.abi_version != SAMEPAGE_ABI_VERSION) {
		fprintf(stderr, "%s: module ABI %u differs from samepagectl's %u\n",
			progname, v.abi_version, SAMEPAGE_ABI_VERSION);
		return 1;
	}
	return 0;
}

struct knob {
	char name[NAME_LEN];
	char sp[VALUE_LEN];	/* value in samepage's tree, "" if absent */
	char ksm[VALUE_LEN];	/* value in /sys/kernel/mm/ksm, "" if absent */
};

static void read_value(const char *dir, const char *name, char *out)
{
	char path[512];
	FILE *f;

	out[0] = '\0';
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "re");
	if (!f)
		return;
	if (!fgets(out, VALUE_LEN, f))
		out[0] = '\0';
	out[strcspn(out, "\n")] = '\0';
	fclose(f);
}

static int find_knob(struct knob *k, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(k[i].name, name))
			return i;
	return -1;
}

/* Add every regular file of @dir to @k (union of both trees' names). */
static int collect(const char *dir, struct knob *k, int n)
{
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d)
		return n;
	while ((de = readdir(d)) && n < MAX_KNOBS) {
		if (de->d_name[0] == '.' || strlen(de->d_name) >= NAME_LEN ||
		    find_knob(k, n, de->d_name) >= 0)
			continue;
		memcpy(k[n].name, de->d_name, strlen(de->d_name) + 1);
		n++;
	}
	closedir(d);
	return n;
}

static int knob_cmp(const void *a, const void *b)
{
	return strcmp(((const struct knob *)a)->name, ((const struct knob *)b)->name);
}

static void json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			putchar('\\');
		if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

static int cmd_status(int argc, char **argv)
{
	static const char *const known[] = { "--json", NULL };
	static struct knob k[MAX_KNOBS];
	int json, n;

	if (has_flag(argc, argv, "--help") || has_flag(argc, argv, "-h")) {
		printf("usage: %s status [--json]\n"
		       "Show every knob and counter of %s beside the in-tree KSM's\n"
		       "%s ('-' where a tree lacks the name).\n",
		       progname, SAMEPAGE_SYSFS_DIR, KSM_SYSFS_DIR);
		return 0;
	}
	if (check_args(argc, argv, known))
		return EXIT_USAGE;
	if (!module_loaded())
		return not_loaded();
	json = has_flag(argc, argv, "--json");
	n = collect(SAMEPAGE_SYSFS_DIR, k, 0);
	n = collect(KSM_SYSFS_DIR, k, n);
	qsort(k, n, sizeof(*k), knob_cmp);
	for (int i = 0; i < n; i++) {
		read_value(SAMEPAGE_SYSFS_DIR, k[i].name, k[i].sp);
		read_value(KSM_SYSFS_DIR, k[i].name, k[i].ksm);
	}
	if (json) {
		const char *tree[2] = { "samepage", "ksm" };

		printf("{");
		for (int t = 0; t < 2; t++) {
			int first = 1;

			printf("%s\"%s\": {", t ? ", " : "", tree[t]);
			for (int i = 0; i < n; i++) {
				const char *v = t ? k[i].ksm : k[i].sp;

				if (!*v)
					continue;
				printf("%s", first ? "" : ", ");
				json_string(k[i].name);
				printf(": ");
				json_string(v);
				first = 0;
			}
			printf("}");
		}
		printf("}\n");
		return 0;
	}
	printf("%-36s %-20s %s\n", "name", "samepage", "ksm (in-tree)");
	for (int i = 0; i < n; i++)
		printf("%-36s %-20s %s\n", k[i].name, *k[i].sp ? k[i].sp : "-",
		       *k[i].ksm ? k[i].ksm : "-");
	return 0;
}

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
};

static const struct command commands[] = {
	{ "version", cmd_version, "versions of samepagectl and the loaded module" },
	{ "status", cmd_status, "samepage's and in-tree KSM's counters side by side" },
};

static int usage(FILE *out, int rc)
{
	fprintf(out, "usage: %s COMMAND [ARGS...]   (%s COMMAND --help for more)\n\n"
		"commands:\n", progname, progname);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].help);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage(stderr, EXIT_USAGE);
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help"))
		return usage(stdout, 0);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 2, argv + 2);
	errmsg("unknown command '%s'", argv[1]);
	return usage(stderr, EXIT_USAGE);
}
