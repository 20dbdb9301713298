#include "cli.h"

#include <stdarg.h>
#include <string.h>

#include "ia/core.h"

struct cli_globals cli_globals;

static void vmsg(const char *cmd, const char *fmt, va_list ap) {
    char buf[2048];
    vsnprintf(buf, sizeof buf, fmt, ap);
    if (cmd)
        fprintf(stderr, "ipfs-accelerate: %s: %s\n", cmd, buf);
    else
        fprintf(stderr, "ipfs-accelerate: %s\n", buf);
}

int cli_fail(const char *cmd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vmsg(cmd, fmt, ap);
    va_end(ap);
    return CLI_FAILED;
}

int cli_usage(const char *cmd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vmsg(cmd, fmt, ap);
    va_end(ap);
    fprintf(stderr, "Try 'ipfs-accelerate %s%s--help'.\n", cmd ? cmd : "", cmd ? " " : "");
    return CLI_USAGE;
}

int cli_fail_lib(const char *cmd) { return cli_fail(cmd, "%s", ia_error_msg()); }

int cli_help(const struct ia_cli_command *cmd) {
    fputs(cmd->usage, stdout);
    return CLI_OK;
}

int cli_common_opt(const struct ia_cli_command *cmd, int c, char **argv) {
    (void)argv;
    if (c == 'h') return cli_help(cmd);
    if (c == '?' || c == ':') {
        /* opterr is off, so say what getopt found wrong. */
        const char *arg = optind > 0 ? argv[optind - 1] : NULL;
        if (arg && arg[0] == '-' && arg[1] == '-')
            return cli_usage(cmd->name, "%s option '%s'",
                             optopt ? "bad use of" : "unrecognized", arg);
        if (optopt) {
            if (c == ':') return cli_usage(cmd->name, "option '-%c' needs a value", optopt);
            return cli_usage(cmd->name, "invalid option '-%c'", optopt);
        }
        return cli_usage(cmd->name, "unrecognized option '%s'", arg ? arg : "?");
    }
    return -1;
}

void cli_getopt_reset(void) {
    optind = 0; /* GNU getopt: 0 re-initialises the scanner fully */
    opterr = 0;
}
