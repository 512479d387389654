// SPDX-License-Identifier: GPL-2.0
/*
 * sprun: one measured run of a workload under one KSM.
 *
 *   sprun --tree ksm|samepage [--pages-to-scan N] [--sleep-ms MS]
 *         [--timeout S] [--poll-ms MS] [--cow N] [--preset NAME]
 *         [--param VALUE] [--label TREE] [--set KNOB=VALUE]... -- SPGEN [ARGS...]
 *
 * Stops both scanners and unmerges everything (run=2, then 0: in-tree KSM
 * must not be at run=1 for samepage to follow MADV_MERGEABLE), sets
 * pages_to_scan and sleep_millisecs of the chosen tree (nothing else: its
 * smart_scan, use_zero_pages, max_page_sharing stay at their defaults),
 * starts the generator and waits for "ready", then sets run=1 and samples
 * the tree's counters and its scanner thread's CPU time (ksmd or samepaged,
 * utime+stime, at ns resolution from /proc/PID/schedstat) every --poll-ms.
 *
 * Converged: pages_sharing took its final value at a sample where
 * full_scans read F, and then full_scans reached F+3, so two whole passes
 * ran after the change without changing it. Wall time and CPU to converge
 * are taken at the sample that first showed the final value. Not converged
 * within --timeout: reported as converged=0 with the figures of the end.
 * Then run=0, the generator times copy-on-write breaks of merged pages
 * ("cow N"), exits, and the tree unmerges (run=2, then 0).
 *
 * Under in-tree KSM, samepage's follow_madvise is 0 for the run (restored
 * at the end), so that samepage takes no part in it.
 *
 * --set writes another knob of the tree under test for this run (restored
 * at the end), e.g. samepage's thp_min_mergeable; --label is what the
 * output calls the tree (default: ksm or samepage). Huge pages: the
 * AnonHugePages of /proc/meminfo when the generator is ready and when the
 * run converged, and the growth of /proc/vmstat's thp_split_page.
 *
 * Output (CSV lines, for scripts/bench): one "series,..." per sample and one
 * "result,..." at the end; fields are listed by --help and in
 * Documentation/benchmarks.md. A counter the kernel lacks is left empty.
 */
#include <ctype.h>
#include <dirent.h>
#include <signal.h>
#include <sys/wait.h>
#include "bench.h"

#define PROG "sprun"

struct sample {
	double t, cpu;
	long long full_scans, sharing, shared, profit, scanned;
};

#define MAX_SET 8

struct opts {
	const char *tree, *dir, *thread, *preset, *param, *label;
	char *set[MAX_SET], *old[MAX_SET];
	int nset;
	const char *pages_to_scan, *sleep_ms;
	double timeout, poll_ms;
	int cow;
	char **gen;
};

static void usage(void)
{
	fprintf(stderr,
		"usage: sprun --tree ksm|samepage [--pages-to-scan N] [--sleep-ms MS]\n"
		"             [--timeout S] [--poll-ms MS] [--cow N] [--preset NAME]\n"
		"             [--param VALUE] [--label TREE] [--set KNOB=VALUE]... -- SPGEN [ARGS...]\n"
		"prints series,PRESET,PARAM,TREE,t_s,full_scans,pages_sharing,general_profit,cpu_s\n"
		"and    result,PRESET,PARAM,TREE,converged,wall_s,cpu_s,pages_scanned,full_scans,\n"
		"       pages_shared,pages_sharing,general_profit,pages_per_cpu_s,cow_ns,cow_n,\n"
		"       cpu_total_s,smart_scan,pages_to_scan,sleep_millisecs,thp_before_kib,\n"
		"       thp_after_kib,thp_splits,cow_p99_ns,item_bytes\n");
	exit(2);
}

/* The PID of the kernel thread named @comm, 0 if none. */
static pid_t find_thread(const char *comm)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	pid_t pid = 0;

	while (d && !pid && (e = readdir(d))) {
		char path[300], buf[64] = "";
		FILE *f;

		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(buf, sizeof(buf), f)) {
			buf[strcspn(buf, "\n")] = 0;
			if (!strcmp(buf, comm))
				pid = atoi(e->d_name);
		}
		fclose(f);
	}
	if (d)
		closedir(d);
	return pid;
}

