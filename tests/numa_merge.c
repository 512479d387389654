// SPDX-License-Identifier: GPL-2.0
/*
 * merge_across_nodes, in a VM with two NUMA nodes (scripts/check boots one
 * with --numa 2 for the numa_* tests). Processes A and C keep 100 pages on
 * node 0, B the same 100 contents on node 1:
 *  - merge_across_nodes=0: A and C merge (100 shared, 100 sharing), B stays
 *    apart, and the kpages live on node 0;
 *  - merge_across_nodes=1: all three merge (100 shared, 200 sharing).
 */
#include <sys/syscall.h>
#include "sp.h"

#define NPAGES 100
#define MPOL_BIND 2

struct proc {
	int node;
	char *buf;
};

static struct proc *procs;

static void setup(void *arg)
{
	struct proc *p = arg;
	unsigned long mask = 1UL << p->node;

	if (syscall(SYS_set_mempolicy, MPOL_BIND, &mask, 64))
		_exit(2);
	p->buf = map_pages(NPAGES);
	for (int i = 0; i < NPAGES; i++)
		fill_page(p->buf + i * page_size, 40 + i);
	if (sp_range(1, 0, p->buf, NPAGES * page_size))
		_exit(1);
}

/* answers 1 if every page of the child is on its node (move_pages query) */
static int step(int cmd, void *arg)
{
	struct proc *p = arg;
	void *pages[NPAGES];
	int status[NPAGES], ok = 1;

	(void)cmd;
	for (int i = 0; i < NPAGES; i++)
		pages[i] = p->buf + i * page_size;
	if (syscall(SYS_move_pages, 0, NPAGES, pages, NULL, status, 0))
		return 0;
	for (int i = 0; i < NPAGES; i++)
		ok &= status[i] == p->node;
	return ok;
}

static int same_pfns(struct child *a, struct proc *pa, struct child *b, struct proc *pb)
{
	int same = 1;

	for (int i = 0; i < NPAGES; i++)
		same &= pfn_of(a->pid, pa->buf + i * page_size) ==
			pfn_of(b->pid, pb->buf + i * page_size);
	return same;
}

static int apart(struct child *a, struct proc *pa, struct child *b, struct proc *pb)
{
	int apart = 1;

	for (int i = 0; i < NPAGES; i++)
		apart &= pfn_of(a->pid, pa->buf + i * page_size) !=
			 pfn_of(b->pid, pb->buf + i * page_size);
	return apart;
}

int main(void)
{
	struct child c[3];
	int nodes[3] = { 0, 1, 0 };

	sp_test_init(6);
	if (access("/sys/devices/system/node/node1", F_OK))
		tap_bail("needs a VM with two NUMA nodes (scripts/vm-run --numa 2)");
	sp_reset();
	must_set(SP_TREE, "merge_across_nodes", "0");
	procs = mmap(NULL, 3 * sizeof(*procs), PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	for (int k = 0; k < 3; k++) {
		procs[k].node = nodes[k];
		c[k] = spawn(setup, step, &procs[k]);
	}
	tap_ok(ask(&c[0], 1) == 1 && ask(&c[1], 1) == 1 && ask(&c[2], 1) == 1,
	       "A and C have their pages on node 0, B on node 1");

	run_passes(SP_TREE, 2);
	tap_ok(knob("pages_shared") == NPAGES && knob("pages_sharing") == NPAGES,
	       "merge_across_nodes=0: shared=%ld sharing=%ld (want %d, %d)",
	       knob("pages_shared"), knob("pages_sharing"), NPAGES, NPAGES);
	tap_ok(same_pfns(&c[0], &procs[0], &c[2], &procs[2]) &&
	       apart(&c[0], &procs[0], &c[1], &procs[1]),
	       "merge_across_nodes=0: A and C share PFNs, B keeps its own");
	tap_ok(ask(&c[0], 1) == 1, "merge_across_nodes=0: the kpages are on node 0");

	must_set(SP_TREE, "run", "2");
	must_set(SP_TREE, "merge_across_nodes", "1");
	run_passes(SP_TREE, 2);
	tap_ok(knob("pages_shared") == NPAGES && knob("pages_sharing") == 2 * NPAGES,
	       "merge_across_nodes=1: shared=%ld sharing=%ld (want %d, %d)",
	       knob("pages_shared"), knob("pages_sharing"), NPAGES, 2 * NPAGES);
	tap_ok(same_pfns(&c[0], &procs[0], &c[1], &procs[1]) &&
	       same_pfns(&c[0], &procs[0], &c[2], &procs[2]),
	       "merge_across_nodes=1: all three share PFNs");
	for (int k = 0; k < 3; k++)
		reap_child(&c[k]);
	sp_restore();
	return tap_done();
}
