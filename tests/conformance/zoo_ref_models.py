#!/usr/bin/python3
"""Reference implementations for tests/conformance/zoo_vs_torch.sh.

Writes tiny Hugging Face style checkpoints (config.json + safetensors,
written by hand: the safetensors package is not used) with random weights
under their HF tensor names, plus inputs and the outputs of a PyTorch
forward pass written here from the HF architectures (BERT, GPT-2, Llama,
Qwen2, ViT, T5, CLIP, Whisper, wav2vec 2.0). Each case lands in OUT/<case>/:
    ckpt/            config.json, model.safetensors (or shards + index)
    inputs/NAME.npy  one file per graph input
    expected/NAME.npy
    options          extra `convert` flags (e.g. --with-past)

Usage: zoo_ref_models.py OUT
"""
import json
import math
import os
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

torch.manual_seed(1234)
np.random.seed(1234)
NEG = torch.finfo(torch.float32).min


# ---- safetensors, by hand ---------------------------------------------------

def st_bytes(t):
    """(dtype name, raw bytes) of a tensor or a ('BF16', float32 tensor) pair."""
    if isinstance(t, tuple):  # bfloat16: upper halves of the float32 bits
        a = t[1].contiguous().numpy().astype(np.float32)
        u = (a.view(np.uint32) >> 16).astype(np.uint16)
        return "BF16", u.tobytes(), list(a.shape)
    a = t.contiguous().numpy()
    name = {"float32": "F32", "float16": "F16", "int64": "I64"}[a.dtype.name]
    return name, a.tobytes(), list(a.shape)


def write_safetensors(path, tensors):
    header, blobs, off = {}, [], 0
    for name, t in tensors.items():
        dt, b, shape = st_bytes(t)
        header[name] = {"dtype": dt, "shape": shape, "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    header["__metadata__"] = {"format": "pt"}
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def write_checkpoint(d, config, sd, shards=1, dtype=None):
    """sd: name -> float32 tensor. dtype 'BF16' or 'F16' stores rounded weights
    and returns the rounded state dict the reference must use."""
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(config, f, indent=1)
    out, used = {}, {}
    for k, v in sd.items():
        if dtype == "F16":
            out[k] = v.half()
            used[k] = v.half().float()
        elif dtype == "BF16":
            r = v.to(torch.bfloat16).float()
            out[k] = ("BF16", r)
            used[k] = r
        else:
            out[k] = v
            used[k] = v
    names = list(out)
    if shards == 1:
        write_safetensors(os.path.join(d, "model.safetensors"), out)
        return used
    weight_map = {}
    per = (len(names) + shards - 1) // shards
    for s in range(shards):
        fn = "model-%05d-of-%05d.safetensors" % (s + 1, shards)
        part = {n: out[n] for n in names[s * per:(s + 1) * per]}
        write_safetensors(os.path.join(d, fn), part)
        for n in part:
            weight_map[n] = fn
    with open(os.path.join(d, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": 0}, "weight_map": weight_map}, f, indent=1)
    return used


def rnd(*shape, scale=0.2):
    return torch.randn(*shape) * scale


def save_case(out, case, config, sd, inputs, expected, shards=1, options="", dtype=None):
    d = os.path.join(out, case)
    used = write_checkpoint(os.path.join(d, "ckpt"), config, sd, shards, dtype)
    os.makedirs(os.path.join(d, "inputs"), exist_ok=True)
    os.makedirs(os.path.join(d, "expected"), exist_ok=True)
    with torch.no_grad():
        outs = expected(used)
    for k, v in inputs.items():
        np.save(os.path.join(d, "inputs", k + ".npy"), v.numpy())
    for k, v in outs.items():
        np.save(os.path.join(d, "expected", k + ".npy"), v.numpy().astype(np.float32))
    with open(os.path.join(d, "options"), "w") as f:
        f.write(options)


def lin(sd, x, p, bias=True):
    y = x @ sd[p + ".weight"].T  # nn.Linear: weight [out, in]
    return y + sd[p + ".bias"] if bias else y


def ln(sd, x, p, eps):
    return F.layer_norm(x, (x.shape[-1],), sd[p + ".weight"], sd[p + ".bias"], eps)


def heads(x, n, d):
    b, s, _ = x.shape
    return x.view(b, s, n, d).transpose(1, 2)


def merge(x):
    b, h, s, d = x.shape
    return x.transpose(1, 2).reshape(b, s, h * d)


def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x.pow(3))))


def causal_bias(mask, s):
    """Additive [B,1,S,T] mask: the S queries are the last S of T positions."""
    t = mask.shape[1]
    q = torch.arange(t - s, t)[:, None]
    k = torch.arange(t)[None, :]
    allowed = (k <= q)[None, None] & mask[:, None, None, :].bool()
    return torch.where(allowed, torch.tensor(0.0), torch.tensor(NEG))


# ---- BERT ------------------------------------------------------------------

def bert_sd(c, mlm):
    H, I, V = c["hidden_size"], c["intermediate_size"], c["vocab_size"]
    p = "bert." if mlm else ""
    sd = {
        p + "embeddings.word_embeddings.weight": rnd(V, H),
        p + "embeddings.position_embeddings.weight": rnd(c["max_position_embeddings"], H),
        p + "embeddings.token_type_embeddings.weight": rnd(c["type_vocab_size"], H),
        p + "embeddings.LayerNorm.weight": 1 + rnd(H, scale=0.1),
        p + "embeddings.LayerNorm.bias": rnd(H, scale=0.1),
    }
    for l in range(c["num_hidden_layers"]):
        q = p + "encoder.layer.%d." % l
        for n, (o, i) in {"attention.self.query": (H, H), "attention.self.key": (H, H),
                          "attention.self.value": (H, H), "attention.output.dense": (H, H),
                          "intermediate.dense": (I, H), "output.dense": (H, I)}.items():
            sd[q + n + ".weight"] = rnd(o, i, scale=1 / math.sqrt(i))
            sd[q + n + ".bias"] = rnd(o, scale=0.1)
        for n in ("attention.output.LayerNorm", "output.LayerNorm"):
            sd[q + n + ".weight"] = 1 + rnd(H, scale=0.1)
            sd[q + n + ".bias"] = rnd(H, scale=0.1)
    if mlm:
        sd["cls.predictions.transform.dense.weight"] = rnd(H, H, scale=1 / math.sqrt(H))
        sd["cls.predictions.transform.dense.bias"] = rnd(H, scale=0.1)
        sd["cls.predictions.transform.LayerNorm.weight"] = 1 + rnd(H, scale=0.1)
        sd["cls.predictions.transform.LayerNorm.bias"] = rnd(H, scale=0.1)
        sd["cls.predictions.bias"] = rnd(V, scale=0.1)
    else:
        sd["pooler.dense.weight"] = rnd(H, H, scale=1 / math.sqrt(H))
        sd["pooler.dense.bias"] = rnd(H, scale=0.1)
    return sd


