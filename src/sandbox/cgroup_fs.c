/* sandbox/cgroup_fs.c: reading and writing cgroup control files.
 *
 * Both cgroup versions are file systems of small text files: a value is set
 * with one write() (the kernel parses the whole buffer at once, so a value
 * must never be split), read back as text, and a group is a directory that
 * is removed with rmdir() once no process is left in it. Everything here is
 * relative to directory fds, opened O_CLOEXEC (STYLE §4), and returns -errno
 * so that callers add the context their messages need. */
#include "sandbox/sandbox-internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"

#define REMOVE_DEPTH_MAX 16 /* environments cannot create groups; this is a bound, not a need */

int cgroup_fs_write(int dfd, const char *file, const char *s, bool create)
{
    LD_AUTOCLOSE int fd = -1;
    size_t len = strlen(s);
    ssize_t n;

    fd = openat(dfd, file, O_WRONLY | O_TRUNC | O_CLOEXEC | (create ? O_CREAT : 0), 0644);
    if (fd < 0)
        return -errno;
    n = write(fd, s, len);
    if (n < 0)
        return -errno;
    return (size_t) n == len ? 0 : -EIO;
}

int cgroup_fs_pwrite(int fd, const char *s)
{
    size_t len = strlen(s);
    ssize_t n = pwrite(fd, s, len, 0);

    if (n < 0)
        return -errno;
    return (size_t) n == len ? 0 : -EIO;
}

