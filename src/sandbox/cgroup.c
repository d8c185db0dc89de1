/* sandbox/cgroup.c: environment cgroups, whichever version the host runs.
 *
 * Picks the backend (cgroup_v2.c when /sys/fs/cgroup is a usable cgroup2
 * mount, else cgroup_v1.c) and does here what is the same for both: an
 * environment's group is a directory `<name>/<env id>` in each hierarchy,
 * joined by writing a pid to its cgroup.procs, emptied by killing what it
 * lists and removed with rmdir. Limits, freezing, memory and OOM figures
 * are the backends' (struct cgroup_ops).
 *
 * Leftovers: a crashed lambdad leaves its groups, and the processes in
 * them, behind. cgroup_system_open() treats every group under its parent as
 * such a leftover, kills what is in it and removes it, before it returns. */
#include "sandbox/cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/clock.h"
#include "sandbox/sandbox-internal.h"

/* While killing by pid: long enough for a group of sleeping processes to
 * freeze (tens of µs), short enough not to matter when one cannot. */
#define KILL_FREEZE_TIMEOUT_MS 100

/* One path component of [A-Za-z0-9._-], not starting with a dot. */
static bool valid_name(const char *s)
{
    size_t i, len = strlen(s);

    if (len == 0 || len > CGROUP_NAME_MAX || s[0] == '.')
        return false;
    for (i = 0; i < len; i++) {
        char c = s[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

uint64_t cgroup_cpu_quota_us(uint32_t memory_mb)
{
    uint64_t q = (uint64_t) CGROUP_CPU_PERIOD_US * memory_mb / CGROUP_MB_PER_VCPU;

    return q < CGROUP_CPU_QUOTA_MIN_US ? CGROUP_CPU_QUOTA_MIN_US : q;
}

/* ---- environments ------------------------------------------------------- */

static struct cgroup_env *env_new(struct cgroup_system *sys, const char *id)
{
    struct cgroup_env *env = calloc(1, sizeof *env);
    int i;

    if (!env)
        return NULL;
    env->sys = sys;
    snprintf(env->id, sizeof env->id, "%s", id);
    for (i = 0; i < CG_MAX_HIER; i++)
        env->dfd[i] = -1;
    env->freeze_fd = -1;
    env->events_fd = -1;
    return env;
}

static void env_close_fds(struct cgroup_env *env)
{
    int i;

    for (i = 0; i < CG_MAX_HIER; i++) {
        if (env->dfd[i] >= 0)
            close(env->dfd[i]);
        env->dfd[i] = -1;
    }
    if (env->freeze_fd >= 0)
        close(env->freeze_fd);
    if (env->events_fd >= 0)
        close(env->events_fd);
    env->freeze_fd = env->events_fd = -1;
}

/* Removes the env's group from the hierarchies where mask has its bit. */
static int env_remove_dirs(struct cgroup_env *env, unsigned mask, struct ld_err *err)
{
    struct cgroup_system *sys = env->sys;
    uint64_t deadline = ld_mono_us() + (uint64_t) CGROUP_KILL_TIMEOUT_MS * 1000;
    int i, rc, first = 0;

    for (i = 0; i < sys->nhier; i++) {
        if (!(mask & (1u << i)))
            continue;
        rc = cgroup_fs_remove(sys->hier[i].parent_dfd, env->id, sys->plain_dir, deadline);
        if (rc < 0 && first == 0)
            first = ld_err_set(err, -rc, "cgroup %s: rmdir %s/%s", sys->hier[i].label,
                               sys->name, env->id);
    }
    return first;
}

/* The limits need their controllers in the hierarchies we found. */
static int limits_supported(const struct cgroup_system *sys, const char *env_id,
                            const struct cgroup_limits *lim, struct ld_err *err)
{
    if (lim->memory_mb && (sys->ctls & (CG_MEMORY | CG_CPU)) != (CG_MEMORY | CG_CPU))
        return ld_err_set(err, ENOTSUP, "cgroup env %s: memory and cpu controllers", env_id);
    if (lim->pids_max && !(sys->ctls & CG_PIDS))
        return ld_err_set(err, ENOTSUP, "cgroup env %s: pids controller", env_id);
    return 0;
}

int cgroup_env_create(struct cgroup_system *sys, const char *env_id,
                      const struct cgroup_limits *lim, struct cgroup_env **out,
                      struct ld_err *err)
{
    struct cgroup_env *env;
    unsigned created = 0;
    int i, rc;

    if (!valid_name(env_id))
        return ld_err_set(err, EINVAL, "cgroup env id \"%.64s\"", env_id);
    if ((rc = limits_supported(sys, env_id, lim, err)) < 0)
        return rc;
    env = env_new(sys, env_id);
    if (!env)
        return ld_err_set(err, ENOMEM, "cgroup env %s", env_id);
    for (i = 0; i < sys->nhier; i++) {
        const struct cgroup_hier *h = &sys->hier[i];

        if (mkdirat(h->parent_dfd, env_id, 0755) < 0) {
            rc = ld_err_set(err, errno, "cgroup %s: mkdir %s/%s", h->label, sys->name, env_id);
            goto undo;
        }
        created |= 1u << i;
        env->dfd[i] = openat(h->parent_dfd, env_id, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (env->dfd[i] < 0) {
            rc = ld_err_set(err, errno, "cgroup %s: open %s/%s", h->label, sys->name, env_id);
            goto undo;
        }
    }
    if ((rc = sys->ops->env_attach(env, err)) < 0 || (rc = sys->ops->env_limit(env, lim, err)) < 0)
        goto undo;
    *out = env;
    return 0;
undo:
    env_close_fds(env);
    {
        struct ld_err ignored;

        (void) env_remove_dirs(env, created, &ignored);
    }
    free(env);
    return rc;
}

int cgroup_env_set_limits(struct cgroup_env *env, const struct cgroup_limits *lim,
                          struct ld_err *err)
{
    int rc = limits_supported(env->sys, env->id, lim, err);

    return rc < 0 ? rc : env->sys->ops->env_limit(env, lim, err);
}

const char *cgroup_env_id(const struct cgroup_env *env)
{
    return env->id;
}

int cgroup_env_path(const struct cgroup_env *env, char *buf, size_t cap)
{
    int n = snprintf(buf, cap, "%s/%s", env->sys->name, env->id);

    return n < 0 || (size_t) n >= cap ? -ENAMETOOLONG : n;
}

int cgroup_env_join_open(struct cgroup_env *env, struct cgroup_join *join, struct ld_err *err)
{
    struct cgroup_system *sys = env->sys;
    int i, flags = O_WRONLY | O_CLOEXEC | (sys->plain_dir ? O_CREAT : 0);

    memset(join, 0, sizeof *join);
    join->clone_fd = -1;
    for (i = 0; i < sys->nhier; i++) {
        join->procs_fds[i] = openat(env->dfd[i], "cgroup.procs", flags, 0644);
        if (join->procs_fds[i] < 0) {
            int e = errno;

            cgroup_join_close(join);
            return ld_err_set(err, e, "cgroup %s: open %s/%s/cgroup.procs", sys->hier[i].label,
                              sys->name, env->id);
        }
        join->nfds = i + 1;
    }
    if (sys->ops->version == 2) {
        /* clone3() wants a real directory fd (not O_PATH). */
        join->clone_fd = openat(env->dfd[0], ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (join->clone_fd < 0) {
            int e = errno;

            cgroup_join_close(join);
            return ld_err_set(err, e, "cgroup: open %s/%s", sys->name, env->id);
        }
    }
    return 0;
}

int cgroup_join_self(const struct cgroup_join *join, struct ld_err *err)
{
    int i;

    /* "0" is the writer itself; cgroup.procs moves all of its threads. */
    for (i = 0; i < join->nfds; i++)
        if (write(join->procs_fds[i], "0", 1) != 1)
            return ld_err_set(err, errno, "join cgroup %d of %d", i + 1, join->nfds);
    return 0;
}

void cgroup_join_close(struct cgroup_join *join)
{
    int i;

    for (i = 0; i < join->nfds; i++)
        if (join->procs_fds[i] >= 0)
            close(join->procs_fds[i]);
    if (join->clone_fd >= 0)
        close(join->clone_fd);
    join->nfds = 0;
    join->clone_fd = -1;
}

int cgroup_env_add_pid(struct cgroup_env *env, pid_t pid, struct ld_err *err)
{
    struct cgroup_system *sys = env->sys;
    char buf[24];
    int i, rc;

    snprintf(buf, sizeof buf, "%d", (int) pid);
    for (i = 0; i < sys->nhier; i++) {
        rc = cgroup_fs_write(env->dfd[i], "cgroup.procs", buf, sys->plain_dir);
        if (rc < 0)
            return ld_err_set(err, -rc, "cgroup %s: add pid %d to %s/%s", sys->hier[i].label,
                              (int) pid, sys->name, env->id);
    }
    return 0;
}

int cgroup_env_freeze(struct cgroup_env *env)
{
    if (!(env->sys->ctls & CG_FREEZER) || env->freeze_fd < 0)
        return -ENOTSUP;
    return env->sys->ops->freeze(env, CGROUP_FREEZE_TIMEOUT_MS);
}

int cgroup_env_thaw(struct cgroup_env *env)
{
    if (!(env->sys->ctls & CG_FREEZER) || env->freeze_fd < 0)
        return -ENOTSUP;
    return env->sys->ops->thaw(env);
}

int cgroup_env_peak_memory(struct cgroup_env *env, uint64_t *bytes)
{
    if (!(env->sys->ctls & CG_MEMORY))
        return -ENOTSUP;
    return env->sys->ops->peak_memory(env, bytes);
}

int cgroup_env_oom_kills(struct cgroup_env *env, uint64_t *count)
{
    if (!(env->sys->ctls & CG_MEMORY))
        return -ENOTSUP;
    return env->sys->ops->oom_kills(env, count);
}

int cgroup_env_open_memory_stats(struct cgroup_env *env, int *peak_fd, int *oom_fd)
{
    struct cgroup_system *sys = env->sys;
    bool v1 = sys->ops->version == 1;
    int i, dfd = -1;

    for (i = 0; i < sys->nhier; i++)
        if ((sys->hier[i].ctls & CG_MEMORY) && env->dfd[i] >= 0)
            dfd = env->dfd[i];
    if (dfd < 0)
        return -ENOTSUP;
    *peak_fd = openat(dfd, v1 ? "memory.max_usage_in_bytes" : "memory.peak", O_RDONLY | O_CLOEXEC);
    if (*peak_fd < 0 && !v1)
        *peak_fd = openat(dfd, "memory.current", O_RDONLY | O_CLOEXEC);
    *oom_fd = openat(dfd, v1 ? "memory.oom_control" : "memory.events", O_RDONLY | O_CLOEXEC);
    if (*peak_fd < 0 || *oom_fd < 0) {
        int e = errno;

        if (*peak_fd >= 0)
            close(*peak_fd);
        if (*oom_fd >= 0)
            close(*oom_fd);
        *peak_fd = *oom_fd = -1;
        return -e;
    }
    return 0;
}

bool cgroup_env_oom_killed(struct cgroup_env *env)
{
    uint64_t n = 0;

    return cgroup_env_oom_kills(env, &n) == 0 && n > 0;
}

/* Signals what every hierarchy's group lists; returns how many were listed. */
static int signal_all(struct cgroup_env *env, int sig, struct ld_err *err)
{
    struct cgroup_system *sys = env->sys;
    int i, rc, total = 0;

    for (i = 0; i < sys->nhier; i++) {
        if (env->dfd[i] < 0)
            continue;
        rc = cgroup_fs_signal_procs(env->dfd[i], sig);
        if (rc < 0)
            return ld_err_set(err, -rc, "cgroup %s: kill %s/%s", sys->hier[i].label, sys->name,
                              env->id);
        total += rc;
    }
    return total;
}

int cgroup_kill_listed(struct cgroup_env *env, struct ld_err *err)
{
    uint64_t deadline = ld_mono_us() + (uint64_t) CGROUP_KILL_TIMEOUT_MS * 1000;
    bool frozen = false;
    unsigned wait_us = 10;
    int n;

    /* Frozen, nothing in the group can fork between our read of its pids
     * and the kill, and no pid we read can exit and be reused meanwhile.
     * Killed while frozen, the processes die when thawed. Even an empty
     * group is frozen first: with the v1 anchor that costs ~20 µs, less
     * than a read of every cgroup.procs to find out whether it is empty. */
    if ((env->sys->ctls & CG_FREEZER) && env->freeze_fd >= 0)
        frozen = env->sys->ops->freeze(env, KILL_FREEZE_TIMEOUT_MS) == 0;
    n = signal_all(env, SIGKILL, err);
    if (frozen)
        (void) env->sys->ops->thaw(env);
    /* Wait until a read finds every group empty. After a frozen round
     * nothing can fork any more (a task with SIGKILL pending does not), so
     * signal 0 only counts, and a pid that was reaped and reused meanwhile
     * is never killed. Without a freeze, a child forked after the read
     * escaped the round: keep killing. */
    while (n > 0) {
        if (ld_mono_us() >= deadline)
            return ld_err_set(err, ETIMEDOUT, "cgroup: %d processes left in %s/%s", n,
                              env->sys->name, env->id);
        cgroup_fs_backoff(&wait_us);
        n = signal_all(env, frozen ? 0 : SIGKILL, err);
    }
    return n;
}

int cgroup_env_kill_all(struct cgroup_env *env, struct ld_err *err)
{
    return env->sys->ops->kill_all(env, err);
}

int cgroup_env_destroy(struct cgroup_env *env, struct ld_err *err)
{
    struct ld_err rm_err;
    int rc = cgroup_env_kill_all(env, err);
    int rm;

    env_close_fds(env);
    /* Remove even after a failed kill: the hierarchies that did empty out
     * lose their group, and the next sweep gets the rest. */
    rm = env_remove_dirs(env, ~0u, &rm_err);
    if (rc == 0 && rm < 0) {
        *err = rm_err;
        rc = rm;
    }
    free(env);
    return rc;
}

/* ---- the system ----------------------------------------------------------- */

static void system_free(struct cgroup_system *sys)
{
    int i;

    for (i = 0; i < sys->nhier; i++) {
        if (sys->hier[i].parent_dfd >= 0)
            close(sys->hier[i].parent_dfd);
        if (sys->hier[i].mount_dfd >= 0)
            close(sys->hier[i].mount_dfd);
    }
    free(sys);
}

/* Kills and removes one leftover group, in whichever hierarchies have it. */
static int sweep_one(struct cgroup_system *sys, const char *id, struct ld_err *err)
{
    struct cgroup_env *env = env_new(sys, id);
    int i, rc;

    if (!env)
        return ld_err_set(err, ENOMEM, "cgroup sweep");
    for (i = 0; i < sys->nhier; i++)
        env->dfd[i] = openat(sys->hier[i].parent_dfd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    /* A partial leftover (a crash inside create) may lack control files:
     * killing by pid works without them. */
    if (sys->ops->env_attach(env, err) < 0) {
        if (env->freeze_fd >= 0)
            close(env->freeze_fd);
        if (env->events_fd >= 0)
            close(env->events_fd);
        env->freeze_fd = env->events_fd = -1;
    }
    rc = cgroup_env_destroy(env, err);
    return rc < 0 ? ld_err_prefix(err, "remove leftover group %s/%s", sys->name, id) : 0;
}

/* Every directory under the parent group is a leftover of a previous run. */
static int sweep(struct cgroup_system *sys, struct ld_err *err)
{
    int i, rc = 0;

    for (i = 0; i < sys->nhier && rc == 0; i++) {
        int fd = openat(sys->hier[i].parent_dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct dirent *e;
        DIR *d;

        if (fd < 0)
            return ld_err_set(err, errno, "cgroup %s: open %s", sys->hier[i].label, sys->name);
        d = fdopendir(fd);
        if (!d) {
            close(fd);
            return ld_err_set(err, errno, "cgroup %s: list %s", sys->hier[i].label, sys->name);
        }
        /* Removing entries while reading is fine: at worst one is seen
         * twice, and sweeping a missing group is a no-op. */
        while (rc == 0 && (e = readdir(d))) {
            if (e->d_type != DT_DIR || e->d_name[0] == '.')
                continue;
            if (strlen(e->d_name) > CGROUP_NAME_MAX)
                continue; /* not a name we give out; left for an operator */
            rc = sweep_one(sys, e->d_name, err);
        }
        closedir(d);
    }
    return rc;
}

static int system_open(struct cgroup_system **out, const struct cgroup_ops *ops,
                       const char *root, const char *name, struct ld_err *err)
{
    struct cgroup_system *sys;
    int i;

    if (!valid_name(name))
        return ld_err_set(err, EINVAL, "cgroup parent name \"%.64s\"", name);
    sys = calloc(1, sizeof *sys);
    if (!sys)
        return ld_err_set(err, ENOMEM, "cgroup system");
    sys->ops = ops;
    snprintf(sys->name, sizeof sys->name, "%s", name);
    for (i = 0; i < CG_MAX_HIER; i++)
        sys->hier[i].parent_dfd = sys->hier[i].mount_dfd = -1;
    if (ops->open(sys, root, err) < 0 || sweep(sys, err) < 0) {
        system_free(sys);
        return ld_err_prefix(err, "cgroup v%d", ops->version);
    }
    *out = sys;
    return 0;
}

int cgroup_system_open(struct cgroup_system **out, const char *name, struct ld_err *err)
{
    if (cgroup_v2_usable(CGROUP_V2_ROOT))
        return system_open(out, &cgroup_v2_ops, CGROUP_V2_ROOT, name, err);
    return system_open(out, &cgroup_v1_ops, NULL, name, err);
}

int cgroup_system_open_v2_at(struct cgroup_system **out, const char *root, const char *name,
                             struct ld_err *err)
{
    return system_open(out, &cgroup_v2_ops, root, name, err);
}

int cgroup_system_version(const struct cgroup_system *sys)
{
    return sys->ops->version;
}

void cgroup_system_close(struct cgroup_system *sys)
{
    int i;

    if (!sys)
        return;
    if (sys->ops->close)
        sys->ops->close(sys);
    for (i = 0; i < sys->nhier; i++) {
        struct cgroup_hier *h = &sys->hier[i];

        if (h->mount_dfd < 0 || h->parent_dfd < 0 || cgroup_fs_has_groups(h->parent_dfd))
            continue;
        /* rmdir fails harmlessly (EBUSY) if an env appeared meanwhile. */
        if (sys->plain_dir)
            (void) cgroup_fs_remove(h->mount_dfd, sys->name, true, ld_mono_us());
        else
            (void) unlinkat(h->mount_dfd, sys->name, AT_REMOVEDIR);
    }
    system_free(sys);
}
