/* service/emulate.c: `lambdad emulate`, one function in one environment, no
 * service: the job of AWS's Runtime Interface Emulator, done with lambdad's
 * own init.
 *
 * Callers POST to /2015-03-31/functions/function/invocations. One environment
 * runs one invoke at a time, as on Lambda; invokes that arrive meanwhile wait
 * in arrival order (Lambda would start more environments instead). Log lines
 * go to stderr as Lambda writes them. */
#include "service/emulate.h"

#include <errno.h>
#include <event2/event.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/base64.h"
#include "common/clock.h"
#include "common/cpus.h"
#include "common/http_server.h"
#include "common/ids.h"
#include "common/text.h"
#include "sandbox/cgroup.h"
#include "sandbox/seccomp.h"
#include "sandbox/spawn.h"
#include "service/envctl.h"
#include "service/environment.h"
#include "service/envpool.h"

#define MAX_REQUEST_BYTES 6291456u /* Invoke's synchronous payload limit */
#define MAX_EVENT_BYTES 1048576u   /* an asynchronous one's (1 MB since Oct 2025) */
#define MAX_CLIENT_CONTEXT 3583u   /* decoded bytes */
#define MAX_BUFFERED_RESPONSE 6291556u
#define TAIL_BYTES 4096u

struct options {
    const char *listen;
    const char *handler;
    const char *task_root;
    const char *function_name;
    const char *extensions_dir;
    const char *runtime_id;
    const char *region;
    const char *cpus; /* cpulist, "all", or NULL: as many as the memory buys */
    bool no_sandbox;
    uint64_t timeout_ms, init_timeout_ms, memory_mb;
    char **env; /* --env K=V, NULL-terminated */
    size_t envc;
    char **argv; /* the bootstrap and its arguments */
    int argc;
};

/* Paths as the function sees them: inside a sandbox the task root is
 * /var/task, and the Runtime API has the environment's own loopback. */
struct view {
    const char *task_root;
    const char *extensions_dir;
    const char *rapi_addr;
    char bootstrap[PATH_MAX];
};

struct pending {
    struct http_req *req; /* borrowed until answered; NULL when the caller left */
    char request_id[LD_UUID_LEN + 1];
    struct ld_buf payload;
    char *client_context;
    char *trace_id;
    bool tail;
    bool event; /* asynchronous: nobody waits for the answer */
    /* The answer, kept until it can be sent. */
    bool have_result;
    int fn_error;
    char *content_type;
    struct ld_buf result;
    struct ld_buf tail_log; /* the last TAIL_BYTES of this invoke's log */
    bool streaming;
    bool stream_too_large;
    struct pending *next;
};

struct emu {
    struct event_base *base;
    struct options opt;
    char exe[PATH_MAX];
    char task_root[PATH_MAX];
    char bootstrap[PATH_MAX];
    char log_stream[160];
    char log_group[300];
    char arn[512];
    bool sandboxed;
    struct view view;
    struct sandbox_seccomp seccomp; /* built once, for every environment */
    bool have_seccomp;
    struct cgroup_system *cgsys; /* sandboxed: our groups, one per environment */
    struct event *freeze_ev;     /* freezes the environment once it has been idle */
    struct http_server *http;
    struct environment *env;
    struct envpool *pool; /* a spare environment, ready for the next start */
    struct pending *queue, *queue_tail; /* waiting to be sent to init */
    /* Sent, INVOKE_DONE not yet received, oldest first. At most two: the next
     * invoke goes to init as soon as the current one is answered, so that the
     * runtime's next `next` finds it there. */
    struct pending *sent[2];
    size_t nsent;
    struct ld_buf logbuf;               /* log lines not yet written */
    struct event *log_ev;               /* writes logbuf after this loop turn's frames */
    bool stopping;
    int restarts;
};

/* --- logs --- */

static void flush_logs(struct emu *m)
{
    size_t off = 0;

    while (off < m->logbuf.len) {
        ssize_t n = write(STDERR_FILENO, m->logbuf.data + off, m->logbuf.len - off);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        off += (size_t) n;
    }
    ld_buf_reset(&m->logbuf);
}

static void tail_append(struct ld_buf *t, const void *p, size_t n)
{
    if (ld_buf_append(t, p, n) == 0 && t->len > TAIL_BYTES)
        ld_buf_consume(t, t->len - TAIL_BYTES);
}

static void on_log(struct emu *m, const struct ctl_frame *f)
{
    struct ctl_field text;

    if (ctl_get(f, CTL_T_TEXT, &text) < 0)
        return;
    ld_buf_append(&m->logbuf, text.p, text.len);
    ld_buf_append(&m->logbuf, "\n", 1);
    if (m->nsent && m->sent[0]->tail) {
        tail_append(&m->sent[0]->tail_log, text.p, text.len);
        tail_append(&m->sent[0]->tail_log, "\n", 1);
    }
}

/* --- invokes --- */

static void pending_free(struct pending *p)
{
    ld_buf_free(&p->payload);
    ld_buf_free(&p->result);
    ld_buf_free(&p->tail_log);
    free(p->client_context);
    free(p->trace_id);
    free(p->content_type);
    free(p);
}

