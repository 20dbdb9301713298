/* Neural-network kernels called directly (infer, allocate, compute):
 * every SGEMM path against the reference loop on odd shapes, MatMul and
 * Gemm broadcasting and dtypes, Conv/ConvTranspose against direct
 * loops written here, pools, normalisations, softmax forms, and bad
 * shapes that must fail with a message rather than crash. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "ia/kernels.h"
#include "kernels/cpu/gemm.h"

static struct ia_pool *pool2;

/* ---- harness ------------------------------------------------------------------- */

static struct ia_tensor *mk(enum ia_dtype dt, int rank, const int64_t *dims, const void *data) {
    struct ia_tensor *t = calloc(1, sizeof *t);
    if (!t || ia_tensor_set_shape(t, dt, rank, dims)) {
        free(t);
        return NULL;
    }
    t->name = "t";
    t->data = calloc(1, t->nbytes ? t->nbytes : 1);
    if (data && t->nbytes) memcpy(t->data, data, t->nbytes);
    return t;
}

static void rm(struct ia_tensor *t) {
    if (!t) return;
    free(t->data);
    free(t);
}

/* Random floats in [-1, 1), fixed seed per call site. */
static struct ia_tensor *mk_rand(int rank, const int64_t *dims, unsigned seed) {
    struct ia_tensor *t = mk(IA_DTYPE_FLOAT32, rank, dims, NULL);
    if (!t) return NULL;
    float *p = t->data;
    for (uint64_t i = 0; i < t->numel; i++) {
        seed = seed * 1103515245u + 12345u;
        p[i] = (float)((seed >> 8) & 0xffff) / 32768.0f - 1.0f;
    }
    return t;
}

static struct ia_onnx_attr ai(const char *name, int64_t v) {
    struct ia_onnx_attr a = {.name = name, .type = IA_ONNX_ATTR_INT, .i = v};
    return a;
}
static struct ia_onnx_attr af(const char *name, float v) {
    struct ia_onnx_attr a = {.name = name, .type = IA_ONNX_ATTR_FLOAT, .f = v};
    return a;
}
static struct ia_onnx_attr as(const char *name, const char *v) {
    struct ia_onnx_attr a = {.name = name, .type = IA_ONNX_ATTR_STRING};
    a.s.data = (const uint8_t *)v;
    a.s.len = strlen(v);
    return a;
}
static struct ia_onnx_attr ais(const char *name, size_t n, const int64_t *v) {
    struct ia_onnx_attr a = {.name = name, .type = IA_ONNX_ATTR_INTS, .n = n, .ints = v};
    return a;
}

static void *scratch_mem[64];
static int n_scratch;
static void *test_scratch(struct ia_op_ctx *ctx, size_t bytes) {
    (void)ctx;
    if (n_scratch == 64) return NULL;
    return scratch_mem[n_scratch++] = malloc(bytes ? bytes : 1);
}

#define MAX_OUT 5
/* Runs an op; outputs land in out[0..n_out) (out[i] NULL: not wanted),
 * each a calloc'd tensor the caller frees with rm(). */
static int run(const char *domain, const char *op, int64_t opset, const struct ia_onnx_attr *attrs,
               size_t n_attrs, size_t n_in, const struct ia_tensor *const *in, size_t n_out,
               struct ia_tensor **out, struct ia_pool *pool) {
    const struct ia_op_def *d = ia_kernels_find(domain, op, opset);
    if (!d) return IA_ENOTFOUND;
    struct ia_onnx_node node = {.name = "n", .op_type = op, .domain = domain, .n_inputs = n_in,
                                .n_outputs = n_out, .n_attrs = n_attrs, .attrs = attrs};
    struct ia_tensor *o[MAX_OUT] = {0};
    for (size_t i = 0; i < n_out; i++) {
        if (!out[i]) continue;
        out[i] = calloc(1, sizeof *out[i]);
        out[i]->name = "y";
        o[i] = out[i];
    }
    struct ia_op_ctx ctx = {.node = &node, .opset = opset, .n_inputs = n_in, .inputs = in,
                            .n_outputs = n_out, .outputs = o, .pool = pool,
                            .scratch = test_scratch};
    int rc = d->infer(&ctx);
    for (size_t i = 0; !rc && i < n_out; i++)
        if (o[i]) {
            o[i]->data = malloc(o[i]->nbytes ? o[i]->nbytes : 1);
            memset(o[i]->data, 0xab, o[i]->nbytes);
        }
    if (!rc) rc = d->compute(&ctx);
    for (int i = 0; i < n_scratch; i++) free(scratch_mem[i]);
    n_scratch = 0;
    return rc;
}

static int close_f(const float *a, const float *b, size_t n, float tol) {
    for (size_t i = 0; i < n; i++)
        if (!(fabsf(a[i] - b[i]) <= tol * (1.0f + fabsf(b[i])))) {
            fprintf(stderr, "  element %zu: %.9g vs %.9g\n", i, a[i], b[i]);
            return 0;
        }
    return 1;
}

#define WANT ((struct ia_tensor *)1) /* marks an output slot to fill */

/* ---- SGEMM --------------------------------------------------------------------- */

static void fill(float *p, size_t n, unsigned seed) {
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        p[i] = (float)((seed >> 9) & 0x3ff) / 512.0f - 1.0f;
    }
}

/* Every path against the reference on one shape, all four transposes,
 * a C with ldc > N, and beta 0 (C full of NaN), 1 and 0.5. */
static void gemm_case(int64_t M, int64_t N, int64_t K, struct ia_pool *pool) {
    int64_t lda_n = K + 3, lda_t = M + 1, ldb_n = N + 2, ldb_t = K + 5, ldc = N + 7;
    float *A = malloc(sizeof(float) * (size_t)(M > K ? M : K) * (size_t)(lda_n > lda_t ? lda_n : lda_t) + 4);
    float *B = malloc(sizeof(float) * (size_t)(N > K ? N : K) * (size_t)(ldb_n > ldb_t ? ldb_n : ldb_t) + 4);
    float *C0 = malloc(sizeof(float) * (size_t)(M * ldc) + 4);
    float *Cr = malloc(sizeof(float) * (size_t)(M * ldc) + 4);
    float *Cp = malloc(sizeof(float) * (size_t)(M * ldc) + 4);
    fill(A, (size_t)((M > K ? M : K) * (lda_n > lda_t ? lda_n : lda_t)), 1);
    fill(B, (size_t)((N > K ? N : K) * (ldb_n > ldb_t ? ldb_n : ldb_t)), 2);
    fill(C0, (size_t)(M * ldc), 3);
    const float betas[3] = {0.0f, 1.0f, 0.5f};
    for (int path = IA_SGEMM_AUTO; path <= IA_SGEMM_AVX512; path++) {
        if (path == IA_SGEMM_REF || !ia_sgemm_path_available(path)) continue;
        for (int t = 0; t < 4; t++) {
            int ta = t & 1, tb = t >> 1;
            int64_t lda = ta ? lda_t : lda_n, ldb = tb ? ldb_t : ldb_n;
            for (int bi = 0; bi < 3; bi++) {
                memcpy(Cr, C0, sizeof(float) * (size_t)(M * ldc));
                if (betas[bi] == 0.0f)
                    for (int64_t i = 0; i < M * ldc; i++) Cr[i] = NAN;
                memcpy(Cp, Cr, sizeof(float) * (size_t)(M * ldc));
                CHECK_EQ_INT(ia_sgemm_path(IA_SGEMM_REF, ta, tb, M, N, K, 0.75f, A, lda, B, ldb,
                                           betas[bi], Cr, ldc, NULL), IA_OK);
                CHECK_EQ_INT(ia_sgemm_path(path, ta, tb, M, N, K, 0.75f, A, lda, B, ldb,
                                           betas[bi], Cp, ldc, pool), IA_OK);
                int ok = 1;
                for (int64_t i = 0; i < M && ok; i++) {
                    for (int64_t j = 0; j < N && ok; j++) {
                        float r = Cr[i * ldc + j], p = Cp[i * ldc + j];
                        if (!(fabsf(r - p) <= 1e-4f * (1.0f + (float)K))) {
                            fprintf(stderr, "  %s M%lld N%lld K%lld tA%d tB%d beta %g: C[%lld,%lld] "
                                    "%g vs ref %g\n", ia_sgemm_path_name(path), (long long)M,
                                    (long long)N, (long long)K, ta, tb, betas[bi], (long long)i,
                                    (long long)j, p, r);
                            ok = 0;
                        }
                    }
                    /* The padding between rows must stay untouched. */
                    for (int64_t j = N; j < ldc && ok; j++)
                        if (memcmp(&Cp[i * ldc + j], &Cr[i * ldc + j], sizeof(float))) ok = 0;
                }
                CHECK(ok);
            }
        }
    }
    free(A);
    free(B);
    free(C0);
    free(Cr);
    free(Cp);
}

