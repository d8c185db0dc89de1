/* common/http_parse.c: strict HTTP/1.1 head and chunked-body parsing.
 *
 * Runtimes (aws-lambda-cpp over curl, Go, Node, Python) and invoke clients
 * reach this code from outside, so bytes are checked against the RFC 9110 and
 * 9112 grammar rather than guessed at. Anything two parsers could read two
 * ways (a bare CR, obs-fold, Content-Length beside chunked, a coding before
 * chunked, whitespace before the colon) is refused: that disagreement is how
 * requests get smuggled. Nothing allocates.
 *
 * A head is parsed again from the start of the buffer on every call, so a
 * caller should call again only when the new bytes hold a LF (a head can end
 * on nothing else): a peer dribbling a byte at a time would otherwise cost a
 * pass over up to HTTP_MAX_HEAD bytes per byte. A chunked body goes through
 * a state machine that resumes at any byte, because it arrives in arbitrary
 * reads. */
#include "common/http_parse.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

#define METHOD_MAX 16
#define MAX_LEADING_EMPTY 8                  /* empty lines skipped before a request */
#define CHUNK_LINE_MAX 1024                  /* size digits and extensions */
#define CHUNK_SIZE_MAX ((uint64_t) 1 << 62) /* far past any cap, yet no overflow */

/* RFC 9110 5.6.2 tchar: ALPHA / DIGIT / "!#$%&'*+-.^_`|~". */
static const uint8_t tchar[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x00 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x10 */
    0, 1, 0, 1, 1, 1, 1, 1, 0, 0, 1, 1, 0, 1, 1, 0, /* 0x20 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, /* 0x30 */
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x40 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, /* 0x50 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x60 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1, 0, /* 0x70 */
    /* 0x80-0xff: all zero */
};

/* Field values and reason phrases: VCHAR, SP, HTAB and obs-text. NUL, CR, LF,
 * the other controls and DEL are refused. */
static inline bool is_value_char(unsigned char c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static inline bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

/* ASCII only: locale-aware tolower() would let a Turkish locale fold "I". */
static inline unsigned char lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char) (c + ('a' - 'A')) : c;
}

static bool ci_eq(const char *a, size_t alen, const char *b, size_t blen)
{
    if (alen != blen)
        return false;
    for (size_t i = 0; i < alen; i++)
        if (lower((unsigned char) a[i]) != lower((unsigned char) b[i]))
            return false;
    return true;
}

#define CI_EQ_LIT(p, n, lit) ci_eq((p), (n), (lit), sizeof(lit) - 1)

static int hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = lower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* ---- heads ------------------------------------------------------------- */

/* Finds the next line in buf[*pos..lim): sets *line and *n (without its LF or
 * CRLF) and moves *pos past it. False when no LF has arrived yet. A CR
 * anywhere else stays in the line, where every grammar below refuses it. */
static bool next_line(const char *buf, size_t lim, size_t *pos, const char **line, size_t *n)
{
    const char *start, *lf;
    size_t len;

    if (*pos >= lim)
        return false; /* and buf may be NULL when lim is 0 */
    start = buf + *pos;
    lf = memchr(start, '\n', lim - *pos);
    if (!lf)
        return false;
    len = (size_t) (lf - start);
    if (len > 0 && start[len - 1] == '\r')
        len--;
    *line = start;
    *n = len;
    *pos = (size_t) (lf - buf) + 1;
    return true;
}

/* "HTTP/" DIGIT "." DIGIT, case-sensitive (RFC 9112 2.3). A well-formed
 * version we do not speak is -ENOTSUP, so the server can answer 505. */
static int parse_version(const char *p, size_t n, int *minor)
{
    if (n != 8 || memcmp(p, "HTTP/", 5) != 0 || p[6] != '.' || p[5] < '0' || p[5] > '9' ||
        p[7] < '0' || p[7] > '9')
        return -EBADMSG;
    if (p[5] != '1' || p[7] > '1')
        return -ENOTSUP;
    *minor = p[7] - '0';
    return 0;
}

/* Authority of an absolute-form target: reg-name, IPv4, [IPv6] and port
 * characters. No userinfo: '@' in a target only ever served to confuse. */
static bool is_authority_char(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (lower(c) >= 'a' && lower(c) <= 'z'))
        return true;
    return c != '\0' && strchr("-._~!$&'()*+,;=:[]%", c) != NULL;
}

