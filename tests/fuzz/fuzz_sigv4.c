/* tests/fuzz/fuzz_sigv4.c: libFuzzer driver for service/sigv4.c.
 *
 * Two uses of every input. First as a raw request (head, then body) that
 * common/http_parse.c accepts: verification must refuse it cleanly, with a
 * status that matches the error and a NUL-terminated, printable message, and
 * explaining it must not crash. Second as the parts of a request (target
 * line, "name: value" lines, blank line, body) that the driver then signs
 * itself, from sigv4_explain()'s string to sign and the signing key: such a
 * request must verify. The second property catches any place where the
 * canonical form depends on something the two calls see differently, and
 * drives the canonicaliser through paths, queries and header values no
 * client would send. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/hmac.h>

#include "common/http_parse.h"
#include "service/sigv4.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                         \
    do {                                                                                    \
        if (!(cond)) {                                                                      \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);        \
            abort();                                                                        \
        }                                                                                   \
    } while (0)

#define AKID "AKIDFUZZ"
#define SECRET "fuzz/secret+key"
#define NOW ((time_t) 1705320000) /* 2024-01-15T12:00:00Z */
#define DATE "20240115T120000Z"
#define MAX_FIELDS 32

static struct sigv4_verifier *verifier(void)
{
    static struct sigv4_verifier *v;
    struct ld_err err;

    if (!v) {
        v = sigv4_verifier_new("us-east-1", &err);
        CHECK(v);
        CHECK(sigv4_verifier_add_key(v, AKID, SECRET, NULL, &err) == 0);
    }
    return v;
}

static void check_result(int rc, const struct sigv4_result *res)
{
    size_t len = strnlen(res->message, sizeof res->message);

    CHECK(rc == 0 || rc == -EACCES);
    CHECK(len < sizeof res->message);
    for (size_t i = 0; i < len; i++)
        CHECK(res->message[i] >= 0x20 && res->message[i] < 0x7f);
    if (rc == 0) {
        CHECK(res->error == SIGV4_OK && res->status == 200 && !res->type);
        return;
    }
    CHECK(res->type && res->type == sigv4_error_type(res->error));
    CHECK(res->status == (res->error == SIGV4_INCOMPLETE_SIGNATURE ? 400 : 403));
    CHECK(len > 0);
}

static void as_raw_request(const char *buf, size_t size)
{
    struct http_head h;
    struct sigv4_request r;
    struct sigv4_result res;
    static char canon[1 << 16], sts[512];
    ssize_t n = http_parse_request_head(buf, size, &h);

    if (n <= 0)
        return;
    sigv4_request_from_head(&r, &h, buf + n, size - (size_t) n);
    check_result(sigv4_verify(verifier(), &r, NOW, &res), &res);
    (void) sigv4_explain(verifier(), &r, canon, sizeof canon, sts, sizeof sts);
}

static bool listable(const char *name, size_t n)
{
    /* Names that would change what the driver signs after signing it, or
     * that cannot sit in a SignedHeaders list. */
    static const char *const skip[] = {"authorization", "x-amz-date", "x-amz-security-token"};

    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (name[i] == ';' || name[i] == ',' || name[i] == ' ' || name[i] == '\t' ||
            name[i] == '=' || (unsigned char) name[i] < 0x21 || (unsigned char) name[i] > 0x7e)
            return false;
    for (size_t i = 0; i < sizeof skip / sizeof skip[0]; i++)
        if (n == strlen(skip[i]) && strncasecmp(name, skip[i], n) == 0)
            return false;
    return true;
}

static void as_signed_parts(const char *buf, size_t size)
{
    struct http_field f[MAX_FIELDS + 3];
    static char list[4096], auth[8192], canon[1 << 18], sts[512];
    const char *p = buf, *end = buf + size, *nl;
    size_t nf = 0, ll = 0, al;
    struct sigv4_request r = {.method = "POST", .method_len = 4};
    struct sigv4_result res;
    unsigned char key[32], mac[32];
    unsigned int maclen = 0;
    char *sig;
    int rc;

    nl = memchr(p, '\n', size);
    if (!nl)
        return;
    r.target = p;
    r.target_len = (size_t) (nl - p);
    p = nl + 1;
    ll = (size_t) snprintf(list, sizeof list, "host;x-amz-date");
    while (p < end && nf < MAX_FIELDS) {
        const char *colon;

        nl = memchr(p, '\n', (size_t) (end - p));
        if (!nl || nl == p)
            break;
        colon = memchr(p, ':', (size_t) (nl - p));
        if (colon && listable(p, (size_t) (colon - p)) &&
            memchr(p, '\r', (size_t) (nl - p)) == NULL &&
            ll + (size_t) (colon - p) + 2 < sizeof list) {
            f[nf++] = (struct http_field){p, (size_t) (colon - p), colon + 1,
                                          (size_t) (nl - colon - 1)};
            list[ll++] = ';';
            for (const char *c = p; c < colon; c++)
                list[ll++] = (char) (*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
        }
        p = nl + 1;
    }
    if (p < end && *p == '\n')
        p++;
    r.body = p;
    r.body_len = (size_t) (end - p);
    al = (size_t) snprintf(auth, sizeof auth,
                           "AWS4-HMAC-SHA256 Credential=" AKID "/20240115/us-east-1/lambda/"
                           "aws4_request, SignedHeaders=%.*s, Signature=%064d",
                           (int) ll, list, 0);
    CHECK(al < sizeof auth);
    f[nf++] = (struct http_field){"Host", 4, "lambda.us-east-1.amazonaws.com", 30};
    f[nf++] = (struct http_field){"X-Amz-Date", 10, DATE, 16};
    f[nf++] = (struct http_field){"Authorization", 13, auth, al};
    r.fields = f;
    r.nfields = nf;

    rc = sigv4_explain(verifier(), &r, canon, sizeof canon, sts, sizeof sts);
    if (rc == -EACCES || rc == -E2BIG)
        return; /* a query that claims to be presigned, or too many parameters */
    CHECK(rc == 0);
    CHECK(sigv4_signing_key(SECRET, "20240115", "us-east-1", key) == 0);
    CHECK(HMAC(EVP_sha256(), key, sizeof key, (const unsigned char *) sts, strlen(sts), mac,
               &maclen) && maclen == 32);
    sig = auth + al - 64;
    for (size_t i = 0; i < 32; i++)
        snprintf(sig + 2 * i, 3, "%02x", mac[i]);
    rc = sigv4_verify(verifier(), &r, NOW, &res);
    check_result(rc, &res);
    if (rc != 0) {
        fprintf(stderr, "refused own signature: %s: %s\ncanonical:\n%s\n", res.type, res.message,
                canon);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    as_raw_request((const char *) data, size);
    as_signed_parts((const char *) data, size);
    return 0;
}
