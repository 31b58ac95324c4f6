"""A device's calibration profile: a versioned JSON file under ``calibration/``.

One profile per camera: who made it and when, for which camera (model, serial) on which device, and one section per
calibration step with its parameters *and* the errors measured when it was made, so a reviewer can
judge it without the images. The profile's ``id`` is derived from its content (camera serial, date,
hash of the parameters), so every result that carries the id names exactly the correction applied.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from firmware_app.durable import replace_durably
from firmware_app.messages import sentence

PROFILE_SCHEMA = "edgescreen.calibration-profile/1"
UNCALIBRATED = "uncalibrated"
# The order in which the steps are applied to a frame: flat field and colour per pixel in linear light,
# then lens undistortion; scale is a measurement, not a pixel change.
PIXEL_STEPS = ("flat_field", "colour", "geometry")
# The flat field's per-pixel gain map (12 bytes a pixel) and the lens's undistortion maps (6) are
# kept for the next frame of a size while its pixels are at most this many: a preview's, which
# every preview frame needs (0.3 MP at 640x480, 3.1 MP at the HQ camera's binned 2028x1520, the
# largest mode a preview streams in; 55 MB of maps there). A full-resolution still's (222 MB at
# 4056x3040) would stay in the device's memory for good: they are made a band of rows at a time as
# the still is corrected (``flat_field.band_gains``, ``geometry.undistort``), the same numbers.
KEPT_MAPS_MAX_PIXELS = 2028 * 1520


class ProfileError(ValueError):
    """A profile file is missing, unreadable or inconsistent; the message names the file and field."""


class ProfileMissing(ProfileError):
    """No profile at the configured path: put back or remade, not mended (``doctor`` says so)."""


class ProfileMisfit(ProfileError):
    """A frame the profile cannot be applied to (a lens step made at other proportions). The camera's
    frames: the camera is in another mode than when it was calibrated, or the profile is another
    camera's, said as the camera set up wrong (``app.profile_misfit``), never as a profile that cannot
    be read: it reads. A photo file's (``screen``): that photo is not this camera's as it is set up
    (cropped, another camera's), and ``sentence`` says so for that photo alone."""

    def __init__(self, size: tuple[int, int], calibrated: tuple[int, int]) -> None:
        self.size, self.calibrated = _dimensions(size), _dimensions(calibrated)
        super().__init__(
            f"a {self.size} frame does not have the proportions of the lens calibration ({self.calibrated}): "
            "the camera is in another mode than when it was calibrated, or the profile is another camera's"
        )

    def sentence(self, language: str) -> str:
        return sentence("screen.photo_misfit", language, size=self.size, calibrated=self.calibrated)


def _dimensions(size: tuple[int, int]) -> str:
    return f"{size[0]}x{size[1]}"


class ProfileOfAnotherDevice(ProfileError):
    """A profile made on another device: its flat field, colours and lens are that unit's camera,
    optics and light, and applied here they would change every photo without a word."""

    def __init__(self, path: Path, made_on: str, device_id: str) -> None:
        super().__init__(
            f"{path}: made on device {made_on!r}, and this is {device_id!r}: a profile belongs to the device "
            "whose camera, optics and light it measured; calibrate this device (calibration/README.md)"
        )
        self.made_on = made_on
        self.device_id = device_id


@dataclass(frozen=True)
class FlatField:
    """Per-channel gains on a coarse grid over the whole frame (resolution-independent)."""

    gains: np.ndarray  # (rows, columns, 3) float, >= 1 where the illumination fell off
    frames: int
    # The corrected target's spread across the frame, each channel relative to its own mean (the
    # worst channel), a fraction: a card's colour cast is not unevenness.
    residual_nonuniformity: float


@dataclass(frozen=True)
class ColourCorrection:
    """White balance then a 3x3 matrix, both in linear light, fitted on a 24-patch chart."""

    white_balance: np.ndarray  # (3,)
    matrix: np.ndarray  # (3, 3), applied as linear_rgb @ matrix.T
    chart: str
    delta_e76_before: dict[str, float]  # mean and max over the 24 patches
    delta_e76_after: dict[str, float]


@dataclass(frozen=True)
class LensDistortion:
    image_size: tuple[int, int]  # (width, height) the camera matrix refers to
    camera_matrix: np.ndarray  # (3, 3)
    distortion: np.ndarray  # OpenCV order: k1, k2, p1, p2, k3
    reprojection_rms_px: float
    views: int
    board: tuple[int, int]  # inner corners (columns, rows)
    square_mm: float


@dataclass(frozen=True)
class Scale:
    image_size: tuple[int, int]  # (width, height) at which mm_per_pixel was measured
    mm_per_pixel: float
    relative_spread: float  # std / mean over the target images
    target_mm: float
    images: int


@dataclass(frozen=True)
class CalibrationProfile:
    camera_model: str
    camera_serial: str
    made_by: str
    created: str
    updated: str
    flat_field: FlatField | None = None
    geometry: LensDistortion | None = None
    colour: ColourCorrection | None = None
    scale: Scale | None = None
    id: str = ""
    # The device (``[device] id``) it was made on; "" in a profile made before profiles named theirs.
    device_id: str = ""

    def before(self, step: str) -> CalibrationProfile:
        """The profile with ``step`` and the pixel steps after it left out.

        A step is measured on images already corrected by the steps that come before it on the
        device (a colour chart is read after the flat field), never by itself.
        """
        later = PIXEL_STEPS[PIXEL_STEPS.index(step) :] if step in PIXEL_STEPS else ()
        return dataclasses.replace(self, **{name: None for name in later})

    def steps(self) -> list[str]:
        return [name for name in (*PIXEL_STEPS, "scale") if getattr(self, name) is not None]


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return np.round(value.astype(np.float64), 6).tolist()
    if isinstance(value, tuple):
        return list(value)
    return value


def _sections(profile: CalibrationProfile) -> dict[str, Any]:
    return {
        name: {k: _plain(v) for k, v in vars(getattr(profile, name)).items()}
        for name in (*PIXEL_STEPS, "scale")
        if getattr(profile, name) is not None
    }


def _profile_id(profile: CalibrationProfile) -> str:
    # The device is hashed with the steps, so a profile moved to another device by editing its name is
    # "edited by hand"; a profile from before devices were named keeps its id.
    content = _sections(profile) | ({"device": profile.device_id} if profile.device_id else {})
    digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:8]
    who = re.sub(r"[^A-Za-z0-9]+", "-", profile.camera_serial or profile.camera_model).strip("-") or "camera"
    return f"{who}-{profile.updated[:10].replace('-', '')}-{digest}"


