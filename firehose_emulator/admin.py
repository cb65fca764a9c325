"""The test-hook HTTP API under `/_emulator/` (spec Appendix B): flush, clock, faults, state, metrics,
deliveries.

Routes (JSON bodies; `region` defaults to the service's `default_region`)::

    POST   /_emulator/flush                {"stream"?: str}
    POST   /_emulator/advance_clock        {"seconds": float}           (FakeClock only)
    POST   /_emulator/faults/put_failures  {"stream", "positions"?: [int], "fraction"?: float, "code"?,
    "message"?,
                                            "calls"?: int|null}
    POST   /_emulator/faults/call_failure  {"stream", "code"?, "times"?: int, "store"?: bool, "message"?}
    POST   /_emulator/faults/latency       {"stream", "seconds": float}
    POST   /_emulator/faults/throttle      {"stream", "records_per_second", "requests_per_second",
    "bytes_per_second"}
    POST   /_emulator/faults/s3            {"code"?, "message"?, "start"?: ISO, "end"?: ISO,
    "latency_seconds"?}
    POST   /_emulator/faults/clear         {"stream"?: str}            (no stream: clears the S3 faults)
    POST   /_emulator/state                {"stream", "state", "failure_type"?, "details"?}
    GET    /_emulator/metrics?stream=NAME
    GET    /_emulator/deliveries?stream=NAME
    GET    /_emulator/health

Known deviations from AWS: none — these routes are the emulator's own (spec Appendix B), not AWS APIs.

Example::

    curl -X POST http://127.0.0.1:PORT/_emulator/flush -d '{"stream":"orders"}'
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs

from firehose_emulator.errors import FirehoseError
from firehose_emulator.faults import StreamFaults, ThroughputQuota
from firehose_emulator.hooks import EmulatorHooks
from firehose_emulator.service import FirehoseService

ADMIN_PREFIX = "/_emulator/"
Body = dict[str, Any]


class AdminError(Exception):
    """A bad admin request (HTTP 400 with a JSON error)."""


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _optional_time(value: Any) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        raise AdminError(f"not an ISO-8601 instant: {value!r}") from None
    if parsed.tzinfo is None:
        raise AdminError(f"instant must carry a time zone: {value!r}")
    return parsed


class AdminApi:
    """Routes `/_emulator/...` requests to the service's test hooks."""

    def __init__(self, service: FirehoseService) -> None:
        self.hooks = EmulatorHooks(service)
        self._post: dict[str, Callable[[Body], Any]] = {
            "flush": self._flush,
            "advance_clock": self._advance_clock,
            "faults/put_failures": self._put_failures,
            "faults/call_failure": self._call_failure,
            "faults/latency": self._latency,
            "faults/throttle": self._throttle,
            "faults/s3": self._s3_fault,
            "faults/clear": self._clear,
            "state": self._state,
        }
        self._get: dict[str, Callable[[Body], Any]] = {
            "metrics": self._metrics,
            "deliveries": self._deliveries,
            "health": lambda _body: {"status": "ok"},
        }

    def handle(self, method: str, path: str, body: bytes) -> tuple[int, bytes]:
        """Run one admin request; returns (HTTP status, JSON body)."""
        route, _, query = path[len(ADMIN_PREFIX) :].partition("?")
        table = self._post if method == "POST" else self._get if method == "GET" else {}
        handler = table.get(route.rstrip("/"))
        if handler is None:
            return 404, json.dumps({"error": f"no admin route {method} {path}"}).encode()
        try:
            params: Body = {key: values[-1] for key, values in parse_qs(query).items()}
            if body.strip():
                loaded = json.loads(body)
                if not isinstance(loaded, dict):
                    raise AdminError("body must be a JSON object")
                params.update(loaded)
            result = handler(params)
        except (AdminError, ValueError, KeyError, TypeError) as exc:
            return 400, json.dumps({"error": f"{type(exc).__name__}: {exc}"}).encode()
        except FirehoseError as exc:
            return 400, json.dumps({"error": exc.message, "code": exc.error_code}).encode()
        return 200, json.dumps(result if result is not None else {}, default=_jsonable).encode()

    def _faults(self, body: Body) -> StreamFaults:
        return self.hooks.faults(str(body["stream"]), body.get("region"))

    def _flush(self, body: Body) -> None:
        self.hooks.flush(body.get("stream"), body.get("region"))

    def _advance_clock(self, body: Body) -> None:
        self.hooks.advance_clock(float(body["seconds"]))

    def _put_failures(self, body: Body) -> None:
        self._faults(body).inject_put_failures(
            positions=body.get("positions"),
            fraction=body.get("fraction"),
            code=body.get("code", "ServiceUnavailableException"),
            message=body.get("message"),
            calls=body.get("calls", 1),
        )

    def _call_failure(self, body: Body) -> None:
        self._faults(body).inject_call_failure(
            body.get("code", "ServiceUnavailableException"),
            int(body.get("times", 1)),
            bool(body.get("store", False)),
            body.get("message"),
        )

    def _latency(self, body: Body) -> None:
        self._faults(body).add_latency(float(body["seconds"]))

    def _throttle(self, body: Body) -> None:
        quota = ThroughputQuota(
            int(body["records_per_second"]), int(body["requests_per_second"]), int(body["bytes_per_second"])
        )
        self._faults(body).throttle(quota)

    def _s3_fault(self, body: Body) -> None:
        store = self.hooks.object_store
        start, end = _optional_time(body.get("start")), _optional_time(body.get("end"))
        if body.get("latency_seconds") is not None:
            store.add_latency(float(body["latency_seconds"]), start, end)
            return
        code = str(body.get("code", "InternalError"))
        if body.get("message") is not None:
            store.fail_between(start, end, code, str(body["message"]))
        else:
            store.fail_between(start, end, code)

    def _clear(self, body: Body) -> None:
        if body.get("stream") is None:
            self.hooks.object_store.clear()
        else:
            self._faults(body).clear()

    def _state(self, body: Body) -> None:
        self.hooks.set_state(
            str(body["stream"]),
            str(body["state"]),
            body.get("failure_type"),
            body.get("details"),
            body.get("region"),
        )

    def _metrics(self, body: Body) -> dict[str, float]:
        return self.hooks.metrics(str(body["stream"]), body.get("region"))

    def _deliveries(self, body: Body) -> dict[str, Any]:
        stream = str(body["stream"])
        region = body.get("region")
        return {
            "deliveries": [dataclasses.asdict(item) for item in self.hooks.attempts(stream, region)],
            "dropped": [dataclasses.asdict(item) for item in self.hooks.dropped(stream, region)],
        }
