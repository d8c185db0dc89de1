/* service/workq.c: worker threads with completions on the event loop (see
 * workq.h).
 *
 * Two FIFO lists under one mutex: `todo` (submitted, not started) and
 * `finished` (work ran, done not yet called). A worker that makes `finished`
 * non-empty writes the eventfd; the loop's callback reads the eventfd first
 * and takes the whole list second, so a job finished between the two is
 * either in the list it takes or wakes it again. */
#include "service/workq.h"

#include <event2/event.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define WORKQ_THREADS_MAX 256

struct job {
    workq_fn *work;
    workq_fn *done;
    void *arg;
    struct job *next;
};

struct jobs {
    struct job *head;
    struct job **tail;
};

struct workq {
    struct event_base *base; /* borrowed */
    struct event *ev;        /* owned: the eventfd's read event */
    int efd;
    pthread_mutex_t lock;
    pthread_cond_t wake;  /* todo grew, or stopping */
    struct jobs todo;     /* under lock */
    struct jobs finished; /* under lock */
    bool stopping;        /* under lock */
    atomic_size_t pending;
    unsigned nthreads; /* started */
    pthread_t threads[WORKQ_THREADS_MAX];
};

static void jobs_init(struct jobs *l)
{
    l->head = NULL;
    l->tail = &l->head;
}

static void jobs_push(struct jobs *l, struct job *j)
{
    j->next = NULL;
    *l->tail = j;
    l->tail = &j->next;
}

/* Empties the list and returns what it held, in order. */
static struct job *jobs_take(struct jobs *l)
{
    struct job *all = l->head;

    jobs_init(l);
    return all;
}

static void *worker(void *arg)
{
    struct workq *q = arg;

    pthread_mutex_lock(&q->lock);
    for (;;) {
        struct job *j;
        bool first;

        while (!q->stopping && !q->todo.head)
            pthread_cond_wait(&q->wake, &q->lock);
        if (q->stopping)
            break;
        j = q->todo.head;
        q->todo.head = j->next;
        if (!q->todo.head)
            q->todo.tail = &q->todo.head;
        pthread_mutex_unlock(&q->lock);

        j->work(j->arg);

        pthread_mutex_lock(&q->lock);
        first = !q->finished.head;
        jobs_push(&q->finished, j);
        if (first) {
            uint64_t one = 1;

            /* Cannot fail short of a counter near 2^64; the list is the
             * truth, the eventfd only a doorbell. */
            (void) !write(q->efd, &one, sizeof one);
        }
    }
    pthread_mutex_unlock(&q->lock);
    return NULL;
}

/* Frees the job, then calls done: done may submit, or free its arg. */
static void finish(struct workq *q, struct job *j)
{
    workq_fn *done = j->done;
    void *arg = j->arg;

    free(j);
    atomic_fetch_sub(&q->pending, 1);
    if (done)
        done(arg);
}

static void finish_all(struct workq *q, struct job *j)
{
    while (j) {
        struct job *next = j->next;

        finish(q, j);
        j = next;
    }
}

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
    struct workq *q = arg;
    struct job *j;
    uint64_t n;

    (void) what;
    /* Read before taking the list: see the top of this file. */
    (void) !read(fd, &n, sizeof n);
    pthread_mutex_lock(&q->lock);
    j = jobs_take(&q->finished);
    pthread_mutex_unlock(&q->lock);
    finish_all(q, j);
}

static void stop_workers(struct workq *q)
{
    unsigned i;

    pthread_mutex_lock(&q->lock);
    q->stopping = true;
    pthread_cond_broadcast(&q->wake);
    pthread_mutex_unlock(&q->lock);
    for (i = 0; i < q->nthreads; i++)
        pthread_join(q->threads[i], NULL);
    q->nthreads = 0;
}

static void destroy(struct workq *q)
{
    if (q->ev)
        event_free(q->ev);
    if (q->efd >= 0)
        close(q->efd);
    pthread_cond_destroy(&q->wake);
    pthread_mutex_destroy(&q->lock);
    free(q);
}

int workq_new(struct event_base *base, unsigned nthreads, struct workq **out,
              struct ld_err *err)
{
    struct workq *q;
    sigset_t all, old;
    int rc = 0;

    if (nthreads < 1 || nthreads > WORKQ_THREADS_MAX)
        return ld_err_set(err, EINVAL, "workq: %u threads", nthreads);
    q = calloc(1, sizeof *q);
    if (!q)
        return ld_err_set(err, ENOMEM, "workq");
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->wake, NULL);
    jobs_init(&q->todo);
    jobs_init(&q->finished);
    q->base = base;
    q->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (q->efd < 0) {
        rc = ld_err_set(err, errno, "workq: eventfd");
        goto fail;
    }
    q->ev = event_new(base, q->efd, EV_READ | EV_PERSIST, on_wake, q);
    if (!q->ev || event_add(q->ev, NULL) < 0) {
        rc = ld_err_set(err, ENOMEM, "workq: event");
        goto fail;
    }
    /* Threads inherit the mask: signals stay with the loop thread. */
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    for (; q->nthreads < nthreads; q->nthreads++) {
        int e = pthread_create(&q->threads[q->nthreads], NULL, worker, q);

        if (e != 0) {
            rc = ld_err_set(err, e, "workq: start thread %u", q->nthreads);
            break;
        }
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc < 0)
        goto fail;
    *out = q;
    return 0;
fail:
    stop_workers(q);
    destroy(q);
    return rc;
}

int workq_submit(struct workq *q, workq_fn *work, workq_fn *done, void *arg)
{
    struct job *j = malloc(sizeof *j);

    if (!j)
        return -ENOMEM;
    j->work = work;
    j->done = done;
    j->arg = arg;
    pthread_mutex_lock(&q->lock);
    if (q->stopping) {
        pthread_mutex_unlock(&q->lock);
        free(j);
        return -ECANCELED;
    }
    atomic_fetch_add(&q->pending, 1);
    jobs_push(&q->todo, j);
    pthread_cond_signal(&q->wake);
    pthread_mutex_unlock(&q->lock);
    return 0;
}

size_t workq_pending(const struct workq *q)
{
    return atomic_load(&q->pending);
}

void workq_free(struct workq *q)
{
    struct job *ran, *never;

    if (!q)
        return;
    stop_workers(q);
    /* No worker is left; a done below that submits gets -ECANCELED. */
    ran = jobs_take(&q->finished);
    never = jobs_take(&q->todo);
    finish_all(q, ran);
    finish_all(q, never);
    destroy(q);
}
