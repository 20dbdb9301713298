/* CLAP's HTSAT audio tower (arch_clap_audio.c), used by arch_clap.c. */
#ifndef IA_ARCH_CLAP_H
#define IA_ARCH_CLAP_H

#include "zoo_internal.h"

#define CLAP_MAX_STAGES 8

/* A ClapAudioConfig, read and checked by zoo_clap_audio_config. */
struct zoo_clap_audio {
    int64_t mel, spec, window, frames, channels; /* input [B, channels, frames, mel] */
    int64_t kh, kw, sh, sw;                      /* patch_size, patch_stride */
    int64_t embed, n_stages, depths[CLAP_MAX_STAGES], heads[CLAP_MAX_STAGES];
    int64_t hidden, proj; /* hidden_size (= the last stage's width), projection_dim */
    int64_t freq_ratio;
    double eps, mlp_ratio;
    int qkv_bias, patch_norm;
    char act[64], proj_act[64];
};

/* Reads `ac` (ClapAudioConfig keys; HF's defaults for absent ones) and
 * refuses what HF's ClapAudioModel cannot run or the zoo does not build
 * (enable_fusion). Fails g; returns its status. */
int zoo_clap_audio_config(struct ia_zb *g, const struct ia_hf_config *ac, struct zoo_clap_audio *a);

/* The audio encoder over `features` [B, channels, frames, mel] with the
 * weights under `prefix` ("audio_model.audio_encoder."): returns the
 * pooler_output [B, hidden]; *last_hidden (optional) gets HF's reshaped
 * last_hidden_state [B, hidden, c_freq_bin, n]. */
const char *zoo_clap_audio_tower(struct ia_zb *g, const struct zoo_clap_audio *a,
                                 const char *prefix, const char *features, const char **last_hidden,
                                 int64_t last_dims[4]);

#endif
