#!/usr/bin/python3
"""Converts a TensorFlow.js graph model (model.json + weight shards) to an ONNX graph (opset 17).

    /usr/bin/python3 scripts/models/tfjs2onnx.py MODEL.json OUT.onnx [--ops]
        [--input-shape N,H,W,C] [--extra-output NODE[:NAME]]... [--pool mean|gem] [--pool-axes 1,2]
        [--only-extra-outputs]

The TF.js file holds a frozen TensorFlow GraphDef as JSON (modelTopology.node[]: name, op, input,
attr) and a weightsManifest that lists, in order, every Const node's bytes in the shards (float32,
int32, bool, or quantized as float16 / uint8 / uint16 with scale and min). This script reads that
form directly; it needs only python3-onnx and python3-numpy (Debian), not TensorFlow.

Layout: TensorFlow ops are NHWC, so the ONNX graph is too. Each convolution and pooling node is
wrapped in a pair of Transposes (NHWC -> NCHW -> NHWC); ONNX Runtime's transpose optimizer
cancels the pairs between consecutive layers. The graph's inputs and outputs keep the TF.js
model's layout, and names with every character outside [A-Za-z0-9_.] turned into '_' (a ":0"
suffix is dropped). A batch dimension of -1 becomes the symbolic dimension "N".

Constant subgraphs (shape arithmetic that the TF.js converter did not fold, e.g. nanodet's
SparseToDense paddings) are evaluated here with numpy. `--ops` prints the model's op histogram
and exits. An op this script does not know is an error naming the op and the node.

`--extra-output` exposes intermediate tensors (e.g. a backbone's feature maps) as further outputs,
optionally pooled over the spatial axes in the graph (`--pool`), to use the network as a generic
feature extractor; `--only-extra-outputs` drops the model's own outputs and the head that feeds only
them; `--input-shape` runs such a backbone at another input size or a dynamic batch. Without
these options the graph is exactly as before.
"""

import argparse
import base64
import collections
import json
import os
import re
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
IR_VERSION = 8
INT64_MAX = np.iinfo(np.int64).max
INT64_MIN = np.iinfo(np.int64).min

TF_DTYPES = {
    "DT_FLOAT": (np.float32, TensorProto.FLOAT),
    "DT_INT32": (np.int32, TensorProto.INT32),
    "DT_INT64": (np.int64, TensorProto.INT64),
    "DT_BOOL": (np.bool_, TensorProto.BOOL),
    "DT_HALF": (np.float16, TensorProto.FLOAT16),
}
MANIFEST_DTYPES = {"float32": np.float32, "int32": np.int32, "bool": np.bool_}
QUANT_DTYPES = {"uint8": np.uint8, "uint16": np.uint16, "float16": np.float16}
NP_TO_ONNX = {
    np.dtype(np.float32): TensorProto.FLOAT,
    np.dtype(np.int32): TensorProto.INT32,
    np.dtype(np.int64): TensorProto.INT64,
    np.dtype(np.bool_): TensorProto.BOOL,
}


class ConversionError(Exception):
    pass


def tf_dtype(name):
    """(numpy type, ONNX type) of a TF DataType name."""
    if name not in TF_DTYPES:
        raise ConversionError(f"data type {name} is not supported")
    return TF_DTYPES[name]


def sanitize(name):
    if name.endswith(":0"):
        name = name[:-2]
    return re.sub(r"[^A-Za-z0-9_.]", "_", name)


def read_weights(model_dir, manifest):
    """Returns {weight name: numpy array} decoded as TF.js does (quantized values dequantized)."""
    data = b""
    specs = []
    for group in manifest:
        for path in group["paths"]:
            with open(os.path.join(model_dir, path), "rb") as f:
                data += f.read()
        specs.extend(group["weights"])
    weights = {}
    offset = 0
    for spec in specs:
        shape = [int(d) for d in spec["shape"]]
        count = int(np.prod(shape)) if shape else 1
        dtype = spec["dtype"]
        if dtype not in MANIFEST_DTYPES:
            raise ConversionError(f"weight {spec['name']}: dtype {dtype} is not supported")
        quant = spec.get("quantization")
        if quant:
            qtype = np.dtype(QUANT_DTYPES[quant["dtype"]])
            raw = np.frombuffer(data, dtype=qtype.newbyteorder("<"), count=count, offset=offset)
            offset += count * qtype.itemsize
            if quant["dtype"] == "float16":
                value = raw.astype(np.float32)
            else:
                # TF.js computes v * scale + min in doubles and stores it in the target array.
                value = raw.astype(np.float64) * quant["scale"] + quant["min"]
                if dtype == "int32":
                    value = np.round(value)
            value = value.astype(MANIFEST_DTYPES[dtype])
        else:
            npt = np.dtype(MANIFEST_DTYPES[dtype])
            raw_t = np.uint8 if dtype == "bool" else npt.newbyteorder("<")
            value = np.frombuffer(data, dtype=raw_t, count=count, offset=offset).astype(npt)
            offset += count * np.dtype(raw_t).itemsize
        weights[spec["name"]] = value.reshape(shape)
    if offset != len(data):
        raise ConversionError(f"weight shards hold {len(data)} bytes, the manifest describes {offset}")
    return weights


