"""The project source a cached result depends on, found by following imports: for cache keys.

A framed view depends on ``firmware_app.inference.preprocess`` and on every project module it
imports (the fundus field's measures, the resampling, the card...), and on what those import in
turn. Keyed on ``preprocess.py`` alone, a change to ``quality/measures.py`` served the views framed
before it, and every feature, top and figure built on them, without a word. So a key follows the
imports through the project's own modules and hashes each one it reaches. The imports are read from
the source, not executed: no torch is needed, and a module imported inside a function counts too.
Other packages are not followed: their versions are the environment's, pinned by the lock files.
A module outside the modules it names can still be missed only through a dynamic import.
"""

from __future__ import annotations

import ast
import hashlib
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def _file(name: str) -> Path | None:
    """The checkout's source file of the dotted module ``name``; None for anything not in it."""
    base = REPO_ROOT.joinpath(*name.split("."))
    return next((path for path in (base.with_suffix(".py"), base / "__init__.py") if path.is_file()), None)


def _imported(name: str, path: Path) -> set[str]:
    """The project modules the source of module ``name`` (at ``path``) imports, anywhere in it."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            parts = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            base = ".".join([*parts, node.module] if node.module else parts)
            # ``from package import name``: the submodule ``name`` if there is one, else the package.
            found.update(f"{base}.{alias.name}" if _file(f"{base}.{alias.name}") else base for alias in node.names)
    return {module for module in found if _file(module)}


def project_modules(*roots: str) -> dict[str, Path]:
    """``roots`` and every project module they import, directly or through one another, by name."""
    found: dict[str, Path] = {}
    pending = list(roots)
    while pending:
        name = pending.pop()
        if name in found:
            continue
        path = _file(name)
        if path is None:
            raise ValueError(f"{name} is not a module of this checkout ({REPO_ROOT})")
        found[name] = path
        pending.extend(_imported(name, path) - set(found))
    return dict(sorted(found.items()))


def source_digest(*roots: str) -> bytes:
    """The sha256 of the name and source of every module ``project_modules`` finds from ``roots``."""
    digest = hashlib.sha256()
    for name, path in project_modules(*roots).items():
        source = path.read_bytes()
        digest.update(f"{name}\n{len(source)}\n".encode())
        digest.update(source)
    return digest.digest()
