/* ipfs-accelerate gc: remove every block no pin reaches. */
#include <jansson.h>
#include <stdio.h>

#include "cli.h"
#include "cli_store.h"
#include "ia/core.h"
#include "ia/store.h"

static int run(int argc, char **argv);

const struct ia_cli_command ia_cli_cmd_gc = {
    .name = "gc",
    .summary = "remove blocks that no pin reaches",
    .usage = "Usage: ipfs-accelerate gc [--json]\n"
             "\n"
             "Walks every pinned DAG, then deletes each stored block none of them reaches.\n"
             "If a pinned DAG has a corrupt or missing node, the blocks under it cannot be\n"
             "known, so gc deletes nothing and says which block and pin are at fault.\n"
             "Do not run gc while an add is in progress: its blocks are not pinned yet.\n"
             "\n"
             "Options:\n"
             "  --json      print {\"blocks_removed\", \"bytes_freed\"}\n"
             "  -h, --help  show this help\n"
             "\n"
             "Exit status: 0 ok; 1 refused or failed; 2 usage error.\n",
    .run = run,
};

static int run(int argc, char **argv) {
    enum { OPT_JSON = 256 };
    static const struct option opts[] = {
        {"json", no_argument, NULL, OPT_JSON}, CLI_HELP_OPTION, {NULL, 0, NULL, 0}};
    const char *cmd = ia_cli_cmd_gc.name;
    int c, rc, json = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == OPT_JSON)
            json = 1;
        else if ((rc = cli_common_opt(&ia_cli_cmd_gc, c, argv)) >= 0)
            return rc;
    }
    if (optind < argc) return cli_usage(cmd, "unexpected argument '%s'", argv[optind]);
    struct ia_store *s;
    if ((rc = cli_open_store(cmd, &s)) != CLI_OK) return rc;
    uint64_t removed = 0, bytes = 0;
    if (ia_store_gc(s, &removed, &bytes) != IA_OK) {
        rc = cli_fail_lib(cmd);
    } else if (json) {
        rc = cli_print_json(cmd, json_pack("{s:I, s:I}", "blocks_removed", (json_int_t)removed,
                                           "bytes_freed", (json_int_t)bytes));
    } else {
        printf("removed %llu blocks, freed %llu bytes\n", (unsigned long long)removed,
               (unsigned long long)bytes);
    }
    ia_store_close(s);
    return rc;
}
