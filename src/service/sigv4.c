/* service/sigv4.c: AWS Signature Version 4 verification (see sigv4.h).
 *
 * A request goes through the checks in the order AWS's front end applies
 * them, because clients and users read the first error: both forms present,
 * no signature at all, missing parts, the date's format, its age, host (and
 * x-amz-date) among the signed headers, the algorithm, the credential's shape,
 * its scope (region, service, terminator, date), the access key, the
 * signature itself, and last the session token.
 *
 * Where the wording comes from:
 * - AWS's "Troubleshoot signed requests" page (IAM user guide, formerly
 *   General Reference, signature-v4-troubleshooting): the scope, "Signature
 *   expired"/"not yet current" and mismatch messages;
 * - responses recorded from AWS's JSON front end, as kept in the comments of
 *   the DynamoDB emulator dynalite (mhart/dynalite, index.js): the
 *   IncompleteSignature texts, "Found both", "'Host' must be a 'SignedHeader'",
 *   "Unsupported AWS 'algorithm'", "Credential must have exactly 5
 *   slash-delimited elements", and the combined scope message with its
 *   trailing blanks;
 * - reports of real Lambda responses (GitHub issues, spec section 6):
 *   MissingAuthenticationTokenException 403 "Missing Authentication Token"
 *   (brefphp/bref#1250, an Invoke URL), UnrecognizedClientException 403 "The
 *   security token included in the request is invalid." (iann0036/iamlive#58,
 *   DeleteFunction), InvalidSignatureException 403 for "Signature expired ...
 *   (... - 5 min.)" (serverless/serverless#27, CreateFunction).
 * - S3's texts for a bad X-Amz-Expires (other services document none).
 * lambdad's own texts, where AWS has no documented one: "'X-Amz-Date' must be
 * a 'SignedHeader'", the presigned expiry message, X-Amz-Expires of 0, the
 * cap on query parameters and the internal error.
 *
 * The canonical request is written into scratch space the verifier owns
 * (sized from HTTP_MAX_HEAD, since everything in it comes from the request
 * head) and hashed in one call. Derived signing keys are cached per access
 * key for the last two dates, so the 4-HMAC chain runs once a day per key
 * (twice around midnight, when clients straddle the date change). */
#include "service/sigv4.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "common/text.h"

#define ALGORITHM "AWS4-HMAC-SHA256"
#define TERMINATOR "aws4_request"
#define UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"

struct slice {
    const char *p; /* NULL when absent */
    size_t n;
};

struct signing_cache {
    char date[8];
    unsigned char key[32];
    unsigned long long used; /* verifier tick of the last use; 0 = empty */
};

struct key {
    char *id; /* owned */
    size_t id_len;
    char *secret; /* owned; wiped on free */
    char *token;  /* owned; NULL for a permanent key */
    size_t token_len;
    struct signing_cache cache[2];
};

struct qparam {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
};

struct sigv4_verifier {
    char region[SIGV4_REGION_MAX + 1];
    size_t region_len;
    EVP_MD *md;       /* fetched once: an implicit fetch per digest costs a lock */
    EVP_MD_CTX *ctx;  /* reused by every digest and HMAC */
    struct key keys[SIGV4_MAX_KEYS];
    size_t nkeys;
    unsigned long long tick;
    /* Per-request scratch; contents are meaningless between calls. */
    struct qparam params[SIGV4_MAX_PARAMS]; /* raw, as sent */
    struct qparam enc[SIGV4_MAX_PARAMS];    /* canonical, for sorting */
    size_t nparams;
    char *canon; /* the canonical request */
    size_t canon_cap;
    char *qbuf; /* encoded query names and values */
    size_t qbuf_cap;
    char *abuf; /* decoded X-Amz-* query values */
    size_t abuf_cap;
};

/* What one request claims; slices point into the request or v->abuf. */
struct auth {
    bool presigned;
    struct slice header; /* the Authorization value, header form */
    struct slice algorithm, credential, signed_headers, signature, date, expires, token;
    int64_t t;      /* X-Amz-Date, seconds since the epoch */
    long expires_s; /* presigned only */
};

/* ---- small text helpers ------------------------------------------------ */

static const char hexdig[] = "0123456789abcdef";
static const char hexup[] = "0123456789ABCDEF";

/* RFC 3986 unreserved: A-Z a-z 0-9 - _ . ~, one bit per byte value; the
 * encoder tests every byte of the path and query. */
static const uint64_t unreserved[4] = {0x03ff600000000000ULL, 0x47fffffe87fffffeULL, 0, 0};

static bool is_unreserved(unsigned char c)
{
    return (unreserved[c >> 6] >> (c & 63)) & 1;
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static unsigned char lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char) (c + 32) : c;
}

static bool ci_eq(const char *a, size_t an, const char *b, size_t bn)
{
    if (an != bn)
        return false;
    for (size_t i = 0; i < an; i++)
        if (lower((unsigned char) a[i]) != lower((unsigned char) b[i]))
            return false;
    return true;
}

static bool slice_is(struct slice s, const char *lit)
{
    size_t n = strlen(lit);

    return s.p && s.n == n && memcmp(s.p, lit, n) == 0;
}