static void test_sgemm_paths(void) {
    printf("     sgemm best path: %s\n", ia_sgemm_path_name(IA_SGEMM_AUTO));
    gemm_case(1, 1, 1, NULL);
    gemm_case(7, 13, 5, NULL);
    gemm_case(13, 37, 29, NULL);
    gemm_case(1, 100, 70, NULL);
    gemm_case(33, 1, 40, NULL);
    /* Crossing the MC (144) block edge. */
    gemm_case(150, 45, 300, NULL);
    /* K beyond one KC_PP (768) panel: three uneven panels, C added to
     * after the first. */
    gemm_case(26, 70, 1700, NULL);
    /* BERT's FFN (128 x 3072 x 768) scaled down by 4 per dim. */
    gemm_case(32, 192, 768 / 4, NULL);
    /* Threads: the tile split and the shared B packing. */
    gemm_case(70, 130, 90, pool2);
    gemm_case(150, 45, 300, pool2);
    /* ia_sgemm's per-thread B blocks (PACK_B_L2_FLOATS, 128K floats: at
     * K 300, 13 slivers): 13 + 2 slivers, two M blocks reading A packed
     * once. */
    gemm_case(150, 450, 300, NULL);
    /* A packed once over three K panels and two M blocks of unequal
     * padded height (84 and 66 -> 72 rows). */
    gemm_case(150, 40, 1700, pool2);
}

/* ia_sgemm (best path) against the reference, all four transposes, beta
 * 0.5: for shapes too big to run every path on under the sanitizers. */
static void gemm_case_best(int64_t M, int64_t N, int64_t K, struct ia_pool *pool) {
    int64_t lda = (M > K ? M : K) + 3, ldb = (N > K ? N : K) + 2, ldc = N + 7;
    float *A = malloc(sizeof(float) * (size_t)((M > K ? M : K) * lda));
    float *B = malloc(sizeof(float) * (size_t)((N > K ? N : K) * ldb));
    float *Cr = malloc(sizeof(float) * (size_t)(M * ldc)), *Cp = malloc(sizeof(float) * (size_t)(M * ldc));
    fill(A, (size_t)((M > K ? M : K) * lda), 4);
    fill(B, (size_t)((N > K ? N : K) * ldb), 5);
    for (int t = 0; t < 4; t++) {
        int ta = t & 1, tb = t >> 1;
        fill(Cr, (size_t)(M * ldc), 6);
        memcpy(Cp, Cr, sizeof(float) * (size_t)(M * ldc));
        CHECK_EQ_INT(ia_sgemm_path(IA_SGEMM_REF, ta, tb, M, N, K, 0.75f, A, lda, B, ldb, 0.5f, Cr,
                                   ldc, NULL), IA_OK);
        CHECK_EQ_INT(ia_sgemm(ta, tb, M, N, K, 0.75f, A, lda, B, ldb, 0.5f, Cp, ldc, pool), IA_OK);
        int ok = 1;
        for (int64_t i = 0; i < M * ldc && ok; i++)
            if (!(fabsf(Cr[i] - Cp[i]) <= 1e-4f * (1.0f + (float)K))) {
                fprintf(stderr, "  best M%lld N%lld K%lld tA%d tB%d: C[%lld] %g vs ref %g\n",
                        (long long)M, (long long)N, (long long)K, ta, tb, (long long)i, Cp[i], Cr[i]);
                ok = 0;
            }
        CHECK(ok);
    }
    free(A);
    free(B);
    free(Cr);
    free(Cp);
}

static void test_sgemm_wide(void) {
    /* Per-thread B blocks: 2 x 4 tasks of 11 slivers, each packed as 8 + 3
     * (two K panels of 500: 8 slivers of 500 x 32 fill PACK_B_L2_FLOATS). */
    gemm_case_best(40, 1300, 1000, pool2);
    gemm_case_best(13, 2600, 400, pool2);
    /* op(A) too big to pack whole (over PACK_A_FLOATS, 1M floats): the
     * shared B blocks path. */
    gemm_case_best(1100, 20, 960, pool2);
    /* N beyond one NC (3072) block. */
    gemm_case(3, 3100, 5, NULL);
    /* K == 0 and alpha == 0 only scale C. */
    float c[4] = {1, 2, 3, 4}, a = 1, b = 1;
    CHECK_EQ_INT(ia_sgemm(0, 0, 2, 2, 0, 1.0f, &a, 1, &b, 2, 0.5f, c, 2, NULL), IA_OK);
    CHECK(c[0] == 0.5f && c[3] == 2.0f);
}

/* ---- MatMul / Gemm ----------------------------------------------------------------- */

static void ref_mm(const float *a, const float *b, float *c, int64_t M, int64_t N, int64_t K) {
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) {
            double s = 0;
            for (int64_t k = 0; k < K; k++) s += (double)a[i * K + k] * b[k * N + j];
            c[i * N + j] = (float)s;
        }
}

