/* common/buf.c: growable byte buffer (see buf.h). */
#include "common/buf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ld_buf_reserve(struct ld_buf *b, size_t extra, size_t limit)
{
    size_t need, cap;
    char *p;

    if (extra > SIZE_MAX - b->len)
        return -ENOMEM;
    need = b->len + extra;
    if (limit && need > limit)
        return -ENOMEM;
    if (need <= b->cap)
        return 0;
    cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    p = realloc(b->data, cap);
    if (!p)
        return -ENOMEM;
    b->data = p;
    b->cap = cap;
    return 0;
}

int ld_buf_append(struct ld_buf *b, const void *p, size_t n)
{
    int rc;

    if (n == 0)
        return 0;
    if ((rc = ld_buf_reserve(b, n, 0)) < 0)
        return rc;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

int ld_buf_printf(struct ld_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n, rc;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -EINVAL;
    if ((rc = ld_buf_reserve(b, (size_t) n + 1, 0)) < 0)
        return rc;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t) n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t) n;
    return 0;
}

void ld_buf_consume(struct ld_buf *b, size_t n)
{
    if (n >= b->len) {
        b->len = 0;
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
}

char *ld_buf_steal(struct ld_buf *b, size_t *len)
{
    char *p = b->data;

    if (len)
        *len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}

void ld_buf_free(struct ld_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}
