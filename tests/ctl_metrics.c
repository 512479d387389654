// SPDX-License-Identifier: GPL-2.0
/*
 * samepagectl metrics: with a process merged and samepaged stopped (so
 * nothing moves), every file of /sys/kernel/mm/samepage has exactly one
 * sample and its value is the file's (node_exporter's node_ksmd_* names
 * and units for its nine files, samepage_* for the rest, general_profit
 * signed); the why-not-merged breakdown equals STATS; the process has its
 * pid, its comm (escaped) and the figures of PROC_STAT; every family has
 * one HELP and one TYPE before its samples; --output writes the same text
 * atomically (no temporary file left, mode 0644).
 */
#include <dirent.h>
#include <stdarg.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include "sp.h"
#include "shell.h"


/* The sample "NAME{LABELS} VALUE" of @out whose name+labels is @series, or NULL. */
static const char *value_of(const char *text, const char *series)
{
	static char v[128];
	size_t len = strlen(series);

	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		if (!strncmp(l, series, len) && l[len] == ' ') {
			sscanf(l + len + 1, "%127s", v);
			return v;
		}
	}
	return NULL;
}

/* Samples whose name (before '{' or ' ') is @name. */
static int samples_of(const char *text, const char *name)
{
	size_t len = strlen(name);
	int n = 0;

	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (!strncmp(l, name, len) && (l[len] == ' ' || l[len] == '{'))
			n++;
	return n;
}

static const struct { const char *file, *series; int ms; } names[] = {
	{ "full_scans", "node_ksmd_full_scans_total{ksm=\"samepage\"}", 0 },
	{ "merge_across_nodes", "node_ksmd_merge_across_nodes{ksm=\"samepage\"}", 0 },
	{ "pages_shared", "node_ksmd_pages_shared{ksm=\"samepage\"}", 0 },
	{ "pages_sharing", "node_ksmd_pages_sharing{ksm=\"samepage\"}", 0 },
	{ "pages_to_scan", "node_ksmd_pages_to_scan{ksm=\"samepage\"}", 0 },
	{ "pages_unshared", "node_ksmd_pages_unshared{ksm=\"samepage\"}", 0 },
	{ "pages_volatile", "node_ksmd_pages_volatile{ksm=\"samepage\"}", 0 },
	{ "run", "node_ksmd_run{ksm=\"samepage\"}", 0 },
	{ "sleep_millisecs", "node_ksmd_sleep_seconds{ksm=\"samepage\"}", 1 },
	{ "general_profit", "samepage_general_profit_bytes", 0 },
	{ "pages_scanned", "samepage_pages_scanned_total", 0 },
	{ "pages_skipped", "samepage_pages_skipped_total", 0 },
	{ "pages_skipped_thp", "samepage_pages_skipped_thp_total", 0 },
	{ "hash_collisions", "samepage_hash_collisions_total", 0 },
	{ "cow_breaks", "samepage_cow_breaks_total", 0 },
	{ "pages_hwpoisoned", "samepage_pages_hwpoisoned_total", 0 },
	{ "kpage_arenas_freed", "samepage_kpage_arenas_freed_total", 0 },
	{ "kpages_moved", "samepage_kpages_moved_total", 0 },
	{ "stable_node_chains_prune_millisecs", "samepage_stable_node_chains_prune_seconds", 1 },
	{ "advisor_target_scan_time", "samepage_advisor_target_scan_time_seconds", 0 },
};

/* The series of sysfs file @file: the table above, else samepage_FILE. */
static const char *series_of(const char *file, int *ms)
{
	static char s[300];

	*ms = 0;
	for (unsigned int i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(names[i].file, file)) {
			*ms = names[i].ms;
			return names[i].series;
		}
	snprintf(s, sizeof(s), "samepage_%s", file);
	return s;
}

static void read_file(const char *path, char *v, size_t len)
{
	FILE *f = fopen(path, "r");

	v[0] = '\0';
	if (!f || !fgets(v, (int)len, f))
		tap_bail("cannot read %s", path);
	fclose(f);
	v[strcspn(v, "\n")] = '\0';
}

