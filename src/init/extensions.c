/* init/extensions.c: the Extensions API (2020-01-01).
 *
 * An extension registers under the file name init started it as (external)
 * or under any other name from inside the runtime process (internal), then
 * long-polls event/next. Every refusal is a 403 with RIE's errorType, as in
 * spec/extensions-api.md. Lifecycle consequences are decided in phases.c. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/http_server.h"
#include "init/init-internal.h"
#include "init/routes.h"

static void refuse(struct http_req *req, int status, const char *type, const char *msg)
{
    json_t *doc = json_pack("{s:s,s:s}", "errorType", type, "errorMessage", msg);
    char *body = doc ? json_dumps(doc, JSON_COMPACT) : NULL;

    http_reply_json(req, status, body ? body : "{}");
    free(body);
    json_decref(doc);
}

struct extension *ext_by_proc(struct env *e, const struct proc *p)
{
    size_t i;

    for (i = 0; i < e->next_ext; i++)
        if (e->ext[i].external && &e->ext[i].proc == p)
            return &e->ext[i];
    return NULL;
}

void ext_send_event(struct extension *x, const char *json)
{
    char hdr[128], id[LD_UUID_LEN + 1];

    if (!x->parked)
        return;
    ld_uuid_v4(id);
    snprintf(hdr, sizeof hdr, "Lambda-Extension-Event-Identifier: %s\r\n", id);
    http_reply(x->parked, 200, "application/json", hdr, json, strlen(json));
    x->parked = NULL;
}

/* Reads events from the register body: 0, or -1 with the reply sent. */
static int parse_events(struct http_req *req, bool *invoke, bool *shutdown)
{
    const struct ld_buf *b = http_req_body(req);
    json_t *doc, *events, *keys;
    size_t i;
    int rc = 0;

    *invoke = *shutdown = false;
    if (b->len == 0)
        return 0;
    doc = json_loadb(b->data, b->len, 0, NULL);
    if (!json_is_object(doc)) {
        json_decref(doc);
        refuse(req, 403, "InvalidRequestFormat", "Failed to parse request body");
        return -1;
    }
    keys = json_object_get(doc, "configurationKeys");
    if (json_is_array(keys) && json_array_size(keys) > 0) {
        json_decref(doc);
        refuse(req, 403, "InvalidRequestFormat", "configurationKeys is no longer supported");
        return -1;
    }
    events = json_object_get(doc, "events");
    if (events && !json_is_array(events) && !json_is_null(events)) {
        json_decref(doc);
        refuse(req, 403, "InvalidRequestFormat", "events must be an array");
        return -1;
    }
    for (i = 0; json_is_array(events) && i < json_array_size(events); i++) {
        const char *ev = json_string_value(json_array_get(events, i));

        if (ev && strcmp(ev, "INVOKE") == 0) {
            *invoke = true;
        } else if (ev && strcmp(ev, "SHUTDOWN") == 0) {
            *shutdown = true;
        } else {
            char msg[200];

            snprintf(msg, sizeof msg, "Invalid event type: %.100s", ev ? ev : "(not a string)");
            refuse(req, 403, "Extension.InvalidEventType", msg);
            rc = -1;
            break;
        }
    }
    json_decref(doc);
    return rc;
}

