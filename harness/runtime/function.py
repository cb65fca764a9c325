"""One Lambda function: its configuration, invocation results, and the runtime that runs its environments.

`FunctionRuntime` starts execution environments (real processes: ``awslambdaric`` on the runtime's own Python
environment, our Node.js bootstrap beside the runtime's AWS SDK, or the function's own ``bootstrap`` for
``provided.*``; see `harness.runtime.world`) behind a Runtime API server, reuses warm ones, creates new ones
up to ``max_environments``, enforces the timeout on the injected clock, and writes each environment's output
and START/END/REPORT lines to ``<log_dir>/<function>-<environment id>.log``. Failed invocations are
summarised by reason in `FunctionRuntime.errors` (`harness.runtime.failures`).

Known deviations from AWS:
- Runtimes compute remaining time from the real wall clock, so ``Lambda-Runtime-Deadline-Ms`` is real epoch ms
  when the injected clock's timeout fires: ``get_remaining_time_in_millis()`` reaches 0 exactly at the kill.
  Under a clock running `clock_speed` times fast its values are real ms (a 60 s timeout at 10x reads 6,000).
- Process start-up is real time; under a fast `ScaledClock` it counts as many clock seconds (init limit and
  timeout alike), so give functions proportionally longer timeouts there.
- An environment whose response was rejected as too large is discarded (AWS does not document what happens).

Example::

    code = Path("harness/reference_archiver")
    config = FunctionConfig("archiver", "python3.12", "handler.lambda_handler", code)
    with FunctionRuntime(config, clock=SystemClock(), rng=random.Random(7), log_dir=Path("logs")) as fn:
        result = fn.invoke(b'{"records": {}}')
"""

from __future__ import annotations

import itertools
import random
import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import MappingProxyType

from harness.clock import Clock, SystemClock, random_uuid
from harness.lifecycle import Backend, BackendError
from harness.runtime.api_server import Answer, EnvironmentChannel, Invocation, RuntimeApiServer
from harness.runtime.config import (
    MAX_PAYLOAD_BYTES,
    SUPPORTED_RUNTIMES,
    FunctionConfig,
    InvocationResult,
    RequestTooLargeError,
    RuntimeOptions,
)
from harness.runtime.env_vars import (
    InvalidParameterValueException,
    check_extra_variables,
    environment_for,
    log_stream_name,
    trace_id,
)
from harness.runtime.environment import ExecutionEnvironment
from harness.runtime.errors import exit_log_line, injected_error, timeout_error
from harness.runtime.failures import FunctionErrors
from harness.runtime.faults import FaultAction, FaultRule, InvocationFaults
from harness.runtime.log_sink import FunctionLog
from harness.runtime.logs import InvocationRecord, end_line, report_line, start_line
from harness.runtime.pool import EnvironmentPool
from harness.runtime.provision import ProvisionError
from harness.runtime.world import BOOTSTRAP_DIR, FunctionWorld, prepare_world

__all__ = [
    "MAX_PAYLOAD_BYTES",
    "SUPPORTED_RUNTIMES",
    "FunctionConfig",
    "FunctionRuntime",
    "InvalidParameterValueException",
    "InvocationResult",
    "RequestTooLargeError",
    "RuntimeOptions",
]

_OUTCOMES = {
    "response": "success",
    "error": "error",
    "too_large": "too_large",
    "timeout": "timeout",
    "exit": "crash",
    "init_error": "init_error",
}


