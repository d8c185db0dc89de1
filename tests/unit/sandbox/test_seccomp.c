/* tests/unit/sandbox/test_seccomp.c: the environment's syscall filter
 * (src/sandbox/seccomp.c, seccomp_policy.c) installed in real children.
 *
 * Each probe runs in its own forked child: the child installs the filter,
 * checks that the kernel reports it in filter mode, makes one syscall and
 * sends the result (a value or -errno) back through a pipe. The parent
 * asserts denied calls fail with the policy's errno, and ordinary work
 * (fork, exec, threads, files, loopback TCP) still succeeds.
 *
 * Probe arguments are chosen so that, if a call did get past the filter, it
 * would fail harmlessly with a different errno (ENOENT, EINVAL, EBADF, ...)
 * instead of changing the host. The control test runs them unfiltered as
 * root and asserts the answer differs, proving that the filter, not missing
 * privilege, produced the errno.
 *
 * Without root every filtered test still passes (the filter answers before
 * any permission check) and the control test is skipped. Then 17 probes
 * cannot tell the filter from the kernel's own EPERM to an unprivileged
 * caller (measured as uid 65534 here): pivot_root, unshare(CLONE_NEWNS),
 * setns, clone with any namespace flag but CLONE_NEWUSER, reboot, swapon,
 * acct, userfaultfd, fanotify_init, syslog, sethostname and fsopen. The rest
 * still prove the filter (e.g. unshare/clone with CLONE_NEWUSER succeed
 * unfiltered, and clone3 and io_uring say ENOSYS only under it).
 *
 * Probes unsafe to run unfiltered (ptrace attach to the test process,
 * vhangup on its terminal) run only under the filter, after the child has
 * seen PR_GET_SECCOMP == 2. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <linux/keyctl.h>
#include <linux/sched.h>
#include <netinet/in.h>
#include <pthread.h>
#include <seccomp.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/klog.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/swap.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/timex.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sandbox/seccomp.h"

#include "../checks.h"

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif

#define NOWHERE "/nonexistent-lambdad-seccomp-test"

extern char **environ;

/* ---- running one probe in a filtered child -------------------------------- */

typedef long (*probe_fn)(unsigned long arg);

/* What a child sends back: how far it got, and the probe's result. */
enum stage { APPLY_FAILED, NOT_FILTERED, PROBED };
struct report {
    enum stage stage;
    long value; /* apply: -errno; probe: its return value or -errno */
};

static _Noreturn void child_send(int fd, enum stage stage, long value)
{
    struct report r = {stage, value};

    (void) !write(fd, &r, sizeof r);
    _exit(0);
}

/* Forks; the child installs f (NULL: none, the control), runs fn(arg) and
 * reports. Returns the report; the child's wait status goes to *status. */
static struct report run_probe(const struct sandbox_seccomp *f, probe_fn fn, unsigned long arg,
                               int *status)
{
    struct report r = {APPLY_FAILED, -EPROTO};
    int fds[2];
    ssize_t n;
    pid_t pid;

    cr_assert_eq(pipe2(fds, O_CLOEXEC), 0);
    pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        int rc;

        close(fds[0]);
        if (f) {
            rc = seccomp_apply_in_child(f);
            if (rc < 0)
                child_send(fds[1], APPLY_FAILED, rc);
            /* Guard: the unsafe probes below rely on the filter being on. */
            if (prctl(PR_GET_SECCOMP) != 2)
                child_send(fds[1], NOT_FILTERED, 0);
        }
        child_send(fds[1], PROBED, fn(arg));
    }
    close(fds[1]);
    n = read(fds[0], &r, sizeof r);
    close(fds[0]);
    cr_assert_eq(waitpid(pid, status, 0), pid);
    if (n != (ssize_t) sizeof r)
        r = (struct report){APPLY_FAILED, -EPIPE}; /* died before reporting */
    return r;
}

static long ret(long r)
{
    return r < 0 ? -errno : r;
}

/* ---- probes that the filter must refuse -------------------------------- */

static long p_mount(unsigned long a)
{
    (void) a;
    return ret(mount("none", NOWHERE, "tmpfs", 0, NULL));
}

static long p_umount2(unsigned long a)
{
    (void) a;
    return ret(umount2(NOWHERE, 0));
}

