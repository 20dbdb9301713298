/* Helpers shared by the zoo's files; not part of the public API. */
#ifndef IA_ZOO_INTERNAL_H
#define IA_ZOO_INTERNAL_H

#include <stdio.h>

#include "ia/zoo.h"

/* Opens a temporary file next to `path` for an atomic replace. */
struct zoo_tmpfile {
    FILE *f;
    char *tmp;
    const char *path;
};
int zoo_tmp_open(struct zoo_tmpfile *t, const char *path);
/* Flushes, fsyncs and renames into place; on failure removes the temp. */
int zoo_tmp_commit(struct zoo_tmpfile *t);
void zoo_tmp_abort(struct zoo_tmpfile *t);

/* Records that a checkpoint tensor was read (for the unused-tensor report). */
void zoo_ckpt_mark_used(struct ia_hf_checkpoint *ck, const struct ia_st_tensor *t);

/* The architecture builders (arch_*.c). */
int zoo_build_bert(struct ia_zb *g, const struct ia_hf_config *cfg,
                   const struct ia_zoo_build_opts *o);
int zoo_build_gpt2(struct ia_zb *g, const struct ia_hf_config *cfg,
                   const struct ia_zoo_build_opts *o);
int zoo_build_llama(struct ia_zb *g, const struct ia_hf_config *cfg,
                    const struct ia_zoo_build_opts *o);
int zoo_build_vit(struct ia_zb *g, const struct ia_hf_config *cfg,
                  const struct ia_zoo_build_opts *o);
/* t5, clip, whisper, wav2vec2 (arch_t5.c ... arch_wav2vec2.c, builder_extra.c) */
int zoo_build_t5(struct ia_zb *g, const struct ia_hf_config *cfg,
                 const struct ia_zoo_build_opts *o);
int zoo_build_clip(struct ia_zb *g, const struct ia_hf_config *cfg,
                   const struct ia_zoo_build_opts *o);
int zoo_build_whisper(struct ia_zb *g, const struct ia_hf_config *cfg,
                      const struct ia_zoo_build_opts *o);
int zoo_build_wav2vec2(struct ia_zb *g, const struct ia_hf_config *cfg,
                       const struct ia_zoo_build_opts *o);

/* Reads a required int config key into *v, failing g with the config's
 * message; returns 0 on failure so callers can chain with &&. */
int zoo_cfg_int(struct ia_zb *g, const struct ia_hf_config *c, const char *key, int64_t *v);
int zoo_cfg_int_or(struct ia_zb *g, const struct ia_hf_config *c, const char *key, int64_t dflt,
                   int64_t *v);
int zoo_cfg_float_or(struct ia_zb *g, const struct ia_hf_config *c, const char *key, double dflt,
                     double *v);
/* Fails g unless lo <= v <= hi, naming the key. */
int zoo_cfg_range(struct ia_zb *g, const struct ia_hf_config *c, const char *key, int64_t v,
                  int64_t lo, int64_t hi);

/* ---- DETR, CLAP, X-CLIP, LLaVA (arch_detr.c ... arch_llava.c, builder_vision.c) ---- */
int zoo_build_detr(struct ia_zb *g, const struct ia_hf_config *cfg,
                   const struct ia_zoo_build_opts *o);
int zoo_build_clap(struct ia_zb *g, const struct ia_hf_config *cfg,
                   const struct ia_zoo_build_opts *o);
int zoo_build_xclip(struct ia_zb *g, const struct ia_hf_config *cfg,
                    const struct ia_zoo_build_opts *o);
int zoo_build_llava(struct ia_zb *g, const struct ia_hf_config *cfg,
                    const struct ia_zoo_build_opts *o);
/* ia_hf_config_sub / _str_or / _bool_or failing g (0) like zoo_cfg_int. */
int zoo_cfg_subconfig(struct ia_zb *g, const struct ia_hf_config *c, const char *key,
                      struct ia_hf_config **out);
int zoo_cfg_str_or(struct ia_zb *g, const struct ia_hf_config *c, const char *key,
                   const char *dflt, const char **out);
int zoo_cfg_bool_or(struct ia_zb *g, const struct ia_hf_config *c, const char *key, int dflt,
                    int *out);

/* Sets in[1] and in[2] to the weights `prefix`.weight (ones) and
 * `prefix`.bias (zeros), [dim] each: a normalisation's scale and shift. */
void zoo_norm_affine(struct ia_zb *g, const char *prefix, int64_t dim, const char *in[3]);

/* Decoder-only language models (arch_decoder.c): input_ids, attention_mask
 * and position_ids in; with o->with_past, past_key_values.N.key/.value in
 * and present.N.key/.value out, [batch, kv_heads, length, head_dim]. */
#define ZOO_DECODER_MAX_LAYERS 1024

/* The value name every builder call returns once the graph has failed
 * (errors are sticky); it is never a real value of the graph. */
#define ZB_ERROR_NAME "<error>"
struct zoo_decoder_io {
    const char *ids, *mask, *pos; /* int64 graph inputs */
    const char *past_k[ZOO_DECODER_MAX_LAYERS], *past_v[ZOO_DECODER_MAX_LAYERS];
    struct ia_zb_dim present_dims[4];
    int64_t layers;
    int with_past;
};
/* Adds the inputs, in that order; layers must be at most ZOO_DECODER_MAX_LAYERS. */
void zoo_decoder_inputs(struct ia_zb *g, const struct ia_zoo_build_opts *o, int64_t layers,
                        int64_t kv_heads, int64_t head_dim, struct zoo_decoder_io *io);
/* Points layer l's attention at its cache when with_past; pk and pv receive
 * the present names and must outlive the ia_zb_attention call. */
void zoo_decoder_cache(const struct zoo_decoder_io *io, int64_t l, struct ia_zb_attn *a,
                       char pk[64], char pv[64]);
/* Adds logits [batch, sequence, vocab] and then the present outputs. */
void zoo_decoder_outputs(struct ia_zb *g, const struct zoo_decoder_io *io, const char *logits,
                         int64_t vocab);

#endif
