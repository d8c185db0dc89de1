/* init/init.c: `lambdad init`, the pid 1 of one execution environment.
 *
 * Reads its orders from the control channel (an inherited unix socket, fd in
 * LAMBDAD_CTL_FD), serves the Runtime and Extensions APIs, runs the phases
 * (phases.c) and reports results, timings and log lines back. Everything is
 * on one libevent loop; nothing here blocks except fork+exec at INIT. */
#include "init/init.h"

#include <errno.h>
#include <fcntl.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/cpus.h"
#include "common/http_server.h"
#include "common/stream.h"
#include "init/init-internal.h"

static void set_oom_score_adj(const char *v)
{
    int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);

    if (fd >= 0) {
        (void) !write(fd, v, strlen(v));
        close(fd);
    }
}

static void on_api_head(struct http_req *req, void *arg)
{
    rapi_on_head(arg, req);
}

static void on_api_request(struct http_req *req, void *arg)
{
    rapi_on_request(arg, req);
}

static void on_api_gone(struct http_req *req, void *arg)
{
    rapi_on_gone(arg, req);
}

static const struct http_server_ops api_ops = {
    .on_head = on_api_head,
    .on_request = on_api_request,
    .on_gone = on_api_gone,
};

/* --- sending --- */

static void queue_frame(struct env *e)
{
    struct evbuffer *out = stream_output(e->ctl);

    evbuffer_add(out, e->frame.data, e->frame.len);
    ld_buf_reset(&e->frame);
    if (!e->ctl_blocked && evbuffer_get_length(out) > CTL_OUT_HIGH) {
        e->ctl_blocked = true;
        procs_pause_output(e, true);
    }
}

/* Log records wait up to this long for a frame that must go at once, so
 * that the parent is not woken for each line while the function runs. */
#define LOG_BATCH_US 2000

void env_send_frame(struct env *e)
{
    queue_frame(e);
    stream_flush_later(e->ctl, LOG_BATCH_US);
}

void env_send_frame_now(struct env *e)
{
    queue_frame(e);
    stream_flush(e->ctl);
}

void env_send_log(struct env *e, enum ctl_log_source src, const char *name, const char *text,
                  size_t len)
{
    struct ctl_builder b;

    ctl_begin(&b, &e->frame, CTL_LOG);
    ctl_put_u64(&b, CTL_T_LOG_SOURCE, src);
    ctl_put_str(&b, CTL_T_LOG_NAME, name);
    ctl_put_u64(&b, CTL_T_TIME_US, ld_wall_us());
    ctl_put(&b, CTL_T_TEXT, text, len);
    if (ctl_end(&b) == 0)
        env_send_frame(e);
}

void env_logf(struct env *e, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    env_send_log(e, CTL_LOG_PLATFORM, NULL, line, (size_t) n < sizeof line ? (size_t) n : sizeof line - 1);
}

static bool exiting;

void env_send_shutdown_done(struct env *e)
{
    struct ctl_builder b;

    ctl_begin(&b, &e->frame, CTL_EXITING);
    if (ctl_end(&b) == 0)
        env_send_frame(e);
    exiting = true;
    stream_flush(e->ctl);
    if (stream_pending_output(e->ctl) == 0)
        event_base_loopexit(e->base, NULL);
}

static void on_ctl_drain(struct stream *st, void *arg)
{
    struct env *e = arg;

    (void) st;
    if (e->ctl_blocked) {
        e->ctl_blocked = false;
        procs_pause_output(e, false);
    }
    if (exiting && stream_pending_output(e->ctl) == 0)
        event_base_loopexit(e->base, NULL);
}

/* --- receiving --- */

static char **collect(const struct ctl_frame *f, enum ctl_tag tag, size_t *count)
{
    struct ctl_field fld;
    size_t pos = 0, n = 0;
    char **v;

    while (ctl_field_next(f, &pos, &fld))
        if (fld.tag == tag)
            n++;
    v = calloc(n + 1, sizeof *v);
    if (!v)
        return NULL;
    pos = 0;
    n = 0;
    while (ctl_field_next(f, &pos, &fld))
        if (fld.tag == tag && (v[n] = ctl_field_strdup(&fld)))
            n++;
    *count = n;
    return v;
}

