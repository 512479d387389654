// SPDX-License-Identifier: GPL-2.0
/*
 * samepagectl apply-config, the code samepage.service runs on
 * /etc/samepage.conf: a file with every key is applied and every knob reads
 * back its value; advisor_mode is ordered around pages_to_scan; a bad key,
 * a bad value, a malformed line or a key given twice fails with its line
 * number and changes nothing; a value the kernel refuses after the checks
 * (max_page_sharing while merged pages exist) puts the settings written
 * before it back and says so.
 */
#include <dirent.h>
#include <stdarg.h>
#include "sp.h"
#include "shell.h"


#define CONF "/tmp/samepage.conf"

static void write_conf(const char *text)
{
	FILE *f = fopen(CONF, "w");

	if (!f || fputs(text, f) < 0 || fclose(f))
		tap_bail("cannot write %s", CONF);
}

/* Every file of samepage's tree, "name=value\n" sorted: a snapshot. */
static void snapshot(char *buf, size_t len)
{
	struct dirent **de;
	int n = scandir(SP_TREE, &de, NULL, alphasort);
	size_t used = 0;

	buf[0] = '\0';
	for (int i = 0; i < n; i++) {
		char path[512], v[256] = "";
		FILE *f;

		/* only the settings: counters move on their own */
		snprintf(path, sizeof(path), SP_TREE "%s", de[i]->d_name);
		if (de[i]->d_name[0] != '.' && !access(path, W_OK) && (f = fopen(path, "r"))) {
			if (fgets(v, sizeof(v), f))
				used += snprintf(buf + used, len - used, "%s=%s", de[i]->d_name, v);
			fclose(f);
		}
		free(de[i]);
	}
	free(de);
}

static const char *const all_keys =
	"# every key, none at its default\n"
	"advisor_mode = none\n"
	"pages_to_scan=321\n"
	"sleep_millisecs=33\n"
	"\n"
	"use_zero_pages=1\n"
	"max_page_sharing=77\n"
	"merge_across_nodes=0\n"
	"merge_scope=uid\n"
	"stable_node_chains_prune_millisecs=1234\n"
	"max_kernel_pages=5000\n"
	"smart_scan=0\n"
	"follow_madvise=0\n"
	"thp_min_mergeable=32\n"
	"cow_cooldown_passes=2\n"
	"proc_ksm_stat=0\n"
	"advisor_max_cpu=55\n"
	"advisor_min_pages_to_scan=111\n"
	"advisor_max_pages_to_scan=22222\n"
	"advisor_target_scan_time=99\n"
	"   run = 0   \n";

static const struct { const char *name; long value; } all_values[] = {
	{ "pages_to_scan", 321 }, { "sleep_millisecs", 33 }, { "use_zero_pages", 1 },
	{ "max_page_sharing", 77 }, { "merge_across_nodes", 0 },
	{ "stable_node_chains_prune_millisecs", 1234 }, { "max_kernel_pages", 5000 },
	{ "smart_scan", 0 }, { "follow_madvise", 0 }, { "advisor_max_cpu", 55 },
	{ "advisor_min_pages_to_scan", 111 }, { "advisor_max_pages_to_scan", 22222 },
	{ "advisor_target_scan_time", 99 }, { "run", 0 }, { "thp_min_mergeable", 32 },
	{ "cow_cooldown_passes", 2 }, { "proc_ksm_stat", 0 },
};

/* Is @mode the chosen one of the "[a] b c" knob @file? */
static int choice_is(const char *file, const char *mode)
{
	char path[256], want[64], v[64] = "";
	FILE *f;

	snprintf(path, sizeof(path), SP_TREE "%s", file);
	f = fopen(path, "r");
	if (!f || !fgets(v, sizeof(v), f))
		tap_bail("cannot read %s", file);
	fclose(f);
	snprintf(want, sizeof(want), "[%s]", mode);
	return strstr(v, want) != NULL;
}

static int advisor_is(const char *mode)
{
	return choice_is("advisor_mode", mode);
}

/* A failing file: exit 1, exactly @err on stderr, every setting as before. */
static void bad_file(const char *desc, const char *text, const char *err)
{
	static char before[8192], after[8192];
	int ok;

	write_conf(text);
	snapshot(before, sizeof(before));
	ok = sh("samepagectl apply-config " CONF) == 1 && !strcmp(out, err);

	tap_ok(ok, "%s: exit 1, '%s'", desc, strtok(out, "\n"));
	snapshot(after, sizeof(after));
	tap_ok(!strcmp(before, after), "%s: nothing was changed", desc);
}

/* The child's 64 pages, all alike. */
static void fill_alike(void *buf)
{
	for (int i = 0; i < 64; i++)
		fill_page((char *)buf + i * page_size, 7);
}

