/* tests/unit/common/test_ids.c: request/extension ids and hex suffixes
 * (src/common/ids.h).
 *
 * Generated values are checked for their exact shape (RFC 9562 §5.4 for v4:
 * version nibble 4, variant bits 10), uniqueness and digit coverage; the
 * validator against near misses, each in a heap buffer of exactly its length. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/ids.h"

#include "../checks.h"

/* ---- helpers ------------------------------------------------------------ */

static bool is_lower_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static int hex_value(char c)
{
    return c <= '9' ? c - '0' : c - 'a' + 10;
}

static void assert_uuid_v4_shape(const char *u)
{
    cr_assert_eq(strlen(u), LD_UUID_LEN, "\"%s\" is %zu chars", u, strlen(u));
    for (size_t i = 0; i < LD_UUID_LEN; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23)
            cr_assert_eq(u[i], '-', "\"%s\": no dash at %zu", u, i);
        else
            cr_assert(is_lower_hex(u[i]), "\"%s\": char %zu is not lowercase hex", u, i);
    }
    cr_assert_eq(u[14], '4', "\"%s\": version nibble %c", u, u[14]);
    cr_assert(strchr("89ab", u[19]) != NULL, "\"%s\": variant nibble %c", u, u[19]);
}

/* ld_uuid_valid on a heap copy of exactly len bytes (no NUL). */
static bool valid(const char *s, size_t len)
{
    char *p = malloc(len ? len : 1);
    bool ok;

    cr_assert_not_null(p);
    memcpy(p, s, len);
    ok = ld_uuid_valid(p, len);
    free(p);
    return ok;
}

static bool valid_str(const char *s)
{
    return valid(s, strlen(s));
}

static int cmp_uuid(const void *a, const void *b)
{
    return memcmp(a, b, LD_UUID_LEN);
}

/* ---- ld_uuid_v4 -------------------------------------------------------------- */

Test(ids, uuid_v4_shape_and_bits)
{
    for (int i = 0; i < 2000; i++) {
        char *u = malloc(LD_UUID_LEN + 1); /* exactly the documented size */

        cr_assert_not_null(u);
        ld_uuid_v4(u);
        assert_uuid_v4_shape(u);
        cr_assert(ld_uuid_valid(u, strlen(u)), "own uuid \"%s\" not valid", u);
        free(u);
    }
    assert_no_leaks();
}

Test(ids, uuid_v4_unique_over_100k)
{
    enum { N = 100000 };
    char(*u)[LD_UUID_LEN + 1] = malloc(N * sizeof *u);

    cr_assert_not_null(u);
    for (size_t i = 0; i < N; i++)
        ld_uuid_v4(u[i]);
    qsort(u, N, sizeof *u, cmp_uuid);
    for (size_t i = 1; i < N; i++)
        cr_assert_neq(memcmp(u[i - 1], u[i], LD_UUID_LEN), 0, "duplicate uuid %s", u[i]);
    free(u);
    assert_no_leaks();
}

Test(ids, uuid_v4_random_positions_cover_all_digits)
{
    /* 122 random bits: every free hex position sees every digit, and the
     * variant position sees each of 8, 9, a, b. */
    unsigned seen[LD_UUID_LEN] = {0}; /* bitmask of digits seen per position */

    for (int i = 0; i < 5000; i++) {
        char u[LD_UUID_LEN + 1];

        ld_uuid_v4(u);
        for (size_t k = 0; k < LD_UUID_LEN; k++)
            if (u[k] != '-')
                seen[k] |= 1u << hex_value(u[k]);
    }
    for (size_t k = 0; k < LD_UUID_LEN; k++) {
        if (k == 8 || k == 13 || k == 18 || k == 23)
            continue;
        if (k == 14)
            cr_assert_eq(seen[k], 1u << 4, "version position saw %#x", seen[k]);
        else if (k == 19)
            cr_assert_eq(seen[k], 0xf00u, "variant position saw %#x", seen[k]);
        else
            cr_assert_eq(seen[k], 0xffffu, "position %zu saw only %#x", k, seen[k]);
    }
}

