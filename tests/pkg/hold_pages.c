// SPDX-License-Identifier: GPL-2.0
/*
 * hold_pages: registers 256 of its pages with samepage (128 identical, 128
 * unique), says "ready" and sleeps until killed. The workload of
 * tests/pkg/exporters.sh (busybox sh cannot make such pages itself).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <fcntl.h>
#include <unistd.h>
#include <linux/samepage.h>

#define NPAGES 256

int main(void)
{
	long ps = sysconf(_SC_PAGESIZE);
	char *buf = mmap(NULL, NPAGES * ps, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct samepage_register r = { .size = sizeof(r), .flags = SAMEPAGE_REGISTER_RANGE };
	int fd = open(SAMEPAGE_DEVICE, O_RDONLY);

	if (buf == MAP_FAILED || fd < 0) {
		perror("hold_pages");
		return 1;
	}
	madvise(buf, NPAGES * ps, MADV_NOHUGEPAGE);
	for (long i = 0; i < NPAGES; i++)
		for (long w = 0; w < ps / 8; w++)
			((uint64_t *)(buf + i * ps))[w] = (i < NPAGES / 2 ? 7 : i) * 0x9e3779b97f4a7c15ULL + w;
	r.start = (uintptr_t)buf;
	r.len = NPAGES * ps;
	if (ioctl(fd, SAMEPAGE_IOC_REGISTER, &r)) {
		perror("hold_pages: REGISTER");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	for (;;)
		pause();
}
