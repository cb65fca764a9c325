"""Load sizing: sweep a scenario over a grid of knobs and compare freshness, usage and monthly cost.

Modules: `prices` (the sourced price file), `usage` (what a run consumed, read before the pipeline stops),
`cost` (the pure cost model), `grid` (--grid axes and validated variants), `recommend` (freshness targets),
`sweep` (running the variants), `report` / `report_html` (sweep.json, terminal table, sweep.html),
`command` (the `msk-harness sweep` subcommand). docs/sizing.md describes the formulas.
"""
