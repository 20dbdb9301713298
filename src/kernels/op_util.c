/* Attribute lookup, error messages and broadcasting shared by kernels. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ia/kernels.h"

const struct ia_onnx_attr *ia_attr_find(const struct ia_onnx_node *n, const char *name) {
    for (size_t i = 0; i < n->n_attrs; i++)
        if (strcmp(n->attrs[i].name, name) == 0) return &n->attrs[i];
    return NULL;
}

int64_t ia_attr_int(const struct ia_onnx_node *n, const char *name, int64_t dflt) {
    const struct ia_onnx_attr *a = ia_attr_find(n, name);
    return a && a->type == IA_ONNX_ATTR_INT ? a->i : dflt;
}

float ia_attr_float(const struct ia_onnx_node *n, const char *name, float dflt) {
    const struct ia_onnx_attr *a = ia_attr_find(n, name);
    return a && a->type == IA_ONNX_ATTR_FLOAT ? a->f : dflt;
}

const char *ia_attr_string(const struct ia_onnx_node *n, const char *name, char *buf,
                           size_t cap, const char *dflt) {
    const struct ia_onnx_attr *a = ia_attr_find(n, name);
    if (!a || a->type != IA_ONNX_ATTR_STRING || cap == 0) return dflt;
    size_t len = a->s.len < cap - 1 ? a->s.len : cap - 1;
    if (len) memcpy(buf, a->s.data, len);
    buf[len] = '\0';
    return buf;
}

size_t ia_attr_ints(const struct ia_onnx_node *n, const char *name, const int64_t **out) {
    const struct ia_onnx_attr *a = ia_attr_find(n, name);
    if (!a || a->type != IA_ONNX_ATTR_INTS) {
        *out = NULL;
        return 0;
    }
    *out = a->ints;
    return a->n;
}

size_t ia_attr_floats(const struct ia_onnx_node *n, const char *name, const float **out) {
    const struct ia_onnx_attr *a = ia_attr_find(n, name);
    if (!a || a->type != IA_ONNX_ATTR_FLOATS) {
        *out = NULL;
        return 0;
    }
    *out = a->floats;
    return a->n;
}

int ia_op_error(const struct ia_op_ctx *ctx, int rc, const char *fmt, ...) {
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const struct ia_onnx_node *n = ctx->node;
    if (n && n->name && n->name[0])
        return ia_error_set(rc, "%s node '%s': %s", n->op_type, n->name, msg);
    return ia_error_set(rc, "%s node: %s", n ? n->op_type : "?", msg);
}

int ia_broadcast_shapes(const struct ia_op_ctx *ctx, const struct ia_tensor *a,
                        const struct ia_tensor *b, int *out_rank, int64_t *out_dims) {
    int r = a->rank > b->rank ? a->rank : b->rank;
    for (int i = 0; i < r; i++) {
        int ia_ = i - (r - a->rank), ib = i - (r - b->rank);
        int64_t da = ia_ >= 0 ? a->dims[ia_] : 1, db = ib >= 0 ? b->dims[ib] : 1;
        if (da != db && da != 1 && db != 1) {
            char sa[128], sb[128];
            return ia_op_error(ctx, IA_EINVAL, "shapes %s and %s do not broadcast",
                               ia_tensor_describe(a, sa, sizeof sa),
                               ia_tensor_describe(b, sb, sizeof sb));
        }
        out_dims[i] = da == 1 ? db : da;
    }
    *out_rank = r;
    return IA_OK;
}

int ia_norm_axis(const struct ia_op_ctx *ctx, int64_t axis, int rank, int *out) {
    if (axis < -(int64_t)rank || axis >= (int64_t)(rank ? rank : 1)) {
        if (!(rank == 0 && (axis == 0 || axis == -1)))
            return ia_op_error(ctx, IA_EINVAL, "axis %lld is outside rank %d", (long long)axis,
                               rank);
    }
    *out = (int)(axis < 0 ? axis + rank : axis);
    return IA_OK;
}