int main(void)
{
	struct child child;
	char *buf;
	int ok = 1;

	sp_test_init(18);
	sp_reset();	/* nothing merged: max_page_sharing and merge_across_nodes may change */

	write_conf(all_keys);
	ok = sh("samepagectl apply-config --check " CONF) == 0 &&
	     !strcmp(out, CONF ": 19 settings, all valid\n");
	tap_ok(ok, "--check: '%s'", strtok(out, "\n"));
	ok = sh("samepagectl apply-config " CONF) == 0 && !strcmp(out, CONF ": applied 19 settings\n");
	tap_ok(ok, "a file with every key: '%s'", strtok(out, "\n"));
	ok = 1;
	for (unsigned int i = 0; i < sizeof(all_values) / sizeof(all_values[0]); i++) {
		if (knob(all_values[i].name) != all_values[i].value) {
			tap_diag("%s reads %ld, not %ld", all_values[i].name,
				 knob(all_values[i].name), all_values[i].value);
			ok = 0;
		}
	}
	tap_ok(ok && advisor_is("none") && choice_is("merge_scope", "uid"),
	       "every knob reads back its value");

	write_conf("advisor_mode=scan-time\npages_to_scan=400\n");
	/* written before scan-time: else EINVAL (then the advisor sets it itself) */
	ok = sh("samepagectl apply-config " CONF) == 0 && advisor_is("scan-time");
	tap_ok(ok, "advisor_mode=scan-time is written after pages_to_scan: '%s'", strtok(out, "\n"));
	write_conf("pages_to_scan=500\nadvisor_mode=none\n");
	ok = sh("samepagectl apply-config " CONF) == 0 && advisor_is("none") &&
	     knob("pages_to_scan") == 500;
	tap_ok(ok, "advisor_mode=none is written before pages_to_scan: '%s'", strtok(out, "\n"));

	bad_file("unknown key", "pages_to_scan=100\n# comment\nbogus=1\n",
		 "samepagectl: " CONF ":3: unknown key 'bogus' (samepagectl apply-config --help lists the keys)\n"
		 "samepagectl: " CONF ": 1 bad line: nothing was changed\n");
	bad_file("bad value", "sleep_millisecs=20\npages_to_scan=lots\n",
		 "samepagectl: " CONF ":2: bad value 'lots' for pages_to_scan: want an integer from 0 to 4294967295\n"
		 "samepagectl: " CONF ": 1 bad line: nothing was changed\n");
	bad_file("malformed line", "pages_to_scan 100\nrun=1\n",
		 "samepagectl: " CONF ":1: not KEY=VALUE: 'pages_to_scan 100'\n"
		 "samepagectl: " CONF ": 1 bad line: nothing was changed\n");
	bad_file("a key twice and run=2", "run=1\nsmart_scan=1\n\nrun=2\nmax_page_sharing=1\n",
		 "samepagectl: " CONF ":4: run is set twice (first on line 1)\n"
		 "samepagectl: " CONF ":5: bad value '1' for max_page_sharing: want an integer from 2 to 2147483647\n"
		 "samepagectl: " CONF ": 2 bad lines: nothing was changed\n");

	/* merged pages: max_page_sharing passes the checks, the kernel says EBUSY */
	must_set(SP_TREE, "max_page_sharing", "256");
	must_set(SP_TREE, "merge_across_nodes", "1");
	buf = map_pages(64);	/* untouched here: the child's pages are its own */
	child = spawn(fill_alike, sp_nop_step, buf);
	if (sh("samepagectl merge %d %lu %lu", child.pid, (unsigned long)buf,
	       (unsigned long)(64 * page_size)) || knob("kernel_pages_allocated") != 1)
		tap_bail("merge in a forked child failed: %s", out);
	must_set(SP_TREE, "pages_to_scan", "100");
	must_set(SP_TREE, "sleep_millisecs", "20");
	bad_file("the kernel refuses max_page_sharing while merged pages exist",
		 "pages_to_scan=999\nsleep_millisecs=44\nmax_page_sharing=100\n",
		 "samepagectl: " CONF ":3: max_page_sharing: cannot change while merged pages exist; run 'samepagectl unmerge' first\n"
		 "samepagectl: " CONF ": the 2 settings written before it got their earlier values back\n");
	tap_ok(knob("pages_to_scan") == 100 && knob("sleep_millisecs") == 20 &&
	       knob("max_page_sharing") == 256,
	       "pages_to_scan 100, sleep_millisecs 20, max_page_sharing 256 as before");
	write_conf("max_page_sharing=256\nmerge_across_nodes=1\npages_to_scan=100\n");
	tap_ok(sh("samepagectl apply-config " CONF) == 0,
	       "unchanged max_page_sharing/merge_across_nodes apply while merged pages exist");
	reap_child(&child);
	ok = sh("samepagectl apply-config /no/such.conf") == 1 &&
	     !strcmp(out, "samepagectl: cannot read /no/such.conf: No such file or directory\n");
	tap_ok(ok, "a missing file: exit 1, '%s'", strtok(out, "\n"));
	unlink(CONF);
	sp_restore();
	set_knob("merge_scope", "all");		/* nothing merged after sp_restore() */
	set_knob("thp_min_mergeable", "64");
	set_knob("cow_cooldown_passes", "0");
	set_knob("proc_ksm_stat", "1");
	set_knob("follow_madvise", "1");
	set_knob("stable_node_chains_prune_millisecs", "2000");
	set_knob("max_kernel_pages", "0");
	set_knob("advisor_max_cpu", "70");
	set_knob("advisor_min_pages_to_scan", "500");
	set_knob("advisor_max_pages_to_scan", "30000");
	set_knob("advisor_target_scan_time", "200");
	return tap_done();
}
