"""Workload models for bench/vs-onnxruntime/run.sh, exported with torch.

Run with Debian's /usr/bin/python3 (python3-torch, python3-onnx, numpy).

    export_models.py DIR [NAME...]    writes DIR/<name>/model.onnx and the
                                      inputs DIR/<name>/<set>/<input>.npy

Models (fp32, seeded random weights, eval mode; the shapes are the real
architectures', the weights are not trained ones, which does not change
the work an engine does):
  bert     BERT-base encoder: 12 layers, hidden 768, 12 heads, FFN 3072,
           vocab 30522, erf GELU; inputs input_ids, attention_mask [B, S]
           (dynamic B, S); sets b1 (1 x 128) and b8 (8 x 128)
  gpt2_prefill  GPT-2 small: 12 layers, 768, 12 heads, vocab 50257, tanh
           GELU, causal mask; input_ids [1, 128] -> logits + presents
  gpt2_decode   the same weights, one token against a 128-token KV cache:
           input_ids [1, 1], past_{k,v}_<i> [1, 12, 128, 64]
  vit      ViT-base/16: 224 x 224, 12 layers, 768, 12 heads, 1000 classes
  lstm     2-layer LSTM (input 128, hidden 256) over 100 steps, batch 1,
           then a linear head: many small GEMMs in a loop
Opset 14, so LayerNorm and GELU are exported decomposed (ReduceMean ...
Sqrt/Div, Erf/Mul), as most exported transformer models in the wild are.
Each model has a stamp file (hash of this script + torch version); a
matching stamp skips the export.
"""
import hashlib
import math
import os
import sys

import numpy as np

OPSET = 14


def _stamp():
    with open(__file__, "rb") as f:
        h = hashlib.sha256(f.read()).hexdigest()[:16]
    import torch

    return "%s torch-%s" % (h, torch.__version__)


