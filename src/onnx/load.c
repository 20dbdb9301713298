/*
 * ONNX loader: .onnx file → struct ia_model.
 *
 * Format: an ONNX model is one protobuf (proto2) message, onnx.ModelProto,
 * as described by /usr/include/onnx/onnx.proto: ir_version, opset_import,
 * producer, metadata_props and a GraphProto (inputs, outputs, value_info,
 * nodes in topological order, initializers as TensorProto). Nodes carry
 * AttributeProtos, which may hold tensors and whole subgraphs (If, Loop,
 * Scan). Protobuf integers are little-endian varints; tensor raw_data is
 * packed little-endian.
 *
 * Limits, checked before any parsing:
 * - the file is at most IA_ONNX_MAX_FILE_BYTES (protobuf's 2 GiB);
 * - messages nest at most IA_ONNX_MAX_NESTING deep: a scan over the wire
 *   format, guided by protobuf-c's descriptors, measures the depth so that
 *   neither protobuf-c's recursive unpacker nor our recursive conversion
 *   can exhaust the stack on hostile input. Malformed wire data found by the
 *   scan is reported as a parse failure.
 * protobuf-c then unpacks the whole message on the heap (through ia_malloc)
 * and copies each bytes field, so a model costs about its file size in
 * memory; the file mapping is dropped after parsing. Strings and raw_data
 * in struct ia_model point into the unpacked message, which lives as long
 * as the model. External data is mapped (tensor_data.c).
 *
 * Known costs, not yet bounded: protobuf-c allocates a struct per message,
 * so a file of many tiny messages (empty nodes) can take tens of times its
 * size in memory (an allocation failure comes back as IA_ENOMEM); and a
 * file truncated by another process while mapped raises SIGBUS.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "onnx_internal.h"

#define S(x) ((x) ? (x) : "")

/* ---- problems ----------------------------------------------------------- */

int onnx_problem(struct onnx_conv *c, enum ia_verify_check_id check, const char *fmt, ...) {
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    onnx_sanitize(msg);
    if (!(c->flags & IA_ONNX_LOAD_KEEP_GOING))
        return ia_error_set(IA_EFORMAT, "%s: %s", c->label, msg);
    struct ia_model_priv *p = c->p;
    if (p->n_problems == p->cap_problems) {
        size_t cap = p->cap_problems ? p->cap_problems * 2 : 16;
        struct ia_onnx_problem *np = ia_realloc(p->problems, cap * sizeof *np);
        if (!np) return ia_error_set(IA_ENOMEM, "out of memory");
        p->problems = np;
        p->cap_problems = cap;
    }
    char *s = onnx_pool_strdup(&p->pool, msg);
    if (!s) return IA_ENOMEM;
    p->problems[p->n_problems].check = check;
    p->problems[p->n_problems].msg = s;
    p->n_problems++;
    c->m->problems = p->problems;
    c->m->n_problems = p->n_problems;
    return IA_OK;
}

/* ---- nesting scan ------------------------------------------------------- */

static int read_varint(const uint8_t *p, size_t len, size_t *i, uint64_t *out) {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (*i >= len) return -1;
        uint8_t b = p[(*i)++];
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return 0;
        }
    }
    return -1;
}

/* Returns 0 when well-formed and shallow enough, 1 when malformed, 2 when
 * nested deeper than IA_ONNX_MAX_NESTING. Recursion depth is bounded by
 * that limit. */
static int scan_nesting(const uint8_t *p, size_t len, const ProtobufCMessageDescriptor *d,
                        int depth) {
    if (depth > IA_ONNX_MAX_NESTING) return 2;
    size_t i = 0;
    while (i < len) {
        uint64_t key, n;
        if (read_varint(p, len, &i, &key)) return 1;
        uint32_t field = (uint32_t)(key >> 3);
        if (key >> 3 > 0x1fffffff || field == 0) return 1;
        switch (key & 7) {
        case 0:
            if (read_varint(p, len, &i, &n)) return 1;
            break;
        case 1:
            if (len - i < 8) return 1;
            i += 8;
            break;
        case 5:
            if (len - i < 4) return 1;
            i += 4;
            break;
        case 2: {
            if (read_varint(p, len, &i, &n)) return 1;
            if (n > len - i) return 1;
            const ProtobufCFieldDescriptor *f =
                d ? protobuf_c_message_descriptor_get_field(d, field) : NULL;
            if (f && f->type == PROTOBUF_C_TYPE_MESSAGE) {
                int rc = scan_nesting(p + i, (size_t)n, f->descriptor, depth + 1);
                if (rc) return rc;
            }
            i += (size_t)n;
            break;
        }
        default: /* groups (3, 4) are not used by ONNX; 6, 7 do not exist */
            return 1;
        }
    }
    return 0;
}

