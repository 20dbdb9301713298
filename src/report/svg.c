/* Line charts as inline SVG, drawn from measured points only.
 *
 * Layout (user units): 860 x 380; plot area x 70..590, y 40..320; legend
 * from x 610. The x axis is log2 when every x is positive and they span a
 * factor of 8 or more (batch 1..64, threads 1..16), else linear; its ticks
 * are the x values measured, so no tick claims a configuration that was not
 * run. The y axis starts at 0 and ends at a "nice" step (1, 2 or 5 x 10^k)
 * above the largest value. Colours: the Okabe-Ito palette (safe for colour
 * blindness), cycled. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ia/core.h"
#include "report/report_internal.h"

#define W 860
#define H 380
#define X0 70.0
#define X1 590.0
#define Y0 40.0
#define Y1 320.0
#define LEGEND_X 610
#define MAX_X_TICKS 12

static const char *const palette[] = {"#0072B2", "#E69F00", "#009E73", "#D55E00",
                                      "#CC79A7", "#56B4E9", "#000000", "#999999"};
#define N_COLOURS (sizeof palette / sizeof palette[0])

struct scale {
    int log2;
    double lo, hi; /* in scale space, padded */
};

static double fwd(const struct scale *s, double x) { return s->log2 ? log2(x) : x; }

static double sx(const struct scale *s, double x) {
    return X0 + (fwd(s, x) - s->lo) / (s->hi - s->lo) * (X1 - X0);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double nice_step(double range) {
    if (!(range > 0)) return 1;
    double e = pow(10, floor(log10(range))), f = range / e;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * e;
}

static void tooltip(struct rbuf *b, const struct ia_db_result_row *row) {
    char cfg[192], p50[32], p90[32], p99[32], tp[32];
    rp_config_label(&row->r, cfg, sizeof cfg);
    rb_puts(b, "<title>");
    rb_html(b, row->model_name);
    rb_puts(b, " on ");
    rb_html(b, row->hw_short_id);
    rb_puts(b, ", ");
    rb_html(b, cfg);
    rb_putf(b, ": measured p50 %s ms, p90 %s ms, p99 %s ms, throughput %s /s (",
            rp_ms(row->r.p50_ms, p50), rp_ms(row->r.p90_ms, p90), rp_ms(row->r.p99_ms, p99),
            rp_rate(row->r.throughput_per_s, tp));
    rb_putf(b, "%d iterations, run %lld, ", row->r.iterations, (long long)row->r.run_id);
    rb_html(b, row->created_at);
    rb_puts(b, row->r.unstable ? ", unstable)</title>" : ")</title>");
}

void rp_svg_chart(struct rbuf *b, const struct rp_chart *c) {
    /* Distinct x values and the y range over every point. */
    size_t n_pts = 0;
    for (size_t s = 0; s < c->n_series; s++) n_pts += c->series[s].n;
    double *xs = n_pts ? ia_calloc(n_pts, sizeof *xs) : NULL;
    if (!xs) {
        b->failed = 1;
        return;
    }
    size_t nx = 0;
    double ymax = 0, xmin = INFINITY, xmax = -INFINITY;
    for (size_t s = 0; s < c->n_series; s++)
        for (size_t i = 0; i < c->series[s].n; i++) {
            const struct rp_point *p = &c->series[s].pts[i];
            xs[nx++] = p->x;
            ymax = fmax(ymax, p->y);
            xmin = fmin(xmin, p->x);
            xmax = fmax(xmax, p->x);
        }
    qsort(xs, nx, sizeof *xs, cmp_double);
    size_t nd = 0;
    for (size_t i = 0; i < nx; i++)
        if (nd == 0 || xs[i] != xs[nd - 1]) xs[nd++] = xs[i];

    struct scale sc = {.log2 = xmin > 0 && xmax / xmin >= 8};
    sc.lo = fwd(&sc, xmin);
    sc.hi = fwd(&sc, xmax);
    if (sc.hi <= sc.lo) {
        sc.lo -= 1;
        sc.hi += 1;
    }
    double pad = (sc.hi - sc.lo) * 0.04;
    sc.lo -= pad;
    sc.hi += pad;
    double step = nice_step(ymax / 5), ytop = step * ceil(ymax * 1.05 / step);
    if (!(ytop > 0)) ytop = step;

    rb_puts(b, "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 ");
    rb_putf(b, "%d %d\" width=\"%d\" height=\"%d\" role=\"img\" data-chart=\"", W, H, W, H);
    rb_html(b, c->kind);
    rb_puts(b, "\" aria-label=\"");
    rb_html(b, c->title);
    rb_puts(b, "\">\n<text class=\"title\" x=\"70\" y=\"22\">");
    rb_html(b, c->title);
    rb_puts(b, "</text>\n");

    /* y grid, ticks and labels */
    rb_puts(b, "<g class=\"axis y\">\n");
    for (int k = 0;; k++) {
        double v = step * k;
        if (v > ytop * (1 + 1e-9)) break;
        double y = Y1 - v / ytop * (Y1 - Y0);
        rb_putf(b, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", X0, y,
                X1, y);
        rb_putf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n", X0 - 6, y + 4, v);
    }
    rb_putf(b, "<line class=\"axis-line\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", X0,
            Y0, X0, Y1);
    rb_putf(b,
            "<text class=\"label\" transform=\"translate(18 %.1f) rotate(-90)\" "
            "text-anchor=\"middle\">",
            (Y0 + Y1) / 2);
    rb_html(b, c->y_label);
    rb_puts(b, "</text>\n</g>\n");

    /* x ticks at measured values, thinned when crowded */
    rb_puts(b, "<g class=\"axis x\">\n");
    rb_putf(b, "<line class=\"axis-line\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", X0,
            Y1, X1, Y1);
    size_t every = nd > MAX_X_TICKS ? (nd + MAX_X_TICKS - 1) / MAX_X_TICKS : 1;
    for (size_t i = 0; i < nd; i += every) {
        double x = sx(&sc, xs[i]);
        rb_putf(b, "<line class=\"tick\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", x, Y1,
                x, Y1 + 5);
        rb_putf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%g</text>\n", x, Y1 + 18,
                xs[i]);
    }
    rb_putf(b, "<text class=\"label\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">", (X0 + X1) / 2,
            H - 22);
    rb_html(b, c->x_label);
    rb_puts(b, sc.log2 ? " (log scale)</text>\n</g>\n" : "</text>\n</g>\n");

    for (size_t s = 0; s < c->n_series; s++) {
        const struct rp_series *se = &c->series[s];
        const char *col = palette[s % N_COLOURS];
        rb_puts(b, "<g class=\"series\" data-series=\"");
        rb_html(b, se->name);
        rb_putf(b, "\" data-points=\"%zu\" stroke=\"%s\" fill=\"%s\">\n", se->n, col, col);
        if (se->n > 1) {
            rb_puts(b, "<polyline fill=\"none\" points=\"");
            for (size_t i = 0; i < se->n; i++)
                rb_putf(b, "%s%.1f,%.1f", i ? " " : "", sx(&sc, se->pts[i].x),
                        Y1 - se->pts[i].y / ytop * (Y1 - Y0));
            rb_puts(b, "\"/>\n");
        }
        for (size_t i = 0; i < se->n; i++) {
            const struct rp_point *p = &se->pts[i];
            rb_putf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" data-x=\"%g\" data-y=\"%.6g\">",
                    sx(&sc, p->x), Y1 - p->y / ytop * (Y1 - Y0), p->x, p->y);
            tooltip(b, p->row);
            rb_puts(b, "</circle>\n");
        }
        rb_puts(b, "</g>\n");
    }

    rb_puts(b, "<g class=\"legend\">\n");
    for (size_t s = 0; s < c->n_series; s++) {
        double y = Y0 + 10 + 20.0 * (double)s;
        if (y > H - 10) {
            rb_putf(b, "<text x=\"%d\" y=\"%.1f\">… %zu more</text>\n", LEGEND_X, y,
                    c->n_series - s);
            break;
        }
        rb_putf(b, "<rect x=\"%d\" y=\"%.1f\" width=\"12\" height=\"12\" fill=\"%s\"/>", LEGEND_X,
                y - 10, palette[s % N_COLOURS]);
        rb_putf(b, "<text x=\"%d\" y=\"%.1f\">", LEGEND_X + 18, y);
        rb_html(b, c->series[s].name);
        rb_puts(b, "</text>\n");
    }
    rb_puts(b, "</g>\n</svg>\n");
    ia_free(xs);
}
