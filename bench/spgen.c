// SPDX-License-Identifier: GPL-2.0
/*
 * spgen: the benchmark workload generator.
 *
 * Forks --procs workers, each mapping --size MiB of private anonymous memory
 * split (in an order shuffled per worker, from --seed) into:
 *   dup       content shared by every worker (the k-th dup page of each
 *             worker holds the same bytes);
 *   zero      all-zero pages (written, so really allocated);
 *   near      near-duplicates: every near page of every worker is identical
 *             but for its last 8 bytes, which are unique (the worst case for
 *             a tree that orders pages by comparing their bytes);
 *   volatile  unique content rewritten every --rewrite-ms milliseconds;
 *   unique    the rest: content no other page has.
 * Then each worker opts its memory in with madvise(MADV_MERGEABLE) (THP off
 * with MADV_NOHUGEPAGE, so both KSMs see small pages). The same seed gives
 * the same bytes at the same addresses' offsets, run after run.
 *
 * Huge pages (--thp): the area is 2 MiB-aligned and MADV_HUGEPAGE instead,
 * as QEMU maps guest RAM. --chunk N shuffles the kinds in runs of N pages
 * (guest RAM: an "OS image" is not scattered 4 KiB at a time), and
 * --twins A,B,... gives the huge pages of every worker, in turn, exactly A,
 * B, ... dup subpages at shuffled places, the rest unique: the k-th huge
 * page of every worker has the same twin count, so each of its dup
 * subpages has a twin in the k-th huge page of each other worker.
 *
 * Protocol, for sprun (or a person): spgen prints "ready pages=N" once every
 * worker is filled; then reads lines on stdin:
 *   cow N   worker 0 times the first write to up to N of its merged pages
 *           (checked through /proc/kpagecount: mapped more than once) and
 *           prints "cow median_ns=M n=K p99_ns=P" (P: the 99th percentile,
 *           nearest rank);
 *   quit    (or end of input) the workers exit, then spgen.
 *
 * spgen --merge-range --size MiB: the user-guided case instead, in this
 * process: every page has one twin; times a memcpy of the whole area (median
 * of 3, into prefaulted memory), then one synchronous
 * SAMEPAGE_IOC_MERGE_RANGE of it, and prints both.
 */
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <linux/samepage.h>
#include "bench.h"

#define PROG "spgen"
#define MAX_PROCS 64
#define MAX_TWINS 16
#define HUGE_SIZE (2UL << 20)

enum kind { K_DUP, K_ZERO, K_NEAR, K_VOL, K_UNIQUE, K_NR };

static const char *const kind_opt[K_NR] = { "dup", "zero", "near", "volatile", "unique" };

struct conf {
	int procs;
	double size_mib;
	double frac[K_NR];
	int unique_given;
	double rewrite_ms;
	uint64_t seed;
	int merge_range;
	int thp;		/* MADV_HUGEPAGE, 2 MiB-aligned */
	int chunk;		/* kinds shuffled in runs of this many pages */
	int twins[MAX_TWINS];	/* dup subpages per huge page, cycled */
	int ntwins;
	double sparse_gib;	/* pages spread over a reservation this big */
};

static long page_size;
static size_t words;	/* 64-bit words per page */

static void usage(void)
{
	fprintf(stderr,
		"usage: spgen [--procs N] [--size MIB] [--dup F] [--zero F] [--near F]\n"
		"             [--volatile F] [--unique F] [--rewrite-ms MS] [--seed S]\n"
		"             [--thp] [--chunk PAGES] [--twins N,N,...] [--sparse GIB]\n"
		"       spgen --merge-range [--size MIB] [--seed S]\n"
		"Fractions are of each worker's pages; unique defaults to the rest.\n"
		"--sparse: each worker's --size of pages, spread evenly over GIB GiB\n"
		"reserved with MAP_NORESERVE, all of it MADV_MERGEABLE.\n");
	exit(2);
}

static uint64_t key3(uint64_t a, uint64_t b, uint64_t c)
{
	return mix64(mix64(mix64(a) ^ b) ^ c);
}

