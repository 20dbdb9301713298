"""Reference cases for DETR, X-CLIP, LLaVA and CLAP's text tower (the full
ClapModel and audio tower: zoo_ref_clap.py, called from here), used by
zoo_ref_models.py (which passes itself in as `h` for its helpers: save_case,
lin, ln, heads, merge, rnd, rms, rotate_half, causal_bias, NEG).

Each reference is a PyTorch forward pass written here from the HF
transformers modeling code (modeling_detr.py, modeling_x_clip.py,
modeling_llava.py + modeling_clip.py + modeling_llama.py, modeling_clap.py),
over tiny checkpoints stored under the HF tensor names.
"""
import math

import torch
import torch.nn.functional as F


def quick_gelu(x):
    return x * torch.sigmoid(1.702 * x)


def mha(h, sd, xq, xkv, p, nh, mask=None, bias=True, out="out_proj"):
    d = xq.shape[-1] // nh
    Q = h.heads(h.lin(sd, xq, p + ".q_proj", bias), nh, d)
    K = h.heads(h.lin(sd, xkv, p + ".k_proj", bias), nh, d)
    V = h.heads(h.lin(sd, xkv, p + ".v_proj", bias), nh, d)
    a = Q @ K.transpose(-1, -2) * d ** -0.5
    if mask is not None:
        a = a + mask
    return h.lin(sd, h.merge(torch.softmax(a, -1) @ V), p + "." + out)


def clip_layer(h, sd, x, p, nh, eps, mask=None, act=quick_gelu):
    y = h.ln(sd, x, p + "layer_norm1", eps)
    x = x + mha(h, sd, y, y, p + "self_attn", nh, mask)
    y = h.ln(sd, x, p + "layer_norm2", eps)
    return x + h.lin(sd, act(h.lin(sd, y, p + "mlp.fc1")), p + "mlp.fc2")


def clip_layer_sd(h, sd, p, H, I):
    for n in ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.out_proj"):
        sd[p + n + ".weight"] = h.rnd(H, H, scale=1 / math.sqrt(H))
        sd[p + n + ".bias"] = h.rnd(H, scale=0.1)
    sd[p + "mlp.fc1.weight"] = h.rnd(I, H, scale=1 / math.sqrt(H))
    sd[p + "mlp.fc1.bias"] = h.rnd(I, scale=0.1)
    sd[p + "mlp.fc2.weight"] = h.rnd(H, I, scale=1 / math.sqrt(I))
    sd[p + "mlp.fc2.bias"] = h.rnd(H, scale=0.1)
    for n in ("layer_norm1", "layer_norm2"):
        ln_sd(h, sd, p + n, H)


def ln_sd(h, sd, p, H):
    sd[p + ".weight"] = 1 + h.rnd(H, scale=0.1)
    sd[p + ".bias"] = h.rnd(H, scale=0.1)


def lin_sd(h, sd, p, o, i, bias=True):
    sd[p + ".weight"] = h.rnd(o, i, scale=1 / math.sqrt(i))
    if bias:
        sd[p + ".bias"] = h.rnd(o, scale=0.1)


