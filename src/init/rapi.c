/* init/rapi.c: the Runtime API (2018-06-01) as runtimes see it.
 *
 * Answers in RIE's exact words and statuses (spec/runtime-api.md), because
 * the runtime clients exit on anything unexpected. `next` is parked until an
 * invoke arrives and never timed out. A buffered response is capped at
 * 6 MiB + 100 bytes; a streamed one is passed on to the parent piece by piece
 * as it arrives. State decisions are made in phases.c. */
#include <event2/event.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/base64.h"
#include "common/http_server.h"
#include "common/text.h"
#include "init/init-internal.h"
#include "init/routes.h"

#define STATUS_OK "{\"status\":\"OK\"}"

static void reply_error(struct http_req *req, int status, const char *type, const char *msg)
{
    char body[512];

    snprintf(body, sizeof body, "{\"errorMessage\":\"%s\",\"errorType\":\"%s\"}", msg, type);
    http_reply_json(req, status, body);
}

static void reply_transition(struct http_req *req, const char *from, const char *to)
{
    char body[512];

    snprintf(body, sizeof body,
             "{\"errorType\":\"InvalidStateTransition\",\"errorMessage\":\"State transition from "
             "%s to %s failed for runtime. Error: State transition is not allowed\"}",
             from, to);
    http_reply_json(req, 403, body);
}

static const char *rt_state_name(const struct env *e)
{
    switch (e->rt) {
    case RT_STARTED: return "RuntimeStartedState";
    case RT_READY:
    case RT_INVOKED: return "RuntimeReadyState";
    case RT_RESPONDED: return "RuntimeResponseSentState";
    case RT_INIT_ERROR: return "RuntimeInitErrorState";
    case RT_NONE:
    default: return "RuntimeStartedState";
    }
}

/* RIE's normalisation of Lambda-Runtime-Function-Error-Type: kept when it
 * reads Runtime.Xxx or Function.Xxx, else collapsed to an Unknown. */
static void normalize_error_type(const char *in, char *out, size_t cap)
{
    const char *dot = in ? strchr(in, '.') : NULL;
    bool ok = false;

    if (dot && (strncmp(in, "Runtime.", 8) == 0 || strncmp(in, "Function.", 9) == 0) &&
        dot[1] >= 'A' && dot[1] <= 'Z') {
        const char *p;

        ok = true;
        for (p = dot + 2; *p; p++)
            if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
                ok = false;
    }
    if (ok)
        snprintf(out, cap, "%s", in);
    else if (in && strncmp(in, "Function.", 9) == 0)
        snprintf(out, cap, "Function.Unknown");
    else
        snprintf(out, cap, "Runtime.Unknown");
}

static bool header_safe(const char *v)
{
    return v && !strpbrk(v, "\r\n");
}

/* A header the runtime gets only when it has a value (an empty one is
 * omitted, as AWS does) that cannot break the head, and only whole. */
static void add_header(struct ld_text *t, const char *name_colon, const char *value)
{
    if (!value || !value[0] || !header_safe(value) ||
        strlen(name_colon) + strlen(value) + 2 > t->cap - t->len)
        return;
    ld_text_str(t, name_colon);
    ld_text_str(t, value);
    ld_text_str(t, "\r\n");
}

void rapi_deliver_invoke(struct env *e)
{
    struct invoke *v = &e->inv;
    char hdrs[8192];
    struct ld_text t;

    ld_text_init(&t, hdrs, sizeof hdrs - 1); /* room for the NUL */
    ld_text_str(&t, "Lambda-Runtime-Aws-Request-Id: ");
    ld_text_str(&t, v->request_id);
    ld_text_str(&t, "\r\nLambda-Runtime-Deadline-Ms: ");
    ld_text_u64(&t, v->deadline_ms);
    ld_text_str(&t, "\r\nLambda-Runtime-Invoked-Function-Arn: ");
    ld_text_str(&t, v->arn ? v->arn : "");
    ld_text_str(&t, "\r\n");
    add_header(&t, "Lambda-Runtime-Trace-Id: ", v->trace_id);
    add_header(&t, "Lambda-Runtime-Client-Context: ", v->client_context);
    add_header(&t, "Lambda-Runtime-Cognito-Identity: ", v->cognito);
    hdrs[t.len] = '\0';
    http_reply(e->rt_parked, 200,
               v->content_type && header_safe(v->content_type) ? v->content_type : "application/json",
               hdrs, v->payload.data, v->payload.len);
    e->rt_parked = NULL;
}

