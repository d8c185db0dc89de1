/* tests/unit/common/test_stream.c: buffered non-blocking sockets
 * (src/common/stream.h) over a real socketpair.
 *
 * The stream owns one end, the test holds the other ("peer", non-blocking)
 * and drives the loop with EVLOOP_NONBLOCK turns until a condition or a 5 s
 * deadline. Each test frees the stream and the base, then checks that no fd
 * and no allocation outlived it. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/stream.h"

#include "../checks.h"

#define DEADLINE_MS 5000

/* ---- helpers ------------------------------------------------------------ */

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

/* What the callbacks saw. */
struct rec {
    struct event_base *base;
    struct stream *s;
    int peer;
    size_t reads;        /* on_read calls */
    size_t drains;       /* on_drain calls */
    size_t closes;       /* on_close calls */
    int close_err;
    size_t in_at_close;  /* stream input length when on_close ran */
    size_t out_at_drain; /* pending output when on_drain ran */
    size_t reads_after_close;
    char log[64];        /* 'r' per on_read, 'd' per on_drain, 'c' per on_close */
    size_t nlog;
    bool drain_input_in_read; /* on_read empties the input into `got` */
    bool pause_in_read;       /* on_read pauses reading */
    struct ld_buf got;        /* what on_read took out */
    int fd_base;
};

static void note(struct rec *r, char c)
{
    if (r->nlog < sizeof r->log - 1)
        r->log[r->nlog++] = c;
}

static void on_read(struct stream *s, void *arg)
{
    struct rec *r = arg;

    r->reads++;
    if (r->closes)
        r->reads_after_close++;
    note(r, 'r');
    if (r->drain_input_in_read) {
        struct evbuffer *in = stream_input(s);
        size_t n = evbuffer_get_length(in);

        cr_assert_eq(ld_buf_reserve(&r->got, n, 0), 0);
        cr_assert_eq(evbuffer_remove(in, r->got.data + r->got.len, n), (int) n);
        r->got.len += n;
    }
    if (r->pause_in_read)
        stream_pause_read(s, true);
}

static void on_drain(struct stream *s, void *arg)
{
    struct rec *r = arg;

    r->drains++;
    r->out_at_drain = stream_pending_output(s);
    note(r, 'd');
}

static void on_close(struct stream *s, void *arg, int err)
{
    struct rec *r = arg;

    r->closes++;
    r->close_err = err;
    r->in_at_close = evbuffer_get_length(stream_input(s));
    note(r, 'c');
}

static const struct stream_ops ops = {
    .on_read = on_read,
    .on_drain = on_drain,
    .on_close = on_close,
};

/* A base, a socketpair, a stream on one end; the peer end non-blocking. */
static void setup(struct rec *r)
{
    int sv[2];

    memset(r, 0, sizeof *r);
    signal(SIGPIPE, SIG_IGN); /* as init.c and emulate.c do: the stream relies on it */
    r->fd_base = count_fds();
    r->base = event_base_new();
    cr_assert_not_null(r->base);
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    cr_assert_eq(fcntl(sv[1], F_SETFL, O_NONBLOCK), 0);
    r->peer = sv[1];
    r->s = stream_new(r->base, sv[0], &ops, r);
    cr_assert_not_null(r->s);
    cr_assert_eq(stream_fd(r->s), sv[0]);
}

static void teardown(struct rec *r)
{
    stream_free(r->s);
    ld_buf_free(&r->got);
    if (r->peer >= 0)
        close(r->peer);
    event_base_free(r->base);
    libevent_global_shutdown();
    cr_assert_eq(count_fds(), r->fd_base, "fds leaked: %d open, %d before", count_fds(),
                 r->fd_base);
#ifdef HAVE_LSAN
    cr_assert_eq(__lsan_do_recoverable_leak_check(), 0, "leaked (LeakSanitizer report above)");
#endif
}

static void peer_write(struct rec *r, const void *p, size_t n)
{
    cr_assert_eq(write(r->peer, p, n), (ssize_t) n);
}

