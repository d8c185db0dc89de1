/* tests/unit/common/test_http_parse.c: the HTTP/1.1 parser against what real
 * runtimes send and against what a hostile peer could send.
 *
 * Heads are checked at every prefix (0 = need more), chunked bodies fed whole,
 * a byte at a time and in random splits, since sockets hand us any of those. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/http_parse.h"

#include "../checks.h"

/* Criterion ignores LeakSanitizer's verdict at a worker's exit, so tests that
 * allocate check for leaks themselves as their last step. The parser itself
 * never allocates; this keeps the helpers below honest. */
/* ---- helpers ------------------------------------------------------------ */

static ssize_t req(const char *s, struct http_head *h)
{
    return http_parse_request_head(s, strlen(s), h);
}

static ssize_t resp(const char *s, struct http_head *h)
{
    return http_parse_response_head(s, strlen(s), h);
}

static void assert_span(const char *p, size_t n, const char *want)
{
    cr_assert_not_null(p, "expected \"%s\", got NULL", want);
    cr_assert_eq(n, strlen(want), "expected \"%s\" (%zu bytes), got \"%.*s\" (%zu)", want,
                 strlen(want), (int) n, p, n);
    cr_assert(memcmp(p, want, n) == 0, "expected \"%s\", got \"%.*s\"", want, (int) n, p);
}

static void assert_field(const struct http_head *h, const char *name, const char *want)
{
    size_t n = 0;
    const char *v = http_head_get(h, name, &n);

    cr_assert_not_null(v, "field %s missing", name);
    assert_span(v, n, want);
}

/* A request must be complete at its full length and incomplete before it. */
static void assert_every_prefix_incomplete(const char *s, size_t full)
{
    struct http_head h;

    for (size_t i = 0; i < full; i++)
        cr_assert_eq(http_parse_request_head(s, i, &h), 0, "prefix %zu of %zu", i, full);
}

struct sink {
    char data[1 << 16];
    size_t len;
    size_t calls;
};

static void sink_add(void *arg, const char *p, size_t n)
{
    struct sink *s = arg;

    cr_assert_leq(n, sizeof s->data - s->len, "sink overflow");
    memcpy(s->data + s->len, p, n);
    s->len += n;
    s->calls++;
}

/* The decoder's observable outcome after feeding some bytes. */
struct outcome {
    ssize_t rc;      /* negative error, else total bytes consumed */
    bool done;
    struct sink out; /* decoded data */
    size_t trailers_len;
    char trailers[HTTP_MAX_TRAILERS];
};

static struct http_chunked *chunked_new(void)
{
    struct http_chunked *c = calloc(1, sizeof *c);

    cr_assert_not_null(c);
    return c;
}

/* Feeds `in` in pieces no longer than `step` (0: random lengths from `seed`),
 * stopping at an error or at the end of the body, like a server would. */
static void feed_split(const char *in, size_t n, size_t step, unsigned seed, struct outcome *o)
{
    struct http_chunked *c = chunked_new();
    size_t pos = 0;

    memset(o, 0, sizeof *o);
    while (pos < n && !c->done) {
        size_t piece = step;
        ssize_t rc;

        if (step == 0) {
            seed = seed * 1103515245u + 12345u;
            piece = 1 + (seed >> 16) % 17;
        }
        if (piece > n - pos)
            piece = n - pos;
        rc = http_chunked_feed(c, in + pos, piece, sink_add, &o->out);
        if (rc < 0) {
            o->rc = rc;
            break;
        }
        cr_assert_leq((size_t) rc, piece);
        cr_assert(c->done || (size_t) rc == piece, "short count without done");
        pos += (size_t) rc;
        o->rc = (ssize_t) pos;
    }
    o->done = c->done;
    o->trailers_len = c->trailers_len;
    memcpy(o->trailers, c->trailers, c->trailers_len);
    free(c);
}

static void feed_whole(const char *in, size_t n, struct outcome *o)
{
    feed_split(in, n, n ? n : 1, 0, o);
}

static void assert_same_outcome(const struct outcome *a, const struct outcome *b, const char *what)
{
    cr_assert_eq(a->rc, b->rc, "%s: rc %zd vs %zd", what, a->rc, b->rc);
    cr_assert_eq(a->done, b->done, "%s: done", what);
    cr_assert_eq(a->out.len, b->out.len, "%s: data length", what);
    cr_assert(memcmp(a->out.data, b->out.data, a->out.len) == 0, "%s: data", what);
    cr_assert_eq(a->trailers_len, b->trailers_len, "%s: trailers length", what);
    cr_assert(memcmp(a->trailers, b->trailers, a->trailers_len) == 0, "%s: trailers", what);
}

/* Whole-buffer, byte-at-a-time and several random splits must agree. */
static void assert_split_invariant(const char *in, size_t n)
{
    struct outcome *whole = calloc(1, sizeof *whole);
    struct outcome *other = calloc(1, sizeof *other);

    cr_assert(whole && other);
    feed_whole(in, n, whole);
    feed_split(in, n, 1, 0, other);
    assert_same_outcome(whole, other, "byte at a time");
    for (unsigned seed = 1; seed <= 20; seed++) {
        feed_split(in, n, 0, seed, other);
        assert_same_outcome(whole, other, "random split");
    }
    free(whole);
    free(other);
}

static ssize_t chunked_once(const char *in, struct outcome *o)
{
    feed_whole(in, strlen(in), o);
    return o->rc;
}

/* ---- request heads ------------------------------------------------------ */

Test(http_request, runtime_next_without_body)
{
    static const char s[] = "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\n"
                            "Host: 127.0.0.1:9001\r\n"
                            "User-Agent: aws-lambda-go/1.47.0\r\n"
                            "Accept-Encoding: gzip\r\n"
                            "\r\n";
    struct http_head h;

    cr_assert_eq(req(s, &h), (ssize_t) strlen(s));
    assert_span(h.method, h.method_len, "GET");
    assert_span(h.target, h.target_len, "/2018-06-01/runtime/invocation/next");
    cr_assert_eq(h.minor, 1);
    cr_assert_eq(h.nfields, 3);
    assert_span(h.fields[0].name, h.fields[0].name_len, "Host");
    assert_span(h.fields[0].value, h.fields[0].value_len, "127.0.0.1:9001");
    assert_span(h.fields[2].name, h.fields[2].name_len, "Accept-Encoding");
    cr_assert_eq(h.content_length, -1);
    cr_assert_not(h.chunked);
    cr_assert(h.keep_alive);
    cr_assert_not(h.expect_continue);
    /* Everything points into the caller's buffer. */
    cr_assert(h.method == s && h.target == s + 4);
    cr_assert(h.fields[1].value > s && h.fields[1].value < s + sizeof s);
    assert_every_prefix_incomplete(s, strlen(s));
}

