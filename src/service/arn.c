/* service/arn.c: function, alias and layer names as the Lambda API takes
 * them, and the errors it gives for the rest (see arn.h).
 *
 * The model's patterns are Java regular expressions matched against the whole
 * value. Rather than carry a regex engine, each is a small hand-written
 * matcher; where a pattern is ambiguous (is `us-east-1:f` a region and a name,
 * or a name and a qualifier?) the matcher tries the alternatives in the order
 * Java's backtracking does, so the same parts come out. Messages quote the
 * patterns exactly as AWS does, from botocore's Lambda model. */
#include "service/arn.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- growing text ----------------------------------------------------------- */

struct text {
    char *buf;
    size_t len, cap;
    bool oom;
};

static void text_mem(struct text *t, const char *s, size_t n)
{
    if (t->oom)
        return;
    if (t->len + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 128;
        char *p;

        while (cap < t->len + n + 1)
            cap *= 2;
        p = realloc(t->buf, cap);
        if (!p) {
            t->oom = true;
            return;
        }
        t->buf = p;
        t->cap = cap;
    }
    memcpy(t->buf + t->len, s, n);
    t->len += n;
    t->buf[t->len] = '\0';
}

static void text_str(struct text *t, const char *s)
{
    text_mem(t, s, strlen(s));
}

/* Length of the valid UTF-8 sequence at s[0..n), or 0 when it is not one. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    size_t need, i;
    unsigned long cp;

    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        need = 2;
        cp = s[0] & 0x1f;
    } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        need = 3;
        cp = s[0] & 0x0f;
    } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        need = 4;
        cp = s[0] & 0x07;
    } else {
        return 0;
    }
    if (n < need)
        return 0;
    for (i = 1; i < need; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((need == 3 && cp < 0x800) || (need == 4 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return need;
}

/* Appends request bytes that may not be UTF-8 (a decoded path segment): the
 * reply is JSON, so each invalid byte becomes U+FFFD, as a Java service
 * decoding the request would have shown it. */
static void text_utf8(struct text *t, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *) s;
    size_t i = 0;

    while (i < n) {
        size_t k = utf8_seq(p + i, n - i);

        if (k == 0) {
            text_str(t, "\xef\xbf\xbd");
            i++;
        } else {
            text_mem(t, s + i, k);
            i += k;
        }
    }
}

/* Java's String.length(): UTF-16 units, which is what the model's lengths count. */
static size_t utf16_len(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *) s;
    size_t i = 0, units = 0;

    while (i < n) {
        size_t k = utf8_seq(p + i, n - i);

        units += k == 4 ? 2 : 1;
        i += k ? k : 1;
    }
    return units;
}

/* ---- errors ---------------------------------------------------------------- */

void arn_error_fini(struct api_error *e)
{
    free(e->message);
    e->message = NULL;
    e->type = NULL;
    e->status = 0;
}

static void set_oom(struct api_error *e)
{
    free(e->message);
    e->message = NULL;
    e->type = "ServiceException";
    e->status = 500;
}

int arn_error_set(struct api_error *e, const char *type, int status, const char *fmt, ...)
{
    va_list ap;
    char *msg = NULL;
    int n;

    va_start(ap, fmt);
    n = vasprintf(&msg, fmt, ap);
    va_end(ap);
    if (n < 0) {
        set_oom(e);
        return -EINVAL;
    }
    free(e->message);
    e->message = msg;
    e->type = type;
    e->status = status;
    return -EINVAL;
}

