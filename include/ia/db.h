/*
 * db: the results database. Benchmark runs store what they measured here;
 * reports, predictions and the dashboard read it back.
 *
 * A storage backend is a table of functions (struct ia_db_backend), like
 * the engine's backends: SQLite now (one file, default $IA_HOME/results.db),
 * PostgreSQL later for a team. Callers use the ia_db_* functions, which
 * check arguments, fill defaults (timestamps, version, git commit, host
 * name) and dispatch to the backend, so a backend only stores and loads.
 *
 * What is stored (the SQLite schema is in src/db/sqlite_schema.c):
 *   hardware  one row per hardware fingerprint (include/ia/hw.h) with the
 *             `hw --json` document of the machine
 *   models    what was run: CID, name, path, family, parameter count, FLOPs
 *             and bytes moved per inference *estimated* from the graph by
 *             the runner, weight bytes, synthetic / converted flags, provenance
 *   runs      one `bench` invocation: times, command line, version, git
 *             commit, host, hardware
 *   results   one row per configuration measured (or predicted) in a run,
 *             with the statistics of include/ia/bench.h
 *   timings   the raw per-iteration times of each result, outliers flagged
 *
 * Nothing invented: a result is either measured (is_predicted = 0) or a
 * prediction that names its method (is_predicted = 1, prediction_method
 * set); readers must never mix the two.
 *
 * Durability: every result goes in with its timings in one transaction of
 * its own (unless the caller has opened one with ia_db_begin), so a run
 * killed at any moment leaves a readable database holding every result
 * that was finished. SQLite runs in WAL mode with synchronous=NORMAL: a
 * committed row survives the process being killed; a power cut may lose
 * the last few commits. Several processes may write at once (each waits
 * up to IA_DB_BUSY_TIMEOUT_MS for the others' locks).
 *
 * Unknown values: integers < 0 and doubles that are NaN are stored as NULL
 * and read back the same way; const char * NULL is NULL.
 *
 * Handles are not thread-safe: one struct ia_db per thread.
 */
#ifndef IA_DB_H
#define IA_DB_H

#include <stddef.h>
#include <stdint.h>

#include "ia/hw.h"

