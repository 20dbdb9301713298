/* Private to src/report: a growing text buffer, the report's data model
 * (results grouped by model and machine, latest vs previous, the best
 * configurations) built once and rendered by md.c, html.c and json.c. */
#ifndef IA_REPORT_INTERNAL_H
#define IA_REPORT_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>

#include "ia/db.h"
#include "ia/report.h"

/* ---- text buffer ----------------------------------------------------------- */

/* Appends never fail visibly: an allocation failure sets `failed` and later
 * appends do nothing; the caller checks once at the end. */
struct rbuf {
    char *p;
    size_t len, cap;
    int failed;
};
void rb_puts(struct rbuf *b, const char *s);
void rb_putf(struct rbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void rb_html(struct rbuf *b, const char *s);    /* escaped for text and attribute values */
void rb_md(struct rbuf *b, const char *s);      /* escaped for a Markdown table cell */
void rb_md_code(struct rbuf *b, const char *s); /* inside `code` (no backslash escapes there) */

/* Numbers as the report prints them; NaN / negative sizes give "n/a". */
const char *rp_ms(double v, char buf[32]);
const char *rp_rate(double v, char buf[32]);
const char *rp_bytes(int64_t v, char buf[32]);
const char *rp_count(int64_t v, char buf[32]); /* 4.4 M, 1.2 G */

/* ---- data model ------------------------------------------------------------ */

enum rp_verdict { RP_NO_PREVIOUS = 0, RP_WITHIN_NOISE, RP_REGRESSION, RP_IMPROVEMENT };
const char *rp_verdict_name(enum rp_verdict v); /* "regression", ... */

struct rp_config {
    const struct ia_db_result_row *latest;
    const struct ia_db_result_row *previous; /* latest of an earlier run, or NULL */
    enum rp_verdict verdict;
    double delta_ms, change_rel, noise_ms; /* when previous */
    size_t n_measurements;                 /* rows of this configuration */
};

/* Index into configs, or -1; `unstable` when no stable config was there. */
struct rp_pick {
    int index;
    int unstable;
};

struct rp_group {
    const struct ia_db_result_row *first; /* model and machine fields */
    const char *hw_label;                 /* "TEST CPU, 4 logical CPUs, 8.00 GiB RAM" */
    size_t n_configs;
    struct rp_config *configs; /* sorted: scenario, precision, seq, threads, batch */
    size_t cap_configs;
    struct rp_pick best_latency, best_throughput, best_memory;
    int has_decoder, has_server; /* some config has those metrics */
};

struct rp_report {
    const struct ia_report_options *opt;
    const char *db_location;
    char generated_at[32];
    int schema_version;
    struct ia_db_result_list results;
    struct ia_db_hardware_list hardware;
    char **hw_labels; /* (hardware.n) rp_hw_label's strings */
    size_t n_groups;
    struct rp_group *groups;
    size_t n_predicted;
    const struct ia_db_result_row **predicted;
    size_t n_measured, n_runs, n_machines_measured;
    double regression_rel, regression_sigmas;
};

int rp_build(struct ia_db *db, const struct ia_report_options *opt, struct rp_report *out);
void rp_free(struct rp_report *r);
/* "single-stream b=8 seq=128 t=2 fp32" (seq left out when the model has none). */
void rp_config_label(const struct ia_db_result *r, char *buf, size_t cap);
/* "stable", "unstable" ("**unstable**" in markdown) or "n/a" when no CV
 * was stored. */
const char *rp_stability(const struct ia_db_result *r, int markdown);
/* Machine description for a fingerprint from the hardware rows (never NULL). */
const char *rp_hw_label(const struct rp_report *r, const char *fingerprint);

void rp_render_md(const struct rp_report *r, struct rbuf *b);
void rp_render_html(const struct rp_report *r, struct rbuf *b);
int rp_render_json(const struct rp_report *r, struct rbuf *b);

/* ---- charts ---------------------------------------------------------------- */

struct rp_point {
    double x, y;
    const struct ia_db_result_row *row; /* for the tooltip */
};
struct rp_series {
    char name[128];
    size_t n;
    struct rp_point *pts; /* sorted by x */
};
struct rp_chart {
    const char *kind; /* data-chart: "latency-vs-batch", "throughput-vs-threads" */
    const char *title, *x_label, *y_label;
    size_t n_series;
    struct rp_series *series;
};
/* Writes an inline <svg> of a line chart: axes, ticks, labels, a legend,
 * one <g class="series" data-series="NAME"> per series whose points carry
 * their measured values in <title> tooltips. */
void rp_svg_chart(struct rbuf *b, const struct rp_chart *c);

#endif
