/* service/envpool.c: blank environments prepared ahead (see envpool.h). */
#include "service/envpool.h"

#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>

#define ENVPOOL_MAX 64

struct spare {
    struct envpool *pool;
    struct environment *env;
};

struct envpool {
    struct environment_host host;
    char prefix[24];
    unsigned target;
    unsigned long counter;
    struct spare *spares[ENVPOOL_MAX];
    unsigned n;
    struct event *fill_ev;
    unsigned failures; /* in a row: stop trying after a few */
};

static void remove_spare(struct envpool *p, struct spare *s)
{
    unsigned i;

    for (i = 0; i < p->n; i++) {
        if (p->spares[i] == s) {
            p->spares[i] = p->spares[--p->n];
            return;
        }
    }
}

/* A blank init says nothing before START; should it die, it leaves. */
static void spare_frame(void *arg, const struct ctl_frame *f)
{
    (void) arg;
    (void) f;
}

static void spare_exit(void *arg, int status)
{
    struct spare *s = arg;

    fprintf(stderr, "lambdad: a prepared environment exited (status %d)\n", status);
    remove_spare(s->pool, s);
    environment_free(s->env);
    free(s);
}

static const struct envctl_ops spare_ops = {.on_frame = spare_frame, .on_exit = spare_exit};

static void on_fill(evutil_socket_t fd, short what, void *arg)
{
    struct envpool *p = arg;
    struct spare *s;
    struct ld_err err;
    char id[48];

    (void) fd;
    (void) what;
    if (p->n >= p->target || p->n >= ENVPOOL_MAX || p->failures >= 3)
        return;
    s = calloc(1, sizeof *s);
    if (!s)
        return;
    s->pool = p;
    snprintf(id, sizeof id, "%s%lu", p->prefix, ++p->counter);
    if (environment_prepare(&p->host, id, &spare_ops, s, &s->env, &err) < 0) {
        fprintf(stderr, "lambdad: preparing an environment: %s\n", err.msg);
        p->failures++;
        free(s);
        return;
    }
    p->failures = 0;
    p->spares[p->n++] = s;
    if (p->n < p->target)
        event_active(p->fill_ev, EV_TIMEOUT, 0);
}

struct envpool *envpool_new(const struct environment_host *h, const char *id_prefix,
                            unsigned target)
{
    struct envpool *p = calloc(1, sizeof *p);

    if (!p)
        return NULL;
    p->host = *h;
    snprintf(p->prefix, sizeof p->prefix, "%s", id_prefix);
    p->target = target < ENVPOOL_MAX ? target : ENVPOOL_MAX;
    p->fill_ev = event_new(h->base, -1, 0, on_fill, p);
    if (!p->fill_ev) {
        free(p);
        return NULL;
    }
    return p;
}

struct environment *envpool_take(struct envpool *p)
{
    struct spare *s;
    struct environment *e;

    if (!p->n)
        return NULL;
    /* The oldest: it has certainly finished starting. */
    s = p->spares[0];
    p->spares[0] = p->spares[--p->n];
    e = s->env;
    free(s); /* environment_assign gives init's frames to the new owner */
    return e;
}

int envpool_prepare_now(struct envpool *p, struct environment **out, struct ld_err *err)
{
    char id[48];

    snprintf(id, sizeof id, "%s%lu", p->prefix, ++p->counter);
    return environment_prepare(&p->host, id, &spare_ops, NULL, out, err);
}

void envpool_fill(struct envpool *p)
{
    p->failures = 0;
    if (p->n < p->target && !event_pending(p->fill_ev, EV_TIMEOUT, NULL))
        event_active(p->fill_ev, EV_TIMEOUT, 0);
}

unsigned envpool_ready(const struct envpool *p)
{
    return p->n;
}

void envpool_free(struct envpool *p)
{
    if (!p)
        return;
    while (p->n) {
        struct spare *s = p->spares[--p->n];

        environment_free(s->env);
        free(s);
    }
    event_free(p->fill_ev);
    free(p);
}
