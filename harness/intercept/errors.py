"""The front's answer for a service the harness does not emulate, in that service's own wire shape.

SDKs parse the code and message out of the protocol their service speaks (JSON `__type`, query-protocol
`ErrorResponse`, S3's `Error`), so the function's exception names the service and the host. HTTP 400 keeps
every SDK from retrying: the call fails at once instead of backing off against something that never answers.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from xml.sax.saxutils import escape

NOT_EMULATED_CODE = "HarnessServiceNotEmulated"
NOT_EMULATED_STATUS = 400
UPSTREAM_DOWN_CODE = "HarnessEmulatorUnavailable"
UPSTREAM_DOWN_STATUS = 503


@dataclass(frozen=True)
class ErrorResponse:
    """A ready-to-send error: status, headers, body."""

    status: int
    headers: dict[str, str]
    body: bytes


def not_emulated_message(service: str, host: str, emulated: Iterable[str]) -> str:
    """Why the call failed, naming the service, the host and what this run does answer."""
    return (
        f"msk-harness does not emulate the AWS service '{service}' (request to {host}); this run answers "
        f"{', '.join(sorted(emulated))}. The call was not sent to AWS."
    )


def error_response(
    *,
    status: int,
    code: str,
    message: str,
    service: str,
    request_id: str,
    json_target: bool,
    form_body: bool,
) -> ErrorResponse:
    """`code`/`message` in the shape the caller's protocol expects (JSON, query XML or S3 XML)."""
    headers = {"x-amzn-RequestId": request_id, "x-amzn-ErrorType": code}
    if json_target or not (form_body or service == "s3"):
        headers["Content-Type"] = "application/x-amz-json-1.1" if json_target else "application/json"
        body = json.dumps({"__type": code, "message": message, "Message": message}).encode()
    elif form_body:
        headers["Content-Type"] = "text/xml"
        body = (
            "<ErrorResponse><Error><Type>Sender</Type>"
            f"<Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error>"
            f"<RequestId>{escape(request_id)}</RequestId></ErrorResponse>"
        ).encode()
    else:
        headers["Content-Type"] = "application/xml"
        headers["x-amz-request-id"] = request_id
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{escape(code)}</Code><Message>{escape(message)}</Message>"
            f"<RequestId>{escape(request_id)}</RequestId></Error>"
        ).encode()
    return ErrorResponse(status, headers, body)
