/* Element copying, strided views and integer-list inputs shared by the
 * shape and reduction kernels (see sh_common.h). */
#include "sh_common.h"

#include <math.h>
#include <stdio.h>

void sh_copy_all(struct ia_tensor *out, const struct ia_tensor *in) {
    const void *src = sh_src(in);
    void *dst = sh_dst(out);
    uint64_t n = in->numel < out->numel ? in->numel : out->numel;
    if (dst != src) sh_memcpy(dst, src, (size_t)(n * sh_esize(out->dtype)));
}

/* Merges dims that are contiguous in the source (stride[k] ==
 * stride[k+1] * dims[k+1]) and drops size-1 dims, so a mostly-contiguous
 * view becomes a few long runs. Returns the new rank. */
static int coalesce(int rank, const int64_t *dims, const int64_t *strides, int64_t *od,
                    int64_t *os) {
    int r = 0;
    for (int k = 0; k < rank; k++) {
        if (dims[k] == 1) continue;
        if (r > 0 && os[r - 1] == strides[k] * dims[k]) {
            od[r - 1] *= dims[k];
            os[r - 1] = strides[k];
            continue;
        }
        od[r] = dims[k];
        os[r] = strides[k];
        r++;
    }
    return r;
}

static void copy_row(uint8_t *d, const uint8_t *s, size_t esize, int64_t n, int64_t st) {
    if (st == (int64_t)esize) {
        memcpy(d, s, (size_t)n * esize);
        return;
    }
    switch (esize) {
    case 1:
        for (int64_t i = 0; i < n; i++) d[i] = s[i * st];
        break;
    case 2:
        for (int64_t i = 0; i < n; i++) memcpy(d + 2 * i, s + i * st, 2);
        break;
    case 4:
        for (int64_t i = 0; i < n; i++) memcpy(d + 4 * i, s + i * st, 4);
        break;
    case 8:
        for (int64_t i = 0; i < n; i++) memcpy(d + 8 * i, s + i * st, 8);
        break;
    default:
        for (int64_t i = 0; i < n; i++) memcpy(d + (size_t)i * esize, s + i * st, esize);
        break;
    }
}

/* Tile size of the blocked 2D transpose: 32 x 32 elements of 4 bytes is
 * 4 KiB per side, well inside L1. */
#define SH_TILE 32

/* dst (a, b) dense from src where a has stride sa and b has stride sb. */
static void copy_2d_blocked(uint8_t *d, const uint8_t *s, size_t esize, int64_t a, int64_t b,
                            int64_t sa, int64_t sb) {
    for (int64_t i0 = 0; i0 < a; i0 += SH_TILE) {
        int64_t i1 = i0 + SH_TILE < a ? i0 + SH_TILE : a;
        for (int64_t j0 = 0; j0 < b; j0 += SH_TILE) {
            int64_t j1 = j0 + SH_TILE < b ? j0 + SH_TILE : b;
            for (int64_t i = i0; i < i1; i++) {
                uint8_t *dr = d + (size_t)(i * b) * esize;
                const uint8_t *sr = s + i * sa;
                if (esize == 4)
                    for (int64_t j = j0; j < j1; j++) memcpy(dr + 4 * j, sr + j * sb, 4);
                else
                    for (int64_t j = j0; j < j1; j++)
                        memcpy(dr + (size_t)j * esize, sr + j * sb, esize);
            }
        }
    }
}

static void copy_coalesced(uint8_t *o, const uint8_t *s, size_t esize, int r, const int64_t *d,
                           const int64_t *st);

/* Copies of at least this many bytes are split over the pool. */
#define SH_PAR_BYTES ((uint64_t)1 << 20)

struct par_copy {
    uint8_t *dst;
    const uint8_t *src;
    size_t esize;
    int r;
    int64_t d[IA_MAX_RANK], st[IA_MAX_RANK];
    int64_t per_task, row_bytes; /* dim-0 entries per task; bytes per dim-0 entry */
};

static void par_copy_task(void *u, int64_t task, int thread) {
    const struct par_copy *j = u;
    (void)thread;
    int64_t lo = task * j->per_task, hi = lo + j->per_task < j->d[0] ? lo + j->per_task : j->d[0];
    int64_t d[IA_MAX_RANK];
    memcpy(d, j->d, sizeof d);
    d[0] = hi - lo;
    copy_coalesced(j->dst + lo * j->row_bytes, j->src + lo * j->st[0], j->esize, j->r, d, j->st);
}

