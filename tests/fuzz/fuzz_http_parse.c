/* tests/fuzz/fuzz_http_parse.c: libFuzzer driver for common/http_parse.c.
 *
 * Every input goes through all entry points: as a request head (and, when it
 * declares chunked, its body), as a response head, as a field block and as a
 * raw chunked body. Beyond "no crash", it checks the promises the server
 * relies on: results stay inside the buffer, a prefix never parses to
 * something other than "need more" or the same answer, and a chunked body
 * decodes identically whether it arrives whole, a byte at a time or split
 * wherever the input says. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/http_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                         \
    do {                                                                                    \
        if (!(cond)) {                                                                      \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);        \
            abort();                                                                        \
        }                                                                                   \
    } while (0)

static bool within(const char *p, size_t n, const char *buf, size_t len)
{
    return p >= buf && n <= len && (size_t) (p - buf) <= len - n;
}

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

static void check_field(const struct http_field *f, const char *buf, size_t len)
{
    CHECK(f->name_len > 0);
    CHECK(within(f->name, f->name_len, buf, len));
    CHECK(within(f->value, f->value_len, buf, len));
    CHECK(f->value >= f->name + f->name_len + 1);
    CHECK(f->name[f->name_len] == ':');
    for (size_t i = 0; i < f->value_len; i++) {
        unsigned char c = (unsigned char) f->value[i];
        CHECK(c == '\t' || (c >= 0x20 && c != 0x7f));
    }
    if (f->value_len > 0) {
        CHECK(!is_ows(f->value[0]));
        CHECK(!is_ows(f->value[f->value_len - 1]));
    }
}

typedef ssize_t (*head_fn)(const char *, size_t, struct http_head *);

static ssize_t check_head(const char *buf, size_t len, head_fn parse, bool request,
                          struct http_head *h)
{
    ssize_t r = parse(buf, len, h);
    size_t probe[3];

    CHECK(r == 0 || r == -EBADMSG || r == -EMSGSIZE || r == -ENOTSUP || r > 0);
    if (r > 0) {
        size_t n = (size_t) r, vlen;

        CHECK(n <= len && n <= HTTP_MAX_HEAD);
        CHECK(buf[n - 1] == '\n');
        CHECK(h->minor == 0 || h->minor == 1);
        CHECK(h->nfields <= HTTP_MAX_HEADERS);
        for (size_t i = 0; i < h->nfields; i++)
            check_field(&h->fields[i], buf, n);
        if (request) {
            CHECK(h->method_len >= 1 && h->method_len <= 16);
            CHECK(within(h->method, h->method_len, buf, n));
            CHECK(h->target_len >= 1);
            CHECK(within(h->target, h->target_len, buf, n) ||
                  (h->target_len == 1 && h->target[0] == '/'));
            CHECK(h->target[0] == '/' || (h->target_len == 1 && h->target[0] == '*'));
        } else {
            CHECK(h->method == NULL && h->target == NULL);
            CHECK(h->status >= 100 && h->status <= 599);
        }
        CHECK(h->content_length >= -1);
        CHECK(!(h->chunked && h->content_length != -1));
        if (h->content_length >= 0)
            CHECK(http_head_get(h, "Content-Length", &vlen) != NULL);
        /* The head ends where it says: nothing after it matters. */
        struct http_head again;
        CHECK(parse(buf, n, &again) == r);
        CHECK(again.nfields == h->nfields && again.content_length == h->content_length &&
              again.chunked == h->chunked && again.keep_alive == h->keep_alive &&
              again.expect_continue == h->expect_continue);
    }
    /* A prefix either needs more or already knows the same answer. */
    probe[0] = len ? len - 1 : 0;
    probe[1] = len / 2;
    probe[2] = len ? (unsigned char) buf[0] % len : 0;
    for (size_t i = 0; i < 3; i++) {
        struct http_head p;
        ssize_t pr = parse(buf, probe[i], &p);

        if (r > 0 && probe[i] < (size_t) r)
            CHECK(pr == 0);
        else
            CHECK(pr == 0 || pr == r);
    }
    return r;
}

static void check_fields(const char *buf, size_t len)
{
    struct http_field f[HTTP_MAX_HEADERS];
    int n = http_parse_fields(buf, len, f, HTTP_MAX_HEADERS);

    CHECK(n == -EBADMSG || n == -EMSGSIZE || (n >= 0 && n <= HTTP_MAX_HEADERS));
    for (int i = 0; i < n; i++)
        check_field(&f[i], buf, len);
}

