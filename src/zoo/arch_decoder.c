/*
 * The inputs and outputs that GPT-2 and Llama-style decoders share: token
 * ids, attention mask and positions, and with --with-past one key/value
 * cache pair per layer in and out. Names and shapes follow HF's ONNX export
 * so models drop in where those exports are used; see arch_gpt2.c and
 * arch_llama.c for the per-model layout.
 */
#include <stdio.h>
#include <string.h>

#include "zoo_internal.h"

void zoo_decoder_inputs(struct ia_zb *g, const struct ia_zoo_build_opts *o, int64_t layers,
                        int64_t kv_heads, int64_t head_dim, struct zoo_decoder_io *io) {
    io->layers = layers;
    io->with_past = o->with_past;
    const char *total = o->with_past ? "past_sequence_length + sequence_length" : "sequence_length";
    struct ia_zb_dim bs[2] = {{.sym = "batch_size"}, {.sym = "sequence_length"}};
    struct ia_zb_dim bt[2] = {{.sym = "batch_size"}, {.sym = total}};
    io->ids = ia_zb_input(g, "input_ids", IA_DTYPE_INT64, 2, bs);
    io->mask = ia_zb_input(g, "attention_mask", IA_DTYPE_INT64, 2, bt);
    io->pos = ia_zb_input(g, "position_ids", IA_DTYPE_INT64, 2, bs);
    struct ia_zb_dim pd[4] = {{.sym = "batch_size"},
                              {.value = kv_heads},
                              {.sym = "past_sequence_length"},
                              {.value = head_dim}};
    struct ia_zb_dim td[4] = {
        {.sym = "batch_size"}, {.value = kv_heads}, {.sym = total}, {.value = head_dim}};
    memcpy(io->present_dims, td, sizeof td);
    char n[512];
    for (int64_t l = 0; l < layers && l < ZOO_DECODER_MAX_LAYERS; l++) {
        io->past_k[l] = io->past_v[l] = NULL;
        if (!o->with_past) continue;
        snprintf(n, sizeof n, "past_key_values.%lld.key", (long long)l);
        io->past_k[l] = ia_zb_input(g, n, IA_DTYPE_FLOAT32, 4, pd);
        snprintf(n, sizeof n, "past_key_values.%lld.value", (long long)l);
        io->past_v[l] = ia_zb_input(g, n, IA_DTYPE_FLOAT32, 4, pd);
    }
}

void zoo_decoder_cache(const struct zoo_decoder_io *io, int64_t l, struct ia_zb_attn *a,
                       char pk[64], char pv[64]) {
    snprintf(pk, 64, "present.%lld.key", (long long)l);
    snprintf(pv, 64, "present.%lld.value", (long long)l);
    if (io->with_past) {
        a->past_k = io->past_k[l];
        a->past_v = io->past_v[l];
        a->present_k = pk;
        a->present_v = pv;
    }
}

void zoo_decoder_outputs(struct ia_zb *g, const struct zoo_decoder_io *io, const char *logits,
                         int64_t vocab) {
    struct ia_zb_dim bsv[3] = {{.sym = "batch_size"}, {.sym = "sequence_length"}, {.value = vocab}};
    ia_zb_output(g, logits, "logits", IA_DTYPE_FLOAT32, 3, bsv);
    char n[512];
    for (int64_t l = 0; io->with_past && l < io->layers; l++) {
        snprintf(n, sizeof n, "present.%lld.key", (long long)l);
        ia_zb_output(g, n, n, IA_DTYPE_FLOAT32, 4, io->present_dims);
        snprintf(n, sizeof n, "present.%lld.value", (long long)l);
        ia_zb_output(g, n, n, IA_DTYPE_FLOAT32, 4, io->present_dims);
    }
}
