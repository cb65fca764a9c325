"""Dummy AWS credentials for tests whose boto3 clients talk to moto and the emulators."""

from __future__ import annotations

import pytest

TEST_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def set_test_credentials(mp: pytest.MonkeyPatch) -> None:
    """Put the dummy credentials and region in the environment (undone when `mp` is)."""
    for key, value in TEST_CREDENTIALS.items():
        mp.setenv(key, value)
