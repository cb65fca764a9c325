"""`msk-harness run` says why a function fails: the distinct errors with their log lines in the terminal
summary, report.json and report.html, every environment's log in the report directory, and an early stop
(exit 1, the reason first) when every invocation fails alike. Real pipeline: embedded Kafka, moto, the
Firehose emulator and the function in real runtime processes."""

from __future__ import annotations

import json
import re
import socket
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.cli import main

PREFIX = "data/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/"
SETTLE_SECONDS = 600  # clock seconds a run without the early stop would wait for records that never arrive


def scenario(code_dir: Path, *, runtime: str, handler: str, speed: float) -> str:
    return f"""
name: reasons
seed: 3
clock: {{speed: {speed}}}
pipeline:
  topic: {{name: orders, partitions: 2}}
  event_source: {{StartingPosition: TRIM_HORIZON, BatchSize: 20}}
  function:
    runtime: {runtime}
    code_dir: {code_dir}
    handler: {handler}
    timeout: 30
    env: {{DELIVERY_STREAM_NAME: archive}}
  firehose:
    BufferingHints: {{SizeInMBs: 1, IntervalInSeconds: 1}}
    CompressionFormat: GZIP
    Prefix: "{PREFIX}"
    ErrorOutputPrefix: "errors/!{{firehose:error-output-type}}/"
load:
  profile: {{kind: constant, rate: 100}}
  records: 200
expect:
  no_loss: true
  settle_seconds: {SETTLE_SECONDS}
"""


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    summary: dict[str, object]
    result: dict[str, object]
    html: str
    report_dir: Path

    def logs(self) -> str:
        """Every environment's log file, concatenated."""
        files = sorted((self.report_dir / "functions").glob("*.log"))
        assert files, "no function log files in the report directory"
        return "".join(f.read_text(errors="replace") for f in files)


def run(tmp_path: Path, capsys: pytest.CaptureFixture[str], files: dict[str, str], **kwargs: object) -> Run:
    code_dir = tmp_path / "fn"
    code_dir.mkdir()
    for name, text in files.items():
        (code_dir / name).write_text(text, encoding="utf-8")
    path = tmp_path / "scenario.yaml"
    path.write_text(scenario(code_dir, **kwargs), encoding="utf-8")  # type: ignore[arg-type]
    report_dir = tmp_path / "report"
    code = main(["run", str(path), "--report-dir", str(report_dir)])
    out = capsys.readouterr().out
    document = json.loads((report_dir / "report.json").read_text(encoding="utf-8"))
    html = (report_dir / "report.html").read_text(encoding="utf-8")
    return Run(code, out, document["summary"], document["result"], html, report_dir)


def assert_stopped_early_with(outcome: Run, headline: str) -> None:
    """Exit 1, the stop reason first, the error in all three reports, records counted as they stand."""
    assert outcome.code == 1, outcome.out
    lines = outcome.out.splitlines()
    verdict = next(i for i, line in enumerate(lines) if "reasons: FAILED" in line)
    assert lines[verdict + 1].startswith("stopped early: every invocation"), outcome.out  # first
    assert headline in " ".join(outcome.out.split()), outcome.out
    assert outcome.summary["status"] == "FAILED"
    assert isinstance(outcome.summary["stopped_early"], str)
    assert headline in outcome.summary["stopped_early"]
    errors = outcome.summary["function_errors"]
    assert isinstance(errors, list)
    assert errors[0]["error"].startswith(headline)
    assert headline in outcome.html.replace("&#x27;", "'")
    assert "stopped early" in outcome.html
    # Nothing got through: every produced record is lost, none invented, and the settle was not sat out.
    verification = outcome.result["verification"]
    assert isinstance(verification, dict)
    assert 0 < verification["produced"] <= 200
    assert outcome.summary["lost"] == verification["produced"]
    assert verification["archived_records"] == 0
    assert isinstance(outcome.result["clock_seconds"], float)
    assert outcome.result["clock_seconds"] < SETTLE_SECONDS
    assert "not settled" not in outcome.out
    # Every environment's log is in the report directory, named in the JSON and linked from the HTML.
    logs = outcome.result["function_logs"]
    assert isinstance(logs, list)
    assert logs
    for name in logs:
        assert Path(name).is_file()
        assert Path(name).parent == outcome.report_dir / "functions"
        assert f'href="functions/{Path(name).name}"' in outcome.html


