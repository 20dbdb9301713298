"""Small PyTorch models exported to ONNX, with inputs and torch's outputs.

Run with Debian's /usr/bin/python3 (python3-torch 1.13, python3-onnx,
python3-numpy); tests/conformance/torch_models.sh drives it.

    torch_export.py list                 model names, one a line
    torch_export.py export DIR [NAME...] (re)exports models whose stamp is stale
    torch_export.py compare WANT GOT IO  compares GOT/<out>.npy with WANT/<out>.npy

export writes, for each model, DIR/<name>/:
    model.onnx          exported with torch.onnx.export (opset per model) from set 0
    inK/<input>.npy     input set K given to torch (K = 0, 1: set 1 has another
                        batch and sequence length, to check the dynamic axes)
    wantK/<output>.npy  torch's outputs for set K (the reference)
    io.txt              "opset N", "sets K", then "in NAME" and "out NAME" lines
    stamp               hash of this file + torch version; a match skips the model

Weights are seeded (torch.manual_seed), models are in eval mode, and every
model is small (hidden 64, 2 layers, seq 16) so the tier stays fast under
ASan. compare applies |got - want| <= atol + rtol * |want| elementwise
(rtol 1e-4, atol 1e-5 by default), checks dtype and shape, and prints one
line per output with the largest absolute and relative error.
"""
import hashlib
import math
import os
import sys

import numpy as np

HIDDEN = 64
HEADS = 4
LAYERS = 2
SEQ = 16
BATCH = 2
VOCAB = 100


def _stamp():
    with open(__file__, "rb") as f:
        h = hashlib.sha256(f.read()).hexdigest()[:16]
    import torch

    return "%s torch-%s" % (h, torch.__version__)


# ---- models ------------------------------------------------------------------


