/* tests/fuzz/fuzz_ctl_proto.c: libFuzzer driver for the control-channel frames.
 *
 * The input is taken as a byte stream from a peer, the way init and the parent
 * read it: frames are cut from it in a loop until one is incomplete or
 * malformed. Every frame that parses is then walked every way a reader can
 * walk it (iteration, ctl_get, ctl_get_u64, the strdup helpers), and rebuilt
 * with the builder, which must give back the very same bytes and parse again
 * to the same frame. A prefix of each good frame, cut where the input's
 * first byte says, must make the parser ask for more bytes. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/ctl_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                   \
    do {                           \
        if (!(c))                  \
            __builtin_trap();      \
    } while (0)

/* Reads every field of `f`; returns how many there are. */
static size_t walk(const struct ctl_frame *f)
{
    struct ctl_field fld, first;
    size_t pos = 0, n = 0, prev = 0;
    uint64_t v;

    while (ctl_field_next(f, &pos, &fld)) {
        char *s;

        /* Each field lies inside the body, and iteration moves forward. */
        CHECK(fld.p >= f->body && fld.p + fld.len <= f->body + f->body_len);
        CHECK(pos > prev && pos <= f->body_len);
        prev = pos;

        CHECK(ctl_get(f, (enum ctl_tag) fld.tag, &first) == 0);
        CHECK(first.tag == fld.tag && first.p <= fld.p);
        switch (ctl_get_u64(f, (enum ctl_tag) fld.tag, &v)) {
        case 0:
            CHECK(first.len == 8);
            break;
        case -EPROTO:
            CHECK(first.len != 8);
            break;
        default:
            CHECK(0);
        }

        if ((s = ctl_field_strdup(&fld))) {
            CHECK(s[fld.len] == '\0' && (fld.len == 0 || memcmp(s, fld.p, fld.len) == 0));
            free(s);
        }
        if ((s = ctl_get_strdup(f, (enum ctl_tag) fld.tag))) {
            CHECK(s[first.len] == '\0');
            free(s);
        }
        n++;
    }
    CHECK(pos == f->body_len);
    return n;
}

/* Rebuilds `f` with the builder: the bytes must equal the frame we parsed. */
static void rebuild(const struct ctl_frame *f, const uint8_t *frame, size_t frame_len, size_t nfields)
{
    struct ld_buf out = {0};
    struct ctl_builder b;
    struct ctl_field fld;
    struct ctl_frame g;
    size_t pos = 0;

    /* Something already in `out` must survive untouched. */
    CHECK(ld_buf_append(&out, "prefix", 6) == 0);
    ctl_begin(&b, &out, (enum ctl_type) f->type);
    while (ctl_field_next(f, &pos, &fld))
        ctl_put(&b, (enum ctl_tag) fld.tag, fld.p, fld.len);
    CHECK(ctl_end(&b) == 0);
    CHECK(out.len == 6 + frame_len);
    CHECK(memcmp(out.data, "prefix", 6) == 0);
    CHECK(memcmp(out.data + 6, frame, frame_len) == 0);

    CHECK(ctl_frame_parse(out.data + 6, out.len - 6, &g) == (ssize_t) frame_len);
    CHECK(g.type == f->type && g.body_len == f->body_len);
    CHECK(walk(&g) == nfields);
    ld_buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t off = 0;
    ssize_t n;
    struct ctl_frame f, cut;

    while (off < size) {
        size_t nfields;

        n = ctl_frame_parse(data + off, size - off, &f);
        CHECK(n == 0 || n == -EMSGSIZE || n == -EPROTO || n >= CTL_HDR_LEN);
        if (n <= 0)
            break;
        CHECK((size_t) n <= size - off && (size_t) n <= CTL_MAX_FRAME);
        CHECK(f.body == data + off + CTL_HDR_LEN && f.body_len == (size_t) n - CTL_HDR_LEN);

        /* Any strict prefix of a good frame asks for more bytes. The first
         * byte of the input picks the cut, so all cuts get tried. */
        CHECK(ctl_frame_parse(data + off, (size_t) data[0] % (size_t) n, &cut) == 0);

        nfields = walk(&f);
        rebuild(&f, data + off, (size_t) n, nfields);
        off += (size_t) n;
    }
    return 0;
}
