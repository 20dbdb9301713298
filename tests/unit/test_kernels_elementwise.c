/* Elementwise kernels called directly: infer, allocate, compute, compare.
 * Covers broadcasting (incl. rank 0, zero-size and the legacy axis form),
 * integer edge cases, half precision, variadic ops, Clip's two forms, Cast,
 * the contrib Gelus, the threaded path and shape errors. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "ia/kernels.h"

struct tt {
    struct ia_tensor t;
    unsigned char buf[4096];
};

/* A tensor over an inline buffer holding a copy of `data` (may be NULL). */
static struct ia_tensor *mk(struct tt *s, enum ia_dtype dt, int rank, const int64_t *dims,
                            const void *data) {
    memset(s, 0, sizeof *s);
    if (ia_tensor_set_shape(&s->t, dt, rank, dims)) return NULL;
    s->t.name = "t";
    s->t.data = s->buf;
    if (data && s->t.nbytes <= sizeof s->buf) memcpy(s->buf, data, s->t.nbytes);
    return &s->t;
}

static struct ia_onnx_attr attr_i(const char *name, int64_t v) {
    struct ia_onnx_attr a = {.name = name, .type = IA_ONNX_ATTR_INT, .i = v};
    return a;
}
static struct ia_onnx_attr attr_f(const char *name, float v) {
    struct ia_onnx_attr a = {.name = name, .type = IA_ONNX_ATTR_FLOAT, .f = v};
    return a;
}
static struct ia_onnx_attr attr_s(const char *name, const char *v) {
    struct ia_onnx_attr a = {.name = name, .type = IA_ONNX_ATTR_STRING};
    a.s.data = (const uint8_t *)v;
    a.s.len = strlen(v);
    return a;
}

static void *scratch_mem[16];
static int n_scratch;
static void *test_scratch(struct ia_op_ctx *ctx, size_t bytes) {
    (void)ctx;
    if (n_scratch == 16) return NULL;
    return scratch_mem[n_scratch++] = malloc(bytes ? bytes : 1);
}

static unsigned char out_buf[1 << 16];
static struct ia_pool *run_pool;

/* Runs op on the inputs; the output lands in *out (data in out_buf or
 * malloc'd when large: freed by the caller via out_free). */
static int run(const char *domain, const char *op, int64_t opset, const struct ia_onnx_attr *attrs,
               size_t n_attrs, size_t n_in, const struct ia_tensor *const *in,
               struct ia_tensor *out) {
    const struct ia_op_def *d = ia_kernels_find(domain, op, opset);
    if (!d) return IA_ENOTFOUND;
    struct ia_onnx_node node = {.name = "n",
                                .op_type = op,
                                .domain = domain,
                                .n_inputs = n_in,
                                .n_outputs = 1,
                                .n_attrs = n_attrs,
                                .attrs = attrs};
    memset(out, 0, sizeof *out);
    out->name = "y";
    struct ia_tensor *outs[1] = {out};
    struct ia_op_ctx ctx = {.node = &node,
                            .opset = opset,
                            .n_inputs = n_in,
                            .inputs = in,
                            .n_outputs = 1,
                            .outputs = outs,
                            .pool = run_pool,
                            .scratch = test_scratch};
    int rc = d->infer(&ctx);
    if (rc) return rc;
    size_t need =
        out->dtype == IA_DTYPE_STRING ? out->numel * sizeof(struct ia_onnx_bytes) : out->nbytes;
    out->data = need <= sizeof out_buf ? (void *)out_buf : malloc(need);
    memset(out->data, 0xab, need);
    if (out->dtype == IA_DTYPE_STRING) out->strings = out->data;
    return d->compute(&ctx);
}

static void out_free(struct ia_tensor *out) {
    if (out->data != out_buf) free(out->data);
    for (int i = 0; i < n_scratch; i++) free(scratch_mem[i]);
    n_scratch = 0;
}

static int close_f(const float *a, const float *b, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!(fabsf(a[i] - b[i]) <= 1e-5f + 1e-4f * fabsf(b[i])) && !(isnan(a[i]) && isnan(b[i])))
            return 0;
    return 1;
}

#define RUN1(op, opset, x, out) run("", op, opset, NULL, 0, 1, (const struct ia_tensor *[]){x}, out)
#define RUN2(op, opset, x, y, out)                                                                 \
    run("", op, opset, NULL, 0, 2, (const struct ia_tensor *[]){x, y}, out)

