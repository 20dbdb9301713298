/*
 * CLAP as HF transformers defines it (modeling_clap.py):
 *  - ClapModel (model_type clap): both towers from text_config and
 *    audio_config (the top-level projection_dim and projection_hidden_act
 *    override theirs, as ClapConfig does), each projected (linear1, act,
 *    linear2) and L2-normalised; logits_per_text = text_embeds @
 *    audio_embeds^T * exp(logit_scale_t), logits_per_audio = audio_embeds @
 *    text_embeds^T * exp(logit_scale_a). Synthetic logit scales are
 *    log(logit_scale_init_value), as HF initialises them.
 *  - ClapTextModelWithProjection (clap_text_model): the text tower, a
 *    RoBERTa encoder (word + position + token-type embeddings, positions
 *    counted from padding_idx + 1 over the non-pad tokens, post-LN BERT
 *    layers), the pooler (tanh(dense(first token))) and text_projection.
 *    Token-type ids are all 0 (HF's default buffer).
 *  - ClapAudioModel / ClapAudioModelWithProjection (clap_audio_model): the
 *    HTSAT audio tower (arch_clap_audio.c), HF's pooler_output, and for the
 *    latter audio_projection.
 *
 * Inputs:  input_ids, attention_mask int64 [batch_size, sequence_length]
 *          input_features float [batch_size, 1, num_frames, num_mel_bins]
 *          (text and audio batches share batch_size here, as the zoo's
 *          CLIP does; the fused models' is_longer is refused, not read)
 * Outputs: ClapModel: logits_per_audio [B, B], logits_per_text [B, B],
 *            text_embeds, audio_embeds [B, projection_dim] (optimum's names)
 *          ClapTextModelWithProjection: text_embeds (not normalised, as HF
 *            returns them), last_hidden_state [B, S, hidden_size]
 *          ClapAudioModel: last_hidden_state [B, hidden, c_freq_bin, n],
 *            pooler_output [B, hidden]
 *          ClapAudioModelWithProjection: audio_embeds (not normalised),
 *            last_hidden_state
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "arch_clap.h"

/* The text tower over ids/mask with the weights text_model.* and
 * text_projection.*: returns text_embeds (not normalised); *last_hidden
 * (optional) gets the encoder output and *hidden its width. */
