/* tests/unit/service/test_credentials.c: where `lambdad serve` gets its
 * access key (src/service/credentials.h).
 *
 * Each test gets a fresh data dir under /tmp and a clean LAMBDAD_*
 * environment. Covered: the environment wins over the file, the file is read
 * (comments, CRLF, other profiles, a token), a key is generated once with
 * AWS's shapes and mode 0600 whatever the umask, files others can read or
 * that are not ours are refused, every kind of damage gives an error naming
 * the file and line, and sixteen processes starting at once on an empty dir
 * agree on one key. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <ftw.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "service/credentials.h"

#include "../checks.h"

static char dir[64];
static char file[128];

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void) sb;
    (void) flag;
    (void) ftw;
    return remove(path);
}

static void setup(void)
{
    unsetenv("LAMBDAD_ACCESS_KEY_ID");
    unsetenv("LAMBDAD_SECRET_ACCESS_KEY");
    unsetenv("LAMBDAD_SESSION_TOKEN");
    strcpy(dir, "/tmp/lambdad-cred-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(file, sizeof file, "%s/credentials", dir);
}

static void teardown(void)
{
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(credentials, .init = setup, .fini = teardown);

/* ---- helpers ------------------------------------------------------------ */

static void write_file(const char *text, mode_t mode)
{
    int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t) strlen(text));
    cr_assert_eq(fchmod(fd, mode), 0);
    close(fd);
}

static mode_t file_mode(void)
{
    struct stat st;

    cr_assert_eq(stat(file, &st), 0);
    return st.st_mode & 07777;
}

static bool matches(const char *s, const char *pattern)
{
    regex_t re;
    bool ok;

    cr_assert_eq(regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB), 0);
    ok = regexec(&re, s, 0, NULL, 0) == 0;
    regfree(&re);
    return ok;
}

static int dir_entries(void)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    cr_assert_not_null(d);
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

/* Loading must fail with `code` and a message containing `part`. */
static void expect_error(int code, const char *part)
{
    struct credentials c;
    struct ld_err err;
    bool gen = true;
    int rc = credentials_load(dir, &c, &gen, &err);

    cr_assert_eq(rc, -code, "rc %d, want %d (%s)", rc, -code, rc < 0 ? err.msg : "loaded");
    cr_assert_eq(err.code, code);
    cr_assert(strstr(err.msg, part), "\"%s\" does not mention \"%s\"", err.msg, part);
    cr_assert_not(gen);
    cr_assert_str_eq(c.secret_access_key, "", "secret left behind after an error");
}

static const char good_file[] =
    "[default]\n"
    "aws_access_key_id = AKIAFILEEXAMPLE00001\n"
    "aws_secret_access_key = fileSecret/with+slash0123456789abcdefghij\n";

/* ---- the environment wins ------------------------------------------------ */

Test(credentials, environment_wins_over_the_file)
{
    struct credentials c;
    struct ld_err err;
    bool gen = true;

    write_file(good_file, 0600);
    setenv("LAMBDAD_ACCESS_KEY_ID", "envkey", 1);
    setenv("LAMBDAD_SECRET_ACCESS_KEY", "env/secret+1", 1);
    cr_assert_eq(credentials_load(dir, &c, &gen, &err), 0, "%s", err.msg);
    cr_assert_str_eq(c.access_key_id, "envkey");
    cr_assert_str_eq(c.secret_access_key, "env/secret+1");
    cr_assert_str_eq(c.session_token, "");
    cr_assert_eq(c.source, CREDENTIALS_FROM_ENV);
    cr_assert_not(gen);
    credentials_clear(&c);
}

