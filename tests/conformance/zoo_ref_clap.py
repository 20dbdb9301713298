"""Reference cases for CLAP's full model (ClapModel) and audio tower
(ClapAudioModel), used by zoo_ref_models_vision.py, which passes the helpers
of zoo_ref_models.py in as `h` (save_case, lin, ln, heads, merge, rnd, NEG).

The forward passes follow HF transformers' modeling_clap.py step by step
(BatchNorm over mel bins, reshape_mel2img with bicubic interpolation, HTSAT
patch embedding, Swin stages with window padding, cyclic shifts and the
-100 shift masks, patch merging, the latent regrouping and average pooling,
projections, normalised embeddings and both logit scales), over tiny
checkpoints stored under the HF tensor names, buffers included
(relative_position_index, num_batches_tracked) as a real checkpoint has them.
"""
import math

import torch
import torch.nn.functional as F


# ---- HTSAT pieces, as HF writes them -------------------------------------------

def window_partition(x, w):
    b, hh, ww, c = x.shape
    x = x.view(b, hh // w, w, ww // w, w, c)
    return x.permute(0, 1, 3, 2, 4, 5).contiguous().view(-1, w, w, c)


def window_reverse(win, w, hh, ww):
    b = int(win.shape[0] / (hh * ww / w / w))
    x = win.view(b, hh // w, ww // w, w, w, -1)
    return x.permute(0, 1, 3, 2, 4, 5).contiguous().view(b, hh, ww, -1)


def relative_position_index(w):
    coords = torch.stack(torch.meshgrid([torch.arange(w), torch.arange(w)], indexing="ij"))
    flat = torch.flatten(coords, 1)
    rel = (flat[:, :, None] - flat[:, None, :]).permute(1, 2, 0).contiguous()
    rel[:, :, 0] += w - 1
    rel[:, :, 1] += w - 1
    rel[:, :, 0] *= 2 * w - 1
    return rel.sum(-1)


def shift_attn_mask(hh, ww, w, shift):
    if shift <= 0:
        return None
    img = torch.zeros((1, hh, ww, 1))
    count = 0
    for hs in (slice(0, -w), slice(-w, -shift), slice(-shift, None)):
        for ws in (slice(0, -w), slice(-w, -shift), slice(-shift, None)):
            img[:, hs, ws, :] = count
            count += 1
    mw = window_partition(img, w).view(-1, w * w)
    m = mw.unsqueeze(1) - mw.unsqueeze(2)
    return m.masked_fill(m != 0, float(-100.0)).masked_fill(m == 0, float(0.0))


def window_attention(h, u, p, x, nh, w, mask):
    bw, n, c = x.shape
    d = c // nh
    q = h.heads(h.lin(u, x, p + "self.query"), nh, d)
    k = h.heads(h.lin(u, x, p + "self.key"), nh, d)
    v = h.heads(h.lin(u, x, p + "self.value"), nh, d)
    s = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(d)
    idx = u[p + "self.relative_position_index"]
    bias = u[p + "self.relative_position_bias_table"][idx.view(-1)].view(w * w, w * w, -1)
    s = s + bias.permute(2, 0, 1).contiguous().unsqueeze(0)
    if mask is not None:
        nw = mask.shape[0]
        s = s.view(bw // nw, nw, nh, n, n) + mask.unsqueeze(1).unsqueeze(0)
        s = s.view(-1, nh, n, n)
    ctx = h.merge(torch.matmul(torch.softmax(s, -1), v))
    return h.lin(u, ctx, p + "output.dense")


def swin_layer(h, u, p, x, dims, nh, w, shift, eps):
    hh, ww = dims
    if min(dims) <= w:  # HF's set_shift_and_window_size
        shift, w = 0, min(dims)
    b, _, c = x.shape
    shortcut = x
    x = h.ln(u, x, p + "layernorm_before", eps).view(b, hh, ww, c)
    pr, pb = (w - ww % w) % w, (w - hh % w) % w
    x = F.pad(x, (0, 0, 0, pr, 0, pb))
    hp, wp = x.shape[1], x.shape[2]
    if shift > 0:
        x = torch.roll(x, shifts=(-shift, -shift), dims=(1, 2))
    xw = window_partition(x, w).view(-1, w * w, c)
    a = window_attention(h, u, p + "attention.", xw, nh, w, shift_attn_mask(hp, wp, w, shift))
    x = window_reverse(a.view(-1, w, w, c), w, hp, wp)
    if shift > 0:
        x = torch.roll(x, shifts=(shift, shift), dims=(1, 2))
    x = x[:, :hh, :ww, :].contiguous().view(b, hh * ww, c)
    x = shortcut + x
    y = F.gelu(h.lin(u, h.ln(u, x, p + "layernorm_after", eps), p + "intermediate.dense"))
    return x + h.lin(u, y, p + "output.dense")


def patch_merging(h, u, p, x, dims):
    hh, ww = dims
    b, _, c = x.shape
    x = x.view(b, hh, ww, c)
    if hh % 2 or ww % 2:
        x = F.pad(x, (0, 0, 0, ww % 2, 0, hh % 2))
    x = torch.cat([x[:, 0::2, 0::2], x[:, 1::2, 0::2], x[:, 0::2, 1::2], x[:, 1::2, 1::2]], -1)
    x = x.view(b, -1, 4 * c)
    return h.lin(u, h.ln(u, x, p + "norm", 1e-5), p + "reduction", bias=False)


def reshape_mel2img(x, spec, ratio):
    _, _, t, f = x.shape
    sw, sh = spec * ratio, spec // ratio
    assert t <= sw and f <= sh
    if t < sw:
        x = F.interpolate(x, (sw, f), mode="bicubic", align_corners=True)
    if f < sh:
        x = F.interpolate(x, (t, sh), mode="bicubic", align_corners=True)
    b, c, t, f = x.shape
    x = x.reshape(b, c * ratio, t // ratio, f).permute(0, 1, 3, 2).contiguous()
    return x.reshape(b, c, f * ratio, t // ratio)


def audio_encoder(h, u, p, ac, feats):
    """ClapAudioEncoder.forward (unfused): (last_hidden_state, pooler_output)."""
    spec, mel, w = ac["spec_size"], ac["num_mel_bins"], ac["window_size"]
    k, (s0, s1) = ac["patch_size"], ac["patch_stride"]
    depths, nhs, emb = ac["depths"], ac["num_attention_heads"], ac["patch_embeds_hidden_size"]
    eps = ac["layer_norm_eps"]
    ratio = spec // mel
    x = feats.transpose(1, 3)
    x = F.batch_norm(x, u[p + "batch_norm.running_mean"], u[p + "batch_norm.running_var"],
                     u[p + "batch_norm.weight"], u[p + "batch_norm.bias"], False, 0.0, 1e-5)
    x = reshape_mel2img(x.transpose(1, 3), spec, ratio)
    frames = x.shape[2]
    x = F.conv2d(x, u[p + "patch_embed.proj.weight"], u[p + "patch_embed.proj.bias"],
                 stride=(s0, s1), padding=((k - s0) // 2, (k - s1) // 2))
    x = h.ln(u, x.flatten(2).transpose(1, 2), p + "patch_embed.norm", 1e-5)
    grid = (spec // s0, spec // s1)
    nl = len(depths)
    for i in range(nl):
        dims = (grid[0] // 2 ** i, grid[1] // 2 ** i)
        for j in range(depths[i]):
            x = swin_layer(h, u, p + "layers.%d.blocks.%d." % (i, j), x, dims, nhs[i], w,
                           0 if j % 2 == 0 else w // 2, eps)
        if i < nl - 1:
            x = patch_merging(h, u, p + "layers.%d.downsample." % i, x, dims)
    x = h.ln(u, x, p + "norm", 1e-5)
    b, _, c = x.shape
    fs = frames // 2 ** (nl - 1) // s0
    ts = frames // 2 ** (nl - 1) // s1
    x = x.permute(0, 2, 1).contiguous().reshape(b, c, fs, ts)
    cfb = fs // ratio
    x = x.reshape(b, c, fs // cfb, cfb, ts).permute(0, 1, 3, 2, 4).contiguous()
    x = x.reshape(b, c, cfb, -1)
    pooled = torch.flatten(F.adaptive_avg_pool1d(torch.flatten(x, 2), 1), 1)
    return x, pooled


def audio_sd(h, sd, p, ac):
    mel, w, k = ac["num_mel_bins"], ac["window_size"], ac["patch_size"]
    emb, depths, nhs = ac["patch_embeds_hidden_size"], ac["depths"], ac["num_attention_heads"]
    inter = ac["mlp_ratio"]
    sd[p + "batch_norm.weight"] = 1 + h.rnd(mel, scale=0.2)
    sd[p + "batch_norm.bias"] = h.rnd(mel, scale=0.2)
    sd[p + "batch_norm.running_mean"] = h.rnd(mel, scale=0.5)
    sd[p + "batch_norm.running_var"] = 0.5 + torch.rand(mel)
    sd[p + "batch_norm.num_batches_tracked"] = torch.tensor(7, dtype=torch.int64)
    sd[p + "patch_embed.proj.weight"] = h.rnd(emb, 1, k, k, scale=1 / k)
    sd[p + "patch_embed.proj.bias"] = h.rnd(emb, scale=0.1)
    ln_sd(h, sd, p + "patch_embed.norm", emb)
    for i, (dep, nh) in enumerate(zip(depths, nhs)):
        dim = emb * 2 ** i
        for j in range(dep):
            q = p + "layers.%d.blocks.%d." % (i, j)
            ln_sd(h, sd, q + "layernorm_before", dim)
            ln_sd(h, sd, q + "layernorm_after", dim)
            sd[q + "attention.self.relative_position_bias_table"] = h.rnd((2 * w - 1) ** 2, nh,
                                                                          scale=0.5)
            sd[q + "attention.self.relative_position_index"] = relative_position_index(w)
            for n in ("attention.self.query", "attention.self.key", "attention.self.value",
                      "attention.output.dense"):
                lin_sd(h, sd, q + n, dim, dim)
            lin_sd(h, sd, q + "intermediate.dense", int(inter * dim), dim)
            lin_sd(h, sd, q + "output.dense", dim, int(inter * dim))
        if i < len(depths) - 1:
            ln_sd(h, sd, p + "layers.%d.downsample.norm" % i, 4 * dim)
            sd[p + "layers.%d.downsample.reduction.weight" % i] = h.rnd(
                2 * dim, 4 * dim, scale=1 / math.sqrt(4 * dim))
    ln_sd(h, sd, p + "norm", emb * 2 ** (len(depths) - 1))


def ln_sd(h, sd, p, n):
    sd[p + ".weight"] = 1 + h.rnd(n, scale=0.1)
    sd[p + ".bias"] = h.rnd(n, scale=0.1)


def lin_sd(h, sd, p, o, i, bias=True):
    sd[p + ".weight"] = h.rnd(o, i, scale=1 / math.sqrt(i))
    if bias:
        sd[p + ".bias"] = h.rnd(o, scale=0.1)


# ---- the text tower (ClapTextModel + pooler) -------------------------------------

def text_sd(h, sd, tc):
    V, H, L, I, P = (tc["vocab_size"], tc["hidden_size"], tc["num_hidden_layers"],
                     tc["intermediate_size"], tc["max_position_embeddings"])
    p = "text_model."
    sd[p + "embeddings.word_embeddings.weight"] = h.rnd(V, H)
    sd[p + "embeddings.position_embeddings.weight"] = h.rnd(P, H)
    sd[p + "embeddings.token_type_embeddings.weight"] = h.rnd(1, H)
    sd[p + "embeddings.position_ids"] = torch.arange(P).expand((1, -1)).contiguous()
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


def text_pooled(h, u, tc, ids, mask):
    H, NH, L, pad = (tc["hidden_size"], tc["num_attention_heads"], tc["num_hidden_layers"],
                     tc["pad_token_id"])
    eps = tc["layer_norm_eps"]
    p = "text_model."
    m = ids.ne(pad).int()
    pos = (torch.cumsum(m, dim=1).type_as(m) * m).long() + pad
    x = (u[p + "embeddings.word_embeddings.weight"][ids] +
         u[p + "embeddings.token_type_embeddings.weight"][torch.zeros_like(ids)])
    x = x + u[p + "embeddings.position_embeddings.weight"][pos]
    x = h.ln(u, x, p + "embeddings.LayerNorm", eps)
    ext = (1.0 - mask[:, None, None, :].float()) * h.NEG
    d = H // NH
    for l in range(L):
        q = p + "encoder.layer.%d." % l
        Q = h.heads(h.lin(u, x, q + "attention.self.query"), NH, d)
        K = h.heads(h.lin(u, x, q + "attention.self.key"), NH, d)
        Vv = h.heads(h.lin(u, x, q + "attention.self.value"), NH, d)
        a = torch.softmax(Q @ K.transpose(-1, -2) / math.sqrt(d) + ext, -1)
        x = h.ln(u, h.lin(u, h.merge(a @ Vv), q + "attention.output.dense") + x,
                 q + "attention.output.LayerNorm", eps)
        y = F.gelu(h.lin(u, x, q + "intermediate.dense"))
        x = h.ln(u, h.lin(u, y, q + "output.dense") + x, q + "output.LayerNorm", eps)
    return torch.tanh(h.lin(u, x[:, 0], p + "pooler.dense"))


def projection(h, u, p, x):
    return h.lin(u, F.relu(h.lin(u, x, p + ".linear1")), p + ".linear2")


# ---- cases --------------------------------------------------------------------------

def clap_model_case(h, out):
    PD = 16
    tc = {"model_type": "clap_text_model", "vocab_size": 101, "hidden_size": 32,
          "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 48,
          "max_position_embeddings": 40, "type_vocab_size": 1, "pad_token_id": 1,
          "hidden_act": "gelu", "layer_norm_eps": 1e-12,
          "projection_dim": 24}  # ClapConfig overrides it with the top-level 16
    ac = {"model_type": "clap_audio_model", "spec_size": 64, "num_mel_bins": 16,
          "num_frames": 200, "window_size": 4, "patch_size": 4, "patch_stride": [4, 4],
          "patch_embeds_hidden_size": 8, "hidden_size": 32, "depths": [2, 1, 2],
          "num_attention_heads": [2, 2, 4], "enable_fusion": False, "hidden_act": "gelu",
          "mlp_ratio": 2.0, "layer_norm_eps": 1e-5, "qkv_bias": True}
    c = {"model_type": "clap", "architectures": ["ClapModel"], "projection_dim": PD,
         "projection_hidden_act": "relu", "logit_scale_init_value": 14.285714285714285,
         "text_config": tc, "audio_config": ac}
    sd = {"logit_scale_a": torch.tensor(math.log(10.0)),
          "logit_scale_t": torch.tensor(math.log(20.0))}
    text_sd(h, sd, tc)
    lin_sd(h, sd, "text_projection.linear1", PD, tc["hidden_size"])
    lin_sd(h, sd, "text_projection.linear2", PD, PD)
    audio_sd(h, sd, "audio_model.audio_encoder.", ac)
    lin_sd(h, sd, "audio_projection.linear1", PD, ac["hidden_size"])
    lin_sd(h, sd, "audio_projection.linear2", PD, PD)
    B, S = 2, 7
    ids = torch.randint(2, tc["vocab_size"], (B, S))
    ids[1, 5:] = 1
    mask = (ids != 1).long()
    feats = torch.randn(B, 1, ac["num_frames"], ac["num_mel_bins"])

    def ref(u):
        _, pooled = audio_encoder(h, u, "audio_model.audio_encoder.", ac, feats)
        a = projection(h, u, "audio_projection", pooled)
        t = projection(h, u, "text_projection", text_pooled(h, u, tc, ids, mask))
        a = a / a.norm(p=2, dim=-1, keepdim=True)
        t = t / t.norm(p=2, dim=-1, keepdim=True)
        return {"logits_per_text": torch.matmul(t, a.t()) * u["logit_scale_t"].exp(),
                "logits_per_audio": torch.matmul(a, t.t()) * u["logit_scale_a"].exp(),
                "text_embeds": t, "audio_embeds": a}

    h.save_case(out, "clap", c, sd,
                {"input_ids": ids, "attention_mask": mask, "input_features": feats}, ref)


def clap_audio_case(h, out):
    # Window padding (8 and 4 rows with window 3), kernel 6 over stride 4 (HF's
    # padding 1), and a mel axis one short of spec_size / freq_ratio, so the
    # second bicubic resize runs.
    ac = {"model_type": "clap_audio_model", "architectures": ["ClapAudioModel"],
          "spec_size": 32, "num_mel_bins": 7, "num_frames": 128, "window_size": 3,
          "patch_size": 6, "patch_stride": [4, 4], "patch_embeds_hidden_size": 12,
          "hidden_size": 24, "depths": [2, 2], "num_attention_heads": [3, 6],
          "enable_fusion": False, "hidden_act": "gelu", "mlp_ratio": 4.0,
          "layer_norm_eps": 1e-5, "qkv_bias": True, "projection_dim": 8}
    sd = {}
    audio_sd(h, sd, "audio_encoder.", ac)
    feats = torch.randn(3, 1, ac["num_frames"], ac["num_mel_bins"])

    def ref(u):
        last, pooled = audio_encoder(h, u, "audio_encoder.", ac, feats)
        return {"last_hidden_state": last, "pooler_output": pooled}

    h.save_case(out, "clap_audio", ac, sd, {"input_features": feats}, ref)


def cases(h, out):
    clap_model_case(h, out)
    clap_audio_case(h, out)
