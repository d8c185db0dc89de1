/* common/http_server.c: HTTP/1.1 server connections on a libevent loop.
 *
 * Each connection is a common/stream.c socket and carries at most one request
 * at a time. Bytes are parsed by common/http_parse.c: the head is copied out of
 * the input buffer (so the parsed fields stay valid while the body streams
 * in), then the body is either collected into the request's buffer up to a
 * cap or handed on as it arrives. Answers are appended to the output buffer;
 * once one is complete the connection goes back to reading heads, from a
 * zero-delay event rather than from inside the handler, so a handler that
 * answers a request of another connection is never re-entered. */
#include "common/http_server.h"
#include "common/stream.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

enum conn_state {
    C_HEAD,    /* waiting for a request head */
    C_BODY,    /* reading the body */
    C_HANDLER, /* the handler owes an answer */
    C_REPLYING, /* a chunked answer is being written */
    C_CLOSING, /* flush the output, then close */
};

struct http_req {
    struct http_conn *conn; /* the connection it arrived on */
    struct http_head head;  /* points into conn->head_bytes */
    struct ld_buf body;     /* owned; buffered body */
    size_t body_limit;
    size_t body_seen;
    uint64_t cl_remaining;
    struct http_chunked *chunked; /* owned; only for chunked bodies */
    http_data_fn stream_fn;
    void *stream_arg;
    void *user;
    bool too_large;
    bool truncated;
    bool keep_alive;
};

struct http_conn {
    struct http_server *srv;
    struct stream *st;    /* owned */
    struct event *resume; /* owned: re-enters input processing after an answer, or frees */
    struct ld_buf head_bytes;
    size_t head_scan;     /* input bytes already searched for the head's end */
    bool head_line_seen;  /* the request line was checked early */
    struct http_req req; /* the one request in flight */
    enum conn_state state;
    bool dead; /* freed from the resume event, never under a callback */
    struct http_conn *prev, *next;
};

struct http_server {
    struct event_base *base;
    struct evconnlistener *listener;
    const struct http_server_ops *ops;
    void *arg;
    size_t max_body;
    int port;
    struct http_conn *conns;
};

static void process_input(struct http_conn *c);

static void req_reset(struct http_req *r)
{
    ld_buf_free(&r->body);
    free(r->chunked);
    memset(r, 0, sizeof *r);
}

static void conn_destroy(struct http_conn *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        c->srv->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    stream_free(c->st);
    event_free(c->resume);
    ld_buf_free(&c->head_bytes);
    req_reset(&c->req);
    free(c);
}

/* Frees later: callers up the stack (the stream's read callback, a
 * handler) may still hold the connection. */
static void conn_free(struct http_conn *c)
{
    if (c->dead)
        return;
    c->dead = true;
    stream_stop_reading(c->st);
    event_active(c->resume, 0, 0);
}

/* The peer is gone or misbehaved: tell the handler if it owes an answer. */
static void conn_drop(struct http_conn *c)
{
    if (c->dead)
        return;
    if (c->state == C_HANDLER || c->state == C_REPLYING) {
        c->state = C_CLOSING;
        if (c->srv->ops->on_gone)
            c->srv->ops->on_gone(&c->req, c->srv->arg);
    }
    conn_free(c);
}

static void on_close(struct stream *st, void *arg, int err)
{
    struct http_conn *c = arg;

    (void) st;
    if (c->dead)
        return;
    if (c->state == C_BODY && err == 0) {
        /* Cut short mid-body: the handler answers it (400 TruncatedHTTPRequest
         * on the Runtime API); the socket may still be writable. */
        c->req.truncated = true;
        c->req.keep_alive = false;
        c->state = C_HANDLER;
        c->srv->ops->on_request(&c->req, c->srv->arg);
        return;
    }
    if (err == 0 && (c->state == C_HEAD || c->state == C_CLOSING) &&
        stream_pending_output(c->st) > 0) {
        /* A half-close: the peer still reads what it is owed. */
        c->state = C_CLOSING;
        return;
    }
    conn_drop(c);
}

static void on_drain(struct stream *st, void *arg)
{
    struct http_conn *c = arg;

    (void) st;
    if (c->state == C_CLOSING)
        conn_drop(c);
}

static void on_read(struct stream *st, void *arg)
{
    (void) st;
    process_input(arg);
}

