// SPDX-License-Identifier: GPL-2.0
/*
 * samepagectl as users drive it: every read command's --json parses and
 * has the documented keys, exit codes are 0 / 1 (error) / 2 (usage) with
 * one clear line, merge/stat/explain give the engine's numbers, stat
 * matches /proc/PID/ksm_stat of in-tree KSM for the same program field by
 * field, and top is driven on a pseudo-terminal and its screens captured.
 */
#include <ctype.h>
#include <pty.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include "sp.h"
#include "shell.h"

/* ---- running samepagectl ---- */


/* ---- a small JSON checker: syntax, and the keys of the top object ---- */

static const char *js;
static char keys[64][64];
static int nkeys, depth;

static void ws(void)
{
	while (isspace((unsigned char)*js))
		js++;
}

static int value(void);

static int string(char *copy, size_t len)
{
	size_t n = 0;

	if (*js++ != '"')
		return 0;
	while (*js && *js != '"') {
		if (*js == '\\')
			js++;
		if (copy && n + 1 < len)
			copy[n++] = *js;
		js++;
	}
	if (copy)
		copy[n] = '\0';
	return *js++ == '"';
}

static int object(void)
{
	char k[64];

	js++;
	ws();
	if (*js == '}')
		return js++, 1;
	depth++;
	for (;;) {
		ws();
		if (!string(k, sizeof(k)))
			return 0;
		if (depth == 1 && nkeys < 64)
			strcpy(keys[nkeys++], k);
		ws();
		if (*js++ != ':' || !value())
			return 0;
		ws();
		if (*js == '}')
			return depth--, js++, 1;
		if (*js++ != ',')
			return 0;
	}
}

static int array(void)
{
	js++;
	ws();
	if (*js == ']')
		return js++, 1;
	for (;;) {
		if (!value())
			return 0;
		ws();
		if (*js == ']')
			return js++, 1;
		if (*js++ != ',')
			return 0;
	}
}

static int value(void)
{
	ws();
	if (*js == '{')
		return object();
	if (*js == '[')
		return array();
	if (*js == '"')
		return string(NULL, 0);
	if (*js == '-' || isdigit((unsigned char)*js)) {
		strtod(js, (char **)&js);
		return 1;
	}
	for (const char *w = "true\0false\0null\0"; *w; w += strlen(w) + 1)
		if (!strncmp(js, w, strlen(w)))
			return js += strlen(w), 1;
	return 0;
}

/* @text is one JSON object holding every key of the NULL-ended @want. */
static int json_has(const char *text, const char *const *want)
{
	js = text;
	nkeys = depth = 0;
	ws();
	if (*js != '{' || !object())
		return 0;
	ws();
	if (*js)
		return 0;
	for (; *want; want++) {
		int found = 0;

		for (int i = 0; i < nkeys; i++)
			found |= !strcmp(keys[i], *want);
		if (!found) {
			tap_diag("missing key %s", *want);
			return 0;
		}
	}
	return 1;
}

/* The number after "key": in a JSON text (or -1). */
static long json_num(const char *text, const char *key)
{
	char pat[80];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\": ", key);
	p = strstr(text, pat);
	return p ? atol(p + strlen(pat)) : -1;
}

/* ---- a child process holding pages ---- */

#define NPAGES 96	/* 64 identical, 32 unique */

static char **shared_buf;

static void setup(void *arg)
{
	char *buf = map_pages(NPAGES);

	(void)arg;
	for (int i = 0; i < NPAGES; i++)
		fill_page(buf + i * page_size, i < 64 ? 5 : 100 + i);
	*shared_buf = buf;
}

static int step(int cmd, void *arg)
{
	(void)arg;
	if (cmd == 1)
		return !madvise(*shared_buf, NPAGES * page_size, MADV_MERGEABLE);
	return !madvise(*shared_buf, NPAGES * page_size, MADV_UNMERGEABLE);
}

static long ksm_stat_field(pid_t pid, const char *name)
{
	char path[64], line[128];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/ksm_stat", pid);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, name, strlen(name)) && line[strlen(name)] == ' ')
			v = atol(line + strlen(name) + 1);
	if (f)
		fclose(f);
	return v;
}

static void converge(const char *tree)
{
	must_set(tree, "pages_to_scan", "10000");
	must_set(tree, "sleep_millisecs", "0");
	run_passes(tree, 3);
}

