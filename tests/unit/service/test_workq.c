/* tests/unit/service/test_workq.c: worker threads whose completions come
 * back on the event loop (src/service/workq.h), with a real event_base.
 *
 * Each job is a heap `struct job` that records which thread ran its work
 * and its done; done frees it, so a job whose done never ran shows up as a
 * leak and one whose done ran twice as a double free under ASan. */
#include <criterion/criterion.h>
#include <event2/event.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "service/workq.h"

#include "../checks.h"

#define DEADLINE_MS 10000

static pthread_t loop_thread;

struct tally {
    atomic_int work_runs;
    int done_runs;           /* loop thread only */
    int work_on_loop_thread; /* work that ran where it must not */
    int done_off_loop_thread;
    int done_without_work;
    unsigned char *seen; /* done count per job id */
    struct workq *q;
    int resubmit;        /* chain this many more jobs from done */
    int cancelled;       /* ... of which workq_free refused */
    bool in_submit;
    int done_in_submit; /* a done that ran inside workq_submit */
};

struct job {
    struct tally *t;
    int id;
    bool worked;
    useconds_t nap;
};

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

static void work(void *arg)
{
    struct job *j = arg;

    if (pthread_equal(pthread_self(), loop_thread))
        j->t->work_on_loop_thread++;
    if (j->nap)
        usleep(j->nap);
    j->worked = true;
    atomic_fetch_add(&j->t->work_runs, 1);
}

static int submit(struct tally *t, int id, useconds_t nap);

static void done(void *arg)
{
    struct job *j = arg;
    struct tally *t = j->t;

    if (!pthread_equal(pthread_self(), loop_thread))
        t->done_off_loop_thread++;
    if (t->in_submit)
        t->done_in_submit++;
    if (!j->worked)
        t->done_without_work++;
    if (t->seen)
        t->seen[j->id]++;
    t->done_runs++;
    free(j);
    if (t->resubmit > 0) {
        int rc = submit(t, 0, 0);

        t->resubmit--;
        if (rc == -ECANCELED)
            t->cancelled++;
        else
            cr_assert_eq(rc, 0);
    }
}

static int submit(struct tally *t, int id, useconds_t nap)
{
    struct job *j = calloc(1, sizeof *j);
    int rc;

    cr_assert_not_null(j);
    j->t = t;
    j->id = id;
    j->nap = nap;
    t->in_submit = true;
    rc = workq_submit(t->q, work, done, j);
    t->in_submit = false;
    if (rc < 0)
        free(j);
    return rc;
}

/* Turns the loop until `want` dones ran or the deadline passed. */
static void run_until(struct event_base *base, const struct tally *t, int want)
{
    uint64_t deadline = now_ms() + DEADLINE_MS;

    while (t->done_runs < want && now_ms() < deadline)
        event_base_loop(base, EVLOOP_ONCE);
    cr_assert_eq(t->done_runs, want, "%d of %d done", t->done_runs, want);
}

static struct event_base *new_base(void)
{
    struct event_base *base = event_base_new();

    cr_assert_not_null(base);
    loop_thread = pthread_self();
    return base;
}

static void finish(struct event_base *base, int fds)
{
    event_base_free(base);
    cr_assert_eq(count_fds(), fds, "fd leak: %d open, %d before", count_fds(), fds);
    assert_no_leaks();
}

Test(workq, thousand_jobs_each_done_once_on_the_loop_thread)
{
    int fds = count_fds();
    struct event_base *base = new_base();
    struct tally t = {0};
    struct ld_err err;

    t.seen = calloc(1000, 1);
    cr_assert_eq(workq_new(base, 4, &t.q, &err), 0, "%s", err.msg);
    for (int i = 0; i < 1000; i++)
        cr_assert_eq(submit(&t, i, 0), 0);
    cr_assert_eq(t.done_runs, 0, "a done ran before the loop turned");
    run_until(base, &t, 1000);
    for (int i = 0; i < 1000; i++)
        cr_assert_eq(t.seen[i], 1, "job %d done %d times", i, t.seen[i]);
    cr_assert_eq(atomic_load(&t.work_runs), 1000);
    cr_assert_eq(t.work_on_loop_thread, 0);
    cr_assert_eq(t.done_off_loop_thread, 0);
    cr_assert_eq(t.done_without_work, 0);
    cr_assert_eq(t.done_in_submit, 0);
    cr_assert_eq(workq_pending(t.q), 0);
    /* Nothing more comes after the last one. */
    event_base_loop(base, EVLOOP_NONBLOCK);
    cr_assert_eq(t.done_runs, 1000);
    workq_free(t.q);
    free(t.seen);
    finish(base, fds);
}

