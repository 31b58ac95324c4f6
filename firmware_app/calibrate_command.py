"""``edgescreen calibrate flat|colour|geometry|scale``: make or update a device's calibration profile.

The technician photographs a target (a plain card, a colour chart, a checkerboard, a black square)
and gives the photos here. Each photo is first corrected by the profile's earlier steps, exactly as
the device will correct frames, then searched for the target; a photo without a usable target is
listed with the reason and left out, and too few usable photos leave the profile untouched.
"""

from __future__ import annotations

import argparse
import dataclasses
import getpass
import logging
import re
import sys
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from firmware_app.app import build_camera
from firmware_app.calibration.apply import correct_pixels
from firmware_app.calibration.colour_chart import fit_colour_correction, read_chart
from firmware_app.calibration.errors import TargetNotFound
from firmware_app.calibration.flat_field import measure_flat_field
from firmware_app.calibration.geometry import find_board, measure_distortion
from firmware_app.calibration.profile import (
    PIXEL_STEPS,
    CalibrationProfile,
    ProfileError,
    ProfileMisfit,
    device_profile,
    new_profile,
    positive_finite,
    profile_document,
    write_profile,
)
from firmware_app.calibration.scale import measure_scale, square_side_px
from firmware_app.capture.camera import CameraError
from firmware_app.capture.frame import Frame
from firmware_app.capture.image_file import ImageError
from firmware_app.capture.photo_to_screen import read_photo_to_screen
from firmware_app.config import Config
from firmware_app.durable import create_durably
from firmware_app.events import image_ref, log_event
from firmware_app.messages import message, plural_key
from firmware_app.records.database import output_problem
from firmware_app.service.termination import StopRequested, between_stop_points, stop_on_termination
from firmware_app.typed_argument import Refused, typed

STEP_OF_COMMAND = {"flat": "flat_field", "colour": "colour", "geometry": "geometry", "scale": "scale"}


def _board(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d+)x(\d+)", text)
    if not match or min(int(match[1]), int(match[2])) < 2:
        raise Refused("argument.board", value=repr(text))
    return int(match[1]), int(match[2])


def _millimetres(text: str) -> float:
    """A printed size: a positive, finite number of millimetres (a typo of 0 would write a profile
    every screening then refuses, and the next calibration could not even read it to correct it)."""
    try:
        return positive_finite(text, "size")
    except (ProfileError, ValueError):
        raise Refused("argument.millimetres", value=repr(text)) from None


def _load_or_create(path: Path, args: argparse.Namespace, config: Config) -> CalibrationProfile:
    """The profile a step is added to: this device's (another device's is a ``ProfileOfAnotherDevice``),
    a new one, or one made before profiles named their device, which the step, measured here, ties to
    this device."""
    if path.exists():
        return dataclasses.replace(device_profile(path, config.device.id), device_id=config.device.id)
    return new_profile(
        args.camera_model or "unknown", args.serial or config.device.id, args.by or getpass.getuser(), config.device.id
    )


def _other_camera(profile: CalibrationProfile, args: argparse.Namespace) -> str | None:
    """What in ``--camera-model``/``--serial`` names another camera than an existing profile's: a
    step of one camera added to another's profile was taken silently (those options only name a
    new profile's camera), and the device then corrected its frames with a mixture of both."""
    given = {
        "--camera-model": (args.camera_model, profile.camera_model),
        "--serial": (args.serial, profile.camera_serial),
    }
    other = [f"{option} {wanted!r}" for option, (wanted, held) in given.items() if wanted and wanted != held]
    return ", ".join(other) or None


def _usable(
    images: list[Path], profile: CalibrationProfile, step: str, find: Callable[[np.ndarray], object], language: str
) -> tuple[list[object], tuple[int, int] | None]:
    """What ``find`` extracts from each photo that shows the target; the others are reported, why in
    ``language`` as ``screen`` says it of a photo file (what its target lacks, why the file is no photo,
    its proportions against the lens step's), the English in the log line, which names no file. A photo
    ``records export`` wrote is one of them (``read_photo_to_screen``): its pixels are corrected by a
    profile already, and a step measured on them would correct every frame for a camera already
    corrected."""
    found: list[object] = []
    size: tuple[int, int] | None = None
    earlier = profile.before(step)
    for path in images:
        try:
            frame = read_photo_to_screen(path)
            if size is not None and (frame.width, frame.height) != size:
                raise TargetNotFound(
                    "calibrate.target.size_differs", size=f"{frame.width}x{frame.height}", first=f"{size[0]}x{size[1]}"
                )
            found.append(find(correct_pixels(earlier, frame.pixels)))
            size = (frame.width, frame.height)
        except (ImageError, TargetNotFound, ProfileMisfit) as error:  # ProfileMisfit: the lens step's proportions
            reason = error.reason if isinstance(error, ImageError) else str(error)
            log_event("calibrate.image_refused", step=step, image=image_ref(path), reason=reason)
            print(message("photo.refused", language).format(path=path, why=error.sentence(language)), file=sys.stderr)
    return found, size


