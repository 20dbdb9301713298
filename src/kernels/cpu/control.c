/*
 * Control flow: If, Loop and Scan, through ctx->run_subgraph. If's
 * branches and Loop's carried values may be sequences or optionals
 * (kernels.h); scan outputs are tensors.
 *
 * Their output shapes are known only once the bodies have run, so infer
 * does the work when the engine can run subgraphs and the inputs it needs
 * are known (else IA_EAGAIN: the node is dynamic), keeps the results in
 * ctx->op_state (scratch memory), and sets the output shapes; compute then
 * copies the results into the engine's output buffers. Outside an engine
 * (no run_subgraph) both refuse with IA_EAGAIN / IA_EUNSUPPORTED.
 */
#include <string.h>

#include "ia/kernels.h"

/* Element size for copying: STRING tensors hold (ptr, len) entries whose
 * bytes the engine copies after compute. */
static size_t elem_size(enum ia_dtype t) {
    return t == IA_DTYPE_STRING ? sizeof(struct ia_onnx_bytes) : ia_dtype_size(t);
}

static const struct ia_onnx_graph *graph_attr(struct ia_op_ctx *ctx, const char *name) {
    const struct ia_onnx_attr *a = ia_attr_find(ctx->node, name);
    if (!a || a->type != IA_ONNX_ATTR_GRAPH || !a->g) {
        ia_op_error(ctx, IA_EINVAL, "attribute '%s' (a graph) is missing", name);
        return NULL;
    }
    return a->g;
}

/* Copies src's shape and data into dst (allocated by the engine with the
 * same shape). */
static void copy_tensor(struct ia_tensor *dst, const struct ia_tensor *src) {
    if (!dst) return;
    if (src->kind != IA_KIND_TENSOR) {
        ia_value_copy(dst, src); /* a sequence's items: the engine copies them */
        return;
    }
    size_t n = (size_t)src->numel * elem_size(src->dtype);
    const void *from =
        src->dtype == IA_DTYPE_STRING && src->strings ? (const void *)src->strings : src->data;
    if (n && dst->data != from) memmove(dst->data, from, n);
}

/* Results kept from infer for compute: one tensor (shape + data) per output. */
struct results {
    size_t n;
    const struct ia_tensor **t;
};

static int keep_results(struct ia_op_ctx *ctx, size_t n, const struct ia_tensor *const *src) {
    struct results *r = ctx->scratch(ctx, sizeof *r + (n ? n : 1) * sizeof *r->t);
    if (!r) return IA_ENOMEM;
    r->n = n;
    r->t = (const struct ia_tensor **)(r + 1);
    for (size_t i = 0; i < n; i++) r->t[i] = src[i];
    ctx->op_state = r;
    return IA_OK;
}

static int set_outputs_like(struct ia_op_ctx *ctx, size_t n, const struct ia_tensor *const *src) {
    if (n != ctx->n_outputs)
        return ia_op_error(ctx, IA_EINVAL, "the body gives %zu outputs for %zu", n, ctx->n_outputs);
    for (size_t i = 0; i < n; i++) {
        if (!ctx->outputs[i]) continue;
        if (src[i]->kind == IA_KIND_TENSOR && src[i]->dtype == IA_DTYPE_UNDEFINED)
            return ia_op_error(ctx, IA_EINVAL, "output %zu has no value", i);
        int rc = ia_value_infer_like(ctx->outputs[i], src[i]);
        if (rc) return rc;
    }
    return keep_results(ctx, n, src);
}

static int copy_results(struct ia_op_ctx *ctx) {
    const struct results *r = ctx->op_state;
    if (!r) return ia_op_error(ctx, IA_EINTERNAL, "compute without a successful infer");
    for (size_t i = 0; i < r->n && i < ctx->n_outputs; i++) copy_tensor(ctx->outputs[i], r->t[i]);
    return IA_OK;
}

