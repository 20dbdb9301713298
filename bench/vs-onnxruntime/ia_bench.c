/* Our side of bench/vs-onnxruntime: loads a model, runs it WARMUP times
 * untimed and REPS times timed with the given inputs, and prints one JSON
 * line: {"engine":"ours","threads":T,"load_s":..,"ms":[..]}. With -o DIR
 * the outputs of the last run are written as DIR/<k>.npy (k = output
 * index), for the ours-vs-ORT check run.sh does. -n runs the graph as
 * written (no constant folding, no fusion), to measure what fusion gives.
 * Built by run.sh against the Release library:
 *
 *   ia_bench [-n] [-o DIR] MODEL THREADS WARMUP REPS NAME=FILE.npy ...
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ia/core.h"
#include "ia/engine.h"
#include "ia/onnx.h"
#include "ia/tensor_io.h"

#define MAX_IN 64

static int fail(const char *what) {
    fprintf(stderr, "ia_bench: %s: %s\n", what, ia_error_msg());
    return 1;
}

int main(int argc, char **argv) {
    const char *outdir = NULL;
    int a = 1, no_fold = 0;
    if (argc > a && !strcmp(argv[a], "-n")) {
        no_fold = 1;
        a++;
    }
    if (argc > a + 1 && !strcmp(argv[a], "-o")) {
        outdir = argv[a + 1];
        a += 2;
    }
    if (argc - a < 4 || argc - a - 4 > MAX_IN) {
        fprintf(stderr, "usage: ia_bench [-n] [-o DIR] MODEL THREADS WARMUP REPS NAME=FILE.npy ...\n");
        return 2;
    }
    const char *path = argv[a];
    int threads = atoi(argv[a + 1]), warm = atoi(argv[a + 2]), reps = atoi(argv[a + 3]);
    if (threads < 1 || warm < 0 || reps < 1 || reps > 100000) {
        fprintf(stderr, "ia_bench: bad THREADS/WARMUP/REPS\n");
        return 2;
    }
    size_t n_in = (size_t)(argc - a - 4);
    const char *names[MAX_IN];
    struct ia_tensor *owned[MAX_IN] = {0};
    const struct ia_tensor *ins[MAX_IN];
    for (size_t i = 0; i < n_in; i++) {
        char *spec = argv[a + 4 + (int)i], *eq = strchr(spec, '=');
        if (!eq) {
            fprintf(stderr, "ia_bench: wants NAME=FILE, got '%s'\n", spec);
            return 2;
        }
        *eq = '\0';
        names[i] = spec;
        if (ia_tensor_io_read(eq + 1, &owned[i])) return fail(eq + 1);
        ins[i] = owned[i];
    }
    double t0 = ia_time_now();
    struct ia_model *m;
    if (ia_onnx_load(path, &m)) return fail(path);
    struct ia_session_opts o = {.threads = threads, .no_fold = no_fold};
    struct ia_session *s;
    if (ia_session_create(m, &o, &s)) return fail("session");
    double load_s = ia_time_now() - t0;
    size_t n_out = ia_session_n_outputs(s);
    struct ia_tensor *const *outs;
    double *ms = malloc(sizeof(double) * (size_t)reps);
    if (!ms) return 1;
    for (int r = 0; r < warm + reps; r++) {
        double t = ia_time_now();
        if (ia_session_run(s, n_in, names, ins, n_out, &outs)) return fail("run");
        t = ia_time_now() - t;
        if (r >= warm) ms[r - warm] = t * 1e3;
    }
    struct ia_session_stats st;
    ia_session_get_stats(s, &st);
    printf("{\"engine\":\"ours\",\"threads\":%d,\"load_s\":%.3f,\"dynamic_bytes\":%llu,"
           "\"arena_bytes\":%llu,\"ms\":[",
           threads, load_s, (unsigned long long)st.dynamic_bytes,
           (unsigned long long)st.arena_bytes);
    for (int r = 0; r < reps; r++) printf("%s%.3f", r ? "," : "", ms[r]);
    printf("]}\n");
    for (size_t k = 0; outdir && k < n_out; k++) {
        char p[4096];
        snprintf(p, sizeof p, "%s/%zu.npy", outdir, k);
        if (ia_tensor_io_write(p, IA_TENSOR_FORMAT_NPY, outs[k], NULL)) return fail(p);
    }
    free(ms);
    ia_session_destroy(s);
    ia_model_free(m);
    for (size_t i = 0; i < n_in; i++) ia_tensor_io_free(owned[i]);
    return 0;
}