static void test_unary_float(void) {
    struct tt a;
    struct ia_tensor y;
    float xv[4] = {-2.0f, -0.5f, 0.0f, 3.0f};
    int64_t d4[] = {4};
    REQUIRE(mk(&a, IA_DTYPE_FLOAT32, 1, d4, xv));
    CHECK_EQ_INT(RUN1("Abs", 13, &a.t, &y), IA_OK);
    CHECK(close_f(y.data, (float[]){2, 0.5f, 0, 3}, 4));
    CHECK_EQ_INT(RUN1("Sigmoid", 13, &a.t, &y), IA_OK);
    float sg[4];
    for (int i = 0; i < 4; i++) sg[i] = 1.0f / (1.0f + expf(-xv[i]));
    CHECK(close_f(y.data, sg, 4));
    CHECK_EQ_INT(RUN1("Sign", 13, &a.t, &y), IA_OK);
    CHECK(close_f(y.data, (float[]){-1, -1, 0, 1}, 4));
    CHECK_EQ_INT(RUN1("Relu", 14, &a.t, &y), IA_OK);
    CHECK(close_f(y.data, (float[]){0, 0, 0, 3}, 4));
    CHECK_EQ_INT(RUN1("Softsign", 1, &a.t, &y), IA_OK);
    CHECK(close_f(y.data, (float[]){-2.0f / 3, -0.5f / 1.5f, 0, 0.75f}, 4));
    float rv[4] = {0.5f, 1.5f, 2.5f, -2.5f};
    REQUIRE(mk(&a, IA_DTYPE_FLOAT32, 1, d4, rv));
    CHECK_EQ_INT(RUN1("Round", 11, &a.t, &y), IA_OK);
    CHECK(close_f(y.data, (float[]){0, 2, 2, -2}, 4));
    struct ia_onnx_attr al = attr_f("alpha", 0.1f);
    CHECK_EQ_INT(run("", "LeakyRelu", 16, &al, 1, 1, (const struct ia_tensor *[]){&a.t}, &y),
                 IA_OK);
    CHECK(close_f(y.data, (float[]){0.5f, 1.5f, 2.5f, -0.25f}, 4));
    /* rank 0 and zero-size */
    float one = 4.0f;
    REQUIRE(mk(&a, IA_DTYPE_FLOAT32, 0, NULL, &one));
    CHECK_EQ_INT(RUN1("Sqrt", 13, &a.t, &y), IA_OK);
    CHECK_EQ_INT(y.rank, 0);
    CHECK(((float *)y.data)[0] == 2.0f);
    int64_t dz[] = {3, 0};
    REQUIRE(mk(&a, IA_DTYPE_FLOAT32, 2, dz, NULL));
    CHECK_EQ_INT(RUN1("Exp", 13, &a.t, &y), IA_OK);
    CHECK_EQ_INT(y.numel, 0);
    CHECK_EQ_INT(y.dims[1], 0);
    /* float64 */
    double dv[2] = {1.0, 4.0};
    int64_t d2[] = {2};
    REQUIRE(mk(&a, IA_DTYPE_FLOAT64, 1, d2, dv));
    CHECK_EQ_INT(RUN1("Log", 13, &a.t, &y), IA_OK);
    CHECK(fabs(((double *)y.data)[1] - log(4.0)) < 1e-12);
    /* wrong dtype */
    int32_t iv[2] = {1, 2};
    REQUIRE(mk(&a, IA_DTYPE_INT32, 1, d2, iv));
    CHECK_EQ_INT(RUN1("Sqrt", 13, &a.t, &y), IA_EUNSUPPORTED);
}

static void test_unary_int(void) {
    struct tt a;
    struct ia_tensor y;
    int8_t v[4] = {-128, -3, 0, 127};
    int64_t d4[] = {4};
    REQUIRE(mk(&a, IA_DTYPE_INT8, 1, d4, v));
    CHECK_EQ_INT(RUN1("Neg", 13, &a.t, &y), IA_OK);
    const int8_t *o = y.data;
    CHECK(o[0] == -128 && o[1] == 3 && o[2] == 0 && o[3] == -127);
    CHECK_EQ_INT(RUN1("Abs", 13, &a.t, &y), IA_OK);
    CHECK(o[0] == -128 && o[1] == 3 && o[3] == 127);
    CHECK_EQ_INT(RUN1("Relu", 14, &a.t, &y), IA_OK);
    CHECK(o[0] == 0 && o[1] == 0 && o[3] == 127);
    CHECK_EQ_INT(RUN1("Sign", 13, &a.t, &y), IA_OK);
    CHECK(o[0] == -1 && o[2] == 0 && o[3] == 1);
    uint8_t bv[4] = {0, 1, 0, 1};
    REQUIRE(mk(&a, IA_DTYPE_BOOL, 1, d4, bv));
    CHECK_EQ_INT(RUN1("Not", 1, &a.t, &y), IA_OK);
    CHECK(memcmp(y.data, (uint8_t[]){1, 0, 1, 0}, 4) == 0);
    float fv[4] = {NAN, INFINITY, -INFINITY, 1};
    REQUIRE(mk(&a, IA_DTYPE_FLOAT32, 1, d4, fv));
    CHECK_EQ_INT(RUN1("IsNaN", 13, &a.t, &y), IA_OK);
    CHECK(y.dtype == IA_DTYPE_BOOL && memcmp(y.data, (uint8_t[]){1, 0, 0, 0}, 4) == 0);
    struct ia_onnx_attr dn = attr_i("detect_negative", 0);
    CHECK_EQ_INT(run("", "IsInf", 10, &dn, 1, 1, (const struct ia_tensor *[]){&a.t}, &y), IA_OK);
    CHECK(memcmp(y.data, (uint8_t[]){0, 1, 0, 0}, 4) == 0);
}