/* A tensor owned by scratch memory with the given shape. */
static struct ia_tensor *scratch_tensor(struct ia_op_ctx *ctx, enum ia_dtype dt, int rank,
                                        const int64_t *dims) {
    struct ia_tensor *t = ctx->scratch(ctx, sizeof *t);
    if (!t) return NULL;
    memset(t, 0, sizeof *t);
    if (ia_tensor_set_shape(t, dt, rank, dims)) return NULL;
    size_t bytes = (size_t)t->numel * elem_size(dt);
    t->data = ctx->scratch(ctx, bytes ? bytes : 1);
    if (!t->data) return NULL;
    if (dt == IA_DTYPE_STRING) t->strings = t->data;
    return t;
}

/* ---- If ------------------------------------------------------------------ */

static int if_infer(struct ia_op_ctx *ctx) {
    const struct ia_tensor *cond = ctx->n_inputs ? ctx->inputs[0] : NULL;
    if (!cond) return ia_op_error(ctx, IA_EINVAL, "needs a condition input");
    if (!ctx->run_subgraph || !cond->data) return IA_EAGAIN;
    if (cond->numel != 1)
        return ia_op_error(ctx, IA_EINVAL, "the condition has %llu elements, not 1",
                           (unsigned long long)cond->numel);
    int c = ia_tensor_get_i64(cond, 0) != 0;
    const struct ia_onnx_graph *g = graph_attr(ctx, c ? "then_branch" : "else_branch");
    if (!g) return IA_EINVAL;
    if (g->n_outputs != ctx->n_outputs)
        return ia_op_error(ctx, IA_EINVAL, "branch '%s' has %zu outputs, the node %zu",
                           c ? "then_branch" : "else_branch", g->n_outputs, ctx->n_outputs);
    struct ia_tensor **outs = ctx->scratch(ctx, (g->n_outputs ? g->n_outputs : 1) * sizeof *outs);
    if (!outs) return IA_ENOMEM;
    int rc = ctx->run_subgraph(ctx, g, 0, NULL, g->n_outputs, outs);
    if (rc) return rc;
    return set_outputs_like(ctx, g->n_outputs, (const struct ia_tensor *const *)outs);
}

static int if_compute(struct ia_op_ctx *ctx) { return copy_results(ctx); }

const struct ia_op_def ia_op_If = {"", "If", 1, 0, if_infer, if_compute};

/* ---- Loop ---------------------------------------------------------------- */

/* A growing buffer for one scan output (every iteration appends a slice). */
struct accum {
    uint8_t *buf;
    size_t len, cap;
    enum ia_dtype dtype;
    int rank;
    int64_t dims[IA_MAX_RANK];
};

static int accum_add(struct ia_op_ctx *ctx, struct accum *a, const struct ia_tensor *t, size_t k,
                     int first) {
    if (t->kind != IA_KIND_TENSOR)
        return ia_op_error(ctx, IA_EUNSUPPORTED, "scan output %zu is %s, not a tensor", k,
                           ia_value_kind_name(t));
    if (t->dtype == IA_DTYPE_STRING)
        return ia_op_error(ctx, IA_EUNSUPPORTED, "string scan outputs are not supported");
    if (first) {
        if (t->rank + 1 > IA_MAX_RANK)
            return ia_op_error(ctx, IA_EUNSUPPORTED, "scan output %zu: rank too big", k);
        a->dtype = t->dtype;
        a->rank = t->rank;
        memcpy(a->dims, t->dims, sizeof a->dims);
    } else if (t->dtype != a->dtype ||
               !(t->rank == a->rank &&
                 !memcmp(t->dims, a->dims, (size_t)t->rank * sizeof *t->dims))) {
        char x[96];
        return ia_op_error(ctx, IA_EINVAL,
                           "scan output %zu changes shape across iterations (now %s)", k,
                           ia_tensor_describe(t, x, sizeof x));
    }
    size_t need = a->len + (size_t)t->nbytes;
    if (need > a->cap) {
        size_t cap = a->cap ? a->cap : 64;
        while (cap < need) cap *= 2;
        uint8_t *nb = ia_realloc(a->buf, cap);
        if (!nb) return ia_error_set(IA_ENOMEM, "out of memory");
        a->buf = nb;
        a->cap = cap;
    }
    if (t->nbytes) memcpy(a->buf + a->len, t->data, (size_t)t->nbytes);
    a->len = need;
    return IA_OK;
}

