/* tests/unit/service/test_unzip.c: secure extraction of uploaded zips
 * (src/service/unzip.h).
 *
 * Every zip is made here, with libarchive's writer, and some are then
 * edited byte by byte in their central directory (modes from Windows, a
 * lying size, a fifo type), so the tests need no fixture files. Each test
 * works in /tmp/lambdad-unzip-XXXXXX holding parent/ (where trees are made)
 * and zip.zip; after a refusal the test checks that parent/ is empty and
 * that nothing else appeared, so an entry that escaped would be seen. Needs
 * root for the ownership checks. */
#include <archive.h>
#include <archive_entry.h>
#include <criterion/criterion.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "service/unzip.h"

#include "../checks.h"

#define MTIME 1577934245 /* 2020-01-02T03:04:05Z: odd, so 2 s DOS time would show */

static char base[64];
static char zip_path[96];
static int parent = -1;
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
    char path[128];

    snprintf(base, sizeof base, "/tmp/lambdad-unzip-XXXXXX");
    cr_assert_not_null(mkdtemp(base));
    snprintf(zip_path, sizeof zip_path, "%s/zip.zip", base);
    snprintf(path, sizeof path, "%s/parent", base);
    cr_assert_eq(mkdir(path, 0755), 0);
    fds_before = count_fds();
    parent = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    cr_assert_geq(parent, 0);
}

static void teardown(void)
{
    if (parent >= 0)
        close(parent);
    parent = -1;
    /* Undo the read-only modes some tests leave behind. */
    if (base[0])
        nftw(base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(unzip, .init = setup, .fini = teardown, .timeout = 60);

/* The last step of every test: Criterion ignores a .fini's failures. */
static void finish(void)
{
    close(parent);
    parent = -1;
    cr_assert_eq(count_fds(), fds_before, "fd leak");
    assert_no_leaks();
}

/* ---- making zips -------------------------------------------------------- */

struct ent {
    const char *name;
    unsigned mode;    /* type and permission bits, as in st_mode */
    const char *data; /* content, or a link's target */
    long long zeros;  /* > 0: this many zero bytes instead of data */
};

static void write_zip_opts(const struct ent *e, size_t n, const char *options)
{
    static char zeros[1 << 20];
    struct archive *a = archive_write_new();

    cr_assert_eq(archive_write_set_format_zip(a), ARCHIVE_OK);
    cr_assert_eq(archive_write_zip_set_compression_deflate(a), ARCHIVE_OK);
    if (options)
        cr_assert_eq(archive_write_set_options(a, options), ARCHIVE_OK);
    cr_assert_eq(archive_write_open_filename(a, zip_path), ARCHIVE_OK);
    for (size_t i = 0; i < n; i++) {
        struct archive_entry *ae = archive_entry_new();
        long long size = 0;

        archive_entry_set_pathname_utf8(ae, e[i].name);
        archive_entry_set_mode(ae, e[i].mode);
        archive_entry_set_mtime(ae, MTIME, 0);
        if (S_ISLNK(e[i].mode))
            archive_entry_set_symlink_utf8(ae, e[i].data);
        else if (S_ISREG(e[i].mode))
            size = e[i].zeros > 0 ? e[i].zeros : (long long) strlen(e[i].data);
        archive_entry_set_size(ae, size);
        cr_assert_eq(archive_write_header(a, ae), ARCHIVE_OK, "%s: %s", e[i].name,
                     archive_error_string(a));
        if (S_ISREG(e[i].mode) && e[i].zeros > 0) {
            for (long long left = size; left > 0; left -= (long long) sizeof zeros) {
                size_t chunk = left < (long long) sizeof zeros ? (size_t) left : sizeof zeros;

                cr_assert_eq(archive_write_data(a, zeros, chunk), (la_ssize_t) chunk);
            }
        } else if (S_ISREG(e[i].mode) && size > 0) {
            cr_assert_eq(archive_write_data(a, e[i].data, (size_t) size), (la_ssize_t) size);
        }
        archive_entry_free(ae);
    }
    cr_assert_eq(archive_write_close(a), ARCHIVE_OK);
    archive_write_free(a);
}

static void write_zip(const struct ent *e, size_t n)
{
    write_zip_opts(e, n, NULL);
}

#define ZIP(...)                                                                               \
    do {                                                                                       \
        const struct ent ents_[] = {__VA_ARGS__};                                              \
        write_zip(ents_, sizeof ents_ / sizeof ents_[0]);                                      \
    } while (0)

static unsigned char *slurp(const char *path, size_t *len)
{
    struct stat st;
    unsigned char *p;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    cr_assert_geq(fd, 0);
    cr_assert_eq(fstat(fd, &st), 0);
    *len = (size_t) st.st_size;
    p = malloc(*len + 1);
    cr_assert_not_null(p);
    cr_assert_eq(read(fd, p, *len), (ssize_t) *len);
    close(fd);
    return p;
}

static void spill(const char *path, const void *p, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, p, len), (ssize_t) len);
    close(fd);
}

