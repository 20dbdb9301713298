/*
 * ONNX writer: a builder that assembles protobuf-c messages and packs them
 * into a ModelProto (format: see load.c). Tensors are written as raw_data
 * (packed little-endian), the way onnx.numpy_helper writes them. The packed
 * model must stay under IA_ONNX_MAX_FILE_BYTES; bigger weights go to external
 * data files that the caller writes (ia_onnx_builder_add_external_initializer).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "onnx_internal.h"

/* A growable array of message pointers; `*count` and `*items` point at the
 * protobuf-c fields so the message always sees the current array. */
struct vec {
    void **items;
    size_t n, cap;
};

struct ia_onnx_builder {
    struct onnx_pool pool;
    Onnx__ModelProto model;
    Onnx__GraphProto graph;
    struct vec opsets, props, inputs, outputs, value_info, inits, nodes;
};

static int vec_push(struct vec *v, void *item) {
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 8;
        void **ni = ia_realloc(v->items, cap * sizeof *ni);
        if (!ni) return ia_error_set(IA_ENOMEM, "out of memory");
        v->items = ni;
        v->cap = cap;
    }
    v->items[v->n++] = item;
    return IA_OK;
}

/* Points the protobuf fields at the vectors (after any push). */
static void sync_fields(struct ia_onnx_builder *b) {
    b->model.n_opset_import = b->opsets.n;
    b->model.opset_import = (Onnx__OperatorSetIdProto **)b->opsets.items;
    b->model.n_metadata_props = b->props.n;
    b->model.metadata_props = (Onnx__StringStringEntryProto **)b->props.items;
    b->graph.n_input = b->inputs.n;
    b->graph.input = (Onnx__ValueInfoProto **)b->inputs.items;
    b->graph.n_output = b->outputs.n;
    b->graph.output = (Onnx__ValueInfoProto **)b->outputs.items;
    b->graph.n_value_info = b->value_info.n;
    b->graph.value_info = (Onnx__ValueInfoProto **)b->value_info.items;
    b->graph.n_initializer = b->inits.n;
    b->graph.initializer = (Onnx__TensorProto **)b->inits.items;
    b->graph.n_node = b->nodes.n;
    b->graph.node = (Onnx__NodeProto **)b->nodes.items;
}

static char *dup_or_null(struct ia_onnx_builder *b, const char *s, int *rc) {
    if (!s || !*s) return NULL; /* empty optional strings are not written */
    char *r = onnx_pool_strdup(&b->pool, s);
    if (!r) *rc = IA_ENOMEM;
    return r;
}

int ia_onnx_builder_create(struct ia_onnx_builder **out) {
    struct ia_onnx_builder *b = ia_calloc(1, sizeof *b);
    if (!b) return ia_error_set(IA_ENOMEM, "out of memory");
    onnx__model_proto__init(&b->model);
    onnx__graph_proto__init(&b->graph);
    b->model.has_ir_version = 1;
    b->model.ir_version = 8;
    b->model.graph = &b->graph;
    *out = b;
    return IA_OK;
}

void ia_onnx_builder_destroy(struct ia_onnx_builder *b) {
    if (!b) return;
    struct vec *v[] = {&b->opsets,     &b->props, &b->inputs, &b->outputs,
                       &b->value_info, &b->inits, &b->nodes};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) ia_free(v[i]->items);
    onnx_pool_free(&b->pool);
    ia_free(b);
}

int ia_onnx_builder_set_info(struct ia_onnx_builder *b, const char *graph_name,
                             const char *producer_name, const char *producer_version,
                             int64_t ir_version) {
    int rc = IA_OK;
    b->graph.name = dup_or_null(b, graph_name, &rc);
    b->model.producer_name = dup_or_null(b, producer_name, &rc);
    b->model.producer_version = dup_or_null(b, producer_version, &rc);
    b->model.ir_version = ir_version ? ir_version : 8;
    return rc ? ia_error_set(IA_ENOMEM, "out of memory") : IA_OK;
}

