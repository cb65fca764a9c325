"""Pure checks of the START/END/REPORT platform lines."""

from __future__ import annotations

from harness.runtime.errors import exit_reason
from harness.runtime.logs import end_line, report_line, start_line

RID = "8476a536-e9f4-11e8-9739-2dfe598c3fcd"


def test_start_and_end_lines() -> None:
    assert start_line(RID) == f"START RequestId: {RID} Version: $LATEST"
    assert end_line(RID) == f"END RequestId: {RID}"


def test_report_line_cold_warm_and_timeout() -> None:
    cold = report_line(RID, duration_ms=12.341, memory_mb=128, max_memory_used_mb=18, init_duration_ms=120.5)
    assert cold == (
        f"REPORT RequestId: {RID}\tDuration: 12.34 ms\tBilled Duration: 13 ms\tMemory Size: 128 MB\t"
        "Max Memory Used: 18 MB\tInit Duration: 120.50 ms\t"
    )
    warm = report_line(RID, duration_ms=0.2, memory_mb=256, max_memory_used_mb=None, init_duration_ms=None)
    assert "Billed Duration: 1 ms" in warm
    assert "Init Duration" not in warm
    timed_out = report_line(
        RID, duration_ms=3000.0, memory_mb=128, max_memory_used_mb=40, init_duration_ms=None,
        status="timeout",
    )  # fmt: skip
    assert timed_out.endswith(
        "Billed Duration: 3000 ms\tMemory Size: 128 MB\tMax Memory Used: 40 MB\tStatus: timeout\t"
    )


def test_exit_reasons_use_aws_wording() -> None:
    assert exit_reason(3) == "exit status 3"
    assert exit_reason(-9) == "signal: killed"
    assert exit_reason(-15) == "signal: terminated"