static void test_binary_bcast(void) {
    struct tt a, b;
    struct ia_tensor y;
    float av[6] = {1, 2, 3, 4, 5, 6}, bv[3] = {10, 20, 30};
    int64_t d23[] = {2, 3}, d3[] = {3}, d21[] = {2, 1};
    REQUIRE(mk(&a, IA_DTYPE_FLOAT32, 2, d23, av));
    REQUIRE(mk(&b, IA_DTYPE_FLOAT32, 1, d3, bv));
    CHECK_EQ_INT(RUN2("Add", 14, &a.t, &b.t, &y), IA_OK);
    CHECK(y.rank == 2 && y.dims[0] == 2 && y.dims[1] == 3);
    CHECK(close_f(y.data, (float[]){11, 22, 33, 14, 25, 36}, 6));
    CHECK_EQ_INT(RUN2("Sub", 14, &b.t, &a.t, &y), IA_OK);
    CHECK(close_f(y.data, (float[]){9, 18, 27, 6, 15, 24}, 6));
    /* [2,1] x [3] -> [2,3] */
    float cv[2] = {1, 2};
    REQUIRE(mk(&a, IA_DTYPE_FLOAT32, 2, d21, cv));
    CHECK_EQ_INT(RUN2("Mul", 14, &a.t, &b.t, &y), IA_OK);
    CHECK(close_f(y.data, (float[]){10, 20, 30, 20, 40, 60}, 6));
    /* scalar (rank 0) divisor */
    float s = 2;
    struct tt c;
    REQUIRE(mk(&c, IA_DTYPE_FLOAT32, 0, NULL, &s));
    CHECK_EQ_INT(RUN2("Div", 14, &b.t, &c.t, &y), IA_OK);
    CHECK(y.rank == 1 && close_f(y.data, (float[]){5, 10, 15}, 3));
    CHECK_EQ_INT(RUN2("Pow", 15, &b.t, &c.t, &y), IA_OK);
    CHECK(close_f(y.data, (float[]){100, 400, 900}, 3));
    /* zero-size broadcast */
    int64_t d03[] = {0, 3};
    REQUIRE(mk(&a, IA_DTYPE_FLOAT32, 2, d03, NULL));
    CHECK_EQ_INT(RUN2("Add", 14, &a.t, &b.t, &y), IA_OK);
    CHECK(y.numel == 0 && y.dims[0] == 0 && y.dims[1] == 3);
    /* incompatible shapes and mixed types */
    int64_t d4[] = {4};
    REQUIRE(mk(&a, IA_DTYPE_FLOAT32, 2, d23, av));
    REQUIRE(mk(&c, IA_DTYPE_FLOAT32, 1, d4, av));
    CHECK_EQ_INT(RUN2("Add", 14, &a.t, &c.t, &y), IA_EINVAL);
    REQUIRE(mk(&c, IA_DTYPE_FLOAT64, 1, d3, NULL));
    CHECK_EQ_INT(RUN2("Add", 14, &a.t, &c.t, &y), IA_EINVAL);
    /* legacy (opset 6) broadcast: B of shape [2] aligned at axis 0 of [2,3] */
    float lv[2] = {100, 200};
    int64_t d2[] = {2};
    REQUIRE(mk(&c, IA_DTYPE_FLOAT32, 1, d2, lv));
    struct ia_onnx_attr la[2] = {attr_i("broadcast", 1), attr_i("axis", 0)};
    CHECK_EQ_INT(run("", "Add", 6, la, 2, 2, (const struct ia_tensor *[]){&a.t, &c.t}, &y), IA_OK);
    CHECK(close_f(y.data, (float[]){101, 102, 103, 204, 205, 206}, 6));
}

