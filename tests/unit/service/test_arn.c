/* tests/unit/service/test_arn.c: function, alias and layer names as the
 * Lambda API takes them, ARNs built from them, and AWS's errors for the rest
 * (src/service/arn.h).
 *
 * Every accepted form is checked for the parts it yields; every refused one
 * for the exact error type, status and message a client would see. Inputs go
 * through heap buffers of exactly their length so ASan sees any overread. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service/arn.h"

#include "../checks.h"

/* ---- helpers ------------------------------------------------------------ */

static const struct arn_scope scope = {.region = "us-east-1", .account = "123456789012"};

#define FN_PATTERN                                                                           \
    "(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:)?"     \
    "(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?"
#define NS_PATTERN                                                                           \
    "(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:)?"     \
    "(\\d{12}:)?(function:)?([a-zA-Z0-9-_\\.]+)(:(\\$LATEST(\\.PUBLISHED)?|[a-zA-Z0-9-_]+))?"
#define UNQ_PATTERN                                                                          \
    "(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:)?"     \
    "(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)"
#define LAYER_NAME_PATTERN                                                                   \
    "(arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\\d{12}:layer:[a-zA-Z0-9-_]+)|[a-zA-Z0-9-_]+"

/* A heap copy of exactly n bytes, no NUL. */
static char *dup_exact(const char *s, size_t n)
{
    char *p = malloc(n ? n : 1);

    cr_assert_not_null(p);
    memcpy(p, s, n);
    return p;
}

static char *repeat(char c, size_t n)
{
    char *p = malloc(n + 1);

    cr_assert_not_null(p);
    memset(p, c, n);
    p[n] = '\0';
    return p;
}

/* arn_resolve_function on heap copies; qualifier NULL means no ?Qualifier=. */
static int resolve(const char *name, const char *qualifier, enum arn_fn_shape shape,
                   struct arn_function *out, struct api_error *err)
{
    size_t nl = strlen(name), ql = qualifier ? strlen(qualifier) : 0;
    char *n = dup_exact(name, nl), *q = qualifier ? dup_exact(qualifier, ql) : NULL;
    struct arn_function_request rq = {.name = n,
                                      .name_len = nl,
                                      .qualifier = q,
                                      .qualifier_len = ql,
                                      .shape = shape,
                                      .action = "lambda:GetFunction"};
    int rc = arn_resolve_function(&rq, &scope, out, err);

    free(n);
    free(q);
    return rc;
}

static void expect_ok(const char *name, const char *qualifier, enum arn_fn_shape shape,
                      struct arn_function *out)
{
    struct api_error e = {0};
    int rc = resolve(name, qualifier, shape, out, &e);

    cr_assert_eq(rc, 0, "\"%s\" refused: %s: %s", name, e.type, e.message);
    cr_assert_null(e.message);
}

static void expect_error(const char *name, const char *qualifier, enum arn_fn_shape shape,
                         const char *type, int status, const char *message)
{
    struct api_error e = {0};
    struct arn_function f;

    cr_assert_eq(resolve(name, qualifier, shape, &f, &e), -EINVAL, "\"%s\" accepted", name);
    cr_assert_str_eq(e.type, type, "\"%s\": %s", name, e.message);
    cr_assert_eq(e.status, status, "\"%s\": status %d", name, e.status);
    cr_assert_str_eq(e.message, message);
    arn_error_fini(&e);
    cr_assert_null(e.message);
}

static void expect_parts(const struct arn_function *f, enum arn_fn_form form, const char *region,
                         const char *account, const char *name, const char *qualifier,
                         enum arn_qualifier_kind kind)
{
    cr_assert_eq(f->form, form, "%s: form %d", name, f->form);
    cr_assert_str_eq(f->region, region);
    cr_assert_str_eq(f->account, account);
    cr_assert_str_eq(f->name, name);
    cr_assert_str_eq(f->qualifier, qualifier);
    cr_assert_eq(f->qualifier_kind, kind, "%s: kind %d", name, f->qualifier_kind);
}

/* ---- percent-decoding --------------------------------------------------- */

static int decode(const char *in, char *out, size_t cap, size_t *len)
{
    size_t n = strlen(in);
    char *p = dup_exact(in, n);
    int rc = arn_percent_decode(p, n, out, cap, len);

    free(p);
    return rc;
}

Test(arn_decode, decodes_escapes_and_keeps_the_rest)
{
    char out[128];
    size_t len;

    cr_assert_eq(decode("my-fn", out, sizeof out, &len), 0);
    cr_assert_str_eq(out, "my-fn");
    cr_assert_eq(len, 5);
    cr_assert_eq(decode("arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Af%3A%24LATEST",
                        out, sizeof out, &len),
                 0);
    cr_assert_str_eq(out, "arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST");
    cr_assert_eq(decode("a%3ab%2Fc+d%20e", out, sizeof out, &len), 0);
    cr_assert_str_eq(out, "a:b/c+d e"); /* lower-case hex, '+' is no space in a path */
    cr_assert_eq(decode("%e2%82%ac%FF", out, sizeof out, &len), 0);
    cr_assert_eq(len, 4);
    cr_assert_eq(memcmp(out, "\xe2\x82\xac\xff", 4), 0);
    cr_assert_eq(decode("", out, sizeof out, &len), 0);
    cr_assert_eq(len, 0);
    cr_assert_str_eq(out, "");
}

Test(arn_decode, refuses_bad_escapes_and_nul)
{
    static const char *const bad[] = {"%",     "%3",  "a%",  "%G1", "%3G",  "%%",
                                      "%00",   "a%0", "%-1", "% 1", "%+1",  "x%2"};
    char out[64];
    size_t len = 99, i;

    for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_eq(decode(bad[i], out, sizeof out, &len), -EINVAL, "\"%s\" accepted", bad[i]);
    cr_assert_eq(len, 99, "length written on failure");
    {
        char *p = dup_exact("ab\0cd", 5);

        cr_assert_eq(arn_percent_decode(p, 5, out, sizeof out, &len), -EINVAL, "raw NUL accepted");
        free(p);
    }
}

