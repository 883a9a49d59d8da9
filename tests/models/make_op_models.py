#!/usr/bin/env python3
"""Writes the small ONNX models under tests/models/ that cover each operator and attribute form the importer
supports (and a few it must refuse). Random weights, fixed seed; the files are committed so the Rust tests need
no Python. Needs numpy and onnx:  python3 tests/models/make_op_models.py
"""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(7)


class Model:
    def __init__(self, name, in_shape, opset=13):
        self.name, self.in_shape, self.opset = name, in_shape, opset
        self.nodes, self.inits, self.n = [], [], 0

    def const(self, value, dtype=np.float32):
        name = f"c{len(self.inits)}"
        self.inits.append(numpy_helper.from_array(np.asarray(value, dtype), name))
        return name

    def w(self, *shape, scale=0.5):
        return self.const(rng.normal(0, scale, shape))

    def op(self, op_type, inputs, n_out=1, **attrs):
        self.n += 1
        outs = [f"t{self.n}_{i}" for i in range(n_out)]
        self.nodes.append(helper.make_node(op_type, inputs, outs, name=f"{op_type.lower()}_{self.n}", **attrs))
        return outs[0] if n_out == 1 else outs

    def save(self, out, out_shape=None, in_dims=None):
        self.nodes[-1].output[0] = "output"
        for n in self.nodes:  # rename uses of the last output
            n.input[:] = ["output" if i == out and n is not self.nodes[-1] else i for i in n.input]
        dims = in_dims if in_dims is not None else self.in_shape
        graph = helper.make_graph(
            self.nodes, self.name, [helper.make_tensor_value_info("input", TensorProto.FLOAT, dims)],
            [helper.make_tensor_value_info("output", TensorProto.FLOAT, out_shape)], self.inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", self.opset)], producer_name="ompqc-tests")
        model.ir_version = 8
        onnx.save(model, os.path.join(HERE, self.name + ".onnx"))


def conv_variants():
    m = Model("conv_variants", [1, 4, 9, 11])
    x = m.op("Conv", ["input", m.w(8, 4, 3, 3), m.w(8)], pads=[1, 1, 1, 1])
    x = m.op("Conv", [x, m.w(8, 2, 3, 3)], group=4, strides=[2, 1], pads=[0, 1, 2, 1])  # grouped, no bias
    x = m.op("Conv", [x, m.w(8, 1, 3, 3), m.w(8)], group=8, dilations=[2, 2], pads=[2, 2, 2, 2])  # depthwise
    x = m.op("Conv", [x, m.w(16, 8, 2, 3), m.w(16)], auto_pad="SAME_UPPER", strides=[2, 2])
    x = m.op("Conv", [x, m.w(16, 16, 2, 2)], auto_pad="SAME_LOWER")
    x = m.op("Conv", [x, m.w(6, 16, 1, 1), m.w(6)])  # pointwise
    x = m.op("LeakyRelu", [x], alpha=0.1)
    m.save(x, [1, 6, 3, 6])


def conv1d():
    m = Model("conv1d", [1, 3, 40])
    x = m.op("Conv", ["input", m.w(8, 3, 5), m.w(8)], pads=[2, 2], strides=[2])
    x = m.op("Relu", [x])
    x = m.op("Conv", [x, m.w(8, 1, 3), m.w(8)], group=8, pads=[1, 1])
    x = m.op("MaxPool", [x], kernel_shape=[2], strides=[2])
    x = m.op("Conv", [x, m.w(4, 8, 1)])
    x = m.op("Tanh", [x])
    m.save(x, [1, 4, 10])


def batchnorm_affine():
    """BN right after the input (nothing to fold into), arithmetic by constants, BN after a conv."""
    m = Model("batchnorm_affine", [1, 3, 6, 6])
    c = 3
    bn = lambda x, c: m.op("BatchNormalization", [x, m.const(rng.uniform(0.5, 2, c)), m.w(c), m.w(c),
                                                  m.const(rng.uniform(0.5, 2, c))], epsilon=1e-3)
    x = bn("input", c)
    x = m.op("Sub", [x, m.const(rng.normal(0, 1, (1, 3, 1, 1)))])
    x = m.op("Div", [x, m.const(np.array([0.5, 2.0, 4.0]).reshape(3, 1, 1))])
    x = m.op("Conv", [x, m.w(5, 3, 3, 3)])
    x = bn(x, 5)
    x = m.op("Mul", [x, m.const(1.5)])
    x = m.op("Add", [m.const(rng.normal(0, 1, (5, 1, 1))), x])
    x = m.op("Clip", [x, m.const(-1.0), m.const(2.5)])
    x = m.op("Sub", [m.const(0.25), x])
    m.save(x, [1, 5, 4, 4])


def activations():
    m = Model("activations", [1, 4, 5, 5], opset=14)
    x = m.op("Conv", ["input", m.w(8, 4, 1, 1), m.w(8)])
    a = m.op("Sigmoid", [x])
    b = m.op("HardSigmoid", [x], alpha=0.3, beta=0.4)
    c = m.op("HardSwish", [x])
    d = m.op("Clip", [x, m.const(0.0), m.const(6.0)])
    x = m.op("Concat", [a, b, c, d], axis=1)
    x = m.op("Conv", [x, m.w(4, 32, 1, 1), m.w(4)])
    m.save(x, [1, 4, 5, 5])


def pools():
    m = Model("pools", [1, 3, 12, 10])
    x = m.op("MaxPool", ["input"], kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1)
    y = m.op("AveragePool", ["input"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], count_include_pad=1)
    z = m.op("AveragePool", ["input"], kernel_shape=[3, 2], strides=[2, 2], pads=[1, 0, 1, 1])
    x = m.op("Concat", [x, y, z], axis=1)
    x = m.op("ReduceMean", [x], axes=[2, 3], keepdims=1)
    x = m.op("Squeeze", [x, m.const([3], np.int64)])
    x = m.op("Unsqueeze", [x, m.const([2], np.int64)])  # [1, 9, 1, 1]
    x = m.op("Transpose", [x], perm=[0, 2, 3, 1])       # moves only size-1 axes: [1, 1, 1, 9]
    x = m.op("Flatten", [x], axis=1)
    x = m.op("Gemm", [x, m.w(9, 5), m.w(1, 5)], alpha=0.5, beta=2.0)  # transB = 0
    x = m.op("Softmax", [x], axis=-1)
    m.save(x, [1, 5])


def pad_se_hardswish():
    """Explicit Pad folded into a conv, squeeze-excite (a broadcast Mul of two activations), and hard-swish
    decomposed the way exporters write it: x * clip(x + 3, 0, 6) / 6."""
    m = Model("pad_se_hardswish", [1, 4, 8, 8])
    x = m.op("Pad", ["input", m.const([0, 0, 1, 2, 0, 0, 1, 2], np.int64)])
    x = m.op("Conv", [x, m.w(8, 4, 3, 3), m.w(8)])
    g = m.op("Add", [x, m.const(3.0)])
    g = m.op("Clip", [g, m.const(0.0), m.const(6.0)])
    x2 = m.op("Mul", [x, g])
    x = m.op("Div", [x2, m.const(6.0)])
    s = m.op("GlobalAveragePool", [x])
    s = m.op("Conv", [s, m.w(4, 8, 1, 1), m.w(4)])
    s = m.op("Relu", [s])
    s = m.op("Conv", [s, m.w(8, 4, 1, 1), m.w(8)])
    s = m.op("HardSigmoid", [s], alpha=0.2, beta=0.5)
    x = m.op("Mul", [x, s])
    x = m.op("Identity", [x])
    x = m.op("Dropout", [x])
    x = m.op("Reshape", [x, m.const([1, -1], np.int64)])
    x = m.op("MatMul", [x, m.w(8 * 8 * 10, 10, scale=0.05)])
    x = m.op("Add", [x, m.w(10)])
    m.save(x, [1, 10])


def dynamic_batch():
    m = Model("dynamic_batch", [1, 2, 4, 4])
    x = m.op("Conv", ["input", m.w(3, 2, 3, 3), m.w(3)], pads=[1, 1, 1, 1])
    x = m.op("Relu", [x])
    x = m.op("Flatten", [x])
    m.save(x, ["N", 48], in_dims=["N", 2, 4, 4])


def dynamic_spatial():
    m = Model("dynamic_spatial", [1, 2, 6, 6])
    x = m.op("Conv", ["input", m.w(3, 2, 3, 3), m.w(3)], pads=[1, 1, 1, 1])
    x = m.op("GlobalAveragePool", [x])
    m.save(x, ["N", 3, 1, 1], in_dims=["N", 2, "H", "W"])


def unsupported_ops():
    """A Concat with a constant input and an op ompqc lacks: both must be reported by name."""
    m = Model("unsupported_ops", [1, 2, 3, 4])
    x = m.op("Conv", ["input", m.w(4, 2, 1, 1)])
    x = m.op("Concat", [x, m.const(np.zeros((1, 1, 3, 4)))], axis=1)
    x = m.op("Hardmax", [x])
    x = m.op("Flatten", [x])
    m.save(x, [1, 60])


def reshape_4d():
    """A reshape between two 4-D shapes with several channels and pixels: the interpreter runs it, the C emitter
    has no kernel for it yet."""
    m = Model("reshape_4d", [1, 2, 4, 4])
    x = m.op("Conv", ["input", m.w(4, 2, 1, 1), m.w(4)])
    x = m.op("Reshape", [x, m.const([1, 8, 2, 4], np.int64)])
    x = m.op("Conv", [x, m.w(3, 8, 1, 1), m.w(3)])
    m.save(x, [1, 3, 2, 4])


def kernel_paths():
    # Odd sizes, so that every generated kernel path runs its remainders: K % 16 != 0 (Helium's predicated tail) and
    # K % 32, K % 64 != 0 (sub-byte tails), odd channel and pixel counts, a 1x1 conv reading its input in place,
    # depthwise 3x3 at strides 1 and 2 with uneven padding, adds of equal shapes (225 elements, fused into the conv
    # before) and broadcast, pooling.
    m = Model("kernel_paths", [1, 5, 9, 7])
    x = m.op("Conv", ["input", m.w(7, 5, 3, 3), m.w(7)], pads=[1, 1, 1, 1])
    x = m.op("Relu", [x])
    x = m.op("Conv", [x, m.w(9, 7, 1, 1), m.w(9)])
    x = m.op("Conv", [x, m.w(9, 1, 3, 3), m.w(9)], group=9, strides=[2, 2], pads=[1, 0, 1, 1])  # [1, 9, 5, 3]
    x = m.op("Relu", [x])
    x = m.op("Conv", [x, m.w(15, 9, 3, 3), m.w(15)], pads=[1, 1, 1, 1])
    y = m.op("Conv", [x, m.w(15, 15, 3, 3, scale=0.2), m.w(15)], pads=[1, 1, 1, 1])
    z = m.op("Conv", [x, m.w(15, 1, 3, 3), m.w(15)], group=15, pads=[1, 1, 1, 1])
    x = m.op("Add", [y, z])
    x = m.op("Add", [x, m.w(1, 15, 1, 1)])
    x = m.op("AveragePool", [x], kernel_shape=[2, 2], strides=[2, 2], pads=[0, 0, 1, 1], count_include_pad=0)
    x = m.op("Add", [x, m.op("GlobalAveragePool", [x])])  # broadcast
    x = m.op("GlobalAveragePool", [x])
    # The last layer a conv with 7 channels writing the caller's output: a store past it hits the harness's guard.
    x = m.op("Conv", [x, m.w(7, 15, 1, 1), m.w(7)])
    m.save(x, [1, 7, 1, 1])


def residual_bands():
    # Adds fused into the convolution before them (plan::fusion), each computed in several bands of output rows:
    # a 3x3 stride-2 conv with padding (the first band padded, the next starting inside the input), a 1x1 conv
    # reading its input in place whose input is also the residual, a depthwise 3x3, a grouped conv writing the
    # caller's output; both input orders of the add; odd widths (bands of an even pixel count).
    m = Model("residual_bands", [1, 6, 21, 9])
    a = m.op("Relu", [m.op("Conv", ["input", m.w(8, 6, 3, 3), m.w(8)], pads=[1, 1, 1, 1])])
    s = m.op("Conv", [a, m.w(8, 8, 1, 1), m.w(8)], strides=[2, 2])  # [1, 8, 11, 5]
    b = m.op("Conv", [a, m.w(8, 8, 3, 3, scale=0.2), m.w(8)], strides=[2, 2], pads=[1, 1, 1, 1])
    x = m.op("Relu", [m.op("Add", [s, b])])
    d = m.op("Conv", [x, m.w(8, 8, 1, 1), m.w(8)])
    x = m.op("Add", [d, x])
    h = m.op("Conv", [x, m.w(8, 8, 1, 1), m.w(8)])
    dw = m.op("Conv", [x, m.w(8, 1, 3, 3), m.w(8)], group=8, pads=[1, 1, 1, 1])
    x = m.op("Add", [h, dw])
    g = m.op("Conv", [x, m.w(8, 4, 3, 3, scale=0.3), m.w(8)], group=2, pads=[1, 1, 1, 1])
    x = m.op("Add", [x, g])
    m.save(x, [1, 8, 11, 5])


def pad_pool():
    # A one-channel 3x3 convolution (one group, yet run by the depthwise 3x3 kernel: plan::kernels checks depthwise
    # 3x3 first) and a standalone constant Pad (its value is not 0, so it folds neither into the conv before it nor
    # into the max pooling after it).
    m = Model("pad_pool", [1, 1, 9, 7])
    x = m.op("Conv", ["input", m.w(1, 1, 3, 3), m.w(1)], pads=[1, 1, 1, 1])
    x = m.op("Pad", [x, m.const([0, 0, 1, 2, 0, 0, 2, 1], np.int64), m.const(0.5)])
    x = m.op("MaxPool", [x], kernel_shape=[2, 2], strides=[2, 2])
    m.save(x, [1, 1, 6, 5])


def patch_stage():
    # A first stage that runs tile by tile under a small RAM budget (plan::tiling): a padded stride-2 conv, a
    # depthwise 3x3 (written over its input when in place), a table (sigmoid), an asymmetric constant Pad, a dilated
    # 3x3 conv without padding, a residual block whose add reads its skip at an offset (the skip's tile carries the
    # depthwise's halo), a swish-style multiply, a grouped conv and a stride-2 depthwise; then a 1x1 conv, so the
    # output is a feature map (every byte of the stage's output shows in it). Odd sizes: uneven tiles.
    m = Model("patch_stage", [1, 3, 30, 26])
    x = m.op("Relu", [m.op("Conv", ["input", m.w(8, 3, 3, 3), m.w(8)], strides=[2, 2], pads=[1, 1, 1, 1])])
    x = m.op("Conv", [x, m.w(8, 1, 3, 3), m.w(8)], group=8, pads=[1, 1, 1, 1])  # [1, 8, 15, 13]
    x = m.op("Sigmoid", [x])
    x = m.op("Pad", [x, m.const([0, 0, 1, 2, 0, 0, 2, 1], np.int64), m.const(0.5)])  # [1, 8, 18, 16]
    y = m.op("Relu", [m.op("Conv", [x, m.w(12, 8, 3, 3, scale=0.3), m.w(12)], dilations=[2, 2])])  # [1, 12, 14, 12]
    e = m.op("Relu", [m.op("Conv", [y, m.w(24, 12, 1, 1), m.w(24)])])
    d = m.op("Relu", [m.op("Conv", [e, m.w(24, 1, 3, 3), m.w(24)], group=24, pads=[1, 1, 1, 1])])
    x = m.op("Add", [m.op("Conv", [d, m.w(12, 24, 1, 1, scale=0.2), m.w(12)]), y])
    x = m.op("Mul", [x, m.op("Sigmoid", [x])])
    x = m.op("Relu", [m.op("Conv", [x, m.w(12, 3, 3, 3, scale=0.3), m.w(12)], group=4, pads=[1, 1, 1, 1])])
    x = m.op("Conv", [x, m.w(12, 1, 3, 3), m.w(12)], group=12, strides=[2, 2], pads=[1, 1, 1, 1])  # [1, 12, 7, 6]
    x = m.op("Conv", [x, m.w(6, 12, 1, 1), m.w(6)])
    m.save(x, [1, 6, 7, 6])


def wide_channels():
    # Column convolutions with more output channels than one block of sums (64: the Rust kernels' 32 channel
    # pairs): 70 channels of a 3x3 conv whose K = 72 leaves Helium a tail of words, then 67 channels of a 1x1 conv
    # (an odd last block) over 35 pixels (an odd last pixel).
    m = Model("wide_channels", [1, 8, 5, 7])
    x = m.op("Relu", [m.op("Conv", ["input", m.w(70, 8, 3, 3, scale=0.2), m.w(70)], pads=[1, 1, 1, 1])])
    x = m.op("Conv", [x, m.w(67, 70, 1, 1, scale=0.1), m.w(67)])
    m.save(x, [1, 67, 5, 7])


def leading_axis():
    # Time folded into the batch inside the graph (as TimeDistributed layers export): a Reshape to [4, 1, 8, 8]
    # before a Conv and a global pool. ompqc's image kernels run one image, so the Conv is refused by name.
    m = Model("leading_axis", [1, 4, 1, 8, 8])
    x = m.op("Reshape", ["input", m.const([4, 1, 8, 8], np.int64)])
    x = m.op("Conv", [x, m.w(2, 1, 3, 3), m.w(2)], pads=[1, 1, 1, 1])
    x = m.op("GlobalAveragePool", [x])
    x = m.op("Reshape", [x, m.const([1, 8], np.int64)])
    m.save(x, [1, 8])


def training_modes():
    # BatchNormalization and Dropout exported in training mode: refused, never run with inference semantics.
    m = Model("bn_training", [1, 2, 4, 4], opset=15)
    x = m.op("BatchNormalization", ["input", m.const([1, 2]), m.const([0, 1]), m.const([0.5, 0]), m.const([1, 2])],
             training_mode=1)
    m.save(x, [1, 2, 4, 4])
    m = Model("dropout_modes", [1, 2, 4, 4])
    x = m.op("Dropout", ["input", m.const(0.5), m.const(False, np.bool_)])  # inference: the identity
    x = m.op("Relu", [x])
    x = m.op("Dropout", [x, m.const(0.5), m.const(True, np.bool_)])
    m.save(x, [1, 2, 4, 4])


def more_activations():
    # The activations ompqc runs as tables (elu, selu, celu, softplus, softsign, gelu both ways, mish, thresholded
    # relu, PRelu with one slope, neg, abs, erf in an exported GELU) on a 1x1 conv's output, concatenated and mixed by a 1x1 conv so every
    # table's output shows in the model's; then a global max pool added back by a Sum of two inputs.
    m = Model("more_activations", [1, 3, 4, 4], opset=20)
    x = m.op("Conv", ["input", m.w(6, 3, 1, 1), m.w(6)])
    branches = [
        m.op("Elu", [x], alpha=0.7),
        m.op("Selu", [x]),
        m.op("Celu", [x], alpha=1.5),
        m.op("Softplus", [x]),
        m.op("Softsign", [x]),
        m.op("Gelu", [x]),
        m.op("Gelu", [x], approximate="tanh"),
        m.op("Mish", [x]),
        m.op("ThresholdedRelu", [x], alpha=0.2),
        m.op("PRelu", [x, m.const([0.25])]),
        m.op("Neg", [x]),
        m.op("Abs", [x]),
        # GELU as PyTorch exports it before opset 20: x * 0.5 * (1 + erf(x / sqrt(2))).
        m.op("Mul", [m.op("Mul", [x, m.op("Add", [m.op("Erf", [m.op("Div", [x, m.const(1.4142135)])]),
                                                 m.const(1.0)])]), m.const(0.5)]),
    ]
    y = m.op("Concat", branches, axis=1)
    y = m.op("Conv", [y, m.w(4, 78, 1, 1, scale=0.2), m.w(4)])
    z = m.op("GlobalMaxPool", [y])
    m.save(m.op("Sum", [y, z]), [1, 4, 4, 4])


def math_functions():
    # ONNX's elementwise math operators, Swish and Shrink, each a table in the integer model, on a 1x1 conv's output
    # (kept inside each function's domain), concatenated and mixed by a 1x1 conv so every table shows in the output.
    m = Model("math_functions", [1, 3, 4, 4], opset=24)
    x = m.op("Conv", ["input", m.w(4, 3, 1, 1), m.w(4)])
    bounded = m.op("Tanh", [x])  # (-1, 1)
    above_one = m.op("Add", [m.op("Abs", [x]), m.const(1.0)])  # [1, inf)
    branches = [m.op(op, [x]) for op in ["Exp", "Sin", "Cos", "Atan", "Sinh", "Cosh", "Asinh", "Ceil", "Floor",
                                         "Round", "Sign"]]
    branches += [m.op(op, [bounded]) for op in ["Asin", "Acos", "Atanh", "Tan"]]
    branches += [m.op(op, [above_one]) for op in ["Log", "Sqrt", "Reciprocal", "Acosh"]]
    branches += [m.op("Swish", [x], alpha=1.5), m.op("Shrink", [x], lambd=0.3, bias=0.1)]
    y = m.op("Concat", branches, axis=1)
    m.save(m.op("Conv", [y, m.w(4, 4 * len(branches), 1, 1, scale=0.2), m.w(4)]), [1, 4, 4, 4])
    # tract differs from the ONNX reference on some of these, so the expected outputs are the reference's.
    from onnx.reference import ReferenceEvaluator
    model = onnx.load(os.path.join(HERE, "math_functions.onnx"))
    x = np.random.default_rng(11).normal(0, 1, (4, 1, 3, 4, 4)).astype(np.float32)
    expected = np.concatenate([ReferenceEvaluator(model).run(None, {"input": s})[0] for s in x])
    np.save(os.path.join(HERE, "math_functions.input.npy"), x.reshape(4, 3, 4, 4))
    np.save(os.path.join(HERE, "math_functions.expected.npy"), expected)


def resampling():
    # Resize as exports use it: nearest upsampling by scales (as U-Nets and FPNs do), linear half-pixel to given
    # sizes, cubic align-corners downsampling with antialiasing; and Upsample (opset 9) in a model of its own.
    m = Model("resampling", [1, 3, 6, 5], opset=19)
    x = m.op("Conv", ["input", m.w(4, 3, 3, 3), m.w(4)], pads=[1, 1, 1, 1])
    empty = m.const([])
    x = m.op("Resize", [x, empty, m.const([1, 1, 2, 2])], mode="nearest")
    x = m.op("Relu", [x])
    x = m.op("Resize", [x, empty, empty, m.const([1, 4, 15, 10], np.int64)], mode="linear")
    # Whole output lengths (15 * 0.6, 10 * 0.8): with align_corners onnxruntime and the ONNX reference differ
    # otherwise (ompqc and tract follow the reference).
    x = m.op("Resize", [x, empty, m.const([1, 1, 0.6, 0.8])], mode="cubic", antialias=1,
             coordinate_transformation_mode="align_corners")
    m.save(m.op("Conv", [x, m.w(2, 4, 1, 1), m.w(2)]), [1, 2, 9, 8])


def transposed_conv():
    # A decoder's pieces: ConvTranspose (stride 2, pads, output_padding, 2 groups; then dilated, SAME_UPPER), PRelu
    # with a slope per channel, and Sub of two activations.
    m = Model("transposed_conv", [1, 4, 5, 4])
    x = m.op("Conv", ["input", m.w(4, 4, 3, 3), m.w(4)], pads=[1, 1, 1, 1])
    up = m.op("ConvTranspose", [x, m.w(4, 3, 3, 3, scale=0.3), m.w(6)], strides=[2, 2], pads=[0, 1, 2, 1],
              output_padding=[1, 1], group=2)
    up = m.op("PRelu", [up, m.const(rng.uniform(0.05, 0.5, (6, 1, 1)))])
    side = m.op("ConvTranspose", [x, m.w(4, 6, 2, 3, scale=0.3)], strides=[2, 2], dilations=[2, 1],
                auto_pad="SAME_UPPER")
    y = m.op("Sub", [up, side])
    m.save(m.op("Conv", [y, m.w(3, 6, 1, 1), m.w(3)]), [1, 3, 10, 8])


def log_softmax():
    # LogSoftmax over the channels of every pixel (segmentation heads), then over a classifier's outputs (as
    # networks trained with NLL loss end).
    m = Model("log_softmax", [1, 3, 6, 6])
    x = m.op("Conv", ["input", m.w(5, 3, 3, 3), m.w(5)], pads=[1, 1, 1, 1])
    x = m.op("LogSoftmax", [x], axis=1)
    x = m.op("Conv", [x, m.w(4, 5, 1, 1, scale=0.2), m.w(4)])
    x = m.op("Flatten", [m.op("GlobalAveragePool", [x])])
    x = m.op("Gemm", [x, m.w(10, 4), m.w(10)], transB=1)
    m.save(m.op("LogSoftmax", [x], axis=1), [1, 10])


def slices():
    # Split along the channels (uneven parts) and recombined in another order; Slice with steps, a negative step and
    # negative indices; a Split of the width whose second part is never read.
    m = Model("slices", [1, 3, 7, 6], opset=13)
    x = m.op("Conv", ["input", m.w(8, 3, 3, 3), m.w(8)], pads=[1, 1, 1, 1])
    a, b, c = m.op("Split", [x, m.const([2, 3, 3], np.int64)], n_out=3, axis=1)
    x = m.op("Concat", [c, m.op("Relu", [a]), m.op("Sigmoid", [b])], axis=1)
    i64 = lambda v: m.const(v, np.int64)
    x = m.op("Slice", [x, i64([7, 1]), i64([-100, 7]), i64([1, 2]), i64([-1, 2])])  # channels reversed, odd rows
    x = m.op("Slice", [x, i64([-5]), i64([-1]), i64([3])])  # columns 1 to 4
    left, _ = m.op("Split", [x, i64([3, 1])], n_out=2, axis=3)
    m.save(m.op("Conv", [left, m.w(2, 8, 1, 1), m.w(2)]), [1, 2, 3, 3])


def normalizations():
    # InstanceNormalization (per channel), LayerNormalization over the whole sample with a per-channel scale, over
    # the last axis, and over a dense layer's features (as MLP-Mixer and transformer blocks use it).
    m = Model("normalizations", [1, 3, 6, 5], opset=17)
    x = m.op("Conv", ["input", m.w(4, 3, 3, 3), m.w(4)], pads=[1, 1, 1, 1])
    x = m.op("InstanceNormalization", [x, m.const(rng.uniform(0.5, 1.5, 4)), m.w(4)], epsilon=1e-3)
    x = m.op("Relu", [x])
    x = m.op("LayerNormalization", [x, m.const(rng.uniform(0.5, 1.5, (4, 1, 1))), m.w(4, 1, 1)], axis=1)
    x = m.op("LayerNormalization", [x, m.const(rng.uniform(0.5, 1.5, 5)), m.w(5)], axis=-1, epsilon=1e-2)
    x = m.op("Flatten", [m.op("Conv", [x, m.w(2, 4, 3, 3), m.w(2)], strides=[2, 2])])
    x = m.op("Gemm", [x, m.w(8, 8), m.w(8)], transB=1)
    m.save(m.op("LayerNormalization", [x, m.const(rng.uniform(0.5, 1.5, 8))], axis=1), [1, 8])
    # LRN runs in float only.
    m = Model("lrn", [1, 5, 4, 4])
    x = m.op("Conv", ["input", m.w(6, 5, 1, 1), m.w(6)])
    m.save(m.op("LRN", [x], size=3, alpha=1e-2, beta=0.75, bias=2.0), [1, 6, 4, 4])


def transposes():
    # Transposes that reorder axes: height and width swapped between convolutions, then channels last before a
    # dense layer (as models exported from NHWC frameworks do).
    m = Model("transposes", [1, 3, 5, 4])
    x = m.op("Conv", ["input", m.w(4, 3, 3, 3), m.w(4)], pads=[1, 1, 1, 1])
    x = m.op("Transpose", [x], perm=[0, 1, 3, 2])
    x = m.op("Conv", [x, m.w(6, 4, 3, 1), m.w(6)])
    x = m.op("Flatten", [m.op("Transpose", [x], perm=[0, 2, 3, 1])])
    m.save(m.op("Gemm", [x, m.w(5, 60, scale=0.2), m.w(5)], transB=1), [1, 5])


def reductions():
    # Spatial attention as CBAM computes it: the mean and the max over the channels, concatenated, a conv, a sigmoid
    # gate; then a min over the width (keepdims 0) and a mean over the last axis of what remains.
    m = Model("reductions", [1, 3, 6, 5], opset=13)
    x = m.op("Conv", ["input", m.w(6, 3, 3, 3), m.w(6)], pads=[1, 1, 1, 1])
    avg = m.op("ReduceMean", [x], axes=[1])
    top = m.op("ReduceMax", [x], axes=[1])
    gate = m.op("Sigmoid", [m.op("Conv", [m.op("Concat", [avg, top], axis=1), m.w(1, 2, 3, 3)], pads=[1, 1, 1, 1])])
    x = m.op("Mul", [x, gate])
    x = m.op("ReduceMin", [x], axes=[3], keepdims=0)
    m.save(m.op("ReduceMean", [x], axes=[-1], keepdims=1), [1, 6, 1])


def more_arithmetic():
    # Division of two activations (x * (1 / d), the reciprocal a table), a constant divided by an activation, and Pow
    # by a constant exponent, as RMS normalization written out uses them.
    m = Model("more_arithmetic", [1, 3, 5, 5], opset=13)
    x = m.op("Conv", ["input", m.w(4, 3, 3, 3), m.w(4)], pads=[1, 1, 1, 1])
    d = m.op("Add", [m.op("Sigmoid", [x]), m.const(0.5)])  # in (0.5, 1.5)
    q = m.op("Div", [x, d])
    r = m.op("Div", [m.const(np.array([1.0, 2.0, 0.5, 1.5]).reshape(4, 1, 1)), d])
    p = m.op("Pow", [x, m.const(2.0)])
    y = m.op("Concat", [q, r, p], axis=1)
    m.save(m.op("Conv", [y, m.w(2, 12, 1, 1, scale=0.2), m.w(2)]), [1, 2, 5, 5])


def upsample():
    # Upsample (opset 7, scales as an attribute), as older exports write it.
    m = Model("upsample", [1, 2, 3, 4], opset=7)
    x = m.op("Conv", ["input", m.w(3, 2, 1, 1), m.w(3)])
    x = m.op("Upsample", [x], mode="nearest", scales=[1.0, 1.0, 2.0, 3.0])
    m.save(m.op("Conv", [x, m.w(2, 3, 3, 3), m.w(2)], pads=[1, 1, 1, 1]), [1, 2, 6, 12])


def pad_modes():
    # Reflect and edge padding (a resampling of one tap each).
    m = Model("pad_modes", [1, 2, 5, 6], opset=18)
    x = m.op("Conv", ["input", m.w(3, 2, 1, 1), m.w(3)])
    x = m.op("Pad", [x, m.const([0, 0, 2, 1, 0, 0, 1, 3], np.int64)], mode="reflect")
    x = m.op("Pad", [x, m.const([0, 0, 0, 1, 0, 0, 0, 2], np.int64)], mode="edge")
    m.save(m.op("Conv", [x, m.w(2, 3, 3, 3), m.w(2)]), [1, 2, 6, 11])


for make in [conv_variants, conv1d, batchnorm_affine, activations, pools, pad_se_hardswish, dynamic_batch,
             dynamic_spatial, unsupported_ops, reshape_4d, kernel_paths, residual_bands, pad_pool, patch_stage,
             wide_channels, leading_axis, training_modes, more_activations, math_functions, resampling,
             transposed_conv, log_softmax, slices, normalizations,
             transposes, reductions, more_arithmetic, upsample, pad_modes]:
    make()
print("wrote", sorted(f for f in os.listdir(HERE) if f.endswith(".onnx")))
