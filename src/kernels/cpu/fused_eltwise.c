/* FusedElementwise (domain "ai.ia.fused", internal; see src/graph/fuse.c):
 * a chain of elementwise ops with scalar constants, run as one pass.
 *
 *   FusedElementwise(X) -> Y    Y has X's shape, float32
 *   attrs: ops INTS (opcodes in ew_prog.h), consts FLOATS (two per op)
 *
 * Blocks of 256 elements keep a and r in L1; each op is a simple loop over
 * a block (vectorised by the compiler); blocks are spread over the pool.
 * The same program runner is FusedConv's epilogue (conv.c). */
#include <string.h>

#include "ew_prog.h"

#define BLOCK 256

int ew_prog_parse(struct ia_op_ctx *ctx, struct ew_prog *p) {
    const int64_t *ops;
    const float *cs;
    size_t n = ia_attr_ints(ctx->node, "ops", &ops), nc = ia_attr_floats(ctx->node, "consts", &cs);
    if (n < 1 || n > EW_PROG_MAX_OPS || nc != 2 * n)
        return ia_op_error(ctx, IA_EINVAL, "%zu ops (1..%d) need %zu consts, got %zu", n,
                           EW_PROG_MAX_OPS, 2 * n, nc);
    p->n = (int)n;
    for (size_t i = 0; i < n; i++) {
        if (ops[i] < 0 || ops[i] >= EW_OP_COUNT)
            return ia_op_error(ctx, IA_EINVAL, "op %zu: opcode %lld unknown", i, (long long)ops[i]);
        p->op[i] = (int)ops[i];
        p->c0[i] = cs[2 * i];
        p->c1[i] = cs[2 * i + 1];
    }
    return IA_OK;
}

/* Cloned for AVX-512 and AVX2 (ifunc): the baseline build has 4-wide SSE.
 * The clone stays static behind a plain exported wrapper (clang 14 emits
 * no external symbol for an exported target_clones function). */
__attribute__((target_clones("avx512f", "arch=haswell", "default"))) static void
ew_block(const struct ew_prog *p, const float *x, float *y, int m) {
    float a[BLOCK], r[BLOCK];
    memcpy(a, x, (size_t)m * sizeof(float));
    for (int i = 0; i < p->n; i++) {
        float c0 = p->c0[i], c1 = p->c1[i];
        switch (p->op[i]) {
        case EW_OP_MULC: for (int k = 0; k < m; k++) a[k] *= c0; break;
        case EW_OP_ADDC: for (int k = 0; k < m; k++) a[k] += c0; break;
        case EW_OP_DIVC: for (int k = 0; k < m; k++) a[k] /= c0; break;
        case EW_OP_SUBC: for (int k = 0; k < m; k++) a[k] -= c0; break;
        case EW_OP_RSUBC: for (int k = 0; k < m; k++) a[k] = c0 - a[k]; break;
        case EW_OP_CLIP:
            for (int k = 0; k < m; k++) a[k] = a[k] < c0 ? c0 : a[k];
            for (int k = 0; k < m; k++) a[k] = a[k] > c1 ? c1 : a[k];
            break;
        case EW_OP_RELU: for (int k = 0; k < m; k++) a[k] = a[k] > 0.0f ? a[k] : 0.0f; break;
        case EW_OP_SAVE: memcpy(r, a, (size_t)m * sizeof(float)); break;
        case EW_OP_MULR: for (int k = 0; k < m; k++) a[k] *= r[k]; break;
        case EW_OP_ADDR: for (int k = 0; k < m; k++) a[k] += r[k]; break;
        case EW_OP_HSIG:
            for (int k = 0; k < m; k++) a[k] = c0 * a[k] + c1;
            for (int k = 0; k < m; k++) a[k] = a[k] < 0.0f ? 0.0f : a[k];
            for (int k = 0; k < m; k++) a[k] = a[k] > 1.0f ? 1.0f : a[k];
            break;
        case EW_OP_RDIVC: for (int k = 0; k < m; k++) a[k] = c0 / a[k]; break;
        }
    }
    memcpy(y, a, (size_t)m * sizeof(float));
}

void ew_prog_run(const struct ew_prog *p, const float *x, float *y, uint64_t n) {
    for (uint64_t o = 0; o < n; o += BLOCK)
        ew_block(p, x + o, y + o, (int)(n - o < BLOCK ? n - o : BLOCK));
}

static int ew_check(struct ia_op_ctx *ctx, struct ew_prog *p) {
    const struct ia_tensor *x = ctx->n_inputs ? ctx->inputs[0] : NULL;
    if (!x || ctx->n_outputs < 1 || !ctx->outputs[0])
        return ia_op_error(ctx, IA_EINVAL, "X and the output are required");
    if (x->dtype != IA_DTYPE_FLOAT32)
        return ia_op_error(ctx, IA_EUNSUPPORTED, "float32 only, got %s", ia_dtype_name(x->dtype));
    return ew_prog_parse(ctx, p);
}

static int ew_infer(struct ia_op_ctx *ctx) {
    struct ew_prog p;
    int rc = ew_check(ctx, &p);
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

static void ew_task(void *vj, int64_t t, int thread) {
    (void)thread;
    const struct ew_job *j = vj;
    uint64_t o = (uint64_t)t * BLOCK;
    ew_block(j->p, j->x + o, j->y + o, (int)(j->n - o < BLOCK ? j->n - o : BLOCK));
}

static int ew_compute(struct ia_op_ctx *ctx) {
    struct ew_prog p;
    int rc = ew_check(ctx, &p);
    struct ia_tensor *y = ctx->outputs[0];
    if (rc || y->numel == 0) return rc;
    struct ew_job j = {&p, ctx->inputs[0]->data, y->data, y->numel};
    int64_t blocks = (int64_t)((y->numel + BLOCK - 1) / BLOCK);
    if (ctx->pool && y->numel > 65536)
        ia_pool_run(ctx->pool, blocks, ew_task, &j);
    else
        for (int64_t t = 0; t < blocks; t++) ew_task(&j, t, 0);
    return IA_OK;
}

const struct ia_op_def ia_op_ia_FusedElementwise = {"ai.ia.fused", "FusedElementwise", 1, 0, ew_infer, ew_compute};
