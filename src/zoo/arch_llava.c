/*
 * LLaVA (LlavaForConditionalGeneration) as HF transformers defines it:
 * a CLIP vision tower run up to vision_feature_layer (hidden_states index;
 * -2, the default, stops one layer before the last, so the last layer and
 * post_layernorm are never computed), CLS dropped for
 * vision_feature_select_strategy "default" (kept for "full"), a 2-layer MLP
 * projector (linear_1, projector_hidden_act, linear_2), then a Llama (or
 * Qwen2) decoder over the token embeddings with the image features written
 * into the positions where input_ids == image_token_index.
 *
 * The merge is HF's masked_scatter done in the graph: the k-th image token
 * of the flattened batch (row-major over [batch, sequence]) takes the k-th
 * row of the flattened image features; k comes from a CumSum over the
 * mask, a Gather picks the rows and a Where keeps text embeddings
 * elsewhere. Unlike HF, a prompt whose image-token count differs from the
 * number of feature rows is not refused: extra image tokens reuse the last
 * row (indices are clamped), missing ones leave rows unused. Image token
 * ids are looked up as id 0 before being overwritten, so image_token_index
 * may lie outside the vocabulary.
 *
 * Text config (text_config, HF defaults of LlamaConfig for absent keys),
 * vision config (vision_config, CLIPVisionConfig defaults). Positions are
 * 0..S-1 as HF makes them without a cache; no KV cache is built.
 *
 * Inputs:  input_ids, attention_mask int64 [batch_size, sequence_length]
 *          pixel_values float [batch_size, num_channels, image_size, image_size]
 *          (one image per row; any number of images works in the graph)
 * Output:  logits [batch_size, sequence_length, vocab_size]
 *
 * Checkpoint names: the hub layout (vision_tower., multi_modal_projector.,
 * language_model.model., language_model.lm_head.) or the one transformers
 * >= 4.52 saves (model.vision_tower., model.multi_modal_projector.,
 * model.language_model., lm_head.), picked by which the checkpoint has.
 */
#include <stdio.h>
#include <string.h>

#include "zoo_internal.h"

struct llava_text {
    int64_t V, H, L, NH, KV, I, D;
    double eps, theta;
    const char *act;
    int qwen, attn_bias, mlp_bias, tie;
};

static int read_text(struct ia_zb *g, const struct ia_hf_config *top, const struct ia_hf_config *tc,
                     struct llava_text *t) {
    const char *label = ia_hf_config_label(tc), *mt = "llama";
    int64_t dflt_vocab;
    if (!(zoo_cfg_int_or(g, top, "vocab_size", 32000, &dflt_vocab) &&
          zoo_cfg_str_or(g, tc, "model_type", "llama", &mt)))
        return 0;
    t->qwen = !strcmp(mt, "qwen2");
    if (!t->qwen && strcmp(mt, "llama")) {
        ia_zb_fail(g, IA_EUNSUPPORTED, "%s: model_type '%s' is not supported for the language "
                   "model (llava: llama, qwen2)", label, mt);
        return 0;
    }
    int top_tie = 0;
    if (!(zoo_cfg_int_or(g, tc, "vocab_size", dflt_vocab, &t->V) &&
          zoo_cfg_int_or(g, tc, "hidden_size", 4096, &t->H) &&
          zoo_cfg_int_or(g, tc, "num_hidden_layers", 32, &t->L) &&
          zoo_cfg_int_or(g, tc, "num_attention_heads", 32, &t->NH) &&
          zoo_cfg_int_or(g, tc, "intermediate_size", 11008, &t->I) &&
          zoo_cfg_int_or(g, tc, "num_key_value_heads", t->NH, &t->KV) &&
          zoo_cfg_float_or(g, tc, "rms_norm_eps", 1e-6, &t->eps) &&
          zoo_cfg_float_or(g, tc, "rope_theta", 10000.0, &t->theta) &&
          zoo_cfg_str_or(g, tc, "hidden_act", "silu", &t->act) &&
          zoo_cfg_range(g, tc, "vocab_size", t->V, 1, 1 << 24) &&
          zoo_cfg_range(g, tc, "hidden_size", t->H, 1, 1 << 16) &&
          zoo_cfg_range(g, tc, "num_hidden_layers", t->L, 1, 1024) &&
          zoo_cfg_range(g, tc, "num_attention_heads", t->NH, 1, t->H) &&
          zoo_cfg_range(g, tc, "num_key_value_heads", t->KV, 1, t->NH) &&
          zoo_cfg_range(g, tc, "intermediate_size", t->I, 1, 1 << 20) &&
          zoo_cfg_int_or(g, tc, "head_dim", t->H / t->NH, &t->D) &&
          zoo_cfg_range(g, tc, "head_dim", t->D, 2, 1 << 12) &&
          zoo_cfg_bool_or(g, top, "tie_word_embeddings", 0, &top_tie) &&
          zoo_cfg_bool_or(g, tc, "tie_word_embeddings", top_tie, &t->tie) &&
          zoo_cfg_bool_or(g, tc, "attention_bias", t->qwen, &t->attn_bias) &&
          zoo_cfg_bool_or(g, tc, "mlp_bias", 0, &t->mlp_bias)))
        return 0;
    if (t->NH % t->KV || t->D % 2 || !(t->theta > 0)) {
        ia_zb_fail(g, IA_EINVAL, "%s: num_attention_heads %lld, num_key_value_heads %lld, "
                   "head_dim %lld and rope_theta do not fit (heads a multiple of kv heads, "
                   "even head_dim, positive theta)", label, (long long)t->NH, (long long)t->KV,
                   (long long)t->D);
        return 0;
    }
    if (ia_hf_config_has(tc, "rope_scaling")) {
        ia_zb_fail(g, IA_EUNSUPPORTED, "%s: key 'rope_scaling' is set; scaled rotary embeddings "
                   "are not supported yet", label);
        return 0;
    }
    return 1;
}

