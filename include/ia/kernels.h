/*
 * kernels: the op table and the CPU implementations of ONNX operators.
 *
 * An op is a struct ia_op_def with two functions:
 *   infer   — given the inputs' dtypes and shapes (and their values where
 *             known), set each output's dtype and dims. Never touches
 *             output data.
 *   compute — given inputs with data and outputs already allocated with the
 *             inferred shapes, write the outputs.
 * The engine calls infer, allocates the outputs, then calls compute. Every
 * op lives in src/kernels/cpu/<group>.c as a
 *   const struct ia_op_def ia_op_<Name> = {...};
 * and the build lists every such definition into the registry (no table to
 * edit by hand). Contrib ops use a domain prefix in the symbol name, e.g.
 * ia_op_ms_Gelu for com.microsoft Gelu.
 *
 * Tensors are dense, row-major and contiguous unless an op's def says it
 * accepts strides (`accepts_strided`); nb[] carries byte strides so fused
 * and view-producing paths can come later without changing the struct.
 *
 * Sequences and optionals. A value slot (struct ia_tensor) also holds the
 * ONNX sequence and optional types, told apart by `kind`, whose zero is a
 * plain tensor, so no existing kernel or caller changes:
 *   IA_KIND_TENSOR    a tensor, as always;
 *   IA_KIND_SEQUENCE  an ordered list of n_items tensors in `items` (each a
 *                     plain tensor); dtype is the elements' (UNDEFINED when
 *                     not known, e.g. an empty sequence read from a file);
 *                     rank, numel, nbytes are 0 and data is NULL;
 *   IA_KIND_NONE      an optional without a value.
 * An optional that has a value is that value itself (a tensor or a
 * sequence), as in ONNX Runtime, so OptionalGetElement is a copy.
 * Only the ops ia_op_takes_values names see sequence/none inputs; the
 * engine refuses them to every other kernel with a message. Such an op's
 * infer marks a sequence output with ia_value_set_sequence (or
 * ia_value_set_none), the engine allocates nothing for it, and compute
 * points items/n_items at elements in any memory valid until compute
 * returns (its inputs, scratch, a subgraph's outputs); the engine then
 * copies them into one block the value owns (ia_value_own_items).
 * Sequences are run-time values only: shape inference before a run treats
 * them as unknown, so nothing that reads them is folded or planned.
 */
#ifndef IA_KERNELS_H
#define IA_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "ia/core.h"
#include "ia/onnx.h"
#include "ia/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

#define IA_MAX_RANK 8

/* What a value slot holds (see the header comment). */
enum ia_tensor_kind {
    IA_KIND_TENSOR = 0,
    IA_KIND_SEQUENCE,
    IA_KIND_NONE,
};

struct ia_tensor {
    enum ia_dtype dtype;
    int rank;
    int64_t dims[IA_MAX_RANK]; /* element counts, outermost first */
    int64_t nb[IA_MAX_RANK];   /* byte strides (contiguous: set by ia_tensor_set_shape) */
    void *data;                /* NULL while only the shape is known */
    uint64_t numel;
    uint64_t nbytes;
    const char *name;          /* value name in the graph, for messages */
    /* STRING tensors: numel entries of (ptr, len), owned by the producer. */
    const struct ia_onnx_bytes *strings;
    enum ia_tensor_kind kind; /* 0: a tensor */
    size_t n_items;           /* kind SEQUENCE: the elements, in order */
    const struct ia_tensor *items;
};

/* Sets rank, dims, contiguous strides, numel and nbytes. IA_ERANGE when
 * rank > IA_MAX_RANK, a dim is negative or the size overflows. */
int ia_tensor_set_shape(struct ia_tensor *t, enum ia_dtype dtype, int rank, const int64_t *dims);
int ia_tensor_same_shape(const struct ia_tensor *a, const struct ia_tensor *b);
/* "float32[1,3,224,224]" into buf; returns buf. */
const char *ia_tensor_describe(const struct ia_tensor *t, char *buf, size_t cap);

/* Reads element i of an integer tensor (int8..uint64, bool) as int64. */
int64_t ia_tensor_get_i64(const struct ia_tensor *t, uint64_t i);
/* Reads element i of a numeric tensor as double (any dtype incl. f16/bf16). */
double ia_tensor_get_f64(const struct ia_tensor *t, uint64_t i);

/* ---- sequences and optionals (see the header comment) ------------------ */

/* Makes t a sequence of `elem` (UNDEFINED: not known) with no items, or an
 * optional without a value; the name is kept. */
void ia_value_set_sequence(struct ia_tensor *t, enum ia_dtype elem);
void ia_value_set_none(struct ia_tensor *t);
/* In infer: dst gets src's kind, dtype and shape (items stay NULL). */
int ia_value_infer_like(struct ia_tensor *dst, const struct ia_tensor *src);
/* In compute, after ia_value_infer_like: a tensor's data is copied into
 * dst's buffer; a sequence's items are referenced (the engine copies
 * them after compute). */
void ia_value_copy(struct ia_tensor *dst, const struct ia_tensor *src);
/* "sequence", "none" or "tensor", for messages. */
const char *ia_value_kind_name(const struct ia_tensor *t);
/* Copies n tensors (shapes, data, strings) into one new ia_malloc'd block:
 * `head` zeroed bytes for the caller at its start, then the n struct
 * copies (names NULL), then their data, each 64-byte aligned. *block is
 * the allocation to ia_free, *copies the copied structs inside it.
 * Elements must be plain tensors (IA_EUNSUPPORTED for nested sequences). */
