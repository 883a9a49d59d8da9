#!/usr/bin/env python3
"""Trains ompqc's bundled example model on scikit-learn's digits (UCI optdigits, CC BY 4.0) and writes
examples/digits/: model.onnx, calib_x.npy, test_x.npy, test_y.npy and meta.json.

Numpy only (no deep-learning framework), deterministic (fixed seed). Needs: numpy, scikit-learn, onnx.
    python3 examples/make_digits_example.py

The network exercises what most MCU models use: a 3x3 conv, a strided conv, a depthwise-separable block with a
residual add, global average pooling and a dense classifier, with ReLU fused after each conv.
"""
import json
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "digits")
rng = np.random.default_rng(0)


def im2col(x, k, stride, pad):
    """x [N, C, H, W] -> patches [N, Ho, Wo, C, k, k]."""
    n, c, h, w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    ho, wo = (h + 2 * pad - k) // stride + 1, (w + 2 * pad - k) // stride + 1
    cols = np.empty((n, ho, wo, c, k, k), x.dtype)
    for i in range(k):
        for j in range(k):
            cols[:, :, :, :, i, j] = xp[:, :, i:i + stride * ho:stride, j:j + stride * wo:stride].transpose(0, 2, 3, 1)
    return cols, (h, w)


def col2im(dcols, shape, k, stride, pad):
    n, c, h, w = shape
    ho, wo = dcols.shape[1], dcols.shape[2]
    dxp = np.zeros((n, c, h + 2 * pad, w + 2 * pad), dcols.dtype)
    for i in range(k):
        for j in range(k):
            dxp[:, :, i:i + stride * ho:stride, j:j + stride * wo:stride] += dcols[:, :, :, :, i, j].transpose(0, 3, 1, 2)
    return dxp[:, :, pad:pad + h, pad:pad + w]


