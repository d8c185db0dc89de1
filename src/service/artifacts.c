/* service/artifacts.c: the content-addressed code store (see artifacts.h).
 *
 * Each operation on a digest holds it in a small in-process "busy" set, so
 * a second unpack of the same digest waits and then finds the tree made,
 * and GC never removes what another thread is storing or unpacking.
 * Across processes only the renames protect us: a tree is renamed into place
 * with RENAME_NOREPLACE, and whoever loses drops its copy.
 *
 * Durability order for a tree: unpack into code/.tmp-*, write <hex>.size,
 * syncfs() (one flush instead of an fsync per file of a 20,000-file tree),
 * rename the tree into place, fsync code/. The rename is the commit: a tree
 * under its final name is complete after a crash. */
#include "service/artifacts.h"

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/base64.h"

#define TMP_PREFIX ".tmp-"
#define TREE_DEPTH_MAX 256

struct busy {
    char hex[ARTIFACTS_HEX_LEN + 1];
    struct busy *next;
};

struct artifacts {
    char *root; /* owned */
    int root_dfd;
    int zips_dfd;
    int code_dfd;
    pthread_mutex_t lock;
    pthread_cond_t idle;  /* a digest left the busy set */
    struct busy *busy;    /* under lock; nodes live on their holders' stacks */
};

bool artifacts_hex_valid(const char *hex)
{
    size_t i;

    for (i = 0; i < ARTIFACTS_HEX_LEN; i++)
        if (!((hex[i] >= '0' && hex[i] <= '9') || (hex[i] >= 'a' && hex[i] <= 'f')))
            return false;
    return hex[i] == '\0';
}

static bool busy_has(const struct artifacts *s, const char *hex)
{
    const struct busy *b;

    for (b = s->busy; b; b = b->next)
        if (strcmp(b->hex, hex) == 0)
            return true;
    return false;
}

static void busy_acquire(struct artifacts *s, struct busy *b, const char *hex)
{
    memcpy(b->hex, hex, sizeof b->hex);
    pthread_mutex_lock(&s->lock);
    while (busy_has(s, hex))
        pthread_cond_wait(&s->idle, &s->lock);
    b->next = s->busy;
    s->busy = b;
    pthread_mutex_unlock(&s->lock);
}

static void busy_release(struct artifacts *s, struct busy *b)
{
    struct busy **p;

    pthread_mutex_lock(&s->lock);
    for (p = &s->busy; *p; p = &(*p)->next)
        if (*p == b) {
            *p = b->next;
            break;
        }
    pthread_cond_broadcast(&s->idle);
    pthread_mutex_unlock(&s->lock);
}

/* A fresh .tmp- name. Not ld_random_hex(): its pool is not locked, and
 * this runs on several worker threads at once. */
static void tmp_name(char *out, size_t size)
{
    uint64_t r = 0;

    if (getrandom(&r, sizeof r, GRND_NONBLOCK) != (ssize_t) sizeof r)
        r = (uint64_t) time(NULL) ^ (uint64_t) (uintptr_t) &r; /* O_EXCL retries */
    snprintf(out, size, "%s%016" PRIx64, TMP_PREFIX, r);
}

/* Writes data to dfd/final through a .tmp- name: fsync, rename, fsync dir. */
static int write_atomic(int dfd, const char *final, const void *data, size_t len, mode_t mode,
                        struct ld_err *err)
{
    char tmp[sizeof TMP_PREFIX + 16];
    const char *p = data;
    int fd = -1, tries, rc = 0;

    for (tries = 0; tries < 10 && fd < 0; tries++) {
        tmp_name(tmp, sizeof tmp);
        fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
        if (fd < 0 && errno != EEXIST)
            break;
    }
    if (fd < 0)
        return ld_err_set(err, errno, "create %s", tmp);
    while (len > 0) {
        ssize_t w = write(fd, p, len);

        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            rc = ld_err_set(err, errno, "write %s", tmp);
            break;
        }
        p += w;
        len -= (size_t) w;
    }
    if (rc == 0 && fchmod(fd, mode) < 0) /* the umask had its say at create */
        rc = ld_err_set(err, errno, "chmod %s", tmp);
    if (rc == 0 && fsync(fd) < 0)
        rc = ld_err_set(err, errno, "fsync %s", tmp);
    if (close(fd) < 0 && rc == 0)
        rc = ld_err_set(err, errno, "close %s", tmp);
    if (rc == 0 && renameat(dfd, tmp, dfd, final) < 0)
        rc = ld_err_set(err, errno, "rename %s to %s", tmp, final);
    if (rc < 0) {
        unlinkat(dfd, tmp, 0);
        return rc;
    }
    if (fsync(dfd) < 0)
        return ld_err_set(err, errno, "fsync dir of %s", final);
    return 0;
}

