// SPDX-License-Identifier: GPL-2.0
/*
 * samepagectl metrics: every sysfs file of samepage, the why-not-merged
 * breakdown and per-process figures in Prometheus' text exposition format;
 * samepagectl wait: block until merging has settled or enough pages merged.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"

/*
 * The files node_exporter's ksmd collector reads (collector/ksmd_linux.go),
 * under its names, types, units and help texts, so that dashboards built
 * for it show samepage, and a scrape that has both in-tree KSM (through
 * --collector.ksmd) and samepage (through the textfile collector) keeps
 * one consistent family per name: samepage's series carry ksm="samepage".
 */
#define NODE_KSMD_LABEL	"{ksm=\"samepage\"}"

enum mtype { GAUGE, COUNTER };

struct mdef {
	const char *file;	/* in /sys/kernel/mm/samepage */
	const char *name;	/* metric name */
	enum mtype type;
	unsigned int div;	/* 1000: milliseconds to seconds */
	const char *help;
};

static const struct mdef node_ksmd[] = {
	{ "full_scans", "node_ksmd_full_scans_total", COUNTER, 1, "ksmd 'full_scans' file." },
	{ "merge_across_nodes", "node_ksmd_merge_across_nodes", GAUGE, 1,
	  "ksmd 'merge_across_nodes' file." },
	{ "pages_shared", "node_ksmd_pages_shared", GAUGE, 1, "ksmd 'pages_shared' file." },
	{ "pages_sharing", "node_ksmd_pages_sharing", GAUGE, 1, "ksmd 'pages_sharing' file." },
	{ "pages_to_scan", "node_ksmd_pages_to_scan", GAUGE, 1, "ksmd 'pages_to_scan' file." },
	{ "pages_unshared", "node_ksmd_pages_unshared", GAUGE, 1, "ksmd 'pages_unshared' file." },
	{ "pages_volatile", "node_ksmd_pages_volatile", GAUGE, 1, "ksmd 'pages_volatile' file." },
	{ "run", "node_ksmd_run", GAUGE, 1, "ksmd 'run' file." },
	{ "sleep_millisecs", "node_ksmd_sleep_seconds", GAUGE, 1000, "ksmd 'sleep_millisecs' file." },
};

