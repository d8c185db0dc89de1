/* service/emulate.h: `lambdad emulate`, one function without the service. */
#ifndef LD_EMULATE_H
#define LD_EMULATE_H

/* argv[0] is "emulate"; returns the process exit status. */
int emulate_main(int argc, char **argv);

#endif