/* ---- conversion --------------------------------------------------------- */

static int conv_graph(struct onnx_conv *c, const Onnx__GraphProto *gp, const char *where,
                      struct ia_onnx_graph *g);

/* A non-tensor type: what it is, what it holds one level down, and the
 * element type of the tensors inside (sequence of tensors, optional tensor,
 * optional sequence of tensors). */
static void describe_type(const Onnx__TypeProto *tp, enum ia_onnx_type *type,
                          enum ia_onnx_type *elem, enum ia_dtype *elem_dtype) {
    *type = IA_ONNX_TYPE_NONE;
    *elem = IA_ONNX_TYPE_NONE;
    *elem_dtype = IA_DTYPE_UNDEFINED;
    const Onnx__TypeProto *inner = NULL;
    if (!tp) return;
    switch (tp->value_case) {
    case ONNX__TYPE_PROTO__VALUE_SEQUENCE_TYPE:
        *type = IA_ONNX_TYPE_SEQUENCE;
        inner = tp->sequence_type ? tp->sequence_type->elem_type : NULL;
        break;
    case ONNX__TYPE_PROTO__VALUE_OPTIONAL_TYPE:
        *type = IA_ONNX_TYPE_OPTIONAL;
        inner = tp->optional_type ? tp->optional_type->elem_type : NULL;
        break;
    case ONNX__TYPE_PROTO__VALUE_MAP_TYPE:
        *type = IA_ONNX_TYPE_MAP;
        return;
    case ONNX__TYPE_PROTO__VALUE_SPARSE_TENSOR_TYPE:
        *type = IA_ONNX_TYPE_SPARSE_TENSOR;
        return;
    default:
        return;
    }
    /* Two levels at most: optional(sequence(tensor)). */
    for (int depth = 0; inner && depth < 2; depth++) {
        if (inner->value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE && inner->tensor_type) {
            if (depth == 0) *elem = IA_ONNX_TYPE_TENSOR;
            if (inner->tensor_type->has_elem_type)
                *elem_dtype = ia_onnx_dtype_from_proto(inner->tensor_type->elem_type);
            return;
        }
        if (inner->value_case != ONNX__TYPE_PROTO__VALUE_SEQUENCE_TYPE || !inner->sequence_type ||
            depth == 1) {
            if (depth == 0)
                *elem = inner->value_case == ONNX__TYPE_PROTO__VALUE_OPTIONAL_TYPE
                            ? IA_ONNX_TYPE_OPTIONAL
                            : inner->value_case == ONNX__TYPE_PROTO__VALUE_MAP_TYPE
                                  ? IA_ONNX_TYPE_MAP
                                  : IA_ONNX_TYPE_NONE;
            else
                *elem = IA_ONNX_TYPE_NONE; /* a sequence of non-tensors: not ours */
            return;
        }
        if (depth == 0) *elem = IA_ONNX_TYPE_SEQUENCE;
        inner = inner->sequence_type->elem_type;
    }
}

