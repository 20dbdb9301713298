/*
 * CLAP's audio tower (HF transformers' ClapAudioEncoder, HTSAT) for the
 * unfused models (laion/clap-htsat-unfused), in the order HF runs it:
 *
 *  1. input_features [B, C, T, F] (ClapFeatureExtractor: C = 1, F =
 *     num_mel_bins); BatchNorm2d over the mel bins (running statistics).
 *  2. reshape_mel2img: bicubic resize (align_corners, a = -0.75: ONNX
 *     Resize cubic matches PyTorch's bicubic) of time to spec_size *
 *     freq_ratio when T is shorter, then of mel to spec_size / freq_ratio
 *     when F is (HF resizes time back to T there, and so do we), then the
 *     reshape/transpose that stacks freq_ratio time chunks along frequency
 *     into a spec_size x spec_size image.
 *  3. patch embedding: Conv(patch_size, patch_stride, HF's padding),
 *     flatten to tokens, LayerNorm.
 *  4. Swin stages: per block pre-LN window attention (cyclic shift by
 *     window/2 on odd blocks; window padding, shift masks of -100 and the
 *     relative position index are computed here at build time, the bias
 *     table is gathered in-graph from the HF tensor), MLP; patch merging
 *     (2x2 neighbours → LayerNorm → Linear 4C→2C) between stages.
 *  5. LayerNorm, then HF's regrouping of the tokens into
 *     [B, C, c_freq_bin, n] (last_hidden_state) and the mean over it
 *     (pooler_output).
 *
 * The time length T is fixed at build time (HF's feature extractor always
 * gives 1001 frames: 10 s at 48 kHz, hop 480): the zoo key num_frames,
 * default min(1001, spec_size * freq_ratio).
 *
 * Refused: enable_fusion (the fused models' is_longer path: AFF block and
 * mel_conv2d), and configs HF cannot run either (a stage smaller than the
 * window, an image that is not spec_size square, hidden_size unequal to the
 * last stage's width), each naming the key.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "arch_clap.h"

/* `key` as an int or an [a, b] pair (HF accepts both for patch sizes). */
static int cfg_pair(struct ia_zb *g, const struct ia_hf_config *c, const char *key, int64_t dflt0,
                    int64_t dflt1, int64_t *a, int64_t *b) {
    if (ia_zb_status(g)) return 0;
    if (!ia_hf_config_has(c, key)) {
        *a = dflt0;
        *b = dflt1;
        return 1;
    }
    int64_t n = ia_hf_config_len(c, key);
    if (n < 0) {
        if (!zoo_cfg_int(g, c, key, a)) return 0;
        *b = *a;
        return 1;
    }
    if (n != 2) {
        ia_zb_fail(g, IA_EFORMAT, "%s: key '%s' has %lld entries, not 1 or 2",
                   ia_hf_config_label(c), key, (long long)n);
        return 0;
    }
    int rc = ia_hf_config_int_at(c, key, 0, a);
    if (!rc) rc = ia_hf_config_int_at(c, key, 1, b);
    if (rc) {
        ia_zb_fail(g, rc, "%s", ia_error_msg());
        return 0;
    }
    return 1;
}

/* An integer list key of at most CLAP_MAX_STAGES entries (HF's default when absent). */
static int cfg_list(struct ia_zb *g, const struct ia_hf_config *c, const char *key,
                    const int64_t *dflt, int64_t n_dflt, int64_t *out, int64_t *n) {
    if (ia_zb_status(g)) return 0;
    if (!ia_hf_config_has(c, key)) {
        memcpy(out, dflt, (size_t)n_dflt * sizeof *out);
        *n = n_dflt;
        return 1;
    }
    *n = ia_hf_config_len(c, key);
    if (*n < 1 || *n > CLAP_MAX_STAGES) {
        ia_zb_fail(g, IA_EFORMAT, "%s: key '%s' must be a list of 1 to %d integers",
                   ia_hf_config_label(c), key, CLAP_MAX_STAGES);
        return 0;
    }
    for (int64_t i = 0; i < *n; i++) {
        int rc = ia_hf_config_int_at(c, key, (size_t)i, &out[i]);
        if (rc) {
            ia_zb_fail(g, rc, "%s", ia_error_msg());
            return 0;
        }
        if (out[i] < 1 || out[i] > 4096) {
            ia_zb_fail(g, IA_ERANGE, "%s: key '%s' entry %lld is %lld, outside [1, 4096]",
                       ia_hf_config_label(c), key, (long long)i, (long long)out[i]);
            return 0;
        }
    }
    return 1;
}