def _plain_card(pixels: np.ndarray) -> np.ndarray:
    """A photo for the flat field, refused if it is of the colour chart: the chart's patches are no
    unevenness of the light, and the refusal only said "not uniform", as of a card with a stain."""
    try:
        read_chart(pixels)
    except TargetNotFound:
        return pixels
    raise TargetNotFound("calibrate.target.chart_not_card")


def _measure(args: argparse.Namespace, profile: CalibrationProfile, language: str) -> CalibrationProfile:
    step = STEP_OF_COMMAND[args.step]
    if step == "flat_field":
        frames, _ = _usable(args.images, profile, step, _plain_card, language)
        if len(frames) != len(args.images):
            raise TargetNotFound("calibrate.target.flat_all_usable")
        return dataclasses.replace(profile, flat_field=measure_flat_field(frames))  # type: ignore[arg-type]
    if step == "colour":
        charts, _ = _usable(args.images, profile, step, read_chart, language)
        if not charts:
            raise TargetNotFound("calibrate.target.no_chart_anywhere")
        return dataclasses.replace(profile, colour=fit_colour_correction(np.mean(charts, axis=0)))
    if step == "geometry":
        corners, size = _usable(args.images, profile, step, lambda pixels: find_board(pixels, args.board), language)
        lens = measure_distortion(corners, args.board, args.square_mm, size or (0, 0))  # type: ignore[arg-type]
        return dataclasses.replace(profile, geometry=lens)
    sides, size = _usable(args.images, profile, step, square_side_px, language)
    return dataclasses.replace(profile, scale=measure_scale(sides, args.target_mm, size or (0, 0)))  # type: ignore[arg-type]


def cmd_calibrate(config: Config, args: argparse.Namespace) -> int:
    """One step of the profile measured and written. It speaks the device's language (``[device]
    language``), as ``calibrate still`` does; a profile's or the file system's own words (the field
    that is wrong, errno) go to the log."""
    language = config.device.language
    path = args.profile or config.calibration.profile
    if path is None:
        _refuse(language, "calibrate.needs_profile")
        return 2
    try:
        profile = _load_or_create(path, args, config)
    except ProfileError as error:  # its own advice, "make it again", must not lead back here
        log_event("calibrate.profile_refused", logging.ERROR, step=args.step, error=error)
        _refuse(language, "calibrate.profile_unusable", step=args.step, path=path)
        return 2
    if other := _other_camera(profile, args):
        model, serial = repr(profile.camera_model), repr(profile.camera_serial)
        _refuse(language, "calibrate.other_camera", step=args.step, path=path, model=model, serial=serial, other=other)
        return 2
    try:
        updated = _measure(args, profile, language)
    except TargetNotFound as error:
        _refuse(language, "calibrate.target_refused", step=args.step, path=path, why=error.sentence(language))
        return 1
    try:
        written = write_profile(updated, path)
    except OSError as error:  # not root under /etc/edgescreen, a read-only or full disk, a folder that is a file
        log_event("calibrate.profile_not_written", logging.ERROR, path=path, error=error.strerror or error)
        _refuse(language, "calibrate.not_written", step=args.step, path=path)
        return 2
    step = STEP_OF_COMMAND[args.step]
    section = profile_document(written)[step]
    errors = {k: v for k, v in section.items() if k in _REPORTED}
    log_event("calibrate.done", step=step, profile=written.id, path=path, **errors)
    print(message("calibrate.measured", language).format(path=path, id=written.id, step=args.step, errors=errors))
    order = [*PIXEL_STEPS, "scale"]
    stale = [later for later in written.steps() if order.index(later) > order.index(step)]
    if stale:
        print(_stale_note(stale, language))
    return 0


def _stale_note(stale: list[str], language: str) -> str:
    """What to make again: the later steps were measured on photos corrected without this change."""
    steps = message("calibrate.and", language).format(first=", ".join(stale[:-1]), last=stale[-1])
    key = plural_key("calibrate.stale", len(stale), language)
    return message(key, language).format(steps=steps if len(stale) > 1 else stale[0])


_REPORTED = (
    "frames",
    "residual_nonuniformity",
    "delta_e76_before",
    "delta_e76_after",
    "reprojection_rms_px",
    "views",
    "distortion",
    "mm_per_pixel",
    "relative_spread",
    "images",
)


