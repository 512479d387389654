// SPDX-License-Identifier: GPL-2.0
/*
 * Integrity stress: K worker processes run seeded random operations while
 * samepage scans at full speed and a controller toggles run 0/1/2,
 * use_zero_pages, max_page_sharing and smart_scan. Operations: page writes
 * (from a small pool of contents, so that duplicates abound; some zero),
 * fork (the child verifies, writes, verifies, exits), exec, munmap and a
 * new mapping, mremap (moving and growing), mprotect RO/RW, MADV_DONTNEED,
 * MADV_MERGEABLE/UNMERGEABLE, register/unregister, MERGE_RANGE, and full
 * verification. Every worker keeps the expected content of every page it
 * owns (a shadow) and checks all of them before it exits.
 *
 *   stress [--ops N] [--seed S] [--workers K]   (defaults: 2500, 1, 4)
 *
 * Prints operations done, pages verified and mismatches (must be 0); then
 * run=2 must leave no kpage, no rmap_item and no tracked process.
 */
#include "sp.h"

#define REGIONS	4
#define MAXPAGES 64
#define POOL	24	/* distinct contents: many duplicates */

struct region {
	char *base;
	int npages;
	int32_t val[MAXPAGES * 2];	/* content of each page: -1 zero, else pool id */
};

struct result {
	long ops, verified, mismatches, forks;
};

static struct region reg[REGIONS];
static uint64_t seed;
static struct result *results;
static long peak_kpages;

static uint64_t rnd(void)
{
	seed ^= seed << 13;
	seed ^= seed >> 7;
	seed ^= seed << 17;
	return seed;
}

static void write_page(struct region *r, int i, int32_t v)
{
	if (v < 0)
		memset(r->base + i * page_size, 0, page_size);
	else
		fill_page(r->base + i * page_size, 7000 + v);
	r->val[i] = v;
}

/* Check every page of @r against its shadow. */
static void verify(struct region *r, struct result *res)
{
	static char ref[65536];

	for (int i = 0; i < r->npages; i++) {
		if (r->val[i] < 0)
			memset(ref, 0, page_size);
		else
			fill_page(ref, 7000 + r->val[i]);
		res->mismatches += memcmp(ref, r->base + i * page_size, page_size) != 0;
		res->verified++;
	}
}

static void new_region(struct region *r)
{
	r->npages = 8 + rnd() % (MAXPAGES - 8);
	r->base = map_pages(r->npages);
	for (int i = 0; i < r->npages; i++)
		write_page(r, i, rnd() % 5 ? (int32_t)(rnd() % POOL) : -1);
	if (rnd() % 2)
		sp_range(1, 0, r->base, r->npages * page_size);
}

