"""Composition root: turns the configuration into working parts, and nothing else.

Models are loaded (and verified) the first time a modality is asked for, then kept: a fundus camera
never pays for loading the melanoma model.
"""

from __future__ import annotations

from firmware_app.config import Config
from firmware_app.events import log_event
from firmware_app.inference.model import TriageModel
from firmware_app.pipeline import ScreeningPipeline
from firmware_app.quality.gate import QualityGate


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


def build_pipeline(config: Config) -> ScreeningPipeline:
    return ScreeningPipeline(
        ModelShelf(config),
        config.models.operating_point or None,
        QualityGate(config.quality),
        research_run=config.quality.research_run,
    )
