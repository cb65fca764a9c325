"""Bounds on what a scenario file may make the YAML loader do: size, nesting depth, alias expansion.

A ~2 KB file of nested aliases ("billion laughs") expands to gigabytes once anything walks the data (schema
validation, duplicate-key checks, error messages), and a 50,000-deep `[[...]]` overflows PyYAML's recursive
composer. `BoundedLoader` counts while it composes the node tree, before any data exists, and stops with a
`LimitExceeded` that carries the line where the limit was crossed. `clip` keeps any one error message short.

Example::

    loader = BoundedLoader(text)
    root = loader.get_single_node()   # raises LimitExceeded (a yaml.MarkedYAMLError) past a limit
"""

from __future__ import annotations

from typing import Any

import yaml

MAX_FILE_BYTES = 1024 * 1024
"""Largest scenario file accepted (shipped scenarios are under 5 KB)."""
MAX_DEPTH = 64
"""Deepest nesting of mappings and sequences."""
MAX_ALIASES = 1000
"""Most `*alias` references in one file."""
MAX_EXPANDED_NODES = 100_000
"""Most nodes the document may hold once every alias is expanded in place."""
MAX_MESSAGE_CHARS = 300
"""Longest single error message printed (values inside messages are cut, never printed whole)."""


class LimitExceeded(yaml.MarkedYAMLError):
    """The document crossed one of the limits above; `problem_mark` is where."""


def clip(message: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """`message` cut to `limit` characters, saying how much was left out."""
    if len(message) <= limit:
        return message
    return f"{message[:limit]}... ({len(message) - limit} more characters)"


def size_problem(size: int) -> str | None:
    """Why a file of `size` bytes is refused, or None when it is small enough."""
    if size > MAX_FILE_BYTES:
        return f"the file is {size} bytes; scenario files are limited to {MAX_FILE_BYTES} bytes"
    return None


class BoundedComposerMixin:
    """Composer hooks that track depth, alias uses and the expanded node count of every node."""

    _depth: int
    _aliases: int
    _expanded: dict[int, int]

    def __init__(self, stream: str) -> None:
        super().__init__(stream)  # type: ignore[call-arg]
        self._depth, self._aliases, self._expanded = 0, 0, {}

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        """PyYAML's compose_node with the limits checked on the way down and sizes summed on the way up."""
        event = self.peek_event()  # type: ignore[attr-defined]
        if isinstance(event, yaml.AliasEvent):
            return self._alias(event, parent, index)
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise LimitExceeded(
                None, None, f"nesting deeper than {MAX_DEPTH} levels is not allowed", event.start_mark
            )
        try:
            node: yaml.Node = super().compose_node(parent, index)  # type: ignore[misc]
        finally:
            self._depth -= 1
        self._count(node, event.start_mark)
        return node

    def _alias(self, event: Any, parent: yaml.Node | None, index: Any) -> yaml.Node:
        self._aliases += 1
        if self._aliases > MAX_ALIASES:
            raise LimitExceeded(None, None, f"more than {MAX_ALIASES} aliases in one file", event.start_mark)
        node: yaml.Node = super().compose_node(parent, index)  # type: ignore[misc]
        if id(node) not in self._expanded:  # sizes are recorded when a node is complete; this one is not
            raise LimitExceeded(
                None, None, f"alias *{event.anchor} refers to a node that contains it", event.start_mark
            )
        return node

    def _count(self, node: yaml.Node, mark: Any) -> None:
        size = 1
        if isinstance(node, yaml.SequenceNode):
            size += sum(self._expanded.get(id(child), 1) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            size += sum(self._expanded.get(id(k), 1) + self._expanded.get(id(v), 1) for k, v in node.value)
        if size > MAX_EXPANDED_NODES:
            raise LimitExceeded(
                None,
                None,
                f"aliases expand this value to more than {MAX_EXPANDED_NODES} nodes (an alias bomb?)",
                mark,
            )
        self._expanded[id(node)] = size
