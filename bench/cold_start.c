/* bench/cold_start.c: what a cold start costs, from the invoke's arrival to
 * its response on a fresh environment, and where the time goes.
 *
 * It drives environments with the code `lambdad emulate` and the service use
 * (service/environment.c, the control channel), without HTTP in front: an
 * "arrival" is the moment the environment is asked for, and the response is
 * the runtime's answer reaching us. Each run starts a fresh environment,
 * sends the INVOKE straight after START (init holds it until INIT is over,
 * as the service does), waits for the answer, then tears the environment
 * down outside the timed part (the teardown is timed on its own).
 *
 * Runs alternate between three ways, so all see the same machine noise:
 *   prepared  - a sandbox made ahead, blank (environment_prepare: cgroup,
 *               namespaces, root filesystem, seccomp, init waiting), given
 *               the function when the invoke arrives: limits set, code
 *               mounted, START. How lambdad starts environments.
 *   scratch   - the whole sandbox made after the invoke arrived.
 *   plain     - the same bootstrap as a plain process, no sandbox (what
 *               `lambdad emulate --no-sandbox` does).
 *
 * usage: cold_start LAMBDAD_BINARY BOOTSTRAP [RUNS]   (as root) */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/ctl_proto.h"
#include "sandbox/cgroup.h"
#include "sandbox/seccomp.h"
#include "sandbox/spawn.h"
#include "service/environment.h"

enum { PREPARED, SANDBOXED, PLAIN, NMODES };
enum { T_CGROUP, T_SPAWN, T_INIT_START, T_RUNTIME_START, T_FUNCTION_INIT, T_INVOKE, T_TOTAL,
       T_TEARDOWN, NT };

static const char *const step_names[NT] = {
    "cgroup created / limits set", "sandbox + init exec / code mounted",
    "init ready (START read)", "runtime started",
    "function init (to first next)", "invoke (to response)", "TOTAL arrival -> response",
    "teardown (not in total)",
};

struct run {
    struct event_base *base;
    struct environment *env;
    uint64_t init_begin, runtime_spawned, init_end, result;
    int failed;
    bool done, exited;
};

static void on_frame(void *arg, const struct ctl_frame *f)
{
    struct run *r = arg;
    uint64_t v;

    switch (f->type) {
    case CTL_INIT_DONE:
        if (ctl_get_u64(f, CTL_T_STATUS, &v) == 0 && v != CTL_OK)
            r->failed = 1;
        ctl_get_u64(f, CTL_T_INIT_BEGIN_MONO_US, &r->init_begin);
        ctl_get_u64(f, CTL_T_RUNTIME_SPAWNED_MONO_US, &r->runtime_spawned);
        if (ctl_get_u64(f, CTL_T_DURATION_US, &v) == 0)
            r->init_end = r->init_begin + v;
        break;
    case CTL_LOG:
        if (getenv("COLD_START_LOGS")) {
            char *line = ctl_get_strdup(f, CTL_T_TEXT);

            fprintf(stderr, "%s\n", line ? line : "");
            free(line);
        }
        break;
    case CTL_RESULT:
        r->result = ld_mono_us();
        if (ctl_get_u64(f, CTL_T_STATUS, &v) == 0 && v != CTL_OK)
            r->failed = 1;
        r->done = true;
        event_base_loopbreak(r->base);
        break;
    default:
        break;
    }
}

static void on_exit_cb(void *arg, int status)
{
    struct run *r = arg;

    (void) status;
    r->exited = true;
    if (!r->done)
        r->failed = 1;
    event_base_loopbreak(r->base);
}

static const struct envctl_ops ops = {.on_frame = on_frame, .on_exit = on_exit_cb};

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;

    return x < y ? -1 : x > y;
}

static double pct(uint64_t *v, int n, int p)
{
    int i = (n * p + 99) / 100 - 1;

    qsort(v, (size_t) n, sizeof *v, cmp_u64);
    return (double) v[i < 0 ? 0 : i] / 1000.0;
}

