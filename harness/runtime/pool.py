"""The execution environments of one function: warm ones waiting, cold ones made up to a limit."""

from __future__ import annotations

import threading
from collections.abc import Callable

from harness.lifecycle import BackendError
from harness.runtime.environment import ExecutionEnvironment


class EnvironmentPool:
    """Hands out idle environments (warm) or creates new ones (cold) while under `max_environments`."""

    def __init__(
        self,
        *,
        max_environments: int,
        create: Callable[[], ExecutionEnvironment],
        discard: Callable[[ExecutionEnvironment], None],
        reuse: bool,
    ) -> None:
        self.max_environments = max_environments
        self._create = create
        self._discard = discard
        self._reuse = reuse
        self._lock = threading.Condition()
        self._idle: list[ExecutionEnvironment] = []
        self._all: set[ExecutionEnvironment] = set()
        self._reserved = 0  # environments being created
        self._open = False

    def open(self) -> None:
        """Start handing out environments."""
        with self._lock:
            self._open = True

    def count(self) -> int:
        """How many environments exist right now (idle or busy)."""
        with self._lock:
            return len(self._all)

    def acquire(self) -> tuple[ExecutionEnvironment, bool]:
        """A warm idle environment, or a freshly spawned one (cold) when under the limit."""
        with self._lock:
            while True:
                if not self._open:
                    raise BackendError("the function runtime is stopped")
                while self._idle:
                    env = self._idle.pop()
                    if env.alive:
                        return env, False
                    self._all.discard(env)
                    threading.Thread(target=self._discard, args=(env,), daemon=True).start()
                if len(self._all) + self._reserved < self.max_environments:
                    self._reserved += 1
                    break
                self._lock.wait()
        try:
            env = self._create()
        except BaseException:
            with self._lock:
                self._reserved -= 1
                self._lock.notify()
            raise
        with self._lock:
            self._reserved -= 1
            self._all.add(env)
        return env, True

    def release(self, env: ExecutionEnvironment, keep: bool) -> None:
        """Return `env` to the idle list if `keep` (and it can still serve), else discard it."""
        with self._lock:
            keep = keep and self._open and env.alive and env in self._all and self._reuse
            if keep:
                self._idle.append(env)
            else:
                self._all.discard(env)
            self._lock.notify()
        if not keep:
            self._discard(env)

    def close(self) -> None:
        """Stop handing out environments and discard every one (waiting callers get BackendError)."""
        with self._lock:
            self._open = False
            envs = list(self._all)
            self._all.clear()
            self._idle.clear()
            self._lock.notify_all()
        for env in envs:
            self._discard(env)