Test(credentials, environment_needs_no_data_dir_file)
{
    struct credentials c;
    struct ld_err err;
    bool gen = true;

    setenv("LAMBDAD_ACCESS_KEY_ID", "test", 1);
    setenv("LAMBDAD_SECRET_ACCESS_KEY", "test", 1);
    setenv("LAMBDAD_SESSION_TOKEN", "tok+/=en", 1);
    cr_assert_eq(credentials_load(dir, &c, &gen, &err), 0, "%s", err.msg);
    cr_assert_str_eq(c.session_token, "tok+/=en");
    cr_assert_not(gen);
    cr_assert_eq(dir_entries(), 0, "nothing may be written when the environment has the key");
    /* Not even a data dir is needed. */
    cr_assert_eq(credentials_load("/nonexistent/lambdad", &c, NULL, &err), 0, "%s", err.msg);
}

Test(credentials, environment_half_set_is_an_error)
{
    setenv("LAMBDAD_ACCESS_KEY_ID", "envkey", 1);
    expect_error(EINVAL, "LAMBDAD_ACCESS_KEY_ID is set but LAMBDAD_SECRET_ACCESS_KEY is not");
    unsetenv("LAMBDAD_ACCESS_KEY_ID");
    setenv("LAMBDAD_SECRET_ACCESS_KEY", "s", 1);
    expect_error(EINVAL, "LAMBDAD_SECRET_ACCESS_KEY is set but LAMBDAD_ACCESS_KEY_ID is not");
    unsetenv("LAMBDAD_SECRET_ACCESS_KEY");
    setenv("LAMBDAD_SESSION_TOKEN", "t", 1);
    expect_error(EINVAL, "LAMBDAD_SESSION_TOKEN is set without");
    cr_assert_eq(dir_entries(), 0);
}

Test(credentials, environment_empty_means_unset)
{
    struct credentials c;
    struct ld_err err;
    bool gen = false;

    setenv("LAMBDAD_ACCESS_KEY_ID", "", 1);
    setenv("LAMBDAD_SECRET_ACCESS_KEY", "", 1);
    cr_assert_eq(credentials_load(dir, &c, &gen, &err), 0, "%s", err.msg);
    cr_assert(gen);
}

Test(credentials, environment_values_are_checked)
{
    setenv("LAMBDAD_ACCESS_KEY_ID", "AKID/SLASH", 1);
    setenv("LAMBDAD_SECRET_ACCESS_KEY", "s", 1);
    expect_error(EINVAL, "environment: access key id");
    setenv("LAMBDAD_ACCESS_KEY_ID", "AKID", 1);
    setenv("LAMBDAD_SECRET_ACCESS_KEY", "has space", 1);
    expect_error(EINVAL, "environment: secret access key");
    setenv("LAMBDAD_SECRET_ACCESS_KEY", "s", 1);
    setenv("LAMBDAD_SESSION_TOKEN", "tab\there", 1);
    expect_error(EINVAL, "environment: session token");
}

/* ---- the file ------------------------------------------------------------ */

Test(credentials, file_is_read)
{
    struct credentials c;
    struct ld_err err;
    bool gen = true;

    write_file("# a comment\r\n"
               "; another\r\n"
               "[other]\r\n"
               "aws_access_key_id = NOTTHISONE\r\n"
               "aws_secret_access_key = nope\r\n"
               "\r\n"
               "[ default ]\r\n"
               "region = us-east-1\r\n"
               "  aws_access_key_id=AKIAFILEEXAMPLE00001  \r\n"
               "aws_secret_access_key\t=\tsecret=with=equals\r\n"
               "aws_session_token = FQoGZXIvYXdz+/=\r\n"
               "[later]\r\n"
               "aws_access_key_id = NORTHISONE\r\n",
               0600);
    cr_assert_eq(credentials_load(dir, &c, &gen, &err), 0, "%s", err.msg);
    cr_assert_str_eq(c.access_key_id, "AKIAFILEEXAMPLE00001");
    cr_assert_str_eq(c.secret_access_key, "secret=with=equals");
    cr_assert_str_eq(c.session_token, "FQoGZXIvYXdz+/=");
    cr_assert_eq(c.source, CREDENTIALS_FROM_FILE);
    cr_assert_not(gen);
    credentials_clear(&c);
    cr_assert_str_eq(c.secret_access_key, "");
}

