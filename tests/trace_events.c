// SPDX-License-Identifier: GPL-2.0
/*
 * samepage's tracepoints (/sys/kernel/tracing/events/samepage/) fire once
 * per counted event: merge events match the pages merged (pages_shared +
 * pages_sharing), cow_break events match cow_breaks, unmerge events match
 * the pages an UNREGISTER gave back, scan_stop events match full_scans,
 * and each advisor event carries the pages_to_scan the advisor set.
 */
#include <sys/mount.h>
#include "sp.h"

#define TRACING "/sys/kernel/tracing/"
#define NPAGES	64	/* 32 of one content, 16 of another, 16 unique */
#define WRITES	10

/* Occurrences of each event in the trace buffer. */
struct events {
	long scan_start, scan_stop, merge, unmerge, cow_break, advisor;
	long last_advisor_pages;
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

/* Empty the trace buffer (as "> trace" does: an open with O_TRUNC). */
static void clear_trace(void)
{
	int fd = open(TRACING "trace", O_WRONLY | O_TRUNC);

	if (fd < 0)
		tap_bail("cannot clear the trace buffer: %s", strerror(errno));
	close(fd);
}

static void tracing(int on)
{
	must_set(TRACING, "tracing_on", on ? "1" : "0");
}

int main(void)
{
	long scans, merged, breaks, left;
	struct events ev;
	char *buf;

	sp_test_init(8);
	if (access(TRACING "trace", F_OK) &&
	    mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL))
		tap_bail("mount tracefs: %s", strerror(errno));
	tap_ok(!access(TRACING "events/samepage/merge/enable", F_OK),
	       "events/samepage/ exists");
	sp_reset();
	tracing(0);
	must_set(TRACING, "buffer_size_kb", "2048");
	clear_trace();
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
	clear_trace();
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
	must_set(TRACING, "events/samepage/enable", "0");
	sp_restore();
	return tap_done();
}
