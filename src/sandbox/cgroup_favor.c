/* sandbox/cgroup_favor.c: makes moving a process into a cgroup cheap.
 *
 * Every migration between cgroups takes the kernel's global
 * cgroup_threadgroup_rwsem for writing. That lock is a per-CPU rwsem tuned for
 * cheap forks: a writer must first wait for an RCU grace period, and the
 * kernel switches back to the fast mode one grace period after the last
 * writer. So a lone migration, the normal case when environments start now
 * and then, costs a full grace period: 7 to 20 ms measured on this machine
 * (kernel 6.18, 2 vCPUs), against 0.05 to 0.3 ms when the lock is already in
 * its slow mode. It was the largest part of a sandboxed cold start.
 *
 * Since Linux 6.0 a hierarchy mounted with `favordynmods` keeps that lock in
 * its slow mode for as long as the hierarchy exists: migrations stop waiting
 * for grace periods, and forks and exits pay an atomic operation instead of a
 * per-CPU one, which is the trade the kernel documents for hosts that create
 * and fill cgroups all the time (as a Lambda node does). The flag is global,
 * so one small named v1 hierarchy with no controllers is enough; it is left
 * mounted on purpose, since unmounting the last user switches the lock back.
 * v2 hosts do not need it: clone3(CLONE_INTO_CGROUP) places the child at
 * fork, without a migration. */
#include "sandbox/cgroup.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#ifndef CGROUP_SUPER_MAGIC
#define CGROUP_SUPER_MAGIC 0x27e0eb
#endif

int cgroup_favor_dynmods(const char *mountpoint, struct ld_err *err)
{
    struct statfs st;
    const char *off = getenv("LAMBDAD_CGROUP_FAVORDYNMODS");

    char parent[256];
    char *slash;

    if (off && strcmp(off, "0") == 0)
        return 0;
    if (snprintf(parent, sizeof parent, "%s", mountpoint) >= (int) sizeof parent)
        return ld_err_set(err, ENAMETOOLONG, "favordynmods mount point");
    slash = strrchr(parent, '/');
    if (slash && slash != parent) {
        *slash = '\0';
        if (mkdir(parent, 0755) < 0 && errno != EEXIST)
            return ld_err_set(err, errno, "mkdir %s", parent);
    }
    if (mkdir(mountpoint, 0700) < 0 && errno != EEXIST)
        return ld_err_set(err, errno, "mkdir %s", mountpoint);
    if (statfs(mountpoint, &st) == 0 && st.f_type == CGROUP_SUPER_MAGIC)
        return 0; /* an earlier run left it, as intended */
    if (mount("cgroup", mountpoint, "cgroup", MS_NOSUID | MS_NODEV | MS_NOEXEC,
              "none,name=lambdad,favordynmods") < 0)
        return ld_err_set(err, errno, "mount a favordynmods cgroup hierarchy on %s", mountpoint);
    return 0;
}