static int loop_infer(struct ia_op_ctx *ctx) {
    if (ctx->n_inputs < 2)
        return ia_op_error(ctx, IA_EINVAL, "needs M and cond inputs (may be empty)");
    const struct ia_tensor *m = ctx->inputs[0], *cnd = ctx->inputs[1];
    size_t n_carried = ctx->n_inputs - 2;
    if (!ctx->run_subgraph) return IA_EAGAIN;
    for (size_t i = 0; i < ctx->n_inputs; i++)
        if (ctx->inputs[i] && !ctx->inputs[i]->data && ctx->inputs[i]->numel) return IA_EAGAIN;
    const struct ia_onnx_graph *body = graph_attr(ctx, "body");
    if (!body) return IA_EINVAL;
    if (body->n_inputs != 2 + n_carried)
        return ia_op_error(ctx, IA_EINVAL, "the body takes %zu inputs, expected %zu",
                           body->n_inputs, 2 + n_carried);
    if (body->n_outputs < 1 + n_carried)
        return ia_op_error(ctx, IA_EINVAL, "the body has %zu outputs, expected at least %zu",
                           body->n_outputs, 1 + n_carried);
    size_t n_scan = body->n_outputs - 1 - n_carried;
    if (ctx->n_outputs != n_carried + n_scan)
        return ia_op_error(ctx, IA_EINVAL, "the node has %zu outputs, the body implies %zu",
                           ctx->n_outputs, n_carried + n_scan);
    int64_t max_trip = INT64_MAX;
    if (m) {
        if (m->numel != 1) return ia_op_error(ctx, IA_EINVAL, "M must have one element");
        max_trip = ia_tensor_get_i64(m, 0);
    }
    int cond = 1;
    if (cnd) {
        if (cnd->numel != 1) return ia_op_error(ctx, IA_EINVAL, "cond must have one element");
        cond = ia_tensor_get_i64(cnd, 0) != 0;
    }
    size_t n_body_out = body->n_outputs;
    const struct ia_tensor **in = ctx->scratch(ctx, (2 + n_carried) * sizeof *in);
    struct ia_tensor **out = ctx->scratch(ctx, n_body_out * sizeof *out);
    struct accum *acc = ctx->scratch(ctx, (n_scan ? n_scan : 1) * sizeof *acc);
    struct ia_tensor *iter_t = scratch_tensor(ctx, IA_DTYPE_INT64, 0, NULL);
    struct ia_tensor *cond_t = scratch_tensor(ctx, IA_DTYPE_BOOL, 0, NULL);
    if (!in || !out || !acc || !iter_t || !cond_t) return IA_ENOMEM;
    memset(acc, 0, (n_scan ? n_scan : 1) * sizeof *acc);
    for (size_t i = 0; i < n_carried; i++) in[2 + i] = ctx->inputs[2 + i];
    in[0] = iter_t;
    in[1] = cond_t;
    int rc = IA_OK;
    int64_t it = 0;
    for (; it < max_trip && cond; it++) {
        *(int64_t *)iter_t->data = it;
        *(uint8_t *)cond_t->data = 1;
        rc = ctx->run_subgraph(ctx, body, 2 + n_carried, in, n_body_out, out);
        if (rc) break;
        const struct ia_tensor *co = out[0];
        if (co->numel != 1 || !co->data) {
            rc = ia_op_error(ctx, IA_EINVAL, "the body's condition output has %llu elements",
                             (unsigned long long)co->numel);
            break;
        }
        cond = ia_tensor_get_i64(co, 0) != 0;
        for (size_t i = 0; i < n_carried; i++) in[2 + i] = out[1 + i];
        for (size_t k = 0; rc == IA_OK && k < n_scan; k++)
            rc = accum_add(ctx, &acc[k], out[1 + n_carried + k], k, it == 0);
        if (rc) break;
    }
    /* Results: the last carried values (the inputs when no iteration ran),
     * then each scan output stacked on a new first axis. */
    const struct ia_tensor **res = NULL;
    if (rc == IA_OK) {
        res = ctx->scratch(ctx, (ctx->n_outputs ? ctx->n_outputs : 1) * sizeof *res);
        if (!res) rc = IA_ENOMEM;
    }
    for (size_t i = 0; rc == IA_OK && i < n_carried; i++) {
        res[i] = in[2 + i];
        if (!res[i]) rc = ia_op_error(ctx, IA_EINVAL, "loop-carried value %zu is missing", i);
    }
    for (size_t k = 0; rc == IA_OK && k < n_scan; k++) {
        int64_t dims[IA_MAX_RANK];
        int rank = 1;
        dims[0] = it;
        enum ia_dtype dt = acc[k].dtype;
        if (it > 0) {
            memcpy(dims + 1, acc[k].dims, (size_t)acc[k].rank * sizeof *dims);
            rank = 1 + acc[k].rank;
        } else {
            /* No iteration: the declared element type, shape [0]. */
            const struct ia_onnx_value *d = &body->outputs[1 + n_carried + k];
            dt = d->dtype != IA_DTYPE_UNDEFINED ? d->dtype : IA_DTYPE_FLOAT32;
        }
        struct ia_tensor *t = scratch_tensor(ctx, dt, rank, dims);
        if (!t) {
            rc = IA_ENOMEM;
            break;
        }
        if (acc[k].len) memcpy(t->data, acc[k].buf, acc[k].len);
        res[n_carried + k] = t;
    }
    for (size_t k = 0; k < n_scan; k++) ia_free(acc[k].buf);
    if (rc) return rc;
    return set_outputs_like(ctx, ctx->n_outputs, res);
}

