/*
 * Helpers shared by the neural-network kernels (matmul.c, conv.c, pool.c,
 * norm.c, softmax.c). Private to those files.
 *
 * Those kernels compute in float32. An input of another floating dtype
 * (float16, bfloat16, float64) is widened or narrowed into float32 scratch
 * memory first, and the float32 result is converted into the output, so
 * each op has one float32 path. float64 therefore runs at float32
 * precision (well inside the suites' rtol 1e-3).
 */
#ifndef IA_KERNELS_NN_UTIL_H
#define IA_KERNELS_NN_UTIL_H

#include "ew_internal.h"
#include "sh_common.h"

static inline int nn_is_float(enum ia_dtype t) {
    return t == IA_DTYPE_FLOAT32 || t == IA_DTYPE_FLOAT64 || t == IA_DTYPE_FLOAT16 ||
           t == IA_DTYPE_BFLOAT16;
}

/* Error unless t is a floating tensor; `what` names it. */
static inline int nn_need_float(const struct ia_op_ctx *ctx, const struct ia_tensor *t,
                                const char *what) {
    if (nn_is_float(t->dtype)) return IA_OK;
    return ia_op_error(ctx, IA_EUNSUPPORTED, "%s has type %s; a floating type is needed", what,
                       ia_dtype_name(t->dtype));
}

/* Scratch memory for n floats (n may be 0); NULL after setting an error. */
static inline float *nn_scratch_f32(struct ia_op_ctx *ctx, uint64_t n) {
    if (n > ((uint64_t)1 << 44) / sizeof(float)) {
        ia_op_error(ctx, IA_ERANGE, "%llu floats of scratch memory are too many",
                    (unsigned long long)n);
        return NULL;
    }
    float *p = ctx->scratch ? ctx->scratch(ctx, (size_t)(n ? n : 1) * sizeof(float)) : NULL;
    if (!p) ia_op_error(ctx, IA_ENOMEM, "no scratch memory for %llu floats", (unsigned long long)n);
    return p;
}

/* t's elements as float32: its own data when it is float32, else a
 * converted copy in scratch memory. */
static inline int nn_f32_in(struct ia_op_ctx *ctx, const struct ia_tensor *t, const float **out) {
    if (t->dtype == IA_DTYPE_FLOAT32) {
        *out = (const float *)t->data;
        return IA_OK;
    }
    float *p = nn_scratch_f32(ctx, t->numel);
    if (!p) return IA_ENOMEM;
    int rc = ew_convert(ctx, t, IA_DTYPE_FLOAT32, p);
    *out = p;
    return rc;
}

/* Where the float32 result for `t` goes: its data when float32, else
 * scratch (nn_f32_out_done converts it into t). */
static inline int nn_f32_out(struct ia_op_ctx *ctx, struct ia_tensor *t, float **out) {
    if (t->dtype == IA_DTYPE_FLOAT32) {
        *out = (float *)t->data;
        return IA_OK;
    }
    *out = nn_scratch_f32(ctx, t->numel);
    return *out ? IA_OK : IA_ENOMEM;
}

static inline int nn_f32_out_done(struct ia_op_ctx *ctx, struct ia_tensor *t, const float *buf) {
    if (t->dtype == IA_DTYPE_FLOAT32) return IA_OK;
    struct ia_tensor src = *t;
    src.dtype = IA_DTYPE_FLOAT32;
    src.data = (void *)buf;
    return ew_convert(ctx, &src, t->dtype, t->data);
}

/* ---- sliding-window geometry (Conv, ConvTranspose, pools; conv.c) ------------ */

#define NN_MAX_SPATIAL (IA_MAX_RANK - 2)

/* Input [N, C, in...]; per spatial dim: kernel k, stride s, dilation d,
 * pads before/after (pb may be negative for ConvTranspose's output_shape)
 * and the output size. */
struct nn_geom {
    int S;
    int64_t N, C;
    int64_t in[NN_MAX_SPATIAL], k[NN_MAX_SPATIAL], s[NN_MAX_SPATIAL], d[NN_MAX_SPATIAL];
    int64_t pb[NN_MAX_SPATIAL], pe[NN_MAX_SPATIAL], out[NN_MAX_SPATIAL];
    uint64_t insz, outsz, ksz; /* products over the spatial dims */
};

/* Reads kernel_shape (must equal kdims when kdims is given; required when
 * it is NULL), strides, dilations, pads and auto_pad, and sets the output
 * size the Conv/pool way: floor, or ceil when ceil_mode (the last window
 * must start inside the input or its left padding). */
int nn_geom_init(struct ia_op_ctx *ctx, const struct ia_tensor *x, const int64_t *kdims,
                 int ceil_mode, struct nn_geom *g);

#endif
