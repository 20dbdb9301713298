/* Graph fusion (src/graph/fuse.c) and the fused kernels
 * (src/kernels/cpu/fused.c): every fused path must give what the unfused
 * graph gives. Models are built in memory the way torch exports them
 * (LayerNorm decomposed, MatMul + Add bias, GELU as erf or tanh chains)
 * and run twice: with fusion (the default) and with no_fold, which runs
 * every node as written. Also: the pre-packed GEMM against the reference,
 * the GELU approximations against libm, chains that must not be fused, and
 * fused ops given bad inputs. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "graph/fuse.h"
#include "ia/engine.h"
#include "ia/graph.h"
#include "ia/onnx.h"
#include "kernels/cpu/gemm.h"

#define A(...) ((const char *const[]){__VA_ARGS__})

static uint32_t rng_state = 12345;
static float frand(void) { /* xorshift32 in [-1, 1) */
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return (float)(rng_state >> 8) / 8388608.0f - 1.0f;
}

static void fill(float *x, size_t n, float scale) {
    for (size_t i = 0; i < n; i++) x[i] = frand() * scale;
}

/* ---- model building ------------------------------------------------------------ */

struct mb {
    struct ia_onnx_builder *b;
    int n;             /* for unique value names */
    char *names[256]; /* freed by mb_finish */
};

static void mb_init(struct mb *m) {
    if (ia_onnx_builder_create(&m->b) != IA_OK) abort();
    ia_onnx_builder_set_info(m->b, "g", "test_fusion", "1", 0);
    ia_onnx_builder_add_opset(m->b, "", 14);
    ia_onnx_builder_add_opset(m->b, "ai.ia.fused", 1);
    m->n = 0;
}

static void mb_node_d(struct mb *m, const char *domain, const char *op, size_t n_in,
                      const char *const *in, const char *out, size_t n_attrs,
                      const struct ia_onnx_attr *attrs) {
    const char *outs[1] = {out};
    struct ia_onnx_node n = {.name = "", .op_type = op, .domain = domain, .n_inputs = n_in,
                             .inputs = in, .n_outputs = 1, .outputs = outs,
                             .n_attrs = n_attrs, .attrs = attrs};
    if (ia_onnx_builder_add_node(m->b, &n) != IA_OK) abort();
}

static void mb_node(struct mb *m, const char *op, size_t n_in, const char *const *in,
                    const char *out) {
    mb_node_d(m, "", op, n_in, in, out, 0, NULL);
}

static void mb_const(struct mb *m, const char *name, int rank, const int64_t *dims,
                     const float *data) {
    uint64_t n = 1;
    for (int i = 0; i < rank; i++) n *= (uint64_t)dims[i];
    if (ia_onnx_builder_add_initializer(m->b, name, IA_DTYPE_FLOAT32, (size_t)rank, dims, data,
                                        n * sizeof(float)))
        abort();
}

static void mb_scalar(struct mb *m, const char *name, float v) { mb_const(m, name, 0, NULL, &v); }

static char *nm(struct mb *m, const char *what) {
    if (m->n >= 256) abort();
    char *s = malloc(64);
    if (!s) abort();
    snprintf(s, 64, "%s_%d", what, m->n);
    m->names[m->n++] = s;
    return s;
}

/* Decomposed LayerNorm over the last axis, as torch's opset-14 export. */
static const char *mb_layernorm(struct mb *m, const char *x, int64_t n, float eps) {
    int64_t axes_dims[1] = {n};
    float *g = malloc(sizeof(float) * (size_t)n), *b = malloc(sizeof(float) * (size_t)n);
    fill(g, (size_t)n, 1.0f);
    fill(b, (size_t)n, 0.5f);
    char *gn = nm(m, "ln_g"), *bn = nm(m, "ln_b"), *two = nm(m, "two"), *ep = nm(m, "eps");
    mb_const(m, gn, 1, axes_dims, g);
    mb_const(m, bn, 1, axes_dims, b);
    mb_scalar(m, two, 2.0f);
    mb_scalar(m, ep, eps);
    free(g);
    free(b);
    int64_t minus1 = -1;
    struct ia_onnx_attr ax = {.name = "axes", .type = IA_ONNX_ATTR_INTS, .n = 1, .ints = &minus1};
    char *mean = nm(m, "mean"), *d = nm(m, "d"), *p = nm(m, "p"), *var = nm(m, "var"),
         *ve = nm(m, "ve"), *sd = nm(m, "sd"), *nn = nm(m, "n"), *sc = nm(m, "sc"),
         *y = nm(m, "ln");
    mb_node_d(m, "", "ReduceMean", 1, A(x), mean, 1, &ax);
    mb_node(m, "Sub", 2, A(x, mean), d);
    mb_node(m, "Pow", 2, A(d, two), p);
    mb_node_d(m, "", "ReduceMean", 1, A(p), var, 1, &ax);
    mb_node(m, "Add", 2, A(var, ep), ve);
    mb_node(m, "Sqrt", 1, A(ve), sd);
    mb_node(m, "Div", 2, A(d, sd), nn);
    mb_node(m, "Mul", 2, A(nn, gn), sc);
    mb_node(m, "Add", 2, A(sc, bn), y);
    return y;
}

/* x @ W + b, bias first when bias_first (torch writes Add(bias, mm)). */
static const char *mb_linear(struct mb *m, const char *x, int64_t k, int64_t n, int bias_first) {
    int64_t wd[2] = {k, n}, bd[1] = {n};
    float *w = malloc(sizeof(float) * (size_t)(k * n)), *b = malloc(sizeof(float) * (size_t)n);
    fill(w, (size_t)(k * n), 1.0f / sqrtf((float)k));
    fill(b, (size_t)n, 0.3f);
    char *wn = nm(m, "w"), *bn = nm(m, "b"), *mm = nm(m, "mm"), *y = nm(m, "lin");
    mb_const(m, wn, 2, wd, w);
    mb_const(m, bn, 1, bd, b);
    free(w);
    free(b);
    mb_node(m, "MatMul", 2, A(x, wn), mm);
    mb_node(m, "Add", 2, bias_first ? A(bn, mm) : A(mm, bn), y);
    return y;
}

static const char *mb_gelu_erf(struct mb *m, const char *x) {
    char *s2 = nm(m, "sqrt2"), *one = nm(m, "one"), *half = nm(m, "half");
    mb_scalar(m, s2, 1.41421356f);
    mb_scalar(m, one, 1.0f);
    mb_scalar(m, half, 0.5f);
    char *d = nm(m, "gd"), *e = nm(m, "ge"), *a = nm(m, "ga"), *mu = nm(m, "gm"), *y = nm(m, "gelu");
    mb_node(m, "Div", 2, A(x, s2), d);
    mb_node(m, "Erf", 1, A(d), e);
    mb_node(m, "Add", 2, A(e, one), a);
    mb_node(m, "Mul", 2, A(x, a), mu);
    mb_node(m, "Mul", 2, A(mu, half), y);
    return y;
}

static const char *mb_gelu_tanh(struct mb *m, const char *x) {
    char *c1 = nm(m, "c1"), *c2 = nm(m, "c2"), *one = nm(m, "one"), *half = nm(m, "half");
    mb_scalar(m, c1, 0.044715f);
    mb_scalar(m, c2, 0.7978845608f);
    mb_scalar(m, one, 1.0f);
    mb_scalar(m, half, 0.5f);
    char *sq = nm(m, "sq"), *cu = nm(m, "cu"), *m1 = nm(m, "m1"), *ad = nm(m, "ad"),
         *m2 = nm(m, "m2"), *th = nm(m, "th"), *a1 = nm(m, "a1"), *mx = nm(m, "mx"),
         *y = nm(m, "gelut");
    mb_node(m, "Mul", 2, A(x, x), sq);
    mb_node(m, "Mul", 2, A(x, sq), cu);
    mb_node(m, "Mul", 2, A(c1, cu), m1);
    mb_node(m, "Add", 2, A(x, m1), ad);
    mb_node(m, "Mul", 2, A(c2, ad), m2);
    mb_node(m, "Tanh", 1, A(m2), th);
    mb_node(m, "Add", 2, A(one, th), a1);
    mb_node(m, "Mul", 2, A(x, a1), mx);
    mb_node(m, "Mul", 2, A(half, mx), y);
    return y;
}