static const char *clap_text_tower(struct ia_zb *g, const struct ia_hf_config *cfg, int64_t PD,
                                   const char *pact, const char *ids, const char *mask,
                                   const char **last_hidden, int64_t *hidden) {
    const char *label = ia_hf_config_label(cfg);
    int64_t V, H, L, NH, I, P, TV, PAD;
    double eps;
    const char *act = "gelu", *pet = "absolute";
    if (!(zoo_cfg_int_or(g, cfg, "vocab_size", 50265, &V) &&
          zoo_cfg_int_or(g, cfg, "hidden_size", 768, &H) &&
          zoo_cfg_int_or(g, cfg, "num_hidden_layers", 12, &L) &&
          zoo_cfg_int_or(g, cfg, "num_attention_heads", 12, &NH) &&
          zoo_cfg_int_or(g, cfg, "intermediate_size", 3072, &I) &&
          zoo_cfg_int_or(g, cfg, "max_position_embeddings", 514, &P) &&
          zoo_cfg_int_or(g, cfg, "type_vocab_size", 1, &TV) &&
          zoo_cfg_int_or(g, cfg, "pad_token_id", 1, &PAD) &&
          zoo_cfg_float_or(g, cfg, "layer_norm_eps", 1e-12, &eps) &&
          zoo_cfg_str_or(g, cfg, "hidden_act", "gelu", &act) &&
          zoo_cfg_str_or(g, cfg, "position_embedding_type", "absolute", &pet) &&
          zoo_cfg_range(g, cfg, "vocab_size", V, 1, 1 << 24) &&
          zoo_cfg_range(g, cfg, "hidden_size", H, 1, 1 << 16) &&
          zoo_cfg_range(g, cfg, "num_hidden_layers", L, 1, 1024) &&
          zoo_cfg_range(g, cfg, "num_attention_heads", NH, 1, H) &&
          zoo_cfg_range(g, cfg, "intermediate_size", I, 1, 1 << 20) &&
          zoo_cfg_range(g, cfg, "max_position_embeddings", P, 2, 1 << 20) &&
          zoo_cfg_range(g, cfg, "type_vocab_size", TV, 1, 1 << 16) &&
          zoo_cfg_range(g, cfg, "pad_token_id", PAD, 0, P - 2)))
        return "";
    if (H % NH) {
        ia_zb_fail(g, IA_EINVAL,
                   "%s: hidden_size %lld is not a multiple of num_attention_heads "
                   "%lld",
                   label, (long long)H, (long long)NH);
        return "";
    }
    if (strcmp(pet, "absolute")) {
        ia_zb_fail(g, IA_EUNSUPPORTED,
                   "%s: position_embedding_type '%s' is not supported (only "
                   "absolute)",
                   label, pet);
        return "";
    }
    char n[640], p[256];

    /* RoBERTa positions: cumsum(ids != pad) * (ids != pad) + pad. */
    struct ia_zb_attr to_i64 = IA_ZB_INT("to", 7);
    const char *padv = ia_zb_scalar_i64(g, PAD);
    const char *keep = ia_zb_op1(g, "Not", ia_zb_op2(g, "Equal", ids, padv));
    keep = ia_zb_op(g, "Cast", 1, &keep, 1, &to_i64);
    const char *cs_in[2] = {keep, ia_zb_scalar_i64(g, 1)};
    const char *pos = ia_zb_op2(
        g, "Add", ia_zb_op2(g, "Mul", ia_zb_op(g, "CumSum", 2, cs_in, 0, NULL), keep), padv);
    const char *x = ia_zb_embedding(g, "text_model.embeddings.word_embeddings.weight", V, H, ids);
    x = ia_zb_op2(g, "Add", x,
                  ia_zb_embedding(g,
                                  "text_model.embeddings.position_embeddings"
                                  ".weight",
                                  P, H, pos));
    const char *tt = ia_zb_op2(g, "Mul", ids, ia_zb_scalar_i64(g, 0));
    x = ia_zb_op2(g, "Add", x,
                  ia_zb_embedding(g,
                                  "text_model.embeddings.token_type_embeddings"
                                  ".weight",
                                  TV, H, tt));
    x = ia_zb_layernorm(g, "text_model.embeddings.LayerNorm", H, eps, x);

    const char *amask = ia_zb_attention_mask(g, mask, ids, 0);
    for (int64_t l = 0; l < L && !ia_zb_status(g); l++) {
        snprintf(p, sizeof p, "text_model.encoder.layer.%lld.", (long long)l);
#define NM(s) (snprintf(n, sizeof n, "%s%s", p, s), n)
        struct ia_zb_attn a = {.n_heads = NH, .n_kv_heads = NH, .head_dim = H / NH, .mask = amask};
        a.q = ia_zb_linear(g, NM("attention.self.query"), H, H, 1, IA_ZB_TRANSPOSED, x);
        a.k = ia_zb_linear(g, NM("attention.self.key"), H, H, 1, IA_ZB_TRANSPOSED, x);
        a.v = ia_zb_linear(g, NM("attention.self.value"), H, H, 1, IA_ZB_TRANSPOSED, x);
        const char *ctx = ia_zb_linear(g, NM("attention.output.dense"), H, H, 1, IA_ZB_TRANSPOSED,
                                       ia_zb_attention(g, &a));
        x = ia_zb_layernorm(g, NM("attention.output.LayerNorm"), H, eps,
                            ia_zb_op2(g, "Add", ctx, x));
        const char *h = ia_zb_activation(
            g, act, "hidden_act",
            ia_zb_linear(g, NM("intermediate.dense"), H, I, 1, IA_ZB_TRANSPOSED, x));
        h = ia_zb_linear(g, NM("output.dense"), I, H, 1, IA_ZB_TRANSPOSED, h);
        x = ia_zb_layernorm(g, NM("output.LayerNorm"), H, eps, ia_zb_op2(g, "Add", h, x));
#undef NM
    }
    if (last_hidden) *last_hidden = x, *hidden = H;
    const char *pooled = ia_zb_op1(g, "Tanh",
                                   ia_zb_linear(g, "text_model.pooler.dense", H, H, 1,
                                                IA_ZB_TRANSPOSED, ia_zb_select_token(g, x, 0)));
    const char *e = ia_zb_activation(
        g, pact, "projection_hidden_act",
        ia_zb_linear(g, "text_projection.linear1", H, PD, 1, IA_ZB_TRANSPOSED, pooled));
    return ia_zb_linear(g, "text_projection.linear2", PD, PD, 1, IA_ZB_TRANSPOSED, e);
}

/* The input features [batch_size, channels, num_frames, num_mel_bins]. */
static const char *audio_input(struct ia_zb *g, const struct zoo_clap_audio *a) {
    struct ia_zb_dim d[4] = {
        {.sym = "batch_size"}, {.value = a->channels}, {.value = a->frames}, {.value = a->mel}};
    return ia_zb_input(g, "input_features", IA_DTYPE_FLOAT32, 4, d);
}

