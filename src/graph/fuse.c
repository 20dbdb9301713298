/*
 * Fusion: exported transformer graphs spell common layers as chains of
 * small ops, each a pass over memory. This pass finds those chains and
 * puts one "ai.ia.fused" node (src/kernels/cpu/fused.c) in their place:
 *
 *   MatMul(A, W) [-> Add(., b)] [-> GELU] [-> Add(., R)]
 *                                            FusedMatMul(A, W, b, Wpacked, R)
 *       (a bare MatMul too;
 *       R: a transformer's residual, any float32 value)
 *       W a float32 2-D constant; b a constant of N elements; GELU as
 *       torch exports it: erf form Div(x, sqrt2) Erf Add(1) Mul(x, .)
 *       Mul(0.5), or tanh form Mul(x,x) Mul(x,.) Mul(0.044715) Add(x,.)
 *       Mul(sqrt(2/pi)) Tanh Add(1) Mul(x,.) Mul(0.5). W is packed here,
 *       once, for the GEMM micro-kernel (a new constant value).
 *   FusedMatMuls without R that read the same A (Q, K, V)
 *                                            FusedMatMul(A, B1, b1, W1p, -, B2, ...)
 *       one node with a part (and an output) each, attr parts.
 *   ReduceMean(x) Sub Pow(2) ReduceMean Add(eps) Sqrt Div [Mul(g)] [Add(b)]
 *                                            FusedLayerNorm(x, g, b)
 *       both means over axes [-1] with keepdims; g, b constants.
 *   x -> Mul/Add/Sub/Div(scalar), Clip, Relu, HardSigmoid, ..., including
 *   x * f(x) and x + f(x) (HardSwish: x * Clip(x + 3, 0, 6) / 6)
 *                                            FusedElementwise(x)
 *       one pass instead of one per op; scalars are float32 constants of
 *       rank <= 1 and x is of rank >= 1 for sure (their broadcast is then
 *       x's shape).
 *   MatMul(q, k) [Div/Mul(c)] [Add(mask)] Softmax(-1) MatMul(., v)
 *   [Transpose(0,2,1,3)]                     FusedAttention(q, k, v, mask)
 *       with the Transposes that make q, k, v ([B,S,H,D] -> [B,H,S,D],
 *       K^T) folded into the op's layouts; q, k, v must be 4-D for sure
 *       (known shape or a 4-perm Transpose).
 *
 * Every intermediate value of a chain must be read by the chain alone (not
 * by another node, not a graph output), so removing it changes nothing
 * else. The fused node takes the graph position of the chain's last node
 * (every input it reads is computed before that); the other nodes of the
 * chain are marked folded, which makes every later pass and the executor
 * skip them.
 *
 * Memory: a fused node's arrays and its synthetic ONNX node (inputs,
 * attributes, names) live in one ia_malloc'd block whose start is the
 * node's `in` array, so ia_graph_free releases it like any node's. Packed
 * weights are `folded` data of new constant values, freed the same way.
 */
#include <math.h>
#include <string.h>

#include "graph/fuse.h"
#include "kernels/cpu/gemm.h"

struct fuse_ctx {
    struct ia_graph *g;
    int *uses;   /* (n_values) readers among live nodes; outputs count as many */
    int *packed; /* (n_values) id of W's packed constant, or -1 */
    size_t n_fused;
};

/* ---- matching helpers --------------------------------------------------------- */

static int is_op(const struct ia_graph_node *nd, const char *op) {
    const char *d = nd->src->domain;
    return !nd->folded && (!d[0] || !strcmp(d, "ai.onnx")) && !strcmp(nd->src->op_type, op);
}

/* The live node that produces value v, or NULL. */
static struct ia_graph_node *prod(struct fuse_ctx *c, int v) {
    if (v < 0) return NULL;
    int p = c->g->values[v].producer;
    if (p < 0 || c->g->nodes[p].folded) return NULL;
    return &c->g->nodes[p];
}

/* The only reader of v (a live node with v among its inputs), or NULL. */
static struct ia_graph_node *sole_reader(struct fuse_ctx *c, int v) {
    if (v < 0 || c->uses[v] != 1) return NULL;
    struct ia_graph *g = c->g;
    for (size_t i = (size_t)(g->values[v].producer + 1); i < g->n_nodes; i++) {
        struct ia_graph_node *nd = &g->nodes[i];
        if (nd->folded) continue;
        for (size_t k = 0; k < nd->n_in; k++)
            if (nd->in[k] == v) return nd->n_implicit ? NULL : nd;
    }
    return NULL;
}

/* v is a float32 constant of one element, within 1e-4 relative of want. */
static int const_near(const struct ia_graph *g, int v, float want) {
    if (!ia_graph_is_const_f32(g, v) || g->values[v].t.numel != 1) return 0;
    float f = *(const float *)g->values[v].t.data;
    return fabsf(f - want) <= 1e-4f * fabsf(want);
}