/* Fill a page from @key: 512 pseudo-random words. */
static void fill_page(uint64_t *w, uint64_t key)
{
	for (size_t i = 0; i < words; i++)
		w[i] = mix64(key + i);
}

/* @len bytes of anonymous memory: small pages, or 2 MiB-aligned MADV_HUGEPAGE. */
static void *map_area(size_t len, int thp)
{
	size_t extra = thp ? HUGE_SIZE : 0;
	char *p = mmap(NULL, len + extra, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uintptr_t a;

	if (p == MAP_FAILED)
		die(PROG, "mmap: %s", strerror(errno));
	if (!thp) {
		madvise(p, len, MADV_NOHUGEPAGE);
		return p;
	}
	a = ((uintptr_t)p + HUGE_SIZE - 1) & ~(uintptr_t)(HUGE_SIZE - 1);
	if (a > (uintptr_t)p)
		munmap(p, a - (uintptr_t)p);
	if ((uintptr_t)p + len + extra > a + len)
		munmap((char *)a + len, (uintptr_t)p + len + extra - (a + len));
	if (madvise((void *)a, len, MADV_HUGEPAGE))
		die(PROG, "madvise(MADV_HUGEPAGE): %s", strerror(errno));
	return (void *)a;
}

/*
 * @len bytes reserved, not committed (MAP_NORESERVE), small pages: a
 * JVM's heap or a browser's reservation, of which little is ever touched.
 */
static void *map_sparse(size_t len)
{
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		die(PROG, "mmap (MAP_NORESERVE): %s", strerror(errno));
	madvise(p, len, MADV_NOHUGEPAGE);
	return p;
}

/* ---- one worker ---- */

struct worker {
	int idx, npages;
	size_t stride;		/* from one page to the next: a page, or --sparse's */
	char *buf;
	unsigned char *kind;	/* per page */
	int *vol;		/* indexes of the volatile pages */
	int nvol;
};

static void shuffle(unsigned char *v, int n, uint64_t *rng)
{
	for (int i = n - 1; i > 0; i--) {
		int j = (int)((*rng = mix64(*rng)) % (uint64_t)(i + 1));
		unsigned char t = v[i];

		v[i] = v[j];
		v[j] = t;
	}
}

/*
 * Per-page kinds with exact counts, in an order shuffled from the seed: page
 * by page, or in runs of --chunk pages, or per huge page from --twins.
 */
static void assign_kinds(struct worker *w, const struct conf *c)
{
	int at = 0, per = c->chunk > 1 ? c->chunk : 1, n = w->npages / per;
	uint64_t rng = key3(c->seed, 0x5eed, w->idx);
	unsigned char *run;

	if (c->ntwins) {
		int sub = (int)(HUGE_SIZE / page_size);

		for (int h = 0; h * sub < w->npages; h++) {
			int len = w->npages - h * sub < sub ? w->npages - h * sub : sub;
			int t = c->twins[h % c->ntwins];

			for (int i = 0; i < len; i++)
				w->kind[h * sub + i] = i < t ? K_DUP : K_UNIQUE;
			shuffle(w->kind + h * sub, len, &rng);
		}
		return;
	}
	run = malloc(n > 0 ? n : 1);
	if (!run)
		_exit(1);
	for (int k = 0; k < K_NR; k++) {
		int m = k == K_UNIQUE ? n - at : (int)(c->frac[k] * n + 0.5);

		for (int i = 0; i < m && at < n; i++)
			run[at++] = (unsigned char)k;
	}
	shuffle(run, n, &rng);
	for (int i = 0; i < w->npages; i++)
		w->kind[i] = i / per < n ? run[i / per] : K_UNIQUE;
	free(run);
}

static void fill_worker(struct worker *w, const struct conf *c)
{
	int ndup = 0;

	for (int i = 0; i < w->npages; i++) {
		uint64_t *p = (uint64_t *)(w->buf + (size_t)i * w->stride);

		switch (w->kind[i]) {
		case K_DUP:
			fill_page(p, key3(c->seed, K_DUP, ndup++));
			break;
		case K_ZERO:
			memset(p, 0, page_size);
			break;
		case K_NEAR:
			fill_page(p, key3(c->seed, K_NEAR, 0));
			p[words - 1] = key3(c->seed ^ 0x4ea4, w->idx, i);
			break;
		case K_VOL:
			w->vol[w->nvol++] = i;	/* unique content, rewritten later */
			__attribute__((fallthrough));
		default:
			fill_page(p, key3(c->seed, K_UNIQUE, ((uint64_t)w->idx << 32) | i));
		}
	}
}

static void rewrite_volatile(struct worker *w)
{
	for (int i = 0; i < w->nvol; i++)
		((uint64_t *)(w->buf + (size_t)w->vol[i] * w->stride))[0]++;
}

/* How many times the page at @addr is mapped (/proc/kpagecount), -1 if unknown. */
static long map_count(int pagemap, int kpagecount, const void *addr)
{
	uint64_t ent, cnt;

	if (pread(pagemap, &ent, 8, (off_t)((uintptr_t)addr / page_size * 8)) != 8 ||
	    !(ent & (1ULL << 63)))
		return -1;
	ent &= (1ULL << 55) - 1;
	if (!ent || pread(kpagecount, &cnt, 8, (off_t)(ent * 8)) != 8)
		return -1;
	return (long)cnt;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Time the first write to up to @want merged pages, spread over the area:
 * each such write is a copy-on-write fault. Returns the median in ns (0 if
 * no merged page was found), the number timed in *n and the 99th
 * percentile (nearest rank) in *p99.
 */
static uint64_t time_cow(struct worker *w, int want, int *n, uint64_t *p99)
{
	int pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	int kpagecount = open("/proc/kpagecount", O_RDONLY | O_CLOEXEC);
	uint64_t *ns = calloc(want > 0 ? want : 1, sizeof(*ns)), med = 0;
	int cand = 0, stride;

	*n = 0;
	*p99 = 0;
	if (pagemap < 0 || kpagecount < 0 || !ns)
		goto out;
	for (int i = 0; i < w->npages; i++)
		cand += w->kind[i] == K_DUP || w->kind[i] == K_ZERO;
	stride = cand > want ? cand / want : 1;
	for (int i = 0, seen = 0; i < w->npages && *n < want; i++) {
		volatile uint64_t *p = (uint64_t *)(w->buf + (size_t)i * w->stride);
		uint64_t t0, t1;

		if (w->kind[i] != K_DUP && w->kind[i] != K_ZERO)
			continue;
		if (seen++ % stride || map_count(pagemap, kpagecount, (const void *)p) < 2)
			continue;
		t0 = now_ns();
		__asm__ volatile("" ::: "memory");
		p[1] ^= 1;	/* the first write: a COW break */
		__asm__ volatile("" ::: "memory");
		t1 = now_ns();
		ns[(*n)++] = t1 - t0;
	}
	if (*n) {
		qsort(ns, *n, sizeof(*ns), cmp_u64);
		med = *n % 2 ? ns[*n / 2] : (ns[*n / 2 - 1] + ns[*n / 2]) / 2;
		*p99 = ns[(*n * 99 + 99) / 100 - 1];
	}
out:
	free(ns);
	if (pagemap >= 0)
		close(pagemap);
	if (kpagecount >= 0)
		close(kpagecount);
	return med;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

struct cow_answer {
	uint64_t median_ns, p99_ns;
	int n;
};

static int write_all(int fd, const void *buf, size_t len)
{
	return write(fd, buf, len) == (ssize_t)len ? 0 : -1;
}

static int read_all(int fd, void *buf, size_t len)
{
	return read(fd, buf, len) == (ssize_t)len ? 0 : -1;
}

/* The worker's life: fill, opt in, say ready, then rewrite and answer. */
static void worker_main(struct worker *w, const struct conf *c, int down, int up)
{
	size_t len = (size_t)w->npages * page_size;
	double period = c->rewrite_ms / 1000.0, next;
	char ready = 'r';

	w->stride = page_size;
	if (c->sparse_gib > 0) {
		len = (size_t)(c->sparse_gib * (1 << 30)) / page_size * page_size;
		w->stride = len / w->npages / page_size * page_size;
		if (!w->stride)
			die(PROG, "%s", "--sparse: fewer pages reserved than --size");
		w->buf = map_sparse(len);
	} else {
		w->buf = map_area(len, c->thp);
	}
	w->kind = malloc(w->npages);
	w->vol = malloc(sizeof(*w->vol) * (w->npages + 1));
	if (!w->kind || !w->vol)
		_exit(1);
	assign_kinds(w, c);
	fill_worker(w, c);
	if (madvise(w->buf, len, MADV_MERGEABLE))
		die(PROG, "madvise(MADV_MERGEABLE): %s", strerror(errno));
	if (write_all(up, &ready, 1))
		_exit(1);
	next = now_s() + period;
	for (;;) {
		struct pollfd pfd = { .fd = down, .events = POLLIN };
		int timeout = -1, want;

		if (w->nvol) {
			double left = next - now_s();

			timeout = left > 0 ? (int)(left * 1000) + 1 : 0;
		}
		if (poll(&pfd, 1, timeout) > 0) {
			struct cow_answer a;

			if (read_all(down, &want, sizeof(want)))
				_exit(0);	/* parent closed: done */
			a.median_ns = time_cow(w, want, &a.n, &a.p99_ns);
			if (write_all(up, &a, sizeof(a)))
				_exit(1);
		}
		if (w->nvol && now_s() >= next) {
			rewrite_volatile(w);
			next += period;
			if (next < now_s())	/* fell behind: do not burst */
				next = now_s() + period;
		}
	}
}

/* ---- the parent ---- */

static int run_workers(const struct conf *c)
{
	int npages = (int)(c->size_mib * 1024 * 1024 / page_size);
	int down[MAX_PROCS], up[MAX_PROCS];
	pid_t pid[MAX_PROCS];
	char line[128];

	if (npages < 1)
		die(PROG, "%s", "--size is less than a page");
	for (int k = 0; k < c->procs; k++) {
		int d[2], u[2];

		if (pipe(d) || pipe(u))
			die(PROG, "pipe: %s", strerror(errno));
		pid[k] = fork();
		if (pid[k] < 0)
			die(PROG, "fork: %s", strerror(errno));
		if (!pid[k]) {
			struct worker w = { .idx = k, .npages = npages };

			for (int j = 0; j < k; j++) {
				close(down[j]);
				close(up[j]);
			}
			close(d[1]);
			close(u[0]);
			worker_main(&w, c, d[0], u[1]);
		}
		close(d[0]);
		close(u[1]);
		down[k] = d[1];
		up[k] = u[0];
	}
	for (int k = 0; k < c->procs; k++) {
		char r;

		if (read_all(up[k], &r, 1))
			die(PROG, "%s", "a worker died while filling its memory");
	}
	printf("ready pages=%lld\n", (long long)npages * c->procs);
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin)) {
		struct cow_answer a;
		int want;

		if (sscanf(line, "cow %d", &want) == 1 && want > 0) {
			if (write_all(down[0], &want, sizeof(want)) || read_all(up[0], &a, sizeof(a)))
				die(PROG, "%s", "worker 0 died");
			printf("cow median_ns=%llu n=%d p99_ns=%llu\n", (unsigned long long)a.median_ns,
			       a.n, (unsigned long long)a.p99_ns);
			fflush(stdout);
		} else if (!strncmp(line, "quit", 4)) {
			break;
		} else {
			fprintf(stderr, "spgen: unknown command: %s", line);
		}
	}
	for (int k = 0; k < c->procs; k++)
		close(down[k]);
	for (int k = 0; k < c->procs; k++)
		waitpid(pid[k], NULL, 0);
	return 0;
}

/* ---- user-guided merge (W4) ---- */

static double time_memcpy(char *dst, const char *src, size_t len)
{
	double t = now_s();

	memcpy(dst, src, len);
	__asm__ volatile("" : : "r"(dst) : "memory");
	return now_s() - t;
}

static int merge_range(const struct conf *c)
{
	size_t npages = (size_t)(c->size_mib * 1024 * 1024 / page_size), len;
	struct samepage_merge_range m = { .size = sizeof(m) };
	double copy[3], t;
	char *src, *dst;
	int fd;

	if (npages < 2)
		die(PROG, "%s", "--merge-range needs at least two pages");
	npages &= ~(size_t)1;
	len = npages * page_size;
	src = map_area(len, 0);
	for (size_t i = 0; i < npages; i++)
		fill_page((uint64_t *)(src + i * page_size), key3(c->seed, K_DUP, i % (npages / 2)));
	dst = map_area(len, 0);
	memset(dst, 1, len);	/* prefault: time the copy, not the faults */
	for (int r = 0; r < 3; r++)
		copy[r] = time_memcpy(dst, src, len);
	munmap(dst, len);
	qsort(copy, 3, sizeof(copy[0]), cmp_double);
	fd = open(SAMEPAGE_DEVICE, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die(PROG, "open " SAMEPAGE_DEVICE ": %s", strerror(errno));
	m.start = (uintptr_t)src;
	m.len = len;
	t = now_s();
	if (ioctl(fd, SAMEPAGE_IOC_MERGE_RANGE, &m))
		die(PROG, "SAMEPAGE_IOC_MERGE_RANGE: %s", strerror(errno));
	t = now_s() - t;
	printf("merge_range pages=%zu memcpy_s=%.6f merge_range_s=%.6f merged=%llu\n",
	       npages, copy[1], t, (unsigned long long)m.merged);
	munmap(src, len);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	struct conf c = { .procs = 1, .size_mib = 64, .rewrite_ms = 100, .seed = 1 };
	double sum = 0;

	page_size = sysconf(_SC_PAGESIZE);
	words = page_size / 8;
	signal(SIGPIPE, SIG_IGN);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		int k;

		if (!strcmp(a, "--merge-range")) {
			c.merge_range = 1;
			continue;
		}
		if (!strcmp(a, "--thp")) {
			c.thp = 1;
			continue;
		}
		if (!v || strncmp(a, "--", 2))
			usage();
		i++;
		for (k = 0; k < K_NR && strcmp(a + 2, kind_opt[k]); k++)
			;
		if (k < K_NR) {
			c.frac[k] = parse_num(PROG, a, v);
			c.unique_given |= k == K_UNIQUE;
		} else if (!strcmp(a, "--procs")) {
			c.procs = (int)parse_num(PROG, a, v);
		} else if (!strcmp(a, "--size")) {
			c.size_mib = parse_num(PROG, a, v);
		} else if (!strcmp(a, "--rewrite-ms")) {
			c.rewrite_ms = parse_num(PROG, a, v);
		} else if (!strcmp(a, "--seed")) {
			c.seed = (uint64_t)parse_num(PROG, a, v);
		} else if (!strcmp(a, "--sparse")) {
			c.sparse_gib = parse_num(PROG, a, v);
		} else if (!strcmp(a, "--chunk")) {
			c.chunk = (int)parse_num(PROG, a, v);
		} else if (!strcmp(a, "--twins")) {
			char *list = strdup(v), *tok, *save = NULL;

			for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
				if (c.ntwins == MAX_TWINS)
					die(PROG, "%s", "--twins takes at most 16 counts");
				c.twins[c.ntwins] = (int)parse_num(PROG, a, tok);
				if (c.twins[c.ntwins++] > (int)(HUGE_SIZE / page_size))
					die(PROG, "%s", "--twins: a count is more than a huge page's subpages");
			}
			free(list);
		} else {
			usage();
		}
	}
	if (c.merge_range)
		return merge_range(&c);
	if (c.procs < 1 || c.procs > MAX_PROCS || c.rewrite_ms <= 0)
		die(PROG, "%s", "--procs wants 1..64 and --rewrite-ms a positive period");
	if (c.sparse_gib > 0 && c.thp)
		die(PROG, "%s", "--sparse reserves small pages: not with --thp");
	for (int k = 0; k < K_UNIQUE; k++)
		sum += c.frac[k];
	if (!c.unique_given)
		c.frac[K_UNIQUE] = 1 - sum;
	sum += c.frac[K_UNIQUE];
	if (c.frac[K_UNIQUE] < -1e-9 || sum < 1 - 1e-6 || sum > 1 + 1e-6)
		die(PROG, "%s", "the fractions must add up to 1");
	return run_workers(&c);
}
