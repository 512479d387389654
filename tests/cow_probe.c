// SPDX-License-Identifier: GPL-2.0
/*
 * The write-fault probe (cow_breaks) costs every write fault of every
 * process while it is armed, so it is armed only while samepage may have
 * merged something: disarmed when nothing is registered and nothing is
 * merged, armed before any merge (a scan batch or MERGE_RANGE), so that
 * no COW break is missed. Read from debugfs' kprobes/list, where a
 * disarmed probe says [DISABLED].
 */
#include <sys/mount.h>
#include "sp.h"

#define LIST "/sys/kernel/debug/kprobes/list"

/* 1: do_wp_page's probe is armed, 0: disarmed, -1: not listed. */
static int probe_state(void)
{
	char line[512];
	int state = -1;
	FILE *f = fopen(LIST, "r");

	if (!f)
		tap_bail("cannot read %s: %s", LIST, strerror(errno));
	while (fgets(line, sizeof(line), f))
		if (strstr(line, " do_wp_page+"))
			state = !strstr(line, "[DISABLED]");
	fclose(f);
	return state;
}

/* Wait up to 10 s (samepaged disarms once a second when idle). */
static int wait_state(int want)
{
	for (int i = 0; i < 100; i++) {
		if (probe_state() == want)
			return 0;
		usleep(100000);
	}
	return -1;
}

static void merged_pages_count_their_breaks(const char *how, char *buf)
{
	long base = knob("cow_breaks");

	tap_ok(knob("pages_shared") == 1 && knob("pages_sharing") == 7 && probe_state() == 1,
	       "%s: 8 pages merged (shared %ld, sharing %ld), the probe armed (%d)", how,
	       knob("pages_shared"), knob("pages_sharing"), probe_state());
	for (int i = 0; i < 3; i++)
		buf[i * page_size] = 1;
	tap_ok(knob("cow_breaks") - base == 3, "%s: 3 writes to merged pages: cow_breaks +%ld (want 3)",
	       how, knob("cow_breaks") - base);
}

int main(void)
{
	__u64 saved = 0;
	char *buf;

	sp_test_init(8);
	if (access(LIST, R_OK) && mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL))
		tap_bail("cannot mount debugfs: %s", strerror(errno));
	sp_reset();
	tap_ok(wait_state(0) == 0, "nothing registered or merged: the probe is disarmed (%d)",
	       probe_state());

	buf = map_pages(8);
	for (int i = 0; i < 8; i++)
		fill_page(buf + i * page_size, 31);
	sp_range(1, 0, buf, 8 * page_size);
	run_passes(SP_TREE, 2);
	merged_pages_count_their_breaks("scanned", buf);
	sp_range(0, 0, buf, 8 * page_size);
	tap_ok(knob("kernel_pages_allocated") == 0 && wait_state(0) == 0,
	       "unregistered, no kpage left: the probe is disarmed again (%d)", probe_state());

	/* MERGE_RANGE arms it before it merges, without the scanner */
	for (int i = 0; i < 8; i++)
		fill_page(buf + i * page_size, 32);
	{
		struct samepage_merge_range m = {
			.size = sizeof(m), .start = (uintptr_t)buf, .len = 8 * page_size,
		};

		if (ioctl(sp_dev(), SAMEPAGE_IOC_MERGE_RANGE, &m))
			tap_bail("MERGE_RANGE: %s", strerror(errno));
		saved = m.merged;
	}
	tap_ok(saved == 7, "MERGE_RANGE with the probe disarmed saved %llu pages (want 7)",
	       (unsigned long long)saved);
	merged_pages_count_their_breaks("MERGE_RANGE", buf);
	must_set(SP_TREE, "run", "2");
	sp_range(0, 0, buf, 8 * page_size);
	tap_ok(wait_state(0) == 0, "run=2 and unregistered: disarmed (%d)", probe_state());
	munmap(buf, 8 * page_size);
	sp_restore();
	return tap_done();
}
