/* The report as one self-contained HTML page: inline CSS, inline SVG, no
 * scripts, and a Content-Security-Policy that forbids every fetch, so the
 * file shows the same offline, attached to an issue, or years later. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ia/core.h"
#include "report/report_internal.h"

static const char css[] =
    "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:24px auto;"
    "max-width:1400px;padding:0 16px;color:#1b1f24;background:#fff}"
    "h1{font-size:24px;margin:0 0 4px}h2{font-size:19px;margin:32px 0 6px;"
    "border-bottom:1px solid #d0d7de;padding-bottom:4px}h3{font-size:15px;margin:18px 0 6px}"
    ".meta,.note{color:#57606a}code{font:12px ui-monospace,monospace;background:#f6f8fa;"
    "padding:1px 4px;border-radius:3px}"
    "table{border-collapse:collapse;margin:8px 0;font-variant-numeric:tabular-nums}"
    "th,td{border:1px solid #d0d7de;padding:3px "
    "8px;text-align:left;white-space:nowrap}th{background:#f6f8fa}"
    "td.num{text-align:right}.scroll{overflow-x:auto}table.recommendations td{white-space:normal}"
    "tr.regression td{background:#ffebe9}tr.regression td.verdict{color:#a40e26;font-weight:700}"
    "tr.improvement td{background:#dafbe1}"
    "td.unstable{color:#9a6700;font-weight:600}"
    ".charts{display:flex;flex-wrap:wrap;gap:12px}"
    "svg.chart{max-width:100%;height:auto;border:1px solid #d0d7de;border-radius:6px;"
    "background:#fff}"
    "svg.chart text{font:12px system-ui,sans-serif;fill:#1b1f24}svg.chart .title{font-weight:600;"
    "font-size:14px}svg.chart .grid{stroke:#eaeef2}svg.chart .axis-line,svg.chart .tick{"
    "stroke:#57606a}svg.chart polyline{stroke-width:2}svg.chart circle{stroke:#fff;"
    "stroke-width:1}svg.chart circle:hover{r:6}"
    "section.predicted{border:2px dashed #8250df;padding:4px 16px 12px;margin-top:32px;"
    "background:#fbefff}section.predicted h2{border:none;color:#8250df}";

static void td_num(struct rbuf *b, const char *v) { rb_putf(b, "<td class=\"num\">%s</td>", v); }

static void html_head(const struct rp_report *r, struct rbuf *b) {
    rb_puts(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
               "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
               "style-src 'unsafe-inline'; img-src data:\">\n"
               "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
               "<title>ipfs-accelerate benchmark report</title>\n<style>");
    rb_puts(b, css);
    rb_puts(b, "</style>\n</head>\n<body>\n<header>\n<h1>ipfs-accelerate benchmark report</h1>\n"
               "<p class=\"meta\">Database <code>");
    rb_html(b, r->db_location);
    rb_putf(b, "</code> (schema v%d) &middot; generated %s by ipfs-accelerate %s</p>\n",
            r->schema_version, r->generated_at, IA_VERSION_STRING);
}

static void html_machines(const struct rp_report *r, struct rbuf *b) {
    rb_puts(b, "<section id=\"machines\">\n<h2>Machines</h2>\n<table>\n<tr><th>machine</th>"
               "<th>description</th><th>first seen</th><th>last seen</th></tr>\n");
    for (size_t i = 0; i < r->hardware.n; i++) {
        const struct ia_db_hardware_row *h = &r->hardware.rows[i];
        rb_puts(b, "<tr><td><code title=\"");
        rb_html(b, h->fingerprint);
        rb_puts(b, "\">");
        rb_html(b, h->short_id);
        rb_puts(b, "</code></td><td>");
        rb_html(b, r->hw_labels[i]);
        rb_puts(b, "</td><td>");
        rb_html(b, h->first_seen);
        rb_puts(b, "</td><td>");
        rb_html(b, h->last_seen);
        rb_puts(b, "</td></tr>\n");
    }
    rb_puts(b, "</table>\n</section>\n");
}

static void config_table(const struct rp_group *g, struct rbuf *b) {
    char s[32];
    rb_puts(b, "<div class=\"scroll\"><table "
               "class=\"configs\">\n<tr><th>scenario</th><th>batch</th><th>seq</th>"
               "<th>threads</th><th>precision</th><th>p50 ms</th><th>p90 ms</th><th>p99 ms</th>"
               "<th>throughput /s</th><th>peak RSS</th><th>stability</th>");
    if (g->has_decoder) rb_puts(b, "<th>TTFT ms</th><th>TPOT ms</th><th>tokens/s</th>");
    if (g->has_server) rb_puts(b, "<th>target QPS</th><th>achieved QPS</th>");
    rb_puts(b, "<th>measured</th></tr>\n");
    for (size_t i = 0; i < g->n_configs; i++) {
        const struct ia_db_result_row *row = g->configs[i].latest;
        const struct ia_db_result *x = &row->r;
        rb_putf(b, "<tr data-result-id=\"%lld\"><td>", (long long)row->id);
        rb_html(b, x->scenario);
        rb_putf(b, "</td><td class=\"num\">%d</td>", x->batch);
        if (x->seq_len >= 0)
            rb_putf(b, "<td class=\"num\">%d</td>", x->seq_len);
        else
            rb_puts(b, "<td>-</td>");
        rb_putf(b, "<td class=\"num\">%d</td><td>", x->threads);
        rb_html(b, x->precision);
        rb_puts(b, "</td>");
        td_num(b, rp_ms(x->p50_ms, s));
        td_num(b, rp_ms(x->p90_ms, s));
        td_num(b, rp_ms(x->p99_ms, s));
        td_num(b, rp_rate(x->throughput_per_s, s));
        td_num(b, rp_bytes(x->peak_rss_bytes, s));
        const char *st = rp_stability(x, 0);
        rb_putf(b, "<td class=\"%s\">%s", strcmp(st, "n/a") ? st : "unknown", st);
        if (isfinite(x->cv)) rb_putf(b, " (CV %.1f %%)", 100 * x->cv);
        rb_puts(b, "</td>");
        if (g->has_decoder) {
            td_num(b, rp_ms(x->ttft_ms, s));
            td_num(b, rp_ms(x->tpot_ms, s));
            td_num(b, rp_rate(x->tokens_per_s, s));
        }
        if (g->has_server) {
            td_num(b, rp_rate(x->target_qps, s));
            td_num(b, rp_rate(x->achieved_qps, s));
        }
        rb_putf(b, "<td>%.10s %.5s, run %lld, n=%d</td></tr>\n", row->created_at,
                row->created_at && strlen(row->created_at) > 11 ? row->created_at + 11 : "",
                (long long)x->run_id, x->iterations);
    }
    rb_puts(b, "</table></div>\n");
}

static int cmp_point(const void *a, const void *b) {
    double x = ((const struct rp_point *)a)->x, y = ((const struct rp_point *)b)->x;
    return (x > y) - (x < y);
}

/* kind 0: p50 against batch, series by everything but batch;
 * kind 1: throughput against threads, series by everything but threads. */
