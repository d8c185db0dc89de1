/* tests/unit/common/test_ctl_proto.c: the control-channel frame format.
 *
 * Round trips of each message kind, the exact bytes on the wire, a stream cut
 * at every byte boundary, and every way a peer's frame can be malformed. Bad
 * frames are written byte by byte here (not with the builder), because the
 * builder cannot produce them. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/ctl_proto.h"

#include "../checks.h"

/* Criterion ignores LeakSanitizer's verdict at a worker's exit, and failures
 * in a suite's .fini, so each test checks for leaks itself as its last step. */
/* A hand-made frame: header, then raw body bytes appended by the test. */
static void raw_hdr(struct ld_buf *b, uint32_t body_len, uint16_t type, uint16_t flags)
{
    uint8_t h[CTL_HDR_LEN] = {
        (uint8_t) body_len, (uint8_t) (body_len >> 8), (uint8_t) (body_len >> 16),
        (uint8_t) (body_len >> 24), (uint8_t) type, (uint8_t) (type >> 8),
        (uint8_t) flags, (uint8_t) (flags >> 8),
    };
    cr_assert_eq(ld_buf_append(b, h, sizeof h), 0);
}

static void raw_field(struct ld_buf *b, uint16_t tag, uint32_t len, const void *p, size_t n)
{
    uint8_t h[CTL_FIELD_HDR_LEN] = {
        (uint8_t) tag, (uint8_t) (tag >> 8), (uint8_t) len,
        (uint8_t) (len >> 8), (uint8_t) (len >> 16), (uint8_t) (len >> 24),
    };
    cr_assert_eq(ld_buf_append(b, h, sizeof h), 0);
    cr_assert_eq(ld_buf_append(b, p, n), 0);
}

static struct ctl_frame parse_whole(const struct ld_buf *b)
{
    struct ctl_frame f;

    cr_assert_eq(ctl_frame_parse(b->data, b->len, &f), (ssize_t) b->len);
    return f;
}

static void assert_str_field(const struct ctl_frame *f, enum ctl_tag tag, const char *want)
{
    char *s = ctl_get_strdup(f, tag);

    cr_assert_not_null(s, "tag %d missing", (int) tag);
    cr_assert_str_eq(s, want);
    free(s);
}

static void assert_u64_field(const struct ctl_frame *f, enum ctl_tag tag, uint64_t want)
{
    uint64_t v = 0;

    cr_assert_eq(ctl_get_u64(f, tag, &v), 0, "tag %d", (int) tag);
    cr_assert_eq(v, want);
}

/* --- round trips --- */

