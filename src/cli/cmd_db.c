/* ipfs-accelerate db info|migrate|path: look after the results database. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "ia/core.h"
#include "ia/db.h"

static int run(int argc, char **argv);

const struct ia_cli_command ia_cli_cmd_db = {
    .name = "db",
    .summary = "results database: where it is, what it holds, schema migration",
    .usage = "Usage: ipfs-accelerate db path | info [--db FILE] [--json] | migrate [--db FILE]\n"
             "\n"
             "  path      print the default database location ($IA_HOME/results.db)\n"
             "  info      schema version and how many machines, models, runs, results\n"
             "            (measured and predicted) and timings it holds\n"
             "  migrate   bring the schema up to this build's version (opening the database\n"
             "            for a benchmark or a report does this too); creates the file\n"
             "\n"
             "Options:\n"
             "  --db FILE   the database (default $IA_HOME/results.db)\n"
             "  --json      print info as one JSON object\n"
             "  -h, --help  show this help\n",
    .run = run,
};

static int print_info(struct ia_db *db, int json) {
    struct ia_db_info in;
    if (ia_db_info(db, &in) != IA_OK) return cli_fail_lib("db");
    if (json) {
        json_t *o = json_pack(
            "{s:s,s:i,s:i,s:I,s:I,s:I,s:I,s:I,s:I}", "path", ia_db_location(db), "schema_version",
            in.schema_version, "build_schema_version", IA_DB_SCHEMA_VERSION, "machines",
            (json_int_t)in.n_hardware, "models", (json_int_t)in.n_models, "runs",
            (json_int_t)in.n_runs, "measured_results", (json_int_t)(in.n_results - in.n_predicted),
            "predicted_results", (json_int_t)in.n_predicted, "timings", (json_int_t)in.n_timings);
        char *s = o ? json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
        json_decref(o);
        if (!s) return cli_fail("db", "out of memory");
        puts(s);
        free(s);
    } else {
        printf("Database   %s\n", ia_db_location(db));
        printf("Schema     v%d (this build writes v%d)\n", in.schema_version, IA_DB_SCHEMA_VERSION);
        printf("Machines   %lld\nModels     %lld\nRuns       %lld\n", (long long)in.n_hardware,
               (long long)in.n_models, (long long)in.n_runs);
        printf("Results    %lld measured, %lld predicted\n",
               (long long)(in.n_results - in.n_predicted), (long long)in.n_predicted);
        printf("Timings    %lld\n", (long long)in.n_timings);
    }
    return fflush(stdout) == 0 ? CLI_OK : cli_fail("db", "cannot write to standard output");
}

static int run(int argc, char **argv) {
    static const struct option opts[] = {{"db", required_argument, NULL, 'd'},
                                         {"json", no_argument, NULL, 'j'},
                                         CLI_HELP_OPTION,
                                         {NULL, 0, NULL, 0}};
    const char *db_path = NULL;
    int json = 0, c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        int rc = cli_common_opt(&ia_cli_cmd_db, c, argv);
        if (rc >= 0) return rc;
        if (c == 'd') db_path = optarg;
        if (c == 'j') json = 1;
    }
    if (optind >= argc) return cli_usage("db", "missing subcommand (path, info or migrate)");
    const char *sub = argv[optind];
    if (optind + 1 < argc) return cli_usage("db", "unexpected argument '%s'", argv[optind + 1]);

    if (!strcmp(sub, "path")) {
        char *p;
        if (ia_db_default_path(&p) != IA_OK) return cli_fail_lib("db");
        puts(p);
        ia_free(p);
        return CLI_OK;
    }
    if (strcmp(sub, "info") && strcmp(sub, "migrate"))
        return cli_usage("db", "unknown subcommand '%s'", sub);
    int migrate = !strcmp(sub, "migrate");
    struct ia_db *db;
    if (ia_db_open(db_path, migrate ? 0 : IA_DB_OPEN_EXISTING, &db) != IA_OK)
        return cli_fail_lib("db");
    int status;
    if (migrate) {
        struct ia_db_info in;
        status = ia_db_info(db, &in) == IA_OK ? CLI_OK : cli_fail_lib("db");
        if (status == CLI_OK && !cli_globals.quiet) {
            if (in.migrated_from == in.schema_version)
                printf("%s: schema v%d, up to date\n", ia_db_location(db), in.schema_version);
            else
                printf("%s: schema v%d -> v%d\n", ia_db_location(db), in.migrated_from,
                       in.schema_version);
        }
    } else {
        status = print_info(db, json);
    }
    ia_db_close(db);
    return status;
}
