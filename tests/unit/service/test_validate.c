/* tests/unit/service/test_validate.c: Lambda's checks on CreateFunction,
 * UpdateFunctionConfiguration, UpdateFunctionCode, PublishVersion,
 * CreateAlias, UpdateAlias, PublishLayerVersion bodies and Invoke headers
 * (src/service/validate.h).
 *
 * Bodies are written as JSON text, as a client sends them. Accepted ones are
 * compared with the whole normalised copy (compact JSON, member order kept);
 * refused ones with the exact error type, status and message. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/base64.h"
#include "service/validate.h"

#include "../checks.h"

/* ---- helpers ------------------------------------------------------------ */

static const struct arn_scope scope = {.region = "us-east-1", .account = "123456789012"};
static const char *const runtimes[] = {"python3.12", "nodejs20.x", "provided.al2023", NULL};
static const struct validate_context ctx = {.runtimes = runtimes, .arch = "x86_64", .scope = &scope};

#define ROLE "arn:aws:iam::123456789012:role/r"
/* The smallest body CreateFunction takes; "UEsFBg==" is base64 of "PK\5\6". */
#define BASE "\"FunctionName\":\"f1\",\"Runtime\":\"python3.12\",\"Role\":\"" ROLE \
             "\",\"Handler\":\"index.handler\",\"Code\":{\"ZipFile\":\"UEsFBg==\"}"
#define DEFAULTS                                                                                \
    "\"Description\":\"\",\"Timeout\":3,\"MemorySize\":128,\"Publish\":false,\"PackageType\":" \
    "\"Zip\",\"Architectures\":[\"x86_64\"],\"EphemeralStorage\":{\"Size\":512},"            \
    "\"TracingConfig\":{\"Mode\":\"PassThrough\"},\"SnapStart\":{\"ApplyOn\":\"None\"},"    \
    "\"LoggingConfig\":{\"LogFormat\":\"Text\",\"LogGroup\":\"/aws/lambda/f1\"}"
#define BASE_OUT "{\"FunctionName\":\"f1\",\"Runtime\":\"python3.12\",\"Role\":\"" ROLE \
                 "\",\"Handler\":\"index.handler\",\"Code\":{\"ZipFile\":\"UEsFBg==\"}," DEFAULTS

enum op { CREATE, UPDATE_CONFIG, UPDATE_CODE, PUBLISH_VERSION, CREATE_ALIAS, UPDATE_ALIAS, LAYER };

static json_t *parse(const char *text)
{
    json_error_t je;
    json_t *j;

    if (!text)
        return NULL;
    j = json_loads(text, JSON_DECODE_ANY, &je);
    cr_assert_not_null(j, "test JSON: %s: %s", text, je.text);
    return j;
}

static int run_with(enum op op, const struct validate_context *c, const json_t *body,
                    json_t **out, struct api_error *e)
{
    switch (op) {
    case CREATE:
        return validate_create_function(body, c, out, e);
    case UPDATE_CONFIG:
        return validate_update_function_configuration(body, c, out, e);
    case UPDATE_CODE:
        return validate_update_function_code(body, c, out, e);
    case PUBLISH_VERSION:
        return validate_publish_version(body, out, e);
    case CREATE_ALIAS:
        return validate_create_alias(body, out, e);
    case UPDATE_ALIAS:
        return validate_update_alias(body, out, e);
    case LAYER:
    default:
        return validate_publish_layer_version(body, c, out, e);
    }
}

/* Runs op on body and compares the copy, as compact JSON, with want. */
static void ok_with(enum op op, const struct validate_context *c, const char *body,
                    const char *want)
{
    json_t *b = parse(body), *out = (json_t *) 1;
    struct api_error e = {0};
    char *got;

    cr_assert_eq(run_with(op, c, b, &out, &e), 0, "%s refused: %s: %s", body ? body : "(none)",
                 e.type, e.message);
    cr_assert_null(e.message);
    cr_assert_not_null(out);
    got = json_dumps(out, JSON_COMPACT);
    cr_assert_not_null(got);
    cr_assert_str_eq(got, want);
    free(got);
    json_decref(out);
    json_decref(b);
}

static void ok(enum op op, const char *body, const char *want)
{
    ok_with(op, &ctx, body, want);
}

static void refused_with(enum op op, const struct validate_context *c, const char *body,
                         const char *type, int status, const char *message)
{
    json_t *b = parse(body), *out = (json_t *) 1;
    struct api_error e = {0};

    cr_assert_eq(run_with(op, c, b, &out, &e), -EINVAL, "%s accepted", body ? body : "(none)");
    cr_assert_null(out, "copy left behind on failure");
    cr_assert_str_eq(e.type, type, "%s: %s", body ? body : "(none)", e.message);
    cr_assert_eq(e.status, status);
    cr_assert_str_eq(e.message, message);
    arn_error_fini(&e);
    json_decref(b);
}

static void refused(enum op op, const char *body, const char *type, int status,
                    const char *message)
{
    refused_with(op, &ctx, body, type, status, message);
}

/* For bodies built at run time. */
static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
    va_list ap;
    char *s = NULL;

    va_start(ap, f);
    cr_assert_geq(vasprintf(&s, f, ap), 0);
    va_end(ap);
    return s;
}

static char *repeat(const char *unit, size_t n)
{
    size_t k = strlen(unit), i;
    char *s = malloc(k * n + 1);

    cr_assert_not_null(s);
    for (i = 0; i < n; i++)
        memcpy(s + i * k, unit, k);
    s[k * n] = '\0';
    return s;
}

static const char ipve[] = "InvalidParameterValueException";
static const char vex[] = "ValidationException";
static const char sex[] = "SerializationException";

/* ---- CreateFunction: accepted ------------------------------------------------- */

Test(create, minimal_body_gets_every_default)
{
    ok(CREATE, "{" BASE "}", BASE_OUT "}");
    assert_no_leaks();
}

Test(create, full_body_is_normalised)
{
    ok(CREATE,
       "{\"FunctionName\":\"arn:aws:lambda:us-east-1:123456789012:function:f1\","
       "\"Runtime\":\"nodejs20.x\",\"Role\":\"" ROLE "\",\"Handler\":\"index.handler\","
       "\"Code\":{\"ZipFile\":\"UEsFBg==\"},\"Description\":\"d\",\"Timeout\":30.0,"
       "\"MemorySize\":1e3,\"Publish\":true,\"PackageType\":\"Zip\","
       "\"Environment\":{\"Variables\":{\"AB\":\"b\",\"TZ\":\"Asia/Tokyo\"}},"
       "\"Layers\":[\"arn:aws:lambda:us-east-1:123456789012:layer:l:1\"],"
       "\"Architectures\":[\"x86_64\"],\"EphemeralStorage\":{\"Size\":10240},"
       "\"TracingConfig\":{\"Mode\":\"Active\"},\"SnapStart\":{\"ApplyOn\":\"PublishedVersions\"},"
       "\"LoggingConfig\":{\"LogFormat\":\"JSON\",\"SystemLogLevel\":\"WARN\"},"
       "\"VpcConfig\":{\"SubnetIds\":[\"subnet-1\"]},"
       "\"DeadLetterConfig\":{\"TargetArn\":\"arn:aws:sqs:us-east-1:123456789012:q\"},"
       "\"KMSKeyArn\":\"\",\"Tags\":{\"k\":\"v\"}}",
       "{\"FunctionName\":\"f1\",\"Runtime\":\"nodejs20.x\",\"Role\":\"" ROLE
       "\",\"Handler\":\"index.handler\",\"Code\":{\"ZipFile\":\"UEsFBg==\"},"
       "\"Description\":\"d\",\"Timeout\":30,\"MemorySize\":1000,\"Publish\":true,"
       "\"PackageType\":\"Zip\",\"Architectures\":[\"x86_64\"],"
       "\"EphemeralStorage\":{\"Size\":10240},\"TracingConfig\":{\"Mode\":\"Active\"},"
       "\"SnapStart\":{\"ApplyOn\":\"PublishedVersions\"},"
       "\"LoggingConfig\":{\"LogFormat\":\"JSON\",\"ApplicationLogLevel\":\"INFO\","
       "\"SystemLogLevel\":\"WARN\",\"LogGroup\":\"/aws/lambda/f1\"},"
       "\"Environment\":{\"Variables\":{\"AB\":\"b\",\"TZ\":\"Asia/Tokyo\"}},"
       "\"Layers\":[\"arn:aws:lambda:us-east-1:123456789012:layer:l:1\"],"
       "\"VpcConfig\":{\"SubnetIds\":[\"subnet-1\"],\"SecurityGroupIds\":[]},"
       "\"DeadLetterConfig\":{\"TargetArn\":\"arn:aws:sqs:us-east-1:123456789012:q\"},"
       "\"KMSKeyArn\":\"\",\"Tags\":{\"k\":\"v\"}}");
    assert_no_leaks();
}

