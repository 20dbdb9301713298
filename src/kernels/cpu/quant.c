/* Linear quantization: QuantizeLinear, DequantizeLinear (opsets 10-17),
 * DynamicQuantizeLinear (11).
 *
 *   QuantizeLinear:   y = saturate(round_half_even(x / scale) + zero_point)
 *   DequantizeLinear: y = (x - zero_point) * scale
 * scale and zero_point are either one value (per tensor) or, from opset 13,
 * a 1-D tensor along `axis` (default 1) of x. The quantized type is the
 * zero point's (uint8 when it is absent): uint8, int8, uint16 or int16, and
 * int32 for DequantizeLinear's input (whose zero point must then be 0).
 * Arithmetic is in float32 like onnxruntime's; a NaN input quantizes to the
 * zero point. */
#include <math.h>
#include <string.h>

#include "ia/kernels.h"

static const struct ia_tensor *in_opt(const struct ia_op_ctx *ctx, size_t i) {
    return i < ctx->n_inputs ? ctx->inputs[i] : NULL;
}

/* Representable range of a quantized type; 0 when the type is not one. */
static int q_range(enum ia_dtype t, int allow_i32, float *lo, float *hi) {
    switch (t) {
    case IA_DTYPE_UINT8:
        *lo = 0, *hi = 255;
        return 1;
    case IA_DTYPE_INT8:
        *lo = -128, *hi = 127;
        return 1;
    case IA_DTYPE_UINT16:
        *lo = 0, *hi = 65535;
        return 1;
    case IA_DTYPE_INT16:
        *lo = -32768, *hi = 32767;
        return 1;
    case IA_DTYPE_INT32:
        *lo = -2147483648.0f, *hi = 2147483520.0f;
        return allow_i32;
    default:
        return 0;
    }
}

static int is_floatish(enum ia_dtype t) {
    return t == IA_DTYPE_FLOAT32 || t == IA_DTYPE_FLOAT16 || t == IA_DTYPE_BFLOAT16 ||
           t == IA_DTYPE_FLOAT64;
}

/* How scale / zero point map onto x: x viewed as (outer, ch, inner); a
 * per-tensor parameter has ch_params = 0. */
struct qlayout {
    uint64_t outer, ch, inner;
    int per_axis;
};

static int q_layout(struct ia_op_ctx *ctx, const struct ia_tensor *x, const struct ia_tensor *scale,
                    const struct ia_tensor *zp, struct qlayout *L) {
    memset(L, 0, sizeof *L);
    L->outer = x->numel;
    L->ch = 1;
    L->inner = 1;
    char a[128], b[128];
    if (zp) {
        if (!ia_tensor_same_shape(scale, zp))
            return ia_op_error(ctx, IA_EINVAL, "scale %s and zero point %s differ in shape",
                               ia_tensor_describe(scale, a, sizeof a),
                               ia_tensor_describe(zp, b, sizeof b));
    }
    if (scale->numel == 1 && scale->rank <= 1) return IA_OK;
    if (scale->rank != 1 || ctx->opset < 13)
        return ia_op_error(ctx, IA_EINVAL, "scale %s must be a scalar%s",
                           ia_tensor_describe(scale, a, sizeof a),
                           ctx->opset < 13 ? "" : " or a 1-D tensor along axis");
    int axis;
    int rc = ia_norm_axis(ctx, ia_attr_int(ctx->node, "axis", 1), x->rank, &axis);
    if (rc) return rc;
    if (x->rank == 0 || x->dims[axis] != scale->dims[0])
        return ia_op_error(ctx, IA_EINVAL, "scale %s does not match axis %d of x %s",
                           ia_tensor_describe(scale, a, sizeof a), axis,
                           ia_tensor_describe(x, b, sizeof b));
    L->per_axis = 1;
    L->outer = 1;
    for (int i = 0; i < axis; i++) L->outer *= (uint64_t)x->dims[i];
    L->ch = (uint64_t)x->dims[axis];
    for (int i = axis + 1; i < x->rank; i++) L->inner *= (uint64_t)x->dims[i];
    return IA_OK;
}