static bool slice_empty(struct slice s)
{
    return s.p == NULL || s.n == 0;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static struct slice trim(const char *p, size_t n)
{
    while (n > 0 && is_blank(*p)) {
        p++;
        n--;
    }
    while (n > 0 && is_blank(p[n - 1]))
        n--;
    return (struct slice){p, n};
}

static void hex32(const unsigned char in[32], char out[64])
{
    for (size_t i = 0; i < 32; i++) {
        out[2 * i] = hexdig[in[i] >> 4];
        out[2 * i + 1] = hexdig[in[i] & 15];
    }
}

/* Appends s[0..n) with every byte outside printable ASCII as '?': messages
 * quote request bytes and must stay valid in a JSON body. */
static void put_quoted(struct ld_text *t, const char *s, size_t n)
{
    char chunk[128];

    while (n > 0) {
        size_t k = n < sizeof chunk ? n : sizeof chunk;

        for (size_t i = 0; i < k; i++) {
            unsigned char c = (unsigned char) s[i];

            chunk[i] = c >= 0x20 && c < 0x7f ? (char) c : '?';
        }
        ld_text_mem(t, chunk, k);
        s += k;
        n -= k;
    }
}

/* Percent-encodes every byte outside the unreserved set, copying runs of
 * unreserved bytes at once. With `decode`, valid %XX escapes in the input are
 * decoded first, so "%3a", "%3A" and ":" all come out as "%3A". */
static void put_encoded(struct ld_text *t, const char *s, size_t n, bool decode)
{
    size_t i = 0;

    while (i < n) {
        size_t run = i;
        unsigned char c;

        while (run < n && is_unreserved((unsigned char) s[run]))
            run++;
        if (run > i) {
            ld_text_mem(t, s + i, run - i);
            i = run;
            continue;
        }
        c = (unsigned char) s[i];
        if (decode && c == '%' && i + 2 < n && hexval((unsigned char) s[i + 1]) >= 0 &&
            hexval((unsigned char) s[i + 2]) >= 0) {
            c = (unsigned char) (hexval((unsigned char) s[i + 1]) * 16 +
                                 hexval((unsigned char) s[i + 2]));
            i += 3;
        } else {
            i++;
        }
        if (is_unreserved(c)) {
            char one = (char) c;

            ld_text_mem(t, &one, 1);
        } else {
            char esc[3] = {'%', hexup[c >> 4], hexup[c & 15]};

            ld_text_mem(t, esc, 3);
        }
    }
}

/* Appends the percent-decoding of s (invalid escapes kept as they are). */
static void put_decoded(struct ld_text *t, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];

        if (c == '%' && i + 2 < n && hexval((unsigned char) s[i + 1]) >= 0 &&
            hexval((unsigned char) s[i + 2]) >= 0) {
            c = (char) (hexval((unsigned char) s[i + 1]) * 16 + hexval((unsigned char) s[i + 2]));
            i += 2;
        }
        ld_text_mem(t, &c, 1);
    }
}

/* True when the percent-decoding of s[0..n) is exactly lit. */
static bool decoded_is(const char *s, size_t n, const char *lit)
{
    size_t i = 0, j = 0;

    while (i < n) {
        char c = s[i];

        if (c == '%' && i + 2 < n && hexval((unsigned char) s[i + 1]) >= 0 &&
            hexval((unsigned char) s[i + 2]) >= 0) {
            c = (char) (hexval((unsigned char) s[i + 1]) * 16 + hexval((unsigned char) s[i + 2]));
            i += 3;
        } else {
            i++;
        }
        if (lit[j] == '\0' || lit[j] != c)
            return false;
        j++;
    }
    return lit[j] == '\0';
}

