/*
 * graph: the engine's intermediate representation of an ONNX graph and the
 * passes that run over it before execution.
 *
 * ia_graph_build turns a struct ia_onnx_graph into dense arrays: every value
 * name gets an id, every node lists its input and output ids, initializers
 * become constant values whose data points into the model (no copy), and
 * the nodes are put in topological order (the file's order when it is
 * already one; a cycle is an error naming a node). Subgraphs (If/Loop/Scan
 * bodies) are built the same way with outer-scope names allowed: a name a
 * subgraph uses but does not define becomes an OUTER value, resolved by
 * name in the enclosing scope when the subgraph runs; the node holding the
 * subgraph lists those names as implicit inputs so lifetimes and ordering
 * in the enclosing graph account for them.
 *
 * Passes, in the order the engine runs them:
 *   ia_graph_resolve_ops  each node's kernel (ia_kernels_find); missing ops
 *                         are one IA_EUNSUPPORTED error listing them all;
 *   ia_graph_infer        dtypes and shapes from the bound input shapes,
 *                         node by node with the kernels' infer; a node whose
 *                         output shape needs a value unknown before running
 *                         (IA_EAGAIN) is marked dynamic and what it feeds
 *                         stays unknown;
 *   ia_graph_fold         nodes whose inputs are all constants are computed
 *                         once with the same kernels (outputs up to
 *                         IA_GRAPH_FOLD_MAX_BYTES) and become constants;
 *   ia_graph_plan         offsets into one arena for every value whose size
 *                         is known, reusing memory between values whose
 *                         lifetimes do not overlap.
 *
 * A graph is not thread-safe: the passes and the engine's runs write the
 * values' shapes.
 */
#ifndef IA_GRAPH_H
#define IA_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "ia/kernels.h"
#include "ia/onnx.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest output a constant-folded node may produce. */
#define IA_GRAPH_FOLD_MAX_BYTES ((uint64_t)16 << 20)
/* Largest value ia_graph_infer computes from known shapes (see there). */
#define IA_GRAPH_EVAL_MAX_BYTES 4096
/* Alignment of every planned buffer in the arena. */
#define IA_GRAPH_PLAN_ALIGN 64

enum ia_value_kind {
    IA_VALUE_INPUT = 0,   /* a graph input (may carry a default initializer) */
    IA_VALUE_INITIALIZER, /* constant from the model */
    IA_VALUE_NODE,        /* produced by a node */
    IA_VALUE_OUTER,       /* subgraphs only: defined in an enclosing scope */
};

struct ia_graph_value {
    const char *name; /* points into the model */
    enum ia_value_kind kind;
    int producer; /* index into nodes (execution order) or -1 */
    /* dtype and shape once known (shape_known), data for constants. For an
     * INPUT with a default initializer, data holds the default. */
    struct ia_tensor t;
    int shape_known;
    int is_const;    /* data known before any run (initializer or folded) */
    void *folded;    /* data of a folded constant, owned by the graph */
    void *evaluated; /* data ia_graph_infer computed from known shapes, owned by the graph */
    const struct ia_onnx_value *decl;  /* declared type: input/output/value_info, or NULL */
    const struct ia_onnx_tensor *init; /* the initializer behind it (an INPUT's default), or NULL */
    /* Lifetime in node positions: produced at `producer` (or before the
     * first node), last read at last_use; graph outputs live to the end. */
    int last_use;
    int is_output;
    int64_t offset; /* arena offset from ia_graph_plan, or -1: allocated per run */
    uint64_t plan_bytes;
};

struct ia_graph_node {
    const struct ia_onnx_node *src;
    const struct ia_op_def *op; /* set by ia_graph_resolve_ops */
    int64_t opset;              /* imported version of the node's domain */
    size_t n_in;
    int *in; /* value ids; -1 for an omitted optional input */
    size_t n_out;
    int *out; /* value ids; -1 for an unused optional output */
    size_t n_implicit;
    int *implicit; /* outer values its subgraphs read */
    int has_subgraph;
    int folded;  /* computed by ia_graph_fold: skipped at run */
    int dynamic; /* infer needs run-time values */
};