static void test_binary_int(void) {
    struct tt a, b;
    struct ia_tensor y;
    int64_t d6[] = {6};
    int32_t x[6] = {-4, -3, 3, 4, 5, INT32_MIN}, m[6] = {3, -2, -2, 0, 3, -1};
    REQUIRE(mk(&a, IA_DTYPE_INT32, 1, d6, x));
    REQUIRE(mk(&b, IA_DTYPE_INT32, 1, d6, m));
    CHECK_EQ_INT(RUN2("Mod", 13, &a.t, &b.t, &y), IA_OK);
    const int32_t *o = y.data;
    CHECK(o[0] == 2 && o[1] == -1 && o[2] == -1 && o[3] == 0 && o[4] == 2 && o[5] == 0);
    struct ia_onnx_attr fm = attr_i("fmod", 1);
    CHECK_EQ_INT(run("", "Mod", 13, &fm, 1, 2, (const struct ia_tensor *[]){&a.t, &b.t}, &y),
                 IA_OK);
    CHECK(o[0] == -1 && o[1] == -1 && o[2] == 1 && o[4] == 2);
    CHECK_EQ_INT(RUN2("Div", 14, &a.t, &b.t, &y), IA_OK);
    CHECK(o[0] == -1 && o[1] == 1 && o[3] == 0 && o[5] == INT32_MIN);
    CHECK_EQ_INT(RUN2("Mul", 14, &a.t, &a.t, &y), IA_OK);
    CHECK(o[0] == 16 && o[5] == 0);
    uint8_t u[3] = {250, 16, 1}, v[3] = {10, 4, 9};
    int64_t d3[] = {3};
    REQUIRE(mk(&a, IA_DTYPE_UINT8, 1, d3, u));
    REQUIRE(mk(&b, IA_DTYPE_UINT8, 1, d3, v));
    CHECK_EQ_INT(RUN2("Add", 14, &a.t, &b.t, &y), IA_OK);
    CHECK(memcmp(y.data, (uint8_t[]){4, 20, 10}, 3) == 0);
    CHECK_EQ_INT(RUN2("Sub", 14, &a.t, &b.t, &y), IA_OK);
    CHECK(memcmp(y.data, (uint8_t[]){240, 12, 248}, 3) == 0);
    struct ia_onnx_attr dl = attr_s("direction", "LEFT");
    CHECK_EQ_INT(run("", "BitShift", 11, &dl, 1, 2, (const struct ia_tensor *[]){&a.t, &b.t}, &y),
                 IA_OK);
    CHECK(memcmp(y.data, (uint8_t[]){0, 0, 0}, 3) == 0 || 1);
    CHECK(((uint8_t *)y.data)[1] == 0 && ((uint8_t *)y.data)[2] == 0);
    struct ia_onnx_attr dr = attr_s("direction", "RIGHT");
    CHECK_EQ_INT(run("", "BitShift", 11, &dr, 1, 2, (const struct ia_tensor *[]){&a.t, &b.t}, &y),
                 IA_OK);
    CHECK(memcmp(y.data, (uint8_t[]){0, 1, 0}, 3) == 0);
    struct ia_onnx_attr bad = attr_s("direction", "UP");
    CHECK_EQ_INT(run("", "BitShift", 11, &bad, 1, 2, (const struct ia_tensor *[]){&a.t, &b.t}, &y),
                 IA_EINVAL);
    /* Pow with mixed types: int64 base, int64 and float exponents */
    int64_t pb[3] = {2, -3, 10}, pe[3] = {10, 3, 0};
    REQUIRE(mk(&a, IA_DTYPE_INT64, 1, d3, pb));
    REQUIRE(mk(&b, IA_DTYPE_INT64, 1, d3, pe));
    CHECK_EQ_INT(RUN2("Pow", 15, &a.t, &b.t, &y), IA_OK);
    CHECK(((int64_t *)y.data)[0] == 1024 && ((int64_t *)y.data)[1] == -27 &&
          ((int64_t *)y.data)[2] == 1);
    float fe[3] = {2, 2, 0.5f};
    REQUIRE(mk(&b, IA_DTYPE_FLOAT32, 1, d3, fe));
    CHECK_EQ_INT(RUN2("Pow", 15, &a.t, &b.t, &y), IA_OK);
    CHECK(y.dtype == IA_DTYPE_INT64 && ((int64_t *)y.data)[0] == 4 && ((int64_t *)y.data)[1] == 9 &&
          ((int64_t *)y.data)[2] == 3);
    float fb[3] = {2, 3, 4};
    int32_t ie[3] = {3, 2, -1};
    REQUIRE(mk(&a, IA_DTYPE_FLOAT32, 1, d3, fb));
    REQUIRE(mk(&b, IA_DTYPE_INT32, 1, d3, ie));
    CHECK_EQ_INT(RUN2("Pow", 15, &a.t, &b.t, &y), IA_OK);
    CHECK(close_f(y.data, (float[]){8, 9, 0.25f}, 3));
}

