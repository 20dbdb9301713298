/*
 * Verify: the checks a model must pass before the engine runs it.
 *
 * Structure checks follow the ONNX IR spec: nodes are listed in
 * topological order, every non-empty node input is produced by an earlier
 * node, an initializer or a graph input (of this graph or, for subgraphs,
 * of an enclosing one), and every value name is assigned once (SSA, across
 * nested scopes). Tensor problems found while loading (sizes, external
 * data) come from the model's problem list. Ops and shapes are checked
 * through the functions in struct ia_verify_opts (the engine's kernel table
 * and shape inference); without them those checks are reported skipped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx_internal.h"

static const struct {
    const char *name, *title;
} check_info[IA_VERIFY_CHECK_COUNT] = {
    [IA_VERIFY_PARSE] = {"parse", "the file is an ONNX model"},
    [IA_VERIFY_IR_VERSION] = {"ir_version", "IR version supported"},
    [IA_VERIFY_OPSET] = {"opset", "opsets supported and imported"},
    [IA_VERIFY_GRAPH] = {"graph", "topological order, defined inputs, unique names"},
    [IA_VERIFY_INITIALIZERS] = {"initializers", "tensor bytes match dims and dtype"},
    [IA_VERIFY_EXTERNAL_DATA] = {"external_data", "external data inside the folder, long enough"},
    [IA_VERIFY_OPS] = {"ops", "every op has a kernel"},
    [IA_VERIFY_SHAPES] = {"shapes", "rank and shape consistency"},
};

/* ---- report helpers ----------------------------------------------------- */

