"""msk-harness: inside a function environment, AWS host names resolve to the harness's HTTPS front.

Loaded by Python at start-up (this directory leads PYTHONPATH) before the runtime and the handler. It only
acts when MSK_HARNESS_AWS_FRONT ("127.0.0.1:PORT") is set, patches name resolution for hosts ending in one of
MSK_HARNESS_AWS_SUFFIXES, and then runs the next ``sitecustomize`` on the path (the function's own, if any).
Standard library only: it runs with the function's import path, not the harness's.
"""

import os
import socket
import sys

_FRONT = os.environ.get("MSK_HARNESS_AWS_FRONT", "")
_SUFFIXES = tuple(s for s in os.environ.get("MSK_HARNESS_AWS_SUFFIXES", "").split(",") if s)
# What gethostbyname answers for AWS hosts; a connect to it on port 443 goes to the front instead.
_SENTINEL = "127.0.0.253"


def _install(front_host, front_port):
    real_getaddrinfo = socket.getaddrinfo
    real_gethostbyname = socket.gethostbyname
    real_gethostbyname_ex = socket.gethostbyname_ex
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def intercepted(host):
        if isinstance(host, bytes):
            host = host.decode("ascii", "replace")
        if not isinstance(host, str):
            return False
        name = host.rstrip(".").lower()
        return name.endswith(_SUFFIXES)

    def https_port(port):
        return port in (443, "443", "https")

    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
        if not intercepted(host):
            return real_getaddrinfo(host, port, family, type, proto, flags)
        # Port 443 goes to the front; any other port to a closed local one, so nothing reaches AWS.
        target = (front_host, front_port) if https_port(port) else (front_host, int(port or 0))
        return [(socket.AF_INET, type or socket.SOCK_STREAM, proto or socket.IPPROTO_TCP, "", target)]

    def gethostbyname(host):
        return _SENTINEL if intercepted(host) else real_gethostbyname(host)

    def gethostbyname_ex(host):
        if intercepted(host):
            return (host, [], [_SENTINEL])
        return real_gethostbyname_ex(host)

    def redirect(address):
        if isinstance(address, tuple) and len(address) >= 2 and address[0] == _SENTINEL:
            return (front_host, front_port) if https_port(address[1]) else (front_host, address[1])
        return address

    def connect(self, address):
        return real_connect(self, redirect(address))

    def connect_ex(self, address):
        return real_connect_ex(self, redirect(address))

    socket.getaddrinfo = getaddrinfo
    socket.gethostbyname = gethostbyname
    socket.gethostbyname_ex = gethostbyname_ex
    socket.socket.connect = connect
    socket.socket.connect_ex = connect_ex


def _chain_next_sitecustomize():
    here = os.path.dirname(os.path.abspath(__file__))
    saved = list(sys.path)
    me = sys.modules.pop("sitecustomize", None)
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]
    try:
        import sitecustomize  # noqa: F401 - the function's or the interpreter's own
    except ImportError as exc:
        if exc.name != "sitecustomize":
            raise
    finally:
        sys.path[:] = saved
        if me is not None and "sitecustomize" not in sys.modules:
            sys.modules["sitecustomize"] = me


if _FRONT and _SUFFIXES:
    _host, _, _port = _FRONT.rpartition(":")
    _install(_host, int(_port))
_chain_next_sitecustomize()
