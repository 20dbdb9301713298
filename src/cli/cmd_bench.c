/* ipfs-accelerate bench MODEL... : measure models over a matrix of
 * configurations and store every result in the results database. The
 * runner (src/bench) does the measuring; this file parses options, walks
 * the matrix, draws progress and prints what was measured. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ia/bench.h"
#include "ia/core.h"
#include "ia/db.h"
#include "ia/hw.h"
#include "ia/tensor_io.h"

extern const struct ia_cli_command ia_cli_cmd_bench;

static const char usage[] =
    "Usage: ipfs-accelerate bench MODEL... [options]\n"
    "\n"
    "Measures each MODEL over the matrix batch x seq x threads x precision x scenario\n"
    "and stores every configuration's result in the results database as it finishes.\n"
    "MODEL is a path to a .onnx file, a CID in the store (fetched into\n"
    "$IA_HOME/cache/models/), or zoo:ARCH[-PRESET][+past] (built once with synthetic\n"
    "weights into $IA_HOME/cache/zoo/; +past adds a KV cache). Each model is verified\n"
    "first; one that fails is reported and skipped, the others still run.\n"
    "\n"
    "Inputs are generated (fixed seed) from --batch and --seq, binding symbolic dims\n"
    "by name (batch, batch_size; sequence, seq, sequence_length, seq_len;\n"
    "past_sequence_length); any other symbolic dim needs -i.\n"
    "\n"
    "Options:\n"
    "  --batch LIST           batch sizes, e.g. 1,8 (default 1)\n"
    "  --seq LIST             sequence lengths (default 128; ignored by models\n"
    "                         without a sequence axis)\n"
    "  --threads LIST         thread counts (default: all logical CPUs)\n"
    "  --precision LIST       fp32 (the only one supported so far)\n"
    "  --scenario LIST        single-stream (default), offline, server\n"
    "  --warmup N             untimed queries first (default 3)\n"
    "  --min-iterations N     timed queries at least (default 10)\n"
    "  --min-time S           and for at least S seconds (default 1)\n"
    "  --max-iterations N     hard cap (default 10000)\n"
    "  --target-qps Q         server: Poisson arrival rate (default: half the\n"
    "                         measured single-query rate)\n"
    "  --latency-bound MS     server: search the highest QPS whose p99 <= MS\n"
    "  -i, --input NAME=FILE  an input from a file (.pb or .npy) instead of generated\n"
    "                         ones; then the files fix batch and seq\n"
    "  --seed N               seed of generated inputs and arrivals (default 0)\n"
    "  --db FILE              results database (default $IA_HOME/results.db)\n"
    "  --no-db                do not store results\n"
    "  --json                 print the results as JSON on stdout\n"
    "  -h, --help             show this help\n"
    "\n"
    "Scenarios (after MLPerf LoadGen): single-stream times one query after another\n"
    "(p50/p90/p99); offline runs back to back at the largest batch (samples/s);\n"
    "server feeds Poisson arrivals into a queue (latency includes queueing).\n"
    "Decoders also get TTFT (prefill) and, with a KV cache, TPOT and tokens/s.\n"
    "Figures marked est. are estimated from the graph, not measured; every other\n"
    "figure is measured. See docs/bench.md.\n"
    "\n"
    "Exit status: 0 every model ran; 1 a model failed (verification, inputs, a\n"
    "run) or a result could not be stored; 2 usage error.\n";

#define MAX_LIST 64
#define MAX_INPUTS 256
#define MAX_MODELS 256

struct int_list {
    int n;
    int v[MAX_LIST];
};

static volatile sig_atomic_t stop_flag;
static void on_signal(int sig) {
    (void)sig;
    stop_flag = 1;
}

/* "1,8,32" → values in [lo, hi]; returns 0 or -1. */
static int parse_list(const char *s, int lo, int hi, struct int_list *out) {
    out->n = 0;
    const char *p = s;
    while (*p) {
        char *end;
        errno = 0;
        long v = strtol(p, &end, 10);
        if (end == p || errno || v < lo || v > hi || (*end && *end != ',') || out->n == MAX_LIST)
            return -1;
        int dup = 0;
        for (int i = 0; i < out->n; i++) dup |= out->v[i] == (int)v;
        if (!dup) out->v[out->n++] = (int)v;
        p = *end ? end + 1 : end;
        if (*end == ',' && !*p) return -1;
    }
    return out->n ? 0 : -1;
}