static void do_fork(struct result *res)
{
	pid_t pid = fork();
	int status;

	if (!pid) {
		struct result cr = { 0 };

		for (int k = 0; k < REGIONS; k++)
			verify(&reg[k], &cr);
		for (int n = 0; n < 8; n++) {
			struct region *r = &reg[rnd() % REGIONS];

			write_page(r, rnd() % r->npages, (int32_t)(rnd() % POOL));
		}
		for (int k = 0; k < REGIONS; k++)
			verify(&reg[k], &cr);
		_exit(cr.mismatches ? 1 : 0);
	}
	waitpid(pid, &status, 0);
	res->forks++;
	res->mismatches += !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void one_op(struct result *res)
{
	struct region *r = &reg[rnd() % REGIONS];
	int i = rnd() % r->npages, n;
	struct samepage_merge_range m = { .size = sizeof(m) };
	char *p;

	switch (rnd() % 16) {
	case 0: case 1: case 2: case 3: case 4:
		write_page(r, i, rnd() % 8 ? (int32_t)(rnd() % POOL) : -1);
		break;
	case 5:
		verify(r, res);
		break;
	case 6:
		if (rnd() % 4 == 0)
			do_fork(res);
		break;
	case 7:
		if (rnd() % 8 == 0) {
			pid_t pid = fork();

			if (!pid) {
				execl("/bin/true", "true", (char *)NULL);
				_exit(127);
			}
			waitpid(pid, NULL, 0);
		}
		break;
	case 8:
		verify(r, res);
		munmap(r->base, r->npages * page_size);
		new_region(r);
		break;
	case 9:	/* mremap: move, sometimes grow (new pages read as zero) */
		n = r->npages + (r->npages < MAXPAGES && rnd() % 2 ? 4 : 0);
		p = mremap(r->base, r->npages * page_size, n * page_size, MREMAP_MAYMOVE);
		if (p != MAP_FAILED) {
			for (int k = r->npages; k < n; k++)
				r->val[k] = -1;
			r->base = p;
			r->npages = n;
		}
		break;
	case 10:
		mprotect(r->base, r->npages * page_size, PROT_READ);
		verify(r, res);
		mprotect(r->base, r->npages * page_size, PROT_READ | PROT_WRITE);
		break;
	case 11:
		n = 1 + rnd() % (r->npages - i);
		madvise(r->base + i * page_size, n * page_size, MADV_DONTNEED);
		for (int k = i; k < i + n; k++)
			r->val[k] = -1;
		break;
	case 12:
		madvise(r->base, r->npages * page_size,
			rnd() % 2 ? MADV_MERGEABLE : MADV_UNMERGEABLE);
		break;
	case 13:
		sp_range(rnd() % 2, 0, r->base, r->npages * page_size);
		break;
	case 14:
		m.start = (uintptr_t)r->base;
		m.len = r->npages * page_size;
		ioctl(sp_dev(), SAMEPAGE_IOC_MERGE_RANGE, &m);
		break;
	default:
		verify(r, res);
	}
	res->ops++;
}

static void worker(int idx, long ops)
{
	struct result *res = &results[idx];

	seed = seed * 31 + idx + 1;
	for (int k = 0; k < REGIONS; k++)
		new_region(&reg[k]);
	while (res->ops < ops)
		one_op(res);
	for (int k = 0; k < REGIONS; k++)
		verify(&reg[k], res);
	_exit(0);
}

/* The controller: toggles the knobs while the workers run. */
static void control(pid_t *workers, int k)
{
	static const char *const mps[] = { "2", "3", "256" };
	int alive = k;

	while (alive) {
		switch (rnd() % 8) {
		case 0: set_knob("run", "0"); break;
		case 1: set_knob("run", "2"); set_knob("run", "1"); break;
		case 2: set_knob("use_zero_pages", rnd() % 2 ? "1" : "0"); break;
		case 3: set_knob("max_page_sharing", mps[rnd() % 3]); break; /* EBUSY is fine */
		case 4: set_knob("smart_scan", rnd() % 2 ? "1" : "0"); break;
		default: set_knob("run", "1");
		}
		usleep(20000 + rnd() % 30000);
		if (knob("kernel_pages_allocated") > peak_kpages)
			peak_kpages = knob("kernel_pages_allocated");
		alive = 0;
		for (int w = 0; w < k; w++)
			if (workers[w] && waitpid(workers[w], NULL, WNOHANG) == workers[w])
				workers[w] = 0;
			else if (workers[w])
				alive++;
	}
}

int main(int argc, char **argv)
{
	long ops = 2500, total_ops = 0, verified = 0, mismatches = 0, forks = 0, slab0;
	struct samepage_stats st = { .size = sizeof(st) };
	int k = 4;
	pid_t workers[64];
	uint64_t seed0;

	seed = 1;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--ops"))
			ops = atol(argv[i + 1]);
		else if (!strcmp(argv[i], "--seed"))
			seed = strtoull(argv[i + 1], NULL, 0);
		else if (!strcmp(argv[i], "--workers"))
			k = atoi(argv[i + 1]);
	}
	if (ops < 1 || k < 1 || k > 64 || !seed)
		tap_bail("usage: stress [--ops N>0] [--seed S!=0] [--workers 1..64]");
	seed0 = seed;
	sp_test_init(5);
	sp_reset();
	slab0 = sp_slab_objects();
	must_set(SP_TREE, "run", "1");
	results = mmap(NULL, 64 * sizeof(*results), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	for (int w = 0; w < k; w++) {
		workers[w] = fork();
		if (!workers[w]) {
			sp_close_dev();
			worker(w, ops);
		}
	}
	control(workers, k);
	for (int w = 0; w < k; w++) {
		total_ops += results[w].ops;
		verified += results[w].verified;
		mismatches += results[w].mismatches;
		forks += results[w].forks;
	}
	tap_diag("seed %llu: %ld operations by %d workers (%ld verifying forks), %ld pages verified, %ld mismatches",
		 (unsigned long long)seed0, total_ops, k, forks, verified, mismatches);
	tap_ok(total_ops == ops * k, "%ld operations done", total_ops);
	tap_ok(peak_kpages > 0, "samepage merged during the run (peak %ld kpages)",
	       peak_kpages);
	tap_ok(mismatches == 0 && verified > 0, "%ld pages verified, %ld mismatches",
	       verified, mismatches);
	must_set(SP_TREE, "run", "2");
	wait_knob(SP_TREE, "kernel_pages_allocated", 0);
	must_set(SP_TREE, "run", "0");
	usleep(1500000);	/* the reaper frees the exited workers' slots */
	tap_ok(ioctl(sp_dev(), SAMEPAGE_IOC_STATS, &st) == 0 &&
	       st.kernel_pages_allocated == 0 && st.rmap_items == 0 && st.processes == 0 &&
	       st.ksm_zero_pages == 0,
	       "after run=2: kernel_pages %llu, rmap_items %llu, processes %llu, zero %llu",
	       st.kernel_pages_allocated, st.rmap_items, st.processes, st.ksm_zero_pages);
	tap_ok(sp_slab_objects() == slab0, "samepage's slab objects back to baseline (%ld, was %ld)",
	       sp_slab_objects(), slab0);
	sp_restore();
	return tap_done();
}
