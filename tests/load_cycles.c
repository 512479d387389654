// SPDX-License-Identifier: GPL-2.0
/*
 * 100 cycles of: (samepage loaded) a workload merges pages -> rmmod is
 * refused (EWOULDBLOCK) while kpages exist -> run=2 -> rmmod succeeds ->
 * insmod. The workload process stays alive and registered across the
 * unload. One more cycle unloads while a workload keeps merging during
 * run=2: rmmod succeeds once it stops. Ends loaded, with no kpage.
 */
#include <sys/syscall.h>
#include "sp.h"

#define CYCLES 100

static int rmmod(void)
{
	return syscall(SYS_delete_module, "samepage", O_NONBLOCK) ? errno : 0;
}

static int insmod(void)
{
	int fd = open("/samepage.ko", O_RDONLY), err;

	err = fd < 0 || syscall(SYS_finit_module, fd, "", 0) ? errno : 0;
	if (fd >= 0)
		close(fd);
	return err;
}

/* A process that merges 64 duplicate pages (once, or @forever) and waits. */
static pid_t workload(int forever, int ready_fd)
{
	pid_t pid = fork();

	if (!pid) {
		struct samepage_merge_range m = { .size = sizeof(m) };
		char *buf = map_pages(64);
		int fd;

		for (int i = 0; i < 64; i++)
			fill_page(buf + i * page_size, 8);
		m.start = (uintptr_t)buf;
		m.len = 64 * page_size;
		do {
			fd = open(SAMEPAGE_DEVICE, O_RDONLY);
			if (fd >= 0) {
				m.merged = 0;
				ioctl(fd, SAMEPAGE_IOC_MERGE_RANGE, &m);
				close(fd);	/* an open fd would hold the module */
			}
			if (ready_fd >= 0 && write(ready_fd, "x", 1) == 1)
				ready_fd = -1;
		} while (forever);
		pause();
		_exit(0);
	}
	return pid;
}

int main(void)
{
	int refused = 0, unloaded = 0, loaded = 0, p[2], err;
	long kpages = -1, refcnt = -1;
	pid_t w;
	char b;

	sp_test_init(4);
	sp_reset();
	sp_close_dev();
	for (int c = 0; c < CYCLES; c++) {
		if (pipe(p))
			tap_bail("pipe");
		w = workload(0, p[1]);
		if (read(p[0], &b, 1) != 1)
			tap_bail("workload did not start");
		close(p[0]);
		close(p[1]);
		refused += rmmod() == EWOULDBLOCK;
		must_set(SP_TREE, "run", "2");
		unloaded += rmmod() == 0;
		loaded += insmod() == 0;
		kill(w, SIGKILL);
		waitpid(w, NULL, 0);
	}
	tap_ok(refused == CYCLES, "rmmod refused with EWOULDBLOCK while merged: %d of %d",
	       refused, CYCLES);
	tap_ok(unloaded == CYCLES && loaded == CYCLES,
	       "after run=2, rmmod then insmod: %d and %d of %d", unloaded, loaded, CYCLES);

	/* unload while a workload keeps merging */
	if (pipe(p))
		tap_bail("pipe");
	w = workload(1, p[1]);
	if (read(p[0], &b, 1) != 1)
		tap_bail("workload did not start");
	must_set(SP_TREE, "run", "2");	/* the workload merges again at once */
	rmmod();			/* may or may not win the race */
	kill(w, SIGKILL);
	waitpid(w, NULL, 0);
	err = 0;
	if (access(SP_TREE, F_OK) == 0) {
		/* run is 2 already (a no-op write, as in-tree); the kpage the
		 * killed workload mapped is freed by samepaged's idle prune */
		wait_knob(SP_TREE, "kernel_pages_allocated", 0);
		kpages = knob("kernel_pages_allocated");
		refcnt = knob_in("/sys/module/samepage/", "refcnt");
		err = rmmod();
	}
	tap_ok(err == 0, "with the merging workload gone, rmmod succeeds (%s; refcnt %ld, kpages %ld)",
	       strerror(err), refcnt, kpages);
	tap_ok(insmod() == 0 && knob("kernel_pages_allocated") == 0,
	       "samepage loads again, with no kpage");
	return tap_done();
}
