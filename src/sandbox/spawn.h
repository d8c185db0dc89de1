/* sandbox/spawn.h: starts a program as pid 1 of a fresh execution
 * environment: new mount, pid, ipc, uts, net and cgroup namespaces, its own
 * root filesystem (sandbox/rootfs.c), loopback up, the host tree unmounted.
 *
 * The caller (the parent of `lambdad init`) passes the program as an open
 * file descriptor, since after pivot_root no host path can be named. The
 * cgroup, the user the function runs as and the seccomp filter are applied by
 * other parts (sandbox/cgroup.c; `lambdad init` drops to the sandbox user and
 * installs the filter for the runtime and extensions it starts). */
#ifndef LD_SANDBOX_SPAWN_H
#define LD_SANDBOX_SPAWN_H

#include <stdint.h>
#include <sys/types.h>

#include "common/err.h"

struct sandbox_seccomp;

#define SANDBOX_UID 993
#define SANDBOX_GID 990
#define SANDBOX_USER "sbx_user1051"

struct sandbox_mounts {
    const char *task_dir;    /* host dir seen read-only as /var/task; NULL: a blank
                                environment, filled later by sandbox_mount_code() */
    const char *runtime_dir; /* host dir seen read-only as /var/runtime, or NULL */
    const char *opt_dir;     /* host dir seen read-only as /opt (layers), or NULL */
    const char *extensions_dir; /* host dir seen read-only as /opt/extensions, or NULL;
                                   only when opt_dir is NULL (layers bring their own) */
    uint64_t tmp_mb;         /* size of /tmp (EphemeralStorage), 512 by default */
};

struct sandbox_spawn {
    struct sandbox_mounts mounts;
    const char *hostname;   /* e.g. "169.254.12.34"-style or an env id; NULL: "localhost" */
    int exe_fd;             /* the program, opened by the caller (O_PATH is enough) */
    char *const *argv;      /* argv[0] is only the name the program sees */
    char *const *envp;
    const int *keep_fds;    /* fds passed on as 3, 4, ... in this order */
    int nkeep;
    int stdio_fd;           /* becomes stdout and stderr; -1 keeps ours */
    const int *cgroup_procs_fds; /* cgroup.procs files to join before exec, or NULL */
    int ncgroup_procs;
    /* Installed last, just before exec, so the program and everything it
     * starts inherit it (sandbox/seccomp.h); NULL for none. */
    const struct sandbox_seccomp *seccomp;
};

/* Creates the environment and execs the program in it as pid 1. Returns its
 * pid (in our namespace), or -errno with err set to the step that failed in
 * the child ("mount /usr: ..."). The caller reaps it; everything inside
 * dies with it (it is pid 1 of its namespace). */
pid_t sandbox_spawn(const struct sandbox_spawn *spec, struct ld_err *err);

/* Gives a blank environment (spawned with task_dir NULL, so nothing of any
 * function is in it yet) its code: m's dirs are mounted read-only into the
 * mount namespace of the process `pidfd` refers to (its pid 1), and /tmp is
 * resized to m->tmp_mb. Runs on a short-lived thread of its own, since
 * entering another mount namespace is per thread and must not touch the
 * caller's root or working directory. About 0.1 ms. */
int sandbox_mount_code(int pidfd, const struct sandbox_mounts *m, struct ld_err *err);

/* The empty directory every environment mounts its root on, inside its own
 * mount namespace (so one directory serves them all). Created if missing. */
#define SANDBOX_ROOT_DIR "/run/lambdad/root"
int sandbox_prepare_host(struct ld_err *err);

#endif
