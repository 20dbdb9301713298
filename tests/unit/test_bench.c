/* The benchmark runner's pure parts: dim binding, input generation, cost
 * estimates on known graphs, the Poisson generator, the timing loops on a
 * virtual clock (so the scenario math is exact, not at the mercy of a busy
 * machine), and decoder detection. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "ia/bench.h"
#include "ia/core.h"
#include "ia/onnx.h"

/* ---- tiny model builder --------------------------------------------------- */

static struct ia_onnx_builder *mb_new(void) {
    struct ia_onnx_builder *b;
    if (ia_onnx_builder_create(&b) != IA_OK) abort();
    ia_onnx_builder_set_info(b, "g", "test_bench", "1", 0);
    ia_onnx_builder_add_opset(b, "", 17);
    return b;
}

/* dims: a number, or -1 with the name in params[i]. */
static void mb_io(struct ia_onnx_builder *b, int is_input, const char *name, enum ia_dtype dt,
                  int rank, const int64_t *dims, const char *const *params) {
    struct ia_onnx_dim d[8];
    for (int i = 0; i < rank; i++) {
        d[i].value = params && params[i] ? -1 : dims[i];
        d[i].param = params ? params[i] : NULL;
    }
    if ((is_input ? ia_onnx_builder_add_input : ia_onnx_builder_add_output)(b, name, dt, rank, d))
        abort();
}

static void mb_node(struct ia_onnx_builder *b, const char *op, size_t n_in, const char *const *in,
                    const char *out, size_t n_attrs, const struct ia_onnx_attr *attrs) {
    const char *outs[1] = {out};
    struct ia_onnx_node n = {.name = "", .op_type = op, .domain = "", .n_inputs = n_in,
                             .inputs = in, .n_outputs = 1, .outputs = outs,
                             .n_attrs = n_attrs, .attrs = attrs};
    if (ia_onnx_builder_add_node(b, &n) != IA_OK) abort();
}

static void mb_init_f32(struct ia_onnx_builder *b, const char *name, size_t rank,
                        const int64_t *dims) {
    uint64_t n = 1;
    for (size_t i = 0; i < rank; i++) n *= (uint64_t)dims[i];
    float *v = calloc(n, sizeof *v);
    if (ia_onnx_builder_add_initializer(b, name, IA_DTYPE_FLOAT32, rank, dims, v, n * 4)) abort();
    free(v);
}

static struct ia_model *mb_load(struct ia_onnx_builder *b) {
    uint8_t *buf;
    size_t len;
    if (ia_onnx_builder_serialize(b, &buf, &len) != IA_OK) abort();
    ia_onnx_builder_destroy(b);
    struct ia_model *m = NULL;
    int rc = ia_onnx_load_memory(buf, len, NULL, 0, &m);
    ia_free(buf);
    if (rc) {
        fprintf(stderr, "load: %s\n", ia_error_msg());
        abort();
    }
    return m;
}

static const struct ia_tensor *find_in(const struct ia_bench_inputs *in, const char *name) {
    for (size_t i = 0; i < in->n; i++)
        if (!strcmp(in->names[i], name)) return in->t[i];
    return NULL;
}

/* ---- dim binding ------------------------------------------------------------ */

static void test_bind_dim(void) {
    struct ia_bench_shape sh = {4, 16, 7};
    int64_t v;
    unsigned used = 0;
    CHECK_EQ_INT(ia_bench_bind_dim("batch", &sh, &v, &used), IA_OK);
    CHECK_EQ_INT(v, 4);
    CHECK_EQ_INT(ia_bench_bind_dim("batch_size", &sh, &v, &used), IA_OK);
    CHECK_EQ_INT(v, 4);
    CHECK_EQ_INT(used, IA_BENCH_USES_BATCH);
    const char *seqs[] = {"sequence", "seq", "sequence_length", "seq_len"};
    for (int i = 0; i < 4; i++) {
        v = 0;
        CHECK_EQ_INT(ia_bench_bind_dim(seqs[i], &sh, &v, &used), IA_OK);
        CHECK_EQ_INT(v, 16);
    }
    CHECK_EQ_INT(ia_bench_bind_dim("past_sequence_length", &sh, &v, &used), IA_OK);
    CHECK_EQ_INT(v, 7);
    CHECK_EQ_INT(ia_bench_bind_dim("past_sequence_length + sequence_length", &sh, &v, NULL),
                 IA_OK);
    CHECK_EQ_INT(v, 23);
    CHECK_EQ_INT(used, IA_BENCH_USES_BATCH | IA_BENCH_USES_SEQ | IA_BENCH_USES_PAST);
    CHECK_EQ_INT(ia_bench_bind_dim("height", &sh, &v, NULL), IA_ENOTFOUND);
    CHECK(strstr(ia_error_msg(), "'height'") && strstr(ia_error_msg(), "-i"));
    CHECK_EQ_INT(ia_bench_bind_dim("batch +", &sh, &v, NULL), IA_ENOTFOUND);
    CHECK_EQ_INT(ia_bench_bind_dim("", &sh, &v, NULL), IA_ENOTFOUND);
}

