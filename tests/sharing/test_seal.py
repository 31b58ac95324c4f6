"""Sealing to the station: only its private key opens a photo, only under the result it was sealed
for; a changed or cut byte is refused; the private key is kept 0600 and never overwritten."""

from __future__ import annotations

import os

import pytest

from edgescreen_wire.sealed_image import (
    OVERHEAD_BYTES,
    SealError,
    open_image,
    read_private_key,
    read_public_key,
    seal_image,
    write_key_pair,
)
from tests.sharing.kit import station_keys

RESULT, OTHER = "a" * 32, "b" * 32
PHOTO = bytes(range(256)) * 40


@pytest.fixture()
def keys(tmp_path):
    private, public = station_keys(tmp_path)
    return read_private_key(private), read_public_key(public)


def test_a_sealed_photo_opens_with_the_station_key_under_its_result(keys):
    sealed = seal_image(PHOTO, keys[1], RESULT)
    assert len(sealed) == len(PHOTO) + OVERHEAD_BYTES
    assert PHOTO[:64] not in sealed
    assert seal_image(PHOTO, keys[1], RESULT) != sealed  # a fresh ephemeral key each time
    assert open_image(sealed, keys[0], RESULT) == PHOTO


@pytest.mark.parametrize(
    "damage",
    [
        lambda sealed: sealed[:-1],
        lambda sealed: sealed[: len(sealed) // 2],
        lambda sealed: sealed[:10],
        lambda sealed: sealed[:100] + bytes([sealed[100] ^ 1]) + sealed[101:],
        lambda sealed: bytes([sealed[0] ^ 0x80]) + sealed[1:],  # the ephemeral key itself
    ],
    ids=["last byte cut", "half", "shorter than the overhead", "one bit of the photo", "one bit of the key"],
)
def test_an_altered_or_cut_photo_is_refused(keys, damage):
    with pytest.raises(SealError, match=r"does not open|too short"):
        open_image(damage(seal_image(PHOTO, keys[1], RESULT)), keys[0], RESULT)


def test_a_photo_moved_to_another_result_or_sealed_to_another_key_is_refused(tmp_path, keys):
    sealed = seal_image(PHOTO, keys[1], RESULT)
    with pytest.raises(SealError, match="another result"):
        open_image(sealed, keys[0], OTHER)
    other_private, _ = station_keys(tmp_path / "other")
    with pytest.raises(SealError):
        open_image(sealed, read_private_key(other_private), RESULT)


def test_the_private_key_is_0600_refused_when_others_may_read_it_and_never_overwritten(tmp_path):
    private, public = station_keys(tmp_path)
    assert private.stat().st_mode & 0o777 == 0o600
    before = private.read_bytes()
    with pytest.raises(SealError, match="never overwritten"):
        write_key_pair(private, public)
    assert private.read_bytes() == before
    os.chmod(private, 0o640)
    with pytest.raises(SealError, match="chmod 600"):
        read_private_key(private)
    with pytest.raises(SealError, match=r"X25519 public key|PEM public key"):
        read_public_key(private)
