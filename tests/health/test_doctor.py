"""``edgescreen doctor`` on real records, models, keys and certificates: one report, each check's level
and what to do, and an exit status that a script or a technician can act on."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Sequence
from contextlib import closing
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from edgescreen_wire.sealed_image import write_key_pair
from firmware_app.app import ModelShelf
from firmware_app.app import open_store as open_real_store
from firmware_app.config import load_config
from firmware_app.health.checks import (
    CAMERA_MISCONFIGURED,
    SERVICE_WRITABLE,
    Level,
    check_certificates,
    check_key_file,
    check_tls,
)
from firmware_app.health.doctor import doctor_checks
from firmware_app.inference.model import ModelError
from firmware_app.messages import message, sentence
from firmware_app.records.clock import current_boot
from firmware_app.records.screening import ScreeningContext
from firmware_app.records.store import OutboxLimits
from firmware_app.wording import check_sentence
from tests.absent_runtimes import shadow_runtimes
from tests.calibration.test_geometry import write_lens_profile
from tests.capture import fake_picamera2
from tests.conftest import MODELS_DIR, PROJECT_ROOT, filled, read_only_view
from tests.records.kit import (
    DEVICE,
    damage_a_sealed_value,
    flip_a_bit_on_the_card,
    in_language,
    open_store,
    reading,
    record_one,
    sample_record,
    small_photo,
    write_config,
)
from tests.sync.signing import station_key, trusting
from tests.sync.test_security import make_test_certs
from tests.test_cli import edgescreen
from tests.test_cli_missing_records import key_on_the_drive
from tests.tls_files import site_tls

NOW = dt.datetime.now(dt.UTC)
ALL_CHECKS = [
    *("models", "camera", "calibration", "disk", "records", "writable", "audit", "committed", "clock", "broker"),
    "backlog",
    "backup",
    *("identity", "sealed", "erased", "key", "encryption", "tls", "verdicts", "app_tls", "quality"),
]


def certificate(path, not_after: dt.datetime, not_before: dt.datetime | None = None):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test CA")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or NOW - dt.timedelta(days=400))
        .not_valid_after(not_after)
        .sign(key, hashes.SHA256())
    )
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path


def doctor(config, prefix: Sequence[str] = ()):
    run = edgescreen("doctor", "--json", config=config, prefix=prefix)
    report = json.loads(run.stdout)
    return run.returncode, {check["name"]: check for check in report["checks"]}, report


def test_a_working_device_reports_every_check_and_exits_0(tmp_path):
    ca = certificate(tmp_path / "ca.crt", NOW + dt.timedelta(days=365))
    config = write_config(tmp_path, 1, f'tls_ca_file = "{ca}"\n')
    open_store(tmp_path).records.close()
    status, checks, report = doctor(config)
    assert status == 0, report
    assert list(checks) == ALL_CHECKS
    assert checks["models"]["level"] == "green" and "(signed)" in checks["models"]["message"]
    assert checks["key"]["level"] == "green" and checks["tls"]["level"] == "green"
    assert checks["broker"]["level"] == "amber"  # no sync worker has connected: amber, never red
    # No verdict key: a verdict is vouched for by the broker's ACL alone, which doctor says.
    assert checks["verdicts"]["level"] == "amber" and "verdict_public_keys" in checks["verdicts"]["message"]
    assert report["red"] == 0 and report["green"] + report["amber"] == len(ALL_CHECKS)
    text = edgescreen("doctor", config=config)
    assert text.returncode == 0 and "GREEN  models" in text.stdout and "0 red" in text.stdout


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_text_report_says_each_level_and_their_count_in_the_devices_language(tmp_path, language):
    """Each line's level and the closing count are in the device's language, as the lines' sentences
    are (they were English on a French device: "AMBER", "0 red, 3 amber, 15 green"); the counts are
    those of ``--json``, whose levels stay codes."""
    config = in_language(write_config(tmp_path, 1), language)
    open_store(tmp_path).records.close()
    _, checks, report = doctor(config)
    text = edgescreen("doctor", config=config)
    *lines, summary = text.stdout.splitlines()
    counts = {level.value: report[level.value] for level in Level}
    assert summary == f"edgescreen {sentence('doctor.summary', language, **counts)}"
    assert ("en rouge" in summary) == (language == "fr")
    said = {line.split()[1]: line.split()[0] for line in lines}
    assert said == {name: message(f"doctor.level.{check['level']}", language) for name, check in checks.items()}
    assert ("VERT" in said.values()) == (language == "fr")


def _screened_into_an_outbox_of_one(directory, screenings: int) -> None:
    """``screenings`` recorded under ``drop_oldest`` with room for one unsent result: all but one dropped.
    Queued on this boot, doctor's (``current_boot``): of another, on this machine's clock, never
    synchronised, the one left would read undated, amber whatever was dropped."""
    store = open_store(directory, limits=OutboxLimits(max_rows=1, policy="drop_oldest"), boot=current_boot())
    for _ in range(screenings):
        record_one(store, small_photo())
    store.records.close()


@pytest.mark.parametrize("language", ["en", "fr"])
def test_results_the_full_outbox_deleted_unsent_are_amber_until_a_technician_acknowledges_them(tmp_path, language):
    """The review's repro: results ``drop_oldest`` deleted unsent, which no specialist will ever see,
    left the backlog line green ("Results waiting to be sent: 1"). They are amber, counted in the right
    form, with what to do, until ``sync acknowledge-dropped``; one dropped after that is amber again."""
    _screened_into_an_outbox_of_one(tmp_path, 3)
    config = in_language(write_config(tmp_path, 1), language)
    _, checks, _ = doctor(config)
    assert checks["backlog"]["level"] == "amber"
    assert checks["backlog"]["message"] == sentence("health.backlog.dropped", language, count=2, waiting=1)
    assert ("2 results were deleted unsent" in checks["backlog"]["message"]) == (language == "en")
    acknowledged = edgescreen("sync", "acknowledge-dropped", config=config)
    assert acknowledged.returncode == 0, acknowledged.stderr
    assert acknowledged.stdout.strip() == sentence("sync.dropped_acknowledged", language, count=2)
    _, checks, _ = doctor(config)
    assert checks["backlog"]["level"] == "green" and checks["audit"]["level"] == "green"
    with closing(reading(tmp_path / "records.sqlite3")) as db:
        events = [json.loads(details) for (details,) in db.execute("SELECT details FROM audit WHERE kind = 'sync'")]
    assert {"dropped_acknowledged": 2} in events
    _screened_into_an_outbox_of_one(tmp_path, 1)
    _, checks, _ = doctor(config)
    assert checks["backlog"]["message"] == sentence("health.backlog.dropped", language, count=1, waiting=1)
    assert ("1 result was deleted unsent" in checks["backlog"]["message"]) == (language == "en")


def test_a_screening_recorded_while_the_clock_ran_fast_never_makes_the_right_clock_red(tmp_path):
    """The review's repro: a screening on a fake-hwclock time two days ahead, then doctor on the
    right clock (whether this machine's kernel says synchronised or not, it is amber, never red)."""
    ahead = NOW + dt.timedelta(days=2)
    store = open_store(tmp_path, clock=lambda: ahead, synchronised=False)
    record_one(store, small_photo(), sample_record(captured_at=ahead))
    store.records.close()
    _, checks, _ = doctor(write_config(tmp_path, 1))
    assert checks["clock"]["level"] == "amber", checks["clock"]
    assert "set the date" not in checks["clock"]["message"]


def test_an_exposed_key_and_a_tampered_model_are_red_with_what_to_do(tmp_path):
    config = write_config(tmp_path, 1, tampered_models(tmp_path))
    open_store(tmp_path).records.close()
    (tmp_path / "records.key").chmod(0o644)
    status, checks, _ = doctor(config)
    assert status == 1
    assert checks["models"]["level"] == "red" and "install its signed bundle again" in checks["models"]["message"]
    assert "model.tflite does not match its sha256" in checks["models"]["values"]["error"]
    assert checks["key"]["level"] == "red" and "chmod 600" in checks["key"]["message"]


def test_without_a_tflite_runtime_the_models_are_red_as_no_model_can_run_not_as_one_to_reinstall(tmp_path):
    """Neither runtime installed: doctor said "A model cannot be loaded. Call the technician to reinstall
    it", and reinstalling a model mends nothing. Now it says no model can run, for want of the runtime,
    which the log names (the sentence ``edgescreen screen`` stops with too)."""
    config = in_language(write_config(tmp_path, 1), "fr")
    open_store(tmp_path).records.close()
    env = {**os.environ, "PYTHONPATH": shadow_runtimes(tmp_path)}
    run = edgescreen("doctor", config=config, env=env)
    assert run.returncode == 1, run.stderr
    (line,) = [line for line in run.stdout.splitlines() if line.split()[1] == "models"]
    assert line.startswith("ROUGE") and line.endswith(f"  {message('health.models.runtime', 'fr')}"), line
    (logged,) = [line for line in run.stderr.splitlines() if "doctor.models_failed" in line]
    assert "no TFLite runtime is installed" in logged


@pytest.mark.parametrize("language", ["en", "fr"])
def test_trusted_keys_that_cannot_be_read_are_red_as_the_keys_not_as_a_model_to_reinstall(tmp_path, language):
    """A key rotation's step gone wrong (a .pub copied cut short, or the folder moved): every bundle is
    refused, and doctor said "A model cannot be loaded. Call the technician to reinstall it", where a
    reinstall is refused the same way. Now it names the trusted keys, as the log line names the file."""
    keys = tmp_path / "trusted-keys"
    shutil.copytree(MODELS_DIR / "trusted-keys", keys)
    (keys / "cut-short.pub").write_text("-----BEGIN PUBLIC KEY-----\n")
    config = in_language(write_config(tmp_path, 1), language)
    settings = config.read_text()
    for folder in (keys, tmp_path / "no-such-folder"):
        config.write_text(f'{settings}[models]\ntrusted_keys = "{folder}"\n')
        status, checks, _ = doctor(config)
        assert status == 1 and checks["models"]["message"] == message("health.models.keys", language), checks


def test_a_lost_key_is_red_and_doctor_makes_no_new_one(tmp_path):
    config = write_config(tmp_path, 1)
    open_store(tmp_path).records.close()
    (tmp_path / "records.key").unlink()
    status, checks, _ = doctor(config)
    assert status == 1 and checks["key"]["level"] == "red" and "is missing" in checks["key"]["message"]
    assert "records" not in checks and not (tmp_path / "records.key").exists()


def test_on_a_fresh_device_doctor_says_there_are_no_records_yet_and_makes_neither_them_nor_a_key(tmp_path):
    var = tmp_path / "var"  # the records' folder is made with them
    config = write_config(tmp_path, 1)
    config.write_text(config.read_text().replace(f"{tmp_path}/records.", f"{var}/records."))
    status, checks, _ = doctor(config)
    assert status == 0 and checks["records"]["level"] == "green" and checks["disk"]["level"] == "green"
    assert checks["records"]["message"].startswith(f"No records yet at {var}/records.sqlite3")
    assert not var.exists()  # on main: records.sqlite3 and a new records.key, after which restore refuses


def test_records_gone_while_their_key_is_there_are_red_not_no_records_yet(tmp_path):
    """A records drive not mounted, or a card replaced before the backup was restored: the app's next
    start would hide the loss under new, empty records."""
    config = write_config(tmp_path, 1)
    open_store(tmp_path).records.close()
    (tmp_path / "records.sqlite3").unlink()
    status, checks, _ = doctor(config)
    assert status == 1 and checks["records"]["level"] == "red"
    assert "yet their key is there" in checks["records"]["message"]
    assert not (tmp_path / "records.sqlite3").exists()


@pytest.mark.parametrize("language", ["en", "fr"])
def test_records_gone_with_their_key_where_the_marker_names_them_are_red_not_no_records_yet(tmp_path, language):
    """Records and their key on a drive not mounted: doctor said green "no records yet", as on a new
    device, while the app's next start would have made new ones; the device's marker names them."""
    config, database, marker = key_on_the_drive(tmp_path, language)
    open_real_store(load_config(str(config))).records.close()
    shutil.rmtree(database.parent)
    status, checks, _ = doctor(config)
    assert status == 1 and checks["records"]["level"] == "red"
    said = sentence("health.records.made_there", language, path=str(database), marker=str(marker))
    assert checks["records"]["message"] == said
    assert not database.parent.exists()


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_config_that_no_longer_names_the_devices_records_is_red_not_no_records_yet(tmp_path, language):
    """``[records] database`` changed where no records are: doctor said green "no records yet" while the
    first screening made new ones there, the device's records out of view where the marker names them."""
    config, database, marker = key_on_the_drive(tmp_path, language)
    open_real_store(load_config(str(config))).records.close()
    elsewhere = tmp_path / "typo"
    config.write_text(config.read_text().replace(f'"{database.parent}/', f'"{elsewhere}/'))
    status, checks, _ = doctor(config)
    assert status == 1 and checks["records"]["level"] == "red"
    values = {"path": str(elsewhere / "records.sqlite3"), "named": str(database), "marker": str(marker)}
    assert checks["records"]["message"] == sentence("health.records.elsewhere", language, **values)
    assert not elsewhere.exists()


def test_records_that_cannot_be_opened_are_red_and_said_by_their_cause(tmp_path):
    """The check's words follow the cause: a read-only folder or a full disk is not "damaged", which
    would send a technician after a file that is whole; a file that is not a database is."""
    config = write_config(tmp_path, 1)
    open_store(tmp_path).records.close()
    (tmp_path / "records.sqlite3").write_bytes(b"not a database " * 100)
    status, checks, _ = doctor(config)
    message = checks["records"]["message"]
    assert status == 1 and checks["records"]["level"] == "red"
    assert message.startswith("The records are damaged. Call the technician: the card is failing.")
    assert "the records file is damaged" in checks["records"]["values"]["error"]


def test_a_model_configured_for_the_other_modality_is_refused_by_screen_and_red_in_doctor(tmp_path, retina_jpeg):
    """``[models] fundus = "melanoma"`` scored a fundus photo with the melanoma model, and said no_refer."""
    config = write_config(tmp_path, 1, '[models]\nfundus = "melanoma"\n')
    status, checks, _ = doctor(config)
    assert status == 1 and checks["models"]["level"] == "red"
    assert "correct [models] in the configuration" in checks["models"]["message"]
    assert "is a dermoscopy model, configured for fundus photos" in checks["models"]["values"]["error"]
    run = edgescreen("screen", "--modality", "fundus", str(retina_jpeg), config=config)
    assert run.returncode == 3 and "is a dermoscopy model, configured for fundus photos" in run.stderr, run.stderr


def test_the_installers_placeholder_ids_are_red(tmp_path):
    """Left as device/config.toml has them, every result would be quarantined at the station."""
    config = write_config(tmp_path, 1)
    assert doctor(config)[1]["identity"]["level"] == "green"
    config.write_text(config.read_text().replace(f'"{DEVICE.id}"', '"change-me-device"'))
    status, checks, _ = doctor(config)
    assert status == 1 and checks["identity"]["level"] == "red"
    assert "[device] id and site" in checks["identity"]["message"]


def test_the_embedded_demo_ids_are_amber_with_the_technicians_words_in_each_language(tmp_path):
    """A device installed for a campaign that still carries the bundled demo's ``demo-device`` or
    ``demo-site`` files its results at the station under another device's name (every demo device's):
    doctor said the ids were fine. Amber, never red: the demo itself screens on them."""
    said = {"en": "set [device] id and site", "fr": "renseignez [device] id et site"}
    for language, demo in (("en", {"id": "demo-device"}), ("fr", {"site": "demo-site"})):
        folder = tmp_path / language
        folder.mkdir()
        config = in_language(write_config(folder, 1), language)
        for name, value in demo.items():
            config.write_text(config.read_text().replace(f'"{getattr(DEVICE, name)}"', f'"{value}"'))
        checks = doctor(config)[1]
        assert checks["identity"]["level"] == "amber", (language, checks["identity"])
        assert said[language] in checks["identity"]["message"], checks["identity"]["message"]
        assert "demo-" in checks["identity"]["message"]


def test_quality_limits_an_older_profile_holds_are_amber_and_named(tmp_path):
    """``edgescreen quality fit`` wrote ``min_lesion_contrast`` from a device's first photos before it
    was declared: read off plainly seen lesions it sits above the default and refuses faint ones as
    no lesion. And a fitted limit looser than today's default (the command never loosens one) was
    fitted before its measure or default changed. The technician is told which lines; a fitted
    limit tighter than the default (the device's own quieter sensor) is no reason to warn."""
    config = write_config(tmp_path, 1, '[quality]\ncamera_model = "acme"\n[quality.dermoscopy]\nmax_noise = 2.2\n')
    open_store(tmp_path).records.close()
    status, checks, _ = doctor(config)
    assert status == 0 and checks["quality"]["level"] == "green", checks["quality"]
    config.write_text(config.read_text() + "min_lesion_contrast = 17.59\nmax_unevenness = 0.2\n")
    status, checks, _ = doctor(config)
    message = checks["quality"]["message"]
    assert status == 0 and checks["quality"]["level"] == "amber"
    assert "[quality.dermoscopy] min_lesion_contrast = 17.59 (default 9.0)" in message
    assert "[quality.dermoscopy] max_unevenness = 0.2 (default 0.1403)" in message
    assert "max_noise" not in message


def test_certificates_are_amber_within_30_days_and_red_once_expired_or_not_yet_valid(tmp_path):
    fine = certificate(tmp_path / "fine.crt", NOW + dt.timedelta(days=200))
    soon = certificate(tmp_path / "soon.crt", NOW + dt.timedelta(days=12))
    gone = certificate(tmp_path / "gone.crt", NOW - dt.timedelta(days=1))
    early = certificate(tmp_path / "early.crt", NOW + dt.timedelta(days=900), not_before=NOW + dt.timedelta(days=3))
    assert check_certificates([fine], NOW).level is Level.GREEN
    amber = check_certificates([fine, soon], NOW)
    assert amber.level is Level.AMBER and amber.values["path"] == soon and amber.values["days"] == 11
    assert check_certificates([fine, gone], NOW).level is Level.RED
    assert check_certificates([early], NOW).level is Level.RED
    (tmp_path / "junk.crt").write_text("not a certificate")
    assert check_certificates([tmp_path / "junk.crt"], NOW).message_key == "health.tls.unreadable"
    assert check_certificates([], NOW).message_key == "health.tls.none"


@pytest.mark.parametrize("language", ["en", "fr"])
def test_another_devices_certificate_is_red_naming_both_ids(tmp_path, language):
    """The site broker takes a client's id from its certificate's CN and confines it to that id's
    topics: a device given another's certificate (dev-08's files installed on dev-07) had every
    result refused "Not authorized" while doctor said "TLS certificates valid"."""
    certs = make_test_certs(tmp_path / "certs", DEVICE.id, "cam-99")
    for name, level in ((DEVICE.id, "green"), ("cam-99", "red")):
        tls = f'tls_ca_file = "{certs}/ca.crt"\n'
        tls += f'tls_cert_file = "{certs}/{name}.crt"\ntls_key_file = "{certs}/{name}.key"\n'
        folder = tmp_path / name
        folder.mkdir()
        checks = doctor(in_language(write_config(folder, 1, tls), language))[1]
        assert checks["tls"]["level"] == level, checks["tls"]
    values = {"path": f"{certs}/cam-99.crt", "owner": "cam-99", "device": DEVICE.id}
    assert checks["tls"]["message"] == sentence("health.tls.another_device", language, **values)


def test_the_device_certificate_is_read_once_so_its_owner_and_its_dates_come_from_one_file(tmp_path, monkeypatch):
    """doctor read the client certificate once for its owner and again for its dates: a certificate
    replaced between the two (a technician installing the next one as doctor ran) had its owner judged
    on one file and its dates on another, the line then contradicting what the worker presents."""
    certs = make_test_certs(tmp_path / "certs", DEVICE.id)
    client = certs / f"{DEVICE.id}.crt"
    tls = f'tls_ca_file = "{certs}/ca.crt"\ntls_cert_file = "{client}"\ntls_key_file = "{certs}/{DEVICE.id}.key"\n'
    settings = load_config(write_config(tmp_path, 1, tls)).sync
    read_bytes, replaced = Path.read_bytes, []

    def replaced_once_read(path: Path) -> bytes:
        held = read_bytes(path)
        if path == client and not replaced:  # a read after this one finds another, expired, certificate
            replaced.append(certificate(client, NOW - dt.timedelta(days=1)))
        return held

    monkeypatch.setattr(Path, "read_bytes", replaced_once_read)
    checked = check_tls(settings, DEVICE.id, dt.datetime.now(dt.UTC))  # NOW is older than these certificates
    assert checked.level is Level.GREEN, checked


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_certificate_without_a_common_name_is_red_saying_it_has_none(tmp_path, language):
    """The site's CA signed a certificate with no CN (a request made without ``-subj /CN=...``): the
    broker gives its client no name, and doctor said it was "None's"."""
    certs = make_test_certs(tmp_path / "certs", DEVICE.id)
    openssl = ["openssl", "req", "-new", "-key", f"{certs}/{DEVICE.id}.key", "-subj", "/O=EdgeScreen"]
    request = subprocess.run(openssl, check=True, capture_output=True).stdout
    signing = ["openssl", "x509", "-req", "-CA", f"{certs}/ca.crt", "-CAkey", f"{certs}/ca.key", "-days", "90"]
    (certs / "nameless.crt").write_bytes(subprocess.run(signing, input=request, check=True, capture_output=True).stdout)
    tls = f'tls_ca_file = "{certs}/ca.crt"\n'
    tls += f'tls_cert_file = "{certs}/nameless.crt"\ntls_key_file = "{certs}/{DEVICE.id}.key"\n'
    checks = doctor(in_language(write_config(tmp_path, 1, tls), language))[1]
    assert checks["tls"]["level"] == "red" and "None" not in checks["tls"]["message"]
    values = {"path": f"{certs}/nameless.crt", "device": DEVICE.id}
    assert checks["tls"]["message"] == sentence("health.tls.no_common_name", language, **values)


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_app_opened_to_the_network_without_https_is_red_with_what_to_set(tmp_path, language):
    """Over plain HTTP the network would carry patient data (references, results, photos) and the PINs
    typed on a tablet in clear: red, as the app refuses to start on it, naming the patient data and the
    keys that set HTTPS; loopback, or HTTPS, is green."""
    config = write_config(tmp_path, 1, '[app]\nbind = "0.0.0.0"\n')
    config.write_text(config.read_text().replace("[device]\n", f'[device]\nlanguage = "{language}"\n', 1))
    open_store(tmp_path).records.close()
    _, checks, _ = doctor(config)
    said = checks["app_tls"]["message"]
    assert checks["app_tls"]["level"] == "red", said
    assert said == sentence("health.app_tls.red", language, bind="0.0.0.0")
    assert "tls_cert_file" in said and "tls_key_file" in said and "127.0.0.1" in said
    assert ("patient data" if language == "en" else "données des patients") in said
    tls = site_tls(tmp_path / "tls")
    config.write_text(config.read_text().replace("[app]\n", f"[app]\n{tls.app_lines(8443)}", 1))
    _, checks, _ = doctor(config)
    assert checks["app_tls"]["level"] == "green"
    assert checks["app_tls"]["message"] == sentence("health.app_tls.https", language, port="8443")


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_apps_https_certificate_is_amber_near_its_expiry_and_red_once_expired(tmp_path, language):
    """doctor checked the sync certificates' dates, not the app's own: once it expired every tablet
    refused the app, and no line said why. It has its line, by the sync certificates' window."""
    open_store(tmp_path).records.close()
    for days, level in ((200, "green"), (12, "amber"), (-1, "red")):
        tls = site_tls(tmp_path / f"tls{days}", days=days)
        config = in_language(write_config(tmp_path, 1, f"[app]\n{tls.app_lines(8443)}"), language)
        status, checks, report = doctor(config)
        assert [name for name in checks if name not in ALL_CHECKS] == ["app_certificate"], report
        dates = checks["app_certificate"]
        assert dates["level"] == level and dates["values"]["path"] == str(tls.certificate), dates
        assert dates["message"] == sentence(f"health.app_certificate.{level}", language, **dates["values"])
        assert checks["app_tls"]["level"] == "green"
    assert status == 1 and dates["values"]["days"] < 0
    (tmp_path / "junk.crt").write_text("not a certificate")
    unreadable = check_certificates([tmp_path / "junk.crt"], NOW, "app_certificate")
    assert unreadable.level is Level.RED and "junk.crt" in check_sentence(unreadable, language)


def test_key_file_checks(tmp_path):
    key = tmp_path / "records.key"
    assert check_key_file(key, records_exist=False).message_key == "health.key.new"
    assert check_key_file(key, records_exist=True).message_key == "health.key.missing"
    key.write_bytes(b"x" * 31)
    key.chmod(0o600)
    short = check_key_file(key, records_exist=True)
    assert short.message_key == "health.key.size" and short.values["size"] == 31
    assert check_sentence(short, "fr") == (
        f"La clé des dossiers {key} fait 31 octets, et non 32\u00a0: ce n'est pas une clé des dossiers. Remettez "
        "celle gardée avec les sauvegardes."
    )
    # Its mode as `ls -l` shows it and as the records say when they refuse it (secret_file.py), not Python's 0o644.
    key.chmod(0o644)
    exposed = check_key_file(key, records_exist=True)
    assert exposed.message_key == "health.key.exposed" and exposed.values["mode"] == "-rw-r--r--"


def test_a_signed_card_edited_after_install_is_refused_by_the_screening_not_only_by_doctor(tmp_path, retina_jpeg):
    """A screening threshold moved from 0.24 to 0.999 in an installed bundle's card: the model and its
    card still agree (the card's sha256 is of the ``.tflite``), so only the signed manifest tells. The
    app, ``screen`` and ``models`` load through the same verification as ``doctor``."""
    models = tmp_path / "models"
    shutil.copytree(MODELS_DIR, models)
    card = models / "dr-referable" / "card.json"
    card.write_text(card.read_text().replace('"threshold": 0.243887', '"threshold": 0.999', 1))
    config = write_config(tmp_path, 1, f'[models]\ndirectory = "{models}"\ntrusted_keys = "{models}/trusted-keys"\n')
    refused = "card.json does not match its sha256 in the manifest"
    run = edgescreen("screen", "--modality", "fundus", str(retina_jpeg), config=config)
    assert run.returncode == 3 and refused in run.stderr, run.stderr
    listed = edgescreen("models", config=config)
    assert listed.returncode == 1 and f"dr-referable  NOT VERIFIED  {models}/dr-referable: {refused}" in listed.stdout
    assert "melanoma 2.3.0  verified, signed" in listed.stdout
    with pytest.raises(ModelError, match=refused):
        ModelShelf(load_config(str(config)))("fundus")  # the app's and the pipeline's loader
    _, checks, _ = doctor(config)
    assert checks["models"]["level"] == "red" and refused in checks["models"]["values"]["error"]


def test_a_bare_model_folder_loads_and_is_named_unsigned_everywhere(tmp_path):
    models = tmp_path / "models"
    shutil.copytree(MODELS_DIR, models)
    for name in ("manifest.json", "manifest.sig"):
        (models / "melanoma" / name).unlink()
    config = write_config(tmp_path, 1, f'[models]\ndirectory = "{models}"\ntrusted_keys = "{models}/trusted-keys"\n')
    assert "melanoma 2.3.0  verified, UNSIGNED" in edgescreen("models", config=config).stdout
    _, checks, _ = doctor(config)
    assert "melanoma 2.3.0 (unsigned)" in checks["models"]["message"]


def test_a_config_moved_to_another_site_under_the_records_is_red(tmp_path):
    """The review's re-assignment by an edit of `site`: the old clinic's sealed patients stayed
    readable at the new one, and doctor stayed green."""
    config = write_config(tmp_path, 1)
    record_one(open_store(tmp_path), small_photo())
    config.write_text(config.read_text().replace(f'site = "{DEVICE.site}"', 'site = "clinic-b"'))
    status, checks, _ = doctor(config)
    assert status == 1 and checks["identity"]["level"] == "red"
    assert f"made by {DEVICE.id} at {DEVICE.site}" in checks["identity"]["message"]
    assert "edgescreen wipe" in checks["identity"]["message"]


def test_the_stations_verdict_keys_are_green_when_usable_and_red_when_not(tmp_path):
    _, public = station_key(tmp_path)
    photo_key = tmp_path / "station-image.pub"  # the station's other public key: X25519, not Ed25519
    write_key_pair(tmp_path / "station-image.key", photo_key)
    open_store(tmp_path).records.close()
    _, checks, _ = doctor(write_config(tmp_path, 1, trusting(public)))
    assert checks["verdicts"]["level"] == "green"
    for unusable in (photo_key, tmp_path / "gone.pub"):
        status, checks, _ = doctor(write_config(tmp_path, 1, trusting(public, unusable)))
        assert status != 0 and checks["verdicts"]["level"] == "red"
        assert str(unusable) in checks["verdicts"]["message"]


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", "restore the last backup onto a new card (README, Backup and restore)"),
        ("fr", "restaurez la dernière sauvegarde sur une carte neuve"),
    ],
)
def test_a_page_of_the_records_damaged_on_a_worn_card_is_red_with_what_to_do(tmp_path, retina_rgb, language, words):
    """quick_check's finding used to end in "Call the technician": the technician running doctor was
    told to call themself, and not that the card is failing and the backup is the way back."""
    config = write_config(tmp_path, 1)
    config.write_text(config.read_text().replace("[device]\n", f'[device]\nlanguage = "{language}"\n', 1))
    store = open_store(tmp_path)
    for _ in range(3):
        record_one(store, small_photo(retina_rgb, size=600))
    last_page = store.records.connection.execute("PRAGMA page_count").fetchone()[0]
    store.records.close()
    with (tmp_path / "records.sqlite3").open("r+b") as records:  # a page of a photo, mid-file, gone to zeros
        records.seek((last_page // 2) * 4096)
        records.write(bytes(4096))
    status, checks, _ = doctor(config)
    assert status == 1 and checks["records"]["level"] == "red"
    assert words in checks["records"]["message"], checks["records"]["message"]


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", "The card is wearing out: back up now, then replace the card"),
        ("fr", "sauvegardez maintenant, puis remplacez la carte et restaurez la sauvegarde"),
    ],
)
def test_a_photo_and_a_reference_changed_on_a_worn_card_are_named_by_doctor(tmp_path, retina_rgb, language, words):
    """quick_check reads pages, not values: a bit flipped inside a sealed photo or patient reference
    left every check green until a reviewer, an export or an erasure needed the value."""
    config = write_config(tmp_path, 1)
    config.write_text(config.read_text().replace("[device]\n", f'[device]\nlanguage = "{language}"\n', 1))
    store = open_store(tmp_path)
    ids = [
        record_one(store, small_photo(retina_rgb), sample_record(ScreeningContext(patient_ref=f"NIP-{n}"))).result_id
        for n in range(4)
    ]
    assert doctor(config)[1]["sealed"]["level"] == "green"
    connection = store.records.connection
    (photo,) = connection.execute("SELECT sealed FROM image WHERE result_id = ?", (ids[1],)).fetchone()
    (reference,) = connection.execute("SELECT patient_sealed FROM screening WHERE result_id = ?", (ids[3],)).fetchone()
    store.records.close()
    flip_a_bit_on_the_card(tmp_path / "records.sqlite3", photo)
    flip_a_bit_on_the_card(tmp_path / "records.sqlite3", reference)

    status, checks, _ = doctor(config)
    assert checks["records"]["level"] == "green"  # the pages are whole
    assert status == 0 and checks["sealed"]["level"] == "amber"
    assert f"{ids[1]}, {ids[3]}" in checks["sealed"]["message"] and words in checks["sealed"]["message"]
    counted = {"en": "2 screenings hold", "fr": "2 dépistages contiennent"}[language]
    assert checks["sealed"]["message"].startswith(counted), checks["sealed"]["message"]


