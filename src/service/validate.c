/* service/validate.c: Lambda's checks on request bodies and Invoke headers
 * (see validate.h).
 *
 * Each operation's body is described as data, member by member in the order
 * of botocore's Lambda model, with the model's constraints (and the spec's
 * limits where lambdad's are tighter than the 2026 model's: Timeout 900,
 * MemorySize 10240). One walk checks JSON types, a second collects every
 * constraint violation into one ValidationException as AWS's front end does,
 * then code per operation applies the service's rules. The texts follow AWS:
 * where the messages come from is noted next to them. */
#include "service/validate.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/base64.h"

/* ---- the model, as data -------------------------------------------------------- */

enum kind { K_STRING, K_BLOB, K_INT, K_BOOL, K_DOUBLE, K_STRUCT, K_LIST, K_MAP };

struct member;

struct shape {
    enum kind kind;
    bool sensitive; /* the model hides the value in messages */
    bool has_min, has_max;
    long long min, max;       /* lengths (string, list), or values (int) */
    double dmin, dmax;        /* K_DOUBLE values */
    const char *const *enums; /* NULL-terminated, the model's order */
    bool (*match)(const char *s, size_t n);
    const char *pattern;           /* as AWS quotes it */
    const struct member *members;  /* K_STRUCT, ended by a NULL name */
    const struct shape *elem;      /* K_LIST member, K_MAP value */
    const struct shape *key;       /* K_MAP key */
};

struct member {
    const char *name;
    const struct shape *shape;
    bool required;
};

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_word(char c)
{
    return is_alpha(c) || is_digit(c) || c == '-' || c == '_';
}

/* c is one of set's characters (and not the NUL that ends it). */
static bool in_set(char c, const char *set)
{
    return c != '\0' && strchr(set, c) != NULL;
}

static bool starts(const char *s, size_t n, size_t at, const char *p)
{
    size_t k = strlen(p);

    return at <= n && n - at >= k && memcmp(s + at, p, k) == 0;
}

/* arn:(aws[a-zA-Z-]*)?:  -> index after it, or 0 */
static size_t after_arn_partition(const char *s, size_t n)
{
    size_t i = 4;

    if (!starts(s, n, 0, "arn:"))
        return 0;
    if (starts(s, n, i, "aws"))
        for (i += 3; i < n && (is_alpha(s[i]) || s[i] == '-'); i++)
            ;
    return i < n && s[i] == ':' ? i + 1 : 0;
}

/* arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+ ('/' is in
 * the class, so "role" need only be followed by one or more of it). */
static bool match_role(const char *s, size_t n)
{
    size_t i = after_arn_partition(s, n), k;

    if (!i || !starts(s, n, i, "iam::"))
        return false;
    i += 5;
    for (k = 0; k < 12; k++)
        if (i + k >= n || !is_digit(s[i + k]))
            return false;
    i += 12;
    if (!starts(s, n, i, ":role") || i + 5 == n)
        return false;
    for (i += 5; i < n; i++)
        if (!is_word(s[i]) && !in_set(s[i], "+=,.@/"))
            return false;
    return true;
}

/* [^\s]+ with Java's \s: space, \t, \n, \x0B, \f, \r. */
static bool match_handler(const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (s[i] == ' ' || (s[i] >= '\t' && s[i] <= '\r'))
            return false;
    return n > 0;
}

/* (arn:(aws[a-zA-Z-]*)?:[a-z0-9-.]+:.*)|() where Java's '.' stops at line
 * terminators: \n, \r, U+0085, U+2028, U+2029. */
static bool match_resource_arn(const char *s, size_t n)
{
    size_t i = after_arn_partition(s, n), start = i;

    if (n == 0)
        return true;
    if (!i)
        return false;
    while (i < n && ((s[i] >= 'a' && s[i] <= 'z') || is_digit(s[i]) || s[i] == '-' || s[i] == '.'))
        i++;
    if (i == start || i == n || s[i] != ':')
        return false;
    for (; i < n; i++) {
        if (s[i] == '\n' || s[i] == '\r' || starts(s, n, i, "\xc2\x85") ||
            starts(s, n, i, "\xe2\x80\xa8") || starts(s, n, i, "\xe2\x80\xa9"))
            return false;
    }
    return true;
}

/* [a-zA-Z]([a-zA-Z0-9_])+ */
static bool match_env_key(const char *s, size_t n)
{
    size_t i;

    if (n < 2 || !is_alpha(s[0]))
        return false;
    for (i = 1; i < n; i++)
        if (!is_alpha(s[i]) && !is_digit(s[i]) && s[i] != '_')
            return false;
    return true;
}

/* [\.\-_/#A-Za-z0-9]+ */
static bool match_log_group(const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (!is_alpha(s[i]) && !is_digit(s[i]) && !in_set(s[i], ".-_/#"))
            return false;
    return n > 0;
}

static bool match_layer_version_arn(const char *s, size_t n)
{
    struct arn_layer l;

    return arn_parse_layer_version_arn(s, n, &l);
}

/* (?!^[0-9]+$)([a-zA-Z0-9-_]+) */
static bool match_alias(const char *s, size_t n)
{
    size_t i;
    bool digits = true;

    for (i = 0; i < n; i++) {
        if (!is_word(s[i]))
            return false;
        digits = digits && is_digit(s[i]);
    }
    return n > 0 && !digits;
}

static bool all_digits(const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (!is_digit(s[i]))
            return false;
    return n > 0;
}

/* (\$LATEST(\.PUBLISHED)?|[0-9]+) */
static bool match_version(const char *s, size_t n)
{
    return (n == 7 && memcmp(s, "$LATEST", 7) == 0) ||
           (n == 17 && memcmp(s, "$LATEST.PUBLISHED", 17) == 0) || all_digits(s, n);
}

static const char *const architectures[] = {"x86_64", "arm64", NULL};
static const char *const package_types[] = {"Zip", "Image", NULL};
static const char *const tracing_modes[] = {"Active", "PassThrough", NULL};
static const char *const snap_start_apply_on[] = {"PublishedVersions", "None", NULL};
static const char *const log_formats[] = {"JSON", "Text", NULL};
static const char *const app_log_levels[] = {"TRACE", "DEBUG", "INFO",  "WARN",
                                             "ERROR", "FATAL", NULL};
static const char *const system_log_levels[] = {"DEBUG", "INFO", "WARN", NULL};
/* Every runtime id AWS's model knows, in its order: what a layer may declare
 * itself compatible with, whatever this host runs. */
static const char *const aws_runtimes[] = {
    "nodejs",       "nodejs4.3",    "nodejs6.10",    "nodejs8.10",      "nodejs10.x",
    "nodejs12.x",   "nodejs14.x",   "nodejs16.x",    "java8",           "java8.al2",
    "java11",       "python2.7",    "python3.6",     "python3.7",       "python3.8",
    "python3.9",    "dotnetcore1.0", "dotnetcore2.0", "dotnetcore2.1",  "dotnetcore3.1",
    "dotnet6",      "dotnet8",      "nodejs4.3-edge", "go1.x",          "ruby2.5",
    "ruby2.7",      "provided",     "provided.al2",  "nodejs18.x",      "python3.10",
    "java17",       "ruby3.2",      "ruby3.3",       "ruby3.4",         "python3.11",
    "nodejs20.x",   "provided.al2023", "python3.12", "java21",          "python3.13",
    "nodejs22.x",   "nodejs24.x",   "python3.14",    "java25",          "dotnet10",
    "ruby4.0",      NULL};

#define ROLE_PATTERN "arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+"
#define RESOURCE_ARN_PATTERN "(arn:(aws[a-zA-Z-]*)?:[a-z0-9-.]+:.*)|()"
#define LAYER_VERSION_ARN_PATTERN \
    "arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+"

static const struct shape sh_string = {.kind = K_STRING};
static const struct shape sh_bool = {.kind = K_BOOL};
static const struct shape sh_zip = {.kind = K_BLOB, .sensitive = true};
static const struct shape sh_role = {
    .kind = K_STRING, .match = match_role, .pattern = ROLE_PATTERN};
static const struct shape sh_handler = {
    .kind = K_STRING, .has_max = true, .max = 128, .match = match_handler, .pattern = "[^\\s]+"};
