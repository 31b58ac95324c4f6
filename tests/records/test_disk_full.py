"""A really full disk: a 16 MiB tmpfs is filled with screenings until the file system says no."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from firmware_app.records.store import StorageFull
from tests.records.kit import open_store, record_one, small_photo


@pytest.fixture()
def tiny_filesystem(tmp_path):
    mount_point = tmp_path / "tiny"
    mount_point.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mount_point)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {mounted.stderr.decode().strip()}")
    yield mount_point
    subprocess.run(["umount", "-l", str(mount_point)], check=True)


def fill_until_refused(store, photo) -> list[str]:
    recorded = []
    with pytest.raises(StorageFull) as refusal:
        for _ in range(1000):
            recorded.append(record_one(store, photo).result_id)
    assert recorded, refusal.value
    return recorded


def check_nothing_lost(directory, recorded: list[str]) -> None:
    store = open_store(directory)
    db = store.records.connection
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert [r[0] for r in db.execute("SELECT result_id FROM screening ORDER BY rowid")] == recorded
    assert [r[0] for r in db.execute("SELECT result_id FROM outbox ORDER BY seq")] == recorded
    for result_id, sealed in db.execute("SELECT result_id, sealed FROM image"):
        assert store.records.sealer.open(sealed, f"image:{result_id}:0").startswith(b"\xff\xd8")
    assert store.records.verify_audit().intact
    store.records.close()


def test_the_reserve_refuses_screenings_before_the_disk_is_full(tiny_filesystem, retina_rgb):
    store = open_store(tiny_filesystem, reserve_bytes=2**20)
    recorded = fill_until_refused(store, small_photo(retina_rgb, 512))
    store.records.close()
    assert shutil.disk_usage(tiny_filesystem).free >= 2**20  # the reserve was kept
    check_nothing_lost(tiny_filesystem, recorded)


def test_when_the_file_system_itself_is_full_nothing_is_half_written(tiny_filesystem, retina_rgb):
    # A reserve of minus 1 GiB takes the device's own check out of the way: SQLite meets ENOSPC.
    store = open_store(tiny_filesystem, reserve_bytes=-(2**30))
    recorded = fill_until_refused(store, small_photo(retina_rgb, 512))
    store.records.close()
    check_nothing_lost(tiny_filesystem, recorded)
