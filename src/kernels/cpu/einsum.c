/* Einsum: the general form, as a loop over the whole index space.
 *
 * The equation ("ij,jk->ik", "...ii->...i", "bij,bjk") is parsed into one
 * label per input dim: letters a-z and A-Z, and one label per dim an
 * ellipsis stands for (right-aligned and broadcast like numpy across the
 * inputs). Without "->" the output is the ellipsis dims followed by the
 * letters used exactly once, in ASCII order (numpy's implicit mode). Each
 * input then gets a stride per label (strides add up when a label repeats
 * within one input, which walks its diagonal; a broadcast size-1 dim gets
 * stride 0). Output labels are the outer loop, the labels that appear only
 * in inputs are summed in the inner loop, products accumulated in double. */
#include "sh_common.h"

#define EZ_LETTERS 52
#define EZ_MAX_LABELS (EZ_LETTERS + IA_MAX_RANK)
#define EZ_MAX_INPUTS 16
#define EZ_MAX_EQ 512

struct ez_plan {
    int n_in;
    int in_rank[EZ_MAX_INPUTS];
    int in_lab[EZ_MAX_INPUTS][IA_MAX_RANK];
    int out_rank;
    int out_lab[IA_MAX_RANK];
    int64_t size[EZ_MAX_LABELS];
    int n_red;
    int red_lab[EZ_MAX_LABELS];
};

static int letter_id(char c) {
    if (c >= 'a' && c <= 'z') return c - 'a';
    if (c >= 'A' && c <= 'Z') return 26 + c - 'A';
    return -1;
}

/* Splits one term into letter ids, noting where an ellipsis sits. */
static int parse_term(const struct ia_op_ctx *ctx, const char *s, size_t len, int *ids, int *n,
                      int *ell_at) {
    *n = 0;
    *ell_at = -1;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '.') {
            if (*ell_at >= 0 || i + 2 >= len || s[i + 1] != '.' || s[i + 2] != '.')
                return ia_op_error(ctx, IA_EINVAL, "bad ellipsis in the equation");
            *ell_at = *n;
            i += 2;
            continue;
        }
        int id = letter_id(s[i]);
        if (id < 0) return ia_op_error(ctx, IA_EINVAL, "bad character '%c' in the equation", s[i]);
        if (*n >= IA_MAX_RANK) return ia_op_error(ctx, IA_EINVAL, "too many labels in a term");
        ids[(*n)++] = id;
    }
    return IA_OK;
}

