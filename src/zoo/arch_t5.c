/*
 * T5 (T5Model, T5ForConditionalGeneration, T5EncoderModel) as HF
 * transformers defines it, t5 v1.0 and v1.1: shared token embeddings (no
 * scaling), pre-norm blocks with T5's LayerNorm (RMS, no bias, no mean),
 * no biases anywhere, unscaled attention with a relative position bias
 * (block 0 of each stack owns relative_attention_bias [buckets, heads]; the
 * other blocks reuse it), a ReLU MLP (wi, wo) or a gated-gelu one (wi_0,
 * wi_1, wo; feed_forward_proj "gated-gelu"), and a decoder with causal
 * self-attention and cross-attention over the encoder output. With tied
 * embeddings the LM head scales by d_model^-0.5 before shared^T.
 *
 * Inputs:  input_ids, attention_mask  int64 [batch_size, sequence_length]
 *          decoder_input_ids          int64 [batch_size, decoder_sequence_length]
 * Outputs: T5Model: last_hidden_state [B, Sd, d_model]; T5ForConditional-
 *          Generation: logits [B, Sd, vocab]; both also
 *          encoder_last_hidden_state [B, S, d_model]. T5EncoderModel:
 *          last_hidden_state [B, S, d_model] (no decoder inputs).
 * No KV cache (--with-past) for t5 yet: a full decoder pass per call.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "zoo_internal.h"

struct t5 {
    int64_t V, D, KV, FF, L, LD, NH, NB, MD;
    double eps;
    int gated;
    const char *act;
};

/* One attention sub-layer: x + o(attn(LN(x) → q, kv → k, v)). */
static const char *t5_attn(struct ia_zb *g, const struct t5 *c, const char *p, const char *x,
                           const char *kv_src, const char *mask) {
    char n[512];
#define NM(s) (snprintf(n, sizeof n, "%s%s", p, s), n)
    const char *h = ia_zb_rmsnorm(g, NM("layer_norm.weight"), c->D, c->eps, x);
    const char *src = kv_src ? kv_src : h;
    const char *kind = kv_src ? "EncDecAttention" : "SelfAttention";
    char q[256], k[256], v[256], o[256];
    snprintf(q, sizeof q, "%s%s.q", p, kind);
    snprintf(k, sizeof k, "%s%s.k", p, kind);
    snprintf(v, sizeof v, "%s%s.v", p, kind);
    snprintf(o, sizeof o, "%s%s.o", p, kind);
    const int64_t inner = c->NH * c->KV;
    struct ia_zb_attn a = {
        .n_heads = c->NH, .n_kv_heads = c->NH, .head_dim = c->KV, .mask = mask, .scale = 1.0};
    a.q = ia_zb_linear(g, q, c->D, inner, 0, IA_ZB_TRANSPOSED, h);
    a.k = ia_zb_linear(g, k, c->D, inner, 0, IA_ZB_TRANSPOSED, src);
    a.v = ia_zb_linear(g, v, c->D, inner, 0, IA_ZB_TRANSPOSED, src);
    const char *ctx = ia_zb_attention(g, &a);
    return ia_zb_op2(g, "Add", x, ia_zb_linear(g, o, inner, c->D, 0, IA_ZB_TRANSPOSED, ctx));
#undef NM
}

static const char *t5_ff(struct ia_zb *g, const struct t5 *c, const char *p, const char *x) {
    char n[512], wi[256], wi1[256], wo[256];
    snprintf(n, sizeof n, "%slayer_norm.weight", p);
    const char *h = ia_zb_rmsnorm(g, n, c->D, c->eps, x);
    snprintf(wo, sizeof wo, "%sDenseReluDense.wo", p);
    if (c->gated) {
        snprintf(wi, sizeof wi, "%sDenseReluDense.wi_0", p);
        snprintf(wi1, sizeof wi1, "%sDenseReluDense.wi_1", p);
        h = ia_zb_gated_mlp(g, wi, wi1, wo, c->D, c->FF, 0, c->act, h);
    } else {
        snprintf(wi, sizeof wi, "%sDenseReluDense.wi", p);
        h = ia_zb_activation(g, c->act, "feed_forward_proj",
                             ia_zb_linear(g, wi, c->D, c->FF, 0, IA_ZB_TRANSPOSED, h));
        h = ia_zb_linear(g, wo, c->FF, c->D, 0, IA_ZB_TRANSPOSED, h);
    }
    return ia_zb_op2(g, "Add", x, h);
}

