// SPDX-License-Identifier: GPL-2.0
/*
 * samepagectl: the same fields as "key  value" lines or as one JSON object.
 */
#include <inttypes.h>
#include <string.h>

#include "ctl.h"

const char *const why_key[SAMEPAGE_WHY_NR] = {
	[SAMEPAGE_WHY_MERGED] = "merged",
	[SAMEPAGE_WHY_VOLATILE] = "volatile",
	[SAMEPAGE_WHY_SMART_SCAN] = "smart_scan",
	[SAMEPAGE_WHY_UNIQUE] = "unique",
	[SAMEPAGE_WHY_THP] = "thp",
	[SAMEPAGE_WHY_PINNED] = "pinned",
	[SAMEPAGE_WHY_VMA_SHARED] = "vma_shared",
	[SAMEPAGE_WHY_VMA_LOCKED] = "vma_locked",
	[SAMEPAGE_WHY_VMA_HUGETLB] = "vma_hugetlb",
	[SAMEPAGE_WHY_VMA_IO] = "vma_io",
	[SAMEPAGE_WHY_VMA_OTHER] = "vma_other",
	[SAMEPAGE_WHY_NOT_PRESENT] = "not_present",
	[SAMEPAGE_WHY_MAX_KERNEL_PAGES] = "max_kernel_pages",
	[SAMEPAGE_WHY_RACE] = "race",
};

const char *const why_words[SAMEPAGE_WHY_NR] = {
	[SAMEPAGE_WHY_MERGED] = "merged (share a page with others)",
	[SAMEPAGE_WHY_VOLATILE] = "change too often to merge, or were just seen (volatile)",
	[SAMEPAGE_WHY_SMART_SCAN] = "skipped this pass: they never merged so far (smart_scan)",
	[SAMEPAGE_WHY_UNIQUE] = "have content no other page has (unique)",
	[SAMEPAGE_WHY_THP] = "have a twin, but stay in a huge page with too few (thp_min_mergeable)",
	[SAMEPAGE_WHY_PINNED] = "are pinned by I/O or another process (GUP, O_DIRECT, vmsplice)",
	[SAMEPAGE_WHY_VMA_SHARED] = "are in shared mappings (only private memory merges)",
	[SAMEPAGE_WHY_VMA_LOCKED] = "are in mlock()ed memory",
	[SAMEPAGE_WHY_VMA_HUGETLB] = "are in hugetlbfs memory",
	[SAMEPAGE_WHY_VMA_IO] = "are device or PFN mappings",
	[SAMEPAGE_WHY_VMA_OTHER] = "are in other ineligible mappings (DAX, userfaultfd-wp, ...)",
	[SAMEPAGE_WHY_NOT_PRESENT] = "are not in memory (never touched, or swapped out)",
	[SAMEPAGE_WHY_MAX_KERNEL_PAGES] = "could not merge: max_kernel_pages is reached",
	[SAMEPAGE_WHY_RACE] = "changed or were locked while samepage tried (retried next pass)",
};

void json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

static void key(struct out *o, const char *k)
{
	if (o->json) {
		printf("%s", o->fields++ ? ", " : "");
		json_string(k);
		printf(": ");
	} else {
		printf("%-28s ", k);
	}
}

void out_begin(struct out *o)
{
	o->fields = 0;
	if (o->json)
		printf("{");
}

void out_end(struct out *o)
{
	if (o->json)
		printf("}\n");
}

void out_u64(struct out *o, const char *k, uint64_t v)
{
	key(o, k);
	printf("%" PRIu64 "%s", v, o->json ? "" : "\n");
}

void out_s64(struct out *o, const char *k, int64_t v)
{
	key(o, k);
	printf("%" PRId64 "%s", v, o->json ? "" : "\n");
}

void out_str(struct out *o, const char *k, const char *v)
{
	key(o, k);
	if (o->json)
		json_string(v);
	else
		printf("%s\n", v);
}

/* A nested object: its fields follow until out_object_end(). */
void out_object(struct out *o, const char *k)
{
	if (o->json) {
		key(o, k);
		printf("{");
		o->fields = 0;
	} else {
		printf("%s:\n", k);
	}
}

void out_object_end(struct out *o)
{
	if (o->json) {
		printf("}");
		o->fields = 1;
	}
}