def _models():
    """Model definitions; imported lazily so `compare` needs no torch."""
    import torch
    from torch import nn
    import torch.nn.functional as F

    class SelfAttention(nn.Module):
        """Multi-head attention written out, as HF's BERT/ViT do."""

        def __init__(self, d, h):
            super().__init__()
            self.h, self.hd = h, d // h
            self.q = nn.Linear(d, d)
            self.k = nn.Linear(d, d)
            self.v = nn.Linear(d, d)
            self.o = nn.Linear(d, d)

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
            b, s = c.shape[0], c.shape[1]
            return self.o(c.view(b, s, self.h * self.hd))

    class BertLayer(nn.Module):
        def __init__(self, d, h, ff):
            super().__init__()
            self.attn = SelfAttention(d, h)
            self.ln1 = nn.LayerNorm(d, eps=1e-12)
            self.fc1 = nn.Linear(d, ff)
            self.fc2 = nn.Linear(ff, d)
            self.ln2 = nn.LayerNorm(d, eps=1e-12)

        def forward(self, x, mask_add):
            x = self.ln1(x + self.attn(x, mask_add))
            return self.ln2(x + self.fc2(F.gelu(self.fc1(x))))

    class Bert(nn.Module):
        """Token + position + token-type embeddings, post-LN encoder, pooler."""

        def __init__(self):
            super().__init__()
            self.tok = nn.Embedding(VOCAB, HIDDEN)
            self.pos = nn.Embedding(64, HIDDEN)
            self.typ = nn.Embedding(2, HIDDEN)
            self.ln = nn.LayerNorm(HIDDEN, eps=1e-12)
            self.layers = nn.ModuleList([BertLayer(HIDDEN, HEADS, 4 * HIDDEN) for _ in range(LAYERS)])
            self.pool = nn.Linear(HIDDEN, HIDDEN)

        def forward(self, input_ids, attention_mask, token_type_ids):
            s = input_ids.shape[1]
            pos = torch.arange(s, dtype=torch.long).unsqueeze(0)
            x = self.ln(self.tok(input_ids) + self.pos(pos) + self.typ(token_type_ids))
            mask_add = (1.0 - attention_mask[:, None, None, :].to(x.dtype)) * -10000.0
            for layer in self.layers:
                x = layer(x, mask_add)
            return x, torch.tanh(self.pool(x[:, 0]))

    def bert_inputs(b, s):
        def make():
            g = torch.Generator().manual_seed(1 + b * 100 + s)
            ids = torch.randint(0, VOCAB, (b, s), generator=g)
            mask = torch.ones(b, s, dtype=torch.long)
            mask[b - 1, s - s // 3 :] = 0  # the last sentence is padded
            typ = torch.zeros(b, s, dtype=torch.long)
            typ[:, s // 2 :] = 1
            return (ids, mask, typ)

        return make

    bert = dict(
        make=Bert,
        inputs=[bert_inputs(BATCH, SEQ), bert_inputs(3, 9)],
        input_names=["input_ids", "attention_mask", "token_type_ids"],
        output_names=["last_hidden_state", "pooler_output"],
        dynamic_axes={
            "input_ids": {0: "batch", 1: "seq"},
            "attention_mask": {0: "batch", 1: "seq"},
            "token_type_ids": {0: "batch", 1: "seq"},
            "last_hidden_state": {0: "batch", 1: "seq"},
            "pooler_output": {0: "batch"},
        },
    )

    class GPT2Attention(nn.Module):
        """HF GPT-2's attention: fused qkv, past key/value, causal buffer."""

        def __init__(self, d, h, max_pos):
            super().__init__()
            self.h, self.hd, self.d = h, d // h, d
            self.c_attn = nn.Linear(d, 3 * d)
            self.c_proj = nn.Linear(d, d)
            tril = torch.tril(torch.ones(max_pos, max_pos, dtype=torch.bool))
            self.register_buffer("bias", tril.view(1, 1, max_pos, max_pos))

        def forward(self, x, mask_add, past_k, past_v):
            b, t, _ = x.shape
            q, k, v = self.c_attn(x).split(self.d, dim=2)
            q = q.view(b, t, self.h, self.hd).transpose(1, 2)
            k = k.view(b, t, self.h, self.hd).transpose(1, 2)
            v = v.view(b, t, self.h, self.hd).transpose(1, 2)
            k = torch.cat([past_k, k], dim=-2)
            v = torch.cat([past_v, v], dim=-2)
            w = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.hd)
            ql, kl = q.size(-2), k.size(-2)
            causal = self.bias[:, :, kl - ql : kl, :kl]
            w = torch.where(causal, w, torch.tensor(torch.finfo(w.dtype).min, dtype=w.dtype))
            w = w + mask_add
            p = F.softmax(w, dim=-1)
            a = torch.matmul(p, v).transpose(1, 2).contiguous().view(b, t, self.d)
            return self.c_proj(a), k, v

    class GPT2Block(nn.Module):
        def __init__(self, d, h, max_pos):
            super().__init__()
            self.ln_1 = nn.LayerNorm(d)
            self.attn = GPT2Attention(d, h, max_pos)
            self.ln_2 = nn.LayerNorm(d)
            self.fc = nn.Linear(d, 4 * d)
            self.proj = nn.Linear(4 * d, d)

        def forward(self, x, mask_add, pk, pv):
            a, k, v = self.attn(self.ln_1(x), mask_add, pk, pv)
            x = x + a
            x = x + self.proj(F.gelu(self.fc(self.ln_2(x)), approximate="tanh"))
            return x, k, v

    class GPT2(nn.Module):
        """Decoder with past: inputs input_ids (new tokens), attention_mask
        (past + new), past_key_values.N.key/value; outputs logits and
        present.N.key/value. The LM head is tied to the token embedding."""

        def __init__(self):
            super().__init__()
            self.wte = nn.Embedding(VOCAB, HIDDEN)
            self.wpe = nn.Embedding(64, HIDDEN)
            self.blocks = nn.ModuleList([GPT2Block(HIDDEN, HEADS, 64) for _ in range(LAYERS)])
            self.ln_f = nn.LayerNorm(HIDDEN)

        def forward(self, input_ids, attention_mask, *past):
            t = input_ids.shape[1]
            past_len = past[0].shape[2]
            pos = torch.arange(past_len, past_len + t, dtype=torch.long).unsqueeze(0)
            x = self.wte(input_ids) + self.wpe(pos)
            mask_add = (1.0 - attention_mask[:, None, None, :].to(x.dtype)) * -10000.0
            presents = []
            for i, blk in enumerate(self.blocks):
                x, k, v = blk(x, mask_add, past[2 * i], past[2 * i + 1])
                presents += [k, v]
            logits = torch.matmul(self.ln_f(x), self.wte.weight.t())
            return (logits, *presents)

    def gpt2_inputs(b, n_past, n_new):
        def make():
            g = torch.Generator().manual_seed(2 + n_past)
            ids = torch.randint(0, VOCAB, (b, n_new), generator=g)
            mask = torch.ones(b, n_past + n_new, dtype=torch.long)
            mask[b - 1, :3] = 0  # left padding in the last row
            hd = HIDDEN // HEADS
            past = [torch.randn(b, HEADS, n_past, hd, generator=g) for _ in range(2 * LAYERS)]
            return (ids, mask, *past)

        return make

    past_names = []
    present_names = []
    for i in range(LAYERS):
        past_names += ["past_key_values.%d.key" % i, "past_key_values.%d.value" % i]
        present_names += ["present.%d.key" % i, "present.%d.value" % i]
    gpt2_axes = {
        "input_ids": {0: "batch", 1: "seq"},
        "attention_mask": {0: "batch", 1: "total_seq"},
        "logits": {0: "batch", 1: "seq"},
    }
    for n in past_names:
        gpt2_axes[n] = {0: "batch", 2: "past_seq"}
    for n in present_names:
        gpt2_axes[n] = {0: "batch", 2: "total_seq"}
    gpt2 = dict(
        make=GPT2,
        # A prompt step after 12 cached tokens, and a one-token decode step.
        inputs=[gpt2_inputs(BATCH, 12, 4), gpt2_inputs(3, 15, 1)],
        input_names=["input_ids", "attention_mask"] + past_names,
        output_names=["logits"] + present_names,
        dynamic_axes=gpt2_axes,
    )

    class ViTLayer(nn.Module):
        def __init__(self, d, h, ff):
            super().__init__()
            self.ln1 = nn.LayerNorm(d, eps=1e-6)
            self.attn = SelfAttention(d, h)
            self.ln2 = nn.LayerNorm(d, eps=1e-6)
            self.fc1 = nn.Linear(d, ff)
            self.fc2 = nn.Linear(ff, d)

        def forward(self, x):
            x = x + self.attn(self.ln1(x))
            return x + self.fc2(F.gelu(self.fc1(self.ln2(x))))

    class ViT(nn.Module):
        """Conv patch embedding (8x8 patches of 32x32), class token, learned
        position embeddings, pre-LN encoder, classifier on the class token."""

        def __init__(self):
            super().__init__()
            self.patch = nn.Conv2d(3, HIDDEN, kernel_size=8, stride=8)
            self.cls = nn.Parameter(torch.randn(1, 1, HIDDEN) * 0.02)
            self.pos = nn.Parameter(torch.randn(1, 17, HIDDEN) * 0.02)
            self.layers = nn.ModuleList([ViTLayer(HIDDEN, HEADS, 2 * HIDDEN) for _ in range(LAYERS)])
            self.ln = nn.LayerNorm(HIDDEN, eps=1e-6)
            self.head = nn.Linear(HIDDEN, 10)

        def forward(self, pixel_values):
            x = self.patch(pixel_values).flatten(2).transpose(1, 2)
            cls = self.cls.expand(x.shape[0], -1, -1)
            x = torch.cat([cls, x], dim=1) + self.pos
            for layer in self.layers:
                x = layer(x)
            x = self.ln(x)
            return x, self.head(x[:, 0])

    def image_inputs(seed, b):
        def make():
            g = torch.Generator().manual_seed(seed + b)
            return (torch.randn(b, 3, 32, 32, generator=g),)

        return make

    vit = dict(
        make=ViT,
        inputs=[image_inputs(3, BATCH), image_inputs(3, 1)],
        input_names=["pixel_values"],
        output_names=["last_hidden_state", "logits"],
        dynamic_axes={"pixel_values": {0: "batch"}, "last_hidden_state": {0: "batch"},
                      "logits": {0: "batch"}},
    )

    def bn(c):
        b = nn.BatchNorm2d(c)
        # Running statistics other than 0/1, so the normalisation matters.
        with torch.no_grad():
            b.running_mean.uniform_(-0.5, 0.5)
            b.running_var.uniform_(0.5, 2.0)
            b.weight.uniform_(0.5, 1.5)
            b.bias.uniform_(-0.2, 0.2)
        return b

    class BasicBlock(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.c1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.b1 = bn(cout)
            self.c2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.b2 = bn(cout)
            self.down = None
            if stride != 1 or cin != cout:
                self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), bn(cout))

        def forward(self, x):
            y = F.relu(self.b1(self.c1(x)))
            y = self.b2(self.c2(y))
            return F.relu(y + (x if self.down is None else self.down(x)))

    class ResNet(nn.Module):
        """conv-bn-relu stem, max pool, two residual stages (the second with
        stride 2 and a 1x1 projection), global average pool, fc."""

        def __init__(self):
            super().__init__()
            self.stem = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
            self.bn = bn(16)
            self.pool = nn.MaxPool2d(3, 2, 1)
            self.s1 = BasicBlock(16, 16, 1)
            self.s2 = BasicBlock(16, 32, 2)
            self.fc = nn.Linear(32, 10)

        def forward(self, x):
            x = self.pool(F.relu(self.bn(self.stem(x))))
            x = self.s2(self.s1(x))
            x = F.adaptive_avg_pool2d(x, 1).flatten(1)
            return self.fc(x)

    resnet = dict(
        make=ResNet,
        inputs=[image_inputs(4, BATCH), image_inputs(4, 3)],
        input_names=["x"],
        output_names=["logits"],
        dynamic_axes={"x": {0: "batch"}, "logits": {0: "batch"}},
        # Keep BatchNormalization nodes: in EVAL mode the exporter folds each
        # into the conv before it, and the op would go untested.
        keep_bn=True,
    )

    class LSTMModel(nn.Module):
        """2-layer bidirectional LSTM (batch first) with given h0/c0, then a
        linear head on every step."""

        def __init__(self):
            super().__init__()
            self.rnn = nn.LSTM(16, 32, num_layers=2, bidirectional=True, batch_first=True)
            self.head = nn.Linear(64, 8)

        def forward(self, x, h0, c0):
            y, (h, c) = self.rnn(x, (h0, c0))
            return self.head(y), h, c

    def lstm_inputs(b, s):
        def make():
            g = torch.Generator().manual_seed(5 + s)
            return (torch.randn(b, s, 16, generator=g), torch.randn(4, b, 32, generator=g),
                    torch.randn(4, b, 32, generator=g))

        return make

    lstm = dict(
        make=LSTMModel,
        inputs=[lstm_inputs(BATCH, SEQ), lstm_inputs(1, 5)],
        input_names=["x", "h0", "c0"],
        output_names=["y", "h_n", "c_n"],
        dynamic_axes={"x": {0: "batch", 1: "seq"}, "h0": {1: "batch"}, "c0": {1: "batch"},
                      "y": {0: "batch", 1: "seq"}, "h_n": {1: "batch"}, "c_n": {1: "batch"}},
    )

    class GRUModel(nn.Module):
        """A 2-layer GRU (sequence first, h0 given) followed by a
        bidirectional one-layer GRU, then a linear head."""

        def __init__(self):
            super().__init__()
            self.rnn1 = nn.GRU(16, 32, num_layers=2)
            self.rnn2 = nn.GRU(32, 24, bidirectional=True)
            self.head = nn.Linear(48, 8)

        def forward(self, x, h0):
            y, h1 = self.rnn1(x, h0)
            y, h2 = self.rnn2(y)
            return self.head(y), h1, h2

    def gru_inputs(s, b):
        def make():
            g = torch.Generator().manual_seed(6 + s)
            return (torch.randn(s, b, 16, generator=g), torch.randn(2, b, 32, generator=g))

        return make

    gru = dict(
        make=GRUModel,
        inputs=[gru_inputs(SEQ, BATCH), gru_inputs(7, 3)],
        input_names=["x", "h0"],
        output_names=["y", "h1", "h2"],
        dynamic_axes={"x": {0: "seq", 1: "batch"}, "h0": {1: "batch"}, "y": {0: "seq", 1: "batch"},
                      "h1": {1: "batch"}, "h2": {1: "batch"}},
    )

    class CnnMix(nn.Module):
        """The conv/pool/resize forms detectors and segmenters use: dilated
        and depthwise convs, GroupNorm (Reshape + InstanceNormalization),
        PReLU, AvgPool with ceil_mode and count_include_pad=False, MaxPool
        with ceil_mode, bilinear and nearest Resize, ConvTranspose with
        output_padding and groups, Conv1d; then LogSoftmax, CumSum, ArgMax
        and TopK on the result."""

        def __init__(self):
            super().__init__()
            self.c1 = nn.Conv2d(3, 8, 3, padding=2, dilation=2)
            self.dw = nn.Conv2d(8, 8, 3, stride=2, padding=1, groups=8)
            self.gn = nn.GroupNorm(4, 8)
            self.inorm = nn.InstanceNorm2d(8, affine=True)
            self.pr = nn.PReLU(8)
            self.up = nn.ConvTranspose2d(8, 6, 3, stride=2, padding=1, output_padding=1)
            self.upg = nn.ConvTranspose2d(6, 6, 4, stride=2, padding=1, groups=2)
            self.c3 = nn.Conv1d(6, 4, 5, padding=2)

        def forward(self, x):
            y = F.leaky_relu(self.c1(x), 0.1)
            y = self.gn(self.dw(y))
            y = self.pr(self.inorm(y))
            a = F.avg_pool2d(y, 3, 2, 1, ceil_mode=True, count_include_pad=False)
            m = F.max_pool2d(y, 2, 2, ceil_mode=True)
            b = F.interpolate(a, size=y.shape[-2:], mode="bilinear", align_corners=False)
            c = F.interpolate(m, scale_factor=2, mode="nearest")[..., : y.shape[-2], : y.shape[-1]]
            z = F.hardswish(y + b) * torch.sigmoid(c) + F.silu(y)
            u = self.up(z)
            u = F.interpolate(self.upg(F.elu(u)), scale_factor=0.5, mode="bilinear", align_corners=True)
            v = self.c3(u.flatten(2)[..., :64])
            return u, F.log_softmax(v, -1), torch.cumsum(v, 2), v.argmax(-1), torch.topk(v, 3, -1)[0]

    def cnn_mix_inputs(b, h, w):
        def make():
            g = torch.Generator().manual_seed(7 + h)
            return (torch.randn(b, 3, h, w, generator=g),)

        return make

    cnn_mix_out = ["up", "log_softmax", "cumsum", "argmax", "topk"]
    cnn_mix = dict(
        make=CnnMix,
        inputs=[cnn_mix_inputs(BATCH, 17, 23), cnn_mix_inputs(1, 15, 31)],
        input_names=["x"],
        output_names=cnn_mix_out,
        dynamic_axes=dict({"x": {0: "batch", 2: "h", 3: "w"}}, **{n: {0: "batch"} for n in cnn_mix_out}),
    )

    class OpsMix(nn.Module):
        """nn.TransformerEncoderLayer, then one output per op form that
        exporters emit often: Einsum, Pad (reflect, edge, constant), Resize
        (cubic, cubic with align_corners, nearest), GatherElements, Where,
        reductions (L2, variance, mean over two axes, max, LogSumExp), Clip,
        CumSum, Softplus, GELU, TopK as sort, flip and roll (Slice),
        DepthToSpace (pixel shuffle), unfold."""

        def __init__(self):
            super().__init__()
            self.enc = nn.TransformerEncoderLayer(32, 4, 64, dropout=0.0, batch_first=True)
            self.w = nn.Parameter(torch.randn(32, 16))

        def forward(self, x, img, idx):
            return (
                self.enc(x),
                torch.einsum("bsd,de->bse", x, self.w),
                torch.einsum("bid,bjd->bij", x, x),
                F.pad(img, (1, 2, 2, 1), mode="reflect"),
                F.pad(img, (1, 2, 0, 3), mode="replicate"),
                F.pad(img, (1, 0, 2, 1), value=0.5),
                F.interpolate(img, scale_factor=1.7, mode="bicubic", align_corners=False),
                F.interpolate(img, size=(5, 9), mode="bicubic", align_corners=True),
                F.interpolate(img, size=(11, 5), mode="nearest"),
                torch.gather(x, 1, idx),
                x.masked_fill(x > 0.5, -3.0),
                torch.norm(x, dim=-1),
                torch.var(img, dim=(2, 3), keepdim=True),
                torch.clamp(x, min=-0.3, max=0.4),
                img.mean(dim=(1, 3)),
                img.amax(dim=1),
                torch.cumsum(img, dim=-2),
                F.softplus(x),
                F.gelu(x),
                torch.logsumexp(x, dim=1),
                torch.sort(x, dim=-1, descending=True)[0],
                torch.flip(img, dims=[2]),
                torch.roll(x, 3, dims=1),
                F.pixel_shuffle(img[:, :4], 2),
                F.unfold(img, 2),
            )

    def ops_mix_inputs(b, s, h, w):
        def make():
            g = torch.Generator().manual_seed(8 + s)
            return (torch.randn(b, s, 32, generator=g), torch.randn(b, 4, h, w, generator=g),
                    torch.randint(0, s, (b, s - 2, 32), generator=g))

        return make

    ops_mix_out = ["encoder", "einsum_proj", "einsum_bmm", "pad_reflect", "pad_edge", "pad_const",
                   "resize_cubic", "resize_cubic_ac", "resize_nearest", "gather_elements",
                   "masked_fill", "norm_l2", "var", "clamp", "mean_2axes", "amax", "cumsum",
                   "softplus", "gelu", "logsumexp", "sort", "flip", "roll", "pixel_shuffle", "unfold"]
    ops_mix = dict(
        make=OpsMix,
        inputs=[ops_mix_inputs(BATCH, 7, 6, 8), ops_mix_inputs(1, 5, 8, 6)],
        input_names=["x", "img", "idx"],
        output_names=ops_mix_out,
        dynamic_axes={"x": {0: "batch", 1: "seq"}, "img": {0: "batch", 2: "h", 3: "w"},
                      "idx": {0: "batch", 1: "seq_idx"}},
    )

    # name: (definition, opset). BERT twice: opset 17 exports LayerNorm as
    # LayerNormalization, opset 14 as ReduceMean/Sub/Pow/Sqrt/Div.
    return {
        "bert_op17": (bert, 17),
        "bert_op14": (bert, 14),
        "gpt2_past": (gpt2, 15),
        "vit": (vit, 16),
        "resnet_bn": (resnet, 17),
        "lstm_bidir": (lstm, 14),
        "gru": (gru, 16),
        "cnn_mix": (cnn_mix, 14),
        "ops_mix": (ops_mix, 17),
    }


