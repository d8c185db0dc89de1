/* common/err.h: the error record every layer fills and prefixes.
 *
 * Success is >= 0, failure a negative errno; the message is written only on
 * failure, outermost context first ("start env 7f3a: mount /opt: ..."). The
 * buffer is fixed-size so a forked child can fill it without malloc and send
 * it over a pipe as one record. */
#ifndef LD_ERR_H
#define LD_ERR_H

#include <errno.h>
#include <unistd.h>

struct ld_err {
    int code;      /* errno; EPROTO etc. for our own failures */
    char msg[240]; /* outermost first */
};

/* Both return -code, so a caller can write `return ld_err_set(...)`. */
int ld_err_set(struct ld_err *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int ld_err_prefix(struct ld_err *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static inline void ld_closep(const int *fd)
{
    if (*fd >= 0)
        close(*fd);
}
#define LD_AUTOCLOSE __attribute__((cleanup(ld_closep)))

/* Hands an fd over to the caller; the cleanup then sees -1. */
static inline int ld_steal_fd(int *fd)
{
    int v = *fd;
    *fd = -1;
    return v;
}

#endif
