/* service/unzip.h: unpacks one uploaded zip into a fresh directory, or
 * refuses it.
 *
 * A function's zip comes from whoever holds API credentials, so every entry
 * is checked before anything is written, every written byte is counted, and
 * the first entry we do not like fails the whole zip: a package is never
 * half-unpacked. The tree it produces is what an environment sees, read-only,
 * at /var/task or /opt: root-owned, directories 0755, files 0644 or 0755.
 *
 * Blocking (it writes up to max_bytes to disk): call it from a worker thread
 * (service/workq.h), never from the event loop. Thread-safe: nothing here
 * depends on the current directory or on other process-wide state. */
#ifndef LD_UNZIP_H
#define LD_UNZIP_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/* Why a zip was refused; the caller turns it into AWS's answer with
 * unzip_aws_message(). */
enum unzip_reason {
    UNZIP_OK = 0,
    UNZIP_NOT_ZIP,  /* empty, random bytes, a tar, a zip cut short */
    UNZIP_CORRUPT,  /* a zip whose data does not decode (bad CRC, bad deflate,
                       encrypted) or contradicts itself ("a" file and "a/b") */
    UNZIP_UNSAFE,   /* an entry we refuse: absolute or ".." name, link leaving
                       the tree, writing through a link, device/fifo/socket,
                       hard link, name too long or deep, links too tangled */
    UNZIP_TOO_BIG,  /* more than max_bytes would be written */
    UNZIP_TOO_MANY, /* more than max_entries entries */
    UNZIP_BOMB,     /* expands far beyond what it occupies in the zip */
    UNZIP_IO,       /* our side failed (disk full, no such parent): not the
                       uploader's fault */
};

/* All fields are taken literally; pass NULL for UNZIP_LIMITS_DEFAULT. */
struct unzip_limits {
    /* Bytes of file data written, counted block by block as they are
     * written: a header's declared size is only used to refuse early. */
    uint64_t max_bytes;
    /* Entries of any kind, directories and links included. */
    uint64_t max_entries;
    /* Once an entry (or the whole zip) has produced UNZIP_RATIO_GRACE bytes,
     * bytes produced may not exceed max_ratio times the compressed bytes it
     * consumed (or, for the whole zip, the zip's size). 0 turns it off. */
    uint64_t max_ratio;
    /* Bytes of an entry's name after normalisation, and of a link's target. */
    uint32_t max_path;
    /* Components of an entry's name. */
    uint32_t max_depth;
};

#define UNZIP_RATIO_GRACE (8u << 20)

/* Why these numbers:
 * - 262144000 bytes is AWS's own "250 MB unzipped" (spec: execution
 *   environment §3, GetAccountSettings CodeSizeUnzipped).
 * - 65535 entries is the most a zip holds without Zip64, so any package a
 *   normal zip tool makes fits; it bounds the inodes and the time (about a
 *   second) one upload can cost. AWS publishes no entry limit.
 * - 1000:1 is just under deflate's ceiling (~1032:1, reached only by long runs
 *   of one byte), so no real package trips it; it stops the degenerate bomb
 *   after 8 MiB instead of after 250 MB of disk writes. max_bytes remains the
 *   bound that matters.
 * - 1024 bytes of name: deep node_modules paths are a few hundred bytes, and
 *   the name must still fit PATH_MAX behind /var/task/ or a host data dir.
 * - 128 levels: removing a tree holds one fd per level. */
#define UNZIP_LIMITS_DEFAULT                                                                   \
    ((struct unzip_limits){.max_bytes = 262144000,                                             \
                           .max_entries = 65535,                                               \
                           .max_ratio = 1000,                                                  \
                           .max_path = 1024,                                                   \
                           .max_depth = 128})

struct unzip_result {
    enum unzip_reason reason; /* UNZIP_OK on success; set on failure too */
    char name[32];            /* the new directory, relative to parent_dfd */
    uint64_t bytes;           /* file data and link targets written (an entry
                                 replaced by a later one of its name counts too) */
    uint64_t entries;         /* entries read */
};

/* Creates a fresh directory `<prefix><random>` (mode 0755) under parent_dfd
 * and unpacks the zip read from zip_fd into it. zip_fd must be a regular file
 * open for reading; its offset is used and left anywhere. prefix is at most
 * 16 bytes.
 *
 * On success res->name names the tree, which the caller owns (to rename or
 * remove with unzip_remove_tree()). On failure returns -errno with err and
 * res->reason set, and the directory is already gone: nothing is left behind,
 * inside or outside parent_dfd. */
int unzip_fd(int zip_fd, int parent_dfd, const char *prefix, const struct unzip_limits *lim,
             struct unzip_result *res, struct ld_err *err);
/* The same for a zip named by path. */
int unzip_file(const char *zip_path, int parent_dfd, const char *prefix,
               const struct unzip_limits *lim, struct unzip_result *res, struct ld_err *err);

/* Removes `name` under dfd and everything below it, whatever the modes
 * (directories are made writable first), without following any symbolic
 * link and without crossing into another mount. A missing name is success. */
int unzip_remove_tree(int dfd, const char *name, struct ld_err *err);

/* The AWS error message for a refusal, written into buf (NUL-terminated):
 *  - UNZIP_TOO_BIG: "Unzipped size must be smaller than <max_bytes> bytes"
 *  - every other refusal: "Could not unzip uploaded file. Please check your
 *    file, then try to upload again."
 * both sent as 400 InvalidParameterValueException. Returns 400, or 500 for
 * UNZIP_IO and UNZIP_OK (a ServiceException: the uploader did nothing wrong). */
int unzip_aws_message(enum unzip_reason r, uint64_t max_bytes, char *buf, size_t len);
/* A short name for logs: "not-zip", "corrupt", ... */
const char *unzip_reason_name(enum unzip_reason r);

#define UNZIP_AWS_INVALID_ZIP                                                                  \
    "Could not unzip uploaded file. Please check your file, then try to upload again."
#define UNZIP_AWS_TOO_BIG_FMT "Unzipped size must be smaller than %llu bytes"

#endif
