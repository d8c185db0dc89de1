/* service/registry.h: the service's durable state: functions and their
 * versions, aliases, layers and tags.
 *
 * The registry is the source of truth (DESIGN.md). It lives in SQLite at
 * <data-dir>/registry.db (WAL mode), behind this one narrow interface, so a
 * PostgreSQL backend can take its place later with the same schema and
 * migrations (registry_schema.c). Every write is one transaction and returns
 * only once it is durable (synchronous=FULL): what the API acknowledges
 * survives kill -9 and power loss.
 *
 * Threads and blocking: a struct registry is one SQLite connection and must be
 * used by one thread at a time. Every call runs on the caller's thread and a
 * write may block it for an fsync (milliseconds on an SSD). The service calls
 * the registry from control-plane requests only, never on the warm invoke
 * path, so for now a control-plane write may stall the event loop for that
 * fsync; this is accepted. To move the calls to a worker thread later, hand
 * the struct to that thread: calls take plain values in and give plain values
 * out, nothing calls back into the caller, and nothing returned points into
 * the registry.
 *
 * Errors: >= 0 is success; failure is a negative errno with err filled.
 *   -ENOENT  no such function, version, alias or layer version
 *   -EEXIST  the function (or alias) already exists    (ResourceConflictException)
 *   -ESTALE  the expected RevisionId is not the current one (PreconditionFailedException)
 *   -EBUSY   the version is still used by an alias     (ResourceConflictException)
 *   -E2BIG   a function would have more than REGISTRY_MAX_TAGS tags
 *   -EINVAL  bad marker or MaxItems, or a malformed argument the API should
 *            have refused already (name charset, digest shape, doc not an object)
 *   -EAGAIN  another process held the database locked past the busy timeout
 *   anything else (-EIO, -ENOSPC, -ENOMEM, -EBADMSG for a corrupt file, -EPROTO)
 *            is a storage failure: ServiceException.
 * Opening also fails with -EPROTONOSUPPORT for a database written by a newer
 * lambdad and -EBADMSG for a file that is not a lambdad registry.
 *
 * JSON documents (jansson). Documents passed in are borrowed and never
 * modified; documents handed out are new references the caller owns
 * (json_decref()).
 * - A function version's doc is its FunctionConfiguration as the API answers
 *   it, minus FunctionArn: ARNs depend on the region and account, which the
 *   registry does not know, so the API adds them on the way out. The registry
 *   sets FunctionName, Version ("$LATEST", "1", ...) and RevisionId (a new
 *   UUID on every write) itself, overriding whatever the caller put there;
 *   every other member (CodeSha256 as AWS's base64, LastModified, State, ...)
 *   is the caller's and stored as given.
 * - The hex SHA-256 digests (the artifact store's keys) of the code zip and of
 *   each layer travel beside the doc, not in it.
 * - An alias doc is {"Name", "FunctionVersion", "Description", "RevisionId",
 *   "RoutingConfig"?: {"AdditionalVersionWeights": {"N": weight}}}; the API
 *   adds AliasArn.
 * - A layer version's doc is what GetLayerVersion answers minus the ARNs and
 *   Content.Location; the registry sets "Version" (a number) and reads
 *   CompatibleRuntimes / CompatibleArchitectures (arrays of strings) for the
 *   list filters.
 * - Tags are one object {key: value} of strings. */
#ifndef LD_REGISTRY_H
#define LD_REGISTRY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "common/ids.h"

#define REGISTRY_LATEST 0u        /* version number that stands for $LATEST */
#define REGISTRY_DIGEST_HEX 64    /* hex SHA-256: the artifact store's key */
#define REGISTRY_NAME_MAX 140     /* longest function, alias or layer name accepted */
#define REGISTRY_MAX_LAYERS 5     /* AWS: at most 5 layers per function */
#define REGISTRY_MAX_TAGS 50      /* AWS: at most 50 tags per function */
#define REGISTRY_PAGE_DEFAULT 50  /* MaxItems when not given */
#define REGISTRY_PAGE_MAX 10000   /* functions, versions, aliases */
#define REGISTRY_LAYER_PAGE_MAX 50 /* layers and layer versions */

struct registry;

/* One function version as stored. */
struct registry_version {
    unsigned version;                    /* REGISTRY_LATEST or 1, 2, ... */
    char revision_id[LD_UUID_LEN + 1];   /* also in doc; here to compare cheaply */
    char code_digest[REGISTRY_DIGEST_HEX + 1]; /* "" when there is no zip (Image) */
    unsigned nlayers;
    char layer_digests[REGISTRY_MAX_LAYERS][REGISTRY_DIGEST_HEX + 1]; /* in Layers order */
    json_t *doc;                         /* owned by the caller: json_decref() */
};