/* ---- input generation --------------------------------------------------------- */

/* An encoder-like model: ids → Gather(emb [50, 4]); mask, types, positions
 * and a float input, all [batch, sequence]. */
static struct ia_model *encoder_model(const char *odd_dim) {
    struct ia_onnx_builder *b = mb_new();
    const char *bs[2] = {"batch", "sequence"};
    const char *odd[2] = {"batch", odd_dim};
    int64_t d2[2] = {0, 0}, emb[2] = {50, 4}, ff[3] = {0, 0, 3};
    const char *bsf[3] = {"batch_size", "seq_len", NULL};
    mb_io(b, 1, "input_ids", IA_DTYPE_INT64, 2, d2, bs);
    mb_io(b, 1, "attention_mask", IA_DTYPE_INT64, 2, d2, odd_dim ? odd : bs);
    mb_io(b, 1, "token_type_ids", IA_DTYPE_INT64, 2, d2, bs);
    mb_io(b, 1, "position_ids", IA_DTYPE_INT64, 2, d2, bs);
    mb_io(b, 1, "features", IA_DTYPE_FLOAT32, 3, ff, bsf);
    mb_init_f32(b, "emb", 2, emb);
    const char *g_in[2] = {"emb", "input_ids"};
    mb_node(b, "Gather", 2, g_in, "h", 0, NULL);
    int64_t d3[3] = {0, 0, 4};
    const char *bs3[3] = {"batch", "sequence", NULL};
    mb_io(b, 0, "h", IA_DTYPE_FLOAT32, 3, d3, bs3);
    return mb_load(b);
}

static void test_make_inputs(void) {
    struct ia_model *m = encoder_model(NULL);
    int64_t vocab = 0;
    CHECK_EQ_INT(ia_bench_vocab_of(m, "input_ids", &vocab), IA_OK);
    CHECK_EQ_INT(vocab, 50);
    CHECK_EQ_INT(ia_bench_vocab_of(m, "attention_mask", &vocab), IA_ENOTFOUND);
    struct ia_bench_shape sh = {3, 5, 0};
    struct ia_bench_inputs in;
    REQUIRE(ia_bench_make_inputs(m, &sh, 42, &in) == IA_OK);
    CHECK_EQ_INT(in.n, 5);
    CHECK_EQ_INT(in.uses, IA_BENCH_USES_BATCH | IA_BENCH_USES_SEQ);
    const struct ia_tensor *ids = find_in(&in, "input_ids"), *mask = find_in(&in, "attention_mask"),
                           *tt = find_in(&in, "token_type_ids"), *pos = find_in(&in, "position_ids"),
                           *f = find_in(&in, "features");
    REQUIRE(ids && mask && tt && pos && f);
    CHECK_EQ_INT(ids->rank, 2);
    CHECK_EQ_INT(ids->dims[0], 3);
    CHECK_EQ_INT(ids->dims[1], 5);
    CHECK_EQ_INT(f->dims[2], 3);
    int distinct = 0;
    for (int i = 0; i < 15; i++) {
        int64_t id = ((const int64_t *)ids->data)[i];
        CHECK(id >= 0 && id < 50);
        distinct += id != ((const int64_t *)ids->data)[0];
        CHECK_EQ_INT(((const int64_t *)mask->data)[i], 1);
        CHECK_EQ_INT(((const int64_t *)tt->data)[i], 0);
        CHECK_EQ_INT(((const int64_t *)pos->data)[i], i % 5);
    }
    CHECK(distinct > 0);
    for (int i = 0; i < 45; i++) {
        float v = ((const float *)f->data)[i];
        CHECK(v >= -1.0f && v < 1.0f);
    }
    /* Same seed, same bytes. */
    struct ia_bench_inputs again;
    REQUIRE(ia_bench_make_inputs(m, &sh, 42, &again) == IA_OK);
    CHECK(!memcmp(find_in(&again, "input_ids")->data, ids->data, ids->nbytes));
    CHECK(!memcmp(find_in(&again, "features")->data, f->data, f->nbytes));
    ia_bench_inputs_free(&again);
    ia_bench_inputs_free(&in);
    ia_model_free(m);

    /* A dim we cannot bind names itself and asks for -i. */
    m = encoder_model("height");
    CHECK_EQ_INT(ia_bench_make_inputs(m, &sh, 0, &in), IA_ENOTFOUND);
    CHECK(strstr(ia_error_msg(), "height") && strstr(ia_error_msg(), "attention_mask") &&
          strstr(ia_error_msg(), "-i"));
    CHECK_EQ_INT(in.n, 0);
    ia_model_free(m);
}

