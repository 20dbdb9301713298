/* Cost estimates from the graph: FLOPs of the ops that dominate inference
 * (MatMul, Gemm, Conv, ConvTranspose, Attention) and bytes moved, at the
 * shapes shape inference gives for a set of inputs. They are estimates,
 * not measurements: stored as *_estimated and shown as "est.". Elementwise
 * ops, softmax and normalisations are left out of the FLOPs (they are
 * memory-bound and small next to the products); every node's traffic is in
 * the bytes. */
#include <string.h>

#include "ia/bench.h"
#include "ia/core.h"
#include "ia/graph.h"

static int64_t numel_of(const struct ia_graph_value *v) {
    return v->shape_known ? (int64_t)v->t.numel : -1;
}

/* Saturating: estimates of huge models must not wrap. */
static int64_t sat_mul(int64_t a, int64_t b) {
    int64_t r;
    if (a < 0 || b < 0) return -1;
    return __builtin_mul_overflow(a, b, &r) ? INT64_MAX : r;
}
static int64_t sat_add(int64_t a, int64_t b) {
    int64_t r;
    return __builtin_add_overflow(a, b, &r) ? INT64_MAX : r;
}

static const struct ia_graph_value *in_val(const struct ia_graph *g, const struct ia_graph_node *n,
                                           size_t i) {
    if (i >= n->n_in || n->in[i] < 0) return NULL;
    const struct ia_graph_value *v = &g->values[n->in[i]];
    return v->shape_known ? v : NULL;
}
static const struct ia_graph_value *out_val(const struct ia_graph *g,
                                            const struct ia_graph_node *n, size_t i) {
    if (i >= n->n_out || n->out[i] < 0) return NULL;
    const struct ia_graph_value *v = &g->values[n->out[i]];
    return v->shape_known ? v : NULL;
}

/* FLOPs of one node: >= 0, -1 when its shapes are unknown, -2 when the op
 * is not one we cost. */
static int64_t node_flops(const struct ia_graph *g, const struct ia_graph_node *n) {
    const char *op = n->src->op_type;
    const char *dom = n->src->domain;
    const struct ia_graph_value *a = in_val(g, n, 0), *b = in_val(g, n, 1), *y = out_val(g, n, 0);
    if (!*dom && !strcmp(op, "MatMul")) {
        if (!a || !y || a->t.rank < 1) return -1;
        return sat_mul(2 * a->t.dims[a->t.rank - 1], numel_of(y));
    }
    if (!*dom && !strcmp(op, "Gemm")) {
        if (!a || !y || a->t.rank != 2) return -1;
        int64_t k = ia_attr_int(n->src, "transA", 0) ? a->t.dims[0] : a->t.dims[1];
        int64_t f = sat_mul(2 * k, numel_of(y));
        if (n->n_in > 2 && n->in[2] >= 0) f = sat_add(f, numel_of(y));
        return f;
    }
    if (!*dom && (!strcmp(op, "Conv") || !strcmp(op, "ConvTranspose"))) {
        if (!a || !b || !y || b->t.rank < 1 || b->t.dims[0] <= 0) return -1;
        /* Each output (Conv) or input (ConvTranspose) element meets
         * numel(W) / W.dims[0] weights: Cin/group x kernel for Conv,
         * Cout/group x kernel for ConvTranspose. */
        int64_t per = numel_of(b) / b->t.dims[0];
        int64_t f = sat_mul(2 * per, numel_of(!strcmp(op, "Conv") ? y : a));
        if (n->n_in > 2 && n->in[2] >= 0) f = sat_add(f, numel_of(y));
        return f;
    }
    if (!strcmp(op, "Attention")) {
        if (!*dom) { /* ONNX (opset 23): Q [B,H,S,D], K [B,H,T,D], V [B,H,T,Dv] */
            const struct ia_graph_value *v = in_val(g, n, 2);
            if (!a || !b || !v || a->t.rank != 4 || b->t.rank != 4 || v->t.rank != 4) return -1;
            int64_t bhs = a->t.dims[0] * a->t.dims[1] * a->t.dims[2], t = b->t.dims[2];
            return sat_add(sat_mul(2 * bhs, t * a->t.dims[3]), sat_mul(2 * bhs, t * v->t.dims[3]));
        }
        if (!strcmp(dom, "com.microsoft")) { /* X [B,S,Hin], W [Hin, 3*Hout] */
            if (!a || !b || a->t.rank != 3 || b->t.rank != 2) return -1;
            int64_t bs = a->t.dims[0] * a->t.dims[1], s = a->t.dims[1];
            int64_t proj = sat_mul(2 * bs, a->t.dims[2] * b->t.dims[1]);
            return sat_add(proj, sat_mul(4 * bs, s * (b->t.dims[1] / 3)));
        }
    }
    return -2;
}