static int ql_infer(struct ia_op_ctx *ctx) {
    const struct ia_tensor *x = in_opt(ctx, 0), *s = in_opt(ctx, 1), *zp = in_opt(ctx, 2);
    if (!x || !s) return ia_op_error(ctx, IA_EINVAL, "x and y_scale are required");
    if (!is_floatish(x->dtype) && x->dtype != IA_DTYPE_INT32)
        return ia_op_error(ctx, IA_EINVAL, "x must be a float or int32 tensor, not %s",
                           ia_dtype_name(x->dtype));
    if (!is_floatish(s->dtype))
        return ia_op_error(ctx, IA_EINVAL, "y_scale must be a float tensor, not %s",
                           ia_dtype_name(s->dtype));
    enum ia_dtype qt = zp ? zp->dtype : IA_DTYPE_UINT8;
    float lo = 0, hi = 0;
    if (!q_range(qt, 0, &lo, &hi))
        return ia_op_error(ctx, IA_EUNSUPPORTED, "cannot quantize to %s", ia_dtype_name(qt));
    struct qlayout L;
    int rc = q_layout(ctx, x, s, zp, &L);
    if (rc) return rc;
    return ia_tensor_set_shape(ctx->outputs[0], qt, x->rank, x->dims);
}

static void q_store(void *out, enum ia_dtype t, uint64_t i, float v) {
    switch (t) {
    case IA_DTYPE_UINT8:
        ((uint8_t *)out)[i] = (uint8_t)v;
        break;
    case IA_DTYPE_INT8:
        ((int8_t *)out)[i] = (int8_t)v;
        break;
    case IA_DTYPE_UINT16:
        ((uint16_t *)out)[i] = (uint16_t)v;
        break;
    case IA_DTYPE_INT16:
        ((int16_t *)out)[i] = (int16_t)v;
        break;
    default:
        break;
    }
}

static int ql_compute(struct ia_op_ctx *ctx) {
    const struct ia_tensor *x = ctx->inputs[0], *s = ctx->inputs[1], *zp = in_opt(ctx, 2);
    struct ia_tensor *y = ctx->outputs[0];
    struct qlayout L;
    int rc = q_layout(ctx, x, s, zp, &L);
    if (rc) return rc;
    float lo = 0, hi = 0;
    q_range(y->dtype, 0, &lo, &hi);
    for (uint64_t c = 0; c < L.ch; c++) {
        float scale = (float)ia_tensor_get_f64(s, c);
        float z = zp ? (float)ia_tensor_get_i64(zp, c) : 0.0f;
        if (!(scale != 0) || isnan(scale))
            return ia_op_error(ctx, IA_EINVAL, "y_scale[%llu] is %g", (unsigned long long)c,
                               (double)scale);
        for (uint64_t o = 0; o < L.outer; o++) {
            uint64_t base = (o * L.ch + c) * L.inner;
            for (uint64_t i = base; i < base + L.inner; i++) {
                float xv = x->dtype == IA_DTYPE_FLOAT32 ? ((const float *)x->data)[i]
                                                        : (float)ia_tensor_get_f64(x, i);
                float v = rintf(xv / scale);
                v = isnan(v) ? z : v + z;
                v = v < lo ? lo : v > hi ? hi : v;
                q_store(y->data, y->dtype, i, v);
            }
        }
    }
    return IA_OK;
}

static int dql_infer(struct ia_op_ctx *ctx) {
    const struct ia_tensor *x = in_opt(ctx, 0), *s = in_opt(ctx, 1), *zp = in_opt(ctx, 2);
    if (!x || !s) return ia_op_error(ctx, IA_EINVAL, "x and x_scale are required");
    float lo = 0, hi = 0;
    if (!q_range(x->dtype, 1, &lo, &hi))
        return ia_op_error(ctx, IA_EUNSUPPORTED, "cannot dequantize %s", ia_dtype_name(x->dtype));
    if (zp && zp->dtype != x->dtype)
        return ia_op_error(ctx, IA_EINVAL, "x_zero_point is %s but x is %s",
                           ia_dtype_name(zp->dtype), ia_dtype_name(x->dtype));
    if (s->dtype != IA_DTYPE_FLOAT32 && s->dtype != IA_DTYPE_FLOAT16 &&
        s->dtype != IA_DTYPE_BFLOAT16)
        return ia_op_error(ctx, IA_EINVAL, "x_scale must be float32, float16 or bfloat16, not %s",
                           ia_dtype_name(s->dtype));
    struct qlayout L;
    int rc = q_layout(ctx, x, s, zp, &L);
    if (rc) return rc;
    return ia_tensor_set_shape(ctx->outputs[0], s->dtype, x->rank, x->dims);
}

