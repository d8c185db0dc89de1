/* service/arn.h: what the Lambda API accepts as a function, alias or layer
 * name, the ARNs it hands out, and the error record every request check fills.
 *
 * A FunctionName arrives as a path segment (percent-encoded by the client) or
 * as a body member, in any of the forms AWS takes: `my-fn`, `my-fn:prod`,
 * `123456789012:function:my-fn[:qualifier]`, or the full
 * `arn:aws:lambda:us-east-1:123456789012:function:my-fn[:qualifier]`. The
 * patterns and lengths are those of botocore's Lambda model; the errors are
 * the ones Lambda returns, with its exact messages. Nothing here does I/O. */
#ifndef LD_SERVICE_ARN_H
#define LD_SERVICE_ARN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- the error every check reports ---------------------------------------
 *
 * A refused request as the client sees it: the x-amzn-ErrorType header, the
 * HTTP status and the body's message. The message is heap-allocated because
 * AWS echoes the offending value in full; it is NULL only when memory ran out,
 * and then type is "ServiceException" and status 500. Zero-initialise one
 * before the first check that may fill it. */
struct api_error {
    const char *type; /* static string, e.g. "InvalidParameterValueException" */
    int status;       /* 400, 403, 404, 413, 500 */
    char *message;    /* owned; freed by arn_error_fini(); valid UTF-8 (request bytes
                       * are made so here; arn_error_set()'s caller vouches for its own) */
};