static void chart(const struct rp_group *g, int kind, struct rbuf *b) {
    size_t n = g->n_configs;
    struct rp_series *series = ia_calloc(n ? n : 1, sizeof *series);
    struct rp_point *pts = ia_calloc(n ? n : 1, sizeof *pts);
    size_t *sidx = ia_calloc(n ? n : 1, sizeof *sidx);
    if (!series || !pts || !sidx) {
        ia_free(series);
        ia_free(pts);
        ia_free(sidx);
        b->failed = 1;
        return;
    }
    /* Pass 1 names each point's series and counts; pass 2 fills slices of pts. */
    size_t ns = 0, longest = 0;
    for (size_t i = 0; i < n; i++) {
        const struct ia_db_result *x = &g->configs[i].latest->r;
        sidx[i] = SIZE_MAX;
        if (!isfinite(kind == 0 ? x->p50_ms : x->throughput_per_s)) continue;
        char name[128], seq[24] = "";
        if (x->seq_len >= 0) snprintf(seq, sizeof seq, " seq=%d", x->seq_len);
        if (kind == 0)
            snprintf(name, sizeof name, "%s%s t=%d %s", x->scenario, seq, x->threads, x->precision);
        else
            snprintf(name, sizeof name, "%s b=%d%s %s", x->scenario, x->batch, seq, x->precision);
        size_t s = 0;
        while (s < ns && strcmp(series[s].name, name)) s++;
        if (s == ns) snprintf(series[ns++].name, sizeof series[0].name, "%s", name);
        sidx[i] = s;
        if (++series[s].n > longest) longest = series[s].n;
    }
    size_t off = 0;
    for (size_t s = 0; s < ns; s++) {
        series[s].pts = pts + off;
        off += series[s].n;
        series[s].n = 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (sidx[i] == SIZE_MAX) continue;
        const struct ia_db_result_row *row = g->configs[i].latest;
        struct rp_series *se = &series[sidx[i]];
        se->pts[se->n++] =
            (struct rp_point){kind == 0 ? row->r.batch : row->r.threads,
                              kind == 0 ? row->r.p50_ms : row->r.throughput_per_s, row};
    }
    ia_free(sidx);
    const char *what = kind == 0 ? "batch size" : "thread count";
    if (longest < 2) {
        rb_putf(b,
                "<p class=\"note\">No %s chart: each configuration was measured at one %s "
                "only.</p>\n",
                kind == 0 ? "latency-vs-batch" : "throughput-vs-threads", what);
    } else {
        for (size_t s = 0; s < ns; s++) qsort(series[s].pts, series[s].n, sizeof *pts, cmp_point);
        char title[256];
        snprintf(title, sizeof title, "%s: %s", g->first->model_name,
                 kind == 0 ? "p50 latency vs batch size" : "throughput vs threads");
        struct rp_chart c = {
            .kind = kind == 0 ? "latency-vs-batch" : "throughput-vs-threads",
            .title = title,
            .x_label = kind == 0 ? "batch size" : "threads",
            .y_label = kind == 0 ? "p50 latency (ms)" : "throughput (inferences/s)",
            .n_series = ns,
            .series = series,
        };
        rp_svg_chart(b, &c);
    }
    ia_free(series);
    ia_free(pts);
}

