"""The bundle manifest: what a model bundle holds, signed by its publisher, checked before install.

A bundle is a folder: the ``.tflite``, its card, ``reference/`` images, ``manifest.json`` and
``manifest.sig`` (the Ed25519 signature of the manifest's exact bytes, base64). The manifest lists
the sha256 of every other file, the model's id and version, the oldest app that can run it, and the
score the model gave each reference image when it was signed. Verification re-runs those images on
this device's interpreter: a model that loads but computes something else (a wrong card, a broken
runtime) is refused before it can triage anyone, while the other runtime's own rounding (as many of
the output's quantisation steps as the manifest signs) is not (``score_agreement``).

Schemas: ``edgescreen.model-bundle/2`` signs ``score_steps``, how many output steps a runtime's score
of a reference image may differ from the signed one. ``/1`` (signed before) has no such field, and its
scores agree within its ``score_tolerance`` alone, as it was signed. A device older than ``/2`` refuses
a ``/2`` manifest by its schema, rather than ignore a field that narrows what it would accept.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from firmware_app import __version__
from firmware_app.bundles.keys import key_id, signature_holds, trusted_keys
from firmware_app.bundles.score_agreement import output_steps_apart, scores_agree
from firmware_app.capture.image_file import ImageError, read_frame
from firmware_app.inference.interpreter import RuntimeMissing
from firmware_app.inference.model import CARD_FILE, ModelError, TriageModel

MANIFEST_FILE = "manifest.json"
SIGNATURE_FILE = "manifest.sig"
STORE = ".bundles"  # where an install keeps the copies it made (bundles.install), each one signed
REFERENCE_DIR = "reference"
MANIFEST_SCHEMA = "edgescreen.model-bundle/2"
SCHEMA_WITHOUT_STEPS = "edgescreen.model-bundle/1"
# The probability tolerance the project signs: on the references' scores at most 1.2 output steps
# (melanoma's near 0.0069, where a step is 0.0008; a fraction of one on the others), under the signed
# steps, so on the steep part the steps decide; it accepts saturated scores, whose logits differ by
# many steps for nothing. Manifests used to sign 0.02: on a melanoma reference near its 0.006
# threshold that would accept anything from 0 to 0.027, whichever side of the threshold.
SCORE_TOLERANCE = 0.001
# The output steps the project signs. Its reference images lie on the models' steep parts
# (``models.build.reference_images``), where ai-edge-litert and tflite-runtime 2.14 score them 2
# steps apart at most (dr-referable's 0, 1 and 2; melanoma's, averaged over four flips, 0.25, 0.25
# and 0.5: ``bench/runtime_agreement.py``, 2026-12-03), so 3 holds them with a step to spare (an ARM
# build of either runtime is not measured). It holds these images, not every photo: on 406 real
# photos dr-referable's outputs lie up to 12 steps apart (63 beyond 3), so a reference drawn anew is
# measured again, and CI's tflite-runtime stage (tests/inference/test_signed_bundles_here.py) refuses
# one in that tail before it ships. Near dr-referable's 0.244 threshold a step is about 0.025.
SCORE_STEPS = 3
# The most any manifest may sign: beyond it (a logit either way) the check no longer tells a runtime's
# rounding from a model that computes something else; a publisher's slip is refused, not trusted.
MAX_SCORE_STEPS = 8


class BundleError(ModelError):
    """A model bundle is refused; the message is one sentence that names the bundle and what is wrong."""


class InstalledCopyGone(BundleError):
    """The active link names a copy in the install's store that is gone, deleted whole: not a model never
    installed (``ModelMissing``: install it or correct ``[models]``) but one to install again or roll back."""


@dataclass(frozen=True)
class Manifest:
    model_id: str
    version: str
    min_app_version: str
    files: dict[str, str]
    reference_scores: dict[str, float]
    tolerance: float
    score_steps: int
    key_id: str
    digest: str


def version_key(version: str) -> tuple[int, ...]:
    """Dotted numbers compare as numbers (1.10 after 1.9); anything else cannot be ordered."""
    try:
        return tuple(int(part) for part in version.split("."))
    except ValueError as error:
        raise BundleError(f"version {version!r} is not dotted numbers (such as 1.2.0)") from error


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        for block in iter(lambda: source.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _bundle_files(bundle: Path) -> list[str]:
    """Every file of the bundle but the manifest and its signature, as relative POSIX paths."""
    skip = {MANIFEST_FILE, SIGNATURE_FILE}
    return sorted(p.relative_to(bundle).as_posix() for p in bundle.rglob("*") if p.is_file() and p.name not in skip)


def _reference_images(bundle: Path) -> list[str]:
    return [name for name in _bundle_files(bundle) if name.startswith(f"{REFERENCE_DIR}/")]


def reference_scores(model: TriageModel, bundle: Path, images: list[str]) -> dict[str, float]:
    try:
        return {name: model.predict(read_frame(bundle / name).pixels).score for name in images}
    except ImageError as error:
        raise BundleError(f"{bundle}: a reference image cannot be read ({error})") from error


def sign_bundle(bundle: Path, private_key: Any, threads: int = 2) -> Manifest:
    """Write ``manifest.json`` and ``manifest.sig`` for a bundle whose card and model agree."""
    model = _load(bundle, threads)
    images = _reference_images(bundle)
    if not images:
        raise BundleError(f"{bundle}: no reference images under {REFERENCE_DIR}/ to pin the model's scores")
    document = {
        "schema": MANIFEST_SCHEMA,
        "model_id": model.card.id,
        "version": model.card.version,
        "min_app_version": __version__,
        "files": {name: _sha256(bundle / name) for name in _bundle_files(bundle)},
        "reference_scores": reference_scores(model, bundle, images),
        "score_tolerance": SCORE_TOLERANCE,
        "score_steps": SCORE_STEPS,
        "key_id": key_id(private_key.public_key()),
    }
    write_signed(bundle, document, private_key)
    return read_manifest(bundle)


def write_signed(bundle: Path, document: dict[str, Any], private_key: Any) -> None:
    """Write a manifest document and its signature (the manifest first: a signature never lacks its text)."""
    text = (json.dumps(document, indent=2, sort_keys=True) + "\n").encode()
    (bundle / MANIFEST_FILE).write_bytes(text)
    (bundle / SIGNATURE_FILE).write_text(base64.b64encode(private_key.sign(text)).decode() + "\n")


def _score_steps(bundle: Path, document: dict[str, Any]) -> int:
    """The output steps a manifest signs: none for a ``/1`` manifest, which predates them."""
    if document["schema"] == SCHEMA_WITHOUT_STEPS:
        return 0
    if document["schema"] != MANIFEST_SCHEMA:
        raise BundleError(f"{bundle}: the manifest is not {MANIFEST_SCHEMA} (nor {SCHEMA_WITHOUT_STEPS})")
    steps = document["score_steps"]
    if type(steps) is not int or not 0 <= steps <= MAX_SCORE_STEPS:  # not a bool, a float or a NaN
        raise BundleError(f"{bundle}: the manifest's score steps {steps!r} are not a whole number 0-{MAX_SCORE_STEPS}")
    return steps


def _parse(bundle: Path, text: bytes) -> Manifest:
    try:
        document = json.loads(text)
        score_steps = _score_steps(bundle, document)
        version_key(document["version"])
        reference_scores = {str(k): float(v) for k, v in document["reference_scores"].items()}
        tolerance = float(document["score_tolerance"])
        # Written so a NaN (which json reads) fails them too: it would pass every score comparison.
        if not all(0.0 <= score <= 1.0 for score in reference_scores.values()):
            raise BundleError(f"{bundle}: the manifest's reference scores are not all in [0, 1]")
        if not 0.0 < tolerance <= 1.0:
            raise BundleError(f"{bundle}: the manifest's score tolerance {tolerance} is not in (0, 1]")
        return Manifest(
            model_id=str(document["model_id"]),
            version=document["version"],
            min_app_version=document["min_app_version"],
            files={str(k): str(v) for k, v in document["files"].items()},
            reference_scores=reference_scores,
            tolerance=tolerance,
            score_steps=score_steps,
            key_id=str(document["key_id"]),
            digest=hashlib.sha256(text).hexdigest(),
        )
    except (ValueError, KeyError, TypeError, AttributeError, OverflowError) as error:  # a 400-digit number: overflow
        raise BundleError(f"{bundle}: the manifest is not a valid {MANIFEST_SCHEMA} ({error!r})") from error


def read_manifest(bundle: Path) -> Manifest:
    """The manifest, unverified: for reading what is installed, never for trusting a new bundle."""
    try:
        return _parse(bundle, (bundle / MANIFEST_FILE).read_bytes())
    except OSError as error:
        raise BundleError(f"{bundle}: no readable {MANIFEST_FILE} ({error.strerror})") from error


def _check_signature(bundle: Path, keys: dict[str, Any]) -> bytes:
    try:
        text = (bundle / MANIFEST_FILE).read_bytes()
    except OSError as error:
        raise BundleError(f"{bundle}: no readable {MANIFEST_FILE}, so it cannot be verified") from error
    try:
        signature = base64.b64decode((bundle / SIGNATURE_FILE).read_text().strip(), validate=True)
    except OSError as error:
        raise BundleError(f"{bundle}: no readable {SIGNATURE_FILE}: the bundle is not signed") from error
    except (ValueError, binascii.Error) as error:
        raise BundleError(f"{bundle}: {SIGNATURE_FILE} is not a base64 signature") from error
    if not any(signature_holds(key, signature, text) for key in keys.values()):
        raise BundleError(f"{bundle}: {_unverified_because(text, keys)}")
    return text


def _unverified_because(text: bytes, keys: dict[str, Any]) -> str:
    """Why no trusted key verifies the manifest, by the key its ``key_id`` names (unverified, so only
    said, never trusted): the technician looks for that key, which a list of the trusted ones never named."""
    trusted = ", ".join(sorted(keys))
    try:
        named = str(json.loads(text)["key_id"])
    except (ValueError, KeyError, TypeError):
        return (
            f"the signature does not verify with any trusted key ({trusted}): the manifest was changed or "
            "signed with a key this device does not trust"
        )
    if named in keys:
        return f"the signature does not verify with key {named}, which this device trusts: the manifest was changed"
    return f"its manifest names key {named}, which this device does not trust; trusted: {trusted}"


def _check_files(bundle: Path, manifest: Manifest) -> None:
    present = set(_bundle_files(bundle))
    for name, expected in sorted(manifest.files.items()):
        if name not in present:
            raise BundleError(f"{bundle}: {name} is listed in the manifest but missing from the bundle")
        if _sha256(bundle / name) != expected:
            raise BundleError(f"{bundle}: {name} does not match its sha256 in the manifest: changed or corrupt")
    extra = sorted(present - set(manifest.files))
    if extra:
        raise BundleError(f"{bundle}: {extra[0]} is in the bundle but not in the signed manifest")
    if CARD_FILE not in manifest.files:
        raise BundleError(f"{bundle}: the manifest lists no {CARD_FILE}")


def _load(bundle: Path, threads: int) -> TriageModel:
    """The loader's own checks (card against ``.tflite``, tensors, a warm-up run), as a bundle refusal."""
    try:
        return TriageModel(bundle, threads=threads)
    except RuntimeMissing:
        raise  # no bundle loads: the machine's fault, not this bundle's
    except ModelError as error:
        raise BundleError(f"{bundle}: the model does not load as its card describes ({error})") from error


