/* service/registry_schema.c: opens the registry database and keeps its schema
 * current (see registry.h).
 *
 * The schema is an ordered list of migrations; PRAGMA user_version counts how
 * many a database has had. Each migration runs in its own transaction with its
 * version bump, so a crash leaves the database at one step or the next, never
 * between. A database from a newer lambdad (user_version past the list) is
 * refused before anything is written to it: an older binary cannot know what
 * the newer tables mean.
 *
 * The SQL is kept to what PostgreSQL also accepts (TEXT, BIGINT, DOUBLE
 * PRECISION, composite keys, ON CONFLICT, no rowid aliases or AUTOINCREMENT),
 * so a PostgreSQL backend can run the same list with its own bookkeeping
 * table in place of user_version. The PRAGMAs around it are SQLite's only.
 *
 * Why the tables look the way they do:
 * - Natural keys (function name, version number) rather than surrogate ids:
 *   they are what every request names, they port without sequences, and a
 *   deleted-then-recreated function rightly starts again at version 1.
 * - functions.last_version and layers.last_version are the highest number
 *   ever handed out; publishing bumps them, deleting a version does not, so a
 *   number is never reused. A layers row outlives its versions for the same
 *   reason.
 * - Version 0 is $LATEST, so it sorts first and aliases can reference it
 *   through the same foreign key as published versions.
 * - Documents are TEXT holding JSON; only what queries need is a column:
 *   digests (artifact GC), revision ids (optimistic locking), alias targets
 *   and routes (refusing to delete a version in use), layer compatibility
 *   (the list filters), tags (the 50-tag limit).
 * - function_version_layers holds the layers' content digests, not layer ARNs:
 *   a function version keeps working after the layer version it was built
 *   with is deleted, so its content must stay live for GC.
 * - Reserved and provisioned concurrency and event-invoke configs are here
 *   already, hanging off the function (deleted with it) and keyed by the
 *   qualifier string for the per-version/alias ones; registry.c deletes those
 *   rows with their version or alias. Their calls come with the concurrency
 *   and async issues.
 * - The async event queue is not here: it comes as a new migration with the
 *   async issue (append to migrations[], never edit a shipped step). A step
 *   that rebuilds a table must turn foreign keys off around it, which cannot
 *   happen inside the step's transaction: give the loop a flag for that. */
#include "service/registry.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* "LDRG": marks the file as a lambdad registry (PRAGMA application_id), so
 * another program's SQLite database is refused, not migrated into. */
#define APPLICATION_ID 0x4c445247

/* How long a statement waits for another connection's lock before -EAGAIN:
 * long enough for a checkpoint or a `lambdad` helper's write, short enough
 * that a request fails instead of hanging. */
#define BUSY_TIMEOUT_MS 5000

struct migration {
    const char *what;
    const char *sql;
};

