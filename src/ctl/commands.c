// SPDX-License-Identifier: GPL-2.0
/*
 * samepagectl commands other than top.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"

/* ---- version ---- */

int cmd_version(int argc, char **argv)
{
	static const char usage[] = "version [--json]\n"
		"Print the versions of samepagectl and of the loaded module.";
	struct samepage_version v = { .size = sizeof(v) };
	struct out o;
	int rc = json_command(&argc, argv, usage, &o.json, 0, 0);

	if (rc >= 0)
		return rc;
	if (sp_ioctl(SAMEPAGE_IOC_VERSION, &v, "version", 0))
		return 1;
	out_begin(&o);
	out_str(&o, "samepagectl", SAMEPAGE_VERSION_STR);
	if (o.json) {
		char mod[64];

		snprintf(mod, sizeof(mod), "%u.%u.%u", v.major, v.minor, v.patch);
		out_str(&o, "module", mod);
		out_u64(&o, "abi_version", v.abi_version);
		out_u64(&o, "ctl_abi_version", SAMEPAGE_ABI_VERSION);
	} else {
		printf("module      %u.%u.%u (ABI %u)\n", v.major, v.minor, v.patch,
		       v.abi_version);
	}
	out_end(&o);
	if (v.abi_version != SAMEPAGE_ABI_VERSION) {
		errmsg("module ABI %u differs from samepagectl's %u", v.abi_version,
		       SAMEPAGE_ABI_VERSION);
		return 1;
	}
	return 0;
}

/* ---- status ---- */

#define MAX_KNOBS	128
#define NAME_LEN	64
#define VALUE_LEN	128

struct knob {
	char name[NAME_LEN];
	char sp[VALUE_LEN];	/* value in samepage's tree, "" if absent */
	char ksm[VALUE_LEN];	/* value in /sys/kernel/mm/ksm, "" if absent */
};

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
		size_t len = strlen(de->d_name);

		if (de->d_name[0] == '.' || len >= NAME_LEN || de->d_type == DT_DIR ||
		    find_knob(k, n, de->d_name) >= 0)
			continue;
		memcpy(k[n].name, de->d_name, len + 1);
		n++;
	}
	closedir(d);
	return n;
}

static int knob_cmp(const void *a, const void *b)
{
	return strcmp(((const struct knob *)a)->name, ((const struct knob *)b)->name);
}

/* The kernel hooks samepage has active (/sys/kernel/mm/samepage/hooks). */
static void hooks_line(char *out, size_t len)
{
	if (read_knob(SAMEPAGE_SYSFS_DIR, "hooks", out, len) || !*out)
		snprintf(out, len, "none (pages are found through /dev/samepage registration)");
}

int cmd_status(int argc, char **argv)
{
	static const char usage[] = "status [--json]\n"
		"Show every knob and counter of " SAMEPAGE_SYSFS_DIR " beside in-tree\n"
		"KSM's " KSM_SYSFS_DIR " ('-' where a tree lacks the name), the\n"
		"kernel hooks samepage follows, and the tracked processes you may see\n"
		"summed by merge_scope's domain (uid, memory cgroup, or all).";
	static struct knob k[MAX_KNOBS];
	char hooks[1024];
	bool ksm_takes;
	struct out o;
	int n;
	int rc = json_command(&argc, argv, usage, &o.json, 0, 0);

	if (rc >= 0)
		return rc;
	if (!module_loaded())
		return not_loaded();
	n = collect(SAMEPAGE_SYSFS_DIR, k, 0);
	n = collect(KSM_SYSFS_DIR, k, n);
	qsort(k, n, sizeof(*k), knob_cmp);
	for (int i = 0; i < n; i++) {
		read_knob(SAMEPAGE_SYSFS_DIR, k[i].name, k[i].sp, VALUE_LEN);
		read_knob(KSM_SYSFS_DIR, k[i].name, k[i].ksm, VALUE_LEN);
	}
	hooks_line(hooks, sizeof(hooks));
	ksm_takes = find_knob(k, n, "run") >= 0 &&
		    !strcmp(k[find_knob(k, n, "run")].ksm, "1") &&
		    !strcmp(k[find_knob(k, n, "follow_madvise")].sp, "1");
	if (o.json) {
		out_begin(&o);
		for (int t = 0; t < 2; t++) {
			out_object(&o, t ? "ksm" : "samepage");
			for (int i = 0; i < n; i++) {
				const char *v = t ? k[i].ksm : k[i].sp;

				if (*v && strcmp(k[i].name, "hooks"))	/* top level */
					out_str(&o, k[i].name, v);
			}
			out_object_end(&o);
		}
		out_str(&o, "hooks", hooks);
		out_u64(&o, "ksm_has_madvised_areas", ksm_takes);
		rc = scopes_print(&o);
		out_end(&o);
		return rc;
	}
	printf("%-36s %-20s %s\n", "name", "samepage", "ksm (in-tree)");
	for (int i = 0; i < n; i++)
		if (strcmp(k[i].name, "hooks"))	/* too long: its own line below */
			printf("%-36s %-20s %s\n", k[i].name, *k[i].sp ? k[i].sp : "-",
			       *k[i].ksm ? k[i].ksm : "-");
	printf("\nhooks: %s\n", hooks);
	if (ksm_takes)
		printf("in-tree KSM is running: samepage leaves MADV_MERGEABLE/prctl areas to it\n");
	return scopes_print(&o);
}

