/* sandbox/cgroup.h: one cgroup per execution environment, on cgroup v1 or v2.
 *
 * lambdad keeps its environments under one parent group per running
 * instance, `<mount>/<name>/<env id>` in every hierarchy it uses (v1: memory,
 * cpu, pids, freezer; v2: the unified tree at /sys/fs/cgroup). The parent
 * belongs to that instance alone: opening the system kills and removes every
 * group a previous, crashed run left under it, so two live instances must not
 * share a name.
 *
 * An environment group carries the limits Lambda applies to a function:
 * memory = MemorySize with no swap, a CPU quota proportional to memory (1769
 * MB buys one full vCPU) and a pids limit (1024). It is frozen between
 * invocations, reports its peak memory and whether the OOM killer struck,
 * and is killed and removed as a whole.
 *
 * Joining: a child puts itself in the group before it execs, by writing "0"
 * to the cgroup.procs files that cgroup_env_join_open() opened for it
 * (sandbox/spawn.c does exactly that), and must do so before it unshares its
 * cgroup namespace, so the environment's group becomes the namespace root.
 * On v2 there is a faster way: clone3(CLONE_INTO_CGROUP) with join.clone_fd
 * creates the child directly in the group, which saves the child's write and
 * the kernel's migration, and with CLONE_NEWCGROUP in the same call the group
 * is the new namespace's root (checked on this machine's kernel, 6.18).
 *
 * Threads: different environments may be used from different threads while
 * the system stays open; one environment from one thread at a time.
 *
 * Blocking: create, destroy and kill_all wait for the kernel (processes to
 * die, directories to go) and belong off the event loop. Freeze waits until
 * the group is really frozen, typically tens of microseconds, at most
 * CGROUP_FREEZE_TIMEOUT_MS; thaw, peak and OOM queries do not wait. Those
 * four return -errno without a struct ld_err (STYLE §3: hot paths). */
#ifndef LD_SANDBOX_CGROUP_H
#define LD_SANDBOX_CGROUP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/err.h"

#define CGROUP_V2_ROOT "/sys/fs/cgroup"
#define CGROUP_NAME_MAX 63          /* system names and env ids, one path component */
#define CGROUP_MB_PER_VCPU 1769     /* Lambda: 1769 MB = one full vCPU */
#define CGROUP_CPU_PERIOD_US 100000 /* CFS period for every environment */
#define CGROUP_CPU_QUOTA_MIN_US 1000 /* the kernel refuses smaller quotas */
#define CGROUP_PIDS_MAX_DEFAULT 1024
#define CGROUP_FREEZE_TIMEOUT_MS 1000
#define CGROUP_KILL_TIMEOUT_MS 5000 /* kill_all and destroy give up after this */
#define CGROUP_JOIN_MAX 4           /* one cgroup.procs per hierarchy (v1: 4) */

struct cgroup_system; /* the parent groups and which backend drives them */
struct cgroup_env;    /* one environment's groups and open control files */

struct cgroup_limits {
    uint32_t memory_mb; /* hard limit, swap forbidden; also sets the CPU quota; 0: neither */
    uint32_t pids_max;  /* tasks in the group; 0: no limit (use CGROUP_PIDS_MAX_DEFAULT) */
};

/* What a child needs to join an environment (see the top of this file).
 * Owned by the caller between cgroup_env_join_open() and cgroup_join_close();
 * every fd is O_CLOEXEC, so none of them reaches the program the child execs. */
struct cgroup_join {
    int clone_fd; /* v2: the group's directory, for clone3(CLONE_INTO_CGROUP); else -1 */
    int nfds;
    int procs_fds[CGROUP_JOIN_MAX]; /* write "0" to each, in the child */
};

/* Detects the cgroup version, creates (or reuses) the parent group `name`
 * in each hierarchy, and kills and removes the environment groups a previous
 * run left there. v2 is used when cgroup2 is mounted at /sys/fs/cgroup with
 * the memory, cpu and pids controllers available; otherwise v1, with memory,
 * cpu, pids and freezer mounted (found in /proc/self/mountinfo). */
int cgroup_system_open(struct cgroup_system **out, const char *name, struct ld_err *err);

/* The v2 backend on the hierarchy rooted at `root`. If root is not a cgroup2
 * mount (a test's temporary directory laid out like one: cgroup.controllers,
 * cgroup.subtree_control), it is treated as a recent kernel's: control files
 * are created when written, and removed with their directories. On a real
 * cgroup2 mount, controllers that are not available there are left out, and
 * limits that need them are refused with ENOTSUP. */
int cgroup_system_open_v2_at(struct cgroup_system **out, const char *root, const char *name,
                             struct ld_err *err);

