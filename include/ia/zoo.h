/*
 * zoo: model architectures written out as ONNX, and Hugging Face
 * checkpoints converted to ONNX in C (no Python, no PyTorch).
 *
 * - safetensors: a memory-mapped reader that validates every header field
 *   before a byte of tensor data is touched, and a writer.
 * - HF config.json (jansson) and checkpoints: one model.safetensors, or
 *   shards listed by model.safetensors.index.json (each shard validated).
 * - the graph builder (struct ia_zb) over ia_onnx_builder: ONNX opset 17
 *   building blocks (Linear, LayerNorm, RMSNorm, GELU, gated MLP, multi-head
 *   and grouped-query attention with masks, KV cache and rotary embeddings,
 *   patch embeddings, cross-attention), standard ops only, so ONNX Runtime
 *   and onnx.checker accept what it writes.
 * - architectures (the registry's families: `zoo list`) each read their
 *   parameters from HF config keys; presets are HF configs too, so
 *   `zoo build`, `--set key=value` and `convert` take the same path.
 * - ia_zoo_build: config + weights (a checkpoint, or seeded random) → .onnx
 *   (+ an external data file when the weights pass 2 GiB).
 *
 * Weights: HF Linear weights are [out, in]; the model stores them
 * transposed, [in, out], as MatMul's B. Initializers keep their HF names.
 * Synthetic weights come from a counter-based PRNG keyed by (seed, tensor
 * name), so a tensor's values do not depend on build order.
 */
#ifndef IA_ZOO_H
#define IA_ZOO_H

#include <stddef.h>
#include <stdint.h>

#include "ia/core.h"
#include "ia/onnx.h"
#include "ia/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped whenever a builder's output changes for the same input; part of
 * the convert cache key and written into every model's metadata. */
#define IA_ZOO_CONVERTER_VERSION "1"

/* ---- safetensors ------------------------------------------------------ */

#define IA_ST_MAX_HEADER (100u << 20) /* bytes of JSON header accepted */
#define IA_ST_MAX_RANK 8
#define IA_ST_MAX_TENSORS 1000000

struct ia_st_tensor {
    const char *name;
    const char *dtype_name; /* as in the file: "F32", "BF16", "I64", ... */
    enum ia_dtype dtype;
    size_t rank;
    int64_t dims[IA_ST_MAX_RANK];
    uint64_t numel, nbytes;
    uint64_t offset;  /* from the start of the data region */
    const void *data; /* into the mapping (not aligned); NULL when nbytes == 0 */
};

struct ia_st_meta {
    const char *key, *value;
};

struct ia_st_priv;

/* A validated safetensors file. Everything it points to is owned by it and
 * valid until ia_safetensors_close. Tensors are in data-offset order. */
struct ia_safetensors {
    const char *label; /* the path, or the label given to _parse */
    size_t n_tensors;
    const struct ia_st_tensor *tensors;
    size_t n_meta;
    const struct ia_st_meta *meta; /* "__metadata__" */
    uint64_t header_len, data_len;
    struct ia_st_priv *priv;
};

/* Maps and validates `path`: 8-byte LE header length within
 * [2, IA_ST_MAX_HEADER] and inside the file, a JSON object without
 * duplicate keys, known dtypes, byte length == numel x dtype size (checked
 * arithmetic), offsets in range, not overlapping and covering the data
 * region exactly. Errors name the file and the tensor: IA_ENOTFOUND,
 * IA_EIO, IA_EFORMAT, IA_EUNSUPPORTED (float8 and other dtypes we lack),
 * IA_ERANGE, IA_ENOMEM. */
int ia_safetensors_open(const char *path, struct ia_safetensors **out);
/* The same over bytes in memory; `buf` must outlive the result (tensor data
 * points into it). */
int ia_safetensors_parse(const void *buf, size_t len, const char *label,
                         struct ia_safetensors **out);
void ia_safetensors_close(struct ia_safetensors *st);
/* Binary search by name; NULL when absent. */
const struct ia_st_tensor *ia_safetensors_find(const struct ia_safetensors *st, const char *name);