static bool is_current(const struct env *e, const struct route *r)
{
    return e->inv.active && e->inv.delivered && strlen(e->inv.request_id) == r->request_id_len &&
           memcmp(e->inv.request_id, r->request_id, r->request_id_len) == 0;
}

/* --- streamed responses --- */

static void stream_frame(struct env *e, enum ctl_type type, const void *p, size_t n)
{
    struct ctl_builder b;

    ctl_begin(&b, &e->frame, type);
    ctl_put_str(&b, CTL_T_REQUEST_ID, e->inv.request_id);
    if (p)
        ctl_put(&b, CTL_T_PAYLOAD, p, n);
    if (ctl_end(&b) == 0)
        env_send_frame_now(e);
}

static void stream_end(struct env *e, const char *error_type, const char *body, size_t len)
{
    struct ctl_builder b;

    ctl_begin(&b, &e->frame, CTL_STREAM_END);
    ctl_put_str(&b, CTL_T_REQUEST_ID, e->inv.request_id);
    ctl_put_u64(&b, CTL_T_STATUS, error_type ? CTL_FUNCTION_ERROR : CTL_OK);
    ctl_put_str(&b, CTL_T_ERROR_TYPE, error_type);
    if (body)
        ctl_put(&b, CTL_T_PAYLOAD, body, len);
    if (ctl_end(&b) == 0)
        env_send_frame_now(e);
    if (error_type)
        snprintf(e->inv.error_type, sizeof e->inv.error_type, "%s", error_type);
    e->inv.answered = true;
    e->inv.streaming = false;
}

static void on_stream_data(void *arg, const char *p, size_t n)
{
    struct env *e = arg;
    char msg[160];

    if (!e->inv.streaming)
        return;
    if (e->inv.streamed + n > MAX_STREAM_BYTES) {
        int len = snprintf(msg, sizeof msg,
                           "{\"errorMessage\":\"Response payload size exceeded maximum allowed "
                           "payload size (%zu bytes).\",\"errorType\":\"Function.ResponseSizeTooLarge\"}",
                           MAX_STREAM_BYTES);
        stream_end(e, "Function.ResponseSizeTooLarge", msg, (size_t) len);
        return;
    }
    e->inv.streamed += n;
    stream_frame(e, CTL_STREAM_DATA, p, n);
}

void rapi_on_head(struct env *e, struct http_req *req)
{
    const struct http_head *h = http_req_head(req);
    char mode[32];
    struct route r;
    size_t pl;
    const char *path = http_req_path(req, &pl);

    routes_parse(h->method, h->method_len, path, pl, &r);
    if (r.kind >= ROUTE_EXT_REGISTER) {
        http_req_set_body_limit(req, 1u << 20);
        return;
    }
    if (r.kind != ROUTE_RT_RESPONSE || !is_current(e, &r) || e->rt != RT_INVOKED)
        return;
    if (!http_req_header(req, "Lambda-Runtime-Function-Response-Mode", mode, sizeof mode) ||
        strcmp(mode, "streaming") != 0)
        return;
    e->inv.streaming = true;
    e->inv.streamed = 0;
    http_req_set_user(req, e);
    http_req_stream_body(req, on_stream_data, e);
    {
        char ctype[256];
        struct ctl_builder b;

        ctl_begin(&b, &e->frame, CTL_STREAM_BEGIN);
        ctl_put_str(&b, CTL_T_REQUEST_ID, e->inv.request_id);
        ctl_put_str(&b, CTL_T_CONTENT_TYPE,
                    http_req_header(req, "Content-Type", ctype, sizeof ctype) ? ctype
                                                                             : "application/octet-stream");
        if (ctl_end(&b) == 0)
            env_send_frame_now(e);
    }
}

