// SPDX-License-Identifier: GPL-2.0
/*
 * Hostile input to /dev/samepage: 100,000 seeded random ioctl calls, as
 * root and then as an unprivileged user, with random command numbers
 * (samepage's and others), sizes (0, short, exact, long, over a page),
 * trailing garbage, pointers (NULL, unmapped, PROT_NONE, kernel addresses,
 * misaligned), address ranges (unaligned, empty, wrapping, kernel) and pids
 * (kernel threads, zombies, self, other users, nonexistent, negative).
 * Every call must answer 0 or an errno; no crash, no kernel warning (the
 * VM runner checks the log); an unprivileged caller never acts on root's
 * process; and the counters are sane afterwards. Also hostile sysfs writes
 * to every file of the tree.
 */
#include <dirent.h>
#include "sp.h"

#define CALLS 50000	/* per identity */

static uint64_t rng = 88172645463325252ULL;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static const unsigned int cmds[] = {
	SAMEPAGE_IOC_VERSION, SAMEPAGE_IOC_REGISTER, SAMEPAGE_IOC_UNREGISTER,
	SAMEPAGE_IOC_MERGE_RANGE, SAMEPAGE_IOC_PROC_STAT, SAMEPAGE_IOC_STATS,
	SAMEPAGE_IOC_LIST,
};

static char *good, *none;	/* a real buffer, a PROT_NONE page */
static pid_t zombie, root_pid;

static void *pick_pointer(char *arg)
{
	switch (rnd() % 10) {
	case 0: return NULL;
	case 1: return none;
	case 2: return (void *)0xffffffff81000000ULL;
	case 3: return (void *)(uintptr_t)(rnd() & ~0xfffULL);
	case 4: return arg + 1;		/* misaligned */
	default: return arg;
	}
}

static uint64_t pick_addr(void)
{
	switch (rnd() % 8) {
	case 0: return 0;
	case 1: return (uintptr_t)good + (rnd() % 8192);
	case 2: return 0xffff800000000000ULL + (rnd() & ~0xfffULL);
	case 3: return -(uint64_t)page_size;
	case 4: return rnd();
	default: return (uintptr_t)good + (rnd() % 16) * page_size;
	}
}

static uint64_t pick_len(void)
{
	switch (rnd() % 6) {
	case 0: return 0;
	case 1: return rnd() % 8191;
	case 2: return -(uint64_t)page_size;
	case 3: return rnd();
	default: return (1 + rnd() % 16) * page_size;
	}
}

static int32_t pick_pid(void)
{
	switch (rnd() % 9) {
	case 0: return 0;
	case 1: return getpid();
	case 2: return 2;		/* kthreadd */
	case 3: return zombie;
	case 4: return root_pid;
	case 5: return -(int32_t)(rnd() % 100);
	case 6: return 0x7fffffff;
	case 7: return 1;
	default: return (int32_t)(rnd() % 400);
	}
}

/* One random call; returns 1 if it answered 0 or an errno, as required. */
static int one_call(int fd)
{
	static char arg[8192] __attribute__((aligned(64)));
	uint32_t sizes[] = { 0, 4, 8, 16, 24, 31, 32, 40, 64, 320, 448, 4096, 4097, 100000 };
	unsigned int cmd;
	uint32_t *w = (uint32_t *)arg;
	long r;

	for (size_t i = 0; i < sizeof(arg) / 8; i++)
		((uint64_t *)arg)[i] = rnd() % 4 ? 0 : rnd();
	cmd = rnd() % 8 ? cmds[rnd() % 7] : (unsigned int)rnd();
	if (rnd() % 5 == 0)
		cmd = _IOC(_IOC_DIR(cmd), SAMEPAGE_IOC_MAGIC, rnd() % 16, rnd() % 1024);
	w[0] = sizes[rnd() % (sizeof(sizes) / sizeof(sizes[0]))];
	w[1] = rnd() % 3 ? 0 : (uint32_t)rnd();		/* flags / pid */
	w[2] = (uint32_t)pick_pid();
	w[3] = rnd() % 4 ? 0 : (uint32_t)rnd();
	((uint64_t *)arg)[2] = pick_addr();
	((uint64_t *)arg)[3] = pick_len();
	if (_IOC_NR(cmd) == _IOC_NR(SAMEPAGE_IOC_PROC_STAT))
		((int32_t *)arg)[1] = pick_pid();
	if (_IOC_NR(cmd) == _IOC_NR(SAMEPAGE_IOC_LIST)) {
		w[1] = rnd() % 2000;
		w[2] = rnd() % 2 ? 0 : (uint32_t)rnd();
		w[3] = rnd() % 2 ? 32 : (uint32_t)rnd() % 8192;
		((uint64_t *)arg)[2] = (uintptr_t)pick_pointer(good);
	}
	errno = 0;
	r = ioctl(fd, cmd, pick_pointer(arg));
	return r == 0 || (r == -1 && errno > 0 && errno < 4096);
}

