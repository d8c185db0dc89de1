/* tests/unit/service/test_registry.c: the registry (src/service/registry.h)
 * against a real SQLite file in a fresh temporary data dir per test.
 *
 * Checks AWS's rules the registry enforces (version numbers never reused,
 * RevisionId on every write, aliases pinning versions, the 50-tag limit),
 * pagination without duplicates or gaps, durability (close and reopen, and a
 * child killed with SIGKILL right after its write returned), and the refusal
 * of files it must not touch. Raw SQLite is used only to look behind the API
 * or to fake a newer or foreign database. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "service/registry.h"

#include "../checks.h"

static char dir[64];
static char dbpath[96];
static struct registry *reg;

/* ---- fixture and helpers ------------------------------------------------ */

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st;
    (void) flag;
    (void) ftw;
    return remove(p);
}

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/ldreg-%d-XXXXXX", (int) getpid());
    cr_assert_not_null(mkdtemp(dir));
    snprintf(dbpath, sizeof dbpath, "%s/registry.db", dir);
}

static void teardown(void)
{
    registry_close(reg);
    reg = NULL;
    if (dir[0])
        nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(registry, .init = setup, .fini = teardown, .timeout = 60);

static void reopen(void)
{
    struct ld_err err;

    registry_close(reg);
    reg = NULL;
    cr_assert_eq(registry_open(dir, &reg, &err), 0, "%s", err.msg);
}

/* A digest that differs by seed: "000...0<seed in hex>". */
static const char *dg(unsigned seed)
{
    static char ring[8][REGISTRY_DIGEST_HEX + 1];
    static unsigned next;
    char *d = ring[next++ % 8];

    snprintf(d, REGISTRY_DIGEST_HEX + 1, "%064x", seed);
    return d;
}

static json_t *config(const char *runtime, int timeout)
{
    json_t *doc = json_pack("{s:s, s:s, s:s, s:i, s:i, s:s, s:s, s:s, s:s, s:[s]}", "Runtime",
                            runtime, "Handler", "app.handler", "Role",
                            "arn:aws:iam::000000000000:role/r", "Timeout", timeout, "MemorySize",
                            128, "Description", "", "CodeSha256", "base64sha=", "LastModified",
                            "2026-01-01T00:00:00.000+0000", "State", "Active", "Architectures",
                            "x86_64");

    cr_assert_not_null(doc);
    return doc;
}

static void create(const char *name, unsigned code, int timeout, struct registry_version *out)
{
    json_t *doc = config("python3.12", timeout);
    struct registry_fn_write w = {.doc = doc, .code_digest = dg(code)};
    struct ld_err err;

    cr_assert_eq(registry_function_create(reg, name, &w, out, &err), 0, "%s", err.msg);
    json_decref(doc);
}

/* Rewrites $LATEST with a new Timeout and code; returns the new RevisionId. */
static void update(const char *name, unsigned code, int timeout)
{
    json_t *doc = config("python3.12", timeout);
    struct registry_fn_write w = {.doc = doc, .code_digest = dg(code)};
    struct ld_err err;

    cr_assert_eq(registry_function_update(reg, name, &w, NULL, &err), 0, "%s", err.msg);
    json_decref(doc);
}

static unsigned publish(const char *name, int expect_rc)
{
    struct registry_version v;
    struct ld_err err;
    unsigned n;

    cr_assert_eq(registry_version_publish(reg, name, NULL, NULL, &v, &err), expect_rc, "%s",
                 expect_rc < 0 ? "" : err.msg);
    n = v.version;
    json_decref(v.doc);
    return n;
}

static const char *str(const json_t *doc, const char *key)
{
    const char *s = json_string_value(json_object_get(doc, key));

    cr_assert_not_null(s, "no string %s", key);
    return s;
}

static long long raw_int(const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *s;
    long long v;

    cr_assert_eq(sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
    cr_assert_eq(sqlite3_step(s), SQLITE_ROW, "%s", sqlite3_errmsg(db));
    v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return v;
}

static void raw_exec(const char *sql)
{
    sqlite3 *db;

    cr_assert_eq(sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL),
                 SQLITE_OK);
    cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
    sqlite3_close(db);
}

static void append(char *buf, size_t cap, const char *s)
{
    size_t n = strlen(buf);

    cr_assert_lt(n + strlen(s), cap, "buffer too small");
    snprintf(buf + n, cap - n, "%s", s);
}

/* The Version strings of a page's items, "," joined, into buf. */
static const char *versions_of(const struct registry_page *p, char *buf, size_t cap)
{
    size_t i, o = 0;
    json_t *item;

    buf[0] = '\0';
    json_array_foreach (p->items, i, item)
        o += (size_t) snprintf(buf + o, cap - o, "%s%s", i ? "," : "", str(item, "Version"));
    return buf;
}

/* ---- open ------------------------------------------------------------------ */

Test(registry, open_creates_a_private_wal_database_and_close_leaves_no_fd)
{
    char wal[128], link[300], target[256];
    int fds = count_fds(), opened = 0;
    struct ld_err err;
    struct stat st;
    struct dirent *e;
    DIR *d;

    cr_assert_eq(registry_open(dir, &reg, &err), 0, "%s", err.msg);
    cr_assert_eq(stat(dbpath, &st), 0);
    cr_expect_eq(st.st_mode & 0777, 0600, "registry.db mode %o", st.st_mode & 0777);
    snprintf(wal, sizeof wal, "%s-wal", dbpath);
    cr_assert_eq(stat(wal, &st), 0, "no WAL file: not in WAL mode?");
    cr_expect_eq(st.st_mode & 0777, 0600, "WAL mode %o", st.st_mode & 0777);
    /* SQLite's own fds must not leak into the environments we spawn. */
    d = opendir("/proc/self/fd");
    cr_assert_not_null(d);
    while ((e = readdir(d))) {
        ssize_t n;

        if (e->d_name[0] == '.')
            continue;
        snprintf(link, sizeof link, "/proc/self/fd/%s", e->d_name);
        n = readlink(link, target, sizeof target - 1);
        if (n <= 0)
            continue;
        target[n] = '\0';
        if (strncmp(target, dir, strlen(dir)) != 0)
            continue;
        opened++;
        cr_expect(fcntl(atoi(e->d_name), F_GETFD) & FD_CLOEXEC, "%s is not CLOEXEC", target);
    }
    closedir(d);
    cr_expect_geq(opened, 2, "expected the db and WAL open");
    registry_close(reg);
    reg = NULL;
    cr_expect_eq(count_fds(), fds, "fds leaked");
    cr_expect_eq(raw_int("PRAGMA user_version"), 1);
    cr_expect_eq(raw_int("PRAGMA application_id"), 0x4c445247);
    cr_expect_eq(raw_int("SELECT count(*) FROM sqlite_schema WHERE name = 'functions'"), 1);
    assert_no_leaks();
}

Test(registry, open_needs_an_existing_data_dir)
{
    char missing[128];
    struct ld_err err;

    snprintf(missing, sizeof missing, "%s/nope", dir);
    cr_assert_eq(registry_open(missing, &reg, &err), -ENOENT);
    cr_assert_null(reg);
    cr_expect(strstr(err.msg, "data dir") != NULL, "%s", err.msg);
    cr_assert_eq(registry_open(NULL, &reg, &err), -EINVAL);
}

Test(registry, a_database_from_a_newer_lambdad_is_refused_and_left_alone)
{
    struct ld_err err;

    reopen();
    registry_close(reg);
    reg = NULL;
    raw_exec("PRAGMA user_version = 99");
    cr_assert_eq(registry_open(dir, &reg, &err), -EPROTONOSUPPORT);
    cr_assert_null(reg);
    cr_expect(strstr(err.msg, "newer lambdad") != NULL, "%s", err.msg);
    cr_expect(strstr(err.msg, "schema 99") != NULL, "%s", err.msg);
    cr_expect_eq(raw_int("PRAGMA user_version"), 99);
    assert_no_leaks();
}

Test(registry, a_file_that_is_not_sqlite_is_refused_with_a_clear_error)
{
    char junk[8192];
    struct ld_err err;
    FILE *f = fopen(dbpath, "w");

    cr_assert_not_null(f);
    memset(junk, 'x', sizeof junk);
    cr_assert_eq(fwrite(junk, 1, sizeof junk, f), sizeof junk);
    fclose(f);
    cr_assert_eq(registry_open(dir, &reg, &err), -EBADMSG);
    cr_assert_null(reg);
    cr_expect(strstr(err.msg, "not an SQLite database") != NULL, "%s", err.msg);
    cr_expect(strstr(err.msg, "registry.db") != NULL, "%s", err.msg);
    assert_no_leaks();
}

Test(registry, another_programs_sqlite_database_is_refused)
{
    struct ld_err err;

    raw_exec("CREATE TABLE things (x)");
    cr_assert_eq(registry_open(dir, &reg, &err), -EBADMSG);
    cr_expect(strstr(err.msg, "another program") != NULL, "%s", err.msg);
    raw_exec("DROP TABLE things; PRAGMA application_id = 1234");
    cr_assert_eq(registry_open(dir, &reg, &err), -EBADMSG);
    cr_expect(strstr(err.msg, "1234") != NULL, "%s", err.msg);
}

/* ---- functions ------------------------------------------------------------- */

Test(registry, create_get_update_with_revision_check)
{
    struct registry_version v, got;
    struct registry_fn_write w = {0};
    const char *layers[] = {dg(100), dg(101)};
    char rev1[LD_UUID_LEN + 1];
    json_t *doc = config("nodejs20.x", 7);
    struct ld_err err;

    reopen();
    json_object_set_new(doc, "Version", json_string("bogus")); /* the registry's to set */
    w.doc = doc;
    w.code_digest = dg(1);
    w.layer_digests = layers;
    w.nlayers = 2;
    cr_assert_eq(registry_function_create(reg, "f", &w, &v, &err), 0, "%s", err.msg);
    cr_expect_eq(v.version, REGISTRY_LATEST);
    cr_expect(ld_uuid_valid(v.revision_id, strlen(v.revision_id)));
    cr_expect_str_eq(v.code_digest, dg(1));
    cr_assert_eq(v.nlayers, 2);
    cr_expect_str_eq(v.layer_digests[1], dg(101));
    cr_expect_str_eq(str(v.doc, "Version"), "$LATEST");
    cr_expect_str_eq(str(v.doc, "FunctionName"), "f");
    cr_expect_str_eq(str(v.doc, "RevisionId"), v.revision_id);
    cr_expect_str_eq(str(doc, "Version"), "bogus", "the caller's doc was modified");
    cr_assert_eq(registry_function_create(reg, "f", &w, NULL, &err), -EEXIST);
    snprintf(rev1, sizeof rev1, "%s", v.revision_id);
    json_decref(v.doc);

    cr_assert_eq(registry_function_get(reg, "f", "$LATEST", &got, &err), 0, "%s", err.msg);
    cr_expect_str_eq(got.revision_id, rev1);
    cr_expect_str_eq(str(got.doc, "Runtime"), "nodejs20.x");
    cr_expect_eq(json_integer_value(json_object_get(got.doc, "Timeout")), 7);
    cr_expect_eq(got.nlayers, 2);
    cr_expect_str_eq(got.layer_digests[0], dg(100));
    json_decref(got.doc);

    /* Stale RevisionId: refused, nothing changes. */
    json_object_set_new(doc, "Timeout", json_integer(9));
    w.expected_revision = "00000000-0000-4000-8000-000000000000";
    w.nlayers = 0;
    cr_assert_eq(registry_function_update(reg, "f", &w, NULL, &err), -ESTALE);
    cr_expect(strstr(err.msg, "RevisionId") != NULL, "%s", err.msg);
    cr_assert_eq(registry_function_get(reg, "f", NULL, &got, &err), 0, "%s", err.msg);
    cr_expect_str_eq(got.revision_id, rev1);
    cr_expect_eq(json_integer_value(json_object_get(got.doc, "Timeout")), 7);
    cr_expect_eq(got.nlayers, 2);
    json_decref(got.doc);

    /* Current RevisionId: applied, with a new RevisionId and the new layers. */
    w.expected_revision = rev1;
    cr_assert_eq(registry_function_update(reg, "f", &w, &v, &err), 0, "%s", err.msg);
    cr_expect_str_neq(v.revision_id, rev1);
    json_decref(v.doc);
    cr_assert_eq(registry_function_get(reg, "f", "$LATEST", &got, &err), 0, "%s", err.msg);
    cr_expect_str_eq(got.revision_id, v.revision_id);
    cr_expect_eq(json_integer_value(json_object_get(got.doc, "Timeout")), 9);
    cr_expect_eq(got.nlayers, 0);
    json_decref(got.doc);
    /* The old RevisionId is now stale; no expectation always applies. */
    cr_assert_eq(registry_function_update(reg, "f", &w, NULL, &err), -ESTALE);
    w.expected_revision = NULL;
    cr_assert_eq(registry_function_update(reg, "f", &w, NULL, &err), 0, "%s", err.msg);

    cr_assert_eq(registry_function_update(reg, "g", &w, NULL, &err), -ENOENT);
    cr_assert_eq(registry_function_get(reg, "g", NULL, &got, &err), -ENOENT);
    cr_assert_null(got.doc);
    cr_assert_eq(registry_function_get(reg, "f", "7", &got, &err), -ENOENT);
    cr_assert_eq(registry_function_get(reg, "f", "prod", &got, &err), -EINVAL);
    json_decref(doc);
    assert_no_leaks();
}

Test(registry, malformed_arguments_are_einval)
{
    json_t *doc = config("python3.12", 3), *arr = json_array();
    const char *six[] = {dg(1), dg(2), dg(3), dg(4), dg(5), dg(6)};
    struct registry_fn_write w = {.doc = doc, .code_digest = dg(1)};
    struct ld_err err;
    char longname[REGISTRY_NAME_MAX + 2];

    reopen();
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    cr_expect_eq(registry_function_create(reg, "bad name", &w, NULL, &err), -EINVAL);
    cr_expect_eq(registry_function_create(reg, "", &w, NULL, &err), -EINVAL);
    cr_expect_eq(registry_function_create(reg, NULL, &w, NULL, &err), -EINVAL);
    cr_expect_eq(registry_function_create(reg, longname, &w, NULL, &err), -EINVAL);
    longname[REGISTRY_NAME_MAX] = '\0';
    cr_expect_eq(registry_function_create(reg, longname, &w, NULL, &err), 0, "%s", err.msg);
    w.code_digest = "ABCDEF";
    cr_expect_eq(registry_function_create(reg, "f", &w, NULL, &err), -EINVAL);
    w.code_digest = NULL; /* an Image has no zip */
    w.layer_digests = six;
    w.nlayers = 6;
    cr_expect_eq(registry_function_create(reg, "f", &w, NULL, &err), -EINVAL);
    w.nlayers = 0;
    w.doc = arr;
    cr_expect_eq(registry_function_create(reg, "f", &w, NULL, &err), -EINVAL);
    w.doc = doc;
    cr_expect_eq(registry_function_create(reg, "f", &w, NULL, &err), 0, "%s", err.msg);
    json_decref(doc);
    json_decref(arr);
    assert_no_leaks();
}

Test(registry, parse_version)
{
    unsigned v = 77;

    cr_expect_eq(registry_parse_version("$LATEST", &v), 0);
    cr_expect_eq(v, REGISTRY_LATEST);
    cr_expect_eq(registry_parse_version("42", &v), 0);
    cr_expect_eq(v, 42);
    cr_expect_eq(registry_parse_version("4294967295", &v), 0);
    cr_expect_eq(v, 4294967295u);
    cr_expect_eq(registry_parse_version("4294967296", &v), -ENOENT);
    cr_expect_eq(registry_parse_version("0", &v), -ENOENT);
    cr_expect_eq(registry_parse_version("007", &v), -ENOENT);
    cr_expect_eq(registry_parse_version("prod", &v), -EINVAL);
    cr_expect_eq(registry_parse_version("1a", &v), -EINVAL);
    cr_expect_eq(registry_parse_version("", &v), -EINVAL);
    cr_expect_eq(registry_parse_version("$latest", &v), -EINVAL);
}

/* ---- versions -------------------------------------------------------------- */

Test(registry, version_numbers_are_never_reused)
{
    struct registry_version got;
    struct registry_page p;
    struct ld_err err;
    char buf[128];

    reopen();
    create("f", 1, 3, NULL);
    cr_expect_eq(publish("f", 1), 1);
    update("f", 2, 3);
    cr_expect_eq(publish("f", 1), 2);
    cr_assert_eq(registry_version_delete(reg, "f", "2", &err), 0, "%s", err.msg);
    cr_assert_eq(registry_function_get(reg, "f", "2", &got, &err), -ENOENT);
    update("f", 3, 3);
    cr_expect_eq(publish("f", 1), 3, "version 2 was reused");
    /* Deleting the newest does not lower the counter either, across a reopen. */
    cr_assert_eq(registry_version_delete(reg, "f", "3", &err), 0, "%s", err.msg);
    reopen();
    update("f", 4, 3);
    cr_expect_eq(publish("f", 1), 4);
    cr_assert_eq(registry_version_list(reg, "f", NULL, &p, &err), 0, "%s", err.msg);
    cr_expect_str_eq(versions_of(&p, buf, sizeof buf), "$LATEST,1,4");
    cr_expect_null(p.next_marker);
    registry_page_fini(&p);
    cr_assert_eq(registry_function_get(reg, "f", "4", &got, &err), 0, "%s", err.msg);
    cr_expect_str_eq(got.code_digest, dg(4));
    cr_expect_str_eq(str(got.doc, "Version"), "4");
    json_decref(got.doc);
    cr_assert_eq(registry_function_get(reg, "f", "1", &got, &err), 0, "%s", err.msg);
    cr_expect_str_eq(got.code_digest, dg(1), "version 1 changed with $LATEST");
    json_decref(got.doc);

    cr_expect_eq(registry_version_delete(reg, "f", "$LATEST", &err), -EINVAL);
    cr_expect_eq(registry_version_delete(reg, "f", "9", &err), -ENOENT);
    cr_expect_eq(registry_version_delete(reg, "nope", "1", &err), -ENOENT);
    cr_expect_eq(registry_version_list(reg, "nope", NULL, &p, &err), -ENOENT);
    cr_expect_null(p.items);
    assert_no_leaks();
}

Test(registry, publishing_an_unchanged_latest_returns_the_newest_version)
{
    json_t *doc = config("python3.12", 3), *over = json_pack("{s:s}", "Description", "v1");
    struct registry_fn_write w = {.doc = doc, .code_digest = dg(1)};
    struct registry_version v, latest;
    struct ld_err err;

    reopen();
    cr_assert_eq(registry_function_create(reg, "f", &w, &latest, &err), 0, "%s", err.msg);
    cr_assert_eq(registry_version_publish(reg, "f", "00000000-0000-4000-8000-000000000000", NULL,
                                          &v, &err),
                 -ESTALE);
    cr_assert_null(v.doc);
    cr_assert_eq(registry_version_publish(reg, "f", latest.revision_id, over, &v, &err), 1, "%s",
                 err.msg);
    cr_expect_eq(v.version, 1);
    cr_expect_str_eq(str(v.doc, "Description"), "v1");
    cr_expect_str_eq(str(v.doc, "Version"), "1");
    cr_expect_str_neq(v.revision_id, latest.revision_id);
    json_decref(v.doc);
    json_decref(latest.doc);
    /* $LATEST keeps its own Description. */
    cr_assert_eq(registry_function_get(reg, "f", NULL, &latest, &err), 0, "%s", err.msg);
    cr_expect_str_eq(str(latest.doc, "Description"), "");
    json_decref(latest.doc);

    cr_expect_eq(publish("f", 0), 1, "nothing changed: AWS answers with version 1");
    /* Volatile members alone are no change... */
    json_object_set_new(doc, "LastModified", json_string("2027-01-01T00:00:00.000+0000"));
    json_object_set_new(doc, "Description", json_string("new words"));
    json_object_set_new(doc, "LastUpdateStatus", json_string("Successful"));
    cr_assert_eq(registry_function_update(reg, "f", &w, NULL, &err), 0, "%s", err.msg);
    cr_expect_eq(publish("f", 0), 1);
    /* ...configuration is... */
    json_object_set_new(doc, "MemorySize", json_integer(256));
    cr_assert_eq(registry_function_update(reg, "f", &w, NULL, &err), 0, "%s", err.msg);
    cr_expect_eq(publish("f", 1), 2);
    cr_expect_eq(publish("f", 0), 2);
    /* ...and so are the code and the layers. */
    w.code_digest = dg(2);
    cr_assert_eq(registry_function_update(reg, "f", &w, NULL, &err), 0, "%s", err.msg);
    cr_expect_eq(publish("f", 1), 3);
    w.layer_digests = (const char *[]){dg(50)};
    w.nlayers = 1;
    cr_assert_eq(registry_function_update(reg, "f", &w, NULL, &err), 0, "%s", err.msg);
    cr_expect_eq(publish("f", 1), 4);
    /* Compared with the newest remaining version once 4 is gone. */
    cr_assert_eq(registry_version_delete(reg, "f", "4", &err), 0, "%s", err.msg);
    cr_expect_eq(publish("f", 1), 5);
    cr_expect_eq(registry_version_publish(reg, "nope", NULL, NULL, &v, &err), -ENOENT);
    json_decref(doc);
    json_decref(over);
    assert_no_leaks();
}

Test(registry, create_and_update_can_publish_in_the_same_transaction)
{
    json_t *doc = config("python3.12", 3), *tags = json_pack("{s:s}", "team", "a");
    struct registry_fn_write w = {.doc = doc, .code_digest = dg(1), .publish = true, .tags = tags};
    struct registry_version v;
    json_t *got;
    struct ld_err err;

    reopen();
    cr_assert_eq(registry_function_create(reg, "f", &w, &v, &err), 0, "%s", err.msg);
    cr_expect_eq(v.version, 1, "CreateFunction with Publish answers with version 1");
    cr_expect_str_eq(str(v.doc, "Version"), "1");
    json_decref(v.doc);
    w.code_digest = dg(2);
    cr_assert_eq(registry_function_update(reg, "f", &w, &v, &err), 0, "%s", err.msg);
    cr_expect_eq(v.version, 2);
    cr_expect_str_eq(v.code_digest, dg(2));
    json_decref(v.doc);
    cr_assert_eq(registry_tags_list(reg, "f", &got, &err), 0, "%s", err.msg);
    cr_expect_str_eq(str(got, "team"), "a");
    json_decref(got);
    /* A create that fails half way leaves nothing: 51 tags. */
    for (int i = 0; i < 51; i++) {
        char k[16];

        snprintf(k, sizeof k, "k%d", i);
        json_object_set_new(tags, k, json_string("v"));
    }
    cr_assert_eq(registry_function_create(reg, "g", &w, &v, &err), -E2BIG);
    cr_assert_null(v.doc);
    cr_assert_eq(registry_function_get(reg, "g", NULL, &v, &err), -ENOENT);
    json_decref(doc);
    json_decref(tags);
    assert_no_leaks();
}

Test(registry, a_version_an_alias_uses_cannot_be_deleted)
{
    json_t *routing = json_pack("{s:{s:f}}", "AdditionalVersionWeights", "2", 0.1);
    struct registry_alias_write aw = {.function_version = "1"};
    struct ld_err err;

    reopen();
    create("f", 1, 3, NULL);
    publish("f", 1);
    update("f", 2, 3);
    publish("f", 1);
    update("f", 3, 3);
    publish("f", 1);
    cr_assert_eq(registry_alias_create(reg, "f", "prod", &aw, NULL, &err), 0, "%s", err.msg);
    cr_assert_eq(registry_version_delete(reg, "f", "1", &err), -EBUSY);
    cr_expect(strstr(err.msg, "prod") != NULL, "%s", err.msg);
    /* A version an alias routes part of its traffic to is in use too. */
    aw.function_version = "3";
    aw.routing = routing;
    cr_assert_eq(registry_alias_create(reg, "f", "canary", &aw, NULL, &err), 0, "%s", err.msg);
    cr_assert_eq(registry_version_delete(reg, "f", "2", &err), -EBUSY);
    cr_assert_eq(registry_version_delete(reg, "f", "3", &err), -EBUSY);
    cr_assert_eq(registry_alias_delete(reg, "f", "prod", &err), 0, "%s", err.msg);
    cr_assert_eq(registry_version_delete(reg, "f", "1", &err), 0, "%s", err.msg);
    aw.routing = NULL;
    cr_assert_eq(registry_alias_update(reg, "f", "canary", &aw, NULL, &err), 0, "%s", err.msg);
    cr_assert_eq(registry_version_delete(reg, "f", "2", &err), 0, "%s", err.msg);
    cr_assert_eq(registry_version_delete(reg, "f", "3", &err), -EBUSY);
    json_decref(routing);
    assert_no_leaks();
}

/* ---- aliases --------------------------------------------------------------- */

Test(registry, aliases_round_trip_with_routing_config)
{
    json_t *routing = json_pack("{s:{s:f}}", "AdditionalVersionWeights", "2", 0.25);
    struct registry_alias_write aw = {.function_version = "1", .description = "production",
                                      .routing = routing};
    json_t *a, *b, *weights;
    char rev[LD_UUID_LEN + 1];
    struct ld_err err;

    reopen();
    create("f", 1, 3, NULL);
    publish("f", 1);
    update("f", 2, 3);
    publish("f", 1);
    cr_assert_eq(registry_alias_create(reg, "f", "prod", &aw, &a, &err), 0, "%s", err.msg);
    cr_expect_str_eq(str(a, "Name"), "prod");
    cr_expect_str_eq(str(a, "FunctionVersion"), "1");
    cr_expect_str_eq(str(a, "Description"), "production");
    cr_expect(ld_uuid_valid(str(a, "RevisionId"), LD_UUID_LEN));
    weights = json_object_get(json_object_get(a, "RoutingConfig"), "AdditionalVersionWeights");
    cr_assert(json_is_object(weights));
    cr_expect_eq(json_object_size(weights), 1);
    cr_expect_eq(json_real_value(json_object_get(weights, "2")), 0.25);
    reopen();
    cr_assert_eq(registry_alias_get(reg, "f", "prod", &b, &err), 0, "%s", err.msg);
    cr_expect(json_equal(a, b), "alias changed across a reopen");
    snprintf(rev, sizeof rev, "%s", str(a, "RevisionId"));
    json_decref(a);
    json_decref(b);

    cr_assert_eq(registry_alias_create(reg, "f", "prod", &aw, &a, &err), -EEXIST);
    cr_assert_null(a);
    aw.expected_revision = "00000000-0000-4000-8000-000000000000";
    aw.function_version = "2";
    aw.routing = NULL;
    cr_assert_eq(registry_alias_update(reg, "f", "prod", &aw, &a, &err), -ESTALE);
    aw.expected_revision = rev;
    cr_assert_eq(registry_alias_update(reg, "f", "prod", &aw, &a, &err), 0, "%s", err.msg);
    cr_expect_str_eq(str(a, "FunctionVersion"), "2");
    cr_expect_str_neq(str(a, "RevisionId"), rev);
    cr_expect_null(json_object_get(a, "RoutingConfig"), "routing was replaced by none");
    json_decref(a);

    aw.expected_revision = NULL;
    aw.function_version = "7";
    cr_expect_eq(registry_alias_create(reg, "f", "x", &aw, NULL, &err), -ENOENT);
    aw.function_version = "prod";
    cr_expect_eq(registry_alias_create(reg, "f", "x", &aw, NULL, &err), -EINVAL);
    aw.function_version = "$LATEST";
    cr_expect_eq(registry_alias_create(reg, "f", "latest", &aw, NULL, &err), 0, "%s", err.msg);
    json_object_set_new(json_object_get(routing, "AdditionalVersionWeights"), "2",
                        json_real(1.5));
    aw.routing = routing;
    cr_expect_eq(registry_alias_create(reg, "f", "y", &aw, NULL, &err), -EINVAL);
    json_object_set_new(routing, "AdditionalVersionWeights", json_pack("{s:f}", "9", 0.5));
    cr_expect_eq(registry_alias_create(reg, "f", "y", &aw, NULL, &err), -ENOENT);
    cr_expect_eq(registry_alias_create(reg, "g", "y", &aw, NULL, &err), -ENOENT);
    cr_expect_eq(registry_alias_get(reg, "f", "y", &a, &err), -ENOENT);
    cr_expect_eq(registry_alias_delete(reg, "f", "y", &err), -ENOENT);
    cr_expect_eq(registry_alias_update(reg, "f", "y", &aw, NULL, &err), -ENOENT);
    json_decref(routing);
    assert_no_leaks();
}

Test(registry, aliases_list_in_pages_and_by_version)
{
    struct registry_alias_write aw = {.function_version = "1"};
    struct registry_list o = {.max_items = 2};
    struct registry_page p;
    struct ld_err err;
    char names[256] = "";

    reopen();
    create("f", 1, 3, NULL);
    publish("f", 1);
    update("f", 2, 3);
    publish("f", 1);
    cr_assert_eq(registry_alias_create(reg, "f", "d", &aw, NULL, &err), 0, "%s", err.msg);
    cr_assert_eq(registry_alias_create(reg, "f", "b", &aw, NULL, &err), 0, "%s", err.msg);
    aw.function_version = "2";
    cr_assert_eq(registry_alias_create(reg, "f", "a", &aw, NULL, &err), 0, "%s", err.msg);
    cr_assert_eq(registry_alias_create(reg, "f", "c", &aw, NULL, &err), 0, "%s", err.msg);
    cr_assert_eq(registry_alias_create(reg, "f", "e", &aw, NULL, &err), 0, "%s", err.msg);
    for (int page = 0;; page++) {
        size_t i;
        json_t *it;

        cr_assert_lt(page, 4);
        cr_assert_eq(registry_alias_list(reg, "f", &o, &p, &err), 0, "%s", err.msg);
        json_array_foreach (p.items, i, it)
            append(names, sizeof names, str(it, "Name"));
        if (!p.next_marker) {
            registry_page_fini(&p);
            break;
        }
        o.marker = strdup(p.next_marker);
        registry_page_fini(&p);
    }
    free((char *) o.marker);
    cr_expect_str_eq(names, "abcde");

    o = (struct registry_list){.function_version = "1"};
    cr_assert_eq(registry_alias_list(reg, "f", &o, &p, &err), 0, "%s", err.msg);
    cr_expect_eq(json_array_size(p.items), 2);
    cr_expect_str_eq(str(json_array_get(p.items, 0), "Name"), "b");
    registry_page_fini(&p);
    o.function_version = "9";
    cr_assert_eq(registry_alias_list(reg, "f", &o, &p, &err), 0, "%s", err.msg);
    cr_expect_eq(json_array_size(p.items), 0);
    registry_page_fini(&p);
    o.function_version = "nope";
    cr_expect_eq(registry_alias_list(reg, "f", &o, &p, &err), -EINVAL);
    cr_expect_eq(registry_alias_list(reg, "g", NULL, &p, &err), -ENOENT);
    assert_no_leaks();
}

/* ---- pagination ------------------------------------------------------------ */

Test(registry, list_functions_pages_through_120_without_duplicates_or_gaps)
{
    struct registry_list o = {.max_items = 50};
    struct registry_page p;
    struct ld_err err;
    char *marker = NULL, prev[32] = "";
    int sizes[8], pages = 0, total = 0;

    reopen();
    /* Created out of order: the listing order is by name, not by creation. */
    for (int i = 0; i < 120; i++) {
        char name[16];

        snprintf(name, sizeof name, "fn%03d", (i * 7) % 120);
        create(name, (unsigned) i, 3, NULL);
    }
    do {
        size_t i;
        json_t *it;

        cr_assert_lt(pages, 8);
        o.marker = marker;
        cr_assert_eq(registry_function_list(reg, &o, &p, &err), 0, "%s", err.msg);
        json_array_foreach (p.items, i, it) {
            char want[16];

            snprintf(want, sizeof want, "fn%03d", total);
            cr_assert_str_eq(str(it, "FunctionName"), want, "page %d item %zu", pages, i);
            cr_assert_str_eq(str(it, "Version"), "$LATEST");
            cr_assert_gt(strcmp(want, prev), 0);
            snprintf(prev, sizeof prev, "%s", want);
            total++;
        }
        sizes[pages++] = (int) json_array_size(p.items);
        free(marker);
        marker = p.next_marker ? strdup(p.next_marker) : NULL;
        registry_page_fini(&p);
    } while (marker);
    cr_expect_eq(pages, 3);
    cr_expect_eq(sizes[0], 50);
    cr_expect_eq(sizes[1], 50);
    cr_expect_eq(sizes[2], 20);
    cr_expect_eq(total, 120);

    /* The default page is 50 too; exactly one page's worth has no marker. */
    cr_assert_eq(registry_function_list(reg, NULL, &p, &err), 0, "%s", err.msg);
    cr_expect_eq(json_array_size(p.items), 50);
    cr_expect_not_null(p.next_marker);
    registry_page_fini(&p);
    o = (struct registry_list){.max_items = 120};
    cr_assert_eq(registry_function_list(reg, &o, &p, &err), 0, "%s", err.msg);
    cr_expect_eq(json_array_size(p.items), 120);
    cr_expect_null(p.next_marker);
    registry_page_fini(&p);
    assert_no_leaks();
}

Test(registry, a_page_boundary_survives_deletes_and_creates_between_pages)
{
    struct registry_list o = {.max_items = 2};
    struct registry_page p;
    struct ld_err err;

    reopen();
    create("a", 1, 3, NULL);
    create("b", 1, 3, NULL);
    create("c", 1, 3, NULL);
    create("d", 1, 3, NULL);
    cr_assert_eq(registry_function_list(reg, &o, &p, &err), 0, "%s", err.msg);
    o.marker = strdup(p.next_marker);
    registry_page_fini(&p);
    /* The marker's own item goes away, an earlier one appears: no repeats. */
    cr_assert_eq(registry_function_delete(reg, "b", &err), 0, "%s", err.msg);
    create("aa", 1, 3, NULL);
    cr_assert_eq(registry_function_list(reg, &o, &p, &err), 0, "%s", err.msg);
    cr_expect_eq(json_array_size(p.items), 2);
    cr_expect_str_eq(str(json_array_get(p.items, 0), "FunctionName"), "c");
    cr_expect_str_eq(str(json_array_get(p.items, 1), "FunctionName"), "d");
    cr_expect_null(p.next_marker);
    registry_page_fini(&p);
    free((char *) o.marker);
    assert_no_leaks();
}

Test(registry, bad_markers_and_page_sizes_are_refused)
{
    static const char *const bad[] = {
        "garbage", "F1", "F1.", "F1.66", "F1.66.", "F1.6.0", "F1.6g.0", "F1.66.x",
        "F1.66.01", "F1.66.-1", "F1.66.4294967296", "F2.66.0", "V1.66.0", "F1.0066.0",
        "F1.6F.0", "f1.66.0",
    };
    struct registry_list o = {0};
    struct registry_page p;
    struct ld_err err;

    reopen();
    create("f", 1, 3, NULL);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        o.marker = bad[i];
        cr_expect_eq(registry_function_list(reg, &o, &p, &err), -EINVAL, "%s accepted", bad[i]);
        cr_expect_null(p.items);
        cr_expect_null(p.next_marker);
    }
    o.marker = "F1.66.0"; /* "f": well formed, so accepted, and past it nothing */
    cr_assert_eq(registry_function_list(reg, &o, &p, &err), 0, "%s", err.msg);
    cr_expect_eq(json_array_size(p.items), 0);
    registry_page_fini(&p);
    o = (struct registry_list){.max_items = REGISTRY_PAGE_MAX + 1};
    cr_expect_eq(registry_function_list(reg, &o, &p, &err), -EINVAL);
    o.max_items = REGISTRY_PAGE_MAX;
    cr_expect_eq(registry_function_list(reg, &o, &p, &err), 0, "%s", err.msg);
    registry_page_fini(&p);
    o.max_items = REGISTRY_LAYER_PAGE_MAX + 1;
    cr_expect_eq(registry_layer_list(reg, &o, &p, &err), -EINVAL);
    o.max_items = 0;
    o.marker = "F1.66.0"; /* a function marker is no layer marker */
    cr_expect_eq(registry_layer_list(reg, &o, &p, &err), -EINVAL);
    assert_no_leaks();
}

