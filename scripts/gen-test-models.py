#!/usr/bin/python3
"""Writes the small ONNX files under tests/models/ that the onnx unit, e2e
and fuzz tests load. Run with Debian's python3 (python3-onnx, numpy):

    /usr/bin/python3 scripts/gen-test-models.py [OUT_DIR]

The output is deterministic; the files are committed so tests need no
Python. Good models, every initializer dtype in raw_data and in the typed
fields, external data cases, and deliberately broken graphs.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "tests", "models")
OPSET = [helper.make_opsetid("", 17)]


def save(model, name, sub=None):
    d = os.path.join(OUT, sub) if sub else OUT
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(model.SerializeToString())


def model(graph, ir=8, opsets=OPSET, props=None):
    m = helper.make_model(graph, opset_imports=opsets, producer_name="gen-test-models",
                          producer_version="1")
    m.ir_version = ir
    for k, v in (props or {}).items():
        p = m.metadata_props.add()
        p.key, p.value = k, v
    return m


def raw_tensor(name, dtype, dims, data_bytes):
    t = TensorProto()
    t.name = name
    t.data_type = dtype
    t.dims.extend(dims)
    t.raw_data = data_bytes
    return t


def f32(name, shape, seed):
    a = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    return helper.make_tensor(name, TensorProto.FLOAT, shape, a.tobytes(), raw=True)


# ---- mlp: a small valid model -------------------------------------------
def mlp():
    nodes = [
        helper.make_node("MatMul", ["x", "W1"], ["h1"], name="fc1"),
        helper.make_node("Add", ["h1", "b1"], ["h2"], name="fc1_bias"),
        helper.make_node("Relu", ["h2"], ["h3"], name="act"),
        helper.make_node("MatMul", ["h3", "W2"], ["h4"], name="fc2"),
        helper.make_node("Add", ["h4", "b2"], ["y"], name="fc2_bias"),
    ]
    g = helper.make_graph(
        nodes, "mlp",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 2])],
        [f32("W1", [4, 8], 1), f32("b1", [8], 2), f32("W2", [8, 2], 3), f32("b2", [2], 4)])
    return model(g, props={"author": "ipfs-accelerate tests", "license": "CC0"})


# ---- every dtype, raw and typed -----------------------------------------
# Values: signed ints k-3, unsigned k, bool k%2, floats k (k = 0..5).
DTYPES = [
    ("f32", TensorProto.FLOAT, np.float32), ("f16", TensorProto.FLOAT16, np.float16),
    ("bf16", TensorProto.BFLOAT16, None), ("f64", TensorProto.DOUBLE, np.float64),
    ("i8", TensorProto.INT8, np.int8), ("i16", TensorProto.INT16, np.int16),
    ("i32", TensorProto.INT32, np.int32), ("i64", TensorProto.INT64, np.int64),
    ("u8", TensorProto.UINT8, np.uint8), ("u16", TensorProto.UINT16, np.uint16),
    ("u32", TensorProto.UINT32, np.uint32), ("u64", TensorProto.UINT64, np.uint64),
    ("bool", TensorProto.BOOL, np.bool_),
]
SIGNED = {"i8", "i16", "i32", "i64"}


def values(name):
    k = np.arange(6)
    if name in SIGNED:
        return k - 3
    if name == "bool":
        return k % 2
    return k


def bf16_bits(v):
    return (np.asarray(v, np.float32).view(np.uint32) >> 16).astype(np.uint16)


def dtype_tensor(name, dt, npt, raw):
    v = values(name)
    t = TensorProto()
    t.name = name
    t.data_type = dt
    t.dims.extend([2, 3])
    if name == "bf16":
        bits = bf16_bits(v)
        if raw:
            t.raw_data = bits.tobytes()
        else:
            t.int32_data.extend(int(b) for b in bits)
        return t
    a = np.asarray(v).astype(npt)
    if raw:
        t.raw_data = a.tobytes()
    elif dt == TensorProto.FLOAT:
        t.float_data.extend(float(x) for x in a)
    elif dt == TensorProto.DOUBLE:
        t.double_data.extend(float(x) for x in a)
    elif dt == TensorProto.INT64:
        t.int64_data.extend(int(x) for x in a)
    elif dt in (TensorProto.UINT32, TensorProto.UINT64):
        t.uint64_data.extend(int(x) for x in a)
    elif dt == TensorProto.FLOAT16:
        t.int32_data.extend(int(x) for x in a.view(np.uint16))
    else:  # int8/16/32, uint8/16, bool
        t.int32_data.extend(int(x) for x in a)
    return t


def dtypes(raw):
    inits = [dtype_tensor(n, dt, npt, raw) for n, dt, npt in DTYPES]
    s = helper.make_tensor("str", TensorProto.STRING, [2], [b"a", b"bc"])
    inits.append(s)
    nodes = [helper.make_node("Identity", [t.name], ["out_" + t.name], name="id_" + t.name)
             for t in inits]
    outs = [helper.make_tensor_value_info("out_" + t.name, t.data_type, list(t.dims))
            for t in inits]
    g = helper.make_graph(nodes, "dtypes_raw" if raw else "dtypes_typed", [], outs, inits)
    return model(g)


# ---- external data --------------------------------------------------------
def ext_tensor(name, dims, location, offset=None, length=None):
    t = TensorProto()
    t.name = name
    t.data_type = TensorProto.FLOAT
    t.dims.extend(dims)
    t.data_location = TensorProto.EXTERNAL
    for k, v in (("location", location), ("offset", offset), ("length", length)):
        if v is not None:
            e = t.external_data.add()
            e.key, e.value = k, str(v)
    return t


def ext_model(name, tensors):
    nodes = [helper.make_node("Identity", [t.name], ["o_" + t.name], name="id_" + t.name)
             for t in tensors]
    outs = [helper.make_tensor_value_info("o_" + t.name, TensorProto.FLOAT, list(t.dims))
            for t in tensors]
    save(model(helper.make_graph(nodes, name, [], outs, tensors)), name + ".onnx", "ext")


def external():
    # weights.bin: W float32[2,3] = 0..5 at 0, B float32[3] = 10,11,12 at
    # 4096, U float32[2] = 7,8 at 4098+... (unaligned: copied on load).
    blob = bytearray(4096 + 64)
    blob[0:24] = np.arange(6, dtype=np.float32).tobytes()
    blob[4096:4108] = np.array([10, 11, 12], np.float32).tobytes()
    blob[4110:4118] = np.array([7, 8], np.float32).tobytes()
    os.makedirs(os.path.join(OUT, "ext"), exist_ok=True)
    with open(os.path.join(OUT, "ext", "weights.bin"), "wb") as f:
        f.write(bytes(blob))
    ext_model("ext_ok", [ext_tensor("W", [2, 3], "weights.bin", 0, 24),
                         ext_tensor("B", [3], "weights.bin", 4096, 12),
                         ext_tensor("U", [2], "weights.bin", 4110)])
    ext_model("ext_escape", [ext_tensor("W", [2, 3], "../mlp.onnx")])
    ext_model("ext_abs", [ext_tensor("W", [2, 3], "/etc/hostname")])
    ext_model("ext_short", [ext_tensor("W", [100000], "weights.bin")])
    ext_model("ext_offset", [ext_tensor("W", [2], "weights.bin", 5000)])
    ext_model("ext_missing", [ext_tensor("W", [2, 3], "nope.bin")])
    ext_model("ext_link", [ext_tensor("W", [2, 3], "link.bin")])


# ---- broken graphs ---------------------------------------------------------
def io(name="x", shape=(2,)):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, list(shape))


def broken():
    b = f32("b", [2], 5)
    # A cycle: a uses c, c uses a.
    g = helper.make_graph([
        helper.make_node("Add", ["x", "c"], ["a"], name="add_a"),
        helper.make_node("Relu", ["a"], ["c"], name="relu_c"),
    ], "cyclic", [io("x")], [io("c")])
    save(model(g), "cyclic.onnx")
    # A valid DAG listed backwards.
    g = helper.make_graph([
        helper.make_node("Relu", ["a"], ["y"], name="second"),
        helper.make_node("Neg", ["x"], ["a"], name="first"),
    ], "out_of_order", [io("x")], [io("y")])
    save(model(g), "out_of_order.onnx")
    g = helper.make_graph([helper.make_node("Add", ["x", "ghost"], ["y"], name="add")],
                          "undefined_input", [io("x")], [io("y")])
    save(model(g), "undefined_input.onnx")
    g = helper.make_graph([
        helper.make_node("Relu", ["x"], ["h"], name="n1"),
        helper.make_node("Neg", ["x"], ["h"], name="n2"),
        helper.make_node("Add", ["h", "b"], ["y"], name="n3"),
    ], "duplicate_names", [io("x")], [io("y")], [b, f32("b", [2], 6)])
    save(model(g), "duplicate_names.onnx")
    big = raw_tensor("W", TensorProto.FLOAT, [1000], b"\0" * 12)
    g = helper.make_graph([helper.make_node("Add", ["x", "W"], ["y"], name="add")],
                          "big_claim", [io("x", (1000,))], [io("y", (1000,))], [big])
    save(model(g), "big_claim.onnx")
    ovf = raw_tensor("W", TensorProto.FLOAT, [1 << 62, 1 << 62], b"")
    g = helper.make_graph([helper.make_node("Add", ["x", "W"], ["y"], name="add")],
                          "overflow_dims", [io("x")], [io("y")], [ovf])
    save(model(g), "overflow_dims.onnx")
    g = helper.make_graph([helper.make_node("Relu", ["x"], ["y"], name="r")], "bad_versions",
                          [io("x")], [io("y")])
    save(model(g, ir=2, opsets=[helper.make_opsetid("", 25)]), "bad_versions.onnx")
    # If with branches that read an outer value.
    then_g = helper.make_graph([helper.make_node("Relu", ["x"], ["t"], name="then_relu")],
                               "then", [], [io("t")])
    else_g = helper.make_graph([helper.make_node("Neg", ["x"], ["e"], name="else_neg")],
                               "else", [], [io("e")])
    cond = helper.make_tensor("cond", TensorProto.BOOL, [], [True])
    g = helper.make_graph([helper.make_node("If", ["cond"], ["y"], name="if1",
                                            then_branch=then_g, else_branch=else_g)],
                          "if_model", [io("x")], [io("y")], [cond])
    save(model(g), "if_model.onnx")


def main():
    os.makedirs(OUT, exist_ok=True)
    save(mlp(), "mlp.onnx")
    save(dtypes(True), "dtypes_raw.onnx")
    save(dtypes(False), "dtypes_typed.onnx")
    external()
    broken()
    print("wrote test models to", os.path.normpath(OUT))


if __name__ == "__main__":
    main()
