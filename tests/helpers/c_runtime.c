/* tests/helpers/c_runtime.c: a custom Lambda runtime in plain C, for the e2e
 * tests and the benchmark.
 *
 * It speaks the Runtime API the way aws-lambda-cpp does: HTTP/1.1 on one
 * keep-alive connection, reconnecting when the server has closed it. It
 * takes no arguments. Given a payload without an "action" key, it answers
 * with exactly the payload it received; that is the benchmark's no-op
 * runtime, so the path allocates nothing once its buffers have grown and
 * prints nothing.
 *
 * A payload containing "action":"<name>" picks another behaviour, so that
 * one runtime binary can walk every success and error path of the API (the
 * table `actions` near the end lists them). Arguments are plain keys in the
 * same payload ("ms":1500, "bytes":7000000, "code":3; blanks around the
 * colon are fine, as json.dumps writes them); finding them by substring is
 * enough because the tests write the payloads.
 *
 * The environment variable C_RUNTIME_INIT chooses what INIT does:
 *   error     POST /runtime/init/error (Runtime.ImportModuleError), exit 1
 *   exit:N    exit with status N before the first /next
 *   sleep:MS  sleep, then carry on normally (for init timeouts)
 * With C_RUNTIME_INIT_MARKER=<path> it applies only while <path> does not
 * exist (the first INIT creates it), so a test can fail INIT once and then
 * watch the environment recover.
 *
 * Anything the runtime wants the tests to see outside the response goes to
 * stdout as one line, via write(2): stdout is a pipe, and stdio would hold
 * the line back until exit. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define RAPI "/2018-06-01/runtime"
#define MAX_HEAD 65536 /* response header block; client context is < 4 KB */

/* A byte buffer that only grows: once warm, invokes reuse its memory. */
struct buf {
    char  *p;
    size_t len, cap;
};

/* One parsed HTTP response. `head` holds the raw header lines (status line
 * included), NUL-terminated; `body` is NUL-terminated too, so the payload
 * can be searched with string functions. */
struct resp {
    int         status;
    bool        close; /* server said Connection: close */
    char        head[MAX_HEAD];
    size_t      head_len;
    struct buf  body;
};

/* The connection and its receive buffer. Process-wide on purpose: the
 * runtime has exactly one connection, like aws-lambda-cpp's curl handle. */
static struct addrinfo *api_addr; /* owned; resolved once at start */
static char             api_host[256];
static int              conn_fd = -1;
static unsigned         conn_uses; /* requests completed on conn_fd */
static char             rx[65536];
static size_t           rx_off, rx_len;

static struct resp ev;  /* the current event from /next */
static struct resp aux; /* answers to our POSTs */
static struct buf  out; /* bodies the actions build */
static char        req_id[256];
static unsigned long invokes; /* per process: proves a fresh INIT */
static long long     start_ms; /* epoch ms when this process started */

/* ---- small utilities ---------------------------------------------------- */

static _Noreturn void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static _Noreturn void die(const char *fmt, ...)
{
    char    msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    dprintf(STDERR_FILENO, "c_runtime: %s\n", msg);
    exit(2);
}

static void write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return; /* the log pipe is gone; nothing better to do */
        p += w;
        n -= (size_t) w;
    }
}

/* One line to stdout (or stderr), written at once so it is not interleaved. */
static void say(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(int fd, const char *fmt, ...)
{
    char    line[8192];
    va_list ap;
    int     n;

    va_start(ap, fmt);
    n = vsnprintf(line, sizeof line - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t) n > sizeof line - 2)
        n = (int) sizeof line - 2;
    line[n++] = '\n';
    write_all(fd, line, (size_t) n);
}

static void sleep_ms(long long ms)
{
    struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static void buf_reserve(struct buf *b, size_t extra)
{
    size_t need = b->len + extra + 1; /* +1: room for a terminating NUL */
    size_t cap  = b->cap ? b->cap : 4096;

    if (need <= b->cap)
        return;
    while (cap < need)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p)
        die("out of memory (%zu bytes)", cap);
    b->p   = p;
    b->cap = cap;
}

static void buf_add(struct buf *b, const void *d, size_t n)
{
    buf_reserve(b, n);
    memcpy(b->p + b->len, d, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void buf_adds(struct buf *b, const char *s) { buf_add(b, s, strlen(s)); }

static void buf_addf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void buf_addf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    int     n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        die("vsnprintf failed");
    buf_reserve(b, (size_t) n);
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t) n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t) n;
}

