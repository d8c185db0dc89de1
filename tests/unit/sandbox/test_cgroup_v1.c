/* tests/unit/sandbox/test_cgroup_v1.c: environment cgroups on real cgroup v1
 * (src/sandbox/cgroup.h). Needs root and the memory, cpu, pids and freezer
 * hierarchies mounted at /sys/fs/cgroup/<controller>; skipped otherwise.
 *
 * Each test runs in its own process and names its parent group after its
 * pid (ldtest-v1-<pid>), so tests running side by side never sweep each
 * other. The fini destroys what a failed test left and reopens the system
 * under the same name, which kills and removes anything still there; parents
 * of test processes that crashed are swept by the next test's setup. Every
 * child joins with PR_SET_PDEATHSIG, so none outlives its test. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../checks.h"
#include "sandbox/cgroup.h"

#define CG "/sys/fs/cgroup"
#define MAX_KIDS 8
#define MAX_ENVS 4

static const char *const ctls[] = {"memory", "cpu", "pids", "freezer"};
#define NCTLS (sizeof ctls / sizeof ctls[0])

static char sysname[64];
static struct cgroup_system *sys;
static struct cgroup_env *envs[MAX_ENVS];
static pid_t kids[MAX_KIDS];
static int nkids;

/* ---- helpers ------------------------------------------------------------ */

static uint64_t now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* CG/<ctl>/<sysname>[/<env>[/<file>]] */
static char *ctl_path(char *buf, size_t cap, const char *ctl, const char *env, const char *file)
{
    snprintf(buf, cap, CG "/%s/%s%s%s%s%s", ctl, sysname, env ? "/" : "", env ? env : "",
             file ? "/" : "", file ? file : "");
    return buf;
}

static bool exists(const char *ctl, const char *env, const char *file)
{
    char path[512];
    struct stat st;

    return stat(ctl_path(path, sizeof path, ctl, env, file), &st) == 0;
}