static struct ia_model *mb_finish(struct mb *m, const char *in, int64_t k, const char *out,
                                  int64_t n) {
    struct ia_onnx_dim di[2] = {{.value = -1, .param = "rows"}, {.value = k}};
    struct ia_onnx_dim dout[2] = {{.value = -1, .param = "rows"}, {.value = n}};
    if (ia_onnx_builder_add_input(m->b, in, IA_DTYPE_FLOAT32, 2, di) ||
        ia_onnx_builder_add_output(m->b, out, IA_DTYPE_FLOAT32, 2, dout))
        abort();
    uint8_t *buf;
    size_t len;
    if (ia_onnx_builder_serialize(m->b, &buf, &len) != IA_OK) abort();
    ia_onnx_builder_destroy(m->b);
    for (int i = 0; i < m->n; i++) free(m->names[i]);
    struct ia_model *md = NULL;
    if (ia_onnx_load_memory(buf, len, NULL, 0, &md)) {
        fprintf(stderr, "load: %s\n", ia_error_msg());
        abort();
    }
    ia_free(buf);
    return md;
}

/* How many fused nodes the pass makes for `m` (declared shapes bound);
 * *live (may be NULL) gets the number of nodes left to run. */
static size_t count_fused_live(const struct ia_model *m, size_t *live) {
    struct ia_graph *g;
    size_t n = 0;
    if (ia_graph_build(m, &m->graph, 0, &g)) return 999;
    if (ia_graph_resolve_ops(g) == IA_OK) {
        ia_graph_bind_declared(g);
        if (ia_graph_infer(g) == IA_OK && ia_graph_fold(g) == IA_OK && ia_graph_fuse(g, &n)) n = 998;
    }
    if (live) {
        *live = 0;
        for (size_t i = 0; i < g->n_nodes; i++) *live += !g->nodes[i].folded;
    }
    ia_graph_free(g);
    return n;
}

static size_t count_fused(const struct ia_model *m) { return count_fused_live(m, NULL); }

/* Runs m on x (rows x k) fused and unfused with `threads`; returns the
 * largest |fused - unfused| / (1e-5 + 1e-4 |unfused|) (<= 1 passes). */
static double fused_vs_plain(const struct ia_model *m, int64_t rows, int64_t k, int threads) {
    float *x = malloc(sizeof(float) * (size_t)(rows * k));
    fill(x, (size_t)(rows * k), 2.0f);
    struct ia_tensor t = {0};
    int64_t d[2] = {rows, k};
    ia_tensor_set_shape(&t, IA_DTYPE_FLOAT32, 2, d);
    t.data = x;
    const struct ia_tensor *ins[1] = {&t};
    struct ia_session *sf = NULL, *sp = NULL;
    struct ia_session_opts of = {.threads = threads}, op = {.threads = threads, .no_fold = 1};
    double worst = 1e30;
    if (ia_session_create(m, &of, &sf) || ia_session_create(m, &op, &sp)) {
        fprintf(stderr, "session: %s\n", ia_error_msg());
        goto out;
    }
    struct ia_tensor *const *yf, *const *yp;
    /* twice: the second run reuses the plan and the cached buffers */
    for (int r = 0; r < 2; r++)
        if (ia_session_run(sf, 1, A("x"), ins, 1, &yf) || ia_session_run(sp, 1, A("x"), ins, 1, &yp)) {
            fprintf(stderr, "run: %s\n", ia_error_msg());
            goto out;
        }
    if (yf[0]->numel != yp[0]->numel) goto out;
    worst = 0;
    const float *a = yf[0]->data, *b = yp[0]->data;
    for (uint64_t i = 0; i < yf[0]->numel; i++) {
        double e = fabs((double)a[i] - b[i]) / (1e-5 + 1e-4 * fabs(b[i]));
        if (!(e <= worst)) worst = e; /* NaN stays */
    }
out:
    ia_session_destroy(sf);
    ia_session_destroy(sp);
    free(x);
    return worst;
}

/* ---- tests ---------------------------------------------------------------------------- */

/* LN -> Linear -> GELU(erf) -> Linear -> GELU(tanh) -> Linear -> LN,
 * shapes that are not multiples of the micro-kernel's tile, rows from 1
 * (the few-rows path over the packed weight) to 150 (two M blocks), 1 and 3 threads. */
static void test_block_matches_unfused(void) {
    const int64_t K = 70, N = 45;
    struct mb m;
    mb_init(&m);
    const char *h = mb_layernorm(&m, "x", K, 1e-5f);
    h = mb_gelu_erf(&m, mb_linear(&m, h, K, N, 1));
    h = mb_gelu_tanh(&m, mb_linear(&m, h, N, 100, 0));
    h = mb_linear(&m, h, 100, K, 1);
    h = mb_layernorm(&m, h, K, 1e-12f);
    struct ia_model *md = mb_finish(&m, "x", K, h, K);
    size_t live;
    CHECK_EQ_INT(count_fused_live(md, &live), 5); /* 2 LayerNorms, 3 MatMuls */
    CHECK_EQ_INT(live, 5);                        /* the GELUs and biases went into them */
    const int64_t rows[] = {1, 3, 5, 37, 150};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        for (int th = 1; th <= 3; th += 2) {
            double e = fused_vs_plain(md, rows[i], K, th);
            if (e > 1.0) fprintf(stderr, "rows %lld threads %d: error %g\n", (long long)rows[i], th, e);
            CHECK(e <= 1.0);
        }
    ia_model_free(md);
}

/* Multi-head attention as torch exports it. BERT style (gpt = 0): q, v
 * Transpose(0,2,1,3), k Transpose(0,2,3,1), Div by sqrt(d), Add of a
 * [B,1,1,S] mask input. GPT-2 style (gpt = 1): k Transpose(0,2,1,3) is a
 * graph output (the KV cache) and Transpose(0,1,3,2) feeds the MatMul, a
 * causal [S,S] constant mask. Then Transpose back and Reshape. */