static void test_vocab_default_and_cap(void) {
    /* ids without an embedding: [0, 100); a 5000-row table: [0, 1000). */
    struct ia_onnx_builder *b = mb_new();
    const char *bs[2] = {"batch", "seq"};
    int64_t d2[2] = {0, 0}, emb[2] = {5000, 2};
    mb_io(b, 1, "a_ids", IA_DTYPE_INT64, 2, d2, bs);
    mb_io(b, 1, "input_ids", IA_DTYPE_INT64, 2, d2, bs);
    mb_init_f32(b, "emb", 2, emb);
    const char *c_in[1] = {"input_ids"};
    struct ia_onnx_attr to = {.name = "to", .type = IA_ONNX_ATTR_INT, .i = 7};
    mb_node(b, "Cast", 1, c_in, "ids64", 1, &to);
    const char *g_in[2] = {"emb", "ids64"};
    mb_node(b, "Gather", 2, g_in, "h", 0, NULL);
    const char *id_in[1] = {"a_ids"};
    mb_node(b, "Identity", 1, id_in, "a_out", 0, NULL);
    int64_t d3[3] = {0, 0, 2};
    const char *bs3[3] = {"batch", "seq", NULL};
    mb_io(b, 0, "h", IA_DTYPE_FLOAT32, 3, d3, bs3);
    mb_io(b, 0, "a_out", IA_DTYPE_INT64, 2, d2, bs);
    struct ia_model *m = mb_load(b);
    int64_t vocab;
    CHECK_EQ_INT(ia_bench_vocab_of(m, "input_ids", &vocab), IA_OK); /* through the Cast */
    CHECK_EQ_INT(vocab, 5000);
    struct ia_bench_shape sh = {8, 64, 0};
    struct ia_bench_inputs in;
    REQUIRE(ia_bench_make_inputs(m, &sh, 1, &in) == IA_OK);
    int64_t max_a = 0, max_ids = 0;
    for (int i = 0; i < 512; i++) {
        int64_t a = ((const int64_t *)find_in(&in, "a_ids")->data)[i];
        int64_t v = ((const int64_t *)find_in(&in, "input_ids")->data)[i];
        CHECK(a >= 0 && a < 100 && v >= 0 && v < 1000);
        if (a > max_a) max_a = a;
        if (v > max_ids) max_ids = v;
    }
    CHECK(max_a > 90);    /* the range is used, not a constant */
    CHECK(max_ids > 900);
    ia_bench_inputs_free(&in);
    ia_model_free(m);
}

/* ---- cost estimates ------------------------------------------------------------ */

static void test_flops_matmul(void) {
    struct ia_onnx_builder *b = mb_new();
    int64_t a[2] = {2, 3}, w[2] = {3, 4}, y[2] = {2, 4};
    mb_io(b, 1, "a", IA_DTYPE_FLOAT32, 2, a, NULL);
    mb_init_f32(b, "w", 2, w);
    const char *in[2] = {"a", "w"};
    mb_node(b, "MatMul", 2, in, "y", 0, NULL);
    mb_io(b, 0, "y", IA_DTYPE_FLOAT32, 2, y, NULL);
    struct ia_model *m = mb_load(b);
    struct ia_bench_shape sh = {1, 1, 0};
    struct ia_bench_inputs gen;
    REQUIRE(ia_bench_make_inputs(m, &sh, 0, &gen) == IA_OK);
    struct ia_bench_cost c;
    REQUIRE(ia_bench_estimate_cost(m, &gen, &c) == IA_OK);
    CHECK_EQ_INT(c.flops, 48); /* 2 x M x N x K = 2 x 2 x 4 x 3 */
    CHECK_EQ_INT(c.n_costed, 1);
    CHECK_EQ_INT(c.n_unknown, 0);
    CHECK_EQ_INT(c.weight_bytes, 48);
    CHECK_EQ_INT(c.bytes_moved, 48 + 24 + 32); /* weights + a read + y written */
    ia_bench_inputs_free(&gen);
    ia_model_free(m);
}