int ia_onnx_builder_add_opset(struct ia_onnx_builder *b, const char *domain, int64_t version) {
    Onnx__OperatorSetIdProto *o = onnx_pool_alloc(&b->pool, sizeof *o);
    if (!o) return IA_ENOMEM;
    onnx__operator_set_id_proto__init(o);
    int rc = IA_OK;
    /* The default domain is written as "", the way onnx.helper does. */
    o->domain = onnx_is_default_domain(domain) ? onnx_pool_strdup(&b->pool, "")
                                               : dup_or_null(b, domain, &rc);
    if (!o->domain || rc) return ia_error_set(IA_ENOMEM, "out of memory");
    o->has_version = 1;
    o->version = version;
    rc = vec_push(&b->opsets, o);
    sync_fields(b);
    return rc;
}

int ia_onnx_builder_add_metadata(struct ia_onnx_builder *b, const char *key, const char *value) {
    Onnx__StringStringEntryProto *e = onnx_pool_alloc(&b->pool, sizeof *e);
    if (!e) return IA_ENOMEM;
    onnx__string_string_entry_proto__init(e);
    e->key = onnx_pool_strdup(&b->pool, key ? key : "");
    e->value = onnx_pool_strdup(&b->pool, value ? value : "");
    if (!e->key || !e->value) return IA_ENOMEM;
    int rc = vec_push(&b->props, e);
    sync_fields(b);
    return rc;
}

static int add_value(struct ia_onnx_builder *b, struct vec *v, const char *name, int32_t elem_type,
                     int rank, const struct ia_onnx_dim *dims) {
    int rc = IA_OK;
    if (!name || (rank > 0 && !dims))
        return ia_error_set(IA_EINVAL, "value '%.100s': missing name or dims", name ? name : "");
    Onnx__ValueInfoProto *vi = onnx_pool_alloc(&b->pool, sizeof *vi);
    Onnx__TypeProto *tp = onnx_pool_alloc(&b->pool, sizeof *tp);
    Onnx__TypeProto__Tensor *tt = onnx_pool_alloc(&b->pool, sizeof *tt);
    if (!vi || !tp || !tt) return IA_ENOMEM;
    onnx__value_info_proto__init(vi);
    onnx__type_proto__init(tp);
    onnx__type_proto__tensor__init(tt);
    vi->name = onnx_pool_strdup(&b->pool, name ? name : "");
    if (!vi->name) return IA_ENOMEM;
    vi->type = tp;
    tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    tp->tensor_type = tt;
    tt->has_elem_type = 1;
    tt->elem_type = elem_type;
    if (rank >= 0) {
        Onnx__TensorShapeProto *sh = onnx_pool_alloc(&b->pool, sizeof *sh);
        if (!sh) return IA_ENOMEM;
        onnx__tensor_shape_proto__init(sh);
        tt->shape = sh;
        if (rank > 0) {
            sh->dim = onnx_pool_array(&b->pool, (size_t)rank, sizeof *sh->dim);
            if (!sh->dim) return IA_ENOMEM;
            sh->n_dim = (size_t)rank;
            for (int i = 0; i < rank; i++) {
                Onnx__TensorShapeProto__Dimension *d = onnx_pool_alloc(&b->pool, sizeof *d);
                if (!d) return IA_ENOMEM;
                onnx__tensor_shape_proto__dimension__init(d);
                if (dims[i].value >= 0) {
                    d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
                    d->dim_value = dims[i].value;
                } else if (dims[i].param) {
                    d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
                    d->dim_param = dup_or_null(b, dims[i].param, &rc);
                    if (rc) return IA_ENOMEM;
                    if (!d->dim_param)
                        d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE__NOT_SET;
                }
                sh->dim[i] = d;
            }
        }
    }
    rc = vec_push(v, vi);
    sync_fields(b);
    return rc;
}

