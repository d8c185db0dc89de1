/* init/routes.c: endpoint matching for the Runtime and Extensions APIs. */
#include "init/routes.h"

#include <stdbool.h>
#include <string.h>

static bool eq(const char *a, size_t n, const char *lit)
{
    return strlen(lit) == n && memcmp(a, lit, n) == 0;
}

static bool starts(const char *a, size_t n, const char *lit, size_t *rest)
{
    size_t l = strlen(lit);

    if (n < l || memcmp(a, lit, l) != 0)
        return false;
    *rest = l;
    return true;
}

static void set(struct route *out, enum route_kind want, bool method_ok)
{
    out->kind = method_ok ? want : ROUTE_METHOD_NOT_ALLOWED;
}

void routes_parse(const char *method, size_t method_len, const char *path, size_t path_len,
                  struct route *out)
{
    bool get = eq(method, method_len, "GET");
    bool post = eq(method, method_len, "POST");
    size_t off;

    memset(out, 0, sizeof *out);
    out->kind = ROUTE_NOT_FOUND;

    if (starts(path, path_len, "/2018-06-01/runtime/", &off)) {
        const char *p = path + off;
        size_t n = path_len - off;

        if (eq(p, n, "invocation/next")) {
            set(out, ROUTE_RT_NEXT, get);
        } else if (eq(p, n, "init/error")) {
            set(out, ROUTE_RT_INIT_ERROR, post);
        } else if (starts(p, n, "invocation/", &off)) {
            const char *id = p + off;
            const char *slash = memchr(id, '/', n - off);
            size_t idl, tl;

            if (!slash)
                return;
            idl = (size_t) (slash - id);
            tl = n - off - idl;
            if (idl == 0)
                return;
            if (eq(slash, tl, "/response"))
                set(out, ROUTE_RT_RESPONSE, post);
            else if (eq(slash, tl, "/error"))
                set(out, ROUTE_RT_ERROR, post);
            else
                return;
            out->request_id = id;
            out->request_id_len = idl;
        }
        return;
    }
    if (starts(path, path_len, "/2020-01-01/extension/", &off)) {
        const char *p = path + off;
        size_t n = path_len - off;

        if (eq(p, n, "register"))
            set(out, ROUTE_EXT_REGISTER, post);
        else if (eq(p, n, "event/next"))
            set(out, ROUTE_EXT_NEXT, get);
        else if (eq(p, n, "init/error"))
            set(out, ROUTE_EXT_INIT_ERROR, post);
        else if (eq(p, n, "exit/error"))
            set(out, ROUTE_EXT_EXIT_ERROR, post);
    }
}