/* The pool comment promises a forked process does not hand out what the
 * parent hands out: ids made after a fork must differ between the two. */
Test(ids, uuid_differs_between_parent_and_forked_child)
{
    char warm[LD_UUID_LEN + 1], mine[LD_UUID_LEN + 1], theirs[LD_UUID_LEN + 1] = {0};
    int pfd[2], status;
    pid_t pid;

    ld_uuid_v4(warm); /* the pool now holds unused bytes */
    cr_assert_eq(pipe(pfd), 0);
    pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        char u[LD_UUID_LEN + 1];

        ld_uuid_v4(u);
        _exit(write(pfd[1], u, LD_UUID_LEN) == LD_UUID_LEN ? 0 : 1);
    }
    close(pfd[1]);
    ld_uuid_v4(mine);
    cr_assert_eq(read(pfd[0], theirs, LD_UUID_LEN), LD_UUID_LEN);
    close(pfd[0]);
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_uuid_v4_shape(theirs);
    cr_expect_str_neq(mine, theirs, "parent and child both made %s", mine);
}

/* ---- ld_uuid_valid ----------------------------------------------------------- */

Test(ids, uuid_valid_accepts)
{
    cr_assert(valid_str("8476a536-e9f4-11e8-9739-2dfe598c3fcd"));
    cr_assert(valid_str("00000000-0000-0000-0000-000000000000"));
    cr_assert(valid_str("ffffffff-ffff-ffff-ffff-ffffffffffff"));
    cr_assert(valid_str("0123abcd-4567-89ef-0123-456789abcdef"));
    /* Shape only: any version, and upper-case hex is still hex. */
    cr_assert(valid_str("8476A536-E9F4-11E8-9739-2DFE598C3FCD"));
    cr_assert(valid_str("8476a536-E9F4-41e8-B739-2dfe598c3fcd"));
    /* len bounds the check: a valid uuid followed by junk, len 36. */
    cr_assert(ld_uuid_valid("8476a536-e9f4-11e8-9739-2dfe598c3fcdJUNK", 36));
}

Test(ids, uuid_valid_rejects_wrong_length)
{
    const char *u = "8476a536-e9f4-11e8-9739-2dfe598c3fcd";

    for (size_t l = 0; l < 36; l++)
        cr_assert(!valid(u, l), "prefix of %zu accepted", l);
    cr_assert(!valid_str("8476a536-e9f4-11e8-9739-2dfe598c3fcd0"));
    cr_assert(!valid_str("8476a536-e9f4-11e8-9739-2dfe598c3fcd\n"));
    cr_assert(!valid_str("{8476a536-e9f4-11e8-9739-2dfe598c3fcd}"));
    cr_assert(!valid_str("8476a536e9f411e897392dfe598c3fcd"));
    cr_assert(!valid_str(""));
}

Test(ids, uuid_valid_rejects_misplaced_dashes)
{
    cr_assert(!valid_str("8476a53-6e9f4-11e8-9739-2dfe598c3fcd"));
    cr_assert(!valid_str("8476a536e-9f4-11e8-9739-2dfe598c3fcd"));
    cr_assert(!valid_str("8476a536-e9f411e8-9739-2dfe598c-3fcd"));
    cr_assert(!valid_str("8476a536-e9f4-11e8-97392-dfe598c3fcd"));
    cr_assert(!valid_str("8476a536_e9f4_11e8_9739_2dfe598c3fcd"));
    cr_assert(!valid_str("------------------------------------"));
    cr_assert(!valid_str("8476a536-e9f4-11e8-9739-2dfe598c3fc-"));
}

