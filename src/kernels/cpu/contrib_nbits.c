/* com.microsoft MatMulNBits: Y = A · dequant(B)^T (+ bias), float32 A.
 *
 * Attributes K, N, bits (2..8, default 4), block_size (a power of 2, >= 16);
 * accuracy_level is a speed hint and is ignored (we compute in float32).
 *   A           [..., K] float32
 *   B           [N, k_blocks, blob] uint8, k_blocks = ceil(K / block_size),
 *               blob = block_size * bits / 8: each block's codes packed
 *               low bits first (4-bit: element 2i in the low nibble of
 *               byte i, 2i+1 in the high nibble); [N, k_blocks * blob] is
 *               accepted too
 *   scales      [N * k_blocks] or [N, k_blocks] float32
 *   zero_points optional: uint8 packed like B, ceil(k_blocks * bits / 8)
 *               bytes per row of N; or float32 [N * k_blocks] unpacked.
 *               Absent: 2^(bits-1)
 *   g_idx       optional int32 [K]: the block of each k (deprecated form)
 *   bias        optional float32 [N]
 *   Y           [..., N]
 * w[n][k] = (code - zero_point) * scale, per (n, block of k).
 *
 * Work is split by tiles of NT output columns: a task dequantises its
 * tile of B (NT x K floats, per-thread scratch) and multiplies every row
 * of A by it, so the full float matrix never exists. */
#include <string.h>

#include "gemm.h"
#include "ia/kernels.h"

#define NT 32

static const struct ia_tensor *in_opt(const struct ia_op_ctx *ctx, size_t i) {
    return i < ctx->n_inputs ? ctx->inputs[i] : NULL;
}

struct nbits {
    int64_t K, N, bits, bs, kb, blob, zp_row, M;
    int zp_float;
};

static int nb_setup(struct ia_op_ctx *ctx, struct nbits *p) {
    memset(p, 0, sizeof *p);
    const struct ia_tensor *A = in_opt(ctx, 0), *B = in_opt(ctx, 1), *sc = in_opt(ctx, 2);
    const struct ia_tensor *zp = in_opt(ctx, 3), *gi = in_opt(ctx, 4), *bias = in_opt(ctx, 5);
    char s1[128];
    if (!A || !B || !sc) return ia_op_error(ctx, IA_EINVAL, "A, B and scales are required");
    if (A->dtype != IA_DTYPE_FLOAT32 || sc->dtype != IA_DTYPE_FLOAT32)
        return ia_op_error(ctx, IA_EUNSUPPORTED, "only float32 A and scales are supported (got %s)",
                           ia_dtype_name(A->dtype));
    p->K = ia_attr_int(ctx->node, "K", 0);
    p->N = ia_attr_int(ctx->node, "N", 0);
    p->bits = ia_attr_int(ctx->node, "bits", 4);
    p->bs = ia_attr_int(ctx->node, "block_size", 0);
    if (p->K < 1 || p->N < 1 || p->K > ((int64_t)1 << 32) || p->N > ((int64_t)1 << 32))
        return ia_op_error(ctx, IA_EINVAL, "K and N must be positive (K=%lld N=%lld)",
                           (long long)p->K, (long long)p->N);
    if (p->bits < 2 || p->bits > 8)
        return ia_op_error(ctx, IA_EUNSUPPORTED, "bits=%lld is outside 2..8", (long long)p->bits);
    if (p->bs < 16 || p->bs > (1 << 20) || (p->bs & (p->bs - 1)))
        return ia_op_error(ctx, IA_EINVAL, "block_size %lld must be a power of 2 >= 16",
                           (long long)p->bs);
    p->kb = (p->K + p->bs - 1) / p->bs;
    p->blob = p->bs * p->bits / 8;
    p->zp_row = (p->kb * p->bits + 7) / 8;
    if (A->rank < 1 || A->dims[A->rank - 1] != p->K)
        return ia_op_error(ctx, IA_EINVAL, "A %s does not end in K=%lld",
                           ia_tensor_describe(A, s1, sizeof s1), (long long)p->K);
    p->M = A->rank ? (int64_t)(A->numel / (uint64_t)p->K) : 1;
    if (B->dtype != IA_DTYPE_UINT8 || B->rank < 2 || B->dims[0] != p->N ||
        B->numel != (uint64_t)(p->N * p->kb * p->blob))
        return ia_op_error(ctx, IA_EINVAL, "B %s must be uint8[%lld,%lld,%lld]",
                           ia_tensor_describe(B, s1, sizeof s1), (long long)p->N, (long long)p->kb,
                           (long long)p->blob);
    if (sc->numel != (uint64_t)(p->N * p->kb))
        return ia_op_error(ctx, IA_EINVAL, "scales %s must hold %lld values",
                           ia_tensor_describe(sc, s1, sizeof s1), (long long)(p->N * p->kb));
    if (zp) {
        if (zp->dtype == IA_DTYPE_UINT8 && zp->numel == (uint64_t)(p->N * p->zp_row)) {
            p->zp_float = 0;
        } else if (zp->dtype == IA_DTYPE_FLOAT32 && zp->numel == (uint64_t)(p->N * p->kb)) {
            p->zp_float = 1;
        } else {
            return ia_op_error(ctx, IA_EINVAL,
                               "zero_points %s must be uint8[%lld] or float32[%lld]",
                               ia_tensor_describe(zp, s1, sizeof s1), (long long)(p->N * p->zp_row),
                               (long long)(p->N * p->kb));
        }
    }
    if (gi && (gi->dtype != IA_DTYPE_INT32 || gi->numel != (uint64_t)p->K))
        return ia_op_error(ctx, IA_EINVAL, "g_idx %s must be int32[%lld]",
                           ia_tensor_describe(gi, s1, sizeof s1), (long long)p->K);
    if (bias && (bias->dtype != IA_DTYPE_FLOAT32 || bias->numel != (uint64_t)p->N))
        return ia_op_error(ctx, IA_EINVAL, "bias %s must be float32[%lld]",
                           ia_tensor_describe(bias, s1, sizeof s1), (long long)p->N);
    return IA_OK;
}

