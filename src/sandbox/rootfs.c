/* sandbox/rootfs.c: gives an environment its root filesystem.
 *
 * Runs in the child after clone(), inside its new mount namespace, so
 * nothing here is seen by the host or by other environments, and nothing
 * allocates: failures go into the caller's struct ld_err. The steps, in order:
 *
 *   1. make every mount private, so nothing we do propagates back to the host;
 *   2. a fresh tmpfs on SANDBOX_ROOT_DIR becomes the new root;
 *   3. the host's runtime files (/usr, /lib*, and /bin, /sbin unless they are
 *      merged-/usr symlinks) are bind-mounted read-only, as are the few /etc
 *      files programs need; /etc/passwd and /etc/group are written fresh,
 *      with the sandbox user;
 *   4. /var/task, /var/runtime and /opt from the environment's own dirs,
 *      read-only; /tmp a tmpfs of EphemeralStorage's size, owned by the
 *      sandbox user. A blank environment (no task dir yet: prepared before
 *      its function is known) gets empty mount points there instead, which
 *      sandbox/code_mounts.c fills later;
 *   5. a minimal /dev: the five character devices bound from the host, a
 *      /dev/shm tmpfs, the /dev/fd and std* links;
 *   6. pivot_root, then the old root is detached: no host path is reachable;
 *   7. a fresh /proc for the new pid namespace (after pivot_root: it must
 *      be the new namespace's), and the root is remounted read-only. */
#include "sandbox/rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define RO_FLAGS (MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)

static int mkdir_in(const char *root, const char *rel, mode_t mode, struct ld_err *err)
{
    char path[512];

    snprintf(path, sizeof path, "%s/%s", root, rel);
    if (mkdir(path, mode) < 0 && errno != EEXIST)
        return ld_err_set(err, errno, "mkdir %s", rel);
    return 0;
}

/* Binds host `src` on root/`rel` read-only; a missing optional source is
 * skipped. Directories and files both work (a file needs a file to cover). */
static int bind_ro(const char *root, const char *src, const char *rel, bool optional,
                   struct ld_err *err)
{
    char dst[512];
    struct stat st;
    int fd;

    if (stat(src, &st) < 0) {
        if (optional && errno == ENOENT)
            return 0;
        return ld_err_set(err, errno, "stat %s", src);
    }
    snprintf(dst, sizeof dst, "%s/%s", root, rel);
    if (S_ISDIR(st.st_mode)) {
        if (mkdir(dst, 0755) < 0 && errno != EEXIST)
            return ld_err_set(err, errno, "mkdir %s", rel);
    } else {
        fd = open(dst, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0)
            return ld_err_set(err, errno, "create %s", rel);
        close(fd);
    }
    if (mount(src, dst, NULL, MS_BIND | MS_REC, NULL) < 0)
        return ld_err_set(err, errno, "bind %s", src);
    /* A bind mount takes the flags only on a remount. */
    if (mount(NULL, dst, NULL, RO_FLAGS, NULL) < 0)
        return ld_err_set(err, errno, "read-only %s", rel);
    return 0;
}

/* /bin and friends: a symlink like the host's when the host merged them
 * into /usr (Debian 12 does), else a read-only bind of the directory. */
static int link_or_bind(const char *root, const char *host, struct ld_err *err)
{
    char target[256], dst[512];
    struct stat st;
    ssize_t n;

    if (lstat(host, &st) < 0)
        return errno == ENOENT ? 0 : ld_err_set(err, errno, "lstat %s", host);
    if (!S_ISLNK(st.st_mode))
        return bind_ro(root, host, host + 1, false, err);
    n = readlink(host, target, sizeof target - 1);
    if (n < 0)
        return ld_err_set(err, errno, "readlink %s", host);
    target[n] = '\0';
    snprintf(dst, sizeof dst, "%s%s", root, host);
    if (symlink(target, dst) < 0 && errno != EEXIST)
        return ld_err_set(err, errno, "symlink %s", host);
    return 0;
}

