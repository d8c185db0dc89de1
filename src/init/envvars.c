/* init/envvars.c: the environment variables a runtime and its extensions see.
 *
 * Three layers, later ones winning: Lambda's unreserved defaults (which a
 * function may override), the function's own variables, then the reserved
 * variables only the platform sets. Extensions get the same set minus the
 * variables AWS keeps to the runtime (extensions-api.md §3). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "init/init-internal.h"

struct envset {
    char **v;
    size_t n, cap;
    bool oom;
};

static void env_put(struct envset *s, const char *name, const char *value)
{
    size_t nl = strlen(name), i;
    char *kv;

    if (s->oom || !value)
        return;
    if (asprintf(&kv, "%s=%s", name, value) < 0) {
        s->oom = true;
        return;
    }
    for (i = 0; i < s->n; i++) {
        if (strncmp(s->v[i], name, nl) == 0 && s->v[i][nl] == '=') {
            free(s->v[i]);
            s->v[i] = kv;
            return;
        }
    }
    if (s->n + 2 > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        char **nv = realloc(s->v, cap * sizeof *nv);

        if (!nv) {
            free(kv);
            s->oom = true;
            return;
        }
        s->v = nv;
        s->cap = cap;
    }
    s->v[s->n++] = kv;
    s->v[s->n] = NULL;
}

static void env_put_kv(struct envset *s, const char *kv)
{
    const char *eq = strchr(kv, '=');
    char *name;

    if (!eq || eq == kv)
        return;
    name = strndup(kv, (size_t) (eq - kv));
    if (!name) {
        s->oom = true;
        return;
    }
    env_put(s, name, eq + 1);
    free(name);
}

static void env_del(struct envset *s, const char *name)
{
    size_t nl = strlen(name), i;

    for (i = 0; i < s->n; i++) {
        if (strncmp(s->v[i], name, nl) == 0 && s->v[i][nl] == '=') {
            free(s->v[i]);
            memmove(s->v + i, s->v + i + 1, (s->n - i) * sizeof *s->v); /* with the NULL */
            s->n--;
            return;
        }
    }
}

static const char *const runtime_only[] = {
    "AWS_EXECUTION_ENV",        "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_XRAY_CONTEXT_MISSING", "AWS_XRAY_DAEMON_ADDRESS",   "LAMBDA_RUNTIME_DIR",
    "LAMBDA_TASK_ROOT",         "_AWS_XRAY_DAEMON_ADDRESS",  "_AWS_XRAY_DAEMON_PORT",
    "_HANDLER",
};

static bool is_runtime_only(const char *kv)
{
    size_t i;

    for (i = 0; i < sizeof runtime_only / sizeof runtime_only[0]; i++) {
        size_t l = strlen(runtime_only[i]);

        if (strncmp(kv, runtime_only[i], l) == 0 && kv[l] == '=')
            return true;
    }
    return false;
}

static char **build(const struct config *c, bool for_extension)
{
    struct envset s = {0};
    char mem[32], ldpath[1024], exec_env[160];
    size_t i;

    /* Unreserved defaults. */
    env_put(&s, "LANG", "en_US.UTF-8");
    env_put(&s, "PATH", "/usr/local/bin:/usr/bin/:/bin:/opt/bin");
    snprintf(ldpath, sizeof ldpath,
             "/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:%s:%s/lib:/opt/lib",
             c->task_root, c->task_root);
    env_put(&s, "LD_LIBRARY_PATH", ldpath);
    env_put(&s, "AWS_XRAY_CONTEXT_MISSING", "LOG_ERROR");
    env_put(&s, "AWS_XRAY_DAEMON_ADDRESS", "169.254.79.129:2000");
    env_put(&s, "_AWS_XRAY_DAEMON_ADDRESS", "169.254.79.129");
    env_put(&s, "_AWS_XRAY_DAEMON_PORT", "2000");

    for (i = 0; i < c->envc; i++)
        env_put_kv(&s, c->env[i]);

    /* Reserved: the platform's word is final. */
    env_put(&s, "_HANDLER", c->handler);
    env_put(&s, "AWS_REGION", c->region);
    env_put(&s, "AWS_DEFAULT_REGION", c->region);
    if (c->runtime_id && c->runtime_id[0] && strncmp(c->runtime_id, "provided", 8) != 0) {
        snprintf(exec_env, sizeof exec_env, "AWS_Lambda_%.140s", c->runtime_id);
        env_put(&s, "AWS_EXECUTION_ENV", exec_env);
    } else {
        env_del(&s, "AWS_EXECUTION_ENV"); /* reserved: nobody else sets it */
    }
    env_put(&s, "AWS_LAMBDA_FUNCTION_NAME", c->function_name);
    snprintf(mem, sizeof mem, "%llu", (unsigned long long) c->memory_mb);
    env_put(&s, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", mem);
    env_put(&s, "AWS_LAMBDA_FUNCTION_VERSION", c->function_version);
    env_put(&s, "AWS_LAMBDA_INITIALIZATION_TYPE", c->init_type);
    env_put(&s, "AWS_LAMBDA_LOG_GROUP_NAME", c->log_group);
    env_put(&s, "AWS_LAMBDA_LOG_STREAM_NAME", c->log_stream);
    env_put(&s, "AWS_LAMBDA_RUNTIME_API", c->rapi_addr);
    env_put(&s, "LAMBDA_TASK_ROOT", c->task_root);
    env_put(&s, "LAMBDA_RUNTIME_DIR", "/var/runtime");
    env_put(&s, "TZ", ":UTC");

    if (s.oom) {
        envvars_free(s.v);
        return NULL;
    }
    if (for_extension) {
        size_t o = 0;

        for (i = 0; i < s.n; i++) {
            if (is_runtime_only(s.v[i]))
                free(s.v[i]);
            else
                s.v[o++] = s.v[i];
        }
        s.v[o] = NULL;
    }
    return s.v;
}

char **envvars_runtime(const struct config *c)
{
    return build(c, false);
}

char **envvars_extension(const struct config *c)
{
    return build(c, true);
}

void envvars_free(char **v)
{
    char **p;

    if (!v)
        return;
    for (p = v; *p; p++)
        free(*p);
    free(v);
}
