/*
 * Conv epilogue fusion, run at the end of ia_graph_fuse (fuse.c), after
 * the elementwise chains became FusedElementwise nodes:
 *
 *   Conv(X, W[, B]) -> FusedElementwise      FusedConv(X, W[, B])
 *   Conv(X, W[, B]) -> Relu                  FusedConv(X, W[, B])
 *
 * CNNs put an activation (PP-OCR: HardSwish, x * clip(x + 3, 0, 6) / 6)
 * after nearly every Conv; as a separate node it is one more pass over the
 * output, which the Conv has just had in cache. FusedConv
 * (src/kernels/cpu/conv.c) carries the Conv's attributes and the
 * program's "ops" / "consts" and runs the program on each finished piece
 * of the output. The Conv's output must be read by that one node alone
 * (not by another node, not a graph output). The FusedConv takes the
 * activation node's place and output; the Conv is marked folded.
 *
 * Before it (first in ia_graph_fuse), ia_graph_fold_conv_bn folds
 *
 *   Conv/ConvTranspose(X, W[, B]) -> BatchNormalization   (inference form)
 *   Conv/ConvTranspose(X, W[, B]) -> Add(per-channel constant)
 *
 * into the conv's weights: W' = W * s per output channel, B' = B * s + t
 * (BN: s = scale / sqrt(var + eps), t = beta - mean * s; Add: s = 1,
 * t = the constant), W and B float32 constants, the conv's output read by
 * that node alone. The folded node takes the BN's (Add's) place and
 * output, so the activation after a BN then fuses into the Conv. PP-OCR's
 * head writes Conv -> BN -> Relu and ConvTranspose -> Add(bias) -> BN ->
 * Relu. W' and B' are new constant values whose data the graph owns
 * (`folded`).
 *
 * Memory: both kinds of new node are made by ia_graph_swap_node
 * (fuse_node.c), one block per node that ia_graph_free releases.
 */
#include <math.h>
#include <string.h>

#include "graph/fuse.h"
#include "ia/kernels.h"

#define MAX_ATTRS 16 /* Conv has 6; more means an unknown exporter: skip */

static int in_domain(const struct ia_graph_node *nd, const char *domain, const char *op) {
    const char *d = nd->src->domain;
    int dom = domain ? !strcmp(d, domain) : (!d[0] || !strcmp(d, "ai.onnx"));
    return !nd->folded && dom && !strcmp(nd->src->op_type, op);
}

/* The live node after `from` that reads v, or NULL. */
static struct ia_graph_node *reader_of(struct ia_graph *g, size_t from, int v) {
    for (size_t i = from + 1; i < g->n_nodes; i++) {
        struct ia_graph_node *nd = &g->nodes[i];
        if (nd->folded) continue;
        for (size_t k = 0; k < nd->n_in; k++)
            if (nd->in[k] == v) return nd;
        for (size_t k = 0; k < nd->n_implicit; k++)
            if (nd->implicit[k] == v) return NULL; /* a subgraph reads it: leave it */
    }
    return NULL;
}

/* Replaces `act` (reading conv's output) by a FusedConv running the
 * program ops/consts (n ops) after the Conv. */
static int put_fconv(struct ia_graph *g, struct ia_graph_node *conv, struct ia_graph_node *act,
                     const int64_t *ops, const float *consts, size_t n) {
    const struct ia_op_def *op = ia_kernels_find("ai.ia.fused", "FusedConv", 1);
    if (!op) return IA_OK; /* a build without the fused kernels: leave the graph */
    const char *base = conv->src->name[0] ? conv->src->name : g->values[conv->out[0]].name;
    struct ia_onnx_attr attrs[MAX_ATTRS + 2];
    size_t na = conv->src->n_attrs;
    memcpy(attrs, conv->src->attrs, na * sizeof *attrs);
    attrs[na++] =
        (struct ia_onnx_attr){.name = "ops", .type = IA_ONNX_ATTR_INTS, .n = n, .ints = ops};
    attrs[na++] = (struct ia_onnx_attr){
        .name = "consts", .type = IA_ONNX_ATTR_FLOATS, .n = 2 * n, .floats = consts};
    int rc = ia_graph_swap_node(g, act, op, 1, base, "FusedConv", conv->in, conv->n_in, attrs, na);
    if (rc == IA_OK) conv->folded = 1;
    return rc;
}