static long p_pivot_root(unsigned long a)
{
    (void) a;
    return ret(syscall(SYS_pivot_root, NOWHERE, NOWHERE));
}

static long p_chroot(unsigned long a)
{
    (void) a;
    return ret(chroot(NOWHERE));
}

static long p_unshare(unsigned long flags)
{
    return ret(unshare((int) flags));
}

static long p_setns(unsigned long a)
{
    int fd = open("/proc/self/ns/uts", O_RDONLY | O_CLOEXEC);
    long r;

    (void) a;
    if (fd < 0)
        return -errno;
    r = ret(setns(fd, CLONE_NEWUTS));
    close(fd);
    return r;
}

/* A fork-like clone; the child (only reached unfiltered) leaves at once. */
static long p_clone(unsigned long flags)
{
    long r = syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, NULL);

    if (r == 0)
        _exit(0);
    if (r < 0)
        return -errno;
    waitpid((pid_t) r, NULL, 0);
    return r;
}

static long p_clone3(unsigned long flags)
{
    struct clone_args ca = {.flags = flags, .exit_signal = SIGCHLD};
    long r = syscall(SYS_clone3, &ca, sizeof ca);

    if (r == 0)
        _exit(0);
    if (r < 0)
        return -errno;
    waitpid((pid_t) r, NULL, 0);
    return r;
}

static long p_ptrace_parent(unsigned long a)
{
    (void) a;
    return ret(ptrace(PTRACE_ATTACH, getppid(), NULL, NULL));
}

static long p_process_vm_readv(unsigned long a)
{
    (void) a;
    return ret(process_vm_readv(getppid(), NULL, 0, NULL, 0, 0));
}

static long p_kcmp(unsigned long a)
{
    (void) a;
    return ret(syscall(SYS_kcmp, getpid(), getppid(), 0 /* KCMP_FILE */, 0UL, 0UL));
}

static long p_pidfd_getfd(unsigned long a)
{
    (void) a;
    return ret(syscall(SYS_pidfd_getfd, -1, 0, 0U));
}

static long p_kexec_load(unsigned long a)
{
    (void) a; /* 1000 segments: over KEXEC_SEGMENT_MAX, so EINVAL if let through */
    return ret(syscall(SYS_kexec_load, 0UL, 1000UL, NULL, 0UL));
}

static long p_kexec_file_load(unsigned long a)
{
    (void) a;
    return ret(syscall(SYS_kexec_file_load, -1, -1, 0UL, "", 0UL));
}

static long p_init_module(unsigned long a)
{
    (void) a;
    return ret(syscall(SYS_init_module, NULL, 0UL, ""));
}

static long p_finit_module(unsigned long a)
{
    (void) a;
    return ret(syscall(SYS_finit_module, -1, "", 0));
}

static long p_delete_module(unsigned long a)
{
    (void) a;
    return ret(syscall(SYS_delete_module, "lambdad_no_such_module", O_NONBLOCK));
}

/* A file_handle with room for a small handle; handle_bytes 0 is invalid. */
static struct file_handle *empty_handle(void)
{
    static _Alignas(struct file_handle) unsigned char buf[sizeof(struct file_handle) + 64];
    struct file_handle *h = (struct file_handle *) buf;

    memset(buf, 0, sizeof buf);
    return h;
}

static long p_open_by_handle_at(unsigned long a)
{
    (void) a;
    return ret(open_by_handle_at(AT_FDCWD, empty_handle(), O_RDONLY));
}

static long p_name_to_handle_at(unsigned long a)
{
    int mount_id;

    (void) a;
    return ret(name_to_handle_at(AT_FDCWD, "/", empty_handle(), &mount_id, 0));
}

static long p_reboot(unsigned long a)
{
    (void) a; /* wrong magic numbers: EINVAL if let through */
    return ret(syscall(SYS_reboot, 0, 0, 0U, NULL));
}

static long p_swapon(unsigned long a)
{
    (void) a;
    return ret(swapon(NOWHERE, 0));
}

static long p_acct(unsigned long a)
{
    (void) a;
    return ret(acct(NOWHERE));
}

static long p_keyctl(unsigned long a)
{
    (void) a; /* read-only: the session keyring's id, not creating one */
    return ret(syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0));
}