int ia_onnx_builder_add_input(struct ia_onnx_builder *b, const char *name, enum ia_dtype dtype,
                              int rank, const struct ia_onnx_dim *dims) {
    return add_value(b, &b->inputs, name, ia_onnx_dtype_to_proto(dtype), rank, dims);
}

int ia_onnx_builder_add_output(struct ia_onnx_builder *b, const char *name, enum ia_dtype dtype,
                               int rank, const struct ia_onnx_dim *dims) {
    return add_value(b, &b->outputs, name, ia_onnx_dtype_to_proto(dtype), rank, dims);
}

/* A TensorProto from parts. `copy` = 0 borrows `data` (the caller keeps it
 * alive until the builder is gone). */
static int make_tensor(struct ia_onnx_builder *b, const char *name, int32_t onnx_type, size_t rank,
                       const int64_t *dims, const void *data, size_t nbytes,
                       const struct ia_onnx_bytes *strings, size_t n_strings, int copy,
                       Onnx__TensorProto **out) {
    Onnx__TensorProto *t = onnx_pool_alloc(&b->pool, sizeof *t);
    if (!t) return IA_ENOMEM;
    onnx__tensor_proto__init(t);
    int rc = IA_OK;
    t->name = dup_or_null(b, name, &rc);
    if (rc) return IA_ENOMEM;
    t->has_data_type = 1;
    t->data_type = onnx_type;
    if (rank) {
        int64_t *d = onnx_pool_array(&b->pool, rank, sizeof *d);
        if (!d) return IA_ENOMEM;
        memcpy(d, dims, rank * sizeof *d);
        t->dims = d;
        t->n_dims = rank;
    }
    if (onnx_type == ONNX__TENSOR_PROTO__DATA_TYPE__STRING) {
        if (n_strings) {
            t->string_data = onnx_pool_array(&b->pool, n_strings, sizeof *t->string_data);
            if (!t->string_data) return IA_ENOMEM;
            for (size_t i = 0; i < n_strings; i++) {
                uint8_t *s = onnx_pool_alloc(&b->pool, strings[i].len);
                if (!s) return IA_ENOMEM;
                if (strings[i].len) memcpy(s, strings[i].data, strings[i].len);
                t->string_data[i].data = s;
                t->string_data[i].len = strings[i].len;
            }
            t->n_string_data = n_strings;
        }
    } else {
        t->has_raw_data = 1;
        t->raw_data.len = nbytes;
        if (nbytes && copy) {
            uint8_t *d = onnx_pool_alloc(&b->pool, nbytes);
            if (!d) return IA_ENOMEM;
            memcpy(d, data, nbytes);
            t->raw_data.data = d;
        } else {
            t->raw_data.data = (uint8_t *)data;
        }
    }
    *out = t;
    return IA_OK;
}

static int check_bytes(enum ia_dtype dtype, size_t rank, const int64_t *dims, size_t nbytes,
                       const char *name) {
    if (dtype == IA_DTYPE_STRING)
        return ia_error_set(IA_EUNSUPPORTED, "tensor '%.100s': string tensors are not supported",
                            name);
    uint64_t need;
    if (ia_shape_nbytes(dtype, dims, rank, &need) != IA_OK)
        return ia_error_wrap(IA_EINVAL, "tensor '%.100s'", name);
    if (need != nbytes)
        return ia_error_set(IA_EINVAL, "tensor '%.100s': %zu bytes given, dims and %s need %llu",
                            name, nbytes, ia_dtype_name(dtype), (unsigned long long)need);
    return IA_OK;
}

int ia_onnx_builder_add_initializer(struct ia_onnx_builder *b, const char *name,
                                    enum ia_dtype dtype, size_t rank, const int64_t *dims,
                                    const void *data, size_t nbytes) {
    if (!name || (rank && !dims) || (nbytes && !data))
        return ia_error_set(IA_EINVAL, "initializer '%.100s': missing name, dims or data",
                            name ? name : "");
    int rc = check_bytes(dtype, rank, dims, nbytes, name);
    Onnx__TensorProto *t = NULL;
    if (rc == IA_OK)
        rc = make_tensor(b, name, ia_onnx_dtype_to_proto(dtype), rank, dims, data, nbytes, NULL, 0,
                         1, &t);
    if (rc == IA_OK) rc = vec_push(&b->inits, t);
    sync_fields(b);
    return rc == IA_ENOMEM ? ia_error_set(IA_ENOMEM, "out of memory") : rc;
}

