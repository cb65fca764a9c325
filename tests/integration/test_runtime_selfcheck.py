"""`doctor` / `up --check` prove the Lambda runtime by starting a real no-op function through awslambdaric."""

from __future__ import annotations

from harness.doctor import check_lambda_runtime
from harness.runtime.selfcheck import check_python_runtime


def test_a_working_runtime_answers_the_probe() -> None:
    finding = check_lambda_runtime()
    assert finding.ok, finding.detail
    assert finding.required
    assert "no-op function answered" in finding.detail


def test_a_broken_runtime_interface_client_is_reported_in_its_own_words() -> None:
    # A code root that shadows awslambdaric with a module that fails on import: the runtime process exits,
    # and the finding carries its error instead of only a count of failed invocations.
    broken = {"awslambdaric/__init__.py": "raise ImportError('awslambdaric is broken for this test')\n"}
    ok, detail = check_python_runtime(timeout_seconds=5, code_files=broken)
    assert not ok
    assert "Runtime.ExitError" in detail or "Init" in detail, detail
    assert "awslambdaric is broken for this test" in detail, detail
