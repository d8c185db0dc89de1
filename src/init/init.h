/* init/init.h: `lambdad init`, the program that is pid 1 of an environment. */
#ifndef LD_INIT_H
#define LD_INIT_H

/* Runs until SHUTDOWN completes or the parent goes away. The control channel
 * is the fd named by LAMBDAD_CTL_FD (default 3). Returns the exit status. */
int init_main(int argc, char **argv);

#endif