Test(registry, function_version_all_lists_every_version_in_pages)
{
    struct registry_list o = {.all_versions = true, .max_items = 2};
    struct registry_page p;
    struct ld_err err;
    char seen[256] = "";

    reopen();
    create("b", 1, 3, NULL);
    publish("b", 1);
    create("a", 1, 3, NULL);
    publish("a", 1);
    update("a", 2, 3);
    publish("a", 1);
    create("c", 1, 3, NULL);
    for (int page = 0;; page++) {
        size_t i;
        json_t *it;

        cr_assert_lt(page, 6);
        cr_assert_eq(registry_function_list(reg, &o, &p, &err), 0, "%s", err.msg);
        json_array_foreach (p.items, i, it) {
            append(seen, sizeof seen, str(it, "FunctionName"));
            append(seen, sizeof seen, ":");
            append(seen, sizeof seen, str(it, "Version"));
            append(seen, sizeof seen, " ");
        }
        if (page > 0)
            free((char *) o.marker);
        o.marker = p.next_marker ? strdup(p.next_marker) : NULL;
        registry_page_fini(&p);
        if (!o.marker)
            break;
    }
    cr_expect_str_eq(seen, "a:$LATEST a:1 a:2 b:$LATEST b:1 c:$LATEST ");
    o = (struct registry_list){0};
    cr_assert_eq(registry_function_list(reg, &o, &p, &err), 0, "%s", err.msg);
    cr_expect_eq(json_array_size(p.items), 3, "without ALL only $LATEST");
    registry_page_fini(&p);
    assert_no_leaks();
}