/* ---- time ----------------------------------------------------------------- */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil): no timegm(), no TZ lookup on the hot path. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    int64_t era, doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = (int) (doy - (153 * mp + 2) / 5 + 1);
    *m = (int) (mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static int digits(const char *p, size_t n)
{
    int v = 0;

    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    return v;
}

/* "20240115T120000Z" (ISO 8601 basic format, UTC) to epoch seconds. */
static bool parse_amz_date(struct slice s, int64_t *out)
{
    static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, mo, d, h, mi, sec;

    if (s.n != 16 || s.p[8] != 'T' || s.p[15] != 'Z')
        return false;
    y = digits(s.p, 4);
    mo = digits(s.p + 4, 2);
    d = digits(s.p + 6, 2);
    h = digits(s.p + 9, 2);
    mi = digits(s.p + 11, 2);
    sec = digits(s.p + 13, 2);
    if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h < 0 || h > 23 || mi < 0 ||
        mi > 59 || sec < 0 || sec > 59)
        return false;
    if (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
        return false;
    *out = days_from_civil(y, mo, d) * 86400 + (int64_t) h * 3600 + (int64_t) mi * 60 + sec;
    return true;
}

/* Epoch seconds to "20240115T120000Z" (years clamped to 0000..9999). */
static void put_amz_date(struct ld_text *t, int64_t when)
{
    int64_t days = when >= 0 ? when / 86400 : -((-when + 86399) / 86400);
    int64_t secs = when - days * 86400, y;
    int m, d, yy;
    char b[16];

    civil_from_days(days, &y, &m, &d);
    yy = y < 0 ? 0 : y > 9999 ? 9999 : (int) y;
    b[0] = (char) ('0' + yy / 1000);
    b[1] = (char) ('0' + yy / 100 % 10);
    b[2] = (char) ('0' + yy / 10 % 10);
    b[3] = (char) ('0' + yy % 10);
    b[4] = (char) ('0' + m / 10);
    b[5] = (char) ('0' + m % 10);
    b[6] = (char) ('0' + d / 10);
    b[7] = (char) ('0' + d % 10);
    b[8] = 'T';
    b[9] = (char) ('0' + secs / 36000);
    b[10] = (char) ('0' + secs / 3600 % 10);
    b[11] = (char) ('0' + secs % 3600 / 600);
    b[12] = (char) ('0' + secs % 600 / 60);
    b[13] = (char) ('0' + secs % 60 / 10);
    b[14] = (char) ('0' + secs % 10);
    b[15] = 'Z';
    ld_text_mem(t, b, sizeof b);
}

/* ---- results ----------------------------------------------------------- */

static const struct {
    int status;
    const char *type;
} kinds[] = {
    [SIGV4_OK] = {200, NULL},
    [SIGV4_MISSING_AUTHENTICATION_TOKEN] = {403, "MissingAuthenticationTokenException"},
    [SIGV4_INCOMPLETE_SIGNATURE] = {400, "IncompleteSignatureException"},
    [SIGV4_INVALID_SIGNATURE] = {403, "InvalidSignatureException"},
    [SIGV4_UNRECOGNIZED_CLIENT] = {403, "UnrecognizedClientException"},
    [SIGV4_INTERNAL] = {500, "ServiceException"},
};

const char *sigv4_error_type(enum sigv4_error e)
{
    return (size_t) e < sizeof kinds / sizeof kinds[0] ? kinds[e].type : NULL;
}

static void msg_begin(struct sigv4_result *res, struct ld_text *t)
{
    ld_text_init(t, res->message, sizeof res->message - 1); /* room for the NUL */
}

static int msg_end(struct sigv4_result *res, struct ld_text *t, enum sigv4_error e)
{
    res->message[t->len] = '\0';
    res->error = e;
    res->status = kinds[e].status;
    res->type = kinds[e].type;
    return e == SIGV4_INTERNAL ? -EIO : -EACCES;
}

static int refuse(struct sigv4_result *res, enum sigv4_error e, const char *text)
{
    struct ld_text t;

    msg_begin(res, &t);
    ld_text_str(&t, text);
    return msg_end(res, &t, e);
}

static int internal(struct sigv4_result *res)
{
    return refuse(res, SIGV4_INTERNAL, "An internal error occurred while checking the signature.");
}

/* ---- crypto ----------------------------------------------------------- */

static int sha256(EVP_MD_CTX *ctx, const EVP_MD *md, const void *p, size_t n, unsigned char out[32])
{
    unsigned int len = 0;

    if (EVP_DigestInit_ex2(ctx, md, NULL) != 1 || EVP_DigestUpdate(ctx, n ? p : "", n) != 1 ||
        EVP_DigestFinal_ex(ctx, out, &len) != 1 || len != 32)
        return -EIO;
    return 0;
}

/* HMAC-SHA256 (RFC 2104) on the caller's digest context: EVP_MAC would
 * fetch and set up a MAC context per call, which costs more than the HMAC. */
static int hmac(EVP_MD_CTX *ctx, const EVP_MD *md, const void *key, size_t klen, const void *msg,
                size_t mlen, unsigned char out[32])
{
    unsigned char k[64] = {0}, pad[64], inner[32];
    unsigned int len = 0;
    int rc = -EIO;

    if (klen > sizeof k) {
        if (sha256(ctx, md, key, klen, k) < 0)
            goto out;
    } else if (klen > 0) {
        memcpy(k, key, klen);
    }
    for (size_t i = 0; i < sizeof pad; i++)
        pad[i] = k[i] ^ 0x36;
    if (EVP_DigestInit_ex2(ctx, md, NULL) != 1 || EVP_DigestUpdate(ctx, pad, sizeof pad) != 1 ||
        EVP_DigestUpdate(ctx, mlen ? msg : "", mlen) != 1 ||
        EVP_DigestFinal_ex(ctx, inner, &len) != 1)
        goto out;
    for (size_t i = 0; i < sizeof pad; i++)
        pad[i] = k[i] ^ 0x5c;
    if (EVP_DigestInit_ex2(ctx, md, NULL) != 1 || EVP_DigestUpdate(ctx, pad, sizeof pad) != 1 ||
        EVP_DigestUpdate(ctx, inner, sizeof inner) != 1 ||
        EVP_DigestFinal_ex(ctx, out, &len) != 1)
        goto out;
    rc = 0;
out:
    OPENSSL_cleanse(k, sizeof k);
    OPENSSL_cleanse(pad, sizeof pad);
    OPENSSL_cleanse(inner, sizeof inner);
    return rc;
}

static int derive_key(EVP_MD_CTX *ctx, const EVP_MD *md, const char *secret, const char *date8,
                      const char *region, size_t region_len, unsigned char out[32])
{
    char first[4 + SIGV4_SECRET_MAX];
    unsigned char k[32];
    size_t slen = strlen(secret);
    int rc = -EIO;

    if (slen > SIGV4_SECRET_MAX)
        return -EINVAL;
    memcpy(first, "AWS4", 4);
    memcpy(first + 4, secret, slen);
    if (hmac(ctx, md, first, 4 + slen, date8, 8, k) == 0 &&
        hmac(ctx, md, k, sizeof k, region, region_len, k) == 0 &&
        hmac(ctx, md, k, sizeof k, SIGV4_SERVICE, strlen(SIGV4_SERVICE), k) == 0 &&
        hmac(ctx, md, k, sizeof k, TERMINATOR, strlen(TERMINATOR), out) == 0)
        rc = 0;
    OPENSSL_cleanse(first, sizeof first);
    OPENSSL_cleanse(k, sizeof k);
    return rc;
}

int sigv4_signing_key(const char *secret_access_key, const char *date8, const char *region,
                      unsigned char out[32])
{
    EVP_MD *md = EVP_MD_fetch(NULL, "SHA256", NULL);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int rc = -EIO;

    if (md && ctx)
        rc = derive_key(ctx, md, secret_access_key, date8, region, strlen(region), out);
    EVP_MD_CTX_free(ctx);
    EVP_MD_free(md);
    return rc;
}

/* The cached key for k on date8, deriving it on a miss. */
static int signing_key(struct sigv4_verifier *v, struct key *k, const char *date8,
                       const unsigned char **out)
{
    struct signing_cache *c;

    v->tick++;
    for (size_t i = 0; i < 2; i++) {
        c = &k->cache[i];
        if (c->used && memcmp(c->date, date8, 8) == 0) {
            c->used = v->tick;
            *out = c->key;
            return 0;
        }
    }
    c = &k->cache[k->cache[0].used <= k->cache[1].used ? 0 : 1];
    c->used = 0;
    if (derive_key(v->ctx, v->md, k->secret, date8, v->region, v->region_len, c->key) < 0)
        return -EIO;
    memcpy(c->date, date8, 8);
    c->used = v->tick;
    *out = c->key;
    return 0;
}

/* ---- the request ----------------------------------------------------- */

/* First field named `name` (case-insensitive), trimmed; .p NULL if none. */
static struct slice field(const struct sigv4_request *r, const char *name)
{
    size_t n = strlen(name);

    for (size_t i = 0; i < r->nfields; i++)
        if (ci_eq(r->fields[i].name, r->fields[i].name_len, name, n))
            return trim(r->fields[i].value, r->fields[i].value_len);
    return (struct slice){NULL, 0};
}

static void split_target(const struct sigv4_request *r, struct slice *path, struct slice *query)
{
    const char *q = r->target_len ? memchr(r->target, '?', r->target_len) : NULL;

    if (q) {
        *path = (struct slice){r->target, (size_t) (q - r->target)};
        *query = (struct slice){q + 1, r->target_len - path->n - 1};
    } else {
        *path = (struct slice){r->target, r->target_len};
        *query = (struct slice){NULL, 0};
    }
}

/* Calls fn for each non-empty '&'-separated piece, split at its first '='.
 * Stops early when fn returns false; returns the number of pieces seen. */
static size_t each_param(struct slice q, bool (*fn)(void *, const struct qparam *), void *arg)
{
    size_t i = 0, count = 0;

    while (i < q.n) {
        const char *amp = memchr(q.p + i, '&', q.n - i);
        size_t end = amp ? (size_t) (amp - q.p) : q.n;

        if (end > i) {
            const char *eq = memchr(q.p + i, '=', end - i);
            struct qparam p;

            p.name = q.p + i;
            p.name_len = eq ? (size_t) (eq - p.name) : end - i;
            p.value = eq ? eq + 1 : q.p + end;
            p.value_len = eq ? (size_t) (q.p + end - p.value) : 0;
            count++;
            if (!fn(arg, &p))
                break;
        }
        i = end + 1;
    }
    return count;
}

static bool find_algorithm(void *arg, const struct qparam *p)
{
    bool *found = arg;

    if (decoded_is(p->name, p->name_len, "X-Amz-Algorithm"))
        *found = true;
    return !*found;
}

static bool store_param(void *arg, const struct qparam *p)
{
    struct sigv4_verifier *v = arg;

    if (v->nparams < SIGV4_MAX_PARAMS)
        v->params[v->nparams] = *p;
    v->nparams++;
    return true;
}

/* The decoded value of the first stored parameter named `name`, copied
 * into the verifier's scratch; .p NULL when absent. */
static struct slice query_value(struct sigv4_verifier *v, struct ld_text *scratch, const char *name)
{
    for (size_t i = 0; i < v->nparams; i++) {
        const struct qparam *p = &v->params[i];

        if (decoded_is(p->name, p->name_len, name)) {
            size_t at = scratch->len;

            put_decoded(scratch, p->value, p->value_len);
            return (struct slice){scratch->buf + at, scratch->len - at};
        }
    }
    return (struct slice){NULL, 0};
}

static int parse_header_form(const struct sigv4_request *req, struct auth *a,
                             struct sigv4_result *res)
{
    static const char *const parts[] = {"Credential", "Signature", "SignedHeaders"};
    struct slice *slots[] = {&a->credential, &a->signature, &a->signed_headers};
    const char *p = a->header.p, *end = p + a->header.n;
    struct ld_text t;
    bool missing = false;

    /* "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...";
     * AWS splits on both ',' and ' ', so either alone also works. */
    a->algorithm.p = p;
    while (p < end && *p != ' ' && *p != ',')
        p++;
    a->algorithm.n = (size_t) (p - a->algorithm.p);
    while (p < end) {
        const char *tok, *eq;

        while (p < end && (*p == ' ' || *p == ',' || *p == '\t'))
            p++;
        if (p == end)
            break;
        tok = p;
        while (p < end && *p != ' ' && *p != ',' && *p != '\t')
            p++;
        eq = memchr(tok, '=', (size_t) (p - tok));
        if (!eq) {
            msg_begin(res, &t);
            ld_text_str(&t, "'");
            put_quoted(&t, tok, (size_t) (p - tok));
            ld_text_str(&t, "' not a valid key=value pair (missing equal-sign) in Authorization "
                            "header: '");
            put_quoted(&t, a->header.p, a->header.n);
            ld_text_str(&t, "'.");
            return msg_end(res, &t, SIGV4_INCOMPLETE_SIGNATURE);
        }
        for (size_t i = 0; i < 3; i++) {
            size_t klen = strlen(parts[i]);

            if ((size_t) (eq - tok) == klen && memcmp(tok, parts[i], klen) == 0 && !slots[i]->p)
                *slots[i] = (struct slice){eq + 1, (size_t) (p - eq - 1)};
        }
    }
    a->date = field(req, "x-amz-date");
    msg_begin(res, &t);
    for (size_t i = 0; i < 3; i++) {
        if (slice_empty(*slots[i])) {
            ld_text_str(&t, "Authorization header requires '");
            ld_text_str(&t, parts[i]);
            ld_text_str(&t, "' parameter. ");
            missing = true;
        }
    }
    /* AWS also takes a Date header instead; no SDK sends one, and lambdad
     * reads only X-Amz-Date. */
    if (slice_empty(a->date)) {
        ld_text_str(&t, "Authorization header requires existence of either a 'X-Amz-Date' or a "
                        "'Date' header. ");
        missing = true;
    }
    if (!missing)
        return 0;
    ld_text_str(&t, "Authorization=");
    put_quoted(&t, a->header.p, a->header.n);
    return msg_end(res, &t, SIGV4_INCOMPLETE_SIGNATURE);
}

static int parse_query_form(struct sigv4_verifier *v, struct auth *a, struct sigv4_result *res)
{
    static const char *const parts[] = {"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature",
                                        "X-Amz-SignedHeaders", "X-Amz-Date", "X-Amz-Expires"};
    struct slice *slots[] = {&a->algorithm, &a->credential, &a->signature,
                             &a->signed_headers, &a->date, &a->expires};
    struct ld_text scratch, t;
    bool missing = false;

    ld_text_init(&scratch, v->abuf, v->abuf_cap);
    msg_begin(res, &t);
    for (size_t i = 0; i < 6; i++) {
        *slots[i] = query_value(v, &scratch, parts[i]);
        if (slice_empty(*slots[i])) {
            ld_text_str(&t, "AWS query-string parameters must include '");
            ld_text_str(&t, parts[i]);
            ld_text_str(&t, "'. ");
            missing = true;
        }
    }
    a->token = query_value(v, &scratch, "X-Amz-Security-Token");
    if (scratch.over) /* cannot happen: decoding only shrinks what the head held */
        return refuse(res, SIGV4_INCOMPLETE_SIGNATURE, "The query string is too long.");
    if (!missing)
        return 0;
    ld_text_str(&t, "Re-examine the query-string parameters.");
    return msg_end(res, &t, SIGV4_INCOMPLETE_SIGNATURE);
}

/* Finds and splits the signature, whichever form carries it. */
static int parse_auth(struct sigv4_verifier *v, const struct sigv4_request *req, struct auth *a,
                      struct sigv4_result *res)
{
    struct slice path, query;
    bool presigned = false;

    memset(a, 0, sizeof *a);
    split_target(req, &path, &query);
    each_param(query, find_algorithm, &presigned);
    a->presigned = res->presigned = presigned;
    a->header = field(req, "authorization");
    if (a->header.p && presigned)
        return refuse(res, SIGV4_INVALID_SIGNATURE,
                      "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' "
                      "as HTTP header.");
    /* Any other scheme (Basic, Bearer) is no AWS signature at all. */
    if ((!a->header.p && !presigned) ||
        (a->header.p && (a->header.n < 5 || memcmp(a->header.p, "AWS4-", 5) != 0)))
        return refuse(res, SIGV4_MISSING_AUTHENTICATION_TOKEN, "Missing Authentication Token");
    v->nparams = 0;
    each_param(query, store_param, v);
    if (v->nparams > SIGV4_MAX_PARAMS)
        return refuse(res, SIGV4_INCOMPLETE_SIGNATURE,
                      "lambdad accepts at most 256 query-string parameters.");
    if (!presigned)
        return parse_header_form(req, a, res);
    return parse_query_form(v, a, res);
}

/* ---- canonical request ---------------------------------------------- */

/* The path as sent, with empty and "." segments dropped and ".." applied
 * (RFC 3986 5.2.4, plus AWS's removal of repeated slashes), each segment
 * percent-encoded again. Encoded segments hold no '/', so ".." can pop
 * back to the previous slash in the output. */
static void put_canonical_path(struct ld_text *t, struct slice path)
{
    size_t base, nseg = 0, i = 0;

    if (path.n == 0) {
        ld_text_mem(t, "/", 1);
        return;
    }
    if (path.p[0] == '/')
        ld_text_mem(t, "/", 1);
    base = t->len;
    while (i <= path.n) {
        const char *slash = memchr(path.p + i, '/', path.n - i);
        size_t end = slash ? (size_t) (slash - path.p) : path.n;
        const char *seg = path.p + i;
        size_t len = end - i;

        if (len == 0 || (len == 1 && seg[0] == '.')) {
            /* dropped */
        } else if (len == 2 && seg[0] == '.' && seg[1] == '.') {
            if (nseg > 0) {
                size_t back = t->len;

                while (back > base && t->buf[back - 1] != '/')
                    back--;
                t->len = back > base ? back - 1 : base;
                nseg--;
            }
        } else {
            if (nseg > 0)
                ld_text_mem(t, "/", 1);
            put_encoded(t, seg, len, false);
            nseg++;
        }
        i = end + 1;
    }
    if (path.p[path.n - 1] == '/' && nseg > 0)
        ld_text_mem(t, "/", 1);
}

static int cmp_bytes(const char *a, size_t an, const char *b, size_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);

    return c ? c : (an > bn) - (an < bn);
}