static void reply_aws_error(struct http_req *req, int status, const char *type, const char *msg)
{
    char hdr[160], body[512];

    snprintf(hdr, sizeof hdr, "x-amzn-ErrorType: %s\r\n", type);
    snprintf(body, sizeof body, "{\"Type\":\"%s\",\"message\":\"%s\"}", status >= 500 ? "Service" : "User",
             msg);
    http_reply(req, status, "application/json", hdr, body, strlen(body));
}

static void answer(struct pending *p)
{
    char hdrs[TAIL_BYTES * 2 + 512];
    struct ld_text t;

    if (!p->req || !p->have_result)
        return;
    ld_text_init(&t, hdrs, sizeof hdrs - 1);
    ld_text_str(&t, "X-Amz-Executed-Version: $LATEST\r\nx-amzn-RequestId: ");
    ld_text_str(&t, p->request_id);
    ld_text_str(&t, "\r\n");
    if (p->fn_error)
        ld_text_str(&t, "X-Amz-Function-Error: Unhandled\r\n");
    if (p->tail) {
        char enc[TAIL_BYTES * 2];

        ld_base64_encode((const unsigned char *) p->tail_log.data, p->tail_log.len, enc);
        ld_text_str(&t, "X-Amz-Log-Result: ");
        ld_text_str(&t, enc);
        ld_text_str(&t, "\r\n");
    }
    hdrs[t.len] = '\0';
    http_reply(p->req, 200, p->content_type ? p->content_type : "application/json", hdrs,
               p->result.data, p->result.len);
    p->req = NULL;
}

/* An environment is frozen, as on Lambda, once it has been idle this long.
 * Freezing at once after every invoke would put a thaw (5 µs with the
 * cgroup module's anchor, 75 µs without) on the next invoke's critical path;
 * under load this delay never expires. */
#define FREEZE_AFTER_IDLE_US 50000

static void thaw(struct emu *m)
{
    event_del(m->freeze_ev);
    if (m->env && environment_thaw(m->env) < 0)
        fprintf(stderr, "lambdad emulate: could not thaw the environment\n");
}

static void freeze_when_idle(struct emu *m)
{
    struct timeval tv = {.tv_sec = 0, .tv_usec = FREEZE_AFTER_IDLE_US};

    if (m->env && environment_sandboxed(m->env) && !environment_frozen(m->env) && m->nsent == 0 && !m->queue && !m->stopping)
        event_add(m->freeze_ev, &tv);
}

static void on_freeze_ev(evutil_socket_t fd, short what, void *arg)
{
    struct emu *m = arg;

    (void) fd;
    (void) what;
    if (!m->env || m->nsent || m->queue || m->stopping)
        return;
    /* Everything in there waits in `next`: freezing loses nothing. */
    (void) environment_freeze(m->env);
    /* Idle: a good time to make the spare. */
    envpool_fill(m->pool);
}

static void send_next(struct emu *m)
{
    struct pending *p = m->queue;
    struct ctl_builder b;
    char trace[128], hex[25];
    struct ld_text t;
    uint64_t secs;
    int i;

    if (!p || !m->env || m->nsent == 2 || (m->nsent == 1 && !m->sent[0]->have_result))
        return;
    m->queue = p->next;
    if (!m->queue)
        m->queue_tail = NULL;
    p->next = NULL;
    if (!p->req && !p->event) {
        pending_free(p); /* its caller gave up while it waited */
        send_next(m);
        return;
    }
    thaw(m);
    m->sent[m->nsent++] = p;
    if (!p->trace_id) {
        /* X-Ray's form: Root=1-<8 hex: epoch s>-<24 hex>;Parent=<16 hex>. */
        ld_text_init(&t, trace, sizeof trace - 1);
        ld_text_str(&t, "Root=1-");
        secs = ld_wall_us() / 1000000u;
        for (i = 7; i >= 0; i--)
            hex[7 - i] = "0123456789abcdef"[(secs >> (4 * i)) & 15];
        ld_text_mem(&t, hex, 8);
        ld_text_str(&t, "-");
        ld_random_hex(hex, 24);
        ld_text_mem(&t, hex, 24);
        ld_text_str(&t, ";Parent=");
        ld_random_hex(hex, 16);
        ld_text_mem(&t, hex, 16);
        ld_text_str(&t, ";Sampled=0");
        trace[t.len] = '\0';
        p->trace_id = strdup(trace);
    }
    ctl_begin(&b, envctl_frame(environment_ctl(m->env)), CTL_INVOKE);
    ctl_put_str(&b, CTL_T_REQUEST_ID, p->request_id);
    ctl_put_u64(&b, CTL_T_DEADLINE_MS, ld_wall_ms() + m->opt.timeout_ms);
    ctl_put_str(&b, CTL_T_INVOKED_ARN, m->arn);
    ctl_put_str(&b, CTL_T_TRACE_ID, p->trace_id);
    ctl_put_str(&b, CTL_T_CLIENT_CONTEXT, p->client_context);
    ctl_put_str(&b, CTL_T_CONTENT_TYPE, "application/json");
    ctl_put(&b, CTL_T_PAYLOAD, p->payload.data, p->payload.len);
    if (ctl_end(&b) == 0)
        envctl_send(environment_ctl(m->env));
}