Test(http_request, post_with_content_length_stops_at_body)
{
    static const char s[] = "POST /2018-06-01/runtime/invocation/8476a536/response HTTP/1.1\r\n"
                            "Host: 127.0.0.1:9001\r\n"
                            "Content-Type: application/json\r\n"
                            "Content-Length: 13\r\n"
                            "\r\n"
                            "{\"ok\": true}\n";
    size_t head = strlen(s) - 13;
    struct http_head h;

    cr_assert_eq(req(s, &h), (ssize_t) head);
    assert_span(h.method, h.method_len, "POST");
    assert_span(h.target, h.target_len, "/2018-06-01/runtime/invocation/8476a536/response");
    cr_assert_eq(h.content_length, 13);
    cr_assert_not(h.chunked);
    assert_field(&h, "content-type", "application/json");
    assert_every_prefix_incomplete(s, head);
}

Test(http_request, go_chunked_with_declared_trailers)
{
    static const char s[] =
        "POST /2018-06-01/runtime/invocation/abc-1/response HTTP/1.1\r\n"
        "Host: 127.0.0.1:9001\r\n"
        "User-Agent: Go-http-client/1.1\r\n"
        "Transfer-Encoding: chunked\r\n"
        "Trailer: Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body\r\n"
        "\r\n"
        "7\r\npartial\r\n"
        "0\r\n"
        "Lambda-Runtime-Function-Error-Type: Runtime.Panic\r\n"
        "Lambda-Runtime-Function-Error-Body: eyJlcnJvck1lc3NhZ2UiOiJib29tIn0=\r\n"
        "\r\n";
    struct http_head h;
    struct outcome *o = calloc(1, sizeof *o);
    struct http_field tf[4];
    const char *v;
    ssize_t head;
    size_t n;

    cr_assert_not_null(o);
    head = req(s, &h);
    cr_assert_gt(head, 0);
    cr_assert(h.chunked);
    cr_assert_eq(h.content_length, -1);
    assert_field(&h, "trailer",
                 "Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body");

    feed_whole(s + head, strlen(s) - (size_t) head, o);
    cr_assert_eq(o->rc, (ssize_t) (strlen(s) - (size_t) head));
    cr_assert(o->done);
    assert_span(o->out.data, o->out.len, "partial");
    assert_span(o->trailers, o->trailers_len,
                "Lambda-Runtime-Function-Error-Type: Runtime.Panic\r\n"
                "Lambda-Runtime-Function-Error-Body: eyJlcnJvck1lc3NhZ2UiOiJib29tIn0=\r\n");

    cr_assert_eq(http_parse_fields(o->trailers, o->trailers_len, tf, 4), 2);
    v = http_field_get(tf, 2, "lambda-runtime-function-error-type", &n);
    assert_span(v, n, "Runtime.Panic");
    v = http_field_get(tf, 2, "LAMBDA-RUNTIME-FUNCTION-ERROR-BODY", &n);
    assert_span(v, n, "eyJlcnJvck1lc3NhZ2UiOiJib29tIn0=");
    assert_split_invariant(s + head, strlen(s) - (size_t) head);
    free(o);
    assert_no_leaks();
}

