"""A model bundle is trusted only when its signature, files, card and reference scores all hold."""

from __future__ import annotations

import hashlib
import math
import os
import re
import shutil
import stat

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from firmware_app.bundles.keys import KeyFileError, key_id, load_private_key, trusted_keys
from firmware_app.bundles.manifest import (
    MANIFEST_FILE,
    MAX_SCORE_STEPS,
    SCHEMA_WITHOUT_STEPS,
    SCORE_STEPS,
    SIGNATURE_FILE,
    BundleError,
    verify_bundle,
    write_signed,
)
from firmware_app.bundles.score_agreement import output_steps_apart, scores_agree
from firmware_app.inference.model import TriageModel
from tests.bundles.kit import make_key, manifest_document, signed_bundle
from tests.conftest import MODELS_DIR
from tests.test_cli import edgescreen


@pytest.fixture()
def publisher(tmp_path):
    return make_key(tmp_path)


@pytest.fixture()
def bundle(tmp_path, publisher):
    key, _ = publisher
    return signed_bundle(tmp_path / "bundle", key)


def refusal(bundle, trusted) -> str:
    with pytest.raises(BundleError) as caught:
        verify_bundle(bundle, trusted_keys(trusted))
    return str(caught.value)


def test_the_committed_models_are_signed_by_the_projects_key():
    keys = trusted_keys(MODELS_DIR / "trusted-keys")
    for model_id in ("dr-referable", "melanoma"):
        manifest = verify_bundle(MODELS_DIR / model_id, keys)
        assert manifest.model_id == model_id and len(manifest.reference_scores) >= 2


def test_a_signed_bundle_verifies_and_pins_its_reference_scores(bundle, publisher):
    manifest = verify_bundle(bundle, trusted_keys(publisher[1]))
    assert manifest.model_id == "melanoma"
    assert all(0.0 <= score <= 1.0 for score in manifest.reference_scores.values())
    assert set(manifest.files) >= {"card.json", "model.tflite"}