/* For a binary node with inputs (x, other) in either order: the other one. */
static int other_in(const struct ia_graph_node *nd, int x) {
    if (nd->n_in != 2) return -1;
    if (nd->in[0] == x) return nd->in[1];
    if (nd->in[1] == x) return nd->in[0];
    return -1;
}

static int out0(const struct ia_graph_node *nd) { return nd->n_out == 1 ? nd->out[0] : -1; }

/* ReduceMean over the last axis with keepdims, axes as an attribute. */
static int mean_last(const struct ia_graph_node *nd) {
    if (!is_op(nd, "ReduceMean") || nd->n_in != 1 || nd->opset >= 18) return 0;
    const int64_t *axes;
    size_t n = ia_attr_ints(nd->src, "axes", &axes);
    return n == 1 && axes[0] == -1 && ia_attr_int(nd->src, "keepdims", 1) == 1;
}

/* ---- building the fused node ------------------------------------------------------ */

/* Replaces node `last` by a fused node (op, inputs, one output, its
 * attributes) and marks the other chain nodes folded. */
static int put_fused(struct fuse_ctx *c, struct ia_graph_node *last, struct ia_graph_node **chain,
                     size_t n_chain, const char *op_type, const int *in, size_t n_in,
                     const struct ia_onnx_attr *attr, size_t n_attr) {
    struct ia_graph *g = c->g;
    const struct ia_op_def *op = ia_kernels_find("ai.ia.fused", op_type, 1);
    if (!op) return IA_OK; /* a build without the fused kernels: leave the graph */
    const char *base = last->src->name[0] ? last->src->name : g->values[last->out[0]].name;
    int rc = ia_graph_swap_node(g, last, op, 1, base, op_type, in, n_in, attr, n_attr);
    if (rc) return rc;
    for (size_t i = 0; i < n_chain; i++)
        if (chain[i] != last) chain[i]->folded = 1;
    c->n_fused++;
    return IA_OK;
}

/* A new constant value holding W packed for the GEMM micro-kernel; -1 when
 * this machine has no packed path. */
static int add_packed(struct fuse_ctx *c, int w, int *out_id) {
    struct ia_graph *g = c->g;
    *out_id = -1;
    if (c->packed[w] >= 0) {
        *out_id = c->packed[w];
        return IA_OK;
    }
    const struct ia_tensor *t = &g->values[w].t;
    int64_t K = t->dims[0], N = t->dims[1];
    size_t nf = ia_sgemm_packed_b_floats(IA_SGEMM_AUTO, K, N);
    float *p = ia_malloc(nf * sizeof(float) + 64);
    if (!p) return ia_error_set(IA_ENOMEM, "out of memory for a packed weight (%zu floats)", nf);
    if (ia_sgemm_pack_b(IA_SGEMM_AUTO, 0, K, N, t->data, N, p) != IA_OK) {
        ia_free(p);
        ia_error_clear();
        return IA_OK;
    }
    /* the pass's own per-value arrays first: the new value's entries */
    int *nu = ia_realloc(c->uses, (g->n_values + 1) * sizeof *nu);
    if (nu) c->uses = nu;
    int *np = nu ? ia_realloc(c->packed, (g->n_values + 1) * sizeof *np) : NULL;
    if (np) c->packed = np;
    if (!nu || !np) {
        ia_free(p);
        return ia_error_set(IA_ENOMEM, "out of memory");
    }
    int id, rc;
    int64_t d = (int64_t)nf;
    if ((rc = ia_graph_add_const_f32(g, w, 1, &d, p, &id)) != IA_OK) return rc;
    c->uses[id] = 1;
    c->packed[id] = -1;
    c->packed[w] = id;
    *out_id = id;
    return IA_OK;
}

/* ---- patterns ----------------------------------------------------------------------- */

/* GELU as torch exports it, starting from x (read only by the GELU). On a
 * match: the activation code, chain nodes appended, *y the output. */