def bert_ref(sd, c, ids, mask, tt, mlm):
    p = "bert." if mlm else ""
    H, nh, eps = c["hidden_size"], c["num_attention_heads"], c["layer_norm_eps"]
    d = H // nh
    S = ids.shape[1]
    x = (sd[p + "embeddings.word_embeddings.weight"][ids] +
         sd[p + "embeddings.position_embeddings.weight"][torch.arange(S)] +
         sd[p + "embeddings.token_type_embeddings.weight"][tt])
    x = ln(sd, x, p + "embeddings.LayerNorm", eps)
    ext = (1.0 - mask[:, None, None, :].float()) * NEG
    for l in range(c["num_hidden_layers"]):
        q = p + "encoder.layer.%d." % l
        Q = heads(lin(sd, x, q + "attention.self.query"), nh, d)
        K = heads(lin(sd, x, q + "attention.self.key"), nh, d)
        Vv = heads(lin(sd, x, q + "attention.self.value"), nh, d)
        a = torch.softmax(Q @ K.transpose(-1, -2) / math.sqrt(d) + ext, -1)
        ctx = merge(a @ Vv)
        x = ln(sd, lin(sd, ctx, q + "attention.output.dense") + x, q + "attention.output.LayerNorm", eps)
        h = F.gelu(lin(sd, x, q + "intermediate.dense"))
        x = ln(sd, lin(sd, h, q + "output.dense") + x, q + "output.LayerNorm", eps)
    if mlm:
        t = F.gelu(lin(sd, x, "cls.predictions.transform.dense"))
        t = ln(sd, t, "cls.predictions.transform.LayerNorm", eps)
        return {"logits": t @ sd["bert.embeddings.word_embeddings.weight"].T + sd["cls.predictions.bias"]}
    return {"last_hidden_state": x, "pooler_output": torch.tanh(lin(sd, x[:, 0], "pooler.dense"))}


def bert_cases(out):
    base = {"model_type": "bert", "vocab_size": 97, "hidden_size": 32, "num_hidden_layers": 2,
            "num_attention_heads": 4, "intermediate_size": 48, "max_position_embeddings": 40,
            "type_vocab_size": 2, "hidden_act": "gelu", "layer_norm_eps": 1e-12}
    B, S = 2, 7
    ids = torch.randint(0, 97, (B, S))
    mask = torch.ones(B, S, dtype=torch.int64)
    mask[1, 5:] = 0
    tt = torch.zeros(B, S, dtype=torch.int64)
    tt[:, 4:] = 1
    inputs = {"input_ids": ids, "attention_mask": mask, "token_type_ids": tt}
    for mlm, case, shards in ((False, "bert", 1), (True, "bert_mlm_sharded", 3)):
        c = dict(base, architectures=["BertForMaskedLM" if mlm else "BertModel"])
        sd = bert_sd(c, mlm)
        save_case(out, case, c, sd, inputs, lambda u, c=c, mlm=mlm: bert_ref(u, c, ids, mask, tt, mlm),
                  shards=shards)


# ---- GPT-2 -----------------------------------------------------------------

def gpt2_sd(c):
    H, V, P = c["n_embd"], c["vocab_size"], c["n_positions"]
    I = 4 * H
    sd = {"transformer.wte.weight": rnd(V, H), "transformer.wpe.weight": rnd(P, H),
          "transformer.ln_f.weight": 1 + rnd(H, scale=0.1), "transformer.ln_f.bias": rnd(H, scale=0.1)}
    for l in range(c["n_layer"]):
        q = "transformer.h.%d." % l
        for n, (i, o) in {"attn.c_attn": (H, 3 * H), "attn.c_proj": (H, H),
                          "mlp.c_fc": (H, I), "mlp.c_proj": (I, H)}.items():
            sd[q + n + ".weight"] = rnd(i, o, scale=1 / math.sqrt(i))  # Conv1D: [in, out]
            sd[q + n + ".bias"] = rnd(o, scale=0.1)
        for n in ("ln_1", "ln_2"):
            sd[q + n + ".weight"] = 1 + rnd(H, scale=0.1)
            sd[q + n + ".bias"] = rnd(H, scale=0.1)
    return sd


def gpt2_ref(sd, c, ids, mask, pos, past):
    H, nh, eps = c["n_embd"], c["n_head"], c["layer_norm_epsilon"]
    d = H // nh
    x = sd["transformer.wte.weight"][ids] + sd["transformer.wpe.weight"][pos]
    bias = causal_bias(mask, ids.shape[1])
    outs = {}
    for l in range(c["n_layer"]):
        q = "transformer.h.%d." % l
        h = ln(sd, x, q + "ln_1", eps)
        qkv = h @ sd[q + "attn.c_attn.weight"] + sd[q + "attn.c_attn.bias"]
        Q, K, Vv = (heads(t, nh, d) for t in qkv.split(H, dim=2))
        if past is not None:
            K = torch.cat([past[l][0], K], 2)
            Vv = torch.cat([past[l][1], Vv], 2)
            outs["present.%d.key" % l], outs["present.%d.value" % l] = K, Vv
        a = torch.softmax(Q @ K.transpose(-1, -2) / math.sqrt(d) + bias, -1)
        ctx = merge(a @ Vv)
        x = x + ctx @ sd[q + "attn.c_proj.weight"] + sd[q + "attn.c_proj.bias"]
        h = ln(sd, x, q + "ln_2", eps)
        h = gelu_new(h @ sd[q + "mlp.c_fc.weight"] + sd[q + "mlp.c_fc.bias"])
        x = x + h @ sd[q + "mlp.c_proj.weight"] + sd[q + "mlp.c_proj.bias"]
    x = ln(sd, x, "transformer.ln_f", eps)
    outs["logits"] = x @ sd["transformer.wte.weight"].T
    return outs