/* Opens (creating with mode 0755) directory `name` under dfd. */
static int open_subdir(int dfd, const char *name, struct ld_err *err)
{
    int fd;

    if (mkdirat(dfd, name, 0755) < 0 && errno != EEXIST)
        return ld_err_set(err, errno, "mkdir %s", name);
    fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return ld_err_set(err, errno, "open %s", name);
    /* Explicit, not via the umask: the sandbox user reads what is below. */
    if (fchmod(fd, 0755) < 0) {
        int e = errno;

        close(fd);
        return ld_err_set(err, e, "chmod %s", name);
    }
    return fd;
}

/* A new open file description on dfd for readdir(): a dup() would share
 * the read position with dfd and with any other thread scanning it. */
static int open_for_scan(int dfd)
{
    return openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/* Removes the .tmp- leftovers of a crash from one directory. */
static int remove_leftovers(int dfd, const char *what, struct ld_err *err)
{
    int fd = open_for_scan(dfd);
    struct dirent *de;
    DIR *d;
    int rc = 0;

    if (fd < 0)
        return ld_err_set(err, errno, "scan %s", what);
    d = fdopendir(fd);
    if (!d) {
        close(fd);
        return ld_err_set(err, errno, "scan %s", what);
    }
    while ((de = readdir(d)))
        if (strncmp(de->d_name, TMP_PREFIX, strlen(TMP_PREFIX)) == 0) {
            int r = unzip_remove_tree(dfd, de->d_name, err);

            if (r < 0 && rc == 0)
                rc = ld_err_prefix(err, "%s", what);
        }
    closedir(d);
    return rc;
}

int artifacts_open(const char *root, struct artifacts **out, struct ld_err *err)
{
    struct artifacts *s;
    bool made;

    /* <root>/code/<hex> must fit artifacts_tree.path. */
    if (strlen(root) + sizeof "/code/" + ARTIFACTS_HEX_LEN > PATH_MAX)
        return ld_err_set(err, ENAMETOOLONG, "artifacts %s", root);
    s = calloc(1, sizeof *s);
    if (!s)
        return ld_err_set(err, ENOMEM, "artifacts %s", root);
    s->root_dfd = s->zips_dfd = s->code_dfd = -1;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->idle, NULL);
    s->root = strdup(root);
    if (!s->root) {
        artifacts_close(s);
        return ld_err_set(err, ENOMEM, "artifacts %s", root);
    }
    made = mkdir(root, 0755) == 0;
    if (!made && errno != EEXIST) {
        ld_err_set(err, errno, "mkdir");
        goto fail;
    }
    s->root_dfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (s->root_dfd < 0) {
        ld_err_set(err, errno, "open");
        goto fail;
    }
    if (made && fchmod(s->root_dfd, 0755) < 0) {
        ld_err_set(err, errno, "chmod");
        goto fail;
    }
    if ((s->zips_dfd = open_subdir(s->root_dfd, "zips", err)) < 0
        || (s->code_dfd = open_subdir(s->root_dfd, "code", err)) < 0)
        goto fail;
    if (remove_leftovers(s->zips_dfd, "zips", err) < 0
        || remove_leftovers(s->code_dfd, "code", err) < 0)
        goto fail;
    *out = s;
    return 0;
fail:
    artifacts_close(s);
    return ld_err_prefix(err, "artifacts %s", root);
}

void artifacts_close(struct artifacts *s)
{
    if (!s)
        return;
    if (s->code_dfd >= 0)
        close(s->code_dfd);
    if (s->zips_dfd >= 0)
        close(s->zips_dfd);
    if (s->root_dfd >= 0)
        close(s->root_dfd);
    pthread_cond_destroy(&s->idle);
    pthread_mutex_destroy(&s->lock);
    free(s->root);
    free(s);
}

