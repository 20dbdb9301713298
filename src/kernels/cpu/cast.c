/* Cast and CastLike between every numeric dtype, bool and string.
 *
 * Elements go through a small block buffer: int64 when both sides are
 * integers or bool (exact, wrapping when narrowed like numpy's astype), or
 * double otherwise. Float to integer truncates toward zero, saturates at
 * the int64 range (uint64 keeps its upper half) and maps NaN to 0, so no
 * input reaches C's undefined conversions. Strings parse with strtod /
 * strtoll ("INF", "-INF", "NaN" included) and print the shortest decimal
 * that reads back to the same value, as numpy's str() does. */
#include "ew_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#define CAST_BLK 256

static int is_int(enum ia_dtype t) {
    return (t >= IA_DTYPE_INT8 && t <= IA_DTYPE_UINT64) || t == IA_DTYPE_BOOL;
}

static void rd_i(enum ia_dtype t, const void *p, int64_t *b, size_t n) {
    switch (t) {
#define R(DT, T)                                                                                   \
    case DT:                                                                                       \
        for (size_t i = 0; i < n; i++) b[i] = (int64_t)((const T *)p)[i];                          \
        break;
        R(IA_DTYPE_INT8, int8_t)
        R(IA_DTYPE_INT16, int16_t)
        R(IA_DTYPE_INT32, int32_t) R(IA_DTYPE_INT64, int64_t) R(IA_DTYPE_UINT8, uint8_t)
            R(IA_DTYPE_UINT16, uint16_t) R(IA_DTYPE_UINT32, uint32_t) R(IA_DTYPE_UINT64, uint64_t)
#undef R
                case IA_DTYPE_BOOL : for (size_t i = 0; i < n; i++) b[i] =
                                         ((const uint8_t *)p)[i] != 0;
        break;
    default:
        break;
    }
}

static void wr_i(enum ia_dtype t, void *p, const int64_t *b, size_t n) {
    switch (t) {
#define W(DT, T, U)                                                                                \
    case DT:                                                                                       \
        for (size_t i = 0; i < n; i++) ((T *)p)[i] = (T)(U)(uint64_t)b[i];                         \
        break;
        W(IA_DTYPE_INT8, int8_t, uint8_t)
        W(IA_DTYPE_INT16, int16_t, uint16_t)
        W(IA_DTYPE_INT32, int32_t, uint32_t) W(IA_DTYPE_INT64, int64_t, uint64_t)
            W(IA_DTYPE_UINT8, uint8_t, uint8_t) W(IA_DTYPE_UINT16, uint16_t, uint16_t)
                W(IA_DTYPE_UINT32, uint32_t, uint32_t) W(IA_DTYPE_UINT64, uint64_t, uint64_t)
#undef W
                    case IA_DTYPE_BOOL : for (size_t i = 0; i < n; i++)((uint8_t *)p)[i] =
                                             b[i] != 0;
        break;
    default:
        break;
    }
}

static void rd_d(enum ia_dtype t, const void *p, double *b, size_t n) {
    switch (t) {
#define R(DT, T)                                                                                   \
    case DT:                                                                                       \
        for (size_t i = 0; i < n; i++) b[i] = (double)((const T *)p)[i];                           \
        break;
        R(IA_DTYPE_FLOAT32, float)
        R(IA_DTYPE_FLOAT64, double)
        R(IA_DTYPE_INT8, int8_t) R(IA_DTYPE_INT16, int16_t) R(IA_DTYPE_INT32, int32_t)
            R(IA_DTYPE_INT64, int64_t) R(IA_DTYPE_UINT8, uint8_t) R(IA_DTYPE_UINT16, uint16_t)
                R(IA_DTYPE_UINT32, uint32_t) R(IA_DTYPE_UINT64, uint64_t)
#undef R
                    case IA_DTYPE_BOOL : for (size_t i = 0; i < n; i++) b[i] =
                                             ((const uint8_t *)p)[i] != 0;
        break;
    case IA_DTYPE_FLOAT16:
        for (size_t i = 0; i < n; i++) b[i] = ia_f16_to_f32(((const uint16_t *)p)[i]);
        break;
    case IA_DTYPE_BFLOAT16:
        for (size_t i = 0; i < n; i++) b[i] = ia_bf16_to_f32(((const uint16_t *)p)[i]);
        break;
    default:
        break;
    }
}

static uint64_t d2u64(double v) {
    if (v >= 18446744073709551616.0) return UINT64_MAX;
    if (v >= 9223372036854775808.0) return (uint64_t)v;
    return (uint64_t)ew_d2i(v);
}

