/* init/phases.c: the lifecycle of one execution environment.
 *
 *   INIT     external extensions start together and register; then the
 *            runtime starts; INIT is over once the runtime and every
 *            registered extension wait in `next`. Bounded by the init timeout,
 *            or by the invoke's deadline when it runs inside an invoke after
 *            a reset (a "suppressed" init).
 *   INVOKE   the event goes to the runtime and to INVOKE subscribers at once;
 *            the caller gets the answer as soon as the runtime posts it; the
 *            phase ends when the runtime and those extensions call `next`
 *            again. Bounded by the function timeout.
 *   SHUTDOWN SIGTERM to the runtime (SIGKILL at its share of the window),
 *            then the SHUTDOWN event to subscribed extensions, SIGKILL to
 *            everything left at the window's end. After a timeout or a crash
 *            this is a reset: the environment stays, the next invoke INITs
 *            again. After spindown, init exits.
 *
 * Every transition is decided here; rapi.c, extensions.c and procs.c report
 * what happened and answer HTTP requests. */
#include <dirent.h>
#include <errno.h>
#include <event2/event.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/http_server.h"
#include "common/text.h"
#include "init/init-internal.h"

static void begin_init(struct env *e, bool in_invoke);
static void begin_stop(struct env *e, const char *reason, bool exits);
static void check_stop_complete(struct env *e);
static void init_error_fail(struct env *e);

static void arm(struct event *ev, uint64_t us)
{
    struct timeval tv = {.tv_sec = (time_t) (us / 1000000u), .tv_usec = (suseconds_t) (us % 1000000u)};

    event_add(ev, &tv);
}

/* --- platform log lines --- */

static void log_init_start(struct env *e)
{
    const char *rid = e->cfg.runtime_id && e->cfg.runtime_id[0] ? e->cfg.runtime_id
                                                                 : "provided.al2023";
    char ver[96];
    size_t i, o = 0;
    bool split = false;

    /* "python3.12" -> "python:3.12.v1", "provided.al2023" -> "provided:al2023.v1" */
    for (i = 0; rid[i] && o + 8 < sizeof ver; i++) {
        if (!split && (rid[i] == '.' || (rid[i] >= '0' && rid[i] <= '9'))) {
            ver[o++] = ':';
            split = true;
            if (rid[i] == '.')
                continue;
        }
        ver[o++] = rid[i];
    }
    ver[o] = '\0';
    if (o >= 2 && strcmp(ver + o - 2, ".x") == 0)
        ver[o - 2] = '\0';
    env_logf(e, "INIT_START Runtime Version: %s.v1\tRuntime Version ARN: arn:aws:lambda:%s::runtime:%s",
             ver, e->cfg.region, "0000000000000000000000000000000000000000000000000000000000000000");
}

static void log_extensions(struct env *e)
{
    size_t i;

    for (i = 0; i < e->next_ext; i++) {
        struct extension *x = &e->ext[i];
        const char *ev = x->want_invoke && x->want_shutdown ? "INVOKE, SHUTDOWN"
                         : x->want_invoke                   ? "INVOKE"
                         : x->want_shutdown                 ? "SHUTDOWN"
                                                            : "";

        if (x->registered)
            env_logf(e, "EXTENSION\tName: %s\tState: Ready\tEvents: [%s]", x->name, ev);
    }
}

/* --- frames to the parent --- */

static void send_init_done(struct env *e, enum ctl_status st, const char *etype, const void *body,
                           size_t len, bool reset)
{
    struct ctl_builder b;

    ctl_begin(&b, &e->frame, CTL_INIT_DONE);
    ctl_put_u64(&b, CTL_T_STATUS, st);
    ctl_put_u64(&b, CTL_T_DURATION_US, ld_mono_us() - e->init_start_mono_us);
    ctl_put_u64(&b, CTL_T_INIT_BEGIN_MONO_US, e->init_start_mono_us);
    if (e->runtime_spawned_mono_us)
        ctl_put_u64(&b, CTL_T_RUNTIME_SPAWNED_MONO_US, e->runtime_spawned_mono_us);
    ctl_put_str(&b, CTL_T_ERROR_TYPE, etype);
    if (body)
        ctl_put(&b, CTL_T_PAYLOAD, body, len);
    if (reset)
        ctl_put_u64(&b, CTL_T_RESET, 1);
    if (ctl_end(&b) == 0)
        env_send_frame_now(e);
}

