/*
 * Sessions: create (build, resolve, infer, fold, plan), input checks, run,
 * metadata and stats. Execution itself is in exec.c.
 */
#include <stdio.h>
#include <string.h>

#include "engine_internal.h"
#include "graph/fuse.h"

/* ---- subgraphs ------------------------------------------------------------- */

const struct ia_graph *session_subgraph(const struct ia_session *s,
                                        const struct ia_onnx_graph *src) {
    for (size_t i = 0; i < s->n_subs; i++)
        if (s->subs[i].src == src) return s->subs[i].g;
    return NULL;
}

static int compile_subgraphs(struct ia_session *s, const struct ia_graph *g, int depth);

static int compile_one(struct ia_session *s, const struct ia_onnx_node *n, const char *attr,
                       const struct ia_onnx_graph *src, int depth) {
    if (depth > IA_ONNX_MAX_NESTING)
        return ia_error_set(IA_ERANGE, "subgraphs nest deeper than %d", IA_ONNX_MAX_NESTING);
    if (session_subgraph(s, src)) return IA_OK;
    struct ia_graph *sg;
    int rc = ia_graph_build(s->m, src, 1, &sg);
    if (rc == IA_OK) {
        rc = ia_graph_resolve_ops(sg);
        if (rc) ia_graph_free(sg);
    }
    if (rc)
        return ia_error_wrap(rc, "subgraph '%s' of %s node '%s'", attr, n->op_type,
                             n->name[0]     ? n->name
                             : n->n_outputs ? n->outputs[0]
                                            : "");
    if (s->n_subs == s->cap_subs) {
        size_t cap = s->cap_subs ? s->cap_subs * 2 : 4;
        struct sub_entry *ns = ia_realloc(s->subs, cap * sizeof *ns);
        if (!ns) {
            ia_graph_free(sg);
            return ia_error_set(IA_ENOMEM, "out of memory");
        }
        s->subs = ns;
        s->cap_subs = cap;
    }
    s->subs[s->n_subs].src = src;
    s->subs[s->n_subs].g = sg;
    s->n_subs++;
    /* Constants inside bodies are folded once; shapes there depend on the
     * values the op feeds in, so failures here only mean less is folded. */
    if (ia_graph_infer(sg) == IA_OK) (void)ia_graph_fold(sg);
    ia_error_clear();
    return compile_subgraphs(s, sg, depth + 1);
}

static int compile_subgraphs(struct ia_session *s, const struct ia_graph *g, int depth) {
    for (size_t i = 0; i < g->n_nodes; i++) {
        const struct ia_onnx_node *n = g->nodes[i].src;
        for (size_t a = 0; a < n->n_attrs; a++) {
            const struct ia_onnx_attr *at = &n->attrs[a];
            int rc = IA_OK;
            if (at->type == IA_ONNX_ATTR_GRAPH && at->g)
                rc = compile_one(s, n, at->name, at->g, depth);
            for (size_t k = 0; rc == IA_OK && at->type == IA_ONNX_ATTR_GRAPHS && k < at->n; k++)
                rc = compile_one(s, n, at->name, &at->graphs[k], depth);
            if (rc) return rc;
        }
    }
    return IA_OK;
}

/* ---- metadata ----------------------------------------------------------------- */

static const char *kind_name(const struct ia_onnx_value *d) {
    if (d->is_tensor) return "a tensor of an unsupported type";
    switch (d->type) {
    case IA_ONNX_TYPE_MAP: return "a map (not supported)";
    case IA_ONNX_TYPE_SPARSE_TENSOR: return "a sparse tensor (not supported)";
    case IA_ONNX_TYPE_SEQUENCE: return "a sequence of non-tensors (not supported)";
    case IA_ONNX_TYPE_OPTIONAL: return "an optional of a kind not supported";
    default: return "of no declared type";
    }
}