#ifdef __cplusplus
extern "C" {
#endif

#define IA_DB_SCHEMA_VERSION 1       /* the schema this build writes */
#define IA_DB_BUSY_TIMEOUT_MS 10000  /* how long a writer waits for another */
#define IA_DB_FILE_NAME "results.db" /* in $IA_HOME */

/* ---- rows --------------------------------------------------------------- */

/* The string fields of the input structs are borrowed for the call only. */

struct ia_db_model {
    const char *cid;               /* of the model file; NULL when not known */
    const char *name;              /* required: "bert-tiny", "zoo:gpt2-small" */
    const char *path;              /* as given on the command line, or NULL */
    const char *family;            /* "bert", "gpt2", ... or NULL */
    int64_t n_params;              /* -1 unknown */
    int64_t flops_estimated;       /* per inference at the model's reference shapes; -1 unknown */
    int64_t bytes_moved_estimated; /* likewise */
    int64_t weight_bytes;          /* -1 unknown */
    int synthetic;                 /* built by the zoo with random weights */
    int converted;                 /* converted from another format (HF safetensors) */
    const char *provenance_json;   /* a JSON document, or NULL */
};

struct ia_db_run {
    const char *started_at;     /* ISO 8601 UTC; NULL = now */
    const char *command_line;   /* may be NULL */
    const char *version;        /* NULL = IA_VERSION_STRING */
    const char *git_commit;     /* NULL = the commit this library was built from */
    const char *host_name;      /* NULL = gethostname() */
    const char *hw_fingerprint; /* required; ia_db_upsert_hardware first */
};

/* One configuration's result. Doubles are milliseconds unless named
 * otherwise; NaN = not measured / not applicable. */
struct ia_db_result {
    int64_t run_id, model_id;
    const char *hw_fingerprint; /* required */
    const char *scenario;       /* "single-stream", "offline", "server" */
    int batch;                  /* >= 1 */
    int seq_len;                /* -1 when the model has no sequence axis */
    int threads;                /* >= 1 */
    const char *precision;      /* "fp32", ... */
    int warmup, iterations;     /* iterations = number of timings */
    double mean_ms, stddev_ms, cv, min_ms, p50_ms, p90_ms, p99_ms, max_ms;
    double throughput_per_s; /* inferences (batch items) per second */
    int n_outliers;
    int unstable;
    int64_t peak_rss_bytes, arena_bytes; /* -1 unknown */
    double load_ms, first_inference_ms;
    int64_t flops_estimated; /* per inference at this configuration's shapes; -1 unknown */
    double ttft_ms, tpot_ms, tokens_per_s; /* decoders; NaN otherwise */
    double target_qps, achieved_qps;       /* server scenario; NaN otherwise */
    int is_predicted;                      /* 0 measured, 1 predicted */
    const char *prediction_method;         /* required when is_predicted */
};

/* Sets every "unknown" field of r to its unknown value (-1 / NaN / NULL)
 * and the rest to 0, so callers fill only what they have. */
void ia_db_result_init(struct ia_db_result *r);
void ia_db_model_init(struct ia_db_model *m);

/* A result as read back, with what the report needs from the joined rows.
 * All strings are owned by the list that holds the row. */
struct ia_db_result_row {
    int64_t id;
    struct ia_db_result r; /* its strings point into the list */
    const char *created_at;
    const char *model_name, *model_cid, *model_family; /* cid/family may be NULL */
    int model_synthetic;
    const char *hw_short_id;
    const char *run_started_at;
    const char *run_git_commit; /* may be NULL */
};

struct ia_db_result_list {
    size_t n;
    struct ia_db_result_row *rows; /* ordered by created_at, then id */
    void *priv;                    /* backend-owned storage; ia_db_result_list_free */
};
void ia_db_result_list_free(struct ia_db_result_list *l);

struct ia_db_hardware_row {
    const char *fingerprint, *short_id, *report_json, *first_seen, *last_seen;
};
struct ia_db_hardware_list {
    size_t n;
    struct ia_db_hardware_row *rows; /* ordered by first_seen */
    void *priv;
};
void ia_db_hardware_list_free(struct ia_db_hardware_list *l);

/* Which results a query returns; zero-initialised = all. */
struct ia_db_filter {
    int64_t run_id;             /* 0 = any */
    const char *model_name;     /* NULL = any */
    const char *hw_fingerprint; /* NULL = any */
    int measured_only;          /* leave out predicted rows */
};

struct ia_db_info {
    int schema_version; /* now */
    int migrated_from;  /* the version found when this handle opened it */
    int64_t n_hardware, n_models, n_runs, n_results, n_predicted, n_timings;
};

/* ---- backend table -------------------------------------------------------- */

/* A storage backend. `impl` is the backend's own handle. Every function
 * returns IA_OK or a negative code with the message set; ids come back
 * through out-parameters. The ia_db_* wrappers below have already checked
 * the arguments and filled the defaults when these are called. */
struct ia_db_backend {
    const char *name; /* "sqlite" */
    int (*open)(const char *location, int flags, void **impl);
    void (*close)(void *impl);
    int (*begin)(void *impl);
    int (*commit)(void *impl);
    int (*rollback)(void *impl);
    int (*upsert_hardware)(void *impl, const char *fingerprint, const char *short_id,
                           const char *report_json, const char *now);
    int (*upsert_model)(void *impl, const struct ia_db_model *m, int64_t *id);
    int (*insert_run)(void *impl, const struct ia_db_run *r, int64_t *id);
    int (*finish_run)(void *impl, int64_t run_id, const char *status, const char *ended_at);
    int (*insert_result)(void *impl, const struct ia_db_result *r, const char *created_at,
                         const double *timings_ms, const uint8_t *is_outlier, size_t n,
                         int64_t *id);
    int (*query_results)(void *impl, const struct ia_db_filter *f, struct ia_db_result_list *out);
    int (*query_hardware)(void *impl, struct ia_db_hardware_list *out);
    /* *ms and *is_outlier are ia_malloc'd (caller frees), ordered by iteration. */
    int (*query_timings)(void *impl, int64_t result_id, double **ms, uint8_t **is_outlier,
                         size_t *n);
    int (*info)(void *impl, struct ia_db_info *out);
};

extern const struct ia_db_backend ia_db_backend_sqlite;

/* ---- API ------------------------------------------------------------------ */

struct ia_db;

enum {
    IA_DB_OPEN_EXISTING = 1, /* fail with IA_ENOTFOUND instead of creating the file */
};

/* $IA_HOME/results.db (IA_HOME default ~/.ipfs-accelerate). *out is
 * ia_malloc'd; the folder is not created here. */
int ia_db_default_path(char **out);

/* Opens (creating unless IA_DB_OPEN_EXISTING) the database at `location`:
 * a file path, or NULL for ia_db_default_path() (whose folder is then
 * created). Brings the schema up to IA_DB_SCHEMA_VERSION. Errors name the
 * file: IA_ENOTFOUND (missing with OPEN_EXISTING), IA_ECORRUPT (not a
 * database, malformed), IA_EFORMAT (an SQLite database that is not ours),
 * IA_EUNSUPPORTED (written by a newer schema), IA_EIO. */
int ia_db_open(const char *location, int flags, struct ia_db **out);
void ia_db_close(struct ia_db *db); /* NULL is fine; rolls back an open transaction */
/* The location it was opened with (valid while db is open). */
const char *ia_db_location(const struct ia_db *db);

/* Groups several writes in one transaction (results are then durable only
 * at ia_db_commit). Not nestable. */
int ia_db_begin(struct ia_db *db);
int ia_db_commit(struct ia_db *db);
int ia_db_rollback(struct ia_db *db);

/* Records the machine (keyed by hw->fingerprint; the JSON document is
 * ia_hw_to_json's). Seen again: keeps first_seen, updates last_seen and the
 * document. */
int ia_db_upsert_hardware(struct ia_db *db, const struct ia_hw_info *hw);
/* Keyed by CID when given, else by (name, path). Seen again: updates the
 * other columns and returns the same id. */
int ia_db_upsert_model(struct ia_db *db, const struct ia_db_model *m, int64_t *id);
int ia_db_insert_run(struct ia_db *db, const struct ia_db_run *r, int64_t *id);
/* status: "ok", "failed" or "interrupted"; ended_at NULL = now. A run that
 * never finishes (killed) keeps status "running" and no ended_at. */
int ia_db_finish_run(struct ia_db *db, int64_t run_id, const char *status, const char *ended_at);
/* Stores r and its n per-iteration timings (is_outlier may be NULL = none
 * flagged) atomically. Measured results need n == r->iterations >= 1;
 * predicted ones may have n == 0. */
int ia_db_insert_result(struct ia_db *db, const struct ia_db_result *r, const double *timings_ms,
                        const uint8_t *is_outlier, size_t n, int64_t *id);

/* f NULL = everything. Free the list with ia_db_result_list_free. */
int ia_db_query_results(struct ia_db *db, const struct ia_db_filter *f,
                        struct ia_db_result_list *out);
int ia_db_query_hardware(struct ia_db *db, struct ia_db_hardware_list *out);
int ia_db_query_timings(struct ia_db *db, int64_t result_id, double **ms, uint8_t **is_outlier,
                        size_t *n);
int ia_db_info(struct ia_db *db, struct ia_db_info *out);

/* "2025-06-01T10:20:30.123Z" for now, into buf[32]. Lexical order is time
 * order, which the queries rely on. */
void ia_db_timestamp_now(char buf[32]);

#ifdef __cplusplus
}
#endif
#endif