Test(registry, list_versions_pages)
{
    struct registry_list o = {.max_items = 3};
    struct registry_page p;
    struct ld_err err;
    char buf[128];

    reopen();
    create("f", 0, 3, NULL);
    for (unsigned i = 1; i <= 5; i++) {
        update("f", i, 3);
        publish("f", 1);
    }
    cr_assert_eq(registry_version_list(reg, "f", &o, &p, &err), 0, "%s", err.msg);
    cr_expect_str_eq(versions_of(&p, buf, sizeof buf), "$LATEST,1,2");
    cr_assert_not_null(p.next_marker);
    o.marker = strdup(p.next_marker);
    registry_page_fini(&p);
    cr_assert_eq(registry_version_list(reg, "f", &o, &p, &err), 0, "%s", err.msg);
    cr_expect_str_eq(versions_of(&p, buf, sizeof buf), "3,4,5");
    cr_expect_null(p.next_marker);
    registry_page_fini(&p);
    free((char *) o.marker);
    assert_no_leaks();
}

/* ---- layers ---------------------------------------------------------------- */

static unsigned publish_layer(const char *name, unsigned digest, const char *runtime,
                              const char *arch)
{
    json_t *doc = json_pack("{s:s, s:[s], s:[s], s:i}", "Description", name,
                            "CompatibleRuntimes", runtime, "CompatibleArchitectures", arch,
                            "CodeSize", 10);
    struct registry_layer_version lv;
    struct ld_err err;
    unsigned v;

    cr_assert_eq(registry_layer_publish(reg, name, dg(digest), doc, &lv, &err), 0, "%s",
                 err.msg);
    cr_expect_eq(json_integer_value(json_object_get(lv.doc, "Version")), lv.version);
    cr_expect_str_eq(lv.digest, dg(digest));
    v = lv.version;
    json_decref(lv.doc);
    json_decref(doc);
    return v;
}

