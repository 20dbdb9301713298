/* The report as Markdown (GitHub-flavoured tables). No charts: the HTML
 * report has them. */
#include <math.h>
#include <string.h>

#include "ia/core.h"
#include "report/report_internal.h"

static void md_header(const struct rp_report *r, struct rbuf *b) {
    rb_puts(b, "# ipfs-accelerate benchmark report\n\n");
    rb_puts(b, "- Database: `");
    rb_md_code(b, r->db_location);
    rb_putf(b, "` (schema v%d)\n- Generated: %s by ipfs-accelerate %s\n", r->schema_version,
            r->generated_at, IA_VERSION_STRING);
}

static void md_no_results(struct rbuf *b) {
    rb_puts(b, "\nNo results yet: run `ipfs-accelerate bench MODEL` to measure a model, then "
               "`ipfs-accelerate report` again.\n");
}

static void md_machines(const struct rp_report *r, struct rbuf *b) {
    rb_puts(b, "\n## Machines\n\n| machine | description | first seen | last seen |\n"
               "|---|---|---|---|\n");
    for (size_t i = 0; i < r->hardware.n; i++) {
        const struct ia_db_hardware_row *h = &r->hardware.rows[i];
        rb_puts(b, "| `");
        rb_md_code(b, h->short_id);
        rb_puts(b, "` | ");
        rb_md(b, r->hw_labels[i]);
        rb_putf(b, " | %s | %s |\n", h->first_seen, h->last_seen);
    }
}

static void md_config_cells(struct rbuf *b, const struct ia_db_result *x) {
    rb_md(b, x->scenario);
    rb_putf(b, " | %d | ", x->batch);
    if (x->seq_len >= 0)
        rb_putf(b, "%d", x->seq_len);
    else
        rb_puts(b, "-");
    rb_putf(b, " | %d | ", x->threads);
    rb_md(b, x->precision);
}

static void md_group(const struct rp_report *r, const struct rp_group *g, struct rbuf *b) {
    char s1[32], s2[32], s3[32], s4[32], s5[32];
    const struct ia_db_result_row *f = g->first;
    rb_puts(b, "\n## ");
    rb_md(b, f->model_name);
    rb_puts(b, " on `");
    rb_md_code(b, f->hw_short_id);
    rb_puts(b, "`\n\nMachine: ");
    rb_md(b, g->hw_label);
    rb_puts(b, ".");
    if (f->model_family) {
        rb_puts(b, " Family: ");
        rb_md(b, f->model_family);
        rb_puts(b, ".");
    }
    if (f->model_cid) {
        rb_puts(b, " CID: `");
        rb_md_code(b, f->model_cid);
        rb_puts(b, "`.");
    }
    if (f->model_synthetic) rb_puts(b, " Synthetic weights (zoo-built, random).");
    rb_puts(b, "\n\nLatest measurement of each configuration:\n\n"
               "| scenario | batch | seq | threads | precision | p50 ms | p90 ms | p99 ms | "
               "throughput /s | peak RSS | stability |");
    if (g->has_decoder) rb_puts(b, " TTFT ms | TPOT ms | tokens/s |");
    if (g->has_server) rb_puts(b, " target QPS | achieved QPS |");
    rb_puts(b, " measured |\n|---|---|---|---|---|---|---|---|---|---|---|");
    if (g->has_decoder) rb_puts(b, "---|---|---|");
    if (g->has_server) rb_puts(b, "---|---|");
    rb_puts(b, "---|\n");
    for (size_t i = 0; i < g->n_configs; i++) {
        const struct ia_db_result_row *row = g->configs[i].latest;
        const struct ia_db_result *x = &row->r;
        rb_puts(b, "| ");
        md_config_cells(b, x);
        rb_putf(b, " | %s | %s | %s | %s | %s | %s", rp_ms(x->p50_ms, s1), rp_ms(x->p90_ms, s2),
                rp_ms(x->p99_ms, s3), rp_rate(x->throughput_per_s, s4),
                rp_bytes(x->peak_rss_bytes, s5), rp_stability(x, 1));
        if (isfinite(x->cv)) rb_putf(b, " (CV %.1f %%)", 100 * x->cv);
        rb_puts(b, " |");
        if (g->has_decoder)
            rb_putf(b, " %s | %s | %s |", rp_ms(x->ttft_ms, s1), rp_ms(x->tpot_ms, s2),
                    rp_rate(x->tokens_per_s, s3));
        if (g->has_server)
            rb_putf(b, " %s | %s |", rp_rate(x->target_qps, s1), rp_rate(x->achieved_qps, s2));
        rb_putf(b, " %.19s, run %lld |\n", row->created_at, (long long)x->run_id);
    }

    size_t n_prev = 0;
    for (size_t i = 0; i < g->n_configs; i++) n_prev += g->configs[i].previous != NULL;
    if (!n_prev) {
        rb_puts(b, "\nNo earlier run of these configurations to compare with.\n");
        return;
    }
    rb_putf(b,
            "\nLatest run against the previous run of the same configuration (a p50 change "
            "beyond max(%g x stddev, %g %% of the previous p50) is flagged):\n\n"
            "| configuration | previous p50 ms | latest p50 ms | change | noise limit ms | "
            "verdict |\n|---|---|---|---|---|---|\n",
            r->regression_sigmas, 100 * r->regression_rel);
    for (size_t i = 0; i < g->n_configs; i++) {
        const struct rp_config *c = &g->configs[i];
        if (!c->previous) continue;
        char cfg[192];
        rp_config_label(&c->latest->r, cfg, sizeof cfg);
        rb_puts(b, "| ");
        rb_md(b, cfg);
        rb_putf(b, " | %s | %s | %+.1f %% | %s | ", rp_ms(c->previous->r.p50_ms, s1),
                rp_ms(c->latest->r.p50_ms, s2), 100 * c->change_rel, rp_ms(c->noise_ms, s3));
        if (c->verdict == RP_REGRESSION)
            rb_puts(b, "**REGRESSION** |\n");
        else if (c->verdict == RP_IMPROVEMENT)
            rb_puts(b, "improvement |\n");
        else
            rb_puts(b, "within noise |\n");
    }
}