static struct ia_model *mb_attention(int gpt, int64_t S, int64_t D) {
    enum { B = 2, H = 3 };
    const int64_t E = H * D;
    struct mb m;
    mb_init(&m);
    int64_t shp[4] = {0, 0, H, D}, shp_d[1] = {4}, back[3] = {0, 0, E}, back_d[1] = {3};
    if (ia_onnx_builder_add_initializer(m.b, "heads", IA_DTYPE_INT64, 1, shp_d, shp, sizeof shp) ||
        ia_onnx_builder_add_initializer(m.b, "merge", IA_DTYPE_INT64, 1, back_d, back, sizeof back))
        abort();
    const char *x = "x", *qkv[3];
    const char *names[3] = {"q", "k", "v"};
    for (int i = 0; i < 3; i++) {
        const char *lin = mb_linear(&m, x, E, E, 1);
        char *r = nm(&m, "r");
        mb_node(&m, "Reshape", 2, A(lin, "heads"), r);
        qkv[i] = r;
        (void)names;
    }
    int64_t p0213[4] = {0, 2, 1, 3}, p0231[4] = {0, 2, 3, 1}, p0132[4] = {0, 1, 3, 2};
    struct ia_onnx_attr a0213 = {.name = "perm", .type = IA_ONNX_ATTR_INTS, .n = 4, .ints = p0213},
                        a0231 = {.name = "perm", .type = IA_ONNX_ATTR_INTS, .n = 4, .ints = p0231},
                        a0132 = {.name = "perm", .type = IA_ONNX_ATTR_INTS, .n = 4, .ints = p0132};
    mb_node_d(&m, "", "Transpose", 1, A(qkv[0]), "qt", 1, &a0213);
    mb_node_d(&m, "", "Transpose", 1, A(qkv[2]), "vt", 1, &a0213);
    if (gpt) {
        mb_node_d(&m, "", "Transpose", 1, A(qkv[1]), "present_k", 1, &a0213);
        mb_node_d(&m, "", "Transpose", 1, A("present_k"), "kt", 1, &a0132);
    } else {
        mb_node_d(&m, "", "Transpose", 1, A(qkv[1]), "kt", 1, &a0231);
    }
    mb_node(&m, "MatMul", 2, A("qt", "kt"), "scores");
    mb_scalar(&m, "sqrt_d", sqrtf((float)D));
    mb_node(&m, "Div", 2, A("scores", "sqrt_d"), "scaled");
    if (gpt) {
        float *cm = malloc(sizeof(float) * (size_t)(S * S));
        for (int64_t i = 0; i < S; i++)
            for (int64_t j = 0; j < S; j++) cm[i * S + j] = j > i ? -1e4f : 0.0f;
        int64_t cd[2] = {S, S};
        mb_const(&m, "causal", 2, cd, cm);
        free(cm);
        mb_node(&m, "Add", 2, A("scaled", "causal"), "masked");
    } else {
        mb_node(&m, "Add", 2, A("scaled", "mask"), "masked");
    }
    struct ia_onnx_attr ax = {.name = "axis", .type = IA_ONNX_ATTR_INT, .i = -1};
    mb_node_d(&m, "", "Softmax", 1, A("masked"), "probs", 1, &ax);
    mb_node(&m, "MatMul", 2, A("probs", "vt"), "ctx");
    mb_node_d(&m, "", "Transpose", 1, A("ctx"), "ctx_t", 1, &a0213);
    mb_node(&m, "Reshape", 2, A("ctx_t", "merge"), "y");
    struct ia_onnx_dim dx[3] = {{.value = B}, {.value = -1, .param = "seq"}, {.value = E}};
    struct ia_onnx_dim dm[4] = {{.value = B}, {.value = 1}, {.value = 1}, {.value = -1, .param = "seq"}};
    struct ia_onnx_dim dk[4] = {{.value = B}, {.value = H}, {.value = -1, .param = "seq"}, {.value = D}};
    if (ia_onnx_builder_add_input(m.b, "x", IA_DTYPE_FLOAT32, 3, dx) ||
        (!gpt && ia_onnx_builder_add_input(m.b, "mask", IA_DTYPE_FLOAT32, 4, dm)) ||
        ia_onnx_builder_add_output(m.b, "y", IA_DTYPE_FLOAT32, 3, dx) ||
        (gpt && ia_onnx_builder_add_output(m.b, "present_k", IA_DTYPE_FLOAT32, 4, dk)))
        abort();
    uint8_t *buf;
    size_t len;
    if (ia_onnx_builder_serialize(m.b, &buf, &len) != IA_OK) abort();
    ia_onnx_builder_destroy(m.b);
    for (int i = 0; i < m.n; i++) free(m.names[i]);
    struct ia_model *md = NULL;
    if (ia_onnx_load_memory(buf, len, NULL, 0, &md)) abort();
    ia_free(buf);
    return md;
}

/* Sequences: 1 and 5 (few query rows: the ia_sgemm path), 13 (AVX-512
 * blocks of 8, 4 and 1 rows), 40 (two blocks of query rows), 100 (keys in
 * three 32-wide panels and a 16-wide one). Head sizes 8, 20 and 40: the
 * P V columns in masked pieces. 4 threads split each head's rows. */
static void test_attention_matches_unfused(void) {
    const int64_t seqs[] = {1, 5, 13, 40, 100}, heads[] = {8, 20, 40};
    for (int c = 0; c < 2 * 5 * 3; c++) { /* gpt x seqs x heads */
        int gpt = c / 15;
        int64_t S = seqs[c / 3 % 5], D = heads[c % 3];
        struct ia_model *md = mb_attention(gpt, S, D);
        size_t live;
        /* attention, the q, k, v projections, then those three merged into one node */
        CHECK_EQ_INT(count_fused_live(md, &live), 5);
        CHECK_EQ_INT(live, 2 + 3 + 1 + gpt); /* + 3 head Reshapes, the merge Reshape, GPT's present_k Transpose */
        enum { B = 2 };
        const int64_t E = 3 * D;
        float *x = malloc(sizeof(float) * (size_t)(B * S * E)), mask[B * 128];
        fill(x, (size_t)(B * S * E), 1.0f);
        for (int64_t i = 0; i < B * S; i++) mask[i] = (i % 7 == 3) ? -1e4f : 0.0f;
        struct ia_tensor tx = {0}, tm = {0};
        int64_t dx[3] = {B, S, E}, dm[4] = {B, 1, 1, S};
        ia_tensor_set_shape(&tx, IA_DTYPE_FLOAT32, 3, dx);
        ia_tensor_set_shape(&tm, IA_DTYPE_FLOAT32, 4, dm);
        tx.data = x;
        tm.data = mask;
        const struct ia_tensor *ins[2] = {&tx, &tm};
        for (int th = 1; th <= 4; th *= 2) {
            struct ia_session *sf = NULL, *sp = NULL;
            struct ia_session_opts of = {.threads = th}, op = {.threads = th, .no_fold = 1};
            REQUIRE(ia_session_create(md, &of, &sf) == IA_OK);
            REQUIRE(ia_session_create(md, &op, &sp) == IA_OK);
            struct ia_tensor *const *yf, *const *yp;
            size_t n_out = gpt ? 2 : 1, n_in = gpt ? 1 : 2;
            int rf = ia_session_run(sf, n_in, A("x", "mask"), ins, n_out, &yf);
            if (rf) fprintf(stderr, "fused run: %s\n", ia_error_msg());
            REQUIRE(rf == IA_OK);
            REQUIRE(ia_session_run(sp, n_in, A("x", "mask"), ins, n_out, &yp) == IA_OK);
            for (size_t o = 0; o < n_out; o++) {
                REQUIRE(yf[o]->numel == yp[o]->numel);
                double worst = 0;
                const float *a = yf[o]->data, *b = yp[o]->data;
                for (uint64_t i = 0; i < yf[o]->numel; i++) {
                    double e = fabs((double)a[i] - b[i]) / (1e-5 + 1e-4 * fabs(b[i]));
                    if (!(e <= worst)) worst = e;
                }
                if (worst > 1.0)
                    fprintf(stderr, "gpt %d S %lld D %lld threads %d output %zu: error %g\n",
                            gpt, (long long)S, (long long)D, th, o, worst);
                CHECK(worst <= 1.0);
            }
            ia_session_destroy(sf);
            ia_session_destroy(sp);
        }
        free(x);
        ia_model_free(md);
    }
}

/* PP-OCR's learnable-affine HardSwish blocks after a MatMul: Mul/Add by
 * scalars, x * Clip(x + 3, 0, 6) / 6 (Clip bounds as inputs), Relu,
 * HardSigmoid, c - x, c / x: one FusedElementwise, same numbers. */
static void test_elementwise_chain(void) {
    const int64_t K = 12, N = 20;
    struct mb m;
    mb_init(&m);
    int64_t wd[2] = {K, N};
    float w[12 * 20];
    fill(w, (size_t)(K * N), 0.5f);
    mb_const(&m, "w", 2, wd, w);
    mb_node(&m, "MatMul", 2, A("x", "w"), "mm");
    mb_scalar(&m, "c1", 0.94f);
    mb_scalar(&m, "c2", 0.5f);
    mb_scalar(&m, "three", 3.0f);
    mb_scalar(&m, "zero", 0.0f);
    mb_scalar(&m, "six", 6.0f);
    mb_scalar(&m, "c3", 2.5f);
    mb_node(&m, "Mul", 2, A("c1", "mm"), "e1");
    mb_node(&m, "Add", 2, A("e1", "c2"), "e2");
    mb_node(&m, "Add", 2, A("e2", "three"), "e3");
    mb_node(&m, "Clip", 3, A("e3", "zero", "six"), "e4");
    mb_node(&m, "Mul", 2, A("e2", "e4"), "e5");
    mb_node(&m, "Div", 2, A("e5", "six"), "e6");
    mb_node(&m, "Sub", 2, A("c3", "e6"), "e7");
    mb_node(&m, "Relu", 1, A("e7"), "e8");
    struct ia_onnx_attr hs[2] = {{.name = "alpha", .type = IA_ONNX_ATTR_FLOAT, .f = 0.3f},
                                 {.name = "beta", .type = IA_ONNX_ATTR_FLOAT, .f = 0.4f}};
    mb_node_d(&m, "", "HardSigmoid", 1, A("e8"), "e9", 2, hs);
    mb_node(&m, "Add", 2, A("e9", "c2"), "e10");
    mb_node(&m, "Div", 2, A("c3", "e10"), "y");
    struct ia_model *md = mb_finish(&m, "x", K, "y", N);
    size_t live;
    CHECK_EQ_INT(count_fused_live(md, &live), 2); /* the MatMul (packed weight), the chain */
    CHECK_EQ_INT(live, 2);
    for (int th = 1; th <= 2; th++) CHECK(fused_vs_plain(md, 300, K, th) <= 1.0);
    ia_model_free(md);
}