void phase_send_result(struct env *e, enum ctl_status st, const char *ctype, const void *body,
                       size_t len, const char *error_type)
{
    struct ctl_builder b;

    if (e->inv.answered)
        return;
    e->inv.answered = true;
    if (st != CTL_OK && error_type)
        snprintf(e->inv.error_type, sizeof e->inv.error_type, "%s", error_type);
    ctl_begin(&b, &e->frame, CTL_RESULT);
    ctl_put_str(&b, CTL_T_REQUEST_ID, e->inv.request_id);
    ctl_put_u64(&b, CTL_T_STATUS, st);
    ctl_put_str(&b, CTL_T_CONTENT_TYPE, ctype);
    ctl_put_str(&b, CTL_T_ERROR_TYPE, st != CTL_OK ? error_type : NULL);
    ctl_put(&b, CTL_T_PAYLOAD, body, len);
    if (ctl_end(&b) == 0)
        env_send_frame_now(e);
}

/* A platform error for the current invoke, in AWS's shape. */
static void send_platform_error(struct env *e, const char *type, const char *msg)
{
    json_t *doc;
    char *body;

    if (e->inv.answered)
        return;
    /* Messages carry names chosen by users (extensions): let jansson escape. */
    doc = json_pack("{s:s,s:s}", "errorType", type, "errorMessage", msg);
    body = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    if (body)
        phase_send_result(e, CTL_FUNCTION_ERROR, "application/json", body, strlen(body), type);
    else
        phase_send_result(e, CTL_FUNCTION_ERROR, "application/json", "{}", 2, type);
    free(body);
    json_decref(doc);
}

/* --- INVOKE --- */

static void log_start(struct env *e)
{
    char line[256];
    struct ld_text t;

    ld_text_init(&t, line, sizeof line);
    ld_text_str(&t, "START RequestId: ");
    ld_text_str(&t, e->inv.request_id);
    ld_text_str(&t, " Version: ");
    ld_text_str(&t, e->cfg.function_version);
    env_send_log(e, CTL_LOG_PLATFORM, NULL, t.buf, t.len);
}

void invoke_clear(struct invoke *v)
{
    free(v->arn);
    free(v->trace_id);
    free(v->client_context);
    free(v->cognito);
    free(v->content_type);
    ld_buf_free(&v->payload);
    memset(v, 0, sizeof *v);
}

