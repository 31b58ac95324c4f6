"""``edgescreen models install`` / ``rollback``: atomic switches, downgrade refusal, audit, power cuts."""

from __future__ import annotations

import errno
import json
import math
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from firmware_app.app import ModelShelf
from firmware_app.bundles import install
from firmware_app.bundles.install import active_manifest
from firmware_app.bundles.keys import trusted_keys
from firmware_app.bundles.manifest import BundleError, InstalledCopyGone, verify_bundle
from firmware_app.config import load_config
from firmware_app.inference.model import TriageModel
from firmware_app.messages import message, sentence, system_reason
from firmware_app.records.store import Records
from tests.bundles.kit import device_config, make_key, signed_bundle, with_version
from tests.conftest import MODELS_DIR, PROJECT_ROOT, read_only_view
from tests.health.test_doctor import doctor
from tests.mqtt_broker import wait_until
from tests.records.kit import in_language, write_config
from tests.test_cli import edgescreen


@pytest.fixture()
def device(tmp_path):
    key, trusted = make_key(tmp_path)
    first = signed_bundle(tmp_path / "melanoma-1.0.0", key)
    return tmp_path, key, trusted, first, device_config(tmp_path, trusted)


def model_changes(directory) -> list[dict]:
    records = Records(directory / "records.sqlite3", directory / "records.key")
    try:
        assert records.verify_audit().intact
        rows = records.connection.execute("SELECT details FROM audit WHERE kind = 'model_change' ORDER BY seq")
        return [json.loads(row[0]) for row in rows]
    finally:
        records.close()


def test_install_upgrade_rollback_and_downgrade_refusal_are_audited(device):
    directory, key, _trusted, first, config = device
    installed = directory / "installed"
    second = with_version(first, directory / "melanoma-1.1.0", "1.1.0", key)

    assert edgescreen("models", "install", str(first), config=config).returncode == 0
    run = edgescreen("models", "install", str(second), config=config)
    assert run.returncode == 0, run.stderr
    assert "melanoma 1.1.0 is active (was 1.0.0)" in run.stdout
    assert TriageModel(installed / "melanoma").card.version == "1.1.0"

    again = edgescreen("models", "install", str(second), config=config)
    assert again.returncode == 0 and "already the active model" in again.stdout

    refused = edgescreen("models", "install", str(first), config=config)
    assert refused.returncode == 3
    assert "melanoma 1.0.0 is older than the active 1.1.0; a downgrade needs --allow-downgrade" in refused.stderr
    assert active_manifest(installed, "melanoma").version == "1.1.0"

    back = edgescreen("models", "rollback", "melanoma", config=config)
    assert back.returncode == 0, back.stderr
    assert TriageModel(installed / "melanoma").card.version == "1.0.0"
    forward = edgescreen("models", "rollback", "melanoma", config=config)
    assert forward.returncode == 0 and active_manifest(installed, "melanoma").version == "1.1.0"

    downgrade = edgescreen("models", "install", "--allow-downgrade", str(first), config=config)
    assert downgrade.returncode == 0 and active_manifest(installed, "melanoma").version == "1.0.0"

    changes = [(c["action"], c["version"], c["previous_version"]) for c in model_changes(directory)]
    assert changes == [
        ("install", "1.0.0", None),
        ("install", "1.1.0", "1.0.0"),
        ("rollback", "1.0.0", "1.1.0"),
        ("rollback", "1.1.0", "1.0.0"),
        ("install", "1.0.0", "1.1.0"),
    ]
    listing = edgescreen("models", "--json", config=config)
    assert json.loads(listing.stdout)["version"] == "1.0.0"


def test_a_refused_bundle_changes_nothing(device):
    directory, key, _trusted, first, config = device
    assert edgescreen("models", "install", str(first), config=config).returncode == 0
    broken = with_version(first, directory / "melanoma-2.0.0", "2.0.0", key)
    (broken / "model.tflite").write_bytes(b"\0" * 1024)
    run = edgescreen("models", "install", str(broken), config=config)
    assert run.returncode == 3 and "model.tflite does not match its sha256" in run.stderr
    assert str(broken) in run.stderr and ".tmp-" not in run.stderr  # the bundle given, not its staging copy
    assert active_manifest(directory / "installed", "melanoma").version == "1.0.0"
    assert [c["version"] for c in model_changes(directory)] == ["1.0.0"]
    assert not list((directory / "installed" / ".bundles").glob(".tmp-*"))


def test_records_that_cannot_take_the_audit_event_stop_the_switch(device):
    """With the records key missing, the model used to be switched and the install then reported as
    failed: the records are opened before anything changes."""
    directory, key, _trusted, first, config = device
    assert edgescreen("models", "install", str(first), config=config).returncode == 0
    second = with_version(first, directory / "melanoma-1.1.0", "1.1.0", key)
    (directory / "records.key").rename(directory / "records.key.away")
    run = edgescreen("models", "install", str(second), config=config)
    assert run.returncode == 5 and "key" in run.stderr, run.stderr
    assert active_manifest(directory / "installed", "melanoma").version == "1.0.0"


