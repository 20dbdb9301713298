/* Generated benchmark inputs: shapes from the model's declared dims with
 * symbolic dims bound by name, values by the input's role (ids, masks,
 * positions, floats). Inputs are inputs, not results: they are made up on
 * purpose, from a fixed seed, so every run feeds the same bytes. */
#include <ctype.h>
#include <math.h>
#include <string.h>

#include "ia/bench.h"
#include "ia/core.h"
#include "ia/tensor_io.h"

/* ---- random numbers ------------------------------------------------------ */

void ia_bench_rng_seed(struct ia_bench_rng *r, uint64_t seed) { r->s = seed; }

uint64_t ia_bench_rng_u64(struct ia_bench_rng *r) {
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

double ia_bench_rng_uniform(struct ia_bench_rng *r) {
    return (double)(ia_bench_rng_u64(r) >> 11) * (1.0 / 9007199254740992.0);
}

double ia_bench_rng_exp(struct ia_bench_rng *r, double rate) {
    /* 1 - u is in (0, 1], so the log is finite. */
    return -log(1.0 - ia_bench_rng_uniform(r)) / rate;
}

/* ---- dim binding ------------------------------------------------------------ */

static int name_is(const char *s, size_t len, const char *const *names) {
    for (; *names; names++)
        if (strlen(*names) == len && !strncmp(s, *names, len)) return 1;
    return 0;
}

int ia_bench_bind_dim(const char *param, const struct ia_bench_shape *sh, int64_t *out,
                      unsigned *used) {
    static const char *const batch[] = {"batch", "batch_size", "N", NULL};
    static const char *const seq[] = {"sequence", "seq", "sequence_length", "seq_len",
                                      "seq_length", NULL};
    static const char *const past[] = {"past_sequence_length", "past_seq_len", "past_len",
                                       "past_length", NULL};
    int64_t sum = 0;
    unsigned u = 0;
    const char *p = param;
    /* A dim may be a sum of names ("past_sequence_length + sequence_length"),
     * as exporters write the length of a KV cache after the concat. */
    for (;;) {
        while (*p == ' ') p++;
        const char *start = p;
        while (*p && *p != '+' && *p != ' ') p++;
        size_t len = (size_t)(p - start);
        while (*p == ' ') p++;
        if (len == 0 || (*p && *p != '+')) goto unknown;
        if (name_is(start, len, batch)) {
            sum += sh->batch;
            u |= IA_BENCH_USES_BATCH;
        } else if (name_is(start, len, seq)) {
            sum += sh->seq;
            u |= IA_BENCH_USES_SEQ;
        } else if (name_is(start, len, past)) {
            sum += sh->past;
            u |= IA_BENCH_USES_PAST;
        } else {
            goto unknown;
        }
        if (!*p) break;
        p++; /* '+' */
    }
    *out = sum;
    if (used) *used |= u;
    return IA_OK;
unknown:
    return ia_error_set(IA_ENOTFOUND,
                        "symbolic dim '%s' is neither a batch nor a sequence length; give "
                        "this input with -i NAME=FILE",
                        param);
}

/* ---- vocabulary ---------------------------------------------------------------- */

static const struct ia_onnx_tensor *find_init(const struct ia_onnx_graph *g, const char *name) {
    for (size_t i = 0; i < g->n_initializers; i++)
        if (!strcmp(g->initializers[i].name, name)) return &g->initializers[i];
    return NULL;
}

int ia_bench_vocab_of(const struct ia_model *m, const char *input, int64_t *vocab) {
    static const char *const pass[] = {"Cast", "Reshape", "Unsqueeze", "Squeeze",
                                       "Flatten", "Identity", NULL};
    const struct ia_onnx_graph *g = &m->graph;
    const char *cur = input;
    /* Follows at most a few shape-only ops from the input to the Gather. */
    for (int depth = 0; depth < 4; depth++) {
        const char *next = NULL;
        for (size_t i = 0; i < g->n_nodes; i++) {
            const struct ia_onnx_node *n = &g->nodes[i];
            if (*n->domain) continue;
            if (!strcmp(n->op_type, "Gather") && n->n_inputs >= 2 && !strcmp(n->inputs[1], cur)) {
                const struct ia_onnx_tensor *t = find_init(g, n->inputs[0]);
                if (t && t->rank >= 1 && t->dims[0] > 0) {
                    *vocab = t->dims[0];
                    return IA_OK;
                }
            }
            if (!next && n->n_inputs >= 1 && n->n_outputs >= 1 && !strcmp(n->inputs[0], cur) &&
                name_is(n->op_type, strlen(n->op_type), pass))
                next = n->outputs[0];
        }
        if (!next) break;
        cur = next;
    }
    return ia_error_set(IA_ENOTFOUND, "no embedding table found for input '%s'", input);
}

/* ---- generation ------------------------------------------------------------------ */

enum role { R_IDS, R_MASK, R_TYPE, R_POS, R_FLOAT, R_BOOL };

static int contains(const char *s, const char *w) { return strstr(s, w) != NULL; }

static enum role role_of(const char *name, enum ia_dtype dt) {
    if (dt == IA_DTYPE_BOOL) return R_BOOL;
    if (dt == IA_DTYPE_FLOAT32 || dt == IA_DTYPE_FLOAT16 || dt == IA_DTYPE_BFLOAT16 ||
        dt == IA_DTYPE_FLOAT64)
        return R_FLOAT;
    if (contains(name, "attention_mask") || contains(name, "mask")) return R_MASK;
    if (contains(name, "token_type")) return R_TYPE;
    if (contains(name, "position_ids")) return R_POS;
    return R_IDS;
}

static uint64_t hash_name(const char *s) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

static void set_elem(struct ia_tensor *t, uint64_t i, double v) {
    switch (t->dtype) {
    case IA_DTYPE_FLOAT32: ((float *)t->data)[i] = (float)v; break;
    case IA_DTYPE_FLOAT64: ((double *)t->data)[i] = v; break;
    case IA_DTYPE_FLOAT16: ((uint16_t *)t->data)[i] = ia_f32_to_f16((float)v); break;
    case IA_DTYPE_BFLOAT16: ((uint16_t *)t->data)[i] = ia_f32_to_bf16((float)v); break;
    case IA_DTYPE_INT8: ((int8_t *)t->data)[i] = (int8_t)v; break;
    case IA_DTYPE_INT16: ((int16_t *)t->data)[i] = (int16_t)v; break;
    case IA_DTYPE_INT32: ((int32_t *)t->data)[i] = (int32_t)v; break;
    case IA_DTYPE_INT64: ((int64_t *)t->data)[i] = (int64_t)v; break;
    case IA_DTYPE_UINT8: ((uint8_t *)t->data)[i] = (uint8_t)v; break;
    case IA_DTYPE_UINT16: ((uint16_t *)t->data)[i] = (uint16_t)v; break;
    case IA_DTYPE_UINT32: ((uint32_t *)t->data)[i] = (uint32_t)v; break;
    case IA_DTYPE_UINT64: ((uint64_t *)t->data)[i] = (uint64_t)v; break;
    case IA_DTYPE_BOOL: ((uint8_t *)t->data)[i] = v != 0; break;
    default: break;
    }
}

static void fill(struct ia_tensor *t, enum role role, int64_t id_range, int64_t pos0,
                 uint64_t seed) {
    struct ia_bench_rng rng;
    ia_bench_rng_seed(&rng, seed);
    int64_t last = t->rank > 0 ? t->dims[t->rank - 1] : 1;
    for (uint64_t i = 0; i < t->numel; i++) {
        double v = 0;
        switch (role) {
        case R_IDS: v = (double)(ia_bench_rng_u64(&rng) % (uint64_t)id_range); break;
        case R_MASK:
        case R_BOOL: v = 1; break;
        case R_TYPE: v = 0; break;
        case R_POS: v = (double)(pos0 + (last > 0 ? (int64_t)(i % (uint64_t)last) : 0)); break;
        case R_FLOAT: v = ia_bench_rng_uniform(&rng) * 2.0 - 1.0; break;
        }
        set_elem(t, i, v);
    }
}

void ia_bench_inputs_free(struct ia_bench_inputs *in) {
    if (!in) return;
    for (size_t i = 0; i < in->n; i++) {
        if (in->t) ia_tensor_io_free(in->t[i]);
        if (in->names) ia_free(in->names[i]);
    }
    ia_free(in->t);
    ia_free(in->names);
    memset(in, 0, sizeof *in);
}

int ia_bench_make_inputs(const struct ia_model *m, const struct ia_bench_shape *sh, uint64_t seed,
                         struct ia_bench_inputs *out) {
    memset(out, 0, sizeof *out);
    const struct ia_onnx_graph *g = &m->graph;
    size_t cap = g->n_inputs ? g->n_inputs : 1;
    out->names = ia_calloc(cap, sizeof *out->names);
    out->t = ia_calloc(cap, sizeof *out->t);
    if (!out->names || !out->t) {
        ia_bench_inputs_free(out);
        return ia_error_set(IA_ENOMEM, "generating inputs: out of memory");
    }
    int rc = IA_OK;
    for (size_t i = 0; i < g->n_inputs && rc == IA_OK; i++) {
        const struct ia_onnx_value *v = &g->inputs[i];
        if (find_init(g, v->name)) continue; /* has a default */
        if (!v->is_tensor || v->dtype == IA_DTYPE_UNDEFINED || v->dtype == IA_DTYPE_STRING) {
            rc = ia_error_set(IA_EUNSUPPORTED,
                              "input '%s': cannot generate this type; give it with -i", v->name);
            break;
        }
        if (!v->has_shape || v->rank > IA_MAX_RANK) {
            rc = ia_error_set(IA_EUNSUPPORTED,
                              "input '%s': the model does not declare its shape; give it with -i",
                              v->name);
            break;
        }
        int64_t dims[IA_MAX_RANK];
        for (size_t d = 0; d < v->rank && rc == IA_OK; d++) {
            if (v->dims[d].value >= 0) {
                dims[d] = v->dims[d].value;
            } else if (v->dims[d].param && *v->dims[d].param) {
                rc = ia_bench_bind_dim(v->dims[d].param, sh, &dims[d], &out->uses);
                if (rc != IA_OK) ia_error_wrap(rc, "input '%s'", v->name);
            } else {
                rc = ia_error_set(IA_EUNSUPPORTED,
                                  "input '%s': dim %zu has neither a size nor a name; give this "
                                  "input with -i NAME=FILE",
                                  v->name, d);
            }
        }
        if (rc != IA_OK) break;
        enum role role = role_of(v->name, v->dtype);
        int64_t range = 100;
        if (role == R_IDS) {
            int64_t vocab;
            if (ia_bench_vocab_of(m, v->name, &vocab) == IA_OK) range = vocab;
            ia_error_clear();
            if (range > 1000) range = 1000;
        }
        struct ia_tensor *t;
        rc = ia_tensor_io_alloc(v->dtype, (int)v->rank, dims, v->name, &t);
        if (rc != IA_OK) {
            ia_error_wrap(rc, "input '%s'", v->name);
            break;
        }
        out->t[out->n] = t;
        out->names[out->n] = ia_strdup(v->name);
        out->n++;
        if (!out->names[out->n - 1]) {
            rc = ia_error_set(IA_ENOMEM, "generating inputs: out of memory");
            break;
        }
        fill(t, role, range, role == R_POS ? sh->past : 0, seed ^ hash_name(v->name));
    }
    if (rc != IA_OK) ia_bench_inputs_free(out);
    return rc;
}

/* ---- decoders ----------------------------------------------------------------------- */

static int has_prefix(const char *s, const char *p) { return !strncmp(s, p, strlen(p)); }

void ia_bench_detect_decoder(const struct ia_model *m, struct ia_bench_decoder *out) {
    memset(out, 0, sizeof *out);
    const struct ia_onnx_graph *g = &m->graph;
    int has_ids = 0, has_logits = 0;
    for (size_t i = 0; i < g->n_inputs; i++)
        if (!strcmp(g->inputs[i].name, "input_ids")) has_ids = 1;
    for (size_t i = 0; i < g->n_outputs; i++)
        if (!strcmp(g->outputs[i].name, "logits")) has_logits = 1;
    /* past_key_values.N.key ↔ present.N.key (and past.N.key ↔ present.N.key). */
    for (size_t i = 0; i < g->n_inputs && out->n_past < IA_BENCH_MAX_PAST; i++) {
        const char *in = g->inputs[i].name, *rest = NULL;
        if (has_prefix(in, "past_key_values")) rest = in + strlen("past_key_values");
        else if (has_prefix(in, "past.")) rest = in + strlen("past");
        else continue;
        for (size_t k = 0; k < g->n_outputs; k++) {
            const char *o = g->outputs[k].name;
            if (has_prefix(o, "present") && !strcmp(o + strlen("present"), rest)) {
                out->past[out->n_past] = in;
                out->present[out->n_past] = o;
                out->n_past++;
                break;
            }
        }
    }
    out->has_past = out->n_past > 0;
    out->is_decoder = out->has_past || (has_ids && has_logits);
}