/* Appends s[0..n) as a JSON string literal, quotes included. */
static void buf_add_json_str(struct buf *b, const char *s, size_t n)
{
    buf_add(b, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char) s[i];
        if (c == '"' || c == '\\') {
            char esc[2] = { '\\', (char) c };
            buf_add(b, esc, 2);
        } else if (c < 0x20) {
            buf_addf(b, "\\u%04x", c);
        } else {
            buf_add(b, &s[i], 1);
        }
    }
    buf_add(b, "\"", 1);
}

static void buf_add_json_cstr(struct buf *b, const char *s)
{
    if (s)
        buf_add_json_str(b, s, strlen(s));
    else
        buf_adds(b, "null");
}

static void base64(struct buf *b, const char *s, size_t n)
{
    static const char tab[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    for (size_t i = 0; i < n; i += 3) {
        uint32_t v   = (uint32_t) (unsigned char) s[i] << 16;
        size_t   got = n - i < 3 ? n - i : 3;
        if (got > 1)
            v |= (uint32_t) (unsigned char) s[i + 1] << 8;
        if (got > 2)
            v |= (unsigned char) s[i + 2];
        char q[4] = { tab[v >> 18 & 63], tab[v >> 12 & 63],
                      got > 1 ? tab[v >> 6 & 63] : '=', got > 2 ? tab[v & 63] : '=' };
        buf_add(b, q, 4);
    }
}

/* ---- the connection ------------------------------------------------------ */

static void conn_close(void)
{
    if (conn_fd >= 0)
        close(conn_fd);
    conn_fd   = -1;
    conn_uses = 0;
    rx_off = rx_len = 0;
}

static int conn_open(void)
{
    int one = 1;

    if (conn_fd >= 0)
        return 0;
    for (struct addrinfo *a = api_addr; a; a = a->ai_next) {
        int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0)
            continue;
        /* Like aws-lambda-cpp: small requests must not wait for Nagle. */
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
            conn_fd = fd;
            return 0;
        }
        close(fd);
    }
    return -1;
}

