/*
 * GPT-2 (GPT2LMHeadModel) as HF transformers defines it: token + learned
 * position embeddings, pre-LN decoder blocks with a fused q/k/v projection
 * (Conv1D: weights already [in, out]), causal attention, GELU (tanh form
 * for "gelu_new"), final LayerNorm, LM head tied to the token embeddings.
 *
 * Inputs: input_ids, position_ids  int64 [batch_size, sequence_length]
 *         attention_mask            int64 [batch_size, past_sequence_length + sequence_length]
 *         past_key_values.N.key/.value  float [B, n_head, past_sequence_length, head_dim]  (--with-past)
 * Outputs: logits [B, S, vocab]; present.N.key/.value [B, n_head, P+S, head_dim] (--with-past)
 */
#include <stdio.h>
#include <string.h>

#include "zoo_internal.h"

int zoo_build_gpt2(struct ia_zb *g, const struct ia_hf_config *cfg,
                   const struct ia_zoo_build_opts *o) {
    int64_t V, H, L, NH, I, P;
    double eps;
    const char *act = "gelu_new";
    int inv_layer = 0, cross = 0, scale_w = 1;
    if (!(zoo_cfg_int(g, cfg, "vocab_size", &V) && zoo_cfg_int(g, cfg, "n_embd", &H) &&
          zoo_cfg_int(g, cfg, "n_layer", &L) && zoo_cfg_int(g, cfg, "n_head", &NH) &&
          zoo_cfg_int_or(g, cfg, "n_positions", 1024, &P) &&
          zoo_cfg_range(g, cfg, "vocab_size", V, 1, 1 << 24) &&
          zoo_cfg_range(g, cfg, "n_embd", H, 1, 1 << 16) &&
          zoo_cfg_range(g, cfg, "n_layer", L, 1, 1024) &&
          zoo_cfg_range(g, cfg, "n_head", NH, 1, H) &&
          zoo_cfg_range(g, cfg, "n_positions", P, 1, 1 << 20) &&
          zoo_cfg_int_or(g, cfg, "n_inner", 4 * H, &I) &&
          zoo_cfg_range(g, cfg, "n_inner", I, 1, 1 << 20) &&
          zoo_cfg_float_or(g, cfg, "layer_norm_epsilon", 1e-5, &eps)))
        return ia_zb_status(g);
    if (H % NH)
        return ia_zb_fail(g, IA_EINVAL, "%s: n_embd %lld is not a multiple of n_head %lld",
                          ia_hf_config_label(cfg), (long long)H, (long long)NH);
    if (ia_hf_config_str_or(cfg, "activation_function", "gelu_new", &act) ||
        ia_hf_config_bool_or(cfg, "scale_attn_by_inverse_layer_idx", 0, &inv_layer) ||
        ia_hf_config_bool_or(cfg, "add_cross_attention", 0, &cross) ||
        ia_hf_config_bool_or(cfg, "scale_attn_weights", 1, &scale_w))
        return ia_zb_fail(g, IA_EFORMAT, "%s", ia_error_msg());
    if (inv_layer || cross)
        return ia_zb_fail(g, IA_EUNSUPPORTED, "%s: %s is not supported", ia_hf_config_label(cfg),
                          inv_layer ? "scale_attn_by_inverse_layer_idx" : "add_cross_attention");
    const int64_t D = H / NH;
    ia_zb_set_base_prefix(g, "transformer.");
    char n[512];

    struct zoo_decoder_io io;
    zoo_decoder_inputs(g, o, L, NH, D, &io);
    const char *ids = io.ids, *pos = io.pos;

    const char *x = ia_zb_op2(g, "Add", ia_zb_embedding(g, "transformer.wte.weight", V, H, ids),
                              ia_zb_embedding(g, "transformer.wpe.weight", P, H, pos));
    const char *amask = ia_zb_attention_mask(g, io.mask, ids, 1);
    const char *split = ia_zb_const_i64(g, 3, (int64_t[]){H, H, H});
    for (int64_t l = 0; l < L && !ia_zb_status(g); l++) {
        char p[128], pk[64], pv[64];
        snprintf(p, sizeof p, "transformer.h.%lld.", (long long)l);
#define NM(s) (snprintf(n, sizeof n, "%s%s", p, s), n)
        const char *h = ia_zb_layernorm(g, NM("ln_1"), H, eps, x);
        const char *qkv = ia_zb_linear(g, NM("attn.c_attn"), H, 3 * H, 1, IA_ZB_AS_IS, h);
        const char *parts[3] = {0}, *sin[2] = {qkv, split};
        struct ia_zb_attr ax = IA_ZB_INT("axis", -1);
        ia_zb_op_multi(g, "Split", 2, sin, 1, &ax, 3, parts);
        struct ia_zb_attn a = {.n_heads = NH, .n_kv_heads = NH, .head_dim = D, .q = parts[0],
                               .k = parts[1], .v = parts[2], .mask = amask,
                               .scale = scale_w ? 0 : 1.0};
        zoo_decoder_cache(&io, l, &a, pk, pv);
        const char *ctx = ia_zb_attention(g, &a);
        x = ia_zb_op2(g, "Add", x, ia_zb_linear(g, NM("attn.c_proj"), H, H, 1, IA_ZB_AS_IS, ctx));
        h = ia_zb_layernorm(g, NM("ln_2"), H, eps, x);
        h = ia_zb_activation(g, act, "activation_function",
                             ia_zb_linear(g, NM("mlp.c_fc"), H, I, 1, IA_ZB_AS_IS, h));
        x = ia_zb_op2(g, "Add", x, ia_zb_linear(g, NM("mlp.c_proj"), I, H, 1, IA_ZB_AS_IS, h));
#undef NM
    }
    x = ia_zb_layernorm(g, "transformer.ln_f", H, eps, x);
    const char *logits = ia_zb_lm_head(g, "lm_head.weight", "transformer.wte.weight", H, V, x);
    zoo_decoder_outputs(g, &io, logits, V);
    return ia_zb_status(g);
}
