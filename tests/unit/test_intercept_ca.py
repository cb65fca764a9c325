"""The local CA: created once per user with a 0600 key, reused, renewed when near expiry, leaves per name."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509

from harness.intercept.ca import CertificateAuthority

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def test_ca_files_are_written_once_with_a_private_key_and_reused(tmp_path: Path) -> None:
    first = CertificateAuthority(tmp_path / "ca", now=lambda: NOW)
    assert stat.S_IMODE(first.key_path.stat().st_mode) == 0o600
    pem = first.cert_path.read_bytes()
    second = CertificateAuthority(tmp_path / "ca", now=lambda: NOW + timedelta(days=1))
    assert second.cert_path.read_bytes() == pem
    bundle = first.bundle_path.read_bytes()
    assert bundle.endswith(pem)
    assert bundle.count(b"BEGIN CERTIFICATE") > 1  # the system's CAs come first
    assert not [p for p in (tmp_path / "ca").iterdir() if p.name.startswith(".") and p.name != ".lock"]


def test_a_ca_near_expiry_or_a_damaged_key_is_replaced(tmp_path: Path) -> None:
    old = CertificateAuthority(tmp_path / "ca", now=lambda: NOW).cert_path.read_bytes()
    later = CertificateAuthority(tmp_path / "ca", now=lambda: NOW + timedelta(days=3640))
    renewed = later.cert_path.read_bytes()
    assert renewed != old
    later.key_path.write_text("not a key")
    fixed = CertificateAuthority(tmp_path / "ca", now=lambda: NOW + timedelta(days=3640))
    assert fixed.cert_path.read_bytes() != renewed
    assert stat.S_IMODE(fixed.key_path.stat().st_mode) == 0o600


def test_leaves_name_the_exact_host_and_chain_to_the_ca(tmp_path: Path) -> None:
    authority = CertificateAuthority(tmp_path / "ca", now=lambda: NOW)
    chain, _ = authority.leaf_pem("my.dotted.bucket.s3.us-east-1.amazonaws.com")
    leaf, ca_in_chain = x509.load_pem_x509_certificates(chain)
    ca = x509.load_pem_x509_certificate(authority.cert_path.read_bytes())
    assert ca_in_chain == ca
    leaf.verify_directly_issued_by(ca)
    names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["my.dotted.bucket.s3.us-east-1.amazonaws.com"]
    assert leaf.not_valid_before_utc < NOW < leaf.not_valid_after_utc
    assert authority.server_context("a.amazonaws.com") is authority.server_context("A.amazonaws.com.")