void sh_copy_strided_pool(struct ia_pool *pool, void *dst, const void *src, size_t esize, int rank,
                          const int64_t *dims, const int64_t *sstrides) {
    struct par_copy j;
    for (int k = 0; k < rank; k++)
        if (dims[k] == 0) return;
    j.r = coalesce(rank, dims, sstrides, j.d, j.st);
    int threads = pool ? ia_pool_size(pool) : 1;
    uint64_t total = esize;
    for (int k = 0; k < j.r; k++) total *= (uint64_t)j.d[k];
    if (threads <= 1 || j.r == 0 || total < SH_PAR_BYTES || j.d[0] < 2) {
        copy_coalesced(dst, src, esize, j.r, j.d, j.st);
        return;
    }
    int64_t tasks = j.d[0] < 4 * threads ? j.d[0] : 4 * threads;
    j.per_task = (j.d[0] + tasks - 1) / tasks;
    tasks = (j.d[0] + j.per_task - 1) / j.per_task;
    j.row_bytes = (int64_t)(total / (uint64_t)j.d[0]);
    j.dst = dst;
    j.src = src;
    j.esize = esize;
    ia_pool_run(pool, tasks, par_copy_task, &j);
}

void sh_copy_strided(void *dst, const void *src, size_t esize, int rank, const int64_t *dims,
                     const int64_t *sstrides) {
    sh_copy_strided_pool(NULL, dst, src, esize, rank, dims, sstrides);
}

static void copy_coalesced(uint8_t *o, const uint8_t *s, size_t esize, int r, const int64_t *d,
                           const int64_t *st) {
    if (r == 0) {
        memcpy(o, s, esize);
        return;
    }
    /* A transpose of the two innermost dims (the inner source stride is on
     * the second-to-last dim) is done in cache-sized tiles. */
    int blocked = r >= 2 && st[r - 1] != (int64_t)esize && d[r - 1] >= 8 && d[r - 2] >= 8;
    int inner = blocked ? 2 : 1;
    int64_t idx[IA_MAX_RANK] = {0};
    int64_t row = blocked ? d[r - 1] * d[r - 2] : d[r - 1];
    for (;;) {
        int64_t off = 0;
        for (int k = 0; k < r - inner; k++) off += idx[k] * st[k];
        if (blocked)
            copy_2d_blocked(o, s + off, esize, d[r - 2], d[r - 1], st[r - 2], st[r - 1]);
        else
            copy_row(o, s + off, esize, d[r - 1], st[r - 1]);
        o += (size_t)row * esize;
        int k = r - inner - 1;
        for (; k >= 0; k--) {
            if (++idx[k] < d[k]) break;
            idx[k] = 0;
        }
        if (k < 0) break;
    }
}

int sh_read_i64s(const struct ia_op_ctx *ctx, const struct ia_tensor *t, const char *what,
                 int64_t *out, size_t cap, size_t *n) {
    switch (t->dtype) {
    case IA_DTYPE_INT8:
    case IA_DTYPE_INT16:
    case IA_DTYPE_INT32:
    case IA_DTYPE_INT64:
    case IA_DTYPE_UINT8:
    case IA_DTYPE_UINT16:
    case IA_DTYPE_UINT32:
    case IA_DTYPE_UINT64:
        break;
    default:
        return ia_op_error(ctx, IA_EINVAL, "%s must be an integer tensor, not %s", what,
                           ia_dtype_name(t->dtype));
    }
    if (t->numel > cap)
        return ia_op_error(ctx, IA_EINVAL, "%s has %llu values, at most %zu are allowed", what,
                           (unsigned long long)t->numel, cap);
    if (!t->data && t->numel) return IA_EAGAIN;
    for (uint64_t i = 0; i < t->numel; i++) out[i] = ia_tensor_get_i64(t, i);
    *n = (size_t)t->numel;
    return IA_OK;
}

int sh_norm_axes(const struct ia_op_ctx *ctx, const int64_t *axes, size_t n, int rank, int *out) {
    unsigned seen = 0;
    if (n > (size_t)IA_MAX_RANK)
        return ia_op_error(ctx, IA_EINVAL, "%zu axes for rank %d", n, rank);
    for (size_t i = 0; i < n; i++) {
        int64_t a = axes[i];
        if (a < -(int64_t)rank || a >= rank)
            return ia_op_error(ctx, IA_EINVAL, "axis %lld is outside rank %d", (long long)a, rank);
        int ax = (int)(a < 0 ? a + rank : a);
        if (seen & (1u << ax))
            return ia_op_error(ctx, IA_EINVAL, "axis %lld is repeated", (long long)a);
        seen |= 1u << ax;
    }
    size_t k = 0;
    for (int ax = 0; ax < rank; ax++)
        if (seen & (1u << ax)) out[k++] = ax;
    return IA_OK;
}

