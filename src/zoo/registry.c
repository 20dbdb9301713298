/*
 * The architecture table and presets. A preset is an HF config.json; the
 * small and base sizes copy the public configs named in `like` (only the
 * keys the builders read), tiny ones are for tests.
 *
 * The benchmark families not built yet are listed with implemented = 0 so
 * `zoo list` says so plainly.
 */
#include <stdio.h>
#include <string.h>

#include "zoo_internal.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static const struct ia_zoo_preset bert_presets[] = {
    {"tiny", "",
     "{\"model_type\":\"bert\",\"architectures\":[\"BertModel\"],\"vocab_size\":1024,"
     "\"hidden_size\":64,\"num_hidden_layers\":2,\"num_attention_heads\":2,"
     "\"intermediate_size\":128,\"max_position_embeddings\":128,\"type_vocab_size\":2,"
     "\"hidden_act\":\"gelu\",\"layer_norm_eps\":1e-12}"},
    {"small", "google/bert_uncased_L-4_H-512_A-8",
     "{\"model_type\":\"bert\",\"architectures\":[\"BertModel\"],\"vocab_size\":30522,"
     "\"hidden_size\":512,\"num_hidden_layers\":4,\"num_attention_heads\":8,"
     "\"intermediate_size\":2048,\"max_position_embeddings\":512,\"type_vocab_size\":2,"
     "\"hidden_act\":\"gelu\",\"layer_norm_eps\":1e-12}"},
    {"base", "bert-base-uncased",
     "{\"model_type\":\"bert\",\"architectures\":[\"BertModel\"],\"vocab_size\":30522,"
     "\"hidden_size\":768,\"num_hidden_layers\":12,\"num_attention_heads\":12,"
     "\"intermediate_size\":3072,\"max_position_embeddings\":512,\"type_vocab_size\":2,"
     "\"hidden_act\":\"gelu\",\"layer_norm_eps\":1e-12}"},
};

static const struct ia_zoo_preset gpt2_presets[] = {
    {"tiny", "",
     "{\"model_type\":\"gpt2\",\"architectures\":[\"GPT2LMHeadModel\"],\"vocab_size\":1024,"
     "\"n_embd\":64,\"n_layer\":2,\"n_head\":2,\"n_positions\":128,\"n_inner\":null,"
     "\"activation_function\":\"gelu_new\",\"layer_norm_epsilon\":1e-5}"},
    {"small", "distilgpt2",
     "{\"model_type\":\"gpt2\",\"architectures\":[\"GPT2LMHeadModel\"],\"vocab_size\":50257,"
     "\"n_embd\":768,\"n_layer\":6,\"n_head\":12,\"n_positions\":1024,\"n_inner\":null,"
     "\"activation_function\":\"gelu_new\",\"layer_norm_epsilon\":1e-5}"},
    {"base", "gpt2 (124M)",
     "{\"model_type\":\"gpt2\",\"architectures\":[\"GPT2LMHeadModel\"],\"vocab_size\":50257,"
     "\"n_embd\":768,\"n_layer\":12,\"n_head\":12,\"n_positions\":1024,\"n_inner\":null,"
     "\"activation_function\":\"gelu_new\",\"layer_norm_epsilon\":1e-5}"},
};

static const struct ia_zoo_preset llama_presets[] = {
    {"tiny", "",
     "{\"model_type\":\"llama\",\"architectures\":[\"LlamaForCausalLM\"],\"vocab_size\":1024,"
     "\"hidden_size\":64,\"intermediate_size\":176,\"num_hidden_layers\":2,"
     "\"num_attention_heads\":4,\"num_key_value_heads\":2,\"max_position_embeddings\":256,"
     "\"rms_norm_eps\":1e-5,\"rope_theta\":10000.0,\"hidden_act\":\"silu\","
     "\"tie_word_embeddings\":false}"},
    {"small", "TinyLlama/TinyLlama-1.1B-intermediate-step-1431k-3T",
     "{\"model_type\":\"llama\",\"architectures\":[\"LlamaForCausalLM\"],\"vocab_size\":32000,"
     "\"hidden_size\":2048,\"intermediate_size\":5632,\"num_hidden_layers\":22,"
     "\"num_attention_heads\":32,\"num_key_value_heads\":4,\"max_position_embeddings\":2048,"
     "\"rms_norm_eps\":1e-5,\"rope_theta\":10000.0,\"hidden_act\":\"silu\","
     "\"tie_word_embeddings\":false}"},
    {"base", "meta-llama/Llama-2-7b-hf",
     "{\"model_type\":\"llama\",\"architectures\":[\"LlamaForCausalLM\"],\"vocab_size\":32000,"
     "\"hidden_size\":4096,\"intermediate_size\":11008,\"num_hidden_layers\":32,"
     "\"num_attention_heads\":32,\"num_key_value_heads\":32,\"max_position_embeddings\":4096,"
     "\"rms_norm_eps\":1e-5,\"rope_theta\":10000.0,\"hidden_act\":\"silu\","
     "\"tie_word_embeddings\":false}"},
};