static int loop_compute(struct ia_op_ctx *ctx) { return copy_results(ctx); }

const struct ia_op_def ia_op_Loop = {"", "Loop", 1, 0, loop_infer, loop_compute};

/* ---- Scan --------------------------------------------------------- */

/* Copies slice `t` of x along `axis` into dst (contiguous, x's shape without axis). */
static void take_slice(const struct ia_tensor *x, int axis, int64_t t, uint8_t *dst) {
    size_t es = elem_size(x->dtype);
    uint64_t outer = 1, inner = es;
    for (int i = 0; i < axis; i++) outer *= (uint64_t)x->dims[i];
    for (int i = axis + 1; i < x->rank; i++) inner *= (uint64_t)x->dims[i];
    uint64_t len = (uint64_t)x->dims[axis];
    const uint8_t *src = x->data;
    for (uint64_t o = 0; o < outer; o++)
        memcpy(dst + o * inner, src + (o * len + (uint64_t)t) * inner, (size_t)inner);
}

/* Writes slice s (contiguous) as position t along `axis` of y. */
static void put_slice(struct ia_tensor *y, int axis, int64_t t, const uint8_t *s) {
    size_t es = elem_size(y->dtype);
    uint64_t outer = 1, inner = es;
    for (int i = 0; i < axis; i++) outer *= (uint64_t)y->dims[i];
    for (int i = axis + 1; i < y->rank; i++) inner *= (uint64_t)y->dims[i];
    uint64_t len = (uint64_t)y->dims[axis];
    uint8_t *dst = y->data;
    for (uint64_t o = 0; o < outer; o++)
        memcpy(dst + (o * len + (uint64_t)t) * inner, s + o * inner, (size_t)inner);
}

static int64_t attr_at(const int64_t *v, size_t n, size_t i, int64_t dflt) {
    return v && i < n ? v[i] : dflt;
}