# Lossless formats only: a JPEG's compression would add its own blocks and colour shifts to the
# target the profile is measured on.
STILL_SUFFIXES = (".png", ".tif", ".tiff")
EXIT_CAMERA = 6  # as `edgescreen capture`: the camera failed


def _refuse(language: str, key: str, **values: object) -> None:
    """Why ``calibrate`` measured, took or wrote nothing, in the device's language, on stderr."""
    print(f"edgescreen: {message(key, language).format(**values)}", file=sys.stderr)


def cmd_still(config: Config, args: argparse.Namespace) -> int:
    """One still of a calibration target from the configured camera, as the profile steps need it:
    the sensor's full resolution, the configured manual controls (the settings patients are
    photographed with), and no calibration applied (a profile is measured on raw photos). It speaks
    the device's language (``[device] language``), as ``screen`` and ``capture`` do; the camera's own
    words (paths, a driver's message) go to the log. A drive the still cannot be written to is refused
    as every command's output drive is (``output_problem``), the file system's reason in the sentence."""
    out: Path = args.out
    language = config.device.language
    if out.suffix.lower() not in STILL_SUFFIXES:
        _refuse(language, "calibrate.still.lossless", suffixes=", ".join(STILL_SUFFIXES))
        return 2
    full_resolution = dataclasses.replace(config.camera, still_width=0, still_height=0)
    camera, controls = build_camera(dataclasses.replace(config, camera=full_resolution))

    def take() -> Frame:
        with camera:
            camera.set_controls(controls)
            [still] = camera.capture_burst(1)
        return still

    try:
        with stop_on_termination(language) as stop:
            still = between_stop_points(take, stop)()
    except StopRequested:  # SIGTERM, Ctrl-C: the camera closed on the way here
        log_event("calibrate.still_stopped", logging.WARNING)
        _refuse(language, "calibrate.still.stopped")
        return 1
    except CameraError as error:
        log_event("calibrate.camera_failed", logging.ERROR, backend=camera.name, error=error)
        _refuse(language, "calibrate.still.camera_failed", what=error.sentence(language))
        return EXIT_CAMERA
    encoded = cv2.imencode(out.suffix.lower(), cv2.cvtColor(still.pixels, cv2.COLOR_RGB2BGR))[1]
    try:
        create_durably(out, encoded.tobytes())  # never over an earlier photo, flushed, or no file left
    except FileExistsError:
        _refuse(language, "calibrate.still.exists", out=out)
        return 2
    except OSError as error:  # not mounted, read-only, full: part of a photo was refused next as an earlier one
        raise output_problem(out, error) from error
    taken = message("calibrate.still.taken", language)
    print(taken.format(out=out, width=still.width, height=still.height, camera=camera.name))
    return 0


def add_calibrate_command(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    calibrate = commands.add_parser("calibrate", help="make or update this device's calibration profile")
    steps = calibrate.add_subparsers(dest="step", required=True)
    helps = {
        "flat": "flat field from a few frames of a plain, evenly lit card filling the frame",
        "colour": "white balance and colour matrix from photos of the 24-patch colour chart",
        "geometry": "lens distortion from 3+ photos of the printed checkerboard, tilted differently",
        "scale": "millimetres per pixel from photos of the printed black square",
    }
    for name, text in helps.items():
        step = steps.add_parser(name, help=text, description=text)
        step.add_argument("--profile", type=Path, help="profile file (default: [calibration] profile)")
        step.add_argument(
            "--camera-model", type=typed, help="for a new profile (default: unknown); an existing one's must match"
        )
        step.add_argument(
            "--serial",
            type=typed,
            help="camera serial, for a new profile (default: device id); an existing one's must match",
        )
        step.add_argument("--by", default="", type=typed, help="who makes the profile (default: the login name)")
        if name == "geometry":
            step.add_argument("--board", type=_board, default=(9, 6), help="inner corners, e.g. 9x6 (default)")
            step.add_argument("--square-mm", type=_millimetres, default=2.5, help="printed square side (default 2.5)")
        if name == "scale":
            step.add_argument("--target-mm", type=_millimetres, default=10.0, help="printed square side (default 10)")
        step.add_argument("images", nargs="+", type=Path, metavar="IMAGE")
        step.set_defaults(handler=cmd_calibrate)
    text = "one full-resolution, uncalibrated still of a target from the configured camera, for the steps above"
    still = steps.add_parser("still", help=text, description=text)
    still.add_argument("--out", type=Path, required=True, help=f"a new file ({', '.join(STILL_SUFFIXES)})")
    still.set_defaults(handler=cmd_still)