/* A key/value entry for TensorProto.external_data. */
static Onnx__StringStringEntryProto *kv_entry(struct ia_onnx_builder *b, const char *k,
                                              const char *v) {
    Onnx__StringStringEntryProto *e = onnx_pool_alloc(&b->pool, sizeof *e);
    if (!e) return NULL;
    onnx__string_string_entry_proto__init(e);
    e->key = onnx_pool_strdup(&b->pool, k);
    e->value = onnx_pool_strdup(&b->pool, v);
    return e->key && e->value ? e : NULL;
}

int ia_onnx_builder_add_external_initializer(struct ia_onnx_builder *b, const char *name,
                                             enum ia_dtype dtype, size_t rank,
                                             const int64_t *dims, const char *location,
                                             uint64_t offset, uint64_t nbytes) {
    if (!name || (rank && !dims) || !location || !*location)
        return ia_error_set(IA_EINVAL, "initializer '%.100s': missing name, dims or location",
                            name ? name : "");
    if ((uint64_t)(size_t)nbytes != nbytes)
        return ia_error_set(IA_ERANGE, "initializer '%.100s': too big", name);
    int rc = check_bytes(dtype, rank, dims, (size_t)nbytes, name);
    Onnx__TensorProto *t = NULL;
    if (rc == IA_OK)
        rc = make_tensor(b, name, ia_onnx_dtype_to_proto(dtype), rank, dims, NULL, 0, NULL, 0, 0,
                         &t);
    if (rc == IA_OK) {
        char off[24], len[24];
        snprintf(off, sizeof off, "%llu", (unsigned long long)offset);
        snprintf(len, sizeof len, "%llu", (unsigned long long)nbytes);
        t->has_raw_data = 0;
        t->raw_data.len = 0;
        t->raw_data.data = NULL;
        t->has_data_location = 1;
        t->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
        t->external_data = onnx_pool_array(&b->pool, 3, sizeof *t->external_data);
        if (!t->external_data) rc = IA_ENOMEM;
        if (rc == IA_OK) {
            t->external_data[0] = kv_entry(b, "location", location);
            t->external_data[1] = kv_entry(b, "offset", off);
            t->external_data[2] = kv_entry(b, "length", len);
            if (!t->external_data[0] || !t->external_data[1] || !t->external_data[2])
                rc = IA_ENOMEM;
            else
                t->n_external_data = 3;
        }
    }
    if (rc == IA_OK) rc = vec_push(&b->inits, t);
    sync_fields(b);
    return rc == IA_ENOMEM ? ia_error_set(IA_ENOMEM, "out of memory") : rc;
}

static int tensor_from(struct ia_onnx_builder *b, const struct ia_onnx_tensor *src, int copy,
                       Onnx__TensorProto **out) {
    if (src->problem) return ia_error_set(IA_EINVAL, "%s", src->problem);
    if (src->dtype == IA_DTYPE_UNDEFINED)
        return ia_error_set(IA_EUNSUPPORTED, "tensor '%.100s': data type %d is not supported",
                            src->name, (int)src->onnx_type);
    if (src->dtype != IA_DTYPE_STRING) {
        int rc = check_bytes(src->dtype, src->rank, src->dims, (size_t)src->nbytes, src->name);
        if (rc) return rc;
    }
    return make_tensor(b, src->name, ia_onnx_dtype_to_proto(src->dtype), src->rank, src->dims,
                       src->data, (size_t)src->nbytes, src->strings, src->n_strings, copy, out);
}