static const struct ia_zoo_preset qwen2_presets[] = {
    {"tiny", "",
     "{\"model_type\":\"qwen2\",\"architectures\":[\"Qwen2ForCausalLM\"],\"vocab_size\":1024,"
     "\"hidden_size\":64,\"intermediate_size\":128,\"num_hidden_layers\":2,"
     "\"num_attention_heads\":4,\"num_key_value_heads\":2,\"max_position_embeddings\":256,"
     "\"rms_norm_eps\":1e-6,\"rope_theta\":1000000.0,\"hidden_act\":\"silu\","
     "\"tie_word_embeddings\":true,\"use_sliding_window\":false}"},
    {"small", "Qwen/Qwen2-0.5B",
     "{\"model_type\":\"qwen2\",\"architectures\":[\"Qwen2ForCausalLM\"],\"vocab_size\":151936,"
     "\"hidden_size\":896,\"intermediate_size\":4864,\"num_hidden_layers\":24,"
     "\"num_attention_heads\":14,\"num_key_value_heads\":2,\"max_position_embeddings\":131072,"
     "\"rms_norm_eps\":1e-6,\"rope_theta\":1000000.0,\"hidden_act\":\"silu\","
     "\"tie_word_embeddings\":true,\"use_sliding_window\":false}"},
    {"base", "Qwen/Qwen2-1.5B",
     "{\"model_type\":\"qwen2\",\"architectures\":[\"Qwen2ForCausalLM\"],\"vocab_size\":151936,"
     "\"hidden_size\":1536,\"intermediate_size\":8960,\"num_hidden_layers\":28,"
     "\"num_attention_heads\":12,\"num_key_value_heads\":2,\"max_position_embeddings\":131072,"
     "\"rms_norm_eps\":1e-6,\"rope_theta\":1000000.0,\"hidden_act\":\"silu\","
     "\"tie_word_embeddings\":true,\"use_sliding_window\":false}"},
};

static const struct ia_zoo_preset vit_presets[] = {
    {"tiny", "",
     "{\"model_type\":\"vit\",\"architectures\":[\"ViTModel\"],\"hidden_size\":64,"
     "\"num_hidden_layers\":2,\"num_attention_heads\":2,\"intermediate_size\":128,"
     "\"image_size\":32,\"patch_size\":8,\"num_channels\":3,\"hidden_act\":\"gelu\","
     "\"layer_norm_eps\":1e-12,\"qkv_bias\":true}"},
    {"small", "WinKawaks/vit-small-patch16-224",
     "{\"model_type\":\"vit\",\"architectures\":[\"ViTForImageClassification\"],"
     "\"hidden_size\":384,\"num_hidden_layers\":12,\"num_attention_heads\":6,"
     "\"intermediate_size\":1536,\"image_size\":224,\"patch_size\":16,\"num_channels\":3,"
     "\"hidden_act\":\"gelu\",\"layer_norm_eps\":1e-12,\"qkv_bias\":true,\"num_labels\":1000}"},
    {"base", "google/vit-base-patch16-224",
     "{\"model_type\":\"vit\",\"architectures\":[\"ViTForImageClassification\"],"
     "\"hidden_size\":768,\"num_hidden_layers\":12,\"num_attention_heads\":12,"
     "\"intermediate_size\":3072,\"image_size\":224,\"patch_size\":16,\"num_channels\":3,"
     "\"hidden_act\":\"gelu\",\"layer_norm_eps\":1e-12,\"qkv_bias\":true,\"num_labels\":1000}"},
};

static const char *const bert_types[] = {"bert", NULL};
static const char *const gpt2_types[] = {"gpt2", NULL};
static const char *const llama_types[] = {"llama", NULL};
static const char *const qwen2_types[] = {"qwen2", NULL};
static const char *const vit_types[] = {"vit", NULL};
static const char *const none[] = {NULL};

