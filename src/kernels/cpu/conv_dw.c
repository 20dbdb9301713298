/* Depthwise 2-D Conv (group == C == M: one filter per channel), computed
 * directly instead of as C GEMMs of one row each. PP-OCR and the other
 * MobileNet-style CNNs spend much of their time here.
 *
 * Per (image, channel) plane and per output row, each kernel tap adds
 * w * (a shifted input row) into the output row, which stays in L1; the
 * columns a tap can reach (valid_cols) are worked out once per tap so the
 * inner loop has no bounds tests and vectorises (the function is cloned for
 * AVX-512 and AVX2 and picked at load time). Strides 1 and 2 have an
 * AVX-512 form (dw_plane_avx512) that keeps 16 outputs in a register over
 * all taps. Planes are spread over the pool. The sum runs in tap order,
 * then the bias, as the GEMM path does. */
#include <immintrin.h>

#include "conv_internal.h"
#include "gemm.h"

/* Kernel widths beyond this take the GEMM path (no real model comes near). */
#define DW_MAX_KW 32

struct dw_job {
    const struct nn_geom *g;
    const float *x, *w, *b; /* x [N, C, IH, IW], w [C, 1, KH, KW], b [C] or NULL */
    float *y;               /* [N, C, OH, OW] */
    const struct conv_epi *epi;
};

/* The output columns [lo, hi) whose input column o*s + off lies in [0, in). */
static void valid_cols(int64_t off, int64_t s, int64_t in, int64_t W, int64_t *lo, int64_t *hi) {
    int64_t l = off >= 0 ? 0 : (-off + s - 1) / s;
    int64_t h = in - off <= 0 ? 0 : (in - off - 1) / s + 1;
    *lo = l < W ? l : W;
    *hi = h < W ? h : W;
    if (*hi < *lo) *hi = *lo;
}

/* Lanes [lo, hi) of 16 as a mask. */
static inline __mmask16 lanes16(int64_t lo, int64_t hi) {
    if (lo < 0) lo = 0;
    if (hi > 16) hi = 16;
    return hi > lo ? (__mmask16)(((uint32_t)1 << hi) - ((uint32_t)1 << lo)) : 0;
}

__attribute__((target_clones("avx512f", "arch=haswell", "default"))) static void
dw_plane(void *vj, int64_t t, int thread) {
    (void)thread;
    const struct dw_job *j = vj;
    const struct nn_geom *g = j->g;
    int64_t c = t % g->C, IH = g->in[0], IW = g->in[1], OH = g->out[0], OW = g->out[1];
    int64_t KH = g->k[0], KW = g->k[1], sh = g->s[0], sw = g->s[1];
    const float *xp = j->x + (uint64_t)t * g->insz, *wc = j->w + (uint64_t)c * g->ksz;
    float *yp = j->y + (uint64_t)t * g->outsz, bias = j->b ? j->b[c] : 0.0f;
    /* Each tap's valid columns, once per plane (they need divisions). */
    int64_t lo[DW_MAX_KW], hi[DW_MAX_KW];
    for (int64_t kx = 0; kx < KW; kx++)
        valid_cols(kx * g->d[1] - g->pb[1], sw, IW, OW, &lo[kx], &hi[kx]);
    for (int64_t oy = 0; oy < OH; oy++) {
        float *restrict yr = yp + oy * OW;
        for (int64_t ox = 0; ox < OW; ox++) yr[ox] = 0.0f;
        for (int64_t ky = 0; ky < KH; ky++) {
            int64_t iy = oy * sh + ky * g->d[0] - g->pb[0];
            if (iy < 0 || iy >= IH) continue;
            const float *xr = xp + iy * IW;
            for (int64_t kx = 0; kx < KW; kx++) {
                const float *restrict xs = xr + kx * g->d[1] - g->pb[1];
                float wv = wc[ky * KW + kx];
                int64_t l = lo[kx], h = hi[kx];
                if (sw == 1)
                    for (int64_t ox = l; ox < h; ox++) yr[ox] += wv * xs[ox];
                else if (sw == 2)
                    for (int64_t ox = l; ox < h; ox++) yr[ox] += wv * xs[2 * ox];
                else
                    for (int64_t ox = l; ox < h; ox++) yr[ox] += wv * xs[ox * sw];
            }
        }
        if (j->b)
            for (int64_t ox = 0; ox < OW; ox++) yr[ox] += bias;
    }
    if (j->epi) conv_epi_run(j->epi, yp, g->outsz);
}

/* The AVX-512 form below handles rows of up to DW_MAX_CHUNKS * 16 outputs. */
#define DW_MAX_CHUNKS 64

