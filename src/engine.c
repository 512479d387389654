// SPDX-License-Identifier: GPL-2.0
/*
 * The merge engine's state (engine.h): one instance, its lock, its lists,
 * trees, cursor and counters.
 */
#include <linux/mutex.h>
#include <linux/list.h>
#include <linux/rbtree.h>
#include "engine.h"

struct samepage_engine samepage_engine = {
	.lock = __MUTEX_INITIALIZER(samepage_engine.lock),
	.slots = LIST_HEAD_INIT(samepage_engine.slots),
	.stable = RB_ROOT,
	.unstable = RB_ROOT,
	.kpages = LIST_HEAD_INIT(samepage_engine.kpages),
};

bool sp_engine_has_kpages(void)
{
	return READ_ONCE(samepage_engine.c.kernel_pages_allocated) != 0;
}