Test(create, nulls_are_absent_and_unknown_members_ignored)
{
    ok(CREATE,
       "{" BASE ",\"Description\":null,\"Timeout\":null,\"Environment\":null,\"Frobnicate\":[1],"
       "\"DurableConfig\":{\"x\":1},\"TracingConfig\":{\"Mode\":null,\"Other\":2}}",
       BASE_OUT "}");
    ok(CREATE, "{" BASE ",\"Environment\":{},\"LoggingConfig\":{\"LogGroup\":\"/custom/g#1\"}}",
       "{\"FunctionName\":\"f1\",\"Runtime\":\"python3.12\",\"Role\":\"" ROLE
       "\",\"Handler\":\"index.handler\",\"Code\":{\"ZipFile\":\"UEsFBg==\"},"
       "\"Description\":\"\",\"Timeout\":3,\"MemorySize\":128,\"Publish\":false,"
       "\"PackageType\":\"Zip\",\"Architectures\":[\"x86_64\"],\"EphemeralStorage\":{\"Size\":512},"
       "\"TracingConfig\":{\"Mode\":\"PassThrough\"},\"SnapStart\":{\"ApplyOn\":\"None\"},"
       "\"LoggingConfig\":{\"LogFormat\":\"Text\",\"LogGroup\":\"/custom/g#1\"},"
       "\"Environment\":{\"Variables\":{}}}");
    assert_no_leaks();
}

Test(create, default_architecture_is_the_hosts)
{
    static const struct validate_context arm = {
        .runtimes = runtimes, .arch = "arm64", .scope = &scope};
    json_t *b = parse("{" BASE "}"), *out = NULL;
    struct api_error e = {0};

    cr_assert_eq(validate_create_function(b, &arm, &out, &e), 0);
    cr_assert_str_eq(json_string_value(json_array_get(json_object_get(out, "Architectures"), 0)),
                     "arm64");
    json_decref(out);
    json_decref(b);
    ok_with(CREATE, &arm, "{" BASE ",\"Architectures\":[\"arm64\"]}",
            "{\"FunctionName\":\"f1\",\"Runtime\":\"python3.12\",\"Role\":\"" ROLE
            "\",\"Handler\":\"index.handler\",\"Code\":{\"ZipFile\":\"UEsFBg==\"},"
            "\"Description\":\"\",\"Timeout\":3,\"MemorySize\":128,\"Publish\":false,"
            "\"PackageType\":\"Zip\",\"Architectures\":[\"arm64\"],"
            "\"EphemeralStorage\":{\"Size\":512},\"TracingConfig\":{\"Mode\":\"PassThrough\"},"
            "\"SnapStart\":{\"ApplyOn\":\"None\"},"
            "\"LoggingConfig\":{\"LogFormat\":\"Text\",\"LogGroup\":\"/aws/lambda/f1\"}}");
    assert_no_leaks();
}

Test(create, boundaries_are_inclusive)
{
    char *desc = repeat("d", 256), *body, *handler = repeat("h", 128);
    json_t *out = NULL, *b;
    struct api_error e = {0};

    body = fmt("{" BASE ",\"Description\":\"%s\",\"Timeout\":900,\"MemorySize\":10240,"
               "\"EphemeralStorage\":{\"Size\":512}}",
               desc);
    b = parse(body);
    cr_assert_eq(validate_create_function(b, &ctx, &out, &e), 0, "%s", e.message);
    json_decref(out);
    json_decref(b);
    free(body);
    body = fmt("{\"FunctionName\":\"f\",\"Runtime\":\"python3.12\",\"Role\":\"" ROLE
               "\",\"Handler\":\"%s\",\"Code\":{\"ZipFile\":\"UEsFBg==\"},\"Timeout\":1,"
               "\"MemorySize\":128}",
               handler);
    b = parse(body);
    cr_assert_eq(validate_create_function(b, &ctx, &out, &e), 0, "%s", e.message);
    json_decref(out);
    json_decref(b);
    free(body);
    free(desc);
    free(handler);
    assert_no_leaks();
}

Test(create, lengths_count_utf16_units_as_java_does)
{
    /* 256 two-byte characters are 512 bytes but 256 units: allowed. */
    char *desc = repeat("\xc3\xa9", 256), *body = fmt("{" BASE ",\"Description\":\"%s\"}", desc);
    json_t *b = parse(body), *out = NULL;
    struct api_error e = {0};

    cr_assert_eq(validate_create_function(b, &ctx, &out, &e), 0, "%s", e.message);
    json_decref(out);
    json_decref(b);
    free(body);
    free(desc);
    /* 129 characters outside the BMP are 258 units. */
    desc = repeat("\xf0\x9f\x98\x80", 129);
    body = fmt("{" BASE ",\"Description\":\"%s\"}", desc);
    b = parse(body);
    cr_assert_eq(validate_create_function(b, &ctx, &out, &e), -EINVAL);
    cr_assert_str_eq(e.type, vex);
    arn_error_fini(&e);
    json_decref(b);
    free(body);
    free(desc);
    assert_no_leaks();
}

Test(create, accepted_roles)
{
    static const char *const roles[] = {
        "arn:aws:iam::123456789012:role/r", "arn:aws:iam::123456789012:role/path/to/r+=,.@-_",
        "arn:aws-cn:iam::123456789012:role/r", "arn::iam::123456789012:role/r",
        "arn:aws:iam::123456789012:roler", "arn:aws:iam::123456789012:role/"};
    size_t i;

    for (i = 0; i < sizeof roles / sizeof roles[0]; i++) {
        char *body = fmt("{\"FunctionName\":\"f\",\"Runtime\":\"python3.12\",\"Role\":\"%s\","
                         "\"Handler\":\"h\",\"Code\":{\"ZipFile\":\"UEsFBg==\"}}",
                         roles[i]);
        json_t *b = parse(body), *out = NULL;
        struct api_error e = {0};

        cr_assert_eq(validate_create_function(b, &ctx, &out, &e), 0, "%s: %s", roles[i], e.message);
        json_decref(out);
        json_decref(b);
        free(body);
    }
    assert_no_leaks();
}

/* ---- CreateFunction: JSON types ----------------------------------------------------- */

Test(create, wrong_json_types_are_serialization_errors)
{
    refused(CREATE, "{" BASE ",\"Timeout\":\"3\"}", sex, 400,
            "STRING_VALUE can not be converted to an Integer");
    refused(CREATE, "{" BASE ",\"MemorySize\":true}", sex, 400,
            "TRUE_VALUE can not be converted to an Integer");
    refused(CREATE, "{" BASE ",\"MemorySize\":128.5}", sex, 400,
            "NUMBER_VALUE can not be converted to an Integer");
    refused(CREATE, "{" BASE ",\"Description\":5}", sex, 400,
            "NUMBER_VALUE can not be converted to a String");
    refused(CREATE, "{" BASE ",\"Publish\":\"true\"}", sex, 400,
            "STRING_VALUE can not be converted to a Boolean");
    refused(CREATE, "{" BASE ",\"Publish\":0}", sex, 400,
            "NUMBER_VALUE can not be converted to a Boolean");
    refused(CREATE, "{" BASE ",\"Handler\":false}", sex, 400,
            "FALSE_VALUE can not be converted to a String");
    refused(CREATE, "{" BASE ",\"Layers\":{}}", sex, 400,
            "Start of structure or map found where not expected.");
    refused(CREATE, "{" BASE ",\"TracingConfig\":[]}", sex, 400,
            "Start of list found where not expected");
    refused(CREATE, "{" BASE ",\"TracingConfig\":5}", sex, 400,
            "NUMBER_VALUE can not be converted to a Structure");
    refused(CREATE, "{" BASE ",\"Layers\":\"x\"}", sex, 400,
            "STRING_VALUE can not be converted to a List");
    refused(CREATE, "{" BASE ",\"Tags\":\"x\"}", sex, 400,
            "STRING_VALUE can not be converted to a Map");
    refused(CREATE, "{" BASE ",\"Environment\":{\"Variables\":{\"A\":1}}}", sex, 400,
            "NUMBER_VALUE can not be converted to a String");
    refused(CREATE, "{" BASE ",\"Architectures\":[1]}", sex, 400,
            "NUMBER_VALUE can not be converted to a String");
    refused(CREATE, "{" BASE ",\"EphemeralStorage\":{\"Size\":\"1\"}}", sex, 400,
            "STRING_VALUE can not be converted to an Integer");
    refused(CREATE, "[1]", sex, 400, "Start of list found where not expected");
    refused(CREATE, "\"x\"", sex, 400, "STRING_VALUE can not be converted to a Structure");
    assert_no_leaks();
}

Test(create, types_are_checked_before_constraints)
{
    refused(CREATE, "{\"Role\":\"x\",\"Timeout\":0,\"VpcConfig\":{\"SubnetIds\":[true]}}", sex, 400,
            "TRUE_VALUE can not be converted to a String");
    assert_no_leaks();
}

/* ---- CreateFunction: model constraints ------------------------------------------------ */

Test(create, missing_required_members)
{
    refused(CREATE, NULL, vex, 400,
            "3 validation errors detected: Value null at 'functionName' failed to satisfy "
            "constraint: Member must not be null; Value null at 'role' failed to satisfy "
            "constraint: Member must not be null; Value null at 'code' failed to satisfy "
            "constraint: Member must not be null");
    refused(CREATE, "{\"FunctionName\":\"f\",\"Role\":\"" ROLE "\",\"Code\":null}", vex, 400,
            "1 validation error detected: Value null at 'code' failed to satisfy constraint: "
            "Member must not be null");
    refused(CREATE, "{" BASE ",\"EphemeralStorage\":{}}", vex, 400,
            "1 validation error detected: Value null at 'ephemeralStorage.size' failed to "
            "satisfy constraint: Member must not be null");
    assert_no_leaks();
}