Test(ctl_proto, start_round_trip_with_repeated_fields)
{
    static const char *const argv[] = {"/var/runtime/bootstrap", "--handler", "fn.main", ""};
    static const char *const env[] = {"AWS_REGION=eu-west-1", "EMPTY=", "X=a=b"};
    struct ld_buf out = {0};
    struct ctl_builder b;
    struct ctl_frame f;
    struct ctl_field fld;
    size_t pos = 0, nargs = 0, nenv = 0;

    ctl_begin(&b, &out, CTL_START);
    ctl_put_str(&b, CTL_T_FUNCTION_NAME, "hello");
    ctl_put_str(&b, CTL_T_FUNCTION_VERSION, "$LATEST");
    ctl_put_str(&b, CTL_T_HANDLER, "fn.main");
    ctl_put_u64(&b, CTL_T_MEMORY_MB, 128);
    ctl_put_u64(&b, CTL_T_TIMEOUT_MS, 3000);
    ctl_put_u64(&b, CTL_T_INIT_TIMEOUT_MS, 10000);
    for (size_t i = 0; i < sizeof argv / sizeof argv[0]; i++)
        ctl_put_str(&b, CTL_T_ARG, argv[i]);
    for (size_t i = 0; i < sizeof env / sizeof env[0]; i++)
        ctl_put_str(&b, CTL_T_ENV, env[i]);
    ctl_put_str(&b, CTL_T_RAPI_ADDR, "127.0.0.1:9001");
    ctl_put_str(&b, CTL_T_LOG_GROUP, NULL); /* skipped */
    cr_assert_eq(ctl_end(&b), 0);

    f = parse_whole(&out);
    cr_assert_eq(f.type, CTL_START);
    assert_str_field(&f, CTL_T_FUNCTION_NAME, "hello");
    assert_str_field(&f, CTL_T_FUNCTION_VERSION, "$LATEST");
    assert_str_field(&f, CTL_T_HANDLER, "fn.main");
    assert_str_field(&f, CTL_T_RAPI_ADDR, "127.0.0.1:9001");
    assert_u64_field(&f, CTL_T_MEMORY_MB, 128);
    assert_u64_field(&f, CTL_T_TIMEOUT_MS, 3000);
    assert_u64_field(&f, CTL_T_INIT_TIMEOUT_MS, 10000);
    cr_assert_null(ctl_get_strdup(&f, CTL_T_LOG_GROUP));
    cr_assert_eq(ctl_get(&f, CTL_T_LOG_GROUP, &fld), -ENOENT);

    /* Repeated fields come back in the order they were put. */
    while (ctl_field_next(&f, &pos, &fld)) {
        if (fld.tag == CTL_T_ARG) {
            cr_assert_lt(nargs, sizeof argv / sizeof argv[0]);
            cr_assert_eq(fld.len, strlen(argv[nargs]));
            cr_assert(memcmp(fld.p, argv[nargs], fld.len) == 0);
            nargs++;
        } else if (fld.tag == CTL_T_ENV) {
            cr_assert_lt(nenv, sizeof env / sizeof env[0]);
            cr_assert_eq(fld.len, strlen(env[nenv]));
            cr_assert(memcmp(fld.p, env[nenv], fld.len) == 0);
            nenv++;
        }
    }
    cr_assert_eq(pos, f.body_len);
    cr_assert_eq(nargs, sizeof argv / sizeof argv[0]);
    cr_assert_eq(nenv, sizeof env / sizeof env[0]);
    ld_buf_free(&out);
    assert_no_leaks();
}

Test(ctl_proto, invoke_round_trip_with_6mib_payload)
{
    const size_t n = 6u << 20;
    uint8_t *payload = malloc(n);
    struct ld_buf out = {0};
    struct ctl_builder b;
    struct ctl_frame f;
    struct ctl_field fld;

    cr_assert_not_null(payload);
    for (size_t i = 0; i < n; i++)
        payload[i] = (uint8_t) (i * 131u + (i >> 13)); /* includes NUL bytes */

    ctl_begin(&b, &out, CTL_INVOKE);
    ctl_put_str(&b, CTL_T_REQUEST_ID, "8476a536-e9f4-11e8-9739-2dfe598c3fcd");
    ctl_put_u64(&b, CTL_T_DEADLINE_MS, UINT64_C(1700000000123));
    ctl_put_str(&b, CTL_T_INVOKED_ARN, "arn:aws:lambda:us-east-1:000000000000:function:hello");
    ctl_put_str(&b, CTL_T_TRACE_ID, "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1");
    ctl_put_str(&b, CTL_T_CONTENT_TYPE, "application/octet-stream");
    ctl_put(&b, CTL_T_PAYLOAD, payload, n);
    cr_assert_eq(ctl_end(&b), 0);
    cr_assert_leq(out.len, CTL_MAX_FRAME);

    f = parse_whole(&out);
    cr_assert_eq(f.type, CTL_INVOKE);
    assert_str_field(&f, CTL_T_REQUEST_ID, "8476a536-e9f4-11e8-9739-2dfe598c3fcd");
    assert_u64_field(&f, CTL_T_DEADLINE_MS, UINT64_C(1700000000123));
    assert_str_field(&f, CTL_T_CONTENT_TYPE, "application/octet-stream");
    cr_assert_eq(ctl_get(&f, CTL_T_PAYLOAD, &fld), 0);
    cr_assert_eq(fld.len, n);
    cr_assert(memcmp(fld.p, payload, n) == 0);
    /* The payload is not copied: it points into the caller's buffer. */
    cr_assert((const char *) fld.p > out.data && (const char *) fld.p + n == out.data + out.len);
    free(payload);
    ld_buf_free(&out);
    assert_no_leaks();
}