void arn_violation_add(struct arn_violations *v, enum arn_value_kind kind, const char *value,
                       size_t value_len, const char *field, const char *constraint)
{
    struct text t = {v->text, v->len, v->cap, v->oom};

    if (v->count)
        text_str(&t, "; ");
    if (kind == ARN_VALUE_TEXT) {
        text_str(&t, "Value '");
        text_utf8(&t, value, value_len);
        text_str(&t, "' at '");
    } else if (kind == ARN_VALUE_NULL) {
        text_str(&t, "Value null at '");
    } else {
        text_str(&t, "Value at '");
    }
    text_str(&t, field);
    text_str(&t, "' failed to satisfy constraint: ");
    text_str(&t, constraint);
    v->text = t.buf;
    v->len = t.len;
    v->cap = t.cap;
    v->oom = t.oom;
    v->count++;
}

void arn_violations_fini(struct arn_violations *v)
{
    free(v->text);
    memset(v, 0, sizeof *v);
}

int arn_violations_report(struct arn_violations *v, const char *type, struct api_error *err)
{
    if (v->count == 0) {
        arn_violations_fini(v);
        return 0;
    }
    if (v->oom) {
        arn_violations_fini(v);
        set_oom(err);
        return -EINVAL;
    }
    arn_error_set(err, type, 400, "%u validation error%s detected: %s", v->count,
                  v->count == 1 ? "" : "s", v->text);
    arn_violations_fini(v);
    return -EINVAL;
}

/* ---- percent-decoding ------------------------------------------------------- */

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int arn_percent_decode(const char *in, size_t len, char *out, size_t cap, size_t *out_len)
{
    size_t i = 0, o = 0;

    while (i < len) {
        char c = in[i];

        if (c == '%') {
            int hi, lo;

            if (len - i < 3 || (hi = hex_value(in[i + 1])) < 0 || (lo = hex_value(in[i + 2])) < 0)
                return -EINVAL;
            c = (char) (hi << 4 | lo);
            i += 3;
        } else {
            i++;
        }
        /* A NUL would cut the name short in every C string after this one. */
        if (c == '\0')
            return -EINVAL;
        if (o + 1 >= cap)
            return -ENOSPC;
        out[o++] = c;
    }
    if (o >= cap)
        return -ENOSPC;
    out[o] = '\0';
    *out_len = o;
    return 0;
}

/* ---- character classes -------------------------------------------------------- */

static bool is_lower(char c)
{
    return c >= 'a' && c <= 'z';
}

static bool is_alpha(char c)
{
    return is_lower(c) || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* [a-zA-Z0-9-_]: names, aliases, qualifiers. */
static bool is_word(char c)
{
    return is_alpha(c) || is_digit(c) || c == '-' || c == '_';
}

/* [a-zA-Z0-9-]: a layer ARN's partition and region. */
static bool is_alnum_dash(char c)
{
    return is_alpha(c) || is_digit(c) || c == '-';
}

static bool all_of(const char *s, size_t n, bool (*cls)(char))
{
    size_t i;

    for (i = 0; i < n; i++)
        if (!cls(s[i]))
            return false;
    return true;
}

static bool has_prefix(const char *s, size_t n, const char *p)
{
    size_t k = strlen(p);

    return n >= k && memcmp(s, p, k) == 0;
}

static void copy_part(char *dst, size_t cap, const char *s, size_t n)
{
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, s, n);
    dst[n] = '\0';
}

/* ---- the FunctionName patterns ------------------------------------------------- */

static const char fn_pattern[] =
    "(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:)?"
    "(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?";
static const char ns_pattern[] =
    "(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:)?"
    "(\\d{12}:)?(function:)?([a-zA-Z0-9-_\\.]+)(:(\\$LATEST(\\.PUBLISHED)?|[a-zA-Z0-9-_]+))?";
static const char unq_pattern[] =
    "(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:)?"
    "(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)";
/* ?Qualifier= beside a NamespacedFunctionName, and beside a FunctionName. */
static const char nsq_pattern[] = "\\$(LATEST(\\.PUBLISHED)?)|[a-zA-Z0-9-_$]+";
static const char q_pattern[] = "(|[a-zA-Z0-9$_-]+)";
static const char alias_pattern[] = "(?!^[0-9]+$)([a-zA-Z0-9-_]+)";
static const char layer_name_pattern[] =
    "(arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\\d{12}:layer:[a-zA-Z0-9-_]+)|[a-zA-Z0-9-_]+";

