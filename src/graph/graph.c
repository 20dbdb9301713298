/*
 * Graph IR: value ids, topological order, outer-scope names, lifetimes and
 * op resolution. The passes that need kernels (infer, fold, plan) are in
 * passes.c.
 */
#include <stdio.h>
#include <string.h>

#include "ia/graph.h"

/* ---- name map: open addressing over value ids --------------------------- */

struct ia_graph_map {
    size_t cap; /* power of two */
    const char **keys;
    int *ids;
};

static uint64_t hash_str(const char *s) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

static int map_init(struct ia_graph_map *m, size_t n) {
    size_t cap = 16;
    while (cap < n * 2) cap *= 2;
    m->cap = cap;
    m->keys = ia_calloc(cap, sizeof *m->keys);
    m->ids = ia_calloc(cap, sizeof *m->ids);
    if (!m->keys || !m->ids) return ia_error_set(IA_ENOMEM, "out of memory");
    return IA_OK;
}

static void map_free(struct ia_graph_map *m) {
    if (!m) return;
    ia_free(m->keys);
    ia_free(m->ids);
}

static int map_get(const struct ia_graph_map *m, const char *k) {
    size_t i = (size_t)hash_str(k) & (m->cap - 1);
    while (m->keys[i]) {
        if (!strcmp(m->keys[i], k)) return m->ids[i];
        i = (i + 1) & (m->cap - 1);
    }
    return -1;
}

/* The map is sized for every name up front, so it never fills. */
static void map_put(struct ia_graph_map *m, const char *k, int id) {
    size_t i = (size_t)hash_str(k) & (m->cap - 1);
    while (m->keys[i]) {
        if (!strcmp(m->keys[i], k)) {
            m->ids[i] = id;
            return;
        }
        i = (i + 1) & (m->cap - 1);
    }
    m->keys[i] = k;
    m->ids[i] = id;
}

int ia_graph_find(const struct ia_graph *g, const char *name) {
    return name && name[0] ? map_get(g->map, name) : -1;
}

/* ---- free names of subgraphs --------------------------------------------- */

struct name_set {
    struct ia_graph_map m;
    const char **list;
    size_t n, cap;
};

static int set_add(struct name_set *s, const char *name) {
    if (map_get(&s->m, name) >= 0) return IA_OK;
    if (s->n * 2 + 2 > s->m.cap) { /* grow and rehash */
        struct ia_graph_map nm;
        int rc = map_init(&nm, s->n * 2 + 8);
        if (rc) {
            map_free(&nm);
            return rc;
        }
        for (size_t i = 0; i < s->m.cap; i++)
            if (s->m.keys[i]) map_put(&nm, s->m.keys[i], s->m.ids[i]);
        map_free(&s->m);
        s->m = nm;
    }
    map_put(&s->m, name, (int)s->n);
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        const char **nl = ia_realloc(s->list, cap * sizeof *nl);
        if (!nl) return ia_error_set(IA_ENOMEM, "out of memory");
        s->list = nl;
        s->cap = cap;
    }
    s->list[s->n++] = name;
    return IA_OK;
}

static int set_init(struct name_set *s) {
    memset(s, 0, sizeof *s);
    return map_init(&s->m, 8);
}

static void set_free(struct name_set *s) {
    map_free(&s->m);
    ia_free(s->list);
}

static int free_names_rec(const struct ia_onnx_graph *g, struct name_set *out, int depth);

/* Adds to `out` the free names of every subgraph attribute of `n`. */
static int node_sub_free(const struct ia_onnx_node *n, struct name_set *out, int depth) {
    for (size_t a = 0; a < n->n_attrs; a++) {
        const struct ia_onnx_attr *at = &n->attrs[a];
        int rc = IA_OK;
        if (at->type == IA_ONNX_ATTR_GRAPH && at->g) rc = free_names_rec(at->g, out, depth + 1);
        for (size_t k = 0; rc == IA_OK && at->type == IA_ONNX_ATTR_GRAPHS && k < at->n; k++)
            rc = free_names_rec(&at->graphs[k], out, depth + 1);
        if (rc) return rc;
    }
    return IA_OK;
}