static int copy_str(struct ia_zb *g, const struct ia_hf_config *c, const char *key,
                    const char *dflt, char *dst, size_t cap) {
    const char *s = dflt;
    if (!zoo_cfg_str_or(g, c, key, dflt, &s)) return 0;
    if (strlen(s) >= cap) {
        ia_zb_fail(g, IA_ERANGE, "%s: key '%s' is too long", ia_hf_config_label(c), key);
        return 0;
    }
    memcpy(dst, s, strlen(s) + 1);
    return 1;
}

int zoo_clap_audio_config(struct ia_zb *g, const struct ia_hf_config *ac,
                          struct zoo_clap_audio *a) {
    const char *label = ia_hf_config_label(ac);
    static const int64_t d_depths[4] = {2, 2, 6, 2}, d_heads[4] = {4, 8, 16, 32};
    int64_t n_heads = 0;
    int fusion = 0, flatten = 1;
    memset(a, 0, sizeof *a);
    if (!(zoo_cfg_bool_or(g, ac, "enable_fusion", 0, &fusion))) return ia_zb_status(g);
    if (fusion)
        return ia_zb_fail(g, IA_EUNSUPPORTED,
                          "%s: enable_fusion true (the fused CLAP models' "
                          "is_longer feature fusion: AFF block and mel_conv2d) is not supported; "
                          "unfused models such as laion/clap-htsat-unfused convert",
                          label);
    if (!(zoo_cfg_int_or(g, ac, "num_mel_bins", 64, &a->mel) &&
          zoo_cfg_int_or(g, ac, "spec_size", 256, &a->spec) &&
          zoo_cfg_int_or(g, ac, "window_size", 8, &a->window) &&
          zoo_cfg_int_or(g, ac, "patch_embed_input_channels", 1, &a->channels) &&
          zoo_cfg_int_or(g, ac, "patch_embeds_hidden_size", 96, &a->embed) &&
          zoo_cfg_int_or(g, ac, "hidden_size", 768, &a->hidden) &&
          zoo_cfg_int_or(g, ac, "projection_dim", 512, &a->proj) &&
          zoo_cfg_float_or(g, ac, "layer_norm_eps", 1e-5, &a->eps) &&
          zoo_cfg_float_or(g, ac, "mlp_ratio", 4.0, &a->mlp_ratio) &&
          zoo_cfg_bool_or(g, ac, "qkv_bias", 1, &a->qkv_bias) &&
          zoo_cfg_bool_or(g, ac, "enable_patch_layer_norm", 1, &a->patch_norm) &&
          zoo_cfg_bool_or(g, ac, "flatten_patch_embeds", 1, &flatten) &&
          copy_str(g, ac, "hidden_act", "gelu", a->act, sizeof a->act) &&
          copy_str(g, ac, "projection_hidden_act", "relu", a->proj_act, sizeof a->proj_act) &&
          cfg_pair(g, ac, "patch_size", 4, 4, &a->kh, &a->kw) &&
          cfg_pair(g, ac, "patch_stride", 4, 4, &a->sh, &a->sw) &&
          cfg_list(g, ac, "depths", d_depths, 4, a->depths, &a->n_stages) &&
          cfg_list(g, ac, "num_attention_heads", d_heads, 4, a->heads, &n_heads) &&
          zoo_cfg_range(g, ac, "num_mel_bins", a->mel, 1, 4096) &&
          zoo_cfg_range(g, ac, "spec_size", a->spec, a->mel, 8192) &&
          zoo_cfg_range(g, ac, "window_size", a->window, 1, 64) &&
          zoo_cfg_range(g, ac, "patch_embed_input_channels", a->channels, 1, 64) &&
          zoo_cfg_range(g, ac, "patch_embeds_hidden_size", a->embed, 1, 1 << 14) &&
          zoo_cfg_range(g, ac, "projection_dim", a->proj, 1, 1 << 16) &&
          zoo_cfg_range(g, ac, "patch_size", a->kh, 1, a->spec) &&
          zoo_cfg_range(g, ac, "patch_size", a->kw, 1, a->spec) &&
          zoo_cfg_range(g, ac, "patch_stride", a->sh, 1, a->kh) &&
          zoo_cfg_range(g, ac, "patch_stride", a->sw, 1, a->kw)))
        return ia_zb_status(g);
    if (!flatten)
        return ia_zb_fail(g, IA_EUNSUPPORTED, "%s: flatten_patch_embeds false is not supported",
                          label);
    if (n_heads != a->n_stages)
        return ia_zb_fail(g, IA_EINVAL, "%s: depths has %lld stages but num_attention_heads %lld",
                          label, (long long)a->n_stages, (long long)n_heads);
    if (!(a->mlp_ratio > 0 && a->mlp_ratio <= 64))
        return ia_zb_fail(g, IA_ERANGE, "%s: key 'mlp_ratio' is %g, outside (0, 64]", label,
                          a->mlp_ratio);
    a->freq_ratio = a->spec / a->mel;
    int64_t width = a->embed << (a->n_stages - 1);
    if (width > (1 << 16))
        return ia_zb_fail(g, IA_ERANGE, "%s: the last stage is %lld wide (too big)", label,
                          (long long)width);
    if (a->hidden != width)
        return ia_zb_fail(g, IA_EINVAL,
                          "%s: hidden_size %lld must equal the last stage's width "
                          "patch_embeds_hidden_size * 2^(stages-1) = %lld (HF's audio projection "
                          "reads it)",
                          label, (long long)a->hidden, (long long)width);
    for (int64_t i = 0; i < a->n_stages; i++)
        if ((a->embed << i) % a->heads[i])
            return ia_zb_fail(g, IA_EINVAL,
                              "%s: stage %lld width %lld is not a multiple of "
                              "num_attention_heads[%lld] = %lld",
                              label, (long long)i, (long long)(a->embed << i), (long long)i,
                              (long long)a->heads[i]);
    /* The zoo's fixed input length (see the top of the file). */
    int64_t spec_w = a->spec * a->freq_ratio, spec_h = a->spec / a->freq_ratio;
    if (!(zoo_cfg_int_or(g, ac, "num_frames", spec_w < 1001 ? spec_w : 1001, &a->frames) &&
          zoo_cfg_range(g, ac, "num_frames", a->frames, 1, spec_w)))
        return ia_zb_status(g);
    if (a->mel > spec_h)
        return ia_zb_fail(g, IA_EINVAL,
                          "%s: num_mel_bins %lld is more than spec_size / "
                          "freq_ratio = %lld (HF refuses it too)",
                          label, (long long)a->mel, (long long)spec_h);
    /* HF's reshape_mel2img: time is resized to spec_w, then (if mel is
     * short) both back to (T, spec_h); the result must be spec x spec. */
    int64_t t2 = a->mel < spec_h ? a->frames : spec_w, f2 = a->mel < spec_h ? spec_h : a->mel;
    if (t2 % a->freq_ratio || f2 * a->freq_ratio != a->spec || t2 / a->freq_ratio != a->spec)
        return ia_zb_fail(g, IA_EINVAL,
                          "%s: %lld frames x %lld mel bins give a %lldx%lld "
                          "spectrogram image, not spec_size %lld square (HF refuses it too)",
                          label, (long long)a->frames, (long long)a->mel,
                          (long long)(f2 * a->freq_ratio), (long long)(t2 / a->freq_ratio),
                          (long long)a->spec);
    /* Patch grid: HF's padding, and every stage halving it exactly. */
    int64_t ph = (a->kh - a->sh) / 2, pw = (a->kw - a->sw) / 2;
    int64_t gh = a->spec / a->sh, gw = a->spec / a->sw;
    if ((a->spec + 2 * ph - a->kh) / a->sh + 1 != gh ||
        (a->spec + 2 * pw - a->kw) / a->sw + 1 != gw)
        return ia_zb_fail(g, IA_EINVAL,
                          "%s: patch_size and patch_stride do not tile spec_size "
                          "%lld into a %lldx%lld grid",
                          label, (long long)a->spec, (long long)gh, (long long)gw);
    int64_t div = (int64_t)1 << (a->n_stages - 1);
    if (gh % div || gw % div)
        return ia_zb_fail(g, IA_EINVAL,
                          "%s: the %lldx%lld patch grid does not halve evenly "
                          "over %lld stages",
                          label, (long long)gh, (long long)gw, (long long)a->n_stages);
    for (int64_t i = 0; i < a->n_stages; i++) {
        int64_t m = (gh >> i) < (gw >> i) ? gh >> i : gw >> i;
        if (m < a->window)
            return ia_zb_fail(g, IA_EINVAL,
                              "%s: stage %lld is %lldx%lld, smaller than "
                              "window_size %lld (HF's relative position bias cannot fit it)",
                              label, (long long)i, (long long)(gh >> i), (long long)(gw >> i),
                              (long long)a->window);
    }
    int64_t fs = a->spec / div / a->sh;
    if (fs / a->freq_ratio < 1 || fs % (fs / a->freq_ratio))
        return ia_zb_fail(g, IA_EINVAL,
                          "%s: %lld final frequency rows do not group into "
                          "freq_ratio %lld bins (HF's latent reshape)",
                          label, (long long)fs, (long long)a->freq_ratio);
    return ia_zb_status(g);
}