static int send_iov(struct iovec *iov, int cnt)
{
    struct msghdr m = { .msg_iov = iov, .msg_iovlen = (size_t) cnt };

    while (m.msg_iovlen > 0) {
        /* MSG_NOSIGNAL: a server that closed early must give EPIPE, not kill us. */
        ssize_t n = sendmsg(conn_fd, &m, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        while (m.msg_iovlen > 0 && (size_t) n >= m.msg_iov->iov_len) {
            n -= (ssize_t) m.msg_iov->iov_len;
            m.msg_iov++;
            m.msg_iovlen--;
        }
        if (m.msg_iovlen > 0) {
            m.msg_iov->iov_base = (char *) m.msg_iov->iov_base + n;
            m.msg_iov->iov_len -= (size_t) n;
        }
    }
    return 0;
}

static int send_all(const void *p, size_t n)
{
    struct iovec iov = { .iov_base = (void *) p, .iov_len = n };
    return send_iov(&iov, 1);
}

/* Reads more bytes into rx; returns the count, 0 at EOF, -1 on error. */
static ssize_t rx_fill(void)
{
    if (rx_off == rx_len)
        rx_off = rx_len = 0;
    if (rx_len == sizeof rx) {
        if (rx_off == 0)
            return -1; /* a header block larger than rx */
        memmove(rx, rx + rx_off, rx_len - rx_off);
        rx_len -= rx_off;
        rx_off = 0;
    }
    for (;;) {
        ssize_t n = read(conn_fd, rx + rx_len, sizeof rx - rx_len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n > 0)
            rx_len += (size_t) n;
        return n;
    }
}

/* Copies exactly n bytes of the stream into dst. */
static int rx_read(char *dst, size_t n)
{
    while (n > 0) {
        if (rx_off == rx_len) {
            /* Large bodies go straight from the socket to their buffer. */
            if (n >= sizeof rx) {
                ssize_t r = read(conn_fd, dst, n);
                if (r < 0 && errno == EINTR)
                    continue;
                if (r <= 0)
                    return -1;
                dst += r;
                n -= (size_t) r;
                continue;
            }
            if (rx_fill() <= 0)
                return -1;
        }
        size_t take = rx_len - rx_off < n ? rx_len - rx_off : n;
        memcpy(dst, rx + rx_off, take);
        rx_off += take;
        dst += take;
        n -= take;
    }
    return 0;
}

/* Reads one CRLF-terminated line (without the CRLF) into line[cap]. */
static int rx_line(char *line, size_t cap)
{
    for (;;) {
        char *nl = memchr(rx + rx_off, '\n', rx_len - rx_off);
        if (nl) {
            size_t n = (size_t) (nl - (rx + rx_off));
            if (n > 0 && nl[-1] == '\r')
                n--;
            if (n >= cap)
                return -1;
            memcpy(line, rx + rx_off, n);
            line[n] = '\0';
            rx_off  = (size_t) (nl - rx) + 1;
            return 0;
        }
        if (rx_fill() <= 0)
            return -1;
    }
}

/* Finds header `name` in a raw header block; returns its value (leading
 * blanks skipped) and sets *len, or NULL. */
static const char *head_find(const char *head, const char *name, size_t *len)
{
    size_t nlen = strlen(name);

    for (const char *l = strstr(head, "\r\n"); l && l[2]; l = strstr(l + 2, "\r\n")) {
        const char *s = l + 2;
        if (strncasecmp(s, name, nlen) == 0 && s[nlen] == ':') {
            const char *v   = s + nlen + 1;
            const char *end = strstr(v, "\r\n");
            while (*v == ' ' || *v == '\t')
                v++;
            if (!end)
                end = v + strlen(v);
            while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
                end--;
            *len = (size_t) (end - v);
            return v;
        }
    }
    return NULL;
}

/* Copies header `name` of r into dst (NUL-terminated); returns dst or NULL. */
static char *resp_header(const struct resp *r, const char *name, char *dst, size_t cap)
{
    size_t      len;
    const char *v = head_find(r->head, name, &len);

    if (!v)
        return NULL;
    if (len >= cap)
        len = cap - 1;
    memcpy(dst, v, len);
    dst[len] = '\0';
    return dst;
}

/* Reads one response. *got_any tells whether the server sent anything at
 * all, which is how a keep-alive connection the server closed shows up. */
static int read_response(struct resp *r, bool *got_any)
{
    char   *end;
    size_t  hlen;
    char    line[256], val[64];

    *got_any = rx_len > rx_off;
    for (;;) {
        end = memmem(rx + rx_off, rx_len - rx_off, "\r\n\r\n", 4);
        if (end)
            break;
        ssize_t n = rx_fill();
        if (n <= 0)
            return -1;
        *got_any = true;
    }
    hlen = (size_t) (end - (rx + rx_off)) + 4;
    if (hlen >= sizeof r->head)
        return -1;
    memcpy(r->head, rx + rx_off, hlen);
    r->head[hlen]  = '\0';
    r->head_len    = hlen;
    rx_off        += hlen;

    if (sscanf(r->head, "HTTP/1.%*c %d", &r->status) != 1)
        return -1;
    r->close = strncmp(r->head, "HTTP/1.0", 8) == 0;
    if (resp_header(r, "Connection", val, sizeof val))
        r->close = strcasecmp(val, "close") == 0;

    r->body.len = 0;
    buf_reserve(&r->body, 0);
    r->body.p[0] = '\0';
    if (resp_header(r, "Transfer-Encoding", val, sizeof val) && strcasestr(val, "chunked")) {
        for (;;) {
            unsigned long long sz;
            if (rx_line(line, sizeof line) < 0 || sscanf(line, "%llx", &sz) != 1)
                return -1;
            if (sz == 0)
                break;
            buf_reserve(&r->body, sz);
            if (rx_read(r->body.p + r->body.len, sz) < 0 || rx_line(line, sizeof line) < 0)
                return -1;
            r->body.len += sz;
        }
        do { /* trailers, up to the empty line */
            if (rx_line(line, sizeof line) < 0)
                return -1;
        } while (line[0]);
    } else if (resp_header(r, "Content-Length", val, sizeof val)) {
        size_t n = strtoull(val, NULL, 10);
        buf_reserve(&r->body, n);
        if (rx_read(r->body.p, n) < 0)
            return -1;
        r->body.len = n;
    } else if (r->status >= 200 && r->status != 204 && r->status != 304) {
        /* No length: the body runs to the end of the connection. */
        for (;;) {
            buf_reserve(&r->body, 65536);
            if (rx_off == rx_len && rx_fill() <= 0)
                break;
            size_t take = rx_len - rx_off;
            buf_add(&r->body, rx + rx_off, take);
            rx_off += take;
        }
        r->close = true;
    }
    r->body.p[r->body.len] = '\0';
    return 0;
}

/* Sends a request (head + optional body) and reads the answer. Retries once
 * on a fresh connection when a reused one turns out to be closed by the
 * server before it answered, as curl does. Returns the status or -1. */
static int request(const char *head, size_t head_len, const void *body, size_t body_len,
                   struct resp *r)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        bool         reused, got_any = false;
        struct iovec iov[2] = { { (void *) head, head_len }, { (void *) body, body_len } };

        if (conn_open() < 0)
            return -1;
        reused = conn_uses > 0;
        /* Even if sending fails part-way (a server refusing a huge body may
         * answer and close early), the answer may already be readable. */
        (void) send_iov(iov, body_len ? 2 : 1);
        if (read_response(r, &got_any) == 0) {
            conn_uses++;
            if (r->close)
                conn_close();
            return r->status;
        }
        conn_close();
        if (!reused || got_any)
            break;
    }
    return -1;
}

