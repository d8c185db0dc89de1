/* common/stream.h: a non-blocking socket with input and output buffers on a
 * libevent loop, tuned for the warm invoke path.
 *
 * libevent's bufferevent defers every write to the next loop turn and asks
 * the kernel how much can be read before each read: two to four extra
 * syscalls and a loop turn per message, on a path that crosses three
 * processes per invoke. Here a write goes out at once when the socket takes
 * it (or at the end of the current batch with stream_flush_soon, so that
 * several small messages share one writev); the write event is armed only
 * when the kernel pushes back; the read event stays armed, never re-added. */
#ifndef LD_STREAM_H
#define LD_STREAM_H

#include <stdbool.h>
#include <stddef.h>

struct event_base;
struct evbuffer;
struct stream;

struct stream_ops {
    /* New bytes are in stream_input(). */
    void (*on_read)(struct stream *s, void *arg);
    /* The output shrank to or below the low mark set with
     * stream_set_low_mark, after having been above it. Optional. */
    void (*on_drain)(struct stream *s, void *arg);
    /* EOF (err 0) or a socket error: no more reads. Bytes still in the input
     * were delivered through on_read first. The owner normally frees. */
    void (*on_close)(struct stream *s, void *arg, int err);
};

/* Takes ownership of fd (made non-blocking and close-on-exec). */
struct stream *stream_new(struct event_base *base, int fd, const struct stream_ops *ops, void *arg);
void stream_free(struct stream *s);

struct evbuffer *stream_input(struct stream *s);
struct evbuffer *stream_output(struct stream *s);
/* Writes what it can now; arms the write event for the rest. */
void stream_flush(struct stream *s);
/* Writes within `usec` (0: at the end of this loop turn), coalescing what is
 * added meanwhile; a stream_flush before then takes it all along. */
void stream_flush_later(struct stream *s, unsigned usec);
/* Stops reading when the input holds this many bytes (0: no cap). */
void stream_set_read_cap(struct stream *s, size_t cap);
void stream_set_low_mark(struct stream *s, size_t low);
void stream_pause_read(struct stream *s, bool pause);
/* The owner took bytes from the input outside of on_read: reading resumes
 * if the read cap had stopped it. */
void stream_input_taken(struct stream *s);
/* Closes the read side: no on_read or on_close any more. */
void stream_stop_reading(struct stream *s);
size_t stream_pending_output(const struct stream *s);
int stream_fd(const struct stream *s);

#endif
