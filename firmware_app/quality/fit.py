"""Quality limits from photos: the one rule that sets the gates' defaults, and a camera's own limits.

``derive_limits`` is the rule the defaults come from, and the one the leave-one-source-out bench
fits with (``bench/generalisation.py --derive`` / ``--fit-on``), for both modalities: for each
limit, the fitting photos' extreme (0.5th percentile for a ``min_*`` limit, 99.5th for a ``max_*``)
and the *mild* degradations of the same photos (strength 1 of ``tests/degradations.py``; the bench
judges strengths 2 and 3, which fitting never sees) for the defects whose reason that limit gives.
When the mild defects lie beyond the photos' extreme (90% of them, at least), the limit is midway
between that extreme and the mild defects' 10th percentile nearest the photos ("between"): every
good photo seen passes, nine mild defects in ten are caught, and a camera not seen has half the gap
to spread into. A limit no mild defect exercises, or whose mild defects overlap the good photos
(a mild overexposure is no brighter than a blond fundus), is the photos' extreme widened by a
quarter of its distance from their median ("percentile"), as ``fit_limits`` does: it protects the
good photos of cameras and patients not seen, and leaves the clear defects to the rules they trip.
A share of something nearly every photo has none of (burnt-out pixels, glare spots) reads 0 on more
than 99.5% of a few hundred photos: the extreme is then the largest value seen (``_extreme``), or
the limit would be 0 and refuse the next photo with a glint (fitted on dr-600's 300 photos, the
limit on a burnt-out disc's share was 0 and refused 19 of APTOS's 300 graded photos).
Limits that are geometry, not photography (where the disc and the macula lie), or what any photo
can show at all whatever the camera (a retina's brightest structures a third of the way up the
sensor's range: one camera's exposure does not set another's), are declared by the
gate, not fitted ("physical": ``PHYSICAL`` in ``quality.gate``). What counts as a good photo is the
caller's: the bench adds a copy of each as a UVC camera streams it (MJPEG) for the preview and the
compression limits, so that visible block borders alone are never a defect.

``fit_limits`` is ``edgescreen quality fit``'s: a device's own limits from its first good photos,
with no degradations. Each limit is the photos' 0.5th percentile (``min_*``) or 99.5th (``max_*``),
widened by a quarter of its distance from their median, so that the next good photo does not fall
just past it; with ``within_defaults`` (the command's way) it is never looser than the default, and
never tighter than midway between the photos' median and the default, so that a handful of photos
cannot make the gate refuse what it has not seen (one glint of glare, when none of the first photos
had any). The declared limits that hang on the patient as much as on the camera (``declared``: a
lid, fixation, a darker fundus's vignetting, a small pupil's dimmer capture, the immersion fluid's
glare and bubbles, hair, a faint lesion) keep their declared values: a device's first photos would
narrow them to its first patients; the profile lists them as comments (``profile_toml``), so a
later release's declared value reaches the device.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from firmware_app.quality.verdict import Rule, is_lower_limit

_MARGIN = 0.25
_LOW, _HIGH = 0.5, 99.5
# Share of the mild defects a derived limit must catch, at least (as a percentile: 10th or 90th).
_MILD_CAUGHT = 90.0


@dataclass(frozen=True)
class FittedLimit:
    """One setting, its fitted value, and the photos' statistics it came from."""

    setting: str
    value: float
    default: float
    photos_min: float
    photos_median: float
    photos_max: float
    # How it was set: "percentile", "between" (``derive_limits``), "physical" or "unseen".
    how: str = "percentile"


def _extreme(values: np.ndarray, upper: bool, median: float) -> float:
    """The photos' extreme for a limit: their 99.5th percentile (``upper``) or 0.5th, or, when that
    equals their median, the largest (smallest) value seen. A share of something nearly every photo
    has none of (burnt-out pixels, glare) reads 0 on 99.5% of a few hundred photos: its percentile
    says nothing of the tail, and a limit there would refuse the first photo with one glint."""
    extreme = float(np.percentile(values, _HIGH if upper else _LOW))
    if extreme == median:
        return float(values.max() if upper else values.min())
    return extreme


def _one(setting: str, values: np.ndarray, default: float, within_defaults: bool) -> FittedLimit:
    median = float(np.median(values))
    if is_lower_limit(setting):
        extreme = _extreme(values, False, median)
        value = extreme - _MARGIN * (median - extreme)
        if within_defaults:
            value = max(default, min(value, (median + default) / 2))
    else:
        extreme = _extreme(values, True, median)
        value = extreme + _MARGIN * (extreme - median)
        if within_defaults:
            value = min(default, max(value, (median + default) / 2))
    if isinstance(default, int):
        value = float(round(value))
    return FittedLimit(setting, value, default, float(values.min()), median, float(values.max()))