/* Sequences of tensors, and optionals of a tensor or such a sequence. */
static int value_type_ok(const struct ia_onnx_value *d, struct ia_session_value *sv) {
    int ok = 0;
    if (d->type == IA_ONNX_TYPE_SEQUENCE)
        ok = d->elem_type == IA_ONNX_TYPE_TENSOR || d->elem_type == IA_ONNX_TYPE_NONE;
    else if (d->type == IA_ONNX_TYPE_OPTIONAL)
        ok = d->elem_type == IA_ONNX_TYPE_TENSOR || d->elem_type == IA_ONNX_TYPE_SEQUENCE ||
             d->elem_type == IA_ONNX_TYPE_NONE;
    if (ok) {
        sv->type = d->type;
        sv->elem_type = d->elem_type;
        sv->elem_dtype = d->elem_dtype;
    }
    return ok;
}

static int fill_meta(struct ia_session *s) {
    const struct ia_graph *g = s->g;
    s->ins = ia_calloc(g->n_inputs ? g->n_inputs : 1, sizeof *s->ins);
    s->outs = ia_calloc(g->n_outputs ? g->n_outputs : 1, sizeof *s->outs);
    if (!s->ins || !s->outs) return ia_error_set(IA_ENOMEM, "out of memory");
    for (size_t i = 0; i < g->n_inputs; i++) {
        const struct ia_graph_value *v = &g->values[g->inputs[i]];
        const struct ia_onnx_value *d = v->decl;
        struct ia_session_value *sv = &s->ins[i];
        sv->name = v->name;
        sv->optional = v->init != NULL;
        if (d && !d->is_tensor && value_type_ok(d, sv)) {
            s->n_ins++;
            continue;
        }
        if (d && (!d->is_tensor || d->dtype == IA_DTYPE_UNDEFINED) && !v->init)
            return ia_error_set(IA_EUNSUPPORTED, "input '%s' is %s", v->name, kind_name(d));
        if (d && d->is_tensor) {
            sv->dtype = d->dtype;
            sv->has_shape = d->has_shape;
            sv->rank = (int)d->rank;
            sv->dims = d->dims;
            if (d->has_shape && d->rank > IA_MAX_RANK)
                return ia_error_set(IA_EUNSUPPORTED,
                                    "input '%s': rank %zu is over the supported %d", v->name,
                                    d->rank, IA_MAX_RANK);
        }
        s->n_ins++;
    }
    for (size_t i = 0; i < g->n_outputs; i++) {
        const struct ia_graph_value *v = &g->values[g->outputs[i]];
        struct ia_session_value *sv = &s->outs[i];
        sv->name = v->name;
        const struct ia_onnx_value *d = NULL;
        for (size_t k = 0; k < g->src->n_outputs; k++)
            if (!strcmp(g->src->outputs[k].name, v->name)) d = &g->src->outputs[k];
        if (d && !d->is_tensor && value_type_ok(d, sv)) {
            s->n_outs++;
            continue;
        }
        if (d && (!d->is_tensor || (d->dtype == IA_DTYPE_UNDEFINED && d->onnx_elem_type != 0)))
            return ia_error_set(IA_EUNSUPPORTED, "output '%s' is %s", v->name, kind_name(d));
        if (d && d->is_tensor) {
            sv->dtype = d->dtype;
            sv->has_shape = d->has_shape;
            sv->rank = (int)d->rank;
            sv->dims = d->dims;
        }
        s->n_outs++;
    }
    return IA_OK;
}

size_t ia_session_n_inputs(const struct ia_session *s) { return s->n_ins; }
size_t ia_session_n_outputs(const struct ia_session *s) { return s->n_outs; }
const struct ia_session_value *ia_session_input(const struct ia_session *s, size_t i) {
    return i < s->n_ins ? &s->ins[i] : NULL;
}
const struct ia_session_value *ia_session_output(const struct ia_session *s, size_t i) {
    return i < s->n_outs ? &s->outs[i] : NULL;
}

void ia_session_get_stats(const struct ia_session *s, struct ia_session_stats *st) { *st = s->st; }

/* ---- plan ------------------------------------------------------------------------ */

static size_t count_dynamic(const struct ia_graph *g) {
    size_t n = 0;
    for (size_t i = 0; i < g->n_nodes; i++) n += !g->nodes[i].folded && g->nodes[i].dynamic;
    return n;
}