static int get(const char *path, struct resp *r)
{
    char head[1024];
    int  n = snprintf(head, sizeof head,
                      "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: lambdad-c-runtime\r\n\r\n",
                      path, api_host);
    return request(head, (size_t) n, NULL, 0, r);
}

/* POST with Content-Length. `headers` is extra "Name: value\r\n" lines. */
static int post(const char *path, const char *headers, const void *body, size_t len,
                struct resp *r)
{
    char head[4096];
    int  n = snprintf(head, sizeof head,
                      "POST %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: lambdad-c-runtime\r\n"
                      "Content-Length: %zu\r\n%s\r\n",
                      path, api_host, len, headers ? headers : "");
    if (n < 0 || (size_t) n >= sizeof head)
        die("request head too long");
    return request(head, (size_t) n, body, len, r);
}

/* ---- chunked POSTs (aws-lambda-go style and response streaming) ---------- */

static int chunked_begin(const char *path, const char *headers)
{
    char head[4096];
    int  n = snprintf(head, sizeof head,
                      "POST %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: lambdad-c-runtime\r\n"
                      "Transfer-Encoding: chunked\r\n"
                      "Trailer: Lambda-Runtime-Function-Error-Type, "
                      "Lambda-Runtime-Function-Error-Body\r\n%s\r\n",
                      path, api_host, headers ? headers : "");
    if (conn_open() < 0)
        return -1;
    return send_all(head, (size_t) n);
}

static int chunk(const char *data, size_t n)
{
    char         size[32];
    int          sn     = snprintf(size, sizeof size, "%zx\r\n", n);
    struct iovec iov[3] = { { size, (size_t) sn }, { (void *) data, n }, { (void *) "\r\n", 2 } };
    return send_iov(iov, 3);
}

/* Ends the body with the last chunk and `trailers` ("Name: v\r\n" lines,
 * or ""), then reads the answer. */
static int chunked_end(const char *trailers, struct resp *r)
{
    bool got_any;
    char tail[8192];
    int  n = snprintf(tail, sizeof tail, "0\r\n%s\r\n", trailers);

    if ((size_t) n >= sizeof tail || send_all(tail, (size_t) n) < 0 ||
        read_response(r, &got_any) < 0) {
        conn_close();
        return -1;
    }
    conn_uses++;
    if (r->close)
        conn_close();
    return r->status;
}

/* ---- payload arguments --------------------------------------------------- */

/* The payload, as a C string (the event body is always NUL-terminated). */
static const char *payload(void) { return ev.body.p; }

/* The value of "key" in the payload: the first byte after `"key"`, blanks,
 * `:` and blanks (json.dumps writes `"key": value`), or NULL. */
static const char *arg_value(const char *key)
{
    char   pat[64];
    size_t plen = (size_t) snprintf(pat, sizeof pat, "\"%s\"", key);

    for (const char *p = strstr(payload(), pat); p; p = strstr(p + 1, pat)) {
        const char *v = p + plen;
        while (*v == ' ' || *v == '\t' || *v == '\n' || *v == '\r')
            v++;
        if (*v != ':')
            continue; /* the key's name as a value somewhere: look on */
        v++;
        while (*v == ' ' || *v == '\t' || *v == '\n' || *v == '\r')
            v++;
        return v;
    }
    return NULL;
}

/* Numeric argument "key":N, or dflt when absent. */
static long long arg_num(const char *key, long long dflt)
{
    const char *v = arg_value(key);

    return v && (*v == '-' || (*v >= '0' && *v <= '9')) ? strtoll(v, NULL, 10) : dflt;
}

/* String argument "key":"value" into dst; returns dst or NULL when absent.
 * Escapes are not decoded: the tests pass plain strings. */
static char *arg_str(const char *key, char *dst, size_t cap)
{
    const char *p = arg_value(key), *e;

    if (!p || *p != '"')
        return NULL;
    p++;
    e = strchr(p, '"');
    if (!e || (size_t) (e - p) >= cap)
        return NULL;
    memcpy(dst, p, (size_t) (e - p));
    dst[e - p] = '\0';
    return dst;
}

/* Calls fn on each string of the array argument "key":["a","b"]. */
static void arg_each(const char *key, void (*fn)(const char *s, size_t n, void *ctx), void *ctx)
{
    const char *p = arg_value(key);

    if (!p || *p != '[')
        return;
    p++;
    while (*p && *p != ']') {
        if (*p == '"') {
            const char *e = p + 1;
            while (*e && *e != '"') {
                if (*e == '\\' && e[1])
                    e++;
                e++;
            }
            fn(p + 1, (size_t) (e - p - 1), ctx);
            p = *e ? e + 1 : e;
        } else {
            p++;
        }
    }
}

