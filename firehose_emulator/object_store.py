"""Where delivered objects go: a real S3 endpoint through boto3, an in-memory store, and a fault wrapper.

Known deviations from AWS:

* Every object is one PutObject, never a multipart upload (spec §5 allows single PUTs).
* S3 error codes are reported as ``S3.<S3 error code>`` (``S3.NoSuchBucket``, ``S3.AccessDenied``,
  ``S3.KMS.NotFoundException``); connection failures and timeouts as ``InternalError`` (spec §9.1). AWS's own
  mapping of rarer S3 codes is not documented.
* ``x-amz-acl: bucket-owner-full-control`` is always sent (spec §7.2 SHOULD).
* boto3's own retries are off: the emulator's delivery retry policy (delivery.py) is the only one.

Example::

    store = S3ObjectStore("http://127.0.0.1:5000", "us-east-1")
    store.put_object("my-bucket", "2026/07/13/14/x.gz", body, content_type="application/octet-stream",
                     content_encoding="gzip", kms_key_arn=None)
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from firehose_emulator.clock import Clock

NO_SUCH_BUCKET_MESSAGE = (
    "The specified bucket does not exist. Create the bucket or use a different bucket that does exist."
)
OBJECT_CONTENT_TYPE = "application/octet-stream"
BUCKET_OWNER_FULL_CONTROL = "bucket-owner-full-control"


class ObjectStoreError(Exception):
    """A failed PUT, carrying the Firehose-style error code (``S3.NoSuchBucket``, ``InternalError``...)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class ObjectStore(Protocol):
    """Anything that can store one object (raises ObjectStoreError on failure)."""

    def put_object(
        self,
        bucket: str,
        key: str,
        body: bytes,
        *,
        content_type: str,
        content_encoding: str | None,
        kms_key_arn: str | None,
    ) -> None:
        """Store `body` at `bucket`/`key` with the given headers, or raise ObjectStoreError."""
        ...


class S3ObjectStore:
    """boto3 against an endpoint_url (moto server or real S3); maps botocore errors to Firehose codes."""

    def __init__(
        self,
        endpoint_url: str | None,
        region: str,
        *,
        connect_timeout: float = 5,
        read_timeout: float = 30,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        max_pool_connections: int = 32,
    ) -> None:
        config = Config(
            region_name=region,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            retries={"total_max_attempts": 1, "mode": "standard"},
            max_pool_connections=max_pool_connections,
            s3={"addressing_style": "path"} if endpoint_url else {},
        )
        session = boto3.session.Session(
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            region_name=region,
        )
        self.endpoint_url = endpoint_url
        self._client: Any = session.client("s3", endpoint_url=endpoint_url, config=config)

    def put_object(
        self,
        bucket: str,
        key: str,
        body: bytes,
        *,
        content_type: str,
        content_encoding: str | None,
        kms_key_arn: str | None,
    ) -> None:
        """PutObject with Firehose's headers; botocore failures become ObjectStoreError."""
        params: dict[str, Any] = {
            "Bucket": bucket,
            "Key": key,
            "Body": body,
            "ContentType": content_type,
            "ACL": BUCKET_OWNER_FULL_CONTROL,
        }
        if content_encoding:
            params["ContentEncoding"] = content_encoding
        if kms_key_arn:
            params["ServerSideEncryption"] = "aws:kms"
            params["SSEKMSKeyId"] = kms_key_arn
        try:
            self._client.put_object(**params)
        except ClientError as error:
            raise error_from_client_error(error) from error
        except BotoCoreError as error:  # connection refused, timeouts, broken responses
            raise ObjectStoreError("InternalError", str(error)) from error

    def close(self) -> None:
        """Close the client's connection pool."""
        self._client.close()


def error_from_client_error(error: ClientError) -> ObjectStoreError:
    """Map an S3 ClientError to the code Firehose logs (spec §9.1)."""
    details = error.response.get("Error", {})
    code = str(details.get("Code") or "InternalError")
    message = str(details.get("Message") or error)
    if code == "NoSuchBucket":
        return ObjectStoreError("S3.NoSuchBucket", NO_SUCH_BUCKET_MESSAGE)
    if code == "InternalError":  # S3's own 500 is listed unprefixed among Firehose's codes (spec §9.1)
        return ObjectStoreError("InternalError", message)
    return ObjectStoreError(f"S3.{code}", message)


