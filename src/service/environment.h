/* service/environment.h: one execution environment as its owner sees it.
 *
 * Puts together what `lambdad emulate` and the service both need to bring an
 * environment up: its cgroup (created with the function's limits), `lambdad
 * init` spawned as pid 1 of a sandbox (or as a plain process), and the START
 * frame with the function's configuration. Afterwards the owner talks to init
 * through environment_ctl() and freezes the environment while it is idle.
 *
 * Starting blocks for the sandbox's creation (a few milliseconds: the cgroup
 * directories, clone, the mounts); everything after that is asynchronous on
 * the owner's event loop. */
#ifndef LD_ENVIRONMENT_H
#define LD_ENVIRONMENT_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"
#include "sandbox/spawn.h"
#include "service/envctl.h"

struct event_base;
struct cgroup_system;
struct sandbox_seccomp;
struct environment;

/* Shared by every environment of one owner. */
struct environment_host {
    struct event_base *base;
    const char *exe;                       /* the lambdad binary, run as `lambdad init` */
    struct cgroup_system *cgsys;           /* NULL: plain processes, no sandbox */
    const struct sandbox_seccomp *seccomp; /* NULL: no filter */
};

/* One environment's configuration; the paths of the second group are as
 * init sees them (/var/task in a sandbox, host paths outside one). */
struct environment_config {
    const char *id; /* unique among the host's live environments: its cgroup's name */
    const char *function_name;
    const char *function_version;
    const char *handler;
    const char *runtime_id;
    const char *region;
    const char *account_id;
    const char *log_group;
    const char *log_stream;
    const char *init_type; /* "on-demand", "provisioned-concurrency" */
    uint32_t memory_mb;
    uint64_t timeout_ms;
    uint64_t init_timeout_ms;
    char *const *argv; /* the bootstrap and its arguments */
    size_t argc;
    char *const *env; /* "NAME=value", the function's variables */
    size_t envc;

    const char *task_root;
    const char *extensions_dir;
    const char *rapi_addr;
    const char *cpus; /* cpulist to confine the environment to, or NULL */

    struct sandbox_mounts mounts; /* host paths; used when sandboxed */
    const char *hostname;
};

/* When each step of the start ended, CLOCK_MONOTONIC µs (common/clock.h). */
struct environment_times {
    uint64_t begin_us;   /* environment_start() was called */
    uint64_t cgroup_us;  /* the cgroup exists with its limits */
    uint64_t spawned_us; /* init runs as pid 1 of its sandbox */
    uint64_t assigned_us; /* the function's code is in place (== spawned_us unless prepared) */
};

/* Starts the environment; init begins INIT at once. ops/arg get init's
 * frames and its exit (service/envctl.h). */
int environment_start(const struct environment_host *h, const struct environment_config *c,
                      const struct envctl_ops *ops, void *arg, struct environment **out,
                      struct ld_err *err);

/* An environment prepared ahead, for a function not yet known: its cgroup
 * (no memory or CPU limit yet) and its sandbox with empty code mount points,
 * init waiting for START. Costs the same as environment_start() but comes off
 * the cold start's critical path. */
int environment_prepare(const struct environment_host *h, const char *id,
                        const struct envctl_ops *ops, void *arg, struct environment **out,
                        struct ld_err *err);
/* Gives a prepared environment its function: the cgroup limits, the code
 * (sandbox_mount_code) and the START frame; from then on init's frames go to
 * ops/arg. On failure the environment is unusable: free it. c->id is
 * ignored (the environment keeps the one it was prepared with). */
int environment_assign(struct environment *e, const struct environment_config *c,
                       const struct envctl_ops *ops, void *arg, struct ld_err *err);

struct envctl *environment_ctl(struct environment *e);
const struct environment_times *environment_times(const struct environment *e);
bool environment_sandboxed(const struct environment *e);

/* Freezes every process of the environment (cgroup freezer), and thaws it.
 * No-ops without a cgroup. Freeze only when everything in it waits in
 * `next`. */
int environment_freeze(struct environment *e);
int environment_thaw(struct environment *e);
bool environment_frozen(const struct environment *e);

/* Kills init (and with it everything in the sandbox), removes the cgroup and
 * frees the environment. May be called from its envctl callbacks. */
void environment_free(struct environment *e);

#endif
