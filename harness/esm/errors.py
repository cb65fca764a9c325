"""Errors of the emulated Lambda ESM API, each carrying its AWS error code and HTTP status."""

from __future__ import annotations


class EsmApiError(Exception):
    """Base of the Lambda API errors the ESM emulator raises (AWS `__type` code + message + status)."""

    code = "ServiceException"
    status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def to_aws(self) -> dict[str, str]:
        """The AWS JSON error body: {"__type": code, "message": message}."""
        return {"__type": self.code, "message": self.message}


class InvalidParameterValueException(EsmApiError):  # noqa: N818 - the AWS error code is the name
    """A parameter is out of range or not allowed in this mode (Lambda's HTTP 400)."""

    code = "InvalidParameterValueException"
    status = 400
