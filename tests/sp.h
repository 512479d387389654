/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by samepage's VM tests: knobs of either tree (samepage or
 * in-tree KSM, for differential tests), pagemap PFNs, registration, waiting
 * for full scans, and child processes driven over pipes.
 */
#ifndef SAMEPAGE_TEST_SP_H
#define SAMEPAGE_TEST_SP_H

#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/samepage.h>
#include "tap.h"
#include "knob.h"

#define SP_TREE "/sys/kernel/mm/samepage/"
#define SP_TRACING "/sys/kernel/tracing/"
#define KSM_TREE "/sys/kernel/mm/ksm/"

static long page_size;

/* A numeric knob's value (bails out if it cannot be read). */
static inline long knob_in(const char *tree, const char *name)
{
	char buf[64];

	if (knob_read_str(tree, name, buf, sizeof(buf)) || !buf[0])
		tap_bail("cannot read %s%s", tree, name);
	return atol(buf);
}

/* Write @val to a knob: 0 or -errno. */
static inline int set_knob_in(const char *tree, const char *name, const char *val)
{
	return knob_write(tree, name, val);
}

#define knob(name)		knob_in(SP_TREE, name)
#define set_knob(name, val)	set_knob_in(SP_TREE, name, val)

static inline void must_set(const char *tree, const char *name, const char *val)
{
	int err = set_knob_in(tree, name, val);

	if (err)
		tap_bail("%s%s <- %s: %s", tree, name, val, strerror(-err));
}

/* PFN mapped at @addr in process @pid (0: self), 0 if none. */
static inline uint64_t pfn_of(pid_t pid, const void *addr)
{
	char path[64];
	uint64_t ent = 0;
	int fd;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	else
		snprintf(path, sizeof(path), "/proc/self/pagemap");
	fd = open(path, O_RDONLY);
	if (fd < 0 || pread(fd, &ent, 8, (uintptr_t)addr / page_size * 8) != 8)
		tap_bail("pagemap of %d: %s", pid, strerror(errno));
	close(fd);
	return (ent & (1ULL << 63)) ? ent & ((1ULL << 55) - 1) : 0;
}

static int sp_dev_fd = -1;

/* The test's /dev/samepage descriptor, opened on first use. */
static inline int sp_dev(void)
{
	if (sp_dev_fd < 0)
		sp_dev_fd = open(SAMEPAGE_DEVICE, O_RDONLY | O_CLOEXEC);
	if (sp_dev_fd < 0)
		tap_bail("open %s: %s", SAMEPAGE_DEVICE, strerror(errno));
	return sp_dev_fd;
}

/* Close it (an open descriptor holds a module reference). */
static inline void sp_close_dev(void)
{
	if (sp_dev_fd >= 0)
		close(sp_dev_fd);
	sp_dev_fd = -1;
}

/* REGISTER (@reg) or UNREGISTER a range of @pid (0: self); 0 or -errno. */
static inline int sp_range(int reg, pid_t pid, const void *start, size_t len)
{
	struct samepage_register r = {
		.size = sizeof(r), .pid = pid,
		.flags = len ? SAMEPAGE_REGISTER_RANGE : 0,
		.start = (uintptr_t)start, .len = len,
	};

	return ioctl(sp_dev(), reg ? SAMEPAGE_IOC_REGISTER : SAMEPAGE_IOC_UNREGISTER,
		     &r) ? -errno : 0;
}

/* tracefs at SP_TRACING, mounted if it is not (bails if that fails). */
static inline void sp_tracefs(void)
{
	if (access(SP_TRACING "trace", F_OK) &&
	    mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL))
		tap_bail("cannot mount tracefs: %s", strerror(errno));
}

/* Empty the trace buffer (as "> trace" does: an open with O_TRUNC). */
static inline void sp_trace_clear(void)
{
	int fd = open(SP_TRACING "trace", O_WRONLY | O_TRUNC);

	if (fd < 0)
		tap_bail("cannot clear the trace buffer: %s", strerror(errno));
	close(fd);
}

/* How many processes LIST shows (bails if LIST fails). */
static inline long sp_tracked(void)
{
	struct samepage_list l = {
		.size = sizeof(l), .entry_size = sizeof(struct samepage_proc_entry),
	};

	if (ioctl(sp_dev(), SAMEPAGE_IOC_LIST, &l))
		tap_bail("LIST: %s", strerror(errno));
	return l.count;
}

/* Wait until @tree's full_scans grew by @n; 0 on success, -1 on timeout. */
static inline int wait_scans(const char *tree, long n)
{
	long start = knob_in(tree, "full_scans");

	/*
	 * 600 s: TCG is slow, and the sanitizer kernel under kmemleak, in
	 * one host thread beside other VMs, once took over 300 s for 6
	 * passes of compact_race
	 */
	for (int i = 0; i < 6000; i++) {
		if (knob_in(tree, "full_scans") >= start + n)
			return 0;
		usleep(100000);
	}
	return -1;
}

