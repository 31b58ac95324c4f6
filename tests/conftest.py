"""Shared fixtures: real images the tests can use without ../shared, and the committed models."""

from __future__ import annotations

import errno
import logging
import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import ExifTags, Image

from tests.records.kit import closing_what_the_test_left_open

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MODELS_DIR = PROJECT_ROOT / "models"
SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"


def as_from_a_terminal() -> None:
    """A command started from a terminal hears SIGHUP; a test run under ``nohup`` ignores it, and its
    children would inherit that (``stop_on_termination`` and the servers keep an ignored SIGHUP
    ignored). A ``preexec_fn``."""
    signal.signal(signal.SIGHUP, signal.SIG_DFL)


@pytest.fixture(autouse=True)
def edgescreen_logger_restored() -> Iterator[None]:
    """The ``edgescreen`` logger as it was before the test. A test that runs the command line in this
    process (``firmware_app.cli.main``) has ``events.setup_logging`` give the logger one handler on
    that test's ``sys.stderr`` (capsys's, closed when the test ends) and stop it propagating, which
    is right for the one command a process runs and wrong for the tests after it: every event any
    later test's threads logged (the app's camera owner closing its camera) hit a closed stream, a
    "--- Logging error ---" that CI showed when it fell between two tests' captures, and none
    reached caplog."""
    logger = logging.getLogger("edgescreen")
    handlers, level, propagate = logger.handlers[:], logger.level, logger.propagate
    yield
    logger.handlers[:], logger.level, logger.propagate = handlers, level, propagate


@pytest.fixture(autouse=True)
def kits_records_closed() -> Iterator[None]:
    """Records and recorders the records kit opened for a test are closed when it ends (``kit.py``)."""
    with closing_what_the_test_left_open():
        yield


@pytest.fixture()
def not_over_file_modes() -> list[str]:
    """A command prefix: root without the capabilities that pass over file modes (setpriv), so the
    program meets a folder of another user's (0700, say) as a user outside it would, the way a
    technician meets the installed device's. CI runs as root. Nor may it change another user's file
    as its owner could: SQLite, as root, hands a write-ahead log it opens to the records file's owner
    and sets an empty one's mode to the records file's (a log another user's was the device's own
    again after one run), which a user outside cannot."""
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        pytest.skip("needs root and setpriv (util-linux) to drop the capabilities over file modes")
    return ["setpriv", "--bounding-set", "-dac_override,-dac_read_search,-chown,-fowner"]


@pytest.fixture(scope="session")
def retina_rgb() -> np.ndarray:
    """A real healthy fundus photograph (scikit-image's CC0 ``retina``), 1411x1411 RGB."""
    from skimage import data

    return data.retina()


def write_rgb(path: Path, rgb: np.ndarray, params: list[int] | None = None) -> Path:
    """Write an RGB array as an image file (format from the suffix)."""
    assert cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), params or [])
    return path


# EXIF orientation -> how a camera held that way stores an upright scene (Pillow's exif_transpose undone).
_STORED_TURNED = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}


def write_oriented(path: Path, upright_rgb: np.ndarray, orientation: int, **save_options: object) -> Path:
    """Write an upright scene as a camera held turned does: pixels stored turned, and the EXIF
    orientation that tells a viewer how to turn them upright (format from the suffix)."""
    image = Image.fromarray(upright_rgb)
    if orientation in _STORED_TURNED:
        image = image.transpose(_STORED_TURNED[orientation])
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    image.save(path, exif=exif, **save_options)
    return path


@pytest.fixture()
def retina_jpeg(tmp_path: Path, retina_rgb: np.ndarray) -> Path:
    return write_rgb(tmp_path / "retina.jpg", retina_rgb)


@pytest.fixture()
def retina_referable_jpeg(tmp_path: Path, retina_rgb: np.ndarray) -> Path:
    """The healthy retina with thirty dark-red blots and thirty yellow spots painted over its field
    (haemorrhages and exudates, seeded): a photo the gate passes and ``dr-referable`` refers
    (tests that use it assert both)."""
    painted = retina_rgb.copy()
    height, width = painted.shape[:2]
    rng = np.random.default_rng(1)
    for spot in range(60):
        angle, radius = rng.uniform(0, 2 * np.pi), rng.uniform(0.1, 0.38) * width
        centre = (int(width / 2 + radius * np.cos(angle)), int(height / 2 + radius * np.sin(angle)))
        if spot % 2:
            cv2.circle(painted, centre, int(rng.uniform(6, 14)), (110, 20, 10), -1)
        else:
            cv2.circle(painted, centre, int(rng.uniform(4, 9)), (250, 230, 120), -1)
    return write_rgb(tmp_path / "retina-referable.jpg", painted)


@pytest.fixture()
def tiny_filesystem(tmp_path: Path) -> Iterator[Path]:
    """A 16 MiB tmpfs of its own, to fill or remount read-only (mounting needs root)."""
    mount_point = tmp_path / "tiny"
    mount_point.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mount_point)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {mounted.stderr.decode().strip()}")
    yield mount_point
    subprocess.run(["umount", "-l", str(mount_point)], check=True)


@contextmanager
def read_only_view(folder: Path, at: Path) -> Iterator[Path]:
    """``folder`` through a bind mount at ``at`` (``folder`` itself, over it) remounted read-only: a
    process that opens its files now meets a read-only file system, as after the kernel remounted a
    failing card so, while the files already open stay writable (a tmpfs with open files refuses
    ``remount,ro``). Skips where mounting is not allowed (needs root)."""
    at.mkdir(exist_ok=True)
    mounted = subprocess.run(["mount", "--bind", str(folder), str(at)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot bind-mount here (needs root): {mounted.stderr.decode().strip()}")
    try:
        subprocess.run(["mount", "-o", "remount,ro,bind", str(at)], check=True, capture_output=True)
        yield at
    finally:
        subprocess.run(["umount", "-l", str(at)], check=True)


def filled(directory: Path, leaving: int = 0) -> None:
    """Fill the file system of ``directory`` to the last byte, then give ``leaving`` bytes back: a
    disk with room for a small write and not for a larger one."""
    # Unbuffered: a buffered file would try its unwritten rest again on close and raise ENOSPC there.
    with open(directory / "filler", "wb", buffering=0) as filler:
        try:
            while True:
                filler.write(bytes(65536))
        except OSError as error:
            assert error.errno == errno.ENOSPC
        filler.truncate(filler.tell() - leaving)


def shared_data(relative: str) -> Path:
    """A path under ../shared/data, or a skip that says why when the data set is absent."""
    path = SHARED_DATA / relative
    if not path.exists():
        pytest.skip(f"needs the shared data set {path} (present in CI, absent here)")
    return path
