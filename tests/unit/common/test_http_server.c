/* tests/unit/common/test_http_server.c: the HTTP/1.1 server
 * (src/common/http_server.h) driven for real.
 *
 * Each test makes an event_base and a server on 127.0.0.1:0, connects plain
 * client sockets from the same process, writes raw bytes, turns the loop
 * (EVLOOP_NONBLOCK) until a condition holds or 5 s pass, and reads the raw
 * answer. Handlers record what they saw and answer now, from a timer, or not
 * at all. Every test frees the server and the base and checks that no fd and
 * no allocation survived. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/http_parse.h"
#include "common/http_server.h"

#include "../checks.h"

#define DEADLINE_MS 5000
#define MAX_CLIENTS 4

/* ---- harness ------------------------------------------------------------ */

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

struct ctx;
typedef void (*answer_fn)(struct ctx *t, struct http_req *req);

/* One request as the handler saw it, copied out (req dies after the answer). */
struct seen {
    char method[16];
    char path[256];
    struct ld_buf body;
    bool too_large, truncated;
    size_t body_seen;
    size_t streamed_before; /* streamed bytes when on_request ran */
};

struct client {
    int fd;
    struct ld_buf in; /* every byte received */
    size_t off;       /* start of the next unparsed response */
    bool eof;
    int err;
};

struct ctx {
    struct event_base *base;
    struct http_server *srv;
    int port;
    int fd_base;

    answer_fn on_head_hook; /* optional, runs in on_head */
    answer_fn answer;       /* runs in on_request */
    answer_fn later;        /* runs from the timer on the parked request */
    struct event *timer;
    unsigned timer_ms;

    size_t heads, requests, gones;
    struct seen seen[8];
    struct http_req *parked;
    struct http_req *gone_req;
    void *gone_user;

    struct ld_buf streamed; /* http_req_stream_body sink */
    size_t stream_calls;

    char trailer[128];
    bool trailer_found;
    bool missing_trailer_found;
    char header[128];
    bool header_found;

    struct client cl[MAX_CLIENTS];
    size_t ncl;
};

static void on_head(struct http_req *req, void *arg)
{
    struct ctx *t = arg;

    t->heads++;
    if (t->on_head_hook)
        t->on_head_hook(t, req);
}

static void record(struct ctx *t, struct http_req *req)
{
    struct seen *s;
    const struct http_head *h = http_req_head(req);
    const struct ld_buf *b = http_req_body(req);
    const char *p;
    size_t pl;

    cr_assert_lt(t->requests, sizeof t->seen / sizeof t->seen[0]);
    s = &t->seen[t->requests++];
    cr_assert_lt(h->method_len, sizeof s->method);
    memcpy(s->method, h->method, h->method_len);
    s->method[h->method_len] = '\0';
    p = http_req_path(req, &pl);
    cr_assert_lt(pl, sizeof s->path);
    memcpy(s->path, p, pl);
    s->path[pl] = '\0';
    if (b->len)
        cr_assert_eq(ld_buf_append(&s->body, b->data, b->len), 0);
    s->too_large = http_req_too_large(req);
    s->truncated = http_req_truncated(req);
    s->body_seen = http_req_body_seen(req);
    s->streamed_before = t->streamed.len;
}

static void on_request(struct http_req *req, void *arg)
{
    struct ctx *t = arg;

    record(t, req);
    t->answer(t, req);
}

static void on_gone(struct http_req *req, void *arg)
{
    struct ctx *t = arg;

    t->gones++;
    t->gone_req = req;
    t->gone_user = http_req_user(req);
    if (t->parked == req)
        t->parked = NULL;
}

static const struct http_server_ops ops = {
    .on_head = on_head,
    .on_request = on_request,
    .on_gone = on_gone,
};

/* Default handler: 200, text/plain, "METHOD PATH BODYLEN". */
static void answer_echo(struct ctx *t, struct http_req *req)
{
    const struct seen *s = &t->seen[t->requests - 1];
    char body[400];
    int n = snprintf(body, sizeof body, "%s %s %zu", s->method, s->path, s->body.len);

    http_reply(req, 200, "text/plain", NULL, body, (size_t) n);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    struct ctx *t = arg;
    struct http_req *req = t->parked;

    (void) fd;
    (void) what;
    if (req && t->later)
        t->later(t, req);
}

static void arm_timer(struct ctx *t)
{
    struct timeval tv = {.tv_sec = 0, .tv_usec = (suseconds_t) t->timer_ms * 1000};

    cr_assert_eq(evtimer_add(t->timer, &tv), 0);
}

/* Park the request; the timer answers it with `later`. */
static void answer_park(struct ctx *t, struct http_req *req)
{
    t->parked = req;
    if (t->later)
        arm_timer(t);
}

static void setup(struct ctx *t, size_t max_body)
{
    struct ld_err err = {0};

    memset(t, 0, sizeof *t);
    signal(SIGPIPE, SIG_IGN); /* as lambdad's processes do */
    t->fd_base = count_fds();
    t->base = event_base_new();
    cr_assert_not_null(t->base);
    t->srv = http_server_new(t->base, &ops, t, max_body);
    cr_assert_not_null(t->srv);
    cr_assert_eq(http_server_listen(t->srv, "127.0.0.1:0", &err), 0, "listen: %s", err.msg);
    t->port = http_server_port(t->srv);
    cr_assert_gt(t->port, 0);
    t->timer = evtimer_new(t->base, on_timer, t);
    cr_assert_not_null(t->timer);
    t->answer = answer_echo;
    t->timer_ms = 50;
}

static void teardown(struct ctx *t)
{
    http_server_free(t->srv);
    event_free(t->timer);
    for (size_t i = 0; i < t->ncl; i++) {
        if (t->cl[i].fd >= 0)
            close(t->cl[i].fd);
        ld_buf_free(&t->cl[i].in);
    }
    for (size_t i = 0; i < sizeof t->seen / sizeof t->seen[0]; i++)
        ld_buf_free(&t->seen[i].body);
    ld_buf_free(&t->streamed);
    event_base_free(t->base);
    libevent_global_shutdown();
    cr_assert_eq(count_fds(), t->fd_base, "fds leaked: %d open, %d before", count_fds(),
                 t->fd_base);
#ifdef HAVE_LSAN
    cr_assert_eq(__lsan_do_recoverable_leak_check(), 0, "leaked (LeakSanitizer report above)");
#endif
}

static struct client *client_new(struct ctx *t)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t) t->port)};
    struct client *c;
    int fd;

    cr_assert_lt(t->ncl, MAX_CLIENTS);
    c = &t->cl[t->ncl++];
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    cr_assert_geq(fd, 0);
    /* Loopback connects complete in the backlog, before the server accepts. */
    cr_assert_eq(connect(fd, (struct sockaddr *) &sa, sizeof sa), 0, "connect: %s",
                 strerror(errno));
    cr_assert_eq(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
    c->fd = fd;
    return c;
}