static int write_file(const char *root, const char *rel, const char *text, struct ld_err *err)
{
    char path[512];
    size_t len = strlen(text);
    int fd;

    snprintf(path, sizeof path, "%s/%s", root, rel);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return ld_err_set(err, errno, "create %s", rel);
    if (write(fd, text, len) != (ssize_t) len) {
        int e = errno ? errno : EIO;

        close(fd);
        return ld_err_set(err, e, "write %s", rel);
    }
    close(fd);
    return 0;
}

static int make_etc(const char *root, struct ld_err *err)
{
    /* alternatives: Debian's /usr/bin/awk, editor... are links through it. */
    static const char *const host_files[] = {"hosts",       "resolv.conf",     "nsswitch.conf",
                                             "localtime",   "ssl",             "ca-certificates",
                                             "ld.so.cache", "alternatives"};
    char src[64], rel[64];
    size_t i;
    int rc;

    if ((rc = mkdir_in(root, "etc", 0755, err)) < 0)
        return rc;
    /* The sandbox user of Lambda, and root for init. */
    if ((rc = write_file(root, "etc/passwd",
                         "root:x:0:0:root:/root:/sbin/nologin\n" SANDBOX_USER ":x:993:990::/tmp:/sbin/nologin\n",
                         err)) < 0 ||
        (rc = write_file(root, "etc/group", "root:x:0:\n" SANDBOX_USER ":x:990:\n", err)) < 0)
        return rc;
    for (i = 0; i < sizeof host_files / sizeof host_files[0]; i++) {
        snprintf(src, sizeof src, "/etc/%s", host_files[i]);
        snprintf(rel, sizeof rel, "etc/%s", host_files[i]);
        if ((rc = bind_ro(root, src, rel, true, err)) < 0)
            return rc;
    }
    return 0;
}