static const char *shape_pattern(enum arn_fn_shape shape)
{
    switch (shape) {
    case ARN_FN_NAMESPACED:
        return ns_pattern;
    case ARN_FN_UNQUALIFIED:
        return unq_pattern;
    case ARN_FN_NAME:
    case ARN_FN_CREATE:
    default:
        return fn_pattern;
    }
}

static size_t shape_max(enum arn_fn_shape shape)
{
    return shape == ARN_FN_NAMESPACED ? 256 : 140;
}

/* Where an optional group ends, or 0 when it cannot match at s. */

/* arn:(aws[a-zA-Z-]*)?:lambda: */
static size_t match_arn_prefix(const char *s, size_t n)
{
    size_t i;

    if (!has_prefix(s, n, "arn:"))
        return 0;
    i = 4;
    if (has_prefix(s + i, n - i, "aws"))
        for (i += 3; i < n && (is_alpha(s[i]) || s[i] == '-'); i++)
            ;
    return has_prefix(s + i, n - i, ":lambda:") ? i + 8 : 0;
}

/* -[a-z]+-\d{1}: after the region's first part. */
static size_t match_region_tail(const char *s, size_t n)
{
    size_t i = 1;

    if (n < 1 || s[0] != '-')
        return 0;
    while (i < n && is_lower(s[i]))
        i++;
    if (i == 1 || i + 3 > n || s[i] != '-' || !is_digit(s[i + 1]) || s[i + 2] != ':')
        return 0;
    return i + 3;
}

/* [a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}: trying the branches in
 * Java's order: -gov, -iso with a letter, -iso, none. */
static size_t match_region(const char *s, size_t n)
{
    size_t k;

    if (n < 2 || !is_lower(s[0]) || !is_lower(s[1]))
        return 0;
    if (has_prefix(s + 2, n - 2, "-gov") && (k = match_region_tail(s + 6, n - 6)))
        return 6 + k;
    if (has_prefix(s + 2, n - 2, "-iso")) {
        if (n > 6 && is_lower(s[6]) && (k = match_region_tail(s + 7, n - 7)))
            return 7 + k;
        if ((k = match_region_tail(s + 6, n - 6)))
            return 6 + k;
    }
    k = match_region_tail(s + 2, n - 2);
    return k ? 2 + k : 0;
}

/* \d{12}: */
static size_t match_account(const char *s, size_t n)
{
    return n >= 13 && all_of(s, 12, is_digit) && s[12] == ':' ? 13 : 0;
}

static bool is_ns_name_char(char c)
{
    return is_word(c) || c == '.';
}

/* What the groups of one successful match cover. */
struct fn_match {
    size_t arn_end, region_at, region_end, account_at, name_at, name_end, qual_at;
    bool has_arn, has_region, has_account, has_qual;
};

/* name(:qualifier)? to the end of s, for the shape. */
static bool match_name_tail(const char *s, size_t n, size_t at, enum arn_fn_shape shape,
                            struct fn_match *m)
{
    bool ns = shape == ARN_FN_NAMESPACED;
    size_t i = at, q;

    while (i < n && (ns ? is_ns_name_char(s[i]) : is_word(s[i])))
        i++;
    if (i == at)
        return false;
    m->name_at = at;
    m->name_end = i;
    m->has_qual = false;
    if (i == n)
        return true;
    if (s[i] != ':' || shape == ARN_FN_UNQUALIFIED)
        return false;
    q = i + 1;
    m->qual_at = q;
    m->has_qual = true;
    if ((n - q == 7 && memcmp(s + q, "$LATEST", 7) == 0) ||
        (ns && n - q == 17 && memcmp(s + q, "$LATEST.PUBLISHED", 17) == 0))
        return true;
    return q < n && all_of(s + q, n - q, is_word);
}