@pytest.mark.parametrize("language", ["en", "fr"])
def test_verify_install_and_rollback_say_what_they_did_in_the_devices_language(device, language):
    """On main English whatever the device's language ("is active (was none)")."""
    directory, key, _trusted, first, config = device
    in_language(config, language)
    second = with_version(first, directory / "melanoma-1.1.0", "1.1.0", key)
    verified = edgescreen("models", "verify", str(second), config=config)
    assert (
        verified.stdout
        == f"{sentence('models.verified', language, bundle=str(second), model='melanoma', version='1.1.0')}\n"
    )
    installed = edgescreen("models", "install", str(first), config=config)
    none = message("models.no_previous", language)
    assert (
        installed.stdout
        == f"{sentence('models.switched.install', language, model='melanoma', version='1.0.0', was=none)}\n"
    )
    edgescreen("models", "install", str(second), config=config)
    again = edgescreen("models", "install", str(second), config=config)
    assert again.stdout == f"{sentence('models.already_active', language, bundle=str(second))}\n"
    back = edgescreen("models", "rollback", "melanoma", config=config)
    assert (
        back.stdout
        == f"{sentence('models.switched.rollback', language, model='melanoma', version='1.0.0', was='1.1.0')}\n"
    )
    assert ("est actif" in back.stdout) == (language == "fr")


@pytest.mark.parametrize("language", ["en", "fr"])
def test_rollback_without_a_previous_bundle_is_refused_in_the_devices_language(device, language):
    """Its own sentence, not the device's for a refused model ("Call the technician to reinstall it"), which
    would blame an installed model that is whole; it was said in English on a French device, where its
    neighbours (the previous copy gone, a full disk) are said in the device's language."""
    directory, _, _, first, config = device
    in_language(config, language)
    assert edgescreen("models", "install", str(first), config=config).returncode == 0
    run = edgescreen("models", "rollback", "melanoma", config=config)
    assert run.returncode == 3, run.stderr
    (said,) = [line for line in run.stderr.splitlines() if line.startswith("edgescreen: ")]
    folder = str(directory / "installed")
    assert said == f"edgescreen: {sentence('models.no_previous_bundle', language, folder=folder, model='melanoma')}"


@pytest.mark.parametrize("language", ["en", "fr"])
def test_reinstalling_the_signed_bundle_repairs_a_tampered_active_model(tmp_path, language):
    """A threshold edited in the installed card made doctor ask for the signed bundle again, and installing
    it said "already the active model; nothing changed": the model stayed refused, screening blocked, with
    no previous bundle to roll back to. The verified copy now takes the damaged one's place, which is kept
    aside for inspection, and the repair is audited as installs are."""
    config = in_language(device_config(tmp_path, MODELS_DIR / "trusted-keys"), language)
    installed = tmp_path / "installed"
    genuine = MODELS_DIR / "dr-referable"
    for bundle in (genuine, MODELS_DIR / "melanoma"):
        assert edgescreen("models", "install", str(bundle), config=config).returncode == 0
    card = installed / "dr-referable" / "card.json"
    tampered = card.read_text().replace('"threshold": 0.243887', '"threshold": 0.043887', 1)
    assert tampered != card.read_text()
    card.write_text(tampered)
    assert doctor(config)[1]["models"]["message"] == message("health.models.refused", language)

    run = edgescreen("models", "install", str(genuine), config=config)
    assert run.returncode == 0, run.stderr
    assert doctor(config)[1]["models"]["level"] == "green"  # on main: red, "already the active model"
    assert edgescreen("models", config=config).returncode == 0
    assert card.read_bytes() == (genuine / "card.json").read_bytes()
    (kept,) = (installed / ".bundles").glob(".damaged-*")
    assert (kept / "card.json").read_text() == tampered
    reason = f"{installed / 'dr-referable'}: card.json does not match its sha256 in the manifest: changed or corrupt"
    version = active_manifest(installed, "dr-referable").version
    said = {"model": "dr-referable", "version": version, "reason": reason, "kept": str(kept)}
    assert run.stdout == f"{sentence('models.switched.repair', language, **said)}\n"
    changes = [(c["action"], c["model"], c["version"], c["previous_version"]) for c in model_changes(tmp_path)]
    assert changes[2:] == [("repair", "dr-referable", version, None)]  # no version was replaced
    assert not (installed / ".dr-referable.previous").exists()  # the damaged copy is never one to roll back to

    again = edgescreen("models", "install", str(genuine), config=config)
    assert again.stdout == f"{sentence('models.already_active', language, bundle=str(genuine))}\n"


class SameSecond(datetime):
    """A clock stopped within one second: two repairs a technician runs back to back."""

    @classmethod
    def now(cls, tz=None):
        return datetime(2027, 3, 20, 9, 30, 5, tzinfo=UTC)