class Conv:
    def __init__(self, cin, cout, k, stride=1, pad=0, groups=1):
        self.k, self.stride, self.pad, self.groups = k, stride, pad, groups
        fan_in = cin // groups * k * k
        self.w = rng.normal(0, np.sqrt(2.0 / fan_in), (cout, cin // groups, k, k)).astype(np.float32)
        self.b = np.zeros(cout, np.float32)

    def forward(self, x):
        self.x_shape = x.shape
        self.cols, _ = im2col(x, self.k, self.stride, self.pad)
        n, ho, wo = self.cols.shape[:3]
        g, cout = self.groups, self.w.shape[0]
        cols = self.cols.reshape(n, ho, wo, g, -1)
        w = self.w.reshape(g, cout // g, -1)
        y = np.einsum("nhwgk,gok->nghwo", cols, w).transpose(0, 1, 4, 2, 3).reshape(n, cout, ho, wo)
        return y + self.b[None, :, None, None]

    def backward(self, dy):
        n, cout, ho, wo = dy.shape
        g = self.groups
        cols = self.cols.reshape(n, ho, wo, g, -1)
        dyg = dy.reshape(n, g, cout // g, ho, wo)
        self.dw = np.einsum("ngohw,nhwgk->gok", dyg, cols).reshape(self.w.shape)
        self.db = dy.sum(axis=(0, 2, 3))
        w = self.w.reshape(g, cout // g, -1)
        dcols = np.einsum("ngohw,gok->nhwgk", dyg, w).reshape(self.cols.shape)
        return col2im(dcols, self.x_shape, self.k, self.stride, self.pad)

    def params(self):
        return [(self.w, "dw"), (self.b, "db")]


class Dense:
    def __init__(self, k, n):
        self.w = rng.normal(0, np.sqrt(1.0 / k), (n, k)).astype(np.float32)  # Gemm with transB = 1
        self.b = np.zeros(n, np.float32)

    def forward(self, x):
        self.x = x
        return x @ self.w.T + self.b

    def backward(self, dy):
        self.dw, self.db = dy.T @ self.x, dy.sum(0)
        return dy @ self.w

    def params(self):
        return [(self.w, "dw"), (self.b, "db")]


class Net:
    def __init__(self):
        self.c1 = Conv(1, 8, 3, 1, 1)
        self.c2 = Conv(8, 16, 3, 2, 1)
        self.dw = Conv(16, 16, 3, 1, 1, groups=16)
        self.pw = Conv(16, 16, 1)
        self.fc = Dense(16, 10)
        self.layers = [self.c1, self.c2, self.dw, self.pw, self.fc]

    def forward(self, x):
        self.a1 = np.maximum(self.c1.forward(x), 0)
        self.a2 = np.maximum(self.c2.forward(self.a1), 0)
        self.a3 = np.maximum(self.dw.forward(self.a2), 0)
        self.a4 = np.maximum(self.pw.forward(self.a3) + self.a2, 0)
        self.hw = self.a4.shape[2] * self.a4.shape[3]
        return self.fc.forward(self.a4.mean(axis=(2, 3)))

    def backward(self, dlogits):
        dg = self.fc.backward(dlogits)
        d4 = np.broadcast_to(dg[:, :, None, None] / self.hw, self.a4.shape) * (self.a4 > 0)
        d3 = self.pw.backward(d4) * (self.a3 > 0)
        d2 = (self.dw.backward(d3) + d4) * (self.a2 > 0)
        d1 = self.c2.backward(d2) * (self.a1 > 0)
        self.c1.backward(d1)


def train(net, x, y, epochs=150, batch=64, lr=4e-3):
    state = {}
    step = 0
    for epoch in range(epochs):
        rate = lr * 0.5 * (1 + np.cos(np.pi * epoch / epochs))  # cosine decay
        order = rng.permutation(len(x))
        for s in range(0, len(x), batch):
            idx = order[s:s + batch]
            logits = net.forward(x[idx])
            p = np.exp(logits - logits.max(1, keepdims=True))
            p /= p.sum(1, keepdims=True)
            p[np.arange(len(idx)), y[idx]] -= 1
            net.backward(p / len(idx))
            step += 1
            for layer in net.layers:
                for param, grad_name in layer.params():
                    g = getattr(layer, grad_name)
                    m, v = state.setdefault(id(param), (np.zeros_like(param), np.zeros_like(param)))
                    m[:] = 0.9 * m + 0.1 * g
                    v[:] = 0.999 * v + 0.001 * g * g
                    mh, vh = m / (1 - 0.9 ** step), v / (1 - 0.999 ** step)
                    param -= (rate * mh / (np.sqrt(vh) + 1e-8)).astype(np.float32)


def export(net, path):
    inits = []

    def const(name, value):
        inits.append(numpy_helper.from_array(np.ascontiguousarray(value, np.float32), name))
        return name

    def conv(name, x, layer, out):
        return helper.make_node(
            "Conv", [x, const(name + ".weight", layer.w), const(name + ".bias", layer.b)], [out], name=name,
            kernel_shape=[layer.k, layer.k], strides=[layer.stride] * 2, pads=[layer.pad] * 4, group=layer.groups)

    nodes = [
        conv("conv1", "input", net.c1, "c1"), helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        conv("conv2", "r1", net.c2, "c2"), helper.make_node("Relu", ["c2"], ["r2"], name="relu2"),
        conv("block.depthwise", "r2", net.dw, "c3"), helper.make_node("Relu", ["c3"], ["r3"], name="relu3"),
        conv("block.pointwise", "r3", net.pw, "c4"),
        helper.make_node("Add", ["c4", "r2"], ["s4"], name="block.add"),
        helper.make_node("Relu", ["s4"], ["r4"], name="relu4"),
        helper.make_node("GlobalAveragePool", ["r4"], ["gap"], name="pool"),
        helper.make_node("Flatten", ["gap"], ["flat"], name="flatten", axis=1),
        helper.make_node("Gemm", ["flat", const("fc.weight", net.fc.w), const("fc.bias", net.fc.b)], ["output"],
                         name="fc", transB=1),
    ]
    graph = helper.make_graph(
        nodes, "digits_example",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 1, 8, 8])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 10])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="ompqc-example")
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)


def main():
    digits = load_digits()
    images = digits.images.astype(np.uint8)  # values 0..16
    x_train, x_test, y_train, y_test = train_test_split(
        images, digits.target, test_size=0.3, stratify=digits.target, random_state=0)
    scale = 1.0 / 16.0
    xf = (x_train[:, None].astype(np.float32) * scale)
    net = Net()
    train(net, xf, y_train)
    test_acc = (net.forward(x_test[:, None].astype(np.float32) * scale).argmax(1) == y_test).mean()
    os.makedirs(OUT, exist_ok=True)
    export(net, os.path.join(OUT, "model.onnx"))
    np.save(os.path.join(OUT, "calib_x.npy"), x_train[:64, None])
    np.save(os.path.join(OUT, "test_x.npy"), x_test[:, None])
    np.save(os.path.join(OUT, "test_y.npy"), y_test.astype(np.int32))
    meta = {
        "source": "sklearn.datasets.load_digits (UCI optdigits, CC BY 4.0); 70/30 stratified split, random_state=0; "
                  "calib = the first 64 training images",
        "input_dequant": {"scale": scale, "offset": 0.0},
        "n_calib": 64, "n_test": int(len(y_test)), "float_top1_numpy": round(float(test_acc), 4),
    }
    with open(os.path.join(OUT, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")
    print(f"test top-1 {100 * test_acc:.2f}% on {len(y_test)} images; wrote {OUT}")


if __name__ == "__main__":
    main()
