/*
 * bench: measuring models. This part is the statistics every benchmark
 * result carries; the runner (scenarios, timing loops) extends this header.
 *
 * Definitions, so a reader can recompute any figure from the stored
 * per-iteration timings:
 *   mean    arithmetic mean
 *   stddev  sample standard deviation (divisor n-1); 0 when n == 1
 *   cv      stddev / mean (coefficient of variation); 0 when mean == 0
 *   pXX     percentile by linear interpolation between order statistics,
 *           numpy.percentile's default ("linear", method 7 of Hyndman and
 *           Fan): with x sorted ascending and h = (n-1)*q, the value is
 *           x[floor(h)] + (h - floor(h)) * (x[floor(h)+1] - x[floor(h)]).
 *           p50 is therefore the median (mean of the middle two when n is even).
 *   outlier |x - median| > 3.5 * 1.4826 * MAD, MAD = median(|x - median|);
 *           1.4826 * MAD estimates the standard deviation of normal data,
 *           so this is the modified z-score test (Iglewicz and Hoaglin) with
 *           the usual cut-off 3.5. When MAD is 0 (more than half the samples
 *           identical) the scale falls back to 1.2533 * mean(|x - median|)
 *           (sqrt(pi/2) * mean absolute deviation, also a normal-consistent
 *           estimate); when that is 0 too, all samples are equal and none is
 *           an outlier. Outliers are flagged, never removed: every statistic
 *           above is over all samples.
 *   unstable cv > cv_threshold (IA_BENCH_CV_THRESHOLD_DEFAULT = 0.1 when the
 *           caller passes 0).
 */
#ifndef IA_BENCH_H
#define IA_BENCH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define IA_BENCH_CV_THRESHOLD_DEFAULT 0.1
#define IA_BENCH_OUTLIER_K 3.5          /* modified z-score cut-off */
#define IA_BENCH_MAD_TO_SIGMA 1.4826    /* 1 / Phi^-1(3/4) */
#define IA_BENCH_MEANAD_TO_SIGMA 1.2533 /* sqrt(pi / 2) */

struct ia_bench_stats {
    size_t n; /* samples */
    double mean_ms;
    double stddev_ms; /* sample (n-1) */
    double cv;        /* stddev / mean */
    double min_ms, p50_ms, p90_ms, p99_ms, max_ms;
    double mad_ms;           /* median absolute deviation from the median (unscaled) */
    double outlier_limit_ms; /* |x - median| above this is an outlier; INFINITY when none can be */
    size_t n_outliers;
    int unstable;        /* cv > threshold */
    double cv_threshold; /* the threshold applied */
};

/* Computes the statistics above over samples_ms[0..n). If is_outlier is
 * not NULL it receives n flags (1 = outlier) in sample order. Needs n >= 1
 * and every sample finite and >= 0; cv_threshold 0 means the default,
 * negative or not finite is an error. Returns IA_OK, IA_EINVAL (message
 * set) or IA_ENOMEM (it sorts a copy). */
int ia_bench_stats_compute(const double *samples_ms, size_t n, double cv_threshold,
                           struct ia_bench_stats *out, uint8_t *is_outlier /* n, may be NULL */);

/* The q-quantile (0 <= q <= 1) of sorted[0..n), n >= 1, by the numpy
 * "linear" rule above. Exposed for tests and for reports that recompute. */
double ia_bench_quantile_sorted(const double *sorted, size_t n, double q);

/* ======================================================================
 * The runner: everything below measures models. Declarations above this
 * line are the statistics; below, inputs, cost estimates, memory, timing
 * loops (scenarios after MLPerf LoadGen) and the per-configuration runner.
 * docs/bench.md says what every number means.
 * ====================================================================== */

#include "ia/db.h"      /* struct ia_db_result: the row a configuration fills */
#include "ia/kernels.h" /* struct ia_tensor */
#include "ia/onnx.h"    /* struct ia_model */

/* ---- inputs ------------------------------------------------------------- */

/* The sizes symbolic dims are bound to. past is the KV-cache length. */
struct ia_bench_shape {
    int64_t batch, seq, past;
};