MODEL_NAMES = ["bert_op17", "bert_op14", "gpt2_past", "vit", "resnet_bn", "lstm_bidir", "gru", "cnn_mix",
               "ops_mix"]


def _save(path, t):
    a = t.detach().cpu().numpy()
    np.save(path, np.ascontiguousarray(a))


def export_one(name, spec, opset, outdir, stamp):
    import torch
    import warnings

    d = os.path.join(outdir, name)
    sp = os.path.join(d, "stamp")
    if os.path.exists(sp) and open(sp).read() == stamp:
        return False
    tmp = d + ".tmp"
    if os.path.exists(tmp):
        import shutil

        shutil.rmtree(tmp)
    os.makedirs(tmp)
    torch.manual_seed(0)
    model = spec["make"]().eval()
    sets = [make() for make in spec["inputs"]]
    kw = {}
    if spec.get("keep_bn"):
        kw["training"] = torch.onnx.TrainingMode.PRESERVE
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, tuple(sets[0]), os.path.join(tmp, "model.onnx"), opset_version=opset,
                          input_names=spec["input_names"], output_names=spec["output_names"],
                          dynamic_axes=spec["dynamic_axes"], do_constant_folding=True, **kw)
    lines = ["opset %d" % opset, "sets %d" % len(sets)]
    lines += ["in " + n for n in spec["input_names"]]
    lines += ["out " + n for n in spec["output_names"]]
    for k, inputs in enumerate(sets):
        os.makedirs(os.path.join(tmp, "in%d" % k))
        os.makedirs(os.path.join(tmp, "want%d" % k))
        with torch.no_grad():
            outs = model(*inputs)
        if not isinstance(outs, (tuple, list)):
            outs = (outs,)
        for n, t in zip(spec["input_names"], inputs):
            _save(os.path.join(tmp, "in%d" % k, n + ".npy"), t)
        for n, t in zip(spec["output_names"], outs):
            _save(os.path.join(tmp, "want%d" % k, n + ".npy"), t)
    with open(os.path.join(tmp, "io.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(os.path.join(tmp, "stamp"), "w") as f:
        f.write(stamp)
    if os.path.exists(d):
        import shutil

        shutil.rmtree(d)
    os.rename(tmp, d)
    return True


def cmd_export(outdir, names):
    import torch

    torch.set_num_threads(1)
    stamp = _stamp()
    models = _models()
    for n in names or MODEL_NAMES:
        if n not in models:
            print("torch_export: no model '%s'" % n, file=sys.stderr)
            return 2
        spec, opset = models[n]
        if export_one(n, spec, opset, outdir, stamp):
            print("exported %s (opset %d)" % (n, opset))
    return 0


def _safe(name):
    """The file name `ipfs-accelerate run` gives an output."""
    s = "".join(c if (c.isascii() and c.isalnum()) or c in ".-_" else "_" for c in name[:150])
    if not s:
        s = "output"
    if s[0] == ".":
        s = "_" + s[1:]
    return s


def compare_arrays(name, want, got, rtol, atol):
    """One line: `NAME max_abs max_rel worst ok|FAIL [why]`, and whether it
    passed. max_rel is |got - want| / max(|want|, atol); worst is the
    largest |got - want| / (atol + rtol * |want|): at most 1 passes."""
    if got.dtype != want.dtype or got.shape != want.shape:
        return "%s - - - FAIL got %s%s, want %s%s" % (name, got.dtype, list(got.shape), want.dtype,
                                                       list(want.shape)), False
    if want.size == 0:
        return "%s 0 0 0 ok" % name, True
    g64, w64 = got.astype(np.float64), want.astype(np.float64)
    fin = np.isfinite(w64)
    if not fin.all() or not np.isfinite(g64).all():
        # Non-finite values must match exactly (NaN where NaN, same infinity).
        same = np.array_equal(np.isnan(g64), np.isnan(w64)) and np.array_equal(
            g64[~fin & ~np.isnan(w64)], w64[~fin & ~np.isnan(w64)])
        if not same:
            return "%s nan nan nan FAIL non-finite values differ" % name, False
        g64, w64 = g64[fin], w64[fin]
        if w64.size == 0:
            return "%s 0 0 0 ok" % name, True
    err = np.abs(g64 - w64)
    bound = atol + rtol * np.abs(w64)
    ratio = err / bound
    i = int(np.argmax(ratio))
    ok = bool((err <= bound).all())
    line = "%s %.3g %.3g %.3g %s" % (name, err.max(), (err / np.maximum(np.abs(w64), atol)).max(),
                                     ratio.max(), "ok" if ok else "FAIL")
    if not ok:
        line += " %d of %d elements off; worst at flat index %d: got %.9g want %.9g" % (
            int((err > bound).sum()), err.size, i, g64.flat[i], w64.flat[i])
    return line, ok


def cmd_compare(want_dir, got_dir, io_path, rtol, atol):
    """Prints one compare_arrays line per output (prefixed `out `) and
    returns 0 when all pass."""
    outs = [l.split(" ", 1)[1].strip() for l in open(io_path) if l.startswith("out ")]
    bad = 0
    for n in outs:
        want = np.load(os.path.join(want_dir, n + ".npy"))
        gp = os.path.join(got_dir, _safe(n) + ".npy")
        if not os.path.exists(gp):
            print("out %s - - - FAIL not written" % n)
            bad += 1
            continue
        try:
            got = np.load(gp)
        except Exception as e:  # a malformed .npy from us is a failure, not a crash
            print("out %s - - - FAIL unreadable .npy: %s" % (n, e))
            bad += 1
            continue
        line, ok = compare_arrays(n, want, got, rtol, atol)
        print("out " + line)
        bad += not ok
    return 1 if bad else 0


def main(argv):
    if len(argv) >= 2 and argv[1] == "list":
        print("\n".join(MODEL_NAMES))
        return 0
    if len(argv) >= 3 and argv[1] == "export":
        return cmd_export(argv[2], argv[3:])
    if len(argv) in (5, 7) and argv[1] == "compare":
        rtol, atol = (float(argv[5]), float(argv[6])) if len(argv) == 7 else (1e-4, 1e-5)
        return cmd_compare(argv[2], argv[3], argv[4], rtol, atol)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