def test_a_bundle_repaired_twice_in_the_same_second_keeps_both_damaged_copies(device, monkeypatch):
    """The set-aside copy was named to the second: a second repair of the same installed name within it
    (repaired, upgraded, installed back with --allow-downgrade, edited again) found that name taken and
    failed (ENOTEMPTY) after the link had switched, its damaged copy left under its bundle's name. A
    repair's audit event named as the previous version its own, which no switch left active."""
    directory, key, trusted, first, _config = device
    installed, keys = directory / "installed", trusted_keys(trusted)
    second = with_version(first, directory / "melanoma-1.1.0", "1.1.0", key)
    monkeypatch.setattr(install, "datetime", SameSecond)
    install.install_bundle(first, installed, keys, threads=1)
    for edit in ("0.11", "0.12"):
        card = installed / "melanoma" / "card.json"
        card.write_text(card.read_text().replace('"version"', f'"edited": {edit}, "version"', 1))
        switch = install.install_bundle(first, installed, keys, threads=1)  # on main: the second, ENOTEMPTY
        assert switch is not None and (switch.action, switch.previous_version) == ("repair", None)
        install.install_bundle(second, installed, keys, threads=1)
        install.install_bundle(first, installed, keys, threads=1, allow_downgrade=True)
    assert len(list((installed / ".bundles").glob(".damaged-*"))) == 2
    verify_bundle(installed / "melanoma", keys, threads=1)


def test_a_checkout_models_folder_is_not_overwritten(device):
    directory, _, _trusted, first, config = device
    checkout_models = directory / "checkout-models"
    shutil.copytree(MODELS_DIR, checkout_models)  # plain model folders, as in a checkout
    config.write_text(config.read_text().replace(f"{directory}/installed", str(checkout_models)))
    run = edgescreen("models", "install", str(first), config=config)
    assert run.returncode == 3 and "is a plain folder, not an installed bundle" in run.stderr
    assert not (checkout_models / ".lock").exists() and not (checkout_models / ".bundles").exists()
    assert (checkout_models / "melanoma" / "model.tflite").read_bytes() == (
        MODELS_DIR / "melanoma/model.tflite"
    ).read_bytes()


def _install_process(config, bundle) -> subprocess.Popen:
    command = [sys.executable, "-m", "firmware_app", "--config", str(config), "models", "install", str(bundle)]
    return subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _until_switched(process: subprocess.Popen, installed: Path, version: str) -> None:
    """Until the install in ``process`` has made ``version`` the active model, or has ended: an instant
    after its switch found by looking at it, not by timing another run."""
    wait_until(
        lambda: process.poll() is not None or active_manifest(installed, "melanoma").version == version,
        120,
        "the install's switch",
    )


def test_sigkill_at_20_random_instants_always_leaves_a_verifiable_active_model(device):
    directory, key, trusted, first, config = device
    installed, keys = directory / "installed", trusted_keys(trusted)
    assert edgescreen("models", "install", str(first), config=config).returncode == 0
    started = time.monotonic()  # the random instants' span, never asserted: attempts 2 and 3 fix the outcomes
    assert _install_process(config, with_version(first, directory / "v1.0.1", "1.0.1", key)).wait(120) == 0
    full_run = time.monotonic() - started
    chooser, outcomes = random.Random(13), set()
    for attempt in range(2, 22):
        before, new = active_manifest(installed, "melanoma").version, f"1.0.{attempt}"
        process = _install_process(config, with_version(first, directory / f"v{new}", new, key))
        if attempt == 2:  # a run slower than the one timed has every random instant before its switch
            _until_switched(process, installed, new)
        elif attempt > 3:  # the third, killed at once: before its switch however fast the run (one timed slower)
            time.sleep(chooser.uniform(0, 1.5 * full_run))  # as many as a third of the instants after the switch
        process.send_signal(signal.SIGKILL)
        process.wait(30)
        active = verify_bundle(installed / "melanoma", keys)
        assert active.version in {before, new}
        assert TriageModel(installed / "melanoma").card.version == active.version
        outcomes.add(active.version == new)
    assert outcomes == {True, False}  # killed both before and after the switch
    last = with_version(first, directory / "last", "1.0.99", key)
    finished = edgescreen("models", "install", str(last), config=config)
    assert finished.returncode == 0, finished.stderr
    assert not list(installed.glob(".tmp-*")) and not list((installed / ".bundles").glob(".tmp-*"))
    assert len(list((installed / ".bundles").iterdir())) == 2


def test_reinstalling_the_bundle_repairs_an_active_copy_whose_manifest_was_changed(device):
    """An edited manifest (a looser score_steps) no longer had the digest of the bundle given, so its
    reinstall took the upgrade path: the damaged copy became the one ``rollback`` returns to. Its
    manifest fails its signature as any changed file fails its hash: the install repairs it."""
    directory, _key, _trusted, first, config = device
    installed = directory / "installed"
    assert edgescreen("models", "install", str(first), config=config).returncode == 0
    manifest = installed / "melanoma" / "manifest.json"
    edited = manifest.read_text().replace('"score_steps": 3', '"score_steps": 8', 1)
    assert edited != manifest.read_text()
    manifest.write_text(edited)

    run = edgescreen("models", "install", str(first), config=config)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("repair: melanoma 1.0.0 is active again"), run.stdout  # on main: "install"
    assert "the manifest was changed" in run.stdout
    (kept,) = (installed / ".bundles").glob(".damaged-*")
    assert (kept / "manifest.json").read_text() == edited
    assert not (installed / ".melanoma.previous").exists()  # on main: it named the damaged copy
    assert manifest.read_bytes() == (first / "manifest.json").read_bytes()
    assert [(c["action"], c["previous_version"]) for c in model_changes(directory)] == [
        ("install", None),
        ("repair", None),
    ]