Test(http_request, pipelined_heads_parse_one_at_a_time)
{
    static const char s[] = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
                            "GET /b HTTP/1.1\r\nHost: y\r\nConnection: close\r\n\r\n";
    size_t first = strlen("GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
    struct http_head h;

    cr_assert_eq(req(s, &h), (ssize_t) first);
    assert_span(h.target, h.target_len, "/a");
    cr_assert_eq(h.nfields, 1);
    assert_field(&h, "host", "x");
    cr_assert(h.keep_alive);

    cr_assert_eq(req(s + first, &h), (ssize_t) (strlen(s) - first));
    assert_span(h.target, h.target_len, "/b");
    assert_field(&h, "host", "y");
    cr_assert_not(h.keep_alive);
}

Test(http_request, bare_lf_line_endings_accepted)
{
    static const char s[] = "GET /x HTTP/1.1\nHost: h\nX-A: 1\r\n\n";
    struct http_head h;

    cr_assert_eq(req(s, &h), (ssize_t) strlen(s));
    cr_assert_eq(h.nfields, 2);
    assert_field(&h, "x-a", "1");
    assert_field(&h, "host", "h");
}

Test(http_request, leading_empty_lines_skipped)
{
    static const char s[] = "\r\n\n\r\nPUT /p HTTP/1.0\r\n\r\n";
    struct http_head h;

    cr_assert_eq(req(s, &h), (ssize_t) strlen(s));
    assert_span(h.method, h.method_len, "PUT");
    assert_span(h.target, h.target_len, "/p");
    cr_assert_eq(h.minor, 0);
    cr_assert_eq(h.nfields, 0);
    cr_assert_not(h.keep_alive);
    cr_assert_eq(req("\r\n\r\n", &h), 0);
}

Test(http_request, flood_of_empty_lines_refused)
{
    struct http_head h;
    char s[64] = "";

    /* Eight are skipped; the ninth is not a client being robust. */
    for (int i = 0; i < 8; i++)
        strcat(s, i % 2 ? "\n" : "\r\n");
    strcat(s, "GET / HTTP/1.1\r\n\r\n");
    cr_assert_eq(req(s, &h), (ssize_t) strlen(s));
    assert_span(h.method, h.method_len, "GET");
    cr_assert_eq(req("\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n", &h), 0);
    cr_assert_eq(req("\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n", &h), -EBADMSG);
    cr_assert_eq(req("\n\n\n\n\n\n\n\n\nGET / HTTP/1.1\r\n\r\n", &h), -EBADMSG);
}

Test(http_request, non_http_refused_before_a_line_ends)
{
    static const char tls[] = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03";
    struct http_head h;

    cr_assert_eq(http_parse_request_head(tls, sizeof tls - 1, &h), -EBADMSG);
    cr_assert_eq(req("SSH-2.0-OpenSSH_9.2", &h), -EBADMSG);
    cr_assert_eq(req("ABCDEFGHIJKLMNOPQ", &h), -EBADMSG); /* method too long */
    cr_assert_eq(req(" GET", &h), -EBADMSG);
    cr_assert_eq(req("\r\nGET\t", &h), -EBADMSG);
    /* Still plausible: wait for more. */
    cr_assert_eq(req("ABCDEFGHIJKLMNOP", &h), 0);
    cr_assert_eq(req("GET /\x01", &h), 0); /* the target is judged when its line ends */
    cr_assert_eq(req("\r\n\r", &h), 0);
    cr_assert_eq(http_parse_request_head(NULL, 0, &h), 0);
    cr_assert_eq(http_parse_response_head(NULL, 0, &h), 0);
}

Test(http_request, keep_alive_rules)
{
    struct http_head h;

    cr_assert_gt(req("GET / HTTP/1.1\r\n\r\n", &h), 0);
    cr_assert(h.keep_alive);
    cr_assert_gt(req("GET / HTTP/1.1\r\nConnection: close\r\n\r\n", &h), 0);
    cr_assert_not(h.keep_alive);
    cr_assert_gt(req("GET / HTTP/1.1\r\nConnection: keep-alive, CLOSE\r\n\r\n", &h), 0);
    cr_assert_not(h.keep_alive);
    cr_assert_gt(req("GET / HTTP/1.1\r\nConnection: Upgrade\r\nConnection: Close\r\n\r\n", &h),
                 0);
    cr_assert_not(h.keep_alive);
    cr_assert_gt(req("GET / HTTP/1.1\r\nConnection: closed\r\n\r\n", &h), 0);
    cr_assert(h.keep_alive);
    cr_assert_gt(req("GET / HTTP/1.0\r\n\r\n", &h), 0);
    cr_assert_not(h.keep_alive);
    cr_assert_gt(req("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", &h), 0);
    cr_assert(h.keep_alive);
    cr_assert_gt(req("GET / HTTP/1.0\r\nConnection: te, ,keep-alive \r\n\r\n", &h), 0);
    cr_assert(h.keep_alive);
    cr_assert_gt(req("GET / HTTP/1.0\r\nConnection: keep-alive,close\r\n\r\n", &h), 0);
    cr_assert_not(h.keep_alive);
}

Test(http_request, expect_continue)
{
    struct http_head h;

    cr_assert_gt(req("POST / HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\n", &h),
                 0);
    cr_assert(h.expect_continue);
    cr_assert_eq(h.content_length, 1);
    cr_assert_gt(req("POST / HTTP/1.1\r\nexpect:  100-continue \r\n\r\n", &h), 0);
    cr_assert(h.expect_continue);
    cr_assert_gt(req("POST / HTTP/1.1\r\nExpect: 100-continues\r\n\r\n", &h), 0);
    cr_assert_not(h.expect_continue);
    cr_assert_gt(req("POST / HTTP/1.1\r\nX-Expect: 100-continue\r\n\r\n", &h), 0);
    cr_assert_not(h.expect_continue);
}

Test(http_request, content_length_values)
{
    struct http_head h;

    cr_assert_gt(req("POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n", &h), 0);
    cr_assert_eq(h.content_length, 0);
    cr_assert_gt(req("POST / HTTP/1.1\r\ncontent-length: \t42 \r\n\r\n", &h), 0);
    cr_assert_eq(h.content_length, 42);
    cr_assert_gt(req("POST / HTTP/1.1\r\nContent-Length: 9223372036854775807\r\n\r\n", &h), 0);
    cr_assert_eq(h.content_length, INT64_MAX);
    cr_assert_gt(req("POST / HTTP/1.1\r\nContent-Length: 00000000000000000000000017\r\n\r\n", &h),
                 0);
    cr_assert_eq(h.content_length, 17);
    /* Repeats that agree are one value (RFC 9110 8.6). */
    cr_assert_gt(req("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 005\r\n\r\n", &h),
                 0);
    cr_assert_eq(h.content_length, 5);
}

Test(http_request, content_length_invalid)
{
    static const char *const bad[] = {
        "",       "-1", "+5",  "0x10", "1 2", "5a",   "5, 5", "5,", "\"5\"", "1e3",
        "9223372036854775808", "18446744073709551616", "99999999999999999999999999",
    };
    struct http_head h;
    char s[256];

    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        snprintf(s, sizeof s, "POST / HTTP/1.1\r\nContent-Length: %s\r\n\r\n", bad[i]);
        cr_assert_eq(req(s, &h), -EBADMSG, "Content-Length: %s", bad[i]);
    }
    cr_assert_eq(req("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", &h),
                 -EBADMSG);
}

Test(http_request, transfer_encoding)
{
    struct http_head h;

    cr_assert_gt(req("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", &h), 0);
    cr_assert(h.chunked);
    cr_assert_eq(h.content_length, -1);
    cr_assert_gt(req("POST / HTTP/1.1\r\ntransfer-encoding: ChUnKeD\r\n\r\n", &h), 0);
    cr_assert(h.chunked);
    cr_assert_gt(req("POST / HTTP/1.1\r\nTransfer-Encoding: , chunked ,\r\n\r\n", &h), 0);
    cr_assert(h.chunked);

    cr_assert_eq(req("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", &h),
                 -ENOTSUP);
    cr_assert_eq(req("POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", &h),
                 -ENOTSUP);
    cr_assert_eq(req("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", &h), -ENOTSUP);
    cr_assert_eq(req("POST / HTTP/1.1\r\nTransfer-Encoding: identity\r\n\r\n", &h), -ENOTSUP);
    cr_assert_eq(req("POST / HTTP/1.1\r\nTransfer-Encoding: chunked;q=1\r\n\r\n", &h),
                 -ENOTSUP);
    /* Repeated fields are one list: this is "gzip, chunked". */
    cr_assert_eq(req("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n",
                     &h),
                 -ENOTSUP);
    cr_assert_eq(req("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n",
                     &h),
                 -EBADMSG);
    cr_assert_eq(req("POST / HTTP/1.1\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", &h),
                 -EBADMSG);
    cr_assert_eq(req("POST / HTTP/1.1\r\nTransfer-Encoding:\r\n\r\n", &h), -EBADMSG);
    cr_assert_eq(req("POST / HTTP/1.1\r\nTransfer-Encoding: ,\r\n\r\n", &h), -EBADMSG);
}

Test(http_request, content_length_with_chunked_rejected)
{
    struct http_head h;

    cr_assert_eq(req("POST / HTTP/1.1\r\nContent-Length: 5\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n",
                     &h),
                 -EBADMSG);
    cr_assert_eq(req("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
                     "Content-Length: 5\r\n\r\n",
                     &h),
                 -EBADMSG);
    /* A 1.0 peer cannot send chunked; its framing is not to be trusted. */
    cr_assert_eq(req("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", &h), -EBADMSG);
}

