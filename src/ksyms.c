// SPDX-License-Identifier: GPL-2.0
/*
 * Symbol resolution at load.
 *
 * kallsyms_lookup_name() has not been exported since 5.7. Its address is
 * still known to kprobes: registering a kprobe on it by name makes the kprobe
 * core resolve the address for us, after which the probe is removed at once.
 * From then on kallsyms_lookup_name() itself is called, like every resolved
 * function, through samepage_ibt_call().
 */
#define pr_fmt(fmt) "samepage: " fmt

#include <linux/kernel.h>
#include <linux/kprobes.h>
#include <linux/errno.h>
#include <linux/cache.h>
#include <linux/string.h>
#include <linux/slab.h>

#include "ksyms.h"

struct samepage_ksyms samepage_ksyms __ro_after_init;

struct ksym_desc {
	const char *name;
	size_t offset;		/* of the field in struct samepage_ksyms */
	bool required;
};

static const struct ksym_desc ksym_descs[] = {
#define SP_KSYM_DESC(field, sname, req)					\
	{ .name = sname, .offset = offsetof(struct samepage_ksyms, field),	\
	  .required = req },
	SAMEPAGE_KSYMS(SP_KSYM_DESC)
#undef SP_KSYM_DESC
};

static unsigned long kallsyms_lookup_name_addr __ro_after_init;

static unsigned long find_kallsyms_lookup_name(void)
{
	struct kprobe kp = { .symbol_name = "kallsyms_lookup_name" };
	unsigned long addr;
	int err;

	err = register_kprobe(&kp);
	if (err) {
		pr_err("cannot locate kallsyms_lookup_name through kprobes: %d\n",
		       err);
		return 0;
	}
	addr = (unsigned long)kp.addr;
	unregister_kprobe(&kp);
	return addr;
}

/**
 * lookup_symbol() - address of @name
 * @name: symbol name as in /proc/kallsyms
 *
 * Exactly @name: never a compiler clone (.isra, .constprop, .part) of it.
 * A clone has another calling convention, so calling one would corrupt
 * memory; a function that exists only as a clone fails the load by name.
 * (Probe targets are found by the kprobe and ftrace cores, not here.)
 *
 * Return: the address, or 0 when @name does not exist.
 */
static unsigned long lookup_symbol(const char *name)
{
	return samepage_ibt_call(SP_A(name), 0, 0, 0, 0, 0,
				 kallsyms_lookup_name_addr);
}

/**
 * samepage_ksyms_init() - resolve every symbol of SAMEPAGE_KSYMS
 * @extra_required: one more symbol name that must resolve, or NULL. It is the
 *	module parameter require_symbol, used by the tests to prove that a
 *	missing symbol fails the load by name.
 *
 * Every missing required symbol is named in the kernel log, not just the
 * first, so one failed insmod tells the whole story.
 *
 * Return: 0, or -ENOENT if any required symbol is missing.
 */
int samepage_ksyms_init(const char *extra_required)
{
	bool missing = false;
	unsigned long addr;
	size_t i;

	kallsyms_lookup_name_addr = find_kallsyms_lookup_name();
	if (!kallsyms_lookup_name_addr)
		return -ENOENT;

	for (i = 0; i < ARRAY_SIZE(ksym_descs); i++) {
		const struct ksym_desc *d = &ksym_descs[i];

		addr = lookup_symbol(d->name);
		if (!addr && d->required) {
			pr_err("required kernel symbol '%s' not found\n", d->name);
			missing = true;
		} else if (!addr) {
			pr_info("optional kernel symbol '%s' not found\n", d->name);
		}
		*(unsigned long *)((char *)&samepage_ksyms + d->offset) = addr;
	}
	if (extra_required && *extra_required && !lookup_symbol(extra_required)) {
		pr_err("required kernel symbol '%s' not found\n", extra_required);
		missing = true;
	}
	return missing ? -ENOENT : 0;
}
