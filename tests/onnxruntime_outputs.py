#!/usr/bin/env python3
"""onnxruntime's float outputs of a one-input, one-output model, one sample at a time (ompqc models run batch 1):
python3 tests/onnxruntime_outputs.py MODEL.onnx INPUT.npy OUTPUT.npy   (exit 3 when onnxruntime is missing)"""
import sys

import numpy as np

try:
    import onnxruntime as ort
except ImportError:
    sys.exit(3)

model, inputs, outputs = sys.argv[1:4]
options = ort.SessionOptions()
options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
name = session.get_inputs()[0].name
x = np.load(inputs)
np.save(outputs, np.concatenate([session.run(None, {name: x[i:i + 1]})[0] for i in range(len(x))]))