static int cmp_param(const void *x, const void *y)
{
    const struct qparam *a = x, *b = y;
    int c = cmp_bytes(a->name, a->name_len, b->name, b->name_len);

    return c ? c : cmp_bytes(a->value, a->value_len, b->value, b->value_len);
}

/* name=value pairs, each side decoded and re-encoded, sorted by name then
 * value; the presigned signature itself is left out. */
static int put_canonical_query(struct sigv4_verifier *v, struct ld_text *t, bool presigned)
{
    struct ld_text q;
    size_t n = 0;

    ld_text_init(&q, v->qbuf, v->qbuf_cap);
    for (size_t i = 0; i < v->nparams; i++) {
        const struct qparam *p = &v->params[i];
        struct qparam *e = &v->enc[n];
        size_t at;

        if (presigned && decoded_is(p->name, p->name_len, "X-Amz-Signature"))
            continue;
        at = q.len;
        put_encoded(&q, p->name, p->name_len, true);
        e->name = q.buf + at;
        e->name_len = q.len - at;
        at = q.len;
        put_encoded(&q, p->value, p->value_len, true);
        e->value = q.buf + at;
        e->value_len = q.len - at;
        n++;
    }
    if (q.over)
        return -E2BIG;
    if (n > 1)
        qsort(v->enc, n, sizeof v->enc[0], cmp_param);
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            ld_text_mem(t, "&", 1);
        ld_text_mem(t, v->enc[i].name, v->enc[i].name_len);
        ld_text_mem(t, "=", 1);
        ld_text_mem(t, v->enc[i].value, v->enc[i].value_len);
    }
    return 0;
}