static void client_close(struct client *c)
{
    close(c->fd);
    c->fd = -1;
}

/* Reads whatever the client socket holds. */
static void client_pull(struct client *c)
{
    if (c->fd < 0 || c->eof)
        return;
    for (;;) {
        ssize_t n;

        cr_assert_eq(ld_buf_reserve(&c->in, 65536, 0), 0);
        n = read(c->fd, c->in.data + c->in.len, 65536);
        if (n > 0) {
            c->in.len += (size_t) n;
            continue;
        }
        if (n == 0)
            c->eof = true;
        else if (errno == EINTR)
            continue;
        else if (errno != EAGAIN) {
            c->err = errno;
            c->eof = true;
        }
        return;
    }
}

/* One loop turn, everyone's bytes pulled, then a short wait. */
static void turn(struct ctx *t)
{
    struct pollfd p = {.fd = -1};

    event_base_loop(t->base, EVLOOP_NONBLOCK);
    for (size_t i = 0; i < t->ncl; i++)
        client_pull(&t->cl[i]);
    poll(&p, 0, 1);
}

static void run_for(struct ctx *t, unsigned ms)
{
    uint64_t end = now_ms() + ms;

    while (now_ms() < end)
        turn(t);
}

#define RUN_UNTIL(t, cond)                                                                        \
    do {                                                                                          \
        uint64_t dl_ = now_ms() + DEADLINE_MS;                                                    \
        while (!(cond)) {                                                                         \
            cr_assert(now_ms() < dl_, "timed out waiting for %s", #cond);                         \
            turn(t);                                                                              \
        }                                                                                         \
    } while (0)

/* Writes all of p, turning the loop whenever the socket is full. */
static void client_send(struct ctx *t, struct client *c, const void *p, size_t n)
{
    const char *s = p;
    uint64_t dl = now_ms() + DEADLINE_MS;

    while (n > 0) {
        ssize_t w = write(c->fd, s, n);

        if (w > 0) {
            s += w;
            n -= (size_t) w;
            continue;
        }
        cr_assert(w < 0 && (errno == EAGAIN || errno == EINTR), "client write: %s",
                  strerror(errno));
        cr_assert(now_ms() < dl, "client write stalled with %zu bytes left", n);
        turn(t);
    }
}

static void client_send_str(struct ctx *t, struct client *c, const char *s)
{
    client_send(t, c, s, strlen(s));
}

/* A response parsed from the client's bytes. */
struct resp {
    int status;
    char head[8192]; /* the raw head, NUL-terminated */
    size_t head_len;
    struct ld_buf body; /* decoded */
    char trailers[1024];
    size_t trailers_len;
    bool chunked;
    const char *raw; /* into client->in: valid until the next pull */
    size_t raw_len;
};

static void resp_sink(void *arg, const char *p, size_t n)
{
    cr_assert_eq(ld_buf_append(arg, p, n), 0);
}

/* Parses one response at c->off; true (and c->off advanced) when complete. */
static bool try_response(struct client *c, struct resp *r)
{
    const char *p = c->in.data + c->off;
    size_t n = c->in.len - c->off;
    struct http_head h;
    ssize_t hl;
    size_t total;

    if (n == 0)
        return false;
    hl = http_parse_response_head(p, n, &h);
    cr_assert_geq(hl, 0, "client got a malformed response: \"%.*s\"", (int) n, p);
    if (hl == 0)
        return false;
    ld_buf_free(&r->body);
    memset(r, 0, sizeof *r);
    r->status = h.status;
    cr_assert_lt((size_t) hl, sizeof r->head);
    memcpy(r->head, p, (size_t) hl);
    r->head[hl] = '\0';
    r->head_len = (size_t) hl;
    if (h.status >= 100 && h.status < 200) {
        total = (size_t) hl;
    } else if (h.chunked) {
        struct http_chunked *ch = calloc(1, sizeof *ch);
        ssize_t used;

        cr_assert_not_null(ch);
        used = http_chunked_feed(ch, p + hl, n - (size_t) hl, resp_sink, &r->body);
        cr_assert_geq(used, 0, "invalid chunked answer");
        if (!ch->done) {
            free(ch);
            ld_buf_free(&r->body);
            return false;
        }
        r->chunked = true;
        cr_assert_lt(ch->trailers_len, sizeof r->trailers);
        memcpy(r->trailers, ch->trailers, ch->trailers_len);
        r->trailers_len = ch->trailers_len;
        free(ch);
        total = (size_t) hl + (size_t) used;
    } else {
        cr_assert_geq(h.content_length, 0, "answer without length: %s", r->head);
        if (n - (size_t) hl < (size_t) h.content_length)
            return false;
        cr_assert_eq(ld_buf_append(&r->body, p + hl, (size_t) h.content_length), 0);
        total = (size_t) hl + (size_t) h.content_length;
    }
    r->raw = p;
    r->raw_len = total;
    c->off += total;
    return true;
}

static void next_response(struct ctx *t, struct client *c, struct resp *r)
{
    r->raw = NULL;
    RUN_UNTIL(t, try_response(c, r) || c->eof);
    cr_assert(r->raw, "connection closed before a complete answer (%zu bytes pending)",
              c->in.len - c->off);
}

static void resp_free(struct resp *r)
{
    ld_buf_free(&r->body);
}

/* Case-insensitive header lookup in the stored head. */
static bool resp_header(const struct resp *r, const char *name, char *buf, size_t cap)
{
    struct http_head h;
    size_t vl;
    const char *v;

    cr_assert_gt(http_parse_response_head(r->head, r->head_len, &h), 0);
    v = http_head_get(&h, name, &vl);
    if (!v)
        return false;
    cr_assert_lt(vl, cap);
    memcpy(buf, v, vl);
    buf[vl] = '\0';
    return true;
}

static void assert_body(const struct resp *r, const char *want)
{
    cr_assert_eq(r->body.len, strlen(want), "body \"%.*s\", want \"%s\"", (int) r->body.len,
                 r->body.data ? r->body.data : "", want);
    cr_assert(r->body.len == 0 || memcmp(r->body.data, want, r->body.len) == 0,
              "body \"%.*s\", want \"%s\"", (int) r->body.len, r->body.data, want);
}

static void assert_raw(const struct resp *r, const char *want)
{
    cr_assert_eq(r->raw_len, strlen(want), "got %zu bytes:\n%.*s\nwant:\n%s", r->raw_len,
                 (int) r->raw_len, r->raw, want);
    cr_assert(memcmp(r->raw, want, r->raw_len) == 0, "got:\n%.*s\nwant:\n%s", (int) r->raw_len,
              r->raw, want);
}

/* The peer closed: EOF with nothing after the last answer. */
static void assert_closed_after(struct ctx *t, struct client *c)
{
    RUN_UNTIL(t, c->eof);
    cr_assert_eq(c->err, 0, "connection reset (%s) instead of closed", strerror(c->err));
    cr_assert_eq(c->off, c->in.len, "%zu stray bytes after the answer", c->in.len - c->off);
}

static void assert_still_open(struct ctx *t, struct client *c)
{
    run_for(t, 30);
    cr_assert(!c->eof, "connection closed");
}

/* ---- simple requests ------------------------------------------------------- */

static void answer_with_header(struct ctx *t, struct http_req *req)
{
    char small[3];

    t->header_found = http_req_header(req, "x-custom", t->header, sizeof t->header) != NULL;
    cr_assert_null(http_req_header(req, "X-Absent", small, sizeof small));
    /* Truncated to cap - 1 and NUL-terminated. */
    cr_assert_eq(http_req_header(req, "X-CUSTOM", small, sizeof small), small);
    cr_assert_eq(strlen(small), 2);
    cr_assert(strncmp(small, t->header, 2) == 0, "\"%s\" is not a prefix of \"%s\"", small,
              t->header);
    http_reply(req, 200, "text/plain", "X-Extra: 1\r\n", "hi", 2);
}

Test(http_server, simple_get_answered_synchronously)
{
    struct ctx t;
    struct client *c;
    struct resp r = {0};

    setup(&t, 1024);
    t.answer = answer_with_header;
    c = client_new(&t);
    client_send_str(&t, c, "GET /hello?x=1&y=2 HTTP/1.1\r\nHost: a\r\nX-Custom: Value\r\n\r\n");
    next_response(&t, c, &r);
    assert_raw(&r, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Extra: 1\r\n"
                   "Content-Length: 2\r\n\r\nhi");
    cr_assert_eq(t.heads, 1);
    cr_assert_eq(t.requests, 1);
    cr_assert_str_eq(t.seen[0].method, "GET");
    cr_assert_str_eq(t.seen[0].path, "/hello"); /* query stripped */
    cr_assert(t.header_found);
    cr_assert_str_eq(t.header, "Value");
    cr_assert_eq(t.seen[0].body.len, 0);
    cr_assert_eq(t.seen[0].body_seen, 0);
    cr_assert(!t.seen[0].too_large && !t.seen[0].truncated);
    assert_still_open(&t, c); /* HTTP/1.1 keeps the connection */
    /* And it takes another request. */
    client_send_str(&t, c, "GET /again HTTP/1.1\r\nX-Custom: V2\r\n\r\n");
    next_response(&t, c, &r);
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(t.header, "V2");
    cr_assert_eq(t.gones, 0);
    resp_free(&r);
    teardown(&t);
}

Test(http_server, reply_json_and_empty_body)
{
    struct ctx t;
    struct client *c;
    struct resp r = {0};

    setup(&t, 1024);
    c = client_new(&t);
    client_send_str(&t, c, "GET /x HTTP/1.1\r\n\r\n");
    next_response(&t, c, &r);
    assert_raw(&r, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 8\r\n\r\n"
                   "GET /x 0");
    resp_free(&r);
    teardown(&t);
}

static void answer_json_202(struct ctx *t, struct http_req *req)
{
    (void) t;
    http_reply_json(req, 202, "{\"status\":\"OK\"}");
}

static void answer_204_no_type(struct ctx *t, struct http_req *req)
{
    (void) t;
    http_reply(req, 204, NULL, NULL, NULL, 0);
}

Test(http_server, reply_json_sets_type_and_length)
{
    struct ctx t;
    struct client *c;
    struct resp r = {0};

    setup(&t, 1024);
    t.answer = answer_json_202;
    c = client_new(&t);
    client_send_str(&t, c, "POST /2018-06-01/runtime/invocation/a/response HTTP/1.1\r\n"
                           "Content-Length: 2\r\n\r\n{}");
    next_response(&t, c, &r);
    assert_raw(&r, "HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\n"
                   "Content-Length: 15\r\n\r\n{\"status\":\"OK\"}");
    cr_assert_str_eq(t.seen[0].path, "/2018-06-01/runtime/invocation/a/response");
    t.answer = answer_204_no_type;
    client_send_str(&t, c, "GET / HTTP/1.1\r\n\r\n");
    next_response(&t, c, &r);
    assert_raw(&r, "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n");
    resp_free(&r);
    teardown(&t);
}

/* ---- parked requests --------------------------------------------------------- */

static void later_json(struct ctx *t, struct http_req *req)
{
    cr_assert_eq(http_req_user(req), (void *) t, "user pointer lost");
    t->parked = NULL;
    http_reply_json(req, 200, "{\"a\":1}");
}

static void answer_park_with_user(struct ctx *t, struct http_req *req)
{
    cr_assert_null(http_req_user(req));
    http_req_set_user(req, t);
    answer_park(t, req);
}

Test(http_server, parked_request_answered_later_from_timer)
{
    struct ctx t;
    struct client *c;
    struct resp r = {0};
    uint64_t t0;

    setup(&t, 1024);
    t.answer = answer_park_with_user;
    t.later = later_json;
    t.timer_ms = 80;
    c = client_new(&t);
    t0 = now_ms();
    client_send_str(&t, c, "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\n\r\n");
    RUN_UNTIL(&t, t.requests == 1);
    cr_assert_not_null(t.parked);
    run_for(&t, 20);
    cr_assert_eq(c->in.len, 0, "answered before the handler did");
    next_response(&t, c, &r);
    cr_assert_geq(now_ms() - t0, 70);
    assert_raw(&r, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 7\r\n"
                   "\r\n{\"a\":1}");
    cr_assert_eq(t.gones, 0);
    assert_still_open(&t, c);
    /* A second parked request on the same connection works the same way. */
    client_send_str(&t, c, "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\n\r\n");
    next_response(&t, c, &r);
    cr_assert_eq(r.status, 200);
    cr_assert_eq(t.requests, 2);
    resp_free(&r);
    teardown(&t);
}

Test(http_server, on_gone_when_client_closes_while_parked)
{
    struct ctx t;
    struct client *c;

    setup(&t, 1024);
    t.answer = answer_park_with_user;
    c = client_new(&t);
    client_send_str(&t, c, "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\n\r\n");
    RUN_UNTIL(&t, t.requests == 1);
    struct http_req *req = t.parked;

    cr_assert_not_null(req);
    client_close(c);
    RUN_UNTIL(&t, t.gones == 1);
    cr_assert_eq(t.gone_req, req, "on_gone for another request");
    cr_assert_eq(t.gone_user, (void *) &t, "user pointer not available in on_gone");
    cr_assert_null(t.parked);
    run_for(&t, 30);
    cr_assert_eq(t.gones, 1);
    cr_assert_eq(t.requests, 1);
    teardown(&t);
}

Test(http_server, on_gone_not_called_after_the_answer)
{
    struct ctx t;
    struct client *c;
    struct resp r = {0};

    setup(&t, 1024);
    c = client_new(&t);
    client_send_str(&t, c, "GET / HTTP/1.1\r\n\r\n");
    next_response(&t, c, &r);
    client_close(c);
    run_for(&t, 50);
    cr_assert_eq(t.gones, 0);
    resp_free(&r);
    teardown(&t);
}

Test(http_server, free_with_a_parked_request_skips_on_gone)
{
    struct ctx t;
    struct client *c;

    setup(&t, 1024);
    t.answer = answer_park;
    c = client_new(&t);
    client_send_str(&t, c, "GET /park HTTP/1.1\r\n\r\n");
    RUN_UNTIL(&t, t.requests == 1);
    (void) c;
    teardown(&t); /* frees the server with the request parked: no leak, no fd */
    cr_assert_eq(t.gones, 0);
}

/* ---- request bodies ---------------------------------------------------------- */

Test(http_server, content_length_body_buffered)
{
    struct ctx t;
    struct client *c;
    struct resp r = {0};
    /* 32 bytes, with a NUL and something that looks like a request. */
    static const char body[] = "hello\0world\r\n\r\nGET /x HTTP/1.1\r\n";

    setup(&t, 1024);
    c = client_new(&t);
    /* Head and part of the body, a pause, then the rest. */
    client_send_str(&t, c, "POST /p HTTP/1.1\r\nContent-Length: 32\r\n\r\nhel");
    run_for(&t, 20);
    cr_assert_eq(t.heads, 1);
    cr_assert_eq(t.requests, 0, "handler ran before the body was complete");
    client_send(&t, c, body + 3, sizeof body - 1 - 3);
    next_response(&t, c, &r);
    cr_assert_eq(sizeof body - 1, 32);
    cr_assert_eq(t.requests, 1);
    cr_assert_eq(t.seen[0].body.len, 32);
    cr_assert(memcmp(t.seen[0].body.data, body, 32) == 0);
    cr_assert_eq(t.seen[0].body_seen, 32);
    cr_assert(!t.seen[0].too_large && !t.seen[0].truncated);
    assert_body(&r, "POST /p 32");
    /* The body's bytes were not taken for a second request. */
    run_for(&t, 20);
    cr_assert_eq(t.requests, 1);
    resp_free(&r);
    teardown(&t);
}

static void answer_413_if_large(struct ctx *t, struct http_req *req)
{
    if (http_req_too_large(req))
        http_reply_json(req, 413, "{\"errorType\":\"RequestTooLarge\"}");
    else
        answer_echo(t, req);
}

static void head_raise_limit(struct ctx *t, struct http_req *req)
{
    size_t pl;
    const char *p = http_req_path(req, &pl);

    (void) t;
    if (pl == 4 && memcmp(p, "/big", 4) == 0)
        http_req_set_body_limit(req, 1000);
    if (pl == 6 && memcmp(p, "/small", 6) == 0)
        http_req_set_body_limit(req, 2);
}

Test(http_server, body_over_limit_is_flagged_and_counted)
{
    struct ctx t;
    struct client *c;
    struct resp r = {0};
    char req[512], body[100];

    setup(&t, 16);
    t.answer = answer_413_if_large;
    t.on_head_hook = head_raise_limit;
    memset(body, 'b', sizeof body);
    c = client_new(&t);
    snprintf(req, sizeof req, "POST /p HTTP/1.1\r\nContent-Length: %zu\r\n\r\n", sizeof body);
    client_send_str(&t, c, req);
    client_send(&t, c, body, sizeof body);
    next_response(&t, c, &r);
    cr_assert_eq(r.status, 413);
    cr_assert(t.seen[0].too_large);
    cr_assert(!t.seen[0].truncated);
    cr_assert_eq(t.seen[0].body.len, 0, "a too-large body must not be half kept");
    cr_assert_eq(t.seen[0].body_seen, 100, "body_seen %zu", t.seen[0].body_seen);

    /* Exactly the limit is fine. */
    client_send_str(&t, c, "POST /p HTTP/1.1\r\nContent-Length: 16\r\n\r\n0123456789abcdef");
    next_response(&t, c, &r);
    cr_assert_eq(r.status, 200);
    cr_assert(!t.seen[1].too_large);
    cr_assert_eq(t.seen[1].body.len, 16);

    /* A limit raised in on_head applies to this request only. */
    client_send_str(&t, c, req);
    client_send(&t, c, body, sizeof body);
    next_response(&t, c, &r);
    cr_assert_eq(r.status, 413);
    snprintf(req, sizeof req, "POST /big HTTP/1.1\r\nContent-Length: %zu\r\n\r\n", sizeof body);
    client_send_str(&t, c, req);
    client_send(&t, c, body, sizeof body);
    next_response(&t, c, &r);
    cr_assert_eq(r.status, 200);
    cr_assert(!t.seen[3].too_large);
    cr_assert_eq(t.seen[3].body.len, 100);
    /* ... and lowered. */
    client_send_str(&t, c, "POST /small HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc");
    next_response(&t, c, &r);
    cr_assert_eq(r.status, 413);
    cr_assert_eq(t.seen[4].body_seen, 3);
    assert_still_open(&t, c);
    resp_free(&r);
    teardown(&t);
}

static void answer_400_if_truncated(struct ctx *t, struct http_req *req)
{
    (void) t;
    if (http_req_truncated(req))
        http_reply_json(req, 400, "{\"errorType\":\"TruncatedHTTPRequest\"}");
    else
        http_reply_json(req, 200, "{}");
}

Test(http_server, truncated_body_reaches_handler_and_answer_reaches_client)
{
    struct ctx t;
    struct client *c;
    struct resp r = {0};
    char v[32];

    setup(&t, 1024);
    t.answer = answer_400_if_truncated;
    c = client_new(&t);
    client_send_str(&t, c, "POST /2018-06-01/runtime/invocation/a/response HTTP/1.1\r\n"
                           "Content-Length: 100\r\n\r\n0123456789012345678901234567890123456789");
    run_for(&t, 20);
    cr_assert_eq(t.requests, 0);
    cr_assert_eq(shutdown(c->fd, SHUT_WR), 0);
    next_response(&t, c, &r);
    cr_assert_eq(t.requests, 1);
    cr_assert(t.seen[0].truncated);
    cr_assert(!t.seen[0].too_large);
    cr_assert_eq(t.seen[0].body_seen, 40);
    cr_assert_eq(r.status, 400);
    assert_body(&r, "{\"errorType\":\"TruncatedHTTPRequest\"}");
    cr_assert(resp_header(&r, "Connection", v, sizeof v), "no Connection header");
    cr_assert_str_eq(v, "close");
    assert_closed_after(&t, c);
    cr_assert_eq(t.gones, 0);
    resp_free(&r);
    teardown(&t);
}

Test(http_server, truncated_chunked_body)
{
    struct ctx t;
    struct client *c;
    struct resp r = {0};

    setup(&t, 1024);
    t.answer = answer_400_if_truncated;
    c = client_new(&t);
    client_send_str(&t, c, "POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                           "5\r\nhello\r\n10\r\nabc");
    run_for(&t, 20);
    cr_assert_eq(shutdown(c->fd, SHUT_WR), 0);
    next_response(&t, c, &r);
    cr_assert(t.seen[0].truncated);
    cr_assert_eq(t.seen[0].body_seen, 8);
    cr_assert_eq(r.status, 400);
    assert_closed_after(&t, c);
    resp_free(&r);
    teardown(&t);
}

static void answer_with_trailers(struct ctx *t, struct http_req *req)
{
    char buf[8];

    t->trailer_found = http_req_trailer(req, "x-checksum", t->trailer, sizeof t->trailer) != NULL;
    t->missing_trailer_found = http_req_trailer(req, "X-Missing", buf, sizeof buf) != NULL;
    answer_echo(t, req);
}

Test(http_server, chunked_body_with_trailers)
{
    struct ctx t;
    struct client *c;
    struct resp r = {0};
    setup(&t, 1024);
    t.answer = answer_with_trailers;
    c = client_new(&t);
    client_send_str(&t, c, "POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
                           "Trailer: X-Checksum\r\n\r\n"
                           "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n"
                           "X-Checksum: abc123\r\nX-Other: 2\r\n\r\n");
    next_response(&t, c, &r);
    cr_assert_eq(t.seen[0].body.len, 11);
    cr_assert(memcmp(t.seen[0].body.data, "hello world", 11) == 0);
    cr_assert_eq(t.seen[0].body_seen, 11);
    cr_assert(t.trailer_found, "trailer X-Checksum not found");
    cr_assert_str_eq(t.trailer, "abc123");
    cr_assert(!t.missing_trailer_found);
    assert_body(&r, "POST /c 11");

    /* Without trailers, none is found; the connection is reusable. */
    client_send_str(&t, c, "POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                           "3\r\nabc\r\n0\r\n\r\n");
    next_response(&t, c, &r);
    cr_assert(!t.trailer_found);
    cr_assert_eq(t.seen[1].body.len, 3);
    assert_body(&r, "POST /c 3");
    resp_free(&r);
    teardown(&t);
}

Test(http_server, chunked_body_in_pieces)
{
    struct ctx t;
    struct client *c;
    struct resp r = {0};
    const char *msg = "POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                      "a\r\n0123456789\r\n3\r\nabc\r\n0\r\nX-T: 1\r\n\r\n";

    setup(&t, 1024);
    t.answer = answer_with_trailers;
    c = client_new(&t);
    /* A byte at a time, with loop turns between. */
    for (size_t i = 0; msg[i]; i++) {
        client_send(&t, c, msg + i, 1);
        event_base_loop(t.base, EVLOOP_NONBLOCK);
    }
    next_response(&t, c, &r);
    cr_assert_eq(t.requests, 1);
    cr_assert_eq(t.seen[0].body.len, 13);
    cr_assert(memcmp(t.seen[0].body.data, "0123456789abc", 13) == 0);
    resp_free(&r);
    teardown(&t);
}

Test(http_server, malformed_chunked_body_is_400_and_close)
{
    struct ctx t;
    struct client *c;
    struct resp r = {0};

    setup(&t, 1024);
    c = client_new(&t);
    client_send_str(&t, c, "POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n");
    next_response(&t, c, &r);
    cr_assert_eq(r.status, 400);
    assert_body(&r, "{\"errorMessage\":\"Malformed chunked body\",\"errorType\":\"BadRequest\"}");
    assert_closed_after(&t, c);
    cr_assert_eq(t.requests, 0);
    resp_free(&r);
    teardown(&t);
}

/* ---- Expect: 100-continue ------------------------------------------------------ */

Test(http_server, expect_100_continue_gets_interim_answer)
{
    struct ctx t;
    struct client *c;
    struct resp r = {0};

    setup(&t, 1024);
    c = client_new(&t);
    client_send_str(&t, c, "POST /e HTTP/1.1\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
    next_response(&t, c, &r);
    assert_raw(&r, "HTTP/1.1 100 Continue\r\n\r\n");
    cr_assert_eq(t.heads, 1);
    cr_assert_eq(t.requests, 0);
    client_send_str(&t, c, "hello");
    next_response(&t, c, &r);
    cr_assert_eq(r.status, 200);
    assert_body(&r, "POST /e 5");
    cr_assert_eq(t.seen[0].body.len, 5);

    /* No body expected: no interim answer, straight to the final one. */
    client_send_str(&t, c, "GET /e HTTP/1.1\r\nExpect: 100-continue\r\n\r\n");
    next_response(&t, c, &r);
    cr_assert_eq(r.status, 200);
    assert_body(&r, "GET /e 0");
    resp_free(&r);
    teardown(&t);
}

/* ---- pipelining and connection handling ------------------------------------------ */

static void answer_park_first(struct ctx *t, struct http_req *req)
{
    if (t->requests == 1)
        answer_park(t, req);
    else
        answer_echo(t, req);
}

static void later_echo(struct ctx *t, struct http_req *req)
{
    t->parked = NULL;
    http_reply(req, 200, "text/plain", NULL, "first", 5);
}

Test(http_server, pipelined_requests_answered_in_order)
{
    struct ctx t;
    struct client *c;
    struct resp r = {0};

    setup(&t, 1024);
    c = client_new(&t);
    client_send_str(&t, c, "GET /one HTTP/1.1\r\n\r\nPOST /two HTTP/1.1\r\nContent-Length: 3\r\n"
                           "\r\nabcGET /three HTTP/1.1\r\n\r\n");
    next_response(&t, c, &r);
    assert_body(&r, "GET /one 0");
    next_response(&t, c, &r);
    assert_body(&r, "POST /two 3");
    next_response(&t, c, &r);
    assert_body(&r, "GET /three 0");
    cr_assert_eq(t.requests, 3);
    cr_assert_str_eq(t.seen[1].path, "/two");
    resp_free(&r);
    teardown(&t);
}

Test(http_server, pipelined_request_waits_for_parked_one)
{
    struct ctx t;
    struct client *c;
    struct resp r = {0};

    setup(&t, 1024);
    t.answer = answer_park_first;
    t.later = later_echo;
    t.timer_ms = 60;
    c = client_new(&t);
    client_send_str(&t, c, "GET /one HTTP/1.1\r\n\r\nGET /two HTTP/1.1\r\n\r\n");
    RUN_UNTIL(&t, t.requests == 1);
    run_for(&t, 20);
    cr_assert_eq(t.requests, 1, "second request handled while the first is parked");
    cr_assert_eq(c->in.len, 0);
    next_response(&t, c, &r);
    assert_body(&r, "first");
    next_response(&t, c, &r);
    assert_body(&r, "GET /two 0");
    cr_assert_eq(t.requests, 2);
    resp_free(&r);
    teardown(&t);
}

/* A parked request with more than the read cap (1 MiB) pipelined behind it:
 * once the first is answered, the second must be read in full. */
Test(http_server, large_pipelined_request_behind_parked_one)
{
    struct ctx t;
    struct client *c;
    struct resp r = {0};
    const size_t big = (size_t) 1536 * 1024;
    char head[128];
    char *body = malloc(big);
    size_t sent = 0;
    uint64_t dl;

    cr_assert_not_null(body);
    memset(body, 'z', big);
    setup(&t, 4u << 20);
    t.answer = answer_park_first;
    t.later = later_echo;
    t.timer_ms = 100;
    c = client_new(&t);
    snprintf(head, sizeof head, "GET /one HTTP/1.1\r\n\r\nPOST /two HTTP/1.1\r\n"
                                "Content-Length: %zu\r\n\r\n", big);
    client_send_str(&t, c, head);
    /* Send what the sockets take; the rest goes when the server reads again. */
    dl = now_ms() + DEADLINE_MS;
    while (t.requests < 2 && now_ms() < dl) {
        if (sent < big) {
            ssize_t w = write(c->fd, body + sent, big - sent);

            if (w > 0)
                sent += (size_t) w;
        }
        turn(&t);
    }
    cr_expect_eq(t.requests, 2, "second request stalled: %zu of %zu body bytes sent, first %s",
                 sent, big, t.parked ? "still parked" : "answered");
    if (t.requests == 2) {
        cr_assert_eq(t.seen[1].body.len, big);
        next_response(&t, c, &r);
        assert_body(&r, "first");
    }
    free(body);
    resp_free(&r);
    teardown(&t);
}

Test(http_server, connection_close_closes_after_the_answer)
{
    struct ctx t;
    struct client *c;
    struct resp r = {0};
    char v[32];

    setup(&t, 1024);
    c = client_new(&t);
    client_send_str(&t, c, "GET /bye HTTP/1.1\r\nConnection: close\r\n\r\n");
    next_response(&t, c, &r);
    assert_raw(&r, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n"
                   "Content-Length: 10\r\n\r\nGET /bye 0");
    assert_closed_after(&t, c);
    cr_assert_eq(t.gones, 0);
    /* HTTP/1.0 without keep-alive too. */
    c = client_new(&t);
    client_send_str(&t, c, "GET /old HTTP/1.0\r\n\r\n");
    next_response(&t, c, &r);
    cr_assert(resp_header(&r, "connection", v, sizeof v));
    cr_assert_str_eq(v, "close");
    assert_closed_after(&t, c);
    resp_free(&r);
    teardown(&t);
}

Test(http_server, connection_close_ignores_pipelined_rest)
{
    struct ctx t;
    struct client *c;
    struct resp r = {0};

    setup(&t, 1024);
    c = client_new(&t);
    client_send_str(&t, c, "GET /a HTTP/1.1\r\nConnection: close\r\n\r\nGET /b HTTP/1.1\r\n\r\n");
    next_response(&t, c, &r);
    assert_body(&r, "GET /a 0");
    RUN_UNTIL(&t, c->eof);
    cr_assert_eq(t.requests, 1);
    resp_free(&r);
    teardown(&t);
}

Test(http_server, malformed_head_is_400_and_close)
{
    static const char *const bad[] = {
        "GARBAGE\r\n\r\n",
        "GET / HTTP/1.1\r\nBad Header\r\n\r\n",
        "GET / HTTP/1.1\r\nX: a\rb\r\n\r\n",
        "GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        "GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
        "GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
    };

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct ctx t;
        struct client *c;
        struct resp r = {0};

        setup(&t, 1024);
        c = client_new(&t);
        client_send_str(&t, c, bad[i]);
        next_response(&t, c, &r);
        assert_raw(&r, "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n"
                       "Content-Length: 66\r\nConnection: close\r\n\r\n"
                       "{\"errorMessage\":\"Malformed HTTP request\",\"errorType\":\"BadRequest\"}");
        assert_closed_after(&t, c);
        cr_assert_eq(t.heads, 0, "case %zu reached on_head", i);
        cr_assert_eq(t.requests, 0, "case %zu reached on_request", i);
        resp_free(&r);
        teardown(&t);
    }
}

Test(http_server, unsupported_coding_is_501)
{
    struct ctx t;
    struct client *c;
    struct resp r = {0};

    setup(&t, 1024);
    c = client_new(&t);
    client_send_str(&t, c, "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n");
    next_response(&t, c, &r);
    cr_assert_eq(r.status, 501);
    assert_closed_after(&t, c);
    cr_assert_eq(t.requests, 0);
    resp_free(&r);
    teardown(&t);
}

Test(http_server, head_over_64k_is_431)
{
    struct ctx t;
    struct client *c;
    struct resp r = {0};
    const size_t n = 70000;
    char *big = malloc(n + 64);

    cr_assert_not_null(big);
    strcpy(big, "GET / HTTP/1.1\r\nX-Big: ");
    size_t l = strlen(big);

    memset(big + l, 'a', n);
    strcpy(big + l + n, "\r\n\r\n");
    setup(&t, 1024);
    c = client_new(&t);
    client_send_str(&t, c, big);
    next_response(&t, c, &r);
    cr_assert_eq(r.status, 431);
    assert_body(&r, "{\"errorMessage\":\"Request header fields too large\","
                    "\"errorType\":\"RequestHeaderFieldsTooLarge\"}");
    assert_closed_after(&t, c);
    cr_assert_eq(t.heads, 0);
    free(big);
    resp_free(&r);
    teardown(&t);
}

Test(http_server, head_over_64k_without_end_is_431)
{
    /* A head that never ends must not be buffered forever. */
    struct ctx t;
    struct client *c;
    struct resp r = {0};
    const size_t n = 70000;
    char *big = malloc(n + 64);

    cr_assert_not_null(big);
    strcpy(big, "GET / HTTP/1.1\r\nX-Big: ");
    memset(big + strlen(big), 'a', n);
    big[23 + n] = '\0';
    setup(&t, 1024);
    c = client_new(&t);
    client_send_str(&t, c, big);
    next_response(&t, c, &r);
    cr_assert_eq(r.status, 431);
    assert_closed_after(&t, c);
    free(big);
    resp_free(&r);
    teardown(&t);
}

/* ---- streamed request bodies ------------------------------------------------------ */

static void stream_sink(void *arg, const char *p, size_t n)
{
    struct ctx *t = arg;

    cr_assert_gt(n, 0, "empty piece");
    t->stream_calls++;
    cr_assert_eq(ld_buf_append(&t->streamed, p, n), 0);
}

static void head_stream(struct ctx *t, struct http_req *req)
{
    http_req_stream_body(req, stream_sink, t);
}

Test(http_server, stream_body_delivers_pieces_as_they_arrive)
{
    struct ctx t;
    struct client *c;
    struct resp r = {0};
    const size_t n = 30000;
    char *body = malloc(n);

    cr_assert_not_null(body);
    for (size_t i = 0; i < n; i++)
        body[i] = (char) (i % 251);
    setup(&t, 16); /* far below the body: streaming bypasses the cap */
    t.on_head_hook = head_stream;
    c = client_new(&t);
    client_send_str(&t, c, "POST /s HTTP/1.1\r\nContent-Length: 30000\r\n\r\n");
    client_send(&t, c, body, 10000);
    RUN_UNTIL(&t, t.streamed.len == 10000);
    cr_assert_eq(t.requests, 0, "on_request before the body ended");
    client_send(&t, c, body + 10000, 10000);
    RUN_UNTIL(&t, t.streamed.len == 20000);
    client_send(&t, c, body + 20000, 10000);
    next_response(&t, c, &r);
    cr_assert_geq(t.stream_calls, 3, "%zu pieces", t.stream_calls);
    cr_assert_eq(t.streamed.len, n);
    cr_assert(memcmp(t.streamed.data, body, n) == 0);
    cr_assert_eq(t.requests, 1);
    cr_assert_eq(t.seen[0].streamed_before, n, "on_request before the last piece");
    cr_assert_eq(t.seen[0].body.len, 0, "streamed body also buffered");
    cr_assert(!t.seen[0].too_large);
    cr_assert_eq(t.seen[0].body_seen, n);
    assert_body(&r, "POST /s 0");
    free(body);
    resp_free(&r);
    teardown(&t);
}

Test(http_server, stream_chunked_body)
{
    struct ctx t;
    struct client *c;
    struct resp r = {0};

    setup(&t, 1024);
    t.on_head_hook = head_stream;
    c = client_new(&t);
    client_send_str(&t, c, "POST /s HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n");
    RUN_UNTIL(&t, t.streamed.len == 4);
    cr_assert_eq(t.requests, 0);
    client_send_str(&t, c, "2\r\nef\r\n0\r\n\r\n");
    next_response(&t, c, &r);
    cr_assert_eq(t.streamed.len, 6);
    cr_assert(memcmp(t.streamed.data, "abcdef", 6) == 0);
    cr_assert_eq(t.seen[0].body_seen, 6);
    resp_free(&r);
    teardown(&t);
}

/* ---- chunked answers ---------------------------------------------------------------- */

static void answer_chunked(struct ctx *t, struct http_req *req)
{
    (void) t;
    http_reply_begin(req, 200, "text/plain", "X-A: b\r\n");
    http_reply_chunk(req, "hello ", 6);
    http_reply_chunk(req, "", 0); /* must not end the body */
    http_reply_chunk(req, "world", 5);
    http_reply_end(req, "X-T: 1\r\n");
}

Test(http_server, reply_chunked_is_valid)
{
    struct ctx t;
    struct client *c;
    struct resp r = {0};

    setup(&t, 1024);
    t.answer = answer_chunked;
    c = client_new(&t);
    client_send_str(&t, c, "GET /c HTTP/1.1\r\n\r\n");
    next_response(&t, c, &r);
    assert_raw(&r, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-A: b\r\n"
                   "Transfer-Encoding: chunked\r\n\r\n"
                   "6\r\nhello \r\n5\r\nworld\r\n0\r\nX-T: 1\r\n\r\n");
    cr_assert(r.chunked);
    assert_body(&r, "hello world");
    cr_assert_eq(r.trailers_len, 8);
    cr_assert(memcmp(r.trailers, "X-T: 1\r\n", 8) == 0);
    /* Keep-alive: the next request is served. */
    client_send_str(&t, c, "GET /d HTTP/1.1\r\n\r\n");
    next_response(&t, c, &r);
    assert_body(&r, "hello world");
    cr_assert_eq(t.requests, 2);
    resp_free(&r);
    teardown(&t);
}

static void answer_chunked_begin(struct ctx *t, struct http_req *req)
{
    http_reply_begin(req, 200, NULL, NULL);
    answer_park(t, req);
}

static int chunk_step;

static void later_chunks(struct ctx *t, struct http_req *req)
{
    char piece[4096];

    if (chunk_step == 0) /* a chunked answer is under way: this must be ignored */
        http_reply(req, 500, "text/plain", NULL, "oops", 4);
    if (chunk_step < 3) {
        memset(piece, 'a' + chunk_step, sizeof piece);
        http_reply_chunk(req, piece, sizeof piece);
        chunk_step++;
        arm_timer(t);
        return;
    }
    t->parked = NULL;
    http_reply_end(req, NULL);
}

Test(http_server, reply_chunked_over_time_and_a_plain_reply_ignored)
{
    struct ctx t;
    struct client *c;
    struct resp r = {0};

    setup(&t, 1024);
    t.answer = answer_chunked_begin;
    t.later = later_chunks;
    t.timer_ms = 40;
    c = client_new(&t);
    client_send_str(&t, c, "GET /c HTTP/1.1\r\n\r\n");
    /* Each chunk goes out when it is made, before the answer ends. */
    RUN_UNTIL(&t, c->in.len > 4096);
    cr_assert_lt(chunk_step, 3, "first chunk arrived only with the end");
    cr_assert(!try_response(c, &r), "answer complete after one chunk");
    next_response(&t, c, &r);
    cr_assert(r.chunked);
    cr_assert_eq(r.body.len, 3 * 4096);
    for (size_t i = 0; i < r.body.len; i++)
        cr_assert_eq(r.body.data[i], 'a' + (int) (i / 4096));
    cr_assert(strstr(r.head, "Transfer-Encoding: chunked\r\n"));
    cr_assert_null(strstr(r.head, "Content-Type"));
    cr_assert_eq(r.status, 200);
    assert_still_open(&t, c);
    cr_assert_eq(c->in.len, c->off, "stray bytes after the chunked answer");
    resp_free(&r);
    teardown(&t);
}

static void answer_one(struct ctx *t, struct http_req *req)
{
    (void) t;
    http_reply(req, 200, NULL, NULL, "one", 3);
}

Test(http_server, on_gone_during_chunked_answer)
{
    struct ctx t;
    struct client *c;

    setup(&t, 1024);
    t.answer = answer_chunked_begin;
    c = client_new(&t);
    client_send_str(&t, c, "GET /c HTTP/1.1\r\n\r\n");
    RUN_UNTIL(&t, t.requests == 1);
    client_close(c);
    RUN_UNTIL(&t, t.gones == 1);
    cr_assert_null(t.parked);
    teardown(&t);
}

Test(http_server, second_request_on_new_connection_while_first_parked)
{
    struct ctx t;
    struct client *a, *b;
    struct resp r = {0};

    setup(&t, 1024);
    t.answer = answer_park_first;
    t.later = later_echo;
    t.timer_ms = 80;
    a = client_new(&t);
    b = client_new(&t);
    client_send_str(&t, a, "GET /one HTTP/1.1\r\n\r\n");
    RUN_UNTIL(&t, t.requests == 1);
    t.answer = answer_one;
    client_send_str(&t, b, "GET /two HTTP/1.1\r\n\r\n");
    next_response(&t, b, &r);
    assert_body(&r, "one");
    cr_assert_eq(a->in.len, 0, "parked connection answered early");
    next_response(&t, a, &r);
    assert_body(&r, "first");
    resp_free(&r);
    teardown(&t);
}

/* ---- listening ------------------------------------------------------------------------ */

Test(http_server, listen_rejects_bad_addresses)
{
    static const char *const bad[] = {"nohostport", ":9001", "999.1.1.1:0", "127.0.0.1:notaport",
                                      "example.com:0"};
    int before = count_fds();
    struct event_base *base = event_base_new();

    cr_assert_not_null(base);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct ld_err err = {0};
        struct http_server *s = http_server_new(base, &ops, NULL, 16);
        int rc;

        cr_assert_not_null(s);
        rc = http_server_listen(s, bad[i], &err);
        cr_assert_lt(rc, 0, "%s accepted", bad[i]);
        cr_assert_eq(rc, -err.code);
        cr_assert_neq(err.msg[0], '\0', "%s: no message", bad[i]);
        http_server_free(s);
    }
    event_base_free(base);
    libevent_global_shutdown();
    cr_assert_eq(count_fds(), before);
#ifdef HAVE_LSAN
    cr_assert_eq(__lsan_do_recoverable_leak_check(), 0);
#endif
}

Test(http_server, listen_localhost_and_port_in_use)
{
    struct ctx t;
    struct ld_err err = {0};
    struct http_server *s2, *s3;
    char addr[64];
    struct client *c;
    struct resp r = {0};

    setup(&t, 1024);
    s2 = http_server_new(t.base, &ops, &t, 16);
    cr_assert_eq(http_server_listen(s2, "localhost:0", &err), 0, "%s", err.msg);
    cr_assert_gt(http_server_port(s2), 0);
    cr_assert_neq(http_server_port(s2), t.port);
    /* The port of a listening server is taken. */
    s3 = http_server_new(t.base, &ops, &t, 16);
    snprintf(addr, sizeof addr, "127.0.0.1:%d", t.port);
    cr_assert_eq(http_server_listen(s3, addr, &err), -EADDRINUSE, "%s", err.msg);
    http_server_free(s3);
    http_server_free(s2);
    /* The first still serves. */
    c = client_new(&t);
    client_send_str(&t, c, "GET / HTTP/1.1\r\n\r\n");
    next_response(&t, c, &r);
    cr_assert_eq(r.status, 200);
    resp_free(&r);
    teardown(&t);
}

/* ---- answers larger than the socket buffer ------------------------------------------- */

#define BIG_ANSWER ((size_t) 16 << 20) /* well past any loopback socket buffer */

static void answer_big(struct ctx *t, struct http_req *req)
{
    char *p = malloc(BIG_ANSWER);

    (void) t;
    cr_assert_not_null(p);
    for (size_t i = 0; i < BIG_ANSWER; i++)
        p[i] = (char) ('A' + i % 23);
    http_reply(req, 200, "application/octet-stream", NULL, p, BIG_ANSWER);
    free(p);
}

static void assert_big_body(const struct resp *r)
{
    cr_assert_eq(r->body.len, BIG_ANSWER, "got %zu of %zu bytes", r->body.len, BIG_ANSWER);
    for (size_t i = 0; i < BIG_ANSWER; i++)
        if (r->body.data[i] != (char) ('A' + i % 23))
            cr_assert_fail("byte %zu differs", i);
}

Test(http_server, big_answer_goes_out_via_write_events)
{
    struct ctx t;
    struct client *c;
    struct resp r = {0};

    setup(&t, 1024);
    t.answer = answer_big;
    c = client_new(&t);
    client_send_str(&t, c, "GET /big HTTP/1.1\r\n\r\n");
    next_response(&t, c, &r);
    assert_big_body(&r);
    /* Still keep-alive afterwards. */
    t.answer = answer_echo;
    client_send_str(&t, c, "GET /small HTTP/1.1\r\n\r\n");
    next_response(&t, c, &r);
    assert_body(&r, "GET /small 0");
    resp_free(&r);
    teardown(&t);
}

Test(http_server, big_answer_with_connection_close_is_complete_then_closed)
{
    struct ctx t;
    struct client *c;
    struct resp r = {0};

    setup(&t, 1024);
    t.answer = answer_big;
    c = client_new(&t);
    client_send_str(&t, c, "GET /big HTTP/1.1\r\nConnection: close\r\n\r\n");
    next_response(&t, c, &r);
    assert_big_body(&r);
    assert_closed_after(&t, c);
    resp_free(&r);
    teardown(&t);
}

/* A client that half-closes after a complete request (shutdown(SHUT_WR), as
 * `nc -N` does) still wants the whole answer: EOF on input must not discard
 * output that is still being written. */
Test(http_server, big_answer_survives_client_half_close)
{
    struct ctx t;
    struct client *c;
    struct resp r = {0};

    setup(&t, 1024);
    t.answer = answer_big;
    c = client_new(&t);
    client_send_str(&t, c, "GET /big HTTP/1.1\r\n\r\n");
    cr_assert_eq(shutdown(c->fd, SHUT_WR), 0);
    RUN_UNTIL(&t, c->eof || c->in.len >= BIG_ANSWER);
    RUN_UNTIL(&t, try_response(c, &r) || c->eof);
    cr_expect(r.raw != NULL && r.body.len == BIG_ANSWER,
              "answer cut short after the client's half-close: %zu of %zu+ bytes arrived",
              c->in.len, BIG_ANSWER);
    cr_assert_eq(t.requests, 1);
    resp_free(&r);
    teardown(&t);
}