@dataclass(frozen=True)
class StoredObject:
    """One object held by MemoryObjectStore, with the headers it was written with."""

    body: bytes
    content_type: str
    content_encoding: str | None
    kms_key_arn: str | None


class MemoryObjectStore:
    """A thread-safe in-process object store with S3's bucket semantics, for pure unit tests."""

    def __init__(self, buckets: tuple[str, ...] = ()) -> None:
        self._lock = threading.Lock()
        self._buckets: dict[str, dict[str, StoredObject]] = {name: {} for name in buckets}

    def create_bucket(self, bucket: str) -> None:
        """Create `bucket` (a no-op when it exists)."""
        with self._lock:
            self._buckets.setdefault(bucket, {})

    def put_object(
        self,
        bucket: str,
        key: str,
        body: bytes,
        *,
        content_type: str,
        content_encoding: str | None,
        kms_key_arn: str | None,
    ) -> None:
        """Store the object, or raise ``S3.NoSuchBucket`` when the bucket does not exist."""
        with self._lock:
            objects = self._buckets.get(bucket)
            if objects is None:
                raise ObjectStoreError("S3.NoSuchBucket", NO_SUCH_BUCKET_MESSAGE)
            objects[key] = StoredObject(bytes(body), content_type, content_encoding, kms_key_arn)

    def objects(self, bucket: str) -> dict[str, StoredObject]:
        """A copy of the bucket's objects by key."""
        with self._lock:
            return dict(self._buckets.get(bucket, {}))


@dataclass
class _Fault:
    start: datetime | None
    end: datetime | None
    code: str = ""
    message: str = ""
    latency_seconds: float = 0.0

    def active(self, now: datetime) -> bool:
        return (self.start is None or now >= self.start) and (self.end is None or now < self.end)


class FaultyObjectStore:
    """Wraps an ObjectStore; fault windows in clock time: fail with a code, or add latency."""

    def __init__(self, inner: ObjectStore, clock: Clock) -> None:
        self._inner = inner
        self._clock = clock
        self._lock = threading.Lock()
        self._failures: list[_Fault] = []
        self._latencies: list[_Fault] = []

    def fail_between(
        self,
        start: datetime | None,
        end: datetime | None,
        code: str = "InternalError",
        message: str = "Injected object store failure.",
    ) -> None:
        """Fail every PUT whose clock time falls in [start, end) (None = unbounded) with `code`."""
        with self._lock:
            self._failures.append(_Fault(start, end, code=code, message=message))

    def add_latency(self, seconds: float, start: datetime | None = None, end: datetime | None = None) -> None:
        """Delay every PUT in [start, end) by `seconds` of clock time (advance a FakeClock past it)."""
        if seconds < 0:
            raise ValueError(f"latency must be >= 0 seconds, got {seconds}")
        with self._lock:
            self._latencies.append(_Fault(start, end, latency_seconds=seconds))

    def clear(self) -> None:
        """Remove every fault and latency window."""
        with self._lock:
            self._failures.clear()
            self._latencies.clear()

    def put_object(
        self,
        bucket: str,
        key: str,
        body: bytes,
        *,
        content_type: str,
        content_encoding: str | None,
        kms_key_arn: str | None,
    ) -> None:
        """Apply active latency, then an active failure, else pass the PUT through."""
        now = self._clock.now()
        with self._lock:
            delay = sum(f.latency_seconds for f in self._latencies if f.active(now))
        if delay:
            self._clock.sleep(delay)
        now = self._clock.now()
        with self._lock:
            failure = next((f for f in self._failures if f.active(now)), None)
        if failure is not None:
            raise ObjectStoreError(failure.code, failure.message)
        self._inner.put_object(
            bucket,
            key,
            body,
            content_type=content_type,
            content_encoding=content_encoding,
            kms_key_arn=kms_key_arn,
        )
