/* The runner: one configuration (model, scenario, batch, seq, threads,
 * precision) measured from a fresh session to a database row.
 *
 * Order of work, and what is inside a timing:
 *   1. reset the RSS high-water mark (per-configuration peak, memory.c);
 *   2. inputs generated at (batch, seq) or taken from files;
 *   3. cost estimates from the graph at those shapes (flops.c; not timed);
 *   4. ia_session_create, timed: load_ms = model load + this create;
 *   5. the first ia_session_run, timed alone: first_inference_ms;
 *   6. the scenario's loop (scenario_loops.c): warm-up, then timed queries,
 *      each one ia_session_run between two CLOCK_MONOTONIC reads;
 *   7. statistics over the samples (stats.c), peak RSS, arena bytes;
 *   8. decoders in single-stream: TTFT is the p50 of step 6 (one forward
 *      over seq tokens with an empty cache); with a KV cache, TPOT is the
 *      p50 of a decode step: one new token with the prefill's present.*
 *      outputs fed back as past_key_values.* (a past of length seq).
 * Nothing here prints; a problem that does not spoil the measurement (a
 * decode step that fails) is kept in the result's note. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ia/bench.h"
#include "ia/core.h"
#include "ia/engine.h"
#include "ia/tensor_io.h"

static const char *const scenario_names[IA_BENCH_SCENARIO_COUNT] = {"single-stream", "offline",
                                                                     "server"};

const char *ia_bench_scenario_name(enum ia_bench_scenario s) {
    return (unsigned)s < IA_BENCH_SCENARIO_COUNT ? scenario_names[s] : NULL;
}

int ia_bench_scenario_parse(const char *name, enum ia_bench_scenario *out) {
    for (int i = 0; i < IA_BENCH_SCENARIO_COUNT; i++)
        if (name && !strcmp(name, scenario_names[i])) {
            *out = (enum ia_bench_scenario)i;
            return IA_OK;
        }
    return ia_error_set(IA_EINVAL, "unknown scenario '%s' (single-stream, offline, server)",
                        name ? name : "(null)");
}

void ia_bench_result_free(struct ia_bench_result *r) {
    if (!r) return;
    ia_free(r->timings_ms);
    ia_free(r->is_outlier);
    r->timings_ms = NULL;
    r->is_outlier = NULL;
    r->n = 0;
}

/* ---- one query ------------------------------------------------------------------- */

struct query {
    struct ia_session *s;
    size_t n_in;
    const char *const *names;
    const struct ia_tensor *const *in;
    size_t n_out;
    struct ia_tensor *const *out; /* after the last run */
};

static int run_query(void *user) {
    struct query *q = user;
    return ia_session_run(q->s, q->n_in, q->names, q->in, q->n_out, &q->out);
}

static void query_init(struct query *q, struct ia_session *s, const struct ia_bench_inputs *in) {
    q->s = s;
    q->n_in = in->n;
    q->names = (const char *const *)in->names;
    q->in = (const struct ia_tensor *const *)in->t;
    q->n_out = ia_session_n_outputs(s);
    q->out = NULL;
}

/* ---- shapes bound by given inputs ----------------------------------------------- */

/* With -i the files fix batch and seq: read them off the dims declared with
 * a batch or sequence name. */
