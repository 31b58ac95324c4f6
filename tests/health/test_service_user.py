"""``sudo edgescreen doctor``: root writes anywhere, so its writable line judges the records' files for
the services' user, or says it cannot. Real records, real file owners and modes, doctor as root."""

from __future__ import annotations

import os
import pwd

import pytest

from firmware_app.config import load_config
from firmware_app.health import service_user
from firmware_app.health.checks import Level
from firmware_app.health.doctor import doctor_checks
from firmware_app.messages import message
from firmware_app.wording import check_sentence
from tests.health.test_doctor import doctor
from tests.records.kit import in_language, open_store, record_one, sample_record, small_photo, write_config

NOBODY = pwd.getpwnam("nobody")


@pytest.fixture()
def as_root():
    if not service_user.passes_over_file_modes():
        pytest.skip("needs root, as the technician's sudo runs doctor")


@pytest.mark.parametrize("language", ["en", "fr"])
def test_doctor_as_root_judges_the_records_for_the_services_user(tmp_path, retina_rgb, as_root, monkeypatch, language):
    """The records' folder the services' user's, but the records file root's (copied back as root,
    ``sudo cp``): ``sudo edgescreen doctor`` said "Records writable", as root may write it, while
    every screening the service records would be refused. Judged for the services' user now (nobody
    here, as there is no edgescreen user on a test machine): red, naming the file, its owner, the
    user refused, and the commands that give it back. A group the user is in is honoured as the
    kernel honours it."""
    monkeypatch.setattr(service_user, "SERVICE_USER", NOBODY.pw_name)
    config = load_config(str(in_language(write_config(tmp_path, 1), language)))
    store = open_store(tmp_path)
    record_one(store, small_photo(retina_rgb, 64), sample_record())
    store.records.close()
    for path in [tmp_path, *tmp_path.glob("records.*")]:
        os.chown(path, NOBODY.pw_uid, NOBODY.pw_gid)  # the service's StateDirectory, as installed
    records = tmp_path / "records.sqlite3"
    os.chown(records, 0, NOBODY.pw_gid)  # root's, but its group nobody's and writable by it
    records.chmod(0o664)
    grouped = next(check for check in doctor_checks(config) if check.name == "writable")
    records.chmod(0o644)
    refused = next(check for check in doctor_checks(config) if check.name == "writable")
    assert grouped.level is Level.GREEN, grouped
    assert (refused.level, refused.message_key) == (Level.RED, "health.writable.service_permission")
    values = {"path": records, "owner": "root", "mode": "0644", "user": "nobody", "grant": "u+rw"}
    assert check_sentence(refused, language) == message(refused.message_key, language).format(**values)


@pytest.mark.parametrize("language", ["en", "fr"])
def test_doctor_as_root_without_the_services_user_says_it_cannot_tell(tmp_path, as_root, not_over_file_modes, language):
    """Root with no services' user to judge for (a machine the install did not set up): the
    writable line said green by root's own writes; it is amber now, saying root cannot tell and how
    to ask as the app's user; not as the services' user, who is not there ("sudo -u edgescreen
    edgescreen doctor", as it said, is refused: unknown user). Root without the capability that
    passes over file modes asks the kernel as before: green."""
    if service_user.service_account() is not None:
        pytest.skip(f"this machine has a {service_user.SERVICE_USER} user")
    config = in_language(write_config(tmp_path, 1), language)
    open_store(tmp_path).records.close()
    writable = doctor(config)[1]["writable"]
    assert writable["level"] == "amber"
    user = service_user.SERVICE_USER
    assert writable["message"] == message("health.writable.root", language).format(user=user)
    assert "sudo -u" not in writable["message"] and "scripts/install-device" in writable["message"]
    assert doctor(config, prefix=not_over_file_modes)[1]["writable"]["level"] == "green"