/* Infers with the inputs' shapes in `bound` (data unknown) and plans. */
static int make_plan(struct ia_session *s, const struct ia_tensor *const *bound) {
    struct ia_graph *g = s->g;
    s->plan_valid = 0;
    for (size_t i = 0; i < g->n_inputs; i++) {
        struct ia_graph_value *v = &g->values[g->inputs[i]];
        const struct ia_tensor *b = bound[i];
        v->t = *b;
        v->t.name = v->name;
        v->t.data = NULL;
        v->t.strings = NULL;
        v->t.items = NULL;
        v->t.n_items = 0;
        /* Sequences and empty optionals exist only while running. */
        v->shape_known = b->kind == IA_KIND_TENSOR;
    }
    int rc = ia_graph_infer(g);
    if (rc == IA_OK) rc = ia_graph_plan(g);
    if (rc) return rc;
    if (g->arena_bytes > s->arena_cap) {
        s->be->free(s->bst, s->arena);
        s->arena = s->be->alloc(s->bst, (size_t)g->arena_bytes);
        s->arena_cap = s->arena ? g->arena_bytes : 0;
        if (!s->arena) return ia_error_wrap(IA_ENOMEM, "memory plan arena");
    }
    s->st.arena_bytes = g->arena_bytes;
    s->st.n_dynamic = count_dynamic(g);
    s->plan_valid = 1;
    return IA_OK;
}

static int same_sig(struct ia_session *s, const struct ia_tensor *const *bound, int update);

/* ---- create / destroy ----------------------------------------------------------- */

int ia_session_create(const struct ia_model *m, const struct ia_session_opts *opts,
                      struct ia_session **out) {
    *out = NULL;
    double t0 = ia_time_now();
    struct ia_session_opts o = {0};
    if (opts) o = *opts;
    const struct ia_backend *be = ia_backend_find(o.backend);
    if (!be) return ia_error_set(IA_ENOTFOUND, "no backend called '%s' (have: cpu)", o.backend);
    if (m->n_problems)
        return ia_error_set(IA_EINVAL, "%s: the model was loaded with problems and cannot run",
                            m->path ? m->path : "model");
    struct ia_session *s = ia_calloc(1, sizeof *s);
    if (!s) return ia_error_set(IA_ENOMEM, "out of memory");
    s->m = m;
    s->be = be;
    s->no_shape_check = o.no_shape_check;
    int rc = be->create(o.threads, &s->bst);
    if (rc) {
        ia_free(s);
        return rc;
    }
    rc = ia_graph_build(m, &m->graph, 0, &s->g);
    if (rc == IA_OK) rc = fill_meta(s);
    if (rc == IA_OK) rc = ia_graph_resolve_ops(s->g);
    if (rc == IA_OK) rc = compile_subgraphs(s, s->g, 0);
    if (rc == IA_OK) {
        ia_graph_bind_declared(s->g);
        rc = ia_graph_infer(s->g);
    }
    if (rc == IA_OK && !o.no_fold) rc = ia_graph_fold(s->g);
    /* Fusion needs the folded constants (weights behind Identity, GELU's
     * scalars); no_fold runs the graph exactly as written. */
    if (rc == IA_OK && !o.no_fold) rc = ia_graph_fuse(s->g, NULL);
    if (rc == IA_OK) {
        int all_known = 1;
        const struct ia_tensor *bound[1024];
        for (size_t i = 0; i < s->g->n_inputs && i < 1024; i++) {
            const struct ia_graph_value *v = &s->g->values[s->g->inputs[i]];
            if (!v->shape_known) all_known = 0;
            bound[i] = &v->t;
        }
        if (s->g->n_inputs > 1024) all_known = 0;
        s->st.n_dynamic = count_dynamic(s->g);
        /* The plan for the declared shapes; a run with other shapes re-plans. */
        if (all_known) {
            rc = make_plan(s, bound);
            if (rc == IA_OK && same_sig(s, bound, 1) < 0)
                rc = ia_error_set(IA_ENOMEM, "out of memory");
        }
    }
    if (rc == IA_OK) rc = frame_init(&s->main, s, s->g, NULL);
    if (rc == IA_OK) {
        s->out_ptrs = ia_calloc(s->g->n_outputs ? s->g->n_outputs : 1, sizeof *s->out_ptrs);
        if (!s->out_ptrs) rc = ia_error_set(IA_ENOMEM, "out of memory");
    }
    if (rc) {
        ia_session_destroy(s);
        return rc;
    }
    s->st.backend = be->name;
    s->st.threads = be->n_threads(s->bst);
    s->st.n_nodes = s->g->n_nodes;
    s->st.n_folded = s->g->n_folded;
    s->st.create_s = ia_time_now() - t0;
    *out = s;
    return IA_OK;
}

