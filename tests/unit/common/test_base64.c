/* tests/unit/common/test_base64.c: standard base64 (src/common/base64.h).
 *
 * RFC 4648 §10 vectors, round trips of every length 0..300 with random
 * bytes into heap buffers of exactly the documented size (so ASan sees any
 * overrun), padding optional on decode, and the inputs decode must refuse. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "common/base64.h"

#include "../checks.h"

/* ---- helpers ------------------------------------------------------------ */

static size_t enc_cap(size_t len)
{
    return 4 * ((len + 2) / 3) + 1;
}

static size_t dec_cap(size_t len)
{
    return len / 4 * 3 + 3;
}

/* Encodes into a heap buffer of exactly enc_cap(len); caller frees. */
static char *encode(const void *in, size_t len, size_t *out_len)
{
    char *out = malloc(enc_cap(len));

    cr_assert_not_null(out);
    *out_len = ld_base64_encode(in, len, out);
    return out;
}

/* Decodes s into a heap buffer of exactly dec_cap(len); caller frees. */
static long decode(const char *s, size_t len, unsigned char **out)
{
    /* Copy without a NUL so a read past len is caught too. */
    char *in = malloc(len ? len : 1);
    long n;

    cr_assert_not_null(in);
    memcpy(in, s, len);
    *out = malloc(dec_cap(len));
    cr_assert_not_null(*out);
    n = ld_base64_decode(in, len, *out);
    free(in);
    return n;
}

static void assert_decodes(const char *s, const char *want, size_t want_len)
{
    unsigned char *out;
    long n = decode(s, strlen(s), &out);

    cr_assert_eq(n, (long) want_len, "decode(\"%s\") = %ld, want %zu", s, n, want_len);
    cr_assert(memcmp(out, want, want_len) == 0, "decode(\"%s\") bytes differ", s);
    free(out);
}

static void assert_rejected(const char *s, size_t len)
{
    unsigned char *out;
    long n = decode(s, len, &out);

    cr_assert_eq(n, -EINVAL, "decode(\"%.*s\") = %ld, want -EINVAL", (int) len, s, n);
    free(out);
}

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* ---- RFC 4648 §10 ---------------------------------------------------------- */

static const struct {
    const char *plain, *b64;
} rfc[] = {
    {"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},        {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
};
#define N_RFC (sizeof rfc / sizeof rfc[0])

Test(base64, rfc4648_encode)
{
    for (size_t i = 0; i < N_RFC; i++) {
        size_t n;
        char *out = encode(rfc[i].plain, strlen(rfc[i].plain), &n);

        cr_assert_str_eq(out, rfc[i].b64, "encode(\"%s\")", rfc[i].plain);
        cr_assert_eq(n, strlen(rfc[i].b64), "encode(\"%s\") returned %zu", rfc[i].plain, n);
        free(out);
    }
    assert_no_leaks();
}

Test(base64, rfc4648_decode_padded)
{
    for (size_t i = 0; i < N_RFC; i++)
        assert_decodes(rfc[i].b64, rfc[i].plain, strlen(rfc[i].plain));
    assert_no_leaks();
}

Test(base64, rfc4648_decode_unpadded)
{
    for (size_t i = 0; i < N_RFC; i++) {
        char s[16];
        size_t l = strlen(rfc[i].b64);

        memcpy(s, rfc[i].b64, l + 1);
        while (l > 0 && s[l - 1] == '=')
            s[--l] = '\0';
        assert_decodes(s, rfc[i].plain, strlen(rfc[i].plain));
    }
    /* One '=' where two belong is fine too: padding is optional. */
    assert_decodes("Zg=", "f", 1);
    assert_decodes("Zm9vYg=", "foob", 4);
    assert_no_leaks();
}

Test(base64, edge_bytes_use_plus_and_slash)
{
    static const unsigned char ff[3] = {0xff, 0xff, 0xff};
    static const unsigned char fbff[2] = {0xfb, 0xff};
    static const unsigned char zero[3] = {0, 0, 0};
    static const unsigned char f8[1] = {0xf8};
    size_t n;
    char *out;

    out = encode(ff, 3, &n);
    cr_assert_str_eq(out, "////");
    free(out);
    out = encode(fbff, 2, &n);
    cr_assert_str_eq(out, "+/8=");
    free(out);
    out = encode(zero, 3, &n);
    cr_assert_str_eq(out, "AAAA");
    free(out);
    out = encode(f8, 1, &n);
    cr_assert_str_eq(out, "+A==");
    free(out);
    assert_decodes("////", (const char *) ff, 3);
    assert_decodes("+/8=", (const char *) fbff, 2);
    assert_decodes("AAAA", (const char *) zero, 3);
    assert_no_leaks();
}

Test(base64, every_byte_value)
{
    unsigned char in[256];
    unsigned char *back;
    size_t n;
    char *out;
    long m;

    for (int i = 0; i < 256; i++)
        in[i] = (unsigned char) i;
    out = encode(in, sizeof in, &n);
    cr_assert_eq(n, 344);
    /* Known prefix: 00 01 02 -> AAEC, 03 04 05 -> AwQF. */
    cr_assert(strncmp(out, "AAECAwQF", 8) == 0, "got %.8s", out);
    cr_assert_str_eq(out + 336, "/P3+/w==");
    m = decode(out, n, &back);
    cr_assert_eq(m, 256);
    cr_assert(memcmp(back, in, 256) == 0);
    free(out);
    free(back);
    assert_no_leaks();
}

/* ---- round trips ------------------------------------------------------------ */

Test(base64, round_trip_every_length_0_to_300)
{
    for (size_t len = 0; len <= 300; len++) {
        for (int rep = 0; rep < 4; rep++) {
            unsigned char *in = malloc(len ? len : 1), *back;
            size_t n, pad = 0;
            char *out;
            long m;

            cr_assert_not_null(in);
            if (len)
                cr_assert_eq(getrandom(in, len, 0), (ssize_t) len);
            out = encode(in, len, &n);
            cr_assert_eq(n, 4 * ((len + 2) / 3), "len %zu: encoded %zu chars", len, n);
            cr_assert_eq(strlen(out), n, "len %zu: not NUL-terminated at %zu", len, n);
            cr_assert_eq(n % 4, 0);
            while (pad < n && out[n - 1 - pad] == '=')
                pad++;
            cr_assert_eq(pad, (3 - len % 3) % 3, "len %zu: %zu '='", len, pad);
            cr_assert_eq(strspn(out, alphabet), n - pad, "len %zu: bad character in %s", len,
                         out);

            m = decode(out, n, &back);
            cr_assert_eq(m, (long) len, "len %zu: decoded %ld bytes", len, m);
            cr_assert(len == 0 || memcmp(back, in, len) == 0, "len %zu: round trip differs",
                      len);
            free(back);

            /* Same without the padding. */
            m = decode(out, n - pad, &back);
            cr_assert_eq(m, (long) len, "len %zu unpadded: decoded %ld bytes", len, m);
            cr_assert(len == 0 || memcmp(back, in, len) == 0, "len %zu unpadded differs", len);
            free(back);
            free(out);
            free(in);
        }
    }
    assert_no_leaks();
}

Test(base64, decode_writes_within_documented_size)
{
    /* decode() hands out exactly len / 4 * 3 + 3 bytes; fill a canary past
     * the decoded length and check nothing else was touched. */
    static const char *const in[] = {"Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy"};

    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        size_t l = strlen(in[i]), cap = dec_cap(l);
        unsigned char *out = malloc(cap);
        long n;

        cr_assert_not_null(out);
        memset(out, 0xa5, cap);
        n = ld_base64_decode(in[i], l, out);
        cr_assert_geq(n, 0);
        for (size_t k = (size_t) n; k < cap; k++)
            cr_assert_eq(out[k], 0xa5, "\"%s\": byte %zu past the output was written", in[i], k);
        free(out);
    }
    assert_no_leaks();
}

