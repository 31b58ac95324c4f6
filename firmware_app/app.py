"""Composition root: turns the configuration into working parts, and nothing else.

Models are loaded (and verified) the first time a modality is asked for, then kept: a fundus camera
never pays for loading the melanoma model.
"""

from __future__ import annotations

import logging

from firmware_app.calibration.profile import CalibrationProfile, read_profile
from firmware_app.capture.camera import Camera, Controls, Size
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
    settings = config.camera
    preview = Size(settings.preview_width, settings.preview_height)
    still = Size(settings.still_width, settings.still_height)
    retries = {"open_attempts": settings.open_attempts, "open_backoff_s": settings.open_backoff}
    camera: Camera
    if settings.backend == "picamera2":
        camera = Picamera2Camera(settings.device, preview, still, settings.frame_timeout, **retries)
    elif settings.backend == "opencv":
        camera = OpenCVCamera(settings.device, settings.source, preview, still, settings.frame_timeout, **retries)
    else:
        camera = FilesCamera(settings.files, preview, still)
    return camera, Controls(settings.exposure_us, settings.analogue_gain, settings.lens_position)