static char *str_or(const struct ctl_frame *f, enum ctl_tag tag, const char *dflt)
{
    char *s = ctl_get_strdup(f, tag);

    return s ? s : strdup(dflt);
}

/* Before anything is spawned: children inherit the affinity. */
static void confine_to_cpus(const struct ctl_frame *f)
{
    char *list = ctl_get_strdup(f, CTL_T_CPUS);
    cpu_set_t set;

    if (list && (ld_cpus_parse(list, &set) < 0 || sched_setaffinity(0, sizeof set, &set) < 0))
        fprintf(stderr, "lambdad init: cannot run on CPUs %s: %s\n", list, strerror(errno));
    free(list);
}

/* Sandboxed: the user the function's processes run as. (The syscall filter
 * came with the sandbox: init and all it starts inherit it.) */
static int read_credentials(struct config *c, const struct ctl_frame *f)
{
    uint64_t uid, gid;

    if (ctl_get_u64(f, CTL_T_RUN_AS_UID, &uid) < 0)
        return 0;
    if (ctl_get_u64(f, CTL_T_RUN_AS_GID, &gid) < 0 || uid == 0 || uid > UINT32_MAX ||
        gid > UINT32_MAX)
        return -EINVAL;
    c->drop = true;
    c->uid = (uint32_t) uid;
    c->gid = (uint32_t) gid;
    return 0;
}

/* The cgroup's memory files, inherited: init cannot see the cgroup tree. */
static void read_memory_fds(struct config *c, const struct ctl_frame *f)
{
    uint64_t fd;

    if (ctl_get_u64(f, CTL_T_PEAK_FD, &fd) == 0 && fd > 2 && fd < 1024)
        c->peak_fd = (int) fd;
    if (ctl_get_u64(f, CTL_T_OOM_FD, &fd) == 0 && fd > 2 && fd < 1024)
        c->oom_fd = (int) fd;
}

static int on_start(struct env *e, const struct ctl_frame *f)
{
    struct config *c = &e->cfg;
    char addr[64];
    struct ld_err err;
    int rc;

    if (e->started)
        return -EPROTO;
    e->started = true;
    c->function_name = str_or(f, CTL_T_FUNCTION_NAME, "function");
    c->function_version = str_or(f, CTL_T_FUNCTION_VERSION, "$LATEST");
    c->handler = str_or(f, CTL_T_HANDLER, "");
    c->region = str_or(f, CTL_T_REGION, "us-east-1");
    c->account_id = str_or(f, CTL_T_ACCOUNT_ID, "000000000000");
    c->log_group = str_or(f, CTL_T_LOG_GROUP, "/aws/lambda/function");
    c->log_stream = str_or(f, CTL_T_LOG_STREAM, "");
    c->init_type = str_or(f, CTL_T_INIT_TYPE, "on-demand");
    c->runtime_id = str_or(f, CTL_T_RUNTIME_ID, "");
    c->extensions_dir = str_or(f, CTL_T_EXTENSIONS_DIR, "/opt/extensions");
    c->task_root = str_or(f, CTL_T_TASK_ROOT, "/var/task");
    c->rapi_addr = str_or(f, CTL_T_RAPI_ADDR, "127.0.0.1:9001");
    c->memory_mb = 128;
    c->timeout_ms = 3000;
    c->init_timeout_ms = 10000;
    ctl_get_u64(f, CTL_T_MEMORY_MB, &c->memory_mb);
    ctl_get_u64(f, CTL_T_TIMEOUT_MS, &c->timeout_ms);
    ctl_get_u64(f, CTL_T_INIT_TIMEOUT_MS, &c->init_timeout_ms);
    c->argv = collect(f, CTL_T_ARG, &c->argc);
    c->env = collect(f, CTL_T_ENV, &c->envc);
    if (!c->function_name || !c->function_version || !c->handler || !c->region || !c->account_id ||
        !c->log_group || !c->log_stream || !c->init_type || !c->runtime_id || !c->extensions_dir ||
        !c->task_root || !c->rapi_addr || !c->argv || !c->env)
        return -ENOMEM;
    if (c->argc == 0)
        return -EINVAL;
    confine_to_cpus(f);
    if ((rc = read_credentials(c, f)) < 0)
        return rc;
    read_memory_fds(c, f);

    e->api = http_server_new(e->base, &api_ops, e, MAX_RESPONSE_BYTES);
    if (!e->api)
        return -ENOMEM;
    if ((rc = http_server_listen(e->api, c->rapi_addr, &err)) < 0) {
        fprintf(stderr, "lambdad init: %s\n", err.msg);
        return rc;
    }
    /* Port 0 asks for any free port: runtimes must be told the real one. */
    if (strrchr(c->rapi_addr, ':') && strcmp(strrchr(c->rapi_addr, ':'), ":0") == 0) {
        *strrchr(c->rapi_addr, ':') = '\0';
        snprintf(addr, sizeof addr, "%s:%d", c->rapi_addr, http_server_port(e->api));
        free(c->rapi_addr);
        c->rapi_addr = strdup(addr);
        if (!c->rapi_addr)
            return -ENOMEM;
    }
    phase_start(e);
    return 0;
}