static long p_add_key(unsigned long a)
{
    (void) a;
    return ret(syscall(SYS_add_key, "lambdad_no_such_type", "x", NULL, 0UL,
                       KEY_SPEC_PROCESS_KEYRING));
}

static long p_request_key(unsigned long a)
{
    (void) a; /* no callout info: no upcall even if let through */
    return ret(syscall(SYS_request_key, "user", "lambdad:none", NULL, 0));
}

static long p_bpf(unsigned long a)
{
    (void) a;
    return ret(syscall(SYS_bpf, -1, NULL, 0U));
}

static long p_perf_event_open(unsigned long a)
{
    (void) a;
    return ret(syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0UL));
}

static long p_userfaultfd(unsigned long a)
{
    long r;

    (void) a;
    r = ret(syscall(SYS_userfaultfd, O_CLOEXEC));
    if (r >= 0)
        close((int) r);
    return r;
}

static long p_io_uring_setup(unsigned long a)
{
    (void) a;
    return ret(syscall(SYS_io_uring_setup, 0U, NULL));
}

static long p_fanotify_init(unsigned long a)
{
    long r;

    (void) a;
    r = ret(fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC, O_RDONLY));
    if (r >= 0)
        close((int) r);
    return r;
}

static long p_syslog(unsigned long a)
{
    (void) a;
    return ret(klogctl(10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0));
}

static long p_clock_settime(unsigned long a)
{
    struct timespec ts = {0, -1}; /* invalid: EINVAL if let through */

    (void) a; /* raw: glibc would reject the timespec before the kernel sees it */
    return ret(syscall(SYS_clock_settime, CLOCK_REALTIME, &ts));
}

static long p_settimeofday(unsigned long a)
{
    struct timeval tv = {0, -1};

    (void) a;
    return ret(syscall(SYS_settimeofday, &tv, NULL));
}

static long p_adjtimex_read(unsigned long a)
{
    struct timex tx = {0}; /* modes 0: read only */

    (void) a;
    return ret(adjtimex(&tx));
}

static long p_iopl(unsigned long a)
{
    (void) a;
#ifdef SYS_iopl
    return ret(syscall(SYS_iopl, 0));
#else
    return -EPERM;
#endif
}

static long p_sethostname(unsigned long a)
{
    char name[80];

    (void) a; /* longer than the 64-byte limit: EINVAL if let through */
    memset(name, 'x', sizeof name);
    return ret(sethostname(name, sizeof name));
}

static long p_socket(unsigned long domain)
{
    long r = ret(syscall(SYS_socket, domain, SOCK_STREAM | SOCK_CLOEXEC, 0));

    if (r >= 0)
        close((int) r);
    return r;
}

static long p_fsopen(unsigned long a)
{
    (void) a;
    return ret(syscall(SYS_fsopen, "lambdad_no_such_fs", 0U));
}

static long p_open_tree(unsigned long a)
{
    (void) a;
    return ret(syscall(SYS_open_tree, AT_FDCWD, NOWHERE, 0U));
}

static long p_mbind(unsigned long a)
{
    (void) a;
    return ret(syscall(SYS_mbind, NULL, 0UL, 0, NULL, 0UL, 0U));
}

static long p_vhangup(unsigned long a)
{
    (void) a;
    return ret(vhangup());
}

struct probe {
    const char *name;
    probe_fn fn;
    unsigned long arg;
    int expect;        /* errno the filter must return */
    bool unsafe_bare;  /* must not run without the filter */
};