Test(ctl_proto, log_round_trip)
{
    struct ld_buf out = {0};
    struct ctl_builder b;
    struct ctl_frame f;

    ctl_begin(&b, &out, CTL_LOG);
    ctl_put_u64(&b, CTL_T_LOG_SOURCE, CTL_LOG_EXTENSION);
    ctl_put_str(&b, CTL_T_LOG_NAME, "my-extension");
    ctl_put_u64(&b, CTL_T_TIME_US, UINT64_C(1700000000123456));
    ctl_put_str(&b, CTL_T_TEXT, "hello \xc3\xa9 world\t");
    cr_assert_eq(ctl_end(&b), 0);

    f = parse_whole(&out);
    cr_assert_eq(f.type, CTL_LOG);
    assert_u64_field(&f, CTL_T_LOG_SOURCE, CTL_LOG_EXTENSION);
    assert_str_field(&f, CTL_T_LOG_NAME, "my-extension");
    assert_u64_field(&f, CTL_T_TIME_US, UINT64_C(1700000000123456));
    assert_str_field(&f, CTL_T_TEXT, "hello \xc3\xa9 world\t");
    ld_buf_free(&out);
    assert_no_leaks();
}

Test(ctl_proto, result_round_trip)
{
    static const uint8_t body[] = {'{', '}', 0, 0xff, '\n'};
    struct ld_buf out = {0};
    struct ctl_builder b;
    struct ctl_frame f;
    struct ctl_field fld;

    ctl_begin(&b, &out, CTL_RESULT);
    ctl_put_str(&b, CTL_T_REQUEST_ID, "req-1");
    ctl_put_u64(&b, CTL_T_STATUS, CTL_FUNCTION_ERROR);
    ctl_put_str(&b, CTL_T_ERROR_TYPE, "Runtime.ExitError");
    ctl_put_str(&b, CTL_T_CONTENT_TYPE, "application/json");
    ctl_put(&b, CTL_T_PAYLOAD, body, sizeof body);
    ctl_put_u64(&b, CTL_T_DURATION_US, UINT64_MAX); /* all 64 bits survive */
    cr_assert_eq(ctl_end(&b), 0);

    f = parse_whole(&out);
    cr_assert_eq(f.type, CTL_RESULT);
    assert_str_field(&f, CTL_T_REQUEST_ID, "req-1");
    assert_u64_field(&f, CTL_T_STATUS, CTL_FUNCTION_ERROR);
    assert_str_field(&f, CTL_T_ERROR_TYPE, "Runtime.ExitError");
    assert_u64_field(&f, CTL_T_DURATION_US, UINT64_MAX);
    cr_assert_eq(ctl_get(&f, CTL_T_PAYLOAD, &fld), 0);
    cr_assert_eq(fld.len, sizeof body);
    cr_assert(memcmp(fld.p, body, sizeof body) == 0);
    ld_buf_free(&out);
    assert_no_leaks();
}

