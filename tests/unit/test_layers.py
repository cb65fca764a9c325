"""The package layers of docs/architecture.md: imports only point down, and firehose_emulator stands alone.

Every `import` and `from ... import` in every module is read with `ast` (function-level and TYPE_CHECKING
imports too). A module may import its own layer and the layers below it; a module no layer names fails the
test, so a new package gets a place on purpose.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARCHIVER_ROOT = ROOT / "harness" / "reference_archiver"

# Lowest first. A module may import modules of its own layer or of any layer before it.
LAYERS: tuple[tuple[str, frozenset[str]], ...] = (
    (
        "foundation",
        frozenset(
            {
                "harness.clock",
                "harness.clock_stalls",
                "harness.closing",
                "harness.exits",
                "harness.lifecycle",
                "harness.processes",
                "harness.resources",
            }
        ),
    ),
    ("backends", frozenset({"harness.backends", "harness.intercept"})),
    ("engines", frozenset({"harness.esm", "harness.runtime"})),
    (
        "inputs and checks",
        frozenset({"harness.scenario", "harness.load", "harness.verify", "harness.replay", "harness.doctor"}),
    ),
    ("run", frozenset({"harness.run", "harness.faults", "harness.progress", "harness.report"})),
    ("tools", frozenset({"harness.sizing", "harness.pytest_plugin"})),
    ("cli", frozenset({"harness.cli", "harness.console", "harness.__main__"})),
)


def layer_of(module: str) -> int | None:
    """Index in LAYERS of the layer that holds `module` (a module or a package prefix), or None."""
    if module == "harness":
        return 0  # the empty root package
    for index, (_, members) in enumerate(LAYERS):
        if any(module == m or module.startswith(m + ".") for m in members):
            return index
    return None


def module_name(path: Path) -> str:
    """Dotted name of a source file under ROOT (`harness/run/__init__.py` -> `harness.run`)."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(source: str, module: str, *, package: bool = False) -> Iterator[tuple[int, list[str]]]:
    """(line, candidate module names) per import statement; relative imports resolved against `module`.

    `from a.b import c` may import the module a.b.c or the name c of a.b: both are candidates.
    """
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, [alias.name]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                anchor = anchor[: len(anchor) - node.level + (1 if package else 0)]
                base = ".".join([*anchor, base] if base else anchor)
            yield node.lineno, [base] + [f"{base}.{alias.name}" for alias in node.names]


def _stands_alone(module: str) -> bool:
    return module.split(".", maxsplit=1)[0] != "harness"


def violations(source: str, module: str, where: str, *, package: bool = False) -> list[str]:
    """What is wrong with the imports of one module (empty when its arrows all point down)."""
    problems: list[str] = []
    statements = list(imported_modules(source, module, package=package))
    if _stands_alone(module):  # firehose_emulator and the lambda code root
        for line, targets in statements:
            bad = [t for t in targets if t == "harness" or t.startswith("harness.")]
            if bad:
                problems.append(f"{where}:{line}: {module} imports {bad[0]}; it must not depend on harness")
        return problems
    own = layer_of(module)
    if own is None:
        return [f"{where}: {module} is in no layer; add it to LAYERS here and to docs/architecture.md"]
    for line, targets in statements:
        above = [(t, layer) for t in targets if (layer := layer_of(t)) is not None and layer > own]
        if above:
            target, layer = above[0]
            problems.append(
                f"{where}:{line}: {module} ({LAYERS[own][0]}) imports {target} ({LAYERS[layer][0]}), "
                "a higher layer"
            )
    return problems


def source_files() -> list[Path]:
    """Every module of harness/ (with the reference archiver's code root) and firehose_emulator/."""
    files = [*(ROOT / "harness").rglob("*.py"), *(ROOT / "firehose_emulator").rglob("*.py")]
    return sorted(files)


def test_every_import_points_down_and_the_emulator_stands_alone() -> None:
    problems: list[str] = []
    for path in source_files():
        name = module_name(path) if path.parent != ARCHIVER_ROOT else path.stem
        where = str(path.relative_to(ROOT))
        problems += violations(path.read_text(), name, where, package=path.name == "__init__.py")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    ("module", "source", "expected"),
    [
        (
            "harness.clock",
            "from harness.run.session import run_scenario",
            "imports harness.run.session (run)",
        ),
        ("harness.esm.mapping", "def f():\n    import harness.cli\n", "imports harness.cli (cli)"),
        ("harness.backends.stack", "from harness import esm", "imports harness.esm (engines)"),
        ("harness.run.result", "from ..sizing import sweep", "imports harness.sizing (tools)"),
        ("firehose_emulator.delivery", "from harness.clock import Clock", "must not depend on harness"),
        ("harness.newthing", "import json", "is in no layer"),
    ],
)
def test_a_violation_is_reported_with_its_place(module: str, source: str, expected: str) -> None:
    problems = violations(source, module, "x.py")
    assert len(problems) == 1
    assert expected in problems[0]


def test_imports_that_point_down_or_sideways_are_fine() -> None:
    source = "from harness.clock import Clock\nfrom harness.verify.result import CheckResult\nimport json\n"
    assert violations(source, "harness.replay.engine", "x.py") == []
    assert violations("from harness.run.result import RunResult", "harness.report.html", "x.py") == []