static char *read_text(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "re");
    size_t n;

    cr_assert_not_null(f, "open %s: %s", path, strerror(errno));
    n = fread(buf, 1, cap - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static char *read_ctl(const char *ctl, const char *env, const char *file, char *buf, size_t cap)
{
    char path[512];

    return read_text(ctl_path(path, sizeof path, ctl, env, file), buf, cap);
}

/* True when no hierarchy has the group (env NULL: the parent group). */
static bool groups_gone(const char *env)
{
    size_t i;

    for (i = 0; i < NCTLS; i++)
        if (exists(ctls[i], env, NULL))
            return false;
    return true;
}

/* Removes the parent groups of earlier test processes that crashed. */
static void sweep_dead_tests(void)
{
    DIR *d = opendir(CG "/memory");
    struct dirent *e;
    int pid;

    if (!d)
        return;
    while ((e = readdir(d))) {
        struct cgroup_system *old;
        struct ld_err err;

        if (sscanf(e->d_name, "ldtest-v1-%d", &pid) != 1 || kill(pid, 0) == 0 || errno != ESRCH)
            continue;
        if (cgroup_system_open(&old, e->d_name, &err) == 0)
            cgroup_system_close(old);
    }
    closedir(d);
}

static void open_v1(void)
{
    struct statfs st;
    struct ld_err err;
    char path[64];
    size_t i;

    if (geteuid() != 0)
        cr_skip_test("cgroup v1 tests need root");
    if (statfs(CG, &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC)
        cr_skip_test("this host runs cgroup v2 only (" CG " is cgroup2)");
    for (i = 0; i < NCTLS; i++) {
        snprintf(path, sizeof path, CG "/%s", ctls[i]);
        if (statfs(path, &st) < 0 || st.f_type != CGROUP_SUPER_MAGIC)
            cr_skip_test("no cgroup v1 %s hierarchy at %s", ctls[i], path);
    }
    sweep_dead_tests();
    snprintf(sysname, sizeof sysname, "ldtest-v1-%d", (int) getpid());
    cr_assert_eq(cgroup_system_open(&sys, sysname, &err), 0, "%s", err.msg);
    cr_assert_eq(cgroup_system_version(sys), 1);
}

static struct cgroup_env *create_env(const char *id, uint32_t memory_mb, uint32_t pids_max)
{
    struct cgroup_limits lim = {.memory_mb = memory_mb, .pids_max = pids_max};
    struct ld_err err;
    int i;

    for (i = 0; i < MAX_ENVS && envs[i]; i++)
        ;
    cr_assert_lt(i, MAX_ENVS);
    cr_assert_eq(cgroup_env_create(sys, id, &lim, &envs[i], &err), 0, "%s", err.msg);
    return envs[i];
}

static void destroy_env(struct cgroup_env *env)
{
    struct ld_err err;
    int i;

    for (i = 0; i < MAX_ENVS; i++)
        if (envs[i] == env)
            envs[i] = NULL;
    cr_assert_eq(cgroup_env_destroy(env, &err), 0, "%s", err.msg);
}

static void close_sys(void)
{
    cgroup_system_close(sys);
    sys = NULL;
    cr_assert(groups_gone(NULL), "parent group %s left behind", sysname);
}

/* Forks a child that joins env (as spawn.c does: write "0" to each
 * cgroup.procs) and then runs fn(arg); returns once it has joined. */
static pid_t start_in(struct cgroup_env *env, void (*fn)(int), int arg)
{
    struct cgroup_join j;
    struct ld_err err;
    int ready[2];
    char c;
    pid_t pid;

    cr_assert_lt(nkids, MAX_KIDS);
    cr_assert_eq(cgroup_env_join_open(env, &j, &err), 0, "%s", err.msg);
    cr_assert_eq(j.nfds, 4);
    cr_assert_eq(j.clone_fd, -1, "v1 has no clone3 fast path");
    cr_assert_eq(pipe2(ready, O_CLOEXEC), 0);
    pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (cgroup_join_self(&j, &err) < 0)
            _exit(100);
        (void) !write(ready[1], "j", 1);
        fn(arg);
        _exit(0);
    }
    kids[nkids++] = pid;
    close(ready[1]);
    cgroup_join_close(&j);
    cr_assert_eq(read(ready[0], &c, 1), 1, "child %d did not join", (int) pid);
    close(ready[0]);
    return pid;
}

/* Reaps a child we started; returns its wait status. */
static int reap(pid_t pid)
{
    int i, status = 0;

    cr_assert_eq(waitpid(pid, &status, 0), pid);
    for (i = 0; i < nkids; i++)
        if (kids[i] == pid)
            kids[i] = kids[--nkids];
    return status;
}

static void child_pause(int arg)
{
    (void) arg;
    for (;;)
        pause();
}

static void child_spin(int arg)
{
    volatile unsigned long n = 0;

    (void) arg;
    for (;;)
        n++;
}

/* Touches 200 MB a page at a time; exits 0 if it got them all. */
static void child_hog(int arg)
{
    size_t len = (size_t) arg << 20, off;
    char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

    if (p == MAP_FAILED)
        _exit(101);
    for (off = 0; off < len; off += 4096)
        p[off] = 1;
    _exit(0);
}

/* Forks until the kernel refuses; reports "<forked> <errno>" on fd. */
static void child_fork_bomb(int fd)
{
    char msg[32];
    int n = 0, len;
    pid_t p;

    for (;;) {
        p = fork();
        if (p == 0)
            for (;;)
                pause();
        if (p < 0)
            break;
        n++;
    }
    len = snprintf(msg, sizeof msg, "%d %d", n, errno);
    (void) !write(fd, msg, (size_t) len);
    for (;;)
        pause();
}

/* utime + stime of a process, in clock ticks. */
static long cpu_ticks(pid_t pid)
{
    char path[64], buf[1024], *p;
    unsigned long ut = 0, st = 0;

    snprintf(path, sizeof path, "/proc/%d/stat", (int) pid);
    read_text(path, buf, sizeof buf);
    p = strrchr(buf, ')');
    cr_assert_not_null(p);
    /* After ")": state(3) ... utime(14) stime(15). */
    cr_assert_eq(sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st),
                 2);
    return (long) (ut + st);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;

    return x < y ? -1 : x > y;
}

static uint64_t median(uint64_t *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_u64);
    return v[n / 2];
}