void ia_session_destroy(struct ia_session *s) {
    if (!s) return;
    if (s->main.vals) frame_free(&s->main);
    for (size_t i = 0; i < s->n_subs; i++) ia_graph_free(s->subs[i].g);
    ia_free(s->subs);
    ia_graph_free(s->g);
    ia_free(s->ins);
    ia_free(s->outs);
    ia_free(s->sig);
    ia_free(s->out_ptrs);
    if (s->bst) {
        s->be->free(s->bst, s->arena);
        s->be->destroy(s->bst);
    }
    ia_free(s);
}

/* ---- run ------------------------------------------------------------------------- */

struct sym_binding {
    const char *param;
    int64_t value;
    const char *input;
};

static int check_plain(const char *name, const char *what, const struct ia_tensor *t,
                       enum ia_dtype want) {
    if (t->kind != IA_KIND_TENSOR)
        return ia_error_set(IA_EINVAL, "input '%s': %s is %s, not a tensor", name, what,
                            ia_value_kind_name(t));
    if (t->dtype == IA_DTYPE_UNDEFINED || t->rank < 0 || t->rank > IA_MAX_RANK)
        return ia_error_set(IA_EINVAL, "input '%s': %s has no valid type or rank", name, what);
    if (want != IA_DTYPE_UNDEFINED && t->dtype != want)
        return ia_error_set(IA_EINVAL, "input '%s': %s is %s but the model declares %s", name,
                            what, ia_dtype_name(t->dtype), ia_dtype_name(want));
    if (t->numel && !t->data && !(t->dtype == IA_DTYPE_STRING && t->strings))
        return ia_error_set(IA_EINVAL, "input '%s': %s has no data", name, what);
    return IA_OK;
}

/* A sequence or optional input: its kind against the declaration, then
 * every tensor in it. Shapes are not checked (sequences vary in length and
 * their elements in shape). */
static int check_value_input(const struct ia_session_value *sv, const struct ia_tensor *t) {
    int opt = sv->type == IA_ONNX_TYPE_OPTIONAL;
    const char *decl = opt ? "an optional" : "a sequence";
    if (t->kind == IA_KIND_NONE) {
        if (!opt)
            return ia_error_set(IA_EINVAL, "input '%s' is an empty optional but the model "
                                "declares a sequence", sv->name);
        return IA_OK;
    }
    if (t->kind == IA_KIND_TENSOR) {
        if (!opt || sv->elem_type == IA_ONNX_TYPE_SEQUENCE)
            return ia_error_set(IA_EINVAL, "input '%s' is a tensor but the model declares %s%s",
                                sv->name, decl, opt ? " of a sequence" : "");
        return check_plain(sv->name, "the value", t, sv->elem_dtype);
    }
    if (t->kind != IA_KIND_SEQUENCE || (opt && sv->elem_type == IA_ONNX_TYPE_TENSOR))
        return ia_error_set(IA_EINVAL, "input '%s' is %s but the model declares %s", sv->name,
                            ia_value_kind_name(t), opt ? "an optional tensor" : decl);
    if (t->n_items && !t->items)
        return ia_error_set(IA_EINVAL, "input '%s': a sequence of %zu items has none", sv->name,
                            t->n_items);
    enum ia_dtype want = sv->elem_dtype != IA_DTYPE_UNDEFINED ? sv->elem_dtype : t->dtype;
    for (size_t i = 0; i < t->n_items; i++) {
        char what[48];
        snprintf(what, sizeof what, "item %zu", i);
        int rc = check_plain(sv->name, what, &t->items[i], want);
        if (rc) return rc;
        want = t->items[i].dtype; /* all items share one type */
    }
    return IA_OK;
}

