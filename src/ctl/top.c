// SPDX-License-Identifier: GPL-2.0
/*
 * samepagectl top: a live view, refreshed every second: the global savings,
 * a progress bar through the current full scan, and the tracked processes
 * with what each one saves.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"

#define MAX_PROCS	64
#define BAR		40

static void bar(uint64_t done, uint64_t total)
{
	int fill = total ? (int)(BAR * (done > total ? total : done) / total) : 0;

	putchar('[');
	for (int i = 0; i < BAR; i++)
		putchar(i < fill ? '#' : '.');
	if (total)
		printf("] %3d%%", (int)(100 * (done > total ? total : done) / total));
	else
		printf("] first pass");
}

static void mib(const char *label, int64_t pages)
{
	printf("%s %.1f MiB", label, pages * (double)sysconf(_SC_PAGESIZE) / (1 << 20));
}

static int frame(bool clear)
{
	struct samepage_stats st = { .size = sizeof(st) };
	struct samepage_proc_entry e[MAX_PROCS];
	struct samepage_list l = { .size = sizeof(l), .capacity = MAX_PROCS,
				   .entry_size = sizeof(e[0]), .entries = (uintptr_t)e };
	time_t now = time(NULL);
	char when[32];

	if (sp_ioctl(SAMEPAGE_IOC_STATS, &st, "top", 0) ||
	    sp_ioctl(SAMEPAGE_IOC_LIST, &l, "top", 0))
		return 1;
	strftime(when, sizeof(when), "%H:%M:%S", localtime(&now));
	if (clear)
		printf("\033[H\033[2J");
	printf("samepage top - %s   run=%u pages_to_scan=%u sleep_millisecs=%u\n", when,
	       st.run, st.pages_to_scan, st.sleep_millisecs);
	mib("saved", (int64_t)(st.pages_sharing + st.ksm_zero_pages));
	printf("   shared %llu  sharing %llu  zero %llu  kernel pages %llu\n",
	       st.pages_shared, st.pages_sharing, st.ksm_zero_pages,
	       st.kernel_pages_allocated);
	printf("full scans %llu  pass ", st.full_scans);
	bar(st.pass_visited, st.last_pass_visited);
	printf("\n\n%8s %12s %12s %10s %14s\n", "PID", "RMAP_ITEMS", "MERGING",
	       "ZERO", "SAVES");
	for (uint32_t i = 0; i < l.count && i < l.capacity; i++) {
		printf("%8d %12" PRIu64 " %12" PRIu64 " %10" PRIu64 " ", e[i].pid,
		       (uint64_t)e[i].rmap_items, (uint64_t)e[i].merging_pages,
		       (uint64_t)e[i].zero_pages);
		mib("", (int64_t)(e[i].merging_pages + e[i].zero_pages));
		putchar('\n');
	}
	if (l.count > l.capacity)
		printf("... and %u more\n", l.count - l.capacity);
	fflush(stdout);
	return 0;
}

int cmd_top(int argc, char **argv)
{
	static const char usage[] = "top [--iterations N] [--interval SECONDS]\n"
		"A live view of samepage, refreshed every second (q or Ctrl-C quits):\n"
		"savings, progress through the current full scan, tracked processes.\n"
		"--iterations N stops after N screens (for scripts).";
	const char *it, *iv;
	__u64 n = 0, secs = 1;

	if (want_help(argc, argv, usage))
		return 0;
	it = take_option(&argc, argv, "--iterations");
	iv = take_option(&argc, argv, "--interval");
	if (argc || (it && (parse_u64(it, &n) || !n)) ||
	    (iv && (parse_u64(iv, &secs) || !secs || secs > 3600)))
		return usage_error(usage);
	for (__u64 i = 0; !n || i < n; i++) {
		if (frame(isatty(STDOUT_FILENO)))
			return 1;
		if (n && i + 1 == n)
			break;
		sleep((unsigned int)secs);
	}
	return 0;
}