static void set_anchor(const char *state)
{
    char path[256];
    int fd;

    snprintf(path, sizeof path, CG "/freezer/%s/.freeze-anchor/freezer.state", sysname);
    fd = open(path, O_WRONLY | O_CLOEXEC);
    cr_assert_geq(fd, 0, "%s: %s", path, strerror(errno));
    cr_assert_eq(write(fd, state, strlen(state)), (ssize_t) strlen(state));
    close(fd);
}

static void fini(void)
{
    struct cgroup_system *again;
    struct ld_err err;
    int i;

    for (i = 0; i < nkids; i++) {
        kill(kids[i], SIGKILL);
        waitpid(kids[i], NULL, 0);
    }
    nkids = 0;
    for (i = 0; i < MAX_ENVS; i++)
        if (envs[i]) {
            (void) cgroup_env_destroy(envs[i], &err);
            envs[i] = NULL;
        }
    if (sys) {
        cgroup_system_close(sys);
        sys = NULL;
    }
    /* Whatever is still there goes with a fresh open's sweep. */
    if (sysname[0] && cgroup_system_open(&again, sysname, &err) == 0)
        cgroup_system_close(again);
}

TestSuite(cgroup_v1, .fini = fini, .timeout = 60);

/* ---- tests -------------------------------------------------------------- */

Test(cgroup_v1, child_joins_every_controller_and_limits_read_back)
{
    int fds = count_fds();
    struct cgroup_env *env;
    char buf[4096], want[128];
    pid_t pid;
    int status;
    size_t i;

    open_v1();
    env = create_env("env1", 128, CGROUP_PIDS_MAX_DEFAULT);
    cr_assert_str_eq(cgroup_env_id(env), "env1");
    pid = start_in(env, child_pause, 0);

    snprintf(buf, sizeof buf, "/proc/%d/cgroup", (int) pid);
    read_text(buf, buf, sizeof buf);
    for (i = 0; i < NCTLS; i++) {
        snprintf(want, sizeof want, ":%s:/%s/env1\n", ctls[i], sysname);
        cr_assert_not_null(strstr(buf, want), "no \"%s\" in /proc/%d/cgroup:\n%s", want,
                           (int) pid, buf);
    }
    cr_assert_str_eq(read_ctl("memory", "env1", "memory.limit_in_bytes", buf, sizeof buf),
                     "134217728\n");
    if (exists("memory", "env1", "memory.memsw.limit_in_bytes"))
        cr_assert_str_eq(read_ctl("memory", "env1", "memory.memsw.limit_in_bytes", buf, sizeof buf),
                         "134217728\n");
    cr_assert_str_eq(read_ctl("cpu", "env1", "cpu.cfs_period_us", buf, sizeof buf), "100000\n");
    /* 100000 * 128 / 1769 = 7235.7 */
    cr_assert_str_eq(read_ctl("cpu", "env1", "cpu.cfs_quota_us", buf, sizeof buf), "7235\n");
    cr_assert_str_eq(read_ctl("pids", "env1", "pids.max", buf, sizeof buf), "1024\n");
    snprintf(want, sizeof want, "%d\n", (int) pid);
    cr_assert_str_eq(read_ctl("freezer", "env1", "cgroup.procs", buf, sizeof buf), want);

    destroy_env(env);
    status = reap(pid);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "status %#x", status);
    cr_assert(groups_gone("env1"), "env1 groups left behind");
    close_sys();
    cr_assert_eq(count_fds(), fds, "fds leaked");
    assert_no_leaks();
}

Test(cgroup_v1, add_pid_moves_a_running_process)
{
    struct cgroup_env *env;
    struct ld_err err;
    char buf[4096], want[128];
    pid_t pid;

    open_v1();
    env = create_env("env1", 128, 64);
    pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        child_pause(0);
    }
    kids[nkids++] = pid;
    cr_assert_eq(cgroup_env_add_pid(env, pid, &err), 0, "%s", err.msg);
    snprintf(buf, sizeof buf, "/proc/%d/cgroup", (int) pid);
    read_text(buf, buf, sizeof buf);
    snprintf(want, sizeof want, ":memory:/%s/env1\n", sysname);
    cr_assert_not_null(strstr(buf, want), "%s", buf);
    cr_assert_eq(cgroup_env_add_pid(env, 999999999, &err), -ESRCH);
    cr_assert_not_null(strstr(err.msg, "add pid 999999999"), "%s", err.msg);
    cr_assert_eq(cgroup_env_kill_all(env, &err), 0, "%s", err.msg);
    reap(pid);
    destroy_env(env);
    close_sys();
}

