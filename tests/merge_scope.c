// SPDX-License-Identifier: GPL-2.0
/*
 * merge_scope: all | uid | memcg. Four processes hold the same
 * 64 different pages and 16 all-zero pages each: A1, A2 and B1, B2.
 *  1. The knob reads "[all] uid memcg" after load and refuses other words
 *     (EINVAL).
 *  2. merge_scope=uid, A* of uid 1000, B* of uid 1001, use_zero_pages=1:
 *     each user's pair merges (128 kpages, 128 pages_sharing; A1 and A2
 *     map one PFN per page, B1 and B2 another), nothing across users;
 *  3. the 64 zero pages merge into the zero page all the same;
 *  4. while kpages exist merge_scope cannot change (EBUSY);
 *  5. merge_scope=all: the four merge (64 kpages, 192 pages_sharing, one
 *     PFN per page for all four);
 *  6. merge_scope=memcg, all four of uid 1000, A* in cgroup m1, B* in m2:
 *     128 kpages, per-cgroup PFNs as in 2.
 * In 2 and 6, samepagectl status sums the processes by domain: two per
 * domain, each with 64 merging and 16 zero pages.
 */
#include "cg.h"
#include "shell.h"

#define NP	64
#define NZ	16
#define NPROC	4

struct shared {
	char *volatile bufs[NPROC];
};

static struct shared *shm;

struct proc {
	int idx;
	uid_t uid;
	const char *cg;
};

static void setup(void *arg)
{
	struct proc *p = arg;
	char *buf;

	if (p->cg && cg_enter(p->cg))
		_exit(2);
	if (setgid(p->uid) || setuid(p->uid))
		_exit(3);
	buf = map_pages(NP + NZ);
	for (int i = 0; i < NP; i++)
		fill_page(buf + i * page_size, 300 + i);
	memset(buf + NP * page_size, 0, NZ * page_size);
	if (sp_range(1, 0, buf, (NP + NZ) * page_size))
		_exit(4);
	shm->bufs[p->idx] = buf;
}

static char val[64];

static const char *scope(void)
{
	FILE *f = fopen(SP_TREE "merge_scope", "r");

	val[0] = '\0';
	if (!f || !fgets(val, sizeof(val), f))
		tap_bail("cannot read merge_scope");
	fclose(f);
	val[strcspn(val, "\n")] = '\0';
	return val;
}

/*
 * Run the four with uids @uid[] and cgroups @cg[], three passes; then
 * count pages whose PFN is shared as @groups says: 1 = all four alike,
 * 2 = A1 == A2 != B1 == B2. Returns the pages that fit.
 */
static int scenario(const uid_t *uid, const char *const *cg, int groups,
		    struct child *c)
{
	int fit = 0;

	for (int i = 0; i < NPROC; i++) {
		struct proc p = { i, uid[i], cg ? cg[i] : NULL };

		c[i] = spawn(setup, sp_nop_step, &p);
	}
	run_passes(SP_TREE, 3);
	for (int i = 0; i < NP; i++) {
		uint64_t f[NPROC];

		for (int j = 0; j < NPROC; j++)
			f[j] = pfn_of(c[j].pid, shm->bufs[j] + i * page_size);
		if (groups == 1)
			fit += f[0] && f[0] == f[1] && f[1] == f[2] && f[2] == f[3];
		else
			fit += f[0] && f[2] && f[0] == f[1] && f[2] == f[3] && f[0] != f[2];
	}
	return fit;
}

/*
 * samepagectl status --json's sums for domain @name (e.g. "uid 1000"):
 * processes, rmap_items, merging_pages, zero_pages in @v; 0 if found.
 */
static int scope_sums(const char *name, long v[4])
{
	char key[96], *p;

	if (sh_stdout("samepagectl status --json"))
		return -1;
	snprintf(key, sizeof(key), "\"%s\": {", name);
	p = strstr(out, key);
	if (!p || sscanf(p + strlen(key), "\"processes\": %ld, \"rmap_items\": %ld, "
			 "\"merging_pages\": %ld, \"zero_pages\": %ld",
			 &v[0], &v[1], &v[2], &v[3]) != 4)
		return -1;
	return 0;
}

