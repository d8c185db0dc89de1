/* service/credentials.h: the access key `lambdad serve` accepts.
 *
 * DESIGN.md fixes where it comes from, first found wins:
 *  1. LAMBDAD_ACCESS_KEY_ID and LAMBDAD_SECRET_ACCESS_KEY in the environment
 *     (with LAMBDAD_SESSION_TOKEN if the key is meant to be temporary);
 *  2. <data-dir>/credentials;
 *  3. a fresh key, generated on first start and written to that file, which
 *     the caller prints once (`generated` says so).
 *
 * The file is in the format of the AWS shared credentials file, so clients
 * can use it as it is (AWS_SHARED_CREDENTIALS_FILE=<data-dir>/credentials):
 *
 *     [default]
 *     aws_access_key_id = AKIA...
 *     aws_secret_access_key = ...
 *     aws_session_token = ...        (optional)
 *
 * Only the [default] profile is read; '#' and ';' start comments. The file
 * must be a regular file of ours with mode 0600 (no group or other bits):
 * anything else is refused rather than quietly fixed, because a key that
 * others could read may already be in their hands, and only the operator can
 * decide to chmod it or to delete it and get a new key (ssh treats its keys
 * the same way). */
#ifndef LD_CREDENTIALS_H
#define LD_CREDENTIALS_H

#include <stdbool.h>

#include "common/err.h"

#define CREDENTIALS_FILE "credentials"
#define CREDENTIALS_ID_MAX 128      /* AWS's limit on access key ids */
#define CREDENTIALS_SECRET_MAX 128
#define CREDENTIALS_TOKEN_MAX 8192  /* sigv4.h's SIGV4_TOKEN_MAX */
#define CREDENTIALS_FILE_MAX 65536  /* a larger file is not ours */

enum credentials_source {
    CREDENTIALS_FROM_ENV,
    CREDENTIALS_FROM_FILE,
    CREDENTIALS_GENERATED,
};

struct credentials {
    char access_key_id[CREDENTIALS_ID_MAX + 1];         /* [A-Za-z0-9_.-] */
    char secret_access_key[CREDENTIALS_SECRET_MAX + 1]; /* printable ASCII, no blanks */
    char session_token[CREDENTIALS_TOKEN_MAX + 1];      /* "" when none */
    enum credentials_source source;
};

/* Fills out from the environment, else from data_dir's credentials file,
 * else generates a key ("AKIA" + 16 of [A-Z0-9], and a 40-character secret of
 * [A-Za-z0-9+/], from getrandom()) and publishes the file atomically: written
 * to an O_EXCL temporary file with mode 0600, fsynced, renamed into place only
 * if no file is there yet, directory fsynced. When several processes start at
 * once on an empty data dir, one key wins and every process returns it.
 * data_dir must exist. *generated (may be NULL) is set when this call created
 * the key. Returns 0, or -errno with err saying which variable, file or line
 * is wrong (EINVAL for bad contents, EACCES for a file others can read or
 * that is not ours). Call credentials_clear() when done with out. */
int credentials_load(const char *data_dir, struct credentials *out, bool *generated,
                     struct ld_err *err);

/* Wipes the secret and token from memory. */
void credentials_clear(struct credentials *c);

#endif
