// SPDX-License-Identifier: GPL-2.0
/*
 * The merge engine's state (engine.h): one instance, its lock, its lists,
 * cursor and counters (the trees are tree.c's).
 */
#include <linux/mutex.h>
#include <linux/list.h>
#include <linux/wait.h>
#include "engine.h"

struct samepage_engine samepage_engine = {
	.lock = __MUTEX_INITIALIZER(samepage_engine.lock),
	.slots = LIST_HEAD_INIT(samepage_engine.slots),
	.kpages = LIST_HEAD_INIT(samepage_engine.kpages),
	.wait = __WAIT_QUEUE_HEAD_INITIALIZER(samepage_engine.wait),
};

/*
 * Something new to scan (a registration, run=1): samepaged stops sleeping.
 * Here, below every file that registers memory, so that none of them
 * calls up into the scanner.
 */
void sp_scan_wake(void)
{
	WRITE_ONCE(samepage_engine.wake_pending, true);
	wake_up_interruptible(&samepage_engine.wait);
}

/*
 * The scan cursor and the pass counters are written here only, engine
 * lock held; the scanner and the statistics read them. The cursor is
 * read without the lock too (READ_ONCE()) to see whether a pass begins.
 */

/* The scan goes on at @addr of @slot (NULL: a new pass begins). */
void sp_cursor_set(struct sp_mm_slot *slot, unsigned long addr)
{
	lockdep_assert_held(&samepage_engine.lock);
	WRITE_ONCE(samepage_engine.cur, slot);
	samepage_engine.cur_addr = addr;
}

/* A pass looked at @pages more addresses (counted once each). */
void sp_pass_visited(unsigned long pages)
{
	lockdep_assert_held(&samepage_engine.lock);
	samepage_engine.c.pass_visited += pages;
}

/* The cursor wrapped: one more full pass. */
void sp_pass_end(void)
{
	struct sp_counters *c = &samepage_engine.c;

	lockdep_assert_held(&samepage_engine.lock);
	c->last_pass_visited = c->pass_visited;
	c->pass_visited = 0;
	c->full_scans++;
}

/* run=2: the next pass is the first again, from the first slot. */
void sp_passes_restart(void)
{
	sp_cursor_set(NULL, 0);
	samepage_engine.c.full_scans = 0;
	samepage_engine.c.pass_visited = 0;
}

bool sp_engine_has_kpages(void)
{
	return READ_ONCE(samepage_engine.c.kernel_pages_allocated) != 0;
}
