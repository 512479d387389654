// SPDX-License-Identifier: GPL-2.0
/*
 * samepage's tracepoints (/sys/kernel/tracing/events/samepage/) fire once
 * per counted event: merge events match the pages merged (pages_shared +
 * pages_sharing), cow_break events match cow_breaks, unmerge events match
 * the pages an UNREGISTER gave back, scan_stop events match full_scans,
 * and each advisor event carries the pages_to_scan the advisor set.
 * When a process with BIG tracked pages exits, its items go in reap events
 * of at most 8192 items each (SP_REAP_CHUNK: the engine lock is dropped
 * between them), which add up to BIG, and exactly the last frees the slot.
 */
#include "sp.h"

#define TRACING SP_TRACING
#define NPAGES	64	/* 32 of one content, 16 of another, 16 unique */
#define WRITES	10
#define BIG	20000	/* three chunks of at most 8192 */
#define CHUNK	8192

/* Occurrences of each event in the trace buffer. */
struct events {
	long scan_start, scan_stop, merge, unmerge, cow_break, advisor;
	long last_advisor_pages;
	long reap, reap_items, reap_max, reap_freed, reap_freed_last;
};

static struct events read_events(void)
{
	struct events ev = { 0 };
	char line[1024];
	FILE *f = fopen(TRACING "trace", "r");

	if (!f)
		tap_bail("cannot read the trace buffer: %s", strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		char *p;

		if (line[0] == '#')
			continue;
		ev.scan_start += strstr(line, " scan_start: ") != NULL;
		ev.scan_stop += strstr(line, " scan_stop: ") != NULL;
		ev.merge += strstr(line, " merge: ") != NULL;
		ev.unmerge += strstr(line, " unmerge: ") != NULL;
		ev.cow_break += strstr(line, " cow_break: ") != NULL;
		p = strstr(line, " reap: items ");
		if (p) {
			long n = atol(p + 13);

			ev.reap++;
			ev.reap_items += n;
			ev.reap_max = n > ev.reap_max ? n : ev.reap_max;
			ev.reap_freed_last = strstr(p, "slot_freed 1") != NULL;
			ev.reap_freed += ev.reap_freed_last;
		}
		p = strstr(line, " advisor: ");
		if (p) {
			ev.advisor++;
			p = strstr(p, "pages_to_scan ");
			if (p)
				ev.last_advisor_pages = atol(p + 14);
		}
	}
	fclose(f);
	return ev;
}

static void tracing(int on)
{
	must_set(TRACING, "tracing_on", on ? "1" : "0");
}

static void big_setup(void *arg)
{
	char *big = map_pages(BIG);

	(void)arg;
	for (long i = 0; i < BIG; i++)
		fill_page(big + i * page_size, 100000 + i);	/* all different */
	if (sp_range(1, 0, big, BIG * page_size))
		_exit(2);
}

/* A process with BIG items exits: its items go in chunks. */
static void reap_events(void)
{
	struct child c = spawn(big_setup, sp_nop_step, NULL);
	long items = 0, slots = 1;
	struct events ev;

	sp_reset();
	run_passes(SP_TREE, 1);
	{
		struct samepage_proc_stat ps = { .size = sizeof(ps), .pid = c.pid };

		if (!ioctl(sp_dev(), SAMEPAGE_IOC_PROC_STAT, &ps))
			items = (long)ps.rmap_items;
	}
	sp_trace_clear();
	tracing(1);
	kill(c.pid, SIGKILL);
	reap_child(&c);
	for (int i = 0; i < 600 && (slots = sp_tracked()); i++)	/* 60 s */
		usleep(100000);
	tracing(0);
	ev = read_events();
	tap_ok(items == BIG && slots == 0,
	       "the process had %ld items (want %d); its slot is gone (%ld left)", items, BIG,
	       slots);
	tap_ok(ev.reap_items == BIG && ev.reap_max <= CHUNK && ev.reap >= 3,
	       "reap events drop %ld items (want %d) in %ld lock holds of at most %ld (want <= %d)",
	       ev.reap_items, BIG, ev.reap, ev.reap_max, CHUNK);
	tap_ok(ev.reap_freed == 1 && ev.reap_freed_last,
	       "one reap event frees the slot (%ld), the last", ev.reap_freed);
}

int main(void)
{
	long scans, merged, breaks, left;
	struct events ev;
	char *buf;

	sp_test_init(11);
	sp_tracefs();
	tap_ok(!access(TRACING "events/samepage/merge/enable", F_OK),
	       "events/samepage/ exists");
	sp_reset();
	tracing(0);
	must_set(TRACING, "buffer_size_kb", "2048");
	sp_trace_clear();
	must_set(TRACING, "events/samepage/enable", "1");
	tracing(1);

	buf = map_pages(NPAGES);
	for (int i = 0; i < NPAGES; i++)
		fill_page(buf + i * page_size, i < 32 ? 71 : i < 48 ? 72 : 800 + i);
	if (sp_range(1, 0, buf, NPAGES * page_size))
		tap_bail("REGISTER: %s", strerror(errno));
	run_passes(SP_TREE, 3);		/* stopped: the counters hold still */
	scans = knob("full_scans");
	merged = knob("pages_shared") + knob("pages_sharing");
	breaks = knob("cow_breaks");
	for (int i = 0; i < WRITES; i++)
		buf[i * page_size] = 1;
	breaks = knob("cow_breaks") - breaks;
	left = knob("pages_shared") + knob("pages_sharing") - WRITES;
	if (sp_range(0, 0, buf, NPAGES * page_size))
		tap_bail("UNREGISTER: %s", strerror(errno));
	tracing(0);
	ev = read_events();

	tap_ok(merged == 48 && ev.merge == merged, "merge events %ld = pages merged %ld",
	       ev.merge, merged);
	tap_ok(breaks == WRITES && ev.cow_break == breaks,
	       "cow_break events %ld = cow_breaks growth %ld", ev.cow_break, breaks);
	tap_ok(ev.unmerge == left, "unmerge events %ld = pages UNREGISTER gave back %ld",
	       ev.unmerge, left);
	tap_ok(ev.scan_stop == scans, "scan_stop events %ld = full_scans %ld", ev.scan_stop,
	       scans);
	tap_ok(ev.scan_start == ev.scan_stop || ev.scan_start == ev.scan_stop + 1,
	       "scan_start events %ld: one per pass begun", ev.scan_start);

	/* the advisor: a pass of more than a second sets pages_to_scan */
	sp_trace_clear();
	must_set(SP_TREE, "advisor_mode", "scan-time");
	must_set(SP_TREE, "advisor_target_scan_time", "1");
	must_set(SP_TREE, "sleep_millisecs", "200");
	sp_range(1, 0, buf, NPAGES * page_size);
	tracing(1);
	run_passes(SP_TREE, 3);
	tracing(0);
	ev = read_events();
	tap_ok(ev.advisor == ev.scan_stop, "advisor events %ld, one per pass (%ld)",
	       ev.advisor, ev.scan_stop);
	tap_ok(ev.advisor && ev.last_advisor_pages == knob("pages_to_scan"),
	       "the last advisor event's pages_to_scan %ld is the knob's %ld",
	       ev.last_advisor_pages, knob("pages_to_scan"));
	must_set(SP_TREE, "advisor_mode", "none");
	must_set(SP_TREE, "advisor_target_scan_time", "200");
	sp_range(0, 0, buf, NPAGES * page_size);
	reap_events();
	must_set(TRACING, "events/samepage/enable", "0");
	sp_restore();
	return tap_done();
}
