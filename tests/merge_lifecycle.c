// SPDX-License-Identifier: GPL-2.0
/*
 * Merged pages through a process's life: fork (the child shares, its write
 * copies, the parent is untouched), mremap, mprotect, munmap and
 * MADV_DONTNEED on merged ranges (contents bit-exact, nothing leaks), run=2
 * (no duplicate PFN left), and unloading: refused while kpages exist (the
 * kernel answers EWOULDBLOCK for a module in use), possible after run=2.
 */
#include <sys/syscall.h>
#include "sp.h"

#define NPAGES 64
#define CONTENTS 4	/* NPAGES / CONTENTS identical pages per content */

static char *buf;
static uint64_t shadow[NPAGES];

static uint64_t content_of(int i)
{
	return 500 + i % CONTENTS;
}

static void fill(void)
{
	buf = map_pages(NPAGES);
	for (int i = 0; i < NPAGES; i++) {
		fill_page(buf + i * page_size, content_of(i));
		shadow[i] = page_sum(buf + i * page_size);
	}
}

/* Every page still mapped at @base matches its shadow checksum. */
static int verify(char *base, int from, int to)
{
	for (int i = from; i < to; i++)
		if (page_sum(base + (i - from) * page_size) != shadow[i])
			return 0;
	return 1;
}


static void fork_test(void)
{
	pid_t pid;
	int status;

	sp_reset();
	fill();
	sp_range(1, 0, buf, NPAGES * page_size);
	run_passes(SP_TREE, 2);
	tap_ok(knob("pages_shared") == CONTENTS &&
	       knob("pages_sharing") == NPAGES - CONTENTS,
	       "fork: %d contents merged: shared=%ld sharing=%ld", CONTENTS,
	       knob("pages_shared"), knob("pages_sharing"));
	pid = fork();
	if (!pid) {
		uint64_t parent_pfn = pfn_of(getppid(), buf);
		int ok = verify(buf, 0, NPAGES) && pfn_of(0, buf) == parent_pfn;

		buf[0] ^= 1;	/* the child's write copies */
		ok &= pfn_of(0, buf) != parent_pfn && pfn_of(getppid(), buf) == parent_pfn;
		_exit(ok ? 0 : 1);
	}
	waitpid(pid, &status, 0);
	tap_ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	       "fork: the child reads the same content and PFN; its write copies");
	tap_ok(verify(buf, 0, NPAGES) && pfn_of(0, buf) == pfn_of(0, buf + CONTENTS * page_size),
	       "fork: the parent's pages are unchanged and still merged");
	sp_range(0, 0, buf, NPAGES * page_size);
	munmap(buf, NPAGES * page_size);
	tap_ok(wait_knob(SP_TREE, "kernel_pages_allocated", 0) == 0,
	       "fork: after every sharer is gone, kernel_pages_allocated=0");
}

static void address_space_test(void)
{
	char *moved, *target;
	int ok;

	sp_reset();
	fill();
	sp_range(1, 0, buf, NPAGES * page_size);
	run_passes(SP_TREE, 2);
	/* mremap pages 0..15 elsewhere, mprotect 16..31, munmap 32..39,
	 * DONTNEED 40..47; 48..63 stay as they are */
	target = mmap(NULL, 16 * page_size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	moved = mremap(buf, 16 * page_size, 16 * page_size,
		       MREMAP_MAYMOVE | MREMAP_FIXED, target);
	ok = moved == target && verify(moved, 0, 16);
	ok &= !mprotect(buf + 16 * page_size, 16 * page_size, PROT_READ) &&
	      verify(buf + 16 * page_size, 16, 32) &&
	      !mprotect(buf + 16 * page_size, 16 * page_size, PROT_READ | PROT_WRITE);
	buf[17 * page_size] ^= 1;
	shadow[17] = page_sum(buf + 17 * page_size);
	ok &= !munmap(buf + 32 * page_size, 8 * page_size);
	ok &= !madvise(buf + 40 * page_size, 8 * page_size, MADV_DONTNEED);
	for (int i = 40; i < 48; i++)
		ok &= !memchr(buf + i * page_size, 1, page_size) &&
		      buf[i * page_size] == 0 && !memcmp(buf + i * page_size,
							  buf + i * page_size + 1,
							  page_size - 1);
	tap_ok(ok, "mremap, mprotect, munmap, MADV_DONTNEED on merged pages");
	run_passes(SP_TREE, 2);
	tap_ok(verify(moved, 0, 16) && verify(buf + 16 * page_size, 16, 32) &&
	       verify(buf + 48 * page_size, 48, 64),
	       "every remaining page is bit-exact after two more scans");
	sp_range(0, 0, buf, NPAGES * page_size);
	munmap(moved, 16 * page_size);
	munmap(buf, NPAGES * page_size);
	tap_ok(wait_knob(SP_TREE, "kernel_pages_allocated", 0) == 0 &&
	       knob("pages_shared") == 0 && knob("pages_sharing") == 0,
	       "nothing leaks: kernel_pages_allocated=0 once everything is unmapped");
}

static long module_refcnt(void)
{
	return knob_in("/sys/module/samepage/", "refcnt");
}

static void unload_test(void)
{
	int distinct = 1, fd, err;

	sp_reset();
	fill();
	sp_range(1, 0, buf, NPAGES * page_size);
	run_passes(SP_TREE, 2);
	sp_close_dev();		/* only the kpages hold the module now */
	tap_ok(module_refcnt() == knob("kernel_pages_allocated") &&
	       knob("kernel_pages_allocated") == CONTENTS,
	       "each of the %d kpages holds a module reference (refcnt %ld)",
	       CONTENTS, module_refcnt());
	err = syscall(SYS_delete_module, "samepage", O_NONBLOCK) < 0 ? errno : 0;
	tap_ok(err == EWOULDBLOCK, "rmmod while kpages exist fails: %s",
	       strerror(err));
	must_set(SP_TREE, "run", "2");
	for (int i = 0; i < NPAGES; i++)
		for (int j = 0; j < i; j++)
			distinct &= pfn_of(0, buf + i * page_size) != pfn_of(0, buf + j * page_size);
	tap_ok(distinct && verify(buf, 0, NPAGES) && knob("kernel_pages_allocated") == 0,
	       "run=2 leaves no duplicate PFN, contents intact, no kpage");
	tap_ok(syscall(SYS_delete_module, "samepage", O_NONBLOCK) == 0,
	       "rmmod after run=2 succeeds");
	fd = open("/samepage.ko", O_RDONLY);
	tap_ok(fd >= 0 && syscall(SYS_finit_module, fd, "", 0) == 0,
	       "and samepage loads again");
	close(fd);
}

int main(void)
{
	sp_test_init(12);
	fork_test();
	address_space_test();
	unload_test();
	return tap_done();
}