/* The whole pattern. Each optional group is tried present, then absent,
 * outermost first: the first combination that matches is Java's. */
static bool match_function(const char *s, size_t n, enum arn_fn_shape shape, struct fn_match *m)
{
    size_t arn_end = match_arn_prefix(s, n);
    int a, r, c, f;

    for (a = arn_end ? 1 : 0; a >= 0; a--) {
        size_t p0 = a ? arn_end : 0;
        size_t reg = match_region(s + p0, n - p0);

        for (r = reg ? 1 : 0; r >= 0; r--) {
            size_t p1 = p0 + (r ? reg : 0);
            size_t acc = match_account(s + p1, n - p1);

            for (c = acc ? 1 : 0; c >= 0; c--) {
                size_t p2 = p1 + (c ? acc : 0);
                bool fn = has_prefix(s + p2, n - p2, "function:");

                for (f = fn ? 1 : 0; f >= 0; f--) {
                    size_t p3 = p2 + (f ? 9 : 0);

                    if (match_name_tail(s, n, p3, shape, m)) {
                        m->has_arn = a;
                        m->arn_end = arn_end;
                        m->has_region = r;
                        m->region_at = p0;
                        m->region_end = p0 + reg;
                        m->has_account = c;
                        m->account_at = p1;
                        return true;
                    }
                }
            }
        }
    }
    return false;
}

enum arn_qualifier_kind arn_qualifier_kind(const char *s, size_t len)
{
    if (len == 0)
        return ARN_QUAL_NONE;
    if (len == 7 && memcmp(s, "$LATEST", 7) == 0)
        return ARN_QUAL_LATEST;
    if (len == 17 && memcmp(s, "$LATEST.PUBLISHED", 17) == 0)
        return ARN_QUAL_LATEST_PUBLISHED;
    if (all_of(s, len, is_digit))
        return ARN_QUAL_VERSION;
    if (all_of(s, len, is_word))
        return ARN_QUAL_ALIAS;
    return ARN_QUAL_OTHER;
}

bool arn_parse_function(const char *s, size_t len, enum arn_fn_shape shape,
                        struct arn_function *out)
{
    struct fn_match m;
    size_t units = utf16_len(s, len);

    if (units < 1 || units > shape_max(shape) || !match_function(s, len, shape, &m))
        return false;
    memset(out, 0, sizeof *out);
    if (m.has_arn) {
        out->form = ARN_FORM_FULL;
        copy_part(out->partition, sizeof out->partition, s + 4, m.arn_end - 12);
    } else {
        out->form = m.has_region || m.has_account ? ARN_FORM_PARTIAL : ARN_FORM_NAME;
    }
    if (m.has_region)
        copy_part(out->region, sizeof out->region, s + m.region_at, m.region_end - m.region_at - 1);
    if (m.has_account)
        copy_part(out->account, sizeof out->account, s + m.account_at, 12);
    copy_part(out->name, sizeof out->name, s + m.name_at, m.name_end - m.name_at);
    if (m.has_qual) {
        copy_part(out->qualifier, sizeof out->qualifier, s + m.qual_at, len - m.qual_at);
        out->qualifier_kind = arn_qualifier_kind(s + m.qual_at, len - m.qual_at);
    }
    return true;
}

/* ?Qualifier= against its shape's pattern. */
static bool qualifier_param_ok(const char *s, size_t n, bool namespaced)
{
    size_t i;

    if (namespaced && ((n == 7 && memcmp(s, "$LATEST", 7) == 0) ||
                       (n == 17 && memcmp(s, "$LATEST.PUBLISHED", 17) == 0)))
        return true;
    if (n == 0)
        return !namespaced;
    for (i = 0; i < n; i++)
        if (!is_word(s[i]) && s[i] != '$')
            return false;
    return true;
}

