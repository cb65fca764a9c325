"""The Firehose emulator as an in-process backend: a FirehoseService served over HTTP on 127.0.0.1.

Example::

    with MotoServer().start() as s3, FirehoseBackend(s3.endpoint_url).start() as firehose:
        firehose.client().put_record(DeliveryStreamName="orders", Record={"Data": b"x"})
        firehose.hooks.flush("orders")

New streams are CREATING for `create_delay_seconds` of clock time, as on AWS: `wait_until_active` polls
DescribeDeliveryStream the way a client script does (boto3 has no Firehose waiter).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import boto3
from botocore.config import Config

from firehose_emulator import build_service
from firehose_emulator.hooks import EmulatorHooks
from firehose_emulator.options import ServiceOptions
from firehose_emulator.server import FirehoseServer
from firehose_emulator.service import FirehoseService
from harness.clock import Clock, identity_rng
from harness.lifecycle import Backend, BackendError

DUMMY_ACCESS_KEY_ID = "testing"
DUMMY_SECRET_ACCESS_KEY = "testing"  # noqa: S105 - the emulator accepts any secret


class FirehoseBackend(Backend):
    """Runs our Firehose emulator in this process; `endpoint_url`, `hooks` (test hooks), `client()`."""

    name = "firehose"

    def __init__(
        self,
        s3_endpoint_url: str | None,
        *,
        region: str = "us-east-1",
        clock: Clock | None = None,
        rng_seed: int | None = None,
        options: ServiceOptions | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        super().__init__()
        self.s3_endpoint_url = s3_endpoint_url
        self.region = region
        self._clock = clock
        self._rng_seed = rng_seed  # None: ids unique per run; an int: the same ids every run
        self._request_id_seed = None if rng_seed is None else rng_seed + 1
        base = options or ServiceOptions()
        self.options = dataclasses.replace(base, default_region=region) if options is None else base
        self._host, self._port = host, port
        self._service: FirehoseService | None = None
        self._server: FirehoseServer | None = None

    def _start(self) -> None:
        self._service = build_service(
            self.s3_endpoint_url,
            region=self.region,
            clock=self._clock,
            rng_seed=self._rng_seed,
            options=self.options,
            s3_credentials=(DUMMY_ACCESS_KEY_ID, DUMMY_SECRET_ACCESS_KEY) if self.s3_endpoint_url else None,
        )
        self._service.start()
        self._server = FirehoseServer(
            self._service, host=self._host, port=self._port, rng=identity_rng(self._request_id_seed)
        ).start()

    def _stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self._service is not None:
            self._service.close()
            self._service = None

    @property
    def service(self) -> FirehoseService:
        """The in-process service (the domain; its test hooks are `hooks`)."""
        if self._service is None:
            raise BackendError("the Firehose backend is not running")
        return self._service

    @property
    def hooks(self) -> EmulatorHooks:
        """Test hooks on the running service: flush, clock, state, faults, delivery log, metrics."""
        return EmulatorHooks(self.service)

    @property
    def endpoint_url(self) -> str:
        """`http://127.0.0.1:<port>`."""
        if self._server is None:
            raise BackendError("the Firehose backend is not running")
        return self._server.url

    def env(self) -> dict[str, str]:
        """The SDK environment that points Firehose clients here (`AWS_ENDPOINT_URL_FIREHOSE`)."""
        return {
            "AWS_ENDPOINT_URL_FIREHOSE": self.endpoint_url,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ACCESS_KEY_ID": DUMMY_ACCESS_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": DUMMY_SECRET_ACCESS_KEY,
        }

    def wait_until_active(self, name: str, timeout_seconds: float = 120.0) -> None:
        """Poll DescribeDeliveryStream until `name` is ACTIVE, as a client must after CreateDeliveryStream."""
        wait_until_active(self.client(), name, clock=self.service.clock, timeout_seconds=timeout_seconds)

    def client(self, **config: Any) -> Any:
        """A boto3 firehose client with dummy credentials (kwargs go to botocore's Config)."""
        return boto3.client(
            "firehose",
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            aws_access_key_id=DUMMY_ACCESS_KEY_ID,
            aws_secret_access_key=DUMMY_SECRET_ACCESS_KEY,
            config=Config(**config) if config else None,
        )


def wait_until_active(
    client: Any, name: str, *, clock: Clock, timeout_seconds: float = 120.0, poll_seconds: float = 0.5
) -> None:
    """Poll `client.describe_delivery_stream` on `clock` until `name` is ACTIVE; BackendError on a failed
    create or after `timeout_seconds` of clock time."""
    deadline = clock.monotonic() + timeout_seconds
    while True:
        description = client.describe_delivery_stream(DeliveryStreamName=name)["DeliveryStreamDescription"]
        status = description["DeliveryStreamStatus"]
        if status == "ACTIVE":
            return
        if status != "CREATING":
            failure = description.get("FailureDescription", {})
            raise BackendError(f"Firehose stream {name} is {status}: {failure.get('Details', 'no details')}")
        if clock.monotonic() >= deadline:
            raise BackendError(f"Firehose stream {name} still CREATING after {timeout_seconds:g} s")
        clock.sleep(poll_seconds)
