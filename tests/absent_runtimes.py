"""Both TFLite runtimes made absent for a subprocess, whatever this machine has installed."""

from __future__ import annotations

from pathlib import Path


def shadow_runtimes(folder: Path) -> str:
    """Packages in ``folder`` that stand in for both runtimes and import as Python says of a package
    that is not installed (``ModuleNotFoundError`` naming it; a package there that fails to load is
    another case, ``interpreter_class``); returns ``folder`` to put first on the ``PYTHONPATH``."""
    for package in ("ai_edge_litert", "tflite_runtime"):
        (folder / package).mkdir()
        (folder / package / "__init__.py").write_text(
            f"raise ModuleNotFoundError('No module named {package}', name={package!r})\n"
        )
    return str(folder)