static int match_gelu(struct fuse_ctx *c, int x, struct ia_graph_node **chain, size_t *n, int *y) {
    const struct ia_graph *g = c->g;
    struct ia_graph_node *r[8];
    size_t nr = 0;
    /* the readers of x, in graph order */
    for (size_t i = (size_t)(g->values[x].producer + 1); i < g->n_nodes && nr < 8; i++) {
        const struct ia_graph_node *nd = &g->nodes[i];
        if (nd->folded) continue;
        for (size_t k = 0; k < nd->n_in; k++)
            if (nd->in[k] == x) {
                r[nr++] = &g->nodes[i];
                break;
            }
    }
    if (nr == 2 && c->uses[x] == 2) { /* erf form */
        struct ia_graph_node *dv = r[0], *mx = r[1], *erf, *a1, *mh;
        int ok = (is_op(dv, "Div") && dv->in[0] == x && const_near(g, dv->in[1], 1.41421356f)) ||
                 (is_op(dv, "Mul") && const_near(g, other_in(dv, x), 0.70710678f));
        ok = ok && (erf = sole_reader(c, out0(dv))) && is_op(erf, "Erf");
        ok = ok && (a1 = sole_reader(c, out0(erf))) && is_op(a1, "Add") &&
             const_near(g, other_in(a1, out0(erf)), 1.0f);
        ok = ok && is_op(mx, "Mul") && other_in(mx, x) == out0(a1) && c->uses[out0(a1)] == 1;
        ok = ok && (mh = sole_reader(c, out0(mx))) && is_op(mh, "Mul") &&
             const_near(g, other_in(mh, out0(mx)), 0.5f);
        if (ok) {
            struct ia_graph_node *all[] = {dv, erf, a1, mx, mh};
            for (size_t i = 0; i < 5; i++) chain[(*n)++] = all[i];
            *y = out0(mh);
            return 1;
        }
    }
    if (nr == 4 && c->uses[x] == 5) { /* tanh form; Mul(x, x) reads x twice */
        struct ia_graph_node *sq = r[0], *cu = r[1], *ad = r[2], *mx = r[3], *m1, *m2, *th, *a1, *mh;
        int ok = is_op(sq, "Mul") && sq->in[0] == x && sq->in[1] == x;
        ok = ok && is_op(cu, "Mul") && other_in(cu, x) == out0(sq) && c->uses[out0(sq)] == 1;
        ok = ok && (m1 = sole_reader(c, out0(cu))) && is_op(m1, "Mul") &&
             const_near(g, other_in(m1, out0(cu)), 0.044715f);
        ok = ok && is_op(ad, "Add") && other_in(ad, x) == out0(m1) && c->uses[out0(m1)] == 1;
        ok = ok && (m2 = sole_reader(c, out0(ad))) && is_op(m2, "Mul") &&
             const_near(g, other_in(m2, out0(ad)), 0.7978845608f);
        ok = ok && (th = sole_reader(c, out0(m2))) && is_op(th, "Tanh");
        ok = ok && (a1 = sole_reader(c, out0(th))) && is_op(a1, "Add") &&
             const_near(g, other_in(a1, out0(th)), 1.0f);
        ok = ok && is_op(mx, "Mul") && other_in(mx, x) == out0(a1) && c->uses[out0(a1)] == 1;
        ok = ok && (mh = sole_reader(c, out0(mx))) && is_op(mh, "Mul") &&
             const_near(g, other_in(mh, out0(mx)), 0.5f);
        if (ok) {
            struct ia_graph_node *all[] = {sq, cu, m1, ad, m2, th, a1, mx, mh};
            for (size_t i = 0; i < 9; i++) chain[(*n)++] = all[i];
            *y = out0(mh);
            return 2;
        }
    }
    return 0;
}

static int fuse_matmul(struct fuse_ctx *c, struct ia_graph_node *mm) {
    struct ia_graph *g = c->g;
    if (!is_op(mm, "MatMul") || mm->n_in != 2 || mm->n_out != 1) return IA_OK;
    int a = mm->in[0], w = mm->in[1];
    if (!ia_graph_is_const_f32(g, w) || g->values[w].t.rank != 2 || ia_graph_is_const_f32(g, a)) return IA_OK;
    if (g->values[a].shape_known && g->values[a].t.dtype != IA_DTYPE_FLOAT32) return IA_OK;
    int64_t N = g->values[w].t.dims[1];
    struct ia_graph_node *chain[16] = {mm}, *add;
    size_t n = 1;
    int y = out0(mm), bias = -1, act = 0;
    if ((add = sole_reader(c, y)) && is_op(add, "Add")) {
        int b = other_in(add, y);
        /* rank 1: a bias of more dims would broadcast Y to a higher rank */
        if (ia_graph_is_const_f32(g, b) && g->values[b].t.rank == 1 && g->values[b].t.dims[0] == N) {
            bias = b;
            chain[n++] = add;
            y = out0(add);
        }
    }
    if (!g->values[y].is_output) act = match_gelu(c, y, chain, &n, &y);
    /* A residual Add after it (y + x of y's shape, or anything that
     * broadcasts): added on each tile too. */
    int res = -1;
    if (!g->values[y].is_output && (add = sole_reader(c, y)) && is_op(add, "Add") &&
        add->n_in == 2 && add->in[0] != add->in[1]) {
        int r = other_in(add, y);
        if (r >= 0 && (!g->values[r].shape_known || g->values[r].t.dtype == IA_DTYPE_FLOAT32)) {
            res = r;
            chain[n++] = add;
            y = out0(add);
        }
    }
    /* A bare MatMul gains from the packed weight too (GPT-2's 768 x 50257
     * logits product packed B in every run, and a decode step's few rows
     * read the packed slivers faster than B as it is). */
    int packed;
    int rc = add_packed(c, w, &packed);
    if (rc) return rc;
    int in[5] = {a, w, bias, packed, res};
    struct ia_onnx_attr at = {.name = "act", .type = IA_ONNX_ATTR_INT, .i = act};
    return put_fused(c, &g->nodes[g->values[y].producer], chain, n, "FusedMatMul", in,
                     res >= 0 ? 5 : 4, &at, 1);
}

