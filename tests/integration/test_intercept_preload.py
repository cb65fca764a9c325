"""The Python preload in a real interpreter: it chains to the function's own sitecustomize, sends a
gethostbyname + connect to the front (the sentinel path), and leaves non-AWS names alone."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.backends.s3 import MotoServer
from harness.clock import SystemClock
from harness.intercept.environment import AwsEndpoints
from harness.intercept.session import Interception, routes_from_env

PROBE = r"""
import socket, ssl, sys
print("own sitecustomize ran:", getattr(sys, "own_sitecustomize_ran", False))
ip = socket.gethostbyname("sts.amazonaws.com")
context = ssl.create_default_context()  # SSL_CERT_FILE: the system CAs + the harness CA
with socket.create_connection((ip, 443), timeout=5) as raw:
    with context.wrap_socket(raw, server_hostname="sts.amazonaws.com") as tls:
        print("tls to", tls.getpeercert()["subjectAltName"][0][1])
print("localhost:", socket.getaddrinfo("localhost", 443, type=socket.SOCK_STREAM)[0][4][0])
"""


@pytest.fixture
def interception() -> Iterator[Interception]:
    with (
        MotoServer() as moto,
        Interception(
            AwsEndpoints.INTERCEPT,
            routes_from_env(moto.env(), moto_url=moto.endpoint_url),
            rng=random.Random(2),
            now=SystemClock().now,
        ) as started,
    ):
        yield started


def test_preload_chains_and_routes_the_sentinel_address_to_the_front(
    interception: Interception, tmp_path: Path
) -> None:
    (tmp_path / "sitecustomize.py").write_text("import sys\nsys.own_sitecustomize_ran = True\n")
    extra = interception.function_env(
        runtime="python3.12", code_dir=tmp_path, stack_env={}, function_variables={}
    )
    # The runtime puts the task root after the preload (harness/runtime/env_vars.py).
    extra["PYTHONPATH"] = os.pathsep.join([extra["PYTHONPATH"], str(tmp_path)])
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PYTHON"))} | extra
    done = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "own sitecustomize ran: True",
        "tls to sts.amazonaws.com",
        "localhost: 127.0.0.1",
    ]
