"""Verdict keys and signed verdicts for tests: a station key pair on disk, and a device configured with it."""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from edgescreen_wire.result import RESULT_V3
from edgescreen_wire.verdict_signature import read_private_key, write_key_pair


def station_key(directory: Path, name: str = "station-verdict") -> tuple[Ed25519PrivateKey, Path]:
    """A verdict key pair made as ``edgescreen-review verdicts keygen`` makes it: (private key, public file)."""
    public = directory / f"{name}.pub"
    write_key_pair(directory / f"{name}.key", public)
    return read_private_key(directory / f"{name}.key"), public


def trusting(*public_keys: Path) -> str:
    """The ``[sync]`` lines of a device given these verdict keys (they ask for signed verdicts)."""
    paths = ", ".join(f'"{path}"' for path in public_keys)
    return f'result_schema = "{RESULT_V3}"\nverdict_public_keys = [{paths}]\n'
