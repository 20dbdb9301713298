/*
 * Vision and multimodal building blocks for the zoo (DETR, X-CLIP, LLaVA,
 * CLAP): frozen batch norm, max pooling, CLIP-style pre-LN encoder layers
 * and patch embeddings with a class token, slices and reshapes. Standard
 * ONNX opset-17 ops only; contracts in include/ia/zoo.h.
 */
#include <stdio.h>
#include <string.h>

#include "zoo_internal.h"

const char *ia_zb_frozen_batchnorm(struct ia_zb *g, const char *prefix, int64_t ch, double eps,
                                   const char *x) {
    /* As HF's DetrFrozenBatchNorm2d: scale = w * rsqrt(var + eps), shift =
     * b - mean * scale, y = x * scale + shift. Kept as graph ops over the
     * four HF tensors (the engine folds them at load) so the initializers
     * keep their checkpoint names. */
    char n[512];
    const char *w, *b, *rm, *rv;
    snprintf(n, sizeof n, "%s.weight", prefix);
    w = ia_zb_weight(g, n, IA_ZB_INIT_ONES, IA_ZB_AS_IS, 1, &ch);
    snprintf(n, sizeof n, "%s.bias", prefix);
    b = ia_zb_weight(g, n, IA_ZB_INIT_ZEROS, IA_ZB_AS_IS, 1, &ch);
    snprintf(n, sizeof n, "%s.running_mean", prefix);
    rm = ia_zb_weight(g, n, IA_ZB_INIT_ZEROS, IA_ZB_AS_IS, 1, &ch);
    snprintf(n, sizeof n, "%s.running_var", prefix);
    rv = ia_zb_weight(g, n, IA_ZB_INIT_ONES, IA_ZB_AS_IS, 1, &ch);
    const char *shape = ia_zb_const_i64(g, 4, (int64_t[]){1, ch, 1, 1});
    const char *inv = ia_zb_op1(g, "Reciprocal",
                                ia_zb_op1(g, "Sqrt", ia_zb_op2(g, "Add", rv,
                                                               ia_zb_scalar_f32(g, (float)eps))));
    const char *scale = ia_zb_op2(g, "Mul", w, inv);
    const char *shift = ia_zb_op2(g, "Sub", b, ia_zb_op2(g, "Mul", rm, scale));
    const char *y = ia_zb_op2(g, "Mul", x, ia_zb_op2(g, "Reshape", scale, shape));
    return ia_zb_op2(g, "Add", y, ia_zb_op2(g, "Reshape", shift, shape));
}

const char *ia_zb_maxpool(struct ia_zb *g, int64_t kernel, int64_t stride, int64_t pad,
                          const char *x) {
    int64_t k[2] = {kernel, kernel}, s[2] = {stride, stride}, p[4] = {pad, pad, pad, pad};
    struct ia_zb_attr a[3] = {IA_ZB_INTS("kernel_shape", k, 2), IA_ZB_INTS("strides", s, 2),
                              IA_ZB_INTS("pads", p, 4)};
    return ia_zb_op(g, "MaxPool", 1, &x, 3, a);
}

const char *ia_zb_mha_block(struct ia_zb *g, const char *prefix, int64_t dim, int64_t heads,
                            const char *mask, const char *xq, const char *xkv) {
    char n[512];
    struct ia_zb_attn a = {.n_heads = heads, .n_kv_heads = heads,
                           .head_dim = heads > 0 ? dim / heads : 0, .mask = mask};
    snprintf(n, sizeof n, "%s.q_proj", prefix);
    a.q = ia_zb_linear(g, n, dim, dim, 1, IA_ZB_TRANSPOSED, xq);
    snprintf(n, sizeof n, "%s.k_proj", prefix);
    a.k = ia_zb_linear(g, n, dim, dim, 1, IA_ZB_TRANSPOSED, xkv);
    snprintf(n, sizeof n, "%s.v_proj", prefix);
    a.v = ia_zb_linear(g, n, dim, dim, 1, IA_ZB_TRANSPOSED, xkv);
    const char *ctx = ia_zb_attention(g, &a);
    snprintf(n, sizeof n, "%s.out_proj", prefix);
    return ia_zb_linear(g, n, dim, dim, 1, IA_ZB_TRANSPOSED, ctx);
}

const char *ia_zb_prenorm_layer(struct ia_zb *g, const char *prefix, int64_t dim, int64_t heads,
                                int64_t inter, double eps, const char *act, const char *mask,
                                const char *x) {
    char n[512], p[512];
    snprintf(n, sizeof n, "%slayer_norm1", prefix);
    const char *h = ia_zb_layernorm(g, n, dim, eps, x);
    snprintf(p, sizeof p, "%sself_attn", prefix);
    x = ia_zb_op2(g, "Add", x, ia_zb_mha_block(g, p, dim, heads, mask, h, h));
    snprintf(n, sizeof n, "%slayer_norm2", prefix);
    h = ia_zb_layernorm(g, n, dim, eps, x);
    snprintf(n, sizeof n, "%smlp.fc1", prefix);
    h = ia_zb_activation(g, act, "hidden_act",
                         ia_zb_linear(g, n, dim, inter, 1, IA_ZB_TRANSPOSED, h));
    snprintf(n, sizeof n, "%smlp.fc2", prefix);
    return ia_zb_op2(g, "Add", x, ia_zb_linear(g, n, inter, dim, 1, IA_ZB_TRANSPOSED, h));
}