Test(arn_decode, output_capacity)
{
    char *out = malloc(6);
    size_t len;

    cr_assert_not_null(out);
    cr_assert_eq(decode("abcdef", out, 6, &len), -ENOSPC);
    cr_assert_eq(decode("abcde", out, 6, &len), 0);
    cr_assert_str_eq(out, "abcde");
    cr_assert_eq(decode("%41%42%43%44%45", out, 6, &len), 0); /* decodes shorter than it reads */
    cr_assert_str_eq(out, "ABCDE");
    cr_assert_eq(decode("x", out, 0, &len), -ENOSPC);
    cr_assert_eq(decode("", out, 1, &len), 0);
    free(out);
}

/* ---- function names: the accepted forms ------------------------------------ */

Test(arn_function, plain_name_and_qualifiers)
{
    struct arn_function f;

    expect_ok("my-fn", NULL, ARN_FN_NAME, &f);
    expect_parts(&f, ARN_FORM_NAME, "", "", "my-fn", "", ARN_QUAL_NONE);
    expect_ok("My_Fn-09", NULL, ARN_FN_NAME, &f);
    expect_parts(&f, ARN_FORM_NAME, "", "", "My_Fn-09", "", ARN_QUAL_NONE);
    expect_ok("my-fn:prod", NULL, ARN_FN_NAME, &f);
    expect_parts(&f, ARN_FORM_NAME, "", "", "my-fn", "prod", ARN_QUAL_ALIAS);
    expect_ok("my-fn:$LATEST", NULL, ARN_FN_NAME, &f);
    expect_parts(&f, ARN_FORM_NAME, "", "", "my-fn", "$LATEST", ARN_QUAL_LATEST);
    expect_ok("my-fn:17", NULL, ARN_FN_NAME, &f);
    expect_parts(&f, ARN_FORM_NAME, "", "", "my-fn", "17", ARN_QUAL_VERSION);
    expect_ok("f", NULL, ARN_FN_NAME, &f);
    expect_parts(&f, ARN_FORM_NAME, "", "", "f", "", ARN_QUAL_NONE);
    /* "function:" alone is the optional group, not part of the name. */
    expect_ok("function:my-fn", NULL, ARN_FN_NAME, &f);
    expect_parts(&f, ARN_FORM_NAME, "", "", "my-fn", "", ARN_QUAL_NONE);
    expect_ok("function", NULL, ARN_FN_NAME, &f);
    expect_parts(&f, ARN_FORM_NAME, "", "", "function", "", ARN_QUAL_NONE);
}

Test(arn_function, partial_arns)
{
    struct arn_function f;

    expect_ok("123456789012:function:my-fn", NULL, ARN_FN_NAME, &f);
    expect_parts(&f, ARN_FORM_PARTIAL, "", "123456789012", "my-fn", "", ARN_QUAL_NONE);
    expect_ok("123456789012:function:my-fn:3", NULL, ARN_FN_NAME, &f);
    expect_parts(&f, ARN_FORM_PARTIAL, "", "123456789012", "my-fn", "3", ARN_QUAL_VERSION);
    expect_ok("123456789012:my-fn", NULL, ARN_FN_NAME, &f);
    expect_parts(&f, ARN_FORM_PARTIAL, "", "123456789012", "my-fn", "", ARN_QUAL_NONE);
    /* Java tries the region group first: a region and a name, not a name and
     * a qualifier. */
    expect_ok("us-east-1:my-fn", NULL, ARN_FN_NAME, &f);
    expect_parts(&f, ARN_FORM_PARTIAL, "us-east-1", "", "my-fn", "", ARN_QUAL_NONE);
    expect_ok("us-east-1:123456789012:function:my-fn:prod", NULL, ARN_FN_NAME, &f);
    expect_parts(&f, ARN_FORM_PARTIAL, "us-east-1", "123456789012", "my-fn", "prod",
                 ARN_QUAL_ALIAS);
    /* Eleven digits are no account: a name with a bad qualifier. */
    expect_error("12345678901:function:f", NULL, ARN_FN_NAME, "ValidationException", 400,
                 "1 validation error detected: Value '12345678901:function:f' at 'functionName' "
                 "failed to satisfy constraint: Member must satisfy regular expression pattern: " FN_PATTERN);
    /* Eleven digits and a name: a name and a version. */
    expect_ok("12345678901:7", NULL, ARN_FN_NAME, &f);
    expect_parts(&f, ARN_FORM_NAME, "", "", "12345678901", "7", ARN_QUAL_VERSION);
}

Test(arn_function, full_arns)
{
    struct arn_function f;

    expect_ok("arn:aws:lambda:us-east-1:123456789012:function:my-fn", NULL, ARN_FN_NAME, &f);
    expect_parts(&f, ARN_FORM_FULL, "us-east-1", "123456789012", "my-fn", "", ARN_QUAL_NONE);
    cr_assert_str_eq(f.partition, "aws");
    expect_ok("arn:aws:lambda:us-east-1:123456789012:function:my-fn:$LATEST", NULL, ARN_FN_NAME,
              &f);
    expect_parts(&f, ARN_FORM_FULL, "us-east-1", "123456789012", "my-fn", "$LATEST",
                 ARN_QUAL_LATEST);
    expect_ok("arn:aws:lambda:us-east-1:123456789012:function:my-fn:live", NULL, ARN_FN_NAME, &f);
    expect_parts(&f, ARN_FORM_FULL, "us-east-1", "123456789012", "my-fn", "live", ARN_QUAL_ALIAS);
    expect_ok("arn::lambda:us-east-1:123456789012:function:f", NULL, ARN_FN_NAME, &f);
    cr_assert_str_eq(f.partition, "");
}

