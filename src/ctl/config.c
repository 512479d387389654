// SPDX-License-Identifier: GPL-2.0
/*
 * samepagectl apply-config: /etc/samepage.conf (KEY=VALUE lines) into
 * /sys/kernel/mm/samepage, all or nothing. samepage.service runs exactly
 * this, and so do the tests.
 *
 * Every line is checked before anything is written: an unknown key, a bad
 * value, a key given twice or a line that is not KEY=VALUE is an error that
 * names its line, and then nothing is changed. If the kernel refuses a
 * value that passed the checks (EBUSY: max_page_sharing while merged pages
 * exist), the settings written before it get their earlier values back.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

#define DEFAULT_CONFIG	"/etc/samepage.conf"

enum vtype { V_BOOL, V_RUN, V_U32, V_INT_GE2, V_ULONG, V_ULONG_GE1, V_ADVISOR,
	     V_THP_MIN, V_U8, V_SCOPE };

static const char *const vwords[] = {
	[V_BOOL] = "0 or 1",
	[V_RUN] = "0 or 1 (2 is 'samepagectl unmerge', not a setting)",
	[V_U32] = "an integer from 0 to 4294967295",
	[V_INT_GE2] = "an integer from 2 to 2147483647",
	[V_ULONG] = "an integer from 0 to 18446744073709551615",
	[V_ULONG_GE1] = "an integer from 1 to 18446744073709551615",
	[V_ADVISOR] = "none or scan-time",
	[V_THP_MIN] = "an integer from 1 to 512",
	[V_U8] = "an integer from 0 to 255",
	[V_SCOPE] = "all, uid or memcg",
};

/*
 * The settings, in the order they are written: advisor_mode=none comes
 * first (pages_to_scan is the advisor's while it is on), scan-time and run
 * last (the other settings are in place before samepaged uses them).
 */
static const struct ckey {
	const char *name;
	enum vtype type;
} keys[] = {
	{ "advisor_mode", V_ADVISOR },	/* when "none" */
	{ "pages_to_scan", V_U32 },
	{ "sleep_millisecs", V_U32 },
	{ "use_zero_pages", V_BOOL },
	{ "max_page_sharing", V_INT_GE2 },
	{ "merge_across_nodes", V_BOOL },
	{ "merge_scope", V_SCOPE },		/* like the two above: nothing merged */
	{ "stable_node_chains_prune_millisecs", V_U32 },
	{ "max_kernel_pages", V_ULONG },
	{ "smart_scan", V_BOOL },
	{ "follow_madvise", V_BOOL },
	{ "thp_min_mergeable", V_THP_MIN },
	{ "cow_cooldown_passes", V_U8 },
	{ "proc_ksm_stat", V_BOOL },
	{ "merge_first_sight", V_BOOL },
	{ "advisor_max_cpu", V_U32 },
	{ "advisor_min_pages_to_scan", V_ULONG },
	{ "advisor_max_pages_to_scan", V_ULONG },
	{ "advisor_target_scan_time", V_ULONG_GE1 },
	{ "run", V_RUN },
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))
#define VALUE_MAX 64

struct entry {
	int line;
	char value[VALUE_MAX];
	char before[VALUE_MAX];	/* as read back before writing */
	bool present;
};

/* Decimal digits only, at most @max, at least @min. */
static bool in_range(const char *v, unsigned long long min, unsigned long long max)
{
	unsigned long long n;
	char *end;

	if (!*v || strspn(v, "0123456789") != strlen(v))
		return false;
	errno = 0;
	n = strtoull(v, &end, 10);
	return !errno && n >= min && n <= max;
}

static bool valid(enum vtype t, const char *v)
{
	switch (t) {
	case V_BOOL:
	case V_RUN:
		return !strcmp(v, "0") || !strcmp(v, "1");
	case V_U32:
		return in_range(v, 0, UINT_MAX);
	case V_INT_GE2:
		return in_range(v, 2, INT_MAX);
	case V_ULONG:
		return in_range(v, 0, ULONG_MAX);
	case V_ULONG_GE1:
		return in_range(v, 1, ULONG_MAX);
	case V_ADVISOR:
		return !strcmp(v, "none") || !strcmp(v, "scan-time");
	case V_THP_MIN:
		return in_range(v, 1, 512);
	case V_U8:
		return in_range(v, 0, 255);
	case V_SCOPE:
		return !strcmp(v, "all") || !strcmp(v, "uid") || !strcmp(v, "memcg");
	}
	return false;
}

static int find_key(const char *name)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (!strcmp(keys[i].name, name))
			return (int)i;
	return -1;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		*--e = '\0';
	return s;
}