/* END and REPORT, then INVOKE_DONE; the invoke is over. */
static void invoke_finish(struct env *e, bool reset)
{
    struct invoke *v = &e->inv;
    uint64_t dur_us = (v->end_mono_us ? v->end_mono_us : ld_mono_us()) - v->start_mono_us;
    char line[512];
    struct ld_text t;
    struct ctl_builder b;
    uint64_t max_kb;

    event_del(e->invoke_timer);
    /* Lines the function wrote before it called next are already read: output
     * pipes are read at a higher priority than the API's sockets. */
    max_kb = v->max_kb ? v->max_kb : procs_max_rss_kb(e, false);

    if (!v->delivered) /* failed before the runtime got it: still START..END */
        log_start(e);
    ld_text_init(&t, line, sizeof line);
    ld_text_str(&t, "END RequestId: ");
    ld_text_str(&t, v->request_id);
    env_send_log(e, CTL_LOG_PLATFORM, NULL, t.buf, t.len);

    ld_text_init(&t, line, sizeof line);
    ld_text_str(&t, "REPORT RequestId: ");
    ld_text_str(&t, v->request_id);
    ld_text_str(&t, "\tDuration: ");
    ld_text_ms2(&t, dur_us);
    ld_text_str(&t, " ms\tBilled Duration: ");
    ld_text_u64(&t, (dur_us + 999) / 1000);
    ld_text_str(&t, " ms\tMemory Size: ");
    ld_text_u64(&t, e->cfg.memory_mb);
    ld_text_str(&t, " MB\tMax Memory Used: ");
    ld_text_u64(&t, (max_kb + 1023) / 1024);
    ld_text_str(&t, " MB\t");
    if (e->report_init_duration) {
        ld_text_str(&t, "Init Duration: ");
        ld_text_ms2(&t, e->init_duration_us);
        ld_text_str(&t, " ms\t");
    }
    if (v->status_text && strcmp(v->status_text, "timeout") == 0) {
        ld_text_str(&t, "Status: timeout");
    } else if (v->status_text) {
        ld_text_str(&t, "Status: error\tError Type: ");
        ld_text_str(&t, v->error_type);
    }
    env_send_log(e, CTL_LOG_PLATFORM, NULL, t.buf, t.len);

    ctl_begin(&b, &e->frame, CTL_INVOKE_DONE);
    ctl_put_str(&b, CTL_T_REQUEST_ID, v->request_id);
    ctl_put_u64(&b, CTL_T_STATUS, v->failed || v->error_type[0] ? CTL_FUNCTION_ERROR : CTL_OK);
    ctl_put_str(&b, CTL_T_ERROR_TYPE, v->error_type[0] ? v->error_type : NULL);
    ctl_put_u64(&b, CTL_T_DURATION_US, dur_us);
    if (e->report_init_duration)
        ctl_put_u64(&b, CTL_T_INIT_DURATION_US, e->init_duration_us);
    ctl_put_u64(&b, CTL_T_MAX_MEMORY_KB, max_kb);
    if (reset)
        ctl_put_u64(&b, CTL_T_RESET, 1);
    /* Not urgent: the parent may already have sent the next invoke (see
     * e->queued), so this rides along with the next answer or the batch. */
    if (ctl_end(&b) == 0)
        env_send_frame(e);
    e->report_init_duration = false;
    invoke_clear(v);
    if (e->queued.active && !e->shutting_down) {
        /* The next invoke waited for this one: it starts now. */
        memcpy(v, &e->queued, sizeof *v);
        memset(&e->queued, 0, sizeof e->queued);
        v->active = false;
        phase_invoke(e);
    }
}

/* The INVOKE event for extensions (never the payload). jansson escapes what
 * callers control, like the trace header. NULL when out of memory. */
static char *invoke_event_json(const struct invoke *v)
{
    json_t *doc = json_pack("{s:s,s:I,s:s,s:s}", "eventType", "INVOKE", "deadlineMs",
                            (json_int_t) v->deadline_ms, "requestId", v->request_id,
                            "invokedFunctionArn", v->arn ? v->arn : "");
    char *out;

    if (doc && v->trace_id && v->trace_id[0])
        json_object_set_new(doc, "tracing",
                            json_pack("{s:s,s:s}", "type", "X-Amzn-Trace-Id", "value", v->trace_id));
    out = doc ? json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(doc);
    return out;
}

static void deliver_invoke(struct env *e)
{
    char *ev = NULL;
    size_t i;

    if (e->inv.delivered || !e->rt_parked || e->rt != RT_READY)
        return; /* delivered when the runtime's next arrives */
    e->phase = PH_INVOKE;
    e->inv.delivered = true;
    e->inv.start_mono_us = ld_mono_us();
    log_start(e);
    rapi_deliver_invoke(e);
    e->rt = RT_INVOKED;

    for (i = 0; i < e->next_ext; i++) {
        struct extension *x = &e->ext[i];

        if (!x->registered || !x->want_invoke || x->state != EXT_WAITING)
            continue;
        if (!ev && !(ev = invoke_event_json(&e->inv)))
            break;
        ext_send_event(x, ev);
        x->state = EXT_WORKING;
    }
    free(ev);
}

static void check_invoke_complete(struct env *e)
{
    size_t i;

    if (e->phase != PH_INVOKE || e->rt != RT_READY || !e->inv.answered)
        return;
    for (i = 0; i < e->next_ext; i++) {
        const struct extension *x = &e->ext[i];

        if (x->registered && x->want_invoke && x->state == EXT_WORKING)
            return;
    }
    e->phase = PH_READY;
    invoke_finish(e, false);
}

/* The invoke failed in a way that resets the environment. */
static void invoke_fail(struct env *e, const char *type, const char *msg, const char *reason)
{
    struct invoke *v = &e->inv;

    send_platform_error(e, type, msg);
    v->failed = true;
    if (!v->end_mono_us)
        v->end_mono_us = ld_mono_us();
    v->max_kb = procs_max_rss_kb(e, true);
    if (!v->error_type[0])
        snprintf(v->error_type, sizeof v->error_type, "%s", type);
    v->status_text = strcmp(reason, "timeout") == 0 ? "timeout" : "error";
    begin_stop(e, reason, e->shutting_down);
}