/* ---- set ---- */

int cmd_set(int argc, char **argv)
{
	static const char usage[] = "set KEY=VALUE...\n"
		"Write samepage settings (files of " SAMEPAGE_SYSFS_DIR "), in order;\n"
		"stops at the first one the kernel rejects and says why.";
	int i;

	if (want_help(argc, argv, usage))
		return 0;
	if (!argc)
		return usage_error(usage);
	for (i = 0; i < argc; i++) {
		if (!strchr(argv[i], '=') || argv[i][0] == '=') {
			errmsg("'%s' is not KEY=VALUE", argv[i]);
			return EXIT_USAGE;
		}
	}
	if (!module_loaded())
		return not_loaded();
	for (i = 0; i < argc; i++) {
		char *eq = strchr(argv[i], '=');

		*eq = '\0';
		if (write_knob(argv[i], eq + 1))
			return 1;
	}
	return 0;
}

/* ---- register, unregister, merge ---- */

static int registration(int argc, char **argv, bool reg)
{
	static const char usage_reg[] = "register PID [--range START:LEN]\n"
		"Let samepage merge the pages of process PID (0: samepagectl itself),\n"
		"all of them or those of one page-aligned range. Another user's process\n"
		"needs root or the right to ptrace it.";
	static const char usage_unreg[] = "unregister PID [--range START:LEN]\n"
		"Give back every merged page of PID (or of the range) now, and stop\n"
		"merging there.";
	const char *usage = reg ? usage_reg : usage_unreg;
	struct samepage_register r = { .size = sizeof(r) };
	const char *range;
	pid_t pid;

	if (want_help(argc, argv, usage))
		return 0;
	range = take_option(&argc, argv, "--range");
	if (argc != 1)
		return usage_error(usage);
	if (parse_pid(argv[0], &pid))
		return EXIT_USAGE;
	if (range) {
		if (parse_range(range, &r.start, &r.len))
			return EXIT_USAGE;
		r.flags = SAMEPAGE_REGISTER_RANGE;
	}
	r.pid = pid;
	return sp_ioctl(reg ? SAMEPAGE_IOC_REGISTER : SAMEPAGE_IOC_UNREGISTER, &r,
			reg ? "register" : "unregister", pid);
}

int cmd_register(int argc, char **argv)
{
	return registration(argc, argv, true);
}

int cmd_unregister(int argc, char **argv)
{
	return registration(argc, argv, false);
}

int cmd_merge(int argc, char **argv)
{
	static const char usage[] = "merge PID START LEN [--json]\n"
		"Merge the page-aligned range of PID now, synchronously, and print how\n"
		"many pages that saved. The range stays registered.";
	struct samepage_merge_range m = { .size = sizeof(m) };
	struct out o;
	pid_t pid;
	int rc = json_command(&argc, argv, usage, &o.json, 3, 3);

	if (rc >= 0)
		return rc;
	if (parse_pid(argv[0], &pid))
		return EXIT_USAGE;
	if (parse_u64(argv[1], &m.start) || parse_u64(argv[2], &m.len)) {
		errmsg("START and LEN must be numbers (decimal or 0x...)");
		return EXIT_USAGE;
	}
	m.pid = pid;
	if (sp_ioctl(SAMEPAGE_IOC_MERGE_RANGE, &m, "merge", pid))
		return 1;
	out_begin(&o);
	out_u64(&o, "merged", m.merged);
	out_end(&o);
	return 0;
}

/* ---- stat, explain ---- */

static int get_proc_stat(const char *arg, struct samepage_proc_stat *ps)
{
	pid_t pid;

	if (parse_pid(arg, &pid))
		return EXIT_USAGE;
	ps->size = sizeof(*ps);
	ps->pid = pid;
	return sp_ioctl(SAMEPAGE_IOC_PROC_STAT, ps, "stat", pid);
}

