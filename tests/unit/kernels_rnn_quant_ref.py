#!/usr/bin/python3
"""Writes kernels_rnn_quant_ref.h: inputs and expected outputs for
test_kernels_rnn_quant.c, computed by the plain numpy references below
(written from the ONNX spec and onnxruntime's contrib-op docs, not from
our kernels). Run offline when a case changes:

    /usr/bin/python3 tests/unit/kernels_rnn_quant_ref.py > tests/unit/kernels_rnn_quant_ref.h
"""
import numpy as np

rng = np.random.default_rng(1234)
out = []


def cfloat(v):
    t = "%.9g" % v
    return t + ("f" if ("." in t or "e" in t) else ".0f")


def emit(name, arr, ctype="float"):
    a = np.asarray(arr).ravel()
    if ctype == "float":
        body = ", ".join(cfloat(v) for v in a.astype(np.float32))
    else:
        body = ", ".join(str(int(v)) for v in a)
    out.append("static const %s %s[%d] = {%s};" % (ctype, name, max(len(a), 1), body or "0"))


def f32(shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


# ---- activations ---------------------------------------------------------------------
def act(name, alpha, beta):
    n = name.lower()
    return {
        "sigmoid": lambda x: 1 / (1 + np.exp(-x)),
        "tanh": np.tanh,
        "relu": lambda x: np.maximum(x, 0),
        "affine": lambda x: alpha * x + beta,
        "leakyrelu": lambda x: np.where(x >= 0, x, alpha * x),
        "thresholdedrelu": lambda x: np.where(x > alpha, x, 0),
        "scaledtanh": lambda x: alpha * np.tanh(beta * x),
        "hardsigmoid": lambda x: np.clip(alpha * x + beta, 0, 1),
        "elu": lambda x: np.where(x >= 0, x, alpha * (np.exp(x) - 1)),
        "softsign": lambda x: x / (1 + np.abs(x)),
        "softplus": lambda x: np.log1p(np.exp(x)),
    }[n]


DEFAULTS = {"affine": (1.0, 0.0), "leakyrelu": (0.01, None), "thresholdedrelu": (1.0, None),
            "scaledtanh": (1.0, 1.0), "hardsigmoid": (0.2, 0.5), "elu": (1.0, None)}


def make_acts(names, alphas, betas):
    alphas, betas = list(alphas), list(betas)
    fs = []
    for n in names:
        d = DEFAULTS.get(n.lower(), (None, None))
        a = alphas.pop(0) if d[0] is not None and alphas else d[0]
        b = betas.pop(0) if d[1] is not None and betas else d[1]
        fs.append(act(n, a, b))
    return fs


def clipf(x, clip):
    return np.clip(x, -clip, clip) if clip else x


# ---- recurrent layers, all directions, sequence_lens, layout ---------------------------
def rnn_ref(kind, X, W, R, B=None, lens=None, h0=None, c0=None, P=None, direction="forward",
            layout=0, names=None, alphas=(), betas=(), clip=None, input_forget=0, lbr=0):
    G = {"rnn": 1, "gru": 3, "lstm": 4}[kind]
    per = {"rnn": 1, "gru": 2, "lstm": 3}[kind]
    x = X if layout == 0 else np.swapaxes(X, 0, 1)
    seq, batch, _ = x.shape
    D = W.shape[0]
    H = R.shape[2]
    if names is None:
        names = {"rnn": ["Tanh"], "gru": ["Sigmoid", "Tanh"], "lstm": ["Sigmoid", "Tanh", "Tanh"]}[kind] * D
    fs_all = make_acts(names, alphas, betas)
    lens = np.full(batch, seq) if lens is None else lens
    Y = np.zeros((seq, D, batch, H), np.float64)
    Yh = np.zeros((D, batch, H))
    Yc = np.zeros((D, batch, H))
    h0l = None if h0 is None else (h0 if layout == 0 else np.swapaxes(h0, 0, 1))
    c0l = None if c0 is None else (c0 if layout == 0 else np.swapaxes(c0, 0, 1))
    for d in range(D):
        rev = direction == "reverse" or (direction == "bidirectional" and d == 1)
        fs = fs_all[d * per:(d + 1) * per]
        w, r = W[d].astype(np.float64), R[d].astype(np.float64)
        b = np.zeros(2 * G * H) if B is None else B[d].astype(np.float64)
        wb, rb = b[:G * H], b[G * H:]
        p = np.zeros(3 * H) if P is None else P[d].astype(np.float64)
        for n in range(batch):
            h = np.zeros(H) if h0l is None else h0l[d, n].astype(np.float64)
            c = np.zeros(H) if c0l is None else c0l[d, n].astype(np.float64)
            L = lens[n]
            for s in range(L):
                t = L - 1 - s if rev else s
                xt = x[t, n].astype(np.float64)
                if kind == "rnn":
                    h = fs[0](clipf(w @ xt + r @ h + wb + rb, clip))
                elif kind == "gru":
                    gx = w @ xt + wb
                    z = fs[0](clipf(gx[:H] + r[:H] @ h + rb[:H], clip))
                    rr = fs[0](clipf(gx[H:2 * H] + r[H:2 * H] @ h + rb[H:2 * H], clip))
                    if lbr:
                        hh = gx[2 * H:] + rr * (r[2 * H:] @ h + rb[2 * H:])
                    else:
                        hh = gx[2 * H:] + r[2 * H:] @ (rr * h) + rb[2 * H:]
                    hh = fs[1](clipf(hh, clip))
                    h = (1 - z) * hh + z * h
                else:
                    g = w @ xt + r @ h + wb + rb
                    gi, go, gf, gc = g[:H], g[H:2 * H], g[2 * H:3 * H], g[3 * H:]
                    i = fs[0](clipf(gi + p[:H] * c, clip))
                    f = 1 - i if input_forget else fs[0](clipf(gf + p[2 * H:] * c, clip))
                    cc = fs[1](clipf(gc, clip))
                    c = f * c + i * cc
                    o = fs[0](clipf(go + p[H:2 * H] * c, clip))
                    h = o * fs[2](c)
                Y[t, d, n] = h
            if L > 0:
                Yh[d, n] = h
                Yc[d, n] = c
    if layout == 1:
        Y = np.transpose(Y, (2, 0, 1, 3))
        Yh = np.swapaxes(Yh, 0, 1)
        Yc = np.swapaxes(Yc, 0, 1)
    return Y, Yh, Yc


# LSTM 1: bidirectional, layout 0, sequence_lens, initial states, peepholes, clip
X = f32((3, 2, 2)); W = f32((2, 12, 2), 0.5); R = f32((2, 12, 3), 0.5); B = f32((2, 24), 0.3)
P = f32((2, 9), 0.3); h0 = f32((2, 2, 3), 0.5); c0 = f32((2, 2, 3), 0.5); lens = np.array([3, 2])
Y, Yh, Yc = rnn_ref("lstm", X, W, R, B, lens, h0, c0, P, "bidirectional", clip=1.2)
for n, a in [("l1_x", X), ("l1_w", W), ("l1_r", R), ("l1_b", B), ("l1_p", P), ("l1_h0", h0),
             ("l1_c0", c0), ("l1_y", Y), ("l1_yh", Yh), ("l1_yc", Yc)]:
    emit(n, a)

# LSTM 2: layout 1, reverse, input_forget, custom activations with alpha/beta
X = f32((2, 3, 2)); W = f32((1, 8, 2), 0.5); R = f32((1, 8, 2), 0.5)
Y, Yh, _ = rnn_ref("lstm", X, W, R, direction="reverse", layout=1, input_forget=1,
                   names=["HardSigmoid", "Tanh", "Softsign"], alphas=[0.3], betas=[0.4])
for n, a in [("l2_x", X), ("l2_w", W), ("l2_r", R), ("l2_y", Y), ("l2_yh", Yh)]:
    emit(n, a)

# GRU 1: bidirectional, linear_before_reset, sequence_lens with a short and an empty entry
X = f32((3, 3, 2)); W = f32((2, 9, 2), 0.5); R = f32((2, 9, 3), 0.5); B = f32((2, 18), 0.3)
h0 = f32((2, 3, 3), 0.5); lens = np.array([2, 3, 0])
Y, Yh, _ = rnn_ref("gru", X, W, R, B, lens, h0, direction="bidirectional", lbr=1)
for n, a in [("g1_x", X), ("g1_w", W), ("g1_r", R), ("g1_b", B), ("g1_h0", h0), ("g1_y", Y),
             ("g1_yh", Yh)]:
    emit(n, a)

# GRU 2: layout 1, linear_before_reset 0, activations Sigmoid + LeakyRelu(0.2)
X = f32((2, 3, 3)); W = f32((1, 6, 3), 0.5); R = f32((1, 6, 2), 0.5); B = f32((1, 12), 0.3)
h0 = f32((2, 1, 2), 0.5)
Y, Yh, _ = rnn_ref("gru", X, W, R, B, None, h0, layout=1, names=["Sigmoid", "LeakyRelu"],
                   alphas=[0.2])
for n, a in [("g2_x", X), ("g2_w", W), ("g2_r", R), ("g2_b", B), ("g2_h0", h0), ("g2_y", Y),
             ("g2_yh", Yh)]:
    emit(n, a)

# RNN: bidirectional, LeakyRelu(0.1) forward, ScaledTanh(0.7, 1.5) reverse, clip
X = f32((3, 2, 2)); W = f32((2, 3, 2), 0.8); R = f32((2, 3, 3), 0.8); B = f32((2, 6), 0.3)
Y, Yh, _ = rnn_ref("rnn", X, W, R, B, direction="bidirectional",
                   names=["LeakyRelu", "ScaledTanh"], alphas=[0.1, 0.7], betas=[1.5], clip=1.5)
for n, a in [("r1_x", X), ("r1_w", W), ("r1_r", R), ("r1_b", B), ("r1_y", Y), ("r1_yh", Yh)]:
    emit(n, a)


# ---- com.microsoft Attention -----------------------------------------------------------
def attention_ref(x, w, bias, nh, sizes=None, mask=None, past=None, unidir=0, scale=None,
                  attn_bias=None, filt=-10000.0):
    Bn, S, _ = x.shape
    Hq, Hk, Hv = sizes if sizes else (w.shape[1] // 3,) * 3
    qkv = x.astype(np.float64) @ w + (bias if bias is not None else 0)
    q, k, v = qkv[..., :Hq], qkv[..., Hq:Hq + Hk], qkv[..., Hq + Hk:]
    hd, hdv = Hq // nh, Hv // nh
    q = q.reshape(Bn, S, nh, hd).transpose(0, 2, 1, 3)
    k = k.reshape(Bn, S, nh, hd).transpose(0, 2, 1, 3)
    v = v.reshape(Bn, S, nh, hdv).transpose(0, 2, 1, 3)
    Pn = 0
    if past is not None:
        Pn = past.shape[3]
        k = np.concatenate([past[0], k], axis=2)
        v = np.concatenate([past[1], v], axis=2)
    T = Pn + S
    present = np.stack([k, v]) if hd == hdv else None
    sc = (scale if scale else 1 / np.sqrt(hd)) * q @ np.swapaxes(k, -1, -2)  # B, nh, S, T
    add = np.zeros((Bn, S, T))
    if mask is not None:
        if mask.ndim == 2:
            add += np.where(mask[:, None, :] > 0, 0, filt)
        elif mask.ndim == 3:
            add += np.where(mask > 0, 0, filt)
        else:
            for b in range(Bn):
                end = mask[b]
                start = mask[Bn + b] if mask.shape[0] == 2 * Bn else 0
                for t in range(T):
                    if t >= end or t < start:
                        add[b, :, t] += filt
    sc = sc + add[:, None]
    if attn_bias is not None:
        sc = sc + attn_bias
    if unidir:
        for s in range(S):
            sc[:, :, s, Pn + s + 1:] = -np.inf
    sc = sc - sc.max(-1, keepdims=True)
    e = np.exp(sc)
    p = e / e.sum(-1, keepdims=True)
    o = (p @ v).transpose(0, 2, 1, 3).reshape(Bn, S, Hv)
    return o, present


x = f32((2, 3, 4)); w = f32((4, 12), 0.5); b = f32((12,), 0.2)
mask = np.array([[1, 1, 0], [1, 1, 1]], np.int32)
o, _ = attention_ref(x, w, b, 2, mask=mask)
for n, a in [("a1_x", x), ("a1_w", w), ("a1_b", b), ("a1_y", o)]:
    emit(n, a)
emit("a1_mask", mask, "int32_t")

x = f32((2, 2, 4)); w = f32((4, 12), 0.5); b = f32((12,), 0.2); past = f32((2, 2, 2, 2, 2), 0.5)
mask = np.array([4, 3, 0, 1], np.int32)  # ends 4, 3; starts 0, 1
ab = f32((1, 2, 2, 4), 0.3)
o, present = attention_ref(x, w, b, 2, mask=mask, past=past, unidir=1, scale=0.3, attn_bias=ab)
for n, a in [("a2_x", x), ("a2_w", w), ("a2_b", b), ("a2_past", past), ("a2_ab", ab), ("a2_y", o),
             ("a2_present", present)]:
    emit(n, a)
emit("a2_mask", mask, "int32_t")

x = f32((2, 3, 4)); w = f32((4, 14), 0.5)
mask = np.array([2, 3], np.int32)
o, _ = attention_ref(x, w, None, 2, sizes=(4, 4, 6), mask=mask)
for n, a in [("a3_x", x), ("a3_w", w), ("a3_y", o)]:
    emit(n, a)
emit("a3_mask", mask, "int32_t")


# ---- com.microsoft MatMulNBits ---------------------------------------------------------
def pack(codes, bits):
    """Little-endian bit stream of `bits`-wide codes into bytes."""
    nbytes = (len(codes) * bits + 7) // 8
    out = np.zeros(nbytes, np.uint8)
    for i, c in enumerate(codes):
        for j in range(bits):
            if (int(c) >> j) & 1:
                bit = i * bits + j
                out[bit // 8] |= 1 << (bit % 8)
    return out


def nbits_case(prefix, A, K, N, bits, bs, zp_kind, with_bias):
    kb = (K + bs - 1) // bs
    q = rng.integers(0, 1 << bits, (N, kb * bs))
    scales = (rng.random((N, kb)) * 0.1 + 0.01).astype(np.float32)
    Bp = np.stack([np.concatenate([pack(q[n, j * bs:(j + 1) * bs], bits) for j in range(kb)])
                   for n in range(N)])
    if zp_kind == "packed":
        zq = rng.integers(0, 1 << bits, (N, kb))
        zp_arr = np.stack([pack(zq[n], bits) for n in range(N)])
        zf = zq.astype(np.float64)
    elif zp_kind == "float":
        zf = (rng.random((N, kb)) * (1 << bits)).astype(np.float32)
        zp_arr = zf
    else:
        zf = np.full((N, kb), float(1 << (bits - 1)))
        zp_arr = None
    wdq = (q - np.repeat(zf, bs, axis=1)) * np.repeat(scales, bs, axis=1)
    wdq = wdq[:, :K]
    bias = f32((N,), 0.5) if with_bias else None
    y = A.astype(np.float64) @ wdq.T + (bias if bias is not None else 0)
    emit(prefix + "_a", A)
    emit(prefix + "_b", Bp, "uint8_t")
    emit(prefix + "_scales", scales)
    if zp_kind == "packed":
        emit(prefix + "_zp", zp_arr, "uint8_t")
    elif zp_kind == "float":
        emit(prefix + "_zp", zp_arr)
    if bias is not None:
        emit(prefix + "_bias", bias)
    emit(prefix + "_y", y)
    out.append("#define %s_BLOB %d" % (prefix.upper(), Bp.shape[1] // kb))


nbits_case("m1", f32((2, 3, 40)), 40, 5, 4, 16, "packed", True)
nbits_case("m2", f32((2, 40)), 40, 3, 4, 32, "float", False)
nbits_case("m3", f32((1, 32)), 32, 4, 2, 16, "default", False)
nbits_case("m4", f32((3, 20)), 20, 2, 8, 16, "packed", True)

print("/* Generated by kernels_rnn_quant_ref.py; do not edit. */")
print("#include <stdint.h>")
print("\n".join(out))