/* ---- answering an invoke ------------------------------------------------- */

static void invocation_path(char *path, size_t cap, const char *id, const char *what)
{
    snprintf(path, cap, RAPI "/invocation/%s/%s", id, what);
}

static int respond(const char *body, size_t len, const char *content_type)
{
    char path[512], headers[512];

    invocation_path(path, sizeof path, req_id, "response");
    snprintf(headers, sizeof headers, "Content-Type: %s\r\n", content_type);
    return post(path, headers, body, len, &aux);
}

static void respond_out(void) { respond(out.p, out.len, "application/json"); }

static void act_echo(void)
{
    char ct[128];

    if (!arg_str("content_type", ct, sizeof ct))
        strcpy(ct, "application/json");
    respond(ev.body.p, ev.body.len, ct);
}

static void act_error(void)
{
    static const char doc[] = "{\"errorMessage\":\"boom\",\"errorType\":\"Custom\",\"stackTrace\":[]}";
    char path[512];

    invocation_path(path, sizeof path, req_id, "error");
    post(path,
         "Content-Type: application/json\r\n"
         "Lambda-Runtime-Function-Error-Type: Function.Custom\r\n",
         doc, sizeof doc - 1, &aux);
}

/* /error with RIE's X-Ray cause content type. "body":"cause" posts a
 * document with an errorCause (which the caller must not see), "body":
 * "garbage" one that is not JSON; prints the status the API answered. */
static void act_error_cause(void)
{
    static const char with_cause[] =
        "{\"errorMessage\":\"cause boom\",\"errorType\":\"CauseError\","
        "\"stackTrace\":[\"at handler (index.js:1:1)\"],"
        "\"errorCause\":{\"working_directory\":\"/var/task\",\"exceptions\":"
        "[{\"type\":\"CauseError\",\"message\":\"cause boom\",\"stack\":[]}],"
        "\"paths\":[\"index.js\"]}}";
    static const char garbage[] = "{\"errorMessage\": \"cut short";
    char kind[32], path[512];
    bool g = arg_str("body", kind, sizeof kind) && strcmp(kind, "garbage") == 0;
    int st;

    invocation_path(path, sizeof path, req_id, "error");
    st = post(path,
              "Content-Type: application/vnd.aws.lambda.error.cause+json\r\n"
              "Lambda-Runtime-Function-Error-Type: Function.CauseError\r\n",
              g ? garbage : with_cause, g ? sizeof garbage - 1 : sizeof with_cause - 1, &aux);
    say(STDOUT_FILENO, "error_cause status=%d", st);
}

static void act_exit(void) { exit((int) arg_num("code", 1)); }

static void act_signal(void)
{
    int              sig = (int) arg_num("signo", SIGSEGV);
    struct rlimit    nocore = { 0, 0 };
    sigset_t         set;

    /* No core file: writing one only slows the crash down. */
    setrlimit(RLIMIT_CORE, &nocore);
    signal(sig, SIG_DFL);
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    raise(sig);
    die("still alive after signal %d", sig);
}

static void act_sleep(void)
{
    sleep_ms(arg_num("ms", 1000));
    act_echo();
}

/* Responds with `bytes` bytes (a JSON string of x's), and says what the API
 * answered: 202, or 413 when it is over the limit. */
static void act_big(void)
{
    size_t n = (size_t) arg_num("bytes", 1024);
    int    st;

    out.len = 0;
    buf_reserve(&out, n);
    memset(out.p, 'x', n);
    if (n >= 2)
        out.p[0] = out.p[n - 1] = '"';
    out.len = n;
    st      = respond(out.p, out.len, "application/json");
    say(STDOUT_FILENO, "big status=%d body=%s", st, st > 0 ? aux.body.p : "");
}

/* Answers, then tries to answer the same invoke twice more. */
static void act_twice(void)
{
    static const char late[] = "{\"errorMessage\":\"late\",\"errorType\":\"Late\"}";
    char path[512];
    int  st;

    act_echo();
    st = respond("\"second\"", 8, "application/json");
    say(STDOUT_FILENO, "twice second status=%d body=%s", st, st > 0 ? aux.body.p : "");
    invocation_path(path, sizeof path, req_id, "error");
    st = post(path, "Content-Type: application/json\r\n", late, sizeof late - 1, &aux);
    say(STDOUT_FILENO, "twice error status=%d body=%s", st, st > 0 ? aux.body.p : "");
}

