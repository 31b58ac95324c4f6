"""The error every part of inference raises when a model cannot be trusted or run, in a module of its
own so that the interpreter's loader, which the model module imports, can raise it too."""

from __future__ import annotations


class ModelError(RuntimeError):
    """A model cannot be trusted or run; the message names the model and what disagrees."""