static int check_input(const struct ia_session_value *sv, const struct ia_tensor *t,
                       struct sym_binding *syms, size_t *n_syms, size_t max_syms, int no_shape) {
    char desc[160];
    if (!t) return ia_error_set(IA_EINVAL, "input '%s' is NULL", sv->name);
    if (sv->type != IA_ONNX_TYPE_TENSOR) return check_value_input(sv, t);
    if (t->kind != IA_KIND_TENSOR)
        return ia_error_set(IA_EINVAL, "input '%s' is %s but the model declares a tensor",
                            sv->name, ia_value_kind_name(t));
    if (sv->dtype != IA_DTYPE_UNDEFINED && t->dtype != sv->dtype)
        return ia_error_set(IA_EINVAL, "input '%s' is %s but the model declares %s", sv->name,
                            ia_dtype_name(t->dtype), ia_dtype_name(sv->dtype));
    if (t->dtype == IA_DTYPE_UNDEFINED || t->rank < 0 || t->rank > IA_MAX_RANK)
        return ia_error_set(IA_EINVAL, "input '%s' has no valid type or rank", sv->name);
    if (t->numel && !t->data && !(t->dtype == IA_DTYPE_STRING && t->strings))
        return ia_error_set(IA_EINVAL, "input '%s' (%s) has no data", sv->name,
                            ia_tensor_describe(t, desc, sizeof desc));
    if (!sv->has_shape || no_shape) return IA_OK;
    if (t->rank != sv->rank)
        return ia_error_set(IA_EINVAL, "input '%s' has rank %d (%s) but the model declares rank %d",
                            sv->name, t->rank, ia_tensor_describe(t, desc, sizeof desc), sv->rank);
    for (int k = 0; k < sv->rank; k++) {
        const struct ia_onnx_dim *d = &sv->dims[k];
        if (d->value >= 0) {
            if (t->dims[k] != d->value)
                return ia_error_set(IA_EINVAL,
                                    "input '%s': dim %d is %lld but the model declares %lld",
                                    sv->name, k, (long long)t->dims[k], (long long)d->value);
        } else if (d->param && d->param[0]) {
            size_t j = 0;
            for (; j < *n_syms; j++)
                if (!strcmp(syms[j].param, d->param)) break;
            if (j < *n_syms) {
                if (syms[j].value != t->dims[k])
                    return ia_error_set(
                        IA_EINVAL,
                        "input '%s': symbolic dim '%s' is %lld here but %lld in input '%s'",
                        sv->name, d->param, (long long)t->dims[k], (long long)syms[j].value,
                        syms[j].input);
            } else if (*n_syms < max_syms) {
                syms[*n_syms].param = d->param;
                syms[*n_syms].value = t->dims[k];
                syms[*n_syms].input = sv->name;
                (*n_syms)++;
            }
        }
    }
    return IA_OK;
}

/* Input shapes as one array, to tell whether the plan still fits. */
static int same_sig(struct ia_session *s, const struct ia_tensor *const *bound, int update) {
    size_t n = 0;
    for (size_t i = 0; i < s->g->n_inputs; i++) n += 2 + (size_t)bound[i]->rank;
    if (update) {
        int64_t *sig = ia_malloc((n ? n : 1) * sizeof *sig);
        if (!sig) return -1;
        ia_free(s->sig);
        s->sig = sig;
        s->sig_len = n;
    } else if (n != s->sig_len || !s->sig) {
        return 0;
    }
    size_t k = 0;
    for (size_t i = 0; i < s->g->n_inputs; i++) {
        const struct ia_tensor *t = bound[i];
        int64_t vals[2 + IA_MAX_RANK];
        vals[0] = (int64_t)t->kind << 32 | t->dtype;
        vals[1] = t->rank;
        for (int d = 0; d < t->rank; d++) vals[2 + d] = t->dims[d];
        for (int d = 0; d < 2 + t->rank; d++, k++) {
            if (update)
                s->sig[k] = vals[d];
            else if (s->sig[k] != vals[d])
                return 0;
        }
    }
    return 1;
}

