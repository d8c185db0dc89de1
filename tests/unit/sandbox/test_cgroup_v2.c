/* tests/unit/sandbox/test_cgroup_v2.c: the cgroup v2 backend
 * (src/sandbox/cgroup_v2.c).
 *
 * Most tests point the backend at a temporary directory laid out like a
 * cgroup2 root (cgroup.controllers, cgroup.subtree_control) and check the
 * exact text it writes, standing in for the kernel where it has to: a test
 * writes cgroup.events ("frozen 1") or memory.events itself.
 *
 * The last tests use a real cgroup2 mount when there is one (here
 * /sys/fs/cgroup/unified, mounted without controllers since v1 holds them):
 * the freezer, cgroup.kill and clone3(CLONE_INTO_CGROUP) are part of the
 * core and need no controller. They need root and are skipped otherwise. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/magic.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../checks.h"
#include "sandbox/cgroup.h"

#define MAX_ENVS 4
#define MAX_KIDS 4

static char root[64];     /* the temporary hierarchy, or a real cgroup2 mount */
static char sysname[64];  /* parent group name */
static bool real_mount;   /* root is a real cgroup2 mount: never remove it */
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

/* root/rel */
static char *path_of(const char *rel)
{
    static char path[512];

    snprintf(path, sizeof path, "%s/%s", root, rel);
    return path;
}

static void put(const char *rel, const char *text)
{
    FILE *f = fopen(path_of(rel), "we");

    cr_assert_not_null(f, "create %s: %s", path_of(rel), strerror(errno));
    fputs(text, f);
    fclose(f);
}

/* The whole file, or "<missing>". */
static const char *get(const char *rel)
{
    static char buf[4096];
    FILE *f = fopen(path_of(rel), "re");
    size_t n;

    if (!f)
        return "<missing>";
    n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static bool exists(const char *rel)
{
    struct stat st;

    return stat(path_of(rel), &st) == 0;
}

/* "<sysname>/<env>/<file>" */
static const char *env_file(const char *env, const char *file)
{
    static char rel[256];

    snprintf(rel, sizeof rel, "%s/%s%s%s", sysname, env, file ? "/" : "", file ? file : "");
    return rel;
}

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st;
    (void) flag;
    (void) ftw;
    return remove(p);
}

/* A temporary root laid out like a cgroup2 hierarchy. */
static void make_root(const char *controllers)
{
    snprintf(root, sizeof root, "/tmp/ldcg2-%d-XXXXXX", (int) getpid());
    cr_assert_not_null(mkdtemp(root));
    real_mount = false;
    snprintf(sysname, sizeof sysname, "lambdad");
    put("cgroup.controllers", controllers);
    put("cgroup.subtree_control", "");
}

static void open_plain(const char *controllers)
{
    struct ld_err err;

    make_root(controllers);
    cr_assert_eq(cgroup_system_open_v2_at(&sys, root, sysname, &err), 0, "%s", err.msg);
    cr_assert_eq(cgroup_system_version(sys), 2);
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
    if (sys)
        close_sys();
    if (!root[0])
        return;
    if (real_mount) {
        /* Whatever a failed test left goes with a fresh open's sweep. */
        if (cgroup_system_open_v2_at(&again, root, sysname, &err) == 0)
            cgroup_system_close(again);
    } else {
        nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    }
}

TestSuite(cgroup_v2, .fini = fini, .timeout = 60);

/* ---- a temporary directory laid out like cgroup2 ------------------------- */

Test(cgroup_v2, open_enables_controllers_and_close_removes_the_parent)
{
    int fds = count_fds();

    open_plain("cpuset cpu io memory hugetlb pids rdma misc\n");
    cr_assert_str_eq(get("cgroup.subtree_control"), "+memory +cpu +pids");
    cr_assert_str_eq(get("lambdad/cgroup.subtree_control"), "+memory +cpu +pids");
    close_sys();
    cr_assert_not(exists("lambdad"), "parent group left behind");
    cr_assert(exists("cgroup.controllers"), "the root's own files must stay");
    cr_assert_eq(count_fds(), fds, "fds leaked");
    assert_no_leaks();
}