/* ---- graph pieces --------------------------------------------------------------- */

static const char *reshape(struct ia_zb *g, const char *x, size_t rank, const int64_t *shape) {
    return ia_zb_reshape(g, x, rank, shape);
}

/* torch.roll(x, shift, axis) for a static length n: out[i] = x[(i - shift) mod n]. */
static const char *roll(struct ia_zb *g, const char *x, int64_t axis, int64_t n, int64_t shift) {
    int64_t s = ((shift % n) + n) % n;
    if (!s) return x;
    const char *cat[2] = {ia_zb_slice(g, x, axis, n - s, n), ia_zb_slice(g, x, axis, 0, n - s)};
    struct ia_zb_attr a = IA_ZB_INT("axis", axis);
    return ia_zb_op(g, "Concat", 2, cat, 1, &a);
}

/* HF's get_attn_mask for a padded hp x wp map: regions split at -window
 * and -shift; tokens of different regions in one window get -100. As
 * [nW, 1, N, N] to broadcast over heads. */
static const char *shift_mask(struct ia_zb *g, int64_t hp, int64_t wp, int64_t win, int64_t shift,
                              const char *name) {
    int64_t nwh = hp / win, nww = wp / win, n = win * win, nw = nwh * nww;
    uint64_t total = (uint64_t)nw * (uint64_t)n * (uint64_t)n;
    if (total > ((uint64_t)1 << 24)) { /* base: 64 windows of 64 tokens, 262144 */
        ia_zb_fail(g, IA_ERANGE, "clap: shifted-window mask of %llu values is too big",
                   (unsigned long long)total);
        return "";
    }
    float *m = ia_malloc(total * sizeof *m);
    int *region = ia_malloc((size_t)n * sizeof *region);
    if (!m || !region) {
        ia_free(m);
        ia_free(region);
        ia_zb_fail(g, IA_ENOMEM, "clap: out of memory for the shifted-window mask");
        return "";
    }
    for (int64_t wi = 0; wi < nw; wi++) {
        for (int64_t t = 0; t < n; t++) {
            int64_t y = (wi / nww) * win + t / win, x = (wi % nww) * win + t % win;
            int ry = y < hp - win ? 0 : y < hp - shift ? 1 : 2;
            int rx = x < wp - win ? 0 : x < wp - shift ? 1 : 2;
            region[t] = ry * 3 + rx;
        }
        float *o = m + (size_t)wi * (size_t)n * (size_t)n;
        for (int64_t i = 0; i < n; i++)
            for (int64_t j = 0; j < n; j++) o[i * n + j] = region[i] == region[j] ? 0.0f : -100.0f;
    }
    int64_t dims[4] = {nw, 1, n, n};
    const char *r = ia_zb_const_f32(g, name, 4, dims, m);
    ia_free(m);
    ia_free(region);
    return r;
}

