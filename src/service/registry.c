/* service/registry.c: functions, versions, aliases, layers and tags kept in
 * SQLite (see registry.h; the schema and its migrations are in
 * registry_schema.c).
 *
 * Every statement comes from q_sql[] below, is prepared once per connection
 * and is only ever bound, never formatted. Parameters are numbered (?1, ?2)
 * so a PostgreSQL port renames them to $1, $2 and keeps the rest.
 *
 * Every call is one transaction. Writes begin IMMEDIATE: the write lock is
 * taken before the first read, so a check such as "no alias uses this
 * version" still holds when the delete after it runs, and a second connection
 * waits in busy_timeout instead of failing half way through. Reads begin
 * DEFERRED so a version and its layers come from one snapshot.
 *
 * Lists page by key: a marker holds the last key returned and the next page
 * starts strictly after it, so creates and deletes between two pages neither
 * repeat nor skip an item that exists throughout (an offset would do both). */
#include "service/registry.h"

#include <errno.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum q {
    Q_BEGIN, Q_BEGIN_WRITE, Q_COMMIT, Q_ROLLBACK,
    Q_FN_INSERT, Q_FN_EXISTS, Q_FN_BUMP, Q_FN_DELETE, Q_FN_LIST,
    Q_VER_INSERT, Q_VER_UPDATE, Q_VER_GET, Q_VER_EXISTS, Q_VER_NEWEST, Q_VER_DELETE,
    Q_VER_USER, Q_VER_LIST, Q_VL_INSERT, Q_VL_CLEAR, Q_VL_GET, Q_PC_CLEAR, Q_EIC_CLEAR,
    Q_AL_INSERT, Q_AL_UPDATE, Q_AL_GET, Q_AL_DELETE, Q_AL_LIST, Q_AR_INSERT, Q_AR_CLEAR, Q_AR_GET,
    Q_LY_BUMP, Q_LV_INSERT, Q_LV_GET, Q_LV_DELETE, Q_LC_INSERT, Q_LY_LIST, Q_LV_LIST,
    Q_TAG_PUT, Q_TAG_DELETE, Q_TAG_COUNT, Q_TAG_LIST, Q_DIGESTS,
    Q_COUNT
};

struct registry {
    sqlite3 *db;
    sqlite3_stmt *st[Q_COUNT]; /* owned: prepared on first use */
};

/* A layer version matches the list filters ?2 (runtime) and ?3
 * (architecture), each NULL for any. */
#define LV_MATCHES                                                                          \
    " AND (?2 IS NULL OR EXISTS (SELECT 1 FROM layer_version_compat c"                      \
    " WHERE c.layer_name = v.layer_name AND c.version = v.version"                          \
    " AND c.kind = 'runtime' AND c.value = ?2))"                                            \
    " AND (?3 IS NULL OR EXISTS (SELECT 1 FROM layer_version_compat c"                      \
    " WHERE c.layer_name = v.layer_name AND c.version = v.version"                          \
    " AND c.kind = 'architecture' AND c.value = ?3))"

static const char *const q_sql[Q_COUNT] = {
    [Q_BEGIN] = "BEGIN",
    [Q_BEGIN_WRITE] = "BEGIN IMMEDIATE",
    [Q_COMMIT] = "COMMIT",
    [Q_ROLLBACK] = "ROLLBACK",
    [Q_FN_INSERT] = "INSERT INTO functions (name) VALUES (?1)",
    [Q_FN_EXISTS] = "SELECT 1 FROM functions WHERE name = ?1",
    [Q_FN_BUMP] = "UPDATE functions SET last_version = last_version + 1 WHERE name = ?1"
                  " RETURNING last_version",
    [Q_FN_DELETE] = "DELETE FROM functions WHERE name = ?1",
    [Q_FN_LIST] = "SELECT function_name, version, doc FROM function_versions"
                  " WHERE (function_name, version) > (?1, ?2) AND (?3 = 1 OR version = 0)"
                  " ORDER BY function_name, version LIMIT ?4",
    [Q_VER_INSERT] = "INSERT INTO function_versions"
                     " (function_name, version, revision_id, code_digest, doc)"
                     " VALUES (?1, ?2, ?3, ?4, ?5)",
    [Q_VER_UPDATE] = "UPDATE function_versions SET revision_id = ?3, code_digest = ?4, doc = ?5"
                     " WHERE function_name = ?1 AND version = ?2",
    [Q_VER_GET] = "SELECT revision_id, code_digest, doc FROM function_versions"
                  " WHERE function_name = ?1 AND version = ?2",
    [Q_VER_EXISTS] = "SELECT 1 FROM function_versions WHERE function_name = ?1 AND version = ?2",
    [Q_VER_NEWEST] = "SELECT max(version) FROM function_versions"
                     " WHERE function_name = ?1 AND version > 0",
    [Q_VER_DELETE] = "DELETE FROM function_versions WHERE function_name = ?1 AND version = ?2",
    [Q_VER_USER] = "SELECT name FROM aliases WHERE function_name = ?1 AND function_version = ?2"
                   " UNION SELECT alias FROM alias_routes WHERE function_name = ?1 AND version = ?2"
                   " ORDER BY 1 LIMIT 1",
    [Q_VER_LIST] = "SELECT version, doc FROM function_versions"
                   " WHERE function_name = ?1 AND version > ?2 ORDER BY version LIMIT ?3",
    [Q_VL_INSERT] = "INSERT INTO function_version_layers (function_name, version, position, digest)"
                    " VALUES (?1, ?2, ?3, ?4)",
    [Q_VL_CLEAR] = "DELETE FROM function_version_layers WHERE function_name = ?1 AND version = ?2",
    [Q_VL_GET] = "SELECT digest FROM function_version_layers"
                 " WHERE function_name = ?1 AND version = ?2 ORDER BY position",
    [Q_PC_CLEAR] = "DELETE FROM provisioned_concurrency WHERE function_name = ?1 AND qualifier = ?2",
    [Q_EIC_CLEAR] = "DELETE FROM event_invoke_configs WHERE function_name = ?1 AND qualifier = ?2",
    [Q_AL_INSERT] = "INSERT INTO aliases"
                    " (function_name, name, function_version, description, revision_id)"
                    " VALUES (?1, ?2, ?3, ?4, ?5)",
    [Q_AL_UPDATE] = "UPDATE aliases SET function_version = ?3, description = ?4, revision_id = ?5"
                    " WHERE function_name = ?1 AND name = ?2",
    [Q_AL_GET] = "SELECT name, function_version, description, revision_id FROM aliases"
                 " WHERE function_name = ?1 AND name = ?2",
    [Q_AL_DELETE] = "DELETE FROM aliases WHERE function_name = ?1 AND name = ?2",
    [Q_AL_LIST] = "SELECT name, function_version, description, revision_id FROM aliases"
                  " WHERE function_name = ?1 AND name > ?2"
                  " AND (?3 IS NULL OR function_version = ?3) ORDER BY name LIMIT ?4",
    [Q_AR_INSERT] = "INSERT INTO alias_routes (function_name, alias, version, weight)"
                    " VALUES (?1, ?2, ?3, ?4)",
    [Q_AR_CLEAR] = "DELETE FROM alias_routes WHERE function_name = ?1 AND alias = ?2",
    [Q_AR_GET] = "SELECT version, weight FROM alias_routes"
                 " WHERE function_name = ?1 AND alias = ?2 ORDER BY version",
    [Q_LY_BUMP] = "INSERT INTO layers (name, last_version) VALUES (?1, 1) ON CONFLICT (name)"
                  " DO UPDATE SET last_version = layers.last_version + 1 RETURNING last_version",
    [Q_LV_INSERT] = "INSERT INTO layer_versions (layer_name, version, digest, doc)"
                    " VALUES (?1, ?2, ?3, ?4)",
    [Q_LV_GET] = "SELECT digest, doc FROM layer_versions WHERE layer_name = ?1 AND version = ?2",
    [Q_LV_DELETE] = "DELETE FROM layer_versions WHERE layer_name = ?1 AND version = ?2",
    [Q_LC_INSERT] = "INSERT INTO layer_version_compat (layer_name, version, kind, value)"
                    " VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
    [Q_LY_LIST] = "SELECT v.layer_name, max(v.version) FROM layer_versions v"
                  " WHERE v.layer_name > ?1" LV_MATCHES
                  " GROUP BY v.layer_name ORDER BY v.layer_name LIMIT ?4",
    [Q_LV_LIST] = "SELECT v.version, v.doc FROM layer_versions v"
                  " WHERE v.layer_name = ?1 AND v.version < ?4" LV_MATCHES
                  " ORDER BY v.version DESC LIMIT ?5",
    [Q_TAG_PUT] = "INSERT INTO function_tags (function_name, tag_key, tag_value)"
                  " VALUES (?1, ?2, ?3) ON CONFLICT (function_name, tag_key)"
                  " DO UPDATE SET tag_value = excluded.tag_value",
    [Q_TAG_DELETE] = "DELETE FROM function_tags WHERE function_name = ?1 AND tag_key = ?2",
    [Q_TAG_COUNT] = "SELECT count(*) FROM function_tags WHERE function_name = ?1",
    [Q_TAG_LIST] = "SELECT tag_key, tag_value FROM function_tags"
                   " WHERE function_name = ?1 ORDER BY tag_key",
    [Q_DIGESTS] = "SELECT code_digest FROM function_versions WHERE code_digest IS NOT NULL"
                  " UNION SELECT digest FROM function_version_layers"
                  " UNION SELECT digest FROM layer_versions ORDER BY 1",
};

