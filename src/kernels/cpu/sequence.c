/*
 * Sequence and optional ops: SequenceEmpty, SequenceConstruct,
 * SequenceInsert, SequenceErase, SequenceAt, SequenceLength,
 * SplitToSequence, ConcatFromSequence, SequenceMap, Optional,
 * OptionalHasElement, OptionalGetElement.
 *
 * Values follow kernels.h: a sequence output is marked in infer
 * (ia_value_set_sequence) and its items are pointed, in compute, at
 * memory valid until compute returns (inputs, scratch); the engine copies
 * them into the value's own block afterwards. So these ops never free
 * anything, and a sequence op costs one copy of the elements it outputs.
 * An optional with a value is that value; an empty one is IA_KIND_NONE.
 */
#include <string.h>

#include "ia/kernels.h"

/* ---- helpers --------------------------------------------------------------- */

static const struct ia_tensor *input(const struct ia_op_ctx *ctx, size_t i) {
    return i < ctx->n_inputs ? ctx->inputs[i] : NULL;
}

static struct ia_tensor *output(const struct ia_op_ctx *ctx, size_t i) {
    return i < ctx->n_outputs ? ctx->outputs[i] : NULL;
}

static int get_seq(struct ia_op_ctx *ctx, size_t i, const struct ia_tensor **out) {
    const struct ia_tensor *s = input(ctx, i);
    if (!s) return ia_op_error(ctx, IA_EINVAL, "input %zu (a sequence) is missing", i);
    if (s->kind != IA_KIND_SEQUENCE)
        return ia_op_error(ctx, IA_EINVAL, "input %zu is %s, not a sequence", i,
                           ia_value_kind_name(s));
    if (s->n_items && !s->items)
        return ia_op_error(ctx, IA_EINTERNAL, "input %zu: a sequence without its items", i);
    *out = s;
    return IA_OK;
}

/* A tensor input; required: missing is an error, else *out may be NULL. */
static int get_tensor(struct ia_op_ctx *ctx, size_t i, int required, const struct ia_tensor **out) {
    const struct ia_tensor *t = input(ctx, i);
    *out = NULL;
    if (!t) return required ? ia_op_error(ctx, IA_EINVAL, "input %zu is missing", i) : IA_OK;
    if (t->kind != IA_KIND_TENSOR)
        return ia_op_error(ctx, IA_EINVAL, "input %zu is %s, not a tensor", i,
                           ia_value_kind_name(t));
    *out = t;
    return IA_OK;
}

/* A position input (scalar int32/int64) against n items: negative counts
 * from the end; the result is in [0, n] with allow_end, else [0, n-1].
 * Absent: dflt. IA_EAGAIN while its value is not known. */
static int get_position(struct ia_op_ctx *ctx, size_t i, int64_t n, int64_t dflt, int allow_end,
                        int64_t *out) {
    const struct ia_tensor *p;
    int rc = get_tensor(ctx, i, 0, &p);
    if (rc) return rc;
    if (!p) {
        *out = dflt;
        return IA_OK;
    }
    if ((p->dtype != IA_DTYPE_INT32 && p->dtype != IA_DTYPE_INT64) || p->numel != 1)
        return ia_op_error(ctx, IA_EINVAL,
                           "position must be one int32 or int64, not %s with %llu "
                           "elements",
                           ia_dtype_name(p->dtype), (unsigned long long)p->numel);
    if (!p->data) return IA_EAGAIN;
    int64_t v = ia_tensor_get_i64(p, 0), hi = allow_end ? n : n - 1;
    if (v < -n || v > hi)
        return ia_op_error(ctx, IA_EINVAL, "position %lld is outside [%lld, %lld]", (long long)v,
                           (long long)-n, (long long)hi);
    *out = v < 0 ? v + n : v;
    return IA_OK;
}

/* Items for an output sequence, in scratch memory (the engine copies them). */
static struct ia_tensor *item_array(struct ia_op_ctx *ctx, size_t n) {
    size_t bytes;
    if (ia_mul_size(n ? n : 1, sizeof(struct ia_tensor), &bytes)) {
        ia_op_error(ctx, IA_ERANGE, "%zu items are too many", n);
        return NULL;
    }
    return ctx->scratch(ctx, bytes);
}

static void set_items(struct ia_tensor *y, struct ia_tensor *items, size_t n) {
    y->items = items;
    y->n_items = n;
}

