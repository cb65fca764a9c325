"""S3 backends: moto's server in-process (S3, SQS and SNS on one endpoint) or any external S3 endpoint.

Known deviations from AWS (embedded moto server):

* moto keeps its service state in process-wide backends: two `MotoServer`s running at once in one process
  share buckets, queues and topics (accounts and regions still separate them). So that state never leaks from
  one run into the next, the last `MotoServer` of a process to stop clears it. `reset()` clears it at once.
* Credentials are not checked: any access key and secret are accepted.
* Behaviour is moto's: S3 is close to AWS for the calls the harness makes (put/get/list/multipart), but
  not every error shape of every API is reproduced.

Example::

    with MotoServer().start() as s3:
        s3.create_bucket("archive")
        s3.s3_client().put_object(Bucket="archive", Key="a", Body=b"x")
        assert s3.list_keys("archive") == ["a"]
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import socket
import threading
import urllib.error
import urllib.request
import weakref
from collections.abc import Mapping
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from harness.lifecycle import Backend, BackendError, BackendStartError
from harness.processes import wait_until

# The MotoServers running in this process. Process-wide on purpose: it mirrors moto's process-wide state,
# so the last server to stop knows it may clear that state.
_running: weakref.WeakSet[MotoServer] = weakref.WeakSet()
_running_lock = threading.Lock()

DEFAULT_REGION = "us-east-1"
DUMMY_ACCESS_KEY_ID = "testing"
DUMMY_SECRET_ACCESS_KEY = "testing"  # noqa: S105 - moto accepts any secret; not a real one

_log = logging.getLogger(__name__)

# Errors that mean "the endpoint answered, but these credentials will never work".
_CREDENTIAL_ERRORS = frozenset(
    {"InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken", "TokenRefreshRequired"}
)


class S3Backend(Backend):
    """Common face of every S3 endpoint: where it is, which credentials to use, and small client helpers."""

    name = "s3"

    def __init__(self, *, region: str = DEFAULT_REGION) -> None:
        super().__init__()
        self.region = region

    @property
    def endpoint_url(self) -> str | None:
        """The S3 endpoint URL (None means the real AWS endpoint for `region`)."""
        raise NotImplementedError

    def credentials(self) -> tuple[str, str] | None:
        """(access key id, secret) to use, or None to let boto3 find the user's own credentials."""
        return (DUMMY_ACCESS_KEY_ID, DUMMY_SECRET_ACCESS_KEY)

    def env(self) -> dict[str, str]:
        """The SDK environment that points S3 (and the region and credentials) at this backend."""
        out: dict[str, str] = {"AWS_REGION": self.region, "AWS_DEFAULT_REGION": self.region}
        if self.endpoint_url is not None:
            out["AWS_ENDPOINT_URL_S3"] = self.endpoint_url
        creds = self.credentials()
        if creds is not None:
            out["AWS_ACCESS_KEY_ID"], out["AWS_SECRET_ACCESS_KEY"] = creds
        return out

    def client(self, service: str, *, endpoint_url: str | None = None, **config: Any) -> Any:
        """A boto3 client for `service` on this endpoint or `endpoint_url` (other kwargs: botocore Config)."""
        creds = self.credentials()
        kwargs: dict[str, Any] = {"region_name": self.region}
        endpoint = endpoint_url or self.endpoint_url
        if endpoint is not None:
            kwargs["endpoint_url"] = endpoint
        if creds is not None:
            kwargs["aws_access_key_id"], kwargs["aws_secret_access_key"] = creds
        if config:
            kwargs["config"] = Config(**config)
        return boto3.session.Session().client(service, **kwargs)

    def s3_client(self, **config: Any) -> Any:
        """A boto3 S3 client on this endpoint."""
        return self.client("s3", **config)

    def create_bucket(self, name: str) -> None:
        """Create bucket `name` (with the location constraint AWS requires outside us-east-1)."""
        kwargs: dict[str, Any] = {"Bucket": name}
        if self.region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        self.s3_client().create_bucket(**kwargs)

    def list_keys(self, bucket: str, prefix: str = "") -> list[str]:
        """Every key in `bucket` under `prefix`, in S3's (lexicographic) order, across all pages."""
        paginator = self.s3_client().get_paginator("list_objects_v2")
        keys: list[str] = []
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
            keys.extend(obj["Key"] for obj in page.get("Contents", []))
        return keys

    def get_object_bytes(self, bucket: str, key: str) -> bytes:
        """The body of one object."""
        body: bytes = self.s3_client().get_object(Bucket=bucket, Key=key)["Body"].read()
        return body


