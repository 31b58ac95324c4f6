"""``sudo edgescreen doctor``: root writes anywhere, so its writable line judges the records' files for
the services' user, or says it cannot. Real records, real file owners and modes, doctor as root."""

from __future__ import annotations

import os
import pwd
import shutil
import struct
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

from firmware_app.config import load_config
from firmware_app.health import checks, service_user
from firmware_app.health.checks import Check, Level
from firmware_app.health.doctor import doctor_checks
from firmware_app.messages import message
from firmware_app.wording import check_sentence
from tests.conftest import read_only_view
from tests.health.test_doctor import doctor
from tests.records.kit import in_language, open_store, record_one, sample_record, small_photo, write_config

NOBODY = pwd.getpwnam("nobody")


@pytest.fixture()
def as_root():
    if not service_user.passes_over_file_modes():
        pytest.skip("needs root, as the technician's sudo runs doctor")


@pytest.fixture()
def reachable():
    """A folder the services' user (nobody) may reach, as /var/lib is: pytest's own lies under
    /tmp/pytest-of-root, root's alone (0700), which shuts that user out of every records put there."""
    folder = Path(tempfile.mkdtemp(prefix="edgescreen-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder)


@pytest.mark.parametrize("language", ["en", "fr"])
def test_doctor_as_root_judges_the_records_for_the_services_user(reachable, retina_rgb, as_root, monkeypatch, language):
    """The records' folder the services' user's, but the records file root's (copied back as root,
    ``sudo cp``): ``sudo edgescreen doctor`` said "Records writable", as root may write it, while
    every screening the service records would be refused. Judged for the services' user now (nobody
    here, as there is no edgescreen user on a test machine): red, naming the file, its owner, the
    user refused, and the commands that give it back. A group the user is in is honoured as the
    kernel honours it."""
    monkeypatch.setattr(service_user, "SERVICE_USER", NOBODY.pw_name)
    config = load_config(str(in_language(write_config(reachable, 1), language)))
    store = open_store(reachable)
    record_one(store, small_photo(retina_rgb, 64), sample_record())
    store.records.close()
    for path in [reachable, *reachable.glob("records.*")]:
        os.chown(path, NOBODY.pw_uid, NOBODY.pw_gid)  # the service's StateDirectory, as installed
    records = reachable / "records.sqlite3"
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


def records_of_nobody(above: Path, language: str) -> tuple[Path, Callable[[], Check]]:
    """Records in ``above``/edgescreen owned by ``nobody`` (the service's StateDirectory, as installed),
    and doctor's writable check of them, asked afresh at each call."""
    state = above / "edgescreen"
    state.mkdir(parents=True)
    config = load_config(str(in_language(write_config(state, 1), language)))
    open_store(state).records.close()
    for path in [state, *state.glob("records.*")]:
        os.chown(path, NOBODY.pw_uid, NOBODY.pw_gid)
    return state, lambda: next(check for check in doctor_checks(config) if check.name == "writable")


@pytest.mark.parametrize("language", ["en", "fr"])
def test_doctor_as_root_judges_the_folders_above_the_records_for_the_services_user(
    reachable, as_root, monkeypatch, language
):
    """The records' folder and files the services' user's, as installed, but a folder above them that
    user may not search (root's alone, 0700; or listed by all and searched by none, 0744; or searched
    by others but not by the group that user is in, 0705): the services cannot open the records, and
    ``sudo edgescreen doctor``, judging their files alone, said "Records writable". Red now, naming
    that folder, its owner and mode, the user, and the chmod that lets that user's class through. The
    records' folder itself must take new files (SQLite's log, its shared memory): red without its
    write or search bit for that user."""
    monkeypatch.setattr(service_user, "SERVICE_USER", NOBODY.pw_name)
    above = reachable / "data"
    state, writable = records_of_nobody(above, language)

    assert writable().level is Level.GREEN
    for group, mode, grant in [(0, 0o700, "o+x"), (0, 0o744, "o+x"), (NOBODY.pw_gid, 0o705, "g+x")]:
        os.chown(above, 0, group)
        above.chmod(mode)
        refused = writable()
        assert (refused.level, refused.message_key) == (Level.RED, "health.writable.service_search"), oct(mode)
        values = {"folder": above, "owner": "root", "mode": f"{mode:04o}", "user": "nobody", "grant": grant}
        assert check_sentence(refused, language) == message(refused.message_key, language).format(**values)
    above.chmod(0o755)
    for owner, mode in [(0, 0o755), (NOBODY.pw_uid, 0o600)]:
        os.chown(state, owner, NOBODY.pw_gid)
        state.chmod(mode)
        refused = writable()
        assert (refused.level, refused.message_key) == (Level.RED, "health.writable.service_permission"), oct(mode)
        assert (refused.values["path"], refused.values["grant"]) == (state, "u+rwx")


def test_a_read_only_file_system_above_the_records_is_searched_still(reachable, as_root, monkeypatch):
    """Records on a writable file system mounted below a read-only one (a read-only root file system,
    the records' partition on /var/lib): the folders above them are searched, never written, so the
    read-only flag refuses the services nothing there, and the writable line stays green."""
    monkeypatch.setattr(service_user, "SERVICE_USER", NOBODY.pw_name)
    (reachable / "root" / "edgescreen").mkdir(parents=True)
    state = reachable / "partition"
    state.mkdir()
    open_store(state).records.close()
    (state / "records.key").rename(reachable / "records.key")  # where the config has it
    for path in [state, *state.glob("records.*")]:
        os.chown(path, NOBODY.pw_uid, NOBODY.pw_gid)
    with read_only_view(reachable / "root", reachable / "read-only") as above:
        mounted = above / "edgescreen"
        written = write_config(reachable, 1)
        written.write_text(written.read_text().replace(f'"{reachable}/records.sqlite3', f'"{mounted}/records.sqlite3'))
        subprocess.run(["mount", "--bind", str(state), str(mounted)], check=True)
        try:
            assert os.statvfs(above).f_flag & os.ST_RDONLY and not os.statvfs(mounted).f_flag & os.ST_RDONLY
            writable = next(check for check in doctor_checks(load_config(str(written))) if check.name == "writable")
        finally:
            subprocess.run(["umount", str(mounted)], check=True)
    assert writable.level is Level.GREEN, writable


def test_doctor_as_root_judges_a_folder_a_link_in_the_middle_of_a_chain_passes_through(reachable, as_root, monkeypatch):
    """Records reached through two symbolic links, ``srv/a -> mnt/b -> data/edgescreen``: the kernel
    searches ``mnt`` to read the second link, a folder neither the records' path nor the file it
    resolves to lies under. Root's alone (0700), it refused the services the records while
    ``sudo edgescreen doctor`` said "Records writable"; red now, naming it."""
    monkeypatch.setattr(service_user, "SERVICE_USER", NOBODY.pw_name)
    state = reachable / "data" / "edgescreen"
    state.mkdir(parents=True)
    open_store(state).records.close()
    for path in [state, *state.glob("records.*")]:
        os.chown(path, NOBODY.pw_uid, NOBODY.pw_gid)
    (reachable / "mnt").mkdir()
    (reachable / "srv").mkdir()
    (reachable / "mnt" / "b").symlink_to(state)
    (reachable / "srv" / "a").symlink_to(reachable / "mnt" / "b")
    database = reachable / "srv" / "a" / "records.sqlite3"
    assert checks.records_not_writable(database, NOBODY) is None
    (reachable / "mnt").chmod(0o700)
    refused = checks.records_not_writable(database, NOBODY)
    assert refused is not None and refused.message_key == "health.writable.service_search"
    assert (refused.values["folder"], refused.values["grant"]) == (reachable / "mnt", "o+x")
    as_the_service = subprocess.run(
        ["test", "-w", str(database)], user=NOBODY.pw_uid, group=NOBODY.pw_gid, extra_groups=[]
    )
    assert as_the_service.returncode == 1  # the kernel refuses the services there, as doctor says


def _acl_with(path: Path, account: pwd.struct_passwd, named: int, others: int) -> None:
    """``path`` given a POSIX ACL (``setfacl -m u:USER:NAMED,o::OTHERS``, the owner's rwx, the group's
    and the mask ``others``'s but for a search the named entry needs), written as the kernel's
    ``system.posix_acl_access`` (version 2; tag, permission and id per entry); skips where the file
    system keeps no ACL."""
    undefined = 0xFFFFFFFF
    entries = [(0x01, 7, undefined), (0x02, named, account.pw_uid), (0x04, others, undefined)]
    entries += [(0x10, others | named, undefined), (0x20, others, undefined)]
    try:
        os.setxattr(path, "system.posix_acl_access", b"\2\0\0\0" + b"".join(struct.pack("<HHI", *e) for e in entries))
    except OSError as error:
        pytest.skip(f"no POSIX ACL here: {error}")


@pytest.mark.parametrize("language", ["en", "fr"])
def test_doctor_as_root_asks_the_kernel_what_an_acl_lets_the_services_user_do(
    reachable, as_root, monkeypatch, language
):
    """A folder above the records root's alone (0700) but for an ACL entry that lets the services'
    user search it (a technician's ``setfacl -m u:edgescreen:x``): ``sudo edgescreen doctor``, reading
    the mode alone, said red and told the technician to open it to every user (``chmod o+x``), while
    the services wrote the records. And one open to all (0755) but for an entry shutting that user
    out: doctor said "Records writable" while every screening would be refused. Asked of the kernel
    as that user now: green, then red naming the folder, with an ACL entry of that user's as the
    remedy (``chmod o+x`` would change nothing there)."""
    monkeypatch.setattr(service_user, "SERVICE_USER", NOBODY.pw_name)
    above = reachable / "data"
    state, writable = records_of_nobody(above, language)
    database = state / "records.sqlite3"

    def as_the_service() -> bool:
        """Whether the kernel lets the services' user write the records."""
        asked = subprocess.run(["test", "-w", str(database)], user=NOBODY.pw_uid, group=NOBODY.pw_gid, extra_groups=[])
        return asked.returncode == 0

    above.chmod(0o700)
    _acl_with(above, NOBODY, named=1, others=0)
    assert as_the_service() and writable().level is Level.GREEN
    os.removexattr(above, "system.posix_acl_access")
    above.chmod(0o755)
    _acl_with(above, NOBODY, named=0, others=5)
    refused = writable()
    assert not as_the_service() and (refused.level, refused.message_key) == (
        Level.RED,
        "health.writable.service_search_acl",
    )
    values = {"folder": above, "owner": "root", "mode": "0755", "user": "nobody"}
    assert check_sentence(refused, language) == message(refused.message_key, language).format(**values)
    assert "sudo setfacl -m u:nobody:x " in check_sentence(refused, language)
