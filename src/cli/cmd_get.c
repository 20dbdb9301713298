/* ipfs-accelerate get CID -o PATH: a file or folder tree out of the store. */
#include <stdio.h>

#include "cli.h"
#include "cli_store.h"
#include "ia/core.h"
#include "ia/store.h"

static int run(int argc, char **argv);

const struct ia_cli_command ia_cli_cmd_get = {
    .name = "get",
    .summary = "write a file or folder from the store to disk, verifying every block",
    .usage = "Usage: ipfs-accelerate get CID [-o PATH]\n"
             "\n"
             "Writes the UnixFS file or directory CID to PATH (default: the CID, in the\n"
             "current folder). PATH must not exist. Every block is verified; entry names\n"
             "that could leave PATH ('.', '..', or containing '/') are refused. On failure\n"
             "nothing is left at PATH.\n"
             "\n"
             "Options:\n"
             "  -o, --output PATH  where to write\n"
             "  -h, --help         show this help\n"
             "\n"
             "Exit status: 0 ok; 1 not found, corrupt, PATH exists, or a write error;\n"
             "2 usage error (including a malformed CID).\n",
    .run = run,
};

static int run(int argc, char **argv) {
    static const struct option opts[] = {
        {"output", required_argument, NULL, 'o'}, CLI_HELP_OPTION, {NULL, 0, NULL, 0}};
    const char *cmd = ia_cli_cmd_get.name;
    const char *out = NULL;
    int c, rc;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        if (c == 'o')
            out = optarg;
        else if ((rc = cli_common_opt(&ia_cli_cmd_get, c, argv)) >= 0)
            return rc;
    }
    if (optind >= argc) return cli_usage(cmd, "no CID given");
    if (optind + 1 < argc) return cli_usage(cmd, "unexpected argument '%s'", argv[optind + 1]);
    if (out && !*out) return cli_usage(cmd, "empty output path");
    struct ia_cid cid;
    if ((rc = cli_parse_cid(cmd, argv[optind], &cid)) != CLI_OK) return rc;
    char name[IA_CID_STR_MAX];
    if (!out) {
        ia_cid_format(&cid, name);
        out = name;
    }
    struct ia_store *s;
    if ((rc = cli_open_store(cmd, &s)) != CLI_OK) return rc;
    rc = ia_store_get_path(s, &cid, out) == IA_OK ? CLI_OK : cli_fail_lib(cmd);
    ia_store_close(s);
    return rc;
}
