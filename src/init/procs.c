/* init/procs.c: the processes of an environment: start, capture, kill, reap.
 *
 * The runtime and each external extension run in their own process group with
 * stdout and stderr on one pipe (so their lines keep the order they were
 * written in), read line by line on the loop and sent up as log records. init
 * is a child subreaper: whatever a function leaves behind (a daemonised
 * helper) is reparented to us, found by its parent pid and killed with the
 * rest. Output is read only while the control channel keeps up; past its
 * high-water mark the pipes fill and writers block, which bounds memory. */
#include <dirent.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/err.h"
#include "init/init-internal.h"

static void emit_line(struct env *e, struct proc *p, const char *s, size_t n)
{
    if (n > 0 && s[n - 1] == '\r')
        n--;
    env_send_log(e, p->source, p->name, s, n);
}

/* Splits bytes into lines; a line over LOG_LINE_MAX goes out in pieces. */
static void take_output(struct env *e, struct proc *p, const char *buf, size_t n)
{
    while (n > 0) {
        const char *nl = memchr(buf, '\n', n);
        size_t seg = nl ? (size_t) (nl - buf) : n;

        while (p->partial.len + seg >= LOG_LINE_MAX) {
            size_t room = LOG_LINE_MAX - p->partial.len;

            if (p->partial.len) {
                if (ld_buf_append(&p->partial, buf, room) == 0)
                    emit_line(e, p, p->partial.data, p->partial.len);
                ld_buf_reset(&p->partial);
            } else {
                emit_line(e, p, buf, room);
            }
            buf += room;
            n -= room;
            seg -= room;
        }
        if (!nl) {
            if (ld_buf_append(&p->partial, buf, seg) < 0)
                ld_buf_reset(&p->partial);
            return;
        }
        if (p->partial.len) {
            if (ld_buf_append(&p->partial, buf, seg) == 0)
                emit_line(e, p, p->partial.data, p->partial.len);
            ld_buf_reset(&p->partial);
        } else {
            emit_line(e, p, buf, seg);
        }
        buf += seg + 1;
        n -= seg + 1;
    }
}

void proc_close_output(struct proc *p)
{
    if (p->out_ev) {
        event_free(p->out_ev);
        p->out_ev = NULL;
    }
    if (p->out_fd >= 0) {
        close(p->out_fd);
        p->out_fd = -1;
    }
    ld_buf_free(&p->partial);
    if (p->status_fd > 0) {
        close(p->status_fd);
        p->status_fd = -1;
    }
}

