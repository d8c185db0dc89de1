/* tests/unit/service/test_artifacts.c: the content-addressed code store
 * (src/service/artifacts.h) on a real directory.
 *
 * Zips are made in memory with libarchive's writer. Each test opens a store
 * under /tmp/lambdad-artifacts-XXXXXX/store and checks the files it leaves
 * there, not only what the API says: digests by name, modes, no .tmp-
 * leftovers, what GC removed and what it must not touch. Needs root for
 * the ownership the trees get. */
#include <archive.h>
#include <archive_entry.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "service/artifacts.h"

#include "../checks.h"

static char base[64];
static char root[96];
static int fds_before;

/* ---- fixture ------------------------------------------------------------ */

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st;
    (void) ftw;
    if (flag == FTW_DP)
        return rmdir(path);
    return unlink(path);
}

static void setup(void)
{
    snprintf(base, sizeof base, "/tmp/lambdad-artifacts-XXXXXX");
    cr_assert_not_null(mkdtemp(base));
    snprintf(root, sizeof root, "%s/store", base);
    fds_before = count_fds();
}

static void teardown(void)
{
    if (base[0])
        nftw(base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(artifacts, .init = setup, .fini = teardown, .timeout = 60);

/* The last step of every test: Criterion ignores a .fini's failures. */
static void finish(struct artifacts *s)
{
    artifacts_close(s);
    cr_assert_eq(count_fds(), fds_before, "fd leak");
    assert_no_leaks();
}

static struct artifacts *open_store(void)
{
    struct artifacts *s = NULL;
    struct ld_err err;

    cr_assert_eq(artifacts_open(root, &s, &err), 0, "%s", err.msg);
    return s;
}

/* ---- zips in memory ----------------------------------------------------- */

struct zip {
    unsigned char data[64 * 1024];
    size_t len;
};

/* A zip of name=content pairs; a name ending in '@' is made executable. */
static void make_zip(struct zip *z, const char *const *pairs, size_t npairs)
{
    struct archive *a = archive_write_new();

    cr_assert_eq(archive_write_set_format_zip(a), ARCHIVE_OK);
    cr_assert_eq(archive_write_open_memory(a, z->data, sizeof z->data, &z->len), ARCHIVE_OK);
    for (size_t i = 0; i + 1 < npairs * 2; i += 2) {
        struct archive_entry *ae = archive_entry_new();
        char name[128];
        size_t n = strlen(pairs[i]);
        bool exec = n > 0 && pairs[i][n - 1] == '@';

        snprintf(name, sizeof name, "%.*s", (int) (exec ? n - 1 : n), pairs[i]);
        archive_entry_set_pathname(ae, name);
        archive_entry_set_mode(ae, exec ? 0100755 : 0100644);
        archive_entry_set_size(ae, (la_int64_t) strlen(pairs[i + 1]));
        cr_assert_eq(archive_write_header(a, ae), ARCHIVE_OK);
        cr_assert_eq(archive_write_data(a, pairs[i + 1], strlen(pairs[i + 1])),
                     (la_ssize_t) strlen(pairs[i + 1]));
        archive_entry_free(ae);
    }
    cr_assert_eq(archive_write_close(a), ARCHIVE_OK);
    archive_write_free(a);
}

#define MAKE_ZIP(z, ...)                                                                       \
    do {                                                                                       \
        const char *const pairs_[] = {__VA_ARGS__};                                            \
        make_zip((z), pairs_, sizeof pairs_ / sizeof pairs_[0] / 2);                           \
    } while (0)

static void put(struct artifacts *s, const void *p, size_t len, struct artifacts_digest *d)
{
    struct ld_err err;

    cr_assert_eq(artifacts_put_zip(s, p, len, d, &err), 0, "%s", err.msg);
    cr_assert(artifacts_hex_valid(d->hex), "%s", d->hex);
}

static void unpack(struct artifacts *s, const char *hex, struct artifacts_tree *t)
{
    struct ld_err err;

    cr_assert_eq(artifacts_unpack(s, hex, NULL, t, &err), 0, "%s", err.msg);
    cr_assert_eq(t->reason, UNZIP_OK);
}

/* ---- looking at the store ----------------------------------------------- */

static bool exists(const char *rel)
{
    char path[PATH_MAX];
    struct stat st;

    snprintf(path, sizeof path, "%s/%s", root, rel);
    return lstat(path, &st) == 0;
}

static bool exists_fmt(const char *dir, const char *hex, const char *suffix)
{
    char rel[160];

    snprintf(rel, sizeof rel, "%s/%s%s", dir, hex, suffix);
    return exists(rel);
}

static int count_in(const char *dir, bool only_tmp)
{
    char path[160];
    struct dirent *de;
    DIR *d;
    int n = 0;

    snprintf(path, sizeof path, "%s/%s", root, dir);
    d = opendir(path);
    cr_assert_not_null(d, "%s", path);
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            n += !only_tmp || strncmp(de->d_name, ".tmp-", 5) == 0;
    closedir(d);
    return n;
}

static void assert_no_tmp(void)
{
    cr_assert_eq(count_in("zips", true), 0, "a .tmp- is left in zips/");
    cr_assert_eq(count_in("code", true), 0, "a .tmp- is left in code/");
}

static void read_text(const char *path, char *buf, size_t size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n;

    cr_assert_geq(fd, 0, "%s", path);
    n = read(fd, buf, size - 1);
    close(fd);
    cr_assert_geq(n, 0);
    buf[n] = '\0';
}

static void age(const char *rel, time_t seconds)
{
    char path[PATH_MAX];
    struct timespec ts[2];

    snprintf(path, sizeof path, "%s/%s", root, rel);
    clock_gettime(CLOCK_REALTIME, &ts[0]);
    ts[0].tv_sec -= seconds;
    ts[1] = ts[0];
    cr_assert_eq(utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW), 0, "%s", path);
}

/* ---- put ---------------------------------------------------------------- */

Test(artifacts, put_names_the_zip_by_its_sha256)
{
    struct artifacts *s = open_store();
    struct artifacts_digest d;
    char path[256], text[16];
    struct stat st;

    put(s, "abc", 3, &d);
    /* FIPS 180-2's "abc" vector; CodeSha256 is its base64. */
    cr_assert_str_eq(d.hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    cr_assert_str_eq(d.sha256_b64, "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=");
    cr_assert_eq(d.size, 3);
    snprintf(path, sizeof path, "%s/zips/%s.zip", root, d.hex);
    read_text(path, text, sizeof text);
    cr_assert_str_eq(text, "abc");
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(st.st_mode & 07777, 0600);
    assert_no_tmp();
    finish(s);
}

Test(artifacts, put_twice_keeps_the_first_file_and_marks_it_used)
{
    struct artifacts *s = open_store();
    struct artifacts_digest d1, d2;
    char rel[128], path[256];
    struct stat st1, st2;
    time_t now = time(NULL);

    put(s, "same bytes", 10, &d1);
    snprintf(rel, sizeof rel, "zips/%s.zip", d1.hex);
    snprintf(path, sizeof path, "%s/%s", root, rel);
    age(rel, 86400);
    cr_assert_eq(stat(path, &st1), 0);
    put(s, "same bytes", 10, &d2);
    cr_assert_eq(stat(path, &st2), 0);
    cr_assert_str_eq(d1.hex, d2.hex);
    cr_assert_str_eq(d1.sha256_b64, d2.sha256_b64);
    cr_assert_eq(st1.st_ino, st2.st_ino, "rewritten");
    cr_assert_geq(st2.st_mtime, now, "not marked used");
    cr_assert_eq(count_in("zips", false), 1);
    finish(s);
}

Test(artifacts, open_makes_readable_directories_whatever_the_umask)
{
    struct artifacts *s;
    char path[160];
    struct stat st;
    mode_t old = umask(077);

    s = open_store();
    umask(old);
    cr_assert_eq(stat(root, &st), 0);
    cr_assert_eq(st.st_mode & 07777, 0755);
    snprintf(path, sizeof path, "%s/zips", root);
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(st.st_mode & 07777, 0755);
    snprintf(path, sizeof path, "%s/code", root);
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(st.st_mode & 07777, 0755);
    finish(s);
}

Test(artifacts, open_zip_serves_the_stored_bytes)
{
    struct artifacts *s = open_store();
    struct artifacts_digest d;
    struct ld_err err;
    char text[16];
    ssize_t n;
    int fd;

    put(s, "zip bytes", 9, &d);
    fd = artifacts_open_zip(s, d.hex, &err);
    cr_assert_geq(fd, 0, "%s", err.msg);
    n = read(fd, text, sizeof text);
    close(fd);
    cr_assert_eq(n, 9);
    cr_assert_eq(memcmp(text, "zip bytes", 9), 0);
    d.hex[0] = d.hex[0] == '0' ? '1' : '0';
    cr_assert_eq(artifacts_open_zip(s, d.hex, &err), -ENOENT);
    cr_assert_eq(artifacts_open_zip(s, "../../etc/passwd", &err), -EINVAL);
    finish(s);
}

/* ---- unpack ------------------------------------------------------------- */

Test(artifacts, unpack_makes_the_tree_once)
{
    struct artifacts *s = open_store();
    struct artifacts_digest d;
    struct artifacts_tree t1, t2;
    struct zip z;
    char want[256], path[PATH_MAX + 64], text[64];
    struct stat st1, st2;

    MAKE_ZIP(&z, "bootstrap@", "#!/bin/sh\n", "lib/app.py", "x = 1\n");
    put(s, z.data, z.len, &d);
    unpack(s, d.hex, &t1);
    snprintf(want, sizeof want, "%s/code/%s", root, d.hex);
    cr_assert_str_eq(t1.path, want);
    cr_assert_eq(t1.bytes, 10 + 6);
    snprintf(path, sizeof path, "%s/bootstrap", t1.path);
    cr_assert_eq(stat(path, &st1), 0);
    cr_assert_eq(st1.st_mode & 07777, 0755);
    snprintf(path, sizeof path, "%s/lib/app.py", t1.path);
    read_text(path, text, sizeof text);
    cr_assert_str_eq(text, "x = 1\n");
    snprintf(path, sizeof path, "%s/code/%s.size", root, d.hex);
    read_text(path, text, sizeof text);
    cr_assert_str_eq(text, "16\n");
    assert_no_tmp();

    /* Again: the same tree, not a new one. */
    cr_assert_eq(stat(t1.path, &st1), 0);
    unpack(s, d.hex, &t2);
    cr_assert_eq(stat(t2.path, &st2), 0);
    cr_assert_str_eq(t2.path, t1.path);
    cr_assert_eq(t2.bytes, t1.bytes);
    cr_assert_eq(st1.st_ino, st2.st_ino);

    /* A lost size file is counted again from the tree. */
    cr_assert_eq(unlink(path), 0);
    unpack(s, d.hex, &t2);
    cr_assert_eq(t2.bytes, 16);
    read_text(path, text, sizeof text);
    cr_assert_str_eq(text, "16\n");
    cr_assert_eq(count_in("code", false), 2);
    finish(s);
}

Test(artifacts, refused_zip_leaves_no_tree)
{
    struct artifacts *s = open_store();
    struct artifacts_digest d;
    struct artifacts_tree t;
    struct ld_err err;
    struct zip z;
    char msg[160];

    MAKE_ZIP(&z, "ok.txt", "ok", "../evil", "evil");
    put(s, z.data, z.len, &d);
    cr_assert_lt(artifacts_unpack(s, d.hex, NULL, &t, &err), 0);
    cr_assert_eq(t.reason, UNZIP_UNSAFE, "%s", err.msg);
    cr_assert_str_eq(t.path, "");
    cr_assert_eq(unzip_aws_message(t.reason, 262144000, msg, sizeof msg), 400);
    cr_assert_str_eq(msg, UNZIP_AWS_INVALID_ZIP);

    put(s, "not a zip at all", 16, &d);
    cr_assert_lt(artifacts_unpack(s, d.hex, NULL, &t, &err), 0);
    cr_assert_eq(t.reason, UNZIP_NOT_ZIP, "%s", err.msg);

    cr_assert_eq(count_in("code", false), 0);
    cr_assert_eq(count_in("zips", false), 2, "refused zips stay until GC");
    cr_assert(!exists("evil") && !exists("code/evil"));
    finish(s);
}

Test(artifacts, unpack_applies_the_limits_given)
{
    struct artifacts *s = open_store();
    struct unzip_limits lim = UNZIP_LIMITS_DEFAULT;
    struct artifacts_digest d;
    struct artifacts_tree t;
    struct ld_err err;
    struct zip z;

    MAKE_ZIP(&z, "a", "0123456789", "b", "0123456789");
    put(s, z.data, z.len, &d);
    lim.max_bytes = 15;
    cr_assert_lt(artifacts_unpack(s, d.hex, &lim, &t, &err), 0);
    cr_assert_eq(t.reason, UNZIP_TOO_BIG, "%s", err.msg);
    lim.max_bytes = 20;
    cr_assert_eq(artifacts_unpack(s, d.hex, &lim, &t, &err), 0, "%s", err.msg);
    cr_assert_eq(t.bytes, 20);
    assert_no_tmp();
    finish(s);
}

Test(artifacts, unpack_of_unknown_or_bad_digest)
{
    struct artifacts *s = open_store();
    struct artifacts_tree t;
    struct ld_err err;
    char hex[ARTIFACTS_HEX_LEN + 1];

    memset(hex, 'a', ARTIFACTS_HEX_LEN);
    hex[ARTIFACTS_HEX_LEN] = '\0';
    cr_assert_eq(artifacts_unpack(s, hex, NULL, &t, &err), -ENOENT);
    cr_assert_eq(t.reason, UNZIP_IO);
    cr_assert_eq(artifacts_unpack(s, "..", NULL, &t, &err), -EINVAL);
    hex[5] = 'A';
    cr_assert_eq(artifacts_unpack(s, hex, NULL, &t, &err), -EINVAL);
    cr_assert_eq(count_in("code", false), 0);
    finish(s);
}

/* ---- threads ------------------------------------------------------------ */

#define NTHREADS 8

struct racer {
    struct artifacts *s;
    const char *hex;   /* unpack this... */
    struct zip *z;     /* ... or put and unpack this */
    pthread_barrier_t *go;
    struct artifacts_tree t;
    int rc;
    char msg[240];
};

static void *race(void *arg)
{
    struct racer *r = arg;
    struct artifacts_digest d;
    struct ld_err err;

    pthread_barrier_wait(r->go);
    r->rc = 0;
    if (r->z) {
        r->rc = artifacts_put_zip(r->s, r->z->data, r->z->len, &d, &err);
        r->hex = d.hex;
    }
    if (r->rc == 0)
        r->rc = artifacts_unpack(r->s, r->hex, NULL, &r->t, &err);
    if (r->rc < 0)
        memcpy(r->msg, err.msg, sizeof r->msg);
    r->hex = NULL; /* d dies with this frame */
    return NULL;
}

static void run_racers(struct racer *r)
{
    pthread_t th[NTHREADS];
    pthread_barrier_t go;

    pthread_barrier_init(&go, NULL, NTHREADS);
    for (int i = 0; i < NTHREADS; i++) {
        r[i].go = &go;
        cr_assert_eq(pthread_create(&th[i], NULL, race, &r[i]), 0);
    }
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&go);
    for (int i = 0; i < NTHREADS; i++)
        cr_assert_eq(r[i].rc, 0, "racer %d: %s", i, r[i].msg);
}

Test(artifacts, same_digest_unpacked_by_many_threads_at_once)
{
    struct artifacts *s = open_store();
    struct racer r[NTHREADS];
    struct artifacts_digest d;
    struct zip z;

    MAKE_ZIP(&z, "bootstrap@", "#!/bin/sh\n", "a/b/c.txt", "c", "a/d.txt", "d");
    put(s, z.data, z.len, &d);
    memset(r, 0, sizeof r);
    for (int i = 0; i < NTHREADS; i++) {
        r[i].s = s;
        r[i].hex = d.hex;
    }
    run_racers(r);
    for (int i = 1; i < NTHREADS; i++) {
        cr_assert_str_eq(r[i].t.path, r[0].t.path);
        cr_assert_eq(r[i].t.bytes, r[0].t.bytes);
    }
    cr_assert_eq(count_in("code", false), 2, "one tree and its size");
    assert_no_tmp();
    finish(s);
}

Test(artifacts, distinct_digests_by_many_threads_at_once)
{
    struct artifacts *s = open_store();
    static struct zip z[NTHREADS];
    struct racer r[NTHREADS];

    memset(r, 0, sizeof r);
    for (int i = 0; i < NTHREADS; i++) {
        char content[24];

        snprintf(content, sizeof content, "racer %d", i);
        MAKE_ZIP(&z[i], "f.txt", content);
        r[i].s = s;
        r[i].z = &z[i];
    }
    run_racers(r);
    cr_assert_eq(count_in("zips", false), NTHREADS);
    cr_assert_eq(count_in("code", false), 2 * NTHREADS);
    assert_no_tmp();
    finish(s);
}

/* ---- GC ----------------------------------------------------------------- */

Test(artifacts, gc_removes_what_is_not_live)
{
    struct artifacts *s = open_store();
    struct artifacts_digest a, b, c;
    struct artifacts_tree ta, tb;
    struct artifacts_gc_stats st;
    struct ld_err err;
    struct zip za, zb;
    const char *live[2];

    MAKE_ZIP(&za, "a.txt", "A");
    MAKE_ZIP(&zb, "b.txt", "B");
    put(s, za.data, za.len, &a);
    put(s, zb.data, zb.len, &b);
    put(s, "never unpacked", 14, &c);
    unpack(s, a.hex, &ta);
    unpack(s, b.hex, &tb);
    live[0] = a.hex;
    live[1] = "not a digest"; /* ignored, not a crash */
    cr_assert_eq(artifacts_gc(s, live, 2, 0, &st, &err), 0, "%s", err.msg);
    cr_assert_eq(st.zips_removed, 2);
    cr_assert_eq(st.trees_removed, 1);
    cr_assert(exists_fmt("zips", a.hex, ".zip"));
    cr_assert(exists_fmt("code", a.hex, ""));
    cr_assert(exists_fmt("code", a.hex, ".size"));
    cr_assert(!exists_fmt("zips", b.hex, ".zip"));
    cr_assert(!exists_fmt("code", b.hex, ""));
    cr_assert(!exists_fmt("code", b.hex, ".size"));
    cr_assert(!exists_fmt("zips", c.hex, ".zip"));
    /* Nothing live: everything goes. */
    cr_assert_eq(artifacts_gc(s, NULL, 0, 0, &st, &err), 0, "%s", err.msg);
    cr_assert_eq(count_in("zips", false), 0);
    cr_assert_eq(count_in("code", false), 0);
    finish(s);
}

Test(artifacts, gc_spares_what_was_used_recently)
{
    struct artifacts *s = open_store();
    struct artifacts_digest a;
    struct artifacts_tree t;
    struct artifacts_gc_stats st;
    struct ld_err err;
    struct zip z;
    char rel[128];

    MAKE_ZIP(&z, "a.txt", "A");
    put(s, z.data, z.len, &a);
    unpack(s, a.hex, &t);
    cr_assert_eq(artifacts_gc(s, NULL, 0, 3600, &st, &err), 0, "%s", err.msg);
    cr_assert_eq(st.zips_removed + st.trees_removed, 0);
    cr_assert_eq(st.kept_young, 2);
    /* An hour later, with a reuse of the tree in between: only the zip goes. */
    snprintf(rel, sizeof rel, "zips/%s.zip", a.hex);
    age(rel, 7200);
    snprintf(rel, sizeof rel, "code/%s", a.hex);
    age(rel, 7200);
    unpack(s, a.hex, &t);
    cr_assert_eq(artifacts_gc(s, NULL, 0, 3600, &st, &err), 0, "%s", err.msg);
    cr_assert_eq(st.zips_removed, 1);
    cr_assert_eq(st.trees_removed, 0);
    cr_assert(exists_fmt("code", a.hex, ""));
    finish(s);
}

Test(artifacts, gc_removes_read_only_trees_without_following_links)
{
    struct artifacts *s = open_store();
    struct artifacts_digest a;
    struct artifacts_tree t;
    struct artifacts_gc_stats st;
    struct ld_err err;
    struct zip z;
    char path[PATH_MAX + 64], outside[128];

    MAKE_ZIP(&z, "d/e/f.txt", "f");
    put(s, z.data, z.len, &a);
    unpack(s, a.hex, &t);
    /* Things unzip would never make, to see GC cope: a link out, 0555 dirs. */
    snprintf(outside, sizeof outside, "%s/outside", base);
    cr_assert_eq(mkdir(outside, 0755), 0);
    snprintf(path, sizeof path, "%s/keep", outside);
    cr_assert_eq(close(open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644)), 0);
    snprintf(path, sizeof path, "%s/d/out", t.path);
    cr_assert_eq(symlink(outside, path), 0);
    snprintf(path, sizeof path, "%s/d/e", t.path);
    cr_assert_eq(chmod(path, 0555), 0);
    snprintf(path, sizeof path, "%s/d", t.path);
    cr_assert_eq(chmod(path, 0555), 0);
    cr_assert_eq(chmod(t.path, 0555), 0);
    cr_assert_eq(artifacts_gc(s, NULL, 0, 0, &st, &err), 0, "%s", err.msg);
    cr_assert_eq(st.trees_removed, 1);
    cr_assert(!exists_fmt("code", a.hex, ""));
    snprintf(path, sizeof path, "%s/keep", outside);
    cr_assert_eq(access(path, F_OK), 0, "GC followed the link out");
    finish(s);
}

