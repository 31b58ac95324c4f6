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
    """No TFLite runtime is installed, or none loads: no model can run, which every caller that
    handles a refused model (the app's readiness, ``doctor``, the commands) then tells as such."""


def _absent(error: ImportError, module: str) -> bool:
    """Whether ``error`` says the runtime's own package is not installed, rather than installed and
    unable to load: a shared library that does not map (too little memory on a small board), or a
    system library or dependency it needs that is missing. Told as "not installed", the second sends
    the technician to install what is there."""
    return isinstance(error, ModuleNotFoundError) and error.name is not None and module.startswith(error.name)


def _named(error: BaseException) -> str:
    """``MemoryError`` says nothing more than its name."""
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def interpreter_class(runtime: str | None = None) -> tuple[str, Any]:
    """The ``Interpreter`` class of ``runtime`` (a package name), or of the preferred installed one."""
    unloadable: list[str] = []
    for package, module in RUNTIMES:
        if runtime not in (None, package):
            continue
        try:
            return package, importlib.import_module(module).Interpreter
        except (ImportError, OSError, MemoryError) as error:  # OSError: a library loaded with ctypes
            if isinstance(error, ImportError) and _absent(error, module):
                if runtime is not None:
                    raise RuntimeMissing(f"the TFLite runtime '{runtime}' is not installed") from None
                continue
            unloadable.append(
                f"the TFLite runtime '{package}' is installed but does not load ({_named(error)}): "
                "too little free memory for it, or a library it needs is missing; free memory (stop other "
                "programs) or reinstall it"
            )
    if unloadable:
        raise RuntimeMissing("; ".join(unloadable))
    if runtime is not None:
        raise RuntimeMissing(f"unknown TFLite runtime '{runtime}' (known: {', '.join(p for p, _ in RUNTIMES)})")
    raise RuntimeMissing(
        "no TFLite runtime is installed: install 'ai-edge-litert' (preferred) or 'tflite-runtime' (needs numpy<2)"
    )
