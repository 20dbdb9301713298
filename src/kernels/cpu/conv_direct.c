/* 2-D Conv with few output channels per group, computed as an
 * implicit GEMM: no im2col matrix and no packing of it. PP-OCR's 3x3
 * convolutions down to 24 channels at 160 x 160 spent most of their time
 * writing and re-reading im2col columns, each used by only 24 rows.
 *
 * Per output row and per 32-column chunk, a 12-channel block of outputs is
 * held in 24 AVX-512 accumulators; for every (input channel, ky, kx) the
 * kernel loads the two input vectors that tap reads and adds them times
 * the 12 weights of that tap, broadcast. The vectors come from a per-thread
 * copy of the input rows the output row needs (gather_rows: zero padded,
 * split into stride phases), so every load is one contiguous vector with
 * no mask. The weights are repacked once per call as [group][channel
 * block][Cg*KH*KW][12] (zero rows past Mg). Output rows are spread over
 * the pool. AVX-512 only; elsewhere the im2col path runs. The sum order
 * differs from the GEMM's, within float rounding. */
#include <immintrin.h>
#include <string.h>

#include "conv_internal.h"
#include "gemm.h"

#define DM 12           /* output channels per block */
#define DC 32           /* output columns per chunk: two 16-lane vectors */
#define DIRECT_MAX_K 32 /* kernel height and width at most */
#define DIRECT_MAX_SW 4 /* stride along the width at most */

struct direct_job {
    const struct nn_geom *g;
    const float *x, *wp, *b; /* b: [M] or NULL */
    float *y;
    const struct conv_epi *epi;
    int64_t G, Cg, Mg, M, nmb; /* nmb: channel blocks per group */
    float *rows;               /* per thread: [Cg][KH][s[1]][row_w] input rows, zero padded */
    int64_t row_w;             /* OW rounded up to DC, plus the kernel's reach */
    uint64_t rows_floats;      /* per thread */
};

int conv_direct_fits(const struct nn_geom *g, int64_t G, int64_t M) {
    int64_t Mg = M / G;
    return g->S == 2 && g->s[1] <= DIRECT_MAX_SW && g->ksz > 1 && g->k[0] <= DIRECT_MAX_K &&
           g->k[1] <= DIRECT_MAX_K && Mg >= 8 && Mg <= 64 &&
           ia_sgemm_path_available(IA_SGEMM_AVX512);
}

/* Floats of one phase of a gathered row: tap kx of output column ox reads
 * phase (kx*d) % s at ox + (kx*d) / s, for ox up to OW rounded up to DC. */
static int64_t row_width(const struct nn_geom *g) {
    return (g->out[1] + DC - 1) / DC * DC + (g->k[1] - 1) * g->d[1] / g->s[1] + 1;
}

size_t conv_direct_scratch_floats(const struct nn_geom *g, int64_t G, int64_t M, int threads) {
    int64_t Mg = M / G, nmb = (Mg + DM - 1) / DM;
    size_t packed = (size_t)G * (size_t)nmb * (size_t)(g->C / G) * g->ksz * DM;
    size_t rows = (size_t)(g->C / G) * (size_t)g->k[0] * (size_t)(g->s[1] * row_width(g));
    return packed + rows * (size_t)threads;
}

static void pack_weights(const struct direct_job *j, const float *w, float *wp) {
    int64_t K = j->Cg * (int64_t)j->g->ksz;
    for (int64_t gi = 0; gi < j->G; gi++)
        for (int64_t mb = 0; mb < j->nmb; mb++)
            for (int64_t k = 0; k < K; k++)
                for (int64_t i = 0; i < DM; i++) {
                    int64_t m = mb * DM + i;
                    *wp++ = m < j->Mg ? w[(gi * j->Mg + m) * K + k] : 0.0f;
                }
}