int sh_is_numeric(enum ia_dtype t) {
    return t != IA_DTYPE_STRING && t != IA_DTYPE_UNDEFINED && t < IA_DTYPE_COUNT;
}

double sh_get_f64(const void *p, enum ia_dtype t, uint64_t i) {
    switch (t) {
    case IA_DTYPE_FLOAT32:
        return ((const float *)p)[i];
    case IA_DTYPE_FLOAT64:
        return ((const double *)p)[i];
    case IA_DTYPE_FLOAT16:
        return ia_f16_to_f32(((const uint16_t *)p)[i]);
    case IA_DTYPE_BFLOAT16:
        return ia_bf16_to_f32(((const uint16_t *)p)[i]);
    case IA_DTYPE_INT8:
        return ((const int8_t *)p)[i];
    case IA_DTYPE_INT16:
        return ((const int16_t *)p)[i];
    case IA_DTYPE_INT32:
        return ((const int32_t *)p)[i];
    case IA_DTYPE_INT64:
        return (double)((const int64_t *)p)[i];
    case IA_DTYPE_UINT8:
        return ((const uint8_t *)p)[i];
    case IA_DTYPE_UINT16:
        return ((const uint16_t *)p)[i];
    case IA_DTYPE_UINT32:
        return ((const uint32_t *)p)[i];
    case IA_DTYPE_UINT64:
        return (double)((const uint64_t *)p)[i];
    case IA_DTYPE_BOOL:
        return ((const uint8_t *)p)[i] != 0;
    default:
        return 0;
    }
}

/* Double to integer without undefined behaviour: NaN gives 0, values
 * outside the range saturate. */
static int64_t to_i64(double v, double lo, double hi) {
    if (v != v) return 0;
    if (v <= lo) return (int64_t)lo;
    if (v >= hi) return (int64_t)hi;
    return (int64_t)v;
}

void sh_set_f64(void *p, enum ia_dtype t, uint64_t i, double v) {
    switch (t) {
    case IA_DTYPE_FLOAT32:
        ((float *)p)[i] = (float)v;
        break;
    case IA_DTYPE_FLOAT64:
        ((double *)p)[i] = v;
        break;
    case IA_DTYPE_FLOAT16:
        ((uint16_t *)p)[i] = ia_f32_to_f16((float)v);
        break;
    case IA_DTYPE_BFLOAT16:
        ((uint16_t *)p)[i] = ia_f32_to_bf16((float)v);
        break;
    case IA_DTYPE_INT8:
        ((int8_t *)p)[i] = (int8_t)to_i64(v, -128, 127);
        break;
    case IA_DTYPE_INT16:
        ((int16_t *)p)[i] = (int16_t)to_i64(v, -32768, 32767);
        break;
    case IA_DTYPE_INT32:
        ((int32_t *)p)[i] = (int32_t)to_i64(v, -2147483648.0, 2147483647.0);
        break;
    case IA_DTYPE_INT64:
        ((int64_t *)p)[i] = v != v                        ? 0
                            : v >= 9223372036854775807.0  ? INT64_MAX
                            : v <= -9223372036854775808.0 ? INT64_MIN
                                                          : (int64_t)v;
        break;
    case IA_DTYPE_UINT8:
        ((uint8_t *)p)[i] = (uint8_t)to_i64(v, 0, 255);
        break;
    case IA_DTYPE_UINT16:
        ((uint16_t *)p)[i] = (uint16_t)to_i64(v, 0, 65535);
        break;
    case IA_DTYPE_UINT32:
        ((uint32_t *)p)[i] = (uint32_t)to_i64(v, 0, 4294967295.0);
        break;
    case IA_DTYPE_UINT64:
        ((uint64_t *)p)[i] = v != v || v <= 0              ? 0
                             : v >= 18446744073709551615.0 ? UINT64_MAX
                                                           : (uint64_t)v;
        break;
    case IA_DTYPE_BOOL:
        ((uint8_t *)p)[i] = v != 0;
        break;
    default:
        break;
    }
}

const char *sh_dims_str(const struct ia_tensor *t, char *buf, size_t cap) {
    size_t n = (size_t)snprintf(buf, cap, "[");
    for (int i = 0; i < t->rank && n < cap; i++)
        n += (size_t)snprintf(buf + n, cap - n, "%s%lld", i ? "," : "", (long long)t->dims[i]);
    if (n < cap) snprintf(buf + n, cap - n, "]");
    return buf;
}

int sh_same_shape_infer(struct ia_op_ctx *ctx) {
    const struct ia_tensor *x = sh_in(ctx, 0);
    if (!x) return ia_op_error(ctx, IA_EINVAL, "input 0 is missing");
    return ia_tensor_set_shape(sh_out(ctx, 0), x->dtype, x->rank, x->dims);
}
