"""Composition root: turns the configuration into working parts, and nothing else.

Models are loaded (and verified) the first time a modality is asked for, then kept: a fundus camera
never pays for loading the melanoma model.
"""

from __future__ import annotations

import logging

from firmware_app.calibration.profile import CalibrationProfile, read_profile
from firmware_app.capture.camera import Camera, CameraSettings, Controls, Size
from firmware_app.capture.files_camera import FilesCamera
from firmware_app.capture.opencv_camera import OpenCVCamera
from firmware_app.capture.picamera2_camera import Picamera2Camera
from firmware_app.config import Config
from firmware_app.events import log_event
from firmware_app.inference.model import TriageModel
from firmware_app.pipeline import ScreeningPipeline


class ModelShelf:
    """The configured model for each modality, loaded on first use."""

    def __init__(self, config: Config) -> None:
        self._config = config.models
        self._loaded: dict[str, TriageModel] = {}

    def model_id(self, modality: str) -> str:
        return getattr(self._config, modality)

    def __call__(self, modality: str) -> TriageModel:
        if modality not in self._loaded:
            model = TriageModel(self._config.directory / self.model_id(modality), threads=self._config.threads)
            log_event(
                "model.loaded",
                modality=modality,
                id=model.card.id,
                version=model.card.version,
                sha256=model.card.sha256,
                runtime=model.runtime,
                threads=model.threads,
            )
            self._loaded[modality] = model
        return self._loaded[modality]


def load_calibration(config: Config) -> CalibrationProfile | None:
    """The device's profile; ``None`` (and a warning) when it has none. A broken one is a ``ProfileError``."""
    if config.calibration.profile is None:
        log_event("calibration.none", logging.WARNING, note="no [calibration] profile: results say uncalibrated")
        return None
    profile = read_profile(config.calibration.profile)
    log_event("calibration.loaded", id=profile.id, steps=",".join(profile.steps()), path=config.calibration.profile)
    return profile


def build_pipeline(config: Config) -> ScreeningPipeline:
    return ScreeningPipeline(ModelShelf(config), config.models.operating_point or None, load_calibration(config))


def build_camera(config: Config) -> tuple[Camera, Controls]:
    """The configured camera (not yet open) and the manual controls to set once it is."""
    wanted = config.camera
    settings = CameraSettings(
        preview=Size(wanted.preview_width, wanted.preview_height),
        still=Size(wanted.still_width, wanted.still_height),
        frame_timeout_s=wanted.frame_timeout,
        open_attempts=wanted.open_attempts,
        open_backoff_s=wanted.open_backoff,
    )
    camera: Camera
    if wanted.backend == "picamera2":
        camera = Picamera2Camera(wanted.device, settings)
    elif wanted.backend == "opencv":
        camera = OpenCVCamera(wanted.device, wanted.source, settings)
    else:
        camera = FilesCamera(wanted.files, settings)
    return camera, Controls(wanted.exposure_us, wanted.analogue_gain, wanted.lens_position)