static int add_node(struct ia_onnx_builder *b, const struct ia_onnx_node *n, int copy) {
    if (!n->op_type || (n->n_inputs && !n->inputs) || (n->n_outputs && !n->outputs) ||
        (n->n_attrs && !n->attrs))
        return ia_error_set(IA_EINVAL, "node '%.100s': missing op_type, inputs, outputs or attrs",
                            n->name ? n->name : "");
    Onnx__NodeProto *np = onnx_pool_alloc(&b->pool, sizeof *np);
    if (!np) return IA_ENOMEM;
    onnx__node_proto__init(np);
    int rc = IA_OK;
    np->name = dup_or_null(b, n->name, &rc);
    np->op_type = onnx_pool_strdup(&b->pool, n->op_type ? n->op_type : "");
    np->domain = onnx_is_default_domain(n->domain) ? NULL : dup_or_null(b, n->domain, &rc);
    if (rc || !np->op_type) return IA_ENOMEM;
    char **lists[2] = {NULL, NULL};
    const char *const *src[2] = {n->inputs, n->outputs};
    size_t counts[2] = {n->n_inputs, n->n_outputs};
    for (int l = 0; l < 2; l++) {
        if (!counts[l]) continue;
        lists[l] = onnx_pool_array(&b->pool, counts[l], sizeof(char *));
        if (!lists[l]) return IA_ENOMEM;
        for (size_t i = 0; i < counts[l]; i++)
            if (!(lists[l][i] = onnx_pool_strdup(&b->pool, src[l][i] ? src[l][i] : "")))
                return IA_ENOMEM;
    }
    np->n_input = n->n_inputs;
    np->input = lists[0];
    np->n_output = n->n_outputs;
    np->output = lists[1];
    if (n->n_attrs) {
        np->attribute = onnx_pool_array(&b->pool, n->n_attrs, sizeof *np->attribute);
        if (!np->attribute) return IA_ENOMEM;
        np->n_attribute = n->n_attrs;
    }
    for (size_t i = 0; i < n->n_attrs; i++) {
        const struct ia_onnx_attr *a = &n->attrs[i];
        Onnx__AttributeProto *ap = onnx_pool_alloc(&b->pool, sizeof *ap);
        if (!ap) return IA_ENOMEM;
        onnx__attribute_proto__init(ap);
        np->attribute[i] = ap;
        ap->name = onnx_pool_strdup(&b->pool, a->name ? a->name : "");
        if (!ap->name) return IA_ENOMEM;
        ap->has_type = 1;
        ap->type = (Onnx__AttributeProto__AttributeType)a->type;
        switch (a->type) {
        case IA_ONNX_ATTR_FLOAT:
            ap->has_f = 1, ap->f = a->f;
            break;
        case IA_ONNX_ATTR_INT:
            ap->has_i = 1, ap->i = a->i;
            break;
        case IA_ONNX_ATTR_STRING:
            ap->has_s = 1;
            ap->s.len = a->s.len;
            if (a->s.len) {
                if (!(ap->s.data = onnx_pool_alloc(&b->pool, a->s.len))) return IA_ENOMEM;
                memcpy(ap->s.data, a->s.data, a->s.len);
            }
            break;
        case IA_ONNX_ATTR_FLOATS:
            if (a->n) {
                if (!(ap->floats = onnx_pool_array(&b->pool, a->n, sizeof(float))))
                    return IA_ENOMEM;
                memcpy(ap->floats, a->floats, a->n * sizeof(float));
            }
            ap->n_floats = a->n;
            break;
        case IA_ONNX_ATTR_INTS:
            if (a->n) {
                if (!(ap->ints = onnx_pool_array(&b->pool, a->n, sizeof(int64_t))))
                    return IA_ENOMEM;
                memcpy(ap->ints, a->ints, a->n * sizeof(int64_t));
            }
            ap->n_ints = a->n;
            break;
        case IA_ONNX_ATTR_STRINGS:
            if (a->n) {
                ap->strings = onnx_pool_array(&b->pool, a->n, sizeof *ap->strings);
                if (!ap->strings) return IA_ENOMEM;
                for (size_t k = 0; k < a->n; k++) {
                    uint8_t *s = onnx_pool_alloc(&b->pool, a->strings[k].len);
                    if (!s) return IA_ENOMEM;
                    if (a->strings[k].len) memcpy(s, a->strings[k].data, a->strings[k].len);
                    ap->strings[k].data = s;
                    ap->strings[k].len = a->strings[k].len;
                }
            }
            ap->n_strings = a->n;
            break;
        case IA_ONNX_ATTR_TENSOR:
            if (!a->t) return ia_error_set(IA_EINVAL, "attribute '%.100s' has no tensor", a->name);
            if ((rc = tensor_from(b, a->t, copy, &ap->t))) return rc;
            break;
        case IA_ONNX_ATTR_TENSORS:
            if (a->n) {
                ap->tensors = onnx_pool_array(&b->pool, a->n, sizeof *ap->tensors);
                if (!ap->tensors) return IA_ENOMEM;
                for (size_t k = 0; k < a->n; k++)
                    if ((rc = tensor_from(b, &a->tensors[k], copy, &ap->tensors[k]))) return rc;
            }
            ap->n_tensors = a->n;
            break;
        default:
            return ia_error_set(IA_EUNSUPPORTED,
                                "node '%.100s' attribute '%.100s': type %d cannot be written yet",
                                n->name ? n->name : "", a->name, (int)a->type);
        }
    }
    rc = vec_push(&b->nodes, np);
    sync_fields(b);
    return rc;
}

