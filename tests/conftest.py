"""Shared fixtures: real images the tests can use without ../shared, and the committed models."""

from __future__ import annotations

import errno
import logging
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import ExifTags, Image

from firmware_app.config import CONFIG_ENV, DEV_DATA_DIR
from tests.records.kit import closing_what_the_test_left_open, records_table

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MODELS_DIR = PROJECT_ROOT / "models"
SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"


def _files_under(folder: Path) -> dict[str, tuple[int, int]]:
    """Each file under ``folder`` (none when it does not exist), by its path relative to the checkout,
    with its size and modification time: what a test that wrote there changed."""
    return {
        str(path.relative_to(PROJECT_ROOT)): (path.stat().st_size, path.stat().st_mtime_ns)
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def _tracked_changes() -> dict[str, tuple[int, int] | None]:
    """The tracked files ``git status`` lists as changed, each with its size and modification time (None:
    deleted), so a file changed again after the session began shows too. Nothing outside a git checkout
    (a copy made by ``git archive``). Python sources aside: a developer edits them while a run goes on,
    and no test writes one (the data a test could write is models, profiles, configs and samples)."""
    listed = subprocess.run(
        ["git", "-c", f"safe.directory={PROJECT_ROOT}", "status", "--porcelain=v1", "-z", "--untracked-files=no"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
    )
    if listed.returncode != 0:
        return {}
    changed: dict[str, tuple[int, int] | None] = {}
    entries = iter(listed.stdout.split("\0"))
    for entry in entries:
        if not entry:
            continue
        if entry[0] in "RC":  # a rename or copy staged: its former path follows, no entry of its own
            next(entries, None)
        if entry.endswith(".py"):
            continue
        path = PROJECT_ROOT / entry[3:]
        changed[entry[3:]] = (path.stat().st_size, path.stat().st_mtime_ns) if path.exists() else None
    return changed


def _changed(before: dict[str, object], after: dict[str, object]) -> list[str]:
    return sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))


@pytest.fixture(scope="session", autouse=True)
def checkout_left_as_found() -> Iterator[None]:
    """The session fails if it changed the checkout's default data folder (``var/``: the records
    ``scripts/run`` opens, the review station's database and keys) or a tracked file. A test that ran
    the device on a config without ``[records]`` wrote its screenings there, and a technician who ran
    the tests on a device before its first use found test patients in its records. The suite runs in
    one process (no pytest-xdist), so one snapshot before and one after see every test."""
    data, tracked = _files_under(DEV_DATA_DIR), _tracked_changes()
    yield
    changed = _changed(data, _files_under(DEV_DATA_DIR)) + _changed(tracked, _tracked_changes())
    assert not changed, (
        "the tests changed the checkout's own files (give the test a config with records_table(tmp_path), "
        f"or its files a tmp_path): {', '.join(changed)}"
    )


@pytest.fixture(autouse=True)
def device_data_in_its_own_folder(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """A command run with no ``--config`` reads ``$EDGESCREEN_CONFIG`` (the product's own order, before
    /etc/edgescreen/config.toml and the embedded defaults): one holding only ``[records]`` in a folder
    of the test's own, so such a test still runs on every other embedded default, and neither the
    checkout's ``var/`` nor, on a device, the installed config's records take its screenings."""
    folder = tmp_path_factory.mktemp("device-data")
    config = folder / "config.toml"
    config.write_text(records_table(folder / "var"))
    monkeypatch.setenv(CONFIG_ENV, str(config))


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


def other_copies(photo: Path, folder: Path, count: int) -> list[Path]:
    """``count`` copies of a JPEG in ``folder``, the same picture in other bytes each (a comment segment
    naming the copy after its SOI): a batch of as many photos, as a camera's shots of one eye are,
    where the same file given twice is one photo, screened once (``cli._screen_each``)."""
    data = photo.read_bytes()
    copies = []
    for number in range(count):
        comment = f"copy {number}".encode()
        segment = b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment
        copy = folder / f"{photo.stem}-{number}{photo.suffix}"
        copy.write_bytes(data[:2] + segment + data[2:])
        copies.append(copy)
    return copies


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


# The files ``appearing_on_open`` makes: at the value, when the code under test opens a file whose
# name ends in the key.
_ON_OPEN: dict[str, Path] = {}


@cache
def _watch_opens() -> None:
    """Python's own audit event for every file opened (``open``, ``os.open``), installed once: an audit
    hook stays for the process, and does nothing while ``_ON_OPEN`` is empty."""

    def heard(event: str, arguments: tuple) -> None:
        if event == "open" and _ON_OPEN:
            for ending, path in list(_ON_OPEN.items()):
                if str(arguments[0]).endswith(ending):
                    del _ON_OPEN[ending]  # before the write below, which opens a file too
                    path.write_text("precious")

    sys.addaudithook(heard)


@contextmanager
def appearing_on_open(ending: str, path: Path) -> Iterator[Path]:
    """A file at ``path`` ("precious"), made when the code under test, in this process, first opens a
    file whose name ends in ``ending`` (its temporary copy): after its check that ``path`` is free,
    before its rename onto it. Another backup to the same name, a technician's copy, in the real code."""
    _watch_opens()
    _ON_OPEN[ending] = path
    try:
        yield path
    finally:
        _ON_OPEN.pop(ending, None)


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
