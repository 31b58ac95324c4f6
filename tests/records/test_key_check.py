"""The stored key check: slow and salted, so a copy of the card is no fast test of candidate keys."""

from __future__ import annotations

import hashlib

import pytest

from firmware_app.records.database import RecordsError
from firmware_app.records.key_check import N, make_check, matches
from firmware_app.records.store import KEY_CHECK, LEGACY_KEY_FINGERPRINT
from tests.records.kit import open_store, record_one, small_photo


def legacy_fingerprint(key: bytes) -> str:
    """The check the releases before kept: what tests/../attack/carve.py matched freed blocks against."""
    return hashlib.sha256(b"edgescreen-records-key\0" + key).hexdigest()[:16]


def on_disk(directory) -> bytes:
    return b"".join(path.read_bytes() for path in directory.glob("records.sqlite3*"))


def test_the_records_keep_a_salted_scrypt_check_and_no_fast_fingerprint(tmp_path):
    store = open_store(tmp_path)
    record_one(store, small_photo())
    key = (tmp_path / "records.key").read_bytes()
    check = store.records.meta(KEY_CHECK)
    assert check.startswith(f"scrypt${N}$8$1$") and matches(check, key)
    assert store.records.meta(LEGACY_KEY_FINGERPRINT) is None
    assert legacy_fingerprint(key).encode() not in on_disk(tmp_path)
    assert make_check(key) != make_check(key)  # salted: two records with one key share no check
    store.records.close()


def test_records_of_the_release_before_have_their_fast_fingerprint_replaced_on_first_open(tmp_path):
    store = open_store(tmp_path)
    record_one(store, small_photo())
    key = (tmp_path / "records.key").read_bytes()
    db = store.records.connection
    db.execute("DELETE FROM meta WHERE key = ?", (KEY_CHECK,))  # as the release before left them
    db.execute("INSERT INTO meta (key, value) VALUES (?, ?)", (LEGACY_KEY_FINGERPRINT, legacy_fingerprint(key)))
    store.records.close()

    (tmp_path / "records.key").write_bytes(bytes(32))
    with pytest.raises(RecordsError, match="not the key these records were sealed with"):
        open_store(tmp_path)  # the old check still catches a wrong key
    (tmp_path / "records.key").write_bytes(key)

    store = open_store(tmp_path)
    assert matches(store.records.meta(KEY_CHECK), key)
    assert store.records.meta(LEGACY_KEY_FINGERPRINT) is None
    assert legacy_fingerprint(key).encode() not in on_disk(tmp_path)  # not in the file, nor in its WAL
    store.records.close()


def test_a_garbled_check_is_damage_not_a_wrong_key(tmp_path):
    store = open_store(tmp_path)
    store.records.connection.execute(
        "UPDATE meta SET value = 'scrypt$1048576$8$1$AA==$AA==' WHERE key = ?", (KEY_CHECK,)
    )
    store.records.close()
    with pytest.raises(RecordsError, match="damaged"):
        open_store(tmp_path)


def test_one_check_costs_a_scrypt_at_n_2_14_and_r_8(monkeypatch):
    """What an open pays, once, and every candidate key a card's reader tries (N=2^14, r=8, tens of
    milliseconds of a core): counted in the real scrypts run and their cost, which a busy machine does
    not change as it does their time."""
    key = bytes(range(32))
    check = make_check(key)
    costs: list[tuple[int, int]] = []
    real = hashlib.scrypt

    def counted(password: bytes, *, salt: bytes, n: int, r: int, **rest: int) -> bytes:
        costs.append((n, r))
        return real(password, salt=salt, n=n, r=r, **rest)

    monkeypatch.setattr(hashlib, "scrypt", counted)
    assert matches(check, key) and not matches(check, bytes(32))
    assert costs == [(2**14, 8)] * 2
