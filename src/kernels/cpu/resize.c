/* Resize (opsets 10 to 18) and Upsample (7, 9).
 *
 * Each axis gets, per output coordinate, up to four (source index, weight)
 * taps worked out from the coordinate transformation and the mode, as the
 * ONNX reference does it: the original coordinate x, its neighbours (edge
 * values repeat past the border), and nearest / linear / cubic weights.
 * Interpolation is separable, so the axes are applied one after another
 * through double buffers; nearest mode instead copies elements of any dtype
 * directly. tf_crop_and_resize gives extrapolation_value wherever a
 * coordinate falls outside the input on any axis. */
#include "sh_common.h"

#include <math.h>

enum rz_mode { RZ_NEAREST, RZ_LINEAR, RZ_CUBIC };
enum rz_ctm {
    CTM_HALF_PIXEL,
    CTM_PYTORCH_HALF_PIXEL,
    CTM_ALIGN_CORNERS,
    CTM_ASYMMETRIC,
    CTM_TF_CROP_AND_RESIZE,
    CTM_HALF_PIXEL_SYMMETRIC,
    CTM_TF_HALF_PIXEL
};
enum rz_nearest { NM_ROUND_PREFER_FLOOR, NM_ROUND_PREFER_CEIL, NM_FLOOR, NM_CEIL, NM_SIMPLE };

struct rz_plan {
    int rank;
    int64_t in[IA_MAX_RANK], out[IA_MAX_RANK];
    double scale[IA_MAX_RANK];
    double roi_lo[IA_MAX_RANK], roi_hi[IA_MAX_RANK];
    enum rz_mode mode;
    enum rz_ctm ctm;
    enum rz_nearest nm;
    double cubic_a, extrapolation;
    int exclude_outside;
};

static int parse_choice(struct ia_op_ctx *ctx, const char *attr, const char *dflt,
                        const char *const *names, int n, int *out) {
    char buf[40];
    const char *s = ia_attr_string(ctx->node, attr, buf, sizeof buf, dflt);
    for (int i = 0; i < n; i++)
        if (!strcmp(s, names[i])) {
            *out = i;
            return IA_OK;
        }
    return ia_op_error(ctx, IA_EINVAL, "unknown %s '%s'", attr, s);
}

/* Reads a float tensor (float32/float64/float16) into out. */
static int read_floats(struct ia_op_ctx *ctx, const struct ia_tensor *t, const char *what,
                       double *out, size_t cap, size_t *n) {
    if (t->numel > cap)
        return ia_op_error(ctx, IA_EINVAL, "%s has %llu values", what,
                           (unsigned long long)t->numel);
    if (t->dtype != IA_DTYPE_FLOAT32 && t->dtype != IA_DTYPE_FLOAT64 &&
        t->dtype != IA_DTYPE_FLOAT16)
        return ia_op_error(ctx, IA_EINVAL, "%s must be floating point", what);
    if (!t->data && t->numel) return IA_EAGAIN;
    for (uint64_t i = 0; i < t->numel; i++) out[i] = sh_get_f64(t->data, t->dtype, i);
    *n = (size_t)t->numel;
    return IA_OK;
}

