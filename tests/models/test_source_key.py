"""The build's framed views are cached under a key of every project module that frames them, found by
following imports (``models.build.source_key``): a change to a module ``preprocess`` imports frames
the views anew, where it used to serve the ones framed before it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from models.build.source_key import project_modules
from tests.conftest import PROJECT_ROOT

# A fundus view's cache key, computed by the copy of the project the current directory holds.
FUNDUS_KEY = """
from pathlib import Path
from firmware_app.inference.card import InputSpec
from models.build import data
spec = InputSpec(224, 224, "int8", "RGB", "fundus_fov", (127.5,) * 3, (127.5,) * 3)
print(data._cache_key([data.Sample(Path("eye.jpg"), 0, "patient")], spec, data.read_rgb, None))
"""


def test_the_modules_preprocess_imports_are_followed_and_only_the_projects():
    modules = project_modules("firmware_app.inference.preprocess")
    assert {"firmware_app.quality.measures", "firmware_app.quality.resample", "firmware_app.inference.card"} <= set(
        modules
    )
    assert all(path.is_relative_to(PROJECT_ROOT) and ".venv" not in path.parts for path in modules.values())


def test_a_name_outside_the_checkout_is_refused():
    with pytest.raises(ValueError, match="numpy is not a module of this checkout"):
        project_modules("numpy")


def _fundus_key(checkout: Path) -> str:
    run = subprocess.run([sys.executable, "-c", FUNDUS_KEY], cwd=checkout, capture_output=True, text=True, check=True)
    return run.stdout.strip()


@pytest.fixture(scope="module")
def checkout(tmp_path_factory) -> Path:
    """A copy of the project's Python packages, to be edited."""
    root = tmp_path_factory.mktemp("checkout")
    for package in ("firmware_app", "edgescreen_wire", "models/build"):
        shutil.copytree(PROJECT_ROOT / package, root / package, ignore=shutil.ignore_patterns("__pycache__"))
    return root


@pytest.mark.parametrize(
    ("module", "frames_anew"),
    [
        ("firmware_app/quality/measures.py", True),
        ("firmware_app/quality/resample.py", True),
        ("firmware_app/backup.py", False),
    ],
)
def test_a_change_to_a_module_the_fundus_view_imports_changes_its_cache_key(checkout, module, frames_anew):
    before = _fundus_key(checkout)
    with (checkout / module).open("a") as source:
        source.write("\n# changed\n")
    assert (_fundus_key(checkout) != before) is frames_anew