/* Marker kinds: a marker from one list is refused by another. */
#define MK_FUNCTIONS 'F'
#define MK_VERSIONS 'V'
#define MK_ALIASES 'A'
#define MK_LAYERS 'L'
#define MK_LAYER_VERSIONS 'N'

/* Members a publish ignores when deciding whether $LATEST changed since the
 * last published version: they differ between any two versions, or describe
 * the version rather than what it runs. */
static const char *const volatile_members[] = {
    "FunctionName", "FunctionArn", "Version", "RevisionId", "LastModified",
    "Description", "MasterArn", "State", "StateReason", "StateReasonCode",
    "LastUpdateStatus", "LastUpdateStatusReason", "LastUpdateStatusReasonCode",
};


/* ---- statements ------------------------------------------------------------ */

static void stmt_donep(sqlite3_stmt *const *s)
{
    if (*s) {
        sqlite3_reset(*s);
        sqlite3_clear_bindings(*s);
    }
}
/* Resets a cached statement when it goes out of scope: that ends its read,
 * drops its bound pointers and readies it for the next use. */
#define STMT_AUTO __attribute__((cleanup(stmt_donep)))

static void freep(void *p)
{
    free(*(void **) p);
}
/* Declare before the statement that binds it: cleanups run in reverse order,
 * so the text outlives the binding. */
#define AUTOFREE __attribute__((cleanup(freep)))

static sqlite3_stmt *stmt(struct registry *r, enum q id, struct ld_err *err)
{
    if (!r->st[id]) {
        int rc = sqlite3_prepare_v3(r->db, q_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &r->st[id],
                                    NULL);

        if (rc != SQLITE_OK) {
            registry_db_fail(r->db, rc, err, "prepare %.40s", q_sql[id]);
            sqlite3_finalize(r->st[id]);
            r->st[id] = NULL;
        }
    }
    return r->st[id];
}

/* A statement's parameters, in order, as a typed list rather than varargs so
 * the compiler converts each one: PREP(r, Q_X, err, TXT(name), NUM(v)). */
struct arg {
    enum { A_END, A_TEXT, A_NUM, A_REAL } kind;
    const char *text; /* NULL binds SQL NULL */
    long long num;
    double real;
};
#define TXT(x) {A_TEXT, (x), 0, 0}
#define NUM(x) {A_NUM, NULL, (long long) (x), 0}
#define DBL(x) {A_REAL, NULL, 0, (x)}
#define PREP(r, id, err, ...) prep((r), (id), (const struct arg[]){__VA_ARGS__, {A_END}}, (err))
#define RUN(r, id, err, ...) run((r), (id), (const struct arg[]){__VA_ARGS__, {A_END}}, (err))

/* The cached statement with a bound; NULL with err set on failure. Text is
 * bound SQLITE_STATIC: every caller's strings outlive the statement's use,
 * as STMT_AUTO resets it first. */
static sqlite3_stmt *prep(struct registry *r, enum q id, const struct arg *a, struct ld_err *err)
{
    sqlite3_stmt *s = stmt(r, id, err);
    int rc = SQLITE_OK;

    for (int i = 1; s && a->kind != A_END && rc == SQLITE_OK; i++, a++) {
        if (a->kind == A_TEXT)
            rc = a->text ? sqlite3_bind_text(s, i, a->text, -1, SQLITE_STATIC)
                         : sqlite3_bind_null(s, i);
        else if (a->kind == A_NUM)
            rc = sqlite3_bind_int64(s, i, a->num);
        else
            rc = sqlite3_bind_double(s, i, a->real);
    }
    if (rc != SQLITE_OK) {
        registry_db_fail(r->db, rc, err, "bind %.40s", q_sql[id]);
        sqlite3_clear_bindings(s);
        return NULL;
    }
    return s;
}

/* 1 with a row, 0 when done, -errno on failure. */
static int step(struct registry *r, sqlite3_stmt *s, struct ld_err *err)
{
    int rc = sqlite3_step(s);

    if (rc == SQLITE_ROW)
        return 1;
    if (rc == SQLITE_DONE)
        return 0;
    return registry_db_fail(r->db, rc, err, "%.48s", sqlite3_sql(s));
}

/* Runs a statement that returns no row; returns how many rows it changed
 * (not counting ON DELETE CASCADE). */
static int run(struct registry *r, enum q id, const struct arg *a, struct ld_err *err)
{
    STMT_AUTO sqlite3_stmt *s = prep(r, id, a, err);
    int rc = s ? step(r, s, err) : -err->code;

    return rc < 0 ? rc : sqlite3_changes(r->db);
}

/* Copies a text column into buf; -1 when it does not fit (a damaged row). */
static int col_copy(sqlite3_stmt *s, int i, char *buf, size_t cap)
{
    const unsigned char *t = sqlite3_column_text(s, i);
    size_t n = (size_t) sqlite3_column_bytes(s, i);

    if (!t) {
        buf[0] = '\0';
        return 0;
    }
    if (n >= cap)
        return -1;
    memcpy(buf, t, n);
    buf[n] = '\0';
    return 0;
}

static json_t *col_json(sqlite3_stmt *s, int i)
{
    const char *t = (const char *) sqlite3_column_text(s, i);
    json_t *doc = t ? json_loadb(t, (size_t) sqlite3_column_bytes(s, i), 0, NULL) : NULL;

    if (doc && !json_is_object(doc)) {
        json_decref(doc);
        return NULL;
    }
    return doc;
}

static int damaged(struct ld_err *err, const char *what)
{
    return ld_err_set(err, EBADMSG, "damaged row in %s", what);
}

/* ---- transactions ---------------------------------------------------------- */

static int tx_begin(struct registry *r, bool write, struct ld_err *err)
{
    STMT_AUTO sqlite3_stmt *s = stmt(r, write ? Q_BEGIN_WRITE : Q_BEGIN, err);

    return s ? step(r, s, err) : -err->code;
}

/* Commits when rc >= 0, else rolls back. Returns rc, or the commit's failure. */
static int tx_end(struct registry *r, int rc, struct ld_err *err)
{
    if (rc >= 0) {
        STMT_AUTO sqlite3_stmt *s = stmt(r, Q_COMMIT, err);
        int c = s ? step(r, s, err) : -err->code;

        if (c >= 0)
            return rc;
        rc = c;
    }
    /* Some failures (disk full, I/O) end the transaction themselves. */
    if (!sqlite3_get_autocommit(r->db)) {
        struct ld_err ignored;
        STMT_AUTO sqlite3_stmt *s = stmt(r, Q_ROLLBACK, &ignored);

        if (s)
            (void) step(r, s, &ignored);
    }
    return rc;
}

/* ---- arguments ------------------------------------------------------------- */

static const char *nm(const char *s)
{
    return s ? s : "(null)";
}

static const char *vname(unsigned v, char buf[12])
{
    if (v == REGISTRY_LATEST)
        return "$LATEST";
    snprintf(buf, 12, "%u", v);
    return buf;
}

/* AWS's names are [a-zA-Z0-9-_]+ (the API strips ARN forms); holding the
 * registry to that keeps markers and messages bounded and printable. */
static int check_name(const char *what, const char *name, struct ld_err *err)
{
    size_t n;

    if (!name || !*name)
        return ld_err_set(err, EINVAL, "no %s name", what);
    for (n = 0; n <= REGISTRY_NAME_MAX && name[n]; n++) {
        char c = name[n];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return ld_err_set(err, EINVAL, "%s name has a character outside [A-Za-z0-9_-]", what);
    }
    if (n > REGISTRY_NAME_MAX)
        return ld_err_set(err, EINVAL, "%s name longer than %d", what, REGISTRY_NAME_MAX);
    return 0;
}

static int check_digest(const char *d, struct ld_err *err)
{
    size_t n;

    for (n = 0; d && n < REGISTRY_DIGEST_HEX; n++)
        if (!((d[n] >= '0' && d[n] <= '9') || (d[n] >= 'a' && d[n] <= 'f')))
            break;
    if (!d || n != REGISTRY_DIGEST_HEX || d[n] != '\0')
        return ld_err_set(err, EINVAL, "digest is not %d lowercase hex digits",
                          REGISTRY_DIGEST_HEX);
    return 0;
}

