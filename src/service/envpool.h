/* service/envpool.h: blank execution environments, prepared ahead.
 *
 * A cold start that has to build its sandbox first spends most of its time
 * on namespaces, mounts, the cgroup and init's own start-up (bench/
 * cold_start.c measures it: about 7 ms of the total here, against about 3 ms
 * with a prepared one). The pool keeps `target` environments built and
 * waiting, without any function's code or limits; a cold start takes one and
 * gives it the function (environment_assign), and the pool builds the next
 * one when the owner says it has time (envpool_fill), one per loop turn so
 * no caller waits behind a batch of them. The same idea as Lambda keeping
 * microVMs and network interfaces ready before they are needed. */
#ifndef LD_ENVPOOL_H
#define LD_ENVPOOL_H

#include "service/environment.h"

struct envpool;

/* `id_prefix` names the environments' cgroups (prefix + a counter); target
 * may be 0 (no spares: every take misses). */
struct envpool *envpool_new(const struct environment_host *h, const char *id_prefix,
                            unsigned target);
/* A prepared environment, now the caller's, or NULL when none is ready. */
struct environment *envpool_take(struct envpool *p);
/* Prepares one now, for a caller that found the pool empty; the id comes
 * from the pool's counter. Assign it before returning to the loop: until
 * then nobody owns its exit. */
int envpool_prepare_now(struct envpool *p, struct environment **out, struct ld_err *err);
/* Starts refilling up to target in the background of the loop. */
void envpool_fill(struct envpool *p);
unsigned envpool_ready(const struct envpool *p);
/* Frees every spare. */
void envpool_free(struct envpool *p);

#endif