static const struct migration migrations[] = {
    {"functions, versions, aliases, layers, tags, concurrency settings",
     "CREATE TABLE functions (\n"
     "    name          TEXT PRIMARY KEY,\n"
     "    last_version  BIGINT NOT NULL DEFAULT 0 CHECK (last_version >= 0)\n"
     ");\n"
     "CREATE TABLE function_versions (\n"
     "    function_name TEXT NOT NULL REFERENCES functions (name) ON DELETE CASCADE,\n"
     "    version       BIGINT NOT NULL CHECK (version >= 0),\n"
     "    revision_id   TEXT NOT NULL,\n"
     "    code_digest   TEXT,\n"
     "    doc           TEXT NOT NULL,\n"
     "    PRIMARY KEY (function_name, version)\n"
     ");\n"
     "CREATE TABLE function_version_layers (\n"
     "    function_name TEXT NOT NULL,\n"
     "    version       BIGINT NOT NULL,\n"
     "    position      BIGINT NOT NULL,\n"
     "    digest        TEXT NOT NULL,\n"
     "    PRIMARY KEY (function_name, version, position),\n"
     "    FOREIGN KEY (function_name, version)\n"
     "        REFERENCES function_versions (function_name, version) ON DELETE CASCADE\n"
     ");\n"
     "CREATE TABLE aliases (\n"
     "    function_name    TEXT NOT NULL REFERENCES functions (name) ON DELETE CASCADE,\n"
     "    name             TEXT NOT NULL,\n"
     "    function_version BIGINT NOT NULL,\n"
     "    description      TEXT NOT NULL DEFAULT '',\n"
     "    revision_id      TEXT NOT NULL,\n"
     "    PRIMARY KEY (function_name, name),\n"
     "    FOREIGN KEY (function_name, function_version)\n"
     "        REFERENCES function_versions (function_name, version)\n"
     ");\n"
     "CREATE INDEX aliases_by_version ON aliases (function_name, function_version);\n"
     "CREATE TABLE alias_routes (\n"
     "    function_name TEXT NOT NULL,\n"
     "    alias         TEXT NOT NULL,\n"
     "    version       BIGINT NOT NULL,\n"
     "    weight        DOUBLE PRECISION NOT NULL CHECK (weight >= 0 AND weight <= 1),\n"
     "    PRIMARY KEY (function_name, alias, version),\n"
     "    FOREIGN KEY (function_name, alias)\n"
     "        REFERENCES aliases (function_name, name) ON DELETE CASCADE,\n"
     "    FOREIGN KEY (function_name, version)\n"
     "        REFERENCES function_versions (function_name, version)\n"
     ");\n"
     "CREATE INDEX alias_routes_by_version ON alias_routes (function_name, version);\n"
     "CREATE TABLE function_tags (\n"
     "    function_name TEXT NOT NULL REFERENCES functions (name) ON DELETE CASCADE,\n"
     "    tag_key       TEXT NOT NULL,\n"
     "    tag_value     TEXT NOT NULL,\n"
     "    PRIMARY KEY (function_name, tag_key)\n"
     ");\n"
     "CREATE TABLE layers (\n"
     "    name          TEXT PRIMARY KEY,\n"
     "    last_version  BIGINT NOT NULL CHECK (last_version >= 1)\n"
     ");\n"
     "CREATE TABLE layer_versions (\n"
     "    layer_name    TEXT NOT NULL REFERENCES layers (name),\n"
     "    version       BIGINT NOT NULL CHECK (version >= 1),\n"
     "    digest        TEXT NOT NULL,\n"
     "    doc           TEXT NOT NULL,\n"
     "    PRIMARY KEY (layer_name, version)\n"
     ");\n"
     "CREATE TABLE layer_version_compat (\n"
     "    layer_name    TEXT NOT NULL,\n"
     "    version       BIGINT NOT NULL,\n"
     "    kind          TEXT NOT NULL CHECK (kind IN ('runtime', 'architecture')),\n"
     "    value         TEXT NOT NULL,\n"
     "    PRIMARY KEY (layer_name, version, kind, value),\n"
     "    FOREIGN KEY (layer_name, version)\n"
     "        REFERENCES layer_versions (layer_name, version) ON DELETE CASCADE\n"
     ");\n"
     "CREATE TABLE function_concurrency (\n"
     "    function_name TEXT PRIMARY KEY REFERENCES functions (name) ON DELETE CASCADE,\n"
     "    reserved      BIGINT NOT NULL CHECK (reserved >= 0)\n"
     ");\n"
     "CREATE TABLE provisioned_concurrency (\n"
     "    function_name TEXT NOT NULL REFERENCES functions (name) ON DELETE CASCADE,\n"
     "    qualifier     TEXT NOT NULL,\n"
     "    requested     BIGINT NOT NULL CHECK (requested >= 1),\n"
     "    doc           TEXT NOT NULL,\n"
     "    PRIMARY KEY (function_name, qualifier)\n"
     ");\n"
     "CREATE TABLE event_invoke_configs (\n"
     "    function_name TEXT NOT NULL REFERENCES functions (name) ON DELETE CASCADE,\n"
     "    qualifier     TEXT NOT NULL,\n"
     "    doc           TEXT NOT NULL,\n"
     "    PRIMARY KEY (function_name, qualifier)\n"
     ");\n"},
};

#define NMIGRATIONS ((int) (sizeof migrations / sizeof migrations[0]))