/* ---- SequenceEmpty / SequenceConstruct / SequenceLength -------------------------- */

static int seq_empty_infer(struct ia_op_ctx *ctx) {
    int64_t p = ia_attr_int(ctx->node, "dtype", 1); /* TensorProto.FLOAT */
    enum ia_dtype dt = ia_onnx_dtype_from_proto((int32_t)p);
    if (dt == IA_DTYPE_UNDEFINED || p != (int32_t)p)
        return ia_op_error(ctx, IA_EUNSUPPORTED, "dtype %lld is not supported", (long long)p);
    if (output(ctx, 0)) ia_value_set_sequence(ctx->outputs[0], dt);
    return IA_OK;
}

static int seq_empty_compute(struct ia_op_ctx *ctx) {
    if (output(ctx, 0)) set_items(ctx->outputs[0], NULL, 0);
    return IA_OK;
}

const struct ia_op_def ia_op_SequenceEmpty = {"", "SequenceEmpty", 11, 0, seq_empty_infer, seq_empty_compute};

static int seq_construct_infer(struct ia_op_ctx *ctx) {
    if (!ctx->n_inputs) return ia_op_error(ctx, IA_EINVAL, "needs at least one input");
    const struct ia_tensor *first = NULL;
    for (size_t i = 0; i < ctx->n_inputs; i++) {
        const struct ia_tensor *t;
        int rc = get_tensor(ctx, i, 1, &t);
        if (rc) return rc;
        if (first && t->dtype != first->dtype)
            return ia_op_error(ctx, IA_EINVAL, "input %zu is %s but input 0 is %s", i,
                               ia_dtype_name(t->dtype), ia_dtype_name(first->dtype));
        if (!first) first = t;
    }
    if (output(ctx, 0)) ia_value_set_sequence(ctx->outputs[0], first->dtype);
    return IA_OK;
}

static int seq_construct_compute(struct ia_op_ctx *ctx) {
    struct ia_tensor *y = output(ctx, 0);
    if (!y) return IA_OK;
    struct ia_tensor *items = item_array(ctx, ctx->n_inputs);
    if (!items) return IA_ENOMEM;
    for (size_t i = 0; i < ctx->n_inputs; i++) items[i] = *ctx->inputs[i];
    set_items(y, items, ctx->n_inputs);
    return IA_OK;
}

const struct ia_op_def ia_op_SequenceConstruct = {"", "SequenceConstruct", 11, 0, seq_construct_infer, seq_construct_compute};

static int seq_length_infer(struct ia_op_ctx *ctx) {
    const struct ia_tensor *s;
    int rc = get_seq(ctx, 0, &s);
    if (rc) return rc;
    return output(ctx, 0) ? ia_tensor_set_shape(ctx->outputs[0], IA_DTYPE_INT64, 0, NULL) : IA_OK;
}

static int seq_length_compute(struct ia_op_ctx *ctx) {
    if (output(ctx, 0)) *(int64_t *)ctx->outputs[0]->data = (int64_t)ctx->inputs[0]->n_items;
    return IA_OK;
}

const struct ia_op_def ia_op_SequenceLength = {"", "SequenceLength", 11, 0, seq_length_infer, seq_length_compute};

/* ---- SequenceInsert / SequenceErase / SequenceAt -------------------------------- */

static int seq_insert_infer(struct ia_op_ctx *ctx) {
    const struct ia_tensor *s, *t;
    int rc = get_seq(ctx, 0, &s);
    if (rc == IA_OK) rc = get_tensor(ctx, 1, 1, &t);
    if (rc) return rc;
    if (s->dtype != IA_DTYPE_UNDEFINED && t->dtype != s->dtype)
        return ia_op_error(ctx, IA_EINVAL, "inserting %s into a sequence of %s",
                           ia_dtype_name(t->dtype), ia_dtype_name(s->dtype));
    int64_t pos;
    rc = get_position(ctx, 2, (int64_t)s->n_items, (int64_t)s->n_items, 1, &pos);
    if (rc) return rc;
    if (output(ctx, 0)) ia_value_set_sequence(ctx->outputs[0], t->dtype);
    return IA_OK;
}

