/* The report's data model: measured results grouped by model and machine,
 * then by configuration; the latest and previous measurement of each; the
 * noise test between them; the best configurations. Predicted rows are set
 * aside first so nothing below can mix them in. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ia/core.h"
#include "report/report_internal.h"

const char *rp_verdict_name(enum rp_verdict v) {
    switch (v) {
    case RP_WITHIN_NOISE:
        return "within noise";
    case RP_REGRESSION:
        return "regression";
    case RP_IMPROVEMENT:
        return "improvement";
    default:
        return "no previous run";
    }
}

const char *rp_stability(const struct ia_db_result *r, int markdown) {
    if (r->unstable) return markdown ? "**unstable**" : "unstable";
    /* Not flagged, but with no CV stored nothing says it was stable either. */
    return isfinite(r->cv) ? "stable" : "n/a";
}

void rp_config_label(const struct ia_db_result *r, char *buf, size_t cap) {
    char seq[32] = "";
    if (r->seq_len >= 0) snprintf(seq, sizeof seq, " seq=%d", r->seq_len);
    snprintf(buf, cap, "%s b=%d%s t=%d %s", r->scenario, r->batch, seq, r->threads, r->precision);
}

static int same_config(const struct ia_db_result *a, const struct ia_db_result *b) {
    return a->batch == b->batch && a->seq_len == b->seq_len && a->threads == b->threads &&
           !strcmp(a->scenario, b->scenario) && !strcmp(a->precision, b->precision);
}

static int cmp_config(const void *pa, const void *pb) {
    const struct ia_db_result *a = &((const struct rp_config *)pa)->latest->r;
    const struct ia_db_result *b = &((const struct rp_config *)pb)->latest->r;
    int c = strcmp(a->scenario, b->scenario);
    if (!c) c = strcmp(a->precision, b->precision);
    if (!c) c = (a->seq_len > b->seq_len) - (a->seq_len < b->seq_len);
    if (!c) c = (a->threads > b->threads) - (a->threads < b->threads);
    if (!c) c = (a->batch > b->batch) - (a->batch < b->batch);
    return c;
}

static char *hw_label_from_json(const char *text) {
    char buf[512] = "unknown machine";
    json_error_t je;
    json_t *doc = text ? json_loads(text, 0, &je) : NULL;
    if (doc) {
        const char *model =
            json_string_value(json_object_get(json_object_get(doc, "cpu"), "model"));
        json_int_t cpus =
            json_integer_value(json_object_get(json_object_get(doc, "cpu"), "logical_cpus"));
        json_int_t mem =
            json_integer_value(json_object_get(json_object_get(doc, "memory"), "total_bytes"));
        int n = snprintf(buf, sizeof buf, "%s", model && *model ? model : "unknown CPU");
        if (cpus > 0 && n >= 0 && (size_t)n < sizeof buf)
            n += snprintf(buf + n, sizeof buf - (size_t)n, ", %lld logical CPUs", (long long)cpus);
        if (mem > 0 && n >= 0 && (size_t)n < sizeof buf)
            n += snprintf(buf + n, sizeof buf - (size_t)n, ", %.2f GiB RAM",
                          (double)mem / (double)(1ll << 30));
        json_t *gpus = json_object_get(doc, "gpus");
        for (size_t i = 0; i < json_array_size(gpus) && n >= 0 && (size_t)n < sizeof buf; i++) {
            const char *g = json_string_value(json_object_get(json_array_get(gpus, i), "name"));
            if (g) n += snprintf(buf + n, sizeof buf - (size_t)n, ", GPU %s", g);
        }
        json_decref(doc);
    }
    return ia_strdup(buf);
}

const char *rp_hw_label(const struct rp_report *r, const char *fingerprint) {
    for (size_t i = 0; i < r->hardware.n; i++)
        if (r->hw_labels && r->hw_labels[i] &&
            !strcmp(r->hardware.rows[i].fingerprint, fingerprint))
            return r->hw_labels[i];
    return "unknown machine";
}