static const struct shape sh_description = {.kind = K_STRING, .has_max = true, .max = 256};
static const struct shape sh_timeout = {
    .kind = K_INT, .has_min = true, .min = 1, .has_max = true, .max = 900};
static const struct shape sh_memory = {
    .kind = K_INT, .has_min = true, .min = 128, .has_max = true, .max = 10240};
static const struct shape sh_ephemeral_size = {
    .kind = K_INT, .has_min = true, .min = 512, .has_max = true, .max = 10240};
static const struct shape sh_package_type = {.kind = K_STRING, .enums = package_types};
static const struct shape sh_resource_arn = {
    .kind = K_STRING, .match = match_resource_arn, .pattern = RESOURCE_ARN_PATTERN};
static const struct shape sh_arch = {.kind = K_STRING, .enums = architectures};
static const struct shape sh_architectures = {
    .kind = K_LIST, .has_min = true, .min = 1, .has_max = true, .max = 1, .elem = &sh_arch};
static const struct shape sh_compatible_architectures = {
    .kind = K_LIST, .has_max = true, .max = 2, .elem = &sh_arch};
static const struct shape sh_aws_runtime = {.kind = K_STRING, .enums = aws_runtimes};
static const struct shape sh_compatible_runtimes = {
    .kind = K_LIST, .has_max = true, .max = 15, .elem = &sh_aws_runtime};
static const struct shape sh_license = {.kind = K_STRING, .has_max = true, .max = 512};
static const struct shape sh_layer_version_arn = {
    .kind = K_STRING, .has_min = true, .min = 1, .has_max = true, .max = 140,
    .match = match_layer_version_arn, .pattern = LAYER_VERSION_ARN_PATTERN};
static const struct shape sh_layers = {.kind = K_LIST, .elem = &sh_layer_version_arn};
static const struct shape sh_subnets = {
    .kind = K_LIST, .has_max = true, .max = 16, .elem = &sh_string};
static const struct shape sh_groups = {
    .kind = K_LIST, .has_max = true, .max = 5, .elem = &sh_string};
static const struct shape sh_tags = {.kind = K_MAP, .key = &sh_string, .elem = &sh_string};
static const struct shape sh_env_key = {.kind = K_STRING, .sensitive = true,
                                        .match = match_env_key,
                                        .pattern = "[a-zA-Z]([a-zA-Z0-9_])+"};
static const struct shape sh_env_value = {.kind = K_STRING, .sensitive = true};
static const struct shape sh_env_vars = {
    .kind = K_MAP, .sensitive = true, .key = &sh_env_key, .elem = &sh_env_value};
static const struct shape sh_tracing_mode = {.kind = K_STRING, .enums = tracing_modes};
static const struct shape sh_apply_on = {.kind = K_STRING, .enums = snap_start_apply_on};
static const struct shape sh_log_format = {.kind = K_STRING, .enums = log_formats};
static const struct shape sh_app_log_level = {.kind = K_STRING, .enums = app_log_levels};
static const struct shape sh_system_log_level = {.kind = K_STRING, .enums = system_log_levels};
static const struct shape sh_log_group = {
    .kind = K_STRING, .has_min = true, .min = 1, .has_max = true, .max = 512,
    .match = match_log_group, .pattern = "[\\.\\-_/#A-Za-z0-9]+"};
static const struct shape sh_alias_name = {
    .kind = K_STRING, .has_min = true, .min = 1, .has_max = true, .max = 128,
    .match = match_alias, .pattern = "(?!^[0-9]+$)([a-zA-Z0-9-_]+)"};
static const struct shape sh_version = {
    .kind = K_STRING, .has_min = true, .min = 1, .has_max = true, .max = 1024,
    .match = match_version, .pattern = "(\\$LATEST(\\.PUBLISHED)?|[0-9]+)"};
static const struct shape sh_additional_version = {
    .kind = K_STRING, .has_min = true, .min = 1, .has_max = true, .max = 1024,
    .match = all_digits, .pattern = "[0-9]+"};
static const struct shape sh_weight = {
    .kind = K_DOUBLE, .has_min = true, .dmin = 0.0, .has_max = true, .dmax = 1.0};
static const struct shape sh_weights = {.kind = K_MAP, .key = &sh_additional_version,
                                        .elem = &sh_weight};

#define END {NULL, NULL, false}
static const struct member m_code[] = {
    {"ZipFile", &sh_zip, false},   {"S3Bucket", &sh_string, false},
    {"S3Key", &sh_string, false},  {"S3ObjectVersion", &sh_string, false},
    {"ImageUri", &sh_string, false}, {"SourceKMSKeyArn", &sh_resource_arn, false}, END};
static const struct member m_layer_content[] = {
    {"S3Bucket", &sh_string, false}, {"S3Key", &sh_string, false},
    {"S3ObjectVersion", &sh_string, false}, {"ZipFile", &sh_zip, false}, END};
static const struct member m_vpc[] = {{"SubnetIds", &sh_subnets, false},
                                      {"SecurityGroupIds", &sh_groups, false},
                                      {"Ipv6AllowedForDualStack", &sh_bool, false}, END};
static const struct member m_dead_letter[] = {{"TargetArn", &sh_resource_arn, false}, END};
static const struct member m_environment[] = {{"Variables", &sh_env_vars, false}, END};
static const struct member m_tracing[] = {{"Mode", &sh_tracing_mode, false}, END};
static const struct member m_ephemeral[] = {{"Size", &sh_ephemeral_size, true}, END};
static const struct member m_snap_start[] = {{"ApplyOn", &sh_apply_on, false}, END};
static const struct member m_logging[] = {{"LogFormat", &sh_log_format, false},
                                          {"ApplicationLogLevel", &sh_app_log_level, false},
                                          {"SystemLogLevel", &sh_system_log_level, false},
                                          {"LogGroup", &sh_log_group, false}, END};
static const struct member m_routing[] = {{"AdditionalVersionWeights", &sh_weights, false}, END};
static const struct shape sh_code = {.kind = K_STRUCT, .members = m_code};
static const struct shape sh_layer_content = {.kind = K_STRUCT, .members = m_layer_content};
static const struct shape sh_vpc = {.kind = K_STRUCT, .members = m_vpc};
static const struct shape sh_dead_letter = {.kind = K_STRUCT, .members = m_dead_letter};
static const struct shape sh_environment = {.kind = K_STRUCT, .members = m_environment};
static const struct shape sh_tracing = {.kind = K_STRUCT, .members = m_tracing};
static const struct shape sh_ephemeral = {.kind = K_STRUCT, .members = m_ephemeral};
static const struct shape sh_snap_start = {.kind = K_STRUCT, .members = m_snap_start};
static const struct shape sh_logging = {.kind = K_STRUCT, .members = m_logging};
static const struct shape sh_routing = {.kind = K_STRUCT, .members = m_routing};

/* The operations' bodies, members in the model's order (which is the order
 * of the violations in a message). FunctionName's length and pattern are
 * arn.c's, so here only its presence and type; Runtime is the service's to
 * check against what it runs. */
static const struct member m_create_function[] = {
    {"FunctionName", &sh_string, true},      {"Runtime", &sh_string, false},
    {"Role", &sh_role, true},                {"Handler", &sh_handler, false},
    {"Code", &sh_code, true},                {"Description", &sh_description, false},
    {"Timeout", &sh_timeout, false},         {"MemorySize", &sh_memory, false},
    {"Publish", &sh_bool, false},            {"VpcConfig", &sh_vpc, false},
    {"PackageType", &sh_package_type, false}, {"DeadLetterConfig", &sh_dead_letter, false},
    {"Environment", &sh_environment, false}, {"KMSKeyArn", &sh_resource_arn, false},
    {"TracingConfig", &sh_tracing, false},   {"Tags", &sh_tags, false},
    {"Layers", &sh_layers, false},           {"Architectures", &sh_architectures, false},
    {"EphemeralStorage", &sh_ephemeral, false}, {"SnapStart", &sh_snap_start, false},
    {"LoggingConfig", &sh_logging, false},   END};
