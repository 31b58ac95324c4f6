"""Test bundles made from the committed melanoma model, signed with keys each test makes."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from firmware_app.bundles.keys import generate_key, load_private_key
from firmware_app.bundles.manifest import MANIFEST_FILE, SIGNATURE_FILE, sign_bundle, write_signed
from tests.conftest import MODELS_DIR
from tests.records.kit import write_config

SOURCE = MODELS_DIR / "melanoma"


def make_key(directory: Path, name: str = "publisher"):
    """A private key and a trusted-keys folder holding its public key."""
    public = generate_key(directory / "keys" / name)
    trusted = directory / "trusted-keys"
    trusted.mkdir(exist_ok=True)
    shutil.copy(public, trusted / f"{name}.pub")
    return load_private_key(directory / "keys" / name), trusted


def signed_bundle(target: Path, key, version: str = "1.0.0") -> Path:
    """A copy of the committed melanoma bundle as ``version`` (so the tests do not follow the committed
    model's own version), signed with ``key`` (its reference scores measured)."""
    shutil.copytree(SOURCE, target, ignore=shutil.ignore_patterns(MANIFEST_FILE, SIGNATURE_FILE))
    _set_card_version(target / "card.json", version)
    sign_bundle(target, key)
    return target


def _set_card_version(card_path: Path, version: str) -> None:
    card = json.loads(card_path.read_text())
    card["version"] = version
    card_path.write_text(json.dumps(card, indent=2))


def manifest_document(bundle: Path) -> dict:
    return json.loads((bundle / MANIFEST_FILE).read_text())


def with_version(source: Path, target: Path, version: str, key) -> Path:
    """The same model under another version: card and manifest changed and re-signed, scores kept."""
    shutil.copytree(source, target)
    card_path = target / "card.json"
    _set_card_version(card_path, version)
    document = manifest_document(target)
    document["version"] = version
    document["files"]["card.json"] = hashlib.sha256(card_path.read_bytes()).hexdigest()
    write_signed(target, document, key)
    return target


def device_config(directory: Path, trusted: Path) -> Path:
    """A config whose models live in a managed folder of ``directory``, with records for the audit."""
    extra = f'[models]\ndirectory = "{directory}/installed"\ntrusted_keys = "{trusted}"\n'
    return write_config(directory, port=1, extra=extra)
