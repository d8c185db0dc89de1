/* common/text.h: appending text to a fixed buffer without printf.
 *
 * The lines written once per invoke (START, END, REPORT, the next event's
 * headers) were the largest user-space cost of the warm path when built with
 * snprintf; these appenders do the same with plain copies. Output that does
 * not fit is cut, and `over` records it. */
#ifndef LD_TEXT_H
#define LD_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct ld_text {
    char *buf; /* borrowed */
    size_t cap;
    size_t len;
    bool over;
};

static inline void ld_text_init(struct ld_text *t, char *buf, size_t cap)
{
    t->buf = buf;
    t->cap = cap;
    t->len = 0;
    t->over = false;
}

static inline void ld_text_mem(struct ld_text *t, const char *s, size_t n)
{
    if (n > t->cap - t->len) {
        n = t->cap - t->len;
        t->over = true;
    }
    memcpy(t->buf + t->len, s, n);
    t->len += n;
}

static inline void ld_text_str(struct ld_text *t, const char *s)
{
    ld_text_mem(t, s, strlen(s));
}

static inline void ld_text_u64(struct ld_text *t, uint64_t v)
{
    char d[20], *p = d + sizeof d;

    do {
        *--p = (char) ('0' + v % 10);
        v /= 10;
    } while (v);
    ld_text_mem(t, p, (size_t) (d + sizeof d - p));
}

/* Microseconds as milliseconds with two decimals: 12345 -> "12.35". */
static inline void ld_text_ms2(struct ld_text *t, uint64_t us)
{
    uint64_t hundredths = (us + 5) / 10;
    char frac[3] = {'.', (char) ('0' + hundredths / 10 % 10), (char) ('0' + hundredths % 10)};

    ld_text_u64(t, hundredths / 100);
    ld_text_mem(t, frac, 3);
}

#endif