int cmd_stat(int argc, char **argv)
{
	static const char usage[] = "stat PID [--json]\n"
		"The fields of /proc/PID/ksm_stat, as samepage sees PID: rmap_items,\n"
		"zero_pages, merging_pages, process_profit, merge_any, mergeable; and\n"
		"samepage's own: ranges, full_scans.";
	struct samepage_proc_stat ps;
	struct out o;
	int rc;

	rc = json_command(&argc, argv, usage, &o.json, 1, 1);
	if (rc >= 0)
		return rc;
	rc = get_proc_stat(argv[0], &ps);
	if (rc)
		return rc;
	out_begin(&o);
	out_s64(&o, "pid", ps.pid);
	out_u64(&o, "rmap_items", ps.rmap_items);
	out_u64(&o, "zero_pages", ps.zero_pages);
	out_u64(&o, "merging_pages", ps.merging_pages);
	out_s64(&o, "process_profit", ps.process_profit);
	out_u64(&o, "merge_any", ps.merge_any);
	out_u64(&o, "mergeable", ps.mergeable);
	out_u64(&o, "ranges", ps.ranges);
	out_u64(&o, "full_scans", ps.full_scans);
	out_end(&o);
	return 0;
}

static void print_why(struct out *o, const __u64 *why, const char *whose)
{
	uint64_t total = 0;

	for (int i = 0; i < SAMEPAGE_WHY_NR; i++)
		total += why[i];
	if (o->json) {
		out_u64(o, "pages", total);
		for (int i = 0; i < SAMEPAGE_WHY_NR; i++)
			out_u64(o, why_key[i], why[i]);
		return;
	}
	if (!total) {
		printf("%s: no full pass yet; try again once samepage has scanned (run=1)\n", whose);
		return;
	}
	printf("%s, last full pass: %" PRIu64 " pages\n", whose, total);
	for (int i = 0; i < SAMEPAGE_WHY_NR; i++)
		if (why[i])
			printf("  %10llu pages (%5.1f%%) %s\n", why[i],
			       100.0 * why[i] / total, why_words[i]);
}

int cmd_explain(int argc, char **argv)
{
	static const char usage[] = "explain [PID] [--json]\n"
		"Why pages are not merged: for PID (or all tracked processes), the\n"
		"outcome of every registered page in the last full pass, by reason.";
	struct out o;
	char whose[64];
	int rc = json_command(&argc, argv, usage, &o.json, 0, 1);

	if (rc >= 0)
		return rc;
	out_begin(&o);
	if (argc) {
		struct samepage_proc_stat ps;
		int rc = get_proc_stat(argv[0], &ps);

		if (rc)
			return rc;
		snprintf(whose, sizeof(whose), "process %d", ps.pid);
		if (o.json)
			out_s64(&o, "pid", ps.pid);
		print_why(&o, ps.why, whose);
	} else {
		struct samepage_stats st = { .size = sizeof(st) };

		if (sp_ioctl(SAMEPAGE_IOC_STATS, &st, "explain", 0))
			return 1;
		snprintf(whose, sizeof(whose), "all %llu tracked processes", st.processes);
		print_why(&o, st.why, whose);
	}
	out_end(&o);
	return 0;
}

/* ---- list ---- */

int cmd_list(int argc, char **argv)
{
	static const char usage[] = "list [--json]\n"
		"The processes samepage tracks that you may see (all of them as root).";
	struct samepage_proc_entry e[1024];
	struct samepage_list l = { .size = sizeof(l), .capacity = 1024,
				   .entry_size = sizeof(e[0]), .entries = (uintptr_t)e };
	struct out o;
	int rc = json_command(&argc, argv, usage, &o.json, 0, 0);

	if (rc >= 0)
		return rc;
	if (sp_ioctl(SAMEPAGE_IOC_LIST, &l, "list", 0))
		return 1;
	if (o.json)
		printf("{\"count\": %u, \"processes\": [", l.count);
	else
		printf("%8s %6s %12s %12s %10s\n", "pid", "whole", "rmap_items",
		       "merging", "zero");
	for (uint32_t i = 0; i < l.count && i < l.capacity; i++) {
		if (o.json)
			printf("%s{\"pid\": %d, \"merge_any\": %u, \"rmap_items\": %llu, \"merging_pages\": %llu, \"zero_pages\": %llu}",
			       i ? ", " : "", e[i].pid, e[i].merge_any,
			       (unsigned long long)e[i].rmap_items,
			       (unsigned long long)e[i].merging_pages,
			       (unsigned long long)e[i].zero_pages);
		else
			printf("%8d %6s %12llu %12llu %10llu\n", e[i].pid,
			       e[i].merge_any ? "yes" : "no",
			       (unsigned long long)e[i].rmap_items,
			       (unsigned long long)e[i].merging_pages,
			       (unsigned long long)e[i].zero_pages);
	}
	if (o.json)
		printf("]}\n");
	return 0;
}

