/* common/ctl_proto.h: the control channel between a parent (`lambdad emulate`,
 * later `lambdad serve`) and `lambdad init`, the pid 1 of one environment.
 *
 * The parent hands init one end of a SOCK_STREAM unix socketpair. Both sides
 * read it non-blocking on an event loop and cut the byte stream into frames:
 *
 *   frame  = u32 body_len | u16 type | u16 flags (0) | body[body_len]
 *   body   = field*
 *   field  = u16 tag | u32 len | bytes[len]
 *
 * All integers little-endian. Numbers inside fields are u64 (8 bytes LE);
 * strings are raw bytes without NUL. Unknown tags are skipped by readers, so
 * either side can add fields without breaking the other. A frame is at most
 * CTL_MAX_FRAME bytes; a peer that announces more is broken and is dropped.
 * Payloads travel as opaque bytes in one field: nothing on the invoke path is
 * JSON-encoded or parsed. Full description: docs/control-channel.md. */
#ifndef LD_CTL_PROTO_H
#define LD_CTL_PROTO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/buf.h"

#define CTL_HDR_LEN 8
#define CTL_FIELD_HDR_LEN 6
#define CTL_MAX_FRAME (16u << 20) /* header + body; a 6 MiB payload fits with room */

enum ctl_type {
    /* parent -> init */
    CTL_START = 1,    /* configuration; init begins INIT at once */
    CTL_INVOKE = 2,   /* deliver one invoke */
    CTL_SHUTDOWN = 3, /* SHUTDOWN (reason spindown), then init exits */

    /* init -> parent */
    CTL_INIT_DONE = 16,    /* INIT ended: STATUS, DURATION_US, ERROR_TYPE/PAYLOAD on failure */
    CTL_RESULT = 17,       /* buffered answer to an invoke */
    CTL_STREAM_BEGIN = 18, /* a streamed answer starts: REQUEST_ID, CONTENT_TYPE */
    CTL_STREAM_DATA = 19,  /* REQUEST_ID, PAYLOAD (a piece of the stream) */
    CTL_STREAM_END = 20,   /* REQUEST_ID, STATUS; ERROR_TYPE, PAYLOAD (error body) when failed mid-stream */
    CTL_INVOKE_DONE = 21,  /* the invoke phase is over: figures for REPORT */
    CTL_LOG = 22,          /* one log record */
    CTL_EXITING = 23,      /* init finished SHUTDOWN and is about to exit */
};

enum ctl_tag {
    /* CTL_START */
    CTL_T_FUNCTION_NAME = 1,
    CTL_T_FUNCTION_VERSION = 2,
    CTL_T_HANDLER = 3,
    CTL_T_MEMORY_MB = 4,       /* u64 */
    CTL_T_TIMEOUT_MS = 5,      /* u64: the function timeout */
    CTL_T_INIT_TIMEOUT_MS = 6, /* u64 */
    CTL_T_ARG = 7,             /* repeated: bootstrap argv, argv[0] first */
    CTL_T_ENV = 8,             /* repeated: "NAME=value", the function's environment */
    CTL_T_EXTENSIONS_DIR = 9,
    CTL_T_TASK_ROOT = 10,
    CTL_T_REGION = 11,
    CTL_T_LOG_GROUP = 12,
    CTL_T_LOG_STREAM = 13,
    CTL_T_INIT_TYPE = 14,   /* "on-demand", "provisioned-concurrency" */
    CTL_T_RAPI_ADDR = 15,   /* host:port the Runtime API listens on */
    CTL_T_ACCOUNT_ID = 16,
    CTL_T_RUNTIME_ID = 17,  /* "provided.al2023", "python3.12", ... */
    CTL_T_CPUS = 18,        /* cpulist the environment runs on, e.g. "1" (common/cpus.h) */
    CTL_T_RUN_AS_UID = 19,  /* u64: runtime and extensions run as this user, capabilities
                               dropped, no_new_privs, RLIMIT_NOFILE 1024 (sandboxed only) */
    CTL_T_RUN_AS_GID = 20,  /* u64 */
    CTL_T_PEAK_FD = 21,     /* u64: an inherited fd on the cgroup's memory peak (bytes) */
    CTL_T_OOM_FD = 22,      /* u64: an inherited fd on its "oom_kill N" counter file */

    /* CTL_INVOKE */
    CTL_T_REQUEST_ID = 32,
    CTL_T_DEADLINE_MS = 33, /* u64, Unix epoch ms */
    CTL_T_INVOKED_ARN = 34,
    CTL_T_TRACE_ID = 35,
    CTL_T_CLIENT_CONTEXT = 36, /* JSON text, already base64-decoded */
    CTL_T_COGNITO_IDENTITY = 37,
    CTL_T_CONTENT_TYPE = 38,
    CTL_T_PAYLOAD = 39,