static int rz_plan(struct ia_op_ctx *ctx, int upsample, struct rz_plan *p) {
    const struct ia_tensor *x = sh_in(ctx, 0);
    int rc, v = 0;
    p->rank = x->rank;
    for (int k = 0; k < x->rank; k++) {
        p->in[k] = x->dims[k];
        p->roi_lo[k] = 0;
        p->roi_hi[k] = 1;
    }
    static const char *const modes[] = {"nearest", "linear", "cubic"};
    static const char *const ctms[] = {
        "half_pixel",         "pytorch_half_pixel",   "align_corners",       "asymmetric",
        "tf_crop_and_resize", "half_pixel_symmetric", "tf_half_pixel_for_nn"};
    static const char *const nms[] = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"};
    if ((rc = parse_choice(ctx, "mode", "nearest", modes, upsample || ctx->opset < 11 ? 2 : 3, &v)))
        return rc;
    p->mode = (enum rz_mode)v;
    int legacy = upsample || ctx->opset < 11;
    if (legacy) {
        p->ctm = CTM_ASYMMETRIC;
        p->nm = NM_SIMPLE;
    } else {
        if ((rc = parse_choice(ctx, "coordinate_transformation_mode", "half_pixel", ctms, 7, &v)))
            return rc;
        p->ctm = (enum rz_ctm)v;
        if ((rc = parse_choice(ctx, "nearest_mode", "round_prefer_floor", nms, 4, &v))) return rc;
        p->nm = (enum rz_nearest)v;
    }
    p->cubic_a = ia_attr_float(ctx->node, "cubic_coeff_a", -0.75f);
    p->exclude_outside = ia_attr_int(ctx->node, "exclude_outside", 0) != 0;
    p->extrapolation = ia_attr_float(ctx->node, "extrapolation_value", 0.0f);
    if (ia_attr_int(ctx->node, "antialias", 0))
        return ia_op_error(ctx, IA_EUNSUPPORTED, "antialias is not supported");

    /* Which axes the scales/sizes/roi name (opset 18), default all. */
    int axes[IA_MAX_RANK], na = x->rank;
    const int64_t *aa;
    size_t nax = ia_attr_ints(ctx->node, "axes", &aa);
    if (aa) {
        if ((rc = sh_norm_axes(ctx, aa, nax, x->rank, axes))) return rc;
        for (size_t i = 0; i < nax; i++) /* keep the given order for matching values */
            axes[i] = (int)(aa[i] < 0 ? aa[i] + x->rank : aa[i]);
        na = (int)nax;
    } else {
        for (int k = 0; k < na; k++) axes[k] = k;
    }

    double scales[IA_MAX_RANK], roi[2 * IA_MAX_RANK];
    int64_t sizes[IA_MAX_RANK];
    size_t ns = 0, nz = 0, nr = 0;
    const struct ia_tensor *ts = NULL, *tz = NULL, *tr = NULL;
    if (upsample && ctx->opset < 9) {
        const float *f;
        ns = ia_attr_floats(ctx->node, "scales", &f);
        if (!f || ns > IA_MAX_RANK) return ia_op_error(ctx, IA_EINVAL, "bad scales attribute");
        for (size_t i = 0; i < ns; i++) scales[i] = f[i];
    } else if (legacy) {
        ts = sh_in(ctx, 1);
        if (!ts) return ia_op_error(ctx, IA_EINVAL, "needs scales");
    } else {
        tr = sh_in(ctx, 1);
        ts = sh_in(ctx, 2);
        tz = sh_in(ctx, 3);
    }
    if (ts && (rc = read_floats(ctx, ts, "scales", scales, IA_MAX_RANK, &ns))) return rc;
    if (tz && (rc = sh_read_i64s(ctx, tz, "sizes", sizes, IA_MAX_RANK, &nz))) return rc;
    if (tr && p->ctm == CTM_TF_CROP_AND_RESIZE &&
        (rc = read_floats(ctx, tr, "roi", roi, 2 * IA_MAX_RANK, &nr)))
        return rc;
    if ((ns > 0) == (nz > 0))
        return ia_op_error(ctx, IA_EINVAL, "exactly one of scales and sizes must be given");
    if ((ns && (int)ns != na) || (nz && (int)nz != na))
        return ia_op_error(ctx, IA_EINVAL, "scales/sizes have %zu values for %d axes", ns ? ns : nz,
                           na);
    if (p->ctm == CTM_TF_CROP_AND_RESIZE) {
        if ((int)nr != 2 * na)
            return ia_op_error(ctx, IA_EINVAL, "roi needs %d values, has %zu", 2 * na, nr);
        for (int i = 0; i < na; i++) {
            p->roi_lo[axes[i]] = roi[i];
            p->roi_hi[axes[i]] = roi[na + i];
        }
    }
    for (int k = 0; k < x->rank; k++) {
        p->out[k] = x->dims[k];
        p->scale[k] = 1;
    }
    if (ns) {
        for (int i = 0; i < na; i++) {
            double s = scales[i];
            if (!(s > 0) || s > 1e6) return ia_op_error(ctx, IA_EINVAL, "scale %g", s);
            int k = axes[i];
            p->scale[k] = s;
            double o = floor(s * (double)x->dims[k]);
            if (o > (double)((int64_t)1 << 40))
                return ia_op_error(ctx, IA_ERANGE, "scale %g makes axis %d too long", s, k);
            p->out[k] = (int64_t)o;
        }
    } else {
        char buf[24];
        const char *pol =
            ia_attr_string(ctx->node, "keep_aspect_ratio_policy", buf, sizeof buf, "stretch");
        int notlarger = !strcmp(pol, "not_larger"), notsmaller = !strcmp(pol, "not_smaller");
        if (!notlarger && !notsmaller && strcmp(pol, "stretch"))
            return ia_op_error(ctx, IA_EINVAL, "keep_aspect_ratio_policy '%s'", pol);
        double common = notlarger ? INFINITY : 0;
        for (int i = 0; i < na; i++) {
            if (sizes[i] < 0 || sizes[i] > ((int64_t)1 << 40))
                return ia_op_error(ctx, IA_EINVAL, "size %lld", (long long)sizes[i]);
            int k = axes[i];
            if (x->dims[k] == 0) return ia_op_error(ctx, IA_EINVAL, "cannot resize an empty axis");
            double s = (double)sizes[i] / (double)x->dims[k];
            if (notlarger && s < common) common = s;
            if (notsmaller && s > common) common = s;
            p->scale[k] = s;
            p->out[k] = sizes[i];
        }
        if (notlarger || notsmaller)
            for (int i = 0; i < na; i++) {
                int k = axes[i];
                double o = floor(common * (double)x->dims[k] + 0.5);
                if (o > (double)((int64_t)1 << 40))
                    return ia_op_error(ctx, IA_ERANGE, "axis %d would be too long", k);
                p->scale[k] = common;
                p->out[k] = (int64_t)o;
            }
    }
    return IA_OK;
}