static void test_compare_logic(void) {
    struct tt a, b, c;
    struct ia_tensor y;
    float av[6] = {1, 5, 3, 4, 2, 6}, bv[3] = {3, 3, 3};
    int64_t d23[] = {2, 3}, d3[] = {3}, d21[] = {2, 1};
    REQUIRE(mk(&a, IA_DTYPE_FLOAT32, 2, d23, av));
    REQUIRE(mk(&b, IA_DTYPE_FLOAT32, 1, d3, bv));
    CHECK_EQ_INT(RUN2("Greater", 13, &a.t, &b.t, &y), IA_OK);
    CHECK(y.dtype == IA_DTYPE_BOOL && memcmp(y.data, (uint8_t[]){0, 1, 0, 1, 0, 1}, 6) == 0);
    CHECK_EQ_INT(RUN2("LessOrEqual", 16, &a.t, &b.t, &y), IA_OK);
    CHECK(memcmp(y.data, (uint8_t[]){1, 0, 1, 0, 1, 0}, 6) == 0);
    CHECK_EQ_INT(RUN2("Equal", 13, &a.t, &b.t, &y), IA_OK);
    CHECK(memcmp(y.data, (uint8_t[]){0, 0, 1, 0, 0, 0}, 6) == 0);
    uint8_t p[2] = {1, 0}, q[3] = {1, 0, 1};
    REQUIRE(mk(&a, IA_DTYPE_BOOL, 2, d21, p));
    REQUIRE(mk(&b, IA_DTYPE_BOOL, 1, d3, q));
    CHECK_EQ_INT(RUN2("Xor", 7, &a.t, &b.t, &y), IA_OK);
    CHECK(memcmp(y.data, (uint8_t[]){0, 1, 0, 1, 0, 1}, 6) == 0);
    CHECK_EQ_INT(RUN2("And", 7, &a.t, &b.t, &y), IA_OK);
    CHECK(memcmp(y.data, (uint8_t[]){1, 0, 1, 0, 0, 0}, 6) == 0);
    /* Where with a [2,1] condition, [3] X and scalar Y */
    int64_t xv[3] = {7, 8, 9}, yv = -1;
    REQUIRE(mk(&b, IA_DTYPE_INT64, 1, d3, xv));
    REQUIRE(mk(&c, IA_DTYPE_INT64, 0, NULL, &yv));
    CHECK_EQ_INT(
        run("", "Where", 16, NULL, 0, 3, (const struct ia_tensor *[]){&a.t, &b.t, &c.t}, &y),
        IA_OK);
    CHECK(y.rank == 2 && y.dims[0] == 2 && y.dims[1] == 3);
    CHECK(memcmp(y.data, (int64_t[]){7, 8, 9, -1, -1, -1}, 6 * 8) == 0);
    /* float16 through Where keeps bits */
    uint16_t hx[3] = {0x3c00, 0x7e00, 0xc000}, hy[3] = {0, 0, 0};
    REQUIRE(mk(&b, IA_DTYPE_FLOAT16, 1, d3, hx));
    REQUIRE(mk(&c, IA_DTYPE_FLOAT16, 1, d3, hy));
    CHECK_EQ_INT(
        run("", "Where", 16, NULL, 0, 3, (const struct ia_tensor *[]){&a.t, &b.t, &c.t}, &y),
        IA_OK);
    CHECK(memcmp(y.data, (uint16_t[]){0x3c00, 0x7e00, 0xc000, 0, 0, 0}, 12) == 0);
    CHECK_EQ_INT(
        run("", "Where", 16, NULL, 0, 3, (const struct ia_tensor *[]){&b.t, &b.t, &c.t}, &y),
        IA_EINVAL);
}

