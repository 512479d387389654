// SPDX-License-Identifier: GPL-2.0
/*
 * A larger run: 4 processes x 16 MiB, half of each identical across the
 * four, half unique. Every page is checked bit-exact against a shadow
 * checksum after merging and again after 1000 seeded random writes per
 * process. The scan rate (pages per second at pages_to_scan=10000,
 * sleep_millisecs=0) is printed as a diagnostic, never asserted.
 */
#include "sp.h"

#define NPROC 4
#define NPAGES 4096		/* 16 MiB */
#define DUP (NPAGES / 2)
#define WRITES 1000

struct proc {
	int idx;
	char *buf;
	uint64_t shadow[NPAGES];
};

static struct proc *procs;	/* shared with the children, for pagemap */

static void setup(void *arg)
{
	struct proc *p = arg;

	p->buf = map_pages(NPAGES);
	for (int i = 0; i < NPAGES; i++) {
		fill_page(p->buf + i * page_size, i < DUP ? i : (p->idx + 1) * 1000000 + i);
		p->shadow[i] = page_sum(p->buf + i * page_size);
	}
	if (sp_range(1, 0, p->buf, NPAGES * page_size))
		_exit(1);
}

/* 1: verify every page; 2: seeded random writes, then verify */
static int step(int cmd, void *arg)
{
	struct proc *p = arg;

	if (cmd == 2) {
		srand(p->idx + 1);
		for (int n = 0; n < WRITES; n++) {
			int i = rand() % NPAGES, off = rand() % page_size;

			p->buf[i * page_size + off] ^= (char)(1 + rand() % 255);
			p->shadow[i] = page_sum(p->buf + i * page_size);
		}
	}
	for (int i = 0; i < NPAGES; i++)
		if (page_sum(p->buf + i * page_size) != p->shadow[i])
			return 0;
	return 1;
}

int main(void)
{
	struct child c[NPROC];
	long scanned;
	double t;
	int ok = 1;

	sp_test_init(5);
	sp_reset();
	procs = mmap(NULL, NPROC * sizeof(*procs), PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	for (int k = 0; k < NPROC; k++) {
		procs[k].idx = k;
		c[k] = spawn(setup, step, &procs[k]);
	}
	scanned = knob("pages_scanned");
	t = sp_now();
	run_passes(SP_TREE, 2);
	t = sp_now() - t;
	scanned = knob("pages_scanned") - scanned;
	tap_diag("scan rate: %ld pages in %.2f s = %.0f pages/s (pages_to_scan=10000, sleep_millisecs=0)",
		 scanned, t, scanned / t);
	tap_ok(knob("pages_shared") == DUP && knob("pages_sharing") == (NPROC - 1) * DUP,
	       "pages_shared=%ld pages_sharing=%ld (want %d, %d)", knob("pages_shared"),
	       knob("pages_sharing"), DUP, (NPROC - 1) * DUP);
	for (int k = 0; k < NPROC; k++)
		ok &= pfn_of(c[k].pid, procs[k].buf) == pfn_of(c[0].pid, procs[0].buf);
	tap_ok(ok, "pagemap: the duplicate half shares PFNs across the 4 processes");
	ok = 1;
	for (int k = 0; k < NPROC; k++)
		ok &= ask(&c[k], 1) == 1;
	tap_ok(ok, "%d pages verified bit-exact after merging", NPROC * NPAGES);
	ok = 1;
	must_set(SP_TREE, "run", "1");	/* merging goes on during the writes */
	for (int k = 0; k < NPROC; k++)
		ok &= ask(&c[k], 2) == 1;
	must_set(SP_TREE, "run", "0");
	tap_ok(ok, "%d random writes, then %d pages verified bit-exact",
	       NPROC * WRITES, NPROC * NPAGES);
	for (int k = 0; k < NPROC; k++)
		reap_child(&c[k]);
	tap_ok(wait_knob(SP_TREE, "kernel_pages_allocated", 0) == 0,
	       "after all exit, kernel_pages_allocated=0");
	sp_restore();
	return tap_done();
}