struct sink {
    char *data;
    size_t len, cap;
};

static void sink_add(void *arg, const char *p, size_t n)
{
    struct sink *s = arg;

    CHECK(n > 0);
    CHECK(n <= s->cap - s->len);
    memcpy(s->data + s->len, p, n);
    s->len += n;
}

struct run {
    struct http_chunked c;
    struct sink out;
    ssize_t rc; /* error, or bytes consumed in total */
};

static struct run runs[2]; /* 2 x 16 KiB: static rather than on the stack */

/* Feeds buf in pieces whose lengths come from `splits` (cycled; a piece of 0
 * is allowed, feeding nothing must be harmless, but not all of them may be 0),
 * like reads from a socket. */
static void feed(struct run *r, const char *buf, size_t len, const uint8_t *splits, size_t nsplits)
{
    size_t pos = 0, k = 0;

    memset(&r->c, 0, sizeof r->c);
    r->out.len = 0;
    r->rc = 0;
    while (pos < len && !r->c.done) {
        size_t piece = nsplits ? splits[k++ % nsplits] : len;
        ssize_t got;

        if (piece > len - pos)
            piece = len - pos;
        got = http_chunked_feed(&r->c, buf + pos, piece, sink_add, &r->out);
        if (got < 0) {
            CHECK(got == -EBADMSG || got == -EMSGSIZE);
            CHECK(!r->c.done);
            /* Errors stick. */
            CHECK(http_chunked_feed(&r->c, "0\r\n\r\n", 5, sink_add, &r->out) == got);
            r->rc = got;
            return;
        }
        CHECK((size_t) got <= piece);
        CHECK(r->c.done || (size_t) got == piece);
        pos += (size_t) got;
    }
    r->rc = (ssize_t) pos;
    CHECK(r->c.trailers_len <= HTTP_MAX_TRAILERS);
    CHECK(r->out.len <= pos);
    if (r->c.done) {
        CHECK(http_chunked_feed(&r->c, "x", 1, sink_add, &r->out) == 0);
        check_fields(r->c.trailers, r->c.trailers_len);
    }
}

static void check_same(const struct run *a, const struct run *b)
{
    CHECK(a->rc == b->rc);
    CHECK(a->c.done == b->c.done);
    CHECK(a->out.len == b->out.len && memcmp(a->out.data, b->out.data, a->out.len) == 0);
    CHECK(a->c.trailers_len == b->c.trailers_len &&
          memcmp(a->c.trailers, b->c.trailers, a->c.trailers_len) == 0);
}

static void check_chunked(const char *buf, size_t len, const uint8_t *splits, size_t nsplits)
{
    static const uint8_t one = 1;
    bool all_zero = true;

    for (size_t i = 0; i < nsplits; i++)
        all_zero = all_zero && splits[i] == 0;
    for (int i = 0; i < 2; i++) {
        runs[i].out.data = malloc(len + 1);
        runs[i].out.cap = len;
        CHECK(runs[i].out.data != NULL);
    }
    feed(&runs[0], buf, len, NULL, 0);
    feed(&runs[1], buf, len, &one, 1);
    check_same(&runs[0], &runs[1]);
    if (nsplits && !all_zero) {
        feed(&runs[1], buf, len, splits, nsplits);
        check_same(&runs[0], &runs[1]);
    }
    for (int i = 0; i < 2; i++)
        free(runs[i].out.data);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A private copy, so ASan flags any read past the end. */
    char *buf = malloc(size ? size : 1);
    struct http_head *h = malloc(sizeof *h);
    ssize_t r;
    size_t n;

    CHECK(buf && h);
    memcpy(buf, data, size);

    r = check_head(buf, size, http_parse_request_head, true, h);
    if (r > 0) {
        (void) http_head_get(h, "transfer-encoding", &n);
        /* The body after a chunked head, split by the head's own bytes. */
        if (h->chunked)
            check_chunked(buf + r, size - (size_t) r, data, (size_t) r < 64 ? (size_t) r : 64);
    }
    (void) check_head(buf, size, http_parse_response_head, false, h);
    check_fields(buf, size);
    /* The input as a raw chunked body; split lengths from its tail. */
    check_chunked(buf, size, data + size / 2, size - size / 2 < 32 ? size - size / 2 : 32);
    CHECK(http_reason(size >= 2 ? (data[0] | data[1] << 8) % 1000 : -1) != NULL);

    free(h);
    free(buf);
    return 0;
}