Test(arn_function, region_shapes_parse_as_java_would)
{
    static const char *const regions[] = {"us-gov-west-1", "us-iso-east-1", "us-isob-east-1",
                                          "eu-west-3",     "ap-southeast-2", "cn-north-1",
                                          "us-isoeast-1",  "us-gov-1"};
    struct arn_function f;
    char name[128];
    size_t i;

    for (i = 0; i < sizeof regions / sizeof regions[0]; i++) {
        snprintf(name, sizeof name, "arn:aws-x:lambda:%s:123456789012:function:f:1", regions[i]);
        cr_assert(arn_parse_function(name, strlen(name), ARN_FN_NAME, &f), "%s refused", name);
        cr_assert_str_eq(f.region, regions[i]);
        cr_assert_str_eq(f.partition, "aws-x");
        cr_assert_str_eq(f.name, "f");
        cr_assert_str_eq(f.qualifier, "1");
    }
    /* Not a region: "-12" (two digits), no letters after the dash, upper case. */
    cr_assert(!arn_parse_function("arn:aws:lambda:us-east-12:123456789012:function:f", 48,
                                  ARN_FN_NAME, &f));
    cr_assert(!arn_parse_function("arn:aws:lambda:us--1:123456789012:function:f", 44,
                                  ARN_FN_NAME, &f));
    cr_assert(!arn_parse_function("arn:aws:lambda:US-east-1:123456789012:function:f", 48,
                                  ARN_FN_NAME, &f));
}

Test(arn_function, namespaced_shape_allows_dots_and_latest_published)
{
    struct arn_function f;

    expect_ok("my.fn", NULL, ARN_FN_NAMESPACED, &f);
    expect_parts(&f, ARN_FORM_NAME, "", "", "my.fn", "", ARN_QUAL_NONE);
    expect_ok("my-fn:$LATEST.PUBLISHED", NULL, ARN_FN_NAMESPACED, &f);
    expect_parts(&f, ARN_FORM_NAME, "", "", "my-fn", "$LATEST.PUBLISHED",
                 ARN_QUAL_LATEST_PUBLISHED);
    expect_error("my.fn", NULL, ARN_FN_NAME, "ValidationException", 400,
                 "1 validation error detected: Value 'my.fn' at 'functionName' failed to satisfy "
                 "constraint: Member must satisfy regular expression pattern: " FN_PATTERN);
    expect_error("my-fn:$LATEST.PUBLISHED", NULL, ARN_FN_NAME, "ValidationException", 400,
                 "1 validation error detected: Value 'my-fn:$LATEST.PUBLISHED' at 'functionName' "
                 "failed to satisfy constraint: Member must satisfy regular expression pattern: " FN_PATTERN);
    expect_error("my fn", NULL, ARN_FN_NAMESPACED, "ValidationException", 400,
                 "1 validation error detected: Value 'my fn' at 'functionName' failed to satisfy "
                 "constraint: Member must satisfy regular expression pattern: " NS_PATTERN);
}

Test(arn_function, unqualified_shape_refuses_a_qualifier)
{
    struct arn_function f;

    expect_ok("123456789012:function:f", NULL, ARN_FN_UNQUALIFIED, &f);
    expect_parts(&f, ARN_FORM_PARTIAL, "", "123456789012", "f", "", ARN_QUAL_NONE);
    expect_error("f:1", NULL, ARN_FN_UNQUALIFIED, "ValidationException", 400,
                 "1 validation error detected: Value 'f:1' at 'functionName' failed to satisfy "
                 "constraint: Member must satisfy regular expression pattern: " UNQ_PATTERN);
}

Test(arn_function, lengths_per_shape)
{
    struct arn_function f;
    char *name = repeat('a', 257), msg[1024];

    name[140] = '\0';
    expect_ok(name, NULL, ARN_FN_NAME, &f);
    cr_assert_eq(strlen(f.name), 140);
    name[140] = 'a';
    name[141] = '\0';
    snprintf(msg, sizeof msg,
             "1 validation error detected: Value '%s' at 'functionName' failed to satisfy "
             "constraint: Member must have length less than or equal to 140",
             name);
    expect_error(name, NULL, ARN_FN_NAME, "ValidationException", 400, msg);
    name[141] = 'a';
    name[256] = '\0';
    expect_ok(name, NULL, ARN_FN_NAMESPACED, &f);
    cr_assert_eq(strlen(f.name), 256);
    name[256] = 'a';
    snprintf(msg, sizeof msg,
             "1 validation error detected: Value '%s' at 'functionName' failed to satisfy "
             "constraint: Member must have length less than or equal to 256",
             name);
    expect_error(name, NULL, ARN_FN_NAMESPACED, "ValidationException", 400, msg);
    free(name);
    assert_no_leaks();
}

/* ---- function names: refused ------------------------------------------------- */

Test(arn_function, refused_patterns)
{
    static const char *const bad[] = {
        "my fn", "my/fn", "f:",      ":f",     "f:a:b",       "f:$latest", "f:$LATEST1",
        "f::1",  "é",     "arn:aws:lambda:us-east-1:123456789012:function:",
        "arn:aws:lambda:us-east-1:123456789012:function:f:",  "f\n", "f:a.b"};
    char msg[1024];
    size_t i;

    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(msg, sizeof msg,
                 "1 validation error detected: Value '%s' at 'functionName' failed to satisfy "
                 "constraint: Member must satisfy regular expression pattern: " FN_PATTERN,
                 bad[i]);
        expect_error(bad[i], NULL, ARN_FN_NAME, "ValidationException", 400, msg);
    }
}