static void stat_vs_ksm(void)
{
	static const char *const fields[] = {
		"rmap_items", "zero_pages", "merging_pages", "merge_any", "mergeable",
	};
	struct child c;
	long ksm[5], sp_v[5];
	char key[64];

	c = spawn(setup, step, NULL);
	/* in-tree KSM */
	must_set(KSM_TREE, "run", "2");
	ask(&c, 1);
	converge(KSM_TREE);
	for (int i = 0; i < 5; i++) {
		snprintf(key, sizeof(key), "ksm_%s", fields[i]);
		ksm[i] = ksm_stat_field(c.pid, key);
	}
	must_set(KSM_TREE, "run", "2");
	ask(&c, 2);
	must_set(KSM_TREE, "run", "0");
	must_set(KSM_TREE, "pages_to_scan", "100");
	must_set(KSM_TREE, "sleep_millisecs", "20");
	/* samepage, the same pages */
	sp_reset();
	sp_range(1, c.pid, *shared_buf, NPAGES * page_size);
	converge(SP_TREE);
	sh("samepagectl stat %d --json", c.pid);
	for (int i = 0; i < 5; i++)
		sp_v[i] = json_num(out, fields[i]);
	for (int i = 0; i < 5; i++) {
		if (ksm[i] < 0) {
			tap_skip("this kernel's /proc/PID/ksm_stat lacks the field",
				 "stat %s matches in-tree ksm_stat", fields[i]);
			continue;
		}
		/* merge_any: both 0 (a range / madvise, not the whole process) */
		tap_ok(sp_v[i] == ksm[i], "stat %s: samepage %ld, in-tree ksm_stat %ld",
		       fields[i], sp_v[i], ksm[i]);
	}
	sp_range(0, c.pid, *shared_buf, NPAGES * page_size);
	reap_child(&c);
}

static void top_on_a_pty(pid_t watched)
{
	char screen[1 << 15], pidtxt[32];
	size_t n = 0;
	ssize_t r;
	int master, frames = 0;
	pid_t pid = forkpty(&master, NULL, NULL, NULL);

	if (pid < 0)
		tap_bail("forkpty: %s", strerror(errno));
	if (!pid) {
		execlp("samepagectl", "samepagectl", "top", "--iterations", "3",
		       "--interval", "1", (char *)NULL);
		_exit(127);
	}
	while (n < sizeof(screen) - 1 && (r = read(master, screen + n, sizeof(screen) - 1 - n)) > 0)
		n += r;
	screen[n] = '\0';
	waitpid(pid, NULL, 0);
	for (const char *p = screen; (p = strstr(p, "\033[H\033[2J")); p++)
		frames++;
	snprintf(pidtxt, sizeof(pidtxt), "%8d ", watched);
	tap_ok(frames == 3 && strstr(screen, "samepage top") && strstr(screen, pidtxt) &&
	       strstr(screen, "pass ["),
	       "top on a terminal: 3 refreshed screens with the tracked process and a progress bar");
	tap_diag("last screen of top:");
	for (char *l = strrchr(screen, '\033') ? strrchr(screen, '\033') + 1 : screen, *e;
	     l && *l; l = e ? e + 1 : NULL) {
		e = strchr(l, '\n');
		if (e)
			*e = '\0';
		tap_diag("  %s", l);
	}
}

