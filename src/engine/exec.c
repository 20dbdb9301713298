/*
 * Running a graph: a frame holds one execution's tensors. Each node is
 * inferred again with the real input values (cheap shape arithmetic; it
 * also gives dynamic nodes their shapes), its outputs get memory (the
 * planned arena slot when the plan has one big enough, else a buffer of
 * their own freed after the value's last use), then the backend runs it.
 *
 * Subgraphs run through ctx->run_subgraph in a child frame whose OUTER
 * values are looked up by name in the enclosing frames. A call's outputs
 * stay valid until the op returns or until two more run_subgraph calls
 * from the same op have returned, so a Loop may feed one iteration's
 * outputs straight into the next.
 */
#include <string.h>

#include "engine_internal.h"

#define STACK_IO 64

int frame_init(struct frame *f, struct ia_session *s, const struct ia_graph *g,
               struct frame *parent) {
    memset(f, 0, sizeof *f);
    f->s = s;
    f->g = g;
    f->parent = parent;
    size_t n = g->n_values ? g->n_values : 1;
    f->vals = ia_calloc(n, sizeof *f->vals);
    f->bufs = ia_calloc(n, sizeof *f->bufs);
    f->sbufs = ia_calloc(n, sizeof *f->sbufs);
    if (!f->vals || !f->bufs || !f->sbufs) {
        frame_free(f);
        return ia_error_set(IA_ENOMEM, "out of memory");
    }
    return IA_OK;
}

static void free_value(struct frame *f, size_t i) {
    if (f->bufs[i]) f->s->be->free(f->s->bst, f->bufs[i]);
    ia_free(f->sbufs[i]);
    f->bufs[i] = NULL;
    f->sbufs[i] = NULL;
}

void frame_release(struct frame *f) {
    if (!f->vals) return;
    for (size_t i = 0; i < f->g->n_values; i++) free_value(f, i);
    f->dynamic_bytes = 0;
}

void frame_free(struct frame *f) {
    if (f->bufs && f->sbufs) frame_release(f);
    ia_free(f->vals);
    ia_free(f->bufs);
    ia_free(f->sbufs);
    memset(f, 0, sizeof *f);
}

/* Fills vals from the graph: constants, OUTER values from the enclosing
 * frames, empty tensors (named) for the rest. Inputs are set by the caller
 * afterwards. */
int frame_setup(struct frame *f) {
    const struct ia_graph *g = f->g;
    for (size_t i = 0; i < g->n_values; i++) {
        const struct ia_graph_value *v = &g->values[i];
        if (v->is_const || v->kind == IA_VALUE_INPUT) {
            f->vals[i] = v->t; /* inputs: default initializer, if any, until bound */
        } else {
            memset(&f->vals[i], 0, sizeof f->vals[i]);
            f->vals[i].name = v->name;
        }
    }
    for (size_t i = 0; i < g->n_outer; i++) {
        int id = g->outer[i];
        const char *name = g->values[id].name;
        const struct frame *p = f->parent;
        for (; p; p = p->parent) {
            int pid = ia_graph_find(p->g, name);
            if (pid >= 0) {
                f->vals[id] = p->vals[pid];
                break;
            }
        }
        if (!p)
            return ia_error_set(IA_EFORMAT,
                                "a subgraph reads '%s', which no enclosing graph defines", name);
    }
    return IA_OK;
}

/* ---- per-node execution ---------------------------------------------------- */

/* Kernels ask for a few scratch blocks per node; the list of them starts in
 * `scratch_inline` so that a steady-state run makes no heap allocation
 * (the blocks themselves come from the backend's cache). */
#define NODE_SCRATCH_INLINE 8

struct node_exec {
    struct frame *f;
    void **scratch; /* scratch_inline, or an ia_malloc'd list once that is full */
    size_t n_scratch, cap_scratch;
    void *scratch_inline[NODE_SCRATCH_INLINE];
    struct frame *sub[2]; /* the last two subgraph frames: [0] older */
};

static void *exec_scratch(struct ia_op_ctx *ctx, size_t bytes) {
    struct node_exec *ne = ctx->engine;
    if (ne->n_scratch == ne->cap_scratch) {
        size_t cap = ne->cap_scratch * 2;
        void **np = ia_malloc(cap * sizeof *np);
        if (!np) {
            ia_error_set(IA_ENOMEM, "out of memory");
            return NULL;
        }
        memcpy(np, ne->scratch, ne->n_scratch * sizeof *np);
        if (ne->scratch != ne->scratch_inline) ia_free(ne->scratch);
        ne->scratch = np;
        ne->cap_scratch = cap;
    }
    void *p = ne->f->s->be->alloc(ne->f->s->bst, bytes);
    if (p) ne->scratch[ne->n_scratch++] = p;
    return p;
}

