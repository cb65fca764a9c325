"""The live progress of a run: a rich table redrawn in place on a terminal, plain periodic lines elsewhere.

`make_progress(console)` picks the display: `LiveProgress` when the console is a terminal (and not CI),
`LineProgress` otherwise (one line every `every_seconds` of wall time, so CI logs stay readable).
`NullProgress` shows nothing (the pytest plugin).

Example::

    with make_progress(Console(), "smoke") as progress:
        progress.update(Snapshot("load", 1.5, 1.5, point, faults))
"""

from __future__ import annotations

from dataclasses import dataclass
from types import TracebackType
from typing import Protocol, Self

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from harness.closing import Closing
from harness.run.result import FaultEvent, TimePoint

RECENT_FAULTS = 4


@dataclass(frozen=True)
class Snapshot:
    """What the display shows: the phase, elapsed wall/clock seconds, the counters and the faults fired."""

    phase: str  # "starting", "load", "settling", "verifying", "stopping"
    wall_seconds: float
    clock_seconds: float
    point: TimePoint | None
    faults: tuple[FaultEvent, ...]


class Progress(Protocol):
    """A progress display."""

    def __enter__(self) -> Self:
        """Start showing."""
        ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Stop showing."""
        ...

    def update(self, snapshot: Snapshot) -> None:
        """Show `snapshot`."""
        ...


def _counters(point: TimePoint | None) -> list[tuple[str, str]]:
    if point is None:
        return []
    return [
        ("produced", f"{point.produced:,}"),
        ("invoked", f"{point.invoked_records:,}"),
        ("archived", f"{point.archived_records:,}"),
        ("lag", f"{point.lag:,}"),
        ("objects", f"{point.objects:,}"),
    ]


def line(name: str, snapshot: Snapshot) -> str:
    """One plain progress line: `[smoke] load wall 3.0s clock 3.0s produced 3,000 ... faults 1 (0 failed)`."""
    parts = [f"[{name}] {snapshot.phase}", f"wall {snapshot.wall_seconds:.1f}s"]
    parts.append(f"clock {snapshot.clock_seconds:.1f}s")
    parts += [f"{label} {value}" for label, value in _counters(snapshot.point)]
    failed = sum(1 for f in snapshot.faults if not f.ok)
    parts.append(f"faults {len(snapshot.faults)}" + (f" ({failed} failed)" if failed else ""))
    return " ".join(parts)


class LineProgress(Closing):
    """Plain lines, at most one per `every_seconds` of wall time (plus every phase change)."""

    def __init__(self, console: Console, name: str, every_seconds: float = 5.0) -> None:
        self._console = console
        self._name = name
        self._every = every_seconds
        self._next = 0.0
        self._phase = ""
        self._faults_shown = 0

    def update(self, snapshot: Snapshot) -> None:
        """Print fault events as they happen, and a counters line when due."""
        for event in snapshot.faults[self._faults_shown :]:
            status = "fault" if event.ok else "FAULT FAILED"
            self._console.print(
                f"[{self._name}] {status} at {event.t_seconds:.1f}s: {event.description}",
                highlight=False,
                markup=False,
            )
        self._faults_shown = len(snapshot.faults)
        if snapshot.phase != self._phase or snapshot.wall_seconds >= self._next:
            self._phase = snapshot.phase
            self._next = snapshot.wall_seconds + self._every
            self._console.print(line(self._name, snapshot), highlight=False, markup=False)


class LiveProgress:
    """A rich table redrawn in place: phase, times, counters and the latest faults."""

    def __init__(self, console: Console, name: str) -> None:
        self._name = name
        self._live = Live(console=console, refresh_per_second=4, transient=False)

    def __enter__(self) -> Self:
        self._live.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._live.stop()

    def update(self, snapshot: Snapshot) -> None:
        """Redraw with `snapshot`."""
        self._live.update(self.render(snapshot))

    def render(self, snapshot: Snapshot) -> Group:
        """The table and the recent faults."""
        table = Table(title=f"msk-harness run {self._name}: {snapshot.phase}", title_justify="left")
        for header in ("wall", "clock", "produced", "invoked", "archived", "lag", "objects", "faults"):
            table.add_column(header, justify="right")
        counters = [value for _, value in _counters(snapshot.point)] or ["-"] * 5
        table.add_row(
            f"{snapshot.wall_seconds:.1f}s",
            f"{snapshot.clock_seconds:.1f}s",
            *counters,
            str(len(snapshot.faults)),
        )
        lines = [
            Text(
                f"  {e.t_seconds:7.1f}s {'ok    ' if e.ok else 'FAILED'} {e.description}",
                style="" if e.ok else "red",
            )
            for e in snapshot.faults[-RECENT_FAULTS:]
        ]
        return Group(table, *lines)


class NullProgress(Closing):
    """Shows nothing."""

    def update(self, snapshot: Snapshot) -> None:
        """Ignore `snapshot`."""


def make_progress(console: Console, name: str, *, ci: bool = False) -> Progress:
    """LiveProgress on an interactive terminal, LineProgress when not a TTY or in CI."""
    if console.is_terminal and not console.is_dumb_terminal and not ci:
        return LiveProgress(console, name)
    return LineProgress(console, name)