static int free_names_rec(const struct ia_onnx_graph *g, struct name_set *out, int depth) {
    if (depth > IA_ONNX_MAX_NESTING)
        return ia_error_set(IA_ERANGE, "subgraphs nest deeper than %d", IA_ONNX_MAX_NESTING);
    struct name_set defined, used;
    int rc = set_init(&defined);
    if (rc == IA_OK) rc = set_init(&used);
    for (size_t i = 0; rc == IA_OK && i < g->n_inputs; i++)
        rc = set_add(&defined, g->inputs[i].name);
    for (size_t i = 0; rc == IA_OK && i < g->n_initializers; i++)
        rc = set_add(&defined, g->initializers[i].name);
    for (size_t i = 0; rc == IA_OK && i < g->n_nodes; i++)
        for (size_t k = 0; rc == IA_OK && k < g->nodes[i].n_outputs; k++)
            if (g->nodes[i].outputs[k][0]) rc = set_add(&defined, g->nodes[i].outputs[k]);
    for (size_t i = 0; rc == IA_OK && i < g->n_nodes; i++) {
        const struct ia_onnx_node *n = &g->nodes[i];
        for (size_t k = 0; rc == IA_OK && k < n->n_inputs; k++)
            if (n->inputs[k][0]) rc = set_add(&used, n->inputs[k]);
        if (rc == IA_OK) rc = node_sub_free(n, &used, depth);
    }
    for (size_t i = 0; rc == IA_OK && i < g->n_outputs; i++)
        rc = set_add(&used, g->outputs[i].name);
    for (size_t i = 0; rc == IA_OK && i < used.n; i++)
        if (map_get(&defined.m, used.list[i]) < 0) rc = set_add(out, used.list[i]);
    set_free(&defined);
    set_free(&used);
    return rc;
}

int ia_graph_free_names(const struct ia_onnx_graph *g, const char ***names, size_t *n) {
    *names = NULL;
    *n = 0;
    struct name_set s;
    int rc = set_init(&s);
    if (rc == IA_OK) rc = free_names_rec(g, &s, 0);
    if (rc == IA_OK) {
        *names = s.list;
        *n = s.n;
        s.list = NULL;
    }
    set_free(&s);
    return rc;
}

/* ---- build ---------------------------------------------------------------- */

static int add_value(struct ia_graph *g, const char *name, enum ia_value_kind kind, int *id) {
    int v = map_get(g->map, name);
    if (v >= 0) {
        *id = v;
        return IA_OK;
    }
    v = (int)g->n_values++;
    struct ia_graph_value *val = &g->values[v];
    memset(val, 0, sizeof *val);
    val->name = name;
    val->kind = kind;
    val->producer = -1;
    val->offset = -1;
    val->last_use = -1;
    val->t.name = name;
    map_put(g->map, name, v);
    *id = v;
    return IA_OK;
}

static int is_tensor_dtype_ok(enum ia_dtype t) { return t != IA_DTYPE_UNDEFINED; }

static int bind_initializer(struct ia_graph_value *v, const struct ia_onnx_tensor *it) {
    if (it->problem) return ia_error_set(IA_EFORMAT, "initializer '%s': %s", it->name, it->problem);
    if (!is_tensor_dtype_ok(it->dtype))
        return ia_error_set(IA_EUNSUPPORTED, "initializer '%s': data type %d (%s) is not supported",
                            it->name, (int)it->onnx_type, ia_onnx_proto_type_name(it->onnx_type));
    if (it->rank > IA_MAX_RANK)
        return ia_error_set(IA_EUNSUPPORTED, "initializer '%s': rank %zu is over the supported %d",
                            it->name, it->rank, IA_MAX_RANK);
    int rc = ia_tensor_set_shape(&v->t, it->dtype, (int)it->rank, it->dims);
    if (rc) return rc;
    if (it->dtype == IA_DTYPE_STRING) {
        v->t.data = (void *)it->strings;
        v->t.strings = it->strings;
    } else {
        v->t.data = (void *)it->data;
    }
    v->shape_known = 1;
    return IA_OK;
}

