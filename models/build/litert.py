"""Score views with the real int8 ``.tflite`` through ai-edge-litert, as the device does.

Inputs go through the firmware's own ``quantise`` with the input tensor's scale and zero point, and
the output is dequantised and passed through the card's activation, so the scores here are the
scores the device will compute.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from ai_edge_litert.interpreter import Interpreter
from tqdm import tqdm

from firmware_app.inference.card import InputSpec
from firmware_app.inference.preprocess import quantise
from firmware_app.inference.test_time import mean_output


class Int8Model:
    def __init__(self, path: Path, spec: InputSpec, threads: int = 2) -> None:
        self.interpreter = Interpreter(model_path=str(path), num_threads=threads)
        self.interpreter.allocate_tensors()
        self.input = self.interpreter.get_input_details()[0]
        self.output = self.interpreter.get_output_details()[0]
        self.spec = spec

    def describe(self) -> dict[str, object]:
        return {
            "input_shape": [int(v) for v in self.input["shape"]],
            "input_dtype": np.dtype(self.input["dtype"]).name,
            "output_shape": [int(v) for v in self.output["shape"]],
            "output_dtype": np.dtype(self.output["dtype"]).name,
        }

    def _output(self, tensor: np.ndarray) -> np.ndarray:
        """One run on a quantised input, its output dequantised."""
        out_scale, out_zero = self.output["quantization"]
        self.interpreter.set_tensor(self.input["index"], tensor)
        self.interpreter.invoke()
        return (self.interpreter.get_tensor(self.output["index"]).astype(np.float64) - out_zero) * out_scale

    def logits(self, views: np.ndarray, desc: str) -> np.ndarray:
        """Dequantised output (a logit) for each uint8 view, averaged over the spec's test-time flips
        as the device averages them (``test_time.mean_output``)."""
        in_scale, in_zero = self.input["quantization"]
        result = np.empty(len(views), np.float64)
        for i, view in enumerate(tqdm(views, desc=f"int8 {desc}", unit="img")):
            tensor = quantise(view, self.spec, in_scale, in_zero)
            result[i] = mean_output(self._output, tensor, self.spec.test_time_flips).reshape(-1)[0]
        return result


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(x, np.float64)))
