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
#include <linux/mm.h>
#include <linux/string.h>
#include <linux/oom.h>

#include "samepage.h"
#include "engine.h"
#include "ksyms.h"

struct samepage_knobs samepage_knobs = {
	.run = SP_RUN_STOP,
	.pages_to_scan = SP_DEFAULT_PAGES_TO_SCAN,
	.sleep_millisecs = 20,
	.use_zero_pages = 0,
	.max_page_sharing = 256,
	.merge_across_nodes = 1,
	.stable_node_chains_prune_millisecs = 2000,
	.max_kernel_pages = 0,		/* set at load: sp_default_max_kernel_pages() */
	.smart_scan = 1,
	.follow_madvise = 1,
	.advisor_mode = SP_ADVISOR_NONE,
	.merge_scope = SP_SCOPE_ALL,
	.advisor_max_cpu = 70,
	.advisor_min_pages_to_scan = 500,
	.advisor_max_pages_to_scan = 30000,
	.advisor_target_scan_time = 200,
	.thp_min_mergeable = SP_DEFAULT_THP_MIN,
	.proc_ksm_stat = 1,
	.cow_cooldown_passes = 0,
	.merge_first_sight = 1,
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

	/*
	 * A run=2 in progress may take long (its faults wait for memory): a
	 * writer waiting behind it can be killed, as one waiting for in-tree's
	 * ksm_thread_mutex cannot.
	 */
	if (mutex_lock_killable(&samepage_knobs.lock))
		return -EINTR;
	if (READ_ONCE(samepage_knobs.run) != run) {
		WRITE_ONCE(samepage_knobs.run, run);
		if (run == SP_RUN_UNMERGE) {
			/*
			 * As in-tree: should the unmerge's faults run the
			 * machine out of memory, the writer is the OOM
			 * killer's first choice, and a killed writer stops.
			 */
			set_current_oom_origin();
			err = sp_unmerge_all();
			clear_current_oom_origin();
			if (err) {
				WRITE_ONCE(samepage_knobs.run, SP_RUN_STOP);
				count = err;
			}
		}
	}
	mutex_unlock(&samepage_knobs.lock);
	if (run == SP_RUN_MERGE) {
		sp_scan_wake();
	} else {
		/* let samepaged finish its batch: then the counters hold still */
		mutex_lock(&samepage_engine.lock);
		mutex_unlock(&samepage_engine.lock);
	}
	return count;
}
static struct kobj_attribute run_attr = __ATTR_RW(run);

/*
 * Numeric knobs with no side effect beyond storing the value: @parse turns
 * the text into the knob's type, or fails with EINVAL like mm/ksm.c.
 */
#define SP_NUM_KNOB(name, fmt, parse)					\
static ssize_t name##_show(struct kobject *kobj,			\
			   struct kobj_attribute *attr, char *buf)	\
{									\
	return sysfs_emit(buf, fmt "\n", READ_ONCE(samepage_knobs.name));	\
}									\
static ssize_t name##_store(struct kobject *kobj,			\
			    struct kobj_attribute *attr,		\
			    const char *buf, size_t count)		\
{									\
	typeof(samepage_knobs.name) val;				\
	int err = parse(buf, &val);					\
									\
	if (err)							\
		return err;						\
	WRITE_ONCE(samepage_knobs.name, val);				\
	return count;							\
}									\
static struct kobj_attribute name##_attr = __ATTR_RW(name)

#define SP_UINT_KNOB(name)	SP_NUM_KNOB(name, "%u", parse_uint)

SP_UINT_KNOB(sleep_millisecs);
SP_UINT_KNOB(stable_node_chains_prune_millisecs);

/* pages_to_scan belongs to the advisor while it is on (EINVAL, as in-tree). */
static int parse_pages_to_scan(const char *buf, unsigned int *val)
{
	if (READ_ONCE(samepage_knobs.advisor_mode) != SP_ADVISOR_NONE)
		return -EINVAL;
	return parse_uint(buf, val);
}
SP_NUM_KNOB(pages_to_scan, "%u", parse_pages_to_scan);

static ssize_t advisor_mode_show(struct kobject *kobj,
				 struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%s\n", READ_ONCE(samepage_knobs.advisor_mode) ==
			  SP_ADVISOR_NONE ? "[none] scan-time" : "none [scan-time]");
}