static const struct probe denied[] = {
    {"mount", p_mount, 0, EPERM},
    {"umount2", p_umount2, 0, EPERM},
    {"pivot_root", p_pivot_root, 0, EPERM},
    {"chroot", p_chroot, 0, EPERM},
    {"unshare(NEWNS)", p_unshare, CLONE_NEWNS, EPERM},
    {"unshare(NEWUSER)", p_unshare, CLONE_NEWUSER, EPERM},
    {"setns", p_setns, 0, EPERM},
    {"clone(NEWNS)", p_clone, CLONE_NEWNS, EPERM},
    {"clone(NEWUTS)", p_clone, CLONE_NEWUTS, EPERM},
    {"clone(NEWIPC)", p_clone, CLONE_NEWIPC, EPERM},
    {"clone(NEWUSER)", p_clone, CLONE_NEWUSER, EPERM},
    {"clone(NEWPID)", p_clone, CLONE_NEWPID, EPERM},
    {"clone(NEWNET)", p_clone, CLONE_NEWNET, EPERM},
    {"clone(NEWCGROUP)", p_clone, CLONE_NEWCGROUP, EPERM},
    {"clone(NEWUSER|NEWNET)", p_clone, CLONE_NEWUSER | CLONE_NEWNET, EPERM},
    {"clone3", p_clone3, 0, ENOSYS},
    {"ptrace(ATTACH, parent)", p_ptrace_parent, 0, EPERM, true},
    {"process_vm_readv", p_process_vm_readv, 0, EPERM},
    {"kcmp", p_kcmp, 0, EPERM},
    {"pidfd_getfd", p_pidfd_getfd, 0, EPERM},
    {"kexec_load", p_kexec_load, 0, EPERM},
    {"kexec_file_load", p_kexec_file_load, 0, EPERM},
    {"init_module", p_init_module, 0, EPERM},
    {"finit_module", p_finit_module, 0, EPERM},
    {"delete_module", p_delete_module, 0, EPERM},
    {"open_by_handle_at", p_open_by_handle_at, 0, EPERM},
    {"name_to_handle_at", p_name_to_handle_at, 0, EPERM},
    {"reboot", p_reboot, 0, EPERM},
    {"swapon", p_swapon, 0, EPERM},
    {"acct", p_acct, 0, EPERM},
    {"keyctl", p_keyctl, 0, EPERM},
    {"add_key", p_add_key, 0, EPERM},
    {"request_key", p_request_key, 0, EPERM},
    {"bpf", p_bpf, 0, EPERM},
    {"perf_event_open", p_perf_event_open, 0, EPERM},
    {"userfaultfd", p_userfaultfd, 0, EPERM},
    {"io_uring_setup", p_io_uring_setup, 0, ENOSYS},
    {"fanotify_init", p_fanotify_init, 0, EPERM},
    {"syslog", p_syslog, 0, EPERM},
    {"clock_settime", p_clock_settime, 0, EPERM},
    {"settimeofday", p_settimeofday, 0, EPERM},
    {"adjtimex(read)", p_adjtimex_read, 0, EPERM},
    {"iopl", p_iopl, 0, EPERM},
    {"sethostname", p_sethostname, 0, EPERM},
    {"socket(AF_VSOCK)", p_socket, AF_VSOCK, EPERM},
    /* The kernel reads the domain as an int: junk above bit 31 must not help. */
    {"socket(AF_VSOCK|1<<32)", p_socket, (1UL << 32) | AF_VSOCK, EPERM},
    {"fsopen", p_fsopen, 0, EPERM},
    {"open_tree", p_open_tree, 0, EPERM},
    {"mbind", p_mbind, 0, EPERM},
    {"vhangup", p_vhangup, 0, EPERM, true},
};
#define N_DENIED (sizeof denied / sizeof denied[0])

/* ---- probes of ordinary work that must keep working ---------------------- */

static long wait_exit_code(pid_t pid)
{
    int st;

    if (waitpid(pid, &st, 0) != pid)
        return -errno;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -EINTR;
}

static long p_fork(unsigned long a)
{
    pid_t pid = fork();

    (void) a;
    if (pid == 0)
        _exit(7);
    if (pid < 0)
        return -errno;
    return wait_exit_code(pid) == 7 ? 0 : -EPROTO;
}

static long p_exec_true(unsigned long a)
{
    char *argv[] = {(char *) "true", NULL};
    pid_t pid = fork();

    (void) a;
    if (pid == 0) {
        execve("/bin/true", argv, environ);
        _exit(127);
    }
    if (pid < 0)
        return -errno;
    return wait_exit_code(pid) == 0 ? 0 : -EPROTO;
}

/* posix_spawn and pthread_create try clone3 first in glibc >= 2.34: these
 * prove the ENOSYS fallback to clone() works. */
static long p_posix_spawn(unsigned long a)
{
    char *argv[] = {(char *) "true", NULL};
    pid_t pid;
    int rc;

    (void) a;
    rc = posix_spawn(&pid, "/bin/true", NULL, NULL, argv, environ);
    if (rc != 0)
        return -rc;
    return wait_exit_code(pid) == 0 ? 0 : -EPROTO;
}

static void *thread_body(void *arg)
{
    return arg;
}