static int make_dev(const char *root, struct ld_err *err)
{
    static const char *const devices[] = {"null", "zero", "full", "random", "urandom", "tty"};
    static const char *const links[][2] = {
        {"/proc/self/fd", "dev/fd"},   {"/proc/self/fd/0", "dev/stdin"},
        {"/proc/self/fd/1", "dev/stdout"}, {"/proc/self/fd/2", "dev/stderr"},
    };
    char path[512], src[32], rel[32];
    size_t i;

    snprintf(path, sizeof path, "%s/dev", root);
    if (mkdir(path, 0755) < 0 && errno != EEXIST)
        return ld_err_set(err, errno, "mkdir /dev");
    if (mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755,size=64k") < 0)
        return ld_err_set(err, errno, "mount /dev");
    for (i = 0; i < sizeof devices / sizeof devices[0]; i++) {
        char dst[512];
        int fd;

        snprintf(src, sizeof src, "/dev/%s", devices[i]);
        snprintf(rel, sizeof rel, "dev/%s", devices[i]);
        snprintf(dst, sizeof dst, "%s/%s", root, rel);
        if (access(src, F_OK) < 0)
            continue;
        fd = open(dst, O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
        if (fd < 0)
            return ld_err_set(err, errno, "create %s", rel);
        close(fd);
        /* Writable (null, zero, full): bound without MS_RDONLY, but nosuid. */
        if (mount(src, dst, NULL, MS_BIND, NULL) < 0 ||
            mount(NULL, dst, NULL, MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NOEXEC, NULL) < 0)
            return ld_err_set(err, errno, "bind %s", src);
    }
    for (i = 0; i < sizeof links / sizeof links[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", root, links[i][1]);
        if (symlink(links[i][0], path) < 0 && errno != EEXIST)
            return ld_err_set(err, errno, "symlink %s", links[i][1]);
    }
    snprintf(path, sizeof path, "%s/dev/shm", root);
    if (mkdir(path, 01777) < 0 && errno != EEXIST)
        return ld_err_set(err, errno, "mkdir /dev/shm");
    if (mount("shm", path, "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=65536k") < 0)
        return ld_err_set(err, errno, "mount /dev/shm");
    return 0;
}

int rootfs_build(const struct sandbox_mounts *m, struct ld_err *err)
{
    const char *root = SANDBOX_ROOT_DIR;
    char opts[96], path[512];
    int rc;

    /* 1. Nothing mounted from here on may leak out to the host. */
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        return ld_err_set(err, errno, "make mounts private");
    /* 2. */
    if (mount("rootfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m") < 0)
        return ld_err_set(err, errno, "mount root tmpfs");
    /* 3. */
    if ((rc = bind_ro(root, "/usr", "usr", false, err)) < 0 ||
        (rc = link_or_bind(root, "/lib", err)) < 0 || (rc = link_or_bind(root, "/lib64", err)) < 0 ||
        (rc = link_or_bind(root, "/lib32", err)) < 0 || (rc = link_or_bind(root, "/bin", err)) < 0 ||
        (rc = link_or_bind(root, "/sbin", err)) < 0 || (rc = make_etc(root, err)) < 0)
        return rc;
    /* 4. */
    if ((rc = mkdir_in(root, "var", 0755, err)) < 0)
        return rc;
    if (!m->task_dir) {
        /* Blank: every mount point sandbox_mount_code() may use. */
        if ((rc = mkdir_in(root, "var/task", 0755, err)) < 0 ||
            (rc = mkdir_in(root, "opt", 0755, err)) < 0 ||
            (rc = mkdir_in(root, "opt/extensions", 0755, err)) < 0)
            return rc;
    } else if ((rc = bind_ro(root, m->task_dir, "var/task", false, err)) < 0) {
        return rc;
    }
    if (m->runtime_dir && (rc = bind_ro(root, m->runtime_dir, "var/runtime", false, err)) < 0)
        return rc;
    if (!m->runtime_dir && (rc = mkdir_in(root, "var/runtime", 0755, err)) < 0)
        return rc;
    if (m->opt_dir && (rc = bind_ro(root, m->opt_dir, "opt", false, err)) < 0)
        return rc;
    if (m->task_dir && !m->opt_dir && (rc = mkdir_in(root, "opt", 0755, err)) < 0)
        return rc;
    if (!m->opt_dir && m->extensions_dir &&
        (rc = bind_ro(root, m->extensions_dir, "opt/extensions", true, err)) < 0)
        return rc;
    if ((rc = mkdir_in(root, "tmp", 01777, err)) < 0)
        return rc;
    snprintf(path, sizeof path, "%s/tmp", root);
    snprintf(opts, sizeof opts, "mode=1777,size=%llum,uid=%d,gid=%d",
             (unsigned long long) (m->tmp_mb ? m->tmp_mb : 512), SANDBOX_UID, SANDBOX_GID);
    if (mount("tmp", path, "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0)
        return ld_err_set(err, errno, "mount /tmp");
    /* 5. */
    if ((rc = make_dev(root, err)) < 0)
        return rc;
    if ((rc = mkdir_in(root, "proc", 0555, err)) < 0 || (rc = mkdir_in(root, ".old", 0700, err)) < 0)
        return rc;
    /* 6. */
    if (syscall(SYS_pivot_root, root, SANDBOX_ROOT_DIR "/.old") < 0)
        return ld_err_set(err, errno, "pivot_root");
    if (chdir("/") < 0)
        return ld_err_set(err, errno, "chdir /");
    if (umount2("/.old", MNT_DETACH) < 0)
        return ld_err_set(err, errno, "detach the host root");
    if (rmdir("/.old") < 0)
        return ld_err_set(err, errno, "rmdir /.old");
    /* 7. */
    if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
        return ld_err_set(err, errno, "mount /proc");
    if (mount(NULL, "/", NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) < 0)
        return ld_err_set(err, errno, "read-only root");
    return 0;
}
