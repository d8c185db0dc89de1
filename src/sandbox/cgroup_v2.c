/* sandbox/cgroup_v2.c: the cgroup v2 backend (one unified hierarchy).
 *
 * The parent group gets the memory, cpu and pids controllers through
 * cgroup.subtree_control (of the root too, where they must be enabled
 * first), so that each environment group under it has their files:
 *   memory.max       the limit in bytes;
 *   memory.swap.max  0: no swap (absent without swap accounting: skipped);
 *   cpu.max          "quota period" in µs;
 *   pids.max;
 *   memory.peak      the peak (5.19+; before that, memory.current sampled);
 *   memory.events    `oom_kill N` counts OOM kills in the group and below.
 * The freezer and the kill switch are part of the core: writing 1 to
 * cgroup.freeze starts freezing, and cgroup.events says `frozen 1` when it
 * is done; cgroup.kill (5.14+) SIGKILLs the whole subtree at once, and
 * `populated 0` in cgroup.events says it is empty. cgroup.events can be
 * polled (POLLPRI), so waiting costs no sleeps.
 *
 * The root is a parameter so that tests can lay out a plain directory like a
 * cgroup2 hierarchy; on one (detected with fstatfs()), the control files the
 * kernel would provide are created when first written. */
#include "sandbox/sandbox-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "common/clock.h"

static const struct {
    unsigned bit;
    const char *name;
} controllers[] = {
    {CG_MEMORY, "memory"},
    {CG_CPU, "cpu"},
    {CG_PIDS, "pids"},
};
#define NCONTROLLERS (sizeof controllers / sizeof controllers[0])

/* Our controllers among a space-separated list ("cpuset cpu io memory"). */
static unsigned controllers_in(const char *list)
{
    unsigned mask = 0;
    size_t i, len;

    for (;;) {
        list += strspn(list, " \n");
        if (!*list)
            return mask;
        len = strcspn(list, " \n");
        for (i = 0; i < NCONTROLLERS; i++)
            if (strlen(controllers[i].name) == len && strncmp(list, controllers[i].name, len) == 0)
                mask |= controllers[i].bit;
        list += len;
    }
}

/* "+memory +cpu" for the controllers in mask. */
static void enable_list(unsigned mask, char *buf, size_t cap)
{
    size_t i, len = 0;

    buf[0] = '\0';
    for (i = 0; i < NCONTROLLERS && len < cap; i++)
        if (mask & controllers[i].bit)
            len += (size_t) snprintf(buf + len, cap - len, "%s+%s", len ? " " : "",
                                     controllers[i].name);
}

static int read_controllers(int dfd, const char *file, unsigned *mask)
{
    char buf[512];
    ssize_t n = cgroup_fs_read(dfd, file, buf, sizeof buf);

    if (n < 0)
        return (int) n;
    *mask = controllers_in(buf);
    return 0;
}

bool cgroup_v2_usable(const char *root)
{
    LD_AUTOCLOSE int dfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    struct statfs st;
    unsigned avail = 0;

    if (dfd < 0 || fstatfs(dfd, &st) < 0 || st.f_type != CGROUP2_SUPER_MAGIC)
        return false;
    return read_controllers(dfd, "cgroup.controllers", &avail) == 0 &&
           avail == (CG_MEMORY | CG_CPU | CG_PIDS);
}

