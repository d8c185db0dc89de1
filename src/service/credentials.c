/* service/credentials.c: finds, reads or creates the service's access key
 * (see credentials.h).
 *
 * Publishing a generated key: two first starts racing on one data dir must
 * end with one key, and a reader must never see half a file. So the key is
 * written in full to a temporary file (O_EXCL, random name) and then moved to
 * "credentials" with renameat2(RENAME_NOREPLACE): whoever renames first wins,
 * the others get EEXIST, drop their temporary file and read the winner's.
 * Filesystems without RENAME_NOREPLACE get link() + unlink(), which has the
 * same all-or-nothing EEXIST behaviour. The directory is fsynced after the
 * rename so a crash cannot leave a key that was printed but not stored. */
#include "service/credentials.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#define ENV_ID "LAMBDAD_ACCESS_KEY_ID"
#define ENV_SECRET "LAMBDAD_SECRET_ACCESS_KEY"
#define ENV_TOKEN "LAMBDAD_SESSION_TOKEN"

void credentials_clear(struct credentials *c)
{
    explicit_bzero(c, sizeof *c);
}

/* ---- validation ------------------------------------------------------ */

/* The id goes into the Credential= of every request and into the
 * scope's slash-separated list, so it keeps to characters that need no
 * quoting anywhere (sigv4.c applies the same rule). */
static bool id_ok(const char *s, size_t n)
{
    if (n == 0 || n > CREDENTIALS_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];

        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-'))
            return false;
    }
    return true;
}

static bool printable_ok(const char *s, size_t n, size_t max)
{
    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char) s[i] <= 0x20 || (unsigned char) s[i] >= 0x7f)
            return false;
    return true;
}

static int set_values(struct credentials *out, const char *id, size_t id_len, const char *secret,
                      size_t secret_len, const char *token, size_t token_len, const char *where,
                      struct ld_err *err)
{
    if (!id_ok(id, id_len))
        return ld_err_set(err, EINVAL, "%s: access key id must be 1 to %d of [A-Za-z0-9_.-]",
                          where, CREDENTIALS_ID_MAX);
    if (!printable_ok(secret, secret_len, CREDENTIALS_SECRET_MAX))
        return ld_err_set(err, EINVAL,
                          "%s: secret access key must be 1 to %d printable characters, no blanks",
                          where, CREDENTIALS_SECRET_MAX);
    if (token && !printable_ok(token, token_len, CREDENTIALS_TOKEN_MAX))
        return ld_err_set(err, EINVAL,
                          "%s: session token must be 1 to %d printable characters, no blanks",
                          where, CREDENTIALS_TOKEN_MAX);
    memcpy(out->access_key_id, id, id_len);
    out->access_key_id[id_len] = '\0';
    memcpy(out->secret_access_key, secret, secret_len);
    out->secret_access_key[secret_len] = '\0';
    if (token)
        memcpy(out->session_token, token, token_len);
    out->session_token[token ? token_len : 0] = '\0';
    return 0;
}

/* ---- the environment ---------------------------------------------------- */

static const char *env(const char *name)
{
    const char *v = getenv(name);

    return v && *v ? v : NULL; /* FOO= in a shell means "unset" */
}

/* 1 when the environment supplied the key, 0 when it says nothing. */
static int from_env(struct credentials *out, struct ld_err *err)
{
    const char *id = env(ENV_ID), *secret = env(ENV_SECRET), *token = env(ENV_TOKEN);
    int rc;

    if (!id && !secret) {
        if (token)
            return ld_err_set(err, EINVAL, ENV_TOKEN " is set without " ENV_ID " and " ENV_SECRET);
        return 0;
    }
    if (!id || !secret)
        return ld_err_set(err, EINVAL, "%s is set but %s is not", id ? ENV_ID : ENV_SECRET,
                          id ? ENV_SECRET : ENV_ID);
    rc = set_values(out, id, strlen(id), secret, strlen(secret), token, token ? strlen(token) : 0,
                    "environment", err);
    if (rc < 0)
        return rc;
    out->source = CREDENTIALS_FROM_ENV;
    return 1;
}