Test(cgroup_v1, memory_hog_is_oom_killed_and_reported)
{
    struct cgroup_env *env;
    uint64_t peak = 0, kills = 99;
    pid_t pid;
    int status;

    open_v1();
    env = create_env("hog", 128, CGROUP_PIDS_MAX_DEFAULT);
    cr_assert_eq(cgroup_env_oom_kills(env, &kills), 0);
    cr_assert_eq(kills, 0);
    cr_assert_not(cgroup_env_oom_killed(env));

    pid = start_in(env, child_hog, 200);
    status = reap(pid);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
              "a 200 MB hog in a 128 MB group should be OOM-killed, status %#x", status);
    cr_assert(cgroup_env_oom_killed(env));
    cr_assert_eq(cgroup_env_oom_kills(env, &kills), 0);
    cr_assert_geq(kills, 1);
    cr_assert_eq(cgroup_env_peak_memory(env, &peak), 0);
    cr_assert(peak > (uint64_t) 100 << 20 && peak <= (uint64_t) 128 << 20,
              "peak %llu bytes", (unsigned long long) peak);
    destroy_env(env);
    close_sys();
}

Test(cgroup_v1, peak_memory_of_a_small_process)
{
    struct cgroup_env *env;
    uint64_t peak = 0;
    pid_t pid;
    int status;

    open_v1();
    env = create_env("small", 128, 0);
    pid = start_in(env, child_hog, 20); /* 20 MB, well under the limit */
    status = reap(pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x", status);
    cr_assert_eq(cgroup_env_peak_memory(env, &peak), 0);
    cr_assert(peak >= (uint64_t) 20 << 20 && peak < (uint64_t) 64 << 20, "peak %llu",
              (unsigned long long) peak);
    cr_assert_not(cgroup_env_oom_killed(env));
    destroy_env(env);
    close_sys();
}

Test(cgroup_v1, fork_bomb_stops_at_pids_max)
{
    struct cgroup_env *env;
    struct ld_err err;
    char buf[256];
    int p[2], forked = -1, e = 0;
    ssize_t n;
    pid_t pid;

    open_v1();
    env = create_env("bomb", 128, 16);
    cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
    pid = start_in(env, child_fork_bomb, p[1]);
    close(p[1]);
    n = read(p[0], buf, sizeof buf - 1);
    close(p[0]);
    cr_assert_gt(n, 0);
    buf[n] = '\0';
    cr_assert_eq(sscanf(buf, "%d %d", &forked, &e), 2);
    cr_assert_eq(e, EAGAIN, "fork failed with %s", strerror(e));
    cr_assert_eq(forked, 15, "16 tasks: the bomb and %d children", forked);
    cr_assert_str_eq(read_ctl("pids", "bomb", "pids.current", buf, sizeof buf), "16\n");
    cr_assert_neq(strcmp(read_ctl("pids", "bomb", "pids.events", buf, sizeof buf), "max 0\n"), 0);

    cr_assert_eq(cgroup_env_kill_all(env, &err), 0, "%s", err.msg);
    cr_assert_str_eq(read_ctl("pids", "bomb", "cgroup.procs", buf, sizeof buf), "");
    reap(pid);
    destroy_env(env);
    close_sys();
}

Test(cgroup_v1, frozen_child_gets_no_cpu_until_thawed)
{
    long hz = sysconf(_SC_CLK_TCK), t0, t1, t2, t3;
    struct cgroup_env *env;
    char buf[64];
    pid_t pid;

    open_v1();
    env = create_env("spin", CGROUP_MB_PER_VCPU, 0); /* one full vCPU */
    pid = start_in(env, child_spin, 0);
    sleep_ms(100);

    cr_assert_eq(cgroup_env_freeze(env), 0);
    cr_assert_str_eq(read_ctl("freezer", "spin", "freezer.state", buf, sizeof buf), "FROZEN\n");
    t0 = cpu_ticks(pid);
    sleep_ms(400);
    t1 = cpu_ticks(pid);
    cr_assert_leq(t1 - t0, 1, "frozen for 400 ms, yet %ld ticks of CPU", t1 - t0);

    cr_assert_eq(cgroup_env_thaw(env), 0);
    cr_assert_str_eq(read_ctl("freezer", "spin", "freezer.state", buf, sizeof buf), "THAWED\n");
    t2 = cpu_ticks(pid);
    sleep_ms(400);
    t3 = cpu_ticks(pid);
    /* 40 of 400 ms on a shared 2-vCPU machine: generous on purpose. */
    cr_assert_geq(t3 - t2, hz / 25, "thawed for 400 ms, only %ld ticks of CPU", t3 - t2);

    /* Destroying a frozen group still kills and removes it. */
    cr_assert_eq(cgroup_env_freeze(env), 0);
    destroy_env(env);
    reap(pid);
    cr_assert(groups_gone("spin"));
    close_sys();
}

Test(cgroup_v1, cpu_quota_follows_memory)
{
    long hz = sysconf(_SC_CLK_TCK), t0, t1;
    struct cgroup_env *env;
    char buf[512], *thr;
    pid_t pid;

    open_v1();
    env = create_env("slow", 128, 0); /* 7.2 % of one CPU */
    pid = start_in(env, child_spin, 0);
    t0 = cpu_ticks(pid);
    sleep_ms(1000);
    t1 = cpu_ticks(pid);
    cr_assert_leq(t1 - t0, hz / 5, "128 MB buys 72 ms a second; it used %ld ticks", t1 - t0);
    read_ctl("cpu", "slow", "cpu.stat", buf, sizeof buf);
    thr = strstr(buf, "nr_throttled ");
    cr_assert_not_null(thr, "%s", buf);
    cr_assert_gt(atol(thr + 13), 0, "%s", buf);
    destroy_env(env);
    reap(pid);
    close_sys();
}

Test(cgroup_v1, open_sweeps_what_a_crashed_run_left)
{
    struct cgroup_system *again;
    struct ld_err err;
    char path[256], pidbuf[24];
    int status;
    size_t i;
    pid_t pid;

    open_v1();
    /* A "previous run": a group made by hand with a process in it. */
    pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        child_pause(0);
    }
    kids[nkids++] = pid;
    snprintf(pidbuf, sizeof pidbuf, "%d", (int) pid);
    for (i = 0; i < NCTLS; i++) {
        int fd;

        snprintf(path, sizeof path, CG "/%s/%s/stale", ctls[i], sysname);
        cr_assert_eq(mkdir(path, 0755), 0, "%s: %s", path, strerror(errno));
        snprintf(path, sizeof path, CG "/%s/%s/stale/cgroup.procs", ctls[i], sysname);
        fd = open(path, O_WRONLY | O_CLOEXEC);
        cr_assert_geq(fd, 0);
        cr_assert_eq(write(fd, pidbuf, strlen(pidbuf)), (ssize_t) strlen(pidbuf));
        close(fd);
    }
    /* Half a group too: a crash in the middle of create. */
    snprintf(path, sizeof path, CG "/memory/%s/half", sysname);
    cr_assert_eq(mkdir(path, 0755), 0);

    cr_assert_eq(cgroup_system_open(&again, sysname, &err), 0, "%s", err.msg);
    status = reap(pid);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "status %#x", status);
    cr_assert(groups_gone("stale"));
    cr_assert(groups_gone("half"));
    cgroup_system_close(again);
    close_sys();
}

