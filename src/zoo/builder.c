/*
 * The zoo's graph builder: ONNX opset-17 building blocks over
 * ia_onnx_builder, and weights by HF name from a checkpoint or a seeded
 * PRNG. See include/ia/zoo.h for the contract (sticky errors, names owned
 * by the builder).
 *
 * Value names are "<OpType>_<n>" with n a per-graph counter, so a graph
 * built twice from the same config is byte-identical.
 */
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zoo_internal.h"

#define ZB_EXT_ALIGN 64

struct ia_zb {
    struct ia_onnx_builder *b;
    struct ia_zb_opts o;
    int rc;
    char msg[1024];
    uint64_t counter;
    char **strs; /* every string handed out, freed at destroy */
    size_t n_strs, cap_strs;
    char **weights; /* names of weights added (dedupe) */
    size_t n_weights, cap_weights;
    struct zoo_tmpfile ext;
    int ext_open;
    uint64_t ext_off;
    uint64_t weight_bytes, n_params, progress_done;
};

/* ---- errors and strings --------------------------------------------------- */

static const char *keep_str(struct ia_zb *g, char *s);

int ia_zb_fail(struct ia_zb *g, int rc, const char *fmt, ...) {
    if (g->rc) return g->rc;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g->msg, sizeof g->msg, fmt, ap);
    va_end(ap);
    g->rc = rc ? rc : IA_EINTERNAL;
    return ia_error_set(g->rc, "%s", g->msg);
}

/* Keeps a library error (message already set) as the builder's. */
static int keep(struct ia_zb *g, int rc) {
    if (rc && !g->rc) {
        g->rc = rc;
        snprintf(g->msg, sizeof g->msg, "%s", ia_error_msg());
    }
    return rc;
}

int ia_zb_status(const struct ia_zb *g) { return g->rc; }
const char *ia_zb_errmsg(const struct ia_zb *g) { return g->rc ? g->msg : ""; }
struct ia_onnx_builder *ia_zb_builder(struct ia_zb *g) { return g->b; }

void ia_zb_set_base_prefix(struct ia_zb *g, const char *prefix) {
    g->o.base_prefix = prefix ? keep_str(g, ia_strdup(prefix)) : NULL;
}
uint64_t ia_zb_weight_bytes(const struct ia_zb *g) { return g->weight_bytes; }
uint64_t ia_zb_n_params(const struct ia_zb *g) { return g->n_params; }
int ia_zb_from_checkpoint(const struct ia_zb *g) { return g->o.ckpt != NULL; }

static int push_ptr(char ***v, size_t *n, size_t *cap, char *p) {
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 64;
        char **nv = ia_realloc(*v, nc * sizeof *nv);
        if (!nv) return -1;
        *v = nv;
        *cap = nc;
    }
    (*v)[(*n)++] = p;
    return 0;
}

static const char *keep_str(struct ia_zb *g, char *s) {
    if (!s || push_ptr(&g->strs, &g->n_strs, &g->cap_strs, s)) {
        ia_free(s);
        ia_zb_fail(g, IA_ENOMEM, "out of memory");
        return ZB_ERROR_NAME;
    }
    return s;
}