static void on_resume(evutil_socket_t fd, short what, void *arg)
{
    struct http_conn *c = arg;

    (void) fd;
    (void) what;
    if (c->dead)
        conn_destroy(c);
    else
        process_input(c);
}

static const struct stream_ops conn_ops = {
    .on_read = on_read,
    .on_drain = on_drain,
    .on_close = on_close,
};

static void send_simple(struct http_conn *c, int status, const char *json)
{
    struct evbuffer *out = stream_output(c->st);

    evbuffer_add_printf(out,
                        "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
                        "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                        status, http_reason(status), strlen(json), json);
    c->state = C_CLOSING;
    stream_stop_reading(c->st);
    stream_flush(c->st);
    if (stream_pending_output(c->st) == 0)
        conn_drop(c);
}

static void stash_body(void *arg, const char *p, size_t n)
{
    struct http_req *r = arg;

    r->body_seen += n;
    if (r->stream_fn) {
        r->stream_fn(r->stream_arg, p, n);
        return;
    }
    if (r->too_large)
        return;
    if (r->body.len + n > r->body_limit || ld_buf_append(&r->body, p, n) < 0) {
        r->too_large = true;
        ld_buf_free(&r->body);
    }
}

/* Reads head bytes; returns true when a request head was taken. */
static void refuse_head(struct http_conn *c, ssize_t n)
{
    if (n == -EMSGSIZE || n == 0)
        send_simple(c, 431, "{\"errorMessage\":\"Request header fields too large\","
                            "\"errorType\":\"RequestHeaderFieldsTooLarge\"}");
    else if (n == -ENOTSUP)
        send_simple(c, 501, "{\"errorMessage\":\"Unsupported transfer coding or version\","
                            "\"errorType\":\"NotImplemented\"}");
    else
        send_simple(c, 400, "{\"errorMessage\":\"Malformed HTTP request\","
                            "\"errorType\":\"BadRequest\"}");
}

/* Where the head ends (just past its blank line) in p[0..len), or 0.
 * Searching starts at *scan, which is left where the next search resumes:
 * a peer that sends its head a byte at a time costs one pass, not one
 * parse per byte. */
static size_t find_head_end(const char *p, size_t len, size_t *scan, bool *line_end)
{
    size_t i = *scan;

    while (i < len) {
        const char *nl = memchr(p + i, '\n', len - i);

        if (!nl)
            break;
        i = (size_t) (nl - p);
        *line_end = true;
        if (i + 1 < len && p[i + 1] == '\n')
            return i + 2;
        if (i + 2 < len && p[i + 1] == '\r' && p[i + 2] == '\n')
            return i + 3;
        if (i + 2 >= len)
            break; /* the rest may still come */
        i++;
    }
    *scan = i < len ? i : len;
    return 0;
}

/* Reads head bytes; returns true when a request head was taken. */
static bool take_head(struct http_conn *c, struct evbuffer *in)
{
    struct http_req *r = &c->req;
    size_t avail = evbuffer_get_length(in);
    size_t look = avail < HTTP_MAX_HEAD ? avail : HTTP_MAX_HEAD;
    bool line_end = false;
    const char *p;
    size_t end;
    ssize_t n;

    if (avail == 0)
        return false;
    p = (const char *) evbuffer_pullup(in, (ev_ssize_t) look);
    for (;;) {
        end = find_head_end(p, look, &c->head_scan, &line_end);
        if (end == 0)
            break;
        /* Parse our own copy, so the fields outlive the input buffer. */
        ld_buf_reset(&c->head_bytes);
        if (ld_buf_append(&c->head_bytes, p, end) < 0) {
            send_simple(c, 500, "{\"errorMessage\":\"Internal Server Error\","
                                "\"errorType\":\"InternalServerError\"}");
            return false;
        }
        n = http_parse_request_head(c->head_bytes.data, end, &r->head);
        if (n > 0)
            goto taken;
        if (n < 0) {
            refuse_head(c, n);
            return false;
        }
        c->head_scan = end; /* only empty lines so far: look further */
    }
    if (line_end && !c->head_line_seen) {
        /* Check the request line once, so that a peer speaking something
         * else (TLS, garbage) is refused now rather than at 64 KiB. */
        c->head_line_seen = true;
        n = http_parse_request_head(p, look, &r->head);
        if (n < 0) {
            refuse_head(c, n);
            return false;
        }
    }
    if (look >= HTTP_MAX_HEAD)
        refuse_head(c, -EMSGSIZE);
    return false;

taken:
    evbuffer_drain(in, (size_t) n);
    c->head_scan = 0;
    c->head_line_seen = false;
    r->conn = c;
    r->body_limit = c->srv->max_body;
    r->keep_alive = r->head.keep_alive;
    r->cl_remaining = r->head.content_length > 0 ? (uint64_t) r->head.content_length : 0;
    if (r->head.chunked) {
        r->chunked = calloc(1, sizeof *r->chunked);
        if (!r->chunked) {
            send_simple(c, 500, "{\"errorMessage\":\"Internal Server Error\","
                                "\"errorType\":\"InternalServerError\"}");
            return false;
        }
    }
    return true;
}

/* Moves body bytes from the input buffer; true when the body is complete. */
static bool take_body(struct http_conn *c, struct evbuffer *in)
{
    struct http_req *r = &c->req;

    if (r->chunked) {
        while (!r->chunked->done && evbuffer_get_length(in) > 0) {
            struct evbuffer_iovec v;
            ssize_t used;

            if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
                break;
            used = http_chunked_feed(r->chunked, v.iov_base, v.iov_len, stash_body, r);
            if (used < 0) {
                send_simple(c, 400, "{\"errorMessage\":\"Malformed chunked body\","
                                    "\"errorType\":\"BadRequest\"}");
                return false;
            }
            evbuffer_drain(in, (size_t) used);
        }
        return r->chunked->done;
    }
    while (r->cl_remaining > 0 && evbuffer_get_length(in) > 0) {
        struct evbuffer_iovec v;
        size_t take;

        if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
            break;
        take = v.iov_len < r->cl_remaining ? v.iov_len : (size_t) r->cl_remaining;
        stash_body(r, v.iov_base, take);
        evbuffer_drain(in, take);
        r->cl_remaining -= take;
    }
    return r->cl_remaining == 0;
}

static void process_input(struct http_conn *c)
{
    struct evbuffer *in = stream_input(c->st);

    while (!c->dead) {
        if (c->state == C_HEAD) {
            if (!take_head(c, in))
                break;
            c->state = C_BODY;
            if (c->req.head.expect_continue && (c->req.head.content_length > 0 || c->req.chunked))
            {
                evbuffer_add(stream_output(c->st), "HTTP/1.1 100 Continue\r\n\r\n", 25);
                stream_flush(c->st);
            }
            if (c->srv->ops->on_head)
                c->srv->ops->on_head(&c->req, c->srv->arg);
            if (c->dead || c->state != C_BODY)
                break;
        }
        if (c->state == C_BODY) {
            if (!take_body(c, in))
                break;
            c->state = C_HANDLER;
            c->srv->ops->on_request(&c->req, c->srv->arg);
            continue; /* answered at once: go on with pipelined input */
        }
        break;
    }
    if (!c->dead)
        stream_input_taken(c->st);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen,
                      void *arg)
{
    struct http_server *s = arg;
    struct http_conn *c;
    int one = 1;

    (void) l;
    (void) salen;
    if (sa->sa_family == AF_INET || sa->sa_family == AF_INET6)
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c = calloc(1, sizeof *c);
    if (!c) {
        evutil_closesocket(fd);
        return;
    }
    c->srv = s;
    c->resume = event_new(s->base, -1, 0, on_resume, c);
    c->st = c->resume ? stream_new(s->base, fd, &conn_ops, c) : NULL;
    if (!c->st) {
        if (c->resume)
            event_free(c->resume);
        else
            evutil_closesocket(fd);
        free(c);
        return;
    }
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    /* Backpressure: a peer that keeps sending while its request is parked
     * stops being read once this much waits, instead of growing our memory. */
    stream_set_read_cap(c->st, 1u << 20);
}

struct http_server *http_server_new(struct event_base *base, const struct http_server_ops *ops,
                                    void *arg, size_t max_body)
{
    struct http_server *s = calloc(1, sizeof *s);

    if (!s)
        return NULL;
    s->base = base;
    s->ops = ops;
    s->arg = arg;
    s->max_body = max_body;
    return s;
}

int http_server_adopt(struct http_server *s, int fd, struct ld_err *err)
{
    struct sockaddr_storage ss = {0};
    socklen_t len = sizeof ss;

    s->listener = evconnlistener_new(s->base, on_accept, s,
                                     LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, fd);
    if (!s->listener) {
        close(fd);
        return ld_err_set(err, ENOMEM, "listen");
    }
    if (getsockname(fd, (struct sockaddr *) &ss, &len) == 0) {
        if (ss.ss_family == AF_INET)
            s->port = ntohs(((struct sockaddr_in *) &ss)->sin_port);
        else if (ss.ss_family == AF_INET6)
            s->port = ntohs(((struct sockaddr_in6 *) &ss)->sin6_port);
    }
    return 0;
}

int http_server_listen(struct http_server *s, const char *hostport, struct ld_err *err)
{
    char host[256];
    const char *colon = strrchr(hostport, ':');
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST | AI_PASSIVE};
    struct addrinfo *ai = NULL;
    LD_AUTOCLOSE int fd = -1;
    int one = 1, rc;
    size_t hl;

    if (!colon || colon == hostport)
        return ld_err_set(err, EINVAL, "listen address %s: want HOST:PORT", hostport);
    hl = (size_t) (colon - hostport);
    if (hostport[0] == '[' && hl >= 2 && hostport[hl - 1] == ']') {
        hostport++;
        hl -= 2;
    }
    if (hl >= sizeof host)
        return ld_err_set(err, EINVAL, "listen address %s: host too long", hostport);
    memcpy(host, hostport, hl);
    host[hl] = '\0';
    if (strcmp(host, "localhost") == 0)
        snprintf(host, sizeof host, "127.0.0.1");
    rc = getaddrinfo(host, colon + 1, &hints, &ai);
    if (rc != 0)
        return ld_err_set(err, EINVAL, "listen address %s: %s", hostport, gai_strerror(rc));
    fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        rc = errno;
        freeaddrinfo(ai);
        return ld_err_set(err, rc, "socket");
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 1024) < 0) {
        rc = errno;
        freeaddrinfo(ai);
        return ld_err_set(err, rc, "listen on %s", hostport);
    }
    freeaddrinfo(ai);
    return http_server_adopt(s, ld_steal_fd(&fd), err);
}

