/* Private to src/engine: the session and the frames that run graphs. */
#ifndef IA_ENGINE_INTERNAL_H
#define IA_ENGINE_INTERNAL_H

#include "ia/engine.h"
#include "ia/graph.h"

/* A compiled subgraph (If/Loop/Scan body), keyed by its ONNX graph. */
struct sub_entry {
    const struct ia_onnx_graph *src;
    struct ia_graph *g;
};

/* One execution of a graph: the tensors of its values and the buffers it
 * owns. The main graph's frame lives in the session (its outputs must
 * outlast the run); subgraph frames live for a run_subgraph call or two. */
struct frame {
    struct ia_session *s;
    const struct ia_graph *g;
    struct frame *parent;   /* enclosing scope, NULL for the main graph */
    struct ia_tensor *vals; /* (n_values) */
    void **bufs;            /* (n_values) backend buffers owned per run */
    void **sbufs;           /* (n_values) string blocks (host, ia_malloc) */
    uint8_t *arena;         /* planned values, main graph only */
    uint64_t dynamic_bytes;
};

struct ia_session {
    const struct ia_model *m;
    const struct ia_backend *be;
    void *bst;
    struct ia_graph *g;
    struct sub_entry *subs;
    size_t n_subs, cap_subs;
    struct ia_session_value *ins, *outs;
    size_t n_ins, n_outs;
    /* plan cache: input shapes it was made for */
    int64_t *sig;
    size_t sig_len;
    int plan_valid;
    int no_shape_check;
    uint8_t *arena;
    uint64_t arena_cap;
    struct frame main;
    struct ia_tensor **out_ptrs; /* (n_outputs) what ia_session_run hands out */
    struct ia_session_stats st;
};

int frame_init(struct frame *f, struct ia_session *s, const struct ia_graph *g,
               struct frame *parent);
/* Fills vals from the graph: constants, input defaults, OUTER values from
 * the enclosing frames; IA_EFORMAT when an outer name is nowhere. */
int frame_setup(struct frame *f);
/* Frees the per-run buffers (keeps the arrays). */
void frame_release(struct frame *f);
void frame_free(struct frame *f);
/* Runs every node not folded; the inputs must be in f->vals. */
int frame_exec(struct frame *f);
/* The compiled subgraph for `src`, or NULL. */
const struct ia_graph *session_subgraph(const struct ia_session *s,
                                        const struct ia_onnx_graph *src);

#endif