static int nb_infer(struct ia_op_ctx *ctx) {
    struct nbits p;
    int rc = nb_setup(ctx, &p);
    if (rc) return rc;
    const struct ia_tensor *A = ctx->inputs[0];
    int64_t dims[IA_MAX_RANK];
    memcpy(dims, A->dims, sizeof dims);
    dims[A->rank - 1] = p.N;
    return ia_tensor_set_shape(ctx->outputs[0], IA_DTYPE_FLOAT32, A->rank, dims);
}

/* Code i of a little-endian bit stream of `bits`-wide values. */
static inline unsigned code_at(const uint8_t *s, int64_t i, int64_t bits, int64_t nbytes) {
    int64_t bit = i * bits, byte = bit >> 3;
    unsigned v = s[byte];
    if (byte + 1 < nbytes) v |= (unsigned)s[byte + 1] << 8;
    return (v >> (bit & 7)) & ((1u << bits) - 1);
}

static inline float zero_point(const struct nbits *p, const struct ia_tensor *zp, int64_t n,
                               int64_t blk, float dflt) {
    if (!zp) return dflt;
    if (p->zp_float) return ((const float *)zp->data)[n * p->kb + blk];
    return (float)code_at((const uint8_t *)zp->data + n * p->zp_row, blk, p->bits, p->zp_row);
}

#define SMALL_M 4

/* Eight running sums so the compiler can keep them in one vector register. */
static float dot(const float *a, const float *b, int64_t n) {
    float acc[8] = {0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) acc[k] += a[i + k] * b[i + k];
    float s = 0;
    for (; i < n; i++) s += a[i] * b[i];
    for (int k = 0; k < 8; k++) s += acc[k];
    return s;
}

struct nb_job {
    const struct nbits *p;
    const struct ia_op_ctx *ctx;
    float *tiles; /* (threads, NT, K) */
    float *y;     /* (M, N) */
    int failed;
};