int http_server_port(const struct http_server *s)
{
    return s->port;
}

void http_server_free(struct http_server *s)
{
    if (!s)
        return;
    if (s->listener)
        evconnlistener_free(s->listener);
    for (struct http_conn *c = s->conns, *next; c; c = next) {
        next = c->next;
        conn_destroy(c);
    }
    free(s);
}

const struct http_head *http_req_head(const struct http_req *req)
{
    return &req->head;
}

const char *http_req_path(const struct http_req *req, size_t *len)
{
    const char *q = memchr(req->head.target, '?', req->head.target_len);

    *len = q ? (size_t) (q - req->head.target) : req->head.target_len;
    return req->head.target;
}

static const char *copy_value(const char *v, size_t vl, char *buf, size_t cap)
{
    if (!v)
        return NULL;
    if (vl >= cap)
        vl = cap - 1;
    memcpy(buf, v, vl);
    buf[vl] = '\0';
    return buf;
}

const char *http_req_header(const struct http_req *req, const char *name, char *buf, size_t cap)
{
    size_t vl = 0;
    const char *v = http_head_get(&req->head, name, &vl);

    return copy_value(v, vl, buf, cap);
}

const char *http_req_trailer(const struct http_req *req, const char *name, char *buf, size_t cap)
{
    struct http_field f[32];
    size_t vl = 0;
    int n;

    if (!req->chunked || req->chunked->trailers_len == 0)
        return NULL;
    const char *v;

    n = http_parse_fields(req->chunked->trailers, req->chunked->trailers_len, f, 32);
    if (n <= 0)
        return NULL;
    v = http_field_get(f, (size_t) n, name, &vl); /* sets vl: not in the same call */
    return copy_value(v, vl, buf, cap);
}

