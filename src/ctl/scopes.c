// SPDX-License-Identifier: GPL-2.0
/*
 * samepagectl status: the tracked processes grouped by merge_scope's
 * domain, so an operator sees what merges within each user or memory
 * cgroup (the per-scope view).
 *
 * The domains are the module's: a process's effective uid (uid), the
 * memory cgroup it is in (memcg; the module keys each page by the memcg
 * it is charged to, which is the process's for every page it faulted in
 * since it moved there), or one for all. They are read from /proc for
 * each process SAMEPAGE_IOC_LIST names; the sums are of LIST's per-process
 * counters, so they add up to what `samepagectl list` shows.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"

#define MAX_SCOPES	128

struct scope_sum {
	char name[320];
	uint64_t procs, items, merging, zero;
};

/* /proc/@pid/@file, open for reading; NULL if @pid is gone. */
static FILE *proc_open(pid_t pid, const char *file)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, file);
	return fopen(path, "r");
}

/* The euid in /proc/@pid/status; -1 if @pid is gone. */
static long proc_euid(pid_t pid)
{
	FILE *f = proc_open(pid, "status");
	unsigned int ruid, euid;
	char line[256];
	long rc = -1;

	if (!f)
		return -1;
	while (rc < 0 && fgets(line, sizeof(line), f))
		if (sscanf(line, "Uid: %u %u", &ruid, &euid) == 2)
			rc = euid;
	fclose(f);
	return rc;
}

/*
 * @pid's memory cgroup from /proc/@pid/cgroup: the v1 memory controller's
 * line if there is one (v1 or hybrid), else v2's "0::" line.
 */
static int proc_memcg(pid_t pid, char *val, size_t len)
{
	FILE *f = proc_open(pid, "cgroup");
	char line[512], *m;
	int rc = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		m = strstr(line, ":memory:");
		if (m || !strncmp(line, "0::", 3)) {
			/* a longer path is cut: the sums may join two such cgroups */
			rc = snprintf(val, len, "%s", m ? m + 8 : line + 3) < 0 ? -1 : 0;
			if (m)
				break;
		}
	}
	fclose(f);
	return rc;
}

/* @pid's domain under @kind, as "uid 1000", "memcg /a/b" or "all". */
static void domain_of(pid_t pid, const char *kind, char *name, size_t len)
{
	char v[300];
	long euid;

	if (!strcmp(kind, "uid")) {
		euid = proc_euid(pid);
		if (euid >= 0)
			snprintf(name, len, "uid %ld", euid);
		else
			snprintf(name, len, "exited");
	} else if (!strcmp(kind, "memcg")) {
		if (proc_memcg(pid, v, sizeof(v)))
			snprintf(name, len, "exited");
		else if (snprintf(name, len, "memcg %s", v) < 0)
			snprintf(name, len, "?");
	} else {
		snprintf(name, len, "all");
	}
}

/* Every process LIST shows the caller, in a new array in *@ep. */
static int list_all(struct samepage_proc_entry **ep, uint32_t *count)
{
	struct samepage_list l = { .size = sizeof(l),
				   .entry_size = sizeof(struct samepage_proc_entry) };
	struct samepage_proc_entry *e = NULL;

	for (;;) {
		l.count = 0;	/* an input field that must be 0 */
		if (sp_ioctl(SAMEPAGE_IOC_LIST, &l, "list", 0)) {
			free(e);
			return -1;
		}
		if (l.count <= l.capacity)
			break;
		free(e);
		l.capacity = l.count + 16;	/* more may come meanwhile */
		e = calloc(l.capacity, sizeof(*e));
		if (!e) {
			errmsg("list: out of memory");
			return -1;
		}
		l.entries = (uintptr_t)e;
	}
	*ep = e;
	*count = l.count;
	return 0;
}

/*
 * Sum @e[0..@n) into @s by domain; at most MAX_SCOPES domains, the rest
 * in a last "other" one. Return the number of domains.
 */
static int sum_scopes(const struct samepage_proc_entry *e, uint32_t n,
		      const char *kind, struct scope_sum *s)
{
	int ns = 0;

	for (uint32_t i = 0; i < n; i++) {
		char name[sizeof(s->name)];
		int j;

		domain_of(e[i].pid, kind, name, sizeof(name));
		for (j = 0; j < ns && strcmp(s[j].name, name); j++)
			;
		if (j == MAX_SCOPES) {		/* the last one becomes "other" */
			j--;
			strcpy(s[j].name, "other");
		} else if (j == ns) {
			memset(&s[j], 0, sizeof(s[j]));
			strcpy(s[j].name, name);
			ns++;
		}
		s[j].procs++;
		s[j].items += e[i].rmap_items;
		s[j].merging += e[i].merging_pages;
		s[j].zero += e[i].zero_pages;
	}
	return ns;
}

/**
 * scopes_print() - the "scopes" part of samepagectl status
 * @o: text or JSON; for JSON, inside the top-level object
 *
 * A caller who may not open /dev/samepage (the package's udev rule gives
 * it to group samepage) gets the knobs without this part: JSON has no
 * "scopes" then, text says why.
 *
 * Return: 0, or 1 if the process list could not be read (said on stderr).
 */
int scopes_print(struct out *o)
{
	static struct scope_sum s[MAX_SCOPES];
	struct samepage_proc_entry *e = NULL;
	uint32_t n = 0;
	char kind[16];
	int ns;

	if (read_setting("merge_scope", kind, sizeof(kind)))
		*kind = '\0';
	/* the knobs are for everyone; the device may be for a group only (udev) */
	if (access(SAMEPAGE_DEVICE, R_OK) && (errno == EACCES || errno == EPERM)) {
		if (!o->json)
			printf("\nmerge_scope %s: tracked processes not shown (no access to %s)\n",
			       kind, SAMEPAGE_DEVICE);
		return 0;
	}
	if (list_all(&e, &n))
		return 1;
	ns = sum_scopes(e, n, kind, s);
	free(e);
	if (o->json) {
		out_object(o, "scopes");
		for (int i = 0; i < ns; i++) {
			out_object(o, s[i].name);
			out_u64(o, "processes", s[i].procs);
			out_u64(o, "rmap_items", s[i].items);
			out_u64(o, "merging_pages", s[i].merging);
			out_u64(o, "zero_pages", s[i].zero);
			out_object_end(o);
		}
		out_object_end(o);
		return 0;
	}
	printf("\nmerge_scope %s: tracked processes by domain\n", kind);
	printf("%-36s %9s %12s %12s %10s\n", "scope", "processes", "rmap_items",
	       "merging", "zero");
	for (int i = 0; i < ns; i++)
		printf("%-36s %9llu %12llu %12llu %10llu\n", s[i].name,
		       (unsigned long long)s[i].procs, (unsigned long long)s[i].items,
		       (unsigned long long)s[i].merging, (unsigned long long)s[i].zero);
	return 0;
}