static void wr_d(enum ia_dtype t, void *p, const double *b, size_t n) {
    switch (t) {
    case IA_DTYPE_FLOAT32:
        for (size_t i = 0; i < n; i++) ((float *)p)[i] = (float)b[i];
        break;
    case IA_DTYPE_FLOAT64:
        memcpy(p, b, n * sizeof *b);
        break;
    case IA_DTYPE_FLOAT16:
        for (size_t i = 0; i < n; i++) ((uint16_t *)p)[i] = ia_f32_to_f16((float)b[i]);
        break;
    case IA_DTYPE_BFLOAT16:
        for (size_t i = 0; i < n; i++) ((uint16_t *)p)[i] = ia_f32_to_bf16((float)b[i]);
        break;
    case IA_DTYPE_BOOL:
        for (size_t i = 0; i < n; i++) ((uint8_t *)p)[i] = b[i] != 0;
        break;
    case IA_DTYPE_UINT64:
        for (size_t i = 0; i < n; i++) ((uint64_t *)p)[i] = d2u64(b[i]);
        break;
    default: {
        int64_t ib[CAST_BLK];
        for (size_t s = 0; s < n; s += CAST_BLK) {
            size_t m = n - s < CAST_BLK ? n - s : CAST_BLK;
            for (size_t i = 0; i < m; i++) ib[i] = ew_d2i(b[s + i]);
            wr_i(t, (char *)p + s * ia_dtype_size(t), ib, m);
        }
    }
    }
}

/* A STRING tensor's entries: `strings` when set, else the data array. */
static const struct ia_onnx_bytes *str_entries(const struct ia_tensor *t) {
    return t->strings ? t->strings : (const struct ia_onnx_bytes *)t->data;
}

static int from_string(struct ia_op_ctx *ctx, const struct ia_tensor *src, enum ia_dtype to,
                       void *dst) {
    const struct ia_onnx_bytes *s = str_entries(src);
    if (!s && src->numel) return ia_op_error(ctx, IA_EINVAL, "string input has no data");
    char buf[128];
    for (uint64_t i = 0; i < src->numel; i++) {
        size_t len = s[i].len < sizeof buf - 1 ? s[i].len : sizeof buf - 1;
        if (len) memcpy(buf, s[i].data, len);
        buf[len] = '\0';
        char *end;
        errno = 0;
        char *p = (char *)dst + i * ia_dtype_size(to);
        if (is_int(to) && to != IA_DTYPE_BOOL) {
            int64_t v;
            if (to == IA_DTYPE_UINT64)
                v = (int64_t)strtoull(buf, &end, 10);
            else
                v = strtoll(buf, &end, 10);
            if (end == buf) goto bad;
            wr_i(to, p, &v, 1);
        } else {
            double v = strtod(buf, &end);
            if (end == buf) goto bad;
            wr_d(to, p, &v, 1);
        }
        continue;
    bad:
        return ia_op_error(ctx, IA_EINVAL, "element %llu '%s' is not a number",
                           (unsigned long long)i, buf);
    }
    return IA_OK;
}

int ew_convert(struct ia_op_ctx *ctx, const struct ia_tensor *src, enum ia_dtype to, void *dst) {
    enum ia_dtype from = src->dtype;
    if (from == IA_DTYPE_STRING) return from_string(ctx, src, to, dst);
    size_t fs = ia_dtype_size(from), ts = ia_dtype_size(to);
    if (!fs || !ts)
        return ia_op_error(ctx, IA_EUNSUPPORTED, "cast from %s to %s is not supported",
                           ia_dtype_name(from), ia_dtype_name(to));
    if (src->numel && !src->data) return ia_op_error(ctx, IA_EINVAL, "input has no data");
    if (from == to) {
        if (src->numel && dst != src->data) memcpy(dst, src->data, src->numel * fs);
        return IA_OK;
    }
    int ints = is_int(from) && is_int(to);
    for (uint64_t s = 0; s < src->numel; s += CAST_BLK) {
        size_t m = src->numel - s < CAST_BLK ? (size_t)(src->numel - s) : CAST_BLK;
        const char *ip = (const char *)src->data + s * fs;
        char *op = (char *)dst + s * ts;
        if (ints) {
            int64_t b[CAST_BLK];
            rd_i(from, ip, b, m);
            wr_i(to, op, b, m);
        } else {
            double b[CAST_BLK];
            rd_d(from, ip, b, m);
            wr_d(to, op, b, m);
        }
    }
    return IA_OK;
}

/* Shortest "%.*g" that reads back to the same value at the source's
 * precision, with numpy's spelling of the specials and of whole numbers. */
