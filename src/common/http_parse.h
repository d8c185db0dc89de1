/* common/http_parse.h: HTTP/1.1 request and response parsing, no I/O.
 *
 * Everything here works on bytes the caller already holds, so it can be unit
 * tested and fuzzed on its own; common/http_server.c feeds it from sockets.
 * Parsed names and values point into the caller's buffer (not copied, not
 * NUL-terminated): they live as long as that buffer is left untouched. */
#ifndef LD_HTTP_PARSE_H
#define LD_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define HTTP_MAX_HEAD 65536     /* request line + header fields */
#define HTTP_MAX_HEADERS 64
#define HTTP_MAX_TRAILERS 16384 /* bytes of the trailer section */

struct http_field {
    const char *name;
    size_t name_len;
    const char *value; /* leading and trailing spaces/tabs stripped */
    size_t value_len;
};

struct http_head {
    /* Request: method and target. Response: status and reason. */
    const char *method;
    size_t method_len;
    const char *target; /* origin-form, e.g. "/2018-06-01/runtime/invocation/next" */
    size_t target_len;
    int status; /* responses only */
    int minor;  /* HTTP/1.<minor>: 0 or 1 */
    struct http_field fields[HTTP_MAX_HEADERS];
    size_t nfields;
    /* Derived from the fields while parsing: */
    int64_t content_length; /* -1 when absent */
    bool chunked;           /* Transfer-Encoding: chunked (the last coding) */
    bool keep_alive;        /* 1.1 unless "Connection: close"; 1.0 only with keep-alive */
    bool expect_continue;   /* "Expect: 100-continue" */
};

/* Parses a request head from buf[0..len). Returns the number of bytes the
 * head takes (up to and including the blank line), 0 when more bytes are
 * needed, or:
 *   -EMSGSIZE  the head is over HTTP_MAX_HEAD, or over HTTP_MAX_HEADERS fields
 *   -EBADMSG   malformed: bad request line, bad field syntax, a bare LF where
 *              CRLF belongs is accepted but a bare CR is not, conflicting or
 *              invalid Content-Length, both Content-Length and chunked,
 *              obs-fold continuation lines
 *   -ENOTSUP   a transfer coding other than chunked, or a version not 1.0/1.1
 * Leading empty lines before the request line are skipped (RFC 9112 2.2). */
ssize_t http_parse_request_head(const char *buf, size_t len, struct http_head *h);

/* Same for a response head ("HTTP/1.1 200 OK"); method/target unset, status set. */
ssize_t http_parse_response_head(const char *buf, size_t len, struct http_head *h);

/* Parses header fields only (the trailer section of a chunked body), from
 * buf[0..len) which must hold complete "Name: value\r\n" lines (the final
 * blank line optional). Returns the number of fields, or -EBADMSG/-EMSGSIZE. */
int http_parse_fields(const char *buf, size_t len, struct http_field *out, size_t max);

/* Case-insensitive lookup of the first field named `name` (NUL-terminated).
 * Returns its value (not NUL-terminated) and sets *len, or NULL. */
const char *http_field_get(const struct http_field *f, size_t n, const char *name, size_t *len);
static inline const char *http_head_get(const struct http_head *h, const char *name, size_t *len)
{
    return http_field_get(h->fields, h->nfields, name, len);
}

/* Incremental decoder for a chunked body. Zero-initialise, then feed bytes as
 * they arrive. Data bytes are handed to on_data as they are decoded (chunk
 * boundaries carry no meaning). The trailer section is collected into
 * `trailers` (raw bytes, parse with http_parse_fields) and capped at
 * HTTP_MAX_TRAILERS. Chunk extensions are skipped. */
struct http_chunked {
    int state;           /* private */
    uint64_t remaining;  /* private: bytes left in the current chunk */
    size_t line_len;     /* private: length of the size line so far */
    bool done;           /* the last chunk and the trailers were read */
    size_t trailers_len;
    char trailers[HTTP_MAX_TRAILERS];
};

typedef void (*http_data_fn)(void *arg, const char *p, size_t len);

/* Consumes bytes from in[0..n). Returns how many were consumed (all of them
 * unless the body ended inside the buffer: then the count up to its end, and
 * c->done is set), or -EBADMSG (bad chunk size line, missing CRLF after data,
 * chunk size over 2^62) or -EMSGSIZE (trailers over the cap, or a size line
 * over 1 KiB). */
ssize_t http_chunked_feed(struct http_chunked *c, const char *in, size_t n,
                          http_data_fn on_data, void *arg);

/* The reason phrase for a status code ("OK", "Accepted", ...; "Unknown"). */
const char *http_reason(int status);

#endif
