"""The HTML report's plots as PNG bytes: throughput, lag, latency, object sizes, objects per hour.

Figures are drawn with matplotlib's object API on the Agg canvas (no pyplot state, no display needed).
Time plots share one x axis: clock seconds since the run started, with the fault events drawn as numbered
vertical lines (F1, F2, … in the order of `RunResult.faults`; red when the injection failed). A plot with
nothing to show still renders, saying so, so a report always has the same five images.

Example::

    for plot in render_plots(result):
        Path(f"{plot.slug}.png").write_bytes(plot.png)
"""

from __future__ import annotations

import io
import itertools
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from harness.report.format import latency_marks
from harness.run.result import FaultEvent, RunResult, TimePoint

_SIZE = (9.0, 3.4)  # inches; at 100 dpi a 900 px wide image fits the HTML column
_DPI = 100
MAX_LABELLED_HOURS = 24
CDF_POINTS = 2000  # a CDF of a million latencies drawn from 2000 ranks looks the same and renders fast
_FAULT_OK = "#e08a00"
_FAULT_FAILED = "#d62728"
_SERIES = (("produced", "#1f77b4"), ("invoked", "#9467bd"), ("archived", "#2ca02c"))
_TOTALS = {"produced": "produced", "invoked": "invoked_records", "archived": "archived_records"}
# Produced is drawn wide and pale so the invoked line stays visible where the two coincide.
_STYLES: tuple[dict[str, Any], ...] = (
    {"linewidth": 3.0, "alpha": 0.45},
    {"linewidth": 1.3, "linestyle": "--"},
    {"linewidth": 1.4},
)


@dataclass(frozen=True)
class Plot:
    """One rendered plot: a file-safe slug, a title, alt text and the PNG bytes."""

    slug: str
    title: str
    alt: str
    png: bytes


def render_plots(result: RunResult) -> list[Plot]:
    """All five plots of the report, in display order."""
    return [
        throughput_plot(result),
        lag_plot(result),
        latency_plot(result),
        object_sizes_plot(result),
        objects_per_hour_plot(result),
    ]


def fault_label(index: int) -> str:
    """The marker label of the fault at `index` in `RunResult.faults` (F1 is the first)."""
    return f"F{index + 1}"


def rates(timeline: tuple[TimePoint, ...]) -> tuple[list[float], dict[str, list[float]]]:
    """Per-second rates between consecutive samples: (interval end times, {series: rates})."""
    times: list[float] = []
    series: dict[str, list[float]] = {name: [] for name, _ in _SERIES}
    for before, after in itertools.pairwise(timeline):
        span = after.t_seconds - before.t_seconds
        if span <= 0:
            continue  # a repeated sample carries no rate
        times.append(after.t_seconds)
        series["produced"].append((after.produced - before.produced) / span)
        series["invoked"].append((after.invoked_records - before.invoked_records) / span)
        series["archived"].append((after.archived_records - before.archived_records) / span)
    return times, series


def throughput_plot(result: RunResult) -> Plot:
    """Records per clock second produced, handed to the function and archived (top), and running totals."""
    figure = Figure(figsize=(_SIZE[0], _SIZE[1] * 1.6), dpi=_DPI, layout="constrained")
    FigureCanvasAgg(figure)
    per_second, totals = figure.subplots(2, 1, sharex=True, height_ratios=(3, 2))
    times, series = rates(result.timeline)
    if times:
        for (name, colour), style in zip(_SERIES, _STYLES, strict=True):
            per_second.step(times, series[name], where="post", label=name, color=colour, **style)
            totals.plot(
                [point.t_seconds for point in result.timeline],
                [getattr(point, _TOTALS[name]) for point in result.timeline],
                color=colour,
                **style,
            )
        _plot_load_rate(per_second, result)
        per_second.legend(loc="upper right", fontsize="small")
        totals.set_ylim(bottom=0)
    else:
        show_no_data(per_second, "fewer than two timeline samples")
        show_no_data(totals, "")
    _time_axes(per_second, result, "records / s", xlabel="")
    _time_axes(totals, result, "records (total)", labels=False)
    title = "Throughput (records per clock second) and running totals"
    return to_plot("throughput", title, figure, _fault_alt(result))


