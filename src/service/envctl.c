/* service/envctl.c: starts `lambdad init` and talks to it (see envctl.h).
 *
 * The child gets a SOCK_STREAM socketpair end as fd 3 and an environment with
 * nothing of ours but the sanitizer settings: the function's variables come
 * in the START frame. The child is watched through a pidfd, so the loop learns
 * of its exit without a process-wide SIGCHLD handler. */
#include "service/envctl.h"

#include "common/stream.h"
#include "sandbox/spawn.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

struct envctl {
    struct event_base *base;
    const struct envctl_ops *ops;
    void *arg;
    pid_t pid;
    int pidfd;
    struct event *exit_ev; /* owned: the pidfd became readable */
    struct event *free_ev; /* owned: frees outside of any callback */
    struct stream *st;     /* owned: the control socket */
    struct ld_buf frame;
    bool channel_closed;
    bool reaped;
    bool reported;
    int status;
    bool free_pending;
    int in_cb; /* inside a callback to the owner: frees must wait */
};

static void maybe_report_exit(struct envctl *c);
static void envctl_destroy(struct envctl *c);

static void on_read(struct stream *st, void *arg)
{
    struct envctl *c = arg;
    struct evbuffer *in = stream_input(st);

    while (!c->free_pending) {
        size_t avail = evbuffer_get_length(in);
        const unsigned char *p;
        struct ctl_frame f;
        uint32_t len;
        ssize_t n;

        if (avail < CTL_HDR_LEN)
            break;
        p = evbuffer_pullup(in, CTL_HDR_LEN);
        len = (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
        if (len > CTL_MAX_FRAME - CTL_HDR_LEN) {
            n = -EMSGSIZE;
        } else {
            if (avail < CTL_HDR_LEN + (size_t) len)
                break;
            p = evbuffer_pullup(in, (ev_ssize_t) (CTL_HDR_LEN + len));
            n = ctl_frame_parse(p, CTL_HDR_LEN + len, &f);
        }
        if (n <= 0) {
            /* A broken init cannot be trusted with anything further. */
            fprintf(stderr, "lambdad: malformed frame from init %d; killing it\n", (int) c->pid);
            kill(c->pid, SIGKILL);
            stream_stop_reading(st);
            break;
        }
        c->in_cb++;
        c->ops->on_frame(c->arg, &f);
        c->in_cb--;
        evbuffer_drain(in, (size_t) n);
    }
}

static void on_close(struct stream *st, void *arg, int err)
{
    struct envctl *c = arg;

    (void) err;
    stream_stop_reading(st);
    c->channel_closed = true;
    maybe_report_exit(c);
}

static const struct stream_ops ctl_ops = {
    .on_read = on_read,
    .on_close = on_close,
};

static void on_exit_ev(evutil_socket_t fd, short what, void *arg)
{
    struct envctl *c = arg;
    siginfo_t si;

    (void) fd;
    (void) what;
    memset(&si, 0, sizeof si);
    if (waitid(P_PID, (id_t) c->pid, &si, WEXITED | WNOHANG) < 0 || si.si_pid == 0)
        return;
    c->reaped = true;
    c->status = si.si_code == CLD_EXITED ? W_EXITCODE(si.si_status, 0) : si.si_status;
    event_del(c->exit_ev);
    /* Frames still in the socket are read before the exit is reported: the
     * channel's EOF comes after them. */
    maybe_report_exit(c);
}

static void maybe_report_exit(struct envctl *c)
{
    if (!c->channel_closed || !c->reaped || c->free_pending || c->reported)
        return;
    c->reported = true;
    c->in_cb++;
    c->ops->on_exit(c->arg, c->status);
    c->in_cb--;
}

static void on_free_ev(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    envctl_destroy(arg);
}

/* init's environment: the channel's fd and the sanitizers' settings. The
 * function's variables come in START, never from ours. */
static void init_envp(char *envp[8], char bufs[3][1024])
{
    static const char *const keep[] = {"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"};
    size_t ne = 0, i;

    envp[ne++] = (char *) "LAMBDAD_CTL_FD=3";
    for (i = 0; i < sizeof keep / sizeof keep[0]; i++) {
        const char *v = getenv(keep[i]);

        if (v && snprintf(bufs[i], 1024, "%s=%s", keep[i], v) < 1024)
            envp[ne++] = bufs[i];
    }
    envp[ne] = NULL;
}

/* init as a plain child process: no isolation (`emulate --no-sandbox`). */
static pid_t spawn_plain(const char *exe, int ctl_fd, struct ld_err *err)
{
    char *argv[] = {(char *) "lambdad", (char *) "init", NULL};
    char *envp[8], bufs[3][1024];
    pid_t pid;

    init_envp(envp, bufs);
    pid = fork();
    if (pid < 0)
        return ld_err_set(err, errno, "fork init");
    if (pid == 0) {
        sigset_t none;

        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        if (dup2(ctl_fd, 3) < 0)
            _exit(127);
        execve(exe, argv, envp);
        _exit(127);
    }
    return pid;
}

/* init as pid 1 of a sandbox (sandbox/spawn.c). */
static pid_t spawn_sandboxed(const char *exe, int ctl_fd, const struct envctl_sandbox *sb,
                             struct ld_err *err)
{
    char *argv[] = {(char *) "lambdad", (char *) "init", NULL};
    char *envp[8], bufs[3][1024];
    struct sandbox_spawn spec;
    LD_AUTOCLOSE int exe_fd = open(exe, O_PATH | O_CLOEXEC);

    if (exe_fd < 0)
        return ld_err_set(err, errno, "open %s", exe);
    init_envp(envp, bufs);
    memset(&spec, 0, sizeof spec);
    spec.mounts = sb->mounts;
    spec.hostname = sb->hostname;
    spec.exe_fd = exe_fd;
    spec.argv = argv;
    spec.envp = envp;
    int keep[8];

    if (sb->nextra > 7)
        return ld_err_set(err, EINVAL, "too many fds for init");
    keep[0] = ctl_fd;
    for (int i = 0; i < sb->nextra; i++)
        keep[1 + i] = sb->extra_fds[i];
    spec.keep_fds = keep;
    spec.nkeep = 1 + sb->nextra;
    spec.stdio_fd = -1;
    spec.cgroup_procs_fds = sb->cgroup_procs_fds;
    spec.ncgroup_procs = sb->ncgroup_procs;
    spec.seccomp = sb->seccomp;
    return sandbox_spawn(&spec, err);
}

int envctl_spawn(struct event_base *base, const char *exe, const struct envctl_sandbox *sb,
                 const struct envctl_ops *ops, void *arg, struct envctl **out, struct ld_err *err)
{
    struct envctl *c;
    int sv[2], rc;
    pid_t pid;

    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return ld_err_set(err, errno, "socketpair");
    pid = sb ? spawn_sandboxed(exe, sv[1], sb, err) : spawn_plain(exe, sv[1], err);
    if (pid < 0) {
        close(sv[0]);
        close(sv[1]);
        return pid;
    }
    close(sv[1]);
    c = calloc(1, sizeof *c);
    if (!c) {
        close(sv[0]);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        return ld_err_set(err, ENOMEM, "spawn init");
    }
    c->base = base;
    c->ops = ops;
    c->arg = arg;
    c->pid = pid;
    c->pidfd = (int) syscall(SYS_pidfd_open, pid, 0);
    rc = c->pidfd < 0 ? errno : ENOMEM;
    c->st = stream_new(base, sv[0], &ctl_ops, c);
    c->free_ev = event_new(base, -1, 0, on_free_ev, c);
    if (c->pidfd >= 0)
        c->exit_ev = event_new(base, c->pidfd, EV_READ | EV_PERSIST, on_exit_ev, c);
    if (!c->st || c->pidfd < 0 || !c->exit_ev || !c->free_ev) {
        envctl_destroy(c);
        return ld_err_set(err, rc, "watch init");
    }
    event_add(c->exit_ev, NULL);
    *out = c;
    return 0;
}

struct ld_buf *envctl_frame(struct envctl *c)
{
    return &c->frame;
}

void envctl_send(struct envctl *c)
{
    if (!c->channel_closed) {
        evbuffer_add(stream_output(c->st), c->frame.data, c->frame.len);
        stream_flush(c->st);
    }
    ld_buf_reset(&c->frame);
}

int envctl_pidfd(const struct envctl *c)
{
    return c->pidfd;
}

void envctl_set_ops(struct envctl *c, const struct envctl_ops *ops, void *arg)
{
    c->ops = ops;
    c->arg = arg;
}

pid_t envctl_pid(const struct envctl *c)
{
    return c->pid;
}

void envctl_kill(struct envctl *c, int sig)
{
    if (c->pid > 0 && !c->reaped)
        kill(c->pid, sig);
}

/* From inside one of our callbacks, frees later from the loop. */
void envctl_free(struct envctl *c)
{
    if (!c || c->free_pending)
        return;
    if (!c->in_cb) {
        envctl_destroy(c);
        return;
    }
    c->free_pending = true;
    if (c->st)
        stream_stop_reading(c->st);
    event_active(c->free_ev, 0, 0);
}

static void envctl_destroy(struct envctl *c)
{
    if (c->pid > 0) {
        siginfo_t si;

        memset(&si, 0, sizeof si);
        if (waitid(P_PID, (id_t) c->pid, &si, WEXITED | WNOHANG) == 0 && si.si_pid == 0) {
            kill(c->pid, SIGKILL);
            waitpid(c->pid, NULL, 0);
        }
    }
    if (c->exit_ev)
        event_free(c->exit_ev);
    if (c->free_ev)
        event_free(c->free_ev);
    if (c->pidfd >= 0)
        close(c->pidfd);
    stream_free(c->st);
    ld_buf_free(&c->frame);
    free(c);
}