/* Binds a symbolic dim by name: batch/batch_size → batch;
 * sequence/seq/sequence_length/seq_len → seq; past_sequence_length/
 * past_seq_len/past_len → past; "A + B" sums of those. *used gets bits
 * IA_BENCH_USES_BATCH / _SEQ / _PAST for the names it met. Any other name:
 * IA_ENOTFOUND with a message naming the dim and asking for -i. */
enum { IA_BENCH_USES_BATCH = 1, IA_BENCH_USES_SEQ = 2, IA_BENCH_USES_PAST = 4 };
int ia_bench_bind_dim(const char *param, const struct ia_bench_shape *sh, int64_t *out,
                      unsigned *used);

/* The row count of the Gather table the integer input `input` indexes
 * (directly, or through Cast/Reshape/Unsqueeze/Squeeze/Flatten/Identity);
 * IA_ENOTFOUND when there is no such initializer. */
int ia_bench_vocab_of(const struct ia_model *m, const char *input, int64_t *vocab);

/* Generated inputs for every graph input that has no default initializer:
 * input_ids and other integer ids uniform in [0, min(vocab, 1000)) (vocab
 * from ia_bench_vocab_of, else 100), attention_mask ones (length past+seq
 * when it spans the cache), token_type_ids zeros, position_ids
 * past..past+seq-1, bool ones, floats uniform in [-1, 1); the values come
 * from `seed` and the input's name only. Shapes from the declared dims with
 * symbolic ones bound by ia_bench_bind_dim. uses: the IA_BENCH_USES_* bits
 * of every dim bound. A symbolic dim it cannot bind: IA_ENOTFOUND; no
 * declared shape, an unnamed unknown dim or a type it cannot make:
 * IA_EUNSUPPORTED; both name the input. Free with ia_bench_inputs_free
 * (also safe after a failure). */
struct ia_bench_inputs {
    size_t n;
    char **names;           /* (n) ia_malloc'd copies */
    struct ia_tensor **t;   /* (n) one ia_tensor_io block each */
    unsigned uses;
};
int ia_bench_make_inputs(const struct ia_model *m, const struct ia_bench_shape *sh, uint64_t seed,
                         struct ia_bench_inputs *out);
void ia_bench_inputs_free(struct ia_bench_inputs *in);

/* ---- decoders ------------------------------------------------------------- */

/* A decoder has past_key_values.* (or past.*) inputs with matching present.*
 * outputs (a KV cache), or — without a cache — an input_ids input and a
 * logits output. */
#define IA_BENCH_MAX_PAST 1024
struct ia_bench_decoder {
    int is_decoder;
    int has_past;                        /* KV-cache inputs and outputs */
    size_t n_past;
    const char *past[IA_BENCH_MAX_PAST]; /* input names (into the model) */
    const char *present[IA_BENCH_MAX_PAST]; /* the output that feeds each back */
};
void ia_bench_detect_decoder(const struct ia_model *m, struct ia_bench_decoder *out);

/* ---- cost estimates (never measured: labelled "est." wherever shown) ------ */

/* FLOPs (multiply-add = 2) of MatMul, Gemm, Conv, ConvTranspose and
 * Attention nodes from the shapes inferred for these inputs; bytes moved =
 * weights (each initializer once) + every non-constant node input read and
 * output written. Nodes whose inputs are all constant are left out (the
 * engine folds them at load). n_unknown counts costed nodes whose shapes
 * could not be inferred (their FLOPs are missing from the sum). */
struct ia_bench_cost {
    int64_t flops, bytes_moved, weight_bytes;
    size_t n_costed, n_unknown;
};
int ia_bench_estimate_cost(const struct ia_model *m, const struct ia_bench_inputs *in,
                           struct ia_bench_cost *out);

/* ---- memory ---------------------------------------------------------------- */

/* Resets the kernel's resident-set high-water mark (VmHWM) by writing "5"
 * to /proc/self/clear_refs. Returns 1 when it was reset, 0 when not
 * permitted (then the peak covers the whole process lifetime). */
int ia_bench_mem_reset_peak(void);
/* Peak RSS in bytes: VmHWM from /proc/self/status, else getrusage's
 * ru_maxrss (process lifetime); -1 when neither can be read. */
