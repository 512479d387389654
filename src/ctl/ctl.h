/* SPDX-License-Identifier: GPL-2.0 */
/*
 * samepagectl: shared declarations. Exit status everywhere: 0 success,
 * 1 error (one line on stderr says what), 2 usage.
 */
#ifndef SAMEPAGECTL_H
#define SAMEPAGECTL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <linux/samepage.h>

#define EXIT_USAGE	2
#define KSM_SYSFS_DIR	"/sys/kernel/mm/ksm"

extern const char *progname;

/* dev.c: /dev/samepage and the sysfs tree, with one-line errors */
int sp_ioctl(unsigned long cmd, void *arg, const char *what, pid_t pid);
bool module_loaded(void);
int not_loaded(void);
int read_knob(const char *dir, const char *name, char *out, size_t len);
int read_setting(const char *name, char *out, size_t len);
int write_knob(const char *name, const char *value);
int write_knob_at(const char *where, const char *name, const char *value);
const char *sp_sysfs_dir(void);
int parse_pid(const char *s, pid_t *pid);
int parse_u64(const char *s, __u64 *v);
int parse_range(const char *s, __u64 *start, __u64 *len);
void errmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* out.c: text or JSON output */
struct out {
	bool json;
	int fields;	/* JSON: fields written in the current object */
};
void out_begin(struct out *o);
void out_end(struct out *o);
void out_u64(struct out *o, const char *key, uint64_t v);
void out_s64(struct out *o, const char *key, int64_t v);
void out_str(struct out *o, const char *key, const char *v);
void out_object(struct out *o, const char *key);
void out_object_end(struct out *o);
void json_string(const char *s);
extern const char *const why_key[SAMEPAGE_WHY_NR];
extern const char *const why_words[SAMEPAGE_WHY_NR];

/* commands.c */
int cmd_version(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_set(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_register(int argc, char **argv);
int cmd_unregister(int argc, char **argv);
int cmd_merge(int argc, char **argv);
int cmd_stat(int argc, char **argv);
int cmd_explain(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_unmerge(int argc, char **argv);

/* metrics.c */
int cmd_metrics(int argc, char **argv);
int cmd_wait(int argc, char **argv);

/* config.c */
int cmd_apply_config(int argc, char **argv);

/* scopes.c */
int scopes_print(struct out *o);

/* top.c */
int cmd_top(int argc, char **argv);

/* helpers for commands: --help, flags, leftovers */
bool want_help(int argc, char **argv, const char *usage);
bool take_flag(int *argc, char **argv, const char *flag);
const char *take_option(int *argc, char **argv, const char *opt);
int usage_error(const char *usage);
int json_command(int *argc, char **argv, const char *usage, bool *json,
		 int min, int max);

#endif /* SAMEPAGECTL_H */
