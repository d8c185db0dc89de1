/* common/clock.c: monotonic and wall-clock time (see clock.h). */
#include "common/clock.h"

#include <stdio.h>
#include <time.h>

uint64_t ld_mono_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

uint64_t ld_wall_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

char *ld_iso8601_ms(uint64_t wall_us, char *buf, size_t cap)
{
    time_t secs = (time_t) (wall_us / 1000000u);
    struct tm tm;

    gmtime_r(&secs, &tm);
    snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned) (wall_us / 1000u % 1000u));
    return buf;
}