ssize_t cgroup_fs_pread(int fd, char *buf, size_t cap)
{
    size_t len = 0;
    ssize_t n;

    if (cap == 0)
        return -EINVAL;
    /* Offset 0 each time: kernfs regenerates the text when read from 0. */
    while (len < cap - 1) {
        n = pread(fd, buf + len, cap - 1 - len, (off_t) len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            break;
        len += (size_t) n;
    }
    buf[len] = '\0';
    return (ssize_t) len;
}

ssize_t cgroup_fs_read(int dfd, const char *file, char *buf, size_t cap)
{
    LD_AUTOCLOSE int fd = openat(dfd, file, O_RDONLY | O_CLOEXEC);

    if (cap > 0)
        buf[0] = '\0'; /* a failure leaves an empty string, never garbage */
    if (fd < 0)
        return -errno;
    return cgroup_fs_pread(fd, buf, cap);
}

int cgroup_fs_parse_u64(const char *s, uint64_t *v)
{
    unsigned long long x;
    char *end;

    if (s[0] == 'm' && s[1] == 'a' && s[2] == 'x' && (s[3] == '\0' || s[3] == '\n')) {
        *v = UINT64_MAX;
        return 0;
    }
    if (*s < '0' || *s > '9')
        return -EINVAL;
    errno = 0;
    x = strtoull(s, &end, 10);
    if (errno != 0)
        return -errno;
    if (*end != '\0' && *end != '\n' && *end != ' ')
        return -EINVAL;
    *v = (uint64_t) x;
    return 0;
}

int cgroup_fs_read_u64(int dfd, const char *file, uint64_t *v)
{
    char buf[64];
    ssize_t n = cgroup_fs_read(dfd, file, buf, sizeof buf);

    if (n < 0)
        return (int) n;
    return cgroup_fs_parse_u64(buf, v);
}

int cgroup_fs_key_u64(const char *text, const char *key, uint64_t *v)
{
    size_t klen = strlen(key);
    const char *line = text;

    while (*line) {
        if (strncmp(line, key, klen) == 0 && line[klen] == ' ')
            return cgroup_fs_parse_u64(line + klen + 1, v);
        line = strchr(line, '\n');
        if (!line)
            break;
        line++;
    }
    return -ENOENT;
}

/* Opens the directory fd for readdir; the DIR owns the fd. */
static DIR *open_dir(int dfd)
{
    int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d;

    if (fd < 0)
        return NULL;
    d = fdopendir(fd);
    if (!d)
        close(fd);
    return d;
}

static bool is_dot(const char *name)
{
    return name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'));
}

/* Whether a directory may have subdirectories, without reading it: kernfs
 * (like tmpfs and ext4) counts them in the link count, 2 + subdirs; a file
 * system that reports 1 does not count, so we must look. */
static bool has_subdirs(int dfd)
{
    struct stat st;

    return fstat(dfd, &st) < 0 || st.st_nlink != 2;
}

/* Signals the pids one cgroup.procs lists; a pid may span two reads. */
static int signal_listed(int dfd, int sig)
{
    LD_AUTOCLOSE int fd = openat(dfd, "cgroup.procs", O_RDONLY | O_CLOEXEC);
    char buf[4096];
    long pid = 0;
    bool in_num = false;
    int count = 0;
    ssize_t n, i;

    if (fd < 0)
        return errno == ENOENT ? 0 : -errno; /* a plain test dir may have none */
    for (;;) {
        n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        for (i = 0; i < n; i++) {
            if (buf[i] >= '0' && buf[i] <= '9') {
                pid = pid * 10 + (buf[i] - '0');
                in_num = true;
                continue;
            }
            /* 0 stands for a process outside our pid namespace: kill(0)
             * would signal our own process group instead. */
            if (in_num && pid > 0) {
                (void) kill((pid_t) pid, sig);
                count++;
            }
            pid = 0;
            in_num = false;
        }
        if (n == 0)
            break;
    }
    if (in_num && pid > 0) {
        (void) kill((pid_t) pid, sig);
        count++;
    }
    return count;
}

static int signal_tree(int dfd, int sig, int depth)
{
    struct dirent *e;
    DIR *d;
    int count, rc = 0;

    if (depth > REMOVE_DEPTH_MAX)
        return -ELOOP;
    count = signal_listed(dfd, sig);
    if (count < 0 || !has_subdirs(dfd))
        return count;
    d = open_dir(dfd);
    if (!d)
        return -errno;
    while ((e = readdir(d))) {
        LD_AUTOCLOSE int sub = -1;

        if (e->d_type != DT_DIR || is_dot(e->d_name))
            continue;
        sub = openat(dfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub < 0)
            continue; /* removed meanwhile */
        rc = signal_tree(sub, sig, depth + 1);
        if (rc < 0)
            break;
        count += rc;
    }
    closedir(d);
    return rc < 0 ? rc : count;
}

int cgroup_fs_signal_procs(int dfd, int sig)
{
    return signal_tree(dfd, sig, 0);
}

bool cgroup_fs_has_groups(int dfd)
{
    struct dirent *e;
    bool found = false;
    DIR *d = open_dir(dfd);

    if (!d)
        return true; /* cannot tell: assume so, and leave the parent */
    while (!found && (e = readdir(d)))
        found = e->d_type == DT_DIR && e->d_name[0] != '.';
    closedir(d);
    return found;
}

static int remove_group(int parent_dfd, const char *name, bool plain, uint64_t deadline_us,
                        int depth);

/* Empties a group's directory of child groups (and, with plain, of files). */
static int empty_dir(int dfd, bool plain, uint64_t deadline_us, int depth)
{
    struct dirent *e;
    DIR *d = open_dir(dfd);
    int rc = 0;

    if (!d)
        return -errno;
    while (rc == 0 && (e = readdir(d))) {
        if (is_dot(e->d_name))
            continue;
        if (e->d_type == DT_DIR)
            rc = remove_group(dfd, e->d_name, plain, deadline_us, depth + 1);
        else if (plain && unlinkat(dfd, e->d_name, 0) < 0 && errno != ENOENT)
            rc = -errno;
    }
    closedir(d);
    return rc;
}

static int remove_group(int parent_dfd, const char *name, bool plain, uint64_t deadline_us,
                        int depth)
{
    unsigned wait_us = 10;
    int rc;

    if (depth > REMOVE_DEPTH_MAX)
        return -ELOOP;
    /* The usual case first: an empty group without children goes at once
     * (a cgroup directory's files are the kernel's and go with it). */
    if (!plain && unlinkat(parent_dfd, name, AT_REMOVEDIR) == 0)
        return 0;
    if (!plain && errno != EBUSY && errno != ENOTEMPTY)
        return errno == ENOENT ? 0 : -errno;
    {
        LD_AUTOCLOSE int dfd =
            openat(parent_dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

        if (dfd < 0)
            return errno == ENOENT ? 0 : -errno;
        rc = empty_dir(dfd, plain, deadline_us, depth);
        if (rc < 0)
            return rc;
    }
    /* EBUSY: processes that were killed have not all left the group yet. */
    while (unlinkat(parent_dfd, name, AT_REMOVEDIR) < 0) {
        if (errno == ENOENT)
            return 0;
        if (errno != EBUSY || ld_mono_us() >= deadline_us)
            return -errno;
        cgroup_fs_backoff(&wait_us);
    }
    return 0;
}

int cgroup_fs_remove(int parent_dfd, const char *name, bool plain, uint64_t deadline_us)
{
    return remove_group(parent_dfd, name, plain, deadline_us, 0);
}

void cgroup_fs_backoff(unsigned *us)
{
    struct timespec ts = {.tv_sec = 0, .tv_nsec = (long) *us * 1000};

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
    *us = *us >= 500 ? 1000 : *us * 2;
}