def _plot_load_rate(axes: Axes, result: RunResult) -> None:
    """The load generator's per-second sends beside what its profile asked (the `rate_held` inputs)."""
    if not result.load_rate:
        return
    starts = [float(s.t_seconds) for s in result.load_rate]
    axes.step(
        starts,
        [s.asked for s in result.load_rate],
        where="post",
        label="asked",
        color="black",
        linestyle=":",
        linewidth=1.2,
    )
    axes.step(
        starts, [s.sent for s in result.load_rate], where="post", label="sent", color="#ff7f0e", linewidth=1.0
    )


def lag_plot(result: RunResult) -> Plot:
    """Consumer lag (end offsets minus committed offsets) over time."""
    figure, axes = new_figure()
    if result.timeline:
        times = [point.t_seconds for point in result.timeline]
        lags = [point.lag for point in result.timeline]
        axes.plot(times, lags, color="#8c564b", linewidth=1.4, label="lag")
        axes.fill_between(times, lags, color="#8c564b", alpha=0.15)
        axes.set_ylim(bottom=0, top=max(max(lags) * 1.1, 1))
    else:
        show_no_data(axes, "no timeline samples")
    _time_axes(axes, result, "records behind")
    return to_plot("lag", "Consumer lag", figure, _fault_alt(result))


def latency_plot(result: RunResult) -> Plot:
    """End-to-end latency: p50/p90/p99/max bars beside the cumulative distribution."""
    figure = Figure(figsize=_SIZE, dpi=_DPI, layout="constrained")
    FigureCanvasAgg(figure)
    bars, cdf = figure.subplots(1, 2, width_ratios=(1, 2))
    report = result.verification
    marks = latency_marks(report)
    if marks:
        labels = [label for label, _ in marks]
        seconds = [ms / 1000 for _, ms in marks]
        drawn = bars.bar(labels, seconds, color=["#1f77b4", "#ff7f0e", "#d62728", "#7f7f7f"][: len(marks)])
        bars.bar_label(drawn, fmt="%.2f", fontsize="small")
        bars.set_ylabel("seconds")
        bars.margins(y=0.15)
        xs, ys = cdf_points(report.latencies_ms)
        cdf.step([ms / 1000 for ms in xs], ys, where="post", color="#1f77b4", linewidth=1.4)
        cdf.set_xlabel("seconds from produce to delivered object")
        cdf.set_ylabel("share of records")
        cdf.set_ylim(0, 1.02)
        cdf.grid(alpha=0.3)
        alt = "latency " + ", ".join(f"{label} {s:.2f} s" for label, s in zip(labels, seconds, strict=True))
    else:
        show_no_data(bars, "no latencies")
        show_no_data(cdf, "no records were archived")
        alt = "no latencies measured"
    return to_plot("latency", f"End-to-end latency ({len(report.latencies_ms):,} records)", figure, alt)


