"""``edgescreen quality fit --camera-model NAME IMAGE...``: a device's own quality limits, from its
first good photos (``firmware_app.quality.fit`` says how each limit is derived).

The photos are measured by the gate's own full and preview checks, as given: no calibration profile
is applied. The device's gate judges each frame after its profile corrected it, so photos ``records
export`` wrote (calibrated already, ``capture/photo_to_screen.py``) are the right input of a
calibrated device's fit and are not refused; raw photos would set its limits from pixels its gate
never sees. One that cannot be measured (no field of view, unreadable), repeats an earlier one's
picture, or is refused by the gate whatever the limits (not a colour photo, too small) is counted
and left out.
The profile is printed (or written with ``--out``, to a new file) as the ``[quality]`` tables of a
device config, each limit with the photos' statistics it came from, for the technician to review
before installing it.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from collections.abc import Sequence
from pathlib import Path

from firmware_app.capture.image_file import ImageError, read_frame
from firmware_app.config import Config
from firmware_app.durable import create_durably
from firmware_app.events import log_event
from firmware_app.inference.card import MODALITIES
from firmware_app.messages import sentence
from firmware_app.quality.fit import fit_limits, profile_toml
from firmware_app.quality.gate import DEVICE_DECLARED, RULES, QualityGate, Speed
from firmware_app.quality.modality import REASON as WRONG_MODALITY
from firmware_app.records.database import RequestRefused, output_problem, refuse_a_folder
from firmware_app.typed_argument import typed

COMMAND = "quality-fit"
# Fewer good photos than this say too little about a camera to set its limits.
MIN_PHOTOS = 10
# What the gate refuses from the pixels before any limit a fit sets: such a photo is no good photo
# of the camera (a calibration card or checkerboard left in the folder was fitted as a fundus; a
# retina given to a dermoscopy fit, ``quality.modality``, was fitted as skin).
NEVER_GOOD = frozenset({"greyscale", "red_free", "image_too_small", WRONG_MODALITY})


def cmd_quality_fit(config: Config, args: argparse.Namespace) -> int:
    language = config.device.language
    if args.out:
        refuse_a_folder(args.out, "quality.toml")
        if args.out.exists() or args.out.is_symlink():  # e.g. the device's own config.toml
            raise _out_exists(args.out)
    modality = args.modality or config.device.modality
    settings = config.quality
    gate = QualityGate(settings)
    measured, preview_sharpness, skipped = [], [], 0
    # A picture given twice (a file copied, a folder globbed twice) is one photo: ten copies of one
    # photo would set every limit midway to the default from that photo alone.
    seen: dict[bytes, int] = {}
    for index, path in enumerate(args.images):
        try:
            frame = read_frame(path)
            pixels = frame.pixels
            digest = hashlib.sha256(pixels.tobytes()).digest()
            if digest in seen:
                raise ValueError(f"the same picture as photo {seen[digest]}")
            seen[digest] = index + 1
            if refused := NEVER_GOOD.intersection(gate.check(frame, modality).reasons):
                raise ValueError(f"the gate refuses it whatever the limits ({', '.join(sorted(refused))})")
            measured.append(gate.measures(pixels, modality, Speed.FULL))
            preview = gate.measures(pixels, modality, Speed.PREVIEW)
            if "sharpness" in preview:  # a photo smaller than the scale focus is judged at has none
                preview_sharpness.append(preview["sharpness"])
        except (ImageError, ValueError) as error:  # no field of view, repeated, never good: ValueError
            skipped += 1
            # An image error's reason, not its text: that starts with the file's name, which in a
            # clinic is often a patient's.
            log_event(
                "quality.fit_skipped", photo=index + 1, error=error.reason if isinstance(error, ImageError) else error
            )
    if len(measured) < MIN_PHOTOS:
        left_out = sentence("quality_fit.left_out", language, count=skipped)
        said = sentence("quality_fit.too_few", language, least=MIN_PHOTOS, count=len(measured), left_out=left_out)
        print(f"edgescreen: {said}", file=sys.stderr)
        return 2
    defaults = settings.limits(modality)
    fitted = fit_limits(
        measured,
        RULES[modality],
        defaults,
        preview_sharpness=preview_sharpness,
        declared=DEVICE_DECLARED[modality],
        least=MIN_PHOTOS,
    )
    text = profile_toml(args.camera_model, modality, fitted, len(measured), skipped)
    if args.out:
        _write_profile(args.out, text)
        said = sentence("quality_fit.written", language, camera=repr(args.camera_model), out=str(args.out))
        print(said, file=sys.stderr)
    else:
        print(text, end="")
    return 0


def _out_exists(out: Path) -> RequestRefused:
    """A file (or a link) at ``--out``: the device's own config.toml given there was replaced whole."""
    return RequestRefused.saying("quality_fit.out_exists", out=str(out))


def _write_profile(out: Path, text: str) -> None:
    """The profile in a file this call creates, flushed, or refused in the device's language as ``backup``
    refuses its drive (not mounted, read-only, full) with no file left: an empty one, after a full disk,
    refused the next fit as a profile there. A file or link made at ``out`` since the check before the
    fit is refused as one there, never written over nor through."""
    try:
        create_durably(out, text.encode("utf-8"))
    except FileExistsError:
        raise _out_exists(out) from None
    except OSError as error:
        raise output_problem(out, error) from error


def add_quality_fit_command(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Registered as ``quality-fit``; ``edgescreen quality fit ...`` is routed to it (``route``)."""
    text = "derive this camera's quality limits from its first good photos (edgescreen quality fit)"
    fit = commands.add_parser(COMMAND, help=text, description=text)
    fit.add_argument(
        "--camera-model", required=True, type=typed, help="the camera the limits are for ([quality] camera_model)"
    )
    fit.add_argument("--modality", choices=MODALITIES, help="default: [device] modality in the config")
    fit.add_argument("--out", type=Path, help="write the profile to this new file instead of printing it")
    fit.add_argument("images", nargs="+", type=Path, metavar="IMAGE")
    fit.set_defaults(handler=cmd_quality_fit)


def route(argv: Sequence[str]) -> list[str]:
    """``quality fit`` as the subcommand name: ``quality`` itself takes image paths, so ``fit`` is
    recognised only as the word right after it."""
    words = list(argv)
    for index in range(len(words) - 1):
        if words[index] == "quality" and words[index + 1] == "fit":
            return [*words[:index], COMMAND, *words[index + 2 :]]
        if words[index] == "quality":
            break
    return words
