"""Preview frames per second with the files backend, at 640x480 and 2028x1520, in one run.

Each per-frame stage in ``STAGES`` is timed on the same preview stream (the bundled real fundus
photo, fitted into the preview size as the files camera does, in a black frame of that size as a
sensor delivers it), so the printed ratios compare
resolutions and stages measured together on this machine. The calibration stage applies a
representative full profile (flat field, colour matrix, lens undistortion): its cost, not its accuracy.
The quality stage is the gate's preview check (``[quality]`` defaults), as ``edgescreen capture`` runs it
on every preview frame; the stream alternates the bundled fundus and dermoscopy photos, each judged
as its own modality.

    .venv/bin/python bench/capture.py [--frames 40]
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from collections.abc import Callable
from pathlib import Path

# This checkout's code, not whichever the environment has installed (a clone's bench then measures
# that clone).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from firmware_app.calibration.apply import apply
from firmware_app.calibration.profile import CalibrationProfile, ColourCorrection, FlatField, LensDistortion
from firmware_app.capture.camera import CameraSettings, Size
from firmware_app.capture.files_camera import FilesCamera
from firmware_app.capture.frame import Frame
from firmware_app.config import SAMPLES_DIR, QualityConfig
from firmware_app.quality.gate import QualityGate, Speed

SIZES = (Size(640, 480), Size(2028, 1520))


def _representative_profile() -> CalibrationProfile:
    rows, columns = np.mgrid[-1:1:18j, -1:1:24j]
    gains = np.repeat((1 / (1 - 0.4 * (rows**2 + columns**2) / 2))[..., None], 3, axis=2)
    colour = ColourCorrection(np.array([1.2, 1.0, 1.5]), np.eye(3) * 1.1 - 0.033, "bench", {}, {})
    camera = np.array([[1800.0, 0, 1014], [0, 1800.0, 760], [0, 0, 1]])
    lens = LensDistortion((2028, 1520), camera, np.array([-0.2, 0.05, 0, 0, 0]), 0.2, 8, (9, 6), 2.5)
    flat = FlatField(gains, 4, 0.01)
    return CalibrationProfile("bench", "bench", "bench", "", "", flat_field=flat, colour=colour, geometry=lens)


PROFILE = _representative_profile()
GATE = QualityGate(QualityConfig())


def _modality(frame: Frame) -> str:
    """The bundled samples are named after their modality."""
    return "dermoscopy" if Path(frame.source).name.startswith("dermoscopy") else "fundus"


# One line per per-frame stage; the last is what ``edgescreen capture`` does with each preview frame.
STAGES: list[tuple[str, Callable[[Frame], object]]] = [
    ("preview", lambda frame: None),
    ("preview + calibration", lambda frame: apply(PROFILE, frame)),
    (
        "preview + calibration + quality",
        lambda frame: GATE.check(apply(PROFILE, frame), _modality(frame), Speed.PREVIEW),
    ),
]


def _sensor_framed(frame: Frame, size: Size) -> Frame:
    """The files camera's preview frame centred in a black frame of the preview size, as a sensor
    in that mode delivers it (the square fundus photo would otherwise come out 480x480, which a
    lens profile calibrated at 4:3 refuses)."""
    height, width = frame.pixels.shape[:2]
    top, left = (size.height - height) // 2, (size.width - width) // 2
    pixels = np.zeros((size.height, size.width, 3), np.uint8)
    pixels[top : top + height, left : left + width] = frame.pixels
    return dataclasses.replace(frame, pixels=pixels)


def frames_per_second(size: Size, stage: Callable[[Frame], object], frames: int) -> float:
    with FilesCamera([SAMPLES_DIR], CameraSettings(preview=size)) as camera:
        stream = (_sensor_framed(frame, size) for frame in camera.preview_frames())
        stage(next(stream))  # warm-up: decode cache, gain and undistortion maps
        started = time.perf_counter()
        for _ in range(frames):
            stage(next(stream))
        return frames / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=40, help="frames timed per stage and size")
    args = parser.parse_args()
    results = {(size, name): frames_per_second(size, stage, args.frames) for size in SIZES for name, stage in STAGES}
    print(f"files backend, {args.frames} frames each, source {SAMPLES_DIR.name}/")
    print(f"{'stage':34s}" + "".join(f"{f'{s.width}x{s.height} fps':>18s}" for s in SIZES) + f"{'ratio':>10s}")
    for name, _ in STAGES:
        fps = [results[(size, name)] for size in SIZES]
        print(f"{name:34s}" + "".join(f"{v:18.1f}" for v in fps) + f"{fps[0] / fps[1]:9.1f}x")
    base = STAGES[0][0]
    for name, _ in STAGES[1:]:
        ratios = ", ".join(f"{s.width}x{s.height} {results[(s, name)] / results[(s, base)]:.2f}" for s in SIZES)
        print(f"{name} / {base} (fps ratio): {ratios}")


if __name__ == "__main__":
    main()