def new_profile(camera_model: str, camera_serial: str, made_by: str, device_id: str) -> CalibrationProfile:
    now = datetime.now(UTC).isoformat(timespec="seconds")
    return CalibrationProfile(camera_model, camera_serial, made_by, created=now, updated=now, device_id=device_id)


def profile_document(profile: CalibrationProfile) -> dict[str, Any]:
    return {
        "schema": PROFILE_SCHEMA,
        "id": profile.id or _profile_id(profile),
        "camera": {"model": profile.camera_model, "serial": profile.camera_serial},
        **({"device": profile.device_id} if profile.device_id else {}),
        "made_by": profile.made_by,
        "created": profile.created,
        "updated": profile.updated,
        **_sections(profile),
    }


def write_profile(profile: CalibrationProfile, path: Path) -> CalibrationProfile:
    """Stamp the profile with today's date and its content id, and write it atomically and durably."""
    stamped = dataclasses.replace(profile, updated=datetime.now(UTC).isoformat(timespec="seconds"), id="")
    stamped = dataclasses.replace(stamped, id=_profile_id(stamped))
    path.parent.mkdir(parents=True, exist_ok=True)
    # A power cut must not leave an empty profile: the device would refuse to screen until recalibrated.
    replace_durably(path, (json.dumps(profile_document(stamped), indent=1) + "\n").encode())
    return stamped