@pytest.mark.parametrize(
    ("language", "sealed", "keys"),
    [
        ("en", "1 screening holds a sealed value", "(1 key)."),
        ("fr", "1 dépistage contient une valeur chiffrée", "(1 clé)."),
    ],
)
def test_doctor_counts_one_damaged_screening_and_one_verdict_key_in_the_singular(
    tmp_path, retina_rgb, language, sealed, keys
):
    """A French doctor read "1 examen(s) contiennent une valeur chiffrée" and "(1 clé(s))": each count is
    said in its singular or plural form, as every other sentence of the device says it."""
    _, public = station_key(tmp_path)
    config = in_language(write_config(tmp_path, 1, trusting(public)), language)
    store = open_store(tmp_path)
    result_id = record_one(store, small_photo(retina_rgb)).result_id
    damage_a_sealed_value(store, "SELECT sealed FROM image WHERE result_id = ?", result_id)
    _, checks, _ = doctor(config)
    assert checks["sealed"]["message"].startswith(sealed), checks["sealed"]["message"]
    assert checks["verdicts"]["message"].endswith(keys), checks["verdicts"]["message"]


@pytest.mark.parametrize("language", ["en", "fr"])
def test_doctor_says_erased_data_is_still_on_the_disk_while_a_reader_holds_it_and_folds_it_out_after(
    tmp_path, retina_rgb, language
):
    """An erasure during a backup leaves its pages in the WAL until the read ends: the technician
    answering the request is told, and doctor run once the backup is over takes them off the disk."""
    config = in_language(write_config(tmp_path, 1), language)
    store = open_store(tmp_path)
    erased = record_one(store, small_photo(retina_rgb), sample_record(ScreeningContext(patient_ref="NIP-1")))
    (photo,) = store.records.connection.execute(
        "SELECT sealed FROM image WHERE result_id = ?", (erased.result_id,)
    ).fetchone()
    reader = sqlite3.connect(tmp_path / "records.sqlite3", isolation_level=None)  # a backup's read
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM screening").fetchone()
    assert store.erase_patient("NIP-1").left_on_disk
    store.records.close()
    status, checks, _ = doctor(config)
    assert status == 0 and checks["erased"]["level"] == "amber"
    assert checks["erased"]["message"] == message("health.erased.reader", language)
    reader.close()  # the backup is over
    status, checks, _ = doctor(config)
    assert checks["erased"]["level"] == "green"
    on_disk = b"".join(path.read_bytes() for path in tmp_path.glob("records.sqlite3*"))
    assert bytes(photo)[1000:1032] not in on_disk