/* Every other numeric file: samepage's own names, base units. */
static const struct mdef own[] = {
	{ "general_profit", "samepage_general_profit_bytes", GAUGE, 1,
	  "Bytes saved by merging minus the bookkeeping's cost; negative when it costs more (signed)." },
	{ "rmap_item_bytes", "samepage_rmap_item_bytes", GAUGE, 1,
	  "Kernel memory per page record (rmap_item), index included, as general_profit counts it." },
	{ "pages_scanned", "samepage_pages_scanned_total", COUNTER, 1, "Pages samepaged has visited." },
	{ "pages_skipped", "samepage_pages_skipped_total", COUNTER, 1,
	  "Pages smart_scan skipped." },
	{ "pages_skipped_thp", "samepage_pages_skipped_thp_total", COUNTER, 1,
	  "Pages skipped because they are inside a transparent huge page or large folio." },
	{ "ksm_zero_pages", "samepage_ksm_zero_pages", GAUGE, 1,
	  "Zero pages merged into the shared zero page (use_zero_pages)." },
	{ "stable_node_chains", "samepage_stable_node_chains", GAUGE, 1,
	  "Kpages with more duplicates than max_page_sharing allows in one." },
	{ "stable_node_dups", "samepage_stable_node_dups", GAUGE, 1,
	  "Duplicate kpages in stable node chains." },
	{ "kernel_pages_allocated", "samepage_kernel_pages_allocated", GAUGE, 1,
	  "Merged pages (kpages) samepage owns: not swappable, charged to a memory cgroup." },
	{ "max_kernel_pages", "samepage_max_kernel_pages", GAUGE, 1,
	  "Cap on kernel_pages_allocated (0: none)." },
	{ "hash_collisions", "samepage_hash_collisions_total", COUNTER, 1,
	  "Equal hashes of pages whose contents differed." },
	{ "pages_hwpoisoned", "samepage_pages_hwpoisoned_total", COUNTER, 1,
	  "Merged pages (kpages) a hardware memory error hit, taken out of every mapping." },
	{ "kpage_arenas", "samepage_kpage_arenas", GAUGE, 1,
	  "Huge-page-sized blocks that kpages are carved from." },
	{ "kpage_arenas_freed", "samepage_kpage_arenas_freed_total", COUNTER, 1,
	  "Arenas given back to the kernel whole." },
	{ "kpages_moved", "samepage_kpages_moved_total", COUNTER, 1,
	  "kpages moved into fuller arenas, so that emptied ones go back whole." },
	{ "cow_breaks", "samepage_cow_breaks_total", COUNTER, 1,
	  "Writes that broke a merged page (copy-on-write)." },
	{ "stable_node_chains_prune_millisecs", "samepage_stable_node_chains_prune_seconds",
	  GAUGE, 1000, "How often stale stable node chains are pruned." },
	{ "use_zero_pages", "samepage_use_zero_pages", GAUGE, 1,
	  "1: all-zero pages merge into the shared zero page." },
	{ "max_page_sharing", "samepage_max_page_sharing", GAUGE, 1,
	  "Most mappings of one kpage." },
	{ "smart_scan", "samepage_smart_scan", GAUGE, 1,
	  "1: pages that never merged are skipped on some passes." },
	{ "follow_madvise", "samepage_follow_madvise", GAUGE, 1,
	  "1: MADV_MERGEABLE and PR_SET_MEMORY_MERGE areas are merged while in-tree KSM is off." },
	{ "advisor_max_cpu", "samepage_advisor_max_cpu", GAUGE, 1,
	  "Scan-time advisor: most CPU samepaged may use, in percent." },
	{ "advisor_min_pages_to_scan", "samepage_advisor_min_pages_to_scan", GAUGE, 1,
	  "Scan-time advisor: least pages_to_scan it sets." },
	{ "advisor_max_pages_to_scan", "samepage_advisor_max_pages_to_scan", GAUGE, 1,
	  "Scan-time advisor: most pages_to_scan it sets." },
	{ "advisor_target_scan_time", "samepage_advisor_target_scan_time_seconds", GAUGE, 1,
	  "Scan-time advisor: the time a full pass should take." },
};

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* The label-value escapes of the exposition format: \\, \", \n. */
static void label_value(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(f, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

static void family(FILE *f, const char *name, enum mtype type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
		type == COUNTER ? "counter" : "gauge");
}

/* A sysfs value as a sample: integers as they are, milliseconds in seconds. */
static void sample(FILE *f, const char *name, const char *labels, const char *v,
		   unsigned int div)
{
	if (div == 1000) {
		unsigned long long ms = strtoull(v, NULL, 10);

		fprintf(f, "%s%s %llu.%03llu\n", name, labels, ms / 1000, ms % 1000);
	} else {
		fprintf(f, "%s%s %s\n", name, labels, v);
	}
}

/* @v is a decimal integer (an optional '-' only if @sign). */
static bool is_number(const char *v, bool sign)
{
	if (sign && *v == '-')
		v++;
	if (!*v)
		return false;
	for (; *v; v++)
		if (*v < '0' || *v > '9')
			return false;
	return true;
}

static const struct mdef *find_def(const char *file)
{
	for (size_t i = 0; i < ARRAY_LEN(node_ksmd); i++)
		if (!strcmp(node_ksmd[i].file, file))
			return &node_ksmd[i];
	for (size_t i = 0; i < ARRAY_LEN(own); i++)
		if (!strcmp(own[i].file, file))
			return &own[i];
	return NULL;
}

static void emit_def(FILE *f, const struct mdef *d, const char *labels)
{
	char v[128];

	if (read_knob(sp_sysfs_dir(), d->file, v, sizeof(v)))
		return;	/* this kernel's module lacks the file */
	if (!is_number(v, !strcmp(d->file, "general_profit"))) {
		errmsg("metrics: %s/%s: not a number: '%s'", sp_sysfs_dir(), d->file, v);
		return;
	}
	family(f, d->name, d->type, d->help);
	sample(f, d->name, labels, v, d->div);
}

/* Numeric files no table knows (a newer module): samepage_FILE gauges. */
static void emit_unknown(FILE *f)
{
	struct dirent **de;
	char v[128], name[300], help[300];
	int n = scandir(sp_sysfs_dir(), &de, NULL, alphasort);

	for (int i = 0; i < n; i++) {
		const char *file = de[i]->d_name;

		if (file[0] != '.' && !find_def(file) && strcmp(file, "hooks") &&
		    strcmp(file, "advisor_mode") && strcmp(file, "merge_scope") &&
		    !read_knob(sp_sysfs_dir(), file, v, sizeof(v)) && is_number(v, true)) {
			snprintf(name, sizeof(name), "samepage_%s", file);
			snprintf(help, sizeof(help), "samepage's '%s' file.", file);
			family(f, name, GAUGE, help);
			sample(f, name, "", v, 1);
		}
		free(de[i]);
	}
	if (n >= 0)
		free(de);
}

/* hooks: "feature:target(kind) ..." or "none" */
static void emit_hooks(FILE *f)
{
	char hooks[1024], *tok, *save = NULL;

	if (read_knob(sp_sysfs_dir(), "hooks", hooks, sizeof(hooks)))
		return;
	family(f, "samepage_hook_active", GAUGE,
	       "Kernel hooks samepage has active (the hooks file), one series each.");
	for (tok = strtok_r(hooks, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		char *colon = strchr(tok, ':'), *paren = strchr(tok, '(');
		size_t len = strlen(tok);

		if (!colon || !paren || paren < colon || tok[len - 1] != ')')
			continue;
		tok[len - 1] = '\0';
		*colon = '\0';
		*paren = '\0';
		fprintf(f, "samepage_hook_active{feature=\"");
		label_value(f, tok);
		fprintf(f, "\",target=\"");
		label_value(f, colon + 1);
		fprintf(f, "\",kind=\"");
		label_value(f, paren + 1);
		fprintf(f, "\"} 1\n");
	}
}

/*
 * A choice knob, "[none] scan-time" (advisor_mode) or "[all] uid memcg"
 * (merge_scope): one series per choice, labelled @label, 1 for the chosen.
 */
static void emit_choice(FILE *f, const char *file, const char *label, const char *help)
{
	char v[128], name[128], *tok, *save = NULL;

	if (read_knob(sp_sysfs_dir(), file, v, sizeof(v)))
		return;
	snprintf(name, sizeof(name), "samepage_%s", file);
	family(f, name, GAUGE, help);
	for (tok = strtok_r(v, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		bool on = tok[0] == '[';
		size_t len = strlen(tok);

		if (on && len > 2 && tok[len - 1] == ']') {
			tok[len - 1] = '\0';
			tok++;
		}
		fprintf(f, "%s{%s=\"", name, label);
		label_value(f, tok);
		fprintf(f, "\"} %d\n", on);
	}
}

/* One ioctl, quietly: 0 or errno. */
static int quiet_ioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) ? errno : 0;
}

static void proc_comm(pid_t pid, char *comm, size_t len)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	if (read_knob("/proc", path + strlen("/proc/"), comm, len))
		comm[0] = '\0';
}

