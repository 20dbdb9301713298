/*
 * wav2vec 2.0 (Wav2Vec2Model, Wav2Vec2ForCTC; Wav2Vec2ForPreTraining
 * checkpoints convert as the model) as HF transformers defines it:
 *  - feature encoder: Conv1d layers (conv_dim / conv_kernel / conv_stride,
 *    no padding, bias when conv_bias) with GELU; feat_extract_norm "group"
 *    puts a per-channel GroupNorm after the first conv only, "layer" a
 *    LayerNorm over channels after every conv;
 *  - feature projection: LayerNorm then Linear to hidden_size;
 *  - positional conv embedding: a grouped Conv1d (kernel
 *    num_conv_pos_embeddings, padding kernel/2, the last output dropped for
 *    an even kernel - done here as one pad less at the end) whose weight
 *    norm (dim 2) is folded at conversion, GELU, added to the input;
 *  - encoder: post-LN layers after a LayerNorm (do_stable_layer_norm
 *    false, the base models) or pre-LN layers with the LayerNorm at the end
 *    (true, the large "lv60" models); the CTC head is a Linear to vocab.
 *
 * Input:  input_values float [batch_size, sequence_length] (raw 16 kHz samples;
 *         at least the conv stack's receptive field: 400 for the base models)
 * Output: last_hidden_state [B, frames, hidden_size] or logits [B, frames, vocab_size]
 */
#include <stdio.h>
#include <string.h>

#include "zoo_internal.h"

#define W2V_MAX_CONV 64

