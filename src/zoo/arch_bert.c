/*
 * BERT (BertModel, BertForMaskedLM) as HF transformers defines it:
 * embeddings (word + position + token type, LayerNorm), post-LN encoder
 * layers, then either the pooler (tanh on the first token) or the MLM head
 * (dense, activation, LayerNorm, decoder tied to the word embeddings).
 *
 * Inputs: input_ids, attention_mask, token_type_ids  int64 [batch_size, sequence_length]
 * Outputs: last_hidden_state [B, S, H] and pooler_output [B, H]  (BertModel)
 *          logits [B, S, vocab]                                  (BertForMaskedLM)
 */
#include <stdio.h>
#include <string.h>

#include "zoo_internal.h"

int zoo_build_bert(struct ia_zb *g, const struct ia_hf_config *cfg,
                   const struct ia_zoo_build_opts *o) {
    (void)o;
    int64_t V, H, L, NH, I, P, TV;
    double eps;
    const char *act = "gelu", *pos_type = "absolute";
    const char *arch = ia_hf_config_architecture(cfg);
    if (!arch) arch = "BertModel";
    int mlm = !strcmp(arch, "BertForMaskedLM");
    if (!mlm && strcmp(arch, "BertModel"))
        return ia_zb_fail(g, IA_EUNSUPPORTED, "%s: architectures '%s' is not supported (bert: "
                          "BertModel, BertForMaskedLM)", ia_hf_config_label(cfg), arch);
    if (!(zoo_cfg_int(g, cfg, "vocab_size", &V) && zoo_cfg_int(g, cfg, "hidden_size", &H) &&
          zoo_cfg_int(g, cfg, "num_hidden_layers", &L) &&
          zoo_cfg_int(g, cfg, "num_attention_heads", &NH) &&
          zoo_cfg_int(g, cfg, "intermediate_size", &I) &&
          zoo_cfg_int_or(g, cfg, "max_position_embeddings", 512, &P) &&
          zoo_cfg_int_or(g, cfg, "type_vocab_size", 2, &TV) &&
          zoo_cfg_float_or(g, cfg, "layer_norm_eps", 1e-12, &eps) &&
          zoo_cfg_range(g, cfg, "vocab_size", V, 1, 1 << 24) &&
          zoo_cfg_range(g, cfg, "hidden_size", H, 1, 1 << 16) &&
          zoo_cfg_range(g, cfg, "num_hidden_layers", L, 1, 1024) &&
          zoo_cfg_range(g, cfg, "num_attention_heads", NH, 1, H) &&
          zoo_cfg_range(g, cfg, "intermediate_size", I, 1, 1 << 20) &&
          zoo_cfg_range(g, cfg, "max_position_embeddings", P, 1, 1 << 20) &&
          zoo_cfg_range(g, cfg, "type_vocab_size", TV, 1, 1 << 16)))
        return ia_zb_status(g);
    if (H % NH)
        return ia_zb_fail(g, IA_EINVAL, "%s: hidden_size %lld is not a multiple of "
                          "num_attention_heads %lld", ia_hf_config_label(cfg), (long long)H,
                          (long long)NH);
    if (ia_hf_config_str_or(cfg, "hidden_act", "gelu", &act) ||
        ia_hf_config_str_or(cfg, "position_embedding_type", "absolute", &pos_type))
        return ia_zb_fail(g, IA_EFORMAT, "%s", ia_error_msg());
    if (strcmp(pos_type, "absolute"))
        return ia_zb_fail(g, IA_EUNSUPPORTED, "%s: position_embedding_type '%s' is not "
                          "supported (only absolute)", ia_hf_config_label(cfg), pos_type);
    const char *pre = mlm ? "bert." : "";
    ia_zb_set_base_prefix(g, "bert.");
    char n[512], n2[512];

    struct ia_zb_dim bs[2] = {{.sym = "batch_size"}, {.sym = "sequence_length"}};
    const char *ids = ia_zb_input(g, "input_ids", IA_DTYPE_INT64, 2, bs);
    const char *mask = ia_zb_input(g, "attention_mask", IA_DTYPE_INT64, 2, bs);
    const char *tt = ia_zb_input(g, "token_type_ids", IA_DTYPE_INT64, 2, bs);

    /* Embeddings; positions are 0..S-1 (Range over the input's length). */
    snprintf(n, sizeof n, "%sembeddings.word_embeddings.weight", pre);
    const char *x = ia_zb_embedding(g, n, V, H, ids);
    const char *rng[3] = {ia_zb_scalar_i64(g, 0),
                          ia_zb_op2(g, "Squeeze", ia_zb_dim_of(g, ids, 1),
                                    ia_zb_const_i64(g, 1, (int64_t[]){0})),
                          ia_zb_scalar_i64(g, 1)};
    const char *pos = ia_zb_op(g, "Range", 3, rng, 0, NULL);
    snprintf(n, sizeof n, "%sembeddings.position_embeddings.weight", pre);
    x = ia_zb_op2(g, "Add", x, ia_zb_embedding(g, n, P, H, pos));
    snprintf(n, sizeof n, "%sembeddings.token_type_embeddings.weight", pre);
    x = ia_zb_op2(g, "Add", x, ia_zb_embedding(g, n, TV, H, tt));
    snprintf(n, sizeof n, "%sembeddings.LayerNorm", pre);
    x = ia_zb_layernorm(g, n, H, eps, x);

    const char *amask = ia_zb_attention_mask(g, mask, ids, 0); /* [B, 1, 1, S] */
    for (int64_t l = 0; l < L && !ia_zb_status(g); l++) {
        char p[256];
        snprintf(p, sizeof p, "%sencoder.layer.%lld.", pre, (long long)l);
#define NM(s) (snprintf(n, sizeof n, "%s%s", p, s), n)
        struct ia_zb_attn a = {.n_heads = NH, .n_kv_heads = NH, .head_dim = H / NH,
                               .mask = amask};
        a.q = ia_zb_linear(g, NM("attention.self.query"), H, H, 1, IA_ZB_TRANSPOSED, x);
        a.k = ia_zb_linear(g, NM("attention.self.key"), H, H, 1, IA_ZB_TRANSPOSED, x);
        a.v = ia_zb_linear(g, NM("attention.self.value"), H, H, 1, IA_ZB_TRANSPOSED, x);
        const char *ctx = ia_zb_attention(g, &a);
        const char *ao = ia_zb_linear(g, NM("attention.output.dense"), H, H, 1,
                                      IA_ZB_TRANSPOSED, ctx);
        x = ia_zb_layernorm(g, NM("attention.output.LayerNorm"), H, eps,
                            ia_zb_op2(g, "Add", ao, x));
        const char *h = ia_zb_activation(
            g, act, "hidden_act",
            ia_zb_linear(g, NM("intermediate.dense"), H, I, 1, IA_ZB_TRANSPOSED, x));
        const char *out = ia_zb_linear(g, NM("output.dense"), I, H, 1, IA_ZB_TRANSPOSED, h);
        x = ia_zb_layernorm(g, NM("output.LayerNorm"), H, eps, ia_zb_op2(g, "Add", out, x));
#undef NM
    }

    struct ia_zb_dim bsh[3] = {{.sym = "batch_size"}, {.sym = "sequence_length"}, {.value = H}};
    if (!mlm) {
        ia_zb_output(g, x, "last_hidden_state", IA_DTYPE_FLOAT32, 3, bsh);
        const char *first = ia_zb_select_token(g, x, 0);
        const char *pooled = ia_zb_op1(
            g, "Tanh", ia_zb_linear(g, "pooler.dense", H, H, 1, IA_ZB_TRANSPOSED, first));
        struct ia_zb_dim bh[2] = {{.sym = "batch_size"}, {.value = H}};
        ia_zb_output(g, pooled, "pooler_output", IA_DTYPE_FLOAT32, 2, bh);
        return ia_zb_status(g);
    }
    const char *t = ia_zb_linear(g, "cls.predictions.transform.dense", H, H, 1, IA_ZB_TRANSPOSED,
                                 x);
    t = ia_zb_activation(g, act, "hidden_act", t);
    t = ia_zb_layernorm(g, "cls.predictions.transform.LayerNorm", H, eps, t);
    snprintf(n, sizeof n, "%sembeddings.word_embeddings.weight", pre);
    const char *logits = ia_zb_lm_head(g, "cls.predictions.decoder.weight", n, H, V, t);
    snprintf(n2, sizeof n2, "%s",
             ia_zb_from_checkpoint(g) && !ia_zb_has_weight(g, "cls.predictions.bias")
                 ? "cls.predictions.decoder.bias"
                 : "cls.predictions.bias");
    logits = ia_zb_op2(g, "Add", logits,
                       ia_zb_weight(g, n2, IA_ZB_INIT_ZEROS, IA_ZB_AS_IS, 1, &V));
    struct ia_zb_dim bsv[3] = {{.sym = "batch_size"}, {.sym = "sequence_length"}, {.value = V}};
    ia_zb_output(g, logits, "logits", IA_DTYPE_FLOAT32, 3, bsv);
    return ia_zb_status(g);
}