/* Appends one element of `size` bytes to *arr (length *n), growing it. */
static void *grow(void **arr, size_t *n, size_t *cap, size_t size) {
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 8, bytes;
        if (ia_mul_size(ncap, size, &bytes)) return NULL;
        void *p = ia_realloc(*arr, bytes);
        if (!p) return NULL;
        *arr = p;
        *cap = ncap;
    }
    char *slot = (char *)*arr + (*n)++ * size;
    memset(slot, 0, size);
    return slot;
}

static void judge(struct rp_config *c, double rel, double sigmas) {
    if (!c->previous) return;
    const struct ia_db_result *a = &c->previous->r, *b = &c->latest->r;
    double sa = isfinite(a->stddev_ms) ? a->stddev_ms : 0,
           sb = isfinite(b->stddev_ms) ? b->stddev_ms : 0;
    c->delta_ms = b->p50_ms - a->p50_ms;
    c->change_rel = a->p50_ms > 0 ? c->delta_ms / a->p50_ms : NAN;
    c->noise_ms = fmax(sigmas * fmax(sa, sb), rel * a->p50_ms);
    c->verdict = c->delta_ms > c->noise_ms    ? RP_REGRESSION
                 : c->delta_ms < -c->noise_ms ? RP_IMPROVEMENT
                                              : RP_WITHIN_NOISE;
}