/* ---- the file ------------------------------------------------------------ */

struct parsed {
    const char *val[3]; /* id, secret, token: point into the file's bytes */
    size_t len[3];
};

static const char *const file_keys[3] = {"aws_access_key_id", "aws_secret_access_key",
                                         "aws_session_token"};

static void trim(const char **p, size_t *n)
{
    while (*n > 0 && (**p == ' ' || **p == '\t')) {
        (*p)++;
        (*n)--;
    }
    while (*n > 0 && ((*p)[*n - 1] == ' ' || (*p)[*n - 1] == '\t' || (*p)[*n - 1] == '\r'))
        (*n)--;
}

/* Reads the [default] profile out of buf (the whole file). Stricter than
 * botocore where botocore would guess: a line it cannot read is an error
 * naming the line, not a line skipped. */
static int parse_file(const char *buf, size_t size, const char *path, struct parsed *out,
                      struct ld_err *err)
{
    const char *p = buf, *end = buf + size;
    bool in_default = false, seen_default = false, in_section = false;
    unsigned line = 0;

    memset(out, 0, sizeof *out);
    if (memchr(buf, '\0', size))
        return ld_err_set(err, EINVAL, "%s: has NUL bytes, not a credentials file", path);
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t) (end - p));
        const char *s = p, *eq;
        size_t n = (nl ? (size_t) (nl - p) : (size_t) (end - p));

        line++;
        p = nl ? nl + 1 : end;
        trim(&s, &n);
        if (n == 0 || s[0] == '#' || s[0] == ';')
            continue;
        if (s[0] == '[') {
            const char *name = s + 1;
            size_t nlen = n - 1;

            if (n < 2 || s[n - 1] != ']')
                return ld_err_set(err, EINVAL, "%s line %u: unterminated [section]", path, line);
            nlen--;
            trim(&name, &nlen);
            in_section = true;
            in_default = nlen == 7 && memcmp(name, "default", 7) == 0;
            if (in_default && seen_default)
                return ld_err_set(err, EINVAL, "%s line %u: second [default] section", path,
                                  line);
            seen_default |= in_default;
            continue;
        }
        eq = memchr(s, '=', n);
        if (!eq)
            return ld_err_set(err, EINVAL, "%s line %u: expected 'key = value', a [section] or "
                                           "a comment", path, line);
        if (!in_section)
            return ld_err_set(err, EINVAL, "%s line %u: 'key = value' before any [section]",
                              path, line);
        if (in_default) {
            const char *k = s, *v = eq + 1;
            size_t kl = (size_t) (eq - s), vl = n - kl - 1;

            trim(&k, &kl);
            trim(&v, &vl);
            for (size_t i = 0; i < 3; i++) {
                if (kl != strlen(file_keys[i]) || memcmp(k, file_keys[i], kl) != 0)
                    continue;
                if (out->val[i])
                    return ld_err_set(err, EINVAL, "%s line %u: %s given twice", path, line,
                                      file_keys[i]);
                out->val[i] = v;
                out->len[i] = vl;
            }
        }
    }
    if (!seen_default)
        return ld_err_set(err, EINVAL, "%s: no [default] section", path);
    for (size_t i = 0; i < 2; i++)
        if (!out->val[i])
            return ld_err_set(err, EINVAL, "%s: [default] has no %s", path, file_keys[i]);
    return 0;
}