static const struct member m_update_configuration[] = {
    {"Role", &sh_role, false},               {"Handler", &sh_handler, false},
    {"Description", &sh_description, false}, {"Timeout", &sh_timeout, false},
    {"MemorySize", &sh_memory, false},       {"VpcConfig", &sh_vpc, false},
    {"Environment", &sh_environment, false}, {"Runtime", &sh_string, false},
    {"DeadLetterConfig", &sh_dead_letter, false}, {"KMSKeyArn", &sh_resource_arn, false},
    {"TracingConfig", &sh_tracing, false},   {"RevisionId", &sh_string, false},
    {"Layers", &sh_layers, false},           {"EphemeralStorage", &sh_ephemeral, false},
    {"SnapStart", &sh_snap_start, false},    {"LoggingConfig", &sh_logging, false},
    END};
static const struct member m_update_code[] = {
    {"ZipFile", &sh_zip, false},             {"S3Bucket", &sh_string, false},
    {"S3Key", &sh_string, false},            {"S3ObjectVersion", &sh_string, false},
    {"ImageUri", &sh_string, false},         {"Publish", &sh_bool, false},
    {"DryRun", &sh_bool, false},             {"RevisionId", &sh_string, false},
    {"Architectures", &sh_architectures, false}, {"SourceKMSKeyArn", &sh_resource_arn, false},
    END};
static const struct member m_publish_version[] = {
    {"CodeSha256", &sh_string, false}, {"Description", &sh_description, false},
    {"RevisionId", &sh_string, false}, END};
static const struct member m_create_alias[] = {
    {"Name", &sh_alias_name, true},          {"FunctionVersion", &sh_version, true},
    {"Description", &sh_description, false}, {"RoutingConfig", &sh_routing, false}, END};
static const struct member m_update_alias[] = {
    {"FunctionVersion", &sh_version, false}, {"Description", &sh_description, false},
    {"RoutingConfig", &sh_routing, false},   {"RevisionId", &sh_string, false}, END};
static const struct member m_publish_layer[] = {
    {"Description", &sh_description, false}, {"Content", &sh_layer_content, true},
    {"CompatibleRuntimes", &sh_compatible_runtimes, false}, {"LicenseInfo", &sh_license, false},
    {"CompatibleArchitectures", &sh_compatible_architectures, false}, END};
#undef END

/* ---- values ------------------------------------------------------------------------ */

/* jansson's iterators take non-const pointers; nothing here writes through them. */
static json_t *unconst(const json_t *j)
{
    return (json_t *) j;
}

/* A member that is there and not null: AWS reads an explicit null as absent. */
static json_t *get(const json_t *obj, const char *name)
{
    json_t *m = obj ? json_object_get(obj, name) : NULL;

    return json_is_null(m) ? NULL : m;
}

/* Whole numbers, also when written as 1e3 or 256.0. */
static bool integer_of(const json_t *j, long long *out)
{
    if (json_is_integer(j)) {
        *out = json_integer_value(j);
        return true;
    }
    if (json_is_real(j)) {
        double d = json_real_value(j);

        if (d >= -9.2e18 && d <= 9.2e18 && d == (double) (long long) d) {
            *out = (long long) d;
            return true;
        }
    }
    return false;
}

/* Java's String.length() of valid UTF-8: UTF-16 units. */
static size_t utf16_len(const char *s, size_t n)
{
    size_t i, units = 0;

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char) s[i];

        if ((c & 0xc0) != 0x80)
            units += c >= 0xf0 ? 2 : 1;
    }
    return units;
}

/* Double.toString(): the shortest digits that read back the same, plain
 * between 10^-3 and 10^7 ("0.5", "2.0"), else computerized ("1.0E-4"). */
static void java_double(double d, char *out, size_t cap)
{
    char e[40], digits[24];
    double a = d < 0 ? -d : d;
    size_t nd = 0, i;
    const char *p;
    long exp10;
    int prec;
    FILE *f;

    if (d == 0) {
        snprintf(out, cap, "%s", __builtin_signbit(d) ? "-0.0" : "0.0");
        return;
    }
    for (prec = 0; prec < 17; prec++) {
        snprintf(e, sizeof e, "%.*e", prec, a);
        if (strtod(e, NULL) == a)
            break;
    }
    for (p = e; *p && *p != 'e'; p++)
        if (is_digit(*p))
            digits[nd++] = *p;
    if (nd == 0) /* printf always writes a digit; this keeps the analyzer sure of it */
        digits[nd++] = '0';
    exp10 = *p ? strtol(p + 1, NULL, 10) : 0;
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    f = fmemopen(out, cap, "w");
    if (!f) {
        snprintf(out, cap, "%g", d);
        return;
    }
    if (d < 0)
        fputc('-', f);
    if (a >= 1e-3 && a < 1e7) {
        if (exp10 >= 0) {
            for (i = 0; i <= (size_t) exp10; i++)
                fputc(i < nd ? digits[i] : '0', f);
            fputc('.', f);
            if ((size_t) exp10 + 1 >= nd)
                fputc('0', f);
            for (i = (size_t) exp10 + 1; i < nd; i++)
                fputc(digits[i], f);
        } else {
            fputs("0.", f);
            for (i = 1; i < (size_t) -exp10; i++)
                fputc('0', f);
            fwrite(digits, 1, nd, f);
        }
    } else {
        fputc(digits[0], f);
        fputc('.', f);
        if (nd == 1)
            fputc('0', f);
        else
            fwrite(digits + 1, 1, nd - 1, f);
        fprintf(f, "E%ld", exp10);
    }
    fclose(f);
}

/* How AWS's Java front end prints a value in a message: strings bare, lists
 * as [a, b], maps as {k=v}. */
static void render(FILE *f, const json_t *j, const struct shape *sh)
{
    long long ll;
    size_t i;
    const char *k;
    json_t *v;
    char num[40];

    if (!j || json_is_null(j)) {
        fputs("null", f);
    } else if (json_is_string(j)) {
        fwrite(json_string_value(j), 1, json_string_length(j), f);
    } else if (json_is_number(j) && sh && sh->kind == K_DOUBLE) {
        java_double(json_number_value(j), num, sizeof num);
        fputs(num, f);
    } else if (integer_of(j, &ll)) {
        fprintf(f, "%lld", ll);
    } else if (json_is_real(j)) {
        java_double(json_real_value(j), num, sizeof num);
        fputs(num, f);
    } else if (json_is_boolean(j)) {
        fputs(json_is_true(j) ? "true" : "false", f);
    } else if (json_is_array(j)) {
        fputc('[', f);
        json_array_foreach (unconst(j), i, v) {
            if (i)
                fputs(", ", f);
            render(f, v, sh ? sh->elem : NULL);
        }
        fputc(']', f);
    } else if (json_is_object(j)) {
        bool first = true;

        fputc('{', f);
        json_object_foreach (unconst(j), k, v) {
            if (!first)
                fputs(", ", f);
            first = false;
            fprintf(f, "%s=", k);
            render(f, v, sh ? sh->elem : NULL);
        }
        fputc('}', f);
    }
}

/* ---- pass 1: JSON types (SerializationException) ---------------------------------- */

static const char *token_of(const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_STRING:
        return "STRING_VALUE";
    case JSON_INTEGER:
    case JSON_REAL:
        return "NUMBER_VALUE";
    case JSON_TRUE:
        return "TRUE_VALUE";
    case JSON_FALSE:
        return "FALSE_VALUE";
    case JSON_OBJECT:
    case JSON_ARRAY:
    case JSON_NULL:
    default:
        return "VALUE";
    }
}

static const char *target_of(enum kind k)
{
    switch (k) {
    case K_INT:
        return "an Integer";
    case K_BOOL:
        return "a Boolean";
    case K_DOUBLE:
        return "a Double";
    case K_STRUCT:
        return "a Structure";
    case K_LIST:
        return "a List";
    case K_MAP:
        return "a Map";
    case K_STRING:
    case K_BLOB:
    default:
        return "a String";
    }
}

/* The deserializer's words (Coral's, as other AWS JSON services show them:
 * "STRING_VALUE can not be converted to an Integer", "Start of list found
 * where not expected"). */
static int type_error(const json_t *j, enum kind k, struct api_error *err)
{
    if (json_is_object(j))
        return arn_error_set(err, "SerializationException", 400,
                             "Start of structure or map found where not expected.");
    if (json_is_array(j))
        return arn_error_set(err, "SerializationException", 400,
                             "Start of list found where not expected");
    return arn_error_set(err, "SerializationException", 400, "%s can not be converted to %s",
                         token_of(j), target_of(k));
}