def test_reinstalling_the_bundle_repairs_an_active_copy_without_its_manifest(device):
    """An installed copy whose manifest.json was removed made every install of its bundle stop at once,
    "no readable manifest.json": the one remedy doctor gives could not mend it."""
    directory, _key, _trusted, first, config = device
    installed = directory / "installed"
    assert edgescreen("models", "install", str(first), config=config).returncode == 0
    (installed / "melanoma" / "manifest.json").unlink()

    run = edgescreen("models", "install", str(first), config=config)
    assert run.returncode == 0, run.stderr  # on main: 3, "no readable manifest.json"
    (kept,) = (installed / ".bundles").glob(".damaged-*")
    reason = f"{installed / 'melanoma'}: no readable manifest.json, so it cannot be verified"
    said = {"model": "melanoma", "version": "1.0.0", "reason": reason, "kept": str(kept)}
    assert run.stdout == f"{sentence('models.switched.repair', 'en', **said)}\n"
    assert not (kept / "manifest.json").exists()
    verify_bundle(installed / "melanoma", trusted_keys(directory / "trusted-keys"), threads=1)


def test_an_installed_copy_without_its_manifest_is_refused_not_loaded_unsigned(tmp_path, retina_jpeg):
    """Removing manifest.json from an installed copy made it a bare folder: loaded against its card alone,
    a changed threshold screened with, and named "(unsigned)" by doctor, green. A copy an install made is
    signed by its install: without its manifest it is refused, and its reinstall repairs it."""
    config = device_config(tmp_path, MODELS_DIR / "trusted-keys")
    installed = tmp_path / "installed"
    genuine = MODELS_DIR / "dr-referable"
    for bundle in (genuine, MODELS_DIR / "melanoma"):
        assert edgescreen("models", "install", str(bundle), config=config).returncode == 0
    copy = installed / "dr-referable"
    (copy / "manifest.json").unlink()
    card = copy / "card.json"
    card.write_text(card.read_text().replace('"threshold": 0.243887', '"threshold": 0.999', 1))
    refused = (
        f"{copy}: the copy its install made ({copy.resolve()}) has no manifest.json, so it cannot "
        f"be verified and is not loaded unsigned: install its signed bundle again (edgescreen models install), "
        "which repairs the copy"
    )

    run = edgescreen("screen", "--modality", "fundus", str(retina_jpeg), config=config)
    assert run.returncode == 3 and refused in run.stderr, run.stderr  # on main: 0, screened with 0.999
    with pytest.raises(BundleError, match=re.escape(refused)):
        ModelShelf(load_config(str(config)))("fundus")
    listed = edgescreen("models", config=config)
    assert listed.returncode == 1 and f"dr-referable  NOT VERIFIED  {refused}" in listed.stdout, listed.stdout
    _, checks, _ = doctor(config)
    assert checks["models"]["level"] == "red" and checks["models"]["values"]["error"] == refused
    assert checks["models"]["message"] == message("health.models.refused", "en")

    assert edgescreen("models", "install", str(genuine), config=config).returncode == 0
    assert doctor(config)[1]["models"]["level"] == "green"


def test_models_json_says_an_installed_copy_without_its_manifest_is_held_to_its_signature_and_refused(device):
    """``models --json`` said ``"signed": false`` of an installed copy whose manifest.json was removed, as of a
    development build that loads unsigned, while the device refuses it and the listing says NOT VERIFIED:
    an install's copy is held to its signature, so it is said signed, not verified, and why."""
    directory, _key, _trusted, first, config = device
    installed = directory / "installed"
    assert edgescreen("models", "install", str(first), config=config).returncode == 0
    (installed / "melanoma" / "manifest.json").unlink()

    listed = edgescreen("models", config=config)
    (line,) = [line for line in listed.stdout.splitlines() if line.startswith("melanoma ")]
    refused = line.removeprefix(f"melanoma  {message('models.not_verified', 'en')}  ")
    assert refused != line and "has no manifest.json" in refused, line
    summaries = [json.loads(line) for line in edgescreen("models", "--json", config=config).stdout.splitlines()]
    (summary,) = [summary for summary in summaries if summary["id"] == "melanoma"]
    folder = str(installed / "melanoma")
    expected = {"id": "melanoma", "directory": folder, "signed": True, "verified": False, "error": refused}
    assert summary == expected  # on main: "signed": false


