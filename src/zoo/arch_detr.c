/*
 * DETR (DetrModel, DetrForObjectDetection) as HF transformers defines it:
 *
 * - backbone: a ResNet (conv 7x7/2 stem, max pool 3x3/2, bottleneck or
 *   basic blocks with the stride on the 3x3 conv, frozen batch norm as
 *   x * scale + shift) — timm's resnet18/34/50/101 (use_timm_backbone, the
 *   default; names conv1, bn1, layerN.M.convK/bnK, downsample.0/.1) or an
 *   HF ResNet from backbone_config (embedding_size, hidden_sizes, depths,
 *   layer_type; names embedder.embedder.*, encoder.stages.S.layers.M.
 *   layer.K.*, shortcut.*); the last stage's map only; dilation is refused;
 * - pixel_mask resized to the feature map (nearest, as F.interpolate does:
 *   source index floor(i * in/out)), the sine 2-D position embedding (y
 *   then x halves, normalised by the last cumulative sum, scale 2*pi,
 *   temperature 10000, sin on even and cos on odd channels);
 * - input_projection (1x1 conv) to d_model, a post-LN transformer encoder
 *   (position added to queries and keys, not values) and decoder with
 *   learned object queries (query_position_embeddings; the decoder input
 *   starts at zeros), cross-attention keys get the spatial positions, the
 *   decoder's final layernorm;
 * - DetrForObjectDetection: class_labels_classifier (num_labels + 1) and the
 *   3-layer ReLU MLP bbox_predictor with a sigmoid.
 *
 * The image size is not an HF config key: the zoo reads image_size (default
 * 800, an int or [height, width]) to fix the input shape; the graph itself
 * computes everything from the input's shape.
 *
 * Inputs:  pixel_values float [batch_size, num_channels, height, width]
 *          pixel_mask int64 [batch_size, height, width] (1 = real pixel)
 * Outputs: logits [B, num_queries, num_labels + 1], pred_boxes [B, num_queries, 4]
 *          (detection); last_hidden_state [B, num_queries, d_model] (DetrModel)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zoo_internal.h"

#define BN_EPS 1e-5 /* DetrFrozenBatchNorm2d's */

struct backbone {
    int timm, bottleneck;
    int64_t stem, n_stages, depths[8], widths[8]; /* widths: block output channels */
};