int64_t ia_bench_mem_peak_rss(void);
/* Current RSS (VmRSS) in bytes, or -1. */
int64_t ia_bench_mem_rss(void);

/* ---- random numbers (fixed seeds, reproducible) ---------------------------- */

struct ia_bench_rng {
    uint64_t s;
};
void ia_bench_rng_seed(struct ia_bench_rng *r, uint64_t seed);
uint64_t ia_bench_rng_u64(struct ia_bench_rng *r);   /* splitmix64 */
double ia_bench_rng_uniform(struct ia_bench_rng *r); /* [0, 1) */
/* Exponential with the given rate (mean 1/rate): Poisson inter-arrivals. */
double ia_bench_rng_exp(struct ia_bench_rng *r, double rate);

/* ---- timing loops ------------------------------------------------------------ */

/* One query: returns IA_OK or an error (the loop stops and returns it). */
typedef int (*ia_bench_query_fn)(void *user);

/* A clock the loops read (seconds, monotonic) and can wait on. NULL members
 * mean CLOCK_MONOTONIC and clock_nanosleep; tests plug a virtual clock. */
struct ia_bench_clock {
    double (*now)(void *user);
    void (*sleep_until)(void *user, double t);
    void *user;
};

struct ia_bench_loop_opts {
    int warmup;          /* untimed queries first (not counted) */
    int min_iterations;  /* timed queries at least this many ... */
    double min_time_s;   /* ... and for at least this long (sum of the loop's wall time) */
    int max_iterations;  /* hard cap; 0 → IA_BENCH_MAX_ITERATIONS */
    const struct ia_bench_clock *clock; /* NULL: the real one */
    volatile const int *stop;           /* non-NULL and set: stop early (IA_ECANCELED) */
    /* Called after each timed query with the fraction done (by iterations
     * and time, whichever is further behind). */
    void (*progress)(void *user, double fraction);
    void *progress_user;
};
#define IA_BENCH_MAX_ITERATIONS 10000

/* What a loop measured. ms[i] is query i's latency: the clock read right
 * before and right after the query function (single-stream, offline), or
 * from its scheduled arrival to its completion (server, so queueing
 * counts). wall_s is from the first timed query's start (server: the
 * first arrival) to the last completion. */
struct ia_bench_samples {
    double *ms; /* ia_malloc'd (n) */
    size_t n;
    double wall_s;
};
void ia_bench_samples_free(struct ia_bench_samples *s);

/* Single-stream (and offline): warm-up, then one query after another
 * until min_iterations and min_time are both reached (or the cap). */
int ia_bench_loop_single(ia_bench_query_fn fn, void *user, const struct ia_bench_loop_opts *o,
                         struct ia_bench_samples *out);

/* Server: queries arrive as a Poisson process at target_qps (exponential
 * inter-arrival times from `seed`) and queue; one query is served at a
 * time, first come first served. Stops after a completion once
 * min_iterations and min_time are reached; *achieved_qps = completions /
 * wall_s. */
int ia_bench_loop_server(ia_bench_query_fn fn, void *user, const struct ia_bench_loop_opts *o,
                         double target_qps, uint64_t seed, struct ia_bench_samples *out,
                         double *achieved_qps);

/* ---- the runner ----------------------------------------------------------------- */

enum ia_bench_scenario {
    IA_BENCH_SINGLE_STREAM = 0,
    IA_BENCH_OFFLINE,
    IA_BENCH_SERVER,
    IA_BENCH_SCENARIO_COUNT
};
/* "single-stream", "offline", "server"; NULL out of range. */
const char *ia_bench_scenario_name(enum ia_bench_scenario s);
int ia_bench_scenario_parse(const char *name, enum ia_bench_scenario *out);

/* A model made ready to benchmark: resolved, verified and loaded. */
struct ia_bench_model {
    char *spec;   /* as given: path, CID or zoo:ARCH[-PRESET][+past] */
    char *path;   /* the .onnx file run */
    char *name;   /* for tables and the database */
    char *cid;    /* of the .onnx file as `add` would give it */
    char *family; /* metadata arch, or "unknown" */
    char *provenance_json;
    int synthetic, converted;
    uint64_t n_params, weight_bytes;
    double load_ms; /* ia_onnx_load of the file */
    struct ia_model *m;
    struct ia_bench_decoder dec;
};