/* A chain whose middle value is also a graph output, or is read twice,
 * must not be fused; the result must still match. */
static void test_shared_values_not_fused(void) {
    const int64_t K = 16, N = 24;
    struct mb m;
    mb_init(&m);
    const char *lin = mb_linear(&m, "x", K, N, 0);
    const char *g = mb_gelu_erf(&m, lin);
    /* lin is read by the GELU chain and by this Add: the GELU stays apart */
    mb_node(&m, "Add", 2, A(g, lin), "y");
    struct ia_model *md = mb_finish(&m, "x", K, "y", N);
    CHECK_EQ_INT(count_fused(md), 1); /* MatMul + bias only */
    CHECK(fused_vs_plain(md, 9, K, 1) <= 1.0);
    ia_model_free(md);

    mb_init(&m);
    mb_linear(&m, "x", K, N, 0); /* lin_3 = MatMul mm_2 + Add: mm_2 is a graph output */
    struct ia_onnx_dim dout[2] = {{.value = -1, .param = "rows"}, {.value = N}};
    ia_onnx_builder_add_output(m.b, "mm_2", IA_DTYPE_FLOAT32, 2, dout);
    md = mb_finish(&m, "x", K, "lin_3", N);
    size_t live;
    /* the MatMul alone becomes a FusedMatMul (packed weight, no bias): the
     * bias Add stays a node of its own */
    CHECK_EQ_INT(count_fused_live(md, &live), 1);
    CHECK_EQ_INT(live, 2);
    ia_model_free(md);
}

/* Residual Adds after a MatMul: x + LN(x)-style (a value of the product's
 * shape, added on each tile, either operand order) and a [1, N] constant
 * that broadcasts (added after the product); 1 row (the unpacked path) to
 * 150, 1 and 2 threads. */
static void test_residual_add(void) {
    const int64_t K = 40, N = 50;
    struct mb m;
    mb_init(&m);
    const char *h0 = mb_layernorm(&m, "x", K, 1e-5f);
    const char *lin = mb_linear(&m, h0, K, K, 1);
    mb_node(&m, "Add", 2, A(h0, lin), "r1");
    int64_t wd[2] = {K, N}, cd[2] = {1, N};
    float *w = malloc(sizeof(float) * (size_t)(K * N)), c[50];
    fill(w, (size_t)(K * N), 0.5f);
    fill(c, (size_t)N, 1.0f);
    mb_const(&m, "w2", 2, wd, w);
    mb_const(&m, "c2", 2, cd, c);
    free(w);
    mb_node(&m, "MatMul", 2, A("r1", "w2"), "m2");
    mb_node(&m, "Add", 2, A("m2", "c2"), "y");
    struct ia_model *md = mb_finish(&m, "x", K, "y", N);
    size_t live;
    CHECK_EQ_INT(count_fused_live(md, &live), 3); /* LayerNorm, 2 MatMuls with their Adds */
    CHECK_EQ_INT(live, 3);
    const int64_t rows[] = {1, 5, 37, 150};
    for (size_t i = 0; i < 4; i++)
        for (int th = 1; th <= 2; th++) CHECK(fused_vs_plain(md, rows[i], K, th) <= 1.0);
    ia_model_free(md);
}

/* A bare MatMul by a constant weight: a FusedMatMul with the packed weight
 * (GPT-2's logits product), same numbers from 1 row (the unpacked path)
 * to 150 (two M blocks). */
static void test_bare_matmul(void) {
    const int64_t K = 33, N = 70;
    struct mb m;
    mb_init(&m);
    int64_t wd[2] = {K, N};
    float *w = malloc(sizeof(float) * (size_t)(K * N));
    fill(w, (size_t)(K * N), 0.5f);
    mb_const(&m, "w", 2, wd, w);
    free(w);
    mb_node(&m, "MatMul", 2, A("x", "w"), "y");
    struct ia_model *md = mb_finish(&m, "x", K, "y", N);
    size_t live;
    CHECK_EQ_INT(count_fused_live(md, &live), 1);
    CHECK_EQ_INT(live, 1);
    const int64_t rows[] = {1, 4, 5, 150};
    for (size_t i = 0; i < 4; i++)
        for (int th = 1; th <= 2; th++) CHECK(fused_vs_plain(md, rows[i], K, th) <= 1.0);
    ia_model_free(md);
}

/* A Conv whose output only its activation reads becomes a FusedConv. */
static void mb_conv(struct mb *m, const char *x, const char *y, int64_t C, int64_t M, int64_t k,
                    int64_t stride, int64_t group, int bias) {
    int64_t wd[4] = {M, C / group, k, k}, bd[1] = {M}, st[2] = {stride, stride};
    int64_t p = k / 2, pads[4] = {p, p, p, p};
    float w[13 * 13 * 9], b[13];
    fill(w, (size_t)(M * (C / group) * k * k), 0.5f);
    fill(b, (size_t)M, 0.5f);
    char *wn = nm(m, "cw"), *bn = nm(m, "cb");
    mb_const(m, wn, 4, wd, w);
    mb_const(m, bn, 1, bd, b);
    struct ia_onnx_attr at[3] = {
        {.name = "strides", .type = IA_ONNX_ATTR_INTS, .n = 2, .ints = st},
        {.name = "pads", .type = IA_ONNX_ATTR_INTS, .n = 4, .ints = pads},
        {.name = "group", .type = IA_ONNX_ATTR_INT, .i = group}};
    mb_node_d(m, "", "Conv", bias ? 3 : 2, A(x, wn, bn), y, 3, at);
}

static void mb_reshape(struct mb *m, const char *x, const char *y, int n, const int64_t *shape) {
    char *sn = nm(m, "shape");
    int64_t d = n;
    if (ia_onnx_builder_add_initializer(m->b, sn, IA_DTYPE_INT64, 1, &d, shape,
                                        (size_t)n * sizeof(int64_t)))
        abort();
    mb_node(m, "Reshape", 2, A(x, sn), y);
}

/* Conv (implicit GEMM) -> HardSwish, depthwise Conv -> Relu, 1x1 Conv ->
 * Add/Mul chain, im2col Conv -> Relu: each pair one FusedConv, the same
 * results as the unfused graph at 1 and 2 threads. */
static void test_conv_activation(void) {
    struct mb m;
    mb_init(&m);
    mb_reshape(&m, "x", "x4", 4, (int64_t[]){-1, 3, 9, 11});
    mb_conv(&m, "x4", "c1", 3, 13, 3, 1, 1, 1);
    mb_scalar(&m, "three", 3.0f);
    mb_scalar(&m, "zero", 0.0f);
    mb_scalar(&m, "six", 6.0f);
    mb_scalar(&m, "half", 0.5f);
    mb_node(&m, "Add", 2, A("c1", "three"), "h1");
    mb_node(&m, "Clip", 3, A("h1", "zero", "six"), "h2");
    mb_node(&m, "Mul", 2, A("c1", "h2"), "h3");
    mb_node(&m, "Div", 2, A("h3", "six"), "a1");
    mb_conv(&m, "a1", "c2", 13, 13, 3, 2, 13, 1);
    mb_node(&m, "Relu", 1, A("c2"), "a2");
    mb_conv(&m, "a2", "c3", 13, 5, 1, 1, 1, 1);
    mb_node(&m, "Add", 2, A("c3", "three"), "e1");
    mb_node(&m, "Mul", 2, A("e1", "half"), "a3");
    mb_conv(&m, "a3", "c4", 5, 4, 3, 2, 1, 0);
    mb_node(&m, "Relu", 1, A("c4"), "a4");
    mb_reshape(&m, "a4", "y", 2, (int64_t[]){-1, 36});
    struct ia_model *md = mb_finish(&m, "x", 3 * 9 * 11, "y", 36);
    size_t live;
    CHECK_EQ_INT(count_fused_live(md, &live), 6); /* 2 elementwise chains, then 4 FusedConv */
    CHECK_EQ_INT(live, 6);                        /* 2 Reshapes, 4 FusedConvs */
    for (int th = 1; th <= 2; th++) CHECK(fused_vs_plain(md, 3, 3 * 9 * 11, th) <= 1.0);
    ia_model_free(md);

    /* The Conv's output is also a graph output: nothing to fuse. */
    mb_init(&m);
    mb_reshape(&m, "x", "x4", 4, (int64_t[]){-1, 3, 9, 11});
    mb_conv(&m, "x4", "c1", 3, 13, 3, 1, 1, 1);
    mb_node(&m, "Relu", 1, A("c1"), "y");
    struct ia_onnx_dim d4[4] = {{.value = -1, .param = "rows"}, {.value = 13}, {.value = 9},
                                {.value = 11}};
    ia_onnx_builder_add_output(m.b, "c1", IA_DTYPE_FLOAT32, 4, d4);
    md = mb_finish(&m, "x", 3 * 9 * 11, "y", 13 * 9 * 11);
    CHECK_EQ_INT(count_fused(md), 0);
    ia_model_free(md);
}