Test(registry, layer_versions_are_monotonic_listed_and_deleted)
{
    struct registry_layer_version lv;
    struct registry_list o = {0};
    struct registry_page p;
    struct ld_err err;
    json_t *it, *doc = json_pack("{s:s}", "CompatibleRuntimes", "python3.12");

    reopen();
    cr_expect_eq(publish_layer("deps", 1, "python3.12", "x86_64"), 1);
    cr_expect_eq(publish_layer("deps", 2, "python3.12", "x86_64"), 2);
    cr_assert_eq(registry_layer_delete(reg, "deps", 2, &err), 0, "%s", err.msg);
    cr_expect_eq(publish_layer("deps", 3, "python3.12", "x86_64"), 3, "2 was reused");
    cr_expect_eq(publish_layer("tools", 4, "nodejs20.x", "arm64"), 1);
    cr_assert_eq(registry_layer_get(reg, "deps", 3, &lv, &err), 0, "%s", err.msg);
    cr_expect_str_eq(lv.digest, dg(3));
    cr_expect_str_eq(str(lv.doc, "Description"), "deps");
    json_decref(lv.doc);
    cr_expect_eq(registry_layer_get(reg, "deps", 2, &lv, &err), -ENOENT);
    cr_expect_null(lv.doc);
    cr_expect_eq(registry_layer_delete(reg, "deps", 2, &err), -ENOENT);

    cr_assert_eq(registry_layer_list_versions(reg, "deps", &o, &p, &err), 0, "%s", err.msg);
    cr_assert_eq(json_array_size(p.items), 2);
    cr_expect_eq(json_integer_value(json_object_get(json_array_get(p.items, 0), "Version")), 3,
                 "newest first");
    cr_expect_eq(json_integer_value(json_object_get(json_array_get(p.items, 1), "Version")), 1);
    registry_page_fini(&p);
    o.max_items = 1;
    cr_assert_eq(registry_layer_list_versions(reg, "deps", &o, &p, &err), 0, "%s", err.msg);
    cr_assert_eq(json_array_size(p.items), 1);
    cr_assert_not_null(p.next_marker);
    o.marker = strdup(p.next_marker);
    registry_page_fini(&p);
    cr_assert_eq(registry_layer_list_versions(reg, "deps", &o, &p, &err), 0, "%s", err.msg);
    cr_expect_eq(json_integer_value(json_object_get(json_array_get(p.items, 0), "Version")), 1);
    cr_expect_null(p.next_marker);
    registry_page_fini(&p);
    free((char *) o.marker);
    o = (struct registry_list){0};
    cr_assert_eq(registry_layer_list_versions(reg, "never", &o, &p, &err), 0, "%s", err.msg);
    cr_expect_eq(json_array_size(p.items), 0);
    registry_page_fini(&p);

    cr_assert_eq(registry_layer_list(reg, NULL, &p, &err), 0, "%s", err.msg);
    cr_assert_eq(json_array_size(p.items), 2);
    it = json_array_get(p.items, 0);
    cr_expect_str_eq(str(it, "LayerName"), "deps");
    cr_expect_eq(json_integer_value(
                     json_object_get(json_object_get(it, "LatestMatchingVersion"), "Version")),
                 3);
    cr_expect_str_eq(str(json_array_get(p.items, 1), "LayerName"), "tools");
    registry_page_fini(&p);

    /* Deleting every version empties the list but keeps the counter. */
    cr_assert_eq(registry_layer_delete(reg, "tools", 1, &err), 0, "%s", err.msg);
    cr_assert_eq(registry_layer_list(reg, NULL, &p, &err), 0, "%s", err.msg);
    cr_expect_eq(json_array_size(p.items), 1);
    registry_page_fini(&p);
    cr_expect_eq(publish_layer("tools", 5, "nodejs20.x", "arm64"), 2);

    cr_expect_eq(registry_layer_publish(reg, "bad", dg(1), doc, NULL, &err), -EINVAL,
                 "CompatibleRuntimes must be an array");
    cr_expect_eq(registry_layer_publish(reg, "bad", "xyz", json_object_get(doc, "nope"), NULL,
                                        &err),
                 -EINVAL);
    json_decref(doc);
    assert_no_leaks();
}