static uint32_t le(const unsigned char *p, int n)
{
    uint32_t v = 0;

    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static void put_le(unsigned char *p, int n, uint32_t v)
{
    for (int i = 0; i < n; i++, v >>= 8)
        p[i] = (unsigned char) v;
}

/* Overwrites n bytes at offset `off` of central directory record `idx`
 * (APPNOTE 4.3.12: +4 version made by, +24 uncompressed size, +38 external
 * attributes). */
static void patch_cd(unsigned idx, size_t off, int n, uint32_t value)
{
    size_t len, eocd, p;
    unsigned char *z = slurp(zip_path, &len);

    for (eocd = len - 22;; eocd--) {
        if (le(z + eocd, 4) == 0x06054b50)
            break;
        cr_assert_neq(eocd, 0, "no end of central directory");
    }
    p = le(z + eocd + 16, 4);
    for (unsigned i = 0; i < idx; i++) {
        cr_assert_eq(le(z + p, 4), 0x02014b50);
        p += 46 + le(z + p + 28, 2) + le(z + p + 30, 2) + le(z + p + 32, 2);
    }
    cr_assert_eq(le(z + p, 4), 0x02014b50);
    put_le(z + p + off, n, value);
    spill(zip_path, z, len);
    free(z);
}

/* Letters that deflate cannot squeeze much, so the data spans many bytes. */
static void fill_text(char *text, size_t size)
{
    uint32_t x = 12345;

    for (size_t i = 0; i < size - 1; i++) {
        x = x * 1103515245u + 12345u;
        text[i] = (char) ('a' + (x >> 16) % 26);
    }
    text[size - 1] = '\0';
}

/* ---- checks ------------------------------------------------------------- */

static int run(const struct unzip_limits *lim, struct unzip_result *res, struct ld_err *err)
{
    memset(err, 0, sizeof *err);
    return unzip_file(zip_path, parent, "t-", lim, res, err);
}

static int dir_entries(int dfd, const char *name)
{
    int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    struct dirent *de;
    int n = 0;

    cr_assert_not_null(d, "open %s", name);
    while ((de = readdir(d)))
        n += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
    closedir(d);
    return n;
}

/* After a refusal nothing is left: not the tree, not an escaped entry. */
static void assert_nothing_left(void)
{
    int expected = 1 + (access(zip_path, F_OK) == 0); /* parent/ and zip.zip */

    cr_assert_eq(dir_entries(parent, "."), 0, "parent/ is not empty");
    cr_assert_eq(dir_entries(AT_FDCWD, base), expected, "something appeared next to parent/");
}

static void refused_with(const struct unzip_limits *lim, enum unzip_reason want)
{
    struct unzip_result res;
    struct ld_err err;
    int rc = run(lim, &res, &err);

    cr_assert_lt(rc, 0, "accepted");
    cr_assert_eq(res.reason, want, "reason %s, want %s (%s)", unzip_reason_name(res.reason),
                 unzip_reason_name(want), err.msg);
    cr_assert_eq(rc, -err.code, "rc %d, err %d: %s", rc, err.code, err.msg);
    cr_assert_str_eq(res.name, "");
    cr_assert(strncmp(err.msg, "unzip: ", 7) == 0, "%s", err.msg);
    cr_log_info("refused: %s", err.msg);
    assert_nothing_left();
}

static void refused(enum unzip_reason want)
{
    refused_with(NULL, want);
}

/* Unpacks with `lim`, which must succeed; returns an fd on the tree. */
static int accepted_with(const struct unzip_limits *lim, struct unzip_result *res)
{
    struct ld_err err;
    int rc = run(lim, res, &err);
    int fd;

    cr_assert_eq(rc, 0, "refused (%s): %s", unzip_reason_name(res->reason), err.msg);
    cr_assert_eq(res->reason, UNZIP_OK);
    cr_assert(strncmp(res->name, "t-", 2) == 0, "%s", res->name);
    fd = openat(parent, res->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    cr_assert_geq(fd, 0);
    return fd;
}

static int accepted(struct unzip_result *res)
{
    return accepted_with(NULL, res);
}

static void assert_file(int tree, const char *name, const char *content, unsigned mode)
{
    char got[256];
    struct stat st;
    int fd;
    ssize_t n;

    cr_assert_eq(fstatat(tree, name, &st, AT_SYMLINK_NOFOLLOW), 0, "%s missing", name);
    cr_assert(S_ISREG(st.st_mode), "%s: mode %o", name, st.st_mode);
    cr_assert_eq(st.st_mode & 07777, mode, "%s: mode %o, want %o", name, st.st_mode & 07777,
                 mode);
    cr_assert_eq(st.st_uid, 0, "%s: uid %d", name, st.st_uid);
    cr_assert_eq(st.st_gid, 0, "%s: gid %d", name, st.st_gid);
    if (!content)
        return;
    fd = openat(tree, name, O_RDONLY | O_CLOEXEC);
    cr_assert_geq(fd, 0);
    n = read(fd, got, sizeof got - 1);
    close(fd);
    cr_assert_geq(n, 0);
    got[n] = '\0';
    cr_assert_str_eq(got, content, "%s", name);
}

static void assert_dir(int tree, const char *name)
{
    struct stat st;

    cr_assert_eq(fstatat(tree, name, &st, AT_SYMLINK_NOFOLLOW), 0, "%s missing", name);
    cr_assert(S_ISDIR(st.st_mode), "%s: mode %o", name, st.st_mode);
    cr_assert_eq(st.st_mode & 07777, 0755, "%s: mode %o", name, st.st_mode & 07777);
    cr_assert_eq(st.st_uid, 0);
    cr_assert_eq(st.st_gid, 0);
}

/* Reads a file the way the function would, following links. */
static void assert_reads(int tree, const char *name, const char *content)
{
    char got[256];
    int fd = openat(tree, name, O_RDONLY | O_CLOEXEC);
    ssize_t n;

    cr_assert_geq(fd, 0, "open %s", name);
    n = read(fd, got, sizeof got - 1);
    close(fd);
    cr_assert_geq(n, 0);
    got[n] = '\0';
    cr_assert_str_eq(got, content, "%s", name);
}

static void assert_link(int tree, const char *name, const char *target)
{
    char got[256];
    ssize_t n = readlinkat(tree, name, got, sizeof got - 1);

    cr_assert_geq(n, 0, "%s is not a link", name);
    got[n] = '\0';
    cr_assert_str_eq(got, target, "%s", name);
}

/* ---- normal zips -------------------------------------------------------- */

Test(unzip, nested_directories_files_and_modes)
{
    struct unzip_result res;
    int tree;

    ZIP({"top.txt", 0100644, "top", 0}, {"a/b/c/deep.txt", 0100644, "deep", 0},
        {"a/b/sib.txt", 0100640, "sib", 0}, {"empty/", 040700, NULL, 0},
        {"./dot/./x.txt", 0100600, "x", 0});
    tree = accepted(&res);
    assert_dir(parent, res.name);
    assert_file(tree, "top.txt", "top", 0644);
    assert_file(tree, "a/b/c/deep.txt", "deep", 0644);
    assert_file(tree, "a/b/sib.txt", "sib", 0644);
    assert_file(tree, "dot/x.txt", "x", 0644);
    assert_dir(tree, "a");
    assert_dir(tree, "a/b");
    assert_dir(tree, "a/b/c");
    assert_dir(tree, "empty");
    assert_dir(tree, "dot");
    cr_assert_eq(res.entries, 5);
    cr_assert_eq(res.bytes, 3 + 4 + 3 + 1);
    close(tree);
    finish();
}

Test(unzip, execute_bit_is_kept_and_made_uniform)
{
    struct unzip_result res;
    int tree;

    ZIP({"bootstrap", 0100755, "#!/bin/sh", 0}, {"owner_only", 0100700, "o", 0},
        {"group_only", 0100650, "g", 0}, {"private", 0100600, "p", 0},
        {"read_only", 0100444, "r", 0});
    tree = accepted(&res);
    assert_file(tree, "bootstrap", "#!/bin/sh", 0755);
    assert_file(tree, "owner_only", "o", 0755);
    assert_file(tree, "group_only", "g", 0755);
    assert_file(tree, "private", "p", 0644);
    assert_file(tree, "read_only", "r", 0644);
    close(tree);
    finish();
}

Test(unzip, setuid_setgid_and_sticky_are_dropped)
{
    struct unzip_result res;
    int tree;

    ZIP({"suid", 0104755, "s", 0}, {"sgid", 0102755, "g", 0}, {"all", 0107777, "a", 0},
        {"sticky", 0101644, "t", 0}, {"sgid_dir/", 042775, NULL, 0},
        {"sgid_dir/f", 0106644, "f", 0});
    tree = accepted(&res);
    assert_file(tree, "suid", "s", 0755);
    assert_file(tree, "sgid", "g", 0755);
    assert_file(tree, "all", "a", 0755);
    assert_file(tree, "sticky", "t", 0644);
    assert_dir(tree, "sgid_dir");
    assert_file(tree, "sgid_dir/f", "f", 0644);
    close(tree);
    finish();
}

Test(unzip, zips_without_unix_modes_get_0644)
{
    struct unzip_result res;
    int tree;

    ZIP({"dos.txt", 0100755, "d", 0}, {"dos_ro.txt", 0100755, "r", 0},
        {"dosdir/", 040755, NULL, 0}, {"unix_zero", 0100755, "z", 0});
    /* "Made by" MS-DOS (0) with DOS attributes, as Windows tools write. */
    patch_cd(0, 5, 1, 0);
    patch_cd(0, 38, 4, 0x20);
    patch_cd(1, 5, 1, 0);
    patch_cd(1, 38, 4, 0x21);
    patch_cd(2, 5, 1, 0);
    patch_cd(2, 38, 4, 0x10);
    /* Unix, but no mode at all. */
    patch_cd(3, 38, 4, 0);
    tree = accepted(&res);
    assert_file(tree, "dos.txt", "d", 0644);
    assert_file(tree, "dos_ro.txt", "r", 0644);
    assert_dir(tree, "dosdir");
    assert_file(tree, "unix_zero", "z", 0644);
    close(tree);
    finish();
}

Test(unzip, modification_time_is_kept)
{
    struct unzip_result res;
    struct stat st;
    int tree;

    ZIP({"app.py", 0100644, "x = 1\n", 0});
    tree = accepted(&res);
    cr_assert_eq(fstatat(tree, "app.py", &st, 0), 0);
    cr_assert_eq(st.st_mtime, MTIME);
    close(tree);
    finish();
}

Test(unzip, links_inside_the_tree_are_kept)
{
    struct unzip_result res;
    int tree;

    ZIP({"lib/libfoo.so.1", 0100755, "elf", 0}, {"lib/libfoo.so", 0120777, "libfoo.so.1", 0},
        {"bin/foo", 0120777, "../lib/libfoo.so", 0}, {"self", 0120777, ".", 0},
        {"lib/round", 0120777, "../lib/./../lib/libfoo.so.1", 0},
        {"dangling", 0120777, "not/there", 0}, {"loop", 0120777, "loop", 0});
    tree = accepted(&res);
    assert_link(tree, "lib/libfoo.so", "libfoo.so.1");
    assert_link(tree, "bin/foo", "../lib/libfoo.so");
    assert_link(tree, "self", ".");
    assert_link(tree, "lib/round", "../lib/./../lib/libfoo.so.1");
    assert_link(tree, "dangling", "not/there");
    assert_reads(tree, "bin/foo", "elf");
    assert_reads(tree, "lib/round", "elf");
    assert_reads(tree, "self/lib/libfoo.so", "elf");
    assert_dir(tree, "bin");
    close(tree);
    finish();
}

Test(unzip, non_ascii_names_in_the_c_locale)
{
    struct unzip_result res;
    int tree;

    ZIP({"caf\xc3\xa9/\xc3\xbc.txt", 0100644, "u", 0});
    tree = accepted(&res);
    assert_file(tree, "caf\xc3\xa9/\xc3\xbc.txt", "u", 0644);
    close(tree);
    finish();
}

Test(unzip, later_duplicate_replaces_a_file)
{
    struct unzip_result res;
    int tree;

    ZIP({"x", 0100644, "one", 0}, {"x", 0100755, "two", 0}, {"l", 0120777, "x", 0},
        {"l", 0100644, "file now", 0});
    tree = accepted(&res);
    assert_file(tree, "x", "two", 0755);
    assert_file(tree, "l", "file now", 0644);
    close(tree);
    finish();
}

Test(unzip, zip_with_no_entries_is_refused)
{
    /* A bare end-of-central-directory record: libarchive does not take it
     * for a zip, and a function with no code has nothing to run anyway. */
    write_zip(NULL, 0);
    refused(UNZIP_NOT_ZIP);
    finish();
}

Test(unzip, from_an_fd_at_any_offset)
{
    struct unzip_result res;
    struct ld_err err;
    int fd, tree;

    ZIP({"a", 0100644, "a", 0});
    fd = open(zip_path, O_RDONLY | O_CLOEXEC);
    cr_assert_geq(fd, 0);
    cr_assert_gt(lseek(fd, 0, SEEK_END), 0);
    cr_assert_eq(unzip_fd(fd, parent, "fd-", NULL, &res, &err), 0, "%s", err.msg);
    close(fd);
    tree = openat(parent, res.name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_file(tree, "a", "a", 0644);
    close(tree);
    finish();
}

/* ---- hostile names and links -------------------------------------------- */

Test(unzip, dotdot_entry_is_refused)
{
    ZIP({"ok.txt", 0100644, "ok", 0}, {"../evil", 0100644, "evil", 0});
    refused(UNZIP_UNSAFE);
    finish();
}

Test(unzip, dotdot_deeper_in_the_name_is_refused)
{
    ZIP({"a/../../../evil", 0100644, "evil", 0});
    refused(UNZIP_UNSAFE);
    ZIP({"a/../b", 0100644, "inside, but still \"..\"", 0});
    refused(UNZIP_UNSAFE);
    finish();
}

Test(unzip, absolute_entry_is_refused)
{
    char inside[128];

    cr_assert_neq(access("/etc/x", F_OK), 0, "/etc/x exists before the test");
    ZIP({"/etc/x", 0100644, "evil", 0});
    refused(UNZIP_UNSAFE);
    cr_assert_neq(access("/etc/x", F_OK), 0);
    /* An absolute name that points into our own scratch dir. */
    snprintf(inside, sizeof inside, "%s/abs", base);
    ZIP({inside, 0100644, "evil", 0});
    refused(UNZIP_UNSAFE);
    finish();
}

Test(unzip, link_to_an_absolute_path_is_refused)
{
    ZIP({"shadow", 0120777, "/etc/shadow", 0});
    refused(UNZIP_UNSAFE);
    finish();
}

Test(unzip, link_climbing_out_is_refused)
{
    ZIP({"a", 0120777, "../../x", 0});
    refused(UNZIP_UNSAFE);
    ZIP({"d/l", 0120777, "../../x", 0});
    refused(UNZIP_UNSAFE);
    ZIP({"d/e/l", 0120777, "../f/../../..", 0});
    refused(UNZIP_UNSAFE);
    finish();
}

Test(unzip, link_leaving_through_another_link_is_refused)
{
    /* Each looks inside on its own; followed, e is the tree's parent. */
    ZIP({"x/y/l", 0120777, "../..", 0}, {"e", 0120777, "x/y/l/..", 0});
    refused(UNZIP_UNSAFE);
    /* The same with the links in the other order. */
    ZIP({"e", 0120777, "x/y/l/..", 0}, {"x/y/l", 0120777, "../..", 0});
    refused(UNZIP_UNSAFE);
    finish();
}

Test(unzip, writing_through_a_link_is_refused)
{
    ZIP({"sub/", 040755, NULL, 0}, {"d", 0120777, "sub", 0}, {"d/evil", 0100644, "x", 0});
    refused(UNZIP_UNSAFE);
    ZIP({"d", 0120777, "sub", 0}, {"d/", 040755, NULL, 0});
    refused(UNZIP_UNSAFE);
    finish();
}

Test(unzip, special_file_types_never_become_special_files)
{
    static const unsigned types[] = {010644, 020644, 060644, 0140644};
    struct unzip_result res;

    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        struct ld_err err;
        int tree;

        ZIP({"special", 0100644, "", 0});
        patch_cd(0, 38, 4, types[i] << 16);
        /* libarchive's zip reader reads these as plain files; refusing
         * them would do as well, creating one would not. */
        if (run(NULL, &res, &err) < 0) {
            cr_assert_eq(res.reason, UNZIP_UNSAFE, "%s", err.msg);
            assert_nothing_left();
            continue;
        }
        tree = openat(parent, res.name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_file(tree, "special", "", 0644);
        close(tree);
        cr_assert_eq(unzip_remove_tree(parent, res.name, &err), 0, "%s", err.msg);
    }
    finish();
}

Test(unzip, file_and_directory_of_one_name_are_refused)
{
    ZIP({"a", 0100644, "file", 0}, {"a/b", 0100644, "under a file", 0});
    refused(UNZIP_CORRUPT);
    ZIP({"a/", 040755, NULL, 0}, {"a", 0100644, "over a dir", 0});
    refused(UNZIP_CORRUPT);
    finish();
}

Test(unzip, names_over_the_limits_are_refused)
{
    struct unzip_limits lim = UNZIP_LIMITS_DEFAULT;
    char longname[300];

    memset(longname, 'n', 256);
    longname[256] = '\0';
    ZIP({longname, 0100644, "x", 0});
    refused(UNZIP_UNSAFE);

    lim.max_path = 20;
    ZIP({"0123456789/0123456789", 0100644, "x", 0});
    refused_with(&lim, UNZIP_UNSAFE);
    ZIP({"ok", 0120777, "0123456789/0123456789", 0});
    refused_with(&lim, UNZIP_UNSAFE);

    lim = UNZIP_LIMITS_DEFAULT;
    lim.max_depth = 3;
    ZIP({"a/b/c/d", 0100644, "x", 0});
    refused_with(&lim, UNZIP_UNSAFE);
    finish();
}

/* ---- size, count and bombs ---------------------------------------------- */

Test(unzip, bomb_with_honest_sizes_is_refused_before_writing)
{
    struct timespec t0, t1;
    struct unzip_result res;
    struct ld_err err;
    struct stat st;

    /* 300 MiB of zeros, streamed into the zip at level 1 to keep it fast. */
    write_zip_opts(&(struct ent){"zeros", 0100644, NULL, 300LL << 20}, 1,
                   "zip:compression-level=1");
    cr_assert_eq(stat(zip_path, &st), 0);
    cr_assert_lt(st.st_size, 2 << 20);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    cr_assert_lt(run(NULL, &res, &err), 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    cr_assert_eq(res.reason, UNZIP_TOO_BIG, "%s", err.msg);
    cr_assert_eq(res.bytes, 0, "wrote %llu bytes", (unsigned long long) res.bytes);
    cr_assert_lt(t1.tv_sec - t0.tv_sec, 2);
    assert_nothing_left();
    finish();
}

/* 64 MiB of zeros at the best ratio, claiming 1000 bytes. */
static void write_lying_bomb(void)
{
    write_zip_opts(&(struct ent){"zeros", 0100644, NULL, 64LL << 20}, 1,
                   "zip:compression-level=9");
    patch_cd(0, 24, 4, 1000);
}

Test(unzip, bomb_lying_about_its_size_is_stopped_by_the_ratio)
{
    struct unzip_result res;
    struct ld_err err;

    write_lying_bomb();
    cr_assert_lt(run(NULL, &res, &err), 0);
    cr_assert_eq(res.reason, UNZIP_BOMB, "%s: %s", unzip_reason_name(res.reason), err.msg);
    cr_assert_leq(res.bytes, UNZIP_RATIO_GRACE + (1 << 20), "%llu",
                  (unsigned long long) res.bytes);
    assert_nothing_left();
    finish();
}

Test(unzip, bomb_lying_about_its_size_is_stopped_by_counted_bytes)
{
    struct unzip_limits lim = UNZIP_LIMITS_DEFAULT;
    struct unzip_result res;
    struct ld_err err;

    lim.max_ratio = 0;
    lim.max_bytes = 4 << 20;
    write_lying_bomb();
    cr_assert_lt(run(&lim, &res, &err), 0);
    cr_assert_eq(res.reason, UNZIP_TOO_BIG, "%s: %s", unzip_reason_name(res.reason), err.msg);
    cr_assert_leq(res.bytes, lim.max_bytes);
    assert_nothing_left();
    finish();
}

Test(unzip, total_size_counts_every_file)
{
    struct unzip_limits lim = UNZIP_LIMITS_DEFAULT;
    struct unzip_result res;
    char kb[401];
    int tree;

    memset(kb, 'k', 400);
    kb[400] = '\0';
    ZIP({"a", 0100644, kb, 0}, {"b", 0100644, kb, 0}, {"c", 0100644, kb, 0});
    lim.max_bytes = 1199;
    refused_with(&lim, UNZIP_TOO_BIG);
    lim.max_bytes = 1200;
    tree = accepted_with(&lim, &res);
    cr_assert_eq(res.bytes, 1200);
    close(tree);
    finish();
}

Test(unzip, entry_count_is_limited)
{
    struct unzip_limits lim = UNZIP_LIMITS_DEFAULT;
    struct unzip_result res;
    int tree;

    lim.max_entries = 10;
    ZIP({"1", 0100644, "", 0}, {"2", 0100644, "", 0}, {"3", 0100644, "", 0},
        {"4", 0100644, "", 0}, {"5", 0100644, "", 0}, {"d/", 040755, NULL, 0},
        {"7", 0100644, "", 0}, {"8", 0100644, "", 0}, {"9", 0100644, "", 0},
        {"10", 0120777, "1", 0}, {"11", 0100644, "", 0});
    refused_with(&lim, UNZIP_TOO_MANY);
    lim.max_entries = 11;
    tree = accepted_with(&lim, &res);
    cr_assert_eq(res.entries, 11);
    close(tree);
    finish();
}

/* ---- not zips ----------------------------------------------------------- */

Test(unzip, random_bytes_are_not_a_zip)
{
    unsigned char junk[4096];

    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (unsigned char) (i * 2654435761u >> 13);
    spill(zip_path, junk, sizeof junk);
    refused(UNZIP_NOT_ZIP);
    finish();
}

Test(unzip, empty_file_is_not_a_zip)
{
    spill(zip_path, "", 0);
    refused(UNZIP_NOT_ZIP);
    finish();
}

Test(unzip, tar_is_not_a_zip)
{
    struct archive *a = archive_write_new();
    struct archive_entry *ae = archive_entry_new();

    archive_write_set_format_pax_restricted(a);
    cr_assert_eq(archive_write_open_filename(a, zip_path), ARCHIVE_OK);
    archive_entry_set_pathname(ae, "bootstrap");
    archive_entry_set_mode(ae, 0100755);
    archive_entry_set_size(ae, 2);
    cr_assert_eq(archive_write_header(a, ae), ARCHIVE_OK);
    cr_assert_eq(archive_write_data(a, "hi", 2), 2);
    archive_entry_free(ae);
    archive_write_close(a);
    archive_write_free(a);
    refused(UNZIP_NOT_ZIP);
    finish();
}

Test(unzip, truncated_zip_is_refused)
{
    char text[5000];
    unsigned char *z;
    size_t len;

    fill_text(text, sizeof text);
    text[sizeof text - 1] = '\0';
    ZIP({"a.txt", 0100644, text, 0}, {"b.txt", 0100644, text, 0});
    z = slurp(zip_path, &len);
    spill(zip_path, z, len / 2);
    refused(UNZIP_NOT_ZIP);
    spill(zip_path, z, len - 10); /* the end of central directory cut */
    refused(UNZIP_NOT_ZIP);
    free(z);
    finish();
}

Test(unzip, corrupt_data_is_refused)
{
    char text[5000];
    unsigned char *z;
    size_t len;

    fill_text(text, sizeof text);
    text[sizeof text - 1] = '\0';
    ZIP({"a.txt", 0100644, text, 0});
    z = slurp(zip_path, &len);
    cr_assert_gt(len, 3000);
    for (size_t i = 1000; i < 1040; i++) /* in the deflate stream */
        z[i] ^= 0x5a;
    spill(zip_path, z, len);
    free(z);
    refused(UNZIP_CORRUPT);
    finish();
}

Test(unzip, encrypted_zip_is_refused)
{
    struct archive *a = archive_write_new();
    struct archive_entry *ae = archive_entry_new();

    cr_assert_eq(archive_write_set_format_zip(a), ARCHIVE_OK);
    cr_assert_eq(archive_write_set_options(a, "zip:encryption=zipcrypt"), ARCHIVE_OK);
    cr_assert_eq(archive_write_set_passphrase(a, "secret"), ARCHIVE_OK);
    cr_assert_eq(archive_write_open_filename(a, zip_path), ARCHIVE_OK);
    archive_entry_set_pathname(ae, "handler.py");
    archive_entry_set_mode(ae, 0100644);
    archive_entry_set_size(ae, 5);
    cr_assert_eq(archive_write_header(a, ae), ARCHIVE_OK, "%s", archive_error_string(a));
    cr_assert_eq(archive_write_data(a, "x = 1", 5), 5);
    archive_entry_free(ae);
    cr_assert_eq(archive_write_close(a), ARCHIVE_OK);
    archive_write_free(a);
    refused(UNZIP_CORRUPT);
    finish();
}

Test(unzip, missing_zip_file_is_our_error)
{
    struct unzip_result res;
    struct ld_err err;

    cr_assert_eq(run(NULL, &res, &err), -ENOENT);
    cr_assert_eq(res.reason, UNZIP_IO);
    assert_nothing_left();
    finish();
}

Test(unzip, parent_that_is_not_a_directory_is_our_error)
{
    struct unzip_result res;
    struct ld_err err;
    int fd;

    ZIP({"a", 0100644, "a", 0});
    fd = open(zip_path, O_RDONLY | O_CLOEXEC);
    cr_assert_lt(unzip_file(zip_path, fd, "t-", NULL, &res, &err), 0);
    cr_assert_eq(res.reason, UNZIP_IO, "%s", err.msg);
    cr_assert_lt(unzip_file(zip_path, parent, "bad/prefix", NULL, &res, &err), 0);
    cr_assert_eq(res.reason, UNZIP_IO, "%s", err.msg);
    close(fd);
    assert_nothing_left();
    finish();
}

/* ---- messages and removal ----------------------------------------------- */

Test(unzip, aws_messages)
{
    char msg[160];

    cr_assert_eq(unzip_aws_message(UNZIP_TOO_BIG, 262144000, msg, sizeof msg), 400);
    cr_assert_str_eq(msg, "Unzipped size must be smaller than 262144000 bytes");
    cr_assert_eq(unzip_aws_message(UNZIP_UNSAFE, 262144000, msg, sizeof msg), 400);
    cr_assert_str_eq(msg, "Could not unzip uploaded file. Please check your file, then try to "
                          "upload again.");
    cr_assert_eq(unzip_aws_message(UNZIP_NOT_ZIP, 0, msg, sizeof msg), 400);
    cr_assert_eq(unzip_aws_message(UNZIP_BOMB, 0, msg, sizeof msg), 400);
    cr_assert_eq(unzip_aws_message(UNZIP_TOO_MANY, 0, msg, sizeof msg), 400);
    cr_assert_eq(unzip_aws_message(UNZIP_CORRUPT, 0, msg, sizeof msg), 400);
    cr_assert_eq(unzip_aws_message(UNZIP_IO, 0, msg, sizeof msg), 500);
    cr_assert_str_eq(unzip_reason_name(UNZIP_BOMB), "bomb");
    finish();
}

/* parent/t/{ro/{f,sub/g}, locked/h, out -> <base>/outside}, with
 * <base>/outside/keep that removal must not touch. */
static void make_hostile_tree(uid_t owner)
{
    char path[160];

    cr_assert_eq(mkdirat(parent, "t", 0755), 0);
    cr_assert_eq(mkdirat(parent, "t/ro", 0755), 0);
    cr_assert_eq(mkdirat(parent, "t/ro/sub", 0755), 0);
    cr_assert_eq(mkdirat(parent, "t/locked", 0755), 0);
    snprintf(path, sizeof path, "%s/parent/t/ro/f", base);
    spill(path, "f", 1);
    snprintf(path, sizeof path, "%s/parent/t/ro/sub/g", base);
    spill(path, "g", 1);
    snprintf(path, sizeof path, "%s/parent/t/locked/h", base);
    spill(path, "h", 1);
    snprintf(path, sizeof path, "%s/outside", base);
    cr_assert_eq(mkdir(path, 0755), 0);
    snprintf(path, sizeof path, "%s/outside/keep", base);
    spill(path, "keep", 4);
    snprintf(path, sizeof path, "%s/outside", base);
    cr_assert_eq(symlinkat(path, parent, "t/out"), 0);
    cr_assert_eq(fchownat(parent, "t", owner, owner, 0), 0);
    cr_assert_eq(fchownat(parent, "t/ro", owner, owner, 0), 0);
    cr_assert_eq(fchownat(parent, "t/ro/sub", owner, owner, 0), 0);
    cr_assert_eq(fchownat(parent, "t/locked", owner, owner, 0), 0);
    cr_assert_eq(fchmodat(parent, "t/ro/f", 0444, 0), 0);
    cr_assert_eq(fchmodat(parent, "t/ro/sub", 0555, 0), 0);
    cr_assert_eq(fchmodat(parent, "t/ro", 0555, 0), 0);
    cr_assert_eq(fchmodat(parent, "t/locked", 0, 0), 0);
}

static void assert_tree_gone_outside_kept(void)
{
    char path[160];

    cr_assert_eq(faccessat(parent, "t", F_OK, AT_SYMLINK_NOFOLLOW), -1);
    snprintf(path, sizeof path, "%s/outside/keep", base);
    cr_assert_eq(access(path, F_OK), 0, "removal followed the link out");
}

Test(unzip, remove_tree_as_root)
{
    struct ld_err err;

    make_hostile_tree(0);
    cr_assert_eq(unzip_remove_tree(parent, "t", &err), 0, "%s", err.msg);
    assert_tree_gone_outside_kept();
    cr_assert_eq(unzip_remove_tree(parent, "t", &err), 0, "missing is fine");
    finish();
}

Test(unzip, remove_tree_as_its_unprivileged_owner)
{
    int status;
    pid_t pid;

    make_hostile_tree(65534);
    cr_assert_eq(fchown(parent, 65534, 65534), 0); /* to unlink t itself */
    pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        struct ld_err err;

        if (setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0)
            _exit(2);
        _exit(unzip_remove_tree(parent, "t", &err) == 0 ? 0 : 1);
    }
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d", status);
    assert_tree_gone_outside_kept();
    finish();
}