/* Kahn's algorithm, keeping file order among ready nodes. */
static int topo_order(struct ia_graph *g, int *order) {
    size_t n = g->n_nodes;
    /* producer node (file index) of each value; -1 for none */
    int *prod = ia_malloc((g->n_values ? g->n_values : 1) * sizeof *prod);
    int *done = ia_calloc(n ? n : 1, sizeof *done);
    int rc = IA_OK;
    if (!prod || !done) {
        rc = ia_error_set(IA_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < g->n_values; i++) prod[i] = -1;
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < g->nodes[i].n_out; k++)
            if (g->nodes[i].out[k] >= 0) prod[g->nodes[i].out[k]] = (int)i;
    /* In-order fast path: every input produced earlier. */
    int in_order = 1;
    for (size_t i = 0; i < n && in_order; i++) {
        const struct ia_graph_node *nd = &g->nodes[i];
        for (size_t k = 0; k < nd->n_in + nd->n_implicit; k++) {
            int v = k < nd->n_in ? nd->in[k] : nd->implicit[k - nd->n_in];
            if (v >= 0 && prod[v] >= (int)i) in_order = 0;
        }
    }
    if (in_order) {
        for (size_t i = 0; i < n; i++) order[i] = (int)i;
        goto out;
    }
    size_t placed = 0;
    while (placed < n) {
        int progress = 0;
        for (size_t i = 0; i < n; i++) {
            if (done[i]) continue;
            const struct ia_graph_node *nd = &g->nodes[i];
            int ready = 1;
            for (size_t k = 0; k < nd->n_in + nd->n_implicit && ready; k++) {
                int v = k < nd->n_in ? nd->in[k] : nd->implicit[k - nd->n_in];
                if (v >= 0 && prod[v] >= 0 && !done[prod[v]]) ready = 0;
            }
            if (ready) {
                done[i] = 1;
                order[placed++] = (int)i;
                progress = 1;
            }
        }
        if (!progress) {
            for (size_t i = 0; i < n; i++)
                if (!done[i]) {
                    const struct ia_onnx_node *s = g->nodes[i].src;
                    rc = ia_error_set(IA_EFORMAT, "the graph has a cycle through %s node '%s'",
                                      s->op_type, s->name[0] ? s->name : s->outputs[0]);
                    break;
                }
            goto out;
        }
    }
out:
    ia_free(prod);
    ia_free(done);
    return rc;
}