/* What a create or update writes into $LATEST. */
struct registry_fn_write {
    const json_t *doc;                /* borrowed: FunctionConfiguration (see above) */
    const char *code_digest;          /* hex SHA-256 of the zip; NULL for an Image */
    const char *const *layer_digests; /* borrowed: hex SHA-256 of each layer, in order */
    unsigned nlayers;                 /* <= REGISTRY_MAX_LAYERS */
    /* update only: the RevisionId $LATEST must still have, NULL for none.
     * Pass the client's RevisionId when it sent one, else the one you read
     * before building doc: that makes read-modify-write safe. */
    const char *expected_revision;
    const json_t *tags;               /* create only: {key: value}, NULL for none */
    bool publish;                     /* also publish a version, in the same transaction */
    const json_t *publish_overrides;  /* with publish: see registry_version_publish() */
};

/* What an alias create or update writes (the whole alias, not a patch). */
struct registry_alias_write {
    const char *function_version; /* "$LATEST" or "N", an existing version */
    const char *description;      /* NULL for "" */
    /* borrowed: RoutingConfig {"AdditionalVersionWeights": {"N": 0.0..1.0}},
     * each N an existing version; NULL or no weights for none. AWS's finer
     * rules (one extra version, not $LATEST) are the API's to check. */
    const json_t *routing;
    const char *expected_revision; /* update only, NULL for none */
};

struct registry_layer_version {
    unsigned version;                     /* 1, 2, ... */
    char digest[REGISTRY_DIGEST_HEX + 1]; /* hex SHA-256 of the layer zip */
    json_t *doc;                          /* owned by the caller: json_decref() */
};

/* Options of the list calls; zero-initialise and set what applies. */
struct registry_list {
    const char *marker;    /* NextMarker of the previous page; NULL or "" for the first */
    unsigned max_items;    /* 0 for REGISTRY_PAGE_DEFAULT; see REGISTRY_*PAGE_MAX. AWS itself
                            * answers at most 50 functions or versions per page: the API
                            * should pass min(MaxItems, 50) to do the same. */
    bool all_versions;            /* function list: FunctionVersion=ALL */
    const char *function_version; /* alias list: only aliases pointing there; NULL for all */
    const char *runtime;          /* layer lists: CompatibleRuntime; NULL for any */
    const char *architecture;     /* layer lists: CompatibleArchitecture; NULL for any */
};

/* One page of a list. */
struct registry_page {
    json_t *items;     /* owned: a JSON array of docs */
    char *next_marker; /* owned: NextMarker, NULL on the last page */
};

struct registry_digest {
    char hex[REGISTRY_DIGEST_HEX + 1];
};

/* ---- lifetime ------------------------------------------------------------ */

/* Opens (creating if needed, mode 0600: environment variables are secrets)
 * <data_dir>/registry.db and brings its schema up to date. data_dir must
 * exist. */
int registry_open(const char *data_dir, struct registry **out, struct ld_err *err);
/* Closes the connection; NULL is fine. Everything was durable already. */
void registry_close(struct registry *r);

/* Frees what a list call filled in; safe on a zeroed or freed page. */
void registry_page_fini(struct registry_page *p);

/* "$LATEST" (or NULL) gives REGISTRY_LATEST and "N" (canonical, >= 1) gives N: 0.
 * Any other all-digit string is no version that can exist: -ENOENT.
 * Anything else (an alias name, say): -EINVAL. Does not touch err. */
int registry_parse_version(const char *qualifier, unsigned *version);

/* ---- functions and versions ---------------------------------------------- */

/* Creates the function with $LATEST from w (and its tags). -EEXIST if it
 * exists. out (may be NULL) gets $LATEST, or version 1 when w->publish, as
 * AWS answers CreateFunction with Publish. */
int registry_function_create(struct registry *r, const char *name,
                             const struct registry_fn_write *w, struct registry_version *out,
                             struct ld_err *err);
/* One version: qualifier "$LATEST" (or NULL) or "N". Aliases are resolved
 * by the caller with registry_alias_get() first (-EINVAL here). */
int registry_function_get(struct registry *r, const char *name, const char *qualifier,
                          struct registry_version *out, struct ld_err *err);
/* Replaces $LATEST with w (doc, code and layers: callers read, change and
 * write the whole thing). -ESTALE when w->expected_revision is set and not
 * current; nothing changes then. out as for create. */
int registry_function_update(struct registry *r, const char *name,
                             const struct registry_fn_write *w, struct registry_version *out,
                             struct ld_err *err);
/* Deletes the function with all its versions, aliases, tags and settings. */
int registry_function_delete(struct registry *r, const char *name, struct ld_err *err);
/* Functions by name; items are $LATEST docs, or with all_versions every
 * version, ordered by name then version ($LATEST first). */
int registry_function_list(struct registry *r, const struct registry_list *o,
                           struct registry_page *page, struct ld_err *err);