int zoo_build_t5(struct ia_zb *g, const struct ia_hf_config *cfg,
                 const struct ia_zoo_build_opts *o) {
    (void)o;
    const char *label = ia_hf_config_label(cfg);
    const char *arch = ia_hf_config_architecture(cfg), *ffp = "relu";
    if (!arch) arch = "T5Model";
    int lm = !strcmp(arch, "T5ForConditionalGeneration"),
        enc_only = !strcmp(arch, "T5EncoderModel");
    if (!lm && !enc_only && strcmp(arch, "T5Model"))
        return ia_zb_fail(g, IA_EUNSUPPORTED,
                          "%s: architectures '%s' is not supported (t5: "
                          "T5Model, T5ForConditionalGeneration, T5EncoderModel)",
                          label, arch);
    struct t5 c;
    int tie = 1;
    if (!(zoo_cfg_int(g, cfg, "vocab_size", &c.V) && zoo_cfg_int(g, cfg, "d_model", &c.D) &&
          zoo_cfg_int(g, cfg, "d_kv", &c.KV) && zoo_cfg_int(g, cfg, "d_ff", &c.FF) &&
          zoo_cfg_int(g, cfg, "num_layers", &c.L) &&
          zoo_cfg_int_or(g, cfg, "num_decoder_layers", c.L, &c.LD) &&
          zoo_cfg_int(g, cfg, "num_heads", &c.NH) &&
          zoo_cfg_int_or(g, cfg, "relative_attention_num_buckets", 32, &c.NB) &&
          zoo_cfg_int_or(g, cfg, "relative_attention_max_distance", 128, &c.MD) &&
          zoo_cfg_float_or(g, cfg, "layer_norm_epsilon", 1e-6, &c.eps) &&
          zoo_cfg_range(g, cfg, "vocab_size", c.V, 1, 1 << 24) &&
          zoo_cfg_range(g, cfg, "d_model", c.D, 1, 1 << 16) &&
          zoo_cfg_range(g, cfg, "d_kv", c.KV, 1, 1 << 12) &&
          zoo_cfg_range(g, cfg, "d_ff", c.FF, 1, 1 << 20) &&
          zoo_cfg_range(g, cfg, "num_layers", c.L, 1, 1024) &&
          zoo_cfg_range(g, cfg, "num_decoder_layers", c.LD, enc_only ? 0 : 1, 1024) &&
          zoo_cfg_range(g, cfg, "num_heads", c.NH, 1, 1024) &&
          zoo_cfg_range(g, cfg, "relative_attention_num_buckets", c.NB, 4, 1 << 16) &&
          zoo_cfg_range(g, cfg, "relative_attention_max_distance", c.MD, c.NB / 2 + 1, 1 << 20)))
        return ia_zb_status(g);
    if (ia_hf_config_str_or(cfg, "feed_forward_proj", "relu", &ffp) ||
        ia_hf_config_bool_or(cfg, "tie_word_embeddings", 1, &tie))
        return ia_zb_fail(g, IA_EFORMAT, "%s", ia_error_msg());
    /* HF: "gated-gelu" means gelu_new; otherwise "[gated-]ACT". */
    const char *dash = strchr(ffp, '-');
    if (!strcmp(ffp, "gated-gelu")) {
        c.gated = 1;
        c.act = "gelu_new";
    } else if (dash && !strncmp(ffp, "gated-", 6)) {
        c.gated = 1;
        c.act = dash + 1;
    } else if (!dash) {
        c.gated = 0;
        c.act = ffp;
    } else {
        return ia_zb_fail(g, IA_EUNSUPPORTED,
                          "%s: key 'feed_forward_proj' is '%s' (want ACT "
                          "or gated-ACT)",
                          label, ffp);
    }
    struct ia_zb_dim bs[2] = {{.sym = "batch_size"}, {.sym = "sequence_length"}};
    struct ia_zb_dim bd[2] = {{.sym = "batch_size"}, {.sym = "decoder_sequence_length"}};
    const char *ids = ia_zb_input(g, "input_ids", IA_DTYPE_INT64, 2, bs);
    const char *mask = ia_zb_input(g, "attention_mask", IA_DTYPE_INT64, 2, bs);
    const char *dids = enc_only ? NULL : ia_zb_input(g, "decoder_input_ids", IA_DTYPE_INT64, 2, bd);
    /* HF ties encoder/decoder.embed_tokens to shared; files keep one name. */
    const char *emb = "shared.weight";
    if (ia_zb_from_checkpoint(g) && !ia_zb_has_weight(g, emb)) emb = "encoder.embed_tokens.weight";

    /* Encoder: bias [1, H, S, S] + padding mask [B, 1, 1, S]. */
    const char *x = ia_zb_embedding(g, emb, c.V, c.D, ids);
    const char *pad = ia_zb_attention_mask(g, mask, ids, 0);
    const char *bias = ia_zb_t5_position_bias(
        g, "encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight", c.NB, c.MD, c.NH,
        1, ids, ids);
    const char *emask = ia_zb_op2(g, "Add", bias, pad);
    for (int64_t l = 0; l < c.L && !ia_zb_status(g); l++) {
        char p[128];
        snprintf(p, sizeof p, "encoder.block.%lld.layer.0.", (long long)l);
        x = t5_attn(g, &c, p, x, NULL, emask);
        snprintf(p, sizeof p, "encoder.block.%lld.layer.1.", (long long)l);
        x = t5_ff(g, &c, p, x);
    }
    const char *enc = ia_zb_rmsnorm(g, "encoder.final_layer_norm.weight", c.D, c.eps, x);
    struct ia_zb_dim bsd[3] = {{.sym = "batch_size"}, {.sym = "sequence_length"}, {.value = c.D}};
    if (enc_only) {
        ia_zb_output(g, enc, "last_hidden_state", IA_DTYPE_FLOAT32, 3, bsd);
        return ia_zb_status(g);
    }

    /* Decoder: causal self-attention with its own (one-way) bias, then
     * cross-attention with only the encoder's padding mask. */
    x = ia_zb_embedding(g, emb, c.V, c.D, dids);
    const char *dbias = ia_zb_t5_position_bias(
        g, "decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight", c.NB, c.MD, c.NH,
        0, dids, dids);
    const char *dmask = ia_zb_op2(g, "Add", dbias, ia_zb_causal_mask(g, dids));
    for (int64_t l = 0; l < c.LD && !ia_zb_status(g); l++) {
        char p[128];
        snprintf(p, sizeof p, "decoder.block.%lld.layer.0.", (long long)l);
        x = t5_attn(g, &c, p, x, NULL, dmask);
        snprintf(p, sizeof p, "decoder.block.%lld.layer.1.", (long long)l);
        x = t5_attn(g, &c, p, x, enc, pad);
        snprintf(p, sizeof p, "decoder.block.%lld.layer.2.", (long long)l);
        x = t5_ff(g, &c, p, x);
    }
    x = ia_zb_rmsnorm(g, "decoder.final_layer_norm.weight", c.D, c.eps, x);
    struct ia_zb_dim bdd[3] = {
        {.sym = "batch_size"}, {.sym = "decoder_sequence_length"}, {.value = c.D}};
    if (!lm) {
        ia_zb_output(g, x, "last_hidden_state", IA_DTYPE_FLOAT32, 3, bdd);
    } else {
        const char *logits;
        if (tie) {
            x = ia_zb_op2(g, "Mul", x, ia_zb_scalar_f32(g, (float)(1.0 / sqrt((double)c.D))));
            logits = ia_zb_lm_head(g, "lm_head.weight", emb, c.D, c.V, x);
        } else {
            int64_t d[2] = {c.V, c.D};
            logits = ia_zb_op2(
                g, "MatMul", x,
                ia_zb_weight(g, "lm_head.weight", IA_ZB_INIT_NORMAL, IA_ZB_TRANSPOSED, 2, d));
        }
        struct ia_zb_dim bdv[3] = {
            {.sym = "batch_size"}, {.sym = "decoder_sequence_length"}, {.value = c.V}};
        ia_zb_output(g, logits, "logits", IA_DTYPE_FLOAT32, 3, bdv);
    }
    ia_zb_output(g, enc, "encoder_last_hidden_state", IA_DTYPE_FLOAT32, 3, bsd);
    return ia_zb_status(g);
}