int ia_graph_build(const struct ia_model *m, const struct ia_onnx_graph *src, int allow_outer,
                   struct ia_graph **out) {
    *out = NULL;
    struct ia_graph *g = ia_calloc(1, sizeof *g);
    if (!g) return ia_error_set(IA_ENOMEM, "out of memory");
    g->model = m;
    g->src = src;
    g->is_subgraph = allow_outer;
    int rc = IA_OK;
    /* Upper bound on names: inputs + initializers + node inputs/outputs +
     * outputs + subgraph free names (bounded by counting them per node). */
    size_t cap = src->n_inputs + src->n_initializers + src->n_outputs + 1;
    for (size_t i = 0; i < src->n_nodes; i++)
        cap += src->nodes[i].n_inputs + src->nodes[i].n_outputs;
    const char ***implicit_names =
        ia_calloc(src->n_nodes ? src->n_nodes : 1, sizeof *implicit_names);
    size_t *n_implicit = ia_calloc(src->n_nodes ? src->n_nodes : 1, sizeof *n_implicit);
    g->map = ia_calloc(1, sizeof *g->map);
    if (!implicit_names || !n_implicit || !g->map) {
        rc = ia_error_set(IA_ENOMEM, "out of memory");
        goto fail;
    }
    for (size_t i = 0; rc == IA_OK && i < src->n_nodes; i++) {
        const struct ia_onnx_node *n = &src->nodes[i];
        int has_sub = 0;
        for (size_t a = 0; a < n->n_attrs; a++)
            if (n->attrs[a].type == IA_ONNX_ATTR_GRAPH || n->attrs[a].type == IA_ONNX_ATTR_GRAPHS)
                has_sub = 1;
        if (!has_sub) continue;
        struct name_set s;
        rc = set_init(&s);
        if (rc == IA_OK) rc = node_sub_free(n, &s, 0);
        if (rc == IA_OK) {
            implicit_names[i] = s.list;
            n_implicit[i] = s.n;
            cap += s.n;
            s.list = NULL;
        }
        set_free(&s);
    }
    if (rc) goto fail;
    rc = map_init(g->map, cap);
    g->values = ia_calloc(cap, sizeof *g->values);
    g->nodes = ia_calloc(src->n_nodes ? src->n_nodes : 1, sizeof *g->nodes);
    g->inputs = ia_calloc(src->n_inputs ? src->n_inputs : 1, sizeof *g->inputs);
    g->outputs = ia_calloc(src->n_outputs ? src->n_outputs : 1, sizeof *g->outputs);
    if (rc == IA_OK && (!g->values || !g->nodes || !g->inputs || !g->outputs))
        rc = ia_error_set(IA_ENOMEM, "out of memory");
    if (rc) goto fail;
    g->n_nodes = src->n_nodes;

    for (size_t i = 0; i < src->n_initializers && rc == IA_OK; i++) {
        int id;
        rc = add_value(g, src->initializers[i].name, IA_VALUE_INITIALIZER, &id);
        if (rc == IA_OK) {
            g->values[id].init = &src->initializers[i];
            rc = bind_initializer(&g->values[id], &src->initializers[i]);
            g->values[id].is_const = 1;
        }
    }
    for (size_t i = 0; i < src->n_inputs && rc == IA_OK; i++) {
        const struct ia_onnx_value *d = &src->inputs[i];
        int id = map_get(g->map, d->name);
        if (id >= 0) {
            /* An input with an initializer of the same name: the
             * initializer is its default, the caller may override it. */
            g->values[id].kind = IA_VALUE_INPUT;
            g->values[id].is_const = 0;
        } else {
            rc = add_value(g, d->name, IA_VALUE_INPUT, &id);
        }
        g->values[id].decl = d;
        g->inputs[g->n_inputs++] = id;
    }
    for (size_t i = 0; i < src->n_nodes && rc == IA_OK; i++) {
        const struct ia_onnx_node *n = &src->nodes[i];
        struct ia_graph_node *nd = &g->nodes[i];
        nd->src = n;
        nd->opset = ia_onnx_opset_version(m, n->domain);
        nd->n_in = n->n_inputs;
        nd->n_out = n->n_outputs;
        nd->n_implicit = n_implicit[i];
        nd->has_subgraph = implicit_names[i] != NULL || n_implicit[i] > 0;
        for (size_t a = 0; a < n->n_attrs; a++)
            if (n->attrs[a].type == IA_ONNX_ATTR_GRAPH || n->attrs[a].type == IA_ONNX_ATTR_GRAPHS)
                nd->has_subgraph = 1;
        nd->in = ia_malloc((nd->n_in + nd->n_out + nd->n_implicit + 1) * sizeof(int));
        if (!nd->in) {
            rc = ia_error_set(IA_ENOMEM, "out of memory");
            break;
        }
        nd->out = nd->in + nd->n_in;
        nd->implicit = nd->out + nd->n_out;
        for (size_t k = 0; k < n->n_outputs && rc == IA_OK; k++) {
            nd->out[k] = -1;
            if (!n->outputs[k][0]) continue;
            int id = map_get(g->map, n->outputs[k]);
            if (id >= 0) {
                const char *what = g->values[id].kind == IA_VALUE_NODE    ? "another node's output"
                                   : g->values[id].kind == IA_VALUE_INPUT ? "a graph input"
                                                                          : "an initializer";
                rc = ia_error_set(IA_EFORMAT, "%s node '%s': output '%s' is already %s", n->op_type,
                                  n->name, n->outputs[k], what);
                break;
            }
            rc = add_value(g, n->outputs[k], IA_VALUE_NODE, &id);
            nd->out[k] = id;
        }
    }
    for (size_t i = 0; i < src->n_value_info && rc == IA_OK; i++) {
        int id = map_get(g->map, src->value_info[i].name);
        if (id >= 0 && g->values[id].kind == IA_VALUE_NODE && !g->values[id].decl)
            g->values[id].decl = &src->value_info[i];
    }
    /* Inputs after all outputs exist, so out-of-order files resolve. */
    for (size_t i = 0; i < src->n_nodes && rc == IA_OK; i++) {
        const struct ia_onnx_node *n = &src->nodes[i];
        struct ia_graph_node *nd = &g->nodes[i];
        for (size_t k = 0; k < nd->n_in + nd->n_implicit && rc == IA_OK; k++) {
            const char *name = k < nd->n_in ? n->inputs[k] : implicit_names[i][k - nd->n_in];
            int *slot = k < nd->n_in ? &nd->in[k] : &nd->implicit[k - nd->n_in];
            *slot = -1;
            if (!name[0]) continue;
            int id = map_get(g->map, name);
            if (id < 0) {
                if (!allow_outer && k < nd->n_in) {
                    rc = ia_error_set(IA_EFORMAT, "%s node '%s': input '%s' is not defined",
                                      n->op_type, n->name, name);
                    break;
                }
                if (!allow_outer) {
                    rc = ia_error_set(IA_EFORMAT,
                                      "%s node '%s': a subgraph reads '%s', which is not defined",
                                      n->op_type, n->name, name);
                    break;
                }
                rc = add_value(g, name, IA_VALUE_OUTER, &id);
            }
            *slot = id;
        }
    }
    for (size_t i = 0; i < src->n_outputs && rc == IA_OK; i++) {
        int id = map_get(g->map, src->outputs[i].name);
        if (id < 0) {
            if (!allow_outer) {
                rc = ia_error_set(IA_EFORMAT, "graph output '%s' is not produced by any node",
                                  src->outputs[i].name);
                break;
            }
            rc = add_value(g, src->outputs[i].name, IA_VALUE_OUTER, &id);
        }
        g->outputs[g->n_outputs++] = id;
        if (!g->values[id].decl || g->values[id].kind == IA_VALUE_NODE)
            g->values[id].decl = &src->outputs[i];
    }
    if (rc) goto fail;
    /* OUTER list */
    size_t n_outer = 0;
    for (size_t i = 0; i < g->n_values; i++) n_outer += g->values[i].kind == IA_VALUE_OUTER;
    g->outer = ia_malloc((n_outer ? n_outer : 1) * sizeof *g->outer);
    if (!g->outer) {
        rc = ia_error_set(IA_ENOMEM, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < g->n_values; i++)
        if (g->values[i].kind == IA_VALUE_OUTER) g->outer[g->n_outer++] = (int)i;

    /* Topological order, then renumber nodes in that order. */
    int *order = ia_malloc((g->n_nodes ? g->n_nodes : 1) * sizeof *order);
    if (!order) {
        rc = ia_error_set(IA_ENOMEM, "out of memory");
        goto fail;
    }
    rc = topo_order(g, order);
    if (rc == IA_OK) {
        struct ia_graph_node *sorted = ia_malloc((g->n_nodes ? g->n_nodes : 1) * sizeof *sorted);
        if (!sorted) {
            rc = ia_error_set(IA_ENOMEM, "out of memory");
        } else {
            for (size_t i = 0; i < g->n_nodes; i++) sorted[i] = g->nodes[order[i]];
            ia_free(g->nodes);
            g->nodes = sorted;
        }
    }
    ia_free(order);
    if (rc) goto fail;
    for (size_t i = 0; i < g->n_nodes; i++)
        for (size_t k = 0; k < g->nodes[i].n_out; k++)
            if (g->nodes[i].out[k] >= 0) g->values[g->nodes[i].out[k]].producer = (int)i;
    ia_graph_lifetimes(g);
    for (size_t i = 0; i < src->n_nodes; i++) ia_free(implicit_names[i]);
    ia_free(implicit_names);
    ia_free(n_implicit);
    *out = g;
    return IA_OK;
fail:
    if (implicit_names)
        for (size_t i = 0; i < src->n_nodes; i++) ia_free(implicit_names[i]);
    ia_free(implicit_names);
    ia_free(n_implicit);
    ia_graph_free(g);
    return rc;
}

void ia_graph_free(struct ia_graph *g) {
    if (!g) return;
    for (size_t i = 0; i < g->n_values; i++) {
        ia_free(g->values[i].folded);
        ia_free(g->values[i].evaluated);
    }
    if (g->nodes)
        for (size_t i = 0; i < g->n_nodes; i++) ia_free(g->nodes[i].in);
    ia_free(g->nodes);
    ia_free(g->values);
    ia_free(g->inputs);
    ia_free(g->outputs);
    ia_free(g->outer);
    map_free(g->map);
    ia_free(g->map);
    ia_free(g);
}

void ia_graph_lifetimes(struct ia_graph *g) {
    for (size_t i = 0; i < g->n_values; i++) {
        g->values[i].last_use = -1;
        g->values[i].is_output = 0;
    }
    for (size_t i = 0; i < g->n_nodes; i++) {
        const struct ia_graph_node *nd = &g->nodes[i];
        if (nd->folded) continue;
        for (size_t k = 0; k < nd->n_in + nd->n_implicit; k++) {
            int v = k < nd->n_in ? nd->in[k] : nd->implicit[k - nd->n_in];
            if (v >= 0) g->values[v].last_use = (int)i;
        }
    }
    for (size_t i = 0; i < g->n_outputs; i++) {
        g->values[g->outputs[i]].is_output = 1;
        g->values[g->outputs[i]].last_use = (int)g->n_nodes;
    }
}

/* ---- ops ------------------------------------------------------------------ */

int ia_graph_resolve_ops(struct ia_graph *g) {
    char list[1024];
    size_t len = 0, n_missing = 0;
    list[0] = '\0';
    for (size_t i = 0; i < g->n_nodes; i++) {
        struct ia_graph_node *nd = &g->nodes[i];
        nd->op = ia_kernels_find(nd->src->domain, nd->src->op_type, nd->opset);
        if (nd->op) continue;
        /* List each (domain, op) once. */
        int seen = 0;
        for (size_t j = 0; j < i; j++)
            if (!g->nodes[j].op && !strcmp(g->nodes[j].src->op_type, nd->src->op_type) &&
                !strcmp(g->nodes[j].src->domain, nd->src->domain))
                seen = 1;
        if (seen) continue;
        n_missing++;
        const char *dom = nd->src->domain;
        if (len < sizeof list - 1)
            len += (size_t)snprintf(list + len, sizeof list - len, "%s%s%s%s (opset %lld)",
                                    n_missing > 1 ? ", " : "", dom[0] ? dom : "", dom[0] ? "." : "",
                                    nd->src->op_type, (long long)nd->opset);
    }
    if (n_missing)
        return ia_error_set(IA_EUNSUPPORTED, "unsupported op%s: %s", n_missing > 1 ? "s" : "",
                            list);
    return IA_OK;
}