static int64_t bytes_of(const struct ia_graph_value *v) {
    return v && v->shape_known ? (int64_t)v->t.nbytes : 0;
}

int ia_bench_estimate_cost(const struct ia_model *m, const struct ia_bench_inputs *in,
                           struct ia_bench_cost *out) {
    memset(out, 0, sizeof *out);
    struct ia_graph *g = NULL;
    uint8_t *cst = NULL;
    int rc = ia_graph_build(m, &m->graph, 0, &g);
    if (rc == IA_OK) rc = ia_graph_resolve_ops(g);
    if (rc == IA_OK) {
        ia_graph_bind_declared(g);
        for (size_t i = 0; in && i < in->n && rc == IA_OK; i++) {
            int id = ia_graph_find(g, in->names[i]);
            if (id < 0 || g->values[id].kind != IA_VALUE_INPUT) continue;
            struct ia_graph_value *v = &g->values[id];
            rc = ia_tensor_set_shape(&v->t, in->t[i]->dtype, in->t[i]->rank, in->t[i]->dims);
            v->t.name = v->name;
            v->t.data = NULL;
            v->shape_known = 1;
        }
    }
    /* Values some node cannot infer stay unknown; what is known still counts. */
    if (rc == IA_OK && ia_graph_infer(g) != IA_OK) ia_error_clear();
    if (rc == IA_OK) {
        cst = ia_calloc(g->n_values ? g->n_values : 1, 1);
        if (!cst) rc = ia_error_set(IA_ENOMEM, "cost estimate: out of memory");
    }
    if (rc != IA_OK) {
        ia_graph_free(g);
        return rc;
    }
    for (size_t i = 0; i < g->n_values; i++) cst[i] = (uint8_t)g->values[i].is_const;
    for (size_t i = 0; i < m->graph.n_initializers; i++)
        out->weight_bytes = sat_add(out->weight_bytes, (int64_t)m->graph.initializers[i].nbytes);
    int64_t bytes = out->weight_bytes;
    for (size_t k = 0; k < g->n_nodes; k++) {
        const struct ia_graph_node *n = &g->nodes[k];
        int all_const = n->n_in > 0 && !n->has_subgraph;
        for (size_t i = 0; i < n->n_in; i++)
            if (n->in[i] >= 0 && !cst[n->in[i]]) all_const = 0;
        const char *op = n->src->op_type;
        if (strstr(op, "Random")) all_const = 0;
        if (all_const) { /* folded at load, not run per inference */
            for (size_t i = 0; i < n->n_out; i++)
                if (n->out[i] >= 0) cst[n->out[i]] = 1;
            continue;
        }
        for (size_t i = 0; i < n->n_in; i++)
            if (n->in[i] >= 0 && !cst[n->in[i]]) bytes = sat_add(bytes, bytes_of(&g->values[n->in[i]]));
        for (size_t i = 0; i < n->n_out; i++)
            if (n->out[i] >= 0) bytes = sat_add(bytes, bytes_of(&g->values[n->out[i]]));
        int64_t f = node_flops(g, n);
        if (f == -2) continue;
        out->n_costed++;
        if (f < 0) out->n_unknown++;
        else out->flops = sat_add(out->flops, f);
    }
    out->bytes_moved = bytes;
    ia_free(cst);
    ia_graph_free(g);
    return IA_OK;
}