def _check_model(bundle: Path, manifest: Manifest, threads: int) -> TriageModel:
    model = _load(bundle, threads)
    card = model.card
    if (card.id, card.version) != (manifest.model_id, manifest.version):
        raise BundleError(
            f"{bundle}: the card says {card.id} {card.version}, the manifest says "
            f"{manifest.model_id} {manifest.version}"
        )
    if manifest.files.get(card.file) != card.sha256:
        raise BundleError(f"{bundle}: the card's sha256 of {card.file} is not the one the manifest signs")
    scores = reference_scores(model, bundle, sorted(manifest.reference_scores))
    activation, step = card.output.activation, model.output_step
    for name, expected in sorted(manifest.reference_scores.items()):
        if not scores_agree(activation, step, scores[name], expected, manifest.tolerance, manifest.score_steps):
            steps = output_steps_apart(activation, step, scores[name], expected)
            apart = "" if steps is None else f", {steps:.1f} output steps apart"
            raise BundleError(
                f"{bundle}: reference image {name} scored {scores[name]:.4f} here, the manifest expects "
                f"{expected:.4f}{apart} (tolerance {manifest.tolerance} or {manifest.score_steps} output "
                "steps): the model does not compute what was signed"
            )
    if not manifest.reference_scores:
        raise BundleError(f"{bundle}: the manifest pins no reference scores")
    return model