/*
 * CPU time of @pid in seconds, -1 if unreadable: its sum_exec_runtime
 * from /proc/PID/schedstat (ns), which utime + stime of /proc/PID/stat
 * are scaled to add up to, but only in 10 ms ticks; those ticks if the
 * kernel has no schedstat (CONFIG_SCHED_INFO off).
 */
static double thread_cpu(pid_t pid)
{
	char path[64], buf[1024];
	unsigned long long ut, st, ns;
	const char *p;
	ssize_t n;
	FILE *f;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/schedstat", pid);
	f = fopen(path, "re");
	if (f) {
		int ok = fscanf(f, "%llu", &ns) == 1;

		fclose(f);
		if (ok)
			return ns / 1e9;
	}
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	p = strrchr(buf, ')');	/* comm may hold spaces: fields follow its ')' */
	/* after ')': state(3) ppid pgrp session tty tpgid flags minflt cminflt
	 * majflt cmajflt utime(14) stime(15) */
	if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
			 &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / sysconf(_SC_CLK_TCK);
}

/* The number after "@key" in @file (e.g. "AnonHugePages:"), KNOB_NONE if none. */
static long long proc_field(const char *file, const char *key)
{
	char line[256];
	long long v = KNOB_NONE;
	size_t n = strlen(key);
	FILE *f = fopen(file, "re");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, n) && (line[n] == ' ' || line[n] == '\t')) {
			v = atoll(line + n);
			break;
		}
	if (f)
		fclose(f);
	return v;
}

static long long anon_huge_kib(void)
{
	return proc_field("/proc/meminfo", "AnonHugePages:");
}

static long long thp_splits(void)
{
	return proc_field("/proc/vmstat", "thp_split_page");
}

static void sample(const struct opts *o, pid_t thread, struct sample *s)
{
	s->t = now_s();
	s->cpu = thread_cpu(thread);
	s->full_scans = knob_read(o->dir, "full_scans");
	s->sharing = knob_read(o->dir, "pages_sharing");
	s->shared = knob_read(o->dir, "pages_shared");
	s->profit = knob_read(o->dir, "general_profit");
	s->scanned = knob_read(o->dir, "pages_scanned");
}

/*
 * What @dir's tree charges per record (rmap_item) in general_profit, from
 * its own figures: (pages_sharing + ksm_zero_pages) pages less
 * general_profit, over the records (shared + sharing + unshared +
 * volatile, which is rmap_items by in-tree's definition of volatile).
 * -1 where the kernel lacks a figure (6.1 has no general_profit).
 */
static double record_bytes(const char *dir)
{
	long long profit = knob_read(dir, "general_profit");
	long long sharing = knob_read(dir, "pages_sharing");
	long long zero = knob_read(dir, "ksm_zero_pages");
	long long shared = knob_read(dir, "pages_shared");
	long long unshared = knob_read(dir, "pages_unshared");
	long long vol = knob_read(dir, "pages_volatile");
	long long items = shared + sharing + unshared + vol;

	if (profit == KNOB_NONE || sharing == KNOB_NONE || shared == KNOB_NONE ||
	    unshared == KNOB_NONE || vol == KNOB_NONE || items <= 0)
		return -1;
	if (zero == KNOB_NONE)
		zero = 0;
	return ((sharing + zero) * (double)sysconf(_SC_PAGESIZE) - profit) / items;
}

static void must_write(const char *dir, const char *name, const char *val)
{
	char what[300];
	int err = knob_write(dir, name, val);

	if (err) {
		snprintf(what, sizeof(what), "%s%s <- %s: %s", dir, name, val, strerror(-err));
		die(PROG, "%s", what);
	}
}

/* Stop @dir's scanner and give back everything it merged. */
static void quiesce(const char *dir)
{
	must_write(dir, "run", "2");
	must_write(dir, "run", "0");
}