/* A header value with blanks trimmed and inner runs of blanks as one space. */
static void put_collapsed(struct ld_text *t, const char *s, size_t n)
{
    struct slice v = trim(s, n);
    size_t i = 0;

    if (v.n == 0)
        return;
    while (i < v.n) {
        size_t run = i;

        while (run < v.n && !is_blank(v.p[run]))
            run++;
        ld_text_mem(t, v.p + i, run - i);
        if (run == v.n)
            break;
        ld_text_mem(t, " ", 1);
        i = run;
        while (i < v.n && is_blank(v.p[i]))
            i++;
    }
}

/* One "name:value\n" line per signed header, in the order the request lists
 * them (clients list them sorted); repeated fields join with ','. */
static void put_canonical_headers(struct ld_text *t, const struct sigv4_request *req,
                                  struct slice names)
{
    size_t i = 0;

    while (i < names.n) {
        const char *semi = memchr(names.p + i, ';', names.n - i);
        size_t end = semi ? (size_t) (semi - names.p) : names.n;
        const char *name = names.p + i;
        size_t len = end - i;
        bool first = true;

        i = end + 1;
        if (len == 0)
            continue;
        ld_text_mem(t, name, len);
        ld_text_mem(t, ":", 1);
        for (size_t f = 0; f < req->nfields; f++) {
            if (!ci_eq(req->fields[f].name, req->fields[f].name_len, name, len))
                continue;
            if (!first)
                ld_text_mem(t, ",", 1);
            put_collapsed(t, req->fields[f].value, req->fields[f].value_len);
            first = false;
        }
        ld_text_mem(t, "\n", 1);
    }
}

/* Writes the canonical request into v->canon; returns its length, -E2BIG or
 * -EIO. */
