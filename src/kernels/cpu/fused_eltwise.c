/* FusedElementwise (domain "ai.ia.fused", internal; see src/graph/fuse.c):
 * a chain of elementwise ops with scalar constants, run as one pass.
 *
 *   FusedElementwise(X) -> Y    Y has X's shape, float32
 *   attrs: ops INTS (opcodes below), consts FLOATS (two per op)
 *
 * The program runs on an accumulator a, starting at X, and one saved
 * register r (for x * f(x) shapes such as HardSwish, x * clip(x+3,0,6)/6):
 *   0 a *= c0      1 a += c0      2 a /= c0      3 a -= c0     4 a = c0 - a
 *   5 clip: a < c0 ? c0 : a, then a > c1 ? c1 : a (NaN passes, as Clip)
 *   6 relu         7 r = a        8 a *= r       9 a += r
 *  10 hard sigmoid: clip(c0 * a + c1, 0, 1)      11 a = c0 / a
 * Each op is the same float arithmetic the unfused op does, in the same
 * order, so results match it exactly (division stays division). Blocks of
 * 256 elements keep a and r in L1; each op is a simple loop over a block
 * (vectorised by the compiler); blocks are spread over the pool. */
#include <string.h>

#include "ia/kernels.h"

#define BLOCK 256
#define MAX_OPS 64

enum { OP_MULC, OP_ADDC, OP_DIVC, OP_SUBC, OP_RSUBC, OP_CLIP, OP_RELU, OP_SAVE, OP_MULR,
       OP_ADDR, OP_HSIG, OP_RDIVC, OP_COUNT };

struct ew_prog {
    int n;
    int op[MAX_OPS];
    float c0[MAX_OPS], c1[MAX_OPS];
};

static int ew_parse(struct ia_op_ctx *ctx, struct ew_prog *p) {
    const int64_t *ops;
    const float *cs;
    size_t n = ia_attr_ints(ctx->node, "ops", &ops), nc = ia_attr_floats(ctx->node, "consts", &cs);
    const struct ia_tensor *x = ctx->n_inputs ? ctx->inputs[0] : NULL;
    if (!x || ctx->n_outputs < 1 || !ctx->outputs[0])
        return ia_op_error(ctx, IA_EINVAL, "X and the output are required");
    if (x->dtype != IA_DTYPE_FLOAT32)
        return ia_op_error(ctx, IA_EUNSUPPORTED, "float32 only, got %s", ia_dtype_name(x->dtype));
    if (n < 1 || n > MAX_OPS || nc != 2 * n)
        return ia_op_error(ctx, IA_EINVAL, "%zu ops (1..%d) need %zu consts, got %zu", n, MAX_OPS,
                           2 * n, nc);
    p->n = (int)n;
    for (size_t i = 0; i < n; i++) {
        if (ops[i] < 0 || ops[i] >= OP_COUNT)
            return ia_op_error(ctx, IA_EINVAL, "op %zu: opcode %lld unknown", i, (long long)ops[i]);
        p->op[i] = (int)ops[i];
        p->c0[i] = cs[2 * i];
        p->c1[i] = cs[2 * i + 1];
    }
    return IA_OK;
}

static int ew_infer(struct ia_op_ctx *ctx) {
    struct ew_prog p;
    int rc = ew_parse(ctx, &p);
    if (rc) return rc;
    const struct ia_tensor *x = ctx->inputs[0];
    return ia_tensor_set_shape(ctx->outputs[0], IA_DTYPE_FLOAT32, x->rank, x->dims);
}

struct ew_job {
    const struct ew_prog *p;
    const float *x;
    float *y;
    uint64_t n;
};

/* Cloned for AVX-512 and AVX2 (ifunc): the baseline build has 4-wide SSE. */
__attribute__((target_clones("avx512f", "arch=haswell", "default"))) static void
ew_block(void *vj, int64_t t, int thread) {
    (void)thread;
    const struct ew_job *j = vj;
    const struct ew_prog *p = j->p;
    uint64_t o = (uint64_t)t * BLOCK;
    int m = (int)(j->n - o < BLOCK ? j->n - o : BLOCK);
    float a[BLOCK], r[BLOCK];
    memcpy(a, j->x + o, (size_t)m * sizeof(float));
    for (int i = 0; i < p->n; i++) {
        float c0 = p->c0[i], c1 = p->c1[i];
        switch (p->op[i]) {
        case OP_MULC: for (int k = 0; k < m; k++) a[k] *= c0; break;
        case OP_ADDC: for (int k = 0; k < m; k++) a[k] += c0; break;
        case OP_DIVC: for (int k = 0; k < m; k++) a[k] /= c0; break;
        case OP_SUBC: for (int k = 0; k < m; k++) a[k] -= c0; break;
        case OP_RSUBC: for (int k = 0; k < m; k++) a[k] = c0 - a[k]; break;
        case OP_CLIP:
            for (int k = 0; k < m; k++) a[k] = a[k] < c0 ? c0 : a[k];
            for (int k = 0; k < m; k++) a[k] = a[k] > c1 ? c1 : a[k];
            break;
        case OP_RELU: for (int k = 0; k < m; k++) a[k] = a[k] > 0.0f ? a[k] : 0.0f; break;
        case OP_SAVE: memcpy(r, a, (size_t)m * sizeof(float)); break;
        case OP_MULR: for (int k = 0; k < m; k++) a[k] *= r[k]; break;
        case OP_ADDR: for (int k = 0; k < m; k++) a[k] += r[k]; break;
        case OP_HSIG:
            for (int k = 0; k < m; k++) a[k] = c0 * a[k] + c1;
            for (int k = 0; k < m; k++) a[k] = a[k] < 0.0f ? 0.0f : a[k];
            for (int k = 0; k < m; k++) a[k] = a[k] > 1.0f ? 1.0f : a[k];
            break;
        case OP_RDIVC: for (int k = 0; k < m; k++) a[k] = c0 / a[k]; break;
        }
    }
    memcpy(j->y + o, a, (size_t)m * sizeof(float));
}

static int ew_compute(struct ia_op_ctx *ctx) {
    struct ew_prog p;
    int rc = ew_parse(ctx, &p);
    struct ia_tensor *y = ctx->outputs[0];
    if (rc || y->numel == 0) return rc;
    struct ew_job j = {&p, ctx->inputs[0]->data, y->data, y->numel};
    int64_t blocks = (int64_t)((y->numel + BLOCK - 1) / BLOCK);
    if (ctx->pool && y->numel > 65536)
        ia_pool_run(ctx->pool, blocks, ew_block, &j);
    else
        for (int64_t t = 0; t < blocks; t++) ew_block(&j, t, 0);
    return IA_OK;
}

const struct ia_op_def ia_op_ia_FusedElementwise = {"ai.ia.fused", "FusedElementwise", 1, 0, ew_infer, ew_compute};