def cdf_points(values: tuple[float, ...], limit: int = CDF_POINTS) -> tuple[list[float], list[float]]:
    """(value, share of values <= it) at up to `limit` + 1 evenly spaced ranks, the maximum included."""
    ordered = sorted(values)
    count = len(ordered)
    step = max(1, count // limit)
    ranks = list(range(step - 1, count, step))
    if ranks and ranks[-1] != count - 1:
        ranks.append(count - 1)
    return [ordered[r] for r in ranks], [(r + 1) / count for r in ranks]


def object_sizes_plot(result: RunResult) -> Plot:
    """Each archived object's size against the clock second its S3 Last-Modified time maps to."""
    figure, axes = new_figure()
    objects = result.verification.objects
    placed = [
        (wall_to_clock_seconds(result, obj.last_modified), obj.size_bytes / 1024)
        for obj in objects
        if obj.last_modified is not None
    ]
    if placed:
        axes.scatter([t for t, _ in placed], [kib for _, kib in placed], s=14, color="#17becf", alpha=0.8)
        axes.set_ylim(bottom=0)
    else:
        show_no_data(axes, "no objects with a Last-Modified time" if objects else "no objects archived")
    _time_axes(axes, result, "object size (KiB)", xlabel="S3 Last-Modified, as clock seconds since the start")
    unplaced = len(objects) - len(placed)
    alt = f"{len(placed)} objects plotted" + (f", {unplaced} without Last-Modified" if unplaced else "")
    return to_plot("object-sizes", "Archived object sizes over time", figure, alt)


def wall_to_clock_seconds(result: RunResult, wall: datetime) -> float:
    """Timeline seconds (clock seconds since t=0) for a wall-clock instant such as an S3 Last-Modified time.

    S3 stamps objects with its own wall clock, while the scenario clock may start at another instant and run
    `speed` times faster; and the timeline's t=0 comes after the backends started. `wall_seconds` spans the
    whole run from `started_at` and `clock_seconds` only the timeline, so the startup took
    `wall_seconds - clock_seconds / speed` wall seconds; wall seconds after that, times the speed, are
    timeline seconds.
    """
    startup = max(0.0, result.wall_seconds - result.clock_seconds / result.speed)
    return ((wall - result.started_at).total_seconds() - startup) * result.speed


def objects_per_hour_plot(result: RunResult) -> Plot:
    """Objects per hour prefix of the key (the hive/default `YYYY/MM/DD/HH` layout)."""
    figure, axes = new_figure()
    per_hour = result.verification.objects_per_hour
    if per_hour:
        hours = list(per_hour)
        drawn = axes.bar(range(len(hours)), list(per_hour.values()), color="#2ca02c")
        if len(hours) <= MAX_LABELLED_HOURS:
            axes.bar_label(drawn, fontsize="small")
        every = math.ceil(len(hours) / MAX_LABELLED_HOURS)  # a two-day run labels every other hour
        axes.set_xticks(range(0, len(hours), every), hours[::every])
        for label in axes.get_xticklabels() if len(hours) > 6 else ():
            label.set_rotation(30)
            label.set_horizontalalignment("right")
        axes.set_ylabel("objects")
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.margins(y=0.15)
        alt = ", ".join(f"{hour}: {count}" for hour, count in list(per_hour.items())[:MAX_LABELLED_HOURS])
        alt += f" and {len(hours) - MAX_LABELLED_HOURS} more hours" if len(hours) > MAX_LABELLED_HOURS else ""
    else:
        show_no_data(axes, "no objects archived")
        alt = "no objects archived"
    return to_plot("objects-per-hour", "Objects per hour prefix", figure, alt)


def new_figure() -> tuple[Figure, Axes]:
    """A fresh report-sized figure and its axes (Agg canvas, no global pyplot state)."""
    figure = Figure(figsize=_SIZE, dpi=_DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure, figure.add_subplot()


_CLOCK_AXIS = "clock seconds since the start"


def _time_axes(
    axes: Axes, result: RunResult, ylabel: str, xlabel: str = _CLOCK_AXIS, *, labels: bool = True
) -> None:
    _mark_faults(axes, result.faults, labels=labels)
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.set_xlim(left=0, right=max(result.clock_seconds, axes.get_xlim()[1]))
    axes.grid(alpha=0.3)


def _mark_faults(axes: Axes, faults: tuple[FaultEvent, ...], *, labels: bool) -> None:
    transform = axes.get_xaxis_transform()  # x in data units, y as a fraction of the axes height
    for index, fault in enumerate(faults):
        colour = _FAULT_OK if fault.ok else _FAULT_FAILED
        axes.axvline(fault.t_seconds, color=colour, linestyle=":", linewidth=1.2)
        if labels:
            axes.text(
                fault.t_seconds,
                1.0,
                fault_label(index),
                transform=transform,
                color=colour,
                fontsize="small",
                ha="center",
                va="bottom",
            )


def show_no_data(axes: Axes, reason: str) -> None:
    """Mark `axes` as empty, saying why, instead of drawing an empty chart."""
    axes.text(0.5, 0.5, reason, transform=axes.transAxes, ha="center", va="center", color="#7f7f7f")
    axes.set_yticks([])


def _fault_alt(result: RunResult) -> str:
    if not result.faults:
        return "no faults"
    return "faults at " + ", ".join(
        f"{fault_label(i)} t={fault.t_seconds:g}s" for i, fault in enumerate(result.faults)
    )


def to_plot(slug: str, title: str, figure: Figure, alt: str) -> Plot:
    """Render `figure` to PNG as a report Plot."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=_DPI, metadata={"Software": None})
    return Plot(slug=slug, title=title, alt=alt, png=buffer.getvalue())
