/*
 * ViT (ViTModel, ViTForImageClassification) as HF transformers defines it:
 * patch embedding (Conv, kernel = stride = patch_size), a CLS token,
 * learned position embeddings for image_size (no interpolation), pre-LN
 * encoder layers, final LayerNorm; then the pooler (tanh(dense(CLS))) for
 * ViTModel, or the classifier on the CLS token for classification.
 *
 * Input:  pixel_values float [batch_size, num_channels, image_size, image_size]
 * Output: last_hidden_state [B, 1 + (image_size/patch_size)^2, H], pooler_output [B, H]
 *         or logits [B, num_labels]
 */
#include <stdio.h>
#include <string.h>

#include "zoo_internal.h"

int zoo_build_vit(struct ia_zb *g, const struct ia_hf_config *cfg,
                  const struct ia_zoo_build_opts *o) {
    (void)o;
    const char *label = ia_hf_config_label(cfg);
    const char *arch = ia_hf_config_architecture(cfg), *act = "gelu";
    if (!arch) arch = "ViTModel";
    int cls = !strcmp(arch, "ViTForImageClassification");
    if (!cls && strcmp(arch, "ViTModel"))
        return ia_zb_fail(g, IA_EUNSUPPORTED, "%s: architectures '%s' is not supported (vit: "
                          "ViTModel, ViTForImageClassification)", label, arch);
    int64_t H, L, NH, I, IMG, PS, C, NL;
    double eps;
    int qkv_bias = 1;
    int64_t n_id2label = ia_hf_config_len(cfg, "id2label");
    if (!(zoo_cfg_int(g, cfg, "hidden_size", &H) &&
          zoo_cfg_int(g, cfg, "num_hidden_layers", &L) &&
          zoo_cfg_int(g, cfg, "num_attention_heads", &NH) &&
          zoo_cfg_int(g, cfg, "intermediate_size", &I) &&
          zoo_cfg_int_or(g, cfg, "image_size", 224, &IMG) &&
          zoo_cfg_int_or(g, cfg, "patch_size", 16, &PS) &&
          zoo_cfg_int_or(g, cfg, "num_channels", 3, &C) &&
          zoo_cfg_int_or(g, cfg, "num_labels", n_id2label > 0 ? n_id2label : 2, &NL) &&
          zoo_cfg_float_or(g, cfg, "layer_norm_eps", 1e-12, &eps) &&
          zoo_cfg_range(g, cfg, "hidden_size", H, 1, 1 << 16) &&
          zoo_cfg_range(g, cfg, "num_hidden_layers", L, 1, 1024) &&
          zoo_cfg_range(g, cfg, "num_attention_heads", NH, 1, H) &&
          zoo_cfg_range(g, cfg, "intermediate_size", I, 1, 1 << 20) &&
          zoo_cfg_range(g, cfg, "image_size", IMG, 1, 1 << 14) &&
          zoo_cfg_range(g, cfg, "patch_size", PS, 1, IMG) &&
          zoo_cfg_range(g, cfg, "num_channels", C, 1, 1 << 12) &&
          zoo_cfg_range(g, cfg, "num_labels", NL, 1, 1 << 20)))
        return ia_zb_status(g);
    if (H % NH)
        return ia_zb_fail(g, IA_EINVAL, "%s: hidden_size %lld is not a multiple of "
                          "num_attention_heads %lld", label, (long long)H, (long long)NH);
    if (IMG % PS)
        return ia_zb_fail(g, IA_EINVAL, "%s: image_size %lld is not a multiple of patch_size "
                          "%lld", label, (long long)IMG, (long long)PS);
    if (ia_hf_config_str_or(cfg, "hidden_act", "gelu", &act) ||
        ia_hf_config_bool_or(cfg, "qkv_bias", 1, &qkv_bias))
        return ia_zb_fail(g, IA_EFORMAT, "%s", ia_error_msg());
    const int64_t N = (IMG / PS) * (IMG / PS);
    const char *pre = cls ? "vit." : "";
    ia_zb_set_base_prefix(g, "vit.");
    char n[512];

    struct ia_zb_dim px[4] = {{.sym = "batch_size"}, {.value = C}, {.value = IMG},
                              {.value = IMG}};
    const char *pixels = ia_zb_input(g, "pixel_values", IA_DTYPE_FLOAT32, 4, px);
    snprintf(n, sizeof n, "%sembeddings.patch_embeddings.projection", pre);
    const char *patches = ia_zb_patch_embed(g, n, C, H, PS, pixels); /* [B, N, H] */
    snprintf(n, sizeof n, "%sembeddings.cls_token", pre);
    const char *clsw = ia_zb_weight(g, n, IA_ZB_INIT_NORMAL, IA_ZB_AS_IS, 3,
                                    (int64_t[]){1, 1, H});
    const char *cat_shape[2] = {ia_zb_dim_of(g, pixels, 0), ia_zb_const_i64(g, 2, (int64_t[]){1, H})};
    struct ia_zb_attr ax0 = IA_ZB_INT("axis", 0), ax1 = IA_ZB_INT("axis", 1);
    const char *shape = ia_zb_op(g, "Concat", 2, cat_shape, 1, &ax0);
    const char *cat[2] = {ia_zb_op2(g, "Expand", clsw, shape), patches};
    const char *x = ia_zb_op(g, "Concat", 2, cat, 1, &ax1);
    snprintf(n, sizeof n, "%sembeddings.position_embeddings", pre);
    x = ia_zb_op2(g, "Add", x, ia_zb_weight(g, n, IA_ZB_INIT_NORMAL, IA_ZB_AS_IS, 3,
                                            (int64_t[]){1, N + 1, H}));

    for (int64_t l = 0; l < L && !ia_zb_status(g); l++) {
        char p[128];
        snprintf(p, sizeof p, "%sencoder.layer.%lld.", pre, (long long)l);
#define NM(s) (snprintf(n, sizeof n, "%s%s", p, s), n)
        const char *h = ia_zb_layernorm(g, NM("layernorm_before"), H, eps, x);
        struct ia_zb_attn a = {.n_heads = NH, .n_kv_heads = NH, .head_dim = H / NH};
        a.q = ia_zb_linear(g, NM("attention.attention.query"), H, H, qkv_bias, IA_ZB_TRANSPOSED, h);
        a.k = ia_zb_linear(g, NM("attention.attention.key"), H, H, qkv_bias, IA_ZB_TRANSPOSED, h);
        a.v = ia_zb_linear(g, NM("attention.attention.value"), H, H, qkv_bias, IA_ZB_TRANSPOSED, h);
        const char *ctx = ia_zb_attention(g, &a);
        x = ia_zb_op2(g, "Add", x, ia_zb_linear(g, NM("attention.output.dense"), H, H, 1,
                                                IA_ZB_TRANSPOSED, ctx));
        h = ia_zb_layernorm(g, NM("layernorm_after"), H, eps, x);
        h = ia_zb_activation(g, act, "hidden_act",
                             ia_zb_linear(g, NM("intermediate.dense"), H, I, 1, IA_ZB_TRANSPOSED, h));
        x = ia_zb_op2(g, "Add", x, ia_zb_linear(g, NM("output.dense"), I, H, 1, IA_ZB_TRANSPOSED, h));
#undef NM
    }
    snprintf(n, sizeof n, "%slayernorm", pre);
    x = ia_zb_layernorm(g, n, H, eps, x);
    const char *first = ia_zb_select_token(g, x, 0);
    struct ia_zb_dim bh[2] = {{.sym = "batch_size"}, {.value = H}};
    if (cls) {
        struct ia_zb_dim bl[2] = {{.sym = "batch_size"}, {.value = NL}};
        ia_zb_output(g, ia_zb_linear(g, "classifier", H, NL, 1, IA_ZB_TRANSPOSED, first),
                     "logits", IA_DTYPE_FLOAT32, 2, bl);
        return ia_zb_status(g);
    }
    struct ia_zb_dim bnh[3] = {{.sym = "batch_size"}, {.value = N + 1}, {.value = H}};
    ia_zb_output(g, x, "last_hidden_state", IA_DTYPE_FLOAT32, 3, bnh);
    const char *pooled = ia_zb_op1(
        g, "Tanh", ia_zb_linear(g, "pooler.dense", H, H, 1, IA_ZB_TRANSPOSED, first));
    ia_zb_output(g, pooled, "pooler_output", IA_DTYPE_FLOAT32, 2, bh);
    return ia_zb_status(g);
}
