/*
 * CLIP (CLIPModel) as HF transformers defines it: two pre-LN transformer
 * towers read from the config's text_config and vision_config objects
 * (absent keys take HF's CLIPTextConfig / CLIPVisionConfig defaults).
 *  - text: token + learned position embeddings, causal self-attention (plus
 *    the padding mask), final LayerNorm, pooled at the EOS token: argmax of
 *    input_ids when eos_token_id is 2 (the original OpenAI configs), else
 *    the first position whose id equals eos_token_id; text_projection.
 *  - vision: patch Conv (no bias), class embedding, position embeddings,
 *    pre_layrnorm (HF's spelling), encoder, post_layernorm on the class
 *    token; visual_projection.
 *  Both projections are L2-normalised; logits_per_text = text_embeds @
 *  image_embeds^T * exp(logit_scale), logits_per_image its transpose.
 *
 * Inputs:  input_ids, attention_mask int64 [batch_size, sequence_length]
 *          pixel_values float [batch_size, num_channels, image_size, image_size]
 * Outputs: logits_per_image [B, B], logits_per_text [B, B],
 *          text_embeds [B, projection_dim], image_embeds [B, projection_dim]
 *          (optimum's names; text and image batches share batch_size here).
 */
#include <stdio.h>
#include <string.h>

#include "zoo_internal.h"

struct tower {
    int64_t H, L, NH, I;
    double eps;
    char act[64]; /* a copy: the sub-config it came from is freed early */
};

static int read_tower(struct ia_zb *g, const struct ia_hf_config *c, struct tower *t, int64_t dH,
                      int64_t dL, int64_t dNH, int64_t dI) {
    if (!(zoo_cfg_int_or(g, c, "hidden_size", dH, &t->H) &&
          zoo_cfg_int_or(g, c, "num_hidden_layers", dL, &t->L) &&
          zoo_cfg_int_or(g, c, "num_attention_heads", dNH, &t->NH) &&
          zoo_cfg_int_or(g, c, "intermediate_size", dI, &t->I) &&
          zoo_cfg_float_or(g, c, "layer_norm_eps", 1e-5, &t->eps) &&
          zoo_cfg_range(g, c, "hidden_size", t->H, 1, 1 << 16) &&
          zoo_cfg_range(g, c, "num_hidden_layers", t->L, 1, 1024) &&
          zoo_cfg_range(g, c, "num_attention_heads", t->NH, 1, t->H) &&
          zoo_cfg_range(g, c, "intermediate_size", t->I, 1, 1 << 20)))
        return 0;
    if (t->H % t->NH) {
        ia_zb_fail(g, IA_EINVAL,
                   "%s: hidden_size %lld is not a multiple of num_attention_heads "
                   "%lld",
                   ia_hf_config_label(c), (long long)t->H, (long long)t->NH);
        return 0;
    }
    const char *act;
    if (ia_hf_config_str_or(c, "hidden_act", "quick_gelu", &act)) {
        ia_zb_fail(g, IA_EFORMAT, "%s", ia_error_msg());
        return 0;
    }
    snprintf(t->act, sizeof t->act, "%s", act);
    return 1;
}

/* The shared encoder: pre-LN layers under `p` ("text_model.encoder.layers."). */
static const char *encoder(struct ia_zb *g, const struct tower *t, const char *p, const char *x,
                           const char *mask) {
    char n[512];
    for (int64_t l = 0; l < t->L && !ia_zb_status(g); l++) {
#define NM(s) (snprintf(n, sizeof n, "%s%lld.%s", p, (long long)l, s), n)
        const char *h = ia_zb_layernorm(g, NM("layer_norm1"), t->H, t->eps, x);
        struct ia_zb_attn a = {
            .n_heads = t->NH, .n_kv_heads = t->NH, .head_dim = t->H / t->NH, .mask = mask};
        a.q = ia_zb_linear(g, NM("self_attn.q_proj"), t->H, t->H, 1, IA_ZB_TRANSPOSED, h);
        a.k = ia_zb_linear(g, NM("self_attn.k_proj"), t->H, t->H, 1, IA_ZB_TRANSPOSED, h);
        a.v = ia_zb_linear(g, NM("self_attn.v_proj"), t->H, t->H, 1, IA_ZB_TRANSPOSED, h);
        const char *ctx = ia_zb_attention(g, &a);
        x = ia_zb_op2(
            g, "Add", x,
            ia_zb_linear(g, NM("self_attn.out_proj"), t->H, t->H, 1, IA_ZB_TRANSPOSED, ctx));
        h = ia_zb_layernorm(g, NM("layer_norm2"), t->H, t->eps, x);
        h = ia_zb_activation(g, t->act, "hidden_act",
                             ia_zb_linear(g, NM("mlp.fc1"), t->H, t->I, 1, IA_ZB_TRANSPOSED, h));
        x = ia_zb_op2(g, "Add", x,
                      ia_zb_linear(g, NM("mlp.fc2"), t->I, t->H, 1, IA_ZB_TRANSPOSED, h));
#undef NM
    }
    return x;
}