Test(arn_function, empty_name_breaks_length_and_pattern)
{
    expect_error("", NULL, ARN_FN_NAME, "ValidationException", 400,
                 "2 validation errors detected: Value '' at 'functionName' failed to satisfy "
                 "constraint: Member must have length greater than or equal to 1; Value '' at "
                 "'functionName' failed to satisfy constraint: Member must satisfy regular "
                 "expression pattern: " FN_PATTERN);
}

Test(arn_function, non_utf8_bytes_are_echoed_as_replacement_characters)
{
    struct api_error e = {0};
    struct arn_function f;
    struct arn_function_request rq = {
        .name = "a\xff" "b\xc3", .name_len = 4, .shape = ARN_FN_NAME};

    cr_assert_eq(arn_resolve_function(&rq, &scope, &f, &e), -EINVAL);
    cr_assert_str_eq(e.message,
                     "1 validation error detected: Value 'a\xef\xbf\xbd"
                     "b\xef\xbf\xbd' at 'functionName' failed to satisfy constraint: Member must "
                     "satisfy regular expression pattern: " FN_PATTERN);
    arn_error_fini(&e);
    assert_no_leaks();
}

/* ---- ?Qualifier= ----------------------------------------------------------------- */

Test(arn_qualifier, query_qualifier_is_used_and_classified)
{
    struct arn_function f;

    expect_ok("my-fn", "$LATEST", ARN_FN_NAMESPACED, &f);
    expect_parts(&f, ARN_FORM_NAME, "", "", "my-fn", "$LATEST", ARN_QUAL_LATEST);
    expect_ok("my-fn", "42", ARN_FN_NAMESPACED, &f);
    expect_parts(&f, ARN_FORM_NAME, "", "", "my-fn", "42", ARN_QUAL_VERSION);
    expect_ok("my-fn", "prod", ARN_FN_NAME, &f);
    expect_parts(&f, ARN_FORM_NAME, "", "", "my-fn", "prod", ARN_QUAL_ALIAS);
    /* The pattern lets '$' anywhere; such a qualifier names nothing. */
    expect_ok("my-fn", "a$b", ARN_FN_NAMESPACED, &f);
    expect_parts(&f, ARN_FORM_NAME, "", "", "my-fn", "a$b", ARN_QUAL_OTHER);
    /* The same qualifier in both places is fine. */
    expect_ok("my-fn:prod", "prod", ARN_FN_NAMESPACED, &f);
    expect_parts(&f, ARN_FORM_NAME, "", "", "my-fn", "prod", ARN_QUAL_ALIAS);
    /* CreateFunction and the unqualified shape take no ?Qualifier=: ignored. */
    expect_ok("my-fn", "x y", ARN_FN_UNQUALIFIED, &f);
    expect_parts(&f, ARN_FORM_NAME, "", "", "my-fn", "", ARN_QUAL_NONE);
}

Test(arn_qualifier, name_and_query_disagree)
{
    static const char msg[] =
        "The derived qualifier from the function name does not match the specified qualifier.";

    expect_error("my-fn:1", "2", ARN_FN_NAMESPACED, "InvalidParameterValueException", 400, msg);
    expect_error("arn:aws:lambda:us-east-1:123456789012:function:my-fn:prod", "$LATEST",
                 ARN_FN_NAMESPACED, "InvalidParameterValueException", 400, msg);
    expect_error("my-fn:prod", "prod2", ARN_FN_NAME, "InvalidParameterValueException", 400, msg);
    expect_error("my-fn:prod", "pro", ARN_FN_NAME, "InvalidParameterValueException", 400, msg);
}

Test(arn_qualifier, refused_query_qualifiers)
{
    char *long_q = repeat('q', 129), msg[1024];

    expect_error("f", "", ARN_FN_NAMESPACED, "ValidationException", 400,
                 "2 validation errors detected: Value '' at 'qualifier' failed to satisfy "
                 "constraint: Member must have length greater than or equal to 1; Value '' at "
                 "'qualifier' failed to satisfy constraint: Member must satisfy regular "
                 "expression pattern: \\$(LATEST(\\.PUBLISHED)?)|[a-zA-Z0-9-_$]+");
    /* Beside a FunctionName the pattern, (|...), takes the empty string. */
    expect_error("f", "", ARN_FN_NAME, "ValidationException", 400,
                 "1 validation error detected: Value '' at 'qualifier' failed to satisfy "
                 "constraint: Member must have length greater than or equal to 1");
    expect_error("f", "a.b", ARN_FN_NAME, "ValidationException", 400,
                 "1 validation error detected: Value 'a.b' at 'qualifier' failed to satisfy "
                 "constraint: Member must satisfy regular expression pattern: (|[a-zA-Z0-9$_-]+)");
    snprintf(msg, sizeof msg,
             "1 validation error detected: Value '%s' at 'qualifier' failed to satisfy "
             "constraint: Member must have length less than or equal to 128",
             long_q);
    expect_error("f", long_q, ARN_FN_NAMESPACED, "ValidationException", 400, msg);
    /* Name and qualifier violations share one message, name first. */
    expect_error("a b", "c d", ARN_FN_NAMESPACED, "ValidationException", 400,
                 "2 validation errors detected: Value 'a b' at 'functionName' failed to satisfy "
                 "constraint: Member must satisfy regular expression pattern: " NS_PATTERN
                 "; Value 'c d' at 'qualifier' failed to satisfy constraint: Member must satisfy "
                 "regular expression pattern: \\$(LATEST(\\.PUBLISHED)?)|[a-zA-Z0-9-_$]+");
    free(long_q);
    assert_no_leaks();
}