/* Points h->target at the origin-form part of the request-target. */
static int parse_target(const char *t, size_t n, struct http_head *h)
{
    size_t skip, i;

    if (n == 0)
        return -EBADMSG;
    for (i = 0; i < n; i++)
        if ((unsigned char) t[i] <= 0x20 || (unsigned char) t[i] >= 0x7f)
            return -EBADMSG;
    if (t[0] == '/' || (n == 1 && t[0] == '*')) {
        h->target = t;
        h->target_len = n;
        return 0;
    }
    /* absolute-form (RFC 9112 3.2.2): proxies and some clients send it. */
    if (n > 7 && CI_EQ_LIT(t, 7, "http://"))
        skip = 7;
    else if (n > 8 && CI_EQ_LIT(t, 8, "https://"))
        skip = 8;
    else
        return -EBADMSG; /* authority-form (CONNECT) is not served here */
    for (i = skip; i < n && t[i] != '/'; i++)
        if (!is_authority_char((unsigned char) t[i]))
            return -EBADMSG;
    if (i == skip)
        return -EBADMSG;
    if (i == n) {
        /* "http://host": origin-form "/" (RFC 9112 3.2.1); a literal outlives
         * any buffer. */
        h->target = "/";
        h->target_len = 1;
    } else {
        h->target = t + i;
        h->target_len = n - i;
    }
    return 0;
}

/* method SP request-target SP HTTP-version, single spaces (RFC 9112 3). */
static int parse_request_line(const char *line, size_t n, struct http_head *h)
{
    const char *sp1, *sp2, *end = line + n;
    size_t i, mlen;
    int rc;

    sp1 = memchr(line, ' ', n);
    if (!sp1)
        return -EBADMSG;
    mlen = (size_t) (sp1 - line);
    if (mlen == 0 || mlen > METHOD_MAX)
        return -EBADMSG;
    for (i = 0; i < mlen; i++)
        if (!tchar[(unsigned char) line[i]])
            return -EBADMSG;
    sp2 = memchr(sp1 + 1, ' ', (size_t) (end - sp1 - 1));
    if (!sp2)
        return -EBADMSG; /* HTTP/0.9 or a space-less line */
    if ((rc = parse_target(sp1 + 1, (size_t) (sp2 - sp1 - 1), h)) < 0)
        return rc;
    if ((rc = parse_version(sp2 + 1, (size_t) (end - sp2 - 1), &h->minor)) < 0)
        return rc;
    h->method = line;
    h->method_len = mlen;
    return 0;
}

/* HTTP-version SP 3DIGIT SP [reason]. The SP before an empty reason is
 * optional: enough servers drop it that refusing would only hurt us. */
static int parse_status_line(const char *line, size_t n, struct http_head *h)
{
    int rc;

    if (n < 12 || line[8] != ' ')
        return -EBADMSG;
    if ((rc = parse_version(line, 8, &h->minor)) < 0)
        return rc;
    for (size_t i = 9; i < 12; i++)
        if (line[i] < '0' || line[i] > '9')
            return -EBADMSG;
    h->status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
    if (h->status < 100 || h->status > 599)
        return -EBADMSG;
    if (n == 12)
        return 0;
    if (line[12] != ' ')
        return -EBADMSG;
    for (size_t i = 13; i < n; i++)
        if (!is_value_char((unsigned char) line[i]))
            return -EBADMSG;
    return 0;
}

/* name ":" OWS value OWS. A line starting with whitespace is obs-fold (or
 * whitespace before the first field), and whitespace before the colon is
 * refused outright: RFC 9112 5.1 and 5.2 both say reject. */
static int parse_field_line(const char *line, size_t n, struct http_field *f)
{
    const char *v, *end = line + n;
    size_t i = 0;

    while (i < n && tchar[(unsigned char) line[i]])
        i++;
    if (i == 0 || i == n || line[i] != ':')
        return -EBADMSG;
    for (v = line + i + 1; v < end; v++)
        if (!is_value_char((unsigned char) *v))
            return -EBADMSG;
    v = line + i + 1;
    while (v < end && is_ows(*v))
        v++;
    while (end > v && is_ows(end[-1]))
        end--;
    f->name = line;
    f->name_len = i;
    f->value = v;
    f->value_len = (size_t) (end - v);
    return 0;
}

/* Calls fn on each non-empty element of a comma-separated list (RFC 9110
 * 5.6.1: empty elements are allowed and ignored), OWS trimmed; stops at the
 * first non-zero return. */