/* Answers an invoke that does not exist, then reports what it got. */
static void act_badid(void)
{
    char path[512];
    int  st;

    invocation_path(path, sizeof path, "11111111-2222-4333-8444-555555555555", "response");
    st      = post(path, "Content-Type: application/json\r\n", "{}", 2, &aux);
    out.len = 0;
    buf_addf(&out, "{\"status\":%d,\"body\":", st);
    buf_add_json_str(&out, aux.body.p, st > 0 ? aux.body.len : 0);
    buf_adds(&out, "}");
    respond_out();
}

/* The payload in three chunks, with the trailer declaration aws-lambda-go
 * sends on every POST, and no trailers at the end. */
static void act_chunked(void)
{
    char   path[512];
    size_t n = ev.body.len, third = n / 3;
    int    st = -1;

    invocation_path(path, sizeof path, req_id, "response");
    if (chunked_begin(path, "Content-Type: application/json\r\n") == 0 &&
        chunk(ev.body.p, third) == 0 && chunk(ev.body.p + third, third) == 0 &&
        chunk(ev.body.p + 2 * third, n - 2 * third) == 0)
        st = chunked_end("", &aux);
    else
        conn_close();
    say(STDOUT_FILENO, "chunked status=%d", st);
}

/* Streams "chunk-0\n".."chunk-<n-1>\n" with pauses; with `fail`, ends with
 * the error trailers a Node or Go runtime sends when the stream breaks. */
static void stream(bool fail)
{
    static const char doc[] =
        "{\"errorMessage\":\"stream broke\",\"errorType\":\"StreamError\",\"stackTrace\":[]}";
    char       path[512], piece[32];
    long long  chunks = arg_num("n", 4), delay = arg_num("delay_ms", 50);
    struct buf trailers = { 0 };
    int        st = -1, ok;

    invocation_path(path, sizeof path, req_id, "response");
    ok = chunked_begin(path, "Lambda-Runtime-Function-Response-Mode: streaming\r\n"
                             "Content-Type: application/octet-stream\r\n") == 0;
    for (long long i = 0; ok && i < chunks; i++) {
        int pn = snprintf(piece, sizeof piece, "chunk-%lld\n", i);
        ok     = chunk(piece, (size_t) pn) == 0;
        if (i + 1 < chunks)
            sleep_ms(delay);
    }
    if (fail) {
        buf_adds(&trailers, "Lambda-Runtime-Function-Error-Type: Function.StreamError\r\n"
                            "Lambda-Runtime-Function-Error-Body: ");
        base64(&trailers, doc, sizeof doc - 1);
        buf_adds(&trailers, "\r\n");
    } else {
        buf_adds(&trailers, "");
    }
    if (ok)
        st = chunked_end(trailers.p, &aux);
    else
        conn_close();
    free(trailers.p);
    say(STDOUT_FILENO, "%s status=%d", fail ? "stream_error" : "stream", st);
}

static void act_stream(void) { stream(false); }
static void act_stream_error(void) { stream(true); }

static void act_badmode(void)
{
    char path[512];
    int  st;

    invocation_path(path, sizeof path, req_id, "response");
    st = post(path,
              "Content-Type: application/json\r\n"
              "Lambda-Runtime-Function-Response-Mode: bogus\r\n",
              "{}", 2, &aux);
    say(STDOUT_FILENO, "badmode status=%d body=%s", st, st > 0 ? aux.body.p : "");
}