Test(arn_qualifier, kinds)
{
    cr_assert_eq(arn_qualifier_kind("", 0), ARN_QUAL_NONE);
    cr_assert_eq(arn_qualifier_kind("$LATEST", 7), ARN_QUAL_LATEST);
    cr_assert_eq(arn_qualifier_kind("$LATEST.PUBLISHED", 17), ARN_QUAL_LATEST_PUBLISHED);
    cr_assert_eq(arn_qualifier_kind("$LATES", 6), ARN_QUAL_OTHER);
    cr_assert_eq(arn_qualifier_kind("1", 1), ARN_QUAL_VERSION);
    cr_assert_eq(arn_qualifier_kind("0", 1), ARN_QUAL_VERSION);
    cr_assert_eq(arn_qualifier_kind("0123", 4), ARN_QUAL_VERSION);
    cr_assert_eq(arn_qualifier_kind("1a", 2), ARN_QUAL_ALIAS);
    cr_assert_eq(arn_qualifier_kind("-", 1), ARN_QUAL_ALIAS);
    cr_assert_eq(arn_qualifier_kind("a$", 2), ARN_QUAL_OTHER);
    cr_assert_eq(arn_qualifier_kind("$LATEST", 6), ARN_QUAL_OTHER, "len bounds the check");
}

/* ---- this service's account and region ---------------------------------------------- */

Test(arn_scope, other_region_is_not_reachable)
{
    expect_error("arn:aws:lambda:eu-west-1:123456789012:function:f", NULL, ARN_FN_NAMESPACED,
                 "ResourceNotFoundException", 404,
                 "Functions from 'eu-west-1' are not reachable in this region ('us-east-1')");
    expect_error("us-west-2:f", NULL, ARN_FN_NAME, "ResourceNotFoundException", 404,
                 "Functions from 'us-west-2' are not reachable in this region ('us-east-1')");
}

Test(arn_scope, other_account_is_denied)
{
    struct arn_scope named = scope;
    struct api_error e = {0};
    struct arn_function f;
    struct arn_function_request rq = {.name = "arn:aws:lambda:us-east-1:999999999999:function:f:2",
                                      .shape = ARN_FN_NAMESPACED,
                                      .action = "lambda:InvokeFunction"};

    expect_error("999999999999:function:f", NULL, ARN_FN_NAME, "AccessDeniedException", 403,
                 "User: arn:aws:iam::123456789012:root is not authorized to perform: "
                 "lambda:GetFunction on resource: "
                 "arn:aws:lambda:us-east-1:999999999999:function:f because no resource-based "
                 "policy allows the lambda:GetFunction action");
    /* The account is checked before the region, and the ARN named is theirs. */
    named.caller = "arn:aws:iam::123456789012:user/dev";
    rq.name = "arn:aws:lambda:eu-west-1:999999999999:function:f:2";
    rq.name_len = strlen(rq.name);
    cr_assert_eq(arn_resolve_function(&rq, &named, &f, &e), -EINVAL);
    cr_assert_str_eq(e.type, "AccessDeniedException");
    cr_assert_eq(e.status, 403);
    cr_assert_str_eq(e.message,
                     "User: arn:aws:iam::123456789012:user/dev is not authorized to perform: "
                     "lambda:InvokeFunction on resource: "
                     "arn:aws:lambda:eu-west-1:999999999999:function:f:2 because no "
                     "resource-based policy allows the lambda:InvokeFunction action");
    arn_error_fini(&e);
    assert_no_leaks();
}

Test(arn_scope, own_account_and_region_pass)
{
    struct arn_function f;

    expect_ok("arn:aws:lambda:us-east-1:123456789012:function:f", "1", ARN_FN_NAMESPACED, &f);
    expect_parts(&f, ARN_FORM_FULL, "us-east-1", "123456789012", "f", "1", ARN_QUAL_VERSION);
}

/* ---- CreateFunction's FunctionName ---------------------------------------------------- */

Test(arn_create, accepted_forms)
{
    struct arn_function f;
    char *name = repeat('n', 64);

    expect_ok("my-fn", NULL, ARN_FN_CREATE, &f);
    expect_parts(&f, ARN_FORM_NAME, "", "", "my-fn", "", ARN_QUAL_NONE);
    expect_ok("123456789012:function:my-fn", NULL, ARN_FN_CREATE, &f);
    expect_parts(&f, ARN_FORM_PARTIAL, "", "123456789012", "my-fn", "", ARN_QUAL_NONE);
    expect_ok("arn:aws:lambda:us-east-1:123456789012:function:my-fn", NULL, ARN_FN_CREATE, &f);
    expect_parts(&f, ARN_FORM_FULL, "us-east-1", "123456789012", "my-fn", "", ARN_QUAL_NONE);
    expect_ok(name, NULL, ARN_FN_CREATE, &f);
    free(name);
}

Test(arn_create, bare_names_are_invalid_parameter_values)
{
    char *name = repeat('n', 65), msg[512];

    expect_error("a.out", NULL, ARN_FN_CREATE, "InvalidParameterValueException", 400,
                 "1 validation error detected: Value 'a.out' at 'functionName' failed to satisfy "
                 "constraint: Member must satisfy regular expression pattern: " FN_PATTERN);
    snprintf(msg, sizeof msg,
             "1 validation error detected: Value '%s' at 'functionName' failed to satisfy "
             "constraint: Member must have length less than or equal to 64",
             name);
    expect_error(name, NULL, ARN_FN_CREATE, "InvalidParameterValueException", 400, msg);
    /* Anything else that breaks the pattern is a ValidationException. */
    expect_error("my fn", NULL, ARN_FN_CREATE, "ValidationException", 400,
                 "1 validation error detected: Value 'my fn' at 'functionName' failed to satisfy "
                 "constraint: Member must satisfy regular expression pattern: " FN_PATTERN);
    free(name);
    assert_no_leaks();
}

