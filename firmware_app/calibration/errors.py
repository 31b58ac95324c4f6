"""The one way a calibration measure refuses its input."""


class TargetNotFound(ValueError):
    """The images do not show the calibration target well enough; the message says what to fix."""
