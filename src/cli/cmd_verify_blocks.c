/* ipfs-accelerate verify-blocks [CID]: re-hash stored blocks. */
#include <jansson.h>
#include <stdio.h>

#include "cli.h"
#include "cli_store.h"
#include "ia/core.h"
#include "ia/store.h"

static int run(int argc, char **argv);

const struct ia_cli_command ia_cli_cmd_verify_blocks = {
    .name = "verify-blocks",
    .summary = "re-hash stored blocks and name the corrupt or missing ones",
    .usage = "Usage: ipfs-accelerate verify-blocks [CID] [--json]\n"
             "\n"
             "Without CID, re-hashes every block in the store (a block is then named by\n"
             "its multihash, written as a raw CIDv1). With CID, walks that DAG and checks\n"
             "each of its blocks, reporting missing ones too. Each bad block is named on\n"
             "stderr; a summary goes to stdout.\n"
             "\n"
             "Options:\n"
             "  --json      print {\"ok\", \"checked\", \"corrupt\", \"missing\", \"bad\": [...]}\n"
             "  -h, --help  show this help\n"
             "\n"
             "Exit status: 0 all good; 1 a block is corrupt or missing (or the store could\n"
             "not be read); 2 usage error (including a malformed CID).\n",
    .run = run,
};

struct vctx {
    json_t *bad;
    int oom;
};

static void on_bad(void *user, const struct ia_multihash *mh, const char *why) {
    struct vctx *v = user;
    (void)mh;
    if (v->bad) {
        if (json_array_append_new(v->bad, json_string(why)) != 0) v->oom = 1;
    } else {
        fprintf(stderr, "ipfs-accelerate: verify-blocks: %s\n", why);
    }
}

static int run(int argc, char **argv) {
    enum { OPT_JSON = 256 };
    static const struct option opts[] = {
        {"json", no_argument, NULL, OPT_JSON}, CLI_HELP_OPTION, {NULL, 0, NULL, 0}};
    const char *cmd = ia_cli_cmd_verify_blocks.name;
    int c, rc, json = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == OPT_JSON)
            json = 1;
        else if ((rc = cli_common_opt(&ia_cli_cmd_verify_blocks, c, argv)) >= 0)
            return rc;
    }
    if (argc - optind > 1) return cli_usage(cmd, "unexpected argument '%s'", argv[optind + 1]);
    struct ia_cid root;
    if (optind < argc && (rc = cli_parse_cid(cmd, argv[optind], &root)) != CLI_OK) return rc;
    struct ia_store *s;
    if ((rc = cli_open_store(cmd, &s)) != CLI_OK) return rc;
    struct vctx v = {json ? json_array() : NULL, 0};
    if (json && !v.bad) v.oom = 1;
    struct ia_verify_counts n = {0, 0, 0};
    int r =
        v.oom ? IA_ENOMEM : ia_store_verify_blocks(s, optind < argc ? &root : NULL, on_bad, &v, &n);
    int bad = n.corrupt || n.missing;
    if (r != IA_OK && !(r == IA_ECORRUPT && bad)) {
        rc = cli_fail_lib(cmd); /* the walk itself failed */
    } else if (json) {
        rc = v.oom ? cli_fail(cmd, "out of memory")
                   : cli_print_json(cmd, json_pack("{s:b, s:I, s:I, s:I, s:O}", "ok", !bad,
                                                   "checked", (json_int_t)n.checked, "corrupt",
                                                   (json_int_t)n.corrupt, "missing",
                                                   (json_int_t)n.missing, "bad", v.bad));
        if (rc == CLI_OK && bad) rc = CLI_FAILED;
    } else {
        printf("checked %llu blocks: %llu corrupt, %llu missing\n", (unsigned long long)n.checked,
               (unsigned long long)n.corrupt, (unsigned long long)n.missing);
        rc = bad ? CLI_FAILED : CLI_OK;
    }
    json_decref(v.bad);
    ia_store_close(s);
    return rc;
}
