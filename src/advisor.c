// SPDX-License-Identifier: GPL-2.0
/*
 * The scan-time advisor, with in-tree KSM's knobs and meaning (6.8+): with
 * advisor_mode "scan-time", samepaged sets pages_to_scan itself so that a
 * full pass takes about advisor_target_scan_time seconds, within
 * [advisor_min_pages_to_scan, advisor_max_pages_to_scan] and within a CPU
 * budget of 10% to advisor_max_cpu percent of one CPU. pages_to_scan is
 * read-only (EINVAL) while the advisor is on.
 *
 * At the end of each pass it compares that pass's wall time with the
 * target and with the pass before (a weighted moving average damps the
 * changes), and its own CPU time with the wall time; both feed the next
 * pages_to_scan. Runs in samepaged only.
 */
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/minmax.h>
#include <linux/sched.h>

#include "samepage.h"
#include "engine.h"
#include "trace.h"

#define ADVISOR_MIN_CPU		10	/* percent, as in-tree */
#define ADVISOR_EWMA_WEIGHT	30	/* percent of the newest sample */

static struct {
	ktime_t start;			/* of the pass under way */
	unsigned long scan_time;	/* seconds, of the last pass */
	unsigned long change;		/* percent, smoothed */
	u64 cpu_time;			/* samepaged's, at the last pass end */
} adv;

/* advisor_mode changed to @mode: start from in-tree's defaults. */
void sp_advisor_set_mode(unsigned int mode)
{
	memset(&adv, 0, sizeof(adv));
	WRITE_ONCE(samepage_knobs.pages_to_scan, mode == SP_ADVISOR_SCAN_TIME ?
		   READ_ONCE(samepage_knobs.advisor_min_pages_to_scan) :
		   SP_DEFAULT_PAGES_TO_SCAN);
	WRITE_ONCE(samepage_knobs.advisor_mode, mode);
}

void sp_advisor_start_pass(void)
{
	if (READ_ONCE(samepage_knobs.advisor_mode) == SP_ADVISOR_SCAN_TIME)
		adv.start = ktime_get();
}

static unsigned long ewma(unsigned long prev, unsigned long cur)
{
	return ((100 - ADVISOR_EWMA_WEIGHT) * prev + ADVISOR_EWMA_WEIGHT * cur) / 100;
}

/**
 * sp_advisor_end_pass() - a pass ended: choose the next pages_to_scan
 *
 * pages_to_scan is scaled by scan_time / target (how far the pass was
 * from the target) and by the smoothed ratio of this pass's time to the
 * last one's. The CPU percentage the pass cost gives the cost of a page,
 * which bounds the result to the CPU budget; then the page bounds apply.
 */
void sp_advisor_end_pass(void)
{
	struct samepage_knobs *k = &samepage_knobs;
	unsigned long scan_time, cpu_ms, cpu_percent, factor, change, pages;
	unsigned long per_percent, last;
	u64 cpu;

	if (READ_ONCE(k->advisor_mode) != SP_ADVISOR_SCAN_TIME)
		return;
	scan_time = max_t(s64, ktime_ms_delta(ktime_get(), adv.start) / MSEC_PER_SEC, 1);
	cpu = current->se.sum_exec_runtime;
	cpu_ms = div_u64(cpu - adv.cpu_time, NSEC_PER_MSEC);
	cpu_percent = max(cpu_ms * 100 / (scan_time * MSEC_PER_SEC), 1UL);
	last = adv.scan_time ? adv.scan_time : scan_time;

	factor = max(READ_ONCE(k->advisor_target_scan_time) * 100 / scan_time, 1UL);
	change = ewma(adv.change, max(scan_time * 100 / last, 1UL));
	pages = READ_ONCE(k->pages_to_scan) * 100 / factor * change / 100;

	per_percent = max(READ_ONCE(k->pages_to_scan) / cpu_percent, 1UL);
	pages = min(pages, per_percent * READ_ONCE(k->advisor_max_cpu));
	pages = max(pages, per_percent * ADVISOR_MIN_CPU);
	pages = min(pages, READ_ONCE(k->advisor_max_pages_to_scan));
	pages = min(pages, (unsigned long)UINT_MAX);

	adv.change = change;
	adv.scan_time = scan_time;
	adv.cpu_time = cpu;
	WRITE_ONCE(k->pages_to_scan, pages);
	trace_advisor(scan_time, pages, cpu_percent);
}
