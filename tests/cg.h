/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cgroup v2 helpers of the VM tests: mount it if the VM did not, enable the
 * memory controller, make and remove test cgroups under one parent, move a
 * process in, read memory.* values.
 */
#ifndef SAMEPAGE_TEST_CG_H
#define SAMEPAGE_TEST_CG_H

#include <sys/mount.h>
#include <sys/stat.h>
#include "sp.h"

#define CG_ROOT "/sys/fs/cgroup"

static char cg_parent[128];

/* Write @val to cgroup file @dir/@file: 0 or -errno. */
static inline int cg_write(const char *dir, const char *file, const char *val)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return knob_write("", path, val);
}

static inline void cg_must_write(const char *dir, const char *file, const char *val)
{
	int err = cg_write(dir, file, val);

	if (err)
		tap_bail("%s/%s <- %s: %s", dir, file, val, strerror(-err));
}

/* @dir/@file's value, or its field @key ("anon", "oom_kill"); -1 if none. */
static inline long cg_read(const char *dir, const char *file, const char *key)
{
	char path[256], line[256];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "r");
	if (!f)
		tap_bail("%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		size_t n = key ? strlen(key) : 0;

		if (!key) {
			v = atol(line);
			break;
		}
		if (!strncmp(line, key, n) && line[n] == ' ') {
			v = atol(line + n + 1);
			break;
		}
	}
	fclose(f);
	return v;
}

#define cg_current(dir)	cg_read(dir, "memory.current", NULL)

/*
 * @dir's memory.stat field @key once it holds still. The kernel folds the
 * per-CPU deltas of memory.stat in lazily (a read flushes only past a
 * threshold; a worker flushes every 2 s), so a read right after a burst
 * of frees can be tens of MB stale: read it until two reads 2.5 s apart
 * agree (at most 8 reads).
 */
static inline long cg_stat_settled(const char *dir, const char *key)
{
	long v = cg_read(dir, "memory.stat", key), prev;

	for (int i = 0; i < 7; i++) {
		usleep(2500 * 1000);
		prev = v;
		v = cg_read(dir, "memory.stat", key);
		if (v == prev)
			break;
	}
	return v;
}

/* Mount cgroup v2 if needed and make the test's parent cgroup @name. */
static inline void cg_init(const char *name)
{
	if (access(CG_ROOT "/cgroup.controllers", F_OK)) {
		mkdir(CG_ROOT, 0755);
		if (mount("none", CG_ROOT, "cgroup2", 0, NULL))
			tap_bail("mount cgroup2: %s", strerror(errno));
	}
	cg_must_write(CG_ROOT, "cgroup.subtree_control", "+memory");
	snprintf(cg_parent, sizeof(cg_parent), CG_ROOT "/%s", name);
	if (mkdir(cg_parent, 0755) && errno != EEXIST)
		tap_bail("mkdir %s: %s", cg_parent, strerror(errno));
	cg_must_write(cg_parent, "cgroup.subtree_control", "+memory");
}

/* Path of child cgroup @name of the parent, made if @make. */
static inline const char *cg_child(const char *name, int make)
{
	static char paths[8][192];
	static int next;
	char *p = paths[next++ % 8];

	snprintf(p, sizeof(paths[0]), "%s/%s", cg_parent, name);
	if (make && mkdir(p, 0755) && errno != EEXIST)
		tap_bail("mkdir %s: %s", p, strerror(errno));
	return p;
}

/* Move the calling process into cgroup @dir (call it in the child). */
static inline int cg_enter(const char *dir)
{
	char pid[32];

	snprintf(pid, sizeof(pid), "%d", getpid());
	return cg_write(dir, "cgroup.procs", pid);
}

/* rmdir a cgroup: 0 or -errno. */
static inline int cg_rmdir(const char *dir)
{
	return rmdir(dir) ? -errno : 0;
}

#endif /* SAMEPAGE_TEST_CG_H */