/* Original coordinate of output coordinate o along axis k; *outside set
 * when tf_crop_and_resize falls off the input. */
static double rz_coord(const struct rz_plan *p, int k, int64_t o, int *outside) {
    double s = p->scale[k], in = (double)p->in[k], x = (double)o;
    double out_w = s * in; /* the reference uses the unrounded length */
    *outside = 0;
    switch (p->ctm) {
    case CTM_HALF_PIXEL:
        return (x + 0.5) / s - 0.5;
    case CTM_HALF_PIXEL_SYMMETRIC: {
        double adj = (double)p->out[k] / out_w, c = in / 2 * (1 - adj);
        return c + (x + 0.5) / s - 0.5;
    }
    case CTM_PYTORCH_HALF_PIXEL:
        return out_w > 1 ? (x + 0.5) / s - 0.5 : -0.5;
    case CTM_ALIGN_CORNERS:
        return out_w == 1 ? 0 : x * (in - 1) / (out_w - 1);
    case CTM_ASYMMETRIC:
        return x / s;
    case CTM_TF_HALF_PIXEL:
        return (x + 0.5) / s;
    case CTM_TF_CROP_AND_RESIZE: {
        double lo = p->roi_lo[k], hi = p->roi_hi[k], r;
        if (out_w == 1)
            r = (hi - lo) * (in - 1) / 2;
        else
            r = x * (hi - lo) * (in - 1) / (out_w - 1);
        r += lo * (in - 1);
        if (r < 0 || r > in - 1) *outside = 1;
        return r;
    }
    }
    return x / s;
}