/* Refuses anything but a regular file of ours that only we can read. */
static int check_file(int fd, const char *path, struct ld_err *err)
{
    struct stat st;

    if (fstat(fd, &st) < 0)
        return ld_err_set(err, errno, "stat %s", path);
    if (!S_ISREG(st.st_mode))
        return ld_err_set(err, EINVAL, "%s is not a regular file", path);
    if (st.st_uid != geteuid())
        return ld_err_set(err, EACCES, "%s is owned by uid %u, not by us (uid %u)", path,
                          (unsigned) st.st_uid, (unsigned) geteuid());
    if (st.st_mode & 077)
        return ld_err_set(err, EACCES,
                          "%s has mode %04o: others may have read the key; chmod 600 it, or "
                          "delete it to get a new key",
                          path, (unsigned) (st.st_mode & 07777));
    if (st.st_size > CREDENTIALS_FILE_MAX)
        return ld_err_set(err, EINVAL, "%s is over %d bytes, not a credentials file", path,
                          CREDENTIALS_FILE_MAX);
    return 0;
}

/* 1 when the file was read, 0 when there is none, or -errno. */
static int from_file(int dfd, const char *path, struct credentials *out, struct ld_err *err)
{
    /* O_NONBLOCK: a FIFO planted under the name must not hang start-up. */
    LD_AUTOCLOSE int fd =
        openat(dfd, CREDENTIALS_FILE, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    char *buf;
    size_t size = 0;
    struct parsed pf;
    int rc;

    if (fd < 0) {
        if (errno == ENOENT)
            return 0;
        return ld_err_set(err, errno, "open %s", path);
    }
    if ((rc = check_file(fd, path, err)) < 0)
        return rc;
    buf = malloc(CREDENTIALS_FILE_MAX + 1);
    if (!buf)
        return ld_err_set(err, ENOMEM, "read %s", path);
    for (;;) {
        ssize_t r = read(fd, buf + size, CREDENTIALS_FILE_MAX + 1 - size);

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = ld_err_set(err, errno, "read %s", path);
            goto out;
        }
        if (r == 0)
            break;
        size += (size_t) r;
        if (size > CREDENTIALS_FILE_MAX) {
            rc = ld_err_set(err, EINVAL, "%s is over %d bytes, not a credentials file", path,
                            CREDENTIALS_FILE_MAX);
            goto out;
        }
    }
    if ((rc = parse_file(buf, size, path, &pf, err)) < 0)
        goto out;
    rc = set_values(out, pf.val[0], pf.len[0], pf.val[1], pf.len[1], pf.val[2], pf.len[2], path,
                    err);
    if (rc < 0)
        goto out;
    out->source = CREDENTIALS_FROM_FILE;
    rc = 1;
out:
    explicit_bzero(buf, size);
    free(buf);
    return rc;
}

/* ---- generation ----------------------------------------------------------- */

static int random_bytes(unsigned char *b, size_t n, struct ld_err *err)
{
    size_t got = 0;

    while (got < n) {
        ssize_t r = getrandom(b + got, n - got, 0);

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return ld_err_set(err, errno, "getrandom");
        got += (size_t) r;
    }
    return 0;
}

/* AWS's shapes: "AKIA" + 16 of [A-Z0-9] (95 bits), and 40 characters of
 * base64's alphabet (240 bits). */