static int check_members_types(const json_t *obj, const struct member *m, struct api_error *err);

static int check_type(const json_t *j, const struct shape *sh, struct api_error *err)
{
    long long ll;
    size_t i;
    const char *k;
    json_t *v;

    if (!j || json_is_null(j))
        return 0;
    switch (sh->kind) {
    case K_STRING:
    case K_BLOB:
        return json_is_string(j) ? 0 : type_error(j, sh->kind, err);
    case K_INT:
        return integer_of(j, &ll) ? 0 : type_error(j, sh->kind, err);
    case K_BOOL:
        return json_is_boolean(j) ? 0 : type_error(j, sh->kind, err);
    case K_DOUBLE:
        return json_is_number(j) ? 0 : type_error(j, sh->kind, err);
    case K_STRUCT:
        if (!json_is_object(j))
            return type_error(j, sh->kind, err);
        return check_members_types(j, sh->members, err);
    case K_LIST:
        if (!json_is_array(j))
            return type_error(j, sh->kind, err);
        json_array_foreach (unconst(j), i, v)
            if (check_type(v, sh->elem, err) < 0)
                return -EINVAL;
        return 0;
    case K_MAP:
        if (!json_is_object(j))
            return type_error(j, sh->kind, err);
        json_object_foreach (unconst(j), k, v)
            if (check_type(v, sh->elem, err) < 0)
                return -EINVAL;
        return 0;
    default:
        return 0;
    }
}

static int check_members_types(const json_t *obj, const struct member *m, struct api_error *err)
{
    for (; m->name; m++)
        if (check_type(json_object_get(obj, m->name), m->shape, err) < 0)
            return -EINVAL;
    return 0;
}

/* ---- pass 2: model constraints (ValidationException) ------------------------------ */

struct memtext {
    FILE *f;
    char *buf;
    size_t len;
};

static bool memtext_open(struct memtext *t)
{
    t->buf = NULL;
    t->len = 0;
    t->f = open_memstream(&t->buf, &t->len);
    return t->f != NULL;
}

/* Closes the stream; t->buf then holds the text (or is NULL). */
static void memtext_close(struct memtext *t)
{
    if (t->f && fclose(t->f) != 0) {
        free(t->buf);
        t->buf = NULL;
    }
    t->f = NULL;
}

static void add(struct arn_violations *v, const json_t *j, const struct shape *sh,
                const char *field, const char *constraint)
{
    struct memtext t;

    if (sh->sensitive) {
        arn_violation_add(v, ARN_VALUE_HIDDEN, NULL, 0, field, constraint);
        return;
    }
    if (!memtext_open(&t)) {
        v->oom = true;
        return;
    }
    render(t.f, j, sh);
    memtext_close(&t);
    if (!t.buf)
        v->oom = true;
    else
        arn_violation_add(v, ARN_VALUE_TEXT, t.buf, strlen(t.buf), field, constraint);
    free(t.buf);
}

enum { BROKE_MAX = 1, BROKE_MIN = 2, BROKE_PATTERN = 4, BROKE_ENUM = 8, BROKE_ALL = 15 };

static unsigned broken_string(const struct shape *sh, const char *s, size_t len)
{
    unsigned b = 0;
    size_t units = utf16_len(s, len);
    const char *const *e;

    if (sh->has_max && (long long) units > sh->max)
        b |= BROKE_MAX;
    if (sh->has_min && (long long) units < sh->min)
        b |= BROKE_MIN;
    if (sh->match && !sh->match(s, len))
        b |= BROKE_PATTERN;
    if (sh->enums) {
        for (e = sh->enums; *e; e++)
            if (strlen(*e) == len && memcmp(*e, s, len) == 0)
                break;
        if (!*e)
            b |= BROKE_ENUM;
    }
    return b;
}

/* Which of a scalar's constraints j breaks; a null breaks them all. */
static unsigned broken(const json_t *j, const struct shape *sh)
{
    long long ll;
    double d;

    if (!j || json_is_null(j))
        return BROKE_ALL;
    switch (sh->kind) {
    case K_STRING:
    case K_BLOB:
        return broken_string(sh, json_string_value(j), json_string_length(j));
    case K_INT:
        if (!integer_of(j, &ll))
            return 0;
        return (sh->has_max && ll > sh->max ? BROKE_MAX : 0) |
               (sh->has_min && ll < sh->min ? BROKE_MIN : 0);
    case K_DOUBLE:
        d = json_number_value(j);
        return (sh->has_max && d > sh->dmax ? BROKE_MAX : 0) |
               (sh->has_min && d < sh->dmin ? BROKE_MIN : 0);
    case K_BOOL:
    case K_STRUCT:
    case K_LIST:
    case K_MAP:
    default:
        return 0;
    }
}

/* The constraints of sh picked by mask, in the model's order (max, min,
 * pattern, enum), joined by ", ". Returns how many were written. */
static unsigned describe(FILE *f, const struct shape *sh, unsigned mask)
{
    const char *what = sh->kind == K_INT || sh->kind == K_DOUBLE ? "value" : "length";
    const char *const *e;
    unsigned n = 0;
    char num[40];

    if ((mask & BROKE_MAX) && sh->has_max) {
        if (sh->kind == K_DOUBLE)
            java_double(sh->dmax, num, sizeof num);
        else
            snprintf(num, sizeof num, "%lld", sh->max);
        fprintf(f, "%sMember must have %s less than or equal to %s", n++ ? ", " : "", what, num);
    }
    if ((mask & BROKE_MIN) && sh->has_min) {
        if (sh->kind == K_DOUBLE)
            java_double(sh->dmin, num, sizeof num);
        else
            snprintf(num, sizeof num, "%lld", sh->min);
        fprintf(f, "%sMember must have %s greater than or equal to %s", n++ ? ", " : "", what,
                num);
    }
    if ((mask & BROKE_PATTERN) && sh->match)
        fprintf(f, "%sMember must satisfy regular expression pattern: %s", n++ ? ", " : "",
                sh->pattern);
    if ((mask & BROKE_ENUM) && sh->enums) {
        fprintf(f, "%sMember must satisfy enum value set: [", n++ ? ", " : "");
        for (e = sh->enums; *e; e++)
            fprintf(f, "%s%s", *e, e[1] ? ", " : "");
        fputc(']', f);
    }
    return n;
}

/* Adds one violation of j whose constraint text is sh's constraints picked
 * by mask, after lead ("Member must satisfy constraint: [" ... "]") when
 * the constraint is on a list's or map's elements. */
static void add_described(struct arn_violations *v, const json_t *j, const struct shape *whole,
                          const char *field, const struct shape *sh, unsigned mask,
                          const char *lead)
{
    struct memtext t;

    if (!memtext_open(&t)) {
        v->oom = true;
        return;
    }
    if (lead) {
        fprintf(t.f, "%s [", lead);
        if (describe(t.f, sh, mask))
            fputs(", ", t.f);
        fputs("Member must not be null]", t.f);
    } else {
        describe(t.f, sh, mask);
    }
    memtext_close(&t);
    if (!t.buf)
        v->oom = true;
    else
        add(v, j, whole, field, t.buf);
    free(t.buf);
}

static void check_members(struct arn_violations *v, const json_t *obj, const struct member *m,
                          const char *path);

/* One violation per broken constraint of a scalar; for a list or map, its
 * own length, then one for all its elements (keys, then values). */