/* 1 when one live node reads v, once, and v is no graph output. */
static int used_once(const struct ia_graph *g, int v) {
    if (g->values[v].is_output) return 0;
    size_t n = 0;
    for (size_t i = 0; i < g->n_nodes; i++) {
        const struct ia_graph_node *nd = &g->nodes[i];
        if (nd->folded) continue;
        for (size_t k = 0; k < nd->n_in; k++) n += nd->in[k] == v;
        for (size_t k = 0; k < nd->n_implicit; k++) n += 2 * (nd->implicit[k] == v);
    }
    for (size_t i = 0; i < g->n_outputs; i++) n += 2 * (g->outputs[i] == v);
    return n == 1;
}

/* 1 when nothing but `reader` (once, as its first input) reads v. */
static int only_reader(struct ia_graph *g, int v, const struct ia_graph_node *reader) {
    return used_once(g, v) && reader->n_in >= 1 && reader->in[0] == v;
}

static int fuse_one(struct ia_graph *g, size_t i, size_t *n_fused) {
    struct ia_graph_node *conv = &g->nodes[i], *act;
    if (!in_domain(conv, NULL, "Conv") || conv->n_out != 1 || conv->out[0] < 0 || conv->n_in < 2 ||
        conv->n_in > 3 || conv->src->n_attrs > MAX_ATTRS)
        return IA_OK;
    int y = conv->out[0], w = conv->in[1];
    if (!(act = reader_of(g, i, y)) || !only_reader(g, y, act) || act->n_out != 1) return IA_OK;
    if (in_domain(act, "ai.ia.fused", "FusedElementwise") && act->n_in == 1) {
        const int64_t *ops;
        const float *cs;
        size_t n = ia_attr_ints(act->src, "ops", &ops);
        if (!ops || ia_attr_floats(act->src, "consts", &cs) != 2 * n || !cs) return IA_OK;
        int rc = put_fconv(g, conv, act, ops, cs, n);
        if (rc == IA_OK && conv->folded) (*n_fused)++;
        return rc;
    }
    /* A bare Relu: float32 for sure only when W is a float32 constant. */
    const struct ia_graph_value *wv = w >= 0 ? &g->values[w] : NULL;
    if (in_domain(act, NULL, "Relu") && act->n_in == 1 && wv && wv->is_const &&
        wv->t.dtype == IA_DTYPE_FLOAT32) {
        static const int64_t relu[1] = {6}; /* EW_OP_RELU (ew_prog.h) */
        static const float zero[2] = {0, 0};
        int rc = put_fconv(g, conv, act, relu, zero, 1);
        if (rc == IA_OK && conv->folded) (*n_fused)++;
        return rc;
    }
    return IA_OK;
}

int ia_graph_fuse_conv(struct ia_graph *g, size_t *n_fused) {
    int rc = IA_OK;
    for (size_t i = 0; rc == IA_OK && i < g->n_nodes; i++) rc = fuse_one(g, i, n_fused);
    return rc;
}

/* ---- BatchNormalization folded into the Conv before it -------------------------- */

/* A float32 constant of exactly n elements, or NULL. */
static const float *f32_const(const struct ia_graph *g, int v, uint64_t n) {
    if (v < 0) return NULL;
    const struct ia_graph_value *gv = &g->values[v];
    if (!gv->is_const || gv->t.dtype != IA_DTYPE_FLOAT32 || !gv->t.data || gv->t.numel != n)
        return NULL;
    return gv->t.data;
}