/* Reads what is in the pipe now; at EOF flushes the last partial line. */
static void read_output(struct env *e, struct proc *p, int budget)
{
    char buf[65536];

    while (p->out_fd >= 0 && budget-- > 0) {
        ssize_t n = read(p->out_fd, buf, sizeof buf);

        if (n > 0) {
            take_output(e, p, buf, (size_t) n);
            if (e->ctl_blocked)
                return;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (p->partial.len)
            emit_line(e, p, p->partial.data, p->partial.len);
        proc_close_output(p);
    }
}

void proc_drain_output(struct env *e, struct proc *p)
{
    read_output(e, p, 64);
}

static void on_output_ready(evutil_socket_t fd, short what, void *arg)
{
    struct proc *p = arg;

    (void) fd;
    (void) what;
    read_output(p->env, p, 4);
}

/* In the child, just before exec: the function's code never runs as root.
 * The order matters: the bounding set needs CAP_SETPCAP, which the user
 * switch removes. (The seccomp filter is inherited from init.) */
static int drop_privileges(const struct config *c)
{
    struct rlimit nofile = {.rlim_cur = 1024, .rlim_max = 1024};

    int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);

    /* init is exempt from the OOM killer; the function must not be. */
    if (fd >= 0) {
        (void) !write(fd, "0", 1);
        close(fd);
    }
    if (setrlimit(RLIMIT_NOFILE, &nofile) < 0)
        return -1;
    for (int cap = 0; cap <= 63; cap++)
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
            return -1;
    if (setgroups(0, NULL) < 0 || setresgid(c->gid, c->gid, c->gid) < 0 ||
        setresuid(c->uid, c->uid, c->uid) < 0)
        return -1;
    return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

static _Noreturn void child_fail(int report_fd, int code)
{
    (void) !write(report_fd, &code, sizeof code);
    _exit(127);
}

int proc_spawn(struct env *e, struct proc *p, char *const argv[], char *const envp[],
               const char *cwd, enum ctl_log_source src, const char *name)
{
    int out[2], rep[2], code = 0;
    sigset_t all;
    pid_t pid;
    ssize_t n;

    memset(p, 0, sizeof *p);
    p->out_fd = -1;
    if (pipe2(out, O_CLOEXEC) < 0)
        return -errno;
    if (pipe2(rep, O_CLOEXEC) < 0) {
        code = errno;
        close(out[0]);
        close(out[1]);
        return -code;
    }
    pid = fork();
    if (pid < 0) {
        code = errno;
        close(out[0]);
        close(out[1]);
        close(rep[0]);
        close(rep[1]);
        return -code;
    }
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDONLY);

        /* Signals init blocks or handles must not leak into the function. */
        sigemptyset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
        for (int s = 1; s < NSIG; s++)
            signal(s, SIG_DFL);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        setpgid(0, 0);
        if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(out[1], 1) < 0 || dup2(out[1], 2) < 0)
            child_fail(rep[1], errno);
        if (cwd && chdir(cwd) < 0)
            child_fail(rep[1], errno);
        if (e->cfg.drop && drop_privileges(&e->cfg) < 0)
            child_fail(rep[1], errno);
        execve(argv[0], argv, envp);
        child_fail(rep[1], errno);
    }
    close(out[1]);
    close(rep[1]);
    /* Our copy of the report pipe is CLOEXEC in the child: EOF = exec'd. */
    do {
        n = read(rep[0], &code, sizeof code);
    } while (n < 0 && errno == EINTR);
    close(rep[0]);
    if (n == (ssize_t) sizeof code) {
        close(out[0]);
        waitpid(pid, NULL, 0);
        return -(code ? code : EIO);
    }
    setpgid(pid, pid); /* also here: no race with the child's own call */
    p->pid = pid;
    p->out_fd = out[0];
    p->source = src;
    p->name = name;
    fcntl(p->out_fd, F_SETFL, O_NONBLOCK);
    p->env = e;
    {
        char path[64];

        snprintf(path, sizeof path, "/proc/%d/status", pid);
        p->status_fd = open(path, O_RDONLY | O_CLOEXEC);
    }
    p->out_ev = event_new(e->base, p->out_fd, EV_READ | EV_PERSIST, on_output_ready, p);
    /* Output first: what a process printed before it called the API is read
     * before the call is handled, so its lines come before END. */
    if (p->out_ev)
        event_priority_set(p->out_ev, 0);
    if (p->out_ev && !e->ctl_blocked)
        event_add(p->out_ev, NULL);
    return 0;
}

void proc_signal(struct proc *p, int sig)
{
    if (p->pid <= 0 || p->reaped)
        return;
    kill(-p->pid, sig); /* its process group: what it started too */
    kill(p->pid, sig);  /* and itself, should it have left the group */
}

/* Kills every process whose parent is us and that we do not track: orphans
 * reparented to this subreaper. */