struct ia_st_entry {
    const char *name;
    enum ia_dtype dtype; /* FLOAT32, FLOAT16, BFLOAT16, FLOAT64, INT*, UINT*, BOOL */
    size_t rank;
    const int64_t *dims;
    const void *data; /* numel x element size bytes */
};
/* Writes a safetensors file (tensors in the order given, contiguous; the
 * header padded with spaces to 8 bytes) through a temp file renamed into
 * place. */
int ia_safetensors_write(const char *path, const struct ia_st_entry *t, size_t n,
                         const struct ia_st_meta *meta, size_t n_meta);

/* ---- Hugging Face config and checkpoints ------------------------------ */

/* A config.json object (HF keys). */
struct ia_hf_config;

int ia_hf_config_load(const char *path, struct ia_hf_config **out);
/* `label` names the text in messages ("preset llama-tiny"). */
int ia_hf_config_parse(const char *json, size_t len, const char *label,
                       struct ia_hf_config **out);
int ia_hf_config_clone(const struct ia_hf_config *c, struct ia_hf_config **out);
void ia_hf_config_free(struct ia_hf_config *c);
const char *ia_hf_config_label(const struct ia_hf_config *c);
/* Sets `key` from text: valid JSON (42, 1e-6, true, null, "x", [..]) is
 * taken as such, anything else as a string. */
int ia_hf_config_set(struct ia_hf_config *c, const char *key, const char *value);
/* 1 when the key is present and not null. */
int ia_hf_config_has(const struct ia_hf_config *c, const char *key);
/* Typed getters: IA_ENOTFOUND ("<label>: missing key 'hidden_size'") when
 * absent or null, IA_EFORMAT when of the wrong type. The _or forms return
 * `dflt` when absent or null. */
int ia_hf_config_int(const struct ia_hf_config *c, const char *key, int64_t *out);
int ia_hf_config_int_or(const struct ia_hf_config *c, const char *key, int64_t dflt,
                        int64_t *out);
int ia_hf_config_float(const struct ia_hf_config *c, const char *key, double *out);
int ia_hf_config_float_or(const struct ia_hf_config *c, const char *key, double dflt,
                          double *out);
int ia_hf_config_bool_or(const struct ia_hf_config *c, const char *key, int dflt, int *out);
/* The string is the config's (valid until the key changes or _free). */
int ia_hf_config_str_or(const struct ia_hf_config *c, const char *key, const char *dflt,
                        const char **out);
/* Entries of an array or object key; -1 when absent, null or a scalar. */
int64_t ia_hf_config_len(const struct ia_hf_config *c, const char *key);
/* A nested config object (CLIP's text_config, vision_config) as a config of
 * its own, labelled "<label>: <key>"; the caller frees it. An absent or null
 * key gives an empty object (HF then uses the sub-config's defaults);
 * IA_EFORMAT when the key is not an object. */
int ia_hf_config_sub(const struct ia_hf_config *c, const char *key, struct ia_hf_config **out);
/* Entry i of an array key as an integer (wav2vec2's conv_dim): IA_ENOTFOUND
 * when absent or shorter, IA_EFORMAT when not an array of integers. */
int ia_hf_config_int_at(const struct ia_hf_config *c, const char *key, size_t i, int64_t *out);
/* The first entry of "architectures", or NULL. */
const char *ia_hf_config_architecture(const struct ia_hf_config *c);
/* Compact JSON text (sorted keys) for metadata and cache keys; ia_free it. */
char *ia_hf_config_dump(const struct ia_hf_config *c);

/* The safetensors of a checkpoint folder: model.safetensors, or the shards
 * named by model.safetensors.index.json's weight_map (every shard validated,
 * every mapped tensor present in its shard). */
struct ia_hf_checkpoint;

