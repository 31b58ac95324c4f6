"""A camera's own limits, from its first good photos (``edgescreen quality fit``).

The default limits hold across the cameras of the public sources (``bench/generalisation.py``);
a device that wants tighter ones, fitted to its own optics and sensor, derives them from photos it
took that a grader called good. Each limit is the photos' 0.5th percentile (``min_*``) or 99.5th
(``max_*``), widened by a quarter of its distance from their median, so that the next good photo
does not fall just past it; with ``within_defaults`` (the command's way) it is never looser than the
default, and never tighter than midway between the photos' median and the default, so that a
handful of photos cannot make the gate refuse what it has not seen (one glint of glare, when none
of the first photos had any).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from firmware_app.quality.verdict import Rule

_MARGIN = 0.25
_LOW, _HIGH = 0.5, 99.5


@dataclass(frozen=True)
class FittedLimit:
    """One setting, its fitted value, and the photos' statistics it came from."""

    setting: str
    value: float
    default: float
    photos_min: float
    photos_median: float
    photos_max: float


def _one(setting: str, values: np.ndarray, default: float, within_defaults: bool) -> FittedLimit:
    median = float(np.median(values))
    if setting.startswith("min_"):
        extreme = float(np.percentile(values, _LOW))
        value = extreme - _MARGIN * (median - extreme)
        if within_defaults:
            value = max(default, min(value, (median + default) / 2))
    else:
        extreme = float(np.percentile(values, _HIGH))
        value = extreme + _MARGIN * (extreme - median)
        if within_defaults:
            value = min(default, max(value, (median + default) / 2))
    if isinstance(default, int):
        value = float(round(value))
    return FittedLimit(setting, value, default, float(values.min()), median, float(values.max()))


def fit_limits(
    measured: Sequence[Mapping[str, float]],
    rules: Sequence[Rule],
    defaults: object,
    within_defaults: bool = True,
    preview_sharpness: Sequence[float] = (),
) -> list[FittedLimit]:
    """A limit for every rule's setting from the good photos' ``measured`` values (and, when given,
    ``preview_min_sharpness`` from their preview check's sharpness)."""
    if not measured:
        raise ValueError("no measured photo to fit limits on")
    settings = {rule.setting: rule.measure for rule in rules}
    fitted = [
        _one(setting, np.array([m[measure] for m in measured], np.float64), getattr(defaults, setting), within_defaults)
        for setting, measure in settings.items()
    ]
    if preview_sharpness:
        default = defaults.preview_min_sharpness  # type: ignore[attr-defined]
        fitted.append(_one("preview_min_sharpness", np.array(preview_sharpness), default, within_defaults))
    return fitted


def apply_limits(defaults: object, fitted: Sequence[FittedLimit]) -> object:
    """``defaults`` (a limits dataclass) with the fitted values in place."""
    return dataclasses.replace(defaults, **{limit.setting: type(limit.default)(limit.value) for limit in fitted})  # type: ignore[type-var]


def profile_toml(camera_model: str, modality: str, fitted: Sequence[FittedLimit], photos: int, skipped: int) -> str:
    """The ``[quality]`` tables of a device config, each limit with the statistics it came from."""
    lines = [
        f"# edgescreen quality fit: {photos} good {modality} photos of camera {camera_model!r}"
        + (f" ({skipped} could not be measured and were left out)" if skipped else ""),
        "# each limit: the photos' min / median / max of its measure, and the default it replaces",
        "[quality]",
        f'camera_model = "{camera_model}"',
        "",
        f"[quality.{modality}]",
    ]
    for limit in fitted:
        value = f"{int(limit.value)}" if isinstance(limit.default, int) else f"{limit.value:.4g}"
        lines.append(
            f"{limit.setting} = {value:<10} # photos {limit.photos_min:.4g} / {limit.photos_median:.4g} / "
            f"{limit.photos_max:.4g}; default {limit.default:.4g}"
        )
    return "\n".join(lines) + "\n"
