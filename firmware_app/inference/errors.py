"""The error every part of inference raises when a model cannot be trusted or run, in a module of its
own so that the interpreter's loader, which the model module imports, can raise it too."""

from __future__ import annotations


class ModelError(RuntimeError):
    """A model cannot be trusted or run; the message names the model and what disagrees."""


class ModelMissing(ModelError):
    """No model where the configuration points (no card there): it is to be installed, or ``[models]``
    corrected, not mended (``doctor`` says so)."""


class WrongModality(ModelError):
    """A model made for other photos than those it is configured for: no reinstall fixes it, the
    configuration's ``[models]`` does (``doctor`` says so)."""


class ModelRunFailed(ModelError):
    """A model that loaded, verified and warmed up failed while running on a photo (its interpreter's
    error): nothing says it must be reinstalled; the photo is used again, and the technician called if
    it keeps failing."""
