/* common/base64.h: standard base64 (RFC 4648 §4), as AWS headers carry it
 * (X-Amz-Client-Context, X-Amz-Log-Result, streamed error bodies). */
#ifndef LD_BASE64_H
#define LD_BASE64_H

#include <stddef.h>

/* Decodes in[0..len) into out, which must hold len / 4 * 3 + 3 bytes.
 * Whitespace is not allowed; padding is optional. Returns the decoded length
 * or -EINVAL. */
long ld_base64_decode(const char *in, size_t len, unsigned char *out);
/* Encodes into out, which must hold 4 * ((len + 2) / 3) + 1 bytes; NUL-terminated.
 * Returns the encoded length. */
size_t ld_base64_encode(const unsigned char *in, size_t len, char *out);

#endif