/* Swin's relative_position_index [N*N] for a win x win window (window
 * 64 at most: 16M entries). */
static const char *rel_index(struct ia_zb *g, int64_t win) {
    int64_t n = win * win, span = 2 * win - 1;
    int64_t *idx = ia_malloc((size_t)(n * n) * sizeof *idx);
    if (!idx) {
        ia_zb_fail(g, IA_ENOMEM, "clap: out of memory");
        return "";
    }
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < n; j++)
            idx[i * n + j] = (i / win - j / win + win - 1) * span + (i % win - j % win + win - 1);
    const char *ix = ia_zb_const_i64(g, (size_t)(n * n), idx);
    ia_free(idx);
    return ix;
}

/* The relative position bias [heads, N, N] gathered from the HF table
 * [(2W-1)^2, heads] at the index `ix` (rel_index). */
static const char *rel_bias(struct ia_zb *g, const char *table_name, int64_t win, int64_t heads,
                            const char *ix) {
    int64_t n = win * win, span = 2 * win - 1;
    int64_t td[2] = {span * span, heads};
    const char *table = ia_zb_weight(g, table_name, IA_ZB_INIT_NORMAL, IA_ZB_AS_IS, 2, td);
    const char *in[2] = {table, ix};
    struct ia_zb_attr ax0 = IA_ZB_INT("axis", 0);
    const char *b = ia_zb_op(g, "Gather", 2, in, 1, &ax0); /* [N*N, heads] */
    b = reshape(g, b, 3, (int64_t[]){n, n, heads});
    return ia_zb_transpose(g, b, 3, (int64_t[]){2, 0, 1});
}