static void on_invoke_timeout(evutil_socket_t fd, short what, void *arg)
{
    struct env *e = arg;
    char msg[256], iso[40];
    double secs = (double) e->cfg.timeout_ms / 1000.0;

    (void) fd;
    (void) what;
    if (!e->inv.active)
        return;
    env_logf(e, "%s %s Task timed out after %.2f seconds", ld_iso8601_ms(ld_wall_us(), iso, sizeof iso),
             e->inv.request_id, secs);
    snprintf(msg, sizeof msg, "RequestId: %s Error: Task timed out after %.2f seconds",
             e->inv.request_id, secs);
    if (e->phase == PH_STOPPING) {
        /* Already resetting (a failed INIT): the invoke ends with the reset. */
        send_platform_error(e, "Sandbox.Timedout", msg);
        e->inv.failed = true;
        e->inv.status_text = "timeout";
        return;
    }
    if (!e->inv.delivered)
        e->inv.start_mono_us = ld_mono_us();
    invoke_fail(e, "Sandbox.Timedout", msg, "timeout");
}

void phase_invoke(struct env *e)
{
    struct invoke *v = &e->inv;

    v->active = true;
    v->start_mono_us = ld_mono_us();
    v->deadline_mono_us = v->start_mono_us + e->cfg.timeout_ms * 1000u;
    arm(e->invoke_timer, e->cfg.timeout_ms * 1000u);
    switch (e->phase) {
    case PH_READY:
        deliver_invoke(e);
        break;
    case PH_UNINIT:
        begin_init(e, true);
        break;
    case PH_EXT_INIT:
    case PH_RT_INIT:
    case PH_STOPPING:
    case PH_INVOKE:
    default:
        /* An INIT or a reset is under way: the invoke goes out when it is done. */
        break;
    }
}

void phase_runtime_answered(struct env *e)
{
    if (e->rt == RT_INVOKED)
        e->rt = RT_RESPONDED;
}

/* --- INIT --- */

static void init_succeeded(struct env *e)
{
    event_del(e->init_timer);
    e->init_duration_us = ld_mono_us() - e->init_start_mono_us;
    e->report_init_duration = true;
    e->phase = PH_READY;
    log_extensions(e);
    if (!e->init_in_invoke)
        send_init_done(e, CTL_OK, NULL, NULL, 0, false);
    e->init_in_invoke = false;
    if (e->inv.active)
        deliver_invoke(e);
}

static void check_init_complete(struct env *e)
{
    size_t i;

    if (e->phase != PH_RT_INIT || e->rt != RT_READY)
        return;
    for (i = 0; i < e->next_ext; i++) {
        const struct extension *x = &e->ext[i];

        if (x->registered && x->state != EXT_WAITING)
            return;
    }
    init_succeeded(e);
}

/* INIT failed: report it, answer the invoke that waited for it, reset. */
static void init_fail(struct env *e, const char *type, const char *msg, bool timeout)
{
    double ms = (double) (ld_mono_us() - e->init_start_mono_us) / 1000.0;

    if (e->phase == PH_STOPPING)
        return;
    event_del(e->init_timer);
    e->init_failed = true;
    snprintf(e->init_fail_type, sizeof e->init_fail_type, "%s", type);
    if (timeout)
        env_logf(e, "INIT_REPORT Init Duration: %.2f ms\tPhase: %s\tStatus: timeout", ms,
                 e->init_in_invoke ? "invoke" : "init");
    else
        env_logf(e, "INIT_REPORT Init Duration: %.2f ms\tPhase: %s\tStatus: error\tError Type: %s",
                 ms, e->init_in_invoke ? "invoke" : "init", type);

    if (e->init_in_invoke && e->inv.active) {
        if (e->init_error_body)
            phase_send_result(e, CTL_FUNCTION_ERROR, e->init_error_ctype, e->init_error_body,
                              e->init_error_len, type);
        else
            send_platform_error(e, type, msg);
        e->inv.failed = true;
        e->inv.status_text = "error";
        snprintf(e->inv.error_type, sizeof e->inv.error_type, "%s", type);
        e->inv.start_mono_us = ld_mono_us();
    } else if (!e->init_in_invoke) {
        if (e->init_error_body)
            send_init_done(e, CTL_FUNCTION_ERROR, type, e->init_error_body, e->init_error_len, true);
        else
            send_init_done(e, timeout ? CTL_INIT_TIMEOUT : CTL_FUNCTION_ERROR, type, msg, strlen(msg),
                           true);
    }
    begin_stop(e, timeout ? "timeout" : "failure", e->shutting_down);
}