static void test_matmul(void) {
    /* [2,1,3,4] x [5,4,2] -> [2,5,3,2]: both batch dims broadcast. */
    int64_t da[] = {2, 1, 3, 4}, db[] = {5, 4, 2};
    struct ia_tensor *a = mk_rand(4, da, 5), *b = mk_rand(3, db, 6), *y[1] = {WANT};
    REQUIRE(a && b);
    CHECK_EQ_INT(run("", "MatMul", 13, NULL, 0, 2, (const struct ia_tensor *[]){a, b}, 1, y,
                     pool2), IA_OK);
    REQUIRE(y[0]);
    CHECK_EQ_INT(y[0]->rank, 4);
    CHECK(y[0]->dims[0] == 2 && y[0]->dims[1] == 5 && y[0]->dims[2] == 3 && y[0]->dims[3] == 2);
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 5; j++) {
            float r[6];
            ref_mm((float *)a->data + i * 12, (float *)b->data + j * 8, r, 3, 2, 4);
            CHECK(close_f((float *)y[0]->data + (i * 5 + j) * 6, r, 6, 1e-5f));
        }
    rm(y[0]);
    rm(a);
    rm(b);
    /* 1-D x 1-D is a scalar; 1-D x 2-D drops M; 3-D x 1-D drops N. */
    int64_t d3[] = {3}, d32[] = {3, 2}, d234[] = {2, 4, 3};
    float v[3] = {1, 2, 3}, m[6] = {1, 2, 3, 4, 5, 6};
    a = mk(IA_DTYPE_FLOAT32, 1, d3, v);
    b = mk(IA_DTYPE_FLOAT32, 1, d3, v);
    y[0] = WANT;
    CHECK_EQ_INT(run("", "MatMul", 9, NULL, 0, 2, (const struct ia_tensor *[]){a, b}, 1, y, NULL),
                 IA_OK);
    CHECK(y[0] && y[0]->rank == 0 && ((float *)y[0]->data)[0] == 14.0f);
    rm(y[0]);
    rm(b);
    b = mk(IA_DTYPE_FLOAT32, 2, d32, m);
    y[0] = WANT;
    CHECK_EQ_INT(run("", "MatMul", 9, NULL, 0, 2, (const struct ia_tensor *[]){a, b}, 1, y, NULL),
                 IA_OK);
    CHECK(y[0] && y[0]->rank == 1 && y[0]->dims[0] == 2);
    CHECK(close_f(y[0]->data, (float[]){22, 28}, 2, 0));
    rm(y[0]);
    rm(b);
    b = mk_rand(3, d234, 9);
    y[0] = WANT;
    CHECK_EQ_INT(run("", "MatMul", 9, NULL, 0, 2, (const struct ia_tensor *[]){b, a}, 1, y, NULL),
                 IA_OK);
    CHECK(y[0] && y[0]->rank == 2 && y[0]->dims[0] == 2 && y[0]->dims[1] == 4);
    float r8[8];
    ref_mm(b->data, v, r8, 8, 1, 3);
    CHECK(y[0] && close_f(y[0]->data, r8, 8, 1e-5f));
    rm(y[0]);
    rm(b);
    /* Inner dims that differ fail with a message. */
    int64_t d4[] = {4};
    b = mk(IA_DTYPE_FLOAT32, 1, d4, NULL);
    y[0] = WANT;
    CHECK_EQ_INT(run("", "MatMul", 9, NULL, 0, 2, (const struct ia_tensor *[]){a, b}, 1, y, NULL),
                 IA_EINVAL);
    CHECK(strstr(ia_error_msg(), "MatMul node 'n'") != NULL);
    rm(y[0]);
    rm(b);
    rm(a);
}

static void test_matmul_types(void) {
    int64_t d23[] = {2, 3}, d32[] = {3, 2}, d30[] = {3, 0}, d03[] = {0, 3}, d20[] = {2, 0};
    int32_t ai32[6] = {1, 2, 3, 4, 5, 6}, bi32[6] = {1, -1, 2, 0, 0, 2};
    struct ia_tensor *a = mk(IA_DTYPE_INT32, 2, d23, ai32), *b = mk(IA_DTYPE_INT32, 2, d32, bi32);
    struct ia_tensor *y[1] = {WANT};
    CHECK_EQ_INT(run("", "MatMul", 13, NULL, 0, 2, (const struct ia_tensor *[]){a, b}, 1, y, NULL),
                 IA_OK);
    CHECK(y[0] && y[0]->dtype == IA_DTYPE_INT32);
    const int32_t *yi = y[0] ? y[0]->data : NULL;
    CHECK(yi && yi[0] == 5 && yi[1] == 5 && yi[2] == 14 && yi[3] == 8);
    rm(y[0]);
    rm(a);
    rm(b);
    double ad[6] = {1, 2, 3, 4, 5, 6}, bd[6] = {0.5, 1, 1.5, 2, 2.5, 3};
    a = mk(IA_DTYPE_FLOAT64, 2, d23, ad);
    b = mk(IA_DTYPE_FLOAT64, 2, d32, bd);
    y[0] = WANT;
    CHECK_EQ_INT(run("", "MatMul", 13, NULL, 0, 2, (const struct ia_tensor *[]){a, b}, 1, y, NULL),
                 IA_OK);
    CHECK(y[0] && ((double *)y[0]->data)[0] == 11.0 && ((double *)y[0]->data)[3] == 32.0);
    rm(y[0]);
    rm(a);
    rm(b);
    /* K == 0: a zero-filled [2,3] result; M == 0: an empty one. */
    a = mk(IA_DTYPE_FLOAT32, 2, d20, NULL);
    b = mk(IA_DTYPE_FLOAT32, 2, (int64_t[]){0, 3}, NULL);
    y[0] = WANT;
    CHECK_EQ_INT(run("", "MatMul", 13, NULL, 0, 2, (const struct ia_tensor *[]){a, b}, 1, y, NULL),
                 IA_OK);
    CHECK(y[0] && y[0]->numel == 6 && ((float *)y[0]->data)[5] == 0.0f);
    rm(y[0]);
    rm(a);
    rm(b);
    a = mk(IA_DTYPE_FLOAT32, 2, d03, NULL);
    b = mk(IA_DTYPE_FLOAT32, 2, d30, NULL);
    y[0] = WANT;
    CHECK_EQ_INT(run("", "MatMul", 13, NULL, 0, 2, (const struct ia_tensor *[]){a, b}, 1, y, NULL),
                 IA_OK);
    CHECK(y[0] && y[0]->numel == 0);
    rm(y[0]);
    rm(a);
    rm(b);
    /* float16 runs through float32. */
    uint16_t ah[6], bh[6];
    for (int i = 0; i < 6; i++) {
        ah[i] = ia_f32_to_f16((float)ai32[i]);
        bh[i] = ia_f32_to_f16((float)bi32[i]);
    }
    a = mk(IA_DTYPE_FLOAT16, 2, d23, ah);
    b = mk(IA_DTYPE_FLOAT16, 2, d32, bh);
    y[0] = WANT;
    CHECK_EQ_INT(run("", "MatMul", 13, NULL, 0, 2, (const struct ia_tensor *[]){a, b}, 1, y, NULL),
                 IA_OK);
    CHECK(y[0] && y[0]->dtype == IA_DTYPE_FLOAT16 &&
          ia_f16_to_f32(((uint16_t *)y[0]->data)[2]) == 14.0f);
    rm(y[0]);
    rm(a);
    rm(b);
}

static void test_gemm(void) {
    /* A^T (A stored [K,M]) times B^T (B stored [N,K]), C a column [M,1]. */
    int64_t M = 3, N = 4, K = 5, da[] = {5, 3}, db[] = {4, 5}, dc[] = {3, 1};
    struct ia_tensor *a = mk_rand(2, da, 11), *b = mk_rand(2, db, 12), *c = mk_rand(2, dc, 13);
    struct ia_onnx_attr at[] = {ai("transA", 1), ai("transB", 1), af("alpha", 0.5f),
                                af("beta", 2.0f)};
    struct ia_tensor *y[1] = {WANT};
    CHECK_EQ_INT(run("", "Gemm", 13, at, 4, 3, (const struct ia_tensor *[]){a, b, c}, 1, y, NULL),
                 IA_OK);
    REQUIRE(y[0]);
    const float *A = a->data, *B = b->data, *C = c->data, *Y = y[0]->data;
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) {
            double s = 0;
            for (int64_t k = 0; k < K; k++) s += A[k * M + i] * B[j * K + k];
            float r = (float)(0.5 * s + 2.0 * C[i]);
            CHECK(fabsf(Y[i * N + j] - r) < 1e-5f);
        }
    rm(y[0]);
    /* No C (opset 11+) is fine; before opset 11 it is an error. */
    y[0] = WANT;
    CHECK_EQ_INT(run("", "Gemm", 11, at, 2, 2, (const struct ia_tensor *[]){a, b}, 1, y, NULL),
                 IA_OK);
    rm(y[0]);
    y[0] = WANT;
    CHECK_EQ_INT(run("", "Gemm", 9, at, 2, 2, (const struct ia_tensor *[]){a, b}, 1, y, NULL),
                 IA_EINVAL);
    rm(y[0]);
    /* A C of the wrong shape. */
    rm(c);
    c = mk_rand(1, (int64_t[]){3}, 1);
    y[0] = WANT;
    CHECK_EQ_INT(run("", "Gemm", 13, at, 2, 3, (const struct ia_tensor *[]){a, b, c}, 1, y, NULL),
                 IA_EINVAL);
    rm(y[0]);
    rm(a);
    rm(b);
    rm(c);
    /* int64 with a scalar C. */
    int64_t a64[4] = {1, 2, 3, 4}, c64 = 10, d22[] = {2, 2};
    a = mk(IA_DTYPE_INT64, 2, d22, a64);
    c = mk(IA_DTYPE_INT64, 0, NULL, &c64);
    y[0] = WANT;
    CHECK_EQ_INT(run("", "Gemm", 13, NULL, 0, 3, (const struct ia_tensor *[]){a, a, c}, 1, y, NULL),
                 IA_OK);
    CHECK(y[0] && ((int64_t *)y[0]->data)[0] == 17 && ((int64_t *)y[0]->data)[3] == 32);
    rm(y[0]);
    rm(a);
    rm(c);
}

