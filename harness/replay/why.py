"""Why a replay selected nothing, in words (pure): an empty selection is reported, never silent.

The common surprise is a time window that misses the records: `--since/--until` select on the Kafka record
timestamp, while the archive's `hour=` keys are Firehose arrival times. The note names the records' actual
timestamp span so the mismatch is visible.
"""

from __future__ import annotations

from datetime import UTC, datetime

from harness.replay.plan import ReplayPlan
from harness.replay.report import ReadSummary
from harness.replay.selection import Selection

_FILTER_WORDS = {
    "topic": "--topic",
    "partition": "--partition",
    "key": "--key",
    "time": "--since/--until",
    "where": "--where",
    "where_not_json": "--where (value not JSON)",
}


def _iso(epoch_ms: int) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).isoformat(timespec="milliseconds")


def _window(selection: Selection) -> str:
    since, until = selection.time.since, selection.time.until
    return f"[{'-' if since is None else since.isoformat()}, {'-' if until is None else until.isoformat()})"


def nothing_selected(
    plan: ReplayPlan, read: ReadSummary, selection: Selection, source: str
) -> tuple[str, ...]:
    """One note saying why nothing was selected, or () when something was."""
    if plan.selected:
        return ()
    if read.objects_read == 0:
        skipped = (
            f"; the time range skipped {len(read.pruned_prefixes)} key prefixes (keys are laid out by "
            "arrival hour, records are selected by their Kafka timestamp)"
            if read.pruned_prefixes
            else ""
        )
        return (f"nothing selected: no archive objects to read under {source}{skipped}",)
    if plan.decoded == 0:
        return (f"nothing selected: the {read.objects_read} objects read held no decodable records",)
    if plan.conflicts and not plan.filtered_out:
        return (f"nothing selected: every selected record has conflicting copies ({len(plan.conflicts)})",)
    rejected = ", ".join(f"{n:,} by {_FILTER_WORDS.get(name, name)}" for name, n in plan.filtered_out.items())
    note = f"nothing selected: all {plan.unique:,} unique records were filtered out ({rejected})"
    if "time" in plan.filtered_out and plan.timestamps is not None:
        first, last = plan.timestamps
        note += (
            f"; the archived records' timestamps run from {_iso(first)} to {_iso(last)}, the window "
            f"--since/--until is {_window(selection)}"
        )
    return (note,)