/* A counter difference as a CSV field: empty when the kernel lacks it. */
static void field_delta(long long end, long long start)
{
	if (end != KNOB_NONE && start != KNOB_NONE)
		printf(",%lld", end - start);
	else
		printf(",");
}

static void field_value(long long v)
{
	if (v != KNOB_NONE)
		printf(",%lld", v);
	else
		printf(",");
}

struct gen {
	pid_t pid;
	FILE *in, *out;
};

static struct gen start_gen(char **argv)
{
	int to[2], from[2];
	struct gen g;

	if (pipe(to) || pipe(from))
		die(PROG, "pipe: %s", strerror(errno));
	g.pid = fork();
	if (g.pid < 0)
		die(PROG, "fork: %s", strerror(errno));
	if (!g.pid) {
		dup2(to[0], 0);
		dup2(from[1], 1);
		close(to[1]);
		close(from[0]);
		execvp(argv[0], argv);
		fprintf(stderr, "sprun: exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(to[0]);
	close(from[1]);
	g.in = fdopen(to[1], "w");
	g.out = fdopen(from[0], "r");
	return g;
}

static int gen_line(struct gen *g, char *buf, size_t len, const char *prefix)
{
	while (fgets(buf, (int)len, g->out))
		if (!strncmp(buf, prefix, strlen(prefix)))
			return 0;
	return -1;
}

int main(int argc, char **argv)
{
	struct opts o = { .preset = "-", .param = "-", .pages_to_scan = "2000",
			  .sleep_ms = "20", .timeout = 600, .poll_ms = 150, .cow = 2000 };
	struct sample s0, s, conv;
	long long huge0, huge1, split0, split1, follow;
	long long change_scans;
	unsigned long long cow_ns = 0, cow_p99 = 0;
	int cow_n = 0, converged = 0, status;
	char line[256];
	struct gen g;
	pid_t thread;
	double next, item_bytes;

	signal(SIGPIPE, SIG_IGN);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--")) {
			o.gen = argv + i + 1;
			break;
		}
		if (!v)
			usage();
		i++;
		if (!strcmp(a, "--tree"))
			o.tree = v;
		else if (!strcmp(a, "--pages-to-scan"))
			o.pages_to_scan = v;
		else if (!strcmp(a, "--sleep-ms"))
			o.sleep_ms = v;
		else if (!strcmp(a, "--timeout"))
			o.timeout = parse_num(PROG, a, v);
		else if (!strcmp(a, "--poll-ms"))
			o.poll_ms = parse_num(PROG, a, v);
		else if (!strcmp(a, "--cow"))
			o.cow = (int)parse_num(PROG, a, v);
		else if (!strcmp(a, "--preset"))
			o.preset = v;
		else if (!strcmp(a, "--param"))
			o.param = v;
		else if (!strcmp(a, "--label"))
			o.label = v;
		else if (!strcmp(a, "--set") && o.nset < MAX_SET && strchr(v, '='))
			o.set[o.nset++] = strdup(v);
		else
			usage();
	}
	if (!o.tree || !o.gen || !o.gen[0])
		usage();
	if (!strcmp(o.tree, "ksm")) {
		o.dir = KSM_DIR;
		o.thread = "ksmd";
	} else if (!strcmp(o.tree, "samepage")) {
		o.dir = SP_DIR;
		o.thread = "samepaged";
	} else {
		usage();
	}
	if (!o.label)
		o.label = o.tree;

	/* a clean start: neither KSM runs, nothing is merged */
	quiesce(KSM_DIR);
	if (access(SP_DIR, F_OK) == 0)
		quiesce(SP_DIR);
	/*
	 * Under in-tree KSM, samepage must not follow the generator's
	 * MADV_MERGEABLE: its slot would put samepage's mmu notifier on the
	 * measured processes, and in-tree's figures would carry samepage's cost.
	 */
	follow = knob_read(SP_DIR, "follow_madvise");
	if (follow != KNOB_NONE && strcmp(o.tree, "samepage"))
		must_write(SP_DIR, "follow_madvise", "0");
	must_write(o.dir, "pages_to_scan", o.pages_to_scan);
	must_write(o.dir, "sleep_millisecs", o.sleep_ms);
	for (int i = 0; i < o.nset; i++) {
		char *eq = strchr(o.set[i], '=');
		long long old;

		*eq = 0;
		old = knob_read(o.dir, o.set[i]);
		if (old == KNOB_NONE)
			die(PROG, "--set: no knob %s", o.set[i]);
		if (asprintf(&o.old[i], "%lld", old) < 0)
			die(PROG, "%s", "out of memory");
		must_write(o.dir, o.set[i], eq + 1);
	}

