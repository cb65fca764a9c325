"""How a command ends: one `ExitCode` enum, and SIGINT/SIGTERM turned into one KeyboardInterrupt.

Every command (`up`, `validate`, `run`, `replay`, `sweep`, `doctor`) returns an `ExitCode`; its value is the
process exit status (130 = interrupted, as shells report SIGINT).

Example::

    with interrupts_as_keyboard_interrupt():
        try:
            work()
        except KeyboardInterrupt:
            return ExitCode.INTERRUPTED
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import IntEnum
from types import FrameType
from typing import Any


class ExitCode(IntEnum):
    """Process exit statuses of every `msk-harness` command."""

    OK = 0  # passed / done
    FAILED = 1  # an expectation failed, a part did not start, or the run broke
    BAD_INPUT = 2  # the scenario, arguments or input data are wrong (argparse also exits 2)
    INTERRUPTED = 130  # Ctrl-C or SIGTERM; everything was stopped


_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def interrupts_as_keyboard_interrupt() -> Iterator[None]:
    """SIGINT and SIGTERM raise KeyboardInterrupt once; further signals are ignored while everything stops.

    Outside the main thread (a command called from a test's worker thread) signals cannot be handled there,
    so nothing is installed and Python's default SIGINT behaviour stays.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        for sig in _SIGNALS:
            signal.signal(sig, signal.SIG_IGN)  # a second Ctrl-C must not cut the cleanup short
        raise KeyboardInterrupt(signal.Signals(signum).name)

    previous: dict[int, Callable[[int, FrameType | None], Any] | int | None] = {
        sig: signal.signal(sig, handler) for sig in _SIGNALS
    }
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
