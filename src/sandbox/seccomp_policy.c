/* sandbox/seccomp_policy.c: which syscalls a function may not make, and why.
 *
 * Modelled on what the Docker/containerd default profile denies to a
 * container without capabilities, written as a deny list: the filter's
 * default action is ALLOW and each row below returns an errno instead. A
 * deny list keeps every ordinary syscall (including ones newer than this
 * table) working; what it cannot name is covered by the other layers: the
 * sandbox user holds no capability, no_new_privs is set, and no user
 * namespace can be created to regain capabilities (unshare, clone below).
 *
 * EPERM is what the kernel itself would say to an unprivileged caller, so
 * programs already handle it. ENOSYS is used where a library should take its
 * fallback path as if on an older kernel (clone3, io_uring).
 *
 * Deliberate differences from Docker's profile:
 * - unshare is denied outright (Docker allows it and relies on capabilities;
 *   with unprivileged user namespaces that still hands out a full capability
 *   set over fresh namespaces, and nothing in a function needs one).
 * - ptrace, adjtimex and clock_adjtime are denied outright (see their rows).
 * - name_to_handle_at is denied (Docker allows it; harmless alone, useless
 *   without open_by_handle_at).
 * - personality stays allowed (Docker allows only a few personas). Changing
 *   the persona affects only this process and its children; the flags that
 *   matter for hardening (ADDR_NO_RANDOMIZE, READ_IMPLIES_EXEC) weaken only
 *   the caller itself, and no_new_privs keeps setuid programs from inheriting
 *   them.
 * - get_mempolicy stays allowed: it only reads the caller's own NUMA policy.
 *
 * Names libseccomp does not know on this architecture (vm86 on x86_64, or
 * lsm_* with libseccomp < 2.6) are skipped by seccomp_build(); the unit test
 * keeps a list of the expected ones so a misspelt name cannot hide there. */
#include "sandbox/seccomp.h"

#include <errno.h>
#include <sched.h>
#include <sys/socket.h>

/* clone()'s flags come first except on s390, which passes the stack first. */
#if defined(__s390__) || defined(__s390x__)
#define CLONE_FLAGS_ARG 1
#else
#define CLONE_FLAGS_ARG 0
#endif

/* Every namespace clone() can create. CLONE_NEWTIME is absent on purpose:
 * clone() cannot take it (0x80 is in the exit-signal byte there). */
#define CLONE_NS_FLAGS                                                                      \
    (CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | \
     CLONE_NEWCGROUP)

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif

static const struct syscall_rule deny[] = {
    /* ---- the filesystem view: the rootfs is final after pivot_root ------- */
    {"mount", EPERM, "the rootfs is final after pivot_root; a new mount could cover or expose paths"},
    {"umount", EPERM, "would peel off the read-only binds and the sized /tmp the sandbox set up"},
    {"umount2", EPERM, "would peel off the read-only binds and the sized /tmp the sandbox set up"},
    {"pivot_root", EPERM, "the root is chosen by the sandbox, once, before the function runs"},
    {"chroot", EPERM,
     "harmless without CAP_SYS_CHROOT, but a classic escape step if a capability ever leaks, and "
     "nothing in a function needs it"},
    {"mount_setattr", EPERM, "new mount API: could drop the read-only flag from our bind mounts"},
    {"move_mount", EPERM, "new mount API: attaches a mount, the same power as mount()"},
    {"open_tree", EPERM, "new mount API: with OPEN_TREE_CLONE copies a mount tree to attach elsewhere"},
    {"open_tree_attr", EPERM, "new mount API (6.15): open_tree plus mount_setattr in one call"},
    {"fsopen", EPERM, "new mount API: creates a filesystem context, the first step of a mount"},
    {"fsconfig", EPERM, "new mount API: configures a filesystem context for mounting"},
    {"fsmount", EPERM, "new mount API: turns a configured context into a mount"},
    {"fspick", EPERM, "new mount API: reconfigures an existing mount (e.g. remount read-write)"},
    {"open_by_handle_at", EPERM,
     "opens files by handle, past the mount tree and path permissions; the 2014 'shocker' "
     "container escape read host files this way"},
    {"name_to_handle_at", EPERM,
     "only useful to feed open_by_handle_at, and it hands out handles of host-backed files"},
    {"quotactl", EPERM, "disk quotas are host-wide filesystem state"},
    {"quotactl_fd", EPERM, "disk quotas are host-wide filesystem state"},
    {"swapon", EPERM, "swap is host-wide, and MemorySize is enforced with no swap"},
    {"swapoff", EPERM, "swap is host-wide"},
    {"acct", EPERM, "process accounting is host-wide and writes to a file the caller names"},

    /* ---- namespaces: the sandbox already made the ones it needs --------- */
    {"unshare", EPERM,
     "a new user namespace grants a full capability set over fresh namespaces, which opens kernel "
     "code (netfilter, mounts, ...) behind many container escapes; the environment's namespaces "
     "are already made"},
    {"setns", EPERM, "joining another namespace would leave the environment"},
    {"clone", EPERM,
     "creating namespaces, as unshare; the flags are in a register, so only these bits are denied "
     "and fork() and threads still work",
     SECCOMP_WHEN_ARG_HAS_BIT, CLONE_FLAGS_ARG, CLONE_NS_FLAGS},
    {"clone3", ENOSYS,
     "its flags sit in a struct in memory, which seccomp cannot read, so namespace flags cannot be "
     "told apart; ENOSYS (not EPERM) makes glibc and other runtimes fall back to clone(), whose "
     "flags are checked above (Docker does the same)"},

    /* ---- other processes: nothing in a function inspects another ------- */
    {"ptrace", EPERM,
     "denied outright, not per target: the runtime and extensions share one uid, so ptrace would "
     "let an extension read or rewrite the runtime's memory (payloads, credentials); before Linux "
     "4.8 a tracer could also rewrite a syscall after the filter allowed it"},
    {"process_vm_readv", EPERM, "reads another process's memory; the same reason as ptrace"},
    {"process_vm_writev", EPERM, "writes another process's memory; the same reason as ptrace"},
    {"kcmp", EPERM, "compares kernel objects behind other processes' fds; a ptrace-class probe"},
    {"pidfd_getfd", EPERM, "copies an fd out of another process; a ptrace-class operation"},
    {"process_madvise", EPERM, "acts on another process's memory; a ptrace-class operation"},

    /* ---- the kernel itself ---------------------------------------------- */
    {"kexec_load", EPERM, "would replace the host kernel"},
    {"kexec_file_load", EPERM, "would replace the host kernel"},
    {"init_module", EPERM, "loads code into the host kernel"},
    {"finit_module", EPERM, "loads code into the host kernel"},
    {"delete_module", EPERM, "unloads host kernel modules other tenants rely on"},
    {"create_module", EPERM, "obsolete module interface (before 2.6); nothing may touch modules"},
    {"get_kernel_syms", EPERM, "obsolete; lists kernel symbols, which help aim an exploit"},
    {"query_module", EPERM, "obsolete module interface; reveals kernel module layout"},
    {"bpf", EPERM,
     "loads programs into the kernel; the verifier is a frequent source of kernel exploits and no "
     "function needs eBPF"},
    {"perf_event_open", EPERM,
     "profiling can observe the host and other tenants, and perf is a frequent exploit vector"},
    {"lookup_dcookie", EPERM, "profiling interface that turns kernel cookies into host paths"},
    {"userfaultfd", EPERM,
     "lets a process pause kernel page faults at will, the usual tool for winning kernel race "
     "conditions in exploits"},
    {"io_uring_setup", ENOSYS,
     "io_uring runs I/O the filter never sees and has been a steady source of kernel escapes "
     "(Docker and containerd block it); ENOSYS sends libuv, tokio and others to their epoll path"},
    {"io_uring_enter", ENOSYS, "see io_uring_setup"},
    {"io_uring_register", ENOSYS, "see io_uring_setup"},
    {"fanotify_init", EPERM, "watches file access across a whole mount or filesystem"},
    {"keyctl", EPERM, "kernel keyrings are not namespaced: their state is shared with the host"},
    {"add_key", EPERM, "kernel keyrings are not namespaced: their state is shared with the host"},
    {"request_key", EPERM,
     "kernel keyrings are not namespaced, and a request can start a host-side upcall helper"},
    {"syslog", EPERM, "the kernel log holds host messages and kernel addresses"},
    {"lsm_get_self_attr", EPERM, "LSM attribute interface (6.8); not needed by functions"},
    {"lsm_set_self_attr", EPERM, "changes the caller's LSM (AppArmor/SELinux) attributes"},
    {"lsm_list_modules", EPERM, "lists the host's LSMs; not needed by functions"},
    {"uselib", EPERM, "obsolete a.out library loader; old kernel code nobody exercises"},
    {"nfsservctl", EPERM, "the removed in-kernel NFS server interface"},
    {"_sysctl", EPERM, "obsolete binary sysctl (removed in 5.5); /proc/sys is the interface"},
    {"ustat", EPERM, "obsolete; reports on host filesystems by device number"},
    {"sysfs", EPERM, "obsolete; lists the host's filesystem types"},

    /* ---- the machine: host-wide state ----------------------------------- */
    {"reboot", EPERM, "would restart or halt the host (or, in a pid namespace, kill our init)"},
    {"iopl", EPERM, "raw I/O-port access to host hardware"},
    {"ioperm", EPERM, "raw I/O-port access to host hardware"},
    {"vm86", EPERM, "x86-32 only: virtual-8086 mode, old and rarely exercised kernel code"},
    {"vm86old", EPERM, "x86-32 only: virtual-8086 mode, old and rarely exercised kernel code"},
    {"vhangup", EPERM, "hangs up the controlling terminal, which may be the host's"},
    {"settimeofday", EPERM, "the wall clock is host-wide"},
    {"stime", EPERM, "the wall clock is host-wide (32-bit ABIs)"},
    {"clock_settime", EPERM, "the wall clock is host-wide"},
    {"adjtimex", EPERM,
     "tunes the host clock; the read-only form (modes == 0) is harmless but modes sits in memory "
     "where seccomp cannot look, so ntp_gettime() fails in a function too"},
    {"clock_adjtime", EPERM, "tunes the host clock; denied outright for the reason adjtimex is"},
    {"sethostname", EPERM, "the environment's hostname is set by the sandbox"},
    {"setdomainname", EPERM, "the environment's domain name is set by the sandbox"},
    {"mbind", EPERM, "NUMA placement of host memory; not needed on Lambda-sized environments"},
    {"set_mempolicy", EPERM, "NUMA placement of host memory; not needed on Lambda-sized environments"},
    {"set_mempolicy_home_node", EPERM, "NUMA placement of host memory; not needed by functions"},
    {"migrate_pages", EPERM, "moves another process's memory between NUMA nodes"},
    {"move_pages", EPERM, "moves another process's memory between NUMA nodes"},
    {"socket", EPERM,
     "AF_VSOCK is not namespaced: on a VM host it reaches the hypervisor side; only the low 32 "
     "bits are compared because the kernel reads the domain as an int",
     SECCOMP_WHEN_ARG_EQ32, 0, AF_VSOCK},
};

const struct syscall_rule *seccomp_policy_rules(size_t *n)
{
    *n = sizeof deny / sizeof deny[0];
    return deny;
}