int zoo_build_wav2vec2(struct ia_zb *g, const struct ia_hf_config *cfg,
                       const struct ia_zoo_build_opts *o) {
    (void)o;
    const char *label = ia_hf_config_label(cfg);
    const char *arch = ia_hf_config_architecture(cfg), *act = "gelu", *fact = "gelu",
               *norm = "group";
    if (!arch) arch = "Wav2Vec2Model";
    int ctc = !strcmp(arch, "Wav2Vec2ForCTC");
    if (!ctc && strcmp(arch, "Wav2Vec2Model") && strcmp(arch, "Wav2Vec2ForPreTraining"))
        return ia_zb_fail(g, IA_EUNSUPPORTED,
                          "%s: architectures '%s' is not supported "
                          "(wav2vec2: Wav2Vec2Model, Wav2Vec2ForCTC, Wav2Vec2ForPreTraining)",
                          label, arch);
    int64_t H, L, NH, I, K, G, V = 0;
    double eps;
    int conv_bias = 0, stable = 0;
    if (!(zoo_cfg_int(g, cfg, "hidden_size", &H) && zoo_cfg_int(g, cfg, "num_hidden_layers", &L) &&
          zoo_cfg_int(g, cfg, "num_attention_heads", &NH) &&
          zoo_cfg_int(g, cfg, "intermediate_size", &I) &&
          zoo_cfg_int_or(g, cfg, "num_conv_pos_embeddings", 128, &K) &&
          zoo_cfg_int_or(g, cfg, "num_conv_pos_embedding_groups", 16, &G) &&
          zoo_cfg_float_or(g, cfg, "layer_norm_eps", 1e-5, &eps) &&
          zoo_cfg_range(g, cfg, "hidden_size", H, 1, 1 << 16) &&
          zoo_cfg_range(g, cfg, "num_hidden_layers", L, 1, 1024) &&
          zoo_cfg_range(g, cfg, "num_attention_heads", NH, 1, H) &&
          zoo_cfg_range(g, cfg, "intermediate_size", I, 1, 1 << 20) &&
          zoo_cfg_range(g, cfg, "num_conv_pos_embeddings", K, 1, 1 << 12) &&
          zoo_cfg_range(g, cfg, "num_conv_pos_embedding_groups", G, 1, H) &&
          (!ctc || (zoo_cfg_int(g, cfg, "vocab_size", &V) &&
                    zoo_cfg_range(g, cfg, "vocab_size", V, 1, 1 << 24)))))
        return ia_zb_status(g);
    if (H % NH || H % G)
        return ia_zb_fail(g, IA_EINVAL, "%s: hidden_size %lld is not a multiple of %s %lld", label,
                          (long long)H,
                          H % NH ? "num_attention_heads" : "num_conv_pos_embedding_groups",
                          (long long)(H % NH ? NH : G));
    if (ia_hf_config_str_or(cfg, "hidden_act", "gelu", &act) ||
        ia_hf_config_str_or(cfg, "feat_extract_activation", "gelu", &fact) ||
        ia_hf_config_str_or(cfg, "feat_extract_norm", "group", &norm) ||
        ia_hf_config_bool_or(cfg, "conv_bias", 0, &conv_bias) ||
        ia_hf_config_bool_or(cfg, "do_stable_layer_norm", 0, &stable))
        return ia_zb_fail(g, IA_EFORMAT, "%s", ia_error_msg());
    int group_norm = !strcmp(norm, "group");
    if (!group_norm && strcmp(norm, "layer"))
        return ia_zb_fail(g, IA_EUNSUPPORTED,
                          "%s: key 'feat_extract_norm' is '%s' (want "
                          "\"group\" or \"layer\")",
                          label, norm);
    int64_t nconv = ia_hf_config_len(cfg, "conv_dim");
    if (nconv < 1 || nconv > W2V_MAX_CONV || ia_hf_config_len(cfg, "conv_kernel") != nconv ||
        ia_hf_config_len(cfg, "conv_stride") != nconv)
        return ia_zb_fail(g, IA_EINVAL,
                          "%s: keys 'conv_dim', 'conv_kernel' and 'conv_stride' "
                          "must be arrays of the same length (1 to %d)",
                          label, W2V_MAX_CONV);
    int64_t cd[W2V_MAX_CONV], ck[W2V_MAX_CONV], cs[W2V_MAX_CONV];
    for (int64_t i = 0; i < nconv; i++) {
        if (ia_hf_config_int_at(cfg, "conv_dim", (size_t)i, &cd[i]) ||
            ia_hf_config_int_at(cfg, "conv_kernel", (size_t)i, &ck[i]) ||
            ia_hf_config_int_at(cfg, "conv_stride", (size_t)i, &cs[i]))
            return ia_zb_fail(g, IA_EFORMAT, "%s", ia_error_msg());
        if (!(zoo_cfg_range(g, cfg, "conv_dim", cd[i], 1, 1 << 16) &&
              zoo_cfg_range(g, cfg, "conv_kernel", ck[i], 1, 1 << 12) &&
              zoo_cfg_range(g, cfg, "conv_stride", cs[i], 1, 1 << 12)))
            return ia_zb_status(g);
    }
    /* Wav2Vec2ForCTC and pretraining checkpoints nest the model under
     * "wav2vec2."; the names follow whichever form the checkpoint has. */
    struct ia_hf_checkpoint *ckpt = ia_zb_checkpoint(g);
    const char *pre =
        ckpt ? (ia_hf_checkpoint_find(ckpt, "wav2vec2.feature_projection.projection.weight", NULL)
                    ? "wav2vec2."
                    : "")
             : (ctc ? "wav2vec2." : "");
    char n[512];
#define NM(fmt, ...) (snprintf(n, sizeof n, "%s" fmt, pre, __VA_ARGS__), n)

    struct ia_zb_dim bs[2] = {{.sym = "batch_size"}, {.sym = "sequence_length"}};
    const char *wave = ia_zb_input(g, "input_values", IA_DTYPE_FLOAT32, 2, bs);
    int64_t ax1 = 1, perm[3] = {0, 2, 1};
    struct ia_zb_attr pa = IA_ZB_INTS("perm", perm, 3);
    const char *x = ia_zb_op2(g, "Unsqueeze", wave, ia_zb_const_i64(g, 1, &ax1)); /* [B,1,T] */
    int64_t in_ch = 1;
    for (int64_t i = 0; i < nconv && !ia_zb_status(g); i++) {
        x = ia_zb_conv1d(g, NM("feature_extractor.conv_layers.%lld.conv", (long long)i), in_ch,
                         cd[i], ck[i], cs[i], 0, 0, 1, conv_bias, x);
        if (group_norm && i == 0) {
            x = ia_zb_instance_norm(
                g, NM("feature_extractor.conv_layers.%lld.layer_norm", (long long)i), cd[i], 1e-5,
                x);
        } else if (!group_norm) {
            x = ia_zb_op(g, "Transpose", 1, &x, 1, &pa);
            x = ia_zb_layernorm(g,
                                NM("feature_extractor.conv_layers.%lld.layer_norm", (long long)i),
                                cd[i], 1e-5, x);
            x = ia_zb_op(g, "Transpose", 1, &x, 1, &pa);
        }
        x = ia_zb_activation(g, fact, "feat_extract_activation", x);
        in_ch = cd[i];
    }
    x = ia_zb_op(g, "Transpose", 1, &x, 1, &pa); /* [B, frames, conv_dim[-1]] */
    x = ia_zb_layernorm(g, NM("%s", "feature_projection.layer_norm"), in_ch, eps, x);
    x = ia_zb_linear(g, NM("%s", "feature_projection.projection"), in_ch, H, 1, IA_ZB_TRANSPOSED,
                     x);

    /* Positional conv embedding, weight norm folded. */
    int64_t wd[3] = {H, H / G, K};
    const char *pw = ia_zb_weight_norm(g, NM("%s", "encoder.pos_conv_embed.conv"), 3, wd, 2);
    const char *pb = ia_zb_weight(g, NM("%s", "encoder.pos_conv_embed.conv.bias"), IA_ZB_INIT_ZEROS,
                                  IA_ZB_AS_IS, 1, &H);
    const char *xt = ia_zb_op(g, "Transpose", 1, &x, 1, &pa);
    const char *cin[3] = {xt, pw, pb};
    int64_t kk[1] = {K}, pads[2] = {K / 2, K / 2 - (K % 2 == 0)};
    struct ia_zb_attr ca[3] = {IA_ZB_INTS("kernel_shape", kk, 1), IA_ZB_INTS("pads", pads, 2),
                               IA_ZB_INT("group", G)};
    const char *pos =
        ia_zb_activation(g, fact, "feat_extract_activation", ia_zb_op(g, "Conv", 3, cin, 3, ca));
    x = ia_zb_op2(g, "Add", x, ia_zb_op(g, "Transpose", 1, &pos, 1, &pa));
    if (!stable) x = ia_zb_layernorm(g, NM("%s", "encoder.layer_norm"), H, eps, x);

    for (int64_t l = 0; l < L && !ia_zb_status(g); l++) {
        char p[128], q[512];
        snprintf(p, sizeof p, "%sencoder.layers.%lld.", pre, (long long)l);
#define LN(s) (snprintf(q, sizeof q, "%s%s", p, s), q)
        const char *h = stable ? ia_zb_layernorm(g, LN("layer_norm"), H, eps, x) : x;
        struct ia_zb_attn a = {.n_heads = NH, .n_kv_heads = NH, .head_dim = H / NH};
        a.q = ia_zb_linear(g, LN("attention.q_proj"), H, H, 1, IA_ZB_TRANSPOSED, h);
        a.k = ia_zb_linear(g, LN("attention.k_proj"), H, H, 1, IA_ZB_TRANSPOSED, h);
        a.v = ia_zb_linear(g, LN("attention.v_proj"), H, H, 1, IA_ZB_TRANSPOSED, h);
        const char *ctx = ia_zb_attention(g, &a);
        x = ia_zb_op2(g, "Add", x,
                      ia_zb_linear(g, LN("attention.out_proj"), H, H, 1, IA_ZB_TRANSPOSED, ctx));
        if (!stable) x = ia_zb_layernorm(g, LN("layer_norm"), H, eps, x);
        h = stable ? ia_zb_layernorm(g, LN("final_layer_norm"), H, eps, x) : x;
        h = ia_zb_activation(
            g, act, "hidden_act",
            ia_zb_linear(g, LN("feed_forward.intermediate_dense"), H, I, 1, IA_ZB_TRANSPOSED, h));
        x = ia_zb_op2(
            g, "Add", x,
            ia_zb_linear(g, LN("feed_forward.output_dense"), I, H, 1, IA_ZB_TRANSPOSED, h));
        if (!stable) x = ia_zb_layernorm(g, LN("final_layer_norm"), H, eps, x);
#undef LN
    }
    if (stable) x = ia_zb_layernorm(g, NM("%s", "encoder.layer_norm"), H, eps, x);
#undef NM
    if (ctc) {
        struct ia_zb_dim bfv[3] = {{.sym = "batch_size"}, {.sym = "frames"}, {.value = V}};
        ia_zb_output(g, ia_zb_linear(g, "lm_head", H, V, 1, IA_ZB_TRANSPOSED, x), "logits",
                     IA_DTYPE_FLOAT32, 3, bfv);
    } else {
        struct ia_zb_dim bfh[3] = {{.sym = "batch_size"}, {.sym = "frames"}, {.value = H}};
        ia_zb_output(g, x, "last_hidden_state", IA_DTYPE_FLOAT32, 3, bfh);
    }
    return ia_zb_status(g);
}
