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

bool sp_engine_has_kpages(void)
{
	return READ_ONCE(samepage_engine.c.kernel_pages_allocated) != 0;
}