/* BN in inference form with per-channel constants over `cout` channels:
 * *s = scale / sqrt(var + eps) and *t = beta - mean * s, ia_malloc'd
 * (cout doubles each, in one block at *s); 0 when it does not qualify. */
static int bn_affine(const struct ia_graph *g, const struct ia_graph_node *bn, uint64_t cout,
                     double **s) {
    *s = NULL;
    if (!in_domain(bn, NULL, "BatchNormalization") || bn->n_in != 5 || bn->opset < 9) return 0;
    for (size_t k = 1; k < bn->n_out; k++)
        if (bn->out[k] >= 0) return 0; /* training statistics wanted */
    if (bn->opset >= 14 && ia_attr_int(bn->src, "training_mode", 0) != 0) return 0;
    const float *sc = f32_const(g, bn->in[1], cout), *be = f32_const(g, bn->in[2], cout),
                *mu = f32_const(g, bn->in[3], cout), *va = f32_const(g, bn->in[4], cout);
    if (!sc || !be || !mu || !va) return 0;
    double eps = ia_attr_float(bn->src, "epsilon", 1e-5f);
    double *p = ia_malloc(2 * cout * sizeof *p);
    if (!p) return -1;
    for (uint64_t c = 0; c < cout; c++) {
        p[c] = sc[c] / sqrt((double)va[c] + eps); /* as the BN kernel (norm.c) computes it */
        p[cout + c] = be[c] - mu[c] * p[c];
    }
    *s = p;
    return 1;
}

/* Add(y, c) or Add(c, y), c a float32 constant of one value per channel
 * of y (rank `rank`, channels on axis 1, e.g. [1, C, 1, 1]): s = 1, t = c,
 * as bn_affine gives them. Exporters write a ConvTranspose's bias so. */
static int bias_add_affine(const struct ia_graph *g, const struct ia_graph_node *add, int y,
                           size_t rank, uint64_t cout, double **s) {
    *s = NULL;
    if (!in_domain(add, NULL, "Add") || add->n_in != 2 || add->n_out != 1) return 0;
    int c = add->in[0] == y ? add->in[1] : add->in[0];
    const float *cf = f32_const(g, c, cout);
    if (!cf || c == y) return 0;
    const struct ia_tensor *ct = &g->values[c].t;
    if ((size_t)ct->rank > rank) return 0;
    for (size_t k = 0; k < (size_t)ct->rank; k++) /* only the channel axis may be > 1 */
        if (ct->dims[k] != 1 && rank - (size_t)ct->rank + k != 1) return 0;
    double *p = ia_malloc(2 * cout * sizeof *p);
    if (!p) return -1;
    for (uint64_t k = 0; k < cout; k++) {
        p[k] = 1.0;
        p[cout + k] = cf[k];
    }
    *s = p;
    return 1;
}

/* Conv or ConvTranspose(X, W[, B]) -> BatchNormalization or a bias Add, W
 * and B float32 constants and the conv's output read by that node alone:
 * it becomes the conv with W' = W * s per output channel and
 * B' = B * s + t (B = 0 when absent); the conv node is marked folded. */
