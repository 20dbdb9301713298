/* ipfs-accelerate pin add|rm|ls: recursive pins, which gc keeps. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_store.h"
#include "ia/core.h"
#include "ia/store.h"

static int run(int argc, char **argv);

const struct ia_cli_command ia_cli_cmd_pin = {
    .name = "pin",
    .summary = "pin, unpin and list pinned DAGs (gc keeps what is pinned)",
    .usage = "Usage: ipfs-accelerate pin add CID...\n"
             "       ipfs-accelerate pin rm CID...\n"
             "       ipfs-accelerate pin ls [CID] [--json]\n"
             "\n"
             "Pins are recursive: gc keeps every block of a pinned DAG. 'pin add' checks\n"
             "that the whole DAG is in the store first. 'pin ls' prints '<CID> recursive'\n"
             "per pin (CIDv1 form); with a CID it checks that one pin.\n"
             "\n"
             "Options:\n"
             "  --json      (ls) print [\"CID\"...]\n"
             "  -h, --help  show this help\n"
             "\n"
             "Exit status: 0 ok; 1 incomplete DAG, not pinned, or store error; 2 usage\n"
             "error (including a malformed CID).\n",
    .run = run,
};

struct ls_ctx {
    json_t *arr;
    const struct ia_cid *want;
    int found, oom;
};

static void on_pin(void *user, const struct ia_cid *cid) {
    struct ls_ctx *l = user;
    if (l->want) {
        struct ia_cid a = *l->want, b = *cid;
        a.version = b.version = 1; /* pins are kept as CIDv1 */
        if (!ia_cid_equal(&a, &b)) return;
        l->found = 1;
    }
    char str[IA_CID_STR_MAX];
    ia_cid_format(cid, str);
    if (l->arr) {
        if (json_array_append_new(l->arr, json_string(str)) != 0) l->oom = 1;
    } else {
        printf("%s recursive\n", str);
    }
}

static int run(int argc, char **argv) {
    enum { OPT_JSON = 256 };
    static const struct option opts[] = {
        {"json", no_argument, NULL, OPT_JSON}, CLI_HELP_OPTION, {NULL, 0, NULL, 0}};
    const char *cmd = ia_cli_cmd_pin.name;
    int c, rc, json = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == OPT_JSON)
            json = 1;
        else if ((rc = cli_common_opt(&ia_cli_cmd_pin, c, argv)) >= 0)
            return rc;
    }
    if (optind >= argc) return cli_usage(cmd, "expected add, rm or ls");
    const char *sub = argv[optind++];
    int is_add = !strcmp(sub, "add"), is_rm = !strcmp(sub, "rm"), is_ls = !strcmp(sub, "ls");
    if (!is_add && !is_rm && !is_ls) return cli_usage(cmd, "unknown subcommand '%s'", sub);
    if ((is_add || is_rm) && optind >= argc) return cli_usage(cmd, "%s: no CID given", sub);
    if (is_ls && argc - optind > 1) return cli_usage(cmd, "ls takes at most one CID");
    if (json && !is_ls) return cli_usage(cmd, "--json goes with 'pin ls'");
    /* Every argument is checked before anything changes. */
    for (int i = optind; i < argc; i++) {
        struct ia_cid cid;
        if ((rc = cli_parse_cid(cmd, argv[i], &cid)) != CLI_OK) return rc;
    }
    struct ia_store *s;
    if ((rc = cli_open_store(cmd, &s)) != CLI_OK) return rc;
    rc = CLI_OK;
    if (is_ls) {
        struct ia_cid want;
        struct ls_ctx l = {json ? json_array() : NULL, NULL, 0, 0};
        if (optind < argc) {
            ia_cid_parse(argv[optind], &want);
            l.want = &want;
        }
        if (json && !l.arr) rc = cli_fail(cmd, "out of memory");
        if (rc == CLI_OK && ia_store_pin_list(s, on_pin, &l) != IA_OK) rc = cli_fail_lib(cmd);
        if (rc == CLI_OK && l.oom) rc = cli_fail(cmd, "out of memory");
        if (rc == CLI_OK && json) {
            rc = cli_print_json(cmd, l.arr);
            l.arr = NULL;
        }
        if (rc == CLI_OK && l.want && !l.found)
            rc = cli_fail(cmd, "%s is not pinned", argv[optind]);
        json_decref(l.arr);
    }
    for (int i = optind; !is_ls && rc == CLI_OK && i < argc; i++) {
        struct ia_cid cid;
        ia_cid_parse(argv[i], &cid);
        int r = is_add ? ia_store_pin_add(s, &cid) : ia_store_pin_rm(s, &cid);
        if (r != IA_OK) {
            rc = cli_fail_lib(cmd);
            break;
        }
        printf("%s %s\n", is_add ? "pinned" : "unpinned", argv[i]);
    }
    ia_store_close(s);
    return rc;
}
