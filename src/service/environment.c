/* service/environment.c: brings one execution environment up and down (see
 * environment.h): cgroup, sandboxed init, START frame. */
#include "service/environment.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/clock.h"
#include "sandbox/cgroup.h"

struct environment {
    struct envctl *ctl;
    struct cgroup_env *cg; /* NULL when not sandboxed */
    bool frozen;
    bool stats; /* init got fds on the cgroup's memory peak and OOM counter */
    struct environment_times times;
};

static int send_start(struct environment *e, const struct environment_config *c,
                      struct ld_err *err)
{
    struct ctl_builder b;
    size_t i;

    ctl_begin(&b, envctl_frame(e->ctl), CTL_START);
    ctl_put_str(&b, CTL_T_FUNCTION_NAME, c->function_name);
    ctl_put_str(&b, CTL_T_FUNCTION_VERSION, c->function_version);
    ctl_put_str(&b, CTL_T_HANDLER, c->handler);
    ctl_put_u64(&b, CTL_T_MEMORY_MB, c->memory_mb);
    ctl_put_u64(&b, CTL_T_TIMEOUT_MS, c->timeout_ms);
    ctl_put_u64(&b, CTL_T_INIT_TIMEOUT_MS, c->init_timeout_ms);
    for (i = 0; i < c->argc; i++)
        ctl_put_str(&b, CTL_T_ARG, c->argv[i]);
    for (i = 0; i < c->envc; i++)
        ctl_put_str(&b, CTL_T_ENV, c->env[i]);
    if (c->extensions_dir)
        ctl_put_str(&b, CTL_T_EXTENSIONS_DIR, c->extensions_dir);
    ctl_put_str(&b, CTL_T_TASK_ROOT, c->task_root);
    ctl_put_str(&b, CTL_T_REGION, c->region);
    ctl_put_str(&b, CTL_T_ACCOUNT_ID, c->account_id);
    ctl_put_str(&b, CTL_T_LOG_GROUP, c->log_group);
    ctl_put_str(&b, CTL_T_LOG_STREAM, c->log_stream);
    ctl_put_str(&b, CTL_T_INIT_TYPE, c->init_type);
    ctl_put_str(&b, CTL_T_RUNTIME_ID, c->runtime_id);
    if (c->cpus)
        ctl_put_str(&b, CTL_T_CPUS, c->cpus);
    ctl_put_str(&b, CTL_T_RAPI_ADDR, c->rapi_addr);
    if (e->cg) {
        ctl_put_u64(&b, CTL_T_RUN_AS_UID, SANDBOX_UID);
        ctl_put_u64(&b, CTL_T_RUN_AS_GID, SANDBOX_GID);
    }
    if (e->stats) { /* inside: 3 is the channel, then these */
        ctl_put_u64(&b, CTL_T_PEAK_FD, 4);
        ctl_put_u64(&b, CTL_T_OOM_FD, 5);
    }
    if (ctl_end(&b) < 0)
        return ld_err_set(err, EMSGSIZE, "environment %s: configuration too large", c->id);
    envctl_send(e->ctl);
    return 0;
}

/* Creates the cgroup and spawns init, with the function's limits and code
 * when they are known (lim, m->task_dir) or blank. NULL with err set on
 * failure. */
static struct environment *spawn_env(const struct environment_host *h, const char *id,
                                     const struct cgroup_limits *lim,
                                     const struct sandbox_mounts *m, const char *hostname,
                                     const struct envctl_ops *ops, void *arg, struct ld_err *err)
{
    struct cgroup_join join = {.clone_fd = -1};
    struct envctl_sandbox sb = {0};
    struct environment *e = calloc(1, sizeof *e);
    int rc;

    if (!e) {
        ld_err_set(err, ENOMEM, "environment %s", id);
        return NULL;
    }
    e->times.begin_us = ld_mono_us();
    if (h->cgsys) {
        int stats[2] = {-1, -1};

        if (cgroup_env_create(h->cgsys, id, lim, &e->cg, err) < 0 ||
            cgroup_env_join_open(e->cg, &join, err) < 0)
            goto fail;
        /* Without them REPORT falls back to the processes' own peak. */
        if (cgroup_env_open_memory_stats(e->cg, &stats[0], &stats[1]) < 0)
            stats[0] = stats[1] = -1;
        e->stats = stats[0] >= 0;
        sb.cgroup_procs_fds = join.procs_fds;
        sb.ncgroup_procs = join.nfds;
        sb.extra_fds = stats;
        sb.nextra = stats[0] >= 0 ? 2 : 0;
        sb.mounts = *m;
        sb.hostname = hostname ? hostname : "localhost";
        sb.seccomp = h->seccomp;
        e->times.cgroup_us = ld_mono_us();
        rc = envctl_spawn(h->base, h->exe, &sb, ops, arg, &e->ctl, err);
        if (stats[0] >= 0) {
            close(stats[0]);
            close(stats[1]);
        }
    } else {
        e->times.cgroup_us = ld_mono_us();
        rc = envctl_spawn(h->base, h->exe, NULL, ops, arg, &e->ctl, err);
    }
    cgroup_join_close(&join); /* init has joined, or is gone */
    if (rc < 0)
        goto fail;
    e->times.spawned_us = ld_mono_us();
    return e;
fail:
    environment_free(e);
    return NULL;
}