Test(http_request, versions)
{
    struct http_head h;

    cr_assert_gt(req("GET / HTTP/1.0\r\n\r\n", &h), 0);
    cr_assert_eq(h.minor, 0);
    cr_assert_gt(req("GET / HTTP/1.1\r\n\r\n", &h), 0);
    cr_assert_eq(h.minor, 1);
    cr_assert_eq(req("GET / HTTP/2.0\r\n\r\n", &h), -ENOTSUP);
    cr_assert_eq(req("GET / HTTP/1.2\r\n\r\n", &h), -ENOTSUP);
    cr_assert_eq(req("GET / HTTP/0.9\r\n\r\n", &h), -ENOTSUP);
    cr_assert_eq(req("GET / HTTP/3.0\r\n\r\n", &h), -ENOTSUP);

    static const char *const bad[] = {
        "GET / http/1.1\r\n\r\n", "GET / HTTP/1\r\n\r\n",    "GET / HTTP/11.1\r\n\r\n",
        "GET / HTTP/1.1x\r\n\r\n", "GET / HTTP/a.b\r\n\r\n", "GET / HTTP/1,1\r\n\r\n",
        "GET / HTTP/2\r\n\r\n",    "GET /\r\n\r\n",          "GET / \r\n\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        cr_assert_eq(req(bad[i], &h), -EBADMSG, "%s", bad[i]);
}

Test(http_request, malformed_request_lines)
{
    static const char *const bad[] = {
        "GET  / HTTP/1.1\r\n\r\n",      /* double space */
        " GET / HTTP/1.1\r\n\r\n",      /* empty method */
        "GET /  HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1 \r\n\r\n",      /* trailing space */
        "GET\t/ HTTP/1.1\r\n\r\n",      /* tab is not SP */
        "GE(T / HTTP/1.1\r\n\r\n",      /* non-token method */
        "GET foo HTTP/1.1\r\n\r\n",     /* no leading slash */
        "GET ** HTTP/1.1\r\n\r\n",
        "GET /a\x7f HTTP/1.1\r\n\r\n", /* DEL in target */
        "GET /\x80 HTTP/1.1\r\n\r\n",   /* obs-text in target */
        "GET /a\rb HTTP/1.1\r\n\r\n",   /* CR in target */
        "CONNECT example.com:443 HTTP/1.1\r\n\r\n",
        "GET\r\n\r\n",
        "\x01GET / HTTP/1.1\r\n\r\n",
    };
    struct http_head h;

    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        cr_assert_eq(req(bad[i], &h), -EBADMSG, "case %zu", i);
    /* NUL inside the request line. */
    static const char nul[] = "GET /a\0b HTTP/1.1\r\n\r\n";
    cr_assert_eq(http_parse_request_head(nul, sizeof nul - 1, &h), -EBADMSG);
}

Test(http_request, method_length_limit)
{
    struct http_head h;

    cr_assert_gt(req("ABCDEFGHIJKLMNOP / HTTP/1.1\r\n\r\n", &h), 0); /* 16 */
    assert_span(h.method, h.method_len, "ABCDEFGHIJKLMNOP");
    cr_assert_eq(req("ABCDEFGHIJKLMNOPQ / HTTP/1.1\r\n\r\n", &h), -EBADMSG);
    cr_assert_gt(req("M-SEARCH / HTTP/1.1\r\n\r\n", &h), 0);
    cr_assert_gt(req("OPTIONS * HTTP/1.1\r\n\r\n", &h), 0);
    assert_span(h.target, h.target_len, "*");
}

Test(http_request, absolute_form_target)
{
    struct http_head h;

    cr_assert_gt(req("GET http://localhost:9001/2018-06-01/runtime/invocation/next?x=1 "
                     "HTTP/1.1\r\n\r\n",
                     &h),
                 0);
    assert_span(h.target, h.target_len, "/2018-06-01/runtime/invocation/next?x=1");
    cr_assert_gt(req("GET HTTPS://[::1]:443/a HTTP/1.1\r\n\r\n", &h), 0);
    assert_span(h.target, h.target_len, "/a");
    cr_assert_gt(req("GET http://host HTTP/1.1\r\n\r\n", &h), 0);
    assert_span(h.target, h.target_len, "/");

    cr_assert_eq(req("GET http:///path HTTP/1.1\r\n\r\n", &h), -EBADMSG);
    cr_assert_eq(req("GET http:// HTTP/1.1\r\n\r\n", &h), -EBADMSG);
    cr_assert_eq(req("GET http://user@host/ HTTP/1.1\r\n\r\n", &h), -EBADMSG);
    cr_assert_eq(req("GET http://host?x=1 HTTP/1.1\r\n\r\n", &h), -EBADMSG);
    cr_assert_eq(req("GET ftp://host/x HTTP/1.1\r\n\r\n", &h), -EBADMSG);
    cr_assert_eq(req("GET http:/host/x HTTP/1.1\r\n\r\n", &h), -EBADMSG);
}

Test(http_request, field_values)
{
    static const char s[] = "GET / HTTP/1.1\r\n"
                            "X-Pad: \t  spaced out \t \r\n"
                            "X-Empty:\r\n"
                            "X-Blank:    \r\n"
                            "X-Obs: caf\xc3\xa9\r\n"
                            "X-Tab: a\tb\r\n"
                            "x-lambda-ID: 1\r\n"
                            "X-Lambda-Id: 2\r\n"
                            "\r\n";
    struct http_head h;
    size_t n = 99;

    cr_assert_eq(req(s, &h), (ssize_t) strlen(s));
    cr_assert_eq(h.nfields, 7);
    assert_field(&h, "x-pad", "spaced out");
    assert_field(&h, "X-EMPTY", "");
    assert_field(&h, "x-blank", "");
    assert_field(&h, "x-obs", "caf\xc3\xa9");
    assert_field(&h, "x-tab", "a\tb");
    assert_field(&h, "X-Lambda-Id", "1"); /* first match wins */
    assert_span(h.fields[6].name, h.fields[6].name_len, "X-Lambda-Id");
    cr_assert_null(http_head_get(&h, "x-missing", &n));
    cr_assert_null(http_head_get(&h, "x-pa", &n));
    cr_assert_eq(n, 99, "len untouched on a miss");
}

Test(http_request, malformed_fields)
{
    static const char *const bad[] = {
        "Host : x",      /* space before colon */
        "Host\t: x",
        ": x",           /* empty name */
        "NoColon",
        "Ho(st: x",      /* non-token name */
        "Ho\"st: x",
        "X: a\rb",       /* bare CR in a value */
        "X: a\x7f",      /* DEL */
        "X: a\x01b",     /* control */
        "X: a\x1b[31m",
    };
    struct http_head h;
    char s[256];

    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        snprintf(s, sizeof s, "GET / HTTP/1.1\r\nHost: h\r\n%s\r\n\r\n", bad[i]);
        cr_assert_eq(req(s, &h), -EBADMSG, "field \"%s\"", bad[i]);
    }
    static const char nul[] = "GET / HTTP/1.1\r\nX: a\0b\r\n\r\n";
    cr_assert_eq(http_parse_request_head(nul, sizeof nul - 1, &h), -EBADMSG);
}