def test_a_profile_that_does_not_fit_the_cameras_frames_is_a_red_camera(tmp_path):
    """A lens step made on 4:3 photos, a camera giving square frames: doctor said camera and
    calibration green while every capture failed. Now the probed frame goes through the profile."""
    profile_path = tmp_path / "lens.json"
    write_lens_profile(profile_path)
    retina = PROJECT_ROOT / "firmware_app" / "samples" / "fundus-retina.jpg"
    config = write_config(tmp_path, 1, f'[camera]\nfiles = ["{retina}"]\n[calibration]\nprofile = "{profile_path}"\n')
    open_store(tmp_path).records.close()
    status, checks, _ = doctor(config)
    assert status == 1 and checks["camera"]["level"] == "red", checks["camera"]
    assert "its pictures do not fit the calibration profile" in checks["camera"]["message"]
    assert "does not have the proportions of the lens calibration" in checks["camera"]["values"]["error"]
    assert "[camera]" in checks["camera"]["message"] and checks["calibration"]["level"] == "green"


@pytest.mark.parametrize(
    ("language", "said"),
    [
        (
            "en",
            "The camera is not working: a photo file or folder it is set to read is missing. "
            "The technician checks [camera] in the configuration.",
        ),
        (
            "fr",
            "La caméra ne fonctionne pas\u00a0: un fichier ou un dossier de photos qu'elle doit lire est absent. "
            "Le technicien vérifie [camera] dans la configuration.",
        ),
    ],
)
def test_doctor_says_the_cameras_trouble_in_the_devices_language_and_logs_its_own_words(tmp_path, language, said):
    """The French report read "La caméra n'est pas configurée correctement (files camera: ... no such
    image file)": the camera's English inside a French sentence. Now the sentence is the catalogue's
    (``CameraError.sentence``) and the camera's own words, which name the path to look at, are the
    log's (stderr, the technician's terminal) and the JSON's values."""
    absent = tmp_path / "absent"
    config = in_language(write_config(tmp_path, 1, f'[camera]\nfiles = ["{absent}"]\n'), language)
    open_store(tmp_path).records.close()
    text = edgescreen("doctor", config=config)
    assert text.returncode == 1, text.stderr
    (line,) = [line for line in text.stdout.splitlines() if line.split()[1] == "camera"]
    assert line.startswith(message("doctor.level.red", language)) and line.endswith(f"  {said}"), line
    assert str(absent) not in text.stdout and "no such" not in text.stdout
    (logged,) = [line for line in text.stderr.splitlines() if "doctor.camera_failed" in line]
    assert str(absent) in logged and "no such image file" in logged
    status, checks, _ = doctor(config)
    assert status == 1 and checks["camera"]["message"] == said
    assert str(absent) in checks["camera"]["values"]["error"]