def _verified(bundle: Path, keys: dict[str, Any], threads: int) -> tuple[Manifest, TriageModel]:
    """Signature, then every file's hash, the app version, the card, the model and its reference
    scores; the manifest and the model, loaded once for all of it."""
    text = _check_signature(bundle, keys)
    manifest = _parse(bundle, text)
    _check_files(bundle, manifest)
    if version_key(manifest.min_app_version) > version_key(__version__):
        raise BundleError(f"{bundle}: needs EdgeScreen {manifest.min_app_version} or newer (this is {__version__})")
    return manifest, _check_model(bundle, manifest, threads)


def verify_bundle(bundle: Path, keys: dict[str, Any], threads: int = 2) -> Manifest:
    """Signature, then every file's hash, the app version, the card, the model and its reference scores."""
    return _verified(bundle, keys, threads)[0]


def is_signed_bundle(model_dir: Path) -> bool:
    """Whether a model folder is a signed bundle (a manifest beside the model), which is verified in full."""
    return (model_dir / MANIFEST_FILE).is_file()


def held_to_signature(model_dir: Path) -> bool:
    """Whether the screening loads the folder only as a verified signed bundle: one with its manifest, and
    any copy an install made, its manifest removed too (refused then, ``load_installed``), never a bare
    development folder, which loads unsigned: what ``edgescreen models --json`` calls signed."""
    return is_signed_bundle(model_dir) or _is_installed_copy(model_dir)