Test(arn_create, qualified_or_regional_names_cannot_be_created)
{
    static const char *const bad[] = {"f:1", "f:$LATEST", "us-east-1:f",
                                      "arn:aws:lambda:us-east-1:123456789012:function:f:prod"};
    char msg[1024];
    size_t i;

    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(msg, sizeof msg,
                 "1 validation error detected: Value '%s' at 'functionName' failed to satisfy "
                 "constraint: Member must satisfy regular expression pattern: " FN_PATTERN,
                 bad[i]);
        expect_error(bad[i], NULL, ARN_FN_CREATE, "ValidationException", 400, msg);
    }
}

Test(arn_create, full_arn_name_over_64_and_other_scopes)
{
    char name[200], msg[512];

    snprintf(name, sizeof name, "arn:aws:lambda:us-east-1:123456789012:function:%065d", 7);
    snprintf(msg, sizeof msg,
             "1 validation error detected: Value '%065d' at 'functionName' failed to satisfy "
             "constraint: Member must have length less than or equal to 64",
             7);
    expect_error(name, NULL, ARN_FN_CREATE, "InvalidParameterValueException", 400, msg);
    expect_error("arn:aws:lambda:eu-west-1:123456789012:function:f", NULL, ARN_FN_CREATE,
                 "ResourceNotFoundException", 404,
                 "Functions from 'eu-west-1' are not reachable in this region ('us-east-1')");
    {
        struct api_error e = {0};
        struct arn_function f;
        struct arn_function_request rq = {.name = "111111111111:function:f",
                                          .name_len = 23,
                                          .shape = ARN_FN_CREATE,
                                          .action = "lambda:CreateFunction"};

        cr_assert_eq(arn_resolve_function(&rq, &scope, &f, &e), -EINVAL);
        cr_assert_str_eq(e.message,
                         "User: arn:aws:iam::123456789012:root is not authorized to perform: "
                         "lambda:CreateFunction on resource: "
                         "arn:aws:lambda:us-east-1:111111111111:function:f because no "
                         "resource-based policy allows the lambda:CreateFunction action");
        arn_error_fini(&e);
    }
    assert_no_leaks();
}

Test(arn_create, violation_helpers)
{
    struct arn_violations v = {0};
    struct api_error e = {0};

    cr_assert_str_eq(arn_function_violation_type("a.b", 3, ARN_FN_CREATE),
                     "InvalidParameterValueException");
    cr_assert_str_eq(arn_function_violation_type("a b", 3, ARN_FN_CREATE), "ValidationException");
    cr_assert_str_eq(arn_function_violation_type("a.b", 3, ARN_FN_NAME), "ValidationException");
    arn_add_function_violations(&v, "ok", 2, ARN_FN_NAME);
    cr_assert_eq(v.count, 0);
    arn_add_function_violations(&v, "a b", 3, ARN_FN_NAME);
    cr_assert_eq(v.count, 1);
    cr_assert_eq(arn_violations_report(&v, "ValidationException", &e), -EINVAL);
    cr_assert_str_eq(e.message,
                     "1 validation error detected: Value 'a b' at 'functionName' failed to "
                     "satisfy constraint: Member must satisfy regular expression pattern: " FN_PATTERN);
    cr_assert_null(v.text, "report frees the list");
    arn_error_fini(&e);
    assert_no_leaks();
}

/* ---- alias names ------------------------------------------------------------------- */

Test(arn_alias, accepted_and_refused)
{
    static const char *const good[] = {"prod", "a", "1a", "a1", "-", "_", "LIVE_2-x"};
    char *long_name = repeat('a', 129), msg[512];
    struct api_error e = {0};
    size_t i;

    for (i = 0; i < sizeof good / sizeof good[0]; i++)
        cr_assert_eq(arn_check_alias_name(good[i], strlen(good[i]), &e), 0, "%s refused", good[i]);
    long_name[128] = '\0';
    cr_assert_eq(arn_check_alias_name(long_name, 128, &e), 0);
    cr_assert_null(e.message);

    cr_assert_eq(arn_check_alias_name("123", 3, &e), -EINVAL);
    cr_assert_str_eq(e.type, "ValidationException");
    cr_assert_eq(e.status, 400);
    cr_assert_str_eq(e.message,
                     "1 validation error detected: Value '123' at 'name' failed to satisfy "
                     "constraint: Member must satisfy regular expression pattern: "
                     "(?!^[0-9]+$)([a-zA-Z0-9-_]+)");
    cr_assert_eq(arn_check_alias_name("a.b", 3, &e), -EINVAL);
    cr_assert_str_eq(e.message,
                     "1 validation error detected: Value 'a.b' at 'name' failed to satisfy "
                     "constraint: Member must satisfy regular expression pattern: "
                     "(?!^[0-9]+$)([a-zA-Z0-9-_]+)");
    cr_assert_eq(arn_check_alias_name("", 0, &e), -EINVAL);
    cr_assert_str_eq(e.message,
                     "2 validation errors detected: Value '' at 'name' failed to satisfy "
                     "constraint: Member must have length greater than or equal to 1; Value '' "
                     "at 'name' failed to satisfy constraint: Member must satisfy regular "
                     "expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)");
    long_name[128] = 'a';
    cr_assert_eq(arn_check_alias_name(long_name, 129, &e), -EINVAL);
    snprintf(msg, sizeof msg,
             "1 validation error detected: Value '%s' at 'name' failed to satisfy constraint: "
             "Member must have length less than or equal to 128",
             long_name);
    cr_assert_str_eq(e.message, msg);
    arn_error_fini(&e);
    free(long_name);
    assert_no_leaks();
}

/* ---- layers ----------------------------------------------------------------------------- */

static int resolve_layer(const char *s, struct arn_layer *l, struct api_error *e)
{
    size_t n = strlen(s);
    char *p = dup_exact(s, n);
    int rc = arn_resolve_layer_name(p, n, &scope, "lambda:PublishLayerVersion", l, e);

    free(p);
    return rc;
}