int environment_start(const struct environment_host *h, const struct environment_config *c,
                      const struct envctl_ops *ops, void *arg, struct environment **out,
                      struct ld_err *err)
{
    struct cgroup_limits lim = {.memory_mb = c->memory_mb, .pids_max = CGROUP_PIDS_MAX_DEFAULT};
    struct environment *e = spawn_env(h, c->id, &lim, &c->mounts, c->hostname, ops, arg, err);
    int rc;

    if (!e)
        return -err->code;
    if ((rc = send_start(e, c, err)) < 0) {
        environment_free(e);
        return rc;
    }
    e->times.assigned_us = e->times.spawned_us;
    *out = e;
    return 0;
}

int environment_prepare(const struct environment_host *h, const char *id,
                        const struct envctl_ops *ops, void *arg, struct environment **out,
                        struct ld_err *err)
{
    static const struct sandbox_mounts blank = {.tmp_mb = 512};
    struct cgroup_limits lim = {.pids_max = CGROUP_PIDS_MAX_DEFAULT};

    *out = spawn_env(h, id, &lim, &blank, NULL, ops, arg, err);
    return *out ? 0 : -err->code;
}

int environment_assign(struct environment *e, const struct environment_config *c,
                       const struct envctl_ops *ops, void *arg, struct ld_err *err)
{
    struct cgroup_limits lim = {.memory_mb = c->memory_mb, .pids_max = CGROUP_PIDS_MAX_DEFAULT};
    int rc;

    e->times.begin_us = ld_mono_us();
    envctl_set_ops(e->ctl, ops, arg);
    if (e->cg) {
        if ((rc = cgroup_env_set_limits(e->cg, &lim, err)) < 0)
            return rc;
        e->times.cgroup_us = ld_mono_us();
        if ((rc = sandbox_mount_code(envctl_pidfd(e->ctl), &c->mounts, err)) < 0)
            return rc;
    } else {
        e->times.cgroup_us = ld_mono_us();
    }
    e->times.spawned_us = e->times.assigned_us = ld_mono_us();
    return send_start(e, c, err);
}

struct envctl *environment_ctl(struct environment *e)
{
    return e->ctl;
}

const struct environment_times *environment_times(const struct environment *e)
{
    return &e->times;
}

bool environment_sandboxed(const struct environment *e)
{
    return e->cg != NULL;
}

int environment_freeze(struct environment *e)
{
    int rc;

    if (!e->cg || e->frozen)
        return 0;
    rc = cgroup_env_freeze(e->cg);
    if (rc == 0)
        e->frozen = true;
    return rc;
}

int environment_thaw(struct environment *e)
{
    int rc;

    if (!e->cg || !e->frozen)
        return 0;
    rc = cgroup_env_thaw(e->cg);
    if (rc == 0)
        e->frozen = false;
    return rc;
}

bool environment_frozen(const struct environment *e)
{
    return e->frozen;
}

void environment_free(struct environment *e)
{
    struct ld_err err;

    if (!e)
        return;
    if (e->ctl)
        envctl_free(e->ctl);
    /* Kills whatever escaped init's process tree (nothing can: the pid
     * namespace dies with init) and removes the directories. */
    if (e->cg && cgroup_env_destroy(e->cg, &err) < 0)
        fprintf(stderr, "lambdad: %s\n", err.msg);
    free(e);
}
