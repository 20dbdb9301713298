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
/* LLaVA: text_config / vision_config as the llava-hf configs nest them. */
#define LLAVA_TEXT_LLAMA(v, h, i, l, nh, kv, pos, eps)                                      \
    "\"text_config\":{\"model_type\":\"llama\",\"vocab_size\":" #v ",\"hidden_size\":" #h     \
    ",\"intermediate_size\":" #i ",\"num_hidden_layers\":" #l ",\"num_attention_heads\":" #nh \
    ",\"num_key_value_heads\":" #kv ",\"max_position_embeddings\":" #pos                      \
    ",\"rms_norm_eps\":" #eps ",\"rope_theta\":10000.0,\"hidden_act\":\"silu\"}"
#define LLAVA_VISION(h, i, l, nh, img, ps)                                                   \
    "\"vision_config\":{\"model_type\":\"clip_vision_model\",\"hidden_size\":" #h             \
    ",\"intermediate_size\":" #i ",\"num_hidden_layers\":" #l ",\"num_attention_heads\":" #nh \
    ",\"image_size\":" #img ",\"patch_size\":" #ps ",\"num_channels\":3,"                     \
    "\"hidden_act\":\"quick_gelu\",\"layer_norm_eps\":1e-5}"
#define LLAVA_TOP(tok, v)                                                                    \
    "\"model_type\":\"llava\",\"architectures\":[\"LlavaForConditionalGeneration\"],"         \
    "\"image_token_index\":" #tok ",\"vocab_size\":" #v ",\"projector_hidden_act\":\"gelu\"," \
    "\"vision_feature_layer\":-2,\"vision_feature_select_strategy\":\"default\","             \
    "\"tie_word_embeddings\":false,"

static const struct ia_zoo_preset llava_presets[] = {
    {"tiny", "",
     "{" LLAVA_TOP(1000, 1024) LLAVA_TEXT_LLAMA(1024, 64, 176, 2, 4, 2, 256, 1e-5) ","
         LLAVA_VISION(32, 64, 3, 2, 32, 8) "}"},
    {"small", "llava-1.5's CLIP ViT-L/14-336 tower + TinyLlama-1.1B (a composite, not a hub model)",
     "{" LLAVA_TOP(32000, 32064) LLAVA_TEXT_LLAMA(32064, 2048, 5632, 22, 32, 4, 2048, 1e-5) ","
         LLAVA_VISION(1024, 4096, 24, 16, 336, 14) "}"},
    {"base", "llava-hf/llava-1.5-7b-hf",
     "{" LLAVA_TOP(32000, 32064) LLAVA_TEXT_LLAMA(32064, 4096, 11008, 32, 32, 32, 4096, 1e-5) ","
         LLAVA_VISION(1024, 4096, 24, 16, 336, 14) "}"},
};

/* X-CLIP: text_config / vision_config as microsoft/xclip-* nest them. */
#define XCLIP_CFG(tv, th, ti, tl, tnh, vh, vi, vl, vnh, img, ps, fr, mh, mi, mnh, pd, pnh)        \
    "{\"model_type\":\"xclip\",\"architectures\":[\"XCLIPModel\"],\"projection_dim\":" #pd      \
    ",\"prompt_layers\":2,\"prompt_alpha\":0.1,\"prompt_hidden_act\":\"quick_gelu\","          \
    "\"prompt_num_attention_heads\":" #pnh ",\"logit_scale_init_value\":2.6592,"               \
    "\"text_config\":{\"model_type\":\"xclip_text_model\",\"vocab_size\":" #tv                  \
    ",\"hidden_size\":" #th ",\"intermediate_size\":" #ti ",\"num_hidden_layers\":" #tl       \
    ",\"num_attention_heads\":" #tnh ",\"max_position_embeddings\":77,"                       \
    "\"hidden_act\":\"quick_gelu\",\"layer_norm_eps\":1e-5},"                                 \
    "\"vision_config\":{\"model_type\":\"xclip_vision_model\",\"hidden_size\":" #vh            \
    ",\"intermediate_size\":" #vi ",\"num_hidden_layers\":" #vl ",\"num_attention_heads\":" #vnh \
    ",\"image_size\":" #img ",\"patch_size\":" #ps ",\"num_frames\":" #fr                     \
    ",\"mit_hidden_size\":" #mh ",\"mit_intermediate_size\":" #mi                             \
    ",\"mit_num_hidden_layers\":1,\"mit_num_attention_heads\":" #mnh                          \
    ",\"num_channels\":3,\"hidden_act\":\"quick_gelu\",\"layer_norm_eps\":1e-5}}"

