/* service/unzip.c: secure extraction of one zip (see unzip.h).
 *
 * libarchive reads and decompresses; we write. archive_write_disk() resolves
 * names against the process's current directory, and the
 * ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS flag forbids the absolute names that
 * would avoid it, so using it means chdir(): process-wide, and wrong in a
 * service that unpacks on several worker threads at once. Writing through
 * directory fds ourselves keeps the policy those flags express
 * (SECURE_NODOTDOT, SECURE_SYMLINKS, SECURE_NOABSOLUTEPATHS) and makes it
 * stricter, failing the whole zip where the flags fail one entry:
 *  - names are relative and have no ".." component; every directory on the
 *    way is one we created, opened with O_NOFOLLOW, so nothing is ever
 *    written through a link, and nothing exists before we create it;
 *  - a link's target is relative and stays inside the tree: checked lexically
 *    when the entry is read, and again at the end by following the links
 *    actually created, because one link can shorten the path another climbs
 *    ("x/y/l -> ../.." makes "e -> x/y/l/.." leave the tree);
 *  - only files, directories and links; no hard links, devices, fifos;
 *  - limits on bytes (counted as they are written), entries, ratio, names.
 *
 * Only the seekable zip reader is enabled: the central directory decides what
 * the zip holds, as it does for Info-ZIP and Python, and a zip cut short has
 * lost it and is refused before anything is written. */
#include "service/unzip.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"

/* The kernel gives up after this many links in one lookup (MAXSYMLINKS). */
#define LINK_HOPS_MAX 40
/* Lookups for checking all the links of one zip: thousands of links of a
 * few components need tens of thousands; 65535 links of 40 hops through
 * deep paths would take tens of millions, and seconds of a worker. */
#define LINK_STEPS_MAX 1000000
/* Deeper than any tree we make (max_depth), so GC can remove old ones too. */
#define REMOVE_DEPTH_MAX 256
#define PREFIX_MAX 16

struct unz {
    struct archive *a;
    int root; /* the new tree */
    struct unzip_limits lim;
    struct unzip_result *res;
    struct ld_err *err;
    uint64_t zip_size;
    bool as_root;             /* chown what we create to root:root */
    int dir_fd;               /* cache: the directory the last entry went into */
    char dir_name[PATH_MAX];  /* ... relative to the root */
    struct ld_buf links;      /* links created, NUL-separated names */
    unsigned long link_steps; /* fstatat() calls spent following them */
    char name[PATH_MAX];      /* the current entry, normalised */
    char shown[72];           /* the current entry as it came, printable */
};