/* Every header of the /next answer, names lower-cased, as a JSON object. */
static void act_headers(void)
{
    const char *l = strstr(ev.head, "\r\n");

    out.len = 0;
    buf_adds(&out, "{");
    for (bool first = true; l && l[2] != '\r' && l[2]; l = strstr(l + 2, "\r\n")) {
        const char *name = l + 2, *colon = strchr(name, ':'), *end = strstr(name, "\r\n");
        char        lname[128];
        size_t      nlen;

        if (!colon || !end || colon > end)
            continue;
        nlen = (size_t) (colon - name) < sizeof lname ? (size_t) (colon - name) : sizeof lname - 1;
        for (size_t i = 0; i < nlen; i++)
            lname[i] = (char) (name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
        const char *v = colon + 1;
        while (*v == ' ')
            v++;
        if (!first)
            buf_adds(&out, ",");
        first = false;
        buf_add_json_str(&out, lname, nlen);
        buf_adds(&out, ":");
        buf_add_json_str(&out, v, (size_t) (end - v));
    }
    buf_adds(&out, "}");
    respond_out();
}

static void env_one(const char *s, size_t n, void *ctx)
{
    char  name[256];
    bool *first = ctx;

    if (n >= sizeof name)
        return;
    memcpy(name, s, n);
    name[n] = '\0';
    if (!*first)
        buf_adds(&out, ",");
    *first = false;
    buf_add_json_str(&out, name, n);
    buf_adds(&out, ":");
    buf_add_json_cstr(&out, getenv(name));
}

/* Selected variables ("names":["A","B"], null when unset), or all of them. */
static void act_env(void)
{
    const char *names = arg_value("names");
    bool        first = true;

    out.len = 0;
    buf_adds(&out, "{");
    if (names && *names == '[') {
        arg_each("names", env_one, &first);
    } else {
        for (char **e = environ; *e; e++) {
            const char *eq = strchr(*e, '=');
            if (!eq)
                continue;
            if (!first)
                buf_adds(&out, ",");
            first = false;
            buf_add_json_str(&out, *e, (size_t) (eq - *e));
            buf_adds(&out, ":");
            buf_add_json_cstr(&out, eq + 1);
        }
    }
    buf_adds(&out, "}");
    respond_out();
}

static void act_count(void)
{
    out.len = 0;
    buf_addf(&out, "{\"count\":%lu}", invokes);
    respond_out();
}

/* Who and where the runtime is, and since when:
 * {"pid":N,"ppid":N,"start_ms":EPOCH_MS,"cwd":"..."}. */
static void act_pid(void)
{
    char cwd[4096];

    out.len = 0;
    buf_addf(&out, "{\"pid\":%d,\"ppid\":%d,\"start_ms\":%lld,\"cwd\":", (int) getpid(),
             (int) getppid(), start_ms);
    buf_add_json_cstr(&out, getcwd(cwd, sizeof cwd));
    buf_adds(&out, "}");
    respond_out();
}

static void print_line(const char *s, size_t n, void *ctx)
{
    int fd = *(int *) ctx;
    struct iovec iov[2] = { { (void *) s, n }, { (void *) "\n", 1 } };

    (void) !writev(fd, iov, 2);
}

/* Lines "out":[..] to stdout and "err":[..] to stderr, then echo. */
static void act_print(void)
{
    int fd = STDOUT_FILENO;

    arg_each("out", print_line, &fd);
    fd = STDERR_FILENO;
    arg_each("err", print_line, &fd);
    act_echo();
}

/* init/error once INIT is over: the API must refuse it (403). */
static void act_initerror_after(void)
{
    static const char doc[] = "{\"errorMessage\":\"too late\",\"errorType\":\"Runtime.Late\"}";
    int st = post(RAPI "/init/error",
                  "Content-Type: application/json\r\n"
                  "Lambda-Runtime-Function-Error-Type: Runtime.Late\r\n",
                  doc, sizeof doc - 1, &aux);
    out.len = 0;
    buf_addf(&out, "{\"status\":%d,\"body\":", st);
    buf_add_json_str(&out, aux.body.p, st > 0 ? aux.body.len : 0);
    buf_adds(&out, "}");
    respond_out();
}

/* `bytes` bytes of 'f' on stdout, a newline every `line` bytes (0: none),
 * then "flood done" on a line of its own, then echo. */
static void act_flood(void)
{
    static char block[65536];
    long long   total = arg_num("bytes", 1 << 20), line = arg_num("line", 0), col = 0;

    memset(block, 'f', sizeof block);
    while (total > 0) {
        size_t n = total < (long long) sizeof block ? (size_t) total : sizeof block;
        if (line > 0 && (long long) n > line - col)
            n = (size_t) (line - col);
        write_all(STDOUT_FILENO, block, n);
        total -= (long long) n;
        col += (long long) n;
        if (line > 0 && col == line) {
            write_all(STDOUT_FILENO, "\n", 1);
            col = 0;
        }
    }
    if (col > 0) /* end the flood's last line, so the marker is a line of its own */
        write_all(STDOUT_FILENO, "\n", 1);
    write_all(STDOUT_FILENO, "flood done\n", 11);
    act_echo();
}

struct action {
    const char *name;
    void (*fn)(void);
};

static const struct action actions[] = {
    { "echo", act_echo },         /* payload back; "content_type" sets the type */
    { "error", act_error },       /* /error, Function.Custom, {"errorMessage":"boom",..} */
    { "error_cause", act_error_cause }, /* /error as error.cause+json, "body":"cause"|"garbage" */
    { "exit", act_exit },         /* exit("code") */
    { "signal", act_signal },     /* raise("signo"), default SIGSEGV */
    { "sleep", act_sleep },       /* sleep "ms", then echo */
    { "big", act_big },           /* respond with "bytes" bytes; print the status */
    { "twice", act_twice },       /* respond, respond again, then /error; print both */
    { "badid", act_badid },       /* respond to a made-up id; report what came back */
    { "chunked", act_chunked },   /* chunked POST with declared trailers */
    { "stream", act_stream },     /* streaming mode, "n" chunks "delay_ms" apart */
    { "stream_error", act_stream_error }, /* streaming, then error trailers */
    { "badmode", act_badmode },   /* Response-Mode: bogus; print the status */
    { "headers", act_headers },   /* the /next headers as JSON */
    { "env", act_env },           /* env vars as JSON ("names":[..] or all) */
    { "count", act_count },       /* {"count":N}, invokes seen by this process */
    { "pid", act_pid },           /* {"pid","ppid","start_ms","cwd"} */
    { "print", act_print },       /* "out":[..] to stdout, "err":[..] to stderr */
    { "initerror-after", act_initerror_after }, /* init/error after init */
    { "flood", act_flood },       /* "bytes" of output, "line" long lines */
};

static void handle_invoke(void)
{
    const char *a = memmem(ev.body.p, ev.body.len, "\"action\"", 8);
    char        name[64], path[512];

    if (!a) { /* the benchmark's path: straight back */
        respond(ev.body.p, ev.body.len, "application/json");
        return;
    }
    if (arg_str("action", name, sizeof name)) {
        for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++) {
            if (strcmp(name, actions[i].name) == 0) {
                actions[i].fn();
                return;
            }
        }
    }
    /* A typo in a test should fail loudly, not pass as an echo. */
    out.len = 0;
    buf_adds(&out, "{\"errorMessage\":\"unknown action\",\"errorType\":\"UnknownAction\"}");
    invocation_path(path, sizeof path, req_id, "error");
    post(path, "Content-Type: application/json\r\n", out.p, out.len, &aux);
}