static ssize_t advisor_mode_store(struct kobject *kobj,
				  struct kobj_attribute *attr,
				  const char *buf, size_t count)
{
	unsigned int mode;

	if (sysfs_streq(buf, "none"))
		mode = SP_ADVISOR_NONE;
	else if (sysfs_streq(buf, "scan-time"))
		mode = SP_ADVISOR_SCAN_TIME;
	else
		return -EINVAL;
	if (mutex_lock_killable(&samepage_knobs.lock))
		return -EINTR;
	if (mode != READ_ONCE(samepage_knobs.advisor_mode))
		sp_advisor_set_mode(mode);
	mutex_unlock(&samepage_knobs.lock);
	return count;
}
static struct kobj_attribute advisor_mode_attr = __ATTR_RW(advisor_mode);

/*
 * The advisor's bounds are parsed with kstrtoul() like in-tree and stored
 * in in-tree's types: advisor_max_cpu is an unsigned int there, so it keeps
 * the low 32 bits of what was written; advisor_target_scan_time must be at
 * least 1.
 */
static int parse_ulong(const char *buf, unsigned long *val)
{
	return kstrtoul(buf, 10, val) ? -EINVAL : 0;
}

static int parse_ulong_low32(const char *buf, unsigned int *val)
{
	unsigned long v;
	int err = parse_ulong(buf, &v);

	*val = (unsigned int)v;
	return err;
}

static int parse_seconds(const char *buf, unsigned long *val)
{
	int err = parse_ulong(buf, val);

	return err ?: (*val ? 0 : -EINVAL);
}

SP_NUM_KNOB(advisor_max_cpu, "%u", parse_ulong_low32);
SP_NUM_KNOB(advisor_min_pages_to_scan, "%lu", parse_ulong);
SP_NUM_KNOB(advisor_max_pages_to_scan, "%lu", parse_ulong);
SP_NUM_KNOB(advisor_target_scan_time, "%lu", parse_seconds);

/* Boolean knobs: kstrtobool() syntax, any error is EINVAL (as in-tree). */
#define SP_BOOL_KNOB(name)						\
static ssize_t name##_show(struct kobject *kobj,			\
			   struct kobj_attribute *attr, char *buf)	\
{									\
	return sysfs_emit(buf, "%u\n", READ_ONCE(samepage_knobs.name));	\
}									\
static ssize_t name##_store(struct kobject *kobj,			\
			    struct kobj_attribute *attr,		\
			    const char *buf, size_t count)		\
{									\
	bool value;							\
									\
	if (kstrtobool(buf, &value))					\
		return -EINVAL;						\
	WRITE_ONCE(samepage_knobs.name, value);				\
	return count;							\
}									\
static struct kobj_attribute name##_attr = __ATTR_RW(name)

SP_BOOL_KNOB(use_zero_pages);
SP_BOOL_KNOB(smart_scan);
SP_BOOL_KNOB(follow_madvise);
SP_BOOL_KNOB(proc_ksm_stat);
SP_BOOL_KNOB(merge_first_sight);

/* At most 255 (the per-item counter is a u8). */
static int parse_cooldown(const char *buf, unsigned int *val)
{
	int err = parse_uint(buf, val);

	return err ?: (*val <= U8_MAX ? 0 : -EINVAL);
}
SP_NUM_KNOB(cow_cooldown_passes, "%u", parse_cooldown);

/* 1 ... SP_PMD_PAGES (512 with 4 KiB pages): EINVAL otherwise. */
static int parse_thp_min(const char *buf, unsigned int *val)
{
	int err = parse_uint(buf, val);

	return err ?: (*val >= 1 && *val <= SP_PMD_PAGES ? 0 : -EINVAL);
}
SP_NUM_KNOB(thp_min_mergeable, "%u", parse_thp_min);

/*
 * max_page_sharing and merge_across_nodes change how kpages are found, so
 * like in-tree they may only change while no kpage exists (EBUSY).
 */
static int set_while_no_kpages(unsigned int *knob, unsigned int value)
{
	int err = 0;

	mutex_lock(&samepage_engine.lock);
	if (*knob != value) {
		if (sp_engine_has_kpages()) {
			err = -EBUSY;
		} else {
			WRITE_ONCE(*knob, value);
			sp_unstable_reset();	/* keys of the old setting */
		}
	}
	mutex_unlock(&samepage_engine.lock);
	return err;
}