def test_a_camera_that_fails_is_said_in_french_with_the_cable_to_check(tmp_path):
    """Not set up wrong but failing (its one photo unreadable, as a driver's fault): French throughout."""
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG not really")
    config = in_language(write_config(tmp_path, 1, f'[camera]\nfiles = ["{broken}"]\n'), "fr")
    open_store(tmp_path).records.close()
    status, checks, _ = doctor(config)
    assert status == 1 and checks["camera"]["level"] == "red"
    assert checks["camera"]["message"] == (
        "La caméra ne fonctionne pas\u00a0: la seule photo qu'elle lit est inutilisable. "
        "Vérifiez son câble, puis vérifiez à nouveau."
    )
    assert str(broken) in checks["camera"]["values"]["error"]


def test_a_still_size_the_profile_does_not_fit_is_a_red_camera_too(tmp_path, monkeypatch, retina_rgb):
    """The preview (640x480) fits the lens step, the configured stills (480x480) do not: doctor said
    green and every shutter press failed. Doctor takes one still too (the Raspberry Pi camera's fake)."""
    fake_picamera2.install(monkeypatch, retina_rgb)
    profile = tmp_path / "lens.json"
    write_lens_profile(profile)
    camera = 'backend = "picamera2"\npreview_width = 640\npreview_height = 480\nstill_width = 480\nstill_height = 480\n'
    path = write_config(tmp_path, 1, f'[camera]\n{camera}[calibration]\nprofile = "{profile}"\n')
    open_store(tmp_path).records.close()
    checks = {check.name: check for check in doctor_checks(load_config(str(path)))}
    camera_check = checks["camera"]
    assert camera_check.level is Level.RED and camera_check.message_key == CAMERA_MISCONFIGURED
    assert "a 480x480 frame does not have the proportions of the lens calibration" in str(camera_check.values["error"])