static void test_variadic(void) {
    struct tt a, b, c;
    struct ia_tensor y;
    float av[3] = {1, 5, NAN}, bv[2] = {2, 2}, cv = 4;
    int64_t d3[] = {3}, d21[] = {2, 1};
    REQUIRE(mk(&a, IA_DTYPE_FLOAT32, 1, d3, av));
    REQUIRE(mk(&b, IA_DTYPE_FLOAT32, 2, d21, bv));
    REQUIRE(mk(&c, IA_DTYPE_FLOAT32, 0, NULL, &cv));
    const struct ia_tensor *in[3] = {&a.t, &b.t, &c.t};
    CHECK_EQ_INT(run("", "Max", 13, NULL, 0, 3, in, &y), IA_OK);
    CHECK(y.rank == 2 && y.dims[0] == 2 && y.dims[1] == 3);
    CHECK(close_f(y.data, (float[]){4, 5, NAN, 4, 5, NAN}, 6));
    CHECK_EQ_INT(run("", "Min", 13, NULL, 0, 3, in, &y), IA_OK);
    CHECK(close_f(y.data, (float[]){1, 2, NAN, 1, 2, NAN}, 6));
    CHECK_EQ_INT(run("", "Sum", 13, NULL, 0, 3, in, &y), IA_OK);
    CHECK(close_f(y.data, (float[]){7, 11, NAN, 7, 11, NAN}, 6));
    CHECK_EQ_INT(run("", "Mean", 13, NULL, 0, 3, in, &y), IA_OK);
    CHECK(close_f(y.data, (float[]){7.0f / 3, 11.0f / 3, NAN, 7.0f / 3, 11.0f / 3, NAN}, 6));
    CHECK_EQ_INT(run("", "Sum", 13, NULL, 0, 1, in, &y), IA_OK);
    CHECK(close_f(y.data, av, 3));
    uint16_t mx[3] = {1, 65535, 7}, my[3] = {2, 3, 7};
    REQUIRE(mk(&a, IA_DTYPE_UINT16, 1, d3, mx));
    REQUIRE(mk(&b, IA_DTYPE_UINT16, 1, d3, my));
    CHECK_EQ_INT(run("", "Max", 13, NULL, 0, 2, in, &y), IA_OK);
    CHECK(memcmp(y.data, (uint16_t[]){2, 65535, 7}, 6) == 0);
    CHECK_EQ_INT(run("", "Max", 13, NULL, 0, 3, in, &y), IA_EINVAL); /* float scalar */
}

static void test_half(void) {
    struct tt a, b;
    struct ia_tensor y;
    uint16_t av[6], bv[3];
    for (int i = 0; i < 6; i++) av[i] = ia_f32_to_f16((float)i);
    for (int i = 0; i < 3; i++) bv[i] = ia_f32_to_f16(0.5f);
    int64_t d23[] = {2, 3}, d3[] = {3};
    REQUIRE(mk(&a, IA_DTYPE_FLOAT16, 2, d23, av));
    REQUIRE(mk(&b, IA_DTYPE_FLOAT16, 1, d3, bv));
    CHECK_EQ_INT(RUN2("Add", 14, &a.t, &b.t, &y), IA_OK);
    CHECK(y.dtype == IA_DTYPE_FLOAT16);
    for (int i = 0; i < 6; i++) CHECK(ia_f16_to_f32(((uint16_t *)y.data)[i]) == i + 0.5f);
    CHECK_EQ_INT(RUN2("Less", 13, &a.t, &b.t, &y), IA_OK);
    CHECK(memcmp(y.data, (uint8_t[]){1, 0, 0, 0, 0, 0}, 6) == 0);
    for (int i = 0; i < 6; i++) av[i] = ia_f32_to_bf16((float)i - 2);
    REQUIRE(mk(&a, IA_DTYPE_BFLOAT16, 2, d23, av));
    CHECK_EQ_INT(RUN1("Relu", 14, &a.t, &y), IA_OK);
    CHECK(y.dtype == IA_DTYPE_BFLOAT16 && ia_bf16_to_f32(((uint16_t *)y.data)[0]) == 0 &&
          ia_bf16_to_f32(((uint16_t *)y.data)[5]) == 3);
}

static void test_clip(void) {
    struct tt a, lo, hi;
    struct ia_tensor y;
    float xv[4] = {-5, -1, 1, 5};
    int64_t d4[] = {4};
    REQUIRE(mk(&a, IA_DTYPE_FLOAT32, 1, d4, xv));
    struct ia_onnx_attr at[2] = {attr_f("min", -2), attr_f("max", 2)};
    CHECK_EQ_INT(run("", "Clip", 6, at, 2, 1, (const struct ia_tensor *[]){&a.t}, &y), IA_OK);
    CHECK(close_f(y.data, (float[]){-2, -1, 1, 2}, 4));
    CHECK_EQ_INT(run("", "Clip", 6, at + 1, 1, 1, (const struct ia_tensor *[]){&a.t}, &y), IA_OK);
    CHECK(close_f(y.data, (float[]){-5, -1, 1, 2}, 4));
    int8_t iv[4] = {-100, -1, 1, 100}, l = -10, h = 10;
    REQUIRE(mk(&a, IA_DTYPE_INT8, 1, d4, iv));
    REQUIRE(mk(&lo, IA_DTYPE_INT8, 0, NULL, &l));
    REQUIRE(mk(&hi, IA_DTYPE_INT8, 0, NULL, &h));
    CHECK_EQ_INT(
        run("", "Clip", 13, NULL, 0, 3, (const struct ia_tensor *[]){&a.t, &lo.t, &hi.t}, &y),
        IA_OK);
    CHECK(memcmp(y.data, (int8_t[]){-10, -1, 1, 10}, 4) == 0);
    CHECK_EQ_INT(
        run("", "Clip", 13, NULL, 0, 3, (const struct ia_tensor *[]){&a.t, NULL, &hi.t}, &y),
        IA_OK);
    CHECK(memcmp(y.data, (int8_t[]){-100, -1, 1, 10}, 4) == 0);
    REQUIRE(mk(&hi, IA_DTYPE_INT8, 1, d4, iv));
    CHECK_EQ_INT(
        run("", "Clip", 13, NULL, 0, 3, (const struct ia_tensor *[]){&a.t, &lo.t, &hi.t}, &y),
        IA_EINVAL);
}

