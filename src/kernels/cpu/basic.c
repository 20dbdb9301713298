/* Small ops every graph leans on: Identity (also of sequences and
 * optionals), Constant (all value_* forms), Shape (with start/end from
 * opset 15) and Size. */
#include <string.h>

#include "ia/kernels.h"

/* ---- Identity -------------------------------------------------------------- */

static int identity_infer(struct ia_op_ctx *ctx) {
    const struct ia_tensor *x = ctx->n_inputs ? ctx->inputs[0] : NULL;
    struct ia_tensor *y = ctx->n_outputs ? ctx->outputs[0] : NULL;
    if (!x) return ia_op_error(ctx, IA_EINVAL, "needs one input");
    if (!y) return IA_OK;
    /* Sequences and optionals pass through as they are (kernels.h). */
    return ia_value_infer_like(y, x);
}

static int identity_compute(struct ia_op_ctx *ctx) {
    const struct ia_tensor *x = ctx->inputs[0];
    struct ia_tensor *y = ctx->outputs[0];
    if (!y) return IA_OK;
    if (x->kind != IA_KIND_TENSOR) {
        ia_value_copy(y, x);
        return IA_OK;
    }
    if (x->dtype == IA_DTYPE_STRING) {
        const struct ia_onnx_bytes *s = x->strings ? x->strings : x->data;
        struct ia_onnx_bytes *d = y->data;
        for (uint64_t i = 0; i < x->numel; i++) d[i] = s[i]; /* the engine copies the bytes */
        return IA_OK;
    }
    if (x->nbytes && y->data != x->data) memmove(y->data, x->data, (size_t)x->nbytes);
    return IA_OK;
}

const struct ia_op_def ia_op_Identity = {"", "Identity", 1, 0, identity_infer, identity_compute};

/* ---- Constant ---------------------------------------------------------------- */

/* Which attribute holds the value, and its shape. */
static int constant_attr(struct ia_op_ctx *ctx, const struct ia_onnx_attr **out) {
    static const char *const names[] = {"value",         "value_float", "value_floats",
                                        "value_int",     "value_ints",  "value_string",
                                        "value_strings", "sparse_value"};
    const struct ia_onnx_attr *found = NULL;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const struct ia_onnx_attr *a = ia_attr_find(ctx->node, names[i]);
        if (!a) continue;
        if (found) return ia_op_error(ctx, IA_EINVAL, "has more than one value attribute");
        found = a;
    }
    if (!found) return ia_op_error(ctx, IA_EINVAL, "has no value attribute");
    if (!strcmp(found->name, "sparse_value"))
        return ia_op_error(ctx, IA_EUNSUPPORTED, "sparse_value is not supported");
    *out = found;
    return IA_OK;
}

static int constant_infer(struct ia_op_ctx *ctx) {
    const struct ia_onnx_attr *a;
    int rc = constant_attr(ctx, &a);
    if (rc) return rc;
    struct ia_tensor *y = ctx->n_outputs ? ctx->outputs[0] : NULL;
    if (!y) return IA_OK;
    int64_t n1 = (int64_t)a->n;
    switch (a->type) {
    case IA_ONNX_ATTR_TENSOR: {
        const struct ia_onnx_tensor *t = a->t;
        if (!t) return ia_op_error(ctx, IA_EINVAL, "value has no tensor");
        if (t->problem) return ia_op_error(ctx, IA_EFORMAT, "value: %s", t->problem);
        if (t->dtype == IA_DTYPE_UNDEFINED)
            return ia_op_error(ctx, IA_EUNSUPPORTED, "value has data type %d (%s), not supported",
                               (int)t->onnx_type, ia_onnx_proto_type_name(t->onnx_type));
        if (t->rank > IA_MAX_RANK)
            return ia_op_error(ctx, IA_EUNSUPPORTED, "value has rank %zu", t->rank);
        return ia_tensor_set_shape(y, t->dtype, (int)t->rank, t->dims);
    }
    case IA_ONNX_ATTR_FLOAT:
        return ia_tensor_set_shape(y, IA_DTYPE_FLOAT32, 0, NULL);
    case IA_ONNX_ATTR_INT:
        return ia_tensor_set_shape(y, IA_DTYPE_INT64, 0, NULL);
    case IA_ONNX_ATTR_STRING:
        return ia_tensor_set_shape(y, IA_DTYPE_STRING, 0, NULL);
    case IA_ONNX_ATTR_FLOATS:
        return ia_tensor_set_shape(y, IA_DTYPE_FLOAT32, 1, &n1);
    case IA_ONNX_ATTR_INTS:
        return ia_tensor_set_shape(y, IA_DTYPE_INT64, 1, &n1);
    case IA_ONNX_ATTR_STRINGS:
        return ia_tensor_set_shape(y, IA_DTYPE_STRING, 1, &n1);
    default:
        return ia_op_error(ctx, IA_EINVAL, "attribute '%s' has the wrong type", a->name);
    }
}