static int on_invoke(struct env *e, const struct ctl_frame *f)
{
    struct invoke *v = &e->inv;
    struct ctl_field fld;
    char *rid;

    if (!e->started || e->shutting_down)
        return -EPROTO;
    if (v->active) {
        /* One may wait behind an answered invoke; more is a broken parent. */
        if (!v->answered || e->queued.active)
            return -EPROTO;
        v = &e->queued;
    }
    rid = ctl_get_strdup(f, CTL_T_REQUEST_ID);
    if (!rid)
        return -EPROTO;
    snprintf(v->request_id, sizeof v->request_id, "%s", rid);
    free(rid);
    ctl_get_u64(f, CTL_T_DEADLINE_MS, &v->deadline_ms);
    if (!v->deadline_ms)
        v->deadline_ms = ld_wall_ms() + e->cfg.timeout_ms;
    v->arn = ctl_get_strdup(f, CTL_T_INVOKED_ARN);
    v->trace_id = ctl_get_strdup(f, CTL_T_TRACE_ID);
    v->client_context = ctl_get_strdup(f, CTL_T_CLIENT_CONTEXT);
    v->cognito = ctl_get_strdup(f, CTL_T_COGNITO_IDENTITY);
    v->content_type = ctl_get_strdup(f, CTL_T_CONTENT_TYPE);
    if (ctl_get(f, CTL_T_PAYLOAD, &fld) == 0 && ld_buf_append(&v->payload, fld.p, fld.len) < 0)
        return -ENOMEM;
    if (v == &e->queued)
        v->active = true;
    else
        phase_invoke(e);
    return 0;
}