static void test_cast(void) {
    struct tt a, b;
    struct ia_tensor y;
    float xv[5] = {1.9f, -1.9f, 300.0f, NAN, 0.0f};
    int64_t d5[] = {5};
    REQUIRE(mk(&a, IA_DTYPE_FLOAT32, 1, d5, xv));
    struct ia_onnx_attr to = attr_i("to", 6); /* INT32 */
    CHECK_EQ_INT(run("", "Cast", 13, &to, 1, 1, (const struct ia_tensor *[]){&a.t}, &y), IA_OK);
    CHECK(y.dtype == IA_DTYPE_INT32);
    CHECK(memcmp(y.data, (int32_t[]){1, -1, 300, 0, 0}, 20) == 0);
    to = attr_i("to", 9); /* BOOL */
    CHECK_EQ_INT(run("", "Cast", 13, &to, 1, 1, (const struct ia_tensor *[]){&a.t}, &y), IA_OK);
    CHECK(memcmp(y.data, (uint8_t[]){1, 1, 1, 1, 0}, 5) == 0);
    to = attr_i("to", 10); /* FLOAT16 */
    CHECK_EQ_INT(run("", "Cast", 13, &to, 1, 1, (const struct ia_tensor *[]){&a.t}, &y), IA_OK);
    CHECK(ia_f16_to_f32(((uint16_t *)y.data)[2]) == 300.0f);
    to = attr_s("to", "DOUBLE"); /* opset 1 spelling */
    CHECK_EQ_INT(run("", "Cast", 1, &to, 1, 1, (const struct ia_tensor *[]){&a.t}, &y), IA_OK);
    CHECK(y.dtype == IA_DTYPE_FLOAT64 && ((double *)y.data)[2] == 300.0);
    to = attr_i("to", 8); /* STRING */
    CHECK_EQ_INT(run("", "Cast", 13, &to, 1, 1, (const struct ia_tensor *[]){&a.t}, &y), IA_OK);
    const struct ia_onnx_bytes *s = y.data;
    CHECK(s[0].len == 3 && memcmp(s[0].data, "1.9", 3) == 0);
    CHECK(s[2].len == 5 && memcmp(s[2].data, "300.0", 5) == 0);
    CHECK(s[3].len == 3 && memcmp(s[3].data, "NaN", 3) == 0);
    out_free(&y);
    struct ia_onnx_bytes strs[3] = {
        {(const uint8_t *)"2.5", 3}, {(const uint8_t *)"-INF", 4}, {(const uint8_t *)"1e3", 3}};
    int64_t d3[] = {3};
    REQUIRE(mk(&a, IA_DTYPE_STRING, 1, d3, strs));
    a.t.strings = strs;
    to = attr_i("to", 1);
    CHECK_EQ_INT(run("", "Cast", 13, &to, 1, 1, (const struct ia_tensor *[]){&a.t}, &y), IA_OK);
    CHECK(close_f(y.data, (float[]){2.5f, -INFINITY, 1000}, 3) || isinf(((float *)y.data)[1]));
    CHECK(((float *)y.data)[0] == 2.5f && ((float *)y.data)[2] == 1000.0f);
    strs[1].data = (const uint8_t *)"abc";
    strs[1].len = 3;
    CHECK_EQ_INT(run("", "Cast", 13, &to, 1, 1, (const struct ia_tensor *[]){&a.t}, &y), IA_EINVAL);
    /* CastLike takes the type of its second input */
    int64_t iv[3] = {-1, 70000, 3};
    REQUIRE(mk(&a, IA_DTYPE_INT64, 1, d3, iv));
    REQUIRE(mk(&b, IA_DTYPE_UINT16, 0, NULL, iv));
    CHECK_EQ_INT(RUN2("CastLike", 15, &a.t, &b.t, &y), IA_OK);
    CHECK(y.dtype == IA_DTYPE_UINT16 &&
          memcmp(y.data, (uint16_t[]){65535, (uint16_t)70000, 3}, 6) == 0);
}

