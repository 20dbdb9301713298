/*
 * engine: run an ONNX model.
 *
 * A session is a model made ready to run: at ia_session_create the graph
 * module builds the IR, every node's kernel is found (a model with ops we
 * lack fails here, listing them), shapes are inferred from the declared
 * input shapes, constant subgraphs are folded and, when the input shapes
 * are all numbers, the memory plan is made. ia_session_run checks the
 * inputs against the declared types (symbolic dims bind to the sizes given
 * and must agree across inputs), re-plans when the input shapes differ from
 * the last run's, and runs the nodes on the session's backend.
 *
 * Ownership: the session borrows the model (keep it alive until
 * ia_session_destroy; initializers are used in place, not copied). Outputs
 * of ia_session_run belong to the session and stay valid until the next
 * run or ia_session_destroy; copy them (ia_tensor_io_clone) to keep them.
 *
 * A session runs one call at a time (not thread-safe); kernels spread
 * their work over the session's thread pool. Different sessions are
 * independent.
 */
#ifndef IA_ENGINE_H
#define IA_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "ia/graph.h"
#include "ia/kernels.h"
#include "ia/onnx.h"

#ifdef __cplusplus
extern "C" {
#endif

struct ia_session;

struct ia_session_opts {
    int threads;         /* thread pool size; <= 0: all logical CPUs */
    const char *backend; /* NULL or "cpu" */
    int no_fold;         /* 1: skip constant folding (tests, debugging) */
    /* 1: inputs are checked for dtype only, not rank or dims. For test
     * suites whose data disagrees with the declared shapes (ONNX's own
     * runner does not check them); never for users. */
    int no_shape_check;
};

/* Prepares `m` to run. Errors: IA_EUNSUPPORTED ("unsupported ops: ..." or an
 * input/output that is not a tensor of a type we have), IA_EFORMAT (graph
 * problems: undefined names, cycles), a kernel's infer error (message names
 * the node), IA_ENOTFOUND (unknown backend), IA_ENOMEM. opts may be NULL. */
int ia_session_create(const struct ia_model *m, const struct ia_session_opts *opts,
                      struct ia_session **out);
void ia_session_destroy(struct ia_session *s);

/* Runs the model. `names[i]` names the graph input `inputs[i]`; every
 * input without a default initializer must be given, each once. On success
 * *outputs points at n_out tensors (the graph outputs, in order; n_out
 * must equal ia_session_n_outputs) owned by the session until the next run.
 * Errors name the input: unknown or missing name, wrong dtype, rank or dim
 * ("input 'x': dim 1 is 5 but the model declares 3", "symbolic dim 'batch'
 * is 2 for 'a' but 3 for 'b'"), or the failing node's message. */
int ia_session_run(struct ia_session *s, size_t n_in, const char *const *names,
                   const struct ia_tensor *const *inputs, size_t n_out,
                   struct ia_tensor *const **outputs);

/* Declared inputs and outputs. Inputs list only those the caller may give
 * (initializers that double as inputs are included: they are optional). */
struct ia_session_value {
    const char *name;
    enum ia_dtype dtype; /* UNDEFINED when not declared */
    int has_shape;       /* 0: rank unknown */
    int rank;
    const struct ia_onnx_dim *dims; /* (rank): value >= 0, or -1 with param (symbolic) or not */
    int optional;                   /* has a default initializer */
    /* IA_ONNX_TYPE_TENSOR, or a SEQUENCE of tensors or an OPTIONAL (of a
     * TENSOR or a SEQUENCE: elem_type) whose values are given and returned
     * as struct ia_tensor of kind IA_KIND_SEQUENCE or IA_KIND_NONE, or the
     * optional's value itself (kernels.h). dtype is then UNDEFINED and
     * elem_dtype the tensors' element type (UNDEFINED when not declared). */
    enum ia_onnx_type type;
    enum ia_onnx_type elem_type;
    enum ia_dtype elem_dtype;
};
size_t ia_session_n_inputs(const struct ia_session *s);
size_t ia_session_n_outputs(const struct ia_session *s);
/* NULL when i is out of range; valid while the session lives. */
const struct ia_session_value *ia_session_input(const struct ia_session *s, size_t i);
const struct ia_session_value *ia_session_output(const struct ia_session *s, size_t i);

struct ia_session_stats {
    const char *backend;
    int threads;
    size_t n_nodes;         /* in the main graph */
    size_t n_folded;        /* computed once at creation */
    size_t n_dynamic;       /* shapes known only while running (last plan) */
    uint64_t arena_bytes;   /* planned arena for the last bound input shapes */
    uint64_t dynamic_bytes; /* bytes allocated outside the arena in the last run */
    uint64_t n_runs;
    double last_run_s; /* wall time of the last successful run */
    double create_s;   /* wall time of ia_session_create */
};
void ia_session_get_stats(const struct ia_session *s, struct ia_session_stats *st);

/* The engine's kernel table and shape inference, for ia_onnx_verify*:
 * static, never NULL. */
const struct ia_verify_opts *ia_engine_verify_opts(void);

/* ---- backends ----------------------------------------------------------- */

/* What the engine needs from a device. The engine meets a backend only
 * through this table; "cpu" is the only one so far. State is per session. */
struct ia_backend {
    const char *name;
    int (*create)(int threads, void **state);
    void (*destroy)(void *state);
    /* Device memory for the arena and per-run buffers; 64-byte aligned. */
    void *(*alloc)(void *state, size_t bytes);
    void (*free)(void *state, void *p);
    /* Runs one node whose inputs and outputs are in place (ctx is filled in
     * by the engine except for pool, which the backend sets). */
    int (*run_node)(void *state, const struct ia_op_def *op, struct ia_op_ctx *ctx);
    int (*n_threads)(void *state);
};

/* The backend called `name`, or NULL. */
const struct ia_backend *ia_backend_find(const char *name);

#ifdef __cplusplus
}
#endif
#endif
