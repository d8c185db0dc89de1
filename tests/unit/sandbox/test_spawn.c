/* tests/unit/sandbox/test_spawn.c: what a program started by sandbox_spawn
 * sees: pid 1, its own root with no host path reachable, read-only code,
 * a private /tmp, its own hostname and loopback. Needs root. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../checks.h"
#include "sandbox/spawn.h"

static const char script[] =
    "echo pid=$$\n"
    "echo uid=$(id -u)\n"
    "echo host=$(hostname)\n"
    "test -e /etc/shadow && echo shadow=yes || echo shadow=no\n"
    "test -e /.old && echo oldroot=yes || echo oldroot=no\n"
    "test -e /work && echo work=yes || echo work=no\n"
    "echo task=$(cat /var/task/marker)\n"
    "touch /var/task/new 2>/dev/null && echo taskrw=yes || echo taskrw=no\n"
    "touch /tmp/new && echo tmprw=yes || echo tmprw=no\n"
    "touch /etc/new 2>/dev/null && echo rootrw=yes || echo rootrw=no\n"
    "echo procs=$(ls -d /proc/[0-9]* | wc -l)\n"
    "grep -q sbx_user1051 /etc/passwd && echo user=yes || echo user=no\n"
    "echo null=$(echo x > /dev/null && echo ok)\n"
    "echo lo=$(cat /sys/class/net/lo/operstate 2>/dev/null || echo nosys)\n";

/* Runs the script in a fresh environment; returns its output. */
static char *run_in_sandbox(const char *task_dir)
{
    static char out[8192];
    char *argv[] = {(char *) "sh", (char *) "-c", (char *) script, NULL};
    char *envp[] = {(char *) "PATH=/usr/bin:/bin", NULL};
    struct sandbox_spawn s;
    struct ld_err err;
    int pipefd[2], status;
    size_t len = 0;
    ssize_t n;
    pid_t pid;

    cr_assert_eq(sandbox_prepare_host(&err), 0, "%s", err.msg);
    memset(&s, 0, sizeof s);
    s.mounts.task_dir = task_dir;
    s.mounts.tmp_mb = 8;
    s.hostname = "sandbox-test";
    s.exe_fd = open("/bin/sh", O_PATH | O_CLOEXEC);
    cr_assert_geq(s.exe_fd, 0);
    s.argv = argv;
    s.envp = envp;
    cr_assert_eq(pipe2(pipefd, O_CLOEXEC), 0);
    s.stdio_fd = pipefd[1];
    pid = sandbox_spawn(&s, &err);
    cr_assert_gt(pid, 0, "sandbox_spawn: %s", err.msg);
    close(pipefd[1]);
    close(s.exe_fd);
    while ((n = read(pipefd[0], out + len, sizeof out - 1 - len)) > 0)
        len += (size_t) n;
    out[len] = '\0';
    close(pipefd[0]);
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d, output:\n%s", status, out);
    return out;
}

static void expect_line(const char *out, const char *line)
{
    char want[128];

    snprintf(want, sizeof want, "%s\n", line);
    cr_expect(strstr(out, want) != NULL, "missing \"%s\" in:\n%s", line, out);
}

Test(spawn, environment_sees_only_itself)
{
    char task[] = "/tmp/lambdad-spawn-XXXXXX";
    char marker[64];
    FILE *f;
    const char *out;
    int fds = count_fds();

    if (geteuid() != 0)
        cr_skip_test("needs root");
    cr_assert_not_null(mkdtemp(task));
    snprintf(marker, sizeof marker, "%s/marker", task);
    f = fopen(marker, "w");
    cr_assert_not_null(f);
    fputs("from-host\n", f);
    fclose(f);

    out = run_in_sandbox(task);
    expect_line(out, "pid=1");
    expect_line(out, "uid=0");
    expect_line(out, "host=sandbox-test");
    expect_line(out, "shadow=no");
    expect_line(out, "oldroot=no");
    expect_line(out, "work=no");
    expect_line(out, "task=from-host");
    expect_line(out, "taskrw=no");
    expect_line(out, "tmprw=yes");
    expect_line(out, "rootrw=no");
    expect_line(out, "user=yes");
    expect_line(out, "null=ok");
    /* sh and the one command substitution running ls: a handful at most. */
    cr_expect(strstr(out, "procs=2\n") || strstr(out, "procs=3\n") || strstr(out, "procs=4\n"),
              "host processes visible?\n%s", out);

    /* Nothing reached the host: the task dir is as it was. */
    snprintf(marker, sizeof marker, "%s/new", task);
    cr_expect_eq(access(marker, F_OK), -1);
    snprintf(marker, sizeof marker, "%s/marker", task);
    unlink(marker);
    rmdir(task);
    cr_expect_eq(count_fds(), fds, "fds leaked");
    assert_no_leaks();
}

Test(spawn, reports_the_step_that_failed)
{
    char *argv[] = {(char *) "x", NULL};
    char *envp[] = {NULL};
    struct sandbox_spawn s;
    struct ld_err err;
    pid_t pid;

    if (geteuid() != 0)
        cr_skip_test("needs root");
    cr_assert_eq(sandbox_prepare_host(&err), 0);
    memset(&s, 0, sizeof s);
    s.mounts.task_dir = "/nonexistent/task/dir";
    s.exe_fd = open("/bin/true", O_PATH | O_CLOEXEC);
    s.argv = argv;
    s.envp = envp;
    s.stdio_fd = -1;
    pid = sandbox_spawn(&s, &err);
    close(s.exe_fd);
    cr_assert_lt(pid, 0);
    cr_expect(strstr(err.msg, "/nonexistent/task/dir") != NULL, "message: %s", err.msg);
    cr_expect(strstr(err.msg, "start environment") == err.msg, "message: %s", err.msg);
}
