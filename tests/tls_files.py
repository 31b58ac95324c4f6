"""A site's CA and the device's certificate for the app's HTTPS listener, made as the README's openssl
steps make them: the CA signs a certificate naming the device's addresses, its key 0600."""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class SiteTls:
    ca: Path
    certificate: Path
    key: Path

    def app_lines(self, port: int) -> str:
        """The ``[app]`` lines that turn the tablets' HTTPS listener on at ``port``."""
        return f'tls_port = {port}\ntls_cert_file = "{self.certificate}"\ntls_key_file = "{self.key}"\n'


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def write_key(path: Path) -> ec.EllipticCurvePrivateKey:
    """A new private key in ``path`` (PEM, mode 0600, as a secret is kept)."""
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    path.write_bytes(pem)
    path.chmod(0o600)
    return key


def site_tls(directory: Path, addresses: tuple[str, ...] = ("127.0.0.1",), days: int = 30) -> SiteTls:
    """The site's CA (``ca.crt``) and the device's certificate for ``addresses`` with its key, the
    certificate valid for ``days`` more (expired that long ago when negative)."""
    directory.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("site CA"))
        .issuer_name(_name("site CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = write_key(directory / "device.key")
    until = now + dt.timedelta(days=days)
    names = [x509.IPAddress(ipaddress.ip_address(address)) for address in addresses]
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_name("edgescreen device"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(min(now, until) - dt.timedelta(days=1))
        .not_valid_after(until)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    (directory / "ca.crt").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (directory / "device.crt").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return SiteTls(directory / "ca.crt", directory / "device.crt", directory / "device.key")
