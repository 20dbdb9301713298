/*
 * More building blocks for the zoo's graph builder (see include/ia/zoo.h):
 * 1-D convolutions and per-channel group norm (Whisper, wav2vec 2.0), T5's
 * relative position bias, Whisper's sinusoidal positions, weight norm folded
 * at conversion, and small helpers for CLIP's pooling and projections.
 * Everything here goes through the public builder calls, so the sticky
 * error rule holds: after a failure each call returns ZB_ERROR_NAME.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "zoo_internal.h"

static const char *squeeze0(struct ia_zb *g, const char *x) {
    int64_t zero = 0;
    return ia_zb_op2(g, "Squeeze", x, ia_zb_const_i64(g, 1, &zero));
}

const char *ia_zb_conv1d(struct ia_zb *g, const char *prefix, int64_t in_ch, int64_t out_ch,
                         int64_t kernel, int64_t stride, int64_t pad_begin, int64_t pad_end,
                         int64_t groups, int bias, const char *x) {
    if (ia_zb_status(g)) return ZB_ERROR_NAME;
    if (groups <= 0 || in_ch % groups || out_ch % groups || kernel <= 0 || stride <= 0 ||
        pad_begin < 0 || pad_end < 0) {
        ia_zb_fail(g, IA_EINVAL,
                   "%s: conv of %lld→%lld channels, kernel %lld, stride %lld, "
                   "%lld groups does not fit",
                   prefix, (long long)in_ch, (long long)out_ch, (long long)kernel,
                   (long long)stride, (long long)groups);
        return ZB_ERROR_NAME;
    }
    char wn[512], bn[512];
    snprintf(wn, sizeof wn, "%s.weight", prefix);
    snprintf(bn, sizeof bn, "%s.bias", prefix);
    int64_t d[3] = {out_ch, in_ch / groups, kernel};
    const char *in[3] = {x, ia_zb_weight(g, wn, IA_ZB_INIT_NORMAL, IA_ZB_AS_IS, 3, d),
                         bias ? ia_zb_weight(g, bn, IA_ZB_INIT_ZEROS, IA_ZB_AS_IS, 1, &out_ch)
                              : ""};
    int64_t k[1] = {kernel}, s[1] = {stride}, p[2] = {pad_begin, pad_end};
    struct ia_zb_attr a[4] = {IA_ZB_INTS("kernel_shape", k, 1), IA_ZB_INTS("strides", s, 1),
                              IA_ZB_INTS("pads", p, 2), IA_ZB_INT("group", groups)};
    return ia_zb_op(g, "Conv", bias ? 3 : 2, in, 4, a);
}

const char *ia_zb_instance_norm(struct ia_zb *g, const char *prefix, int64_t channels, double eps,
                                const char *x) {
    const char *in[3] = {x};
    zoo_norm_affine(g, prefix, channels, in);
    struct ia_zb_attr a = IA_ZB_FLOAT("epsilon", (float)eps);
    return ia_zb_op(g, "InstanceNormalization", 3, in, 1, &a);
}

/* ---- T5 relative position bias ------------------------------------------------ */

int64_t ia_zb_t5_bucket(int64_t rel, int bidirectional, int64_t num_buckets, int64_t max_distance) {
    int64_t base = 0, nb = num_buckets;
    if (bidirectional) {
        nb /= 2;
        if (rel > 0) base = nb;
        rel = rel < 0 ? -rel : rel;
    } else {
        rel = rel < 0 ? -rel : 0;
    }
    int64_t max_exact = nb / 2;
    if (rel < max_exact) return base + rel;
    /* HF's float32 arithmetic, step by step, so the truncation lands on the
     * same bucket: log(rel / max_exact) / log(max_distance / max_exact)
     * (a double rounded to float) * (nb - max_exact). */
    float r = (float)rel / (float)max_exact;
    float den = (float)log((double)max_distance / (double)max_exact);
    float f = logf(r) / den * (float)(nb - max_exact);
    int64_t large = max_exact + (int64_t)f;
    if (large > nb - 1) large = nb - 1;
    return base + large;
}