/* The byte layout is the contract with the other side: pin it down. */
Test(ctl_proto, wire_bytes_are_little_endian)
{
    static const uint8_t want[] = {
        /* body_len 24, type 21 (INVOKE_DONE), flags 0 */
        24, 0, 0, 0, 21, 0, 0, 0,
        /* tag 50 (DURATION_US), len 8, 0x0102030405060708 */
        50, 0, 8, 0, 0, 0, 8, 7, 6, 5, 4, 3, 2, 1,
        /* tag 32 (REQUEST_ID), len 4, "ab-1" */
        32, 0, 4, 0, 0, 0, 'a', 'b', '-', '1',
    };
    struct ld_buf out = {0};
    struct ctl_builder b;

    ctl_begin(&b, &out, CTL_INVOKE_DONE);
    ctl_put_u64(&b, CTL_T_DURATION_US, UINT64_C(0x0102030405060708));
    ctl_put_str(&b, CTL_T_REQUEST_ID, "ab-1");
    cr_assert_eq(ctl_end(&b), 0);
    cr_assert_eq(out.len, sizeof want);
    cr_assert(memcmp(out.data, want, sizeof want) == 0);
    ld_buf_free(&out);
    assert_no_leaks();
}

Test(ctl_proto, empty_body)
{
    struct ld_buf out = {0};
    struct ctl_builder b;
    struct ctl_frame f;
    struct ctl_field fld;
    size_t pos = 0;

    ctl_begin(&b, &out, CTL_SHUTDOWN);
    cr_assert_eq(ctl_end(&b), 0);
    cr_assert_eq(out.len, CTL_HDR_LEN);
    f = parse_whole(&out);
    cr_assert_eq(f.type, CTL_SHUTDOWN);
    cr_assert_eq(f.body_len, 0);
    cr_assert_eq(ctl_field_next(&f, &pos, &fld), 0);
    cr_assert_eq(ctl_get(&f, CTL_T_STATUS, &fld), -ENOENT);
    ld_buf_free(&out);
    assert_no_leaks();
}

/* --- streams --- */

Test(ctl_proto, several_frames_in_one_buffer)
{
    struct ld_buf out = {0};
    struct ctl_builder b;
    struct ctl_frame f;
    size_t off = 0;
    ssize_t n;
    uint64_t v;

    ctl_begin(&b, &out, CTL_STREAM_BEGIN);
    ctl_put_str(&b, CTL_T_REQUEST_ID, "r");
    ctl_put_str(&b, CTL_T_CONTENT_TYPE, "text/plain");
    cr_assert_eq(ctl_end(&b), 0);
    for (uint64_t i = 0; i < 3; i++) {
        ctl_begin(&b, &out, CTL_STREAM_DATA);
        ctl_put_str(&b, CTL_T_REQUEST_ID, "r");
        ctl_put_u64(&b, CTL_T_PAYLOAD, i);
        cr_assert_eq(ctl_end(&b), 0);
    }
    ctl_begin(&b, &out, CTL_STREAM_END);
    ctl_put_u64(&b, CTL_T_STATUS, CTL_OK);
    cr_assert_eq(ctl_end(&b), 0);

    cr_assert_gt(n = ctl_frame_parse(out.data, out.len, &f), 0);
    cr_assert_eq(f.type, CTL_STREAM_BEGIN);
    off += (size_t) n;
    for (uint64_t i = 0; i < 3; i++) {
        cr_assert_gt(n = ctl_frame_parse(out.data + off, out.len - off, &f), 0);
        cr_assert_eq(f.type, CTL_STREAM_DATA);
        cr_assert_eq(ctl_get_u64(&f, CTL_T_PAYLOAD, &v), 0);
        cr_assert_eq(v, i);
        off += (size_t) n;
    }
    cr_assert_gt(n = ctl_frame_parse(out.data + off, out.len - off, &f), 0);
    cr_assert_eq(f.type, CTL_STREAM_END);
    off += (size_t) n;
    cr_assert_eq(off, out.len);
    cr_assert_eq(ctl_frame_parse(out.data + off, 0, &f), 0);
    ld_buf_free(&out);
    assert_no_leaks();
}

/* What a reader on a non-blocking socket sees: the frame arrives in two reads
 * split at any byte. Until the last byte is in, parse asks for more. */
