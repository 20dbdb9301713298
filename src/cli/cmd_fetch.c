/* ipfs-accelerate fetch CID --gateway URL ...: a verified download of a DAG
 * from trustless HTTP gateways into the store, pinned. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ia/core.h"
#include "ia/store.h"

static int run(int argc, char **argv);

const struct ia_cli_command ia_cli_cmd_fetch = {
    .name = "fetch",
    .summary = "download a DAG from trustless HTTP gateways, verifying every block",
    .usage =
        "Usage: ipfs-accelerate fetch CID --gateway URL [--gateway URL ...]\n"
        "                             [--timeout S] [--retries N] [--parallel N] [--json]\n"
        "\n"
        "Fetches the DAG under CID into the store ($IA_HOME) and pins it. The whole DAG is\n"
        "asked for as one CAR first (application/vnd.ipld.car), then every block still\n"
        "missing one by one (application/vnd.ipld.raw). Every block is checked against\n"
        "its CID before it is stored; a gateway that sends wrong bytes or keeps failing\n"
        "is dropped and the next one is used. Blocks already held are not fetched\n"
        "again, so running it again resumes an interrupted fetch.\n"
        "\n"
        "Options:\n"
        "  --gateway URL   a trustless gateway (http:// or https://), tried in the order given\n"
        "  --timeout S     seconds to connect, per block, and the longest stall (default 60)\n"
        "  --retries N     retries per gateway with exponential backoff (default 3)\n"
        "  --parallel N    blocks fetched at once, 1..64 (default 4)\n"
        "  --json          print the result as JSON\n"
        "  -h, --help      show this help\n",
    .run = run,
};

#define MAX_GATEWAYS 64

struct bar {
    struct ia_progress p;
    struct ia_fetch_stats stats; /* filled by the fetch before each call */
    char label[64];
};

static void on_progress(void *user, uint64_t done, uint64_t total) {
    struct bar *b = user;
    snprintf(b->label, sizeof b->label, "fetch %.1f MiB", b->stats.bytes_received / 1048576.0);
    ia_progress_update(&b->p, done, total);
}

static int parse_num(const char *cmd, const char *opt, const char *s, double lo, double hi,
                     double *out) {
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !(v >= lo && v <= hi))
        return cli_usage(cmd, "%s: '%s' is not a number in %g..%g", opt, s, lo, hi);
    *out = v;
    return CLI_OK;
}

static int run(int argc, char **argv) {
    enum { OPT_GATEWAY = 256, OPT_TIMEOUT, OPT_RETRIES, OPT_PARALLEL, OPT_JSON };
    static const struct option opts[] = {
        {"gateway", required_argument, NULL, OPT_GATEWAY},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"retries", required_argument, NULL, OPT_RETRIES},
        {"parallel", required_argument, NULL, OPT_PARALLEL},
        {"json", no_argument, NULL, OPT_JSON},
        CLI_HELP_OPTION,
        {NULL, 0, NULL, 0},
    };
    const char *cmd = ia_cli_cmd_fetch.name;
    const char *gateways[MAX_GATEWAYS];
    size_t n_gw = 0;
    struct ia_fetch_opts fo = {0};
    double v;
    int json = 0, c, rc;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_GATEWAY:
            if (n_gw == MAX_GATEWAYS) return cli_usage(cmd, "at most %d gateways", MAX_GATEWAYS);
            gateways[n_gw++] = optarg;
            break;
        case OPT_TIMEOUT:
            if ((rc = parse_num(cmd, "--timeout", optarg, 0.1, 86400, &v))) return rc;
            fo.timeout_s = v;
            break;
        case OPT_RETRIES:
            if ((rc = parse_num(cmd, "--retries", optarg, 0, 20, &v))) return rc;
            if (v != (int)v) return cli_usage(cmd, "--retries: '%s' is not a whole number", optarg);
            fo.retries = v == 0 ? -1 : (int)v; /* the library reads 0 as "default" */
            break;
        case OPT_PARALLEL:
            if ((rc = parse_num(cmd, "--parallel", optarg, 1, 64, &v))) return rc;
            if (v != (int)v)
                return cli_usage(cmd, "--parallel: '%s' is not a whole number", optarg);
            fo.parallel = (int)v;
            break;
        case OPT_JSON:
            json = 1;
            break;
        default:
            if ((rc = cli_common_opt(&ia_cli_cmd_fetch, c, argv)) >= 0) return rc;
        }
    }
    if (optind + 1 != argc)
        return cli_usage(cmd, optind >= argc ? "missing CID" : "one CID at a time");
    if (!n_gw) return cli_usage(cmd, "no --gateway given");
    struct ia_cid root;
    if (ia_cid_parse(argv[optind], &root) != IA_OK)
        return cli_usage(cmd, "'%s' is not a CID: %s", argv[optind], ia_error_msg());

    struct ia_store *s;
    if (ia_store_open(NULL, &s) != IA_OK) return cli_fail_lib(cmd);
    struct bar bar;
    memset(&bar, 0, sizeof bar);
    snprintf(bar.label, sizeof bar.label, "fetch");
    ia_progress_start(&bar.p, bar.label, 0, cli_globals.quiet || json);
    fo.gateways = gateways;
    fo.n_gateways = n_gw;
    fo.progress = on_progress;
    fo.progress_user = &bar;
    fo.stats = &bar.stats;
    rc = ia_store_fetch(s, &root, &fo);
    ia_progress_finish(&bar.p);
    ia_store_close(s);
    if (rc != IA_OK) return cli_fail_lib(cmd);

    char text[IA_CID_STR_MAX];
    ia_cid_format(&root, text);
    const struct ia_fetch_stats *st = &bar.stats;
    if (json) {
        json_t *o = json_pack(
            "{s:s, s:I, s:I, s:I, s:I, s:I, s:b}", "cid", text, "blocks_fetched",
            (json_int_t)st->blocks_fetched, "blocks_held", (json_int_t)st->blocks_held,
            "bytes_fetched", (json_int_t)st->bytes_fetched, "bytes_received",
            (json_int_t)st->bytes_received, "requests", (json_int_t)st->requests, "pinned", 1);
        if (!o) return cli_fail(cmd, "cannot build the JSON result");
        json_dumpf(o, stdout, JSON_INDENT(2));
        fputc('\n', stdout);
        json_decref(o);
    } else {
        printf("%s\n", text);
        printf("fetched %llu block%s (%llu bytes) in %llu request%s, %llu already held; pinned\n",
               (unsigned long long)st->blocks_fetched, st->blocks_fetched == 1 ? "" : "s",
               (unsigned long long)st->bytes_fetched, (unsigned long long)st->requests,
               st->requests == 1 ? "" : "s", (unsigned long long)st->blocks_held);
    }
    return CLI_OK;
}