static struct pending *sent_by_id(struct emu *m, const struct ctl_frame *f)
{
    struct ctl_field id;
    size_t i;

    if (ctl_get(f, CTL_T_REQUEST_ID, &id) < 0)
        return m->nsent ? m->sent[0] : NULL;
    for (i = 0; i < m->nsent; i++)
        if (strlen(m->sent[i]->request_id) == id.len && memcmp(m->sent[i]->request_id, id.p, id.len) == 0)
            return m->sent[i];
    return NULL;
}

static void set_result(struct pending *p, const struct ctl_frame *f)
{
    struct ctl_field fld;
    uint64_t st = 0;

    ctl_get_u64(f, CTL_T_STATUS, &st);
    p->fn_error = st != 0;
    free(p->content_type);
    p->content_type = ctl_get_strdup(f, CTL_T_CONTENT_TYPE);
    ld_buf_reset(&p->result);
    if (ctl_get(f, CTL_T_PAYLOAD, &fld) == 0)
        ld_buf_append(&p->result, fld.p, fld.len);
    p->have_result = true;
}

static void on_stream(struct pending *p, const struct ctl_frame *f)
{
    struct ctl_field fld;

    /* The caller of plain Invoke gets a streamed answer whole, up to the
     * buffered limit, as Lambda buffers it for such callers. */
    if (f->type == CTL_STREAM_BEGIN) {
        p->streaming = true;
        free(p->content_type);
        p->content_type = ctl_get_strdup(f, CTL_T_CONTENT_TYPE);
    } else if (f->type == CTL_STREAM_DATA && ctl_get(f, CTL_T_PAYLOAD, &fld) == 0) {
        if (p->result.len + fld.len > MAX_BUFFERED_RESPONSE)
            p->stream_too_large = true;
        else
            ld_buf_append(&p->result, fld.p, fld.len);
    } else if (f->type == CTL_STREAM_END) {
        uint64_t st = 0;
        char *etype = ctl_get_strdup(f, CTL_T_ERROR_TYPE);

        ctl_get_u64(f, CTL_T_STATUS, &st);
        if (st || p->stream_too_large) {
            ld_buf_reset(&p->result);
            if (ctl_get(f, CTL_T_PAYLOAD, &fld) == 0 && fld.len)
                ld_buf_append(&p->result, fld.p, fld.len);
            else
                ld_buf_printf(&p->result, "{\"errorType\":\"%s\",\"errorMessage\":\"%s\"}",
                              p->stream_too_large ? "Function.ResponseSizeTooLarge"
                                                  : (etype ? etype : "Runtime.Unknown"),
                              p->stream_too_large ? "Response payload size exceeded maximum allowed "
                                                    "payload size (6291556 bytes)."
                                                  : "The function's response stream failed");
            free(p->content_type);
            p->content_type = strdup("application/json");
            p->fn_error = 1;
        }
        free(etype);
        p->have_result = true;
    }
}

static void on_frame(void *arg, const struct ctl_frame *f)
{
    struct emu *m = arg;
    struct pending *p;
    uint64_t reset = 0;

    switch (f->type) {
    case CTL_LOG:
        on_log(m, f);
        break;
    case CTL_RESULT:
        if ((p = sent_by_id(m, f))) {
            set_result(p, f);
            if (!p->tail)
                answer(p);
            send_next(m);
        }
        break;
    case CTL_STREAM_BEGIN:
    case CTL_STREAM_DATA:
    case CTL_STREAM_END:
        if ((p = sent_by_id(m, f))) {
            on_stream(p, f);
            if (p->have_result && !p->tail)
                answer(p);
            if (p->have_result)
                send_next(m);
        }
        break;
    case CTL_INVOKE_DONE:
        ctl_get_u64(f, CTL_T_RESET, &reset);
        if (m->nsent == 0)
            break;
        p = m->sent[0];
        m->sent[0] = m->sent[1];
        m->sent[1] = NULL;
        m->nsent--;
        if (!p->have_result) {
            /* init always answers before DONE; should it not, say so. */
            ld_buf_printf(&p->result, "{\"errorType\":\"Runtime.Unknown\",\"errorMessage\":"
                                      "\"RequestId: %s Error: no response\"}",
                          p->request_id);
            p->fn_error = 1;
            p->have_result = true;
        }
        answer(p);
        pending_free(p);
        send_next(m);
        freeze_when_idle(m);
        break;
    case CTL_INIT_DONE:
        freeze_when_idle(m);
        break;
    case CTL_EXITING:
    default:
        break;
    }
    /* Logs are written in batches, off the callers' path: a write per
     * line would cost the warm invoke more than the rest of emulate does. */
    if (m->logbuf.len >= 65536) {
        flush_logs(m);
    } else if (m->logbuf.len && !event_pending(m->log_ev, EV_TIMEOUT, NULL)) {
        struct timeval tv = {.tv_sec = 0, .tv_usec = 5000};

        event_add(m->log_ev, &tv);
    }
}

