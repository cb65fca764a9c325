"""The delivery scheduler: one thread that pulls every stream's delivery once per tick of clock time.

Known deviations from AWS: none of its own (see delivery.py for the retry and interval timing).

Example::

    ticker = DeliveryTicker(clock, tick_seconds=1.0)
    ticker.register(delivery)
    ticker.start()
    ...
    ticker.stop()
"""

from __future__ import annotations

import logging
import threading
from typing import Protocol

from firehose_emulator.clock import Clock

logger = logging.getLogger("firehose_emulator.ticker")


class Tickable(Protocol):
    """What the ticker drives: a StreamDelivery."""

    def run_due(self, *, wait: bool = True) -> None:
        """Seal and deliver what is due; the ticker passes wait=False."""
        ...


class DeliveryTicker:
    """A thread that calls run_due() on every registered stream each flush_tick_seconds of clock time."""

    def __init__(self, clock: Clock, tick_seconds: float = 1.0) -> None:
        if tick_seconds <= 0:
            raise ValueError(f"tick_seconds must be > 0, got {tick_seconds}")
        self._clock = clock
        self._tick_seconds = tick_seconds
        self._lock = threading.Lock()
        self._deliveries: list[Tickable] = []
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def register(self, delivery: Tickable) -> None:
        """Tick `delivery` from now on."""
        with self._lock:
            if delivery not in self._deliveries:
                self._deliveries.append(delivery)

    def unregister(self, delivery: Tickable) -> None:
        """Stop ticking `delivery` (a no-op if it was not registered)."""
        with self._lock:
            if delivery in self._deliveries:
                self._deliveries.remove(delivery)

    def tick(self) -> None:
        """Run one tick now: run_due() on every registered stream without waiting for their workers."""
        with self._lock:
            deliveries = list(self._deliveries)
        for delivery in deliveries:
            try:
                delivery.run_due(wait=False)
            except Exception:  # one broken stream must not stop the others' deliveries
                logger.exception("delivery tick failed for a stream")

    def start(self) -> None:
        """Start the ticking thread."""
        if self._thread is not None:
            raise RuntimeError("DeliveryTicker already started")
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="firehose-delivery-ticker", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the ticking thread and wait for it."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _run(self) -> None:
        while not self._clock.wait(self._stopping, self._tick_seconds):
            self.tick()