Test(workq, done_may_submit_more)
{
    int fds = count_fds();
    struct event_base *base = new_base();
    struct tally t = {0};
    struct ld_err err;

    cr_assert_eq(workq_new(base, 2, &t.q, &err), 0, "%s", err.msg);
    t.resubmit = 99;
    cr_assert_eq(submit(&t, 0, 0), 0);
    run_until(base, &t, 100);
    cr_assert_eq(t.resubmit, 0);
    cr_assert_eq(t.cancelled, 0);
    cr_assert_eq(t.done_in_submit, 0);
    workq_free(t.q);
    finish(base, fds);
}

Test(workq, pending_counts_until_done_runs)
{
    int fds = count_fds();
    struct event_base *base = new_base();
    struct tally t = {0};
    struct ld_err err;
    uint64_t deadline = now_ms() + DEADLINE_MS;

    cr_assert_eq(workq_new(base, 3, &t.q, &err), 0, "%s", err.msg);
    for (int i = 0; i < 10; i++)
        cr_assert_eq(submit(&t, i, 0), 0);
    cr_assert_eq(workq_pending(t.q), 10);
    /* All work done, but no done yet: the loop has not turned. */
    while (atomic_load(&t.work_runs) < 10 && now_ms() < deadline)
        usleep(1000);
    cr_assert_eq(workq_pending(t.q), 10);
    run_until(base, &t, 10);
    cr_assert_eq(workq_pending(t.q), 0);
    workq_free(t.q);
    finish(base, fds);
}

Test(workq, free_with_jobs_queued_running_and_finished)
{
    int fds = count_fds();
    struct event_base *base = new_base();
    struct tally t = {0};
    struct ld_err err;
    uint64_t deadline = now_ms() + DEADLINE_MS;

    t.seen = calloc(200, 1);
    cr_assert_eq(workq_new(base, 4, &t.q, &err), 0, "%s", err.msg);
    for (int i = 0; i < 200; i++)
        cr_assert_eq(submit(&t, i, 2000), 0);
    /* Let some finish without turning the loop, then free mid-flight. */
    while (atomic_load(&t.work_runs) < 8 && now_ms() < deadline)
        usleep(1000);
    t.resubmit = 5; /* a done inside workq_free gets -ECANCELED: no new job */
    workq_free(t.q);
    cr_assert_eq(t.done_runs, 200);
    cr_assert_eq(t.cancelled, 5);
    for (int i = 0; i < 200; i++)
        cr_assert_eq(t.seen[i], 1, "job %d done %d times", i, t.seen[i]);
    cr_assert_eq(t.done_off_loop_thread, 0);
    cr_assert_lt(atomic_load(&t.work_runs), 200, "free waited for queued work");
    cr_assert_eq(t.done_without_work, 200 - atomic_load(&t.work_runs));
    free(t.seen);
    finish(base, fds);
}

static void cancelled_submit_done(void *arg)
{
    struct tally *t = arg;

    cr_assert_eq(submit(t, 0, 0), -ECANCELED);
    t->done_runs++;
}

static void nothing(void *arg)
{
    (void) arg;
}

Test(workq, submit_from_a_done_inside_free_is_refused)
{
    int fds = count_fds();
    struct event_base *base = new_base();
    struct tally t = {0};
    struct ld_err err;

    cr_assert_eq(workq_new(base, 1, &t.q, &err), 0, "%s", err.msg);
    cr_assert_eq(workq_submit(t.q, nothing, cancelled_submit_done, &t), 0);
    workq_free(t.q);
    cr_assert_eq(t.done_runs, 1);
    finish(base, fds);
}

Test(workq, free_right_away_and_null_done)
{
    int fds = count_fds();
    struct event_base *base = new_base();
    struct workq *q;
    struct ld_err err;

    cr_assert_eq(workq_new(base, 8, &q, &err), 0, "%s", err.msg);
    workq_free(q);
    cr_assert_eq(workq_new(base, 1, &q, &err), 0, "%s", err.msg);
    cr_assert_eq(workq_submit(q, nothing, NULL, NULL), 0);
    workq_free(q);
    workq_free(NULL);
    finish(base, fds);
}

Test(workq, thread_count_is_checked)
{
    int fds = count_fds();
    struct event_base *base = new_base();
    struct workq *q = NULL;
    struct ld_err err;

    cr_assert_eq(workq_new(base, 0, &q, &err), -EINVAL);
    cr_assert_eq(workq_new(base, 100000, &q, &err), -EINVAL);
    cr_assert_null(q);
    finish(base, fds);
}
