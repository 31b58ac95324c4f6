"""scripts/install-site-broker: the files with the owners and modes mosquitto 2 needs, a broker that
starts on them under Debian's own mosquitto.conf, and the self-check that catches a root-only key."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from tests.conftest import PROJECT_ROOT
from tests.mqtt_broker import free_port, wait_until

INSTALL = PROJECT_ROOT / "scripts" / "install-site-broker"


def _traversable_dir() -> Path:
    """A fresh folder the user mosquitto can walk into (pytest's own are private to root)."""
    path = Path(tempfile.mkdtemp(prefix="edgescreen-broker-"))
    path.chmod(0o755)
    return path


@pytest.fixture()
def scratch() -> Iterator[Path]:
    path = _traversable_dir()
    yield path
    shutil.rmtree(path)


@pytest.fixture(scope="module")
def staged(tmp_path_factory) -> Iterator[tuple[Path, Path]]:
    if os.geteuid() != 0:
        pytest.skip("install-site-broker needs root (chown to mosquitto); CI runs as root")
    assert shutil.which("mosquitto"), "mosquitto is missing: scripts/setup --test installs it"
    certs = tmp_path_factory.mktemp("certs")
    subprocess.run([str(PROJECT_ROOT / "broker" / "make-test-certs"), str(certs)], check=True, capture_output=True)
    root = _traversable_dir()
    run = subprocess.run([str(INSTALL), "--root", str(root), "--certs", str(certs)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "refuses a client without a certificate" in run.stderr
    yield root, certs
    shutil.rmtree(root)


def _owner_mode(path: Path) -> tuple[str, str, int]:
    import grp
    import pwd

    info = path.stat()
    return pwd.getpwuid(info.st_uid).pw_name, grp.getgrgid(info.st_gid).gr_name, stat.S_IMODE(info.st_mode)


def test_the_key_is_readable_by_mosquitto_and_nobody_else(staged):
    root, _ = staged
    files = root / "etc/mosquitto/edgescreen"
    assert _owner_mode(files) == ("root", "mosquitto", 0o750)
    assert _owner_mode(files / "broker.key") == ("root", "mosquitto", 0o640)
    assert _owner_mode(files / "acl") == ("root", "mosquitto", 0o640)
    assert _owner_mode(files / "ca.crt") == ("root", "root", 0o644)
    assert _owner_mode(files / "crl.pem") == ("root", "root", 0o644)  # the revocation list: public
    assert (files / "acl").read_text() == (PROJECT_ROOT / "broker/acl").read_text()


def test_the_broker_runs_under_debians_own_mosquitto_conf(staged, scratch):
    """Debian's mosquitto.conf sets persistence_location and includes conf.d: a second one there is fatal."""
    root, _ = staged
    main = Path("/etc/mosquitto/mosquitto.conf").read_text()
    main = re.sub(r"^include_dir .*$", f"include_dir {root}/etc/mosquitto/conf.d", main, flags=re.MULTILINE)
    main = re.sub(r"^(pid_file|log_dest) .*$", "", main, flags=re.MULTILINE)
    main = re.sub(r"^persistence_location .*$", f"persistence_location {scratch}/", main, flags=re.MULTILINE)
    port = free_port()
    conf_d = (root / "etc/mosquitto/conf.d/edgescreen.conf").read_text()
    assert "persistence_location" not in conf_d
    test_conf_d = scratch / "conf.d"
    test_conf_d.mkdir()
    (test_conf_d / "edgescreen.conf").write_text(
        re.sub(r"^listener .*$", f"listener {port} 127.0.0.1", conf_d, flags=re.MULTILINE).replace(
            "/etc/mosquitto/edgescreen/", f"{root}/etc/mosquitto/edgescreen/"
        )
    )
    main = main.replace(f"include_dir {root}/etc/mosquitto/conf.d", f"include_dir {test_conf_d}")
    (scratch / "mosquitto.conf").write_text(main + "log_dest stderr\n")
    shutil.chown(scratch, "mosquitto")
    broker = subprocess.Popen(["mosquitto", "-c", str(scratch / "mosquitto.conf")], stderr=subprocess.PIPE, text=True)
    try:
        import socket

        def listening() -> bool:
            with socket.socket() as probe:
                return probe.connect_ex(("127.0.0.1", port)) == 0

        wait_until(lambda: listening() or broker.poll() is not None, 10, "the broker to listen")
        assert broker.poll() is None, broker.stderr.read()
    finally:
        broker.terminate()
        broker.wait(10)


def test_the_check_names_a_key_mosquitto_cannot_read(staged, scratch):
    root, _ = staged
    copy = scratch / "root"
    subprocess.run(["cp", "-a", str(root), str(copy)], check=True)  # owners kept
    key = copy / "etc/mosquitto/edgescreen/broker.key"
    os.chown(key, 0, 0)
    key.chmod(0o600)  # as openssl writes it, and as the README's old steps left it
    run = subprocess.run([str(INSTALL), "--root", str(copy), "--check"], capture_output=True, text=True)
    assert run.returncode == 1
    assert "Unable to load server key file" in run.stderr and "Permission denied" in run.stderr


def test_the_check_names_an_acl_that_does_not_let_the_review_station_send_verdicts(staged, scratch):
    """Over MQTT 3.1.1 a denied publish is acknowledged like any other: the check publishes over 5."""
    root, certs = staged
    copy = scratch / "root"
    subprocess.run(["cp", "-a", str(root), str(copy)], check=True)  # owners kept
    acl = copy / "etc/mosquitto/edgescreen/acl"
    acl.write_text(acl.read_text().replace("topic write edgescreen/v1/+/+/review\n", ""))
    command = [str(INSTALL), "--root", str(copy), "--certs", str(certs), "--check"]
    run = subprocess.run(command, capture_output=True, text=True)
    assert run.returncode == 1 and "does not let it send verdicts" in run.stderr and "Not authorized" in run.stderr


def test_a_central_broker_gets_a_block_per_bridged_site_after_the_acl(staged, scratch):
    """Without its site's block the central broker denies everything a site's bridge forwards."""
    _, certs = staged
    command = [str(INSTALL), "--root", str(scratch), "--certs", str(certs), "--bridge-site", "site-a"]
    run = subprocess.run([*command, "--bridge-site", "site-b"], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    acl = scratch / "etc/mosquitto/edgescreen/acl"
    blocks = subprocess.run([str(PROJECT_ROOT / "broker/bridge-acl"), "site-a", "site-b"], capture_output=True)
    assert acl.read_text() == (PROJECT_ROOT / "broker/acl").read_text() + blocks.stdout.decode()
    assert "user bridge-site-b\ntopic write edgescreen/v1/site-b/+/result\n" in acl.read_text()
    assert _owner_mode(acl) == ("root", "mosquitto", 0o640)


def _expired_crl(certs: Path) -> bytes:
    """A revocation list of ``certs``' CA whose next update is past: OpenSSL then refuses every client."""
    ca = x509.load_pem_x509_certificate((certs / "ca.crt").read_bytes())
    key = serialization.load_pem_private_key((certs / "ca.key").read_bytes(), password=None)
    now = dt.datetime.now(dt.UTC)
    builder = x509.CertificateRevocationListBuilder().issuer_name(ca.subject)
    crl = builder.last_update(now - dt.timedelta(days=2)).next_update(now - dt.timedelta(days=1))
    return crl.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)  # type: ignore[arg-type]


def test_a_revocation_list_that_would_shut_out_every_device_is_refused_before_it_is_installed(staged, scratch):
    """mosquitto refuses every client certificate with a list that is not its CA's, or one past its next
    update; the check, which connects with no certificate (and with review-ingest-1's only where the
    folder holds the station's key, which a broker's does not), passed, and the restart shut out every
    device of the site."""
    _, certs = staged
    other = scratch / "other-ca"
    subprocess.run([str(PROJECT_ROOT / "broker" / "make-test-certs"), str(other)], check=True, capture_output=True)
    for crl, said in ((other / "crl.pem").read_bytes(), "not signed by"), (_expired_crl(certs), "expired"):
        folder = scratch / said.replace(" ", "-")
        folder.mkdir()
        for name in ("ca.crt", "broker.crt", "broker.key"):
            shutil.copy(certs / name, folder / name)
        (folder / "crl.pem").write_bytes(crl)
        root = scratch / f"root-{folder.name}"
        run = subprocess.run(
            [str(INSTALL), "--root", str(root), "--certs", str(folder)], capture_output=True, text=True
        )
        assert run.returncode == 1 and said in run.stderr and "broker/revoke-certs" in run.stderr, run.stderr
        assert not (root / "etc/mosquitto").exists()  # nothing installed: the broker keeps its working list