static void on_init_timeout(evutil_socket_t fd, short what, void *arg)
{
    struct env *e = arg;

    (void) fd;
    (void) what;
    if (e->rt == RT_INIT_ERROR)
        init_error_fail(e);
    else if (e->phase == PH_EXT_INIT || e->phase == PH_RT_INIT)
        init_fail(e, "Sandbox.Timedout", "Init timed out", true);
}

static char *wrapper_of(const struct config *c)
{
    size_t i;
    static const char key[] = "AWS_LAMBDA_EXEC_WRAPPER=";

    /* The OS-only runtimes ignore the wrapper on AWS too. */
    if (c->runtime_id && strncmp(c->runtime_id, "provided", 8) == 0)
        return NULL;
    for (i = 0; i < c->envc; i++)
        if (strncmp(c->env[i], key, sizeof key - 1) == 0 && c->env[i][sizeof key - 1])
            return c->env[i] + sizeof key - 1;
    return NULL;
}

static void start_runtime(struct env *e)
{
    char **envp = envvars_runtime(&e->cfg);
    char *wrapper = wrapper_of(&e->cfg);
    char **argv = e->cfg.argv;
    char *wrapped[66];
    char msg[600];
    int rc;

    e->phase = PH_RT_INIT;
    if (wrapper && e->cfg.argc + 2 <= 64) {
        wrapped[0] = wrapper;
        memcpy(wrapped + 1, argv, (e->cfg.argc + 1) * sizeof *argv);
        argv = wrapped;
    }
    rc = envp ? proc_spawn(e, &e->runtime, argv, envp, e->cfg.task_root, CTL_LOG_FUNCTION, NULL)
              : -ENOMEM;
    envvars_free(envp);
    if (rc < 0) {
        snprintf(msg, sizeof msg, "fork/exec %.400s: %.60s", argv[0], strerror(-rc));
        init_fail(e, "Runtime.InvalidEntrypoint", msg, false);
        return;
    }
    e->rt = RT_STARTED;
    e->runtime_spawned_mono_us = ld_mono_us();
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

/* Starts every regular executable file of the extensions dir, in parallel. */
static int launch_extensions(struct env *e, char *msg, size_t cap)
{
    struct dirent **names = NULL;
    char **envp;
    int n, i, rc = 0;

    if (!e->cfg.extensions_dir || !e->cfg.extensions_dir[0])
        return 0;
    n = scandir(e->cfg.extensions_dir, &names, NULL, by_name);
    if (n < 0)
        return 0; /* no extensions dir: no extensions */
    envp = envvars_extension(&e->cfg);
    for (i = 0; i < n; i++) {
        char path[4096];
        struct stat st;
        struct extension *x;
        char *argv[2];

        snprintf(path, sizeof path, "%s/%s", e->cfg.extensions_dir, names[i]->d_name);
        if (rc < 0 || names[i]->d_name[0] == '.' || stat(path, &st) < 0 || !S_ISREG(st.st_mode))
            continue;
        if (e->next_ext >= MAX_EXTENSIONS) {
            snprintf(msg, cap, "Extension limit (%d) reached", MAX_EXTENSIONS);
            rc = -E2BIG;
            continue;
        }
        x = &e->ext[e->next_ext++];
        memset(x, 0, sizeof *x);
        snprintf(x->name, sizeof x->name, "%.127s", names[i]->d_name);
        x->external = true;
        x->state = EXT_LAUNCHED;
        argv[0] = path;
        argv[1] = NULL;
        rc = envp ? proc_spawn(e, &x->proc, argv, envp, e->cfg.task_root, CTL_LOG_EXTENSION, x->name)
                  : -ENOMEM;
        if (rc < 0) {
            snprintf(msg, cap, "fork/exec %.160s: %.60s", path, strerror(-rc));
            e->next_ext--;
            continue;
        }
        e->launched++;
    }
    for (i = 0; i < n; i++)
        free(names[i]);
    free(names);
    envvars_free(envp);
    return rc;
}

static void begin_init(struct env *e, bool in_invoke)
{
    char msg[256] = "";
    uint64_t budget;

    e->phase = PH_EXT_INIT;
    e->rt = RT_NONE;
    e->next_ext = 0;
    e->launched = 0;
    e->registration_closed = false;
    e->init_failed = false;
    e->init_in_invoke = in_invoke;
    free(e->init_error_body);
    free(e->init_error_ctype);
    e->init_error_body = e->init_error_ctype = NULL;
    e->init_error_type[0] = '\0';
    e->init_start_mono_us = ld_mono_us();
    log_init_start(e);
    if (!in_invoke) {
        budget = e->cfg.init_timeout_ms * 1000u;
        arm(e->init_timer, budget);
    }
    if (launch_extensions(e, msg, sizeof msg) < 0) {
        init_fail(e, "Extension.LaunchError", msg, false);
        return;
    }
    if (e->launched == 0)
        start_runtime(e);
}

void phase_start(struct env *e)
{
    begin_init(e, false);
}

void phase_runtime_next(struct env *e)
{
    if (e->rt == RT_STARTED) {
        e->rt = RT_READY;
        e->registration_closed = true; /* internal extensions register before this */
        check_init_complete(e);
    } else if (e->rt == RT_RESPONDED) {
        e->rt = RT_READY;
        check_invoke_complete(e);
    }
    if (e->phase == PH_READY && e->inv.active && !e->inv.delivered)
        deliver_invoke(e);
}

static void init_error_fail(struct env *e)
{
    init_fail(e, e->init_error_type[0] ? e->init_error_type : "Runtime.Unknown",
              "Runtime init error", false);
}

/* The runtime reported an init error. It is expected to exit by itself
 * (printing what went wrong on its way out); INIT fails when it has, or after
 * a short grace if it lingers. */
#define INIT_ERROR_GRACE_US 500000u

void phase_runtime_init_error(struct env *e)
{
    e->rt = RT_INIT_ERROR;
    arm(e->init_timer, INIT_ERROR_GRACE_US);
}

bool phase_accepts_internal_registration(const struct env *e)
{
    return !e->registration_closed && (e->phase == PH_EXT_INIT || e->phase == PH_RT_INIT);
}

void phase_ext_registered(struct env *e, struct extension *x)
{
    size_t i;

    (void) x;
    if (e->phase != PH_EXT_INIT)
        return;
    for (i = 0; i < e->next_ext; i++)
        if (e->ext[i].external && !e->ext[i].registered)
            return;
    start_runtime(e);
}

void phase_ext_next(struct env *e, struct extension *x)
{
    x->state = EXT_WAITING;
    if (e->phase == PH_STOPPING) {
        if (e->runtime_stopped && x->want_shutdown && !x->shutdown_sent) {
            char ev[160];

            snprintf(ev, sizeof ev,
                     "{\"eventType\":\"SHUTDOWN\",\"deadlineMs\":%llu,\"shutdownReason\":\"%s\"}",
                     (unsigned long long) e->stop_deadline_wall_ms, e->stop_reason);
            x->shutdown_sent = true;
            ext_send_event(x, ev);
        }
        return;
    }
    check_init_complete(e);
    check_invoke_complete(e);
}

void phase_ext_error(struct env *e, struct extension *x, bool during_init)
{
    char msg[600];

    x->state = EXT_FAILED;
    if (during_init && (e->phase == PH_EXT_INIT || e->phase == PH_RT_INIT)) {
        snprintf(msg, sizeof msg, "Extension %s failed: %s", x->name, x->error_type);
        init_fail(e, "Extension.InitError", msg, false);
        return;
    }
    if (e->phase == PH_INVOKE) {
        snprintf(msg, sizeof msg, "RequestId: %s Error: Extension %s reported %s", e->inv.request_id,
                 x->name, x->error_type);
        invoke_fail(e, "Extension.ExitError", msg, "failure");
    } else if (e->phase == PH_READY) {
        begin_stop(e, "failure", e->shutting_down);
    }
}

/* --- process exits --- */

void phase_proc_exited(struct env *e, struct proc *p)
{
    char st[64], msg[600];
    struct extension *x = p == &e->runtime ? NULL : ext_by_proc(e, p);

    proc_describe_status(p->status, st, sizeof st);
    if (e->phase == PH_STOPPING) {
        if (!x && !e->runtime_stopped) {
            event_del(e->kill_timer);
            event_active(e->kill_timer, 0, 0); /* the runtime is gone: extensions' turn */
        }
        check_stop_complete(e);
        return;
    }
    if (!x) {
        bool posted_init_error = e->rt == RT_INIT_ERROR;
        uint64_t ooms = procs_oom_kills(e);
        /* The cgroup counted a kill since we last looked: out of memory. */
        const char *type = ooms > e->oom_seen ? "Runtime.OutOfMemory" : "Runtime.ExitError";

        e->oom_seen = ooms;
        e->rt = RT_NONE;
        if (e->inv.active && (e->inv.delivered || e->init_in_invoke))
            snprintf(msg, sizeof msg, "RequestId: %s Error: Runtime exited with error: %s",
                     e->inv.request_id, st);
        else
            snprintf(msg, sizeof msg, "Runtime exited with error: %s", st);
        if (e->phase == PH_RT_INIT && posted_init_error) {
            init_error_fail(e);
        } else if (e->phase == PH_RT_INIT) {
            env_logf(e, "%s", msg);
            init_fail(e, type, msg, false);
        } else if (e->phase == PH_INVOKE) {
            env_logf(e, "%s", msg);
            env_logf(e, "%s", type);
            invoke_fail(e, type, msg, "failure");
        } else {
            begin_stop(e, "failure", e->shutting_down);
        }
        return;
    }
    x->state = EXT_GONE;
    if (e->inv.active && e->inv.delivered)
        snprintf(msg, sizeof msg, "RequestId: %s Error: Extension %s exited with error: %s",
                 e->inv.request_id, x->name, st);
    else
        snprintf(msg, sizeof msg, "Extension %s exited with error: %s", x->name, st);
    env_logf(e, "%s", msg);
    if (e->phase == PH_EXT_INIT || e->phase == PH_RT_INIT)
        init_fail(e, x->registered ? "Extension.Crash" : "Extension.LaunchError", msg, false);
    else if (e->phase == PH_INVOKE)
        invoke_fail(e, "Extension.Crash", msg, "failure");
    else
        begin_stop(e, "failure", e->shutting_down);
}

/* --- SHUTDOWN and reset --- */

/* The runtime's share is over: SIGKILL it; SHUTDOWN goes to the extensions
 * that asked for it, the others are killed now. */
static void on_runtime_share_over(evutil_socket_t fd, short what, void *arg)
{
    struct env *e = arg;
    char ev[160];
    size_t i;

    (void) fd;
    (void) what;
    if (e->phase != PH_STOPPING || e->runtime_stopped)
        return;
    e->runtime_stopped = true;
    proc_signal(&e->runtime, SIGKILL);
    snprintf(ev, sizeof ev, "{\"eventType\":\"SHUTDOWN\",\"deadlineMs\":%llu,\"shutdownReason\":\"%s\"}",
             (unsigned long long) e->stop_deadline_wall_ms, e->stop_reason);
    for (i = 0; i < e->next_ext; i++) {
        struct extension *x = &e->ext[i];

        if (!x->external || x->proc.reaped)
            continue;
        if (!x->registered || !x->want_shutdown || x->state == EXT_FAILED) {
            proc_signal(&x->proc, SIGKILL);
        } else if (x->state == EXT_WAITING && x->parked) {
            x->shutdown_sent = true;
            ext_send_event(x, ev);
        }
        /* A busy one gets it at its next call to event/next. */
    }
    check_stop_complete(e);
}

static void on_stop_deadline(evutil_socket_t fd, short what, void *arg)
{
    struct env *e = arg;

    (void) fd;
    (void) what;
    if (e->phase == PH_STOPPING)
        procs_kill_all(e);
}

static void begin_stop(struct env *e, const char *reason, bool exits)
{
    size_t i, external = 0, internal = 0;
    uint64_t window_ms, runtime_ms;

    if (e->phase == PH_STOPPING) {
        e->stop_exits = e->stop_exits || exits;
        return;
    }
    event_del(e->init_timer);
    e->phase = PH_STOPPING;
    e->stop_exits = exits;
    e->stop_reason = reason;
    e->runtime_stopped = false;
    for (i = 0; i < e->next_ext; i++) {
        if (!e->ext[i].registered)
            continue;
        if (e->ext[i].external)
            external++;
        else
            internal++;
    }
    /* The SHUTDOWN phase's limits (extensions-api.md §4.3). */
    if (external) {
        window_ms = 2000;
        runtime_ms = internal ? 500 : 300;
    } else if (internal) {
        window_ms = runtime_ms = 500;
    } else {
        window_ms = runtime_ms = 0;
    }
    e->stop_deadline_wall_ms = ld_wall_ms() + window_ms;
    arm(e->stop_timer, window_ms * 1000u);
    if (runtime_ms > 0 && e->runtime.pid > 0 && !e->runtime.reaped) {
        proc_signal(&e->runtime, SIGTERM);
        arm(e->kill_timer, runtime_ms * 1000u);
    } else {
        event_active(e->kill_timer, 0, 0);
    }
    check_stop_complete(e);
}

static void answer_parked(struct http_req **req)
{
    if (*req)
        http_reply_json(*req, 500, "{\"errorMessage\":\"Internal Server Error\","
                                   "\"errorType\":\"InternalServerError\"}");
    *req = NULL;
}

static void check_stop_complete(struct env *e)
{
    size_t i;
    bool resume_invoke;

    if (e->phase != PH_STOPPING)
        return;
    if (e->runtime.pid > 0 && !e->runtime.reaped)
        return;
    for (i = 0; i < e->next_ext; i++)
        if (e->ext[i].external && e->ext[i].proc.pid > 0 && !e->ext[i].proc.reaped)
            return;

    event_del(e->stop_timer);
    event_del(e->kill_timer);
    procs_kill_strays();
    /* Requests parked by processes that are gone: their sockets may not
     * have reported EOF yet; answer them now so none outlives the reset. */
    answer_parked(&e->rt_parked);
    proc_close_output(&e->runtime);
    for (i = 0; i < e->next_ext; i++) {
        answer_parked(&e->ext[i].parked);
        proc_close_output(&e->ext[i].proc);
    }
    memset(&e->runtime, 0, sizeof e->runtime);
    e->runtime.out_fd = -1;
    e->next_ext = 0;
    e->rt = RT_NONE;
    e->phase = PH_UNINIT;
    e->runtime_stopped = false;

    if (e->stop_exits) {
        while (e->inv.active) {
            send_platform_error(e, "Sandbox.Failure", "The environment was shut down");
            invoke_finish(e, true);
            if (e->queued.active) {
                memcpy(&e->inv, &e->queued, sizeof e->inv);
                memset(&e->queued, 0, sizeof e->queued);
                e->inv.start_mono_us = ld_mono_us();
            }
        }
        env_send_shutdown_done(e);
        return;
    }
    resume_invoke = e->inv.active && !e->inv.delivered && !e->init_in_invoke && !e->inv.answered;
    if (resume_invoke) {
        /* The INIT this invoke waited for failed: run it again inside the
         * invoke's own time, as Lambda does. */
        begin_init(e, true);
    } else if (e->inv.active) {
        invoke_finish(e, true);
    }
}

void phase_shutdown(struct env *e)
{
    e->shutting_down = true;
    if (e->phase == PH_UNINIT) {
        e->phase = PH_STOPPING;
        e->stop_exits = true;
        check_stop_complete(e);
        return;
    }
    begin_stop(e, "spindown", true);
}

int phase_setup(struct env *e)
{
    e->init_timer = evtimer_new(e->base, on_init_timeout, e);
    e->invoke_timer = evtimer_new(e->base, on_invoke_timeout, e);
    e->stop_timer = evtimer_new(e->base, on_stop_deadline, e);
    e->kill_timer = evtimer_new(e->base, on_runtime_share_over, e);
    return e->init_timer && e->invoke_timer && e->stop_timer && e->kill_timer ? 0 : -ENOMEM;
}