Test(arn_layer, layer_names_and_arns)
{
    struct arn_layer l;
    struct api_error e = {0};

    cr_assert_eq(resolve_layer("my-layer_1", &l, &e), 0);
    cr_assert(!l.is_arn);
    cr_assert_str_eq(l.name, "my-layer_1");
    cr_assert(!l.has_version);
    cr_assert_eq(resolve_layer("arn:aws:lambda:us-east-1:123456789012:layer:my-layer", &l, &e), 0);
    cr_assert(l.is_arn);
    cr_assert_str_eq(l.partition, "aws");
    cr_assert_str_eq(l.region, "us-east-1");
    cr_assert_str_eq(l.account, "123456789012");
    cr_assert_str_eq(l.name, "my-layer");
    cr_assert_null(e.message);
}

Test(arn_layer, refused_layer_names)
{
    static const char *const bad[] = {
        "my.layer", "a b", "arn:aws:lambda:us-east-1:123456789012:layer:l:1",
        "arn::lambda:us-east-1:123456789012:layer:l", "arn:aws:lambda::123456789012:layer:l",
        "arn:aws:lambda:us-east-1:12345678901:layer:l", "arn:aws:lambda:us-east-1:123456789012:layer:",
        "arn:aws:lambda:us-east-1:123456789012:function:l", "arn:aws:s3:us-east-1:123456789012:layer:l"};
    struct arn_layer l;
    struct api_error e = {0};
    char msg[1024], *long_name = repeat('x', 141);
    size_t i;

    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert_eq(resolve_layer(bad[i], &l, &e), -EINVAL, "%s accepted", bad[i]);
        snprintf(msg, sizeof msg,
                 "1 validation error detected: Value '%s' at 'layerName' failed to satisfy "
                 "constraint: Member must satisfy regular expression pattern: " LAYER_NAME_PATTERN,
                 bad[i]);
        cr_assert_str_eq(e.type, "ValidationException");
        cr_assert_str_eq(e.message, msg);
    }
    cr_assert_eq(resolve_layer(long_name, &l, &e), -EINVAL);
    snprintf(msg, sizeof msg,
             "1 validation error detected: Value '%s' at 'layerName' failed to satisfy "
             "constraint: Member must have length less than or equal to 140",
             long_name);
    cr_assert_str_eq(e.message, msg);
    cr_assert_eq(resolve_layer("", &l, &e), -EINVAL);
    cr_assert_str_eq(e.message,
                     "2 validation errors detected: Value '' at 'layerName' failed to satisfy "
                     "constraint: Member must have length greater than or equal to 1; Value '' at "
                     "'layerName' failed to satisfy constraint: Member must satisfy regular "
                     "expression pattern: " LAYER_NAME_PATTERN);
    arn_error_fini(&e);
    free(long_name);
    assert_no_leaks();
}

Test(arn_layer, other_account_and_region)
{
    struct arn_layer l;
    struct api_error e = {0};

    cr_assert_eq(resolve_layer("arn:aws:lambda:us-east-1:999999999999:layer:l", &l, &e), -EINVAL);
    cr_assert_str_eq(e.type, "AccessDeniedException");
    cr_assert_eq(e.status, 403);
    cr_assert_str_eq(e.message,
                     "User: arn:aws:iam::123456789012:root is not authorized to perform: "
                     "lambda:PublishLayerVersion on resource: "
                     "arn:aws:lambda:us-east-1:999999999999:layer:l because no resource-based "
                     "policy allows the lambda:PublishLayerVersion action");
    cr_assert_eq(resolve_layer("arn:aws:lambda:eu-west-1:123456789012:layer:l", &l, &e), -EINVAL);
    cr_assert_str_eq(e.type, "ResourceNotFoundException");
    cr_assert_eq(e.status, 404);
    cr_assert_str_eq(e.message, "The resource you requested does not exist.");
    arn_error_fini(&e);
    assert_no_leaks();
}

Test(arn_layer, version_arns)
{
    struct arn_layer l;
    const char *s = "arn:aws:lambda:us-east-1:123456789012:layer:my-layer:12";
    char big[200];

    cr_assert(arn_parse_layer_version_arn(s, strlen(s), &l));
    cr_assert(l.is_arn && l.has_version);
    cr_assert_eq(l.version, 12);
    cr_assert_str_eq(l.name, "my-layer");
    cr_assert_str_eq(l.region, "us-east-1");
    /* Regions and partitions are [a-zA-Z0-9-]+ here, looser than for functions. */
    s = "arn:aws-cn:lambda:Region9:123456789012:layer:l:0";
    cr_assert(arn_parse_layer_version_arn(s, strlen(s), &l));
    cr_assert_eq(l.version, 0);
    s = "arn:aws:lambda:us-east-1:123456789012:layer:l:18446744073709551615";
    cr_assert(arn_parse_layer_version_arn(s, strlen(s), &l));
    cr_assert_eq(l.version, UINT64_MAX);
    snprintf(big, sizeof big, "arn:aws:lambda:us-east-1:123456789012:layer:l:%s",
             "99999999999999999999999999999999");
    cr_assert(arn_parse_layer_version_arn(big, strlen(big), &l));
    cr_assert_eq(l.version, UINT64_MAX, "saturates: no such version can exist");

    cr_assert(!arn_parse_layer_version_arn("arn:aws:lambda:us-east-1:123456789012:layer:l", 45, &l));
    s = "arn:aws:lambda:us-east-1:123456789012:layer:l:";
    cr_assert(!arn_parse_layer_version_arn(s, strlen(s), &l));
    s = "arn:aws:lambda:us-east-1:123456789012:layer:l:1a";
    cr_assert(!arn_parse_layer_version_arn(s, strlen(s), &l));
    s = "arn:aws:lambda:us-east-1:123456789012:layer:l:1:2";
    cr_assert(!arn_parse_layer_version_arn(s, strlen(s), &l));
    s = "arn:aws:lambda:us_east_1:123456789012:layer:l:1";
    cr_assert(!arn_parse_layer_version_arn(s, strlen(s), &l));
    snprintf(big, sizeof big, "arn:aws:lambda:us-east-1:123456789012:layer:%0100d:1", 5);
    cr_assert(!arn_parse_layer_version_arn(big, strlen(big), &l), "over 140 accepted");
}

