/* common/ctl_proto.c: encodes and cuts the frames of the control channel
 * between a parent and `lambdad init` (format in ctl_proto.h, protocol in
 * docs/control-channel.md).
 *
 * Reading is split in two on purpose: ctl_frame_parse() checks everything a
 * peer could get wrong once, when the frame is cut from the stream, so the
 * accessors that run afterwards (ctl_field_next(), ctl_get()...) walk the
 * body without a single bounds check. Integers are read and written byte by
 * byte, so any alignment and any host byte order work. Nothing allocates
 * except the builder growing its buffer and the two strdup helpers. */
#include "common/ctl_proto.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void put_le16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t) v;
    p[1] = (uint8_t) (v >> 8);
}

static void put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t) (v >> (8 * i));
}

static void put_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t) (v >> (8 * i));
}

static uint16_t get_le16(const uint8_t *p)
{
    return (uint16_t) (p[0] | (unsigned) p[1] << 8);
}

static uint32_t get_le32(const uint8_t *p)
{
    return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

static uint64_t get_le64(const uint8_t *p)
{
    uint64_t v = 0;

    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* --- writing --- */

void ctl_begin(struct ctl_builder *b, struct ld_buf *out, enum ctl_type type)
{
    uint8_t *h;

    b->out = out;
    b->start = out->len;
    b->err = 0;
    if (ld_buf_reserve(out, CTL_HDR_LEN, 0) < 0) {
        b->err = -ENOMEM;
        return;
    }
    /* body_len stays 0 until ctl_end() knows it. */
    h = (uint8_t *) out->data + out->len;
    put_le32(h, 0);
    put_le16(h + 4, (uint16_t) type);
    put_le16(h + 6, 0);
    out->len += CTL_HDR_LEN;
}

void ctl_put(struct ctl_builder *b, enum ctl_tag tag, const void *p, size_t n)
{
    struct ld_buf *out = b->out;
    size_t used;
    uint8_t *h;

    if (b->err)
        return;
    /* Refuse before growing: a field that cannot fit must not make us
     * allocate its size first. `used` never exceeds CTL_MAX_FRAME, since
     * every earlier put passed this same test. */
    used = out->len - b->start;
    if (used > CTL_MAX_FRAME - CTL_FIELD_HDR_LEN || n > CTL_MAX_FRAME - CTL_FIELD_HDR_LEN - used) {
        b->err = -EMSGSIZE;
        return;
    }
    if (ld_buf_reserve(out, CTL_FIELD_HDR_LEN + n, 0) < 0) {
        b->err = -ENOMEM;
        return;
    }
    h = (uint8_t *) out->data + out->len;
    put_le16(h, (uint16_t) tag);
    put_le32(h + 2, (uint32_t) n); /* n < CTL_MAX_FRAME, so it fits */
    if (n) /* bounds checked above; memcpy_s (Annex K) is not in glibc */
        memcpy(h + CTL_FIELD_HDR_LEN, p, n); // NOLINT(clang-analyzer-security.insecureAPI.DeprecatedOrUnsafeBufferHandling)
    out->len += CTL_FIELD_HDR_LEN + n;
}

void ctl_put_str(struct ctl_builder *b, enum ctl_tag tag, const char *s)
{
    if (s)
        ctl_put(b, tag, s, strlen(s));
}

void ctl_put_u64(struct ctl_builder *b, enum ctl_tag tag, uint64_t v)
{
    uint8_t le[8];

    put_le64(le, v);
    ctl_put(b, tag, le, sizeof le);
}

int ctl_end(struct ctl_builder *b)
{
    struct ld_buf *out = b->out;

    if (b->err) {
        /* Drop the partial frame so `out` holds only whole frames and the
         * caller can keep using it (e.g. send an error frame instead). */
        out->len = b->start;
        return b->err;
    }
    put_le32((uint8_t *) out->data + b->start, (uint32_t) (out->len - b->start - CTL_HDR_LEN));
    return 0;
}

/* --- reading --- */

ssize_t ctl_frame_parse(const void *buf, size_t len, struct ctl_frame *f)
{
    const uint8_t *p = buf;
    const uint8_t *body;
    uint32_t body_len;
    size_t pos;

    /* Judge the announced length as soon as its 4 bytes are in: a peer that
     * announces too much is dropped now, not after we buffered 16 MiB. */
    if (len < 4)
        return 0;
    body_len = get_le32(p);
    if (body_len > CTL_MAX_FRAME - CTL_HDR_LEN)
        return -EMSGSIZE;
    if (len < CTL_HDR_LEN)
        return 0;
    if (get_le16(p + 6) != 0)
        return -EPROTO;
    if (len - CTL_HDR_LEN < body_len)
        return 0;

    /* Fields must tile the body exactly: every header whole, every length
     * inside what is left. After this, iteration needs no checks. */
    body = p + CTL_HDR_LEN;
    for (pos = 0; pos < body_len;) {
        uint32_t flen;

        if (body_len - pos < CTL_FIELD_HDR_LEN)
            return -EPROTO;
        flen = get_le32(body + pos + 2);
        pos += CTL_FIELD_HDR_LEN;
        if (flen > body_len - pos)
            return -EPROTO;
        pos += flen;
    }

    f->type = get_le16(p + 4);
    f->body = body;
    f->body_len = body_len;
    return (ssize_t) (CTL_HDR_LEN + (size_t) body_len);
}

int ctl_field_next(const struct ctl_frame *f, size_t *pos, struct ctl_field *out)
{
    const uint8_t *h;

    /* No bounds checks: ctl_frame_parse() proved that the fields tile the
     * body, so a field starting before body_len ends at or before it. */
    if (*pos >= f->body_len)
        return 0;
    h = f->body + *pos;
    out->tag = get_le16(h);
    out->len = get_le32(h + 2);
    out->p = h + CTL_FIELD_HDR_LEN;
    *pos += CTL_FIELD_HDR_LEN + out->len;
    return 1;
}

int ctl_get(const struct ctl_frame *f, enum ctl_tag tag, struct ctl_field *out)
{
    struct ctl_field fld;
    size_t pos = 0;

    while (ctl_field_next(f, &pos, &fld)) {
        if (fld.tag == (uint16_t) tag) {
            *out = fld;
            return 0;
        }
    }
    return -ENOENT;
}

int ctl_get_u64(const struct ctl_frame *f, enum ctl_tag tag, uint64_t *v)
{
    struct ctl_field fld;
    int rc;

    if ((rc = ctl_get(f, tag, &fld)) < 0)
        return rc;
    if (fld.len != 8)
        return -EPROTO;
    *v = get_le64(fld.p);
    return 0;
}

char *ctl_field_strdup(const struct ctl_field *fld)
{
    char *s = malloc(fld->len + 1);

    if (!s)
        return NULL;
    if (fld->len)
        memcpy(s, fld->p, fld->len); // NOLINT(clang-analyzer-security.insecureAPI.DeprecatedOrUnsafeBufferHandling)
    s[fld->len] = '\0';
    return s;
}

char *ctl_get_strdup(const struct ctl_frame *f, enum ctl_tag tag)
{
    struct ctl_field fld;

    if (ctl_get(f, tag, &fld) < 0)
        return NULL;
    return ctl_field_strdup(&fld);
}
