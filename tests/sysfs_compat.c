// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/kernel/mm/samepage must answer exactly like /sys/kernel/mm/ksm:
 * same defaults, same accepted values, same errno for every bad value, same
 * read-back format. Each input is written to both trees in the same VM and
 * the two answers are compared; a few answers are also pinned to their
 * in-tree meaning, so a change shared by both trees cannot hide.
 */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include "tap.h"
#include "knob.h"

#define KSM "/sys/kernel/mm/ksm/"
#define SP "/sys/kernel/mm/samepage/"

static const char *const knobs[] = {
	"run", "pages_to_scan", "sleep_millisecs", "use_zero_pages",
	"max_page_sharing", "merge_across_nodes",
	"stable_node_chains_prune_millisecs", "smart_scan", "advisor_mode",
	"advisor_max_cpu", "advisor_min_pages_to_scan",
	"advisor_max_pages_to_scan", "advisor_target_scan_time",
};

static const char *const inputs[] = {
	"0", "1", "2", "3", "7", "-1", "abc", "", " ", "1a", "0x10", "+5", " 5",
	"5 ", "5\n", "010", "4294967295", "4294967296", "-4294967296",
	"99999999999999999999999999", "1.5", "\n", "2\n\n", "y", "N", "on",
	"off", "2147483648", "-2147483649", "none", "scan-time", "scan-time\n",
	" none", "Scan-Time", "[none] scan-time", "18446744073709551615",
	"18446744073709551616",
};

static void printable(const char *s, char *out, size_t len)
{
	size_t o = 0;

	for (; *s && o + 3 < len; s++) {
		if (*s == '\n') {
			out[o++] = '\\';
			out[o++] = 'n';
		} else {
			out[o++] = *s;
		}
	}
	out[o] = '\0';
}

/* What puts @knob back to its default (advisor_mode reads "[none] ..."). */
static const char *default_input(const char *knob, const char *saved)
{
	return strcmp(knob, "advisor_mode") ? saved : "none";
}

/*
 * The advisor owns pages_to_scan: switching it on sets pages_to_scan to
 * advisor_min_pages_to_scan, a write to pages_to_scan is EINVAL while it
 * is on, and switching it off sets pages_to_scan back to 100. Returns
 * what @dir answered, as "set:ptsc:write:ptsc".
 */
static void advisor_owns_pages_to_scan(const char *dir, char *out, size_t len)
{
	char on[32] = "", off[32] = "";
	long w;

	knob_write_count(dir, "advisor_mode", "scan-time");
	knob_read_str(dir, "pages_to_scan", on, sizeof(on));
	w = knob_write_count(dir, "pages_to_scan", "1000");
	knob_write_count(dir, "advisor_mode", "none");
	knob_read_str(dir, "pages_to_scan", off, sizeof(off));
	on[strcspn(on, "\n")] = off[strcspn(off, "\n")] = '\0';
	snprintf(out, len, "%s:%ld:%s", on, w, off);
}

static int in_tree_has(const char *knob)
{
	char path[256];

	snprintf(path, sizeof(path), KSM "%s", knob);
	return !access(path, F_OK);
}

int main(void)
{
	const size_t nk = sizeof(knobs) / sizeof(knobs[0]);
	const size_t ni = sizeof(inputs) / sizeof(inputs[0]);
	char a[128], b[128], shown[64];

	size_t plan = 6;

	for (size_t k = 0; k < nk; k++)	/* one skip for a knob in-tree lacks */
		plan += in_tree_has(knobs[k]) ? 2 + ni : 1;
	tap_plan((int)plan);

	for (size_t k = 0; k < nk; k++) {
		char saved[128];
		int rd;

		if (!in_tree_has(knobs[k])) {	/* newer than this kernel's KSM */
			tap_skip("in-tree KSM of this kernel has no such knob",
				 "%s: %zu inputs compared with in-tree KSM", knobs[k], ni);
			continue;
		}

		knob_read_str(KSM, knobs[k], saved, sizeof(saved));
		rd = knob_read_str(SP, knobs[k], a, sizeof(a)) == 0 &&
		     knob_read_str(KSM, knobs[k], b, sizeof(b)) == 0;
		a[strcspn(a, "\n")] = b[strcspn(b, "\n")] = '\0';
		tap_ok(rd && !strcmp(a, b), "%s: default '%s' equals in-tree KSM's",
		       knobs[k], a);
		for (size_t i = 0; i < ni; i++) {
			long rs = knob_write_count(SP, knobs[k], inputs[i]);
			long rk = knob_write_count(KSM, knobs[k], inputs[i]);
			int same_read = knob_read_str(SP, knobs[k], a, sizeof(a)) == 0 &&
					knob_read_str(KSM, knobs[k], b, sizeof(b)) == 0 &&
					!strcmp(a, b);

			printable(inputs[i], shown, sizeof(shown));
			tap_ok(rs == rk && same_read,
			       "%s <- '%s': samepage %ld, ksm %ld, reads back alike",
			       knobs[k], shown, rs, rk);
			/* leave the in-tree KSM stopped between inputs */
			knob_write_count(KSM, "run", "0");
			knob_write_count(SP, "run", "0");
		}
		knob_write_count(SP, knobs[k], default_input(knobs[k], saved));
		knob_write_count(KSM, knobs[k], default_input(knobs[k], saved));
		tap_ok(knob_read_str(SP, knobs[k], a, sizeof(a)) == 0 && !strcmp(a, saved),
		       "%s restored to its default", knobs[k]);
	}

	advisor_owns_pages_to_scan(SP, a, sizeof(a));
	tap_ok(!strcmp(a, "500:-22:100"),
	       "advisor on: pages_to_scan 500, written EINVAL; off: 100 (got %s)", a);
	if (access(KSM "advisor_mode", F_OK)) {
		tap_skip("in-tree KSM of this kernel has no advisor",
			 "advisor and pages_to_scan: compare with in-tree KSM");
	} else {
		advisor_owns_pages_to_scan(KSM, b, sizeof(b));
		tap_ok(!strcmp(a, b), "advisor and pages_to_scan: samepage %s, ksm %s",
		       a, b);
	}

	/* Pinned meanings (mm/ksm.c), independent of the comparison above. */
	tap_ok(knob_write_count(SP, "run", "3") == -EINVAL, "run=3 is EINVAL");
	tap_ok(knob_write_count(SP, "pages_to_scan", "abc") == -EINVAL,
	       "pages_to_scan=abc is EINVAL");
	tap_ok(knob_write_count(SP, "sleep_millisecs", "-1") == -EINVAL,
	       "sleep_millisecs=-1 is EINVAL");
	tap_ok(knob_write_count(SP, "sleep_millisecs", "4294967295") == 10 &&
	       knob_read_str(SP, "sleep_millisecs", a, sizeof(a)) == 0 &&
	       !strcmp(a, "4294967295\n") &&
	       knob_write_count(SP, "sleep_millisecs", "20") == 2,
	       "sleep_millisecs takes UINT_MAX and reads it back");
	return tap_done();
}