/* Parse @path into @ent (indexed like keys[]); the number of errors, each said. */
static int parse_file(const char *path, FILE *f, struct entry *ent, int *count)
{
	char *buf = NULL;
	size_t cap = 0;
	int line = 0, errors = 0;

	*count = 0;
	while (getline(&buf, &cap, f) >= 0) {
		char *s = trim(buf), *eq, *k, *v;
		int i;

		line++;
		if (!*s || *s == '#')
			continue;
		eq = strchr(s, '=');
		if (!eq) {
			errmsg("%s:%d: not KEY=VALUE: '%s'", path, line, s);
			errors++;
			continue;
		}
		*eq = '\0';
		k = trim(s);
		v = trim(eq + 1);
		if (!*k) {
			errmsg("%s:%d: not KEY=VALUE: no key before '='", path, line);
			errors++;
			continue;
		}
		i = find_key(k);
		if (i < 0) {
			errmsg("%s:%d: unknown key '%s' (samepagectl apply-config --help lists the keys)",
			       path, line, k);
			errors++;
			continue;
		}
		if (ent[i].present) {
			errmsg("%s:%d: %s is set twice (first on line %d)", path, line, k,
			       ent[i].line);
			errors++;
			continue;
		}
		if (strlen(v) >= VALUE_MAX || !valid(keys[i].type, v)) {
			errmsg("%s:%d: bad value '%s' for %s: want %s", path, line, v, k,
			       vwords[keys[i].type]);
			errors++;
			continue;
		}
		ent[i].present = true;
		ent[i].line = line;
		strcpy(ent[i].value, v);
		(*count)++;
	}
	free(buf);
	return errors;
}

static bool same_value(const char *a, const char *b)
{
	if (in_range(a, 0, ULLONG_MAX) && in_range(b, 0, ULLONG_MAX))
		return strtoull(a, NULL, 10) == strtoull(b, NULL, 10);
	return !strcmp(a, b);
}

/* The write order: indexes into keys[]. */
static int write_order(const struct entry *ent, int *order)
{
	int n = 0, adv = find_key("advisor_mode"), run = find_key("run");

	if (ent[adv].present && !strcmp(ent[adv].value, "none"))
		order[n++] = adv;
	for (int i = 0; i < (int)NKEYS; i++)
		if (ent[i].present && i != adv && i != run)
			order[n++] = i;
	if (ent[adv].present && strcmp(ent[adv].value, "none"))
		order[n++] = adv;
	if (ent[run].present)
		order[n++] = run;
	return n;
}

/* Put back the earlier values of order[0..n-1], last written first. */
static void restore(const char *path, const struct entry *ent, const int *order, int n)
{
	int back = 0, failed = 0;

	for (int j = n - 1; j >= 0; j--) {
		const struct entry *e = &ent[order[j]];
		char where[600];

		snprintf(where, sizeof(where), "%s:%d: restoring: ", path, e->line);
		if (write_knob_at(where, keys[order[j]].name, e->before))
			failed++;
		else
			back++;
	}
	if (failed)
		errmsg("%s: %d settings got their earlier values back, %d could not", path, back,
		       failed);
	else
		errmsg("%s: the %d settings written before it got their earlier values back",
		       path, back);
}

int cmd_apply_config(int argc, char **argv)
{
	static char usage[4096];
	struct entry ent[NKEYS] = { 0 };
	int order[NKEYS], n, count, errors;
	const char *path = DEFAULT_CONFIG;
	bool check;
	FILE *f;

	snprintf(usage, sizeof(usage), "apply-config [--check] [FILE]\n"
		 "Apply FILE (default %s): KEY=VALUE lines, '#' comments, blank\n"
		 "lines. Every line is checked first; an unknown key, a bad value or a\n"
		 "malformed line is an error naming its line, and nothing is changed.\n"
		 "If the kernel refuses a value, the settings written before it get\n"
		 "their earlier values back. --check only checks (no module needed).\n"
		 "Keys, in the order they are written:", DEFAULT_CONFIG);
	for (size_t i = 0; i < NKEYS; i++)
		snprintf(usage + strlen(usage), sizeof(usage) - strlen(usage), "\n  %-35s %s",
			 keys[i].name, vwords[keys[i].type]);
	if (want_help(argc, argv, usage))
		return 0;
	check = take_flag(&argc, argv, "--check");
	if (argc > 1)
		return usage_error(usage);
	if (argc)
		path = argv[0];
	f = fopen(path, "re");
	if (!f) {
		errmsg("cannot read %s: %s", path, strerror(errno));
		return 1;
	}
	errors = parse_file(path, f, ent, &count);
	fclose(f);
	if (errors) {
		errmsg("%s: %d bad line%s: nothing was changed", path, errors,
		       errors == 1 ? "" : "s");
		return 1;
	}
	if (check) {
		printf("%s: %d settings, all valid\n", path, count);
		return 0;
	}
	if (!module_loaded())
		return not_loaded();
	n = write_order(ent, order);
	for (int j = 0; j < n; j++) {
		struct entry *e = &ent[order[j]];

		if (read_setting(keys[order[j]].name, e->before, sizeof(e->before))) {
			errmsg("%s:%d: cannot read %s/%s: nothing was changed", path, e->line,
			       sp_sysfs_dir(), keys[order[j]].name);
			return 1;
		}
	}
	for (int j = 0; j < n; j++) {
		struct entry *e = &ent[order[j]];
		const char *name = keys[order[j]].name;
		char where[600], now[VALUE_MAX];

		snprintf(where, sizeof(where), "%s:%d: ", path, e->line);
		if (write_knob_at(where, name, e->value)) {
			restore(path, ent, order, j);
			return 1;
		}
		if (read_setting(name, now, sizeof(now)) || !same_value(now, e->value)) {
			errmsg("%s:%d: %s reads back '%s' after writing '%s'", path, e->line, name,
			       now, e->value);
			restore(path, ent, order, j + 1);
			return 1;
		}
	}
	printf("%s: applied %d settings\n", path, count);
	return 0;
}