static int check_fn_write(const struct registry_fn_write *w, struct ld_err *err)
{
    int rc;

    if (!w || !json_is_object(w->doc))
        return ld_err_set(err, EINVAL, "doc is not a JSON object");
    if (w->code_digest && (rc = check_digest(w->code_digest, err)) < 0)
        return rc;
    if (w->nlayers > REGISTRY_MAX_LAYERS || (w->nlayers && !w->layer_digests))
        return ld_err_set(err, EINVAL, "%u layers", w->nlayers);
    for (unsigned i = 0; i < w->nlayers; i++)
        if (check_digest(w->layer_digests[i], err) < 0)
            return ld_err_prefix(err, "layer %u", i + 1);
    if ((w->tags && !json_is_object(w->tags)) ||
        (w->publish_overrides && !json_is_object(w->publish_overrides)))
        return ld_err_set(err, EINVAL, "tags or overrides are not a JSON object");
    return 0;
}

int registry_parse_version(const char *qualifier, unsigned *version)
{
    unsigned long long v = 0;
    size_t i;

    if (!qualifier || strcmp(qualifier, "$LATEST") == 0) {
        *version = REGISTRY_LATEST;
        return 0;
    }
    for (i = 0; qualifier[i]; i++)
        if (qualifier[i] < '0' || qualifier[i] > '9')
            return -EINVAL;
    if (i == 0)
        return -EINVAL;
    if (qualifier[0] == '0' || i > 10)
        return -ENOENT;
    for (i = 0; qualifier[i]; i++)
        v = v * 10 + (unsigned) (qualifier[i] - '0');
    if (v > UINT_MAX)
        return -ENOENT;
    *version = (unsigned) v;
    return 0;
}

static int parse_qualifier(const char *q, unsigned *v, struct ld_err *err)
{
    int rc = registry_parse_version(q, v);

    if (rc == -EINVAL)
        return ld_err_set(err, EINVAL, "%.140s is not $LATEST or a version", q);
    if (rc < 0)
        return ld_err_set(err, ENOENT, "no version %.20s", q);
    return 0;
}

/* ---- markers --------------------------------------------------------------- */

/* A marker is "<kind>1.<hex of the last key>.<last number>": opaque to
 * clients, cheap to check strictly, and safe in a query string as it is. */