Test(create, numeric_ranges)
{
    refused(CREATE, "{" BASE ",\"Timeout\":0}", vex, 400,
            "1 validation error detected: Value '0' at 'timeout' failed to satisfy constraint: "
            "Member must have value greater than or equal to 1");
    refused(CREATE, "{" BASE ",\"Timeout\":901}", vex, 400,
            "1 validation error detected: Value '901' at 'timeout' failed to satisfy constraint: "
            "Member must have value less than or equal to 900");
    refused(CREATE, "{" BASE ",\"MemorySize\":127}", vex, 400,
            "1 validation error detected: Value '127' at 'memorySize' failed to satisfy "
            "constraint: Member must have value greater than or equal to 128");
    refused(CREATE, "{" BASE ",\"MemorySize\":10241}", vex, 400,
            "1 validation error detected: Value '10241' at 'memorySize' failed to satisfy "
            "constraint: Member must have value less than or equal to 10240");
    refused(CREATE, "{" BASE ",\"MemorySize\":5555555555555}", vex, 400,
            "1 validation error detected: Value '5555555555555' at 'memorySize' failed to "
            "satisfy constraint: Member must have value less than or equal to 10240");
    refused(CREATE, "{" BASE ",\"EphemeralStorage\":{\"Size\":511}}", vex, 400,
            "1 validation error detected: Value '511' at 'ephemeralStorage.size' failed to "
            "satisfy constraint: Member must have value greater than or equal to 512");
    refused(CREATE, "{" BASE ",\"EphemeralStorage\":{\"Size\":3000000}}", vex, 400,
            "1 validation error detected: Value '3000000' at 'ephemeralStorage.size' failed to "
            "satisfy constraint: Member must have value less than or equal to 10240");
    refused(CREATE, "{" BASE ",\"Timeout\":-5,\"MemorySize\":64}", vex, 400,
            "2 validation errors detected: Value '-5' at 'timeout' failed to satisfy constraint: "
            "Member must have value greater than or equal to 1; Value '64' at 'memorySize' "
            "failed to satisfy constraint: Member must have value greater than or equal to 128");
    assert_no_leaks();
}

Test(create, strings_lengths_and_patterns)
{
    char *d = repeat("d", 257), *h = repeat("h", 129), *body, *msg;

    body = fmt("{" BASE ",\"Description\":\"%s\"}", d);
    msg = fmt("1 validation error detected: Value '%s' at 'description' failed to satisfy "
              "constraint: Member must have length less than or equal to 256",
              d);
    refused(CREATE, body, vex, 400, msg);
    free(body);
    free(msg);
    body = fmt("{\"FunctionName\":\"f\",\"Runtime\":\"python3.12\",\"Role\":\"" ROLE
               "\",\"Handler\":\"%s\",\"Code\":{\"ZipFile\":\"UEsFBg==\"}}",
               h);
    msg = fmt("1 validation error detected: Value '%s' at 'handler' failed to satisfy "
              "constraint: Member must have length less than or equal to 128",
              h);
    refused(CREATE, body, vex, 400, msg);
    free(body);
    free(msg);
    refused(CREATE,
            "{\"FunctionName\":\"f\",\"Runtime\":\"python3.12\",\"Role\":\"" ROLE
            "\",\"Handler\":\"index handler\",\"Code\":{\"ZipFile\":\"UEsFBg==\"}}",
            vex, 400,
            "1 validation error detected: Value 'index handler' at 'handler' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: [^\\s]+");
    refused(CREATE,
            "{\"FunctionName\":\"f\",\"Runtime\":\"python3.12\",\"Role\":\"" ROLE
            "\",\"Handler\":\"\",\"Code\":{\"ZipFile\":\"UEsFBg==\"}}",
            vex, 400,
            "1 validation error detected: Value '' at 'handler' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: [^\\s]+");
    refused(CREATE,
            "{\"FunctionName\":\"f\",\"Runtime\":\"python3.12\",\"Role\":\"" ROLE
            "\",\"Handler\":\"a\\tb\",\"Code\":{\"ZipFile\":\"UEsFBg==\"}}",
            vex, 400,
            "1 validation error detected: Value 'a\tb' at 'handler' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: [^\\s]+");
    free(d);
    free(h);
    assert_no_leaks();
}

Test(create, refused_roles)
{
    static const char *const roles[] = {
        "lambdarole",
        "arn:aws:iam::12345678901:role/r",
        "arn:aws:iam::123456789012:role",
        "arn:aws:iam::123456789012:user/r",
        "arn:aws:iam:us-east-1:123456789012:role/r",
        "arn:azure:iam::123456789012:role/r",
        "arn:aws:iam::123456789012:role/a b",
        "arn:aws:iam::123456789012:role/a*"};
    size_t i;

    for (i = 0; i < sizeof roles / sizeof roles[0]; i++) {
        char *body = fmt("{\"FunctionName\":\"f\",\"Runtime\":\"python3.12\",\"Role\":\"%s\","
                         "\"Handler\":\"h\",\"Code\":{\"ZipFile\":\"UEsFBg==\"}}",
                         roles[i]);
        char *msg = fmt("1 validation error detected: Value '%s' at 'role' failed to satisfy "
                        "constraint: Member must satisfy regular expression pattern: "
                        "arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+",
                        roles[i]);

        refused(CREATE, body, vex, 400, msg);
        free(body);
        free(msg);
    }
    assert_no_leaks();
}

Test(create, enums)
{
    refused(CREATE, "{" BASE ",\"PackageType\":\"zip\"}", vex, 400,
            "1 validation error detected: Value 'zip' at 'packageType' failed to satisfy "
            "constraint: Member must satisfy enum value set: [Zip, Image]");
    refused(CREATE, "{" BASE ",\"TracingConfig\":{\"Mode\":\"On\"}}", vex, 400,
            "1 validation error detected: Value 'On' at 'tracingConfig.mode' failed to satisfy "
            "constraint: Member must satisfy enum value set: [Active, PassThrough]");
    refused(CREATE, "{" BASE ",\"SnapStart\":{\"ApplyOn\":\"All\"}}", vex, 400,
            "1 validation error detected: Value 'All' at 'snapStart.applyOn' failed to satisfy "
            "constraint: Member must satisfy enum value set: [PublishedVersions, None]");
    refused(CREATE,
            "{" BASE ",\"LoggingConfig\":{\"LogFormat\":\"XML\",\"ApplicationLogLevel\":\"x\","
            "\"SystemLogLevel\":\"ERROR\",\"LogGroup\":\"a b\"}}",
            vex, 400,
            "4 validation errors detected: Value 'XML' at 'loggingConfig.logFormat' failed to "
            "satisfy constraint: Member must satisfy enum value set: [JSON, Text]; Value 'x' at "
            "'loggingConfig.applicationLogLevel' failed to satisfy constraint: Member must "
            "satisfy enum value set: [TRACE, DEBUG, INFO, WARN, ERROR, FATAL]; Value 'ERROR' at "
            "'loggingConfig.systemLogLevel' failed to satisfy constraint: Member must satisfy "
            "enum value set: [DEBUG, INFO, WARN]; Value 'a b' at 'loggingConfig.logGroup' failed "
            "to satisfy constraint: Member must satisfy regular expression pattern: "
            "[\\.\\-_/#A-Za-z0-9]+");
    refused(CREATE, "{" BASE ",\"KMSKeyArn\":\"key\"}", vex, 400,
            "1 validation error detected: Value 'key' at 'kMSKeyArn' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: "
            "(arn:(aws[a-zA-Z-]*)?:[a-z0-9-.]+:.*)|()");
    refused(CREATE, "{" BASE ",\"DeadLetterConfig\":{\"TargetArn\":\"arn:aws:SQS:x\"}}", vex, 400,
            "1 validation error detected: Value 'arn:aws:SQS:x' at 'deadLetterConfig.targetArn' "
            "failed to satisfy constraint: Member must satisfy regular expression pattern: "
            "(arn:(aws[a-zA-Z-]*)?:[a-z0-9-.]+:.*)|()");
    assert_no_leaks();
}

Test(create, architectures_list)
{
    refused(CREATE, "{" BASE ",\"Architectures\":[]}", vex, 400,
            "1 validation error detected: Value '[]' at 'architectures' failed to satisfy "
            "constraint: Member must have length greater than or equal to 1");
    refused(CREATE, "{" BASE ",\"Architectures\":[\"x86_64\",\"arm64\"]}", vex, 400,
            "1 validation error detected: Value '[x86_64, arm64]' at 'architectures' failed to "
            "satisfy constraint: Member must have length less than or equal to 1");
    refused(CREATE, "{" BASE ",\"Architectures\":[\"amd64\"]}", vex, 400,
            "1 validation error detected: Value '[amd64]' at 'architectures' failed to satisfy "
            "constraint: Member must satisfy constraint: [Member must satisfy enum value set: "
            "[x86_64, arm64], Member must not be null]");
    refused(CREATE, "{" BASE ",\"Architectures\":[null]}", vex, 400,
            "1 validation error detected: Value '[null]' at 'architectures' failed to satisfy "
            "constraint: Member must satisfy constraint: [Member must satisfy enum value set: "
            "[x86_64, arm64], Member must not be null]");
    assert_no_leaks();
}

Test(create, vpc_lists)
{
    char *subnets = repeat("\"s\",", 17), *body;

    subnets[strlen(subnets) - 1] = '\0';
    body = fmt("{" BASE ",\"VpcConfig\":{\"SubnetIds\":[%s],\"SecurityGroupIds\":"
               "[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\"]}}",
               subnets);
    refused(CREATE, body, vex, 400,
            "2 validation errors detected: Value '[s, s, s, s, s, s, s, s, s, s, s, s, s, s, s, s, "
            "s]' at 'vpcConfig.subnetIds' failed to satisfy constraint: Member must have length "
            "less than or equal to 16; Value '[a, b, c, d, e, f]' at 'vpcConfig.securityGroupIds' "
            "failed to satisfy constraint: Member must have length less than or equal to 5");
    free(body);
    free(subnets);
    assert_no_leaks();
}

