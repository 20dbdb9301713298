/*
 * Graph passes that use the kernels: shape inference, constant folding and
 * the memory plan (see include/ia/graph.h for the pipeline).
 */
#include <stdlib.h>
#include <string.h>

#include "ia/graph.h"

/* ---- strings and scratch ------------------------------------------------- */

int ia_graph_own_strings(struct ia_tensor *t, void **block) {
    *block = NULL;
    const struct ia_onnx_bytes *src = t->strings ? t->strings : t->data;
    uint64_t total = 0, head;
    for (uint64_t i = 0; src && i < t->numel; i++) total += src[i].len;
    if (__builtin_mul_overflow(t->numel, (uint64_t)sizeof(struct ia_onnx_bytes), &head) ||
        head + total < head || head + total > ((uint64_t)1 << 46))
        return ia_error_set(IA_ERANGE, "%s: strings too big", t->name ? t->name : "tensor");
    uint8_t *b = ia_malloc((size_t)(head + total) + 1);
    if (!b) return ia_error_set(IA_ENOMEM, "out of memory");
    struct ia_onnx_bytes *dst = (struct ia_onnx_bytes *)b;
    uint8_t *area = b + head;
    for (uint64_t i = 0; i < t->numel; i++) {
        size_t len = src ? src[i].len : 0;
        dst[i].len = len;
        dst[i].data = len ? area : NULL;
        if (len) memcpy(area, src[i].data, len);
        area += len;
    }
    t->data = dst;
    t->strings = dst;
    *block = b;
    return IA_OK;
}

struct scratch_list {
    void **p;
    size_t n, cap;
};

static void *scratch_alloc(struct ia_op_ctx *ctx, size_t bytes) {
    struct scratch_list *s = ctx->engine;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 8;
        void **np = ia_realloc(s->p, cap * sizeof *np);
        if (!np) {
            ia_error_set(IA_ENOMEM, "out of memory");
            return NULL;
        }
        s->p = np;
        s->cap = cap;
    }
    void *m = ia_malloc(bytes ? bytes : 1);
    if (!m) {
        ia_error_set(IA_ENOMEM, "out of memory for %zu bytes of scratch", bytes);
        return NULL;
    }
    s->p[s->n++] = m;
    return m;
}

static void scratch_release(struct scratch_list *s) {
    for (size_t i = 0; i < s->n; i++) ia_free(s->p[i]);
    ia_free(s->p);
    memset(s, 0, sizeof *s);
}

int ia_graph_run_node(const struct ia_graph_node *n, const struct ia_tensor *const *in,
                      struct ia_tensor *const *out, struct ia_pool *pool) {
    struct scratch_list sl = {0};
    struct ia_op_ctx ctx = {
        .node = n->src,
        .opset = n->opset,
        .n_inputs = n->n_in,
        .inputs = in,
        .n_outputs = n->n_out,
        .outputs = out,
        .pool = pool,
        .scratch = scratch_alloc,
        .engine = &sl,
    };
    if (!n->op) return ia_error_set(IA_EUNSUPPORTED, "%s: no kernel", n->src->op_type);
    for (size_t k = 0; k < n->n_out; k++)
        if (out[k]) {
            const char *name = out[k]->name;
            memset(out[k], 0, sizeof *out[k]);
            out[k]->name = name;
        }
    int rc = n->op->infer(&ctx);
    if (rc == IA_EAGAIN)
        return ia_op_error(&ctx, IA_EINTERNAL, "infer asked for values while all were given");
    /* Sequence items would point into scratch freed below: only the engine
     * runs such nodes. */
    for (size_t k = 0; rc == IA_OK && k < n->n_out; k++)
        if (out[k] && out[k]->kind != IA_KIND_TENSOR)
            rc = ia_op_error(&ctx, IA_EUNSUPPORTED, "gives %s outside a session",
                             ia_value_kind_name(out[k]));
    for (size_t k = 0; rc == IA_OK && k < n->n_out; k++) {
        if (!out[k]) continue;
        out[k]->data =
            out[k]->dtype == IA_DTYPE_STRING
                ? ia_calloc(out[k]->numel ? (size_t)out[k]->numel : 1, sizeof(struct ia_onnx_bytes))
                : ia_malloc(out[k]->nbytes ? (size_t)out[k]->nbytes : 1);
        if (!out[k]->data) rc = ia_error_set(IA_ENOMEM, "out of memory");
        if (out[k]->dtype == IA_DTYPE_STRING) out[k]->strings = out[k]->data;
    }
    if (rc == IA_OK) rc = n->op->compute(&ctx);
    for (size_t k = 0; rc == IA_OK && k < n->n_out; k++) {
        if (!out[k] || out[k]->dtype != IA_DTYPE_STRING) continue;
        void *old = out[k]->data, *block;
        rc = ia_graph_own_strings(out[k], &block);
        ia_free(old);
        if (rc) out[k]->data = NULL;
    }
    if (rc)
        for (size_t k = 0; k < n->n_out; k++)
            if (out[k]) {
                ia_free(out[k]->data);
                out[k]->data = NULL;
                out[k]->strings = NULL;
            }
    scratch_release(&sl);
    return rc;
}