static int seq_insert_compute(struct ia_op_ctx *ctx) {
    const struct ia_tensor *s = ctx->inputs[0], *t = ctx->inputs[1];
    struct ia_tensor *y = output(ctx, 0);
    int64_t pos;
    int rc = get_position(ctx, 2, (int64_t)s->n_items, (int64_t)s->n_items, 1, &pos);
    if (rc || !y) return rc == IA_EAGAIN ? IA_EINTERNAL : rc;
    size_t n = s->n_items, p = (size_t)pos;
    struct ia_tensor *items = item_array(ctx, n + 1);
    if (!items) return IA_ENOMEM;
    if (p) memcpy(items, s->items, p * sizeof *items);
    items[p] = *t;
    if (n > p) memcpy(items + p + 1, s->items + p, (n - p) * sizeof *items);
    set_items(y, items, n + 1);
    return IA_OK;
}

const struct ia_op_def ia_op_SequenceInsert = {"", "SequenceInsert", 11, 0, seq_insert_infer, seq_insert_compute};

static int seq_erase_position(struct ia_op_ctx *ctx, const struct ia_tensor *s, int64_t *pos) {
    int64_t n = (int64_t)s->n_items;
    if (n == 0) return ia_op_error(ctx, IA_EINVAL, "cannot erase from an empty sequence");
    return get_position(ctx, 1, n, n - 1, 0, pos);
}

static int seq_erase_infer(struct ia_op_ctx *ctx) {
    const struct ia_tensor *s;
    int64_t pos;
    int rc = get_seq(ctx, 0, &s);
    if (rc == IA_OK) rc = seq_erase_position(ctx, s, &pos);
    if (rc) return rc;
    if (output(ctx, 0)) ia_value_set_sequence(ctx->outputs[0], s->dtype);
    return IA_OK;
}

static int seq_erase_compute(struct ia_op_ctx *ctx) {
    const struct ia_tensor *s = ctx->inputs[0];
    struct ia_tensor *y = output(ctx, 0);
    int64_t pos;
    int rc = seq_erase_position(ctx, s, &pos);
    if (rc || !y) return rc == IA_EAGAIN ? IA_EINTERNAL : rc;
    size_t n = s->n_items, p = (size_t)pos;
    struct ia_tensor *items = item_array(ctx, n - 1);
    if (!items) return IA_ENOMEM;
    if (p) memcpy(items, s->items, p * sizeof *items);
    if (n - 1 > p) memcpy(items + p, s->items + p + 1, (n - 1 - p) * sizeof *items);
    set_items(y, items, n - 1);
    return IA_OK;
}

const struct ia_op_def ia_op_SequenceErase = {"", "SequenceErase", 11, 0, seq_erase_infer, seq_erase_compute};

static int seq_at_item(struct ia_op_ctx *ctx, const struct ia_tensor **item) {
    const struct ia_tensor *s;
    int64_t pos;
    int rc = get_seq(ctx, 0, &s);
    if (rc) return rc;
    if (!input(ctx, 1)) return ia_op_error(ctx, IA_EINVAL, "input 1 (position) is missing");
    rc = get_position(ctx, 1, (int64_t)s->n_items, 0, 0, &pos);
    if (rc) return rc;
    *item = &s->items[pos];
    return IA_OK;
}

static int seq_at_infer(struct ia_op_ctx *ctx) {
    const struct ia_tensor *it;
    int rc = seq_at_item(ctx, &it);
    if (rc) return rc;
    return output(ctx, 0) ? ia_tensor_set_shape(ctx->outputs[0], it->dtype, it->rank, it->dims)
                          : IA_OK;
}

static int seq_at_compute(struct ia_op_ctx *ctx) {
    const struct ia_tensor *it;
    int rc = seq_at_item(ctx, &it);
    if (rc) return rc;
    ia_value_copy(output(ctx, 0), it);
    return IA_OK;
}

const struct ia_op_def ia_op_SequenceAt = {"", "SequenceAt", 11, 0, seq_at_infer, seq_at_compute};

/* ---- SplitToSequence ---------------------------------------------------------- */

/* The chunk lengths along the axis, in scratch: from the split input (a
 * scalar: equal chunks, the last one shorter; 1-D: the lengths, summing to
 * the dim) or, without one, all 1 (keepdims then decides whether the axis
 * stays). */
struct split_plan {
    int axis;
    int squeeze;
    size_t n;
    int64_t *len;
};