Test(registry, layer_lists_filter_by_runtime_and_architecture)
{
    struct registry_list o = {.runtime = "python3.12"};
    struct registry_page p;
    struct ld_err err;
    json_t *it;

    reopen();
    publish_layer("a", 1, "python3.12", "x86_64"); /* a:1 */
    publish_layer("a", 2, "python3.12", "arm64");  /* a:2 */
    publish_layer("a", 3, "nodejs20.x", "x86_64"); /* a:3 */
    publish_layer("b", 4, "nodejs20.x", "arm64");  /* b:1 */
    cr_assert_eq(registry_layer_list(reg, &o, &p, &err), 0, "%s", err.msg);
    cr_assert_eq(json_array_size(p.items), 1);
    it = json_object_get(json_array_get(p.items, 0), "LatestMatchingVersion");
    cr_expect_eq(json_integer_value(json_object_get(it, "Version")), 2,
                 "latest *matching* version");
    registry_page_fini(&p);
    o.architecture = "x86_64";
    cr_assert_eq(registry_layer_list(reg, &o, &p, &err), 0, "%s", err.msg);
    cr_assert_eq(json_array_size(p.items), 1);
    it = json_object_get(json_array_get(p.items, 0), "LatestMatchingVersion");
    cr_expect_eq(json_integer_value(json_object_get(it, "Version")), 1);
    registry_page_fini(&p);
    o = (struct registry_list){.architecture = "arm64"};
    cr_assert_eq(registry_layer_list(reg, &o, &p, &err), 0, "%s", err.msg);
    cr_expect_eq(json_array_size(p.items), 2);
    registry_page_fini(&p);
    cr_assert_eq(registry_layer_list_versions(reg, "a", &o, &p, &err), 0, "%s", err.msg);
    cr_assert_eq(json_array_size(p.items), 1);
    cr_expect_eq(json_integer_value(json_object_get(json_array_get(p.items, 0), "Version")), 2);
    registry_page_fini(&p);
    o = (struct registry_list){.runtime = "java21"};
    cr_assert_eq(registry_layer_list(reg, &o, &p, &err), 0, "%s", err.msg);
    cr_expect_eq(json_array_size(p.items), 0);
    registry_page_fini(&p);
    assert_no_leaks();
}