static void test_flops_batched_gemm_conv(void) {
    /* MatMul [batch, 5, 6] x [6, 7] with batch = 3; Gemm [3, 8] x [8, 2]^T
     * (transB) + C; Conv [1, 2, 5, 5] with W [4, 2, 3, 3] + bias → [1, 4, 3, 3]. */
    struct ia_onnx_builder *b = mb_new();
    int64_t x[3] = {0, 5, 6}, w[2] = {6, 7}, y[3] = {0, 5, 7};
    const char *bn[3] = {"batch", NULL, NULL};
    mb_io(b, 1, "x", IA_DTYPE_FLOAT32, 3, x, bn);
    mb_init_f32(b, "w", 2, w);
    const char *mi[2] = {"x", "w"};
    mb_node(b, "MatMul", 2, mi, "y", 0, NULL);
    mb_io(b, 0, "y", IA_DTYPE_FLOAT32, 3, y, bn);

    int64_t ga[2] = {3, 8}, gb[2] = {2, 8}, gc[1] = {2}, gy[2] = {3, 2};
    mb_io(b, 1, "ga", IA_DTYPE_FLOAT32, 2, ga, NULL);
    mb_init_f32(b, "gb", 2, gb);
    mb_init_f32(b, "gc", 1, gc);
    const char *gi[3] = {"ga", "gb", "gc"};
    struct ia_onnx_attr tb = {.name = "transB", .type = IA_ONNX_ATTR_INT, .i = 1};
    mb_node(b, "Gemm", 3, gi, "gy", 1, &tb);
    mb_io(b, 0, "gy", IA_DTYPE_FLOAT32, 2, gy, NULL);

    int64_t cx[4] = {1, 2, 5, 5}, cw[4] = {4, 2, 3, 3}, cb[1] = {4}, cy[4] = {1, 4, 3, 3};
    mb_io(b, 1, "cx", IA_DTYPE_FLOAT32, 4, cx, NULL);
    mb_init_f32(b, "cw", 4, cw);
    mb_init_f32(b, "cb", 1, cb);
    const char *ci[3] = {"cx", "cw", "cb"};
    mb_node(b, "Conv", 3, ci, "cy", 0, NULL);
    mb_io(b, 0, "cy", IA_DTYPE_FLOAT32, 4, cy, NULL);
    struct ia_model *m = mb_load(b);

    struct ia_bench_shape sh = {3, 1, 0};
    struct ia_bench_inputs gen;
    REQUIRE(ia_bench_make_inputs(m, &sh, 0, &gen) == IA_OK);
    struct ia_bench_cost c;
    REQUIRE(ia_bench_estimate_cost(m, &gen, &c) == IA_OK);
    int64_t matmul = 2LL * 3 * 5 * 7 * 6;          /* 1260 */
    int64_t gemm = 2LL * 3 * 2 * 8 + 3 * 2;        /* 96 + bias 6 */
    int64_t conv = 2LL * (4 * 3 * 3) * (2 * 3 * 3) + 4 * 3 * 3; /* 1296 + bias 36 */
    CHECK_EQ_INT(c.flops, matmul + gemm + conv);
    CHECK_EQ_INT(c.n_costed, 3);
    ia_bench_inputs_free(&gen);
    ia_model_free(m);
}

/* ---- random numbers and the Poisson process ------------------------------------- */

static void test_poisson_mean(void) {
    struct ia_bench_rng r;
    ia_bench_rng_seed(&r, 7);
    double sum = 0, sum2 = 0;
    const int n = 200000;
    const double rate = 50;
    for (int i = 0; i < n; i++) {
        double x = ia_bench_rng_exp(&r, rate);
        CHECK(x >= 0 && isfinite(x));
        sum += x;
        sum2 += x * x;
    }
    double mean = sum / n, var = sum2 / n - mean * mean;
    CHECK(fabs(mean - 1 / rate) < 0.01 / rate);          /* within 1 % */
    CHECK(fabs(sqrt(var) - 1 / rate) < 0.02 / rate);     /* exponential: sd = mean */
    struct ia_bench_rng a, b;
    ia_bench_rng_seed(&a, 3);
    ia_bench_rng_seed(&b, 3);
    for (int i = 0; i < 10; i++) CHECK(ia_bench_rng_u64(&a) == ia_bench_rng_u64(&b));
    for (int i = 0; i < 1000; i++) {
        double u = ia_bench_rng_uniform(&a);
        CHECK(u >= 0 && u < 1);
    }
}