/* Publishes $LATEST as the next version number. Numbers are per function,
 * start at 1 and are never reused, even after their version is deleted.
 *
 * As AWS does, when nothing changed since the most recent published version
 * (same code and layer digests, and the same doc apart from Version,
 * RevisionId, LastModified, Description, FunctionArn and the State* and
 * LastUpdateStatus* members) no version is made: out gets that version and
 * the call returns 0. Otherwise it returns 1 and out gets the new version,
 * a copy of $LATEST with `overrides` (borrowed, NULL for none: typically
 * Description and LastModified) merged over it. $LATEST itself is unchanged.
 *
 * expected_revision (NULL for none) is the RevisionId $LATEST must have:
 * pass the client's, or the one read when checking the client's CodeSha256,
 * so the version is exactly what was checked. */
int registry_version_publish(struct registry *r, const char *name,
                             const char *expected_revision, const json_t *overrides,
                             struct registry_version *out, struct ld_err *err);
/* Deletes one published version. -EBUSY while an alias points at it or routes
 * to it; -EINVAL for "$LATEST" (that is deleting the function). */
int registry_version_delete(struct registry *r, const char *name, const char *qualifier,
                            struct ld_err *err);
/* One function's versions, $LATEST first then ascending; -ENOENT without
 * the function. */
int registry_version_list(struct registry *r, const char *name, const struct registry_list *o,
                          struct registry_page *page, struct ld_err *err);

/* ---- aliases ------------------------------------------------------------- */

/* Each fills *out (may be NULL) with the alias doc as stored now. */
int registry_alias_create(struct registry *r, const char *function, const char *alias,
                          const struct registry_alias_write *w, json_t **out,
                          struct ld_err *err);
int registry_alias_get(struct registry *r, const char *function, const char *alias,
                       json_t **out, struct ld_err *err);
/* Replaces the alias with w; -ESTALE as for functions. */
int registry_alias_update(struct registry *r, const char *function, const char *alias,
                          const struct registry_alias_write *w, json_t **out,
                          struct ld_err *err);
int registry_alias_delete(struct registry *r, const char *function, const char *alias,
                          struct ld_err *err);
/* Aliases by name, optionally only those whose FunctionVersion is
 * o->function_version; -ENOENT without the function. */
int registry_alias_list(struct registry *r, const char *function, const struct registry_list *o,
                        struct registry_page *page, struct ld_err *err);

/* ---- layers -------------------------------------------------------------- */

/* Publishes the next version of the layer (creating the layer): numbers
 * start at 1 and are never reused. digest is the zip's hex SHA-256. */
int registry_layer_publish(struct registry *r, const char *layer, const char *digest,
                           const json_t *doc, struct registry_layer_version *out,
                           struct ld_err *err);
int registry_layer_get(struct registry *r, const char *layer, unsigned version,
                       struct registry_layer_version *out, struct ld_err *err);
/* Function versions that use the layer version keep its content: their
 * layer digests stay live (registry_live_digests()). */
int registry_layer_delete(struct registry *r, const char *layer, unsigned version,
                          struct ld_err *err);
/* Layers by name that have a version matching o->runtime and o->architecture;
 * items are {"LayerName": name, "LatestMatchingVersion": doc}. */
int registry_layer_list(struct registry *r, const struct registry_list *o,
                        struct registry_page *page, struct ld_err *err);
/* One layer's matching versions, newest first; items are docs. A layer that
 * never existed has no versions (not -ENOENT, as AWS answers). */
int registry_layer_list_versions(struct registry *r, const char *layer,
                                 const struct registry_list *o, struct registry_page *page,
                                 struct ld_err *err);

/* ---- tags ---------------------------------------------------------------- */

/* Adds or replaces the tags in `tags` ({key: value} strings); -E2BIG, with
 * nothing changed, when the function would end up with more than
 * REGISTRY_MAX_TAGS. */
int registry_tags_set(struct registry *r, const char *function, const json_t *tags,
                      struct ld_err *err);
/* Removes the given keys; keys the function does not have are ignored. */
int registry_tags_unset(struct registry *r, const char *function, const char *const *keys,
                        size_t nkeys, struct ld_err *err);
/* *out gets {key: value}, empty when untagged. */
int registry_tags_list(struct registry *r, const char *function, json_t **out,
                       struct ld_err *err);

/* ---- artifacts ----------------------------------------------------------- */

/* Every digest some function version (code or layer) or layer version still
 * refers to, sorted, each once; *out is one allocation the caller free()s.
 * Artifact GC deletes what is not in it, so it must spare artifacts stored in
 * the last moments: one may be uploaded for a create that has not committed
 * yet (the artifact store's grace period, not the registry's). */
int registry_live_digests(struct registry *r, struct registry_digest **out, size_t *n,
                          struct ld_err *err);

/* ---- shared by registry.c and registry_schema.c only ---------------------- */

struct sqlite3;
/* Opens <data_dir>/registry.db as above and migrates it to the current schema. */
int registry_db_open(const char *data_dir, struct sqlite3 **out, struct ld_err *err);
/* Sets err from SQLite result code rc (errno as listed above) and the
 * connection's message, after the printf-style context. Returns -errno. */
int registry_db_fail(struct sqlite3 *db, int rc, struct ld_err *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
