/* common/stream.c: buffered non-blocking sockets with direct writes (see stream.h). */
#include "common/stream.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <stdlib.h>
#include <unistd.h>

#define READ_CHUNK 16384

struct stream {
    int fd;
    struct event *rev;   /* persistent read event */
    struct event *wev;   /* armed only while the kernel pushes back */
    struct event *soon;  /* deferred flush */
    struct evbuffer *in, *out;
    const struct stream_ops *ops;
    void *arg;
    size_t read_cap;
    size_t low_mark;
    bool above_low;
    bool reading;     /* rev is added */
    bool read_paused; /* by the owner */
    bool read_closed;
    bool write_failed;
};

static void update_read(struct stream *s)
{
    bool want = !s->read_closed && !s->read_paused &&
                (s->read_cap == 0 || evbuffer_get_length(s->in) < s->read_cap);

    if (want && !s->reading)
        event_add(s->rev, NULL);
    else if (!want && s->reading)
        event_del(s->rev);
    s->reading = want;
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
    struct stream *s = arg;
    struct evbuffer_iovec v;
    int err = 0;
    bool eof = false;
    size_t got = 0;

    (void) what;
    /* One read per wakeup for small messages; keep going only while the
     * kernel fills whole chunks. */
    for (;;) {
        ssize_t n;

        if (evbuffer_reserve_space(s->in, READ_CHUNK, &v, 1) < 1) {
            err = ENOMEM;
            break;
        }
        n = read(fd, v.iov_base, v.iov_len);
        if (n > 0) {
            v.iov_len = (size_t) n;
            evbuffer_commit_space(s->in, &v, 1);
            got += (size_t) n;
            if ((size_t) n < READ_CHUNK || (s->read_cap && evbuffer_get_length(s->in) >= s->read_cap))
                break;
            continue;
        }
        evbuffer_commit_space(s->in, &v, 0);
        if (n == 0)
            eof = true;
        else if (errno == EINTR)
            continue;
        else if (errno != EAGAIN)
            err = errno;
        break;
    }
    if (got)
        s->ops->on_read(s, s->arg); /* may free s only via on_close paths below */
    if (eof || err) {
        s->read_closed = true;
        update_read(s);
        s->ops->on_close(s, s->arg, err);
        return;
    }
    update_read(s);
}

static void check_low_mark(struct stream *s)
{
    size_t left = evbuffer_get_length(s->out);

    if (left > s->low_mark) {
        s->above_low = true;
    } else if (s->above_low) {
        s->above_low = false;
        if (s->ops->on_drain)
            s->ops->on_drain(s, s->arg);
    }
}

void stream_flush(struct stream *s)
{
    event_del(s->soon);
    if (evbuffer_get_length(s->out) > s->low_mark)
        s->above_low = true;
    while (evbuffer_get_length(s->out) > 0 && !s->write_failed) {
        int n = evbuffer_write(s->out, s->fd);

        if (n > 0)
            continue;
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN) {
            event_add(s->wev, NULL);
            check_low_mark(s);
            return;
        }
        /* The peer is gone; the read side will report it. Drop the output. */
        s->write_failed = true;
        evbuffer_drain(s->out, evbuffer_get_length(s->out));
    }
    event_del(s->wev);
    check_low_mark(s);
}

static void on_writable(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    stream_flush(arg);
}

static void on_soon(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    stream_flush(arg);
}

struct stream *stream_new(struct event_base *base, int fd, const struct stream_ops *ops, void *arg)
{
    struct stream *s = calloc(1, sizeof *s);

    if (!s) {
        close(fd);
        return NULL;
    }
    s->fd = fd;
    s->ops = ops;
    s->arg = arg;
    evutil_make_socket_nonblocking(fd);
    evutil_make_socket_closeonexec(fd);
    s->in = evbuffer_new();
    s->out = evbuffer_new();
    s->rev = event_new(base, fd, EV_READ | EV_PERSIST, on_readable, s);
    s->wev = event_new(base, fd, EV_WRITE | EV_PERSIST, on_writable, s);
    s->soon = event_new(base, -1, 0, on_soon, s);
    if (!s->in || !s->out || !s->rev || !s->wev || !s->soon) {
        stream_free(s);
        return NULL;
    }
    update_read(s);
    return s;
}

void stream_free(struct stream *s)
{
    if (!s)
        return;
    if (s->rev)
        event_free(s->rev);
    if (s->wev)
        event_free(s->wev);
    if (s->soon)
        event_free(s->soon);
    if (s->in)
        evbuffer_free(s->in);
    if (s->out)
        evbuffer_free(s->out);
    close(s->fd);
    free(s);
}

struct evbuffer *stream_input(struct stream *s)
{
    return s->in;
}

struct evbuffer *stream_output(struct stream *s)
{
    return s->out;
}

void stream_flush_later(struct stream *s, unsigned usec)
{
    struct timeval tv = {.tv_sec = 0, .tv_usec = (suseconds_t) usec};

    if (event_pending(s->soon, EV_TIMEOUT, NULL))
        return;
    if (usec == 0)
        event_active(s->soon, EV_TIMEOUT, 0);
    else
        event_add(s->soon, &tv);
}

void stream_set_read_cap(struct stream *s, size_t cap)
{
    s->read_cap = cap;
    update_read(s);
}

void stream_set_low_mark(struct stream *s, size_t low)
{
    s->low_mark = low;
}

void stream_pause_read(struct stream *s, bool pause)
{
    s->read_paused = pause;
    update_read(s);
}

void stream_input_taken(struct stream *s)
{
    update_read(s);
}

void stream_stop_reading(struct stream *s)
{
    s->read_closed = true;
    update_read(s);
}

size_t stream_pending_output(const struct stream *s)
{
    return evbuffer_get_length(s->out);
}

int stream_fd(const struct stream *s)
{
    return s->fd;
}