static const struct ia_zoo_arch archs[] = {
    {"bert", "BERT encoder (BertModel, BertForMaskedLM)", 1, bert_types, bert_presets,
     N_OF(bert_presets), 0, zoo_build_bert},
    {"gpt2", "GPT-2 decoder (GPT2LMHeadModel), optional KV cache", 1, gpt2_types, gpt2_presets,
     N_OF(gpt2_presets), 1, zoo_build_gpt2},
    {"llama", "Llama decoder (LlamaForCausalLM): GQA, RoPE, RMSNorm, SiLU MLP", 1, llama_types,
     llama_presets, N_OF(llama_presets), 1, zoo_build_llama},
    {"qwen2", "Qwen2 decoder (Qwen2ForCausalLM): Llama with q/k/v biases", 1, qwen2_types,
     qwen2_presets, N_OF(qwen2_presets), 1, zoo_build_llama},
    {"vit", "Vision Transformer (ViTModel, ViTForImageClassification)", 1, vit_types,
     vit_presets, N_OF(vit_presets), 0, zoo_build_vit},
    {"t5", "T5 encoder-decoder", 0, none, NULL, 0, 0, NULL},
    {"clip", "CLIP text + vision towers", 0, none, NULL, 0, 0, NULL},
    {"clap", "CLAP audio + text towers", 0, none, NULL, 0, 0, NULL},
    {"whisper", "Whisper speech encoder-decoder", 0, none, NULL, 0, 0, NULL},
    {"wav2vec2", "wav2vec 2.0 speech encoder", 0, none, NULL, 0, 0, NULL},
    {"llava", "LLaVA (CLIP vision + Llama)", 0, none, NULL, 0, 0, NULL},
    {"llava_next", "LLaVA-NeXT", 0, none, NULL, 0, 0, NULL},
    {"xclip", "X-CLIP video-text", 0, none, NULL, 0, 0, NULL},
    {"detr", "DETR object detection", 0, none, NULL, 0, 0, NULL},
};

size_t ia_zoo_n_archs(void) { return N_OF(archs); }

const struct ia_zoo_arch *ia_zoo_arch_at(size_t i) { return i < N_OF(archs) ? &archs[i] : NULL; }

const struct ia_zoo_arch *ia_zoo_arch_find(const char *name) {
    for (size_t i = 0; i < N_OF(archs); i++)
        if (!strcmp(archs[i].name, name)) return &archs[i];
    return NULL;
}

const struct ia_zoo_arch *ia_zoo_arch_for_config(const struct ia_hf_config *cfg) {
    const char *mt = NULL;
    if (ia_hf_config_str_or(cfg, "model_type", NULL, &mt)) return NULL;
    const char *arch = ia_hf_config_architecture(cfg);
    if (!mt) {
        ia_error_set(IA_ENOTFOUND, "%s: missing key 'model_type'", ia_hf_config_label(cfg));
        return NULL;
    }
    for (size_t i = 0; i < N_OF(archs); i++)
        for (const char *const *t = archs[i].model_types; *t; t++)
            if (!strcmp(*t, mt)) return &archs[i];
    const struct ia_zoo_arch *a = ia_zoo_arch_find(mt);
    ia_error_set(IA_EUNSUPPORTED, "%s: model_type '%s'%s%s%s %s", ia_hf_config_label(cfg), mt,
                 arch ? " (" : "", arch ? arch : "", arch ? ")" : "",
                 a ? "is a benchmark family the zoo does not build yet"
                   : "is not supported (supported: bert, gpt2, llama, qwen2, vit)");
    return NULL;
}

int ia_zoo_preset_config(const struct ia_zoo_arch *a, const char *preset,
                         struct ia_hf_config **out) {
    *out = NULL;
    if (!a->implemented)
        return ia_error_set(IA_EUNSUPPORTED, "%s is not built by the zoo yet", a->name);
    for (size_t i = 0; i < a->n_presets; i++)
        if (!strcmp(a->presets[i].name, preset)) {
            char label[96];
            snprintf(label, sizeof label, "preset %s-%s", a->name, preset);
            return ia_hf_config_parse(a->presets[i].config, strlen(a->presets[i].config), label,
                                      out);
        }
    return ia_error_set(IA_ENOTFOUND, "%s has no preset '%s' (tiny, small, base)", a->name,
                        preset);
}