/* FusedMatMuls (no residual, B packed, one activation) that read the same
 * A -> one FusedMatMul with a part each (a transformer's Q, K and V
 * projections): A is packed once and the three products run as one pool
 * job. The merged node takes the first one's place: the others read
 * nothing computed after it (A, and constants). */
static int is_plain_fmm(const struct ia_graph_node *nd) {
    return !nd->folded && nd->op && !strcmp(nd->op->op_type, "FusedMatMul") &&
           !strcmp(nd->op->domain, "ai.ia.fused") && nd->n_in == 4 && nd->n_out == 1 &&
           nd->in[3] >= 0 && ia_attr_int(nd->src, "parts", 1) == 1;
}

#define MAX_PARTS 16 /* FMM_MAX_PARTS in fused.c */

static int merge_matmuls(struct fuse_ctx *c, struct ia_graph_node *first) {
    struct ia_graph *g = c->g;
    if (!is_plain_fmm(first)) return IA_OK;
    int a = first->in[0];
    int64_t act = ia_attr_int(first->src, "act", 0);
    struct ia_graph_node *part[MAX_PARTS] = {first};
    size_t n = 1;
    for (size_t i = (size_t)(first - g->nodes) + 1; i < g->n_nodes && n < MAX_PARTS; i++) {
        struct ia_graph_node *nd = &g->nodes[i];
        if (is_plain_fmm(nd) && nd->in[0] == a && ia_attr_int(nd->src, "act", 0) == act)
            part[n++] = nd;
    }
    if (n < 2) return IA_OK;
    int in[4 * MAX_PARTS], out[MAX_PARTS];
    for (size_t p = 0; p < n; p++) {
        in[4 * p] = p ? -1 : a; /* slot 4p: A for part 0, else part p-1's (absent) R */
        for (int k = 1; k < 4; k++) in[4 * p + (size_t)k] = part[p]->in[k];
        out[p] = part[p]->out[0];
    }
    struct ia_onnx_attr at[2] = {{.name = "act", .type = IA_ONNX_ATTR_INT, .i = act},
                                 {.name = "parts", .type = IA_ONNX_ATTR_INT, .i = (int64_t)n}};
    const char *base = first->src->name[0] ? first->src->name : g->values[out[0]].name;
    int rc = ia_graph_swap_node_outs(g, first, first->op, 1, base, "parts", in, 4 * n, out, n,
                                     at, 2);
    if (rc) return rc;
    for (size_t p = 1; p < n; p++) {
        part[p]->folded = 1;
        g->values[out[p]].producer = (int)(first - g->nodes);
    }
    c->n_fused++;
    return IA_OK;
}