/* ---- rejected input ---------------------------------------------------------- */

Test(base64, invalid_characters_rejected)
{
    static const char *const bad[] = {
        "Zm9v Ym Fy", "Zm9v\nYmFy", "Zm9v\tYmFy", "Zm9vYmFy\n", " Zm9v", "Zm9v\r\n",
        "Zm-v",       "Zm_v",       "Zm9.",       "Zm9*",      "Zm9\"", "Zm9%",
        "Zg==Zg==",   "Z=g=",       "=Zg=",       "Zm=v",      "Zm9\x80", "Zm9\xff",
        "Zm9\x7f",    "Zm9:",       "Zm9@",       "Zm9[",      "Zm9`",  "Zm9{",
    };

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_rejected(bad[i], strlen(bad[i]));
    /* An embedded NUL is a character like any other. */
    assert_rejected("Zm\0v", 4);
    assert_rejected("Zm9vYmFy\0", 9);
    assert_no_leaks();
}

Test(base64, impossible_lengths_rejected)
{
    /* 4k+1 characters cannot come from any byte string. */
    assert_rejected("Z", 1);
    assert_rejected("Z=", 2);
    assert_rejected("Z==", 3);
    assert_rejected("Z===", 4);
    assert_rejected("Zm9vY", 5);
    assert_rejected("Zm9vY===", 8);
    assert_rejected("Zm9vYmFyZ", 9);
    assert_no_leaks();
}

Test(base64, empty_input_decodes_to_nothing)
{
    unsigned char *out;

    cr_assert_eq(decode("", 0, &out), 0);
    free(out);
    assert_no_leaks();
}

Test(base64, aws_style_client_context)
{
    /* X-Amz-Client-Context is base64 of a JSON document. */
    const char *json = "{\"custom\":{\"k\":\"v\"},\"env\":{\"platform\":\"Linux\"}}";
    size_t n;
    char *out = encode(json, strlen(json), &n);

    cr_assert_str_eq(out, "eyJjdXN0b20iOnsiayI6InYifSwiZW52Ijp7InBsYXRmb3JtIjoiTGludXgifX0=");
    assert_decodes(out, json, strlen(json));
    free(out);
    assert_no_leaks();
}
