"""Loopback ports for local servers: a free one, or whether a given one is free."""

from __future__ import annotations

import socket

# Ports handed out by this process; the kernel may offer a just-closed port again, and two servers
# started from one test session must not be given the same one.
_handed_out: set[tuple[str, int]] = set()


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on `host` that nothing listens on now and that this process has not handed out before.

    Another process may still take it before our server binds it; the window is short and the servers
    fail loudly (`PortInUse`, or a log that says so) when it happens.
    """
    for _ in range(50):
        with socket.socket(_family(host), socket.SOCK_STREAM) as sock:
            sock.bind((host, 0))
            port: int = sock.getsockname()[1]
        if (host, port) not in _handed_out:
            _handed_out.add((host, port))
            return port
    raise RuntimeError(f"no free port found on {host}")  # pragma: no cover - the kernel has thousands


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """Whether a server could listen on `host:port` now (binding the way servers do, with SO_REUSEADDR)."""
    with socket.socket(_family(host), socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET
