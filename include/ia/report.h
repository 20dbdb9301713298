/*
 * report: what the results database says, as Markdown, one self-contained
 * HTML page (inline CSS and SVG charts drawn here; no scripts, no fetches),
 * or JSON for machines.
 *
 * For each model on each machine (hardware fingerprint):
 *   - the latest measurement of every configuration (scenario, batch,
 *     sequence length, threads, precision): p50/p90/p99, throughput, peak
 *     memory, stable/unstable (CV over the threshold the runner applied);
 *   - HTML only: p50 latency against batch size (one series per scenario,
 *     seq, threads, precision) and throughput against threads (one series
 *     per scenario, batch, seq, precision), drawn only when some series has
 *     two or more points;
 *   - the latest run against the previous run of the same configuration:
 *     a p50 change larger than max(regression_sigmas * stddev,
 *     regression_rel * previous p50) is a regression (slower) or an
 *     improvement (faster), else "within noise"; stddev is the larger of
 *     the two results' standard deviations;
 * then recommendations computed from those latest measurements: per model
 * and machine, the configuration with the lowest p50, the highest
 * throughput and the lowest peak RSS, chosen among stable results when
 * there are any (else among all, marked unstable).
 *
 * Predicted results (is_predicted = 1) appear only in their own section,
 * labelled as predictions with their method, and never in the tables,
 * charts, comparisons or recommendations of measurements.
 *
 * A database without results gives a short document saying so (exit 0 in
 * the CLI): "No results yet: run `ipfs-accelerate bench MODEL` ...".
 */
#ifndef IA_REPORT_H
#define IA_REPORT_H

#include <stddef.h>

#include "ia/db.h"

#ifdef __cplusplus
extern "C" {
#endif

enum ia_report_format { IA_REPORT_MD = 0, IA_REPORT_HTML, IA_REPORT_JSON };

struct ia_report_options {
    enum ia_report_format format;
    double regression_rel;    /* 0 = 0.05 (5 % of the previous p50) */
    double regression_sigmas; /* 0 = 2 */
    const char *generated_at; /* shown as the generation time; NULL = now */
};

/* "md" (or "markdown"), "html", "json". IA_EINVAL otherwise. */
int ia_report_format_parse(const char *name, enum ia_report_format *out);

/* Renders the report of everything in db. *out is ia_malloc'd, NUL
 * terminated, *len bytes without the NUL; the caller frees it. Returns
 * IA_OK, IA_ENOMEM, or the database's error. */
int ia_report_render(struct ia_db *db, const struct ia_report_options *opt, char **out,
                     size_t *len);

#ifdef __cplusplus
}
#endif
#endif