/* One Swin block (ClapAudioLayer) over x [B, h*w, dim]. */
static const char *swin_block(struct ia_zb *g, const struct zoo_clap_audio *a, const char *p,
                              int64_t dim, int64_t heads, int64_t h, int64_t w, int64_t shift,
                              const char *mask, const char *rel_ix, const char *x) {
    char n[512];
#define NM(s) (snprintf(n, sizeof n, "%s%s", p, s), n)
    const int64_t win = a->window, hd = dim / heads, N = win * win;
    const int64_t pb = (win - h % win) % win, pr = (win - w % win) % win;
    const int64_t hp = h + pb, wp = w + pr, nwh = hp / win, nww = wp / win;
    const char *y = ia_zb_layernorm(g, NM("layernorm_before"), dim, a->eps, x);
    y = reshape(g, y, 4, (int64_t[]){0, h, w, dim});
    if (pb || pr) {
        const char *pin[2] = {y, ia_zb_const_i64(g, 8, (int64_t[]){0, 0, 0, 0, 0, pb, pr, 0})};
        y = ia_zb_op(g, "Pad", 2, pin, 0, NULL);
    }
    y = roll(g, roll(g, y, 1, hp, -shift), 2, wp, -shift);
    y = reshape(g, y, 6, (int64_t[]){0, nwh, win, nww, win, dim});
    y = ia_zb_transpose(g, y, 6, (int64_t[]){0, 1, 3, 2, 4, 5});
    y = reshape(g, y, 4, (int64_t[]){0, nwh * nww, N, dim}); /* [B, nW, N, dim] */

    const int64_t split[5] = {0, 0, 0, heads, hd};
    const char *q =
        ia_zb_linear(g, NM("attention.self.query"), dim, dim, a->qkv_bias, IA_ZB_TRANSPOSED, y);
    const char *k =
        ia_zb_linear(g, NM("attention.self.key"), dim, dim, a->qkv_bias, IA_ZB_TRANSPOSED, y);
    const char *v =
        ia_zb_linear(g, NM("attention.self.value"), dim, dim, a->qkv_bias, IA_ZB_TRANSPOSED, y);
    q = ia_zb_transpose(g, reshape(g, q, 5, split), 5, (int64_t[]){0, 1, 3, 2, 4});
    k = ia_zb_transpose(g, reshape(g, k, 5, split), 5, (int64_t[]){0, 1, 3, 4, 2});
    v = ia_zb_transpose(g, reshape(g, v, 5, split), 5, (int64_t[]){0, 1, 3, 2, 4});
    const char *s = ia_zb_op2(g, "Div", ia_zb_op2(g, "MatMul", q, k),
                              ia_zb_scalar_f32(g, (float)sqrt((double)hd)));
    s = ia_zb_op2(
        g, "Add", s,
        rel_bias(g, NM("attention.self.relative_position_bias_table"), win, heads, rel_ix));
    if (shift) s = ia_zb_op2(g, "Add", s, mask);
    struct ia_zb_attr sa = IA_ZB_INT("axis", -1);
    s = ia_zb_op(g, "Softmax", 1, &s, 1, &sa);
    const char *ctx =
        ia_zb_transpose(g, ia_zb_op2(g, "MatMul", s, v), 5, (int64_t[]){0, 1, 3, 2, 4});
    ctx = reshape(g, ctx, 4, (int64_t[]){0, 0, 0, dim});
    ctx = ia_zb_linear(g, NM("attention.output.dense"), dim, dim, 1, IA_ZB_TRANSPOSED, ctx);

    ctx = reshape(g, ctx, 6, (int64_t[]){0, nwh, nww, win, win, dim});
    ctx = ia_zb_transpose(g, ctx, 6, (int64_t[]){0, 1, 3, 2, 4, 5});
    ctx = reshape(g, ctx, 4, (int64_t[]){0, hp, wp, dim});
    ctx = roll(g, roll(g, ctx, 1, hp, shift), 2, wp, shift);
    if (pb) ctx = ia_zb_slice(g, ctx, 1, 0, h);
    if (pr) ctx = ia_zb_slice(g, ctx, 2, 0, w);
    x = ia_zb_op2(g, "Add", x, reshape(g, ctx, 3, (int64_t[]){0, h * w, dim}));

    const int64_t inter = (int64_t)(a->mlp_ratio * (double)dim);
    y = ia_zb_layernorm(g, NM("layernorm_after"), dim, a->eps, x);
    y = ia_zb_activation(
        g, a->act, "hidden_act",
        ia_zb_linear(g, NM("intermediate.dense"), dim, inter, 1, IA_ZB_TRANSPOSED, y));
    y = ia_zb_linear(g, NM("output.dense"), inter, dim, 1, IA_ZB_TRANSPOSED, y);
    return ia_zb_op2(g, "Add", x, y);
#undef NM
}