/* ---- tags ------------------------------------------------------------------ */

Test(registry, tags_set_unset_list_and_the_limit_of_50)
{
    json_t *tags = json_pack("{s:s, s:s}", "team", "a", "env", "dev"), *got, *many;
    const char *gone[] = {"env", "never-set"};
    struct ld_err err;

    reopen();
    create("f", 1, 3, NULL);
    cr_assert_eq(registry_tags_list(reg, "f", &got, &err), 0, "%s", err.msg);
    cr_expect_eq(json_object_size(got), 0);
    json_decref(got);
    cr_assert_eq(registry_tags_set(reg, "f", tags, &err), 0, "%s", err.msg);
    json_object_set_new(tags, "env", json_string("prod"));
    json_object_del(tags, "team");
    cr_assert_eq(registry_tags_set(reg, "f", tags, &err), 0, "%s", err.msg);
    cr_assert_eq(registry_tags_list(reg, "f", &got, &err), 0, "%s", err.msg);
    cr_expect_eq(json_object_size(got), 2);
    cr_expect_str_eq(str(got, "team"), "a", "set merges");
    cr_expect_str_eq(str(got, "env"), "prod", "set replaces a value");
    json_decref(got);
    cr_assert_eq(registry_tags_unset(reg, "f", gone, 2, &err), 0, "%s", err.msg);
    cr_assert_eq(registry_tags_list(reg, "f", &got, &err), 0, "%s", err.msg);
    cr_expect_eq(json_object_size(got), 1);
    cr_expect_null(json_object_get(got, "env"));
    json_decref(got);

    /* 49 more make 50: fine. One more is refused and changes nothing. */
    many = json_object();
    for (int i = 0; i < 49; i++) {
        char k[16];

        snprintf(k, sizeof k, "k%02d", i);
        json_object_set_new(many, k, json_string("v"));
    }
    cr_assert_eq(registry_tags_set(reg, "f", many, &err), 0, "%s", err.msg);
    json_object_set_new(many, "k49", json_string("v"));
    json_object_set_new(many, "k00", json_string("changed"));
    cr_assert_eq(registry_tags_set(reg, "f", many, &err), -E2BIG);
    cr_assert_eq(registry_tags_list(reg, "f", &got, &err), 0, "%s", err.msg);
    cr_expect_eq(json_object_size(got), 50);
    cr_expect_str_eq(str(got, "k00"), "v");
    json_decref(got);
    json_object_set_new(many, "bad", json_integer(1));
    cr_expect_eq(registry_tags_set(reg, "f", many, &err), -EINVAL);

    cr_expect_eq(registry_tags_set(reg, "g", tags, &err), -ENOENT);
    cr_expect_eq(registry_tags_list(reg, "g", &got, &err), -ENOENT);
    cr_expect_null(got);
    cr_expect_eq(registry_tags_unset(reg, "g", gone, 1, &err), -ENOENT);
    json_decref(many);
    json_decref(tags);
    assert_no_leaks();
}