static void on_ctl_read(struct stream *st, void *arg)
{
    struct env *e = arg;
    struct evbuffer *in = stream_input(st);

    for (;;) {
        size_t avail = evbuffer_get_length(in);
        struct ctl_frame f;
        const unsigned char *p;
        ssize_t n;
        int rc = 0;

        if (avail < CTL_HDR_LEN)
            return;
        p = evbuffer_pullup(in, CTL_HDR_LEN);
        n = ctl_frame_parse(p, CTL_HDR_LEN, &f);
        if (n == 0) {
            /* Need the whole frame contiguous; its length is in the header. */
            uint32_t len = (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 |
                           (uint32_t) p[3] << 24;

            if (len > CTL_MAX_FRAME) {
                n = -EMSGSIZE;
            } else if (avail < CTL_HDR_LEN + (size_t) len) {
                return;
            } else {
                p = evbuffer_pullup(in, (ev_ssize_t) (CTL_HDR_LEN + len));
                n = ctl_frame_parse(p, CTL_HDR_LEN + len, &f);
            }
        }
        if (n <= 0) {
            fprintf(stderr, "lambdad init: malformed control frame (%zd); exiting\n", n);
            event_base_loopbreak(e->base);
            return;
        }
        switch (f.type) {
        case CTL_START:
            rc = on_start(e, &f);
            break;
        case CTL_INVOKE:
            rc = on_invoke(e, &f);
            break;
        case CTL_SHUTDOWN:
            phase_shutdown(e);
            break;
        default:
            break; /* a newer parent's message: ignore */
        }
        evbuffer_drain(in, (size_t) n);
        if (rc < 0) {
            fprintf(stderr, "lambdad init: control message %u refused: %s\n", f.type, strerror(-rc));
            if (f.type == CTL_START) {
                event_base_loopbreak(e->base);
                return;
            }
        }
    }
}

static void on_ctl_close(struct stream *st, void *arg, int err)
{
    struct env *e = arg;

    (void) st;
    (void) err;
    /* The parent is gone: nobody is left to serve. */
    stream_stop_reading(st);
    event_base_loopbreak(e->base);
}

static const struct stream_ops ctl_ops = {
    .on_read = on_ctl_read,
    .on_drain = on_ctl_drain,
    .on_close = on_ctl_close,
};

static void on_sigchld(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    procs_on_sigchld(arg);
}

static void on_sigterm(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    phase_shutdown(arg);
}

static void strv_free(char **v)
{
    char **p;

    for (p = v; p && *p; p++)
        free(*p);
    free(v);
}

/* Frees what the environment holds, so the sanitizers see a clean exit. */
static void env_fini(struct env *e, struct event *sigterm)
{
    struct config *c = &e->cfg;
    size_t i;

    proc_close_output(&e->runtime);
    for (i = 0; i < e->next_ext; i++)
        proc_close_output(&e->ext[i].proc);
    http_server_free(e->api);
    free(c->function_name);
    free(c->function_version);
    free(c->handler);
    free(c->region);
    free(c->account_id);
    free(c->log_group);
    free(c->log_stream);
    free(c->init_type);
    free(c->runtime_id);
    free(c->extensions_dir);
    free(c->task_root);
    free(c->rapi_addr);
    strv_free(c->argv);
    strv_free(c->env);
    if (c->peak_fd >= 0)
        close(c->peak_fd);
    if (c->oom_fd >= 0)
        close(c->oom_fd);
    invoke_clear(&e->inv);
    invoke_clear(&e->queued);
    free(e->init_error_body);
    free(e->init_error_ctype);
    ld_buf_free(&e->frame);
    if (e->init_timer)
        event_free(e->init_timer);
    if (e->invoke_timer)
        event_free(e->invoke_timer);
    if (e->stop_timer)
        event_free(e->stop_timer);
    if (e->kill_timer)
        event_free(e->kill_timer);
    if (e->sigchld)
        event_free(e->sigchld);
    if (sigterm)
        event_free(sigterm);
    stream_free(e->ctl);
    event_base_free(e->base);
}

int init_main(int argc, char **argv)
{
    struct env e;
    const char *fd_s = getenv("LAMBDAD_CTL_FD");
    int fd = fd_s ? atoi(fd_s) : 3;
    struct event *sigterm;

    (void) argc;
    (void) argv;
    memset(&e, 0, sizeof e);
    e.runtime.out_fd = -1;
    e.cfg.peak_fd = e.cfg.oom_fd = -1;
    unsetenv("LAMBDAD_CTL_FD");
    signal(SIGPIPE, SIG_IGN);
    /* Orphans of the function come to us, so they can be killed and reaped. */
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    /* Sandboxed, we share the function's memory limit: when it runs out, the
     * kernel must pick the function, not us (children start again at 0). */
    if (getpid() == 1)
        set_oom_score_adj("-1000");
    prctl(PR_SET_PDEATHSIG, SIGKILL);

    e.base = event_base_new();
    if (!e.base || event_base_priority_init(e.base, 2) < 0)
        return 1;
    e.ctl = stream_new(e.base, fd, &ctl_ops, &e);
    e.sigchld = evsignal_new(e.base, SIGCHLD, on_sigchld, &e);
    sigterm = evsignal_new(e.base, SIGTERM, on_sigterm, &e);
    if (!e.ctl || !e.sigchld || !sigterm || phase_setup(&e) < 0) {
        fprintf(stderr, "lambdad init: out of memory\n");
        return 1;
    }
    stream_set_low_mark(e.ctl, CTL_OUT_HIGH / 2);
    event_add(e.sigchld, NULL);
    event_add(sigterm, NULL);

    event_base_dispatch(e.base);

    procs_kill_all(&e);
    env_fini(&e, sigterm);
    return exiting ? 0 : 1;
}