#define MAX_PROCS 4096

struct proc_row {
	struct samepage_proc_entry e;
	__s64 profit;
	bool have_profit;
	char comm[64];
};

static void proc_family(FILE *f, const struct proc_row *p, int n, const char *name,
			const char *help, int field)
{
	family(f, name, GAUGE, help);
	for (int i = 0; i < n; i++) {
		if (field == 3 && !p[i].have_profit)
			continue;
		fprintf(f, "%s{pid=\"%d\",comm=\"", name, p[i].e.pid);
		label_value(f, p[i].comm);
		switch (field) {
		case 0:
			fprintf(f, "\"} %llu\n", (unsigned long long)p[i].e.merging_pages);
			break;
		case 1:
			fprintf(f, "\"} %llu\n", (unsigned long long)p[i].e.zero_pages);
			break;
		case 2:
			fprintf(f, "\"} %llu\n", (unsigned long long)p[i].e.rmap_items);
			break;
		default:
			fprintf(f, "\"} %lld\n", (long long)p[i].profit);
		}
	}
}

/*
 * What /dev/samepage adds: versions, the why-not-merged breakdown, the
 * tracked processes. Without the device (no permission: udev makes it
 * root:samepage 0660) these are left out and stderr says so.
 */
static void emit_device(FILE *f)
{
	struct samepage_version ver = { .size = sizeof(ver) };
	struct samepage_stats st = { .size = sizeof(st) };
	static struct samepage_proc_entry e[MAX_PROCS];
	static struct proc_row rows[MAX_PROCS];
	struct samepage_list l = { .size = sizeof(l), .capacity = MAX_PROCS,
				   .entry_size = sizeof(e[0]), .entries = (uintptr_t)e };
	int fd = open(SAMEPAGE_DEVICE, O_RDONLY | O_CLOEXEC), err, n;

	if (fd < 0) {
		errmsg("metrics: cannot open %s (%s): per-process figures and the why-not-merged breakdown are left out",
		       SAMEPAGE_DEVICE, strerror(errno));
		return;
	}
	err = quiet_ioctl(fd, SAMEPAGE_IOC_VERSION, &ver);
	if (!err) {
		family(f, "samepage_build_info", GAUGE,
		       "Versions of samepagectl and of the loaded module, and the module's ABI.");
		fprintf(f, "samepage_build_info{samepagectl=\"%s\",module=\"%u.%u.%u\",abi=\"%u\"} 1\n",
			SAMEPAGE_VERSION_STR, ver.major, ver.minor, ver.patch, ver.abi_version);
	}
	err = err ?: quiet_ioctl(fd, SAMEPAGE_IOC_STATS, &st);
	if (err) {
		errmsg("metrics: %s: %s: the why-not-merged breakdown and per-process figures are left out",
		       SAMEPAGE_DEVICE, strerror(err));
		close(fd);
		return;
	}
	family(f, "samepage_tracked_processes", GAUGE, "Processes samepage tracks.");
	fprintf(f, "samepage_tracked_processes %llu\n", (unsigned long long)st.processes);
	family(f, "samepage_rmap_items", GAUGE, "Pages samepage keeps a record of.");
	fprintf(f, "samepage_rmap_items %llu\n", (unsigned long long)st.rmap_items);
	family(f, "samepage_last_pass_pages", GAUGE,
	       "Why pages are (not) merged: every registered page of the tracked processes by its outcome in their last full pass (samepagectl explain).");
	for (int i = 0; i < SAMEPAGE_WHY_NR; i++)
		fprintf(f, "samepage_last_pass_pages{outcome=\"%s\"} %llu\n", why_key[i],
			(unsigned long long)st.why[i]);

	err = quiet_ioctl(fd, SAMEPAGE_IOC_LIST, &l);
	if (err) {
		errmsg("metrics: %s LIST: %s: per-process figures are left out", SAMEPAGE_DEVICE,
		       strerror(err));
		close(fd);
		return;
	}
	n = l.count < l.capacity ? (int)l.count : (int)l.capacity;
	for (int i = 0; i < n; i++) {
		struct samepage_proc_stat ps = { .size = sizeof(ps), .pid = e[i].pid };

		rows[i].e = e[i];
		/* a process may exit meanwhile, or not be ours to inspect: no profit */
		rows[i].have_profit = !quiet_ioctl(fd, SAMEPAGE_IOC_PROC_STAT, &ps);
		rows[i].profit = ps.process_profit;
		proc_comm(e[i].pid, rows[i].comm, sizeof(rows[i].comm));
	}
	close(fd);
	proc_family(f, rows, n, "samepage_process_merging_pages",
		    "Pages of the process that map a merged page (ksm_merging_pages).", 0);
	proc_family(f, rows, n, "samepage_process_zero_pages",
		    "Pages of the process merged into the zero page (ksm_zero_pages).", 1);
	proc_family(f, rows, n, "samepage_process_rmap_items",
		    "Pages of the process samepage keeps a record of (ksm_rmap_items).", 2);
	proc_family(f, rows, n, "samepage_process_profit_bytes",
		    "Bytes merging saves the process minus its records' cost (ksm_process_profit, signed).",
		    3);
}