const char *ia_zb_t5_position_bias(struct ia_zb *g, const char *weight, int64_t num_buckets,
                                   int64_t max_distance, int64_t heads, int bidirectional,
                                   const char *query_like, const char *key_like) {
    if (ia_zb_status(g)) return ZB_ERROR_NAME;
    if (num_buckets < 4 || num_buckets > 1 << 16 || max_distance <= num_buckets / 2 ||
        max_distance > 1 << 20) {
        ia_zb_fail(g, IA_EINVAL,
                   "relative position bias: %lld buckets and max distance %lld "
                   "do not fit (want buckets >= 4 and max distance > buckets / 2)",
                   (long long)num_buckets, (long long)max_distance);
        return ZB_ERROR_NAME;
    }
    int64_t n = 2 * max_distance + 1;
    int64_t *table = ia_malloc((size_t)n * sizeof *table);
    if (!table) {
        ia_zb_fail(g, IA_ENOMEM, "out of memory");
        return ZB_ERROR_NAME;
    }
    for (int64_t i = 0; i < n; i++)
        table[i] = ia_zb_t5_bucket(i - max_distance, bidirectional, num_buckets, max_distance);
    const char *tab = ia_zb_const_i64(g, (size_t)n, table);
    ia_free(table);

    const char *t = squeeze0(g, ia_zb_dim_of(g, key_like, 1));
    const char *s = squeeze0(g, ia_zb_dim_of(g, query_like, 1));
    const char *zero = ia_zb_scalar_i64(g, 0), *one = ia_zb_scalar_i64(g, 1);
    const char *rk[3] = {zero, t, one}, *rq[3] = {ia_zb_op2(g, "Sub", t, s), t, one};
    int64_t ax1 = 1;
    const char *kpos = ia_zb_op(g, "Range", 3, rk, 0, NULL); /* [T] */
    const char *qpos = ia_zb_op2(g, "Unsqueeze", ia_zb_op(g, "Range", 3, rq, 0, NULL),
                                 ia_zb_const_i64(g, 1, &ax1)); /* [S, 1] */
    const char *rel = ia_zb_op2(g, "Sub", kpos, qpos);         /* [S, T] */
    const char *clip[3] = {rel, ia_zb_scalar_i64(g, -max_distance),
                           ia_zb_scalar_i64(g, max_distance)};
    const char *idx = ia_zb_op2(g, "Add", ia_zb_op(g, "Clip", 3, clip, 0, NULL),
                                ia_zb_scalar_i64(g, max_distance));
    const char *bucket = ia_zb_op2(g, "Gather", tab, idx); /* [S, T] */
    int64_t d[2] = {num_buckets, heads};
    const char *w = ia_zb_weight(g, weight, IA_ZB_INIT_NORMAL, IA_ZB_AS_IS, 2, d);
    const char *v = ia_zb_op2(g, "Gather", w, bucket); /* [S, T, heads] */
    int64_t perm[3] = {2, 0, 1}, ax0 = 0;
    struct ia_zb_attr pa = IA_ZB_INTS("perm", perm, 3);
    return ia_zb_op2(g, "Unsqueeze", ia_zb_op(g, "Transpose", 1, &v, 1, &pa),
                     ia_zb_const_i64(g, 1, &ax0)); /* [1, heads, S, T] */
}

const char *ia_zb_causal_mask(struct ia_zb *g, const char *x) {
    const char *s = squeeze0(g, ia_zb_dim_of(g, x, 1));
    const char *zero = ia_zb_scalar_i64(g, 0), *one = ia_zb_scalar_i64(g, 1);
    const char *r[3] = {zero, s, one};
    const char *pos = ia_zb_op(g, "Range", 3, r, 0, NULL);
    int64_t ax1 = 1, ax01[2] = {0, 1};
    const char *q = ia_zb_op2(g, "Unsqueeze", pos, ia_zb_const_i64(g, 1, &ax1));
    const char *allowed = ia_zb_op2(g, "LessOrEqual", pos, q); /* [S, S]: key <= query */
    const char *in[3] = {allowed, ia_zb_scalar_f32(g, 0.0f), ia_zb_scalar_f32(g, -FLT_MAX)};
    return ia_zb_op2(g, "Unsqueeze", ia_zb_op(g, "Where", 3, in, 0, NULL),
                     ia_zb_const_i64(g, 2, ax01));
}

/* ---- weights computed at build time -------------------------------------------- */

const char *ia_zb_sinusoid_weight(struct ia_zb *g, const char *name, int64_t length,
                                  int64_t channels, double max_timescale) {
    if (ia_zb_status(g)) return ZB_ERROR_NAME;
    int64_t d[2] = {length, channels};
    if (ia_zb_from_checkpoint(g) && ia_zb_has_weight(g, name))
        return ia_zb_weight(g, name, IA_ZB_INIT_NORMAL, IA_ZB_AS_IS, 2, d);
    if (channels < 4 || channels % 2 || length <= 0 || length > 1 << 20 || channels > 1 << 16) {
        ia_zb_fail(g, IA_EINVAL,
                   "sinusoidal positions '%s': %lld x %lld (channels must be "
                   "even and >= 4)",
                   name, (long long)length, (long long)channels);
        return ZB_ERROR_NAME;
    }
    if (ia_zb_dry_run(g)) return ia_zb_weight_values(g, name, 2, d, NULL);
    float *w = ia_malloc((size_t)(length * channels) * sizeof *w);
    if (!w) {
        ia_zb_fail(g, IA_ENOMEM, "out of memory");
        return ZB_ERROR_NAME;
    }
    /* As HF's sinusoids() computes it: the increment in double, the rest in
     * float32. */
    int64_t half = channels / 2;
    double inc = log(max_timescale) / (double)(half - 1);
    for (int64_t i = 0; i < half; i++) {
        float inv = expf((float)-inc * (float)i);
        for (int64_t t = 0; t < length; t++) {
            float x = (float)t * inv;
            w[t * channels + i] = sinf(x);
            w[t * channels + half + i] = cosf(x);
        }
    }
    const char *r = ia_zb_weight_values(g, name, 2, d, w);
    ia_free(w);
    return r;
}