static int read_backbone(struct ia_zb *g, const struct ia_hf_config *cfg, struct backbone *bb) {
    const char *label = ia_hf_config_label(cfg);
    int dilation = 0;
    if (!(zoo_cfg_bool_or(g, cfg, "use_timm_backbone", 1, &bb->timm) &&
          zoo_cfg_bool_or(g, cfg, "dilation", 0, &dilation)))
        return 0;
    if (dilation) {
        ia_zb_fail(g, IA_EUNSUPPORTED, "%s: key 'dilation' is true; dilated backbones (DETR-DC5) "
                   "are not supported", label);
        return 0;
    }
    if (bb->timm) {
        const char *name = "resnet50";
        if (!zoo_cfg_str_or(g, cfg, "backbone", "resnet50", &name)) return 0;
        static const struct {
            const char *name;
            int bottleneck;
            int64_t d[4];
        } known[] = {{"resnet18", 0, {2, 2, 2, 2}}, {"resnet34", 0, {3, 4, 6, 3}},
                     {"resnet50", 1, {3, 4, 6, 3}}, {"resnet101", 1, {3, 4, 23, 3}}};
        size_t i = 0;
        while (i < 4 && strcmp(known[i].name, name)) i++;
        if (i == 4) {
            ia_zb_fail(g, IA_EUNSUPPORTED, "%s: backbone '%s' is not supported (resnet18, "
                       "resnet34, resnet50, resnet101)", label, name);
            return 0;
        }
        bb->bottleneck = known[i].bottleneck;
        bb->stem = 64;
        bb->n_stages = 4;
        for (int s = 0; s < 4; s++) {
            bb->depths[s] = known[i].d[s];
            bb->widths[s] = (64 << s) * (bb->bottleneck ? 4 : 1);
        }
        return 1;
    }
    struct ia_hf_config *bc = NULL;
    if (!zoo_cfg_subconfig(g, cfg, "backbone_config", &bc)) return 0;
    const char *lt = "bottleneck";
    int ok = zoo_cfg_int_or(g, bc, "embedding_size", 64, &bb->stem) &&
             zoo_cfg_range(g, bc, "embedding_size", bb->stem, 1, 1 << 14) &&
             zoo_cfg_str_or(g, bc, "layer_type", "bottleneck", &lt);
    if (ok) {
        bb->bottleneck = !strcmp(lt, "bottleneck");
        if (!bb->bottleneck && strcmp(lt, "basic")) {
            ia_zb_fail(g, IA_EUNSUPPORTED, "%s: layer_type '%s' is not supported (basic, "
                       "bottleneck)", ia_hf_config_label(bc), lt);
            ok = 0;
        }
    }
    int64_t nd = ok ? ia_hf_config_len(bc, "depths") : 0, nw = ok ? ia_hf_config_len(bc, "hidden_sizes") : 0;
    if (ok && (nd < 1 || nd > 8 || nd != nw)) {
        ia_zb_fail(g, IA_EFORMAT, "%s: 'depths' and 'hidden_sizes' must be lists of 1 to 8 "
                   "equal lengths", ia_hf_config_label(bc));
        ok = 0;
    }
    if (ok) {
        /* The lists as JSON text are the only way in; parse them by hand. */
        char *dump = ia_hf_config_dump(bc);
        if (!dump) {
            ia_zb_fail(g, IA_ENOMEM, "out of memory");
            ok = 0;
        }
        const char *keys[2] = {"\"depths\":[", "\"hidden_sizes\":["};
        int64_t *dst[2] = {bb->depths, bb->widths};
        for (int k = 0; ok && k < 2; k++) {
            const char *at = strstr(dump, keys[k]);
            at = at ? at + strlen(keys[k]) : NULL;
            for (int64_t i = 0; ok && at && i < nd; i++) {
                char *end;
                long long v = strtoll(at, &end, 10);
                if (end == at || v < 1 || v > (1 << 16)) {
                    ia_zb_fail(g, IA_ERANGE, "%s: '%s' entries must be integers in [1, 65536]",
                               ia_hf_config_label(bc), k ? "hidden_sizes" : "depths");
                    ok = 0;
                }
                dst[k][i] = v;
                at = end + (*end == ',');
            }
        }
        ia_free(dump);
    }
    bb->n_stages = nd;
    ia_hf_config_free(bc);
    return ok;
}

/* conv (no bias) + frozen batch norm (+ ReLU). */
static const char *conv_bn(struct ia_zb *g, const char *conv, const char *bn, int64_t in,
                           int64_t out, int64_t k, int64_t stride, int relu, const char *x) {
    x = ia_zb_conv2d(g, conv, in, out, k, stride, k / 2, 0, x);
    x = ia_zb_frozen_batchnorm(g, bn, out, BN_EPS, x);
    return relu ? ia_zb_op1(g, "Relu", x) : x;
}

static const char *resnet(struct ia_zb *g, const struct backbone *bb, int64_t C, const char *x,
                          int64_t *out_ch) {
    const char *pre = "model.backbone.conv_encoder.model.";
    char c[640], b[640], p[320];
    if (bb->timm) {
        snprintf(c, sizeof c, "%sconv1", pre);
        snprintf(b, sizeof b, "%sbn1", pre);
    } else {
        snprintf(c, sizeof c, "%sembedder.embedder.convolution", pre);
        snprintf(b, sizeof b, "%sembedder.embedder.normalization", pre);
    }
    x = conv_bn(g, c, b, C, bb->stem, 7, 2, 1, x);
    x = ia_zb_maxpool(g, 3, 2, 1, x);
    int64_t in = bb->stem;
    for (int64_t s = 0; s < bb->n_stages && !ia_zb_status(g); s++) {
        int64_t out = bb->widths[s];
        int64_t mid = bb->bottleneck ? out / 4 : out; /* timm planes, HF reduction 4 */
        for (int64_t m = 0; m < bb->depths[s] && !ia_zb_status(g); m++) {
            int64_t stride = m == 0 && s > 0 ? 2 : 1;
            if (bb->timm)
                snprintf(p, sizeof p, "%slayer%lld.%lld.", pre, (long long)s + 1, (long long)m);
            else
                snprintf(p, sizeof p, "%sencoder.stages.%lld.layers.%lld.", pre, (long long)s,
                         (long long)m);
            const char *sc = x;
            if (in != out || stride != 1) {
                if (bb->timm) {
                    snprintf(c, sizeof c, "%sdownsample.0", p);
                    snprintf(b, sizeof b, "%sdownsample.1", p);
                } else {
                    snprintf(c, sizeof c, "%sshortcut.convolution", p);
                    snprintf(b, sizeof b, "%sshortcut.normalization", p);
                }
                sc = conv_bn(g, c, b, in, out, 1, stride, 0, x);
            }
            int n_conv = bb->bottleneck ? 3 : 2;
            const char *h = x;
            for (int k = 0; k < n_conv; k++) {
                int64_t ci = k == 0 ? in : mid, co = k == n_conv - 1 ? out : mid;
                int64_t ks = bb->bottleneck ? (k == 1 ? 3 : 1) : 3;
                int64_t st = (bb->bottleneck ? k == 1 : k == 0) ? stride : 1;
                if (bb->timm) {
                    snprintf(c, sizeof c, "%sconv%d", p, k + 1);
                    snprintf(b, sizeof b, "%sbn%d", p, k + 1);
                } else {
                    snprintf(c, sizeof c, "%slayer.%d.convolution", p, k);
                    snprintf(b, sizeof b, "%slayer.%d.normalization", p, k);
                }
                h = conv_bn(g, c, b, ci, co, ks, st, k < n_conv - 1, h);
            }
            x = ia_zb_op1(g, "Relu", ia_zb_op2(g, "Add", h, sc));
            in = out;
        }
    }
    *out_ch = in;
    return x;
}

