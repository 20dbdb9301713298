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
 * Memory: as for fuse.c's nodes, the FusedConv's arrays, its synthetic
 * ONNX node, attributes, names and the program's lists live in one
 * ia_malloc'd block whose start is the node's `in` array, so
 * ia_graph_free releases it like any node's. The Conv's own attributes
 * are pointed at, not copied: they belong to the model, which outlives
 * the graph.
 */
#include <stdio.h>
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

struct fconv_block {
    int in[3]; /* first: the block is freed as the node's `in` */
    int out[1];
    struct ia_onnx_node node;
    const char *in_names[3];
    const char *out_names[1];
    struct ia_onnx_attr attrs[MAX_ATTRS + 2];
    char tail[]; /* name, then ops (int64), then consts (float) */
};

/* Replaces `act` (reading conv's output) by a FusedConv running the
 * program ops/consts (n ops) after the Conv. */
static int put_fconv(struct ia_graph *g, struct ia_graph_node *conv, struct ia_graph_node *act,
                     const int64_t *ops, const float *consts, size_t n) {
    const struct ia_op_def *op = ia_kernels_find("ai.ia.fused", "FusedConv", 1);
    if (!op) return IA_OK; /* a build without the fused kernels: leave the graph */
    const char *base = conv->src->name[0] ? conv->src->name : g->values[conv->out[0]].name;
    size_t nl = (strlen(base) + sizeof ":FusedConv" + 7) / 8 * 8;
    struct fconv_block *b =
        ia_calloc(1, sizeof *b + nl + n * sizeof(int64_t) + 2 * n * sizeof(float));
    if (!b) return ia_error_set(IA_ENOMEM, "out of memory");
    snprintf(b->tail, nl, "%s:FusedConv", base);
    int64_t *ops_copy = (int64_t *)(void *)(b->tail + nl);
    float *consts_copy = (float *)(void *)(ops_copy + n);
    memcpy(ops_copy, ops, n * sizeof *ops);
    memcpy(consts_copy, consts, 2 * n * sizeof *consts);
    size_t n_in = conv->n_in;
    for (size_t k = 0; k < n_in; k++) {
        b->in[k] = conv->in[k];
        b->in_names[k] = conv->in[k] >= 0 ? g->values[conv->in[k]].name : "";
    }
    b->out[0] = act->out[0];
    b->out_names[0] = g->values[act->out[0]].name;
    size_t na = conv->src->n_attrs;
    memcpy(b->attrs, conv->src->attrs, na * sizeof *b->attrs);
    b->attrs[na++] =
        (struct ia_onnx_attr){.name = "ops", .type = IA_ONNX_ATTR_INTS, .n = n, .ints = ops_copy};
    b->attrs[na++] = (struct ia_onnx_attr){
        .name = "consts", .type = IA_ONNX_ATTR_FLOATS, .n = 2 * n, .floats = consts_copy};
    b->node = (struct ia_onnx_node){.name = b->tail,
                                    .op_type = op->op_type,
                                    .domain = op->domain,
                                    .n_inputs = n_in,
                                    .inputs = b->in_names,
                                    .n_outputs = 1,
                                    .outputs = b->out_names,
                                    .n_attrs = na,
                                    .attrs = b->attrs};
    conv->folded = 1;
    ia_free(act->in); /* the old node's block (in, out, implicit; a fused node's lists) */
    act->src = &b->node;
    act->op = op;
    act->opset = 1;
    act->n_in = n_in;
    act->in = b->in;
    act->n_out = 1;
    act->out = b->out;
    act->n_implicit = 0;
    act->implicit = NULL;
    act->has_subgraph = 0;
    return IA_OK;
}

/* 1 when nothing but `reader` (once) reads v. */
static int only_reader(struct ia_graph *g, int v, const struct ia_graph_node *reader) {
    if (g->values[v].is_output) return 0;
    size_t n = 0;
    for (size_t i = 0; i < g->n_nodes; i++) {
        const struct ia_graph_node *nd = &g->nodes[i];
        if (nd->folded) continue;
        for (size_t k = 0; k < nd->n_in; k++) n += nd->in[k] == v;
        for (size_t k = 0; k < nd->n_implicit; k++) n += 2 * (nd->implicit[k] == v);
    }
    for (size_t i = 0; i < g->n_outputs; i++) n += 2 * (g->outputs[i] == v);
    return n == 1 && reader->n_in >= 1 && reader->in[0] == v;
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