def installed_first_then_second(device) -> Path:
    """``models install`` of the device's melanoma 1.0.0, then of 1.1.0 over it (active, 1.0.0 the
    previous): the 1.1.0 bundle."""
    directory, key, _trusted, first, config = device
    second = with_version(first, directory / "melanoma-1.1.0", "1.1.0", key)
    for bundle in (first, second):
        assert edgescreen("models", "install", str(bundle), config=config).returncode == 0
    return second


def _delete_the_active_copy(installed: Path, model_id: str) -> Path:
    """Delete the store copy the active link names, whole (a technician's ``rm -r`` of the wrong
    folder, a card restored without it): the link is left naming nothing."""
    copy = installed / os.readlink(installed / model_id)
    shutil.rmtree(copy)
    return copy


@pytest.mark.parametrize("language", ["en", "fr"])
def test_an_active_model_whose_installed_copy_is_gone_is_refused_with_what_to_do(tmp_path, retina_jpeg, language):
    """The active link naming a store copy that was deleted read as no model installed: ``models``, doctor
    and the screening said to install it or to correct [models], though both were right. Each now says
    the installed copy is gone, and to install its signed bundle again or roll back; the modality
    refuses to screen, the other one still screens."""
    config = in_language(device_config(tmp_path, MODELS_DIR / "trusted-keys"), language)
    installed = tmp_path / "installed"
    for bundle in (MODELS_DIR / "dr-referable", MODELS_DIR / "melanoma"):
        assert edgescreen("models", "install", str(bundle), config=config).returncode == 0
    copy = _delete_the_active_copy(installed, "dr-referable")
    remedy = message("health.models.gone", language)

    listed = edgescreen("models", config=config)
    name = message("modality.fundus", language)
    folder = str(installed / "dr-referable")
    said = sentence("models.gone", language, modality="fundus", name=name, folder=folder, copy=str(copy), remedy=remedy)
    assert listed.returncode == 1 and "Traceback" not in listed.stderr, listed.stderr
    assert listed.stdout.splitlines()[1:] == [said], listed.stdout  # on main: NOT INSTALLED, "holds no model"
    assert listed.stdout.startswith("melanoma ")
    as_json = edgescreen("models", "--json", config=config)
    assert as_json.returncode == 1 and as_json.stderr.endswith(f"{said}\n"), as_json.stderr
    _, checks, _ = doctor(config)
    assert checks["models"]["level"] == "red" and checks["models"]["message"] == remedy
    assert "is gone" in checks["models"]["values"]["error"]
    run = edgescreen("screen", "--modality", "fundus", str(retina_jpeg), config=config)
    assert run.returncode == 3 and run.stderr.splitlines()[-1] == f"edgescreen: {remedy}", run.stderr
    shelf = ModelShelf(load_config(str(config)))
    with pytest.raises(InstalledCopyGone, match=re.escape(f"{folder}: the copy its install made ({copy}) is gone")):
        shelf("fundus")
    assert shelf("dermoscopy").card.id == "melanoma"


@pytest.mark.parametrize("remedy", ["install", "rollback"])
def test_either_remedy_said_for_an_active_copy_that_is_gone_makes_a_model_active(device, remedy):
    """Installing the bundle again stopped with a FileNotFoundError traceback after switching the link (its
    repair set aside a damaged copy there was no more), and a rollback was refused, the gone copy's
    manifest unreadable. Either now makes a verified copy active; what was gone is never named previous.
    Each says and audits the version last active, which the active link's name records (1.1.0): this
    test asserted "(was none)" and ``previous_version: None``, as if nothing had been active before."""
    directory, _key, trusted, _first, config = device
    installed = directory / "installed"
    second = installed_first_then_second(device)
    _delete_the_active_copy(installed, "melanoma")

    arguments = ("install", str(second)) if remedy == "install" else ("rollback", "melanoma")
    run = edgescreen("models", *arguments, config=config)
    assert run.returncode == 0 and "Traceback" not in run.stderr, run.stderr  # on main: a traceback, or 3
    version = "1.1.0" if remedy == "install" else "1.0.0"
    said = {"model": "melanoma", "version": version, "was": "1.1.0"}  # before: "none"
    assert run.stdout == f"{sentence(f'models.switched.{remedy}', 'en', **said)}\n"
    assert verify_bundle(installed / "melanoma", trusted_keys(trusted), threads=1).version == version
    previous = installed / ".melanoma.previous"
    if remedy == "install":  # the previous bundle is still the one to roll back to
        assert verify_bundle(previous, trusted_keys(trusted), threads=1).version == "1.0.0"
    else:
        assert not previous.exists() and not previous.is_symlink()
    assert [(c["action"], c["previous_version"]) for c in model_changes(directory)][2:] == [(remedy, "1.1.0")]


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_bundle_that_cannot_be_copied_names_its_first_failing_file_and_leaves_nothing(device, language):
    """A file the copy could not read (here a link to nothing, as a stick's unreadable file is) printed
    copytree's whole list of errors, a Python list of tuples, in English: now one sentence in the
    device's language naming the file and why, with nothing left of the copy."""
    directory, key, _trusted, first, config = device
    in_language(config, language)
    installed = directory / "installed"
    assert edgescreen("models", "install", str(first), config=config).returncode == 0
    second = with_version(first, directory / "melanoma-1.1.0", "1.1.0", key)
    (second / "reference" / "gone.png").symlink_to(directory / "nowhere.png")

    run = edgescreen("models", "install", str(second), config=config)
    assert run.returncode == 3 and "Traceback" not in run.stderr, run.stderr
    assert "[(" not in run.stderr and "Errno" not in run.stderr, run.stderr  # on main: copytree's list
    said = {
        "file": str(second / "reference" / "gone.png"),
        "folder": str(installed),
        "reason": message("system.ENOENT", language),  # the system's reason, in the device's language
    }
    assert run.stderr.splitlines()[-1] == f"edgescreen: {sentence('models.not_copied', language, **said)}"
    assert sorted(path.name for path in (installed / ".bundles").iterdir()) == [
        Path(os.readlink(installed / "melanoma")).name
    ]
    assert active_manifest(installed, "melanoma").version == "1.0.0"