static void check_value(struct arn_violations *v, const json_t *j, const struct shape *sh,
                        const char *field)
{
    static const unsigned order[] = {BROKE_MAX, BROKE_MIN, BROKE_PATTERN, BROKE_ENUM};
    unsigned b = 0, i;
    const char *k;
    size_t n = json_is_array(j) ? json_array_size(j) : 0, idx;
    json_t *e;

    switch (sh->kind) {
    case K_STRUCT:
        check_members(v, j, sh->members, field);
        return;
    case K_LIST:
        if (sh->has_max && (long long) n > sh->max)
            add_described(v, j, sh, field, sh, BROKE_MAX, NULL);
        if (sh->has_min && (long long) n < sh->min)
            add_described(v, j, sh, field, sh, BROKE_MIN, NULL);
        json_array_foreach (unconst(j), idx, e)
            b |= broken(e, sh->elem);
        if (b)
            add_described(v, j, sh, field, sh->elem, BROKE_ALL, "Member must satisfy constraint:");
        return;
    case K_MAP:
        json_object_foreach (unconst(j), k, e)
            b |= broken_string(sh->key, k, strlen(k));
        if (b)
            add_described(v, j, sh, field, sh->key, BROKE_ALL, "Map keys must satisfy constraint:");
        b = 0;
        json_object_foreach (unconst(j), k, e)
            b |= broken(e, sh->elem);
        if (b)
            add_described(v, j, sh, field, sh->elem, BROKE_ALL,
                          "Map value must satisfy constraint:");
        return;
    case K_STRING:
    case K_BLOB:
    case K_INT:
    case K_DOUBLE:
    case K_BOOL:
    default:
        b = broken(j, sh);
        for (i = 0; i < sizeof order / sizeof order[0]; i++)
            if (b & order[i])
                add_described(v, j, sh, field, sh, order[i], NULL);
        return;
    }
}

static void check_members(struct arn_violations *v, const json_t *obj, const struct member *m,
                          const char *path)
{
    for (; m->name; m++) {
        char field[128];
        json_t *j = get(obj, m->name);

        /* Members are named in lowerCamelCase: ephemeralStorage.size. */
        snprintf(field, sizeof field, "%s%s%c%s", path, path[0] ? "." : "",
                 m->name[0] >= 'A' && m->name[0] <= 'Z' ? m->name[0] - 'A' + 'a' : m->name[0],
                 m->name + 1);
        if (!j) {
            if (m->required)
                arn_violation_add(v, ARN_VALUE_NULL, NULL, 0, field, "Member must not be null");
            continue;
        }
        check_value(v, j, m->shape, field);
    }
}

/* Types first, as the deserializer runs before validation. */
static int check_body_types(const json_t *body, const struct member *m, struct api_error *err)
{
    if (body && !json_is_object(body))
        return type_error(body, K_STRUCT, err);
    return body ? check_members_types(body, m, err) : 0;
}

/* ---- the service's rules ------------------------------------------------------------ */

static int out_of_memory(struct api_error *err)
{
    return arn_error_set(err, "ServiceException", 500, "Out of memory");
}

/* Keys Lambda sets itself and refuses from a function's configuration (AWS
 * developer guide, "Defined runtime environment variables"). TZ is listed
 * there too but among those a function may override, and AWS accepts it. */