int ia_onnx_builder_add_node(struct ia_onnx_builder *b, const struct ia_onnx_node *node) {
    int rc = add_node(b, node, 1);
    return rc == IA_ENOMEM ? ia_error_set(IA_ENOMEM, "out of memory") : rc;
}

int ia_onnx_builder_serialize(const struct ia_onnx_builder *b, uint8_t **buf, size_t *len) {
    size_t n = protobuf_c_message_get_packed_size(&b->model.base);
    if ((uint64_t)n > IA_ONNX_MAX_FILE_BYTES)
        return ia_error_set(IA_ERANGE, "model is %zu bytes, over the 2 GiB protobuf limit", n);
    uint8_t *out = ia_malloc(n ? n : 1);
    if (!out) return ia_error_set(IA_ENOMEM, "out of memory");
    size_t w = protobuf_c_message_pack(&b->model.base, out);
    if (w != n) {
        ia_free(out);
        return ia_error_set(IA_EINTERNAL, "protobuf pack wrote %zu of %zu bytes", w, n);
    }
    *buf = out;
    *len = n;
    return IA_OK;
}

/* Streams the packed message into a FILE without a whole-model buffer. */
struct file_buffer {
    ProtobufCBuffer base;
    FILE *f;
    int err;
};

static void file_append(ProtobufCBuffer *pb, size_t len, const uint8_t *data) {
    struct file_buffer *fb = (struct file_buffer *)pb;
    if (!fb->err && len && fwrite(data, 1, len, fb->f) != len) fb->err = errno ? errno : EIO;
}