const char *ia_zb_cls_patch_embed(struct ia_zb *g, const char *prefix, int64_t channels,
                                  int64_t dim, int64_t image, int64_t patch, const char *pixels) {
    char n[512];
    int64_t np = (image / patch) * (image / patch);
    snprintf(n, sizeof n, "%s.patch_embedding", prefix);
    const char *c = ia_zb_conv2d(g, n, channels, dim, patch, patch, 0, 0, pixels);
    int64_t shape[3] = {0, 0, -1}, perm[3] = {0, 2, 1};
    const char *f = ia_zb_op2(g, "Reshape", c, ia_zb_const_i64(g, 3, shape));
    struct ia_zb_attr tp = IA_ZB_INTS("perm", perm, 3);
    const char *patches = ia_zb_op(g, "Transpose", 1, &f, 1, &tp); /* [B, N, dim] */
    snprintf(n, sizeof n, "%s.class_embedding", prefix);
    const char *cls = ia_zb_weight(g, n, IA_ZB_INIT_NORMAL, IA_ZB_AS_IS, 1, &dim);
    const char *cat_shape[2] = {ia_zb_dim_of(g, pixels, 0),
                                ia_zb_const_i64(g, 2, (int64_t[]){1, dim})};
    struct ia_zb_attr ax0 = IA_ZB_INT("axis", 0), ax1 = IA_ZB_INT("axis", 1);
    const char *bshape = ia_zb_op(g, "Concat", 2, cat_shape, 1, &ax0);
    const char *cat[2] = {ia_zb_op2(g, "Expand", cls, bshape), patches};
    const char *x = ia_zb_op(g, "Concat", 2, cat, 1, &ax1);
    snprintf(n, sizeof n, "%s.position_embedding.weight", prefix);
    int64_t pd[2] = {np + 1, dim};
    return ia_zb_op2(g, "Add", x, ia_zb_weight(g, n, IA_ZB_INIT_NORMAL, IA_ZB_AS_IS, 2, pd));
}

const char *ia_zb_reduce_mean(struct ia_zb *g, const char *x, int64_t axis, int keepdims) {
    struct ia_zb_attr a[2] = {IA_ZB_INTS("axes", &axis, 1), IA_ZB_INT("keepdims", keepdims)};
    return ia_zb_op(g, "ReduceMean", 1, &x, 2, a);
}

const char *ia_zb_slice(struct ia_zb *g, const char *x, int64_t axis, int64_t start, int64_t end) {
    const char *in[4] = {x, ia_zb_const_i64(g, 1, &start), ia_zb_const_i64(g, 1, &end),
                         ia_zb_const_i64(g, 1, &axis)};
    return ia_zb_op(g, "Slice", 4, in, 0, NULL);
}

const char *ia_zb_reshape(struct ia_zb *g, const char *x, size_t rank, const int64_t *shape) {
    return ia_zb_op2(g, "Reshape", x, ia_zb_const_i64(g, rank, shape));
}

const char *ia_zb_transpose(struct ia_zb *g, const char *x, size_t rank, const int64_t *perm) {
    struct ia_zb_attr a = IA_ZB_INTS("perm", perm, rank);
    return ia_zb_op(g, "Transpose", 1, &x, 1, &a);
}

int zoo_cfg_subconfig(struct ia_zb *g, const struct ia_hf_config *c, const char *key,
                      struct ia_hf_config **out) {
    *out = NULL;
    if (ia_zb_status(g)) return 0;
    int rc = ia_hf_config_sub(c, key, out);
    if (rc) {
        ia_zb_fail(g, rc, "%s", ia_error_msg());
        return 0;
    }
    return 1;
}

int zoo_cfg_str_or(struct ia_zb *g, const struct ia_hf_config *c, const char *key,
                   const char *dflt, const char **out) {
    if (ia_zb_status(g)) return 0;
    if (ia_hf_config_str_or(c, key, dflt, out)) {
        ia_zb_fail(g, IA_EFORMAT, "%s", ia_error_msg());
        return 0;
    }
    return 1;
}

int zoo_cfg_bool_or(struct ia_zb *g, const struct ia_hf_config *c, const char *key, int dflt,
                    int *out) {
    if (ia_zb_status(g)) return 0;
    if (ia_hf_config_bool_or(c, key, dflt, out)) {
        ia_zb_fail(g, IA_EFORMAT, "%s", ia_error_msg());
        return 0;
    }
    return 1;
}