static int for_each_element(const char *p, size_t n, int (*fn)(void *, const char *, size_t),
                            void *arg)
{
    const char *end = p + n;

    while (p < end) {
        const char *comma = memchr(p, ',', (size_t) (end - p));
        const char *e = comma ? comma : end;
        const char *s = p;
        int rc;

        while (s < e && is_ows(*s))
            s++;
        while (e > s && is_ows(e[-1]))
            e--;
        if (e > s && (rc = fn(arg, s, (size_t) (e - s))) != 0)
            return rc;
        p = comma ? comma + 1 : end;
    }
    return 0;
}

/* What the framing fields said, gathered across all of them: a field may
 * repeat, and repeats combine as one list (RFC 9110 5.3). */
struct framing {
    bool have_cl;
    bool have_te;
    bool conn_close;
    bool conn_keep_alive;
};

static int te_element(void *arg, const char *p, size_t n)
{
    struct http_head *h = arg;

    if (!CI_EQ_LIT(p, n, "chunked"))
        return -ENOTSUP;
    /* chunked applied twice (RFC 9112 7) is a framing we cannot trust. */
    if (h->chunked)
        return -EBADMSG;
    h->chunked = true;
    return 0;
}

static int connection_element(void *arg, const char *p, size_t n)
{
    struct framing *fr = arg;

    if (CI_EQ_LIT(p, n, "close"))
        fr->conn_close = true;
    else if (CI_EQ_LIT(p, n, "keep-alive"))
        fr->conn_keep_alive = true;
    return 0;
}

