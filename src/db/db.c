/* The ia_db_* entry points: check arguments, fill defaults, dispatch to
 * the backend. Backends can then trust what they are handed. */
#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "db/db_internal.h"
#include "ia/core.h"

#ifndef IA_GIT_COMMIT
#define IA_GIT_COMMIT "unknown"
#endif

/* ---- string pool ---------------------------------------------------------- */

/* Chunks of at least POOL_CHUNK bytes; a longer string gets a chunk of its own. */
#define POOL_CHUNK 16384

struct pool_chunk {
    struct pool_chunk *next;
    size_t used, cap;
    char data[];
};
struct ia_db_strpool {
    struct pool_chunk *head;
};

struct ia_db_strpool *ia_db_strpool_create(void) {
    return ia_calloc(1, sizeof(struct ia_db_strpool));
}

const char *ia_db_strpool_add(struct ia_db_strpool *p, const char *s, int *failed) {
    if (!s) return NULL;
    size_t len = strlen(s) + 1;
    struct pool_chunk *c = p->head;
    if (!c || c->cap - c->used < len) {
        size_t cap = len > POOL_CHUNK ? len : POOL_CHUNK;
        c = ia_malloc(sizeof *c + cap);
        if (!c) {
            *failed = 1;
            return NULL;
        }
        c->used = 0;
        c->cap = cap;
        c->next = p->head;
        p->head = c;
    }
    char *dst = c->data + c->used;
    memcpy(dst, s, len);
    c->used += len;
    return dst;
}

void ia_db_strpool_destroy(struct ia_db_strpool *p) {
    if (!p) return;
    for (struct pool_chunk *c = p->head, *next; c; c = next) {
        next = c->next;
        ia_free(c);
    }
    ia_free(p);
}

void ia_db_result_list_free(struct ia_db_result_list *l) {
    if (!l) return;
    ia_free(l->rows);
    ia_db_strpool_destroy(l->priv);
    memset(l, 0, sizeof *l);
}

void ia_db_hardware_list_free(struct ia_db_hardware_list *l) {
    if (!l) return;
    ia_free(l->rows);
    ia_db_strpool_destroy(l->priv);
    memset(l, 0, sizeof *l);
}

/* ---- defaults ------------------------------------------------------------- */

void ia_db_timestamp_now(char buf[32]) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char date[24];
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, 32, "%.19s.%03dZ", date, (int)(ts.tv_nsec / 1000000) % 1000);
}

void ia_db_result_init(struct ia_db_result *r) {
    memset(r, 0, sizeof *r);
    r->seq_len = -1;
    r->mean_ms = r->stddev_ms = r->cv = r->min_ms = NAN;
    r->p50_ms = r->p90_ms = r->p99_ms = r->max_ms = r->throughput_per_s = NAN;
    r->n_outliers = -1;
    r->peak_rss_bytes = r->arena_bytes = r->flops_estimated = -1;
    r->load_ms = r->first_inference_ms = NAN;
    r->ttft_ms = r->tpot_ms = r->tokens_per_s = r->target_qps = r->achieved_qps = NAN;
}

void ia_db_model_init(struct ia_db_model *m) {
    memset(m, 0, sizeof *m);
    m->n_params = m->flops_estimated = m->bytes_moved_estimated = m->weight_bytes = -1;
}

int ia_db_default_path(char **out) {
    *out = NULL;
    const char *home = getenv("IA_HOME"), *sub = "";
    if (!home || !*home) {
        home = getenv("HOME");
        sub = "/.ipfs-accelerate";
        if (!home || !*home) return ia_error_set(IA_EINVAL, "neither IA_HOME nor HOME is set");
    }
    size_t cap = strlen(home) + strlen(sub) + sizeof("/" IA_DB_FILE_NAME);
    char *p = ia_malloc(cap);
    if (!p) return ia_error_set(IA_ENOMEM, "out of memory");
    snprintf(p, cap, "%s%s/%s", home, sub, IA_DB_FILE_NAME);
    *out = p;
    return IA_OK;
}