def _inodes_used(directory: Path) -> int:
    usage = os.statvfs(directory)
    return usage.f_files - usage.f_ffree


def _leave_inodes(disk: Path, free: int) -> None:
    """Remount the suite's small file system with ``free`` inodes left: the room a link needs, gone."""
    subprocess.run(["mount", "-o", f"remount,nr_inodes={_inodes_used(disk) + free}", str(disk)], check=True)


def _two_versions_on(disk: Path, tmp_path: Path, language: str) -> tuple[Path, Path, Path, Path]:
    """Two signed versions of one bundle, a models directory on ``disk`` and a device's config trusting
    their key, in ``language``: the first and second bundles, the directory, the config."""
    key, trusted = make_key(tmp_path)
    first = signed_bundle(tmp_path / "melanoma-1.0.0", key)
    second = with_version(first, tmp_path / "melanoma-1.1.0", "1.1.0", key)
    installed = disk / "installed"
    config = in_language(
        write_config(tmp_path, 1, f'[models]\ndirectory = "{installed}"\ntrusted_keys = "{trusted}"\n'), language
    )
    return first, second, installed, config


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_disk_full_as_the_link_is_made_keeps_the_active_model_and_says_so(tmp_path, tiny_filesystem, language):
    """The disk filled between the bundle's copy and its switch (here its last inode taken by the copy):
    the new link could not be made, and the install stopped with a traceback, its copy left behind. Now
    the models disk's full-disk sentence, the previous bundle still active and nothing of the new one kept."""
    first, second, installed, config = _two_versions_on(tiny_filesystem, tmp_path, language)
    assert edgescreen("models", "install", str(first), config=config).returncode == 0
    before = sorted((installed / ".bundles").iterdir())
    copy = 1 + len(list(second.rglob("*")))  # the staging folder, then each of the bundle's files and folders
    _leave_inodes(tiny_filesystem, copy)

    run = edgescreen("models", "install", str(second), config=config)
    assert run.returncode == 3 and "Traceback" not in run.stderr, run.stderr  # on main: OSError, Errno 28
    needed = math.ceil(sum(path.stat().st_size for path in second.rglob("*") if path.is_file()) / 2**20)
    said = sentence("models.no_room", language, bundle=str(second), needed=needed, folder=str(installed))
    assert run.stderr.splitlines()[-1] == f"edgescreen: {said}", run.stderr
    assert active_manifest(installed, "melanoma").version == "1.0.0"
    assert not (installed / ".melanoma.previous").exists()
    assert sorted((installed / ".bundles").iterdir()) == before
    assert not list(installed.glob(".tmp-*"))


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_rollback_on_a_full_disk_keeps_the_active_model_and_says_so(tmp_path, tiny_filesystem, language):
    """A rollback's two new links need an inode each: on a models disk with none left it stopped with a
    traceback. Now the full disk's sentence for a rollback, the active and previous models as they were."""
    first, second, installed, config = _two_versions_on(tiny_filesystem, tmp_path, language)
    for bundle in (first, second):
        assert edgescreen("models", "install", str(bundle), config=config).returncode == 0
    links = {name: os.readlink(installed / name) for name in ("melanoma", ".melanoma.previous")}
    _leave_inodes(tiny_filesystem, 0)

    run = edgescreen("models", "rollback", "melanoma", config=config)
    assert run.returncode == 3 and "Traceback" not in run.stderr, run.stderr  # on main: OSError, Errno 28
    said = sentence("models.no_room_rollback", language, model="melanoma", folder=str(installed))
    assert run.stderr.splitlines()[-1] == f"edgescreen: {said}", run.stderr
    assert {name: os.readlink(installed / name) for name in links} == links
    assert active_manifest(installed, "melanoma").version == "1.1.0"
    assert not list(installed.glob(".tmp-*"))
    assert [change["action"] for change in model_changes(tmp_path)] == ["install", "install"]


