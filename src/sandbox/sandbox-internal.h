/* sandbox/sandbox-internal.h: declarations shared inside src/sandbox only.
 *
 * The cgroup code is split by concern (STYLE §1): cgroup.c is the public API,
 * version detection and everything both versions do alike (group
 * directories, joining, killing by pid, sweeping leftovers); cgroup_v1.c and
 * cgroup_v2.c are backends behind struct cgroup_ops; cgroup_fs.c reads and
 * writes control files relative to directory fds. */
#ifndef LD_SANDBOX_INTERNAL_H
#define LD_SANDBOX_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/err.h"
#include "sandbox/cgroup.h"

/* ---- cgroups ------------------------------------------------------------ */

/* The controllers lambdad uses. On v2 the freezer is part of the core
 * (cgroup.freeze, 5.2+) but is tracked here the same way. */
enum {
    CG_MEMORY = 1u << 0,
    CG_CPU = 1u << 1,
    CG_PIDS = 1u << 2,
    CG_FREEZER = 1u << 3,
    CG_ALL = CG_MEMORY | CG_CPU | CG_PIDS | CG_FREEZER,
};

#define CG_MAX_HIER CGROUP_JOIN_MAX

/* One mounted hierarchy: v1 has one per controller (or per co-mounted
 * set, e.g. cpu,cpuacct), v2 exactly one. */
struct cgroup_hier {
    unsigned ctls;   /* CG_* this hierarchy carries (v2: those enabled for envs) */
    int parent_dfd;  /* owned: <mount>/<name>, O_RDONLY|O_DIRECTORY */
    int mount_dfd;   /* owned: <mount>, to remove the parent on close */
    char label[32];  /* "memory", "cpu,cpuacct", "unified": for messages */
};

struct cgroup_ops;

struct cgroup_system {
    const struct cgroup_ops *ops;
    char name[CGROUP_NAME_MAX + 1];
    int nhier;
    struct cgroup_hier hier[CG_MAX_HIER];
    unsigned ctls;   /* union of hier[].ctls */
    bool plain_dir;  /* v2 on a plain directory (tests): files are created on write */
    bool have_memsw; /* v1: memory.memsw.* exist (swap accounting on) */
    bool have_kill;  /* v2: cgroup.kill exists (5.14+) */
};

struct cgroup_env {
    struct cgroup_system *sys;       /* borrowed: outlives every env */
    char id[CGROUP_NAME_MAX + 1];
    int dfd[CG_MAX_HIER];            /* owned, per sys->hier[]; -1 where the group is absent */
    int freeze_fd;                   /* owned: v1 freezer.state (rw), v2 cgroup.freeze; or -1 */
    int events_fd;                   /* owned: v2 cgroup.events; or -1 */
    uint64_t peak_seen;              /* v2 without memory.peak: largest memory.current read */
};

/* A backend. Every env function may assume its dirs are open (dfd[]); the
 * ones that set limits may also assume the group was just created. */
struct cgroup_ops {
    int version;
    /* Finds the hierarchies, creates the parent groups: fills sys->hier[],
     * sys->ctls and the feature flags. `root` is v2's mount (v1 ignores it). */
    int (*open)(struct cgroup_system *sys, const char *root, struct ld_err *err);
    /* Opens the env's control-file fds (freeze_fd, events_fd). */
    int (*env_attach)(struct cgroup_env *env, struct ld_err *err);
    int (*env_limit)(struct cgroup_env *env, const struct cgroup_limits *lim, struct ld_err *err);
    int (*freeze)(struct cgroup_env *env, unsigned timeout_ms);
    int (*thaw)(struct cgroup_env *env);
    int (*peak_memory)(struct cgroup_env *env, uint64_t *bytes);
    int (*oom_kills)(struct cgroup_env *env, uint64_t *count);
    int (*kill_all)(struct cgroup_env *env, struct ld_err *err);
    /* Optional: undoes what open made besides the parent groups, before
     * cgroup_system_close() removes those. */
    void (*close)(struct cgroup_system *sys);
};

extern const struct cgroup_ops cgroup_v1_ops;
extern const struct cgroup_ops cgroup_v2_ops;

/* cgroup_v2.c: true if `root` is a cgroup2 mount whose cgroup.controllers
 * lists memory, cpu and pids (what cgroup_system_open() needs to pick v2). */
bool cgroup_v2_usable(const char *root);

/* cgroup.c: kills by pid what the group's cgroup.procs files list, with the
 * group frozen meanwhile when there is a freezer, then waits until every
 * hierarchy's group is empty. v1's kill_all; v2's before cgroup.kill. */
int cgroup_kill_listed(struct cgroup_env *env, struct ld_err *err);

/* cgroup_fs.c: control files, relative to directory fds. All return 0 (or a
 * count) on success and -errno on failure, and leave messages to callers. */

/* Writes s (O_TRUNC; O_CREAT too if create) in one write(). */
int cgroup_fs_write(int dfd, const char *file, const char *s, bool create);
/* Writes s at offset 0 of an open control file. */
int cgroup_fs_pwrite(int fd, const char *s);
/* Reads up to cap - 1 bytes and NUL-terminates; returns the length. */
ssize_t cgroup_fs_read(int dfd, const char *file, char *buf, size_t cap);
ssize_t cgroup_fs_pread(int fd, char *buf, size_t cap);
/* "123\n" or "max\n" (UINT64_MAX). */
int cgroup_fs_parse_u64(const char *s, uint64_t *v);
int cgroup_fs_read_u64(int dfd, const char *file, uint64_t *v);
/* The value of the line "key N" in a flat-keyed file's text; -ENOENT if absent. */
int cgroup_fs_key_u64(const char *text, const char *key, uint64_t *v);
/* Sends sig to every process in the group's cgroup.procs and in its child
 * groups'; returns how many were listed. */
int cgroup_fs_signal_procs(int dfd, int sig);
/* True if dfd has a child group other than our dot-named helpers. */
bool cgroup_fs_has_groups(int dfd);
/* Removes the group `name` under parent_dfd, its child groups first,
 * retrying while the kernel says EBUSY until deadline_us (ld_mono_us()).
 * With plain, the regular files in them are unlinked first (test trees). */
int cgroup_fs_remove(int parent_dfd, const char *name, bool plain, uint64_t deadline_us);
/* Sleeps *us, then doubles it up to 1 ms: for the few states that cannot
 * be polled (v1 FREEZING, a group emptying out). */
void cgroup_fs_backoff(unsigned *us);

#endif