int ia_value_pack_items(const struct ia_tensor *items, size_t n, size_t head, void **block,
                        struct ia_tensor **copies);
/* Makes a sequence own its elements: packs t->items into a new block,
 * points t->items at the copies, and returns the block for the caller to
 * ia_free when the value dies. */
int ia_value_own_items(struct ia_tensor *t, void **block);

/* float16 / bfloat16 conversions (round to nearest even). */
float ia_f16_to_f32(uint16_t h);
uint16_t ia_f32_to_f16(float f);
float ia_bf16_to_f32(uint16_t h);
uint16_t ia_f32_to_bf16(float f);

/* ---- what a kernel sees ------------------------------------------------ */

struct ia_op_ctx;

/* Runs a subgraph (If/Loop/Scan bodies) with the given inputs (NULL for an
 * omitted one); out[i] is set to the engine's tensor for output i, valid
 * until the op returns or until two more run_subgraph calls from the same
 * op have returned (so a loop can feed one iteration's outputs into the
 * next without keeping every iteration). Names in the subgraph that are
 * not its inputs resolve in the enclosing scopes. */
typedef int (*ia_subgraph_fn)(struct ia_op_ctx *ctx, const struct ia_onnx_graph *g,
                              size_t n_in, const struct ia_tensor *const *in, size_t n_out,
                              struct ia_tensor **out);

struct ia_op_ctx {
    const struct ia_onnx_node *node; /* attributes, names for messages */
    int64_t opset;                   /* imported version of the node's domain */
    size_t n_inputs;
    /* NULL for an omitted optional input. In infer, data may be NULL when the
     * value is not known yet (an op whose output shape needs it returns
     * IA_EAGAIN then). */
    const struct ia_tensor *const *inputs;
    size_t n_outputs;
    struct ia_tensor *const *outputs; /* NULL for an unused optional output */
    struct ia_pool *pool;             /* may be NULL: run on this thread */
    /* Scratch memory valid until compute returns; NULL with IA_ENOMEM set
     * when it cannot be had. */
    void *(*scratch)(struct ia_op_ctx *ctx, size_t bytes);
    ia_subgraph_fn run_subgraph; /* set by the engine for control-flow ops */
    void *engine;                /* private to the engine */
    /* The op's own, from its infer to its compute within one run (NULL when
     * infer starts). Control-flow ops, whose output shapes are known only
     * after running their subgraphs, run them in infer and keep the
     * results here (in ctx->scratch memory) for compute to copy out. */
    void *op_state;
};

struct ia_op_def {
    const char *domain;  /* "" for ai.onnx, "com.microsoft" for contrib */
    const char *op_type; /* as in NodeProto.op_type */
    int min_opset;       /* oldest opset of the domain whose form is handled */
    int accepts_strided; /* inputs may be non-contiguous views */
    int (*infer)(struct ia_op_ctx *ctx);
    int (*compute)(struct ia_op_ctx *ctx);
};

/* ---- the registry ------------------------------------------------------- */

/* The op for (domain, op_type) at `opset` ("" and "ai.onnx" are the same
 * domain), or NULL when we have no kernel for it. */
const struct ia_op_def *ia_kernels_find(const char *domain, const char *op_type, int64_t opset);
/* 1 for the ops that take or give sequence and optional values (Identity,
 * If, Loop, the Sequence* and Optional* ops, SplitToSequence,
 * ConcatFromSequence); the engine hands non-tensor inputs to no other. */
int ia_op_takes_values(const struct ia_op_def *op);
/* Callback form for ia_onnx_verify's op check. */
int ia_kernels_supported(const char *domain, const char *op_type, int64_t opset);
size_t ia_kernels_count(void);
const struct ia_op_def *ia_kernels_at(size_t i);

/* ---- helpers for kernel code ---------------------------------------------- */

/* Attribute lookup by name; NULL when absent. */
const struct ia_onnx_attr *ia_attr_find(const struct ia_onnx_node *n, const char *name);
int64_t ia_attr_int(const struct ia_onnx_node *n, const char *name, int64_t dflt);
float ia_attr_float(const struct ia_onnx_node *n, const char *name, float dflt);
/* NUL-terminated copy into buf (truncated to cap-1); returns buf or dflt. */
const char *ia_attr_string(const struct ia_onnx_node *n, const char *name, char *buf,
                           size_t cap, const char *dflt);
/* INTS attribute: count and pointer (NULL / 0 when absent). */
size_t ia_attr_ints(const struct ia_onnx_node *n, const char *name, const int64_t **out);
size_t ia_attr_floats(const struct ia_onnx_node *n, const char *name, const float **out);

/* Sets a message naming the node ("Conv node 'conv1': ...") and returns rc. */
int ia_op_error(const struct ia_op_ctx *ctx, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Numpy-style multidirectional broadcast of two shapes into out (rank =
 * max). IA_EINVAL (message names the node) when incompatible. */
int ia_broadcast_shapes(const struct ia_op_ctx *ctx, const struct ia_tensor *a,
                        const struct ia_tensor *b, int *out_rank, int64_t *out_dims);
/* Normalises a possibly negative axis against rank; IA_EINVAL if outside. */
int ia_norm_axis(const struct ia_op_ctx *ctx, int64_t axis, int rank, int *out);

#ifdef __cplusplus
}
#endif
#endif
