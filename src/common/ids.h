/* common/ids.h: identifiers AWS hands out: request ids, extension ids
 * (random UUID v4) and log stream suffixes (32 lowercase hex digits). */
#ifndef LD_IDS_H
#define LD_IDS_H

#include <stdbool.h>
#include <stddef.h>

#define LD_UUID_LEN 36

/* Writes a random UUID v4 into out[37]. */
void ld_uuid_v4(char out[LD_UUID_LEN + 1]);
/* Writes n random lowercase hex digits and a NUL into out[n + 1]. */
void ld_random_hex(char *out, size_t n);
/* True when s[0..len) has the 8-4-4-4-12 hex shape of a UUID. */
bool ld_uuid_valid(const char *s, size_t len);

#endif