/* ClapAudioPatchMerging: x [B, h*w, dim] → [B, h*w/4, 2*dim]; the 2x2
 * neighbours concatenated in HF's order (0,0), (1,0), (0,1), (1,1). */
static const char *patch_merge(struct ia_zb *g, const char *p, int64_t dim, int64_t h, int64_t w,
                               const char *x) {
    char n[512];
    x = reshape(g, x, 6, (int64_t[]){0, h / 2, 2, w / 2, 2, dim});
    x = ia_zb_transpose(g, x, 6, (int64_t[]){0, 1, 3, 4, 2, 5});
    x = reshape(g, x, 3, (int64_t[]){0, (h / 2) * (w / 2), 4 * dim});
    snprintf(n, sizeof n, "%snorm", p);
    x = ia_zb_layernorm(g, n, 4 * dim, 1e-5, x); /* nn.LayerNorm's default eps */
    snprintf(n, sizeof n, "%sreduction", p);
    return ia_zb_linear(g, n, 4 * dim, 2 * dim, 0, IA_ZB_TRANSPOSED, x);
}

static const char *resize_to(struct ia_zb *g, const char *x, int64_t t, int64_t f) {
    const char *sz[2] = {ia_zb_slice(g, ia_zb_op1(g, "Shape", x), 0, 0, 2),
                         ia_zb_const_i64(g, 2, (int64_t[]){t, f})};
    struct ia_zb_attr ax0 = IA_ZB_INT("axis", 0);
    const char *in[4] = {x, "", "", ia_zb_op(g, "Concat", 2, sz, 1, &ax0)};
    struct ia_zb_attr at[4] = {{.name = "mode", .type = IA_ONNX_ATTR_STRING, .s = "cubic"},
                               {.name = "coordinate_transformation_mode",
                                .type = IA_ONNX_ATTR_STRING,
                                .s = "align_corners"},
                               IA_ZB_FLOAT("cubic_coeff_a", -0.75f),
                               IA_ZB_INT("exclude_outside", 0)};
    return ia_zb_op(g, "Resize", 4, in, 4, at);
}

