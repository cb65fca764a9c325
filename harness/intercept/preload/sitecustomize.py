"""msk-harness: inside a function environment, AWS host names resolve to the harness's HTTPS front.

Loaded by Python at start-up (this directory leads PYTHONPATH) before the runtime and the handler. It only
acts when MSK_HARNESS_AWS_FRONT ("127.0.0.1:PORT") is set, patches name resolution for hosts ending in one of
MSK_HARNESS_AWS_SUFFIXES, and then runs the next ``sitecustomize`` on the path (the function's own, if any).
Standard library only: it runs with the function's import path, not the harness's.
"""

from __future__ import annotations

import importlib
import os
import socket
import sys
from collections.abc import Callable
from typing import Any

_FRONT = os.environ.get("MSK_HARNESS_AWS_FRONT", "")
_FRONT_HTTP = os.environ.get("MSK_HARNESS_AWS_FRONT_HTTP", "")
_SUFFIXES = tuple(s for s in os.environ.get("MSK_HARNESS_AWS_SUFFIXES", "").split(",") if s)
# What gethostbyname answers for AWS hosts; a connect to it on port 443 goes to the front instead.
_SENTINEL = "127.0.0.253"


def _intercepted(host: object) -> bool:
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    return isinstance(host, str) and host.rstrip(".").lower().endswith(_SUFFIXES)


def _is_https(port: object) -> bool:
    return port in (443, "443", "https")


def _is_http(port: object) -> bool:
    return port in (80, "80", "http")


def _install(front_host: str, front_port: int, http_port: int | None) -> None:
    target = _router(front_host, front_port, http_port)
    _patch_name_resolution(target)
    _patch_connect(target)


def _router(front_host: str, front_port: int, http_port: int | None) -> Callable[[Any], tuple[str, int]]:
    """Where a connection to an AWS host on `port` goes instead."""

    def target(port: Any) -> tuple[str, int]:
        # 443 -> the HTTPS front, 80 -> its plain listener, anything else -> that port on loopback (closed),
        # so nothing reaches AWS.
        if _is_https(port):
            return (front_host, front_port)
        if _is_http(port) and http_port is not None:
            return (front_host, http_port)
        return (front_host, int(port or 0))

    return target


def _patch_name_resolution(target: Callable[[Any], tuple[str, int]]) -> None:
    real_getaddrinfo = socket.getaddrinfo
    real_gethostbyname = socket.gethostbyname
    real_gethostbyname_ex = socket.gethostbyname_ex

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if not _intercepted(host):
            return real_getaddrinfo(host, port, *args, **kwargs)
        socktype = kwargs.get("type", args[1] if len(args) > 1 else 0) or socket.SOCK_STREAM
        proto = kwargs.get("proto", args[2] if len(args) > 2 else 0) or socket.IPPROTO_TCP
        return [(socket.AF_INET, socktype, proto, "", target(port))]

    def gethostbyname(host: str) -> str:
        return _SENTINEL if _intercepted(host) else real_gethostbyname(host)

    def gethostbyname_ex(host: str) -> tuple[str, list[str], list[str]]:
        return (host, [], [_SENTINEL]) if _intercepted(host) else real_gethostbyname_ex(host)

    socket.getaddrinfo = getaddrinfo
    socket.gethostbyname = gethostbyname
    socket.gethostbyname_ex = gethostbyname_ex


def _patch_connect(target: Callable[[Any], tuple[str, int]]) -> None:
    # Code that resolved with gethostbyname holds the sentinel address: send it where getaddrinfo would.
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def redirect(address: Any) -> Any:
        if isinstance(address, tuple) and len(address) >= 2 and address[0] == _SENTINEL:
            return target(address[1])
        return address

    def connect(self: Any, address: Any) -> None:
        real_connect(self, redirect(address))

    def connect_ex(self: Any, address: Any) -> int:
        return real_connect_ex(self, redirect(address))

    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]


def _chain_next_sitecustomize() -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    saved = list(sys.path)
    me = sys.modules.pop("sitecustomize", None)
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]
    try:
        importlib.import_module("sitecustomize")  # the function's or the interpreter's own
    except ImportError as exc:
        if exc.name != "sitecustomize":
            raise
    finally:
        sys.path[:] = saved
        if me is not None and "sitecustomize" not in sys.modules:
            sys.modules["sitecustomize"] = me


if _FRONT and _SUFFIXES:
    _host, _, _port = _FRONT.rpartition(":")
    _install(_host, int(_port), int(_FRONT_HTTP.rpartition(":")[2]) if _FRONT_HTTP else None)
_chain_next_sitecustomize()