static void finish_stream(struct env *e, struct http_req *req)
{
    char type[256], *body64 = NULL;
    size_t cap = 65536;

    if (http_req_truncated(req)) {
        if (e->inv.streaming)
            stream_end(e, "Runtime.TruncatedResponse", NULL, 0);
        reply_error(req, 400, "TruncatedHTTPRequest", "HTTP request detected as truncated");
        phase_runtime_answered(e);
        return;
    }
    if (e->inv.streaming) {
        if (http_req_trailer(req, "Lambda-Runtime-Function-Error-Type", type, sizeof type)) {
            unsigned char *decoded = NULL;
            size_t dlen = 0;

            body64 = malloc(cap);
            if (body64 && http_req_trailer(req, "Lambda-Runtime-Function-Error-Body", body64, cap)) {
                size_t l = strlen(body64);

                decoded = malloc(l / 4 * 3 + 4);
                if (decoded) {
                    long n = ld_base64_decode(body64, l, decoded);

                    dlen = n > 0 ? (size_t) n : 0;
                }
            }
            stream_end(e, type, (const char *) decoded, dlen);
            free(decoded);
        } else {
            stream_end(e, NULL, NULL, 0);
        }
    }
    free(body64);
    http_reply_json(req, 202, STATUS_OK);
    phase_runtime_answered(e);
}

/* POST /runtime/invocation/{id}/response and /error. */
static void on_answer(struct env *e, struct http_req *req, const struct route *r, bool is_error)
{
    const struct ld_buf *body = http_req_body(req);
    char ctype[256], etype[256], norm[128], mode[64];
    const char *ct;

    if (http_req_user(req) == e) {
        finish_stream(e, req);
        return;
    }
    if (http_req_truncated(req)) {
        reply_error(req, 400, "TruncatedHTTPRequest", "HTTP request detected as truncated");
        return;
    }
    if (!is_current(e, r)) {
        reply_error(req, 400, "InvalidRequestID", "Invalid request ID");
        return;
    }
    if (e->rt != RT_INVOKED) {
        reply_transition(req, "RuntimeResponseSentState",
                         is_error ? "InvocationErrorResponse" : "InvocationResponse");
        return;
    }
    if (!is_error && http_req_header(req, "Lambda-Runtime-Function-Response-Mode", mode, sizeof mode) &&
        strcmp(mode, "streaming") != 0) {
        reply_error(req, 400, "InvalidFunctionResponseMode", "Invalid function response mode");
        phase_send_result(e, CTL_FUNCTION_ERROR, "application/json",
                          "{\"errorType\":\"Runtime.InvalidResponseModeHeader\",\"errorMessage\":"
                          "\"Invalid function response mode\"}",
                          sizeof "{\"errorType\":\"Runtime.InvalidResponseModeHeader\",\"errorMessage\":"
                                 "\"Invalid function response mode\"}" - 1,
                          "Runtime.InvalidResponseModeHeader");
        phase_runtime_answered(e);
        return;
    }
    if (http_req_too_large(req)) {
        char msg[256];
        int n = snprintf(msg, sizeof msg,
                         "{\"errorMessage\":\"Response payload size (%zu bytes) exceeded maximum "
                         "allowed payload size (%u bytes).\",\"errorType\":\"Function.ResponseSizeTooLarge\"}",
                         http_req_body_seen(req), MAX_RESPONSE_BYTES);

        reply_error(req, 413, "RequestEntityTooLarge",
                    "Exceeded maximum allowed payload size (6291556 bytes).");
        phase_send_result(e, CTL_FUNCTION_ERROR, "application/json", msg, (size_t) n,
                          "Function.ResponseSizeTooLarge");
        phase_runtime_answered(e);
        return;
    }
    ct = http_req_header(req, "Content-Type", ctype, sizeof ctype);
    if (!is_error) {
        phase_send_result(e, CTL_OK, ct ? ct : "application/json", body->data, body->len, NULL);
    } else {
        normalize_error_type(http_req_header(req, "Lambda-Runtime-Function-Error-Type", etype,
                                             sizeof etype),
                             norm, sizeof norm);
        if (ct && strcasecmp(ct, "application/vnd.aws.lambda.error.cause+json") == 0) {
            /* The cause is X-Ray's; the caller gets the document without it. */
            json_t *doc = json_loadb(body->data ? body->data : "", body->len, 0, NULL);
            char *out = NULL;

            if (json_is_object(doc)) {
                json_object_del(doc, "errorCause");
                out = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
            }
            if (out)
                phase_send_result(e, CTL_FUNCTION_ERROR, "application/json", out, strlen(out), norm);
            else
                phase_send_result(e, CTL_FUNCTION_ERROR, "application/octet-stream",
                                  "\"Invalid error body\"", 20, norm);
            free(out);
            json_decref(doc);
        } else {
            phase_send_result(e, CTL_FUNCTION_ERROR, ct ? ct : "application/json", body->data,
                              body->len, norm);
        }
    }
    http_reply_json(req, 202, STATUS_OK);
    phase_runtime_answered(e);
}