Test(create, environment_keys)
{
    static const char msg[] =
        "1 validation error detected: Value at 'environment.variables' failed to satisfy "
        "constraint: Map keys must satisfy constraint: [Member must satisfy regular expression "
        "pattern: [a-zA-Z]([a-zA-Z0-9_])+, Member must not be null]";

    refused(CREATE, "{" BASE ",\"Environment\":{\"Variables\":{\"A\":\"1\"}}}", vex, 400, msg);
    refused(CREATE, "{" BASE ",\"Environment\":{\"Variables\":{\"1A\":\"1\"}}}", vex, 400, msg);
    refused(CREATE, "{" BASE ",\"Environment\":{\"Variables\":{\"A-B\":\"1\"}}}", vex, 400, msg);
    refused(CREATE, "{" BASE ",\"Environment\":{\"Variables\":{\"_X\":\"1\"}}}", vex, 400, msg);
    refused(CREATE, "{" BASE ",\"Environment\":{\"Variables\":{\"AB\":null}}}", vex, 400,
            "1 validation error detected: Value at 'environment.variables' failed to satisfy "
            "constraint: Map value must satisfy constraint: [Member must not be null]");
    ok(CREATE, "{" BASE ",\"Environment\":{\"Variables\":{\"a_1\":\"\",\"Zz\":\"x\"}}}",
       BASE_OUT ",\"Environment\":{\"Variables\":{\"a_1\":\"\",\"Zz\":\"x\"}}}");
    assert_no_leaks();
}

Test(create, layer_list_elements)
{
    refused(CREATE,
            "{" BASE ",\"Layers\":[\"arn:aws:lambda:us-east-1:123456789012:layer:l:1\","
            "\"arn:aws:lambda:us-east-1:123456789012:layer:l\"]}",
            vex, 400,
            "1 validation error detected: Value '[arn:aws:lambda:us-east-1:123456789012:layer:l:1, "
            "arn:aws:lambda:us-east-1:123456789012:layer:l]' at 'layers' failed to satisfy "
            "constraint: Member must satisfy constraint: [Member must have length less than or "
            "equal to 140, Member must have length greater than or equal to 1, Member must "
            "satisfy regular expression pattern: "
            "arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+, Member "
            "must not be null]");
    assert_no_leaks();
}

Test(create, function_name_violations)
{
    refused(CREATE,
            "{\"FunctionName\":\"a.b\",\"Runtime\":\"python3.12\",\"Role\":\"" ROLE
            "\",\"Handler\":\"h\",\"Code\":{\"ZipFile\":\"UEsFBg==\"}}",
            ipve, 400,
            "1 validation error detected: Value 'a.b' at 'functionName' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: "
            "(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:)?"
            "(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?");
    /* With other violations in the same message, AWS's type is the model's. */
    refused(CREATE,
            "{\"FunctionName\":\"a.b\",\"Runtime\":\"python3.12\",\"Role\":\"x\","
            "\"Handler\":\"h\",\"Code\":{\"ZipFile\":\"UEsFBg==\"}}",
            vex, 400,
            "2 validation errors detected: Value 'a.b' at 'functionName' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: "
            "(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:)?"
            "(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?; Value 'x' at "
            "'role' failed to satisfy constraint: Member must satisfy regular expression "
            "pattern: arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+");
    refused(CREATE,
            "{\"FunctionName\":\"abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij"
            "abcde\",\"Runtime\":\"python3.12\",\"Role\":\"" ROLE
            "\",\"Handler\":\"h\",\"Code\":{\"ZipFile\":\"UEsFBg==\"}}",
            ipve, 400,
            "1 validation error detected: Value "
            "'abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcde' at "
            "'functionName' failed to satisfy constraint: Member must have length less than or "
            "equal to 64");
    refused(CREATE,
            "{\"FunctionName\":\"arn:aws:lambda:eu-west-1:123456789012:function:f\","
            "\"Runtime\":\"python3.12\",\"Role\":\"" ROLE
            "\",\"Handler\":\"h\",\"Code\":{\"ZipFile\":\"UEsFBg==\"}}",
            "ResourceNotFoundException", 404,
            "Functions from 'eu-west-1' are not reachable in this region ('us-east-1')");
    refused(CREATE,
            "{\"FunctionName\":\"999999999999:function:f\",\"Runtime\":\"python3.12\","
            "\"Role\":\"" ROLE "\",\"Handler\":\"h\",\"Code\":{\"ZipFile\":\"UEsFBg==\"}}",
            "AccessDeniedException", 403,
            "User: arn:aws:iam::123456789012:root is not authorized to perform: "
            "lambda:CreateFunction on resource: arn:aws:lambda:us-east-1:999999999999:function:f "
            "because no resource-based policy allows the lambda:CreateFunction action");
    assert_no_leaks();
}

Test(create, model_constraints_come_before_service_rules)
{
    refused(CREATE,
            "{\"FunctionName\":\"f\",\"Role\":\"x\",\"Code\":{\"S3Bucket\":\"b\"},"
            "\"PackageType\":\"Image\"}",
            vex, 400,
            "1 validation error detected: Value 'x' at 'role' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: "
            "arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+");
    assert_no_leaks();
}

/* ---- CreateFunction: the service's rules ----------------------------------------------- */

Test(create, images_are_not_supported)
{
    static const char msg[] = "lambdad does not run container images (PackageType Image): "
                              "package the function as a .zip file archive (PackageType Zip) "
                              "instead.";

    refused(CREATE,
            "{\"FunctionName\":\"f\",\"Role\":\"" ROLE "\",\"PackageType\":\"Image\","
            "\"Code\":{\"ImageUri\":\"123456789012.dkr.ecr.us-east-1.amazonaws.com/r:1\"}}",
            ipve, 400, msg);
    refused(CREATE,
            "{\"FunctionName\":\"f\",\"Role\":\"" ROLE "\",\"Runtime\":\"python3.12\","
            "\"Handler\":\"h\",\"Code\":{\"ImageUri\":\"r:1\"}}",
            ipve, 400, msg);
    assert_no_leaks();
}

Test(create, code_sources)
{
    refused(CREATE,
            "{\"FunctionName\":\"f\",\"Runtime\":\"python3.12\",\"Role\":\"" ROLE
            "\",\"Handler\":\"h\",\"Code\":{\"S3Bucket\":\"b\",\"S3Key\":\"k.zip\"}}",
            ipve, 400,
            "lambdad does not fetch code from Amazon S3 (Code.S3Bucket, Code.S3Key): send the "
            ".zip file itself as Code.ZipFile.");
    refused(CREATE,
            "{\"FunctionName\":\"f\",\"Runtime\":\"python3.12\",\"Role\":\"" ROLE
            "\",\"Handler\":\"h\",\"Code\":{\"ZipFile\":\"UEsFBg==\",\"S3ObjectVersion\":\"1\"}}",
            ipve, 400,
            "lambdad does not fetch code from Amazon S3 (Code.S3Bucket, Code.S3Key): send the "
            ".zip file itself as Code.ZipFile.");
    refused(CREATE,
            "{\"FunctionName\":\"f\",\"Runtime\":\"python3.12\",\"Role\":\"" ROLE
            "\",\"Handler\":\"h\",\"Code\":{}}",
            ipve, 400, "Please provide a source for function code.");
    refused(CREATE,
            "{\"FunctionName\":\"f\",\"Runtime\":\"python3.12\",\"Role\":\"" ROLE
            "\",\"Handler\":\"h\",\"Code\":{\"ZipFile\":null}}",
            ipve, 400, "Please provide a source for function code.");
    assert_no_leaks();
}

Test(create, zip_files_that_cannot_be_zips)
{
    static const char *const zips[] = {"", "=", "A", "AAAAA", "UEs*Bg==", "UEs FBg==", "UEsFBg\\n"};
    static const char msg[] =
        "Could not unzip uploaded file. Please check your file, then try to upload again.";
    size_t i;

    for (i = 0; i < sizeof zips / sizeof zips[0]; i++) {
        char *body = fmt("{\"FunctionName\":\"f\",\"Runtime\":\"python3.12\",\"Role\":\"" ROLE
                         "\",\"Handler\":\"h\",\"Code\":{\"ZipFile\":\"%s\"}}",
                         zips[i]);

        refused(CREATE, body, ipve, 400, msg);
        free(body);
    }
    /* What ld_base64_decode() takes is let through: padding optional. */
    ok(CREATE,
       "{\"FunctionName\":\"f1\",\"Runtime\":\"python3.12\",\"Role\":\"" ROLE
       "\",\"Handler\":\"index.handler\",\"Code\":{\"ZipFile\":\"UEsFBg\"}}",
       "{\"FunctionName\":\"f1\",\"Runtime\":\"python3.12\",\"Role\":\"" ROLE
       "\",\"Handler\":\"index.handler\",\"Code\":{\"ZipFile\":\"UEsFBg\"}," DEFAULTS "}");
    assert_no_leaks();
}