def vis_embed_sd(h, sd, p, C, H, img, ps):
    sd[p + ".class_embedding"] = h.rnd(H, scale=0.5)
    sd[p + ".patch_embedding.weight"] = h.rnd(H, C, ps, ps, scale=1 / math.sqrt(C * ps * ps))
    sd[p + ".position_embedding.weight"] = h.rnd((img // ps) ** 2 + 1, H, scale=0.5)


def vis_embed(sd, px, p, ps):
    x = F.conv2d(px, sd[p + ".patch_embedding.weight"], stride=ps).flatten(2).transpose(1, 2)
    cls = sd[p + ".class_embedding"].expand(px.shape[0], 1, -1)
    return torch.cat([cls, x], 1) + sd[p + ".position_embedding.weight"]


# ---- LLaVA -----------------------------------------------------------------

def llava_cases(h, out):
    tc = {"model_type": "llama", "vocab_size": 113, "hidden_size": 32, "intermediate_size": 56,
          "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
          "max_position_embeddings": 64, "rms_norm_eps": 1e-6, "rope_theta": 10000.0,
          "hidden_act": "silu"}
    vc = {"model_type": "clip_vision_model", "hidden_size": 24, "intermediate_size": 40,
          "num_hidden_layers": 3, "num_attention_heads": 2, "image_size": 16, "patch_size": 8,
          "num_channels": 3, "hidden_act": "quick_gelu", "layer_norm_eps": 1e-5}
    c = {"model_type": "llava", "architectures": ["LlavaForConditionalGeneration"],
         "image_token_index": 110, "projector_hidden_act": "gelu", "vision_feature_layer": -2,
         "vision_feature_select_strategy": "default", "tie_word_embeddings": False,
         "text_config": tc, "vision_config": vc}
    H, I, V, nh, kv = 32, 56, 113, 4, 2
    d = H // nh
    VH, VI, VL = 24, 40, 3
    sd = {}
    vp = "vision_tower.vision_model."
    vis_embed_sd(h, sd, vp + "embeddings", 3, VH, 16, 8)
    ln_sd(h, sd, vp + "pre_layrnorm", VH)
    for l in range(VL):
        clip_layer_sd(h, sd, vp + "encoder.layers.%d." % l, VH, VI)
    ln_sd(h, sd, vp + "post_layernorm", VH)  # in the checkpoint, unused by LLaVA
    lin_sd(h, sd, "multi_modal_projector.linear_1", H, VH)
    lin_sd(h, sd, "multi_modal_projector.linear_2", H, H)
    lp = "language_model.model."
    sd[lp + "embed_tokens.weight"] = h.rnd(V, H, scale=1.0)
    sd[lp + "norm.weight"] = 1 + h.rnd(H, scale=0.1)
    sd["language_model.lm_head.weight"] = h.rnd(V, H, scale=1 / math.sqrt(H))
    for l in range(2):
        q = lp + "layers.%d." % l
        for n, (o, i) in {"self_attn.q_proj": (nh * d, H), "self_attn.k_proj": (kv * d, H),
                          "self_attn.v_proj": (kv * d, H), "self_attn.o_proj": (H, nh * d),
                          "mlp.gate_proj": (I, H), "mlp.up_proj": (I, H),
                          "mlp.down_proj": (H, I)}.items():
            sd[q + n + ".weight"] = h.rnd(o, i, scale=1 / math.sqrt(i))
        sd[q + "input_layernorm.weight"] = 1 + h.rnd(H, scale=0.1)
        sd[q + "post_attention_layernorm.weight"] = 1 + h.rnd(H, scale=0.1)
    B, S, N = 2, 9, 4
    ids = torch.randint(0, 100, (B, S))
    ids[:, 2:2 + N] = 110
    mask = torch.ones(B, S, dtype=torch.int64)
    mask[1, 7:] = 0
    px = torch.randn(B, 3, 16, 16)

    def ref(u):
        v = vis_embed(u, px, vp + "embeddings", 8)
        v = h.ln(u, v, vp + "pre_layrnorm", 1e-5)
        hs = [v]
        for l in range(VL):
            v = clip_layer(h, u, v, vp + "encoder.layers.%d." % l, 2, 1e-5)
            hs.append(v)
        f = hs[-2][:, 1:]
        f = h.lin(u, F.gelu(h.lin(u, f, "multi_modal_projector.linear_1")),
                  "multi_modal_projector.linear_2")
        x = u[lp + "embed_tokens.weight"][ids]
        m = (ids == 110)[..., None].expand_as(x)
        x = x.masked_scatter(m, f.reshape(-1, H))
        pos = torch.arange(S)[None]
        inv = 1.0 / (10000.0 ** (torch.arange(0, d, 2, dtype=torch.int64).float() / d))
        emb = torch.cat([pos[..., None].float() * inv] * 2, -1)
        cos, sin = emb.cos()[:, None], emb.sin()[:, None]
        bias = h.causal_bias(mask, S)
        for l in range(2):
            q = lp + "layers.%d." % l
            y = h.rms(x, u[q + "input_layernorm.weight"], 1e-6)
            Q = h.heads(h.lin(u, y, q + "self_attn.q_proj", False), nh, d)
            K = h.heads(h.lin(u, y, q + "self_attn.k_proj", False), kv, d)
            Vv = h.heads(h.lin(u, y, q + "self_attn.v_proj", False), kv, d)
            Q = Q * cos + h.rotate_half(Q) * sin
            K = K * cos + h.rotate_half(K) * sin
            K = K.repeat_interleave(nh // kv, dim=1)
            Vv = Vv.repeat_interleave(nh // kv, dim=1)
            a = torch.softmax(Q @ K.transpose(-1, -2) * d ** -0.5 + bias, -1)
            x = x + h.lin(u, h.merge(a @ Vv), q + "self_attn.o_proj", False)
            y = h.rms(x, u[q + "post_attention_layernorm.weight"], 1e-6)
            y = F.silu(h.lin(u, y, q + "mlp.gate_proj", False)) * h.lin(u, y, q + "mlp.up_proj", False)
            x = x + h.lin(u, y, q + "mlp.down_proj", False)
        x = h.rms(x, u[lp + "norm.weight"], 1e-6)
        return {"logits": x @ u["language_model.lm_head.weight"].T}

    h.save_case(out, "llava", c, sd, {"input_ids": ids, "attention_mask": mask,
                                      "pixel_values": px}, ref)


# ---- X-CLIP ----------------------------------------------------------------

def xclip_cases(h, out):
    TH, TI, TL, TNH, TV = 20, 36, 2, 2, 97
    VH, VI, VL, VNH, T, img, ps = 24, 40, 2, 2, 3, 16, 8
    PD, MI, MNH, PNH, PL = 16, 32, 2, 2, 2
    N = (img // ps) ** 2
    c = {"model_type": "xclip", "architectures": ["XCLIPModel"], "projection_dim": PD,
         "prompt_layers": PL, "prompt_alpha": 0.1, "prompt_hidden_act": "quick_gelu",
         "prompt_num_attention_heads": PNH, "logit_scale_init_value": 2.6592,
         "text_config": {"vocab_size": TV, "hidden_size": TH, "intermediate_size": TI,
                         "num_hidden_layers": TL, "num_attention_heads": TNH,
                         "max_position_embeddings": 16, "hidden_act": "quick_gelu",
                         "layer_norm_eps": 1e-5},
         "vision_config": {"hidden_size": VH, "intermediate_size": VI, "num_hidden_layers": VL,
                           "num_attention_heads": VNH, "image_size": img, "patch_size": ps,
                           "num_frames": T, "mit_hidden_size": PD, "mit_intermediate_size": MI,
                           "mit_num_hidden_layers": 1, "mit_num_attention_heads": MNH,
                           "hidden_act": "quick_gelu", "layer_norm_eps": 1e-5}}
    sd = {}
    tp = "text_model."
    sd[tp + "embeddings.token_embedding.weight"] = h.rnd(TV, TH, scale=0.5)
    sd[tp + "embeddings.position_embedding.weight"] = h.rnd(16, TH, scale=0.5)
    for l in range(TL):
        clip_layer_sd(h, sd, tp + "encoder.layers.%d." % l, TH, TI)
    ln_sd(h, sd, tp + "final_layer_norm", TH)
    vp = "vision_model."
    vis_embed_sd(h, sd, vp + "embeddings", 3, VH, img, ps)
    ln_sd(h, sd, vp + "pre_layernorm", VH)
    for l in range(VL):
        p = vp + "encoder.layers.%d." % l
        clip_layer_sd(h, sd, p, VH, VI)
        lin_sd(h, sd, p + "message_fc", VH, VH)
        ln_sd(h, sd, p + "message_ln", VH)
        for n in ("q_proj", "k_proj", "v_proj", "out_proj"):
            lin_sd(h, sd, p + "message_attn." + n, VH, VH)
    ln_sd(h, sd, vp + "post_layernorm", VH)
    lin_sd(h, sd, "visual_projection", PD, VH, bias=False)
    lin_sd(h, sd, "text_projection", PD, TH, bias=False)
    sd["mit.position_embedding"] = h.rnd(1, T, PD, scale=0.5)
    clip_layer_sd(h, sd, "mit.encoder.layers.0.", PD, MI)
    ln_sd(h, sd, "prompts_visual_layernorm", VH)
    sd["prompts_visual_projection"] = h.rnd(VH, PD, scale=1 / math.sqrt(VH))
    ln_sd(h, sd, "prompts_generator.layernorm", PD)
    for l in range(PL):
        p = "prompts_generator.decoder.%d." % l
        for n in ("q_proj", "k_proj", "v_proj"):
            lin_sd(h, sd, p + "cross_attn." + n, PD, PD, bias=False)
        lin_sd(h, sd, p + "cross_attn.proj", PD, PD)
        ln_sd(h, sd, p + "norm1", PD)
        ln_sd(h, sd, p + "norm3", PD)
        lin_sd(h, sd, p + "mlp.0", 4 * PD, PD)
        lin_sd(h, sd, p + "mlp.3", PD, 4 * PD)
    sd["prompts_generator.alpha"] = 0.1 + h.rnd(PD, scale=0.5)
    sd["logit_scale"] = torch.tensor(2.6592)

    B, K, S = 2, 3, 6
    ids = torch.randint(1, 90, (K, S))
    mask = torch.ones(K, S, dtype=torch.int64)
    ids[0, 5] = 96
    ids[1, 3] = 96
    ids[1, 4:] = 0
    mask[1, 4:] = 0
    ids[2, 4] = 96
    ids[2, 5] = 0
    mask[2, 5] = 0
    px = torch.randn(B, T, 3, img, img)

    def ref(u):
        x = vis_embed(u, px.reshape(-1, 3, img, img), vp + "embeddings", ps)
        x = h.ln(u, x, vp + "pre_layernorm", 1e-5)
        for l in range(VL):
            p = vp + "encoder.layers.%d." % l
            bt, sl, hs = x.shape
            msg = h.lin(u, x[:, 0, :], p + "message_fc").view(B, T, hs)
            msg = msg + mha(h, u, h.ln(u, msg, p + "message_ln", 1e-5),
                            h.ln(u, msg, p + "message_ln", 1e-5), p + "message_attn", VNH)
            x = torch.cat([x, msg.view(-1, 1, hs)], 1)
            y = h.ln(u, x, p + "layer_norm1", 1e-5)
            x = x + mha(h, u, y, y, p + "self_attn", VNH)
            x = x[:, :sl, :]
            y = h.ln(u, x, p + "layer_norm2", 1e-5)
            x = x + h.lin(u, quick_gelu(h.lin(u, y, p + "mlp.fc1")), p + "mlp.fc2")
        pooled = h.ln(u, x[:, 0, :], vp + "post_layernorm", 1e-5)
        video = h.lin(u, pooled, "visual_projection", False)
        cls = video.view(B, T, -1)
        m = clip_layer(h, u, cls + u["mit.position_embedding"], "mit.encoder.layers.0.", MNH,
                       1e-5)
        video = (m + cls).mean(dim=1)
        imgf = h.ln(u, x[:, 1:, :], "prompts_visual_layernorm", 1e-5)
        imgf = (imgf @ u["prompts_visual_projection"]).view(B, T, -1, PD).mean(dim=1)
        t = u[tp + "embeddings.token_embedding.weight"][ids] + \
            u[tp + "embeddings.position_embedding.weight"][torch.arange(S)]
        causal = torch.full((S, S), h.NEG).triu(1)[None, None]
        pad = (1.0 - mask[:, None, None, :].float()) * h.NEG
        for l in range(TL):
            t = clip_layer(h, u, t, tp + "encoder.layers.%d." % l, TNH, 1e-5, causal + pad)
        t = h.ln(u, t, tp + "final_layer_norm", 1e-5)
        t = t[torch.arange(K), ids.argmax(dim=-1)]
        text = h.lin(u, t, "text_projection", False)
        text = text.unsqueeze(0).expand(B, -1, -1)
        vis = h.ln(u, imgf, "prompts_generator.layernorm", 1e-5)
        pr = text
        for l in range(PL):
            p = "prompts_generator.decoder.%d." % l
            pr = pr + mha(h, u, h.ln(u, pr, p + "norm1", 1e-5), vis, p + "cross_attn", PNH,
                          bias=False, out="proj")
            pr = pr + h.lin(u, quick_gelu(h.lin(u, h.ln(u, pr, p + "norm3", 1e-5), p + "mlp.0")),
                            p + "mlp.3")
        text = text + u["prompts_generator.alpha"] * pr
        video = video / video.norm(p=2, dim=-1, keepdim=True)
        text = text / text.norm(p=2, dim=-1, keepdim=True)
        lv = torch.einsum("bd,bkd->bk", video, u["logit_scale"].exp() * text)
        return {"logits_per_video": lv, "logits_per_text": lv.T}

    h.save_case(out, "xclip", c, sd, {"input_ids": ids, "attention_mask": mask,
                                      "pixel_values": px}, ref)


# ---- DETR ------------------------------------------------------------------

def bn_sd(h, sd, p, C):
    sd[p + ".weight"] = 1 + h.rnd(C, scale=0.1)
    sd[p + ".bias"] = h.rnd(C, scale=0.1)
    sd[p + ".running_mean"] = h.rnd(C, scale=0.1)
    sd[p + ".running_var"] = torch.rand(C) + 0.5


def conv_bn(u, x, c, b, stride, relu):
    w = u[c + ".weight"]
    x = F.conv2d(x, w, stride=stride, padding=w.shape[-1] // 2)
    scale = u[b + ".weight"] * (u[b + ".running_var"] + 1e-5).rsqrt()
    shift = u[b + ".bias"] - u[b + ".running_mean"] * scale
    x = x * scale[None, :, None, None] + shift[None, :, None, None]
    return F.relu(x) if relu else x


def detr_cases(h, out):
    emb, widths, depths = 8, [16, 32, 64, 128], [1, 2, 1, 1]
    D, L, NH, FF, NQ, NL = 32, 2, 4, 48, 7, 5
    c = {"model_type": "detr", "architectures": ["DetrForObjectDetection"],
         "use_timm_backbone": False,
         "backbone_config": {"model_type": "resnet", "embedding_size": emb,
                             "hidden_sizes": widths, "depths": depths,
                             "layer_type": "bottleneck"},
         "num_channels": 3, "d_model": D, "encoder_layers": L, "decoder_layers": L,
         "encoder_attention_heads": NH, "decoder_attention_heads": NH, "encoder_ffn_dim": FF,
         "decoder_ffn_dim": FF, "num_queries": NQ,
         "id2label": {str(i): "L%d" % i for i in range(NL)},
         "activation_function": "relu", "position_embedding_type": "sine", "image_size": 96}
    pre = "model.backbone.conv_encoder.model."
    sd = {}

    def conv_sd(p, o, i, k):
        sd[p + ".weight"] = h.rnd(o, i, k, k, scale=1 / math.sqrt(i * k * k))

    conv_sd(pre + "embedder.embedder.convolution", emb, 3, 7)
    bn_sd(h, sd, pre + "embedder.embedder.normalization", emb)
    cin = emb
    for s, (dep, w) in enumerate(zip(depths, widths)):
        for m in range(dep):
            p = pre + "encoder.stages.%d.layers.%d." % (s, m)
            stride = 2 if m == 0 and s > 0 else 1
            if cin != w or stride != 1:
                conv_sd(p + "shortcut.convolution", w, cin, 1)
                bn_sd(h, sd, p + "shortcut.normalization", w)
            for k, (i, o, ks) in enumerate(((cin, w // 4, 1), (w // 4, w // 4, 3), (w // 4, w, 1))):
                conv_sd(p + "layer.%d.convolution" % k, o, i, ks)
                bn_sd(h, sd, p + "layer.%d.normalization" % k, o)
            cin = w
    sd["model.input_projection.weight"] = h.rnd(D, cin, 1, 1, scale=1 / math.sqrt(cin))
    sd["model.input_projection.bias"] = h.rnd(D, scale=0.1)
    sd["model.query_position_embeddings.weight"] = h.rnd(NQ, D, scale=1.0)
    for part, names in (("encoder", ("self_attn",)), ("decoder", ("self_attn", "encoder_attn"))):
        for l in range(L):
            p = "model.%s.layers.%d." % (part, l)
            for a in names:
                for n in ("q_proj", "k_proj", "v_proj", "out_proj"):
                    lin_sd(h, sd, p + a + "." + n, D, D)
                ln_sd(h, sd, p + a + "_layer_norm", D)
            lin_sd(h, sd, p + "fc1", FF, D)
            lin_sd(h, sd, p + "fc2", D, FF)
            ln_sd(h, sd, p + "final_layer_norm", D)
    ln_sd(h, sd, "model.decoder.layernorm", D)
    lin_sd(h, sd, "class_labels_classifier", NL + 1, D)
    for k in range(3):
        lin_sd(h, sd, "bbox_predictor.layers.%d" % k, 4 if k == 2 else D, D)

    B, IH = 2, 96
    px = torch.randn(B, 3, IH, IH)
    pmask = torch.ones(B, IH, IH, dtype=torch.int64)
    pmask[1, :, 64:] = 0  # the second image is 96x64, padded
    pmask[1, 80:, :] = 0

    def attn(u, p, xq, qpos, xkv, kpos, mask):
        d = D // NH
        q = h.heads(h.lin(u, xq + qpos if qpos is not None else xq, p + ".q_proj") * d ** -0.5,
                    NH, d)
        k = h.heads(h.lin(u, xkv + kpos if kpos is not None else xkv, p + ".k_proj"), NH, d)
        v = h.heads(h.lin(u, xkv, p + ".v_proj"), NH, d)
        a = q @ k.transpose(-1, -2)
        if mask is not None:
            a = a + mask
        return h.lin(u, h.merge(torch.softmax(a, -1) @ v), p + ".out_proj")

    def ref(u):
        x = conv_bn(u, px, pre + "embedder.embedder.convolution",
                    pre + "embedder.embedder.normalization", 2, True)
        x = F.max_pool2d(x, 3, 2, 1)
        cin = emb
        for s, (dep, w) in enumerate(zip(depths, widths)):
            for m in range(dep):
                p = pre + "encoder.stages.%d.layers.%d." % (s, m)
                stride = 2 if m == 0 and s > 0 else 1
                sc = x
                if cin != w or stride != 1:
                    sc = conv_bn(u, x, p + "shortcut.convolution", p + "shortcut.normalization",
                                 stride, False)
                y = conv_bn(u, x, p + "layer.0.convolution", p + "layer.0.normalization", 1, True)
                y = conv_bn(u, y, p + "layer.1.convolution", p + "layer.1.normalization", stride,
                            True)
                y = conv_bn(u, y, p + "layer.2.convolution", p + "layer.2.normalization", 1, False)
                x = F.relu(y + sc)
                cin = w
        mask = F.interpolate(pmask[None].float(), size=x.shape[-2:]).to(torch.bool)[0]
        y_embed = mask.cumsum(1, dtype=torch.float32)
        x_embed = mask.cumsum(2, dtype=torch.float32)
        y_embed = y_embed / (y_embed[:, -1:, :] + 1e-6) * 2 * math.pi
        x_embed = x_embed / (x_embed[:, :, -1:] + 1e-6) * 2 * math.pi
        e = D // 2
        dim_t = torch.arange(e, dtype=torch.int64).float()
        dim_t = 10000 ** (2 * torch.div(dim_t, 2, rounding_mode="floor") / e)
        pos_x = x_embed[:, :, :, None] / dim_t
        pos_y = y_embed[:, :, :, None] / dim_t
        pos_x = torch.stack((pos_x[:, :, :, 0::2].sin(), pos_x[:, :, :, 1::2].cos()), dim=4).flatten(3)
        pos_y = torch.stack((pos_y[:, :, :, 0::2].sin(), pos_y[:, :, :, 1::2].cos()), dim=4).flatten(3)
        pos = torch.cat((pos_y, pos_x), dim=3).permute(0, 3, 1, 2)
        x = F.conv2d(x, u["model.input_projection.weight"], u["model.input_projection.bias"])
        x = x.flatten(2).permute(0, 2, 1)
        pos = pos.flatten(2).permute(0, 2, 1)
        fm = mask.flatten(1)
        am = (1.0 - fm[:, None, None, :].float()) * h.NEG
        for l in range(L):
            p = "model.encoder.layers.%d." % l
            x = h.ln(u, x + attn(u, p + "self_attn", x, pos, x, pos, am), p + "self_attn_layer_norm", 1e-5)
            f = h.lin(u, F.relu(h.lin(u, x, p + "fc1")), p + "fc2")
            x = h.ln(u, x + f, p + "final_layer_norm", 1e-5)
        qp = u["model.query_position_embeddings.weight"].unsqueeze(0).repeat(B, 1, 1)
        y = torch.zeros_like(qp)
        for l in range(L):
            p = "model.decoder.layers.%d." % l
            y = h.ln(u, y + attn(u, p + "self_attn", y, qp, y, qp, None), p + "self_attn_layer_norm", 1e-5)
            y = h.ln(u, y + attn(u, p + "encoder_attn", y, qp, x, pos, am),
                     p + "encoder_attn_layer_norm", 1e-5)
            f = h.lin(u, F.relu(h.lin(u, y, p + "fc1")), p + "fc2")
            y = h.ln(u, y + f, p + "final_layer_norm", 1e-5)
        y = h.ln(u, y, "model.decoder.layernorm", 1e-5)
        logits = h.lin(u, y, "class_labels_classifier")
        b = F.relu(h.lin(u, y, "bbox_predictor.layers.0"))
        b = F.relu(h.lin(u, b, "bbox_predictor.layers.1"))
        return {"logits": logits, "pred_boxes": torch.sigmoid(h.lin(u, b, "bbox_predictor.layers.2"))}

    h.save_case(out, "detr", c, sd, {"pixel_values": px, "pixel_mask": pmask}, ref)


# ---- CLAP text tower -------------------------------------------------------

def clap_cases(h, out):
    V, H, L, NH, I, P, PD = 101, 32, 2, 4, 48, 40, 16
    c = {"model_type": "clap_text_model", "architectures": ["ClapTextModelWithProjection"],
         "vocab_size": V, "hidden_size": H, "num_hidden_layers": L, "num_attention_heads": NH,
         "intermediate_size": I, "max_position_embeddings": P, "type_vocab_size": 1,
         "pad_token_id": 1, "hidden_act": "gelu", "layer_norm_eps": 1e-12, "projection_dim": PD,
         "projection_hidden_act": "relu"}
    p = "text_model."
    sd = {p + "embeddings.word_embeddings.weight": h.rnd(V, H),
          p + "embeddings.position_embeddings.weight": h.rnd(P, H),
          p + "embeddings.token_type_embeddings.weight": h.rnd(1, H)}
    ln_sd(h, sd, p + "embeddings.LayerNorm", H)
    for l in range(L):
        q = p + "encoder.layer.%d." % l
        for n, (o, i) in {"attention.self.query": (H, H), "attention.self.key": (H, H),
                          "attention.self.value": (H, H), "attention.output.dense": (H, H),
                          "intermediate.dense": (I, H), "output.dense": (H, I)}.items():
            lin_sd(h, sd, q + n, o, i)
        for n in ("attention.output.LayerNorm", "output.LayerNorm"):
            ln_sd(h, sd, q + n, H)
    lin_sd(h, sd, p + "pooler.dense", H, H)
    lin_sd(h, sd, "text_projection.linear1", PD, H)
    lin_sd(h, sd, "text_projection.linear2", PD, PD)
    B, S = 2, 7
    ids = torch.randint(2, V, (B, S))
    ids[1, 5:] = 1
    mask = (ids != 1).long()

    def ref(u):
        m = (ids != 1).int()
        pos = (torch.cumsum(m, dim=1).type_as(m) * m).long() + 1
        x = (u[p + "embeddings.word_embeddings.weight"][ids] +
             u[p + "embeddings.position_embeddings.weight"][pos] +
             u[p + "embeddings.token_type_embeddings.weight"][torch.zeros_like(ids)])
        x = h.ln(u, x, p + "embeddings.LayerNorm", 1e-12)
        ext = (1.0 - mask[:, None, None, :].float()) * h.NEG
        d = H // NH
        for l in range(L):
            q = p + "encoder.layer.%d." % l
            Q = h.heads(h.lin(u, x, q + "attention.self.query"), NH, d)
            K = h.heads(h.lin(u, x, q + "attention.self.key"), NH, d)
            Vv = h.heads(h.lin(u, x, q + "attention.self.value"), NH, d)
            a = torch.softmax(Q @ K.transpose(-1, -2) / math.sqrt(d) + ext, -1)
            x = h.ln(u, h.lin(u, h.merge(a @ Vv), q + "attention.output.dense") + x,
                     q + "attention.output.LayerNorm", 1e-12)
            y = F.gelu(h.lin(u, x, q + "intermediate.dense"))
            x = h.ln(u, h.lin(u, y, q + "output.dense") + x, q + "output.LayerNorm", 1e-12)
        pooled = torch.tanh(h.lin(u, x[:, 0], p + "pooler.dense"))
        e = h.lin(u, F.relu(h.lin(u, pooled, "text_projection.linear1")), "text_projection.linear2")
        return {"last_hidden_state": x, "text_embeds": e}

    h.save_case(out, "clap_text", c, sd, {"input_ids": ids, "attention_mask": mask}, ref)


def cases(h, out):
    llava_cases(h, out)
    xclip_cases(h, out)
    detr_cases(h, out)
    clap_cases(h, out)
    import zoo_ref_clap  # ClapModel and the HTSAT audio tower
    zoo_ref_clap.cases(h, out)
