/*
 * Llama and Qwen2 (LlamaForCausalLM, Qwen2ForCausalLM, and MistralForCausalLM
 * without sliding windows) as HF transformers defines them: token
 * embeddings, pre-RMSNorm decoder layers with grouped-query attention and
 * rotary position embeddings (rotate_half form, cos/sin computed in the graph
 * from position_ids), a SiLU-gated MLP, final RMSNorm, LM head (tied when
 * tie_word_embeddings). Qwen2 adds biases to the q/k/v projections; Llama's
 * attention_bias / mlp_bias are honoured.
 *
 * Inputs: input_ids, position_ids int64 [batch_size, sequence_length]
 *         attention_mask           int64 [batch_size, past_sequence_length + sequence_length]
 *         past_key_values.N.key/.value float [B, num_key_value_heads, past_sequence_length, head_dim]
 * Outputs: logits [B, S, vocab]; present.N.key/.value (post-rotary keys, as HF caches them)
 */
#include <stdio.h>
#include <string.h>

#include "zoo_internal.h"

int zoo_build_llama(struct ia_zb *g, const struct ia_hf_config *cfg,
                    const struct ia_zoo_build_opts *o) {
    const char *label = ia_hf_config_label(cfg);
    const char *mt = "llama", *act = "silu";
    if (ia_hf_config_str_or(cfg, "model_type", "llama", &mt) ||
        ia_hf_config_str_or(cfg, "hidden_act", "silu", &act))
        return ia_zb_fail(g, IA_EFORMAT, "%s", ia_error_msg());
    int qwen = !strcmp(mt, "qwen2");
    int64_t V, H, L, NH, KV, I, P, D;
    double eps, theta;
    int tie = 0, attn_bias = 0, mlp_bias = 0, sliding = 0;
    if (!(zoo_cfg_int(g, cfg, "vocab_size", &V) && zoo_cfg_int(g, cfg, "hidden_size", &H) &&
          zoo_cfg_int(g, cfg, "num_hidden_layers", &L) &&
          zoo_cfg_int(g, cfg, "num_attention_heads", &NH) &&
          zoo_cfg_int(g, cfg, "intermediate_size", &I) &&
          zoo_cfg_int_or(g, cfg, "num_key_value_heads", NH, &KV) &&
          zoo_cfg_int_or(g, cfg, "max_position_embeddings", 2048, &P) &&
          zoo_cfg_float_or(g, cfg, "rms_norm_eps", 1e-6, &eps) &&
          zoo_cfg_float_or(g, cfg, "rope_theta", 10000.0, &theta) &&
          zoo_cfg_range(g, cfg, "vocab_size", V, 1, 1 << 24) &&
          zoo_cfg_range(g, cfg, "hidden_size", H, 1, 1 << 16) &&
          zoo_cfg_range(g, cfg, "num_hidden_layers", L, 1, 1024) &&
          zoo_cfg_range(g, cfg, "num_attention_heads", NH, 1, H) &&
          zoo_cfg_range(g, cfg, "num_key_value_heads", KV, 1, NH) &&
          zoo_cfg_range(g, cfg, "intermediate_size", I, 1, 1 << 20) &&
          zoo_cfg_int_or(g, cfg, "head_dim", H / NH, &D) &&
          zoo_cfg_range(g, cfg, "head_dim", D, 2, 1 << 12)))
        return ia_zb_status(g);
    if (NH % KV)
        return ia_zb_fail(g, IA_EINVAL, "%s: num_attention_heads %lld is not a multiple of "
                          "num_key_value_heads %lld", label, (long long)NH, (long long)KV);
    if (D % 2)
        return ia_zb_fail(g, IA_EINVAL, "%s: head_dim %lld is odd (rotary needs pairs)", label,
                          (long long)D);
    if (!(theta > 0))
        return ia_zb_fail(g, IA_ERANGE, "%s: key 'rope_theta' must be positive", label);
    if (ia_hf_config_bool_or(cfg, "tie_word_embeddings", 0, &tie) ||
        ia_hf_config_bool_or(cfg, "attention_bias", qwen, &attn_bias) ||
        ia_hf_config_bool_or(cfg, "mlp_bias", 0, &mlp_bias) ||
        ia_hf_config_bool_or(cfg, "use_sliding_window", 0, &sliding))
        return ia_zb_fail(g, IA_EFORMAT, "%s", ia_error_msg());
    if (ia_hf_config_has(cfg, "rope_scaling"))
        return ia_zb_fail(g, IA_EUNSUPPORTED, "%s: key 'rope_scaling' is set; scaled rotary "
                          "embeddings are not supported yet", label);
    if (sliding)
        return ia_zb_fail(g, IA_EUNSUPPORTED, "%s: key 'use_sliding_window' is true; sliding-"
                          "window attention is not supported", label);
    ia_zb_set_base_prefix(g, "model.");
    char n[512];

    struct zoo_decoder_io io;
    zoo_decoder_inputs(g, o, L, KV, D, &io);
    const char *ids = io.ids, *pos = io.pos;

    const char *x = ia_zb_embedding(g, "model.embed_tokens.weight", V, H, ids);
    const char *amask = ia_zb_attention_mask(g, io.mask, ids, 1);
    const char *cos, *sin;
    ia_zb_rotary_tables(g, pos, D, theta, &cos, &sin);
    for (int64_t l = 0; l < L && !ia_zb_status(g); l++) {
        char p[128], pk[64], pv[64];
        snprintf(p, sizeof p, "model.layers.%lld.", (long long)l);
#define NM(s) (snprintf(n, sizeof n, "%s%s", p, s), n)
        const char *h = ia_zb_rmsnorm(g, NM("input_layernorm.weight"), H, eps, x);
        struct ia_zb_attn a = {.n_heads = NH, .n_kv_heads = KV, .head_dim = D, .mask = amask,
                               .cos = cos, .sin = sin};
        a.q = ia_zb_linear(g, NM("self_attn.q_proj"), H, NH * D, attn_bias, IA_ZB_TRANSPOSED, h);
        a.k = ia_zb_linear(g, NM("self_attn.k_proj"), H, KV * D, attn_bias, IA_ZB_TRANSPOSED, h);
        a.v = ia_zb_linear(g, NM("self_attn.v_proj"), H, KV * D, attn_bias, IA_ZB_TRANSPOSED, h);
        zoo_decoder_cache(&io, l, &a, pk, pv);
        const char *ctx = ia_zb_attention(g, &a);
        /* Qwen2's o_proj has no bias whatever attention_bias says. */
        x = ia_zb_op2(g, "Add", x, ia_zb_linear(g, NM("self_attn.o_proj"), NH * D, H,
                                                attn_bias && !qwen, IA_ZB_TRANSPOSED, ctx));
        h = ia_zb_rmsnorm(g, NM("post_attention_layernorm.weight"), H, eps, x);
        char gate[160], up[160], down[160];
        snprintf(gate, sizeof gate, "%smlp.gate_proj", p);
        snprintf(up, sizeof up, "%smlp.up_proj", p);
        snprintf(down, sizeof down, "%smlp.down_proj", p);
        x = ia_zb_op2(g, "Add", x, ia_zb_gated_mlp(g, gate, up, down, H, I, mlp_bias, act, h));
#undef NM
    }
    x = ia_zb_rmsnorm(g, "model.norm.weight", H, eps, x);
    const char *logits;
    if (tie) {
        logits = ia_zb_lm_head(g, "lm_head.weight", "model.embed_tokens.weight", H, V, x);
    } else {
        int64_t d[2] = {V, H};
        logits = ia_zb_op2(g, "MatMul", x,
                           ia_zb_weight(g, "lm_head.weight", IA_ZB_INIT_NORMAL, IA_ZB_TRANSPOSED,
                                        2, d));
    }
    zoo_decoder_outputs(g, &io, logits, V);
    return ia_zb_status(g);
}