static long p_thread(unsigned long a)
{
    pthread_t t;
    void *out = NULL;
    int rc;

    (void) a;
    rc = pthread_create(&t, NULL, thread_body, (void *) 0x5a);
    if (rc != 0)
        return -rc;
    rc = pthread_join(t, &out);
    if (rc != 0)
        return -rc;
    return out == (void *) 0x5a ? 0 : -EPROTO;
}

static long p_file_io(unsigned long a)
{
    char path[] = "/tmp/lambdad-seccomp-XXXXXX";
    char got[6] = {0};
    long r = 0;
    int fd;

    (void) a;
    fd = mkstemp(path);
    if (fd < 0)
        return -errno;
    if (write(fd, "hello", 5) != 5 || pread(fd, got, 5, 0) != 5)
        r = -errno;
    else if (memcmp(got, "hello", 5) != 0)
        r = -EPROTO;
    close(fd);
    if (unlink(path) < 0 && r == 0)
        r = -errno;
    return r;
}

static long p_loopback_tcp(unsigned long a)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    int lfd, cfd = -1, afd = -1;
    char c = 0;
    long r = -EPROTO;

    (void) a;
    lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (lfd < 0)
        return -errno;
    if (bind(lfd, (struct sockaddr *) &sa, sizeof sa) < 0 || listen(lfd, 1) < 0 ||
        getsockname(lfd, (struct sockaddr *) &sa, &len) < 0)
        goto out;
    cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (cfd < 0 || connect(cfd, (struct sockaddr *) &sa, sizeof sa) < 0)
        goto out;
    afd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    if (afd < 0 || write(cfd, "z", 1) != 1 || read(afd, &c, 1) != 1)
        goto out;
    r = c == 'z' ? 0 : -EPROTO;
out:
    if (r == -EPROTO && errno)
        r = -errno;
    if (afd >= 0)
        close(afd);
    if (cfd >= 0)
        close(cfd);
    close(lfd);
    return r;
}

static long p_socketpair(unsigned long a)
{
    int sv[2];

    (void) a;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return -errno;
    close(sv[0]);
    close(sv[1]);
    return 0;
}

static long p_personality_query(unsigned long a)
{
    (void) a;
    return ret(syscall(SYS_personality, 0xffffffffUL));
}

static const struct probe allowed[] = {
    {"fork", p_fork},
    {"execve /bin/true", p_exec_true},
    {"posix_spawn /bin/true", p_posix_spawn},
    {"pthread_create", p_thread},
    {"clone(SIGCHLD)", p_clone, 0},
    {"open/write/read/unlink", p_file_io},
    {"socket+connect on loopback", p_loopback_tcp},
    {"socketpair(AF_UNIX)", p_socketpair},
    {"socket(AF_INET)", p_socket, AF_INET},
    {"personality(query)", p_personality_query},
};
#define N_ALLOWED (sizeof allowed / sizeof allowed[0])

/* ---- the tests ----------------------------------------------------------- */

static void build(struct sandbox_seccomp *f)
{
    struct ld_err err = {0};

    cr_assert_eq(seccomp_build(f, &err), 0, "seccomp_build: %s", err.msg);
}

static void expect_probed(const struct probe *p, struct report r, int status)
{
    cr_assert_eq(r.stage, PROBED, "%s: child stopped at stage %d (%ld), status %#x", p->name,
                 (int) r.stage, r.value, (unsigned) status);
}

Test(seccomp, denied_calls_fail_with_the_policy_errno)
{
    struct sandbox_seccomp f;

    build(&f);
    for (size_t i = 0; i < N_DENIED; i++) {
        const struct probe *p = &denied[i];
        int status;
        struct report r = run_probe(&f, p->fn, p->arg, &status);

        expect_probed(p, r, status);
        cr_expect_eq(r.value, -p->expect, "%s: got %ld (%s), want -%d (%s)", p->name, r.value,
                     r.value < 0 ? strerror((int) -r.value) : "success", p->expect,
                     strerror(p->expect));
    }
    seccomp_fini(&f);
    assert_no_leaks();
}

/* As root the kernel would let most of these through (or fail them for
 * another reason); the filter is what turns them into the policy's errno. */
