"""The AWS JSON 1.1 wire protocol of Firehose: the only module that knows targets, JSON, base64 and error
bodies.

`FirehoseProtocol.handle(target, body, authorization)` turns one HTTP request into a `WireResponse`; the
HTTP server
(server.py) only moves bytes.

Known deviations from AWS:

* SigV4 signatures are not verified (`verify_signatures` is accepted but only the credential scope is read,
for
  the Region).
* Invalid base64 in `Data` gives `SerializationException`; AWS's text for it is not documented.

Example::

    protocol = FirehoseProtocol(service)
    response = protocol.handle("Firehose_20150804.ListDeliveryStreams", b"{}", None)
    response.status, response.body  # 200, b'{"DeliveryStreamNames": [], "HasMoreDeliveryStreams": false}'
"""

from __future__ import annotations

import binascii
import json
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import orjson

from firehose_emulator.clock import random_uuid
from firehose_emulator.errors import (
    FirehoseError,
    InternalFailure,
    SerializationException,
    UnknownOperationException,
    ValidationException,
    error_body,
)
from firehose_emulator.models import Encryption
from firehose_emulator.models_describe import describe_stream
from firehose_emulator.models_wire import (
    CreateDeliveryStreamInput,
    PutRecordBatchOutput,
    PutRecordBatchResponseEntry,
    UpdateDestinationInput,
    s3_update_member,
    stream_spec_from_wire,
    update_from_wire,
)
from firehose_emulator.service import FirehoseService
from firehose_emulator.validation import (
    MAX_BATCH_RECORDS,
    ShapeValidator,
    ValidationSettings,
    record_size_violations,
    stream_name_violations,
    validation_error,
    violation,
)

TARGET_PREFIX = "Firehose_20150804."
CONTENT_TYPE = "application/x-amz-json-1.1"
_CREDENTIAL_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/([a-z0-9-]+)/firehose/aws4_request")
_a2b = binascii.a2b_base64
Params = dict[str, Any]


@dataclass(frozen=True)
class RawJson:
    """A response body serialised by hand (the PutRecordBatch fast path)."""

    raw: bytes


@dataclass(frozen=True)
class WireResponse:
    """Status, body and request id of one response (the server adds the headers)."""

    status: int
    body: bytes
    request_id: str


def region_from_authorization(authorization: str | None, default: str) -> str:
    """The Region of the SigV4 credential scope, or `default`."""
    if authorization:
        match = _CREDENTIAL_SCOPE.search(authorization)
        if match:
            return match.group(1)
    return default


def decode_blob(value: Any, path: str) -> bytes:
    """Base64-decode a blob member (strict)."""
    if not isinstance(value, str):
        raise SerializationException(f"Expected a base64 string at '{path}'")
    try:
        return _a2b(value, strict_mode=True)
    except binascii.Error:
        raise SerializationException(f"Invalid base64 at '{path}'") from None


CONTROL_PLANE = frozenset(
    {
        "CreateDeliveryStream",
        "DeleteDeliveryStream",
        "DescribeDeliveryStream",
        "ListDeliveryStreams",
        "UpdateDestination",
        "TagDeliveryStream",
        "UntagDeliveryStream",
        "ListTagsForDeliveryStream",
        "StartDeliveryStreamEncryption",
        "StopDeliveryStreamEncryption",
    }
)