static bool wants_account_id(struct http_req *req)
{
    char feat[512];
    char *tok, *save = NULL;

    if (!http_req_header(req, "Lambda-Extension-Accept-Feature", feat, sizeof feat))
        return false;
    for (tok = strtok_r(feat, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        size_t l;

        while (*tok == ' ' || *tok == '\t')
            tok++;
        l = strlen(tok);
        while (l > 0 && (tok[l - 1] == ' ' || tok[l - 1] == '\t'))
            tok[--l] = '\0';
        if (strcmp(tok, "accountId") == 0)
            return true;
    }
    return false;
}

static void on_register(struct env *e, struct http_req *req)
{
    char name[EXT_NAME_MAX + 8], hdr[128];
    struct extension *x = NULL;
    bool inv, shut;
    json_t *doc;
    char *body;
    size_t i;

    if (!http_req_header(req, "Lambda-Extension-Name", name, sizeof name) || !name[0]) {
        refuse(req, 403, "Extension.InvalidExtensionName", "Empty extension name");
        return;
    }
    if (strlen(name) >= EXT_NAME_MAX) {
        refuse(req, 403, "Extension.InvalidExtensionName", "Extension name too long");
        return;
    }
    if (parse_events(req, &inv, &shut) < 0)
        return;
    for (i = 0; i < e->next_ext; i++)
        if (strcmp(e->ext[i].name, name) == 0)
            x = &e->ext[i];
    if (x && x->registered) {
        refuse(req, 403, "Extension.InvalidExtensionState", "Extension already registered");
        return;
    }
    if (!x) {
        /* Not a file init started: an agent inside the runtime process. */
        if (!phase_accepts_internal_registration(e)) {
            refuse(req, 403, "Extension.RegistrationClosed",
                   "Extension registration closed already");
            return;
        }
        if (e->next_ext >= MAX_EXTENSIONS) {
            refuse(req, 403, "Extension.TooManyExtensions", "Extension limit (10) reached");
            return;
        }
        if (shut) {
            refuse(req, 403, "Extension.InvalidEventType",
                   "Internal extensions cannot register for SHUTDOWN");
            return;
        }
        x = &e->ext[e->next_ext++];
        memset(x, 0, sizeof *x);
        snprintf(x->name, sizeof x->name, "%.127s", name);
        x->proc.out_fd = -1;
    } else if (e->phase != PH_EXT_INIT && e->phase != PH_RT_INIT) {
        refuse(req, 403, "Extension.RegistrationClosed", "Extension registration closed already");
        return;
    }
    x->registered = true;
    x->want_invoke = inv;
    x->want_shutdown = shut;
    x->state = EXT_REGISTERED;
    ld_uuid_v4(x->id);

    doc = json_pack("{s:s,s:s,s:s}", "functionName", e->cfg.function_name, "functionVersion",
                    e->cfg.function_version, "handler", e->cfg.handler ? e->cfg.handler : "");
    if (doc && wants_account_id(req))
        json_object_set_new(doc, "accountId", json_string(e->cfg.account_id));
    body = doc ? json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    snprintf(hdr, sizeof hdr, "Lambda-Extension-Identifier: %s\r\n", x->id);
    http_reply(req, 200, "application/json", hdr, body ? body : "{}", body ? strlen(body) : 2);
    free(body);
    json_decref(doc);
    phase_ext_registered(e, x);
}

/* Finds the caller by its identifier; replies and returns NULL if it can't. */
static struct extension *identify(struct env *e, struct http_req *req)
{
    char id[128], msg[200];
    size_t i;

    if (!http_req_header(req, "Lambda-Extension-Identifier", id, sizeof id) || !id[0]) {
        refuse(req, 403, "Extension.MissingExtensionIdentifier",
               "Missing Lambda-Extension-Identifier header");
        return NULL;
    }
    if (!ld_uuid_valid(id, strlen(id))) {
        refuse(req, 403, "Extension.InvalidExtensionIdentifier",
               "Invalid Lambda-Extension-Identifier");
        return NULL;
    }
    for (i = 0; i < e->next_ext; i++)
        if (e->ext[i].registered && strcmp(e->ext[i].id, id) == 0)
            return &e->ext[i];
    snprintf(msg, sizeof msg, "Unknown extension %s", id);
    refuse(req, 403, "Extension.UnknownExtensionIdentifier", msg);
    return NULL;
}

static void on_next(struct env *e, struct http_req *req)
{
    struct extension *x = identify(e, req);

    if (!x)
        return;
    if (x->state == EXT_FAILED || x->parked) {
        refuse(req, 403, "Extension.InvalidExtensionState", "Invalid extension state");
        return;
    }
    x->parked = req;
    phase_ext_next(e, x);
}

static void on_error(struct env *e, struct http_req *req, bool init)
{
    struct extension *x = identify(e, req);
    char type[128];

    if (!x)
        return;
    if (!http_req_header(req, "Lambda-Extension-Function-Error-Type", type, sizeof type)) {
        refuse(req, 403, "Extension.MissingHeader", "Lambda-Extension-Function-Error-Type not found");
        return;
    }
    if (x->state == EXT_FAILED || (init && e->phase != PH_EXT_INIT && e->phase != PH_RT_INIT)) {
        refuse(req, 403, "Extension.InvalidExtensionState", "Invalid extension state");
        return;
    }
    snprintf(x->error_type, sizeof x->error_type, "%s", type);
    http_reply_json(req, 202, "{\"status\":\"OK\"}");
    phase_ext_error(e, x, init);
}

void ext_api_on_request(struct env *e, struct http_req *req)
{
    const struct http_head *h = http_req_head(req);
    struct route r;
    size_t pl;
    const char *path = http_req_path(req, &pl);

    if (http_req_truncated(req)) {
        refuse(req, 400, "TruncatedHTTPRequest", "HTTP request detected as truncated");
        return;
    }
    if (http_req_too_large(req)) {
        refuse(req, 413, "RequestEntityTooLarge", "Request body too large");
        return;
    }
    routes_parse(h->method, h->method_len, path, pl, &r);
    switch (r.kind) {
    case ROUTE_EXT_REGISTER:
        on_register(e, req);
        break;
    case ROUTE_EXT_NEXT:
        on_next(e, req);
        break;
    case ROUTE_EXT_INIT_ERROR:
        on_error(e, req, true);
        break;
    case ROUTE_EXT_EXIT_ERROR:
        on_error(e, req, false);
        break;
    default:
        http_reply(req, 404, "text/plain; charset=utf-8", NULL, "404 page not found\n", 19);
        break;
    }
}

void ext_api_on_gone(struct env *e, struct http_req *req)
{
    size_t i;

    for (i = 0; i < e->next_ext; i++)
        if (e->ext[i].parked == req)
            e->ext[i].parked = NULL;
}