static void write_metrics(FILE *f)
{
	bool loaded = module_loaded();

	family(f, "samepage_module_loaded", GAUGE, "1 if the samepage module is loaded.");
	fprintf(f, "samepage_module_loaded %d\n", loaded);
	if (!loaded)
		return;
	for (size_t i = 0; i < ARRAY_LEN(node_ksmd); i++)
		emit_def(f, &node_ksmd[i], NODE_KSMD_LABEL);
	for (size_t i = 0; i < ARRAY_LEN(own); i++)
		emit_def(f, &own[i], "");
	emit_unknown(f);
	emit_choice(f, "advisor_mode", "mode",
		    "The scan-time advisor's mode: 1 for the one selected.");
	emit_choice(f, "merge_scope", "scope",
		    "Where pages may merge (all, uid, memcg): 1 for the one selected.");
	emit_hooks(f);
	emit_device(f);
}

/* Write @len bytes to @path atomically: a temporary file in its directory, then rename. */
static int write_atomically(const char *path, const char *buf, size_t len)
{
	char tmp[4096];
	int fd;

	if (snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)getpid()) >= (int)sizeof(tmp)) {
		errmsg("metrics: '%s': path too long", path);
		return 1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		errmsg("metrics: cannot create %s: %s", tmp, strerror(errno));
		return 1;
	}
	for (size_t done = 0; done < len;) {
		ssize_t w = write(fd, buf + done, len - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			errmsg("metrics: writing %s: %s", tmp, strerror(errno));
			close(fd);
			unlink(tmp);
			return 1;
		}
		done += w;
	}
	if (fchmod(fd, 0644) || fsync(fd) || close(fd) || rename(tmp, path)) {
		errmsg("metrics: %s: %s", path, strerror(errno));
		unlink(tmp);
		return 1;
	}
	return 0;
}