/* Every numeric sysfs file has its one sample, equal to the file. */
static void every_file(const char *text)
{
	struct dirent **de;
	int n = scandir(SP_TREE, &de, NULL, alphasort), files = 0, match = 0;

	for (int i = 0; i < n; i++) {
		const char *f = de[i]->d_name, *series, *got;
		char path[512], v[256], want[64];
		int ms;

		if (f[0] == '.' || !strcmp(f, "hooks") || !strcmp(f, "advisor_mode") ||
		    !strcmp(f, "merge_scope"))
			continue;
		snprintf(path, sizeof(path), SP_TREE "%s", f);
		read_file(path, v, sizeof(v));
		series = series_of(f, &ms);
		if (ms)
			snprintf(want, sizeof(want), "%ld.%03ld", atol(v) / 1000, atol(v) % 1000);
		else
			snprintf(want, sizeof(want), "%s", v);
		got = value_of(text, series);
		files++;
		if (got && !strcmp(got, want) && samples_of(text, strtok(strcpy(path, series), "{")) == 1)
			match++;
		else
			tap_diag("%s = %s, but %s is %s", f, v, series, got ? got : "missing");
	}
	for (int i = 0; i < n; i++)
		free(de[i]);
	free(de);
	tap_ok(files > 25 && match == files, "all %d sysfs files have one sample equal to the file (%d do)",
	       files, match);
}

/* Each family: "# HELP", then "# TYPE", then its samples, and never again. */
static int families_well_formed(const char *text)
{
	char seen[200][128], name[128], tname[128], type[32];
	int nseen = 0;
	const char *l = text;

	while (l && *l) {
		if (sscanf(l, "# HELP %127s", name) != 1)
			return tap_diag("not a HELP line: %.60s", l), 0;
		for (int i = 0; i < nseen; i++)
			if (!strcmp(seen[i], name))
				return tap_diag("%s twice", name), 0;
		if (nseen < 200)
			strcpy(seen[nseen++], name);
		l = strchr(l, '\n') + 1;
		if (sscanf(l, "# TYPE %127s %31s", tname, type) != 2 || strcmp(tname, name) ||
		    (strcmp(type, "gauge") && strcmp(type, "counter")))
			return tap_diag("no TYPE after HELP %s", name), 0;
		l = strchr(l, '\n') + 1;
		while (*l && *l != '#') {
			if (strncmp(l, name, strlen(name)) ||
			    (l[strlen(name)] != ' ' && l[strlen(name)] != '{'))
				return tap_diag("a sample of another family under %s: %.60s", name, l), 0;
			l = strchr(l, '\n') + 1;
		}
	}
	return nseen > 30;
}

#define NPAGES 96

static const char *why_key_name(int i)
{
	static const char *const k[SAMEPAGE_WHY_NR] = {
		"merged", "volatile", "smart_scan", "unique", "thp", "pinned", "vma_shared",
		"vma_locked", "vma_hugetlb", "vma_io", "vma_other", "not_present",
		"max_kernel_pages", "race", "memcg_limit",
	};

	return k[i];
}

/* The child: a comm that needs escapes, 64 pages alike and the rest unique. */
static void child_setup(void *buf)
{
	prctl(PR_SET_NAME, "sp\"q\\x");
	for (int i = 0; i < NPAGES; i++)
		fill_page((char *)buf + i * page_size, i < 64 ? 5 : 100 + i);
}