/* A ZipFile of exactly n base64 characters, built without the JSON parser. */
static int create_with_zip_chars(size_t n, struct api_error *e)
{
    char *b64 = malloc(n);
    json_t *body, *code, *out = NULL;
    int rc;

    cr_assert_not_null(b64);
    memset(b64, 'A', n);
    body = json_pack("{s:s, s:s, s:s, s:s}", "FunctionName", "f", "Runtime", "python3.12", "Role",
                     ROLE, "Handler", "h");
    code = json_object();
    cr_assert(body && code);
    json_object_set_new(code, "ZipFile", json_stringn_nocheck(b64, n));
    json_object_set_new(body, "Code", code);
    free(b64);
    rc = validate_create_function(body, &ctx, &out, e);
    json_decref(out);
    json_decref(body);
    return rc;
}

Test(create, zip_size_limit_is_50_mb_decoded)
{
    struct api_error e = {0};

    /* 69905067 characters decode to exactly 52428800 bytes. */
    cr_assert_eq(create_with_zip_chars(69905067, &e), 0, "%s", e.message);
    cr_assert_eq(create_with_zip_chars(69905068, &e), -EINVAL);
    cr_assert_str_eq(e.type, "RequestEntityTooLargeException");
    cr_assert_eq(e.status, 413);
    cr_assert_str_eq(e.message, "Zipped size must be smaller than 52428800 bytes");
    arn_error_fini(&e);
    assert_no_leaks();
}

Test(create, runtime_and_handler)
{
    static const char mandatory[] =
        "Runtime and Handler are mandatory parameters for functions created with deployment "
        "packages.";
    static const char *const one[] = {"java21", NULL};
    static const struct validate_context one_ctx = {.runtimes = one, .arch = "x86_64", .scope = &scope};

    refused(CREATE,
            "{\"FunctionName\":\"f\",\"Role\":\"" ROLE "\",\"Handler\":\"h\","
            "\"Code\":{\"ZipFile\":\"UEsFBg==\"}}",
            ipve, 400, mandatory);
    refused(CREATE,
            "{\"FunctionName\":\"f\",\"Role\":\"" ROLE "\",\"Runtime\":\"provided.al2023\","
            "\"Code\":{\"ZipFile\":\"UEsFBg==\"}}",
            ipve, 400, mandatory);
    refused(CREATE,
            "{\"FunctionName\":\"f\",\"Role\":\"" ROLE "\",\"Runtime\":\"ruby3.3\","
            "\"Handler\":\"h\",\"Code\":{\"ZipFile\":\"UEsFBg==\"}}",
            ipve, 400,
            "Value ruby3.3 at 'runtime' failed to satisfy constraint: Member must satisfy enum "
            "value set: [python3.12, nodejs20.x, provided.al2023] or be a valid ARN");
    refused_with(CREATE, &one_ctx, "{" BASE "}", ipve, 400,
                 "Value python3.12 at 'runtime' failed to satisfy constraint: Member must "
                 "satisfy enum value set: [java21] or be a valid ARN");
    assert_no_leaks();
}

Test(create, only_the_hosts_architecture)
{
    refused(CREATE, "{" BASE ",\"Architectures\":[\"arm64\"]}", ipve, 400,
            "lambdad runs functions only on this host's architecture, x86_64; architecture "
            "arm64 is not supported here.");
    assert_no_leaks();
}

Test(create, reserved_environment_variables)
{
    static const char *const reserved[] = {
        "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_EXECUTION_ENV", "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_LAMBDA_RUNTIME_API",
        "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR"};
    size_t i;

    for (i = 0; i < sizeof reserved / sizeof reserved[0]; i++) {
        char *body = fmt("{" BASE ",\"Environment\":{\"Variables\":{\"OK\":\"1\",\"%s\":\"x\"}}}",
                         reserved[i]);
        char *msg = fmt("Lambda was unable to configure your environment variables because the "
                        "environment variables you have provided contains reserved keys that are "
                        "currently not supported for modification. Reserved keys used in this "
                        "request: %s",
                        reserved[i]);

        refused(CREATE, body, ipve, 400, msg);
        free(body);
        free(msg);
    }
    /* Every one named, in the request's order. */
    refused(CREATE,
            "{" BASE ",\"Environment\":{\"Variables\":{\"AWS_SECRET_ACCESS_KEY\":\"s\","
            "\"X1\":\"y\",\"AWS_REGION\":\"r\",\"AWS_ACCESS_KEY_ID\":\"k\"}}}",
            ipve, 400,
            "Lambda was unable to configure your environment variables because the environment "
            "variables you have provided contains reserved keys that are currently not supported "
            "for modification. Reserved keys used in this request: AWS_SECRET_ACCESS_KEY, "
            "AWS_REGION, AWS_ACCESS_KEY_ID");
    /* Look-alikes and the overridable ones are the user's. */
    ok(CREATE,
       "{" BASE ",\"Environment\":{\"Variables\":{\"AWS_LAMBDA_EXEC_WRAPPER\":\"/opt/w\","
       "\"TZ\":\"UTC\",\"PATH\":\"/bin\",\"aws_region\":\"x\",\"AWS_REGION2\":\"y\"}}}",
       BASE_OUT ",\"Environment\":{\"Variables\":{\"AWS_LAMBDA_EXEC_WRAPPER\":\"/opt/w\","
                "\"TZ\":\"UTC\",\"PATH\":\"/bin\",\"aws_region\":\"x\",\"AWS_REGION2\":\"y\"}}}");
    assert_no_leaks();
}

Test(create, environment_size_limit)
{
    /* {"AB":"<v>"} is 9 bytes of JSON around the value. */
    char *v = repeat("v", 4096 - 9), *body, *msg;

    body = fmt("{" BASE ",\"Environment\":{\"Variables\":{\"AB\":\"%s\"}}}", v);
    msg = fmt(BASE_OUT ",\"Environment\":{\"Variables\":{\"AB\":\"%s\"}}}", v);
    ok(CREATE, body, msg);
    free(body);
    free(msg);
    free(v);
    v = repeat("v", 4096 - 8);
    body = fmt("{" BASE ",\"Environment\":{\"Variables\":{\"AB\":\"%s\"}}}", v);
    msg = fmt("Lambda was unable to configure your environment variables because the environment "
              "variables you have provided exceeded the 4KB limit. String measured: "
              "{\"AB\":\"%s\"}",
              v);
    refused(CREATE, body, ipve, 400, msg);
    free(body);
    free(msg);
    free(v);
    /* Escapes count as the JSON has them. */
    v = repeat("\\\"", 2100);
    body = fmt("{" BASE ",\"Environment\":{\"Variables\":{\"AB\":\"%s\"}}}", v);
    msg = fmt("Lambda was unable to configure your environment variables because the environment "
              "variables you have provided exceeded the 4KB limit. String measured: "
              "{\"AB\":\"%s\"}",
              v);
    refused(CREATE, body, ipve, 400, msg);
    free(body);
    free(msg);
    free(v);
    assert_no_leaks();
}

Test(create, layers)
{
    static const char *const l = "arn:aws:lambda:us-east-1:123456789012:layer:";

    refused(CREATE,
            "{" BASE ",\"Layers\":[\"arn:aws:lambda:us-east-1:123456789012:layer:a:1\","
            "\"arn:aws:lambda:us-east-1:123456789012:layer:b:1\","
            "\"arn:aws:lambda:us-east-1:123456789012:layer:c:1\","
            "\"arn:aws:lambda:us-east-1:123456789012:layer:d:1\","
            "\"arn:aws:lambda:us-east-1:123456789012:layer:e:1\","
            "\"arn:aws:lambda:us-east-1:123456789012:layer:f:1\"]}",
            ipve, 400, "Cannot reference more than 5 layers.");
    refused(CREATE,
            "{" BASE ",\"Layers\":[\"arn:aws:lambda:us-east-1:123456789012:layer:a:1\","
            "\"arn:aws:lambda:eu-west-1:123456789012:layer:b:1\"]}",
            ipve, 400,
            "Layers are not in the same region as the function. Layers are expected to be in "
            "region us-east-1.");
    refused(CREATE, "{" BASE ",\"Layers\":[\"arn:aws:lambda:us-east-1:999999999999:layer:a:3\"]}",
            "AccessDeniedException", 403,
            "User: arn:aws:iam::123456789012:root is not authorized to perform: "
            "lambda:GetLayerVersion on resource: arn:aws:lambda:us-east-1:999999999999:layer:a:3 "
            "because no resource-based policy allows the lambda:GetLayerVersion action");
    refused(CREATE,
            "{" BASE ",\"Layers\":[\"arn:aws:lambda:us-east-1:123456789012:layer:a:1\","
            "\"arn:aws:lambda:us-east-1:123456789012:layer:b:1\","
            "\"arn:aws:lambda:us-east-1:123456789012:layer:a:2\"]}",
            ipve, 400,
            "Two different versions of the same layer are not allowed to be referenced in the "
            "same function. arn:aws:lambda:us-east-1:123456789012:layer:a:1 and "
            "arn:aws:lambda:us-east-1:123456789012:layer:a:2 are versions of the same layer.");
    {
        char *body = fmt("{" BASE ",\"Layers\":[\"%sa:1\",\"%sb:1\",\"%sc:1\",\"%sd:1\",\"%se:9\"]}",
                         l, l, l, l, l);
        char *want = fmt(BASE_OUT ",\"Layers\":[\"%sa:1\",\"%sb:1\",\"%sc:1\",\"%sd:1\",\"%se:9\"]}",
                         l, l, l, l, l);

        ok(CREATE, body, want);
        free(body);
        free(want);
    }
    ok(CREATE, "{" BASE ",\"Layers\":[]}", BASE_OUT ",\"Layers\":[]}");
    assert_no_leaks();
}