/* ---- deletion and artifacts ------------------------------------------------ */

Test(registry, deleting_a_function_takes_everything_and_the_name_starts_over)
{
    struct registry_alias_write aw = {.function_version = "1"};
    json_t *tags = json_pack("{s:s}", "k", "v"), *got;
    struct registry_version v;
    struct ld_err err;

    reopen();
    create("f", 1, 3, NULL);
    publish("f", 1);
    update("f", 2, 3);
    publish("f", 1);
    cr_assert_eq(registry_alias_create(reg, "f", "prod", &aw, NULL, &err), 0, "%s", err.msg);
    cr_assert_eq(registry_tags_set(reg, "f", tags, &err), 0, "%s", err.msg);
    /* Settings whose calls come later hang off the function too. */
    raw_exec("INSERT INTO function_concurrency VALUES ('f', 5);"
             "INSERT INTO provisioned_concurrency VALUES ('f', 'prod', 1, '{}');"
             "INSERT INTO provisioned_concurrency VALUES ('f', '2', 1, '{}');"
             "INSERT INTO event_invoke_configs VALUES ('f', '$LATEST', '{}')");
    create("other", 9, 3, NULL);
    cr_assert_eq(registry_function_delete(reg, "f", &err), 0, "%s", err.msg);
    cr_expect_eq(registry_function_delete(reg, "f", &err), -ENOENT);
    cr_expect_eq(registry_function_get(reg, "f", "1", &v, &err), -ENOENT);
    cr_expect_eq(registry_alias_get(reg, "f", "prod", &got, &err), -ENOENT);
    cr_expect_eq(raw_int("SELECT (SELECT count(*) FROM function_versions WHERE function_name='f')"
                         " + (SELECT count(*) FROM function_version_layers)"
                         " + (SELECT count(*) FROM aliases) + (SELECT count(*) FROM alias_routes)"
                         " + (SELECT count(*) FROM function_tags)"
                         " + (SELECT count(*) FROM function_concurrency)"
                         " + (SELECT count(*) FROM provisioned_concurrency)"
                         " + (SELECT count(*) FROM event_invoke_configs)"),
                 0, "rows of f left behind");
    create("f", 3, 3, NULL);
    cr_expect_eq(publish("f", 1), 1, "a new function starts at version 1");
    cr_assert_eq(registry_tags_list(reg, "f", &got, &err), 0, "%s", err.msg);
    cr_expect_eq(json_object_size(got), 0);
    json_decref(got);
    json_decref(tags);
    assert_no_leaks();
}