static ssize_t max_page_sharing_show(struct kobject *kobj,
				     struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(samepage_knobs.max_page_sharing));
}

static ssize_t max_page_sharing_store(struct kobject *kobj,
				      struct kobj_attribute *attr,
				      const char *buf, size_t count)
{
	int knob, err;

	err = kstrtoint(buf, 10, &knob);
	if (err)
		return err;
	if (knob < 2)	/* a kpage starts with 2 sharers */
		return -EINVAL;
	if (READ_ONCE(samepage_knobs.max_page_sharing) == knob)
		return count;
	err = set_while_no_kpages((unsigned int *)&samepage_knobs.max_page_sharing,
				  knob);
	return err ? err : count;
}
static struct kobj_attribute max_page_sharing_attr = __ATTR_RW(max_page_sharing);

static ssize_t merge_across_nodes_show(struct kobject *kobj,
				       struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(samepage_knobs.merge_across_nodes));
}

static ssize_t merge_across_nodes_store(struct kobject *kobj,
					struct kobj_attribute *attr,
					const char *buf, size_t count)
{
	unsigned long knob;
	int err;

	err = kstrtoul(buf, 10, &knob);
	if (err)
		return err;
	if (knob > 1)
		return -EINVAL;
	err = set_while_no_kpages(&samepage_knobs.merge_across_nodes, knob);
	return err ? err : count;
}
static struct kobj_attribute merge_across_nodes_attr = __ATTR_RW(merge_across_nodes);

static const char *const scope_names[] = {
	[SP_SCOPE_ALL] = "all", [SP_SCOPE_UID] = "uid", [SP_SCOPE_MEMCG] = "memcg",
};

/* samepage's own: "[all] uid memcg", the advisor_mode format. */
static ssize_t merge_scope_show(struct kobject *kobj, struct kobj_attribute *attr,
				char *buf)
{
	unsigned int cur = READ_ONCE(samepage_knobs.merge_scope);
	int len = 0;

	for (unsigned int i = 0; i < ARRAY_SIZE(scope_names); i++)
		len += sysfs_emit_at(buf, len, i == cur ? "%s[%s]" : "%s%s",
				     i ? " " : "", scope_names[i]);
	return len + sysfs_emit_at(buf, len, "\n");
}

/* A tree-shaping knob: EBUSY while kpages exist, as merge_across_nodes. */
static ssize_t merge_scope_store(struct kobject *kobj, struct kobj_attribute *attr,
				 const char *buf, size_t count)
{
	int i = sysfs_match_string(scope_names, buf);

	if (i < 0)
		return -EINVAL;
	i = set_while_no_kpages(&samepage_knobs.merge_scope, i);
	return i ? i : count;
}
static struct kobj_attribute merge_scope_attr = __ATTR_RW(merge_scope);

static ssize_t max_kernel_pages_show(struct kobject *kobj,
				     struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%lu\n", READ_ONCE(samepage_knobs.max_kernel_pages));
}

/* samepage's own: 0 is no cap; lowering it below the count frees nothing. */
static ssize_t max_kernel_pages_store(struct kobject *kobj,
				      struct kobj_attribute *attr,
				      const char *buf, size_t count)
{
	unsigned long value;

	if (kstrtoul(buf, 10, &value))
		return -EINVAL;
	WRITE_ONCE(samepage_knobs.max_kernel_pages, value);
	return count;
}
static struct kobj_attribute max_kernel_pages_attr = __ATTR_RW(max_kernel_pages);

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
/* as in-tree: computed without locking, so never shown below 0 */
SP_COUNTER(pages_volatile, max(0L, (long)(READ_ONCE(c->rmap_items) -
	   READ_ONCE(c->pages_shared) - READ_ONCE(c->pages_sharing) -
	   READ_ONCE(c->pages_unshared))));
SP_COUNTER(pages_scanned, READ_ONCE(c->pages_scanned));
SP_COUNTER(full_scans, READ_ONCE(c->full_scans));
SP_COUNTER(kernel_pages_allocated, READ_ONCE(c->kernel_pages_allocated));
SP_COUNTER(hash_collisions, READ_ONCE(c->hash_collisions));
SP_COUNTER(general_profit, (long)sp_profit(READ_ONCE(c->pages_sharing) + sp_zero_pages(),
					   READ_ONCE(c->rmap_items)));

