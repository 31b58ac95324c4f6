"""The one way a calibration measure refuses its input."""

from __future__ import annotations

from firmware_app.messages import sentence


class TargetNotFound(ValueError):
    """The images do not show the calibration target well enough. ``sentence`` says what to fix in
    the technician's language, the catalogue's ``key`` filled with ``values``; the message is its
    English, for the log."""

    def __init__(self, key: str, **values: int | str) -> None:
        self.key = key
        self.values = values
        super().__init__(self.sentence("en"))

    def sentence(self, language: str) -> str:
        return sentence(self.key, language, **self.values)