static int fuse_layernorm(struct fuse_ctx *c, struct ia_graph_node *dv) {
    struct ia_graph *g = c->g;
    if (!is_op(dv, "Div") || dv->n_in != 2) return IA_OK;
    int d = dv->in[0];
    struct ia_graph_node *sq = prod(c, dv->in[1]), *ae, *rm2, *pw, *sub, *rm1;
    int ok = sq && is_op(sq, "Sqrt") && c->uses[out0(sq)] == 1;
    ok = ok && (ae = prod(c, sq->in[0])) && is_op(ae, "Add") && c->uses[out0(ae)] == 1;
    int var_v = -1, eps_v = -1;
    if (ok && ae->n_in == 2) {
        int k = ia_graph_is_const_f32(g, ae->in[0]) ? 0 : 1; /* Add(var, eps) or Add(eps, var) */
        eps_v = ae->in[k];
        var_v = ae->in[1 - k];
    }
    ok = ok && (rm2 = prod(c, var_v)) && mean_last(rm2) && c->uses[var_v] == 1;
    ok = ok && ia_graph_is_const_f32(g, eps_v) && g->values[eps_v].t.numel == 1;
    ok = ok && (pw = prod(c, rm2->in[0])) && is_op(pw, "Pow") && pw->in[0] == d &&
         const_near(g, pw->in[1], 2.0f) && c->uses[out0(pw)] == 1;
    ok = ok && (sub = prod(c, d)) && is_op(sub, "Sub") && c->uses[d] == 2;
    ok = ok && (rm1 = prod(c, sub->in[1])) && mean_last(rm1) && rm1->in[0] == sub->in[0] &&
         c->uses[out0(rm1)] == 1;
    if (!ok) return IA_OK;
    int x = sub->in[0], y = out0(dv), scale = -1, bias = -1;
    struct ia_graph_node *chain[9] = {rm1, sub, pw, rm2, ae, sq, dv}, *mul, *add;
    size_t n = 7;
    /* scale and bias must have the normalised dim's size; with x's shape
     * unknown here, FusedLayerNorm checks that at run time. */
    if (!g->values[y].is_output && (mul = sole_reader(c, y)) && is_op(mul, "Mul") &&
        ia_graph_is_const_f32(g, other_in(mul, y)) && g->values[other_in(mul, y)].t.rank == 1) {
        scale = other_in(mul, y);
        chain[n++] = mul;
        y = out0(mul);
        if (!g->values[y].is_output && (add = sole_reader(c, y)) && is_op(add, "Add") &&
            ia_graph_is_const_f32(g, other_in(add, y)) && g->values[other_in(add, y)].t.rank == 1) {
            bias = other_in(add, y);
            chain[n++] = add;
            y = out0(add);
        }
    }
    /* The normalised dim must match scale/bias when x's shape is known. */
    const struct ia_graph_value *xv = &g->values[x];
    if (xv->shape_known && xv->t.rank >= 1) {
        int64_t last = xv->t.dims[xv->t.rank - 1];
        if ((scale >= 0 && g->values[scale].t.numel != (uint64_t)last) ||
            (bias >= 0 && g->values[bias].t.numel != (uint64_t)last))
            return IA_OK;
    }
    float eps = *(const float *)g->values[eps_v].t.data;
    int in[3] = {x, scale, bias};
    struct ia_onnx_attr at = {.name = "epsilon", .type = IA_ONNX_ATTR_FLOAT, .f = eps};
    return put_fused(c, &g->nodes[g->values[y].producer], chain, n, "FusedLayerNorm", in, 3, &at, 1);
}

/* A Transpose node with exactly this 4-element perm. */
static int is_transpose4(const struct ia_graph_node *nd, int64_t a, int64_t b, int64_t c, int64_t d) {
    if (!nd || !is_op(nd, "Transpose") || nd->n_in != 1) return 0;
    const int64_t *p;
    size_t n = ia_attr_ints(nd->src, "perm", &p);
    return n == 4 && p[0] == a && p[1] == b && p[2] == c && p[3] == d;
}

/* Value v is 4-D for sure: its shape is known, or a 4-perm Transpose made it. */
static int rank4(struct fuse_ctx *c, int v) {
    const struct ia_graph_value *gv = &c->g->values[v];
    if (gv->shape_known) return gv->t.rank == 4;
    struct ia_graph_node *p = prod(c, v);
    const int64_t *perm;
    return p && is_op(p, "Transpose") && ia_attr_ints(p->src, "perm", &perm) == 4;
}

/* MatMul(Q, K^T) [Div/Mul by a constant] [Add mask] Softmax(last axis)
 * MatMul(., V) [Transpose(0,2,1,3)], with the head Transposes of Q, K and
 * V taken in when only the chain reads them. */
