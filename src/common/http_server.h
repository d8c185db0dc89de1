/* common/http_server.h: a small HTTP/1.1 server on a libevent loop.
 *
 * Built for the Runtime API and the invoke frontends, where libevent's evhttp
 * falls short: a parked request (a runtime's long-poll `next`) may be answered
 * at any later time; an oversized or truncated body is handed to the handler
 * (which answers in AWS's words) instead of being refused by the library; a
 * body can be streamed to the handler as it arrives (response streaming);
 * trailers of chunked bodies reach the handler. One request at a time per
 * connection: pipelined requests wait in the input buffer until the current
 * one has been answered. */
#ifndef LD_HTTP_SERVER_H
#define LD_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/http_parse.h"

struct event_base;
struct http_server;
struct http_req;

struct http_server_ops {
    /* The head is parsed (http_req_head). The handler may pick how the body
     * is taken: http_req_set_body_limit() or http_req_stream_body(); by
     * default it is buffered up to the server's limit. Optional. */
    void (*on_head)(struct http_req *req, void *arg);
    /* The body is complete, too large, or cut short: see http_req_body(),
     * http_req_too_large(), http_req_truncated(). The handler must answer
     * exactly once, now or later, with http_reply() or http_reply_begin(). */
    void (*on_request)(struct http_req *req, void *arg);
    /* The connection died before the answer was sent; req is freed after
     * this returns, so the handler drops every pointer to it. Optional. */
    void (*on_gone)(struct http_req *req, void *arg);
};

/* `max_body`: default cap for buffered bodies. */
struct http_server *http_server_new(struct event_base *base, const struct http_server_ops *ops,
                                    void *arg, size_t max_body);
/* Listens on "host:port" (port 0 picks a free one). */
int http_server_listen(struct http_server *s, const char *hostport, struct ld_err *err);
/* Listens on an already bound and listening socket (ownership moves). */
int http_server_adopt(struct http_server *s, int fd, struct ld_err *err);
int http_server_port(const struct http_server *s);
/* Closes the listener and every connection; on_gone is not called. */
void http_server_free(struct http_server *s);

const struct http_head *http_req_head(const struct http_req *req);
/* The target's path without the query string. */
const char *http_req_path(const struct http_req *req, size_t *len);
/* Case-insensitive header lookup, NUL-terminated copy into buf (truncated to
 * cap-1). Returns buf, or NULL when absent. */
const char *http_req_header(const struct http_req *req, const char *name, char *buf, size_t cap);
const struct ld_buf *http_req_body(const struct http_req *req);
bool http_req_too_large(const struct http_req *req); /* body beyond the limit was discarded */
bool http_req_truncated(const struct http_req *req); /* the peer closed mid-body */
size_t http_req_body_seen(const struct http_req *req); /* every body byte read, kept or not */
/* Trailer fields of a chunked body (valid in on_request). */
const char *http_req_trailer(const struct http_req *req, const char *name, char *buf, size_t cap);

/* In on_head: raise or lower the buffered body cap for this request. */
void http_req_set_body_limit(struct http_req *req, size_t limit);
/* In on_head: pass body bytes to fn as they arrive instead of buffering. */
void http_req_stream_body(struct http_req *req, http_data_fn fn, void *arg);

/* A handler's own pointer for this request. */
void http_req_set_user(struct http_req *req, void *user);
void *http_req_user(const struct http_req *req);

/* Answers with a complete body. `headers` is NULL or preformatted
 * "Name: value\r\n" lines; Content-Length is added, and Content-Type when
 * content_type is not NULL. */
void http_reply(struct http_req *req, int status, const char *content_type, const char *headers,
                const void *body, size_t len);
/* Answers with a JSON body given as a NUL-terminated string. */
void http_reply_json(struct http_req *req, int status, const char *json);
/* A chunked answer: begin, any number of chunks, end (trailers optional). */
void http_reply_begin(struct http_req *req, int status, const char *content_type,
                      const char *headers);
void http_reply_chunk(struct http_req *req, const void *p, size_t len);
void http_reply_end(struct http_req *req, const char *trailers);

#endif
