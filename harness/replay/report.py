"""The replay report: what was listed, read, skipped, deduplicated, replayed and verified; JSON and terminal.

Exit codes: 0 everything selected was replayed and verified (or `--dry-run`), 1 verification failed, 2 bad
input (reported by the command before a report exists) or, with `--strict`, anything unreadable,
conflicting or unreplayable (then nothing is produced).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from harness.exits import ExitCode
from harness.replay.compare import TargetCheck
from harness.replay.plan import ReplayPlan

FIRST_NAMED = 20  # records named per finding in the report


@dataclass(frozen=True)
class ReadSummary:
    """The archive side: listing and decoding."""

    pruning: str  # how the key space was narrowed, in words
    objects_listed: int
    objects_read: int
    pruned_prefixes: tuple[str, ...] = ()
    error_objects_skipped: int = 0
    unpatterned_objects: int = 0
    unreadable: tuple[str, ...] = ()  # "key: reason" / "key line N: reason"


@dataclass(frozen=True)
class ReplayReport:
    """One replay, start to finish."""

    source: str
    target: str
    target_topic: str
    selection: dict[str, Any]
    preserve_partition: bool
    dry_run: bool
    strict: bool
    started_at: datetime
    read: ReadSummary
    plan: ReplayPlan
    unreplayable: tuple[str, ...] = ()  # selected records the producer cannot send as archived, with why
    produced: int = 0
    check: TargetCheck | None = None
    seconds: float = 0.0
    notes: tuple[str, ...] = field(default=())

    @property
    def problems(self) -> bool:
        """Anything unreadable, conflicting or unreplayable (what `--strict` refuses)."""
        return bool(self.read.unreadable or self.plan.conflicts or self.unreplayable)

    @property
    def exit_code(self) -> int:
        """0 verified (or dry run), 1 verification failed, 2 strict and problems."""
        if self.strict and self.problems:
            return ExitCode.BAD_INPUT
        if self.dry_run:
            return ExitCode.OK
        return ExitCode.OK if self.check is not None and self.check.passed else ExitCode.FAILED

    @property
    def outcome(self) -> str:
        """One word for the summary line."""
        code = self.exit_code
        if code == ExitCode.BAD_INPUT:
            return "refused (--strict)"
        if self.dry_run:
            return "dry run"
        return "verified" if code == ExitCode.OK else "VERIFICATION FAILED"

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly data (every list of names cut to its first FIRST_NAMED, with the full count)."""
        plan, read, check = self.plan, self.read, self.check
        return {
            "source": self.source,
            "target": self.target,
            "target_topic": self.target_topic,
            "selection": self.selection,
            "preserve_partition": self.preserve_partition,
            "dry_run": self.dry_run,
            "strict": self.strict,
            "started_at": self.started_at.isoformat(),
            "seconds": round(self.seconds, 3),
            "outcome": self.outcome,
            "exit_code": self.exit_code,
            "objects": {
                "pruning": read.pruning,
                "listed": read.objects_listed,
                "read": read.objects_read,
                "prefixes_skipped": len(read.pruned_prefixes),
                "prefixes_skipped_first": list(read.pruned_prefixes[:FIRST_NAMED]),
                "error_output_skipped": read.error_objects_skipped,
                "without_time_layout": read.unpatterned_objects,
                "unreadable": len(read.unreadable),
                "unreadable_first": list(read.unreadable[:FIRST_NAMED]),
            },
            "records": {
                "decoded": plan.decoded,
                "unique": plan.unique,
                "duplicates_removed": plan.duplicates_removed,
                "filtered_out": dict(plan.filtered_out),
                "conflicts": len(plan.conflicts),
                "conflicts_first": [c.describe() for c in plan.conflicts[:FIRST_NAMED]],
                "withheld_conflicting": plan.withheld,
                "unreplayable": len(self.unreplayable),
                "unreplayable_first": list(self.unreplayable[:FIRST_NAMED]),
                "selected": plan.selected,
                "produced": self.produced,
                "verified": None if check is None else check.verified,
                "received": None if check is None else check.received,
                "mismatches": None if check is None else len(check.mismatches),
                "mismatches_first": [] if check is None else list(check.mismatches[:FIRST_NAMED]),
                "unexpected_first": [] if check is None else list(check.unexpected[:FIRST_NAMED]),
                "order_violations_first": [] if check is None else list(check.order_violations[:FIRST_NAMED]),
            },
            "notes": list(self.notes),
        }

    def write_json(self, path: Path) -> None:
        """Write `to_dict()` as indented JSON."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n")


def print_report(report: ReplayReport, console: Console) -> None:
    """The terminal summary: one table of counts, then the first named problems."""
    data = report.to_dict()
    table = Table(title=f"msk-harness replay: {report.source} -> {report.target} topic {report.target_topic}")
    table.add_column("what")
    table.add_column("count", justify="right")
    objects, records = data["objects"], data["records"]
    rows: list[tuple[str, Any]] = [
        ("objects listed", objects["listed"]),
        ("key prefixes skipped (time range)", objects["prefixes_skipped"]),
        ("error-output objects skipped", objects["error_output_skipped"]),
        ("objects read", objects["read"]),
        ("unreadable objects/lines", objects["unreadable"]),
        ("records decoded", records["decoded"]),
        ("duplicates removed", records["duplicates_removed"]),
        *((f"filtered out by {name}", n) for name, n in records["filtered_out"].items()),
        ("conflicting identities", records["conflicts"]),
        ("unreplayable", records["unreplayable"]),
        ("selected", records["selected"]),
        ("produced", records["produced"]),
        ("verified", "-" if records["verified"] is None else records["verified"]),
    ]
    for name, count in rows:
        table.add_row(name, f"{count:,}" if isinstance(count, int) else str(count))
    console.print(table)
    console.print(f"key pruning: {objects['pruning']}")
    for title, items in (
        ("unreadable", objects["unreadable_first"]),
        ("conflicts", records["conflicts_first"]),
        ("unreplayable", records["unreplayable_first"]),
        ("mismatches", records["mismatches_first"]),
        ("unexpected in target", records["unexpected_first"]),
        ("order violations", records["order_violations_first"]),
    ):
        for item in items:
            console.print(Text(f"{title}: ", style="yellow") + Text(item), soft_wrap=True)
    for note in report.notes:
        console.print(f"note: {note}", highlight=False)
    style = "green" if report.exit_code == ExitCode.OK else "red"
    console.print(f"[{style}]{report.outcome}[/] in {report.seconds:.1f} s (exit {report.exit_code})")