static const char *projection(struct ia_zb *g, const char *prefix, int64_t in, int64_t pd,
                              const char *act, const char *x) {
    char n[128];
    snprintf(n, sizeof n, "%s.linear1", prefix);
    x = ia_zb_activation(g, act, "projection_hidden_act",
                         ia_zb_linear(g, n, in, pd, 1, IA_ZB_TRANSPOSED, x));
    snprintf(n, sizeof n, "%s.linear2", prefix);
    return ia_zb_linear(g, n, pd, pd, 1, IA_ZB_TRANSPOSED, x);
}

/* exp(name): from the checkpoint, or log(init) when synthetic. */
static const char *logit_scale(struct ia_zb *g, const char *name, double init) {
    int64_t scalar[1] = {1}; /* rank 0: dims unused */
    const char *ls;
    if (ia_zb_from_checkpoint(g)) {
        ls = ia_zb_weight(g, name, IA_ZB_INIT_ZEROS, IA_ZB_AS_IS, 0, scalar);
    } else {
        float v = (float)log(init);
        ls = ia_zb_weight_values(g, name, 0, scalar, &v);
    }
    return ia_zb_op1(g, "Exp", ls);
}

static int build_audio_only(struct ia_zb *g, const struct ia_hf_config *cfg, int with_proj) {
    struct zoo_clap_audio a;
    if (zoo_clap_audio_config(g, cfg, &a)) return ia_zb_status(g);
    const char *lh;
    int64_t ld[4];
    const char *features = audio_input(g, &a);
    const char *pooled = zoo_clap_audio_tower(
        g, &a, with_proj ? "audio_model.audio_encoder." : "audio_encoder.", features, &lh, ld);
    struct ia_zb_dim dl[4] = {
        {.sym = "batch_size"}, {.value = ld[1]}, {.value = ld[2]}, {.value = ld[3]}};
    if (with_proj) {
        struct ia_zb_dim bp[2] = {{.sym = "batch_size"}, {.value = a.proj}};
        ia_zb_output(g, projection(g, "audio_projection", a.hidden, a.proj, a.proj_act, pooled),
                     "audio_embeds", IA_DTYPE_FLOAT32, 2, bp);
    }
    ia_zb_output(g, lh, "last_hidden_state", IA_DTYPE_FLOAT32, 4, dl);
    if (!with_proj) {
        struct ia_zb_dim bh[2] = {{.sym = "batch_size"}, {.value = a.hidden}};
        ia_zb_output(g, pooled, "pooler_output", IA_DTYPE_FLOAT32, 2, bh);
    }
    return ia_zb_status(g);
}

static int build_text_only(struct ia_zb *g, const struct ia_hf_config *cfg) {
    int64_t PD, H = 0;
    const char *pact = "relu", *lh = NULL;
    if (!(zoo_cfg_int_or(g, cfg, "projection_dim", 512, &PD) &&
          zoo_cfg_str_or(g, cfg, "projection_hidden_act", "relu", &pact) &&
          zoo_cfg_range(g, cfg, "projection_dim", PD, 1, 1 << 16)))
        return ia_zb_status(g);
    struct ia_zb_dim bs[2] = {{.sym = "batch_size"}, {.sym = "sequence_length"}};
    const char *ids = ia_zb_input(g, "input_ids", IA_DTYPE_INT64, 2, bs);
    const char *mask = ia_zb_input(g, "attention_mask", IA_DTYPE_INT64, 2, bs);
    const char *e = clap_text_tower(g, cfg, PD, pact, ids, mask, &lh, &H);
    if (ia_zb_status(g)) return ia_zb_status(g);
    struct ia_zb_dim bsh[3] = {{.sym = "batch_size"}, {.sym = "sequence_length"}, {.value = H}};
    ia_zb_output(g, lh, "last_hidden_state", IA_DTYPE_FLOAT32, 3, bsh);
    struct ia_zb_dim bp[2] = {{.sym = "batch_size"}, {.value = PD}};
    ia_zb_output(g, e, "text_embeds", IA_DTYPE_FLOAT32, 2, bp);
    return ia_zb_status(g);
}

