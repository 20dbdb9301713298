/* The CLI shell: one file per command (cmd_<name>.c), each defining a
 * `const struct ia_cli_command ia_cli_cmd_<name>`. CMake lists the files
 * into cli_commands.inc, so adding a command needs no edit here. */
#ifndef IA_CLI_H
#define IA_CLI_H

#include <getopt.h>
#include <stdio.h>

/* Exit statuses shared by every command (DESIGN.md). */
enum { CLI_OK = 0, CLI_FAILED = 1, CLI_USAGE = 2 };

struct ia_cli_command {
    const char *name;    /* as typed: "verify-blocks" */
    const char *summary; /* one line for `ipfs-accelerate --help` */
    const char *usage;   /* full text for `COMMAND --help` */
    /* argv[0] is the command name; returns an exit status. */
    int (*run)(int argc, char **argv);
};

/* Options given before the command. */
struct cli_globals {
    int quiet;   /* -q: no progress, no info messages */
    int verbose; /* -v count */
};
extern struct cli_globals cli_globals;

/* "ipfs-accelerate: <cmd>: <msg>" on stderr; returns CLI_FAILED. */
int cli_fail(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same plus a hint to run --help; returns CLI_USAGE. */
int cli_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints the library's last error message for `cmd`; returns CLI_FAILED. */
int cli_fail_lib(const char *cmd);
/* Prints cmd->usage to stdout; returns CLI_OK. */
int cli_help(const struct ia_cli_command *cmd);

/* Handles the getopt_long result cases every command shares: '?' (unknown
 * option) → usage error, 'h' → help. Returns -1 when `c` was something else
 * (the command's own option), otherwise the exit status to return. */
int cli_common_opt(const struct ia_cli_command *cmd, int c, char **argv);

/* Start a fresh getopt_long scan over a command's argv. */
void cli_getopt_reset(void);

#define CLI_HELP_OPTION {"help", no_argument, NULL, 'h'}

#endif