static void drop_subframe(struct frame *sf) {
    if (!sf) return;
    frame_free(sf);
    ia_free(sf);
}

static void node_exec_done(struct node_exec *ne) {
    for (size_t i = 0; i < ne->n_scratch; i++) ne->f->s->be->free(ne->f->s->bst, ne->scratch[i]);
    if (ne->scratch != ne->scratch_inline) ia_free(ne->scratch);
    drop_subframe(ne->sub[0]);
    drop_subframe(ne->sub[1]);
}

static int exec_subgraph(struct ia_op_ctx *ctx, const struct ia_onnx_graph *src, size_t n_in,
                         const struct ia_tensor *const *in, size_t n_out, struct ia_tensor **out) {
    struct node_exec *ne = ctx->engine;
    const struct ia_graph *g = session_subgraph(ne->f->s, src);
    if (!g) return ia_op_error(ctx, IA_EINTERNAL, "subgraph '%s' was not compiled", src->name);
    if (n_in != g->n_inputs)
        return ia_op_error(ctx, IA_EINVAL, "subgraph '%s' takes %zu inputs, %zu given", src->name,
                           g->n_inputs, n_in);
    if (n_out != g->n_outputs)
        return ia_op_error(ctx, IA_EINVAL, "subgraph '%s' has %zu outputs, %zu asked for",
                           src->name, g->n_outputs, n_out);
    struct frame *sf = ia_calloc(1, sizeof *sf);
    if (!sf) return ia_error_set(IA_ENOMEM, "out of memory");
    int rc = frame_init(sf, ne->f->s, g, ne->f);
    if (rc == IA_OK) rc = frame_setup(sf);
    for (size_t i = 0; rc == IA_OK && i < n_in; i++) {
        int id = g->inputs[i];
        if (!in[i]) {
            memset(&sf->vals[id], 0, sizeof sf->vals[id]);
        } else {
            sf->vals[id] = *in[i];
        }
        sf->vals[id].name = g->values[id].name;
    }
    if (rc == IA_OK) rc = frame_exec(sf);
    if (rc) {
        drop_subframe(sf);
        return rc;
    }
    for (size_t i = 0; i < n_out; i++) out[i] = &sf->vals[g->outputs[i]];
    drop_subframe(ne->sub[0]);
    ne->sub[0] = ne->sub[1];
    ne->sub[1] = sf;
    return IA_OK;
}

static void reset_out(struct ia_tensor *t, const char *name) {
    memset(t, 0, sizeof *t);
    t->name = name;
}

static int alloc_output(struct frame *f, int id) {
    const struct ia_graph_value *v = &f->g->values[id];
    struct ia_tensor *t = &f->vals[id];
    /* Sequences get their block after compute (see the loop there). */
    if (t->kind != IA_KIND_TENSOR) return IA_OK;
    if (t->dtype == IA_DTYPE_STRING) {
        t->data = ia_calloc(t->numel ? (size_t)t->numel : 1, sizeof(struct ia_onnx_bytes));
        if (!t->data) return ia_error_set(IA_ENOMEM, "out of memory for '%s'", v->name);
        t->strings = t->data;
        f->sbufs[id] = t->data;
        return IA_OK;
    }
    if (f->arena && v->offset >= 0 && t->nbytes <= v->plan_bytes) {
        t->data = f->arena + v->offset;
        return IA_OK;
    }
    void *p = f->s->be->alloc(f->s->bst, t->nbytes ? (size_t)t->nbytes : 1);
    if (!p)
        return ia_error_wrap(IA_ENOMEM, "value '%s' (%llu bytes)", v->name,
                             (unsigned long long)t->nbytes);
    f->bufs[id] = p;
    f->dynamic_bytes += t->nbytes;
    t->data = p;
    return IA_OK;
}

static int exec_node_io(struct frame *f, size_t idx, const struct ia_tensor **in,
                        struct ia_tensor **out);

static int exec_node(struct frame *f, size_t idx) {
    const struct ia_graph *g = f->g;
    const struct ia_graph_node *nd = &g->nodes[idx];
    /* Most nodes fit the stack arrays; Concat/Sum of hundreds use the heap. */
    const struct ia_tensor *in_stack[STACK_IO];
    struct ia_tensor *out_stack[STACK_IO];
    const struct ia_tensor **in = in_stack;
    struct ia_tensor **out = out_stack;
    if (nd->n_in > STACK_IO || nd->n_out > STACK_IO) {
        in = ia_malloc((nd->n_in + 1) * sizeof *in);
        out = ia_malloc((nd->n_out + 1) * sizeof *out);
        if (!in || !out) {
            if (in != in_stack) ia_free(in);
            if (out != out_stack) ia_free(out);
            return ia_error_set(IA_ENOMEM, "out of memory");
        }
    }
    int rc = exec_node_io(f, idx, in, out);
    if (in != in_stack) ia_free(in);
    if (out != out_stack) ia_free(out);
    return rc;
}

