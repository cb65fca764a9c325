"""`Closing`: the context-manager pair for objects whose exit is their `close()`.

Example::

    class TopicAdmin(Closing):
        def close(self) -> None:
            self._client.close()

    with TopicAdmin(servers) as admin: ...
"""

from __future__ import annotations

from types import TracebackType
from typing import Self


class Closing:
    """A context manager that returns itself on entry and calls `close()` on exit (never swallows errors)."""

    def close(self) -> None:
        """Release what this object holds (nothing by default)."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
