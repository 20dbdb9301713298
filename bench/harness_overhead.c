/* What the benchmark harness costs per iteration, measured with the same
 * loop the runner uses (ia_bench_loop_single):
 *   empty   a query that does nothing: its timed value is the cost of the
 *           two clock reads around a query; wall / n is everything the
 *           loop does per iteration (clock reads, bookkeeping, the call);
 *   1 ms    a query that spins for 1.000 ms on the monotonic clock: the
 *           timed mean minus 1 ms is what the harness adds inside a
 *           measurement.
 * Prints both and the overhead as a share of a 1 ms inference.
 * Build: bench/harness_overhead.sh BUILD_DIR. */
#include <math.h>
#include <stdio.h>
#include <time.h>

#include "ia/bench.h"
#include "ia/core.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int empty(void *u) {
    (void)u;
    return IA_OK;
}

static int spin_1ms(void *u) {
    (void)u;
    double end = now() + 1e-3;
    while (now() < end) {
    }
    return IA_OK;
}

static int measure(ia_bench_query_fn fn, int min_it, double min_t, struct ia_bench_stats *st,
                   double *wall_per_it_ms) {
    struct ia_bench_loop_opts o = {.warmup = 10, .min_iterations = min_it, .min_time_s = min_t,
                                   .max_iterations = 2000000};
    struct ia_bench_samples s;
    int rc = ia_bench_loop_single(fn, NULL, &o, &s);
    if (rc == IA_OK) rc = ia_bench_stats_compute(s.ms, s.n, 0, st, NULL);
    if (rc == IA_OK) *wall_per_it_ms = s.wall_s * 1e3 / (double)s.n;
    ia_bench_samples_free(&s);
    return rc;
}

int main(void) {
    struct ia_bench_stats e, one;
    double e_wall, one_wall;
    if (measure(empty, 100000, 0.5, &e, &e_wall) != IA_OK ||
        measure(spin_1ms, 500, 0.5, &one, &one_wall) != IA_OK) {
        fprintf(stderr, "harness_overhead: %s\n", ia_error_msg());
        return 1;
    }
    printf("| loop | iterations | timed p50 | timed mean | wall per iteration |\n");
    printf("|---|---:|---:|---:|---:|\n");
    printf("| empty query | %zu | %.1f ns | %.1f ns | %.1f ns |\n", e.n, e.p50_ms * 1e6,
           e.mean_ms * 1e6, e_wall * 1e6);
    printf("| 1 ms spin | %zu | %.4f ms | %.4f ms | %.4f ms |\n", one.n, one.p50_ms, one.mean_ms,
           one_wall);
    printf("\nharness overhead per iteration (empty loop, wall): %.1f ns = %.4f %% of a 1 ms "
           "inference\n",
           e_wall * 1e6, e_wall / 1.0 * 100);
    printf("inside the timing (empty query p50): %.1f ns = %.4f %%; 1 ms spin measured as "
           "%.4f ms (p50), %+.4f %%\n",
           e.p50_ms * 1e6, e.p50_ms * 100, one.p50_ms, (one.p50_ms - 1.0) * 100);
    return 0;
}