static long build_canonical(struct sigv4_verifier *v, const struct sigv4_request *req,
                            const struct auth *a)
{
    struct slice path, query, content;
    struct ld_text t;
    unsigned char digest[32];
    char hex[64];
    int rc;

    ld_text_init(&t, v->canon, v->canon_cap);
    split_target(req, &path, &query);
    if (req->method_len > 0)
        ld_text_mem(&t, req->method, req->method_len);
    ld_text_mem(&t, "\n", 1);
    put_canonical_path(&t, path);
    ld_text_mem(&t, "\n", 1);
    if ((rc = put_canonical_query(v, &t, a->presigned)) < 0)
        return rc;
    ld_text_mem(&t, "\n", 1);
    put_canonical_headers(&t, req, a->signed_headers);
    ld_text_mem(&t, "\n", 1);
    ld_text_mem(&t, a->signed_headers.p, a->signed_headers.n);
    ld_text_mem(&t, "\n", 1);
    /* A client that opts out of payload signing says so in a header that is
     * then part of what it signs; any other value is replaced by the real
     * hash, so a wrong one fails as a signature mismatch. */
    content = field(req, "x-amz-content-sha256");
    if (slice_is(content, UNSIGNED_PAYLOAD)) {
        ld_text_str(&t, UNSIGNED_PAYLOAD);
    } else {
        if (req->body_sha256)
            memcpy(digest, req->body_sha256, sizeof digest);
        else if (sha256(v->ctx, v->md, req->body, req->body_len, digest) < 0)
            return -EIO;
        hex32(digest, hex);
        ld_text_mem(&t, hex, sizeof hex);
    }
    if (t.over)
        return -E2BIG;
    return (long) t.len;
}

/* "AWS4-HMAC-SHA256\n<date>\n<scope>\n<hex sha256(canonical)>", the scope
 * being the credential without its key id. */
static int build_sts(struct sigv4_verifier *v, const struct auth *a, size_t canon_len,
                     struct ld_text *t)
{
    const char *slash = memchr(a->credential.p, '/', a->credential.n);
    unsigned char digest[32];
    char hex[64];

    if (sha256(v->ctx, v->md, v->canon, canon_len, digest) < 0)
        return -EIO;
    hex32(digest, hex);
    ld_text_str(t, ALGORITHM "\n");
    ld_text_mem(t, a->date.p, a->date.n);
    ld_text_mem(t, "\n", 1);
    if (slash)
        ld_text_mem(t, slash + 1, a->credential.n - (size_t) (slash - a->credential.p) - 1);
    ld_text_mem(t, "\n", 1);
    ld_text_mem(t, hex, sizeof hex);
    return 0;
}

/* ---- checks ---------------------------------------------------------- */

static int check_date(struct auth *a, time_t now, struct sigv4_result *res)
{
    struct ld_text t;
    int64_t n = (int64_t) now;

    if (!parse_amz_date(a->date, &a->t)) {
        msg_begin(res, &t);
        ld_text_str(&t, "Date must be in ISO-8601 'basic format'. Got '");
        put_quoted(&t, a->date.p, a->date.n);
        ld_text_str(&t, "'. See http://en.wikipedia.org/wiki/ISO_8601");
        return msg_end(res, &t, SIGV4_INCOMPLETE_SIGNATURE);
    }
    if (a->presigned) {
        /* S3's wording for the same checks; AWS documents none for others. */
        const char *e = a->expires.p;
        size_t len = a->expires.n;
        int64_t val = 0;

        if (len > 1 && e[0] == '-')
            return refuse(res, SIGV4_INCOMPLETE_SIGNATURE, "X-Amz-Expires must be non-negative");
        for (size_t i = 0; i < len; i++) {
            if (e[i] < '0' || e[i] > '9')
                return refuse(res, SIGV4_INCOMPLETE_SIGNATURE, "X-Amz-Expires should be a number");
            if (val <= SIGV4_MAX_EXPIRES)
                val = val * 10 + (e[i] - '0');
        }
        if (val > SIGV4_MAX_EXPIRES)
            return refuse(res, SIGV4_INCOMPLETE_SIGNATURE,
                          "X-Amz-Expires must be less than a week (in seconds); that is, the "
                          "given X-Amz-Expires must be less than 604800 seconds");
        if (val == 0)
            return refuse(res, SIGV4_INCOMPLETE_SIGNATURE, "X-Amz-Expires must be at least 1");
        a->expires_s = (long) val;
    }
    if (a->t > n + SIGV4_MAX_SKEW) {
        msg_begin(res, &t);
        ld_text_str(&t, "Signature not yet current: ");
        ld_text_mem(&t, a->date.p, a->date.n);
        ld_text_str(&t, " is still later than ");
        put_amz_date(&t, n + SIGV4_MAX_SKEW);
        ld_text_str(&t, " (");
        put_amz_date(&t, n);
        ld_text_str(&t, " + 5 min.)");
        return msg_end(res, &t, SIGV4_INVALID_SIGNATURE);
    }
    if (!a->presigned && a->t < n - SIGV4_MAX_SKEW) {
        msg_begin(res, &t);
        ld_text_str(&t, "Signature expired: ");
        ld_text_mem(&t, a->date.p, a->date.n);
        ld_text_str(&t, " is now earlier than ");
        put_amz_date(&t, n - SIGV4_MAX_SKEW);
        ld_text_str(&t, " (");
        put_amz_date(&t, n);
        ld_text_str(&t, " - 5 min.)");
        return msg_end(res, &t, SIGV4_INVALID_SIGNATURE);
    }
    if (a->presigned && n > a->t + a->expires_s) {
        msg_begin(res, &t);
        ld_text_str(&t, "Signature expired: ");
        put_amz_date(&t, a->t + a->expires_s);
        ld_text_str(&t, " is now earlier than ");
        put_amz_date(&t, n);
        ld_text_str(&t, " (X-Amz-Date ");
        ld_text_mem(&t, a->date.p, a->date.n);
        ld_text_str(&t, " + X-Amz-Expires ");
        ld_text_u64(&t, (uint64_t) a->expires_s);
        ld_text_str(&t, " sec.)");
        return msg_end(res, &t, SIGV4_INVALID_SIGNATURE);
    }
    return 0;
}

static bool list_has(struct slice names, const char *name)
{
    size_t i = 0, n = strlen(name);

    while (i < names.n) {
        const char *semi = memchr(names.p + i, ';', names.n - i);
        size_t end = semi ? (size_t) (semi - names.p) : names.n;

        if (ci_eq(names.p + i, end - i, name, n))
            return true;
        i = end + 1;
    }
    return false;
}

