"""Load sizing: sweep a scenario over a grid of knobs and compare freshness, usage and monthly cost.

Modules: `prices` (the sourced price file), `cost` (the pure cost model), `grid` (--grid axes and validated
variants), `recommend` (freshness targets), `sweep` (running the variants), `report` / `report_html`
(sweep.json, terminal table, sweep.html). What a run consumed is `harness.run.usage`; the
`msk-harness sweep` subcommand is `harness.cli.sweep`. docs/sizing.md describes the formulas.
"""