/* ---- shape inference ----------------------------------------------------- */

void ia_graph_bind_declared(struct ia_graph *g) {
    for (size_t i = 0; i < g->n_inputs; i++) {
        struct ia_graph_value *v = &g->values[g->inputs[i]];
        const struct ia_onnx_value *d = v->decl;
        v->shape_known = 0;
        v->t.data = NULL;
        v->t.strings = NULL;
        if (!d || !d->is_tensor || !d->has_shape || d->dtype == IA_DTYPE_UNDEFINED ||
            d->rank > IA_MAX_RANK)
            continue;
        int64_t dims[IA_MAX_RANK];
        int known = 1;
        for (size_t k = 0; k < d->rank; k++) {
            dims[k] = d->dims[k].value;
            if (dims[k] < 0) known = 0;
        }
        if (known && ia_tensor_set_shape(&v->t, d->dtype, (int)d->rank, dims) == IA_OK)
            v->shape_known = 1;
    }
    ia_error_clear();
}

static int value_ready(const struct ia_graph *g, int id) {
    return id < 0 || g->values[id].shape_known;
}

static int never_fold(const struct ia_graph_node *nd);

/* Shape and Size read only their input's shape. */
static int reads_shape_only(const struct ia_graph_node *nd) {
    const char *d = nd->src->domain;
    return (!d[0] || !strcmp(d, "ai.onnx")) &&
           (!strcmp(nd->src->op_type, "Shape") || !strcmp(nd->src->op_type, "Size"));
}

/* Computes a node's small outputs during inference (see graph.h); any
 * failure just leaves them without data. */
static void eval_small(struct ia_graph *g, struct ia_graph_node *nd,
                       const struct ia_tensor *const *in, struct ia_tensor *const *out) {
    if (never_fold(nd)) return;
    uint64_t bytes = 0;
    for (size_t k = 0; k < nd->n_out; k++) {
        if (!out[k]) continue;
        if (out[k]->dtype == IA_DTYPE_STRING) return;
        bytes += out[k]->nbytes;
    }
    if (bytes > IA_GRAPH_EVAL_MAX_BYTES) return;
    if (!reads_shape_only(nd))
        for (size_t k = 0; k < nd->n_in; k++)
            if (in[k] && !in[k]->data && in[k]->numel) return;
    int ok = 1;
    for (size_t k = 0; k < nd->n_out && ok; k++) {
        if (!out[k]) continue;
        out[k]->data = ia_malloc(out[k]->nbytes ? (size_t)out[k]->nbytes : 1);
        if (!out[k]->data) ok = 0;
    }
    struct scratch_list sl = {0};
    struct ia_op_ctx ctx = {
        .node = nd->src,
        .opset = nd->opset,
        .n_inputs = nd->n_in,
        .inputs = in,
        .n_outputs = nd->n_out,
        .outputs = out,
        .scratch = scratch_alloc,
        .engine = &sl,
    };
    if (ok && nd->op->compute(&ctx) != IA_OK) ok = 0;
    scratch_release(&sl);
    for (size_t k = 0; k < nd->n_out; k++) {
        if (nd->out[k] < 0) continue;
        struct ia_graph_value *v = &g->values[nd->out[k]];
        if (ok) {
            v->evaluated = v->t.data;
        } else {
            ia_free(v->t.data);
            v->t.data = NULL;
        }
    }
    ia_error_clear();
}

