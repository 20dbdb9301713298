/* The report as JSON, for scripts and the dashboard:
 *
 *   {"report":"ipfs-accelerate","report_version":1,"generated_at","database",
 *    "schema_version","ipfs_accelerate_version",
 *    "summary":{"measured_results","runs","groups","machines","predicted_results"},
 *    "machines":[{"fingerprint","short_id","description","first_seen","last_seen",
 *                 "hw":<the stored hw --json document, or null>}],
 *    "groups":[{"model":{"id","name","cid","family","synthetic"},"hw_fingerprint",
 *               "hw_short_id","configurations":[{"scenario","batch","seq_len",
 *               "threads","precision","n_measurements","latest":RESULT,
 *               "previous":RESULT|null,"change":null|{"p50_delta_ms",
 *               "p50_change_rel","noise_ms","verdict"}}],
 *               "recommendations":{"latency"|"throughput"|"memory":
 *                  null|{"configuration":index,"label","unstable"}}}],
 *    "predicted":[RESULT with "model","hw_short_id","prediction_method"],
 *    "regression_rule":{"sigmas","relative"}}
 *
 * RESULT holds every stored metric; unknown ones are null. "verdict" is one
 * of "within noise", "regression", "improvement". */
#include <math.h>
#include <string.h>

#include <jansson.h>

#include "ia/core.h"
#include "report/report_internal.h"

static json_t *num(double v) { return isfinite(v) ? json_real(v) : json_null(); }
static json_t *i64(int64_t v) { return v >= 0 ? json_integer(v) : json_null(); }
static json_t *str(const char *s) { return s ? json_string(s) : json_null(); }

/* Takes ownership of v; any failure (including an earlier NULL) is counted. */
static void put(json_t *o, const char *k, json_t *v, int *failed) {
    if (!o || !v) {
        json_decref(v);
        *failed = 1;
    } else if (json_object_set_new(o, k, v)) {
        *failed = 1;
    }
}
static void append(json_t *a, json_t *v, int *failed) {
    if (!a || !v) {
        json_decref(v);
        *failed = 1;
    } else if (json_array_append_new(a, v)) {
        *failed = 1;
    }
}

/* The fields that tell one benchmark configuration from another. */
static void put_config(json_t *o, const struct ia_db_result *x, int *failed) {
    put(o, "scenario", str(x->scenario), failed);
    put(o, "batch", json_integer(x->batch), failed);
    put(o, "seq_len", i64(x->seq_len), failed);
    put(o, "threads", json_integer(x->threads), failed);
    put(o, "precision", str(x->precision), failed);
}

static json_t *result_json(const struct ia_db_result_row *row, int *failed) {
    const struct ia_db_result *x = &row->r;
    json_t *o = json_object();
    put(o, "id", json_integer(row->id), failed);
    put(o, "run_id", json_integer(x->run_id), failed);
    put(o, "created_at", str(row->created_at), failed);
    put_config(o, x, failed);
    put(o, "warmup", json_integer(x->warmup), failed);
    put(o, "iterations", json_integer(x->iterations), failed);
    put(o, "mean_ms", num(x->mean_ms), failed);
    put(o, "stddev_ms", num(x->stddev_ms), failed);
    put(o, "cv", num(x->cv), failed);
    put(o, "min_ms", num(x->min_ms), failed);
    put(o, "p50_ms", num(x->p50_ms), failed);
    put(o, "p90_ms", num(x->p90_ms), failed);
    put(o, "p99_ms", num(x->p99_ms), failed);
    put(o, "max_ms", num(x->max_ms), failed);
    put(o, "throughput_per_s", num(x->throughput_per_s), failed);
    put(o, "n_outliers", i64(x->n_outliers), failed);
    put(o, "unstable", json_boolean(x->unstable), failed);
    put(o, "peak_rss_bytes", i64(x->peak_rss_bytes), failed);
    put(o, "arena_bytes", i64(x->arena_bytes), failed);
    put(o, "load_ms", num(x->load_ms), failed);
    put(o, "first_inference_ms", num(x->first_inference_ms), failed);
    put(o, "flops_estimated", i64(x->flops_estimated), failed);
    put(o, "ttft_ms", num(x->ttft_ms), failed);
    put(o, "tpot_ms", num(x->tpot_ms), failed);
    put(o, "tokens_per_s", num(x->tokens_per_s), failed);
    put(o, "target_qps", num(x->target_qps), failed);
    put(o, "achieved_qps", num(x->achieved_qps), failed);
    put(o, "is_predicted", json_boolean(x->is_predicted), failed);
    put(o, "git_commit", str(row->run_git_commit), failed);
    return o;
}

static json_t *pick_json(const struct rp_group *g, struct rp_pick p, int *failed) {
    if (p.index < 0) return json_null();
    char label[192];
    rp_config_label(&g->configs[p.index].latest->r, label, sizeof label);
    json_t *o = json_object();
    put(o, "configuration", json_integer(p.index), failed);
    put(o, "label", json_string(label), failed);
    put(o, "unstable", json_boolean(p.unstable), failed);
    return o;
}

