/* service/workq.h: runs blocking jobs (unzip, disk writes, SQLite) on worker
 * threads and hands each completion back to the event loop, which must
 * never block (DESIGN.md).
 *
 * `work` runs on a worker; `done` runs afterwards on the loop thread, from
 * the loop, so it may touch loop state, call libevent and submit more jobs.
 * Workers never call libevent: a completion is queued under a mutex and an
 * eventfd registered in the loop wakes it.
 *
 * The queue is unbounded: jobs come from requests that are already bounded
 * (connections, body caps), and a full queue would leave the loop thread a
 * choice between blocking and failing a request it has accepted. The caller
 * that wants back-pressure reads workq_pending() and answers 429 itself. */
#ifndef LD_WORKQ_H
#define LD_WORKQ_H

#include <stddef.h>

#include "common/err.h"

struct event_base;
struct workq;

typedef void workq_fn(void *arg);

/* Starts nthreads (1..256) workers whose completions go to `base`. Workers
 * block every signal: they are the loop's to handle. */
int workq_new(struct event_base *base, unsigned nthreads, struct workq **out,
              struct ld_err *err);
/* Queues work(arg); done(arg) follows on the loop thread, exactly once,
 * never from inside this call. `done` may be NULL. From any thread.
 * Returns 0, -ENOMEM, or -ECANCELED once workq_free() has begun (from a
 * `done` it calls): then nothing was queued and arg is still the caller's. */
int workq_submit(struct workq *q, workq_fn *work, workq_fn *done, void *arg);
/* Jobs submitted and not yet done (queued, running, or awaiting the loop). */
size_t workq_pending(const struct workq *q);
/* From the loop thread, never from a `done`. Waits for the jobs already
 * running, starts no other, and then calls `done` on this thread for every
 * job not yet done: first those whose work ran, then those whose work never
 * will. So each arg still meets its `done` exactly once and nothing leaks;
 * a `done` that must know whether its work ran records that in arg. */
void workq_free(struct workq *q);

#endif