Test(cgroup_v2, open_leaves_enabled_controllers_alone)
{
    struct ld_err err;

    make_root("cpu io memory pids\n");
    put("cgroup.subtree_control", "cpu io memory pids\n");
    cr_assert_eq(cgroup_system_open_v2_at(&sys, root, sysname, &err), 0, "%s", err.msg);
    cr_assert_str_eq(get("cgroup.subtree_control"), "cpu io memory pids\n");
    cr_assert_str_eq(get("lambdad/cgroup.subtree_control"), "+memory +cpu +pids");
    close_sys();
}

Test(cgroup_v2, limits_are_written_exactly)
{
    static const struct {
        uint32_t mb;
        const char *memory_max, *cpu_max;
    } cases[] = {
        {128, "134217728", "7235 100000"},      /* 100000 * 128 / 1769 = 7235.7 */
        {1769, "1854930944", "100000 100000"},  /* one full vCPU */
        {10240, "10737418240", "578858 100000"}, /* Lambda's largest: 5.79 vCPUs */
        {8, "8388608", "1000 100000"},          /* below the kernel's 1 ms floor */
    };
    struct cgroup_env *env;
    char id[16];
    size_t i;

    open_plain("cpu io memory pids\n");
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(id, sizeof id, "env%zu", i);
        env = create_env(id, cases[i].mb, CGROUP_PIDS_MAX_DEFAULT);
        cr_assert_str_eq(get(env_file(id, "memory.max")), cases[i].memory_max, "%u MB",
                         cases[i].mb);
        cr_assert_str_eq(get(env_file(id, "memory.swap.max")), "0");
        cr_assert_str_eq(get(env_file(id, "cpu.max")), cases[i].cpu_max, "%u MB", cases[i].mb);
        cr_assert_str_eq(get(env_file(id, "pids.max")), "1024");
        cr_assert_str_eq(get(env_file(id, "cgroup.freeze")), "", "not frozen at creation");
        destroy_env(env);
        cr_assert_not(exists(env_file(id, NULL)), "%s left behind", id);
    }
    cr_assert_eq(cgroup_cpu_quota_us(1769 * 2), 200000);
    close_sys();
    assert_no_leaks();
}

Test(cgroup_v2, zero_limits_write_nothing)
{
    struct cgroup_env *env;

    open_plain("cpu io memory pids\n");
    env = create_env("bare", 0, 0);
    cr_assert_not(exists(env_file("bare", "memory.max")));
    cr_assert_not(exists(env_file("bare", "cpu.max")));
    cr_assert_not(exists(env_file("bare", "pids.max")));
    destroy_env(env);
    close_sys();
}

Test(cgroup_v2, limits_need_their_controllers)
{
    struct cgroup_limits mem = {.memory_mb = 128}, pids = {.pids_max = 16};
    struct cgroup_env *env = NULL;
    struct ld_err err;

    open_plain("cpu io\n");
    cr_assert_str_eq(get("lambdad/cgroup.subtree_control"), "+cpu");
    cr_assert_eq(cgroup_env_create(sys, "e", &mem, &env, &err), -ENOTSUP);
    cr_assert_not_null(strstr(err.msg, "memory and cpu controllers"), "%s", err.msg);
    cr_assert_eq(cgroup_env_create(sys, "e", &pids, &env, &err), -ENOTSUP);
    cr_assert_null(env);
    cr_assert_not(exists("lambdad/e"), "a refused env must leave no group");
    close_sys();
}

Test(cgroup_v2, freeze_waits_for_frozen_and_thaw_writes_0)
{
    struct cgroup_env *env;

    open_plain("cpu io memory pids\n");
    env = create_env("f", 128, 16);
    /* The kernel would say this once every task is frozen. */
    put(env_file("f", "cgroup.events"), "populated 1\nfrozen 1\n");
    cr_assert_eq(cgroup_env_freeze(env), 0);
    cr_assert_str_eq(get(env_file("f", "cgroup.freeze")), "1");
    cr_assert_eq(cgroup_env_thaw(env), 0);
    cr_assert_str_eq(get(env_file("f", "cgroup.freeze")), "0");
    put(env_file("f", "cgroup.events"), "populated 0\nfrozen 0\n");
    destroy_env(env);
    close_sys();
}

