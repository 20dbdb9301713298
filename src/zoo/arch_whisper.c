/*
 * Whisper (WhisperModel, WhisperForConditionalGeneration) as HF
 * transformers defines it:
 *  - encoder: two Conv1d over the log-mel frames (kernel 3, padding 1, the
 *    second with stride 2), each followed by GELU; fixed sinusoidal
 *    positions (embed_positions.weight, read from the checkpoint, or
 *    computed as HF's sinusoids() for synthetic weights); pre-LN layers
 *    whose k_proj has no bias; a final LayerNorm. HF insists on exactly
 *    2 * max_source_positions frames, so that dim is fixed.
 *  - decoder: token embeddings (x sqrt(d_model) when scale_embedding) plus
 *    learned positions, pre-LN layers with causal self-attention and
 *    cross-attention over the encoder output, a final LayerNorm; the
 *    generation head proj_out is tied to the token embeddings.
 * LayerNorm eps is torch's default 1e-5 (Whisper has no config key for it).
 *
 * Inputs:  input_features float [batch_size, num_mel_bins, 2 * max_source_positions]
 *          decoder_input_ids int64 [batch_size, decoder_sequence_length]
 * Outputs: last_hidden_state [B, Sd, d_model] (WhisperModel) or logits
 *          [B, Sd, vocab] (WhisperForConditionalGeneration), and
 *          encoder_last_hidden_state [B, max_source_positions, d_model].
 * No KV cache (--with-past) for whisper yet.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "zoo_internal.h"

#define WHISPER_LN_EPS 1e-5

/* x + out_proj(attn(LN(x))); kv_src non-NULL makes it cross-attention. */
static const char *w_attn(struct ia_zb *g, const char *p, const char *kind, int64_t D, int64_t NH,
                          const char *x, const char *kv_src, const char *mask) {
    char n[512];
#define NM(s) (snprintf(n, sizeof n, "%s%s%s", p, kind, s), n)
    const char *h = ia_zb_layernorm(g, NM("_layer_norm"), D, WHISPER_LN_EPS, x);
    const char *src = kv_src ? kv_src : h;
    struct ia_zb_attn a = {.n_heads = NH, .n_kv_heads = NH, .head_dim = D / NH, .mask = mask};
    a.q = ia_zb_linear(g, NM(".q_proj"), D, D, 1, IA_ZB_TRANSPOSED, h);
    a.k = ia_zb_linear(g, NM(".k_proj"), D, D, 0, IA_ZB_TRANSPOSED, src);
    a.v = ia_zb_linear(g, NM(".v_proj"), D, D, 1, IA_ZB_TRANSPOSED, src);
    const char *ctx = ia_zb_attention(g, &a);
    return ia_zb_op2(g, "Add", x, ia_zb_linear(g, NM(".out_proj"), D, D, 1, IA_ZB_TRANSPOSED, ctx));
#undef NM
}

static const char *w_mlp(struct ia_zb *g, const char *p, int64_t D, int64_t F, const char *act,
                         const char *x) {
    char n[512];
#define NM(s) (snprintf(n, sizeof n, "%s%s", p, s), n)
    const char *h = ia_zb_layernorm(g, NM("final_layer_norm"), D, WHISPER_LN_EPS, x);
    h = ia_zb_activation(g, act, "activation_function",
                         ia_zb_linear(g, NM("fc1"), D, F, 1, IA_ZB_TRANSPOSED, h));
    return ia_zb_op2(g, "Add", x, ia_zb_linear(g, NM("fc2"), F, D, 1, IA_ZB_TRANSPOSED, h));
#undef NM
}

