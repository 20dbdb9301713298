/*
 * X-CLIP (XCLIPModel) as HF transformers defines it, video-text matching:
 *
 * - vision: each of the num_frames frames through a CLIP vision tower
 *   (pre_layernorm; post_layernorm on the CLS token) whose layers add
 *   cross-frame communication: a message token per frame, message_fc(CLS),
 *   attends over the video's frames (message_ln, message_attn), is appended
 *   to the frame's tokens for self-attention and dropped before the MLP;
 * - visual_projection of the frames' CLS, then the multi-frame integration
 *   transformer (mit: + position_embedding, CLIP encoder layers, residual,
 *   mean over frames) → video embeddings;
 * - the frames' patch tokens → prompts_visual_layernorm, @
 *   prompts_visual_projection, mean over frames → visual context;
 * - CLIP text tower (causal + padding mask, final_layer_norm, the token at
 *   argmax(input_ids) as HF pools it), text_projection, then the prompt
 *   generator (layernorm on the visual context, prompt_layers cross-attention
 *   blocks, alpha scale) adds a video-specific prompt to every text;
 * - logits_per_video = exp(logit_scale) * <video, text> over L2-normalised
 *   embeddings, logits_per_text its transpose.
 * Dropout and drop-path are inference no-ops. Nothing is simplified.
 *
 * Inputs:  input_ids, attention_mask int64 [text_batch_size, sequence_length]
 *          pixel_values float [batch_size, num_frames, num_channels, image_size, image_size]
 * Outputs: logits_per_video [batch_size, text_batch_size],
 *          logits_per_text [text_batch_size, batch_size]
 */
#include <stdio.h>
#include <string.h>

#include "zoo_internal.h"

struct tower {
    int64_t H, L, NH, I;
    double eps;
    const char *act;
};

static int read_tower(struct ia_zb *g, const struct ia_hf_config *c, struct tower *t,
                      int64_t h, int64_t l, int64_t nh, int64_t i) {
    if (!(zoo_cfg_int_or(g, c, "hidden_size", h, &t->H) &&
          zoo_cfg_int_or(g, c, "num_hidden_layers", l, &t->L) &&
          zoo_cfg_int_or(g, c, "num_attention_heads", nh, &t->NH) &&
          zoo_cfg_int_or(g, c, "intermediate_size", i, &t->I) &&
          zoo_cfg_float_or(g, c, "layer_norm_eps", 1e-5, &t->eps) &&
          zoo_cfg_str_or(g, c, "hidden_act", "quick_gelu", &t->act) &&
          zoo_cfg_range(g, c, "hidden_size", t->H, 1, 1 << 16) &&
          zoo_cfg_range(g, c, "num_hidden_layers", t->L, 1, 1024) &&
          zoo_cfg_range(g, c, "num_attention_heads", t->NH, 1, t->H) &&
          zoo_cfg_range(g, c, "intermediate_size", t->I, 1, 1 << 20)))
        return 0;
    if (t->H % t->NH) {
        ia_zb_fail(g, IA_EINVAL, "%s: hidden_size %lld is not a multiple of "
                   "num_attention_heads %lld", ia_hf_config_label(c), (long long)t->H,
                   (long long)t->NH);
        return 0;
    }
    return 1;
}

