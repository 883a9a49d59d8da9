#!/usr/bin/env python3
"""Quantizes a float ONNX model with onnxruntime's quantize_static into a QDQ model (QuantizeLinear /
DequantizeLinear pairs around each layer), as users who quantize before they deploy do.

    python3 scripts/make_qdq.py MODEL.onnx CALIB_X.npy OUT.onnx [--scale S] [--offset O] [--int4 | --uint4 [--keep-opset]]
        [--activations int8|uint8] [--per-tensor] [--format qdq|qoperator]

CALIB_X.npy holds the calibration inputs (any dtype; float input = x * S + O). Weights are int8, per output channel
unless --per-tensor; with --int4 (--uint4) every weighted layer but the first and the last gets symmetric int4 (uint4)
weights, stored two per byte in opset 21 (or, with --keep-opset, in onnxruntime's com.microsoft domain). Needs numpy, onnx and onnxruntime.
"""
import argparse

import numpy as np
import onnx
import onnx.version_converter
from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

WEIGHTED = ("Conv", "Gemm", "MatMul")


class Reader(CalibrationDataReader):
    def __init__(self, name, x):
        self.items = iter([{name: x[i:i + 1]} for i in range(len(x))])

    def get_next(self):
        return next(self.items, None)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model")
    ap.add_argument("calib")
    ap.add_argument("out")
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--offset", type=float, default=0.0)
    ap.add_argument("--int4", action="store_true")
    ap.add_argument("--uint4", action="store_true", help="as --int4 with uint4 weights (symmetric: zero point 8)")
    ap.add_argument("--keep-opset", action="store_true",
                    help="with --int4: keep the model's opset (onnxruntime then writes int4 QDQ in its com.microsoft domain)")
    ap.add_argument("--activations", choices=["int8", "uint8"], default="int8")
    ap.add_argument("--per-tensor", action="store_true")
    ap.add_argument("--format", choices=["qdq", "qoperator"], default="qdq",
                    help="qoperator: QLinearConv and the like instead of QDQ pairs (ompqc reads QDQ only)")
    args = ap.parse_args()

    model = onnx.load(args.model)
    four = args.int4 or args.uint4
    if four and not args.keep_opset:
        # INT4 is a standard QuantizeLinear/DequantizeLinear type from opset 21 (below it onnxruntime falls back to
        # its own com.microsoft domain).
        model = onnx.version_converter.convert_version(model, 21)
    inits = {t.name for t in model.graph.initializer}
    input_name = [i.name for i in model.graph.input if i.name not in inits][0]
    x = (np.load(args.calib).astype(np.float32) * args.scale + args.offset).astype(np.float32)
    overrides = {}
    if four:
        weights = [n.input[1] for n in model.graph.node if n.op_type in WEIGHTED and n.input[1] in inits]
        for w in weights[1:-1]:
            override = {"quant_type": QuantType.QUInt4 if args.uint4 else QuantType.QInt4, "symmetric": True}
            if not args.per_tensor:
                override["axis"] = 0
            overrides[w] = [override]
    quantize_static(
        model,
        args.out,
        Reader(input_name, x),
        quant_format=QuantFormat.QDQ if args.format == "qdq" else QuantFormat.QOperator,
        per_channel=not args.per_tensor,
        activation_type=QuantType.QInt8 if args.activations == "int8" else QuantType.QUInt8,
        weight_type=QuantType.QInt8,
        extra_options={"TensorQuantOverrides": overrides} if overrides else {},
    )


if __name__ == "__main__":
    main()
