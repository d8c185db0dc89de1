/* init/init-internal.h: the state of one execution environment, shared by
 * the files of src/init/ and by nothing else.
 *
 * One struct env per `lambdad init` process. Everything runs on one libevent
 * loop: the control channel to the parent, the Runtime and Extensions APIs,
 * the output pipes of every process, the timers and SIGCHLD. */
#ifndef LD_INIT_INTERNAL_H
#define LD_INIT_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/buf.h"
#include "common/ctl_proto.h"
#include "common/ids.h"

struct event;
struct event_base;
struct stream;
struct http_server;
struct http_req;

#define MAX_EXTENSIONS 10
#define EXT_NAME_MAX 128
/* RIE's exact cut-off for a buffered response: 6 MiB + 100 bytes. */
#define MAX_RESPONSE_BYTES 6291556u
#define MAX_STREAM_BYTES ((size_t) 200 * 1000 * 1000)
/* AWS caps one log event at 256 KB; a longer line is cut into pieces. */
#define LOG_LINE_MAX ((size_t) 256 * 1024)
/* Past this much unsent control-channel output, process output is no longer
 * read: the writers block on their full pipes instead of our memory growing. */
#define CTL_OUT_HIGH ((size_t) 4 << 20)

/* A process init started: the runtime or an external extension. */
struct proc {
    struct env *env; /* borrowed: the environment it belongs to */
    pid_t pid;     /* 0 once reaped */
    int out_fd;    /* read end of its stdout+stderr pipe; -1 once at EOF */
    struct event *out_ev;
    struct ld_buf partial; /* an output line without its newline yet */
    enum ctl_log_source source;
    const char *name; /* borrowed: the extension's name, NULL for the runtime */
    int status;       /* wait status once reaped */
    int status_fd;    /* /proc/<pid>/status, kept open: read once per invoke */
    bool reaped;
};

enum ext_state {
    EXT_LAUNCHED,   /* started, not registered yet */
    EXT_REGISTERED, /* registered, busy with its own init */
    EXT_WAITING,    /* parked in event/next */
    EXT_WORKING,    /* got an event, has not called next again */
    EXT_FAILED,     /* called init/error or exit/error */
    EXT_GONE,       /* its process exited */
};

struct extension {
    char name[EXT_NAME_MAX];
    char id[LD_UUID_LEN + 1];
    bool external;
    bool registered;
    bool want_invoke;
    bool want_shutdown;
    bool shutdown_sent;
    enum ext_state state;
    struct http_req *parked; /* borrowed from the HTTP server until answered */
    struct proc proc;        /* external only */
    char error_type[128];    /* from init/error or exit/error */
};

enum rt_state {
    RT_NONE,      /* not started (or reaped) */
    RT_STARTED,   /* INIT: loading the function */
    RT_READY,     /* called next; parked or about to be */
    RT_INVOKED,   /* has the event, owes an answer */
    RT_RESPONDED, /* answered; its next call ends its part of the invoke */
    RT_INIT_ERROR,
};

enum phase {
    PH_UNINIT,   /* nothing runs: before START, or after a reset */
    PH_EXT_INIT, /* external extensions are starting and registering */
    PH_RT_INIT,  /* the runtime is starting */
    PH_READY,    /* initialised, idle */
    PH_INVOKE,   /* an invoke is in flight */
    PH_STOPPING, /* SHUTDOWN: reset or exit */
};

struct config {
    char *function_name, *function_version, *handler, *region, *account_id;
    char *log_group, *log_stream, *init_type, *runtime_id, *extensions_dir, *task_root;
    char *rapi_addr;
    uint64_t memory_mb, timeout_ms, init_timeout_ms;
    char **argv; /* bootstrap argv, NULL-terminated */
    char **env;  /* the function's own variables, NULL-terminated */
    size_t argc, envc;
    /* Sandboxed: who the function runs as, and the cgroup's memory figures
     * (inherited fds, -1 without). */
    bool drop;
    uint32_t uid, gid;
    int peak_fd, oom_fd;
};

struct invoke {
    bool active;
    char request_id[80];
    uint64_t deadline_ms; /* wall clock, epoch ms */
    uint64_t start_mono_us;
    uint64_t deadline_mono_us;
    char *arn, *trace_id, *client_context, *cognito, *content_type;
    struct ld_buf payload;
    bool delivered; /* the runtime got the event */
    bool answered;  /* a result went to the parent */
    bool streaming; /* the runtime is streaming the answer */
    size_t streamed;
    bool failed;    /* ends in a reset */
    uint64_t end_mono_us; /* when it failed: the reset that follows is not billed */
    uint64_t max_kb;      /* peak memory, read before a reset kills everything */
    char error_type[128];
    const char *status_text; /* "timeout", "error" or NULL for REPORT's Status */
};

struct env {
    struct event_base *base;
    struct config cfg;
    bool started; /* START received */

    /* control channel */
    struct stream *ctl;      /* owned */
    struct ld_buf frame;     /* scratch for building frames */
    bool ctl_blocked;        /* output past CTL_OUT_HIGH: process output paused */