static const char *fmt_str(struct ia_zb *g, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static const char *fmt_str(struct ia_zb *g, const char *fmt, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return keep_str(g, ia_strdup(buf));
}

/* ---- life cycle ------------------------------------------------------------ */

int ia_zb_create(const struct ia_zb_opts *opts, struct ia_zb **out) {
    *out = NULL;
    struct ia_zb *g = ia_calloc(1, sizeof *g);
    if (!g) return ia_error_set(IA_ENOMEM, "out of memory");
    if (opts) g->o = *opts;
    if (g->o.init_std <= 0) g->o.init_std = 0.02f;
    int rc = ia_onnx_builder_create(&g->b);
    if (rc == IA_OK) rc = ia_onnx_builder_set_info(g->b, "main", "ipfs-accelerate",
                                                   IA_VERSION_STRING, 8);
    if (rc == IA_OK) rc = ia_onnx_builder_add_opset(g->b, "", 17);
    if (rc == IA_OK && g->o.external_path && !g->o.dry_run) {
        rc = zoo_tmp_open(&g->ext, g->o.external_path);
        g->ext_open = rc == IA_OK;
    }
    if (rc) {
        ia_zb_destroy(g);
        return rc;
    }
    *out = g;
    return IA_OK;
}

void ia_zb_destroy(struct ia_zb *g) {
    if (!g) return;
    if (g->ext_open) zoo_tmp_abort(&g->ext);
    ia_onnx_builder_destroy(g->b);
    for (size_t i = 0; i < g->n_strs; i++) ia_free(g->strs[i]);
    ia_free(g->strs);
    ia_free(g->weights);
    ia_free(g);
}

int ia_zb_write(struct ia_zb *g, const char *path) {
    if (g->rc) return ia_error_set(g->rc, "%s", g->msg);
    int rc = IA_OK;
    if (g->ext_open) {
        g->ext_open = 0;
        rc = zoo_tmp_commit(&g->ext);
    }
    if (rc == IA_OK) rc = ia_onnx_builder_write(g->b, path);
    return keep(g, rc);
}

/* ---- inputs, outputs, nodes ------------------------------------------------ */

static int to_onnx_dims(int rank, const struct ia_zb_dim *dims, struct ia_onnx_dim *out) {
    if (rank < 0 || rank > IA_ST_MAX_RANK) return -1;
    for (int i = 0; i < rank; i++) {
        out[i].value = dims[i].sym ? -1 : dims[i].value;
        out[i].param = dims[i].sym;
    }
    return 0;
}

const char *ia_zb_input(struct ia_zb *g, const char *name, enum ia_dtype dtype, int rank,
                        const struct ia_zb_dim *dims) {
    if (g->rc) return ZB_ERROR_NAME;
    struct ia_onnx_dim d[IA_ST_MAX_RANK];
    if (to_onnx_dims(rank, dims, d)) {
        ia_zb_fail(g, IA_EINVAL, "input '%s': bad rank %d", name, rank);
        return ZB_ERROR_NAME;
    }
    if (keep(g, ia_onnx_builder_add_input(g->b, name, dtype, rank, d))) return ZB_ERROR_NAME;
    return keep_str(g, ia_strdup(name));
}

void ia_zb_output(struct ia_zb *g, const char *value, const char *name, enum ia_dtype dtype,
                  int rank, const struct ia_zb_dim *dims) {
    if (g->rc) return;
    if (strcmp(value, name)) ia_zb_op_named(g, name, "Identity", 1, &value, 0, NULL);
    struct ia_onnx_dim d[IA_ST_MAX_RANK];
    if (to_onnx_dims(rank, dims, d)) {
        ia_zb_fail(g, IA_EINVAL, "output '%s': bad rank %d", name, rank);
        return;
    }
    if (!g->rc) keep(g, ia_onnx_builder_add_output(g->b, name, dtype, rank, d));
}

int ia_zb_op_multi(struct ia_zb *g, const char *op_type, size_t n_in, const char *const *in,
                   size_t n_attrs, const struct ia_zb_attr *attrs, size_t n_out,
                   const char **out) {
    if (g->rc) {
        for (size_t i = 0; i < n_out; i++)
            if (!out[i]) out[i] = ZB_ERROR_NAME;
        return g->rc;
    }
    if (n_attrs > 16) return ia_zb_fail(g, IA_EINTERNAL, "%s: too many attributes", op_type);
    struct ia_onnx_attr a[16];
    memset(a, 0, sizeof a);
    for (size_t i = 0; i < n_attrs; i++) {
        a[i].name = attrs[i].name;
        a[i].type = attrs[i].type;
        a[i].i = attrs[i].i;
        a[i].f = attrs[i].f;
        a[i].n = attrs[i].n;
        a[i].ints = attrs[i].ints;
        if (attrs[i].s) {
            a[i].s.data = (const uint8_t *)attrs[i].s;
            a[i].s.len = strlen(attrs[i].s);
        }
    }
    uint64_t id = g->counter++;
    for (size_t i = 0; i < n_out; i++)
        if (!out[i])
            out[i] = n_out == 1 ? fmt_str(g, "%s_%llu", op_type, (unsigned long long)id)
                                : fmt_str(g, "%s_%llu_%zu", op_type, (unsigned long long)id, i);
    const char *node_name = fmt_str(g, "%s_node_%llu", op_type, (unsigned long long)id);
    if (g->rc) return g->rc;
    struct ia_onnx_node n = {.name = node_name, .op_type = op_type, .domain = "",
                             .n_inputs = n_in, .inputs = in, .n_outputs = n_out,
                             .outputs = out, .n_attrs = n_attrs, .attrs = a};
    return keep(g, ia_onnx_builder_add_node(g->b, &n));
}

const char *ia_zb_op_named(struct ia_zb *g, const char *out_name, const char *op_type,
                           size_t n_in, const char *const *in, size_t n_attrs,
                           const struct ia_zb_attr *attrs) {
    const char *o = out_name ? keep_str(g, ia_strdup(out_name)) : NULL;
    if (g->rc) return ZB_ERROR_NAME;
    ia_zb_op_multi(g, op_type, n_in, in, n_attrs, attrs, 1, &o);
    return g->rc ? ZB_ERROR_NAME : o;
}

const char *ia_zb_op(struct ia_zb *g, const char *op_type, size_t n_in, const char *const *in,
                     size_t n_attrs, const struct ia_zb_attr *attrs) {
    return ia_zb_op_named(g, NULL, op_type, n_in, in, n_attrs, attrs);
}

const char *ia_zb_op1(struct ia_zb *g, const char *op_type, const char *a) {
    return ia_zb_op(g, op_type, 1, &a, 0, NULL);
}

const char *ia_zb_op2(struct ia_zb *g, const char *op_type, const char *a, const char *b) {
    const char *in[2] = {a, b};
    return ia_zb_op(g, op_type, 2, in, 0, NULL);
}

/* ---- constants --------------------------------------------------------------- */

static const char *add_const(struct ia_zb *g, const char *name, enum ia_dtype dt, size_t rank,
                             const int64_t *dims, const void *data, size_t nbytes) {
    if (g->rc) return ZB_ERROR_NAME;
    const char *nm = name ? keep_str(g, ia_strdup(name))
                          : fmt_str(g, "const_%llu", (unsigned long long)g->counter++);
    if (g->rc) return ZB_ERROR_NAME;
    if (keep(g, ia_onnx_builder_add_initializer(g->b, nm, dt, rank, dims, data, nbytes)))
        return ZB_ERROR_NAME;
    return nm;
}

const char *ia_zb_scalar_f32(struct ia_zb *g, float v) {
    return add_const(g, NULL, IA_DTYPE_FLOAT32, 0, NULL, &v, sizeof v);
}

const char *ia_zb_const_i64(struct ia_zb *g, size_t n, const int64_t *v) {
    int64_t d = (int64_t)n;
    return add_const(g, NULL, IA_DTYPE_INT64, 1, &d, v, n * sizeof *v);
}

const char *ia_zb_scalar_i64(struct ia_zb *g, int64_t v) {
    return add_const(g, NULL, IA_DTYPE_INT64, 0, NULL, &v, sizeof v);
}

const char *ia_zb_const_f32(struct ia_zb *g, const char *name, size_t rank, const int64_t *dims,
                            const float *v) {
    uint64_t nb;
    if (ia_shape_nbytes(IA_DTYPE_FLOAT32, dims, rank, &nb)) {
        keep(g, IA_ERANGE);
        return ZB_ERROR_NAME;
    }
    return add_const(g, name, IA_DTYPE_FLOAT32, rank, dims, v, (size_t)nb);
}

const char *ia_zb_dim_of(struct ia_zb *g, const char *x, int64_t axis) {
    struct ia_zb_attr a[2] = {IA_ZB_INT("start", axis), IA_ZB_INT("end", axis == -1 ? INT64_MAX
                                                                                  : axis + 1)};
    return ia_zb_op(g, "Shape", 1, &x, 2, a);
}

/* ---- weights ------------------------------------------------------------------- */

/* splitmix64: a tiny counter-based generator; its stream per tensor is
 * keyed by (seed, name) so values do not depend on build order. */
static uint64_t splitmix(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t fnv1a(const char *s) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
    return h;
}

static void fill_normal(float *w, uint64_t n, float std, uint64_t seed) {
    uint64_t s = seed;
    for (uint64_t i = 0; i < n; i += 2) {
        /* Box-Muller on two uniforms in (0, 1]. */
        double u1 = ((splitmix(&s) >> 11) + 1) * 0x1.0p-53;
        double u2 = (splitmix(&s) >> 11) * 0x1.0p-53;
        double r = sqrt(-2.0 * log(u1)) * std;
        w[i] = (float)(r * cos(2 * M_PI * u2));
        if (i + 1 < n) w[i + 1] = (float)(r * sin(2 * M_PI * u2));
    }
}

/* The checkpoint tensor for `name`, trying the base prefix dropped/added. */
static const struct ia_st_tensor *ck_lookup(struct ia_zb *g, const char *name) {
    const struct ia_st_tensor *t = ia_hf_checkpoint_find(g->o.ckpt, name, NULL);
    const char *p = g->o.base_prefix;
    if (t || !p || !*p) return t;
    size_t pl = strlen(p);
    if (!strncmp(name, p, pl)) return ia_hf_checkpoint_find(g->o.ckpt, name + pl, NULL);
    char buf[512];
    snprintf(buf, sizeof buf, "%s%s", p, name);
    return ia_hf_checkpoint_find(g->o.ckpt, buf, NULL);
}

int ia_zb_has_weight(struct ia_zb *g, const char *name) {
    return g->o.ckpt ? ck_lookup(g, name) != NULL : 1;
}

static void shape_str(char *buf, size_t cap, size_t rank, const int64_t *dims) {
    size_t at = (size_t)snprintf(buf, cap, "[");
    for (size_t i = 0; i < rank && at < cap; i++)
        at += (size_t)snprintf(buf + at, cap - at, "%s%lld", i ? ", " : "", (long long)dims[i]);
    if (at < cap) snprintf(buf + at, cap - at, "]");
}

/* IEEE half → float (subnormals, inf and NaN included). */
static float half_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, e = (h >> 10) & 0x1f, m = h & 0x3ff, bits;
    if (e == 0) {
        float f = (float)m * 0x1.0p-24f;
        return sign ? -f : f;
    }
    if (e == 31) bits = sign | 0x7f800000u | (m << 13);
    else bits = sign | ((e + 112) << 23) | (m << 13);
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static float bf16_to_f32(uint16_t h) {
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static float elem_f32(const struct ia_st_tensor *t, uint64_t i) {
    const uint8_t *p = (const uint8_t *)t->data + i * ia_dtype_size(t->dtype);
    switch (t->dtype) {
    case IA_DTYPE_FLOAT32: {
        float f;
        memcpy(&f, p, 4);
        return f;
    }
    case IA_DTYPE_FLOAT64: {
        double d;
        memcpy(&d, p, 8);
        return (float)d;
    }
    case IA_DTYPE_FLOAT16: return half_to_f32((uint16_t)(p[0] | p[1] << 8));
    case IA_DTYPE_BFLOAT16: return bf16_to_f32((uint16_t)(p[0] | p[1] << 8));
    default: return 0;
    }
}

/* Fills w (model layout) from checkpoint tensor t (HF layout). */
static int weight_from_ckpt(struct ia_zb *g, const char *name, const struct ia_st_tensor *t,
                            enum ia_zb_layout layout, size_t rank, const int64_t *dims,
                            float *w) {
    const char *file = NULL;
    ia_hf_checkpoint_find(g->o.ckpt, t->name, &file);
    if (t->dtype != IA_DTYPE_FLOAT32 && t->dtype != IA_DTYPE_FLOAT16 &&
        t->dtype != IA_DTYPE_BFLOAT16 && t->dtype != IA_DTYPE_FLOAT64)
        return ia_zb_fail(g, IA_EFORMAT, "%s: tensor '%s' is %s, expected a float type",
                          file ? file : "checkpoint", t->name, t->dtype_name);
    int same = t->rank == rank;
    for (size_t i = 0; same && i < rank; i++) same = t->dims[i] == dims[i];
    if (!same) {
        char want[128], got[128];
        shape_str(want, sizeof want, rank, dims);
        shape_str(got, sizeof got, t->rank, t->dims);
        return ia_zb_fail(g, IA_EFORMAT, "%s: tensor '%s' has shape %s but the config makes %s",
                          file ? file : "checkpoint", t->name, got, want);
    }
    zoo_ckpt_mark_used(g->o.ckpt, t);
    (void)name;
    if (!w) return IA_OK;
    if (layout == IA_ZB_TRANSPOSED) {
        uint64_t r = (uint64_t)dims[0], c = (uint64_t)dims[1];
        for (uint64_t i = 0; i < r; i++)
            for (uint64_t j = 0; j < c; j++) w[j * r + i] = elem_f32(t, i * c + j);
    } else if (t->dtype == IA_DTYPE_FLOAT32) {
        if (t->nbytes) memcpy(w, t->data, t->nbytes);
    } else {
        for (uint64_t i = 0; i < t->numel; i++) w[i] = elem_f32(t, i);
    }
    return IA_OK;
}

static int emit_weight(struct ia_zb *g, const char *name, size_t rank, const int64_t *mdims,
                       const float *w, uint64_t nbytes) {
    if (!g->ext_open)
        return keep(g, ia_onnx_builder_add_initializer(g->b, name, IA_DTYPE_FLOAT32, rank, mdims,
                                                       w, (size_t)nbytes));
    static const uint8_t zeros[ZB_EXT_ALIGN];
    uint64_t pad = (ZB_EXT_ALIGN - g->ext_off % ZB_EXT_ALIGN) % ZB_EXT_ALIGN;
    if ((pad && fwrite(zeros, 1, pad, g->ext.f) != pad) ||
        (nbytes && fwrite(w, 1, nbytes, g->ext.f) != nbytes))
        return ia_zb_fail(g, IA_EIO, "%s: write failed (disk full?)", g->o.external_path);
    g->ext_off += pad;
    int rc = ia_onnx_builder_add_external_initializer(g->b, name, IA_DTYPE_FLOAT32, rank, mdims,
                                                      g->o.external_location, g->ext_off, nbytes);
    g->ext_off += nbytes;
    return keep(g, rc);
}

static void note_progress(struct ia_zb *g, uint64_t nbytes) {
    g->progress_done += nbytes;
    if (g->o.progress) g->o.progress(g->o.progress_user, g->progress_done, g->o.progress_total);
}

/* Lists nm (already kept by g) among the weights and counts its size;
 * returns nm, or ZB_ERROR_NAME once g has failed. */
static const char *add_weight(struct ia_zb *g, const char *nm, uint64_t numel, uint64_t nbytes) {
    if (g->rc) return ZB_ERROR_NAME;
    if (push_ptr(&g->weights, &g->n_weights, &g->cap_weights, (char *)nm)) {
        ia_zb_fail(g, IA_ENOMEM, "out of memory");
        return ZB_ERROR_NAME;
    }
    g->weight_bytes += nbytes;
    g->n_params += numel;
    return nm;
}

const char *ia_zb_weight(struct ia_zb *g, const char *name, enum ia_zb_init init,
                         enum ia_zb_layout layout, size_t rank, const int64_t *dims) {
    if (g->rc) return ZB_ERROR_NAME;
    for (size_t i = 0; i < g->n_weights; i++)
        if (!strcmp(g->weights[i], name)) return g->weights[i];
    if (rank > IA_ST_MAX_RANK || (layout == IA_ZB_TRANSPOSED && rank != 2)) {
        ia_zb_fail(g, IA_EINTERNAL, "weight '%s': bad rank %zu for its layout", name, rank);
        return ZB_ERROR_NAME;
    }
    int64_t mdims[IA_ST_MAX_RANK];
    memcpy(mdims, dims, rank * sizeof *dims);
    if (layout == IA_ZB_TRANSPOSED) {
        mdims[0] = dims[1];
        mdims[1] = dims[0];
    }
    uint64_t numel, nbytes;
    if (ia_shape_numel(dims, rank, &numel) || ia_shape_nbytes(IA_DTYPE_FLOAT32, dims, rank,
                                                               &nbytes)) {
        ia_zb_fail(g, IA_ERANGE, "weight '%s': size overflows", name);
        return ZB_ERROR_NAME;
    }
    const char *nm = keep_str(g, ia_strdup(name));
    if (g->rc) return ZB_ERROR_NAME;
    const struct ia_st_tensor *t = NULL;
    if (g->o.ckpt) {
        t = ck_lookup(g, name);
        if (!t) {
            ia_zb_fail(g, IA_ENOTFOUND, "checkpoint has no tensor '%s'", name);
            return ZB_ERROR_NAME;
        }
    }
    if (g->o.dry_run) {
        if (t) weight_from_ckpt(g, name, t, layout, rank, dims, NULL);
    } else {
        if ((uint64_t)(size_t)nbytes != nbytes) {
            ia_zb_fail(g, IA_ENOMEM, "weight '%s': too big for memory", name);
            return ZB_ERROR_NAME;
        }
        float *w = ia_malloc(nbytes ? (size_t)nbytes : 1);
        if (!w) {
            ia_zb_fail(g, IA_ENOMEM, "weight '%s': out of memory (%llu bytes)", name,
                       (unsigned long long)nbytes);
            return ZB_ERROR_NAME;
        }
        if (t) {
            weight_from_ckpt(g, name, t, layout, rank, dims, w);
        } else if (init == IA_ZB_INIT_NORMAL) {
            fill_normal(w, numel, g->o.init_std, g->o.seed ^ fnv1a(name));
        } else {
            float v = init == IA_ZB_INIT_ONES ? 1.0f : 0.0f;
            for (uint64_t i = 0; i < numel; i++) w[i] = v;
        }
        if (!g->rc) emit_weight(g, nm, rank, mdims, w, nbytes);
        ia_free(w);
        note_progress(g, nbytes);
    }
    return add_weight(g, nm, numel, nbytes);
}

struct ia_hf_checkpoint *ia_zb_checkpoint(const struct ia_zb *g) { return g->o.ckpt; }
int ia_zb_dry_run(const struct ia_zb *g) { return g->o.dry_run; }

const char *ia_zb_weight_values(struct ia_zb *g, const char *name, size_t rank,
                                const int64_t *dims, const float *values) {
    if (g->rc) return ZB_ERROR_NAME;
    for (size_t i = 0; i < g->n_weights; i++)
        if (!strcmp(g->weights[i], name)) return g->weights[i];
    uint64_t numel, nbytes;
    if (rank > IA_ST_MAX_RANK || ia_shape_numel(dims, rank, &numel) ||
        ia_shape_nbytes(IA_DTYPE_FLOAT32, dims, rank, &nbytes)) {
        ia_zb_fail(g, IA_ERANGE, "weight '%s': bad rank or size", name);
        return ZB_ERROR_NAME;
    }
    if (!g->o.dry_run && !values) {
        ia_zb_fail(g, IA_EINTERNAL, "weight '%s': no values", name);
        return ZB_ERROR_NAME;
    }
    const char *nm = keep_str(g, ia_strdup(name));
    if (g->rc) return ZB_ERROR_NAME;
    if (!g->o.dry_run) {
        emit_weight(g, nm, rank, dims, values, nbytes);
        note_progress(g, nbytes);
    }
    return add_weight(g, nm, numel, nbytes);
}

/* ---- layers --------------------------------------------------------------------- */

const char *ia_zb_embedding(struct ia_zb *g, const char *weight, int64_t n, int64_t dim,
                            const char *ids) {
    int64_t d[2] = {n, dim};
    const char *w = ia_zb_weight(g, weight, IA_ZB_INIT_NORMAL, IA_ZB_AS_IS, 2, d);
    return ia_zb_op2(g, "Gather", w, ids);
}

const char *ia_zb_linear(struct ia_zb *g, const char *prefix, int64_t in, int64_t out, int bias,
                         enum ia_zb_layout layout, const char *x) {
    char wn[512], bn[512];
    snprintf(wn, sizeof wn, "%s.weight", prefix);
    snprintf(bn, sizeof bn, "%s.bias", prefix);
    int64_t d[2] = {layout == IA_ZB_TRANSPOSED ? out : in, layout == IA_ZB_TRANSPOSED ? in : out};
    const char *w = ia_zb_weight(g, wn, IA_ZB_INIT_NORMAL, layout, 2, d);
    const char *y = ia_zb_op2(g, "MatMul", x, w);
    if (!bias) return y;
    const char *b = ia_zb_weight(g, bn, IA_ZB_INIT_ZEROS, IA_ZB_AS_IS, 1, &out);
    return ia_zb_op2(g, "Add", y, b);
}

void zoo_norm_affine(struct ia_zb *g, const char *prefix, int64_t dim, const char *in[3]) {
    char wn[512], bn[512];
    snprintf(wn, sizeof wn, "%s.weight", prefix);
    snprintf(bn, sizeof bn, "%s.bias", prefix);
    in[1] = ia_zb_weight(g, wn, IA_ZB_INIT_ONES, IA_ZB_AS_IS, 1, &dim);
    in[2] = ia_zb_weight(g, bn, IA_ZB_INIT_ZEROS, IA_ZB_AS_IS, 1, &dim);
}

const char *ia_zb_layernorm(struct ia_zb *g, const char *prefix, int64_t dim, double eps,
                            const char *x) {
    const char *in[3] = {x};
    zoo_norm_affine(g, prefix, dim, in);
    struct ia_zb_attr a[2] = {IA_ZB_INT("axis", -1), IA_ZB_FLOAT("epsilon", (float)eps)};
    return ia_zb_op(g, "LayerNormalization", 3, in, 2, a);
}

const char *ia_zb_rmsnorm(struct ia_zb *g, const char *weight, int64_t dim, double eps,
                          const char *x) {
    const char *w = ia_zb_weight(g, weight, IA_ZB_INIT_ONES, IA_ZB_AS_IS, 1, &dim);
    const char *sq = ia_zb_op2(g, "Pow", x, ia_zb_scalar_f32(g, 2.0f));
    int64_t ax[1] = {-1};
    struct ia_zb_attr a[2] = {IA_ZB_INTS("axes", ax, 1), IA_ZB_INT("keepdims", 1)};
    const char *ms = ia_zb_op(g, "ReduceMean", 1, &sq, 2, a);
    const char *rms = ia_zb_op1(g, "Sqrt", ia_zb_op2(g, "Add", ms, ia_zb_scalar_f32(g, (float)eps)));
    return ia_zb_op2(g, "Mul", w, ia_zb_op2(g, "Div", x, rms));
}

const char *ia_zb_gelu(struct ia_zb *g, const char *x) {
    const char *e = ia_zb_op1(g, "Erf", ia_zb_op2(g, "Div", x, ia_zb_scalar_f32(g, (float)M_SQRT2)));
    const char *h = ia_zb_op2(g, "Mul", x, ia_zb_op2(g, "Add", e, ia_zb_scalar_f32(g, 1.0f)));
    return ia_zb_op2(g, "Mul", h, ia_zb_scalar_f32(g, 0.5f));
}

const char *ia_zb_gelu_tanh(struct ia_zb *g, const char *x) {
    const char *x3 = ia_zb_op2(g, "Pow", x, ia_zb_scalar_f32(g, 3.0f));
    const char *in = ia_zb_op2(g, "Add", x, ia_zb_op2(g, "Mul", x3, ia_zb_scalar_f32(g, 0.044715f)));
    const char *t = ia_zb_op1(
        g, "Tanh", ia_zb_op2(g, "Mul", in, ia_zb_scalar_f32(g, (float)sqrt(2.0 / M_PI))));
    const char *h = ia_zb_op2(g, "Mul", x, ia_zb_op2(g, "Add", t, ia_zb_scalar_f32(g, 1.0f)));
    return ia_zb_op2(g, "Mul", h, ia_zb_scalar_f32(g, 0.5f));
}

const char *ia_zb_silu(struct ia_zb *g, const char *x) {
    return ia_zb_op2(g, "Mul", x, ia_zb_op1(g, "Sigmoid", x));
}

const char *ia_zb_activation(struct ia_zb *g, const char *act, const char *key, const char *x) {
    if (!strcmp(act, "gelu")) return ia_zb_gelu(g, x);
    if (!strcmp(act, "gelu_new") || !strcmp(act, "gelu_pytorch_tanh") ||
        !strcmp(act, "gelu_fast"))
        return ia_zb_gelu_tanh(g, x);
    if (!strcmp(act, "silu") || !strcmp(act, "swish")) return ia_zb_silu(g, x);
    if (!strcmp(act, "relu")) return ia_zb_op1(g, "Relu", x);
    if (!strcmp(act, "tanh")) return ia_zb_op1(g, "Tanh", x);
    if (!strcmp(act, "quick_gelu"))
        return ia_zb_op2(g, "Mul", x,
                         ia_zb_op1(g, "Sigmoid", ia_zb_op2(g, "Mul", x, ia_zb_scalar_f32(g, 1.702f))));
    ia_zb_fail(g, IA_EUNSUPPORTED, "config key '%s': activation '%s' is not supported", key, act);
    return ZB_ERROR_NAME;
}

const char *ia_zb_gated_mlp(struct ia_zb *g, const char *gate, const char *up, const char *down,
                            int64_t hidden, int64_t inter, int bias, const char *act,
                            const char *x) {
    const char *a = ia_zb_activation(
        g, act, "hidden_act", ia_zb_linear(g, gate, hidden, inter, bias, IA_ZB_TRANSPOSED, x));
    const char *u = ia_zb_linear(g, up, hidden, inter, bias, IA_ZB_TRANSPOSED, x);
    return ia_zb_linear(g, down, inter, hidden, bias, IA_ZB_TRANSPOSED, ia_zb_op2(g, "Mul", a, u));
}

const char *ia_zb_lm_head(struct ia_zb *g, const char *head, const char *tied, int64_t hidden,
                          int64_t vocab, const char *x) {
    if (ia_zb_from_checkpoint(g) && ia_zb_has_weight(g, head)) {
        int64_t d[2] = {vocab, hidden};
        return ia_zb_op2(g, "MatMul", x,
                         ia_zb_weight(g, head, IA_ZB_INIT_NORMAL, IA_ZB_TRANSPOSED, 2, d));
    }
    int64_t d[2] = {vocab, hidden}, perm[2] = {1, 0};
    const char *w = ia_zb_weight(g, tied, IA_ZB_INIT_NORMAL, IA_ZB_AS_IS, 2, d);
    struct ia_zb_attr a = IA_ZB_INTS("perm", perm, 2);
    return ia_zb_op2(g, "MatMul", x, ia_zb_op(g, "Transpose", 1, &w, 1, &a));
}

const char *ia_zb_select_token(struct ia_zb *g, const char *x, int64_t index) {
    const char *in[2] = {x, ia_zb_scalar_i64(g, index)};
    struct ia_zb_attr a = IA_ZB_INT("axis", 1);
    return ia_zb_op(g, "Gather", 2, in, 1, &a);
}

const char *ia_zb_split_heads(struct ia_zb *g, const char *x, int64_t heads, int64_t head_dim) {
    int64_t shape[4] = {0, 0, heads, head_dim}, perm[4] = {0, 2, 1, 3};
    const char *r = ia_zb_op2(g, "Reshape", x, ia_zb_const_i64(g, 4, shape));
    struct ia_zb_attr a = IA_ZB_INTS("perm", perm, 4);
    return ia_zb_op(g, "Transpose", 1, &r, 1, &a);
}

const char *ia_zb_merge_heads(struct ia_zb *g, const char *x, int64_t width) {
    int64_t shape[3] = {0, 0, width}, perm[4] = {0, 2, 1, 3};
    struct ia_zb_attr a = IA_ZB_INTS("perm", perm, 4);
    const char *t = ia_zb_op(g, "Transpose", 1, &x, 1, &a);
    return ia_zb_op2(g, "Reshape", t, ia_zb_const_i64(g, 3, shape));
}

static const char *unsqueeze(struct ia_zb *g, const char *x, size_t n, const int64_t *axes) {
    return ia_zb_op2(g, "Unsqueeze", x, ia_zb_const_i64(g, n, axes));
}

const char *ia_zb_attention_mask(struct ia_zb *g, const char *attention_mask,
                                 const char *query_like, int causal) {
    struct ia_zb_attr to_bool = IA_ZB_INT("to", 9 /* BOOL */);
    const char *m = ia_zb_op(g, "Cast", 1, &attention_mask, 1, &to_bool);
    int64_t ax12[2] = {1, 2};
    m = unsqueeze(g, m, 2, ax12); /* [B, 1, 1, T] */
    if (causal) {
        int64_t zero = 0;
        const char *t = ia_zb_dim_of(g, attention_mask, 1);
        const char *s = ia_zb_dim_of(g, query_like, 1);
        const char *ax0 = ia_zb_const_i64(g, 1, &zero);
        const char *ts = ia_zb_op2(g, "Squeeze", t, ax0);
        const char *ps = ia_zb_op2(g, "Squeeze", ia_zb_op2(g, "Sub", t, s), ax0);
        int64_t one_v = 1;
        const char *one = ia_zb_op2(g, "Squeeze", ia_zb_const_i64(g, 1, &one_v), ax0);
        const char *zs = ia_zb_op2(g, "Squeeze", ia_zb_const_i64(g, 1, &zero), ax0);
        const char *rk[3] = {zs, ts, one}, *rq[3] = {ps, ts, one};
        const char *kpos = ia_zb_op(g, "Range", 3, rk, 0, NULL);            /* [T] */
        int64_t ax1 = 1;
        const char *qpos = unsqueeze(g, ia_zb_op(g, "Range", 3, rq, 0, NULL), 1, &ax1); /* [S,1] */
        const char *allowed = ia_zb_op2(g, "LessOrEqual", kpos, qpos);      /* [S, T] */
        m = ia_zb_op2(g, "And", m, allowed);                                /* [B,1,S,T] */
    }
    const char *in[3] = {m, ia_zb_scalar_f32(g, 0.0f), ia_zb_scalar_f32(g, -FLT_MAX)};
    return ia_zb_op(g, "Where", 3, in, 0, NULL);
}

void ia_zb_rotary_tables(struct ia_zb *g, const char *position_ids, int64_t dim, double theta,
                         const char **cos_out, const char **sin_out) {
    int64_t half = dim / 2;
    float *inv = ia_malloc((size_t)(half ? half : 1) * sizeof *inv);
    if (!inv) {
        ia_zb_fail(g, IA_ENOMEM, "out of memory");
        *cos_out = *sin_out = ZB_ERROR_NAME;
        return;
    }
    /* As HF computes it, in float32: 1 / theta^(arange(0, dim, 2) / dim). */
    for (int64_t i = 0; i < half; i++)
        inv[i] = 1.0f / powf((float)theta, (float)(2 * i) / (float)dim);
    const char *invf = ia_zb_const_f32(g, NULL, 1, &half, inv);
    ia_free(inv);
    struct ia_zb_attr to_f = IA_ZB_INT("to", 1 /* FLOAT */);
    int64_t ax2 = 2, ax1 = 1;
    const char *pos = unsqueeze(g, ia_zb_op(g, "Cast", 1, &position_ids, 1, &to_f), 1, &ax2);
    const char *freqs = ia_zb_op2(g, "Mul", pos, invf); /* [B, S, dim/2] */
    const char *cat[2] = {freqs, freqs};
    struct ia_zb_attr axis = IA_ZB_INT("axis", -1);
    const char *emb = ia_zb_op(g, "Concat", 2, cat, 1, &axis);
    *cos_out = unsqueeze(g, ia_zb_op1(g, "Cos", emb), 1, &ax1);
    *sin_out = unsqueeze(g, ia_zb_op1(g, "Sin", emb), 1, &ax1);
}

const char *ia_zb_apply_rotary(struct ia_zb *g, const char *x, const char *cos, const char *sin,
                               int64_t dim) {
    int64_t z = 0, h = dim / 2, d = dim, ax = 3;
    const char *axes = ia_zb_const_i64(g, 1, &ax);
    const char *s1[4] = {x, ia_zb_const_i64(g, 1, &z), ia_zb_const_i64(g, 1, &h), axes};
    const char *s2[4] = {x, ia_zb_const_i64(g, 1, &h), ia_zb_const_i64(g, 1, &d), axes};
    const char *x1 = ia_zb_op(g, "Slice", 4, s1, 0, NULL);
    const char *x2 = ia_zb_op(g, "Slice", 4, s2, 0, NULL);
    const char *cat[2] = {ia_zb_op1(g, "Neg", x2), x1};
    struct ia_zb_attr a = IA_ZB_INT("axis", -1);
    const char *rot = ia_zb_op(g, "Concat", 2, cat, 1, &a);
    return ia_zb_op2(g, "Add", ia_zb_op2(g, "Mul", x, cos), ia_zb_op2(g, "Mul", rot, sin));
}

/* [B, Hkv, T, D] → [B, Hkv*rep, T, D], each kv head repeated rep times in
 * place (HF's repeat_kv). */
static const char *repeat_kv(struct ia_zb *g, const char *x, int64_t heads, int64_t rep,
                             int64_t head_dim) {
    int64_t ax = 2, shape[5] = {1, 1, rep, 1, 1}, out[4] = {0, heads, -1, head_dim};
    const char *e = ia_zb_op2(g, "Expand", unsqueeze(g, x, 1, &ax), ia_zb_const_i64(g, 5, shape));
    return ia_zb_op2(g, "Reshape", e, ia_zb_const_i64(g, 4, out));
}

const char *ia_zb_attention(struct ia_zb *g, const struct ia_zb_attn *a) {
    if (g->rc) return ZB_ERROR_NAME;
    if (a->n_heads <= 0 || a->n_kv_heads <= 0 || a->head_dim <= 0 ||
        a->n_heads % a->n_kv_heads) {
        ia_zb_fail(g, IA_EINVAL, "attention: %lld heads, %lld kv heads, head_dim %lld do not fit",
                   (long long)a->n_heads, (long long)a->n_kv_heads, (long long)a->head_dim);
        return ZB_ERROR_NAME;
    }
    const char *q = ia_zb_split_heads(g, a->q, a->n_heads, a->head_dim);
    const char *k = ia_zb_split_heads(g, a->k, a->n_kv_heads, a->head_dim);
    const char *v = ia_zb_split_heads(g, a->v, a->n_kv_heads, a->head_dim);
    if (a->cos) {
        q = ia_zb_apply_rotary(g, q, a->cos, a->sin, a->head_dim);
        k = ia_zb_apply_rotary(g, k, a->cos, a->sin, a->head_dim);
    }
    struct ia_zb_attr ax2 = IA_ZB_INT("axis", 2);
    if (a->past_k) {
        const char *ck[2] = {a->past_k, k}, *cv[2] = {a->past_v, v};
        k = ia_zb_op_named(g, a->present_k, "Concat", 2, ck, 1, &ax2);
        v = ia_zb_op_named(g, a->present_v, "Concat", 2, cv, 1, &ax2);
    } else if (a->present_k) {
        k = ia_zb_op_named(g, a->present_k, "Identity", 1, &k, 0, NULL);
        v = ia_zb_op_named(g, a->present_v, "Identity", 1, &v, 0, NULL);
    }
    if (a->n_kv_heads != a->n_heads) {
        int64_t rep = a->n_heads / a->n_kv_heads;
        k = repeat_kv(g, k, a->n_heads, rep, a->head_dim);
        v = repeat_kv(g, v, a->n_heads, rep, a->head_dim);
    }
    int64_t perm[4] = {0, 1, 3, 2};
    struct ia_zb_attr pa = IA_ZB_INTS("perm", perm, 4);
    const char *kt = ia_zb_op(g, "Transpose", 1, &k, 1, &pa);
    double scale = a->scale > 0 ? a->scale : 1.0 / sqrt((double)a->head_dim);
    const char *s = ia_zb_op2(g, "Mul", ia_zb_op2(g, "MatMul", q, kt),
                              ia_zb_scalar_f32(g, (float)scale));
    if (a->mask) s = ia_zb_op2(g, "Add", s, a->mask);
    struct ia_zb_attr sa = IA_ZB_INT("axis", -1);
    const char *p = ia_zb_op(g, "Softmax", 1, &s, 1, &sa);
    return ia_zb_merge_heads(g, ia_zb_op2(g, "MatMul", p, v), a->n_heads * a->head_dim);
}

const char *ia_zb_conv2d(struct ia_zb *g, const char *prefix, int64_t in_ch, int64_t out_ch,
                         int64_t kernel, int64_t stride, int64_t pad, int bias, const char *x) {
    char wn[512], bn[512];
    snprintf(wn, sizeof wn, "%s.weight", prefix);
    snprintf(bn, sizeof bn, "%s.bias", prefix);
    int64_t d[4] = {out_ch, in_ch, kernel, kernel};
    const char *in[3] = {x, ia_zb_weight(g, wn, IA_ZB_INIT_NORMAL, IA_ZB_AS_IS, 4, d),
                         bias ? ia_zb_weight(g, bn, IA_ZB_INIT_ZEROS, IA_ZB_AS_IS, 1, &out_ch)
                              : ""};
    int64_t k[2] = {kernel, kernel}, s[2] = {stride, stride}, p[4] = {pad, pad, pad, pad};
    struct ia_zb_attr a[3] = {IA_ZB_INTS("kernel_shape", k, 2), IA_ZB_INTS("strides", s, 2),
                              IA_ZB_INTS("pads", p, 4)};
    return ia_zb_op(g, "Conv", bias ? 3 : 2, in, 3, a);
}

const char *ia_zb_patch_embed(struct ia_zb *g, const char *prefix, int64_t channels,
                              int64_t hidden, int64_t patch, const char *pixels) {
    const char *c = ia_zb_conv2d(g, prefix, channels, hidden, patch, patch, 0, 1, pixels);
    int64_t shape[3] = {0, 0, -1}, perm[3] = {0, 2, 1};
    const char *f = ia_zb_op2(g, "Reshape", c, ia_zb_const_i64(g, 3, shape));
    struct ia_zb_attr a = IA_ZB_INTS("perm", perm, 3);
    return ia_zb_op(g, "Transpose", 1, &f, 1, &a);
}

/* ---- config helpers for the architectures ----------------------------------------- */

int zoo_cfg_int(struct ia_zb *g, const struct ia_hf_config *c, const char *key, int64_t *v) {
    if (g->rc) return 0;
    return keep(g, ia_hf_config_int(c, key, v)) == IA_OK;
}

int zoo_cfg_int_or(struct ia_zb *g, const struct ia_hf_config *c, const char *key, int64_t dflt,
                   int64_t *v) {
    if (g->rc) return 0;
    return keep(g, ia_hf_config_int_or(c, key, dflt, v)) == IA_OK;
}

int zoo_cfg_float_or(struct ia_zb *g, const struct ia_hf_config *c, const char *key, double dflt,
                     double *v) {
    if (g->rc) return 0;
    return keep(g, ia_hf_config_float_or(c, key, dflt, v)) == IA_OK;
}

int zoo_cfg_range(struct ia_zb *g, const struct ia_hf_config *c, const char *key, int64_t v,
                  int64_t lo, int64_t hi) {
    if (g->rc) return 0;
    if (v < lo || v > hi) {
        ia_zb_fail(g, IA_ERANGE, "%s: key '%s' is %lld, outside [%lld, %lld]",
                   ia_hf_config_label(c), key, (long long)v, (long long)lo, (long long)hi);
        return 0;
    }
    return 1;
}
