// SPDX-License-Identifier: GPL-2.0
/*
 * samepagectl run -- PROG: PROG's pages are merged with no madvise() in
 * PROG, and the registration is inherited like PR_SET_MEMORY_MERGE through
 * a fork + exec chain. When the processes exit, samepage frees their
 * slots, rmap_items and kpages at once (its mmu notifier), not at its next
 * pass, and its slab caches are back to where they were.
 *
 * PROG is this program: "--tree FD" maps NPROC pages, forks a child that
 * execs "--leaf FD" (which maps NPROC pages of the same content), and each
 * writes its pid to FD.
 */
#include "sp.h"

#define NPROC	16

/* What each process under samepagectl run reports: its pid, pages, role. */
struct holder {
	pid_t pid;
	char *pages;
	char role[8];	/* "tree" (exec'd by samepagectl run) or "leaf" (forked, exec'd) */
};

static void hold(int fd, const char *role)
{
	struct holder h = { getpid(), map_pages(NPROC), "" };

	snprintf(h.role, sizeof(h.role), "%s", role);
	for (int i = 0; i < NPROC; i++)
		fill_page(h.pages + i * page_size, 63);
	if (write(fd, &h, sizeof(h)) != sizeof(h))
		_exit(1);
	for (;;)
		pause();
}

static struct samepage_proc_stat proc_stat(pid_t pid)
{
	struct samepage_proc_stat ps = { .size = sizeof(ps), .pid = pid };

	if (ioctl(sp_dev(), SAMEPAGE_IOC_PROC_STAT, &ps))
		ps.merge_any = 99;	/* shows in the message */
	return ps;
}

/* Processes samepage tracks (LIST with no room answers the count). */
static long tracked(void)
{
	struct samepage_list l = { .size = sizeof(l),
				   .entry_size = sizeof(struct samepage_proc_entry) };

	return ioctl(sp_dev(), SAMEPAGE_IOC_LIST, &l) ? -errno : (long)l.count;
}

static int hook_active(const char *feature)
{
	char hooks[512] = "", want[64];
	FILE *f = fopen(SP_TREE "hooks", "r");

	if (f && !fgets(hooks, sizeof(hooks), f))
		hooks[0] = '\0';
	if (f)
		fclose(f);
	snprintf(want, sizeof(want), "%s:", feature);
	return strstr(hooks, want) != NULL;
}

int main(int argc, char **argv)
{
	struct samepage_proc_stat ps[2];
	long slab0, scans, gone = -1;
	int fds[2], ok = 1, one_pfn = 1;
	struct holder h[2];
	pid_t runner;
	uint64_t pfn;
	char fd[16];

	page_size = sysconf(_SC_PAGESIZE);
	if (argc == 3 && !strcmp(argv[1], "--leaf"))
		hold(atoi(argv[2]), "leaf");
	if (argc == 3 && !strcmp(argv[1], "--tree")) {
		if (!fork()) {
			execl(argv[0], argv[0], "--leaf", argv[2], (char *)NULL);
			_exit(1);
		}
		hold(atoi(argv[2]), "tree");
	}
	sp_test_init(8);
	tap_ok(hook_active("inherit_fork") && hook_active("inherit_exec"),
	       "hooks inherit_fork and inherit_exec are active");
	sp_reset();
	slab0 = sp_slab_objects();
	if (pipe(fds))
		tap_bail("pipe: %s", strerror(errno));
	runner = fork();
	if (!runner) {
		setpgid(0, 0);
		snprintf(fd, sizeof(fd), "%d", fds[1]);
		execl("/bin/samepagectl", "samepagectl", "run", "--", argv[0], "--tree",
		      fd, (char *)NULL);
		_exit(127);
	}
	setpgid(runner, runner);
	close(fds[1]);
	for (int i = 0; i < 2; i++)
		if (read(fds[0], &h[i], sizeof(h[i])) != sizeof(h[i]))
			tap_bail("the processes under samepagectl run did not start");

	run_passes(SP_TREE, 4);
	pfn = pfn_of(h[0].pid, h[0].pages);
	for (int i = 0; i < 2; i++)
		for (int j = 0; j < NPROC; j++)
			one_pfn &= pfn_of(h[i].pid, h[i].pages + j * page_size) == pfn;
	tap_ok(one_pfn && pfn, "no madvise: the %d identical pages of both processes map one page",
	       2 * NPROC);
	/* (their other identical pages, of the same binary, merge as well) */
	for (int i = 0; i < 2; i++) {
		ps[i] = proc_stat(h[i].pid);
		ok &= ps[i].merge_any == 1 && ps[i].merging_pages >= NPROC;
	}
	tap_ok(ok, "forked+exec'd child and its parent registered whole: merge_any %u/%u, merging %llu/%llu (%s/%s)",
	       ps[0].merge_any, ps[1].merge_any,
	       (unsigned long long)ps[0].merging_pages, (unsigned long long)ps[1].merging_pages,
	       h[0].role, h[1].role);

	/* one more pass, then samepaged sleeps for a minute: no pass below */
	must_set(SP_TREE, "sleep_millisecs", "60000");
	must_set(SP_TREE, "run", "1");
	if (wait_scans(SP_TREE, 1))
		tap_bail("no scan");
	scans = knob("full_scans");
	kill(-runner, SIGKILL);
	waitpid(runner, NULL, 0);
	for (int i = 0; i < 50 && gone; i++) {	/* 5 s */
		struct samepage_stats st = { .size = sizeof(st) };

		usleep(100000);
		if (ioctl(sp_dev(), SAMEPAGE_IOC_STATS, &st))
			tap_bail("STATS: %s", strerror(errno));
		gone = (long)(st.rmap_items + st.kernel_pages_allocated);
	}
	tap_ok(gone == 0, "after the processes exit: rmap_items and kernel_pages_allocated are 0 (%ld left)",
	       gone);
	tap_ok(knob("full_scans") == scans, "... without a pass (full_scans %ld, was %ld)",
	       knob("full_scans"), scans);
	tap_ok(tracked() == 0, "no process is tracked any more (%ld)", tracked());
	must_set(SP_TREE, "run", "0");
	tap_ok(sp_slab_objects() == slab0, "samepage's slab objects back to baseline (%ld, was %ld)",
	       sp_slab_objects(), slab0);
	tap_ok(knob("pages_shared") == 0 && knob("pages_sharing") == 0,
	       "pages_shared and pages_sharing are 0");
	sp_restore();
	return tap_done();
}
