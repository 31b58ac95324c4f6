"""``edgescreen-review`` as an administrator uses it: config errors, devices, users, the audit check."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from sqlalchemy import Engine, update

from review_station.storage.tables import audit
from tests.conftest import PROJECT_ROOT
from tests.review_station.kit import station_config


def review(config: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "review_station", "--config", str(config), *args]
    return subprocess.run(command, cwd=PROJECT_ROOT, input=stdin, capture_output=True, text=True, timeout=60)


def test_a_bad_config_names_the_file_and_the_key(tmp_path) -> None:
    path = tmp_path / "review.toml"
    path.write_text("[web]\nlockout_failures = 0\n")
    done = review(path, "devices", "list")
    assert done.returncode == 2 and f"{path}: [web].lockout_failures: expected a value from 1 to 100" in done.stderr
    path.write_text("[mqtt]\n")
    assert "[mqtt]: unknown section" in review(path, "devices", "list").stderr


def test_devices_users_and_the_audit_log_from_the_command_line(tmp_path, engine: Engine) -> None:
    config = station_config(tmp_path, engine, 1883)
    assert review(config, "devices", "add", "cam-01", "--site", "site-a").returncode == 0
    again = review(config, "devices", "add", "cam-01", "--site", "site-b")
    assert again.returncode == 1 and "already enrolled" in again.stderr
    retired = review(config, "devices", "retire", "cam-01")
    assert retired.returncode == 0 and "revoke it (broker/revoke-certs CA_DIR cam-01)" in retired.stdout
    listed = [json.loads(line) for line in review(config, "devices", "list", "--json").stdout.splitlines()]
    assert listed == [{"device": "cam-01", "site": "site-a", "active": False, "status": None, "last_seen": None}]
    added = review(config, "users", "add", "ana", "--role", "admin", stdin="a long enough secret\n")
    assert added.returncode == 0, added.stderr
    short = review(config, "users", "add", "bo", "--role", "reviewer", stdin="short\n")
    assert short.returncode == 1 and "at least 12" in short.stderr
    assert review(config, "users", "disable", "ana").returncode == 0
    verified = review(config, "audit", "verify")
    assert verified.returncode == 0 and "intact: 4 events" in verified.stdout
    with engine.begin() as connection:
        connection.execute(update(audit).where(audit.c.seq == 2).values(details='{"action":"nothing"}'))
    broken = review(config, "audit", "verify")
    assert broken.returncode == 4 and "event 2 (device_change) was altered" in broken.stderr


def test_an_export_for_a_site_that_is_not_a_site_id_is_refused(tmp_path, engine: Engine) -> None:
    config = station_config(tmp_path, engine, 1883)
    out = tmp_path / "export.csv"
    dates = ("--from", "2026-04-01", "--to", "2026-04-30", "--out", str(out))
    done = review(config, "export", "--format", "csv", "--site", "../site-a", *dates)
    assert done.returncode == 1 and "site: '../site-a' does not match" in done.stderr and not out.exists()