int main(void)
{
	struct samepage_stats st = { .size = sizeof(st) };
	struct samepage_proc_stat ps = { .size = sizeof(ps) };
	char series[256], want[64], *buf;
	static char first[1 << 16];
	struct child child;
	struct stat sb;
	int ok = 1;
	pid_t pid;
	DIR *d;
	struct dirent *de;

	sp_test_init(12);
	sp_reset();
	buf = map_pages(NPAGES);
	child = spawn(child_setup, sp_nop_step, buf);
	pid = child.pid;
	if (sh_stdout("samepagectl merge %d %lu %lu", pid, (unsigned long)buf,
	       (unsigned long)(NPAGES * page_size)))
		tap_bail("merge failed: %s", out);
	run_passes(SP_TREE, 2);	/* the breakdown of a full pass; then samepaged stops */

	tap_ok(sh_stdout("samepagectl metrics") == 0, "metrics: exit 0");
	strcpy(first, out);
	tap_ok(families_well_formed(out), "every family has one HELP and one TYPE before its samples");
	every_file(out);
	tap_ok(value_of(out, "samepage_module_loaded") && !strcmp(value_of(out, "samepage_module_loaded"), "1"),
	       "samepage_module_loaded 1");
	if (ioctl(sp_dev(), SAMEPAGE_IOC_STATS, &st))
		tap_bail("STATS: %s", strerror(errno));
	for (int i = 0; i < SAMEPAGE_WHY_NR; i++) {
		const char *v;

		snprintf(series, sizeof(series), "samepage_last_pass_pages{outcome=\"%s\"}", why_key_name(i));
		snprintf(want, sizeof(want), "%llu", (unsigned long long)st.why[i]);
		v = value_of(out, series);
		if (!v || strcmp(v, want)) {
			tap_diag("%s is %s, STATS says %s", series, v ? v : "missing", want);
			ok = 0;
		}
	}
	tap_ok(ok && st.why[SAMEPAGE_WHY_MERGED] == 64 && st.why[SAMEPAGE_WHY_UNIQUE] == 32,
	       "the why-not-merged breakdown equals STATS (64 merged, 32 unique)");
	ps.pid = pid;
	if (ioctl(sp_dev(), SAMEPAGE_IOC_PROC_STAT, &ps))
		tap_bail("PROC_STAT: %s", strerror(errno));
	snprintf(series, sizeof(series), "samepage_process_merging_pages{pid=\"%d\",comm=\"sp\\\"q\\\\x\"}", pid);
	tap_ok(value_of(out, series) && !strcmp(value_of(out, series), "64"),
	       "%s 64", series);
	snprintf(series, sizeof(series), "samepage_process_profit_bytes{pid=\"%d\",comm=\"sp\\\"q\\\\x\"}", pid);
	snprintf(want, sizeof(want), "%lld", (long long)ps.process_profit);
	tap_ok(value_of(out, series) && !strcmp(value_of(out, series), want),
	       "its profit is PROC_STAT's: %s", want);
	snprintf(series, sizeof(series), "samepage_process_rmap_items{pid=\"%d\",comm=\"sp\\\"q\\\\x\"}", pid);
	tap_ok(value_of(out, series) && !strcmp(value_of(out, series), "96") &&
	       samples_of(out, "samepage_process_rmap_items") == 1,
	       "rmap_items 96, and it is the one tracked process");
	tap_ok(value_of(out, "samepage_tracked_processes") &&
	       !strcmp(value_of(out, "samepage_tracked_processes"), "1") &&
	       samples_of(out, "samepage_hook_active") >= 1 &&
	       samples_of(out, "samepage_advisor_mode") == 2 &&
	       samples_of(out, "samepage_merge_scope") == 3,
	       "tracked processes, hooks and advisor mode are there");

	mkdir("/tmp/tf", 0755);
	tap_ok(sh_stdout("samepagectl metrics --output /tmp/tf/samepage.prom && cat /tmp/tf/samepage.prom") == 0 &&
	       !strcmp(out, first), "--output FILE holds the same text");
	d = opendir("/tmp/tf");
	while (d && (de = readdir(d)))
		if (de->d_name[0] != '.' && strcmp(de->d_name, "samepage.prom")) {
			tap_diag("left behind: %s", de->d_name);
			ok = 0;
		}
	if (d)
		closedir(d);
	tap_ok(ok && !stat("/tmp/tf/samepage.prom", &sb) && (sb.st_mode & 07777) == 0644,
	       "no temporary file left, mode 0644");
	ok = sh_stdout("samepagectl metrics --output /no/such/dir/x.prom 2>&1") == 1 &&
	     strstr(out, "cannot create /no/such/dir/x.prom.");
	tap_ok(ok, "an unwritable --output: exit 1, '%s'", strtok(out, "\n"));

	reap_child(&child);
	sp_restore();
	return tap_done();
}