/* samepage's own: what general_profit charges per rmap_item (items.c) */
static ssize_t rmap_item_bytes_show(struct kobject *kobj, struct kobj_attribute *attr,
				    char *buf)
{
	return sysfs_emit(buf, "%lu\n", sp_item_bytes());
}
static struct kobj_attribute rmap_item_bytes_attr = __ATTR_RO(rmap_item_bytes);
SP_COUNTER(ksm_zero_pages, atomic_long_read(&c->ksm_zero_pages));
SP_COUNTER(stable_node_chains, READ_ONCE(c->stable_node_chains));
SP_COUNTER(stable_node_dups, READ_ONCE(c->stable_node_dups));
SP_COUNTER(pages_skipped_thp, READ_ONCE(c->pages_skipped_thp));
SP_COUNTER(thp_split, READ_ONCE(c->thp_split));
SP_COUNTER(pages_skipped, READ_ONCE(c->pages_skipped));
SP_COUNTER(pages_hwpoisoned, READ_ONCE(c->pages_hwpoisoned));
SP_COUNTER(kpage_arenas, READ_ONCE(c->kpage_arenas));
SP_COUNTER(kpage_arenas_freed, READ_ONCE(c->kpage_arenas_freed));
SP_COUNTER(kpages_moved, READ_ONCE(c->kpages_moved));
static ssize_t cow_breaks_show(struct kobject *kobj, struct kobj_attribute *attr,
			       char *buf)
{
	return sysfs_emit(buf, "%ld\n", sp_cow_breaks());
}
static struct kobj_attribute cow_breaks_attr = __ATTR_RO(cow_breaks);

static ssize_t hooks_show(struct kobject *kobj, struct kobj_attribute *attr,
			  char *buf)
{
	return sp_hooks_show(buf);
}
static struct kobj_attribute hooks_attr = __ATTR_RO(hooks);

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
	&pages_hwpoisoned_attr.attr,
	&kpage_arenas_attr.attr,
	&kpage_arenas_freed_attr.attr,
	&kpages_moved_attr.attr,
	&general_profit_attr.attr,
	&rmap_item_bytes_attr.attr,
	&ksm_zero_pages_attr.attr,
	&stable_node_chains_attr.attr,
	&stable_node_dups_attr.attr,
	&pages_skipped_thp_attr.attr,
	&stable_node_chains_prune_millisecs_attr.attr,
	&use_zero_pages_attr.attr,
	&max_page_sharing_attr.attr,
	&merge_across_nodes_attr.attr,
	&max_kernel_pages_attr.attr,
	&merge_scope_attr.attr,
	&smart_scan_attr.attr,
	&pages_skipped_attr.attr,
	&cow_breaks_attr.attr,
	&follow_madvise_attr.attr,
	&hooks_attr.attr,
	&advisor_mode_attr.attr,
	&advisor_max_cpu_attr.attr,
	&advisor_min_pages_to_scan_attr.attr,
	&advisor_max_pages_to_scan_attr.attr,
	&advisor_target_scan_time_attr.attr,
	&thp_min_mergeable_attr.attr,
	&thp_split_attr.attr,
	&proc_ksm_stat_attr.attr,
	&cow_cooldown_passes_attr.attr,
	&merge_first_sight_attr.attr,
	NULL,
};

static const struct attribute_group samepage_attr_group = {
	.attrs = samepage_attrs,
};

/*
 * The default cap on kpages: a quarter of RAM, as the 2.6.32 KSM had it
 * (ksm_max_kernel_pages = totalram_pages / 4). kpages cannot be swapped or
 * reclaimed, so without a cap whoever may opt memory in (any process, with
 * follow_madvise) could pin as much as it can make pairs of. A quarter of
 * RAM of unswappable pages still stands for at least half of RAM of merged
 * memory (every kpage has two mappers or more) and leaves the rest for
 * everything else; a memory cgroup's limit binds each container within it
 * (kpages are charged). Root may write any value, 0 for no cap.
 */
static unsigned long sp_default_max_kernel_pages(void)
{
	return max(totalram_pages() / 4, 1UL);
}

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
	struct kobject *mm = *sp_mm_kobj();
	int err;

	samepage_knobs.max_kernel_pages = sp_default_max_kernel_pages();

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