static void on_init_error(struct env *e, struct http_req *req)
{
    const struct ld_buf *body = http_req_body(req);
    char etype[256];
    json_t *doc;

    if (e->rt != RT_STARTED || e->phase != PH_RT_INIT) {
        reply_transition(req, rt_state_name(e), "InitError");
        return;
    }
    if (http_req_truncated(req)) {
        reply_error(req, 400, "TruncatedHTTPRequest", "HTTP request detected as truncated");
        return;
    }
    /* The header's value names the failure in INIT_REPORT; the body goes to
     * the caller as posted, typed JSON when it parses as JSON. */
    if (http_req_header(req, "Lambda-Runtime-Function-Error-Type", etype, sizeof etype))
        snprintf(e->init_error_type, sizeof e->init_error_type, "%.127s", etype);
    else
        snprintf(e->init_error_type, sizeof e->init_error_type, "Runtime.Unknown");
    free(e->init_error_body);
    free(e->init_error_ctype);
    e->init_error_body = malloc(body->len + 1);
    if (e->init_error_body) {
        if (body->len)
            memcpy(e->init_error_body, body->data, body->len);
        e->init_error_len = body->len;
    }
    doc = json_loadb(body->data ? body->data : "", body->len, 0, NULL);
    e->init_error_ctype = strdup(doc ? "application/json" : "application/octet-stream");
    json_decref(doc);
    http_reply_json(req, 202, STATUS_OK);
    phase_runtime_init_error(e);
}

static void on_next(struct env *e, struct http_req *req)
{
    if (e->rt_parked || e->rt == RT_INVOKED || e->rt == RT_INIT_ERROR || e->rt == RT_NONE) {
        reply_transition(req, rt_state_name(e), "Ready");
        return;
    }
    e->rt_parked = req;
    phase_runtime_next(e);
}

void rapi_on_request(struct env *e, struct http_req *req)
{
    const struct http_head *h = http_req_head(req);
    struct route r;
    size_t pl;
    const char *path = http_req_path(req, &pl);

    routes_parse(h->method, h->method_len, path, pl, &r);
    switch (r.kind) {
    case ROUTE_RT_NEXT:
        on_next(e, req);
        break;
    case ROUTE_RT_RESPONSE:
        on_answer(e, req, &r, false);
        break;
    case ROUTE_RT_ERROR:
        on_answer(e, req, &r, true);
        break;
    case ROUTE_RT_INIT_ERROR:
        on_init_error(e, req);
        break;
    case ROUTE_EXT_REGISTER:
    case ROUTE_EXT_NEXT:
    case ROUTE_EXT_INIT_ERROR:
    case ROUTE_EXT_EXIT_ERROR:
        ext_api_on_request(e, req);
        break;
    case ROUTE_METHOD_NOT_ALLOWED:
        http_reply(req, 405, "text/plain; charset=utf-8", NULL, "", 0);
        break;
    case ROUTE_NOT_FOUND:
    default:
        http_reply(req, 404, "text/plain; charset=utf-8", NULL, "404 page not found\n", 19);
        break;
    }
}

void rapi_on_gone(struct env *e, struct http_req *req)
{
    if (e->rt_parked == req)
        e->rt_parked = NULL;
    if (http_req_user(req) == e && e->inv.streaming) {
        stream_end(e, "Runtime.TruncatedResponse", NULL, 0);
        phase_runtime_answered(e);
    }
    ext_api_on_gone(e, req);
}
