/* ipfs-accelerate serve-gateway: serves the store as a trustless HTTP
 * gateway until SIGINT or SIGTERM. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "ia/core.h"
#include "ia/store.h"

static int run(int argc, char **argv);

const struct ia_cli_command ia_cli_cmd_serve_gateway = {
    .name = "serve-gateway",
    .summary = "serve the store over HTTP as a trustless IPFS gateway",
    .usage = "Usage: ipfs-accelerate serve-gateway [--listen HOST:PORT]\n"
             "\n"
             "Serves GET and HEAD /ipfs/<cid> from the store ($IA_HOME) following the IPFS\n"
             "Trustless Gateway spec: ?format=raw (or Accept: application/vnd.ipld.raw) gives\n"
             "one block, ?format=car (or Accept: application/vnd.ipld.car) a CAR of the whole\n"
             "DAG, depth first. Every block is re-verified before it is sent. Prints\n"
             "'serving /ipfs/ on http://HOST:PORT' and runs until SIGINT or SIGTERM.\n"
             "\n"
             "Options:\n"
             "  --listen HOST:PORT  address to bind (default 127.0.0.1:8080); port 0 picks a\n"
             "                      free one; an IPv6 host goes in brackets: [::1]:8080\n"
             "  -h, --help          show this help\n",
    .run = run,
};

static int run(int argc, char **argv) {
    static const struct option opts[] = {
        {"listen", required_argument, NULL, 'l'},
        CLI_HELP_OPTION,
        {NULL, 0, NULL, 0},
    };
    const char *cmd = ia_cli_cmd_serve_gateway.name;
    const char *listen = "127.0.0.1:8080";
    int c, rc;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'l')
            listen = optarg;
        else if ((rc = cli_common_opt(&ia_cli_cmd_serve_gateway, c, argv)) >= 0)
            return rc;
    }
    if (optind != argc) return cli_usage(cmd, "unexpected argument '%s'", argv[optind]);

    /* Blocked before the server's thread starts, so it inherits the mask
     * and the signals wait for sigwait here. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct ia_store *s;
    if (ia_store_open(NULL, &s) != IA_OK) return cli_fail_lib(cmd);
    struct ia_gateway_server *g;
    if (ia_gateway_start(s, listen, &g) != IA_OK) {
        rc = cli_fail_lib(cmd);
        ia_store_close(s);
        return rc;
    }
    char host[128];
    snprintf(host, sizeof host, "%s", listen);
    char *colon = strrchr(host, ':');
    if (colon) *colon = '\0';
    printf("serving /ipfs/ on http://%s:%d\n", host, ia_gateway_port(g));
    fflush(stdout);
    int sig = 0;
    sigwait(&set, &sig);
    ia_gateway_stop(g);
    ia_store_close(s);
    if (!cli_globals.quiet) fprintf(stderr, "serve-gateway: stopped (%s)\n", strsignal(sig));
    return CLI_OK;
}