class FirehoseProtocol:
    """Dispatches `X-Amz-Target` operations to the service and serialises results and errors."""

    def __init__(self, service: FirehoseService, rng: random.Random | None = None) -> None:
        self.service = service
        self._options = service.options
        self._validator = ShapeValidator(ValidationSettings(service.options.validation_position_base))
        self._rng = rng or random.Random(0)
        self._handlers: dict[str, Callable[[str, Params], Params | RawJson]] = {
            "CreateDeliveryStream": self._create,
            "DeleteDeliveryStream": self._delete,
            "DescribeDeliveryStream": self._describe,
            "ListDeliveryStreams": self._list,
            "PutRecord": self._put_record,
            "PutRecordBatch": self._put_record_batch,
            "UpdateDestination": self._update,
            "TagDeliveryStream": self._tag,
            "UntagDeliveryStream": self._untag,
            "ListTagsForDeliveryStream": self._list_tags,
            "StartDeliveryStreamEncryption": self._start_encryption,
            "StopDeliveryStreamEncryption": self._stop_encryption,
        }

    def handle(self, target: str | None, body: bytes, authorization: str | None) -> WireResponse:
        """Run one request; never raises (errors become `{"__type","message"}` responses)."""
        request_id = random_uuid(self._rng)
        try:
            operation = (target or "").removeprefix(TARGET_PREFIX)
            handler = self._handlers.get(operation) if target and target.startswith(TARGET_PREFIX) else None
            if handler is None:
                raise UnknownOperationException(f"Unknown operation {target or '(no X-Amz-Target)'}")
            params = self._parse(body)
            region = region_from_authorization(authorization, self._options.default_region)
            if operation in CONTROL_PLANE:
                self.service.control_plane_call(region, operation)
            result = handler(region, params)
            body_out = result.raw if isinstance(result, RawJson) else json.dumps(result).encode()
            return WireResponse(200, body_out, request_id)
        except FirehoseError as error:
            return WireResponse(error.http_status, error_body(error), request_id)
        except Exception as exc:  # noqa: BLE001 - the server must answer; any bug becomes AWS's InternalFailure
            return WireResponse(500, error_body(InternalFailure(f"{type(exc).__name__}: {exc}")), request_id)

    @staticmethod
    def _parse(body: bytes) -> Params:
        if not body.strip():
            return {}
        try:
            params = orjson.loads(body)  # ~5x faster on a 4 MB PutRecordBatch body
        except orjson.JSONDecodeError:
            try:  # what orjson refuses but json takes (NaN, integers beyond 64 bits, ...) is judged as before
                params = json.loads(body)
            except ValueError:
                raise SerializationException("Request body is not valid JSON") from None
            except RecursionError:  # orjson stops at 1,024 levels; json's recursion must not become a 500
                raise SerializationException("Request body nests JSON too deeply") from None
        if not isinstance(params, dict):
            raise SerializationException("Request body must be a JSON object")
        return params

    # --- control plane
    # ---------------------------------------------------------------------------------------

    def _create(self, region: str, params: Params) -> Params:
        self._validator.validate("CreateDeliveryStream", params)
        spec = stream_spec_from_wire(cast(CreateDeliveryStreamInput, params))
        return {"DeliveryStreamARN": self.service.create_delivery_stream(region, spec)}

    def _delete(self, region: str, params: Params) -> Params:
        self._validator.validate("DeleteDeliveryStream", params)
        self.service.delete_delivery_stream(
            region, params["DeliveryStreamName"], bool(params.get("AllowForceDelete", False))
        )
        return {}

    def _describe(self, region: str, params: Params) -> Params:
        self._validator.validate("DescribeDeliveryStream", params)
        stream, status = self.service.describe(region, params["DeliveryStreamName"])
        description = describe_stream(
            stream, status, self._options, params.get("Limit"), params.get("ExclusiveStartDestinationId")
        )
        return {"DeliveryStreamDescription": description}

    def _list(self, region: str, params: Params) -> Params:
        self._validator.validate("ListDeliveryStreams", params)
        names, more = self.service.list_delivery_streams(
            region,
            params.get("Limit", 10),
            params.get("DeliveryStreamType"),
            params.get("ExclusiveStartDeliveryStreamName"),
        )
        return {"DeliveryStreamNames": names, "HasMoreDeliveryStreams": more}

    def _update(self, region: str, params: Params) -> Params:
        self._validator.validate("UpdateDestination", params)
        request = cast(UpdateDestinationInput, params)
        raw_update = s3_update_member(params)
        self.service.update_destination(
            region,
            request["DeliveryStreamName"],
            request["CurrentDeliveryStreamVersionId"],
            request["DestinationId"],
            update_from_wire(raw_update),
        )
        return {}

    def _tag(self, region: str, params: Params) -> Params:
        self._validator.validate("TagDeliveryStream", params)
        tags = [(tag["Key"], tag.get("Value", "")) for tag in params["Tags"]]
        self.service.tag(region, params["DeliveryStreamName"], tags)
        return {}

    def _untag(self, region: str, params: Params) -> Params:
        self._validator.validate("UntagDeliveryStream", params)
        self.service.untag(region, params["DeliveryStreamName"], params["TagKeys"])
        return {}

    def _list_tags(self, region: str, params: Params) -> Params:
        self._validator.validate("ListTagsForDeliveryStream", params)
        tags, more = self.service.list_tags(
            region, params["DeliveryStreamName"], params.get("ExclusiveStartTagKey"), params.get("Limit", 50)
        )
        return {"Tags": [{"Key": key, "Value": value} for key, value in tags], "HasMoreTags": more}

    def _start_encryption(self, region: str, params: Params) -> Params:
        self._validator.validate("StartDeliveryStreamEncryption", params)
        config = params.get("DeliveryStreamEncryptionConfigurationInput") or {}
        key_type = config.get("KeyType", "AWS_OWNED_CMK")
        self.service.set_encryption(
            region, params["DeliveryStreamName"], Encryption("ENABLED", key_type, config.get("KeyARN"))
        )
        return {}

    def _stop_encryption(self, region: str, params: Params) -> Params:
        self._validator.validate("StopDeliveryStreamEncryption", params)
        self.service.set_encryption(region, params["DeliveryStreamName"], Encryption())
        return {}

    # --- data plane: hand-written checks, same texts as the model walk, without its per-record cost
    # ----------

    def _put_record(self, region: str, params: Params) -> Params:
        name = params.get("DeliveryStreamName")
        found = stream_name_violations(name)
        record = params.get("Record")
        data = b""
        if record is None:
            found.append(violation(None, "record", "Member must not be null"))
        elif not isinstance(record, dict):
            raise SerializationException("Expected an object at 'record'")
        elif record.get("Data") is None:
            found.append(violation(None, self._options.put_record_data_path, "Member must not be null"))
        else:
            data = decode_blob(record["Data"], self._options.put_record_data_path)
            found += record_size_violations([len(data)], None, 0, self._options.put_record_data_path)
        if found:
            raise validation_error(found)
        record_id, encrypted = self.service.put_record(region, cast(str, name), data)
        return {"RecordId": record_id, "Encrypted": encrypted}

    def _put_record_batch(self, region: str, params: Params) -> Params | RawJson:
        name = params.get("DeliveryStreamName")
        found = stream_name_violations(name)
        records = params.get("Records")
        if records is None:
            found.append(violation(None, "records", "Member must not be null"))
            raise validation_error(found)
        if not isinstance(records, list):
            raise SerializationException("Expected a list at 'records'")
        if len(records) > MAX_BATCH_RECORDS:
            raise validation_error(found) if found else _records_limit(self._options.records_limit_message)
        if not records:
            found.append(violation("[]", "records", "Member must have length greater than or equal to 1"))
        base = self._options.validation_position_base
        try:  # fast path for a well-formed batch; anything odd is judged record by record below
            blobs = [_a2b(entry["Data"], strict_mode=True) for entry in records]
        except (TypeError, KeyError, ValueError):
            blobs = self._decode_records(records, base, found)
        found += record_size_violations([len(blob) for blob in blobs], "records", base, "")
        if found:
            raise validation_error(found)
        result = self.service.put_record_batch(region, cast(str, name), blobs)
        if result.failed == 0:
            # Record ids are base64 (no JSON escaping needed): join them instead of a generic dumps.
            ids = '"},{"RecordId":"'.join(cast(str, o.record_id) for o in result.outcomes)
            encrypted = "true" if result.encrypted else "false"
            return RawJson(
                f'{{"FailedPutCount":0,"Encrypted":{encrypted},"RequestResponses":[{{"RecordId":"{ids}"}}]}}'.encode()
            )
        responses: list[PutRecordBatchResponseEntry] = [
            {"RecordId": o.record_id}
            if o.record_id is not None
            else {"ErrorCode": o.error_code or "", "ErrorMessage": o.error_message or ""}
            for o in result.outcomes
        ]
        output: PutRecordBatchOutput = {
            "FailedPutCount": result.failed,
            "Encrypted": result.encrypted,
            "RequestResponses": responses,
        }
        return cast(Params, output)

    @staticmethod
    def _decode_records(records: list[Any], base: int, found: list[str]) -> list[bytes]:
        blobs: list[bytes] = []
        for index, entry in enumerate(records):
            value = entry.get("Data") if isinstance(entry, dict) else None
            if value is None:
                found.append(
                    violation(None, f"records.{index + base}.member.data", "Member must not be null")
                )
                continue
            blobs.append(decode_blob(value, f"records.{index + base}.member.data"))
        return blobs


def _records_limit(message: str) -> FirehoseError:
    return ValidationException(message)
