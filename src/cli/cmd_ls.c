/* ipfs-accelerate ls CID: the entries of a UnixFS directory. */
#include <jansson.h>
#include <stdio.h>

#include "cli.h"
#include "cli_store.h"
#include "ia/core.h"
#include "ia/store.h"

static int run(int argc, char **argv);

const struct ia_cli_command ia_cli_cmd_ls = {
    .name = "ls",
    .summary = "list a directory in the store",
    .usage = "Usage: ipfs-accelerate ls CID [--json]\n"
             "\n"
             "Prints one line per entry of the UnixFS directory CID, as `ipfs ls` does:\n"
             "'<CID> <size> <name>', with a '/' after folder names. The size is the file\n"
             "size for files and the DAG size (Tsize) for folders. A file CID lists itself.\n"
             "\n"
             "Options:\n"
             "  --json      print [{\"name\", \"cid\", \"size\", \"type\"}...]\n"
             "  -h, --help  show this help\n"
             "\n"
             "Exit status: 0 ok; 1 not found or corrupt; 2 usage error (including a\n"
             "malformed CID).\n",
    .run = run,
};

struct ls_ctx {
    json_t *arr;
    int oom;
};

static void on_entry(void *user, const struct ia_store_entry *e) {
    struct ls_ctx *l = user;
    char str[IA_CID_STR_MAX];
    ia_cid_format(&e->cid, str);
    if (l->arr) {
        json_t *j = json_pack("{s:s, s:s, s:I, s:s}", "name", e->name, "cid", str, "size",
                              (json_int_t)e->size, "type", e->is_dir ? "directory" : "file");
        if (!j || json_array_append_new(l->arr, j) != 0) l->oom = 1;
        return;
    }
    printf("%s %llu %s%s\n", str, (unsigned long long)e->size, e->name, e->is_dir ? "/" : "");
}

static int run(int argc, char **argv) {
    enum { OPT_JSON = 256 };
    static const struct option opts[] = {
        {"json", no_argument, NULL, OPT_JSON}, CLI_HELP_OPTION, {NULL, 0, NULL, 0}};
    const char *cmd = ia_cli_cmd_ls.name;
    int c, rc, json = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == OPT_JSON)
            json = 1;
        else if ((rc = cli_common_opt(&ia_cli_cmd_ls, c, argv)) >= 0)
            return rc;
    }
    if (optind >= argc) return cli_usage(cmd, "no CID given");
    if (optind + 1 < argc) return cli_usage(cmd, "unexpected argument '%s'", argv[optind + 1]);
    struct ia_cid cid;
    if ((rc = cli_parse_cid(cmd, argv[optind], &cid)) != CLI_OK) return rc;
    struct ia_store *s;
    if ((rc = cli_open_store(cmd, &s)) != CLI_OK) return rc;
    struct ls_ctx l = {json ? json_array() : NULL, 0};
    if (json && !l.arr) l.oom = 1;
    rc = l.oom                                         ? cli_fail(cmd, "out of memory")
         : ia_store_ls(s, &cid, on_entry, &l) == IA_OK ? CLI_OK
                                                       : cli_fail_lib(cmd);
    if (rc == CLI_OK && json) {
        if (l.oom) {
            rc = cli_fail(cmd, "out of memory");
        } else {
            rc = cli_print_json(cmd, l.arr);
            l.arr = NULL;
        }
    }
    json_decref(l.arr);
    ia_store_close(s);
    return rc;
}
