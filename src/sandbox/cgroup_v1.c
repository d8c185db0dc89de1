/* sandbox/cgroup_v1.c: the cgroup v1 backend (memory, cpu, pids, freezer).
 *
 * v1 mounts each controller as its own hierarchy (or a few together, as in
 * Debian's cpu,cpuacct), so an environment is one group per hierarchy, all
 * with the same name. The mounts are found in /proc/self/mountinfo by their
 * super options rather than assumed at /sys/fs/cgroup/<controller>.
 *
 * Files, per environment group:
 *   memory   memory.limit_in_bytes, then memory.memsw.limit_in_bytes (memory
 *            plus swap, only with swap accounting) to the same value: the
 *            order matters, the kernel refuses memsw below the memory limit;
 *            memory.max_usage_in_bytes is the peak; memory.oom_control has
 *            an `oom_kill N` line (4.13+) counting OOM kills in the group.
 *   cpu      cpu.cfs_period_us, then cpu.cfs_quota_us.
 *   pids     pids.max.
 *   freezer  freezer.state: writing FROZEN starts freezing; reading says
 *            FREEZING until every task is frozen, and cannot be polled, so
 *            freezing re-reads it with a short backoff. THAWED takes effect
 *            when the write returns. A task killed while frozen stays in
 *            the group until thawed.
 *
 * The freeze anchor: the first group to start freezing turns on a kernel
 * static key (freezer_active), and the last one to thaw turns it off; each
 * flip patches kernel text on every CPU. Measured here, a FROZEN or THAWED
 * write costs ~65 µs when it flips the key and ~8 µs when it does not. So
 * the parent keeps one empty group, `.freeze-anchor`, frozen for as long as
 * the system is open, and freezing or thawing an environment never flips it.
 * The key only makes the kernel's "should this task freeze?" check take its
 * slow path, which is the state of any host with a frozen environment. */
#include "sandbox/sandbox-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/clock.h"

#define MOUNTINFO "/proc/self/mountinfo"
#define MOUNTINFO_FIELDS 64
/* Polls of freezer.state before sleeping between them: a group of idle
 * tasks is frozen by the time the write returns, a running task within a
 * few microseconds (the kernel kicks its CPU); a sleep costs 50 µs+. */
#define FREEZE_SPIN_READS 8
#define ANCHOR ".freeze-anchor" /* dot: never an env id, never swept */

static const struct {
    unsigned bit;
    const char *name;
} controllers[] = {
    {CG_MEMORY, "memory"},
    {CG_CPU, "cpu"},
    {CG_PIDS, "pids"},
    {CG_FREEZER, "freezer"},
};
#define NCONTROLLERS (sizeof controllers / sizeof controllers[0])

/* ---- finding the hierarchies -------------------------------------------- */

