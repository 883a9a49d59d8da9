#!/usr/bin/env python3
"""onnxruntime's outputs of a one-input, one-output model, one sample at a time (ompqc models run batch 1):
python3 tests/onnxruntime_outputs.py MODEL.onnx INPUT.npy OUTPUT.npy [optimized]   (exit 3 when onnxruntime is missing)

By default the graph runs as written (a QDQ model's quantize-dequantize steps in float); with `optimized`, with
onnxruntime's default optimizations, which run a QDQ model's layers as integer kernels (QLinearConv and the like)."""
import sys

import numpy as np

try:
    import onnxruntime as ort
except ImportError:
    sys.exit(3)

model, inputs, outputs = sys.argv[1:4]
options = ort.SessionOptions()
if sys.argv[4:] != ["optimized"]:
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
name = session.get_inputs()[0].name
x = np.load(inputs)
np.save(outputs, np.concatenate([session.run(None, {name: x[i:i + 1]})[0] for i in range(len(x))]))