static void on_log_ev(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    flush_logs(arg);
}

static int start_env(struct emu *m);

/* Decides sandboxed or not, and how paths look to the function. */
static int choose_view(struct emu *m)
{
    struct view *v = &m->view;
    size_t tl = strlen(m->task_root);
    struct ld_err err;

    m->sandboxed = !m->opt.no_sandbox && geteuid() == 0;
    if (!m->sandboxed) {
        if (!m->opt.no_sandbox)
            fprintf(stderr,
                    "lambdad emulate: not root, so no sandbox: the function runs as your user, "
                    "sees the host's files, processes and network, and its memory, CPU and "
                    "process count are not limited (--no-sandbox silences this)\n");
        v->task_root = m->task_root;
        v->extensions_dir = m->opt.extensions_dir;
        v->rapi_addr = "127.0.0.1:0"; /* any free port on the shared loopback */
        snprintf(v->bootstrap, sizeof v->bootstrap, "%s", m->bootstrap);
        return 0;
    }
    if (sandbox_prepare_host(&err) < 0 || seccomp_build(&m->seccomp, &err) < 0) {
        fprintf(stderr, "lambdad emulate: %s\n", err.msg);
        return -1;
    }
    m->have_seccomp = true;
    v->task_root = "/var/task";
    v->extensions_dir = "/opt/extensions";
    v->rapi_addr = "127.0.0.1:9001";
    /* Only the task root and the host's /usr tree are seen inside. */
    if (strncmp(m->bootstrap, m->task_root, tl) == 0 && m->bootstrap[tl] == '/') {
        snprintf(v->bootstrap, sizeof v->bootstrap, "/var/task%s", m->bootstrap + tl);
    } else if (strncmp(m->bootstrap, "/usr/", 5) == 0 || strncmp(m->bootstrap, "/bin/", 5) == 0 ||
               strncmp(m->bootstrap, "/sbin/", 6) == 0) {
        snprintf(v->bootstrap, sizeof v->bootstrap, "%s", m->bootstrap);
    } else {
        fprintf(stderr,
                "lambdad emulate: %s is outside the task root (%s) and would not be seen inside "
                "the sandbox: put it in the task root, or use --no-sandbox\n",
                m->bootstrap, m->task_root);
        return -1;
    }
    return 0;
}

static void on_env_exit(void *arg, int status)
{
    struct emu *m = arg;
    size_t i;

    flush_logs(m);
    environment_free(m->env);
    m->env = NULL;
    if (m->stopping) {
        event_base_loopexit(m->base, NULL);
        return;
    }
    fprintf(stderr, "lambdad emulate: the environment's init exited unexpectedly (status %d)\n", status);
    for (i = 0; i < m->nsent; i++) {
        struct pending *p = m->sent[i];

        if (p->req && !p->have_result)
            reply_aws_error(p->req, 500, "ServiceException", "The execution environment failed");
        answer(p);
        pending_free(p);
        m->sent[i] = NULL;
    }
    m->nsent = 0;
    if (++m->restarts > 5 || start_env(m) < 0)
        event_base_loopexit(m->base, NULL);
}

static const struct envctl_ops env_ops = {
    .on_frame = on_frame,
    .on_exit = on_env_exit,
};

/* The cpulist for the environment, or -1 to leave it unconfined. */
static int environment_cpus(const struct emu *m, char *buf, size_t cap)
{
    cpu_set_t allowed, env;

    if (m->opt.cpus && strcmp(m->opt.cpus, "all") == 0)
        return -1;
    if (m->opt.cpus)
        return snprintf(buf, cap, "%s", m->opt.cpus) < (int) cap ? 0 : -1;
    if (sched_getaffinity(0, sizeof allowed, &allowed) < 0 ||
        ld_cpus_for_memory(&allowed, m->opt.memory_mb, &env) < 0)
        return -1;
    return ld_cpus_format(&env, buf, cap);
}