static size_t num_to_str(double v, int is_f32, char *buf, size_t cap) {
    if (isnan(v)) return (size_t)snprintf(buf, cap, "NaN");
    if (isinf(v)) return (size_t)snprintf(buf, cap, v < 0 ? "-INF" : "INF");
    int n = 0, prec;
    for (prec = 1; prec <= 17; prec++) {
        n = snprintf(buf, cap, "%.*e", prec - 1, v);
        double back = strtod(buf, NULL);
        if (is_f32 ? (float)back == (float)v : back == v) break;
    }
    /* numpy prints positionally between 1e-4 and 1e16, else as above. */
    double a = fabs(v);
    if (a == 0 || (a >= 1e-4 && a < 1e16)) {
        const char *e = strchr(buf, 'e');
        int exp10 = e ? atoi(e + 1) : 0;
        int decimals = prec - 1 - exp10;
        n = snprintf(buf, cap, "%.*f", decimals > 0 ? decimals : 0, v);
        if (!strchr(buf, '.') && n + 2 < (int)cap) {
            memcpy(buf + n, ".0", 3);
            n += 2;
        }
    }
    return (size_t)n;
}

/* Number -> string: the text lives in scratch memory, which the engine
 * copies into the value's own block once compute returns. */
static int to_string(struct ia_op_ctx *ctx, const struct ia_tensor *src, struct ia_tensor *out) {
    enum { W = 40 }; /* 17 digits, sign, point, exponent or 4 leading zeros */
    if (!src->numel) return IA_OK;
    if (!ctx->scratch || !out->data || (src->numel && !src->data))
        return ia_op_error(ctx, IA_EINTERNAL, "cast to string needs scratch memory and data");
    uint64_t bytes;
    if (__builtin_mul_overflow(src->numel, (uint64_t)W, &bytes) || bytes > ((uint64_t)1 << 40))
        return ia_op_error(ctx, IA_ERANGE, "too many elements to print");
    char *text = ctx->scratch(ctx, (size_t)bytes);
    if (!text)
        return ia_op_error(ctx, IA_ENOMEM, "no scratch memory for %llu strings",
                           (unsigned long long)src->numel);
    struct ia_onnx_bytes *e = out->data;
    int f32 = src->dtype != IA_DTYPE_FLOAT64;
    double b[CAST_BLK];
    for (uint64_t s = 0; s < src->numel; s += CAST_BLK) {
        size_t m = src->numel - s < CAST_BLK ? (size_t)(src->numel - s) : CAST_BLK;
        const char *ip = (const char *)src->data + s * ia_dtype_size(src->dtype);
        if (is_int(src->dtype)) {
            int64_t ib[CAST_BLK];
            rd_i(src->dtype, ip, ib, m);
            for (size_t i = 0; i < m; i++) {
                char *t = text + (s + i) * W;
                int n = src->dtype == IA_DTYPE_UINT64
                            ? snprintf(t, W, "%llu", (unsigned long long)(uint64_t)ib[i])
                            : snprintf(t, W, "%lld", (long long)ib[i]);
                e[s + i].data = (const uint8_t *)t;
                e[s + i].len = (size_t)n;
            }
            continue;
        }
        rd_d(src->dtype, ip, b, m);
        for (size_t i = 0; i < m; i++) {
            char *t = text + (s + i) * W, tmp[W];
            size_t len = num_to_str(b[i], f32, tmp, sizeof tmp);
            if (len >= W) len = W - 1;
            memcpy(t, tmp, len);
            e[s + i].data = (const uint8_t *)t;
            e[s + i].len = len;
        }
    }
    return IA_OK;
}

static int cast_types(struct ia_op_ctx *ctx, enum ia_dtype from, enum ia_dtype to) {
    if (to == IA_DTYPE_UNDEFINED || to >= IA_DTYPE_COUNT)
        return ia_op_error(ctx, IA_EUNSUPPORTED, "target type is not supported");
    if ((from == IA_DTYPE_STRING || ia_dtype_size(from)) &&
        (to == IA_DTYPE_STRING || ia_dtype_size(to)))
        return IA_OK;
    return ia_op_error(ctx, IA_EUNSUPPORTED, "cast from %s to %s is not supported",
                       ia_dtype_name(from), ia_dtype_name(to));
}