Test(http_request, bare_cr_rejected)
{
    struct http_head h;

    cr_assert_eq(req("GET / HTTP/1.1\rHost: x\r\n\r\n", &h), -EBADMSG);
    cr_assert_eq(req("GET / HTTP/1.1\r\nHost: x\r\r\n\r\n", &h), -EBADMSG);
    cr_assert_eq(req("GET / HTTP/1.1\r\nHost: x\r\n\r\r\n", &h), -EBADMSG);
    cr_assert_eq(req("GET / HTTP/1.1\r\r\n\r\n", &h), -EBADMSG);
    cr_assert_eq(req("\rGET / HTTP/1.1\r\n\r\n", &h), -EBADMSG);
    /* A CR at the end may be the first half of a CRLF still in flight. */
    cr_assert_eq(req("GET / HTTP/1.1\r\nHost: x\r\n\r", &h), 0);
    cr_assert_eq(req("GET / HTTP/1.1\r", &h), 0);
}

Test(http_request, obs_fold_rejected)
{
    struct http_head h;

    cr_assert_eq(req("GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n", &h), -EBADMSG);
    cr_assert_eq(req("GET / HTTP/1.1\r\nX: a\r\n\tb\r\n\r\n", &h), -EBADMSG);
    /* Whitespace between the request line and the first field. */
    cr_assert_eq(req("GET / HTTP/1.1\r\n Host: x\r\n\r\n", &h), -EBADMSG);
}

Test(http_request, truncated_heads_need_more)
{
    static const char *const part[] = {
        "", "G", "GET", "GET /", "GET / HTTP/1.1", "GET / HTTP/1.1\r\n",
        "GET / HTTP/1.1\r\nHost: x", "GET / HTTP/1.1\r\nHost: x\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\n\r",
    };
    struct http_head h;

    for (size_t i = 0; i < sizeof part / sizeof *part; i++)
        cr_assert_eq(req(part[i], &h), 0, "\"%s\"", part[i]);
}

/* Builds "GET / HTTP/1.1\r\nX: aaa...\r\n\r\n" of exactly `total` bytes. */
static char *head_of_size(size_t total)
{
    static const char pre[] = "GET / HTTP/1.1\r\nX: ";
    static const char post[] = "\r\n\r\n";
    char *s = malloc(total + 1);

    cr_assert_not_null(s);
    cr_assert_gt(total, sizeof pre + sizeof post);
    memcpy(s, pre, sizeof pre - 1);
    memset(s + sizeof pre - 1, 'a', total - (sizeof pre - 1) - (sizeof post - 1));
    memcpy(s + total - (sizeof post - 1), post, sizeof post);
    return s;
}

Test(http_request, head_size_limit)
{
    struct http_head h;
    char *s = head_of_size(HTTP_MAX_HEAD);
    char *big = head_of_size(HTTP_MAX_HEAD + 1);

    cr_assert_eq(http_parse_request_head(s, HTTP_MAX_HEAD, &h), HTTP_MAX_HEAD);
    cr_assert_eq(h.fields[0].value_len, HTTP_MAX_HEAD - strlen("GET / HTTP/1.1\r\nX: \r\n\r\n"));
    /* Incomplete but still within the limit: wait. At the limit: give up. */
    cr_assert_eq(http_parse_request_head(s, HTTP_MAX_HEAD - 1, &h), 0);
    cr_assert_eq(http_parse_request_head(big, HTTP_MAX_HEAD, &h), -EMSGSIZE);
    cr_assert_eq(http_parse_request_head(big, HTTP_MAX_HEAD + 1, &h), -EMSGSIZE);
    cr_assert_eq(http_parse_request_head(big, HTTP_MAX_HEAD - 1, &h), 0);
    free(s);
    free(big);
    assert_no_leaks();
}

static char *head_with_fields(size_t nfields)
{
    size_t cap = 64 + nfields * 16;
    char *s = malloc(cap);
    size_t len;

    cr_assert_not_null(s);
    len = (size_t) snprintf(s, cap, "GET / HTTP/1.1\r\n");
    for (size_t i = 0; i < nfields; i++)
        len += (size_t) snprintf(s + len, cap - len, "X-%zu: %zu\r\n", i, i);
    snprintf(s + len, cap - len, "\r\n");
    return s;
}

Test(http_request, field_count_limit)
{
    struct http_head h;
    char *ok = head_with_fields(HTTP_MAX_HEADERS);
    char *over = head_with_fields(HTTP_MAX_HEADERS + 1);

    cr_assert_eq(req(ok, &h), (ssize_t) strlen(ok));
    cr_assert_eq(h.nfields, HTTP_MAX_HEADERS);
    assert_field(&h, "x-63", "63");
    cr_assert_eq(req(over, &h), -EMSGSIZE);
    free(ok);
    free(over);
    assert_no_leaks();
}

/* ---- response heads ----------------------------------------------------- */

Test(http_response, accepted)
{
    static const char s[] = "HTTP/1.1 202 Accepted\r\n"
                            "Content-Type: application/json\r\n"
                            "Content-Length: 15\r\n"
                            "\r\n"
                            "{\"status\":\"OK\"}";
    struct http_head h;

    cr_assert_eq(resp(s, &h), (ssize_t) (strlen(s) - 15));
    cr_assert_eq(h.status, 202);
    cr_assert_eq(h.minor, 1);
    cr_assert_null(h.method);
    cr_assert_null(h.target);
    cr_assert_eq(h.content_length, 15);
    cr_assert(h.keep_alive);
    assert_field(&h, "content-type", "application/json");
    for (size_t i = 0; i < strlen(s) - 15; i++)
        cr_assert_eq(http_parse_response_head(s, i, &h), 0);
}

