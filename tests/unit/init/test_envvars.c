/* tests/unit/init/test_envvars.c: the environment a runtime and its external
 * extensions start with (src/init/envvars.c, via init-internal.h).
 *
 * Layers, later winning: unreserved defaults, the function's variables, the
 * reserved variables (execution-environment.md §1). Extensions see the same
 * set minus the runtime-only variables (extensions-api.md §3). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "init/init-internal.h"

#include "../checks.h"

/* ---- helpers ------------------------------------------------------------ */

/* Criterion ignores LeakSanitizer at a worker's exit: check as the last step. */
/* The variables AWS keeps from extensions (extensions-api.md §3). */
static const char *const runtime_only[] = {
    "AWS_EXECUTION_ENV",        "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_XRAY_CONTEXT_MISSING", "AWS_XRAY_DAEMON_ADDRESS",   "LAMBDA_RUNTIME_DIR",
    "LAMBDA_TASK_ROOT",         "_AWS_XRAY_DAEMON_ADDRESS",  "_AWS_XRAY_DAEMON_PORT",
    "_HANDLER",
};
#define N_RUNTIME_ONLY (sizeof runtime_only / sizeof runtime_only[0])

static struct config base_config(char **env, size_t envc)
{
    struct config c = {
        .function_name = "my-func",
        .function_version = "$LATEST",
        .handler = "index.handler",
        .region = "eu-west-3",
        .account_id = "123456789012",
        .log_group = "/aws/lambda/my-func",
        .log_stream = "2024/01/15/[$LATEST]3f1c9d0e8a7b4c2d9e6f5a4b3c2d1e0f",
        .init_type = "on-demand",
        .runtime_id = "python3.12",
        .extensions_dir = "/opt/extensions",
        .task_root = "/var/task",
        .rapi_addr = "127.0.0.1:9001",
        .memory_mb = 1536,
        .timeout_ms = 3000,
        .init_timeout_ms = 10000,
        .env = env,
        .envc = envc,
    };
    return c;
}

static size_t count(char **v)
{
    size_t n = 0;

    while (v[n])
        n++;
    return n;
}

/* Occurrences of NAME=... in v. */
static size_t occurrences(char **v, const char *name)
{
    size_t nl = strlen(name), n = 0;

    for (size_t i = 0; v[i]; i++)
        if (strncmp(v[i], name, nl) == 0 && v[i][nl] == '=')
            n++;
    return n;
}

/* The value of NAME, NULL when absent; fails on duplicates. */
static const char *get(char **v, const char *name)
{
    size_t nl = strlen(name);

    cr_assert_leq(occurrences(v, name), 1, "%s appears more than once", name);
    for (size_t i = 0; v[i]; i++)
        if (strncmp(v[i], name, nl) == 0 && v[i][nl] == '=')
            return v[i] + nl + 1;
    return NULL;
}

static void assert_var(char **v, const char *name, const char *want)
{
    const char *got = get(v, name);

    cr_assert_not_null(got, "%s missing", name);
    cr_assert_str_eq(got, want, "%s=%s, want %s", name, got, want);
}

/* Every entry is NAME=VALUE with a non-empty name, and no name repeats. */
static void assert_well_formed(char **v)
{
    for (size_t i = 0; v[i]; i++) {
        const char *eq = strchr(v[i], '=');
        char name[512];

        cr_assert_not_null(eq, "entry \"%s\" has no '='", v[i]);
        cr_assert_gt(eq - v[i], 0, "entry \"%s\" has an empty name", v[i]);
        cr_assert_lt((size_t) (eq - v[i]), sizeof name);
        memcpy(name, v[i], (size_t) (eq - v[i]));
        name[eq - v[i]] = '\0';
        cr_assert_eq(occurrences(v, name), 1, "%s appears more than once", name);
    }
}

/* ---- reserved and default variables ------------------------------------- */

