/* common/cpus.c: cpulists and an environment's share of CPUs (see cpus.h). */
#include "common/cpus.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

static int parse_num(const char **p, long *out)
{
    char *end;
    long v;

    if (**p < '0' || **p > '9')
        return -EINVAL;
    v = strtol(*p, &end, 10);
    if (v < 0 || v >= CPU_SETSIZE)
        return -EINVAL;
    *p = end;
    *out = v;
    return 0;
}

int ld_cpus_parse(const char *list, cpu_set_t *set)
{
    const char *p = list;

    CPU_ZERO(set);
    if (!p || !*p)
        return -EINVAL;
    for (;;) {
        long lo, hi;

        if (parse_num(&p, &lo) < 0)
            return -EINVAL;
        hi = lo;
        if (*p == '-') {
            p++;
            if (parse_num(&p, &hi) < 0 || hi < lo)
                return -EINVAL;
        }
        for (long c = lo; c <= hi; c++)
            CPU_SET((int) c, set);
        if (*p == '\0')
            return 0;
        if (*p++ != ',')
            return -EINVAL;
    }
}

int ld_cpus_format(const cpu_set_t *set, char *buf, size_t cap)
{
    size_t len = 0;
    int c = 0;

    if (CPU_COUNT(set) == 0)
        return -EINVAL;
    while (c < CPU_SETSIZE) {
        int lo, n;

        if (!CPU_ISSET(c, set)) {
            c++;
            continue;
        }
        lo = c;
        while (c + 1 < CPU_SETSIZE && CPU_ISSET(c + 1, set))
            c++;
        n = lo == c ? snprintf(buf + len, cap - len, "%s%d", len ? "," : "", lo)
                    : snprintf(buf + len, cap - len, "%s%d-%d", len ? "," : "", lo, c);
        if (n < 0 || (size_t) n >= cap - len)
            return -ENOSPC;
        len += (size_t) n;
        c++;
    }
    return 0;
}

int ld_cpus_for_memory(const cpu_set_t *allowed, uint64_t memory_mb, cpu_set_t *out)
{
    uint64_t want = (memory_mb + LD_MB_PER_VCPU - 1) / LD_MB_PER_VCPU;
    int c;

    CPU_ZERO(out);
    if (CPU_COUNT(allowed) == 0)
        return -EINVAL;
    if (want == 0)
        want = 1;
    for (c = CPU_SETSIZE - 1; c >= 0 && want > 0; c--) {
        if (CPU_ISSET(c, allowed)) {
            CPU_SET(c, out);
            want--;
        }
    }
    return 0;
}
