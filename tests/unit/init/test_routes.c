/* tests/unit/init/test_routes.c: method + path -> Runtime/Extensions API
 * endpoint (src/init/routes.h).
 *
 * Every path is handed to routes_parse in a heap buffer of exactly its length
 * (no NUL), so ASan catches any read past path_len or method_len. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "init/routes.h"

/* ---- helpers ------------------------------------------------------------ */

static const char *const all_methods[] = {
    "GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS", "get", "post", "GETX", "POS", "",
};
#define N_METHODS (sizeof all_methods / sizeof all_methods[0])

/* routes_parse on unterminated heap copies of method and path. The returned
 * route's request_id is rebased onto `path` so callers can compare it. */
static struct route parse(const char *method, const char *path)
{
    size_t ml = strlen(method), pl = strlen(path);
    char *m = malloc(ml ? ml : 1), *p = malloc(pl ? pl : 1);
    struct route r;

    cr_assert(m && p);
    memcpy(m, method, ml);
    memcpy(p, path, pl);
    memset(&r, 0xa5, sizeof r); /* garbage in: every field must be set */
    routes_parse(m, ml, p, pl, &r);
    if (r.request_id) {
        cr_assert(r.request_id >= p && r.request_id + r.request_id_len <= p + pl,
                  "request_id for %s points outside the path", path);
        r.request_id = path + (r.request_id - p);
    }
    free(m);
    free(p);
    return r;
}

static const char *kind_name(enum route_kind k)
{
    switch (k) {
    case ROUTE_NOT_FOUND: return "NOT_FOUND";
    case ROUTE_METHOD_NOT_ALLOWED: return "METHOD_NOT_ALLOWED";
    case ROUTE_RT_NEXT: return "RT_NEXT";
    case ROUTE_RT_RESPONSE: return "RT_RESPONSE";
    case ROUTE_RT_ERROR: return "RT_ERROR";
    case ROUTE_RT_INIT_ERROR: return "RT_INIT_ERROR";
    case ROUTE_EXT_REGISTER: return "EXT_REGISTER";
    case ROUTE_EXT_NEXT: return "EXT_NEXT";
    case ROUTE_EXT_INIT_ERROR: return "EXT_INIT_ERROR";
    case ROUTE_EXT_EXIT_ERROR: return "EXT_EXIT_ERROR";
    default: return "?";
    }
}

static void assert_kind(const char *method, const char *path, enum route_kind want)
{
    struct route r = parse(method, path);

    cr_assert_eq(r.kind, want, "%s %s: want %s, got %s", method, path, kind_name(want),
                 kind_name(r.kind));
}

/* Unknown for every method, with no request id. */
static void assert_not_found(const char *path)
{
    for (size_t i = 0; i < N_METHODS; i++) {
        struct route r = parse(all_methods[i], path);

        cr_assert_eq(r.kind, ROUTE_NOT_FOUND, "%s \"%s\": want NOT_FOUND, got %s",
                     all_methods[i], path, kind_name(r.kind));
        cr_assert_null(r.request_id, "%s \"%s\": request_id set", all_methods[i], path);
        cr_assert_eq(r.request_id_len, 0);
    }
}

/* `want` for `method`, METHOD_NOT_ALLOWED for every other method. */
static void assert_endpoint(const char *method, const char *path, enum route_kind want)
{
    for (size_t i = 0; i < N_METHODS; i++) {
        bool right = strcmp(all_methods[i], method) == 0;

        assert_kind(all_methods[i], path, right ? want : ROUTE_METHOD_NOT_ALLOWED);
    }
}

static void assert_id(const char *path, enum route_kind want, const char *id)
{
    struct route r = parse("POST", path);

    cr_assert_eq(r.kind, want, "POST %s: want %s, got %s", path, kind_name(want),
                 kind_name(r.kind));
    cr_assert_not_null(r.request_id, "POST %s: no request id", path);
    cr_assert_eq(r.request_id_len, strlen(id), "POST %s: id \"%.*s\", want \"%s\"", path,
                 (int) r.request_id_len, r.request_id, id);
    cr_assert(memcmp(r.request_id, id, r.request_id_len) == 0, "POST %s: id \"%.*s\", want \"%s\"",
              path, (int) r.request_id_len, r.request_id, id);
    /* The id is a span of the path itself: right after "invocation/". */
    cr_assert_eq(r.request_id, path + strlen("/2018-06-01/runtime/invocation/"));
}