Test(credentials, file_without_final_newline_and_mode_0400)
{
    struct credentials c;
    struct ld_err err;

    write_file("[default]\naws_access_key_id=A\naws_secret_access_key=B", 0400);
    cr_assert_eq(credentials_load(dir, &c, NULL, &err), 0, "%s", err.msg);
    cr_assert_str_eq(c.access_key_id, "A");
    cr_assert_str_eq(c.secret_access_key, "B");
}

Test(credentials, symlink_to_a_private_file_is_followed)
{
    struct credentials c;
    struct ld_err err;
    char target[160];
    int fd;

    snprintf(target, sizeof target, "%s/elsewhere", dir);
    fd = open(target, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, good_file, strlen(good_file)), (ssize_t) strlen(good_file));
    close(fd);
    cr_assert_eq(symlink(target, file), 0);
    cr_assert_eq(credentials_load(dir, &c, NULL, &err), 0, "%s", err.msg);
    cr_assert_str_eq(c.access_key_id, "AKIAFILEEXAMPLE00001");
}

/* ---- mode and ownership ------------------------------------------------------ */

Test(credentials, group_or_world_access_is_refused)
{
    static const mode_t bad[] = {0640, 0604, 0644, 0660, 0606, 0610, 0601, 0620, 0602, 0777};

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char mode[32];

        write_file(good_file, bad[i]);
        snprintf(mode, sizeof mode, "has mode %04o", (unsigned) bad[i]);
        expect_error(EACCES, mode);
        expect_error(EACCES, "chmod 600");
        cr_assert_eq(file_mode(), bad[i], "the file must be left as it was");
    }
}

Test(credentials, file_of_another_user_is_refused)
{
    if (geteuid() != 0)
        cr_skip_test("needs root to give the file away");
    write_file(good_file, 0600);
    cr_assert_eq(chown(file, 4242, (gid_t) -1), 0);
    expect_error(EACCES, "is owned by uid 4242");
}

Test(credentials, not_a_regular_file)
{
    cr_assert_eq(mkdir(file, 0700), 0);
    expect_error(EINVAL, "is not a regular file");
    cr_assert_eq(rmdir(file), 0);
    cr_assert_eq(mkfifo(file, 0600), 0);
    expect_error(EINVAL, "is not a regular file"); /* and does not hang on open */
}

Test(credentials, missing_data_dir)
{
    struct credentials c;
    struct ld_err err;

    cr_assert_eq(credentials_load("/nonexistent/lambdad", &c, NULL, &err), -ENOENT);
    cr_assert(strstr(err.msg, "data dir /nonexistent/lambdad"), "%s", err.msg);
}

/* ---- damaged files ------------------------------------------------------------ */

Test(credentials, damaged_files_say_what_is_wrong)
{
    static const struct {
        const char *text, *error;
    } cases[] = {
        {"", "no [default] section"},
        {"# only a comment\n", "no [default] section"},
        {"[default]\n", "[default] has no aws_access_key_id"},
        {"[default]\naws_access_key_id = A\n", "[default] has no aws_secret_access_key"},
        {"[default]\naws_secret_access_key = s\n", "[default] has no aws_access_key_id"},
        {"[profile x]\naws_access_key_id = A\naws_secret_access_key = s\n", "no [default]"},
        {"aws_access_key_id = A\n", "line 1: 'key = value' before any [section]"},
        {"[default]\naws_access_key_id = A\ngarbage\n", "line 3: expected 'key = value'"},
        {"[default\n", "line 1: unterminated [section]"},
        {"[default]\naws_access_key_id = A\naws_access_key_id = B\n",
         "line 3: aws_access_key_id given twice"},
        {"[default]\naws_access_key_id=A\naws_secret_access_key=s\n[default]\n",
         "line 4: second [default] section"},
        {"[default]\naws_access_key_id = A B\naws_secret_access_key = s\n", "access key id"},
        {"[default]\naws_access_key_id = \naws_secret_access_key = s\n", "access key id"},
        {"[default]\naws_access_key_id = A\naws_secret_access_key = \n", "secret access key"},
        {"[default]\naws_access_key_id = A\naws_secret_access_key = s\naws_session_token = \n",
         "session token"},
        {"[default]\naws_access_key_id = A\naws_secret_access_key = caf\xc3\xa9\n",
         "secret access key"},
        {"\x89PNG\r\n\x1a\n", "line 1: expected 'key = value'"},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_file(cases[i].text, 0600);
        expect_error(EINVAL, cases[i].error);
        expect_error(EINVAL, file); /* the message names the file */
    }
}