static int parse_double(const char *s, double lo, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno || !isfinite(v) || v < lo) return -1;
    *out = v;
    return 0;
}

struct progress_ctx {
    struct ia_progress bar;
    uint64_t done_configs, total_configs;
};
static void on_progress(void *user, double frac) {
    struct progress_ctx *p = user;
    ia_progress_update(&p->bar, p->done_configs * 1000 + (uint64_t)(frac * 999),
                       p->total_configs * 1000);
}

static json_t *jnum(double v) { return isfinite(v) ? json_real(v) : json_null(); }
static json_t *jint(int64_t v) { return v >= 0 ? json_integer((json_int_t)v) : json_null(); }

static json_t *result_json(const struct ia_bench_model *bm, const struct ia_bench_result *r) {
    const struct ia_db_result *w = &r->row;
    json_t *o = json_object();
    json_object_set_new(o, "model", json_string(bm->name));
    json_object_set_new(o, "model_path", json_string(bm->path));
    json_object_set_new(o, "model_cid", json_string(bm->cid));
    json_object_set_new(o, "family", json_string(bm->family));
    json_object_set_new(o, "scenario", json_string(w->scenario));
    json_object_set_new(o, "batch", json_integer(w->batch));
    json_object_set_new(o, "seq", w->seq_len >= 0 ? json_integer(w->seq_len) : json_null());
    json_object_set_new(o, "threads", json_integer(w->threads));
    json_object_set_new(o, "precision", json_string(w->precision));
    json_object_set_new(o, "warmup", json_integer(w->warmup));
    json_object_set_new(o, "iterations", json_integer(w->iterations));
    json_object_set_new(o, "mean_ms", jnum(w->mean_ms));
    json_object_set_new(o, "stddev_ms", jnum(w->stddev_ms));
    json_object_set_new(o, "cv", jnum(w->cv));
    json_object_set_new(o, "min_ms", jnum(w->min_ms));
    json_object_set_new(o, "p50_ms", jnum(w->p50_ms));
    json_object_set_new(o, "p90_ms", jnum(w->p90_ms));
    json_object_set_new(o, "p99_ms", jnum(w->p99_ms));
    json_object_set_new(o, "max_ms", jnum(w->max_ms));
    json_object_set_new(o, "throughput_per_s", jnum(w->throughput_per_s));
    json_object_set_new(o, "n_outliers", json_integer(w->n_outliers));
    json_object_set_new(o, "unstable", json_boolean(w->unstable));
    json_object_set_new(o, "peak_rss_bytes", jint(w->peak_rss_bytes));
    json_object_set_new(o, "peak_rss_scope",
                        json_string(r->peak_rss_per_config ? "configuration" : "process"));
    json_object_set_new(o, "arena_bytes", jint(w->arena_bytes));
    json_object_set_new(o, "load_ms", jnum(w->load_ms));
    json_object_set_new(o, "first_inference_ms", jnum(w->first_inference_ms));
    json_object_set_new(o, "flops_estimated", jint(w->flops_estimated));
    json_object_set_new(o, "bytes_moved_estimated",
                        r->cost.n_unknown ? json_null() : jint(r->cost.bytes_moved));
    json_object_set_new(o, "decoder", json_boolean(bm->dec.is_decoder));
    json_object_set_new(o, "ttft_ms", jnum(w->ttft_ms));
    json_object_set_new(o, "tpot_ms", jnum(w->tpot_ms));
    json_object_set_new(o, "tokens_per_s", jnum(w->tokens_per_s));
    json_object_set_new(o, "target_qps", jnum(w->target_qps));
    json_object_set_new(o, "achieved_qps", jnum(w->achieved_qps));
    json_object_set_new(o, "latency_bound_met",
                        r->latency_bound_met < 0 ? json_null()
                                                 : json_boolean(r->latency_bound_met));
    json_object_set_new(o, "is_predicted", json_false());
    json_object_set_new(o, "note", r->note[0] ? json_string(r->note) : json_null());
    return o;
}

