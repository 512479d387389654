// SPDX-License-Identifier: GPL-2.0
/*
 * MERGE_RANGE is not a content oracle. Under merge_scope=all,
 * an unprivileged caller's MERGE_RANGE merges only with pages of its own
 * uid (sp_key_scope()); root's (CAP_SYS_ADMIN) merges with anything.
 *
 * V (root) holds secret S twice (merged into a kpage: the stable tree) and
 * secret T once (in the unstable tree after root's MERGE_RANGE of V).
 *  1. U (uid 1000) maps S, T and a wrong guess and calls MERGE_RANGE on
 *     them: 0 saved, and its PROC_STAT says 0 merging pages; its S does not
 *     map V's kpage (PFNs differ).
 *  2. U's own duplicates still merge: two more copies of a page of U's
 *     save 1.
 *  3. The check could fail: root's MERGE_RANGE of U's S and T saves 2 (S
 *     joins V's kpage, T merges with V's T), and U's S now maps V's PFN.
 */
#include "sp.h"

#define UID	1000

struct shared {
	char *volatile buf;
	volatile long saved1, saved2, merging;
	volatile int rc1, rc2, rc3;
};

static struct shared *sh;

static long merge(int fd, pid_t pid, void *start, long len, int *rc)
{
	struct samepage_merge_range m = {
		.size = sizeof(m), .pid = pid, .start = (uintptr_t)start, .len = len,
	};

	*rc = ioctl(fd, SAMEPAGE_IOC_MERGE_RANGE, &m) ? -errno : 0;
	return (long)m.merged;
}

static void v_setup(void *arg)
{
	char *buf = map_pages(3);

	(void)arg;
	fill_page(buf, 111);			/* S */
	fill_page(buf + page_size, 111);	/* S again */
	fill_page(buf + 2 * page_size, 222);	/* T */
	sh->buf = buf;
}

static void u_setup(void *arg)
{
	struct samepage_proc_stat ps = { .size = sizeof(ps) };
	char *buf;
	int fd, rc;

	(void)arg;
	if (setgid(UID) || setuid(UID))
		_exit(3);
	fd = open(SAMEPAGE_DEVICE, O_RDONLY);
	if (fd < 0)
		_exit(4);
	buf = map_pages(5);
	fill_page(buf, 111);			/* guess S: right */
	fill_page(buf + page_size, 222);	/* guess T: right */
	fill_page(buf + 2 * page_size, 333);	/* a wrong guess */
	sh->saved1 = merge(fd, 0, buf, 3 * page_size, &rc);
	sh->rc1 = rc;
	rc = ioctl(fd, SAMEPAGE_IOC_PROC_STAT, &ps) ? -errno : 0;
	sh->rc2 = rc;
	sh->merging = (long)ps.merging_pages;
	fill_page(buf + 3 * page_size, 444);	/* its own duplicates */
	fill_page(buf + 4 * page_size, 444);
	sh->saved2 = merge(fd, 0, buf + 3 * page_size, 2 * page_size, &rc);
	sh->rc3 = rc;
	sh->buf = buf;
	close(fd);
}

int main(void)
{
	struct child v, u;
	char *vbuf, *ubuf;
	long saved;
	int rc;

	sp_test_init(3);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		  -1, 0);
	if (sh == MAP_FAILED)
		tap_bail("mmap: %s", strerror(errno));
	sp_reset();
	must_set(SP_TREE, "merge_scope", "all");
	v = spawn(v_setup, sp_nop_step, NULL);
	vbuf = sh->buf;
	saved = merge(sp_dev(), v.pid, vbuf, 3 * page_size, &rc);
	if (rc || saved != 1)
		tap_bail("V's MERGE_RANGE: %d, %ld saved", rc, saved);
	u = spawn(u_setup, sp_nop_step, NULL);
	ubuf = sh->buf;
	tap_ok(!sh->rc1 && sh->saved1 == 0 && !sh->rc2 && sh->merging == 0 &&
	       pfn_of(u.pid, ubuf) != pfn_of(v.pid, vbuf),
	       "uid 1000's MERGE_RANGE of root's secrets saves %ld, PROC_STAT merging %ld, its S has its own PFN",
	       sh->saved1, sh->merging);
	tap_ok(!sh->rc3 && sh->saved2 == 1,
	       "uid 1000's MERGE_RANGE of its own two equal pages saves %ld", sh->saved2);
	saved = merge(sp_dev(), u.pid, ubuf, 2 * page_size, &rc);
	tap_ok(!rc && saved == 2 && pfn_of(u.pid, ubuf) == pfn_of(v.pid, vbuf),
	       "root's MERGE_RANGE of the same pages saves %ld: S joins V's kpage", saved);
	reap_child(&u);
	reap_child(&v);
	sp_close_dev();
	sp_restore();
	return tap_done();
}