Test(ctl_proto, frame_split_at_every_byte)
{
    struct ld_buf whole = {0};
    struct ctl_builder b;
    struct ctl_frame f;

    ctl_begin(&b, &whole, CTL_START);
    ctl_put_str(&b, CTL_T_FUNCTION_NAME, "split");
    ctl_put_u64(&b, CTL_T_MEMORY_MB, 512);
    ctl_put(&b, CTL_T_PAYLOAD, NULL, 0);
    ctl_put_str(&b, CTL_T_ARG, "/bin/true");
    cr_assert_eq(ctl_end(&b), 0);

    for (size_t k = 0; k <= whole.len; k++) {
        struct ld_buf rx = {0};

        cr_assert_eq(ld_buf_append(&rx, whole.data, k), 0);
        if (k < whole.len)
            cr_assert_eq(ctl_frame_parse(rx.data, rx.len, &f), 0, "split at %zu", k);
        cr_assert_eq(ld_buf_append(&rx, whole.data + k, whole.len - k), 0);
        cr_assert_eq(ctl_frame_parse(rx.data, rx.len, &f), (ssize_t) whole.len);
        assert_str_field(&f, CTL_T_FUNCTION_NAME, "split");
        assert_u64_field(&f, CTL_T_MEMORY_MB, 512);
        assert_str_field(&f, CTL_T_ARG, "/bin/true");
        ld_buf_free(&rx);
    }
    ld_buf_free(&whole);
    assert_no_leaks();
}

/* --- malformed input --- */

Test(ctl_proto, truncated_header_needs_more)
{
    static const uint8_t h[CTL_HDR_LEN] = {0, 0, 0, 0, 1, 0, 0, 0};
    struct ctl_frame f = {0};

    for (size_t k = 0; k < CTL_HDR_LEN; k++)
        cr_assert_eq(ctl_frame_parse(h, k, &f), 0, "len %zu", k);
    cr_assert_eq(ctl_frame_parse(h, sizeof h, &f), CTL_HDR_LEN);
    cr_assert_eq(f.type, CTL_START);
    cr_assert_eq(f.body_len, 0);
    assert_no_leaks();
}

Test(ctl_proto, nonzero_flags_rejected)
{
    for (unsigned bit = 0; bit < 16; bit++) {
        struct ld_buf in = {0};
        struct ctl_frame f;

        raw_hdr(&in, 0, CTL_INVOKE, (uint16_t) (1u << bit));
        cr_assert_eq(ctl_frame_parse(in.data, in.len, &f), -EPROTO);
        ld_buf_free(&in);
    }
    assert_no_leaks();
}

/* Flags are judged as soon as the header is in, not after the body. */
Test(ctl_proto, nonzero_flags_rejected_before_body)
{
    struct ld_buf in = {0};
    struct ctl_frame f;

    raw_hdr(&in, 1000, CTL_INVOKE, 0x8000);
    cr_assert_eq(ctl_frame_parse(in.data, in.len, &f), -EPROTO);
    ld_buf_free(&in);
    assert_no_leaks();
}

Test(ctl_proto, field_overruns_body)
{
    struct ld_buf in = {0};
    struct ctl_frame f;

    /* The body holds 6 + 3 bytes; the field claims 4. */
    raw_hdr(&in, CTL_FIELD_HDR_LEN + 3, CTL_RESULT, 0);
    raw_field(&in, CTL_T_PAYLOAD, 4, "abc", 3);
    /* Trailing bytes from the next frame must not be taken as this one's. */
    cr_assert_eq(ld_buf_append(&in, "XXXXXXXX", 8), 0);
    cr_assert_eq(ctl_frame_parse(in.data, in.len, &f), -EPROTO);
    ld_buf_free(&in);
    assert_no_leaks();
}