/* mkdir -p of the folder holding `file`. */
static int make_parent(const char *file) {
    char *dir = ia_strdup(file);
    if (!dir) return ia_error_set(IA_ENOMEM, "out of memory");
    char *slash = strrchr(dir, '/');
    int rc = IA_OK;
    if (slash && slash != dir) {
        *slash = '\0';
        for (char *p = dir + 1; rc == IA_OK; p++) {
            int end = *p == '\0';
            if (*p != '/' && !end) continue;
            *p = '\0';
            if (mkdir(dir, 0755) != 0 && errno != EEXIST)
                rc = ia_error_set(IA_EIO, "%s: cannot create folder: %s", dir, strerror(errno));
            if (end) break;
            *p = '/';
        }
    }
    ia_free(dir);
    return rc;
}

/* ---- open / close ----------------------------------------------------------- */

int ia_db_open(const char *location, int flags, struct ia_db **out) {
    *out = NULL;
    char *def = NULL;
    int rc = IA_OK;
    if (!location || !*location) {
        rc = ia_db_default_path(&def);
        if (rc == IA_OK && !(flags & IA_DB_OPEN_EXISTING)) rc = make_parent(def);
        if (rc != IA_OK) {
            ia_free(def);
            return rc;
        }
        location = def;
    }
    struct ia_db *db = ia_calloc(1, sizeof *db);
    if (!db || !(db->location = ia_strdup(location))) {
        ia_free(db);
        ia_free(def);
        return ia_error_set(IA_ENOMEM, "out of memory");
    }
    ia_free(def);
    /* A "postgresql://" location will pick the PostgreSQL backend. */
    if (!strncmp(db->location, "postgres://", 11) || !strncmp(db->location, "postgresql://", 13))
        rc = ia_error_set(IA_EUNSUPPORTED, "%s: PostgreSQL results databases are not built yet",
                          db->location);
    db->backend = &ia_db_backend_sqlite;
    if (rc == IA_OK) rc = db->backend->open(db->location, flags, &db->impl);
    if (rc != IA_OK) {
        ia_free(db->location);
        ia_free(db);
        return rc;
    }
    *out = db;
    return IA_OK;
}

void ia_db_close(struct ia_db *db) {
    if (!db) return;
    db->backend->close(db->impl);
    ia_free(db->location);
    ia_free(db);
}

const char *ia_db_location(const struct ia_db *db) { return db->location; }

int ia_db_begin(struct ia_db *db) { return db->backend->begin(db->impl); }
int ia_db_commit(struct ia_db *db) { return db->backend->commit(db->impl); }
int ia_db_rollback(struct ia_db *db) { return db->backend->rollback(db->impl); }

/* ---- writes ------------------------------------------------------------------ */

static int is_hex64(const char *s) {
    if (!s || strlen(s) != 64) return 0;
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f'))) return 0;
    return 1;
}

int ia_db_upsert_hardware(struct ia_db *db, const struct ia_hw_info *hw) {
    if (!is_hex64(hw->fingerprint))
        return ia_error_set(IA_EINVAL, "%s: hardware fingerprint is not 64 hex digits",
                            db->location);
    json_t *doc = NULL;
    int rc = ia_hw_to_json(hw, &doc);
    if (rc != IA_OK) return rc;
    char *text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(doc);
    if (!text) return ia_error_set(IA_ENOMEM, "out of memory");
    char now[32], short_id[17];
    ia_db_timestamp_now(now);
    memcpy(short_id, hw->fingerprint, 16);
    short_id[16] = '\0';
    rc = db->backend->upsert_hardware(db->impl, hw->fingerprint, short_id, text, now);
    free(text); /* jansson's allocator */
    return rc;
}

int ia_db_upsert_model(struct ia_db *db, const struct ia_db_model *m, int64_t *id) {
    if (!m->name || !*m->name)
        return ia_error_set(IA_EINVAL, "%s: a model needs a name", db->location);
    if (m->cid && !*m->cid)
        return ia_error_set(IA_EINVAL, "%s: model %s: empty CID", db->location, m->name);
    if (m->provenance_json) {
        json_error_t je;
        json_t *j = json_loads(m->provenance_json, JSON_DECODE_ANY, &je);
        if (!j)
            return ia_error_set(IA_EINVAL, "%s: model %s: provenance is not JSON: %s", db->location,
                                m->name, je.text);
        json_decref(j);
    }
    return db->backend->upsert_model(db->impl, m, id);
}