static void fmt_ms(char *b, size_t cap, double v) {
    if (!isfinite(v)) snprintf(b, cap, "-");
    else if (v < 1) snprintf(b, cap, "%.4f", v);
    else if (v < 100) snprintf(b, cap, "%.3f", v);
    else snprintf(b, cap, "%.1f", v);
}

static void print_row(const struct ia_bench_model *bm, const struct ia_bench_result *r) {
    const struct ia_db_result *w = &r->row;
    char p50[32], p90[32], p99[32], seq[16], rss[32];
    fmt_ms(p50, sizeof p50, w->p50_ms);
    fmt_ms(p90, sizeof p90, w->p90_ms);
    fmt_ms(p99, sizeof p99, w->p99_ms);
    if (w->seq_len >= 0) snprintf(seq, sizeof seq, "%d", w->seq_len);
    else snprintf(seq, sizeof seq, "-");
    if (w->peak_rss_bytes >= 0) snprintf(rss, sizeof rss, "%.1f", w->peak_rss_bytes / 1048576.0);
    else snprintf(rss, sizeof rss, "-");
    printf("%-22.22s %-13s %5d %5s %7d %10s %10s %10s %12.1f %9s  %s\n", bm->name, w->scenario,
           w->batch, seq, w->threads, p50, p90, p99, w->throughput_per_s, rss,
           w->unstable ? "UNSTABLE" : "yes");
}

static void print_header(void) {
    printf("%-22s %-13s %5s %5s %7s %10s %10s %10s %12s %9s  %s\n", "model", "scenario", "batch",
           "seq", "threads", "p50 ms", "p90 ms", "p99 ms", "throughput/s", "peak MiB",
           "stable");
}

static void print_extras(const struct ia_bench_model *bm, const struct ia_bench_result *r) {
    const struct ia_db_result *w = &r->row;
    if (bm->dec.is_decoder && isfinite(w->ttft_ms)) {
        char a[32], b[32];
        fmt_ms(a, sizeof a, w->ttft_ms);
        fmt_ms(b, sizeof b, w->tpot_ms);
        if (r->decode_applicable)
            printf("    decoder: TTFT %s ms (prefill of %d tokens), TPOT %s ms, %.1f tokens/s\n", a,
                   w->seq_len, b, w->tokens_per_s);
        else
            printf("    decoder: TTFT %s ms (prefill of %d tokens); %s\n", a, w->seq_len,
                   r->note[0] ? r->note : "decode: not applicable (no KV-cache inputs)");
    }
    if (isfinite(w->target_qps))
        printf("    server: target %.2f QPS, achieved %.2f QPS, p99 %.3f ms incl. queueing%s\n",
               w->target_qps, w->achieved_qps, w->p99_ms,
               r->latency_bound_met == 0   ? " (latency bound NOT met at any QPS tried)"
               : r->latency_bound_met == 1 ? " (highest QPS meeting the latency bound)"
                                           : "");
}

static void free_given(struct ia_bench_inputs *g) { ia_bench_inputs_free(g); }

/* Reads -i files into one ia_bench_inputs. */
static int read_given(const char *cmd, char **specs, size_t n, struct ia_bench_inputs *out) {
    memset(out, 0, sizeof *out);
    out->names = ia_calloc(n, sizeof *out->names);
    out->t = ia_calloc(n, sizeof *out->t);
    if (!out->names || !out->t) return cli_fail(cmd, "out of memory");
    for (size_t i = 0; i < n; i++) {
        char *eq = strchr(specs[i], '=');
        out->names[i] = ia_malloc((size_t)(eq - specs[i]) + 1);
        if (!out->names[i]) return cli_fail(cmd, "out of memory");
        memcpy(out->names[i], specs[i], (size_t)(eq - specs[i]));
        out->names[i][eq - specs[i]] = '\0';
        out->n = i + 1;
        if (ia_tensor_io_read(eq + 1, &out->t[i]) != IA_OK)
            return cli_fail(cmd, "input '%s': %s", out->names[i], ia_error_msg());
    }
    return CLI_OK;
}

struct opts {
    struct int_list batch, seq, threads;
    int scen[IA_BENCH_SCENARIO_COUNT];
    int n_scen;
    int json, no_db, batch_given, seq_given;
    long repeat;
    const char *db_path;
    struct ia_bench_opts bo;
};