static int fuse_attention(struct fuse_ctx *c, struct ia_graph_node *sm) {
    struct ia_graph *g = c->g;
    if (!is_op(sm, "Softmax") || sm->n_in != 1 || sm->n_out != 1) return IA_OK;
    int64_t axis = ia_attr_int(sm->src, "axis", sm->opset < 13 ? 1 : -1);
    if (axis != -1 && axis != 3) return IA_OK;
    struct ia_graph_node *chain[12], *pv, *x;
    size_t n = 0;
    int v = sm->in[0], mask = -1;
    float scale = 1.0f;
    x = prod(c, v);
    if (x && is_op(x, "Add") && x->n_in == 2 && c->uses[v] == 1) {
        /* the scores side is the one a MatMul made, maybe through a scaling
         * Div/Mul (the mask may be a Mul too: (1 - m) * -10000) */
        int k = -1;
        for (int i = 0; i < 2 && k < 0; i++) {
            struct ia_graph_node *p = prod(c, x->in[i]);
            if (p && (is_op(p, "Div") || is_op(p, "Mul")) && p->n_in == 2) p = prod(c, p->in[0]);
            if (p && is_op(p, "MatMul")) k = i;
        }
        if (k < 0) return IA_OK;
        chain[n++] = x;
        mask = x->in[1 - k];
        v = x->in[k];
        if (g->values[mask].shape_known && g->values[mask].t.dtype != IA_DTYPE_FLOAT32) return IA_OK;
        x = prod(c, v);
    }
    if (x && (is_op(x, "Div") || is_op(x, "Mul")) && x->n_in == 2 && c->uses[v] == 1 &&
        ia_graph_is_const_f32(g, x->in[1]) && g->values[x->in[1]].t.numel == 1) {
        float f = *(const float *)g->values[x->in[1]].t.data;
        if (is_op(x, "Div") && f == 0.0f) return IA_OK;
        scale = is_op(x, "Div") ? 1.0f / f : f;
        chain[n++] = x;
        v = x->in[0];
        x = prod(c, v);
    }
    if (!x || !is_op(x, "MatMul") || x->n_in != 2 || c->uses[v] != 1) return IA_OK;
    struct ia_graph_node *qk = x;
    chain[n++] = qk;
    chain[n++] = sm;
    if (!(pv = sole_reader(c, out0(sm))) || !is_op(pv, "MatMul") || pv->in[0] != out0(sm) ||
        pv->in[1] == out0(sm))
        return IA_OK;
    chain[n++] = pv;
    int q = qk->in[0], k = qk->in[1], vv = pv->in[1], y = out0(pv);
    if (!rank4(c, q) || !rank4(c, k) || !rank4(c, vv)) return IA_OK;
    int ql = 0, kl = 0, vl = 0, ol = 0;
    struct ia_graph_node *t;
    if (c->uses[q] == 1 && (t = prod(c, q)) && is_transpose4(t, 0, 2, 1, 3)) {
        chain[n++] = t;
        q = t->in[0];
        ql = 1;
    }
    if (c->uses[k] == 1 && (t = prod(c, k))) {
        if (is_transpose4(t, 0, 2, 3, 1)) kl = 1;
        if (is_transpose4(t, 0, 1, 3, 2)) kl = 2;
        if (kl) {
            chain[n++] = t;
            k = t->in[0];
        }
    }
    if (c->uses[vv] == 1 && (t = prod(c, vv)) && is_transpose4(t, 0, 2, 1, 3)) {
        chain[n++] = t;
        vv = t->in[0];
        vl = 1;
    }
    if (!g->values[y].is_output && (t = sole_reader(c, y)) && is_transpose4(t, 0, 2, 1, 3)) {
        chain[n++] = t;
        y = out0(t);
        ol = 1;
    }
    int in[4] = {q, k, vv, mask};
    struct ia_onnx_attr at[5] = {
        {.name = "scale", .type = IA_ONNX_ATTR_FLOAT, .f = scale},
        {.name = "q_layout", .type = IA_ONNX_ATTR_INT, .i = ql},
        {.name = "k_layout", .type = IA_ONNX_ATTR_INT, .i = kl},
        {.name = "v_layout", .type = IA_ONNX_ATTR_INT, .i = vl},
        {.name = "out_layout", .type = IA_ONNX_ATTR_INT, .i = ol},
    };
    return put_fused(c, &g->nodes[g->values[y].producer], chain, n, "FusedAttention", in,
                     mask >= 0 ? 4 : 3, at, 5);
}

/* ---- elementwise chains ------------------------------------------------------------ */

/* Opcodes of FusedElementwise (src/kernels/cpu/fused_eltwise.c). */
enum { EW_MULC, EW_ADDC, EW_DIVC, EW_SUBC, EW_RSUBC, EW_CLIP, EW_RELU, EW_SAVE, EW_MULR, EW_ADDR,
       EW_HSIG, EW_RDIVC };
#define EW_MAX 64

struct ew_prog {
    int n, n_const;
    int64_t op[EW_MAX];
    float cs[2 * EW_MAX];
};

static int ew_add(struct ew_prog *p, int op, float c0, float c1) {
    if (p->n >= EW_MAX) return 0;
    p->op[p->n] = op;
    p->cs[2 * p->n] = c0;
    p->cs[2 * p->n + 1] = c1;
    p->n++;
    return 1;
}

/* A float32 constant of one element and rank <= 1: on a tensor of rank >= 1
 * it broadcasts without changing the shape. */
static int scalar_of(const struct ia_graph *g, int v, float *f) {
    if (!ia_graph_is_const_f32(g, v) || g->values[v].t.numel != 1 || g->values[v].t.rank > 1) return 0;
    *f = *(const float *)g->values[v].t.data;
    return 1;
}