int cmd_metrics(int argc, char **argv)
{
	static const char usage[] = "metrics [--output FILE]\n"
		"Print samepage's counters and settings in Prometheus' text format:\n"
		"node_exporter's ksmd names (node_ksmd_*, label ksm=\"samepage\") where\n"
		"they exist, samepage_* otherwise; the why-not-merged breakdown and\n"
		"per-process figures (pid, comm) when /dev/samepage can be opened.\n"
		"--output FILE writes FILE atomically (a temporary file, then rename),\n"
		"e.g. into node_exporter's textfile directory. Not loaded:\n"
		"samepage_module_loaded 0 and exit 0.";
	const char *output;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int rc = 0;

	if (want_help(argc, argv, usage))
		return 0;
	output = take_option(&argc, argv, "--output");
	if (argc)
		return usage_error(usage);
	f = output ? open_memstream(&buf, &len) : stdout;
	if (!f) {
		errmsg("metrics: %s", strerror(errno));
		return 1;
	}
	write_metrics(f);
	if (output) {
		if (fclose(f))
			rc = 1;
		else
			rc = write_atomically(output, buf, len);
		free(buf);
	} else if (fflush(stdout)) {
		errmsg("metrics: writing: %s", strerror(errno));
		rc = 1;
	}
	return rc;
}

/* ---- wait ---- */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int parse_seconds(const char *s, double *v)
{
	char *end;

	errno = 0;
	*v = strtod(s, &end);
	return errno || end == s || *end || !(*v > 0) ? -1 : 0;
}

