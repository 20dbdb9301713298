/* ipfs-accelerate [global options] COMMAND [ARGS]: finds the command in the
 * generated table and hands it argv. No logic of its own. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "ia/core.h"

#define IA_CLI_COMMAND(name) extern const struct ia_cli_command ia_cli_cmd_##name;
#include "cli_commands.inc"
#undef IA_CLI_COMMAND

static const struct ia_cli_command *const commands[] = {
#define IA_CLI_COMMAND(name) &ia_cli_cmd_##name,
#include "cli_commands.inc"
#undef IA_CLI_COMMAND
    NULL, /* keeps the array valid while the table is empty */
};
static const size_t n_commands = sizeof commands / sizeof commands[0] - 1;

static void print_help(FILE *f) {
    fprintf(f,
            "Usage: ipfs-accelerate [--help] [--version] [-v] [-q] COMMAND [ARGS]\n"
            "\n"
            "Content-addressed models, a native inference engine and measured benchmarks.\n"
            "\n"
            "Commands:\n");
    for (size_t i = 0; i < n_commands; i++)
        fprintf(f, "  %-14s %s\n", commands[i]->name, commands[i]->summary);
    fprintf(f,
            "\n"
            "Global options:\n"
            "  -h, --help     show this help\n"
            "  --version      print the version\n"
            "  -v, --verbose  more log output (repeat for debug); IA_LOG=debug does the same\n"
            "  -q, --quiet    no progress bars or info messages\n"
            "\n"
            "Run 'ipfs-accelerate COMMAND --help' for a command's options.\n"
            "Data lives in $IA_HOME (default ~/.ipfs-accelerate).\n");
}

int main(int argc, char **argv) {
    ia_log_init_from_env();
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            print_help(stdout);
            return CLI_OK;
        } else if (!strcmp(a, "--version")) {
            printf("ipfs-accelerate %s\n", IA_VERSION_STRING);
            return CLI_OK;
        } else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
            cli_globals.verbose++;
        } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            cli_globals.quiet = 1;
        } else {
            return cli_usage(NULL, "unknown option '%s'", a);
        }
    }
    if (cli_globals.verbose) ia_log_set_level(cli_globals.verbose > 1 ? IA_LOG_DEBUG : IA_LOG_INFO);
    if (cli_globals.quiet) ia_log_set_level(IA_LOG_ERROR);
    if (i >= argc) {
        print_help(stderr);
        return CLI_USAGE;
    }
    for (size_t c = 0; c < n_commands; c++)
        if (!strcmp(argv[i], commands[c]->name)) {
            cli_getopt_reset();
            return commands[c]->run(argc - i, argv + i);
        }
    return cli_usage(NULL, "unknown command '%s'", argv[i]);
}
