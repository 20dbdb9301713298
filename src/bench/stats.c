/* Benchmark statistics (definitions in include/ia/bench.h). Two passes for
 * the mean and deviation rather than a running update: the samples are all
 * in memory and the two-pass form is the more accurate one. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ia/bench.h"
#include "ia/core.h"

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y ? 1 : 0;
}

double ia_bench_quantile_sorted(const double *sorted, size_t n, double q) {
    IA_ASSERT(n >= 1);
    if (q <= 0) return sorted[0];
    if (q >= 1) return sorted[n - 1];
    double h = (double)(n - 1) * q;
    size_t i = (size_t)floor(h);
    if (i >= n - 1) return sorted[n - 1];
    return sorted[i] + (h - (double)i) * (sorted[i + 1] - sorted[i]);
}

int ia_bench_stats_compute(const double *samples_ms, size_t n, double cv_threshold,
                           struct ia_bench_stats *out, uint8_t *is_outlier) {
    memset(out, 0, sizeof *out);
    if (n == 0) return ia_error_set(IA_EINVAL, "bench stats: no samples");
    if (!isfinite(cv_threshold) || cv_threshold < 0)
        return ia_error_set(IA_EINVAL, "bench stats: bad CV threshold %g", cv_threshold);
    if (cv_threshold == 0) cv_threshold = IA_BENCH_CV_THRESHOLD_DEFAULT;
    for (size_t i = 0; i < n; i++)
        if (!isfinite(samples_ms[i]) || samples_ms[i] < 0)
            return ia_error_set(IA_EINVAL, "bench stats: sample %zu is %g ms", i, samples_ms[i]);

    size_t bytes;
    if (ia_mul_size(n, sizeof(double), &bytes))
        return ia_error_set(IA_ENOMEM, "bench stats: %zu samples", n);
    double *sorted = ia_malloc(bytes), *dev = ia_malloc(bytes);
    if (!sorted || !dev) {
        ia_free(sorted);
        ia_free(dev);
        return ia_error_set(IA_ENOMEM, "bench stats: out of memory");
    }
    memcpy(sorted, samples_ms, bytes);
    qsort(sorted, n, sizeof(double), cmp_double);

    double sum = 0;
    for (size_t i = 0; i < n; i++) sum += samples_ms[i];
    double mean = sum / (double)n, ss = 0;
    for (size_t i = 0; i < n; i++) ss += (samples_ms[i] - mean) * (samples_ms[i] - mean);

    out->n = n;
    out->mean_ms = mean;
    out->stddev_ms = n > 1 ? sqrt(ss / (double)(n - 1)) : 0.0;
    out->cv = mean > 0 ? out->stddev_ms / mean : 0.0;
    out->min_ms = sorted[0];
    out->max_ms = sorted[n - 1];
    out->p50_ms = ia_bench_quantile_sorted(sorted, n, 0.50);
    out->p90_ms = ia_bench_quantile_sorted(sorted, n, 0.90);
    out->p99_ms = ia_bench_quantile_sorted(sorted, n, 0.99);
    out->cv_threshold = cv_threshold;
    out->unstable = out->cv > cv_threshold;

    double med = out->p50_ms, abs_sum = 0;
    for (size_t i = 0; i < n; i++) {
        dev[i] = fabs(samples_ms[i] - med);
        abs_sum += dev[i];
    }
    qsort(dev, n, sizeof(double), cmp_double);
    out->mad_ms = ia_bench_quantile_sorted(dev, n, 0.5);
    double scale = out->mad_ms > 0 ? IA_BENCH_MAD_TO_SIGMA * out->mad_ms
                                   : IA_BENCH_MEANAD_TO_SIGMA * (abs_sum / (double)n);
    out->outlier_limit_ms = scale > 0 ? IA_BENCH_OUTLIER_K * scale : INFINITY;
    for (size_t i = 0; i < n; i++) {
        int o = fabs(samples_ms[i] - med) > out->outlier_limit_ms;
        out->n_outliers += (size_t)o;
        if (is_outlier) is_outlier[i] = (uint8_t)o;
    }
    ia_free(sorted);
    ia_free(dev);
    return IA_OK;
}