def load_installed(model_dir: Path, keys_dir: Path, threads: int) -> TriageModel:
    """The model of a configured folder, verified as it is about to triage: a signed bundle in full,
    as when it was installed, every time it is loaded, so an edited card (a threshold moved), a
    changed reference image or a key no longer trusted is refused by the screening itself, not only
    by ``doctor``; a bare model folder (a development build, no manifest) against its card only, and
    named unsigned wherever models are listed (``installed_name``). A copy an install made is never
    bare: without its manifest it is refused, or removing the manifest would skip the verification."""
    if installed_copy_gone(model_dir):
        raise InstalledCopyGone(
            f"{model_dir}: the copy its install made ({model_dir.resolve()}) is gone: install its signed bundle "
            f"again (edgescreen models install), or return to the previous one (edgescreen models rollback "
            f"{model_dir.name})"
        )
    if is_signed_bundle(model_dir):
        return _verified(model_dir, trusted_keys(keys_dir), threads)[1]
    if _is_installed_copy(model_dir):
        raise BundleError(
            f"{model_dir}: the copy its install made ({model_dir.resolve()}) has no {MANIFEST_FILE}, so it cannot "
            "be verified and is not loaded unsigned: install its signed bundle again (edgescreen models install), "
            "which repairs the copy"
        )
    return TriageModel(model_dir, threads=threads)


def _is_installed_copy(model_dir: Path) -> bool:
    """Whether the folder is in an install's store (the active link's target, or the store named
    directly): only a development build's own folder is ever bare."""
    return model_dir.is_dir() and _in_store(model_dir)


def installed_copy_gone(model_dir: Path) -> bool:
    """Whether the folder is an install's link to a copy in its store that is gone: a model installed
    then deleted, whose remedies (install it again, roll back) are not a missing model's."""
    return model_dir.is_symlink() and not model_dir.exists() and _in_store(model_dir)


def _in_store(model_dir: Path) -> bool:
    return model_dir.resolve().parent.name == STORE


# The state word of ``installed_name``, English; a screen says it in the nurse's language (wording.py).
SIGNED, UNSIGNED = "signed", "unsigned"


def installed_name(model: TriageModel, model_dir: Path) -> str:
    """How the checks name a loaded model: "id version (signed)", or "(unsigned)" for a bare folder."""
    return f"{model.card.id} {model.card.version} ({SIGNED if is_signed_bundle(model_dir) else UNSIGNED})"