/* ---- Conv / ConvTranspose -------------------------------------------------------------- */

struct cgeo {
    int S;
    int64_t k[3], s[3], d[3], pb[3], pe[3], opad[3];
    int64_t G;
};

/* Direct 1-3 D convolution: x [N,C,in...], w [M,C/G,k...], returns y [N,M,out...]. */
static float *ref_conv(const struct ia_tensor *x, const struct ia_tensor *w, const float *bias,
                       const struct cgeo *g, int64_t *out) {
    int S = g->S;
    int64_t N = x->dims[0], C = x->dims[1], M = w->dims[0], Cg = C / g->G, Mg = M / g->G;
    int64_t in[3] = {1, 1, 1}, k[3] = {1, 1, 1}, s[3] = {1, 1, 1}, d[3] = {1, 1, 1},
            pb[3] = {0}, o[3] = {1, 1, 1};
    for (int i = 0; i < S; i++) {
        in[i] = x->dims[2 + i];
        k[i] = g->k[i];
        s[i] = g->s[i];
        d[i] = g->d[i];
        pb[i] = g->pb[i];
        o[i] = (in[i] + g->pb[i] + g->pe[i] - (k[i] - 1) * d[i] - 1) / s[i] + 1;
        out[i] = o[i];
    }
    float *y = calloc((size_t)(N * M * o[0] * o[1] * o[2]), sizeof *y);
    const float *X = x->data, *W = w->data;
    for (int64_t n = 0; n < N; n++)
        for (int64_t m = 0; m < M; m++)
            for (int64_t a = 0; a < o[0]; a++)
                for (int64_t b = 0; b < o[1]; b++)
                    for (int64_t c = 0; c < o[2]; c++) {
                        double acc = bias ? bias[m] : 0;
                        int64_t gi = m / Mg;
                        for (int64_t ci = 0; ci < Cg; ci++)
                            for (int64_t p = 0; p < k[0]; p++)
                                for (int64_t q = 0; q < k[1]; q++)
                                    for (int64_t r = 0; r < k[2]; r++) {
                                        int64_t i0 = a * s[0] - pb[0] + p * d[0];
                                        int64_t i1 = b * s[1] - pb[1] + q * d[1];
                                        int64_t i2 = c * s[2] - pb[2] + r * d[2];
                                        if (i0 < 0 || i0 >= in[0] || i1 < 0 || i1 >= in[1] ||
                                            i2 < 0 || i2 >= in[2])
                                            continue;
                                        int64_t cx = gi * Cg + ci;
                                        acc += (double)X[(((n * C + cx) * in[0] + i0) * in[1] + i1) * in[2] + i2] *
                                               W[(((m * Cg + ci) * k[0] + p) * k[1] + q) * k[2] + r];
                                    }
                        y[(((n * M + m) * o[0] + a) * o[1] + b) * o[2] + c] = (float)acc;
                    }
    return y;
}

static void conv_case(int S, const int64_t *xd, int64_t M, const struct cgeo *g, int with_bias,
                      struct ia_pool *pool) {
    int64_t wd[5] = {M, xd[1] / g->G};
    for (int i = 0; i < S; i++) wd[2 + i] = g->k[i];
    struct ia_tensor *x = mk_rand(S + 2, xd, 21), *w = mk_rand(S + 2, wd, 22);
    struct ia_tensor *b = mk_rand(1, &M, 23);
    int64_t pads[6];
    for (int i = 0; i < S; i++) {
        pads[i] = g->pb[i];
        pads[S + i] = g->pe[i];
    }
    struct ia_onnx_attr at[] = {ais("strides", (size_t)S, g->s), ais("dilations", (size_t)S, g->d),
                                ais("pads", 2 * (size_t)S, pads), ai("group", g->G)};
    struct ia_tensor *y[1] = {WANT};
    CHECK_EQ_INT(run("", "Conv", 11, at, 4, with_bias ? 3 : 2,
                     (const struct ia_tensor *[]){x, w, b}, 1, y, pool), IA_OK);
    int64_t od[3];
    float *r = ref_conv(x, w, with_bias ? b->data : NULL, g, od);
    if (y[0]) {
        CHECK_EQ_INT(y[0]->rank, S + 2);
        for (int i = 0; i < S; i++) CHECK_EQ_INT(y[0]->dims[2 + i], od[i]);
        CHECK(close_f(y[0]->data, r, y[0]->numel, 1e-5f));
    }
    free(r);
    rm(y[0]);
    rm(x);
    rm(w);
    rm(b);
}

static void test_conv(void) {
    struct cgeo g2 = {2, {3, 2}, {2, 1}, {1, 2}, {1, 0}, {2, 1}, {0}, 1};
    conv_case(2, (int64_t[]){2, 3, 7, 6}, 4, &g2, 1, NULL);
    conv_case(2, (int64_t[]){2, 3, 7, 6}, 4, &g2, 1, pool2);
    /* Groups, and depthwise (group == C) on the pool. */
    struct cgeo gg = {2, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, {0}, 2};
    conv_case(2, (int64_t[]){1, 4, 5, 5}, 6, &gg, 1, NULL);
    struct cgeo dw = {2, {3, 3}, {2, 2}, {1, 1}, {1, 1}, {0, 0}, {0}, 4};
    conv_case(2, (int64_t[]){2, 4, 6, 7}, 4, &dw, 0, pool2);
    /* 1x1 runs as a plain GEMM. */
    struct cgeo one = {2, {1, 1}, {1, 1}, {1, 1}, {0, 0}, {0, 0}, {0}, 1};
    conv_case(2, (int64_t[]){2, 5, 4, 3}, 7, &one, 1, NULL);
    /* 1-D and 3-D. */
    struct cgeo g1 = {1, {4}, {3}, {2}, {2}, {1}, {0}, 1};
    conv_case(1, (int64_t[]){1, 2, 17}, 3, &g1, 1, NULL);
    struct cgeo g3 = {3, {2, 3, 2}, {1, 2, 1}, {1, 1, 2}, {0, 1, 1}, {1, 0, 1}, {0}, 1};
    conv_case(3, (int64_t[]){1, 2, 4, 5, 6}, 3, &g3, 1, NULL);
}

/* The direct depthwise kernel (2-D, group == C == M), the implicit-GEMM
 * kernel (where the CPU has AVX-512) and the tiled im2col
 * path (output rows split into tiles, several per image) against the
 * direct loops, on shapes with vector tails, asymmetric pads, strides,
 * dilations, kernels wider than the input and pools. */