static json_t *group_json(const struct rp_group *g, int *failed) {
    const struct ia_db_result_row *f = g->first;
    json_t *o = json_object(), *m = json_object(), *cfgs = json_array(), *rec = json_object();
    put(m, "id", json_integer(f->r.model_id), failed);
    put(m, "name", str(f->model_name), failed);
    put(m, "cid", str(f->model_cid), failed);
    put(m, "family", str(f->model_family), failed);
    put(m, "synthetic", json_boolean(f->model_synthetic), failed);
    put(o, "model", m, failed);
    put(o, "hw_fingerprint", str(f->r.hw_fingerprint), failed);
    put(o, "hw_short_id", str(f->hw_short_id), failed);
    put(o, "hw_description", str(g->hw_label), failed);
    for (size_t i = 0; i < g->n_configs; i++) {
        const struct rp_config *c = &g->configs[i];
        const struct ia_db_result *x = &c->latest->r;
        json_t *co = json_object();
        put_config(co, x, failed);
        put(co, "n_measurements", json_integer((json_int_t)c->n_measurements), failed);
        put(co, "latest", result_json(c->latest, failed), failed);
        put(co, "previous", c->previous ? result_json(c->previous, failed) : json_null(), failed);
        json_t *ch = json_null();
        if (c->previous) {
            ch = json_object();
            put(ch, "p50_delta_ms", num(c->delta_ms), failed);
            put(ch, "p50_change_rel", num(c->change_rel), failed);
            put(ch, "noise_ms", num(c->noise_ms), failed);
            put(ch, "verdict", json_string(rp_verdict_name(c->verdict)), failed);
        }
        put(co, "change", ch, failed);
        append(cfgs, co, failed);
    }
    put(o, "configurations", cfgs, failed);
    put(rec, "latency", pick_json(g, g->best_latency, failed), failed);
    put(rec, "throughput", pick_json(g, g->best_throughput, failed), failed);
    put(rec, "memory", pick_json(g, g->best_memory, failed), failed);
    put(o, "recommendations", rec, failed);
    return o;
}

int rp_render_json(const struct rp_report *r, struct rbuf *b) {
    int failed = 0;
    json_t *root = json_object(), *sum = json_object(), *machines = json_array(),
           *groups = json_array(), *pred = json_array(), *rule = json_object();
    put(root, "report", json_string("ipfs-accelerate"), &failed);
    put(root, "report_version", json_integer(1), &failed);
    put(root, "generated_at", json_string(r->generated_at), &failed);
    put(root, "database", str(r->db_location), &failed);
    put(root, "schema_version", json_integer(r->schema_version), &failed);
    put(root, "ipfs_accelerate_version", json_string(IA_VERSION_STRING), &failed);
    put(sum, "measured_results", json_integer((json_int_t)r->n_measured), &failed);
    put(sum, "runs", json_integer((json_int_t)r->n_runs), &failed);
    put(sum, "groups", json_integer((json_int_t)r->n_groups), &failed);
    put(sum, "machines", json_integer((json_int_t)r->n_machines_measured), &failed);
    put(sum, "predicted_results", json_integer((json_int_t)r->n_predicted), &failed);
    put(root, "summary", sum, &failed);
    put(rule, "sigmas", json_real(r->regression_sigmas), &failed);
    put(rule, "relative", json_real(r->regression_rel), &failed);
    put(root, "regression_rule", rule, &failed);
    for (size_t i = 0; i < r->hardware.n; i++) {
        const struct ia_db_hardware_row *h = &r->hardware.rows[i];
        json_t *o = json_object();
        put(o, "fingerprint", str(h->fingerprint), &failed);
        put(o, "short_id", str(h->short_id), &failed);
        put(o, "description", str(r->hw_labels[i]), &failed);
        put(o, "first_seen", str(h->first_seen), &failed);
        put(o, "last_seen", str(h->last_seen), &failed);
        json_error_t je;
        json_t *hw = h->report_json ? json_loads(h->report_json, 0, &je) : NULL;
        put(o, "hw", hw ? hw : json_null(), &failed);
        append(machines, o, &failed);
    }
    put(root, "machines", machines, &failed);
    for (size_t k = 0; k < r->n_groups; k++)
        append(groups, group_json(&r->groups[k], &failed), &failed);
    put(root, "groups", groups, &failed);
    for (size_t i = 0; i < r->n_predicted; i++) {
        const struct ia_db_result_row *row = r->predicted[i];
        json_t *o = result_json(row, &failed);
        put(o, "model", str(row->model_name), &failed);
        put(o, "hw_short_id", str(row->hw_short_id), &failed);
        put(o, "prediction_method", str(row->r.prediction_method), &failed);
        append(pred, o, &failed);
    }
    put(root, "predicted", pred, &failed);
    char *text = failed ? NULL : json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (!text) return ia_error_set(IA_ENOMEM, "report: out of memory building JSON");
    rb_puts(b, text);
    rb_puts(b, "\n");
    free(text);
    return IA_OK;
}