static int cast_run(struct ia_op_ctx *ctx, enum ia_dtype to) {
    const struct ia_tensor *x = ctx->inputs[0];
    struct ia_tensor *out = ctx->outputs[0];
    if (to == IA_DTYPE_STRING && x->dtype != IA_DTYPE_STRING) return to_string(ctx, x, out);
    if (to == IA_DTYPE_STRING) {
        if (x->numel && out->data != x->data)
            memcpy(out->data, str_entries(x), x->numel * sizeof(struct ia_onnx_bytes));
        return IA_OK;
    }
    if (out->numel != x->numel) return ia_op_error(ctx, IA_EINVAL, "output size differs");
    if (!out->numel) return IA_OK;
    /* Float -> bfloat16 truncated the mantissa until opset 19 made the
     * rounding explicit (nearest even); the opset <= 18 reference data
     * expects the truncation. */
    if (to == IA_DTYPE_BFLOAT16 && ctx->opset < 19 && ew_is_float(x->dtype) &&
        x->dtype != IA_DTYPE_BFLOAT16) {
        if (!x->data) return ia_op_error(ctx, IA_EINVAL, "input has no data");
        uint16_t *o = out->data;
        for (uint64_t i = 0; i < x->numel; i++) {
            float f = (float)ia_tensor_get_f64(x, i);
            uint32_t bits;
            memcpy(&bits, &f, sizeof bits);
            o[i] = (uint16_t)(bits >> 16);
        }
        return IA_OK;
    }
    return ew_convert(ctx, x, to, out->data);
}

/* Opset 1 named the target type as a string ("FLOAT"). */
static const struct {
    const char *name;
    enum ia_dtype t;
} cast_names[] = {
    {"FLOAT", IA_DTYPE_FLOAT32},  {"FLOAT16", IA_DTYPE_FLOAT16}, {"BFLOAT16", IA_DTYPE_BFLOAT16},
    {"DOUBLE", IA_DTYPE_FLOAT64}, {"INT8", IA_DTYPE_INT8},       {"INT16", IA_DTYPE_INT16},
    {"INT32", IA_DTYPE_INT32},    {"INT64", IA_DTYPE_INT64},     {"UINT8", IA_DTYPE_UINT8},
    {"UINT16", IA_DTYPE_UINT16},  {"UINT32", IA_DTYPE_UINT32},   {"UINT64", IA_DTYPE_UINT64},
    {"BOOL", IA_DTYPE_BOOL},      {"STRING", IA_DTYPE_STRING},
};

static int cast_to(struct ia_op_ctx *ctx, enum ia_dtype *to) {
    const struct ia_onnx_attr *a = ia_attr_find(ctx->node, "to");
    if (a && a->type == IA_ONNX_ATTR_STRING) {
        char buf[16];
        ia_attr_string(ctx->node, "to", buf, sizeof buf, "");
        for (size_t i = 0; i < sizeof cast_names / sizeof cast_names[0]; i++)
            if (!strcmp(buf, cast_names[i].name)) {
                *to = cast_names[i].t;
                return IA_OK;
            }
        return ia_op_error(ctx, IA_EUNSUPPORTED, "target type '%s' is not supported", buf);
    }
    if (!a || a->type != IA_ONNX_ATTR_INT)
        return ia_op_error(ctx, IA_EINVAL, "attribute 'to' is missing");
    if (a->i < INT32_MIN || a->i > INT32_MAX ||
        (*to = ia_onnx_dtype_from_proto((int32_t)a->i)) == IA_DTYPE_UNDEFINED)
        return ia_op_error(ctx, IA_EUNSUPPORTED, "target type %lld is not supported",
                           (long long)a->i);
    return IA_OK;
}

static int Cast_infer(struct ia_op_ctx *ctx) {
    enum ia_dtype to = IA_DTYPE_UNDEFINED;
    int rc = ew_need_inputs(ctx, 1, 1);
    if (!rc) rc = cast_to(ctx, &to);
    if (!rc) rc = cast_types(ctx, ctx->inputs[0]->dtype, to);
    return rc ? rc : ew_infer_same(ctx, to);
}
static int Cast_compute(struct ia_op_ctx *ctx) {
    enum ia_dtype to = IA_DTYPE_UNDEFINED;
    int rc = cast_to(ctx, &to);
    return rc ? rc : cast_run(ctx, to);
}

static int CastLike_infer(struct ia_op_ctx *ctx) {
    int rc = ew_need_inputs(ctx, 2, 2);
    if (!rc) rc = cast_types(ctx, ctx->inputs[0]->dtype, ctx->inputs[1]->dtype);
    return rc ? rc : ew_infer_same(ctx, ctx->inputs[1]->dtype);
}
static int CastLike_compute(struct ia_op_ctx *ctx) { return cast_run(ctx, ctx->inputs[1]->dtype); }

// clang-format off
const struct ia_op_def ia_op_Cast = {"", "Cast", 1, 0, Cast_infer, Cast_compute};
const struct ia_op_def ia_op_CastLike = {"", "CastLike", 15, 0, CastLike_infer, CastLike_compute};
// clang-format on