/* Let @tree's scanner run @n full passes, then stop it (bails on timeout). */
static inline void run_passes(const char *tree, int n)
{
	must_set(tree, "run", "1");
	if (wait_scans(tree, n))
		tap_bail("%s: no %d full scans", tree, n);
	must_set(tree, "run", "0");
}

/* Wait until @tree's @name reads @want; 0 on success, -1 on timeout. */
static inline int wait_knob(const char *tree, const char *name, long want)
{
	for (int i = 0; i < 600; i++) {
		if (knob_in(tree, name) == want)
			return 0;
		usleep(100000);
	}
	return -1;
}

/*
 * Unregister every tracked process but this one, naming each (a test that
 * registers other processes cleans up with this); returns how many.
 */
static inline int sp_unregister_others(void)
{
	struct samepage_proc_entry e[64];
	struct samepage_list l = {
		.size = sizeof(l), .capacity = 64, .entry_size = sizeof(e[0]),
		.entries = (uintptr_t)e,
	};
	int n = 0;

	if (ioctl(sp_dev(), SAMEPAGE_IOC_LIST, &l))
		tap_bail("LIST: %s", strerror(errno));
	for (unsigned int i = 0; i < l.count && i < 64; i++) {
		char path[64], comm[64] = "?";
		FILE *f;

		if (e[i].pid == getpid())
			continue;
		snprintf(path, sizeof(path), "/proc/%d/comm", e[i].pid);
		f = fopen(path, "r");
		if (f && !fgets(comm, sizeof(comm), f))
			strcpy(comm, "?");
		if (f)
			fclose(f);
		tap_diag("pid %d (%s) was registered: unregistered", e[i].pid,
			 strtok(comm, "\n") ? comm : "?");
		sp_range(0, e[i].pid, NULL, 0);
		n++;
	}
	return n;
}

/*
 * A clean start: nothing merged, scanner stopped, scan counters reset.
 * Beside other workloads (the soak), run=2 can meet a memory cgroup at its
 * limit that cannot take its pages back yet: ENOMEM, as under in-tree KSM.
 * That is retried for a few seconds, then only reported.
 */
static inline void sp_reset(void)
{
	int err = set_knob_in(SP_TREE, "run", "2");

	for (int i = 0; err == -ENOMEM && i < 10; i++) {
		sleep(1);
		err = set_knob_in(SP_TREE, "run", "2");
	}
	if (err == -ENOMEM)
		tap_diag("run=2: %s (a memory cgroup at its limit); going on", strerror(-err));
	else if (err)
		tap_bail("%srun <- 2: %s", SP_TREE, strerror(-err));
	must_set(SP_TREE, "run", "0");
	must_set(SP_TREE, "pages_to_scan", "10000");
	must_set(SP_TREE, "sleep_millisecs", "0");
	must_set(SP_TREE, "smart_scan", "0");	/* every page on every pass */
}

static inline void sp_restore(void)
{
	set_knob("run", "2");
	set_knob("run", "0");
	set_knob("pages_to_scan", "100");
	set_knob("sleep_millisecs", "20");
	set_knob("use_zero_pages", "0");
	set_knob("max_page_sharing", "256");
	set_knob("merge_across_nodes", "1");
	set_knob("smart_scan", "1");
	set_knob("merge_scope", "all");
	set_knob("merge_first_sight", "1");
}

/*
 * Make @tree (KSM_TREE or SP_TREE) the one that scans, for a test that
 * runs one workload under both: in-tree KSM stopped and unmerged,
 * samepage reset (sp_reset()), and in-tree's scanner as eager as
 * samepage's when it is the one.
 */
static inline void use_tree(const char *tree)
{
	must_set(KSM_TREE, "run", "2");
	must_set(KSM_TREE, "run", "0");
	sp_reset();
	if (!strcmp(tree, KSM_TREE)) {
		must_set(KSM_TREE, "pages_to_scan", "10000");
		must_set(KSM_TREE, "sleep_millisecs", "0");
		set_knob_in(KSM_TREE, "smart_scan", "0");	/* 6.7+ */
	}
}

/* In-tree KSM's knobs back to their defaults, nothing merged. */
static inline void restore_ksm(void)
{
	set_knob_in(KSM_TREE, "run", "2");
	set_knob_in(KSM_TREE, "run", "0");
	set_knob_in(KSM_TREE, "pages_to_scan", "100");
	set_knob_in(KSM_TREE, "sleep_millisecs", "20");
	set_knob_in(KSM_TREE, "smart_scan", "1");
	set_knob_in(KSM_TREE, "use_zero_pages", "0");
	set_knob_in(KSM_TREE, "max_page_sharing", "256");
}