static const struct ia_zoo_preset xclip_presets[] = {
    {"tiny", "", XCLIP_CFG(1024, 32, 64, 2, 2, 32, 64, 2, 2, 32, 8, 3, 16, 32, 2, 16, 2)},
    {"small", "microsoft/xclip-base-patch32",
     XCLIP_CFG(49408, 512, 2048, 12, 8, 768, 3072, 12, 12, 224, 32, 8, 512, 2048, 8, 512, 8)},
    {"base", "microsoft/xclip-base-patch16",
     XCLIP_CFG(49408, 512, 2048, 12, 8, 768, 3072, 12, 12, 224, 16, 8, 512, 2048, 8, 512, 8)},
};

/* DETR; image_size is the zoo's key for the fixed input shape. */
static const struct ia_zoo_preset detr_presets[] = {
    {"tiny", "",
     "{\"model_type\":\"detr\",\"architectures\":[\"DetrForObjectDetection\"],"
     "\"use_timm_backbone\":false,\"backbone_config\":{\"model_type\":\"resnet\","
     "\"embedding_size\":8,\"hidden_sizes\":[16,32,64,128],\"depths\":[1,1,1,1],"
     "\"layer_type\":\"bottleneck\"},\"num_channels\":3,\"d_model\":32,\"encoder_layers\":2,"
     "\"decoder_layers\":2,\"encoder_attention_heads\":2,\"decoder_attention_heads\":2,"
     "\"encoder_ffn_dim\":64,\"decoder_ffn_dim\":64,\"num_queries\":10,\"num_labels\":5,"
     "\"activation_function\":\"relu\",\"position_embedding_type\":\"sine\",\"image_size\":64}"},
    {"base", "facebook/detr-resnet-50 (800x800 input)",
     "{\"model_type\":\"detr\",\"architectures\":[\"DetrForObjectDetection\"],"
     "\"use_timm_backbone\":true,\"backbone\":\"resnet50\",\"dilation\":false,"
     "\"num_channels\":3,\"d_model\":256,\"encoder_layers\":6,\"decoder_layers\":6,"
     "\"encoder_attention_heads\":8,\"decoder_attention_heads\":8,\"encoder_ffn_dim\":2048,"
     "\"decoder_ffn_dim\":2048,\"num_queries\":100,\"num_labels\":91,"
     "\"activation_function\":\"relu\",\"position_embedding_type\":\"sine\",\"image_size\":800}"},
};

/* CLAP: ClapModel with text_config (ClapTextConfig) and audio_config
 * (ClapAudioConfig; num_frames is the zoo's key for the fixed input length). */
#define CLAP_TEXT(v, h, l, nh, i, pos)                                                          \
    "\"text_config\":{\"model_type\":\"clap_text_model\",\"vocab_size\":" #v                    \
    ",\"hidden_size\":" #h ",\"num_hidden_layers\":" #l ",\"num_attention_heads\":" #nh        \
    ",\"intermediate_size\":" #i ",\"max_position_embeddings\":" #pos                          \
    ",\"type_vocab_size\":1,\"pad_token_id\":1,\"hidden_act\":\"gelu\",\"layer_norm_eps\":1e-12}"
#define CLAP_AUDIO(spec, mel, frames, win, emb, hid, depths, heads)                             \
    "\"audio_config\":{\"model_type\":\"clap_audio_model\",\"spec_size\":" #spec               \
    ",\"num_mel_bins\":" #mel ",\"num_frames\":" #frames ",\"window_size\":" #win              \
    ",\"patch_size\":4,\"patch_stride\":[4,4],\"patch_embeds_hidden_size\":" #emb              \
    ",\"hidden_size\":" #hid ",\"depths\":" depths ",\"num_attention_heads\":" heads           \
    ",\"enable_fusion\":false,\"hidden_act\":\"gelu\",\"mlp_ratio\":4.0,"                       \
    "\"layer_norm_eps\":1e-5,\"qkv_bias\":true}"
#define CLAP_TOP(pd)                                                                            \
    "\"model_type\":\"clap\",\"architectures\":[\"ClapModel\"],\"projection_dim\":" #pd          \
    ",\"projection_hidden_act\":\"relu\",\"logit_scale_init_value\":14.285714285714285,"

static const struct ia_zoo_preset clap_presets[] = {
    {"tiny", "",
     "{" CLAP_TOP(16) CLAP_TEXT(1024, 32, 2, 2, 64, 130) ","
         CLAP_AUDIO(64, 16, 200, 4, 8, 32, "[2,2,2]", "[2,2,4]") "}"},
    {"base", "laion/clap-htsat-unfused",
     "{" CLAP_TOP(512) CLAP_TEXT(50265, 768, 12, 12, 3072, 514) ","
         CLAP_AUDIO(256, 64, 1001, 8, 96, 768, "[2,2,6,2]", "[4,8,16,32]") "}"},
};

