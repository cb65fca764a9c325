"""Python runtime bootstrap for msk-harness: set up the sandbox edges, then hand over to awslambdaric.

Runs on the runtime's own interpreter inside its cached environment and imports nothing from the harness.
Environment setup happens in `setup_environment()`; add further per-process setup there.
"""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Iterable, Sequence
from typing import Any

# Events whose first (and for renames/links, second) argument is a path the call creates or changes.
_MUTATING_EVENTS = frozenset(
    {
        "os.chmod",
        "os.chown",
        "os.link",
        "os.mkdir",
        "os.remove",
        "os.rename",
        "os.rmdir",
        "os.symlink",
        "os.truncate",
        "os.utime",
        "shutil.rmtree",
    }
)
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


def _refuse_writes_under(roots: Iterable[str]) -> None:
    """Make writes under `roots` fail with EROFS, as they do on Lambda's read-only /var/task and /opt."""
    prefixes = tuple(os.path.realpath(r) for r in roots if r)

    def inside(path: Any) -> bool:
        if isinstance(path, int):
            return False
        try:
            full = os.path.realpath(os.fsdecode(path))
        except (TypeError, ValueError):
            return False
        return any(full == p or full.startswith(p + os.sep) for p in prefixes)

    def hook(event: str, args: Sequence[Any]) -> None:
        if event == "open":
            targets: Sequence[Any] = (args[0],) if args[2] & _WRITE_FLAGS else ()
        elif event in _MUTATING_EVENTS:
            targets = args[:2] if event in ("os.rename", "os.link", "os.symlink") else args[:1]
        else:
            return
        for target in targets:
            if inside(target):
                raise OSError(errno.EROFS, os.strerror(errno.EROFS), os.fsdecode(target))

    sys.addaudithook(hook)


def setup_environment() -> None:
    """Per-process sandbox setup before any function code is imported."""
    read_only = os.environ.pop("_MSK_HARNESS_READ_ONLY", "")
    _refuse_writes_under(read_only.split(os.pathsep))


def main() -> None:
    """Start awslambdaric for the handler in argv[1]."""
    if sys.path and os.path.realpath(sys.path[0]) == os.path.dirname(os.path.realpath(__file__)):
        del sys.path[0]  # this bootstrap's directory is not on Lambda's import path
    setup_environment()
    # Imported only now: the audit hook must be in place before any function code loads.
    from awslambdaric.__main__ import main as ric_main  # noqa: PLC0415

    ric_main([sys.argv[0], *sys.argv[1:]])


if __name__ == "__main__":
    main()