const struct ld_buf *http_req_body(const struct http_req *req)
{
    return &req->body;
}

bool http_req_too_large(const struct http_req *req)
{
    return req->too_large;
}

bool http_req_truncated(const struct http_req *req)
{
    return req->truncated;
}

size_t http_req_body_seen(const struct http_req *req)
{
    return req->body_seen;
}

void http_req_set_body_limit(struct http_req *req, size_t limit)
{
    req->body_limit = limit;
}

void http_req_stream_body(struct http_req *req, http_data_fn fn, void *arg)
{
    req->stream_fn = fn;
    req->stream_arg = arg;
}

void http_req_set_user(struct http_req *req, void *user)
{
    req->user = user;
}

void *http_req_user(const struct http_req *req)
{
    return req->user;
}

/* The answer is complete: back to reading heads, or close. */
static void finish(struct http_conn *c)
{
    stream_flush(c->st);
    if (!c->req.keep_alive || c->req.truncated) {
        c->state = C_CLOSING;
        stream_stop_reading(c->st);
        if (stream_pending_output(c->st) == 0)
            conn_drop(c);
        return;
    }
    req_reset(&c->req);
    c->state = C_HEAD;
    if (evbuffer_get_length(stream_input(c->st)) > 0)
        event_active(c->resume, 0, 0);
}