def _derived(setting: str, values: np.ndarray, mild: np.ndarray, default: float) -> FittedLimit:
    """``derive_limits``'s rule for one setting (the module's docstring says why)."""
    upper, median = not is_lower_limit(setting), float(np.median(values))
    extreme = _extreme(values, upper, median)
    edge = float(np.percentile(mild, 100.0 - _MILD_CAUGHT if upper else _MILD_CAUGHT)) if mild.size else extreme
    if not ((edge > extreme) if upper else (edge < extreme)):
        return _one(setting, values, default, within_defaults=False)
    value = float(round((extreme + edge) / 2)) if isinstance(default, int) else (extreme + edge) / 2
    return FittedLimit(setting, value, default, float(values.min()), median, float(values.max()), "between")


def _kept(setting: str, values: np.ndarray, default: float) -> FittedLimit:
    """A declared setting at its default, with the photos' statistics of its measure ("physical"),
    or "unseen" when no photo carries that measure."""
    if not values.size:
        return FittedLimit(setting, float(default), default, np.nan, np.nan, np.nan, "unseen")
    stats = float(values.min()), float(np.median(values)), float(values.max())
    return FittedLimit(setting, float(default), default, *stats, "physical")


def derive_limits(
    good: Sequence[Mapping[str, float]],
    mild: Mapping[str, Sequence[Mapping[str, float]]],
    rules: Sequence[Rule],
    defaults: object,
    physical: Collection[str] = (),
) -> list[FittedLimit]:
    """A limit for every rule's setting by the module's one rule, from the ``good`` photos' measures
    and, for each reason, the ``mild`` degradations of them that should be refused for it. The
    ``physical`` settings keep their default, and so does a setting whose measure no photo carries
    ("unseen": photos too small to show focus leave the focus measures out)."""
    if not good:
        raise ValueError("no measured photo to derive limits from")
    derived = []
    for setting, rule in {rule.setting: rule for rule in rules}.items():
        default = getattr(defaults, setting)
        values = np.array([m[rule.measure] for m in good if rule.measure in m], np.float64)
        if setting in physical or not values.size:
            derived.append(_kept(setting, values, default))
        else:
            defects = np.array([m[rule.measure] for m in mild.get(rule.reason, ()) if rule.measure in m], np.float64)
            derived.append(_derived(setting, values, defects, default))
    return derived


def fit_limits(
    measured: Sequence[Mapping[str, float]],
    rules: Sequence[Rule],
    defaults: object,
    within_defaults: bool = True,
    preview_sharpness: Sequence[float] = (),
    declared: Collection[str] = (),
    least: int = 1,
) -> list[FittedLimit]:
    """A limit for every rule's setting from the good photos' ``measured`` values (and, when given,
    ``preview_min_sharpness`` from their preview check's sharpness); the ``declared`` settings keep
    their default, and so does one whose measure fewer than ``least`` photos carry ("unseen": a
    camera's own photos carry no dermoscopy ``coarse_sharpness``, and a photo or two of another size
    among them say nothing of a camera)."""
    if not measured:
        raise ValueError("no measured photo to fit limits on")
    fitted = []
    for setting, measure in {rule.setting: rule.measure for rule in rules}.items():
        values = np.array([m[measure] for m in measured if measure in m], np.float64)
        default = getattr(defaults, setting)
        values = values if values.size >= least else values[:0]
        unfitted = setting in declared or not values.size
        fitted.append(_kept(setting, values, default) if unfitted else _one(setting, values, default, within_defaults))
    if len(preview_sharpness) >= max(1, least):
        default = defaults.preview_min_sharpness  # type: ignore[attr-defined]
        fitted.append(_one("preview_min_sharpness", np.array(preview_sharpness), default, within_defaults))
    return fitted


def profile_toml(
    camera_model: str,
    modality: str,
    fitted: Sequence[FittedLimit],
    photos: int,
    skipped: int,
    origin: str = "edgescreen quality fit",
) -> str:
    """The ``[quality]`` tables of a device config, each limit with the statistics it came from."""
    lines = [
        f"# {origin}: {photos} good {modality} photos of camera {camera_model!r}"
        + (f" ({skipped} could not be measured and were left out)" if skipped else ""),
        "# each limit: the photos' min / median / max of its measure, the default it replaces, and how it"
        " was set (firmware_app/quality/fit.py)",
        "[quality]",
        f'camera_model = "{camera_model}"',
        "",
        f"[quality.{modality}]",
    ]
    for limit in fitted:
        # Left to the defaults, so that a later release's re-derived or newly declared default reaches
        # the device: a limit no photo measured, and a declared one (the photos' statistics kept).
        if limit.how == "unseen":
            lines.append(f"# {limit.setting}: none of these photos carries its measure; the default applies")
            continue
        value = f"{int(limit.value)}" if isinstance(limit.default, int) else f"{limit.value:.4g}"
        statistics = f"photos {limit.photos_min:.4g} / {limit.photos_median:.4g} / {limit.photos_max:.4g}"
        if limit.how == "physical":
            lines.append(f"# {limit.setting}: declared, the default applies ({value}); {statistics}")
            continue
        lines.append(f"{limit.setting} = {value:<10} # {statistics}; default {limit.default:.4g}; {limit.how}")
    return "\n".join(lines) + "\n"