static int start_env(struct emu *m)
{
    const struct environment_host host = {
        .base = m->base,
        .exe = m->exe,
        .cgsys = m->sandboxed ? m->cgsys : NULL,
        .seccomp = m->have_seccomp ? &m->seccomp : NULL,
    };
    struct environment_config c = {
        .function_name = m->opt.function_name,
        .function_version = "$LATEST",
        .handler = m->opt.handler,
        .runtime_id = m->opt.runtime_id,
        .region = m->opt.region,
        .account_id = "000000000000",
        .log_group = m->log_group,
        .log_stream = m->log_stream,
        .init_type = "on-demand",
        .memory_mb = (uint32_t) m->opt.memory_mb,
        .timeout_ms = m->opt.timeout_ms,
        .init_timeout_ms = m->opt.init_timeout_ms,
        .env = m->opt.env,
        .envc = m->opt.envc,
        .task_root = m->view.task_root,
        .extensions_dir = m->view.extensions_dir,
        .rapi_addr = m->view.rapi_addr,
        .mounts = {.task_dir = m->task_root, .extensions_dir = m->opt.extensions_dir, .tmp_mb = 512},
        .hostname = "localhost",
    };
    char *argv[66];
    char cpus[256];
    struct environment *e;
    struct ld_err err;
    size_t i;

    if ((size_t) m->opt.argc > 64) {
        fprintf(stderr, "lambdad emulate: too many bootstrap arguments\n");
        return -1;
    }
    argv[0] = m->view.bootstrap;
    for (i = 1; i < (size_t) m->opt.argc; i++)
        argv[i] = m->opt.argv[i];
    c.argv = argv;
    c.argc = m->opt.argc > 0 ? (size_t) m->opt.argc : 1;
    if (environment_cpus(m, cpus, sizeof cpus) == 0)
        c.cpus = cpus;
    event_del(m->freeze_ev);
    /* A blank environment from the pool when one is ready (after a crash,
     * say), else one made now; then it gets the function. The pool makes the
     * next spare once this one is idle (freeze_when_idle). */
    if (!m->pool && !(m->pool = envpool_new(&host, "env", 1))) {
        fprintf(stderr, "lambdad emulate: out of memory\n");
        return -1;
    }
    e = envpool_take(m->pool);
    if (!e && envpool_prepare_now(m->pool, &e, &err) < 0) {
        fprintf(stderr, "lambdad emulate: %s\n", err.msg);
        return -1;
    }
    if (environment_assign(e, &c, &env_ops, m, &err) < 0) {
        fprintf(stderr, "lambdad emulate: %s\n", err.msg);
        environment_free(e);
        return -1;
    }
    m->env = e;
    return 0;
}

/* --- the invoke frontend --- */

/* X-Amz-Client-Context: base64 of a JSON object, handed on decoded. NULL when
 * it is not one (or is too long): the caller gets a 400. */
static char *client_context(const char *b64)
{
    size_t l = strlen(b64);
    unsigned char *dec;
    json_t *doc;
    long n;

    if (l > (size_t) (MAX_CLIENT_CONTEXT + 2) / 3 * 4 || !(dec = malloc(l / 4 * 3 + 4)))
        return NULL;
    n = ld_base64_decode(b64, l, dec);
    doc = n > 0 ? json_loadb((const char *) dec, (size_t) n, 0, NULL) : NULL;
    /* Compact it: it becomes one header line for the runtime. */
    if (!json_is_object(doc)) {
        json_decref(doc);
        free(dec);
        return NULL;
    }
    free(dec);
    dec = (unsigned char *) json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(doc);
    return (char *) dec;
}

static void on_request(struct http_req *req, void *arg)
{
    struct emu *m = arg;
    const struct http_head *h = http_req_head(req);
    char itype[64], ltype[32], cc64[8192], trace[512];
    const char *path;
    size_t pl;
    struct pending *p;

    path = http_req_path(req, &pl);
    if (!(pl > 32 && memcmp(path, "/2015-03-31/functions/", 22) == 0 &&
          memcmp(path + pl - 12, "/invocations", 12) == 0)) {
        reply_aws_error(req, 404, "ResourceNotFoundException", "Unknown path");
        return;
    }
    if (!(h->method_len == 4 && memcmp(h->method, "POST", 4) == 0)) {
        reply_aws_error(req, 405, "MethodNotAllowedException", "Use POST to invoke");
        return;
    }
    if (http_req_truncated(req))
        return; /* the caller is gone mid-body; the connection closes */
    if (http_req_too_large(req)) {
        reply_aws_error(req, 413, "RequestTooLargeException",
                        "Request must be smaller than 6291456 bytes for the InvokeFunction operation");
        return;
    }
    if (http_req_header(req, "X-Amz-Invocation-Type", itype, sizeof itype)) {
        if (strcmp(itype, "DryRun") == 0) {
            http_reply(req, 204, NULL, NULL, NULL, 0);
            return;
        }
        if (strcmp(itype, "Event") != 0 && strcmp(itype, "RequestResponse") != 0) {
            reply_aws_error(req, 400, "InvalidParameterValueException",
                            "Invalid invocation type: must be RequestResponse, Event or DryRun");
            return;
        }
    } else {
        itype[0] = '\0';
    }
    p = calloc(1, sizeof *p);
    if (!p) {
        reply_aws_error(req, 500, "ServiceException", "Out of memory");
        return;
    }
    if (http_req_header(req, "X-Amz-Client-Context", cc64, sizeof cc64)) {
        p->client_context = client_context(cc64);
        if (!p->client_context) {
            pending_free(p);
            reply_aws_error(req, 400, "InvalidRequestContentException",
                            "Client context must be a valid Base64-encoded JSON object.");
            return;
        }
    }
    if (http_req_header(req, "X-Amzn-Trace-Id", trace, sizeof trace) && !strpbrk(trace, "\r\n"))
        p->trace_id = strdup(trace);
    p->tail = http_req_header(req, "X-Amz-Log-Type", ltype, sizeof ltype) && strcmp(ltype, "Tail") == 0;
    ld_uuid_v4(p->request_id);
    if (http_req_body(req)->len)
        ld_buf_append(&p->payload, http_req_body(req)->data, http_req_body(req)->len);
    if (strcmp(itype, "Event") == 0 && http_req_body(req)->len > MAX_EVENT_BYTES) {
        pending_free(p);
        reply_aws_error(req, 413, "RequestTooLargeException",
                        "Request must be smaller than 1048576 bytes for the InvokeFunction operation");
        return;
    }
    if (strcmp(itype, "Event") == 0) {
        char hdr[96];

        p->event = true;
        p->tail = false;
        snprintf(hdr, sizeof hdr, "x-amzn-RequestId: %s\r\n", p->request_id);
        http_reply(req, 202, NULL, hdr, NULL, 0);
    } else {
        p->req = req;
        http_req_set_user(req, p);
    }
    if (m->queue_tail)
        m->queue_tail->next = p;
    else
        m->queue = p;
    m->queue_tail = p;
    send_next(m);
}