/* BatchNormalization over C channels with plausible statistics (scale
 * about 1, var 1 to 3: what a trained CNN has). */
static void mb_bn(struct mb *m, const char *x, const char *y, int64_t C, float eps) {
    float sc[16], be[16], mu[16], va[16];
    for (int64_t c = 0; c < C; c++) {
        sc[c] = 1.0f + 0.5f * frand();
        be[c] = 0.5f * frand();
        mu[c] = 0.5f * frand();
        va[c] = 2.0f + frand();
    }
    char *n[4] = {nm(m, "bs"), nm(m, "bb"), nm(m, "bm"), nm(m, "bv")};
    mb_const(m, n[0], 1, &C, sc);
    mb_const(m, n[1], 1, &C, be);
    mb_const(m, n[2], 1, &C, mu);
    mb_const(m, n[3], 1, &C, va);
    struct ia_onnx_attr at[1] = {{.name = "epsilon", .type = IA_ONNX_ATTR_FLOAT, .f = eps}};
    mb_node_d(m, "", "BatchNormalization", 5, A(x, n[0], n[1], n[2], n[3]), y, 1, at);
}

/* ConvTranspose C -> M channels, kernel 2, stride 2, W [C, M/group, 2, 2]. */
static void mb_convt(struct mb *m, const char *x, const char *y, int64_t C, int64_t M,
                     int64_t group, int bias) {
    int64_t wd[4] = {C, M / group, 2, 2}, bd[1] = {M}, st[2] = {2, 2};
    float w[16 * 16 * 4], b[16];
    fill(w, (size_t)(C * (M / group) * 4), 0.5f);
    fill(b, (size_t)M, 0.5f);
    char *wn = nm(m, "tw"), *bn = nm(m, "tb");
    mb_const(m, wn, 4, wd, w);
    mb_const(m, bn, 1, bd, b);
    struct ia_onnx_attr at[2] = {
        {.name = "strides", .type = IA_ONNX_ATTR_INTS, .n = 2, .ints = st},
        {.name = "group", .type = IA_ONNX_ATTR_INT, .i = group}};
    mb_node_d(m, "", "ConvTranspose", bias ? 3 : 2, A(x, wn, bn), y, 2, at);
}

/* Conv with bias -> BN -> Relu, Conv without bias -> BN, grouped Conv ->
 * BN, ConvTranspose with group 2 -> BN: every BN folds into its conv (and
 * the Relu then into the first Conv); per-channel bias Adds fold likewise;
 * results as the unfused graph's. Shared outputs and other Adds stay. */
static void test_conv_batchnorm(void) {
    struct mb m;
    mb_init(&m);
    mb_reshape(&m, "x", "x4", 4, (int64_t[]){-1, 3, 9, 11});
    mb_conv(&m, "x4", "c1", 3, 12, 3, 1, 1, 1);
    mb_bn(&m, "c1", "b1", 12, 1e-5f);
    mb_node(&m, "Relu", 1, A("b1"), "a1");
    mb_conv(&m, "a1", "c2", 12, 12, 3, 2, 1, 0); /* 5 x 6 */
    mb_bn(&m, "c2", "b2", 12, 1e-3f);
    mb_conv(&m, "b2", "c3", 12, 12, 3, 1, 3, 1);
    mb_bn(&m, "c3", "b3", 12, 1e-5f);
    mb_convt(&m, "b3", "t4", 12, 6, 2, 1); /* 6 x 10 x 12 */
    mb_bn(&m, "t4", "b4", 6, 1e-5f);
    mb_reshape(&m, "b4", "y", 2, (int64_t[]){-1, 720});
    struct ia_model *md = mb_finish(&m, "x", 3 * 9 * 11, "y", 720);
    size_t live;
    CHECK_EQ_INT(count_fused_live(md, &live), 5); /* 4 BNs folded, 1 FusedConv */
    CHECK_EQ_INT(live, 6); /* 2 Reshapes, FusedConv, 2 Convs, ConvTranspose */
    for (int th = 1; th <= 2; th++) CHECK(fused_vs_plain(md, 3, 3 * 9 * 11, th) <= 1.0);
    ia_model_free(md);

    /* ConvTranspose without bias -> Add([1, C, 1, 1]) -> BN -> Relu ->
     * ConvTranspose -> Add(c, .) with one channel (as PP-OCR's head): the
     * Adds and the BN fold into the ConvTransposes. */
    mb_init(&m);
    mb_reshape(&m, "x", "x4", 4, (int64_t[]){-1, 3, 9, 11});
    mb_convt(&m, "x4", "t1", 3, 6, 1, 0);
    float c6[6], c1 = 0.25f;
    fill(c6, 6, 0.5f);
    mb_const(&m, "c6", 4, (int64_t[]){1, 6, 1, 1}, c6);
    mb_node(&m, "Add", 2, A("t1", "c6"), "e1");
    mb_bn(&m, "e1", "b1", 6, 1e-5f);
    mb_node(&m, "Relu", 1, A("b1"), "a1");
    mb_convt(&m, "a1", "t2", 6, 1, 1, 0); /* 1 x 36 x 44 */
    mb_const(&m, "c1", 4, (int64_t[]){1, 1, 1, 1}, &c1);
    mb_node(&m, "Add", 2, A("c1", "t2"), "e2");
    mb_reshape(&m, "e2", "y", 2, (int64_t[]){-1, 36 * 44});
    md = mb_finish(&m, "x", 3 * 9 * 11, "y", 36 * 44);
    CHECK_EQ_INT(count_fused_live(md, &live), 3); /* 2 Adds, 1 BN */
    CHECK_EQ_INT(live, 5); /* 2 Reshapes, 2 ConvTransposes, Relu */
    for (int th = 1; th <= 2; th++) CHECK(fused_vs_plain(md, 3, 3 * 9 * 11, th) <= 1.0);
    ia_model_free(md);

    /* An Add whose constant runs along the width, not the channels: it
     * stays, even with as many elements as channels. */
    mb_init(&m);
    mb_reshape(&m, "x", "x4", 4, (int64_t[]){-1, 3, 9, 11});
    mb_conv(&m, "x4", "c1", 3, 11, 3, 1, 1, 1);
    float cw[11];
    fill(cw, 11, 0.5f);
    mb_const(&m, "cw11", 4, (int64_t[]){1, 1, 1, 11}, cw);
    mb_node(&m, "Add", 2, A("c1", "cw11"), "e1");
    mb_reshape(&m, "e1", "y", 2, (int64_t[]){-1, 11 * 9 * 11});
    md = mb_finish(&m, "x", 3 * 9 * 11, "y", 11 * 9 * 11);
    CHECK_EQ_INT(count_fused_live(md, &live), 0);
    CHECK_EQ_INT(live, 4);
    CHECK(fused_vs_plain(md, 3, 3 * 9 * 11, 1) <= 1.0);
    ia_model_free(md);

    /* The Conv's output is also read by an Add: the BN stays. */
    mb_init(&m);
    mb_reshape(&m, "x", "x4", 4, (int64_t[]){-1, 3, 9, 11});
    mb_conv(&m, "x4", "c1", 3, 12, 3, 1, 1, 1);
    mb_bn(&m, "c1", "b1", 12, 1e-5f);
    mb_node(&m, "Add", 2, A("b1", "c1"), "s1");
    mb_reshape(&m, "s1", "y", 2, (int64_t[]){-1, 12 * 9 * 11});
    md = mb_finish(&m, "x", 3 * 9 * 11, "y", 12 * 9 * 11);
    CHECK_EQ_INT(count_fused_live(md, &live), 0);
    CHECK_EQ_INT(live, 5);
    CHECK(fused_vs_plain(md, 3, 3 * 9 * 11, 1) <= 1.0);
    ia_model_free(md);
}

