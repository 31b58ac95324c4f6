"""A device out of memory (a 2 GB board, the app, the sync service, a camera buffer) says so, in one
line, and records nothing half.

The failed allocation is injected at its boundary, not provoked with ``RLIMIT_AS``: under a cap the
failure point moves with the allocator, thread start-up and the libraries loaded (tried with a 12 MP
photo: at one cap OpenCV's own allocator refused, at another its worker threads could not be
spawned, at a third the encode passed), so such a test would not be deterministic. The archive's
``imencode`` returns ``False``, as OpenCV does when libjpeg's allocation fails (seen under a cap:
"can't encode data: unknown exception"); the TFLite interpreter's ``allocate_tensors``, where a
model's tensor arena is allocated, raises ``MemoryError`` (not provoked by a cap here).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import cv2
import numpy as np
import pytest

from firmware_app.cli import main
from firmware_app.inference import model as model_module
from firmware_app.records import images
from tests.conftest import other_copies
from tests.records.kit import write_config
from tests.test_cli import said_lines


def counts(directory: Path) -> tuple[int, int, int]:
    """Screenings, queued results and audit events: all three or none are written by a screening."""
    database = directory / "records.sqlite3"
    if not database.exists():
        return (0, 0, 0)
    connection = sqlite3.connect(database)
    try:
        return tuple(
            connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("screening", "outbox", "audit")
        )
    finally:
        connection.close()


class EncoderOutOfMemory:
    """OpenCV as ``records.images`` sees it, its JPEG encoder failing as it does when libjpeg's
    allocation fails; the preview's encoder and every other function are OpenCV's own."""

    def __getattr__(self, name: str) -> object:
        return getattr(cv2, name)

    @staticmethod
    def imencode(*args: object, **kwargs: object) -> tuple[bool, None]:
        return False, None


def starve_the_archive_encoder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(images, "cv2", EncoderOutOfMemory())


def with_language(config: Path, language: str) -> Path:
    config.write_text(config.read_text().replace("[device]\n", f'[device]\nlanguage = "{language}"\n', 1))
    return config


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", "The device ran out of memory: this screening was not recorded. Restart the device"),
        ("fr", "L'appareil manque de mémoire\u00a0: ce dépistage n'a pas été enregistré. Redémarrez l'appareil"),
    ],
)
def test_a_photo_that_cannot_be_encoded_for_want_of_memory_is_said_and_nothing_is_recorded(
    tmp_path, retina_jpeg, capsys, monkeypatch, language, words
):
    """On main: "the photo could not be encoded as JPEG", a ValueError, a traceback."""
    config = with_language(write_config(tmp_path, 1), language)
    assert main(["--config", str(config), "screen", "--modality", "fundus", str(retina_jpeg)]) == 0
    before = counts(tmp_path)
    capsys.readouterr()
    starve_the_archive_encoder(monkeypatch)

    (another,) = other_copies(retina_jpeg, tmp_path, 1)  # the same photo would not be screened again
    status = main(["--config", str(config), "screen", "--modality", "fundus", str(another)])
    err = capsys.readouterr().err
    assert status == 8
    (line,) = said_lines(err)
    assert words in line and "encoding the photo as JPEG" in line
    assert "Traceback" not in err
    assert counts(tmp_path) == before  # no screening, no queued result, no audit event


def test_a_model_that_cannot_be_loaded_for_want_of_memory_is_said_in_one_line(
    tmp_path, retina_jpeg, capsys, monkeypatch
):
    """On main: MemoryError and its traceback."""
    config = write_config(tmp_path, 1)
    original = model_module.interpreter_class

    def short_of_memory(runtime=None):
        name, interpreter = original(runtime)

        class Starved(interpreter):
            def allocate_tensors(self):
                raise MemoryError

        return name, Starved

    monkeypatch.setattr(model_module, "interpreter_class", short_of_memory)
    status = main(["--config", str(config), "screen", "--modality", "fundus", str(retina_jpeg)])
    err = capsys.readouterr().err
    assert status == 8
    (line,) = said_lines(err)
    assert "The device ran out of memory" in line and "Restart the device" in line and "loading the model" in line
    assert counts(tmp_path)[0:2] == (0, 0)


def test_a_bare_memory_error_is_named_in_the_line(tmp_path, retina_jpeg, capsys, monkeypatch):
    """A ``MemoryError`` no boundary turned into ``OutOfMemory`` (here: decoding the photo) has no
    text; the line named it as ``()``, since an exception is always true and ``error or ...`` never
    took its fallback."""
    config = write_config(tmp_path, 1)

    def starved(data: bytes, path: Path) -> None:
        raise MemoryError

    monkeypatch.setattr("firmware_app.capture.photo_to_screen.decode_frame", starved)
    status = main(["--config", str(config), "screen", "--modality", "fundus", str(retina_jpeg)])
    err = capsys.readouterr().err
    assert status == 8
    (line,) = said_lines(err)
    assert line.endswith("(MemoryError)") and "()" not in line


def test_a_frame_wider_than_jpeg_allows_is_not_said_to_be_out_of_memory():
    """``imencode`` also returns ``False`` for a side over JPEG's 65,500 pixels (a 70000x40 PNG passes
    ``read_frame``'s pixel limits): that is no failed allocation, and telling the nurse to restart
    the device would not help. It stays the encoder's refusal."""
    wide = np.zeros((40, 70_000, 3), np.uint8)
    with pytest.raises(ValueError, match="could not be encoded as JPEG"):
        images.jpeg_bytes(wide)
