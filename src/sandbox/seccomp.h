/* sandbox/seccomp.h: the syscall filter every process in an environment
 * runs under.
 *
 * The policy (seccomp_policy.c) is a table of denied syscalls, each with the
 * errno it returns and the reason it is denied; everything else is allowed.
 * The parent compiles the table to a classic-BPF program once
 * (seccomp_build); a child then installs it between clone() and execve()
 * with two syscalls and no allocation (seccomp_apply_in_child).
 *
 * Names: libseccomp owns seccomp_init() and seccomp_release(), so the pair
 * here is seccomp_build()/seccomp_fini() rather than _init/_fini. */
#ifndef LD_SANDBOX_SECCOMP_H
#define LD_SANDBOX_SECCOMP_H

#include <linux/filter.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/* When a rule applies. Most rules deny a syscall outright; a few look at one
 * argument register (seccomp cannot read memory, so only scalar arguments). */
enum seccomp_when {
    SECCOMP_WHEN_ALWAYS = 0,  /* every call */
    SECCOMP_WHEN_ARG_HAS_BIT, /* argument `arg` has any bit of `value` set */
    SECCOMP_WHEN_ARG_EQ32,    /* the low 32 bits of argument `arg` equal `value` */
};

struct syscall_rule {
    const char *name;       /* as libseccomp spells it; unknown here: skipped */
    int errno_value;        /* returned instead of running the call */
    const char *why;        /* the reason, for readers and reviewers */
    enum seccomp_when when; /* zero (ALWAYS) unless set */
    unsigned arg;           /* argument index, for the ARG_* forms */
    uint64_t value;         /* bits or value, for the ARG_* forms */
};

/* The deny table: a static array, *n set to its length. */
const struct syscall_rule *seccomp_policy_rules(size_t *n);

struct sandbox_seccomp {
    struct sock_fprog prog; /* prog.filter owned; freed by seccomp_fini() */
    unsigned rules_applied; /* table entries compiled into the program */
    unsigned rules_skipped; /* names not on this arch or unknown to libseccomp */
};

/* Compiles the policy for the native architecture. Syscalls made through any
 * other ABI (x86 int 0x80, x32) kill the process. Returns 0, or -errno with
 * err set; *out is untouched on failure. */
int seccomp_build(struct sandbox_seccomp *out, struct ld_err *err);

/* Frees the program; safe on a zeroed or already finished struct. */
void seccomp_fini(struct sandbox_seccomp *f);

/* In a freshly cloned, single-threaded child: sets no_new_privs and installs
 * the filter, which then holds across execve() for this process and every
 * descendant. Returns 0 or -errno. Async-signal-safe: two syscalls, no
 * allocation, no locks. Needs Linux >= 4.14 (SECCOMP_RET_KILL_PROCESS). */
int seccomp_apply_in_child(const struct sandbox_seccomp *f);

#endif
