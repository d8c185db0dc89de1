/* sandbox/spawn.c: clone() into new namespaces and exec as pid 1 there.
 *
 * The steps, in the order they must happen:
 *
 *   parent  1. a CLOEXEC pipe for the child's report (STYLE §5);
 *           2. clone(NEWNS|NEWPID|NEWIPC|NEWUTS|NEWNET|NEWCGROUP), fork-like;
 *   child   3. PR_SET_PDEATHSIG: if the parent dies first, so does the
 *              environment (pid 1 dying takes its whole namespace along);
 *           4. join the environment's cgroups, before anything else runs
 *              there, so every later child is counted and limited;
 *           5. unshare the cgroup namespace only now, so the environment's
 *              cgroup becomes its root (/proc/self/cgroup shows "/");
 *           6. the root filesystem (rootfs.c), which ends with pivot_root;
 *           7. hostname, loopback up: the Runtime API listens there;
 *           8. stdio and the kept fds moved to 1, 2 and 3...;
 *           9. no_new_privs and the seccomp filter, inherited by the program
 *              and everything it starts;
 *          10. execveat() of the program fd: EOF on the report pipe.
 *   parent 11. reads the pipe: EOF means exec'd; a record is the failure.
 *
 * Nothing in the child allocates: it is a copy of a possibly threaded
 * parent, where malloc may be locked forever. */
#include "sandbox/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <linux/close_range.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox/rootfs.h"
#include "sandbox/seccomp.h"

#define NS_FLAGS (CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET)

static _Noreturn void child_fail(int report_fd, const struct ld_err *err)
{
    (void) !write(report_fd, err, sizeof *err);
    _exit(127);
}

static int loopback_up(struct ld_err *err)
{
    struct ifreq ifr;
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return ld_err_set(err, errno, "socket for lo");
    memset(&ifr, 0, sizeof ifr);
    memcpy(ifr.ifr_name, "lo", 3);
    if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) {
        close(fd);
        return ld_err_set(err, errno, "get lo flags");
    }
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0) {
        close(fd);
        return ld_err_set(err, errno, "bring lo up");
    }
    close(fd);
    return 0;
}

/* Moves the kept fds to 3, 4, ... without clobbering one another: first
 * above all of them, then down into place. */
static int place_fds(const struct sandbox_spawn *s, struct ld_err *err)
{
    int high = 3 + s->nkeep + 16;
    int i;

    if (s->stdio_fd >= 0 && (dup2(s->stdio_fd, 1) < 0 || dup2(s->stdio_fd, 2) < 0))
        return ld_err_set(err, errno, "stdio");
    for (i = 0; i < s->nkeep; i++)
        if (dup3(s->keep_fds[i], high + i, O_CLOEXEC) < 0)
            return ld_err_set(err, errno, "move fd %d", s->keep_fds[i]);
    for (i = 0; i < s->nkeep; i++)
        if (dup2(high + i, 3 + i) < 0) /* dup2 clears CLOEXEC: passed on */
            return ld_err_set(err, errno, "place fd %d", 3 + i);
    /* Whatever else we hold must not reach the environment. */
    if (close_range((unsigned) (3 + s->nkeep), ~0U, CLOSE_RANGE_CLOEXEC) < 0)
        return ld_err_set(err, errno, "close_range");
    return 0;
}

static _Noreturn void child_main(const struct sandbox_spawn *s, int report_fd)
{
    struct ld_err err;
    sigset_t none;
    int i;

    memset(&err, 0, sizeof err);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    /* 3. */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
        child_fail(report_fd, (ld_err_set(&err, errno, "pdeathsig"), &err));
    /* 4. */
    for (i = 0; i < s->ncgroup_procs; i++)
        if (write(s->cgroup_procs_fds[i], "0", 1) != 1)
            child_fail(report_fd, (ld_err_set(&err, errno, "join cgroup"), &err));
    /* 5. */
    if (unshare(CLONE_NEWCGROUP) < 0)
        child_fail(report_fd, (ld_err_set(&err, errno, "cgroup namespace"), &err));
    /* 6. */
    if (rootfs_build(&s->mounts, &err) < 0)
        child_fail(report_fd, &err);
    /* 7. */
    if (sethostname(s->hostname ? s->hostname : "localhost",
                    strlen(s->hostname ? s->hostname : "localhost")) < 0)
        child_fail(report_fd, (ld_err_set(&err, errno, "sethostname"), &err));
    if (loopback_up(&err) < 0)
        child_fail(report_fd, &err);
    /* 8. */
    if (place_fds(s, &err) < 0)
        child_fail(report_fd, &err);
    /* 9. seccomp last: it refuses mount, sethostname and the rest above. */
    if (s->seccomp && seccomp_apply_in_child(s->seccomp) < 0)
        child_fail(report_fd, (ld_err_set(&err, errno, "seccomp"), &err));
    /* 10. */
    syscall(SYS_execveat, s->exe_fd, "", s->argv, s->envp, AT_EMPTY_PATH);
    child_fail(report_fd, (ld_err_set(&err, errno, "exec"), &err));
}

pid_t sandbox_spawn(const struct sandbox_spawn *s, struct ld_err *err)
{
    struct ld_err child_err;
    int rep[2];
    pid_t pid;
    ssize_t n;

    if (pipe2(rep, O_CLOEXEC) < 0)
        return ld_err_set(err, errno, "report pipe");
    /* Fork-like clone: no new stack, the child gets a copy of ours. */
    pid = (pid_t) syscall(SYS_clone, NS_FLAGS | SIGCHLD, NULL, NULL, NULL, NULL);
    if (pid < 0) {
        int e = errno;

        close(rep[0]);
        close(rep[1]);
        return ld_err_set(err, e, "clone into namespaces");
    }
    if (pid == 0) {
        close(rep[0]);
        child_main(s, rep[1]);
    }
    close(rep[1]);
    do {
        n = read(rep[0], &child_err, sizeof child_err);
    } while (n < 0 && errno == EINTR);
    close(rep[0]);
    if (n == 0)
        return pid; /* exec'd: the report pipe closed on exec */
    waitpid(pid, NULL, 0);
    if (n != (ssize_t) sizeof child_err)
        return ld_err_set(err, EPROTO, "environment died before reporting");
    *err = child_err;
    return ld_err_prefix(err, "start environment");
}

int sandbox_prepare_host(struct ld_err *err)
{
    if (mkdir("/run/lambdad", 0700) < 0 && errno != EEXIST)
        return ld_err_set(err, errno, "mkdir /run/lambdad");
    if (mkdir(SANDBOX_ROOT_DIR, 0700) < 0 && errno != EEXIST)
        return ld_err_set(err, errno, "mkdir %s", SANDBOX_ROOT_DIR);
    return 0;
}
