"""The model card: what a ``.tflite`` claims to be, read and validated before the model is trusted.

A card is ``models/<id>/card.json`` (schema ``edgescreen.model-card/1``). The device uses only the
fields parsed here; the rest of the card (data, licences, full metrics, limitations) is for people
and is shown by ``edgescreen models``. Validation is strict because a card that lies would make the
device triage with the wrong preprocessing or the wrong threshold without anyone noticing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edgescreen_wire.checks import finite_number
from firmware_app.inference.test_time import FLIPS, transposes

CARD_SCHEMA = "edgescreen.model-card/1"
MODALITIES = ("fundus", "dermoscopy")
# "lesion_box": a square around the lesion the dermoscopy gate segmented (``preprocess.lesion_square``);
# "lit_field": the box around what the dermatoscope lit, its dark surround cut off (``preprocess.lit_box``).
CROPS = ("fundus_fov", "none", "lesion_box", "lit_field")
# The crops read the dermoscopy gate's segmentation of the frame (``LesionSegmentation``).
SEGMENTATION_CROPS = ("lesion_box", "lit_field")
COLOUR_ORDERS = ("RGB", "BGR")
INTEGER_DTYPES = ("int8", "uint8")
ACTIVATIONS = ("none", "sigmoid", "softmax")
# Colour constancy the model was trained with; cards older than the field mean "none".
# "background_subtracted" reads a fundus field's own background (``preprocess.background_subtracted``),
# so it needs the "fundus_fov" crop.
COLOUR_CONSTANCY = ("none", "shades_of_gray_p6", "background_subtracted")


class CardError(ValueError):
    """A model card is missing, unreadable or inconsistent; the message names the card and field."""


class CardMissing(CardError):
    """No card where one was looked for: no model there (the loader's ``ModelMissing``)."""


@dataclass(frozen=True)
class Estimate:
    """A measured proportion with its 95% bootstrap confidence interval."""

    value: float
    ci95: tuple[float, float]


@dataclass(frozen=True)
class OperatingPoint:
    """A threshold chosen on validation data, with what it measured on the held-out test split."""

    name: str
    threshold: float
    sensitivity: Estimate
    specificity: Estimate


@dataclass(frozen=True)
class MeasuredSet:
    """The int8 model's figures on one evaluation set (a source's test split or an external set)."""

    name: str
    images: int
    positives: int
    auc: Estimate
    sensitivity: dict[str, Estimate]  # per operating point
    specificity: dict[str, Estimate]


@dataclass(frozen=True)
class InputSpec:
    height: int
    width: int
    dtype: str
    colour_order: str
    crop: str
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    colour_constancy: str = "none"
    # The flips of the input scored besides it, the outputs averaged (``test_time``); cards older
    # than the field mean none.
    test_time_flips: tuple[str, ...] = ()

    @property
    def shape(self) -> tuple[int, int, int, int]:
        return (1, self.height, self.width, 3)

    @property
    def crops_to_field(self) -> bool:
        """Whether the model is shown the fundus field of view's square, not the whole photo."""
        return self.crop == "fundus_fov"

    @property
    def crops_to_lesion(self) -> bool:
        """Whether the model is shown a square around the segmented lesion, not the whole photo."""
        return self.crop == "lesion_box"

    @property
    def reads_segmentation(self) -> bool:
        """Whether the crop needs the frame's dermoscopy segmentation (its lesion or its lit field)."""
        return self.crop in SEGMENTATION_CROPS


@dataclass(frozen=True)
class OutputSpec:
    shape: tuple[int, ...]
    dtype: str
    activation: str
    positive_index: int
    meaning: str


@dataclass(frozen=True)
class ModelCard:
    id: str
    version: str
    task: str
    modality: str
    labels: tuple[str, ...]
    file: str
    sha256: str
    input: InputSpec
    output: OutputSpec
    operating_points: dict[str, OperatingPoint]
    default_operating_point: str
    document: dict[str, Any]
    # metrics.int8: "test" (development sources pooled), "test_<source>", "external_<set>", ...
    measured: dict[str, MeasuredSet] = field(default_factory=dict)

    def operating_point(self, name: str | None) -> OperatingPoint:
        """The named operating point, or the card's default; unknown names are refused."""
        chosen = name or self.default_operating_point
        if chosen not in self.operating_points:
            raise CardError(
                f"model {self.id}: no operating point {chosen!r} (card has {sorted(self.operating_points)})"
            )
        return self.operating_points[chosen]


class _Reader:
    """Typed access to one JSON object, with errors that name the card file and the field path."""

    def __init__(self, source: Path, data: Any, path: str = "") -> None:
        self.source, self.data, self.path = source, data, path
        if not isinstance(data, dict):
            self.fail(path or "card", "an object")

    def fail(self, key: str, expected: str) -> None:
        raise CardError(f"{self.source}: field '{key}' must be {expected}")

    def _key(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def raw(self, key: str) -> Any:
        if key not in self.data:
            raise CardError(f"{self.source}: missing field '{self._key(key)}'")
        return self.data[key]

    def text(self, key: str, choices: tuple[str, ...] | None = None) -> str:
        value = self.raw(key)
        if not isinstance(value, str) or not value or (choices and value not in choices):
            self.fail(self._key(key), f"one of {list(choices)}" if choices else "a non-empty string")
        return value

    def optional_text(self, key: str, choices: tuple[str, ...], default: str) -> str:
        return self.text(key, choices) if key in self.data else default

    def optional_choices(self, key: str, choices: tuple[str, ...]) -> tuple[str, ...]:
        """A list of distinct names out of ``choices``; empty when the card has no such field."""
        value = self.data.get(key, [])
        if not isinstance(value, list) or not set(value) <= set(choices) or len(set(value)) != len(value):
            self.fail(self._key(key), f"a list of distinct names out of {list(choices)}")
        return tuple(value)

    def number(self, key: str, low: float | None = None, high: float | None = None) -> float:
        value = self.raw(key)
        # A NaN threshold would compare false with every score: no photo would ever reach it.
        if not finite_number(value) or (low is not None and value < low) or (high is not None and value > high):
            self.fail(self._key(key), f"a number in [{low}, {high}]")
        return float(value)

    def integers(self, key: str, length: int | None = None) -> tuple[int, ...]:
        value = self.raw(key)
        ok = isinstance(value, list) and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
        if not ok or (length is not None and len(value) != length):
            self.fail(self._key(key), f"a list of {length or 'some'} integers")
        return tuple(value)

    def numbers(self, key: str, length: int) -> tuple[float, ...]:
        value = self.raw(key)
        if not (isinstance(value, list) and len(value) == length and all(finite_number(v) for v in value)):
            self.fail(self._key(key), f"a list of {length} numbers")
        return tuple(float(v) for v in value)

    def strings(self, key: str) -> tuple[str, ...]:
        value = self.raw(key)
        if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
            self.fail(self._key(key), "a non-empty list of strings")
        return tuple(value)

    def child(self, key: str) -> _Reader:
        return _Reader(self.source, self.raw(key), self._key(key))


def _estimate(reader: _Reader) -> Estimate:
    value = reader.number("value", 0.0, 1.0)
    low, high = reader.numbers("ci95", 2)
    if not 0.0 <= low <= value <= high <= 1.0:
        reader.fail(reader._key("ci95"), "an interval [low, high] within [0, 1] that contains the value")
    return Estimate(value, (low, high))


def _operating_point(name: str, reader: _Reader) -> OperatingPoint:
    return OperatingPoint(
        name=name,
        threshold=reader.number("threshold", 0.0, 1.0),
        sensitivity=_estimate(reader.child("sensitivity")),
        specificity=_estimate(reader.child("specificity")),
    )


def _measured_set(name: str, reader: _Reader, points: tuple[str, ...]) -> MeasuredSet:
    at = reader.child("operating_points")
    return MeasuredSet(
        name=name,
        images=int(reader.number("n", 1)),
        positives=int(reader.number("positives", 0)),
        auc=_estimate(reader.child("auc")),
        sensitivity={p: _estimate(at.child(p).child("sensitivity")) for p in points},
        specificity={p: _estimate(at.child(p).child("specificity")) for p in points},
    )


def _measured(card: _Reader, points: tuple[str, ...]) -> dict[str, MeasuredSet]:
    """The per-set figures, when the card has them: a figure shown to a person must be well-formed too."""
    if "metrics" not in card.data or "int8" not in card.child("metrics").data:
        return {}
    sets = card.child("metrics").child("int8")
    return {name: _measured_set(name, sets.child(name), points) for name in sets.data}


def parse_card(source: Path, document: Any) -> ModelCard:
    """Validate a card document; raise ``CardError`` naming the first field that is wrong."""
    card = _Reader(source, document)
    if card.raw("schema") != CARD_SCHEMA:
        card.fail("schema", f"'{CARD_SCHEMA}'")
    sha256 = card.text("sha256")
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        card.fail("sha256", "64 lowercase hex digits")
    labels = card.strings("labels")

    inp = card.child("input")
    batch, height, width, channels = inp.integers("shape", 4)
    if batch != 1 or channels != 3 or height < 8 or width < 8:
        inp.fail("input.shape", "[1, height, width, 3]")
    normalisation = inp.child("normalisation")
    std = normalisation.numbers("std", 3)
    if any(s <= 0 for s in std):
        normalisation.fail("input.normalisation.std", "three positive numbers")
    input_spec = InputSpec(
        height=height,
        width=width,
        dtype=inp.text("dtype", INTEGER_DTYPES),
        colour_order=inp.text("colour_order", COLOUR_ORDERS),
        crop=inp.text("crop", CROPS),
        mean=normalisation.numbers("mean", 3),  # type: ignore[arg-type]
        std=std,  # type: ignore[arg-type]
        colour_constancy=inp.optional_text("colour_constancy", COLOUR_CONSTANCY, "none"),
        test_time_flips=inp.optional_choices("test_time_flips", FLIPS),
    )
    if transposes(input_spec.test_time_flips) and input_spec.width != input_spec.height:
        inp.fail("input.test_time_flips", "no transposed flip for an input that is not square")
    if input_spec.colour_constancy == "background_subtracted" and not input_spec.crops_to_field:
        inp.fail("input.colour_constancy", "used with the 'fundus_fov' crop only, for 'background_subtracted'")

    modality = card.text("modality", MODALITIES)
    if input_spec.reads_segmentation and modality != "dermoscopy":
        inp.fail(
            "input.crop",
            f"'fundus_fov' or 'none' for a fundus model ({' and '.join(map(repr, SEGMENTATION_CROPS))} "
            "frame a dermoscopy photo)",
        )

    out = card.child("output")
    output_spec = OutputSpec(
        shape=out.integers("shape"),
        dtype=out.text("dtype", INTEGER_DTYPES),
        activation=out.text("activation", ACTIVATIONS),
        positive_index=int(out.number("positive_index", 0)),
        meaning=out.text("meaning"),
    )
    if output_spec.positive_index >= output_spec.shape[-1]:
        out.fail("output.positive_index", f"less than the output width {output_spec.shape[-1]}")
    if output_spec.activation == "softmax" and len(labels) != output_spec.shape[-1]:
        card.fail("labels", f"one label per softmax output ({output_spec.shape[-1]})")

    points_reader = card.child("operating_points")
    points = {name: _operating_point(name, points_reader.child(name)) for name in points_reader.data}
    if not points:
        card.fail("operating_points", "at least one operating point")
    default = card.text("default_operating_point", tuple(points))

    return ModelCard(
        id=card.text("id"),
        version=card.text("version"),
        task=card.text("task"),
        modality=modality,
        labels=labels,
        file=card.text("file"),
        sha256=sha256,
        input=input_spec,
        output=output_spec,
        operating_points=points,
        default_operating_point=default,
        document=document,
        measured=_measured(card, tuple(points)),
    )


def read_card(path: Path) -> ModelCard:
    """Read and validate ``card.json``; unreadable JSON is a ``CardError`` too."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise CardMissing(f"{path}: model card not found") from error
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CardError(f"{path}: not a readable JSON model card ({error})") from error
    return parse_card(path, document)