static int exec_node_io(struct frame *f, size_t idx, const struct ia_tensor **in,
                        struct ia_tensor **out) {
    const struct ia_graph *g = f->g;
    const struct ia_graph_node *nd = &g->nodes[idx];
    for (size_t k = 0; k < nd->n_in; k++) {
        int id = nd->in[k];
        in[k] = id >= 0 ? &f->vals[id] : NULL;
        if (id >= 0 && !f->vals[id].data && f->vals[id].numel &&
            f->vals[id].dtype != IA_DTYPE_STRING)
            return ia_error_set(IA_EINTERNAL, "%s node '%s': input '%s' has no value",
                                nd->src->op_type, nd->src->name, g->values[id].name);
        if (id >= 0 && f->vals[id].kind == IA_KIND_TENSOR &&
            f->vals[id].dtype == IA_DTYPE_UNDEFINED)
            return ia_error_set(IA_EINVAL, "%s node '%s': input '%s' has no value",
                                nd->src->op_type, nd->src->name, g->values[id].name);
        if (id >= 0 && f->vals[id].kind != IA_KIND_TENSOR && !ia_op_takes_values(nd->op))
            return ia_error_set(IA_EINVAL, "%s node '%s': input '%s' is %s; the op takes tensors",
                                nd->src->op_type, nd->src->name, g->values[id].name,
                                ia_value_kind_name(&f->vals[id]));
    }
    for (size_t k = 0; k < nd->n_out; k++) {
        int id = nd->out[k];
        out[k] = id >= 0 ? &f->vals[id] : NULL;
        if (id >= 0) {
            free_value(f, (size_t)id);
            reset_out(out[k], g->values[id].name);
        }
    }
    struct node_exec ne = {.f = f, .cap_scratch = NODE_SCRATCH_INLINE};
    ne.scratch = ne.scratch_inline;
    struct ia_op_ctx ctx = {
        .node = nd->src,
        .opset = nd->opset,
        .n_inputs = nd->n_in,
        .inputs = in,
        .n_outputs = nd->n_out,
        .outputs = out,
        .scratch = exec_scratch,
        .run_subgraph = exec_subgraph,
        .engine = &ne,
    };
    int rc = nd->op->infer(&ctx);
    if (rc == IA_EAGAIN)
        rc = ia_op_error(&ctx, IA_EINTERNAL, "infer needs a value although every input is known");
    for (size_t k = 0; rc == IA_OK && k < nd->n_out; k++)
        if (nd->out[k] >= 0) rc = alloc_output(f, nd->out[k]);
    if (rc == IA_OK) rc = f->s->be->run_node(f->s->bst, nd->op, &ctx);
    /* Strings and sequence items a kernel pointed at its inputs, scratch
     * or a subgraph's values become the value's own. */
    for (size_t k = 0; rc == IA_OK && k < nd->n_out; k++) {
        int id = nd->out[k];
        if (id < 0) continue;
        int seq = f->vals[id].kind == IA_KIND_SEQUENCE;
        if (!seq && (f->vals[id].kind != IA_KIND_TENSOR || f->vals[id].dtype != IA_DTYPE_STRING))
            continue;
        void *block;
        rc = seq ? ia_value_own_items(&f->vals[id], &block)
                 : ia_graph_own_strings(&f->vals[id], &block);
        if (rc == IA_OK) {
            ia_free(f->sbufs[id]);
            f->sbufs[id] = block;
        }
    }
    node_exec_done(&ne);
    if (rc) return rc;
    /* Free what this node was the last to read, and outputs nobody reads. */
    for (size_t k = 0; k < nd->n_in + nd->n_implicit; k++) {
        int id = k < nd->n_in ? nd->in[k] : nd->implicit[k - nd->n_in];
        if (id >= 0 && g->values[id].last_use == (int)idx && !g->values[id].is_output)
            free_value(f, (size_t)id);
    }
    for (size_t k = 0; k < nd->n_out; k++) {
        int id = nd->out[k];
        if (id >= 0 && g->values[id].last_use < 0 && !g->values[id].is_output)
            free_value(f, (size_t)id);
    }
    return IA_OK;
}

int frame_exec(struct frame *f) {
    for (size_t i = 0; i < f->g->n_nodes; i++) {
        if (f->g->nodes[i].folded) continue;
        int rc = exec_node(f, i);
        if (rc) return rc;
    }
    return IA_OK;
}