def test_a_missing_handler_stops_after_three_cold_starts_with_the_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = {"handler.py": 'print("module handler loaded")\n\ndef other(event, context):\n    return {}\n'}
    outcome = run(tmp_path, capsys, files, runtime="python3.12", handler="handler.lambda_handler", speed=1)
    assert_stopped_early_with(outcome, "Runtime.HandlerNotFound: Handler 'lambda_handler' missing on module")
    assert "3 in a row" in outcome.summary["stopped_early"]  # type: ignore[operator]
    logs = outcome.logs()
    assert "module handler loaded" in logs  # the function's own output is kept
    assert "Runtime.HandlerNotFound" in logs
    assert "REPORT RequestId: " in logs


def test_an_import_error_is_shown_with_its_log_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = {"handler.py": 'print("reading settings")\nimport settings_that_do_not_exist  # noqa\n'}
    outcome = run(tmp_path, capsys, files, runtime="python3.12", handler="handler.lambda_handler", speed=1)
    headline = "Runtime.ImportModuleError: Unable to import module 'handler': No module named"
    assert_stopped_early_with(outcome, headline)
    reason = outcome.result["function_error_reasons"][0]  # type: ignore[index]
    assert any("reading settings" in line for line in reason["log_tail"])
    assert "reading settings" in outcome.out  # the occurrence's last log lines are in the summary
    assert "reading settings" in outcome.logs()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


NODE_HANDLER = """
import http from "node:http";
export const handler = async () => {
  console.log("sending the batch to the archive service");
  await new Promise((resolve, reject) => {
    http.get("http://127.0.0.1:PORT/archive", resolve).on("error", reject);
  });
  return { ok: true };
};
"""


def test_a_node_network_error_on_every_invocation_stops_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    port = closed_port()
    files = {"index.mjs": NODE_HANDLER.replace("PORT", str(port))}
    outcome = run(tmp_path, capsys, files, runtime="nodejs20.x", handler="index.handler", speed=10)
    assert_stopped_early_with(outcome, f"Error: connect ECONNREFUSED 127.0.0.1:{port}")
    streak = re.search(r"(\d+) in a row over (\d+) clock s", str(outcome.summary["stopped_early"]))
    assert streak is not None
    assert int(streak[1]) >= 10
    assert int(streak[2]) >= 30
    assert "sending the batch to the archive service" in outcome.logs()


CRASHING_HANDLER = """
import os, sys

def lambda_handler(event, context):
    print("opening the state file", flush=True)
    sys.stderr.write("fatal: cannot open /nonexistent/state.db\\n")
    sys.stderr.flush()
    os._exit(3)
"""


def test_a_crashing_process_is_reported_with_its_last_stderr_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = {"handler.py": CRASHING_HANDLER}
    outcome = run(tmp_path, capsys, files, runtime="python3.12", handler="handler.lambda_handler", speed=10)
    assert_stopped_early_with(outcome, "Runtime.ExitError: Error: Runtime exited with error: exit status 3")
    reason = outcome.result["function_error_reasons"][0]  # type: ignore[index]
    tail = reason["log_tail"]
    # The process's last stderr line, then the line AWS writes when a runtime exits (`<message>` + `<type>`).
    assert "fatal: cannot open /nonexistent/state.db" in tail, tail
    assert tail[-1] == "Runtime.ExitError", tail
    assert tail.index("fatal: cannot open /nonexistent/state.db") < len(tail) - 1
    assert "fatal: cannot open /nonexistent/state.db" in outcome.out
    assert "fatal: cannot open /nonexistent/state.db" in outcome.html
    assert "fatal: cannot open /nonexistent/state.db" in outcome.logs()