class FunctionRuntime(Backend):
    """Runs one function's execution environments behind a Runtime API server (thread-safe invoke)."""

    name = "lambda-runtime"

    def __init__(
        self,
        config: FunctionConfig,
        *,
        clock: Clock,
        rng: random.Random,
        log_dir: Path,
        extra_env: Mapping[str, str] = MappingProxyType({}),
        max_environments: int = 10,
        options: RuntimeOptions | None = None,
    ) -> None:
        super().__init__()
        if max_environments < 1:
            raise ValueError(f"max_environments must be >= 1, got {max_environments}")
        check_extra_variables(extra_env)
        self.config = config
        self.options = options = options or RuntimeOptions()
        self._process_clock = SystemClock()  # runtimes compute remaining time from the real wall clock
        self.faults = InvocationFaults()
        self.errors = FunctionErrors()
        self._clock = clock
        self._rng = rng
        self._rng_lock = threading.Lock()
        self._log_dir = Path(log_dir)
        self._extra_env = dict(extra_env)
        self._server = RuntimeApiServer(
            statuses=options.statuses, max_response_bytes=options.max_response_bytes
        )
        self._pool = EnvironmentPool(
            max_environments=max_environments,
            create=self._create_environment,
            discard=self._discard,
            reuse=options.reuse_environments,
        )
        self._env_ids = itertools.count(1)
        self._invoke_index = itertools.count()
        self._spawner: ThreadPoolExecutor | None = None
        self._log: FunctionLog | None = None
        self._world: FunctionWorld | None = None

    # -- lifecycle -------------------------------------------------------------------------------------------
    @property
    def log_dir(self) -> Path:
        """Where the environments' log files go."""
        return self._log_dir

    def log_text(self) -> str:
        """Every environment's log so far, one file after another (for tests and small runs)."""
        return "".join(path.read_text(encoding="utf-8", errors="replace") for path in self.log_files())

    @property
    def sandbox_dir(self) -> Path | None:
        """Where the code copy, layers and /tmp dirs live while the function runs (None when stopped)."""
        return self._world.files.root if self._world is not None else None

    def log_files(self) -> list[Path]:
        """Every environment's log file so far, in environment order."""
        return self._log.files() if self._log is not None else []

    def invocations(self) -> list[InvocationRecord]:
        """The invocation log so far (completion order)."""
        return self._log.records() if self._log is not None else []

    @property
    def max_environments(self) -> int:
        """The most execution environments this function runs at once."""
        return self._pool.max_environments

    @property
    def runs_on(self) -> str | None:
        """Which interpreter really runs the function (the harness's own when the runtime's is missing)."""
        return self._world.runs_on if self._world is not None else None

    def environment_count(self) -> int:
        """How many environments exist right now (idle or busy)."""
        return self._pool.count()

    def _start(self) -> None:
        cfg = self.config
        if not cfg.code_dir.is_dir():
            raise BackendError(f"code_dir {cfg.code_dir} is not a directory")
        try:
            self._world = prepare_world(
                cfg.name,
                cfg.runtime,
                cfg.handler,
                cfg.code_dir,
                layers=cfg.layers,
                function_variables=cfg.environment,
            )
        except ProvisionError as exc:
            raise BackendError(f"cannot provide runtime {cfg.runtime}: {exc}") from exc
        self._log = FunctionLog(self._log_dir, cfg.name)
        # One long-lived thread forks every runtime process, so PR_SET_PDEATHSIG stays armed.
        self._spawner = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"lambda-{cfg.name}-spawner")
        self._pool.open()

    def _stop(self) -> None:
        self._pool.close()
        self._server.close_all()
        if self._spawner is not None:
            self._spawner.shutdown(wait=True)
            self._spawner = None
        if self._log is not None:
            self._log.close()
        if self._world is not None:
            self._world.close()
            self._world = None

    # -- environments ----------------------------------------------------------------------------------------
    def _create_environment(self) -> ExecutionEnvironment:
        cfg = self.config
        assert self._spawner is not None
        assert self._log is not None
        assert self._world is not None
        world = self._world
        env_id = next(self._env_ids)
        channel = EnvironmentChannel(env_id)
        api = self._server.open(channel)
        with self._rng_lock:
            stream = log_stream_name(self._clock.now(), self._rng)
        variables = environment_for(
            function_name=cfg.name,
            runtime=cfg.runtime,
            handler=cfg.handler,
            memory_mb=cfg.memory_mb,
            region=cfg.region,
            task_root=str(world.files.task_root),
            runtime_dir=str(BOOTSTRAP_DIR),
            runtime_api=api,
            log_stream=stream,
            paths=world.paths,
            tmp_dir=str(world.files.tmp_dir(env_id)),
            function_variables=cfg.environment,
            extra_env=self._extra_env,
        )
        log = self._log.open_environment(env_id, stream)
        try:
            return ExecutionEnvironment(
                env_id=env_id,
                channel=channel,
                argv=world.argv,
                env=variables,
                cwd=world.files.task_root,
                spawner=self._spawner,
                write_log=log.write,
                log_lock=log.lock,
                memory_limit_mb=cfg.memory_mb,
                file_size_limit_bytes=cfg.ephemeral_storage_mb * 1024 * 1024,
            )
        except BaseException:
            self._server.close(channel)
            raise

    def _discard(self, env: ExecutionEnvironment) -> None:
        env.stop(grace_seconds=0.0 if not env.alive else self.options.stop_grace_seconds)
        self._server.close(env.channel)
        if self._world is not None:
            self._world.files.drop_tmp(env.env_id)

    def _wait_settled(self, env: ExecutionEnvironment, seconds: float) -> bool:
        """Wait up to `seconds` of clock time for init to finish or fail; True if it settled."""
        return self._clock.wait(env.channel.settled, max(0.0, seconds))

    # -- invoke ----------------------------------------------------------------------------------------------
    def invoke(self, event: bytes) -> InvocationResult:
        """Invoke synchronously; blocks until the handler answers, fails, times out or crashes."""
        if len(event) > self.options.max_request_bytes:
            raise RequestTooLargeError(
                f"Request must be smaller than {self.options.max_request_bytes} bytes for the InvokeFunction "
                "operation"
            )
        if not self.running:
            raise BackendError("the function runtime is not started")
        index = next(self._invoke_index)
        rule = self.faults.decide(index, event)
        with self._rng_lock:
            request_id = random_uuid(self._rng)
        env, cold = self._pool.acquire()
        try:
            return self._run(index=index, request_id=request_id, event=event, env=env, cold=cold, rule=rule)
        except BaseException:
            self._pool.release(env, keep=False)
            raise

    def _process_epoch_ms(self, clock_seconds_left: float) -> int:
        """Real epoch ms (what runtimes read) once `clock_seconds_left` seconds of injected time have run."""
        real_left = max(0.0, clock_seconds_left) / self.options.clock_speed
        return int((self._process_clock.now().timestamp() + real_left) * 1000)

    def _run(
        self,
        *,
        index: int,
        request_id: str,
        event: bytes,
        env: ExecutionEnvironment,
        cold: bool,
        rule: FaultRule | None,
    ) -> InvocationResult:
        clock = self._clock
        init_ms: float | None = None
        deadline: float | None = None
        if cold:
            env, init_ms, deadline = self._settle_init(env)
            if not env.channel.ready.is_set():
                return self._init_failed(index=index, request_id=request_id, env=env, init_ms=init_ms)
        start = clock.monotonic()
        if deadline is None:
            deadline = start + float(self.config.timeout_seconds)
        with self._rng_lock:
            trace = trace_id(int(clock.now().timestamp()), self._rng)
        now_ms = int(clock.now().timestamp() * 1000)
        inv = Invocation(
            request_id=request_id,
            event=event,
            deadline_ms=now_ms + int((deadline - start) * 1000),
            function_arn=self.config.function_arn,
            trace_id=trace,
            doomed=rule is not None and rule.action is FaultAction.CRASH,
            runtime_deadline_ms=lambda: self._process_epoch_ms(deadline - clock.monotonic()),
        )
        env.mark(start_line(request_id))
        memory = self._dispatch(inv, env, rule, deadline)
        duration_ms = (clock.monotonic() - start) * 1000.0
        answer = inv.result
        assert answer is not None
        outcome = _OUTCOMES[answer.kind]
        status = {"timeout": "timeout", "crash": "error", "too_large": "error"}.get(outcome)
        died = exit_log_line(answer)
        if died is not None:
            env.mark(died)
        env.mark(end_line(request_id))
        env.mark(
            report_line(
                request_id,
                duration_ms=duration_ms,
                memory_mb=self.config.memory_mb,
                max_memory_used_mb=memory,
                init_duration_ms=init_ms,
                status=status,
                error_type=answer.error_type if status else None,
            )
        )
        keep = outcome == "success" or (outcome == "error" and not self.options.reset_on_handler_error)
        self._pool.release(env, keep=keep)
        return self._finish(
            index=index,
            request_id=request_id,
            env=env,
            answer=answer,
            outcome=outcome,
            duration_ms=duration_ms,
            init_ms=init_ms,
            cold=cold,
            memory=memory,
            rule=rule,
        )

    def _settle_init(self, env: ExecutionEnvironment) -> tuple[ExecutionEnvironment, float, float | None]:
        """Wait for a cold init: ``(environment, init ms, deadline if a retried init used the timeout)``."""
        clock, timeout = self._clock, float(self.config.timeout_seconds)
        deadline: float | None = None
        init_start = clock.monotonic()
        if not self._wait_settled(env, self.options.init_timeout_seconds) and env.alive:
            # Init overran its limit: AWS retries it inside the first invoke, under the function timeout.
            self._pool.release(env, keep=False)
            env, _ = self._pool.acquire()
            init_start = clock.monotonic()
            deadline = init_start + timeout
            self._wait_settled(env, timeout)
        return env, (clock.monotonic() - init_start) * 1000.0, deadline

    def _dispatch(
        self, inv: Invocation, env: ExecutionEnvironment, rule: FaultRule | None, deadline: float
    ) -> int | None:
        """Deliver (or fault) the invocation, wait for its answer or its timeout; returns peak memory."""
        clock, timeout = self._clock, float(self.config.timeout_seconds)
        action = rule.action if rule is not None else None
        if rule is not None and action is FaultAction.RAISE:
            env.mark(f"[ERROR] {rule.error_type}: {rule.message}")
            inv.answer(injected_error(inv.request_id, rule.error_type, rule.message))
        elif action is not FaultAction.TIMEOUT:
            env.assign(inv)
            code = env.proc.poll()
            if code is not None:  # died while idle, before its exit watcher could see this invocation
                inv.answer(env.exit_answer(inv.request_id, code))
            if action is FaultAction.CRASH and clock.wait(inv.delivered, deadline - clock.monotonic()):
                env.kill()
        clock.wait(inv.done, deadline - clock.monotonic())
        memory = env.max_memory_mb()
        if not inv.done.is_set() and inv.answer(timeout_error(inv.request_id, timeout)):
            env.kill()
            stamp = f"{clock.now():%Y-%m-%dT%H:%M:%S.%f}"[:-3] + "Z"
            env.mark(f"{stamp} {inv.request_id} Task timed out after {timeout:.2f} seconds")
        return memory

    def _init_failed(
        self,
        *,
        index: int,
        request_id: str,
        env: ExecutionEnvironment,
        init_ms: float,
    ) -> InvocationResult:
        """The environment failed (or, retried under the timeout, overran) init: the attempt fails."""
        answer = env.channel.init_error
        if answer is None and env.alive:
            env.kill()  # still initialising when its time ran out
            answer = timeout_error(request_id, float(self.config.timeout_seconds))
        elif answer is None:
            answer = env.exit_answer(request_id, env.proc.wait())
        outcome = _OUTCOMES[answer.kind]
        env.mark(start_line(request_id))
        env.mark(end_line(request_id))
        env.mark(
            report_line(
                request_id,
                duration_ms=0.0,
                memory_mb=self.config.memory_mb,
                max_memory_used_mb=env.max_memory_mb(),
                init_duration_ms=init_ms,
                status="error" if outcome != "timeout" else "timeout",
                error_type=answer.error_type,
            )
        )
        self._pool.release(env, keep=False)
        return self._finish(
            index=index,
            request_id=request_id,
            env=env,
            answer=answer,
            outcome=outcome,
            duration_ms=0.0,
            init_ms=init_ms,
            cold=True,
            memory=None,
            rule=None,
        )

    def _finish(
        self,
        *,
        index: int,
        request_id: str,
        env: ExecutionEnvironment,
        answer: Answer,
        outcome: str,
        duration_ms: float,
        init_ms: float | None,
        cold: bool,
        memory: int | None,
        rule: FaultRule | None,
    ) -> InvocationResult:
        assert self._log is not None
        ok = outcome == "success"
        self._log.record(
            InvocationRecord(
                index=index,
                request_id=request_id,
                environment_id=env.env_id,
                outcome=outcome,
                error_type=None if ok else answer.error_type,
                duration_ms=duration_ms,
                init_duration_ms=init_ms,
                cold_start=cold,
                max_memory_used_mb=memory,
                fault=rule.action.value if rule is not None else None,
            )
        )
        self._count_outcome(ok, answer, outcome, request_id, env.env_id, injected=rule is not None)
        return InvocationResult(
            request_id=request_id,
            ok=ok,
            payload=answer.body,
            error_type=None if ok else answer.error_type,
            duration_ms=duration_ms,
            init_duration_ms=init_ms,
            cold_start=cold,
        )

    def _count_outcome(
        self, ok: bool, answer: Answer, outcome: str, request_id: str, env_id: int, *, injected: bool
    ) -> None:
        """Feed `errors` (a failure with the environment's last log lines)."""
        if ok:
            self.errors.succeeded()
            return
        assert self._log is not None
        log = self._log.environment(env_id)
        self.errors.failed(
            outcome=outcome,
            payload=answer.body,
            lambda_error_type=answer.error_type,
            request_id=request_id,
            environment_id=env_id,
            log_file=str(log.path) if log is not None else "",
            log_tail=log.tail() if log is not None else (),
            injected=injected,
            at=self._clock.monotonic(),
        )
