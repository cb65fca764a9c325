"""moto's state is process-wide: the last MotoServer to stop clears it, so runs never see each other's data.

Its own module, so that no module-scoped MotoServer of another test is running alongside.
"""

from __future__ import annotations

from harness.backends.s3 import MotoServer


def test_state_does_not_leak_into_the_next_server() -> None:
    with MotoServer() as first:
        first.create_bucket("leftover")
        first.sqs_client().create_queue(QueueName="leftover-queue")
    with MotoServer() as second:
        assert second.s3_client().list_buckets()["Buckets"] == []
        assert "QueueUrls" not in second.sqs_client().list_queues()


def test_a_running_server_keeps_its_state_while_another_stops() -> None:
    with MotoServer() as long_lived:
        long_lived.create_bucket("kept")
        with MotoServer():
            pass
        assert [b["Name"] for b in long_lived.s3_client().list_buckets()["Buckets"]] == ["kept"]