def one_damaged_copy(device, language: str) -> tuple[Path, Path, Path]:
    """The device's models directory after a repair set one damaged copy aside (its active copy's
    manifest removed, then the same bundle installed again), and the device's config in ``language``."""
    directory, _key, trusted, first, config = device
    in_language(config, language)
    installed = directory / "installed"
    install.install_bundle(first, installed, trusted_keys(trusted), threads=1)
    (installed / "melanoma" / "manifest.json").unlink()
    install.install_bundle(first, installed, trusted_keys(trusted), threads=1)
    (kept,) = install.damaged_copies(installed)
    return installed, kept, config


@pytest.mark.parametrize("language", ["en", "fr"])
def test_models_lists_the_damaged_copies_kept_with_their_size_and_how_to_remove_them(device, language):
    """A repair keeps the damaged copy for inspection, and nothing ever removed it nor said it was
    there: each repair left a whole bundle's megabytes on the device's card, unseen."""
    _installed, kept, config = one_damaged_copy(device, language)

    listing = edgescreen("models", config=config)
    size = math.ceil(sum(path.stat().st_size for path in kept.rglob("*") if path.is_file()) / 2**20)
    said = sentence("models.damaged_kept", language, path=str(kept), size=size)
    assert said in listing.stdout.splitlines(), listing.stdout  # on main: not there
    as_json = edgescreen("models", "--json", config=config)
    assert said in as_json.stderr.splitlines() and str(kept) not in as_json.stdout
    shutil.rmtree(kept)
    assert str(kept) not in edgescreen("models", config=config).stdout


@pytest.mark.parametrize("language", ["en", "fr"])
def test_models_clean_damaged_removes_the_damaged_copies_and_never_a_copy_a_link_names(device, language):
    """A damaged copy was removed by hand, ``rm -r`` of a path in the store beside the active and previous
    copies, where one slip deletes the active copy. ``models --clean-damaged`` removes the damaged copies
    alone, under the installs' lock, and keeps one a link names (here the previous link, pointed at it by
    hand), saying which link: the active and previous copies always stay."""
    directory, key, trusted, first, config = device
    in_language(config, language)
    installed, keys = directory / "installed", trusted_keys(trusted)
    none = edgescreen("models", "--clean-damaged", config=config)
    assert none.returncode == 0, none.stderr  # on main: an unknown argument, 2
    assert none.stdout == f"{sentence('models.no_damaged', language, folder=str(installed))}\n"
    assert not installed.exists()  # nothing to clean: no lock taken, no folder made
    second = with_version(first, directory / "melanoma-1.1.0", "1.1.0", key)
    install.install_bundle(first, installed, keys, threads=1)
    install.install_bundle(second, installed, keys, threads=1)
    for _ in range(2):
        (installed / "melanoma" / "manifest.json").unlink()
        install.install_bundle(second, installed, keys, threads=1)
    (removed, size), (linked, _) = install.damaged_copies(installed).items()
    previous = installed / ".melanoma.previous"
    before = os.readlink(previous)
    os.unlink(previous)
    os.symlink(os.path.relpath(linked, installed), previous)

    run = edgescreen("models", "--clean-damaged", config=config)
    assert run.returncode == 1, run.stderr
    assert run.stdout.splitlines() == [
        sentence("models.damaged_removed", language, path=str(removed), size=size),
        sentence("models.damaged_linked", language, path=str(linked), link=str(previous)),
    ]
    assert not removed.exists() and linked.is_dir()
    assert verify_bundle(installed / "melanoma", keys, threads=1).version == "1.1.0"
    assert verify_bundle(installed / before, keys, threads=1).version == "1.0.0"


@pytest.mark.parametrize("language", ["en", "fr"])
def test_models_clean_damaged_on_a_models_folder_it_cannot_write_says_so(device, language):
    """Run by a user who may read the models but not write them, or on a store the kernel remounted
    read-only, ``--clean-damaged`` ended in a traceback at the installs' lock: it says the folder
    cannot be written and why, in the device's language, and removes nothing."""
    installed, kept, config = one_damaged_copy(device, language)
    with read_only_view(installed, installed):
        run = edgescreen("models", "--clean-damaged", config=config)
    assert run.returncode == 2 and "Traceback" not in run.stderr, run.stderr
    reason = system_reason(OSError(errno.EROFS, "Read-only file system"), language)
    said = sentence("models.not_writable", language, folder=str(installed), reason=reason)
    assert run.stderr.splitlines()[-1] == f"edgescreen: {said}", run.stderr
    assert kept.is_dir()


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_rollback_whose_previous_copy_is_gone_says_so(device, language):
    """The previous link naming a store copy that was deleted whole made a rollback refuse with "no readable
    manifest.json", as if the copy were damaged: it now says the previous copy is gone, in the device's
    language, and changes nothing: asked again, it says the same, the previous link kept (``rollback``) until
    the next install points it at the copy that install replaces."""
    directory, key, trusted, first, config = device
    in_language(config, language)
    installed = directory / "installed"
    installed_first_then_second(device)
    copy = installed / os.readlink(installed / ".melanoma.previous")
    shutil.rmtree(copy)

    said = sentence("models.previous_gone", language, model="melanoma", copy=str(copy))
    for _ in range(2):
        run = edgescreen("models", "rollback", "melanoma", config=config)
        assert run.returncode == 3 and "Traceback" not in run.stderr, run.stderr
        assert run.stderr.splitlines()[-1] == f"edgescreen: {said}", run.stderr  # on main: no readable manifest.json
    assert verify_bundle(installed / "melanoma", trusted_keys(trusted), threads=1).version == "1.1.0"
    assert [c["action"] for c in model_changes(directory)] == ["install", "install"]
    third = with_version(first, directory / "melanoma-1.2.0", "1.2.0", key)
    assert edgescreen("models", "install", str(third), config=config).returncode == 0
    assert verify_bundle(installed / ".melanoma.previous", trusted_keys(trusted), threads=1).version == "1.1.0"