static int conv_value(struct onnx_conv *c, const Onnx__ValueInfoProto *vi, const char *kind,
                      struct ia_onnx_value *v) {
    v->name = S(vi->name);
    const Onnx__TypeProto *tp = vi->type;
    if (!tp || tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !tp->tensor_type) {
        describe_type(tp, &v->type, &v->elem_type, &v->elem_dtype);
        return IA_OK;
    }
    const Onnx__TypeProto__Tensor *tt = tp->tensor_type;
    v->is_tensor = 1;
    v->onnx_elem_type = tt->has_elem_type ? tt->elem_type : 0;
    v->dtype = ia_onnx_dtype_from_proto(v->onnx_elem_type);
    if (!tt->shape) return IA_OK;
    v->has_shape = 1;
    v->rank = tt->shape->n_dim;
    if (v->rank == 0) return IA_OK;
    struct ia_onnx_dim *dims = onnx_pool_array(&c->p->pool, v->rank, sizeof *dims);
    if (!dims) return IA_ENOMEM;
    v->dims = dims;
    for (size_t i = 0; i < v->rank; i++) {
        const Onnx__TensorShapeProto__Dimension *d = tt->shape->dim[i];
        dims[i].value = -1;
        if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE) {
            if (d->dim_value < 0) {
                int rc = onnx_problem(c, IA_VERIFY_GRAPH, "%s '%.100s': dim %zu is negative (%lld)",
                                      kind, v->name, i, (long long)d->dim_value);
                if (rc) return rc;
            } else {
                dims[i].value = d->dim_value;
            }
        } else if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM) {
            dims[i].param = d->dim_param;
        }
    }
    return IA_OK;
}

static int conv_values(struct onnx_conv *c, Onnx__ValueInfoProto **src, size_t n, const char *kind,
                       const struct ia_onnx_value **out) {
    if (n == 0) return IA_OK;
    struct ia_onnx_value *v = onnx_pool_array(&c->p->pool, n, sizeof *v);
    if (!v) return IA_ENOMEM;
    *out = v;
    for (size_t i = 0; i < n; i++) {
        int rc = conv_value(c, src[i], kind, &v[i]);
        if (rc) return rc;
    }
    return IA_OK;
}

static enum ia_onnx_attr_type infer_attr_type(const Onnx__AttributeProto *a) {
    /* IR version 1 files have no type field: guess from the field set. */
    if (a->has_f) return IA_ONNX_ATTR_FLOAT;
    if (a->has_i) return IA_ONNX_ATTR_INT;
    if (a->has_s) return IA_ONNX_ATTR_STRING;
    if (a->t) return IA_ONNX_ATTR_TENSOR;
    if (a->g) return IA_ONNX_ATTR_GRAPH;
    if (a->n_floats) return IA_ONNX_ATTR_FLOATS;
    if (a->n_ints) return IA_ONNX_ATTR_INTS;
    if (a->n_strings) return IA_ONNX_ATTR_STRINGS;
    if (a->n_tensors) return IA_ONNX_ATTR_TENSORS;
    if (a->n_graphs) return IA_ONNX_ATTR_GRAPHS;
    return IA_ONNX_ATTR_UNDEFINED;
}

static int conv_bytes(struct onnx_conv *c, const ProtobufCBinaryData *src, size_t n,
                      const struct ia_onnx_bytes **out) {
    if (n == 0) return IA_OK;
    struct ia_onnx_bytes *b = onnx_pool_array(&c->p->pool, n, sizeof *b);
    if (!b) return IA_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        b[i].data = src[i].len ? src[i].data : NULL;
        b[i].len = src[i].len;
    }
    *out = b;
    return IA_OK;
}