/* ---- timing loops on a virtual clock ---------------------------------------------- */

struct vclock {
    double t;
    double service_s;
    int calls;
};
static double v_now(void *u) { return ((struct vclock *)u)->t; }
static void v_sleep(void *u, double t) {
    struct vclock *c = u;
    if (t > c->t) c->t = t;
}
static int v_query(void *u) {
    struct vclock *c = u;
    c->t += c->service_s;
    c->calls++;
    return IA_OK;
}
static int v_fail(void *u) {
    struct vclock *c = u;
    return ++c->calls > 4 ? ia_error_set(IA_EIO, "boom") : IA_OK;
}

static void test_loop_single(void) {
    /* Binary fractions keep the virtual time exact. */
    struct vclock c = {100.0, 1.0 / 256, 0};
    struct ia_bench_clock clk = {v_now, v_sleep, &c};
    struct ia_bench_loop_opts o = {.warmup = 3, .min_iterations = 10, .min_time_s = 0.125,
                                   .clock = &clk};
    struct ia_bench_samples s;
    REQUIRE(ia_bench_loop_single(v_query, &c, &o, &s) == IA_OK);
    CHECK_EQ_INT(s.n, 32); /* 0.125 s of 3.9 ms queries, beyond the 10 minimum */
    CHECK_EQ_INT(c.calls, 35);
    for (size_t i = 0; i < s.n; i++) CHECK(fabs(s.ms[i] - 3.90625) < 1e-9);
    CHECK(fabs(s.wall_s - 0.125) < 1e-12);
    ia_bench_samples_free(&s);

    /* The iteration minimum wins over a short time, the cap over both. */
    o.min_time_s = 0;
    o.min_iterations = 17;
    REQUIRE(ia_bench_loop_single(v_query, &c, &o, &s) == IA_OK);
    CHECK_EQ_INT(s.n, 17);
    ia_bench_samples_free(&s);
    o.min_time_s = 1e9;
    o.max_iterations = 25;
    REQUIRE(ia_bench_loop_single(v_query, &c, &o, &s) == IA_OK);
    CHECK_EQ_INT(s.n, 25);
    ia_bench_samples_free(&s);

    /* A failing query stops the loop with its error; a stop flag cancels. */
    c.calls = 0;
    CHECK_EQ_INT(ia_bench_loop_single(v_fail, &c, &o, &s), IA_EIO);
    CHECK(s.ms == NULL);
    volatile int stop = 1;
    o.stop = &stop;
    CHECK_EQ_INT(ia_bench_loop_single(v_query, &c, &o, &s), IA_ECANCELED);
    o.stop = NULL;
    o.min_iterations = 0;
    CHECK_EQ_INT(ia_bench_loop_single(v_query, &c, &o, &s), IA_EINVAL);
}

static void test_loop_server(void) {
    /* 10 ms per query, 50 QPS offered: load 0.5, achieved ≈ offered. */
    struct vclock c = {10.0, 0.010, 0};
    struct ia_bench_clock clk = {v_now, v_sleep, &c};
    struct ia_bench_loop_opts o = {.warmup = 0, .min_iterations = 10, .min_time_s = 200,
                                   .clock = &clk};
    struct ia_bench_samples s;
    double achieved;
    REQUIRE(ia_bench_loop_server(v_query, &c, &o, 50, 1, &s, &achieved) == IA_OK);
    CHECK(fabs(achieved - 50) < 2.5); /* ~10000 arrivals: within 5 % */
    double min = 1e9, sum = 0;
    for (size_t i = 0; i < s.n; i++) {
        if (s.ms[i] < min) min = s.ms[i];
        sum += s.ms[i];
    }
    CHECK(fabs(min - 10.0) < 1e-6); /* never faster than the service time */
    /* M/D/1 at load 0.5: mean wait = rho / (2 mu (1 - rho)) = 5 ms, so the
     * mean latency including queueing is 15 ms. */
    double mean = sum / (double)s.n;
    CHECK(mean > 14.0 && mean < 16.0);
    ia_bench_samples_free(&s);

    /* Overload: 1000 QPS offered, capacity 100: achieved = capacity and the
     * queue makes latency grow. */
    c.t = 10.0;
    o.min_time_s = 10;
    REQUIRE(ia_bench_loop_server(v_query, &c, &o, 1000, 2, &s, &achieved) == IA_OK);
    CHECK(fabs(achieved - 100) < 1);
    CHECK(s.ms[s.n - 1] > 100 * s.ms[0]);
    ia_bench_samples_free(&s);
    CHECK_EQ_INT(ia_bench_loop_server(v_query, &c, &o, 0, 2, &s, &achieved), IA_EINVAL);
}