    struct http_server *api; /* Runtime + Extensions APIs */
    struct event *sigchld;
    struct event *init_timer;   /* the INIT deadline (eager INIT only) */
    struct event *invoke_timer; /* the invoke's deadline */
    struct event *stop_timer;   /* SHUTDOWN: the phase's end */
    struct event *kill_timer;   /* SHUTDOWN: the runtime's SIGKILL deadline */

    enum phase phase;
    bool stop_exits;      /* the current stop ends the process (spindown) */
    const char *stop_reason; /* "spindown", "timeout", "failure" */
    uint64_t stop_deadline_wall_ms;
    bool runtime_stopped; /* SHUTDOWN: the runtime's share is over */

    /* runtime */
    enum rt_state rt;
    struct proc runtime;
    struct http_req *rt_parked; /* its pending next */
    char *init_error_body;      /* from init/error, owned */
    size_t init_error_len;
    char *init_error_ctype;
    char init_error_type[128];

    /* extensions */
    struct extension ext[MAX_EXTENSIONS];
    size_t next_ext;
    size_t launched; /* external executables started in this INIT */
    bool registration_closed;

    /* INIT bookkeeping */
    uint64_t oom_seen; /* OOM kills already accounted for */
    uint64_t init_start_mono_us;
    uint64_t runtime_spawned_mono_us;
    uint64_t init_duration_us; /* reported on the first invoke after INIT */
    bool report_init_duration;
    bool init_in_invoke; /* a suppressed INIT run inside an invoke */
    bool init_failed;
    char init_fail_type[128];
    char init_fail_msg[256];

    struct invoke inv;
    /* The parent may send the next invoke as soon as the current one is
     * answered; it waits here until the current invoke phase is over, so the
     * runtime's next `next` picks it up without a round trip to the parent. */
    struct invoke queued;
    bool shutting_down; /* CTL_SHUTDOWN received */
};

/* init.c: the control channel */
void env_send_log(struct env *e, enum ctl_log_source src, const char *name, const char *text,
                  size_t len);
void env_logf(struct env *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Queues e->frame's content; it goes out with the batch at the end of this
 * loop turn. env_send_frame_now writes at once: answers a caller waits for. */
void env_send_frame(struct env *e);
void env_send_frame_now(struct env *e);
/* SHUTDOWN is complete: EXITING goes out, then the process exits. */
void env_send_shutdown_done(struct env *e);

/* procs.c */
/* Starts argv in its own process group with its output captured; with
 * cfg.drop, as the sandbox user under the seccomp filter. */
int proc_spawn(struct env *e, struct proc *p, char *const argv[], char *const envp[],
               const char *cwd, enum ctl_log_source src, const char *name);
void proc_drain_output(struct env *e, struct proc *p);
void proc_close_output(struct proc *p);
void proc_signal(struct proc *p, int sig);
void procs_kill_strays(void);
/* SIGKILL to the runtime, every extension, their groups and our orphans. */
void procs_kill_all(struct env *e);
void procs_pause_output(struct env *e, bool pause);
/* "exit status 3", "signal: killed" as Go's ProcessState prints them. */
void proc_describe_status(int status, char *buf, size_t cap);
/* Peak memory of the runtime and extensions. Not `fresh`: a reading up to
 * 10 ms old may be reused (reading /proc costs the warm path more than the
 * rest of the REPORT). */
uint64_t procs_max_rss_kb(struct env *e, bool fresh);
/* Out-of-memory kills the cgroup has counted so far (0 without a cgroup). */
uint64_t procs_oom_kills(const struct env *e);
void procs_on_sigchld(struct env *e);

/* envvars.c */
char **envvars_runtime(const struct config *c);
char **envvars_extension(const struct config *c);
void envvars_free(char **v);

/* phases.c */
int phase_setup(struct env *e);
void invoke_clear(struct invoke *v);
void phase_start(struct env *e);
void phase_invoke(struct env *e);
void phase_shutdown(struct env *e);
void phase_runtime_next(struct env *e);
void phase_runtime_answered(struct env *e);
void phase_runtime_init_error(struct env *e);
void phase_ext_registered(struct env *e, struct extension *x);
void phase_ext_next(struct env *e, struct extension *x);
void phase_ext_error(struct env *e, struct extension *x, bool during_init);
void phase_proc_exited(struct env *e, struct proc *p);
bool phase_accepts_internal_registration(const struct env *e);
/* Sends a buffered result (ok or function error) for the current invoke. */
void phase_send_result(struct env *e, enum ctl_status st, const char *ctype, const void *body,
                       size_t len, const char *error_type);

/* rapi.c and extensions.c */
void rapi_on_head(struct env *e, struct http_req *req);
void rapi_on_request(struct env *e, struct http_req *req);
void rapi_on_gone(struct env *e, struct http_req *req);
void rapi_deliver_invoke(struct env *e);
void ext_api_on_request(struct env *e, struct http_req *req);
void ext_api_on_gone(struct env *e, struct http_req *req);
/* Answers a parked event/next with an event JSON. */
void ext_send_event(struct extension *x, const char *json);
struct extension *ext_by_proc(struct env *e, const struct proc *p);

#endif