static int conv_attr(struct onnx_conv *c, const Onnx__AttributeProto *ap, const char *node_label,
                     struct ia_onnx_attr *a) {
    int rc = IA_OK;
    char what[400];
    a->name = S(ap->name);
    a->type = ap->has_type ? (enum ia_onnx_attr_type)ap->type : infer_attr_type(ap);
    snprintf(what, sizeof what, "%.280s attribute '%.100s'", node_label, a->name);
    switch (a->type) {
    case IA_ONNX_ATTR_FLOAT:
        a->f = ap->f;
        break;
    case IA_ONNX_ATTR_INT:
        a->i = ap->i;
        break;
    case IA_ONNX_ATTR_STRING:
        a->s.data = ap->s.len ? ap->s.data : NULL;
        a->s.len = ap->s.len;
        break;
    case IA_ONNX_ATTR_FLOATS:
        a->n = ap->n_floats;
        a->floats = ap->floats;
        break;
    case IA_ONNX_ATTR_INTS:
        a->n = ap->n_ints;
        a->ints = ap->ints;
        break;
    case IA_ONNX_ATTR_STRINGS:
        a->n = ap->n_strings;
        rc = conv_bytes(c, ap->strings, ap->n_strings, &a->strings);
        break;
    case IA_ONNX_ATTR_TENSOR: {
        if (!ap->t) return onnx_problem(c, IA_VERIFY_GRAPH, "%s has no tensor", what);
        struct ia_onnx_tensor *t = onnx_pool_alloc(&c->p->pool, sizeof *t);
        if (!t) return IA_ENOMEM;
        a->t = t;
        rc = onnx_bind_tensor(c, ap->t, what, t);
        break;
    }
    case IA_ONNX_ATTR_TENSORS: {
        if (ap->n_tensors == 0) break;
        struct ia_onnx_tensor *t = onnx_pool_array(&c->p->pool, ap->n_tensors, sizeof *t);
        if (!t) return IA_ENOMEM;
        a->n = ap->n_tensors;
        a->tensors = t;
        for (size_t i = 0; i < ap->n_tensors && rc == IA_OK; i++) {
            char w2[450];
            snprintf(w2, sizeof w2, "%s[%zu]", what, i);
            rc = onnx_bind_tensor(c, ap->tensors[i], w2, &t[i]);
        }
        break;
    }
    case IA_ONNX_ATTR_GRAPH: {
        if (!ap->g) return onnx_problem(c, IA_VERIFY_GRAPH, "%s has no graph", what);
        struct ia_onnx_graph *g = onnx_pool_alloc(&c->p->pool, sizeof *g);
        if (!g) return IA_ENOMEM;
        a->g = g;
        rc = conv_graph(c, ap->g, what, g);
        break;
    }
    case IA_ONNX_ATTR_GRAPHS: {
        if (ap->n_graphs == 0) break;
        struct ia_onnx_graph *g = onnx_pool_array(&c->p->pool, ap->n_graphs, sizeof *g);
        if (!g) return IA_ENOMEM;
        a->n = ap->n_graphs;
        a->graphs = g;
        for (size_t i = 0; i < ap->n_graphs && rc == IA_OK; i++)
            rc = conv_graph(c, ap->graphs[i], what, &g[i]);
        break;
    }
    case IA_ONNX_ATTR_SPARSE_TENSOR:
    case IA_ONNX_ATTR_SPARSE_TENSORS:
    case IA_ONNX_ATTR_TYPE_PROTO:
    case IA_ONNX_ATTR_TYPE_PROTOS:
        break; /* type only; see onnx.h */
    default:
        return onnx_problem(c, IA_VERIFY_GRAPH, "%s has an unknown type (%d)", what, (int)a->type);
    }
    return rc;
}

static int conv_node(struct onnx_conv *c, const Onnx__NodeProto *np, size_t idx, const char *where,
                     struct ia_onnx_node *n) {
    char label[400];
    n->name = S(np->name);
    n->op_type = S(np->op_type);
    n->domain = S(np->domain);
    n->n_inputs = np->n_input;
    n->inputs = (const char *const *)np->input;
    n->n_outputs = np->n_output;
    n->outputs = (const char *const *)np->output;
    if (*n->name)
        snprintf(label, sizeof label, "%snode '%.100s' (%.60s)", where, n->name, n->op_type);
    else
        snprintf(label, sizeof label, "%snode #%zu (%.60s)", where, idx, n->op_type);
    if (np->n_attribute == 0) return IA_OK;
    struct ia_onnx_attr *a = onnx_pool_array(&c->p->pool, np->n_attribute, sizeof *a);
    if (!a) return IA_ENOMEM;
    n->n_attrs = np->n_attribute;
    n->attrs = a;
    for (size_t i = 0; i < np->n_attribute; i++) {
        int rc = conv_attr(c, np->attribute[i], label, &a[i]);
        if (rc) return rc;
    }
    return IA_OK;
}

/* `where` is "" for the main graph, or the attribute that holds a subgraph
 * ("node 'if1' (If) attribute 'then_branch'"), to name things in messages. */