/* Everything the peer can read right now, appended to buf. */
static size_t peer_read(struct rec *r, char *buf, size_t cap)
{
    size_t total = 0;

    for (;;) {
        ssize_t n = read(r->peer, buf + total, cap - total);

        if (n > 0) {
            total += (size_t) n;
            if (total == cap)
                break;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        cr_assert(n < 0 && errno == EAGAIN, "peer read: %zd (%s)", n, strerror(errno));
        break;
    }
    return total;
}

/* One non-blocking loop turn, then a short wait. */
static void turn(struct rec *r)
{
    struct pollfd p = {.fd = -1};

    event_base_loop(r->base, EVLOOP_NONBLOCK);
    poll(&p, 0, 1);
}

typedef bool (*cond_fn)(struct rec *r);

static bool run_until(struct rec *r, cond_fn cond)
{
    uint64_t deadline = now_ms() + DEADLINE_MS;

    while (!cond(r)) {
        if (now_ms() > deadline)
            return false;
        turn(r);
    }
    return true;
}

/* Loop turns for ms milliseconds, whatever happens. */
static void run_for(struct rec *r, unsigned ms)
{
    uint64_t end = now_ms() + ms;

    while (now_ms() < end)
        turn(r);
}

static bool has_read(struct rec *r)
{
    return r->reads > 0;
}

static bool has_closed(struct rec *r)
{
    return r->closes > 0;
}

static void assert_input(struct rec *r, const char *want)
{
    struct evbuffer *in = stream_input(r->s);
    size_t n = evbuffer_get_length(in);
    const char *p = (const char *) evbuffer_pullup(in, -1);

    cr_assert_eq(n, strlen(want), "input holds %zu bytes \"%.*s\", want \"%s\"", n, (int) n,
                 p ? p : "", want);
    cr_assert(n == 0 || memcmp(p, want, n) == 0, "input \"%.*s\", want \"%s\"", (int) n, p,
              want);
}

/* ---- reading -------------------------------------------------------------- */

Test(stream, on_read_delivers_bytes)
{
    struct rec r;

    setup(&r);
    peer_write(&r, "hello", 5);
    cr_assert(run_until(&r, has_read), "on_read never called");
    cr_assert_eq(r.reads, 1);
    assert_input(&r, "hello");
    peer_write(&r, " world", 6);
    r.reads = 0;
    cr_assert(run_until(&r, has_read));
    assert_input(&r, "hello world"); /* appended: the owner did not drain */
    cr_assert_eq(r.closes, 0);
    teardown(&r);
}

Test(stream, large_input_arrives_whole)
{
    struct rec r;
    static char msg[40000];

    setup(&r);
    r.drain_input_in_read = true;
    for (size_t i = 0; i < sizeof msg; i++)
        msg[i] = (char) ('a' + i % 26);
    peer_write(&r, msg, sizeof msg);
    shutdown(r.peer, SHUT_WR);
    cr_assert(run_until(&r, has_closed));
    cr_assert_eq(r.got.len, sizeof msg);
    cr_assert(memcmp(r.got.data, msg, sizeof msg) == 0);
    cr_assert_eq(r.close_err, 0);
    teardown(&r);
}

Test(stream, on_close_at_eof_after_last_bytes)
{
    struct rec r;

    setup(&r);
    peer_write(&r, "last words", 10);
    close(r.peer);
    r.peer = -1;
    cr_assert(run_until(&r, has_closed), "on_close never called");
    /* The bytes were delivered first, and are still in the input at close. */
    cr_assert_geq(r.reads, 1);
    cr_assert_eq(r.log[0], 'r', "events: %s", r.log);
    cr_assert_eq(r.log[r.nlog - 1], 'c', "events: %s", r.log);
    cr_assert_eq(r.close_err, 0);
    cr_assert_eq(r.in_at_close, 10);
    assert_input(&r, "last words");
    /* Once: no further callbacks after EOF. */
    run_for(&r, 50);
    cr_assert_eq(r.closes, 1);
    cr_assert_eq(r.reads_after_close, 0);
    teardown(&r);
}

Test(stream, on_close_at_eof_without_data)
{
    struct rec r;

    setup(&r);
    shutdown(r.peer, SHUT_WR);
    cr_assert(run_until(&r, has_closed));
    cr_assert_eq(r.reads, 0);
    cr_assert_eq(r.close_err, 0);
    cr_assert_eq(r.in_at_close, 0);
    run_for(&r, 30);
    cr_assert_eq(r.closes, 1);
    teardown(&r);
}

Test(stream, on_close_reports_socket_error)
{
    struct rec r;

    setup(&r);
    /* The peer closes with our bytes unread: AF_UNIX resets the connection. */
    evbuffer_add(stream_output(r.s), "unread", 6);
    stream_flush(r.s);
    close(r.peer);
    r.peer = -1;
    cr_assert(run_until(&r, has_closed));
    cr_assert_eq(r.close_err, ECONNRESET, "err %d (%s)", r.close_err, strerror(r.close_err));
    teardown(&r);
}

Test(stream, pause_read_stops_and_resumes_reads)
{
    struct rec r;

    setup(&r);
    stream_pause_read(r.s, true);
    peer_write(&r, "abc", 3);
    run_for(&r, 50);
    cr_assert_eq(r.reads, 0, "read while paused");
    assert_input(&r, "");
    stream_pause_read(r.s, false);
    cr_assert(run_until(&r, has_read));
    assert_input(&r, "abc");
    teardown(&r);
}

Test(stream, pause_read_from_on_read)
{
    struct rec r;

    setup(&r);
    r.pause_in_read = true;
    peer_write(&r, "one", 3);
    cr_assert(run_until(&r, has_read));
    peer_write(&r, "two", 3);
    run_for(&r, 50);
    cr_assert_eq(r.reads, 1);
    assert_input(&r, "one");
    r.pause_in_read = false;
    stream_pause_read(r.s, false);
    r.reads = 0;
    cr_assert(run_until(&r, has_read));
    assert_input(&r, "onetwo");
    teardown(&r);
}

Test(stream, pause_read_also_holds_back_eof)
{
    struct rec r;

    setup(&r);
    stream_pause_read(r.s, true);
    peer_write(&r, "x", 1);
    shutdown(r.peer, SHUT_WR);
    run_for(&r, 50);
    cr_assert_eq(r.reads + r.closes, 0, "events while paused: %s", r.log);
    stream_pause_read(r.s, false);
    cr_assert(run_until(&r, has_closed));
    cr_assert_str_eq(r.log, "rc");
    cr_assert_eq(r.close_err, 0);
    teardown(&r);
}

Test(stream, read_cap_stops_reads)
{
    struct rec r;
    char big[100];

    setup(&r);
    memset(big, 'x', sizeof big);
    stream_set_read_cap(r.s, 10);
    peer_write(&r, big, sizeof big);
    cr_assert(run_until(&r, has_read));
    /* The cap stops further reads; it does not shorten the one under way. */
    cr_assert_geq(evbuffer_get_length(stream_input(r.s)), 10);
    cr_assert_leq(evbuffer_get_length(stream_input(r.s)), 100);
    size_t held = evbuffer_get_length(stream_input(r.s));

    peer_write(&r, big, sizeof big);
    shutdown(r.peer, SHUT_WR);
    run_for(&r, 50);
    cr_assert_eq(r.reads, 1, "read past the cap");
    cr_assert_eq(r.closes, 0, "EOF seen past the cap");
    cr_assert_eq(evbuffer_get_length(stream_input(r.s)), held);
    /* Lifting the cap resumes reading. */
    stream_set_read_cap(r.s, 0);
    cr_assert(run_until(&r, has_closed));
    cr_assert_eq(evbuffer_get_length(stream_input(r.s)), 200);
    cr_assert_eq(r.close_err, 0);
    teardown(&r);
}

Test(stream, read_cap_with_owner_draining_in_on_read_keeps_reading)
{
    struct rec r;
    static char msg[300000];

    setup(&r);
    for (size_t i = 0; i < sizeof msg; i++)
        msg[i] = (char) (i * 7);
    r.drain_input_in_read = true;
    stream_set_read_cap(r.s, 1000);
    /* More than the socket buffer: written in pieces as the stream reads. */
    size_t off = 0;
    uint64_t deadline = now_ms() + DEADLINE_MS;

    while (off < sizeof msg || r.closes == 0) {
        if (off < sizeof msg) {
            ssize_t n = write(r.peer, msg + off, sizeof msg - off);

            if (n > 0)
                off += (size_t) n;
            if (off == sizeof msg)
                shutdown(r.peer, SHUT_WR);
        }
        cr_assert(now_ms() < deadline, "stalled at %zu written, %zu read", off, r.got.len);
        turn(&r);
        /* Never more than a read past the cap was held at once. */
        cr_assert_leq(evbuffer_get_length(stream_input(r.s)), 1000);
    }
    cr_assert_eq(r.got.len, sizeof msg);
    cr_assert(memcmp(r.got.data, msg, sizeof msg) == 0);
    cr_assert_eq(r.close_err, 0);
    teardown(&r);
}

/* The cap is "stop reading when the input holds this many bytes": once the
 * owner takes the bytes out (here from a later loop turn, as an owner that
 * parked a request does), reading must go on. */
Test(stream, read_cap_resumes_after_owner_drains_later)
{
    struct rec r;
    char big[100];

    setup(&r);
    memset(big, 'y', sizeof big);
    stream_set_read_cap(r.s, 10);
    peer_write(&r, big, sizeof big);
    cr_assert(run_until(&r, has_read));
    peer_write(&r, big, 50);
    run_for(&r, 20);
    cr_assert_eq(r.reads, 1);
    /* The owner consumes what it holds, outside any stream callback, and
     * says so (stream_input_taken), as the HTTP server does. */
    evbuffer_drain(stream_input(r.s), evbuffer_get_length(stream_input(r.s)));
    stream_input_taken(r.s);
    r.reads = 0;
    run_for(&r, 200);
    cr_expect_eq(r.reads, 1, "reading never resumed after the owner emptied the input");
    teardown(&r);
}

Test(stream, stop_reading_silences_read_and_close)
{
    struct rec r;

    setup(&r);
    stream_stop_reading(r.s);
    peer_write(&r, "ignored", 7);
    shutdown(r.peer, SHUT_WR);
    run_for(&r, 50);
    cr_assert_eq(r.nlog, 0, "events after stop_reading: %s", r.log);
    /* Writing still works. */
    evbuffer_add(stream_output(r.s), "still", 5);
    stream_flush(r.s);
    char buf[16];

    cr_assert_eq(peer_read(&r, buf, sizeof buf), 5);
    cr_assert(memcmp(buf, "still", 5) == 0);
    teardown(&r);
}

/* ---- writing -------------------------------------------------------------- */

Test(stream, flush_writes_at_once)
{
    struct rec r;
    char buf[64];

    setup(&r);
    evbuffer_add(stream_output(r.s), "ping", 4);
    cr_assert_eq(stream_pending_output(r.s), 4);
    stream_flush(r.s);
    /* No loop turn: the bytes are already in the socket. */
    cr_assert_eq(stream_pending_output(r.s), 0);
    cr_assert_eq(peer_read(&r, buf, sizeof buf), 4);
    cr_assert(memcmp(buf, "ping", 4) == 0);
    /* Several messages, one flush, in order. */
    evbuffer_add(stream_output(r.s), "a", 1);
    evbuffer_add(stream_output(r.s), "bc", 2);
    evbuffer_add_printf(stream_output(r.s), "%d", 42);
    stream_flush(r.s);
    cr_assert_eq(peer_read(&r, buf, sizeof buf), 5);
    cr_assert(memcmp(buf, "abc42", 5) == 0);
    teardown(&r);
}

Test(stream, flush_with_nothing_pending_is_harmless)
{
    struct rec r;
    char buf[8];

    setup(&r);
    stream_flush(r.s);
    stream_flush(r.s);
    run_for(&r, 10);
    cr_assert_eq(peer_read(&r, buf, sizeof buf), 0);
    cr_assert_eq(stream_pending_output(r.s), 0);
    teardown(&r);
}

#define BIG_OUT ((size_t) 4 << 20)

static unsigned char pattern(size_t i)
{
    return (unsigned char) ((i * 131) ^ (i >> 12));
}

static void fill_big_output(struct rec *r)
{
    unsigned char *p = malloc(BIG_OUT);

    cr_assert_not_null(p);
    for (size_t i = 0; i < BIG_OUT; i++)
        p[i] = pattern(i);
    cr_assert_eq(evbuffer_add(stream_output(r->s), p, BIG_OUT), 0);
    free(p);
}

/* Reads what the peer can and checks it against the pattern; returns the
 * total received so far. */
static size_t peer_take(struct rec *r, size_t *received, size_t max)
{
    static char buf[65536];
    size_t n = peer_read(r, buf, max < sizeof buf ? max : sizeof buf);

    for (size_t i = 0; i < n; i++)
        cr_assert_eq((unsigned char) buf[i], pattern(*received + i), "byte %zu differs",
                     *received + i);
    *received += n;
    return n;
}

Test(stream, large_output_drains_via_write_event)
{
    struct rec r;
    size_t received = 0;
    uint64_t deadline;

    setup(&r);
    stream_set_low_mark(r.s, 0);
    fill_big_output(&r);
    stream_flush(r.s);
    /* The kernel took part of it; the rest waits for the write event. */
    cr_assert_gt(stream_pending_output(r.s), 0, "4 MiB fit the socket buffer?");
    cr_assert_lt(stream_pending_output(r.s), BIG_OUT);
    cr_assert_eq(r.drains, 0);
    deadline = now_ms() + DEADLINE_MS;
    while (received < BIG_OUT) {
        cr_assert(now_ms() < deadline, "stalled at %zu of %zu", received, BIG_OUT);
        peer_take(&r, &received, SIZE_MAX);
        event_base_loop(r.base, EVLOOP_NONBLOCK);
        if (received < BIG_OUT && r.drains == 0)
            cr_assert_gt(stream_pending_output(r.s) + received, 0);
    }
    cr_assert_eq(received, BIG_OUT);
    cr_assert_eq(stream_pending_output(r.s), 0);
    cr_assert_eq(r.drains, 1, "on_drain called %zu times", r.drains);
    cr_assert_eq(r.out_at_drain, 0);
    /* Nothing more arrives, and on_drain stays quiet. */
    run_for(&r, 30);
    char extra[16];

    cr_assert_eq(peer_read(&r, extra, sizeof extra), 0);
    cr_assert_eq(r.drains, 1);
    teardown(&r);
}

/* on_drain fires when the output falls to the low mark, not only once it is
 * empty: an owner that paused its producers at a high mark resumes them
 * while the rest is still going out. Here the peer reads until the pending
 * output is at or below the mark, then stops. */
Test(stream, on_drain_fires_at_low_mark_before_empty)
{
    struct rec r;
    const size_t low = (size_t) 1 << 20;
    size_t received = 0;
    uint64_t deadline;

    setup(&r);
    stream_set_low_mark(r.s, low);
    fill_big_output(&r);
    stream_flush(r.s);
    cr_assert_gt(stream_pending_output(r.s), low);
    cr_assert_eq(r.drains, 0);
    deadline = now_ms() + DEADLINE_MS;
    while (stream_pending_output(r.s) > low) {
        cr_assert(now_ms() < deadline, "stalled at %zu pending", stream_pending_output(r.s));
        peer_take(&r, &received, 32768);
        event_base_loop(r.base, EVLOOP_NONBLOCK);
    }
    cr_assert_gt(stream_pending_output(r.s), 0, "peer read too much to tell");
    run_for(&r, 20);
    cr_expect_eq(r.drains, 1, "on_drain not called with %zu pending (low mark %zu)",
                 stream_pending_output(r.s), low);
    if (r.drains)
        cr_expect_leq(r.out_at_drain, low);
    /* Drain the rest: still exactly one call for one crossing. */
    deadline = now_ms() + DEADLINE_MS;
    while (received < BIG_OUT) {
        cr_assert(now_ms() < deadline, "stalled at %zu of %zu", received, BIG_OUT);
        peer_take(&r, &received, SIZE_MAX);
        event_base_loop(r.base, EVLOOP_NONBLOCK);
    }
    cr_assert_eq(stream_pending_output(r.s), 0);
    cr_expect_eq(r.drains, 1, "on_drain called %zu times for one crossing", r.drains);
    teardown(&r);
}

Test(stream, flush_later_waits_for_the_loop_and_coalesces)
{
    struct rec r;
    char buf[64];

    setup(&r);
    evbuffer_add(stream_output(r.s), "abc", 3);
    stream_flush_later(r.s, 0);
    /* Nothing is written before the loop runs. */
    cr_assert_eq(peer_read(&r, buf, sizeof buf), 0);
    cr_assert_eq(stream_pending_output(r.s), 3);
    evbuffer_add(stream_output(r.s), "def", 3);
    stream_flush_later(r.s, 0);
    evbuffer_add(stream_output(r.s), "ghi", 3);
    stream_flush_later(r.s, 0);
    cr_assert_eq(peer_read(&r, buf, sizeof buf), 0);
    cr_assert_eq(stream_pending_output(r.s), 9);
    event_base_loop(r.base, EVLOOP_NONBLOCK);
    cr_assert_eq(stream_pending_output(r.s), 0);
    cr_assert_eq(peer_read(&r, buf, sizeof buf), 9);
    cr_assert(memcmp(buf, "abcdefghi", 9) == 0);
    teardown(&r);
}

Test(stream, flush_later_with_delay_waits_that_long)
{
    struct rec r;
    char buf[64];
    uint64_t t0;
    size_t n = 0;

    setup(&r);
    t0 = now_ms();
    evbuffer_add(stream_output(r.s), "late", 4);
    stream_flush_later(r.s, 40000);
    /* A later, shorter request does not move it earlier or duplicate it. */
    evbuffer_add(stream_output(r.s), "r", 1);
    stream_flush_later(r.s, 0);
    event_base_loop(r.base, EVLOOP_NONBLOCK);
    if (now_ms() - t0 < 30)
        cr_assert_eq(peer_read(&r, buf, sizeof buf), 0, "written before the delay");
    while (n == 0) {
        cr_assert(now_ms() - t0 < DEADLINE_MS, "never written");
        turn(&r);
        n = peer_read(&r, buf, sizeof buf);
    }
    cr_assert_geq(now_ms() - t0, 35, "written after %llu ms", (unsigned long long) (now_ms() - t0));
    cr_assert_eq(n, 5);
    cr_assert(memcmp(buf, "later", 5) == 0);
    teardown(&r);
}

Test(stream, flush_takes_along_what_flush_later_held)
{
    struct rec r;
    char buf[64];

    setup(&r);
    evbuffer_add(stream_output(r.s), "x", 1);
    stream_flush_later(r.s, 50000);
    evbuffer_add(stream_output(r.s), "y", 1);
    stream_flush(r.s);
    cr_assert_eq(peer_read(&r, buf, sizeof buf), 2);
    cr_assert(memcmp(buf, "xy", 2) == 0);
    /* The deferred flush finds nothing more to send. */
    run_for(&r, 80);
    cr_assert_eq(peer_read(&r, buf, sizeof buf), 0);
    /* And a new flush_later works again afterwards. */
    evbuffer_add(stream_output(r.s), "z", 1);
    stream_flush_later(r.s, 0);
    event_base_loop(r.base, EVLOOP_NONBLOCK);
    cr_assert_eq(peer_read(&r, buf, sizeof buf), 1);
    cr_assert_eq(buf[0], 'z');
    teardown(&r);
}

Test(stream, write_to_closed_peer_drops_output)
{
    struct rec r;

    setup(&r);
    close(r.peer);
    r.peer = -1;
    evbuffer_add(stream_output(r.s), "nobody", 6);
    stream_flush(r.s); /* EPIPE (SIGPIPE is ignored, as lambdad's processes do) */
    cr_assert_eq(stream_pending_output(r.s), 0);
    cr_assert(run_until(&r, has_closed));
    teardown(&r);
}

Test(stream, new_makes_fd_nonblocking_and_cloexec)
{
    struct rec r;
    int fl, fdfl;

    setup(&r);
    fl = fcntl(stream_fd(r.s), F_GETFL);
    fdfl = fcntl(stream_fd(r.s), F_GETFD);
    cr_assert(fl & O_NONBLOCK);
    cr_assert(fdfl & FD_CLOEXEC);
    teardown(&r);
}
