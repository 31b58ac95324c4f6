"""Issue 8, point 14: a missing key file is never silently replaced; what needs no key goes on."""

from __future__ import annotations

import json

from tests.records.kit import open_store, record_one, small_photo, write_config
from tests.test_cli import edgescreen


def test_a_missing_key_is_never_replaced_and_sync_goes_on_without_it(tmp_path, retina_rgb, broker):
    config = write_config(tmp_path, broker.port)
    result_id = record_one(open_store(tmp_path), small_photo(retina_rgb)).result_id
    key = tmp_path / "records.key"
    key.unlink()
    for command in (["records", "show", result_id], ["erase", "--patient", "x"]):
        run = edgescreen(*command, config=config)
        assert run.returncode == 5 and "restore the key file from its backup" in run.stderr, run.stderr
        assert "ERROR records.unusable" in run.stderr  # `journalctl -p warning` shows why it stopped
    assert edgescreen("sync", "status", config=config).returncode == 0
    assert edgescreen("audit", "verify", config=config).returncode == 0
    assert not key.exists()  # on main: a new random key, and every sealed value lost
    assert edgescreen("sync", "run", "--until-drained", config=config).returncode == 0
    assert json.loads(edgescreen("sync", "status", "--json", config=config).stdout)["backlog"] == 0
    assert not key.exists()