Test(ctl_proto, field_length_near_u32_max)
{
    struct ld_buf in = {0};
    struct ctl_frame f;

    raw_hdr(&in, CTL_FIELD_HDR_LEN + 2, CTL_RESULT, 0);
    raw_field(&in, CTL_T_PAYLOAD, UINT32_MAX, "ab", 2);
    cr_assert_eq(ctl_frame_parse(in.data, in.len, &f), -EPROTO);
    ld_buf_free(&in);
    assert_no_leaks();
}

Test(ctl_proto, second_field_overruns_body)
{
    struct ld_buf in = {0};
    struct ctl_frame f;

    raw_hdr(&in, 2 * CTL_FIELD_HDR_LEN + 2 + 1, CTL_RESULT, 0);
    raw_field(&in, CTL_T_REQUEST_ID, 2, "ok", 2);
    raw_field(&in, CTL_T_PAYLOAD, 2, "x", 1);
    cr_assert_eq(ctl_frame_parse(in.data, in.len, &f), -EPROTO);
    ld_buf_free(&in);
    assert_no_leaks();
}

/* A body that ends inside a field header (1..5 bytes left) is malformed. */
Test(ctl_proto, partial_field_header_in_body)
{
    for (uint32_t left = 1; left < CTL_FIELD_HDR_LEN; left++) {
        struct ld_buf in = {0};
        struct ctl_frame f;

        raw_hdr(&in, CTL_FIELD_HDR_LEN + 1 + left, CTL_LOG, 0);
        raw_field(&in, CTL_T_TEXT, 1, "x", 1);
        cr_assert_eq(ld_buf_append(&in, "\0\0\0\0\0", left), 0);
        cr_assert_eq(ctl_frame_parse(in.data, in.len, &f), -EPROTO, "left %u", left);
        ld_buf_free(&in);
    }
    assert_no_leaks();
}

Test(ctl_proto, zero_length_fields)
{
    struct ld_buf in = {0};
    struct ctl_frame f;
    struct ctl_field fld;
    char *s;

    /* Hand-made and built the same way: both must parse. */
    raw_hdr(&in, 2 * CTL_FIELD_HDR_LEN, CTL_RESULT, 0);
    raw_field(&in, CTL_T_PAYLOAD, 0, NULL, 0);
    raw_field(&in, CTL_T_ERROR_TYPE, 0, NULL, 0);
    f = parse_whole(&in);
    cr_assert_eq(ctl_get(&f, CTL_T_PAYLOAD, &fld), 0);
    cr_assert_eq(fld.len, 0);
    s = ctl_field_strdup(&fld);
    cr_assert_not_null(s);
    cr_assert_str_eq(s, "");
    free(s);
    assert_str_field(&f, CTL_T_ERROR_TYPE, "");
    ld_buf_free(&in);

    {
        struct ctl_builder b;

        ctl_begin(&b, &in, CTL_RESULT);
        ctl_put(&b, CTL_T_PAYLOAD, NULL, 0);
        ctl_put_str(&b, CTL_T_ERROR_TYPE, "");
        cr_assert_eq(ctl_end(&b), 0);
        cr_assert_eq(in.len, CTL_HDR_LEN + 2 * CTL_FIELD_HDR_LEN);
        f = parse_whole(&in);
        cr_assert_eq(ctl_get(&f, CTL_T_PAYLOAD, &fld), 0);
        cr_assert_eq(fld.len, 0);
        ld_buf_free(&in);
    }
    assert_no_leaks();
}

Test(ctl_proto, unknown_tags_skipped)
{
    struct ld_buf in = {0};
    struct ctl_frame f;
    struct ctl_field fld;
    size_t pos = 0;
    int n = 0;

    raw_hdr(&in, 3 * CTL_FIELD_HDR_LEN + 5 + 0 + 3, CTL_INVOKE_DONE, 0);
    raw_field(&in, 999, 5, "hello", 5);
    raw_field(&in, 0xffff, 0, NULL, 0);
    raw_field(&in, CTL_T_REQUEST_ID, 3, "r-1", 3);
    f = parse_whole(&in);
    assert_str_field(&f, CTL_T_REQUEST_ID, "r-1");
    while (ctl_field_next(&f, &pos, &fld))
        n++;
    cr_assert_eq(n, 3);
    ld_buf_free(&in);
    assert_no_leaks();
}