static int refuse(struct unz *u, enum unzip_reason r, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int refuse(struct unz *u, enum unzip_reason r, int code, const char *fmt, ...)
{
    char msg[sizeof u->err->msg];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    u->res->reason = r;
    return ld_err_set(u->err, code, "%s", msg);
}

/* Names come from the uploader: keep control bytes out of our logs. */
static void printable(char *out, size_t size, const char *in)
{
    size_t i = 0;

    for (; *in && i + 4 < size; in++)
        out[i++] = (unsigned char) *in < 0x20 || *in == 0x7f ? '?' : *in;
    if (*in) {
        memcpy(out + i, "...", 3);
        i += 3;
    }
    out[i] = '\0';
}

/* Writes the canonical relative form of `raw` into u->name ("" for the root:
 * no ".", no empty component, no trailing slash). Returns its depth. */
static int clean_name(struct unz *u, const char *raw)
{
    size_t n = 0;
    int depth = 0;

    if (raw[0] == '/')
        return refuse(u, UNZIP_UNSAFE, EPERM, "entry \"%s\": absolute name", u->shown);
    while (*raw) {
        const char *s = raw;
        size_t len;

        while (*raw && *raw != '/')
            raw++;
        len = (size_t) (raw - s);
        if (*raw == '/')
            raw++;
        if (len == 0 || (len == 1 && s[0] == '.'))
            continue;
        if (len == 2 && s[0] == '.' && s[1] == '.')
            return refuse(u, UNZIP_UNSAFE, EPERM, "entry \"%s\": \"..\" in name", u->shown);
        if (len > NAME_MAX)
            return refuse(u, UNZIP_UNSAFE, ENAMETOOLONG, "entry \"%s\": component over %d bytes",
                          u->shown, NAME_MAX);
        if ((uint32_t) ++depth > u->lim.max_depth)
            return refuse(u, UNZIP_UNSAFE, ENAMETOOLONG, "entry \"%s\": deeper than %u levels",
                          u->shown, u->lim.max_depth);
        if (n + (n > 0) + len > u->lim.max_path)
            return refuse(u, UNZIP_UNSAFE, ENAMETOOLONG, "entry \"%s\": name over %u bytes",
                          u->shown, u->lim.max_path);
        if (n > 0)
            u->name[n++] = '/';
        memcpy(u->name + n, s, len);
        n += len;
    }
    u->name[n] = '\0';
    return depth;
}

/* A link living `dir_depth` levels down may climb at most that many. */
static int check_link_lexically(struct unz *u, const char *target, int dir_depth)
{
    char shown[72];
    int depth = dir_depth;
    const char *p = target;

    printable(shown, sizeof shown, target);
    if (!*target)
        return refuse(u, UNZIP_CORRUPT, EBADMSG, "link \"%s\": empty target", u->shown);
    if (strlen(target) > u->lim.max_path)
        return refuse(u, UNZIP_UNSAFE, ENAMETOOLONG, "link \"%s\": target over %u bytes",
                      u->shown, u->lim.max_path);
    if (target[0] == '/')
        return refuse(u, UNZIP_UNSAFE, EPERM, "link \"%s\" -> \"%s\": absolute target", u->shown,
                      shown);
    while (*p) {
        const char *s = p;
        size_t len;

        while (*p && *p != '/')
            p++;
        len = (size_t) (p - s);
        if (*p == '/')
            p++;
        if (len == 0 || (len == 1 && s[0] == '.'))
            continue;
        if (len == 2 && s[0] == '.' && s[1] == '.') {
            if (depth-- == 0)
                return refuse(u, UNZIP_UNSAFE, EPERM, "link \"%s\" -> \"%s\": leaves the tree",
                              u->shown, shown);
        } else {
            depth++;
        }
    }
    return 0;
}

static int own(struct unz *u, int fd, mode_t mode)
{
    /* chown first: it would clear set-id bits, and we set none anyway. */
    if (u->as_root && fchown(fd, 0, 0) < 0)
        return refuse(u, UNZIP_IO, errno, "chown \"%s\"", u->shown);
    if (fchmod(fd, mode) < 0)
        return refuse(u, UNZIP_IO, errno, "chmod \"%s\"", u->shown);
    return 0;
}

/* openat() failed with ENOTDIR or ELOOP on a component: say which. */
static int not_a_dir(struct unz *u, int dfd, const char *comp)
{
    struct stat st;

    if (fstatat(dfd, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
        return refuse(u, UNZIP_UNSAFE, EPERM, "entry \"%s\": goes through a link", u->shown);
    return refuse(u, UNZIP_CORRUPT, ENOTDIR, "entry \"%s\": a file is in the way", u->shown);
}

/* Opens directory `comp` under dfd, creating it when missing. */
static int step_into(struct unz *u, int dfd, const char *comp)
{
    int fd = openat(dfd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int rc;

    if (fd >= 0)
        return fd;
    if (errno == ENOTDIR || errno == ELOOP)
        return not_a_dir(u, dfd, comp);
    if (errno != ENOENT)
        return refuse(u, UNZIP_IO, errno, "open dir for \"%s\"", u->shown);
    if (mkdirat(dfd, comp, 0700) < 0)
        return refuse(u, UNZIP_IO, errno, "mkdir for \"%s\"", u->shown);
    fd = openat(dfd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return refuse(u, UNZIP_IO, errno, "open dir for \"%s\"", u->shown);
    if ((rc = own(u, fd, 0755)) < 0) {
        close(fd);
        return rc;
    }
    return fd;
}

/* Returns a borrowed fd on directory `rel` ("" is the root), creating what
 * is missing. Entries come grouped by directory, so the last one is cached
 * and a subdirectory of it is reached from it. */
static int open_dir(struct unz *u, const char *rel)
{
    LD_AUTOCLOSE int owned = -1;
    const char *p = rel;
    int cur = u->root;
    size_t cached = strlen(u->dir_name);

    if (!*rel)
        return u->root;
    if (u->dir_fd >= 0) {
        if (strcmp(rel, u->dir_name) == 0)
            return u->dir_fd;
        if (strncmp(rel, u->dir_name, cached) == 0 && rel[cached] == '/') {
            cur = u->dir_fd;
            p = rel + cached + 1;
        }
    }
    while (*p) {
        char comp[NAME_MAX + 1];
        const char *s = p;
        size_t len;
        int fd;

        while (*p && *p != '/')
            p++;
        len = (size_t) (p - s); /* clean_name() kept it <= NAME_MAX */
        if (*p == '/')
            p++;
        memcpy(comp, s, len);
        comp[len] = '\0';
        if ((fd = step_into(u, cur, comp)) < 0)
            return fd;
        if (owned >= 0)
            close(owned);
        owned = fd;
        cur = fd;
    }
    if (u->dir_fd >= 0)
        close(u->dir_fd);
    u->dir_fd = ld_steal_fd(&owned);
    snprintf(u->dir_name, sizeof u->dir_name, "%s", rel);
    return u->dir_fd;
}

/* A later entry of the same name replaces a file or link, as unzip -o and
 * Python's extractall do; a directory is never replaced. */
static int make_room(struct unz *u, int dfd, const char *base)
{
    struct stat st;

    if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return refuse(u, UNZIP_IO, errno, "stat \"%s\"", u->shown);
    if (S_ISDIR(st.st_mode))
        return refuse(u, UNZIP_CORRUPT, EEXIST, "entry \"%s\": a directory is in the way",
                      u->shown);
    if (unlinkat(dfd, base, 0) < 0)
        return refuse(u, UNZIP_IO, errno, "replace \"%s\"", u->shown);
    return 0;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -errno;
        p += w;
        n -= (size_t) w;
    }
    return 0;
}

/* Streams the entry's data into fd, counting every byte before writing it.
 * Blocks must follow each other: a jump would make a sparse file whose size
 * nothing counted. */
static int copy_data(struct unz *u, int fd)
{
    int64_t start = archive_filter_bytes(u->a, -1);
    uint64_t written = 0;

    for (;;) {
        const void *blk;
        size_t n;
        la_int64_t off;
        int r = archive_read_data_block(u->a, &blk, &n, &off);
        int rc;

        if (r == ARCHIVE_EOF)
            return 0;
        if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
            return refuse(u, UNZIP_CORRUPT, EBADMSG, "entry \"%s\": %s", u->shown,
                          archive_error_string(u->a));
        if (n == 0)
            continue;
        if (off < 0 || (uint64_t) off != written)
            return refuse(u, UNZIP_CORRUPT, EBADMSG, "entry \"%s\": data out of order",
                          u->shown);
        if (n > u->lim.max_bytes - u->res->bytes)
            return refuse(u, UNZIP_TOO_BIG, EFBIG, "entry \"%s\": more than %llu bytes unzipped",
                          u->shown, (unsigned long long) u->lim.max_bytes);
        if ((rc = write_all(fd, blk, n)) < 0)
            return refuse(u, UNZIP_IO, -rc, "write \"%s\"", u->shown);
        u->res->bytes += n;
        written += n;
        if (u->lim.max_ratio > 0) {
            int64_t used = archive_filter_bytes(u->a, -1) - start;

            if (used < 1)
                used = 1;
            if (written > UNZIP_RATIO_GRACE && written / u->lim.max_ratio > (uint64_t) used)
                return refuse(u, UNZIP_BOMB, EFBIG,
                              "entry \"%s\": %llu bytes out of %lld, over %llu:1", u->shown,
                              (unsigned long long) written, (long long) used,
                              (unsigned long long) u->lim.max_ratio);
            if (u->res->bytes > UNZIP_RATIO_GRACE
                && u->res->bytes / u->lim.max_ratio > u->zip_size)
                return refuse(u, UNZIP_BOMB, EFBIG, "%llu bytes out of a %llu-byte zip",
                              (unsigned long long) u->res->bytes,
                              (unsigned long long) u->zip_size);
        }
    }
}

static int extract_file(struct unz *u, struct archive_entry *e, int dfd, const char *base)
{
    LD_AUTOCLOSE int fd = -1;
    /* Zips from Windows carry no modes (libarchive reads them as 0664), so
     * only an explicit execute bit makes a file executable. */
    mode_t mode = (archive_entry_perm(e) & 0111) ? 0755 : 0644;
    int rc;

    if (archive_entry_size_is_set(e)) {
        la_int64_t size = archive_entry_size(e);

        /* A liar only hurts itself here: the real bound is counted below. */
        if (size < 0 || (uint64_t) size > u->lim.max_bytes - u->res->bytes)
            return refuse(u, UNZIP_TOO_BIG, EFBIG, "entry \"%s\": more than %llu bytes unzipped",
                          u->shown, (unsigned long long) u->lim.max_bytes);
    }
    fd = openat(dfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0 && errno == EEXIST) {
        if ((rc = make_room(u, dfd, base)) < 0)
            return rc;
        fd = openat(dfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    }
    if (fd < 0)
        return refuse(u, UNZIP_IO, errno, "create \"%s\"", u->shown);
    if ((rc = copy_data(u, fd)) < 0 || (rc = own(u, fd, mode)) < 0)
        return rc;
    if (archive_entry_mtime_is_set(e)) {
        struct timespec ts[2];

        ts[0].tv_sec = ts[1].tv_sec = archive_entry_mtime(e);
        ts[0].tv_nsec = ts[1].tv_nsec = archive_entry_mtime_nsec(e);
        /* Python compares a .pyc with its source's mtime; a failure here
         * (a date the filesystem cannot hold) costs only that. */
        (void) futimens(fd, ts);
    }
    if (close(ld_steal_fd(&fd)) < 0)
        return refuse(u, UNZIP_IO, errno, "close \"%s\"", u->shown);
    return 0;
}

static int extract_link(struct unz *u, struct archive_entry *e, int dfd, const char *base,
                        int depth)
{
    const char *target = archive_entry_symlink_utf8(e);
    int rc;

    if (!target)
        target = archive_entry_symlink(e);
    if (!target)
        return refuse(u, UNZIP_CORRUPT, EBADMSG, "link \"%s\": unreadable target", u->shown);
    if ((rc = check_link_lexically(u, target, depth - 1)) < 0)
        return rc;
    if (strlen(target) > u->lim.max_bytes - u->res->bytes)
        return refuse(u, UNZIP_TOO_BIG, EFBIG, "link \"%s\": more than %llu bytes unzipped",
                      u->shown, (unsigned long long) u->lim.max_bytes);
    u->res->bytes += strlen(target);
    if (symlinkat(target, dfd, base) < 0) {
        if (errno != EEXIST)
            return refuse(u, UNZIP_IO, errno, "symlink \"%s\"", u->shown);
        if ((rc = make_room(u, dfd, base)) < 0)
            return rc;
        if (symlinkat(target, dfd, base) < 0)
            return refuse(u, UNZIP_IO, errno, "symlink \"%s\"", u->shown);
    }
    if (u->as_root && fchownat(dfd, base, 0, 0, AT_SYMLINK_NOFOLLOW) < 0)
        return refuse(u, UNZIP_IO, errno, "chown \"%s\"", u->shown);
    if (ld_buf_append(&u->links, u->name, strlen(u->name) + 1) < 0)
        return refuse(u, UNZIP_IO, ENOMEM, "link \"%s\"", u->shown);
    return 0;
}

static int extract_entry(struct unz *u, struct archive_entry *e)
{
    const char *raw = archive_entry_pathname_utf8(e);
    char *slash;
    const char *base;
    int depth, dfd, rc;

    /* UTF-8 first: the service runs in the C locale, where converting a
     * non-ASCII name to the locale's charset fails. */
    if (!raw)
        raw = archive_entry_pathname(e);
    if (!raw)
        return refuse(u, UNZIP_CORRUPT, EBADMSG, "entry %llu: unreadable name",
                      (unsigned long long) u->res->entries);
    printable(u->shown, sizeof u->shown, raw);
    if (archive_entry_hardlink(e))
        return refuse(u, UNZIP_UNSAFE, EPERM, "entry \"%s\": hard link", u->shown);
    if ((depth = clean_name(u, raw)) < 0)
        return depth;
    if (archive_entry_filetype(e) == AE_IFDIR)
        return (rc = open_dir(u, u->name)) < 0 ? rc : 0;
    if (archive_entry_filetype(e) != AE_IFREG && archive_entry_filetype(e) != AE_IFLNK)
        return refuse(u, UNZIP_UNSAFE, EPERM, "entry \"%s\": type 0%o is not a file or link",
                      u->shown, (unsigned) archive_entry_filetype(e));
    if (depth == 0)
        return refuse(u, UNZIP_CORRUPT, EBADMSG, "entry \"%s\": no name", u->shown);
    slash = strrchr(u->name, '/');
    if (slash) {
        *slash = '\0';
        dfd = open_dir(u, u->name);
        *slash = '/';
        base = slash + 1;
    } else {
        dfd = u->root;
        base = u->name;
    }
    if (dfd < 0)
        return dfd;
    if (archive_entry_filetype(e) == AE_IFLNK)
        return extract_link(u, e, dfd, base, depth);
    return extract_file(u, e, dfd, base);
}

/* Takes the first component off *rem into comp: 1, or 0 when none is left,
 * or -1 for one longer than NAME_MAX, where the kernel's lookup would fail. */
static int next_component(const char **rem, char comp[NAME_MAX + 1])
{
    const char *p = *rem;
    const char *s;
    size_t len;

    while (*p == '/')
        p++;
    if (!*p)
        return 0;
    s = p;
    while (*p && *p != '/')
        p++;
    len = (size_t) (p - s);
    if (len > NAME_MAX)
        return -1;
    memcpy(comp, s, len);
    comp[len] = '\0';
    *rem = p;
    return 1;
}

/* Follows link `name` over the finished tree the way the kernel would: it
 * is fine if every step stays inside, or if the walk stops at a missing
 * component or a loop, where the kernel fails too. Every directory on `cur`
 * was checked to be one, so fstatat() follows nothing but what we ask. */
static int check_link_physically(struct unz *u, const char *name)
{
    char cur[PATH_MAX];
    char rem[2 * PATH_MAX];
    char target[PATH_MAX];
    char cand[PATH_MAX + NAME_MAX + 2];
    char comp[NAME_MAX + 1];
    const char *p = rem;
    const char *slash = strrchr(name, '/');
    size_t tlen, plen;
    int hops = 0;
    ssize_t n;

    printable(u->shown, sizeof u->shown, name);
    snprintf(cur, sizeof cur, "%.*s", slash ? (int) (slash - name) : 0, name);
    n = readlinkat(u->root, name, rem, sizeof rem - 1);
    if (n < 0 && errno == EINVAL)
        return 0; /* a later entry of the same name replaced the link */
    if (n < 0)
        return refuse(u, UNZIP_IO, errno, "readlink \"%s\"", u->shown);
    rem[n] = '\0';
    while (next_component(&p, comp) > 0) {
        struct stat st;

        if (strcmp(comp, ".") == 0)
            continue;
        if (strcmp(comp, "..") == 0) {
            char *up = strrchr(cur, '/');

            if (!cur[0])
                return refuse(u, UNZIP_UNSAFE, EPERM, "link \"%s\": leaves the tree", u->shown);
            *(up ? up : cur) = '\0';
            continue;
        }
        if (++u->link_steps > LINK_STEPS_MAX)
            return refuse(u, UNZIP_UNSAFE, ELOOP, "links too tangled to check");
        snprintf(cand, sizeof cand, "%s%s%s", cur, cur[0] ? "/" : "", comp);
        if (fstatat(u->root, cand, &st, AT_SYMLINK_NOFOLLOW) < 0)
            return errno == ENOENT || errno == ENOTDIR || errno == ENAMETOOLONG
                       ? 0
                       : refuse(u, UNZIP_IO, errno, "stat for link \"%s\"", u->shown);
        if (S_ISDIR(st.st_mode)) {
            if (strlen(cand) >= sizeof cur)
                return refuse(u, UNZIP_UNSAFE, ENAMETOOLONG, "link \"%s\": too deep", u->shown);
            memcpy(cur, cand, strlen(cand) + 1);
            continue;
        }
        if (!S_ISLNK(st.st_mode))
            return 0; /* a file: the path ends here or the kernel fails */
        if (++hops > LINK_HOPS_MAX)
            return 0;
        n = readlinkat(u->root, cand, target, sizeof target - 1);
        if (n < 0)
            return refuse(u, UNZIP_IO, errno, "readlink for \"%s\"", u->shown);
        target[n] = '\0';
        if (target[0] == '/')
            return refuse(u, UNZIP_UNSAFE, EPERM, "link \"%s\": leaves the tree", u->shown);
        /* The rest of the walk now starts with the target. */
        tlen = (size_t) n;
        plen = strlen(p);
        if (tlen + 1 + plen >= sizeof rem)
            return refuse(u, UNZIP_UNSAFE, ENAMETOOLONG, "link \"%s\": chain too long",
                          u->shown);
        memmove(rem + tlen + 1, p, plen + 1);
        memcpy(rem, target, tlen);
        rem[tlen] = '/';
        p = rem;
    }
    return 0; /* the end of the path, inside; or a dead link */
}

static int extract_all(struct unz *u)
{
    size_t off;
    int rc;

    for (;;) {
        struct archive_entry *e;
        int r = archive_read_next_header(u->a, &e);

        if (r == ARCHIVE_EOF)
            break;
        if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
            return refuse(u, UNZIP_CORRUPT, EBADMSG, "entry %llu: %s",
                          (unsigned long long) u->res->entries + 1, archive_error_string(u->a));
        if (++u->res->entries > u->lim.max_entries)
            return refuse(u, UNZIP_TOO_MANY, E2BIG, "more than %llu entries",
                          (unsigned long long) u->lim.max_entries);
        if ((rc = extract_entry(u, e)) < 0)
            return rc;
    }
    /* Links last: a later entry can change where an earlier link leads. */
    for (off = 0; off < u->links.len; off += strlen(u->links.data + off) + 1)
        if ((rc = check_link_physically(u, u->links.data + off)) < 0)
            return rc;
    return 0;
}

/* n random lowercase hex digits and a NUL. Not ld_random_hex(): its pool
 * is not locked, and this runs on several worker threads at once. A weak
 * name only costs a retry: the caller creates it with O_EXCL semantics. */
static void random_hex(char *out, size_t n)
{
    static const char hexdig[] = "0123456789abcdef";
    unsigned char b[16] = {0};
    size_t i;

    if (getrandom(b, sizeof b, GRND_NONBLOCK) < 0) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        memcpy(b, &ts, sizeof ts < sizeof b ? sizeof ts : sizeof b);
    }
    for (i = 0; i < n && i < 2 * sizeof b; i++)
        out[i] = hexdig[(b[i / 2] >> ((i & 1) ? 0 : 4)) & 15];
    out[i] = '\0';
}

/* Creates <prefix><random> under parent_dfd, like mkdtemp() but relative to
 * a directory fd, and opens it. */
static int make_root(struct unz *u, int parent_dfd, const char *prefix)
{
    int tries, rc;

    for (tries = 0; tries < 100; tries++) {
        char rnd[13];

        random_hex(rnd, 12);
        snprintf(u->res->name, sizeof u->res->name, "%s%s", prefix, rnd);
        if (mkdirat(parent_dfd, u->res->name, 0700) == 0)
            break;
        if (errno != EEXIST)
            return refuse(u, UNZIP_IO, errno, "mkdir %s", u->res->name);
    }
    if (tries == 100)
        return refuse(u, UNZIP_IO, EEXIST, "mkdir %s", u->res->name);
    u->root = openat(parent_dfd, u->res->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (u->root < 0)
        return refuse(u, UNZIP_IO, errno, "open %s", u->res->name);
    snprintf(u->shown, sizeof u->shown, "%s", u->res->name);
    if ((rc = own(u, u->root, 0755)) < 0)
        return rc;
    return 0;
}

static int unzip_run(struct unz *u, int zip_fd, int parent_dfd, const char *prefix)
{
    struct stat st;
    int rc;

    if (strlen(prefix) > PREFIX_MAX || strchr(prefix, '/'))
        return refuse(u, UNZIP_IO, EINVAL, "bad prefix \"%s\"", prefix);
    if (fstat(zip_fd, &st) < 0)
        return refuse(u, UNZIP_IO, errno, "stat zip");
    if (!S_ISREG(st.st_mode))
        return refuse(u, UNZIP_IO, EINVAL, "zip is not a regular file");
    if (st.st_size == 0)
        return refuse(u, UNZIP_NOT_ZIP, EBADMSG, "not a zip file: empty");
    u->zip_size = (uint64_t) st.st_size;
    if (lseek(zip_fd, 0, SEEK_SET) < 0)
        return refuse(u, UNZIP_IO, errno, "seek zip");
    u->a = archive_read_new();
    if (!u->a)
        return refuse(u, UNZIP_IO, ENOMEM, "archive_read_new");
    archive_read_support_format_zip_seekable(u->a);
    if (archive_read_open_fd(u->a, zip_fd, (size_t) 64 << 10) != ARCHIVE_OK)
        return refuse(u, UNZIP_NOT_ZIP, EBADMSG, "not a zip file: %s",
                      archive_error_string(u->a));
    if ((rc = make_root(u, parent_dfd, prefix)) < 0)
        return rc;
    return extract_all(u);
}

int unzip_fd(int zip_fd, int parent_dfd, const char *prefix, const struct unzip_limits *lim,
             struct unzip_result *res, struct ld_err *err)
{
    struct unz *u = calloc(1, sizeof *u); /* 8 KiB of names: not on a worker's stack */
    int rc;

    memset(res, 0, sizeof *res);
    if (!u) {
        res->reason = UNZIP_IO;
        return ld_err_set(err, ENOMEM, "unzip");
    }
    u->root = -1;
    u->dir_fd = -1;
    u->res = res;
    u->err = err;
    u->lim = lim ? *lim : UNZIP_LIMITS_DEFAULT;
    if (u->lim.max_path > PATH_MAX - 1)
        u->lim.max_path = PATH_MAX - 1;
    u->as_root = geteuid() == 0;
    rc = unzip_run(u, zip_fd, parent_dfd, prefix);
    if (u->a)
        archive_read_free(u->a);
    if (u->dir_fd >= 0)
        close(u->dir_fd);
    if (u->root >= 0)
        close(u->root);
    ld_buf_free(&u->links);
    free(u);
    if (rc < 0 && res->name[0]) {
        struct ld_err rm_err;

        /* Keep the refusal as the error: it is what the uploader needs. */
        (void) unzip_remove_tree(parent_dfd, res->name, &rm_err);
        res->name[0] = '\0';
    }
    if (rc < 0)
        return ld_err_prefix(err, "unzip");
    res->reason = UNZIP_OK;
    return 0;
}

int unzip_file(const char *zip_path, int parent_dfd, const char *prefix,
               const struct unzip_limits *lim, struct unzip_result *res, struct ld_err *err)
{
    LD_AUTOCLOSE int fd = open(zip_path, O_RDONLY | O_NOCTTY | O_CLOEXEC);

    if (fd < 0) {
        memset(res, 0, sizeof *res);
        res->reason = UNZIP_IO;
        return ld_err_set(err, errno, "unzip: open %s", zip_path);
    }
    return unzip_fd(fd, parent_dfd, prefix, lim, res, err);
}

/* Refuses to go below a mount point: what is mounted there is not ours. */
static int is_mount_root(int fd)
{
    struct statx stx;

    if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_TYPE, &stx) < 0)
        return -errno;
    return (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT)
           && (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
}

static int remove_dir(int dfd, const char *name, unsigned depth, struct ld_err *err)
{
    DIR *d;
    int fd, pass, rc = 0;

    if (depth > REMOVE_DEPTH_MAX)
        return ld_err_set(err, ELOOP, "remove %s: deeper than %d levels", name, REMOVE_DEPTH_MAX);
    fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    /* Not root and a mode like 0000: only the owner can let itself in. */
    if (fd < 0 && errno == EACCES && fchmodat(dfd, name, 0700, AT_SYMLINK_NOFOLLOW) == 0)
        fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : ld_err_set(err, errno, "remove %s: open", name);
    if ((rc = is_mount_root(fd)) != 0) {
        close(fd);
        return ld_err_set(err, rc < 0 ? -rc : EBUSY, "remove %s: mount point", name);
    }
    {
        struct stat st;

        /* Unlinking needs write permission on the directory, not the file. */
        if (fstat(fd, &st) == 0 && (st.st_mode & 0700) != 0700)
            (void) fchmod(fd, (st.st_mode & 07777) | 0700);
    }
    d = fdopendir(fd);
    if (!d) {
        close(fd);
        return ld_err_set(err, errno, "remove %s: opendir", name);
    }
    /* Entries removed while reading may hide others on some filesystems:
     * read again until the directory can go. */
    for (pass = 0; pass < 3; pass++) {
        struct dirent *de;

        rewinddir(d);
        while (rc == 0 && (de = readdir(d))) {
            bool is_dir = de->d_type == DT_DIR;

            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                continue;
            if (de->d_type == DT_UNKNOWN) {
                struct stat st;

                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
                    is_dir = S_ISDIR(st.st_mode);
            }
            if (is_dir)
                rc = remove_dir(dirfd(d), de->d_name, depth + 1, err);
            else if (unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT)
                rc = ld_err_set(err, errno, "remove %s/%s", name, de->d_name);
        }
        if (rc < 0)
            break;
        if (unlinkat(dfd, name, AT_REMOVEDIR) == 0 || errno == ENOENT)
            break;
        if (errno != ENOTEMPTY || pass == 2)
            rc = ld_err_set(err, errno, "remove %s", name);
    }
    closedir(d);
    return rc;
}

int unzip_remove_tree(int dfd, const char *name, struct ld_err *err)
{
    struct stat st;

    if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return errno == ENOENT ? 0 : ld_err_set(err, errno, "remove %s", name);
    if (!S_ISDIR(st.st_mode)) {
        if (unlinkat(dfd, name, 0) < 0 && errno != ENOENT)
            return ld_err_set(err, errno, "remove %s", name);
        return 0;
    }
    return remove_dir(dfd, name, 0, err);
}

int unzip_aws_message(enum unzip_reason r, uint64_t max_bytes, char *buf, size_t len)
{
    switch (r) {
    case UNZIP_TOO_BIG:
        snprintf(buf, len, UNZIP_AWS_TOO_BIG_FMT, (unsigned long long) max_bytes);
        return 400;
    case UNZIP_NOT_ZIP:
    case UNZIP_CORRUPT:
    case UNZIP_UNSAFE:
    case UNZIP_TOO_MANY:
    case UNZIP_BOMB:
        snprintf(buf, len, "%s", UNZIP_AWS_INVALID_ZIP);
        return 400;
    case UNZIP_OK:
    case UNZIP_IO:
    default:
        snprintf(buf, len, "%s", "An internal error occurred while unpacking the code.");
        return 500;
    }
}

const char *unzip_reason_name(enum unzip_reason r)
{
    switch (r) {
    case UNZIP_OK:
        return "ok";
    case UNZIP_NOT_ZIP:
        return "not-zip";
    case UNZIP_CORRUPT:
        return "corrupt";
    case UNZIP_UNSAFE:
        return "unsafe";
    case UNZIP_TOO_BIG:
        return "too-big";
    case UNZIP_TOO_MANY:
        return "too-many";
    case UNZIP_BOMB:
        return "bomb";
    case UNZIP_IO:
        return "io";
    default:
        return "?";
    }
}
