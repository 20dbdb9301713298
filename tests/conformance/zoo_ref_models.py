#!/usr/bin/python3
"""Reference implementations for tests/conformance/zoo_vs_torch.sh.

Writes tiny Hugging Face style checkpoints (config.json + safetensors,
written by hand: the safetensors package is not used) with random weights
under their HF tensor names, plus inputs and the outputs of a PyTorch
forward pass written here from the HF architectures (BERT, GPT-2, Llama,
Qwen2, ViT). Each case lands in OUT/<case>/:
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


def main():
    out = sys.argv[1]
    bert_cases(out)
    gpt2_cases(out)
    llama_cases(out)
    vit_cases(out)


if __name__ == "__main__":
    main()