Test(seccomp, without_the_filter_root_gets_another_answer)
{
    if (geteuid() != 0)
        cr_skip_test("needs root: unprivileged, the kernel says EPERM itself");
    for (size_t i = 0; i < N_DENIED; i++) {
        const struct probe *p = &denied[i];
        int status;
        struct report r;

        if (p->unsafe_bare)
            continue;
        r = run_probe(NULL, p->fn, p->arg, &status);
        expect_probed(p, r, status);
        cr_expect_neq(r.value, -p->expect,
                      "%s: unfiltered root also gets -%d, so this probe proves nothing", p->name,
                      p->expect);
    }
}

Test(seccomp, ordinary_work_still_works)
{
    struct sandbox_seccomp f;

    build(&f);
    for (size_t i = 0; i < N_ALLOWED; i++) {
        const struct probe *p = &allowed[i];
        int status;
        struct report r = run_probe(&f, p->fn, p->arg, &status);

        expect_probed(p, r, status);
        cr_expect_geq(r.value, 0, "%s: %ld (%s)", p->name, r.value,
                      r.value < 0 ? strerror((int) -r.value) : "");
    }
    seccomp_fini(&f);
    assert_no_leaks();
}

#if defined(__x86_64__)
/* getpid through the 32-bit entry (number 20 there). Without the filter this
 * works on kernels with IA32 emulation; a deny list for x86_64 numbers would
 * otherwise be bypassed this way, since the numbers differ. */
static long p_int80_getpid(unsigned long a)
{
    long r;

    (void) a;
    __asm__ volatile("int $0x80" : "=a"(r) : "a"(20L) : "memory", "r8", "r9", "r10", "r11");
    return r;
}

/* x32 uses x86_64's audit arch with bit 30 set in the number. */
static long p_x32_getpid(unsigned long a)
{
    (void) a;
    return ret(syscall(0x40000000L | SYS_getpid));
}

Test(seccomp, other_abis_kill_the_process)
{
    struct sandbox_seccomp f;
    struct report r;
    int status;

    build(&f);
    r = run_probe(&f, p_x32_getpid, 0, &status);
    cr_expect(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS,
              "x32 getpid: status %#x, report %ld", (unsigned) status, r.value);

    r = run_probe(NULL, p_int80_getpid, 0, &status);
    if (!WIFEXITED(status) || r.value <= 0) {
        cr_log_warn("no IA32 emulation here (status %#x): int 0x80 not tested", (unsigned) status);
    } else {
        r = run_probe(&f, p_int80_getpid, 0, &status);
        cr_expect(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS,
                  "int 0x80 getpid: status %#x, report %ld", (unsigned) status, r.value);
    }
    seccomp_fini(&f);
    assert_no_leaks();
}
#endif

static long p_nothing(unsigned long a)
{
    (void) a;
    return 0;
}

Test(seccomp, an_unbuilt_filter_is_refused_not_skipped)
{
    struct sandbox_seccomp f = {0};
    int status;
    struct report r = run_probe(&f, p_nothing, 0, &status);

    cr_expect_eq(r.stage, APPLY_FAILED);
    cr_expect_eq(r.value, -EINVAL, "got %ld", r.value);
}

Test(seccomp, build_and_fini_leave_nothing_behind)
{
    struct sandbox_seccomp f;
    int fds = count_fds();
    size_t n;

    seccomp_policy_rules(&n);
    build(&f);
    cr_expect_eq(count_fds(), fds, "the export memfd leaked");
    cr_expect_eq(f.rules_applied + f.rules_skipped, n);
    cr_expect_gt(f.prog.len, 0);
    cr_expect_leq(f.prog.len, BPF_MAXINSNS);
    seccomp_fini(&f);
    cr_expect_null(f.prog.filter);
    seccomp_fini(&f); /* twice is harmless */
    assert_no_leaks();
}

static int cmp_long(const void *a, const void *b)
{
    long x = *(const long *) a, y = *(const long *) b;

    return (x > y) - (x < y);
}

static long now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

static const struct sandbox_seccomp *timed_filter; /* what p_timed_apply installs */

static long p_timed_apply(unsigned long a)
{
    long t0 = now_ns();
    int rc = seccomp_apply_in_child(timed_filter);

    (void) a;
    return rc < 0 ? rc : now_ns() - t0;
}

/* Reports what the filter costs: its size, the build in the parent, and the
 * install in a child (no_new_privs + seccomp(2), measured in the child). The
 * only assertion is a loose ceiling that catches a pathological filter. */
