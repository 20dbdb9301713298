/* ipfs-accelerate car export|import: move DAGs as CAR v1 files. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_store.h"
#include "ia/core.h"
#include "ia/store.h"

static int run(int argc, char **argv);

const struct ia_cli_command ia_cli_cmd_car = {
    .name = "car",
    .summary = "export a DAG to a CAR file, or import one (all or nothing)",
    .usage = "Usage: ipfs-accelerate car export CID -o FILE.car\n"
             "       ipfs-accelerate car import FILE.car [--json]\n"
             "\n"
             "export writes the DAG under CID as CAR v1 (root first, depth first, each\n"
             "block once); every block is verified on the way out.\n"
             "import verifies every block of the CAR, checks that no section is truncated\n"
             "and that every root is in the CAR or the store, and only then stores the\n"
             "blocks and pins the roots: on any failure the store is left unchanged.\n"
             "Prints 'imported <root CID>' per root.\n"
             "\n"
             "Options:\n"
             "  -o, --output FILE  (export) the CAR file to write\n"
             "  --json             (import) print {\"roots\": [...]}\n"
             "  -h, --help         show this help\n"
             "\n"
             "Exit status: 0 ok; 1 missing/corrupt block, bad CAR, or I/O error; 2 usage\n"
             "error (including a malformed CID).\n",
    .run = run,
};

static int run(int argc, char **argv) {
    enum { OPT_JSON = 256 };
    static const struct option opts[] = {{"output", required_argument, NULL, 'o'},
                                         {"json", no_argument, NULL, OPT_JSON},
                                         CLI_HELP_OPTION,
                                         {NULL, 0, NULL, 0}};
    const char *cmd = ia_cli_cmd_car.name;
    const char *out = NULL;
    int c, rc, json = 0;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        if (c == 'o')
            out = optarg;
        else if (c == OPT_JSON)
            json = 1;
        else if ((rc = cli_common_opt(&ia_cli_cmd_car, c, argv)) >= 0)
            return rc;
    }
    if (optind >= argc) return cli_usage(cmd, "expected export or import");
    const char *sub = argv[optind++];
    int is_export = !strcmp(sub, "export");
    if (!is_export && strcmp(sub, "import")) return cli_usage(cmd, "unknown subcommand '%s'", sub);
    if (optind >= argc) return cli_usage(cmd, "%s: no %s given", sub, is_export ? "CID" : "FILE");
    if (optind + 1 < argc) return cli_usage(cmd, "unexpected argument '%s'", argv[optind + 1]);
    struct ia_store *s;
    if (is_export) {
        if (!out || !*out) return cli_usage(cmd, "export: -o FILE.car is required");
        if (json) return cli_usage(cmd, "--json goes with 'car import'");
        struct ia_cid cid;
        if ((rc = cli_parse_cid(cmd, argv[optind], &cid)) != CLI_OK) return rc;
        if ((rc = cli_open_store(cmd, &s)) != CLI_OK) return rc;
        rc = ia_store_car_export(s, &cid, out) == IA_OK ? CLI_OK : cli_fail_lib(cmd);
        ia_store_close(s);
        return rc;
    }
    if (out) return cli_usage(cmd, "-o goes with 'car export'");
    if ((rc = cli_open_store(cmd, &s)) != CLI_OK) return rc;
    struct ia_cid *roots = NULL;
    size_t n = 0;
    if (ia_store_car_import(s, argv[optind], &roots, &n) != IA_OK) {
        rc = cli_fail_lib(cmd);
    } else if (json) {
        json_t *arr = json_array();
        for (size_t i = 0; arr && i < n; i++)
            if (json_array_append_new(arr, cli_json_cid(&roots[i])) != 0) {
                json_decref(arr);
                arr = NULL;
            }
        rc = cli_print_json(cmd, arr ? json_pack("{s:o}", "roots", arr) : NULL);
    } else {
        for (size_t i = 0; i < n; i++) {
            char str[IA_CID_STR_MAX];
            ia_cid_format(&roots[i], str);
            printf("imported %s\n", str);
        }
    }
    ia_free(roots);
    ia_store_close(s);
    return rc;
}