static void bound_by_files(const struct ia_model *m, const struct ia_bench_inputs *in, int *batch,
                           int *seq) {
    *batch = -1;
    *seq = -1;
    for (size_t i = 0; i < in->n; i++) {
        const struct ia_onnx_value *v = NULL;
        for (size_t k = 0; k < m->graph.n_inputs; k++)
            if (!strcmp(m->graph.inputs[k].name, in->names[i])) v = &m->graph.inputs[k];
        if (!v || !v->has_shape || (int)v->rank != in->t[i]->rank) continue;
        for (size_t d = 0; d < v->rank; d++) {
            if (v->dims[d].value >= 0 || !v->dims[d].param) continue;
            struct ia_bench_shape probe_b = {1000003, 0, 0}, probe_s = {0, 1000003, 0};
            int64_t vb, vs;
            unsigned ub = 0, us = 0;
            if (ia_bench_bind_dim(v->dims[d].param, &probe_b, &vb, &ub) != IA_OK) continue;
            (void)ia_bench_bind_dim(v->dims[d].param, &probe_s, &vs, &us);
            /* Only plain dims, not sums (a cache length says nothing of seq). */
            if (ub == IA_BENCH_USES_BATCH && *batch < 0) *batch = (int)in->t[i]->dims[d];
            if (us == IA_BENCH_USES_SEQ && *seq < 0) *seq = (int)in->t[i]->dims[d];
        }
    }
    ia_error_clear();
    if (*batch < 1) *batch = 1;
}

/* ---- the decode step ---------------------------------------------------------------- */

static int decode_phase(struct ia_bench_model *bm, struct ia_session *s, const struct query *prefill,
                        const struct ia_bench_config *c, const struct ia_bench_opts *o,
                        const struct ia_bench_loop_opts *lo, struct ia_bench_result *out) {
    const struct ia_bench_decoder *dec = &bm->dec;
    struct ia_bench_shape sh = {c->batch, 1, c->seq};
    struct ia_bench_inputs in;
    int rc = ia_bench_make_inputs(bm->m, &sh, o->seed + 1, &in);
    if (rc != IA_OK) return rc;
    /* Feed the prefill's present.* back as past_key_values.*. */
    for (size_t p = 0; p < dec->n_past && rc == IA_OK; p++) {
        size_t oi = 0, ii = 0;
        while (oi < ia_session_n_outputs(s) && strcmp(ia_session_output(s, oi)->name, dec->present[p]))
            oi++;
        while (ii < in.n && strcmp(in.names[ii], dec->past[p])) ii++;
        if (oi == ia_session_n_outputs(s) || ii == in.n || !prefill->out) {
            rc = ia_error_set(IA_EINTERNAL, "decoder cache '%s' not found", dec->past[p]);
            break;
        }
        struct ia_tensor *t;
        rc = ia_tensor_io_clone(prefill->out[oi], dec->past[p], &t);
        if (rc == IA_OK && !ia_tensor_same_shape(t, in.t[ii]))
            rc = ia_error_set(IA_EFORMAT, "'%s' does not have the shape of '%s'", dec->present[p],
                              dec->past[p]);
        if (rc == IA_OK) {
            ia_tensor_io_free(in.t[ii]);
            in.t[ii] = t;
        } else if (t) {
            ia_tensor_io_free(t);
        }
    }
    struct query q;
    query_init(&q, s, &in);
    struct ia_bench_samples smp = {0};
    struct ia_bench_loop_opts dlo = *lo;
    dlo.progress = NULL;
    /* The first step at a new shape re-plans: warm up at least once. */
    if (dlo.warmup < 1) dlo.warmup = 1;
    if (rc == IA_OK) rc = ia_bench_loop_single(run_query, &q, &dlo, &smp);
    struct ia_bench_stats st;
    if (rc == IA_OK) rc = ia_bench_stats_compute(smp.ms, smp.n, o->cv_threshold, &st, NULL);
    if (rc == IA_OK) {
        out->row.tpot_ms = st.p50_ms;
        out->row.tokens_per_s = st.p50_ms > 0 ? c->batch * 1e3 / st.p50_ms : NAN;
        out->decode_applicable = 1;
    }
    ia_bench_samples_free(&smp);
    ia_bench_inputs_free(&in);
    return rc;
}

/* ---- the server scenario ------------------------------------------------------------ */

static double p99_of(const struct ia_bench_samples *s, double cv) {
    struct ia_bench_stats st;
    if (ia_bench_stats_compute(s->ms, s->n, cv, &st, NULL) != IA_OK) return INFINITY;
    return st.p99_ms;
}