/* Starts an answer: status line and headers, all but the framing header.
 * Returns the output buffer, or NULL when this request is not owed one. */
static void add_str(struct evbuffer *out, const char *s)
{
    evbuffer_add(out, s, strlen(s));
}

/* Every answer crosses here on the warm path: no printf. */
static struct evbuffer *begin_answer(struct http_req *req, int status, const char *content_type,
                                     const char *headers)
{
    struct evbuffer *out;
    char code[4];

    if (req->conn->state != C_HANDLER)
        return NULL;
    out = stream_output(req->conn->st);
    if (status < 100 || status > 999)
        status = 500;
    code[0] = (char) ('0' + status / 100);
    code[1] = (char) ('0' + status / 10 % 10);
    code[2] = (char) ('0' + status % 10);
    code[3] = ' ';
    evbuffer_add(out, "HTTP/1.1 ", 9);
    evbuffer_add(out, code, 4);
    add_str(out, http_reason(status));
    if (content_type) {
        evbuffer_add(out, "\r\nContent-Type: ", 16);
        add_str(out, content_type);
    }
    evbuffer_add(out, "\r\n", 2);
    if (headers)
        add_str(out, headers);
    if (!req->keep_alive || req->truncated)
        evbuffer_add(out, "Connection: close\r\n", 19);
    return out;
}

/* "Content-Length: N\r\n\r\n" */
static void add_content_length(struct evbuffer *out, size_t len)
{
    char buf[32], *p = buf + sizeof buf;

    *--p = '\n';
    *--p = '\r';
    *--p = '\n';
    *--p = '\r';
    do {
        *--p = (char) ('0' + len % 10);
        len /= 10;
    } while (len);
    evbuffer_add(out, "Content-Length: ", 16);
    evbuffer_add(out, p, (size_t) (buf + sizeof buf - p));
}

void http_reply(struct http_req *req, int status, const char *content_type, const char *headers,
                const void *body, size_t len)
{
    struct evbuffer *out = begin_answer(req, status, content_type, headers);

    if (!out)
        return;
    add_content_length(out, len);
    if (len)
        evbuffer_add(out, body, len);
    finish(req->conn);
}

void http_reply_json(struct http_req *req, int status, const char *json)
{
    http_reply(req, status, "application/json", NULL, json, strlen(json));
}

void http_reply_begin(struct http_req *req, int status, const char *content_type,
                      const char *headers)
{
    struct evbuffer *out = begin_answer(req, status, content_type, headers);

    if (!out)
        return;
    evbuffer_add(out, "Transfer-Encoding: chunked\r\n\r\n", 30);
    req->conn->state = C_REPLYING;
}

void http_reply_chunk(struct http_req *req, const void *p, size_t len)
{
    struct http_conn *c = req->conn;
    struct evbuffer *out;

    if (c->state != C_REPLYING || len == 0)
        return;
    out = stream_output(c->st);
    evbuffer_add_printf(out, "%zx\r\n", len);
    evbuffer_add(out, p, len);
    evbuffer_add(out, "\r\n", 2);
    stream_flush(c->st);
}

void http_reply_end(struct http_req *req, const char *trailers)
{
    struct http_conn *c = req->conn;
    struct evbuffer *out;

    if (c->state != C_REPLYING)
        return;
    out = stream_output(c->st);
    evbuffer_add(out, "0\r\n", 3);
    if (trailers)
        evbuffer_add(out, trailers, strlen(trailers));
    evbuffer_add(out, "\r\n", 2);
    c->state = C_HANDLER;
    finish(c);
}