/* A field of /proc/meminfo, in kB (bails if there is none). */
static inline long meminfo_kb(const char *key)
{
	char line[128];
	long v = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		tap_bail("/proc/meminfo: %s", strerror(errno));
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)) && line[strlen(key)] == ':')
			v = atol(line + strlen(key) + 1);
	fclose(f);
	if (v < 0)
		tap_bail("no %s in /proc/meminfo", key);
	return v;
}

static inline void *map_pages(size_t n)
{
	void *p = mmap(NULL, n * page_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		tap_bail("mmap: %s", strerror(errno));
	madvise(p, n * page_size, MADV_NOHUGEPAGE);
	return p;
}

/* Fill a page with a pattern derived from @seed (never all zero). */
static inline void fill_page(void *page, uint64_t seed)
{
	uint64_t *w = page;

	for (long i = 0; i < page_size / 8; i++)
		w[i] = (seed + 1) * 0x9e3779b97f4a7c15ULL + i;
}

/* Seconds on the monotonic clock. */
static inline double sp_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* FNV-1a of a page: the shadow checksum of the integrity tests. */
static inline uint64_t page_sum(const void *page)
{
	const unsigned char *p = page;
	uint64_t h = 0xcbf29ce484222325ULL;

	for (long i = 0; i < page_size; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

/*
 * A child process driven over two pipes: it runs @setup, reports ready,
 * then waits; each byte the parent sends runs @step(byte) in the child,
 * whose one-byte answer goes back; byte 0 makes it exit.
 */
struct child {
	pid_t pid;
	int to, from;
};

static inline struct child spawn(void (*setup)(void *), int (*step)(int, void *),
				 void *arg)
{
	int down[2], up[2];
	struct child c;
	char b;

	if (pipe(down) || pipe(up))
		tap_bail("pipe: %s", strerror(errno));
	c.pid = fork();
	if (c.pid < 0)
		tap_bail("fork: %s", strerror(errno));
	if (!c.pid) {
		close(down[1]);
		close(up[0]);
		setup(arg);
		b = 1;
		if (write(up[1], &b, 1) != 1)
			_exit(1);
		while (read(down[0], &b, 1) == 1 && b) {
			b = (char)step(b, arg);
			if (write(up[1], &b, 1) != 1)
				_exit(1);
		}
		_exit(0);
	}
	close(down[0]);
	close(up[1]);
	c.to = down[1];
	c.from = up[0];
	if (read(c.from, &b, 1) != 1)
		tap_bail("child %d did not start", c.pid);
	return c;
}

/* A child's step that does nothing (the child only holds its memory). */
static inline int sp_nop_step(int cmd, void *arg)
{
	(void)cmd;
	(void)arg;
	return 1;
}

/* Ask the child to run step @cmd; returns its answer (-1 if it died). */
static inline int ask(struct child *c, int cmd)
{
	char b = (char)cmd;

	if (write(c->to, &b, 1) != 1 || read(c->from, &b, 1) != 1)
		return -1;
	return b;
}

static inline int reap_child(struct child *c)
{
	char b = 0;
	int status;

	if (write(c->to, &b, 1) != 1)
		kill(c->pid, SIGKILL);
	close(c->to);
	close(c->from);
	waitpid(c->pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/*
 * Objects allocated in slab cache @name (samepage_rmap_item, ...): exact,
 * because the cache is shrunk first (per-CPU slabs flushed, empty slabs
 * freed). -1 if there is no such cache.
 */
static inline long slab_objects(const char *name)
{
	char path[256], line[512];
	long active = -1;
	size_t len = strlen(name);
	FILE *f;

	snprintf(path, sizeof(path), "/sys/kernel/slab/%s/shrink", name);
	set_knob_in("", path, "1");
	f = fopen("/proc/slabinfo", "r");
	if (!f)
		tap_bail("/proc/slabinfo: %s", strerror(errno));
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, name, len) && line[len] == ' ')
			sscanf(line + len, "%ld", &active);
	fclose(f);
	return active;
}

static const char *const sp_caches[] = {
	"samepage_rmap_item", "samepage_stable_node", "samepage_mm_slot",
};

/* Objects of every samepage cache, summed; bails if one is missing. */
static inline long sp_slab_objects(void)
{
	long sum = 0;

	for (unsigned int i = 0; i < sizeof(sp_caches) / sizeof(sp_caches[0]); i++) {
		long n = slab_objects(sp_caches[i]);

		if (n < 0)
			tap_bail("no slab cache %s in /proc/slabinfo", sp_caches[i]);
		sum += n;
	}
	return sum;
}

static inline void sp_test_init(int plan)
{
	page_size = sysconf(_SC_PAGESIZE);
	tap_plan(plan);
}

#endif /* SAMEPAGE_TEST_SP_H */