int zoo_build_whisper(struct ia_zb *g, const struct ia_hf_config *cfg,
                      const struct ia_zoo_build_opts *o) {
    (void)o;
    const char *label = ia_hf_config_label(cfg);
    const char *arch = ia_hf_config_architecture(cfg), *act = "gelu";
    if (!arch) arch = "WhisperModel";
    int lm = !strcmp(arch, "WhisperForConditionalGeneration");
    if (!lm && strcmp(arch, "WhisperModel"))
        return ia_zb_fail(g, IA_EUNSUPPORTED,
                          "%s: architectures '%s' is not supported "
                          "(whisper: WhisperModel, WhisperForConditionalGeneration)",
                          label, arch);
    int64_t V, M, D, EL, EH, DL, DH, EF, DF, MS, MT;
    int scale_emb = 0;
    if (!(zoo_cfg_int(g, cfg, "vocab_size", &V) && zoo_cfg_int(g, cfg, "d_model", &D) &&
          zoo_cfg_int_or(g, cfg, "num_mel_bins", 80, &M) &&
          zoo_cfg_int(g, cfg, "encoder_layers", &EL) &&
          zoo_cfg_int(g, cfg, "encoder_attention_heads", &EH) &&
          zoo_cfg_int(g, cfg, "decoder_layers", &DL) &&
          zoo_cfg_int(g, cfg, "decoder_attention_heads", &DH) &&
          zoo_cfg_int(g, cfg, "encoder_ffn_dim", &EF) &&
          zoo_cfg_int(g, cfg, "decoder_ffn_dim", &DF) &&
          zoo_cfg_int_or(g, cfg, "max_source_positions", 1500, &MS) &&
          zoo_cfg_int_or(g, cfg, "max_target_positions", 448, &MT) &&
          zoo_cfg_range(g, cfg, "vocab_size", V, 1, 1 << 24) &&
          zoo_cfg_range(g, cfg, "d_model", D, 4, 1 << 16) &&
          zoo_cfg_range(g, cfg, "num_mel_bins", M, 1, 1 << 12) &&
          zoo_cfg_range(g, cfg, "encoder_layers", EL, 1, 1024) &&
          zoo_cfg_range(g, cfg, "encoder_attention_heads", EH, 1, D) &&
          zoo_cfg_range(g, cfg, "decoder_layers", DL, 1, 1024) &&
          zoo_cfg_range(g, cfg, "decoder_attention_heads", DH, 1, D) &&
          zoo_cfg_range(g, cfg, "encoder_ffn_dim", EF, 1, 1 << 20) &&
          zoo_cfg_range(g, cfg, "decoder_ffn_dim", DF, 1, 1 << 20) &&
          zoo_cfg_range(g, cfg, "max_source_positions", MS, 1, 1 << 20) &&
          zoo_cfg_range(g, cfg, "max_target_positions", MT, 1, 1 << 20)))
        return ia_zb_status(g);
    if (D % EH || D % DH)
        return ia_zb_fail(g, IA_EINVAL, "%s: d_model %lld is not a multiple of %s %lld", label,
                          (long long)D,
                          D % EH ? "encoder_attention_heads" : "decoder_attention_heads",
                          (long long)(D % EH ? EH : DH));
    if (D % 2)
        return ia_zb_fail(g, IA_EINVAL,
                          "%s: d_model %lld is odd (sinusoidal positions need "
                          "pairs)",
                          label, (long long)D);
    if (ia_hf_config_str_or(cfg, "activation_function", "gelu", &act) ||
        ia_hf_config_bool_or(cfg, "scale_embedding", 0, &scale_emb))
        return ia_zb_fail(g, IA_EFORMAT, "%s", ia_error_msg());
    /* WhisperForConditionalGeneration nests the model under "model."; the
     * names follow whichever form the checkpoint has. */
    struct ia_hf_checkpoint *ck = ia_zb_checkpoint(g);
    const char *pre =
        ck ? (ia_hf_checkpoint_find(ck, "model.encoder.conv1.weight", NULL) ? "model." : "")
           : (lm ? "model." : "");
    char n[512];
#define NM(fmt, ...) (snprintf(n, sizeof n, "%s" fmt, pre, __VA_ARGS__), n)

    struct ia_zb_dim fd[3] = {{.sym = "batch_size"}, {.value = M}, {.value = 2 * MS}};
    struct ia_zb_dim bd[2] = {{.sym = "batch_size"}, {.sym = "decoder_sequence_length"}};
    const char *feats = ia_zb_input(g, "input_features", IA_DTYPE_FLOAT32, 3, fd);
    const char *dids = ia_zb_input(g, "decoder_input_ids", IA_DTYPE_INT64, 2, bd);

    /* Encoder. */
    const char *x =
        ia_zb_gelu(g, ia_zb_conv1d(g, NM("%s", "encoder.conv1"), M, D, 3, 1, 1, 1, 1, 1, feats));
    x = ia_zb_gelu(g, ia_zb_conv1d(g, NM("%s", "encoder.conv2"), D, D, 3, 2, 1, 1, 1, 1, x));
    int64_t perm[3] = {0, 2, 1};
    struct ia_zb_attr pa = IA_ZB_INTS("perm", perm, 3);
    x = ia_zb_op(g, "Transpose", 1, &x, 1, &pa); /* [B, MS, D] */
    x = ia_zb_op2(
        g, "Add", x,
        ia_zb_sinusoid_weight(g, NM("%s", "encoder.embed_positions.weight"), MS, D, 10000.0));
    for (int64_t l = 0; l < EL && !ia_zb_status(g); l++) {
        char p[128];
        snprintf(p, sizeof p, "%sencoder.layers.%lld.", pre, (long long)l);
        x = w_attn(g, p, "self_attn", D, EH, x, NULL, NULL);
        x = w_mlp(g, p, D, EF, act, x);
    }
    const char *enc = ia_zb_layernorm(g, NM("%s", "encoder.layer_norm"), D, WHISPER_LN_EPS, x);

    /* Decoder: positions 0..S-1 of the learned table. */
    char tok[512];
    snprintf(tok, sizeof tok, "%sdecoder.embed_tokens.weight", pre);
    x = ia_zb_embedding(g, tok, V, D, dids);
    if (scale_emb) x = ia_zb_op2(g, "Mul", x, ia_zb_scalar_f32(g, (float)sqrt((double)D)));
    const char *rng[3] = {
        ia_zb_scalar_i64(g, 0),
        ia_zb_op2(g, "Squeeze", ia_zb_dim_of(g, dids, 1), ia_zb_const_i64(g, 1, (int64_t[]){0})),
        ia_zb_scalar_i64(g, 1)};
    x = ia_zb_op2(g, "Add", x,
                  ia_zb_embedding(g, NM("%s", "decoder.embed_positions.weight"), MT, D,
                                  ia_zb_op(g, "Range", 3, rng, 0, NULL)));
    const char *causal = ia_zb_causal_mask(g, dids);
    for (int64_t l = 0; l < DL && !ia_zb_status(g); l++) {
        char p[128];
        snprintf(p, sizeof p, "%sdecoder.layers.%lld.", pre, (long long)l);
        x = w_attn(g, p, "self_attn", D, DH, x, NULL, causal);
        x = w_attn(g, p, "encoder_attn", D, DH, x, enc, NULL);
        x = w_mlp(g, p, D, DF, act, x);
    }
    x = ia_zb_layernorm(g, NM("%s", "decoder.layer_norm"), D, WHISPER_LN_EPS, x);
#undef NM
    if (lm) {
        struct ia_zb_dim bdv[3] = {
            {.sym = "batch_size"}, {.sym = "decoder_sequence_length"}, {.value = V}};
        ia_zb_output(g, ia_zb_lm_head(g, "proj_out.weight", tok, D, V, x), "logits",
                     IA_DTYPE_FLOAT32, 3, bdv);
    } else {
        struct ia_zb_dim bdd[3] = {
            {.sym = "batch_size"}, {.sym = "decoder_sequence_length"}, {.value = D}};
        ia_zb_output(g, x, "last_hidden_state", IA_DTYPE_FLOAT32, 3, bdd);
    }
    struct ia_zb_dim bsd[3] = {{.sym = "batch_size"}, {.value = MS}, {.value = D}};
    ia_zb_output(g, enc, "encoder_last_hidden_state", IA_DTYPE_FLOAT32, 3, bsd);
    return ia_zb_status(g);
}
