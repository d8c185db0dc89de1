/* tests/unit/service/test_environment.c: environments prepared ahead (blank
 * sandboxes) take on a function correctly, and come and go without leaving
 * anything behind. Needs root, cgroups and build/asan/lambdad (for `lambdad
 * init`; `make unit` builds it first). */
#include <criterion/criterion.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../checks.h"
#include "common/clock.h"
#include "common/ctl_proto.h"
#include "sandbox/cgroup.h"
#include "sandbox/seccomp.h"
#include "sandbox/spawn.h"
#include "service/environment.h"

#define LAMBDAD "build/asan/lambdad"

/* Answers every invoke with what it sees of its environment. */
static const char bootstrap[] =
    "#!/bin/sh\n"
    "api=http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime\n"
    "while :; do\n"
    "  id=$(curl -sS -D - -o /dev/null $api/invocation/next |"
    "       sed -n 's/^[Ll]ambda-[Rr]untime-[Aa]ws-[Rr]equest-[Ii]d: *\\([^\\r]*\\).*/\\1/p')\n"
    "  if touch /var/task/new 2>/dev/null; then ro=writable; else ro=readonly; fi\n"
    "  tmp=$(df -m /tmp | tail -n 1 | awk '{print $2}')\n"
    "  body=\"uid=$(id -u) task=$ro marker=$(cat /var/task/marker) tmp=$tmp\"\n"
    "  curl -sS -o /dev/null -X POST --data-binary \"\\\"$body\\\"\" $api/invocation/$id/response\n"
    "done\n";

struct run {
    struct event_base *base;
    char result[512];
    bool done, failed;
};

static void on_frame(void *arg, const struct ctl_frame *f)
{
    struct run *r = arg;
    struct ctl_field fld;
    uint64_t v;

    if (f->type == CTL_INIT_DONE && ctl_get_u64(f, CTL_T_STATUS, &v) == 0 && v != CTL_OK)
        r->failed = true;
    if (f->type == CTL_RESULT) {
        if (ctl_get(f, CTL_T_PAYLOAD, &fld) == 0)
            snprintf(r->result, sizeof r->result, "%.*s", (int) fld.len, (const char *) fld.p);
        r->done = true;
    }
}

static void on_exit_cb(void *arg, int status)
{
    struct run *r = arg;

    (void) status;
    r->failed = true;
}

static const struct envctl_ops ops = {.on_frame = on_frame, .on_exit = on_exit_cb};

struct fixture {
    char task[64];
    char name[64];
    struct cgroup_system *sys;
    struct sandbox_seccomp filter;
    struct event_base *base;
    struct environment_host host;
};

static void setup(struct fixture *fx)
{
    struct ld_err err;
    char path[128];
    FILE *f;

    if (geteuid() != 0)
        cr_skip_test("needs root");
    cr_assert_eq(access(LAMBDAD, X_OK), 0, "%s missing: run make unit", LAMBDAD);
    memset(fx, 0, sizeof *fx);
    snprintf(fx->name, sizeof fx->name, "lambdad-unit-env-%d", getpid());
    if (cgroup_system_open(&fx->sys, fx->name, &err) < 0)
        cr_skip_test("no usable cgroups: %s", err.msg);
    cr_assert_eq(sandbox_prepare_host(&err), 0, "%s", err.msg);
    cr_assert_eq(seccomp_build(&fx->filter, &err), 0, "%s", err.msg);
    snprintf(fx->task, sizeof fx->task, "/tmp/lambdad-env-XXXXXX");
    cr_assert_not_null(mkdtemp(fx->task));
    chmod(fx->task, 0755);
    snprintf(path, sizeof path, "%s/bootstrap", fx->task);
    f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(bootstrap, f);
    fclose(f);
    chmod(path, 0755);
    snprintf(path, sizeof path, "%s/marker", fx->task);
    f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs("hello", f);
    fclose(f);
    chmod(path, 0644);
    fx->base = event_base_new();
    fx->host = (struct environment_host){
        .base = fx->base, .exe = LAMBDAD, .cgsys = fx->sys, .seccomp = &fx->filter};
}

