/* service/envctl.h: the parent's end of one environment's control channel.
 *
 * Starts `lambdad init` with one end of a socketpair, sends it frames built
 * in envctl_frame() and hands every frame it sends back to on_frame. Used by
 * `lambdad emulate` and, for thousands of environments at once, the service:
 * nothing here blocks after the spawn. */
#ifndef LD_ENVCTL_H
#define LD_ENVCTL_H

#include <sys/types.h>

#include "common/ctl_proto.h"
#include "common/err.h"
#include "sandbox/spawn.h"

struct event_base;
struct envctl;

struct envctl_ops {
    /* A frame from init; its bytes are valid during the call only. */
    void (*on_frame)(void *arg, const struct ctl_frame *f);
    /* init has exited (channel closed and process reaped); `status` is its
     * wait status. The envctl may be freed from here. */
    void (*on_exit)(void *arg, int status);
};

/* How to isolate init and everything it starts (sandbox/spawn.h). */
struct envctl_sandbox {
    struct sandbox_mounts mounts;
    const char *hostname;
    const int *cgroup_procs_fds; /* borrowed */
    int ncgroup_procs;
    const struct sandbox_seccomp *seccomp; /* borrowed; NULL for none */
    const int *extra_fds; /* borrowed: passed to init as 4, 5, ... (after the channel's 3) */
    int nextra;
};

/* Spawns `exe init` (exe is normally /proc/self/exe): as pid 1 of a new
 * sandbox when sb is given, else as a plain child process. */
int envctl_spawn(struct event_base *base, const char *exe, const struct envctl_sandbox *sb,
                 const struct envctl_ops *ops, void *arg, struct envctl **out, struct ld_err *err);
/* The scratch buffer to build the next frame in (ctl_begin/ctl_end). */
struct ld_buf *envctl_frame(struct envctl *c);
/* Queues what was built in envctl_frame() for sending. */
void envctl_send(struct envctl *c);
pid_t envctl_pid(const struct envctl *c);
/* A pidfd on init (owned by the envctl). */
int envctl_pidfd(const struct envctl *c);
/* Hands init's frames and exit to a new owner (an environment prepared
 * ahead changes hands when a function takes it). */
void envctl_set_ops(struct envctl *c, const struct envctl_ops *ops, void *arg);
void envctl_kill(struct envctl *c, int sig);
/* Kills init if still running, reaps it and frees everything. */
void envctl_free(struct envctl *c);

#endif