/* Scan-8: a leading sequence_lens input (may be omitted) and a batch axis
 * 0 on every state and scan input; scan inputs are [batch, seq, ...]. The
 * body runs per batch entry and step; scan outputs are [batch, seq, ...]
 * (steps past a batch entry's length stay zero). */
static int scan8_infer(struct ia_op_ctx *ctx, const struct ia_onnx_graph *body) {
    int64_t m64 = ia_attr_int(ctx->node, "num_scan_inputs", -1);
    if (ctx->n_inputs < 1 || m64 < 1 || (uint64_t)m64 > ctx->n_inputs - 1)
        return ia_op_error(ctx, IA_EINVAL, "num_scan_inputs %lld is out of range", (long long)m64);
    size_t n_scan_in = (size_t)m64, n_state = ctx->n_inputs - 1 - n_scan_in;
    if (body->n_inputs != n_state + n_scan_in || body->n_outputs != ctx->n_outputs ||
        body->n_outputs < n_state)
        return ia_op_error(ctx, IA_EINVAL, "the body's inputs/outputs do not match the node's");
    size_t n_scan_out = body->n_outputs - n_state;
    const int64_t *dirs;
    size_t n_dirs = ia_attr_ints(ctx->node, "directions", &dirs);
    const struct ia_tensor *lens = ctx->inputs[0];
    int64_t batch = -1, len = -1;
    for (size_t i = 1; i < ctx->n_inputs; i++) {
        const struct ia_tensor *x = ctx->inputs[i];
        int is_scan = i >= 1 + n_state;
        if (!x || x->rank < (is_scan ? 2 : 1))
            return ia_op_error(ctx, IA_EINVAL, "input %zu needs a batch%s axis", i,
                               is_scan ? " and a sequence" : "");
        if (batch >= 0 && x->dims[0] != batch)
            return ia_op_error(ctx, IA_EINVAL, "inputs disagree on the batch size");
        batch = x->dims[0];
        if (is_scan) {
            if (len >= 0 && x->dims[1] != len)
                return ia_op_error(ctx, IA_EINVAL, "scan inputs disagree on the sequence length");
            len = x->dims[1];
        }
    }
    if (lens && (lens->numel != (uint64_t)batch))
        return ia_op_error(ctx, IA_EINVAL, "sequence_lens has %llu entries for batch %lld",
                           (unsigned long long)lens->numel, (long long)batch);
    size_t n_body_in = n_state + n_scan_in;
    const struct ia_tensor **in = ctx->scratch(ctx, (n_body_in ? n_body_in : 1) * sizeof *in);
    struct ia_tensor *views = ctx->scratch(ctx, (n_body_in ? n_body_in : 1) * sizeof *views);
    struct ia_tensor **out =
        ctx->scratch(ctx, (body->n_outputs ? body->n_outputs : 1) * sizeof *out);
    struct ia_tensor **res = ctx->scratch(ctx, (ctx->n_outputs ? ctx->n_outputs : 1) * sizeof *res);
    if (!in || !views || !out || !res) return IA_ENOMEM;
    memset(res, 0, (ctx->n_outputs ? ctx->n_outputs : 1) * sizeof *res);
    /* Views: one batch entry (and one step) of each input, no copy. */
    for (size_t i = 0; i < n_body_in; i++) {
        const struct ia_tensor *x = ctx->inputs[1 + i];
        int drop = i >= n_state ? 2 : 1;
        memset(&views[i], 0, sizeof views[i]);
        if (ia_tensor_set_shape(&views[i], x->dtype, x->rank - drop, x->dims + drop))
            return IA_ERANGE;
        in[i] = &views[i];
    }
    for (int64_t b = 0; b < batch; b++) {
        int64_t lb = lens ? ia_tensor_get_i64(lens, (uint64_t)b) : len;
        if (lb < 0 || lb > len)
            return ia_op_error(ctx, IA_EINVAL, "sequence_lens[%lld] = %lld", (long long)b,
                               (long long)lb);
        for (size_t i = 0; i < n_state; i++) {
            views[i].data = (uint8_t *)ctx->inputs[1 + i]->data + (uint64_t)b * views[i].nbytes;
            in[i] = &views[i];
        }
        for (int64_t t = 0; t < lb; t++) {
            for (size_t j = 0; j < n_scan_in; j++) {
                size_t i = n_state + j;
                int64_t pos = attr_at(dirs, n_dirs, j, 0) ? lb - 1 - t : t;
                views[i].data = (uint8_t *)ctx->inputs[1 + i]->data +
                                ((uint64_t)b * (uint64_t)len + (uint64_t)pos) * views[i].nbytes;
            }
            int rc = ctx->run_subgraph(ctx, body, n_body_in, in, body->n_outputs, out);
            if (rc) return rc;
            for (size_t i = 0; i < n_state; i++) in[i] = out[i];
            for (size_t k = 0; k < n_scan_out; k++) {
                const struct ia_tensor *sl = out[n_state + k];
                if (!res[n_state + k]) {
                    if (sl->rank + 2 > IA_MAX_RANK || sl->dtype == IA_DTYPE_STRING)
                        return ia_op_error(ctx, IA_EUNSUPPORTED, "scan output %zu is not supported",
                                           k);
                    int64_t dims[IA_MAX_RANK] = {batch, len};
                    memcpy(dims + 2, sl->dims, (size_t)sl->rank * sizeof *dims);
                    res[n_state + k] = scratch_tensor(ctx, sl->dtype, sl->rank + 2, dims);
                    if (!res[n_state + k]) return IA_ENOMEM;
                    memset(res[n_state + k]->data, 0, (size_t)res[n_state + k]->nbytes);
                }
                struct ia_tensor *y = res[n_state + k];
                if (sl->dtype != y->dtype ||
                    sl->nbytes * (uint64_t)batch * (uint64_t)len != y->nbytes)
                    return ia_op_error(ctx, IA_EINVAL, "scan output %zu changes shape", k);
                memcpy((uint8_t *)y->data +
                           ((uint64_t)b * (uint64_t)len + (uint64_t)t) * sl->nbytes,
                       sl->data, (size_t)sl->nbytes);
            }
        }
        for (size_t i = 0; i < n_state; i++) {
            const struct ia_tensor *st = in[i];
            if (!res[i]) {
                if (st->rank + 1 > IA_MAX_RANK || st->dtype == IA_DTYPE_STRING)
                    return ia_op_error(ctx, IA_EUNSUPPORTED, "state %zu is not supported", i);
                int64_t dims[IA_MAX_RANK] = {batch};
                memcpy(dims + 1, st->dims, (size_t)st->rank * sizeof *dims);
                res[i] = scratch_tensor(ctx, st->dtype, st->rank + 1, dims);
                if (!res[i]) return IA_ENOMEM;
            }
            if (st->dtype != res[i]->dtype || st->nbytes * (uint64_t)batch != res[i]->nbytes)
                return ia_op_error(ctx, IA_EINVAL, "state %zu changes shape", i);
            memcpy((uint8_t *)res[i]->data + (uint64_t)b * st->nbytes, st->data,
                   (size_t)st->nbytes);
        }
    }
    for (size_t k = 0; k < ctx->n_outputs; k++) {
        if (res[k]) continue;
        /* batch 0 or no step: empty outputs of the declared type */
        int64_t dims[2] = {batch > 0 ? batch : 0, k < n_state ? 0 : len > 0 ? len : 0};
        const struct ia_onnx_value *d = &body->outputs[k];
        res[k] = scratch_tensor(ctx, d->dtype != IA_DTYPE_UNDEFINED ? d->dtype : IA_DTYPE_FLOAT32,
                                k < n_state ? 1 : 2, dims);
        if (!res[k]) return IA_ENOMEM;
        memset(res[k]->data, 0, (size_t)res[k]->nbytes);
    }
    return set_outputs_like(ctx, ctx->n_outputs, (const struct ia_tensor *const *)res);
}

