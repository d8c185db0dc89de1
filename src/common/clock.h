/* common/clock.h: the two clocks lambdad reads.
 *
 * Durations (Duration, Init Duration, timeouts) come from the monotonic clock
 * so a wall-clock step cannot stretch or shrink them; deadlines handed to
 * runtimes are wall-clock epoch milliseconds, as AWS sends them. */
#ifndef LD_CLOCK_H
#define LD_CLOCK_H

#include <stddef.h>
#include <stdint.h>

uint64_t ld_mono_us(void);
uint64_t ld_wall_us(void);
static inline uint64_t ld_wall_ms(void) { return ld_wall_us() / 1000; }
/* "2024-01-15T12:00:00.123Z" for a wall-clock time in µs; returns buf. */
char *ld_iso8601_ms(uint64_t wall_us, char *buf, size_t cap);

#endif