struct ia_bench_open_opts {
    const char *home; /* $IA_HOME for CID and zoo: models; NULL: the default */
    ia_progress_fn progress; /* zoo builds: weight bytes */
    void *progress_user;
};
/* Resolves `spec` (a path; a CID fetched from the store into
 * home/cache/models/<cid>/; zoo:ARCH[-PRESET][+past] built once into
 * home/cache/zoo/), verifies it with the engine's checks and loads it.
 * A model that fails verification: IA_EFORMAT with "PATH: reason; ...". */
int ia_bench_model_open(const char *spec, const struct ia_bench_open_opts *o,
                        struct ia_bench_model **out);
void ia_bench_model_close(struct ia_bench_model *bm);

/* One configuration of the matrix. */
struct ia_bench_config {
    enum ia_bench_scenario scenario;
    int batch;
    int seq;     /* -1: the model has no sequence axis */
    int threads;
    const char *precision; /* "fp32" only for now */
};

struct ia_bench_opts {
    int warmup, min_iterations, max_iterations;
    double min_time_s;
    double cv_threshold;     /* 0: IA_BENCH_CV_THRESHOLD_DEFAULT */
    double target_qps;       /* server; 0: half the single-query rate measured in warm-up */
    double latency_bound_ms; /* server; > 0: search the highest QPS whose p99 meets it */
    int bound_steps;         /* bisection steps; 0 → 8 */
    uint64_t seed;
    /* Inputs from files instead of generated ones (then batch/seq are what
     * the files bind, and decoder timings are skipped). */
    const struct ia_bench_inputs *given;
    volatile const int *stop;
    void (*progress)(void *user, double fraction); /* within this configuration */
    void *progress_user;
};

/* A configuration's measurements; `row` has the database's fields
 * (strings static or pointing into the model), timings its raw samples. */
struct ia_bench_result {
    struct ia_db_result row;
    double *timings_ms; /* (n), ia_malloc'd */
    uint8_t *is_outlier;
    size_t n;
    struct ia_bench_stats stats;
    struct ia_bench_cost cost;   /* estimates at this configuration's shapes */
    int peak_rss_per_config;     /* 1: VmHWM was reset before this configuration */
    int decode_applicable;       /* decoder with a KV cache, timed */
    int latency_bound_met;       /* server with a bound: 1 met, 0 not even at the lowest QPS */
    double wall_s;
    char note[256];     /* what was not measured and why ("" when all was) */
    int stop_requested; /* the stop flag cut the decode phase short */
};
void ia_bench_result_free(struct ia_bench_result *r);

/* Runs one configuration: a session with c->threads, inputs at (batch,
 * seq), the first inference timed on its own, then the scenario's loop,
 * statistics, peak memory and, for decoders in single-stream, prefill
 * (TTFT) and decode (TPOT with the prefill's present fed back as past)
 * timings. Precisions other than fp32: IA_EUNSUPPORTED. */
int ia_bench_run_config(struct ia_bench_model *bm, const struct ia_bench_config *c,
                        const struct ia_bench_opts *o, struct ia_bench_result *out);

/* For outside timing checks (tests/e2e/bench_timing.sh): sets up the
 * configuration as ia_bench_run_config does, runs the first inference, then
 * n more ia_session_run calls untimed, and measures nothing. */
int ia_bench_run_repeat(struct ia_bench_model *bm, const struct ia_bench_config *c,
                        const struct ia_bench_opts *o, long n);

/* Database rows for a model (its estimated cost at batch 1 and ref_seq)
 * and a finished configuration. */
int ia_bench_record_model(struct ia_db *db, const struct ia_bench_model *bm, int ref_seq,
                          int64_t *model_id);
int ia_bench_record_result(struct ia_db *db, int64_t run_id, int64_t model_id,
                           const char *hw_fingerprint, struct ia_bench_result *r,
                           int64_t *result_id);

#ifdef __cplusplus
}
#endif
#endif