def attr_value(attr, key, default=None):
    """Decodes a GraphDef-JSON attribute value."""
    if key not in attr:
        return default
    v = attr[key]
    if "list" in v:
        lst = v["list"]
        if "i" in lst:
            return [int(x) for x in lst["i"]]
        if "s" in lst:
            return [base64.b64decode(x).decode() for x in lst["s"]]
        if "f" in lst:
            return [float(x) for x in lst["f"]]
        return []
    if "s" in v:
        return base64.b64decode(v["s"]).decode()
    if "i" in v:
        return int(v["i"])
    if "f" in v:
        return float(v["f"])
    if "b" in v:
        return bool(v["b"])
    if "type" in v:
        return v["type"]
    return v


def tf_strided_slice_np(x, begin, end, strides, masks):
    index = strided_slice_spec(begin, end, strides, masks, x.ndim)
    slices = []
    for kind, a, b, s in index:
        if kind == "new":
            slices.append(np.newaxis)
        elif kind == "shrink":
            slices.append(a)
        else:
            slices.append(slice(a, b, s))
    return x[tuple(slices)]


def strided_slice_spec(begin, end, strides, masks, rank=None):
    """Turns TF StridedSlice arguments into per-dimension (kind, start, end, step) entries;
    kind is "slice", "shrink" or "new". Ellipsis needs the input rank."""
    begin_mask, end_mask, ellipsis_mask, new_axis_mask, shrink_mask = masks
    spec = []
    n = len(begin)
    for i in range(n):
        bit = 1 << i
        if ellipsis_mask & bit:
            if rank is None:
                raise ConversionError("StridedSlice with an ellipsis needs a known input rank")
            used = sum(1 for j in range(n) if j != i and not (new_axis_mask & (1 << j)))
            for _ in range(rank - used):
                spec.append(("slice", None, None, 1))
            continue
        if new_axis_mask & bit:
            spec.append(("new", None, None, None))
            continue
        b, e, s = int(begin[i]), int(end[i]), int(strides[i])
        if shrink_mask & bit:
            spec.append(("shrink", b, None, None))
            continue
        spec.append(("slice", None if begin_mask & bit else b, None if end_mask & bit else e, s))
    return spec