static int errno_of(sqlite3 *db, int rc)
{
    int sys;

    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return EAGAIN;
    case SQLITE_NOMEM:
        return ENOMEM;
    case SQLITE_READONLY:
        return EROFS;
    case SQLITE_FULL:
        return ENOSPC;
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
        sys = db ? sqlite3_system_errno(db) : 0;
        return sys > 0 ? sys : EIO;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        return EBADMSG;
    case SQLITE_CONSTRAINT:
        return rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE ? EEXIST
                                                                                    : EPROTO;
    case SQLITE_TOOBIG:
        return EMSGSIZE;
    default:
        return EPROTO;
    }
}

int registry_db_fail(sqlite3 *db, int rc, struct ld_err *err, const char *fmt, ...)
{
    char what[sizeof err->msg];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return ld_err_set(err, errno_of(db, rc), "%s: %s", what,
                      db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
}

/* Runs constant SQL (ours, never user data) that returns no rows. */
static int exec_sql(sqlite3 *db, const char *sql, struct ld_err *err)
{
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);

    return rc == SQLITE_OK ? 0 : registry_db_fail(db, rc, err, "%.60s", sql);
}

/* The first column of the first row of a constant PRAGMA, as an integer. */
static int pragma_int(sqlite3 *db, const char *sql, long long *val, struct ld_err *err)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL);

    *val = 0;
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(s);
        if (rc == SQLITE_ROW) {
            *val = sqlite3_column_int64(s, 0);
            rc = SQLITE_OK;
        } else if (rc == SQLITE_DONE) {
            rc = SQLITE_MISUSE;
        }
    }
    if (rc != SQLITE_OK) {
        int ret = registry_db_fail(db, rc, err, "%s", sql);

        sqlite3_finalize(s);
        return ret;
    }
    sqlite3_finalize(s);
    return 0;
}

/* Refuses what must not be touched: not SQLite, another program's database,
 * a newer schema. Only reads, so a refused file is left exactly as it was. */
static int check_file(sqlite3 *db, long long *version, struct ld_err *err)
{
    long long app, tables;
    int rc;

    rc = pragma_int(db, "PRAGMA user_version", version, err);
    if (rc == -EBADMSG)
        return ld_err_set(err, EBADMSG, "not an SQLite database (or a damaged one)");
    if (rc < 0)
        return rc;
    if ((rc = pragma_int(db, "PRAGMA application_id", &app, err)) < 0 ||
        (rc = pragma_int(db, "SELECT count(*) FROM sqlite_schema", &tables, err)) < 0)
        return rc;
    if (app != APPLICATION_ID && (app != 0 || *version != 0 || tables != 0))
        return ld_err_set(err, EBADMSG,
                          "an SQLite database of another program (application_id %lld)", app);
    if (*version > NMIGRATIONS)
        return ld_err_set(err, EPROTONOSUPPORT,
                          "written by a newer lambdad (schema %lld, this one knows %d); "
                          "run that version or restore a backup",
                          *version, NMIGRATIONS);
    if (*version < 0)
        return ld_err_set(err, EBADMSG, "schema version %lld", *version);
    return 0;
}

/* WAL: readers never wait for the writer and a commit is one append.
 * synchronous=FULL: in WAL mode NORMAL already survives kill -9 but may lose
 * the last commits on power loss; the registry acknowledges a create or a
 * queued event only after it is on disk, so every commit fsyncs the WAL. */
static int set_pragmas(sqlite3 *db, struct ld_err *err)
{
    sqlite3_stmt *s = NULL;
    long long fk;
    int rc;

    rc = sqlite3_prepare_v2(db, "PRAGMA journal_mode = WAL", -1, &s, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *mode = (const char *) sqlite3_column_text(s, 0);

        rc = mode && strcmp(mode, "wal") == 0 ? SQLITE_OK : SQLITE_ERROR;
        if (rc != SQLITE_OK) {
            sqlite3_finalize(s);
            return ld_err_set(err, ENOTSUP, "journal mode stays %s, not wal", mode ? mode : "?");
        }
    }
    if (rc != SQLITE_OK) {
        int ret = registry_db_fail(db, rc, err, "set journal_mode WAL");

        sqlite3_finalize(s);
        return ret;
    }
    sqlite3_finalize(s);
    if ((rc = exec_sql(db, "PRAGMA synchronous = FULL", err)) < 0 ||
        (rc = exec_sql(db, "PRAGMA foreign_keys = ON", err)) < 0 ||
        (rc = pragma_int(db, "PRAGMA foreign_keys", &fk, err)) < 0)
        return rc;
    /* Deleting a function relies on ON DELETE CASCADE. */
    if (fk != 1)
        return ld_err_set(err, ENOTSUP, "this SQLite does not enforce foreign keys");
    return 0;
}