int ia_onnx_builder_write(const struct ia_onnx_builder *b, const char *path) {
    size_t n = protobuf_c_message_get_packed_size(&b->model.base);
    if ((uint64_t)n > IA_ONNX_MAX_FILE_BYTES)
        return ia_error_set(IA_ERANGE, "%s: model is %zu bytes, over the 2 GiB protobuf limit",
                            path, n);
    size_t plen = strlen(path);
    char *tmp = ia_malloc(plen + 16);
    if (!tmp) return ia_error_set(IA_ENOMEM, "out of memory");
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp.XXXXXX", 12);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        int e = errno;
        ia_free(tmp);
        return ia_error_set(e == ENOSPC ? IA_ENOSPC : IA_EIO, "%s: %s", path, strerror(e));
    }
    FILE *f = fdopen(fd, "wb");
    if (!f) {
        int e = errno;
        close(fd);
        unlink(tmp);
        ia_free(tmp);
        return ia_error_set(IA_EIO, "%s: %s", path, strerror(e));
    }
    struct file_buffer fb = {.base = {.append = file_append}, .f = f};
    protobuf_c_message_pack_to_buffer(&b->model.base, &fb.base);
    if (fflush(f) != 0 && !fb.err) fb.err = errno;
    if (fclose(f) != 0 && !fb.err) fb.err = errno;
    if (!fb.err && rename(tmp, path) != 0) fb.err = errno;
    int rc = IA_OK;
    if (fb.err) {
        unlink(tmp);
        rc = ia_error_set(fb.err == ENOSPC ? IA_ENOSPC : IA_EIO, "%s: %s", path, strerror(fb.err));
    }
    ia_free(tmp);
    return rc;
}

/* ---- a loaded model back to a file -------------------------------------- */

static int add_values_from(struct ia_onnx_builder *b, struct vec *v,
                           const struct ia_onnx_value *vals, size_t n) {
    for (size_t i = 0; i < n; i++) {
        const struct ia_onnx_value *x = &vals[i];
        if (!x->is_tensor)
            return ia_error_set(IA_EUNSUPPORTED, "value '%.100s': only tensor types can be written",
                                x->name);
        int rc =
            add_value(b, v, x->name, x->onnx_elem_type, x->has_shape ? (int)x->rank : -1, x->dims);
        if (rc) return rc;
    }
    return IA_OK;
}

int ia_onnx_write(const struct ia_model *m, const char *path) {
    struct ia_onnx_builder *b;
    int rc = ia_onnx_builder_create(&b);
    if (rc) return rc;
    const struct ia_onnx_graph *g = &m->graph;
    if (m->n_problems)
        rc = ia_error_set(IA_EINVAL, "model has load problems: %s", m->problems[0].msg);
    if (rc == IA_OK)
        rc = ia_onnx_builder_set_info(b, g->name, m->producer_name, m->producer_version,
                                      m->ir_version);
    if (rc == IA_OK) {
        int r2 = IA_OK;
        b->model.domain = dup_or_null(b, m->domain, &r2);
        b->model.doc_string = dup_or_null(b, m->doc_string, &r2);
        b->model.has_model_version = m->model_version != 0;
        b->model.model_version = m->model_version;
        rc = r2;
    }
    for (size_t i = 0; i < m->n_opsets && rc == IA_OK; i++)
        rc = ia_onnx_builder_add_opset(b, m->opsets[i].domain, m->opsets[i].version);
    for (size_t i = 0; i < m->n_props && rc == IA_OK; i++)
        rc = ia_onnx_builder_add_metadata(b, m->props[i].key, m->props[i].value);
    if (rc == IA_OK) rc = add_values_from(b, &b->inputs, g->inputs, g->n_inputs);
    if (rc == IA_OK) rc = add_values_from(b, &b->outputs, g->outputs, g->n_outputs);
    if (rc == IA_OK) rc = add_values_from(b, &b->value_info, g->value_info, g->n_value_info);
    /* The model outlives the builder here, so tensor bytes are borrowed. */
    for (size_t i = 0; i < g->n_initializers && rc == IA_OK; i++) {
        Onnx__TensorProto *t = NULL;
        rc = tensor_from(b, &g->initializers[i], 0, &t);
        if (rc == IA_OK) rc = vec_push(&b->inits, t);
        sync_fields(b);
    }
    for (size_t i = 0; i < g->n_nodes && rc == IA_OK; i++) rc = add_node(b, &g->nodes[i], 0);
    if (rc == IA_ENOMEM) rc = ia_error_set(IA_ENOMEM, "out of memory");
    if (rc == IA_OK) rc = ia_onnx_builder_write(b, path);
    ia_onnx_builder_destroy(b);
    return rc;
}