static char *marker_make(char kind, const char *key, long long num)
{
    static const char hex[] = "0123456789abcdef";
    size_t klen = strlen(key), cap = 2 * klen + 32, o = 0;
    char *m = malloc(cap);

    if (!m)
        return NULL;
    m[o++] = kind;
    m[o++] = '1';
    m[o++] = '.';
    for (size_t i = 0; i < klen; i++) {
        m[o++] = hex[(unsigned char) key[i] >> 4];
        m[o++] = hex[(unsigned char) key[i] & 15];
    }
    snprintf(m + o, cap - o, ".%lld", num);
    return m;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* 0 without a marker (key and num untouched), 1 when parsed, -EINVAL. */
static int marker_parse(const char *m, char kind, char key[REGISTRY_NAME_MAX + 1],
                        long long *num, struct ld_err *err)
{
    const char *p;
    size_t n = 0;
    long long v = 0;

    if (!m || !*m)
        return 0;
    if (m[0] != kind || m[1] != '1' || m[2] != '.')
        goto bad;
    for (p = m + 3; *p && *p != '.'; p += 2) {
        int hi = hexval(p[0]), lo = hi < 0 ? -1 : hexval(p[1]);

        if (lo < 0 || n == REGISTRY_NAME_MAX || (hi | lo) == 0)
            goto bad;
        key[n++] = (char) (hi << 4 | lo);
    }
    key[n] = '\0';
    if (*p++ != '.' || !*p || (p[0] == '0' && p[1]))
        goto bad;
    for (; *p; p++) {
        if (*p < '0' || *p > '9' || v > UINT_MAX)
            goto bad;
        v = v * 10 + (*p - '0');
    }
    if (v > UINT_MAX)
        goto bad;
    *num = v;
    return 1;
bad:
    return ld_err_set(err, EINVAL, "bad marker");
}

/* ---- pages ----------------------------------------------------------------- */

void registry_page_fini(struct registry_page *p)
{
    if (!p)
        return;
    json_decref(p->items);
    free(p->next_marker);
    p->items = NULL;
    p->next_marker = NULL;
}

/* Turns the current row into an item and the key that marks its place. */
typedef int (*row_fn)(struct registry *r, sqlite3_stmt *s, const void *ctx, json_t **item,
                      char key[REGISTRY_NAME_MAX + 1], long long *num, struct ld_err *err);

/* Steps through at most limit + 1 rows (the query's LIMIT): the extra one only
 * says that another page follows, so the last page never comes back empty. */
static int page_fill(struct registry *r, sqlite3_stmt *s, char kind, int limit, row_fn fn,
                     const void *ctx, struct registry_page *page, struct ld_err *err)
{
    char key[REGISTRY_NAME_MAX + 1] = "";
    long long num = 0;
    int n = 0, rc;

    if (!s)
        return -err->code;
    while ((rc = step(r, s, err)) > 0) {
        json_t *item = NULL;

        if (n == limit) {
            page->next_marker = marker_make(kind, key, num);
            return page->next_marker ? 0 : ld_err_set(err, ENOMEM, "marker");
        }
        if ((rc = fn(r, s, ctx, &item, key, &num, err)) < 0)
            return rc;
        if (json_array_append_new(page->items, item) < 0)
            return ld_err_set(err, ENOMEM, "page");
        n++;
    }
    return rc;
}

/* What a list's query needs: the parsed options and where to start. */
struct list_ctx {
    const struct registry_list *o;
    const char *name; /* the function or layer listed, NULL for top-level lists */
    char key[REGISTRY_NAME_MAX + 1];
    long long num;
    int limit;
};

typedef int (*list_fn)(struct registry *r, const struct list_ctx *c, struct registry_page *page,
                       struct ld_err *err);

/* Checks the options, then runs fill() inside a read transaction. `first` is
 * the number a first page starts after. */
static int list_run(struct registry *r, const char *name, const struct registry_list *o,
                    unsigned cap, char kind, long long first, list_fn fill,
                    struct registry_page *page, struct ld_err *err)
{
    static const struct registry_list defaults;
    struct list_ctx c = {.o = o ? o : &defaults, .name = name, .num = first};
    unsigned n = c.o->max_items ? c.o->max_items : REGISTRY_PAGE_DEFAULT;
    int rc;

    page->items = NULL;
    page->next_marker = NULL;
    if (n > cap)
        return ld_err_set(err, EINVAL, "MaxItems %u is over %u", n, cap);
    c.limit = (int) n;
    if ((rc = marker_parse(c.o->marker, kind, c.key, &c.num, err)) < 0)
        return rc;
    if (!(page->items = json_array()))
        return ld_err_set(err, ENOMEM, "page");
    if ((rc = tx_begin(r, false, err)) >= 0)
        rc = tx_end(r, fill(r, &c, page, err), err);
    if (rc < 0)
        registry_page_fini(page);
    return rc < 0 ? rc : 0;
}

/* ---- function versions ----------------------------------------------------- */

static int fn_exists(struct registry *r, const char *name, struct ld_err *err)
{
    STMT_AUTO sqlite3_stmt *s = PREP(r, Q_FN_EXISTS, err, TXT(name));
    int rc = s ? step(r, s, err) : -err->code;

    return rc ? (rc < 0 ? rc : 0) : ld_err_set(err, ENOENT, "function %s not found", name);
}

static int version_exists(struct registry *r, const char *name, unsigned v, struct ld_err *err)
{
    STMT_AUTO sqlite3_stmt *s = PREP(r, Q_VER_EXISTS, err, TXT(name), NUM(v));
    int rc = s ? step(r, s, err) : -err->code;
    char vb[12];

    return rc ? (rc < 0 ? rc : 0)
              : ld_err_set(err, ENOENT, "version %s of %s not found", vname(v, vb), name);
}

static void version_clear(struct registry_version *v)
{
    if (v) {
        json_decref(v->doc);
        memset(v, 0, sizeof *v);
    }
}

static void copy_str(char *dst, size_t cap, const char *src)
{
    size_t n = src ? strlen(src) : 0;

    if (n >= cap)
        n = cap - 1;
    if (n)
        memcpy(dst, src, n);
    dst[n] = '\0';
}

static void version_fill(struct registry_version *out, unsigned v, const char *rev,
                         const char *digest, const char *const *layers, unsigned nlayers,
                         json_t *doc)
{
    memset(out, 0, sizeof *out);
    out->version = v;
    copy_str(out->revision_id, sizeof out->revision_id, rev);
    copy_str(out->code_digest, sizeof out->code_digest, digest);
    for (unsigned i = 0; i < nlayers; i++)
        copy_str(out->layer_digests[i], sizeof out->layer_digests[i], layers[i]);
    out->nlayers = nlayers;
    out->doc = json_incref(doc);
}

static int version_load_layers(struct registry *r, const char *name,
                               struct registry_version *out, struct ld_err *err)
{
    STMT_AUTO sqlite3_stmt *s = PREP(r, Q_VL_GET, err, TXT(name), NUM(out->version));
    int rc;

    if (!s)
        return -err->code;
    while ((rc = step(r, s, err)) > 0) {
        if (out->nlayers == REGISTRY_MAX_LAYERS ||
            col_copy(s, 0, out->layer_digests[out->nlayers], REGISTRY_DIGEST_HEX + 1) < 0)
            return damaged(err, "function_version_layers");
        out->nlayers++;
    }
    return rc;
}

/* Reads one version; out is zeroed first and cleared again on failure. */
static int version_load(struct registry *r, const char *name, unsigned v,
                        struct registry_version *out, struct ld_err *err)
{
    int rc;

    memset(out, 0, sizeof *out);
    out->version = v;
    {
        STMT_AUTO sqlite3_stmt *s = PREP(r, Q_VER_GET, err, TXT(name), NUM(v));
        char vb[12];

        if ((rc = s ? step(r, s, err) : -err->code) <= 0)
            return rc < 0                   ? rc
                   : v == REGISTRY_LATEST ? ld_err_set(err, ENOENT, "no such function")
                                          : ld_err_set(err, ENOENT, "no version %s", vname(v, vb));
        if (col_copy(s, 0, out->revision_id, sizeof out->revision_id) < 0 ||
            col_copy(s, 1, out->code_digest, sizeof out->code_digest) < 0 ||
            !(out->doc = col_json(s, 2)))
            return damaged(err, "function_versions");
    }
    if ((rc = version_load_layers(r, name, out, err)) < 0)
        version_clear(out);
    return rc;
}

/* A copy of doc (and overrides over it) with the members the registry owns. */
static json_t *fn_doc_stamp(const json_t *doc, const json_t *overrides, const char *name,
                            unsigned v, const char *rev)
{
    json_t *d = json_deep_copy(doc), *o = overrides ? json_deep_copy(overrides) : NULL;
    char vb[12];
    int bad = !d || (overrides && (!o || json_object_update(d, o) < 0));

    json_decref(o);
    if (bad || json_object_set_new(d, "FunctionName", json_string(name)) < 0 ||
        json_object_set_new(d, "Version", json_string(vname(v, vb))) < 0 ||
        json_object_set_new(d, "RevisionId", json_string(rev)) < 0) {
        json_decref(d);
        return NULL;
    }
    return d;
}

/* Writes a version row (insert, or update for $LATEST) and its layer rows. */
static int version_put(struct registry *r, const char *name, bool update, unsigned v,
                       const char *rev, const char *digest, const char *const *layers,
                       unsigned nlayers, const json_t *doc, struct ld_err *err)
{
    AUTOFREE char *text = json_dumps(doc, JSON_COMPACT);
    int rc;

    if (!text)
        return ld_err_set(err, ENOMEM, "serialise doc");
    rc = RUN(r, update ? Q_VER_UPDATE : Q_VER_INSERT, err, TXT(name), NUM(v), TXT(rev),
             TXT(digest), TXT(text));
    if (rc >= 0 && update)
        rc = RUN(r, Q_VL_CLEAR, err, TXT(name), NUM(v));
    for (unsigned i = 0; rc >= 0 && i < nlayers; i++)
        rc = RUN(r, Q_VL_INSERT, err, TXT(name), NUM(v), NUM(i), TXT(layers[i]));
    return rc < 0 ? rc : 0;
}

/* Writes $LATEST from w with a fresh RevisionId. */
static int latest_write(struct registry *r, const char *name, const struct registry_fn_write *w,
                        bool update, struct registry_version *out, struct ld_err *err)
{
    char rev[LD_UUID_LEN + 1];
    json_t *doc;
    int rc;

    ld_uuid_v4(rev);
    doc = fn_doc_stamp(w->doc, NULL, name, REGISTRY_LATEST, rev);
    if (!doc)
        return ld_err_set(err, ENOMEM, "copy doc");
    rc = version_put(r, name, update, REGISTRY_LATEST, rev, w->code_digest, w->layer_digests,
                     w->nlayers, doc, err);
    if (rc == 0 && out)
        version_fill(out, REGISTRY_LATEST, rev, w->code_digest, w->layer_digests, w->nlayers,
                     doc);
    json_decref(doc);
    return rc;
}

static bool same_config(const struct registry_version *a, const struct registry_version *b)
{
    json_t *x, *y;
    bool same;

    if (strcmp(a->code_digest, b->code_digest) != 0 || a->nlayers != b->nlayers)
        return false;
    for (unsigned i = 0; i < a->nlayers; i++)
        if (strcmp(a->layer_digests[i], b->layer_digests[i]) != 0)
            return false;
    x = json_copy(a->doc);
    y = json_copy(b->doc);
    for (size_t i = 0; x && y && i < sizeof volatile_members / sizeof volatile_members[0]; i++) {
        json_object_del(x, volatile_members[i]);
        json_object_del(y, volatile_members[i]);
    }
    same = x && y && json_equal(x, y);
    json_decref(x);
    json_decref(y);
    return same;
}

/* Runs a "bump the counter, return it" statement: the next version number. */
static int bump(struct registry *r, enum q id, const char *name, unsigned *next,
                struct ld_err *err)
{
    STMT_AUTO sqlite3_stmt *s = PREP(r, id, err, TXT(name));
    int rc = s ? step(r, s, err) : -err->code;
    long long v;

    if (rc <= 0)
        return rc < 0 ? rc : ld_err_set(err, ENOENT, "%s not found", name);
    v = sqlite3_column_int64(s, 0);
    if (v < 1 || v > UINT_MAX)
        return ld_err_set(err, EOVERFLOW, "%s: version %lld", name, v);
    *next = (unsigned) v;
    return 0;
}

/* The newest published version, 0 when there is none. */
static int newest_version(struct registry *r, const char *name, unsigned *v, struct ld_err *err)
{
    STMT_AUTO sqlite3_stmt *s = PREP(r, Q_VER_NEWEST, err, TXT(name));
    int rc = s ? step(r, s, err) : -err->code;

    if (rc < 0)
        return rc;
    *v = rc ? (unsigned) sqlite3_column_int64(s, 0) : 0; /* max() of no rows is NULL: 0 */
    return 0;
}

/* 1 with a new version, 0 when the newest published one already matches. */
static int publish_locked(struct registry *r, const char *name, const char *expected,
                          const json_t *overrides, struct registry_version *out,
                          struct ld_err *err)
{
    struct registry_version latest, prev = {0};
    const char *layers[REGISTRY_MAX_LAYERS];
    char rev[LD_UUID_LEN + 1];
    json_t *doc = NULL;
    unsigned newest = 0, next = 0;
    int rc;

    if ((rc = version_load(r, name, REGISTRY_LATEST, &latest, err)) < 0)
        return rc;
    if (expected && strcmp(expected, latest.revision_id) != 0) {
        rc = ld_err_set(err, ESTALE, "RevisionId %.40s is not the current %s", expected,
                        latest.revision_id);
        goto out;
    }
    if ((rc = newest_version(r, name, &newest, err)) < 0)
        goto out;
    if (newest > 0) {
        if ((rc = version_load(r, name, newest, &prev, err)) < 0)
            goto out;
        if (same_config(&latest, &prev)) {
            if (out) {
                *out = prev;
                prev.doc = NULL;
            }
            rc = 0;
            goto out;
        }
    }
    if ((rc = bump(r, Q_FN_BUMP, name, &next, err)) < 0)
        goto out;
    ld_uuid_v4(rev);
    if (!(doc = fn_doc_stamp(latest.doc, overrides, name, next, rev))) {
        rc = ld_err_set(err, ENOMEM, "copy doc");
        goto out;
    }
    for (unsigned i = 0; i < latest.nlayers; i++)
        layers[i] = latest.layer_digests[i];
    rc = version_put(r, name, false, next, rev, latest.code_digest[0] ? latest.code_digest : NULL,
                     layers, latest.nlayers, doc, err);
    if (rc == 0 && out)
        version_fill(out, next, rev, latest.code_digest, layers, latest.nlayers, doc);
    if (rc == 0)
        rc = 1;
out:
    json_decref(latest.doc);
    json_decref(prev.doc);
    json_decref(doc);
    return rc;
}

/* ---- tags (also set by create) --------------------------------------------- */

static int tags_put(struct registry *r, const char *name, const json_t *tags, struct ld_err *err)
{
    /* jansson's iterators take a non-const object; they do not change it. */
    json_t *obj = (json_t *) tags;
    const char *k;
    json_t *v;
    long long n;
    int rc;

    json_object_foreach (obj, k, v) {
        if (!*k || !json_is_string(v))
            return ld_err_set(err, EINVAL, "tag %.60s: empty key or value not a string", k);
        if ((rc = RUN(r, Q_TAG_PUT, err, TXT(name), TXT(k), TXT(json_string_value(v)))) < 0)
            return rc;
    }
    {
        STMT_AUTO sqlite3_stmt *s = PREP(r, Q_TAG_COUNT, err, TXT(name));

        if ((rc = s ? step(r, s, err) : -err->code) < 0)
            return rc;
        n = rc ? sqlite3_column_int64(s, 0) : 0;
    }
    if (n > REGISTRY_MAX_TAGS)
        return ld_err_set(err, E2BIG, "%s would have %lld tags, more than %d", name, n,
                          REGISTRY_MAX_TAGS);
    return 0;
}

/* ---- functions ------------------------------------------------------------- */

static int create_locked(struct registry *r, const char *name, const struct registry_fn_write *w,
                         struct registry_version *out, struct ld_err *err)
{
    int rc = RUN(r, Q_FN_INSERT, err, TXT(name));

    if (rc == -EEXIST)
        return ld_err_set(err, EEXIST, "already exists");
    if (rc < 0 || (w->tags && (rc = tags_put(r, name, w->tags, err)) < 0))
        return rc;
    if (!w->publish)
        return latest_write(r, name, w, false, out, err);
    if ((rc = latest_write(r, name, w, false, NULL, err)) < 0)
        return rc;
    return publish_locked(r, name, NULL, w->publish_overrides, out, err);
}

int registry_function_create(struct registry *r, const char *name,
                             const struct registry_fn_write *w, struct registry_version *out,
                             struct ld_err *err)
{
    int rc;

    if (out)
        memset(out, 0, sizeof *out);
    if ((rc = check_name("function", name, err)) >= 0 && (rc = check_fn_write(w, err)) >= 0 &&
        (rc = tx_begin(r, true, err)) >= 0)
        rc = tx_end(r, create_locked(r, name, w, out, err), err);
    if (rc < 0) {
        version_clear(out);
        return ld_err_prefix(err, "create function %.80s", nm(name));
    }
    return 0;
}

int registry_function_get(struct registry *r, const char *name, const char *qualifier,
                          struct registry_version *out, struct ld_err *err)
{
    unsigned v;
    int rc;

    memset(out, 0, sizeof *out);
    if ((rc = check_name("function", name, err)) >= 0 &&
        (rc = parse_qualifier(qualifier, &v, err)) >= 0 && (rc = tx_begin(r, false, err)) >= 0)
        rc = tx_end(r, version_load(r, name, v, out, err), err);
    if (rc < 0) {
        version_clear(out);
        return ld_err_prefix(err, "get function %.80s", nm(name));
    }
    return 0;
}

static int update_locked(struct registry *r, const char *name, const struct registry_fn_write *w,
                         struct registry_version *out, struct ld_err *err)
{
    char cur[LD_UUID_LEN + 1];
    int rc;

    {
        STMT_AUTO sqlite3_stmt *s = PREP(r, Q_VER_GET, err, TXT(name), NUM(REGISTRY_LATEST));

        if ((rc = s ? step(r, s, err) : -err->code) <= 0)
            return rc < 0 ? rc : ld_err_set(err, ENOENT, "function %s not found", name);
        if (col_copy(s, 0, cur, sizeof cur) < 0)
            return damaged(err, "function_versions");
    }
    if (w->expected_revision && strcmp(w->expected_revision, cur) != 0)
        return ld_err_set(err, ESTALE, "RevisionId %.40s is not the current %s",
                          w->expected_revision, cur);
    if (!w->publish)
        return latest_write(r, name, w, true, out, err);
    if ((rc = latest_write(r, name, w, true, NULL, err)) < 0)
        return rc;
    return publish_locked(r, name, NULL, w->publish_overrides, out, err);
}

int registry_function_update(struct registry *r, const char *name,
                             const struct registry_fn_write *w, struct registry_version *out,
                             struct ld_err *err)
{
    int rc;

    if (out)
        memset(out, 0, sizeof *out);
    if ((rc = check_name("function", name, err)) >= 0 && (rc = check_fn_write(w, err)) >= 0 &&
        (rc = tx_begin(r, true, err)) >= 0)
        rc = tx_end(r, update_locked(r, name, w, out, err), err);
    if (rc < 0) {
        version_clear(out);
        return ld_err_prefix(err, "update function %.80s", nm(name));
    }
    return 0;
}

/* Provisioned concurrency and event-invoke configs name their version or
 * alias as text, without a foreign key: they go with it here. */
static int qualifier_settings_clear(struct registry *r, const char *name, const char *qualifier,
                                    struct ld_err *err)
{
    int rc = RUN(r, Q_PC_CLEAR, err, TXT(name), TXT(qualifier));

    if (rc >= 0)
        rc = RUN(r, Q_EIC_CLEAR, err, TXT(name), TXT(qualifier));
    return rc < 0 ? rc : 0;
}

static int function_delete_locked(struct registry *r, const char *name, struct ld_err *err)
{
    /* ON DELETE CASCADE takes versions, aliases, tags and settings along. */
    int rc = RUN(r, Q_FN_DELETE, err, TXT(name));

    return rc ? (rc < 0 ? rc : 0) : ld_err_set(err, ENOENT, "not found");
}

int registry_function_delete(struct registry *r, const char *name, struct ld_err *err)
{
    int rc;

    if ((rc = check_name("function", name, err)) >= 0 && (rc = tx_begin(r, true, err)) >= 0)
        rc = tx_end(r, function_delete_locked(r, name, err), err);
    return rc < 0 ? ld_err_prefix(err, "delete function %.80s", nm(name)) : 0;
}

static int fn_row(struct registry *r, sqlite3_stmt *s, const void *ctx, json_t **item,
                  char key[REGISTRY_NAME_MAX + 1], long long *num, struct ld_err *err)
{
    (void) r;
    (void) ctx;
    if (col_copy(s, 0, key, REGISTRY_NAME_MAX + 1) < 0 || !(*item = col_json(s, 2)))
        return damaged(err, "function_versions");
    *num = sqlite3_column_int64(s, 1);
    return 0;
}

static int fn_list_fill(struct registry *r, const struct list_ctx *c, struct registry_page *page,
                        struct ld_err *err)
{
    STMT_AUTO sqlite3_stmt *s = PREP(r, Q_FN_LIST, err, TXT(c->key), NUM(c->num),
                                     NUM(c->o->all_versions), NUM(c->limit + 1));

    return page_fill(r, s, MK_FUNCTIONS, c->limit, fn_row, NULL, page, err);
}

int registry_function_list(struct registry *r, const struct registry_list *o,
                           struct registry_page *page, struct ld_err *err)
{
    int rc = list_run(r, NULL, o, REGISTRY_PAGE_MAX, MK_FUNCTIONS, 0, fn_list_fill, page, err);

    return rc < 0 ? ld_err_prefix(err, "list functions") : 0;
}

/* ---- versions -------------------------------------------------------------- */

int registry_version_publish(struct registry *r, const char *name,
                             const char *expected_revision, const json_t *overrides,
                             struct registry_version *out, struct ld_err *err)
{
    int rc;

    if (out)
        memset(out, 0, sizeof *out);
    if ((rc = check_name("function", name, err)) >= 0) {
        if (overrides && !json_is_object(overrides))
            rc = ld_err_set(err, EINVAL, "overrides are not a JSON object");
        else if ((rc = tx_begin(r, true, err)) >= 0)
            rc = tx_end(r, publish_locked(r, name, expected_revision, overrides, out, err), err);
    }
    if (rc < 0) {
        version_clear(out);
        return ld_err_prefix(err, "publish %.80s", nm(name));
    }
    return rc;
}

static int version_delete_locked(struct registry *r, const char *name, unsigned v,
                                 struct ld_err *err)
{
    char vb[12];
    int rc;

    if ((rc = fn_exists(r, name, err)) < 0)
        return rc;
    {
        STMT_AUTO sqlite3_stmt *s = PREP(r, Q_VER_USER, err, TXT(name), NUM(v));

        if ((rc = s ? step(r, s, err) : -err->code) < 0)
            return rc;
        if (rc)
            return ld_err_set(err, EBUSY, "version %u is used by alias %.128s", v,
                              nm((const char *) sqlite3_column_text(s, 0)));
    }
    if ((rc = RUN(r, Q_VER_DELETE, err, TXT(name), NUM(v))) == 0)
        return ld_err_set(err, ENOENT, "no version %u", v);
    return rc < 0 ? rc : qualifier_settings_clear(r, name, vname(v, vb), err);
}

int registry_version_delete(struct registry *r, const char *name, const char *qualifier,
                            struct ld_err *err)
{
    unsigned v = REGISTRY_LATEST;
    int rc;

    if ((rc = check_name("function", name, err)) >= 0 &&
        (rc = parse_qualifier(qualifier, &v, err)) >= 0) {
        if (v == REGISTRY_LATEST)
            rc = ld_err_set(err, EINVAL, "$LATEST goes only with the function");
        else if ((rc = tx_begin(r, true, err)) >= 0)
            rc = tx_end(r, version_delete_locked(r, name, v, err), err);
    }
    return rc < 0 ? ld_err_prefix(err, "delete %.80s:%.20s", nm(name), nm(qualifier)) : 0;
}

/* A (number, doc) row: function versions and layer versions. */
static int ver_row(struct registry *r, sqlite3_stmt *s, const void *ctx, json_t **item,
                   char key[REGISTRY_NAME_MAX + 1], long long *num, struct ld_err *err)
{
    (void) r;
    (void) ctx;
    key[0] = '\0';
    *num = sqlite3_column_int64(s, 0);
    return (*item = col_json(s, 1)) ? 0 : damaged(err, "versions");
}

static int ver_list_fill(struct registry *r, const struct list_ctx *c, struct registry_page *page,
                         struct ld_err *err)
{
    int rc = fn_exists(r, c->name, err);
    STMT_AUTO sqlite3_stmt *s =
        rc < 0 ? NULL : PREP(r, Q_VER_LIST, err, TXT(c->name), NUM(c->num), NUM(c->limit + 1));

    return rc < 0 ? rc : page_fill(r, s, MK_VERSIONS, c->limit, ver_row, NULL, page, err);
}

int registry_version_list(struct registry *r, const char *name, const struct registry_list *o,
                          struct registry_page *page, struct ld_err *err)
{
    int rc;

    page->items = NULL;
    page->next_marker = NULL;
    if ((rc = check_name("function", name, err)) >= 0)
        rc = list_run(r, name, o, REGISTRY_PAGE_MAX, MK_VERSIONS, -1, ver_list_fill, page, err);
    return rc < 0 ? ld_err_prefix(err, "list versions of %.80s", nm(name)) : 0;
}

/* ---- aliases --------------------------------------------------------------- */

/* The alias doc from a row (name, function_version, description,
 * revision_id) of Q_AL_GET or Q_AL_LIST, with its routes. */
static int alias_doc(struct registry *r, const char *function, sqlite3_stmt *row, json_t **out,
                     struct ld_err *err)
{
    const char *name = (const char *) sqlite3_column_text(row, 0);
    const char *desc = (const char *) sqlite3_column_text(row, 2);
    const char *rev = (const char *) sqlite3_column_text(row, 3);
    long long v = sqlite3_column_int64(row, 1);
    STMT_AUTO sqlite3_stmt *s = NULL;
    json_t *doc, *weights = NULL;
    char vb[12];
    int rc;

    if (!name || !desc || !rev || v < 0 || v > UINT_MAX)
        return damaged(err, "aliases");
    if (!(s = PREP(r, Q_AR_GET, err, TXT(function), TXT(name))))
        return -err->code;
    doc = json_pack("{s:s, s:s, s:s, s:s}", "Name", name, "FunctionVersion",
                    vname((unsigned) v, vb), "Description", desc, "RevisionId", rev);
    if (!doc)
        return ld_err_set(err, ENOMEM, "alias doc");
    while ((rc = step(r, s, err)) > 0) {
        long long rv = sqlite3_column_int64(s, 0);

        if (!weights && json_object_set_new(doc, "RoutingConfig",
                                            json_pack("{s:{}}", "AdditionalVersionWeights")) == 0)
            weights = json_object_get(json_object_get(doc, "RoutingConfig"),
                                      "AdditionalVersionWeights");
        if (!weights || rv < 1 || rv > UINT_MAX ||
            json_object_set_new(weights, vname((unsigned) rv, vb),
                                json_real(sqlite3_column_double(s, 1))) < 0) {
            rc = weights ? damaged(err, "alias_routes") : ld_err_set(err, ENOMEM, "alias doc");
            break;
        }
    }
    if (rc < 0) {
        json_decref(doc);
        return rc;
    }
    *out = doc;
    return 0;
}

/* Reads the alias: its doc into *doc and/or its RevisionId into rev. */
static int alias_load(struct registry *r, const char *function, const char *alias, json_t **doc,
                      char rev[LD_UUID_LEN + 1], struct ld_err *err)
{
    STMT_AUTO sqlite3_stmt *s = PREP(r, Q_AL_GET, err, TXT(function), TXT(alias));
    int rc = s ? step(r, s, err) : -err->code;

    if (rc <= 0)
        return rc < 0 ? rc : ld_err_set(err, ENOENT, "alias %s not found", alias);
    if (rev && col_copy(s, 3, rev, LD_UUID_LEN + 1) < 0)
        return damaged(err, "aliases");
    return doc ? alias_doc(r, function, s, doc, err) : 0;
}

static int alias_version(struct registry *r, const char *function, const char *qualifier,
                         unsigned *v, struct ld_err *err)
{
    int rc = registry_parse_version(qualifier, v);

    if (!qualifier || rc == -EINVAL)
        return ld_err_set(err, EINVAL, "FunctionVersion %.40s is not $LATEST or a version",
                          nm(qualifier));
    if (rc < 0)
        return ld_err_set(err, ENOENT, "version %.20s of %s not found", qualifier, function);
    return version_exists(r, function, *v, err);
}

static int alias_routes_put(struct registry *r, const char *function, const char *alias,
                            const json_t *routing, struct ld_err *err)
{
    json_t *weights = routing ? json_object_get(routing, "AdditionalVersionWeights") : NULL;
    const char *k;
    json_t *w;
    int rc;

    if ((routing && !json_is_object(routing)) || (weights && !json_is_object(weights)))
        return ld_err_set(err, EINVAL, "RoutingConfig is not {\"AdditionalVersionWeights\": {}}");
    json_object_foreach (weights, k, w) {
        double wt = json_number_value(w);
        unsigned v;

        if (alias_version(r, function, k, &v, err) < 0)
            return ld_err_prefix(err, "routing");
        if (!json_is_number(w) || !(wt >= 0.0 && wt <= 1.0))
            return ld_err_set(err, EINVAL, "routing weight of %s is not in 0.0..1.0", k);
        if ((rc = RUN(r, Q_AR_INSERT, err, TXT(function), TXT(alias), NUM(v), DBL(wt))) < 0)
            return rc;
    }
    return 0;
}

static int alias_write_locked(struct registry *r, const char *function, const char *alias,
                              const struct registry_alias_write *w, bool create, json_t **out,
                              struct ld_err *err)
{
    char cur[LD_UUID_LEN + 1], rev[LD_UUID_LEN + 1];
    unsigned v;
    int rc;

    if ((rc = fn_exists(r, function, err)) < 0 ||
        (rc = alias_version(r, function, w->function_version, &v, err)) < 0)
        return rc;
    if (!create) {
        if ((rc = alias_load(r, function, alias, NULL, cur, err)) < 0)
            return rc;
        if (w->expected_revision && strcmp(w->expected_revision, cur) != 0)
            return ld_err_set(err, ESTALE, "RevisionId %.40s is not the current %s",
                              w->expected_revision, cur);
    }
    ld_uuid_v4(rev);
    rc = RUN(r, create ? Q_AL_INSERT : Q_AL_UPDATE, err, TXT(function), TXT(alias), NUM(v),
             TXT(w->description ? w->description : ""), TXT(rev));
    if (rc == -EEXIST)
        return ld_err_set(err, EEXIST, "alias %s exists", alias);
    if (rc >= 0 && !create)
        rc = RUN(r, Q_AR_CLEAR, err, TXT(function), TXT(alias));
    if (rc < 0 || (rc = alias_routes_put(r, function, alias, w->routing, err)) < 0)
        return rc;
    return out ? alias_load(r, function, alias, out, NULL, err) : 0;
}

static int alias_write(struct registry *r, const char *function, const char *alias,
                       const struct registry_alias_write *w, bool create, json_t **out,
                       struct ld_err *err)
{
    int rc;

    if (out)
        *out = NULL;
    if ((rc = check_name("function", function, err)) >= 0 &&
        (rc = check_name("alias", alias, err)) >= 0) {
        if (!w)
            rc = ld_err_set(err, EINVAL, "nothing to write");
        else if ((rc = tx_begin(r, true, err)) >= 0)
            rc = tx_end(r, alias_write_locked(r, function, alias, w, create, out, err), err);
    }
    if (rc < 0) {
        if (out) {
            json_decref(*out);
            *out = NULL;
        }
        return ld_err_prefix(err, "%s alias %.80s of %.64s", create ? "create" : "update",
                             nm(alias), nm(function));
    }
    return 0;
}

int registry_alias_create(struct registry *r, const char *function, const char *alias,
                          const struct registry_alias_write *w, json_t **out,
                          struct ld_err *err)
{
    return alias_write(r, function, alias, w, true, out, err);
}

int registry_alias_update(struct registry *r, const char *function, const char *alias,
                          const struct registry_alias_write *w, json_t **out,
                          struct ld_err *err)
{
    return alias_write(r, function, alias, w, false, out, err);
}

static int alias_get_locked(struct registry *r, const char *function, const char *alias,
                            json_t **out, struct ld_err *err)
{
    int rc = fn_exists(r, function, err);

    return rc < 0 ? rc : alias_load(r, function, alias, out, NULL, err);
}

int registry_alias_get(struct registry *r, const char *function, const char *alias, json_t **out,
                       struct ld_err *err)
{
    int rc;

    *out = NULL;
    if ((rc = check_name("function", function, err)) >= 0 &&
        (rc = check_name("alias", alias, err)) >= 0 && (rc = tx_begin(r, false, err)) >= 0)
        rc = tx_end(r, alias_get_locked(r, function, alias, out, err), err);
    if (rc < 0) {
        json_decref(*out);
        *out = NULL;
        return ld_err_prefix(err, "get alias %.80s of %.64s", nm(alias), nm(function));
    }
    return 0;
}

static int alias_delete_locked(struct registry *r, const char *function, const char *alias,
                               struct ld_err *err)
{
    int rc = fn_exists(r, function, err);

    if (rc < 0)
        return rc;
    if ((rc = RUN(r, Q_AL_DELETE, err, TXT(function), TXT(alias))) == 0)
        return ld_err_set(err, ENOENT, "alias %s not found", alias);
    return rc < 0 ? rc : qualifier_settings_clear(r, function, alias, err);
}

int registry_alias_delete(struct registry *r, const char *function, const char *alias,
                          struct ld_err *err)
{
    int rc;

    if ((rc = check_name("function", function, err)) >= 0 &&
        (rc = check_name("alias", alias, err)) >= 0 && (rc = tx_begin(r, true, err)) >= 0)
        rc = tx_end(r, alias_delete_locked(r, function, alias, err), err);
    return rc < 0 ? ld_err_prefix(err, "delete alias %.80s of %.64s", nm(alias), nm(function))
                  : 0;
}

static int alias_row(struct registry *r, sqlite3_stmt *s, const void *ctx, json_t **item,
                     char key[REGISTRY_NAME_MAX + 1], long long *num, struct ld_err *err)
{
    *num = 0;
    if (col_copy(s, 0, key, REGISTRY_NAME_MAX + 1) < 0)
        return damaged(err, "aliases");
    return alias_doc(r, ctx, s, item, err);
}

static int alias_list_fill(struct registry *r, const struct list_ctx *c,
                           struct registry_page *page, struct ld_err *err)
{
    STMT_AUTO sqlite3_stmt *s = NULL;
    struct arg version = {A_TEXT, NULL, 0, 0}; /* NULL: any version */
    unsigned v;
    int rc;

    if ((rc = fn_exists(r, c->name, err)) < 0)
        return rc;
    if (c->o->function_version) {
        rc = registry_parse_version(c->o->function_version, &v);
        if (rc == -EINVAL)
            return ld_err_set(err, EINVAL, "FunctionVersion %.40s is not $LATEST or a version",
                              c->o->function_version);
        /* No alias can point at a version that cannot exist: -1 matches none. */
        version = (struct arg) NUM(rc == 0 ? (long long) v : -1);
    }
    s = PREP(r, Q_AL_LIST, err, TXT(c->name), TXT(c->key), version, NUM(c->limit + 1));
    return page_fill(r, s, MK_ALIASES, c->limit, alias_row, c->name, page, err);
}

int registry_alias_list(struct registry *r, const char *function, const struct registry_list *o,
                        struct registry_page *page, struct ld_err *err)
{
    int rc;

    page->items = NULL;
    page->next_marker = NULL;
    if ((rc = check_name("function", function, err)) >= 0)
        rc = list_run(r, function, o, REGISTRY_PAGE_MAX, MK_ALIASES, 0, alias_list_fill, page,
                      err);
    return rc < 0 ? ld_err_prefix(err, "list aliases of %.80s", nm(function)) : 0;
}

/* ---- layers ---------------------------------------------------------------- */

static const char *const compat_members[] = {"CompatibleRuntimes", "CompatibleArchitectures"};
static const char *const compat_kinds[] = {"runtime", "architecture"};

/* The compatibility lists the filters read: absent, or arrays of strings. */
static int layer_compat_check(const json_t *doc, struct ld_err *err)
{
    for (size_t m = 0; m < 2; m++) {
        const json_t *a = json_object_get(doc, compat_members[m]);

        if (a && !json_is_array(a))
            return ld_err_set(err, EINVAL, "%s is not an array", compat_members[m]);
        for (size_t i = 0; i < json_array_size(a); i++)
            if (!json_is_string(json_array_get(a, i)))
                return ld_err_set(err, EINVAL, "%s has a non-string", compat_members[m]);
    }
    return 0;
}

static int layer_publish_locked(struct registry *r, const char *layer, const char *digest,
                                const json_t *in, struct registry_layer_version *out,
                                struct ld_err *err)
{
    AUTOFREE char *text = NULL;
    json_t *doc;
    unsigned v = 0;
    int rc;

    if ((rc = bump(r, Q_LY_BUMP, layer, &v, err)) < 0)
        return rc;
    doc = json_deep_copy(in);
    if (!doc || json_object_set_new(doc, "Version", json_integer(v)) < 0 ||
        !(text = json_dumps(doc, JSON_COMPACT))) {
        json_decref(doc);
        return ld_err_set(err, ENOMEM, "layer doc");
    }
    rc = RUN(r, Q_LV_INSERT, err, TXT(layer), NUM(v), TXT(digest), TXT(text));
    for (size_t m = 0; m < 2; m++) {
        const json_t *a = json_object_get(doc, compat_members[m]);

        for (size_t i = 0; rc >= 0 && i < json_array_size(a); i++)
            rc = RUN(r, Q_LC_INSERT, err, TXT(layer), NUM(v), TXT(compat_kinds[m]),
                     TXT(json_string_value(json_array_get(a, i))));
    }
    if (rc >= 0 && out) {
        out->version = v;
        copy_str(out->digest, sizeof out->digest, digest);
        out->doc = json_incref(doc);
    }
    json_decref(doc);
    return rc < 0 ? rc : 0;
}

int registry_layer_publish(struct registry *r, const char *layer, const char *digest,
                           const json_t *doc, struct registry_layer_version *out,
                           struct ld_err *err)
{
    int rc;

    if (out)
        memset(out, 0, sizeof *out);
    if ((rc = check_name("layer", layer, err)) >= 0 && (rc = check_digest(digest, err)) >= 0) {
        if (!json_is_object(doc))
            rc = ld_err_set(err, EINVAL, "doc is not a JSON object");
        else if ((rc = layer_compat_check(doc, err)) >= 0 && (rc = tx_begin(r, true, err)) >= 0)
            rc = tx_end(r, layer_publish_locked(r, layer, digest, doc, out, err), err);
    }
    if (rc < 0) {
        if (out) {
            json_decref(out->doc);
            memset(out, 0, sizeof *out);
        }
        return ld_err_prefix(err, "publish layer %.80s", nm(layer));
    }
    return 0;
}

static int layer_load(struct registry *r, const char *layer, unsigned v,
                      struct registry_layer_version *out, struct ld_err *err)
{
    STMT_AUTO sqlite3_stmt *s = PREP(r, Q_LV_GET, err, TXT(layer), NUM(v));
    int rc = s ? step(r, s, err) : -err->code;

    if (rc <= 0)
        return rc < 0 ? rc : ld_err_set(err, ENOENT, "version %u not found", v);
    out->version = v;
    if (col_copy(s, 0, out->digest, sizeof out->digest) < 0 || !(out->doc = col_json(s, 1)))
        return damaged(err, "layer_versions");
    return 0;
}

int registry_layer_get(struct registry *r, const char *layer, unsigned version,
                       struct registry_layer_version *out, struct ld_err *err)
{
    int rc;

    memset(out, 0, sizeof *out);
    if ((rc = check_name("layer", layer, err)) >= 0 && (rc = tx_begin(r, false, err)) >= 0)
        rc = tx_end(r, layer_load(r, layer, version, out, err), err);
    if (rc < 0) {
        json_decref(out->doc);
        memset(out, 0, sizeof *out);
        return ld_err_prefix(err, "get layer %.80s", nm(layer));
    }
    return 0;
}

static int layer_delete_locked(struct registry *r, const char *layer, unsigned v,
                               struct ld_err *err)
{
    int rc = RUN(r, Q_LV_DELETE, err, TXT(layer), NUM(v));

    return rc ? (rc < 0 ? rc : 0) : ld_err_set(err, ENOENT, "version %u not found", v);
}

int registry_layer_delete(struct registry *r, const char *layer, unsigned version,
                          struct ld_err *err)
{
    int rc;

    if ((rc = check_name("layer", layer, err)) >= 0 && (rc = tx_begin(r, true, err)) >= 0)
        rc = tx_end(r, layer_delete_locked(r, layer, version, err), err);
    return rc < 0 ? ld_err_prefix(err, "delete layer %.80s", nm(layer)) : 0;
}

static int layer_row(struct registry *r, sqlite3_stmt *s, const void *ctx, json_t **item,
                     char key[REGISTRY_NAME_MAX + 1], long long *num, struct ld_err *err)
{
    struct registry_layer_version lv = {0};
    long long v = sqlite3_column_int64(s, 1);
    int rc;

    (void) ctx;
    *num = 0;
    if (col_copy(s, 0, key, REGISTRY_NAME_MAX + 1) < 0 || v < 1 || v > UINT_MAX)
        return damaged(err, "layer_versions");
    if ((rc = layer_load(r, key, (unsigned) v, &lv, err)) < 0) {
        json_decref(lv.doc);
        return rc;
    }
    /* "o" hands lv.doc over to the item, also when packing fails. */
    *item = json_pack("{s:s, s:o}", "LayerName", key, "LatestMatchingVersion", lv.doc);
    return *item ? 0 : ld_err_set(err, ENOMEM, "layer item");
}

static int layer_list_fill(struct registry *r, const struct list_ctx *c,
                           struct registry_page *page, struct ld_err *err)
{
    STMT_AUTO sqlite3_stmt *s = PREP(r, Q_LY_LIST, err, TXT(c->key), TXT(c->o->runtime),
                                     TXT(c->o->architecture), NUM(c->limit + 1));

    return page_fill(r, s, MK_LAYERS, c->limit, layer_row, NULL, page, err);
}

int registry_layer_list(struct registry *r, const struct registry_list *o,
                        struct registry_page *page, struct ld_err *err)
{
    int rc = list_run(r, NULL, o, REGISTRY_LAYER_PAGE_MAX, MK_LAYERS, 0, layer_list_fill, page,
                      err);

    return rc < 0 ? ld_err_prefix(err, "list layers") : 0;
}

static int lv_list_fill(struct registry *r, const struct list_ctx *c, struct registry_page *page,
                        struct ld_err *err)
{
    STMT_AUTO sqlite3_stmt *s = PREP(r, Q_LV_LIST, err, TXT(c->name), TXT(c->o->runtime),
                                     TXT(c->o->architecture), NUM(c->num), NUM(c->limit + 1));

    return page_fill(r, s, MK_LAYER_VERSIONS, c->limit, ver_row, NULL, page, err);
}

int registry_layer_list_versions(struct registry *r, const char *layer,
                                 const struct registry_list *o, struct registry_page *page,
                                 struct ld_err *err)
{
    int rc;

    page->items = NULL;
    page->next_marker = NULL;
    /* Newest first: the first page starts below any version there can be. */
    if ((rc = check_name("layer", layer, err)) >= 0)
        rc = list_run(r, layer, o, REGISTRY_LAYER_PAGE_MAX, MK_LAYER_VERSIONS,
                      (long long) UINT_MAX + 1, lv_list_fill, page, err);
    return rc < 0 ? ld_err_prefix(err, "list versions of layer %.80s", nm(layer)) : 0;
}

/* ---- tags ------------------------------------------------------------------ */

static int tags_set_locked(struct registry *r, const char *function, const json_t *tags,
                           struct ld_err *err)
{
    int rc = fn_exists(r, function, err);

    return rc < 0 ? rc : tags_put(r, function, tags, err);
}

int registry_tags_set(struct registry *r, const char *function, const json_t *tags,
                      struct ld_err *err)
{
    int rc;

    if ((rc = check_name("function", function, err)) >= 0) {
        if (!json_is_object(tags))
            rc = ld_err_set(err, EINVAL, "tags are not a JSON object");
        else if ((rc = tx_begin(r, true, err)) >= 0)
            rc = tx_end(r, tags_set_locked(r, function, tags, err), err);
    }
    return rc < 0 ? ld_err_prefix(err, "tag %.80s", nm(function)) : 0;
}

static int tags_unset_locked(struct registry *r, const char *function, const char *const *keys,
                             size_t nkeys, struct ld_err *err)
{
    int rc = fn_exists(r, function, err);

    for (size_t i = 0; rc >= 0 && i < nkeys; i++)
        rc = RUN(r, Q_TAG_DELETE, err, TXT(function), TXT(keys[i]));
    return rc < 0 ? rc : 0;
}

int registry_tags_unset(struct registry *r, const char *function, const char *const *keys,
                        size_t nkeys, struct ld_err *err)
{
    int rc;

    if ((rc = check_name("function", function, err)) >= 0) {
        for (size_t i = 0; i < nkeys && rc >= 0; i++)
            if (!keys[i])
                rc = ld_err_set(err, EINVAL, "tag key %zu is NULL", i);
        if (rc >= 0 && (rc = tx_begin(r, true, err)) >= 0)
            rc = tx_end(r, tags_unset_locked(r, function, keys, nkeys, err), err);
    }
    return rc < 0 ? ld_err_prefix(err, "untag %.80s", nm(function)) : 0;
}

static int tags_list_locked(struct registry *r, const char *function, json_t *tags,
                            struct ld_err *err)
{
    int rc = fn_exists(r, function, err);
    STMT_AUTO sqlite3_stmt *s = rc < 0 ? NULL : PREP(r, Q_TAG_LIST, err, TXT(function));

    if (rc < 0 || !s)
        return rc < 0 ? rc : -err->code;
    while ((rc = step(r, s, err)) > 0) {
        const char *k = (const char *) sqlite3_column_text(s, 0);
        const char *v = (const char *) sqlite3_column_text(s, 1);

        if (!k || !v || json_object_set_new(tags, k, json_string(v)) < 0)
            return damaged(err, "function_tags");
    }
    return rc;
}

int registry_tags_list(struct registry *r, const char *function, json_t **out,
                       struct ld_err *err)
{
    int rc;

    *out = NULL;
    if ((rc = check_name("function", function, err)) >= 0) {
        if (!(*out = json_object()))
            rc = ld_err_set(err, ENOMEM, "tags");
        else if ((rc = tx_begin(r, false, err)) >= 0)
            rc = tx_end(r, tags_list_locked(r, function, *out, err), err);
    }
    if (rc < 0) {
        json_decref(*out);
        *out = NULL;
        return ld_err_prefix(err, "list tags of %.80s", nm(function));
    }
    return 0;
}

/* ---- artifacts ------------------------------------------------------------- */

static int digests_locked(struct registry *r, struct registry_digest **out, size_t *n,
                          struct ld_err *err)
{
    STMT_AUTO sqlite3_stmt *s = stmt(r, Q_DIGESTS, err);
    size_t cap = 0;
    int rc;

    if (!s)
        return -err->code;
    while ((rc = step(r, s, err)) > 0) {
        if (*n == cap) {
            size_t ncap = cap ? 2 * cap : 64;
            struct registry_digest *grown = realloc(*out, ncap * sizeof **out);

            if (!grown)
                return ld_err_set(err, ENOMEM, "digests");
            *out = grown;
            cap = ncap;
        }
        if (col_copy(s, 0, (*out)[*n].hex, sizeof (*out)[*n].hex) < 0)
            return damaged(err, "digests");
        (*n)++;
    }
    return rc;
}

int registry_live_digests(struct registry *r, struct registry_digest **out, size_t *n,
                          struct ld_err *err)
{
    int rc;

    *out = NULL;
    *n = 0;
    if ((rc = tx_begin(r, false, err)) >= 0)
        rc = tx_end(r, digests_locked(r, out, n, err), err);
    if (rc < 0) {
        free(*out);
        *out = NULL;
        *n = 0;
        return ld_err_prefix(err, "live digests");
    }
    return 0;
}

/* ---- lifetime -------------------------------------------------------------- */

int registry_open(const char *data_dir, struct registry **out, struct ld_err *err)
{
    struct registry *r = calloc(1, sizeof *r);

    *out = NULL;
    if (!r)
        return ld_err_set(err, ENOMEM, "open registry");
    if (registry_db_open(data_dir, &r->db, err) < 0) {
        free(r);
        return ld_err_prefix(err, "open registry");
    }
    *out = r;
    return 0;
}

void registry_close(struct registry *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < Q_COUNT; i++)
        sqlite3_finalize(r->st[i]);
    /* Every statement is finalized, so this closes (and checkpoints) now. */
    (void) sqlite3_close(r->db);
    free(r);
}
