/* service/artifacts.h: the code store. Function and layer zips are kept by
 * the SHA-256 of their bytes and unpacked once per digest into a tree that
 * every environment of every version using it mounts read-only.
 *
 * Layout under the root the service passes (<data-dir>/artifacts):
 *   zips/<hex>.zip    the uploaded bytes, as uploaded (mode 0600)
 *   code/<hex>/       the unpacked tree (service/unzip.h): root-owned,
 *                     directories 0755, files 0644 or 0755
 *   code/<hex>.size   the tree's unpacked size in bytes, in decimal
 *   zips/.tmp-*, code/.tmp-*   work in progress, removed by artifacts_open()
 * A name appears only once its content is complete and on disk (write to a
 * .tmp- name, fsync, rename), so a crash leaves no half zip or half tree.
 *
 * Everything here blocks on the disk: call it from a worker thread
 * (service/workq.h). Any number of threads may use one store: operations on
 * distinct digests run in parallel, operations on the same digest (put,
 * unpack, GC) wait for each other. One process per root. */
#ifndef LD_ARTIFACTS_H
#define LD_ARTIFACTS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/err.h"
#include "service/unzip.h"

#define ARTIFACTS_HEX_LEN 64
#define ARTIFACTS_B64_LEN 44

struct artifacts;

struct artifacts_digest {
    char hex[ARTIFACTS_HEX_LEN + 1];        /* names the artifact in this store */
    char sha256_b64[ARTIFACTS_B64_LEN + 1]; /* AWS's CodeSha256 */
    uint64_t size;                          /* AWS's CodeSize: bytes of the zip */
};

struct artifacts_tree {
    char path[PATH_MAX]; /* <root>/code/<hex>, to mount read-only */
    /* Unpacked size, for AWS's 250 MB check of a function and its layers. */
    uint64_t bytes;
    enum unzip_reason reason; /* on failure, which AWS error to give */
};

struct artifacts_gc_stats {
    unsigned zips_removed;
    unsigned trees_removed;
    unsigned kept_young; /* not live, but used less than min_age ago */
};

/* Opens the store at `root` (created if missing, as are zips/ and code/,
 * all mode 0755) and removes what a crash left behind. Call before any
 * worker uses it. */
int artifacts_open(const char *root, struct artifacts **out, struct ld_err *err);
/* No operation may be running. */
void artifacts_close(struct artifacts *s);

/* True for 64 lowercase hex digits: the only digests this store accepts. */
bool artifacts_hex_valid(const char *hex);

/* Stores zip[0..len) unless that digest is already there (then it only
 * counts as used, for GC), and fills `out`. Does not look inside the bytes:
 * artifacts_unpack() is what finds a zip bad. */
int artifacts_put_zip(struct artifacts *s, const void *zip, size_t len,
                      struct artifacts_digest *out, struct ld_err *err);
/* Opens the stored zip for reading (to serve it back); the caller closes
 * the fd. -ENOENT if it is not stored. */
int artifacts_open_zip(struct artifacts *s, const char *hex, struct ld_err *err);
/* Unpacks the stored zip into code/<hex>/ unless that tree exists already,
 * and fills `out`. `lim` (NULL for UNZIP_LIMITS_DEFAULT) applies when the
 * tree is made; an existing tree is returned as it is, and out->bytes lets
 * the caller check the budget it has in mind (the function plus its layers).
 * On failure out->reason says why; a refused zip stays stored until GC. */
int artifacts_unpack(struct artifacts *s, const char *hex, const struct unzip_limits *lim,
                     struct artifacts_tree *out, struct ld_err *err);

/* Removes every zip and tree whose digest is not in live[0..nlive) and that
 * was last stored, unpacked or reused more than min_age seconds ago. The
 * grace covers an upload stored but not yet recorded in the registry when
 * the service took its snapshot of live digests: use minutes, not 0. Goes
 * on past a failure and returns the first one. `stats` may be NULL. */
int artifacts_gc(struct artifacts *s, const char *const *live, size_t nlive, time_t min_age,
                 struct artifacts_gc_stats *stats, struct ld_err *err);

#endif
