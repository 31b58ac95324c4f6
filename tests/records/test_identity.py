"""The device and site the records were made under, kept once, and what records of the release before take."""

from __future__ import annotations

import sqlite3

from firmware_app.health.checks import Level, check_identity
from firmware_app.records.identity import DEVICE_KEY, SITE_KEY, Identity, recorded_identity
from firmware_app.records.store import OutboxLimits, Records, ScreeningStore
from tests.records.kit import DEVICE, open_store, record_one, small_photo

HERE = Identity(DEVICE.id, DEVICE.site)


def reopen(directory, identity: Identity | None) -> ScreeningStore:
    records = Records(directory / "records.sqlite3", directory / "records.key", identity=identity)
    return ScreeningStore(records, 0, OutboxLimits())


def test_the_first_open_keeps_the_config_s_ids_and_later_ones_never_change_them(tmp_path):
    reopen(tmp_path, HERE).records.close()
    moved = reopen(tmp_path, Identity(DEVICE.id, "clinic-b"))
    assert recorded_identity(moved.records.connection) == HERE
    check = check_identity(Identity(DEVICE.id, "clinic-b"), recorded_identity(moved.records.connection))
    assert (check.level, check.message_key) == (Level.RED, "health.identity.moved")
    assert check.values["records_site"] == DEVICE.site
    moved.records.close()


def test_the_installer_s_placeholder_ids_are_never_kept(tmp_path):
    reopen(tmp_path, Identity("change-me-device", "change-me-site")).records.close()
    store = reopen(tmp_path, HERE)
    assert recorded_identity(store.records.connection) == HERE
    assert check_identity(HERE, HERE).level is Level.GREEN
    store.records.close()


def back_to_the_release_before(directory) -> None:
    with sqlite3.connect(directory / "records.sqlite3") as db:
        db.execute("DELETE FROM meta WHERE key IN (?, ?)", (DEVICE_KEY, SITE_KEY))


def test_records_of_the_release_before_take_the_ids_of_their_newest_payload_not_an_edited_config(tmp_path):
    """Upgraded after the config was edited to another site: the queued payloads still say whom the
    records were made under, and doctor says the config is not theirs."""
    store = open_store(tmp_path)
    record_one(store, small_photo())  # its payload names cam-01 at clinic-7
    store.records.close()
    back_to_the_release_before(tmp_path)
    upgraded = reopen(tmp_path, Identity(DEVICE.id, "clinic-b"))
    assert recorded_identity(upgraded.records.connection) == HERE
    upgraded.records.close()


def test_records_of_the_release_before_with_nothing_queued_take_the_config_s_ids(tmp_path):
    reopen(tmp_path, None).records.close()
    back_to_the_release_before(tmp_path)
    upgraded = reopen(tmp_path, HERE)
    assert recorded_identity(upgraded.records.connection) == HERE
    upgraded.records.close()
