/* What the fusion passes (fuse.c, fuse_conv.c, fuse_rnn.c) share: a node
 * swapped for a synthetic one, a new float32 constant value, the test for one.
 *
 * Memory: the swapped node's arrays and its synthetic ONNX node (inputs,
 * attributes, names, copies of the attributes' INTS/FLOATS lists) live in
 * one ia_malloc'd block whose start is the node's `in` array, so
 * ia_graph_free releases it like any node's. Other attribute payloads
 * (strings) are pointed at: they belong to the model, which outlives the
 * graph. */
#include <stdio.h>
#include <string.h>

#include "graph/fuse.h"
#include "ia/kernels.h"

static size_t round16(size_t n) { return (n + 15) / 16 * 16; }

int ia_graph_swap_node(struct ia_graph *g, struct ia_graph_node *nd, const struct ia_op_def *op,
                       int64_t opset, const char *base, const char *suffix, const int *in,
                       size_t n_in, const struct ia_onnx_attr *attrs, size_t n_attrs) {
    return ia_graph_swap_node_outs(g, nd, op, opset, base, suffix, in, n_in, nd->out, 1, attrs,
                                   n_attrs);
}

int ia_graph_swap_node_outs(struct ia_graph *g, struct ia_graph_node *nd,
                            const struct ia_op_def *op, int64_t opset, const char *base,
                            const char *suffix, const int *in, size_t n_in, const int *out,
                            size_t n_out, const struct ia_onnx_attr *attrs, size_t n_attrs) {
    size_t at_out = round16(n_in * sizeof(int)), at_node = round16(at_out + n_out * sizeof(int));
    size_t at_attrs = round16(at_node + sizeof(struct ia_onnx_node));
    size_t at_names = round16(at_attrs + n_attrs * sizeof *attrs);
    size_t at_lists = round16(at_names + (n_in + n_out) * sizeof(char *)), lists = 0;
    for (size_t i = 0; i < n_attrs; i++)
        if (attrs[i].type == IA_ONNX_ATTR_INTS || attrs[i].type == IA_ONNX_ATTR_FLOATS)
            lists += round16(attrs[i].n * (attrs[i].type == IA_ONNX_ATTR_INTS ? sizeof(int64_t)
                                                                                : sizeof(float)));
    size_t name_len = strlen(base) + (suffix ? strlen(suffix) + 1 : 0) + 1;
    char *blk = ia_calloc(1, at_lists + lists + name_len);
    if (!blk) return ia_error_set(IA_ENOMEM, "out of memory");
    int *bin = (int *)(void *)blk, *bout = (int *)(void *)(blk + at_out);
    struct ia_onnx_node *node = (struct ia_onnx_node *)(void *)(blk + at_node);
    struct ia_onnx_attr *battrs = (struct ia_onnx_attr *)(void *)(blk + at_attrs);
    const char **names = (const char **)(void *)(blk + at_names);
    char *tail = blk + at_lists, *name = tail + lists;
    if (suffix)
        snprintf(name, name_len, "%s:%s", base, suffix);
    else
        memcpy(name, base, name_len);
    for (size_t k = 0; k < n_in; k++) {
        bin[k] = in[k];
        names[k] = in[k] >= 0 ? g->values[in[k]].name : "";
    }
    for (size_t k = 0; k < n_out; k++) {
        bout[k] = out[k];
        names[n_in + k] = out[k] >= 0 ? g->values[out[k]].name : "";
    }
    for (size_t i = 0; i < n_attrs; i++) {
        battrs[i] = attrs[i];
        if (attrs[i].type == IA_ONNX_ATTR_INTS && attrs[i].n) {
            memcpy(tail, attrs[i].ints, attrs[i].n * sizeof(int64_t));
            battrs[i].ints = (const int64_t *)(void *)tail;
            tail += round16(attrs[i].n * sizeof(int64_t));
        } else if (attrs[i].type == IA_ONNX_ATTR_FLOATS && attrs[i].n) {
            memcpy(tail, attrs[i].floats, attrs[i].n * sizeof(float));
            battrs[i].floats = (const float *)(void *)tail;
            tail += round16(attrs[i].n * sizeof(float));
        }
    }
    *node = (struct ia_onnx_node){.name = name, .op_type = op->op_type, .domain = op->domain,
                                  .n_inputs = n_in, .inputs = names, .n_outputs = n_out,
                                  .outputs = names + n_in, .n_attrs = n_attrs, .attrs = battrs};
    ia_free(nd->in); /* the old node's block (in, out, implicit; a fused node's lists) */
    nd->src = node;
    nd->op = op;
    nd->opset = opset;
    nd->n_in = n_in;
    nd->in = bin;
    nd->n_out = n_out;
    nd->out = bout;
    nd->n_implicit = 0;
    nd->implicit = NULL;
    nd->has_subgraph = 0;
    return IA_OK;
}

int ia_graph_add_const_f32(struct ia_graph *g, int like, int rank, const int64_t *dims,
                           float *data, int *id) {
    struct ia_graph_value *nv = ia_realloc(g->values, (g->n_values + 1) * sizeof *nv);
    if (!nv) {
        ia_free(data);
        return ia_error_set(IA_ENOMEM, "out of memory");
    }
    g->values = nv;
    *id = (int)g->n_values++;
    struct ia_graph_value *v = &g->values[*id];
    memset(v, 0, sizeof *v);
    v->name = g->values[like].name; /* messages name the value it came from */
    v->kind = IA_VALUE_INITIALIZER;
    v->producer = -1;
    ia_tensor_set_shape(&v->t, IA_DTYPE_FLOAT32, rank, dims);
    v->t.data = data;
    v->t.name = v->name;
    v->folded = data;
    v->shape_known = 1;
    v->is_const = 1;
    v->offset = -1;
    return IA_OK;
}

int ia_graph_is_const_f32(const struct ia_graph *g, int v) {
    return v >= 0 && g->values[v].is_const && g->values[v].t.dtype == IA_DTYPE_FLOAT32 &&
           g->values[v].t.data;
}