Test(envvars, reserved_variables_from_config)
{
    struct config c = base_config(NULL, 0);
    char **v = envvars_runtime(&c);

    cr_assert_not_null(v);
    assert_well_formed(v);
    assert_var(v, "_HANDLER", "index.handler");
    assert_var(v, "AWS_REGION", "eu-west-3");
    assert_var(v, "AWS_DEFAULT_REGION", "eu-west-3");
    assert_var(v, "AWS_EXECUTION_ENV", "AWS_Lambda_python3.12");
    assert_var(v, "AWS_LAMBDA_FUNCTION_NAME", "my-func");
    assert_var(v, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1536");
    assert_var(v, "AWS_LAMBDA_FUNCTION_VERSION", "$LATEST");
    assert_var(v, "AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand");
    assert_var(v, "AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/my-func");
    assert_var(v, "AWS_LAMBDA_LOG_STREAM_NAME",
               "2024/01/15/[$LATEST]3f1c9d0e8a7b4c2d9e6f5a4b3c2d1e0f");
    assert_var(v, "AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001");
    assert_var(v, "LAMBDA_TASK_ROOT", "/var/task");
    assert_var(v, "LAMBDA_RUNTIME_DIR", "/var/runtime");
    assert_var(v, "TZ", ":UTC");
    envvars_free(v);
    assert_no_leaks();
}

Test(envvars, unreserved_defaults)
{
    struct config c = base_config(NULL, 0);
    char **v = envvars_runtime(&c);

    cr_assert_not_null(v);
    assert_var(v, "LANG", "en_US.UTF-8");
    assert_var(v, "PATH", "/usr/local/bin:/usr/bin/:/bin:/opt/bin");
    assert_var(v, "LD_LIBRARY_PATH",
               "/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib");
    assert_var(v, "AWS_XRAY_CONTEXT_MISSING", "LOG_ERROR");
    assert_var(v, "AWS_XRAY_DAEMON_ADDRESS", "169.254.79.129:2000");
    assert_var(v, "_AWS_XRAY_DAEMON_ADDRESS", "169.254.79.129");
    assert_var(v, "_AWS_XRAY_DAEMON_PORT", "2000");
    envvars_free(v);
    assert_no_leaks();
}

Test(envvars, ld_library_path_follows_task_root)
{
    struct config c = base_config(NULL, 0);
    char **v;

    c.task_root = "/srv/fn";
    v = envvars_runtime(&c);
    cr_assert_not_null(v);
    assert_var(v, "LD_LIBRARY_PATH",
               "/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/srv/fn:/srv/fn/lib:/opt/lib");
    assert_var(v, "LAMBDA_TASK_ROOT", "/srv/fn");
    envvars_free(v);
    assert_no_leaks();
}

Test(envvars, memory_size_is_decimal)
{
    static const struct {
        uint64_t mb;
        const char *want;
    } t[] = {{128, "128"}, {10240, "10240"}, {0, "0"}, {UINT64_MAX, "18446744073709551615"}};

    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        struct config c = base_config(NULL, 0);
        char **v;

        c.memory_mb = t[i].mb;
        v = envvars_runtime(&c);
        cr_assert_not_null(v);
        assert_var(v, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", t[i].want);
        envvars_free(v);
    }
    assert_no_leaks();
}

/* ---- layering ------------------------------------------------------------ */

Test(envvars, function_variables_are_passed)
{
    char *fenv[] = {"FOO=bar", "TABLE_NAME=orders", "EMPTY=", NULL};
    struct config c = base_config(fenv, 3);
    char **v = envvars_runtime(&c);

    cr_assert_not_null(v);
    assert_well_formed(v);
    assert_var(v, "FOO", "bar");
    assert_var(v, "TABLE_NAME", "orders");
    assert_var(v, "EMPTY", "");
    envvars_free(v);
    assert_no_leaks();
}

Test(envvars, reserved_variables_win_over_the_functions)
{
    char *fenv[] = {
        "_HANDLER=evil.handler",
        "AWS_REGION=mars-1",
        "AWS_DEFAULT_REGION=mars-1",
        "AWS_EXECUTION_ENV=AWS_Lambda_cobol",
        "AWS_LAMBDA_FUNCTION_NAME=other",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=99999",
        "AWS_LAMBDA_FUNCTION_VERSION=7",
        "AWS_LAMBDA_INITIALIZATION_TYPE=snap-start",
        "AWS_LAMBDA_LOG_GROUP_NAME=/x",
        "AWS_LAMBDA_LOG_STREAM_NAME=y",
        "AWS_LAMBDA_RUNTIME_API=10.0.0.1:1",
        "LAMBDA_TASK_ROOT=/tmp",
        "LAMBDA_RUNTIME_DIR=/tmp",
        "TZ=Europe/Paris",
        NULL,
    };
    struct config c = base_config(fenv, sizeof fenv / sizeof fenv[0] - 1);
    char **v = envvars_runtime(&c);

    cr_assert_not_null(v);
    assert_well_formed(v);
    assert_var(v, "_HANDLER", "index.handler");
    assert_var(v, "AWS_REGION", "eu-west-3");
    assert_var(v, "AWS_DEFAULT_REGION", "eu-west-3");
    assert_var(v, "AWS_EXECUTION_ENV", "AWS_Lambda_python3.12");
    assert_var(v, "AWS_LAMBDA_FUNCTION_NAME", "my-func");
    assert_var(v, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1536");
    assert_var(v, "AWS_LAMBDA_FUNCTION_VERSION", "$LATEST");
    assert_var(v, "AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand");
    assert_var(v, "AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/my-func");
    assert_var(v, "AWS_LAMBDA_LOG_STREAM_NAME",
               "2024/01/15/[$LATEST]3f1c9d0e8a7b4c2d9e6f5a4b3c2d1e0f");
    assert_var(v, "AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001");
    assert_var(v, "LAMBDA_TASK_ROOT", "/var/task");
    assert_var(v, "LAMBDA_RUNTIME_DIR", "/var/runtime");
    assert_var(v, "TZ", ":UTC");
    envvars_free(v);
    assert_no_leaks();
}

Test(envvars, functions_variables_win_over_unreserved_defaults)
{
    char *fenv[] = {
        "LANG=C.UTF-8",
        "PATH=/var/lang/bin:/usr/bin",
        "LD_LIBRARY_PATH=/opt/custom",
        "AWS_XRAY_CONTEXT_MISSING=IGNORE_ERROR",
        "AWS_XRAY_DAEMON_ADDRESS=10.1.1.1:3000",
        "_AWS_XRAY_DAEMON_ADDRESS=10.1.1.1",
        "_AWS_XRAY_DAEMON_PORT=3000",
        NULL,
    };
    struct config c = base_config(fenv, sizeof fenv / sizeof fenv[0] - 1);
    char **v = envvars_runtime(&c);

    cr_assert_not_null(v);
    assert_well_formed(v);
    assert_var(v, "LANG", "C.UTF-8");
    assert_var(v, "PATH", "/var/lang/bin:/usr/bin");
    assert_var(v, "LD_LIBRARY_PATH", "/opt/custom");
    assert_var(v, "AWS_XRAY_CONTEXT_MISSING", "IGNORE_ERROR");
    assert_var(v, "AWS_XRAY_DAEMON_ADDRESS", "10.1.1.1:3000");
    assert_var(v, "_AWS_XRAY_DAEMON_ADDRESS", "10.1.1.1");
    assert_var(v, "_AWS_XRAY_DAEMON_PORT", "3000");
    envvars_free(v);
    assert_no_leaks();
}

Test(envvars, later_duplicate_in_function_env_wins)
{
    char *fenv[] = {"DUP=first", "DUP=second", NULL};
    struct config c = base_config(fenv, 2);
    char **v = envvars_runtime(&c);

    cr_assert_not_null(v);
    assert_var(v, "DUP", "second");
    envvars_free(v);
    assert_no_leaks();
}

Test(envvars, names_are_case_sensitive_and_not_prefixes)
{
    char *fenv[] = {"lang=xx", "PATHX=/p", "PAT=/q", "_handler=h", NULL};
    struct config c = base_config(fenv, 4);
    char **v = envvars_runtime(&c);

    cr_assert_not_null(v);
    assert_well_formed(v);
    assert_var(v, "LANG", "en_US.UTF-8");
    assert_var(v, "lang", "xx");
    assert_var(v, "PATH", "/usr/local/bin:/usr/bin/:/bin:/opt/bin");
    assert_var(v, "PATHX", "/p");
    assert_var(v, "PAT", "/q");
    assert_var(v, "_handler", "h");
    assert_var(v, "_HANDLER", "index.handler");
    envvars_free(v);
    assert_no_leaks();
}

Test(envvars, values_containing_equals_survive)
{
    char *fenv[] = {
        "CONN=host=db;user=a;pass=b==",
        "B64=YWJj==",
        "EQ==",
        "URL=https://x/?a=1&b=2",
        NULL,
    };
    struct config c = base_config(fenv, 4);
    char **v = envvars_runtime(&c);
    char **x = envvars_extension(&c);

    cr_assert_not_null(v);
    cr_assert_not_null(x);
    for (int k = 0; k < 2; k++) {
        char **e = k ? x : v;

        assert_var(e, "CONN", "host=db;user=a;pass=b==");
        assert_var(e, "B64", "YWJj==");
        assert_var(e, "EQ", "=");
        assert_var(e, "URL", "https://x/?a=1&b=2");
    }
    envvars_free(v);
    envvars_free(x);
    assert_no_leaks();
}

Test(envvars, long_values_survive)
{
    size_t n = 64 * 1024;
    char *kv = malloc(n + 8);
    char *fenv[] = {kv, NULL};
    struct config c = base_config(fenv, 1);
    char **v;
    const char *got;

    cr_assert_not_null(kv);
    memcpy(kv, "BIG=", 4);
    memset(kv + 4, 'v', n);
    kv[4 + n] = '\0';
    v = envvars_runtime(&c);
    cr_assert_not_null(v);
    got = get(v, "BIG");
    cr_assert_not_null(got);
    cr_assert_eq(strlen(got), n);
    cr_assert_eq(strspn(got, "v"), n);
    envvars_free(v);
    free(kv);
    assert_no_leaks();
}

Test(envvars, malformed_entries_are_skipped)
{
    char *fenv[] = {"=x", "noequals", "", "=", "GOOD=1", "==y", NULL};
    struct config c = base_config(fenv, 6);
    struct config plain = base_config(NULL, 0);
    char **v = envvars_runtime(&c);
    char **ref = envvars_runtime(&plain);
    char **x = envvars_extension(&c);

    cr_assert_not_null(v);
    cr_assert_not_null(ref);
    cr_assert_not_null(x);
    assert_well_formed(v);
    assert_well_formed(x);
    assert_var(v, "GOOD", "1");
    assert_var(x, "GOOD", "1");
    /* Exactly one more entry than without the function's variables. */
    cr_assert_eq(count(v), count(ref) + 1, "got %zu entries, want %zu", count(v),
                 count(ref) + 1);
    for (size_t i = 0; v[i]; i++) {
        cr_assert_str_neq(v[i], "noequals");
        cr_assert_neq(v[i][0], '=', "entry \"%s\"", v[i]);
    }
    envvars_free(v);
    envvars_free(ref);
    envvars_free(x);
    assert_no_leaks();
}

/* ---- AWS_EXECUTION_ENV ---------------------------------------------------- */

Test(envvars, execution_env_only_for_managed_runtimes)
{
    static const struct {
        const char *id, *want; /* want NULL: unset */
    } t[] = {
        {"python3.12", "AWS_Lambda_python3.12"},
        {"nodejs20.x", "AWS_Lambda_nodejs20.x"},
        {"java21", "AWS_Lambda_java21"},
        {"ruby3.3", "AWS_Lambda_ruby3.3"},
        {"provided", NULL},
        {"provided.al2", NULL},
        {"provided.al2023", NULL},
        {"", NULL},
    };

    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        struct config c = base_config(NULL, 0);
        char **v, **x;
        const char *got;

        c.runtime_id = (char *) t[i].id;
        v = envvars_runtime(&c);
        x = envvars_extension(&c);
        cr_assert_not_null(v);
        cr_assert_not_null(x);
        got = get(v, "AWS_EXECUTION_ENV");
        if (t[i].want)
            cr_assert(got && strcmp(got, t[i].want) == 0, "runtime %s: AWS_EXECUTION_ENV=%s",
                      t[i].id, got ? got : "(unset)");
        else
            cr_assert_null(got, "runtime \"%s\": AWS_EXECUTION_ENV=%s, want unset", t[i].id, got);
        cr_assert_null(get(x, "AWS_EXECUTION_ENV"), "extension sees AWS_EXECUTION_ENV");
        envvars_free(v);
        envvars_free(x);
    }
    assert_no_leaks();
}

/* AWS_EXECUTION_ENV is reserved (execution-environment.md §1) and unset for
 * provided* runtimes: a function cannot make it appear there either. */
Test(envvars, function_cannot_set_execution_env_on_provided_runtime)
{
    char *fenv[] = {"AWS_EXECUTION_ENV=AWS_Lambda_python3.12", NULL};
    struct config c = base_config(fenv, 1);
    char **v;
    const char *got;

    c.runtime_id = "provided.al2023";
    v = envvars_runtime(&c);
    cr_assert_not_null(v);
    got = get(v, "AWS_EXECUTION_ENV");
    cr_expect_null(got, "provided runtime sees the function's AWS_EXECUTION_ENV=%s", got);
    envvars_free(v);
    assert_no_leaks();
}

/* ---- extensions ------------------------------------------------------------ */

Test(envvars, extension_env_lacks_runtime_only_variables)
{
    char *fenv[] = {"FOO=bar", NULL};
    struct config c = base_config(fenv, 1);
    char **v = envvars_runtime(&c);
    char **x = envvars_extension(&c);

    cr_assert_not_null(v);
    cr_assert_not_null(x);
    assert_well_formed(x);
    for (size_t i = 0; i < N_RUNTIME_ONLY; i++) {
        cr_assert_not_null(get(v, runtime_only[i]), "runtime lacks %s", runtime_only[i]);
        cr_assert_null(get(x, runtime_only[i]), "extension sees %s", runtime_only[i]);
    }
    envvars_free(v);
    envvars_free(x);
    assert_no_leaks();
}

Test(envvars, extension_env_is_runtime_env_minus_runtime_only)
{
    char *fenv[] = {"FOO=bar", "LANG=C", "AWS_XRAY_CONTEXT_MISSING=IGNORE_ERROR", NULL};
    struct config c = base_config(fenv, 3);
    char **v = envvars_runtime(&c);
    char **x = envvars_extension(&c);
    size_t kept = 0;

    cr_assert_not_null(v);
    cr_assert_not_null(x);
    for (size_t i = 0; v[i]; i++) {
        bool only = false;

        for (size_t j = 0; j < N_RUNTIME_ONLY; j++) {
            size_t l = strlen(runtime_only[j]);

            if (strncmp(v[i], runtime_only[j], l) == 0 && v[i][l] == '=')
                only = true;
        }
        if (only)
            continue;
        kept++;
        bool found = false;
        for (size_t j = 0; x[j]; j++)
            if (strcmp(x[j], v[i]) == 0)
                found = true;
        cr_assert(found, "extension lacks %s", v[i]);
    }
    cr_assert_eq(count(x), kept, "extension has %zu entries, want %zu", count(x), kept);
    /* The shared ones, spelled out. */
    assert_var(x, "FOO", "bar");
    assert_var(x, "LANG", "C");
    assert_var(x, "AWS_REGION", "eu-west-3");
    assert_var(x, "AWS_LAMBDA_FUNCTION_NAME", "my-func");
    assert_var(x, "AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001");
    assert_var(x, "TZ", ":UTC");
    assert_var(x, "PATH", "/usr/local/bin:/usr/bin/:/bin:/opt/bin");
    envvars_free(v);
    envvars_free(x);
    assert_no_leaks();
}

Test(envvars, envvars_free_null_is_a_no_op)
{
    envvars_free(NULL);
    assert_no_leaks();
}

/* AWS caps only the total size (4 KB), not a name's length: a long name is a
 * valid variable and must not vanish silently. */
Test(envvars, long_names_survive)
{
    char kv[320 + 8];
    char name[321];
    char *fenv[] = {kv, NULL};
    struct config c = base_config(fenv, 1);
    char **v;
    const char *got;

    memset(name, 'N', 320);
    name[320] = '\0';
    snprintf(kv, sizeof kv, "%s=1", name);
    v = envvars_runtime(&c);
    cr_assert_not_null(v);
    got = get(v, name);
    cr_expect(got && strcmp(got, "1") == 0, "a 320-byte name was dropped");
    envvars_free(v);
    assert_no_leaks();
}