int ia_graph_infer(struct ia_graph *g) {
    for (size_t i = 0; i < g->n_values; i++) {
        struct ia_graph_value *v = &g->values[i];
        ia_free(v->evaluated);
        v->evaluated = NULL;
        if (v->kind == IA_VALUE_NODE && !v->is_const) {
            const char *name = v->t.name;
            memset(&v->t, 0, sizeof v->t);
            v->t.name = name;
            v->shape_known = 0;
        }
    }
    const struct ia_tensor *in[64];
    struct ia_tensor *out[64];
    for (size_t i = 0; i < g->n_nodes; i++) {
        struct ia_graph_node *nd = &g->nodes[i];
        if (nd->folded) continue;
        nd->dynamic = 0;
        int ready = nd->op != NULL && nd->n_in <= 64 && nd->n_out <= 64;
        for (size_t k = 0; ready && k < nd->n_in; k++) ready = value_ready(g, nd->in[k]);
        if (!ready) {
            nd->dynamic = 1;
            continue;
        }
        for (size_t k = 0; k < nd->n_in; k++)
            in[k] = nd->in[k] >= 0 ? &g->values[nd->in[k]].t : NULL;
        for (size_t k = 0; k < nd->n_out; k++)
            out[k] = nd->out[k] >= 0 ? &g->values[nd->out[k]].t : NULL;
        struct ia_op_ctx ctx = {
            .node = nd->src,
            .opset = nd->opset,
            .n_inputs = nd->n_in,
            .inputs = in,
            .n_outputs = nd->n_out,
            .outputs = out,
        };
        int rc = nd->op->infer(&ctx);
        /* Sequences and empty optionals exist only while running (kernels.h):
         * what produces them is dynamic, so nothing reading them is folded. */
        for (size_t k = 0; rc == IA_OK && k < nd->n_out; k++)
            if (out[k] && out[k]->kind != IA_KIND_TENSOR) rc = IA_EAGAIN;
        if (rc == IA_EAGAIN) {
            nd->dynamic = 1;
            for (size_t k = 0; k < nd->n_out; k++)
                if (out[k]) {
                    const char *name = out[k]->name;
                    memset(out[k], 0, sizeof *out[k]);
                    out[k]->name = name;
                }
            ia_error_clear();
            continue;
        }
        if (rc) return rc;
        for (size_t k = 0; k < nd->n_out; k++)
            if (nd->out[k] >= 0) {
                g->values[nd->out[k]].shape_known = 1;
                g->values[nd->out[k]].t.data = NULL;
                g->values[nd->out[k]].t.strings = NULL;
            }
        eval_small(g, nd, in, out);
    }
    return IA_OK;
}

/* ---- constant folding ------------------------------------------------------ */

static int never_fold(const struct ia_graph_node *nd) {
    static const char *const ops[] = {
        "RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike",
        "Multinomial",  "Bernoulli",     "Dropout"};
    if (nd->has_subgraph || !nd->op || nd->n_out > 64 || nd->n_in > 64) return 1;
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (!strcmp(nd->src->op_type, ops[i])) return 1;
    return 0;
}

int ia_graph_fold(struct ia_graph *g) {
    const struct ia_tensor *in[64];
    struct ia_tensor tmp[64];
    struct ia_tensor *out[64];
    for (size_t i = 0; i < g->n_nodes; i++) {
        struct ia_graph_node *nd = &g->nodes[i];
        if (nd->folded || nd->dynamic || never_fold(nd)) continue;
        int ok = 1;
        for (size_t k = 0; ok && k < nd->n_in; k++)
            ok = nd->in[k] < 0 || g->values[nd->in[k]].is_const;
        uint64_t bytes = 0;
        for (size_t k = 0; ok && k < nd->n_out; k++) {
            if (nd->out[k] < 0) continue;
            const struct ia_graph_value *v = &g->values[nd->out[k]];
            if (!v->shape_known)
                ok = 0;
            else
                bytes += v->t.dtype == IA_DTYPE_STRING ? v->t.numel * 16 : v->t.nbytes;
        }
        if (!ok || bytes > IA_GRAPH_FOLD_MAX_BYTES) continue;
        for (size_t k = 0; k < nd->n_in; k++)
            in[k] = nd->in[k] >= 0 ? &g->values[nd->in[k]].t : NULL;
        for (size_t k = 0; k < nd->n_out; k++) {
            memset(&tmp[k], 0, sizeof tmp[k]);
            tmp[k].name = nd->out[k] >= 0 ? g->values[nd->out[k]].name : NULL;
            out[k] = nd->out[k] >= 0 ? &tmp[k] : NULL;
        }
        int rc = ia_graph_run_node(nd, in, out, NULL);
        if (rc) return rc;
        for (size_t k = 0; k < nd->n_out; k++) {
            if (nd->out[k] < 0) continue;
            struct ia_graph_value *v = &g->values[nd->out[k]];
            v->t = tmp[k];
            v->folded = tmp[k].data;
            v->is_const = 1;
            v->shape_known = 1;
        }
        nd->folded = 1;
        g->n_folded++;
    }
    ia_graph_lifetimes(g);
    return IA_OK;
}

/* ---- memory plan ------------------------------------------------------------- */

struct plan_item {
    int id;
    int start, end;
    uint64_t size;
};

static int by_size_desc(const void *a, const void *b) {
    const struct plan_item *x = a, *y = b;
    if (x->size != y->size) return x->size < y->size ? 1 : -1;
    return x->start - y->start;
}