/* Mounts a controller-less v1 hierarchy with the favordynmods option on
 * `mountpoint` (kept mounted), so that moving a process into a cgroup no
 * longer waits for an RCU grace period (cgroup_favor.c says why). Does
 * nothing when already done or when LAMBDAD_CGROUP_FAVORDYNMODS=0. Fails on
 * kernels before 6.0 or without v1 support: the caller warns and goes on. */
#define CGROUP_FAVOR_MOUNT "/run/lambdad/cgroup-favordynmods"
int cgroup_favor_dynmods(const char *mountpoint, struct ld_err *err);

/* 1 or 2. */
int cgroup_system_version(const struct cgroup_system *sys);

/* Closes the parent groups' fds and removes the parent groups if no
 * environment is left in them. Environments must be destroyed first. */
void cgroup_system_close(struct cgroup_system *sys);

/* Seconds of CPU per second, in µs per CGROUP_CPU_PERIOD_US: period *
 * memory_mb / 1769, at least CGROUP_CPU_QUOTA_MIN_US. */
uint64_t cgroup_cpu_quota_us(uint32_t memory_mb);

/* Creates the environment's group in every hierarchy with the given limits.
 * EEXIST if a group of that id exists already. */
int cgroup_env_create(struct cgroup_system *sys, const char *env_id,
                      const struct cgroup_limits *lim, struct cgroup_env **out,
                      struct ld_err *err);

/* Sets limits on a group created without them (an environment prepared
 * before its function was known): memory and CPU once, before the function's
 * code runs in it. */
int cgroup_env_set_limits(struct cgroup_env *env, const struct cgroup_limits *lim,
                          struct ld_err *err);

/* Opens what a child needs to join the environment (struct cgroup_join). */
int cgroup_env_join_open(struct cgroup_env *env, struct cgroup_join *join, struct ld_err *err);
/* In the child, between clone() and exec: writes "0" to every cgroup.procs
 * file. Only write() calls on success; a failure fills err the way the rest
 * of spawn.c's child code does (no malloc). */
int cgroup_join_self(const struct cgroup_join *join, struct ld_err *err);
void cgroup_join_close(struct cgroup_join *join);

/* Moves process `pid` (all its threads) into the environment, from outside. */
int cgroup_env_add_pid(struct cgroup_env *env, pid_t pid, struct ld_err *err);

/* Freezes every process of the environment and waits until the kernel says
 * the group is frozen. -ETIMEDOUT (and thawed again) if that takes longer than
 * CGROUP_FREEZE_TIMEOUT_MS, -ENOTSUP without a freezer. */
int cgroup_env_freeze(struct cgroup_env *env);
int cgroup_env_thaw(struct cgroup_env *env);

/* The most memory the group has used, in bytes: v1 memory.max_usage_in_bytes,
 * v2 memory.peak, or on v2 kernels without memory.peak (before 5.19) the
 * largest memory.current seen by the calls so far. */
int cgroup_env_peak_memory(struct cgroup_env *env, uint64_t *bytes);
/* How many processes the OOM killer killed in the group (v1 memory.oom_control
 * oom_kill, v2 memory.events oom_kill). */
int cgroup_env_oom_kills(struct cgroup_env *env, uint64_t *count);
/* True when the OOM killer has struck in the group; false also on error. */
bool cgroup_env_oom_killed(struct cgroup_env *env);

/* SIGKILLs every process in the group and waits until the group is empty
 * (v2: cgroup.kill when the kernel has it, 5.14+; otherwise the group is
 * frozen so nothing forks while its pids are read and killed). */
int cgroup_env_kill_all(struct cgroup_env *env, struct ld_err *err);

/* Kills everything in the environment, removes its groups and frees it. The
 * env is gone whatever the result; a group that could not be removed is
 * retried by the next cgroup_system_open() with the same name. */
int cgroup_env_destroy(struct cgroup_env *env, struct ld_err *err);

/* The env id and, for messages and tests, the group's path relative to a
 * hierarchy's mount ("<name>/<env id>"). */
/* Read-only fds on the environment's memory peak and OOM-kill counter, for a
 * process that cannot see the cgroup tree (init inside the sandbox preads
 * them): v1 memory.max_usage_in_bytes and memory.oom_control, v2 memory.peak
 * (memory.current before 5.19) and memory.events. Both files hold plain
 * numbers, the counters as "oom_kill N" lines. -ENOTSUP without memory. */
int cgroup_env_open_memory_stats(struct cgroup_env *env, int *peak_fd, int *oom_fd);

const char *cgroup_env_id(const struct cgroup_env *env);
int cgroup_env_path(const struct cgroup_env *env, char *buf, size_t cap);

#endif