/* ---- INIT ---------------------------------------------------------------- */

static void init_phase(void)
{
    const char *how = getenv("C_RUNTIME_INIT"), *marker = getenv("C_RUNTIME_INIT_MARKER");

    say(STDOUT_FILENO, "c_runtime: init pid=%d", (int) getpid());
    if (!how || !*how)
        return;
    if (marker && *marker) {
        int fd = open(marker, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0)
            return; /* an earlier INIT already misbehaved: behave now */
        close(fd);
    }
    if (strcmp(how, "error") == 0) {
        static const char doc[] = "{\"errorMessage\":\"Unable to import module 'app'\","
                                  "\"errorType\":\"Runtime.ImportModuleError\",\"stackTrace\":[]}";
        /* Like a managed runtime printing its stack trace: output written
         * before init/error must reach the logs even if the platform kills
         * the runtime as soon as the error is in. */
        say(STDERR_FILENO, "c_runtime: init failed, reporting it");
        int st = post(RAPI "/init/error",
                      "Content-Type: application/json\r\n"
                      "Lambda-Runtime-Function-Error-Type: Runtime.ImportModuleError\r\n",
                      doc, sizeof doc - 1, &aux);
        say(STDOUT_FILENO, "init error status=%d", st);
        exit(1);
    } else if (strncmp(how, "exit:", 5) == 0) {
        exit(atoi(how + 5));
    } else if (strncmp(how, "sleep:", 6) == 0) {
        sleep_ms(atoll(how + 6));
    } else {
        die("unknown C_RUNTIME_INIT=%s", how);
    }
}

int main(void)
{
    const char     *api = getenv("AWS_LAMBDA_RUNTIME_API");
    const char     *colon;
    char            host[256];
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
    int             rc;
    struct timespec now;

    clock_gettime(CLOCK_REALTIME, &now);
    start_ms = (long long) now.tv_sec * 1000 + now.tv_nsec / 1000000;
    if (!api || !(colon = strrchr(api, ':')) || (size_t) (colon - api) >= sizeof host)
        die("AWS_LAMBDA_RUNTIME_API is not host:port");
    memcpy(host, api, (size_t) (colon - api));
    host[colon - api] = '\0';
    snprintf(api_host, sizeof api_host, "%s", api);
    if ((rc = getaddrinfo(host, colon + 1, &hints, &api_addr)) != 0)
        die("resolve %s: %s", api, gai_strerror(rc));

    init_phase();
    for (;;) {
        int st = -1;

        /* aws-lambda-cpp retries a failed /next a few times, then gives up. */
        for (int tries = 0; tries < 3 && st != 200; tries++)
            st = get(RAPI "/invocation/next", &ev);
        if (st != 200)
            die("next failed: status %d", st);
        if (!resp_header(&ev, "Lambda-Runtime-Aws-Request-Id", req_id, sizeof req_id))
            die("next without a request id");
        invokes++;
        handle_invoke();
    }
}
