/* common/ids.c: random identifiers (see ids.h).
 *
 * getrandom() from a small per-process pool: a request id per invoke must not
 * cost a syscall each time on the warm path. The pool is dropped in a forked
 * child, so parent and child never share ids. */
#include "common/ids.h"

#include <ctype.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>

static unsigned char pool[4096];
static size_t pool_left;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

/* A forked child must not hand out the ids its parent still holds. */
static void forget_pool(void)
{
    memset(pool, 0, sizeof pool);
    pool_left = 0;
}

static void register_atfork(void)
{
    pthread_atfork(NULL, NULL, forget_pool);
}

static void random_bytes(unsigned char *out, size_t n)
{
    pthread_once(&atfork_once, register_atfork);
    while (n > 0) {
        size_t take;

        if (pool_left == 0) {
            size_t got = 0;

            while (got < sizeof pool) {
                ssize_t r = getrandom(pool + got, sizeof pool - got, 0);

                if (r > 0)
                    got += (size_t) r;
            }
            pool_left = sizeof pool;
        }
        take = n < pool_left ? n : pool_left;
        memcpy(out, pool + sizeof pool - pool_left, take);
        pool_left -= take;
        out += take;
        n -= take;
    }
}

static const char hexdig[] = "0123456789abcdef";

void ld_uuid_v4(char out[LD_UUID_LEN + 1])
{
    unsigned char b[16];
    size_t i, o = 0;

    random_bytes(b, sizeof b);
    b[6] = (unsigned char) ((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char) ((b[8] & 0x3f) | 0x80);
    for (i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hexdig[b[i] >> 4];
        out[o++] = hexdig[b[i] & 15];
    }
    out[o] = '\0';
}

void ld_random_hex(char *out, size_t n)
{
    unsigned char b[32] = {0};
    size_t i;

    while (n > 0) {
        size_t chunk = n < 2 * sizeof b ? n : 2 * sizeof b;

        random_bytes(b, (chunk + 1) / 2);
        for (i = 0; i < chunk; i++)
            out[i] = hexdig[(b[i / 2] >> ((i & 1) ? 0 : 4)) & 15];
        out += chunk;
        n -= chunk;
    }
    *out = '\0';
}

bool ld_uuid_valid(const char *s, size_t len)
{
    size_t i;

    if (len != LD_UUID_LEN)
        return false;
    for (i = 0; i < len; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;

        if (dash ? s[i] != '-' : !isxdigit((unsigned char) s[i]))
            return false;
    }
    return true;
}
