/* The timing loops behind the scenarios, after MLPerf LoadGen:
 *   single-stream  one query after another; each query's latency is the
 *                  monotonic clock read right before and right after it,
 *                  so only the query (one ia_session_run) is inside;
 *   offline        the same loop at the largest batch: every sample is
 *                  available at once and processed back to back;
 *   server         queries arrive as a Poisson process and queue; latency
 *                  runs from a query's arrival to its completion.
 * They take the query as a function and the clock as a table, so tests
 * drive them with a virtual clock and the harness overhead can be timed
 * with an empty query (bench/harness_overhead.c). */
#include <errno.h>
#include <math.h>
#include <string.h>
#include <time.h>

#include "ia/bench.h"
#include "ia/core.h"

static double real_now(void *u) {
    (void)u;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void real_sleep_until(void *u, double t) {
    (void)u;
    struct timespec ts;
    ts.tv_sec = (time_t)t;
    ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
    if (ts.tv_nsec >= 1000000000L) ts.tv_nsec = 999999999L;
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
    }
}

struct clk {
    double (*now)(void *);
    void (*sleep_until)(void *, double);
    void *user;
};

static struct clk clk_of(const struct ia_bench_loop_opts *o) {
    struct clk c = {real_now, real_sleep_until, NULL};
    if (o->clock) {
        if (o->clock->now) c.now = o->clock->now;
        if (o->clock->sleep_until) c.sleep_until = o->clock->sleep_until;
        c.user = o->clock->user;
    }
    return c;
}

void ia_bench_samples_free(struct ia_bench_samples *s) {
    if (!s) return;
    ia_free(s->ms);
    memset(s, 0, sizeof *s);
}

static int check_opts(const struct ia_bench_loop_opts *o, size_t *cap) {
    if (o->warmup < 0 || o->min_iterations < 1 || o->max_iterations < 0 ||
        !(o->min_time_s >= 0) || !isfinite(o->min_time_s))
        return ia_error_set(IA_EINVAL, "bench loop: bad options (warmup %d, min iterations %d, "
                                       "max iterations %d, min time %g s)",
                            o->warmup, o->min_iterations, o->max_iterations, o->min_time_s);
    *cap = (size_t)(o->max_iterations ? o->max_iterations : IA_BENCH_MAX_ITERATIONS);
    if (*cap < (size_t)o->min_iterations) *cap = (size_t)o->min_iterations;
    return IA_OK;
}

static int stopped(const struct ia_bench_loop_opts *o) { return o->stop && *o->stop; }

static void report(const struct ia_bench_loop_opts *o, size_t n, double elapsed) {
    if (!o->progress) return;
    double fi = (double)n / (double)o->min_iterations;
    double ft = o->min_time_s > 0 ? elapsed / o->min_time_s : 1.0;
    double f = fi < ft ? fi : ft;
    o->progress(o->progress_user, f > 1 ? 1 : f);
}

static int warm(ia_bench_query_fn fn, void *user, const struct ia_bench_loop_opts *o) {
    for (int i = 0; i < o->warmup; i++) {
        if (stopped(o)) return ia_error_set(IA_ECANCELED, "stopped during warm-up");
        int rc = fn(user);
        if (rc != IA_OK) return rc;
    }
    return IA_OK;
}

int ia_bench_loop_single(ia_bench_query_fn fn, void *user, const struct ia_bench_loop_opts *o,
                         struct ia_bench_samples *out) {
    memset(out, 0, sizeof *out);
    size_t cap = 0;
    int rc = check_opts(o, &cap);
    if (rc != IA_OK) return rc;
    out->ms = ia_malloc(cap * sizeof *out->ms); /* up front: nothing allocates while timing */
    if (!out->ms) return ia_error_set(IA_ENOMEM, "bench loop: out of memory");
    struct clk c = clk_of(o);
    rc = warm(fn, user, o);
    double start = c.now(c.user), t1 = start;
    while (rc == IA_OK && out->n < cap) {
        if (stopped(o)) {
            rc = ia_error_set(IA_ECANCELED, "stopped after %zu iterations", out->n);
            break;
        }
        double t0 = c.now(c.user);
        rc = fn(user);
        t1 = c.now(c.user);
        if (rc != IA_OK) break;
        out->ms[out->n++] = (t1 - t0) * 1e3;
        report(o, out->n, t1 - start);
        if (out->n >= (size_t)o->min_iterations && t1 - start >= o->min_time_s) break;
    }
    out->wall_s = t1 - start;
    if (rc != IA_OK) ia_bench_samples_free(out);
    return rc;
}

int ia_bench_loop_server(ia_bench_query_fn fn, void *user, const struct ia_bench_loop_opts *o,
                         double target_qps, uint64_t seed, struct ia_bench_samples *out,
                         double *achieved_qps) {
    memset(out, 0, sizeof *out);
    *achieved_qps = NAN;
    if (!(target_qps > 0) || !isfinite(target_qps))
        return ia_error_set(IA_EINVAL, "server scenario: target QPS must be > 0, got %g",
                            target_qps);
    size_t cap = 0;
    int rc = check_opts(o, &cap);
    if (rc != IA_OK) return rc;
    out->ms = ia_malloc(cap * sizeof *out->ms);
    if (!out->ms) return ia_error_set(IA_ENOMEM, "bench loop: out of memory");
    struct clk c = clk_of(o);
    rc = warm(fn, user, o);
    struct ia_bench_rng rng;
    ia_bench_rng_seed(&rng, seed);
    double start = c.now(c.user), arrival = start, done = start;
    while (rc == IA_OK && out->n < cap) {
        if (stopped(o)) {
            rc = ia_error_set(IA_ECANCELED, "stopped after %zu queries", out->n);
            break;
        }
        /* The server is idle until the query arrives; a query that arrived
         * while the previous one ran has been waiting in the queue. */
        if (c.now(c.user) < arrival) c.sleep_until(c.user, arrival);
        rc = fn(user);
        done = c.now(c.user);
        if (rc != IA_OK) break;
        out->ms[out->n++] = (done - arrival) * 1e3;
        report(o, out->n, done - start);
        if (out->n >= (size_t)o->min_iterations && done - start >= o->min_time_s) break;
        arrival += ia_bench_rng_exp(&rng, target_qps);
    }
    out->wall_s = done - start;
    if (rc != IA_OK) {
        ia_bench_samples_free(out);
        return rc;
    }
    *achieved_qps = out->wall_s > 0 ? (double)out->n / out->wall_s : NAN;
    return IA_OK;
}