static int build_clap_model(struct ia_zb *g, const struct ia_hf_config *cfg) {
    struct ia_hf_config *tc = NULL, *ac = NULL;
    struct zoo_clap_audio a;
    int64_t PD;
    double scale_init;
    const char *pact = "relu";
    char act_copy[64];
    if (zoo_cfg_subconfig(g, cfg, "text_config", &tc) &&
        zoo_cfg_subconfig(g, cfg, "audio_config", &ac) &&
        zoo_cfg_int_or(g, cfg, "projection_dim", 512, &PD) &&
        zoo_cfg_str_or(g, cfg, "projection_hidden_act", "relu", &pact) &&
        zoo_cfg_float_or(g, cfg, "logit_scale_init_value", 1 / 0.07, &scale_init) &&
        zoo_cfg_range(g, cfg, "projection_dim", PD, 1, 1 << 16)) {
        if (!(scale_init > 0 && scale_init < 1e30))
            ia_zb_fail(g, IA_ERANGE, "%s: key 'logit_scale_init_value' is %g, not positive",
                       ia_hf_config_label(cfg), scale_init);
        else if (strlen(pact) >= sizeof act_copy)
            ia_zb_fail(g, IA_ERANGE, "%s: key 'projection_hidden_act' is too long",
                       ia_hf_config_label(cfg));
        else
            memcpy(act_copy, pact, strlen(pact) + 1);
    }
    if (!ia_zb_status(g)) zoo_clap_audio_config(g, ac, &a);
    if (ia_zb_status(g)) {
        ia_hf_config_free(tc);
        ia_hf_config_free(ac);
        return ia_zb_status(g);
    }
    struct ia_zb_dim bs[2] = {{.sym = "batch_size"}, {.sym = "sequence_length"}};
    const char *ids = ia_zb_input(g, "input_ids", IA_DTYPE_INT64, 2, bs);
    const char *features = audio_input(g, &a);
    const char *mask = ia_zb_input(g, "attention_mask", IA_DTYPE_INT64, 2, bs);
    const char *temb =
        ia_zb_l2_normalize(g, clap_text_tower(g, tc, PD, act_copy, ids, mask, NULL, NULL));
    ia_hf_config_free(tc);
    ia_hf_config_free(ac);
    const char *pooled =
        zoo_clap_audio_tower(g, &a, "audio_model.audio_encoder.", features, NULL, NULL);
    const char *aemb =
        ia_zb_l2_normalize(g, projection(g, "audio_projection", a.hidden, PD, act_copy, pooled));
    int64_t tp[2] = {1, 0};
    struct ia_zb_attr ta = IA_ZB_INTS("perm", tp, 2);
    const char *at = ia_zb_op(g, "Transpose", 1, &aemb, 1, &ta);
    const char *tt = ia_zb_op(g, "Transpose", 1, &temb, 1, &ta);
    const char *lpt = ia_zb_op2(g, "Mul", ia_zb_op2(g, "MatMul", temb, at),
                                logit_scale(g, "logit_scale_t", scale_init));
    const char *lpa = ia_zb_op2(g, "Mul", ia_zb_op2(g, "MatMul", aemb, tt),
                                logit_scale(g, "logit_scale_a", scale_init));
    struct ia_zb_dim bb[2] = {{.sym = "batch_size"}, {.sym = "batch_size"}};
    struct ia_zb_dim bp[2] = {{.sym = "batch_size"}, {.value = PD}};
    ia_zb_output(g, lpa, "logits_per_audio", IA_DTYPE_FLOAT32, 2, bb);
    ia_zb_output(g, lpt, "logits_per_text", IA_DTYPE_FLOAT32, 2, bb);
    ia_zb_output(g, temb, "text_embeds", IA_DTYPE_FLOAT32, 2, bp);
    ia_zb_output(g, aemb, "audio_embeds", IA_DTYPE_FLOAT32, 2, bp);
    return ia_zb_status(g);
}

int zoo_build_clap(struct ia_zb *g, const struct ia_hf_config *cfg,
                   const struct ia_zoo_build_opts *o) {
    (void)o;
    const char *label = ia_hf_config_label(cfg);
    const char *arch = ia_hf_config_architecture(cfg), *mt = "clap_text_model";
    if (!zoo_cfg_str_or(g, cfg, "model_type", "clap_text_model", &mt)) return ia_zb_status(g);
    if (!arch)
        arch = !strcmp(mt, "clap")               ? "ClapModel"
               : !strcmp(mt, "clap_audio_model") ? "ClapAudioModelWithProjection"
                                                 : "ClapTextModelWithProjection";
    if (!strcmp(arch, "ClapModel")) return build_clap_model(g, cfg);
    if (!strcmp(arch, "ClapTextModelWithProjection")) return build_text_only(g, cfg);
    if (!strcmp(arch, "ClapAudioModel")) return build_audio_only(g, cfg, 0);
    if (!strcmp(arch, "ClapAudioModelWithProjection")) return build_audio_only(g, cfg, 1);
    return ia_zb_fail(g, IA_EUNSUPPORTED,
                      "%s: architectures '%s' is not supported (clap: "
                      "ClapModel, ClapTextModelWithProjection, ClapAudioModel, "
                      "ClapAudioModelWithProjection)",
                      label, arch);
}