struct ia_graph_map; /* name → value id */

struct ia_graph {
    const struct ia_model *model;
    const struct ia_onnx_graph *src;
    int is_subgraph;
    size_t n_values;
    struct ia_graph_value *values;
    size_t n_nodes;
    struct ia_graph_node *nodes; /* topological order */
    size_t n_inputs;
    int *inputs; /* graph inputs that are not plain initializers, in order */
    size_t n_outputs;
    int *outputs;
    size_t n_outer;
    int *outer; /* OUTER values (subgraphs) */
    size_t n_folded;
    uint64_t arena_bytes; /* from the last ia_graph_plan */
    struct ia_graph_map *map;
};

/* Builds the IR of `g` (the model's main graph or a subgraph of it; the
 * model must outlive the result). With allow_outer, names used but not
 * defined become OUTER values; without, they are an IA_EFORMAT error
 * naming the node. Cycles are IA_EFORMAT naming a node on the cycle. */
int ia_graph_build(const struct ia_model *m, const struct ia_onnx_graph *g, int allow_outer,
                   struct ia_graph **out);
void ia_graph_free(struct ia_graph *g);

/* The id of a value name, or -1. */
int ia_graph_find(const struct ia_graph *g, const char *name);

/* Names a subgraph reads from its enclosing scopes (recursively through its
 * own subgraphs), each once, in first-use order. *names is an ia_malloc'd
 * array of pointers into the model; the caller frees the array. */
int ia_graph_free_names(const struct ia_onnx_graph *g, const char ***names, size_t *n);

/* Finds each node's kernel at the model's opset for its domain. Missing
 * ones: IA_EUNSUPPORTED, "unsupported ops: A (opset 13), B (opset 13)". */
int ia_graph_resolve_ops(struct ia_graph *g);

/* Shape inference. The caller sets the graph inputs' values first:
 * shape_known and t (dtype and dims; data when the value is known, else
 * NULL). OUTER values likewise (shape_known 0 when not known). Every node's
 * outputs are then set from its kernel's infer, or marked unknown when an
 * input is unknown or infer returns IA_EAGAIN (the node is then dynamic).
 * Other infer errors are returned (message names the node).
 * Small values that follow from known shapes are computed on the way, so
 * what reads them can be inferred too: the outputs of Shape and Size, and
 * of any node whose inputs all have data, when they are not strings and
 * total at most IA_GRAPH_EVAL_MAX_BYTES (the exported-model pattern
 * Shape -> Gather -> Concat -> Reshape). Other values that are neither
 * constants nor inputs have data NULL afterwards. */
int ia_graph_infer(struct ia_graph *g);

/* Sets the graph inputs from their declarations: known when every dim is
 * a number, unknown otherwise. Used at session creation. */
void ia_graph_bind_declared(struct ia_graph *g);

/* Constant folding (after ia_graph_infer): see the header comment. Nodes
 * with subgraphs and random generators are never folded. Returns the
 * kernel's error if a fold fails. */
int ia_graph_fold(struct ia_graph *g);

/* Memory plan (after ia_graph_infer): every non-constant, non-input,
 * non-string value with a known shape gets an offset; g->arena_bytes is the
 * arena size. Values whose lifetimes overlap never share bytes. */
int ia_graph_plan(struct ia_graph *g);

/* Lifetimes (last_use, is_output); run by ia_graph_build and again after
 * folding. */
void ia_graph_lifetimes(struct ia_graph *g);

/* Runs one node's kernel outside a session (folding, tests): infer,
 * allocate outputs with ia_malloc (the caller frees each out[i]->data and,
 * for strings, out[i]->strings is inside data), compute. pool may be NULL. */
int ia_graph_run_node(const struct ia_graph_node *n, const struct ia_tensor *const *in,
                      struct ia_tensor *const *out, struct ia_pool *pool);

/* Copies the strings of a STRING tensor (from t->strings, else t->data)
 * into one new ia_malloc'd block holding the entries and their bytes, and
 * points t->data and t->strings at it; *block is the caller's to free. */
int ia_graph_own_strings(struct ia_tensor *t, void **block);

#ifdef __cplusplus
}
#endif
#endif