static const char *const xclip_types[] = {"xclip", NULL};
static const char *const detr_types[] = {"detr", NULL};
static const char *const clap_types[] = {"clap", "clap_text_model", "clap_audio_model", NULL};
static const char *const llava_types[] = {"llava", NULL};
/* t5: t5-small / t5-base (v1.0: ReLU MLP, tied embeddings). */
#define T5_CFG(v, d, kv, ff, l, nh)                                                          \
    "{\"model_type\":\"t5\",\"architectures\":[\"T5ForConditionalGeneration\"],"             \
    "\"vocab_size\":" #v ",\"d_model\":" #d ",\"d_kv\":" #kv ",\"d_ff\":" #ff                 \
    ",\"num_layers\":" #l ",\"num_decoder_layers\":" #l ",\"num_heads\":" #nh                  \
    ",\"relative_attention_num_buckets\":32,\"relative_attention_max_distance\":128,"         \
    "\"layer_norm_epsilon\":1e-6,\"feed_forward_proj\":\"relu\",\"tie_word_embeddings\":true}"
static const struct ia_zoo_preset t5_presets[] = {
    {"tiny", "", T5_CFG(1024, 64, 16, 128, 2, 4)},
    {"small", "t5-small", T5_CFG(32128, 512, 64, 2048, 6, 8)},
    {"base", "t5-base", T5_CFG(32128, 768, 64, 3072, 12, 12)},
};

/* clip: CLIPModel with nested text_config / vision_config (eos_token_id 2:
 * the OpenAI configs' argmax pooling). */
#define CLIP_CFG(tv, th, ti, tl, tn, tp, vh, vi, vl, vn, img, ps, proj)                       \
    "{\"model_type\":\"clip\",\"architectures\":[\"CLIPModel\"],\"projection_dim\":" #proj     \
    ",\"logit_scale_init_value\":2.6592,\"text_config\":{\"vocab_size\":" #tv                  \
    ",\"hidden_size\":" #th ",\"intermediate_size\":" #ti ",\"num_hidden_layers\":" #tl       \
    ",\"num_attention_heads\":" #tn ",\"max_position_embeddings\":" #tp                       \
    ",\"hidden_act\":\"quick_gelu\",\"layer_norm_eps\":1e-5,\"eos_token_id\":2},"             \
    "\"vision_config\":{\"hidden_size\":" #vh ",\"intermediate_size\":" #vi                   \
    ",\"num_hidden_layers\":" #vl ",\"num_attention_heads\":" #vn ",\"image_size\":" #img     \
    ",\"patch_size\":" #ps ",\"num_channels\":3,\"hidden_act\":\"quick_gelu\","               \
    "\"layer_norm_eps\":1e-5}}"
static const struct ia_zoo_preset clip_presets[] = {
    {"tiny", "", CLIP_CFG(1024, 64, 128, 2, 2, 16, 64, 128, 2, 2, 32, 8, 32)},
    {"small", "openai/clip-vit-base-patch32",
     CLIP_CFG(49408, 512, 2048, 12, 8, 77, 768, 3072, 12, 12, 224, 32, 512)},
    {"base", "openai/clip-vit-base-patch16",
     CLIP_CFG(49408, 512, 2048, 12, 8, 77, 768, 3072, 12, 12, 224, 16, 512)},
};

/* whisper: the small preset is openai/whisper-tiny (tiny is a test size). */
#define WHISPER_CFG(v, mel, d, l, nh, ff, src, tgt)                                           \
    "{\"model_type\":\"whisper\",\"architectures\":[\"WhisperForConditionalGeneration\"],"   \
    "\"vocab_size\":" #v ",\"num_mel_bins\":" #mel ",\"d_model\":" #d                         \
    ",\"encoder_layers\":" #l ",\"encoder_attention_heads\":" #nh ",\"decoder_layers\":" #l   \
    ",\"decoder_attention_heads\":" #nh ",\"encoder_ffn_dim\":" #ff ",\"decoder_ffn_dim\":" #ff \
    ",\"max_source_positions\":" #src ",\"max_target_positions\":" #tgt                       \
    ",\"activation_function\":\"gelu\",\"scale_embedding\":false}"
static const struct ia_zoo_preset whisper_presets[] = {
    {"tiny", "", WHISPER_CFG(1024, 16, 64, 2, 2, 128, 16, 32)},
    {"small", "openai/whisper-tiny", WHISPER_CFG(51865, 80, 384, 4, 6, 1536, 1500, 448)},
    {"base", "openai/whisper-base", WHISPER_CFG(51865, 80, 512, 6, 8, 2048, 1500, 448)},
};

/* wav2vec2: base sizes; small is base's CTC fine-tune (the same encoder
 * plus a 32-letter head: no smaller public wav2vec2 exists). */