static void fuzz(const char *who, long *bad)
{
	int fd = open(SAMEPAGE_DEVICE, O_RDONLY);

	for (int i = 0; i < CALLS; i++)
		*bad += !one_call(fd);
	close(fd);
	tap_diag("%s: %d calls", who, CALLS);
}

/* Every file of the tree gets hostile writes; each answers a count or an errno. */
static int sysfs_hostile(long *tried)
{
	static const char *const vals[] = {
		"", "-1", "18446744073709551616", "99999999999999999999999", "abc",
		"0x10", " 1", "1 ", "\n\n", "1\0002", "%s%s%n", "-0", "+1", "2147483648",
	};
	char big[8192];
	struct dirent *de;
	DIR *d = opendir(SP_TREE);
	int ok = 1;

	memset(big, '9', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	while (d && (de = readdir(d))) {
		char path[300];

		if (de->d_name[0] == '.' || !strcmp(de->d_name, "run"))
			continue;	/* run=1/2 would scan/unmerge: covered elsewhere */
		snprintf(path, sizeof(path), SP_TREE "%s", de->d_name);
		for (size_t i = 0; i <= sizeof(vals) / sizeof(vals[0]); i++) {
			const char *v = i < sizeof(vals) / sizeof(vals[0]) ? vals[i] : big;
			int fd = open(path, O_WRONLY);
			ssize_t r;

			if (fd < 0) {	/* read-only counter: open refused is the answer */
				ok &= errno == EACCES;
				(*tried)++;
				continue;
			}
			r = write(fd, v, strlen(v));
			ok &= r >= 0 || (errno > 0 && errno < 4096);
			close(fd);
			(*tried)++;
		}
	}
	if (d)
		closedir(d);
	return ok;
}

int main(void)
{
	long bad = 0, tried = 0;
	struct samepage_stats st = { .size = sizeof(st) };
	pid_t pid;
	int status, fd;

	sp_test_init(5);
	sp_reset();
	good = map_pages(16);
	none = mmap(NULL, page_size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	for (int i = 0; i < 16; i++)
		fill_page(good + i * page_size, i % 2);
	root_pid = getpid();
	zombie = fork();
	if (!zombie)
		_exit(0);
	usleep(100000);

	fuzz("root", &bad);
	tap_ok(bad == 0, "root: %d random ioctls, each answered 0 or an errno (%ld not)",
	       CALLS, bad);
	sp_range(0, 0, NULL, 0);	/* whatever the fuzzing registered of root */
	sp_unregister_others();		/* and of others: init, kthreadd's pid, ... */

	pid = fork();
	if (!pid) {
		long ubad = 0;

		if (setgid(1000) || setuid(1000))
			_exit(100);
		fuzz("uid 1000", &ubad);
		_exit(ubad ? 1 : 0);
	}
	waitpid(pid, &status, 0);
	tap_ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	       "uid 1000: %d random ioctls, each answered 0 or an errno", CALLS);
	{
		struct samepage_proc_stat ps = { .size = sizeof(ps) };

		fd = open(SAMEPAGE_DEVICE, O_RDONLY);
		status = ioctl(fd, SAMEPAGE_IOC_PROC_STAT, &ps);
		tap_ok(status == 0 && ps.mergeable == 0 && ps.rmap_items == 0,
		       "the unprivileged fuzzer never registered root's process");
		close(fd);
	}
	status = sysfs_hostile(&tried);
	tap_ok(status && tried > 100, "%ld hostile sysfs writes, each answered", tried);
	must_set(SP_TREE, "run", "2");
	fd = open(SAMEPAGE_DEVICE, O_RDONLY);
	tap_ok(ioctl(fd, SAMEPAGE_IOC_STATS, &st) == 0 && st.kernel_pages_allocated == 0 &&
	       st.pages_shared == 0 && st.pages_sharing == 0 && st.ksm_zero_pages == 0,
	       "after run=2 every counter is back to 0");
	close(fd);
	waitpid(zombie, NULL, 0);
	sp_restore();
	set_knob("max_kernel_pages", "0");
	set_knob("stable_node_chains_prune_millisecs", "2000");
	return tap_done();
}