/* ---- endpoints and methods ---------------------------------------------- */

Test(routes, runtime_endpoints_and_methods)
{
    assert_endpoint("GET", "/2018-06-01/runtime/invocation/next", ROUTE_RT_NEXT);
    assert_endpoint("POST", "/2018-06-01/runtime/invocation/abc/response", ROUTE_RT_RESPONSE);
    assert_endpoint("POST", "/2018-06-01/runtime/invocation/abc/error", ROUTE_RT_ERROR);
    assert_endpoint("POST", "/2018-06-01/runtime/init/error", ROUTE_RT_INIT_ERROR);
}

Test(routes, extension_endpoints_and_methods)
{
    assert_endpoint("POST", "/2020-01-01/extension/register", ROUTE_EXT_REGISTER);
    assert_endpoint("GET", "/2020-01-01/extension/event/next", ROUTE_EXT_NEXT);
    assert_endpoint("POST", "/2020-01-01/extension/init/error", ROUTE_EXT_INIT_ERROR);
    assert_endpoint("POST", "/2020-01-01/extension/exit/error", ROUTE_EXT_EXIT_ERROR);
}

Test(routes, routes_without_id_have_no_request_id)
{
    static const struct {
        const char *method, *path;
    } t[] = {
        {"GET", "/2018-06-01/runtime/invocation/next"},
        {"POST", "/2018-06-01/runtime/init/error"},
        {"POST", "/2020-01-01/extension/register"},
        {"GET", "/2020-01-01/extension/event/next"},
        {"POST", "/2020-01-01/extension/init/error"},
        {"POST", "/2020-01-01/extension/exit/error"},
        {"PUT", "/2020-01-01/extension/register"},
    };

    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        struct route r = parse(t[i].method, t[i].path);

        cr_assert_neq(r.kind, ROUTE_NOT_FOUND, "%s", t[i].path);
        cr_assert_null(r.request_id, "%s %s: request_id set", t[i].method, t[i].path);
        cr_assert_eq(r.request_id_len, 0, "%s %s", t[i].method, t[i].path);
    }
}

Test(routes, method_is_case_sensitive_and_exact)
{
    assert_kind("get", "/2018-06-01/runtime/invocation/next", ROUTE_METHOD_NOT_ALLOWED);
    assert_kind("GET ", "/2018-06-01/runtime/invocation/next", ROUTE_METHOD_NOT_ALLOWED);
    assert_kind("GE", "/2018-06-01/runtime/invocation/next", ROUTE_METHOD_NOT_ALLOWED);
    assert_kind("POSTS", "/2020-01-01/extension/register", ROUTE_METHOD_NOT_ALLOWED);
    assert_kind("HEAD", "/2020-01-01/extension/event/next", ROUTE_METHOD_NOT_ALLOWED);
}

Test(routes, lengths_are_honoured_not_nul_terminators)
{
    /* Bytes past method_len/path_len must not count. */
    const char *path = "/2018-06-01/runtime/invocation/nextXYZ";
    const char *method = "GETPOST";
    struct route r;

    routes_parse(method, 3, path, strlen(path) - 3, &r);
    cr_assert_eq(r.kind, ROUTE_RT_NEXT);
    routes_parse(method, 3, path, strlen(path), &r);
    cr_assert_eq(r.kind, ROUTE_NOT_FOUND);
    path = "/2018-06-01/runtime/invocation/r1/response/more";
    routes_parse(method + 3, 4, path, strlen(path) - strlen("/more"), &r);
    cr_assert_eq(r.kind, ROUTE_RT_RESPONSE);
    cr_assert_eq(r.request_id_len, 2);
    cr_assert(memcmp(r.request_id, "r1", 2) == 0);
    routes_parse("POST", 4, "", 0, &r);
    cr_assert_eq(r.kind, ROUTE_NOT_FOUND);
}