static int server_phase(struct query *q, const struct ia_bench_opts *o,
                        struct ia_bench_loop_opts *lo, struct ia_bench_samples *smp,
                        double *target, double *achieved, int *bound_met) {
    double qps = o->target_qps;
    *bound_met = -1;
    if (!(qps > 0) || o->latency_bound_ms > 0) {
        /* The service rate, measured: a short single-stream calibration. */
        struct ia_bench_loop_opts cal = *lo;
        cal.min_iterations = 5;
        cal.min_time_s = lo->min_time_s < 0.2 ? lo->min_time_s : 0.2;
        cal.progress = NULL;
        struct ia_bench_samples cs;
        int rc = ia_bench_loop_single(run_query, q, &cal, &cs);
        if (rc != IA_OK) return rc;
        struct ia_bench_stats st;
        rc = ia_bench_stats_compute(cs.ms, cs.n, 0, &st, NULL);
        ia_bench_samples_free(&cs);
        if (rc != IA_OK) return rc;
        double capacity = st.p50_ms > 0 ? 1e3 / st.p50_ms : 1e6;
        lo->warmup = 0;
        if (!(o->latency_bound_ms > 0)) {
            qps = capacity / 2;
        } else {
            /* Bisection over QPS in (0, capacity]: the highest rate whose p99
             * (queueing included) meets the bound. */
            int steps = o->bound_steps > 0 ? o->bound_steps : 6;
            double lo_q = 0, hi_q = capacity;
            struct ia_bench_samples best = {0}, last = {0};
            double best_q = 0, best_a = NAN, last_q = 0, last_a = NAN;
            for (int i = 0; i < steps; i++) {
                double mid = (lo_q + hi_q) / 2, ach;
                struct ia_bench_samples t;
                rc = ia_bench_loop_server(run_query, q, lo, mid, o->seed + (uint64_t)i, &t, &ach);
                if (rc != IA_OK) break;
                if (p99_of(&t, o->cv_threshold) <= o->latency_bound_ms) {
                    ia_bench_samples_free(&best);
                    best = t;
                    best_q = mid;
                    best_a = ach;
                    lo_q = mid;
                } else {
                    ia_bench_samples_free(&last);
                    last = t;
                    last_q = mid;
                    last_a = ach;
                    hi_q = mid;
                }
            }
            if (rc != IA_OK) {
                ia_bench_samples_free(&best);
                ia_bench_samples_free(&last);
                return rc;
            }
            *bound_met = best.n > 0;
            if (best.n) {
                *smp = best;
                *target = best_q;
                *achieved = best_a;
                ia_bench_samples_free(&last);
            } else { /* even the lowest rate tried missed: keep that trial */
                *smp = last;
                *target = last_q;
                *achieved = last_a;
            }
            return IA_OK;
        }
    }
    *target = qps;
    return ia_bench_loop_server(run_query, q, lo, qps, o->seed, smp, achieved);
}

/* ---- one configuration -------------------------------------------------------------- */