/* Lanes [lo, hi) of 32 as two 16-lane masks. */
static void lane_masks(int64_t lo, int64_t hi, __mmask16 *m0, __mmask16 *m1) {
    uint32_t bits = 0;
    if (lo < 0) lo = 0;
    if (hi > DC) hi = DC;
    if (hi > lo) bits = (uint32_t)(((uint64_t)1 << hi) - ((uint64_t)1 << lo));
    *m0 = (__mmask16)(bits & 0xffff);
    *m1 = (__mmask16)(bits >> 16);
}

__attribute__((target("avx512f"))) static void
direct_chunk(const struct direct_job *j, const float *rows, const int *ky_ok, const float *wp,
             float *y, int64_t oy, int64_t ox0, int64_t m_rows, const float *bias) {
    const struct nn_geom *g = j->g;
    int64_t OW = g->out[1], KH = g->k[0], KW = g->k[1], sw = g->s[1];
    int64_t koff[DIRECT_MAX_K];
    for (int64_t kx = 0; kx < KW; kx++) koff[kx] = kx * g->d[1] % sw * j->row_w + kx * g->d[1] / sw;
        /* Named accumulators: an array of vectors ends up on the stack. */
#define ACC_ALL(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
#define ACC_ZERO(i) __m512 a##i##_0 = _mm512_setzero_ps(), a##i##_1 = _mm512_setzero_ps();
#define ACC_FMA(i)                                                                                 \
    {                                                                                              \
        __m512 wv = _mm512_set1_ps(w[i]);                                                          \
        a##i##_0 = _mm512_fmadd_ps(wv, v0, a##i##_0);                                              \
        a##i##_1 = _mm512_fmadd_ps(wv, v1, a##i##_1);                                              \
    }
#define ACC_STORE(i)                                                                               \
    if (i < m_rows) {                                                                              \
        float *yr = y + (uint64_t)i * g->outsz + (uint64_t)oy * (uint64_t)OW + ox0;                \
        __m512 bv = _mm512_set1_ps(bias ? bias[i] : 0.0f);                                         \
        _mm512_mask_storeu_ps(yr, s0, _mm512_add_ps(a##i##_0, bv));                                \
        _mm512_mask_storeu_ps(yr + 16, s1, _mm512_add_ps(a##i##_1, bv));                           \
    }
    ACC_ALL(ACC_ZERO)
    for (int64_t c = 0; c < j->Cg; c++)
        for (int64_t ky = 0; ky < KH; ky++) {
            if (!ky_ok[ky]) continue;
            const float *xr = rows + (uint64_t)(c * KH + ky) * (uint64_t)(sw * j->row_w) + ox0;
            const float *w = wp + (uint64_t)((c * KH + ky) * KW) * DM;
            for (int64_t kx = 0; kx < KW; kx++, w += DM) {
                const float *xs = xr + koff[kx];
                __m512 v0 = _mm512_loadu_ps(xs);
                __m512 v1 = _mm512_loadu_ps(xs + 16);
                ACC_ALL(ACC_FMA)
            }
        }
    __mmask16 s0, s1;
    lane_masks(0, OW - ox0, &s0, &s1);
    ACC_ALL(ACC_STORE)
#undef ACC_ALL
#undef ACC_ZERO
#undef ACC_FMA
#undef ACC_STORE
}

/* Copies the input rows output row oy reads, for every channel of the
 * group, into rows[c][ky], zero padded, with padded column b at phase
 * b % s, position b / s: the kernel then loads whole vectors with no masks
 * at any stride, and the channels' rows sit close together (in x they are
 * a plane apart, the same L1 set for 2^n-float planes). */
static void gather_rows(const struct direct_job *j, const float *x, int64_t oy, float *rows,
                        int *ky_ok) {
    const struct nn_geom *g = j->g;
    int64_t IH = g->in[0], IW = g->in[1], KH = g->k[0], pl = g->pb[1], sw = g->s[1];
    int64_t rw = j->row_w;
    for (int64_t ky = 0; ky < KH; ky++) {
        int64_t iy = oy * g->s[0] + ky * g->d[0] - g->pb[0];
        ky_ok[ky] = iy >= 0 && iy < IH;
    }
    for (int64_t c = 0; c < j->Cg; c++)
        for (int64_t ky = 0; ky < KH; ky++) {
            if (!ky_ok[ky]) continue;
            int64_t iy = oy * g->s[0] + ky * g->d[0] - g->pb[0];
            const float *src = x + (uint64_t)c * g->insz + (uint64_t)(iy * IW);
            float *d = rows + (uint64_t)(c * KH + ky) * (uint64_t)(sw * rw);
            if (sw == 1) {
                memset(d, 0, (size_t)pl * sizeof *d);
                memcpy(d + pl, src, (size_t)IW * sizeof *d);
                memset(d + pl + IW, 0, (size_t)(rw - pl - IW) * sizeof *d);
                continue;
            }
            for (int64_t ph = 0; ph < sw; ph++, d += rw)
                for (int64_t pos = 0; pos < rw; pos++) {
                    int64_t col = pos * sw + ph - pl;
                    d[pos] = col >= 0 && col < IW ? src[col] : 0.0f;
                }
        }
}

/* Task t = (n*G + group) * OH + oy: one output row of every channel of a group. */
static void direct_row(void *vj, int64_t t, int thread) {
    const struct direct_job *j = vj;
    const struct nn_geom *g = j->g;
    int64_t OH = g->out[0], OW = g->out[1], oy = t % OH, ng = t / OH, n = ng / j->G, gi = ng % j->G;
    int64_t K = j->Cg * (int64_t)g->ksz;
    const float *x = j->x + ((uint64_t)n * (uint64_t)g->C + (uint64_t)(gi * j->Cg)) * g->insz;
    float *rows = j->rows + (uint64_t)thread * j->rows_floats;
    int ky_ok[DIRECT_MAX_K];
    gather_rows(j, x, oy, rows, ky_ok);
    for (int64_t mb = 0; mb < j->nmb; mb++) {
        int64_t m0 = gi * j->Mg + mb * DM, nr = j->Mg - mb * DM < DM ? j->Mg - mb * DM : DM;
        float *y = j->y + ((uint64_t)n * (uint64_t)j->M + (uint64_t)m0) * g->outsz;
        const float *wp = j->wp + (uint64_t)((gi * j->nmb + mb) * K) * DM;
        for (int64_t ox0 = 0; ox0 < OW; ox0 += DC)
            direct_chunk(j, rows, ky_ok, wp, y, oy, ox0, nr, j->b ? j->b + m0 : NULL);
        if (j->epi)
            for (int64_t i = 0; i < nr; i++)
                conv_epi_run(j->epi, y + (uint64_t)i * g->outsz + (uint64_t)oy * (uint64_t)OW,
                             (uint64_t)OW);
    }
}

void conv_direct(const struct nn_geom *g, int64_t G, int64_t M, const float *x, const float *w,
                 const float *b, float *y, float *scratch, const struct conv_epi *epi,
                 struct ia_pool *pool) {
    struct direct_job j = {g, x, scratch, b, y, epi, G, g->C / G, M / G, M, 0, NULL, 0, 0};
    j.nmb = (j.Mg + DM - 1) / DM;
    j.row_w = row_width(g);
    j.rows = scratch + (size_t)G * (size_t)j.nmb * (size_t)j.Cg * g->ksz * DM;
    j.rows_floats = (uint64_t)j.Cg * (uint64_t)g->k[0] * (uint64_t)(g->s[1] * j.row_w);
    pack_weights(&j, w, scratch);
    int64_t tasks = g->N * G * g->out[0];
    if (pool && tasks > 1)
        ia_pool_run(pool, tasks, direct_row, &j);
    else
        for (int64_t t = 0; t < tasks; t++) direct_row(&j, t, 0);
}