/* Applies migration `from` (0-based) unless another process did while we
 * waited for the write lock. */
static int migrate_step(sqlite3 *db, long long from, struct ld_err *err)
{
    char bump[96];
    long long now, bad;
    int rc;

    if ((rc = exec_sql(db, "BEGIN IMMEDIATE", err)) < 0)
        return rc;
    if ((rc = pragma_int(db, "PRAGMA user_version", &now, err)) < 0)
        goto rollback;
    if (now != from) {
        rc = exec_sql(db, "COMMIT", err);
        goto out;
    }
    /* Both numbers are ours, not user data: formatting is safe here, and
     * PRAGMAs take no bound parameters. */
    snprintf(bump, sizeof bump, "PRAGMA application_id = %d; PRAGMA user_version = %lld",
             APPLICATION_ID, from + 1);
    if ((rc = exec_sql(db, migrations[from].sql, err)) < 0 || (rc = exec_sql(db, bump, err)) < 0)
        goto rollback;
    /* A step must leave every reference valid; commit nothing that does not. */
    rc = pragma_int(db, "SELECT count(*) FROM pragma_foreign_key_check", &bad, err);
    if (rc == 0 && bad != 0)
        rc = ld_err_set(err, EPROTO, "%lld foreign key violations", bad);
    if (rc < 0)
        goto rollback;
    rc = exec_sql(db, "COMMIT", err);
    if (rc == 0)
        goto out;
rollback:
    (void) sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
out:
    if (rc < 0)
        return ld_err_prefix(err, "migration %lld (%s)", from + 1, migrations[from].what);
    return 0;
}

/* Creates the file 0600 before SQLite does (SQLite would use 0644, and the
 * docs hold environment variables); the WAL and shm files copy its mode. A
 * new file's directory entry is synced so it survives power loss too. */
static int create_private(int dfd, const char *data_dir, struct ld_err *err)
{
    LD_AUTOCLOSE int fd = openat(dfd, "registry.db", O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

    if (fd < 0)
        return errno == EEXIST ? 0 : ld_err_set(err, errno, "create %s/registry.db", data_dir);
    if (fsync(dfd) < 0)
        return ld_err_set(err, errno, "fsync %s", data_dir);
    return 0;
}

int registry_db_open(const char *data_dir, sqlite3 **out, struct ld_err *err)
{
    char path[4096];
    sqlite3 *db = NULL;
    long long version = 0;
    int rc;

    *out = NULL;
    if (!data_dir || !*data_dir)
        return ld_err_set(err, EINVAL, "no data dir");
    if (snprintf(path, sizeof path, "%s/registry.db", data_dir) >= (int) sizeof path)
        return ld_err_set(err, ENAMETOOLONG, "data dir %.60s...", data_dir);
    {
        LD_AUTOCLOSE int dfd = open(data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (dfd < 0)
            return ld_err_set(err, errno, "data dir %s", data_dir);
        if ((rc = create_private(dfd, data_dir, err)) < 0)
            return rc;
    }
    /* NOMUTEX: one thread at a time uses a connection (registry.h). */
    rc = sqlite3_open_v2(path, &db,
                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE,
                         NULL);
    if (rc != SQLITE_OK) {
        rc = registry_db_fail(db, rc, err, "%s", path);
        sqlite3_close(db);
        return rc;
    }
    sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
    /* No writable_schema or other ways to corrupt the file through SQL. */
    (void) sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, (int *) NULL);
    if (check_file(db, &version, err) < 0 || set_pragmas(db, err) < 0)
        goto fail;
    for (; version < NMIGRATIONS; version++)
        if (migrate_step(db, version, err) < 0)
            goto fail;
    *out = db;
    return 0;
fail:
    sqlite3_close(db);
    return ld_err_prefix(err, "%s", path);
}