static int fold_bn_one(struct ia_graph *g, size_t i, size_t *n_fused) {
    struct ia_graph_node *conv = &g->nodes[i], *bn;
    int transposed = in_domain(conv, NULL, "ConvTranspose");
    if (!(transposed || in_domain(conv, NULL, "Conv")) || conv->n_out != 1 || conv->out[0] < 0 ||
        conv->n_in < 2 || conv->n_in > 3)
        return IA_OK;
    int y = conv->out[0], w = conv->in[1], b = conv->n_in == 3 ? conv->in[2] : -1;
    if (!(bn = reader_of(g, i, y)) || !used_once(g, y) || bn->n_out < 1 || bn->out[0] < 0)
        return IA_OK;
    const struct ia_tensor *wt = &g->values[w].t;
    if (!g->values[w].is_const || wt->dtype != IA_DTYPE_FLOAT32 || !wt->data || wt->rank < 3)
        return IA_OK;
    int64_t group = ia_attr_int(conv->src, "group", 1);
    if (group < 1 || wt->dims[0] % group) return IA_OK;
    /* Conv: W [Cout, Cin/g, k...]; ConvTranspose: W [Cin, Cout/g, k...]. */
    uint64_t cout = transposed ? (uint64_t)(wt->dims[1] * group) : (uint64_t)wt->dims[0];
    uint64_t plane = 1; /* kernel elements of one (in, out) channel pair */
    for (size_t d = 2; d < (size_t)wt->rank; d++) plane *= (uint64_t)wt->dims[d];
    const float *bias = b >= 0 ? f32_const(g, b, cout) : NULL;
    if (b >= 0 && !bias) return IA_OK;
    double *s;
    int ok = bn->in[0] == y ? bn_affine(g, bn, cout, &s) : 0;
    if (!ok) ok = bias_add_affine(g, bn, y, (size_t)wt->rank, cout, &s);
    if (ok < 0) return ia_error_set(IA_ENOMEM, "out of memory");
    if (!ok) return IA_OK;
    float *nw = ia_malloc(wt->numel * sizeof *nw), *nb = ia_malloc(cout * sizeof *nb);
    if (!nw || !nb) {
        ia_free(nw);
        ia_free(nb);
        ia_free(s);
        return ia_error_set(IA_ENOMEM, "out of memory");
    }
    const float *wf = wt->data;
    uint64_t rows = (uint64_t)wt->dims[0], per = (uint64_t)wt->dims[1];
    for (uint64_t r = 0; r < rows; r++)
        for (uint64_t j = 0; j < per; j++) {
            /* ConvTranspose: input channel r is in group r / (Cin/g), whose
             * outputs are channels group * (Cout/g) + j. */
            uint64_t o = transposed ? r / (rows / (uint64_t)group) * per + j : r;
            const float *src = wf + (r * per + j) * plane;
            float *dst = nw + (r * per + j) * plane;
            for (uint64_t e = 0; e < plane; e++) dst[e] = (float)(src[e] * s[o]);
        }
    for (uint64_t c = 0; c < cout; c++) nb[c] = (float)((bias ? bias[c] : 0.0) * s[c] + s[cout + c]);
    ia_free(s);
    int64_t wdims[IA_MAX_RANK], bdim = (int64_t)cout;
    int rank = (int)wt->rank;
    memcpy(wdims, wt->dims, (size_t)rank * sizeof *wdims);
    /* the new bias is named after B, else the BN's beta or the Add's constant */
    int like_b = b >= 0 ? b : bn->n_in == 5 ? bn->in[2] : bn->in[bn->in[0] == y];
    int nw_id, nb_id, rc;
    size_t bn_at = (size_t)(bn - g->nodes);
    /* ia_graph_add_const_f32 moves g->values; nodes stay where they are */
    if ((rc = ia_graph_add_const_f32(g, w, rank, wdims, nw, &nw_id)) != IA_OK) {
        ia_free(nb);
        return rc;
    }
    if ((rc = ia_graph_add_const_f32(g, like_b, 1, &bdim, nb, &nb_id)) != IA_OK) return rc;
    bn = &g->nodes[bn_at];
    int in[3] = {conv->in[0], nw_id, nb_id};
    /* the BN's place, the conv's name, op and attributes */
    rc = ia_graph_swap_node(g, bn, conv->op, conv->opset, conv->src->name, NULL, in, 3,
                            conv->src->attrs, conv->src->n_attrs);
    if (rc) return rc;
    conv->folded = 1;
    bn->dynamic = conv->dynamic;
    (*n_fused)++;
    return IA_OK;
}

int ia_graph_fold_conv_bn(struct ia_graph *g, size_t *n_fused) {
    int rc = IA_OK;
    for (size_t i = 0; rc == IA_OK && i < g->n_nodes; i++) rc = fold_bn_one(g, i, n_fused);
    return rc;
}