static int64_t clampi(int64_t v, int64_t hi) { return v < 0 ? 0 : v > hi ? hi : v; }

/* Nearest source index for coordinate x. */
static int64_t rz_nearest(const struct rz_plan *p, int k, double x) {
    double f = floor(x), r = x - f;
    int64_t i;
    if (r == 0)
        i = (int64_t)f;
    else
        switch (p->nm) {
        case NM_ROUND_PREFER_FLOOR:
            i = (int64_t)(r <= 0.5 ? f : f + 1);
            break;
        case NM_ROUND_PREFER_CEIL:
            i = (int64_t)(r < 0.5 ? f : f + 1);
            break;
        case NM_FLOOR:
            i = (int64_t)f;
            break;
        case NM_CEIL:
            i = (int64_t)f + 1;
            break;
        default:
            i = (int64_t)(p->scale[k] < 1 ? ceil(x) : f);
            break; /* opset 10 / Upsample */
        }
    return clampi(i, p->in[k] - 1);
}

struct taps {
    int n;            /* taps per output coordinate */
    int64_t *idx;     /* (out, n) source indices, clamped */
    double *w;        /* (out, n) */
    uint8_t *outside; /* (out) */
};

static void rz_taps(const struct rz_plan *p, int k, struct taps *t) {
    int64_t last = p->in[k] - 1;
    for (int64_t o = 0; o < p->out[k]; o++) {
        int outside;
        double x = rz_coord(p, k, o, &outside);
        int64_t *ix = t->idx + o * t->n;
        double *w = t->w + o * t->n;
        t->outside[o] = (uint8_t)outside;
        if (x != x || x > 1e15 || x < -1e15) x = 0;
        if (p->mode == RZ_NEAREST) {
            ix[0] = rz_nearest(p, k, x);
            w[0] = 1;
            continue;
        }
        double f = floor(x), r = x - f;
        int64_t fi = (int64_t)f;
        if (p->mode == RZ_LINEAR) {
            int64_t raw[2] = {fi, fi + 1};
            w[0] = 1 - r;
            w[1] = r;
            for (int j = 0; j < 2; j++) ix[j] = raw[j];
        } else {
            double A = p->cubic_a, s = r + 1, q = 1 - r, u = 2 - r;
            w[0] = ((A * s - 5 * A) * s + 8 * A) * s - 4 * A;
            w[1] = ((A + 2) * r - (A + 3)) * r * r + 1;
            w[2] = ((A + 2) * q - (A + 3)) * q * q + 1;
            w[3] = ((A * u - 5 * A) * u + 8 * A) * u - 4 * A;
            for (int j = 0; j < 4; j++) ix[j] = fi - 1 + j;
        }
        if (p->exclude_outside) {
            double sum = 0;
            for (int j = 0; j < t->n; j++) {
                if (ix[j] < 0 || ix[j] > last) w[j] = 0;
                sum += w[j];
            }
            if (sum != 0)
                for (int j = 0; j < t->n; j++) w[j] /= sum;
        }
        for (int j = 0; j < t->n; j++) ix[j] = clampi(ix[j], last);
    }
}

/* Nearest for 4-byte elements without extrapolation, a row (last axis) at
 * a time: a row repeats the one before when it has the same source row
 * (upsampling), else it gathers through the last axis's taps. */