Test(http_response, variants)
{
    struct http_head h;

    cr_assert_gt(resp("HTTP/1.1 200\r\n\r\n", &h), 0);
    cr_assert_eq(h.status, 200);
    cr_assert_gt(resp("HTTP/1.1 204 \r\n\r\n", &h), 0);
    cr_assert_eq(h.status, 204);
    cr_assert_gt(resp("HTTP/1.0 500 Internal Server Error\r\n\r\n", &h), 0);
    cr_assert_eq(h.status, 500);
    cr_assert_eq(h.minor, 0);
    cr_assert_not(h.keep_alive);
    cr_assert_gt(resp("HTTP/1.1 100 Continue\r\n\r\n", &h), 0);
    cr_assert_eq(h.status, 100);
    cr_assert_gt(resp("HTTP/1.1 599 caf\xc3\xa9 \t x\r\n\r\n", &h), 0);
    cr_assert_eq(h.status, 599);
    cr_assert_gt(resp("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                      "Connection: close\r\n\r\n",
                      &h),
                 0);
    cr_assert(h.chunked);
    cr_assert_not(h.keep_alive);
}

Test(http_response, malformed)
{
    static const char *const bad[] = {
        "HTTP/1.1 99 Low\r\n\r\n",  "HTTP/1.1 600 High\r\n\r\n", "HTTP/1.1 099 x\r\n\r\n",
        "HTTP/1.1 20x OK\r\n\r\n",  "HTTP/1.1 2000 OK\r\n\r\n",  "HTTP/1.1  200 OK\r\n\r\n",
        "HTTP/1.1 200\tOK\r\n\r\n", "HTTP/1.1\r\n\r\n",          "HTTP/2 200\r\n\r\n",
        "http/1.1 200 OK\r\n\r\n",  "HTTP/1.1 200 O\x01K\r\n\r\n", "\r\nHTTP/1.1 200 OK\r\n\r\n",
        "HTTP/1.1 200 OK\rX\r\n\r\n", "HTTP/1.1 200 OK\r\nA : b\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
    };
    struct http_head h;

    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        cr_assert_eq(resp(bad[i], &h), -EBADMSG, "case %zu", i);
    cr_assert_eq(resp("HTTP/2.0 200 OK\r\n\r\n", &h), -ENOTSUP);
    cr_assert_eq(resp("HTTP/1.1 200 OK\r\nTransfer-Encoding: br\r\n\r\n", &h), -ENOTSUP);
}

/* ---- http_parse_fields -------------------------------------------------- */

Test(http_fields, complete_lines)
{
    static const char with_blank[] = "A: 1\r\nB:2\r\n\r\n";
    static const char without[] = "A: 1\r\nB:2\r\n";
    static const char bare_lf[] = "A: 1\nB: 2\n";
    struct http_field f[4];

    cr_assert_eq(http_parse_fields(with_blank, strlen(with_blank), f, 4), 2);
    assert_span(f[0].name, f[0].name_len, "A");
    assert_span(f[0].value, f[0].value_len, "1");
    assert_span(f[1].name, f[1].name_len, "B");
    assert_span(f[1].value, f[1].value_len, "2");
    cr_assert_eq(http_parse_fields(without, strlen(without), f, 4), 2);
    cr_assert_eq(http_parse_fields(bare_lf, strlen(bare_lf), f, 4), 2);
    cr_assert_eq(http_parse_fields("", 0, f, 4), 0);
    cr_assert_eq(http_parse_fields("\r\n", 2, f, 4), 0);
    cr_assert_eq(http_parse_fields("A: 1\r\n", 6, f, 1), 1);
}

Test(http_fields, malformed)
{
    struct http_field f[4];

    cr_assert_eq(http_parse_fields("A: 1", 4, f, 4), -EBADMSG);       /* cut short */
    cr_assert_eq(http_parse_fields("A: 1\r", 5, f, 4), -EBADMSG);
    cr_assert_eq(http_parse_fields("A: 1\r\n\r\nB: 2\r\n", 14, f, 4), -EBADMSG);
    cr_assert_eq(http_parse_fields("A: 1\r\n b\r\n", 10, f, 4), -EBADMSG); /* obs-fold */
    cr_assert_eq(http_parse_fields("A : 1\r\n", 7, f, 4), -EBADMSG);
    cr_assert_eq(http_parse_fields("A: 1\rB: 2\r\n", 11, f, 4), -EBADMSG);
    cr_assert_eq(http_parse_fields("A: 1\r\nB: 2\r\nC: 3\r\n", 18, f, 2), -EMSGSIZE);
    cr_assert_eq(http_parse_fields("A: 1\r\n", 6, f, 0), -EMSGSIZE);
}

/* ---- chunked bodies ----------------------------------------------------- */

Test(http_chunked, simple_body)
{
    static const char s[] = "5\r\nhello\r\n6\r\n world\r\nA\r\n0123456789\r\n0\r\n\r\n";
    struct outcome *o = calloc(1, sizeof *o);

    cr_assert_not_null(o);
    cr_assert_eq(chunked_once(s, o), (ssize_t) strlen(s));
    cr_assert(o->done);
    assert_span(o->out.data, o->out.len, "hello world0123456789");
    cr_assert_eq(o->trailers_len, 0);
    assert_split_invariant(s, strlen(s));
    free(o);
    assert_no_leaks();
}

Test(http_chunked, stops_at_end_of_body)
{
    static const char s[] = "3\r\nabc\r\n0\r\n\r\nGET / HTTP/1.1\r\n\r\n";
    size_t body = strlen("3\r\nabc\r\n0\r\n\r\n");
    struct http_chunked *c = chunked_new();
    struct sink *out = calloc(1, sizeof *out);

    cr_assert_not_null(out);
    cr_assert_eq(http_chunked_feed(c, s, strlen(s), sink_add, out), (ssize_t) body);
    cr_assert(c->done);
    assert_span(out->data, out->len, "abc");
    /* Once done, nothing more is consumed. */
    cr_assert_eq(http_chunked_feed(c, s + body, strlen(s) - body, sink_add, out), 0);
    cr_assert_eq(out->len, 3);
    free(out);
    free(c);
    assert_no_leaks();
}

Test(http_chunked, empty_body_and_null_callback)
{
    struct http_chunked *c = chunked_new();

    cr_assert_eq(http_chunked_feed(c, "0\r\n\r\n", 5, NULL, NULL), 5);
    cr_assert(c->done);
    free(c);
    c = chunked_new();
    cr_assert_eq(http_chunked_feed(c, "2\r\nab\r\n0\r\n\r\n", 12, NULL, NULL), 12);
    cr_assert(c->done);
    free(c);
    assert_no_leaks();
}

Test(http_chunked, extensions_are_skipped)
{
    static const char s[] = "5;name=value;q=\"a b\"\r\nhello\r\n"
                            "1 ; x\r\n!\r\n"
                            "2\t \t;\r\n??\r\n"
                            "00000;last\r\n\r\n";
    struct outcome *o = calloc(1, sizeof *o);

    cr_assert_not_null(o);
    cr_assert_eq(chunked_once(s, o), (ssize_t) strlen(s));
    cr_assert(o->done);
    assert_span(o->out.data, o->out.len, "hello!??");
    assert_split_invariant(s, strlen(s));
    free(o);
    assert_no_leaks();
}