/* ---- request ids -------------------------------------------------------- */

Test(routes, request_ids_are_returned_verbatim)
{
    assert_id("/2018-06-01/runtime/invocation/8476a536-e9f4-11e8-9739-2dfe598c3fcd/response",
              ROUTE_RT_RESPONSE, "8476a536-e9f4-11e8-9739-2dfe598c3fcd");
    assert_id("/2018-06-01/runtime/invocation/8476a536-e9f4-11e8-9739-2dfe598c3fcd/error",
              ROUTE_RT_ERROR, "8476a536-e9f4-11e8-9739-2dfe598c3fcd");
    assert_id("/2018-06-01/runtime/invocation/a/response", ROUTE_RT_RESPONSE, "a");
    assert_id("/2018-06-01/runtime/invocation/ab-1/error", ROUTE_RT_ERROR, "ab-1");
}

Test(routes, request_ids_with_odd_characters)
{
    /* The router does not judge ids: the invoke lookup does. Whatever sits
     * between the slashes comes back byte for byte. */
    static const char *const ids[] = {
        "x%2Fy", "%00", "..", ".", "~!$&'()*+,;=:@", "\xc3\xa9t\xc3\xa9", "id?q=1", "#frag",
        "a b", "next", "response", "error", "init", "UPPER-case_01",
    };

    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        char path[256];

        snprintf(path, sizeof path, "/2018-06-01/runtime/invocation/%s/response", ids[i]);
        assert_id(path, ROUTE_RT_RESPONSE, ids[i]);
        snprintf(path, sizeof path, "/2018-06-01/runtime/invocation/%s/error", ids[i]);
        assert_id(path, ROUTE_RT_ERROR, ids[i]);
    }
}

Test(routes, long_request_id)
{
    char id[4001], path[4100];

    memset(id, 'f', sizeof id - 1);
    id[sizeof id - 1] = '\0';
    snprintf(path, sizeof path, "/2018-06-01/runtime/invocation/%s/response", id);
    assert_id(path, ROUTE_RT_RESPONSE, id);
}

Test(routes, wrong_method_on_id_route_is_405_not_404)
{
    assert_kind("GET", "/2018-06-01/runtime/invocation/abc/response", ROUTE_METHOD_NOT_ALLOWED);
    assert_kind("PUT", "/2018-06-01/runtime/invocation/abc/error", ROUTE_METHOD_NOT_ALLOWED);
}

Test(routes, empty_request_id_is_not_found)
{
    assert_not_found("/2018-06-01/runtime/invocation//response");
    assert_not_found("/2018-06-01/runtime/invocation//error");
    assert_not_found("/2018-06-01/runtime/invocation///response");
}

Test(routes, id_with_extra_segments_is_not_found)
{
    assert_not_found("/2018-06-01/runtime/invocation/a/b/response");
    assert_not_found("/2018-06-01/runtime/invocation/a/b/error");
    assert_not_found("/2018-06-01/runtime/invocation/abc/response/extra");
    assert_not_found("/2018-06-01/runtime/invocation/abc/error/extra");
    assert_not_found("/2018-06-01/runtime/invocation/abc/responses");
    assert_not_found("/2018-06-01/runtime/invocation/abc/errors");
    assert_not_found("/2018-06-01/runtime/invocation/abc/Response");
    assert_not_found("/2018-06-01/runtime/invocation/abc/result");
    assert_not_found("/2018-06-01/runtime/invocation/abc");
    assert_not_found("/2018-06-01/runtime/invocation/response");
    assert_not_found("/2018-06-01/runtime/invocation/next/extra");
    assert_not_found("/2018-06-01/runtime/invocation/next/next");
    assert_not_found("/2018-06-01/runtime/init/error/extra");
    assert_not_found("/2020-01-01/extension/register/extra");
    assert_not_found("/2020-01-01/extension/event/next/extra");
    assert_not_found("/2020-01-01/extension/init/error/x");
    assert_not_found("/2020-01-01/extension/exit/error/x");
}