/* The mask [B, H, W] (any type, nonzero = pixel) resized to x's spatial size
 * as float 0/1 [B, h, w]. */
static const char *resize_mask(struct ia_zb *g, const char *pm, const char *feat) {
    struct ia_zb_attr to_b = IA_ZB_INT("to", 9), to_f = IA_ZB_INT("to", 1),
                      to_i = IA_ZB_INT("to", 7);
    const char *m = ia_zb_op(g, "Cast", 1, &pm, 1, &to_b);
    m = ia_zb_op(g, "Cast", 1, &m, 1, &to_f);
    for (int axis = 1; axis <= 2; axis++) {
        const char *in_n = ia_zb_dim_of(g, pm, axis), *out_n = ia_zb_dim_of(g, feat, axis + 1);
        const char *inf = ia_zb_op(g, "Cast", 1, &in_n, 1, &to_f);
        const char *outf = ia_zb_op(g, "Cast", 1, &out_n, 1, &to_f);
        const char *scale = ia_zb_op2(g, "Div", inf, outf); /* float32, as PyTorch */
        const char *rng[3] = {ia_zb_scalar_i64(g, 0),
                              ia_zb_op2(g, "Squeeze", out_n, ia_zb_const_i64(g, 1, (int64_t[]){0})),
                              ia_zb_scalar_i64(g, 1)};
        const char *idx = ia_zb_op(g, "Range", 3, rng, 0, NULL);
        idx = ia_zb_op(g, "Cast", 1, &idx, 1, &to_f);
        const char *src = ia_zb_op1(g, "Floor", ia_zb_op2(g, "Mul", idx, scale));
        src = ia_zb_op(g, "Cast", 1, &src, 1, &to_i);
        src = ia_zb_op2(g, "Min", src, ia_zb_op2(g, "Sub", in_n, ia_zb_const_i64(g, 1,
                                                                                (int64_t[]){1})));
        const char *gin[2] = {m, src};
        struct ia_zb_attr ax = IA_ZB_INT("axis", axis);
        m = ia_zb_op(g, "Gather", 2, gin, 1, &ax);
    }
    return m;
}