static int parse_scenarios(const char *cmd, const char *s, struct opts *o) {
    char buf[256];
    snprintf(buf, sizeof buf, "%s", s);
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        enum ia_bench_scenario sc;
        if (ia_bench_scenario_parse(t, &sc) != IA_OK) return cli_usage(cmd, "%s", ia_error_msg());
        int dup = 0;
        for (int i = 0; i < o->n_scen; i++) dup |= o->scen[i] == (int)sc;
        if (!dup) o->scen[o->n_scen++] = (int)sc;
    }
    return o->n_scen ? CLI_OK : cli_usage(cmd, "--scenario needs a value");
}

static int parse_precisions(const char *cmd, const char *s) {
    char buf[256];
    snprintf(buf, sizeof buf, "%s", s);
    int n = 0;
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (strcmp(t, "fp32"))
            return cli_usage(cmd, "precision %s is not supported yet (only fp32)", t);
        n++;
    }
    return n ? CLI_OK : cli_usage(cmd, "--precision needs a value");
}

static int run(int argc, char **argv) {
    const char *cmd = ia_cli_cmd_bench.name;
    enum { O_BATCH = 256, O_SEQ, O_THREADS, O_PREC, O_SCEN, O_WARM, O_MINIT, O_MINT, O_MAXIT,
           O_QPS, O_BOUND, O_DB, O_NODB, O_JSON, O_SEED, O_REPEAT };
    static const struct option lo[] = {{"batch", required_argument, NULL, O_BATCH},
                                       {"seq", required_argument, NULL, O_SEQ},
                                       {"threads", required_argument, NULL, O_THREADS},
                                       {"precision", required_argument, NULL, O_PREC},
                                       {"scenario", required_argument, NULL, O_SCEN},
                                       {"warmup", required_argument, NULL, O_WARM},
                                       {"min-iterations", required_argument, NULL, O_MINIT},
                                       {"min-time", required_argument, NULL, O_MINT},
                                       {"max-iterations", required_argument, NULL, O_MAXIT},
                                       {"target-qps", required_argument, NULL, O_QPS},
                                       {"latency-bound", required_argument, NULL, O_BOUND},
                                       {"input", required_argument, NULL, 'i'},
                                       {"db", required_argument, NULL, O_DB},
                                       {"no-db", no_argument, NULL, O_NODB},
                                       {"json", no_argument, NULL, O_JSON},
                                       {"seed", required_argument, NULL, O_SEED},
                                       {"repeat", required_argument, NULL, O_REPEAT},
                                       CLI_HELP_OPTION,
                                       {NULL, 0, NULL, 0}};
    struct opts o;
    memset(&o, 0, sizeof o);
    o.batch = (struct int_list){1, {1}};
    o.seq = (struct int_list){1, {128}};
    o.threads = (struct int_list){1, {ia_cpu_count()}};
    o.repeat = -1;
    o.bo.warmup = 3;
    o.bo.min_iterations = 10;
    o.bo.min_time_s = 1.0;
    o.bo.max_iterations = IA_BENCH_MAX_ITERATIONS;
    char *in_specs[MAX_INPUTS];
    size_t n_in = 0;
    int c, r;
    while ((c = getopt_long(argc, argv, ":i:h", lo, NULL)) != -1) {
        if ((r = cli_common_opt(&ia_cli_cmd_bench, c, argv)) >= 0) return r;
        char *end;
        long v;
        double d;
        switch (c) {
        case O_BATCH:
            if (parse_list(optarg, 1, 1 << 20, &o.batch))
                return cli_usage(cmd, "--batch wants numbers from 1 like 1,8, got '%s'", optarg);
            o.batch_given = 1;
            break;
        case O_SEQ:
            if (parse_list(optarg, 1, 1 << 20, &o.seq))
                return cli_usage(cmd, "--seq wants numbers from 1 like 128,512, got '%s'", optarg);
            o.seq_given = 1;
            break;
        case O_THREADS:
            if (parse_list(optarg, 1, 4096, &o.threads))
                return cli_usage(cmd, "--threads wants numbers from 1 to 4096, got '%s'", optarg);
            break;
        case O_PREC:
            if ((r = parse_precisions(cmd, optarg)) != CLI_OK) return r;
            break;
        case O_SCEN:
            if ((r = parse_scenarios(cmd, optarg, &o)) != CLI_OK) return r;
            break;
        case O_WARM:
        case O_MINIT:
        case O_MAXIT:
        case O_REPEAT:
            errno = 0;
            v = strtol(optarg, &end, 10);
            if (end == optarg || *end || errno || v < (c == O_MINIT || c == O_MAXIT ? 1 : 0) ||
                v > (c == O_REPEAT ? 100000000L : 1000000L))
                return cli_usage(cmd, "bad number '%s' for %s", optarg, argv[optind - 1]);
            if (c == O_WARM) o.bo.warmup = (int)v;
            else if (c == O_MINIT) o.bo.min_iterations = (int)v;
            else if (c == O_MAXIT) o.bo.max_iterations = (int)v;
            else o.repeat = v;
            break;
        case O_MINT:
        case O_QPS:
        case O_BOUND:
            if (parse_double(optarg, 0, &d) || (c != O_MINT && d <= 0) || d > 1e9)
                return cli_usage(cmd, "bad number '%s' for %s", optarg, argv[optind - 1]);
            if (c == O_MINT) o.bo.min_time_s = d;
            else if (c == O_QPS) o.bo.target_qps = d;
            else o.bo.latency_bound_ms = d;
            break;
        case O_SEED:
            errno = 0;
            o.bo.seed = strtoull(optarg, &end, 10);
            if (end == optarg || *end || errno) return cli_usage(cmd, "bad --seed '%s'", optarg);
            break;
        case 'i': {
            const char *eq = strchr(optarg, '=');
            if (!eq || eq == optarg || !eq[1])
                return cli_usage(cmd, "-i wants NAME=FILE, got '%s'", optarg);
            if (n_in == MAX_INPUTS) return cli_usage(cmd, "more than %d inputs", MAX_INPUTS);
            in_specs[n_in++] = optarg;
            break;
        }
        case O_DB: o.db_path = optarg; break;
        case O_NODB: o.no_db = 1; break;
        case O_JSON: o.json = 1; break;
        default: return cli_usage(cmd, "option '%s' needs a value", argv[optind - 1]);
        }
    }
    if (optind >= argc) return cli_usage(cmd, "MODEL is missing");
    if (argc - optind > MAX_MODELS) return cli_usage(cmd, "more than %d models", MAX_MODELS);
    if (!o.n_scen) o.scen[o.n_scen++] = IA_BENCH_SINGLE_STREAM;
    if (n_in && (o.batch_given || o.seq_given))
        return cli_usage(cmd, "--batch and --seq shape generated inputs; with -i the files fix "
                              "the shapes");
    if (o.bo.max_iterations < o.bo.min_iterations)
        return cli_usage(cmd, "--max-iterations is below --min-iterations");
    if (o.no_db && o.db_path) return cli_usage(cmd, "--db and --no-db together");
    int has_server = 0;
    for (int i = 0; i < o.n_scen; i++) has_server |= o.scen[i] == IA_BENCH_SERVER;
    if (!has_server && (o.bo.target_qps > 0 || o.bo.latency_bound_ms > 0))
        return cli_usage(cmd, "--target-qps and --latency-bound are for --scenario server");

    struct ia_bench_inputs given = {0};
    if (n_in) {
        if ((r = read_given(cmd, in_specs, n_in, &given)) != CLI_OK) {
            free_given(&given);
            return r;
        }
        o.bo.given = &given;
    }
    struct sigaction sa = {0}, old_int, old_term;
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    o.bo.stop = (volatile const int *)&stop_flag;

    int status = CLI_OK;
    struct progress_ctx prog = {0};
    int quiet = cli_globals.quiet;
    struct ia_db *db = NULL;
    int64_t run_id = -1;
    struct ia_hw_info hw;
    json_t *jres = json_array(), *jfail = json_array();
    int n_stored = 0, header_done = 0;

    if (o.repeat < 0 && !o.no_db) {
        if (ia_db_open(o.db_path, 0, &db) != IA_OK || ia_hw_detect(&hw) != IA_OK ||
            ia_db_upsert_hardware(db, &hw) != IA_OK) {
            status = cli_fail_lib(cmd);
            goto out;
        }
        char cl[8192];
        size_t len = (size_t)snprintf(cl, sizeof cl, "ipfs-accelerate");
        for (int i = 0; i < argc && len < sizeof cl; i++)
            len += (size_t)snprintf(cl + len, sizeof cl - len, " %s", argv[i]);
        struct ia_db_run dr = {.command_line = cl, .hw_fingerprint = hw.fingerprint};
        if (ia_db_insert_run(db, &dr, &run_id) != IA_OK) {
            status = cli_fail_lib(cmd);
            goto out;
        }
    }

    for (int mi = optind; mi < argc && !stop_flag; mi++) {
        const char *spec = argv[mi];
        struct ia_bench_model *bm = NULL;
        struct ia_progress zb;
        ia_progress_start(&zb, "building", 1, quiet || o.repeat >= 0);
        struct ia_bench_open_opts oo = {.progress = ia_progress_update, .progress_user = &zb};
        int rc = ia_bench_model_open(spec, &oo, &bm);
        ia_progress_finish(&zb);
        if (rc != IA_OK) {
            cli_fail(cmd, "%s (model skipped)", ia_error_msg());
            json_array_append_new(jfail, json_pack("{s:s, s:s}", "model", spec, "error",
                                                   ia_error_msg()));
            status = CLI_FAILED;
            continue;
        }
        /* Which axes the model has: shapes it does not bind collapse. */
        struct int_list seqs = o.seq, batches = o.batch;
        if (!n_in) {
            struct ia_bench_shape sh = {1, 1, 0};
            struct ia_bench_inputs probe;
            if (ia_bench_make_inputs(bm->m, &sh, 0, &probe) != IA_OK) {
                cli_fail(cmd, "%s (model skipped)", ia_error_msg());
                json_array_append_new(jfail, json_pack("{s:s, s:s}", "model", spec, "error",
                                                       ia_error_msg()));
                status = CLI_FAILED;
                ia_bench_model_close(bm);
                continue;
            }
            if (!(probe.uses & IA_BENCH_USES_SEQ)) seqs = (struct int_list){1, {-1}};
            if (!(probe.uses & IA_BENCH_USES_BATCH)) batches = (struct int_list){1, {1}};
            ia_bench_inputs_free(&probe);
        } else {
            seqs = (struct int_list){1, {-1}};
            batches = (struct int_list){1, {0}};
        }
        int max_batch = batches.v[0];
        for (int i = 1; i < batches.n; i++)
            if (batches.v[i] > max_batch) max_batch = batches.v[i];

        if (o.repeat >= 0) { /* outside timing check: no measuring, no output */
            struct ia_bench_config cf = {IA_BENCH_SINGLE_STREAM, batches.v[0], seqs.v[0],
                                         o.threads.v[0], "fp32"};
            if (ia_bench_run_repeat(bm, &cf, &o.bo, o.repeat) != IA_OK)
                status = cli_fail(cmd, "%s: %s", spec, ia_error_msg());
            ia_bench_model_close(bm);
            continue;
        }
        int64_t model_id = -1;
        if (db && ia_bench_record_model(db, bm, seqs.v[0], &model_id) != IA_OK) {
            status = cli_fail(cmd, "%s: storing the model: %s", spec, ia_error_msg());
            ia_bench_model_close(bm);
            continue;
        }
        /* The matrix, offline only at the largest batch. */
        struct ia_bench_config cfgs[MAX_LIST * 4];
        size_t n_cfg = 0;
        for (int t = 0; t < o.threads.n; t++)
            for (int s = 0; s < seqs.n; s++)
                for (int b = 0; b < batches.n; b++)
                    for (int k = 0; k < o.n_scen; k++) {
                        if (o.scen[k] == IA_BENCH_OFFLINE && batches.v[b] != max_batch) continue;
                        if (n_cfg == sizeof cfgs / sizeof cfgs[0]) continue;
                        cfgs[n_cfg++] = (struct ia_bench_config){
                            (enum ia_bench_scenario)o.scen[k], batches.v[b], seqs.v[s],
                            o.threads.v[t], "fp32"};
                    }
        ia_progress_start(&prog.bar, bm->name, 0, quiet);
        prog.done_configs = 0;
        prog.total_configs = n_cfg;
        o.bo.progress = on_progress;
        o.bo.progress_user = &prog;
        for (size_t k = 0; k < n_cfg && !stop_flag; k++) {
            struct ia_bench_result res;
            rc = ia_bench_run_config(bm, &cfgs[k], &o.bo, &res);
            prog.done_configs = k + 1;
            ia_progress_update(&prog.bar, prog.done_configs * 1000, prog.total_configs * 1000);
            if (rc != IA_OK) {
                if (rc == IA_ECANCELED) break;
                ia_progress_finish(&prog.bar);
                cli_fail(cmd, "%s (%s, batch %d, threads %d): %s", bm->name,
                         ia_bench_scenario_name(cfgs[k].scenario), cfgs[k].batch,
                         cfgs[k].threads, ia_error_msg());
                status = CLI_FAILED;
                continue;
            }
            if (db) {
                int64_t rid;
                if (ia_bench_record_result(db, run_id, model_id, hw.fingerprint, &res, &rid) !=
                    IA_OK) {
                    ia_progress_finish(&prog.bar);
                    cli_fail(cmd, "storing a result: %s", ia_error_msg());
                    status = CLI_FAILED;
                } else {
                    n_stored++;
                }
            }
            if (res.note[0] && !quiet) {
                ia_progress_finish(&prog.bar);
                fprintf(stderr, "ipfs-accelerate: bench: %s: %s\n", bm->name, res.note);
            }
            if (o.json) {
                json_array_append_new(jres, result_json(bm, &res));
            } else {
                ia_progress_finish(&prog.bar);
                if (!header_done++) print_header();
                print_row(bm, &res);
                print_extras(bm, &res);
                fflush(stdout);
            }
            ia_bench_result_free(&res);
        }
        ia_progress_finish(&prog.bar);
        if (!o.json && n_cfg && !stop_flag) {
            struct ia_bench_cost cost;
            struct ia_bench_shape sh = {1, seqs.v[0] > 0 ? seqs.v[0] : 1, 0};
            struct ia_bench_inputs in;
            const struct ia_bench_inputs *use = n_in ? &given : NULL;
            if (!use && ia_bench_make_inputs(bm->m, &sh, 0, &in) == IA_OK) use = &in;
            if (use && ia_bench_estimate_cost(bm->m, use, &cost) == IA_OK && !cost.n_unknown)
                printf("    %s: %.3g FLOPs and %.3g bytes moved per inference at batch 1 "
                       "(est.), %llu parameters\n",
                       bm->name, (double)cost.flops, (double)cost.bytes_moved,
                       (unsigned long long)bm->n_params);
            if (use == &in) ia_bench_inputs_free(&in);
            ia_error_clear();
        }
        ia_bench_model_close(bm);
    }
    if (stop_flag) {
        cli_fail(cmd, "interrupted; %d result%s kept", n_stored, n_stored == 1 ? "" : "s");
        status = CLI_FAILED;
    }
    if (o.json && o.repeat < 0) {
        json_t *root = json_object();
        json_object_set_new(root, "results", jres);
        json_object_set_new(root, "failed", jfail);
        jres = jfail = NULL;
        json_object_set_new(root, "db", db ? json_string(ia_db_location(db)) : json_null());
        json_object_set_new(root, "run_id", run_id >= 0 ? json_integer(run_id) : json_null());
        char *text = json_dumps(root, JSON_INDENT(2));
        if (text) puts(text);
        free(text);
        json_decref(root);
    } else if (db && !quiet) {
        printf("%d result%s stored in %s (run %lld)\n", n_stored, n_stored == 1 ? "" : "s",
               ia_db_location(db), (long long)run_id);
    }
out:
    if (db && run_id >= 0 &&
        ia_db_finish_run(db, run_id,
                         stop_flag ? "interrupted" : status == CLI_OK ? "ok" : "failed",
                         NULL) != IA_OK)
        status = cli_fail(cmd, "finishing the run: %s", ia_error_msg());
    ia_db_close(db);
    json_decref(jres);
    json_decref(jfail);
    free_given(&given);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    return status;
}

const struct ia_cli_command ia_cli_cmd_bench = {
    "bench", "measure models over batch/seq/threads/scenarios into the results DB", usage, run};