static int split_plan(struct ia_op_ctx *ctx, struct split_plan *sp, int need_values) {
    const struct ia_tensor *x, *split;
    int rc = get_tensor(ctx, 0, 1, &x);
    if (rc == IA_OK) rc = get_tensor(ctx, 1, 0, &split);
    if (rc == IA_OK) rc = ia_norm_axis(ctx, ia_attr_int(ctx->node, "axis", 0), x->rank, &sp->axis);
    if (rc) return rc;
    if (x->rank == 0) return ia_op_error(ctx, IA_EINVAL, "cannot split a scalar");
    int64_t dim = x->dims[sp->axis];
    sp->squeeze = !split && ia_attr_int(ctx->node, "keepdims", 1) == 0;
    sp->n = 0;
    sp->len = NULL;
    if (!need_values) return IA_OK;
    if (split && split->dtype != IA_DTYPE_INT32 && split->dtype != IA_DTYPE_INT64)
        return ia_op_error(ctx, IA_EINVAL, "split must be int32 or int64, not %s",
                           ia_dtype_name(split->dtype));
    if (split && split->numel && !split->data) return IA_EAGAIN;
    if (!split || (split->rank == 0 && split->numel == 1)) {
        int64_t chunk = split ? ia_tensor_get_i64(split, 0) : 1;
        if (chunk <= 0 && dim > 0)
            return ia_op_error(ctx, IA_EINVAL, "split %lld must be positive", (long long)chunk);
        uint64_t n = dim > 0 ? (uint64_t)((dim + chunk - 1) / chunk) : 0;
        sp->len = ctx->scratch(ctx, (size_t)(n ? n : 1) * sizeof *sp->len);
        if (!sp->len) return IA_ENOMEM;
        for (uint64_t i = 0; i < n; i++)
            sp->len[i] = (int64_t)i == (int64_t)n - 1 ? dim - (int64_t)i * chunk : chunk;
        sp->n = (size_t)n;
        return IA_OK;
    }
    if (split->rank != 1)
        return ia_op_error(ctx, IA_EINVAL, "split must be a scalar or 1-D, not rank %d",
                           split->rank);
    sp->len = ctx->scratch(ctx, (size_t)(split->numel ? split->numel : 1) * sizeof *sp->len);
    if (!sp->len) return IA_ENOMEM;
    int64_t sum = 0;
    for (uint64_t i = 0; i < split->numel; i++) {
        int64_t v = ia_tensor_get_i64(split, i);
        if (v < 0 || v > dim - sum)
            return ia_op_error(ctx, IA_EINVAL, "split lengths do not sum to the axis' %lld",
                               (long long)dim);
        sp->len[i] = v;
        sum += v;
    }
    if (sum != dim)
        return ia_op_error(ctx, IA_EINVAL, "split lengths sum to %lld, the axis is %lld",
                           (long long)sum, (long long)dim);
    sp->n = (size_t)split->numel;
    return IA_OK;
}

static int split_to_seq_infer(struct ia_op_ctx *ctx) {
    struct split_plan sp;
    int rc = split_plan(ctx, &sp, 0);
    if (rc) return rc;
    if (output(ctx, 0)) ia_value_set_sequence(ctx->outputs[0], ctx->inputs[0]->dtype);
    return IA_OK;
}

static int split_to_seq_compute(struct ia_op_ctx *ctx) {
    struct split_plan sp;
    int rc = split_plan(ctx, &sp, 1);
    struct ia_tensor *y = output(ctx, 0);
    if (rc || !y) return rc == IA_EAGAIN ? IA_EINTERNAL : rc;
    const struct ia_tensor *x = ctx->inputs[0];
    struct ia_tensor *items = item_array(ctx, sp.n);
    if (!items) return IA_ENOMEM;
    /* x as [outer, dim, inner]: each chunk is outer runs of len*inner bytes. */
    uint64_t outer = 1, inner = x->numel ? x->nbytes / x->numel : 0;
    for (int d = 0; d < sp.axis; d++) outer *= (uint64_t)x->dims[d];
    for (int d = sp.axis + 1; d < x->rank; d++) inner *= (uint64_t)x->dims[d];
    uint64_t dim = (uint64_t)x->dims[sp.axis];
    const uint8_t *src =
        x->dtype == IA_DTYPE_STRING && x->strings ? (const void *)x->strings : x->data;
    int64_t start = 0;
    for (size_t j = 0; j < sp.n; j++) {
        struct ia_tensor *it = &items[j];
        memset(it, 0, sizeof *it);
        int64_t dims[IA_MAX_RANK];
        int r = 0;
        for (int d = 0; d < x->rank; d++) {
            if (d == sp.axis && sp.squeeze) continue;
            dims[r++] = d == sp.axis ? sp.len[j] : x->dims[d];
        }
        rc = ia_tensor_set_shape(it, x->dtype, r, dims);
        if (rc) return rc;
        it->data = ctx->scratch(ctx, it->nbytes ? (size_t)it->nbytes : 1);
        if (!it->data) return IA_ENOMEM;
        if (x->dtype == IA_DTYPE_STRING) it->strings = it->data;
        uint64_t run = (uint64_t)sp.len[j] * inner;
        for (uint64_t o = 0; run && o < outer; o++)
            memcpy((uint8_t *)it->data + o * run, src + (o * dim + (uint64_t)start) * inner,
                   (size_t)run);
        start += sp.len[j];
    }
    set_items(y, items, sp.n);
    return IA_OK;
}