int cmd_wait(int argc, char **argv)
{
	static const char usage[] = "wait [--converged [--passes N]] [--pages N] [--timeout SECONDS]\n"
		"Wait until merging has settled (--converged: pages_sharing and\n"
		"ksm_zero_pages unchanged for N full passes, default 2) and/or until at\n"
		"least N pages are merged (--pages: pages_sharing + ksm_zero_pages).\n"
		"Exit 0 when it happened, 1 at the timeout (default: none) or if\n"
		"samepage is not merging (run is not 1).";
	struct samepage_stats st = { .size = sizeof(st) };
	const char *passes_s, *pages_s, *timeout_s;
	__u64 passes = 2, pages = 0, base, sharing, zero;
	double timeout = 0, start;
	bool converged;

	if (want_help(argc, argv, usage))
		return 0;
	converged = take_flag(&argc, argv, "--converged");
	passes_s = take_option(&argc, argv, "--passes");
	pages_s = take_option(&argc, argv, "--pages");
	timeout_s = take_option(&argc, argv, "--timeout");
	if (argc || (!converged && !pages_s) || (passes_s && !converged))
		return usage_error(usage);
	if (passes_s && (parse_u64(passes_s, &passes) || !passes || passes > 1000000)) {
		errmsg("wait: --passes wants a number of passes from 1, not '%s'", passes_s);
		return EXIT_USAGE;
	}
	if (pages_s && parse_u64(pages_s, &pages)) {
		errmsg("wait: --pages wants a number of pages, not '%s'", pages_s);
		return EXIT_USAGE;
	}
	if (timeout_s && parse_seconds(timeout_s, &timeout)) {
		errmsg("wait: --timeout wants a number of seconds above 0, not '%s'", timeout_s);
		return EXIT_USAGE;
	}
	if (sp_ioctl(SAMEPAGE_IOC_STATS, &st, "wait", 0))
		return 1;
	start = now_s();
	base = st.full_scans;
	sharing = st.pages_sharing;
	zero = st.ksm_zero_pages;
	for (;;) {
		struct timespec ts = { 0, 50 * 1000 * 1000 };
		__u64 held, merged;
		bool conv_ok, pages_ok;

		if (st.run != 1) {
			errmsg("wait: samepage is not merging (run=%u); start it with 'samepagectl set run=1'",
			       st.run);
			return 1;
		}
		if (st.pages_sharing != sharing || st.ksm_zero_pages != zero) {
			sharing = st.pages_sharing;
			zero = st.ksm_zero_pages;
			base = st.full_scans;
		}
		/* the pass under way when the change was seen is not a full one */
		held = st.full_scans > base ? st.full_scans - base - 1 : 0;
		merged = sharing + zero;
		conv_ok = !converged || held >= passes;
		pages_ok = !pages_s || merged >= pages;
		if (conv_ok && pages_ok) {
			if (converged)
				printf("converged: pages_sharing %llu, ksm_zero_pages %llu, unchanged for %llu full pass%s\n",
				       (unsigned long long)sharing, (unsigned long long)zero,
				       (unsigned long long)passes, passes == 1 ? "" : "es");
			if (pages_s)
				printf("merged: %llu pages (at least %llu)\n",
				       (unsigned long long)merged, (unsigned long long)pages);
			return 0;
		}
		if (timeout && now_s() - start >= timeout) {
			char conv[160] = "", pg[96] = "";

			if (!conv_ok)
				snprintf(conv, sizeof(conv),
					 "pages_sharing %llu, ksm_zero_pages %llu, unchanged for %llu of %llu full passes",
					 (unsigned long long)sharing, (unsigned long long)zero,
					 (unsigned long long)held, (unsigned long long)passes);
			if (!pages_ok)
				snprintf(pg, sizeof(pg), "%llu of %llu pages merged",
					 (unsigned long long)merged, (unsigned long long)pages);
			errmsg("wait: timed out after %g s: %s%s%s", timeout, conv,
			       *conv && *pg ? "; " : "", pg);
			return 1;
		}
		nanosleep(&ts, NULL);
		if (sp_ioctl(SAMEPAGE_IOC_STATS, &st, "wait", 0))
			return 1;
	}
}