/* Unknown frame types are the caller's to judge; the format still parses. */
Test(ctl_proto, unknown_type_parses)
{
    struct ld_buf in = {0};
    struct ctl_frame f;

    raw_hdr(&in, 0, 0xbeef, 0);
    f = parse_whole(&in);
    cr_assert_eq(f.type, 0xbeef);
    ld_buf_free(&in);
    assert_no_leaks();
}

Test(ctl_proto, oversize_length_rejected_before_body)
{
    static const uint32_t bad[] = {CTL_MAX_FRAME - CTL_HDR_LEN + 1, CTL_MAX_FRAME, UINT32_MAX};

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct ld_buf in = {0};
        struct ctl_frame f;

        raw_hdr(&in, bad[i], CTL_INVOKE, 0);
        /* Four bytes of length are enough to know. */
        for (size_t k = 4; k <= CTL_HDR_LEN; k++)
            cr_assert_eq(ctl_frame_parse(in.data, k, &f), -EMSGSIZE, "len %u, have %zu", bad[i], k);
        ld_buf_free(&in);
    }
    assert_no_leaks();
}

Test(ctl_proto, largest_length_waits_for_body)
{
    struct ld_buf in = {0};
    struct ctl_frame f;

    raw_hdr(&in, CTL_MAX_FRAME - CTL_HDR_LEN, CTL_INVOKE, 0);
    cr_assert_eq(ctl_frame_parse(in.data, in.len, &f), 0);
    ld_buf_free(&in);
    assert_no_leaks();
}

Test(ctl_proto, u64_wrong_length)
{
    struct ld_buf in = {0};
    struct ctl_frame f;
    uint64_t v = 42;

    raw_hdr(&in, 3 * CTL_FIELD_HDR_LEN + 4 + 9, CTL_INVOKE_DONE, 0);
    raw_field(&in, CTL_T_DURATION_US, 4, "\1\0\0\0", 4);
    raw_field(&in, CTL_T_MAX_MEMORY_KB, 9, "\1\0\0\0\0\0\0\0\0", 9);
    raw_field(&in, CTL_T_RESET, 0, NULL, 0);
    f = parse_whole(&in);
    cr_assert_eq(ctl_get_u64(&f, CTL_T_DURATION_US, &v), -EPROTO);
    cr_assert_eq(ctl_get_u64(&f, CTL_T_MAX_MEMORY_KB, &v), -EPROTO);
    cr_assert_eq(ctl_get_u64(&f, CTL_T_RESET, &v), -EPROTO);
    cr_assert_eq(ctl_get_u64(&f, CTL_T_STATUS, &v), -ENOENT);
    cr_assert_eq(v, 42, "v is written only on success");
    ld_buf_free(&in);
    assert_no_leaks();
}

/* ctl_get returns the first of repeated fields. */
Test(ctl_proto, get_returns_first)
{
    struct ld_buf out = {0};
    struct ctl_builder b;
    struct ctl_frame f;

    ctl_begin(&b, &out, CTL_START);
    ctl_put_str(&b, CTL_T_ARG, "first");
    ctl_put_str(&b, CTL_T_ARG, "second");
    cr_assert_eq(ctl_end(&b), 0);
    f = parse_whole(&out);
    assert_str_field(&f, CTL_T_ARG, "first");
    ld_buf_free(&out);
    assert_no_leaks();
}

/* --- builder failures --- */

