"""The HTTPS front on its own, with a standard TLS client verifying against the harness CA: names per SNI,
chunked request bodies streamed to moto, and a clear 503 when an emulator is down."""

from __future__ import annotations

import http.client
import json
import random
import socket
import ssl
from collections.abc import Iterator

import pytest

from harness.backends.s3 import MotoServer
from harness.clock import SystemClock
from harness.intercept.ca import CertificateAuthority
from harness.intercept.front import AwsFront


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    with MotoServer() as server:
        server.s3_client().create_bucket(Bucket="my.dotted.bucket")
        yield server


@pytest.fixture(scope="module")
def authority(tmp_path_factory: pytest.TempPathFactory) -> CertificateAuthority:
    return CertificateAuthority(tmp_path_factory.mktemp("ca"), now=SystemClock().now)


def connect(front: AwsFront, authority: CertificateAuthority, host: str) -> http.client.HTTPConnection:
    """An HTTP connection over TLS to the front, verifying `host` against the CA like any client would."""
    context = ssl.create_default_context(cafile=str(authority.cert_path))
    conn = http.client.HTTPConnection("127.0.0.1", front.port, timeout=10)
    conn.sock = context.wrap_socket(socket.create_connection(("127.0.0.1", front.port)), server_hostname=host)
    return conn


def test_a_chunked_upload_to_a_dotted_virtual_hosted_bucket_streams_into_moto(
    moto: MotoServer, authority: CertificateAuthority
) -> None:
    host = "my.dotted.bucket.s3.eu-west-1.amazonaws.com"
    with AwsFront(authority, {"s3": moto.endpoint_url}, rng=random.Random(1)) as front:
        conn = connect(front, authority, host)
        conn.putrequest("PUT", "/chunked.txt", skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", host)
        conn.putheader("Transfer-Encoding", "chunked")
        conn.endheaders()
        for part in (b"hello ", b"chunked ", b"world"):
            conn.send(b"%x\r\n%b\r\n" % (len(part), part))
        conn.send(b"0\r\n\r\n")
        response = conn.getresponse()
        response.read()
        conn.close()
        assert response.status == 200
        assert front.snapshot().hosts == {host: 1}
    body = moto.s3_client().get_object(Bucket="my.dotted.bucket", Key="chunked.txt")["Body"].read()
    assert body == b"hello chunked world"


def test_each_connection_gets_a_leaf_for_exactly_the_name_it_asked_for(
    moto: MotoServer, authority: CertificateAuthority
) -> None:
    with AwsFront(authority, {"s3": moto.endpoint_url}, rng=random.Random(1)) as front:
        context = ssl.create_default_context(cafile=str(authority.cert_path))
        context.check_hostname = False  # read the leaf's names ourselves
        with context.wrap_socket(
            socket.create_connection(("127.0.0.1", front.port)), server_hostname="sqs.us-east-1.amazonaws.com"
        ) as tls:
            leaf = tls.getpeercert()
        assert leaf is not None
        assert leaf["subjectAltName"] == (("DNS", "sqs.us-east-1.amazonaws.com"),)


def test_an_emulator_that_is_down_answers_503_in_the_service_shape(authority: CertificateAuthority) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{unused.getsockname()[1]}"
    with AwsFront(authority, {"firehose": dead}, rng=random.Random(1)) as front:
        host = "firehose.us-east-1.amazonaws.com"
        conn = connect(front, authority, host)
        conn.request(
            "POST",
            "/",
            body=b"{}",
            headers={"Host": host, "X-Amz-Target": "Firehose_20150804.ListDeliveryStreams"},
        )
        response = conn.getresponse()
        body = json.loads(response.read())
        conn.close()
    assert response.status == 503
    assert body["__type"] == "HarnessEmulatorUnavailable"
    assert dead in body["message"]
