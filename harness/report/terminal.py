"""The terminal summary a developer reads after `msk-harness run`: verdict, checks, findings, figures.

Example::

    print_summary(result, Console())
"""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape as escape_markup
from rich.table import Table

from harness.report.format import header_line, named_in, named_records, status_word, summary_rows
from harness.report.reasons import (
    MAX_TERMINAL_REASONS,
    TERMINAL_LINE_CHARS,
    TERMINAL_TAIL_LINES,
    log_directory,
    reason_title,
    reason_where,
)
from harness.run.result import RunResult
from harness.runtime.log_sink import clip

MAX_TERMINAL_RECORDS = 10  # records named per finding on the terminal; the HTML and JSON carry more
MAX_TERMINAL_DETAILS = 5  # details lines per failed check


def escape(text: str) -> str:
    """`text` safe to print: rich markup escaped, lone surrogates (undecodable bytes) as \\udcxx escapes."""
    return escape_markup(text.encode("utf-8", "backslashreplace").decode("utf-8"))


_STYLES = {"PASSED": "bold green", "FAILED": "bold red", "ERROR": "bold red"}


def print_summary(result: RunResult, console: Console) -> None:
    """Print the run's verdict, checks table, lost/corrupted records, faults and figures to `console`."""
    status = status_word(result)
    console.rule(f"[{_STYLES[status]}]{escape(header_line(result))}[/]")
    if result.stopped_early is not None:
        console.print(f"[bold red]{escape(result.stopped_early)}[/]")
    if result.error is not None:
        console.print(f"[bold red]run error:[/] {escape(result.error)}")
    _print_reasons(result, console)
    shown = _print_checks(result, console)
    report = result.verification
    for title, refs in (("lost", report.lost), ("corrupted", report.corrupted)):
        if refs and not named_in(refs, shown):  # a failed check's details may have named them already
            console.print(f"[bold]{title} records[/] ({len(refs):,}):")
            for line in named_records(refs, MAX_TERMINAL_RECORDS):
                console.print(f"  {escape(line)}")
    if report.unexpected:
        console.print(f"[bold]unexpected records[/] ({len(report.unexpected):,}), first:")
        for line in named_records(report.unexpected, 3):
            console.print(f"  {escape(line)}")
    if result.faults:
        _print_faults(result, console)
    figures = Table.grid(padding=(0, 2))
    figures.add_column(style="dim")
    figures.add_column()
    for label, value in summary_rows(result):
        figures.add_row(escape(label), escape(value))
    console.print(figures)
    console.print(f"report verdict: [{_STYLES[status]}]{status}[/]")


def _print_checks(result: RunResult, console: Console) -> set[str]:
    """Print the checks table and the failed checks' details; return the detail lines shown."""
    checks = result.verification.checks
    if not checks:
        console.print("[dim]no expectations were checked[/]")
        return set()
    table = Table(expand=False)
    table.add_column("check", overflow="fold")
    table.add_column("expected", overflow="fold")
    table.add_column("actual", overflow="fold")
    table.add_column("result", no_wrap=True)
    for check in checks:
        verdict = "[green]pass[/]" if check.passed else "[bold red]FAIL[/]"
        table.add_row(escape(check.name), escape(check.expected), escape(check.actual), verdict)
    console.print(table)
    shown: set[str] = set()
    for check in checks:
        if check.passed or not check.details:
            continue
        console.print(f"[bold]{escape(check.name)}[/]:")
        for detail in check.details[:MAX_TERMINAL_DETAILS]:
            console.print(f"  {escape(detail)}")
            shown.add(detail)
        if len(check.details) > MAX_TERMINAL_DETAILS:
            console.print(f"  … and {len(check.details) - MAX_TERMINAL_DETAILS} more")
    return shown


def _print_reasons(result: RunResult, console: Console) -> None:
    reasons = result.function_error_reasons
    if reasons:
        more = f", first {MAX_TERMINAL_REASONS} shown" if len(reasons) > MAX_TERMINAL_REASONS else ""
        console.print(f"[bold]function errors[/] ({len(reasons)} distinct{more}):")
        for reason in reasons[:MAX_TERMINAL_REASONS]:
            console.print(f"  [red]{escape(reason_title(reason))}[/]")
            for line in reason.log_tail[-TERMINAL_TAIL_LINES:]:
                console.print(f"    [dim]|[/] {escape(clip(line, TERMINAL_LINE_CHARS))}")
            console.print(f"    [dim]{escape(reason_where(reason))}[/]")
    directory = log_directory(result.function_logs)
    if directory is not None:
        count = len(result.function_logs)
        console.print(f"[dim]function logs:[/] {escape(directory)} ({count} environment{'s' * (count != 1)})")


def _print_faults(result: RunResult, console: Console) -> None:
    console.print(f"[bold]faults fired[/] ({len(result.faults)}):")
    for fault in result.faults:
        mark = "[green]ok[/]" if fault.ok else "[bold red]failed[/]"
        console.print(f"  t={fault.t_seconds:8.1f}s  {escape(fault.description)}  {mark}")