Test(cgroup_v2, freeze_that_never_completes_times_out_thawed)
{
    struct cgroup_env *env;
    uint64_t t;

    open_plain("cpu io memory pids\n");
    env = create_env("stuck", 128, 16);
    put(env_file("stuck", "cgroup.events"), "populated 1\nfrozen 0\n");
    t = now_us();
    cr_assert_eq(cgroup_env_freeze(env), -ETIMEDOUT);
    t = now_us() - t;
    cr_assert(t >= (uint64_t) CGROUP_FREEZE_TIMEOUT_MS * 900 &&
                  t < (uint64_t) CGROUP_FREEZE_TIMEOUT_MS * 3000,
              "gave up after %llu us", (unsigned long long) t);
    cr_assert_str_eq(get(env_file("stuck", "cgroup.freeze")), "0", "left half frozen");
    put(env_file("stuck", "cgroup.events"), "populated 0\nfrozen 0\n");
    destroy_env(env);
    close_sys();
}

Test(cgroup_v2, kill_all_writes_cgroup_kill_and_waits_for_empty)
{
    struct cgroup_env *env;
    struct ld_err err;

    open_plain("cpu io memory pids\n");
    env = create_env("k", 128, 16);
    put(env_file("k", "cgroup.events"), "populated 0\nfrozen 0\n");
    cr_assert_eq(cgroup_env_kill_all(env, &err), 0, "%s", err.msg);
    cr_assert_str_eq(get(env_file("k", "cgroup.kill")), "1");
    destroy_env(env);
    cr_assert_not(exists(env_file("k", NULL)));
    close_sys();
}

Test(cgroup_v2, peak_memory_from_memory_peak_else_current)
{
    struct cgroup_env *env;
    uint64_t peak = 0;

    open_plain("cpu io memory pids\n");
    env = create_env("m", 128, 16);
    put(env_file("m", "memory.peak"), "5000\n");
    cr_assert_eq(cgroup_env_peak_memory(env, &peak), 0);
    cr_assert_eq(peak, 5000);
    /* Before 5.19 there is no memory.peak: the largest current seen. */
    cr_assert_eq(unlink(path_of(env_file("m", "memory.peak"))), 0);
    put(env_file("m", "memory.current"), "100\n");
    cr_assert_eq(cgroup_env_peak_memory(env, &peak), 0);
    cr_assert_eq(peak, 100);
    put(env_file("m", "memory.current"), "50\n");
    cr_assert_eq(cgroup_env_peak_memory(env, &peak), 0);
    cr_assert_eq(peak, 100);
    destroy_env(env);
    close_sys();
}

Test(cgroup_v2, oom_kills_from_memory_events)
{
    struct cgroup_env *env;
    uint64_t n = 99;

    open_plain("cpu io memory pids\n");
    env = create_env("o", 128, 16);
    put(env_file("o", "memory.events"), "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n");
    cr_assert_eq(cgroup_env_oom_kills(env, &n), 0);
    cr_assert_eq(n, 0);
    cr_assert_not(cgroup_env_oom_killed(env));
    put(env_file("o", "memory.events"),
        "low 0\nhigh 0\nmax 31\noom 2\noom_kill 2\noom_group_kill 0\n");
    cr_assert_eq(cgroup_env_oom_kills(env, &n), 0);
    cr_assert_eq(n, 2);
    cr_assert(cgroup_env_oom_killed(env));
    destroy_env(env);
    close_sys();
}

