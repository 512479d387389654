// SPDX-License-Identifier: GPL-2.0
/*
 * The write-fault probe's arming protocol: samepaged and MERGE_RANGE raise
 * @merging around anything that may merge, and the probe (hooks.c) is armed
 * whenever a PTE may map a kpage or a zero page samepage placed.
 */
#include <linux/mutex.h>
#include <linux/jiffies.h>
#include <linux/atomic.h>

#include "samepage.h"
#include "engine.h"
#include "scanner.h"

/*
 * The write-fault probe (hooks.c, cow_breaks) runs on every write fault of
 * every process while armed. It must be armed whenever a PTE may map a
 * kpage or a zero page samepage placed, i.e. whenever samepage could have
 * merged something: from before a scan batch or MERGE_RANGE that may merge
 * until nothing registered, no kpage and no such zero page remain. Then
 * samepaged disarms it (sp_cow_probe_idle()), and the machine pays nothing.
 *
 * It lingers: samepaged disarms it only once samepage has needed it for
 * none of the last SP_PROBE_LINGER (@probe_used: the last time a merger
 * began or samepaged found something left). Arming and disarming rewrite
 * do_wp_page()'s first instruction while other CPUs run it; under QEMU's
 * multi-threaded TCG that sends a CPU faulting through it to address 0
 * (a tracefs kprobe toggled there crashes 6.12 and 7.2 guests without
 * samepage), so a process that registers, merges and leaves every few
 * hundred ms must not re-arm it each time. Linger only spaces the
 * rewrites out; the invariant below is what keeps the counts exact.
 *
 * Invariant: while @merging is non-zero, or any slot, kpage or samepage
 * zero page exists, @probe_armed is true and the probe is armed. Mergers
 * raise @merging and then read @probe_armed; sp_cow_probe_idle() clears
 * @probe_armed and then reads @merging (each with a full barrier between),
 * so at least one of them sees the other: a merger that finds it clear
 * arms it again under @probe_lock, after the disarming is done.
 * Lock order: probe_lock -> samepage_engine.lock.
 */
static DEFINE_MUTEX(probe_lock);	/* arming and disarming; @probe_armed's writes */
static atomic_t merging = ATOMIC_INIT(0);
static bool probe_armed;
static unsigned long probe_used;	/* jiffies; written without a lock */
#define SP_PROBE_LINGER	(10 * HZ)

static void cow_probe_arm(void)
{
	mutex_lock(&probe_lock);
	if (!probe_armed && !sp_cow_probe_set(true))
		WRITE_ONCE(probe_armed, true);
	mutex_unlock(&probe_lock);
}

/* A scan batch or MERGE_RANGE that may merge begins (no engine lock held). */
void sp_merging_begin(bool arm)
{
	lockdep_assert_not_held(&samepage_engine.lock);
	atomic_inc(&merging);
	if (arm)
		WRITE_ONCE(probe_used, jiffies);
	smp_mb__after_atomic();
	if (arm && !READ_ONCE(probe_armed))
		cow_probe_arm();
}

void sp_merging_end(void)
{
	atomic_dec(&merging);
}

/*
 * samepaged, no lock held: disarm the probe if nothing can be merged and
 * nothing needed it for SP_PROBE_LINGER.
 */
void sp_cow_probe_idle(void)
{
	struct samepage_engine *e = &samepage_engine;
	bool idle;

	if (!READ_ONCE(probe_armed) ||
	    time_before(jiffies, READ_ONCE(probe_used) + SP_PROBE_LINGER))
		return;
	mutex_lock(&probe_lock);
	mutex_lock(&e->lock);
	WRITE_ONCE(probe_armed, false);
	smp_mb();
	idle = !atomic_read(&merging) && list_empty(&e->slots) &&
	       !e->c.kernel_pages_allocated && !sp_zero_pages();
	if (!idle) {
		WRITE_ONCE(probe_armed, true);
		WRITE_ONCE(probe_used, jiffies);	/* linger from now */
	}
	mutex_unlock(&e->lock);
	if (idle && sp_cow_probe_set(false))
		WRITE_ONCE(probe_armed, true);	/* still armed: try again later */
	mutex_unlock(&probe_lock);
}

/* Is the probe armed (a batch that finds it clear arms it first)? */
bool sp_cow_probe_armed(void)
{
	return READ_ONCE(probe_armed);
}