int ia_db_insert_run(struct ia_db *db, const struct ia_db_run *r, int64_t *id) {
    if (!is_hex64(r->hw_fingerprint))
        return ia_error_set(IA_EINVAL, "%s: a run needs the hardware fingerprint", db->location);
    struct ia_db_run full = *r;
    char now[32], host[256];
    if (!full.started_at) {
        ia_db_timestamp_now(now);
        full.started_at = now;
    }
    if (!full.version) full.version = IA_VERSION_STRING;
    if (!full.git_commit) full.git_commit = IA_GIT_COMMIT;
    if (!full.host_name) {
        if (gethostname(host, sizeof host) == 0) {
            host[sizeof host - 1] = '\0';
            full.host_name = host;
        }
    }
    return db->backend->insert_run(db->impl, &full, id);
}

int ia_db_finish_run(struct ia_db *db, int64_t run_id, const char *status, const char *ended_at) {
    if (!status ||
        (strcmp(status, "ok") && strcmp(status, "failed") && strcmp(status, "interrupted")))
        return ia_error_set(IA_EINVAL, "%s: run status must be ok, failed or interrupted",
                            db->location);
    char now[32];
    if (!ended_at) {
        ia_db_timestamp_now(now);
        ended_at = now;
    }
    return db->backend->finish_run(db->impl, run_id, status, ended_at);
}

static int bad_result(struct ia_db *db, const char *why) {
    return ia_error_set(IA_EINVAL, "%s: result not stored: %s", db->location, why);
}

int ia_db_insert_result(struct ia_db *db, const struct ia_db_result *r, const double *timings_ms,
                        const uint8_t *is_outlier, size_t n, int64_t *id) {
    if (!is_hex64(r->hw_fingerprint)) return bad_result(db, "no hardware fingerprint");
    if (!r->scenario || !*r->scenario) return bad_result(db, "no scenario");
    if (!r->precision || !*r->precision) return bad_result(db, "no precision");
    if (r->batch < 1 || r->threads < 1) return bad_result(db, "batch and threads must be >= 1");
    if (r->warmup < 0 || r->iterations < 0) return bad_result(db, "negative iteration count");
    if (r->is_predicted != 0 && r->is_predicted != 1) return bad_result(db, "is_predicted not 0/1");
    if (r->is_predicted && (!r->prediction_method || !*r->prediction_method))
        return bad_result(db, "a predicted result must name its prediction method");
    if (!r->is_predicted && r->prediction_method)
        return bad_result(db, "a measured result has no prediction method");
    if (!r->is_predicted && (n < 1 || n != (size_t)r->iterations))
        return bad_result(db, "a measurement needs its per-iteration timings (n == iterations)");
    if (n > 0 && !timings_ms) return bad_result(db, "timings missing");
    if (!r->is_predicted && !isfinite(r->p50_ms)) return bad_result(db, "no p50");
    for (size_t i = 0; i < n; i++)
        if (!isfinite(timings_ms[i]) || timings_ms[i] < 0) return bad_result(db, "bad timing");
    char now[32];
    ia_db_timestamp_now(now);
    return db->backend->insert_result(db->impl, r, now, timings_ms, is_outlier, n, id);
}

/* ---- reads ------------------------------------------------------------------- */

int ia_db_query_results(struct ia_db *db, const struct ia_db_filter *f,
                        struct ia_db_result_list *out) {
    static const struct ia_db_filter all;
    memset(out, 0, sizeof *out);
    int rc = db->backend->query_results(db->impl, f ? f : &all, out);
    if (rc != IA_OK) ia_db_result_list_free(out);
    return rc;
}

int ia_db_query_hardware(struct ia_db *db, struct ia_db_hardware_list *out) {
    memset(out, 0, sizeof *out);
    int rc = db->backend->query_hardware(db->impl, out);
    if (rc != IA_OK) ia_db_hardware_list_free(out);
    return rc;
}

int ia_db_query_timings(struct ia_db *db, int64_t result_id, double **ms, uint8_t **is_outlier,
                        size_t *n) {
    *ms = NULL;
    *is_outlier = NULL;
    *n = 0;
    return db->backend->query_timings(db->impl, result_id, ms, is_outlier, n);
}

int ia_db_info(struct ia_db *db, struct ia_db_info *out) {
    memset(out, 0, sizeof *out);
    return db->backend->info(db->impl, out);
}
