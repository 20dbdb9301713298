/* Depthwise 2-D Conv (group == C == M: one filter per channel), computed
 * directly instead of as C GEMMs of one row each. PP-OCR and the other
 * MobileNet-style CNNs spend much of their time here.
 *
 * Per (image, channel) plane and per output row, each kernel tap adds
 * w * (a shifted input row) into the output row, which stays in L1; the
 * columns a tap can reach (valid_cols) are worked out once per tap so the
 * inner loop has no bounds tests and vectorises (the function is cloned for
 * AVX-512 and AVX2 and picked at load time). Planes are spread over the
 * pool. The sum runs in tap order, then the bias, as the GEMM path does. */
#include "conv_internal.h"

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

int conv_depthwise_fits(const struct nn_geom *g, int64_t G, int64_t M) {
    return g->S == 2 && G == g->C && M == g->C && g->k[1] <= DW_MAX_KW;
}

void conv_depthwise(const struct nn_geom *g, const float *x, const float *w, const float *b,
                    float *y, const struct conv_epi *epi, struct ia_pool *pool) {
    struct dw_job j = {g, x, w, b, y, epi};
    int64_t planes = g->N * g->C;
    if (pool && planes > 1)
        ia_pool_run(pool, planes, dw_plane, &j);
    else
        for (int64_t t = 0; t < planes; t++) dw_plane(&j, t, 0);
}