/* Undoes mountinfo's octal escapes (\040 for a space) in place. */
static void unescape(char *s)
{
    char *out = s;

    while (*s) {
        if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
            s[3] >= '0' && s[3] <= '7') {
            *out++ = (char) ((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
            s += 4;
        } else {
            *out++ = *s++;
        }
    }
    *out = '\0';
}

/* Our controllers among a cgroup mount's super options ("rw,cpu,cpuacct"). */
static unsigned controllers_in(const char *opts)
{
    unsigned mask = 0;
    size_t i, len;

    while (*opts) {
        len = strcspn(opts, ",");
        for (i = 0; i < NCONTROLLERS; i++)
            if (strlen(controllers[i].name) == len && strncmp(opts, controllers[i].name, len) == 0)
                mask |= controllers[i].bit;
        opts += len;
        if (*opts == ',')
            opts++;
    }
    return mask;
}

/* Parses one mountinfo line: "id parent maj:min root mountpoint opts
 * [optional...] - fstype source superopts". For a v1 cgroup mount carrying
 * some of our controllers, returns their mask and points *mnt at the
 * unescaped mount point (inside line); else 0. */
static unsigned parse_mount(char *line, char **mnt)
{
    char *f[MOUNTINFO_FIELDS], *save = NULL, *tok;
    int n = 0, sep;

    for (tok = strtok_r(line, " \n", &save); tok && n < MOUNTINFO_FIELDS;
         tok = strtok_r(NULL, " \n", &save))
        f[n++] = tok;
    for (sep = 6; sep < n && strcmp(f[sep], "-") != 0; sep++)
        ;
    if (n < 7 || sep + 3 >= n || strcmp(f[sep + 1], "cgroup") != 0)
        return 0;
    unescape(f[4]);
    *mnt = f[4];
    return controllers_in(f[sep + 3]);
}

static void set_label(struct cgroup_hier *h)
{
    size_t i, len = 0;

    h->label[0] = '\0';
    for (i = 0; i < NCONTROLLERS; i++) {
        if (!(h->ctls & controllers[i].bit))
            continue;
        len += (size_t) snprintf(h->label + len, sizeof h->label - len, "%s%s", len ? "," : "",
                                 controllers[i].name);
        if (len >= sizeof h->label)
            break;
    }
}

/* Opens the mount and creates (or reuses) the parent group in it. */
static int add_hier(struct cgroup_system *sys, unsigned mask, const char *mnt, struct ld_err *err)
{
    struct cgroup_hier *h = &sys->hier[sys->nhier];

    if (sys->nhier == CG_MAX_HIER)
        return ld_err_set(err, E2BIG, "too many cgroup hierarchies");
    h->ctls = mask;
    set_label(h);
    h->mount_dfd = open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (h->mount_dfd < 0)
        return ld_err_set(err, errno, "%s: open %s", h->label, mnt);
    sys->nhier++; /* from here on, system_free() closes what we opened */
    if (mkdirat(h->mount_dfd, sys->name, 0755) < 0 && errno != EEXIST)
        return ld_err_set(err, errno, "%s: mkdir %s/%s", h->label, mnt, sys->name);
    h->parent_dfd = openat(h->mount_dfd, sys->name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (h->parent_dfd < 0)
        return ld_err_set(err, errno, "%s: open %s/%s", h->label, mnt, sys->name);
    sys->ctls |= mask;
    return 0;
}

/* Creates (or reuses) the freeze anchor and freezes it (see the top). */
static int anchor_freeze(const struct cgroup_hier *h, const char *name, struct ld_err *err)
{
    LD_AUTOCLOSE int dfd = -1;
    int rc;

    if (mkdirat(h->parent_dfd, ANCHOR, 0755) < 0 && errno != EEXIST)
        return ld_err_set(err, errno, "%s: mkdir %s/" ANCHOR, h->label, name);
    dfd = openat(h->parent_dfd, ANCHOR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return ld_err_set(err, errno, "%s: open %s/" ANCHOR, h->label, name);
    if ((rc = cgroup_fs_write(dfd, "freezer.state", "FROZEN", false)) < 0)
        return ld_err_set(err, -rc, "%s: freeze %s/" ANCHOR, h->label, name);
    return 0;
}

static int v1_open(struct cgroup_system *sys, const char *root, struct ld_err *err)
{
    FILE *f = fopen(MOUNTINFO, "re");
    char *line = NULL, *mnt = NULL;
    size_t cap = 0;
    unsigned mask, found = 0;
    int rc = 0, i;

    (void) root;
    if (!f)
        return ld_err_set(err, errno, "open %s", MOUNTINFO);
    while (rc == 0 && getline(&line, &cap, f) > 0) {
        mask = parse_mount(line, &mnt);
        /* A hierarchy mounted twice (a bind mount) shows up twice: the
         * first mount serves. */
        if (mask == 0 || (mask & found))
            continue;
        rc = add_hier(sys, mask, mnt, err);
        found |= mask;
    }
    free(line);
    fclose(f);
    if (rc < 0)
        return rc;
    if (found != CG_ALL) {
        for (i = 0; i < (int) NCONTROLLERS; i++)
            if (!(found & controllers[i].bit))
                return ld_err_set(err, ENOENT, "no %s controller mounted", controllers[i].name);
    }
    for (i = 0; i < sys->nhier; i++) {
        const struct cgroup_hier *h = &sys->hier[i];

        if (h->ctls & CG_MEMORY)
            sys->have_memsw = faccessat(h->parent_dfd, "memory.memsw.limit_in_bytes", F_OK, 0) == 0;
        if ((h->ctls & CG_FREEZER) && (rc = anchor_freeze(h, sys->name, err)) < 0)
            return rc;
    }
    return 0;
}

static void v1_close(struct cgroup_system *sys)
{
    int i;

    /* Only with no environment left: their thaws would flip the key again. */
    for (i = 0; i < sys->nhier; i++)
        if ((sys->hier[i].ctls & CG_FREEZER) && sys->hier[i].parent_dfd >= 0 &&
            !cgroup_fs_has_groups(sys->hier[i].parent_dfd))
            (void) unlinkat(sys->hier[i].parent_dfd, ANCHOR, AT_REMOVEDIR);
}

/* ---- environments --------------------------------------------------------- */

/* The env's group in the hierarchy carrying ctl, or -1. */
static int env_dfd(const struct cgroup_env *env, unsigned ctl)
{
    int i;

    for (i = 0; i < env->sys->nhier; i++)
        if (env->sys->hier[i].ctls & ctl)
            return env->dfd[i];
    return -1;
}

static int v1_attach(struct cgroup_env *env, struct ld_err *err)
{
    int dfd = env_dfd(env, CG_FREEZER);

    if (dfd < 0)
        return ld_err_set(err, ENOENT, "freezer: no group %s/%s", env->sys->name, env->id);
    /* Kept open: freeze and thaw are on the invoke path. */
    env->freeze_fd = openat(dfd, "freezer.state", O_RDWR | O_CLOEXEC);
    if (env->freeze_fd < 0)
        return ld_err_set(err, errno, "freezer: open %s/%s/freezer.state", env->sys->name,
                          env->id);
    return 0;
}

static int set(struct cgroup_env *env, unsigned ctl, const char *file, uint64_t value,
               struct ld_err *err)
{
    char buf[24];
    int rc;

    snprintf(buf, sizeof buf, "%llu", (unsigned long long) value);
    rc = cgroup_fs_write(env_dfd(env, ctl), file, buf, false);
    if (rc < 0)
        return ld_err_set(err, -rc, "set %s/%s/%s to %s", env->sys->name, env->id, file, buf);
    return 0;
}

static int v1_limit(struct cgroup_env *env, const struct cgroup_limits *lim, struct ld_err *err)
{
    uint64_t bytes = (uint64_t) lim->memory_mb << 20;
    int rc;

    if (lim->memory_mb) {
        if ((rc = set(env, CG_MEMORY, "memory.limit_in_bytes", bytes, err)) < 0)
            return rc;
        if (env->sys->have_memsw &&
            (rc = set(env, CG_MEMORY, "memory.memsw.limit_in_bytes", bytes, err)) < 0)
            return rc;
        if ((rc = set(env, CG_CPU, "cpu.cfs_period_us", CGROUP_CPU_PERIOD_US, err)) < 0 ||
            (rc = set(env, CG_CPU, "cpu.cfs_quota_us", cgroup_cpu_quota_us(lim->memory_mb),
                      err)) < 0)
            return rc;
    }
    if (lim->pids_max && (rc = set(env, CG_PIDS, "pids.max", lim->pids_max, err)) < 0)
        return rc;
    return 0;
}

static int v1_thaw(struct cgroup_env *env)
{
    return cgroup_fs_pwrite(env->freeze_fd, "THAWED");
}

static int v1_freeze(struct cgroup_env *env, unsigned timeout_ms)
{
    uint64_t deadline = ld_mono_us() + (uint64_t) timeout_ms * 1000;
    unsigned wait_us = 10;
    char state[16];
    ssize_t n;
    int rc, reads = 0;

    if ((rc = cgroup_fs_pwrite(env->freeze_fd, "FROZEN")) < 0)
        return rc;
    for (;;) {
        n = cgroup_fs_pread(env->freeze_fd, state, sizeof state);
        if (n < 0)
            return (int) n;
        if (strncmp(state, "FROZEN", 6) == 0)
            return 0;
        if (ld_mono_us() >= deadline) {
            /* Half frozen helps no one: give the caller a running group. */
            (void) v1_thaw(env);
            return -ETIMEDOUT;
        }
        if (++reads < FREEZE_SPIN_READS)
            sched_yield();
        else
            cgroup_fs_backoff(&wait_us);
    }
}

static int v1_peak_memory(struct cgroup_env *env, uint64_t *bytes)
{
    return cgroup_fs_read_u64(env_dfd(env, CG_MEMORY), "memory.max_usage_in_bytes", bytes);
}

static int v1_oom_kills(struct cgroup_env *env, uint64_t *count)
{
    char buf[256];
    ssize_t n = cgroup_fs_read(env_dfd(env, CG_MEMORY), "memory.oom_control", buf, sizeof buf);
    int rc;

    if (n < 0)
        return (int) n;
    rc = cgroup_fs_key_u64(buf, "oom_kill", count);
    return rc == -ENOENT ? -ENOTSUP : rc; /* kernels before 4.13 do not count */
}

const struct cgroup_ops cgroup_v1_ops = {
    .version = 1,
    .open = v1_open,
    .env_attach = v1_attach,
    .env_limit = v1_limit,
    .freeze = v1_freeze,
    .thaw = v1_thaw,
    .peak_memory = v1_peak_memory,
    .oom_kills = v1_oom_kills,
    .kill_all = cgroup_kill_listed,
    .close = v1_close,
};