int zoo_build_clip(struct ia_zb *g, const struct ia_hf_config *cfg,
                   const struct ia_zoo_build_opts *o) {
    (void)o;
    const char *label = ia_hf_config_label(cfg);
    const char *arch = ia_hf_config_architecture(cfg);
    if (arch && strcmp(arch, "CLIPModel"))
        return ia_zb_fail(g, IA_EUNSUPPORTED,
                          "%s: architectures '%s' is not supported (clip: "
                          "CLIPModel)",
                          label, arch);
    struct ia_hf_config *tc = NULL, *vc = NULL;
    if (ia_hf_config_sub(cfg, "text_config", &tc) || ia_hf_config_sub(cfg, "vision_config", &vc)) {
        ia_hf_config_free(tc);
        return ia_zb_fail(g, IA_EFORMAT, "%s", ia_error_msg());
    }
    struct tower t, v;
    int64_t V, P, eos, proj, C, IMG, PS;
    double scale_init;
    int ok = read_tower(g, tc, &t, 512, 12, 8, 2048) && read_tower(g, vc, &v, 768, 12, 12, 3072) &&
             zoo_cfg_int_or(g, tc, "vocab_size", 49408, &V) &&
             zoo_cfg_int_or(g, tc, "max_position_embeddings", 77, &P) &&
             zoo_cfg_int_or(g, tc, "eos_token_id", 49407, &eos) &&
             zoo_cfg_int_or(g, vc, "num_channels", 3, &C) &&
             zoo_cfg_int_or(g, vc, "image_size", 224, &IMG) &&
             zoo_cfg_int_or(g, vc, "patch_size", 32, &PS) &&
             zoo_cfg_int_or(g, cfg, "projection_dim", 512, &proj) &&
             zoo_cfg_float_or(g, cfg, "logit_scale_init_value", 2.6592, &scale_init) &&
             zoo_cfg_range(g, tc, "vocab_size", V, 1, 1 << 24) &&
             zoo_cfg_range(g, tc, "max_position_embeddings", P, 1, 1 << 20) &&
             zoo_cfg_range(g, vc, "num_channels", C, 1, 1 << 12) &&
             zoo_cfg_range(g, vc, "image_size", IMG, 1, 1 << 14) &&
             zoo_cfg_range(g, vc, "patch_size", PS, 1, IMG) &&
             zoo_cfg_range(g, cfg, "projection_dim", proj, 1, 1 << 16);
    if (ok && IMG % PS)
        ia_zb_fail(g, IA_EINVAL, "%s: image_size %lld is not a multiple of patch_size %lld",
                   ia_hf_config_label(vc), (long long)IMG, (long long)PS);
    ia_hf_config_free(tc);
    ia_hf_config_free(vc);
    if (ia_zb_status(g)) return ia_zb_status(g);
    const int64_t N = (IMG / PS) * (IMG / PS);

    struct ia_zb_dim bs[2] = {{.sym = "batch_size"}, {.sym = "sequence_length"}};
    struct ia_zb_dim px[4] = {{.sym = "batch_size"}, {.value = C}, {.value = IMG}, {.value = IMG}};
    const char *ids = ia_zb_input(g, "input_ids", IA_DTYPE_INT64, 2, bs);
    const char *pixels = ia_zb_input(g, "pixel_values", IA_DTYPE_FLOAT32, 4, px);
    const char *mask = ia_zb_input(g, "attention_mask", IA_DTYPE_INT64, 2, bs);

    /* Text tower. */
    const char *x = ia_zb_embedding(g, "text_model.embeddings.token_embedding.weight", V, t.H, ids);
    const char *rng[3] = {
        ia_zb_scalar_i64(g, 0),
        ia_zb_op2(g, "Squeeze", ia_zb_dim_of(g, ids, 1), ia_zb_const_i64(g, 1, (int64_t[]){0})),
        ia_zb_scalar_i64(g, 1)};
    x = ia_zb_op2(g, "Add", x,
                  ia_zb_embedding(g, "text_model.embeddings.position_embedding.weight", P, t.H,
                                  ia_zb_op(g, "Range", 3, rng, 0, NULL)));
    x = encoder(g, &t, "text_model.encoder.layers.", x, ia_zb_attention_mask(g, mask, ids, 1));
    x = ia_zb_layernorm(g, "text_model.final_layer_norm", t.H, t.eps, x);
    struct ia_zb_attr to_i32 = IA_ZB_INT("to", 6 /* INT32 */);
    struct ia_zb_attr am[2] = {IA_ZB_INT("axis", -1), IA_ZB_INT("keepdims", 0)};
    const char *key = ids;
    if (eos != 2) /* HF: (input_ids == eos_token_id).int().argmax(-1) */
        key = ia_zb_op2(g, "Equal", ids, ia_zb_scalar_i64(g, eos));
    key = ia_zb_op(g, "Cast", 1, &key, 1, &to_i32);
    const char *at = ia_zb_op(g, "ArgMax", 1, &key, 2, am); /* [B] int64 */
    const char *tpool = ia_zb_gather_rows(g, x, at, t.H);
    const char *temb = ia_zb_l2_normalize(
        g, ia_zb_linear(g, "text_projection", t.H, proj, 0, IA_ZB_TRANSPOSED, tpool));

    /* Vision tower. */
    int64_t pd[4] = {v.H, C, PS, PS};
    const char *conv_in[2] = {pixels, ia_zb_weight(g,
                                                   "vision_model.embeddings.patch_embedding"
                                                   ".weight",
                                                   IA_ZB_INIT_NORMAL, IA_ZB_AS_IS, 4, pd)};
    int64_t k[2] = {PS, PS}, s[2] = {PS, PS};
    struct ia_zb_attr ca[2] = {IA_ZB_INTS("kernel_shape", k, 2), IA_ZB_INTS("strides", s, 2)};
    const char *patches = ia_zb_op(g, "Conv", 2, conv_in, 2, ca); /* [B, H, h, w] */
    int64_t flat[3] = {0, 0, -1}, perm[3] = {0, 2, 1};
    patches = ia_zb_op2(g, "Reshape", patches, ia_zb_const_i64(g, 3, flat));
    struct ia_zb_attr pa = IA_ZB_INTS("perm", perm, 3);
    patches = ia_zb_op(g, "Transpose", 1, &patches, 1, &pa); /* [B, N, H] */
    const char *cls = ia_zb_weight(g, "vision_model.embeddings.class_embedding", IA_ZB_INIT_NORMAL,
                                   IA_ZB_AS_IS, 1, &v.H);
    const char *cls_shape[2] = {ia_zb_dim_of(g, pixels, 0),
                                ia_zb_const_i64(g, 2, (int64_t[]){1, v.H})};
    struct ia_zb_attr ax0 = IA_ZB_INT("axis", 0), ax1 = IA_ZB_INT("axis", 1);
    const char *cat[2] = {ia_zb_op2(g, "Expand", cls, ia_zb_op(g, "Concat", 2, cls_shape, 1, &ax0)),
                          patches};
    const char *y = ia_zb_op(g, "Concat", 2, cat, 1, &ax1);
    int64_t posd[2] = {N + 1, v.H};
    y = ia_zb_op2(g, "Add", y,
                  ia_zb_weight(g, "vision_model.embeddings.position_embedding.weight",
                               IA_ZB_INIT_NORMAL, IA_ZB_AS_IS, 2, posd));
    y = ia_zb_layernorm(g, "vision_model.pre_layrnorm", v.H, v.eps, y);
    y = encoder(g, &v, "vision_model.encoder.layers.", y, NULL);
    const char *vpool =
        ia_zb_layernorm(g, "vision_model.post_layernorm", v.H, v.eps, ia_zb_select_token(g, y, 0));
    const char *iemb = ia_zb_l2_normalize(
        g, ia_zb_linear(g, "visual_projection", v.H, proj, 0, IA_ZB_TRANSPOSED, vpool));

    /* Similarities. */
    const char *ls;
    int64_t scalar[1] = {1}; /* rank 0: dims unused */
    if (ia_zb_from_checkpoint(g)) {
        ls = ia_zb_weight(g, "logit_scale", IA_ZB_INIT_ZEROS, IA_ZB_AS_IS, 0, scalar);
    } else {
        float init = (float)scale_init;
        ls = ia_zb_weight_values(g, "logit_scale", 0, scalar, &init);
    }
    int64_t tp[2] = {1, 0};
    struct ia_zb_attr ta = IA_ZB_INTS("perm", tp, 2);
    const char *it = ia_zb_op(g, "Transpose", 1, &iemb, 1, &ta);
    const char *lpt =
        ia_zb_op2(g, "Mul", ia_zb_op2(g, "MatMul", temb, it), ia_zb_op1(g, "Exp", ls));
    const char *lpi = ia_zb_op(g, "Transpose", 1, &lpt, 1, &ta);
    struct ia_zb_dim bb[2] = {{.sym = "batch_size"}, {.sym = "batch_size"}};
    struct ia_zb_dim bp[2] = {{.sym = "batch_size"}, {.value = proj}};
    ia_zb_output(g, lpi, "logits_per_image", IA_DTYPE_FLOAT32, 2, bb);
    ia_zb_output(g, lpt, "logits_per_text", IA_DTYPE_FLOAT32, 2, bb);
    ia_zb_output(g, temb, "text_embeds", IA_DTYPE_FLOAT32, 2, bp);
    ia_zb_output(g, iemb, "image_embeds", IA_DTYPE_FLOAT32, 2, bp);
    return ia_zb_status(g);
}