static int one_run(struct event_base *base, const struct environment_host *h,
                   struct environment_config *c, bool prepared, uint64_t t[NT])
{
    static const char payload[] = "{}";
    struct run r = {.base = base};
    struct ctl_builder b;
    struct ld_err err;
    uint64_t t0, t1;

    if (prepared) {
        struct timeval settle = {.tv_sec = 0, .tv_usec = 5000};

        if (environment_prepare(h, c->id, &ops, &r, &r.env, &err) < 0) {
            fprintf(stderr, "cold_start: %s\n", err.msg);
            return -1;
        }
        /* A prepared environment waits in the pool well before it is used. */
        event_base_loopexit(base, &settle);
        event_base_dispatch(base);
        t0 = ld_mono_us();
        if (environment_assign(r.env, c, &ops, &r, &err) < 0) {
            fprintf(stderr, "cold_start: %s\n", err.msg);
            environment_free(r.env);
            return -1;
        }
    } else {
        t0 = ld_mono_us();
        if (environment_start(h, c, &ops, &r, &r.env, &err) < 0) {
            fprintf(stderr, "cold_start: %s\n", err.msg);
            return -1;
        }
    }
    ctl_begin(&b, envctl_frame(environment_ctl(r.env)), CTL_INVOKE);
    ctl_put_str(&b, CTL_T_REQUEST_ID, "c0ffee00-0000-4000-8000-000000000001");
    ctl_put_u64(&b, CTL_T_DEADLINE_MS, ld_wall_ms() + 10000);
    ctl_put_str(&b, CTL_T_INVOKED_ARN, "arn:aws:lambda:us-east-1:000000000000:function:cold");
    ctl_put_str(&b, CTL_T_TRACE_ID, "Root=1-00000000-000000000000000000000000;Sampled=0");
    ctl_put_str(&b, CTL_T_CONTENT_TYPE, "application/json");
    ctl_put(&b, CTL_T_PAYLOAD, payload, sizeof payload - 1);
    if (ctl_end(&b) == 0)
        envctl_send(environment_ctl(r.env));
    while (!r.done && !r.exited)
        event_base_loop(base, EVLOOP_ONCE);
    if (r.failed || !r.init_begin || !r.runtime_spawned) {
        fprintf(stderr, "cold_start: the environment failed (%s; COLD_START_LOGS=1 shows its log)\n",
                environment_sandboxed(r.env) ? "sandboxed" : "plain");
        environment_free(r.env);
        return -1;
    }
    {
        const struct environment_times *et = environment_times(r.env);

        t[T_CGROUP] = et->cgroup_us - t0;
        t[T_SPAWN] = et->assigned_us - et->cgroup_us;
        t[T_INIT_START] = r.init_begin - et->assigned_us;
    }
    t[T_RUNTIME_START] = r.runtime_spawned - r.init_begin;
    t[T_FUNCTION_INIT] = r.init_end - r.runtime_spawned;
    t[T_INVOKE] = r.result - r.init_end;
    t[T_TOTAL] = r.result - t0;
    t1 = ld_mono_us();
    environment_free(r.env);
    /* Let envctl's deferred work (reaping) run before the next start. */
    event_base_loop(base, EVLOOP_NONBLOCK);
    t[T_TEARDOWN] = ld_mono_us() - t1;
    return 0;
}

