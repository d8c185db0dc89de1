/* sandbox/seccomp.c: compiles the deny table (seccomp_policy.c) to a BPF
 * program once, and installs it in a child without allocating.
 *
 * Building uses libseccomp, which allocates freely and may probe the kernel,
 * so it runs in the parent before any clone(). The result is a plain array of
 * struct sock_filter, copied into every child by clone() like any other
 * memory; the child only needs prctl(PR_SET_NO_NEW_PRIVS) and seccomp(2).
 * The array is also a stable kernel ABI, so it can be sent as bytes to a
 * process that does not link libseccomp.
 *
 * Only the native ABI is allowed through: the program kills the process on
 * any other audit arch (x86 int 0x80) and, on x86_64, on x32 syscall numbers,
 * so a deny rule cannot be bypassed by calling the same syscall under
 * another ABI's number. */
#include "sandbox/seccomp.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static void ctx_releasep(scmp_filter_ctx *ctx)
{
    if (*ctx)
        seccomp_release(*ctx);
}
#define CTX_AUTORELEASE __attribute__((cleanup(ctx_releasep)))

/* Adds one table row; libseccomp returns -errno. */
static int add_rule(scmp_filter_ctx ctx, int nr, const struct syscall_rule *r)
{
    uint32_t action = SCMP_ACT_ERRNO((uint32_t) r->errno_value);
    int rc;

    switch (r->when) {
    case SECCOMP_WHEN_ALWAYS:
        return seccomp_rule_add(ctx, action, nr, 0);
    case SECCOMP_WHEN_ARG_HAS_BIT:
        /* libseccomp can test (arg & mask) == value but not "!= 0", and a
         * rule may test an argument only once; the rules of one syscall are
         * ORed, so one rule per bit denies the call if any bit is set. */
        for (unsigned bit = 0; bit < 64; bit++) {
            uint64_t b = (uint64_t) 1 << bit;

            if (!(r->value & b))
                continue;
            rc = seccomp_rule_add(ctx, action, nr, 1, SCMP_CMP64(r->arg, SCMP_CMP_MASKED_EQ, b, b));
            if (rc < 0)
                return rc;
        }
        return 0;
    case SECCOMP_WHEN_ARG_EQ32:
        /* Mask to 32 bits: the kernel truncates an int argument, so junk in
         * the upper half must not make a plain 64-bit comparison miss. */
        return seccomp_rule_add(ctx, action, nr, 1,
                                SCMP_CMP64(r->arg, SCMP_CMP_MASKED_EQ, 0xffffffffU, r->value));
    default:
        return -EINVAL;
    }
}

/* Copies the compiled program out of libseccomp. libseccomp 2.5 can only
 * write it to an fd (seccomp_export_bpf_mem() arrives in 2.6); a memfd takes
 * any size without the pipe-capacity deadlock a pipe would risk. */
static int export_prog(scmp_filter_ctx ctx, struct sock_fprog *prog, struct ld_err *err)
{
    LD_AUTOCLOSE int fd = -1;
    struct sock_filter *insns;
    struct stat st;
    size_t size, done = 0;
    int rc;

    fd = memfd_create("lambdad-seccomp", MFD_CLOEXEC);
    if (fd < 0)
        return ld_err_set(err, errno, "memfd for the filter");
    rc = seccomp_export_bpf(ctx, fd);
    if (rc < 0)
        return ld_err_set(err, -rc, "export the filter");
    if (fstat(fd, &st) < 0)
        return ld_err_set(err, errno, "stat the exported filter");
    size = (size_t) st.st_size;
    if (size == 0 || size % sizeof *insns != 0)
        return ld_err_set(err, EPROTO, "exported filter is %zu bytes", size);
    /* The kernel refuses longer programs; say so here, not in every child. */
    if (size / sizeof *insns > BPF_MAXINSNS)
        return ld_err_set(err, E2BIG, "filter has %zu instructions (max %d)",
                          size / sizeof *insns, BPF_MAXINSNS);
    insns = malloc(size);
    if (!insns)
        return ld_err_set(err, ENOMEM, "filter of %zu bytes", size);
    while (done < size) {
        ssize_t n = pread(fd, (char *) insns + done, size - done, (off_t) done);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = n < 0 ? errno : EPROTO;
            free(insns);
            return ld_err_set(err, rc, "read back the filter");
        }
        done += (size_t) n;
    }
    prog->filter = insns;
    prog->len = (unsigned short) (size / sizeof *insns);
    return 0;
}

int seccomp_build(struct sandbox_seccomp *out, struct ld_err *err)
{
    CTX_AUTORELEASE scmp_filter_ctx ctx = NULL;
    struct sandbox_seccomp f = {0};
    const struct syscall_rule *rules;
    size_t n;
    int rc;

    rules = seccomp_policy_rules(&n);
    /* seccomp_init() adds the native arch only, which is what we want: any
     * other arch (and x32 numbers on x86_64) takes the bad-arch action. */
    ctx = seccomp_init(SCMP_ACT_ALLOW);
    if (!ctx)
        return ld_err_set(err, ENOMEM, "seccomp context");
    rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
    if (rc < 0)
        return ld_err_set(err, -rc, "seccomp: kill on a foreign arch");
    /* A binary search over syscall numbers instead of a linear chain: fewer
     * instructions run per arg-checked call (clone, socket) and when the
     * kernel pre-evaluates the filter for every syscall at install time. */
    rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
    if (rc < 0)
        return ld_err_set(err, -rc, "seccomp: binary-tree optimization");

    for (size_t i = 0; i < n; i++) {
        const struct syscall_rule *r = &rules[i];
        int nr;

        if (r->errno_value <= 0 || r->errno_value > 4095)
            return ld_err_set(err, EINVAL, "seccomp policy: errno %d for %s", r->errno_value,
                              r->name);
        /* __NR_SCMP_ERROR: unknown to this libseccomp; other negative values
         * are libseccomp's placeholders for syscalls this arch lacks (vm86
         * on x86_64). Adding those would only emit dead comparisons. */
        nr = seccomp_syscall_resolve_name(r->name);
        if (nr < 0) {
            f.rules_skipped++;
            continue;
        }
        rc = add_rule(ctx, nr, r);
        if (rc < 0)
            return ld_err_set(err, -rc, "seccomp rule for %s", r->name);
        f.rules_applied++;
    }

    rc = export_prog(ctx, &f.prog, err);
    if (rc < 0)
        return rc;
    *out = f;
    return 0;
}

void seccomp_fini(struct sandbox_seccomp *f)
{
    free(f->prog.filter);
    f->prog.filter = NULL;
    f->prog.len = 0;
}

int seccomp_apply_in_child(const struct sandbox_seccomp *f)
{
    /* no_new_privs first: without CAP_SYS_ADMIN the kernel accepts a filter
     * only once the process can no longer gain privileges by exec'ing a
     * setuid or file-capability program (which could then misbehave under a
     * filter it does not expect). Set it for root callers too: the function
     * must not regain privileges through such a program either. */
    if (prctl(PR_SET_NO_NEW_PRIVS, 1L, 0L, 0L, 0L) < 0)
        return -errno;
    /* No TSYNC flag: the child of clone() has one thread. A zero-length
     * (never built) program fails here with EINVAL rather than running
     * unfiltered. */
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0U, &f->prog) < 0)
        return -errno;
    return 0;
}