static void nb_tile(void *arg, int64_t task, int thread) {
    struct nb_job *j = arg;
    const struct nbits *p = j->p;
    const struct ia_tensor *B = j->ctx->inputs[1], *sc = j->ctx->inputs[2];
    const struct ia_tensor *zp = in_opt(j->ctx, 3), *gi = in_opt(j->ctx, 4),
                           *bias = in_opt(j->ctx, 5);
    int64_t n0 = task * NT, nt = p->N - n0 < NT ? p->N - n0 : NT, K = p->K;
    float *w = j->tiles + (int64_t)thread * NT * K;
    const float *scale = sc->data;
    const int32_t *g = gi ? gi->data : NULL;
    float zdef = (float)(1 << (p->bits - 1));
    for (int64_t r = 0; r < nt; r++) {
        int64_t n = n0 + r;
        const uint8_t *row = (const uint8_t *)B->data + n * p->kb * p->blob;
        float *wr = w + r * K;
        if (!g) {
            /* per block: one scale and zero point; 4-bit codes two to a byte */
            for (int64_t blk = 0; blk < p->kb; blk++) {
                const uint8_t *src = row + blk * p->blob;
                float z = zero_point(p, zp, n, blk, zdef), bsc = scale[n * p->kb + blk];
                int64_t k0 = blk * p->bs, len = K - k0 < p->bs ? K - k0 : p->bs;
                float *dst = wr + k0;
                if (p->bits == 4 && len == p->bs) {
                    for (int64_t i = 0; i < len / 2; i++) {
                        dst[2 * i] = ((float)(src[i] & 15) - z) * bsc;
                        dst[2 * i + 1] = ((float)(src[i] >> 4) - z) * bsc;
                    }
                } else {
                    for (int64_t i = 0; i < len; i++)
                        dst[i] = ((float)code_at(src, i, p->bits, p->blob) - z) * bsc;
                }
            }
            continue;
        }
        for (int64_t k = 0; k < K; k++) {
            int64_t blk = k / p->bs;
            unsigned q = code_at(row + blk * p->blob, k % p->bs, p->bits, p->blob);
            blk = g[k]; /* checked in range by nb_compute */
            wr[k] = ((float)q - zero_point(p, zp, n, blk, zdef)) * scale[n * p->kb + blk];
        }
    }
    const float *A = j->ctx->inputs[0]->data;
    if (p->M <= SMALL_M) {
        /* a few rows (token-by-token decoding): packing for a GEMM would cost as much as the
         * product, so take dot products straight off the tile */
        for (int64_t m = 0; m < p->M; m++)
            for (int64_t r = 0; r < nt; r++) j->y[m * p->N + n0 + r] = dot(A + m * K, w + r * K, K);
    } else if (ia_sgemm(0, 1, p->M, nt, K, 1.0f, A, K, w, K, 0.0f, j->y + n0, p->N, NULL)) {
        __atomic_store_n(&j->failed, 1, __ATOMIC_RELAXED);
        return;
    }
    if (bias) {
        const float *bv = (const float *)bias->data + n0;
        for (int64_t m = 0; m < p->M; m++)
            for (int64_t r = 0; r < nt; r++) j->y[m * p->N + n0 + r] += bv[r];
    }
}

static int nb_compute(struct ia_op_ctx *ctx) {
    struct nbits p;
    int rc = nb_setup(ctx, &p);
    if (rc) return rc;
    const struct ia_tensor *gi = in_opt(ctx, 4);
    if (gi)
        for (int64_t k = 0; k < p.K; k++) {
            int32_t v = ((const int32_t *)gi->data)[k];
            if (v < 0 || v >= p.kb)
                return ia_op_error(ctx, IA_EINVAL, "g_idx[%lld] = %d is outside [0, %lld)",
                                   (long long)k, v, (long long)p.kb);
        }
    int threads = ctx->pool ? ia_pool_size(ctx->pool) : 1;
    int64_t tasks = (p.N + NT - 1) / NT;
    float *tiles = ctx->scratch(ctx, (size_t)threads * NT * (size_t)p.K * sizeof(float));
    if (!tiles) return ia_op_error(ctx, IA_ENOMEM, "no memory for the dequantised tiles");
    struct nb_job j = {&p, ctx, tiles, ctx->outputs[0]->data, 0};
    if (p.M == 0) return IA_OK;
    if (ctx->pool && tasks > 1)
        ia_pool_run(ctx->pool, tasks, nb_tile, &j);
    else
        for (int64_t t = 0; t < tasks; t++) nb_tile(&j, t, 0);
    if (j.failed) return ia_op_error(ctx, IA_ENOMEM, "no memory for a tile's product");
    return IA_OK;
}

// clang-format off
const struct ia_op_def ia_op_ms_MatMulNBits = {"com.microsoft", "MatMulNBits", 1, 0, nb_infer, nb_compute};
// clang-format on
