/* SPDX-License-Identifier: GPL-2.0 */
/*
 * State shared between samepage's source files: the knobs of
 * /sys/kernel/mm/samepage and the entry points of each subsystem.
 */
#ifndef SAMEPAGE_H
#define SAMEPAGE_H

#include <linux/types.h>
#include <linux/mutex.h>

/* Values of the run knob, as in /sys/kernel/mm/ksm/run. */
#define SP_RUN_STOP	0
#define SP_RUN_MERGE	1
#define SP_RUN_UNMERGE	2

/**
 * struct samepage_knobs - tunables of /sys/kernel/mm/samepage
 * @run: SP_RUN_*; written under @lock
 * @pages_to_scan: pages per scan batch (in-tree default 100)
 * @sleep_millisecs: sleep between batches (in-tree default 20)
 * @lock: serialises run changes against each other (ksm_thread_mutex)
 *
 * Readers outside @lock use READ_ONCE(); every field has the in-tree default.
 */
struct samepage_knobs {
	unsigned int run;
	unsigned int pages_to_scan;
	unsigned int sleep_millisecs;
	struct mutex lock;
};

extern struct samepage_knobs samepage_knobs;

int samepage_sysfs_init(void);
void samepage_sysfs_exit(void);

int samepage_chardev_init(void);
void samepage_chardev_exit(void);

#endif /* SAMEPAGE_H */