const char *zoo_clap_audio_tower(struct ia_zb *g, const struct zoo_clap_audio *a,
                                 const char *prefix, const char *features, const char **last_hidden,
                                 int64_t last_dims[4]) {
    char n[512], p[256];
#define NM(s) (snprintf(n, sizeof n, "%s%s", prefix, s), n)
    const int64_t r = a->freq_ratio, spec_w = a->spec * r, spec_h = a->spec / r;
    /* BatchNorm2d over mel bins: HF transposes the bins into the channel axis. */
    const int64_t swap[4] = {0, 3, 2, 1};
    const char *x = ia_zb_transpose(g, features, 4, swap);
    x = ia_zb_transpose(g, ia_zb_frozen_batchnorm(g, NM("batch_norm"), a->mel, 1e-5, x), 4, swap);
    int64_t t = a->frames, f = a->mel;
    if (t < spec_w) x = resize_to(g, x, spec_w, f), t = spec_w;
    if (f < spec_h) x = resize_to(g, x, a->frames, spec_h), t = a->frames, f = spec_h;
    x = reshape(g, x, 4, (int64_t[]){0, a->channels * r, t / r, f});
    x = ia_zb_transpose(g, x, 4, (int64_t[]){0, 1, 3, 2});
    x = reshape(g, x, 4, (int64_t[]){0, a->channels, f * r, t / r}); /* [B, C, spec, spec] */

    int64_t wd[4] = {a->embed, a->channels, a->kh, a->kw};
    const char *cin[3] = {
        x, ia_zb_weight(g, NM("patch_embed.proj.weight"), IA_ZB_INIT_NORMAL, IA_ZB_AS_IS, 4, wd),
        ia_zb_weight(g, NM("patch_embed.proj.bias"), IA_ZB_INIT_ZEROS, IA_ZB_AS_IS, 1, &a->embed)};
    int64_t ks[2] = {a->kh, a->kw}, st[2] = {a->sh, a->sw};
    int64_t ph = (a->kh - a->sh) / 2, pw = (a->kw - a->sw) / 2, pads[4] = {ph, pw, ph, pw};
    struct ia_zb_attr ca[3] = {IA_ZB_INTS("kernel_shape", ks, 2), IA_ZB_INTS("strides", st, 2),
                               IA_ZB_INTS("pads", pads, 4)};
    x = ia_zb_op(g, "Conv", 3, cin, 3, ca);
    x = ia_zb_transpose(g, reshape(g, x, 3, (int64_t[]){0, a->embed, -1}), 3, (int64_t[]){0, 2, 1});
    if (a->patch_norm) x = ia_zb_layernorm(g, NM("patch_embed.norm"), a->embed, 1e-5, x);

    int64_t h = a->spec / a->sh, w = a->spec / a->sw, dim = a->embed;
    const char *rel_ix = rel_index(g, a->window);
    for (int64_t i = 0; i < a->n_stages && !ia_zb_status(g); i++) {
        /* HF's set_shift_and_window_size: no shift once a stage fits one window. */
        int fits = (h < w ? h : w) <= a->window;
        int64_t shift = fits ? 0 : a->window / 2;
        int64_t hp = h + (a->window - h % a->window) % a->window;
        int64_t wp = w + (a->window - w % a->window) % a->window;
        char mname[64];
        snprintf(mname, sizeof mname, "clap_audio.stage%lld.shift_mask", (long long)i);
        /* Only odd blocks shift; a one-block stage needs no mask. */
        const char *mask =
            shift && a->depths[i] > 1 ? shift_mask(g, hp, wp, a->window, shift, mname) : NULL;
        for (int64_t j = 0; j < a->depths[i] && !ia_zb_status(g); j++) {
            snprintf(p, sizeof p, "%slayers.%lld.blocks.%lld.", prefix, (long long)i, (long long)j);
            x = swin_block(g, a, p, dim, a->heads[i], h, w, j % 2 ? shift : 0, mask, rel_ix, x);
        }
        if (i + 1 < a->n_stages) {
            snprintf(p, sizeof p, "%slayers.%lld.downsample.", prefix, (long long)i);
            x = patch_merge(g, p, dim, h, w, x);
            h /= 2, w /= 2, dim *= 2;
        }
    }
    x = ia_zb_layernorm(g, NM("norm"), dim, 1e-5, x); /* [B, h*w, dim] */
    /* HF regroups the tokens as (freq, time), then freq_ratio chunks of
     * frequency rows side by side in time; the pooler averages it all. */
    const int64_t fs = h, ts = w, cfb = fs / r;
    x = reshape(g, ia_zb_transpose(g, x, 3, (int64_t[]){0, 2, 1}), 5,
                (int64_t[]){0, dim, fs / cfb, cfb, ts});
    x = ia_zb_transpose(g, x, 5, (int64_t[]){0, 1, 3, 2, 4});
    x = reshape(g, x, 4, (int64_t[]){0, dim, cfb, (fs / cfb) * ts});
    if (last_hidden) *last_hidden = x;
    if (last_dims) {
        last_dims[0] = -1, last_dims[1] = dim, last_dims[2] = cfb, last_dims[3] = (fs / cfb) * ts;
    }
    int64_t axes[2] = {2, 3};
    struct ia_zb_attr ra[2] = {IA_ZB_INTS("axes", axes, 2), IA_ZB_INT("keepdims", 0)};
    return ia_zb_op(g, "ReduceMean", 1, &x, 2, ra);
#undef NM
}
