/*
 * The elementwise programs of FusedElementwise and of FusedConv's epilogue
 * (fused_eltwise.c; built by src/graph/fuse.c and fuse_conv.c).
 *
 * A program runs on an accumulator a, starting at x, and one saved
 * register r (for x * f(x) shapes such as HardSwish, x * clip(x+3,0,6)/6):
 *   0 a *= c0      1 a += c0      2 a /= c0      3 a -= c0     4 a = c0 - a
 *   5 clip: a < c0 ? c0 : a, then a > c1 ? c1 : a (NaN passes, as Clip)
 *   6 relu         7 r = a        8 a *= r       9 a += r
 *  10 hard sigmoid: clip(c0 * a + c1, 0, 1)      11 a = c0 / a
 * Each op is the same float arithmetic the unfused op does, in the same
 * order, so results match it exactly (division stays division).
 */
#ifndef IA_KERNELS_EW_PROG_H
#define IA_KERNELS_EW_PROG_H

#include <stdint.h>

#include "ia/kernels.h"

#define EW_PROG_MAX_OPS 64

enum {
    EW_OP_MULC,
    EW_OP_ADDC,
    EW_OP_DIVC,
    EW_OP_SUBC,
    EW_OP_RSUBC,
    EW_OP_CLIP,
    EW_OP_RELU,
    EW_OP_SAVE,
    EW_OP_MULR,
    EW_OP_ADDR,
    EW_OP_HSIG,
    EW_OP_RDIVC,
    EW_OP_COUNT
};

struct ew_prog {
    int n;
    int op[EW_PROG_MAX_OPS];
    float c0[EW_PROG_MAX_OPS], c1[EW_PROG_MAX_OPS];
};

/* Reads the node's "ops" INTS and "consts" FLOATS (two per op) into p; an
 * error on the op context when they are missing or malformed. */
int ew_prog_parse(struct ia_op_ctx *ctx, struct ew_prog *p);

/* y[i] = program(x[i]) for i < n; y may be x. */
void ew_prog_run(const struct ew_prog *p, const float *x, float *y, uint64_t n);

#endif
