"""The HTML report: one self-contained file (inline CSS, plots as base64 PNG, no scripts, no external assets).

Sections: verdict header, run error, summary figures, checks, lost/corrupted records, faults, plots, objects,
unreadable objects and keys off pattern. Every piece of text from the run is escaped with `html.escape`.

Example::

    Path("report.html").write_text(render_html(result), encoding="utf-8")
"""

from __future__ import annotations

import base64
import html
from collections.abc import Iterable, Sequence
from pathlib import Path

from harness.report.format import (
    MAX_NAMED_RECORDS,
    human_bytes,
    human_seconds,
    named_records,
    status_word,
    summary_rows,
)
from harness.report.plots import Plot, fault_label, render_plots
from harness.report.reasons import link_target, reason_title
from harness.run.result import RunResult

HTML_NAME = "report.html"
MAX_LISTED_OBJECTS = 200  # rows of the objects table; the JSON lists all of them
MAX_LISTED_LINES = 50  # unreadable objects / bad keys listed

PAGE_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 72rem;
       padding: 0 1rem; color: #222; }
h1 { font-size: 1.5rem; margin-bottom: 0.2rem; }
h2 { font-size: 1.15rem; margin-top: 2rem; border-bottom: 1px solid #ddd; padding-bottom: 0.2rem; }
.verdict { display: inline-block; padding: 0.1rem 0.6rem; border-radius: 0.3rem; color: #fff;
           font-weight: 600; }
.PASSED { background: #2e7d32; } .FAILED, .ERROR { background: #c62828; }
.meta { color: #555; margin: 0.3rem 0 1rem; }
table { border-collapse: collapse; margin: 0.5rem 0; }
th, td { border: 1px solid #ddd; padding: 0.25rem 0.6rem; text-align: left; vertical-align: top; }
th { background: #f5f5f5; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.fail td { background: #fdecea; }
.pass { color: #2e7d32; font-weight: 600; } .fail { color: #c62828; font-weight: 600; }
pre, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, monospace; font-size: 0.85rem; }
pre { background: #f7f7f7; padding: 0.6rem; overflow-x: auto; white-space: pre-wrap; }
figure { margin: 1rem 0; } figcaption { font-weight: 600; margin-bottom: 0.3rem; }
img { max-width: 100%; height: auto; border: 1px solid #eee; }
.error { border-left: 4px solid #c62828; background: #fdecea; padding: 0.5rem 0.8rem; }
"""


def render_html(
    result: RunResult, plots: Sequence[Plot] | None = None, report_dir: Path | None = None
) -> str:
    """The whole report as one HTML document; `plots` defaults to `render_plots(result)`.

    `report_dir` is where the page is written: function log links are made relative to it.
    """
    drawn = render_plots(result) if plots is None else plots
    status = status_word(result)
    title = f"msk-harness: {result.scenario_name} {status}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title><style>{PAGE_CSS}</style></head><body>",
        f'<h1>{escape(result.scenario_name)} <span class="verdict {status}">{status}</span></h1>',
        f'<p class="meta">{_meta(result)}</p>',
    ]
    if result.stopped_early is not None:
        parts.append(f'<div class="error"><strong>{escape(result.stopped_early)}</strong></div>')
    if result.error is not None:
        parts.append(f'<div class="error"><strong>Run error:</strong><pre>{escape(result.error)}</pre></div>')
    parts.extend(function_errors_html(result, report_dir))
    parts.append("<h2>Summary</h2>")
    parts.append(html_table(("figure", "value"), ([label, value] for label, value in summary_rows(result))))
    parts.extend(_checks(result))
    parts.extend(_findings(result))
    parts.extend(_faults(result))
    parts.append("<h2>Plots</h2>")
    parts.extend(figure_html(plot) for plot in drawn)
    parts.extend(_objects(result))
    parts.append("</body></html>\n")
    return "\n".join(parts)


def escape(text: object) -> str:
    """`text` escaped for HTML text and attribute values."""
    return html.escape(str(text), quote=True)


def _meta(result: RunResult) -> str:
    speed = f" at {result.speed:g}x" if result.speed != 1 else ""
    items = [
        f'scenario file <span class="mono">{escape(result.scenario_path)}</span>',
        f"started {escape(result.started_at.isoformat(timespec='seconds'))}",
        f"clock from {escape(result.clock_start.isoformat(timespec='seconds'))}{escape(speed)}",
        f"wall {escape(human_seconds(result.wall_seconds))}, "
        f"clock {escape(human_seconds(result.clock_seconds))}",
    ]
    return " · ".join(items)


def html_table(headers: Sequence[str], rows: Iterable[Sequence[str]], row_classes: Sequence[str] = ()) -> str:
    """An HTML table of escaped cells; `row_classes` gives each row a CSS class."""
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = []
    for index, row in enumerate(rows):
        css = f' class="{row_classes[index]}"' if index < len(row_classes) and row_classes[index] else ""
        body.append(f"<tr{css}>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _checks(result: RunResult) -> list[str]:
    checks = result.verification.checks
    parts = ["<h2>Checks</h2>"]
    if not checks:
        return [*parts, "<p>No expectations were checked.</p>"]
    rows = []
    for check in checks:
        verdict = '<span class="pass">pass</span>' if check.passed else '<span class="fail">FAIL</span>'
        details = "<br>".join(escape(line) for line in check.details[:MAX_NAMED_RECORDS])
        if len(check.details) > MAX_NAMED_RECORDS:
            details += f"<br>… and {len(check.details) - MAX_NAMED_RECORDS} more"
        cells = (
            escape(check.name),
            escape(check.expected),
            escape(check.actual),
            verdict,
            details,
        )
        css = "" if check.passed else ' class="fail"'
        rows.append(f"<tr{css}>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>")
    head = "".join(f"<th>{h}</th>" for h in ("check", "expected", "actual", "result", "details"))
    return [*parts, f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"]


def function_errors_html(result: RunResult, report_dir: Path | None) -> list[str]:
    """The function's distinct errors (with their log lines) and links to every environment's log."""
    parts: list[str] = []
    reasons = result.function_error_reasons
    if reasons:
        parts.append(f"<h2>Function errors ({len(reasons)} distinct)</h2>")
        for reason in reasons:
            parts.append(f'<p class="mono fail">{escape(reason_title(reason))}</p>')
            if reason.log_tail:
                parts.append(f"<pre>{escape(chr(10).join(reason.log_tail))}</pre>")
            where = f"first: request {escape(reason.first_request_id)}, environment {reason.environment_id}"
            if reason.log_file:
                target = escape(link_target(reason.log_file, report_dir))
                where += f', log <a href="{target}">{escape(Path(reason.log_file).name)}</a>'
            parts.append(f"<p>{where}</p>")
    if result.function_logs:
        parts.append(f"<h2>Function logs ({len(result.function_logs)} environments)</h2><ul>")
        for path in result.function_logs:
            target = escape(link_target(path, report_dir))
            parts.append(f'<li><a class="mono" href="{target}">{escape(Path(path).name)}</a></li>')
        parts.append("</ul>")
    return parts


def _findings(result: RunResult) -> list[str]:
    report = result.verification
    parts: list[str] = []
    for title, refs in (
        ("Lost records", report.lost),
        ("Corrupted records", report.corrupted),
        ("Unexpected records", report.unexpected),
        ("Diverted to the on-failure destination", report.diverted),
    ):
        if refs:
            lines = "\n".join(named_records(refs))
            parts.append(f"<h2>{escape(title)} ({len(refs):,})</h2><pre>{escape(lines)}</pre>")
    if report.order_violations:
        parts.append(f"<h2>Order violations ({len(report.order_violations):,})</h2>")
        parts.append(f"<pre>{escape(_listing(report.order_violations))}</pre>")
    return parts


def _faults(result: RunResult) -> list[str]:
    if not result.faults:
        return []
    rows = [
        [fault_label(i), f"{fault.t_seconds:.1f}", fault.description, "ok" if fault.ok else "FAILED"]
        for i, fault in enumerate(result.faults)
    ]
    classes = ["" if fault.ok else "fail" for fault in result.faults]
    return [
        f"<h2>Faults ({len(result.faults)})</h2>",
        "<p>Marked on the time plots by their label.</p>",
        html_table(("label", "clock s", "fault", "injection"), rows, classes),
    ]


def figure_html(plot: Plot) -> str:
    """A plot as a <figure> with its PNG inlined (the report stays one file)."""
    data = base64.b64encode(plot.png).decode("ascii")
    return (
        f'<figure id="{escape(plot.slug)}"><figcaption>{escape(plot.title)}</figcaption>'
        f'<img src="data:image/png;base64,{data}" alt="{escape(plot.alt)}"></figure>'
    )


def _objects(result: RunResult) -> list[str]:
    report = result.verification
    parts: list[str] = []
    if report.objects:
        parts.append(f"<h2>Objects ({len(report.objects):,})</h2>")
        rows = [
            [
                obj.key,
                human_bytes(obj.size_bytes),
                f"{obj.record_count:,}",
                obj.compression,
                obj.last_modified.isoformat(timespec="seconds") if obj.last_modified else "-",
            ]
            for obj in report.objects[:MAX_LISTED_OBJECTS]
        ]
        parts.append(html_table(("key", "size", "records", "compression", "S3 Last-Modified (wall)"), rows))
        if len(report.objects) > MAX_LISTED_OBJECTS:
            parts.append(f"<p>… and {len(report.objects) - MAX_LISTED_OBJECTS:,} more (see report.json)</p>")
    if report.error_objects:
        parts.append(f"<h2>Error-output objects ({len(report.error_objects):,})</h2>")
        parts.append(f"<pre>{escape(_listing([obj.key for obj in report.error_objects]))}</pre>")
    if report.bad_keys:
        parts.append(f"<h2>Keys off the expected pattern ({len(report.bad_keys):,})</h2>")
        parts.append(f"<pre>{escape(_listing(report.bad_keys))}</pre>")
    if report.unreadable:
        parts.append(f"<h2>Unreadable ({len(report.unreadable):,})</h2>")
        parts.append(f"<pre>{escape(_listing(report.unreadable))}</pre>")
    if report.archive_formats:
        parts.append("<h2>Archive read as (per key prefix)</h2>")
        parts.append(f"<pre>{escape(_listing(report.archive_formats))}</pre>")
    return parts


def _listing(lines: Sequence[str]) -> str:
    shown = list(lines[:MAX_LISTED_LINES])
    if len(lines) > MAX_LISTED_LINES:
        shown.append(f"… and {len(lines) - MAX_LISTED_LINES:,} more")
    return "\n".join(shown)
