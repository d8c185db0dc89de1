/* tests/unit/sandbox/test_lifecycle.c: environments created and destroyed
 * over and over by one parent leave nothing behind: no process, no mount, no
 * cgroup directory, no fd, no memory. Needs root and cgroup v1 or v2. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../checks.h"
#include "sandbox/cgroup.h"
#include "sandbox/seccomp.h"
#include "sandbox/spawn.h"

#define CYCLES 200

Test(lifecycle, create_invoke_destroy_leaves_nothing)
{
    char *argv[] = {(char *) "true", NULL};
    char *envp[] = {NULL};
    char name[64], task[] = "/tmp/lambdad-cycle-XXXXXX";
    struct cgroup_system *sys = NULL;
    struct sandbox_seccomp filter;
    struct ld_err err;
    int fds_before, mounts_before;

    if (geteuid() != 0)
        cr_skip_test("needs root");
    snprintf(name, sizeof name, "lambdad-unit-cycle-%d", getpid());
    if (cgroup_system_open(&sys, name, &err) < 0)
        cr_skip_test("no usable cgroups: %s", err.msg);
    cr_assert_not_null(mkdtemp(task));
    cr_assert_eq(sandbox_prepare_host(&err), 0, "%s", err.msg);
    cr_assert_eq(seccomp_build(&filter, &err), 0, "%s", err.msg);
    fds_before = count_fds();
    mounts_before = count_mounts_of("lambdad");

    for (int i = 0; i < CYCLES; i++) {
        struct cgroup_limits lim = {.memory_mb = 128, .pids_max = 1024};
        struct cgroup_join join = {.clone_fd = -1};
        struct cgroup_env *env = NULL;
        struct sandbox_spawn s;
        char id[32];
        int status;
        pid_t pid;

        snprintf(id, sizeof id, "env%d", i);
        cr_assert_eq(cgroup_env_create(sys, id, &lim, &env, &err), 0, "cycle %d: %s", i, err.msg);
        cr_assert_eq(cgroup_env_join_open(env, &join, &err), 0, "%s", err.msg);
        memset(&s, 0, sizeof s);
        s.mounts.task_dir = task;
        s.mounts.tmp_mb = 8;
        s.exe_fd = open("/usr/bin/true", O_PATH | O_CLOEXEC);
        s.argv = argv;
        s.envp = envp;
        s.stdio_fd = -1;
        s.cgroup_procs_fds = join.procs_fds;
        s.ncgroup_procs = join.nfds;
        s.seccomp = &filter;
        pid = sandbox_spawn(&s, &err);
        close(s.exe_fd);
        cgroup_join_close(&join);
        cr_assert_gt(pid, 0, "cycle %d: %s", i, err.msg);
        cr_assert_eq(waitpid(pid, &status, 0), pid);
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "cycle %d: status %d", i, status);
        cr_assert_eq(cgroup_env_destroy(env, &err), 0, "cycle %d: %s", i, err.msg);
    }

    cr_expect_eq(count_fds(), fds_before, "fds leaked over %d cycles", CYCLES);
    cr_expect_eq(count_mounts_of("lambdad"), mounts_before, "mounts left in the host namespace");
    seccomp_fini(&filter);
    cgroup_system_close(sys);
    /* No environment group of ours is left in any hierarchy. */
    {
        static const char *const ctl[] = {"memory", "pids", "freezer", "cpu,cpuacct", "unified"};
        char path[256];
        struct stat st;

        for (size_t c = 0; c < sizeof ctl / sizeof ctl[0]; c++) {
            snprintf(path, sizeof path, "/sys/fs/cgroup/%s/%s", ctl[c], name);
            cr_expect_neq(stat(path, &st), 0, "%s left behind", path);
        }
    }
    rmdir(task);
    assert_no_leaks();
}
