"""The HTML report and its plots: self-contained, escaped, five PNG plots, renders without a display."""

from __future__ import annotations

import base64
import os
import re
import struct
import subprocess
import sys
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from harness.report.html import render_html
from harness.report.plots import (
    cdf_points,
    objects_per_hour_plot,
    rates,
    render_plots,
    wall_to_clock_seconds,
)
from harness.run.result import TimePoint
from harness.verify.result import ArchiveObjectInfo
from tests.unit.test_report_data import TRICKY_CHECK, empty_result, make_result

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
IMAGE = re.compile(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)" alt="([^"]*)">')


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_SIGNATURE
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_html_is_self_contained_with_five_embedded_plots() -> None:
    page = render_html(make_result(passed=False))
    images = IMAGE.findall(page)
    assert len(images) == 5
    sizes = [_png_size(base64.b64decode(data)) for data, _alt in images]
    assert sizes == [(900, 544)] + [(900, 340)] * 4
    assert "<script" not in page.lower()
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)  # no external assets
    assert page.startswith("<!DOCTYPE html>")
    assert page.rstrip().endswith("</html>")


def test_html_escapes_every_text_from_the_run() -> None:
    result = replace(make_result(passed=False), scenario_name="smoke <b>&</b>")
    page = render_html(result, plots=[])  # the text, without drawing
    assert "keys &lt;&amp;&gt; &quot;quoted&quot; ünïcødé" in page
    assert TRICKY_CHECK not in page
    assert "smoke &lt;b&gt;&amp;&lt;/b&gt;" in page
    assert "<b>&</b>" not in page
    assert "orders-0@88 (key=clé-&lt;&amp;&gt;" in page  # lost record named, escaped
    assert "weird/&lt;key&gt;&amp;.gz" in page  # key off the pattern
    assert '<span class="verdict FAILED">FAILED</span>' in page


def test_html_lists_checks_faults_and_summary() -> None:
    page = render_html(make_result(passed=False), plots=[])
    assert page.count('<tr class="fail">') == 2 + 1  # two failed checks, one failed fault injection
    assert "broker 0 kill (line 31)" in page
    assert "<td>F2</td>" in page
    assert "Runtime.ExitError x2" in page
    assert "Lost records (3)" in page


def test_html_of_a_run_that_failed_before_producing() -> None:
    page = render_html(empty_result("Kafka <broker> did not start & gave up"))
    assert '<span class="verdict ERROR">ERROR</span>' in page
    assert "Kafka &lt;broker&gt; did not start &amp; gave up" in page
    alts = [alt for _data, alt in IMAGE.findall(page)]
    assert len(alts) == 5
    assert "no latencies measured" in alts
    assert "No expectations were checked." in page


def test_plots_mark_faults_and_describe_themselves() -> None:
    plots = {plot.slug: plot for plot in render_plots(make_result(passed=False))}
    assert list(plots) == ["throughput", "lag", "latency", "object-sizes", "objects-per-hour"]
    assert plots["throughput"].alt == "faults at F1 t=120s, F2 t=150s"
    assert plots["objects-per-hour"].alt == "2026/07/13/13: 4, 2026/07/13/14: 6"
    assert plots["object-sizes"].alt == "10 objects plotted"
    assert plots["latency"].alt.startswith("latency p50 ")


def test_s3_wall_times_map_to_timeline_seconds() -> None:
    result = make_result()  # clock starts in July at 10x after 2 s of startup; S3 stamps the November wall
    stamps = [obj.last_modified for obj in result.verification.objects if obj.last_modified is not None]
    times = [wall_to_clock_seconds(result, stamp) for stamp in stamps]
    assert times == [60.0 * (i + 1) for i in range(10)]
    real_time = replace(result, speed=1.0, wall_seconds=12.5, clock_seconds=8.0)  # 4.5 s of startup
    assert wall_to_clock_seconds(real_time, result.started_at + timedelta(seconds=10.5)) == 6.0


def test_rates_are_per_second_between_samples_and_skip_repeated_times() -> None:
    timeline = (
        TimePoint(0.0, 0, 0, 0, 0, 0),
        TimePoint(2.0, 100, 50, 0, 50, 0),
        TimePoint(2.0, 100, 50, 0, 50, 0),
        TimePoint(4.0, 300, 250, 250, 50, 1),
    )
    times, series = rates(timeline)
    assert times == [2.0, 4.0]
    assert series == {"produced": [50.0, 100.0], "invoked": [25.0, 100.0], "archived": [0.0, 125.0]}
    assert rates(()) == ([], {"produced": [], "invoked": [], "archived": []})


def test_reports_render_without_a_display(tmp_path: Path) -> None:
    """No pyplot, no GUI backend: rendering works with no DISPLAY even when a GUI backend is asked for."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["MPLBACKEND"] = "TkAgg"
    script = (
        "import sys; from pathlib import Path\n"
        "from harness.report import write_reports\n"
        "from tests.unit.test_report_data import make_result\n"
        f"paths = write_reports(make_result(passed=False), Path({str(tmp_path)!r}))\n"
        "assert 'matplotlib.pyplot' not in sys.modules\n"
        "print(len(paths))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120, check=False,
        cwd=Path(__file__).resolve().parents[2],
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "2"
    assert (tmp_path / "report.html").read_text(encoding="utf-8").count("data:image/png;base64,") == 5


@pytest.mark.parametrize("speed", [1.0, 60.0])
def test_meta_line_names_the_clock_speed(speed: float) -> None:
    page = render_html(replace(make_result(), speed=speed), plots=[])
    assert ("at 60x" in page) is (speed == 60.0)


def test_cdf_points_thin_long_series_and_keep_the_maximum() -> None:
    values = tuple(float(v) for v in range(10_001, 0, -1))
    xs, ys = cdf_points(values, limit=100)
    assert len(xs) <= 101
    assert (xs[-1], ys[-1]) == (10_001.0, 1.0)
    assert xs == sorted(xs)
    assert ys[0] == xs[0] / 10_001  # share of values <= x, for values 1..10001
    assert cdf_points((3.0, 1.0, 2.0)) == ([1.0, 2.0, 3.0], [1 / 3, 2 / 3, 1.0])


def test_objects_per_hour_of_a_two_day_run_names_the_first_day_and_counts_the_rest() -> None:
    hours = [f"2026/07/{13 + h // 24:02d}/{h % 24:02d}" for h in range(49)]
    objects = tuple(ArchiveObjectInfo(f"k{i}", 100, 1, "GZIP", None, hour) for i, hour in enumerate(hours))
    result = make_result()
    plot = objects_per_hour_plot(replace(result, verification=replace(result.verification, objects=objects)))
    assert plot.alt.startswith("2026/07/13/00: 1, ")
    assert plot.alt.endswith("2026/07/13/23: 1 and 25 more hours")