/* metric: 0 latency (lowest p50), 1 throughput (highest), 2 memory (lowest RSS). */
static struct rp_pick pick(const struct rp_group *g, int metric) {
    struct rp_pick best = {-1, 0};
    for (int pass = 0; pass < 2 && best.index < 0; pass++) {
        for (size_t i = 0; i < g->n_configs; i++) {
            const struct ia_db_result *r = &g->configs[i].latest->r;
            if (pass == 0 && r->unstable) continue;
            double v = metric == 0   ? r->p50_ms
                       : metric == 1 ? r->throughput_per_s
                                     : (r->peak_rss_bytes >= 0 ? (double)r->peak_rss_bytes : NAN);
            if (!isfinite(v)) continue;
            if (best.index >= 0) {
                const struct ia_db_result *o = &g->configs[best.index].latest->r;
                double w = metric == 0   ? o->p50_ms
                           : metric == 1 ? o->throughput_per_s
                                         : (double)o->peak_rss_bytes;
                if (metric == 1 ? !(v > w) : !(v < w)) continue;
            }
            best.index = (int)i;
            best.unstable = pass == 1;
        }
    }
    return best;
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

int rp_build(struct ia_db *db, const struct ia_report_options *opt, struct rp_report *out) {
    memset(out, 0, sizeof *out);
    out->opt = opt;
    out->db_location = ia_db_location(db);
    out->regression_rel = opt->regression_rel > 0 ? opt->regression_rel : 0.05;
    out->regression_sigmas = opt->regression_sigmas > 0 ? opt->regression_sigmas : 2.0;
    if (opt->generated_at)
        snprintf(out->generated_at, sizeof out->generated_at, "%s", opt->generated_at);
    else
        ia_db_timestamp_now(out->generated_at);

    struct ia_db_info info;
    int rc = ia_db_info(db, &info);
    out->schema_version = info.schema_version;
    if (rc == IA_OK) rc = ia_db_query_results(db, NULL, &out->results);
    if (rc == IA_OK) rc = ia_db_query_hardware(db, &out->hardware);
    if (rc != IA_OK) return rc;
    if (out->hardware.n) {
        out->hw_labels = ia_calloc(out->hardware.n, sizeof *out->hw_labels);
        if (!out->hw_labels) return ia_error_set(IA_ENOMEM, "report: out of memory");
        for (size_t i = 0; i < out->hardware.n; i++)
            if (!(out->hw_labels[i] = hw_label_from_json(out->hardware.rows[i].report_json)))
                return ia_error_set(IA_ENOMEM, "report: out of memory");
    }

    const struct ia_db_result_list *l = &out->results;
    size_t n_pred = 0;
    for (size_t i = 0; i < l->n; i++) n_pred += l->rows[i].r.is_predicted != 0;
    if (n_pred) {
        out->predicted = ia_calloc(n_pred, sizeof *out->predicted);
        if (!out->predicted) return ia_error_set(IA_ENOMEM, "report: out of memory");
    }
    int64_t *run_ids = l->n ? ia_calloc(l->n, sizeof *run_ids) : NULL;
    if (l->n && !run_ids) return ia_error_set(IA_ENOMEM, "report: out of memory");

    size_t groups_cap = 0;
    for (size_t i = 0; i < l->n && rc == IA_OK; i++) {
        const struct ia_db_result_row *row = &l->rows[i];
        if (row->r.is_predicted) {
            out->predicted[out->n_predicted++] = row;
            continue;
        }
        run_ids[out->n_measured++] = row->r.run_id;
        struct rp_group *g = NULL;
        for (size_t k = 0; k < out->n_groups && !g; k++)
            if (out->groups[k].first->r.model_id == row->r.model_id &&
                !strcmp(out->groups[k].first->r.hw_fingerprint, row->r.hw_fingerprint))
                g = &out->groups[k];
        if (!g) {
            g = grow((void **)&out->groups, &out->n_groups, &groups_cap, sizeof *g);
            if (!g) {
                rc = ia_error_set(IA_ENOMEM, "report: out of memory");
                break;
            }
            g->first = row;
            g->hw_label = rp_hw_label(out, row->r.hw_fingerprint);
        }
        struct rp_config *c = NULL;
        for (size_t k = 0; k < g->n_configs && !c; k++)
            if (same_config(&g->configs[k].latest->r, &row->r)) c = &g->configs[k];
        if (!c) {
            c = grow((void **)&g->configs, &g->n_configs, &g->cap_configs, sizeof *c);
            if (!c) {
                rc = ia_error_set(IA_ENOMEM, "report: out of memory");
                break;
            }
        } else if (c->latest->r.run_id != row->r.run_id) {
            c->previous = c->latest;
        }
        c->latest = row;
        c->n_measurements++;
        if (isfinite(row->r.ttft_ms) || isfinite(row->r.tpot_ms) || isfinite(row->r.tokens_per_s))
            g->has_decoder = 1;
        if (isfinite(row->r.target_qps) || isfinite(row->r.achieved_qps)) g->has_server = 1;
    }
    if (rc == IA_OK && out->n_measured) {
        qsort(run_ids, out->n_measured, sizeof *run_ids, cmp_i64);
        for (size_t i = 0; i < out->n_measured; i++)
            out->n_runs += i == 0 || run_ids[i] != run_ids[i - 1];
    }
    ia_free(run_ids);
    for (size_t k = 0; rc == IA_OK && k < out->n_groups; k++) {
        struct rp_group *g = &out->groups[k];
        qsort(g->configs, g->n_configs, sizeof *g->configs, cmp_config);
        for (size_t i = 0; i < g->n_configs; i++)
            judge(&g->configs[i], out->regression_rel, out->regression_sigmas);
        g->best_latency = pick(g, 0);
        g->best_throughput = pick(g, 1);
        g->best_memory = pick(g, 2);
        int seen = 0;
        for (size_t j = 0; j < k && !seen; j++)
            seen = !strcmp(out->groups[j].first->r.hw_fingerprint, g->first->r.hw_fingerprint);
        out->n_machines_measured += !seen;
    }
    return rc;
}

void rp_free(struct rp_report *r) {
    for (size_t k = 0; k < r->n_groups; k++) ia_free(r->groups[k].configs);
    ia_free(r->groups);
    ia_free(r->predicted);
    for (size_t i = 0; r->hw_labels && i < r->hardware.n; i++) ia_free(r->hw_labels[i]);
    ia_free(r->hw_labels);
    ia_db_result_list_free(&r->results);
    ia_db_hardware_list_free(&r->hardware);
    memset(r, 0, sizeof *r);
}
