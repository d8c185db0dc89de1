/* main.c: `lambdad SUBCOMMAND ...` dispatch. */
#include <stdio.h>
#include <string.h>

#include "init/init.h"
#include "service/emulate.h"
#include "version.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: lambdad COMMAND [ARGS]\n\n"
                 "  emulate -- BOOTSTRAP   run one function locally (like AWS's Runtime Interface Emulator)\n"
                 "  init                   pid 1 of an execution environment (started by lambdad itself)\n"
                 "  version                print the version\n\n"
                 "`lambdad COMMAND --help` describes a command.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "init") == 0)
        return init_main(argc - 1, argv + 1);
    if (strcmp(argv[1], "emulate") == 0)
        return emulate_main(argc - 1, argv + 1);
    if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0) {
        printf("lambdad %s\n", LAMBDAD_VERSION);
        return 0;
    }
    if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "lambdad: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