static int reason(struct ia_verify_report *r, enum ia_verify_check_id id, int sanitize,
                  const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int reason(struct ia_verify_report *r, enum ia_verify_check_id id, int sanitize,
                  const char *fmt, ...) {
    struct ia_verify_check *ck = &r->checks[id];
    if (ck->status != IA_CHECK_FAIL) r->n_failed++;
    ck->status = IA_CHECK_FAIL;
    if (ck->n_reasons >= IA_VERIFY_MAX_REASONS) {
        ck->n_more++;
        return IA_OK;
    }
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (sanitize) onnx_sanitize(buf);
    if (!ck->reasons) {
        ck->reasons = ia_calloc(IA_VERIFY_MAX_REASONS, sizeof *ck->reasons);
        if (!ck->reasons) return ia_error_set(IA_ENOMEM, "out of memory");
    }
    char *s = ia_strdup(buf);
    if (!s) return ia_error_set(IA_ENOMEM, "out of memory");
    ck->reasons[ck->n_reasons++] = s;
    return IA_OK;
}

static int detail(struct ia_verify_report *r, enum ia_verify_check_id id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int detail(struct ia_verify_report *r, enum ia_verify_check_id id, const char *fmt, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    ia_free(r->checks[id].detail);
    r->checks[id].detail = ia_strdup(buf);
    return r->checks[id].detail ? IA_OK : ia_error_set(IA_ENOMEM, "out of memory");
}

void ia_verify_report_free(struct ia_verify_report *r) {
    if (!r) return;
    for (int i = 0; i < IA_VERIFY_CHECK_COUNT; i++) {
        struct ia_verify_check *ck = &r->checks[i];
        for (size_t j = 0; j < ck->n_reasons; j++) ia_free(ck->reasons[j]);
        ia_free(ck->reasons);
        ia_free(ck->detail);
    }
    for (size_t i = 0; i < r->n_ops; i++) {
        ia_free(r->ops[i].domain);
        ia_free(r->ops[i].op_type);
    }
    ia_free(r->ops);
    memset(r, 0, sizeof *r);
}

static void report_init(struct ia_verify_report *r) {
    memset(r, 0, sizeof *r);
    for (int i = 0; i < IA_VERIFY_CHECK_COUNT; i++) {
        r->checks[i].name = check_info[i].name;
        r->checks[i].title = check_info[i].title;
    }
}

/* ---- name scopes -------------------------------------------------------- */

enum def_kind { DEF_INPUT = 1, DEF_INITIALIZER, DEF_NODE };

struct def {
    const char *name; /* NULL: empty slot */
    enum def_kind kind;
    size_t node; /* DEF_NODE: index in its graph */
};

struct scope {
    struct def *slots;
    size_t cap, n;
    const struct scope *parent;
    const struct ia_onnx_graph *g;
};

static uint64_t hash_str(const char *s) {
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static int scope_init(struct scope *s, size_t expect, const struct scope *parent,
                      const struct ia_onnx_graph *g) {
    size_t cap = 16;
    while (cap < expect * 2 + 1) {
        if (cap > SIZE_MAX / 4) return ia_error_set(IA_ENOMEM, "out of memory");
        cap *= 2;
    }
    s->slots = ia_calloc(cap, sizeof *s->slots);
    if (!s->slots) return ia_error_set(IA_ENOMEM, "out of memory");
    s->cap = cap;
    s->n = 0;
    s->parent = parent;
    s->g = g;
    return IA_OK;
}

static struct def *scope_find_local(const struct scope *s, const char *name) {
    size_t mask = s->cap - 1;
    for (size_t i = hash_str(name) & mask;; i = (i + 1) & mask) {
        if (!s->slots[i].name) return NULL;
        if (!strcmp(s->slots[i].name, name)) return &s->slots[i];
    }
}

static const struct def *scope_find(const struct scope *s, const char *name, int *outer) {
    *outer = 0;
    for (; s; s = s->parent, *outer = 1) {
        const struct def *d = scope_find_local(s, name);
        if (d) return d;
    }
    return NULL;
}

/* Capacity is sized for every name the graph defines, so no growth. */
static void scope_add(struct scope *s, const char *name, enum def_kind kind, size_t node) {
    size_t mask = s->cap - 1;
    size_t i = hash_str(name) & mask;
    while (s->slots[i].name) i = (i + 1) & mask;
    s->slots[i] = (struct def){name, kind, node};
    s->n++;
}

/* ---- graph structure ---------------------------------------------------- */

struct vctx {
    struct ia_verify_report *r;
    const struct ia_model *m;
    const struct ia_verify_opts *opts; /* never NULL */
};

static void node_label(char *buf, size_t cap, const struct ia_onnx_node *n, size_t idx) {
    if (*n->name)
        snprintf(buf, cap, "node '%.100s' (%.60s)", n->name, n->op_type);
    else
        snprintf(buf, cap, "node #%zu (%.60s)", idx, n->op_type);
}

static const char *def_desc(char *buf, size_t cap, const struct def *d, const struct scope *s) {
    switch (d->kind) {
    case DEF_INPUT:
        return "a graph input";
    case DEF_INITIALIZER:
        return "an initializer";
    default:
        node_label(buf, cap, &s->g->nodes[d->node], d->node);
        return buf;
    }
}

/* Kahn's algorithm over the graph's own edges: *ok = 1 when the nodes can
 * be ordered (the file merely lists them out of order), 0 on a cycle. */
static int has_cycle_free_order(const struct ia_onnx_graph *g, const struct scope *producers,
                                int *ok) {
    size_t n = g->n_nodes, n_edges = 0;
    for (size_t i = 0; i < n; i++) n_edges += g->nodes[i].n_inputs;
    size_t *indeg = ia_calloc(n + 1, sizeof *indeg);
    size_t *start = ia_calloc(n + 2, sizeof *start); /* CSR: consumers of node p */
    size_t *adj = ia_calloc(n_edges + 1, sizeof *adj);
    size_t *queue = ia_calloc(n + 1, sizeof *queue);
    int rc = IA_OK;
    if (!indeg || !start || !adj || !queue) {
        rc = ia_error_set(IA_ENOMEM, "out of memory");
        goto out;
    }
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < n; i++)
            for (size_t k = 0; k < g->nodes[i].n_inputs; k++) {
                const char *in = g->nodes[i].inputs[k];
                const struct def *d = *in ? scope_find_local(producers, in) : NULL;
                if (!d || d->kind != DEF_NODE) continue;
                if (pass == 0) {
                    start[d->node + 2]++;
                    indeg[i]++;
                } else {
                    adj[start[d->node + 1]++] = i;
                }
            }
        if (pass == 0)
            for (size_t p = 0; p < n; p++) start[p + 2] += start[p + 1];
    }
    /* After the fill, start[p + 1] is the end of p's list and start[p] its
     * beginning. */
    size_t head = 0, tail = 0;
    for (size_t i = 0; i < n; i++)
        if (!indeg[i]) queue[tail++] = i;
    while (head < tail) {
        size_t p = queue[head++];
        for (size_t e = start[p]; e < start[p + 1]; e++)
            if (--indeg[adj[e]] == 0) queue[tail++] = adj[e];
    }
    *ok = tail == n;
out:
    ia_free(indeg), ia_free(start), ia_free(adj), ia_free(queue);
    return rc;
}

static int check_graph(struct vctx *v, const struct ia_onnx_graph *g, const struct scope *parent,
                       const char *where, int depth);

static int check_subgraphs(struct vctx *v, const struct ia_onnx_node *n, const char *label,
                           const struct scope *s, const char *where, int depth) {
    int rc = IA_OK;
    for (size_t a = 0; a < n->n_attrs && rc == IA_OK; a++) {
        const struct ia_onnx_attr *at = &n->attrs[a];
        char w[700];
        snprintf(w, sizeof w, "%s%s attribute '%.60s': ", where, label, at->name);
        if (at->type == IA_ONNX_ATTR_GRAPH && at->g) rc = check_graph(v, at->g, s, w, depth + 1);
        if (at->type == IA_ONNX_ATTR_GRAPHS)
            for (size_t i = 0; i < at->n && rc == IA_OK; i++)
                rc = check_graph(v, &at->graphs[i], s, w, depth + 1);
    }
    return rc;
}

static int check_graph(struct vctx *v, const struct ia_onnx_graph *g, const struct scope *parent,
                       const char *where, int depth) {
    struct ia_verify_report *r = v->r;
    const enum ia_verify_check_id G = IA_VERIFY_GRAPH;
    size_t expect = g->n_inputs + g->n_initializers;
    for (size_t i = 0; i < g->n_nodes; i++) expect += g->nodes[i].n_outputs;
    struct scope s, prod;
    int rc = scope_init(&s, expect, parent, g);
    if (rc) return rc;
    rc = scope_init(&prod, expect, NULL, g);
    if (rc) {
        ia_free(s.slots);
        return rc;
    }
    char l1[256], l2[256];
    int outer;
    if (depth > 0) r->n_subgraph_nodes += g->n_nodes;

    for (size_t i = 0; i < g->n_inputs && rc == IA_OK; i++) {
        const char *nm = g->inputs[i].name;
        if (!*nm) {
            rc = reason(r, G, 1, "%sgraph input #%zu has no name", where, i);
            continue;
        }
        const struct def *d = scope_find(&s, nm, &outer);
        if (d && !outer)
            rc = reason(r, G, 1, "%sgraph input '%.100s' is listed twice", where, nm);
        else if (d)
            rc = reason(r, G, 1, "%sgraph input '%.100s' reuses a name of the enclosing graph",
                        where, nm);
        else
            scope_add(&s, nm, DEF_INPUT, 0);
    }
    for (size_t i = 0; i < g->n_initializers && rc == IA_OK; i++) {
        const char *nm = g->initializers[i].name;
        if (!*nm) {
            rc = reason(r, G, 1, "%sinitializer #%zu has no name", where, i);
            continue;
        }
        const struct def *d = scope_find(&s, nm, &outer);
        /* An initializer may share a name with a graph input: it is that
         * input's default value. */
        if (d && !outer && d->kind == DEF_INPUT) continue;
        if (d && !outer)
            rc = reason(r, G, 1, "%sinitializer '%.100s' is defined twice", where, nm);
        else if (d)
            rc = reason(r, G, 1, "%sinitializer '%.100s' reuses a name of the enclosing graph",
                        where, nm);
        else
            scope_add(&s, nm, DEF_INITIALIZER, 0);
    }
    /* Who produces each name anywhere in this graph, to tell "later" from
     * "nowhere". */
    for (size_t i = 0; i < g->n_nodes; i++)
        for (size_t k = 0; k < g->nodes[i].n_outputs; k++) {
            const char *o = g->nodes[i].outputs[k];
            if (*o && !scope_find_local(&prod, o)) scope_add(&prod, o, DEF_NODE, i);
        }
    int order_known = 0, orderable = 0;
    for (size_t i = 0; i < g->n_nodes && rc == IA_OK; i++) {
        const struct ia_onnx_node *n = &g->nodes[i];
        node_label(l1, sizeof l1, n, i);
        for (size_t k = 0; k < n->n_inputs && rc == IA_OK; k++) {
            const char *in = n->inputs[k];
            if (!*in || scope_find(&s, in, &outer)) continue;
            const struct def *p = scope_find_local(&prod, in);
            if (!p) {
                rc = reason(r, G, 1,
                            "%s%s: input '%.100s' is not defined (no earlier node, initializer or "
                            "graph input produces it)",
                            where, l1, in);
            } else if (p->node == i) {
                rc = reason(r, G, 1, "%s%s: input '%.100s' is its own output (a cycle)", where, l1,
                            in);
            } else {
                if (!order_known) {
                    rc = has_cycle_free_order(g, &prod, &orderable);
                    order_known = 1;
                    if (rc) break;
                }
                node_label(l2, sizeof l2, &g->nodes[p->node], p->node);
                rc = reason(
                    r, G, 1, "%s%s: input '%.100s' comes from %s, which is later in the graph (%s)",
                    where, l1, in, l2, orderable ? "nodes not in topological order" : "a cycle");
            }
        }
        if (rc == IA_OK) rc = check_subgraphs(v, n, l1, &s, where, depth);
        for (size_t k = 0; k < n->n_outputs && rc == IA_OK; k++) {
            const char *o = n->outputs[k];
            if (!*o) continue;
            const struct def *d = scope_find(&s, o, &outer);
            if (d) {
                if (outer)
                    rc = reason(r, G, 1,
                                "%s%s: output '%.100s' reuses a name of the enclosing graph", where,
                                l1, o);
                else
                    rc = reason(r, G, 1, "%s%s: output '%.100s' is already defined by %s", where,
                                l1, o, def_desc(l2, sizeof l2, d, &s));
                continue;
            }
            scope_add(&s, o, DEF_NODE, i);
        }
    }
    for (size_t i = 0; i < g->n_outputs && rc == IA_OK; i++) {
        const char *nm = g->outputs[i].name;
        if (!scope_find(&s, nm, &outer))
            rc = reason(r, G, 1,
                        "%sgraph output '%.100s' is not produced by any node, initializer or input",
                        where, nm);
    }
    ia_free(s.slots);
    ia_free(prod.slots);
    return rc;
}

/* ---- ops ---------------------------------------------------------------- */

static int op_cmp(const void *a, const void *b) {
    const struct ia_verify_op *x = a, *y = b;
    int c = strcmp(x->domain, y->domain);
    return c ? c : strcmp(x->op_type, y->op_type);
}

static int count_ops(struct vctx *v, const struct ia_onnx_graph *g, size_t *cap) {
    struct ia_verify_report *r = v->r;
    for (size_t i = 0; i < g->n_nodes; i++) {
        const struct ia_onnx_node *n = &g->nodes[i];
        const char *dom = onnx_is_default_domain(n->domain) ? "ai.onnx" : n->domain;
        size_t j = 0;
        while (j < r->n_ops &&
               (strcmp(r->ops[j].domain, dom) || strcmp(r->ops[j].op_type, n->op_type)))
            j++;
        if (j == r->n_ops) {
            if (r->n_ops == *cap) {
                size_t nc = *cap ? *cap * 2 : 16;
                struct ia_verify_op *no = ia_realloc(r->ops, nc * sizeof *no);
                if (!no) return ia_error_set(IA_ENOMEM, "out of memory");
                r->ops = no;
                *cap = nc;
            }
            struct ia_verify_op *op = &r->ops[r->n_ops];
            memset(op, 0, sizeof *op);
            op->domain = ia_strdup(dom);
            op->op_type = ia_strdup(n->op_type);
            r->n_ops++;
            if (!op->domain || !op->op_type) return ia_error_set(IA_ENOMEM, "out of memory");
            onnx_sanitize(op->domain);
            onnx_sanitize(op->op_type);
            op->opset = ia_onnx_opset_version(v->m, dom);
            op->supported = v->opts->op_supported(dom, n->op_type, op->opset);
        }
        r->ops[j].count++;
        for (size_t a = 0; a < n->n_attrs; a++) {
            const struct ia_onnx_attr *at = &n->attrs[a];
            int rc = IA_OK;
            if (at->type == IA_ONNX_ATTR_GRAPH && at->g) rc = count_ops(v, at->g, cap);
            if (at->type == IA_ONNX_ATTR_GRAPHS)
                for (size_t k = 0; k < at->n && rc == IA_OK; k++)
                    rc = count_ops(v, &at->graphs[k], cap);
            if (rc) return rc;
        }
    }
    return IA_OK;
}

static int by_count_desc(const void *a, const void *b) {
    const struct ia_verify_op *x = *(const struct ia_verify_op *const *)a;
    const struct ia_verify_op *y = *(const struct ia_verify_op *const *)b;
    if (x->count != y->count) return x->count > y->count ? -1 : 1;
    return op_cmp(x, y);
}

static int check_ops(struct vctx *v) {
    struct ia_verify_report *r = v->r;
    size_t cap = 0;
    int rc = count_ops(v, &v->m->graph, &cap);
    if (rc) return rc;
    if (r->n_ops) qsort(r->ops, r->n_ops, sizeof *r->ops, op_cmp);
    if (!v->opts->op_supported) {
        r->checks[IA_VERIFY_OPS].status = IA_CHECK_SKIPPED;
        return detail(r, IA_VERIFY_OPS, "not checked: no kernel table given");
    }
    size_t n_bad = 0;
    for (size_t i = 0; i < r->n_ops; i++) n_bad += !r->ops[i].supported;
    if (!n_bad)
        return detail(r, IA_VERIFY_OPS, "%zu op type%s, all supported", r->n_ops,
                      r->n_ops == 1 ? "" : "s");
    const struct ia_verify_op **bad = ia_calloc(n_bad, sizeof *bad);
    if (!bad) return ia_error_set(IA_ENOMEM, "out of memory");
    for (size_t i = 0, k = 0; i < r->n_ops; i++)
        if (!r->ops[i].supported) bad[k++] = &r->ops[i];
    qsort(bad, n_bad, sizeof *bad, by_count_desc);
    /* One line: "unsupported ops: Conv (ai.onnx) ×3, Relu (ai.onnx) ×2". */
    char line[1024];
    size_t o = (size_t)snprintf(line, sizeof line, "unsupported ops:");
    for (size_t i = 0; i < n_bad && o < sizeof line; i++) {
        int w = snprintf(line + o, sizeof line - o, "%s %.60s (%.60s) \xc3\x97%llu", i ? "," : "",
                         bad[i]->op_type, bad[i]->domain, (unsigned long long)bad[i]->count);
        if (w < 0) break;
        o += (size_t)w;
    }
    if (o >= sizeof line) memcpy(line + sizeof line - 5, "...", 4);
    ia_free(bad);
    rc = reason(r, IA_VERIFY_OPS, 0, "%s", line);
    if (rc == IA_OK)
        rc = detail(r, IA_VERIFY_OPS, "%zu of %zu op types have no kernel", n_bad, r->n_ops);
    return rc;
}

/* ---- opsets ------------------------------------------------------------- */

static int check_opsets(struct vctx *v) {
    struct ia_verify_report *r = v->r;
    const struct ia_model *m = v->m;
    const enum ia_verify_check_id O = IA_VERIFY_OPSET;
    char list[512] = "";
    size_t o = 0;
    int rc = IA_OK;
    for (size_t i = 0; i < m->n_opsets && rc == IA_OK; i++) {
        const char *d = m->opsets[i].domain;
        int w =
            snprintf(list + o, sizeof list - o, "%s%.60s %lld", i ? ", " : "",
                     onnx_is_default_domain(d) ? "ai.onnx" : d, (long long)m->opsets[i].version);
        if (w > 0 && (size_t)w < sizeof list - o) o += (size_t)w;
        for (size_t j = 0; j < i; j++)
            if (onnx_is_default_domain(d) ? onnx_is_default_domain(m->opsets[j].domain)
                                          : !strcmp(d, m->opsets[j].domain)) {
                rc = reason(r, O, 1, "opset for domain '%.60s' is imported twice",
                            onnx_is_default_domain(d) ? "ai.onnx" : d);
                break;
            }
    }
    onnx_sanitize(list);
    if (rc == IA_OK)
        rc = detail(r, O, "%s (supported: ai.onnx %d..%d)", m->n_opsets ? list : "none",
                    IA_ONNX_OPSET_MIN, IA_ONNX_OPSET_MAX);
    int64_t def = ia_onnx_opset_version(m, "");
    int uses_default = 0;
    for (size_t i = 0; i < r->n_ops; i++) uses_default |= !strcmp(r->ops[i].domain, "ai.onnx");
    if (rc == IA_OK && !def && uses_default)
        rc = reason(r, O, 0, "no opset import for the default domain (ai.onnx)");
    if (rc == IA_OK && def && (def < IA_ONNX_OPSET_MIN || def > IA_ONNX_OPSET_MAX))
        rc = reason(r, O, 0, "ai.onnx opset %lld is outside the supported range %d..%d",
                    (long long)def, IA_ONNX_OPSET_MIN, IA_ONNX_OPSET_MAX);
    for (size_t i = 0; i < r->n_ops && rc == IA_OK; i++) {
        const struct ia_verify_op *op = &r->ops[i];
        if (strcmp(op->domain, "ai.onnx") && !ia_onnx_opset_version(m, op->domain))
            rc = reason(r, O, 1, "op %.60s uses domain '%.60s', which the model does not import",
                        op->op_type, op->domain);
    }
    return rc;
}

/* ---- entry points ------------------------------------------------------- */

static void count_tensors(struct ia_verify_report *r, const struct ia_onnx_graph *g) {
    r->n_nodes = g->n_nodes;
    r->n_initializers = g->n_initializers;
    for (size_t i = 0; i < g->n_initializers; i++) {
        r->n_params += g->initializers[i].numel;
        r->weight_bytes += g->initializers[i].nbytes;
    }
}

int ia_onnx_verify(const struct ia_model *m, const struct ia_verify_opts *opts,
                   struct ia_verify_report *r) {
    static const struct ia_verify_opts none = {0};
    report_init(r);
    if (!m) return ia_error_set(IA_EINVAL, "ia_onnx_verify: no model");
    struct vctx v = {.r = r, .m = m, .opts = opts ? opts : &none};
    int rc = IA_OK;
    for (size_t i = 0; i < m->n_problems && rc == IA_OK; i++)
        rc = reason(r, m->problems[i].check, 0, "%s", m->problems[i].msg);
    count_tensors(r, &m->graph);

    if (rc == IA_OK)
        rc = detail(r, IA_VERIFY_IR_VERSION, "%lld (supported %d..%d)", (long long)m->ir_version,
                    IA_ONNX_IR_MIN, IA_ONNX_IR_MAX);
    if (rc == IA_OK && (m->ir_version < IA_ONNX_IR_MIN || m->ir_version > IA_ONNX_IR_MAX))
        rc = reason(r, IA_VERIFY_IR_VERSION, 0,
                    "ir_version %lld is outside the supported range %d..%d",
                    (long long)m->ir_version, IA_ONNX_IR_MIN, IA_ONNX_IR_MAX);
    if (rc == IA_OK) rc = check_ops(&v);
    if (rc == IA_OK) rc = check_opsets(&v);
    if (rc == IA_OK) rc = check_graph(&v, &m->graph, NULL, "", 0);
    if (rc == IA_OK) {
        /* Defensive re-check of what the loader bound. */
        for (size_t i = 0; i < m->graph.n_initializers && rc == IA_OK; i++) {
            const struct ia_onnx_tensor *t = &m->graph.initializers[i];
            uint64_t nb;
            if (t->problem || t->dtype == IA_DTYPE_STRING) continue;
            if (ia_shape_nbytes(t->dtype, t->dims, t->rank, &nb) != IA_OK || nb != t->nbytes ||
                (nb && !t->data))
                rc = reason(r, IA_VERIFY_INITIALIZERS, 1,
                            "initializer '%.100s': bytes do not match dims", t->name);
        }
    }
    if (rc == IA_OK) {
        size_t n_ext = 0;
        for (size_t i = 0; i < m->graph.n_initializers; i++)
            n_ext += m->graph.initializers[i].location == IA_ONNX_DATA_EXTERNAL;
        size_t n_files = 0;
        for (const struct onnx_ext_map *e = m->priv ? m->priv->maps : NULL; e; e = e->next)
            n_files++;
        if (!n_ext)
            rc = detail(r, IA_VERIFY_EXTERNAL_DATA, "none");
        else if (r->checks[IA_VERIFY_EXTERNAL_DATA].status == IA_CHECK_FAIL)
            rc = detail(r, IA_VERIFY_EXTERNAL_DATA, "%zu external tensor%s", n_ext,
                        n_ext == 1 ? "" : "s");
        else
            rc = detail(r, IA_VERIFY_EXTERNAL_DATA, "%zu tensor%s in %zu file%s", n_ext,
                        n_ext == 1 ? "" : "s", n_files, n_files == 1 ? "" : "s");
    }
    if (rc == IA_OK)
        rc = detail(r, IA_VERIFY_INITIALIZERS, "%llu tensor%s, %llu bytes",
                    (unsigned long long)r->n_initializers, r->n_initializers == 1 ? "" : "s",
                    (unsigned long long)r->weight_bytes);
    if (rc == IA_OK) {
        if (!v.opts->check_shapes) {
            r->checks[IA_VERIFY_SHAPES].status = IA_CHECK_SKIPPED;
            rc = detail(r, IA_VERIFY_SHAPES, "not checked: no shape inference given");
        } else if (r->n_failed) {
            r->checks[IA_VERIFY_SHAPES].status = IA_CHECK_SKIPPED;
            rc = detail(r, IA_VERIFY_SHAPES, "not checked: other checks failed");
        } else {
            ia_error_clear();
            int src = v.opts->check_shapes(m);
            if (src == IA_ENOMEM) rc = src;
            else if (src != IA_OK) rc = reason(r, IA_VERIFY_SHAPES, 1, "%s", ia_error_msg());
            else rc = detail(r, IA_VERIFY_SHAPES, "all node outputs infer");
        }
    }
    r->ok = r->n_failed == 0;
    return rc;
}

static int verify_parse_failed(struct ia_verify_report *r, const char *label) {
    report_init(r);
    /* Reasons do not name the file (the caller knows it): drop the label
     * the loader's message starts with. */
    const char *msg = ia_error_msg();
    size_t n = strlen(label);
    if (!strncmp(msg, label, n) && msg[n] == ':' && msg[n + 1] == ' ') msg += n + 2;
    int rc = reason(r, IA_VERIFY_PARSE, 1, "%s", msg);
    for (int i = IA_VERIFY_PARSE + 1; i < IA_VERIFY_CHECK_COUNT && rc == IA_OK; i++) {
        r->checks[i].status = IA_CHECK_SKIPPED;
        rc = detail(r, (enum ia_verify_check_id)i, "not checked: the file did not parse");
    }
    r->ok = 0;
    return rc;
}

static int finish(int rc, const char *label, struct ia_model *m,
                  const struct ia_verify_opts *opts, struct ia_verify_report *r,
                  struct ia_model **model_out) {
    if (rc == IA_EFORMAT || rc == IA_ERANGE) {
        rc = verify_parse_failed(r, label);
    } else if (rc == IA_OK) {
        rc = ia_onnx_verify(m, opts, r);
    } else {
        report_init(r);
    }
    if (rc == IA_OK && model_out)
        *model_out = m;
    else
        ia_model_free(m);
    return rc;
}

int ia_onnx_verify_file(const char *path, const struct ia_verify_opts *opts,
                        struct ia_verify_report *r, struct ia_model **model_out) {
    struct ia_model *m = NULL;
    if (model_out) *model_out = NULL;
    int rc = ia_onnx_load_ex(path, IA_ONNX_LOAD_KEEP_GOING, &m);
    return finish(rc, path, m, opts, r, model_out);
}

int ia_onnx_verify_memory(const void *buf, size_t len, const char *base_dir,
                          const struct ia_verify_opts *opts, struct ia_verify_report *r,
                          struct ia_model **model_out) {
    struct ia_model *m = NULL;
    if (model_out) *model_out = NULL;
    int rc = ia_onnx_load_memory(buf, len, base_dir, IA_ONNX_LOAD_KEEP_GOING, &m);
    return finish(rc, "<memory>", m, opts, r, model_out);
}