Test(credentials, nul_bytes_and_oversized_files)
{
    int fd;
    char *big;

    fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, "[default]\n\0x", 12), 12);
    close(fd);
    expect_error(EINVAL, "has NUL bytes");
    big = malloc(CREDENTIALS_FILE_MAX + 2);
    cr_assert_not_null(big);
    memset(big, '#', CREDENTIALS_FILE_MAX + 1);
    big[CREDENTIALS_FILE_MAX + 1] = '\0';
    write_file(big, 0600);
    free(big);
    expect_error(EINVAL, "is over 65536 bytes");
}

Test(credentials, overlong_values_are_refused)
{
    char *text = malloc(20000);

    cr_assert_not_null(text);
    strcpy(text, "[default]\naws_access_key_id = ");
    memset(text + strlen(text), 'A', 129);
    strcpy(text + strlen("[default]\naws_access_key_id = ") + 129, "\naws_secret_access_key = s\n");
    write_file(text, 0600);
    expect_error(EINVAL, "access key id must be 1 to 128");
    strcpy(text, "[default]\naws_access_key_id = A\naws_session_token = ");
    memset(text + strlen(text), 't', 8193);
    strcpy(text + strlen("[default]\naws_access_key_id = A\naws_session_token = ") + 8193,
           "\naws_secret_access_key = s\n");
    write_file(text, 0600);
    expect_error(EINVAL, "session token must be 1 to 8192");
    free(text);
}

/* ---- generation ---------------------------------------------------------------- */

Test(credentials, generated_once_with_aws_shapes)
{
    struct credentials a, b;
    struct ld_err err;
    bool gen = false;
    int fds = count_fds();

    cr_assert_eq(credentials_load(dir, &a, &gen, &err), 0, "%s", err.msg);
    cr_assert(gen);
    cr_assert_eq(a.source, CREDENTIALS_GENERATED);
    cr_assert(matches(a.access_key_id, "^AKIA[A-Z0-9]{16}$"), "id %s", a.access_key_id);
    cr_assert(matches(a.secret_access_key, "^[A-Za-z0-9+/]{40}$"), "secret %s",
              a.secret_access_key);
    cr_assert_str_eq(a.session_token, "");
    cr_assert_eq(file_mode(), 0600);
    cr_assert_eq(dir_entries(), 1, "a temporary file was left behind");
    cr_assert_eq(count_fds(), fds, "fd leaked");

    cr_assert_eq(credentials_load(dir, &b, &gen, &err), 0, "%s", err.msg);
    cr_assert_not(gen, "the second start must reuse the key");
    cr_assert_eq(b.source, CREDENTIALS_FROM_FILE);
    cr_assert_str_eq(b.access_key_id, a.access_key_id);
    cr_assert_str_eq(b.secret_access_key, a.secret_access_key);
    assert_no_leaks();
}

Test(credentials, generated_file_is_0600_whatever_the_umask)
{
    struct credentials c;
    struct ld_err err;
    mode_t old = umask(0);

    cr_assert_eq(credentials_load(dir, &c, NULL, &err), 0, "%s", err.msg);
    cr_assert_eq(file_mode(), 0600);
    cr_assert_eq(unlink(file), 0);
    umask(0277); /* would give 0400: still readable by us, still 0600 */
    cr_assert_eq(credentials_load(dir, &c, NULL, &err), 0, "%s", err.msg);
    cr_assert_eq(file_mode(), 0600);
    umask(old);
}