class _QuietRequestHandler(WSGIRequestHandler):
    """Werkzeug's handler without the per-request access log line (errors are still logged)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Drop access-log lines: a load test would print one per S3/SQS call."""


class MotoServer(S3Backend):
    """moto's server (S3, SQS, SNS, ...) in a thread of this process on 127.0.0.1.

    It is what `moto.server.ThreadedMotoServer` runs, but the socket is bound in the calling thread so a
    taken port surfaces as an error we can act on (ThreadedMotoServer binds inside its thread and would
    wait forever).
    """

    name = "moto"

    def __init__(
        self,
        *,
        region: str = DEFAULT_REGION,
        host: str = "127.0.0.1",
        port: int | None = None,
        start_timeout: float = 10.0,
    ) -> None:
        super().__init__(region=region)
        self.host = host
        self.requested_port = port
        self.start_timeout = start_timeout
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The port the server listens on (after start)."""
        if self._server is None:
            raise BackendError("MotoServer is not running")
        return int(self._server.server_address[1])

    @property
    def endpoint_url(self) -> str:
        """http://127.0.0.1:PORT, the one endpoint for S3, SQS and SNS."""
        return f"http://{self.host}:{self.port}"

    def sqs_client(self, **config: Any) -> Any:
        """A boto3 SQS client on this server."""
        return self.client("sqs", **config)

    def sns_client(self, **config: Any) -> Any:
        """A boto3 SNS client on this server."""
        return self.client("sns", **config)

    def env(self) -> dict[str, str]:
        """S3 environment plus SQS and SNS endpoints (moto serves all three on one port)."""
        out = super().env()
        out["AWS_ENDPOINT_URL_SQS"] = self.endpoint_url
        out["AWS_ENDPOINT_URL_SNS"] = self.endpoint_url
        return out

    def reset(self) -> None:
        """Forget every bucket, queue and topic (moto's reset API)."""
        request = urllib.request.Request(  # noqa: S310 - our own loopback URL
            f"{self.endpoint_url}/moto-api/reset", method="POST"
        )
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - our own loopback URL
            response.read()

    def _listen(self) -> socket.socket:
        # Bind here, not in werkzeug: werkzeug calls sys.exit(1) on a taken port.
        port = self.requested_port if self.requested_port is not None else 0
        for attempt_port in (port, 0):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((self.host, attempt_port))
                sock.listen(128)
            except OSError as exc:
                sock.close()
                if attempt_port == 0 or exc.errno != errno.EADDRINUSE:
                    raise BackendStartError(
                        "moto server", f"cannot bind {self.host}:{attempt_port}: {exc}"
                    ) from exc
                # Port 0 next: the OS picks a free port atomically with the bind, so no second race.
                _log.warning("port %d on %s is taken; moto server uses another free port", port, self.host)
                continue
            return sock
        raise AssertionError("unreachable: the port-0 attempt returns or raises")

    def _bind(self) -> BaseWSGIServer:
        # Imported on use: moto's server pulls in every service model (slow) and only MotoServer needs it.
        from moto.server import (  # type: ignore[attr-defined]  # noqa: PLC0415
            DomainDispatcherApplication,
            create_backend_app,
        )

        app = DomainDispatcherApplication(create_backend_app)
        sock = self._listen()
        try:
            port = sock.getsockname()[1]
            # werkzeug dups the descriptor, so ours is closed right after.
            return make_server(
                self.host, port, app, threaded=True, request_handler=_QuietRequestHandler, fd=sock.fileno()
            )
        finally:
            sock.close()

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.endpoint_url}/moto-api/data.json", timeout=1) as response:  # noqa: S310
                return bool(response.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def _start(self) -> None:
        with _running_lock:
            _running.add(self)
        self._server = self._bind()
        self._thread = threading.Thread(
            target=self._server.serve_forever, name=f"moto-server-{self.port}", daemon=True
        )
        self._thread.start()
        wait_until(
            self._answers,
            timeout=self.start_timeout,
            what=f"moto server on {self.endpoint_url}",
            alive=self._thread.is_alive,
            interval=0.02,
        )

    def _stop(self) -> None:
        server, thread = self._server, self._thread
        with _running_lock:
            _running.discard(self)
            last_one = not _running
        if server is not None:
            if thread is not None and thread.is_alive():
                if last_one:
                    # moto's state is process-wide: leave none for the next server (module docstring).
                    with contextlib.suppress(OSError):
                        self.reset()
                server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=10)
        self._server = None
        self._thread = None