/* Domain @name holds two of the four, each with NP merging, NZ zero pages. */
static void check_sums(const char *name)
{
	long v[4] = { -1, -1, -1, -1 };
	int err = scope_sums(name, v);

	if (err)
		tap_diag("samepagectl status --json: %.2000s", out);

	tap_ok(!err && v[0] == 2 && v[1] == 2 * (NP + NZ) && v[2] == 2 * NP &&
	       v[3] == 2 * NZ,
	       "samepagectl status: '%s' has %ld processes, %ld rmap_items, %ld merging, "
	       "%ld zero pages (want 2, %d, %d, %d)", name, v[0], v[1], v[2], v[3],
	       2 * (NP + NZ), 2 * NP, 2 * NZ);
}

static void stop(struct child *c)
{
	for (int i = 0; i < NPROC; i++)
		reap_child(&c[i]);
}

int main(void)
{
	static const uid_t two_users[NPROC] = { 1000, 1000, 1001, 1001 };
	static const uid_t one_user[NPROC] = { 1000, 1000, 1000, 1000 };
	const char *cgs[NPROC];
	struct child c[NPROC];
	int fit, busy;

	sp_test_init(10);
	shm = mmap(NULL, sizeof(*shm), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		  -1, 0);
	if (shm == MAP_FAILED)
		tap_bail("mmap: %s", strerror(errno));
	sp_reset();
	tap_ok(!strcmp(scope(), "[all] uid memcg") && set_knob("merge_scope", "tenant") == -EINVAL &&
	       set_knob("merge_scope", "1") == -EINVAL,
	       "merge_scope reads '%s', refuses other words (EINVAL)", val);

	must_set(SP_TREE, "use_zero_pages", "1");
	must_set(SP_TREE, "merge_scope", "uid");
	fit = scenario(two_users, NULL, 2, c);
	tap_ok(fit == NP && knob("kernel_pages_allocated") == 2 * NP &&
	       knob("pages_sharing") == 2 * NP,
	       "scope uid: %d of %d pages merged within each user only; %ld kpages, %ld pages_sharing (want %d, %d)",
	       fit, NP, knob("kernel_pages_allocated"), knob("pages_sharing"), 2 * NP, 2 * NP);
	tap_ok(knob("ksm_zero_pages") == NPROC * NZ,
	       "scope uid: zero pages merge across users: ksm_zero_pages %ld (want %d)",
	       knob("ksm_zero_pages"), NPROC * NZ);
	check_sums("uid 1000");
	check_sums("uid 1001");
	busy = set_knob("merge_scope", "all");
	stop(c);
	tap_ok(busy == -EBUSY && !strcmp(scope(), "all [uid] memcg"),
	       "merge_scope cannot change while kpages exist (%d), reads '%s'", busy, val);

	sp_reset();
	must_set(SP_TREE, "merge_scope", "all");
	fit = scenario(two_users, NULL, 1, c);
	tap_ok(fit == NP && knob("kernel_pages_allocated") == NP &&
	       knob("pages_sharing") == 3 * NP,
	       "scope all: %d of %d pages merged across users; %ld kpages, %ld pages_sharing",
	       fit, NP, knob("kernel_pages_allocated"), knob("pages_sharing"));
	stop(c);

	sp_reset();
	cg_init("sp_scope");
	cgs[0] = cgs[1] = cg_child("m1", 1);
	cgs[2] = cgs[3] = cg_child("m2", 1);
	must_set(SP_TREE, "merge_scope", "memcg");
	fit = scenario(one_user, cgs, 2, c);
	tap_ok(fit == NP && knob("kernel_pages_allocated") == 2 * NP &&
	       knob("pages_sharing") == 2 * NP,
	       "scope memcg (one uid, two cgroups): %d of %d pages merged within each cgroup only; %ld kpages",
	       fit, NP, knob("kernel_pages_allocated"));
	check_sums("memcg /sp_scope/m1");
	check_sums("memcg /sp_scope/m2");
	stop(c);
	sp_reset();
	must_set(SP_TREE, "merge_scope", "all");
	cg_rmdir(cg_child("m1", 0));
	cg_rmdir(cg_child("m2", 0));
	cg_rmdir(cg_parent);
	sp_close_dev();
	sp_restore();
	return tap_done();
}