static int dql_compute(struct ia_op_ctx *ctx) {
    const struct ia_tensor *x = ctx->inputs[0], *s = ctx->inputs[1], *zp = in_opt(ctx, 2);
    struct ia_tensor *y = ctx->outputs[0];
    struct qlayout L;
    int rc = q_layout(ctx, x, s, zp, &L);
    if (rc) return rc;
    for (uint64_t c = 0; c < L.ch; c++) {
        float scale = (float)ia_tensor_get_f64(s, c);
        int64_t z = zp ? ia_tensor_get_i64(zp, c) : 0;
        if (x->dtype == IA_DTYPE_INT32 && z != 0)
            return ia_op_error(ctx, IA_EINVAL, "an int32 x needs a zero point of 0, not %lld",
                               (long long)z);
        for (uint64_t o = 0; o < L.outer; o++) {
            uint64_t base = (o * L.ch + c) * L.inner;
            for (uint64_t i = base; i < base + L.inner; i++) {
                float v = (float)(ia_tensor_get_i64(x, i) - z) * scale;
                if (y->dtype == IA_DTYPE_FLOAT32)
                    ((float *)y->data)[i] = v;
                else if (y->dtype == IA_DTYPE_FLOAT16)
                    ((uint16_t *)y->data)[i] = ia_f32_to_f16(v);
                else
                    ((uint16_t *)y->data)[i] = ia_f32_to_bf16(v);
            }
        }
    }
    return IA_OK;
}

static int dyn_infer(struct ia_op_ctx *ctx) {
    const struct ia_tensor *x = in_opt(ctx, 0);
    if (!x) return ia_op_error(ctx, IA_EINVAL, "x is required");
    if (x->dtype != IA_DTYPE_FLOAT32)
        return ia_op_error(ctx, IA_EINVAL, "x must be float32, not %s", ia_dtype_name(x->dtype));
    if (ctx->n_outputs != 3) return ia_op_error(ctx, IA_EINVAL, "3 outputs expected");
    int rc = IA_OK;
    if (ctx->outputs[0])
        rc = ia_tensor_set_shape(ctx->outputs[0], IA_DTYPE_UINT8, x->rank, x->dims);
    if (rc == IA_OK && ctx->outputs[1])
        rc = ia_tensor_set_shape(ctx->outputs[1], IA_DTYPE_FLOAT32, 0, NULL);
    if (rc == IA_OK && ctx->outputs[2])
        rc = ia_tensor_set_shape(ctx->outputs[2], IA_DTYPE_UINT8, 0, NULL);
    return rc;
}

/* The range always includes 0 so that 0 is exact; a range of width 0 (all
 * zeros, or empty) gets scale 1 as in onnxruntime. */
static int dyn_compute(struct ia_op_ctx *ctx) {
    const struct ia_tensor *x = ctx->inputs[0];
    const float *xv = x->data;
    float mn = 0, mx = 0;
    for (uint64_t i = 0; i < x->numel; i++) {
        if (xv[i] < mn) mn = xv[i];
        if (xv[i] > mx) mx = xv[i];
    }
    if (!isfinite(mn) || !isfinite(mx))
        return ia_op_error(ctx, IA_EINVAL, "x holds an infinite value");
    float scale = mx == mn ? 1.0f : (mx - mn) / 255.0f;
    float zp = rintf(-mn / scale);
    zp = zp < 0 ? 0 : zp > 255 ? 255 : zp;
    if (ctx->outputs[0]) {
        uint8_t *y = ctx->outputs[0]->data;
        for (uint64_t i = 0; i < x->numel; i++) {
            float v = rintf(xv[i] / scale);
            v = isnan(v) ? zp : v + zp;
            y[i] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
    }
    if (ctx->outputs[1]) *(float *)ctx->outputs[1]->data = scale;
    if (ctx->outputs[2]) *(uint8_t *)ctx->outputs[2]->data = (uint8_t)zp;
    return IA_OK;
}

// clang-format off
const struct ia_op_def ia_op_QuantizeLinear = {"", "QuantizeLinear", 10, 0, ql_infer, ql_compute};
const struct ia_op_def ia_op_DequantizeLinear = {"", "DequantizeLinear", 10, 0, dql_infer, dql_compute};
const struct ia_op_def ia_op_DynamicQuantizeLinear = {"", "DynamicQuantizeLinear", 11, 0, dyn_infer, dyn_compute};
// clang-format on