/* ia_sgemm_prepacked (+ epilogue) against the reference product. */
static void add_one(const void *user, float *c, int64_t col0, int64_t n) {
    const float *bias = user;
    for (int64_t j = 0; j < n; j++) c[j] += bias[col0 + j];
}

/* x (rows x k) through m at `threads` (no folding: the graph as written);
 * a copy of output 0, or NULL. */
static float *run_copy(const struct ia_model *m, const float *x, int64_t rows, int64_t k,
                       int threads, uint64_t *n) {
    struct ia_tensor t = {0};
    int64_t d[2] = {rows, k};
    ia_tensor_set_shape(&t, IA_DTYPE_FLOAT32, 2, d);
    t.data = (float *)x;
    const struct ia_tensor *ins[1] = {&t};
    struct ia_session *s = NULL;
    struct ia_session_opts o = {.threads = threads, .no_fold = 1};
    struct ia_tensor *const *y;
    float *copy = NULL;
    if (ia_session_create(m, &o, &s) == IA_OK && ia_session_run(s, 1, A("x"), ins, 1, &y) == IA_OK &&
        (copy = malloc(y[0]->nbytes + 1)) != NULL) {
        memcpy(copy, y[0]->data, y[0]->nbytes);
        *n = y[0]->numel;
    }
    ia_session_destroy(s);
    return copy;
}

/* FusedMatMul named in a model with parts = 2 and no packed weights (the
 * ia_sgemm fallback of each part): the same as two one-part nodes; parts
 * beyond the outputs it has are an error, not a crash. */
static void test_matmul_parts_as_written(void) {
    enum { K = 37, N1 = 20, N2 = 45, ROWS = 30 };
    float w1[K * N1], w2[K * N2], b1[N1], b2[N2], x[ROWS * K];
    fill(w1, K * N1, 1.0f);
    fill(w2, K * N2, 1.0f);
    fill(b1, N1, 1.0f);
    fill(b2, N2, 1.0f);
    fill(x, ROWS * K, 1.0f);
    struct ia_model *md[3];
    for (int v = 0; v < 3; v++) { /* 0: parts 2; 1: two nodes; 2: parts 3, two outputs */
        struct mb m;
        mb_init(&m);
        mb_const(&m, "w1", 2, (int64_t[]){K, N1}, w1);
        mb_const(&m, "w2", 2, (int64_t[]){K, N2}, w2);
        mb_const(&m, "b1", 1, (int64_t[]){N1}, b1);
        mb_const(&m, "b2", 1, (int64_t[]){N2}, b2);
        struct ia_onnx_attr at[2] = {{.name = "act", .type = IA_ONNX_ATTR_INT, .i = 1},
                                     {.name = "parts", .type = IA_ONNX_ATTR_INT, .i = v ? 3 : 2}};
        if (v == 1) {
            mb_node_d(&m, "ai.ia.fused", "FusedMatMul", 3, A("x", "w1", "b1"), "y1", 1, at);
            mb_node_d(&m, "ai.ia.fused", "FusedMatMul", 3, A("x", "w2", "b2"), "y2", 1, at);
        } else {
            const char *outs[2] = {"y1", "y2"};
            struct ia_onnx_node n = {.name = "", .op_type = "FusedMatMul", .domain = "ai.ia.fused",
                                     .n_inputs = 7, .inputs = A("x", "w1", "b1", "", "", "w2", "b2"),
                                     .n_outputs = 2, .outputs = outs, .n_attrs = 2, .attrs = at};
            if (ia_onnx_builder_add_node(m.b, &n) != IA_OK) abort();
        }
        struct ia_onnx_attr ax = {.name = "axis", .type = IA_ONNX_ATTR_INT, .i = 1};
        mb_node_d(&m, "", "Concat", 2, A("y1", "y2"), "y", 1, &ax);
        md[v] = mb_finish(&m, "x", K, "y", N1 + N2);
    }
    for (int th = 1; th <= 2; th++) {
        uint64_t n0 = 0, n1 = 0, n2 = 0;
        float *y0 = run_copy(md[0], x, ROWS, K, th, &n0), *y1 = run_copy(md[1], x, ROWS, K, th, &n1);
        REQUIRE(y0 && y1);
        CHECK_EQ_INT((int64_t)n0, ROWS * (N1 + N2));
        CHECK_EQ_INT((int64_t)n0, (int64_t)n1);
        double worst = 0;
        for (uint64_t i = 0; i < n0 && n0 == n1; i++) {
            double e = fabs((double)y0[i] - y1[i]) / (1e-5 + 1e-4 * fabs(y1[i]));
            if (!(e <= worst)) worst = e;
        }
        CHECK(worst <= 1.0);
        free(y0);
        free(y1);
        float *y2 = run_copy(md[2], x, ROWS, K, th, &n2);
        CHECK(y2 == NULL); /* parts 3 with two outputs */
        free(y2);
    }
    for (int v = 0; v < 3; v++) ia_model_free(md[v]);
}

/* ia_sgemm_prepacked_multi: each part against the reference product, parts
 * of one and of several column blocks (NC_PP 3072), an empty part, few
 * and many rows, K over one panel; with and without a pool. */
static void test_prepacked_multi(void) {
    const int64_t shapes[][2] = {{3, 70}, {37, 300}, {150, 1700}, {197, 64}};
    const int64_t widths[3] = {45, 0, 3100};
    struct ia_pool *pool;
    REQUIRE(ia_pool_create(3, &pool) == IA_OK);
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int64_t M = shapes[s][0], K = shapes[s][1];
        float *A_ = malloc(sizeof(float) * (size_t)(M * K)), *B[3], *Bp[3], *C[3], *R[3];
        fill(A_, (size_t)(M * K), 1.0f);
        struct ia_sgemm_part part[3];
        for (int p = 0; p < 3; p++) {
            int64_t N = widths[p];
            B[p] = malloc(sizeof(float) * (size_t)(K * N + 1));
            Bp[p] = malloc(sizeof(float) * (ia_sgemm_packed_b_floats(IA_SGEMM_AUTO, K, N) + 1));
            C[p] = malloc(sizeof(float) * (size_t)(M * N + 1));
            R[p] = malloc(sizeof(float) * (size_t)(M * N + 1));
            fill(B[p], (size_t)(K * N), 1.0f + (float)p);
            REQUIRE(ia_sgemm_pack_b(IA_SGEMM_AUTO, 0, K, N, B[p], N, Bp[p]) == IA_OK);
            if (N)
                REQUIRE(ia_sgemm_path(IA_SGEMM_REF, 0, 0, M, N, K, 1.0f, A_, K, B[p], N, 0.0f,
                                      R[p], N, NULL) == IA_OK);
            part[p] = (struct ia_sgemm_part){N, N, Bp[p], C[p], NULL};
        }
        for (int use_pool = 0; use_pool < 2; use_pool++) {
            for (int p = 0; p < 3; p++)
                for (int64_t i = 0; i < M * widths[p]; i++) C[p][i] = NAN;
            REQUIRE(ia_sgemm_prepacked_multi(IA_SGEMM_AUTO, M, K, A_, K, 3, part,
                                             use_pool ? pool : NULL) == IA_OK);
            for (int p = 0; p < 3; p++) {
                double worst = 0;
                for (int64_t i = 0; i < M * widths[p]; i++) {
                    double e = fabs((double)C[p][i] - R[p][i]) /
                               (1e-4 * (1.0 + fabs(R[p][i])) * sqrt((double)K));
                    if (!(e <= worst)) worst = e;
                }
                CHECK(worst <= 1.0);
            }
        }
        for (int p = 0; p < 3; p++) {
            free(B[p]);
            free(Bp[p]);
            free(C[p]);
            free(R[p]);
        }
        free(A_);
    }
    ia_pool_destroy(pool);
}