Test(cgroup_v2, join_open_gives_the_clone3_fd_and_one_procs_file)
{
    struct cgroup_env *env;
    struct cgroup_join j;
    struct ld_err err;
    struct stat st;
    int fds = count_fds();

    open_plain("cpu io memory pids\n");
    env = create_env("j", 128, 16);
    cr_assert_eq(cgroup_env_join_open(env, &j, &err), 0, "%s", err.msg);
    cr_assert_eq(j.nfds, 1);
    cr_assert_geq(j.clone_fd, 0);
    cr_assert_eq(fstat(j.clone_fd, &st), 0);
    cr_assert(S_ISDIR(st.st_mode));
    cr_assert_eq(fcntl(j.procs_fds[0], F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
    cgroup_join_close(&j);
    cr_assert_eq(j.clone_fd, -1);
    destroy_env(env);
    close_sys();
    cr_assert_eq(count_fds(), fds, "fds leaked");
    assert_no_leaks();
}

Test(cgroup_v2, open_reuses_the_parent_and_sweeps_leftovers)
{
    struct ld_err err;

    make_root("cpu io memory pids\n");
    cr_assert_eq(mkdir(path_of("lambdad"), 0755), 0);
    cr_assert_eq(mkdir(path_of("lambdad/stale"), 0755), 0);
    put("lambdad/stale/memory.max", "134217728\n");
    put("lambdad/stale/cgroup.procs", "");
    cr_assert_eq(mkdir(path_of("lambdad/stale/nested"), 0755), 0);
    put("lambdad/stale/nested/cgroup.procs", "");
    cr_assert_eq(cgroup_system_open_v2_at(&sys, root, sysname, &err), 0, "%s", err.msg);
    cr_assert_not(exists("lambdad/stale"), "leftover not swept");
    cr_assert(exists("lambdad"));
    close_sys();
    cr_assert_not(exists("lambdad"));
}

Test(cgroup_v2, refuses_bad_names)
{
    struct cgroup_limits lim = {0};
    struct cgroup_env *env = NULL;
    struct ld_err err;

    make_root("cpu io memory pids\n");
    cr_assert_eq(cgroup_system_open_v2_at(&sys, root, "a/b", &err), -EINVAL);
    cr_assert_null(sys);
    cr_assert_eq(cgroup_system_open_v2_at(&sys, "/nonexistent-cgroup-root", "x", &err), -ENOENT);
    cr_assert_not_null(strstr(err.msg, "/nonexistent-cgroup-root"), "%s", err.msg);
    cr_assert_eq(cgroup_system_open_v2_at(&sys, root, sysname, &err), 0, "%s", err.msg);
    cr_assert_eq(cgroup_env_create(sys, "..", &lim, &env, &err), -EINVAL);
    cr_assert_eq(cgroup_env_create(sys, "x/y", &lim, &env, &err), -EINVAL);
    cr_assert_null(env);
    close_sys();
    assert_no_leaks();
}

/* ---- a real cgroup2 mount ------------------------------------------------- */

/* Finds a cgroup2 mount and names our parent group after our pid. */
static void open_real(void)
{
    static const char *const where[] = {"/sys/fs/cgroup/unified", "/sys/fs/cgroup"};
    struct statfs st;
    struct ld_err err;
    size_t i;

    if (geteuid() != 0)
        cr_skip_test("real cgroup2 tests need root");
    for (i = 0; i < sizeof where / sizeof where[0]; i++)
        if (statfs(where[i], &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC)
            break;
    if (i == sizeof where / sizeof where[0])
        cr_skip_test("no cgroup2 mount at /sys/fs/cgroup/unified or /sys/fs/cgroup");
    snprintf(root, sizeof root, "%s", where[i]);
    real_mount = true;
    snprintf(sysname, sizeof sysname, "ldtest-v2-%d", (int) getpid());
    cr_assert_eq(cgroup_system_open_v2_at(&sys, root, sysname, &err), 0, "%s", err.msg);
}

static void pause_forever(void)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    for (;;)
        pause();
}

/* The child's line for the unified hierarchy in /proc/<pid>/cgroup. */
static const char *unified_line(pid_t pid)
{
    static char buf[4096];
    char path[64];
    FILE *f;
    size_t n;
    char *line;

    snprintf(path, sizeof path, "/proc/%d/cgroup", (int) pid);
    f = fopen(path, "re");
    cr_assert_not_null(f);
    n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    line = strstr(buf, "0::");
    cr_assert_not_null(line, "%s", buf);
    line[strcspn(line, "\n")] = '\0';
    return line;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;

    return x < y ? -1 : x > y;
}

Test(cgroup_v2, real_mount_join_freeze_kill_destroy, .timeout = 60)
{
    enum { CYCLES = 100 };
    static uint64_t fr[CYCLES], th[CYCLES];
    struct cgroup_env *env;
    struct cgroup_join j;
    struct clone_args ca;
    struct ld_err err;
    char want[128], ready;
    int i, status, sync[2];
    pid_t a, b;
    uint64_t t;

    open_real();
    env = create_env("env1", 0, 0); /* no controllers here: no limits */

    /* Joined the classic way, by the child writing "0"... */
    cr_assert_eq(cgroup_env_join_open(env, &j, &err), 0, "%s", err.msg);
    cr_assert_eq(pipe2(sync, O_CLOEXEC), 0);
    a = fork();
    cr_assert_geq(a, 0);
    if (a == 0) {
        if (cgroup_join_self(&j, &err) < 0)
            _exit(100);
        (void) !write(sync[1], "j", 1);
        pause_forever();
    }
    kids[nkids++] = a;
    close(sync[1]);
    cr_assert_eq(read(sync[0], &ready, 1), 1, "child did not join");
    close(sync[0]);
    /* ...and born in the group with clone3(CLONE_INTO_CGROUP), along with
     * a new cgroup namespace whose root that group becomes. */
    memset(&ca, 0, sizeof ca);
    ca.flags = CLONE_INTO_CGROUP | CLONE_NEWCGROUP;
    ca.exit_signal = SIGCHLD;
    ca.cgroup = (uint64_t) j.clone_fd;
    b = (pid_t) syscall(SYS_clone3, &ca, sizeof ca);
    cr_assert_geq(b, 0, "clone3: %s", strerror(errno));
    if (b == 0)
        pause_forever();
    kids[nkids++] = b;
    cgroup_join_close(&j);

    snprintf(want, sizeof want, "0::/%s/env1", sysname);
    cr_assert_str_eq(unified_line(a), want);
    cr_assert_str_eq(unified_line(b), want);

    cr_assert_eq(cgroup_env_freeze(env), 0);
    cr_assert_not_null(strstr(get(env_file("env1", "cgroup.events")), "frozen 1"));
    cr_assert_eq(cgroup_env_thaw(env), 0);
    for (i = 0; i < CYCLES; i++) {
        t = now_us();
        cr_assert_eq(cgroup_env_freeze(env), 0);
        fr[i] = now_us() - t;
        t = now_us();
        cr_assert_eq(cgroup_env_thaw(env), 0);
        th[i] = now_us() - t;
    }
    qsort(fr, CYCLES, sizeof fr[0], cmp_u64);
    qsort(th, CYCLES, sizeof th[0], cmp_u64);
    fprintf(stderr, "cgroup v2 (%s) freeze/thaw, two sleeping processes, median of %d: "
                    "freeze %llu us, thaw %llu us\n",
            root, CYCLES, (unsigned long long) fr[CYCLES / 2],
            (unsigned long long) th[CYCLES / 2]);

    /* A frozen group is killed all the same (cgroup.kill). */
    cr_assert_eq(cgroup_env_freeze(env), 0);
    cr_assert_eq(cgroup_env_kill_all(env, &err), 0, "%s", err.msg);
    cr_assert_not_null(strstr(get(env_file("env1", "cgroup.events")), "populated 0"));
    for (i = 0; i < nkids; i++) {
        cr_assert_eq(waitpid(kids[i], &status, 0), kids[i]);
        cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "status %#x", status);
    }
    nkids = 0;
    destroy_env(env);
    cr_assert_not(exists(env_file("env1", NULL)));
    close_sys();
    cr_assert_not(exists(sysname), "parent group left behind");
}

Test(cgroup_v2, real_mount_open_sweeps_a_populated_leftover)
{
    struct cgroup_system *again;
    struct ld_err err;
    char pidbuf[24];
    int status;
    pid_t pid;

    open_real();
    pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0)
        pause_forever();
    kids[nkids++] = pid;
    cr_assert_eq(mkdir(path_of(env_file("stale", NULL)), 0755), 0);
    snprintf(pidbuf, sizeof pidbuf, "%d", (int) pid);
    put(env_file("stale", "cgroup.procs"), pidbuf);
    cr_assert_eq(cgroup_system_open_v2_at(&again, root, sysname, &err), 0, "%s", err.msg);
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    nkids = 0;
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "status %#x", status);
    cr_assert_not(exists(env_file("stale", NULL)));
    cgroup_system_close(again);
    close_sys();
    cr_assert_not(exists(sysname));
}