NOBODY = 65534


@pytest.mark.parametrize(
    ("command", "status", "stream"),
    [(("doctor",), 1, "stderr"), (("sync", "status"), 5, "stderr"), (("audit", "verify"), 5, "stderr")],
)
def test_records_this_user_may_not_look_at_are_said_not_a_traceback(
    tmp_path, not_over_file_modes, command, status, stream
):
    """The device's records folder is its service user's alone (0700): `Path.exists` on the records
    raised PermissionError for any other user (doctor, `sync status`, `audit verify`: tracebacks).
    The records are then present but unusable: doctor red (its log line naming why, as for every
    check's English detail), the others exit 5, each naming why."""
    folder = tmp_path / "state"
    folder.mkdir()
    os.chown(folder, NOBODY, NOBODY)
    folder.chmod(0o700)
    config = write_config(tmp_path, 1883)
    config.write_text(config.read_text().replace(f'"{tmp_path}/records', f'"{folder}/records'))
    run = edgescreen(*command, config=config, prefix=not_over_file_modes)
    assert "Traceback" not in run.stderr, run.stderr
    assert run.returncode == status, run.stdout + run.stderr
    assert "Permission denied" in getattr(run, stream)


def tampered_models(tmp_path):
    """The shipped bundles with one byte of the melanoma model changed: its sha256 no longer the signed one."""
    models = tmp_path / "models"
    shutil.copytree(MODELS_DIR, models)
    tflite = models / "melanoma" / "model.tflite"
    data = bytearray(tflite.read_bytes())
    data[-100] ^= 0xFF
    tflite.write_bytes(bytes(data))
    return f'[models]\ndirectory = "{models}"\ntrusted_keys = "{models}/trusted-keys"\n'