/* dw_plane for strides 1 and 2 with AVX-512: 16 output columns stay in
 * one register over all taps (one load and one FMA a tap instead of a
 * load, FMA and store of the output row). Loads are masked to the input
 * row, so the padding reads as zero; the masks depend only on the chunk
 * and kx, so they are made once per plane. Stride 2 loads 32 input columns
 * and keeps the even ones. Same tap order, then the bias. */
__attribute__((target("avx512f"))) static void dw_plane_avx512(void *vj, int64_t t, int thread) {
    (void)thread;
    const struct dw_job *j = vj;
    const struct nn_geom *g = j->g;
    int64_t c = t % g->C, IH = g->in[0], IW = g->in[1], OH = g->out[0], OW = g->out[1];
    int64_t KH = g->k[0], KW = g->k[1], sh = g->s[0], sw = g->s[1];
    const float *xp = j->x + (uint64_t)t * g->insz, *wc = j->w + (uint64_t)c * g->ksz;
    float *yp = j->y + (uint64_t)t * g->outsz;
    int64_t nch = (OW + 15) / 16;
    __mmask16 ma[DW_MAX_CHUNKS][DW_MAX_KW], mb[DW_MAX_CHUNKS][DW_MAX_KW], ms[DW_MAX_CHUNKS];
    for (int64_t ch = 0; ch < nch; ch++) {
        ms[ch] = lanes16(0, OW - ch * 16);
        for (int64_t kx = 0; kx < KW; kx++) {
            int64_t p0 = ch * 16 * sw + kx * g->d[1] - g->pb[1]; /* input column of lane 0 */
            ma[ch][kx] = lanes16(-p0, IW - p0);
            mb[ch][kx] = lanes16(-p0 - 16, IW - p0 - 16);
        }
    }
    const __m512i even =
        _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    __m512 bias = _mm512_set1_ps(j->b ? j->b[c] : 0.0f);
    for (int64_t oy = 0; oy < OH; oy++)
        for (int64_t ch = 0; ch < nch; ch++) {
            __m512 acc = _mm512_setzero_ps();
            for (int64_t ky = 0; ky < KH; ky++) {
                int64_t iy = oy * sh + ky * g->d[0] - g->pb[0];
                if (iy < 0 || iy >= IH) continue;
                const float *xr = xp + iy * IW + ch * 16 * sw - g->pb[1];
                const float *w = wc + ky * KW;
                if (sw == 1) {
                    for (int64_t kx = 0; kx < KW; kx++) {
                        __m512 v = _mm512_maskz_loadu_ps(ma[ch][kx], xr + kx * g->d[1]);
                        acc = _mm512_fmadd_ps(_mm512_set1_ps(w[kx]), v, acc);
                    }
                } else {
                    for (int64_t kx = 0; kx < KW; kx++) {
                        const float *xs = xr + kx * g->d[1];
                        __m512 a = _mm512_maskz_loadu_ps(ma[ch][kx], xs);
                        __m512 b = _mm512_maskz_loadu_ps(mb[ch][kx], xs + 16);
                        __m512 v = _mm512_permutex2var_ps(a, even, b);
                        acc = _mm512_fmadd_ps(_mm512_set1_ps(w[kx]), v, acc);
                    }
                }
            }
            if (j->b) acc = _mm512_add_ps(acc, bias);
            _mm512_mask_storeu_ps(yp + oy * OW + ch * 16, ms[ch], acc);
        }
    if (j->epi) conv_epi_run(j->epi, yp, g->outsz);
}

int conv_depthwise_fits(const struct nn_geom *g, int64_t G, int64_t M) {
    return g->S == 2 && G == g->C && M == g->C && g->k[1] <= DW_MAX_KW;
}

void conv_depthwise(const struct nn_geom *g, const float *x, const float *w, const float *b,
                    float *y, const struct conv_epi *epi, struct ia_pool *pool) {
    struct dw_job j = {g, x, w, b, y, epi};
    int64_t planes = g->N * g->C;
    /* Stride 2 on rows wider than 256 stays on the row-pass form: measured
     * faster there (PP-OCR's 32 x 320 x 320 3x3: 2.7 vs 3.1 ms). */
    int fast = (g->s[1] == 1 || (g->s[1] == 2 && g->in[1] <= 256)) &&
               (g->out[1] + 15) / 16 <= DW_MAX_CHUNKS && ia_sgemm_path_available(IA_SGEMM_AVX512);
    ia_task_fn fn = fast ? dw_plane_avx512 : dw_plane;
    if (pool && planes > 1)
        ia_pool_run(pool, planes, fn, &j);
    else
        for (int64_t t = 0; t < planes; t++) fn(&j, t, 0);
}