static int constant_compute(struct ia_op_ctx *ctx) {
    const struct ia_onnx_attr *a;
    int rc = constant_attr(ctx, &a);
    if (rc) return rc;
    struct ia_tensor *y = ctx->outputs[0];
    if (!y) return IA_OK;
    struct ia_onnx_bytes *sd = y->data;
    switch (a->type) {
    case IA_ONNX_ATTR_TENSOR:
        if (a->t->dtype == IA_DTYPE_STRING) {
            for (uint64_t i = 0; i < y->numel && i < a->t->n_strings; i++) sd[i] = a->t->strings[i];
        } else if (y->nbytes) {
            if (!a->t->data || a->t->nbytes != y->nbytes)
                return ia_op_error(ctx, IA_EFORMAT, "value tensor has no data");
            memcpy(y->data, a->t->data, (size_t)y->nbytes);
        }
        return IA_OK;
    case IA_ONNX_ATTR_FLOAT:
        *(float *)y->data = a->f;
        return IA_OK;
    case IA_ONNX_ATTR_INT:
        *(int64_t *)y->data = a->i;
        return IA_OK;
    case IA_ONNX_ATTR_STRING:
        sd[0] = a->s;
        return IA_OK;
    case IA_ONNX_ATTR_FLOATS:
        if (a->n) memcpy(y->data, a->floats, a->n * sizeof(float));
        return IA_OK;
    case IA_ONNX_ATTR_INTS:
        if (a->n) memcpy(y->data, a->ints, a->n * sizeof(int64_t));
        return IA_OK;
    case IA_ONNX_ATTR_STRINGS:
        for (size_t i = 0; i < a->n; i++) sd[i] = a->strings[i];
        return IA_OK;
    default:
        return ia_op_error(ctx, IA_EINVAL, "attribute '%s' has the wrong type", a->name);
    }
}

const struct ia_op_def ia_op_Constant = {"", "Constant", 1, 0, constant_infer, constant_compute};

/* ---- Shape / Size -------------------------------------------------------------- */

/* [start, end) of the dims Shape reports, clamped as opset 15 says. */
static void shape_range(const struct ia_op_ctx *ctx, int rank, int64_t *start, int64_t *end) {
    int64_t s = ia_attr_int(ctx->node, "start", 0), e = ia_attr_int(ctx->node, "end", rank);
    if (s < 0) s += rank;
    if (e < 0) e += rank;
    if (s < 0) s = 0;
    if (s > rank) s = rank;
    if (e < 0) e = 0;
    if (e > rank) e = rank;
    *start = s;
    *end = e < s ? s : e;
}

static int shape_infer(struct ia_op_ctx *ctx) {
    const struct ia_tensor *x = ctx->n_inputs ? ctx->inputs[0] : NULL;
    if (!x) return ia_op_error(ctx, IA_EINVAL, "needs one input");
    int64_t s, e;
    shape_range(ctx, x->rank, &s, &e);
    int64_t n = e - s;
    return ctx->outputs[0] ? ia_tensor_set_shape(ctx->outputs[0], IA_DTYPE_INT64, 1, &n) : IA_OK;
}

static int shape_compute(struct ia_op_ctx *ctx) {
    const struct ia_tensor *x = ctx->inputs[0];
    int64_t s, e;
    shape_range(ctx, x->rank, &s, &e);
    int64_t *y = ctx->outputs[0] ? ctx->outputs[0]->data : NULL;
    for (int64_t i = s; y && i < e; i++) y[i - s] = x->dims[i];
    return IA_OK;
}

const struct ia_op_def ia_op_Shape = {"", "Shape", 1, 0, shape_infer, shape_compute};

static int size_infer(struct ia_op_ctx *ctx) {
    if (!ctx->n_inputs || !ctx->inputs[0]) return ia_op_error(ctx, IA_EINVAL, "needs one input");
    return ctx->outputs[0] ? ia_tensor_set_shape(ctx->outputs[0], IA_DTYPE_INT64, 0, NULL) : IA_OK;
}

static int size_compute(struct ia_op_ctx *ctx) {
    if (ctx->outputs[0]) *(int64_t *)ctx->outputs[0]->data = (int64_t)ctx->inputs[0]->numel;
    return IA_OK;
}

const struct ia_op_def ia_op_Size = {"", "Size", 1, 0, size_infer, size_compute};
