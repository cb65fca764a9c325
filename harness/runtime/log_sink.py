"""Function output on disk: one file per execution environment (as CloudWatch has a stream per environment).

Each file gets the environment's START/END/REPORT lines and the runtime process's own stdout and stderr,
written straight through (nothing is held in memory but a short tail of recent lines, which failure reasons
quote).

Known deviations from AWS:
- stdout and stderr are one stream per process (as in CloudWatch), so "the last stderr lines" of a crashed
  process are its last output lines of either kind.
- Files are named ``<function>-<environment id>.log``; the CloudWatch log stream name the environment was
  given (``AWS_LAMBDA_LOG_STREAM_NAME``) is kept alongside (`EnvironmentLog.log_stream`), not as a file name.
"""

from __future__ import annotations

import threading
from collections import deque
from pathlib import Path

from harness.runtime.logs import InvocationRecord

TAIL_LINES = 20  # recent lines each environment keeps for failure reasons
MAX_LINE_CHARS = 400  # a remembered line is cut here (the file keeps it whole)
_MAX_PARTIAL_BYTES = 4 * MAX_LINE_CHARS  # an unfinished line is remembered only this far


def clip(text: str, limit: int = MAX_LINE_CHARS) -> str:
    """`text` cut to `limit` characters, marked with an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


class EnvironmentLog:
    """The append-only log file of one execution environment, plus a bounded tail of its last lines."""

    def __init__(self, path: Path, environment_id: int, log_stream: str) -> None:
        self.path = path
        self.environment_id = environment_id
        self.log_stream = log_stream
        self.lock = threading.Lock()  # held by writers (the log pump and platform lines) around each write
        self._file = path.open("ab", buffering=0)
        self._tail: deque[str] = deque(maxlen=TAIL_LINES)
        self._partial = b""

    def write(self, data: bytes) -> None:
        """Append raw bytes (caller holds `lock`); later writes after `close` are dropped."""
        if self._file.closed:
            return
        self._file.write(data)
        # awslambdaric joins a traceback's lines with \r (one CloudWatch event): they are lines here too.
        pieces = (self._partial + data).replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")
        self._partial = pieces.pop()[:_MAX_PARTIAL_BYTES]
        for piece in pieces[-TAIL_LINES:]:
            self._tail.append(clip(piece.decode("utf-8", "replace")))

    def tail(self, count: int = TAIL_LINES) -> tuple[str, ...]:
        """The last `count` lines written (an unfinished last line included)."""
        with self.lock:
            lines = list(self._tail)
            if self._partial:
                lines.append(clip(self._partial.decode("utf-8", "replace")))
        return tuple(lines[-count:]) if count > 0 else ()

    def close(self) -> None:
        """Close the file."""
        with self.lock:
            self._file.close()


class FunctionLog:
    """One function's log directory (a file per environment) and its programmatic invocation log."""

    def __init__(self, directory: Path, function_name: str) -> None:
        self.directory = directory
        self.function_name = function_name
        directory.mkdir(parents=True, exist_ok=True)
        self._environments: dict[int, EnvironmentLog] = {}
        self._records: list[InvocationRecord] = []
        self._lock = threading.Lock()

    def open_environment(self, environment_id: int, log_stream: str) -> EnvironmentLog:
        """The log of a new environment (its file is created now)."""
        path = self.directory / f"{self.function_name}-{environment_id}.log"
        log = EnvironmentLog(path, environment_id, log_stream)
        with self._lock:
            self._environments[environment_id] = log
        return log

    def environment(self, environment_id: int) -> EnvironmentLog | None:
        """The log of environment `environment_id`, if it was opened."""
        with self._lock:
            return self._environments.get(environment_id)

    def files(self) -> list[Path]:
        """Every environment's log file, in environment order."""
        with self._lock:
            return [self._environments[key].path for key in sorted(self._environments)]

    def record(self, record: InvocationRecord) -> None:
        """Add to the invocation log."""
        with self._lock:
            self._records.append(record)

    def records(self) -> list[InvocationRecord]:
        """A copy of the invocation log so far, in completion order."""
        with self._lock:
            return list(self._records)

    def close(self) -> None:
        """Close every environment's file (later writes are dropped)."""
        with self._lock:
            logs = list(self._environments.values())
        for log in logs:
            log.close()