Test(cgroup_v1, refuses_bad_ids_and_duplicates)
{
    static const char *const bad[] = {
        "", ".", "..", "../x", "a/b", ".hidden", "sp ace",
        "0123456789012345678901234567890123456789012345678901234567890123", /* 64 */
    };
    struct cgroup_limits lim = {.memory_mb = 128, .pids_max = 16};
    struct cgroup_env *env, *dup = NULL;
    struct cgroup_system *other;
    struct ld_err err;
    size_t i;

    open_v1();
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_eq(cgroup_env_create(sys, bad[i], &lim, &dup, &err), -EINVAL, "id \"%s\"",
                     bad[i]);
    cr_assert_eq(cgroup_system_open(&other, "../etc", &err), -EINVAL);
    env = create_env("twice", 128, 16);
    cr_assert_eq(cgroup_env_create(sys, "twice", &lim, &dup, &err), -EEXIST);
    cr_assert_null(dup);
    cr_assert_not_null(strstr(err.msg, "mkdir"), "%s", err.msg);
    /* The failed create must not have removed the first one's groups. */
    cr_assert(exists("freezer", "twice", NULL));
    destroy_env(env);
    close_sys();
    assert_no_leaks();
}

Test(cgroup_v1, freeze_thaw_and_create_destroy_costs, .timeout = 120)
{
    enum { CYCLES = 100 };
    static uint64_t fr[CYCLES], th[CYCLES], cd[CYCLES / 2];
    struct cgroup_env *env, *tmp;
    struct cgroup_limits lim = {.memory_mb = 128, .pids_max = CGROUP_PIDS_MAX_DEFAULT};
    struct ld_err err;
    const char *kind[2] = {"sleeping", "spinning"};
    char id[32];
    uint64_t t;
    pid_t pid;
    int k, i;

    open_v1();
    /* k = 2: the sleeping process again with the anchor thawed, as the
     * baseline the anchor is there to beat (same run, same machine load). */
    for (k = 0; k < 3; k++) {
        env = create_env(kind[k % 2], CGROUP_MB_PER_VCPU, 0);
        pid = start_in(env, k % 2 == 0 ? child_pause : child_spin, 0);
        if (k == 2)
            set_anchor("THAWED");
        for (i = 0; i < CYCLES; i++) {
            t = now_us();
            cr_assert_eq(cgroup_env_freeze(env), 0);
            fr[i] = now_us() - t;
            t = now_us();
            cr_assert_eq(cgroup_env_thaw(env), 0);
            th[i] = now_us() - t;
        }
        if (k == 2)
            set_anchor("FROZEN");
        fprintf(stderr, "cgroup v1 freeze/thaw, one %s process%s, median of %d: freeze %llu us, "
                        "thaw %llu us\n",
                kind[k % 2], k == 2 ? ", anchor thawed" : "", CYCLES,
                (unsigned long long) median(fr, CYCLES), (unsigned long long) median(th, CYCLES));
        cr_assert_lt(median(fr, CYCLES), 5000);
        cr_assert_lt(median(th, CYCLES), 5000);
        destroy_env(env);
        reap(pid);
    }
    for (i = 0; i < CYCLES / 2; i++) {
        snprintf(id, sizeof id, "cd%d", i);
        t = now_us();
        cr_assert_eq(cgroup_env_create(sys, id, &lim, &tmp, &err), 0, "%s", err.msg);
        cr_assert_eq(cgroup_env_destroy(tmp, &err), 0, "%s", err.msg);
        cd[i] = now_us() - t;
    }
    fprintf(stderr, "cgroup v1 create (4 hierarchies, limits) + destroy, empty, median of %d: "
                    "%llu us\n",
            CYCLES / 2, (unsigned long long) median(cd, CYCLES / 2));
    close_sys();
}

Test(cgroup_v1, freeze_anchor_is_frozen_while_open_and_removed_on_close)
{
    struct cgroup_env *env;
    char buf[64];

    open_v1();
    cr_assert_str_eq(read_ctl("freezer", ".freeze-anchor", "freezer.state", buf, sizeof buf),
                     "FROZEN\n");
    cr_assert_str_eq(read_ctl("freezer", ".freeze-anchor", "cgroup.procs", buf, sizeof buf), "");
    /* An environment thawing does not touch it. */
    env = create_env("a", 128, 16);
    cr_assert_eq(cgroup_env_freeze(env), 0);
    cr_assert_eq(cgroup_env_thaw(env), 0);
    cr_assert_str_eq(read_ctl("freezer", ".freeze-anchor", "freezer.state", buf, sizeof buf),
                     "FROZEN\n");
    destroy_env(env);
    close_sys(); /* asserts the parent, anchor included, is gone */
}