	g = start_gen(o.gen);
	if (gen_line(&g, line, sizeof(line), "ready"))
		die(PROG, "%s", "the generator did not become ready");

	huge0 = anon_huge_kib();
	split0 = thp_splits();
	must_write(o.dir, "run", "1");
	for (int i = 0; i < 20 && !(thread = find_thread(o.thread)); i++)
		usleep(100000);	/* a scanner thread may start only with run=1 */
	if (!thread)
		die(PROG, "no kernel thread named %s", o.thread);
	sample(&o, thread, &s0);
	conv = s = s0;
	change_scans = s0.full_scans;
	for (next = s0.t;;) {
		next += o.poll_ms / 1000.0;
		while (now_s() < next)
			usleep((useconds_t)((next - now_s()) * 1e6) + 1);
		sample(&o, thread, &s);
		printf("series,%s,%s,%s,%.3f,%lld,%lld", o.preset, o.param, o.label, s.t - s0.t,
		       s.full_scans - s0.full_scans, s.sharing);
		field_value(s.profit);
		printf(",%.4f\n", s.cpu - s0.cpu);
		if (s.sharing != conv.sharing) {
			conv = s;
			change_scans = s.full_scans;
		}
		if (s.full_scans >= change_scans + 3 && s.full_scans >= s0.full_scans + 3) {
			converged = 1;
			break;
		}
		if (s.t - s0.t > o.timeout)
			break;
	}
	huge1 = anon_huge_kib();
	split1 = thp_splits();
	must_write(o.dir, "run", "0");
	item_bytes = record_bytes(o.dir);
	if (!converged)
		conv = s;

	fprintf(g.in, "cow %d\n", o.cow);
	fflush(g.in);
	if (!gen_line(&g, line, sizeof(line), "cow"))
		sscanf(line, "cow median_ns=%llu n=%d p99_ns=%llu", &cow_ns, &cow_n, &cow_p99);
	fprintf(g.in, "quit\n");
	fclose(g.in);
	fclose(g.out);
	waitpid(g.pid, &status, 0);
	quiesce(o.dir);
	for (int i = 0; i < o.nset; i++)
		must_write(o.dir, o.set[i], o.old[i]);
	if (follow != KNOB_NONE && strcmp(o.tree, "samepage"))
		must_write(SP_DIR, "follow_madvise", follow ? "1" : "0");

	printf("result,%s,%s,%s,%d,%.3f,%.4f", o.preset, o.param, o.label, converged,
	       conv.t - s0.t, conv.cpu - s0.cpu);
	field_delta(conv.scanned, s0.scanned);
	printf(",%lld,%lld,%lld", conv.full_scans - s0.full_scans, conv.shared, conv.sharing);
	field_value(conv.profit);
	if (s.scanned != KNOB_NONE && s.cpu > s0.cpu)
		printf(",%.0f", (s.scanned - s0.scanned) / (s.cpu - s0.cpu));
	else
		printf(",");
	printf(",%llu,%d,%.4f", cow_ns, cow_n, s.cpu - s0.cpu);
	field_value(knob_read(o.dir, "smart_scan"));
	printf(",%s,%s", o.pages_to_scan, o.sleep_ms);
	field_value(huge0);
	field_value(huge1);
	field_delta(split1, split0);
	printf(",%llu", cow_p99);
	if (item_bytes >= 0)
		printf(",%.1f\n", item_bytes);
	else
		printf(",\n");
	return !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}