static void on_gone(struct http_req *req, void *arg)
{
    struct pending *p = http_req_user(req);

    (void) arg;
    if (p)
        p->req = NULL;
}

static const struct http_server_ops http_ops = {
    .on_request = on_request,
    .on_gone = on_gone,
};

/* --- start-up --- */

static void usage(FILE *out)
{
    fprintf(out,
            "usage: lambdad emulate [options] -- BOOTSTRAP [ARGS...]\n"
            "Runs one function in one execution environment and serves\n"
            "POST /2015-03-31/functions/function/invocations, like AWS's emulator.\n\n"
            "  --listen HOST:PORT      where callers invoke (default 127.0.0.1:8080)\n"
            "  --timeout SECONDS       function timeout, 1-900 (default 3)\n"
            "  --memory MB             memory size, 128-10240 (default 128)\n"
            "  --handler NAME          the function's handler (_HANDLER)\n"
            "  --task-root DIR         the function's code (default: current directory)\n"
            "  --function-name NAME    (default function)\n"
            "  --runtime ID            runtime identifier, e.g. provided.al2023, nodejs20.x\n"
            "  --env NAME=VALUE        a function environment variable (repeatable)\n"
            "  --extensions-dir DIR    external extensions (default /opt/extensions)\n"
            "  --init-timeout SECONDS  INIT phase limit (default 10)\n"
            "  --region REGION         (default us-east-1, or AWS_REGION)\n"
            "  --cpus LIST|all         CPUs of the environment (default: one per 1769 MB\n"
            "                          of memory, at least one, as Lambda gives)\n"
            "  --no-sandbox            run init and the function as plain processes\n"
            "                          (the default when not root)\n");
}

static int parse_seconds(const char *s, uint64_t lo, uint64_t hi, uint64_t *out_ms)
{
    char *end;
    double v = strtod(s, &end);

    if (end == s || *end || v < (double) lo || v > (double) hi)
        return -1;
    *out_ms = (uint64_t) (v * 1000.0 + 0.5);
    return 0;
}

static bool name_valid(const char *s)
{
    size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_");

    return n > 0 && n <= 64 && s[n] == '\0';
}