Test(registry, deleting_a_version_or_alias_takes_its_settings)
{
    struct registry_alias_write aw = {.function_version = "1"};
    struct ld_err err;

    reopen();
    create("f", 1, 3, NULL);
    publish("f", 1);
    update("f", 2, 3);
    publish("f", 1);
    cr_assert_eq(registry_alias_create(reg, "f", "prod", &aw, NULL, &err), 0, "%s", err.msg);
    raw_exec("INSERT INTO provisioned_concurrency VALUES ('f', 'prod', 1, '{}');"
             "INSERT INTO provisioned_concurrency VALUES ('f', '2', 1, '{}');"
             "INSERT INTO provisioned_concurrency VALUES ('f', '1', 1, '{}');"
             "INSERT INTO event_invoke_configs VALUES ('f', '2', '{}');"
             "INSERT INTO event_invoke_configs VALUES ('f', 'prod', '{}')");
    cr_assert_eq(registry_version_delete(reg, "f", "2", &err), 0, "%s", err.msg);
    cr_assert_eq(registry_alias_delete(reg, "f", "prod", &err), 0, "%s", err.msg);
    cr_expect_eq(raw_int("SELECT count(*) FROM provisioned_concurrency"), 1);
    cr_expect_eq(raw_int("SELECT count(*) FROM provisioned_concurrency WHERE qualifier = '1'"),
                 1);
    cr_expect_eq(raw_int("SELECT count(*) FROM event_invoke_configs"), 0);
}

Test(registry, live_digests_cover_code_and_layers_until_nothing_refers_to_them)
{
    const char *layers[] = {dg(0x51)};
    json_t *doc = config("python3.12", 3);
    struct registry_fn_write w = {.doc = doc, .code_digest = dg(0xc1), .layer_digests = layers,
                                  .nlayers = 1};
    struct registry_digest *d;
    struct ld_err err;
    size_t n;

    reopen();
    cr_assert_eq(registry_live_digests(reg, &d, &n, &err), 0, "%s", err.msg);
    cr_expect_eq(n, 0);
    free(d);
    publish_layer("deps", 0x51, "python3.12", "x86_64");
    publish_layer("deps", 0x52, "python3.12", "x86_64");
    cr_assert_eq(registry_function_create(reg, "f", &w, NULL, &err), 0, "%s", err.msg);
    publish("f", 1);
    w.code_digest = dg(0xc2);
    w.nlayers = 0;
    cr_assert_eq(registry_function_update(reg, "f", &w, NULL, &err), 0, "%s", err.msg);
    cr_assert_eq(registry_live_digests(reg, &d, &n, &err), 0, "%s", err.msg);
    cr_assert_eq(n, 4, "each digest once");
    cr_expect_str_eq(d[0].hex, dg(0x51));
    cr_expect_str_eq(d[1].hex, dg(0x52));
    cr_expect_str_eq(d[2].hex, dg(0xc1), "version 1's code");
    cr_expect_str_eq(d[3].hex, dg(0xc2), "$LATEST's code");
    free(d);
    /* A deleted layer version stays live while version 1 of f uses it. */
    cr_assert_eq(registry_layer_delete(reg, "deps", 1, &err), 0, "%s", err.msg);
    cr_assert_eq(registry_live_digests(reg, &d, &n, &err), 0, "%s", err.msg);
    cr_assert_eq(n, 4);
    cr_expect_str_eq(d[0].hex, dg(0x51));
    free(d);
    cr_assert_eq(registry_function_delete(reg, "f", &err), 0, "%s", err.msg);
    cr_assert_eq(registry_live_digests(reg, &d, &n, &err), 0, "%s", err.msg);
    cr_assert_eq(n, 1);
    cr_expect_str_eq(d[0].hex, dg(0x52));
    free(d);
    json_decref(doc);
    assert_no_leaks();
}

/* ---- durability ------------------------------------------------------------ */

Test(registry, everything_survives_close_and_reopen)
{
    struct registry_alias_write aw = {.function_version = "1", .description = "d"};
    json_t *tags = json_pack("{s:s}", "k", "v"), *got;
    struct registry_version v;
    struct registry_layer_version lv;
    struct registry_page p;
    struct ld_err err;
    char rev[LD_UUID_LEN + 1];

    reopen();
    create("f", 1, 11, &v);
    snprintf(rev, sizeof rev, "%s", v.revision_id);
    json_decref(v.doc);
    publish("f", 1);
    cr_assert_eq(registry_alias_create(reg, "f", "prod", &aw, NULL, &err), 0, "%s", err.msg);
    cr_assert_eq(registry_tags_set(reg, "f", tags, &err), 0, "%s", err.msg);
    publish_layer("deps", 7, "python3.12", "x86_64");
    reopen();
    cr_assert_eq(registry_function_get(reg, "f", NULL, &v, &err), 0, "%s", err.msg);
    cr_expect_str_eq(v.revision_id, rev);
    cr_expect_eq(json_integer_value(json_object_get(v.doc, "Timeout")), 11);
    json_decref(v.doc);
    cr_assert_eq(registry_function_get(reg, "f", "1", &v, &err), 0, "%s", err.msg);
    json_decref(v.doc);
    cr_assert_eq(registry_alias_get(reg, "f", "prod", &got, &err), 0, "%s", err.msg);
    cr_expect_str_eq(str(got, "Description"), "d");
    json_decref(got);
    cr_assert_eq(registry_tags_list(reg, "f", &got, &err), 0, "%s", err.msg);
    cr_expect_str_eq(str(got, "k"), "v");
    json_decref(got);
    cr_assert_eq(registry_layer_get(reg, "deps", 1, &lv, &err), 0, "%s", err.msg);
    cr_expect_str_eq(lv.digest, dg(7));
    json_decref(lv.doc);
    cr_assert_eq(registry_function_list(reg, NULL, &p, &err), 0, "%s", err.msg);
    cr_expect_eq(json_array_size(p.items), 1);
    registry_page_fini(&p);
    cr_expect_eq(publish("f", 0), 1);
    json_decref(tags);
    assert_no_leaks();
}

/* kill -9 right after a write returned: the write is there on restart. */
Test(registry, a_write_acknowledged_before_sigkill_survives)
{
    struct registry_version v;
    struct ld_err err;
    int pfd[2], status;
    char ack = 0;
    pid_t pid;

    cr_assert_eq(pipe(pfd), 0);
    pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        struct registry *r;
        json_t *doc = config("python3.12", 3);
        struct registry_fn_write w = {.doc = doc, .code_digest = dg(1), .publish = true};

        close(pfd[0]);
        if (registry_open(dir, &r, &err) < 0 ||
            registry_function_create(r, "survivor", &w, NULL, &err) < 0)
            _exit(1);
        (void) !write(pfd[1], "k", 1); /* acknowledged */
        raise(SIGKILL);                /* no close, no checkpoint, no atexit */
        _exit(2);
    }
    close(pfd[1]);
    cr_assert_eq(read(pfd[0], &ack, 1), 1, "child failed before acknowledging");
    close(pfd[0]);
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    reopen();
    cr_assert_eq(registry_function_get(reg, "survivor", "1", &v, &err), 0, "%s", err.msg);
    cr_expect_str_eq(v.code_digest, dg(1));
    json_decref(v.doc);
    cr_expect_eq(publish("survivor", 0), 1);
    assert_no_leaks();
}

Test(registry, two_connections_see_each_others_commits)
{
    struct registry *other = NULL;
    struct registry_version v;
    struct ld_err err;

    reopen();
    cr_assert_eq(registry_open(dir, &other, &err), 0, "%s", err.msg);
    create("f", 1, 3, NULL);
    cr_assert_eq(registry_function_get(other, "f", NULL, &v, &err), 0, "%s", err.msg);
    json_decref(v.doc);
    cr_assert_eq(registry_version_publish(other, "f", NULL, NULL, NULL, &err), 1, "%s", err.msg);
    cr_expect_eq(publish("f", 0), 1, "the other connection's version 1");
    registry_close(other);
    assert_no_leaks();
}
