// SPDX-License-Identifier: GPL-2.0
/*
 * samepagectl wait: --pages N returns once N pages merged; --converged
 * returns 0 once pages_sharing held for N full passes, and 1 at its timeout
 * while a workload keeps merging new pages; its messages and exit status
 * are exact; usage errors exit 2; a stopped samepage is an error (1).
 */
#include <stdarg.h>
#include "sp.h"
#include "shell.h"


#define NPAGES 96	/* 64 identical, 32 unique */
#define GROW 2048	/* the changing workload's region */

/* A child with 64 identical pages and 32 unique ones, registered. */
static pid_t steady_child(int *ready)
{
	int p[2];
	pid_t pid;
	char b = 1;

	if (pipe(p))
		tap_bail("pipe: %s", strerror(errno));
	pid = fork();
	if (!pid) {
		char *buf = map_pages(NPAGES);

		for (int i = 0; i < NPAGES; i++)
			fill_page(buf + i * page_size, i < 64 ? 5 : 100 + i);
		if (sp_range(1, 0, buf, NPAGES * page_size) || write(p[1], &b, 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(p[1]);
	if (read(p[0], &b, 1) != 1)
		tap_bail("steady child did not start");
	*ready = p[0];
	return pid;
}

/* A child that fills one more page of a region with the shared content every 20 ms. */
static pid_t growing_child(void)
{
	int p[2];
	pid_t pid;
	char b = 1;

	if (pipe(p))
		tap_bail("pipe: %s", strerror(errno));
	pid = fork();
	if (!pid) {
		char *buf = map_pages(GROW);

		if (sp_range(1, 0, buf, GROW * page_size) || write(p[1], &b, 1) != 1)
			_exit(1);
		for (int i = 0; i < GROW; i++) {
			fill_page(buf + i * page_size, 5);
			usleep(20000);
		}
		pause();
		_exit(0);
	}
	close(p[1]);
	if (read(p[0], &b, 1) != 1)
		tap_bail("growing child did not start");
	close(p[0]);
	return pid;
}

static void stop(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

int main(void)
{
	unsigned long long sharing, zero, held, passes;
	char want[512];
	double t0, dt;
	long scans0;
	pid_t steady, grow;
	int rc, fd, ok;

	sp_test_init(13);
	sp_reset();
	must_set(SP_TREE, "sleep_millisecs", "20");

	tap_ok(sh("samepagectl wait") == 2 && strstr(out, "usage: samepagectl wait"),
	       "wait without --converged or --pages: usage, exit 2");
	tap_ok(sh("samepagectl wait --passes 3 --pages 1") == 2,
	       "--passes without --converged: exit 2");
	ok = sh("samepagectl wait --converged --passes 0") == 2 &&
	     !strcmp(out, "samepagectl: wait: --passes wants a number of passes from 1, not '0'\n");
	tap_ok(ok, "--passes 0: exit 2, '%s'", strtok(out, "\n"));
	ok = sh("samepagectl wait --converged --timeout 1") == 1 &&
	     !strcmp(out, "samepagectl: wait: samepage is not merging (run=0); start it with 'samepagectl set run=1'\n");
	tap_ok(ok, "run=0: exit 1, '%s'", strtok(out, "\n"));

	steady = steady_child(&fd);
	must_set(SP_TREE, "run", "1");
	rc = sh("samepagectl wait --pages 63 --timeout 120");
	ok = rc == 0 && !strcmp(out, "merged: 63 pages (at least 63)\n");
	tap_ok(ok, "--pages 63: exit 0, '%s'", strtok(out, "\n"));
	scans0 = knob("full_scans");
	rc = sh("samepagectl wait --converged --timeout 120");
	ok = rc == 0 &&
	     !strcmp(out, "converged: pages_sharing 63, ksm_zero_pages 0, unchanged for 2 full passes\n");
	tap_ok(ok, "--converged after merging settled: exit 0, '%s'", strtok(out, "\n"));
	tap_ok(knob("full_scans") >= scans0 + 3,
	       "it waited for the pass under way and 2 full ones (full_scans %ld -> %ld)", scans0,
	       knob("full_scans"));
	tap_ok(knob("pages_sharing") == 63, "pages_sharing is still 63");
	rc = sh("samepagectl wait --converged --passes 1 --pages 63 --timeout 120");
	tap_ok(rc == 0 &&
	       !strcmp(out, "converged: pages_sharing 63, ksm_zero_pages 0, unchanged for 1 full pass\nmerged: 63 pages (at least 63)\n"),
	       "--converged --passes 1 --pages 63: both lines, exit 0");
	rc = sh("samepagectl wait --pages 64 --timeout 1");
	ok = rc == 1 && !strcmp(out, "samepagectl: wait: timed out after 1 s: 63 of 64 pages merged\n");
	tap_ok(ok, "--pages 64 of 63 possible: exit 1 at the timeout, '%s'", strtok(out, "\n"));

	/* a workload that keeps merging new pages: never converged */
	grow = growing_child();
	t0 = sp_now();
	rc = sh("samepagectl wait --converged --timeout 4");
	dt = sp_now() - t0;
	held = passes = 99;
	if (sscanf(out, "samepagectl: wait: timed out after 4 s: pages_sharing %llu, ksm_zero_pages %llu, unchanged for %llu of %llu full passes",
		   &sharing, &zero, &held, &passes) == 4)
		snprintf(want, sizeof(want),
			 "samepagectl: wait: timed out after 4 s: pages_sharing %llu, ksm_zero_pages %llu, unchanged for %llu of 2 full passes\n",
			 sharing, zero, held);
	else
		want[0] = '\0';
	ok = rc == 1 && !strcmp(out, want) && held < 2 && zero == 0;
	tap_ok(ok, "--converged while pages keep merging: exit 1 at the timeout, '%s'",
	       strtok(out, "\n"));
	tap_ok(dt >= 4 && dt < 10, "it returned at its timeout: %.1f s", dt);
	sleep(1);
	tap_ok(sharing > 63 && knob("pages_sharing") > (long)sharing,
	       "pages_sharing was growing: %llu at the timeout, %ld now", sharing,
	       knob("pages_sharing"));
	stop(grow);
	stop(steady);
	close(fd);
	sp_restore();
	return tap_done();
}