static int scan_infer(struct ia_op_ctx *ctx) {
    if (!ctx->run_subgraph) return IA_EAGAIN;
    if (ctx->opset < 9) {
        for (size_t i = 0; i < ctx->n_inputs; i++)
            if (ctx->inputs[i] && !ctx->inputs[i]->data && ctx->inputs[i]->numel) return IA_EAGAIN;
        const struct ia_onnx_graph *body = graph_attr(ctx, "body");
        return body ? scan8_infer(ctx, body) : IA_EINVAL;
    }
    for (size_t i = 0; i < ctx->n_inputs; i++)
        if (ctx->inputs[i] && !ctx->inputs[i]->data && ctx->inputs[i]->numel) return IA_EAGAIN;
    const struct ia_onnx_graph *body = graph_attr(ctx, "body");
    if (!body) return IA_EINVAL;
    int64_t m64 = ia_attr_int(ctx->node, "num_scan_inputs", -1);
    if (m64 < 1 || (uint64_t)m64 > ctx->n_inputs)
        return ia_op_error(ctx, IA_EINVAL, "num_scan_inputs %lld is out of range", (long long)m64);
    size_t n_scan_in = (size_t)m64, n_state = ctx->n_inputs - n_scan_in;
    if (body->n_inputs != ctx->n_inputs)
        return ia_op_error(ctx, IA_EINVAL, "the body takes %zu inputs, the node has %zu",
                           body->n_inputs, ctx->n_inputs);
    if (body->n_outputs != ctx->n_outputs || body->n_outputs < n_state)
        return ia_op_error(ctx, IA_EINVAL, "the body has %zu outputs, the node %zu",
                           body->n_outputs, ctx->n_outputs);
    size_t n_scan_out = body->n_outputs - n_state;
    const int64_t *in_axes, *in_dirs, *out_axes, *out_dirs;
    size_t n_ia = ia_attr_ints(ctx->node, "scan_input_axes", &in_axes);
    size_t n_id = ia_attr_ints(ctx->node, "scan_input_directions", &in_dirs);
    size_t n_oa = ia_attr_ints(ctx->node, "scan_output_axes", &out_axes);
    size_t n_od = ia_attr_ints(ctx->node, "scan_output_directions", &out_dirs);
    /* Sequence length: the same along every scan input's axis. */
    int64_t len = -1;
    int axes[64];
    if (n_scan_in > 64) return ia_op_error(ctx, IA_EUNSUPPORTED, "more than 64 scan inputs");
    for (size_t j = 0; j < n_scan_in; j++) {
        const struct ia_tensor *x = ctx->inputs[n_state + j];
        if (!x) return ia_op_error(ctx, IA_EINVAL, "scan input %zu is missing", j);
        if (x->rank < 1) return ia_op_error(ctx, IA_EINVAL, "scan input %zu is a scalar", j);
        int rc = ia_norm_axis(ctx, attr_at(in_axes, n_ia, j, 0), x->rank, &axes[j]);
        if (rc) return rc;
        int64_t l = x->dims[axes[j]];
        if (len >= 0 && l != len)
            return ia_op_error(ctx, IA_EINVAL, "scan inputs have lengths %lld and %lld",
                               (long long)len, (long long)l);
        len = l;
    }
    size_t n_in = ctx->n_inputs;
    const struct ia_tensor **in = ctx->scratch(ctx, n_in * sizeof *in);
    struct ia_tensor **out =
        ctx->scratch(ctx, (body->n_outputs ? body->n_outputs : 1) * sizeof *out);
    struct ia_tensor **slices = ctx->scratch(ctx, n_scan_in * sizeof *slices);
    struct ia_tensor **ys = ctx->scratch(ctx, (n_scan_out ? n_scan_out : 1) * sizeof *ys);
    const struct ia_tensor **res =
        ctx->scratch(ctx, (ctx->n_outputs ? ctx->n_outputs : 1) * sizeof *res);
    if (!in || !out || !slices || !ys || !res) return IA_ENOMEM;
    for (size_t j = 0; j < n_scan_in; j++) {
        const struct ia_tensor *x = ctx->inputs[n_state + j];
        int64_t dims[IA_MAX_RANK];
        int r = 0;
        for (int d = 0; d < x->rank; d++)
            if (d != axes[j]) dims[r++] = x->dims[d];
        slices[j] = scratch_tensor(ctx, x->dtype, r, dims);
        if (!slices[j]) return IA_ENOMEM;
        in[n_state + j] = slices[j];
    }
    for (size_t i = 0; i < n_state; i++) in[i] = ctx->inputs[i];
    for (int64_t t = 0; t < len; t++) {
        for (size_t j = 0; j < n_scan_in; j++) {
            int64_t pos = attr_at(in_dirs, n_id, j, 0) ? len - 1 - t : t;
            take_slice(ctx->inputs[n_state + j], axes[j], pos, slices[j]->data);
        }
        int rc = ctx->run_subgraph(ctx, body, n_in, in, body->n_outputs, out);
        if (rc) return rc;
        for (size_t i = 0; i < n_state; i++) in[i] = out[i];
        for (size_t k = 0; k < n_scan_out; k++) {
            const struct ia_tensor *s = out[n_state + k];
            int ax;
            rc = ia_norm_axis(ctx, attr_at(out_axes, n_oa, k, 0), s->rank + 1, &ax);
            if (rc) return rc;
            if (t == 0) {
                if (s->rank + 1 > IA_MAX_RANK)
                    return ia_op_error(ctx, IA_EUNSUPPORTED, "scan output %zu: rank too big", k);
                if (s->dtype == IA_DTYPE_STRING)
                    return ia_op_error(ctx, IA_EUNSUPPORTED,
                                       "string scan outputs are not supported");
                int64_t dims[IA_MAX_RANK];
                for (int d = 0, r = 0; d < s->rank + 1; d++) dims[d] = d == ax ? len : s->dims[r++];
                ys[k] = scratch_tensor(ctx, s->dtype, s->rank + 1, dims);
                if (!ys[k]) return IA_ENOMEM;
            }
            struct ia_tensor *y = ys[k];
            int same = s->dtype == y->dtype && s->rank + 1 == y->rank;
            for (int d = 0, r = 0; same && d < y->rank; d++)
                if (d != ax && y->dims[d] != s->dims[r++]) same = 0;
            if (!same)
                return ia_op_error(ctx, IA_EINVAL,
                                   "scan output %zu changes shape across iterations", k);
            int64_t pos = attr_at(out_dirs, n_od, k, 0) ? len - 1 - t : t;
            put_slice(y, ax, pos, s->data);
        }
    }
    for (size_t i = 0; i < n_state; i++) {
        res[i] = in[i];
        if (!res[i]) return ia_op_error(ctx, IA_EINVAL, "state value %zu is missing", i);
    }
    for (size_t k = 0; k < n_scan_out; k++) {
        if (len == 0) {
            const struct ia_onnx_value *d = &body->outputs[n_state + k];
            int64_t zero = 0;
            ys[k] = scratch_tensor(
                ctx, d->dtype != IA_DTYPE_UNDEFINED ? d->dtype : IA_DTYPE_FLOAT32, 1, &zero);
            if (!ys[k]) return IA_ENOMEM;
        }
        res[n_state + k] = ys[k];
    }
    return set_outputs_like(ctx, ctx->n_outputs, res);
}

static int scan_compute(struct ia_op_ctx *ctx) { return copy_results(ctx); }

const struct ia_op_def ia_op_Scan = {"", "Scan", 8, 0, scan_infer, scan_compute};