static void add_length_violations(struct arn_violations *v, const char *s, size_t n,
                                  const char *field, size_t min, size_t max)
{
    char c[80];
    size_t units = utf16_len(s, n);

    if (units > max) {
        snprintf(c, sizeof c, "Member must have length less than or equal to %zu", max);
        arn_violation_add(v, ARN_VALUE_TEXT, s, n, field, c);
    }
    if (units < min) {
        snprintf(c, sizeof c, "Member must have length greater than or equal to %zu", min);
        arn_violation_add(v, ARN_VALUE_TEXT, s, n, field, c);
    }
}

static void add_pattern_violation(struct arn_violations *v, const char *s, size_t n,
                                  const char *field, const char *pattern)
{
    struct text c = {0};

    text_str(&c, "Member must satisfy regular expression pattern: ");
    text_str(&c, pattern);
    if (c.oom)
        v->oom = true;
    else
        arn_violation_add(v, ARN_VALUE_TEXT, s, n, field, c.buf);
    free(c.buf);
}

/* CreateFunction reports a bad bare name as InvalidParameterValueException
 * and anything that looks like an ARN as ValidationException (LocalStack's
 * AWS-recorded tests; a name is [a-zA-Z0-9-_.] there). */
static bool looks_like_bare_name(const char *s, size_t n)
{
    return all_of(s, n, is_ns_name_char);
}

static const char *partition_of(const struct arn_scope *scope)
{
    return scope->partition ? scope->partition : "aws";
}

int arn_access_denied(const struct arn_scope *scope, const char *action, const char *resource,
                      struct api_error *err)
{
    if (scope->caller)
        return arn_error_set(err, "AccessDeniedException", 403,
                             "User: %s is not authorized to perform: %s on resource: %s because "
                             "no resource-based policy allows the %s action",
                             scope->caller, action, resource, action);
    return arn_error_set(err, "AccessDeniedException", 403,
                         "User: arn:%s:iam::%s:root is not authorized to perform: %s on resource: "
                         "%s because no resource-based policy allows the %s action",
                         partition_of(scope), scope->account, action, resource, action);
}

/* The function ARN named in AccessDeniedException: the account as given. */
static int function_access_denied(const struct arn_function_request *rq,
                                  const struct arn_scope *scope, const struct arn_function *f,
                                  struct api_error *err)
{
    struct arn_scope theirs = *scope;
    char arn[ARN_BUF_SIZE];

    theirs.account = f->account;
    if (f->partition[0])
        theirs.partition = f->partition;
    if (f->region[0])
        theirs.region = f->region;
    if (arn_function(arn, sizeof arn, &theirs, f->name, f->qualifier) < 0)
        arn[0] = '\0';
    return arn_access_denied(scope, rq->action ? rq->action : "lambda:GetFunction", arn, err);
}

void arn_add_function_violations(struct arn_violations *v, const char *s, size_t len,
                                 enum arn_fn_shape shape)
{
    struct fn_match m;

    add_length_violations(v, s, len, "functionName", 1, shape_max(shape));
    if (!match_function(s, len, shape, &m))
        add_pattern_violation(v, s, len, "functionName", shape_pattern(shape));
}

const char *arn_function_violation_type(const char *s, size_t len, enum arn_fn_shape shape)
{
    return shape == ARN_FN_CREATE && looks_like_bare_name(s, len) ? "InvalidParameterValueException"
                                                                  : "ValidationException";
}

int arn_resolve_function(const struct arn_function_request *rq, const struct arn_scope *scope,
                         struct arn_function *out, struct api_error *err)
{
    struct arn_violations v = {0};
    bool has_param = rq->qualifier && (rq->shape == ARN_FN_NAME || rq->shape == ARN_FN_NAMESPACED);
    const char *type = arn_function_violation_type(rq->name, rq->name_len, rq->shape);
    char name_qualifier[sizeof out->qualifier];