static float half_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, e = (h >> 10) & 0x1f, m = h & 0x3ff, bits;
    if (e == 0) {
        float f = (float)m * 0x1.0p-24f;
        return sign ? -f : f;
    }
    if (e == 31)
        bits = sign | 0x7f800000u | (m << 13);
    else
        bits = sign | ((e + 112) << 23) | (m << 13);
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static double elem(const struct ia_st_tensor *t, uint64_t i) {
    const uint8_t *p = (const uint8_t *)t->data + i * ia_dtype_size(t->dtype);
    float f;
    double d;
    uint32_t bits;
    switch (t->dtype) {
    case IA_DTYPE_FLOAT32:
        memcpy(&f, p, 4);
        return f;
    case IA_DTYPE_FLOAT64:
        memcpy(&d, p, 8);
        return d;
    case IA_DTYPE_FLOAT16:
        return half_to_f32((uint16_t)(p[0] | p[1] << 8));
    case IA_DTYPE_BFLOAT16:
        bits = (uint32_t)(p[0] | p[1] << 8) << 16;
        memcpy(&f, &bits, 4);
        return f;
    default:
        return 0;
    }
}

static int is_float(const struct ia_st_tensor *t) {
    return t->dtype == IA_DTYPE_FLOAT32 || t->dtype == IA_DTYPE_FLOAT64 ||
           t->dtype == IA_DTYPE_FLOAT16 || t->dtype == IA_DTYPE_BFLOAT16;
}

static int same_shape(const struct ia_st_tensor *t, size_t rank, const int64_t *dims) {
    if (t->rank != rank) return 0;
    for (size_t i = 0; i < rank; i++)
        if (t->dims[i] != dims[i]) return 0;
    return 1;
}

static void shape_str(char *buf, size_t cap, size_t rank, const int64_t *dims) {
    size_t at = (size_t)snprintf(buf, cap, "[");
    for (size_t i = 0; i < rank && at < cap; i++)
        at += (size_t)snprintf(buf + at, cap - at, "%s%lld", i ? ", " : "", (long long)dims[i]);
    if (at < cap) snprintf(buf + at, cap - at, "]");
}

/* The checkpoint tensor `name` of shape dims, or NULL with g failed. */
static const struct ia_st_tensor *ck_tensor(struct ia_zb *g, const char *name, size_t rank,
                                            const int64_t *dims) {
    struct ia_hf_checkpoint *ck = ia_zb_checkpoint(g);
    const char *file = NULL;
    const struct ia_st_tensor *t = ia_hf_checkpoint_find(ck, name, &file);
    if (!t) {
        ia_zb_fail(g, IA_ENOTFOUND, "checkpoint has no tensor '%s'", name);
        return NULL;
    }
    if (!is_float(t)) {
        ia_zb_fail(g, IA_EFORMAT, "%s: tensor '%s' is %s, expected a float type", file, name,
                   t->dtype_name);
        return NULL;
    }
    if (!same_shape(t, rank, dims)) {
        char want[128], got[128];
        shape_str(want, sizeof want, rank, dims);
        shape_str(got, sizeof got, t->rank, t->dims);
        ia_zb_fail(g, IA_EFORMAT, "%s: tensor '%s' has shape %s but the config makes %s", file,
                   name, got, want);
        return NULL;
    }
    zoo_ckpt_mark_used(ck, t);
    return t;
}