def _models():
    import torch
    from torch import nn
    import torch.nn.functional as F

    class Attn(nn.Module):
        """Multi-head self-attention written out, as HF's BERT/ViT do."""

        def __init__(self, d, h):
            super().__init__()
            self.h, self.hd = h, d // h
            self.q, self.k, self.v, self.o = (nn.Linear(d, d) for _ in range(4))

        def split(self, x):
            b, s, _ = x.shape
            return x.view(b, s, self.h, self.hd).permute(0, 2, 1, 3)

        def forward(self, x, mask_add=None):
            q, k, v = self.split(self.q(x)), self.split(self.k(x)), self.split(self.v(x))
            w = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.hd)
            if mask_add is not None:
                w = w + mask_add
            p = F.softmax(w, dim=-1)
            c = torch.matmul(p, v).permute(0, 2, 1, 3).contiguous()
            return self.o(c.view(c.shape[0], c.shape[1], self.h * self.hd))

    class PostLNLayer(nn.Module):  # BERT
        def __init__(self, d, h, ff):
            super().__init__()
            self.attn = Attn(d, h)
            self.ln1 = nn.LayerNorm(d, eps=1e-12)
            self.fc1, self.fc2 = nn.Linear(d, ff), nn.Linear(ff, d)
            self.ln2 = nn.LayerNorm(d, eps=1e-12)

        def forward(self, x, mask_add):
            x = self.ln1(x + self.attn(x, mask_add))
            return self.ln2(x + self.fc2(F.gelu(self.fc1(x))))

    class PreLNLayer(nn.Module):  # ViT
        def __init__(self, d, h, ff):
            super().__init__()
            self.ln1, self.ln2 = nn.LayerNorm(d, eps=1e-12), nn.LayerNorm(d, eps=1e-12)
            self.attn = Attn(d, h)
            self.fc1, self.fc2 = nn.Linear(d, ff), nn.Linear(ff, d)

        def forward(self, x):
            x = x + self.attn(self.ln1(x))
            return x + self.fc2(F.gelu(self.fc1(self.ln2(x))))

    class Bert(nn.Module):
        def __init__(self, vocab=30522, d=768, h=12, ff=3072, layers=12, max_pos=512):
            super().__init__()
            self.word = nn.Embedding(vocab, d)
            self.pos = nn.Embedding(max_pos, d)
            self.typ = nn.Embedding(2, d)
            self.ln = nn.LayerNorm(d, eps=1e-12)
            self.layers = nn.ModuleList(PostLNLayer(d, h, ff) for _ in range(layers))

        def forward(self, input_ids, attention_mask):
            s = input_ids.shape[1]
            pos = torch.arange(s, dtype=torch.long).unsqueeze(0)
            x = self.word(input_ids) + self.pos(pos) + self.typ(torch.zeros_like(input_ids))
            x = self.ln(x)
            m = (1.0 - attention_mask[:, None, None, :].to(torch.float32)) * -10000.0
            for l in self.layers:
                x = l(x, m)
            return x

    class Vit(nn.Module):
        def __init__(self, d=768, h=12, ff=3072, layers=12, patch=16, img=224, classes=1000):
            super().__init__()
            self.patch = nn.Conv2d(3, d, patch, patch)
            n = (img // patch) ** 2
            self.cls = nn.Parameter(torch.randn(1, 1, d) * 0.02)
            self.pos = nn.Parameter(torch.randn(1, n + 1, d) * 0.02)
            self.layers = nn.ModuleList(PreLNLayer(d, h, ff) for _ in range(layers))
            self.ln = nn.LayerNorm(d, eps=1e-12)
            self.head = nn.Linear(d, classes)

        def forward(self, pixel_values):
            x = self.patch(pixel_values).flatten(2).transpose(1, 2)
            x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], dim=1) + self.pos
            for l in self.layers:
                x = l(x)
            return self.head(self.ln(x)[:, 0])

    class Gpt2Block(nn.Module):
        def __init__(self, d, h):
            super().__init__()
            self.h, self.hd = h, d // h
            self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
            self.c_attn, self.c_proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
            self.fc, self.proj = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)

        def forward(self, x, mask, pk=None, pv=None):
            b, s, d = x.shape
            q, k, v = self.c_attn(self.ln1(x)).split(d, dim=2)
            q, k, v = (t.view(b, s, self.h, self.hd).permute(0, 2, 1, 3) for t in (q, k, v))
            if pk is not None:
                k, v = torch.cat([pk, k], dim=2), torch.cat([pv, v], dim=2)
            w = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.hd)
            if mask is not None:
                w = w + mask
            c = torch.matmul(F.softmax(w, dim=-1), v).permute(0, 2, 1, 3).reshape(b, s, d)
            x = x + self.c_proj(c)
            x = x + self.proj(F.gelu(self.fc(self.ln2(x)), approximate="tanh"))
            return x, k, v

    class Gpt2(nn.Module):
        def __init__(self, vocab=50257, d=768, h=12, layers=12, n_pos=1024, decode=False):
            super().__init__()
            self.decode = decode
            self.wte, self.wpe = nn.Embedding(vocab, d), nn.Embedding(n_pos, d)
            self.blocks = nn.ModuleList(Gpt2Block(d, h) for _ in range(layers))
            self.ln = nn.LayerNorm(d)
            m = torch.triu(torch.full((n_pos, n_pos), -1e4), diagonal=1)
            self.register_buffer("causal", m)

        def forward(self, input_ids, *past):
            s = input_ids.shape[1]
            p0 = past[0].shape[2] if past else 0
            pos = torch.arange(p0, p0 + s, dtype=torch.long).unsqueeze(0)
            x = self.wte(input_ids) + self.wpe(pos)
            mask = None if past else self.causal[:s, :s]
            presents = []
            for i, blk in enumerate(self.blocks):
                pk, pv = (past[2 * i], past[2 * i + 1]) if past else (None, None)
                x, k, v = blk(x, mask, pk, pv)
                presents += [k, v]
            logits = torch.matmul(self.ln(x), self.wte.weight.t())
            return (logits, *presents)

    class Lstm(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(128, 256, num_layers=2)
            self.head = nn.Linear(256, 64)

        def forward(self, x):
            y, _ = self.lstm(x)
            return self.head(y)

    return torch, {"bert": Bert, "vit": Vit, "gpt2": Gpt2, "lstm": Lstm}


def export(out_dir, names):
    torch, M = _models()
    stamp = _stamp()
    rng = np.random.default_rng(0)
    todo = names or ["bert", "gpt2_prefill", "gpt2_decode", "vit", "lstm"]
    for name in todo:
        d = os.path.join(out_dir, name)
        sp = os.path.join(d, "stamp")
        if os.path.exists(sp) and open(sp).read() == stamp:
            print("%s: up to date" % name, file=sys.stderr)
            continue
        os.makedirs(d, exist_ok=True)
        torch.manual_seed(0)
        sets = {}  # set name -> {input: array}
        if name == "bert":
            model = M["bert"]()
            for b in (1, 8):
                ids = rng.integers(0, 30522, size=(b, 128), dtype=np.int64)
                mask = np.ones((b, 128), dtype=np.int64)
                mask[:, 112:] = 0  # some padding, so the mask add does work
                sets["b%d" % b] = {"input_ids": ids, "attention_mask": mask}
            in_names, out_names = ["input_ids", "attention_mask"], ["last_hidden_state"]
            dyn = {"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"},
                   "last_hidden_state": {0: "batch", 1: "seq"}}
        elif name == "vit":
            model = M["vit"]()
            sets["b1"] = {"pixel_values": rng.standard_normal((1, 3, 224, 224), dtype=np.float32)}
            in_names, out_names, dyn = ["pixel_values"], ["logits"], {}
        elif name.startswith("gpt2"):
            decode = name == "gpt2_decode"
            model = M["gpt2"](decode=decode)
            out_names = ["logits"] + ["present_%s_%d" % (kv, i) for i in range(12) for kv in "kv"]
            if decode:
                feed = {"input_ids": rng.integers(0, 50257, size=(1, 1), dtype=np.int64)}
                for i in range(12):
                    for kv in "kv":
                        feed["past_%s_%d" % (kv, i)] = rng.standard_normal(
                            (1, 12, 128, 64), dtype=np.float32)
            else:
                feed = {"input_ids": rng.integers(0, 50257, size=(1, 128), dtype=np.int64)}
            sets["b1"] = feed
            in_names, dyn = list(feed), {}
        elif name == "lstm":
            model = M["lstm"]()
            sets["b1"] = {"x": rng.standard_normal((100, 1, 128), dtype=np.float32)}
            in_names, out_names, dyn = ["x"], ["y"], {}
        else:
            sys.exit("export_models: unknown model %s" % name)
        model.eval()
        first = next(iter(sets.values()))
        args = tuple(torch.from_numpy(first[k]) for k in in_names)
        path = os.path.join(d, "model.onnx")
        with torch.no_grad():
            torch.onnx.export(model, args, path + ".tmp", input_names=in_names,
                              output_names=out_names, dynamic_axes=dyn or None,
                              opset_version=OPSET, do_constant_folding=True)
        os.replace(path + ".tmp", path)
        for sname, feed in sets.items():
            os.makedirs(os.path.join(d, sname), exist_ok=True)
            for k, v in feed.items():
                np.save(os.path.join(d, sname, k + ".npy"), v)
        with open(sp, "w") as f:
            f.write(stamp)
        print("%s: exported (%d MB)" % (name, os.path.getsize(path) >> 20), file=sys.stderr)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: export_models.py DIR [NAME...]")
    export(sys.argv[1], sys.argv[2:])