Test(ids, uuid_valid_rejects_non_hex_at_every_position)
{
    static const char bad[] = {'g', 'G', 'z', 'x', ' ', '/', ':', '@', '`', '-', '\0', '\n',
                               '.', '+'};
    const char *good = "8476a536-e9f4-11e8-9739-2dfe598c3fcd";

    for (size_t pos = 0; pos < 36; pos++) {
        bool dash = pos == 8 || pos == 13 || pos == 18 || pos == 23;

        for (size_t b = 0; b < sizeof bad; b++) {
            char u[37];

            if (dash && bad[b] == '-')
                continue;
            memcpy(u, good, 37);
            u[pos] = bad[b];
            cr_assert(!valid(u, 36), "0x%02x at %zu accepted", (unsigned char) bad[b], pos);
        }
        if (dash) {
            char u[37];

            memcpy(u, good, 37);
            u[pos] = 'a';
            cr_assert(!valid(u, 36), "hex in place of dash %zu accepted", pos);
        }
    }
}

Test(ids, uuid_valid_rejects_every_non_hex_byte)
{
    /* Any byte outside [0-9a-fA-F] at a hex position, control bytes
     * included (0x10..0x19 OR 0x20 is '0'..'9'). */
    const char *good = "8476a536-e9f4-11e8-9739-2dfe598c3fcd";
    size_t accepted = 0;
    char first[64] = "";

    for (int c = 0; c < 256; c++) {
        char u[37];

        if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))
            continue;
        memcpy(u, good, 37);
        u[0] = (char) c;
        if (valid(u, 36)) {
            if (!accepted)
                snprintf(first, sizeof first, "0x%02x", c);
            accepted++;
        }
    }
    cr_expect_eq(accepted, 0, "%zu non-hex bytes accepted as hex digits, first %s", accepted,
                 first);
}

/* ---- ld_random_hex -------------------------------------------------------------- */

Test(ids, random_hex_length_and_charset)
{
    for (size_t n = 0; n <= 300; n++) {
        char *out = malloc(n + 1); /* exactly the documented size */

        cr_assert_not_null(out);
        ld_random_hex(out, n);
        cr_assert_eq(out[n], '\0', "n=%zu: no NUL at n", n);
        cr_assert_eq(strlen(out), n, "n=%zu: strlen %zu", n, strlen(out));
        for (size_t i = 0; i < n; i++)
            cr_assert(is_lower_hex(out[i]), "n=%zu: char %zu is 0x%02x", n, i,
                      (unsigned char) out[i]);
        free(out);
    }
    assert_no_leaks();
}

Test(ids, random_hex_every_position_is_random)
{
    /* Odd lengths use half a byte at the end: that digit must vary too, and
     * every position (high and low nibbles, across the 64-digit chunks) must
     * see all 16 digits. */
    static const size_t lens[] = {1, 7, 32, 63, 65, 129};

    for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
        size_t n = lens[li];
        unsigned seen[129] = {0};

        for (int rep = 0; rep < 2000; rep++) {
            char out[130];

            ld_random_hex(out, n);
            for (size_t i = 0; i < n; i++)
                seen[i] |= 1u << hex_value(out[i]);
        }
        for (size_t i = 0; i < n; i++)
            cr_assert_eq(seen[i], 0xffffu, "n=%zu position %zu saw only %#x", n, i, seen[i]);
    }
}

Test(ids, random_hex_digit_frequencies_are_even)
{
    enum { N = 320000 };
    char *out = malloc(N + 1);
    size_t freq[16] = {0};

    cr_assert_not_null(out);
    ld_random_hex(out, N);
    for (size_t i = 0; i < N; i++)
        freq[hex_value(out[i])]++;
    /* Expected 20000 each; 6 sigma is about 830. */
    for (int d = 0; d < 16; d++)
        cr_assert(freq[d] > 19000 && freq[d] < 21000, "digit %x: %zu of %d", d, freq[d], N);
    free(out);
    assert_no_leaks();
}

Test(ids, random_hex_calls_differ)
{
    char a[33], b[33], c[17], d[17];

    ld_random_hex(a, 32);
    ld_random_hex(b, 32);
    cr_assert_str_neq(a, b);
    ld_random_hex(c, 16);
    ld_random_hex(d, 16);
    cr_assert_str_neq(c, d);
}