static int generate(struct credentials *out, struct ld_err *err)
{
    static const char upper36[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    unsigned char r[64];
    size_t n = 4, i;
    int rc = 0;

    memcpy(out->access_key_id, "AKIA", 4);
    while (n < 20) {
        if ((rc = random_bytes(r, sizeof r, err)) < 0)
            goto out;
        /* 252 = 7 * 36: rejecting the rest keeps every character equally likely. */
        for (i = 0; i < sizeof r && n < 20; i++)
            if (r[i] < 252)
                out->access_key_id[n++] = upper36[r[i] % 36];
    }
    out->access_key_id[20] = '\0';
    if ((rc = random_bytes(r, 40, err)) < 0)
        goto out;
    for (i = 0; i < 40; i++)
        out->secret_access_key[i] = b64[r[i] & 63];
    out->secret_access_key[40] = '\0';
    out->session_token[0] = '\0';
    out->source = CREDENTIALS_GENERATED;
out:
    explicit_bzero(r, sizeof r);
    return rc;
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

/* Moves tmp to CREDENTIALS_FILE unless that exists: 0, -EEXIST or -errno. */
static int publish(int dfd, const char *tmp)
{
    if (renameat2(dfd, tmp, dfd, CREDENTIALS_FILE, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP)
        return -errno;
    /* No RENAME_NOREPLACE here: link() fails with EEXIST just the same. */
    if (linkat(dfd, tmp, dfd, CREDENTIALS_FILE, 0) < 0)
        return -errno;
    unlinkat(dfd, tmp, 0);
    return 0;
}

/* 1 when our new key is now the file, 0 when another process's won (the
 * caller reads that one), or -errno. */
static int create_file(int dfd, const char *dir, const struct credentials *c, struct ld_err *err)
{
    char tmp[64], body[512];
    unsigned char r[8];
    LD_AUTOCLOSE int fd = -1;
    int n, rc;

    if ((rc = random_bytes(r, sizeof r, err)) < 0)
        return rc;
    snprintf(tmp, sizeof tmp, CREDENTIALS_FILE ".tmp-%02x%02x%02x%02x%02x%02x%02x%02x", r[0], r[1],
             r[2], r[3], r[4], r[5], r[6], r[7]);
    fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return ld_err_set(err, errno, "create %s/%s", dir, tmp);
    n = snprintf(body, sizeof body,
                 "# lambdad: the access key `lambdad serve` accepts for this data dir, made on\n"
                 "# first start. AWS clients can read this file as it is:\n"
                 "#   AWS_SHARED_CREDENTIALS_FILE=<this file> aws --endpoint-url ... lambda ...\n"
                 "# Keep it mode 0600. Delete it and restart for a new key.\n"
                 "[default]\n"
                 "aws_access_key_id = %s\n"
                 "aws_secret_access_key = %s\n",
                 c->access_key_id, c->secret_access_key);
    /* umask cannot widen 0600, but could narrow it to where we cannot read it back. */
    if (fchmod(fd, 0600) < 0 || (rc = write_all(fd, body, (size_t) n)) < 0 || fsync(fd) < 0) {
        rc = rc < 0 ? rc : -errno;
        explicit_bzero(body, sizeof body);
        unlinkat(dfd, tmp, 0);
        return ld_err_set(err, -rc, "write %s/%s", dir, tmp);
    }
    explicit_bzero(body, sizeof body);
    rc = publish(dfd, tmp);
    if (rc == -EEXIST) {
        unlinkat(dfd, tmp, 0);
        return 0;
    }
    if (rc < 0) {
        unlinkat(dfd, tmp, 0);
        return ld_err_set(err, -rc, "rename %s/%s to " CREDENTIALS_FILE, dir, tmp);
    }
    /* The rename is durable only once the directory is. */
    if (fsync(dfd) < 0)
        return ld_err_set(err, errno, "fsync %s", dir);
    return 1;
}

int credentials_load(const char *data_dir, struct credentials *out, bool *generated,
                     struct ld_err *err)
{
    char path[4096];
    LD_AUTOCLOSE int dfd = -1;
    int rc;

    memset(out, 0, sizeof *out);
    if (generated)
        *generated = false;
    if ((rc = from_env(out, err)) != 0)
        return rc < 0 ? rc : 0;
    dfd = open(data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return ld_err_set(err, errno, "data dir %s", data_dir);
    snprintf(path, sizeof path, "%s/" CREDENTIALS_FILE, data_dir);
    /* Twice at most: if another process published first, read its key. */
    for (int attempt = 0; attempt < 2; attempt++) {
        if ((rc = from_file(dfd, path, out, err)) != 0)
            break;
        if (attempt == 1) {
            rc = ld_err_set(err, ENOENT, "%s vanished while starting", path);
            break;
        }
        if ((rc = generate(out, err)) < 0 || (rc = create_file(dfd, data_dir, out, err)) < 0)
            break;
        if (rc == 1) {
            if (generated)
                *generated = true;
            return 0;
        }
        credentials_clear(out); /* lost the race: read the winner's */
    }
    if (rc < 0) {
        credentials_clear(out);
        return rc;
    }
    return 0;
}