Test(http_chunked, hex_digits_either_case)
{
    char s[128];
    struct outcome *o = calloc(1, sizeof *o);
    static const char data[] = "0123456789abcdefghijklmnopqrstuvwxyz";

    cr_assert_not_null(o);
    /* 0x1a = 26 and 0x1A */
    snprintf(s, sizeof s, "1a\r\n%.26s\r\n1A\r\n%.26s\r\n0\r\n\r\n", data, data);
    cr_assert_eq(chunked_once(s, o), (ssize_t) strlen(s));
    cr_assert_eq(o->out.len, 52);
    cr_assert(memcmp(o->out.data + 26, data, 26) == 0);
    free(o);
    assert_no_leaks();
}

Test(http_chunked, bad_size_lines)
{
    static const char *const bad[] = {
        "\r\n",            /* empty */
        "x\r\n",           /* not hex */
        "-5\r\nhello\r\n", /* signed */
        "+5\r\nhello\r\n",
        "0x5\r\nhello\r\n",
        ";ext\r\n",        /* extension without a size */
        " 5\r\nhello\r\n", /* leading whitespace */
        "5 \r\nhello\r\n", /* BWS not followed by ';' */
        "5 x\r\nhello\r\n",
        "5 \t 6\r\nhello\r\n",
        "5\nhello\r\n",    /* bare LF */
        "5\r\rhello\r\n",
        "5\rhello\r\n",
        "5;a\x01\r\n",     /* control in extension */
        "5;a\nhello\r\n",
        "5g\r\nhello\r\n",
    };
    struct outcome *o = calloc(1, sizeof *o);

    cr_assert_not_null(o);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cr_assert_eq(chunked_once(bad[i], o), -EBADMSG, "case %zu", i);
        cr_assert_not(o->done);
        assert_split_invariant(bad[i], strlen(bad[i]));
    }
    free(o);
    assert_no_leaks();
}

Test(http_chunked, missing_crlf_after_data)
{
    static const char *const bad[] = {
        "5\r\nhelloX\r\n0\r\n\r\n",
        "5\r\nhello\n0\r\n\r\n",
        "5\r\nhello\rX0\r\n\r\n",
        "5\r\nhello world\r\n",
        "5\r\nhello0\r\n\r\n",
    };
    struct outcome *o = calloc(1, sizeof *o);

    cr_assert_not_null(o);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cr_assert_eq(chunked_once(bad[i], o), -EBADMSG, "case %zu", i);
        assert_span(o->out.data, o->out.len, "hello"); /* delivered before the error */
        assert_split_invariant(bad[i], strlen(bad[i]));
    }
    free(o);
    assert_no_leaks();
}

Test(http_chunked, huge_sizes)
{
    struct http_chunked *c = chunked_new();
    struct sink *out = calloc(1, sizeof *out);
    static const char max[] = "4000000000000000\r\nabc";
    struct outcome *o = calloc(1, sizeof *o);

    cr_assert(out && o);
    /* 2^62 exactly is allowed; its data simply keeps coming. */
    cr_assert_eq(http_chunked_feed(c, max, strlen(max), sink_add, out), (ssize_t) strlen(max));
    cr_assert_not(c->done);
    assert_span(out->data, out->len, "abc");
    cr_assert_eq(c->remaining, ((uint64_t) 1 << 62) - 3);

    cr_assert_eq(chunked_once("4000000000000001\r\n", o), -EBADMSG);
    cr_assert_eq(chunked_once("FFFFFFFFFFFFFFFF\r\n", o), -EBADMSG);
    cr_assert_eq(chunked_once("10000000000000000\r\n", o), -EBADMSG); /* 2^64 */
    cr_assert_eq(chunked_once("100000000000000000000000000000000\r\n", o), -EBADMSG);
    assert_split_invariant("ffffffffffffffffffffffffffff\r\n", 30);
    free(o);
    free(out);
    free(c);
    assert_no_leaks();
}

Test(http_chunked, size_line_length_limit)
{
    char *s = malloc(2048);
    struct outcome *o = calloc(1, sizeof *o);
    size_t n;

    cr_assert(s && o);
    /* 1024 bytes of size line (digits and extension) pass. */
    memset(s, '0', 1023);
    memcpy(s + 1023, "1\r\nz\r\n0\r\n\r\n", 12);
    cr_assert_eq(chunked_once(s, o), 1034);
    assert_span(o->out.data, o->out.len, "z");
    memcpy(s, "1;", 2);
    memset(s + 2, 'e', 1022);
    memcpy(s + 1024, "\r\nz\r\n0\r\n\r\n", 11);
    cr_assert_eq(chunked_once(s, o), 1034);
    cr_assert(o->done);
    /* One more byte does not. */
    memcpy(s, "1;", 2);
    memset(s + 2, 'e', 1023);
    memcpy(s + 1025, "\r\nz\r\n0\r\n\r\n", 11);
    cr_assert_eq(chunked_once(s, o), -EMSGSIZE);
    memset(s, '0', 2000);
    s[2000] = '\0';
    n = strlen(s);
    cr_assert_eq(chunked_once(s, o), -EMSGSIZE);
    assert_split_invariant(s, n);
    free(o);
    free(s);
    assert_no_leaks();
}

Test(http_chunked, truncated_bodies_wait)
{
    static const char s[] = "5;x=y\r\nhello\r\n3\r\nabc\r\n0\r\nX-Err: boom\r\n\r\n";
    static const char data[] = "helloabc";
    size_t n = strlen(s);
    struct outcome *o = calloc(1, sizeof *o);

    cr_assert_not_null(o);
    for (size_t cut = 0; cut < n; cut++) {
        feed_whole(s, cut, o);
        cr_assert_eq(o->rc, (ssize_t) cut, "cut %zu consumed %zd", cut, o->rc);
        cr_assert_not(o->done, "done at cut %zu", cut);
        cr_assert_leq(o->out.len, 8);
        cr_assert(memcmp(o->out.data, data, o->out.len) == 0, "data prefix at cut %zu", cut);
    }
    feed_whole(s, n, o);
    cr_assert(o->done);
    assert_span(o->trailers, o->trailers_len, "X-Err: boom\r\n");
    free(o);
    assert_no_leaks();
}