def test_a_flipped_byte_in_the_model_is_refused(bundle, publisher):
    model = bundle / "model.tflite"
    data = bytearray(model.read_bytes())
    data[len(data) // 2] ^= 0x01
    model.write_bytes(bytes(data))
    assert "model.tflite does not match its sha256 in the manifest" in refusal(bundle, publisher[1])


def test_a_flipped_byte_in_the_manifest_breaks_the_signature(bundle, publisher):
    manifest = bundle / "manifest.json"
    manifest.write_text(manifest.read_text().replace('"version": "1.0.0"', '"version": "1.0.1"'))
    signer = key_id(publisher[0].public_key())
    said = f"the signature does not verify with key {signer}, which this device trusts: the manifest was changed"
    assert said in refusal(bundle, publisher[1])


def test_a_bundle_signed_with_another_key_names_that_key_and_the_trusted_ones(tmp_path, bundle, publisher):
    """The technician needs the key the manifest names, to find and install it; only the trusted ones
    were named, which say nothing of what the bundle needs."""
    other, other_trusted = make_key(tmp_path / "other", "someone-else")
    signer, trusted = key_id(publisher[0].public_key()), key_id(other.public_key())
    said = f"its manifest names key {signer}, which this device does not trust; trusted: {trusted}"
    assert said in refusal(bundle, other_trusted)


def test_the_key_a_refused_manifest_names_is_not_said_to_have_signed_it(bundle, publisher):
    """The refusal said "signed by key X", X the manifest's key_id: a name anyone can write, never
    verified. Here the trusted key signed, and the key_id was changed after: X signed nothing."""
    manifest = bundle / MANIFEST_FILE
    signer = key_id(publisher[0].public_key())
    manifest.write_text(manifest.read_text().replace(signer, "nobodys-key"))
    said = refusal(bundle, publisher[1])
    assert f"its manifest names key nobodys-key, which this device does not trust; trusted: {signer}" in said
    assert "signed by" not in said


def test_an_unsigned_bundle_is_refused(bundle, publisher):
    (bundle / "manifest.sig").unlink()
    assert "the bundle is not signed" in refusal(bundle, publisher[1])


def test_a_missing_file_is_refused(bundle, publisher):
    (bundle / "model.tflite").unlink()
    assert "model.tflite is listed in the manifest but missing" in refusal(bundle, publisher[1])


def test_a_file_the_manifest_does_not_list_is_refused(bundle, publisher):
    (bundle / "reference" / "extra.jpg").write_bytes(b"not signed")
    assert "reference/extra.jpg is in the bundle but not in the signed manifest" in refusal(bundle, publisher[1])


def test_a_card_that_disagrees_with_the_manifest_is_refused(bundle, publisher):
    key, trusted = publisher
    document = manifest_document(bundle)
    document["version"] = "2.0.0"
    write_signed(bundle, document, key)
    assert "the card says melanoma 1.0.0, the manifest says melanoma 2.0.0" in refusal(bundle, trusted)


def test_a_card_that_disagrees_with_its_model_is_refused(bundle, publisher):
    key, trusted = publisher
    card = bundle / "card.json"
    card.write_text(re.sub(r'"sha256": "[0-9a-f]{64}"', '"sha256": "' + "0" * 64 + '"', card.read_text(), count=1))
    document = manifest_document(bundle)
    document["files"]["card.json"] = hashlib.sha256(card.read_bytes()).hexdigest()
    write_signed(bundle, document, key)
    assert "does not match the card's" in refusal(bundle, trusted)


def test_a_model_whose_reference_scores_differ_is_refused(bundle, publisher):
    key, trusted = publisher
    document = manifest_document(bundle)
    name = sorted(document["reference_scores"])[0]
    document["reference_scores"][name] = (document["reference_scores"][name] + 0.5) % 1.0
    write_signed(bundle, document, key)
    message = refusal(bundle, trusted)
    assert f"reference image {name} scored" in message and "does not compute what was signed" in message


def _logit_moved(score: float, steps: float, step: float) -> float:
    logit = math.log(score / (1.0 - score)) + steps * step
    return 1.0 / (1.0 + math.exp(-logit))


def _moved_reference(bundle, key, steps: float, document: dict) -> None:
    """Sign ``document`` with its first reference score moved ``steps`` output steps (in logits) and
    its probability tolerance made negligible, as another runtime's rounding would move it."""
    document["score_tolerance"] = 1e-9
    step = TriageModel(bundle).output_step
    name = sorted(document["reference_scores"])[0]
    document["reference_scores"][name] = _logit_moved(document["reference_scores"][name], steps, step)
    write_signed(bundle, document, key)


@pytest.mark.parametrize(("signed", "steps", "verifies"), [(2, 1.5, True), (2, 2.5, False), (0, 0.5, False)])
def test_a_reference_score_verifies_within_the_signed_output_steps_only(bundle, publisher, signed, steps, verifies):
    """Another runtime's rounding moves a score a few output steps (in logits), which on a sigmoid's
    steep part is more than the probability tolerance: a score moved within the steps the manifest
    signs verifies, one moved beyond them does not, however many a device might have allowed."""
    key, trusted = publisher
    document = manifest_document(bundle)
    document["score_steps"] = signed
    _moved_reference(bundle, key, steps, document)
    if verifies:
        verify_bundle(bundle, trusted_keys(trusted))
    else:
        assert f"{steps:.1f} output steps apart (tolerance 1e-09 or {signed} output steps)" in refusal(bundle, trusted)


def test_a_manifest_of_the_first_schema_gets_its_signed_tolerance_only(bundle, publisher):
    """A manifest signed before ``score_steps`` existed states no output steps: its scores agree
    within its tolerance, as signed, and a score one step off is refused."""
    key, trusted = publisher
    document = manifest_document(bundle)
    document["schema"] = SCHEMA_WITHOUT_STEPS
    del document["score_steps"]
    _moved_reference(bundle, key, 1.0, document)
    assert "1.0 output steps apart (tolerance 1e-09 or 0 output steps)" in refusal(bundle, trusted)


def test_a_manifest_of_the_first_schema_still_verifies_as_signed(bundle, publisher):
    key, trusted = publisher
    document = manifest_document(bundle)
    document["schema"] = SCHEMA_WITHOUT_STEPS
    del document["score_steps"]
    write_signed(bundle, document, key)
    assert verify_bundle(bundle, trusted_keys(trusted)).score_steps == 0


def test_a_manifest_of_an_unknown_schema_is_refused(bundle, publisher):
    key, trusted = publisher
    document = manifest_document(bundle)
    document["schema"] = "edgescreen.model-bundle/3"
    write_signed(bundle, document, key)
    assert "the manifest is not edgescreen.model-bundle/2 (nor edgescreen.model-bundle/1)" in refusal(bundle, trusted)


def test_a_bundle_signs_the_projects_output_steps(bundle, publisher):
    assert manifest_document(bundle)["score_steps"] == SCORE_STEPS
    assert verify_bundle(bundle, trusted_keys(publisher[1])).score_steps == SCORE_STEPS


def test_two_runtimes_scores_of_the_dr_reference_agree():
    """The review's case: the same input tensor gave output 15 on ai-edge-litert and 13 on
    tflite-runtime, two steps of 0.1332 that moved the score from 0.1193 to 0.0940 (beyond 0.02):
    they agree within the project's signed steps, not when a manifest signs none."""
    assert scores_agree("sigmoid", 0.13324977, 0.0940, 0.1193, 0.02, SCORE_STEPS)
    assert not scores_agree("sigmoid", 0.13324977, 0.0940, 0.1193, 0.02, 0)
    assert not scores_agree("sigmoid", 0.13324977, 0.6, 0.1193, 0.02, MAX_SCORE_STEPS)
    assert output_steps_apart("softmax", 0.13, 0.0940, 0.1193) is None


def test_a_bundle_for_a_newer_app_is_refused(bundle, publisher):
    key, trusted = publisher
    document = manifest_document(bundle)
    document["min_app_version"] = "99.0"
    write_signed(bundle, document, key)
    assert "needs EdgeScreen 99.0 or newer" in refusal(bundle, trusted)


def test_no_trusted_key_means_nothing_verifies(tmp_path, bundle):
    (tmp_path / "empty").mkdir()
    with pytest.raises(KeyFileError, match="no trusted public keys"):
        trusted_keys(tmp_path / "empty")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("score_tolerance", float("nan"), "score tolerance nan is not in"),
        ("score_tolerance", 0.0, "score tolerance 0.0 is not in"),
        ("reference_scores", float("nan"), "reference scores are not all in [0, 1]"),
        ("score_tolerance", 10**400, "the manifest is not a valid"),
        ("score_steps", MAX_SCORE_STEPS + 1, f"score steps {MAX_SCORE_STEPS + 1} are not a whole number"),
        ("score_steps", -1, "score steps -1 are not a whole number"),
        ("score_steps", 2.5, "score steps 2.5 are not a whole number"),
        ("score_steps", float("nan"), "score steps nan are not a whole number"),
        ("score_steps", True, "score steps True are not a whole number"),
    ],
)
def test_a_manifest_whose_scores_cannot_be_checked_is_refused(bundle, publisher, field, value, message):
    """Python's json reads NaN, and a NaN tolerance or reference score passes every comparison: the
    reference check would pass whatever the model computes."""
    key, trusted = publisher
    document = manifest_document(bundle)
    if field == "reference_scores":
        document[field][sorted(document[field])[0]] = value
    else:
        document[field] = value
    write_signed(bundle, document, key)
    assert message in refusal(bundle, trusted)


def test_a_signing_key_others_may_read_is_refused_as_every_private_key_of_the_project_is(tmp_path):
    """The records key, the device's TLS key and the station's keys are refused when the group or
    others may read them (firmware_app.secret_file); the model signing key was used whatever its mode."""
    private = tmp_path / "keys" / "publisher"
    assert edgescreen("models", "keygen", str(private)).returncode == 0
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    os.chmod(private, 0o640)
    unsigned = tmp_path / "bundle"
    shutil.copytree(MODELS_DIR / "melanoma", unsigned, ignore=shutil.ignore_patterns(MANIFEST_FILE, SIGNATURE_FILE))
    sign = edgescreen("models", "sign", "--key", str(private), str(unsigned))
    assert sign.returncode == 3, sign.stdout  # on main: 0, the bundle signed with the exposed key
    assert f"{private}: the model signing key is readable by others (mode -rw-r-----); chmod 600 it" in sign.stderr
    assert not (unsigned / MANIFEST_FILE).exists()
    os.chmod(private, 0o600)
    assert isinstance(load_private_key(private), Ed25519PrivateKey)