/* Strings read from tc and vc live as long as they do. */
static int build(struct ia_zb *g, const struct ia_hf_config *cfg, struct ia_hf_config *tc,
                 struct ia_hf_config *vc) {
    const char *label = ia_hf_config_label(cfg);
    const char *arch = ia_hf_config_architecture(cfg);
    if (arch && strcmp(arch, "LlavaForConditionalGeneration"))
        return ia_zb_fail(g, IA_EUNSUPPORTED, "%s: architectures '%s' is not supported (llava: "
                          "LlavaForConditionalGeneration)", label, arch);
    struct llava_text t;
    int64_t image_token, feat_layer, VH, VL, VNH, VI, C, IMG, PS;
    double veps;
    const char *vact = "quick_gelu", *pact = "gelu", *strategy = "default";
    int proj_bias = 1;
    if (!(read_text(g, cfg, tc, &t) &&
          zoo_cfg_int_or(g, cfg, "image_token_index", 32000, &image_token) &&
          zoo_cfg_int_or(g, cfg, "vision_feature_layer", -2, &feat_layer) &&
          zoo_cfg_str_or(g, cfg, "vision_feature_select_strategy", "default", &strategy) &&
          zoo_cfg_str_or(g, cfg, "projector_hidden_act", "gelu", &pact) &&
          zoo_cfg_bool_or(g, cfg, "multimodal_projector_bias", 1, &proj_bias) &&
          zoo_cfg_int_or(g, vc, "hidden_size", 768, &VH) &&
          zoo_cfg_int_or(g, vc, "num_hidden_layers", 12, &VL) &&
          zoo_cfg_int_or(g, vc, "num_attention_heads", 12, &VNH) &&
          zoo_cfg_int_or(g, vc, "intermediate_size", 3072, &VI) &&
          zoo_cfg_int_or(g, vc, "num_channels", 3, &C) &&
          zoo_cfg_int_or(g, vc, "image_size", 224, &IMG) &&
          zoo_cfg_int_or(g, vc, "patch_size", 32, &PS) &&
          zoo_cfg_float_or(g, vc, "layer_norm_eps", 1e-5, &veps) &&
          zoo_cfg_str_or(g, vc, "hidden_act", "quick_gelu", &vact) &&
          zoo_cfg_range(g, vc, "hidden_size", VH, 1, 1 << 16) &&
          zoo_cfg_range(g, vc, "num_hidden_layers", VL, 1, 1024) &&
          zoo_cfg_range(g, vc, "num_attention_heads", VNH, 1, VH) &&
          zoo_cfg_range(g, vc, "intermediate_size", VI, 1, 1 << 20) &&
          zoo_cfg_range(g, vc, "num_channels", C, 1, 1 << 12) &&
          zoo_cfg_range(g, vc, "image_size", IMG, 1, 1 << 14) &&
          zoo_cfg_range(g, vc, "patch_size", PS, 1, IMG) &&
          zoo_cfg_range(g, cfg, "vision_feature_layer", feat_layer, -(VL + 1), VL)))
        return ia_zb_status(g);
    if (VH % VNH || IMG % PS)
        return ia_zb_fail(g, IA_EINVAL, "%s: vision_config hidden_size %lld / heads %lld or "
                          "image_size %lld / patch_size %lld is not a whole number", label,
                          (long long)VH, (long long)VNH, (long long)IMG, (long long)PS);
    int keep_cls = !strcmp(strategy, "full");
    if (!keep_cls && strcmp(strategy, "default"))
        return ia_zb_fail(g, IA_EUNSUPPORTED, "%s: vision_feature_select_strategy '%s' is not "
                          "supported (default, full)", label, strategy);
    /* hidden_states[i] is the output of layer i-1 (0: the embeddings). */
    const int64_t n_vis_layers = feat_layer < 0 ? VL + 1 + feat_layer : feat_layer;

    int new_layout = ia_zb_from_checkpoint(g) &&
                     ia_zb_has_weight(g, "model.language_model.embed_tokens.weight");
    const char *vt = new_layout ? "model.vision_tower.vision_model." : "vision_tower.vision_model.";
    const char *mp = new_layout ? "model.multi_modal_projector." : "multi_modal_projector.";
    const char *lm = new_layout ? "model.language_model." : "language_model.model.";
    const char *head = new_layout ? "lm_head.weight" : "language_model.lm_head.weight";
    char n[640], p[256];

    struct ia_zb_dim bs[2] = {{.sym = "batch_size"}, {.sym = "sequence_length"}};
    struct ia_zb_dim px[4] = {{.sym = "batch_size"}, {.value = C}, {.value = IMG}, {.value = IMG}};
    const char *ids = ia_zb_input(g, "input_ids", IA_DTYPE_INT64, 2, bs);
    const char *mask = ia_zb_input(g, "attention_mask", IA_DTYPE_INT64, 2, bs);
    const char *pixels = ia_zb_input(g, "pixel_values", IA_DTYPE_FLOAT32, 4, px);

    /* Vision tower up to the selected hidden state. */
    snprintf(n, sizeof n, "%sembeddings", vt);
    const char *v = ia_zb_cls_patch_embed(g, n, C, VH, IMG, PS, pixels);
    snprintf(n, sizeof n, "%spre_layrnorm", vt);
    v = ia_zb_layernorm(g, n, VH, veps, v);
    for (int64_t l = 0; l < n_vis_layers && !ia_zb_status(g); l++) {
        snprintf(p, sizeof p, "%sencoder.layers.%lld.", vt, (long long)l);
        v = ia_zb_prenorm_layer(g, p, VH, VNH, VI, veps, vact, NULL, v);
    }
    if (!keep_cls) v = ia_zb_slice(g, v, 1, 1, INT64_MAX);
    snprintf(n, sizeof n, "%slinear_1", mp);
    v = ia_zb_activation(g, pact, "projector_hidden_act",
                         ia_zb_linear(g, n, VH, t.H, proj_bias, IA_ZB_TRANSPOSED, v));
    snprintf(n, sizeof n, "%slinear_2", mp);
    v = ia_zb_linear(g, n, t.H, t.H, proj_bias, IA_ZB_TRANSPOSED, v);
    const char *feats = ia_zb_reshape(g, v, 2, (int64_t[]){-1, t.H}); /* [images*N, H] */

    /* Token embeddings with image features scattered in (see the top). */
    const char *tok = ia_zb_scalar_i64(g, image_token);
    const char *is_img = ia_zb_op2(g, "Equal", ids, tok); /* [B, S] */
    const char *w_in[3] = {is_img, ia_zb_scalar_i64(g, 0), ids};
    const char *safe_ids = ia_zb_op(g, "Where", 3, w_in, 0, NULL);
    snprintf(n, sizeof n, "%sembed_tokens.weight", lm);
    const char *emb = ia_zb_embedding(g, n, t.V, t.H, safe_ids); /* [B, S, H] */
    struct ia_zb_attr to_i64 = IA_ZB_INT("to", 7 /* INT64 */);
    const char *flat = ia_zb_reshape(g, ia_zb_op(g, "Cast", 1, &is_img, 1, &to_i64), 1,
                                     (int64_t[]){-1});
    const char *cs_in[2] = {flat, ia_zb_scalar_i64(g, 0)};
    const char *k = ia_zb_op2(g, "Sub", ia_zb_op(g, "CumSum", 2, cs_in, 0, NULL),
                              ia_zb_scalar_i64(g, 1));
    const char *last = ia_zb_op2(g, "Sub", ia_zb_dim_of(g, feats, 0), ia_zb_const_i64(g, 1,
                                                                                   (int64_t[]){1}));
    k = ia_zb_op2(g, "Min", ia_zb_op2(g, "Max", k, ia_zb_scalar_i64(g, 0)), last);
    const char *rows = ia_zb_op2(g, "Gather", feats, k); /* [B*S, H] */
    rows = ia_zb_op2(g, "Reshape", rows, ia_zb_op1(g, "Shape", emb));
    const char *w_emb[3] = {ia_zb_op2(g, "Unsqueeze", is_img, ia_zb_const_i64(g, 1,
                                                                            (int64_t[]){-1})),
                            rows, emb};
    const char *x = ia_zb_op(g, "Where", 3, w_emb, 0, NULL);

    /* The decoder, as arch_llama.c builds it, over the merged embeddings. */
    const char *rng[3] = {ia_zb_scalar_i64(g, 0),
                          ia_zb_op2(g, "Squeeze", ia_zb_dim_of(g, ids, 1),
                                    ia_zb_const_i64(g, 1, (int64_t[]){0})),
                          ia_zb_scalar_i64(g, 1)};
    const char *pos = ia_zb_op2(g, "Unsqueeze", ia_zb_op(g, "Range", 3, rng, 0, NULL),
                                ia_zb_const_i64(g, 1, (int64_t[]){0})); /* [1, S] */
    const char *amask = ia_zb_attention_mask(g, mask, ids, 1);
    const char *cos, *sin;
    ia_zb_rotary_tables(g, pos, t.D, t.theta, &cos, &sin);
    for (int64_t l = 0; l < t.L && !ia_zb_status(g); l++) {
        snprintf(p, sizeof p, "%slayers.%lld.", lm, (long long)l);
#define NM(s) (snprintf(n, sizeof n, "%s%s", p, s), n)
        const char *h = ia_zb_rmsnorm(g, NM("input_layernorm.weight"), t.H, t.eps, x);
        struct ia_zb_attn a = {.n_heads = t.NH, .n_kv_heads = t.KV, .head_dim = t.D,
                               .mask = amask, .cos = cos, .sin = sin};
        a.q = ia_zb_linear(g, NM("self_attn.q_proj"), t.H, t.NH * t.D, t.attn_bias,
                           IA_ZB_TRANSPOSED, h);
        a.k = ia_zb_linear(g, NM("self_attn.k_proj"), t.H, t.KV * t.D, t.attn_bias,
                           IA_ZB_TRANSPOSED, h);
        a.v = ia_zb_linear(g, NM("self_attn.v_proj"), t.H, t.KV * t.D, t.attn_bias,
                           IA_ZB_TRANSPOSED, h);
        const char *ctx = ia_zb_attention(g, &a);
        x = ia_zb_op2(g, "Add", x, ia_zb_linear(g, NM("self_attn.o_proj"), t.NH * t.D, t.H,
                                                t.attn_bias && !t.qwen, IA_ZB_TRANSPOSED, ctx));
        h = ia_zb_rmsnorm(g, NM("post_attention_layernorm.weight"), t.H, t.eps, x);
        char gate[600], up[600], down[600];
        snprintf(gate, sizeof gate, "%smlp.gate_proj", p);
        snprintf(up, sizeof up, "%smlp.up_proj", p);
        snprintf(down, sizeof down, "%smlp.down_proj", p);
        x = ia_zb_op2(g, "Add", x,
                      ia_zb_gated_mlp(g, gate, up, down, t.H, t.I, t.mlp_bias, t.act, h));
#undef NM
    }
    snprintf(n, sizeof n, "%snorm.weight", lm);
    x = ia_zb_rmsnorm(g, n, t.H, t.eps, x);
    snprintf(n, sizeof n, "%sembed_tokens.weight", lm);
    const char *logits;
    if (t.tie) {
        logits = ia_zb_lm_head(g, head, n, t.H, t.V, x);
    } else {
        int64_t d[2] = {t.V, t.H};
        logits = ia_zb_op2(g, "MatMul", x, ia_zb_weight(g, head, IA_ZB_INIT_NORMAL,
                                                        IA_ZB_TRANSPOSED, 2, d));
    }
    struct ia_zb_dim bsv[3] = {{.sym = "batch_size"}, {.sym = "sequence_length"}, {.value = t.V}};
    ia_zb_output(g, logits, "logits", IA_DTYPE_FLOAT32, 3, bsv);
    return ia_zb_status(g);
}

int zoo_build_llava(struct ia_zb *g, const struct ia_hf_config *cfg,
                    const struct ia_zoo_build_opts *o) {
    (void)o;
    struct ia_hf_config *tc = NULL, *vc = NULL;
    if (zoo_cfg_subconfig(g, cfg, "text_config", &tc) &&
        zoo_cfg_subconfig(g, cfg, "vision_config", &vc))
        build(g, cfg, tc, vc);
    ia_hf_config_free(tc);
    ia_hf_config_free(vc);
    return ia_zb_status(g);
}
