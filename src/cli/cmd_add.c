/* ipfs-accelerate add: import files or folders into the store as UnixFS,
 * with the CIDs `ipfs add` gives for the same profile. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "cli_store.h"
#include "ia/core.h"
#include "ia/store.h"

static int run(int argc, char **argv);

const struct ia_cli_command ia_cli_cmd_add = {
    .name = "add",
    .summary = "add files or folders to the store (CIDs as `ipfs add` gives them)",
    .usage = "Usage: ipfs-accelerate add [-r] [-Q] [-H] [--only-hash] [--profile NAME] [--no-pin]\n"
             "                           [--json] PATH...\n"
             "\n"
             "Chunks each PATH into a UnixFS DAG, stores its blocks in $IA_HOME/blocks and pins\n"
             "the root. Prints 'added <CID> <name>' for every file and folder, the root last,\n"
             "as `ipfs add` does. PATH '-' reads standard input (named by its CID).\n"
             "\n"
             "Profiles (the CIDs equal the IPFS reference importer's for the same profile):\n"
             "  default          CIDv1, raw leaves, 256 KiB chunks, 174 links per node\n"
             "                   (kubo's `ipfs add --cid-version=1`)\n"
             "  unixfs-v1-2025   CIDv1, raw leaves, 1 MiB chunks, 1024 links per node\n"
             "  unixfs-v0-2015   CIDv0, dag-pb leaves, 256 KiB chunks, 174 links per node\n"
             "\n"
             "Options:\n"
             "  -r, --recursive  add folders and everything in them\n"
             "  -H, --hidden     with -r, include files and folders whose name starts with '.'\n"
             "  -Q, --quieter    print only the root CID of each PATH\n"
             "  -n, --only-hash  compute the CIDs without storing anything\n"
             "  --profile NAME   default, unixfs-v1-2025 or unixfs-v0-2015\n"
             "  --no-pin         store the blocks but do not pin the root\n"
             "  --json           print the result as JSON\n"
             "  -h, --help       show this help\n"
             "\n"
             "Exit status: 0 added, 1 failed (unreadable file, disk full, ...), 2 usage error.\n",
    .run = run,
};

struct add_ctx {
    int quieter, json;
    json_t *entries; /* with --json */
    struct ia_progress *bar;
    int oom;
};

static void on_entry(void *user, const char *path, const struct ia_cid *cid, uint64_t size) {
    struct add_ctx *a = user;
    char str[IA_CID_STR_MAX];
    ia_cid_format(cid, str);
    if (a->json) {
        json_t *e =
            json_pack("{s:s, s:s, s:I}", "name", path, "cid", str, "size", (json_int_t)size);
        if (!e || json_array_append_new(a->entries, e) != 0) a->oom = 1;
        return;
    }
    if (a->quieter) return;
    /* Keep the bar (stderr) from running into the line on a terminal. */
    if (a->bar->enabled) fputs("\r\033[K", stderr);
    printf("added %s %s\n", str, path);
    fflush(stdout);
}