Test(create, output_is_independent_of_the_body)
{
    json_t *b = parse("{" BASE ",\"Layers\":[],\"Tags\":{\"a\":\"b\"}}"), *out = NULL;
    struct api_error e = {0};

    cr_assert_eq(validate_create_function(b, &ctx, &out, &e), 0);
    /* Changing the body's containers leaves the copy alone. */
    json_array_append_new(json_object_get(b, "Layers"), json_string("x"));
    json_object_set_new(json_object_get(b, "Tags"), "c", json_string("d"));
    json_decref(b);
    cr_assert_eq(json_array_size(json_object_get(out, "Layers")), 0);
    cr_assert_eq(json_object_size(json_object_get(out, "Tags")), 1);
    json_decref(out);
    assert_no_leaks();
}

/* ---- UpdateFunctionConfiguration ------------------------------------------------------------ */

Test(update_config, only_given_members)
{
    ok(UPDATE_CONFIG, NULL, "{}");
    ok(UPDATE_CONFIG, "{}", "{}");
    ok(UPDATE_CONFIG, "{\"Timeout\":60.0,\"Description\":\"x\",\"RevisionId\":\"r1\"}",
       "{\"Description\":\"x\",\"Timeout\":60,\"RevisionId\":\"r1\"}");
    ok(UPDATE_CONFIG,
       "{\"Role\":\"" ROLE "\",\"Handler\":\"a.b\",\"MemorySize\":256,\"Runtime\":\"nodejs20.x\","
       "\"VpcConfig\":{},\"Environment\":{},\"Layers\":[],\"TracingConfig\":{},"
       "\"SnapStart\":{},\"EphemeralStorage\":{\"Size\":1024},"
       "\"LoggingConfig\":{\"LogFormat\":\"JSON\"},\"KMSKeyArn\":\"arn:aws:kms:x:y\","
       "\"DeadLetterConfig\":{\"x\":1}}",
       "{\"Role\":\"" ROLE "\",\"Handler\":\"a.b\",\"MemorySize\":256,"
       "\"VpcConfig\":{\"SubnetIds\":[],\"SecurityGroupIds\":[]},"
       "\"Environment\":{\"Variables\":{}},\"Runtime\":\"nodejs20.x\",\"DeadLetterConfig\":{},"
       "\"KMSKeyArn\":\"arn:aws:kms:x:y\",\"Layers\":[],\"EphemeralStorage\":{\"Size\":1024},"
       "\"LoggingConfig\":{\"LogFormat\":\"JSON\",\"ApplicationLogLevel\":\"INFO\","
       "\"SystemLogLevel\":\"INFO\"}}");
    ok(UPDATE_CONFIG,
       "{\"TracingConfig\":{\"Mode\":\"Active\"},\"SnapStart\":{\"ApplyOn\":\"None\"},"
       "\"LoggingConfig\":{\"LogGroup\":\"g\"},\"FunctionName\":\"ignored\"}",
       "{\"TracingConfig\":{\"Mode\":\"Active\"},\"SnapStart\":{\"ApplyOn\":\"None\"},"
       "\"LoggingConfig\":{\"LogGroup\":\"g\"}}");
    assert_no_leaks();
}

Test(update_config, refusals)
{
    refused(UPDATE_CONFIG, "{\"Timeout\":\"x\"}", sex, 400,
            "STRING_VALUE can not be converted to an Integer");
    refused(UPDATE_CONFIG, "{\"Timeout\":1000,\"Role\":\"r\"}", vex, 400,
            "2 validation errors detected: Value 'r' at 'role' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: "
            "arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+; Value '1000' at "
            "'timeout' failed to satisfy constraint: Member must have value less than or equal "
            "to 900");
    refused(UPDATE_CONFIG, "{\"Runtime\":\"go1.x\"}", ipve, 400,
            "Value go1.x at 'runtime' failed to satisfy constraint: Member must satisfy enum "
            "value set: [python3.12, nodejs20.x, provided.al2023] or be a valid ARN");
    refused(UPDATE_CONFIG, "{\"Environment\":{\"Variables\":{\"AWS_REGION\":\"x\"}}}", ipve, 400,
            "Lambda was unable to configure your environment variables because the environment "
            "variables you have provided contains reserved keys that are currently not supported "
            "for modification. Reserved keys used in this request: AWS_REGION");
    refused(UPDATE_CONFIG,
            "{\"Layers\":[\"arn:aws:lambda:us-west-2:123456789012:layer:a:1\"]}", ipve, 400,
            "Layers are not in the same region as the function. Layers are expected to be in "
            "region us-east-1.");
    refused(UPDATE_CONFIG, "{\"EphemeralStorage\":{\"Size\":10241}}", vex, 400,
            "1 validation error detected: Value '10241' at 'ephemeralStorage.size' failed to "
            "satisfy constraint: Member must have value less than or equal to 10240");
    refused(UPDATE_CONFIG, "[]", sex, 400, "Start of list found where not expected");
    assert_no_leaks();
}

/* ---- UpdateFunctionCode ------------------------------------------------------------------------ */

Test(update_code, accepted)
{
    ok(UPDATE_CODE, "{\"ZipFile\":\"UEsFBg==\"}",
       "{\"ZipFile\":\"UEsFBg==\",\"Publish\":false,\"DryRun\":false}");
    ok(UPDATE_CODE,
       "{\"ZipFile\":\"UEsFBg==\",\"Publish\":true,\"DryRun\":true,\"RevisionId\":\"r\","
       "\"Architectures\":[\"x86_64\"]}",
       "{\"ZipFile\":\"UEsFBg==\",\"Publish\":true,\"DryRun\":true,\"RevisionId\":\"r\","
       "\"Architectures\":[\"x86_64\"]}");
    assert_no_leaks();
}

Test(update_code, refusals)
{
    refused(UPDATE_CODE, NULL, ipve, 400, "Please provide a source for function code.");
    refused(UPDATE_CODE, "{\"ImageUri\":\"r:1\"}", ipve, 400,
            "Please don't provide ImageUri when updating a function with packageType Zip.");
    refused(UPDATE_CODE, "{\"S3Bucket\":\"b\",\"S3Key\":\"k\"}", ipve, 400,
            "lambdad does not fetch code from Amazon S3 (S3Bucket, S3Key): send the .zip file "
            "itself as ZipFile.");
    refused(UPDATE_CODE, "{\"ZipFile\":\"#\"}", ipve, 400,
            "Could not unzip uploaded file. Please check your file, then try to upload again.");
    refused(UPDATE_CODE, "{\"ZipFile\":\"UEsFBg==\",\"Architectures\":[\"arm64\"]}", ipve, 400,
            "lambdad runs functions only on this host's architecture, x86_64; architecture "
            "arm64 is not supported here.");
    refused(UPDATE_CODE, "{\"ZipFile\":\"UEsFBg==\",\"DryRun\":\"no\"}", sex, 400,
            "STRING_VALUE can not be converted to a Boolean");
    refused(UPDATE_CODE, "{\"ZipFile\":1}", sex, 400,
            "NUMBER_VALUE can not be converted to a String");
    assert_no_leaks();
}

/* ---- PublishVersion ------------------------------------------------------------------------------ */

Test(publish_version, accepted_and_refused)
{
    char *d = repeat("x", 257), *body, *msg;

    ok(PUBLISH_VERSION, NULL, "{}");
    ok(PUBLISH_VERSION, "{\"CodeSha256\":\"abc=\",\"Description\":\"v1\",\"RevisionId\":\"r\"}",
       "{\"CodeSha256\":\"abc=\",\"Description\":\"v1\",\"RevisionId\":\"r\"}");
    refused(PUBLISH_VERSION, "{\"CodeSha256\":5}", sex, 400,
            "NUMBER_VALUE can not be converted to a String");
    body = fmt("{\"Description\":\"%s\"}", d);
    msg = fmt("1 validation error detected: Value '%s' at 'description' failed to satisfy "
              "constraint: Member must have length less than or equal to 256",
              d);
    refused(PUBLISH_VERSION, body, vex, 400, msg);
    free(body);
    free(msg);
    free(d);
    assert_no_leaks();
}

/* ---- CreateAlias / UpdateAlias ------------------------------------------------------------------- */

Test(alias, create_accepted)
{
    ok(CREATE_ALIAS, "{\"Name\":\"prod\",\"FunctionVersion\":\"1\"}",
       "{\"Name\":\"prod\",\"FunctionVersion\":\"1\",\"Description\":\"\"}");
    ok(CREATE_ALIAS, "{\"Name\":\"live\",\"FunctionVersion\":\"$LATEST\",\"Description\":\"d\"}",
       "{\"Name\":\"live\",\"FunctionVersion\":\"$LATEST\",\"Description\":\"d\"}");
    ok(CREATE_ALIAS,
       "{\"Name\":\"p\",\"FunctionVersion\":\"2\","
       "\"RoutingConfig\":{\"AdditionalVersionWeights\":{\"1\":0.25}}}",
       "{\"Name\":\"p\",\"FunctionVersion\":\"2\",\"Description\":\"\","
       "\"RoutingConfig\":{\"AdditionalVersionWeights\":{\"1\":0.25}}}");
    /* Both ends of the weight's range, and an integer weight. */
    ok(CREATE_ALIAS,
       "{\"Name\":\"p\",\"FunctionVersion\":\"2\","
       "\"RoutingConfig\":{\"AdditionalVersionWeights\":{\"1\":1}}}",
       "{\"Name\":\"p\",\"FunctionVersion\":\"2\",\"Description\":\"\","
       "\"RoutingConfig\":{\"AdditionalVersionWeights\":{\"1\":1.0}}}");
    ok(CREATE_ALIAS,
       "{\"Name\":\"p\",\"FunctionVersion\":\"2\","
       "\"RoutingConfig\":{\"AdditionalVersionWeights\":{\"1\":0.0}}}",
       "{\"Name\":\"p\",\"FunctionVersion\":\"2\",\"Description\":\"\","
       "\"RoutingConfig\":{\"AdditionalVersionWeights\":{\"1\":0.0}}}");
    /* No weights: no routing. */
    ok(CREATE_ALIAS,
       "{\"Name\":\"p\",\"FunctionVersion\":\"2\",\"RoutingConfig\":{}}",
       "{\"Name\":\"p\",\"FunctionVersion\":\"2\",\"Description\":\"\"}");
    assert_no_leaks();
}