static void test_conv_fast_paths(void) {
    /* depthwise: 3x3 s1 on 23 x 37 (two 16-wide vectors and a tail) */
    struct cgeo d1 = {2, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, {0}, 5};
    conv_case(2, (int64_t[]){2, 5, 23, 37}, 5, &d1, 1, NULL);
    conv_case(2, (int64_t[]){2, 5, 23, 37}, 5, &d1, 0, pool2);
    /* 5x5 stride 2 with asymmetric pads; stride 3 with dilation 2 */
    struct cgeo d2 = {2, {5, 5}, {2, 2}, {1, 1}, {2, 1}, {1, 2}, {0}, 3};
    conv_case(2, (int64_t[]){1, 3, 19, 41}, 3, &d2, 1, pool2);
    struct cgeo d3 = {2, {3, 3}, {3, 3}, {2, 2}, {2, 0}, {1, 3}, {0}, 4};
    conv_case(2, (int64_t[]){1, 4, 17, 20}, 4, &d3, 1, NULL);
    /* dilation 2 at strides 1 and 2 (the AVX-512 form), odd widths */
    struct cgeo d6 = {2, {3, 5}, {1, 1}, {2, 2}, {2, 4}, {1, 3}, {0}, 3};
    conv_case(2, (int64_t[]){1, 3, 12, 35}, 3, &d6, 1, pool2);
    struct cgeo d7 = {2, {3, 3}, {2, 2}, {2, 2}, {2, 2}, {2, 1}, {0}, 2};
    conv_case(2, (int64_t[]){2, 2, 13, 67}, 2, &d7, 1, NULL);
    /* a 5-wide kernel on a 3 x 4 input: every tap clipped by the pads */
    struct cgeo d4 = {2, {5, 5}, {1, 2}, {1, 1}, {2, 2}, {2, 2}, {0}, 2};
    conv_case(2, (int64_t[]){1, 2, 3, 4}, 2, &d4, 1, NULL);
    /* depthwise with a channel multiplier (M = 2C) stays on the GEMM path */
    struct cgeo d5 = {2, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, {0}, 3};
    conv_case(2, (int64_t[]){1, 3, 9, 10}, 6, &d5, 1, pool2);
    /* implicit GEMM (stride 1, 8..64 channels a group): 13 = one full
     * 12-channel block and one of 1; 37 columns = a 32 chunk and a tail */
    struct cgeo i1 = {2, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, {0}, 1};
    conv_case(2, (int64_t[]){2, 5, 9, 37}, 13, &i1, 1, NULL);
    conv_case(2, (int64_t[]){2, 5, 9, 37}, 13, &i1, 0, pool2);
    /* dilation 2, a 3x5 kernel, asymmetric pads, two groups of 8 */
    struct cgeo i2 = {2, {3, 5}, {1, 1}, {2, 2}, {0, 1}, {2, 0}, {0}, 2};
    conv_case(2, (int64_t[]){1, 6, 11, 20}, 16, &i2, 1, pool2);
    /* strides 2 and 3 (phase-split rows), the 3-channel stem conv shape */
    struct cgeo i4 = {2, {3, 3}, {2, 2}, {1, 1}, {1, 1}, {1, 1}, {0}, 1};
    conv_case(2, (int64_t[]){1, 3, 33, 70}, 16, &i4, 1, pool2);
    struct cgeo i5 = {2, {3, 4}, {2, 3}, {1, 2}, {0, 2}, {1, 1}, {0}, 1};
    conv_case(2, (int64_t[]){2, 4, 15, 29}, 10, &i5, 1, NULL);
    /* pads wider than the input: whole rows and columns of padding */
    struct cgeo i3 = {2, {5, 5}, {1, 1}, {1, 1}, {3, 3}, {3, 2}, {0}, 1};
    conv_case(2, (int64_t[]){1, 3, 4, 4}, 9, &i3, 1, NULL);
    /* tiled im2col: K = 16*9 = 144 over 60 columns a row gives 5-row tiles,
     * 10 per image (the last one short with stride 2) */
    struct cgeo t1 = {2, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, {0}, 1};
    conv_case(2, (int64_t[]){2, 16, 50, 60}, 7, &t1, 1, NULL);
    conv_case(2, (int64_t[]){2, 16, 50, 60}, 7, &t1, 1, pool2);
    struct cgeo t2 = {2, {3, 3}, {2, 2}, {1, 1}, {0, 1}, {1, 0}, {0}, 2};
    conv_case(2, (int64_t[]){1, 32, 61, 97}, 6, &t2, 1, pool2);
    /* 1x1 in tiles of x read in place */
    struct cgeo t3 = {2, {1, 1}, {1, 1}, {1, 1}, {0, 0}, {0, 0}, {0}, 1};
    conv_case(2, (int64_t[]){1, 8, 41, 50}, 5, &t3, 1, pool2);
    /* 1-D in tiles */
    struct cgeo t4 = {1, {5}, {1}, {1}, {2}, {1}, {0}, 1};
    conv_case(1, (int64_t[]){1, 64, 301}, 3, &t4, 1, pool2);
}

/* Resize nearest on float32 takes a row-copying path; the float64 input
 * takes the general one: both must give the same values. */
static void test_resize_nearest_rows(void) {
    int64_t xd[] = {2, 3, 7, 5}, sd[] = {4};
    struct ia_tensor *x = mk_rand(4, xd, 41);
    struct ia_tensor *x64 = mk(IA_DTYPE_FLOAT64, 4, xd, NULL);
    for (uint64_t i = 0; i < x->numel; i++)
        ((double *)x64->data)[i] = ((const float *)x->data)[i];
    const float scs[][4] = {{1, 1, 2, 2}, {1, 1, 2.5f, 1.5f}, {1, 1, 0.5f, 0.7f}, {1, 2, 1, 3}};
    const char *modes[][2] = {{"asymmetric", "floor"}, {"half_pixel", "round_prefer_floor"},
                              {"align_corners", "round_prefer_ceil"}, {"half_pixel", "ceil"}};
    for (int c = 0; c < 4; c++) {
        struct ia_tensor *sc = mk(IA_DTYPE_FLOAT32, 1, sd, scs[c]);
        struct ia_onnx_attr at[] = {as("coordinate_transformation_mode", modes[c][0]),
                                    as("nearest_mode", modes[c][1])};
        struct ia_tensor *y[1] = {WANT}, *y64[1] = {WANT};
        CHECK_EQ_INT(run("", "Resize", 13, at, 2, 3, (const struct ia_tensor *[]){x, NULL, sc}, 1,
                         y, NULL), IA_OK);
        CHECK_EQ_INT(run("", "Resize", 13, at, 2, 3, (const struct ia_tensor *[]){x64, NULL, sc},
                         1, y64, NULL), IA_OK);
        if (y[0] && y64[0]) {
            CHECK_EQ_INT((int)y[0]->numel, (int)y64[0]->numel);
            int same = 1;
            for (uint64_t i = 0; i < y[0]->numel; i++)
                same &= ((const float *)y[0]->data)[i] == (float)((const double *)y64[0]->data)[i];
            CHECK(same);
        }
        rm(y[0]);
        rm(y64[0]);
        rm(sc);
    }
    rm(x);
    rm(x64);
}

/* GlobalAveragePool's float32 path against AveragePool over the whole plane. */
static void test_global_average_fast(void) {
    int64_t xd[] = {2, 3, 13, 11};
    struct ia_tensor *x = mk_rand(4, xd, 43);
    int64_t k[] = {13, 11};
    struct ia_onnx_attr at = ais("kernel_shape", 2, k);
    struct ia_tensor *y[1] = {WANT}, *r[1] = {WANT};
    CHECK_EQ_INT(run("", "GlobalAveragePool", 1, NULL, 0, 1, (const struct ia_tensor *[]){x}, 1, y,
                     NULL), IA_OK);
    CHECK_EQ_INT(run("", "AveragePool", 11, &at, 1, 1, (const struct ia_tensor *[]){x}, 1, r, NULL),
                 IA_OK);
    CHECK(y[0] && r[0] && y[0]->numel == 6 && close_f(y[0]->data, r[0]->data, 6, 1e-6f));
    rm(y[0]);
    rm(r[0]);
    rm(x);
}