const struct ia_op_def ia_op_SplitToSequence = {"", "SplitToSequence", 11, 0, split_to_seq_infer, split_to_seq_compute};

/* ---- ConcatFromSequence ----------------------------------------------------------- */

/* Output shape; *axis is normalised against the output's rank. */
static int concat_seq_shape(struct ia_op_ctx *ctx, int *axis, int *rank, int64_t *dims) {
    const struct ia_tensor *s;
    int rc = get_seq(ctx, 0, &s);
    if (rc) return rc;
    const struct ia_onnx_attr *a = ia_attr_find(ctx->node, "axis");
    if (!a) return ia_op_error(ctx, IA_EINVAL, "attribute 'axis' is required");
    int new_axis = ia_attr_int(ctx->node, "new_axis", 0) != 0;
    if (!s->n_items) return ia_op_error(ctx, IA_EINVAL, "cannot concatenate an empty sequence");
    const struct ia_tensor *t0 = &s->items[0];
    int r = t0->rank + new_axis;
    if (r > IA_MAX_RANK || (r == 0))
        return ia_op_error(ctx, IA_EINVAL, "cannot concatenate items of rank %d%s", t0->rank,
                           new_axis ? "" : " (scalars need new_axis=1)");
    rc = ia_norm_axis(ctx, ia_attr_int(ctx->node, "axis", 0), r, axis);
    if (rc) return rc;
    int64_t total = 0;
    for (size_t i = 0; i < s->n_items; i++) {
        const struct ia_tensor *t = &s->items[i];
        int same = t->dtype == t0->dtype && t->rank == t0->rank;
        for (int d = 0; same && d < t->rank; d++)
            if (t->dims[d] != t0->dims[d] && (new_axis || d != *axis)) same = 0;
        if (!same) {
            char x[96], y[96];
            return ia_op_error(ctx, IA_EINVAL, "item %zu is %s, item 0 %s", i,
                               ia_tensor_describe(t, x, sizeof x),
                               ia_tensor_describe(t0, y, sizeof y));
        }
        if (!new_axis) total += t->dims[*axis];
    }
    for (int d = 0, k = 0; d < r; d++) {
        if (new_axis && d == *axis)
            dims[d] = (int64_t)s->n_items;
        else
            dims[d] = t0->dims[k++];
    }
    if (!new_axis) dims[*axis] = total;
    *rank = r;
    return IA_OK;
}

static int concat_seq_infer(struct ia_op_ctx *ctx) {
    int axis, rank;
    int64_t dims[IA_MAX_RANK];
    int rc = concat_seq_shape(ctx, &axis, &rank, dims);
    if (rc) return rc;
    return output(ctx, 0)
               ? ia_tensor_set_shape(ctx->outputs[0], ctx->inputs[0]->items[0].dtype, rank, dims)
               : IA_OK;
}

static int concat_seq_compute(struct ia_op_ctx *ctx) {
    int axis, rank;
    int64_t dims[IA_MAX_RANK];
    int rc = concat_seq_shape(ctx, &axis, &rank, dims);
    struct ia_tensor *y = output(ctx, 0);
    if (rc || !y) return rc;
    const struct ia_tensor *s = ctx->inputs[0];
    /* Output as [outer, ..., inner]: item i adds a run of its own bytes per
     * outer index. */
    uint64_t outer = 1;
    for (int d = 0; d < axis; d++) outer *= (uint64_t)dims[d];
    uint8_t *dst = y->data;
    for (uint64_t o = 0; o < outer; o++) {
        for (size_t i = 0; i < s->n_items; i++) {
            const struct ia_tensor *t = &s->items[i];
            uint64_t run = outer ? t->nbytes / outer : 0;
            const uint8_t *src = t->dtype == IA_DTYPE_STRING && t->strings
                                     ? (const uint8_t *)t->strings
                                     : (const uint8_t *)t->data;
            if (run) memcpy(dst, src + o * run, (size_t)run);
            dst += run;
        }
    }
    return IA_OK;
}

