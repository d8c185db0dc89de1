/* common/buf.h: a growable byte buffer with a hard cap.
 *
 * Every buffer filled by a peer has a cap, checked before it grows, so a
 * runtime or client that floods us costs a bounded amount of memory. */
#ifndef LD_BUF_H
#define LD_BUF_H

#include <stddef.h>

struct ld_buf {
    char *data; /* owned; NULL until the first append */
    size_t len;
    size_t cap; /* allocated bytes */
};

/* Makes room for `extra` more bytes. -ENOMEM on allocation failure or when
 * len + extra would exceed `limit` (0 means no limit beyond SIZE_MAX). */
int ld_buf_reserve(struct ld_buf *b, size_t extra, size_t limit);
int ld_buf_append(struct ld_buf *b, const void *p, size_t n);
int ld_buf_printf(struct ld_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Drops the first n bytes. */
void ld_buf_consume(struct ld_buf *b, size_t n);
/* Moves the contents out: the caller owns the returned pointer, b is empty. */
char *ld_buf_steal(struct ld_buf *b, size_t *len);
static inline void ld_buf_reset(struct ld_buf *b) { b->len = 0; }
void ld_buf_free(struct ld_buf *b);

#endif