static void test_conv_auto_pad(void) {
    /* SAME_LOWER, stride 2, 5x5 input, 3x3 kernel: output 3x3, the odd pad first. */
    int64_t xd[] = {1, 1, 6, 6}, wd[] = {1, 1, 3, 3};
    struct ia_tensor *x = mk_rand(4, xd, 31), *w = mk_rand(4, wd, 32);
    int64_t st[] = {2, 2};
    struct ia_onnx_attr at[] = {as("auto_pad", "SAME_LOWER"), ais("strides", 2, st)};
    struct ia_tensor *y[1] = {WANT};
    CHECK_EQ_INT(run("", "Conv", 11, at, 2, 2, (const struct ia_tensor *[]){x, w}, 1, y, NULL),
                 IA_OK);
    /* total pad = (3-1)*2 + 3 - 6 = 1: SAME_LOWER puts it before. */
    struct cgeo g = {2, {3, 3}, {2, 2}, {1, 1}, {1, 1}, {0, 0}, {0}, 1};
    int64_t od[3];
    float *r = ref_conv(x, w, NULL, &g, od);
    CHECK(y[0] && y[0]->dims[2] == 3 && y[0]->dims[3] == 3);
    CHECK(y[0] && close_f(y[0]->data, r, 9, 1e-5f));
    free(r);
    rm(y[0]);
    /* A kernel larger than the padded input, and a group that does not divide C. */
    int64_t wbig[] = {1, 1, 7, 7};
    struct ia_tensor *wb = mk_rand(4, wbig, 1);
    y[0] = WANT;
    CHECK_EQ_INT(run("", "Conv", 11, NULL, 0, 2, (const struct ia_tensor *[]){x, wb}, 1, y, NULL),
                 IA_EINVAL);
    rm(y[0]);
    struct ia_onnx_attr grp = ai("group", 2);
    y[0] = WANT;
    CHECK_EQ_INT(run("", "Conv", 11, &grp, 1, 2, (const struct ia_tensor *[]){x, w}, 1, y, NULL),
                 IA_EINVAL);
    rm(y[0]);
    rm(wb);
    rm(x);
    rm(w);
}

/* Direct 2-D transposed convolution (scatter form). */
static void test_conv_transpose(void) {
    int64_t xd[] = {2, 4, 3, 4}, wd[] = {4, 3, 3, 2}; /* C=4, group 2: M = 3*2 = 6 */
    struct ia_tensor *x = mk_rand(4, xd, 41), *w = mk_rand(4, wd, 42);
    int64_t M = 6, Mbias = 6;
    struct ia_tensor *b = mk_rand(1, &Mbias, 43);
    int64_t st[] = {2, 3}, dl[] = {2, 1}, pads[] = {1, 0, 2, 1}, opad[] = {1, 2};
    struct ia_onnx_attr at[] = {ais("strides", 2, st), ais("dilations", 2, dl), ais("pads", 4, pads),
                                ais("output_padding", 2, opad), ai("group", 2)};
    struct ia_tensor *y[1] = {WANT};
    CHECK_EQ_INT(run("", "ConvTranspose", 11, at, 5, 3, (const struct ia_tensor *[]){x, w, b}, 1,
                     y, pool2), IA_OK);
    int64_t oh = 2 * (3 - 1) + 1 + (3 - 1) * 2 + 1 - 1 - 2, ow = 3 * (4 - 1) + 2 + (2 - 1) + 1 - 0 - 1;
    REQUIRE(y[0]);
    CHECK_EQ_INT(y[0]->dims[1], M);
    CHECK_EQ_INT(y[0]->dims[2], oh);
    CHECK_EQ_INT(y[0]->dims[3], ow);
    float *r = calloc((size_t)(2 * M * oh * ow), sizeof *r);
    const float *X = x->data, *W = w->data, *B = b->data;
    for (int n = 0; n < 2; n++)
        for (int m = 0; m < M; m++)
            for (int i = 0; i < oh * ow; i++) r[(n * M + m) * oh * ow + i] = B[m];
    for (int n = 0; n < 2; n++)
        for (int c = 0; c < 4; c++)
            for (int ih = 0; ih < 3; ih++)
                for (int iw = 0; iw < 4; iw++)
                    for (int mg = 0; mg < 3; mg++)
                        for (int p = 0; p < 3; p++)
                            for (int q = 0; q < 2; q++) {
                                int64_t h = ih * 2 + p * 2 - 1, ww = iw * 3 + q * 1 - 0;
                                if (h < 0 || h >= oh || ww < 0 || ww >= ow) continue;
                                int m = (c / 2) * 3 + mg;
                                r[((n * M + m) * oh + h) * ow + ww] +=
                                    X[((n * 4 + c) * 3 + ih) * 4 + iw] * W[((c * 3 + mg) * 3 + p) * 2 + q];
                            }
    CHECK(close_f(y[0]->data, r, y[0]->numel, 1e-5f));
    free(r);
    rm(y[0]);
    /* output_shape sets the output size (group 1: W's [4, 3] reads as C=4, M=3). */
    int64_t os[] = {8, 12};
    struct ia_onnx_attr at2[] = {ais("strides", 2, st), ais("output_shape", 2, os)};
    y[0] = WANT;
    CHECK_EQ_INT(run("", "ConvTranspose", 11, at2, 2, 2,
                     (const struct ia_tensor *[]){x, w}, 1, y, NULL), IA_OK);
    CHECK(y[0] && y[0]->dims[1] == 3 && y[0]->dims[2] == 8 && y[0]->dims[3] == 12);
    rm(y[0]);
    rm(x);
    rm(w);
    rm(b);
}

/* 2-D ConvTranspose against the scatter form, on inputs tall enough for
 * several row tiles: tiles side by side (kernel 2, stride 2, PP-OCR's
 * upsampling) and overlapping tiles in turn (kernel 3, stride 2, pads). */
static void convt_case(const int64_t *xd, int64_t Mg, int64_t G, const int64_t *k,
                       const int64_t *st, const int64_t *pads, struct ia_pool *pool) {
    int64_t C = xd[1], M = Mg * G, wd[] = {C, Mg, k[0], k[1]};
    struct ia_tensor *x = mk_rand(4, xd, 51), *w = mk_rand(4, wd, 52), *b = mk_rand(1, &M, 53);
    struct ia_onnx_attr at[] = {ais("strides", 2, st), ais("pads", 4, pads), ai("group", G),
                                ais("kernel_shape", 2, k)};
    struct ia_tensor *y[1] = {WANT};
    CHECK_EQ_INT(run("", "ConvTranspose", 11, at, 4, 3, (const struct ia_tensor *[]){x, w, b}, 1,
                     y, pool), IA_OK);
    int64_t N = xd[0], IH = xd[2], IW = xd[3];
    int64_t oh = st[0] * (IH - 1) + k[0] - pads[0] - pads[2];
    int64_t ow = st[1] * (IW - 1) + k[1] - pads[1] - pads[3];
    REQUIRE(y[0]);
    CHECK(y[0]->dims[1] == M && y[0]->dims[2] == oh && y[0]->dims[3] == ow);
    double *r = calloc((size_t)(N * M * oh * ow), sizeof *r);
    const float *X = x->data, *W = w->data, *B = b->data;
    for (int64_t n = 0; n < N; n++)
        for (int64_t m = 0; m < M; m++)
            for (int64_t i = 0; i < oh * ow; i++) r[(n * M + m) * oh * ow + i] = B[m];
    for (int64_t n = 0; n < N; n++)
        for (int64_t c = 0; c < C; c++)
            for (int64_t ih = 0; ih < IH; ih++)
                for (int64_t iw = 0; iw < IW; iw++)
                    for (int64_t mg = 0; mg < Mg; mg++)
                        for (int64_t p = 0; p < k[0]; p++)
                            for (int64_t q = 0; q < k[1]; q++) {
                                int64_t h = ih * st[0] + p - pads[0], ww = iw * st[1] + q - pads[1];
                                if (h < 0 || h >= oh || ww < 0 || ww >= ow) continue;
                                int64_t m = c / (C / G) * Mg + mg;
                                r[((n * M + m) * oh + h) * ow + ww] +=
                                    (double)X[((n * C + c) * IH + ih) * IW + iw] *
                                    W[((c * Mg + mg) * k[0] + p) * k[1] + q];
                            }
    float *rf = malloc((size_t)(N * M * oh * ow) * sizeof *rf);
    for (int64_t i = 0; i < N * M * oh * ow; i++) rf[i] = (float)r[i];
    CHECK(close_f(y[0]->data, rf, y[0]->numel, 1e-5f));
    free(r);
    free(rf);
    rm(y[0]);
    rm(x);
    rm(w);
    rm(b);
}