static int ez_plan(struct ia_op_ctx *ctx, struct ez_plan *p) {
    char eq[EZ_MAX_EQ];
    if (!ia_attr_find(ctx->node, "equation"))
        return ia_op_error(ctx, IA_EINVAL, "equation is missing");
    const struct ia_onnx_attr *ea = ia_attr_find(ctx->node, "equation");
    if (ea->type != IA_ONNX_ATTR_STRING || ea->s.len >= sizeof eq)
        return ia_op_error(ctx, IA_EINVAL, "equation is not a string of under %zu bytes",
                           sizeof eq);
    ia_attr_string(ctx->node, "equation", eq, sizeof eq, "");
    /* Drop spaces. */
    size_t L = 0;
    for (size_t i = 0; eq[i]; i++)
        if (eq[i] != ' ') eq[L++] = eq[i];
    eq[L] = '\0';
    const char *arrow = strstr(eq, "->");
    size_t lhs_len = arrow ? (size_t)(arrow - eq) : L;
    if (ctx->n_inputs < 1 || ctx->n_inputs > EZ_MAX_INPUTS)
        return ia_op_error(ctx, IA_EINVAL, "%zu inputs", ctx->n_inputs);
    p->n_in = (int)ctx->n_inputs;
    int ids[EZ_MAX_INPUTS][IA_MAX_RANK], nids[EZ_MAX_INPUTS], ell[EZ_MAX_INPUTS],
        n_ell[EZ_MAX_INPUTS];
    int term = 0, max_ell = 0, rc;
    size_t start = 0;
    for (size_t i = 0; i <= lhs_len; i++) {
        if (i < lhs_len && eq[i] != ',') continue;
        if (term >= p->n_in)
            return ia_op_error(ctx, IA_EINVAL, "equation has more terms than the %d inputs",
                               p->n_in);
        if ((rc = parse_term(ctx, eq + start, i - start, ids[term], &nids[term], &ell[term])))
            return rc;
        const struct ia_tensor *x = sh_in(ctx, (size_t)term);
        if (!x) return ia_op_error(ctx, IA_EINVAL, "input %d is missing", term);
        int extra = x->rank - nids[term];
        if (extra < 0 || (extra > 0 && ell[term] < 0))
            return ia_op_error(ctx, IA_EINVAL, "term %d has %d labels for rank %d", term,
                               nids[term], x->rank);
        n_ell[term] = ell[term] >= 0 ? extra : 0;
        if (n_ell[term] > max_ell) max_ell = n_ell[term];
        term++;
        start = i + 1;
    }
    if (term != p->n_in)
        return ia_op_error(ctx, IA_EINVAL, "equation has %d terms for %d inputs", term, p->n_in);
    for (int l = 0; l < EZ_MAX_LABELS; l++) p->size[l] = -1;
    int count[EZ_MAX_LABELS] = {0};
    for (int t = 0; t < p->n_in; t++) {
        const struct ia_tensor *x = sh_in(ctx, (size_t)t);
        int d = 0;
        p->in_rank[t] = x->rank;
        for (int j = 0; j <= nids[t]; j++) {
            if (j == ell[t])
                for (int e = 0; e < n_ell[t]; e++)
                    p->in_lab[t][d++] = EZ_LETTERS + max_ell - n_ell[t] + e;
            if (j < nids[t]) p->in_lab[t][d++] = ids[t][j];
        }
        for (int k = 0; k < x->rank; k++) {
            int l = p->in_lab[t][k];
            int64_t s = x->dims[k];
            int64_t cur = p->size[l];
            int bad = 0;
            count[l]++;
            if (l >= EZ_LETTERS) { /* ellipsis dims broadcast */
                if (cur < 0 || cur == 1)
                    p->size[l] = s;
                else
                    bad = s != 1 && s != cur;
            } else {
                if (cur < 0)
                    p->size[l] = s;
                else
                    bad = s != cur;
            }
            if (bad)
                return ia_op_error(ctx, IA_EINVAL, "label '%c' has sizes %lld and %lld",
                                   l < 26   ? 'a' + l
                                   : l < 52 ? 'A' + l - 26
                                            : '.',
                                   (long long)cur, (long long)s);
        }
    }
    int in_out[EZ_MAX_LABELS] = {0};
    p->out_rank = 0;
    if (arrow) {
        int oids[IA_MAX_RANK], on, oell;
        if ((rc = parse_term(ctx, arrow + 2, L - lhs_len - 2, oids, &on, &oell))) return rc;
        for (int j = 0; j <= on; j++) {
            if (j == oell)
                for (int e = 0; e < max_ell; e++) {
                    if (p->out_rank >= IA_MAX_RANK)
                        return ia_op_error(ctx, IA_EINVAL, "output rank");
                    p->out_lab[p->out_rank++] = EZ_LETTERS + e;
                }
            if (j < on) {
                int l = oids[j];
                if (!count[l])
                    return ia_op_error(ctx, IA_EINVAL, "output label '%c' is in no input",
                                       l < 26 ? 'a' + l : 'A' + l - 26);
                if (in_out[l]) return ia_op_error(ctx, IA_EINVAL, "output label repeated");
                if (p->out_rank >= IA_MAX_RANK) return ia_op_error(ctx, IA_EINVAL, "output rank");
                p->out_lab[p->out_rank++] = l;
                in_out[l] = 1;
            }
        }
        for (int e = 0; e < max_ell && oell >= 0; e++) in_out[EZ_LETTERS + e] = 1;
    } else {
        for (int e = 0; e < max_ell; e++) {
            p->out_lab[p->out_rank++] = EZ_LETTERS + e;
            in_out[EZ_LETTERS + e] = 1;
        }
        /* ASCII order: uppercase (ids 26..51) before lowercase (0..25). */
        static const int order[2][2] = {{26, 52}, {0, 26}};
        for (int g = 0; g < 2; g++)
            for (int l = order[g][0]; l < order[g][1]; l++)
                if (count[l] == 1) {
                    if (p->out_rank >= IA_MAX_RANK)
                        return ia_op_error(ctx, IA_EINVAL, "output rank");
                    p->out_lab[p->out_rank++] = l;
                    in_out[l] = 1;
                }
    }
    p->n_red = 0;
    for (int l = 0; l < EZ_MAX_LABELS; l++)
        if (count[l] && !in_out[l]) p->red_lab[p->n_red++] = l;
    return IA_OK;
}

