/* common/err.c: fills and prefixes struct ld_err without allocating. */
#include "common/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int ld_err_set(struct ld_err *e, int code, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (code <= 0)
        code = EIO;
    e->code = code;
    va_start(ap, fmt);
    n = vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t) n < sizeof e->msg - 2)
        snprintf(e->msg + n, sizeof e->msg - (size_t) n, ": %s", strerror(code));
    return -code;
}

int ld_err_prefix(struct ld_err *e, const char *fmt, ...)
{
    char head[sizeof e->msg];
    char old[sizeof e->msg];
    va_list ap;

    memcpy(old, e->msg, sizeof old);
    va_start(ap, fmt);
    vsnprintf(head, sizeof head, fmt, ap);
    va_end(ap);
    /* Cut from the end when too long: the outermost context matters most. */
    if (snprintf(e->msg, sizeof e->msg, "%s: %s", head, old) >= (int) sizeof e->msg)
        e->msg[sizeof e->msg - 1] = '\0';
    return -e->code;
}