static void test_prepacked_gemm(void) {
    /* tails in every dimension; more than one column block (NC_PP 3072);
     * K beyond one KC_PP (768) panel, in two and three uneven panels; up
     * to 4 rows (the few-rows path), odd K, split over the pool */
    const int64_t shapes[][3] = {{1, 1, 1},      {7, 33, 5},     {13, 100, 300}, {150, 3100, 70},
                                 {40, 64, 1100}, {197, 70, 1700}, {25, 45, 769}, {4, 3100, 800},
                                 {3, 200, 71},   {2, 9, 5}};
    struct ia_pool *pool;
    REQUIRE(ia_pool_create(3, &pool) == IA_OK);
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int64_t M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
        float *A_ = malloc(sizeof(float) * (size_t)(M * K)), *B = malloc(sizeof(float) * (size_t)(K * N));
        float *C = malloc(sizeof(float) * (size_t)(M * N)), *R = malloc(sizeof(float) * (size_t)(M * N));
        float *bias = malloc(sizeof(float) * (size_t)N);
        float *Bp = malloc(sizeof(float) * ia_sgemm_packed_b_floats(IA_SGEMM_AUTO, K, N));
        fill(A_, (size_t)(M * K), 1.0f);
        fill(B, (size_t)(K * N), 1.0f);
        fill(bias, (size_t)N, 1.0f);
        REQUIRE(ia_sgemm_pack_b(IA_SGEMM_AUTO, 0, K, N, B, N, Bp) == IA_OK);
        REQUIRE(ia_sgemm_path(IA_SGEMM_REF, 0, 0, M, N, K, 1.0f, A_, K, B, N, 0.0f, R, N, NULL) == IA_OK);
        for (int64_t i = 0; i < M; i++) add_one(bias, R + i * N, 0, N);
        struct ia_sgemm_epi epi = {add_one, bias};
        for (int p = 0; p < 2; p++) {
            for (int64_t i = 0; i < M * N; i++) C[i] = NAN; /* old contents must not matter */
            REQUIRE(ia_sgemm_prepacked(IA_SGEMM_AUTO, M, N, K, A_, K, Bp, C, N, &epi,
                                       p ? pool : NULL) == IA_OK);
            double worst = 0;
            for (int64_t i = 0; i < M * N; i++) {
                double e = fabs((double)C[i] - R[i]) / (1e-4 * (1.0 + fabs(R[i])) * sqrt((double)K));
                if (!(e <= worst)) worst = e;
            }
            if (worst > 1.0)
                fprintf(stderr, "%lldx%lldx%lld pool %d: error %g\n", (long long)M, (long long)N,
                        (long long)K, p, worst);
            CHECK(worst <= 1.0);
        }
        /* few rows against a transposed B: the matrix-vector path of ia_sgemm */
        REQUIRE(ia_sgemm_path(IA_SGEMM_REF, 0, 1, 1, K, N, 1.0f, A_, N, B, N, 0.0f, R, K, NULL) == IA_OK);
        REQUIRE(ia_sgemm(0, 1, 1, K, N, 1.0f, A_, N, B, N, 0.0f, C, K, NULL) == IA_OK);
        for (int64_t j = 0; j < K; j++) CHECK(fabsf(C[j] - R[j]) <= 1e-4f * (1.0f + fabsf(R[j])) * sqrtf((float)N));
        /* one or two rows against row-major B, split over K on the pool */
        for (int64_t rows = 1; rows <= 2 && rows <= M; rows++) {
            REQUIRE(ia_sgemm_path(IA_SGEMM_REF, 0, 0, rows, N, K, 0.5f, A_, K, B, N, 0.0f, R, N, NULL) == IA_OK);
            for (int64_t i = 0; i < rows * N; i++) C[i] = 1.0f;
            REQUIRE(ia_sgemm(0, 0, rows, N, K, 0.5f, A_, K, B, N, 0.0f, C, N, pool) == IA_OK);
            for (int64_t i = 0; i < rows * N; i++)
                CHECK(fabsf(C[i] - R[i]) <= 1e-4f * (1.0f + fabsf(R[i])) * sqrtf((float)K));
        }
        free(A_), free(B), free(C), free(R), free(bias), free(Bp);
    }
    ia_pool_destroy(pool);
}

void ia_fused_gelu_erf(float *x, int64_t n);
void ia_fused_gelu_tanh(float *x, int64_t n);

static void test_gelu_approximations(void) {
    enum { N = 4003 };
    static float x[N], y[N], z[N];
    for (int i = 0; i < N; i++) x[i] = -12.0f + 24.0f * (float)i / (N - 1);
    x[0] = -1e4f, x[1] = 1e4f, x[2] = -100.0f, x[3] = 100.0f, x[4] = 0.0f, x[5] = -0.0f;
    memcpy(y, x, sizeof x);
    memcpy(z, x, sizeof x);
    ia_fused_gelu_erf(y, N - 1); /* an odd length: the tail path */
    ia_fused_gelu_tanh(z, N);
    double we = 0, wt = 0;
    for (int i = 0; i < N - 1; i++) {
        double v = x[i], re = 0.5 * v * (1.0 + erf(v / sqrt(2.0)));
        double rt = 0.5 * v * (1.0 + tanh(0.7978845608 * (v + 0.044715 * v * v * v)));
        double ee = fabs(y[i] - re) / (1e-6 + 1e-5 * fabs(re)), et = fabs(z[i] - rt) / (1e-6 + 1e-5 * fabs(rt));
        if (!(ee <= we)) we = ee;
        if (!(et <= wt)) wt = et;
    }
    CHECK(y[N - 1] == x[N - 1]); /* past n: untouched */
    if (we > 1 || wt > 1) fprintf(stderr, "gelu error erf %g tanh %g\n", we, wt);
    CHECK(we <= 1.0);
    CHECK(wt <= 1.0);
}

/* The fused ops named directly with bad inputs: errors, not crashes. */
static void test_fused_ops_reject_bad_input(void) {
    enum { K = 8, N = 6 };
    float w[K * N], bias[N + 1], x[3 * K];
    fill(w, K * N, 1.0f);
    fill(bias, N + 1, 1.0f);
    fill(x, 3 * K, 1.0f);
    for (int c = 0; c < 3; c++) {
        struct mb m;
        mb_init(&m);
        int64_t wd[2] = {K, N}, bd[1] = {c == 0 ? N + 1 : N}, pd[1] = {5};
        mb_const(&m, "w", 2, wd, w);
        mb_const(&m, "b", 1, bd, bias);
        mb_const(&m, "junk", 1, pd, bias);
        struct ia_onnx_attr act = {.name = "act", .type = IA_ONNX_ATTR_INT, .i = c == 1 ? 7 : 1};
        /* c 0: bias of N+1; c 1: act 7; c 2: a packed B of the wrong size (ignored) */
        mb_node_d(&m, "ai.ia.fused", "FusedMatMul", 4, A("x", "w", "b", "junk"), "y", 1, &act);
        struct ia_model *md = mb_finish(&m, "x", K, "y", N);
        struct ia_session *s = NULL;
        int rc = ia_session_create(md, NULL, &s);
        if (rc == IA_OK) {
            struct ia_tensor t = {0};
            int64_t d[2] = {3, K};
            ia_tensor_set_shape(&t, IA_DTYPE_FLOAT32, 2, d);
            t.data = x;
            const struct ia_tensor *ins[1] = {&t};
            struct ia_tensor *const *y;
            rc = ia_session_run(s, 1, A("x"), ins, 1, &y);
        }
        if (c < 2) {
            CHECK(rc != IA_OK);
            CHECK(strstr(ia_error_msg(), "FusedMatMul") != NULL);
        } else {
            CHECK_EQ_INT(rc, IA_OK);
        }
        ia_session_destroy(s);
        ia_model_free(md);
    }
}

