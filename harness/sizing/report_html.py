"""The sweep's HTML report: one self-contained file with the variant table, the recommendation and three plots
(cost vs freshness per variant, objects per hour per variant, object size distribution per variant).

Plots are drawn with the run report's matplotlib helpers (harness/report/plots.py) and embedded as base64 PNG.

Example::

    Path("sweep.html").write_text(render_sweep_html(result), encoding="utf-8")
"""

from __future__ import annotations

from collections.abc import Sequence

from harness.report.format import human_bytes
from harness.report.html import PAGE_CSS, escape, figure_html, html_table
from harness.report.plots import Plot, new_figure, show_no_data, to_plot
from harness.sizing.summary import variant_summary
from harness.sizing.sweep import FRESHNESS_MARKS, SweepResult, VariantOutcome

_OK = "#2ca02c"
_FAILED = "#d62728"


def _label(outcome: VariantOutcome) -> str:
    return f"#{outcome.index + 1}"


def cost_vs_freshness_plot(result: SweepResult) -> Plot:
    """Monthly cost against the freshness percentile (the target's, else p99), one point per variant."""
    figure, axes = new_figure()
    name = result.target.percentile if result.target else "p99"
    points = []
    for o in result.outcomes:
        latency = o.target_latency_s if result.target else o.freshness_s.get("p99")
        if latency is not None and o.cost is not None:
            points.append((o, latency, o.cost.total_usd))
    if points:
        for outcome, latency, usd in points:
            colour = _OK if outcome.passed and outcome.reason is None else _FAILED
            axes.scatter([latency], [usd], color=colour, s=30)
            axes.annotate(
                _label(outcome), (latency, usd), textcoords="offset points", xytext=(4, 4), fontsize="small"
            )
        if result.target is not None:
            axes.axvline(result.target.seconds, color="#7f7f7f", linestyle="--", linewidth=1.0)
        axes.set_xlabel(f"freshness {name} (clock seconds)")
        axes.set_ylabel("USD per month (priced lines)")
        axes.grid(alpha=0.3)
        alt = "; ".join(f"{_label(o)} {o.name}: {lat:.1f} s, ${usd:,.2f}" for o, lat, usd in points)
    else:
        show_no_data(axes, "no variant with both a latency and a cost")
        alt = "no data"
    return to_plot("cost-vs-freshness", f"Monthly cost vs freshness ({name})", figure, alt)


def objects_per_hour_plot(result: SweepResult) -> Plot:
    """S3 objects per clock hour, one bar per variant."""
    figure, axes = new_figure()
    bars = [(o, o.objects_per_hour) for o in result.outcomes if o.objects_per_hour is not None]
    if bars:
        labels = [_label(o) for o, _ in bars]
        axes.bar(labels, [v for _, v in bars], color=[_OK if o.reason is None else _FAILED for o, _ in bars])
        axes.set_ylabel("objects per clock hour")
        axes.grid(alpha=0.3, axis="y")
        alt = "; ".join(f"{_label(o)} {o.name}: {v:.1f}/h" for o, v in bars)
    else:
        show_no_data(axes, "no objects measured")
        alt = "no data"
    return to_plot("objects-per-hour", "S3 objects per hour", figure, alt)


def object_sizes_plot(result: SweepResult) -> Plot:
    """The distribution of data object sizes (KiB), one box per variant."""
    figure, axes = new_figure()
    sized = [o for o in result.outcomes if o.object_sizes]
    if sized:
        axes.boxplot([[size / 1024 for size in o.object_sizes] for o in sized], showfliers=True)
        axes.set_xticks(range(1, len(sized) + 1), [_label(o) for o in sized])
        axes.set_ylabel("object size (KiB)")
        axes.set_ylim(bottom=0)
        axes.grid(alpha=0.3, axis="y")
        alt = "; ".join(
            f"{_label(o)} {o.name}: {len(o.object_sizes)} objects, "
            f"{min(o.object_sizes)}-{max(o.object_sizes)} bytes"
            for o in sized
        )
    else:
        show_no_data(axes, "no objects archived")
        alt = "no data"
    return to_plot("object-sizes", "Object size distribution", figure, alt)


def render_sweep_plots(result: SweepResult) -> list[Plot]:
    """The three plots, in display order."""
    return [cost_vs_freshness_plot(result), objects_per_hour_plot(result), object_sizes_plot(result)]


def render_sweep_html(result: SweepResult, plots: Sequence[Plot] | None = None) -> str:
    """The whole sweep report as one HTML document."""
    drawn = render_sweep_plots(result) if plots is None else plots
    title = f"msk-harness sweep: {result.scenario_name}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(title)}</title><style>{PAGE_CSS}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        f'<p class="meta">scenario file <span class="mono">{escape(result.scenario_path)}</span> · '
        f"started {escape(result.started_at.isoformat(timespec='seconds'))} · "
        f"region {escape(result.region)} · "
        f"{escape(result.architecture)} · costs at {result.rate:g} records/s over 730 h</p>",
    ]
    if result.interrupted:
        parts.append(
            f'<div class="error">Interrupted after {len(result.outcomes)} of {result.total_variants} '
            "variants.</div>"
        )
    if result.recommendation is not None:
        rec = result.recommendation
        verdict = f"Recommended: {rec.chosen}" if rec.chosen else "No variant meets the target"
        parts.append(
            f"<h2>Recommendation</h2><p><strong>{escape(verdict)}</strong> — {escape(rec.reason)}</p>"
        )
    parts.append("<h2>Variants</h2>")
    parts.append(_variants_table(result))
    failed = [o for o in result.outcomes if o.reason is not None]
    if failed:
        parts.append("<h2>Not eligible</h2><ul>")
        parts.extend(f"<li>{escape(_label(o))} {escape(o.name)}: {escape(o.reason)}</li>" for o in failed)
        parts.append("</ul>")
    parts.append("<h2>Plots</h2>")
    parts.extend(figure_html(plot) for plot in drawn)
    parts.append("<h2>Cost model</h2><ul>")
    parts.extend(f"<li>{escape(note)}</li>" for note in result.notes)
    parts.append("</ul></body></html>\n")
    return "\n".join(parts)


def _variants_table(result: SweepResult) -> str:
    headers = [
        "#",
        "variant",
        "status",
        *(f"{name} s" for name, _ in FRESHNESS_MARKS),
        "invocations",
        "GB-s",
        "Firehose billed GB",
        "objects/h",
        "avg object",
        "Lambda $/mo",
        "Firehose $/mo",
        "S3 $/mo",
        "total $/mo",
    ]
    rows = []
    classes = []
    for o in result.outcomes:
        s = variant_summary(o)
        money = s["monthly_usd"] or {}
        rows.append(
            [
                _label(o),
                o.name,
                "ok" if s["eligible"] else "FAILED",
                *(_fmt(o.freshness_s.get(name)) for name, _ in FRESHNESS_MARKS),
                _fmt(s["lambda_invocations"], "{:,}"),
                _fmt(s["lambda_gb_seconds"], "{:,.2f}"),
                _fmt(s["firehose_billed_gb"], "{:.4f}"),
                _fmt(s["objects_per_hour"]),
                human_bytes(s["average_object_bytes"]) if s["average_object_bytes"] is not None else "-",
                *(_fmt(money.get(k), "{:,.2f}") for k in ("lambda", "firehose", "s3", "total")),
            ]
        )
        classes.append("" if s["eligible"] else "fail")
    return html_table(headers, rows, classes)


def _fmt(value: float | None, fmt: str = "{:,.1f}") -> str:
    return "-" if value is None else fmt.format(value)
