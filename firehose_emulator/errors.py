"""Firehose API errors: each class carries its AWS error code and HTTP status; `error_body` serialises them.

Known deviations from AWS:

* `UnknownOperationException` and `SerializationException` bodies use the same `{"__type","message"}` shape as
  every other error; AWS's exact text for them is not documented.
"""

from __future__ import annotations

import json
from typing import ClassVar


class FirehoseError(Exception):
    """An error the API returns to the caller as `{"__type": code, "message": message}`."""

    code: ClassVar[str] = "InternalFailure"
    status: ClassVar[int] = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def error_code(self) -> str:
        """The AWS error code sent as `__type`."""
        return self.code

    @property
    def http_status(self) -> int:
        """The HTTP status of the response."""
        return self.status


class ClientError(FirehoseError):
    """Base of the HTTP 400 errors."""

    status = 400


class ValidationException(ClientError):  # noqa: N818 - named exactly as the AWS error code
    """A modelled constraint was violated (length, range, pattern, enum, required)."""

    code = "ValidationException"


class SerializationException(ClientError):  # noqa: N818 - named exactly as the AWS error code
    """The body is not JSON, or a member has the wrong JSON type."""

    code = "SerializationException"


class InvalidArgumentException(ClientError):  # noqa: N818 - named exactly as the AWS error code
    """A semantic rule of spec §3.2 was violated."""

    code = "InvalidArgumentException"


class ResourceNotFoundException(ClientError):  # noqa: N818 - named exactly as the AWS error code
    """The stream does not exist (or may not be written in its state)."""

    code = "ResourceNotFoundException"


class ResourceInUseException(ClientError):  # noqa: N818 - named exactly as the AWS error code
    """The stream exists already, or its state forbids the operation."""

    code = "ResourceInUseException"


class LimitExceededException(ClientError):  # noqa: N818 - named exactly as the AWS error code
    """A stream quota or control-plane rate was exceeded."""

    code = "LimitExceededException"


class ConcurrentModificationException(ClientError):  # noqa: N818 - named exactly as the AWS error code
    """UpdateDestination was given a stale `CurrentDeliveryStreamVersionId`."""

    code = "ConcurrentModificationException"


class InvalidKMSResourceException(ClientError):  # noqa: N818 - named exactly as the AWS error code
    """KMS key problem (fault injection only)."""

    code = "InvalidKMSResourceException"


class InvalidSourceException(ClientError):  # noqa: N818 - named exactly as the AWS error code
    """Source problem (fault injection only)."""

    code = "InvalidSourceException"


class UnknownOperationException(ClientError):  # noqa: N818 - named exactly as the AWS error code
    """The `X-Amz-Target` names no Firehose operation."""

    code = "UnknownOperationException"


class ServiceUnavailableException(FirehoseError):  # noqa: N818 - named exactly as the AWS error code
    """Whole-call throttle or injected fault; HTTP 500, so SDKs retry it."""

    code = "ServiceUnavailableException"
    status = 500


class InternalFailure(FirehoseError):  # noqa: N818 - named exactly as the AWS error code
    """An unexpected server-side failure."""

    code = "InternalFailure"
    status = 500


ERROR_CLASSES: dict[str, type[FirehoseError]] = {
    cls.code: cls
    for cls in (
        ValidationException,
        SerializationException,
        InvalidArgumentException,
        ResourceNotFoundException,
        ResourceInUseException,
        LimitExceededException,
        ConcurrentModificationException,
        InvalidKMSResourceException,
        InvalidSourceException,
        UnknownOperationException,
        ServiceUnavailableException,
        InternalFailure,
    )
}


class CustomCodeError(FirehoseError):
    """An error whose code comes from a knob (e.g. `non_direct_put_error_code`) rather than a class."""

    def __init__(self, code: str, message: str, status: int) -> None:
        super().__init__(message)
        self._code = code
        self._status = status

    @property
    def error_code(self) -> str:
        """The configured code."""
        return self._code

    @property
    def http_status(self) -> int:
        """The configured status."""
        return self._status


def error_for_code(code: str, message: str) -> FirehoseError:
    """An error instance for an AWS code; unknown codes get 500 if they look like faults, else 400."""
    cls = ERROR_CLASSES.get(code)
    if cls is not None:
        return cls(message)
    status = 500 if code in {"InternalFailure", "InternalServerError", "ServiceUnavailable"} else 400
    return CustomCodeError(code, message, status)


def error_body(error: FirehoseError) -> bytes:
    """The JSON 1.1 error body: `{"__type": "<Code>", "message": "<text>"}`."""
    return json.dumps({"__type": error.error_code, "message": error.message}).encode()