#define W2V_BASE_CONV                                                                          \
    "\"conv_dim\":[512,512,512,512,512,512,512],\"conv_kernel\":[10,3,3,3,3,2,2],"             \
    "\"conv_stride\":[5,2,2,2,2,2,2],\"conv_bias\":false,\"feat_extract_norm\":\"group\","     \
    "\"feat_extract_activation\":\"gelu\",\"hidden_size\":768,\"num_hidden_layers\":12,"      \
    "\"num_attention_heads\":12,\"intermediate_size\":3072,\"hidden_act\":\"gelu\","          \
    "\"layer_norm_eps\":1e-5,\"num_conv_pos_embeddings\":128,"                                 \
    "\"num_conv_pos_embedding_groups\":16,\"do_stable_layer_norm\":false"
static const struct ia_zoo_preset wav2vec2_presets[] = {
    {"tiny", "",
     "{\"model_type\":\"wav2vec2\",\"architectures\":[\"Wav2Vec2Model\"],"
     "\"conv_dim\":[32,32,32],\"conv_kernel\":[10,3,3],\"conv_stride\":[5,2,2],"
     "\"conv_bias\":false,\"feat_extract_norm\":\"group\",\"feat_extract_activation\":\"gelu\","
     "\"hidden_size\":64,\"num_hidden_layers\":2,\"num_attention_heads\":2,"
     "\"intermediate_size\":128,\"hidden_act\":\"gelu\",\"layer_norm_eps\":1e-5,"
     "\"num_conv_pos_embeddings\":8,\"num_conv_pos_embedding_groups\":4,"
     "\"do_stable_layer_norm\":false}"},
    {"small", "facebook/wav2vec2-base-960h",
     "{\"model_type\":\"wav2vec2\",\"architectures\":[\"Wav2Vec2ForCTC\"],\"vocab_size\":32,"
     W2V_BASE_CONV "}"},
    {"base", "facebook/wav2vec2-base",
     "{\"model_type\":\"wav2vec2\",\"architectures\":[\"Wav2Vec2Model\"]," W2V_BASE_CONV "}"},
};

static const char *const t5_types[] = {"t5", NULL};
static const char *const clip_types[] = {"clip", NULL};
static const char *const whisper_types[] = {"whisper", NULL};
static const char *const wav2vec2_types[] = {"wav2vec2", NULL};
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
    {"t5", "T5 encoder-decoder (T5Model, T5ForConditionalGeneration, T5EncoderModel)", 1,
     t5_types, t5_presets, N_OF(t5_presets), 0, zoo_build_t5},
    {"clip", "CLIP text + vision towers (CLIPModel)", 1, clip_types, clip_presets,
     N_OF(clip_presets), 0, zoo_build_clip},
    {"clap", "CLAP audio-text (ClapModel): HTSAT Swin audio tower + RoBERTa text tower", 1,
     clap_types, clap_presets, N_OF(clap_presets), 0, zoo_build_clap},
    {"whisper", "Whisper speech encoder-decoder (WhisperModel, ...ForConditionalGeneration)",
     1, whisper_types, whisper_presets, N_OF(whisper_presets), 0, zoo_build_whisper},
    {"wav2vec2", "wav2vec 2.0 speech encoder (Wav2Vec2Model, Wav2Vec2ForCTC)", 1,
     wav2vec2_types, wav2vec2_presets, N_OF(wav2vec2_presets), 0, zoo_build_wav2vec2},
    {"llava", "LLaVA (LlavaForConditionalGeneration): CLIP vision, MLP projector, Llama", 1,
     llava_types, llava_presets, N_OF(llava_presets), 0, zoo_build_llava},
    {"llava_next", "LLaVA-NeXT", 0, none, NULL, 0, 0, NULL},
    {"xclip", "X-CLIP video-text (XCLIPModel): frame CLIP + MIT + prompt generator", 1,
     xclip_types, xclip_presets, N_OF(xclip_presets), 0, zoo_build_xclip},
    {"detr", "DETR object detection (DetrForObjectDetection): ResNet + transformer", 1,
     detr_types, detr_presets, N_OF(detr_presets), 0, zoo_build_detr},
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
    char list[512] = "";
    size_t at = 0;
    for (size_t i = 0; i < N_OF(archs) && at < sizeof list; i++)
        if (archs[i].implemented)
            at += (size_t)snprintf(list + at, sizeof list - at, "%s%s", at ? ", " : "",
                                   archs[i].name);
    ia_error_set(IA_EUNSUPPORTED, "%s: model_type '%s'%s%s%s %s%s%s", ia_hf_config_label(cfg), mt,
                 arch ? " (" : "", arch ? arch : "", arch ? ")" : "",
                 a ? "is a benchmark family the zoo does not build yet"
                   : "is not supported (supported: ",
                 a ? "" : list, a ? "" : ")");
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