const struct ia_op_def ia_op_ConcatFromSequence = {"", "ConcatFromSequence", 11, 0, concat_seq_infer, concat_seq_compute};

/* ---- SequenceMap ---------------------------------------------------------------- */

/* Each body output per iteration, copied into scratch: the body's own
 * values last only two run_subgraph calls. */
struct map_state {
    size_t n_out, n;
    struct ia_tensor **items; /* [n_out][n] */
};

static struct ia_tensor *scratch_clone(struct ia_op_ctx *ctx, const struct ia_tensor *t,
                                       struct ia_tensor *c) {
    *c = *t;
    c->name = NULL;
    c->data = ctx->scratch(ctx, t->nbytes ? (size_t)t->nbytes : 1);
    if (!c->data) return NULL;
    c->strings = NULL;
    if (t->dtype != IA_DTYPE_STRING) {
        if (t->nbytes) memcpy(c->data, t->data, (size_t)t->nbytes);
        return c;
    }
    const struct ia_onnx_bytes *s = t->strings ? t->strings : t->data;
    struct ia_onnx_bytes *d = c->data;
    for (uint64_t k = 0; k < t->numel; k++) {
        d[k].len = s[k].len;
        d[k].data = NULL;
        if (!s[k].len) continue;
        uint8_t *b = ctx->scratch(ctx, s[k].len);
        if (!b) return NULL;
        memcpy(b, s[k].data, s[k].len);
        d[k].data = b;
    }
    c->strings = d;
    return c;
}

static int seq_map_infer(struct ia_op_ctx *ctx) {
    const struct ia_tensor *s0;
    int rc = get_seq(ctx, 0, &s0);
    if (rc) return rc;
    if (!ctx->run_subgraph) return IA_EAGAIN;
    const struct ia_onnx_attr *a = ia_attr_find(ctx->node, "body");
    if (!a || a->type != IA_ONNX_ATTR_GRAPH || !a->g)
        return ia_op_error(ctx, IA_EINVAL, "attribute 'body' (a graph) is missing");
    const struct ia_onnx_graph *body = a->g;
    if (body->n_inputs != ctx->n_inputs || body->n_outputs != ctx->n_outputs)
        return ia_op_error(ctx, IA_EINVAL,
                           "the body takes %zu inputs and gives %zu outputs; the "
                           "node has %zu and %zu",
                           body->n_inputs, body->n_outputs, ctx->n_inputs, ctx->n_outputs);
    size_t n = s0->n_items, n_in = ctx->n_inputs, n_out = ctx->n_outputs;
    for (size_t j = 1; j < n_in; j++) {
        const struct ia_tensor *x = ctx->inputs[j];
        if (!x) return ia_op_error(ctx, IA_EINVAL, "input %zu is missing", j);
        if (x->kind == IA_KIND_SEQUENCE && x->n_items != n)
            return ia_op_error(ctx, IA_EINVAL, "input %zu has %zu items, input 0 %zu", j,
                               x->n_items, n);
        if (x->kind == IA_KIND_NONE)
            return ia_op_error(ctx, IA_EINVAL, "input %zu is an empty optional", j);
    }
    struct map_state *st = ctx->scratch(ctx, sizeof *st);
    const struct ia_tensor **in = ctx->scratch(ctx, (n_in ? n_in : 1) * sizeof *in);
    struct ia_tensor **out = ctx->scratch(ctx, (n_out ? n_out : 1) * sizeof *out);
    if (!st || !in || !out) return IA_ENOMEM;
    st->n_out = n_out;
    st->n = n;
    st->items = ctx->scratch(ctx, (n_out ? n_out : 1) * sizeof *st->items);
    if (!st->items) return IA_ENOMEM;
    for (size_t k = 0; k < n_out; k++) {
        st->items[k] = item_array(ctx, n);
        if (!st->items[k]) return IA_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < n_in; j++) {
            const struct ia_tensor *x = ctx->inputs[j];
            in[j] = x->kind == IA_KIND_SEQUENCE ? &x->items[i] : x;
        }
        rc = ctx->run_subgraph(ctx, body, n_in, in, n_out, out);
        if (rc) return rc;
        for (size_t k = 0; k < n_out; k++) {
            if (out[k]->kind != IA_KIND_TENSOR || out[k]->dtype == IA_DTYPE_UNDEFINED)
                return ia_op_error(ctx, IA_EINVAL, "body output %zu is %s, not a tensor", k,
                                   ia_value_kind_name(out[k]));
            if (i && out[k]->dtype != st->items[k][0].dtype)
                return ia_op_error(ctx, IA_EINVAL, "body output %zu changes type", k);
            if (!scratch_clone(ctx, out[k], &st->items[k][i])) return IA_ENOMEM;
        }
    }
    for (size_t k = 0; k < n_out; k++) {
        if (!ctx->outputs[k]) continue;
        const struct ia_onnx_value *d = &body->outputs[k];
        enum ia_dtype dt = n                                ? st->items[k][0].dtype
                           : d->dtype != IA_DTYPE_UNDEFINED ? d->dtype
                                                            : IA_DTYPE_FLOAT32;
        ia_value_set_sequence(ctx->outputs[k], dt);
    }
    ctx->op_state = st;
    return IA_OK;
}