    arn_add_function_violations(&v, rq->name, rq->name_len, rq->shape);
    if (has_param) {
        bool ns = rq->shape == ARN_FN_NAMESPACED;

        add_length_violations(&v, rq->qualifier, rq->qualifier_len, "qualifier", 1, 128);
        if (!qualifier_param_ok(rq->qualifier, rq->qualifier_len, ns))
            add_pattern_violation(&v, rq->qualifier, rq->qualifier_len, "qualifier",
                                  ns ? nsq_pattern : q_pattern);
    }
    if (arn_violations_report(&v, type, err) < 0)
        return -EINVAL;
    arn_parse_function(rq->name, rq->name_len, rq->shape, out);

    /* CreateFunction names a new $LATEST: a qualifier, or a region without
     * the account that must come with it, is not a function it can create. */
    if (rq->shape == ARN_FN_CREATE && (out->qualifier[0] || (out->region[0] && !out->account[0]))) {
        add_pattern_violation(&v, rq->name, rq->name_len, "functionName", fn_pattern);
        return arn_violations_report(&v, "ValidationException", err);
    }
    if (out->account[0] && strcmp(out->account, scope->account) != 0)
        return function_access_denied(rq, scope, out, err);
    if (out->region[0] && strcmp(out->region, scope->region) != 0)
        return arn_error_set(err, "ResourceNotFoundException", 404,
                             "Functions from '%s' are not reachable in this region ('%s')",
                             out->region, scope->region);
    if (rq->shape == ARN_FN_CREATE && utf16_len(out->name, strlen(out->name)) > 64)
        return arn_error_set(err, "InvalidParameterValueException", 400,
                             "1 validation error detected: Value '%s' at 'functionName' failed to "
                             "satisfy constraint: Member must have length less than or equal to 64",
                             out->name);

    memcpy(name_qualifier, out->qualifier, sizeof name_qualifier);
    if (has_param) {
        if (name_qualifier[0] &&
            (strlen(name_qualifier) != rq->qualifier_len ||
             memcmp(name_qualifier, rq->qualifier, rq->qualifier_len) != 0))
            return arn_error_set(err, "InvalidParameterValueException", 400,
                                 "The derived qualifier from the function name does not match the "
                                 "specified qualifier.");
        copy_part(out->qualifier, sizeof out->qualifier, rq->qualifier, rq->qualifier_len);
    }
    out->qualifier_kind = arn_qualifier_kind(out->qualifier, strlen(out->qualifier));
    return 0;
}

int arn_check_alias_name(const char *s, size_t len, struct api_error *err)
{
    struct arn_violations v = {0};

    add_length_violations(&v, s, len, "name", 1, 128);
    if (len == 0 || !all_of(s, len, is_word) || all_of(s, len, is_digit))
        add_pattern_violation(&v, s, len, "name", alias_pattern);
    return arn_violations_report(&v, "ValidationException", err);
}

/* ---- layers ------------------------------------------------------------------- */

/* Splits arn:<p>:lambda:<r>:<account>:layer:<name>[:<version>] at its colons;
 * with_version says whether the version part must be there or must not. */