static int parse_options(struct options *o, int argc, char **argv)
{
    enum { O_LISTEN = 1, O_TIMEOUT, O_MEMORY, O_HANDLER, O_TASK_ROOT, O_NAME, O_ENV, O_EXT,
           O_INIT_TIMEOUT, O_RUNTIME, O_REGION, O_CPUS, O_NO_SANDBOX, O_HELP };
    static const struct option longs[] = {
        {"listen", required_argument, NULL, O_LISTEN},
        {"timeout", required_argument, NULL, O_TIMEOUT},
        {"memory", required_argument, NULL, O_MEMORY},
        {"handler", required_argument, NULL, O_HANDLER},
        {"task-root", required_argument, NULL, O_TASK_ROOT},
        {"function-name", required_argument, NULL, O_NAME},
        {"env", required_argument, NULL, O_ENV},
        {"extensions-dir", required_argument, NULL, O_EXT},
        {"init-timeout", required_argument, NULL, O_INIT_TIMEOUT},
        {"runtime", required_argument, NULL, O_RUNTIME},
        {"region", required_argument, NULL, O_REGION},
        {"cpus", required_argument, NULL, O_CPUS},
        {"no-sandbox", no_argument, NULL, O_NO_SANDBOX},
        {"help", no_argument, NULL, O_HELP},
        {NULL, 0, NULL, 0},
    };
    int c;
    uint64_t mem;
    char *end;

    o->listen = "127.0.0.1:8080";
    o->handler = "";
    o->task_root = ".";
    o->function_name = "function";
    o->extensions_dir = "/opt/extensions";
    o->runtime_id = "";
    o->region = getenv("AWS_REGION") ? getenv("AWS_REGION") : "us-east-1";
    o->timeout_ms = 3000;
    o->init_timeout_ms = 10000;
    o->memory_mb = 128;
    o->env = calloc((size_t) argc + 4, sizeof *o->env);
    if (!o->env)
        return -1;
    optind = 1;
    while ((c = getopt_long(argc, argv, "+h", longs, NULL)) != -1) {
        switch (c) {
        case O_LISTEN: o->listen = optarg; break;
        case O_HANDLER: o->handler = optarg; break;
        case O_TASK_ROOT: o->task_root = optarg; break;
        case O_NAME: o->function_name = optarg; break;
        case O_EXT: o->extensions_dir = optarg; break;
        case O_RUNTIME: o->runtime_id = optarg; break;
        case O_REGION: o->region = optarg; break;
        case O_NO_SANDBOX: o->no_sandbox = true; break;
        case O_CPUS: {
            cpu_set_t set;

            if (strcmp(optarg, "all") != 0 && ld_cpus_parse(optarg, &set) < 0) {
                fprintf(stderr, "lambdad emulate: --cpus wants a list like 0-1,3 or 'all'\n");
                return -1;
            }
            o->cpus = optarg;
            break;
        }
        case O_TIMEOUT:
            if (parse_seconds(optarg, 1, 900, &o->timeout_ms) < 0) {
                fprintf(stderr, "lambdad emulate: --timeout must be 1-900 seconds\n");
                return -1;
            }
            break;
        case O_INIT_TIMEOUT:
            if (parse_seconds(optarg, 1, 900, &o->init_timeout_ms) < 0) {
                fprintf(stderr, "lambdad emulate: --init-timeout must be 1-900 seconds\n");
                return -1;
            }
            break;
        case O_MEMORY:
            mem = strtoull(optarg, &end, 10);
            if (*end || mem < 128 || mem > 10240) {
                fprintf(stderr, "lambdad emulate: --memory must be 128-10240 MB\n");
                return -1;
            }
            o->memory_mb = mem;
            break;
        case O_ENV:
            if (!strchr(optarg, '=') || optarg[0] == '=') {
                fprintf(stderr, "lambdad emulate: --env wants NAME=VALUE, got %s\n", optarg);
                return -1;
            }
            o->env[o->envc++] = optarg;
            break;
        case O_HELP:
        case 'h':
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            return -1;
        }
    }
    if (!name_valid(o->function_name)) {
        fprintf(stderr, "lambdad emulate: --function-name must be 1-64 of [a-zA-Z0-9-_]\n");
        return -1;
    }
    if (optind >= argc) {
        fprintf(stderr, "lambdad emulate: missing BOOTSTRAP after --\n");
        usage(stderr);
        return -1;
    }
    o->argv = argv + optind;
    o->argc = argc - optind;
    return 0;
}

/* A relative bootstrap lives in the task root; a bare name may also be a
 * program on PATH (`-- node index.js`). */
static bool path_join(char *out, size_t cap, const char *dir, size_t dir_len, const char *name)
{
    int n = snprintf(out, cap, "%.*s/%s", (int) dir_len, dir, name);

    return n > 0 && (size_t) n < cap;
}

static int find_bootstrap(struct emu *m)
{
    const char *b = m->opt.argv[0];
    const char *path = getenv("PATH");
    char cand[PATH_MAX];

    if (b[0] == '/') {
        if (strlen(b) >= sizeof m->bootstrap)
            return -1;
        memcpy(m->bootstrap, b, strlen(b) + 1);
        return 0;
    }
    if (!path_join(m->bootstrap, sizeof m->bootstrap, m->task_root, strlen(m->task_root), b))
        return -1;
    if (access(m->bootstrap, X_OK) == 0 || strchr(b, '/'))
        return 0;
    while (path && *path) {
        const char *colon = strchr(path, ':');
        size_t l = colon ? (size_t) (colon - path) : strlen(path);

        if (l && path_join(cand, sizeof cand, path, l, b) && access(cand, X_OK) == 0) {
            memcpy(m->bootstrap, cand, strlen(cand) + 1);
            return 0;
        }
        path = colon ? colon + 1 : NULL;
    }
    return 0; /* not found: INIT will say so, as Lambda does */
}

/* Our own parent group, named after the port: a crashed emulate's leftovers
 * on the same port are swept, and two emulates never sweep each other. */
static int open_cgroups(struct emu *m)
{
    struct ld_err err;
    char name[64];

    snprintf(name, sizeof name, "lambdad-emulate-%d", http_server_port(m->http));
    if (cgroup_favor_dynmods(CGROUP_FAVOR_MOUNT, &err) < 0)
        fprintf(stderr, "lambdad emulate: warning: %s: starting an environment may take 10 ms "
                        "longer\n", err.msg);
    if (cgroup_system_open(&m->cgsys, name, &err) < 0) {
        fprintf(stderr, "lambdad emulate: %s\n", err.msg);
        return -1;
    }
    return 0;
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    struct emu *m = arg;
    struct ctl_builder b;

    (void) what;
    if (m->stopping || !m->env) {
        if (m->env)
            envctl_kill(environment_ctl(m->env), SIGKILL);
        event_base_loopexit(m->base, NULL);
        return;
    }
    (void) sig;
    thaw(m); /* SHUTDOWN must reach a running environment */
    m->stopping = true;
    ctl_begin(&b, envctl_frame(environment_ctl(m->env)), CTL_SHUTDOWN);
    if (ctl_end(&b) == 0)
        envctl_send(environment_ctl(m->env));
}

