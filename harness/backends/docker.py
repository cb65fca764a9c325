"""Docker through testcontainers: the engine check every Docker backend uses, and LocalStack for S3/SQS/SNS.

They are for laptops with Docker; the embedded backends (default) need none. `require_docker()` answers within
about two seconds whether an engine is reachable, so a selected Docker backend fails fast with a clear message
instead of hanging inside the Docker SDK.

Known deviations from AWS:

* LocalStack's S3 is its own emulation; current images need `LOCALSTACK_AUTH_TOKEN`.

Example::

    require_docker()
    with LocalStackS3().start() as s3:
        s3.client("s3").create_bucket(Bucket="archive")
"""

from __future__ import annotations

import contextlib
import os
import socket
from typing import Any
from urllib.parse import urlparse

from harness.backends.s3 import DEFAULT_REGION, S3Backend
from harness.lifecycle import BackendError, BackendStartError

DEFAULT_DOCKER_SOCKET = "/var/run/docker.sock"
DEFAULT_LOCALSTACK_IMAGE = "localstack/localstack:latest"
_PING = b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n"


def _ping_socket(sock: socket.socket) -> str | None:
    # None when the engine answered 200 OK to /_ping, else what went wrong.
    sock.sendall(_PING)
    reply = b""
    while b"\r\n" not in reply:
        chunk = sock.recv(4096)
        if not chunk:
            break
        reply += chunk
    status = reply.split(b"\r\n", 1)[0].decode("latin-1")
    return None if " 200 " in f"{status} " else f"ping answered {status or 'nothing'!r}"


def docker_unreachable_reason(docker_host: str | None = None, timeout: float = 2.0) -> str | None:
    """None when a Docker engine answers /_ping within `timeout`, else why not (for errors and skips)."""
    host = docker_host if docker_host is not None else os.environ.get("DOCKER_HOST", "")
    url = urlparse(host or f"unix://{DEFAULT_DOCKER_SOCKET}")
    where = host or f"unix://{DEFAULT_DOCKER_SOCKET}"
    try:
        if url.scheme == "unix":
            path = url.path or DEFAULT_DOCKER_SOCKET
            if not os.path.exists(path):
                return f"no Docker socket at {path}"
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(timeout)
                sock.connect(path)
                problem = _ping_socket(sock)
        elif url.scheme in {"tcp", "http"} and url.hostname:
            with socket.create_connection((url.hostname, url.port or 2375), timeout=timeout) as sock:
                sock.settimeout(timeout)
                problem = _ping_socket(sock)
        else:
            problem = _sdk_ping(timeout)
    except OSError as exc:
        return f"{where}: {exc.strerror or exc}"
    return None if problem is None else f"{where}: {problem}"


def _sdk_ping(timeout: float) -> str | None:
    # TLS and ssh:// hosts: let the Docker SDK speak the transport.
    import docker  # type: ignore[import-untyped]  # noqa: PLC0415 - optional [docker] extra

    try:
        docker.from_env(timeout=int(max(1, timeout))).ping()
    except Exception as exc:  # noqa: BLE001 - the SDK raises many unrelated types for "not there"
        return str(exc)
    return None


def require_docker(timeout: float = 2.0) -> None:
    """Raise BackendError unless a Docker engine answers within `timeout` seconds."""
    reason = docker_unreachable_reason(timeout=timeout)
    if reason is not None:
        raise BackendError(
            f"Docker engine not reachable ({reason}); use the embedded backend (default) or start Docker"
        )


class LocalStackS3(S3Backend):
    """A LocalStack container serving S3, SQS and SNS; passes LOCALSTACK_AUTH_TOKEN through when set."""

    name = "localstack"

    def __init__(
        self,
        *,
        image: str = DEFAULT_LOCALSTACK_IMAGE,
        region: str = DEFAULT_REGION,
        auth_token: str | None = None,
        start_timeout: float = 90.0,
    ) -> None:
        super().__init__(region=region)
        self.image = image
        self.auth_token = auth_token
        self.start_timeout = start_timeout
        self._container: Any = None
        self._url: str | None = None

    @classmethod
    def from_env(cls, **kwargs: Any) -> LocalStackS3:
        """Like the constructor, with the auth token taken from LOCALSTACK_AUTH_TOKEN."""
        kwargs.setdefault("auth_token", os.environ.get("LOCALSTACK_AUTH_TOKEN") or None)
        return cls(**kwargs)

    @property
    def endpoint_url(self) -> str:
        """The LocalStack edge URL (S3, SQS and SNS)."""
        if self._url is None:
            raise BackendError("LocalStackS3 is not running")
        return self._url

    def env(self) -> dict[str, str]:
        """S3 environment plus SQS and SNS endpoints (LocalStack serves all on its edge port)."""
        out = super().env()
        out["AWS_ENDPOINT_URL_SQS"] = self.endpoint_url
        out["AWS_ENDPOINT_URL_SNS"] = self.endpoint_url
        return out

    def sqs_client(self, **config: Any) -> Any:
        """A boto3 SQS client on this container."""
        return self.client("sqs", **config)

    def sns_client(self, **config: Any) -> Any:
        """A boto3 SNS client on this container."""
        return self.client("sns", **config)

    def _start(self) -> None:
        require_docker()
        from testcontainers.community.localstack import (  # noqa: PLC0415 - optional [docker] extra
            LocalStackContainer,
        )

        container = LocalStackContainer(image=self.image, region_name=self.region)
        container.with_services("s3", "sqs", "sns")
        if self.auth_token:
            container.with_env("LOCALSTACK_AUTH_TOKEN", self.auth_token)
        self._container = container
        try:
            container.start(timeout=self.start_timeout)
        except Exception as exc:
            logs = container_logs(container)
            hint = ""
            if "token" in logs.lower() or "licens" in logs.lower() or not self.auth_token:
                hint = (
                    "current LocalStack images need an auth token: export LOCALSTACK_AUTH_TOKEN"
                    + ("" if not self.auth_token else " (the one given was refused)")
                    + ", or use the embedded S3 backend (default)"
                )
            raise BackendStartError(f"LocalStack container {self.image}", str(exc), logs, hint) from exc
        self._url = str(container.get_url())

    def _stop(self) -> None:
        container, self._container, self._url = self._container, None, None
        if container is not None:
            with contextlib.suppress(Exception):
                container.stop()


def container_logs(container: Any, lines: int = 30) -> str:
    # Last log lines of a (possibly exited) container, '' when Docker cannot tell.
    with contextlib.suppress(Exception):
        out, err = container.get_logs()
        text = (out or b"").decode("utf-8", "replace") + (err or b"").decode("utf-8", "replace")
        return "\n".join(text.splitlines()[-lines:])
    return ""