static int add_one(const char *cmd, struct ia_import_opts *o, struct add_ctx *a, const char *path,
                   int recursive, struct ia_cid *root) {
    if (!strcmp(path, "-")) {
        uint64_t size = 0;
        if (ia_import_fd(o, STDIN_FILENO, root, &size) != IA_OK)
            return cli_fail(cmd, "standard input: %s", ia_error_msg());
        char str[IA_CID_STR_MAX];
        ia_cid_format(root, str);
        on_entry(a, str, root, size);
        return CLI_OK;
    }
    struct stat st;
    if (stat(path, &st) != 0) return cli_fail(cmd, "%s: %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode) && !recursive)
        return cli_fail(cmd, "%s is a directory (use -r to add folders)", path);
    if (ia_import_path(o, path, recursive, root) != IA_OK) return cli_fail_lib(cmd);
    return CLI_OK;
}

static int run(int argc, char **argv) {
    enum { OPT_PROFILE = 256, OPT_NO_PIN, OPT_JSON };
    static const struct option opts[] = {
        {"recursive", no_argument, NULL, 'r'},
        {"hidden", no_argument, NULL, 'H'},
        {"quieter", no_argument, NULL, 'Q'},
        {"only-hash", no_argument, NULL, 'n'},
        {"profile", required_argument, NULL, OPT_PROFILE},
        {"no-pin", no_argument, NULL, OPT_NO_PIN},
        {"json", no_argument, NULL, OPT_JSON},
        CLI_HELP_OPTION,
        {NULL, 0, NULL, 0},
    };
    const char *cmd = ia_cli_cmd_add.name;
    const char *profile = "default";
    int recursive = 0, hidden = 0, only_hash = 0, no_pin = 0, c, rc;
    struct add_ctx a = {0};
    while ((c = getopt_long(argc, argv, "rHQnh", opts, NULL)) != -1) {
        switch (c) {
        case 'r':
            recursive = 1;
            break;
        case 'H':
            hidden = 1;
            break;
        case 'Q':
            a.quieter = 1;
            break;
        case 'n':
            only_hash = 1;
            break;
        case OPT_PROFILE:
            profile = optarg;
            break;
        case OPT_NO_PIN:
            no_pin = 1;
            break;
        case OPT_JSON:
            a.json = 1;
            break;
        default:
            if ((rc = cli_common_opt(&ia_cli_cmd_add, c, argv)) >= 0) return rc;
        }
    }
    if (optind >= argc) return cli_usage(cmd, "no PATH given");
    struct ia_import_opts o = {0};
    if (ia_import_profile_get(profile, &o.profile) != IA_OK)
        return cli_usage(cmd, "%s", ia_error_msg());
    o.hidden = hidden;

    struct ia_store *s = NULL;
    if (!only_hash && (rc = cli_open_store(cmd, &s)) != CLI_OK) return rc;
    struct ia_pool *pool = NULL;
    if (ia_pool_create(ia_cpu_count(), &pool) != IA_OK) {
        ia_store_close(s);
        return cli_fail_lib(cmd);
    }
    struct ia_progress bar;
    ia_progress_start(&bar, "add", 1, cli_globals.quiet);
    a.bar = &bar;
    a.entries = a.json ? json_array() : NULL;
    json_t *roots = a.json ? json_array() : NULL;
    if (a.json && (!a.entries || !roots)) a.oom = 1;
    o.put = only_hash ? NULL : ia_store_put_cb;
    o.put_user = s;
    o.on_entry = on_entry;
    o.entry_user = &a;
    o.pool = pool;
    o.progress = ia_progress_update;
    o.progress_user = &bar;

    rc = a.oom ? cli_fail(cmd, "out of memory") : CLI_OK;
    for (int i = optind; rc == CLI_OK && i < argc; i++) {
        struct ia_cid root;
        rc = add_one(cmd, &o, &a, argv[i], recursive, &root);
        if (rc != CLI_OK) break;
        char str[IA_CID_STR_MAX];
        ia_cid_format(&root, str);
        if (s && !no_pin && ia_store_pin_add(s, &root) != IA_OK) {
            rc = cli_fail(cmd, "%s: %s", argv[i], ia_error_msg());
            break;
        }
        if (a.json) {
            if (json_array_append_new(roots, json_string(str)) != 0) a.oom = 1;
        } else if (a.quieter) {
            printf("%s\n", str);
        }
    }
    ia_progress_finish(&bar);
    if (rc == CLI_OK && a.json) {
        if (a.oom) {
            rc = cli_fail(cmd, "out of memory");
        } else {
            json_t *j = json_pack("{s:s, s:b, s:b, s:O, s:O}", "profile", o.profile.name, "stored",
                                  !only_hash, "pinned", !only_hash && !no_pin, "roots", roots,
                                  "entries", a.entries);
            rc = cli_print_json(cmd, j);
        }
    }
    json_decref(roots);
    json_decref(a.entries);
    ia_pool_destroy(pool);
    ia_store_close(s);
    return rc;
}
