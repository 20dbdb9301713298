/* The SQLite backend of include/ia/db.h: one file, WAL mode, foreign keys
 * on, writers wait IA_DB_BUSY_TIMEOUT_MS for each other. Write
 * transactions start IMMEDIATE so the wait happens at BEGIN, where the busy
 * handler applies, rather than as an unretryable upgrade failure later.
 * Schema and migrations: sqlite_schema.c. */
#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "db/db_internal.h"
#include "ia/core.h"

struct sq {
    sqlite3 *h;
    char *path;
    int migrated_from;
};

static int err(struct sq *s, int rc, const char *what) {
    return ia_db_sqlite_error(s->h, rc, s->path, what);
}

static int exec(struct sq *s, const char *sql, const char *what) {
    int rc = sqlite3_exec(s->h, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? IA_OK : err(s, rc, what);
}

/* Setting the journal mode takes an exclusive lock for a moment; when two
 * processes create the file at once the loser is told BUSY without the
 * busy handler being asked, so retry it here for as long as the handler
 * would wait. */
static int exec_retry(struct sq *s, const char *sql, const char *what) {
    double deadline = ia_time_now() + IA_DB_BUSY_TIMEOUT_MS / 1000.0;
    for (;;) {
        int rc = sqlite3_exec(s->h, sql, NULL, NULL, NULL);
        if (rc == SQLITE_OK) return IA_OK;
        if ((rc & 0xff) != SQLITE_BUSY || ia_time_now() > deadline) return err(s, rc, what);
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

static int prepare(struct sq *s, const char *sql, sqlite3_stmt **st) {
    int rc = sqlite3_prepare_v2(s->h, sql, -1, st, NULL);
    return rc == SQLITE_OK ? IA_OK : err(s, rc, "preparing a query");
}

static void bind_text(sqlite3_stmt *st, int i, const char *v) {
    if (v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}
static void bind_i64(sqlite3_stmt *st, int i, int64_t v) {
    if (v >= 0)
        sqlite3_bind_int64(st, i, v);
    else
        sqlite3_bind_null(st, i);
}
static void bind_dbl(sqlite3_stmt *st, int i, double v) {
    if (isfinite(v))
        sqlite3_bind_double(st, i, v);
    else
        sqlite3_bind_null(st, i);
}

static int64_t col_i64(sqlite3_stmt *st, int i) {
    return sqlite3_column_type(st, i) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, i);
}
static double col_dbl(sqlite3_stmt *st, int i) {
    return sqlite3_column_type(st, i) == SQLITE_NULL ? NAN : sqlite3_column_double(st, i);
}
static const char *col_str(sqlite3_stmt *st, int i, struct ia_db_strpool *p, int *failed) {
    return ia_db_strpool_add(p, (const char *)sqlite3_column_text(st, i), failed);
}

/* The row loops of the queries below grow their arrays by doubling, starting
 * at `first` rows. Returns the reallocated array with *cap updated, or NULL
 * (rows untouched and still the caller's) on overflow or out of memory. */
static void *grow_rows(void *rows, size_t elem, size_t *cap, size_t first) {
    size_t ncap = *cap ? *cap * 2 : first, bytes;
    void *p = ia_mul_size(ncap, elem, &bytes) ? NULL : ia_realloc(rows, bytes);
    if (p) *cap = ncap;
    return p;
}

/* Ends a row loop: finalizes st and turns the loop's outcome (allocation
 * failure, or the last sqlite3_step code) into a status; `what` reads like
 * "reading results". */
static int finish_rows(struct sq *s, sqlite3_stmt *st, int failed, int src, const char *what) {
    int rc = IA_OK;
    if (failed)
        rc = ia_error_set(IA_ENOMEM, "%s: out of memory %s", s->path, what);
    else if (src != SQLITE_DONE)
        rc = err(s, src, what);
    sqlite3_finalize(st);
    return rc;
}

/* Runs a prepared statement that returns no rows, then finalizes it. */
static int step_done(struct sq *s, sqlite3_stmt *st, const char *what) {
    int rc = sqlite3_step(st);
    int out = rc == SQLITE_DONE ? IA_OK : err(s, rc, what);
    sqlite3_finalize(st);
    return out;
}

/* ---- open / close / transactions ---------------------------------------- */

static void sq_close(void *impl) {
    struct sq *s = impl;
    if (!s) return;
    if (s->h && !sqlite3_get_autocommit(s->h)) sqlite3_exec(s->h, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close_v2(s->h);
    ia_free(s->path);
    ia_free(s);
}

static int sq_open(const char *path, int flags, void **impl) {
    *impl = NULL;
    struct stat sb;
    if (stat(path, &sb) != 0) {
        if (errno != ENOENT) return ia_error_set(IA_EIO, "%s: %s", path, strerror(errno));
        if (flags & IA_DB_OPEN_EXISTING)
            return ia_error_set(IA_ENOTFOUND, "%s: no such results database", path);
    } else if (!S_ISREG(sb.st_mode)) {
        return ia_error_set(IA_EINVAL, "%s: not a regular file", path);
    }
    struct sq *s = ia_calloc(1, sizeof *s);
    if (!s || !(s->path = ia_strdup(path))) {
        ia_free(s);
        return ia_error_set(IA_ENOMEM, "out of memory");
    }
    int oflags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX |
                 ((flags & IA_DB_OPEN_EXISTING) ? 0 : SQLITE_OPEN_CREATE);
    int src = sqlite3_open_v2(path, &s->h, oflags, NULL);
    int rc = src == SQLITE_OK ? IA_OK : err(s, src, "opening");
    if (rc == IA_OK) {
        sqlite3_extended_result_codes(s->h, 1);
        sqlite3_busy_timeout(s->h, IA_DB_BUSY_TIMEOUT_MS);
        rc = exec(s, "PRAGMA foreign_keys = ON", "enabling foreign keys");
    }
    /* The first statement that reads the file: a file that is not a
     * database fails here, with its name in the message. */
    if (rc == IA_OK) rc = exec_retry(s, "PRAGMA journal_mode = WAL", "switching to WAL mode");
    if (rc == IA_OK) rc = exec(s, "PRAGMA synchronous = NORMAL", "setting synchronous");
    if (rc == IA_OK)
        rc = ia_db_sqlite_migrate(s->h, s->path, ia_db_sqlite_migrations, ia_db_sqlite_n_migrations,
                                  &s->migrated_from);
    if (rc != IA_OK) {
        sq_close(s);
        return rc;
    }
    *impl = s;
    return IA_OK;
}

static int sq_begin(void *impl) { return exec(impl, "BEGIN IMMEDIATE", "starting a transaction"); }
static int sq_commit(void *impl) { return exec(impl, "COMMIT", "committing"); }
static int sq_rollback(void *impl) { return exec(impl, "ROLLBACK", "rolling back"); }

/* ---- writes -------------------------------------------------------------- */

static int sq_upsert_hardware(void *impl, const char *fingerprint, const char *short_id,
                              const char *report_json, const char *now) {
    struct sq *s = impl;
    sqlite3_stmt *st;
    int rc = prepare(s,
                     "INSERT INTO hardware (fingerprint, short_id, report_json, first_seen, "
                     "last_seen) VALUES (?1, ?2, ?3, ?4, ?4) ON CONFLICT (fingerprint) DO UPDATE "
                     "SET short_id = excluded.short_id, report_json = excluded.report_json, "
                     "last_seen = excluded.last_seen",
                     &st);
    if (rc != IA_OK) return rc;
    bind_text(st, 1, fingerprint);
    bind_text(st, 2, short_id);
    bind_text(st, 3, report_json);
    bind_text(st, 4, now);
    return step_done(s, st, "storing hardware");
}

static int sq_upsert_model(void *impl, const struct ia_db_model *m, int64_t *id) {
    struct sq *s = impl;
    /* The CID names the bytes; without one, name and path are all we have. */
    size_t cap =
        16 + strlen(m->name) + (m->path ? strlen(m->path) : 0) + (m->cid ? strlen(m->cid) : 0);
    char *key = ia_malloc(cap);
    if (!key) return ia_error_set(IA_ENOMEM, "out of memory");
    if (m->cid)
        snprintf(key, cap, "cid:%s", m->cid);
    else
        snprintf(key, cap, "name:%s\npath:%s", m->name, m->path ? m->path : "");
    char now[32];
    ia_db_timestamp_now(now);
    sqlite3_stmt *st;
    int rc = prepare(
        s,
        "INSERT INTO models (model_key, cid, name, path, family, n_params, flops_estimated, "
        "bytes_moved_estimated, weight_bytes, synthetic, converted, provenance_json, first_seen) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13) "
        "ON CONFLICT (model_key) DO UPDATE SET name = excluded.name, path = excluded.path, "
        "family = excluded.family, n_params = excluded.n_params, "
        "flops_estimated = excluded.flops_estimated, "
        "bytes_moved_estimated = excluded.bytes_moved_estimated, "
        "weight_bytes = excluded.weight_bytes, synthetic = excluded.synthetic, "
        "converted = excluded.converted, provenance_json = excluded.provenance_json "
        "RETURNING id",
        &st);
    if (rc == IA_OK) {
        bind_text(st, 1, key);
        bind_text(st, 2, m->cid);
        bind_text(st, 3, m->name);
        bind_text(st, 4, m->path);
        bind_text(st, 5, m->family);
        bind_i64(st, 6, m->n_params);
        bind_i64(st, 7, m->flops_estimated);
        bind_i64(st, 8, m->bytes_moved_estimated);
        bind_i64(st, 9, m->weight_bytes);
        sqlite3_bind_int(st, 10, m->synthetic != 0);
        sqlite3_bind_int(st, 11, m->converted != 0);
        bind_text(st, 12, m->provenance_json);
        bind_text(st, 13, now);
        int src = sqlite3_step(st);
        if (src == SQLITE_ROW) {
            *id = sqlite3_column_int64(st, 0);
            src = sqlite3_step(st);
        }
        if (src != SQLITE_DONE) rc = err(s, src, "storing a model");
        sqlite3_finalize(st);
    }
    ia_free(key);
    return rc;
}

static int sq_insert_run(void *impl, const struct ia_db_run *r, int64_t *id) {
    struct sq *s = impl;
    sqlite3_stmt *st;
    int rc = prepare(s,
                     "INSERT INTO runs (started_at, command_line, version, git_commit, host_name, "
                     "hw_fingerprint) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                     &st);
    if (rc != IA_OK) return rc;
    bind_text(st, 1, r->started_at);
    bind_text(st, 2, r->command_line);
    bind_text(st, 3, r->version);
    bind_text(st, 4, r->git_commit);
    bind_text(st, 5, r->host_name);
    bind_text(st, 6, r->hw_fingerprint);
    rc = step_done(s, st, "storing a run");
    if (rc == IA_OK) *id = sqlite3_last_insert_rowid(s->h);
    return rc;
}

static int sq_finish_run(void *impl, int64_t run_id, const char *status, const char *ended_at) {
    struct sq *s = impl;
    sqlite3_stmt *st;
    int rc = prepare(s, "UPDATE runs SET status = ?1, ended_at = ?2 WHERE id = ?3", &st);
    if (rc != IA_OK) return rc;
    bind_text(st, 1, status);
    bind_text(st, 2, ended_at);
    sqlite3_bind_int64(st, 3, run_id);
    rc = step_done(s, st, "finishing a run");
    if (rc == IA_OK && sqlite3_changes(s->h) == 0)
        rc = ia_error_set(IA_ENOTFOUND, "%s: no run %lld", s->path, (long long)run_id);
    return rc;
}

static int insert_result_row(struct sq *s, const struct ia_db_result *r, const char *created_at,
                             int64_t *id) {
    sqlite3_stmt *st;
    int rc = prepare(
        s,
        "INSERT INTO results (run_id, model_id, hw_fingerprint, scenario, batch, seq_len, "
        "threads, precision, warmup, iterations, mean_ms, stddev_ms, cv, min_ms, p50_ms, p90_ms, "
        "p99_ms, max_ms, throughput_per_s, n_outliers, unstable, peak_rss_bytes, arena_bytes, "
        "load_ms, first_inference_ms, flops_estimated, ttft_ms, tpot_ms, tokens_per_s, "
        "target_qps, achieved_qps, is_predicted, prediction_method, created_at) VALUES "
        "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, "
        "?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31, ?32, ?33, ?34)",
        &st);
    if (rc != IA_OK) return rc;
    int i = 1;
    sqlite3_bind_int64(st, i++, r->run_id);
    sqlite3_bind_int64(st, i++, r->model_id);
    bind_text(st, i++, r->hw_fingerprint);
    bind_text(st, i++, r->scenario);
    sqlite3_bind_int(st, i++, r->batch);
    bind_i64(st, i++, r->seq_len);
    sqlite3_bind_int(st, i++, r->threads);
    bind_text(st, i++, r->precision);
    sqlite3_bind_int(st, i++, r->warmup);
    sqlite3_bind_int(st, i++, r->iterations);
    const double stats[] = {r->mean_ms, r->stddev_ms, r->cv,     r->min_ms,          r->p50_ms,
                            r->p90_ms,  r->p99_ms,    r->max_ms, r->throughput_per_s};
    for (size_t k = 0; k < sizeof stats / sizeof stats[0]; k++) bind_dbl(st, i++, stats[k]);
    bind_i64(st, i++, r->n_outliers);
    sqlite3_bind_int(st, i++, r->unstable != 0);
    bind_i64(st, i++, r->peak_rss_bytes);
    bind_i64(st, i++, r->arena_bytes);
    bind_dbl(st, i++, r->load_ms);
    bind_dbl(st, i++, r->first_inference_ms);
    bind_i64(st, i++, r->flops_estimated);
    bind_dbl(st, i++, r->ttft_ms);
    bind_dbl(st, i++, r->tpot_ms);
    bind_dbl(st, i++, r->tokens_per_s);
    bind_dbl(st, i++, r->target_qps);
    bind_dbl(st, i++, r->achieved_qps);
    sqlite3_bind_int(st, i++, r->is_predicted != 0);
    bind_text(st, i++, r->prediction_method);
    bind_text(st, i++, created_at);
    IA_ASSERT(i == 35);
    rc = step_done(s, st, "storing a result");
    if (rc == IA_OK) *id = sqlite3_last_insert_rowid(s->h);
    return rc;
}

static int sq_insert_result(void *impl, const struct ia_db_result *r, const char *created_at,
                            const double *timings_ms, const uint8_t *is_outlier, size_t n,
                            int64_t *id) {
    struct sq *s = impl;
    int own = sqlite3_get_autocommit(s->h) != 0;
    int rc = own ? sq_begin(s) : IA_OK;
    int64_t rid = 0;
    if (rc == IA_OK) rc = insert_result_row(s, r, created_at, &rid);
    sqlite3_stmt *st = NULL;
    if (rc == IA_OK && n > 0)
        rc = prepare(s,
                     "INSERT INTO timings (result_id, iteration, ms, is_outlier) "
                     "VALUES (?1, ?2, ?3, ?4)",
                     &st);
    for (size_t k = 0; rc == IA_OK && k < n; k++) {
        sqlite3_bind_int64(st, 1, rid);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)k);
        sqlite3_bind_double(st, 3, timings_ms[k]);
        sqlite3_bind_int(st, 4, is_outlier ? is_outlier[k] != 0 : 0);
        int src = sqlite3_step(st);
        if (src != SQLITE_DONE) rc = err(s, src, "storing timings");
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    if (rc == IA_OK && own) rc = sq_commit(s);
    if (rc != IA_OK && own && !sqlite3_get_autocommit(s->h))
        sqlite3_exec(s->h, "ROLLBACK", NULL, NULL, NULL);
    if (rc == IA_OK) *id = rid;
    return rc;
}

/* ---- reads --------------------------------------------------------------- */

static int sq_query_results(void *impl, const struct ia_db_filter *f,
                            struct ia_db_result_list *out) {
    struct sq *s = impl;
    sqlite3_stmt *st;
    int rc = prepare(
        s,
        "SELECT r.id, r.run_id, r.model_id, r.hw_fingerprint, r.scenario, r.batch, r.seq_len, "
        "r.threads, r.precision, r.warmup, r.iterations, r.mean_ms, r.stddev_ms, r.cv, r.min_ms, "
        "r.p50_ms, r.p90_ms, r.p99_ms, r.max_ms, r.throughput_per_s, r.n_outliers, r.unstable, "
        "r.peak_rss_bytes, r.arena_bytes, r.load_ms, r.first_inference_ms, r.flops_estimated, "
        "r.ttft_ms, r.tpot_ms, r.tokens_per_s, r.target_qps, r.achieved_qps, r.is_predicted, "
        "r.prediction_method, r.created_at, m.name, m.cid, m.family, m.synthetic, h.short_id, "
        "u.started_at, u.git_commit "
        "FROM results r JOIN models m ON m.id = r.model_id "
        "JOIN hardware h ON h.fingerprint = r.hw_fingerprint JOIN runs u ON u.id = r.run_id "
        "WHERE (?1 = 0 OR r.run_id = ?1) AND (?2 IS NULL OR m.name = ?2) "
        "AND (?3 IS NULL OR r.hw_fingerprint = ?3) AND (?4 = 0 OR r.is_predicted = 0) "
        "ORDER BY r.created_at, r.id",
        &st);
    if (rc != IA_OK) return rc;
    sqlite3_bind_int64(st, 1, f->run_id);
    bind_text(st, 2, f->model_name);
    bind_text(st, 3, f->hw_fingerprint);
    sqlite3_bind_int(st, 4, f->measured_only != 0);

    struct ia_db_strpool *pool = ia_db_strpool_create();
    size_t cap = 0;
    int failed = !pool, src = SQLITE_DONE;
    while (!failed && (src = sqlite3_step(st)) == SQLITE_ROW) {
        if (out->n == cap) {
            void *p = grow_rows(out->rows, sizeof *out->rows, &cap, 64);
            if (!p) {
                failed = 1;
                break;
            }
            out->rows = p;
        }
        struct ia_db_result_row *row = &out->rows[out->n++];
        memset(row, 0, sizeof *row);
        struct ia_db_result *r = &row->r;
        int c = 0;
        row->id = sqlite3_column_int64(st, c++);
        r->run_id = sqlite3_column_int64(st, c++);
        r->model_id = sqlite3_column_int64(st, c++);
        r->hw_fingerprint = col_str(st, c++, pool, &failed);
        r->scenario = col_str(st, c++, pool, &failed);
        r->batch = sqlite3_column_int(st, c++);
        r->seq_len = (int)col_i64(st, c++);
        r->threads = sqlite3_column_int(st, c++);
        r->precision = col_str(st, c++, pool, &failed);
        r->warmup = sqlite3_column_int(st, c++);
        r->iterations = sqlite3_column_int(st, c++);
        double *d[] = {&r->mean_ms, &r->stddev_ms, &r->cv,     &r->min_ms,          &r->p50_ms,
                       &r->p90_ms,  &r->p99_ms,    &r->max_ms, &r->throughput_per_s};
        for (size_t k = 0; k < sizeof d / sizeof d[0]; k++) *d[k] = col_dbl(st, c++);
        r->n_outliers = (int)col_i64(st, c++);
        r->unstable = sqlite3_column_int(st, c++);
        r->peak_rss_bytes = col_i64(st, c++);
        r->arena_bytes = col_i64(st, c++);
        r->load_ms = col_dbl(st, c++);
        r->first_inference_ms = col_dbl(st, c++);
        r->flops_estimated = col_i64(st, c++);
        r->ttft_ms = col_dbl(st, c++);
        r->tpot_ms = col_dbl(st, c++);
        r->tokens_per_s = col_dbl(st, c++);
        r->target_qps = col_dbl(st, c++);
        r->achieved_qps = col_dbl(st, c++);
        r->is_predicted = sqlite3_column_int(st, c++);
        r->prediction_method = col_str(st, c++, pool, &failed);
        row->created_at = col_str(st, c++, pool, &failed);
        row->model_name = col_str(st, c++, pool, &failed);
        row->model_cid = col_str(st, c++, pool, &failed);
        row->model_family = col_str(st, c++, pool, &failed);
        row->model_synthetic = sqlite3_column_int(st, c++);
        row->hw_short_id = col_str(st, c++, pool, &failed);
        row->run_started_at = col_str(st, c++, pool, &failed);
        row->run_git_commit = col_str(st, c++, pool, &failed);
    }
    out->priv = pool;
    return finish_rows(s, st, failed, src, "reading results");
}

static int sq_query_hardware(void *impl, struct ia_db_hardware_list *out) {
    struct sq *s = impl;
    sqlite3_stmt *st;
    int rc = prepare(s,
                     "SELECT fingerprint, short_id, report_json, first_seen, last_seen "
                     "FROM hardware ORDER BY first_seen, fingerprint",
                     &st);
    if (rc != IA_OK) return rc;
    struct ia_db_strpool *pool = ia_db_strpool_create();
    size_t cap = 0;
    int failed = !pool, src = SQLITE_DONE;
    while (!failed && (src = sqlite3_step(st)) == SQLITE_ROW) {
        if (out->n == cap) {
            void *p = grow_rows(out->rows, sizeof *out->rows, &cap, 16);
            if (!p) {
                failed = 1;
                break;
            }
            out->rows = p;
        }
        struct ia_db_hardware_row *row = &out->rows[out->n++];
        row->fingerprint = col_str(st, 0, pool, &failed);
        row->short_id = col_str(st, 1, pool, &failed);
        row->report_json = col_str(st, 2, pool, &failed);
        row->first_seen = col_str(st, 3, pool, &failed);
        row->last_seen = col_str(st, 4, pool, &failed);
    }
    out->priv = pool;
    return finish_rows(s, st, failed, src, "reading hardware");
}

static int sq_query_timings(void *impl, int64_t result_id, double **ms, uint8_t **is_outlier,
                            size_t *n) {
    struct sq *s = impl;
    sqlite3_stmt *st;
    int rc = prepare(
        s, "SELECT ms, is_outlier FROM timings WHERE result_id = ?1 ORDER BY iteration", &st);
    if (rc != IA_OK) return rc;
    sqlite3_bind_int64(st, 1, result_id);
    size_t cap = 0, count = 0;
    double *v = NULL;
    uint8_t *o = NULL;
    int src = SQLITE_DONE;
    while (rc == IA_OK && (src = sqlite3_step(st)) == SQLITE_ROW) {
        if (count == cap) {
            size_t ncap = cap ? cap * 2 : 256;
            double *nv = ia_realloc(v, ncap * sizeof *v);
            if (nv) v = nv;
            uint8_t *no = nv ? ia_realloc(o, ncap) : NULL;
            if (no) o = no;
            if (!nv || !no) {
                rc = ia_error_set(IA_ENOMEM, "%s: out of memory reading timings", s->path);
                break;
            }
            cap = ncap;
        }
        v[count] = sqlite3_column_double(st, 0);
        o[count] = (uint8_t)(sqlite3_column_int(st, 1) != 0);
        count++;
    }
    if (rc == IA_OK && src != SQLITE_DONE) rc = err(s, src, "reading timings");
    sqlite3_finalize(st);
    if (rc != IA_OK) {
        ia_free(v);
        ia_free(o);
        return rc;
    }
    *ms = v;
    *is_outlier = o;
    *n = count;
    return IA_OK;
}

static int count_rows(struct sq *s, const char *sql, int64_t *out) {
    sqlite3_stmt *st;
    int rc = prepare(s, sql, &st);
    if (rc != IA_OK) return rc;
    int src = sqlite3_step(st);
    if (src == SQLITE_ROW)
        *out = sqlite3_column_int64(st, 0);
    else
        rc = err(s, src, "counting rows");
    sqlite3_finalize(st);
    return rc;
}

static int sq_info(void *impl, struct ia_db_info *out) {
    struct sq *s = impl;
    int64_t v = 0;
    int rc = count_rows(s, "PRAGMA user_version", &v);
    out->schema_version = (int)v;
    out->migrated_from = s->migrated_from;
    if (rc == IA_OK) rc = count_rows(s, "SELECT count(*) FROM hardware", &out->n_hardware);
    if (rc == IA_OK) rc = count_rows(s, "SELECT count(*) FROM models", &out->n_models);
    if (rc == IA_OK) rc = count_rows(s, "SELECT count(*) FROM runs", &out->n_runs);
    if (rc == IA_OK) rc = count_rows(s, "SELECT count(*) FROM results", &out->n_results);
    if (rc == IA_OK)
        rc =
            count_rows(s, "SELECT count(*) FROM results WHERE is_predicted = 1", &out->n_predicted);
    if (rc == IA_OK) rc = count_rows(s, "SELECT count(*) FROM timings", &out->n_timings);
    return rc;
}

const struct ia_db_backend ia_db_backend_sqlite = {
    .name = "sqlite",
    .open = sq_open,
    .close = sq_close,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .upsert_hardware = sq_upsert_hardware,
    .upsert_model = sq_upsert_model,
    .insert_run = sq_insert_run,
    .finish_run = sq_finish_run,
    .insert_result = sq_insert_result,
    .query_results = sq_query_results,
    .query_hardware = sq_query_hardware,
    .query_timings = sq_query_timings,
    .info = sq_info,
};