Test(seccomp, cost)
{
    enum { RUNS = 101 };
    struct sandbox_seccomp f;
    long apply[RUNS];
    long t0, build_ns, p50, p90;

    t0 = now_ns();
    build(&f);
    build_ns = now_ns() - t0;
    timed_filter = &f;
    for (int i = 0; i < RUNS; i++) {
        int status;
        struct report r = run_probe(NULL, p_timed_apply, 0, &status);

        cr_assert_eq(r.stage, PROBED);
        cr_assert_geq(r.value, 0, "apply: %ld", r.value);
        apply[i] = r.value;
    }
    qsort(apply, RUNS, sizeof apply[0], cmp_long);
    p50 = apply[RUNS / 2];
    p90 = apply[RUNS * 9 / 10];
    cr_log_info("seccomp filter: %u instructions, %u rules (%u skipped on this arch); "
                "build %.1f us; apply in child min %.1f / p50 %.1f / p90 %.1f / max %.1f us",
                f.prog.len, f.rules_applied, f.rules_skipped, build_ns / 1e3, apply[0] / 1e3,
                p50 / 1e3, p90 / 1e3, apply[RUNS - 1] / 1e3);
    cr_expect_lt(p50, 2000000L, "p50 apply %ld ns", p50);
    seccomp_fini(&f);
    assert_no_leaks();
}

/* ---- the policy table ---------------------------------------------------- */

Test(seccomp_policy, every_rule_has_a_reason_and_no_duplicates)
{
    size_t n;
    const struct syscall_rule *r = seccomp_policy_rules(&n);

    cr_assert_gt(n, 0);
    for (size_t i = 0; i < n; i++) {
        cr_assert(r[i].name && r[i].name[0], "rule %zu has no name", i);
        cr_expect(r[i].why && strlen(r[i].why) >= 10, "%s: no real reason", r[i].name);
        cr_expect(r[i].errno_value == EPERM || r[i].errno_value == ENOSYS, "%s: errno %d",
                  r[i].name, r[i].errno_value);
        if (r[i].when != SECCOMP_WHEN_ALWAYS)
            cr_expect_neq(r[i].value, 0, "%s: argument test against nothing", r[i].name);
        for (size_t j = 0; j < i; j++)
            cr_expect_str_neq(r[i].name, r[j].name, "%s listed twice", r[i].name);
    }
}

/* A misspelt name would be skipped as "not on this arch" and deny nothing:
 * every name must be known to libseccomp, except these, which are newer
 * than the libseccomp we build against (2.5.4 here). */
Test(seccomp_policy, names_are_real_syscalls)
{
    static const char *const newer_than_libseccomp[] = {
        "open_tree_attr", "lsm_get_self_attr", "lsm_set_self_attr", "lsm_list_modules"};
    size_t n;
    const struct syscall_rule *r = seccomp_policy_rules(&n);

    for (size_t i = 0; i < n; i++) {
        bool newer = false;

        if (seccomp_syscall_resolve_name(r[i].name) != __NR_SCMP_ERROR)
            continue;
        for (size_t j = 0; j < sizeof newer_than_libseccomp / sizeof newer_than_libseccomp[0]; j++)
            newer = newer || strcmp(r[i].name, newer_than_libseccomp[j]) == 0;
        cr_expect(newer, "%s: unknown to libseccomp; misspelt?", r[i].name);
    }
}

/* The calls issue 3 names, and the ones the sandbox design leans on. */
Test(seccomp_policy, covers_what_the_issue_lists)
{
    static const char *const required[] = {
        "mount",         "umount2",         "pivot_root",      "ptrace",        "kexec_load",
        "kexec_file_load", "init_module",   "finit_module",    "delete_module", "bpf",
        "perf_event_open", "keyctl",        "unshare",         "setns",         "reboot",
        "swapon",        "open_by_handle_at", "clone",         "clone3",        "process_vm_readv",
        "process_vm_writev"};
    size_t n;
    const struct syscall_rule *r = seccomp_policy_rules(&n);

    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++) {
        bool found = false;

        for (size_t j = 0; j < n; j++)
            found = found || strcmp(required[i], r[j].name) == 0;
        cr_expect(found, "%s is not in the policy", required[i]);
    }
}