Test(artifacts, gc_removes_an_orphan_size_and_leaves_strangers)
{
    struct artifacts *s = open_store();
    struct artifacts_gc_stats st;
    struct ld_err err;
    char path[256];
    static const char *const strangers[] = {"code/README", "zips/notes.txt",
                                            "code/.tmp-inprogress", "zips/.tmp-upload"};

    snprintf(path, sizeof path, "%s/code/%064d.size", root, 0);
    cr_assert_eq(close(open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644)), 0);
    for (size_t i = 0; i < sizeof strangers / sizeof strangers[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", root, strangers[i]);
        cr_assert_eq(close(open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644)), 0);
    }
    cr_assert_eq(artifacts_gc(s, NULL, 0, 0, &st, &err), 0, "%s", err.msg);
    snprintf(path, sizeof path, "code/%064d.size", 0);
    cr_assert(!exists(path));
    for (size_t i = 0; i < sizeof strangers / sizeof strangers[0]; i++)
        cr_assert(exists(strangers[i]), "%s", strangers[i]);
    finish(s);
}

/* ---- crashes ------------------------------------------------------------ */

Test(artifacts, open_removes_what_a_crash_left)
{
    struct artifacts *s = open_store();
    struct artifacts_digest a;
    struct artifacts_tree t;
    struct zip z;
    char path[256];

    MAKE_ZIP(&z, "a.txt", "A");
    put(s, z.data, z.len, &a);
    unpack(s, a.hex, &t);
    artifacts_close(s);

    /* A half zip, a half tree (read-only, as unzip leaves them), a half size. */
    snprintf(path, sizeof path, "%s/zips/.tmp-0123456789abcdef", root);
    cr_assert_eq(close(open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600)), 0);
    snprintf(path, sizeof path, "%s/code/.tmp-a1b2c3d4e5f6", root);
    cr_assert_eq(mkdir(path, 0755), 0);
    snprintf(path, sizeof path, "%s/code/.tmp-a1b2c3d4e5f6/lib", root);
    cr_assert_eq(mkdir(path, 0755), 0);
    snprintf(path, sizeof path, "%s/code/.tmp-a1b2c3d4e5f6/lib/half.so", root);
    cr_assert_eq(close(open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0444)), 0);
    snprintf(path, sizeof path, "%s/code/.tmp-a1b2c3d4e5f6/lib", root);
    cr_assert_eq(chmod(path, 0555), 0);
    snprintf(path, sizeof path, "%s/code/.tmp-fedcba9876543210", root);
    cr_assert_eq(close(open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644)), 0);

    s = open_store();
    assert_no_tmp();
    cr_assert(exists_fmt("zips", a.hex, ".zip"));
    cr_assert(exists_fmt("code", a.hex, ""));
    cr_assert(exists_fmt("code", a.hex, ".size"));
    unpack(s, a.hex, &t);
    cr_assert_eq(t.bytes, 1);
    finish(s);
}

Test(artifacts, open_fails_cleanly_on_a_file)
{
    struct artifacts *s = NULL;
    struct ld_err err;
    char path[128];

    snprintf(path, sizeof path, "%s/file", base);
    cr_assert_eq(close(open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644)), 0);
    cr_assert_lt(artifacts_open(path, &s, &err), 0);
    cr_assert_null(s);
    cr_assert(strstr(err.msg, "artifacts ") == err.msg, "%s", err.msg);
    finish(NULL);
}