int main(int argc, char **argv)
{
    static uint64_t t[NMODES][NT][10000];
    char task[] = "/tmp/lambdad-cold.XXXXXX";
    char bootstrap[PATH_MAX], exe[PATH_MAX], cmd[2 * PATH_MAX + 64];
    char *bargv[2] = {NULL, NULL};
    struct sandbox_seccomp sc = {0};
    struct cgroup_system *cgsys = NULL;
    struct event_base *base;
    struct ld_err err;
    int runs = argc > 3 ? atoi(argv[3]) : 100;
    int i, m, s;

    if (argc < 3 || runs < 1 || runs > 10000) {
        fprintf(stderr, "usage: cold_start LAMBDAD_BINARY BOOTSTRAP [RUNS]\n");
        return 2;
    }
    if (geteuid() != 0) {
        fprintf(stderr, "cold_start: needs root (the sandbox)\n");
        return 2;
    }
    if (!realpath(argv[1], exe) || !mkdtemp(task)) {
        perror("cold_start");
        return 1;
    }
    chmod(task, 0755);
    snprintf(bootstrap, sizeof bootstrap, "%s/bootstrap", task);
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", argv[2], bootstrap);
    if (system(cmd) != 0)
        return 1;
    if (cgroup_favor_dynmods(CGROUP_FAVOR_MOUNT, &err) < 0)
        fprintf(stderr, "cold_start: warning: %s\n", err.msg);
    if (sandbox_prepare_host(&err) < 0 || seccomp_build(&sc, &err) < 0 ||
        cgroup_system_open(&cgsys, "lambdad-bench-cold", &err) < 0) {
        fprintf(stderr, "cold_start: %s\n", err.msg);
        return 1;
    }
    base = event_base_new();

    for (i = 0; i < runs; i++) {
        for (m = 0; m < NMODES; m++) {
            struct environment_host h = {.base = base, .exe = exe};
            struct environment_config c = {
                .function_name = "cold", .function_version = "$LATEST", .handler = "x",
                .runtime_id = "provided.al2023", .region = "us-east-1",
                .account_id = "000000000000", .log_group = "/aws/lambda/cold",
                .log_stream = "2026/01/01/[$LATEST]0", .init_type = "on-demand",
                .memory_mb = 1769, .timeout_ms = 10000, .init_timeout_ms = 10000,
                .argv = bargv, .argc = 1, .hostname = "localhost",
                .mounts = {.task_dir = task, .tmp_mb = 512},
            };
            char id[32];

            snprintf(id, sizeof id, "env%d", i);
            c.id = id;
            if (m != PLAIN) {
                h.cgsys = cgsys;
                h.seccomp = &sc;
                bargv[0] = "/var/task/bootstrap";
                c.task_root = "/var/task";
                c.rapi_addr = "127.0.0.1:9001";
            } else {
                bargv[0] = bootstrap;
                c.task_root = task;
                c.rapi_addr = "127.0.0.1:0";
            }
            {
                uint64_t one[NT];

                if (one_run(base, &h, &c, m == PREPARED, one) < 0)
                    return 1;
                for (s = 0; s < NT; s++)
                    t[m][s][i] = one[s];
            }
        }
    }

    printf("cold start: invoke arrival -> response on a fresh environment; %d runs of each way,\n"
           "alternating; C runtime, 1769 MB. p50 / p99 in ms.\n",
           runs);
    printf("%-36s %17s %17s %17s\n", "", "prepared sandbox", "sandbox scratch", "plain process");
    for (s = 0; s < NT; s++) {
        printf("%-36s", step_names[s]);
        for (m = 0; m < NMODES; m++)
            printf("   %6.2f / %6.2f", pct(t[m][s], runs, 50), pct(t[m][s], runs, 99));
        printf("\n");
    }
    {
        double a = pct(t[PREPARED][T_TOTAL], runs, 50), b = pct(t[SANDBOXED][T_TOTAL], runs, 50),
               p = pct(t[PLAIN][T_TOTAL], runs, 50);

        printf("ratio to plain (p50 total): prepared %.2f, scratch %.2f   "
               "(targets: sandboxed p50 <= 5 ms and <= 3x plain)\n",
               a / p, b / p);
    }
    cgroup_system_close(cgsys);
    seccomp_fini(&sc);
    event_base_free(base);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", task);
    return system(cmd) == 0 ? 0 : 1;
}