def unreadable_profile(tmp_path):
    (tmp_path / "profile.json").write_text("{ not json")
    return f'[calibration]\nprofile = "{tmp_path}/profile.json"\n'


def not_a_database(tmp_path):
    (tmp_path / "records.sqlite3").write_bytes(b"not a database " * 100)
    return ""


def not_a_certificate(tmp_path):
    (tmp_path / "ca.crt").write_text("not a certificate")
    return f'tls_ca_file = "{tmp_path}/ca.crt"\n'


# Each check's failures, one per kind: the config's extra lines (made under tmp_path), the check, its
# sentence's key, and the English detail that tells the technician which file and what is wrong; the
# sentence's own values (a path), made under tmp_path too.
FAILURES = {
    "model not installed": (
        lambda tmp_path: '[models]\nfundus = "absent"\n',
        "models",
        "health.models.missing",
        "card.json: model card not found",
    ),
    "model changed": (tampered_models, "models", "health.models.refused", "model.tflite does not match its sha256"),
    "model for other photos": (
        lambda tmp_path: '[models]\nfundus = "melanoma"\n',
        "models",
        "health.models.wrong",
        "is a dermoscopy model, configured for fundus photos",
    ),
    "profile missing": (
        lambda tmp_path: f'[calibration]\nprofile = "{tmp_path}/absent.json"\n',
        "calibration",
        "health.calibration.missing",
        "absent.json: calibration profile not found",
    ),
    "profile unreadable": (
        unreadable_profile,
        "calibration",
        "health.calibration.red",
        "not a readable JSON calibration profile",
    ),
    "records damaged": (not_a_database, "records", "health.records.red", "the records file is damaged"),
    "TLS files unusable": (not_a_certificate, "tls", "health.tls.unusable", "NO_CERTIFICATE_OR_CRL_FOUND"),
    "verdict key missing": (
        lambda tmp_path: trusting(tmp_path / "gone.pub"),
        "verdicts",
        "health.verdicts.red",
        "not a readable PEM public key",
        lambda tmp_path: {"path": tmp_path / "gone.pub"},
    ),
}


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("failure", list(FAILURES))
def test_each_checks_failure_is_said_in_the_devices_language_by_its_kind_and_its_detail_logged(
    tmp_path, failure, language
):
    """The French report read "Un modèle n'a pas passé sa vérification (/.../melanoma: model.tflite does
    not match its sha256 ...)", and so for the profile and the records: English inside French, and one
    sentence whatever the failure. Now the line is the catalogue's sentence for the kind of failure,
    with what the technician does, in the device's language; the check's own words (which file, what
    is wrong) are one log line on stderr (``doctor.<check>_failed``, ERROR) and ``--json``'s values."""
    setup, name, key, detail, *shown = FAILURES[failure]
    said = message(key, language).format(**(shown[0](tmp_path) if shown else {}))
    open_store(tmp_path).records.close()
    config = in_language(write_config(tmp_path, 1, setup(tmp_path)), language)
    text = edgescreen("doctor", config=config)
    assert text.returncode == 1, text.stderr
    (line,) = [line for line in text.stdout.splitlines() if line.split()[1] == name]
    assert line.startswith(message("doctor.level.red", language)) and line.endswith(f"  {said}"), line
    assert detail not in text.stdout
    (logged,) = [line for line in text.stderr.splitlines() if f"doctor.{name}_failed" in line]
    assert " ERROR " in logged and detail in logged
    status, checks, _ = doctor(config)
    assert status == 1 and checks[name]["message"] == said
    assert detail in checks[name]["values"]["error"]