static int by_offset(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static int plannable(const struct ia_graph_value *v) {
    return v->kind == IA_VALUE_NODE && !v->is_const && v->shape_known &&
           v->t.dtype != IA_DTYPE_STRING && v->producer >= 0;
}

/* Ops whose output is their input's bytes under another shape: when the
 * input dies at the node, the output may take the input's place and the
 * kernel's copy is skipped (it copies nothing onto itself). */
static int is_view_op(const struct ia_graph_node *nd) {
    static const char *const ops[] = {"Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity"};
    if (nd->folded || nd->n_in < 1 || nd->n_out != 1 || nd->src->domain[0]) return 0;
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (!strcmp(nd->src->op_type, ops[i])) return 1;
    return 0;
}

/* root[v]: the value whose arena slot v shares (itself for most): a view
 * op's output joins its input's slot when the input is last read there. */
static void plan_views(const struct ia_graph *g, int *root) {
    for (size_t i = 0; i < g->n_values; i++) root[i] = (int)i;
    for (size_t i = 0; i < g->n_nodes; i++) {
        const struct ia_graph_node *nd = &g->nodes[i];
        if (!is_view_op(nd)) continue;
        int x = nd->in[0], y = nd->out[0];
        if (x < 0 || y < 0) continue;
        const struct ia_graph_value *xv = &g->values[x], *yv = &g->values[y];
        if (!plannable(xv) || !plannable(yv) || xv->last_use != (int)i || xv->is_output ||
            xv->t.nbytes != yv->t.nbytes)
            continue;
        root[y] = root[x];
    }
}

int ia_graph_plan(struct ia_graph *g) {
    g->arena_bytes = 0;
    size_t n = 0;
    for (size_t i = 0; i < g->n_values; i++) {
        g->values[i].offset = -1;
        g->values[i].plan_bytes = 0;
    }
    size_t nv = g->n_values ? g->n_values : 1;
    struct plan_item *items = ia_malloc(nv * sizeof *items);
    /* (offset, end) pairs of placed items that overlap the one being placed */
    int64_t *busy = ia_malloc(nv * 2 * sizeof *busy);
    int *root = ia_malloc(nv * sizeof *root), *item_of = ia_malloc(nv * sizeof *item_of);
    if (!items || !busy || !root || !item_of) {
        ia_free(items);
        ia_free(busy);
        ia_free(root);
        ia_free(item_of);
        return ia_error_set(IA_ENOMEM, "out of memory");
    }
    plan_views(g, root);
    /* One item per slot: a root and the views that share it, from the
     * root's producer to the last view's last use. */
    for (size_t i = 0; i < g->n_values; i++) {
        const struct ia_graph_value *v = &g->values[i];
        item_of[i] = -1;
        if (!plannable(v)) continue;
        uint64_t size =
            (v->t.nbytes + IA_GRAPH_PLAN_ALIGN - 1) & ~(uint64_t)(IA_GRAPH_PLAN_ALIGN - 1);
        if (root[i] != (int)i) continue;
        item_of[i] = (int)n;
        items[n].id = (int)i;
        items[n].start = v->producer;
        items[n].end = v->last_use > v->producer ? v->last_use : v->producer;
        items[n].size = size;
        n++;
    }
    for (size_t i = 0; i < g->n_values; i++) {
        const struct ia_graph_value *v = &g->values[i];
        if (root[i] == (int)i || !plannable(v)) continue;
        struct plan_item *it = &items[item_of[root[i]]];
        if (v->last_use > it->end) it->end = v->last_use;
    }
    qsort(items, n, sizeof *items, by_size_desc);
    uint64_t arena = 0;
    for (size_t i = 0; i < n; i++) {
        struct plan_item *it = &items[i];
        size_t nb = 0;
        for (size_t j = 0; j < i; j++) {
            const struct plan_item *o = &items[j];
            if (o->start <= it->end && it->start <= o->end) {
                busy[2 * nb] = g->values[o->id].offset;
                busy[2 * nb + 1] = g->values[o->id].offset + (int64_t)o->size;
                nb++;
            }
        }
        qsort(busy, nb, 2 * sizeof *busy, by_offset);
        /* Lowest gap between busy ranges that fits. */
        int64_t off = 0;
        for (size_t j = 0; j < nb; j++) {
            if (busy[2 * j] - off >= (int64_t)it->size && busy[2 * j] >= off) break;
            if (busy[2 * j + 1] > off) off = busy[2 * j + 1];
        }
        g->values[it->id].offset = off;
        g->values[it->id].plan_bytes = it->size;
        if ((uint64_t)off + it->size > arena) arena = (uint64_t)off + it->size;
    }
    for (size_t i = 0; i < g->n_values; i++)
        if (root[i] != (int)i && plannable(&g->values[i])) {
            g->values[i].offset = g->values[root[i]].offset;
            g->values[i].plan_bytes = g->values[root[i]].plan_bytes;
        }
    g->arena_bytes = arena;
    ia_free(items);
    ia_free(busy);
    ia_free(root);
    ia_free(item_of);
    return IA_OK;
}
