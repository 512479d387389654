// SPDX-License-Identifier: GPL-2.0
/*
 * PID namespaces: samepage keeps a struct pid per tracked
 * process and reports it as the caller's pid namespace sees it.
 *
 * Outside: O, a registered process of root. Inside a new pid namespace
 * (unshare(CLONE_NEWPID) + fork; as uid 1000 with CLONE_NEWUSER too): G
 * (pid 1 there) and its child H (pid 2) each register a range. Run once
 * as root and once as uid 1000:
 *  1. G's LIST shows exactly its namespace's two processes, as 1 and 2;
 *  2. G's PROC_STAT of itself answers pid 1, of H pid 2;
 *  3. O's pid is ESRCH for G's PROC_STAT, REGISTER, UNREGISTER and
 *     MERGE_RANGE (not EPERM: O does not exist there, root or not);
 *  4. from outside, LIST has G under its global pid, and PROC_STAT of it
 *     answers the global pid.
 */
#include <sched.h>
#include <sys/prctl.h>
#include "sp.h"

#define NP	4

struct shared {
	volatile pid_t o_pid, g_global;
	volatile int h_ready, g_done, release;
	volatile int list_count, list_pids[4];
	volatile int self_pid, h_pid;
	volatile int e_stat, e_reg, e_unreg, e_merge;
};

static struct shared *sh;

static int proc_stat(pid_t pid, int *out)
{
	struct samepage_proc_stat ps = { .size = sizeof(ps), .pid = pid };
	int rc = ioctl(sp_dev(), SAMEPAGE_IOC_PROC_STAT, &ps) ? -errno : 0;

	*out = ps.pid;
	return rc;
}

static int list(struct samepage_proc_entry *e, int cap)
{
	struct samepage_list l = {
		.size = sizeof(l), .capacity = cap, .entry_size = sizeof(*e),
		.entries = (uintptr_t)e,
	};

	return ioctl(sp_dev(), SAMEPAGE_IOC_LIST, &l) ? -errno : (int)l.count;
}

static char *registered(void)
{
	char *buf = map_pages(NP);

	for (int i = 0; i < NP; i++)
		fill_page(buf + i * page_size, getpid() * 16 + i);
	if (sp_range(1, 0, buf, NP * page_size))
		_exit(10);
	return buf;
}

static void wait_flag(volatile int *f)
{
	for (int i = 0; i < 6000 && !*f; i++)
		usleep(10000);
}

/* G: pid 1 of the new namespace. */
static void ns_init(void)
{
	struct samepage_proc_entry e[4];
	struct samepage_merge_range m = { .size = sizeof(m), .pid = sh->o_pid,
					  .len = page_size };
	int dummy, n;
	pid_t h;

	registered();
	h = fork();
	if (!h) {
		registered();
		sh->h_ready = 1;
		pause();
		_exit(0);
	}
	wait_flag(&sh->h_ready);
	n = list(e, 4);
	sh->list_count = n;
	for (int i = 0; i < n && i < 4; i++)
		sh->list_pids[i] = e[i].pid;
	proc_stat(0, &dummy);
	sh->self_pid = dummy;
	proc_stat(h, &dummy);
	sh->h_pid = dummy;
	sh->e_stat = proc_stat(sh->o_pid, &dummy);
	sh->e_reg = sp_range(1, sh->o_pid, NULL, 0);
	sh->e_unreg = sp_range(0, sh->o_pid, NULL, 0);
	m.start = 0x10000;
	sh->e_merge = ioctl(sp_dev(), SAMEPAGE_IOC_MERGE_RANGE, &m) ? -errno : 0;
	sh->g_done = 1;
	wait_flag(&sh->release);
	kill(h, SIGKILL);
	waitpid(h, NULL, 0);
	_exit(0);
}

static void run(int unpriv)
{
	const char *who = unpriv ? "uid 1000" : "root";
	struct samepage_proc_entry e[64];
	int n, found = 0, gpid = 0, status;
	pid_t x, o;

	memset((void *)sh, 0, sizeof(*sh));
	o = fork();
	if (!o) {
		registered();
		pause();
		_exit(0);
	}
	usleep(100000);
	sh->o_pid = o;
	x = fork();
	if (!x) {
		pid_t g;

		sp_close_dev();
		/* dumpable again, as a process a user starts is (setuid cleared it) */
		if (unpriv && (setgid(1000) || setuid(1000) || prctl(PR_SET_DUMPABLE, 1)))
			_exit(3);
		if (unshare(CLONE_NEWPID | (unpriv ? CLONE_NEWUSER : 0)))
			_exit(4);
		g = fork();
		if (!g)
			ns_init();
		sh->g_global = g;
		waitpid(g, &status, 0);
		_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 5);
	}
	wait_flag(&sh->g_done);
	tap_ok(sh->list_count == 2 &&
	       ((sh->list_pids[0] == 1 && sh->list_pids[1] == 2) ||
		(sh->list_pids[0] == 2 && sh->list_pids[1] == 1)),
	       "%s in a pid namespace: LIST shows %d processes, pids %d and %d", who,
	       sh->list_count, sh->list_pids[0], sh->list_pids[1]);
	tap_ok(sh->self_pid == 1 && sh->h_pid == 2,
	       "%s: PROC_STAT of itself answers pid %d, of its child %d", who,
	       sh->self_pid, sh->h_pid);
	tap_ok(sh->e_stat == -ESRCH && sh->e_reg == -ESRCH && sh->e_unreg == -ESRCH &&
	       sh->e_merge == -ESRCH,
	       "%s: pid %d outside the namespace is ESRCH for PROC_STAT (%d), REGISTER (%d), UNREGISTER (%d), MERGE_RANGE (%d)",
	       who, o, sh->e_stat, sh->e_reg, sh->e_unreg, sh->e_merge);
	n = list(e, 64);
	for (int i = 0; i < n && i < 64; i++)
		found += e[i].pid == sh->g_global;
	proc_stat(sh->g_global, &gpid);
	tap_ok(found == 1 && gpid == sh->g_global,
	       "%s: outside, LIST shows it as %d (%d times), PROC_STAT answers %d", who,
	       sh->g_global, found, gpid);
	sh->release = 1;
	waitpid(x, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		tap_diag("namespace side exited with status %d", status);
	kill(o, SIGKILL);
	waitpid(o, NULL, 0);
}

int main(void)
{
	sp_test_init(8);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		  -1, 0);
	if (sh == MAP_FAILED)
		tap_bail("mmap: %s", strerror(errno));
	sp_reset();
	run(0);
	run(1);
	sp_restore();
	return tap_done();
}