def _array(value: Any, shape: tuple[int, ...], name: str) -> np.ndarray:
    array = np.asarray(value, np.float64)
    if array.shape != shape and not (len(shape) == 3 and array.ndim == 3 and array.shape[2] == shape[2]):
        raise ProfileError(f"field '{name}' must have shape {shape}, got {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ProfileError(f"field '{name}' holds a value that is not a finite number")
    return array


def _size(value: Any, name: str) -> tuple[int, int]:
    """A frame's width and height in pixels: both at least 1 (a scale read off a 0x0 frame gave
    every lesion a diameter of 0 mm)."""
    width, height = (int(v) for v in value)
    if min(width, height) < 1:
        raise ProfileError(f"field '{name}' must be a width and a height of at least 1 pixel, got {value!r}")
    return width, height


def positive_finite(value: Any, name: str) -> float:
    """A size or a scale: a number greater than 0 and finite (``ProfileError`` otherwise; ``ValueError``
    when ``value`` is no number at all)."""
    number = float(value)
    if not (math.isfinite(number) and number > 0):
        raise ProfileError(f"field '{name}' must be a positive, finite number, got {value!r}")
    return number


def _timestamp(value: Any, name: str) -> str:
    """An ISO 8601 time, as ``calibrate`` writes it (the readiness screen reads the profile's age off it)."""
    text = str(value)
    try:
        datetime.fromisoformat(text)
    except ValueError:
        raise ProfileError(f"field '{name}' must be an ISO 8601 time, got {text!r}") from None
    return text


def _parse(document: dict[str, Any]) -> CalibrationProfile:
    if document.get("schema") != PROFILE_SCHEMA:
        raise ProfileError(f"field 'schema' must be '{PROFILE_SCHEMA}', got {document.get('schema')!r}")
    flat = colour = geometry = scale = None
    if "flat_field" in document:
        section = document["flat_field"]
        gains = _array(section["gains"], (0, 0, 3), "flat_field.gains")
        if gains.min() <= 0:
            raise ProfileError("field 'flat_field.gains' must be positive")
        flat = FlatField(gains, int(section["frames"]), float(section["residual_nonuniformity"]))
    if "colour" in document:
        section = document["colour"]
        colour = ColourCorrection(
            _array(section["white_balance"], (3,), "colour.white_balance"),
            _array(section["matrix"], (3, 3), "colour.matrix"),
            str(section["chart"]),
            dict(section["delta_e76_before"]),
            dict(section["delta_e76_after"]),
        )
    if "geometry" in document:
        section = document["geometry"]
        columns, rows = (int(v) for v in section["board"])
        geometry = LensDistortion(
            _size(section["image_size"], "geometry.image_size"),
            _array(section["camera_matrix"], (3, 3), "geometry.camera_matrix"),
            _array(section["distortion"], (5,), "geometry.distortion"),
            float(section["reprojection_rms_px"]),
            int(section["views"]),
            (columns, rows),
            positive_finite(section["square_mm"], "geometry.square_mm"),
        )
    if "scale" in document:
        section = document["scale"]
        scale = Scale(
            _size(section["image_size"], "scale.image_size"),
            positive_finite(section["mm_per_pixel"], "scale.mm_per_pixel"),
            float(section["relative_spread"]),
            positive_finite(section["target_mm"], "scale.target_mm"),
            int(section["images"]),
        )
    profile = CalibrationProfile(
        camera_model=str(document["camera"]["model"]),
        camera_serial=str(document["camera"]["serial"]),
        made_by=str(document["made_by"]),
        created=_timestamp(document["created"], "created"),
        updated=_timestamp(document["updated"], "updated"),
        flat_field=flat,
        geometry=geometry,
        colour=colour,
        scale=scale,
        id=str(document["id"]),
        device_id=str(document.get("device", "")),
    )
    if profile.id != _profile_id(profile):
        raise ProfileError(
            f"field 'id' ({profile.id}) does not match the profile's content: it was edited by hand; "
            "make it again with `edgescreen calibrate`"
        )
    return profile


def read_profile(path: Path) -> CalibrationProfile:
    """Read and check a profile; every problem is a ``ProfileError`` naming the file."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ProfileMissing(f"{path}: calibration profile not found") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:  # Recursion: nested deep
        raise ProfileError(f"{path}: not a readable JSON calibration profile ({error})") from None
    try:
        if not isinstance(document, dict):
            raise ProfileError("the profile must be a JSON object")
        return _parse(document)
    except ProfileError as error:
        raise ProfileError(f"{path}: {error}") from None
    except (KeyError, TypeError, ValueError) as error:
        raise ProfileError(f"{path}: missing or malformed field ({type(error).__name__}: {error})") from None


def device_profile(path: Path, device_id: str) -> CalibrationProfile:
    """``read_profile``, refusing a profile made on another device (``ProfileOfAnotherDevice``): copied
    from a unit next to it, or kept after ``[device] id`` changed. A card moved into new hardware takes
    its config and id along, so its profile is not refused there: the tie is to the id, not the
    hardware (calibration/README.md). One made before profiles named their device is taken as this
    device's: nothing in it says otherwise (``doctor`` says so)."""
    profile = read_profile(path)
    if profile.device_id and profile.device_id != device_id:
        raise ProfileOfAnotherDevice(path, profile.device_id, device_id)
    return profile