int ia_bench_run_config(struct ia_bench_model *bm, const struct ia_bench_config *c,
                        const struct ia_bench_opts *o, struct ia_bench_result *out) {
    memset(out, 0, sizeof *out);
    ia_db_result_init(&out->row);
    out->latency_bound_met = -1;
    struct ia_db_result *row = &out->row;
    if (!c->precision || strcmp(c->precision, "fp32"))
        return ia_error_set(IA_EUNSUPPORTED, "precision %s is not supported yet (only fp32)",
                            c->precision ? c->precision : "(none)");
    if (c->threads < 1 || (!o->given && c->batch < 1) || !ia_bench_scenario_name(c->scenario))
        return ia_error_set(IA_EINVAL, "bad configuration (batch %d, threads %d)", c->batch,
                            c->threads);
    out->peak_rss_per_config = ia_bench_mem_reset_peak();

    struct ia_bench_inputs gen = {0};
    const struct ia_bench_inputs *in = o->given;
    int batch = c->batch, seq = c->seq;
    int rc = IA_OK;
    if (in) {
        bound_by_files(bm->m, in, &batch, &seq);
    } else {
        struct ia_bench_shape sh = {c->batch, c->seq > 0 ? c->seq : 1, 0};
        rc = ia_bench_make_inputs(bm->m, &sh, o->seed, &gen);
        in = &gen;
        if (rc == IA_OK && !(gen.uses & IA_BENCH_USES_SEQ)) seq = -1;
    }
    if (rc != IA_OK) return rc;
    row->scenario = ia_bench_scenario_name(c->scenario);
    row->batch = batch;
    row->seq_len = seq;
    row->threads = c->threads;
    row->precision = "fp32";
    row->warmup = o->warmup;
    row->is_predicted = 0;

    if (ia_bench_estimate_cost(bm->m, in, &out->cost) == IA_OK) {
        if (out->cost.n_unknown == 0) row->flops_estimated = out->cost.flops;
    } else {
        ia_error_clear(); /* an estimate we cannot make is left unknown */
    }

    struct ia_session *s = NULL;
    struct ia_session_opts so = {.threads = c->threads};
    double t0 = ia_time_now();
    rc = ia_session_create(bm->m, &so, &s);
    double create_ms = (ia_time_now() - t0) * 1e3;
    if (rc != IA_OK) {
        ia_error_wrap(rc, "%s", bm->path);
        ia_bench_inputs_free(&gen);
        return rc;
    }
    row->load_ms = bm->load_ms + create_ms;
    struct query q;
    query_init(&q, s, in);
    t0 = ia_time_now();
    rc = run_query(&q);
    row->first_inference_ms = (ia_time_now() - t0) * 1e3;

    struct ia_bench_loop_opts lo = {.warmup = o->warmup,
                                    .min_iterations = o->min_iterations,
                                    .min_time_s = o->min_time_s,
                                    .max_iterations = o->max_iterations,
                                    .stop = o->stop,
                                    .progress = o->progress,
                                    .progress_user = o->progress_user};
    struct ia_bench_samples smp = {0};
    if (rc == IA_OK) {
        if (c->scenario == IA_BENCH_SERVER) {
            double target = NAN, achieved = NAN;
            rc = server_phase(&q, o, &lo, &smp, &target, &achieved, &out->latency_bound_met);
            row->target_qps = target;
            row->achieved_qps = achieved;
            row->throughput_per_s = achieved * batch;
        } else {
            rc = ia_bench_loop_single(run_query, &q, &lo, &smp);
        }
    }
    if (rc == IA_OK) {
        out->is_outlier = ia_calloc(smp.n, 1);
        if (!out->is_outlier) rc = ia_error_set(IA_ENOMEM, "out of memory");
    }
    if (rc == IA_OK)
        rc = ia_bench_stats_compute(smp.ms, smp.n, o->cv_threshold, &out->stats, out->is_outlier);
    if (rc == IA_OK) {
        const struct ia_bench_stats *st = &out->stats;
        out->timings_ms = smp.ms;
        out->n = smp.n;
        out->wall_s = smp.wall_s;
        smp.ms = NULL;
        row->iterations = (int)st->n;
        row->mean_ms = st->mean_ms;
        row->stddev_ms = st->stddev_ms;
        row->cv = st->cv;
        row->min_ms = st->min_ms;
        row->p50_ms = st->p50_ms;
        row->p90_ms = st->p90_ms;
        row->p99_ms = st->p99_ms;
        row->max_ms = st->max_ms;
        row->n_outliers = (int)st->n_outliers;
        row->unstable = st->unstable;
        if (c->scenario == IA_BENCH_SINGLE_STREAM)
            row->throughput_per_s = st->mean_ms > 0 ? batch * 1e3 / st->mean_ms : NAN;
        else if (c->scenario == IA_BENCH_OFFLINE)
            row->throughput_per_s = out->wall_s > 0 ? (double)batch * (double)out->n / out->wall_s
                                                    : NAN;
        struct ia_session_stats ss;
        ia_session_get_stats(s, &ss);
        row->arena_bytes = (int64_t)ss.arena_bytes;
        row->peak_rss_bytes = ia_bench_mem_peak_rss();
    }
    if (rc == IA_OK && bm->dec.is_decoder && c->scenario == IA_BENCH_SINGLE_STREAM && !o->given) {
        row->ttft_ms = out->stats.p50_ms;
        if (bm->dec.has_past) {
            /* q.out still holds the loop's last query's outputs: a prefill's. */
            int drc = decode_phase(bm, s, &q, c, o, &lo, out);
            if (drc != IA_OK) {
                snprintf(out->note, sizeof out->note, "decode not measured: %s", ia_error_msg());
                ia_error_clear();
                out->stop_requested = drc == IA_ECANCELED;
            }
            int64_t peak = ia_bench_mem_peak_rss();
            if (peak > row->peak_rss_bytes) row->peak_rss_bytes = peak;
        }
    }
    ia_bench_samples_free(&smp);
    ia_session_destroy(s);
    ia_bench_inputs_free(&gen);
    if (rc != IA_OK) ia_bench_result_free(out);
    return rc;
}