static void test_conv_transpose_tiles(void) {
    /* Mg*k*k = 48 GEMM rows x 50 columns a row: 20-row tiles, 3 of them */
    convt_case((int64_t[]){2, 24, 45, 50}, 12, 1, (int64_t[]){2, 2}, (int64_t[]){2, 2},
               (int64_t[]){0, 0, 0, 0}, pool2);
    convt_case((int64_t[]){1, 24, 45, 50}, 12, 1, (int64_t[]){2, 2}, (int64_t[]){2, 2},
               (int64_t[]){0, 0, 0, 0}, NULL);
    /* overlapping windows: the tiles of a product run in turn */
    convt_case((int64_t[]){1, 8, 70, 33}, 3, 2, (int64_t[]){3, 3}, (int64_t[]){2, 2},
               (int64_t[]){1, 1, 1, 0}, pool2);
    convt_case((int64_t[]){2, 8, 70, 33}, 3, 2, (int64_t[]){3, 3}, (int64_t[]){2, 2},
               (int64_t[]){1, 1, 1, 0}, NULL);
}

/* ---- pools ----------------------------------------------------------------------------- */

static void test_pools(void) {
    /* 1x2x4x4, channel 1 = channel 0 + 100. */
    float xv[32];
    for (int i = 0; i < 16; i++) {
        xv[i] = (float)(i + 1);
        xv[16 + i] = (float)(i + 101);
    }
    int64_t xd[] = {1, 2, 4, 4}, k2[] = {2, 2}, k3[] = {3, 3}, s2[] = {2, 2}, p1[] = {1, 1, 1, 1};
    struct ia_tensor *x = mk(IA_DTYPE_FLOAT32, 4, xd, xv), *y[2] = {WANT, WANT};
    /* MaxPool with Indices, column-major: offsets include the plane. */
    struct ia_onnx_attr mp[] = {ais("kernel_shape", 2, k2), ais("strides", 2, s2),
                                ai("storage_order", 1)};
    CHECK_EQ_INT(run("", "MaxPool", 12, mp, 3, 1, (const struct ia_tensor *[]){x}, 2, y, NULL),
                 IA_OK);
    REQUIRE(y[0] && y[1]);
    CHECK(close_f(y[0]->data, (float[]){6, 8, 14, 16, 106, 108, 114, 116}, 8, 0));
    const int64_t *ix = y[1]->data;
    /* (h=1, w=1) -> 1 + 1*4 = 5; (1,3) -> 1 + 3*4 = 13; channel 1 adds 16. */
    CHECK(ix[0] == 5 && ix[1] == 13 && ix[2] == 7 && ix[3] == 15 && ix[4] == 21);
    rm(y[0]);
    rm(y[1]);
    /* AveragePool 3x3 / pad 1 / stride 2 / ceil: include_pad vs not. */
    struct ia_onnx_attr ap[] = {ais("kernel_shape", 2, k3), ais("strides", 2, s2),
                                ais("pads", 4, p1), ai("ceil_mode", 1), ai("count_include_pad", 1)};
    y[0] = WANT;
    CHECK_EQ_INT(run("", "AveragePool", 11, ap, 5, 1, (const struct ia_tensor *[]){x}, 1, y, NULL),
                 IA_OK);
    REQUIRE(y[0]);
    /* out = ceil((4+2-3)/2)+1 = 3; the last window starts at 3 < 4+1: kept. */
    CHECK_EQ_INT(y[0]->dims[2], 3);
    /* Window (0,0) covers rows/cols -1..1: 1+2+5+6 = 14 over 9. */
    CHECK(fabsf(((float *)y[0]->data)[0] - 14.0f / 9.0f) < 1e-6f);
    /* Window (2,2) covers 3..5 x 3..5: only x[3][3] = 16; the padded count is 2x2 = 4. */
    CHECK(fabsf(((float *)y[0]->data)[8] - 16.0f / 4.0f) < 1e-6f);
    rm(y[0]);
    y[0] = WANT;
    CHECK_EQ_INT(run("", "AveragePool", 11, ap, 4, 1, (const struct ia_tensor *[]){x}, 1, y, NULL),
                 IA_OK);
    CHECK(y[0] && fabsf(((float *)y[0]->data)[0] - 14.0f / 4.0f) < 1e-6f);
    CHECK(y[0] && ((float *)y[0]->data)[8] == 16.0f);
    rm(y[0]);
    /* LpPool p=2 over 2x2 and GlobalLpPool. */
    struct ia_onnx_attr lp[] = {ais("kernel_shape", 2, k2), ais("strides", 2, s2), ai("p", 2)};
    y[0] = WANT;
    CHECK_EQ_INT(run("", "LpPool", 11, lp, 3, 1, (const struct ia_tensor *[]){x}, 1, y, NULL),
                 IA_OK);
    CHECK(y[0] && fabsf(((float *)y[0]->data)[0] - sqrtf(1 + 4 + 25 + 36)) < 1e-4f);
    rm(y[0]);
    y[0] = WANT;
    CHECK_EQ_INT(run("", "GlobalLpPool", 2, &lp[2], 1, 1, (const struct ia_tensor *[]){x}, 1, y,
                     NULL), IA_OK);
    float s = 0;
    for (int i = 1; i <= 16; i++) s += (float)(i * i);
    CHECK(y[0] && y[0]->rank == 4 && fabsf(((float *)y[0]->data)[0] - sqrtf(s)) < 1e-3f);
    rm(y[0]);
    /* A kernel_shape product that would overflow is refused. */
    int64_t huge[] = {1LL << 31, 1LL << 31};
    struct ia_onnx_attr hk = ais("kernel_shape", 2, huge);
    y[0] = WANT;
    CHECK(run("", "MaxPool", 12, &hk, 1, 1, (const struct ia_tensor *[]){x}, 1, y, NULL) != IA_OK);
    rm(y[0]);
    rm(x);
}

/* ---- normalisations and softmax -------------------------------------------------------- */

