"""Load a model only after proving that the ``.tflite`` is the one its card describes.

The bytes are read once, hashed, and those same bytes are handed to the interpreter, so a file
swapped between the check and the load cannot slip through. Tensor shapes and dtypes are compared
with the card, and one warm-up run must succeed, before a ``TriageModel`` exists at all: nothing
half-loaded is ever used.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from firmware_app.inference.card import CardError, CardMissing, ModelCard, read_card
from firmware_app.inference.errors import ModelError, ModelMissing, ModelRunFailed, WrongModality
from firmware_app.inference.interpreter import interpreter_class
from firmware_app.inference.preprocess import FieldOfView, model_view, quantise
from firmware_app.inference.test_time import mean_output
from firmware_app.memory import OutOfMemory
from firmware_app.quality.lesion import LesionSegmentation

CARD_FILE = "card.json"


@dataclass(frozen=True)
class ModelReference:
    """What every result says about the model that produced it."""

    id: str
    version: str
    sha256: str


@dataclass(frozen=True)
class Prediction:
    """The model's score in [0, 1]: the probability the card's ``output.meaning`` describes."""

    score: float
    model: ModelReference


def require_modality(card: ModelCard, modality: str, model_dir: Path) -> None:
    """Refuse a model whose card is for another modality: configured by mistake (``[models] fundus =
    "melanoma"``), it would give a confident score for a photo it knows nothing of."""
    if card.modality != modality:
        raise WrongModality(
            f"{model_dir}: {card.id} {card.version} is a {card.modality} model, configured for {modality} "
            f"photos ([models] {modality})"
        )


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _softmax(x: np.ndarray) -> np.ndarray:
    shifted = np.exp(x - x.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


_ACTIVATIONS = {"none": lambda x: x, "sigmoid": _sigmoid, "softmax": _softmax}


def _check_tensor(model_dir: Path, role: str, detail: dict[str, Any], shape: tuple[int, ...], dtype: str) -> None:
    actual_shape = tuple(int(n) for n in detail["shape"])
    actual_dtype = np.dtype(detail["dtype"]).name
    if actual_shape != shape or actual_dtype != dtype:
        raise ModelError(
            f"{model_dir}: the card says the {role} tensor is {dtype}{list(shape)}, "
            f"the model's is {actual_dtype}{list(actual_shape)}"
        )
    scale, _ = detail["quantization"]
    if not scale:
        raise ModelError(f"{model_dir}: the {role} tensor is not quantised (full-integer models only)")


class TriageModel:
    """A verified, warmed-up model that scores one RGB photo at a time (not thread-safe)."""

    def __init__(self, model_dir: Path, threads: int = 2, runtime: str | None = None) -> None:
        try:
            self.card: ModelCard = read_card(model_dir / CARD_FILE)
        except CardMissing as error:
            raise ModelMissing(str(error)) from error
        except CardError as error:
            raise ModelError(str(error)) from error
        tflite_path = model_dir / self.card.file
        try:
            content = tflite_path.read_bytes()
        except OSError as error:
            raise ModelError(f"{tflite_path}: cannot read the model file ({error.strerror})") from error
        except MemoryError as error:
            raise OutOfMemory(f"reading the model {tflite_path}") from error
        digest = hashlib.sha256(content).hexdigest()
        if digest != self.card.sha256:
            raise ModelError(
                f"{tflite_path}: sha256 {digest} does not match the card's {self.card.sha256}: "
                "the file is corrupt, truncated or not the model the card describes"
            )
        self.runtime, interpreter_cls = interpreter_class(runtime)
        try:
            self._interpreter = interpreter_cls(model_content=content, num_threads=threads)
            self._interpreter.allocate_tensors()
        except MemoryError as error:
            raise OutOfMemory(f"loading the model {tflite_path}") from error
        except (ValueError, RuntimeError) as error:
            raise ModelError(f"{tflite_path}: not a loadable TFLite model ({error})") from error
        inputs, outputs = self._interpreter.get_input_details(), self._interpreter.get_output_details()
        if len(inputs) != 1 or len(outputs) != 1:
            raise ModelError(f"{tflite_path}: expected one input and one output tensor")
        self._input, self._output = inputs[0], outputs[0]
        _check_tensor(model_dir, "input", self._input, self.card.input.shape, self.card.input.dtype)
        _check_tensor(model_dir, "output", self._output, self.card.output.shape, self.card.output.dtype)
        self.reference = ModelReference(self.card.id, self.card.version, self.card.sha256)
        self.threads = threads
        try:  # a model that loads but cannot run is one that cannot be loaded: no screening could use it
            self.invoke(np.zeros(self.card.input.shape, dtype=self.card.input.dtype))
        except (ValueError, RuntimeError) as error:
            raise ModelError(f"{tflite_path}: loaded, but its first run failed ({error})") from error

    def invoke(self, tensor: np.ndarray) -> np.ndarray:
        """One bare interpreter run on an already quantised input; returns the raw output."""
        self._interpreter.set_tensor(self._input["index"], tensor)
        self._interpreter.invoke()
        return self._interpreter.get_tensor(self._output["index"])

    def input_tensor(
        self, rgb: np.ndarray, field_of_view: FieldOfView | None = None, lesion: LesionSegmentation | None = None
    ) -> np.ndarray:
        """Crop, resize, normalise and quantise a photo as the card prescribes (``field_of_view``:
        the fundus field when already located; ``lesion``: the frame's lesion segmentation, which a
        ``lesion_box`` card crops to)."""
        return self.quantised(model_view(rgb, self.card.input, field_of_view, lesion))

    def quantised(self, view: np.ndarray) -> np.ndarray:
        """Normalise and quantise an image already framed as the model's view (``model_view``)."""
        scale, zero_point = self._input["quantization"]
        return quantise(view, self.card.input, scale, zero_point)

    @property
    def output_step(self) -> float:
        """One quantisation step of the output (in logits for a sigmoid): how far two runs of the
        same photo through slightly different but equivalent preprocessing may fairly differ."""
        return float(self._output["quantization"][0])

    def output(self, tensor: np.ndarray) -> np.ndarray:
        """One interpreter run on a quantised input, its output dequantised (logits for a sigmoid). The
        interpreter's error is a ``ModelRunFailed``: this model loaded and ran its warm-up (a failure
        there is a model that cannot be loaded)."""
        scale, zero_point = self._output["quantization"]
        try:
            raw = self.invoke(tensor)
        except (RuntimeError, ValueError) as error:
            failed = f"{self.card.id} {self.card.version}: the interpreter failed to run ({error})"
            raise ModelRunFailed(failed) from error
        return (raw.astype(np.float32) - zero_point) * scale

    def score(self, values: np.ndarray) -> float:
        """Apply the card's activation to a dequantised output: a probability in [0, 1]."""
        probabilities = _ACTIVATIONS[self.card.output.activation](values.reshape(-1))
        return float(np.clip(probabilities[self.card.output.positive_index], 0.0, 1.0))

    def predict(self, rgb: np.ndarray, field_of_view: FieldOfView | None = None) -> Prediction:
        """The prediction for a photo on its own (a bundle's reference scores, benches): a card that
        crops to the dermoscopy segmentation gets the one the device's gate makes of the photo."""
        # Imported here: the gate's modules import the triage, which imports this module.
        from firmware_app.quality.gate import device_lesion

        lesion = device_lesion(rgb) if self.card.input.reads_segmentation else None
        return self.predict_input(self.input_tensor(rgb, field_of_view, lesion))

    def predict_input(self, tensor: np.ndarray) -> Prediction:
        """The prediction for an input already made by ``input_tensor`` (the pipeline makes it while
        the quality gate judges the frame), averaged over the card's test-time flips."""
        return Prediction(self.score(mean_output(self.output, tensor, self.card.input.test_time_flips)), self.reference)