static bool parse_layer_arn(const char *s, size_t n, bool with_version, struct arn_layer *out)
{
    const char *part[8];
    size_t plen[8], k = 0, i, start = 0;

    for (i = 0; i <= n; i++) {
        if (i == n || s[i] == ':') {
            if (k == 8)
                return false;
            part[k] = s + start;
            plen[k++] = i - start;
            start = i + 1;
        }
    }
    if (k != (with_version ? 8u : 7u))
        return false;
    if (plen[0] != 3 || memcmp(part[0], "arn", 3) != 0 || plen[1] == 0 ||
        !all_of(part[1], plen[1], is_alnum_dash) || plen[2] != 6 ||
        memcmp(part[2], "lambda", 6) != 0 || plen[3] == 0 ||
        !all_of(part[3], plen[3], is_alnum_dash) || plen[4] != 12 ||
        !all_of(part[4], 12, is_digit) || plen[5] != 5 || memcmp(part[5], "layer", 5) != 0 ||
        plen[6] == 0 || !all_of(part[6], plen[6], is_word))
        return false;
    if (with_version && (plen[7] == 0 || !all_of(part[7], plen[7], is_digit)))
        return false;
    memset(out, 0, sizeof *out);
    out->is_arn = true;
    copy_part(out->partition, sizeof out->partition, part[1], plen[1]);
    copy_part(out->region, sizeof out->region, part[3], plen[3]);
    copy_part(out->account, sizeof out->account, part[4], plen[4]);
    copy_part(out->name, sizeof out->name, part[6], plen[6]);
    if (with_version) {
        out->has_version = true;
        /* Any digits are valid; past 2^64 - 1 no version can exist, so saturate. */
        for (i = 0; i < plen[7]; i++) {
            uint64_t d = (uint64_t) (part[7][i] - '0');

            out->version =
                out->version > (UINT64_MAX - d) / 10 ? UINT64_MAX : out->version * 10 + d;
        }
    }
    return true;
}

bool arn_parse_layer_version_arn(const char *s, size_t len, struct arn_layer *out)
{
    size_t units = utf16_len(s, len);

    return units >= 1 && units <= 140 && parse_layer_arn(s, len, true, out);
}

int arn_resolve_layer_name(const char *s, size_t len, const struct arn_scope *scope,
                           const char *action, struct arn_layer *out, struct api_error *err)
{
    struct arn_violations v = {0};
    bool plain = len > 0 && all_of(s, len, is_word);

    if (plain) {
        memset(out, 0, sizeof *out);
        copy_part(out->name, sizeof out->name, s, len);
    }
    add_length_violations(&v, s, len, "layerName", 1, 140);
    if (!plain && !parse_layer_arn(s, len, false, out))
        add_pattern_violation(&v, s, len, "layerName", layer_name_pattern);
    if (arn_violations_report(&v, "ValidationException", err) < 0)
        return -EINVAL;
    if (!out->is_arn)
        return 0;
    if (strcmp(out->account, scope->account) != 0) {
        char arn[ARN_BUF_SIZE];
        struct arn_scope theirs = *scope;

        theirs.partition = out->partition;
        theirs.region = out->region;
        theirs.account = out->account;
        if (arn_layer(arn, sizeof arn, &theirs, out->name) < 0)
            arn[0] = '\0';
        return arn_access_denied(scope, action ? action : "lambda:GetLayerVersion", arn, err);
    }
    if (strcmp(out->region, scope->region) != 0)
        return arn_error_set(err, "ResourceNotFoundException", 404,
                             "The resource you requested does not exist.");
    return 0;
}

/* ---- building ARNs -------------------------------------------------------------- */

static int finish(int n, size_t cap)
{
    return n < 0 || (size_t) n >= cap ? -ENOSPC : n;
}

int arn_function(char *buf, size_t cap, const struct arn_scope *scope, const char *name,
                 const char *qualifier)
{
    bool q = qualifier && qualifier[0];

    return finish(snprintf(buf, cap, "arn:%s:lambda:%s:%s:function:%s%s%s", partition_of(scope),
                           scope->region, scope->account, name, q ? ":" : "", q ? qualifier : ""),
                  cap);
}

int arn_layer(char *buf, size_t cap, const struct arn_scope *scope, const char *name)
{
    return finish(snprintf(buf, cap, "arn:%s:lambda:%s:%s:layer:%s", partition_of(scope),
                           scope->region, scope->account, name),
                  cap);
}

int arn_layer_version(char *buf, size_t cap, const struct arn_scope *scope, const char *name,
                      uint64_t version)
{
    return finish(snprintf(buf, cap, "arn:%s:lambda:%s:%s:layer:%s:%llu", partition_of(scope),
                           scope->region, scope->account, name, (unsigned long long) version),
                  cap);
}