def erased_during_a_read(store, reference: str) -> sqlite3.Connection:
    """``reference`` erased while another connection read the records (a backup's), then ``store``
    closed: the erased pages stay in the write-ahead log, which that connection, its read over and
    kept open, keeps on the disk for doctor's checkpoint."""
    reader = reading(store.records.path)
    assert store.erase_patient(reference).left_on_disk
    store.records.close()
    reader.execute("COMMIT")
    return reader


@pytest.mark.parametrize("language", ["en", "fr"])
def test_doctor_says_erased_data_is_left_by_a_full_disk_not_by_a_reader(tiny_filesystem, retina_rgb, language):
    """The checkpoint that takes erased pages off the disk fails on a full disk: the amber line said
    another program was reading, and sent the technician to wait for a backup that was not running."""
    config = in_language(write_config(tiny_filesystem, 1), language)
    store = open_store(tiny_filesystem)
    record_one(store, small_photo(retina_rgb, 64), sample_record(ScreeningContext(patient_ref="NIP-1")))
    reader = erased_during_a_read(store, "NIP-1")
    filled(tiny_filesystem)
    _, checks, _ = doctor(config)
    assert checks["erased"]["level"] == "amber"
    assert checks["erased"]["message"] == message("health.erased.full", language)
    (tiny_filesystem / "filler").unlink()
    assert doctor(config)[1]["erased"]["level"] == "green"
    reader.close()


@pytest.mark.parametrize("language", ["en", "fr"])
def test_doctor_says_erased_data_is_left_by_a_records_file_cut_short_not_by_a_reader(tmp_path, retina_rgb, language):
    """The card lost the end of the records file (the pages of screenings folded into it before the
    erasure): SQLite's checkpoint finds the file shorter than the write-ahead log says it is and
    refuses to copy the erased pages into it (SQLITE_CORRUPT). A flipped bit would not do: the
    checkpoint writes pages over the file, it reads none of them."""
    config = in_language(write_config(tmp_path, 1), language)
    store = open_store(tmp_path)
    record_one(store, small_photo(retina_rgb, 64), sample_record(ScreeningContext(patient_ref="NIP-1")))
    for _ in range(4):
        record_one(store, small_photo(retina_rgb, 1024))
    store.records.connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # about 800 KB in the file
    reader = erased_during_a_read(store, "NIP-1")
    os.truncate(tmp_path / "records.sqlite3", 128 * 1024)
    status, checks, _ = doctor(config)
    assert status == 1 and checks["records"]["level"] == "red"
    assert checks["erased"]["level"] == "amber"
    assert checks["erased"]["message"] == message("health.erased.damaged", language)
    assert "the records file is damaged" in checks["erased"]["values"]["error"]
    reader.close()