static void nearest_rows(const struct rz_plan *p, const struct taps *t, const struct ia_tensor *x,
                         struct ia_tensor *y) {
    int r = p->rank;
    int64_t W = p->out[r - 1], xs[IA_MAX_RANK], o[IA_MAX_RANK] = {0}, prev = -1;
    sh_strides(r, x->dims, 1, xs);
    const uint32_t *src = (const uint32_t *)sh_src(x);
    const int64_t *ix = t[r - 1].idx;
    uint32_t *dst = (uint32_t *)sh_dst(y);
    uint64_t rows = y->numel / (uint64_t)W;
    for (uint64_t row = 0; row < rows; row++) {
        int64_t off = 0;
        for (int k = 0; k < r - 1; k++) off += t[k].idx[o[k]] * xs[k];
        uint32_t *d = dst + row * (uint64_t)W;
        if (off == prev) {
            memcpy(d, d - W, (size_t)W * sizeof *d);
        } else {
            const uint32_t *s = src + off;
            for (int64_t i = 0; i < W; i++) d[i] = s[ix[i]];
        }
        prev = off;
        for (int k = r - 2; k >= 0; k--) {
            if (++o[k] < p->out[k]) break;
            o[k] = 0;
        }
    }
}

static int rz_infer_(struct ia_op_ctx *ctx, int upsample) {
    struct rz_plan p;
    int rc = rz_plan(ctx, upsample, &p);
    if (rc) return rc;
    return ia_tensor_set_shape(sh_out(ctx, 0), sh_in(ctx, 0)->dtype, p.rank, p.out);
}