static int v2_open(struct cgroup_system *sys, const char *root, struct ld_err *err)
{
    struct cgroup_hier *h = &sys->hier[0];
    unsigned avail = 0, enabled = 0;
    struct statfs st;
    char list[64];
    int rc;

    snprintf(h->label, sizeof h->label, "v2");
    h->mount_dfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (h->mount_dfd < 0)
        return ld_err_set(err, errno, "open %s", root);
    sys->nhier = 1; /* from here on, system_free() closes what we opened */
    if (fstatfs(h->mount_dfd, &st) < 0)
        return ld_err_set(err, errno, "statfs %s", root);
    sys->plain_dir = st.f_type != CGROUP2_SUPER_MAGIC;
    if ((rc = read_controllers(h->mount_dfd, "cgroup.controllers", &avail)) < 0)
        return ld_err_set(err, -rc, "read %s/cgroup.controllers", root);
    if ((rc = read_controllers(h->mount_dfd, "cgroup.subtree_control", &enabled)) < 0)
        return ld_err_set(err, -rc, "read %s/cgroup.subtree_control", root);
    /* The root's own processes do not stop this: the root is exempt from
     * the rule that a group with controllers for children has no processes. */
    if (avail & ~enabled) {
        enable_list(avail & ~enabled, list, sizeof list);
        rc = cgroup_fs_write(h->mount_dfd, "cgroup.subtree_control", list, sys->plain_dir);
        if (rc < 0)
            return ld_err_set(err, -rc, "write \"%s\" to %s/cgroup.subtree_control", list, root);
    }
    if (mkdirat(h->mount_dfd, sys->name, 0755) < 0 && errno != EEXIST)
        return ld_err_set(err, errno, "mkdir %s/%s", root, sys->name);
    h->parent_dfd = openat(h->mount_dfd, sys->name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (h->parent_dfd < 0)
        return ld_err_set(err, errno, "open %s/%s", root, sys->name);
    /* The parent holds no process, so its children may get controllers. */
    if (avail) {
        enable_list(avail, list, sizeof list);
        rc = cgroup_fs_write(h->parent_dfd, "cgroup.subtree_control", list, sys->plain_dir);
        if (rc < 0)
            return ld_err_set(err, -rc, "write \"%s\" to %s/%s/cgroup.subtree_control", list,
                              root, sys->name);
    }
    h->ctls = avail;
    /* A plain directory stands for a recent kernel, which has both. */
    if (sys->plain_dir || faccessat(h->parent_dfd, "cgroup.freeze", F_OK, 0) == 0)
        h->ctls |= CG_FREEZER;
    sys->have_kill = sys->plain_dir || faccessat(h->parent_dfd, "cgroup.kill", F_OK, 0) == 0;
    sys->ctls = h->ctls;
    return 0;
}

static int v2_attach(struct cgroup_env *env, struct ld_err *err)
{
    int create = env->sys->plain_dir ? O_CREAT : 0;

    /* Kept open: freeze and thaw are on the invoke path. */
    if (env->sys->ctls & CG_FREEZER) {
        env->freeze_fd = openat(env->dfd[0], "cgroup.freeze", O_WRONLY | O_CLOEXEC | create, 0644);
        if (env->freeze_fd < 0)
            return ld_err_set(err, errno, "open %s/%s/cgroup.freeze", env->sys->name, env->id);
    }
    env->events_fd = openat(env->dfd[0], "cgroup.events", O_RDONLY | O_CLOEXEC | create, 0644);
    if (env->events_fd < 0)
        return ld_err_set(err, errno, "open %s/%s/cgroup.events", env->sys->name, env->id);
    return 0;
}

static int set(struct cgroup_env *env, const char *file, const char *value, struct ld_err *err)
{
    int rc = cgroup_fs_write(env->dfd[0], file, value, env->sys->plain_dir);

    if (rc < 0)
        return ld_err_set(err, -rc, "set %s/%s/%s to %s", env->sys->name, env->id, file, value);
    return 0;
}

static int v2_limit(struct cgroup_env *env, const struct cgroup_limits *lim, struct ld_err *err)
{
    char buf[48];
    int rc;

    if (lim->memory_mb) {
        snprintf(buf, sizeof buf, "%llu", (unsigned long long) lim->memory_mb << 20);
        if ((rc = set(env, "memory.max", buf, err)) < 0)
            return rc;
        /* Without swap accounting the file is absent, and so is swap use. */
        rc = cgroup_fs_write(env->dfd[0], "memory.swap.max", "0", env->sys->plain_dir);
        if (rc < 0 && rc != -ENOENT)
            return ld_err_set(err, -rc, "set %s/%s/memory.swap.max to 0", env->sys->name,
                              env->id);
        snprintf(buf, sizeof buf, "%llu %u",
                 (unsigned long long) cgroup_cpu_quota_us(lim->memory_mb),
                 (unsigned) CGROUP_CPU_PERIOD_US);
        if ((rc = set(env, "cpu.max", buf, err)) < 0)
            return rc;
    }
    if (lim->pids_max) {
        snprintf(buf, sizeof buf, "%u", (unsigned) lim->pids_max);
        if ((rc = set(env, "pids.max", buf, err)) < 0)
            return rc;
    }
    return 0;
}

/* Waits until cgroup.events says `key want`. A key missing from the file
 * (a plain test directory) reads as 0. */
static int wait_event(struct cgroup_env *env, const char *key, uint64_t want, uint64_t deadline)
{
    struct pollfd p = {.fd = env->events_fd, .events = POLLPRI};
    char buf[128];
    uint64_t v, now;
    ssize_t n;
    int rc;

    for (;;) {
        /* Reading re-arms the poll: an event after this read wakes us. */
        n = cgroup_fs_pread(env->events_fd, buf, sizeof buf);
        if (n < 0)
            return (int) n;
        rc = cgroup_fs_key_u64(buf, key, &v);
        if (rc == -ENOENT)
            v = 0;
        else if (rc < 0)
            return rc;
        if (v == want)
            return 0;
        now = ld_mono_us();
        if (now >= deadline)
            return -ETIMEDOUT;
        if (poll(&p, 1, (int) ((deadline - now + 999) / 1000)) < 0 && errno != EINTR)
            return -errno;
    }
}

static int v2_thaw(struct cgroup_env *env)
{
    return cgroup_fs_pwrite(env->freeze_fd, "0");
}

static int v2_freeze(struct cgroup_env *env, unsigned timeout_ms)
{
    int rc = cgroup_fs_pwrite(env->freeze_fd, "1");

    if (rc < 0)
        return rc;
    rc = wait_event(env, "frozen", 1, ld_mono_us() + (uint64_t) timeout_ms * 1000);
    if (rc < 0)
        (void) v2_thaw(env); /* half frozen helps no one */
    return rc;
}

static int v2_peak_memory(struct cgroup_env *env, uint64_t *bytes)
{
    uint64_t cur;
    int rc = cgroup_fs_read_u64(env->dfd[0], "memory.peak", bytes);

    if (rc != -ENOENT)
        return rc;
    if ((rc = cgroup_fs_read_u64(env->dfd[0], "memory.current", &cur)) < 0)
        return rc;
    if (cur > env->peak_seen)
        env->peak_seen = cur;
    *bytes = env->peak_seen;
    return 0;
}

static int v2_oom_kills(struct cgroup_env *env, uint64_t *count)
{
    char buf[256];
    ssize_t n = cgroup_fs_read(env->dfd[0], "memory.events", buf, sizeof buf);

    if (n < 0)
        return (int) n;
    return cgroup_fs_key_u64(buf, "oom_kill", count);
}

static int v2_kill_all(struct cgroup_env *env, struct ld_err *err)
{
    uint64_t deadline = ld_mono_us() + (uint64_t) CGROUP_KILL_TIMEOUT_MS * 1000;
    int rc;

    if (!env->sys->have_kill || env->events_fd < 0)
        return cgroup_kill_listed(env, err);
    rc = cgroup_fs_write(env->dfd[0], "cgroup.kill", "1", env->sys->plain_dir);
    if (rc < 0)
        return ld_err_set(err, -rc, "write 1 to %s/%s/cgroup.kill", env->sys->name, env->id);
    rc = wait_event(env, "populated", 0, deadline);
    if (rc < 0)
        return ld_err_set(err, -rc, "wait for %s/%s to empty", env->sys->name, env->id);
    return 0;
}

const struct cgroup_ops cgroup_v2_ops = {
    .version = 2,
    .open = v2_open,
    .env_attach = v2_attach,
    .env_limit = v2_limit,
    .freeze = v2_freeze,
    .thaw = v2_thaw,
    .peak_memory = v2_peak_memory,
    .oom_kills = v2_oom_kills,
    .kill_all = v2_kill_all,
};