/* Frees the message and clears e; safe on a zeroed or already-cleared e. */
void arn_error_fini(struct api_error *e);
/* Replaces e's contents. Returns -EINVAL, so a check can `return arn_error_set(...)`. */
int arn_error_set(struct api_error *e, const char *type, int status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* AWS's report of model-constraint violations ("1 validation error detected:
 * Value 'x' at 'field' failed to satisfy constraint: ...; ..."), collected in
 * the order they are found. Zero-initialise, add, then report. */
struct arn_violations {
    char *text; /* owned; the joined items */
    size_t len, cap;
    unsigned count;
    bool oom;
};

/* How the offending value appears: quoted ('x'), as `null` (a required member
 * missing), or not at all (the model marks the member sensitive). */
enum arn_value_kind { ARN_VALUE_TEXT, ARN_VALUE_NULL, ARN_VALUE_HIDDEN };

void arn_violation_add(struct arn_violations *v, enum arn_value_kind kind, const char *value,
                       size_t value_len, const char *field, const char *constraint);
/* When anything was added: moves the report into err as `type` (status 400)
 * and returns -EINVAL. Otherwise returns 0. Frees v either way. */
int arn_violations_report(struct arn_violations *v, const char *type, struct api_error *err);
void arn_violations_fini(struct arn_violations *v);

/* ---- this service ---------------------------------------------------------- */

struct arn_scope {
    const char *partition; /* "aws"; NULL means "aws" */
    const char *region;    /* "us-east-1" */
    const char *account;   /* 12 digits */
    const char *caller;    /* principal named in AccessDeniedException; NULL: the account's root */
};

/* AccessDeniedException (403) for `action` on `resource`, in AWS's words. */
int arn_access_denied(const struct arn_scope *scope, const char *action, const char *resource,
                      struct api_error *err);

/* Large enough for any ARN built from validated parts. */
#define ARN_BUF_SIZE 512

/* ---- percent-decoding a path segment --------------------------------------- */

/* Decodes in[0..len) into out (cap bytes, NUL-terminated), writing the length
 * to *out_len. '+' stays '+' (this is a path, not a form). Returns 0, -EINVAL
 * for '%' not followed by two hex digits or for a NUL byte, raw or %00, and
 * -ENOSPC when out is too small (len + 1 always suffices). */
int arn_percent_decode(const char *in, size_t len, char *out, size_t cap, size_t *out_len);

/* ---- function names ------------------------------------------------------- */

/* The model shape of the FunctionName member, which sets its length limit,
 * whether '.' may appear in the name, which qualifiers the name may carry,
 * the shape of a ?Qualifier= next to it, and the pattern AWS quotes. */
enum arn_fn_shape {
    ARN_FN_NAME,        /* FunctionName, 1..140: Update*, PublishVersion, aliases,
                         * concurrency; ?Qualifier= has shape Qualifier */
    ARN_FN_NAMESPACED,  /* NamespacedFunctionName, 1..256, '.' allowed: Get*, Delete,
                         * Invoke; ?Qualifier= is NumericLatestPublishedOrAliasQualifier */
    ARN_FN_UNQUALIFIED, /* UnqualifiedFunctionName, 1..140: no qualifier at all */
    ARN_FN_CREATE,      /* CreateFunction's body member: FunctionName, but a name of
                         * at most 64, no qualifier, an ARN only of this service */
};

enum arn_fn_form {
    ARN_FORM_NAME,    /* my-fn */
    ARN_FORM_PARTIAL, /* 123456789012:function:my-fn (or a region without "arn:") */
    ARN_FORM_FULL,    /* arn:aws:lambda:us-east-1:123456789012:function:my-fn */
};

enum arn_qualifier_kind {
    ARN_QUAL_NONE,
    ARN_QUAL_LATEST,           /* $LATEST */
    ARN_QUAL_LATEST_PUBLISHED, /* $LATEST.PUBLISHED: accepted by the model, no lambdad version */
    ARN_QUAL_VERSION,          /* digits: names a published version (or none, like "0") */
    ARN_QUAL_ALIAS,            /* alias pattern: [a-zA-Z0-9-_]+, not all digits */
    ARN_QUAL_OTHER,            /* allowed by the Qualifier pattern (e.g. "$x"), names nothing */
};

struct arn_function {
    enum arn_fn_form form;
    char partition[257]; /* from a full ARN, else "" (the pattern bounds only the whole) */
    char region[257];    /* from the name when it has one, else "" */
    char account[13];    /* likewise */
    char name[257];      /* the plain function name */
    char qualifier[257]; /* the effective qualifier ("" when none): ?Qualifier= or the name's */
    enum arn_qualifier_kind qualifier_kind;
};

struct arn_function_request {
    const char *name; /* decoded path segment or body member */
    size_t name_len;
    const char *qualifier; /* decoded ?Qualifier=; NULL when the query has none */
    size_t qualifier_len;
    enum arn_fn_shape shape;
    const char *action; /* IAM action for AccessDeniedException, e.g. "lambda:GetFunction" */
};

/* Checks a FunctionName (and ?Qualifier=) as Lambda does, in its order:
 * pattern and length (ValidationException; InvalidParameterValueException for
 * a bare name in CreateFunction), another account (AccessDeniedException, 403),
 * another region (ResourceNotFoundException, 404), a qualifier in the name and
 * a different one in the query (InvalidParameterValueException). The shapes
 * without a ?Qualifier= (UNQUALIFIED, CREATE) ignore rq->qualifier. Fills out
 * and returns 0, or fills err and returns -EINVAL. */
int arn_resolve_function(const struct arn_function_request *rq, const struct arn_scope *scope,
                         struct arn_function *out, struct api_error *err);

/* The model-constraint part of that check alone, for a body that has other
 * members to report in the same message: adds FunctionName's length and
 * pattern violations to v. arn_function_violation_type() says which error
 * type reports them (CreateFunction's bare names get InvalidParameterValue). */
void arn_add_function_violations(struct arn_violations *v, const char *s, size_t len,
                                 enum arn_fn_shape shape);
const char *arn_function_violation_type(const char *s, size_t len, enum arn_fn_shape shape);

/* Syntax only: true when s[0..len) matches the shape's pattern and length;
 * fills out (qualifier from the name only) when it does. */
bool arn_parse_function(const char *s, size_t len, enum arn_fn_shape shape,
                        struct arn_function *out);

/* What a syntactically valid qualifier names. */
enum arn_qualifier_kind arn_qualifier_kind(const char *s, size_t len);

/* An alias name (CreateAlias Name, the {Name} path segment): 1..128 of
 * [a-zA-Z0-9-_], not all digits. Returns 0 or -EINVAL with ValidationException. */
int arn_check_alias_name(const char *s, size_t len, struct api_error *err);

/* ---- layers ----------------------------------------------------------------- */

struct arn_layer {
    bool is_arn;        /* given as an ARN rather than a plain name */
    char partition[141]; /* from an ARN, else "" */
    char region[141];
    char account[13];
    char name[141];
    bool has_version;
    uint64_t version; /* from a version ARN; may be 0, which names no version */
};

/* A LayerName path segment: a plain name or an unversioned layer ARN, 1..140.
 * Checks the pattern, then the ARN's account (AccessDeniedException for
 * `action`) and region (ResourceNotFoundException, as for a missing layer). */
int arn_resolve_layer_name(const char *s, size_t len, const struct arn_scope *scope,
                           const char *action, struct arn_layer *out, struct api_error *err);

/* Syntax only: a layer version ARN as a function's Layers list takes it,
 * arn:<p>:lambda:<region>:<account>:layer:<name>:<version>, 1..140. */
bool arn_parse_layer_version_arn(const char *s, size_t len, struct arn_layer *out);

/* ---- building ARNs ------------------------------------------------------------
 * Each writes a NUL-terminated ARN into buf and returns its length, or
 * -ENOSPC when cap is too small (ARN_BUF_SIZE never is for validated parts). */

/* arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]; a NULL or
 * empty qualifier gives the unqualified ARN. */
int arn_function(char *buf, size_t cap, const struct arn_scope *scope, const char *name,
                 const char *qualifier);
/* arn:aws:lambda:<region>:<account>:layer:<name> */
int arn_layer(char *buf, size_t cap, const struct arn_scope *scope, const char *name);
/* arn:aws:lambda:<region>:<account>:layer:<name>:<version> */
int arn_layer_version(char *buf, size_t cap, const struct arn_scope *scope, const char *name,
                      uint64_t version);

#endif