static int conv_graph(struct onnx_conv *c, const Onnx__GraphProto *gp, const char *where,
                      struct ia_onnx_graph *g) {
    char prefix[480] = "";
    int rc;
    if (*where) snprintf(prefix, sizeof prefix, "%.400s: ", where);
    g->name = S(gp->name);
    char kind_in[500], kind_out[500], kind_vi[500];
    snprintf(kind_in, sizeof kind_in, "%sinput", prefix);
    snprintf(kind_out, sizeof kind_out, "%soutput", prefix);
    snprintf(kind_vi, sizeof kind_vi, "%svalue_info", prefix);
    g->n_inputs = gp->n_input;
    g->n_outputs = gp->n_output;
    g->n_value_info = gp->n_value_info;
    g->n_sparse_initializers = gp->n_sparse_initializer;
    if ((rc = conv_values(c, gp->input, gp->n_input, kind_in, &g->inputs))) return rc;
    if ((rc = conv_values(c, gp->output, gp->n_output, kind_out, &g->outputs))) return rc;
    if ((rc = conv_values(c, gp->value_info, gp->n_value_info, kind_vi, &g->value_info))) return rc;
    if (gp->n_initializer) {
        struct ia_onnx_tensor *t = onnx_pool_array(&c->p->pool, gp->n_initializer, sizeof *t);
        if (!t) return IA_ENOMEM;
        g->initializers = t;
        g->n_initializers = gp->n_initializer;
        for (size_t i = 0; i < gp->n_initializer; i++) {
            char what[600];
            snprintf(what, sizeof what, "%sinitializer '%.100s'", prefix,
                     S(gp->initializer[i]->name));
            if ((rc = onnx_bind_tensor(c, gp->initializer[i], what, &t[i]))) return rc;
        }
    }
    if (gp->n_sparse_initializer) {
        rc = onnx_problem(c, IA_VERIFY_INITIALIZERS, "%s%zu sparse initializer(s): not supported",
                          prefix, gp->n_sparse_initializer);
        if (rc) return rc;
    }
    if (gp->n_node) {
        struct ia_onnx_node *n = onnx_pool_array(&c->p->pool, gp->n_node, sizeof *n);
        if (!n) return IA_ENOMEM;
        g->nodes = n;
        g->n_nodes = gp->n_node;
        for (size_t i = 0; i < gp->n_node; i++)
            if ((rc = conv_node(c, gp->node[i], i, prefix, &n[i]))) return rc;
    }
    return IA_OK;
}

static int conv_model(struct onnx_conv *c) {
    const Onnx__ModelProto *pb = c->p->pb;
    struct ia_model *m = c->m;
    m->ir_version = pb->has_ir_version ? pb->ir_version : 0;
    m->producer_name = S(pb->producer_name);
    m->producer_version = S(pb->producer_version);
    m->domain = S(pb->domain);
    m->doc_string = S(pb->doc_string);
    m->model_version = pb->has_model_version ? pb->model_version : 0;
    m->n_functions = pb->n_functions;
    m->graph.name = "";
    if (pb->n_opset_import) {
        struct ia_onnx_opset *o = onnx_pool_array(&c->p->pool, pb->n_opset_import, sizeof *o);
        if (!o) return IA_ENOMEM;
        for (size_t i = 0; i < pb->n_opset_import; i++) {
            o[i].domain = S(pb->opset_import[i]->domain);
            o[i].version = pb->opset_import[i]->has_version ? pb->opset_import[i]->version : 0;
        }
        m->opsets = o;
        m->n_opsets = pb->n_opset_import;
    }
    if (pb->n_metadata_props) {
        struct ia_onnx_prop *pr = onnx_pool_array(&c->p->pool, pb->n_metadata_props, sizeof *pr);
        if (!pr) return IA_ENOMEM;
        for (size_t i = 0; i < pb->n_metadata_props; i++) {
            pr[i].key = S(pb->metadata_props[i]->key);
            pr[i].value = S(pb->metadata_props[i]->value);
        }
        m->props = pr;
        m->n_props = pb->n_metadata_props;
    }
    if (!pb->graph) return onnx_problem(c, IA_VERIFY_PARSE, "not a valid ONNX model (no graph)");
    return conv_graph(c, pb->graph, "", &m->graph);
}

/* ---- entry points ------------------------------------------------------- */