class Converter:
    def __init__(self, model_path, input_shape=None):
        with open(model_path) as f:
            self.model = json.load(f)
        if self.model.get("format") != "graph-model":
            raise ConversionError(f"{model_path}: format {self.model.get('format')!r} is not a graph-model")
        self.nodes = self.model["modelTopology"]["node"]
        self.by_name = {n["name"]: n for n in self.nodes}
        self.weights = read_weights(os.path.dirname(os.path.abspath(model_path)), self.model["weightsManifest"])
        self.consts = {}        # TF tensor ref -> numpy value (Const nodes and folded subgraphs)
        self.names = {}         # TF tensor ref -> ONNX tensor name
        self.onnx_nodes = []
        self.initializers = {}  # ONNX name -> TensorProto
        self.used_names = set()
        self.inputs = []
        self.io_inputs = []    # [{"tf": node name, "onnx": input name}] for --io
        self.io_outputs = []
        self.input_shape = input_shape  # replaces the (single) Placeholder's shape when set

    # ---- helpers -----------------------------------------------------------------------------
    @staticmethod
    def ref(name):
        name = name.lstrip("^")
        return name[:-2] if name.endswith(":0") else name

    def fresh(self, base):
        base = sanitize(base)
        name, k = base, 1
        while name in self.used_names:
            name = f"{base}__{k}"
            k += 1
        self.used_names.add(name)
        return name

    def const_input(self, value, base):
        name = self.fresh(base)
        self.initializers[name] = numpy_helper.from_array(np.asarray(value), name)
        return name

    def tensor(self, ref):
        """ONNX name of a TF tensor, materializing a constant as an initializer on first use."""
        ref = self.ref(ref)
        if ref in self.names:
            return self.names[ref]
        if ref in self.consts:
            name = self.const_input(self.consts[ref], ref)
            self.names[ref] = name
            return name
        raise ConversionError(f"tensor {ref} is used before it is defined")

    def is_const(self, ref):
        return self.ref(ref) in self.consts

    def const(self, ref, what):
        ref = self.ref(ref)
        if ref not in self.consts:
            raise ConversionError(f"{what} ({ref}) must be a constant")
        return self.consts[ref]

    def add(self, op, inputs, base, n_out=1, **attrs):
        outs = [self.fresh(base if i == 0 else f"{base}:{i}") for i in range(n_out)]
        self.onnx_nodes.append(helper.make_node(op, inputs, outs, name=self.fresh("n_" + base), **attrs))
        return outs if n_out > 1 else outs[0]

    def int64_input(self, ref, what):
        """A constant TF int tensor as an int64 initializer, or a Cast of a computed one."""
        if self.is_const(ref):
            return self.const_input(np.asarray(self.const(ref, what)).astype(np.int64), self.ref(ref) + "_i64")
        return self.add("Cast", [self.tensor(ref)], self.ref(ref) + "_i64", to=TensorProto.INT64)

    def int64_vector(self, ref, what, base):
        """A TF int scalar or vector as a 1-D int64 tensor (ONNX axes, k)."""
        if self.is_const(ref):
            return self.const_input(np.asarray(self.const(ref, what)).astype(np.int64).reshape(-1), base)
        return self.add("Reshape", [self.int64_input(ref, what), self.const_input(np.array([-1], np.int64), base + "_shape")], base)

    def to_nchw(self, x, base):
        return self.add("Transpose", [x], base + "_nchw", perm=[0, 3, 1, 2])

    def to_nhwc(self, x, base):
        return self.add("Transpose", [x], base, perm=[0, 2, 3, 1])

    def activation(self, kind, x, base, node, extra):
        attr = node.get("attr", {})
        if kind == "Relu":
            return self.add("Relu", [x], base)
        if kind == "Relu6":
            return self.add("Clip", [x, self.const_input(np.float32(0), base + "_lo"),
                                     self.const_input(np.float32(6), base + "_hi")], base)
        if kind == "LeakyRelu":
            return self.add("LeakyRelu", [x], base, alpha=attr_value(attr, "leakyrelu_alpha", 0.2))
        if kind == "Sigmoid":
            return self.add("Sigmoid", [x], base)
        if kind == "Tanh":
            return self.add("Tanh", [x], base)
        if kind == "Elu":
            return self.add("Elu", [x], base, alpha=1.0)
        if kind == "Prelu":
            if not extra:
                raise ConversionError(f"{node['name']}: Prelu without an alpha argument")
            return self.add("PRelu", [x, self.tensor(extra[0])], base)
        raise ConversionError(f"{node['name']}: fused activation {kind} is not supported")

    # ---- convolution and pooling -------------------------------------------------------------
    def conv_attrs(self, node, kernel_hw):
        attr = node.get("attr", {})
        fmt = attr_value(attr, "data_format", "NHWC")
        strides = attr_value(attr, "strides", [1, 1, 1, 1])
        dil = attr_value(attr, "dilations", [1, 1, 1, 1])
        hw = (1, 2) if fmt == "NHWC" else (2, 3)
        out = {"strides": [strides[hw[0]], strides[hw[1]]], "dilations": [dil[hw[0]], dil[hw[1]]],
               "kernel_shape": list(kernel_hw)}
        padding = attr_value(attr, "padding", "VALID")
        if padding == "SAME":
            out["auto_pad"] = "SAME_UPPER"
        elif padding == "VALID":
            out["pads"] = [0, 0, 0, 0]
        elif padding == "EXPLICIT":
            p = attr_value(attr, "explicit_paddings")
            out["pads"] = [p[2 * hw[0]], p[2 * hw[1]], p[2 * hw[0] + 1], p[2 * hw[1] + 1]]
        else:
            raise ConversionError(f"{node['name']}: padding {padding} is not supported")
        return fmt, out

    def convert_conv(self, node, depthwise, fused):
        inputs = node["input"]
        w = self.const(inputs[1], f"{node['name']}: filter")
        kh, kw, cin, cout = w.shape
        fmt, attrs = self.conv_attrs(node, (kh, kw))
        if depthwise:
            # [kh, kw, C, M] -> [C*M, 1, kh, kw]; output channel c*M + m is group c's m-th filter.
            weight = w.reshape(kh, kw, cin * cout).transpose(2, 0, 1)[:, None, :, :]
            attrs["group"] = cin
        else:
            weight = w.transpose(3, 2, 0, 1)
        conv_in = [None, self.const_input(np.ascontiguousarray(weight), node["name"] + "_W")]
        ops = attr_value(node.get("attr", {}), "fused_ops", []) if fused else []
        rest = []
        if ops and ops[0] == "BiasAdd":
            conv_in.append(self.tensor(inputs[2]))
            rest = ops[1:]
            extra = inputs[3:]
        elif ops:
            raise ConversionError(f"{node['name']}: fused ops {ops} are not supported")
        x = self.tensor(inputs[0])
        base = self.ref(node["name"])
        conv_in[0] = self.to_nchw(x, base) if fmt == "NHWC" else x
        y = self.add("Conv", conv_in, base + ("_conv" if (fmt == "NHWC" or rest) else ""), **attrs)
        if fmt == "NHWC":
            y = self.to_nhwc(y, base + ("_nhwc" if rest else ""))
        for i, kind in enumerate(rest):
            y = self.activation(kind, y, base if i == len(rest) - 1 else f"{base}_{kind}", node, extra)
        return y

    def convert_pool(self, node, op):
        attr = node.get("attr", {})
        ksize = attr_value(attr, "ksize")
        fmt, attrs = self.conv_attrs(node, (0, 0))
        hw = (1, 2) if fmt == "NHWC" else (2, 3)
        attrs["kernel_shape"] = [ksize[hw[0]], ksize[hw[1]]]
        if op == "AveragePool":
            attrs["count_include_pad"] = 0
        attrs.pop("dilations")
        x = self.tensor(node["input"][0])
        base = self.ref(node["name"])
        if fmt == "NHWC":
            return self.to_nhwc(self.add(op, [self.to_nchw(x, base)], base + "_pool", **attrs), base)
        return self.add(op, [x], base, **attrs)

    def convert_resize(self, node, mode):
        attr = node.get("attr", {})
        align = attr_value(attr, "align_corners", False)
        half = attr_value(attr, "half_pixel_centers", False)
        if align:
            ctm = "align_corners"
        elif half:
            ctm = "half_pixel" if mode == "linear" else "tf_half_pixel_for_nn"
        else:
            ctm = "asymmetric"
        base = self.ref(node["name"])
        x = self.to_nchw(self.tensor(node["input"][0]), base)
        shape = self.add("Shape", [x], base + "_shape")
        nc = self.add("Slice", [shape, self.const_input(np.array([0], np.int64), base + "_s0"),
                                self.const_input(np.array([2], np.int64), base + "_s2")], base + "_nc")
        sizes = self.add("Concat", [nc, self.int64_input(node["input"][1], "resize size")], base + "_sizes", axis=0)
        attrs = {"mode": mode, "coordinate_transformation_mode": ctm}
        if mode == "nearest":
            attrs["nearest_mode"] = "round_prefer_ceil" if align else "floor"
        y = self.add("Resize", [x, "", "", sizes], base + "_resize", **attrs)
        return self.to_nhwc(y, base)

    # ---- generic ops ---------------------------------------------------------------------------
    def fold(self, node):
        """Evaluates a node whose inputs are all constants; None when the op is not foldable."""
        op = node["op"]
        attr = node.get("attr", {})
        vals = [self.consts[self.ref(i)] for i in node.get("input", []) if not i.startswith("^")]
        binary = {"Add": np.add, "AddV2": np.add, "Sub": np.subtract, "Mul": np.multiply,
                  "Maximum": np.maximum, "Minimum": np.minimum, "FloorMod": np.mod,
                  "FloorDiv": np.floor_divide}
        if op in binary:
            return binary[op](vals[0], vals[1]).astype(np.result_type(vals[0], vals[1]))
        if op == "RealDiv":
            return (vals[0] / vals[1]).astype(vals[0].dtype)
        if op == "Identity":
            return vals[0]
        if op == "Cast":
            return vals[0].astype(tf_dtype(attr_value(attr, "DstT"))[0])
        if op == "Reshape":
            return vals[0].reshape([int(d) for d in vals[1].reshape(-1)])
        if op == "Transpose":
            return vals[0].transpose([int(d) for d in vals[1]])
        if op == "ConcatV2":
            return np.concatenate(vals[:-1], axis=int(vals[-1]))
        if op == "Pack":
            return np.stack(vals, axis=attr_value(attr, "axis", 0))
        if op == "ExpandDims":
            return np.expand_dims(vals[0], int(vals[1]))
        if op == "Squeeze":
            dims = attr_value(attr, "squeeze_dims", []) or None
            return np.squeeze(vals[0], axis=tuple(dims) if dims else None)
        if op == "SparseToDense":
            indices, shape, values, default = vals
            out = np.full([int(d) for d in shape.reshape(-1)], default, dtype=values.dtype)
            indices = indices if indices.ndim == 2 else indices.reshape(-1, 1)
            values = np.broadcast_to(values, (len(indices),))
            for idx, v in zip(indices, values):
                out[tuple(int(i) for i in idx)] = v
            return out
        if op == "GatherV2":
            return np.take(vals[0], vals[1].astype(np.int64), axis=int(vals[2]))
        if op == "StridedSlice":
            masks = [attr_value(attr, k, 0) for k in
                     ("begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask", "shrink_axis_mask")]
            return np.asarray(tf_strided_slice_np(vals[0], vals[1], vals[2], vals[3], masks))
        if op == "Fill":
            return np.full([int(d) for d in vals[0]], vals[1])
        if op == "Neg":
            return -vals[0]
        return None

    UNARY = {"Relu": "Relu", "Sigmoid": "Sigmoid", "Tanh": "Tanh", "Abs": "Abs", "Sqrt": "Sqrt",
             "Exp": "Exp", "Log": "Log", "Neg": "Neg", "Floor": "Floor", "Ceil": "Ceil",
             "Round": "Round", "Elu": "Elu", "Reciprocal": "Reciprocal", "Sign": "Sign"}
    BINARY = {"Add": "Add", "AddV2": "Add", "Sub": "Sub", "Mul": "Mul", "RealDiv": "Div",
              "Div": "Div", "Maximum": "Max", "Minimum": "Min", "Equal": "Equal", "Less": "Less",
              "Greater": "Greater", "Pow": "Pow", "LogicalAnd": "And"}

    def convert_node(self, node):
        op = node["op"]
        name = self.ref(node["name"])
        inputs = [i for i in node.get("input", []) if not i.startswith("^")]
        attr = node.get("attr", {})
        t = lambda k: self.tensor(inputs[k])  # noqa: E731
        if op == "Const":
            if name not in self.weights:
                raise ConversionError(f"Const {name} has no weights in the manifest")
            self.consts[name] = self.weights[name]
            return
        if op == "Placeholder":
            dims = [int(d.get("size", -1)) for d in attr["shape"]["shape"].get("dim", [])]
            if self.input_shape is not None:
                if len(self.input_shape) != len(dims):
                    raise ConversionError(f"--input-shape {self.input_shape} has another rank than input {name} {dims}")
                dims = list(self.input_shape)
            _, onnx_t = tf_dtype(attr_value(attr, "dtype"))
            shape = ["N" if (i == 0 and d == -1) else (f"d{i}" if d == -1 else d) for i, d in enumerate(dims)]
            iname = self.fresh(name)
            self.inputs.append(helper.make_tensor_value_info(iname, onnx_t, shape))
            self.names[name] = iname
            self.io_inputs.append({"tf": name, "onnx": iname, "shape": dims})
            return
        if inputs and all(self.is_const(i) for i in inputs):
            value = self.fold(node)
            if value is not None:
                self.consts[name] = np.asarray(value)
                return
        if op == "Identity":
            self.names[name] = t(0)
            return
        if op in ("Conv2D", "_FusedConv2D"):
            self.names[name] = self.convert_conv(node, depthwise=False, fused=op.startswith("_"))
        elif op in ("DepthwiseConv2dNative", "FusedDepthwiseConv2dNative"):
            self.names[name] = self.convert_conv(node, depthwise=True, fused=op.startswith("Fused"))
        elif op == "MaxPool":
            self.names[name] = self.convert_pool(node, "MaxPool")
        elif op == "AvgPool":
            self.names[name] = self.convert_pool(node, "AveragePool")
        elif op == "ResizeBilinear":
            self.names[name] = self.convert_resize(node, "linear")
        elif op == "ResizeNearestNeighbor":
            self.names[name] = self.convert_resize(node, "nearest")
        elif op == "BiasAdd":
            if attr_value(attr, "data_format", "NHWC") != "NHWC":
                raise ConversionError(f"{name}: BiasAdd with data_format NCHW is not supported")
            self.names[name] = self.add("Add", [t(0), t(1)], name)
        elif op in self.UNARY:
            self.names[name] = self.add(self.UNARY[op], [t(0)], name)
        elif op in self.BINARY:
            self.names[name] = self.add(self.BINARY[op], [t(0), t(1)], name)
        elif op == "AddN":
            self.names[name] = self.add("Sum", [t(i) for i in range(len(inputs))], name)
        elif op == "Relu6":
            self.names[name] = self.activation("Relu6", t(0), name, node, [])
        elif op == "LeakyRelu":
            self.names[name] = self.add("LeakyRelu", [t(0)], name, alpha=attr_value(attr, "alpha", 0.2))
        elif op == "Prelu":
            self.names[name] = self.add("PRelu", [t(0), t(1)], name)
        elif op == "Square":
            self.names[name] = self.add("Mul", [t(0), t(0)], name)
        elif op == "Rsqrt":
            self.names[name] = self.add("Reciprocal", [self.add("Sqrt", [t(0)], name + "_sqrt")], name)
        elif op == "FloorDiv":
            if attr_value(attr, "T") == "DT_FLOAT":
                self.names[name] = self.add("Floor", [self.add("Div", [t(0), t(1)], name + "_div")], name)
            else:  # integer Div truncates; TF floors. The models divide non-negative indices.
                self.names[name] = self.add("Div", [t(0), t(1)], name)
        elif op == "FloorMod":
            if attr_value(attr, "T") == "DT_FLOAT":  # x - floor(x / y) * y: the divisor's sign, as TF
                q = self.add("Floor", [self.add("Div", [t(0), t(1)], name + "_div")], name + "_floor")
                self.names[name] = self.add("Sub", [t(0), self.add("Mul", [q, t(1)], name + "_mul")], name)
            else:
                self.names[name] = self.add("Mod", [t(0), t(1)], name, fmod=0)
        elif op in ("Mean", "Sum", "Max", "Min", "Prod"):
            axes = [int(a) for a in np.asarray(self.const(inputs[1], f"{name}: axes")).reshape(-1)]
            keep = 1 if attr_value(attr, "keep_dims", False) else 0
            onnx_op = {"Mean": "ReduceMean", "Sum": "ReduceSum", "Max": "ReduceMax", "Min": "ReduceMin",
                       "Prod": "ReduceProd"}[op]
            if onnx_op == "ReduceSum":  # opset 13+: axes is an input
                self.names[name] = self.add(onnx_op, [t(0), self.const_input(np.array(axes, np.int64), name + "_axes")],
                                            name, keepdims=keep)
            else:
                self.names[name] = self.add(onnx_op, [t(0)], name, axes=axes, keepdims=keep)
        elif op in ("Pad", "PadV2", "MirrorPad"):
            p = np.asarray(self.const(inputs[1], f"{name}: paddings")).astype(np.int64)
            pads = self.const_input(np.concatenate([p[:, 0], p[:, 1]]), name + "_pads")
            args = [t(0), pads]
            mode = "constant"
            if op == "PadV2":
                args.append(t(2))
            elif op == "MirrorPad":
                m = attr_value(attr, "mode")
                if m != "REFLECT":
                    raise ConversionError(f"{name}: MirrorPad mode {m} has no ONNX equivalent")
                mode = "reflect"
            self.names[name] = self.add("Pad", args, name, mode=mode)
        elif op == "ConcatV2":
            axis = int(self.const(inputs[-1], f"{name}: axis"))
            self.names[name] = self.add("Concat", [t(i) for i in range(len(inputs) - 1)], name, axis=axis)
        elif op == "Reshape":
            self.names[name] = self.add("Reshape", [t(0), self.int64_input(inputs[1], "shape")], name)
        elif op == "Transpose":
            perm = [int(p) for p in self.const(inputs[1], f"{name}: perm")]
            self.names[name] = self.add("Transpose", [t(0)], name, perm=perm)
        elif op in ("Split", "SplitV"):
            if op == "Split":
                axis, x = int(self.const(inputs[0], f"{name}: axis")), t(1)
                n = attr_value(attr, "num_split")
                outs = self.add("Split", [x], name, n_out=n, axis=axis)
            else:
                sizes = np.asarray(self.const(inputs[1], f"{name}: sizes")).astype(np.int64)
                if (sizes < 0).any():
                    raise ConversionError(f"{name}: SplitV with an inferred (-1) size is not supported")
                axis = int(self.const(inputs[2], f"{name}: axis"))
                outs = self.add("Split", [t(0), self.const_input(sizes, name + "_sizes")], name,
                                n_out=len(sizes), axis=axis)
            outs = outs if isinstance(outs, list) else [outs]
            for i, o in enumerate(outs):
                self.names[name if i == 0 else f"{name}:{i}"] = o
        elif op in ("MatMul", "_FusedMatMul", "BatchMatMul", "BatchMatMulV2"):
            ta = attr_value(attr, "transpose_a", False) or attr_value(attr, "adj_x", False)
            tb = attr_value(attr, "transpose_b", False) or attr_value(attr, "adj_y", False)
            a = t(0)
            if ta:
                a = self.add("Transpose", [a], name + "_at", perm=[1, 0])
            if tb and self.is_const(inputs[1]):
                b = self.const_input(np.ascontiguousarray(np.swapaxes(self.const(inputs[1], "b"), -1, -2)), name + "_bt")
            elif tb:
                b = self.add("Transpose", [t(1)], name + "_bt", perm=[1, 0])
            else:
                b = t(1)
            ops = attr_value(attr, "fused_ops", []) if op == "_FusedMatMul" else []
            y = self.add("MatMul", [a, b], name + ("_mm" if ops else ""))
            if ops:
                if ops[0] != "BiasAdd":
                    raise ConversionError(f"{name}: fused ops {ops} are not supported")
                rest = ops[1:]
                y = self.add("Add", [y, t(2)], name + ("_bias" if rest else ""))
                for i, kind in enumerate(rest):
                    y = self.activation(kind, y, name if i == len(rest) - 1 else f"{name}_{kind}", node, inputs[3:])
            self.names[name] = y
        elif op == "Softmax":
            self.names[name] = self.add("Softmax", [t(0)], name, axis=-1)
        elif op == "StridedSlice":
            self.names[name] = self.convert_strided_slice(node, inputs)
        elif op == "Cast":
            self.names[name] = self.add("Cast", [t(0)], name, to=tf_dtype(attr_value(attr, "DstT"))[1])
        elif op == "Squeeze":
            dims = attr_value(attr, "squeeze_dims", []) or attr_value(attr, "axis", [])
            if not dims:
                raise ConversionError(f"{name}: Squeeze without squeeze_dims is not supported")
            self.names[name] = self.add("Squeeze", [t(0), self.const_input(np.array(dims, np.int64), name + "_axes")], name)
        elif op == "ExpandDims":
            axes = self.int64_vector(inputs[1], "axis", name + "_ax")
            self.names[name] = self.add("Unsqueeze", [t(0), axes], name)
        elif op == "Pack":
            axis = attr_value(attr, "axis", 0)
            ax = self.const_input(np.array([axis], np.int64), name + "_axis")
            parts = [self.add("Unsqueeze", [t(i), ax], f"{name}_u{i}") for i in range(len(inputs))]
            self.names[name] = self.add("Concat", parts, name, axis=axis)
        elif op == "Unpack":
            axis, n = attr_value(attr, "axis", 0), attr_value(attr, "num")
            parts = self.add("Split", [t(0)], name + "_split", n_out=n, axis=axis)
            parts = parts if isinstance(parts, list) else [parts]
            ax = self.const_input(np.array([axis], np.int64), name + "_axis")
            for i, p in enumerate(parts):
                self.names[name if i == 0 else f"{name}:{i}"] = self.add("Squeeze", [p, ax], name if i == 0 else f"{name}:{i}")
        elif op == "TopKV2":
            k = self.int64_vector(inputs[1], "k", name + "_k")
            values, idx = self.add("TopK", [t(0), k], name + "_topk", n_out=2, axis=-1, largest=1, sorted=1)
            self.names[name] = values
            self.names[name + ":1"] = self.add("Cast", [idx], name + ":1", to=TensorProto.INT32)
        elif op == "GatherV2":
            if attr_value(attr, "batch_dims", 0) != 0:
                raise ConversionError(f"{name}: GatherV2 with batch_dims is not supported")
            axis = int(self.const(inputs[2], f"{name}: axis"))
            self.names[name] = self.add("Gather", [t(0), t(1)], name, axis=axis)
        elif op == "Shape":
            self.names[name] = self.add("Cast", [self.add("Shape", [t(0)], name + "_i64")], name, to=TensorProto.INT32)
        else:
            raise ConversionError(f"op {op} (node {name}) is not supported")

    def convert_strided_slice(self, node, inputs):
        name = self.ref(node["name"])
        attr = node.get("attr", {})
        begin = self.const(inputs[1], f"{name}: begin")
        end = self.const(inputs[2], f"{name}: end")
        strides = self.const(inputs[3], f"{name}: strides")
        masks = [attr_value(attr, k, 0) for k in
                 ("begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask", "shrink_axis_mask")]
        spec = strided_slice_spec(begin, end, strides, masks)
        starts, ends, axes, steps, squeeze, unsqueeze = [], [], [], [], [], []
        dim = 0  # axis in the input tensor
        for kind, b, e, s in spec:
            if kind == "new":
                unsqueeze.append(len(unsqueeze) + dim - len(squeeze))
                continue
            if kind == "shrink":
                starts.append(b)
                ends.append(b + 1 if b != -1 else INT64_MAX)
                steps.append(1)
                squeeze.append(dim)
            else:
                s = s or 1
                starts.append(b if b is not None else (0 if s > 0 else INT64_MAX))
                ends.append(e if e is not None else (INT64_MAX if s > 0 else INT64_MIN))
                steps.append(s)
            axes.append(dim)
            dim += 1
        y = t0 = self.tensor(inputs[0])
        arr = lambda v, n: self.const_input(np.array(v, np.int64), name + n)  # noqa: E731
        y = self.add("Slice", [t0, arr(starts, "_starts"), arr(ends, "_ends"), arr(axes, "_axes"), arr(steps, "_steps")],
                     name + ("_slice" if squeeze or unsqueeze else ""))
        if squeeze:
            y = self.add("Squeeze", [y, arr(squeeze, "_sq")], name + ("_sq" if unsqueeze else ""))
        if unsqueeze:
            y = self.add("Unsqueeze", [y, arr(unsqueeze, "_unsq")], name)
        return y

    # ---- driver --------------------------------------------------------------------------------
    def output_refs(self):
        sig = self.signature()
        outs = [v.get("name", k) for k, v in (sig.get("outputs") or {}).items()]
        outs = [self.ref(o) for o in outs if self.ref(o).split(":")[0] in self.by_name]
        if not outs:
            consumed = {self.ref(i).split(":")[0] for n in self.nodes for i in n.get("input", [])}
            outs = [n["name"] for n in self.nodes if n["name"] not in consumed and n["op"] not in ("Const", "Placeholder")]
        return sorted(set(outs), key=sanitize)

    def signature(self):
        return self.model.get("signature") or (self.model.get("userDefinedMetadata") or {}).get("signature") or {}

    def signature_shapes(self):
        """Output shapes the signature declares in full, by sanitized output name."""
        shapes = {}
        batch = "N" if any(i.type.tensor_type.shape.dim[0].dim_param == "N" for i in self.inputs) else None
        for k, v in (self.signature().get("outputs") or {}).items():
            dims = [int(d.get("size", -1)) for d in (v.get("tensorShape") or {}).get("dim", [])]
            if dims and all(d >= 0 for d in dims[1:]):
                if dims[0] < 0 or (batch and dims[0] == 1):
                    dims[0] = batch or dims[0]
                if dims[0] != -1:
                    shapes[sanitize(v.get("name", k))] = dims
        return shapes

    def topo_order(self):
        order, state = [], {}
        for root in self.nodes:
            stack = [(root["name"], False)]
            while stack:
                n, done = stack.pop()
                if done:
                    state[n] = 2
                    order.append(self.by_name[n])
                    continue
                if state.get(n):
                    continue
                state[n] = 1
                stack.append((n, True))
                for i in self.by_name[n].get("input", []):
                    dep = self.ref(i).split(":")[0]
                    if not state.get(dep):
                        stack.append((dep, False))
        return order

    def convert(self, extra_outputs=(), pool=None, pool_axes=(1, 2), model_outputs=True):
        """The ONNX model. extra_outputs: (TF tensor ref, output name) pairs exposed beside (or,
        without model_outputs, instead of) the model's own outputs; pool reduces each of them
        over pool_axes in the graph ("mean", or "gem" = generalized mean with p = 3)."""
        for node in self.topo_order():
            self.convert_node(node)
        outputs = []
        nodes_needed = self.onnx_nodes
        for ref in self.output_refs() if model_outputs else []:
            src = self.tensor(ref)
            oname = sanitize(ref)
            if oname in self.used_names and oname != src:
                # The final name is taken by an internal tensor: rename that one.
                raise ConversionError(f"output name {oname} clashes with an internal tensor")
            if src != oname:
                nodes_needed.append(helper.make_node("Identity", [src], [oname], name=self.fresh("n_out_" + oname)))
            outputs.append(oname)
            self.io_outputs.append({"tf": ref, "onnx": oname})
        for ref, oname in extra_outputs:
            if oname in outputs:
                raise ConversionError(f"--extra-output: output name {oname} is given twice")
            outputs.append(self.extra_output(ref, oname, pool, list(pool_axes)))
            io = {"tf": ref, "onnx": oname}
            if pool:
                io.update(pool=pool, axes=list(pool_axes))
            self.io_outputs.append(io)
        if not outputs:
            raise ConversionError("the graph has no outputs")
        graph = helper.make_graph(nodes_needed, "tfjs", self.inputs,
                                  [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outputs],
                                  initializer=list(self.initializers.values()))
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                                  producer_name="mosaic-tfjs2onnx")
        model.ir_version = IR_VERSION
        model = prune(model)
        inferred = onnx.shape_inference.infer_shapes(model)
        shapes = {v.name: v for v in list(inferred.graph.value_info) + list(inferred.graph.output)}
        declared = self.signature_shapes()
        for o in model.graph.output:
            if o.name in declared:
                o.CopyFrom(helper.make_tensor_value_info(o.name, TensorProto.FLOAT, declared[o.name]))
            elif o.name in shapes and shapes[o.name].type.tensor_type.HasField("shape"):
                o.type.CopyFrom(shapes[o.name].type)
            else:
                print(f"warning: cannot infer the shape of output {o.name}", file=sys.stderr)
                o.type.tensor_type.shape.SetInParent()
        onnx.checker.check_model(model)
        return model


    GEM_P = 3.0

    def extra_output(self, ref, oname, pool, axes):
        """Adds the graph output `oname` = TF tensor `ref`, pooled over `axes` when `pool` is set."""
        ref = self.ref(ref)
        if ref.split(":")[0] not in self.by_name:
            raise ConversionError(f"--extra-output: the graph has no node {ref.split(':')[0]}")
        if ref not in self.names:
            raise ConversionError(f"--extra-output: {ref} is a constant or not a tensor of the graph")
        if oname in self.used_names:
            raise ConversionError(f"--extra-output: output name {oname} clashes with a tensor of the graph")
        x = self.names[ref]
        if pool == "mean":
            self.onnx_nodes.append(helper.make_node("ReduceMean", [x], [oname], name=self.fresh("n_out_" + oname),
                                                    axes=axes, keepdims=0))
        elif pool == "gem":
            # mean(max(x, eps)^p)^(1/p): the clamp keeps the power real for hard-swish's negatives.
            lo = self.const_input(np.float32(1e-6), oname + "_eps")
            p = self.const_input(np.float32(self.GEM_P), oname + "_p")
            inv_p = self.const_input(np.float32(1.0 / self.GEM_P), oname + "_inv_p")
            powered = self.add("Pow", [self.add("Max", [x, lo], oname + "_clamp"), p], oname + "_pow")
            mean = self.add("ReduceMean", [powered], oname + "_mean", axes=axes, keepdims=0)
            self.onnx_nodes.append(helper.make_node("Pow", [mean, inv_p], [oname], name=self.fresh("n_out_" + oname)))
        elif pool is None:
            self.onnx_nodes.append(helper.make_node("Identity", [x], [oname], name=self.fresh("n_out_" + oname)))
        else:
            raise ConversionError(f"--pool {pool} is not supported")
        self.used_names.add(oname)
        return oname