static int check_signed_set(const struct auth *a, struct sigv4_result *res)
{
    /* Without host a signature could be replayed against another endpoint. */
    if (!list_has(a->signed_headers, "host"))
        return refuse(res, SIGV4_INVALID_SIGNATURE,
                      "'Host' must be a 'SignedHeader' in the AWS Authorization.");
    if (!a->presigned && !list_has(a->signed_headers, "x-amz-date"))
        return refuse(res, SIGV4_INVALID_SIGNATURE,
                      "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.");
    return 0;
}

static int check_algorithm(const struct auth *a, struct sigv4_result *res)
{
    struct ld_text t;

    if (slice_is(a->algorithm, ALGORITHM))
        return 0;
    msg_begin(res, &t);
    ld_text_str(&t, "Unsupported AWS 'algorithm': '");
    put_quoted(&t, a->algorithm.p, a->algorithm.n);
    ld_text_str(&t, "' (only AWS4-HMAC-SHA256 for now). ");
    return msg_end(res, &t, SIGV4_INCOMPLETE_SIGNATURE);
}

/* Splits the credential into its five parts and checks the scope; every
 * scope error is reported at once, as AWS does. */
static int check_credential(struct sigv4_verifier *v, const struct auth *a, struct slice part[5],
                            struct sigv4_result *res)
{
    const char *p = a->credential.p, *end = p + a->credential.n;
    size_t n = 0;
    struct ld_text t;
    bool bad = false;

    while (n < 5) {
        /* The fifth part runs to the end, so "a/b/c/d/e/f" has a '/' in it. */
        const char *slash = n < 4 ? memchr(p, '/', (size_t) (end - p)) : NULL;

        part[n++] = (struct slice){p, slash ? (size_t) (slash - p) : (size_t) (end - p)};
        if (!slash)
            break;
        p = slash + 1;
    }
    if (n != 5 || memchr(part[4].p, '/', part[4].n)) {
        msg_begin(res, &t);
        ld_text_str(&t, "Credential must have exactly 5 slash-delimited elements, e.g. "
                        "keyid/date/region/service/term, got '");
        put_quoted(&t, a->credential.p, a->credential.n);
        ld_text_str(&t, "'");
        return msg_end(res, &t, SIGV4_INCOMPLETE_SIGNATURE);
    }
    msg_begin(res, &t);
    if (part[2].n != v->region_len || memcmp(part[2].p, v->region, v->region_len) != 0) {
        ld_text_str(&t, "Credential should be scoped to a valid region, not '");
        put_quoted(&t, part[2].p, part[2].n);
        ld_text_str(&t, "'. ");
        bad = true;
    }
    if (!slice_is(part[3], SIGV4_SERVICE)) {
        ld_text_str(&t, "Credential should be scoped to correct service: '" SIGV4_SERVICE "'. ");
        bad = true;
    }
    if (!slice_is(part[4], TERMINATOR)) {
        ld_text_str(&t, "Credential should be scoped with a valid terminator: '" TERMINATOR
                        "', not '");
        put_quoted(&t, part[4].p, part[4].n);
        ld_text_str(&t, "'. ");
        bad = true;
    }
    if (part[1].n != 8 || memcmp(part[1].p, a->date.p, 8) != 0) {
        ld_text_str(&t, "Date in Credential scope does not match YYYYMMDD from ISO-8601 version "
                        "of date from HTTP: '");
        put_quoted(&t, part[1].p, part[1].n);
        ld_text_str(&t, "' != '");
        ld_text_mem(&t, a->date.p, 8);
        ld_text_str(&t, "', from '");
        ld_text_mem(&t, a->date.p, a->date.n);
        ld_text_str(&t, "'.");
        bad = true;
    }
    return bad ? msg_end(res, &t, SIGV4_INVALID_SIGNATURE) : 0;
}

static struct key *find_key(struct sigv4_verifier *v, struct slice id)
{
    for (size_t i = 0; i < v->nkeys; i++)
        if (v->keys[i].id_len == id.n && memcmp(v->keys[i].id, id.p, id.n) == 0)
            return &v->keys[i];
    return NULL;
}

static int check_signature(struct sigv4_verifier *v, const struct sigv4_request *req,
                           const struct auth *a, struct key *k, struct sigv4_result *res)
{
    const unsigned char *ksign;
    unsigned char mac[32];
    char sts[256], want[64];
    struct ld_text t;
    long canon_len = build_canonical(v, req, a);

    if (canon_len == -E2BIG)
        return refuse(res, SIGV4_INCOMPLETE_SIGNATURE,
                      "The request is too large for lambdad to check its signature.");
    ld_text_init(&t, sts, sizeof sts);
    if (canon_len < 0 || build_sts(v, a, (size_t) canon_len, &t) < 0 ||
        signing_key(v, k, a->date.p, &ksign) < 0 ||
        hmac(v->ctx, v->md, ksign, 32, sts, t.len, mac) < 0)
        return internal(res);
    hex32(mac, want);
    /* Constant time: where the first differing byte sits must not leak. */
    if (a->signature.n != sizeof want || CRYPTO_memcmp(want, a->signature.p, sizeof want) != 0)
        return refuse(res, SIGV4_INVALID_SIGNATURE,
                      "The request signature we calculated does not match the signature you "
                      "provided. Check your AWS Secret Access Key and signing method. Consult "
                      "the service documentation for details.");
    return 0;
}

/* A token must be exactly the key's own; a permanent key takes none. */
static int check_token(const struct sigv4_request *req, struct auth *a, const struct key *k,
                       struct sigv4_result *res)
{
    struct slice tok = field(req, "x-amz-security-token");

    if (!tok.p)
        tok = a->token;
    if (k->token ? (tok.n == k->token_len && tok.p && CRYPTO_memcmp(tok.p, k->token, tok.n) == 0)
                 : slice_empty(tok))
        return 0;
    return refuse(res, SIGV4_UNRECOGNIZED_CLIENT,
                  "The security token included in the request is invalid.");
}

int sigv4_verify(struct sigv4_verifier *v, const struct sigv4_request *req, time_t now,
                 struct sigv4_result *res)
{
    struct slice part[5];
    struct auth a;
    struct key *k;
    int rc;

