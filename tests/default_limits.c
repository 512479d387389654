// SPDX-License-Identifier: GPL-2.0
/*
 * Safe defaults: a fresh load of samepage caps kpages at a
 * quarter of RAM (max_kernel_pages = MemTotal / 4 in pages, the 2.6.32 KSM
 * default), and an unprivileged user flooding it with merges stays under
 * the cap.
 *  1. After rmmod + insmod, max_kernel_pages is MemTotal / 4 pages.
 *  2. uid 1000 cannot change it (EACCES), the value is unchanged.
 *  3. A process of uid 1000 fills 16 MiB chunks of page pairs (every pair
 *     different) and merges each at once with MERGE_RANGE, four chunks more
 *     than the cap has room for. kernel_pages_allocated, sampled every
 *     20 ms meanwhile, never exceeds the cap; at the end it is exactly the
 *     cap (the flood reached it), and the process's MERGE_RANGE calls
 *     saved exactly the cap's number of pages.
 *  4. Root may still write 0 (no cap), and it reads back 0.
 *  5. What a registration costs the kernel is charged to the caller: a
 *     process of uid 1000 in a cgroup with memory.max=8M registering
 *     single-page ranges (64 bytes of kernel memory each) is stopped by
 *     its limit (ENOMEM, or an OOM kill in its cgroup) before 400000 of
 *     them (25 MiB), and its cgroup never exceeds the limit.
 */
#include <sys/syscall.h>
#include "cg.h"

#define CHUNK	(16L << 20)
#define UID	1000

static int reload(void)
{
	int fd, err;

	sp_close_dev();
	if (syscall(SYS_delete_module, "samepage", O_NONBLOCK))
		return -errno;
	fd = open("/samepage.ko", O_RDONLY);
	err = fd < 0 || syscall(SYS_finit_module, fd, "", 0) ? -errno : 0;
	if (fd >= 0)
		close(fd);
	return err;
}

struct shared {
	volatile long saved;	/* pages MERGE_RANGE saved */
	volatile int done;
};

static void flood(struct shared *sh, long chunks)
{
	long pairs = CHUNK / page_size / 2;
	int fd;

	if (setgid(UID) || setuid(UID))
		_exit(3);
	fd = open(SAMEPAGE_DEVICE, O_RDONLY);
	if (fd < 0)
		_exit(4);
	for (long k = 0; k < chunks; k++) {
		struct samepage_merge_range m = { .size = sizeof(m), .len = CHUNK };
		char *p = map_pages(CHUNK / page_size);

		for (long i = 0; i < pairs; i++) {
			fill_page(p + 2 * i * page_size, (k << 20) + i);
			memcpy(p + (2 * i + 1) * page_size, p + 2 * i * page_size, page_size);
		}
		m.start = (uintptr_t)p;
		if (ioctl(fd, SAMEPAGE_IOC_MERGE_RANGE, &m))
			_exit(5);
		sh->saved += m.merged;
	}
	sh->done = 1;
	pause();
	_exit(0);
}

#define RANGES	400000

static void range_flood(void)
{
	struct { volatile long done; volatile int err; } *st;
	const char *cg;
	long max;
	int status;
	pid_t pid;

	st = mmap(NULL, sizeof(*st), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		  -1, 0);
	if (st == MAP_FAILED)
		tap_bail("mmap: %s", strerror(errno));
	cg_init("sp_limits");
	cg = cg_child("ranges", 1);
	cg_must_write(cg, "memory.max", "8M");
	sp_close_dev();
	pid = fork();
	if (!pid) {
		if (cg_enter(cg) || setgid(UID) || setuid(UID))
			_exit(3);
		for (long i = 0; i < RANGES; i++) {
			int err = sp_range(1, 0, (void *)((1UL << 30) + i * 2 * page_size),
					   page_size);

			if (err) {
				st->err = err;
				_exit(0);
			}
			st->done = i + 1;
		}
		_exit(0);
	}
	waitpid(pid, &status, 0);
	max = cg_read(cg, "memory.peak", NULL);
	tap_ok(st->done < RANGES &&
	       ((WIFEXITED(status) && st->err == -ENOMEM) ||
		(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)) &&
	       cg_read(cg, "memory.events", "max") > 0,
	       "uid 1000 in an 8M cgroup registers %ld ranges, then %s (memory.peak %ld KiB)",
	       st->done, WIFSIGNALED(status) ? "is OOM-killed in its cgroup" :
	       st->err == -ENOMEM ? "gets ENOMEM" : "goes on", max >> 10);
	cg_rmdir(cg);
	cg_rmdir(cg_parent);
}

int main(void)
{
	struct shared *sh;
	long want, cap, peak = 0, samples = 0, chunks, end;
	int err, status;
	pid_t pid;

	sp_test_init(5);
	sp_reset();
	err = reload();
	want = meminfo_kb("MemTotal") * 1024 / page_size / 4;
	cap = knob("max_kernel_pages");
	tap_ok(!err && cap == want && cap > 0,
	       "fresh load: max_kernel_pages %ld, a quarter of RAM (%ld pages)", cap, want);

	pid = fork();
	if (!pid) {
		if (setgid(UID) || setuid(UID))
			_exit(3);
		_exit(set_knob("max_kernel_pages", "0") == -EACCES ? 0 : 1);
	}
	waitpid(pid, &status, 0);
	tap_ok(WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
	       knob("max_kernel_pages") == cap,
	       "uid 1000 cannot change max_kernel_pages (EACCES), it stays %ld",
	       knob("max_kernel_pages"));

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		  -1, 0);
	if (sh == MAP_FAILED)
		tap_bail("mmap: %s", strerror(errno));
	chunks = cap / (CHUNK / page_size / 2) + 4;
	pid = fork();
	if (!pid)
		flood(sh, chunks);
	while (!sh->done && waitpid(pid, &status, WNOHANG) == 0) {
		long n = knob("kernel_pages_allocated");

		peak = n > peak ? n : peak;
		samples++;
		usleep(20000);
	}
	end = knob("kernel_pages_allocated");
	tap_ok(sh->done && peak <= cap && end == cap && sh->saved == cap,
	       "uid 1000 floods %ld chunks of pairs: kernel_pages_allocated peak %ld over %ld samples, %ld at the end, %ld saved (cap %ld)",
	       chunks, peak, samples, end, (long)sh->saved, cap);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	if (wait_knob(SP_TREE, "kernel_pages_allocated", 0))
		tap_diag("kpages left after the flood: %ld", knob("kernel_pages_allocated"));

	must_set(SP_TREE, "max_kernel_pages", "0");
	tap_ok(knob("max_kernel_pages") == 0, "root may write 0 (no cap)");
	{
		char v[32];

		snprintf(v, sizeof(v), "%ld", cap);
		must_set(SP_TREE, "max_kernel_pages", v);
	}
	range_flood();
	sp_restore();
	return tap_done();
}
