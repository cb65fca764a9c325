"""Lambda execution environments: the Runtime API server, runtime processes, logs and fault hooks.

Entry point: `harness.runtime.function.FunctionRuntime` (with `FunctionConfig`); fault rules in
`harness.runtime.faults`.
"""