/* ---- near misses -------------------------------------------------------- */

static const char *const valid_paths[] = {
    "/2018-06-01/runtime/invocation/next",
    "/2018-06-01/runtime/invocation/abc/response",
    "/2018-06-01/runtime/invocation/abc/error",
    "/2018-06-01/runtime/init/error",
    "/2020-01-01/extension/register",
    "/2020-01-01/extension/event/next",
    "/2020-01-01/extension/init/error",
    "/2020-01-01/extension/exit/error",
};
#define N_VALID (sizeof valid_paths / sizeof valid_paths[0])

Test(routes, trailing_slash_is_not_found)
{
    for (size_t i = 0; i < N_VALID; i++) {
        char path[128];

        snprintf(path, sizeof path, "%s/", valid_paths[i]);
        assert_not_found(path);
        snprintf(path, sizeof path, "%s//", valid_paths[i]);
        assert_not_found(path);
    }
}

Test(routes, every_proper_prefix_is_not_found)
{
    for (size_t i = 0; i < N_VALID; i++) {
        size_t n = strlen(valid_paths[i]);

        for (size_t l = 0; l < n; l++) {
            char path[128];

            memcpy(path, valid_paths[i], l);
            path[l] = '\0';
            assert_not_found(path);
        }
    }
}

Test(routes, extended_last_segment_is_not_found)
{
    for (size_t i = 0; i < N_VALID; i++) {
        char path[128];

        snprintf(path, sizeof path, "%sx", valid_paths[i]);
        assert_not_found(path);
        snprintf(path, sizeof path, "%s?a=b", valid_paths[i]); /* caller strips queries */
        assert_not_found(path);
    }
}

Test(routes, wrong_version_date_is_not_found)
{
    assert_not_found("/2018-06-02/runtime/invocation/next");
    assert_not_found("/2018-6-01/runtime/invocation/next");
    assert_not_found("/2019-06-01/runtime/invocation/next");
    assert_not_found("/2020-01-01/runtime/invocation/next");
    assert_not_found("/2020-01-01/runtime/invocation/abc/response");
    assert_not_found("/2020-01-01/runtime/init/error");
    assert_not_found("/2018-06-01/extension/register");
    assert_not_found("/2018-06-01/extension/event/next");
    assert_not_found("/2020-01-02/extension/register");
    assert_not_found("/2022-07-01/telemetry");
    assert_not_found("/2020-08-15/logs");
}

Test(routes, mangled_paths_are_not_found)
{
    assert_not_found("2018-06-01/runtime/invocation/next");
    assert_not_found("//2018-06-01/runtime/invocation/next");
    assert_not_found("/2018-06-01//runtime/invocation/next");
    assert_not_found("/2018-06-01/runtime//invocation/next");
    assert_not_found("/2018-06-01/runtime/invocation//next");
    assert_not_found("/2018-06-01/Runtime/invocation/next");
    assert_not_found("/2018-06-01/runtime/Invocation/next");
    assert_not_found("/2018-06-01/runtime/invocation/NEXT");
    assert_not_found("/2020-01-01/Extension/register");
    assert_not_found("/2020-01-01/extension/Register");
    assert_not_found("/2020-01-01/extension/event/Next");
    assert_not_found("/2020-01-01/extensions/register");
    assert_not_found("/2018-06-01/runtimes/invocation/next");
    assert_not_found("http://localhost/2018-06-01/runtime/invocation/next");
    assert_not_found("*");
    assert_not_found("/");
    assert_not_found("");
}

Test(routes, segments_of_other_api_are_not_found)
{
    /* Runtime endpoints under the extension prefix and vice versa. */
    assert_not_found("/2020-01-01/extension/invocation/next");
    assert_not_found("/2020-01-01/extension/invocation/abc/response");
    assert_not_found("/2018-06-01/runtime/register");
    assert_not_found("/2018-06-01/runtime/event/next");
    assert_not_found("/2018-06-01/runtime/exit/error");
    assert_not_found("/2020-01-01/extension/next");
}