static void test_group_and_skip_norm(void) {
    int64_t xd[] = {2, 4, 3};
    struct ia_tensor *x = mk_rand(3, xd, 51);
    float sc[2] = {1.5f, -0.5f}, bi[2] = {0.25f, 1.0f};
    int64_t d2[] = {2};
    struct ia_tensor *s = mk(IA_DTYPE_FLOAT32, 1, d2, sc), *b = mk(IA_DTYPE_FLOAT32, 1, d2, bi);
    struct ia_onnx_attr ng = ai("num_groups", 2);
    struct ia_tensor *y[4] = {WANT};
    CHECK_EQ_INT(run("", "GroupNormalization", 18, &ng, 1, 3, (const struct ia_tensor *[]){x, s, b},
                     1, y, NULL), IA_OK);
    REQUIRE(y[0]);
    const float *X = x->data, *Y = y[0]->data;
    for (int gi = 0; gi < 4; gi++) {
        double m = 0, v = 0;
        for (int i = 0; i < 6; i++) m += X[gi * 6 + i];
        m /= 6;
        for (int i = 0; i < 6; i++) v += (X[gi * 6 + i] - m) * (X[gi * 6 + i] - m);
        v /= 6;
        for (int i = 0; i < 6; i++) {
            float r = (float)((X[gi * 6 + i] - m) / sqrt(v + 1e-5) * sc[gi % 2] + bi[gi % 2]);
            CHECK(fabsf(Y[gi * 6 + i] - r) < 1e-4f);
        }
    }
    rm(y[0]);
    rm(s);
    rm(b);
    /* SkipLayerNormalization: skip [4,3] broadcast over the batch, bias, all outputs. */
    int64_t sd[] = {4, 3}, hd[] = {3};
    struct ia_tensor *sk = mk_rand(2, sd, 52), *gm = mk_rand(1, hd, 53), *bt = mk_rand(1, hd, 54),
                     *bs = mk_rand(1, hd, 55);
    struct ia_tensor *o[4] = {WANT, WANT, WANT, WANT};
    struct ia_onnx_attr ep = af("epsilon", 1e-5f);
    CHECK_EQ_INT(run("com.microsoft", "SkipLayerNormalization", 1, &ep, 1, 5,
                     (const struct ia_tensor *[]){x, sk, gm, bt, bs}, 4, o, pool2), IA_OK);
    REQUIRE(o[0] && o[1] && o[2] && o[3]);
    CHECK(o[1]->rank == 3 && o[1]->dims[2] == 1 && o[1]->dims[1] == 4);
    const float *SK = sk->data, *G = gm->data, *BT = bt->data, *BS = bs->data;
    for (int r = 0; r < 8; r++) {
        double z[3], m = 0, v = 0;
        for (int i = 0; i < 3; i++) {
            z[i] = X[r * 3 + i] + SK[(r % 4) * 3 + i] + BS[i];
            m += z[i];
        }
        m /= 3;
        for (int i = 0; i < 3; i++) v += (z[i] - m) * (z[i] - m);
        v /= 3;
        double inv = 1 / sqrt(v + 1e-5);
        CHECK(fabsf(((float *)o[1]->data)[r] - (float)m) < 1e-5f);
        CHECK(fabsf(((float *)o[2]->data)[r] - (float)inv) < 1e-3f * (float)inv);
        for (int i = 0; i < 3; i++) {
            CHECK(fabsf(((float *)o[3]->data)[r * 3 + i] - (float)z[i]) < 1e-5f);
            CHECK(fabsf(((float *)o[0]->data)[r * 3 + i] - (float)((z[i] - m) * inv * G[i] + BT[i])) <
                  1e-4f);
        }
    }
    for (int i = 0; i < 4; i++) rm(o[i]);
    rm(sk);
    rm(gm);
    rm(bt);
    rm(bs);
    rm(x);
}

static void test_batchnorm_forms(void) {
    /* spatial=0 (opset 7): statistics per element of [C, H]. */
    int64_t xd[] = {2, 2, 3}, sd[] = {2, 3};
    struct ia_tensor *x = mk_rand(3, xd, 61), *sc = mk_rand(2, sd, 62), *bi = mk_rand(2, sd, 63),
                     *mu = mk_rand(2, sd, 64), *va = mk_rand(2, sd, 65);
    float *v = va->data;
    for (int i = 0; i < 6; i++) v[i] = fabsf(v[i]) + 0.1f;
    struct ia_onnx_attr sp = ai("spatial", 0);
    struct ia_tensor *y[1] = {WANT};
    CHECK_EQ_INT(run("", "BatchNormalization", 7, &sp, 1, 5,
                     (const struct ia_tensor *[]){x, sc, bi, mu, va}, 1, y, NULL), IA_OK);
    REQUIRE(y[0]);
    const float *X = x->data, *S = sc->data, *B = bi->data, *M = mu->data, *Y = y[0]->data;
    for (int n = 0; n < 2; n++)
        for (int e = 0; e < 6; e++) {
            float r = (X[n * 6 + e] - M[e]) / sqrtf(v[e] + 1e-5f) * S[e] + B[e];
            CHECK(fabsf(Y[n * 6 + e] - r) < 1e-4f);
        }
    rm(y[0]);
    rm(x);
    rm(sc);
    rm(bi);
    rm(mu);
    rm(va);
}

static void test_softmax_forms(void) {
    int64_t xd[] = {2, 3, 4};
    struct ia_tensor *x = mk_rand(3, xd, 71);
    const float *X = x->data;
    /* Opset 11, axis 1: each of the 2 rows of 12 is one distribution. */
    struct ia_onnx_attr ax = ai("axis", 1);
    struct ia_tensor *y[1] = {WANT};
    CHECK_EQ_INT(run("", "Softmax", 11, &ax, 1, 1, (const struct ia_tensor *[]){x}, 1, y, NULL),
                 IA_OK);
    REQUIRE(y[0]);
    for (int r = 0; r < 2; r++) {
        double s = 0;
        for (int i = 0; i < 12; i++) s += exp(X[r * 12 + i]);
        for (int i = 0; i < 12; i++)
            CHECK(fabsf(((float *)y[0]->data)[r * 12 + i] - (float)(exp(X[r * 12 + i]) / s)) < 1e-6f);
    }
    rm(y[0]);
    /* Opset 13, axis 1: distributions of 3 at stride 4. */
    y[0] = WANT;
    CHECK_EQ_INT(run("", "LogSoftmax", 13, &ax, 1, 1, (const struct ia_tensor *[]){x}, 1, y, NULL),
                 IA_OK);
    REQUIRE(y[0]);
    for (int n = 0; n < 2; n++)
        for (int i = 0; i < 4; i++) {
            double s = 0;
            for (int c = 0; c < 3; c++) s += exp(X[n * 12 + c * 4 + i]);
            for (int c = 0; c < 3; c++)
                CHECK(fabsf(((float *)y[0]->data)[n * 12 + c * 4 + i] -
                            (float)(X[n * 12 + c * 4 + i] - log(s))) < 1e-5f);
        }
    rm(y[0]);
    /* Hardmax takes the first of equal maxima. */
    float hv[4] = {1, 3, 3, 2};
    int64_t hd[] = {4};
    struct ia_tensor *h = mk(IA_DTYPE_FLOAT32, 1, hd, hv);
    y[0] = WANT;
    CHECK_EQ_INT(run("", "Hardmax", 13, NULL, 0, 1, (const struct ia_tensor *[]){h}, 1, y, NULL),
                 IA_OK);
    CHECK(y[0] && close_f(y[0]->data, (float[]){0, 1, 0, 0}, 4, 0));
    rm(y[0]);
    /* An axis outside the rank. */
    struct ia_onnx_attr bad = ai("axis", 3);
    y[0] = WANT;
    CHECK_EQ_INT(run("", "Softmax", 13, &bad, 1, 1, (const struct ia_tensor *[]){x}, 1, y, NULL),
                 IA_EINVAL);
    rm(y[0]);
    rm(h);
    rm(x);
}

static void test_setup(void) { CHECK_EQ_INT(ia_pool_create(2, &pool2), IA_OK); }

static void test_teardown(void) {
    ia_pool_destroy(pool2);
    pool2 = NULL;
}

TEST_MAIN(T(test_setup), T(test_sgemm_paths), T(test_sgemm_wide), T(test_matmul),
          T(test_matmul_types), T(test_gemm), T(test_conv), T(test_conv_fast_paths),
          T(test_resize_nearest_rows), T(test_global_average_fast), T(test_conv_auto_pad),
          T(test_conv_transpose), T(test_conv_transpose_tiles), T(test_pools),
          T(test_group_and_skip_norm),
          T(test_batchnorm_forms), T(test_softmax_forms), T(test_teardown))
