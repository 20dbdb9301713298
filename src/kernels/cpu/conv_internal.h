/*
 * What the Conv kernels (conv.c, conv_dw.c) share. Private to them and to
 * fused_eltwise.c, which runs the epilogue programs.
 */
#ifndef IA_KERNELS_CONV_INTERNAL_H
#define IA_KERNELS_CONV_INTERNAL_H

#include "ew_prog.h"
#include "nn_util.h"

/* What runs on each finished piece of a Conv's output while it is still in
 * cache: the elementwise program of a fused activation chain (FusedConv). */
struct conv_epi {
    const struct ew_prog *prog;
};

static inline void conv_epi_run(const struct conv_epi *e, float *y, uint64_t n) {
    ew_prog_run(e->prog, y, y, n);
}

/* 1 when the depthwise kernel takes this Conv: 2-D, group == C == M, a
 * kernel at most 32 wide. */
int conv_depthwise_fits(const struct nn_geom *g, int64_t G, int64_t M);

/* y = depthwise Conv of x with w (and b, may be NULL), then epi (may be
 * NULL) over y; g from nn_geom_init. Planes split over pool (may be NULL). */
void conv_depthwise(const struct nn_geom *g, const float *x, const float *w, const float *b,
                    float *y, const struct conv_epi *epi, struct ia_pool *pool);

/* 1 when the implicit-GEMM kernel (conv_direct.c) takes this Conv: 2-D,
 * a stride of at most 4 along the width, a kernel of more than one tap and
 * at most 32 x 32, 8 to 64
 * output channels per group, and a CPU with AVX-512. */
int conv_direct_fits(const struct nn_geom *g, int64_t G, int64_t M);
/* Floats of scratch conv_direct needs: the repacked weights and, for each
 * of `threads` threads, the input rows of one output row. */
size_t conv_direct_scratch_floats(const struct nn_geom *g, int64_t G, int64_t M, int threads);
/* y = Conv of x with w (and b, may be NULL), then epi (may be NULL);
 * scratch holds conv_direct_scratch_floats floats for pool's thread
 * count (1 without a pool). Output rows are split over pool. */
void conv_direct(const struct nn_geom *g, int64_t G, int64_t M, const float *x, const float *w,
                 const float *b, float *y, float *scratch, const struct conv_epi *epi,
                 struct ia_pool *pool);

#endif
