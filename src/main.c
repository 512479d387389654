// SPDX-License-Identifier: GPL-2.0
/*
 * samepage - Kernel Samepage Merging as a loadable module.
 *
 * Load order: resolve kernel symbols (fails the load by name when one is
 * missing), then publish /sys/kernel/mm/samepage and /dev/samepage.
 */
#define pr_fmt(fmt) "samepage: " fmt

#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/init.h>

#include "samepage.h"
#include "engine.h"
#include "ksyms.h"

static char *require_symbol;
module_param(require_symbol, charp, 0444);
MODULE_PARM_DESC(require_symbol,
		 "one more kernel symbol that must resolve at load (diagnostics and tests)");

static int __init samepage_init(void)
{
	int err;

	/*
	 * CONFIG_DEBUG_VM checks that an anon page's anon_vma root matches the
	 * VMA's; a kpage's dummy anon_vma never does (Documentation/design.md, "The kpage"), so such a
	 * kernel would BUG on the first merge. Refuse it instead.
	 */
	if (IS_ENABLED(CONFIG_DEBUG_VM)) {
		pr_err("refusing to load: this kernel has CONFIG_DEBUG_VM, whose anon rmap checks samepage's pages cannot pass\n");
		return -EOPNOTSUPP;
	}

	err = samepage_ksyms_init(require_symbol);
	if (err)
		return err;
	err = sp_caches_init();
	if (err)
		return err;
	err = sp_kpage_init();
	if (err)
		goto out_caches;
	sp_reaper_init();
	err = sp_scan_init();
	if (err)
		goto out_merge;
	err = samepage_sysfs_init();
	if (err)
		goto out_scan;
	err = samepage_chardev_init();
	if (err)
		goto out_sysfs;
	sp_inherit_init();
	sp_hooks_init();	/* a missing hook disables a feature, not the load */
	pr_info("version %s loaded\n", SAMEPAGE_VERSION_STR);
	return 0;

out_sysfs:
	samepage_sysfs_exit();
out_scan:
	sp_scan_exit();
	sp_reaper_exit();
out_merge:
	sp_kpage_exit();
	sp_trees_exit();
out_caches:
	sp_caches_exit();
	return err;
}

static void __exit samepage_exit(void)
{
	sp_hooks_exit();
	sp_inherit_exit();	/* no hook queues requests any more */
	samepage_chardev_exit();
	samepage_sysfs_exit();
	sp_scan_exit();
	sp_reaper_exit();	/* no notifier reports any more (sp_slots_exit()) */
	sp_kpage_exit();
	sp_trees_exit();
	sp_caches_exit();
	pr_info("unloaded\n");
}

module_init(samepage_init);
module_exit(samepage_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Kernel Samepage Merging as a loadable module");
MODULE_AUTHOR("samepage developers");
MODULE_VERSION(SAMEPAGE_VERSION_STR);