/* The instruction node nd makes of value v (read as its data input), or 0. */
static int ew_instr(const struct ia_graph *g, const struct ia_graph_node *nd, int v,
                    struct ew_prog *p) {
    float f, lo, hi;
    if (nd->n_out != 1 || nd->n_implicit) return 0;
    if (nd->n_in == 2 && nd->in[0] == v && nd->in[1] != v && scalar_of(g, nd->in[1], &f)) {
        if (is_op(nd, "Mul")) return p->n_const++, ew_add(p, EW_MULC, f, 0);
        if (is_op(nd, "Add")) return p->n_const++, ew_add(p, EW_ADDC, f, 0);
        if (is_op(nd, "Div")) return p->n_const++, ew_add(p, EW_DIVC, f, 0);
        if (is_op(nd, "Sub")) return p->n_const++, ew_add(p, EW_SUBC, f, 0);
    }
    if (nd->n_in == 2 && nd->in[1] == v && nd->in[0] != v && scalar_of(g, nd->in[0], &f)) {
        if (is_op(nd, "Mul")) return p->n_const++, ew_add(p, EW_MULC, f, 0);
        if (is_op(nd, "Add")) return p->n_const++, ew_add(p, EW_ADDC, f, 0);
        if (is_op(nd, "Div")) return p->n_const++, ew_add(p, EW_RDIVC, f, 0);
        if (is_op(nd, "Sub")) return p->n_const++, ew_add(p, EW_RSUBC, f, 0);
    }
    if (is_op(nd, "Relu") && nd->n_in == 1) return ew_add(p, EW_RELU, 0, 0);
    if (is_op(nd, "HardSigmoid") && nd->n_in == 1)
        return ew_add(p, EW_HSIG, ia_attr_float(nd->src, "alpha", 0.2f),
                      ia_attr_float(nd->src, "beta", 0.5f));
    if (is_op(nd, "Clip") && nd->n_in >= 1 && nd->in[0] == v) {
        lo = -3.402823466e38f, hi = 3.402823466e38f;
        if (nd->opset < 11) {
            lo = ia_attr_float(nd->src, "min", lo);
            hi = ia_attr_float(nd->src, "max", hi);
        } else {
            if (nd->n_in > 1 && nd->in[1] >= 0 && !scalar_of(g, nd->in[1], &lo)) return 0;
            if (nd->n_in > 2 && nd->in[2] >= 0 && !scalar_of(g, nd->in[2], &hi)) return 0;
        }
        return ew_add(p, EW_CLIP, lo, hi);
    }
    return 0;
}

/* The live readers of v, in graph order (up to max). */
static size_t readers(struct fuse_ctx *c, int v, struct ia_graph_node **r, size_t max) {
    struct ia_graph *g = c->g;
    size_t n = 0;
    for (size_t i = (size_t)(g->values[v].producer + 1); i < g->n_nodes && n < max; i++) {
        struct ia_graph_node *nd = &g->nodes[i];
        if (nd->folded) continue;
        for (size_t k = 0; k < nd->n_in; k++)
            if (nd->in[k] == v) {
                r[n++] = nd;
                break;
            }
    }
    return n;
}

/* From value x, the longest chain of instructions; chain nodes appended. */
static int ew_walk(struct fuse_ctx *c, int x, struct ew_prog *p, struct ia_graph_node **chain,
                   size_t *n, int *y) {
    struct ia_graph *g = c->g;
    int v = x;
    for (;;) {
        if (g->values[v].is_output || *n + 2 >= 2 * EW_MAX) break;
        struct ia_graph_node *r[3];
        size_t nr = readers(c, v, r, 3);
        if (nr == 1 && c->uses[v] == 1 && ew_instr(g, r[0], v, p)) {
            chain[(*n)++] = r[0];
            v = out0(r[0]);
            continue;
        }
        if (nr == 2 && c->uses[v] == 2) { /* v * f(v) or v + f(v): SAVE, f, MULR/ADDR */
            for (int jn = 0; jn < 2; jn++) {
                struct ia_graph_node *join = r[jn], *s = r[1 - jn];
                int is_mul = is_op(join, "Mul"), is_add = is_op(join, "Add");
                if ((!is_mul && !is_add) || join->n_in != 2 || join->n_out != 1) continue;
                int w = other_in(join, v);
                if (w < 0 || w == v) continue;
                struct ew_prog q = *p;
                size_t m = *n;
                ew_add(&q, EW_SAVE, 0, 0);
                int cur = v;
                struct ia_graph_node *nd = s;
                while (nd != join && ew_instr(g, nd, cur, &q) && m + 2 < 2 * EW_MAX) {
                    chain[m++] = nd;
                    cur = out0(nd);
                    if (g->values[cur].is_output || c->uses[cur] != 1) break;
                    nd = sole_reader(c, cur);
                    if (!nd) break;
                }
                if (cur == w && nd == join && c->uses[w] == 1 &&
                    ew_add(&q, is_mul ? EW_MULR : EW_ADDR, 0, 0)) {
                    chain[m++] = join;
                    *p = q;
                    *n = m;
                    v = out0(join);
                    goto next;
                }
            }
        }
        break;
    next:;
    }
    *y = v;
    return p->n;
}

