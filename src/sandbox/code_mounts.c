/* sandbox/code_mounts.c: puts a function's code into a blank environment.
 *
 * A blank environment is built ahead of demand, before anyone knows which
 * function it will run, so that a cold start does not pay for namespaces,
 * the root filesystem and init's own start-up (sandbox/spawn.c makes it with
 * empty mount points). When it is handed to a function, the function's dirs
 * must appear inside its mount namespace, whose root no longer shows any host
 * path. The new mount API does that without help from inside: open_tree()
 * clones each host dir as a detached mount while we still see the host,
 * mount_setattr() makes it read-only, and after setns() into the
 * environment's namespace move_mount() attaches it on its mount point.
 *
 * setns(CLONE_NEWNS) changes the calling thread's root and working directory
 * and is refused to a thread that shares them with others, so the namespace
 * is entered by a thread of our own that first unshares CLONE_FS and then
 * exits; the caller's view of the filesystem never changes. */
#include "sandbox/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/err.h"

#define MAX_CODE_MOUNTS 4

struct code_mount {
    int fd;           /* detached, read-only clone of the host dir */
    const char *dst;  /* mount point inside the environment */
};

struct job {
    int pidfd;
    struct code_mount mounts[MAX_CODE_MOUNTS];
    int n;
    uint64_t tmp_mb;
    struct ld_err err;
    int rc;
};

static int clone_ro(const char *src, struct code_mount *out, const char *dst, struct ld_err *err)
{
    struct mount_attr attr = {
        .attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
    };
    int fd = (int) syscall(SYS_open_tree, AT_FDCWD, src,
                           OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);

    if (fd < 0)
        return ld_err_set(err, errno, "clone mount of %s", src);
    if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0) {
        int e = errno;

        close(fd);
        return ld_err_set(err, e, "make %s read-only", src);
    }
    out->fd = fd;
    out->dst = dst;
    return 0;
}

static void *enter_and_mount(void *arg)
{
    struct job *j = arg;
    char opts[64];
    int i;

    j->rc = 0;
    if (unshare(CLONE_FS) < 0) {
        j->rc = ld_err_set(&j->err, errno, "unshare fs");
        return NULL;
    }
    if (setns(j->pidfd, CLONE_NEWNS) < 0) {
        j->rc = ld_err_set(&j->err, errno, "enter the environment's mount namespace");
        return NULL;
    }
    for (i = 0; i < j->n; i++) {
        if (syscall(SYS_move_mount, j->mounts[i].fd, "", AT_FDCWD, j->mounts[i].dst,
                    MOVE_MOUNT_F_EMPTY_PATH) < 0) {
            j->rc = ld_err_set(&j->err, errno, "mount %s", j->mounts[i].dst);
            return NULL;
        }
    }
    if (j->tmp_mb && j->tmp_mb != 512) {
        snprintf(opts, sizeof opts, "size=%llum", (unsigned long long) j->tmp_mb);
        if (mount(NULL, "/tmp", NULL, MS_REMOUNT | MS_NOSUID | MS_NODEV, opts) < 0)
            j->rc = ld_err_set(&j->err, errno, "resize /tmp");
    }
    return NULL;
}

int sandbox_mount_code(int pidfd, const struct sandbox_mounts *m, struct ld_err *err)
{
    struct job j = {.pidfd = pidfd, .tmp_mb = m->tmp_mb};
    pthread_t t;
    int i, rc = 0;

    if (!m->task_dir)
        return ld_err_set(err, EINVAL, "no task dir to mount");
    if ((rc = clone_ro(m->task_dir, &j.mounts[j.n], "/var/task", err)) < 0)
        goto out;
    j.n++;
    if (m->runtime_dir) {
        if ((rc = clone_ro(m->runtime_dir, &j.mounts[j.n], "/var/runtime", err)) < 0)
            goto out;
        j.n++;
    }
    if (m->opt_dir) {
        if ((rc = clone_ro(m->opt_dir, &j.mounts[j.n], "/opt", err)) < 0)
            goto out;
        j.n++;
    } else if (m->extensions_dir && access(m->extensions_dir, F_OK) == 0) {
        if ((rc = clone_ro(m->extensions_dir, &j.mounts[j.n], "/opt/extensions", err)) < 0)
            goto out;
        j.n++;
    }
    if ((rc = pthread_create(&t, NULL, enter_and_mount, &j)) != 0) {
        rc = ld_err_set(err, rc, "mount thread");
        goto out;
    }
    pthread_join(t, NULL);
    if ((rc = j.rc) < 0)
        *err = j.err;
out:
    for (i = 0; i < j.n; i++)
        close(j.mounts[i].fd);
    return rc < 0 ? ld_err_prefix(err, "environment code") : 0;
}
