/* service/sigv4.h: checks the AWS Signature Version 4 on every Lambda REST
 * API request, in the header form the CLI and SDKs send and the presigned
 * query form.
 *
 * The rules are AWS's, as botocore applies them for Lambda (spec section 7):
 * the canonical URI is the path as sent on the wire, dot segments and empty
 * segments removed, then percent-encoded once more (so "%3A" is signed as
 * "%253A"); the query is decoded and re-encoded per RFC 3986 and sorted by
 * name, then value; signed headers are lowercase, trimmed, inner blanks
 * collapsed, repeated fields joined with ','. Failures name the error exactly
 * as Lambda returns it (x-amzn-ErrorType, HTTP status, message), so a client
 * sees what it would see from AWS. The wording and the order of the checks
 * follow what AWS's front end returns; see sigv4.c for where each comes from.
 *
 * Decisions where AWS leaves room:
 * - a credential scoped to another region is refused as AWS does,
 *   InvalidSignatureException 403 "Credential should be scoped to a valid
 *   region, not 'us-west-2'. " (botocore scopes to the client's region even
 *   with --endpoint-url, so this tells a user their region is wrong);
 * - the payload hash is the body's SHA-256 in both forms (botocore's
 *   SigV4QueryAuth hashes the body for non-S3 services), unless the request
 *   carries "X-Amz-Content-SHA256: UNSIGNED-PAYLOAD", which is then signed
 *   in its place; any other value of that header is ignored, so a false hash
 *   fails as a mismatch;
 * - only X-Amz-Date dates a header-form request (AWS also takes Date; no
 *   SDK relies on it), and it must be among the signed headers;
 * - presigned URLs need X-Amz-Expires, 1 to 604800 seconds; the X-Amz-Date
 *   of a presigned URL may be old (up to its expiry) but not more than 5
 *   minutes ahead.
 *
 * A verifier holds the accepted keys, the region, a cache of derived signing
 * keys and its scratch space, so a warm request allocates nothing and costs
 * one SHA-256 over the body (or none: pass the digest), one over the
 * canonical request and one HMAC (about 2 us for an Invoke at -O2). It is
 * not thread-safe: use one per thread. */
#ifndef LD_SIGV4_H
#define LD_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "common/err.h"
#include "common/http_parse.h"

#define SIGV4_SERVICE "lambda"
#define SIGV4_MAX_SKEW 300       /* seconds between X-Amz-Date and now, either way */
#define SIGV4_MAX_EXPIRES 604800 /* presigned X-Amz-Expires: one week */
#define SIGV4_KEY_ID_MAX 128     /* AWS's limit on an access key id */
#define SIGV4_SECRET_MAX 128
#define SIGV4_TOKEN_MAX 8192
#define SIGV4_REGION_MAX 63
#define SIGV4_MAX_PARAMS 256 /* query parameters; more is refused */
#define SIGV4_MAX_KEYS 64

/* Why a request was refused; each maps to one AWS exception. */
enum sigv4_error {
    SIGV4_OK = 0,
    SIGV4_MISSING_AUTHENTICATION_TOKEN, /* 403: no signature at all */
    SIGV4_INCOMPLETE_SIGNATURE,         /* 400: a signature with parts missing or malformed */
    SIGV4_INVALID_SIGNATURE,            /* 403: wrong signature, scope, time or signed set */
    SIGV4_UNRECOGNIZED_CLIENT,          /* 403: unknown access key or session token */
    SIGV4_INTERNAL,                     /* 500: libcrypto failed */
};

/* One request as common/http_parse.h left it. Nothing is copied: every
 * pointer is borrowed for the duration of the call. */
struct sigv4_request {
    const char *method; /* "POST", as sent */
    size_t method_len;
    const char *target; /* path and query as sent, still percent-encoded */
    size_t target_len;
    const struct http_field *fields; /* every header field, repeats included */
    size_t nfields;
    const void *body; /* hashed only when needed and body_sha256 is NULL */
    size_t body_len;
    const unsigned char *body_sha256; /* 32 bytes when the caller hashed it as it arrived */
};

