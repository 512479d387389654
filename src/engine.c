// SPDX-License-Identifier: GPL-2.0
/*
 * The merge engine's state (engine.h): one instance, its lock, its lists,
 * cursor and counters (the trees are tree.c's).
 */
#include <linux/mutex.h>
#include <linux/list.h>
#include "engine.h"

struct samepage_engine samepage_engine = {
	.lock = __MUTEX_INITIALIZER(samepage_engine.lock),
	.slots = LIST_HEAD_INIT(samepage_engine.slots),
	.kpages = LIST_HEAD_INIT(samepage_engine.kpages),
};

bool sp_engine_has_kpages(void)
{
	return READ_ONCE(samepage_engine.c.kernel_pages_allocated) != 0;
}