void procs_kill_strays(void)
{
    DIR *d = opendir("/proc");
    struct dirent *de;
    pid_t self = getpid();

    if (!d)
        return;
    while ((de = readdir(d))) {
        char path[64], buf[512];
        pid_t pid = (pid_t) atoi(de->d_name);
        ssize_t n;
        int fd;
        const char *rp;
        int ppid;

        if (pid <= 0 || pid == self)
            continue;
        snprintf(path, sizeof path, "/proc/%d/stat", pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        n = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (n <= 0)
            continue;
        buf[n] = '\0';
        /* "pid (comm) state ppid ...": comm may hold spaces and parens. */
        rp = strrchr(buf, ')');
        if (!rp || sscanf(rp + 1, " %*c %d", &ppid) != 1)
            continue;
        if (ppid == self)
            kill(pid, SIGKILL);
    }
    closedir(d);
}

void procs_kill_all(struct env *e)
{
    size_t i;

    /* pid 1 of its own namespace (sandboxed): everything else in it dies,
     * whatever it did to hide (setsid, double fork, new process groups). */
    if (getpid() == 1)
        kill(-1, SIGKILL);
    proc_signal(&e->runtime, SIGKILL);
    for (i = 0; i < e->next_ext; i++)
        if (e->ext[i].external)
            proc_signal(&e->ext[i].proc, SIGKILL);
    procs_kill_strays();
}

void procs_pause_output(struct env *e, bool pause)
{
    size_t i;
    struct proc *ps[MAX_EXTENSIONS + 1];
    size_t n = 0;

    ps[n++] = &e->runtime;
    for (i = 0; i < e->next_ext; i++)
        if (e->ext[i].external)
            ps[n++] = &e->ext[i].proc;
    for (i = 0; i < n; i++) {
        if (!ps[i]->out_ev)
            continue;
        if (pause)
            event_del(ps[i]->out_ev);
        else
            event_add(ps[i]->out_ev, NULL);
    }
}

static const char *signal_name(int sig)
{
    /* The wording of Go's os.ProcessState, which AWS's messages use. */
    switch (sig) {
    case SIGHUP: return "hangup";
    case SIGINT: return "interrupt";
    case SIGQUIT: return "quit";
    case SIGILL: return "illegal instruction";
    case SIGTRAP: return "trace/breakpoint trap";
    case SIGABRT: return "aborted";
    case SIGBUS: return "bus error";
    case SIGFPE: return "floating point exception";
    case SIGKILL: return "killed";
    case SIGUSR1: return "user defined signal 1";
    case SIGSEGV: return "segmentation fault";
    case SIGUSR2: return "user defined signal 2";
    case SIGPIPE: return "broken pipe";
    case SIGALRM: return "alarm clock";
    case SIGTERM: return "terminated";
    case SIGXCPU: return "CPU time limit exceeded";
    case SIGXFSZ: return "file size limit exceeded";
    case SIGSYS: return "bad system call";
    default: return NULL;
    }
}

void proc_describe_status(int status, char *buf, size_t cap)
{
    if (WIFEXITED(status)) {
        snprintf(buf, cap, "exit status %d", WEXITSTATUS(status));
    } else if (WIFSIGNALED(status)) {
        const char *name = signal_name(WTERMSIG(status));

        if (name)
            snprintf(buf, cap, "signal: %s%s", name, WCOREDUMP(status) ? " (core dumped)" : "");
        else
            snprintf(buf, cap, "signal: %d", WTERMSIG(status));
    } else {
        snprintf(buf, cap, "exit status %d", status);
    }
}

static uint64_t hwm_kb(const struct proc *p)
{
    char buf[4096];
    const char *v;
    ssize_t n;

    if (p->status_fd <= 0 || p->reaped)
        return 0;
    n = pread(p->status_fd, buf, sizeof buf - 1, 0);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    v = strstr(buf, "VmHWM:");
    return v ? strtoull(v + 6, NULL, 10) : 0;
}

uint64_t procs_max_rss_kb(struct env *e, bool fresh)
{
    static uint64_t last_kb, last_us;
    uint64_t kb = 0, now = ld_mono_us();
    size_t i;

    if (!fresh && last_us && now - last_us < 10000 && last_kb)
        return last_kb;
    if (e->cfg.peak_fd >= 0) {
        /* Sandboxed: the cgroup's peak, the whole environment's, as AWS's. */
        char buf[32];
        ssize_t n = pread(e->cfg.peak_fd, buf, sizeof buf - 1, 0);

        if (n > 0) {
            buf[n] = '\0';
            last_kb = strtoull(buf, NULL, 10) / 1024;
            last_us = now;
            return last_kb;
        }
    }
    kb += hwm_kb(&e->runtime);
    for (i = 0; i < e->next_ext; i++)
        if (e->ext[i].external)
            kb += hwm_kb(&e->ext[i].proc);
    last_kb = kb;
    last_us = now;
    return kb;
}

static struct proc *find_proc(struct env *e, pid_t pid)
{
    size_t i;

    if (e->runtime.pid == pid && !e->runtime.reaped)
        return &e->runtime;
    for (i = 0; i < e->next_ext; i++)
        if (e->ext[i].external && e->ext[i].proc.pid == pid && !e->ext[i].proc.reaped)
            return &e->ext[i].proc;
    return NULL;
}

uint64_t procs_oom_kills(const struct env *e)
{
    char buf[512];
    const char *p;
    ssize_t n;

    if (e->cfg.oom_fd < 0)
        return 0;
    n = pread(e->cfg.oom_fd, buf, sizeof buf - 1, 0);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    for (p = buf; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (strncmp(p, "oom_kill ", 9) == 0)
            return strtoull(p + 9, NULL, 10);
    return 0;
}

void procs_on_sigchld(struct env *e)
{
    for (;;) {
        int status;
        pid_t pid = waitpid(-1, &status, WNOHANG);
        struct proc *p;

        if (pid <= 0)
            return;
        p = find_proc(e, pid);
        if (!p)
            continue; /* a stray, now reaped */
        p->reaped = true;
        p->status = status;
        /* Its last words come before the news of its death. */
        proc_drain_output(e, p);
        phase_proc_exited(e, p);
    }
}