/* DetrSinePositionEmbedding → [B, h*w, d_model]. */
static const char *sine_pos(struct ia_zb *g, const char *mask, int64_t d) {
    const int64_t e = d / 2;
    float dim_t[4096];
    uint8_t even_v[4096];
    for (int64_t i = 0; i < e; i++) {
        dim_t[i] = powf(10000.0f, (float)(2 * (i / 2)) / (float)e);
        even_v[i] = (uint8_t)(i % 2 == 0);
    }
    const char *dt = ia_zb_const_f32(g, NULL, 1, &e, dim_t);
    float evf[4096];
    for (int64_t i = 0; i < e; i++) evf[i] = even_v[i];
    const char *ev = ia_zb_op2(g, "Greater", ia_zb_const_f32(g, NULL, 1, &e, evf),
                               ia_zb_scalar_f32(g, 0.5f));
    const char *half[2];
    for (int k = 0; k < 2; k++) { /* y (axis 1), then x (axis 2) */
        const char *cin[2] = {mask, ia_zb_scalar_i64(g, k + 1)};
        const char *cs = ia_zb_op(g, "CumSum", 2, cin, 0, NULL);
        const char *lastv = ia_zb_slice(g, cs, k + 1, -1, INT64_MAX);
        cs = ia_zb_op2(g, "Div", cs, ia_zb_op2(g, "Add", lastv, ia_zb_scalar_f32(g, 1e-6f)));
        cs = ia_zb_op2(g, "Mul", cs, ia_zb_scalar_f32(g, (float)(2 * M_PI)));
        const char *pp = ia_zb_op2(g, "Div", ia_zb_op2(g, "Unsqueeze", cs,
                                                       ia_zb_const_i64(g, 1, (int64_t[]){-1})),
                                   dt); /* [B, h, w, e] */
        const char *w3[3] = {ev, ia_zb_op1(g, "Sin", pp), ia_zb_op1(g, "Cos", pp)};
        half[k] = ia_zb_op(g, "Where", 3, w3, 0, NULL);
    }
    struct ia_zb_attr ax = IA_ZB_INT("axis", -1);
    const char *pos = ia_zb_op(g, "Concat", 2, half, 1, &ax); /* [B, h, w, d] */
    return ia_zb_reshape(g, pos, 3, (int64_t[]){0, -1, d});
}

/* DetrAttention: q and k from x + pos (when given), v from x. */
static const char *detr_attn(struct ia_zb *g, const char *prefix, int64_t d, int64_t heads,
                             const char *xq, const char *qpos, const char *xkv, const char *kpos,
                             const char *mask) {
    char n[640];
    const char *q_in = qpos ? ia_zb_op2(g, "Add", xq, qpos) : xq;
    const char *k_in = kpos ? ia_zb_op2(g, "Add", xkv, kpos) : xkv;
    struct ia_zb_attn a = {.n_heads = heads, .n_kv_heads = heads, .head_dim = d / heads,
                           .mask = mask};
    snprintf(n, sizeof n, "%s.q_proj", prefix);
    a.q = ia_zb_linear(g, n, d, d, 1, IA_ZB_TRANSPOSED, q_in);
    snprintf(n, sizeof n, "%s.k_proj", prefix);
    a.k = ia_zb_linear(g, n, d, d, 1, IA_ZB_TRANSPOSED, k_in);
    snprintf(n, sizeof n, "%s.v_proj", prefix);
    a.v = ia_zb_linear(g, n, d, d, 1, IA_ZB_TRANSPOSED, xkv);
    snprintf(n, sizeof n, "%s.out_proj", prefix);
    return ia_zb_linear(g, n, d, d, 1, IA_ZB_TRANSPOSED, ia_zb_attention(g, &a));
}

static const char *ffn(struct ia_zb *g, const char *p, int64_t d, int64_t ffd, const char *act,
                       const char *x) {
    char n[640];
    snprintf(n, sizeof n, "%sfc1", p);
    const char *h = ia_zb_activation(g, act, "activation_function",
                                     ia_zb_linear(g, n, d, ffd, 1, IA_ZB_TRANSPOSED, x));
    snprintf(n, sizeof n, "%sfc2", p);
    return ia_zb_linear(g, n, ffd, d, 1, IA_ZB_TRANSPOSED, h);
}