const char *ia_zb_weight_norm(struct ia_zb *g, const char *prefix, size_t rank, const int64_t *dims,
                              int dim) {
    if (ia_zb_status(g)) return ZB_ERROR_NAME;
    char wn[512], gn[512], vn[512];
    snprintf(wn, sizeof wn, "%s.weight", prefix);
    if (rank < 1 || rank > IA_ST_MAX_RANK || dim < 0 || (size_t)dim >= rank) {
        ia_zb_fail(g, IA_EINTERNAL, "weight norm '%s': bad rank %zu or dim %d", wn, rank, dim);
        return ZB_ERROR_NAME;
    }
    struct ia_hf_checkpoint *ck = ia_zb_checkpoint(g);
    if (!ck) return ia_zb_weight(g, wn, IA_ZB_INIT_NORMAL, IA_ZB_AS_IS, rank, dims);
    /* Older checkpoints (torch.nn.utils.weight_norm) say weight_g/weight_v;
     * newer ones (parametrizations.weight_norm) original0/original1. */
    snprintf(gn, sizeof gn, "%s.weight_g", prefix);
    snprintf(vn, sizeof vn, "%s.weight_v", prefix);
    if (!ia_hf_checkpoint_find(ck, gn, NULL)) {
        snprintf(gn, sizeof gn, "%s.parametrizations.weight.original0", prefix);
        snprintf(vn, sizeof vn, "%s.parametrizations.weight.original1", prefix);
        if (!ia_hf_checkpoint_find(ck, gn, NULL) && ia_hf_checkpoint_find(ck, wn, NULL))
            return ia_zb_weight(g, wn, IA_ZB_INIT_NORMAL, IA_ZB_AS_IS, rank, dims);
    }
    int64_t gd[IA_ST_MAX_RANK];
    for (size_t i = 0; i < rank; i++) gd[i] = (int)i == dim ? dims[i] : 1;
    const struct ia_st_tensor *tg = ck_tensor(g, gn, rank, gd);
    const struct ia_st_tensor *tv = tg ? ck_tensor(g, vn, rank, dims) : NULL;
    if (!tv) return ZB_ERROR_NAME;
    if (ia_zb_dry_run(g)) return ia_zb_weight_values(g, wn, rank, dims, NULL);
    uint64_t outer = 1, inner = 1, mid = (uint64_t)dims[dim];
    for (int i = 0; i < dim; i++) outer *= (uint64_t)dims[i];
    for (size_t i = (size_t)dim + 1; i < rank; i++) inner *= (uint64_t)dims[i];
    float *w = ia_malloc(tv->numel ? (size_t)tv->numel * sizeof *w : 1);
    double *norm = ia_calloc(mid ? (size_t)mid : 1, sizeof *norm);
    if (!w || !norm) {
        ia_free(w);
        ia_free(norm);
        ia_zb_fail(g, IA_ENOMEM, "weight norm '%s': out of memory", wn);
        return ZB_ERROR_NAME;
    }
    for (uint64_t o = 0; o < outer; o++)
        for (uint64_t m = 0; m < mid; m++)
            for (uint64_t i = 0; i < inner; i++) {
                double v = elem(tv, (o * mid + m) * inner + i);
                norm[m] += v * v;
            }
    for (uint64_t m = 0; m < mid; m++) {
        /* torch: v * (g / ||v||); a zero v stays zero rather than NaN. */
        double n = sqrt(norm[m]);
        norm[m] = n > 0 ? (double)(float)elem(tg, m) / n : 0.0;
    }
    for (uint64_t o = 0; o < outer; o++)
        for (uint64_t m = 0; m < mid; m++)
            for (uint64_t i = 0; i < inner; i++) {
                uint64_t k = (o * mid + m) * inner + i;
                w[k] = (float)(elem(tv, k) * norm[m]);
            }
    const char *r = ia_zb_weight_values(g, wn, rank, dims, w);
    ia_free(w);
    ia_free(norm);
    return r;
}

/* ---- pooling and projections ---------------------------------------------------- */

const char *ia_zb_l2_normalize(struct ia_zb *g, const char *x) {
    int64_t ax[1] = {-1};
    struct ia_zb_attr a[2] = {IA_ZB_INTS("axes", ax, 1), IA_ZB_INT("keepdims", 1)};
    return ia_zb_op2(g, "Div", x, ia_zb_op(g, "ReduceL2", 1, &x, 2, a));
}

const char *ia_zb_gather_rows(struct ia_zb *g, const char *x, const char *idx, int64_t hidden) {
    /* Flattened to [B*S, hidden] and gathered at b*S + idx[b]: plain Gather
     * rather than GatherND with batch_dims, which fewer runtimes have. */
    const char *b = squeeze0(g, ia_zb_dim_of(g, x, 0));
    const char *s = squeeze0(g, ia_zb_dim_of(g, x, 1));
    const char *r[3] = {ia_zb_scalar_i64(g, 0), b, ia_zb_scalar_i64(g, 1)};
    const char *flat_idx =
        ia_zb_op2(g, "Add", ia_zb_op2(g, "Mul", ia_zb_op(g, "Range", 3, r, 0, NULL), s), idx);
    int64_t shape[2] = {-1, hidden};
    const char *flat = ia_zb_op2(g, "Reshape", x, ia_zb_const_i64(g, 2, shape));
    return ia_zb_op2(g, "Gather", flat, flat_idx);
}