static int seq_map_compute(struct ia_op_ctx *ctx) {
    const struct map_state *st = ctx->op_state;
    if (!st) return ia_op_error(ctx, IA_EINTERNAL, "compute without a successful infer");
    for (size_t k = 0; k < st->n_out && k < ctx->n_outputs; k++)
        if (ctx->outputs[k]) set_items(ctx->outputs[k], st->items[k], st->n);
    return IA_OK;
}

const struct ia_op_def ia_op_SequenceMap = {"", "SequenceMap", 17, 0, seq_map_infer, seq_map_compute};

/* ---- Optional / OptionalHasElement / OptionalGetElement --------------------------- */

static int optional_infer(struct ia_op_ctx *ctx) {
    const struct ia_tensor *x = input(ctx, 0);
    struct ia_tensor *y = output(ctx, 0);
    if (!y) return IA_OK;
    if (!x) {
        if (!ia_attr_find(ctx->node, "type"))
            return ia_op_error(ctx, IA_EINVAL, "without an input, attribute 'type' is required");
        ia_value_set_none(y);
        return IA_OK;
    }
    return ia_value_infer_like(y, x);
}

static int optional_compute(struct ia_op_ctx *ctx) {
    const struct ia_tensor *x = input(ctx, 0);
    if (x) ia_value_copy(output(ctx, 0), x);
    return IA_OK;
}

const struct ia_op_def ia_op_Optional = {"", "Optional", 15, 0, optional_infer, optional_compute};

static int has_element_infer(struct ia_op_ctx *ctx) {
    return output(ctx, 0) ? ia_tensor_set_shape(ctx->outputs[0], IA_DTYPE_BOOL, 0, NULL) : IA_OK;
}

static int has_element_compute(struct ia_op_ctx *ctx) {
    const struct ia_tensor *x = input(ctx, 0);
    struct ia_tensor *y = output(ctx, 0);
    if (y) *(uint8_t *)y->data = x && x->kind != IA_KIND_NONE;
    return IA_OK;
}

const struct ia_op_def ia_op_OptionalHasElement = {"", "OptionalHasElement", 15, 0, has_element_infer, has_element_compute};

static int get_element_infer(struct ia_op_ctx *ctx) {
    const struct ia_tensor *x = input(ctx, 0);
    if (!x) return ia_op_error(ctx, IA_EINVAL, "input 0 is missing");
    if (x->kind == IA_KIND_NONE)
        return ia_op_error(ctx, IA_EINVAL, "the optional input '%s' has no value",
                           x->name ? x->name : "");
    return output(ctx, 0) ? ia_value_infer_like(ctx->outputs[0], x) : IA_OK;
}

static int get_element_compute(struct ia_op_ctx *ctx) {
    ia_value_copy(output(ctx, 0), ctx->inputs[0]);
    return IA_OK;
}

const struct ia_op_def ia_op_OptionalGetElement = {"", "OptionalGetElement", 15, 0, get_element_infer, get_element_compute};
