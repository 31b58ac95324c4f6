"""Rebuild the trained PyTorch network in Keras (NHWC) and quantise it to a full-integer int8 TFLite.

Why not ONNX -> onnx2tf: onnx2tf mis-transposes the explicit 'same' padding of this EfficientNet port
(it fails with mismatched shapes on the first residual add). EfficientNet-Lite0 is small and regular
(convolutions, batch norm, ReLU6, residual adds), and the port's static padding is TensorFlow's 'same'
padding, so a layer-by-layer Keras twin with copied weights is exact, and ``check_parity`` proves it
before quantising. Quantisation is calibrated on training-split views normalised as the card says,
so the input tensor's scale/zero-point cover the real pixel range the device's ``quantise`` produces.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
from torch import nn

from models.build.backbone import Classifier
from models.build.trunks import PIXEL_MEAN, PIXEL_STD

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import tensorflow as tf
import tf_keras as keras


def normalise_nhwc(views: np.ndarray) -> np.ndarray:
    mean, std = np.asarray(PIXEL_MEAN, np.float32), np.asarray(PIXEL_STD, np.float32)
    return (views.astype(np.float32) - mean) / std


def _conv(x: tf.Tensor, conv: nn.Conv2d) -> tf.Tensor:
    weight = conv.weight.detach().numpy()
    stride = conv.stride[0]
    if conv.groups > 1:  # depthwise: torch [C, 1, kh, kw] -> keras [kh, kw, C, 1]
        layer = keras.layers.DepthwiseConv2D(conv.kernel_size, stride, padding="same", use_bias=False)
        x = layer(x)
        layer.set_weights([weight.transpose(2, 3, 0, 1)])
        return x
    layer = keras.layers.Conv2D(conv.out_channels, conv.kernel_size, stride, padding="same", use_bias=False)
    x = layer(x)
    layer.set_weights([weight.transpose(2, 3, 1, 0)])
    return x


def _bn(x: tf.Tensor, bn: nn.BatchNorm2d) -> tf.Tensor:
    layer = keras.layers.BatchNormalization(epsilon=bn.eps)
    x = layer(x)
    layer.set_weights([t.detach().numpy() for t in (bn.weight, bn.bias, bn.running_mean, bn.running_var)])
    return x


def _relu6(x: tf.Tensor) -> tf.Tensor:
    return keras.layers.ReLU(max_value=6.0)(x)


def _block(x: tf.Tensor, block: nn.Module) -> tf.Tensor:
    """One MBConv block of the Lite variant (no squeeze-excitation, ReLU6)."""
    inputs = x
    if hasattr(block, "_expand_conv"):
        x = _relu6(_bn(_conv(x, block._expand_conv), block._bn0))
    x = _relu6(_bn(_conv(x, block._depthwise_conv), block._bn1))
    x = _bn(_conv(x, block._project_conv), block._bn2)
    if block.id_skip and block._depthwise_conv.stride[0] == 1 and inputs.shape[-1] == x.shape[-1]:
        x = keras.layers.Add()([x, inputs])
    return x


def keras_twin(model: Classifier, size: int) -> keras.Model:
    """The same network in Keras, NHWC, taking the normalised image and returning one logit."""
    model.eval()
    image = keras.Input((size, size, 3), batch_size=1, name="image")
    stem_conv, stem_bn, _ = model.trunk.stem
    x = _relu6(_bn(_conv(image, stem_conv), stem_bn))
    for block in [*model.trunk.blocks, *model.top.blocks]:
        x = _block(x, block)
    head_conv, head_bn, _ = model.top.head
    x = _relu6(_bn(_conv(x, head_conv), head_bn))
    x = keras.layers.GlobalAveragePooling2D()(x)
    dense = keras.layers.Dense(1, name="logit")
    x = dense(x)
    dense.set_weights([model.top.fc.weight.detach().numpy().T, model.top.fc.bias.detach().numpy()])
    return keras.Model(image, x)


def check_parity(model: Classifier, twin: keras.Model, views: np.ndarray) -> float:
    """Largest |logit difference| between PyTorch and Keras on real views; refuse a twin that differs."""
    batch = normalise_nhwc(views)
    with torch.inference_mode():
        expected = model(torch.from_numpy(batch.transpose(0, 3, 1, 2).copy())).numpy()[:, 0]
    got = np.array([twin(batch[i : i + 1], training=False).numpy()[0, 0] for i in range(len(batch))])
    worst = float(np.abs(expected - got).max())
    if worst > 1e-3:
        raise RuntimeError(f"Keras twin disagrees with the PyTorch model (max |logit diff| {worst:.2e})")
    return worst


def quantise_int8(twin: keras.Model, representative_views: np.ndarray) -> bytes:
    """Full-integer conversion: int8 input and output, only int8 builtin ops."""

    def representative() -> Iterator[list[np.ndarray]]:
        for view in representative_views:
            yield [normalise_nhwc(view[np.newaxis])]

    converter = tf.lite.TFLiteConverter.from_keras_model(twin)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    return converter.convert()


def to_int8_tflite(model: Classifier, size: int, calibration_views: np.ndarray, out_path: Path) -> float:
    """Write the int8 model; return the float parity error measured on the way."""
    twin = keras_twin(model, size)
    parity = check_parity(model, twin, calibration_views[:8])
    out_path.write_bytes(quantise_int8(twin, calibration_views))
    return parity