/* A value of rank >= 1 for sure, so scalar constants keep its shape. */
static int rank_ge1(struct fuse_ctx *c, int v) {
    const struct ia_graph_value *gv = &c->g->values[v];
    if (gv->shape_known) return gv->t.rank >= 1 && gv->t.dtype == IA_DTYPE_FLOAT32;
    struct ia_graph_node *p = prod(c, v);
    if (p && !p->folded && !strcmp(p->src->domain, "ai.ia.fused") &&
        !strcmp(p->src->op_type, "FusedMatMul"))
        return 1; /* A's shape with the last dim N: A has rank >= 1 */
    return p && (is_op(p, "Conv") || is_op(p, "ConvTranspose") || is_op(p, "BatchNormalization") ||
                 is_op(p, "MatMul") || is_op(p, "Gemm") || is_op(p, "Resize") ||
                 is_op(p, "Concat") || is_op(p, "GlobalAveragePool") || is_op(p, "MaxPool") ||
                 is_op(p, "AveragePool"));
}

static int fuse_eltwise(struct fuse_ctx *c, struct ia_graph_node *start) {
    if (start->folded || start->n_out != 1 || out0(start) < 0) return IA_OK;
    int x = out0(start), y;
    if (!rank_ge1(c, x)) return IA_OK;
    struct ew_prog p = {0};
    struct ia_graph_node *chain[2 * EW_MAX];
    size_t n = 0;
    ew_walk(c, x, &p, chain, &n, &y);
    /* worth a node only when it saves passes; a float constant pins float32 */
    if (p.n < 2 || p.n_const < 1) return IA_OK;
    int in[1] = {x};
    struct ia_onnx_attr at[2] = {
        {.name = "ops", .type = IA_ONNX_ATTR_INTS, .n = (size_t)p.n, .ints = p.op},
        {.name = "consts", .type = IA_ONNX_ATTR_FLOATS, .n = 2 * (size_t)p.n, .floats = p.cs},
    };
    return put_fused(c, &c->g->nodes[c->g->values[y].producer], chain, n, "FusedElementwise", in,
                     1, at, 2);
}

/* ---- the pass ------------------------------------------------------------------------- */

static void count_uses(struct fuse_ctx *c) {
    struct ia_graph *g = c->g;
    memset(c->uses, 0, g->n_values * sizeof *c->uses);
    for (size_t i = 0; i < g->n_nodes; i++) {
        const struct ia_graph_node *nd = &g->nodes[i];
        if (nd->folded) continue;
        for (size_t k = 0; k < nd->n_in; k++)
            if (nd->in[k] >= 0) c->uses[nd->in[k]]++;
        for (size_t k = 0; k < nd->n_implicit; k++)
            if (nd->implicit[k] >= 0) c->uses[nd->implicit[k]] += 2; /* never fuse these */
    }
    for (size_t i = 0; i < g->n_outputs; i++) c->uses[g->outputs[i]] += 2;
}

int ia_graph_fuse(struct ia_graph *g, size_t *n_fused) {
    if (n_fused) *n_fused = 0;
    struct fuse_ctx c = {.g = g};
    /* Before the counts below: it adds values, and the Relu after a BN
     * must see the Conv (fuse_conv.c). */
    int rc = ia_graph_fold_conv_bn(g, &c.n_fused);
    if (rc != IA_OK) return rc;
    size_t nv = g->n_values ? g->n_values : 1;
    c.uses = ia_malloc(nv * sizeof *c.uses);
    c.packed = ia_malloc(nv * sizeof *c.packed);
    if (!c.uses || !c.packed) {
        ia_free(c.uses);
        ia_free(c.packed);
        return ia_error_set(IA_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < g->n_values; i++) c.packed[i] = -1;
    count_uses(&c);
    /* LayerNorm first: its final Add must not be taken for a bias Add. */
    for (size_t i = 0; rc == IA_OK && i < g->n_nodes; i++) rc = fuse_layernorm(&c, &g->nodes[i]);
    count_uses(&c); /* the fused nodes read less than the chains did */
    for (size_t i = 0; rc == IA_OK && i < g->n_nodes; i++) rc = fuse_attention(&c, &g->nodes[i]);
    count_uses(&c);
    for (size_t i = 0; rc == IA_OK && i < g->n_nodes; i++) rc = fuse_matmul(&c, &g->nodes[i]);
    for (size_t i = 0; rc == IA_OK && i < g->n_nodes; i++) rc = merge_matmuls(&c, &g->nodes[i]);
    count_uses(&c);
    /* what is left: chains of scalar elementwise ops after any node */
    for (size_t i = 0; rc == IA_OK && i < g->n_nodes; i++) rc = fuse_eltwise(&c, &g->nodes[i]);
    if (rc == IA_OK) rc = ia_graph_fuse_conv(g, &c.n_fused); /* fuse_conv.c */
    if (rc == IA_OK) rc = ia_graph_fuse_rnn(g, &c.n_fused);  /* fuse_rnn.c */
    ia_free(c.uses);
    ia_free(c.packed);
    ia_graph_lifetimes(g);
    if (n_fused) *n_fused = c.n_fused;
    return rc;
}