static int ez_infer(struct ia_op_ctx *ctx) {
    struct ez_plan p;
    int rc = ez_plan(ctx, &p);
    if (rc) return rc;
    enum ia_dtype t = sh_in(ctx, 0)->dtype;
    for (int i = 1; i < p.n_in; i++)
        if (sh_in(ctx, (size_t)i)->dtype != t)
            return ia_op_error(ctx, IA_EINVAL, "inputs differ in type");
    if (!sh_is_numeric(t) || t == IA_DTYPE_BOOL)
        return ia_op_error(ctx, IA_EINVAL, "type %s", ia_dtype_name(t));
    int64_t d[IA_MAX_RANK];
    for (int k = 0; k < p.out_rank; k++) d[k] = p.size[p.out_lab[k]];
    return ia_tensor_set_shape(sh_out(ctx, 0), t, p.out_rank, d);
}

static int ez_compute(struct ia_op_ctx *ctx) {
    struct ez_plan p;
    int rc = ez_plan(ctx, &p);
    if (rc) return rc;
    struct ia_tensor *y = sh_out(ctx, 0);
    int n = p.n_in;
    /* Element strides of every input per label (outer then reduced). */
    int64_t ostr[EZ_MAX_INPUTS][IA_MAX_RANK], rstr[EZ_MAX_INPUTS][EZ_MAX_LABELS];
    int64_t lst[EZ_MAX_LABELS];
    const void *data[EZ_MAX_INPUTS];
    int all_f32 = 1;
    for (int t = 0; t < n; t++)
        if (!sh_in(ctx, (size_t)t)->numel) { /* a sum over nothing */
            if (y->nbytes) memset(y->data, 0, (size_t)y->nbytes);
            return IA_OK;
        }
    for (int t = 0; t < n; t++) {
        const struct ia_tensor *x = sh_in(ctx, (size_t)t);
        int64_t xs[IA_MAX_RANK];
        sh_strides(x->rank, x->dims, 1, xs);
        for (int l = 0; l < EZ_MAX_LABELS; l++) lst[l] = 0;
        for (int k = 0; k < x->rank; k++)
            if (x->dims[k] != 1) lst[p.in_lab[t][k]] += xs[k];
        for (int k = 0; k < p.out_rank; k++) ostr[t][k] = lst[p.out_lab[k]];
        for (int k = 0; k < p.n_red; k++) rstr[t][k] = lst[p.red_lab[k]];
        data[t] = x->data;
        all_f32 &= x->dtype == IA_DTYPE_FLOAT32;
    }
    enum ia_dtype dt = y->dtype;
    uint64_t n_red = 1;
    for (int k = 0; k < p.n_red; k++) n_red *= (uint64_t)p.size[p.red_lab[k]];
    int64_t oi[IA_MAX_RANK] = {0}, ri[EZ_MAX_LABELS];
    for (uint64_t o = 0; o < y->numel; o++) {
        int64_t base[EZ_MAX_INPUTS];
        for (int t = 0; t < n; t++) {
            base[t] = 0;
            for (int k = 0; k < p.out_rank; k++) base[t] += oi[k] * ostr[t][k];
        }
        double acc = 0;
        for (int k = 0; k < p.n_red; k++) ri[k] = 0;
        int64_t off[EZ_MAX_INPUTS];
        memcpy(off, base, sizeof(int64_t) * (size_t)n);
        for (uint64_t r = 0; r < n_red; r++) {
            double prod = 1;
            if (all_f32)
                for (int t = 0; t < n; t++) prod *= ((const float *)data[t])[off[t]];
            else
                for (int t = 0; t < n; t++) prod *= sh_get_f64(data[t], dt, (uint64_t)off[t]);
            acc += prod;
            /* Next reduced index, updating offsets incrementally. */
            for (int k = p.n_red - 1; k >= 0; k--) {
                int64_t sz = p.size[p.red_lab[k]];
                if (++ri[k] < sz) {
                    for (int t = 0; t < n; t++) off[t] += rstr[t][k];
                    break;
                }
                ri[k] = 0;
                for (int t = 0; t < n; t++) off[t] -= rstr[t][k] * (sz - 1);
            }
        }
        if (dt == IA_DTYPE_FLOAT32)
            ((float *)y->data)[o] = (float)acc;
        else
            sh_set_f64(y->data, dt, o, acc);
        for (int k = p.out_rank - 1; k >= 0; k--) {
            if (++oi[k] < y->dims[k]) break;
            oi[k] = 0;
        }
    }
    return IA_OK;
}

const struct ia_op_def ia_op_Einsum = {"", "Einsum", 12, 0, ez_infer, ez_compute};
