/* sandbox/rootfs.h: an environment's root filesystem (see rootfs.c). */
#ifndef LD_SANDBOX_ROOTFS_H
#define LD_SANDBOX_ROOTFS_H

#include <stdbool.h>

#include "common/err.h"
#include "sandbox/spawn.h"

/* In the child, inside its own mount namespace: builds the tree, pivots into
 * it and detaches the host's. Allocates nothing. 0 or -errno with err set. */
int rootfs_build(const struct sandbox_mounts *m, struct ld_err *err);

#endif