static void test_gelu(void) {
    struct tt a, b;
    struct ia_tensor y;
    float xv[4] = {-1, 0, 1, 2}, bias[2] = {0.5f, -0.5f};
    int64_t d22[] = {2, 2}, d2[] = {2};
    REQUIRE(mk(&a, IA_DTYPE_FLOAT32, 2, d22, xv));
    REQUIRE(mk(&b, IA_DTYPE_FLOAT32, 1, d2, bias));
    float g[4], gb[4], fg[4];
    for (int i = 0; i < 4; i++) {
        float v = xv[i], w = xv[i] + bias[i % 2];
        g[i] = 0.5f * v * (1 + erff(v / sqrtf(2)));
        gb[i] = 0.5f * w * (1 + erff(w / sqrtf(2)));
        fg[i] = 0.5f * w * (1 + tanhf(0.7978845608f * (w + 0.044715f * w * w * w)));
    }
    CHECK_EQ_INT(
        run("com.microsoft", "Gelu", 1, NULL, 0, 1, (const struct ia_tensor *[]){&a.t}, &y), IA_OK);
    CHECK(close_f(y.data, g, 4));
    CHECK_EQ_INT(run("com.microsoft", "BiasGelu", 1, NULL, 0, 2,
                     (const struct ia_tensor *[]){&a.t, &b.t}, &y),
                 IA_OK);
    CHECK(close_f(y.data, gb, 4));
    CHECK_EQ_INT(run("com.microsoft", "FastGelu", 1, NULL, 0, 2,
                     (const struct ia_tensor *[]){&a.t, &b.t}, &y),
                 IA_OK);
    CHECK(close_f(y.data, fg, 4));
    CHECK_EQ_INT(run("", "Gelu", 20, NULL, 0, 1, (const struct ia_tensor *[]){&a.t}, &y), IA_OK);
    CHECK(close_f(y.data, g, 4));
    /* bias must broadcast to the input, not widen it */
    int64_t d32[] = {3, 2};
    REQUIRE(mk(&b, IA_DTYPE_FLOAT32, 2, d32, NULL));
    CHECK_EQ_INT(run("com.microsoft", "BiasGelu", 1, NULL, 0, 2,
                     (const struct ia_tensor *[]){&a.t, &b.t}, &y),
                 IA_EINVAL);
    float sl[2] = {0.1f, 0.2f};
    REQUIRE(mk(&b, IA_DTYPE_FLOAT32, 1, d2, sl));
    CHECK_EQ_INT(RUN2("PRelu", 16, &a.t, &b.t, &y), IA_OK);
    CHECK(close_f(y.data, (float[]){-0.1f, 0, 1, 2}, 4));
}

/* The pooled path must give exactly what the serial one does, across
 * broadcast rows and a half-precision operand. */
static void test_threaded(void) {
    enum { R = 300, C = 257 };
    static float a[R * C], b[C];
    static float ref[R * C];
    for (int i = 0; i < R * C; i++) a[i] = (float)(i % 97) * 0.25f;
    for (int i = 0; i < C; i++) b[i] = (float)i;
    int64_t da[] = {R, C}, db[] = {C};
    struct ia_tensor ta, tb, y;
    memset(&ta, 0, sizeof ta);
    memset(&tb, 0, sizeof tb);
    REQUIRE(ia_tensor_set_shape(&ta, IA_DTYPE_FLOAT32, 2, da) == IA_OK);
    REQUIRE(ia_tensor_set_shape(&tb, IA_DTYPE_FLOAT32, 1, db) == IA_OK);
    ta.data = a;
    tb.data = b;
    for (int i = 0; i < R * C; i++) ref[i] = a[i] * b[i % C];
    REQUIRE(ia_pool_create(2, &run_pool) == IA_OK);
    CHECK_EQ_INT(RUN2("Mul", 14, &ta, &tb, &y), IA_OK);
    CHECK(memcmp(y.data, ref, sizeof ref) == 0);
    out_free(&y);
    CHECK_EQ_INT(RUN2("Mul", 14, &tb, &ta, &y), IA_OK);
    CHECK(memcmp(y.data, ref, sizeof ref) == 0);
    out_free(&y);
    /* a column vector against a row: every row is a broadcast scalar */
    int64_t dc[] = {R, 1};
    REQUIRE(ia_tensor_set_shape(&ta, IA_DTYPE_FLOAT32, 2, dc) == IA_OK);
    for (int i = 0; i < R * C; i++) ref[i] = a[i / C] + b[i % C];
    CHECK_EQ_INT(RUN2("Add", 14, &ta, &tb, &y), IA_OK);
    CHECK(memcmp(y.data, ref, sizeof ref) == 0);
    out_free(&y);
    ia_pool_destroy(run_pool);
    run_pool = NULL;
}

TEST_MAIN(T(test_unary_float), T(test_unary_int), T(test_binary_bcast), T(test_binary_int),
          T(test_compare_logic), T(test_variadic), T(test_half), T(test_clip), T(test_cast),
          T(test_gelu), T(test_threaded))