int ia_hf_checkpoint_open(const char *dir, struct ia_hf_checkpoint **out);
void ia_hf_checkpoint_close(struct ia_hf_checkpoint *ck);
size_t ia_hf_checkpoint_n_files(const struct ia_hf_checkpoint *ck);
size_t ia_hf_checkpoint_n_tensors(const struct ia_hf_checkpoint *ck);
/* The tensor called `name`, or NULL; *file (optional) gets the shard's path. */
const struct ia_st_tensor *ia_hf_checkpoint_find(const struct ia_hf_checkpoint *ck,
                                                 const char *name, const char **file);
/* How many tensors of the checkpoint were read by builds so far (a
 * converter warns about the ones it left unused). */
size_t ia_hf_checkpoint_n_used(const struct ia_hf_checkpoint *ck);
/* The first unused tensor's name from index `from` on, and its index. */
const char *ia_hf_checkpoint_next_unused(const struct ia_hf_checkpoint *ck, size_t from,
                                         size_t *index);

/* ---- the graph builder ------------------------------------------------ */

/* A graph under construction. Builder calls return the name of the value
 * they produce (owned by the builder, valid until ia_zb_destroy). Errors are
 * sticky, the SQLite way: the first one is kept (ia_zb_status) and every
 * later call returns the name "<error>" and does nothing, so architecture code
 * reads as a straight forward pass and checks once at the end. */
struct ia_zb;

enum ia_zb_init {
    IA_ZB_INIT_NORMAL = 0, /* N(0, init_std) */
    IA_ZB_INIT_ZEROS,
    IA_ZB_INIT_ONES,
};

/* How a weight is laid out in the checkpoint relative to the model. */
enum ia_zb_layout {
    IA_ZB_AS_IS = 0,
    IA_ZB_TRANSPOSED, /* 2-D, stored [out, in] (nn.Linear): written [in, out] */
};

struct ia_zb_opts {
    /* Weights from here by HF name; NULL → seeded random weights. */
    struct ia_hf_checkpoint *ckpt;
    /* A prefix HF adds or drops between model classes ("bert.", "transformer.",
     * "vit."): a name not found as given is tried with it removed or added. */
    const char *base_prefix;
    uint64_t seed;
    float init_std; /* 0 → 0.02 */
    /* Count weights without making them (sizing before a real build). */
    int dry_run;
    /* Non-NULL: weights are streamed to this file and referenced as ONNX
     * external data named `external_location` (relative to the model). */
    const char *external_path;
    const char *external_location;
    ia_progress_fn progress; /* weight bytes done / progress_total */
    void *progress_user;
    uint64_t progress_total;
};