static int build(struct ia_zb *g, const struct ia_hf_config *cfg, struct ia_hf_config *tc,
                 struct ia_hf_config *vc) {
    const char *label = ia_hf_config_label(cfg);
    const char *arch = ia_hf_config_architecture(cfg);
    if (arch && strcmp(arch, "XCLIPModel"))
        return ia_zb_fail(g, IA_EUNSUPPORTED, "%s: architectures '%s' is not supported (xclip: "
                          "XCLIPModel)", label, arch);
    struct tower tt, vt, mt;
    int64_t V, P, C, IMG, PS, T, PD, PL, PNH;
    double alpha, ls_init;
    const char *pact = "quick_gelu";
    if (!(read_tower(g, tc, &tt, 512, 12, 8, 2048) && read_tower(g, vc, &vt, 768, 12, 12, 3072) &&
          zoo_cfg_int_or(g, tc, "vocab_size", 49408, &V) &&
          zoo_cfg_int_or(g, tc, "max_position_embeddings", 77, &P) &&
          zoo_cfg_int_or(g, vc, "num_channels", 3, &C) &&
          zoo_cfg_int_or(g, vc, "image_size", 224, &IMG) &&
          zoo_cfg_int_or(g, vc, "patch_size", 32, &PS) &&
          zoo_cfg_int_or(g, vc, "num_frames", 8, &T) &&
          zoo_cfg_int_or(g, vc, "mit_hidden_size", 512, &mt.H) &&
          zoo_cfg_int_or(g, vc, "mit_intermediate_size", 2048, &mt.I) &&
          zoo_cfg_int_or(g, vc, "mit_num_hidden_layers", 1, &mt.L) &&
          zoo_cfg_int_or(g, vc, "mit_num_attention_heads", 8, &mt.NH) &&
          zoo_cfg_int_or(g, cfg, "projection_dim", 512, &PD) &&
          zoo_cfg_int_or(g, cfg, "prompt_layers", 2, &PL) &&
          zoo_cfg_int_or(g, cfg, "prompt_num_attention_heads", 8, &PNH) &&
          zoo_cfg_float_or(g, cfg, "prompt_alpha", 0.1, &alpha) &&
          zoo_cfg_float_or(g, cfg, "logit_scale_init_value", 2.6592, &ls_init) &&
          zoo_cfg_str_or(g, cfg, "prompt_hidden_act", "quick_gelu", &pact) &&
          zoo_cfg_range(g, tc, "vocab_size", V, 1, 1 << 24) &&
          zoo_cfg_range(g, tc, "max_position_embeddings", P, 1, 1 << 20) &&
          zoo_cfg_range(g, vc, "num_channels", C, 1, 1 << 12) &&
          zoo_cfg_range(g, vc, "image_size", IMG, 1, 1 << 14) &&
          zoo_cfg_range(g, vc, "patch_size", PS, 1, IMG) &&
          zoo_cfg_range(g, vc, "num_frames", T, 1, 1 << 12) &&
          zoo_cfg_range(g, vc, "mit_num_hidden_layers", mt.L, 0, 1024) &&
          zoo_cfg_range(g, vc, "mit_num_attention_heads", mt.NH, 1, mt.H) &&
          zoo_cfg_range(g, vc, "mit_intermediate_size", mt.I, 1, 1 << 20) &&
          zoo_cfg_range(g, cfg, "projection_dim", PD, 1, 1 << 16) &&
          zoo_cfg_range(g, cfg, "prompt_layers", PL, 0, 1024) &&
          zoo_cfg_range(g, cfg, "prompt_num_attention_heads", PNH, 1, PD)))
        return ia_zb_status(g);
    mt.eps = vt.eps;
    mt.act = vt.act;
    if (IMG % PS || mt.H != PD || mt.H % mt.NH || PD % PNH)
        return ia_zb_fail(g, IA_EINVAL, "%s: sizes do not fit: image_size %lld / patch_size %lld, "
                          "mit_hidden_size %lld must equal projection_dim %lld and divide by "
                          "mit_num_attention_heads %lld, projection_dim by "
                          "prompt_num_attention_heads %lld", label, (long long)IMG, (long long)PS,
                          (long long)mt.H, (long long)PD, (long long)mt.NH, (long long)PNH);
    const int64_t N = (IMG / PS) * (IMG / PS), VH = vt.H;
    char n[640], p[256];

    struct ia_zb_dim ts[2] = {{.sym = "text_batch_size"}, {.sym = "sequence_length"}};
    struct ia_zb_dim px[5] = {{.sym = "batch_size"}, {.value = T}, {.value = C}, {.value = IMG},
                              {.value = IMG}};
    const char *ids = ia_zb_input(g, "input_ids", IA_DTYPE_INT64, 2, ts);
    const char *mask = ia_zb_input(g, "attention_mask", IA_DTYPE_INT64, 2, ts);
    const char *pixels = ia_zb_input(g, "pixel_values", IA_DTYPE_FLOAT32, 5, px);

    /* ---- vision tower over B*T frames ---- */
    const char *frames = ia_zb_reshape(g, pixels, 4, (int64_t[]){-1, C, IMG, IMG});
    const char *x = ia_zb_cls_patch_embed(g, "vision_model.embeddings", C, VH, IMG, PS, frames);
    x = ia_zb_layernorm(g, "vision_model.pre_layernorm", VH, vt.eps, x); /* [BT, 1+N, VH] */
    struct ia_zb_attr ax1 = IA_ZB_INT("axis", 1);
    for (int64_t l = 0; l < vt.L && !ia_zb_status(g); l++) {
        snprintf(p, sizeof p, "vision_model.encoder.layers.%lld.", (long long)l);
#define NM(s) (snprintf(n, sizeof n, "%s%s", p, s), n)
        const char *msg = ia_zb_linear(g, NM("message_fc"), VH, VH, 1, IA_ZB_TRANSPOSED,
                                       ia_zb_select_token(g, x, 0)); /* [BT, VH] */
        msg = ia_zb_reshape(g, msg, 3, (int64_t[]){-1, T, VH});
        const char *mh = ia_zb_layernorm(g, NM("message_ln"), VH, vt.eps, msg);
        msg = ia_zb_op2(g, "Add", msg,
                        ia_zb_mha_block(g, NM("message_attn"), VH, vt.NH, NULL, mh, mh));
        msg = ia_zb_reshape(g, msg, 3, (int64_t[]){-1, 1, VH});
        const char *cat[2] = {x, msg};
        const char *xm = ia_zb_op(g, "Concat", 2, cat, 1, &ax1); /* [BT, 2+N, VH] */
        const char *h = ia_zb_layernorm(g, NM("layer_norm1"), VH, vt.eps, xm);
        xm = ia_zb_op2(g, "Add", xm, ia_zb_mha_block(g, NM("self_attn"), VH, vt.NH, NULL, h, h));
        x = ia_zb_slice(g, xm, 1, 0, N + 1);
        h = ia_zb_layernorm(g, NM("layer_norm2"), VH, vt.eps, x);
        h = ia_zb_activation(g, vt.act, "hidden_act",
                             ia_zb_linear(g, NM("mlp.fc1"), VH, vt.I, 1, IA_ZB_TRANSPOSED, h));
        x = ia_zb_op2(g, "Add", x, ia_zb_linear(g, NM("mlp.fc2"), vt.I, VH, 1, IA_ZB_TRANSPOSED,
                                                h));
#undef NM
    }
    const char *pooled = ia_zb_layernorm(g, "vision_model.post_layernorm", VH, vt.eps,
                                         ia_zb_select_token(g, x, 0));
    const char *cls = ia_zb_linear(g, "visual_projection", VH, PD, 0, IA_ZB_TRANSPOSED, pooled);
    cls = ia_zb_reshape(g, cls, 3, (int64_t[]){-1, T, PD}); /* [B, T, PD] */

    /* ---- multi-frame integration transformer ---- */
    const char *m = ia_zb_op2(g, "Add", cls, ia_zb_weight(g, "mit.position_embedding",
                                                          IA_ZB_INIT_NORMAL, IA_ZB_AS_IS, 3,
                                                          (int64_t[]){1, T, PD}));
    for (int64_t l = 0; l < mt.L && !ia_zb_status(g); l++) {
        snprintf(p, sizeof p, "mit.encoder.layers.%lld.", (long long)l);
        m = ia_zb_prenorm_layer(g, p, mt.H, mt.NH, mt.I, mt.eps, mt.act, NULL, m);
    }
    const char *video = ia_zb_reduce_mean(g, ia_zb_op2(g, "Add", m, cls), 1, 0); /* [B, PD] */

    /* ---- visual context for the prompts ---- */
    const char *img = ia_zb_layernorm(g, "prompts_visual_layernorm", VH, vt.eps,
                                      ia_zb_slice(g, x, 1, 1, N + 1));
    img = ia_zb_op2(g, "MatMul", img, ia_zb_weight(g, "prompts_visual_projection",
                                                   IA_ZB_INIT_NORMAL, IA_ZB_AS_IS, 2,
                                                   (int64_t[]){VH, PD}));
    img = ia_zb_reduce_mean(g, ia_zb_reshape(g, img, 4, (int64_t[]){-1, T, N, PD}), 1, 0);

    /* ---- text tower ---- */
    const char *tx = ia_zb_embedding(g, "text_model.embeddings.token_embedding.weight", V, tt.H,
                                     ids);
    const char *rng[3] = {ia_zb_scalar_i64(g, 0),
                          ia_zb_op2(g, "Squeeze", ia_zb_dim_of(g, ids, 1),
                                    ia_zb_const_i64(g, 1, (int64_t[]){0})),
                          ia_zb_scalar_i64(g, 1)};
    tx = ia_zb_op2(g, "Add", tx, ia_zb_embedding(g, "text_model.embeddings.position_embedding"
                                                 ".weight", P, tt.H,
                                                 ia_zb_op(g, "Range", 3, rng, 0, NULL)));
    const char *amask = ia_zb_attention_mask(g, mask, ids, 1);
    for (int64_t l = 0; l < tt.L && !ia_zb_status(g); l++) {
        snprintf(p, sizeof p, "text_model.encoder.layers.%lld.", (long long)l);
        tx = ia_zb_prenorm_layer(g, p, tt.H, tt.NH, tt.I, tt.eps, tt.act, amask, tx);
    }
    tx = ia_zb_layernorm(g, "text_model.final_layer_norm", tt.H, tt.eps, tx);
    /* HF pools the token at argmax(input_ids): the end-of-text id is the
     * largest in CLIP's vocabulary. */
    struct ia_zb_attr am[2] = {IA_ZB_INT("axis", -1), IA_ZB_INT("keepdims", 1)};
    const char *eos = ia_zb_op(g, "ArgMax", 1, &ids, 2, am); /* [K, 1] */
    const char *gi = ia_zb_op2(g, "Expand", ia_zb_op2(g, "Unsqueeze", eos,
                                                     ia_zb_const_i64(g, 1, (int64_t[]){-1})),
                               ia_zb_const_i64(g, 3, (int64_t[]){1, 1, tt.H}));
    const char *ge[2] = {tx, gi};
    const char *tpool = ia_zb_reshape(g, ia_zb_op(g, "GatherElements", 2, ge, 1, &ax1), 2,
                                      (int64_t[]){-1, tt.H});
    const char *text = ia_zb_linear(g, "text_projection", tt.H, PD, 0, IA_ZB_TRANSPOSED, tpool);

    /* ---- prompt generator: text [B, K, PD] attends to the visual context ---- */
    const char *bshape[2] = {ia_zb_dim_of(g, pixels, 0),
                             ia_zb_op1(g, "Shape", text)};
    struct ia_zb_attr ax0 = IA_ZB_INT("axis", 0);
    const char *te = ia_zb_op2(g, "Expand", ia_zb_op2(g, "Unsqueeze", text,
                                                     ia_zb_const_i64(g, 1, (int64_t[]){0})),
                               ia_zb_op(g, "Concat", 2, bshape, 1, &ax0));
    const char *vis = ia_zb_layernorm(g, "prompts_generator.layernorm", PD, vt.eps, img);
    const char *pr = te;
    for (int64_t l = 0; l < PL && !ia_zb_status(g); l++) {
        snprintf(p, sizeof p, "prompts_generator.decoder.%lld.", (long long)l);
#define NM(s) (snprintf(n, sizeof n, "%s%s", p, s), n)
        const char *h = ia_zb_layernorm(g, NM("norm1"), PD, tt.eps, pr);
        struct ia_zb_attn a = {.n_heads = PNH, .n_kv_heads = PNH, .head_dim = PD / PNH};
        a.q = ia_zb_linear(g, NM("cross_attn.q_proj"), PD, PD, 0, IA_ZB_TRANSPOSED, h);
        a.k = ia_zb_linear(g, NM("cross_attn.k_proj"), PD, PD, 0, IA_ZB_TRANSPOSED, vis);
        a.v = ia_zb_linear(g, NM("cross_attn.v_proj"), PD, PD, 0, IA_ZB_TRANSPOSED, vis);
        pr = ia_zb_op2(g, "Add", pr, ia_zb_linear(g, NM("cross_attn.proj"), PD, PD, 1,
                                                  IA_ZB_TRANSPOSED, ia_zb_attention(g, &a)));
        h = ia_zb_layernorm(g, NM("norm3"), PD, tt.eps, pr);
        h = ia_zb_activation(g, pact, "prompt_hidden_act",
                             ia_zb_linear(g, NM("mlp.0"), PD, 4 * PD, 1, IA_ZB_TRANSPOSED, h));
        pr = ia_zb_op2(g, "Add", pr, ia_zb_linear(g, NM("mlp.3"), 4 * PD, PD, 1,
                                                  IA_ZB_TRANSPOSED, h));
#undef NM
    }
    /* alpha [PD] and logit_scale [] are learned; synthetic builds start them
     * where HF's initialisation does (prompt_alpha, logit_scale_init_value). */
    const char *alpha_w, *ls;
    const int64_t scalar[1] = {1}; /* dims of a rank-0 tensor: never read */
    if (ia_zb_from_checkpoint(g)) {
        alpha_w = ia_zb_weight(g, "prompts_generator.alpha", IA_ZB_INIT_ONES, IA_ZB_AS_IS, 1,
                               &PD);
        ls = ia_zb_weight(g, "logit_scale", IA_ZB_INIT_ONES, IA_ZB_AS_IS, 0, scalar);
    } else {
        float *av = ia_zb_dry_run(g) ? NULL : ia_malloc((size_t)PD * sizeof *av);
        if (!ia_zb_dry_run(g) && !av) return ia_zb_fail(g, IA_ENOMEM, "out of memory");
        for (int64_t i = 0; av && i < PD; i++) av[i] = (float)alpha;
        alpha_w = ia_zb_weight_values(g, "prompts_generator.alpha", 1, &PD, av);
        ia_free(av);
        float lsv = (float)ls_init;
        ls = ia_zb_weight_values(g, "logit_scale", 0, scalar, &lsv);
    }
    te = ia_zb_op2(g, "Add", te, ia_zb_op2(g, "Mul", pr, alpha_w)); /* [B, K, PD] */

    /* ---- logits ---- */
    const char *vn = ia_zb_l2_normalize(g, video), *tn = ia_zb_l2_normalize(g, te);
    const char *scale = ia_zb_op1(g, "Exp", ls);
    /* einsum("bd,bkd->bk"): [B, 1, PD] @ [B, PD, K] → [B, 1, K]. */
    const char *lv = ia_zb_op2(g, "MatMul",
                               ia_zb_op2(g, "Unsqueeze", vn, ia_zb_const_i64(g, 1, (int64_t[]){1})),
                               ia_zb_transpose(g, ia_zb_op2(g, "Mul", tn, scale), 3,
                                               (int64_t[]){0, 2, 1}));
    lv = ia_zb_op2(g, "Squeeze", lv, ia_zb_const_i64(g, 1, (int64_t[]){1}));
    struct ia_zb_dim bk[2] = {{.sym = "batch_size"}, {.sym = "text_batch_size"}};
    struct ia_zb_dim kb[2] = {{.sym = "text_batch_size"}, {.sym = "batch_size"}};
    ia_zb_output(g, lv, "logits_per_video", IA_DTYPE_FLOAT32, 2, bk);
    ia_zb_output(g, ia_zb_transpose(g, lv, 2, (int64_t[]){1, 0}), "logits_per_text",
                 IA_DTYPE_FLOAT32, 2, kb);
    return ia_zb_status(g);
}

int zoo_build_xclip(struct ia_zb *g, const struct ia_hf_config *cfg,
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