void ia_model_free(struct ia_model *m) {
    if (!m) return;
    struct ia_model_priv *p = m->priv;
    if (p) {
        for (struct onnx_ext_map *e = p->maps; e; e = e->next)
            if (e->base) munmap(e->base, e->size);
        if (p->pb) protobuf_c_message_free_unpacked(&p->pb->base, &p->pba.a);
        ia_free(p->problems);
        onnx_pool_free(&p->pool);
        ia_free(p);
    }
    ia_free(m);
}

static int load_buffer(const uint8_t *buf, size_t len, const char *label, const char *path,
                       const char *base_dir, unsigned flags, struct ia_model **out) {
    *out = NULL;
    if ((uint64_t)len > IA_ONNX_MAX_FILE_BYTES)
        return ia_error_set(IA_ERANGE, "%s: %zu bytes is over the 2 GiB protobuf limit", label,
                            len);
    int scan = scan_nesting(buf, len, &onnx__model_proto__descriptor, 0);
    if (scan == 1)
        return ia_error_set(IA_EFORMAT, "%s: not a valid ONNX model (protobuf parse failed)",
                            label);
    if (scan == 2)
        return ia_error_set(IA_ERANGE, "%s: messages nested deeper than %d levels", label,
                            IA_ONNX_MAX_NESTING);

    struct ia_model *m = ia_calloc(1, sizeof *m);
    struct ia_model_priv *p = ia_calloc(1, sizeof *p);
    if (!m || !p) {
        ia_free(m);
        ia_free(p);
        return ia_error_set(IA_ENOMEM, "out of memory");
    }
    m->priv = p;
    onnx_pb_alloc_init(&p->pba);
    int rc = IA_OK;
    p->pb = (Onnx__ModelProto *)protobuf_c_message_unpack(&onnx__model_proto__descriptor, &p->pba.a,
                                                          len, buf);
    if (!p->pb) {
        rc = p->pba.failed
                 ? ia_error_set(IA_ENOMEM, "%s: out of memory while parsing", label)
                 : ia_error_set(IA_EFORMAT, "%s: not a valid ONNX model (protobuf parse failed)",
                                label);
    }
    if (rc == IA_OK && path && !(m->path = onnx_pool_strdup(&p->pool, path))) rc = IA_ENOMEM;
    struct onnx_conv c = {.m = m, .p = p, .flags = flags, .label = label, .base_dir = base_dir};
    if (rc == IA_OK) rc = conv_model(&c);
    if (rc != IA_OK) {
        ia_model_free(m);
        if (rc == IA_ENOMEM) ia_error_set(IA_ENOMEM, "%s: out of memory", label);
        return rc;
    }
    *out = m;
    return IA_OK;
}

int ia_onnx_load_memory(const void *buf, size_t len, const char *base_dir, unsigned flags,
                        struct ia_model **out) {
    if (!out || (!buf && len)) return ia_error_set(IA_EINVAL, "ia_onnx_load_memory: bad arguments");
    *out = NULL;
    char *resolved = NULL;
    if (base_dir) {
        resolved = realpath(base_dir, NULL);
        if (!resolved)
            return ia_error_set(errno == ENOENT ? IA_ENOTFOUND : IA_EIO, "%s: %s", base_dir,
                                strerror(errno));
    }
    static const uint8_t empty[1];
    int rc = load_buffer(len ? buf : empty, len, "<memory>", NULL, resolved, flags, out);
    free(resolved);
    return rc;
}

int ia_onnx_load_ex(const char *path, unsigned flags, struct ia_model **out) {
    if (!path || !out) return ia_error_set(IA_EINVAL, "ia_onnx_load: bad arguments");
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return ia_error_set(IA_ENOTFOUND, "model file not found: %s", path);
        return ia_error_set(IA_EIO, "%s: %s", path, strerror(errno));
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return ia_error_set(IA_EIO, "%s: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return ia_error_set(IA_EFORMAT, "%s: not a regular file", path);
    }
    if ((uint64_t)st.st_size > IA_ONNX_MAX_FILE_BYTES) {
        close(fd);
        return ia_error_set(IA_ERANGE,
                            "%s: %lld bytes is over the 2 GiB protobuf limit (big models keep "
                            "weights in external data)",
                            path, (long long)st.st_size);
    }
    size_t len = (size_t)st.st_size;
    static const uint8_t empty[1];
    const uint8_t *buf = empty;
    if (len) {
        void *map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map == MAP_FAILED) {
            int e = errno;
            close(fd);
            return ia_error_set(IA_EIO, "%s: mmap: %s", path, strerror(e));
        }
        buf = map;
    }
    close(fd);

    /* External data lives next to the model: resolve the folder once. */
    char *copy = ia_strdup(path);
    char *dir = copy ? realpath(dirname(copy), NULL) : NULL;
    int rc;
    if (!copy)
        rc = ia_error_set(IA_ENOMEM, "out of memory");
    else if (!dir)
        rc = ia_error_set(IA_EIO, "%s: cannot resolve its folder: %s", path, strerror(errno));
    else
        rc = load_buffer(buf, len, path, path, dir, flags, out);
    free(dir);
    ia_free(copy);
    if (len) munmap((void *)buf, len);
    return rc;
}

