/* ipfs-accelerate cat CID: a UnixFS file's bytes on stdout, every block
 * verified before any of its bytes are written. */
#include <stdio.h>

#include "cli.h"
#include "cli_store.h"
#include "ia/core.h"
#include "ia/store.h"

static int run(int argc, char **argv);

const struct ia_cli_command ia_cli_cmd_cat = {
    .name = "cat",
    .summary = "print a file from the store, verifying every block",
    .usage = "Usage: ipfs-accelerate cat CID\n"
             "\n"
             "Writes the UnixFS file CID (a raw block or a dag-pb file DAG) to standard\n"
             "output. Every block is re-hashed before any of its bytes are written, and\n"
             "the sizes each node declares are checked against its children, so a\n"
             "corrupt store fails instead of printing wrong bytes (bytes of blocks\n"
             "before the bad one may already have been written).\n"
             "\n"
             "Options:\n"
             "  -h, --help  show this help\n"
             "\n"
             "Exit status: 0 ok; 1 not found, corrupt, a directory, or a write error;\n"
             "2 usage error (including a malformed CID).\n",
    .run = run,
};

static int to_stdout(void *user, const uint8_t *data, size_t len) {
    (void)user;
    if (fwrite(data, 1, len, stdout) != len)
        return ia_error_set(IA_EIO, "cannot write to standard output");
    return IA_OK;
}

static int run(int argc, char **argv) {
    static const struct option opts[] = {CLI_HELP_OPTION, {NULL, 0, NULL, 0}};
    const char *cmd = ia_cli_cmd_cat.name;
    int c, rc;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1)
        if ((rc = cli_common_opt(&ia_cli_cmd_cat, c, argv)) >= 0) return rc;
    if (optind >= argc) return cli_usage(cmd, "no CID given");
    if (optind + 1 < argc) return cli_usage(cmd, "unexpected argument '%s'", argv[optind + 1]);
    struct ia_cid cid;
    if ((rc = cli_parse_cid(cmd, argv[optind], &cid)) != CLI_OK) return rc;
    struct ia_store *s;
    if ((rc = cli_open_store(cmd, &s)) != CLI_OK) return rc;
    rc = ia_store_cat(s, &cid, to_stdout, NULL) == IA_OK ? CLI_OK : cli_fail_lib(cmd);
    if (fflush(stdout) != 0 && rc == CLI_OK) rc = cli_fail(cmd, "cannot write to standard output");
    ia_store_close(s);
    return rc;
}