def gpt2_cases(out):
    c = {"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"], "vocab_size": 101,
         "n_embd": 32, "n_layer": 2, "n_head": 4, "n_positions": 64, "n_inner": None,
         "activation_function": "gelu_new", "layer_norm_epsilon": 1e-5}
    sd = gpt2_sd(c)
    B, S = 2, 6
    ids = torch.randint(0, 101, (B, S))
    mask = torch.ones(B, S, dtype=torch.int64)
    mask[1, 4:] = 0
    pos = torch.arange(S)[None].repeat(B, 1)
    save_case(out, "gpt2", c, sd, {"input_ids": ids, "attention_mask": mask, "position_ids": pos},
              lambda u: gpt2_ref(u, c, ids, mask, pos, None))
    # With a KV cache: 3 cached positions, 2 new tokens.
    P, S2 = 3, 2
    d = c["n_embd"] // c["n_head"]
    past = [(rnd(B, c["n_head"], P, d, scale=1.0), rnd(B, c["n_head"], P, d, scale=1.0))
            for _ in range(c["n_layer"])]
    ids2 = torch.randint(0, 101, (B, S2))
    mask2 = torch.ones(B, P + S2, dtype=torch.int64)
    pos2 = torch.arange(P, P + S2)[None].repeat(B, 1)
    inputs = {"input_ids": ids2, "attention_mask": mask2, "position_ids": pos2}
    for l, (k, v) in enumerate(past):
        inputs["past_key_values.%d.key" % l] = k
        inputs["past_key_values.%d.value" % l] = v
    save_case(out, "gpt2_past", c, sd, inputs, lambda u: gpt2_ref(u, c, ids2, mask2, pos2, past),
              options="--with-past")


# ---- Llama / Qwen2 ---------------------------------------------------------

def llama_sd(c, qwen):
    H, I, V = c["hidden_size"], c["intermediate_size"], c["vocab_size"]
    nh, kv = c["num_attention_heads"], c["num_key_value_heads"]
    d = H // nh
    sd = {"model.embed_tokens.weight": rnd(V, H, scale=1.0), "model.norm.weight": 1 + rnd(H, scale=0.1)}
    if not c.get("tie_word_embeddings"):
        sd["lm_head.weight"] = rnd(V, H, scale=1 / math.sqrt(H))
    for l in range(c["num_hidden_layers"]):
        q = "model.layers.%d." % l
        for n, (o, i) in {"self_attn.q_proj": (nh * d, H), "self_attn.k_proj": (kv * d, H),
                          "self_attn.v_proj": (kv * d, H), "self_attn.o_proj": (H, nh * d),
                          "mlp.gate_proj": (I, H), "mlp.up_proj": (I, H), "mlp.down_proj": (H, I)}.items():
            sd[q + n + ".weight"] = rnd(o, i, scale=1 / math.sqrt(i))
        if qwen:
            for n, o in (("q_proj", nh * d), ("k_proj", kv * d), ("v_proj", kv * d)):
                sd[q + "self_attn." + n + ".bias"] = rnd(o, scale=0.1)
        sd[q + "input_layernorm.weight"] = 1 + rnd(H, scale=0.1)
        sd[q + "post_attention_layernorm.weight"] = 1 + rnd(H, scale=0.1)
    return sd


def rms(x, w, eps):
    return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat([-x[..., h:], x[..., :h]], -1)