int zoo_build_detr(struct ia_zb *g, const struct ia_hf_config *cfg,
                   const struct ia_zoo_build_opts *o) {
    (void)o;
    const char *label = ia_hf_config_label(cfg);
    const char *arch = ia_hf_config_architecture(cfg);
    if (!arch) arch = "DetrForObjectDetection";
    int det = !strcmp(arch, "DetrForObjectDetection");
    if (!det && strcmp(arch, "DetrModel"))
        return ia_zb_fail(g, IA_EUNSUPPORTED, "%s: architectures '%s' is not supported (detr: "
                          "DetrModel, DetrForObjectDetection)", label, arch);
    struct backbone bb;
    int64_t C, D, EL, DL, EH, DH, EF, DF, NQ, NL, IH, IW;
    const char *act = "relu", *pet = "sine";
    int64_t n_id2label = ia_hf_config_len(cfg, "id2label");
    if (!(read_backbone(g, cfg, &bb) && zoo_cfg_int_or(g, cfg, "num_channels", 3, &C) &&
          zoo_cfg_int_or(g, cfg, "d_model", 256, &D) &&
          zoo_cfg_int_or(g, cfg, "encoder_layers", 6, &EL) &&
          zoo_cfg_int_or(g, cfg, "decoder_layers", 6, &DL) &&
          zoo_cfg_int_or(g, cfg, "encoder_attention_heads", 8, &EH) &&
          zoo_cfg_int_or(g, cfg, "decoder_attention_heads", 8, &DH) &&
          zoo_cfg_int_or(g, cfg, "encoder_ffn_dim", 2048, &EF) &&
          zoo_cfg_int_or(g, cfg, "decoder_ffn_dim", 2048, &DF) &&
          zoo_cfg_int_or(g, cfg, "num_queries", 100, &NQ) &&
          zoo_cfg_int_or(g, cfg, "num_labels", n_id2label > 0 ? n_id2label : 91, &NL) &&
          zoo_cfg_str_or(g, cfg, "activation_function", "relu", &act) &&
          zoo_cfg_str_or(g, cfg, "position_embedding_type", "sine", &pet) &&
          zoo_cfg_range(g, cfg, "num_channels", C, 1, 1 << 12) &&
          zoo_cfg_range(g, cfg, "d_model", D, 4, 4096) &&
          zoo_cfg_range(g, cfg, "encoder_layers", EL, 0, 1024) &&
          zoo_cfg_range(g, cfg, "decoder_layers", DL, 1, 1024) &&
          zoo_cfg_range(g, cfg, "encoder_attention_heads", EH, 1, D) &&
          zoo_cfg_range(g, cfg, "decoder_attention_heads", DH, 1, D) &&
          zoo_cfg_range(g, cfg, "encoder_ffn_dim", EF, 1, 1 << 20) &&
          zoo_cfg_range(g, cfg, "decoder_ffn_dim", DF, 1, 1 << 20) &&
          zoo_cfg_range(g, cfg, "num_queries", NQ, 1, 1 << 16) &&
          zoo_cfg_range(g, cfg, "num_labels", NL, 1, 1 << 20)))
        return ia_zb_status(g);
    if (ia_hf_config_len(cfg, "image_size") == 2) {
        char *dump = ia_hf_config_dump(cfg);
        const char *at = dump ? strstr(dump, "\"image_size\":[") : NULL;
        if (!at || sscanf(at + 14, "%lld,%lld", (long long *)&IH, (long long *)&IW) != 2) {
            ia_free(dump);
            return ia_zb_fail(g, IA_EFORMAT, "%s: key 'image_size' must be an int or "
                              "[height, width]", label);
        }
        ia_free(dump);
    } else if (!zoo_cfg_int_or(g, cfg, "image_size", 800, &IH)) {
        return ia_zb_status(g);
    } else {
        IW = IH;
    }
    if (!(zoo_cfg_range(g, cfg, "image_size", IH, 32, 1 << 14) &&
          zoo_cfg_range(g, cfg, "image_size", IW, 32, 1 << 14)))
        return ia_zb_status(g);
    if (strcmp(pet, "sine"))
        return ia_zb_fail(g, IA_EUNSUPPORTED, "%s: position_embedding_type '%s' is not supported "
                          "(sine)", label, pet);
    if (D % EH || D % DH || D % 4)
        return ia_zb_fail(g, IA_EINVAL, "%s: d_model %lld must divide by 4 and by the attention "
                          "heads (%lld, %lld)", label, (long long)D, (long long)EH,
                          (long long)DH);
    ia_zb_set_base_prefix(g, "model.");
    char n[640], p[256];

    struct ia_zb_dim px[4] = {{.sym = "batch_size"}, {.value = C}, {.value = IH}, {.value = IW}};
    struct ia_zb_dim pm_d[3] = {{.sym = "batch_size"}, {.value = IH}, {.value = IW}};
    const char *pixels = ia_zb_input(g, "pixel_values", IA_DTYPE_FLOAT32, 4, px);
    const char *pmask = ia_zb_input(g, "pixel_mask", IA_DTYPE_INT64, 3, pm_d);

    int64_t fc;
    const char *feat = resnet(g, &bb, C, pixels, &fc); /* [B, fc, h, w] */
    const char *mask = resize_mask(g, pmask, feat);    /* [B, h, w] 0/1 */
    const char *pos = sine_pos(g, mask, D);            /* [B, hw, D] */
    const char *x = ia_zb_conv2d(g, "model.input_projection", fc, D, 1, 1, 0, 1, feat);
    x = ia_zb_transpose(g, ia_zb_reshape(g, x, 3, (int64_t[]){0, D, -1}), 3,
                        (int64_t[]){0, 2, 1}); /* [B, hw, D] */
    const char *flat_mask = ia_zb_reshape(g, mask, 2, (int64_t[]){0, -1});
    const char *amask = ia_zb_attention_mask(g, flat_mask, x, 0); /* [B, 1, 1, hw] */

    for (int64_t l = 0; l < EL && !ia_zb_status(g); l++) {
        snprintf(p, sizeof p, "model.encoder.layers.%lld.", (long long)l);
#define NM(s) (snprintf(n, sizeof n, "%s%s", p, s), n)
        const char *a = detr_attn(g, NM("self_attn"), D, EH, x, pos, x, pos, amask);
        x = ia_zb_layernorm(g, NM("self_attn_layer_norm"), D, 1e-5, ia_zb_op2(g, "Add", x, a));
        x = ia_zb_layernorm(g, NM("final_layer_norm"), D, 1e-5,
                            ia_zb_op2(g, "Add", x, ffn(g, p, D, EF, act, x)));
    }
    const char *enc = x;

    /* Object queries: learned positions, content starting at zeros. */
    const char *qw = ia_zb_weight(g, "model.query_position_embeddings.weight", IA_ZB_INIT_NORMAL,
                                  IA_ZB_AS_IS, 2, (int64_t[]){NQ, D});
    const char *qshape[2] = {ia_zb_dim_of(g, pixels, 0), ia_zb_const_i64(g, 2, (int64_t[]){NQ, D})};
    struct ia_zb_attr ax0 = IA_ZB_INT("axis", 0);
    const char *qpos = ia_zb_op2(g, "Expand", ia_zb_op2(g, "Unsqueeze", qw,
                                                       ia_zb_const_i64(g, 1, (int64_t[]){0})),
                                 ia_zb_op(g, "Concat", 2, qshape, 1, &ax0)); /* [B, NQ, D] */
    const char *y = ia_zb_op2(g, "Mul", qpos, ia_zb_scalar_f32(g, 0.0f));
    for (int64_t l = 0; l < DL && !ia_zb_status(g); l++) {
        snprintf(p, sizeof p, "model.decoder.layers.%lld.", (long long)l);
        const char *a = detr_attn(g, NM("self_attn"), D, DH, y, qpos, y, qpos, NULL);
        y = ia_zb_layernorm(g, NM("self_attn_layer_norm"), D, 1e-5, ia_zb_op2(g, "Add", y, a));
        a = detr_attn(g, NM("encoder_attn"), D, DH, y, qpos, enc, pos, amask);
        y = ia_zb_layernorm(g, NM("encoder_attn_layer_norm"), D, 1e-5,
                            ia_zb_op2(g, "Add", y, a));
        y = ia_zb_layernorm(g, NM("final_layer_norm"), D, 1e-5,
                            ia_zb_op2(g, "Add", y, ffn(g, p, D, DF, act, y)));
#undef NM
    }
    y = ia_zb_layernorm(g, "model.decoder.layernorm", D, 1e-5, y);
    if (!det) {
        struct ia_zb_dim bqd[3] = {{.sym = "batch_size"}, {.value = NQ}, {.value = D}};
        ia_zb_output(g, y, "last_hidden_state", IA_DTYPE_FLOAT32, 3, bqd);
        return ia_zb_status(g);
    }
    const char *logits = ia_zb_linear(g, "class_labels_classifier", D, NL + 1, 1,
                                      IA_ZB_TRANSPOSED, y);
    const char *b = y;
    for (int k = 0; k < 3; k++) {
        snprintf(n, sizeof n, "bbox_predictor.layers.%d", k);
        b = ia_zb_linear(g, n, D, k == 2 ? 4 : D, 1, IA_ZB_TRANSPOSED, b);
        if (k < 2) b = ia_zb_op1(g, "Relu", b);
    }
    struct ia_zb_dim bql[3] = {{.sym = "batch_size"}, {.value = NQ}, {.value = NL + 1}};
    struct ia_zb_dim bq4[3] = {{.sym = "batch_size"}, {.value = NQ}, {.value = 4}};
    ia_zb_output(g, logits, "logits", IA_DTYPE_FLOAT32, 3, bql);
    ia_zb_output(g, ia_zb_op1(g, "Sigmoid", b), "pred_boxes", IA_DTYPE_FLOAT32, 3, bq4);
    return ia_zb_status(g);
}