int ia_session_run(struct ia_session *s, size_t n_in, const char *const *names,
                   const struct ia_tensor *const *inputs, size_t n_out,
                   struct ia_tensor *const **outputs) {
    *outputs = NULL;
    double t0 = ia_time_now();
    struct ia_graph *g = s->g;
    if (n_out != g->n_outputs)
        return ia_error_set(IA_EINVAL, "the model has %zu outputs, %zu asked for", g->n_outputs,
                            n_out);
    if (g->n_inputs > 1024) return ia_error_set(IA_EUNSUPPORTED, "more than 1024 graph inputs");
    const struct ia_tensor *bound[1024] = {0};
    for (size_t i = 0; i < n_in; i++) {
        if (!names[i]) return ia_error_set(IA_EINVAL, "input %zu has no name", i);
        size_t k = 0;
        for (; k < s->n_ins; k++)
            if (!strcmp(s->ins[k].name, names[i])) break;
        if (k == s->n_ins) {
            char list[512];
            size_t len = 0;
            list[0] = '\0';
            for (size_t j = 0; j < s->n_ins && len < sizeof list - 1; j++)
                len += (size_t)snprintf(list + len, sizeof list - len, "%s'%s'", j ? ", " : "",
                                        s->ins[j].name);
            return ia_error_set(IA_ENOTFOUND, "the model has no input '%s' (inputs: %s)", names[i],
                                s->n_ins ? list : "none");
        }
        if (bound[k]) return ia_error_set(IA_EINVAL, "input '%s' is given twice", names[i]);
        bound[k] = inputs[i];
    }
    struct sym_binding syms[64];
    size_t n_syms = 0;
    for (size_t k = 0; k < s->n_ins; k++) {
        const struct ia_graph_value *v = &g->values[g->inputs[k]];
        if (!bound[k]) {
            if (!v->init) return ia_error_set(IA_EINVAL, "input '%s' is missing", s->ins[k].name);
            bound[k] = &v->t; /* the default initializer */
            continue;
        }
        int rc = check_input(&s->ins[k], bound[k], syms, &n_syms, 64, s->no_shape_check);
        if (rc) return rc;
    }
    frame_release(&s->main);
    if (!s->plan_valid || !same_sig(s, bound, 0)) {
        int rc = make_plan(s, bound);
        if (rc == IA_OK && same_sig(s, bound, 1) < 0) rc = ia_error_set(IA_ENOMEM, "out of memory");
        if (rc) {
            s->plan_valid = 0;
            return rc;
        }
    }
    struct frame *f = &s->main;
    int rc = frame_setup(f);
    if (rc) return rc;
    for (size_t k = 0; k < s->n_ins; k++) {
        int id = g->inputs[k];
        struct ia_tensor *t = &f->vals[id];
        *t = *bound[k];
        t->name = g->values[id].name;
        /* An empty sequence read from a file does not know its type. */
        if (t->kind == IA_KIND_SEQUENCE && t->dtype == IA_DTYPE_UNDEFINED)
            t->dtype = t->n_items ? t->items[0].dtype : s->ins[k].elem_dtype;
        /* Strings may come in either field; kernels may read either. */
        if (t->kind == IA_KIND_TENSOR && t->dtype == IA_DTYPE_STRING) {
            if (!t->strings) t->strings = t->data;
            if (!t->data) t->data = (void *)t->strings;
        }
    }
    f->arena = s->arena;
    rc = frame_exec(f);
    if (rc == IA_OK) {
        for (size_t i = 0; i < g->n_outputs; i++) {
            const struct ia_tensor *t = &f->vals[g->outputs[i]];
            if (t->kind == IA_KIND_TENSOR && t->dtype == IA_DTYPE_UNDEFINED)
                rc = ia_error_set(IA_EINTERNAL, "output '%s' was not produced",
                                  g->values[g->outputs[i]].name);
        }
    }
    if (rc) {
        frame_release(f);
        return rc;
    }
    for (size_t i = 0; i < g->n_outputs; i++) s->out_ptrs[i] = &f->vals[g->outputs[i]];
    s->st.dynamic_bytes = f->dynamic_bytes;
    s->st.n_runs++;
    s->st.last_run_s = ia_time_now() - t0;
    *outputs = s->out_ptrs;
    return IA_OK;
}
