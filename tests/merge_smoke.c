// SPDX-License-Identifier: GPL-2.0
/*
 * First merge-engine check: a registered process with 10 identical pages
 * gets one PFN for all of them (pagemap), keeps its contents through a
 * write to a merged page, and run=2 gives every page back and frees every
 * kpage, after which samepage can be unloaded.
 */
#include <fcntl.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <linux/samepage.h>
#include "tap.h"

#define SP "/sys/kernel/mm/samepage/"
#define NPAGES 10

static long knob(const char *name)
{
	char path[256], buf[64] = "";
	FILE *f;

	snprintf(path, sizeof(path), SP "%s", name);
	f = fopen(path, "r");
	if (!f || !fgets(buf, sizeof(buf), f))
		tap_bail("read %s", path);
	fclose(f);
	return atol(buf);
}

static int set_knob(const char *name, const char *val)
{
	char path[256];
	int fd, ok;

	snprintf(path, sizeof(path), SP "%s", name);
	fd = open(path, O_WRONLY);
	ok = fd >= 0 && write(fd, val, strlen(val)) == (ssize_t)strlen(val);
	if (fd >= 0)
		close(fd);
	return ok ? 0 : -errno;
}

static uint64_t pfn_of(void *addr)
{
	long page = sysconf(_SC_PAGESIZE);
	uint64_t ent = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY);

	if (fd < 0 || pread(fd, &ent, 8, (uintptr_t)addr / page * 8) != 8)
		tap_bail("pagemap: %s", strerror(errno));
	close(fd);
	return (ent & (1ULL << 63)) ? ent & ((1ULL << 55) - 1) : 0;
}

static int wait_full_scans(long n)
{
	long start = knob("full_scans");

	for (int i = 0; i < 600; i++) {	/* 60 s at most */
		if (knob("full_scans") >= start + n)
			return 1;
		usleep(100000);
	}
	return 0;
}

int main(void)
{
	struct samepage_register r = { .size = sizeof(r) };
	long page = sysconf(_SC_PAGESIZE);
	char *buf;
	int fd, same = 1, intact = 1;

	tap_plan(8);
	fd = open(SAMEPAGE_DEVICE, O_RDONLY);
	if (fd < 0)
		tap_bail("open: %s", strerror(errno));
	buf = mmap(NULL, NPAGES * page, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	madvise(buf, NPAGES * page, MADV_NOHUGEPAGE);
	for (int i = 0; i < NPAGES; i++)
		memset(buf + i * page, 0x5a, page);

	tap_ok(ioctl(fd, SAMEPAGE_IOC_REGISTER, &r) == 0, "REGISTER self");
	tap_ok(ioctl(fd, SAMEPAGE_IOC_REGISTER, &r) < 0 && errno == EEXIST,
	       "a second REGISTER is EEXIST");
	set_knob("pages_to_scan", "10000");
	set_knob("sleep_millisecs", "0");
	set_knob("run", "1");
	if (!wait_full_scans(3))
		tap_bail("samepaged made no 3 full scans in 60 s");
	for (int i = 1; i < NPAGES; i++)
		same &= pfn_of(buf) && pfn_of(buf + i * page) == pfn_of(buf);
	tap_ok(same, "the %d identical pages share one PFN", NPAGES);
	tap_ok(knob("kernel_pages_allocated") >= 1, "a kpage is allocated (%ld)",
	       knob("kernel_pages_allocated"));

	set_knob("run", "0");
	buf[3 * page] = 1;	/* COW of a merged page */
	for (int i = 0; i < NPAGES; i++)
		for (long j = 0; j < page; j++)
			intact &= buf[i * page + j] == ((i == 3 && j == 0) ? 1 : 0x5a);
	tap_ok(intact && pfn_of(buf + 3 * page) != pfn_of(buf),
	       "a write copies: the writer sees its byte, every other page keeps 0x5a");

	tap_ok(set_knob("run", "2") == 0 && knob("kernel_pages_allocated") == 0 &&
	       knob("pages_shared") == 0 && knob("pages_sharing") == 0 &&
	       knob("full_scans") == 0,
	       "run=2 frees every kpage and resets the counters");
	same = 0;
	for (int i = 1; i < NPAGES; i++)
		same |= pfn_of(buf + i * page) == pfn_of(buf);
	tap_ok(!same, "after run=2 no two pages share a PFN");
	tap_ok(ioctl(fd, SAMEPAGE_IOC_UNREGISTER, &r) == 0 && set_knob("run", "0") == 0,
	       "UNREGISTER self");
	set_knob("pages_to_scan", "100");
	set_knob("sleep_millisecs", "20");
	return tap_done();
}