int ia_zb_create(const struct ia_zb_opts *opts, struct ia_zb **out);
void ia_zb_destroy(struct ia_zb *g);
/* IA_OK, or the first error (its message is in the builder too). */
int ia_zb_status(const struct ia_zb *g);
const char *ia_zb_errmsg(const struct ia_zb *g);
/* Records an error from architecture code (sticky like the others). */
int ia_zb_fail(struct ia_zb *g, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
struct ia_onnx_builder *ia_zb_builder(struct ia_zb *g);
/* Sets the base prefix (see ia_zb_opts.base_prefix); the string is copied. */
void ia_zb_set_base_prefix(struct ia_zb *g, const char *prefix);
uint64_t ia_zb_weight_bytes(const struct ia_zb *g);
uint64_t ia_zb_n_params(const struct ia_zb *g);
/* Flushes the external data file (if any) and writes the model to `path`. */
int ia_zb_write(struct ia_zb *g, const char *path);

/* Graph inputs and outputs. dims: a number, or a symbolic name. */
struct ia_zb_dim {
    int64_t value; /* used when sym is NULL */
    const char *sym;
};
const char *ia_zb_input(struct ia_zb *g, const char *name, enum ia_dtype dtype, int rank,
                        const struct ia_zb_dim *dims);
/* Makes `value` a graph output called `name` (an Identity when the names
 * differ). */
void ia_zb_output(struct ia_zb *g, const char *value, const char *name, enum ia_dtype dtype,
                  int rank, const struct ia_zb_dim *dims);

/* ---- primitive ops ---- */
struct ia_zb_attr {
    const char *name;
    enum ia_onnx_attr_type type; /* INT, FLOAT, STRING or INTS */
    int64_t i;
    float f;
    const char *s;
    size_t n;
    const int64_t *ints;
};
#define IA_ZB_INT(nm, v) ((struct ia_zb_attr){.name = (nm), .type = IA_ONNX_ATTR_INT, .i = (v)})
#define IA_ZB_FLOAT(nm, v) ((struct ia_zb_attr){.name = (nm), .type = IA_ONNX_ATTR_FLOAT, .f = (v)})
#define IA_ZB_INTS(nm, arr, cnt) \
    ((struct ia_zb_attr){.name = (nm), .type = IA_ONNX_ATTR_INTS, .ints = (arr), .n = (cnt)})

/* A node of the default domain with one output; "" marks an omitted input. */
const char *ia_zb_op(struct ia_zb *g, const char *op_type, size_t n_in, const char *const *in,
                     size_t n_attrs, const struct ia_zb_attr *attrs);
/* The same with the output name given (graph outputs like present.0.key). */
const char *ia_zb_op_named(struct ia_zb *g, const char *out_name, const char *op_type,
                           size_t n_in, const char *const *in, size_t n_attrs,
                           const struct ia_zb_attr *attrs);
/* Several outputs: out[0..n_out) get the names. */
int ia_zb_op_multi(struct ia_zb *g, const char *op_type, size_t n_in, const char *const *in,
                   size_t n_attrs, const struct ia_zb_attr *attrs, size_t n_out,
                   const char **out);
const char *ia_zb_op1(struct ia_zb *g, const char *op_type, const char *a);
const char *ia_zb_op2(struct ia_zb *g, const char *op_type, const char *a, const char *b);

/* Small constants as initializers. */
const char *ia_zb_scalar_f32(struct ia_zb *g, float v);
const char *ia_zb_const_i64(struct ia_zb *g, size_t n, const int64_t *v); /* 1-D */
const char *ia_zb_scalar_i64(struct ia_zb *g, int64_t v);                  /* rank 0 */
const char *ia_zb_const_f32(struct ia_zb *g, const char *name, size_t rank, const int64_t *dims,
                            const float *v);
/* Shape(x)[axis] as int64[1] (negative axis counts from the end). */
const char *ia_zb_dim_of(struct ia_zb *g, const char *x, int64_t axis);

/* A float32 weight called `name` (its HF name) with the checkpoint shape
 * `dims`, laid out as `layout` says. From a checkpoint: the shape must match
 * (else the error names the tensor and both shapes); F16/BF16/F64 are
 * converted. Synthetic: made with `init`. Asking twice for the same name
 * returns the same initializer. */
const char *ia_zb_weight(struct ia_zb *g, const char *name, enum ia_zb_init init,
                         enum ia_zb_layout layout, size_t rank, const int64_t *dims);
/* 1 when the checkpoint has `name` (always 1 for synthetic weights). */
int ia_zb_has_weight(struct ia_zb *g, const char *name);
/* Whether weights come from a checkpoint. */
int ia_zb_from_checkpoint(const struct ia_zb *g);

/* ---- layers ---- */
/* Gather(weight [n, dim], ids). */
const char *ia_zb_embedding(struct ia_zb *g, const char *weight, int64_t n, int64_t dim,
                            const char *ids);
/* x @ W + b with W = prefix.weight: HF shape [out, in] (nn.Linear, layout
 * TRANSPOSED) or [in, out] (GPT-2's Conv1D, layout AS_IS); b = prefix.bias
 * [out] when `bias`. */
const char *ia_zb_linear(struct ia_zb *g, const char *prefix, int64_t in, int64_t out, int bias,
                         enum ia_zb_layout layout, const char *x);
/* LayerNormalization over the last axis with prefix.weight and prefix.bias. */
const char *ia_zb_layernorm(struct ia_zb *g, const char *prefix, int64_t dim, double eps,
                            const char *x);
/* x / sqrt(mean(x^2) + eps) * weight (Pow/ReduceMean/Add/Sqrt/Div/Mul). */
const char *ia_zb_rmsnorm(struct ia_zb *g, const char *weight, int64_t dim, double eps,
                          const char *x);
const char *ia_zb_gelu(struct ia_zb *g, const char *x);      /* erf form */
const char *ia_zb_gelu_tanh(struct ia_zb *g, const char *x); /* tanh approximation */
const char *ia_zb_silu(struct ia_zb *g, const char *x);
/* By HF hidden_act name: gelu, gelu_new, gelu_pytorch_tanh, gelu_fast,
 * silu/swish, relu, tanh, quick_gelu; other names fail naming `key`. */
const char *ia_zb_activation(struct ia_zb *g, const char *act, const char *key, const char *x);
/* down(act(gate(x)) * up(x)), the Llama MLP; names are full prefixes. */
const char *ia_zb_gated_mlp(struct ia_zb *g, const char *gate, const char *up, const char *down,
                            int64_t hidden, int64_t inter, int bias, const char *act,
                            const char *x);
/* Logits x @ head^T: `head` ([vocab, hidden], nn.Linear) when the
 * checkpoint has it, else the tied embedding `tied` (a Transpose the engine
 * folds at load); synthetic weights always tie. */
const char *ia_zb_lm_head(struct ia_zb *g, const char *head, const char *tied, int64_t hidden,
                          int64_t vocab, const char *x);
/* x[:, index, :] for x [B, S, H] → [B, H] (CLS pooling). */
const char *ia_zb_select_token(struct ia_zb *g, const char *x, int64_t index);
/* [B, S, H*D] → [B, H, S, D] and back. */
const char *ia_zb_split_heads(struct ia_zb *g, const char *x, int64_t heads, int64_t head_dim);
const char *ia_zb_merge_heads(struct ia_zb *g, const char *x, int64_t width);

/* Additive float mask from attention_mask [B, T] (1 keep, 0 pad): 0 where
 * attended, -FLT_MAX elsewhere. Causal: [B, 1, S, T] where the S queries
 * (S = dim 1 of `query_like`) are the last S of T positions; otherwise
 * [B, 1, 1, T] (encoders, cross-attention). */
const char *ia_zb_attention_mask(struct ia_zb *g, const char *attention_mask,
                                 const char *query_like, int causal);
/* Rotary tables from position_ids [B, S] (int64): cos, sin [B, 1, S, dim]
 * with inv_freq = theta^(-2i/dim), halves repeated (HF's rotate_half form). */
void ia_zb_rotary_tables(struct ia_zb *g, const char *position_ids, int64_t dim, double theta,
                         const char **cos_out, const char **sin_out);
/* x * cos + rotate_half(x) * sin for x [B, H, S, dim]. */
const char *ia_zb_apply_rotary(struct ia_zb *g, const char *x, const char *cos, const char *sin,
                               int64_t dim);

/* Scaled dot-product attention over projected q [B,S,Hq*D], k, v [B,T,Hkv*D]. */
struct ia_zb_attn {
    int64_t n_heads, n_kv_heads, head_dim; /* n_kv_heads divides n_heads (GQA) */
    const char *q, *k, *v;
    const char *mask;     /* additive, broadcastable to [B, Hq, S, T]; NULL: none */
    const char *cos, *sin; /* rotary tables for q and k, or NULL */
    const char *past_k, *past_v; /* [B, Hkv, P, D] or NULL */
    /* Output names for k and v after the cache concat ([B, Hkv, P+T, D]),
     * or NULL. */
    const char *present_k, *present_v;
    double scale; /* 0 → 1/sqrt(head_dim) */
};
/* Returns the context [B, S, Hq*D]. */
const char *ia_zb_attention(struct ia_zb *g, const struct ia_zb_attn *a);

/* Conv with prefix.weight [out, in/group, kh, kw] (+ prefix.bias [out]). */
const char *ia_zb_conv2d(struct ia_zb *g, const char *prefix, int64_t in_ch, int64_t out_ch,
                         int64_t kernel, int64_t stride, int64_t pad, int bias, const char *x);
/* Patch embedding: Conv(kernel = stride = patch) then [B, C, h, w] →
 * [B, h*w, C]. */
const char *ia_zb_patch_embed(struct ia_zb *g, const char *prefix, int64_t channels,
                              int64_t hidden, int64_t patch, const char *pixels);

/* ---- architectures and presets ----------------------------------------- */

struct ia_zoo_preset {
    const char *name;   /* "tiny", "small", "base" */
    const char *like;   /* the public model it follows, "" for test sizes */
    const char *config; /* HF config.json text */
};

struct ia_zoo_build_opts {
    int with_past; /* decoders: KV-cache inputs and outputs */
};

struct ia_zoo_arch {
    const char *name;    /* "bert" */
    const char *summary; /* one line */
    int implemented;     /* 0: listed (a benchmark family) but not built yet */
    const char *const *model_types; /* HF model_type values it converts; NULL-terminated */
    const struct ia_zoo_preset *presets;
    size_t n_presets;
    int supports_past;
    /* Builds the graph from `cfg` into g (weights through ia_zb_weight). */
    int (*build)(struct ia_zb *g, const struct ia_hf_config *cfg,
                 const struct ia_zoo_build_opts *o);
};

size_t ia_zoo_n_archs(void);
const struct ia_zoo_arch *ia_zoo_arch_at(size_t i);
/* By name ("bert", "qwen2"); NULL when unknown. */
const struct ia_zoo_arch *ia_zoo_arch_find(const char *name);
/* By the config's model_type; NULL (message set, naming model_type and
 * architectures) when no implemented arch converts it. */
const struct ia_zoo_arch *ia_zoo_arch_for_config(const struct ia_hf_config *cfg);
/* The preset's config (a new object the caller frees). */
int ia_zoo_preset_config(const struct ia_zoo_arch *a, const char *preset,
                         struct ia_hf_config **out);

/* ---- building and converting ------------------------------------------- */

struct ia_zoo_result {
    uint64_t n_params, weight_bytes;
    int external;       /* weights went to an external data file */
    char data_file[64]; /* its name next to the model, when external */
};

struct ia_zoo_opts {
    const char *preset;           /* recorded in metadata; may be NULL */
    struct ia_hf_checkpoint *ckpt; /* NULL: synthetic weights */
    const char *source_cid;       /* recorded in metadata; may be NULL */
    struct ia_zoo_build_opts build;
    uint64_t seed;                /* synthetic weights */
    /* Weights to external data when over this many bytes; 0 → 2 GiB minus
     * room for the graph. 1 forces external data. */
    uint64_t external_threshold;
    ia_progress_fn progress;      /* weight bytes written / total */
    void *progress_user;
};

/* Builds `arch` from `cfg` and writes `path` (and `path`.data when the
 * weights go external). A dry run sizes the weights first: inline weights
 * must fit in memory, external ones on the disk, else IA_ENOSPC/IA_ENOMEM
 * says how much is needed. Writes metadata_props: weights
 * (synthetic|checkpoint), arch, preset, converter, converter_version,
 * source_cid, hf_config. */
int ia_zoo_build(const struct ia_zoo_arch *arch, const struct ia_hf_config *cfg,
                 const struct ia_zoo_opts *opts, const char *path, struct ia_zoo_result *res);

/* Converts the HF checkpoint folder `hf_dir` (config.json + safetensors) to
 * `out_path`: picks the builder from model_type, maps the HF tensor names,
 * and records the source CID (the folder hashed as `add -r --only-hash`
 * would) and converter version in the metadata. With a store, the result is
 * cached there under (source CID, converter version, options): a second
 * convert of the same checkpoint copies the stored model out (cached = 1).
 * `check` (verify + a numerical self-check; the CLI hands in the engine's)
 * runs on a fresh model before it is stored; its failure fails the
 * convert and removes the output. An impossible conversion names the
 * config key or tensor at fault. */
struct ia_store;
struct ia_zoo_convert_opts {
    struct ia_store *store; /* NULL: no cache */
    struct ia_zoo_build_opts build;
    uint64_t external_threshold; /* as in ia_zoo_opts */
    int (*check)(void *user, const char *model_path);
    void *check_user;
    ia_progress_fn progress; /* weight bytes */
    void *progress_user;
};

struct ia_zoo_convert_result {
    struct ia_zoo_result build;
    int cached;
    const char *arch; /* static: "bert", ... */
    char architecture[128];  /* HF class, e.g. "BertForMaskedLM" */
    char source_cid[256];
    char model_cid[256];     /* the stored model's CID (when a store was given) */
    size_t n_ckpt_tensors, n_unused;
    char first_unused[256];  /* a checkpoint tensor the model did not use */
};

int ia_zoo_convert(const char *hf_dir, const char *out_path, const struct ia_zoo_convert_opts *o,
                   struct ia_zoo_convert_result *r);

/* ---- sample inputs --------------------------------------------------------- */

/* Deterministic inputs for a zoo-style model, by input name and declared
 * shape: input_ids small token ids (1..99), attention_mask ones,
 * token_type_ids zeros, position_ids past..past+seq-1, past_key_values.*
 * zeros of length `past`, float inputs (pixel_values) a smooth pattern in
 * [-1, 1]. Symbolic dims: batch_size → batch, sequence_length and
 * decoder_sequence_length → seq (at least 16000 for input_values, raw
 * 16 kHz audio),
 * past_sequence_length → past, their sum → past + seq, others → 1.
 * *tensors is an ia_malloc'd array of n tensors (ia_tensor_io_free each;
 * their names are the input names). */
struct ia_tensor;
struct ia_zoo_sample_opts {
    int64_t batch, seq, past; /* 0 → 1, 8, 0 */
};
int ia_zoo_sample_inputs(const struct ia_model *m, const struct ia_zoo_sample_opts *o,
                         struct ia_tensor ***tensors, size_t *n);

/* ---- builder additions for t5, clip, whisper, wav2vec2 --------------------- */
/* (builder_extra.c; the three below it live in builder.c for its internals.) */

/* The builder's checkpoint (NULL: synthetic weights) and whether it only sizes. */
struct ia_hf_checkpoint *ia_zb_checkpoint(const struct ia_zb *g);
int ia_zb_dry_run(const struct ia_zb *g);
/* A float32 weight `name` [dims] with values the caller computed (a
 * sinusoid table, a weight-normalised kernel): counted, streamed to external
 * data and deduplicated like ia_zb_weight. `values` is copied; it may be
 * NULL in a dry run. */
const char *ia_zb_weight_values(struct ia_zb *g, const char *name, size_t rank,
                                const int64_t *dims, const float *values);

/* Conv over x [B, in_ch, L] with prefix.weight [out_ch, in_ch/groups, kernel]
 * (+ prefix.bias [out_ch]); pad_begin/pad_end zeros at the ends of L. */
const char *ia_zb_conv1d(struct ia_zb *g, const char *prefix, int64_t in_ch, int64_t out_ch,
                         int64_t kernel, int64_t stride, int64_t pad_begin, int64_t pad_end,
                         int64_t groups, int bias, const char *x);
/* GroupNorm with one group per channel (= InstanceNormalization) over
 * x [B, C, L], prefix.weight and prefix.bias [C]. */
const char *ia_zb_instance_norm(struct ia_zb *g, const char *prefix, int64_t channels,
                                double eps, const char *x);

/* T5's relative position bucket of rel = key - query, computed as HF does
 * in float32 (bidirectional for encoders, past-only for decoders). The
 * config must have num_buckets >= 4 and max_distance > num_buckets / 2. */
int64_t ia_zb_t5_bucket(int64_t rel, int bidirectional, int64_t num_buckets,
                        int64_t max_distance);
/* T5 position bias [1, heads, S, T] from `weight` [num_buckets, heads]
 * (S = dim 1 of query_like, the last S of the T = dim 1 of key_like
 * positions). Buckets come from a precomputed table over rel in
 * [-max_distance, max_distance]: every farther rel shares the end bucket. */
const char *ia_zb_t5_position_bias(struct ia_zb *g, const char *weight, int64_t num_buckets,
                                   int64_t max_distance, int64_t heads, int bidirectional,
                                   const char *query_like, const char *key_like);
/* Additive causal mask [1, 1, S, S] (0 or -FLT_MAX), S = dim 1 of x, for
 * decoders without a padding mask. */
const char *ia_zb_causal_mask(struct ia_zb *g, const char *x);
/* Whisper's sinusoids(length, channels): [length, channels], sin of
 * t * max_timescale^(-i / (channels/2 - 1)) for i < channels/2, then cos.
 * The weight `name`: read from the checkpoint when it has the tensor,
 * else computed. channels must be even and >= 4. */
const char *ia_zb_sinusoid_weight(struct ia_zb *g, const char *name, int64_t length,
                                  int64_t channels, double max_timescale);
/* A weight-normalised kernel w = g * v / ||v|| (torch weight_norm with
 * `dim`: the norm over every other axis), folded at conversion from
 * prefix.weight_g / prefix.weight_v (or prefix.parametrizations.weight.
 * original0 / original1) and written as prefix.weight; synthetic builds
 * make prefix.weight directly. */
const char *ia_zb_weight_norm(struct ia_zb *g, const char *prefix, size_t rank,
                              const int64_t *dims, int dim);
/* x / ||x||_2 over the last axis. */
const char *ia_zb_l2_normalize(struct ia_zb *g, const char *x);
/* Row idx[b] of each x[b] for x [B, S, hidden], idx int64 [B] → [B, hidden]. */
const char *ia_zb_gather_rows(struct ia_zb *g, const char *x, const char *idx, int64_t hidden);

/* ---- vision and multimodal blocks (builder_vision.c: DETR, X-CLIP, LLaVA, CLAP) ---- */

/* HF's frozen BatchNorm2d on x [B, C, H, W] from prefix.weight, .bias,
 * .running_mean, .running_var: x * w/sqrt(var + eps) + (b - mean * scale). */
const char *ia_zb_frozen_batchnorm(struct ia_zb *g, const char *prefix, int64_t ch, double eps,
                                   const char *x);
const char *ia_zb_maxpool(struct ia_zb *g, int64_t kernel, int64_t stride, int64_t pad,
                          const char *x);
/* out_proj(attention(q_proj(xq), k_proj(xkv), v_proj(xkv))), all with biases
 * (CLIP's attention block, prefix "...self_attn"); mask additive or NULL. */
const char *ia_zb_mha_block(struct ia_zb *g, const char *prefix, int64_t dim, int64_t heads,
                            const char *mask, const char *xq, const char *xkv);
/* A CLIP-style pre-LN encoder layer with prefix (ending in '.') +
 * layer_norm1, self_attn.*, layer_norm2, mlp.fc1, mlp.fc2. */
const char *ia_zb_prenorm_layer(struct ia_zb *g, const char *prefix, int64_t dim, int64_t heads,
                                int64_t inter, double eps, const char *act, const char *mask,
                                const char *x);
/* CLIP vision embeddings: prefix.patch_embedding (Conv, no bias), a class
 * token prefix.class_embedding [dim] in front, plus
 * prefix.position_embedding.weight [1 + (image/patch)^2, dim]. */
const char *ia_zb_cls_patch_embed(struct ia_zb *g, const char *prefix, int64_t channels,
                                  int64_t dim, int64_t image, int64_t patch, const char *pixels);
const char *ia_zb_reduce_mean(struct ia_zb *g, const char *x, int64_t axis, int keepdims);
/* x[start:end] along axis (Slice with constant bounds). */
const char *ia_zb_slice(struct ia_zb *g, const char *x, int64_t axis, int64_t start, int64_t end);
const char *ia_zb_reshape(struct ia_zb *g, const char *x, size_t rank, const int64_t *shape);
const char *ia_zb_transpose(struct ia_zb *g, const char *x, size_t rank, const int64_t *perm);

#ifdef __cplusplus
}
#endif
#endif