int ia_onnx_load(const char *path, struct ia_model **out) { return ia_onnx_load_ex(path, 0, out); }

/* ---- dtypes and opsets -------------------------------------------------- */

static const enum ia_dtype from_proto[] = {
    [ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT] = IA_DTYPE_FLOAT32,
    [ONNX__TENSOR_PROTO__DATA_TYPE__UINT8] = IA_DTYPE_UINT8,
    [ONNX__TENSOR_PROTO__DATA_TYPE__INT8] = IA_DTYPE_INT8,
    [ONNX__TENSOR_PROTO__DATA_TYPE__UINT16] = IA_DTYPE_UINT16,
    [ONNX__TENSOR_PROTO__DATA_TYPE__INT16] = IA_DTYPE_INT16,
    [ONNX__TENSOR_PROTO__DATA_TYPE__INT32] = IA_DTYPE_INT32,
    [ONNX__TENSOR_PROTO__DATA_TYPE__INT64] = IA_DTYPE_INT64,
    [ONNX__TENSOR_PROTO__DATA_TYPE__STRING] = IA_DTYPE_STRING,
    [ONNX__TENSOR_PROTO__DATA_TYPE__BOOL] = IA_DTYPE_BOOL,
    [ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16] = IA_DTYPE_FLOAT16,
    [ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE] = IA_DTYPE_FLOAT64,
    [ONNX__TENSOR_PROTO__DATA_TYPE__UINT32] = IA_DTYPE_UINT32,
    [ONNX__TENSOR_PROTO__DATA_TYPE__UINT64] = IA_DTYPE_UINT64,
    [ONNX__TENSOR_PROTO__DATA_TYPE__BFLOAT16] = IA_DTYPE_BFLOAT16,
};

enum ia_dtype ia_onnx_dtype_from_proto(int32_t t) {
    if (t < 0 || (size_t)t >= sizeof from_proto / sizeof from_proto[0]) return IA_DTYPE_UNDEFINED;
    return from_proto[t];
}

int32_t ia_onnx_dtype_to_proto(enum ia_dtype t) {
    for (size_t i = 0; i < sizeof from_proto / sizeof from_proto[0]; i++)
        if (from_proto[i] == t && t != IA_DTYPE_UNDEFINED) return (int32_t)i;
    return 0;
}

const char *ia_onnx_proto_type_name(int32_t t) {
    /* ONNX's own names, including the types newer than Debian's proto. */
    static const char *const names[] = {
        "undefined",      "float",      "uint8",          "int8",       "uint16",   "int16",
        "int32",          "int64",      "string",         "bool",       "float16",  "double",
        "uint32",         "uint64",     "complex64",      "complex128", "bfloat16", "float8e4m3fn",
        "float8e4m3fnuz", "float8e5m2", "float8e5m2fnuz", "uint4",      "int4",     "float4e2m1"};
    if (t < 0 || (size_t)t >= sizeof names / sizeof names[0]) return "unknown";
    return names[t];
}

int64_t ia_onnx_opset_version(const struct ia_model *m, const char *domain) {
    int want_default = onnx_is_default_domain(domain);
    for (size_t i = 0; i < m->n_opsets; i++) {
        const char *d = m->opsets[i].domain;
        if (want_default ? onnx_is_default_domain(d) : !strcmp(d, domain))
            return m->opsets[i].version;
    }
    return 0;
}
