"""A per-user certificate authority for the HTTPS front, and the leaf certificates it signs per host name.

The CA (EC P-256, valid 10 years) lives in ``~/.cache/msk-harness/ca`` (``ca.pem``, ``ca-key.pem`` mode
0600, and ``bundle.pem`` = the system's trusted CAs + ours, for variables that replace the whole trust store).
Files are written atomically under a lock, so concurrent runs share one CA. Leaves are made on demand per TLS
server name (exact name as SAN, so bucket names with dots work) and cached in memory as `ssl.SSLContext`s.

Only processes given this CA through their trust variables trust it; nothing is added to the system store.
"""

from __future__ import annotations

import contextlib
import fcntl
import ipaddress
import os
import ssl
import tempfile
import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import certifi
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DEFAULT_CA_DIR = Path.home() / ".cache" / "msk-harness" / "ca"
CA_VALIDITY = timedelta(days=3650)
LEAF_VALIDITY = timedelta(days=7)
CLOCK_SKEW = timedelta(hours=1)  # leaves start a little in the past, for clients whose clock lags
RENEW_BEFORE = timedelta(days=30)
DEFAULT_SERVER_NAME = "amazonaws.com"  # the leaf for clients that send no SNI


def system_ca_file() -> Path:
    """The system's bundle of trusted CAs (certifi's when the system has none)."""
    paths = ssl.get_default_verify_paths()
    for candidate in (paths.cafile, paths.openssl_cafile):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return Path(certifi.where())


def _atomic_write(path: Path, data: bytes, mode: int) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    with open(directory / ".lock", "a+b") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


class CertificateAuthority:
    """The cached CA: its files for trust variables, and TLS server contexts for any AWS host name."""

    def __init__(self, directory: Path | None = None, *, now: Callable[[], datetime]) -> None:
        self.directory = Path(directory) if directory is not None else DEFAULT_CA_DIR
        self._now = now
        self._leaf_key = ec.generate_private_key(ec.SECP256R1())
        self._contexts: dict[str, ssl.SSLContext] = {}
        self._lock = threading.Lock()
        self._ca_cert, self._ca_key = self._load_or_create()

    @property
    def cert_path(self) -> Path:
        """PEM of the CA certificate alone (for NODE_EXTRA_CA_CERTS and custom runtimes)."""
        return self.directory / "ca.pem"

    @property
    def key_path(self) -> Path:
        """PEM of the CA's private key (mode 0600)."""
        return self.directory / "ca-key.pem"

    @property
    def bundle_path(self) -> Path:
        """The system's trusted CAs followed by ours (for variables that replace the trust store)."""
        return self.directory / "bundle.pem"

    def _load_or_create(self) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        with _locked(self.directory):
            loaded = self._load()
            if loaded is None:
                loaded = self._create()
            self._write_bundle(loaded[0])
            return loaded

    def _load(self) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None:
        try:
            cert = x509.load_pem_x509_certificate(self.cert_path.read_bytes())
            key = serialization.load_pem_private_key(self.key_path.read_bytes(), password=None)
        except (OSError, ValueError):
            return None
        if not isinstance(key, ec.EllipticCurvePrivateKey) or key.public_key() != cert.public_key():
            return None
        if cert.not_valid_after_utc - RENEW_BEFORE < self._now():
            return None
        return cert, key

    def _create(self) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "msk-harness"),
                x509.NameAttribute(NameOID.COMMON_NAME, f"msk-harness local CA ({os.getuid()})"),
            ]
        )
        now = self._now()
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - CLOCK_SKEW)
            .not_valid_after(now + CA_VALIDITY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=False,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256())
        )
        key_pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        _atomic_write(self.key_path, key_pem, 0o600)
        _atomic_write(self.cert_path, cert.public_bytes(serialization.Encoding.PEM), 0o644)
        return cert, key

    def _write_bundle(self, cert: x509.Certificate) -> None:
        system = system_ca_file()
        head = system.read_bytes().rstrip(b"\n") + b"\n"
        bundle = head + cert.public_bytes(serialization.Encoding.PEM)
        with contextlib.suppress(OSError):
            if self.bundle_path.read_bytes() == bundle:
                return
        _atomic_write(self.bundle_path, bundle, 0o644)

    def leaf_pem(self, server_name: str) -> tuple[bytes, bytes]:
        """A certificate (PEM, followed by the CA's) and key for `server_name`, signed by this CA."""
        now = self._now()
        try:
            san: x509.GeneralName = x509.IPAddress(ipaddress.ip_address(server_name))
        except ValueError:
            san = x509.DNSName(server_name)
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, server_name[:64])]))
            .issuer_name(self._ca_cert.subject)
            .public_key(self._leaf_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - CLOCK_SKEW)
            .not_valid_after(now + LEAF_VALIDITY)
            .add_extension(x509.SubjectAlternativeName([san]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self._ca_key.public_key()), critical=False
            )
            .sign(self._ca_key, hashes.SHA256())
        )
        chain = cert.public_bytes(serialization.Encoding.PEM) + self._ca_cert.public_bytes(
            serialization.Encoding.PEM
        )
        key = self._leaf_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        return chain, key

    def server_context(self, server_name: str | None) -> ssl.SSLContext:
        """A TLS server context presenting a leaf for `server_name` (cached per name)."""
        name = (server_name or DEFAULT_SERVER_NAME).rstrip(".").lower()
        with self._lock:
            context = self._contexts.get(name)
            if context is None:
                context = self.make_context(name)
                self._contexts[name] = context
            return context

    def make_context(self, server_name: str | None) -> ssl.SSLContext:
        """A new (uncached) TLS server context presenting a leaf for `server_name`."""
        chain, key = self.leaf_pem((server_name or DEFAULT_SERVER_NAME).rstrip(".").lower())
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.set_alpn_protocols(["http/1.1"])
        # ssl loads certificates only from files: a private temporary directory, removed right away.
        with tempfile.TemporaryDirectory(prefix="msk-harness-leaf-") as tmp:
            cert_file, key_file = Path(tmp) / "cert.pem", Path(tmp) / "key.pem"
            cert_file.write_bytes(chain)
            key_file.touch(mode=0o600)
            key_file.write_bytes(key)
            context.load_cert_chain(cert_file, key_file)
        return context