static int rz_compute_(struct ia_op_ctx *ctx, int upsample) {
    struct rz_plan p;
    int rc = rz_plan(ctx, upsample, &p);
    if (rc) return rc;
    const struct ia_tensor *x = sh_in(ctx, 0);
    struct ia_tensor *y = sh_out(ctx, 0);
    int r = p.rank;
    if (!y->numel) return IA_OK;
    if (!x->numel) return ia_op_error(ctx, IA_EINVAL, "cannot resize an empty input");
    int nt = p.mode == RZ_NEAREST ? 1 : p.mode == RZ_LINEAR ? 2 : 4;
    size_t total = 0;
    for (int k = 0; k < r; k++) total += (size_t)p.out[k];
    int64_t *idx = ia_malloc(total * (size_t)nt * sizeof(int64_t) + 1);
    double *w = ia_malloc(total * (size_t)nt * sizeof(double) + 1);
    uint8_t *outside = ia_malloc(total + 1);
    struct taps t[IA_MAX_RANK];
    double *buf_a = NULL, *buf_b = NULL;
    rc = IA_OK;
    if (!idx || !w || !outside) {
        rc = ia_op_error(ctx, IA_ENOMEM, "no memory for resize taps");
        goto done;
    }
    size_t at = 0;
    for (int k = 0; k < r; k++) {
        t[k].n = nt;
        t[k].idx = idx + at * (size_t)nt;
        t[k].w = w + at * (size_t)nt;
        t[k].outside = outside + at;
        at += (size_t)p.out[k];
        rz_taps(&p, k, &t[k]);
    }
    int tf = p.ctm == CTM_TF_CROP_AND_RESIZE;
    if (p.mode == RZ_NEAREST && !tf && sh_esize(x->dtype) == 4) {
        nearest_rows(&p, t, x, y);
        goto done;
    }
    if (p.mode == RZ_NEAREST) {
        /* Direct element copy, any dtype. */
        size_t es = sh_esize(x->dtype);
        int64_t xs[IA_MAX_RANK], o[IA_MAX_RANK] = {0};
        sh_strides(r, x->dims, es, xs);
        const uint8_t *src = sh_src(x);
        uint8_t *dst = sh_dst(y);
        uint8_t ext[16] = {0};
        if (sh_is_numeric(x->dtype)) sh_set_f64(ext, x->dtype, 0, p.extrapolation);
        for (uint64_t i = 0; i < y->numel; i++) {
            int64_t off = 0;
            int out = 0;
            for (int k = 0; k < r; k++) {
                off += t[k].idx[o[k]] * xs[k];
                out |= tf && t[k].outside[o[k]];
            }
            memcpy(dst + i * es, out ? ext : src + off, es);
            for (int k = r - 1; k >= 0; k--) {
                if (++o[k] < p.out[k]) break;
                o[k] = 0;
            }
        }
        goto done;
    }
    /* Separable passes through double buffers sized for the largest step. */
    uint64_t cur = x->numel, biggest = x->numel;
    int64_t dims[IA_MAX_RANK];
    memcpy(dims, x->dims, sizeof dims[0] * (size_t)r);
    for (int k = 0; k < r; k++) {
        cur = cur / (uint64_t)dims[k] * (uint64_t)p.out[k];
        dims[k] = p.out[k];
        if (cur > biggest) biggest = cur;
    }
    buf_a = ia_malloc((size_t)biggest * sizeof(double));
    buf_b = ia_malloc((size_t)biggest * sizeof(double));
    if (!buf_a || !buf_b) {
        rc = ia_op_error(ctx, IA_ENOMEM, "no memory for resize buffers");
        goto done;
    }
    for (uint64_t i = 0; i < x->numel; i++) buf_a[i] = sh_get_f64(sh_src(x), x->dtype, i);
    memcpy(dims, x->dims, sizeof dims[0] * (size_t)r);
    for (int k = 0; k < r; k++) {
        /* Identity axes (same size, taps exactly the source) are skipped. */
        int ident = p.out[k] == p.in[k] && !tf;
        for (int64_t o = 0; ident && o < p.out[k]; o++)
            for (int j = 0; j < nt; j++)
                if (t[k].w[o * nt + j] != 0 &&
                    !(t[k].idx[o * nt + j] == o && t[k].w[o * nt + j] == 1))
                    ident = 0;
        if (ident) continue;
        int64_t outer = 1, inner = 1, n_in = dims[k], n_out = p.out[k];
        for (int j = 0; j < k; j++) outer *= dims[j];
        for (int j = k + 1; j < r; j++) inner *= dims[j];
        for (int64_t a = 0; a < outer; a++)
            for (int64_t o = 0; o < n_out; o++) {
                double *d = buf_b + (a * n_out + o) * inner;
                const int64_t *ix = t[k].idx + o * nt;
                const double *wt = t[k].w + o * nt;
                for (int64_t i = 0; i < inner; i++) d[i] = 0;
                for (int j = 0; j < nt; j++) {
                    const double *s = buf_a + (a * n_in + ix[j]) * inner;
                    double wj = wt[j];
                    for (int64_t i = 0; i < inner; i++) d[i] += wj * s[i];
                }
            }
        dims[k] = n_out;
        double *tmp = buf_a;
        buf_a = buf_b;
        buf_b = tmp;
    }
    {
        int64_t o[IA_MAX_RANK] = {0};
        for (uint64_t i = 0; i < y->numel; i++) {
            int out = 0;
            for (int k = 0; tf && k < r; k++) out |= t[k].outside[o[k]];
            double v = out ? p.extrapolation : buf_a[i];
            if (y->dtype == IA_DTYPE_FLOAT32)
                ((float *)y->data)[i] = (float)v;
            else
                sh_set_f64(y->data, y->dtype, i, v);
            if (tf)
                for (int k = r - 1; k >= 0; k--) {
                    if (++o[k] < p.out[k]) break;
                    o[k] = 0;
                }
        }
    }
done:
    ia_free(idx);
    ia_free(w);
    ia_free(outside);
    ia_free(buf_a);
    ia_free(buf_b);
    return rc;
}

static int resize_infer(struct ia_op_ctx *ctx) { return rz_infer_(ctx, 0); }
static int resize_compute(struct ia_op_ctx *ctx) { return rz_compute_(ctx, 0); }
static int upsample_infer(struct ia_op_ctx *ctx) { return rz_infer_(ctx, 1); }
static int upsample_compute(struct ia_op_ctx *ctx) { return rz_compute_(ctx, 1); }

const struct ia_op_def ia_op_Resize = {"", "Resize", 10, 0, resize_infer, resize_compute};
const struct ia_op_def ia_op_Upsample = {"", "Upsample", 7, 0, upsample_infer, upsample_compute};