static const struct {
    const char *key;
    const char *why;
} reserved_env[] = {
    {"_HANDLER", "the configured handler, read by the runtime"},
    {"_X_AMZN_TRACE_ID", "the X-Ray header of the invoke in progress"},
    {"AWS_DEFAULT_REGION", "the region the function runs in"},
    {"AWS_REGION", "the region the function runs in"},
    {"AWS_EXECUTION_ENV", "the managed runtime's id"},
    {"AWS_LAMBDA_FUNCTION_NAME", "the function's own name"},
    {"AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "the configured MemorySize"},
    {"AWS_LAMBDA_FUNCTION_VERSION", "the version the environment serves"},
    {"AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand or provisioned-concurrency"},
    {"AWS_LAMBDA_LOG_GROUP_NAME", "where the platform writes the logs"},
    {"AWS_LAMBDA_LOG_STREAM_NAME", "where the platform writes the logs"},
    {"AWS_ACCESS_KEY", "the execution role's credentials"},
    {"AWS_ACCESS_KEY_ID", "the execution role's credentials"},
    {"AWS_SECRET_ACCESS_KEY", "the execution role's credentials"},
    {"AWS_SESSION_TOKEN", "the execution role's credentials"},
    {"AWS_LAMBDA_RUNTIME_API", "where the runtime finds the Runtime API"},
    {"LAMBDA_TASK_ROOT", "where the function's code is"},
    {"LAMBDA_RUNTIME_DIR", "where the managed runtime is"},
};

/* Reserved keys first, then the size: the 4 KB are measured on the
 * variables as compact JSON, which the message quotes (AWS's wording, as
 * LocalStack records it). */
static int check_environment(const json_t *vars, struct api_error *err)
{
    struct memtext t;
    const char *k;
    json_t *e;
    unsigned n = 0;
    size_t i;
    char *dump;
    int rc = 0;

    if (!vars)
        return 0;
    if (!memtext_open(&t))
        return out_of_memory(err);
    json_object_foreach (unconst(vars), k, e) {
        for (i = 0; i < sizeof reserved_env / sizeof reserved_env[0]; i++) {
            if (strcmp(k, reserved_env[i].key) == 0) {
                fprintf(t.f, "%s%s", n++ ? ", " : "", k);
                break;
            }
        }
    }
    memtext_close(&t);
    if (!t.buf)
        return out_of_memory(err);
    if (n)
        rc = arn_error_set(err, "InvalidParameterValueException", 400,
                           "Lambda was unable to configure your environment variables because the "
                           "environment variables you have provided contains reserved keys that "
                           "are currently not supported for modification. Reserved keys used in "
                           "this request: %s",
                           t.buf);
    free(t.buf);
    if (rc < 0)
        return rc;
    dump = json_dumps(vars, JSON_COMPACT);
    if (!dump)
        return out_of_memory(err);
    if (strlen(dump) > VALIDATE_ENV_MAX)
        rc = arn_error_set(err, "InvalidParameterValueException", 400,
                           "Lambda was unable to configure your environment variables because the "
                           "environment variables you have provided exceeded the 4KB limit. "
                           "String measured: %s",
                           dump);
    free(dump);
    return rc;
}

static int image_unsupported(struct api_error *err)
{
    return arn_error_set(err, "InvalidParameterValueException", 400,
                         "lambdad does not run container images (PackageType Image): package the "
                         "function as a .zip file archive (PackageType Zip) instead.");
}

static bool is_base64_char(char c)
{
    return is_alpha(c) || is_digit(c) || c == '+' || c == '/';
}

/* Bytes that n base64 characters (padding removed) decode to. */
static size_t base64_decoded_len(size_t n)
{
    return n / 4 * 3 + (n % 4 == 3 ? 2 : n % 4 == 2 ? 1 : 0);
}

/* The size limit is checked first, from the length alone, as AWS's front end
 * refuses an oversized upload before reading it. What ld_base64_decode()
 * would refuse cannot be a zip: Lambda's "Could not unzip" message. */
static int check_zip(const json_t *zip, struct api_error *err)
{
    const char *s = json_string_value(zip);
    size_t n = json_string_length(zip), i;

    while (n > 0 && s[n - 1] == '=')
        n--;
    if (base64_decoded_len(n) > VALIDATE_ZIP_MAX)
        return arn_error_set(err, "RequestEntityTooLargeException", 413,
                             "Zipped size must be smaller than %u bytes", VALIDATE_ZIP_MAX);
    for (i = 0; i < n && is_base64_char(s[i]); i++)
        ;
    if (n == 0 || n % 4 == 1 || i < n)
        return arn_error_set(err, "InvalidParameterValueException", 400,
                             "Could not unzip uploaded file. Please check your file, then try to "
                             "upload again.");
    return 0;
}

/* Where the code may come from, and how each operation names it. */
struct code_names {
    const char *image; /* message for ImageUri; NULL where the shape has none */
    const char *s3;
    const char *zip;
    const char *missing;
};

static const struct code_names function_code = {
    "", "Code.S3Bucket, Code.S3Key", "Code.ZipFile", "Please provide a source for function code."};
/* AWS's own words for ImageUri on a Zip function, and every lambdad function is one. */
static const struct code_names update_code = {
    "Please don't provide ImageUri when updating a function with packageType Zip.",
    "S3Bucket, S3Key", "ZipFile", "Please provide a source for function code."};
static const struct code_names layer_content = {NULL, "Content.S3Bucket, Content.S3Key",
                                                "Content.ZipFile",
                                                "Please provide a source for the layer content."};

static int check_code(const json_t *code, const struct code_names *names, struct api_error *err)
{
    const json_t *zip = get(code, "ZipFile");

    if (names->image && get(code, "ImageUri"))
        return names->image[0]
                   ? arn_error_set(err, "InvalidParameterValueException", 400, "%s", names->image)
                   : image_unsupported(err);
    if (get(code, "S3Bucket") || get(code, "S3Key") || get(code, "S3ObjectVersion"))
        return arn_error_set(err, "InvalidParameterValueException", 400,
                             "lambdad does not fetch code from Amazon S3 (%s): send the .zip file "
                             "itself as %s.",
                             names->s3, names->zip);
    if (!zip)
        return arn_error_set(err, "InvalidParameterValueException", 400, "%s", names->missing);
    return check_zip(zip, err);
}

/* The runtimes offered are listed as AWS lists its own (its message, as
 * CloudFormation and the SDKs show it: "Value dotnetcore2.2 at 'runtime'
 * failed to satisfy constraint: ... or be a valid ARN"). */
static int check_runtime(const json_t *runtime, const struct validate_context *ctx,
                         struct api_error *err)
{
    const char *rt = json_string_value(runtime);
    const char *const *r;
    struct memtext t;
    int rc;

    for (r = ctx->runtimes; r && *r; r++)
        if (strcmp(*r, rt) == 0)
            return 0;
    if (!memtext_open(&t))
        return out_of_memory(err);
    for (r = ctx->runtimes; r && *r; r++)
        fprintf(t.f, "%s%s", r == ctx->runtimes ? "" : ", ", *r);
    memtext_close(&t);
    if (!t.buf)
        return out_of_memory(err);
    rc = arn_error_set(err, "InvalidParameterValueException", 400,
                       "Value %s at 'runtime' failed to satisfy constraint: Member must satisfy "
                       "enum value set: [%s] or be a valid ARN",
                       rt, t.buf);
    free(t.buf);
    return rc;
}

/* Functions run on the host's own CPU: no emulation of the other one. */
static int check_architectures(const json_t *archs, const struct validate_context *ctx,
                               struct api_error *err)
{
    const char *a;

    if (!archs)
        return 0;
    a = json_string_value(json_array_get(archs, 0));
    if (a && strcmp(a, ctx->arch) != 0)
        return arn_error_set(err, "InvalidParameterValueException", 400,
                             "lambdad runs functions only on this host's architecture, %s; "
                             "architecture %s is not supported here.",
                             ctx->arch, a);
    return 0;
}

/* In list order, as Lambda does: count, then per layer its account, region,
 * and whether an earlier one is the same layer (messages as LocalStack
 * records AWS's). Whether the version exists is the registry's question. */
static int check_layers(const json_t *layers, const struct validate_context *ctx,
                        struct api_error *err)
{
    struct arn_layer l[VALIDATE_LAYERS_MAX];
    size_t n = json_array_size(layers), i, j;

    if (n > VALIDATE_LAYERS_MAX)
        return arn_error_set(err, "InvalidParameterValueException", 400,
                             "Cannot reference more than %u layers.", VALIDATE_LAYERS_MAX);
    for (i = 0; i < n; i++) {
        const json_t *e = json_array_get(layers, i);
        const char *s = json_string_value(e);

        if (!arn_parse_layer_version_arn(s, json_string_length(e), &l[i]))
            return arn_error_set(err, "ValidationException", 400, "Invalid layer ARN: %s", s);
        if (strcmp(l[i].account, ctx->scope->account) != 0)
            return arn_access_denied(ctx->scope, "lambda:GetLayerVersion", s, err);
        if (strcmp(l[i].region, ctx->scope->region) != 0)
            return arn_error_set(err, "InvalidParameterValueException", 400,
                                 "Layers are not in the same region as the function. Layers are "
                                 "expected to be in region %s.",
                                 ctx->scope->region);
        for (j = 0; j < i; j++) {
            if (strcmp(l[j].name, l[i].name) == 0 && strcmp(l[j].region, l[i].region) == 0 &&
                strcmp(l[j].account, l[i].account) == 0 &&
                strcmp(l[j].partition, l[i].partition) == 0)
                return arn_error_set(err, "InvalidParameterValueException", 400,
                                     "Two different versions of the same layer are not allowed "
                                     "to be referenced in the same function. %s and %s are "
                                     "versions of the same layer.",
                                     json_string_value(json_array_get(layers, j)), s);
        }
    }
    return 0;
}

/* AliasRoutingConfiguration beyond its model constraints (messages as
 * LocalStack records AWS's). */
static int check_routing(const json_t *weights, const json_t *version, struct api_error *err)
{
    const char *key, *v = json_string_value(version);
    json_t *w;

    if (json_object_size(weights) > 1)
        return arn_error_set(err, "InvalidParameterValueException", 400,
                             "Number of items in AdditionalVersionWeights cannot be greater "
                             "than 1");
    if (json_object_size(weights) == 0 || !v)
        return 0;
    json_object_foreach (unconst(weights), key, w) {
        if (strcmp(key, v) == 0)
            return arn_error_set(err, "InvalidParameterValueException", 400,
                                 "Invalid function version %s. Function version %s is already "
                                 "included in routing configuration.",
                                 v, v);
    }
    if (strcmp(v, "$LATEST") == 0)
        return arn_error_set(err, "InvalidParameterValueException", 400,
                             "$LATEST is not supported for an alias pointing to more than 1 "
                             "version");
    return 0;
}

/* ---- the normalised copies ----------------------------------------------------------- */

static void put(json_t *o, const char *k, json_t *v, bool *oom)
{
    /* json_object_set_new() takes v even when it fails. */
    if (!v || json_object_set_new(o, k, v) < 0)
        *oom = true;
}

/* The body's member itself, shared. */
static void keep(json_t *o, const json_t *in, const char *k, bool *oom)
{
    json_t *v = get(in, k);

    if (v)
        put(o, k, json_incref(v), oom);
}

static json_t *integer_json(const json_t *j)
{
    long long ll = 0;

    integer_of(j, &ll);
    return json_integer(ll);
}

static void keep_integer(json_t *o, const json_t *in, const char *k, long long dflt,
                         bool use_default, bool *oom)
{
    json_t *v = get(in, k);

    if (v)
        put(o, k, integer_json(v), oom);
    else if (use_default)
        put(o, k, json_integer(dflt), oom);
}

static void keep_string(json_t *o, const json_t *in, const char *k, const char *dflt, bool *oom)
{
    json_t *v = get(in, k);

    if (v)
        put(o, k, json_incref(v), oom);
    else if (dflt)
        put(o, k, json_string(dflt), oom);
}

static void keep_bool(json_t *o, const json_t *in, const char *k, bool dflt, bool *oom)
{
    json_t *v = get(in, k);

    put(o, k, v ? json_incref(v) : json_boolean(dflt), oom);
}

/* A shallow copy: a list or map of its own, sharing the elements. */
static void keep_copy(json_t *o, const json_t *in, const char *k, bool *oom)
{
    json_t *v = get(in, k);

    if (v)
        put(o, k, json_copy(v), oom);
}

static json_t *environment_json(const json_t *env, bool *oom)
{
    json_t *o = json_object(), *vars = get(env, "Variables");

    if (!o)
        return NULL;
    put(o, "Variables", vars ? json_copy(vars) : json_object(), oom);
    return o;
}

static json_t *vpc_json(const json_t *vpc, bool *oom)
{
    json_t *o = json_object(), *s = get(vpc, "SubnetIds"), *g = get(vpc, "SecurityGroupIds");

    if (!o)
        return NULL;
    put(o, "SubnetIds", s ? json_copy(s) : json_array(), oom);
    put(o, "SecurityGroupIds", g ? json_copy(g) : json_array(), oom);
    keep(o, vpc, "Ipv6AllowedForDualStack", oom);
    return o;
}

static json_t *one_member(const char *k, json_t *v, bool *oom)
{
    json_t *o = json_object();

    if (o)
        put(o, k, v, oom);
    else
        json_decref(v);
    return o;
}

/* {k: the member of in, or dflt}; an object of its own. */
static json_t *sub_integer(const json_t *in, const char *k, long long dflt, bool *oom)
{
    json_t *o = json_object();

    if (o)
        keep_integer(o, in, k, dflt, true, oom);
    return o;
}

static json_t *sub_string(const json_t *in, const char *k, const char *dflt, bool *oom)
{
    json_t *o = json_object();

    if (o)
        keep_string(o, in, k, dflt, oom);
    return o;
}

/* LogFormat Text by default; JSON brings INFO levels unless given (as
 * Lambda fills them in). fn_name gives the default group on creation. */
static json_t *logging_json(const json_t *lc, const char *fn_name, bool *oom)
{
    json_t *o = json_object(), *fmt = get(lc, "LogFormat");
    bool is_json = fmt && strcmp(json_string_value(fmt), "JSON") == 0;
    char group[300];

    if (!o)
        return NULL;
    keep_string(o, lc, "LogFormat", fn_name ? "Text" : NULL, oom);
    keep_string(o, lc, "ApplicationLogLevel", is_json ? "INFO" : NULL, oom);
    keep_string(o, lc, "SystemLogLevel", is_json ? "INFO" : NULL, oom);
    if (fn_name)
        snprintf(group, sizeof group, "/aws/lambda/%s", fn_name);
    keep_string(o, lc, "LogGroup", fn_name ? group : NULL, oom);
    return o;
}

static json_t *routing_json(const json_t *rc, bool *oom)
{
    json_t *weights = json_object(), *w, *in = get(rc, "AdditionalVersionWeights");
    const char *k;

    if (!weights)
        return NULL;
    if (in) {
        json_object_foreach (in, k, w) {
            put(weights, k, json_real(json_number_value(w)), oom);
        }
    }
    return one_member("AdditionalVersionWeights", weights, oom);
}

/* Finishes a copy: hands it out, or drops it when memory ran out. */
static int deliver(json_t *o, bool oom, json_t **out, struct api_error *err)
{
    if (!o || oom) {
        json_decref(o);
        return out_of_memory(err);
    }
    *out = o;
    return 0;
}

/* Types, then the model's constraints over the whole body. */
static int check_model(const json_t *body, const struct member *m, struct api_error *err)
{
    struct arn_violations v = {0};

    if (check_body_types(body, m, err) < 0)
        return -EINVAL;
    check_members(&v, body, m, "");
    return arn_violations_report(&v, "ValidationException", err);
}

/* ---- the operations ----------------------------------------------------------------- */

int validate_create_function(const json_t *body, const struct validate_context *ctx,
                             json_t **out, struct api_error *err)
{
    struct arn_violations v = {0};
    struct arn_function fn;
    struct arn_function_request rq = {.shape = ARN_FN_CREATE, .action = "lambda:CreateFunction"};
    const char *type = "ValidationException";
    const json_t *name = get(body, "FunctionName"), *pt, *env, *archs, *sub;
    unsigned fn_violations;
    json_t *o;
    bool oom = false;

    *out = NULL;
    if (check_body_types(body, m_create_function, err) < 0)
        return -EINVAL;
    /* FunctionName is first in the model, so its violations lead the message. */
    if (name) {
        rq.name = json_string_value(name);
        rq.name_len = json_string_length(name);
        arn_add_function_violations(&v, rq.name, rq.name_len, ARN_FN_CREATE);
        type = arn_function_violation_type(rq.name, rq.name_len, ARN_FN_CREATE);
    }
    fn_violations = v.count;
    check_members(&v, body, m_create_function, "");
    if (v.count > fn_violations)
        type = "ValidationException";
    if (arn_violations_report(&v, type, err) < 0)
        return -EINVAL;
    if (arn_resolve_function(&rq, ctx->scope, &fn, err) < 0)
        return -EINVAL;

    pt = get(body, "PackageType");
    if (pt && strcmp(json_string_value(pt), "Image") == 0)
        return image_unsupported(err);
    if (check_code(get(body, "Code"), &function_code, err) < 0)
        return -EINVAL;
    if (!get(body, "Runtime") || !get(body, "Handler"))
        return arn_error_set(err, "InvalidParameterValueException", 400,
                             "Runtime and Handler are mandatory parameters for functions created "
                             "with deployment packages.");
    if (check_runtime(get(body, "Runtime"), ctx, err) < 0)
        return -EINVAL;
    archs = get(body, "Architectures");
    if (check_architectures(archs, ctx, err) < 0)
        return -EINVAL;
    env = get(body, "Environment");
    if (check_environment(get(env, "Variables"), err) < 0)
        return -EINVAL;
    if (check_layers(get(body, "Layers"), ctx, err) < 0)
        return -EINVAL;

    o = json_object();
    if (!o)
        return out_of_memory(err);
    put(o, "FunctionName", json_string(fn.name), &oom);
    keep(o, body, "Runtime", &oom);
    keep(o, body, "Role", &oom);
    keep(o, body, "Handler", &oom);
    put(o, "Code", one_member("ZipFile", json_incref(get(get(body, "Code"), "ZipFile")), &oom),
        &oom);
    keep_string(o, body, "Description", "", &oom);
    keep_integer(o, body, "Timeout", 3, true, &oom);
    keep_integer(o, body, "MemorySize", 128, true, &oom);
    keep_bool(o, body, "Publish", false, &oom);
    put(o, "PackageType", json_string("Zip"), &oom);
    if (archs) {
        keep_copy(o, body, "Architectures", &oom);
    } else {
        json_t *a = json_array();

        if (!a || json_array_append_new(a, json_string(ctx->arch)) < 0)
            oom = true;
        put(o, "Architectures", a, &oom);
    }
    put(o, "EphemeralStorage", sub_integer(get(body, "EphemeralStorage"), "Size", 512, &oom),
        &oom);
    put(o, "TracingConfig", sub_string(get(body, "TracingConfig"), "Mode", "PassThrough", &oom),
        &oom);
    put(o, "SnapStart", sub_string(get(body, "SnapStart"), "ApplyOn", "None", &oom), &oom);
    put(o, "LoggingConfig", logging_json(get(body, "LoggingConfig"), fn.name, &oom), &oom);
    if (env)
        put(o, "Environment", environment_json(env, &oom), &oom);
    keep_copy(o, body, "Layers", &oom);
    if (get(body, "VpcConfig"))
        put(o, "VpcConfig", vpc_json(get(body, "VpcConfig"), &oom), &oom);
    if ((sub = get(body, "DeadLetterConfig")))
        put(o, "DeadLetterConfig", sub_string(sub, "TargetArn", NULL, &oom), &oom);
    keep(o, body, "KMSKeyArn", &oom);
    keep_copy(o, body, "Tags", &oom);
    return deliver(o, oom, out, err);
}

int validate_update_function_configuration(const json_t *body,
                                           const struct validate_context *ctx, json_t **out,
                                           struct api_error *err)
{
    const json_t *runtime = get(body, "Runtime"), *env = get(body, "Environment"), *sub;
    json_t *o;
    bool oom = false;

    *out = NULL;
    if (check_model(body, m_update_configuration, err) < 0)
        return -EINVAL;
    if (runtime && check_runtime(runtime, ctx, err) < 0)
        return -EINVAL;
    if (check_environment(get(env, "Variables"), err) < 0)
        return -EINVAL;
    if (check_layers(get(body, "Layers"), ctx, err) < 0)
        return -EINVAL;

    o = json_object();
    if (!o)
        return out_of_memory(err);
    keep(o, body, "Role", &oom);
    keep(o, body, "Handler", &oom);
    keep(o, body, "Description", &oom);
    keep_integer(o, body, "Timeout", 0, false, &oom);
    keep_integer(o, body, "MemorySize", 0, false, &oom);
    if ((sub = get(body, "VpcConfig")))
        put(o, "VpcConfig", vpc_json(sub, &oom), &oom);
    if (env)
        put(o, "Environment", environment_json(env, &oom), &oom);
    keep(o, body, "Runtime", &oom);
    if ((sub = get(body, "DeadLetterConfig")))
        put(o, "DeadLetterConfig", sub_string(sub, "TargetArn", NULL, &oom), &oom);
    keep(o, body, "KMSKeyArn", &oom);
    /* An empty TracingConfig or SnapStart changes nothing. */
    if ((sub = get(body, "TracingConfig")) && get(sub, "Mode"))
        put(o, "TracingConfig", sub_string(sub, "Mode", NULL, &oom), &oom);
    keep(o, body, "RevisionId", &oom);
    keep_copy(o, body, "Layers", &oom);
    if ((sub = get(body, "EphemeralStorage")))
        put(o, "EphemeralStorage", sub_integer(sub, "Size", 512, &oom), &oom);
    if ((sub = get(body, "SnapStart")) && get(sub, "ApplyOn"))
        put(o, "SnapStart", sub_string(sub, "ApplyOn", NULL, &oom), &oom);
    if ((sub = get(body, "LoggingConfig")))
        put(o, "LoggingConfig", logging_json(sub, NULL, &oom), &oom);
    return deliver(o, oom, out, err);
}

int validate_update_function_code(const json_t *body, const struct validate_context *ctx,
                                  json_t **out, struct api_error *err)
{
    json_t *o;
    bool oom = false;

    *out = NULL;
    if (check_model(body, m_update_code, err) < 0)
        return -EINVAL;
    if (check_code(body, &update_code, err) < 0)
        return -EINVAL;
    if (check_architectures(get(body, "Architectures"), ctx, err) < 0)
        return -EINVAL;

    o = json_object();
    if (!o)
        return out_of_memory(err);
    keep(o, body, "ZipFile", &oom);
    keep_bool(o, body, "Publish", false, &oom);
    keep_bool(o, body, "DryRun", false, &oom);
    keep(o, body, "RevisionId", &oom);
    keep_copy(o, body, "Architectures", &oom);
    return deliver(o, oom, out, err);
}

int validate_publish_version(const json_t *body, json_t **out, struct api_error *err)
{
    json_t *o;
    bool oom = false;

    *out = NULL;
    if (check_model(body, m_publish_version, err) < 0)
        return -EINVAL;
    o = json_object();
    if (!o)
        return out_of_memory(err);
    keep(o, body, "CodeSha256", &oom);
    keep(o, body, "Description", &oom);
    keep(o, body, "RevisionId", &oom);
    return deliver(o, oom, out, err);
}

int validate_create_alias(const json_t *body, json_t **out, struct api_error *err)
{
    const json_t *rc = get(body, "RoutingConfig"), *weights = get(rc, "AdditionalVersionWeights");
    json_t *o;
    bool oom = false;

    *out = NULL;
    if (check_model(body, m_create_alias, err) < 0)
        return -EINVAL;
    if (check_routing(weights, get(body, "FunctionVersion"), err) < 0)
        return -EINVAL;
    o = json_object();
    if (!o)
        return out_of_memory(err);
    keep(o, body, "Name", &oom);
    keep(o, body, "FunctionVersion", &oom);
    keep_string(o, body, "Description", "", &oom);
    if (json_object_size(weights) > 0)
        put(o, "RoutingConfig", routing_json(rc, &oom), &oom);
    return deliver(o, oom, out, err);
}

int validate_update_alias(const json_t *body, json_t **out, struct api_error *err)
{
    const json_t *rc = get(body, "RoutingConfig");
    json_t *o;
    bool oom = false;

    *out = NULL;
    if (check_model(body, m_update_alias, err) < 0)
        return -EINVAL;
    if (check_routing(get(rc, "AdditionalVersionWeights"), get(body, "FunctionVersion"), err) < 0)
        return -EINVAL;
    o = json_object();
    if (!o)
        return out_of_memory(err);
    keep(o, body, "FunctionVersion", &oom);
    keep(o, body, "Description", &oom);
    if (rc)
        put(o, "RoutingConfig", routing_json(rc, &oom), &oom);
    keep(o, body, "RevisionId", &oom);
    return deliver(o, oom, out, err);
}

int validate_publish_layer_version(const json_t *body, const struct validate_context *ctx,
                                   json_t **out, struct api_error *err)
{
    const json_t *content = get(body, "Content");
    json_t *o;
    bool oom = false;

    (void) ctx; /* layers may declare any runtime and either architecture */
    *out = NULL;
    if (check_model(body, m_publish_layer, err) < 0)
        return -EINVAL;
    if (check_code(content, &layer_content, err) < 0)
        return -EINVAL;
    o = json_object();
    if (!o)
        return out_of_memory(err);
    put(o, "Content", one_member("ZipFile", json_incref(get(content, "ZipFile")), &oom), &oom);
    keep_string(o, body, "Description", "", &oom);
    keep_copy(o, body, "CompatibleRuntimes", &oom);
    keep_copy(o, body, "CompatibleArchitectures", &oom);
    keep(o, body, "LicenseInfo", &oom);
    return deliver(o, oom, out, err);
}

/* ---- Invoke ------------------------------------------------------------------------- */

static const char *const invocation_types[] = {"Event", "RequestResponse", "DryRun", NULL};
static const char *const log_types[] = {"None", "Tail", NULL};

static void check_header_enum(struct arn_violations *v, const char *value, const char *field,
                              const char *const *set)
{
    const struct shape sh = {.kind = K_STRING, .enums = set};
    json_t *j;

    if (!broken_string(&sh, value, strlen(value)))
        return;
    /* Header bytes need not be UTF-8; the message is made safe in arn.c. */
    j = json_stringn_nocheck(value, strlen(value));
    if (j)
        add_described(v, j, &sh, field, &sh, BROKE_ENUM, NULL);
    else
        v->oom = true;
    json_decref(j);
}

/* Base64 of a JSON object, at most 3583 bytes decoded; refused as AWS does,
 * with one message for every way it can be wrong. */
static int decode_client_context(const char *b64, char **out, struct api_error *err)
{
    size_t n = strlen(b64), m = n;
    unsigned char *dec;
    long len;
    json_t *doc;

    while (m > 0 && b64[m - 1] == '=')
        m--;
    if (base64_decoded_len(m) > VALIDATE_CLIENT_CONTEXT_MAX)
        goto refuse;
    dec = malloc(n / 4 * 3 + 3);
    if (!dec)
        return out_of_memory(err);
    len = ld_base64_decode(b64, n, dec);
    doc = len > 0 ? json_loadb((const char *) dec, (size_t) len, 0, NULL) : NULL;
    free(dec);
    if (!json_is_object(doc)) {
        json_decref(doc);
        goto refuse;
    }
    /* One line: it travels on to the runtime as a header. */
    *out = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    return *out ? 0 : out_of_memory(err);
refuse:
    return arn_error_set(err, "InvalidRequestContentException", 400,
                         "Client context must be a valid Base64-encoded JSON object.");
}

int validate_invoke(const struct validate_invoke_request *rq, struct validate_invoke *out,
                    struct api_error *err)
{
    struct arn_violations v = {0};
    const char *type = rq->invocation_type ? rq->invocation_type : "RequestResponse";
    const char *log = rq->log_type ? rq->log_type : "None";

    memset(out, 0, sizeof *out);
    /* The request size is refused before anything in it is read. */
    if (rq->payload_len > VALIDATE_INVOKE_SYNC_MAX)
        return arn_error_set(err, "RequestEntityTooLargeException", 413,
                             "Request must be smaller than %u bytes for the InvokeFunction "
                             "operation",
                             VALIDATE_INVOKE_SYNC_MAX);
    check_header_enum(&v, type, "invocationType", invocation_types);
    check_header_enum(&v, log, "logType", log_types);
    if (arn_violations_report(&v, "ValidationException", err) < 0)
        return -EINVAL;
    if (strcmp(type, "Event") == 0)
        out->type = VALIDATE_INVOKE_EVENT;
    else if (strcmp(type, "DryRun") == 0)
        out->type = VALIDATE_INVOKE_DRY_RUN;
    else
        out->type = VALIDATE_INVOKE_REQUEST_RESPONSE;
    if (out->type == VALIDATE_INVOKE_EVENT && rq->payload_len > VALIDATE_INVOKE_EVENT_MAX)
        return arn_error_set(err, "RequestEntityTooLargeException", 413,
                             "%zu byte payload is too large for the Event invocation type (limit "
                             "%u bytes)",
                             rq->payload_len, VALIDATE_INVOKE_EVENT_MAX);
    out->tail = out->type == VALIDATE_INVOKE_REQUEST_RESPONSE && strcmp(log, "Tail") == 0;
    if (rq->client_context && rq->client_context[0])
        return decode_client_context(rq->client_context, &out->client_context, err);
    return 0;
}
