"""Which TFLite runtime runs the models: ``ai-edge-litert`` when installed, else ``tflite-runtime``.

Both expose the same ``Interpreter`` class. LiteRT is the default because it is maintained and, on
this class of CPU, an order of magnitude faster on int8 models than the last ``tflite-runtime``
(2.14, which also pins ``numpy<2``); the older runtime stays supported for images that still ship it.
"""

from __future__ import annotations

import importlib
from typing import Any

from firmware_app.inference.errors import ModelError

RUNTIMES = (
    ("ai-edge-litert", "ai_edge_litert.interpreter"),
    ("tflite-runtime", "tflite_runtime.interpreter"),
)


class RuntimeMissing(ModelError):
    """Neither TFLite runtime is installed: no model can run, which every caller that handles a
    refused model (the app's readiness, ``doctor``, the commands) then tells as such."""


def interpreter_class(runtime: str | None = None) -> tuple[str, Any]:
    """The ``Interpreter`` class of ``runtime`` (a package name), or of the preferred installed one."""
    for package, module in RUNTIMES:
        if runtime not in (None, package):
            continue
        try:
            return package, importlib.import_module(module).Interpreter
        except ImportError:
            if runtime is not None:
                raise RuntimeMissing(f"the TFLite runtime '{runtime}' is not installed") from None
    if runtime is not None:
        raise RuntimeMissing(f"unknown TFLite runtime '{runtime}' (known: {', '.join(p for p, _ in RUNTIMES)})")
    raise RuntimeMissing(
        "no TFLite runtime is installed: install 'ai-edge-litert' (preferred) or 'tflite-runtime' (needs numpy<2)"
    )
