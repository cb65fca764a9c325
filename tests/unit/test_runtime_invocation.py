"""A crash-doomed invocation ignores what the runtime posts: only the exit (or timeout) can answer it."""

from __future__ import annotations

from harness.runtime.api_server import Answer, Invocation


def make(doomed: bool) -> Invocation:
    return Invocation(
        "req-1", b"{}", 0, "arn:aws:lambda:us-east-1:123456789012:function:f", "Root=1", doomed=doomed
    )


def test_a_doomed_invocation_drops_the_runtime_answer_and_takes_the_exit() -> None:
    inv = make(doomed=True)
    assert not inv.answer(Answer("response", b"null"))
    assert not inv.answer(Answer("error", b"{}", "Unhandled"))
    assert not inv.done.is_set()
    assert inv.answer(Answer("exit", b"{}", "Runtime.ExitError"))
    assert inv.result is not None
    assert inv.result.kind == "exit"


def test_a_normal_invocation_takes_the_first_answer() -> None:
    inv = make(doomed=False)
    assert inv.answer(Answer("response", b"null"))
    assert not inv.answer(Answer("exit", b"{}", "Runtime.ExitError"))
    assert inv.result is not None
    assert inv.result.kind == "response"