Test(alias, create_model_refusals)
{
    refused(CREATE_ALIAS, "{}", vex, 400,
            "2 validation errors detected: Value null at 'name' failed to satisfy constraint: "
            "Member must not be null; Value null at 'functionVersion' failed to satisfy "
            "constraint: Member must not be null");
    refused(CREATE_ALIAS, "{\"Name\":\"123\",\"FunctionVersion\":\"latest\"}", vex, 400,
            "2 validation errors detected: Value '123' at 'name' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+); Value "
            "'latest' at 'functionVersion' failed to satisfy constraint: Member must satisfy "
            "regular expression pattern: (\\$LATEST(\\.PUBLISHED)?|[0-9]+)");
    refused(CREATE_ALIAS, "{\"Name\":\"\",\"FunctionVersion\":\"\"}", vex, 400,
            "4 validation errors detected: Value '' at 'name' failed to satisfy constraint: "
            "Member must have length greater than or equal to 1; Value '' at 'name' failed to "
            "satisfy constraint: Member must satisfy regular expression pattern: "
            "(?!^[0-9]+$)([a-zA-Z0-9-_]+); Value '' at 'functionVersion' failed to satisfy "
            "constraint: Member must have length greater than or equal to 1; Value '' at "
            "'functionVersion' failed to satisfy constraint: Member must satisfy regular "
            "expression pattern: (\\$LATEST(\\.PUBLISHED)?|[0-9]+)");
    assert_no_leaks();
}

Test(alias, weights_out_of_range_print_as_java_doubles)
{
    static const struct {
        const char *json, *java;
    } w[] = {{"1.5", "1.5"},          {"-0.1", "-0.1"},         {"2", "2.0"},
             {"1.0000001", "1.0000001"}, {"12345678.5", "1.23456785E7"}, {"1e7", "1.0E7"},
             {"-0.0001", "-1.0E-4"},  {"-0.001", "-0.001"},     {"1e300", "1.0E300"}};
    size_t i;

    for (i = 0; i < sizeof w / sizeof w[0]; i++) {
        char *body = fmt("{\"Name\":\"p\",\"FunctionVersion\":\"2\","
                         "\"RoutingConfig\":{\"AdditionalVersionWeights\":{\"1\":%s}}}",
                         w[i].json);
        char *msg = fmt("1 validation error detected: Value '{1=%s}' at "
                        "'routingConfig.additionalVersionWeights' failed to satisfy constraint: "
                        "Map value must satisfy constraint: [Member must have value less than or "
                        "equal to 1.0, Member must have value greater than or equal to 0.0, Member "
                        "must not be null]",
                        w[i].java);

        refused(CREATE_ALIAS, body, vex, 400, msg);
        free(body);
        free(msg);
    }
    assert_no_leaks();
}

Test(alias, weight_keys_and_types)
{
    refused(CREATE_ALIAS,
            "{\"Name\":\"p\",\"FunctionVersion\":\"2\","
            "\"RoutingConfig\":{\"AdditionalVersionWeights\":{\"v1\":0.5}}}",
            vex, 400,
            "1 validation error detected: Value '{v1=0.5}' at "
            "'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map keys "
            "must satisfy constraint: [Member must have length less than or equal to 1024, Member "
            "must have length greater than or equal to 1, Member must satisfy regular expression "
            "pattern: [0-9]+, Member must not be null]");
    refused(CREATE_ALIAS,
            "{\"Name\":\"p\",\"FunctionVersion\":\"2\","
            "\"RoutingConfig\":{\"AdditionalVersionWeights\":{\"1\":\"0.5\"}}}",
            sex, 400, "STRING_VALUE can not be converted to a Double");
    refused(CREATE_ALIAS,
            "{\"Name\":\"p\",\"FunctionVersion\":\"2\","
            "\"RoutingConfig\":{\"AdditionalVersionWeights\":[]}}",
            sex, 400, "Start of list found where not expected");
    assert_no_leaks();
}

Test(alias, routing_rules)
{
    refused(CREATE_ALIAS,
            "{\"Name\":\"p\",\"FunctionVersion\":\"3\","
            "\"RoutingConfig\":{\"AdditionalVersionWeights\":{\"1\":0.1,\"2\":0.2}}}",
            ipve, 400, "Number of items in AdditionalVersionWeights cannot be greater than 1");
    refused(CREATE_ALIAS,
            "{\"Name\":\"p\",\"FunctionVersion\":\"1\","
            "\"RoutingConfig\":{\"AdditionalVersionWeights\":{\"1\":0.1}}}",
            ipve, 400,
            "Invalid function version 1. Function version 1 is already included in routing "
            "configuration.");
    refused(CREATE_ALIAS,
            "{\"Name\":\"p\",\"FunctionVersion\":\"$LATEST\","
            "\"RoutingConfig\":{\"AdditionalVersionWeights\":{\"1\":0.1}}}",
            ipve, 400, "$LATEST is not supported for an alias pointing to more than 1 version");
    assert_no_leaks();
}

Test(alias, update)
{
    ok(UPDATE_ALIAS, NULL, "{}");
    ok(UPDATE_ALIAS, "{\"Description\":\"d\",\"RevisionId\":\"r\",\"Name\":\"ignored\"}",
       "{\"Description\":\"d\",\"RevisionId\":\"r\"}");
    ok(UPDATE_ALIAS, "{\"RoutingConfig\":{}}",
       "{\"RoutingConfig\":{\"AdditionalVersionWeights\":{}}}");
    ok(UPDATE_ALIAS, "{\"RoutingConfig\":{\"AdditionalVersionWeights\":{\"1\":0.5}}}",
       "{\"RoutingConfig\":{\"AdditionalVersionWeights\":{\"1\":0.5}}}");
    ok(UPDATE_ALIAS,
       "{\"FunctionVersion\":\"4\",\"RoutingConfig\":{\"AdditionalVersionWeights\":{\"3\":0.5}}}",
       "{\"FunctionVersion\":\"4\",\"RoutingConfig\":{\"AdditionalVersionWeights\":{\"3\":0.5}}}");
    refused(UPDATE_ALIAS,
            "{\"FunctionVersion\":\"3\",\"RoutingConfig\":{\"AdditionalVersionWeights\":{\"3\":0.5}}}",
            ipve, 400,
            "Invalid function version 3. Function version 3 is already included in routing "
            "configuration.");
    refused(UPDATE_ALIAS, "{\"FunctionVersion\":\"x\"}", vex, 400,
            "1 validation error detected: Value 'x' at 'functionVersion' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: "
            "(\\$LATEST(\\.PUBLISHED)?|[0-9]+)");
    assert_no_leaks();
}

/* ---- PublishLayerVersion --------------------------------------------------------------------------- */

Test(layer, accepted)
{
    ok(LAYER, "{\"Content\":{\"ZipFile\":\"UEsFBg==\"}}",
       "{\"Content\":{\"ZipFile\":\"UEsFBg==\"},\"Description\":\"\"}");
    /* Any runtime AWS knows, not only the host's. */
    ok(LAYER,
       "{\"Content\":{\"ZipFile\":\"UEsFBg==\"},\"Description\":\"d\","
       "\"CompatibleRuntimes\":[\"python3.9\",\"java8\",\"ruby4.0\"],"
       "\"CompatibleArchitectures\":[\"x86_64\",\"arm64\"],\"LicenseInfo\":\"MIT\"}",
       "{\"Content\":{\"ZipFile\":\"UEsFBg==\"},\"Description\":\"d\","
       "\"CompatibleRuntimes\":[\"python3.9\",\"java8\",\"ruby4.0\"],"
       "\"CompatibleArchitectures\":[\"x86_64\",\"arm64\"],\"LicenseInfo\":\"MIT\"}");
    assert_no_leaks();
}