int main(void)
{
	static const char *const version_keys[] = { "samepagectl", "module", "abi_version", NULL };
	static const char *const status_keys[] = { "samepage", "ksm", "hooks", NULL };
	static const char *const stat_keys[] = {
		"pid", "rmap_items", "zero_pages", "merging_pages", "process_profit",
		"merge_any", "mergeable", "ranges", "full_scans", NULL,
	};
	static const char *const why_keys[] = {
		"pages", "merged", "volatile", "smart_scan", "unique", "thp", "pinned",
		"vma_shared", "vma_locked", "vma_hugetlb", "vma_io", "vma_other",
		"not_present", "max_kernel_pages", "race", "memcg_limit", NULL,
	};
	static const char *const list_keys[] = { "count", "processes", NULL };
	static const char *const merge_keys[] = { "merged", NULL };
	struct child c;
	pid_t gone;

	sp_test_init(34);
	shared_buf = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	tap_ok(sh("samepagectl version --json") == 0 && json_has(out, version_keys),
	       "version --json: %s", strtok(out, "\n"));
	tap_ok(sh("samepagectl status --json") == 0 && json_has(out, status_keys),
	       "status --json has samepage, ksm, hooks");
	tap_ok(sh("samepagectl status") == 0 && strstr(out, "pages_to_scan") &&
	       strstr(out, "hooks:"), "status prints both trees and the hooks");

	sp_reset();
	c = spawn(setup, step, NULL);
	tap_ok(sh("samepagectl merge %d %lu %lu --json", c.pid, (unsigned long)*shared_buf,
		  (unsigned long)(NPAGES * page_size)) == 0 && json_has(out, merge_keys) &&
	       json_num(out, "merged") == 63,
	       "merge of a child's 64 duplicates (+32 unique) saves 63: %s", strtok(out, "\n"));
	tap_ok(sh("samepagectl stat %d --json", c.pid) == 0 && json_has(out, stat_keys) &&
	       json_num(out, "merging_pages") == 64 && json_num(out, "rmap_items") == NPAGES,
	       "stat --json: 96 rmap_items, 64 merging");
	run_passes(SP_TREE, 2);
	tap_ok(sh("samepagectl explain %d --json", c.pid) == 0 && json_has(out, why_keys) &&
	       json_num(out, "merged") == 64 && json_num(out, "unique") == 32,
	       "explain PID --json: 64 merged, 32 unique");
	tap_ok(sh("samepagectl explain %d", c.pid) == 0 &&
	       strstr(out, "64 pages") && strstr(out, "unique"),
	       "explain PID in words");
	tap_ok(sh("samepagectl explain --json") == 0 && json_has(out, why_keys),
	       "explain --json (all processes)");
	tap_ok(sh("samepagectl list --json") == 0 && json_has(out, list_keys) &&
	       json_num(out, "count") == 1, "list --json: 1 process");
	top_on_a_pty(c.pid);
	tap_ok(sh("samepagectl unregister %d", c.pid) == 0 && knob("kernel_pages_allocated") == 0,
	       "unregister gives the pages back");
	tap_ok(sh("samepagectl register %d --range %#lx:%lu", c.pid, (unsigned long)*shared_buf,
		  (unsigned long)(NPAGES * page_size)) == 0 &&
	       sh("samepagectl stat %d --json", c.pid) == 0 && json_num(out, "ranges") == 1,
	       "register --range START:LEN (hex start)");
	sh("samepagectl unregister %d", c.pid);
	reap_child(&c);

	/* exit codes and one-line errors */
	tap_ok(sh("samepagectl frobnicate") == 2, "unknown command: exit 2");
	tap_ok(sh("samepagectl stat") == 2, "missing PID: exit 2");
	tap_ok(sh("samepagectl stat 12x") == 2 && strstr(out, "not a process id"),
	       "bad number: exit 2, '%s'", strtok(out, "\n"));
	gone = fork();
	if (!gone)
		_exit(0);
	waitpid(gone, NULL, 0);
	tap_ok(sh("samepagectl stat %d", gone) == 1 && strstr(out, "no process"),
	       "no such process: exit 1, '%s'", strtok(out, "\n"));
	tap_ok(sh("samepagectl set pages_to_scan=abc") == 1 && strstr(out, "rejects"),
	       "bad value: exit 1, '%s'", strtok(out, "\n"));
	tap_ok(sh("samepagectl set no_such_knob=1") == 1 && strstr(out, "not a samepage setting"),
	       "unknown setting: exit 1");
	tap_ok(sh("samepagectl set pages_to_scan") == 2, "set without '=': exit 2");
	tap_ok(sh("samepagectl set pages_to_scan=500 sleep_millisecs=7") == 0 &&
	       knob("pages_to_scan") == 500 && knob("sleep_millisecs") == 7,
	       "set KEY=VALUE KEY=VALUE");
	tap_ok(sh("samepagectl merge 1 0x1001 4096") == 1 && strstr(out, "invalid argument"),
	       "unaligned merge: exit 1, '%s'", strtok(out, "\n"));
	tap_ok(sh("su spuser -c 'samepagectl register 1'") == 1 && strstr(out, "permission denied"),
	       "another user's process: exit 1, '%s'", strtok(out, "\n"));
	tap_ok(sh("su spuser -c 'samepagectl set run=1'") == 1 && strstr(out, "permission denied"),
	       "a setting as a user: exit 1, '%s'", strtok(out, "\n"));
	/* status for a user: the per-scope part needs /dev/samepage, the knobs do not */
	tap_ok(sh_stdout("su spuser -c 'samepagectl status --json'") == 0 &&
	       strstr(out, "\"scopes\": {") && strstr(out, "\"pages_to_scan\""),
	       "status --json as a user: exit 0, knobs and scopes");
	chmod("/dev/samepage", 0600);	/* as the package's udev rule does for non-members */
	tap_ok(sh_stdout("su spuser -c 'samepagectl status'") == 0 &&
	       strstr(out, "tracked processes not shown (no access to /dev/samepage)") &&
	       strstr(out, "pages_to_scan") &&
	       sh_stdout("su spuser -c 'samepagectl status --json'") == 0 &&
	       !strstr(out, "\"scopes\"") && strstr(out, "\"pages_to_scan\""),
	       "status as a user without the device: exit 0, knobs, no scopes (says why)");
	chmod("/dev/samepage", 0666);
	tap_ok(sh("samepagectl stat --help") == 0 && strstr(out, "usage: samepagectl stat"),
	       "every command has --help");
	tap_ok(sh("samepagectl run -- sh -c 'exit 7'") == 7, "run -- CMD exits with CMD's status");
	tap_ok(sh("samepagectl run /no/such/program") == 127 && strstr(out, "cannot run"),
	       "run of a missing program: 127");
	tap_ok(sh("samepagectl unmerge") == 0 && strstr(out, "unmerged:"), "unmerge reports");

	stat_vs_ksm();
	sp_restore();
	return tap_done();
}