    /* results and reports */
    CTL_T_STATUS = 48,           /* u64, enum ctl_status */
    CTL_T_ERROR_TYPE = 49,       /* "Runtime.ExitError", ... */
    CTL_T_DURATION_US = 50,      /* u64 */
    CTL_T_INIT_DURATION_US = 51, /* u64, only on the first invoke after INIT */
    CTL_T_MAX_MEMORY_KB = 52,    /* u64 */
    CTL_T_RESET = 53,            /* u64 1: the environment was reset (next invoke re-INITs) */
    /* CTL_INIT_DONE, for cold-start breakdowns: init's CLOCK_MONOTONIC in µs
     * (the parent's clock too: environments get no time namespace) when INIT
     * began and when the runtime's process had been started. */
    CTL_T_INIT_BEGIN_MONO_US = 54,
    CTL_T_RUNTIME_SPAWNED_MONO_US = 55,

    /* CTL_LOG */
    CTL_T_LOG_SOURCE = 64, /* u64, enum ctl_log_source */
    CTL_T_LOG_NAME = 65,   /* extension name for CTL_LOG_EXTENSION */
    CTL_T_TIME_US = 66,    /* u64, Unix epoch µs */
    CTL_T_TEXT = 67,       /* the line, without its newline */
};

enum ctl_status {
    CTL_OK = 0,
    CTL_FUNCTION_ERROR = 1, /* the caller gets X-Amz-Function-Error: Unhandled */
    CTL_INIT_TIMEOUT = 2,   /* CTL_INIT_DONE only */
};

enum ctl_log_source {
    CTL_LOG_PLATFORM = 0,  /* START, END, REPORT, INIT_START, ... */
    CTL_LOG_FUNCTION = 1,  /* the runtime's stdout/stderr */
    CTL_LOG_EXTENSION = 2, /* an extension's stdout/stderr */
};

/* --- writing --- */

struct ctl_builder {
    struct ld_buf *out; /* borrowed */
    size_t start;       /* offset of this frame's header in out */
    int err;            /* first failure; later calls do nothing */
};

/* Starts a frame at the end of `out`; fields follow; end patches the length.
 * ctl_end returns 0, -ENOMEM, or -EMSGSIZE (frame over CTL_MAX_FRAME; the
 * partial frame is removed from `out` again on any failure). */
void ctl_begin(struct ctl_builder *b, struct ld_buf *out, enum ctl_type type);
void ctl_put(struct ctl_builder *b, enum ctl_tag tag, const void *p, size_t n);
void ctl_put_str(struct ctl_builder *b, enum ctl_tag tag, const char *s); /* skipped when s is NULL */
void ctl_put_u64(struct ctl_builder *b, enum ctl_tag tag, uint64_t v);
int ctl_end(struct ctl_builder *b);

/* --- reading --- */

struct ctl_frame {
    uint16_t type;
    const uint8_t *body; /* points into the caller's buffer */
    size_t body_len;
};

struct ctl_field {
    uint16_t tag;
    const uint8_t *p;
    size_t len;
};

/* Cuts one frame from buf[0..len). Returns the frame's total length (header
 * included), 0 when more bytes are needed, -EMSGSIZE when the announced length
 * exceeds CTL_MAX_FRAME, -EPROTO when flags are non-zero or the fields do not
 * tile the body exactly. A frame it returns is safe to iterate. */
ssize_t ctl_frame_parse(const void *buf, size_t len, struct ctl_frame *f);

/* Iterates fields; *pos starts at 0. Returns 1 with *out filled, 0 at the end. */
int ctl_field_next(const struct ctl_frame *f, size_t *pos, struct ctl_field *out);
/* First field with `tag`: 0 and *out filled, or -ENOENT. */
int ctl_get(const struct ctl_frame *f, enum ctl_tag tag, struct ctl_field *out);
/* u64 field: 0, -ENOENT, or -EPROTO when its length is not 8. */
int ctl_get_u64(const struct ctl_frame *f, enum ctl_tag tag, uint64_t *v);
/* Copies a field into a fresh NUL-terminated string (NULL on ENOMEM). */
char *ctl_field_strdup(const struct ctl_field *fld);
/* First field with `tag` as a fresh string, or NULL when absent. */
char *ctl_get_strdup(const struct ctl_frame *f, enum ctl_tag tag);

#endif
