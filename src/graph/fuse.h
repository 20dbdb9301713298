/* Graph fusion (fuse.c), private to the engine: run by ia_session_create
 * after constant folding, before the memory plan. */
#ifndef IA_GRAPH_FUSE_H
#define IA_GRAPH_FUSE_H

#include "ia/graph.h"

/* Rewrites exported patterns into the "ai.ia.fused" ops (see fuse.c) and
 * packs the constant weights of fused MatMuls once. The graph's results do
 * not change beyond float rounding. A pattern that does not match exactly
 * is left alone; IA_ENOMEM is the only error. *n_fused (may be NULL)
 * counts the fused nodes made. */
int ia_graph_fuse(struct ia_graph *g, size_t *n_fused);

/* Conv followed by its activation (a FusedElementwise or Relu that alone
 * reads it) -> FusedConv (fuse_conv.c); run by ia_graph_fuse. Adds the
 * nodes it makes to *n_fused; IA_ENOMEM is the only error. */
int ia_graph_fuse_conv(struct ia_graph *g, size_t *n_fused);

/* Conv or ConvTranspose -> BatchNormalization (inference form, constant
 * statistics) or -> Add(per-channel constant), the conv's W and B float32
 * constants and its output read by that node alone: one conv with W and B
 * scaled and shifted (fuse_conv.c); run
 * first by ia_graph_fuse, so the activation after the BN then fuses into
 * the Conv. Adds the convs it makes to *n_fused; IA_ENOMEM is the only
 * error. */
int ia_graph_fold_conv_bn(struct ia_graph *g, size_t *n_fused);

/* LSTM with constant W (and B) -> FusedLSTM, W packed once for the input
 * product and Wb + Rb summed (fuse_rnn.c); run by ia_graph_fuse. Adds the
 * nodes it makes to *n_fused; IA_ENOMEM is the only error. */
int ia_graph_fuse_rnn(struct ia_graph *g, size_t *n_fused);

/* ---- shared by the passes (fuse_node.c) ---- */

/* Node nd becomes op (at opset) reading in[0..n_in) with attrs, keeping its
 * one output out[0]; its name is base, or "base:suffix". The attribute
 * lists are copied; the node's old block is freed. IA_ENOMEM (nd
 * unchanged) is the only error. */
int ia_graph_swap_node(struct ia_graph *g, struct ia_graph_node *nd, const struct ia_op_def *op,
                       int64_t opset, const char *base, const char *suffix, const int *in,
                       size_t n_in, const struct ia_onnx_attr *attrs, size_t n_attrs);

/* The same with the outputs out[0..n_out) (out may be nd->out). */
int ia_graph_swap_node_outs(struct ia_graph *g, struct ia_graph_node *nd,
                            const struct ia_op_def *op, int64_t opset, const char *base,
                            const char *suffix, const int *in, size_t n_in, const int *out,
                            size_t n_out, const struct ia_onnx_attr *attrs, size_t n_attrs);

/* 1 when value v (-1: none) is a float32 constant with its data at hand. */
int ia_graph_is_const_f32(const struct ia_graph *g, int v);

/* A new constant value named after `like`, float32 of dims, holding data,
 * which the graph then owns (freed by ia_graph_free; on IA_ENOMEM, here).
 * Reallocates g->values: pointers into it are stale afterwards. */
int ia_graph_add_const_f32(struct ia_graph *g, int like, int rank, const int64_t *dims,
                           float *data, int *id);

#endif