static int digest(const void *zip, size_t len, struct artifacts_digest *out, struct ld_err *err)
{
    static const char hexdig[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    size_t i;

    if (!EVP_Digest(zip, len, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32)
        return ld_err_set(err, EIO, "sha256");
    for (i = 0; i < mdlen; i++) {
        out->hex[2 * i] = hexdig[md[i] >> 4];
        out->hex[2 * i + 1] = hexdig[md[i] & 15];
    }
    out->hex[ARTIFACTS_HEX_LEN] = '\0';
    ld_base64_encode(md, mdlen, out->sha256_b64);
    out->size = len;
    return 0;
}

int artifacts_put_zip(struct artifacts *s, const void *zip, size_t len,
                      struct artifacts_digest *out, struct ld_err *err)
{
    char name[ARTIFACTS_HEX_LEN + sizeof ".zip"];
    struct busy b;
    struct stat st;
    int rc;

    if (digest(zip, len, out, err) < 0)
        return ld_err_prefix(err, "store zip");
    snprintf(name, sizeof name, "%s.zip", out->hex);
    busy_acquire(s, &b, out->hex);
    /* Same digest, same size: the same bytes. Mark it used for GC. */
    if (fstatat(s->zips_dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode)
        && (uint64_t) st.st_size == len)
        rc = utimensat(s->zips_dfd, name, NULL, AT_SYMLINK_NOFOLLOW) < 0
                 ? ld_err_set(err, errno, "touch")
                 : 0;
    else
        rc = write_atomic(s->zips_dfd, name, zip, len, 0600, err);
    busy_release(s, &b);
    if (rc < 0)
        return ld_err_prefix(err, "store zip %.12s", out->hex);
    return 0;
}

int artifacts_open_zip(struct artifacts *s, const char *hex, struct ld_err *err)
{
    char name[ARTIFACTS_HEX_LEN + sizeof ".zip"];
    int fd;

    if (!artifacts_hex_valid(hex))
        return ld_err_set(err, EINVAL, "open zip: bad digest");
    snprintf(name, sizeof name, "%s.zip", hex);
    fd = openat(s->zips_dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return ld_err_set(err, errno, "open zip %.12s", hex);
    return fd;
}

/* Sums file sizes and link lengths below dfd/name, as unzip counted them. */
static int tree_bytes(int dfd, const char *name, unsigned depth, uint64_t *sum,
                      struct ld_err *err)
{
    struct dirent *de;
    DIR *d;
    int fd, rc = 0;

    if (depth > TREE_DEPTH_MAX)
        return ld_err_set(err, ELOOP, "size of %s", name);
    fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return ld_err_set(err, errno, "size of %s", name);
    d = fdopendir(fd);
    if (!d) {
        close(fd);
        return ld_err_set(err, errno, "size of %s", name);
    }
    while (rc == 0 && (de = readdir(d))) {
        struct stat st;

        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            rc = ld_err_set(err, errno, "size of %s/%s", name, de->d_name);
        else if (S_ISDIR(st.st_mode))
            rc = tree_bytes(dirfd(d), de->d_name, depth + 1, sum, err);
        else if (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode))
            *sum += (uint64_t) st.st_size;
    }
    closedir(d);
    return rc;
}

static int write_size(struct artifacts *s, const char *hex, uint64_t bytes, struct ld_err *err)
{
    char name[ARTIFACTS_HEX_LEN + sizeof ".size"];
    char text[32];
    int n = snprintf(text, sizeof text, "%" PRIu64 "\n", bytes);

    snprintf(name, sizeof name, "%s.size", hex);
    return write_atomic(s->code_dfd, name, text, (size_t) n, 0644, err);
}

/* The tree exists: report it, and mark it used for GC. */
static int reuse_tree(struct artifacts *s, const char *hex, struct artifacts_tree *out,
                      struct ld_err *err)
{
    char name[ARTIFACTS_HEX_LEN + sizeof ".size"];
    char text[32];
    char *end = NULL;
    ssize_t n = -1;
    int fd, rc;

    snprintf(name, sizeof name, "%s.size", hex);
    fd = openat(s->code_dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0) {
        n = read(fd, text, sizeof text - 1);
        close(fd);
    }
    if (n > 0) {
        text[n] = '\0';
        out->bytes = strtoull(text, &end, 10);
    }
    if (!end || *end != '\n') {
        /* Lost or damaged: the tree itself knows. */
        out->bytes = 0;
        if ((rc = tree_bytes(s->code_dfd, hex, 0, &out->bytes, err)) < 0
            || (rc = write_size(s, hex, out->bytes, err)) < 0)
            return rc;
    }
    if (utimensat(s->code_dfd, hex, NULL, AT_SYMLINK_NOFOLLOW) < 0)
        return ld_err_set(err, errno, "touch");
    return 0;
}

static int make_tree(struct artifacts *s, const char *hex, const struct unzip_limits *lim,
                     struct artifacts_tree *out, struct ld_err *err)
{
    char zip[ARTIFACTS_HEX_LEN + sizeof ".zip"];
    struct unzip_result res;
    struct ld_err ignored;
    LD_AUTOCLOSE int zfd = -1;
    int rc;

    snprintf(zip, sizeof zip, "%s.zip", hex);
    zfd = openat(s->zips_dfd, zip, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (zfd < 0) {
        out->reason = UNZIP_IO;
        return ld_err_set(err, errno, "open zip");
    }
    if ((rc = unzip_fd(zfd, s->code_dfd, TMP_PREFIX, lim, &res, err)) < 0) {
        out->reason = res.reason;
        return rc;
    }
    out->bytes = res.bytes;
    if ((rc = write_size(s, hex, res.bytes, err)) < 0)
        goto drop;
    if (syncfs(s->code_dfd) < 0) {
        rc = ld_err_set(err, errno, "syncfs");
        goto drop;
    }
    rc = renameat2(s->code_dfd, res.name, s->code_dfd, hex, RENAME_NOREPLACE);
    if (rc < 0 && errno == EINVAL) /* a filesystem without NOREPLACE */
        rc = renameat(s->code_dfd, res.name, s->code_dfd, hex);
    if (rc < 0 && (errno == EEXIST || errno == ENOTEMPTY)) {
        /* Another process made it first; the content is the same. */
        (void) unzip_remove_tree(s->code_dfd, res.name, &ignored);
        return reuse_tree(s, hex, out, err);
    }
    if (rc < 0) {
        rc = ld_err_set(err, errno, "rename %s", res.name);
        goto drop;
    }
    if (fsync(s->code_dfd) < 0)
        return ld_err_set(err, errno, "fsync code");
    return 0;
drop:
    out->reason = UNZIP_IO;
    (void) unzip_remove_tree(s->code_dfd, res.name, &ignored);
    return rc;
}

int artifacts_unpack(struct artifacts *s, const char *hex, const struct unzip_limits *lim,
                     struct artifacts_tree *out, struct ld_err *err)
{
    struct busy b;
    struct stat st;
    int rc;

    memset(out, 0, sizeof *out);
    if (!artifacts_hex_valid(hex)) {
        out->reason = UNZIP_IO;
        return ld_err_set(err, EINVAL, "unpack: bad digest");
    }
    busy_acquire(s, &b, hex);
    if (fstatat(s->code_dfd, hex, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode))
        rc = reuse_tree(s, hex, out, err);
    else
        rc = make_tree(s, hex, lim, out, err);
    busy_release(s, &b);
    if (rc < 0) {
        if (out->reason == UNZIP_OK)
            out->reason = UNZIP_IO;
        return ld_err_prefix(err, "unpack %.12s", hex);
    }
    snprintf(out->path, sizeof out->path, "%s/code/%s", s->root, hex);
    return 0;
}

/* ---- GC ------------------------------------------------------------------ */

struct gc {
    struct artifacts *s;
    const char **live; /* sorted */
    size_t nlive;
    struct timespec cutoff; /* used before this: old enough to go */
    struct artifacts_gc_stats stats;
    struct ld_err *err;
    int rc; /* the first failure */
};

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *) a, *(const char *const *) b);
}