def llama_ref(sd, c, ids, mask, pos, past, qwen):
    H, nh, kv, eps = c["hidden_size"], c["num_attention_heads"], c["num_key_value_heads"], c["rms_norm_eps"]
    d = H // nh
    inv_freq = 1.0 / (c["rope_theta"] ** (torch.arange(0, d, 2, dtype=torch.int64).float() / d))
    freqs = pos[..., None].float() * inv_freq
    emb = torch.cat([freqs, freqs], -1)
    cos, sin = emb.cos()[:, None], emb.sin()[:, None]
    x = sd["model.embed_tokens.weight"][ids]
    bias = causal_bias(mask, ids.shape[1])
    outs = {}
    for l in range(c["num_hidden_layers"]):
        q = "model.layers.%d." % l
        h = rms(x, sd[q + "input_layernorm.weight"], eps)
        Q = heads(lin(sd, h, q + "self_attn.q_proj", qwen), nh, d)
        K = heads(lin(sd, h, q + "self_attn.k_proj", qwen), kv, d)
        Vv = heads(lin(sd, h, q + "self_attn.v_proj", qwen), kv, d)
        Q = Q * cos + rotate_half(Q) * sin
        K = K * cos + rotate_half(K) * sin
        if past is not None:
            K = torch.cat([past[l][0], K], 2)
            Vv = torch.cat([past[l][1], Vv], 2)
            outs["present.%d.key" % l], outs["present.%d.value" % l] = K, Vv
        K = K.repeat_interleave(nh // kv, dim=1)
        Vv = Vv.repeat_interleave(nh // kv, dim=1)
        a = torch.softmax(Q @ K.transpose(-1, -2) * d ** -0.5 + bias, -1)
        x = x + lin(sd, merge(a @ Vv), q + "self_attn.o_proj", False)
        h = rms(x, sd[q + "post_attention_layernorm.weight"], eps)
        m = F.silu(lin(sd, h, q + "mlp.gate_proj", False)) * lin(sd, h, q + "mlp.up_proj", False)
        x = x + lin(sd, m, q + "mlp.down_proj", False)
    x = rms(x, sd["model.norm.weight"], eps)
    head = sd["model.embed_tokens.weight"] if c.get("tie_word_embeddings") else sd["lm_head.weight"]
    outs["logits"] = x @ head.T
    return outs


def llama_cases(out):
    for case, qwen, dtype in (("llama", False, None), ("qwen2_bf16", True, "BF16")):
        c = {"model_type": "qwen2" if qwen else "llama",
             "architectures": ["Qwen2ForCausalLM" if qwen else "LlamaForCausalLM"],
             "vocab_size": 113, "hidden_size": 32, "intermediate_size": 56,
             "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
             "max_position_embeddings": 128, "rms_norm_eps": 1e-6,
             "rope_theta": 10000.0 if not qwen else 1000000.0, "hidden_act": "silu",
             "tie_word_embeddings": qwen}
        sd = llama_sd(c, qwen)
        B, S = 2, 5
        ids = torch.randint(0, 113, (B, S))
        mask = torch.ones(B, S, dtype=torch.int64)
        mask[0, 4:] = 0
        pos = torch.arange(S)[None].repeat(B, 1)
        save_case(out, case, c, sd, {"input_ids": ids, "attention_mask": mask, "position_ids": pos},
                  lambda u, c=c, qwen=qwen: llama_ref(u, c, ids, mask, pos, None, qwen), dtype=dtype)
        if qwen:
            continue
        P, S2 = 4, 3
        d = c["hidden_size"] // c["num_attention_heads"]
        past = [(rnd(B, 2, P, d, scale=1.0), rnd(B, 2, P, d, scale=1.0)) for _ in range(2)]
        ids2 = torch.randint(0, 113, (B, S2))
        mask2 = torch.ones(B, P + S2, dtype=torch.int64)
        pos2 = torch.arange(P, P + S2)[None].repeat(B, 1)
        inputs = {"input_ids": ids2, "attention_mask": mask2, "position_ids": pos2}
        for l, (k, v) in enumerate(past):
            inputs["past_key_values.%d.key" % l] = k
            inputs["past_key_values.%d.value" % l] = v
        save_case(out, "llama_past", c, sd, inputs,
                  lambda u, c=c: llama_ref(u, c, ids2, mask2, pos2, past, False), options="--with-past")


# ---- ViT -------------------------------------------------------------------

def vit_cases(out):
    c = {"model_type": "vit", "architectures": ["ViTForImageClassification"], "hidden_size": 32,
         "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 48,
         "image_size": 16, "patch_size": 4, "num_channels": 3, "hidden_act": "gelu",
         "layer_norm_eps": 1e-12, "qkv_bias": True,
         "id2label": {str(i): "LABEL_%d" % i for i in range(5)}}
    H, I, C, ps = 32, 48, 3, 4
    N = (16 // ps) ** 2
    p = "vit."
    sd = {p + "embeddings.cls_token": rnd(1, 1, H), p + "embeddings.position_embeddings": rnd(1, N + 1, H),
          p + "embeddings.patch_embeddings.projection.weight": rnd(H, C, ps, ps, scale=0.2),
          p + "embeddings.patch_embeddings.projection.bias": rnd(H, scale=0.1),
          p + "layernorm.weight": 1 + rnd(H, scale=0.1), p + "layernorm.bias": rnd(H, scale=0.1),
          "classifier.weight": rnd(5, H, scale=0.2), "classifier.bias": rnd(5, scale=0.1)}
    for l in range(2):
        q = p + "encoder.layer.%d." % l
        for n, (o, i) in {"attention.attention.query": (H, H), "attention.attention.key": (H, H),
                          "attention.attention.value": (H, H), "attention.output.dense": (H, H),
                          "intermediate.dense": (I, H), "output.dense": (H, I)}.items():
            sd[q + n + ".weight"] = rnd(o, i, scale=1 / math.sqrt(i))
            sd[q + n + ".bias"] = rnd(o, scale=0.1)
        for n in ("layernorm_before", "layernorm_after"):
            sd[q + n + ".weight"] = 1 + rnd(H, scale=0.1)
            sd[q + n + ".bias"] = rnd(H, scale=0.1)
    px = torch.randn(2, 3, 16, 16)

    def ref(u):
        x = F.conv2d(px, u[p + "embeddings.patch_embeddings.projection.weight"],
                     u[p + "embeddings.patch_embeddings.projection.bias"], stride=ps)
        x = x.flatten(2).transpose(1, 2)
        x = torch.cat([u[p + "embeddings.cls_token"].expand(2, -1, -1), x], 1)
        x = x + u[p + "embeddings.position_embeddings"]
        d = H // 4
        for l in range(2):
            q = p + "encoder.layer.%d." % l
            h = ln(u, x, q + "layernorm_before", 1e-12)
            Q, K, Vv = (heads(lin(u, h, q + "attention.attention." + n), 4, d) for n in ("query", "key", "value"))
            a = torch.softmax(Q @ K.transpose(-1, -2) / math.sqrt(d), -1)
            x = x + lin(u, merge(a @ Vv), q + "attention.output.dense")
            h = ln(u, x, q + "layernorm_after", 1e-12)
            x = x + lin(u, F.gelu(lin(u, h, q + "intermediate.dense")), q + "output.dense")
        x = ln(u, x, p + "layernorm", 1e-12)
        return {"logits": lin(u, x[:, 0], "classifier")}

    save_case(out, "vit", c, sd, {"pixel_values": px}, ref, dtype="F16")


# ---- T5 --------------------------------------------------------------------

def t5_bucket(rel, bidirectional, num_buckets, max_distance):
    """HF's T5Attention._relative_position_bucket."""
    buckets = 0
    if bidirectional:
        num_buckets //= 2
        buckets += (rel > 0).to(torch.long) * num_buckets
        rel = torch.abs(rel)
    else:
        rel = -torch.min(rel, torch.zeros_like(rel))
    max_exact = num_buckets // 2
    is_small = rel < max_exact
    large = max_exact + (torch.log(rel.float() / max_exact) / math.log(max_distance / max_exact)
                         * (num_buckets - max_exact)).to(torch.long)
    large = torch.min(large, torch.full_like(large, num_buckets - 1))
    return buckets + torch.where(is_small, rel, large)


def t5_cases(out):
    # (case, buckets, max distance, feed_forward_proj, tied): the second uses
    # v1.1's gated-gelu, an untied head, and a max distance the encoder's
    # relative positions pass (clipped to the end bucket).
    for case, nb, md, ffp, tie in (("t5", 32, 128, "relu", True), ("t5_v11", 8, 6, "gated-gelu", False)):
        D, KV, NH, FF, L, V = 32, 8, 4, 48, 2, 109
        c = {"model_type": "t5", "architectures": ["T5ForConditionalGeneration"], "vocab_size": V,
             "d_model": D, "d_kv": KV, "d_ff": FF, "num_layers": L, "num_decoder_layers": L,
             "num_heads": NH, "relative_attention_num_buckets": nb,
             "relative_attention_max_distance": md, "layer_norm_epsilon": 1e-6,
             "feed_forward_proj": ffp, "tie_word_embeddings": tie}
        gated = ffp.startswith("gated")
        sd = {"shared.weight": rnd(V, D, scale=1.0)}
        if not tie:
            sd["lm_head.weight"] = rnd(V, D, scale=1 / math.sqrt(D))
        for stack, n_sub in (("encoder", 2), ("decoder", 3)):
            sd[stack + ".final_layer_norm.weight"] = 1 + rnd(D, scale=0.1)
            sd[stack + ".block.0.layer.0.SelfAttention.relative_attention_bias.weight"] = rnd(nb, NH, scale=0.5)
            for l in range(L):
                p = "%s.block.%d.layer." % (stack, l)
                kinds = ["SelfAttention"] + (["EncDecAttention"] if stack == "decoder" else [])
                for i, kind in enumerate(kinds):
                    for n in "qkv":
                        sd[p + "%d.%s.%s.weight" % (i, kind, n)] = rnd(NH * KV, D, scale=1 / math.sqrt(D))
                    sd[p + "%d.%s.o.weight" % (i, kind)] = rnd(D, NH * KV, scale=1 / math.sqrt(NH * KV))
                for i in range(n_sub):
                    sd[p + "%d.layer_norm.weight" % i] = 1 + rnd(D, scale=0.1)
                f = p + "%d.DenseReluDense." % (n_sub - 1)
                for n in (("wi_0", "wi_1") if gated else ("wi",)):
                    sd[f + n + ".weight"] = rnd(FF, D, scale=1 / math.sqrt(D))
                sd[f + "wo.weight"] = rnd(D, FF, scale=1 / math.sqrt(FF))
        B, S, Sd = 2, 9, 5
        ids = torch.randint(0, V, (B, S))
        mask = torch.ones(B, S, dtype=torch.int64)
        mask[1, 6:] = 0
        dids = torch.randint(0, V, (B, Sd))

        def ref(u, c=c, gated=gated, tie=tie, nb=nb, md=md):
            eps = c["layer_norm_epsilon"]

            def bias(w, q, k, bidir):
                rel = torch.arange(k)[None, :] - torch.arange(q)[:, None]
                return w[t5_bucket(rel, bidir, nb, md)].permute(2, 0, 1)[None]

            def attn(p, x, kv, b):
                Q, K, Vv = (heads(t @ u[p + "." + n + ".weight"].T, NH, KV)
                            for n, t in (("q", x), ("k", kv), ("v", kv)))
                a = torch.softmax(Q @ K.transpose(-1, -2) + b, -1)
                return merge(a @ Vv) @ u[p + ".o.weight"].T

            def ff(p, x):
                if gated:
                    h = gelu_new(x @ u[p + "wi_0.weight"].T) * (x @ u[p + "wi_1.weight"].T)
                else:
                    h = F.relu(x @ u[p + "wi.weight"].T)
                return h @ u[p + "wo.weight"].T

            ext = (1.0 - mask[:, None, None, :].float()) * NEG
            x = u["shared.weight"][ids]
            b = bias(u["encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"], S, S, True) + ext
            for l in range(L):
                p = "encoder.block.%d.layer." % l
                x = x + attn(p + "0.SelfAttention", rms(x, u[p + "0.layer_norm.weight"], eps),
                             rms(x, u[p + "0.layer_norm.weight"], eps), b)
                x = x + ff(p + "1.DenseReluDense.", rms(x, u[p + "1.layer_norm.weight"], eps))
            enc = rms(x, u["encoder.final_layer_norm.weight"], eps)
            causal = torch.where(torch.arange(Sd)[None, :] <= torch.arange(Sd)[:, None],
                                 torch.tensor(0.0), torch.tensor(NEG))[None, None]
            db = bias(u["decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"], Sd, Sd, False) + causal
            y = u["shared.weight"][dids]
            for l in range(L):
                p = "decoder.block.%d.layer." % l
                h = rms(y, u[p + "0.layer_norm.weight"], eps)
                y = y + attn(p + "0.SelfAttention", h, h, db)
                y = y + attn(p + "1.EncDecAttention", rms(y, u[p + "1.layer_norm.weight"], eps), enc, ext)
                y = y + ff(p + "2.DenseReluDense.", rms(y, u[p + "2.layer_norm.weight"], eps))
            y = rms(y, u["decoder.final_layer_norm.weight"], eps)
            if tie:
                logits = (y * D ** -0.5) @ u["shared.weight"].T
            else:
                logits = y @ u["lm_head.weight"].T
            return {"logits": logits, "encoder_last_hidden_state": enc}

        save_case(out, case, c, sd, {"input_ids": ids, "attention_mask": mask, "decoder_input_ids": dids}, ref)


# ---- CLIP ------------------------------------------------------------------

def clip_layers(sd, p, L, H, I):
    for l in range(L):
        q = p + "encoder.layers.%d." % l
        for n, (o, i) in {"self_attn.q_proj": (H, H), "self_attn.k_proj": (H, H),
                          "self_attn.v_proj": (H, H), "self_attn.out_proj": (H, H),
                          "mlp.fc1": (I, H), "mlp.fc2": (H, I)}.items():
            sd[q + n + ".weight"] = rnd(o, i, scale=1 / math.sqrt(i))
            sd[q + n + ".bias"] = rnd(o, scale=0.1)
        for n in ("layer_norm1", "layer_norm2"):
            sd[q + n + ".weight"] = 1 + rnd(H, scale=0.1)
            sd[q + n + ".bias"] = rnd(H, scale=0.1)


def clip_encoder(u, p, x, L, nh, eps, masks):
    H = x.shape[-1]
    d = H // nh
    for l in range(L):
        q = p + "encoder.layers.%d." % l
        h = ln(u, x, q + "layer_norm1", eps)
        Q = heads(lin(u, h, q + "self_attn.q_proj") * d ** -0.5, nh, d)
        K = heads(lin(u, h, q + "self_attn.k_proj"), nh, d)
        Vv = heads(lin(u, h, q + "self_attn.v_proj"), nh, d)
        s = Q @ K.transpose(-1, -2)
        for m in masks:  # HF adds the causal mask, then the padding mask
            s = s + m
        x = x + lin(u, merge(torch.softmax(s, -1) @ Vv), q + "self_attn.out_proj")
        h = ln(u, x, q + "layer_norm2", eps)
        h = lin(u, h, q + "mlp.fc1")
        x = x + lin(u, h * torch.sigmoid(1.702 * h), q + "mlp.fc2")
    return x


def clip_cases(out):
    for case, eos in (("clip", 2), ("clip_eos", 7)):
        V, P, TH, TL, TN, TI = 97, 12, 32, 2, 4, 48
        VH, VL, VN, VI, IMG, PS, C, PROJ = 48, 2, 4, 64, 16, 4, 3, 24
        N = (IMG // PS) ** 2
        c = {"model_type": "clip", "architectures": ["CLIPModel"], "projection_dim": PROJ,
             "logit_scale_init_value": 2.6592,
             "text_config": {"vocab_size": V, "hidden_size": TH, "intermediate_size": TI,
                             "num_hidden_layers": TL, "num_attention_heads": TN,
                             "max_position_embeddings": P, "hidden_act": "quick_gelu",
                             "layer_norm_eps": 1e-5, "eos_token_id": eos},
             "vision_config": {"hidden_size": VH, "intermediate_size": VI, "num_hidden_layers": VL,
                               "num_attention_heads": VN, "image_size": IMG, "patch_size": PS,
                               "num_channels": C, "hidden_act": "quick_gelu", "layer_norm_eps": 1e-5}}
        sd = {"text_model.embeddings.token_embedding.weight": rnd(V, TH, scale=0.5),
              "text_model.embeddings.position_embedding.weight": rnd(P, TH, scale=0.2),
              "text_model.final_layer_norm.weight": 1 + rnd(TH, scale=0.1),
              "text_model.final_layer_norm.bias": rnd(TH, scale=0.1),
              "vision_model.embeddings.class_embedding": rnd(VH, scale=0.5),
              "vision_model.embeddings.patch_embedding.weight": rnd(VH, C, PS, PS, scale=0.2),
              "vision_model.embeddings.position_embedding.weight": rnd(N + 1, VH, scale=0.2),
              "vision_model.pre_layrnorm.weight": 1 + rnd(VH, scale=0.1),
              "vision_model.pre_layrnorm.bias": rnd(VH, scale=0.1),
              "vision_model.post_layernorm.weight": 1 + rnd(VH, scale=0.1),
              "vision_model.post_layernorm.bias": rnd(VH, scale=0.1),
              "text_projection.weight": rnd(PROJ, TH, scale=1 / math.sqrt(TH)),
              "visual_projection.weight": rnd(PROJ, VH, scale=1 / math.sqrt(VH)),
              "logit_scale": torch.tensor(2.6592)}
        clip_layers(sd, "text_model.", TL, TH, TI)
        clip_layers(sd, "vision_model.", VL, VH, VI)
        B, S = 2, 8
        ids = torch.randint(3, V, (B, S))
        if eos == 2:
            ids[0, 5] = V - 1  # argmax pooling picks these
            ids[1, 3] = V - 1
        else:
            ids[ids == eos] = eos + 1
            ids[0, 6] = eos
            ids[1, 2] = eos
            ids[1, 4] = eos  # the first one counts
        mask = torch.ones(B, S, dtype=torch.int64)
        mask[1, 5:] = 0
        px = torch.randn(B, C, IMG, IMG)

        def ref(u, eos=eos):
            eps = 1e-5
            x = u["text_model.embeddings.token_embedding.weight"][ids] + \
                u["text_model.embeddings.position_embedding.weight"][torch.arange(S)]
            causal = torch.full((S, S), NEG).triu(1)[None, None]
            pad = (1.0 - mask[:, None, None, :].float()) * NEG
            x = clip_encoder(u, "text_model.", x, TL, TN, eps, (causal, pad))
            x = ln(u, x, "text_model.final_layer_norm", eps)
            if eos == 2:
                at = ids.to(torch.int).argmax(-1)
            else:
                at = (ids.to(torch.int) == eos).int().argmax(-1)
            t = x[torch.arange(B), at] @ u["text_projection.weight"].T
            y = F.conv2d(px, u["vision_model.embeddings.patch_embedding.weight"], stride=PS)
            y = y.flatten(2).transpose(1, 2)
            y = torch.cat([u["vision_model.embeddings.class_embedding"].expand(B, 1, -1), y], 1)
            y = y + u["vision_model.embeddings.position_embedding.weight"][torch.arange(N + 1)]
            y = ln(u, y, "vision_model.pre_layrnorm", eps)
            y = clip_encoder(u, "vision_model.", y, VL, VN, eps, ())
            i = ln(u, y[:, 0], "vision_model.post_layernorm", eps) @ u["visual_projection.weight"].T
            t = t / t.norm(p=2, dim=-1, keepdim=True)
            i = i / i.norm(p=2, dim=-1, keepdim=True)
            lpt = t @ i.t() * u["logit_scale"].exp()
            return {"logits_per_image": lpt.t(), "logits_per_text": lpt, "text_embeds": t,
                    "image_embeds": i}

        save_case(out, case, c, sd, {"input_ids": ids, "pixel_values": px, "attention_mask": mask}, ref)


# ---- Whisper ---------------------------------------------------------------

def sinusoids(length, channels, max_timescale=10000):
    """HF's whisper sinusoids()."""
    inc = np.log(max_timescale) / (channels // 2 - 1)
    inv = torch.exp(-inc * torch.arange(channels // 2))
    t = torch.arange(length).view(-1, 1) * inv.view(1, -1)
    return torch.cat([t.sin(), t.cos()], dim=1)


def whisper_cases(out):
    V, M, D, L, NH, FF, MS, MT = 103, 8, 32, 2, 4, 48, 12, 20
    c = {"model_type": "whisper", "architectures": ["WhisperForConditionalGeneration"],
         "vocab_size": V, "num_mel_bins": M, "d_model": D, "encoder_layers": L,
         "encoder_attention_heads": NH, "decoder_layers": L, "decoder_attention_heads": NH,
         "encoder_ffn_dim": FF, "decoder_ffn_dim": FF, "max_source_positions": MS,
         "max_target_positions": MT, "activation_function": "gelu", "scale_embedding": False}
    p = "model."
    sd = {p + "encoder.conv1.weight": rnd(D, M, 3, scale=0.3), p + "encoder.conv1.bias": rnd(D, scale=0.1),
          p + "encoder.conv2.weight": rnd(D, D, 3, scale=0.1), p + "encoder.conv2.bias": rnd(D, scale=0.1),
          p + "encoder.embed_positions.weight": sinusoids(MS, D),
          p + "decoder.embed_tokens.weight": rnd(V, D, scale=0.5),
          p + "decoder.embed_positions.weight": rnd(MT, D, scale=0.2)}
    for stack in ("encoder", "decoder"):
        sd[p + stack + ".layer_norm.weight"] = 1 + rnd(D, scale=0.1)
        sd[p + stack + ".layer_norm.bias"] = rnd(D, scale=0.1)
        for l in range(L):
            q = p + "%s.layers.%d." % (stack, l)
            for kind in ("self_attn",) + (("encoder_attn",) if stack == "decoder" else ()):
                for n in ("q_proj", "k_proj", "v_proj", "out_proj"):
                    sd[q + kind + "." + n + ".weight"] = rnd(D, D, scale=1 / math.sqrt(D))
                    if n != "k_proj":
                        sd[q + kind + "." + n + ".bias"] = rnd(D, scale=0.1)
                sd[q + kind + "_layer_norm.weight"] = 1 + rnd(D, scale=0.1)
                sd[q + kind + "_layer_norm.bias"] = rnd(D, scale=0.1)
            sd[q + "fc1.weight"] = rnd(FF, D, scale=1 / math.sqrt(D))
            sd[q + "fc1.bias"] = rnd(FF, scale=0.1)
            sd[q + "fc2.weight"] = rnd(D, FF, scale=1 / math.sqrt(FF))
            sd[q + "fc2.bias"] = rnd(D, scale=0.1)
            sd[q + "final_layer_norm.weight"] = 1 + rnd(D, scale=0.1)
            sd[q + "final_layer_norm.bias"] = rnd(D, scale=0.1)
    B, Sd = 2, 6
    feats = torch.randn(B, M, 2 * MS)
    dids = torch.randint(0, V, (B, Sd))

    def ref(u):
        d = D // NH

        def attn(q, x, kv, mask):
            Q = heads(lin(u, x, q + ".q_proj") * d ** -0.5, NH, d)
            K = heads(lin(u, kv, q + ".k_proj", False), NH, d)
            Vv = heads(lin(u, kv, q + ".v_proj"), NH, d)
            s = Q @ K.transpose(-1, -2)
            if mask is not None:
                s = s + mask
            return lin(u, merge(torch.softmax(s, -1) @ Vv), q + ".out_proj")

        def mlp(q, x):
            h = ln(u, x, q + "final_layer_norm", 1e-5)
            return lin(u, F.gelu(lin(u, h, q + "fc1")), q + "fc2")

        x = F.gelu(F.conv1d(feats, u[p + "encoder.conv1.weight"], u[p + "encoder.conv1.bias"], padding=1))
        x = F.gelu(F.conv1d(x, u[p + "encoder.conv2.weight"], u[p + "encoder.conv2.bias"], stride=2, padding=1))
        x = x.permute(0, 2, 1) + u[p + "encoder.embed_positions.weight"]
        for l in range(L):
            q = p + "encoder.layers.%d." % l
            h = ln(u, x, q + "self_attn_layer_norm", 1e-5)
            x = x + attn(q + "self_attn", h, h, None)
            x = x + mlp(q, x)
        enc = ln(u, x, p + "encoder.layer_norm", 1e-5)
        causal = torch.full((Sd, Sd), NEG).triu(1)[None, None]
        y = u[p + "decoder.embed_tokens.weight"][dids] + u[p + "decoder.embed_positions.weight"][:Sd]
        for l in range(L):
            q = p + "decoder.layers.%d." % l
            h = ln(u, y, q + "self_attn_layer_norm", 1e-5)
            y = y + attn(q + "self_attn", h, h, causal)
            y = y + attn(q + "encoder_attn", ln(u, y, q + "encoder_attn_layer_norm", 1e-5), enc, None)
            y = y + mlp(q, y)
        y = ln(u, y, p + "decoder.layer_norm", 1e-5)
        return {"logits": y @ u[p + "decoder.embed_tokens.weight"].T, "encoder_last_hidden_state": enc}

    save_case(out, "whisper", c, sd, {"input_features": feats, "decoder_input_ids": dids}, ref)


# ---- wav2vec 2.0 -----------------------------------------------------------

def wav2vec2_cases(out):
    # (case, architecture, feat_extract_norm, stable layer norm, conv bias,
    #  pos-conv kernel, weight-norm names, checkpoint dtype)
    for case, arch, norm, stable, cbias, K, new_wn, dtype in (
            ("wav2vec2_ctc_f16", "Wav2Vec2ForCTC", "group", False, False, 6, False, "F16"),
            ("wav2vec2_stable", "Wav2Vec2Model", "layer", True, True, 5, True, None)):
        H, L, NH, I, G, Vc = 32, 2, 4, 48, 4, 12
        cd, ck, cs = [16, 16, 24], [10, 3, 3], [5, 2, 2]
        c = {"model_type": "wav2vec2", "architectures": [arch], "hidden_size": H,
             "num_hidden_layers": L, "num_attention_heads": NH, "intermediate_size": I,
             "hidden_act": "gelu", "layer_norm_eps": 1e-5, "conv_dim": cd, "conv_kernel": ck,
             "conv_stride": cs, "conv_bias": cbias, "feat_extract_norm": norm,
             "feat_extract_activation": "gelu", "num_conv_pos_embeddings": K,
             "num_conv_pos_embedding_groups": G, "do_stable_layer_norm": stable, "vocab_size": Vc}
        p = "wav2vec2." if arch == "Wav2Vec2ForCTC" else ""
        sd = {}
        cin = 1
        for i, (o, k) in enumerate(zip(cd, ck)):
            q = p + "feature_extractor.conv_layers.%d." % i
            sd[q + "conv.weight"] = rnd(o, cin, k, scale=1 / math.sqrt(cin * k))
            if cbias:
                sd[q + "conv.bias"] = rnd(o, scale=0.1)
            if norm == "layer" or i == 0:
                sd[q + "layer_norm.weight"] = 1 + rnd(o, scale=0.1)
                sd[q + "layer_norm.bias"] = rnd(o, scale=0.1)
            cin = o
        sd[p + "feature_projection.layer_norm.weight"] = 1 + rnd(cin, scale=0.1)
        sd[p + "feature_projection.layer_norm.bias"] = rnd(cin, scale=0.1)
        sd[p + "feature_projection.projection.weight"] = rnd(H, cin, scale=1 / math.sqrt(cin))
        sd[p + "feature_projection.projection.bias"] = rnd(H, scale=0.1)
        wg, wv = (("parametrizations.weight.original0", "parametrizations.weight.original1") if new_wn
                  else ("weight_g", "weight_v"))
        sd[p + "encoder.pos_conv_embed.conv." + wg] = 0.5 + torch.rand(1, 1, K)
        sd[p + "encoder.pos_conv_embed.conv." + wv] = rnd(H, H // G, K)
        sd[p + "encoder.pos_conv_embed.conv.bias"] = rnd(H, scale=0.1)
        sd[p + "encoder.layer_norm.weight"] = 1 + rnd(H, scale=0.1)
        sd[p + "encoder.layer_norm.bias"] = rnd(H, scale=0.1)
        sd[p + "masked_spec_embed"] = torch.rand(H)  # training only: left unused
        for l in range(L):
            q = p + "encoder.layers.%d." % l
            for n, (o, i) in {"attention.q_proj": (H, H), "attention.k_proj": (H, H),
                              "attention.v_proj": (H, H), "attention.out_proj": (H, H),
                              "feed_forward.intermediate_dense": (I, H),
                              "feed_forward.output_dense": (H, I)}.items():
                sd[q + n + ".weight"] = rnd(o, i, scale=1 / math.sqrt(i))
                sd[q + n + ".bias"] = rnd(o, scale=0.1)
            for n in ("layer_norm", "final_layer_norm"):
                sd[q + n + ".weight"] = 1 + rnd(H, scale=0.1)
                sd[q + n + ".bias"] = rnd(H, scale=0.1)
        if arch == "Wav2Vec2ForCTC":
            sd["lm_head.weight"] = rnd(Vc, H, scale=1 / math.sqrt(H))
            sd["lm_head.bias"] = rnd(Vc, scale=0.1)
        wave = torch.randn(2, 400)

        def ref(u, p=p, norm=norm, stable=stable, cbias=cbias, K=K, wg=wg, wv=wv, arch=arch):
            x = wave[:, None]
            for i, (o, s) in enumerate(zip(cd, cs)):
                q = p + "feature_extractor.conv_layers.%d." % i
                x = F.conv1d(x, u[q + "conv.weight"], u[q + "conv.bias"] if cbias else None, stride=s)
                if norm == "group" and i == 0:
                    x = F.group_norm(x, o, u[q + "layer_norm.weight"], u[q + "layer_norm.bias"], 1e-5)
                elif norm == "layer":
                    x = ln(u, x.transpose(-2, -1), q + "layer_norm", 1e-5).transpose(-2, -1)
                x = F.gelu(x)
            x = x.transpose(1, 2)
            x = lin(u, ln(u, x, p + "feature_projection.layer_norm", 1e-5), p + "feature_projection.projection")
            w = torch._weight_norm(u[p + "encoder.pos_conv_embed.conv." + wv],
                                   u[p + "encoder.pos_conv_embed.conv." + wg], 2)
            pc = F.conv1d(x.transpose(1, 2), w, u[p + "encoder.pos_conv_embed.conv.bias"],
                          padding=K // 2, groups=G)
            if K % 2 == 0:
                pc = pc[:, :, :-1]
            x = x + F.gelu(pc).transpose(1, 2)
            if not stable:
                x = ln(u, x, p + "encoder.layer_norm", 1e-5)
            d = H // NH
            for l in range(L):
                q = p + "encoder.layers.%d." % l
                h = ln(u, x, q + "layer_norm", 1e-5) if stable else x
                Q = heads(lin(u, h, q + "attention.q_proj") * d ** -0.5, NH, d)
                Kk = heads(lin(u, h, q + "attention.k_proj"), NH, d)
                Vv = heads(lin(u, h, q + "attention.v_proj"), NH, d)
                x = x + lin(u, merge(torch.softmax(Q @ Kk.transpose(-1, -2), -1) @ Vv), q + "attention.out_proj")
                if not stable:
                    x = ln(u, x, q + "layer_norm", 1e-5)
                h = ln(u, x, q + "final_layer_norm", 1e-5) if stable else x
                h = F.gelu(lin(u, h, q + "feed_forward.intermediate_dense"))
                x = x + lin(u, h, q + "feed_forward.output_dense")
                if not stable:
                    x = ln(u, x, q + "final_layer_norm", 1e-5)
            if stable:
                x = ln(u, x, p + "encoder.layer_norm", 1e-5)
            if arch == "Wav2Vec2ForCTC":
                return {"logits": lin(u, x, "lm_head")}
            return {"last_hidden_state": x}

        save_case(out, case, c, sd, {"input_values": wave}, ref, dtype=dtype)


def main():
    out = sys.argv[1]
    bert_cases(out)
    gpt2_cases(out)
    llama_cases(out)
    vit_cases(out)
    # DETR, X-CLIP, LLaVA, CLAP text: zoo_ref_models_vision.py, using the helpers here.
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import zoo_ref_models_vision
    zoo_ref_models_vision.cases(sys.modules[__name__], out)
    t5_cases(out)
    clip_cases(out)
    whisper_cases(out)
    wav2vec2_cases(out)


if __name__ == "__main__":
    main()