static void md_pick(const struct rp_group *g, struct rp_pick p, int metric, struct rbuf *b) {
    if (p.index < 0) {
        rb_puts(b, " n/a |");
        return;
    }
    const struct ia_db_result *x = &g->configs[p.index].latest->r;
    char cfg[192], v[32];
    rp_config_label(x, cfg, sizeof cfg);
    rb_puts(b, " ");
    rb_md(b, cfg);
    if (metric == 0) rb_putf(b, " (p50 %s ms)", rp_ms(x->p50_ms, v));
    if (metric == 1) rb_putf(b, " (%s /s)", rp_rate(x->throughput_per_s, v));
    if (metric == 2) rb_putf(b, " (%s)", rp_bytes(x->peak_rss_bytes, v));
    rb_puts(b, p.unstable ? " **unstable** |" : " |");
}

static void md_recommendations(const struct rp_report *r, struct rbuf *b) {
    rb_puts(b, "\n## Recommendations\n\nFrom the latest measurements above, among stable "
               "results where there are any:\n\n"
               "| model | machine | lowest latency | highest throughput | lowest peak memory |\n"
               "|---|---|---|---|---|\n");
    for (size_t k = 0; k < r->n_groups; k++) {
        const struct rp_group *g = &r->groups[k];
        rb_puts(b, "| ");
        rb_md(b, g->first->model_name);
        rb_puts(b, " | `");
        rb_md_code(b, g->first->hw_short_id);
        rb_puts(b, "` |");
        md_pick(g, g->best_latency, 0, b);
        md_pick(g, g->best_throughput, 1, b);
        md_pick(g, g->best_memory, 2, b);
        rb_puts(b, "\n");
    }
}

static void md_predicted(const struct rp_report *r, struct rbuf *b) {
    char s1[32], s2[32], cfg[192];
    rb_puts(b, "\n## Predicted (not measured)\n\nThese figures were NOT measured. Each was "
               "predicted by the method named; they are kept out of every table above.\n\n"
               "| model | machine | configuration | predicted p50 ms | predicted throughput /s | "
               "method |\n|---|---|---|---|---|---|\n");
    for (size_t i = 0; i < r->n_predicted; i++) {
        const struct ia_db_result_row *row = r->predicted[i];
        rp_config_label(&row->r, cfg, sizeof cfg);
        rb_puts(b, "| ");
        rb_md(b, row->model_name);
        rb_puts(b, " | `");
        rb_md_code(b, row->hw_short_id);
        rb_puts(b, "` | ");
        rb_md(b, cfg);
        rb_putf(b, " | %s | %s | ", rp_ms(row->r.p50_ms, s1), rp_rate(row->r.throughput_per_s, s2));
        rb_md(b, row->r.prediction_method);
        rb_puts(b, " |\n");
    }
}

void rp_render_md(const struct rp_report *r, struct rbuf *b) {
    md_header(r, b);
    if (r->n_measured == 0 && r->n_predicted == 0) {
        md_no_results(b);
        return;
    }
    rb_putf(b,
            "- Measured: %zu result%s from %zu run%s, %zu model/machine pair%s on %zu machine%s\n",
            r->n_measured, r->n_measured == 1 ? "" : "s", r->n_runs, r->n_runs == 1 ? "" : "s",
            r->n_groups, r->n_groups == 1 ? "" : "s", r->n_machines_measured,
            r->n_machines_measured == 1 ? "" : "s");
    rb_puts(b, "\nEvery figure in the tables below was measured on the machine named with it. "
               "p50/p90/p99 are percentiles of per-iteration wall times (numpy's linear rule); "
               "\"unstable\" means the coefficient of variation exceeded the runner's threshold. "
               "Charts: `ipfs-accelerate report --format html`.\n");
    md_machines(r, b);
    if (r->n_measured == 0) md_no_results(b);
    for (size_t k = 0; k < r->n_groups; k++) md_group(r, &r->groups[k], b);
    if (r->n_groups) md_recommendations(r, b);
    if (r->n_predicted) md_predicted(r, b);
}