static bool is_live(const struct gc *g, const char *hex)
{
    return bsearch(&hex, g->live, g->nlive, sizeof *g->live, cmp_str) != NULL;
}

static bool is_old(const struct gc *g, const struct stat *st)
{
    return st->st_mtim.tv_sec < g->cutoff.tv_sec
           || (st->st_mtim.tv_sec == g->cutoff.tv_sec && st->st_mtim.tv_nsec < g->cutoff.tv_nsec);
}

static void gc_fail(struct gc *g, int rc)
{
    if (g->rc == 0)
        g->rc = rc;
}

/* zips/<hex>.zip, with the digest held. */
static void gc_zip(struct gc *g, const char *hex, const char *name)
{
    struct stat st;

    if (fstatat(g->s->zips_dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return; /* gone meanwhile */
    if (!is_old(g, &st)) {
        g->stats.kept_young++;
        return;
    }
    if (unlinkat(g->s->zips_dfd, name, 0) < 0 && errno != ENOENT) {
        gc_fail(g, ld_err_set(g->err, errno, "remove zip %.12s", hex));
        return;
    }
    g->stats.zips_removed++;
}

/* code/<hex> and code/<hex>.size, with the digest held; reached from
 * either name, so from the size file only when it has no tree. */
static void gc_tree(struct gc *g, const char *hex, bool from_size)
{
    char size_name[ARTIFACTS_HEX_LEN + sizeof ".size"];
    struct stat st;

    snprintf(size_name, sizeof size_name, "%s.size", hex);
    if (fstatat(g->s->code_dfd, hex, &st, AT_SYMLINK_NOFOLLOW) == 0) {
        if (from_size)
            return;
        if (!is_old(g, &st)) {
            g->stats.kept_young++;
            return;
        }
        if (unzip_remove_tree(g->s->code_dfd, hex, g->err) < 0) {
            gc_fail(g, ld_err_prefix(g->err, "remove tree %.12s", hex));
            return;
        }
        g->stats.trees_removed++;
    }
    /* The size goes after its tree: a tree without one is recounted, the
     * reverse would be an orphan until the next GC. */
    if (unlinkat(g->s->code_dfd, size_name, 0) < 0 && errno != ENOENT)
        gc_fail(g, ld_err_set(g->err, errno, "remove %s", size_name));
}

/* Visits <hex><suffix> names in dfd; anything else (.tmp-, strangers) stays. */
static void gc_scan(struct gc *g, int dfd, bool zips)
{
    int fd = open_for_scan(dfd);
    struct dirent *de;
    DIR *d;

    if (fd < 0 || !(d = fdopendir(fd))) {
        gc_fail(g, ld_err_set(g->err, errno, "scan %s", zips ? "zips" : "code"));
        if (fd >= 0)
            close(fd);
        return;
    }
    while ((de = readdir(d))) {
        char hex[ARTIFACTS_HEX_LEN + 1];
        const char *suffix = de->d_name + ARTIFACTS_HEX_LEN;
        struct busy b;

        if (strlen(de->d_name) < ARTIFACTS_HEX_LEN)
            continue;
        memcpy(hex, de->d_name, ARTIFACTS_HEX_LEN);
        hex[ARTIFACTS_HEX_LEN] = '\0';
        if (!artifacts_hex_valid(hex) || is_live(g, hex))
            continue;
        if (zips ? strcmp(suffix, ".zip") != 0
                 : strcmp(suffix, "") != 0 && strcmp(suffix, ".size") != 0)
            continue;
        busy_acquire(g->s, &b, hex);
        if (zips)
            gc_zip(g, hex, de->d_name);
        else
            gc_tree(g, hex, *suffix != '\0');
        busy_release(g->s, &b);
    }
    closedir(d);
}

int artifacts_gc(struct artifacts *s, const char *const *live, size_t nlive, time_t min_age,
                 struct artifacts_gc_stats *stats, struct ld_err *err)
{
    struct gc g = {.s = s, .err = err};

    g.live = malloc((nlive ? nlive : 1) * sizeof *g.live);
    if (!g.live)
        return ld_err_set(err, ENOMEM, "gc");
    for (size_t i = 0; i < nlive; i++)
        if (live[i] && artifacts_hex_valid(live[i]))
            g.live[g.nlive++] = live[i];
    qsort(g.live, g.nlive, sizeof *g.live, cmp_str);
    clock_gettime(CLOCK_REALTIME, &g.cutoff);
    g.cutoff.tv_sec -= min_age;
    gc_scan(&g, s->zips_dfd, true);
    gc_scan(&g, s->code_dfd, false);
    free(g.live);
    if (stats)
        *stats = g.stats;
    return g.rc < 0 ? ld_err_prefix(err, "gc") : 0;
}