@pytest.mark.parametrize("language", ["en", "fr"])
def test_doctor_says_erased_data_is_left_by_a_log_it_cannot_write_not_by_a_reader(
    tmp_path, retina_rgb, not_over_file_modes, language
):
    """The write-ahead log belongs to another user and only reads for the device's (a root shell's
    sqlite3 opened the records, say): SQLite opens it read-only, and the checkpoint cannot write
    (SQLITE_READONLY). Every other records check stays green: this line is the one sign."""
    config = in_language(write_config(tmp_path, 1), language)
    store = open_store(tmp_path)
    record_one(store, small_photo(retina_rgb, 64), sample_record(ScreeningContext(patient_ref="NIP-1")))
    reader = erased_during_a_read(store, "NIP-1")
    log = tmp_path / "records.sqlite3-wal"
    os.chown(log, NOBODY, NOBODY)
    log.chmod(0o644)
    _, checks, _ = doctor(config, prefix=not_over_file_modes)
    assert checks["records"]["level"] == "green" and checks["erased"]["level"] == "amber"
    assert checks["erased"]["message"] == message("health.erased.failed", language)
    assert "the records cannot be written" in checks["erased"]["values"]["error"]
    os.chown(log, os.geteuid(), os.getegid())  # the log the device's own again
    assert doctor(config, prefix=not_over_file_modes)[1]["erased"]["level"] == "green"
    reader.close()


def left_as_found(folder: Path) -> tuple[list[str], int]:
    """The files of ``folder`` and the screenings its records hold: a doctor run adds neither (its
    own writes, the audit's verified mark and the erasures' checkpoint, are the records' upkeep)."""
    names = sorted(path.name for path in folder.iterdir())
    with closing(sqlite3.connect(folder / "records.sqlite3")) as records:  # read-only, it would leave its log
        screenings = records.execute("SELECT count(*) FROM screening").fetchone()[0]
    return names, screenings


# What the device's user may not write (beside the records, owned by nobody), with its mode, and whether the
# app runs meanwhile (its connection keeps the write-ahead log and the shared memory): a log a root shell's
# sqlite3 made, a records file or a folder a restore run as root left root's.
NOT_WRITABLE = {
    "log": ("records.sqlite3-wal", 0o644, True),
    "records file": ("records.sqlite3", 0o644, True),
    "folder": ("", 0o755, True),
    "folder, app stopped": ("", 0o755, False),
}


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("refused", list(NOT_WRITABLE))
def test_records_the_devices_user_may_not_write_are_red_naming_the_file_and_whose_and_left_unchanged(
    tmp_path, retina_rgb, not_over_file_modes, refused, language
):
    """SQLite opens a file it may only read read-only without a word, and every records check read
    the records whole: "Records healthy", doctor green, while the next screening could not be
    recorded. Now the writable line is red, naming the file or folder, its owner and mode, the user
    refused, and the commands that give it back, in the device's language; the records line stays
    what it was (whole, or not opened when the folder refuses SQLite its log). The run leaves no
    file and no screening behind."""
    name, mode, running = NOT_WRITABLE[refused]
    config = in_language(write_config(tmp_path, 1), language)
    store = open_store(tmp_path)
    record_one(store, small_photo(retina_rgb, 64), sample_record())
    store.records.close()
    with closing(sqlite3.connect(tmp_path / "records.sqlite3")) as app:
        if running:
            app.execute("SELECT count(*) FROM screening").fetchone()
        before = left_as_found(tmp_path)  # before the chown: SQLite, as root, gives the log back to the records' owner
        path = tmp_path / name
        os.chown(path, NOBODY, NOBODY)
        path.chmod(mode)
        status, checks, _ = doctor(config, prefix=not_over_file_modes)
        assert left_as_found(tmp_path) == before
    assert status == 1 and checks["writable"]["level"] == "red", checks.get("writable")
    grant = "u+rw" if name else "u+rwx"
    values = {"path": path, "owner": "nobody", "mode": f"{mode:04o}", "user": "root", "grant": grant}
    assert checks["writable"]["message"] == message("health.writable.permission", language).format(**values)
    assert checks["records"]["level"] == ("green" if running else "red")


@pytest.mark.parametrize("language", ["en", "fr"])
def test_records_this_process_sees_read_only_are_red_naming_the_mount(tmp_path, retina_rgb, language):
    """The records read-only to this process: they open and read whole, and the records line was
    green. A read-only bind mount over a writable disk, as the service's sandbox makes of records
    outside its writable paths: the writable line names the mount, the sandbox and where it lets the
    service write (the file system itself read-only, as the kernel leaves a failing card, is
    tests/health/test_checks.py's)."""
    folder = tmp_path / "state"
    folder.mkdir()
    store = open_store(folder)
    record_one(store, small_photo(retina_rgb, 64), sample_record())
    store.records.close()
    with closing(sqlite3.connect(folder / "records.sqlite3")) as app:
        app.execute("SELECT count(*) FROM screening").fetchone()  # the app runs: its log is there
        with read_only_view(folder, tmp_path / "mounted") as mounted:
            config = in_language(write_config(tmp_path, 1), language)
            config.write_text(config.read_text().replace(f'"{tmp_path}/records', f'"{mounted}/records'))
            before = left_as_found(folder)
            status, checks, _ = doctor(config)
            assert left_as_found(folder) == before
    assert status == 1 and checks["records"]["level"] == "green"
    writable = checks["writable"]
    assert writable["level"] == "red" and writable["values"]["folder"] == str(mounted)
    values = {"folder": mounted, "writable": SERVICE_WRITABLE}
    assert writable["message"] == message("health.writable.sandbox", language).format(**values)


def test_records_reached_through_a_symbolic_link_are_red_for_a_log_beside_the_file_linked_to(
    tmp_path, retina_rgb, not_over_file_modes
):
    """The records file a symbolic link to one on another folder (a larger partition, say): SQLite
    follows the link and keeps the write-ahead log beside the file linked to. A log of root's there
    (a root shell's sqlite3) refused every write, and the writable line, asking beside the link, was
    green. It is red now, naming that log."""
    config = write_config(tmp_path, 1)
    elsewhere = tmp_path / "partition"
    elsewhere.mkdir()
    store = open_store(elsewhere)
    record_one(store, small_photo(retina_rgb, 64), sample_record())
    store.records.close()
    (tmp_path / "records.sqlite3").symlink_to(elsewhere / "records.sqlite3")
    (elsewhere / "records.key").rename(tmp_path / "records.key")  # where the config has it
    with closing(sqlite3.connect(tmp_path / "records.sqlite3")) as app:
        app.execute("SELECT count(*) FROM screening").fetchone()  # the app running: its log stays
        assert doctor(config, prefix=not_over_file_modes)[1]["writable"]["level"] == "green"  # the link is no fault
        log = elsewhere / "records.sqlite3-wal"
        os.chown(log, NOBODY, NOBODY)
        log.chmod(0o644)
        status, checks, _ = doctor(config, prefix=not_over_file_modes)
    assert status == 1 and checks["writable"]["level"] == "red", checks["writable"]
    values = {"path": log, "owner": "nobody", "mode": "0644", "user": "root", "grant": "u+rw"}
    assert checks["writable"]["message"] == message("health.writable.permission", "en").format(**values)