/* ---- run ---- */

/* Is samepage's hook @feature active (/sys/kernel/mm/samepage/hooks)? */
static bool hook_active(const char *feature)
{
	char hooks[1024], *tok, *save = NULL;
	size_t len = strlen(feature);

	if (read_knob(SAMEPAGE_SYSFS_DIR, "hooks", hooks, sizeof(hooks)))
		return false;
	for (tok = strtok_r(hooks, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
		if (!strncmp(tok, feature, len) && tok[len] == ':')
			return true;
	return false;
}

int cmd_run(int argc, char **argv)
{
	static const char usage[] = "run [--] CMD [ARGS...]\n"
		"Run CMD with all its memory registered with samepage, and exit with\n"
		"its status. The registration is made before CMD starts and is\n"
		"inherited like prctl(PR_SET_MEMORY_MERGE): by the programs CMD execs\n"
		"and the processes it forks, and by theirs.";
	struct samepage_register r = { .size = sizeof(r) };
	int sync[2], status, err = 0;
	pid_t pid;
	ssize_t n;

	if (argc && !strcmp(argv[0], "--")) {
		argc--;
		argv++;
	} else if (want_help(argc, argv, usage)) {
		return 0;
	}
	if (!argc)
		return usage_error(usage);
	if (!module_loaded())
		return not_loaded();
	if (pipe2(sync, O_CLOEXEC)) {
		errmsg("pipe: %s", strerror(errno));
		return 1;
	}
	pid = fork();
	if (pid < 0) {
		errmsg("fork: %s", strerror(errno));
		return 1;
	}
	if (!pid) {
		close(sync[0]);
		/* itself, inherited across the exec; says why not, CMD runs on */
		sp_ioctl(SAMEPAGE_IOC_REGISTER, &r, "run", getpid());
		execvp(argv[0], argv);
		err = errno;
		if (write(sync[1], &err, sizeof(err)) < 0)
			_exit(127);
		_exit(127);
	}
	close(sync[1]);
	n = read(sync[0], &err, sizeof(err));	/* EOF: exec succeeded */
	close(sync[0]);
	if (n == sizeof(err)) {
		waitpid(pid, NULL, 0);
		errmsg("cannot run %s: %s", argv[0], strerror(err));
		return 127;
	}
	if (!hook_active("inherit_exec")) {
		/* this kernel cannot carry it across exec: register CMD itself */
		fprintf(stderr, "samepagectl: no exec hook on this kernel: %s is registered after it started, and what it forks or execs is not\n",
			argv[0]);
		r.pid = pid;
		sp_ioctl(SAMEPAGE_IOC_REGISTER, &r, "run", pid);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* ---- unmerge ---- */

static void *write_run2(void *arg)
{
	*(int *)arg = write_knob("run", "2");
	return NULL;
}

static uint64_t kpages(void)
{
	char v[64];

	return read_knob(SAMEPAGE_SYSFS_DIR, "kernel_pages_allocated", v, sizeof(v)) ?
		0 : strtoull(v, NULL, 10);
}

int cmd_unmerge(int argc, char **argv)
{
	static const char usage[] = "unmerge\n"
		"Give every merged page back to its process (run=2) and stop merging;\n"
		"reports progress, then what is left (pages still mapped by processes\n"
		"samepage does not track, e.g. forked children, stay until they exit).";
	uint64_t start, now;
	volatile int rc = -1;
	pthread_t t;

	if (want_help(argc, argv, usage))
		return 0;
	if (argc)
		return usage_error(usage);
	if (!module_loaded())
		return not_loaded();
	start = kpages();
	if (pthread_create(&t, NULL, write_run2, (void *)&rc)) {
		errmsg("cannot start: %s", strerror(errno));
		return 1;
	}
	do {
		struct timespec ts = { 0, 200 * 1000 * 1000 };

		nanosleep(&ts, NULL);
		now = kpages();
		if (rc < 0)
			fprintf(stderr, "unmerging: %" PRIu64 " of %" PRIu64 " merged pages left\n",
				now, start);
	} while (rc < 0);
	pthread_join(t, NULL);
	if (rc)
		return 1;
	printf("unmerged: %" PRIu64 " merged pages given back, %" PRIu64 " left\n",
	       start - kpages(), kpages());
	return 0;
}