@pytest.mark.parametrize("language", ["en", "fr"])
def test_an_older_bundle_installed_over_an_active_copy_that_is_gone_still_needs_allow_downgrade(device, language):
    """With the active copy deleted, installing an older version went through unasked: the downgrade was
    checked against the active copy's manifest, and there was none. It is checked against the version
    last active, which the active link's name records, and --allow-downgrade still allows it."""
    directory, _key, trusted, first, config = device
    in_language(config, language)
    installed = directory / "installed"
    installed_first_then_second(device)
    copy = _delete_the_active_copy(installed, "melanoma")

    refused = edgescreen("models", "install", str(first), config=config)
    assert refused.returncode == 3 and "Traceback" not in refused.stderr, refused.stderr  # on main: 0, installed
    said = {"bundle": str(first), "model": "melanoma", "version": "1.0.0", "active": "1.1.0", "copy": str(copy)}
    assert refused.stderr.splitlines()[-1] == f"edgescreen: {sentence('models.downgrade_gone', language, **said)}"
    assert [c["action"] for c in model_changes(directory)] == ["install", "install"]
    forced = edgescreen("models", "install", "--allow-downgrade", str(first), config=config)
    assert forced.returncode == 0, forced.stderr
    assert verify_bundle(installed / "melanoma", trusted_keys(trusted), threads=1).version == "1.0.0"


def test_models_clean_damaged_is_audited_with_the_folders_it_removed(device):
    """``--clean-damaged`` removed the damaged copies with a journal line only: the audit log, which holds
    every install, repair and rollback, had no trace of it. It now holds the folders' names (no path),
    how many were removed and kept, and the MB freed, and the chain still verifies."""
    installed, kept, config = one_damaged_copy(device, "en")
    size = install.damaged_copies(installed)[kept]
    run = edgescreen("models", "--clean-damaged", config=config)
    assert run.returncode == 0, run.stderr
    directory = device[0]
    expected = {"action": "clean_damaged", "removed": [kept.name], "kept": [], "freed_mb": size}
    cleanings = [change for change in model_changes(directory) if change["action"] == "clean_damaged"]
    assert cleanings == [expected]  # on main: none
    assert edgescreen("audit", "verify", config=config).returncode == 0


class PowerCut(BaseException):
    """The device switched off mid-call: nothing after it runs, not even an ``except Exception``."""


def test_a_rollback_cut_between_its_two_renames_leaves_the_active_model_and_is_not_redone_as_a_no_op(
    device, monkeypatch
):
    """A power cut between a rollback's two renames (the previous link switched to the active copy, the
    active link not yet) leaves the active model as it was, verified on restart: both links name it. A
    rollback run again then switched that copy to itself, said and audited "rollback: melanoma 1.1.0 is
    active (was 1.1.0)", and deleted the copy the technician meant to return to as a leftover. Both links
    naming one copy, there is nothing to roll back to: it is refused, and that copy is kept."""
    directory, _key, trusted, _first, config = device
    installed = directory / "installed"
    installed_first_then_second(device)
    meant = installed / os.readlink(installed / ".melanoma.previous")
    renames, replace = [], os.replace

    def cut_at_the_second(source, target):
        renames.append(target)
        if len(renames) == 2:
            raise PowerCut
        replace(source, target)

    with monkeypatch.context() as patched, pytest.raises(PowerCut):
        patched.setattr(install.os, "replace", cut_at_the_second)
        install.rollback(installed, "melanoma", trusted_keys(trusted), threads=1)
    assert renames == [installed / ".melanoma.previous", installed / "melanoma"]

    assert ModelShelf(load_config(str(config)))("dermoscopy").card.version == "1.1.0"  # the restart's model
    run = edgescreen("models", "rollback", "melanoma", config=config)
    assert run.returncode == 3, run.stdout  # on main: 0, "rollback: melanoma 1.1.0 is active (was 1.1.0)"
    assert run.stderr.splitlines()[-1].endswith("melanoma has no previous installed bundle to roll back to")
    assert [c["action"] for c in model_changes(directory)] == ["install", "install"]
    assert verify_bundle(meant, trusted_keys(trusted), threads=1).version == "1.0.0"