/* ---- decoders ------------------------------------------------------------------- */

static void test_decoder_detection(void) {
    struct ia_onnx_builder *b = mb_new();
    const char *bs[2] = {"batch", "sequence_length"};
    const char *pk[4] = {"batch", NULL, "past_sequence_length", NULL};
    int64_t d2[2] = {0, 0}, d4[4] = {0, 2, 0, 4};
    mb_io(b, 1, "input_ids", IA_DTYPE_INT64, 2, d2, bs);
    mb_io(b, 1, "past_key_values.0.key", IA_DTYPE_FLOAT32, 4, d4, pk);
    const char *i1[1] = {"input_ids"}, *i2[1] = {"past_key_values.0.key"};
    mb_node(b, "Identity", 1, i1, "logits", 0, NULL);
    mb_node(b, "Identity", 1, i2, "present.0.key", 0, NULL);
    mb_io(b, 0, "logits", IA_DTYPE_INT64, 2, d2, bs);
    mb_io(b, 0, "present.0.key", IA_DTYPE_FLOAT32, 4, d4, pk);
    struct ia_model *m = mb_load(b);
    struct ia_bench_decoder dec;
    ia_bench_detect_decoder(m, &dec);
    CHECK(dec.is_decoder && dec.has_past);
    REQUIRE(dec.n_past == 1);
    CHECK_EQ_STR(dec.past[0], "past_key_values.0.key");
    CHECK_EQ_STR(dec.present[0], "present.0.key");
    /* Decode inputs: one token, a past of length seq, positions from there. */
    struct ia_bench_shape sh = {2, 1, 9};
    struct ia_bench_inputs in;
    REQUIRE(ia_bench_make_inputs(m, &sh, 0, &in) == IA_OK);
    CHECK_EQ_INT(find_in(&in, "input_ids")->dims[1], 1);
    CHECK_EQ_INT(find_in(&in, "past_key_values.0.key")->dims[2], 9);
    ia_bench_inputs_free(&in);
    ia_model_free(m);

    /* input_ids + logits without a cache: a decoder, decode not applicable. */
    b = mb_new();
    mb_io(b, 1, "input_ids", IA_DTYPE_INT64, 2, d2, bs);
    mb_node(b, "Identity", 1, i1, "logits", 0, NULL);
    mb_io(b, 0, "logits", IA_DTYPE_INT64, 2, d2, bs);
    m = mb_load(b);
    ia_bench_detect_decoder(m, &dec);
    CHECK(dec.is_decoder && !dec.has_past && dec.n_past == 0);
    ia_model_free(m);

    /* An encoder is not a decoder. */
    m = encoder_model(NULL);
    ia_bench_detect_decoder(m, &dec);
    CHECK(!dec.is_decoder);
    ia_model_free(m);
}

static void test_scenario_names(void) {
    enum ia_bench_scenario s;
    CHECK_EQ_INT(ia_bench_scenario_parse("server", &s), IA_OK);
    CHECK_EQ_INT(s, IA_BENCH_SERVER);
    CHECK_EQ_STR(ia_bench_scenario_name(IA_BENCH_OFFLINE), "offline");
    CHECK_EQ_INT(ia_bench_scenario_parse("multi-stream", &s), IA_EINVAL);
    CHECK(ia_bench_scenario_name(IA_BENCH_SCENARIO_COUNT) == NULL);
}

static void test_memory(void) {
    int64_t rss = ia_bench_mem_rss(), peak = ia_bench_mem_peak_rss();
    CHECK(rss > 0 && peak >= rss);
    (void)ia_bench_mem_reset_peak(); /* permitted or not, the peak stays readable */
    CHECK(ia_bench_mem_peak_rss() > 0);
}

TEST_MAIN(T(test_bind_dim), T(test_make_inputs), T(test_vocab_default_and_cap),
          T(test_flops_matmul), T(test_flops_batched_gemm_conv), T(test_poisson_mean),
          T(test_loop_single), T(test_loop_server), T(test_decoder_detection),
          T(test_scenario_names), T(test_memory))