/* A frame over the limit fails with -EMSGSIZE and leaves `out` holding
 * exactly what it held before: earlier frames intact, nothing partial. */
Test(ctl_proto, builder_over_limit_leaves_out_unchanged)
{
    const size_t big = CTL_MAX_FRAME - CTL_HDR_LEN - CTL_FIELD_HDR_LEN + 1;
    struct ld_buf out = {0};
    struct ctl_builder b;
    struct ctl_frame f;
    uint8_t *blob = calloc(1, big);
    char *before;
    size_t before_len;

    cr_assert_not_null(blob);
    ctl_begin(&b, &out, CTL_LOG);
    ctl_put_str(&b, CTL_T_TEXT, "kept");
    cr_assert_eq(ctl_end(&b), 0);
    before_len = out.len;
    before = malloc(before_len);
    cr_assert_not_null(before);
    memcpy(before, out.data, before_len);

    ctl_begin(&b, &out, CTL_RESULT);
    ctl_put_str(&b, CTL_T_REQUEST_ID, "r");
    /* The id takes 6 + 1 bytes; the payload fills the frame exactly. */
    ctl_put(&b, CTL_T_PAYLOAD, blob, CTL_MAX_FRAME - CTL_HDR_LEN - 7 - CTL_FIELD_HDR_LEN);
    cr_assert_eq(out.len - before_len, CTL_MAX_FRAME);
    cr_assert_eq(b.err, 0);
    ctl_put_str(&b, CTL_T_ERROR_TYPE, ""); /* a field header more: over */
    ctl_put_u64(&b, CTL_T_STATUS, 0);      /* ignored after the failure */
    cr_assert_eq(ctl_end(&b), -EMSGSIZE);
    cr_assert_eq(out.len, before_len);
    cr_assert(memcmp(out.data, before, before_len) == 0);

    /* One oversize field at once: refused without allocating its size. */
    ctl_begin(&b, &out, CTL_RESULT);
    ctl_put(&b, CTL_T_PAYLOAD, blob, big);
    cr_assert_eq(ctl_end(&b), -EMSGSIZE);
    cr_assert_eq(out.len, before_len);
    cr_assert(memcmp(out.data, before, before_len) == 0);

    /* A length that would overflow size_t arithmetic is refused too. */
    ctl_begin(&b, &out, CTL_RESULT);
    ctl_put(&b, CTL_T_PAYLOAD, blob, SIZE_MAX);
    cr_assert_eq(ctl_end(&b), -EMSGSIZE);
    cr_assert_eq(out.len, before_len);

    /* `out` is still usable and parses as the one frame it held. */
    f = parse_whole(&out);
    assert_str_field(&f, CTL_T_TEXT, "kept");
    free(before);
    free(blob);
    ld_buf_free(&out);
    assert_no_leaks();
}

/* The largest legal frame is exactly CTL_MAX_FRAME bytes, and parses. */
Test(ctl_proto, builder_exactly_at_limit)
{
    const size_t n = CTL_MAX_FRAME - CTL_HDR_LEN - CTL_FIELD_HDR_LEN;
    uint8_t *blob = calloc(1, n);
    struct ld_buf out = {0};
    struct ctl_builder b;
    struct ctl_frame f;
    struct ctl_field fld;

    cr_assert_not_null(blob);
    blob[n - 1] = 0x5a;
    ctl_begin(&b, &out, CTL_INVOKE);
    ctl_put(&b, CTL_T_PAYLOAD, blob, n);
    cr_assert_eq(ctl_end(&b), 0);
    cr_assert_eq(out.len, CTL_MAX_FRAME);
    f = parse_whole(&out);
    cr_assert_eq(ctl_get(&f, CTL_T_PAYLOAD, &fld), 0);
    cr_assert_eq(fld.len, n);
    cr_assert_eq(fld.p[n - 1], 0x5a);
    free(blob);
    ld_buf_free(&out);
    assert_no_leaks();
}