static void changes_table(const struct rp_report *r, const struct rp_group *g, struct rbuf *b) {
    char s1[32], s2[32], s3[32], cfg[192];
    size_t n_prev = 0;
    for (size_t i = 0; i < g->n_configs; i++) n_prev += g->configs[i].previous != NULL;
    rb_puts(b, "<h3>Change since the previous run</h3>\n");
    if (!n_prev) {
        rb_puts(b, "<p class=\"note\">No earlier run of these configurations to compare "
                   "with.</p>\n");
        return;
    }
    rb_putf(b,
            "<p class=\"note\">A p50 change beyond max(%g &times; stddev, %g %% of the "
            "previous p50) is flagged.</p>\n<table class=\"changes\">\n<tr><th>configuration"
            "</th><th>previous p50 ms</th><th>latest p50 ms</th><th>change</th>"
            "<th>noise limit ms</th><th>verdict</th></tr>\n",
            r->regression_sigmas, 100 * r->regression_rel);
    for (size_t i = 0; i < g->n_configs; i++) {
        const struct rp_config *c = &g->configs[i];
        if (!c->previous) continue;
        const char *cls = c->verdict == RP_REGRESSION    ? "regression"
                          : c->verdict == RP_IMPROVEMENT ? "improvement"
                                                         : "same";
        rp_config_label(&c->latest->r, cfg, sizeof cfg);
        rb_putf(b, "<tr class=\"%s\"><td>", cls);
        rb_html(b, cfg);
        rb_puts(b, "</td>");
        td_num(b, rp_ms(c->previous->r.p50_ms, s1));
        td_num(b, rp_ms(c->latest->r.p50_ms, s2));
        rb_putf(b, "<td class=\"num\">%+.1f %%</td>", 100 * c->change_rel);
        td_num(b, rp_ms(c->noise_ms, s3));
        rb_putf(b, "<td class=\"verdict\">%s</td></tr>\n",
                c->verdict == RP_REGRESSION ? "REGRESSION" : rp_verdict_name(c->verdict));
    }
    rb_puts(b, "</table>\n");
}

static void html_group(const struct rp_report *r, const struct rp_group *g, struct rbuf *b) {
    const struct ia_db_result_row *f = g->first;
    rb_puts(b, "<section class=\"group\" data-model=\"");
    rb_html(b, f->model_name);
    rb_puts(b, "\" data-hw=\"");
    rb_html(b, f->hw_short_id);
    rb_puts(b, "\">\n<h2>");
    rb_html(b, f->model_name);
    rb_puts(b, " on <code>");
    rb_html(b, f->hw_short_id);
    rb_puts(b, "</code></h2>\n<p class=\"meta\">");
    rb_html(b, g->hw_label);
    if (f->model_family) {
        rb_puts(b, " &middot; family ");
        rb_html(b, f->model_family);
    }
    if (f->model_cid) {
        rb_puts(b, " &middot; CID <code>");
        rb_html(b, f->model_cid);
        rb_puts(b, "</code>");
    }
    if (f->model_synthetic) rb_puts(b, " &middot; synthetic weights (zoo-built, random)");
    rb_puts(b, "</p>\n<h3>Latest measurement of each configuration</h3>\n");
    config_table(g, b);
    rb_puts(b, "<div class=\"charts\">\n");
    chart(g, 0, b);
    chart(g, 1, b);
    rb_puts(b, "</div>\n");
    changes_table(r, g, b);
    rb_puts(b, "</section>\n");
}

static void pick_cell(const struct rp_group *g, struct rp_pick p, int metric, struct rbuf *b) {
    if (p.index < 0) {
        rb_puts(b, "<td>n/a</td>");
        return;
    }
    const struct ia_db_result *x = &g->configs[p.index].latest->r;
    char cfg[192], v[32];
    rp_config_label(x, cfg, sizeof cfg);
    rb_puts(b, "<td>");
    rb_html(b, cfg);
    if (metric == 0) rb_putf(b, " (p50 %s ms)", rp_ms(x->p50_ms, v));
    if (metric == 1) rb_putf(b, " (%s /s)", rp_rate(x->throughput_per_s, v));
    if (metric == 2) rb_putf(b, " (%s)", rp_bytes(x->peak_rss_bytes, v));
    if (p.unstable) rb_puts(b, " <span class=\"unstable\">unstable</span>");
    rb_puts(b, "</td>");
}