def parse_extra_output(spec):
    """NODE[:NAME] -> (TF tensor ref, ONNX output name). A numeric suffix is NODE's output index
    (split:1), not a name; NAME defaults to NODE sanitized."""
    node, sep, name = spec.rpartition(":")
    if not sep or name.isdigit():
        node, name = spec, ""
    if not node:
        raise ConversionError(f"--extra-output {spec!r}: expected NODE[:NAME]")
    name = name or sanitize(node)
    if sanitize(name) != name:
        raise ConversionError(f"--extra-output {spec!r}: output name {name!r} must match [A-Za-z0-9_.]+")
    return node, name


def prune(model):
    """Drops nodes and initializers that no graph output depends on."""
    g = model.graph
    needed = {o.name for o in g.output}
    keep = []
    for node in reversed(list(g.node)):
        if any(o in needed for o in node.output):
            keep.append(node)
            needed.update(i for i in node.input if i)
    keep.reverse()
    del g.node[:]
    g.node.extend(keep)
    inits = [i for i in g.initializer if i.name in needed]
    del g.initializer[:]
    g.initializer.extend(inits)
    return model


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model_json")
    ap.add_argument("out", nargs="?")
    ap.add_argument("--ops", action="store_true", help="print the op histogram and exit")
    ap.add_argument("--io", help="also write the TF and ONNX names of the inputs and outputs to this JSON file")
    ap.add_argument("--extra-output", action="append", default=[], metavar="NODE[:NAME]",
                    help="also expose the tensor of TF node NODE as output NAME (repeatable)")
    ap.add_argument("--pool", choices=["mean", "gem"],
                    help="reduce each --extra-output over --pool-axes in the graph (gem: generalized mean, p=3)")
    ap.add_argument("--pool-axes", default="1,2", help="axes --pool reduces (default 1,2: H and W of NHWC)")
    ap.add_argument("--input-shape", metavar="N,H,W,C",
                    help="replace the image input's shape (-1: dynamic), e.g. --input-shape=-1,224,224,3 for a fully "
                         "convolutional backbone run at another size and batch")
    ap.add_argument("--only-extra-outputs", action="store_true",
                    help="drop the model's own outputs (and the nodes only they need)")
    args = ap.parse_args()
    try:
        shape = [int(d) for d in args.input_shape.split(",")] if args.input_shape else None
        conv = Converter(args.model_json, shape)
        if shape is not None and sum(n["op"] == "Placeholder" for n in conv.nodes) != 1:
            raise ConversionError("--input-shape needs a model with exactly one input")
        if args.ops or not args.out:
            hist = collections.Counter(n["op"] for n in conv.nodes)
            for op, n in sorted(hist.items()):
                print(f"{n:5d} {op}")
            return 0
        extra = [parse_extra_output(spec) for spec in args.extra_output]
        if args.only_extra_outputs and not extra:
            raise ConversionError("--only-extra-outputs needs --extra-output")
        axes = [int(a) for a in args.pool_axes.split(",")]
        model = conv.convert(extra, args.pool, axes, model_outputs=not args.only_extra_outputs)
    except (ConversionError, OSError, KeyError, ValueError) as e:
        print(f"tfjs2onnx: {args.model_json}: {e}", file=sys.stderr)
        return 1
    onnx.save(model, args.out)
    if args.io:
        with open(args.io, "w") as f:
            json.dump({"inputs": conv.io_inputs, "outputs": conv.io_outputs}, f, indent=1)
    ins = ", ".join(f"{i.name}{[d.dim_param or d.dim_value for d in i.type.tensor_type.shape.dim]}" for i in model.graph.input)
    outs = ", ".join(f"{o.name}{[d.dim_param or d.dim_value for d in o.type.tensor_type.shape.dim]}" for o in model.graph.output)
    print(f"{args.out}: {len(model.graph.node)} nodes; inputs {ins}; outputs {outs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
