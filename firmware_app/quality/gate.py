"""The quality gate's entry point: one frame, one modality, one of two speeds.

``preview`` measures a small copy (``[quality] preview_size``) and is cheap enough for every live
frame, to guide the nurse while aiming; ``full`` measures at ``[quality] full_size`` and decides
whether a captured frame may be triaged (a fundus field is measured at ``[quality.fundus]
field_size`` at most, its focus and noise at ``full_size``'s scale: ``working_size``). Whatever the
frame holds (black, white, greyscale, a few pixels) the answer is a ``QualityReport``, never an
exception.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from firmware_app.capture.frame import Frame
from firmware_app.config import DermoscopyQualityConfig, FundusQualityConfig, QualityConfig
from firmware_app.frame_analysis import FrameAnalysis, analyse
from firmware_app.quality import dermoscopy, fundus
from firmware_app.quality.colour import colour_defect, colour_measures
from firmware_app.quality.lesion import LesionSegmentation
from firmware_app.quality.measures import FLATTENED_BLOCKS_FROM
from firmware_app.quality.modality import REASON as WRONG_MODALITY
from firmware_app.quality.modality import retina_on_skin_visit
from firmware_app.quality.verdict import QualityReport, Rule, rejected

# (photo, working size, detail size) -> measures; bench/quality_tune.py reads these too.
MEASURES: dict[str, Callable[[np.ndarray, int, int | None], dict[str, float]]] = {
    "fundus": fundus.fundus_measures,
    "dermoscopy": dermoscopy.dermoscopy_measures,
}
RULES: dict[str, tuple[Rule, ...]] = {"fundus": fundus.RULES, "dermoscopy": dermoscopy.RULES}
# The settings that are geometry, or what any photo can show at all, not one camera's photography:
# declared, never fitted (``quality.fit``).
PHYSICAL: dict[str, frozenset[str]] = {"fundus": fundus.PHYSICAL, "dermoscopy": dermoscopy.PHYSICAL}
# Of those, the camera's own optics, which a camera's own fit may tighten (``quality.fundus``).
CAMERA_GEOMETRY: dict[str, frozenset[str]] = {"fundus": fundus.CAMERA_GEOMETRY, "dermoscopy": frozenset()}
# What a device's own fit (``edgescreen quality fit``) keeps at the defaults: the declared settings
# but the camera's own optics.
DEVICE_DECLARED: dict[str, frozenset[str]] = {
    modality: PHYSICAL[modality] - CAMERA_GEOMETRY[modality] for modality in PHYSICAL
}


class Speed(StrEnum):
    PREVIEW = "preview"
    FULL = "full"


Limits = FundusQualityConfig | DermoscopyQualityConfig


def _block_borders_show(report: QualityReport, limits: Limits) -> bool:
    """Whether the frame's flat blocks have a JPEG quantiser's borders (``blockiness`` at
    ``FLATTENED_BLOCKS_FROM`` or its own limit, whichever is lower): defocus and too little light
    flatten 8x8 blocks as a quantiser does, but leave no borders."""
    return report.measures.get("blockiness", math.inf) >= min(FLATTENED_BLOCKS_FROM, limits.max_blockiness)


# Under this level of ``highlights`` the modality's detail is left at the 8-bit rounding that focus
# leaves out, and a sharp frame reads as blurred as a defocused one (each modality says why).
_FOCUS_READ_FROM = {"fundus": fundus.FOCUS_READ_FROM, "dermoscopy": dermoscopy.FOCUS_READ_FROM}


def _focus_read(report: QualityReport, _: Limits) -> bool:
    """Whether focus was read on detail the light left: any at all (a focus measure above 0), on a
    frame lit to the modality's ``FOCUS_READ_FROM`` or more. Too much light burns detail out, and a
    burnt-out part has no steps and counts for nothing: the rest is read as it is."""
    measures = report.measures
    focus = max(measures.get("sharpness", 0.0), measures.get("coarse_sharpness", 0.0))
    return focus > 0.0 and measures.get("highlights", 0.0) >= _FOCUS_READ_FROM[report.modality]


def _read_on_the_skin(report: QualityReport, _: Limits) -> bool:
    """Whether reflections and noise are told apart from a frame burnt out: on skin they are read
    against the skin's own level (a reflection stands out from the skin's paler part,
    ``dermoscopy._GLARE_LIFT``; noise is read on the skin around the lesion), which skin burnt out
    flat neither raises nor roughens (no overexposed copy of the bench's dermoscopy photos read
    either), while a reflection burns out part of the lesion as too much light does (a rendered
    naevus with six glare spots reads past ``too_bright``'s ``max_bright_fraction``). A retina
    burnt out turns a colourless white as bright as a reflection, and its gain's grain is noise."""
    return report.modality == dermoscopy.MODALITY


def _past(modality: str, measures: Mapping[str, float], limits: Limits, reason: str) -> bool:
    """Whether ``measures`` are past one of the rules that name ``reason``."""
    return any(rule.check(measures, limits).past for rule in RULES[modality] if rule.reason == reason)


def _past_off_the_glare(report: QualityReport, limits: Limits, reason: str, read_off: dict[str, str]) -> bool:
    """Whether ``reason`` shows away from the reflections: its measures read again off them and
    their glow (``read_off``: each measure's name off the glare, ``fundus.FOCUS_OFF_GLARE`` or
    ``fundus.EXPOSURE_OFF_GLARE``) past one of its rules. Where they were not read off the
    reflections (on skin), the measures cannot tell."""
    measures = report.measures
    if not all(name in measures for name in read_off.values()):
        return True
    off_glare = dict(measures) | {measure: measures[off] for measure, off in read_off.items()}
    return _past(report.modality, off_glare, limits, reason)


def _whole_field_too_bright(report: QualityReport, limits: Limits) -> bool:
    """Whether too much light is told apart from glare beside it. On skin, by the skin's own level
    past its limit (``max_brightness``), the whole field lit too much; glare spots burn out part of
    the lesion only (``bright_fraction``: a rendered naevus with six of them reads past its limit)
    and leave the skin's level as it was. On a retina, by the field's burnt-out share read away
    from the reflections and their glow (``fundus.EXPOSURE_OFF_GLARE``) past a ``too_bright`` rule:
    a reflection is burnt out in every channel, green too, and passes for a disc burnt out in green
    on a retina whose red is near the top (the bundled retina with eight of them read past
    ``max_overexposure``, under it off them); too much light burns out the field away from them as
    well; and over half the field burnt out (``max_burnt_out_fraction``, declared) is too much light
    whatever else the frame shows, where the reflections are the light's (``_read_on_the_skin``):
    one of the two is always named."""
    if report.modality != dermoscopy.MODALITY:
        return "too_bright" in _beyond_what_photos_show(report, limits) or _past_off_the_glare(
            report, limits, "too_bright", fundus.EXPOSURE_OFF_GLARE
        )
    return report.measures.get("brightness", 0.0) > getattr(limits, "max_brightness", math.inf)


def _blurred_off_the_glare(report: QualityReport, limits: Limits) -> bool:
    """Whether a blur shows away from the reflections: focus read again off them and their glow
    (``fundus.FOCUS_OFF_GLARE``) past a ``blurred`` rule. A reflection's glow is a smooth ramp from
    the retina to white, far larger steps than a vessel's, which focus reads as blur; a defocus or a
    hand that moved blurs the retina away from it too (30 of the bench's dr-600 photos with eight
    spots: ``sharpness`` 0.20 under the photo's own at the median, 0.05 off the glow; defocused or
    moved first, every one still past the limit off it)."""
    return _past_off_the_glare(report, limits, "blurred", fundus.FOCUS_OFF_GLARE)


def _noise_within_its_limit(report: QualityReport, limits: Limits) -> bool:
    """Whether focus was read on a frame whose noise is within its limit (a ``noisy`` that makes it
    only usable). Past it, the smoothing focus is read through (``measures.without_noise``) takes
    the frame's finest detail with the noise, and a retina or lesion in focus reads as blurred
    (dr-600 photos with noise of 16 and 32 levels, the bench's: 17% of them named ``blurred`` beside
    ``noisy``); the noise's fix comes first, and the next frame's focus is judged again."""
    return not _past(report.modality, report.measures, limits, "noisy")


def _never(_: QualityReport, __: Limits) -> bool:
    """The measures cannot tell the reason apart from the defect that makes it."""
    return False


@dataclass(frozen=True)
class _Consequence:
    """A reason the measures also give beside another defect (``of``: any of those reasons), and
    that the fix for that defect takes away, unless ``shown`` (the report, the modality's limits)
    tells it apart. With ``beyond_what_photos_show``, ``of`` counts only where a declared limit of
    its own (``PHYSICAL``: what any photo must show) is past: a frame dim or burnt out past a
    camera's fitted limit still shows its outlines and detail, one past a declared one does not."""

    reason: str
    of: frozenset[str]
    shown: Callable[[QualityReport, Limits], bool] = _never
    beyond_what_photos_show: bool = False


# What the light does to the other measures, read on real photos darkened and brightened by the
# bench (tests/degradations.py, strengths 2 and 3; docs/quality-gate.md): too little light sinks a
# frame's detail under the 8-bit rounding and its outlines into the black, too much burns them out,
# reads burnt-out white as reflections, and the gain's grain as noise. Where the lesion, the field's
# edge or the disc is, and how sharp the frame is, are read off what the light left, and the nurse
# was told to refocus, centre the lesion or add light against the grain where the fix is the light.
# The light is fixed first, and the next frame is judged again on all of them.
_OUTLINES = (
    "no_lesion",
    "lesion_too_small",
    "lesion_cut",
    "lesion_off_centre",
    "field_cut",
    "field_too_small",
    "no_optic_disc",
    "macula_outside",
)
_EXPOSURE = frozenset({"too_dark", "too_bright"})
_TOO_MUCH_LIGHT = frozenset({"too_bright"})
_CONSEQUENCES = (
    # Defocus and too little light flatten blocks without borders: "over-compressed: set the camera
    # to high quality" is a fix the nurse does not have.
    _Consequence("compressed", frozenset({"blurred", "too_dark"}), _block_borders_show),
    *(_Consequence(reason, _EXPOSURE, beyond_what_photos_show=True) for reason in _OUTLINES),
    *(
        _Consequence(reason, _TOO_MUCH_LIGHT, _read_on_the_skin, beyond_what_photos_show=True)
        for reason in ("glare", "noisy")
    ),
    _Consequence("hair", _TOO_MUCH_LIGHT, beyond_what_photos_show=True),
    # Glare spots burn out the lesion (or the retina) under them: "lower the light" for the immersion
    # fluid's fix (or for moving the camera off the reflection).
    _Consequence("too_bright", frozenset({"glare"}), _whole_field_too_bright),
    _Consequence("blurred", _EXPOSURE, _focus_read, beyond_what_photos_show=True),
    # A reflection's glow reads as blur on a retina in focus: "refocus" for moving the camera off it.
    _Consequence("blurred", frozenset({"glare"}), _blurred_off_the_glare),
    # Noise past its limit is smoothed away with the detail focus reads: "refocus" for more light.
    _Consequence("blurred", frozenset({"noisy"}), _noise_within_its_limit),
)


def _beyond_what_photos_show(report: QualityReport, limits: Limits) -> set[str]:
    """The reasons of ``report`` whose measures are past a declared limit (``PHYSICAL``)."""
    declared, measures = PHYSICAL[report.modality], report.measures
    return {
        rule.reason
        for rule in RULES[report.modality]
        if rule.reason in report.reasons
        and rule.setting in declared
        and rule.measure in measures
        and rule.check(measures, limits).past
    }


def _without_consequences(report: QualityReport, limits: Limits) -> QualityReport:
    """``report`` without the reasons that are consequences of another it gives (``_CONSEQUENCES``):
    the verdict stands, refused for that other reason, and the nurse is told its one fix."""
    given = set(report.reasons)
    candidates = [c for c in _CONSEQUENCES if c.reason in given and c.of & given]
    if not candidates:
        return report
    beyond = _beyond_what_photos_show(report, limits)
    dropped = {
        c.reason
        for c in candidates
        if c.of & (beyond if c.beyond_what_photos_show else given) and not c.shown(report, limits)
    }
    return dataclasses.replace(report, reasons=tuple(reason for reason in report.reasons if reason not in dropped))


class QualityGate:
    """Judges frames against the configured limits (``[quality]``)."""

    def __init__(self, config: QualityConfig) -> None:
        self.config = config

    def working_size(self, modality: str, speed: Speed) -> int:
        """The size this speed's check measures at: the fundus field never larger than
        ``[quality.fundus] field_size`` (its focus is judged at ``full_size``'s scale, see ``assess``)."""
        size = self.config.full_size if speed is Speed.FULL else self.config.preview_size
        return min(size, self.config.fundus.field_size) if modality == "fundus" else size

    def measures(self, rgb: np.ndarray, modality: str, speed: Speed) -> dict[str, float]:
        """A photo's measures as this speed's check takes them, for fitting limits to photos: at a
        size below the full check's, focus is judged at the full check's scale (``MEASURES``)."""
        size = self.working_size(modality, speed)
        return MEASURES[modality](rgb, size, self.config.full_size if size < self.config.full_size else None)

    def analyse(self, frame: Frame, modality: str, speed: Speed = Speed.FULL) -> FrameAnalysis:
        """The frame analysed once at this speed's working size, for the gate and every later stage."""
        return analyse(frame, modality, self.working_size(modality, speed), self.config.min_image_side)

    def assess(self, analysis: FrameAnalysis, speed: Speed = Speed.FULL) -> QualityReport:
        """The verdict on a frame analysed at ``speed`` (``analyse``)."""
        frame, modality = analysis.frame, analysis.modality
        pixels = frame.pixels
        if frame.source_channels < 3 or pixels.ndim != 3 or pixels.shape[2] != 3:
            return rejected(modality, "greyscale")
        if min(pixels.shape[:2]) < self.config.min_image_side:
            return rejected(modality, "image_too_small")
        limits = self.config.limits(modality)
        colour = colour_measures(analysis.thumbnail)
        defect = colour_defect(colour, limits.min_colourfulness, limits.min_red_share)
        if defect:
            return rejected(modality, defect, colour)
        # A retina on a visit set to skin: the one thing to tell the nurse, before any lesion rule.
        if modality == "dermoscopy" and analysis.lesion is not None:
            retina = retina_on_skin_visit(colour, analysis.lesion.segmentation.field)
            if retina is not None:
                return rejected(modality, WRONG_MODALITY, retina)
        if speed is Speed.PREVIEW:
            limits = dataclasses.replace(limits, min_sharpness=limits.preview_min_sharpness)
        # The preview judges focus at the full check's scale, on part of the frame (see the gates).
        detail = self.config.full_size
        if modality == "fundus":
            report = fundus.assess_fundus(analysis, limits, self.config.usable_from, detail)
        else:
            report = dermoscopy.assess_dermoscopy(analysis, limits, self.config.usable_from, detail)
        return _without_consequences(report, limits)

    def check(self, frame: Frame, modality: str, speed: Speed = Speed.FULL) -> QualityReport:
        return self.assess(self.analyse(frame, modality, speed), speed)

    __call__ = check


def device_lesion(rgb: np.ndarray, config: QualityConfig | None = None) -> LesionSegmentation | None:
    """The lesion as the device segments a dermoscopy photo: the gate's own analysis of the frame
    (``[quality]`` defaults unless ``config``), on the same pixels. A model whose card crops to the
    segmentation (``lesion_box``, ``lit_field``) is shown this view by the build and by
    ``TriageModel.predict`` (a bundle's reference scores), as by the device's pipeline."""
    analysed = QualityGate(config or QualityConfig()).analyse(Frame(rgb, "photo"), "dermoscopy")
    return analysed.lesion.segmentation if analysed.lesion is not None else None