static void html_recommendations(const struct rp_report *r, struct rbuf *b) {
    rb_puts(b, "<section id=\"recommendations\">\n<h2>Recommendations</h2>\n<p class=\"note\">"
               "From the latest measurements above, among stable results where there are "
               "any.</p>\n<table class=\"recommendations\">\n<tr><th>model</th><th>machine</th>"
               "<th>lowest latency</th><th>highest throughput</th><th>lowest peak memory</th>"
               "</tr>\n");
    for (size_t k = 0; k < r->n_groups; k++) {
        const struct rp_group *g = &r->groups[k];
        rb_puts(b, "<tr><td>");
        rb_html(b, g->first->model_name);
        rb_puts(b, "</td><td><code>");
        rb_html(b, g->first->hw_short_id);
        rb_puts(b, "</code></td>");
        pick_cell(g, g->best_latency, 0, b);
        pick_cell(g, g->best_throughput, 1, b);
        pick_cell(g, g->best_memory, 2, b);
        rb_puts(b, "</tr>\n");
    }
    rb_puts(b, "</table>\n</section>\n");
}

static void html_predicted(const struct rp_report *r, struct rbuf *b) {
    char s1[32], s2[32], cfg[192];
    rb_puts(b, "<section id=\"predicted\" class=\"predicted\">\n<h2>Predicted &mdash; not "
               "measured</h2>\n<p>These figures were <strong>not measured</strong>. Each was "
               "predicted by the method named; they appear in no table or chart above.</p>\n"
               "<table class=\"predicted\">\n<tr><th>model</th><th>machine</th>"
               "<th>configuration</th><th>predicted p50 ms</th><th>predicted throughput /s</th>"
               "<th>method</th></tr>\n");
    for (size_t i = 0; i < r->n_predicted; i++) {
        const struct ia_db_result_row *row = r->predicted[i];
        rp_config_label(&row->r, cfg, sizeof cfg);
        rb_puts(b, "<tr><td>");
        rb_html(b, row->model_name);
        rb_puts(b, "</td><td><code>");
        rb_html(b, row->hw_short_id);
        rb_puts(b, "</code></td><td>");
        rb_html(b, cfg);
        rb_puts(b, "</td>");
        td_num(b, rp_ms(row->r.p50_ms, s1));
        td_num(b, rp_rate(row->r.throughput_per_s, s2));
        rb_puts(b, "<td>");
        rb_html(b, row->r.prediction_method);
        rb_puts(b, "</td></tr>\n");
    }
    rb_puts(b, "</table>\n</section>\n");
}

void rp_render_html(const struct rp_report *r, struct rbuf *b) {
    html_head(r, b);
    if (r->n_measured == 0 && r->n_predicted == 0) {
        rb_puts(b, "</header>\n<p id=\"no-results\">No results yet: run <code>ipfs-accelerate "
                   "bench MODEL</code> to measure a model, then <code>ipfs-accelerate report"
                   "</code> again.</p>\n</body>\n</html>\n");
        return;
    }
    rb_putf(b,
            "<p class=\"meta\">Measured: %zu result%s from %zu run%s, %zu model/machine "
            "pair%s on %zu machine%s.</p>\n",
            r->n_measured, r->n_measured == 1 ? "" : "s", r->n_runs, r->n_runs == 1 ? "" : "s",
            r->n_groups, r->n_groups == 1 ? "" : "s", r->n_machines_measured,
            r->n_machines_measured == 1 ? "" : "s");
    rb_puts(b, "<p class=\"note\">Every figure in the tables and charts below was measured on "
               "the machine named with it. p50/p90/p99 are percentiles of per-iteration wall "
               "times (numpy's linear rule); &ldquo;unstable&rdquo; means the coefficient of "
               "variation exceeded the runner's threshold. Hover a chart point for its "
               "values.</p>\n</header>\n");
    html_machines(r, b);
    if (r->n_measured == 0)
        rb_puts(b, "<p id=\"no-results\">No measured results yet: run <code>ipfs-accelerate "
                   "bench MODEL</code>.</p>\n");
    for (size_t k = 0; k < r->n_groups; k++) html_group(r, &r->groups[k], b);
    if (r->n_groups) html_recommendations(r, b);
    if (r->n_predicted) html_predicted(r, b);
    rb_puts(b, "</body>\n</html>\n");
}
