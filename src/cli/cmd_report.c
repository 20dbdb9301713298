/* ipfs-accelerate report: the results database as Markdown, HTML or JSON. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "ia/core.h"
#include "ia/db.h"
#include "ia/report.h"

static int run(int argc, char **argv);

const struct ia_cli_command ia_cli_cmd_report = {
    .name = "report",
    .summary = "report benchmark results: tables, charts, regressions, recommendations",
    .usage = "Usage: ipfs-accelerate report [--db FILE] [--format md|html|json] [-o FILE]\n"
             "\n"
             "Reports what the results database holds. For each model on each machine: the\n"
             "latest measurement of every configuration (p50/p90/p99, throughput, peak memory,\n"
             "stable or unstable), the change since the previous run of the same configuration\n"
             "(a p50 change beyond max(2 x stddev, 5 %) is flagged as a regression), and the\n"
             "best configuration for latency, throughput and memory. The HTML report is one\n"
             "self-contained file with latency-vs-batch and throughput-vs-threads charts; it\n"
             "loads nothing from the network. Predicted figures, if any, are shown apart and\n"
             "labelled; every other figure was measured.\n"
             "\n"
             "An empty database gives a short report saying so (exit 0).\n"
             "\n"
             "Options:\n"
             "  --db FILE          results database (default $IA_HOME/results.db); a FILE that\n"
             "                     does not exist is an error\n"
             "  --format FORMAT    md (default), html or json\n"
             "  --json             the same as --format json\n"
             "  -o, --output FILE  write to FILE instead of standard output\n"
             "  -h, --help         show this help\n",
    .run = run,
};

/* Writes via FILE.tmp + rename so a reader never sees half a report. */
static int write_file(const char *path, const char *data, size_t len) {
    size_t cap = strlen(path) + 16;
    char tmp[4096];
    if (cap > sizeof tmp) return cli_fail("report", "%s: path too long", path);
    snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f) return cli_fail("report", "%s: %s", tmp, strerror(errno));
    int ok = fwrite(data, 1, len, f) == len;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return cli_fail("report", "%s: cannot write: %s", path, strerror(e));
    }
    return CLI_OK;
}

static int run(int argc, char **argv) {
    static const struct option opts[] = {{"db", required_argument, NULL, 'd'},
                                         {"format", required_argument, NULL, 'f'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"output", required_argument, NULL, 'o'},
                                         CLI_HELP_OPTION,
                                         {NULL, 0, NULL, 0}};
    const char *db_path = NULL, *output = NULL;
    struct ia_report_options ro = {.format = IA_REPORT_MD};
    int c;
    while ((c = getopt_long(argc, argv, "+ho:", opts, NULL)) != -1) {
        int rc = cli_common_opt(&ia_cli_cmd_report, c, argv);
        if (rc >= 0) return rc;
        if (c == 'd') db_path = optarg;
        if (c == 'o') output = optarg;
        if (c == 'j') ro.format = IA_REPORT_JSON;
        if (c == 'f' && ia_report_format_parse(optarg, &ro.format) != IA_OK)
            return cli_usage("report", "%s", ia_error_msg());
    }
    if (optind < argc) return cli_usage("report", "unexpected argument '%s'", argv[optind]);
    if (db_path && !*db_path) return cli_usage("report", "--db needs a file name");

    /* An explicit --db that is missing is a typo, not an empty history; the
     * default database is created on first use like the rest of $IA_HOME. */
    struct ia_db *db;
    if (ia_db_open(db_path, db_path ? IA_DB_OPEN_EXISTING : 0, &db) != IA_OK)
        return cli_fail_lib("report");
    char *text = NULL;
    size_t len = 0;
    int rc = ia_report_render(db, &ro, &text, &len);
    ia_db_close(db);
    if (rc != IA_OK) return cli_fail_lib("report");
    int status = CLI_OK;
    if (output && strcmp(output, "-")) {
        status = write_file(output, text, len);
    } else if (fwrite(text, 1, len, stdout) != len || fflush(stdout) != 0) {
        status = cli_fail("report", "cannot write to standard output");
    }
    ia_free(text);
    return status;
}
