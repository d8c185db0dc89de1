/* init/routes.h: maps a request's method and path to a Runtime API or
 * Extensions API endpoint, pure and allocation-free (unit-tested and fuzzed
 * on its own). */
#ifndef LD_INIT_ROUTES_H
#define LD_INIT_ROUTES_H

#include <stddef.h>

enum route_kind {
    ROUTE_NOT_FOUND,
    ROUTE_METHOD_NOT_ALLOWED, /* a known path with the wrong method */
    ROUTE_RT_NEXT,            /* GET  /2018-06-01/runtime/invocation/next */
    ROUTE_RT_RESPONSE,        /* POST /2018-06-01/runtime/invocation/{id}/response */
    ROUTE_RT_ERROR,           /* POST /2018-06-01/runtime/invocation/{id}/error */
    ROUTE_RT_INIT_ERROR,      /* POST /2018-06-01/runtime/init/error */
    ROUTE_EXT_REGISTER,       /* POST /2020-01-01/extension/register */
    ROUTE_EXT_NEXT,           /* GET  /2020-01-01/extension/event/next */
    ROUTE_EXT_INIT_ERROR,     /* POST /2020-01-01/extension/init/error */
    ROUTE_EXT_EXIT_ERROR,     /* POST /2020-01-01/extension/exit/error */
};

struct route {
    enum route_kind kind;
    const char *request_id; /* into the path; for RT_RESPONSE and RT_ERROR */
    size_t request_id_len;
};

/* `path` excludes the query string. Never fails: unknown paths are
 * ROUTE_NOT_FOUND. An empty request id segment is not found. */
void routes_parse(const char *method, size_t method_len, const char *path, size_t path_len,
                  struct route *out);

#endif