static void teardown(struct fixture *fx)
{
    char cmd[128];

    cgroup_system_close(fx->sys);
    seccomp_fini(&fx->filter);
    event_base_free(fx->base);
    snprintf(cmd, sizeof cmd, "rm -rf %s", fx->task);
    cr_assert_eq(system(cmd), 0);
}

/* Prepares a blank environment, gives it the function, invokes it once. */
static void prepared_invoke(struct fixture *fx, const char *id, uint64_t tmp_mb, struct run *r)
{
    static char *argv[] = {(char *) "/var/task/bootstrap"};
    struct environment_config c = {
        .id = id, .function_name = "fn", .function_version = "$LATEST", .handler = "h",
        .runtime_id = "provided.al2023", .region = "us-east-1", .account_id = "000000000000",
        .log_group = "/aws/lambda/fn", .log_stream = "s", .init_type = "on-demand",
        .memory_mb = 256, .timeout_ms = 20000, .init_timeout_ms = 20000, .argv = argv,
        .argc = 1, .task_root = "/var/task", .rapi_addr = "127.0.0.1:9001",
        .mounts = {.task_dir = fx->task, .tmp_mb = tmp_mb},
    };
    struct environment *env;
    struct ctl_builder b;
    struct ld_err err;
    uint64_t deadline;

    memset(r, 0, sizeof *r);
    r->base = fx->base;
    cr_assert_eq(environment_prepare(&fx->host, id, &ops, r, &env, &err), 0, "%s", err.msg);
    cr_assert(environment_sandboxed(env));
    cr_assert_eq(environment_assign(env, &c, &ops, r, &err), 0, "%s", err.msg);
    ctl_begin(&b, envctl_frame(environment_ctl(env)), CTL_INVOKE);
    ctl_put_str(&b, CTL_T_REQUEST_ID, "11111111-2222-4333-8444-555555555555");
    ctl_put_u64(&b, CTL_T_DEADLINE_MS, ld_wall_ms() + 20000);
    ctl_put_str(&b, CTL_T_INVOKED_ARN, "arn:aws:lambda:us-east-1:000000000000:function:fn");
    ctl_put_str(&b, CTL_T_TRACE_ID, "Root=1-00000000-000000000000000000000000");
    ctl_put(&b, CTL_T_PAYLOAD, "{}", 2);
    cr_assert_eq(ctl_end(&b), 0);
    envctl_send(environment_ctl(env));
    deadline = ld_mono_us() + 30000000u;
    while (!r->done && !r->failed && ld_mono_us() < deadline)
        event_base_loop(fx->base, EVLOOP_ONCE);
    environment_free(env);
    event_base_loop(fx->base, EVLOOP_NONBLOCK);
    cr_assert(r->done && !r->failed, "the prepared environment did not answer");
}

Test(environment, prepared_sandbox_takes_on_the_function)
{
    struct fixture fx;
    struct run r;

    setup(&fx);
    prepared_invoke(&fx, "e1", 1024, &r);
    /* The code arrived read-only, the user is the sandbox's, and /tmp got
     * the function's EphemeralStorage size instead of the blank's 512 MB. */
    cr_assert(strstr(r.result, "uid=993"), "%s", r.result);
    cr_assert(strstr(r.result, "task=readonly"), "%s", r.result);
    cr_assert(strstr(r.result, "marker=hello"), "%s", r.result);
    cr_assert(strstr(r.result, "tmp=1024"), "%s", r.result);
    teardown(&fx);
}

Test(environment, prepared_cycles_leave_nothing_behind)
{
    struct fixture fx;
    struct run r;
    char id[16], dir[256];
    int i, fds, mounts;

    setup(&fx);
    fds = count_fds();
    mounts = count_mounts_of(fx.task);
    for (i = 0; i < 20; i++) {
        snprintf(id, sizeof id, "c%d", i);
        prepared_invoke(&fx, id, 512, &r);
        cr_assert(strstr(r.result, "marker=hello"), "%s", r.result);
    }
    cr_assert_eq(count_fds(), fds, "fds leaked");
    cr_assert_eq(count_mounts_of(fx.task), mounts, "a code mount leaked into the host");
    snprintf(dir, sizeof dir, "/sys/fs/cgroup/memory/%s/c0", fx.name);
    cr_assert_neq(access(dir, F_OK), 0, "cgroup left behind: %s", dir);
    teardown(&fx);
    assert_no_leaks();
}