Test(credentials, generated_file_is_an_aws_credentials_file)
{
    struct credentials c;
    struct ld_err err;
    char text[1024], want_id[192], want_secret[192];
    FILE *f;
    size_t n;

    cr_assert_eq(credentials_load(dir, &c, NULL, &err), 0, "%s", err.msg);
    f = fopen(file, "re");
    cr_assert_not_null(f);
    n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    snprintf(want_id, sizeof want_id, "\naws_access_key_id = %s\n", c.access_key_id);
    snprintf(want_secret, sizeof want_secret, "\naws_secret_access_key = %s\n",
             c.secret_access_key);
    cr_assert(strstr(text, "\n[default]\n"), "%s", text);
    cr_assert(strstr(text, want_id), "%s", text);
    cr_assert(strstr(text, want_secret), "%s", text);
}

Test(credentials, generated_keys_differ)
{
    char first[CREDENTIALS_ID_MAX + 1];
    struct credentials c;
    struct ld_err err;

    cr_assert_eq(credentials_load(dir, &c, NULL, &err), 0, "%s", err.msg);
    strcpy(first, c.access_key_id);
    cr_assert_eq(unlink(file), 0);
    cr_assert_eq(credentials_load(dir, &c, NULL, &err), 0, "%s", err.msg);
    cr_assert_str_neq(c.access_key_id, first);
}

Test(credentials, unwritable_data_dir)
{
    if (geteuid() == 0)
        cr_skip_test("root writes anywhere");
    cr_assert_eq(chmod(dir, 0500), 0);
    expect_error(EACCES, "credentials.tmp-");
    cr_assert_eq(chmod(dir, 0700), 0);
}

/* Sixteen first starts at once: one key, generated by exactly one of them,
 * and no temporary file left over. */
Test(credentials, concurrent_first_starts_agree_on_one_key)
{
    enum { N = 16 };
    struct record {
        int rc;
        bool generated;
        char id[CREDENTIALS_ID_MAX + 1];
        char secret[CREDENTIALS_SECRET_MAX + 1];
    };
    int go[2], out[2], generated = 0;
    pid_t pids[N];
    struct record first = {0};

    for (int round = 0; round < 5; round++) {
        cr_assert_eq(pipe(go), 0);
        cr_assert_eq(pipe(out), 0);
        for (int i = 0; i < N; i++) {
            pids[i] = fork();
            cr_assert_geq(pids[i], 0);
            if (pids[i] == 0) {
                struct credentials c;
                struct ld_err err;
                struct record r = {0};
                char b;

                close(go[1]);
                close(out[0]);
                (void) !read(go[0], &b, 1); /* EOF when the parent lets go */
                r.rc = credentials_load(dir, &c, &r.generated, &err);
                strcpy(r.id, c.access_key_id);
                strcpy(r.secret, c.secret_access_key);
                _exit(write(out[1], &r, sizeof r) == sizeof r ? 0 : 1);
            }
        }
        close(go[0]);
        close(out[1]);
        close(go[1]); /* all children start together */
        generated = 0;
        for (int i = 0; i < N; i++) {
            struct record r;

            cr_assert_eq(read(out[0], &r, sizeof r), (ssize_t) sizeof r);
            cr_assert_eq(r.rc, 0);
            if (i == 0)
                first = r;
            cr_assert_str_eq(r.id, first.id, "two keys: %s and %s", r.id, first.id);
            cr_assert_str_eq(r.secret, first.secret);
            generated += r.generated;
        }
        close(out[0]);
        for (int i = 0; i < N; i++) {
            int status;

            cr_assert_eq(waitpid(pids[i], &status, 0), pids[i]);
            cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        }
        cr_assert_eq(generated, 1, "round %d: %d processes think they made the key", round,
                     generated);
        cr_assert_eq(dir_entries(), 1, "round %d: temporary files left behind", round);
        cr_assert_eq(unlink(file), 0);
    }
}