/* ---- building ARNs ------------------------------------------------------------------------ */

Test(arn_build, function_and_layer_arns)
{
    char buf[ARN_BUF_SIZE];
    struct arn_scope cn = {.partition = "aws-cn", .region = "cn-north-1", .account = "000000000000"};

    cr_assert_eq(arn_function(buf, sizeof buf, &scope, "f", NULL), 48);
    cr_assert_str_eq(buf, "arn:aws:lambda:us-east-1:123456789012:function:f");
    cr_assert_eq(arn_function(buf, sizeof buf, &scope, "f", ""), 48);
    cr_assert_str_eq(buf, "arn:aws:lambda:us-east-1:123456789012:function:f");
    arn_function(buf, sizeof buf, &scope, "f", "$LATEST");
    cr_assert_str_eq(buf, "arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST");
    arn_function(buf, sizeof buf, &cn, "f", "3");
    cr_assert_str_eq(buf, "arn:aws-cn:lambda:cn-north-1:000000000000:function:f:3");
    cr_assert_eq(arn_layer(buf, sizeof buf, &scope, "l"), 45);
    cr_assert_str_eq(buf, "arn:aws:lambda:us-east-1:123456789012:layer:l");
    arn_layer_version(buf, sizeof buf, &scope, "l", 18446744073709551615ull);
    cr_assert_str_eq(buf, "arn:aws:lambda:us-east-1:123456789012:layer:l:18446744073709551615");
}

Test(arn_build, capacity)
{
    char *buf = malloc(49);

    cr_assert_not_null(buf);
    cr_assert_eq(arn_function(buf, 48, &scope, "f", NULL), -ENOSPC);
    cr_assert_eq(arn_function(buf, 49, &scope, "f", NULL), 48);
    cr_assert_str_eq(buf, "arn:aws:lambda:us-east-1:123456789012:function:f");
    cr_assert_eq(arn_layer(buf, 45, &scope, "l"), -ENOSPC);
    cr_assert_eq(arn_layer(buf, 46, &scope, "l"), 45);
    cr_assert_eq(arn_layer_version(buf, 48, &scope, "l", 10), -ENOSPC);
    cr_assert_eq(arn_layer_version(buf, 48, &scope, "l", 1), 47);
    cr_assert_str_eq(buf, "arn:aws:lambda:us-east-1:123456789012:layer:l:1");
    free(buf);
}

Test(arn_build, parsed_parts_rebuild_the_arn)
{
    static const char *const arns[] = {
        "arn:aws:lambda:us-east-1:123456789012:function:f",
        "arn:aws:lambda:us-east-1:123456789012:function:my-fn:$LATEST",
        "arn:aws:lambda:us-east-1:123456789012:function:my-fn:prod",
        "arn:aws:lambda:us-east-1:123456789012:function:my-fn:99"};
    char buf[ARN_BUF_SIZE];
    struct arn_function f;
    size_t i;

    for (i = 0; i < sizeof arns / sizeof arns[0]; i++) {
        expect_ok(arns[i], NULL, ARN_FN_NAMESPACED, &f);
        cr_assert_gt(arn_function(buf, sizeof buf, &scope, f.name, f.qualifier), 0);
        cr_assert_str_eq(buf, arns[i]);
    }
}

/* ---- the error record ----------------------------------------------------------------------- */

Test(arn_error, set_replaces_and_fini_clears)
{
    struct api_error e = {0};

    arn_error_fini(&e);
    cr_assert_eq(arn_error_set(&e, "ResourceNotFoundException", 404, "Function not found: %s",
                               "arn:aws:lambda:us-east-1:123456789012:function:f"),
                 -EINVAL);
    cr_assert_str_eq(e.message, "Function not found: arn:aws:lambda:us-east-1:123456789012:function:f");
    cr_assert_eq(arn_error_set(&e, "ServiceException", 500, "x"), -EINVAL);
    cr_assert_str_eq(e.type, "ServiceException");
    cr_assert_eq(e.status, 500);
    cr_assert_str_eq(e.message, "x");
    arn_error_fini(&e);
    cr_assert_null(e.message);
    cr_assert_null(e.type);
    cr_assert_eq(e.status, 0);
    arn_error_fini(&e);
    assert_no_leaks();
}

Test(arn_error, violations_report)
{
    struct arn_violations v = {0};
    struct api_error e = {0};

    cr_assert_eq(arn_violations_report(&v, "ValidationException", &e), 0);
    cr_assert_null(e.message);
    arn_violation_add(&v, ARN_VALUE_NULL, NULL, 0, "role", "Member must not be null");
    arn_violation_add(&v, ARN_VALUE_HIDDEN, NULL, 0, "environment.variables", "C");
    arn_violation_add(&v, ARN_VALUE_TEXT, "it's", 4, "x", "D");
    cr_assert_eq(arn_violations_report(&v, "ValidationException", &e), -EINVAL);
    cr_assert_str_eq(e.message,
                     "3 validation errors detected: Value null at 'role' failed to satisfy "
                     "constraint: Member must not be null; Value at 'environment.variables' "
                     "failed to satisfy constraint: C; Value 'it's' at 'x' failed to satisfy "
                     "constraint: D");
    cr_assert_eq(v.count, 0);
    arn_violation_add(&v, ARN_VALUE_TEXT, "a", 1, "y", "E");
    arn_violations_fini(&v);
    cr_assert_null(v.text);
    arn_error_fini(&e);
    assert_no_leaks();
}
