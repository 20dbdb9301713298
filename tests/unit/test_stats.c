/* Benchmark statistics against values worked out by hand (shown in the
 * comments) and cross-checked with Python's statistics module, whose
 * quantiles(method="inclusive") is numpy.percentile's default "linear". */
#include <math.h>

#include "check.h"
#include "ia/bench.h"
#include "ia/core.h"

#define CHECK_NEAR(a, b)                                                                           \
    do {                                                                                           \
        double x_ = (a), y_ = (b);                                                                 \
        if (!(fabs(x_ - y_) <= 1e-9 * fmax(1.0, fabs(y_)))) {                                      \
            fprintf(stderr, "%s:%d: CHECK failed: %s == %s (%.17g != %.17g)\n", __FILE__,          \
                    __LINE__, #a, #b, x_, y_);                                                     \
            check_failures++;                                                                      \
            check_test_failed = 1;                                                                 \
        }                                                                                          \
    } while (0)

/* sorted: 10 10 11 11 11 12 12 12 13 50
 * p50: h = 9*0.5 = 4.5 -> 11 + 0.5*(12-11) = 11.5
 * p90: h = 8.1 -> 13 + 0.1*(50-13) = 16.7;  p99: h = 8.91 -> 13 + 0.91*37 = 46.67
 * |x - 11.5|: six 0.5, three 1.5, one 38.5 -> MAD 0.5; limit 3.5*1.4826*0.5 = 2.59455
 * so only the 50 (index 4) is an outlier. */
static void test_reference_values(void) {
    const double x[] = {10, 12, 11, 13, 50, 11, 12, 10, 11, 12};
    uint8_t out[10];
    struct ia_bench_stats s;
    REQUIRE(ia_bench_stats_compute(x, 10, 0, &s, out) == IA_OK);
    CHECK_EQ_INT(s.n, 10);
    CHECK_NEAR(s.mean_ms, 15.2);
    CHECK_NEAR(s.stddev_ms, 12.263767773404714);
    CHECK_NEAR(s.cv, 0.8068268271976786);
    CHECK_NEAR(s.min_ms, 10);
    CHECK_NEAR(s.max_ms, 50);
    CHECK_NEAR(s.p50_ms, 11.5);
    CHECK_NEAR(s.p90_ms, 16.7);
    CHECK_NEAR(s.p99_ms, 46.67);
    CHECK_NEAR(s.mad_ms, 0.5);
    CHECK_NEAR(s.outlier_limit_ms, 2.59455);
    CHECK_EQ_INT(s.n_outliers, 1);
    for (int i = 0; i < 10; i++) CHECK_EQ_INT(out[i], i == 4);
    CHECK_EQ_INT(s.unstable, 1); /* cv 0.81 > default 0.1 */
    CHECK_NEAR(s.cv_threshold, IA_BENCH_CV_THRESHOLD_DEFAULT);
}

/* 1 2 3 4: mean 2.5, sample sd sqrt(5/3), p90 = 3 + 0.7 = 3.7, p99 = 3.97. */
static void test_small_even(void) {
    const double x[] = {4, 1, 3, 2};
    struct ia_bench_stats s;
    REQUIRE(ia_bench_stats_compute(x, 4, 0.6, &s, NULL) == IA_OK);
    CHECK_NEAR(s.mean_ms, 2.5);
    CHECK_NEAR(s.stddev_ms, sqrt(5.0 / 3.0));
    CHECK_NEAR(s.p50_ms, 2.5);
    CHECK_NEAR(s.p90_ms, 3.7);
    CHECK_NEAR(s.p99_ms, 3.97);
    CHECK_EQ_INT(s.n_outliers, 0);
    CHECK_EQ_INT(s.unstable, 0); /* cv 0.516 <= 0.6 */
    REQUIRE(ia_bench_stats_compute(x, 4, 0.5, &s, NULL) == IA_OK);
    CHECK_EQ_INT(s.unstable, 1);
}

static void test_single_and_constant(void) {
    const double one[] = {5};
    struct ia_bench_stats s;
    uint8_t o[7];
    REQUIRE(ia_bench_stats_compute(one, 1, 0, &s, o) == IA_OK);
    CHECK_NEAR(s.mean_ms, 5);
    CHECK_NEAR(s.stddev_ms, 0);
    CHECK_NEAR(s.cv, 0);
    CHECK_NEAR(s.p50_ms, 5);
    CHECK_NEAR(s.p99_ms, 5);
    CHECK_EQ_INT(s.n_outliers, 0);
    CHECK(isinf(s.outlier_limit_ms));
    CHECK_EQ_INT(o[0], 0);

    const double zeros[] = {0, 0, 0};
    REQUIRE(ia_bench_stats_compute(zeros, 3, 0, &s, o) == IA_OK);
    CHECK_NEAR(s.cv, 0);
    CHECK_EQ_INT(s.unstable, 0);
    CHECK_EQ_INT(s.n_outliers, 0);
}

/* 4 4 4 4 4 4 9: MAD 0, so the scale is 1.2533 * mean|x-4| = 1.2533*5/7;
 * limit 3.5 * that = 3.13325, and 9 (5 from the median) is an outlier. */
static void test_mad_zero_fallback(void) {
    const double x[] = {4, 4, 4, 4, 4, 4, 9};
    uint8_t o[7];
    struct ia_bench_stats s;
    REQUIRE(ia_bench_stats_compute(x, 7, 0, &s, o) == IA_OK);
    CHECK_NEAR(s.mad_ms, 0);
    CHECK_NEAR(s.outlier_limit_ms, 3.13325);
    CHECK_EQ_INT(s.n_outliers, 1);
    CHECK_EQ_INT(o[6], 1);
    CHECK_EQ_INT(o[0], 0);
    CHECK_NEAR(s.p90_ms, 6.0); /* h = 5.4 -> 4 + 0.4*5 */
    CHECK_NEAR(s.p99_ms, 8.7); /* h = 5.94 -> 4 + 0.94*5 */
}

/* 1..20 and 100: median 11, MAD 5, limit 3.5*1.4826*5 = 25.9455. */
static void test_outlier_kept_in_stats(void) {
    double x[21];
    for (int i = 0; i < 20; i++) x[i] = i + 1;
    x[20] = 100;
    struct ia_bench_stats s;
    REQUIRE(ia_bench_stats_compute(x, 21, 0, &s, NULL) == IA_OK);
    CHECK_EQ_INT(s.n_outliers, 1);
    CHECK_NEAR(s.max_ms, 100); /* flagged, not removed */
    CHECK_NEAR(s.mean_ms, 310.0 / 21.0);
    CHECK_NEAR(s.stddev_ms, 20.36395040728778);
    CHECK_NEAR(s.p99_ms, 84.0); /* h = 19.8 -> 20 + 0.8*80 */
    CHECK_NEAR(s.outlier_limit_ms, 25.9455);
}

static void test_quantile_edges(void) {
    const double x[] = {1, 2, 4};
    CHECK_NEAR(ia_bench_quantile_sorted(x, 3, 0), 1);
    CHECK_NEAR(ia_bench_quantile_sorted(x, 3, 1), 4);
    CHECK_NEAR(ia_bench_quantile_sorted(x, 3, 0.75), 3); /* h = 1.5 */
}

static void test_bad_input(void) {
    struct ia_bench_stats s;
    const double bad[] = {1, NAN, 3};
    const double neg[] = {1, -2};
    const double inf[] = {INFINITY};
    const double ok[] = {1};
    CHECK_EQ_INT(ia_bench_stats_compute(ok, 0, 0, &s, NULL), IA_EINVAL);
    CHECK_EQ_INT(ia_bench_stats_compute(bad, 3, 0, &s, NULL), IA_EINVAL);
    CHECK_EQ_INT(ia_bench_stats_compute(neg, 2, 0, &s, NULL), IA_EINVAL);
    CHECK_EQ_INT(ia_bench_stats_compute(inf, 1, 0, &s, NULL), IA_EINVAL);
    CHECK_EQ_INT(ia_bench_stats_compute(ok, 1, -1, &s, NULL), IA_EINVAL);
    CHECK_EQ_INT(ia_bench_stats_compute(ok, 1, NAN, &s, NULL), IA_EINVAL);
}

static void test_alloc_failure(void) {
    const double x[] = {1, 2, 3};
    struct ia_bench_stats s;
    ia_alloc_fail_after(0);
    int rc = ia_bench_stats_compute(x, 3, 0, &s, NULL);
    ia_alloc_fail_after(-1);
    CHECK_EQ_INT(rc, IA_ENOMEM);
    ia_alloc_fail_after(1);
    rc = ia_bench_stats_compute(x, 3, 0, &s, NULL);
    ia_alloc_fail_after(-1);
    CHECK_EQ_INT(rc, IA_ENOMEM);
}

TEST_MAIN(T(test_reference_values), T(test_small_even), T(test_single_and_constant),
          T(test_mad_zero_fallback), T(test_outlier_kept_in_stats), T(test_quantile_edges),
          T(test_bad_input), T(test_alloc_failure))