/* LSTMs with constant W become FusedLSTM (W packed once, Wb + Rb summed)
 * and keep all their outputs: a bidirectional one with B, a constant
 * sequence_lens (7 and 4 steps of 7) and Y, Y_h, Y_c all graph outputs;
 * a forward one without B whose Y is not even produced (only Y_h); a
 * reverse one of hidden 256 (R big enough for its packed huge-page copy) with
 * only Y_c. Fused and plain sessions must agree on every output, on 1 and
 * 2 threads. */
static void test_lstm_prepacked(void) {
    enum { S = 7, NB = 2, I = 9, H1 = 20, H2 = 37, H3 = 256 };
    struct mb m;
    mb_init(&m);
    float *w = malloc(sizeof(float) * 4 * H3 * H3);
    int64_t wd1[3] = {2, 4 * H1, I}, rd1[3] = {2, 4 * H1, H1}, bd1[2] = {2, 8 * H1};
    int64_t wd2[3] = {1, 4 * H2, I}, rd2[3] = {1, 4 * H2, H2}, sd[1] = {NB};
    int64_t wd3[3] = {1, 4 * H3, I}, rd3[3] = {1, 4 * H3, H3}, bd3[2] = {1, 8 * H3};
    fill(w, 2 * 4 * H1 * I, 0.4f), mb_const(&m, "w1", 3, wd1, w);
    fill(w, 2 * 4 * H1 * H1, 0.4f), mb_const(&m, "r1", 3, rd1, w);
    fill(w, 2 * 8 * H1, 0.3f), mb_const(&m, "b1", 2, bd1, w);
    fill(w, 4 * H2 * I, 0.4f), mb_const(&m, "w2", 3, wd2, w);
    fill(w, 4 * H2 * H2, 0.3f), mb_const(&m, "r2", 3, rd2, w);
    fill(w, 4 * H3 * I, 0.4f), mb_const(&m, "w3", 3, wd3, w);
    fill(w, 4 * H3 * H3, 0.1f), mb_const(&m, "r3", 3, rd3, w);
    fill(w, 8 * H3, 0.3f), mb_const(&m, "b3", 2, bd3, w);
    free(w);
    const int32_t lens[NB] = {S, 4};
    if (ia_onnx_builder_add_initializer(m.b, "sl", IA_DTYPE_INT32, 1, sd, lens, sizeof lens))
        abort();
    struct ia_onnx_attr a1[2] = {{.name = "hidden_size", .type = IA_ONNX_ATTR_INT, .i = H1},
                                 {.name = "direction", .type = IA_ONNX_ATTR_STRING,
                                  .s = {(const uint8_t *)"bidirectional", 13}}};
    struct ia_onnx_attr a2[1] = {{.name = "hidden_size", .type = IA_ONNX_ATTR_INT, .i = H2}};
    struct ia_onnx_attr a3[1] = {{.name = "direction", .type = IA_ONNX_ATTR_STRING,
                                  .s = {(const uint8_t *)"reverse", 7}}};
    struct ia_onnx_node n1 = {.name = "l1", .op_type = "LSTM", .domain = "", .n_inputs = 5,
                              .inputs = A("x", "w1", "r1", "b1", "sl"), .n_outputs = 3,
                              .outputs = A("y1", "yh1", "yc1"), .n_attrs = 2, .attrs = a1};
    struct ia_onnx_node n2 = {.name = "l2", .op_type = "LSTM", .domain = "", .n_inputs = 3,
                              .inputs = A("x", "w2", "r2"), .n_outputs = 2,
                              .outputs = A("", "yh2"), .n_attrs = 1, .attrs = a2};
    struct ia_onnx_node n3 = {.name = "l3", .op_type = "LSTM", .domain = "", .n_inputs = 4,
                              .inputs = A("x", "w3", "r3", "b3"), .n_outputs = 3,
                              .outputs = A("", "", "yc3"), .n_attrs = 1, .attrs = a3};
    if (ia_onnx_builder_add_node(m.b, &n1) || ia_onnx_builder_add_node(m.b, &n2) ||
        ia_onnx_builder_add_node(m.b, &n3))
        abort();
    struct ia_onnx_dim dx[3] = {{.value = -1, .param = "seq"}, {.value = NB}, {.value = I}};
    struct ia_onnx_dim dy[4] = {{.value = -1, .param = "seq"}, {.value = 2}, {.value = NB},
                                {.value = H1}};
    struct ia_onnx_dim dh1[3] = {{.value = 2}, {.value = NB}, {.value = H1}};
    struct ia_onnx_dim dh2[3] = {{.value = 1}, {.value = NB}, {.value = H2}};
    struct ia_onnx_dim dh3[3] = {{.value = 1}, {.value = NB}, {.value = H3}};
    if (ia_onnx_builder_add_input(m.b, "x", IA_DTYPE_FLOAT32, 3, dx) ||
        ia_onnx_builder_add_output(m.b, "y1", IA_DTYPE_FLOAT32, 4, dy) ||
        ia_onnx_builder_add_output(m.b, "yh1", IA_DTYPE_FLOAT32, 3, dh1) ||
        ia_onnx_builder_add_output(m.b, "yc1", IA_DTYPE_FLOAT32, 3, dh1) ||
        ia_onnx_builder_add_output(m.b, "yh2", IA_DTYPE_FLOAT32, 3, dh2) ||
        ia_onnx_builder_add_output(m.b, "yc3", IA_DTYPE_FLOAT32, 3, dh3))
        abort();
    uint8_t *buf;
    size_t len;
    if (ia_onnx_builder_serialize(m.b, &buf, &len) != IA_OK) abort();
    ia_onnx_builder_destroy(m.b);
    struct ia_model *md = NULL;
    REQUIRE(ia_onnx_load_memory(buf, len, NULL, 0, &md) == IA_OK);
    ia_free(buf);
    if (ia_sgemm_best_path() != IA_SGEMM_REF) CHECK_EQ_INT(count_fused(md), 3);
    float x[S * NB * I];
    fill(x, S * NB * I, 1.0f);
    struct ia_tensor t = {0};
    ia_tensor_set_shape(&t, IA_DTYPE_FLOAT32, 3, (int64_t[]){S, NB, I});
    t.data = x;
    const struct ia_tensor *ins[1] = {&t};
    for (int th = 1; th <= 2; th++) {
        struct ia_session *sf = NULL, *sp = NULL;
        struct ia_session_opts of = {.threads = th}, op = {.threads = th, .no_fold = 1};
        REQUIRE(ia_session_create(md, &of, &sf) == IA_OK);
        REQUIRE(ia_session_create(md, &op, &sp) == IA_OK);
        struct ia_tensor *const *yf, *const *yp;
        for (int r = 0; r < 2; r++) {
            CHECK_EQ_INT(ia_session_run(sf, 1, A("x"), ins, 5, &yf), IA_OK);
            CHECK_EQ_INT(ia_session_run(sp, 1, A("x"), ins, 5, &yp), IA_OK);
        }
        for (int o = 0; o < 5; o++) {
            REQUIRE(yf[o]->numel == yp[o]->numel && yf[o]->numel > 0);
            const float *a = yf[o]->data, *b = yp[o]->data;
            int bad = 0;
            for (uint64_t i = 0; i < yf[o]->numel; i++)
                if (!(fabs((double)a[i] - b[i]) <= 1e-5 + 1e-4 * fabs(b[i]))) bad++;
            if (bad) fprintf(stderr, "threads %d output %d: %d values differ\n", th, o, bad);
            CHECK(bad == 0);
        }
        ia_session_destroy(sf);
        ia_session_destroy(sp);
    }
    ia_model_free(md);
}

TEST_MAIN(T(test_lstm_prepacked), T(test_block_matches_unfused), T(test_attention_matches_unfused),
          T(test_elementwise_chain), T(test_shared_values_not_fused), T(test_bare_matmul),
          T(test_residual_add), T(test_prepacked_gemm), T(test_prepacked_multi), T(test_matmul_parts_as_written), T(test_gelu_approximations),
          T(test_fused_ops_reject_bad_input), T(test_conv_activation), T(test_conv_batchnorm))