Test(http_chunked, byte_at_a_time_and_random_splits)
{
    static const char *const bodies[] = {
        "1\r\na\r\n0\r\n\r\n",
        "10\r\n0123456789abcdef\r\n1;e\r\n!\r\n0\r\nA: b\r\nC: d\r\n\r\n",
        "3\r\nabc\r\n0\r\nX: y\r\n\r\ntrailing garbage after the body",
        "3\r\nabc\r\n0\r\nX: y\r\nbroken\n",
        "3\r\nabc\r\n4\r\nabcdX",
        "0\r\n\r",
    };

    for (size_t i = 0; i < sizeof bodies / sizeof *bodies; i++)
        assert_split_invariant(bodies[i], strlen(bodies[i]));

    /* A larger body with varied chunk sizes. */
    static char big[40000];
    size_t len = 0;
    for (size_t k = 1; k < 120; k++) {
        len += (size_t) snprintf(big + len, sizeof big - len, "%zx\r\n", k * 3);
        for (size_t j = 0; j < k * 3; j++)
            big[len++] = (char) ('a' + (j + k) % 26);
        memcpy(big + len, "\r\n", 2);
        len += 2;
    }
    len += (size_t) snprintf(big + len, sizeof big - len, "0\r\nT: v\r\n\r\n");
    assert_split_invariant(big, len);
    assert_no_leaks();
}

Test(http_chunked, trailer_errors)
{
    struct outcome *o = calloc(1, sizeof *o);

    cr_assert_not_null(o);
    cr_assert_eq(chunked_once("0\r\nX: y\n\r\n", o), -EBADMSG);  /* bare LF */
    cr_assert_eq(chunked_once("0\r\nX: y\rz\r\n\r\n", o), -EBADMSG); /* bare CR */
    cr_assert_eq(chunked_once("0\r\n\n", o), -EBADMSG);
    cr_assert_eq(chunked_once("0\r\n\rX", o), -EBADMSG);
    cr_assert_eq(chunked_once("0\r\n\r\r\n", o), -EBADMSG);
    free(o);
    assert_no_leaks();
}

Test(http_chunked, trailer_cap)
{
    size_t line = 100;
    size_t lines = HTTP_MAX_TRAILERS / line; /* 163 full lines */
    size_t rest = HTTP_MAX_TRAILERS - lines * line;
    char *s = malloc(HTTP_MAX_TRAILERS + 256);
    struct outcome *o = calloc(1, sizeof *o);
    struct http_field *f = calloc(256, sizeof *f);
    size_t n = 0;

    cr_assert(s && o && f);
    memcpy(s, "0\r\n", 3);
    n = 3;
    /* Exactly HTTP_MAX_TRAILERS bytes of trailer lines. */
    for (size_t i = 0; i < lines; i++) {
        int k = snprintf(s + n, 32, "T%03zu: ", i);
        memset(s + n + k, 'v', line - (size_t) k - 2);
        memcpy(s + n + line - 2, "\r\n", 2);
        n += line;
    }
    memcpy(s + n, "L: ", 3);
    memset(s + n + 3, 'w', rest - 5);
    memcpy(s + n + rest - 2, "\r\n", 2);
    n += rest;
    memcpy(s + n, "\r\n", 2);
    n += 2;
    feed_whole(s, n, o);
    cr_assert_eq(o->rc, (ssize_t) n);
    cr_assert(o->done);
    cr_assert_eq(o->trailers_len, HTTP_MAX_TRAILERS);
    cr_assert_eq(http_parse_fields(o->trailers, o->trailers_len, f, 256), (int) lines + 1);
    assert_span(f[0].name, f[0].name_len, "T000");

    /* The cap reached by the LF ending the last line. */
    memcpy(s + n - 4, "w\r\n\r\n", 5);
    feed_whole(s, n + 1, o);
    cr_assert_eq(o->rc, -EMSGSIZE);
    cr_assert_eq(o->trailers_len, HTTP_MAX_TRAILERS);
    memcpy(s + n - 4, "\r\n\r\n", 4); /* undo */

    /* One byte more is over the cap. */
    memcpy(s + n - 2, "X\r\n\r\n", 5);
    feed_whole(s, n + 3, o);
    cr_assert_eq(o->rc, -EMSGSIZE);
    cr_assert_not(o->done);
    assert_split_invariant(s, n + 3);
    free(f);
    free(o);
    free(s);
    assert_no_leaks();
}

Test(http_chunked, errors_are_sticky)
{
    struct http_chunked *c = chunked_new();

    cr_assert_eq(http_chunked_feed(c, "zz", 2, NULL, NULL), -EBADMSG);
    cr_assert_eq(http_chunked_feed(c, "0\r\n\r\n", 5, NULL, NULL), -EBADMSG);
    cr_assert_not(c->done);
    free(c);
    c = chunked_new();
    cr_assert_eq(http_chunked_feed(c, "0;", 2, NULL, NULL), 2);
    for (int i = 0; i < 1100; i++)
        if (http_chunked_feed(c, "e", 1, NULL, NULL) < 0)
            break;
    cr_assert_eq(http_chunked_feed(c, "\r\n\r\n", 4, NULL, NULL), -EMSGSIZE);
    free(c);
    assert_no_leaks();
}

Test(http_chunked, zero_length_feed)
{
    struct http_chunked *c = chunked_new();

    cr_assert_eq(http_chunked_feed(c, "", 0, NULL, NULL), 0);
    cr_assert_not(c->done);
    cr_assert_eq(http_chunked_feed(c, "0\r\n\r\n", 5, NULL, NULL), 5);
    cr_assert(c->done);
    free(c);
    assert_no_leaks();
}

/* ---- reasons ------------------------------------------------------------ */

Test(http_reason, known_and_unknown)
{
    static const int codes[] = { 100, 200, 201, 202, 204, 206, 301, 302, 304, 400,
                                 401, 403, 404, 405, 408, 409, 411, 413, 414, 415,
                                 429, 431, 500, 501, 502, 503, 504 };

    for (size_t i = 0; i < sizeof codes / sizeof *codes; i++)
        cr_assert_str_neq(http_reason(codes[i]), "Unknown", "%d", codes[i]);
    cr_assert_str_eq(http_reason(200), "OK");
    cr_assert_str_eq(http_reason(202), "Accepted");
    cr_assert_str_eq(http_reason(404), "Not Found");
    cr_assert_str_eq(http_reason(413), "Content Too Large");
    cr_assert_str_eq(http_reason(429), "Too Many Requests");
    cr_assert_str_eq(http_reason(502), "Bad Gateway");
    cr_assert_str_eq(http_reason(999), "Unknown");
    cr_assert_str_eq(http_reason(-1), "Unknown");
}