class ExternalS3(S3Backend):
    """Any S3 endpoint, real AWS included (endpoint_url None); start() proves it answers within seconds."""

    name = "external-s3"

    def __init__(
        self,
        endpoint_url: str | None = None,
        *,
        region: str = DEFAULT_REGION,
        bucket: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        timeout: float = 3.0,
    ) -> None:
        super().__init__(region=region)
        if (access_key_id is None) != (secret_access_key is None):
            raise ValueError("give both access_key_id and secret_access_key, or neither")
        self._endpoint_url = endpoint_url
        self.bucket = bucket
        self._credentials = (
            (access_key_id, secret_access_key)
            if access_key_id is not None and secret_access_key is not None
            else None
        )
        self.timeout = timeout

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **kwargs: Any) -> ExternalS3:
        """Endpoint from AWS_ENDPOINT_URL_S3 (unset or empty = real AWS), region from AWS_REGION."""
        env = os.environ if environ is None else environ
        endpoint = env.get("AWS_ENDPOINT_URL_S3") or None
        kwargs.setdefault("region", env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or DEFAULT_REGION)
        return cls(endpoint, **kwargs)

    @property
    def endpoint_url(self) -> str | None:
        """The endpoint given (None = real AWS)."""
        return self._endpoint_url

    @property
    def where(self) -> str:
        """The endpoint named for humans."""
        return self._endpoint_url or f"AWS S3 in {self.region}"

    def credentials(self) -> tuple[str, str] | None:
        """Explicit credentials, else None for the user's chain (dummy ones for a custom endpoint)."""
        # A local S3-compatible endpoint usually takes any key; real AWS never gets dummy credentials.
        custom_endpoint = self._credentials is None and self._endpoint_url is not None
        if custom_endpoint and boto3.session.Session().get_credentials() is None:
            self._credentials = (DUMMY_ACCESS_KEY_ID, DUMMY_SECRET_ACCESS_KEY)
        return self._credentials

    def _start(self) -> None:
        client = self.s3_client(
            connect_timeout=self.timeout, read_timeout=self.timeout, retries={"total_max_attempts": 1}
        )
        try:
            if self.bucket:
                client.head_bucket(Bucket=self.bucket)
            else:
                client.list_buckets()
        except NoCredentialsError as exc:
            raise BackendStartError(
                f"S3 endpoint {self.where}",
                "no AWS credentials found",
                hint="set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE",
            ) from exc
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in _CREDENTIAL_ERRORS or (self.bucket and code in {"404", "NoSuchBucket", "403"}):
                raise BackendStartError(f"S3 endpoint {self.where}", f"it answered {code} ({exc})") from exc
            # Any other answer (e.g. AccessDenied on ListBuckets for a scoped role) proves it is reachable.
        except BotoCoreError as exc:
            raise BackendStartError(
                f"S3 endpoint {self.where}",
                f"it did not answer (timeouts {self.timeout:g} s, no retries): {exc}",
                hint="check the URL and that the service runs, or use the embedded S3 backend (default)",
            ) from exc

    def _stop(self) -> None:
        """Nothing to release: the endpoint is not ours."""