struct sigv4_result {
    enum sigv4_error error;
    int status;       /* HTTP status: 200 when authenticated */
    const char *type; /* x-amzn-ErrorType ("InvalidSignatureException"); NULL when OK */
    /* AWS's wording. Parts quoted from the request (the Authorization
     * header, a bad date) have every byte outside printable ASCII replaced
     * by '?', so the text can go into a JSON body as it is; long quotes are
     * cut to fit. */
    char message[1024];
    char access_key_id[SIGV4_KEY_ID_MAX + 1]; /* who signed it, when OK */
    bool presigned;                           /* the query form was used */
};

struct sigv4_verifier;

/* Fills r from a parsed request head and its body (borrowed). */
static inline void sigv4_request_from_head(struct sigv4_request *r, const struct http_head *h,
                                           const void *body, size_t body_len)
{
    r->method = h->method;
    r->method_len = h->method_len;
    r->target = h->target;
    r->target_len = h->target_len;
    r->fields = h->fields;
    r->nfields = h->nfields;
    r->body = body;
    r->body_len = body_len;
    r->body_sha256 = NULL;
}

/* A verifier for requests scoped to `region` and service "lambda". Returns
 * NULL with err set (EINVAL for a bad region, ENOMEM, EIO if libcrypto has
 * no SHA-256). Free with sigv4_verifier_free(). */
struct sigv4_verifier *sigv4_verifier_new(const char *region, struct ld_err *err);
void sigv4_verifier_free(struct sigv4_verifier *v);

/* Accepts requests signed with this key; the strings are copied. With a
 * session_token (non-NULL, non-empty) the key is treated as temporary
 * credentials: requests must carry exactly that X-Amz-Security-Token. lambdad
 * has no STS, so this is the only way a token is accepted. Returns 0, or
 * -EINVAL (empty or over-long id or secret, an id with bytes other than
 * [A-Za-z0-9_.-], a token over SIGV4_TOKEN_MAX), -EEXIST (id already added),
 * -ENOSPC (over SIGV4_MAX_KEYS), -ENOMEM. */
int sigv4_verifier_add_key(struct sigv4_verifier *v, const char *access_key_id,
                           const char *secret_access_key, const char *session_token,
                           struct ld_err *err);

/* Checks req's signature as of `now` (seconds since the epoch). Returns 0
 * when it is valid (res->access_key_id says whose), -EACCES when it is not
 * (res says why, in AWS's terms), -EIO when libcrypto failed (res says
 * ServiceException, 500). res is always filled. */
int sigv4_verify(struct sigv4_verifier *v, const struct sigv4_request *req, time_t now,
                 struct sigv4_result *res);

/* Writes the canonical request and the string to sign that lambdad derives
 * from req, NUL-terminated and cut to fit: for a debug log after a signature
 * mismatch (clients log theirs with --debug), and for tests. Uses the scope
 * and signed headers the request names, without checking them. Returns 0,
 * -EACCES when req carries no parseable signature, -E2BIG when the request is
 * too large to canonicalise, -EIO. */
int sigv4_explain(struct sigv4_verifier *v, const struct sigv4_request *req, char *canonical,
                  size_t canonical_cap, char *string_to_sign, size_t sts_cap);

/* The signing key for secret on date (YYYYMMDD) in region for "lambda":
 * HMAC chain AWS4+secret -> date -> region -> service -> "aws4_request".
 * Returns 0 or -EIO. */
int sigv4_signing_key(const char *secret_access_key, const char *date8, const char *region,
                      unsigned char out[32]);

/* "InvalidSignatureException" etc.; NULL for SIGV4_OK. */
const char *sigv4_error_type(enum sigv4_error e);

#endif
