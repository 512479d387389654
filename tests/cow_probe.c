// SPDX-License-Identifier: GPL-2.0
/*
 * The write-fault probe (cow_breaks) costs every write fault of every
 * process while it is armed, so it is armed only while samepage may have
 * merged something: disarmed when nothing has been registered or merged
 * for SP_PROBE_LINGER (10 s), armed before any merge (a scan batch or
 * MERGE_RANGE), so that no COW break is missed. Read from debugfs'
 * kprobes/list, where a disarmed probe says [DISABLED], and from the
 * samepage:cow_probe trace event, one per arming or disarming.
 *
 * Arming rewrites do_wp_page()'s first instruction while other CPUs run
 * it. Under QEMU's multi-threaded TCG that crashed the guest (a jump to 0
 * from do_wp_page's entry), so samepage must not re-arm for every short
 * use: of 21 register-merge-unregister cycles, 400 ms apart, the first
 * arms it, and the other 20, while two other processes write-fault
 * without pause, neither disarm nor arm it again. (The one arming is made
 * before the writers start and the disarming after they stop: a single
 * rewrite under such a storm can crash a TCG guest too, and that is
 * QEMU's, not what this test is about.)
 */
#include <sys/mount.h>
#include <sys/wait.h>
#include <signal.h>
#include "sp.h"

#define LIST	"/sys/kernel/debug/kprobes/list"
#define TRACING	SP_TRACING
#define LINGER	10	/* s: SP_PROBE_LINGER in scan.c */
#define CYCLES	20

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

/* Wait up to LINGER + 10 s (samepaged looks once a second when idle). */
static int wait_state(int want)
{
	for (int i = 0; i < (LINGER + 10) * 10; i++) {
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

/* Armings (*on) and disarmings (*off) in the trace buffer. */
static void probe_events(long *on, long *off)
{
	char line[512];
	FILE *f = fopen(TRACING "trace", "r");

	if (!f)
		tap_bail("cannot read the trace buffer: %s", strerror(errno));
	*on = *off = 0;
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '#')
			continue;
		*on += strstr(line, " cow_probe: armed 1") != NULL;
		*off += strstr(line, " cow_probe: armed 0") != NULL;
	}
	fclose(f);
}

/* A process that write-faults without pause: fork, then both sides write. */
static pid_t storm(void)
{
	pid_t pid = fork();
	size_t len = 4 << 20;
	char *buf;

	if (pid)
		return pid;
	buf = map_pages(len / page_size);
	memset(buf, 1, len);
	for (;;) {
		pid_t c = fork();

		for (size_t o = c ? page_size / 2 : 0; o < len; o += page_size)
			buf[o]++;
		if (!c)
			_exit(0);
		waitpid(c, NULL, 0);
	}
}

/* Short uses under write faults: armed once, never disarmed between them. */
static void short_uses(char *buf)
{
	pid_t writers[2] = { 0, 0 };
	int armed = 0, merged = 0;
	long on, off;

	sp_tracefs();
	must_set(TRACING, "events/samepage/cow_probe/enable", "1");
	sp_trace_clear();
	for (int c = 0; c <= CYCLES; c++) {
		struct samepage_merge_range m = {
			.size = sizeof(m), .start = (uintptr_t)buf, .len = 8 * page_size,
		};

		for (int i = 0; i < 8; i++)
			fill_page(buf + i * page_size, 40 + c);
		if (ioctl(sp_dev(), SAMEPAGE_IOC_MERGE_RANGE, &m))
			tap_bail("MERGE_RANGE: %s", strerror(errno));
		merged += m.merged == 7;
		sp_range(0, 0, buf, 8 * page_size);
		if (!c) {	/* armed now: the writers start */
			writers[0] = storm();
			writers[1] = storm();
		}
		usleep(400000);
		armed += probe_state() == 1;
	}
	for (int i = 0; i < 2; i++) {
		kill(writers[i], SIGKILL);
		waitpid(writers[i], NULL, 0);
	}
	probe_events(&on, &off);
	tap_ok(merged == CYCLES + 1 && armed == CYCLES + 1,
	       "%d short uses, %d of them under write faults: %d merged 7 pages, armed after %d",
	       CYCLES + 1, CYCLES, merged, armed);
	tap_ok(on == 1 && off == 0,
	       "... the probe was armed %ld times (want 1, the first) and disarmed %ld (want 0)",
	       on, off);
	tap_ok(wait_state(0) == 0, "idle for %d s after them: disarmed", LINGER);
	probe_events(&on, &off);
	tap_ok(off == 1, "... with one disarming in the trace (%ld)", off);
	must_set(TRACING, "events/samepage/cow_probe/enable", "0");
}

int main(void)
{
	__u64 saved = 0;
	char *buf;

	sp_test_init(12);
	if (access(LIST, R_OK) && mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL))
		tap_bail("cannot mount debugfs: %s", strerror(errno));
	sp_reset();
	tap_ok(wait_state(0) == 0, "nothing registered or merged: the probe is disarmed");

	buf = map_pages(8);
	for (int i = 0; i < 8; i++)
		fill_page(buf + i * page_size, 31);
	sp_range(1, 0, buf, 8 * page_size);
	run_passes(SP_TREE, 2);
	merged_pages_count_their_breaks("scanned", buf);
	sp_range(0, 0, buf, 8 * page_size);
	tap_ok(knob("kernel_pages_allocated") == 0 && wait_state(0) == 0,
	       "unregistered, no kpage left: the probe is disarmed again");

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
	tap_ok(wait_state(0) == 0, "run=2 and unregistered: disarmed");
	must_set(SP_TREE, "run", "1");
	short_uses(buf);
	munmap(buf, 8 * page_size);
	sp_restore();
	return tap_done();
}
