/* common/cpus.h: the CPUs an environment may run on.
 *
 * Lambda gives a function CPU in proportion to its memory: one full vCPU at
 * 1,769 MB, up to 6 at 10,240 MB, a share of one below that. lambdad confines
 * each environment (init, runtime, extensions) to that many CPUs. Besides
 * matching what a function sees on AWS, it keeps the runtime and init, which
 * hand each invoke back and forth four times, on one CPU: a wakeup across
 * CPUs costs an inter-processor interrupt, the largest single cost of a warm
 * invoke on a virtual machine. Lists use the kernel's cpulist syntax:
 * "0-2,5". */
#ifndef LD_CPUS_H
#define LD_CPUS_H

#include <sched.h>
#include <stddef.h>
#include <stdint.h>

#define LD_MB_PER_VCPU 1769u

/* Parses "0-2,5" into *set. 0, or -EINVAL (empty, malformed, out of range). */
int ld_cpus_parse(const char *list, cpu_set_t *set);
/* Writes *set as a cpulist into buf; -ENOSPC when it does not fit, -EINVAL
 * when empty. */
int ld_cpus_format(const cpu_set_t *set, char *buf, size_t cap);
/* The CPUs for an environment of `memory_mb`: as many as Lambda would give
 * (at least one), taken from the end of `allowed`, which leaves CPU 0 (where
 * interrupts and most other work land) for last. -EINVAL if allowed is empty. */
int ld_cpus_for_memory(const cpu_set_t *allowed, uint64_t memory_mb, cpu_set_t *out);

#endif