/* 1*DIGIT, at most INT64_MAX. A list ("5, 5") is refused: digits only. */
static int parse_content_length(const char *p, size_t n, int64_t *out)
{
    int64_t v = 0;

    if (n == 0)
        return -EBADMSG;
    for (size_t i = 0; i < n; i++) {
        int d = p[i] - '0';

        if (p[i] < '0' || p[i] > '9')
            return -EBADMSG;
        if (v > (INT64_MAX - d) / 10)
            return -EBADMSG;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

static int apply_field(struct http_head *h, struct framing *fr, const struct http_field *f)
{
    int64_t cl;
    int rc;

    if (CI_EQ_LIT(f->name, f->name_len, "content-length")) {
        if ((rc = parse_content_length(f->value, f->value_len, &cl)) < 0)
            return rc;
        if (fr->have_cl && cl != h->content_length)
            return -EBADMSG;
        fr->have_cl = true;
        h->content_length = cl;
    } else if (CI_EQ_LIT(f->name, f->name_len, "transfer-encoding")) {
        fr->have_te = true;
        return for_each_element(f->value, f->value_len, te_element, h);
    } else if (CI_EQ_LIT(f->name, f->name_len, "connection")) {
        return for_each_element(f->value, f->value_len, connection_element, fr);
    } else if (CI_EQ_LIT(f->name, f->name_len, "expect")) {
        if (CI_EQ_LIT(f->value, f->value_len, "100-continue"))
            h->expect_continue = true;
    }
    return 0;
}

/* Cross-field rules, once every field is in. */
static int finish_framing(struct http_head *h, const struct framing *fr)
{
    if (fr->have_te) {
        /* "Transfer-Encoding:" with no coding at all */
        if (!h->chunked)
            return -EBADMSG;
        /* Both framings, or chunked from a 1.0 peer that cannot send it:
         * RFC 9112 6.1 says treat the framing as faulty. */
        if (fr->have_cl || h->minor == 0)
            return -EBADMSG;
    }
    if (h->minor == 1)
        h->keep_alive = !fr->conn_close;
    else
        h->keep_alive = fr->conn_keep_alive && !fr->conn_close;
    return 0;
}

static void head_reset(struct http_head *h)
{
    h->method = NULL;
    h->method_len = 0;
    h->target = NULL;
    h->target_len = 0;
    h->status = 0;
    h->minor = 0;
    h->nfields = 0;
    h->content_length = -1;
    h->chunked = false;
    h->keep_alive = false;
    h->expect_continue = false;
}

/* Whether the start of a request line still missing its LF can begin a valid
 * one. Lets a peer that speaks something else (TLS, SSH, binary noise) be
 * refused at once instead of after HTTP_MAX_HEAD bytes. */
static bool request_line_start_ok(const char *p, size_t n)
{
    if (n == 1 && p[0] == '\r')
        return true; /* an empty line whose LF is on its way */
    for (size_t i = 0; i < n; i++) {
        if (p[i] == ' ')
            return i > 0;
        if (i == METHOD_MAX || !tchar[(unsigned char) p[i]])
            return false;
    }
    return true;
}

static ssize_t parse_head(const char *buf, size_t len, struct http_head *h, bool request)
{
    /* Only the first HTTP_MAX_HEAD bytes can hold a head we accept, and
     * looking no further bounds the work per call. */
    size_t lim = len < HTTP_MAX_HEAD ? len : HTTP_MAX_HEAD;
    struct framing fr = { 0 };
    size_t pos = 0, n;
    const char *line;
    int rc;

    head_reset(h);
    for (int empty = 0;; empty++) {
        if (!next_line(buf, lim, &pos, &line, &n)) {
            if (request && pos < lim && !request_line_start_ok(buf + pos, lim - pos))
                return -EBADMSG;
            goto incomplete;
        }
        if (n > 0 || !request)
            break;
        /* RFC 9112 2.2 asks us to skip at least one empty line (a CRLF some
         * clients add after a body). A stream of them is not a client, and
         * each costs a pass every time the head is parsed again. */
        if (empty == MAX_LEADING_EMPTY)
            return -EBADMSG;
    }
    rc = request ? parse_request_line(line, n, h) : parse_status_line(line, n, h);
    if (rc < 0)
        return rc;
    for (;;) {
        struct http_field f;

        if (!next_line(buf, lim, &pos, &line, &n))
            goto incomplete;
        if (n == 0)
            break;
        if ((rc = parse_field_line(line, n, &f)) < 0)
            return rc;
        if (h->nfields == HTTP_MAX_HEADERS)
            return -EMSGSIZE;
        h->fields[h->nfields++] = f;
        if ((rc = apply_field(h, &fr, &f)) < 0)
            return rc;
    }
    if ((rc = finish_framing(h, &fr)) < 0)
        return rc;
    return (ssize_t) pos;

incomplete:
    return len >= HTTP_MAX_HEAD ? -EMSGSIZE : 0;
}

ssize_t http_parse_request_head(const char *buf, size_t len, struct http_head *h)
{
    return parse_head(buf, len, h, true);
}

ssize_t http_parse_response_head(const char *buf, size_t len, struct http_head *h)
{
    return parse_head(buf, len, h, false);
}

int http_parse_fields(const char *buf, size_t len, struct http_field *out, size_t max)
{
    size_t pos = 0, n, count = 0;
    const char *line;
    int rc;

    while (pos < len) {
        if (!next_line(buf, len, &pos, &line, &n))
            return -EBADMSG; /* a line cut short: the caller lost bytes */
        if (n == 0)
            return pos == len ? (int) count : -EBADMSG;
        if (count == max || count == INT_MAX)
            return -EMSGSIZE;
        if ((rc = parse_field_line(line, n, &out[count])) < 0)
            return rc;
        count++;
    }
    return (int) count;
}

const char *http_field_get(const struct http_field *f, size_t n, const char *name, size_t *len)
{
    size_t name_len = strlen(name);

    for (size_t i = 0; i < n; i++) {
        if (ci_eq(f[i].name, f[i].name_len, name, name_len)) {
            *len = f[i].value_len;
            return f[i].value;
        }
    }
    return NULL;
}

/* ---- chunked bodies ----------------------------------------------------- */

/* Where the decoder is; a zeroed struct starts at CH_SIZE. Errors are kept,
 * so a caller that feeds again after one gets the same answer. */
enum {
    CH_SIZE = 0,   /* hex digits of the chunk size */
    CH_SIZE_WS,    /* BWS after the digits, before ';' */
    CH_EXT,        /* chunk extensions, skipped up to CR */
    CH_SIZE_LF,    /* LF ending the size line */
    CH_DATA,       /* c->remaining data bytes */
    CH_DATA_CR,    /* CRLF after the data */
    CH_DATA_LF,
    CH_TRL_START,  /* start of a trailer line, or the final CRLF */
    CH_TRL_LINE,   /* inside a trailer line */
    CH_TRL_LF,     /* LF ending a trailer line */
    CH_END_LF,     /* LF of the final blank line */
    CH_DONE,
    CH_ERR_BADMSG,
    CH_ERR_MSGSIZE,
};

static ssize_t chunked_fail(struct http_chunked *c, int err)
{
    c->state = err == -EMSGSIZE ? CH_ERR_MSGSIZE : CH_ERR_BADMSG;
    return err;
}

static int trailer_put(struct http_chunked *c, char ch)
{
    if (c->trailers_len >= HTTP_MAX_TRAILERS)
        return -EMSGSIZE;
    c->trailers[c->trailers_len++] = ch;
    return 0;
}

/* The size line: 1*HEXDIG [ BWS ";" ext ] CRLF. Framing CRLFs are required
 * to be CRLF here, unlike in heads: a decoder that took a bare LF would
 * disagree with a strict one about where the body ends. */
static int size_line_byte(struct http_chunked *c, unsigned char ch)
{
    int d;

    if (ch == '\r') {
        if (c->state == CH_SIZE && c->line_len == 0)
            return -EBADMSG; /* no digits */
        if (c->state == CH_SIZE_WS)
            return -EBADMSG; /* BWS belongs before ';' only */
        c->state = CH_SIZE_LF;
        return 0;
    }
    if (++c->line_len > CHUNK_LINE_MAX)
        return -EMSGSIZE;
    switch (c->state) {
    case CH_SIZE:
        if ((d = hex_value(ch)) >= 0) {
            if (c->remaining > (CHUNK_SIZE_MAX - (uint64_t) d) / 16)
                return -EBADMSG;
            c->remaining = c->remaining * 16 + (uint64_t) d;
            return 0;
        }
        if (c->line_len == 1)
            return -EBADMSG;
        if (ch == ';')
            c->state = CH_EXT;
        else if (ch == ' ' || ch == '\t')
            c->state = CH_SIZE_WS;
        else
            return -EBADMSG;
        return 0;
    case CH_SIZE_WS:
        if (ch == ';')
            c->state = CH_EXT;
        else if (ch != ' ' && ch != '\t')
            return -EBADMSG;
        return 0;
    case CH_EXT:
        return is_value_char(ch) ? 0 : -EBADMSG;
    default:
        return -EBADMSG;
    }
}

ssize_t http_chunked_feed(struct http_chunked *c, const char *in, size_t n,
                          http_data_fn on_data, void *arg)
{
    size_t i = 0;
    int rc;

    switch (c->state) {
    case CH_DONE:
        return 0;
    case CH_ERR_BADMSG:
        return -EBADMSG;
    case CH_ERR_MSGSIZE:
        return -EMSGSIZE;
    default:
        break;
    }
    while (i < n) {
        unsigned char ch = (unsigned char) in[i];

        switch (c->state) {
        case CH_SIZE:
        case CH_SIZE_WS:
        case CH_EXT:
            if ((rc = size_line_byte(c, ch)) < 0)
                return chunked_fail(c, rc);
            i++;
            break;
        case CH_SIZE_LF:
            if (ch != '\n')
                return chunked_fail(c, -EBADMSG);
            c->state = c->remaining ? CH_DATA : CH_TRL_START;
            i++;
            break;
        case CH_DATA: {
            size_t take = n - i;

            if ((uint64_t) take > c->remaining)
                take = (size_t) c->remaining;
            if (on_data)
                on_data(arg, in + i, take);
            i += take;
            c->remaining -= take;
            if (c->remaining == 0)
                c->state = CH_DATA_CR;
            break;
        }
        case CH_DATA_CR:
            if (ch != '\r')
                return chunked_fail(c, -EBADMSG);
            c->state = CH_DATA_LF;
            i++;
            break;
        case CH_DATA_LF:
            if (ch != '\n')
                return chunked_fail(c, -EBADMSG);
            c->state = CH_SIZE;
            c->line_len = 0;
            i++;
            break;
        case CH_TRL_START:
            if (ch == '\r') {
                c->state = CH_END_LF;
                i++;
                break;
            }
            c->state = CH_TRL_LINE; /* and look at this byte again there */
            break;
        case CH_TRL_LINE:
            if (ch == '\n')
                return chunked_fail(c, -EBADMSG);
            if ((rc = trailer_put(c, (char) ch)) < 0)
                return chunked_fail(c, rc);
            if (ch == '\r')
                c->state = CH_TRL_LF;
            i++;
            break;
        case CH_TRL_LF:
            if (ch != '\n')
                return chunked_fail(c, -EBADMSG);
            if ((rc = trailer_put(c, (char) ch)) < 0)
                return chunked_fail(c, rc);
            c->state = CH_TRL_START;
            i++;
            break;
        case CH_END_LF:
            if (ch != '\n')
                return chunked_fail(c, -EBADMSG);
            c->state = CH_DONE;
            c->done = true;
            return (ssize_t) (i + 1);
        default:
            return chunked_fail(c, -EBADMSG);
        }
    }
    return (ssize_t) i;
}

const char *http_reason(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 422: return "Unprocessable Content";
    case 426: return "Upgrade Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
    }
}