Test(layer, refusals)
{
    char *runtimes16 = repeat("\"java8\",", 16), *lic = repeat("l", 513), *body, *msg;

    refused(LAYER, "{}", vex, 400,
            "1 validation error detected: Value null at 'content' failed to satisfy constraint: "
            "Member must not be null");
    refused(LAYER, "{\"Content\":{}}", ipve, 400, "Please provide a source for the layer content.");
    refused(LAYER, "{\"Content\":{\"S3Bucket\":\"b\",\"S3Key\":\"k\"}}", ipve, 400,
            "lambdad does not fetch code from Amazon S3 (Content.S3Bucket, Content.S3Key): send "
            "the .zip file itself as Content.ZipFile.");
    refused(LAYER, "{\"Content\":{\"ZipFile\":\"\"}}", ipve, 400,
            "Could not unzip uploaded file. Please check your file, then try to upload again.");
    runtimes16[strlen(runtimes16) - 1] = '\0';
    body = fmt("{\"Content\":{\"ZipFile\":\"UEsFBg==\"},\"CompatibleRuntimes\":[%s]}", runtimes16);
    refused(LAYER, body, vex, 400,
            "1 validation error detected: Value '[java8, java8, java8, java8, java8, java8, java8, "
            "java8, java8, java8, java8, java8, java8, java8, java8, java8]' at "
            "'compatibleRuntimes' failed to satisfy constraint: Member must have length less "
            "than or equal to 15");
    free(body);
    refused(LAYER,
            "{\"Content\":{\"ZipFile\":\"UEsFBg==\"},\"CompatibleRuntimes\":[\"cobol\"]}", vex, 400,
            "1 validation error detected: Value '[cobol]' at 'compatibleRuntimes' failed to "
            "satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value "
            "set: [nodejs, nodejs4.3, nodejs6.10, nodejs8.10, nodejs10.x, nodejs12.x, nodejs14.x, "
            "nodejs16.x, java8, java8.al2, java11, python2.7, python3.6, python3.7, python3.8, "
            "python3.9, dotnetcore1.0, dotnetcore2.0, dotnetcore2.1, dotnetcore3.1, dotnet6, "
            "dotnet8, nodejs4.3-edge, go1.x, ruby2.5, ruby2.7, provided, provided.al2, "
            "nodejs18.x, python3.10, java17, ruby3.2, ruby3.3, ruby3.4, python3.11, nodejs20.x, "
            "provided.al2023, python3.12, java21, python3.13, nodejs22.x, nodejs24.x, "
            "python3.14, java25, dotnet10, ruby4.0], Member must not be null]");
    refused(LAYER,
            "{\"Content\":{\"ZipFile\":\"UEsFBg==\"},"
            "\"CompatibleArchitectures\":[\"x86_64\",\"arm64\",\"x86_64\"]}",
            vex, 400,
            "1 validation error detected: Value '[x86_64, arm64, x86_64]' at "
            "'compatibleArchitectures' failed to satisfy constraint: Member must have length "
            "less than or equal to 2");
    body = fmt("{\"Content\":{\"ZipFile\":\"UEsFBg==\"},\"LicenseInfo\":\"%s\"}", lic);
    msg = fmt("1 validation error detected: Value '%s' at 'licenseInfo' failed to satisfy "
              "constraint: Member must have length less than or equal to 512",
              lic);
    refused(LAYER, body, vex, 400, msg);
    free(body);
    free(msg);
    free(lic);
    free(runtimes16);
    assert_no_leaks();
}

/* ---- Invoke ------------------------------------------------------------------------------------------ */

static int invoke(const char *type, const char *log, const char *cc, size_t len,
                  struct validate_invoke *out, struct api_error *e)
{
    struct validate_invoke_request rq = {
        .invocation_type = type, .log_type = log, .client_context = cc, .payload_len = len};

    return validate_invoke(&rq, out, e);
}

static void invoke_refused(const char *type, const char *log, const char *cc, size_t len,
                           const char *etype, int status, const char *message)
{
    struct validate_invoke out;
    struct api_error e = {0};

    cr_assert_eq(invoke(type, log, cc, len, &out, &e), -EINVAL);
    cr_assert_str_eq(e.type, etype);
    cr_assert_eq(e.status, status);
    cr_assert_str_eq(e.message, message);
    cr_assert_null(out.client_context);
    arn_error_fini(&e);
}

Test(invoke, types_and_log_tail)
{
    struct validate_invoke out;
    struct api_error e = {0};

    cr_assert_eq(invoke(NULL, NULL, NULL, 0, &out, &e), 0);
    cr_assert_eq(out.type, VALIDATE_INVOKE_REQUEST_RESPONSE);
    cr_assert(!out.tail);
    cr_assert_null(out.client_context);
    cr_assert_eq(invoke("RequestResponse", "Tail", NULL, 7, &out, &e), 0);
    cr_assert_eq(out.type, VALIDATE_INVOKE_REQUEST_RESPONSE);
    cr_assert(out.tail);
    cr_assert_eq(invoke("Event", "Tail", NULL, 7, &out, &e), 0);
    cr_assert_eq(out.type, VALIDATE_INVOKE_EVENT);
    cr_assert(!out.tail, "Tail is for RequestResponse only");
    cr_assert_eq(invoke("DryRun", "None", NULL, 0, &out, &e), 0);
    cr_assert_eq(out.type, VALIDATE_INVOKE_DRY_RUN);
    cr_assert(!out.tail);
    cr_assert_null(e.message);
}

Test(invoke, refused_headers)
{
    invoke_refused("Async", NULL, NULL, 0, vex, 400,
                   "1 validation error detected: Value 'Async' at 'invocationType' failed to "
                   "satisfy constraint: Member must satisfy enum value set: [Event, "
                   "RequestResponse, DryRun]");
    invoke_refused("event", "tail", NULL, 0, vex, 400,
                   "2 validation errors detected: Value 'event' at 'invocationType' failed to "
                   "satisfy constraint: Member must satisfy enum value set: [Event, "
                   "RequestResponse, DryRun]; Value 'tail' at 'logType' failed to satisfy "
                   "constraint: Member must satisfy enum value set: [None, Tail]");
    invoke_refused("Ev\xffnt", NULL, NULL, 0, vex, 400,
                   "1 validation error detected: Value 'Ev\xef\xbf\xbdnt' at 'invocationType' "
                   "failed to satisfy constraint: Member must satisfy enum value set: [Event, "
                   "RequestResponse, DryRun]");
    invoke_refused(NULL, "", NULL, 0, vex, 400,
                   "1 validation error detected: Value '' at 'logType' failed to satisfy "
                   "constraint: Member must satisfy enum value set: [None, Tail]");
    assert_no_leaks();
}

Test(invoke, payload_limits)
{
    struct validate_invoke out;
    struct api_error e = {0};

    cr_assert_eq(invoke(NULL, NULL, NULL, 6291456, &out, &e), 0);
    cr_assert_eq(invoke("DryRun", NULL, NULL, 6291456, &out, &e), 0);
    invoke_refused(NULL, NULL, NULL, 6291457, "RequestEntityTooLargeException", 413,
                   "Request must be smaller than 6291456 bytes for the InvokeFunction operation");
    /* Over 6 MB, the size is refused before the headers are looked at. */
    invoke_refused("Bogus", NULL, NULL, 7000000, "RequestEntityTooLargeException", 413,
                   "Request must be smaller than 6291456 bytes for the InvokeFunction operation");
    cr_assert_eq(invoke("Event", NULL, NULL, 1048576, &out, &e), 0);
    invoke_refused("Event", NULL, NULL, 1048577, "RequestEntityTooLargeException", 413,
                   "1048577 byte payload is too large for the Event invocation type (limit "
                   "1048576 bytes)");
    invoke_refused("Event", NULL, NULL, 6291456, "RequestEntityTooLargeException", 413,
                   "6291456 byte payload is too large for the Event invocation type (limit "
                   "1048576 bytes)");
    assert_no_leaks();
}

static char *b64(const char *s)
{
    size_t n = strlen(s);
    char *out = malloc(4 * ((n + 2) / 3) + 1);

    cr_assert_not_null(out);
    ld_base64_encode((const unsigned char *) s, n, out);
    return out;
}

Test(invoke, client_context)
{
    struct validate_invoke out;
    struct api_error e = {0};
    char *cc = b64("{ \"custom\" : {\"a\": 1},\n \"env\": {} }");

    cr_assert_eq(invoke(NULL, NULL, cc, 2, &out, &e), 0);
    cr_assert_str_eq(out.client_context, "{\"custom\":{\"a\":1},\"env\":{}}");
    free(out.client_context);
    free(cc);
    cr_assert_eq(invoke(NULL, NULL, "", 2, &out, &e), 0);
    cr_assert_null(out.client_context, "an empty header is no client context");
    assert_no_leaks();
}

Test(invoke, refused_client_contexts)
{
    static const char msg[] = "Client context must be a valid Base64-encoded JSON object.";
    static const char *const bad_json[] = {"[1]", "\"s\"", "1", "{", "null", "{} {}"};
    size_t i;
    char *cc;

    invoke_refused(NULL, NULL, "not base64!", 0, "InvalidRequestContentException", 400, msg);
    invoke_refused(NULL, NULL, "e30=e30=", 0, "InvalidRequestContentException", 400, msg);
    for (i = 0; i < sizeof bad_json / sizeof bad_json[0]; i++) {
        cc = b64(bad_json[i]);
        invoke_refused(NULL, NULL, cc, 0, "InvalidRequestContentException", 400, msg);
        free(cc);
    }
    assert_no_leaks();
}

Test(invoke, client_context_size_limit)
{
    struct validate_invoke out;
    struct api_error e = {0};
    /* {"a":"..."} is 8 bytes around the value. */
    char *v = repeat("x", 3583 - 8), *json = fmt("{\"a\":\"%s\"}", v), *cc = b64(json);

    cr_assert_eq(strlen(json), 3583);
    cr_assert_eq(invoke(NULL, NULL, cc, 0, &out, &e), 0, "%s", e.message);
    cr_assert_str_eq(out.client_context, json);
    free(out.client_context);
    free(cc);
    free(json);
    free(v);
    v = repeat("x", 3584 - 8);
    json = fmt("{\"a\":\"%s\"}", v);
    cc = b64(json);
    invoke_refused(NULL, NULL, cc, 0, "InvalidRequestContentException", 400,
                   "Client context must be a valid Base64-encoded JSON object.");
    free(cc);
    free(json);
    free(v);
    assert_no_leaks();
}
