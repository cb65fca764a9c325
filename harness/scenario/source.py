"""YAML reading that keeps node positions, so every later error can name `file:line`.

PyYAML's composer gives a node tree with start marks; we construct plain data from that same tree and keep the
tree to map a path (``["pipeline", "event_source", "BatchSize"]``) back to the line of its key or value.
Timestamps stay strings (the schema and the model parse them), and duplicate keys are reported instead of the
silent last-one-wins PyYAML default.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from harness.scenario.limits import BoundedComposerMixin, LimitExceeded, clip, size_problem

PathItem = str | int


@dataclass(frozen=True, order=True)
class Problem:
    """One error found in a scenario file, at a 1-based line."""

    line: int
    message: str


class _StringTimestampLoader(BoundedComposerMixin, yaml.SafeLoader):
    """Bounded SafeLoader without the implicit timestamp resolver: ISO instants stay strings."""


_StringTimestampLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@dataclass(frozen=True)
class YamlDocument:
    """Parsed data plus the node tree it came from."""

    data: Any
    root: yaml.Node | None

    def line_of(self, path: Sequence[PathItem], *, key: bool = False) -> int:
        """1-based line of the node at `path` (or of its key), else of the deepest ancestor found."""
        node = self.root
        if node is None:
            return 1
        line = node.start_mark.line + 1
        for item in path:
            found = _child(node, item)
            if found is None:
                return line
            key_node, value_node = found
            node = value_node
            line = (key_node if key and key_node is not None else value_node).start_mark.line + 1
        return line

    def key_line(self, mapping_path: Sequence[PathItem], name: str) -> int:
        """1-based line of key `name` inside the mapping at `mapping_path`."""
        return self.line_of([*mapping_path, name], key=True)


def _child(node: yaml.Node, item: PathItem) -> tuple[yaml.Node | None, yaml.Node] | None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in reversed(node.value):  # last duplicate wins, as in the data
            if isinstance(key_node, yaml.ScalarNode) and str(key_node.value) == str(item):
                return key_node, value_node
        return None
    if isinstance(node, yaml.SequenceNode) and isinstance(item, int) and 0 <= item < len(node.value):
        return None, node.value[item]
    return None


def _duplicate_keys(node: yaml.Node | None, problems: list[Problem]) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                name = str(key_node.value)
                line = key_node.start_mark.line + 1
                if name in seen:
                    problems.append(Problem(line, f"duplicate key {name!r} (first at line {seen[name]})"))
                else:
                    seen[name] = line
            _duplicate_keys(value_node, problems)
    elif isinstance(node, yaml.SequenceNode):
        for child in node.value:
            _duplicate_keys(child, problems)


def parse_yaml(text: str) -> tuple[YamlDocument | None, list[Problem]]:
    """Parse one YAML document; syntax errors and duplicate keys come back as problems with lines."""
    too_big = size_problem(len(text.encode("utf-8", "surrogatepass")))
    if too_big is not None:
        return None, [Problem(1, too_big)]
    loader = _StringTimestampLoader(text)
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except LimitExceeded as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark is not None else 1
        return None, [Problem(line, f"YAML refused: {exc.problem}")]
    except RecursionError:  # a limit above should stop first; never let a traceback out
        return None, [Problem(1, "YAML refused: the document nests too deeply")]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        what = exc.problem or exc.context or "invalid YAML"
        context = f" ({exc.context})" if exc.context and exc.problem else ""
        hint = " - check the indentation" if "block" in f"{what}{context}" else ""
        return None, [Problem(line, f"YAML syntax error: {what}{context}{hint}")]
    except yaml.YAMLError as exc:
        return None, [Problem(1, clip(f"YAML error: {exc}"))]
    finally:
        loader.dispose()
    problems: list[Problem] = []
    _duplicate_keys(root, problems)
    return YamlDocument(data, root), problems