int emulate_main(int argc, char **argv)
{
    struct emu m;
    struct ld_err err;
    struct event *sigterm = NULL, *sigint = NULL;
    struct tm tm;
    time_t now = time(NULL);
    char hex[33];
    ssize_t n;
    int rc = 1;

    memset(&m, 0, sizeof m);
    if (parse_options(&m.opt, argc, argv) < 0) {
        rc = 2;
        goto out;
    }
    n = readlink("/proc/self/exe", m.exe, sizeof m.exe - 1);
    if (n <= 0) {
        perror("lambdad emulate: /proc/self/exe");
        goto out;
    }
    m.exe[n] = '\0';
    if (!realpath(m.opt.task_root, m.task_root)) {
        fprintf(stderr, "lambdad emulate: task root %s: %s\n", m.opt.task_root, strerror(errno));
        goto out;
    }
    if (find_bootstrap(&m) < 0) {
        fprintf(stderr, "lambdad emulate: bootstrap path too long\n");
        rc = 2;
        goto out;
    }
    if (choose_view(&m) < 0) {
        rc = 2;
        goto out;
    }
    /* Like the RIE, pass the caller's credentials on to the function. */
    {
        static const char *const creds[] = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                                            "AWS_SESSION_TOKEN"};
        static char kv[3][2048];
        size_t i;

        for (i = 0; i < 3; i++) {
            const char *v = getenv(creds[i]);
            size_t j;
            bool given = false;

            for (j = 0; j < m.opt.envc; j++)
                if (strncmp(m.opt.env[j], creds[i], strlen(creds[i])) == 0 &&
                    m.opt.env[j][strlen(creds[i])] == '=')
                    given = true;
            if (v && !given) {
                snprintf(kv[i], sizeof kv[i], "%s=%s", creds[i], v);
                /* Function variables come later and win. */
                memmove(m.opt.env + 1, m.opt.env, m.opt.envc * sizeof *m.opt.env);
                m.opt.env[0] = kv[i];
                m.opt.envc++;
            }
        }
    }
    gmtime_r(&now, &tm);
    ld_random_hex(hex, 32);
    snprintf(m.log_group, sizeof m.log_group, "/aws/lambda/%s", m.opt.function_name);
    snprintf(m.log_stream, sizeof m.log_stream, "%04u/%02u/%02u/[$LATEST]%s",
             (unsigned) (tm.tm_year + 1900) % 10000u, (unsigned) (tm.tm_mon + 1) % 100u,
             (unsigned) tm.tm_mday % 100u, hex);
    snprintf(m.arn, sizeof m.arn, "arn:aws:lambda:%.64s:000000000000:function:%.64s", m.opt.region,
             m.opt.function_name);

    signal(SIGPIPE, SIG_IGN);
    m.base = event_base_new();
    m.http = m.base ? http_server_new(m.base, &http_ops, &m, MAX_REQUEST_BYTES) : NULL;
    m.log_ev = m.base ? event_new(m.base, -1, 0, on_log_ev, &m) : NULL;
    m.freeze_ev = m.base ? evtimer_new(m.base, on_freeze_ev, &m) : NULL;
    if (!m.http || !m.log_ev || !m.freeze_ev) {
        fprintf(stderr, "lambdad emulate: out of memory\n");
        goto out;
    }
    if (http_server_listen(m.http, m.opt.listen, &err) < 0) {
        fprintf(stderr, "lambdad emulate: %s\n", err.msg);
        goto out;
    }
    sigterm = evsignal_new(m.base, SIGTERM, on_signal, &m);
    sigint = evsignal_new(m.base, SIGINT, on_signal, &m);
    if (!sigterm || !sigint)
        goto out;
    event_add(sigterm, NULL);
    event_add(sigint, NULL);
    if (m.sandboxed && open_cgroups(&m) < 0)
        goto out;
    if (start_env(&m) < 0)
        goto out;
    event_base_dispatch(m.base);
    flush_logs(&m);
    rc = 0;
out:
    environment_free(m.env);
    envpool_free(m.pool);
    if (m.cgsys)
        cgroup_system_close(m.cgsys);
    http_server_free(m.http);
    while (m.queue) {
        struct pending *p = m.queue;

        m.queue = p->next;
        pending_free(p);
    }
    while (m.nsent)
        pending_free(m.sent[--m.nsent]);
    flush_logs(&m);
    if (m.have_seccomp)
        seccomp_fini(&m.seccomp);
    ld_buf_free(&m.logbuf);
    if (m.log_ev)
        event_free(m.log_ev);
    if (m.freeze_ev)
        event_free(m.freeze_ev);
    free(m.opt.env);
    if (sigterm)
        event_free(sigterm);
    if (sigint)
        event_free(sigint);
    if (m.base)
        event_base_free(m.base);
    return rc;
}