    res->error = SIGV4_OK;
    res->status = 200;
    res->type = NULL;
    res->message[0] = '\0';
    res->access_key_id[0] = '\0';
    res->presigned = false;
    if ((rc = parse_auth(v, req, &a, res)) < 0 || (rc = check_date(&a, now, res)) < 0 ||
        (rc = check_signed_set(&a, res)) < 0 || (rc = check_algorithm(&a, res)) < 0 ||
        (rc = check_credential(v, &a, part, res)) < 0)
        return rc;
    k = find_key(v, part[0]);
    if (!k)
        return refuse(res, SIGV4_UNRECOGNIZED_CLIENT,
                      "The security token included in the request is invalid.");
    if ((rc = check_signature(v, req, &a, k, res)) < 0 || (rc = check_token(req, &a, k, res)) < 0)
        return rc;
    memcpy(res->access_key_id, k->id, k->id_len + 1);
    return 0;
}

int sigv4_explain(struct sigv4_verifier *v, const struct sigv4_request *req, char *canonical,
                  size_t canonical_cap, char *string_to_sign, size_t sts_cap)
{
    struct sigv4_result res;
    struct auth a;
    struct ld_text t;
    long len;

    if (canonical_cap == 0 || sts_cap == 0)
        return -EINVAL;
    canonical[0] = string_to_sign[0] = '\0';
    if (parse_auth(v, req, &a, &res) < 0)
        return -EACCES;
    len = build_canonical(v, req, &a);
    if (len < 0)
        return (int) len;
    ld_text_init(&t, canonical, canonical_cap - 1);
    ld_text_mem(&t, v->canon, (size_t) len);
    canonical[t.len] = '\0';
    ld_text_init(&t, string_to_sign, sts_cap - 1);
    if (build_sts(v, &a, (size_t) len, &t) < 0)
        return -EIO;
    string_to_sign[t.len] = '\0';
    return 0;
}

/* ---- the verifier --------------------------------------------------- */

struct sigv4_verifier *sigv4_verifier_new(const char *region, struct ld_err *err)
{
    struct sigv4_verifier *v;
    size_t rlen = strlen(region);

    if (rlen == 0 || rlen > SIGV4_REGION_MAX) {
        ld_err_set(err, EINVAL, "region '%.*s' must be 1 to %d characters", SIGV4_REGION_MAX,
                   region, SIGV4_REGION_MAX);
        return NULL;
    }
    v = calloc(1, sizeof *v);
    if (!v) {
        ld_err_set(err, ENOMEM, "sigv4 verifier");
        return NULL;
    }
    memcpy(v->region, region, rlen + 1);
    v->region_len = rlen;
    /* Everything canonicalised comes from the request head: the path and the
     * query grow at most threefold when encoded, and the rest at most once. */
    v->canon_cap = 4 * (size_t) HTTP_MAX_HEAD + 256;
    v->qbuf_cap = 3 * (size_t) HTTP_MAX_HEAD;
    v->abuf_cap = HTTP_MAX_HEAD;
    v->canon = malloc(v->canon_cap);
    v->qbuf = malloc(v->qbuf_cap);
    v->abuf = malloc(v->abuf_cap);
    if (!v->canon || !v->qbuf || !v->abuf) {
        sigv4_verifier_free(v);
        ld_err_set(err, ENOMEM, "sigv4 verifier scratch");
        return NULL;
    }
    v->md = EVP_MD_fetch(NULL, "SHA256", NULL);
    v->ctx = EVP_MD_CTX_new();
    if (!v->md || !v->ctx) {
        sigv4_verifier_free(v);
        ld_err_set(err, EIO, "libcrypto: no SHA-256");
        return NULL;
    }
    return v;
}

void sigv4_verifier_free(struct sigv4_verifier *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->nkeys; i++) {
        struct key *k = &v->keys[i];

        OPENSSL_cleanse(k->secret, strlen(k->secret));
        if (k->token)
            OPENSSL_cleanse(k->token, k->token_len);
        OPENSSL_cleanse(k->cache, sizeof k->cache);
        free(k->id);
        free(k->secret);
        free(k->token);
    }
    EVP_MD_CTX_free(v->ctx);
    EVP_MD_free(v->md);
    free(v->canon);
    free(v->qbuf);
    free(v->abuf);
    free(v);
}

static bool key_id_ok(const char *id, size_t n)
{
    if (n == 0 || n > SIGV4_KEY_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char) id[i];

        if (!is_unreserved(c) || c == '~')
            return false;
    }
    return true;
}

int sigv4_verifier_add_key(struct sigv4_verifier *v, const char *access_key_id,
                           const char *secret_access_key, const char *session_token,
                           struct ld_err *err)
{
    size_t id_len = strlen(access_key_id), slen = strlen(secret_access_key);
    size_t tlen = session_token ? strlen(session_token) : 0;
    struct key *k;

    if (!key_id_ok(access_key_id, id_len))
        return ld_err_set(err, EINVAL, "access key id must be 1 to %d of [A-Za-z0-9_.-]",
                          SIGV4_KEY_ID_MAX);
    if (slen == 0 || slen > SIGV4_SECRET_MAX)
        return ld_err_set(err, EINVAL, "secret access key must be 1 to %d characters",
                          SIGV4_SECRET_MAX);
    if (tlen > SIGV4_TOKEN_MAX)
        return ld_err_set(err, EINVAL, "session token over %d characters", SIGV4_TOKEN_MAX);
    if (find_key(v, (struct slice){access_key_id, id_len}))
        return ld_err_set(err, EEXIST, "access key id %s added twice", access_key_id);
    if (v->nkeys == SIGV4_MAX_KEYS)
        return ld_err_set(err, ENOSPC, "more than %d access keys", SIGV4_MAX_KEYS);
    k = &v->keys[v->nkeys];
    memset(k, 0, sizeof *k);
    k->id = strdup(access_key_id);
    k->secret = strdup(secret_access_key);
    k->token = tlen ? strdup(session_token) : NULL;
    if (!k->id || !k->secret || (tlen && !k->token)) {
        if (k->secret)
            OPENSSL_cleanse(k->secret, slen);
        if (k->token)
            OPENSSL_cleanse(k->token, tlen);
        free(k->id);
        free(k->secret);
        free(k->token);
        memset(k, 0, sizeof *k);
        return ld_err_set(err, ENOMEM, "access key %s", access_key_id);
    }
    k->id_len = id_len;
    k->token_len = tlen;
    v->nkeys++;
    return 0;
}
