"""ExternalS3: a reachable endpoint starts, an unreachable one fails fast with a message naming it."""

from __future__ import annotations

import socket

import pytest

from harness.backends.s3 import ExternalS3, MotoServer
from harness.lifecycle import BackendStartError


def test_external_s3_on_reachable_endpoint_works(moto_server: MotoServer, fresh_bucket: str) -> None:
    with ExternalS3(moto_server.endpoint_url, bucket=fresh_bucket) as s3:
        s3.s3_client().put_object(Bucket=fresh_bucket, Key="k", Body=b"v")
        assert s3.get_object_bytes(fresh_bucket, "k") == b"v"
        assert s3.env()["AWS_ENDPOINT_URL_S3"] == moto_server.endpoint_url


def test_external_s3_closed_port_fails_with_clear_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]  # bound but not listening: connections are refused
        endpoint = f"http://127.0.0.1:{closed}"
        with pytest.raises(BackendStartError) as err:
            ExternalS3(endpoint).start()
    assert endpoint in str(err.value)
    assert "did not answer" in str(err.value)


@pytest.mark.timeout(30)
def test_external_s3_silent_endpoint_times_out_instead_of_hanging() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()  # accepts connections, never answers
        endpoint = f"http://127.0.0.1:{silent.getsockname()[1]}"
        with pytest.raises(BackendStartError, match="did not answer") as err:
            ExternalS3(endpoint, timeout=1.0).start()
    assert endpoint in str(err.value)


def test_external_s3_missing_bucket_is_named(moto_server: MotoServer) -> None:
    with pytest.raises(BackendStartError, match="404"):
        ExternalS3(moto_server.endpoint_url, bucket="no-such-bucket-here").start()


def test_from_env_reads_endpoint_and_region() -> None:
    s3 = ExternalS3.from_env({"AWS_ENDPOINT_URL_S3": "http://127.0.0.1:9", "AWS_REGION": "eu-west-1"})
    assert s3.endpoint_url == "http://127.0.0.1:9"
    assert s3.region == "eu-west-1"
    assert ExternalS3.from_env({}).endpoint_url is None
