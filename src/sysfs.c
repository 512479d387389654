// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/kernel/mm/samepage: the same names, defaults, formats and errors as
 * /sys/kernel/mm/ksm, so that a tool written for one works on the other.
 * tests/sysfs_compat.c writes the same values to both trees and compares
 * every answer.
 */
#define pr_fmt(fmt) "samepage: " fmt

#include <linux/kobject.h>
#include <linux/sysfs.h>
#include <linux/kernel.h>
#include <linux/string.h>

#include "samepage.h"
#include "engine.h"
#include "ksyms.h"

struct samepage_knobs samepage_knobs = {
	.run = SP_RUN_STOP,
	.pages_to_scan = 100,
	.sleep_millisecs = 20,
	.lock = __MUTEX_INITIALIZER(samepage_knobs.lock),
};

static struct kobject *samepage_kobj;

/* Parse a decimal unsigned int the way mm/ksm.c does: any error is EINVAL. */
static int parse_uint(const char *buf, unsigned int *val)
{
	return kstrtouint(buf, 10, val) ? -EINVAL : 0;
}

static ssize_t run_show(struct kobject *kobj, struct kobj_attribute *attr,
			char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(samepage_knobs.run));
}

static ssize_t run_store(struct kobject *kobj, struct kobj_attribute *attr,
			 const char *buf, size_t count)
{
	unsigned int run;
	int err;

	err = parse_uint(buf, &run);
	if (err)
		return err;
	if (run > SP_RUN_UNMERGE)
		return -EINVAL;

	mutex_lock(&samepage_knobs.lock);
	if (READ_ONCE(samepage_knobs.run) != run) {
		WRITE_ONCE(samepage_knobs.run, run);
		if (run == SP_RUN_UNMERGE) {
			err = sp_unmerge_all();
			if (err) {
				WRITE_ONCE(samepage_knobs.run, SP_RUN_STOP);
				count = err;
			}
		}
	}
	mutex_unlock(&samepage_knobs.lock);
	if (run == SP_RUN_MERGE)
		sp_scan_wake();
	return count;
}
static struct kobj_attribute run_attr = __ATTR_RW(run);

/* Unsigned knobs with no side effect beyond storing the value. */
#define SP_UINT_KNOB(name)						\
static ssize_t name##_show(struct kobject *kobj,			\
			   struct kobj_attribute *attr, char *buf)	\
{									\
	return sysfs_emit(buf, "%u\n", READ_ONCE(samepage_knobs.name));	\
}									\
static ssize_t name##_store(struct kobject *kobj,			\
			    struct kobj_attribute *attr,		\
			    const char *buf, size_t count)		\
{									\
	unsigned int val;						\
	int err = parse_uint(buf, &val);				\
									\
	if (err)							\
		return err;						\
	WRITE_ONCE(samepage_knobs.name, val);				\
	return count;							\
}									\
static struct kobj_attribute name##_attr = __ATTR_RW(name)

SP_UINT_KNOB(pages_to_scan);
SP_UINT_KNOB(sleep_millisecs);

/* Read-only counters of the engine, in-tree meanings. */
#define SP_COUNTER(name, expr)						\
static ssize_t name##_show(struct kobject *kobj,			\
			   struct kobj_attribute *attr, char *buf)	\
{									\
	struct sp_counters *c = &samepage_engine.c;			\
									\
	return sysfs_emit(buf, "%ld\n", (long)(expr));			\
}									\
static struct kobj_attribute name##_attr = __ATTR_RO(name)

SP_COUNTER(pages_shared, READ_ONCE(c->pages_shared));
SP_COUNTER(pages_sharing, READ_ONCE(c->pages_sharing));
SP_COUNTER(pages_unshared, READ_ONCE(c->pages_unshared));
SP_COUNTER(pages_volatile, READ_ONCE(c->rmap_items) - READ_ONCE(c->pages_shared) -
	   READ_ONCE(c->pages_sharing) - READ_ONCE(c->pages_unshared));
SP_COUNTER(pages_scanned, READ_ONCE(c->pages_scanned));
SP_COUNTER(full_scans, READ_ONCE(c->full_scans));
SP_COUNTER(kernel_pages_allocated, READ_ONCE(c->kernel_pages_allocated));
SP_COUNTER(hash_collisions, READ_ONCE(c->hash_collisions));
SP_COUNTER(general_profit, (READ_ONCE(c->pages_sharing) * (long)PAGE_SIZE) -
	   READ_ONCE(c->rmap_items) * (long)sizeof(struct sp_rmap_item));

static struct attribute *samepage_attrs[] = {
	&run_attr.attr,
	&pages_to_scan_attr.attr,
	&sleep_millisecs_attr.attr,
	&pages_shared_attr.attr,
	&pages_sharing_attr.attr,
	&pages_unshared_attr.attr,
	&pages_volatile_attr.attr,
	&pages_scanned_attr.attr,
	&full_scans_attr.attr,
	&kernel_pages_allocated_attr.attr,
	&hash_collisions_attr.attr,
	&general_profit_attr.attr,
	NULL,
};

static const struct attribute_group samepage_attr_group = {
	.attrs = samepage_attrs,
};

/**
 * samepage_sysfs_init() - create /sys/kernel/mm/samepage
 *
 * mm_kobj, the parent, is resolved through kallsyms: it is not exported on
 * every supported kernel.
 *
 * Return: 0 or a negative errno.
 */
int samepage_sysfs_init(void)
{
	struct kobject *mm = *SP_DATA(mm_kobj, struct kobject **);
	int err;

	samepage_kobj = kobject_create_and_add("samepage", mm);
	if (!samepage_kobj)
		return -ENOMEM;
	err = sysfs_create_group(samepage_kobj, &samepage_attr_group);
	if (err) {
		kobject_put(samepage_kobj);
		samepage_kobj = NULL;
	}
	return err;
}

void samepage_sysfs_exit(void)
{
	sysfs_remove_group(samepage_kobj, &samepage_attr_group);
	kobject_put(samepage_kobj);
}