int ia_bench_run_repeat(struct ia_bench_model *bm, const struct ia_bench_config *c,
                        const struct ia_bench_opts *o, long n) {
    struct ia_bench_inputs gen = {0};
    const struct ia_bench_inputs *in = o->given;
    int rc = IA_OK;
    if (!in) {
        struct ia_bench_shape sh = {c->batch, c->seq > 0 ? c->seq : 1, 0};
        rc = ia_bench_make_inputs(bm->m, &sh, o->seed, &gen);
        in = &gen;
    }
    struct ia_session *s = NULL;
    struct ia_session_opts so = {.threads = c->threads};
    if (rc == IA_OK) rc = ia_session_create(bm->m, &so, &s);
    struct query q;
    if (rc == IA_OK) {
        query_init(&q, s, in);
        rc = run_query(&q);
    }
    for (long i = 0; rc == IA_OK && i < n; i++) {
        if (o->stop && *o->stop) rc = ia_error_set(IA_ECANCELED, "stopped");
        else rc = run_query(&q);
    }
    ia_session_destroy(s);
    ia_bench_inputs_free(&gen);
    return rc;
}

/* ---- database rows ------------------------------------------------------------------ */

int ia_bench_record_model(struct ia_db *db, const struct ia_bench_model *bm, int ref_seq,
                          int64_t *model_id) {
    struct ia_db_model m;
    ia_db_model_init(&m);
    m.cid = bm->cid;
    m.name = bm->name;
    m.path = bm->path;
    m.family = bm->family;
    m.n_params = (int64_t)bm->n_params;
    m.weight_bytes = (int64_t)bm->weight_bytes;
    m.synthetic = bm->synthetic;
    m.converted = bm->converted;
    m.provenance_json = bm->provenance_json;
    struct ia_bench_shape sh = {1, ref_seq > 0 ? ref_seq : 1, 0};
    struct ia_bench_inputs in;
    struct ia_bench_cost cost;
    if (ia_bench_make_inputs(bm->m, &sh, 0, &in) == IA_OK) {
        if (ia_bench_estimate_cost(bm->m, &in, &cost) == IA_OK && cost.n_unknown == 0) {
            m.flops_estimated = cost.flops;
            m.bytes_moved_estimated = cost.bytes_moved;
        }
        ia_bench_inputs_free(&in);
    }
    ia_error_clear();
    return ia_db_upsert_model(db, &m, model_id);
}

int ia_bench_record_result(struct ia_db *db, int64_t run_id, int64_t model_id,
                           const char *hw_fingerprint, struct ia_bench_result *r,
                           int64_t *result_id) {
    r->row.run_id = run_id;
    r->row.model_id = model_id;
    r->row.hw_fingerprint = hw_fingerprint;
    return ia_db_insert_result(db, &r->row, r->timings_ms, r->is_outlier, r->n, result_id);
}
